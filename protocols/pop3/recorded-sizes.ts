/**
 * In-memory cache of the CRLF sizes the store recorded at ingest (blobs.crlf_size), per INBOX.
 *
 * Why: RFC 1939 §5 STAT/LIST report every message's size as RETR sends it, so each login needs
 * all of them; asking the store (`crlfSizes`, a join of items and blobs) costs ~25 ms for 10,000
 * messages, most of a warm login. Why it is exact: the content behind (folder, UIDVALIDITY, UID)
 * never changes (UIDs are never reused, RFC 9051 §2.3.1.1), so a size once read stays true in
 * every process for as long as the message exists; a message expunged since is simply not in the
 * next login's listing. A UID this cache does not hold (new mail, a size the store has not
 * recorded) sends the login back to the store, which then refreshes the entry.
 *
 * Bounded: at most MAX_FOLDERS folders and MAX_ENTRIES sizes across them (8 bytes each in typed
 * arrays: 2,000,000 entries = 16 MB at most), least recently used folder dropped first.
 */

/** Folders whose sizes are kept. */
export const MAX_FOLDERS = 64;
/** Sizes kept across all folders (uid + size as two 32-bit integers each). */
export const MAX_ENTRIES = 2_000_000;

interface Entry {
  uidValidity: number;
  /** Ascending UIDs and their CRLF sizes. */
  uids: Uint32Array;
  sizes: Uint32Array;
}

export class RecordedSizes {
  private readonly folders = new Map<number, Entry>();
  private entries = 0;

  /**
   * Sizes for `uids` (ascending) in `folderId`, in the same order, or null when any of them is not
   * held (the caller then asks the store and calls `remember`).
   */
  lookup(folderId: number, uidValidity: number, uids: readonly number[]): Float64Array | null {
    const e = this.folders.get(folderId);
    if (!e || e.uidValidity !== uidValidity) return null;
    const out = new Float64Array(uids.length);
    // Both lists ascend: one merge walk.
    let j = 0;
    const n = e.uids.length;
    for (let i = 0; i < uids.length; i++) {
      const u = uids[i]!;
      while (j < n && e.uids[j]! < u) j++;
      if (j === n || e.uids[j] !== u) return null;
      out[i] = e.sizes[j]!;
    }
    // LRU: most recently used last.
    this.folders.delete(folderId);
    this.folders.set(folderId, e);
    return out;
  }

  /** Keeps what the store answered for the UIDs of this listing (ascending); sizes it did not record are left out. */
  remember(folderId: number, uidValidity: number, uids: readonly number[], recorded: ReadonlyMap<number, number>): void {
    this.forget(folderId);
    let count = 0;
    for (const u of uids) if (fits(recorded.get(u))) count++;
    if (count === 0 || count > MAX_ENTRIES) return;
    const e: Entry = { uidValidity, uids: new Uint32Array(count), sizes: new Uint32Array(count) };
    let k = 0;
    for (const u of uids) {
      const s = recorded.get(u);
      if (!fits(s)) continue;
      e.uids[k] = u;
      e.sizes[k++] = s;
    }
    this.folders.set(folderId, e);
    this.entries += count;
    while (this.folders.size > MAX_FOLDERS || this.entries > MAX_ENTRIES) {
      const oldest = this.folders.keys().next().value as number;
      this.forget(oldest);
    }
  }

  private forget(folderId: number): void {
    const e = this.folders.get(folderId);
    if (!e) return;
    this.entries -= e.uids.length;
    this.folders.delete(folderId);
  }

  /** Sizes held (tests). */
  get size(): number {
    return this.entries;
  }
}

/** A size the typed array holds exactly (a message is far below 4 GB; anything else is not cached). */
function fits(s: number | undefined): s is number {
  return s !== undefined && Number.isInteger(s) && s >= 0 && s <= 0xffffffff;
}
