/**
 * The NSPI calls that walk the GAL table (MS-OXNSPI §3.1.4.1): QueryRows,
 * SeekEntries, UpdateStat, CompareMIds, ResortRestriction and GetMatches.
 * Each parses its body (wire/nspi-requests.ts), works on the session's
 * numbered GAL and writes its response body (wire/nspi-responses.ts).
 */
import type { MapiContext } from "../types.ts";
import type { AbCell, Stat } from "../wire/nspi-values.ts";
import { parseCompareMIds, parseGetMatches, parseQueryRows, parseResortRestriction, parseSeekEntries, parseUpdateStat } from "../wire/nspi-requests.ts";
import {
  type AbRowSet,
  writeCompareMIdsResponse,
  writeGetMatchesResponse,
  writeResortRestrictionResponse,
  writeTableResponse,
  writeUpdateStatResponse,
} from "../wire/nspi-responses.ts";
import { Ec, MID_BEGINNING_OF_TABLE } from "./constants.ts";
import { type GalEntry, type NspiSessionState, loadGal } from "./gal.ts";
import { matches } from "./match.ts";
import { at, defaultStat, position } from "./position.ts";
import { DEFAULT_COLUMNS, entryProps, rowCells } from "./props.ts";

/** The most rows one call returns, whatever the client asks (rules: every client count is bounded). */
export const MAX_ROWS = 4096;

/** The table a STAT names: the GAL for container 0 (the only container, MS-OXNSPI §2.2.8 ContainerID), else none. */
async function tableOf(c: MapiContext, st: NspiSessionState, s: Stat): Promise<GalEntry[]> {
  return s.containerId === 0 ? loadGal(c.store, c.account, st, c.now()) : [];
}

/** Rows of `entries` for `columns`; a MId not in the GAL gives a row of ecNotFound cells. */
export function rowSet(st: NspiSessionState, entries: readonly (GalEntry | undefined)[], columns: readonly number[], flags: number): AbRowSet {
  const rows: AbCell[][] = entries.map((e) => (e ? rowCells(entryProps(e, st, flags), columns) : columns.map(() => ({ error: Ec.NotFound }))));
  return { columns: [...columns], rows };
}

/** QueryRows (MS-OXNSPI §3.1.4.1.8): an explicit table's rows, or up to RowCount rows from the STAT's position on. */
export async function queryRows(c: MapiContext, st: NspiSessionState, body: Uint8Array): Promise<Uint8Array> {
  const req = parseQueryRows(body);
  const s = req.state ?? defaultStat();
  const columns = req.columns ?? DEFAULT_COLUMNS;
  const count = Math.min(req.rowCount, MAX_ROWS);
  if (req.explicitTable.length) {
    const gal = await loadGal(c.store, c.account, st, c.now());
    const byMid = new Map(gal.map((e) => [e.mid, e]));
    const picked = req.explicitTable.slice(0, MAX_ROWS).map((m) => byMid.get(m));
    return writeTableResponse(Ec.Success, s, rowSet(st, picked, columns, req.flags));
  }
  const table = await tableOf(c, st, s);
  const from = position(table, s);
  const rows = table.slice(from, from + count);
  return writeTableResponse(Ec.Success, at(table, s, from + rows.length), rowSet(st, rows, columns, req.flags));
}

/**
 * SeekEntries (MS-OXNSPI §3.1.4.1.9): position on the first row whose display
 * name sorts at or after the target (the only sort order we keep); with
 * columns, the rows from there on (bounded).
 */
export async function seekEntries(c: MapiContext, st: NspiSessionState, body: Uint8Array): Promise<Uint8Array> {
  const req = parseSeekEntries(body);
  const s = req.state ?? defaultStat();
  const target = req.target;
  if (!target || typeof target.value !== "string") return writeTableResponse(Ec.InvalidParameter, s, null);
  const gal = await tableOf(c, st, s);
  const table = req.explicitTable ? req.explicitTable.map((m) => gal.find((e) => e.mid === m)).filter((e): e is GalEntry => !!e) : gal;
  const want = target.value;
  const pos = table.findIndex((e) => e.displayName.localeCompare(want, "en", { sensitivity: "base" }) >= 0);
  if (pos < 0) return writeTableResponse(Ec.NotFound, at(table, s, table.length), null);
  const rows = req.columns ? rowSet(st, table.slice(pos, pos + MAX_ROWS), req.columns, 0) : { columns: [], rows: [] };
  return writeTableResponse(Ec.Success, at(table, s, pos), rows);
}

