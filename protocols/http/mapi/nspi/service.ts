/**
 * The NSPI service behind /mapi/nspi/ (MS-OXCMAPIHTTP §2.2.5, semantics of
 * MS-OXNSPI §3.1.4.1): Bind makes the session state, every other request
 * type goes to its call. A body that cannot be parsed at all is the
 * transport's X-ResponseCode 12 (Invalid Request Body), never a crash;
 * everything the protocol can say in the body (a MId not found, a
 * restriction too complex, a write refused) is an NSPI ErrorCode.
 */
import { createHash } from "node:crypto";
import { MapiHttpError, type MapiContext, type NspiRequestType, type NspiService, ResponseCode } from "../types.ts";
import { WireError } from "../wire/errors.ts";
import { parseBind, parseUnbind } from "../wire/nspi-requests.ts";
import { writeBareResponse, writeBindResponse } from "../wire/nspi-responses.ts";
import { Ec } from "./constants.ts";
import { type NspiSessionState, newSessionState } from "./gal.ts";
import { compareMIds, getMatches, queryRows, resortRestriction, seekEntries, updateStat } from "./calls-table.ts";
import {
  dnToMId,
  getAddressBookUrl,
  getMailboxUrl,
  getPropList,
  getProps,
  getSpecialTable,
  getTemplateInfo,
  modLinkAtt,
  modProps,
  queryColumns,
  resolveNames,
} from "./calls-objects.ts";

type Call = (c: MapiContext, st: NspiSessionState, body: Uint8Array) => Promise<Uint8Array>;

const CALLS: Record<NspiRequestType, Call> = {
  CompareMIds: compareMIds,
  DNToMId: dnToMId,
  GetMatches: getMatches,
  GetPropList: getPropList,
  GetProps: getProps,
  GetSpecialTable: getSpecialTable,
  GetTemplateInfo: getTemplateInfo,
  ModLinkAtt: modLinkAtt,
  ModProps: modProps,
  QueryColumns: queryColumns,
  QueryRows: queryRows,
  ResolveNames: resolveNames,
  ResortRestriction: resortRestriction,
  SeekEntries: seekEntries,
  UpdateStat: updateStat,
  GetMailboxUrl: getMailboxUrl,
  GetAddressBookUrl: getAddressBookUrl,
};

/** This server's NSPI GUID (Bind's ServerGuid, the ProviderUID of its ephemeral entry ids): stable per host name. */
export function serverGuid(hostname: string): Uint8Array {
  return new Uint8Array(createHash("sha1").update(`pillarbox-nspi-server:${hostname.toLowerCase()}`).digest().subarray(0, 16));
}

/** Runs one parse-and-answer step, turning a malformed body into the transport's Invalid Request Body. */
async function guarded<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof WireError) throw new MapiHttpError(ResponseCode.InvalidRequestBody, `NSPI ${what}: ${e.message}`);
    throw e;
  }
}

export const nspi: NspiService<NspiSessionState> = {
  /** Bind (MS-OXNSPI §3.1.4.1.1): a session over the caller's directory, answered with the server GUID. */
  async bind(c, body) {
    return guarded("Bind", async () => {
      parseBind(body);
      const guid = serverGuid(c.server.tls.hostname);
      return { body: writeBindResponse(Ec.Success, guid), state: newSessionState(c.account, guid) };
    });
  },

  async call(c, state, requestType, body) {
    const run = CALLS[requestType];
    if (!run) throw new MapiHttpError(ResponseCode.InvalidRequestType, `NSPI request type ${String(requestType)}`);
    if (state.accountId !== c.account.id) throw new MapiHttpError(ResponseCode.InvalidContextCookie, "NSPI session of another account");
    return guarded(requestType, () => run(c, state, body));
  },

  /** Unbind (MS-OXNSPI §3.1.4.1.2): nothing to free beyond the state the transport drops. */
  async unbind(_c, _state, body) {
    return guarded("Unbind", async () => {
      parseUnbind(body);
      return writeBareResponse(Ec.Success);
    });
  },
};
