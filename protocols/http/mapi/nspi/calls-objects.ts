/**
 * The NSPI calls about single objects and the server (MS-OXNSPI §3.1.4.1):
 * DNToMId, ResolveNames, GetProps, GetPropList, QueryColumns,
 * GetSpecialTable, GetTemplateInfo, GetMailboxUrl, GetAddressBookUrl, and
 * the two writes (ModProps, ModLinkAtt), which the read-only directory
 * refuses with ecAccessDenied.
 */
import type { MapiContext } from "../types.ts";
import { accountIdFromLegacyDn, mapiUrls } from "../identity.ts";
import { endpoints } from "../../autodiscover/endpoints.ts";
import type { AbTaggedValue } from "../wire/nspi-values.ts";
import {
  parseDNToMId,
  parseGetPropList,
  parseGetProps,
  parseGetSpecialTable,
  parseGetTemplateInfo,
  parseModLinkAtt,
  parseModProps,
  parseQueryColumns,
  parseResolveNames,
  parseUrlRequest,
} from "../wire/nspi-requests.ts";
import {
  writeBareResponse,
  writeDNToMIdResponse,
  writeGetPropListResponse,
  writeGetSpecialTableResponse,
  writePropsResponse,
  writeQueryColumnsResponse,
  writeResolveNamesResponse,
  writeUrlResponse,
} from "../wire/nspi-responses.ts";
import { Ec, HIERARCHY_VERSION, MID_AMBIGUOUS, MID_RESOLVED, MID_UNRESOLVED, NspiAddressCreationTemplates, NspiUnicodeStrings } from "./constants.ts";
import { type GalEntry, type NspiSessionState, loadGal } from "./gal.ts";
import { anr } from "./match.ts";
import { defaultStat } from "./position.ts";
import { DEFAULT_COLUMNS, ENTRY_COLUMNS, entryProps, galContainerProps, presentTags, valueList } from "./props.ts";
import { MAX_ROWS, rowSet } from "./calls-table.ts";

/** MS-OXNSPI §3.1.4.3: the code page that means "Unicode strings". */
const CP_WINUNICODE = 1200;
/** The most names one DNToMId or ResolveNames resolves. */
const MAX_NAMES = MAX_ROWS;

/** https://host[:port] as the transport saw it, else as autodiscover configures it: the same URLs autodiscover gives. */
const origin = (c: MapiContext): string => c.origin ?? endpoints(c.server.config).httpsBase;

/** An entry by DN, case-insensitively (MS-OXNSPI §2.2.1.1); an account's DN also by the id it carries. */
function byDn(gal: readonly GalEntry[], dn: string): GalEntry | undefined {
  const d = dn.replace(/\0+$/, "").toLowerCase();
  const hit = gal.find((e) => e.dn.toLowerCase() === d);
  if (hit) return hit;
  const id = accountIdFromLegacyDn(dn);
  return id === null ? undefined : gal.find((e) => e.kind === "account" && e.accountId === id);
}

/** DNToMId (MS-OXNSPI §3.1.4.1.13): one MId per DN, 0 for a DN that names nothing we show. */
export async function dnToMId(c: MapiContext, st: NspiSessionState, body: Uint8Array): Promise<Uint8Array> {
  const req = parseDNToMId(body);
  if (req.names.length > MAX_NAMES) return writeDNToMIdResponse(Ec.TableTooBig, null);
  const gal = await loadGal(c.store, c.account, st, c.now());
  return writeDNToMIdResponse(Ec.Success, req.names.map((n) => byDn(gal, n)?.mid ?? 0));
}

/**
 * ResolveNames (MS-OXNSPI §3.1.4.1.17): ANR on each name; the MIds say
 * unresolved / ambiguous / resolved, and the rows are those of the resolved
 * names, in order.
 */
export async function resolveNames(c: MapiContext, st: NspiSessionState, body: Uint8Array): Promise<Uint8Array> {
  const req = parseResolveNames(body);
  const s = req.state ?? defaultStat();
  if (req.names.length > MAX_NAMES) return writeResolveNamesResponse(Ec.TableTooBig, s.codePage, null, null);
  const gal = await loadGal(c.store, c.account, st, c.now());
  const mids: number[] = [];
  const resolved: GalEntry[] = [];
  for (const name of req.names) {
    const hits = anr(gal, name);
    if (hits.length === 1) {
      mids.push(MID_RESOLVED);
      resolved.push(hits[0]!);
    } else mids.push(hits.length ? MID_AMBIGUOUS : MID_UNRESOLVED);
  }
  return writeResolveNamesResponse(Ec.Success, s.codePage, mids, rowSet(st, resolved, req.tags ?? DEFAULT_COLUMNS, 0));
}

/**
 * GetProps (MS-OXNSPI §3.1.4.1.7): the properties of the object STAT's
 * CurrentRec names; a property it lacks comes back as PtypErrorCode
 * ecNotFound and the call answers ecErrorsReturned.
 */
