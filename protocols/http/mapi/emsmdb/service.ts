/**
 * The EMSMDB service (MS-OXCMAPIHTTP §2.2.4) the transport calls: Connect
 * checks the UserDn names the authenticated account and opens a session
 * state; Execute unpacks the ROP buffer (MS-OXCRPC §2.2.2.1), runs its ROPs
 * (engine.ts) within MaxRopOut and packs the answer; Disconnect drops the
 * state; NotificationWait waits (no notifications are raised yet) and
 * answers "no event".
 */
import { MapiHttpError, ResponseCode, type EmsmdbService, type MapiContext } from "../types.ts";
import { ORG_DN, accountIdFromLegacyDn, legacyDn } from "../identity.ts";
import { WireError } from "../wire/errors.ts";
import {
  parseConnectRequest,
  parseDisconnectRequest,
  parseExecuteRequest,
  parseNotificationWaitRequest,
  writeConnectResponse,
  writeDisconnectResponse,
  writeExecuteResponse,
  writeNotificationWaitResponse,
} from "../wire/emsmdb-bodies.ts";
import { MAX_ROPS_LIST, parseRopBuffer, writeRopBuffer } from "../wire/rop-buffer.ts";
import { ec } from "./errors.ts";
import { runRops } from "./engine.ts";
import { newState, type EmsmdbState } from "./objects.ts";
import "./rops-logon.ts";
import "./rops-folder.ts";
import "./rops-table.ts";
import "./rops-props.ts";
import "./rops-message.ts";
import "./rops-stream.ts";
import "./rops-rules.ts";

/** MS-OXCRPC §3.1.4.1: ecRpcFormat, a request buffer that cannot be read. */
const EC_RPC_FORMAT = 0x000004b6;
/** The RPC_HEADER_EXT (8 bytes) and RopSize (2) of the response buffer. */
const RESPONSE_OVERHEAD = 10;
/** How long NotificationWait waits at most when the transport does not end it first. */
const NOTIFICATION_WAIT_MS = 30_000;

function body<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof WireError) throw new MapiHttpError(ResponseCode.InvalidRequestBody, e.message);
    throw e;
  }
}

const displayNameOf = (c: MapiContext): string => (typeof c.account.settings.displayName === "string" && c.account.settings.displayName) || c.account.email;

export const emsmdb: EmsmdbService<EmsmdbState> = {
  async connect(c, raw) {
    const req = body(() => parseConnectRequest(raw));
    const dn = req.userDn.replace(/\0+$/, "");
    const own = legacyDn(c.account);
    let errorCode: number = ec.None;
    // MS-OXCRPC §3.1.4.1.1: a DN that names no user is ecUnknownUser; another user's mailbox is not opened.
    if (dn.toLowerCase() !== own.toLowerCase()) errorCode = accountIdFromLegacyDn(dn) === null ? ec.UnknownUser : ec.AccessDenied;
    const out = writeConnectResponse({
      statusCode: 0,
      errorCode,
      maxPollingInterval: 60_000,
      retryCount: 6,
      retryDelay: 10_000,
      dnPrefix: ORG_DN,
      displayName: errorCode ? "" : displayNameOf(c),
      auxiliary: new Uint8Array(),
    });
    return { body: out, state: errorCode ? null : newState(c.account.id, c.account.email) };
  },

  async execute(c, state, raw) {
    const req = body(() => parseExecuteRequest(raw));
    let rops: Uint8Array;
    let handles: number[];
    try {
      ({ rops, handles } = parseRopBuffer(req.ropBuffer));
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      c.log.debug("mapi: unreadable ROP buffer", { err: e.message });
      return writeExecuteResponse({ statusCode: 0, errorCode: EC_RPC_FORMAT, flags: 0, ropBuffer: new Uint8Array(), auxiliary: new Uint8Array() });
    }
    const room = Math.min(req.maxRopOut, 0xffff) - RESPONSE_OVERHEAD - handles.length * 4;
    if (room <= 0) return writeExecuteResponse({ statusCode: 0, errorCode: ec.BufferTooSmall, flags: 0, ropBuffer: new Uint8Array(), auxiliary: new Uint8Array() });
    const out = await runRops(c, state, rops, handles, Math.min(room, MAX_ROPS_LIST));
    return writeExecuteResponse({ statusCode: 0, errorCode: 0, flags: 0, ropBuffer: writeRopBuffer(out, handles), auxiliary: new Uint8Array() });
  },

  async disconnect(c, state, raw) {
    body(() => parseDisconnectRequest(raw));
    state.objects.clear();
    state.logons.clear();
    return writeDisconnectResponse({ statusCode: 0, errorCode: 0 });
  },

  async notificationWait(c, _state, raw) {
    body(() => parseNotificationWaitRequest(raw));
    await new Promise<void>((resolve) => {
      if (c.signal.aborted) return resolve();
      const t = setTimeout(done, NOTIFICATION_WAIT_MS);
      function done() {
        clearTimeout(t);
        c.signal.removeEventListener("abort", done);
        resolve();
      }
      c.signal.addEventListener("abort", done, { once: true });
    });
    return writeNotificationWaitResponse({ statusCode: 0, errorCode: 0, eventPending: false });
  },

  dispose(state) {
    state.objects.clear();
    state.logons.clear();
  },
};
