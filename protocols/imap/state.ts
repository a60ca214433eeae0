/**
 * Shared, event-fed mailbox state.
 *
 * One AccountHub per logged-in account subscribes once to `store.events`
 * and keeps a FolderCache per folder in use: the folder's messages (UID,
 * flags, modseq, size, date) in ascending UID order. Every session that has
 * the folder selected holds a reference to the cache's immutable UID
 * snapshot (so 5,000 idle sessions on one mailbox share one array) and gets
 * the changes forwarded in commit order; it announces them to its client
 * when the RFC allows (see view.ts).
 *
 * Events are applied strictly in the order the store published them (after
 * commit, RFC 7162 modseq order). New messages need their summary loaded,
 * so the queue is asynchronous; `idle()` waits until it is drained.
 */
import type { Folder, MailStore, MessageIndex, MessageSummary, StoreEvent } from "../../storage/api.ts";
import type { Logger } from "../../src/log.ts";
import { RenderedFlags } from "./flag-lines.ts";

// ---------------------------------------------------------------- flags

export const F_SEEN = 1;
export const F_ANSWERED = 2;
export const F_FLAGGED = 4;
export const F_DELETED = 8;
export const F_DRAFT = 16;

const SYS: Record<string, number> = {
  "\\seen": F_SEEN,
  "\\answered": F_ANSWERED,
  "\\flagged": F_FLAGGED,
  "\\deleted": F_DELETED,
  "\\draft": F_DRAFT,
};
export const SYSTEM_FLAGS = ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"];

/** An interned, immutable set of flags; most messages share a handful of these. */
export class FlagSet {
  readonly bits: number;
  /** Lower-case keywords for matching. */
  readonly kwLower: readonly string[];
  constructor(
    readonly list: readonly string[],
    /** Space-joined, as written inside "FLAGS (...)". */
    readonly str: string,
  ) {
    let bits = 0;
    const kw: string[] = [];
    for (const f of list) {
      const b = SYS[f.toLowerCase()];
      if (b) bits |= b;
      else if (f[0] !== "\\") kw.push(f.toLowerCase());
    }
    this.bits = bits;
    this.kwLower = kw;
  }
  hasKeyword(k: string): boolean {
    return this.kwLower.includes(k.toLowerCase());
  }
  keywords(): string[] {
    return this.list.filter((f) => f[0] !== "\\");
  }
  private wirePlain: Uint8Array | null = null;
  private wireRecent: Uint8Array | null = null;
  /**
   * `FLAGS (...)` as UTF-8 bytes, with `\Recent` first when `recent` (RFC 3501
   * §2.3.2): encoded once per interned set, so FETCH of the flags of a large
   * mailbox copies bytes instead of building strings (flag-lines.ts).
   */
  wire(recent: boolean): Uint8Array {
    if (recent) return (this.wireRecent ??= utf8.encode(`FLAGS (${this.str ? "\\Recent " + this.str : "\\Recent"})`));
    return (this.wirePlain ??= utf8.encode(`FLAGS (${this.str})`));
  }
}
const utf8 = new TextEncoder();

const flagSets = new Map<string, FlagSet>();
export function internFlags(flags: readonly string[]): FlagSet {
  const key = flags.join(" ");
  let fs = flagSets.get(key);
  if (!fs) {
    fs = new FlagSet(flags.slice(), key);
    // Bounded: an attacker setting random keywords cannot grow the table forever.
    if (flagSets.size < 50_000) flagSets.set(key, fs);
  }
  return fs;
}

// ---------------------------------------------------------------- messages

export class Msg {
  constructor(
    public uid: number,
    public id: number,
    public modseq: number,
    public flags: FlagSet,
    public date: number,
    public size: number,
  ) {}
}

/** The widest UID gap loadNew reads at once (a larger one is read as named; resync covers the rest). */
const LOAD_GAP_MAX = 2000;

function msgFrom(s: MessageSummary): Msg {
  return new Msg(s.uid, s.id, s.modseq, internFlags(s.flags), s.internalDate, s.size);
}

// ---------------------------------------------------------------- index cache