export async function getProps(c: MapiContext, st: NspiSessionState, body: Uint8Array): Promise<Uint8Array> {
  const req = parseGetProps(body);
  const s = req.state ?? defaultStat();
  const e = (await loadGal(c.store, c.account, st, c.now())).find((x) => x.mid === s.currentRec);
  if (!e) return writePropsResponse(Ec.NotFound, s.codePage, null);
  const bag = entryProps(e, st, req.flags);
  const tags = req.tags ?? presentTags(bag, s.codePage !== CP_WINUNICODE);
  const { list, missing } = valueList(bag, tags);
  return writePropsResponse(missing ? Ec.ErrorsReturned : Ec.Success, s.codePage, list);
}

/** GetPropList (MS-OXNSPI §3.1.4.1.6): the tags an object has; 8-bit string types unless the code page is Unicode. */
export async function getPropList(c: MapiContext, st: NspiSessionState, body: Uint8Array): Promise<Uint8Array> {
  const req = parseGetPropList(body);
  const e = (await loadGal(c.store, c.account, st, c.now())).find((x) => x.mid === req.mid);
  if (!e) return writeGetPropListResponse(Ec.NotFound, null);
  return writeGetPropListResponse(Ec.Success, presentTags(entryProps(e, st, 0), req.codePage !== CP_WINUNICODE));
}

/** QueryColumns (MS-OXNSPI §3.1.4.1.5): the columns the GAL's rows can give. */
export async function queryColumns(_c: MapiContext, _st: NspiSessionState, body: Uint8Array): Promise<Uint8Array> {
  parseQueryColumns(body);
  return writeQueryColumnsResponse(Ec.Success, [...ENTRY_COLUMNS]);
}

/**
 * GetSpecialTable (MS-OXNSPI §3.1.4.1.3): the address-book hierarchy (one
 * container, the GAL), with strings Unicode when NspiUnicodeStrings is set;
 * no rows when the client already holds this version. Address creation
 * templates: we offer none, so an empty table.
 */
export async function getSpecialTable(_c: MapiContext, _st: NspiSessionState, body: Uint8Array): Promise<Uint8Array> {
  const req = parseGetSpecialTable(body);
  const codePage = req.state?.codePage ?? 1252;
  if (req.flags & NspiAddressCreationTemplates) return writeGetSpecialTableResponse(Ec.Success, codePage, null, []);
  if (req.version === HIERARCHY_VERSION) return writeGetSpecialTableResponse(Ec.Success, codePage, HIERARCHY_VERSION, []);
  const bag = galContainerProps();
  const unicode = (req.flags & NspiUnicodeStrings) !== 0;
  const tags = presentTags(bag, !unicode);
  const row: AbTaggedValue[] = valueList(bag, tags).list;
  return writeGetSpecialTableResponse(Ec.Success, codePage, HIERARCHY_VERSION, [row]);
}

/** GetTemplateInfo (MS-OXNSPI §3.1.4.1.18): the directory holds no display or address templates. */
export async function getTemplateInfo(_c: MapiContext, _st: NspiSessionState, body: Uint8Array): Promise<Uint8Array> {
  const req = parseGetTemplateInfo(body);
  return writePropsResponse(Ec.NotFound, req.codePage, null);
}

/** GetMailboxUrl (MS-OXCMAPIHTTP §2.2.5.18): the EMSMDB URL of the mailbox a DN names (one of this directory's accounts). */
export async function getMailboxUrl(c: MapiContext, st: NspiSessionState, body: Uint8Array): Promise<Uint8Array> {
  const req = parseUrlRequest(body);
  const e = byDn(await loadGal(c.store, c.account, st, c.now()), req.dn);
  const account = e ? (await c.store.listAccounts()).find((a) => a.id === e.accountId) : undefined;
  if (!account) return writeUrlResponse(Ec.NotFound, "");
  return writeUrlResponse(Ec.Success, mapiUrls(origin(c), account).emsmdb);
}

/** GetAddressBookUrl (MS-OXCMAPIHTTP §2.2.5.19): the NSPI URL for the user a DN names (the caller's own when it names nobody we show). */
export async function getAddressBookUrl(c: MapiContext, st: NspiSessionState, body: Uint8Array): Promise<Uint8Array> {
  const req = parseUrlRequest(body);
  const e = byDn(await loadGal(c.store, c.account, st, c.now()), req.dn);
  const account = (e && e.kind === "account" ? (await c.store.listAccounts()).find((a) => a.id === e.accountId) : undefined) ?? c.account;
  return writeUrlResponse(Ec.Success, mapiUrls(origin(c), account).nspi);
}

/** ModProps (MS-OXNSPI §3.1.4.1.12) and ModLinkAtt (§3.1.4.1.15): the directory is read-only over NSPI. */
export async function modProps(_c: MapiContext, _st: NspiSessionState, body: Uint8Array): Promise<Uint8Array> {
  parseModProps(body);
  return writeBareResponse(Ec.AccessDenied);
}

export async function modLinkAtt(_c: MapiContext, _st: NspiSessionState, body: Uint8Array): Promise<Uint8Array> {
  parseModLinkAtt(body);
  return writeBareResponse(Ec.AccessDenied);
}
