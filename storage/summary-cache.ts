/**
 * Folder listings (the summaries a SELECT or a sync needs) with an
 * in-memory cache for large folders, kept current from the change log.
 */
import type { MessageSummary } from "./api.ts";
import { folderChangesFloor } from "./changes.ts";
import type { StoreCore } from "./core.ts";
import type { SqlValue } from "./db.ts";
import { SUMMARY_COLS, num, parseJson, summaryFromRaw } from "./rows.ts";

const SUMMARY_FIELDS = SUMMARY_COLS.split(", ");

/** Folders with at least this many messages keep their summaries cached. */
const SUMMARY_CACHE_MIN = 2000;
const SUMMARY_CACHE_FOLDERS = 32;

/** Applies changed rows (ascending UID) to cached rows (ascending UID): replace or insert. Idempotent. */
function mergeSummaryRows(rows: unknown[][], changed: unknown[][]) {
  for (const ch of changed) {
    const uid = ch[1] as number;
    const n = rows.length;
    if (n === 0 || (rows[n - 1][1] as number) < uid) {
      rows.push(ch);
      continue;
    }
    let lo = 0;
    let hi = n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const u = rows[mid][1] as number;
      if (u === uid) {
        lo = mid;
        break;
      }
      if (u < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    if (lo < n && rows[lo][1] === uid) rows[lo] = ch;
    else rows.splice(lo, 0, ch);
  }
}

export class SummaryCache {
  private cache = new Map<number, { hm: number; rows: unknown[][] }>();

  constructor(private readonly core: StoreCore) {}

  /**
   * Summaries of a folder, ascending UID. Large folders are cached in memory
   * keyed by the folder's highest modseq (every change of the folder moves
   * it, in every process), and a stale cache is brought up to date from the
   * change log (items with a newer modseq, expunge log) instead of reloading.
   */
  async listMessages(folderId: number): Promise<MessageSummary[]> {
    const f = await this.core.db.raw("SELECT highest_modseq FROM folders WHERE id = ?", [folderId]);
    if (f.length === 0) {
      this.cache.delete(folderId);
      return [];
    }
    const hm = num(f[0][0]);
    let c = this.cache.get(folderId);
    if (c && c.hm !== hm) {
      const changed = await this.loadSummaryRows(`SELECT ${SUMMARY_COLS} FROM items WHERE folder_id = ? AND modseq > ? ORDER BY uid`, [folderId, c.hm]);
      if (changed.length > c.rows.length / 2) c = undefined;
      else if (c.hm < (await folderChangesFloor(this.core.db, folderId))) c = undefined; // the expunge log below the floor is pruned: reload
      else {
        const gone = new Set((await this.core.db.raw("SELECT uid FROM expunged WHERE folder_id = ? AND modseq > ?", [folderId, c.hm])).map((r) => num(r[0])));
        if (gone.size) c.rows = c.rows.filter((r) => !gone.has(r[1] as number));
        mergeSummaryRows(c.rows, changed);
        c.hm = hm;
      }
    }
    if (!c) {
      const rows = await this.loadSummaryRows(`SELECT ${SUMMARY_COLS} FROM items WHERE folder_id = ? ORDER BY uid`, [folderId]);
      c = { hm, rows };
      if (rows.length < SUMMARY_CACHE_MIN) {
        this.cache.delete(folderId);
        return rows.map(summaryFromRaw);
      }
    }
    // LRU: most recent last
    this.cache.delete(folderId);
    this.cache.set(folderId, c);
    while (this.cache.size > SUMMARY_CACHE_FOLDERS) this.cache.delete(this.cache.keys().next().value as number);
    const rows = c.rows;
    const out = new Array<MessageSummary>(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = summaryFromRaw(rows[i]);
    return out;
  }

  /** Rows as one JSON document: much cheaper than 100,000 driver row conversions. */
  private async loadSummaryRows(sql: string, args: SqlValue[]): Promise<unknown[][]> {
    const r = await this.core.db.raw(this.core.dialect.jsonRows(SUMMARY_FIELDS, sql), args);
    return parseJson<unknown[][]>(r[0]?.[0], []);
  }
}