/** A small global LRU of full index rows (envelope, MIME tree), keyed by stable item id. */
export class IndexLru {
  private map = new Map<number, MessageIndex>();
  constructor(private max: number) {}
  get(id: number): MessageIndex | undefined {
    const v = this.map.get(id);
    if (v) {
      this.map.delete(id);
      this.map.set(id, v);
    }
    return v;
  }
  set(v: MessageIndex): void {
    this.map.delete(v.id);
    this.map.set(v.id, v);
    if (this.map.size > this.max) {
      const first = this.map.keys().next().value;
      if (first !== undefined) this.map.delete(first);
    }
  }
}

// ---------------------------------------------------------------- recent

/**
 * \Recent (IMAP4rev1 only; RFC 3501 §2.3.2): a message is recent in exactly
 * one session. The highest UID already given away per folder is kept by the
 * server for its life, in the lead process when there are several
 * (ctx.cluster.claimMax): a session in any process claims from the same
 * floor, so two processes never both give a message \Recent. UIDs above the
 * floor are still unclaimed.
 */
export interface RecentFloors {
  /** Raises the folder's floor to `uid`; resolves to the floor before (null: no session of this server saw the folder yet). */
  claim(folderId: number, uid: number): Promise<number | null>;
  /** The folder's floor, or null when no session of this server saw the folder yet. */
  peek(folderId: number): Promise<number | null>;
}

/** The floors behind `claimMax` (a single process's table when no cluster is given: tests). */
export function recentFloors(claimMax: (key: string, value: number | null) => Promise<number | null>): RecentFloors {
  return {
    claim: (folderId, uid) => claimMax(`imap.recent:${folderId}`, uid),
    peek: (folderId) => claimMax(`imap.recent:${folderId}`, null),
  };
}

function localFloors(): RecentFloors {
  const m = new Map<string, number>();
  return recentFloors(async (key, value) => {
    const prev = m.get(key) ?? null;
    if (value !== null) m.set(key, Math.max(prev ?? value, value));
    return prev;
  });
}

// ---------------------------------------------------------------- listeners

/** What a selected-mailbox view implements to hear about changes. */
export interface CacheListener {
  readonly readOnly: boolean;
  /** `m`: the message as it was, for sessions that still show it until they announce the EXPUNGE. */
  onExpunge(uid: number, m: Msg): void;
  onExists(uid: number, recent: boolean): void;
  onFlags(uid: number): void;
  onKeywords(): void;
  onFolderGone(): void;
  /** Called once after a batch of changes was forwarded. */
  onChangesDone(): void;
}

const EMPTY_UIDS = new Uint32Array(0);

export class FolderCache {
  /** Ascending UIDs; replaced (never mutated) when membership changes, so views can share it. */
  uids: Uint32Array = EMPTY_UIDS;
  msgs: Msg[] = [];
  keywords: string[] = [];
  private kwSet = new Set<string>();
  highestModseq = 0;
  uidNext = 1;
  uidValidity = 0;
  name = "";
  deleted = false;
  listeners = new Set<CacheListener>();
  lastUsed = Date.now();
  /**
   * Moves on every change of `uids`, `msgs` or a message's flags or modseq
   * (they are mutated in place): what is rendered from them (flag-lines.ts)
   * is valid only while it stays the same.
   */
  version = 0;

  private loading: Promise<void> | null = null;
  private loaded = false;
  private queue: (StoreEvent | "resync")[] = [];
  private running = false;
  private waiters: (() => void)[] = [];

  private recentFloor: RecentFloors;
  private indexCache: IndexLru;
  constructor(
    readonly folderId: number,
    readonly accountId: number,
    private store: MailStore,
    private log: Logger,
    shared: ImapShared,
  ) {
    this.recentFloor = shared.recentFloor;
    this.indexCache = shared.indexCache;
  }

  get count(): number {
    return this.uids.length;
  }

