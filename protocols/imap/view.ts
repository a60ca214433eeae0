/**
 * A session's view of its selected mailbox: the sequence-number <-> UID map
 * the client knows, plus the changes not yet announced.
 *
 * Changes arrive from the shared FolderCache (state.ts) in commit order and
 * are announced at the points the RFCs allow:
 *  - EXPUNGE never while responding to FETCH, STORE or SEARCH, nor to other
 *    commands that take sequence numbers (RFC 9051 §7.5.1 / RFC 3501 §7.4.1:
 *    it would shift the numbers the client is using); UID commands, NOOP,
 *    CHECK, IDLE and the rest announce them. With QRESYNC they go as
 *    VANISHED (RFC 7162 §3.2.10).
 *  - EXISTS (and RECENT for IMAP4rev1) whenever a command completes.
 *  - FETCH FLAGS for flag changes made by others.
 * Each EXPUNGE is numbered against the view as it is after the previous
 * ones, so numbering stays right whatever the interleaving.
 */
import { formatSet } from "./encode.ts";
import { lowerBound } from "./seqset.ts";
import type { CacheListener, FolderCache, Msg } from "./state.ts";
import { SYSTEM_FLAGS } from "./state.ts";

export interface ViewOwner {
  /** The view has something to announce (IDLE sessions flush at once). */
  viewChanged(): void;
  /** The selected folder was deleted by another session. */
  folderGone(): void;
}

export interface SyncOptions {
  allowExpunge: boolean;
  qresync: boolean;
  condstore: boolean;
  rev2: boolean;
}

export class SelectedMailbox implements CacheListener {
  /** Ascending UIDs the client knows; shares the cache's snapshot when in step with it. */
  uids: Uint32Array;
  private pendingExpunge: number[] = [];
  /**
   * Messages expunged by others that the client still sees (no EXPUNGE sent
   * yet), as they were: RFC 9051 §7.5.1 says they still exist for this
   * session, so SEARCH/SORT/THREAD still match them (search.ts).
   */
  private expunged: Map<number, Msg> | null = null;
  private hasNew = false;
  private pendingFlags: Set<number> | null = null;
  private kwAnnounced: number;
  /** \Recent range (lo, hi] claimed at SELECT plus later single claims. */
  private recentLo = 0;
  private recentHi = 0;
  private recentExtra: Set<number> | null = null;
  /** SEARCHRES saved result (RFC 5182), as UIDs. */
  saved: number[] | null = null;
  /** CONTEXT=SEARCH UPDATE contexts exist (RFC 5267; kept in search.ts). */
  updates = false;
  /** Something changed since the UPDATE contexts were last evaluated. */
  updateDirty = false;
  private gone = false;

  constructor(
    readonly cache: FolderCache,
    readonly readOnly: boolean,
    private owner: ViewOwner,
  ) {
    this.uids = cache.uids;
    this.kwAnnounced = cache.keywords.length;
  }

  get count(): number {
    return this.uids.length;
  }

  get folderId(): number {
    return this.cache.folderId;
  }

  get isGone(): boolean {
    return this.gone;
  }

  /**
   * Starts listening to the cache (after SELECT responses are computed), and
   * takes (SELECT) or shows (EXAMINE, RFC 3501 §6.3.2) the messages still
   * recent up to the view's last one. Listening starts first: what arrives
   * while the floor is asked is announced, and claimed by the cache, as usual.
   */
  async attach(claimRecent: boolean): Promise<void> {
    this.cache.listeners.add(this);
    const top = this.uids.length ? this.uids[this.uids.length - 1]! : 0;
    const [lo, hi] = claimRecent && !this.readOnly ? await this.cache.claimRecent(top) : await this.cache.recentRange(top);
    this.recentLo = lo;
    this.recentHi = hi;
  }

  detach(): void {
    this.cache.listeners.delete(this);
  }

  // ------------------------------------------------------------ CacheListener

  onExpunge(uid: number, m: Msg): void {
    this.pendingExpunge.push(uid);
    if (this.indexOfUid(uid) >= 0) (this.expunged ??= new Map()).set(uid, m);
    this.updateDirty = true;
  }
  onExists(uid: number, recent: boolean): void {
    this.hasNew = true;
    this.updateDirty = true;
    if (recent) (this.recentExtra ??= new Set()).add(uid);
  }
  onFlags(uid: number): void {
    (this.pendingFlags ??= new Set()).add(uid);
    this.updateDirty = true;
  }
  onKeywords(): void {
    /* announced at the next sync (FLAGS before the FETCH that uses them) */
  }
  onFolderGone(): void {
    this.gone = true;
    this.owner.folderGone();
  }
  onChangesDone(): void {
    this.owner.viewChanged();
  }

  get hasPending(): boolean {
    return this.pendingExpunge.length > 0 || this.hasNew || (this.pendingFlags !== null && this.pendingFlags.size > 0) || this.cache.keywords.length > this.kwAnnounced;
  }

  // ------------------------------------------------------------ lookups

  /** Message for a view index, or undefined if it was expunged (not yet announced). */
  msgAt(idx: number): Msg | undefined {
    if (this.uids === this.cache.uids) return this.cache.msgs[idx];
    return this.cache.get(this.uids[idx]);
  }

  /** A message of the view expunged by another session and not yet announced, as it was; undefined otherwise. */
  expungedMsg(uid: number): Msg | undefined {
    return this.expunged?.get(uid);
  }

  indexOfUid(uid: number): number {
    const i = lowerBound(this.uids, this.uids.length, uid);
    return i < this.uids.length && this.uids[i] === uid ? i : -1;
  }