/** UpdateStat (MS-OXNSPI §3.1.4.1.6): apply Delta to the position, and say how far it moved when asked. */
export async function updateStat(c: MapiContext, st: NspiSessionState, body: Uint8Array): Promise<Uint8Array> {
  const req = parseUpdateStat(body);
  const s = req.state ?? defaultStat();
  const table = await tableOf(c, st, s);
  const before = position(table, { ...s, delta: 0 });
  const after = position(table, s);
  return writeUpdateStatResponse(Ec.Success, at(table, s, after), req.deltaRequested ? after - before : null);
}

/** CompareMIds (MS-OXNSPI §3.1.4.1.5): the order of two rows of the STAT's table; a MId not in it is an error. */
export async function compareMIds(c: MapiContext, st: NspiSessionState, body: Uint8Array): Promise<Uint8Array> {
  const req = parseCompareMIds(body);
  const table = await tableOf(c, st, req.state ?? defaultStat());
  const find = (m: number): number => (m === MID_BEGINNING_OF_TABLE ? -1 : table.findIndex((e) => e.mid === m));
  const a = find(req.mid1);
  const b = find(req.mid2);
  if ((a < 0 && req.mid1 !== MID_BEGINNING_OF_TABLE) || (b < 0 && req.mid2 !== MID_BEGINNING_OF_TABLE)) return writeCompareMIdsResponse(Ec.GeneralFailure, 0);
  return writeCompareMIdsResponse(Ec.Success, Math.sign(a - b));
}

/** ResortRestriction (MS-OXNSPI §3.1.4.1.11): the given MIds that exist, in the table's (display name) order. */
export async function resortRestriction(c: MapiContext, st: NspiSessionState, body: Uint8Array): Promise<Uint8Array> {
  const req = parseResortRestriction(body);
  const s = req.state ?? defaultStat();
  const wanted = new Set(req.mids);
  const sorted = (await loadGal(c.store, c.account, st, c.now())).filter((e) => wanted.has(e.mid));
  const mids = sorted.map((e) => e.mid);
  const out: Stat = { ...s, totalRecs: mids.length, numPos: 0, delta: 0, currentRec: mids[0] ?? MID_BEGINNING_OF_TABLE };
  return writeResortRestrictionResponse(Ec.Success, out, mids);
}

/**
 * GetMatches (MS-OXNSPI §3.1.4.1.10): the rows of the STAT's container that
 * satisfy the filter, as an explicit table (MIds, and rows when columns are
 * given). More matches than RowCount is ecTableTooBig; the property-value
 * form (lpPropName, e.g. a list's members) is not offered: ecNotSupported.
 */
export async function getMatches(c: MapiContext, st: NspiSessionState, body: Uint8Array): Promise<Uint8Array> {
  const req = parseGetMatches(body);
  const s = req.state ?? defaultStat();
  if (req.propName) return writeGetMatchesResponse(Ec.NotSupported, s, null, null);
  if (!req.filter) return writeGetMatchesResponse(Ec.InvalidParameter, s, null, null);
  const filter = req.filter;
  const found = (await tableOf(c, st, s)).filter((e) => matches(e, st, filter));
  if (found.length > Math.min(req.rowCount, MAX_ROWS)) return writeGetMatchesResponse(Ec.TableTooBig, s, null, null);
  const out: Stat = { ...s, currentRec: MID_BEGINNING_OF_TABLE, delta: 0, numPos: 0, totalRecs: found.length };
  const rows = req.columns ? rowSet(st, found, req.columns, 0) : { columns: [], rows: [] };
  return writeGetMatchesResponse(Ec.Success, out, found.map((e) => e.mid), rows);
}