  /** Index of a UID in the cache, or -1. */
  indexOf(uid: number): number {
    const u = this.uids;
    let lo = 0;
    let hi = u.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (u[mid] < uid) lo = mid + 1;
      else hi = mid;
    }
    return lo < u.length && u[lo] === uid ? lo : -1;
  }

  get(uid: number): Msg | undefined {
    const i = this.indexOf(uid);
    return i < 0 ? undefined : this.msgs[i];
  }

  /**
   * Loads once (the hub's subscription is already active), then resolves when
   * all queued events are applied. `fresh` is a folder row just read from the
   * store: when its counters differ from ours, something changed that no event
   * told us (another process, folder properties), and we catch up.
   */
  async ready(fresh?: Folder): Promise<void> {
    this.lastUsed = Date.now();
    if (!this.loaded) {
      this.loading ??= this.load();
      await this.loading;
    } else if (fresh && (fresh.highestModseq !== this.highestModseq || fresh.uidNext !== this.uidNext)) {
      this.enqueue("resync");
    }
    await this.idle();
  }

  private async load(): Promise<void> {
    const f = await this.store.getFolderById(this.folderId);
    if (!f) {
      this.deleted = true;
      this.loaded = true;
      return;
    }
    const list = await this.store.listMessages(this.folderId);
    const n = list.length;
    const uids = new Uint32Array(n);
    const msgs = new Array<Msg>(n);
    let hms = f.highestModseq;
    for (let i = 0; i < n; i++) {
      const m = msgFrom(list[i]);
      uids[i] = m.uid;
      msgs[i] = m;
      if (m.modseq > hms) hms = m.modseq;
      this.noteKeywords(m.flags);
    }
    this.uids = uids;
    this.msgs = msgs;
    this.version++;
    this.highestModseq = hms;
    this.uidNext = Math.max(f.uidNext, n ? uids[n - 1] + 1 : 1);
    this.uidValidity = f.uidValidity;
    this.name = f.name;
    this.loaded = true;
    // Known from now on: STATUS RECENT counts from the floor, not every message (mailbox.ts folderStatusData).
    await this.recentFloor.claim(this.folderId, 0);
    this.kick();
  }

  private noteKeywords(fs: FlagSet): boolean {
    if (fs.kwLower.length === 0) return false;
    let added = false;
    const list = fs.list;
    for (const f of list) {
      if (f[0] === "\\") continue;
      const k = f.toLowerCase();
      if (!this.kwSet.has(k)) {
        this.kwSet.add(k);
        this.keywords.push(f);
        added = true;
      }
    }
    return added;
  }

  /** Registers keywords a session is about to use (so FLAGS is announced before they appear). */
  addKeywords(kws: string[]): boolean {
    let added = false;
    for (const f of kws) {
      const k = f.toLowerCase();
      if (!this.kwSet.has(k)) {
        this.kwSet.add(k);
        this.keywords.push(f);
        added = true;
      }
    }
    if (added) for (const l of this.listeners) l.onKeywords();
    return added;
  }

  enqueue(ev: StoreEvent | "resync"): void {
    // A resync still queued (not started) will read everything committed before this one.
    if (ev === "resync" && this.queue.length && this.queue[this.queue.length - 1] === "resync") {
      this.kick();
      return;
    }
    this.queue.push(ev);
    this.kick();
  }

  /** Resolves when no event is waiting to be applied. */
  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  private kick(): void {
    if (this.running || !this.loaded) return;
    if (this.queue.length === 0) {
      this.wake();
      return;
    }
    this.running = true;
    void this.run();
  }

  private wake(): void {
    const w = this.waiters;
    if (!w.length) return;
    this.waiters = [];
    for (const f of w) f();
  }

  private async run(): Promise<void> {
    try {
      while (this.queue.length) {
        const ev = this.queue[0];
        if (ev === "resync") {
          this.queue.shift();
          await this.resync();
        } else if (ev.type === "exists") {
          // batch consecutive exists events: one query
          const batch: number[] = [];
          while (this.queue.length) {
            const e = this.queue[0];
            if (e === "resync" || e.type !== "exists") break;
            this.queue.shift();
            if (this.indexOf(e.uid) < 0) batch.push(e.uid);
          }
          if (batch.length) await this.loadNew(batch);
        } else {
          this.queue.shift();
          this.applySync(ev);
        }
      }
    } catch (e) {
      this.log.warn("imap: folder cache update failed; resyncing", { folder: this.folderId, error: e as Error });
      this.queue.length = 0;
      try {
        await this.reload();
      } catch (e2) {
        this.log.error("imap: folder cache reload failed", { folder: this.folderId, error: e2 as Error });
      }
    } finally {
      this.running = false;
      if (this.queue.length) this.kick();
      else this.wake();
    }
  }

  private async loadNew(uids: number[]): Promise<void> {
    // New messages must take sequence numbers after every message a session was told of,
    // in UID order (RFC 9051 §2.3.1.1: UIDs ascend with sequence numbers). With several
    // processes (src/cluster/) the events of two commits can arrive in either order: a
    // message delivered here (UID 187) is heard of at once, one committed just before by
    // another process (UID 186) a moment later. UIDs are allocated in commit order, so
    // whatever committed UID lies between the last one known here and the newest is
    // already visible: load the whole gap, not only the UIDs the events named.
    let want = uids;
    const known = this.uids.length ? this.uids[this.uids.length - 1]! : 0;
    const top = uids.reduce((a, b) => (b > a ? b : a), 0);
    if (top - known > 1 && top - known <= LOAD_GAP_MAX) {
      want = [];
      for (let u = known + 1; u <= top; u++) want.push(u);
    }
    const rows = await this.store.getMessages(this.folderId, want);
    if (!rows.length) return;
    const add: Msg[] = [];
    for (const r of rows) {
      if (this.indexOf(r.uid) >= 0) continue;
      this.indexCache.set(r);
      add.push(msgFrom(r));
    }
    await this.insert(add);
  }

  /** Inserts messages (any order) and forwards EXISTS. */
  private async insert(add: Msg[]): Promise<void> {
    if (!add.length) return;
    add.sort((a, b) => a.uid - b.uid);
    // RFC 3501 §2.3.2: \Recent goes to exactly one session that has the mailbox selected
    // read-write. Claimed from the server-wide floor before anything changes here, so a
    // SELECT meanwhile claims from the same floor and never shares a message with us.
    let floor: number | null = null;
    if ([...this.listeners].some((l) => !l.readOnly)) floor = (await this.recentFloor.claim(this.folderId, add[add.length - 1]!.uid)) ?? 0;
    const old = this.uids;
    const n = old.length;
    const uids = new Uint32Array(n + add.length);
    let msgs: Msg[];
    if (n === 0 || add[0].uid > old[n - 1]) {
      uids.set(old, 0);
      for (let i = 0; i < add.length; i++) uids[n + i] = add[i].uid;
      msgs = this.msgs;
      for (const m of add) msgs.push(m);
    } else {
      msgs = new Array<Msg>(n + add.length);
      let i = 0;
      let j = 0;
      let k = 0;
      while (i < n || j < add.length) {
        if (j >= add.length || (i < n && old[i] < add[j].uid)) {
          uids[k] = old[i];
          msgs[k++] = this.msgs[i++];
        } else {
          uids[k] = add[j].uid;
          msgs[k++] = add[j++];
        }
      }
    }
    this.uids = uids;
    this.msgs = msgs;
    this.version++;
    let kwAdded = false;
    for (const m of add) {
      if (m.modseq > this.highestModseq) this.highestModseq = m.modseq;
      if (m.uid >= this.uidNext) this.uidNext = m.uid + 1;
      if (this.noteKeywords(m.flags)) kwAdded = true;
    }
    // RFC 3501 §2.3.2: \Recent goes to exactly one session that has the mailbox selected read-write.
    let owner: CacheListener | null = null;
    for (const l of this.listeners) {
      if (!l.readOnly) {
        owner = l;
        break;
      }
    }
    for (const l of this.listeners) {
      if (kwAdded) l.onKeywords();
      for (const m of add) {
        // Only what we claimed: a session that became the owner during the claim gets none (no one does).
        const recent = l === owner && floor !== null && m.uid > floor;
        l.onExists(m.uid, recent);
      }
    }
    for (const l of this.listeners) l.onChangesDone();
  }

  private applySync(ev: StoreEvent): void {
    if (ev.type === "flags") {
      const touched: number[] = [];
      let kwAdded = false;
      for (const u of ev.updates) {
        const i = this.indexOf(u.uid);
        if (i < 0) continue;
        const m = this.msgs[i];
        if (u.modseq < m.modseq) continue;
        const fs = internFlags(u.flags);
        this.version++;
        m.modseq = u.modseq;
        if (fs !== m.flags) {
          m.flags = fs;
          if (this.noteKeywords(fs)) kwAdded = true;
        }
        touched.push(u.uid);
        if (u.modseq > this.highestModseq) this.highestModseq = u.modseq;
      }
      if (!touched.length) return;
      for (const l of this.listeners) {
        if (kwAdded) l.onKeywords();
        for (const uid of touched) l.onFlags(uid);
        l.onChangesDone();
      }
    } else if (ev.type === "expunge") {
      if (ev.modseq > this.highestModseq) this.highestModseq = ev.modseq;
      this.remove(ev.uids);
    } else if (ev.type === "folder") {
      if (ev.change === "deleted") {
        this.deleted = true;
        for (const l of this.listeners) l.onFolderGone();
      } else if (ev.change === "renamed") {
        this.queue.push("resync");
      }
    }
  }

  private remove(uidsIn: number[]): void {
    const gone = new Map<number, Msg>();
    for (const u of uidsIn) {
      const i = this.indexOf(u);
      if (i >= 0) gone.set(u, this.msgs[i]);
    }
    if (!gone.size) return;
    const old = this.uids;
    const uids = new Uint32Array(old.length - gone.size);
    const msgs: Msg[] = new Array(old.length - gone.size);
    let k = 0;
    for (let i = 0; i < old.length; i++) {
      if (gone.has(old[i])) continue;
      uids[k] = old[i];
      msgs[k++] = this.msgs[i];
    }
    this.uids = uids;
    this.msgs = msgs;
    this.version++;
    const sorted = [...gone.keys()].sort((a, b) => a - b);
    for (const l of this.listeners) {
      for (const u of sorted) l.onExpunge(u, gone.get(u)!);
      l.onChangesDone();
    }
  }

  /** Catches up through the change log (RFC 7162 style), then refreshes the folder row. */
  private async resync(): Promise<void> {
    const f = await this.store.getFolderById(this.folderId);
    if (!f) {
      if (!this.deleted) {
        this.deleted = true;
        for (const l of this.listeners) l.onFolderGone();
      }
      return;
    }
    this.name = f.name;
    if (f.highestModseq === this.highestModseq && f.uidNext === this.uidNext) return;
    const ch = await this.store.changesSince(this.folderId, this.highestModseq);
    if (ch.expunged.length) this.remove(ch.expunged);
    const add: Msg[] = [];
    const touched: number[] = [];
    let kwAdded = false;
    for (const s of ch.changed) {
      const i = this.indexOf(s.uid);
      if (i < 0) {
        add.push(msgFrom(s));
        continue;
      }
      const m = this.msgs[i];
      if (s.modseq <= m.modseq) continue;
      this.version++;
      m.modseq = s.modseq;
      const fs = internFlags(s.flags);
      if (fs !== m.flags) {
        m.flags = fs;
        if (this.noteKeywords(fs)) kwAdded = true;
        touched.push(s.uid);
      }
    }
    // A message whose change number is below ours (another process's commit, heard of
    // out of order) is not in the change list: every UID above the last known one is.
    const known = this.uids.length ? this.uids[this.uids.length - 1]! : 0;
    const have = new Set(add.map((m) => m.uid));
    const gap: number[] = [];
    if (f.uidNext - 1 - known <= LOAD_GAP_MAX) for (let u = known + 1; u < f.uidNext; u++) if (!have.has(u)) gap.push(u);
    if (gap.length) for (const r of await this.store.getMessages(this.folderId, gap)) if (this.indexOf(r.uid) < 0) add.push(msgFrom(r));
    await this.insert(add);
    if (touched.length || kwAdded) {
      for (const l of this.listeners) {
        if (kwAdded) l.onKeywords();
        for (const u of touched) l.onFlags(u);
        l.onChangesDone();
      }
    }
    this.highestModseq = Math.max(this.highestModseq, ch.highestModseq, f.highestModseq);
    this.uidNext = Math.max(this.uidNext, f.uidNext);
  }

  private async reload(): Promise<void> {
    const f = await this.store.getFolderById(this.folderId);
    if (!f) {
      this.deleted = true;
      for (const l of this.listeners) l.onFolderGone();
      return;
    }
    const list = await this.store.listMessages(this.folderId);
    const have = new Set(list.map((s) => s.uid));
    const gone: number[] = [];
    for (const u of this.uids) if (!have.has(u)) gone.push(u);
    this.remove(gone);
    this.highestModseq = 0;
    const add: Msg[] = [];
    const touched: number[] = [];
    for (const s of list) {
      const i = this.indexOf(s.uid);
      if (i < 0) {
        add.push(msgFrom(s));
        continue;
      }
      const m = this.msgs[i];
      const fs = internFlags(s.flags);
      if (fs !== m.flags || s.modseq !== m.modseq) {
        this.version++;
        m.flags = fs;
        m.modseq = s.modseq;
        this.noteKeywords(fs);
        touched.push(s.uid);
      }
    }
    await this.insert(add);
    for (const l of this.listeners) {
      l.onKeywords();
      for (const u of touched) l.onFlags(u);
      l.onChangesDone();
    }
    for (const m of this.msgs) if (m.modseq > this.highestModseq) this.highestModseq = m.modseq;
    this.highestModseq = Math.max(this.highestModseq, f.highestModseq);
    this.uidNext = Math.max(this.uidNext, f.uidNext);
  }

  /** Count of messages above the recent floor (STATUS RECENT, EXAMINE). */
  async unclaimedRecent(): Promise<number> {
    const floor = (await this.recentFloor.peek(this.folderId)) ?? 0;
    const u = this.uids;
    let lo = 0;
    let hi = u.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (u[mid] <= floor) lo = mid + 1;
      else hi = mid;
    }
    return u.length - lo;
  }

  /** The unclaimed recent UID range (lo, hi] up to `top`, without claiming it. */
  async recentRange(top: number): Promise<[number, number]> {
    const floor = (await this.recentFloor.peek(this.folderId)) ?? 0;
    return [floor, Math.max(floor, top)];
  }

  /** Claims all unclaimed recent messages up to `top` for a read-write SELECT; returns the claimed UID range (lo, hi]. */
  async claimRecent(top: number): Promise<[number, number]> {
    const floor = (await this.recentFloor.claim(this.folderId, top)) ?? 0;
    return [floor, Math.max(floor, top)];
  }
}

