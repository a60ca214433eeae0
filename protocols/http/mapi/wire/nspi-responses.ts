/**
 * The NSPI response bodies of MAPI/HTTP (MS-OXCMAPIHTTP §2.2.5.1–§2.2.5.19).
 * Every body starts with StatusCode (0: the request reached the server; the
 * NSPI outcome is in ErrorCode, MS-OXCMAPIHTTP §2.2.2.2) and ends with an
 * empty auxiliary buffer (AuxiliaryBufferSize 0). A failed table call writes
 * HasColsAndRows 0, as the rows are then absent.
 */
import { Writer } from "./writer.ts";
import { type AbCell, type AbTaggedValue, type Stat, writeAbRow, writeAbValueList, writeMidArray, writeStat, writeTagArray } from "./nspi-values.ts";

/** A row set: the columns, then one AddressBookPropertyRow per row (§2.2.5.x Columns/RowCount/RowData). */
export interface AbRowSet {
  columns: number[];
  rows: AbCell[][];
}

const start = (errorCode: number): Writer => new Writer().u32(0).u32(errorCode >>> 0);
const end = (w: Writer): Uint8Array => w.u32(0).finish();

function optStat(w: Writer, s: Stat | null): void {
  if (!s) w.u8(0);
  else { w.u8(0xff); writeStat(w, s); }
}
function optMids(w: Writer, m: readonly number[] | null): void {
  if (!m) w.u8(0);
  else { w.u8(0xff); writeMidArray(w, m); }
}
function optRows(w: Writer, set: AbRowSet | null): void {
  if (!set) { w.u8(0); return; }
  w.u8(0xff);
  writeTagArray(w, set.columns);
  w.u32(set.rows.length);
  for (const row of set.rows) writeAbRow(w, set.columns, row);
}

/** Bind (§2.2.5.1): ServerGuid. */
export function writeBindResponse(errorCode: number, serverGuid: Uint8Array): Uint8Array {
  return end(start(errorCode).bytes(serverGuid));
}

/** Unbind, ModProps, ModLinkAtt: status and error code only. */
export function writeBareResponse(errorCode: number): Uint8Array {
  return end(start(errorCode));
}

/** CompareMIds (§2.2.5.3): Result < 0, 0 or > 0. */
export function writeCompareMIdsResponse(errorCode: number, result: number): Uint8Array {
  return end(start(errorCode).i32(result));
}

/** DNToMId (§2.2.5.4). */
export function writeDNToMIdResponse(errorCode: number, mids: readonly number[] | null): Uint8Array {
  const w = start(errorCode);
  optMids(w, mids);
  return end(w);
}

/** GetMatches (§2.2.5.5). */
export function writeGetMatchesResponse(errorCode: number, state: Stat | null, mids: readonly number[] | null, rows: AbRowSet | null): Uint8Array {
  const w = start(errorCode);
  optStat(w, state);
  optMids(w, mids);
  optRows(w, errorCode === 0 ? rows : null);
  return end(w);
}

/** GetPropList (§2.2.5.6). */
export function writeGetPropListResponse(errorCode: number, tags: readonly number[] | null): Uint8Array {
  const w = start(errorCode);
  if (!tags) w.u8(0);
  else { w.u8(0xff); writeTagArray(w, tags); }
  return end(w);
}

/** GetProps (§2.2.5.7) and GetTemplateInfo (§2.2.5.8): CodePage, an optional property value list. */
export function writePropsResponse(errorCode: number, codePage: number, values: readonly AbTaggedValue[] | null): Uint8Array {
  const w = start(errorCode).u32(codePage);
  if (!values) w.u8(0);
  else { w.u8(0xff); writeAbValueList(w, values); }
  return end(w);
}

/** GetSpecialTable (§2.2.5.8 in v13 numbering): CodePage, Version, rows as property value lists. */
export function writeGetSpecialTableResponse(errorCode: number, codePage: number, version: number | null, rows: readonly (readonly AbTaggedValue[])[]): Uint8Array {
  const w = start(errorCode).u32(codePage);
  if (version === null) w.u8(0);
  else w.u8(0xff).u32(version);
  if (rows.length === 0) w.u8(0);
  else {
    w.u8(0xff).u32(rows.length);
    for (const row of rows) writeAbValueList(w, row);
  }
  return end(w);
}

/** QueryRows (§2.2.5.12) and SeekEntries (§2.2.5.16). */
export function writeTableResponse(errorCode: number, state: Stat | null, rows: AbRowSet | null): Uint8Array {
  const w = start(errorCode);
  optStat(w, state);
  optRows(w, errorCode === 0 ? rows : null);
  return end(w);
}

/** QueryColumns (§2.2.5.11). */
export function writeQueryColumnsResponse(errorCode: number, columns: readonly number[] | null): Uint8Array {
  return writeGetPropListResponse(errorCode, columns);
}

/** ResolveNames (§2.2.5.13): CodePage, the per-name MIds, the rows of the resolved names. */
export function writeResolveNamesResponse(errorCode: number, codePage: number, mids: readonly number[] | null, rows: AbRowSet | null): Uint8Array {
  const w = start(errorCode).u32(codePage);
  optMids(w, mids);
  optRows(w, errorCode === 0 ? rows : null);
  return end(w);
}

/** ResortRestriction (§2.2.5.14). */
export function writeResortRestrictionResponse(errorCode: number, state: Stat | null, mids: readonly number[] | null): Uint8Array {
  const w = start(errorCode);
  optStat(w, state);
  optMids(w, mids);
  return end(w);
}

/** UpdateStat (§2.2.5.17): the new STAT, the Delta moved when asked for. */
export function writeUpdateStatResponse(errorCode: number, state: Stat | null, delta: number | null): Uint8Array {
  const w = start(errorCode);
  optStat(w, state);
  if (delta === null) w.u8(0);
  else w.u8(0xff).i32(delta);
  return end(w);
}

/** GetMailboxUrl / GetAddressBookUrl (§2.2.5.18, §2.2.5.19): ServerUrl as a NUL-terminated UTF-16 string. */
export function writeUrlResponse(errorCode: number, url: string): Uint8Array {
  return end(start(errorCode).cstr16(url));
}
