/**
 * STAT positioning over a table (MS-OXNSPI §3.1.4.5 "Positioning in a
 * Table"): a row is found from CurrentRec (a MId, or BEGINNING/END OF TABLE),
 * falling back to the fractional NumPos when the MId is not in the table,
 * then moved by Delta; after a read the STAT names the next row.
 */
import type { Stat } from "../wire/nspi-values.ts";
import { MID_BEGINNING_OF_TABLE, MID_END_OF_TABLE } from "./constants.ts";
import type { GalEntry } from "./gal.ts";

/** The STAT the server assumes when a request carries none (MS-OXNSPI §2.2.8 defaults: the GAL, code page 1252). */
export function defaultStat(): Stat {
  return { sortType: 0, containerId: 0, currentRec: MID_BEGINNING_OF_TABLE, delta: 0, numPos: 0, totalRecs: 0, codePage: 1252, templateLocale: 1033, sortLocale: 1033 };
}

/** The row index `s` points at, Delta applied, clamped to [0, rows]. */
export function position(table: readonly GalEntry[], s: Stat): number {
  let pos: number;
  if (s.currentRec === MID_BEGINNING_OF_TABLE) pos = 0;
  else if (s.currentRec === MID_END_OF_TABLE) pos = table.length;
  else {
    const at = table.findIndex((e) => e.mid === s.currentRec);
    pos = at >= 0 ? at : Math.min(s.numPos, table.length);
  }
  return Math.max(0, Math.min(table.length, pos + s.delta));
}

/** `s` moved to row index `pos`: CurrentRec names that row (END OF TABLE past the last), Delta consumed. */
export function at(table: readonly GalEntry[], s: Stat, pos: number): Stat {
  const p = Math.max(0, Math.min(table.length, pos));
  return { ...s, currentRec: p < table.length ? table[p]!.mid : MID_END_OF_TABLE, delta: 0, numPos: p, totalRecs: table.length };
}