// ---------------------------------------------------------------- account hub

/** Anything that wants all of an account's events (NOTIFY, LIST changes). */
export interface AccountListener {
  onAccountEvent(ev: StoreEvent): void;
}

const HUB_LINGER_MS = 5 * 60 * 1000;
/** Changes made by another process (the CLI) show up in LIST within this time. */
const FOLDER_LIST_TTL_MS = 30 * 1000;
const MAX_UNUSED_CACHES = 16;

export class AccountHub {
  private caches = new Map<number, FolderCache>();
  private unsub: (() => void) | null;
  refs = 0;
  private lingerTimer: ReturnType<typeof setTimeout> | null = null;
  listeners = new Set<AccountListener>();

  constructor(
    readonly accountId: number,
    private store: MailStore,
    private log: Logger,
    private shared: ImapShared,
  ) {
    this.unsub = store.events.subscribe(accountId, (ev) => this.onEvent(ev));
  }

  private folderList: Folder[] | null = null;
  private folderListAt = 0;
  private folderLoad: Promise<Folder[]> | null = null;

  /** The account's folders, cached; folder events (create, rename, delete, subscribe) drop the copy. */
  async folders(): Promise<Folder[]> {
    if (this.folderList && Date.now() - this.folderListAt < FOLDER_LIST_TTL_MS) return this.folderList;
    if (!this.folderLoad) {
      const gen = ++this.folderGen;
      // only mail folders are IMAP mailboxes (other classes live in their own name spaces)
      this.folderLoad = this.store.listFolders(this.accountId, { itemClass: "mail" }).then(
        (list) => {
          this.folderLoad = null;
          if (gen === this.folderGen) {
            this.folderList = list;
            this.folderListAt = Date.now();
          }
          return list;
        },
        (e) => {
          this.folderLoad = null;
          throw e;
        },
      );
    }
    return this.folderLoad;
  }
  private folderGen = 0;

