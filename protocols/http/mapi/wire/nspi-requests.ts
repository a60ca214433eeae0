/**
 * The NSPI request bodies of MAPI/HTTP (MS-OXCMAPIHTTP §2.2.5.1–§2.2.5.19):
 * one parser per X-RequestType, each reading the whole body (the trailing
 * AuxiliaryBufferSize + AuxiliaryBuffer, which the address book ignores) and
 * throwing WireError for a body that is short, oversized or has bytes left.
 */
import { LIMITS } from "./errors.ts";
import { Reader } from "./reader.ts";
import { type AbTaggedValue, type Stat, readAbTagged, readAbValueList, readMidArray, readOptStat, readOptTagArray } from "./nspi-values.ts";
import { type NspiRestriction, readNspiRestriction } from "./nspi-restriction.ts";

/** The auxiliary buffer that ends every request (§2.2.5.x AuxiliaryBufferSize/AuxiliaryBuffer): skipped. */
function endAux(r: Reader): void {
  r.bytes(r.u32(), "auxiliary buffer");
  r.done("NSPI request");
}

/** A StringArray_r of 8-bit strings (DNToMId Names): u32 count, NUL-terminated strings. */
function readString8Array(r: Reader): string[] {
  const n = r.count(r.u32(), LIMITS.ids, 1, "names");
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(r.cstr8());
  return out;
}

/** A WStringsArray_r (ResolveNames Names): u32 count, NUL-terminated UTF-16LE strings. */
function readString16Array(r: Reader): string[] {
  const n = r.count(r.u32(), LIMITS.ids, 2, "names");
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(r.cstr16());
  return out;
}

const opt = <T>(r: Reader, read: (r: Reader) => T): T | null => (r.u8() !== 0 ? read(r) : null);

export interface BindRequest { flags: number; state: Stat | null }
export function parseBind(b: Uint8Array): BindRequest {
  const r = new Reader(b);
  const out = { flags: r.u32(), state: readOptStat(r) };
  endAux(r);
  return out;
}

/** Unbind (§2.2.5.2): Reserved only. */
export function parseUnbind(b: Uint8Array): void {
  const r = new Reader(b);
  r.u32();
  endAux(r);
}

export interface CompareMIdsRequest { state: Stat | null; mid1: number; mid2: number }
export function parseCompareMIds(b: Uint8Array): CompareMIdsRequest {
  const r = new Reader(b);
  r.u32();
  const out = { state: readOptStat(r), mid1: r.u32(), mid2: r.u32() };
  endAux(r);
  return out;
}

export interface DNToMIdRequest { names: string[] }
export function parseDNToMId(b: Uint8Array): DNToMIdRequest {
  const r = new Reader(b);
  r.u32();
  const out = { names: opt(r, readString8Array) ?? [] };
  endAux(r);
  return out;
}

export interface GetMatchesRequest {
  state: Stat | null;
  mids: number[] | null;
  filter: NspiRestriction | null;
  propName: { guid: string; id: number } | null;
  rowCount: number;
  columns: number[] | null;
}
export function parseGetMatches(b: Uint8Array): GetMatchesRequest {
  const r = new Reader(b);
  r.u32();
  const state = readOptStat(r);
  const mids = opt(r, readMidArray);
  r.u32(); // InterfaceOptionFlags
  const filter = opt(r, (x) => readNspiRestriction(x));
  const propName = opt(r, (x) => ({ guid: x.guid(), id: x.u32() }));
  const rowCount = r.u32();
  const columns = readOptTagArray(r);
  endAux(r);
  return { state, mids, filter, propName, rowCount, columns };
}

export interface GetPropListRequest { flags: number; mid: number; codePage: number }
export function parseGetPropList(b: Uint8Array): GetPropListRequest {
  const r = new Reader(b);
  const out = { flags: r.u32(), mid: r.u32(), codePage: r.u32() };
  endAux(r);
  return out;
}

export interface GetPropsRequest { flags: number; state: Stat | null; tags: number[] | null }
export function parseGetProps(b: Uint8Array): GetPropsRequest {
  const r = new Reader(b);
  const out = { flags: r.u32(), state: readOptStat(r), tags: readOptTagArray(r) };
  endAux(r);
  return out;
}

export interface GetSpecialTableRequest { flags: number; state: Stat | null; version: number | null }
export function parseGetSpecialTable(b: Uint8Array): GetSpecialTableRequest {
  const r = new Reader(b);
  const out = { flags: r.u32(), state: readOptStat(r), version: opt(r, (x) => x.u32()) };
  endAux(r);
  return out;
}