  isRecent(uid: number): boolean {
    return (uid > this.recentLo && uid <= this.recentHi) || (this.recentExtra !== null && this.recentExtra.has(uid));
  }

  recentCount(): number {
    const u = this.uids;
    let n = 0;
    if (this.recentHi > this.recentLo) {
      n = lowerBound(u, u.length, this.recentHi + 1) - lowerBound(u, u.length, this.recentLo + 1);
    }
    if (this.recentExtra) for (const x of this.recentExtra) if (this.indexOfUid(x) >= 0 && !(x > this.recentLo && x <= this.recentHi)) n++;
    return n;
  }

  /** Every message of the view had its flags reported (a whole-view FETCH FLAGS): drops their pending announcements. */
  allFlagsReported(): void {
    const p = this.pendingFlags;
    if (!p) return;
    for (const u of p) if (this.indexOfUid(u) >= 0) p.delete(u);
  }

  /** Drops a pending flag announcement (the command itself reported the flags). */
  flagsReported(uid: number): void {
    this.pendingFlags?.delete(uid);
  }

  flagsLine(): string {
    return `* FLAGS (${SYSTEM_FLAGS.join(" ")}${this.cache.keywords.length ? " " + this.cache.keywords.join(" ") : ""})\r\n`;
  }

  permanentFlagsLine(): string {
    if (this.readOnly) return "* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n";
    return `* OK [PERMANENTFLAGS (${SYSTEM_FLAGS.join(" ")}${this.cache.keywords.length ? " " + this.cache.keywords.join(" ") : ""} \\*)] Flags permitted.\r\n`;
  }

  /** The FLAGS announcement is current (after SELECT). */
  markKeywordsAnnounced(): void {
    this.kwAnnounced = this.cache.keywords.length;
  }

  /** New keywords must be announced with FLAGS before a FETCH uses them (imaptest checks this). */
  keywordsLines(): string {
    if (this.cache.keywords.length <= this.kwAnnounced) return "";
    this.kwAnnounced = this.cache.keywords.length;
    return this.flagsLine() + this.permanentFlagsLine();
  }

  // ------------------------------------------------------------ announcing

  /** Forgets expunged messages that are no longer in the client's view. */
  private dropAnnounced(): void {
    if (!this.expunged) return;
    for (const u of this.expunged.keys()) if (this.indexOfUid(u) < 0) this.expunged.delete(u);
    if (!this.expunged.size) this.expunged = null;
  }

  /**
   * Builds the untagged responses for pending changes and updates the view.
   * `fetchLine(idx, msg)` renders one FETCH FLAGS response.
   */
  sync(opt: SyncOptions, fetchLine: (seq: number, m: Msg) => string): string {
    let out = "";
    out += this.keywordsLines();
    const oldUids = this.uids;
    const cache = this.cache;
    let expungedIdx: number[] | null = null;
    if (this.pendingExpunge.length) {
      // which pending expunges are messages the client knows?
      const known: number[] = [];
      for (const u of this.pendingExpunge) {
        const i = lowerBound(oldUids, oldUids.length, u);
        if (i < oldUids.length && oldUids[i] === u) known.push(i);
      }
      if (opt.allowExpunge) {
        known.sort((a, b) => a - b);
        expungedIdx = known.filter((v, k) => k === 0 || known[k - 1] !== v);
        this.pendingExpunge = [];
      } else if (this.hasNew) {
        // keep unannounced expunged messages in the view; add the new ones after them
        if (known.length) {
          const merged = new Uint32Array(cache.uids.length + known.length);
          let i = 0;
          let j = 0;
          let k = 0;
          const keep = known.map((x) => oldUids[x]).sort((a, b) => a - b);
          const cu = cache.uids;
          while (i < cu.length || j < keep.length) {
            if (j >= keep.length || (i < cu.length && cu[i] < keep[j])) merged[k++] = cu[i++];
            else merged[k++] = keep[j++];
          }
          this.uids = merged;
        } else this.uids = cache.uids;
        this.pendingExpunge = this.pendingExpunge.filter((u) => this.indexOfUid(u) >= 0);
        this.dropAnnounced();
      }
    }
    if (expungedIdx) {
      if (expungedIdx.length) {
        if (opt.qresync) {
          out += `* VANISHED ${formatSet(expungedIdx.map((i) => oldUids[i]))}\r\n`;
        } else {
          // highest first: each number is valid against the view after the previous ones
          for (let k = expungedIdx.length - 1; k >= 0; k--) out += `* ${expungedIdx[k] + 1} EXPUNGE\r\n`;
        }
      }
      this.uids = cache.uids;
      this.dropAnnounced();
      if (this.recentExtra) for (const x of this.recentExtra) if (cache.indexOf(x) < 0) this.recentExtra.delete(x);
    } else if (this.hasNew && this.uids === oldUids) {
      this.uids = cache.uids;
    }
    if (this.hasNew) {
      this.hasNew = false;
      out += `* ${this.uids.length} EXISTS\r\n`;
      if (!opt.rev2) {
        out += `* ${this.recentCount()} RECENT\r\n`;
      }
    }
    if (this.pendingFlags && this.pendingFlags.size) {
      const list = [...this.pendingFlags].sort((a, b) => a - b);
      this.pendingFlags = null;
      for (const uid of list) {
        const i = this.indexOfUid(uid);
        if (i < 0) continue;
        const m = cache.get(uid);
        if (!m) continue;
        out += fetchLine(i + 1, m);
      }
    }
    return out;
  }

}