  invalidateFolders(): void {
    this.folderList = null;
    this.folderGen++;
    this.folderLoad = null;
  }

  private onEvent(ev: StoreEvent): void {
    if (ev.type === "folder") this.invalidateFolders();
    const c = this.caches.get(ev.folderId);
    if (c) {
      c.enqueue(ev);
      if (ev.type === "folder" && ev.change === "deleted") this.caches.delete(ev.folderId);
    }
    for (const l of this.listeners) {
      try {
        l.onAccountEvent(ev);
      } catch (e) {
        this.log.warn("imap: account listener failed", { error: e as Error });
      }
    }
  }

  cache(folderId: number): FolderCache {
    let c = this.caches.get(folderId);
    if (!c) {
      c = new FolderCache(folderId, this.accountId, this.store, this.log, this.shared);
      this.caches.set(folderId, c);
      this.evict();
    }
    c.lastUsed = Date.now();
    return c;
  }

  /** Existing cache (only if loaded already), for cheap STATUS answers. */
  peek(folderId: number): FolderCache | undefined {
    return this.caches.get(folderId);
  }

  private evict(): void {
    const unused = [...this.caches.values()].filter((c) => c.listeners.size === 0);
    if (unused.length <= MAX_UNUSED_CACHES) return;
    unused.sort((a, b) => a.lastUsed - b.lastUsed);
    for (const c of unused.slice(0, unused.length - MAX_UNUSED_CACHES)) this.caches.delete(c.folderId);
  }

