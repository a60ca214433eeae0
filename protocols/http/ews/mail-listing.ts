/**
 * A mail folder's listing (UID, item id, modseq of every message, ascending
 * UID) kept between requests, so the pages of one SyncFolderItems or FindItem
 * walk through a large folder do not each turn the store's 10,000 summaries
 * into objects again (issue 20 done-when 2: a page must cost O(page), not
 * O(folder)).
 *
 * Never stale: an entry is keyed by the folder's id, UIDVALIDITY and highest
 * modseq, and every change in a folder (delivery, flag, expunge, move in or
 * out) raises that modseq in the folders row the request has just read
 * (storage/summary-cache.ts relies on the same rule). A changed folder simply
 * misses and is listed again. Bounded: at most MAX_ENTRIES folders and a
 * budget of rows over all of them (20 bytes a row), least recently used first out.
 */
import type { Folder } from "../../../storage/api.ts";
import type { EwsContext } from "./context.ts";

/** A folder's messages as parallel arrays, ascending UID. */
export interface MailListing {
  readonly length: number;
  readonly uid: Uint32Array;
  readonly id: Float64Array;
  readonly modseq: Float64Array;
}

const MAX_ENTRIES = 64;
/** Rows held over all entries: 500,000 x 20 bytes = 10 MB at most. */
const DEFAULT_ROW_BUDGET = 500_000;

let rowBudget = DEFAULT_ROW_BUDGET;
const cache = new Map<string, MailListing>();
let rowsHeld = 0;

function keyOf(folder: Folder): string {
  return `${folder.id}:${folder.uidValidity}:${folder.highestModseq}`;
}

function remember(key: string, l: MailListing): void {
  if (l.length > rowBudget) return; // larger than the whole budget: served, not kept
  cache.set(key, l);
  rowsHeld += l.length;
  for (const [k, v] of cache) {
    if (cache.size <= MAX_ENTRIES && rowsHeld <= rowBudget) break;
    cache.delete(k);
    rowsHeld -= v.length;
  }
}

/** The listing of a mail folder as of the Folder row given (read in this request). */
export async function mailListing(c: EwsContext, folder: Folder): Promise<MailListing> {
  const key = keyOf(folder);
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit); // most recently used last
    return hit;
  }
  const s = await c.store.listMessages(folder.id);
  const l: MailListing = { length: s.length, uid: new Uint32Array(s.length), id: new Float64Array(s.length), modseq: new Float64Array(s.length) };
  for (let i = 0; i < s.length; i++) {
    const m = s[i]!;
    l.uid[i] = m.uid;
    l.id[i] = m.id;
    l.modseq[i] = m.modseq;
  }
  // Older listings of the same folder can never be asked for again (its modseq only grows).
  const prefix = `${folder.id}:`;
  for (const [k, v] of cache) {
    if (k.startsWith(prefix)) {
      cache.delete(k);
      rowsHeld -= v.length;
    }
  }
  remember(key, l);
  return l;
}

/** The index of the first entry with a UID above `after` (binary search: UIDs ascend). */
export function firstUidAfter(l: MailListing, after: number): number {
  let lo = 0;
  let hi = l.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (l.uid[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The index of a UID in the listing, or -1. */
export function indexOfUid(l: MailListing, uid: number): number {
  const i = firstUidAfter(l, uid - 1);
  return i < l.length && l.uid[i] === uid ? i : -1;
}

/** What the cache holds now (tests: the bound). */
export function mailListingStats(): { entries: number; rows: number; budget: number } {
  return { entries: cache.size, rows: rowsHeld, budget: rowBudget };
}

/** Tests: a smaller row budget (null restores the default); empties the cache. */
export function setMailListingBudget(rows: number | null): void {
  rowBudget = rows ?? DEFAULT_ROW_BUDGET;
  cache.clear();
  rowsHeld = 0;
}