export interface GetTemplateInfoRequest { flags: number; displayType: number; templateDn: string | null; codePage: number; localeId: number }
export function parseGetTemplateInfo(b: Uint8Array): GetTemplateInfoRequest {
  const r = new Reader(b);
  const flags = r.u32();
  const displayType = r.u32();
  const templateDn = opt(r, (x) => x.cstr8());
  const out = { flags, displayType, templateDn, codePage: r.u32(), localeId: r.u32() };
  endAux(r);
  return out;
}

/** ModLinkAtt (§2.2.5.9): parsed only to check the body; the directory is read-only. */
export function parseModLinkAtt(b: Uint8Array): { flags: number; tag: number; mid: number; entryIds: number } {
  const r = new Reader(b);
  const flags = r.u32();
  const tag = r.u32();
  const mid = r.u32();
  let entryIds = 0;
  if (r.u8() !== 0) {
    entryIds = r.count(r.u32(), LIMITS.ids, 1, "entry ids");
    for (let i = 0; i < entryIds; i++) r.bin32(); // BinaryArray_r, 32-bit counts
  }
  endAux(r);
  return { flags, tag, mid, entryIds };
}

/** ModProps (§2.2.5.10): parsed only to check the body; the directory is read-only. */
export function parseModProps(b: Uint8Array): { state: Stat | null; remove: number[] | null; values: AbTaggedValue[] | null } {
  const r = new Reader(b);
  r.u32();
  const out = { state: readOptStat(r), remove: readOptTagArray(r), values: opt(r, readAbValueList) };
  endAux(r);
  return out;
}

export interface QueryColumnsRequest { mapiFlags: number }
export function parseQueryColumns(b: Uint8Array): QueryColumnsRequest {
  const r = new Reader(b);
  r.u32();
  const out = { mapiFlags: r.u32() };
  endAux(r);
  return out;
}

export interface QueryRowsRequest { flags: number; state: Stat | null; explicitTable: number[]; rowCount: number; columns: number[] | null }
export function parseQueryRows(b: Uint8Array): QueryRowsRequest {
  const r = new Reader(b);
  const flags = r.u32();
  const state = readOptStat(r);
  const explicitTable = readMidArray(r); // §2.2.5.12: ExplicitTableCount has no Has- byte
  const rowCount = r.u32();
  const columns = readOptTagArray(r);
  endAux(r);
  return { flags, state, explicitTable, rowCount, columns };
}

export interface ResolveNamesRequest { state: Stat | null; tags: number[] | null; names: string[] }
export function parseResolveNames(b: Uint8Array): ResolveNamesRequest {
  const r = new Reader(b);
  r.u32();
  const out = { state: readOptStat(r), tags: readOptTagArray(r), names: opt(r, readString16Array) ?? [] };
  endAux(r);
  return out;
}

export interface ResortRestrictionRequest { state: Stat | null; mids: number[] }
export function parseResortRestriction(b: Uint8Array): ResortRestrictionRequest {
  const r = new Reader(b);
  r.u32();
  const out = { state: readOptStat(r), mids: opt(r, readMidArray) ?? [] };
  endAux(r);
  return out;
}

export interface SeekEntriesRequest { state: Stat | null; target: AbTaggedValue | null; explicitTable: number[] | null; columns: number[] | null }
export function parseSeekEntries(b: Uint8Array): SeekEntriesRequest {
  const r = new Reader(b);
  r.u32();
  const state = readOptStat(r);
  const target = opt(r, readAbTagged);
  const explicitTable = opt(r, readMidArray);
  const columns = readOptTagArray(r);
  endAux(r);
  return { state, target, explicitTable, columns };
}

export interface UpdateStatRequest { state: Stat | null; deltaRequested: boolean }
export function parseUpdateStat(b: Uint8Array): UpdateStatRequest {
  const r = new Reader(b);
  r.u32();
  const out = { state: readOptStat(r), deltaRequested: r.u8() !== 0 };
  endAux(r);
  return out;
}

/** GetMailboxUrl (§2.2.5.18) and GetAddressBookUrl (§2.2.5.19): Flags, a UTF-16 DN. */
export function parseUrlRequest(b: Uint8Array): { flags: number; dn: string } {
  const r = new Reader(b);
  const out = { flags: r.u32(), dn: r.cstr16() };
  endAux(r);
  return out;
}