  acquire(): void {
    this.refs++;
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = null;
    }
  }

  release(): void {
    this.refs--;
    if (this.refs > 0) return;
    // Clients reconnect often (imaptest logs in and out constantly): keep the warm caches a while.
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = null;
      if (this.refs <= 0) this.dispose();
    }, HUB_LINGER_MS);
    (this.lingerTimer as { unref?: () => void }).unref?.();
  }

  dispose(): void {
    this.unsub?.();
    this.unsub = null;
    this.caches.clear();
    this.shared.hubs.delete(this.accountId);
  }
}

/** Raw message bytes by blob id, bounded by total size (repeated FETCH of the same small messages). */
export class ByteLru {
  private map = new Map<string, Uint8Array>();
  private total = 0;
  constructor(
    private maxBytes: number,
    readonly maxItem: number,
  ) {}
  get(k: string): Uint8Array | undefined {
    const v = this.map.get(k);
    if (v) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: string, v: Uint8Array): void {
    if (v.length > this.maxItem) return;
    const old = this.map.get(k);
    if (old) {
      this.total -= old.length;
      this.map.delete(k);
    }
    this.map.set(k, v);
    this.total += v.length;
    while (this.total > this.maxBytes) {
      const first = this.map.keys().next();
      if (first.done) break;
      this.total -= this.map.get(first.value)!.length;
      this.map.delete(first.value);
    }
  }
}

/** Per-store state: one server (or test) per store, never mixed. */
export class ImapShared {
  hubs = new Map<number, AccountHub>();
  indexCache = new IndexLru(2000);
  rawCache = new ByteLru(16 * 1024 * 1024, 1024 * 1024);
  /** Whole-mailbox UID/FLAGS answers (flag-lines.ts; capped at 24 MiB). */
  rendered = new RenderedFlags();
  constructor(
    readonly store: MailStore,
    readonly log: Logger,
    readonly recentFloor: RecentFloors = localFloors(),
  ) {}

  hub(accountId: number): AccountHub {
    let h = this.hubs.get(accountId);
    if (!h) {
      h = new AccountHub(accountId, this.store, this.log, this);
      this.hubs.set(accountId, h);
    }
    return h;
  }

  dispose(): void {
    for (const h of [...this.hubs.values()]) h.dispose();
    this.rendered.clear();
  }
}

const sharedByStore = new WeakMap<MailStore, ImapShared>();
export function sharedFor(store: MailStore, log: Logger, floors?: RecentFloors): ImapShared {
  let s = sharedByStore.get(store);
  if (!s) {
    s = new ImapShared(store, log, floors ?? localFloors());
    sharedByStore.set(store, s);
  }
  return s;
}
