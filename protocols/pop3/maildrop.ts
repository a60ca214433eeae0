/**
 * The POP3 maildrop: the account's INBOX, frozen at login.
 *
 * RFC 1939 §5: messages are numbered 1..n for the whole session and the
 * numbering never changes; deleted messages keep their number. We take one
 * `listMessages` snapshot at login; mail arriving later shows up at the next
 * login. DELE only marks (RFC 1939 §6: deletions happen in the UPDATE
 * state), and `commit` applies the marks in one store call at QUIT.
 */
import type { Folder, MailStore, MessageSummary } from "../../storage/api.ts";
import type { Logger } from "../../src/log.ts";
import type { SizeCache, SizeRecord } from "./sizes.ts";
import { WireSizeCounter } from "./wire.ts";
import type { RecordedSizes } from "./recorded-sizes.ts";

/** The store methods POP3 uses (unit tests pass a small in-memory fake). */
export type Pop3Store = Pick<
  MailStore,
  "getAccountById" | "getFolder" | "listFolders" | "createFolder" | "listMessages" | "crlfSizes" | "blobIdsByUid" | "readRange" | "expunge" | "move" | "storeFlags"
> & { blobs: Pick<MailStore["blobs"], "stream">; events: Pick<MailStore["events"], "subscribe"> };

/** Messages at or below this stored size are read in one call; larger ones are streamed. */
export const WHOLE_READ_LIMIT = 1024 * 1024;
/** Parallel reads while measuring sizes at login. */
const SCAN_CONCURRENCY = 16;
/**
 * Blob ids are looked up for this many consecutive messages at once: a
 * client retrieving the whole maildrop then costs one index query per
 * batch instead of one per RETR (RETR is a read of a file we know).
 */
const BLOB_ID_BATCH = 512;

export interface DropMessage {
  id: number;
  /** 0-based position in the maildrop (message number - 1). */
  pos: number;
  /** Where the stored message lives; looked up in batches on first read. */
  blobId?: string;
  /** Expunged by another session (IMAP) since login: RETR/TOP answer -ERR. */
  gone?: boolean;
  uid: number;
  /** Stored octets (RFC822.SIZE). */
  storedSize: number;
  /** Octets as RETR sends them (CRLF form, RFC 1939 §5). */
  size: number;
  /** `size` was measured (now or in an earlier session), not assumed. */
  measured: boolean;
  seen: boolean;
  deleted: boolean;
  retrieved: boolean;
}

export interface CommitOptions {
  /** AccountSettings.pop3LeaveOnServer: move deleted messages to \Trash instead of expunging. */
  leaveOnServer: boolean;
  /** RFC 2449 §6.7 EXPIRE 0: retrieved messages are removed at QUIT even without DELE. */
  expireRetrieved: boolean;
}

export interface CommitResult {
  removed: number;
  movedToTrash: boolean;
}

export class Maildrop {
  private constructor(
    private readonly store: Pop3Store,
    readonly accountId: number,
    readonly folder: Folder,
    readonly messages: DropMessage[],
  ) {}

  static async open(store: Pop3Store, accountId: number, sizes: SizeCache, log?: Logger, recorded?: RecordedSizes): Promise<Maildrop | null> {
    const folder = await store.getFolder(accountId, "INBOX");
    if (!folder) return null;
    const list = await store.listMessages(folder.id);
    const drop = new Maildrop(
      store,
      accountId,
      folder,
      list.map((s, pos) => ({ id: s.id, pos, uid: s.uid, storedSize: s.size, size: s.size, measured: false, seen: s.flags.includes("\\Seen"), deleted: false, retrieved: false })),
    );
    // Another session (IMAP) may expunge INBOX messages while we hold the
    // snapshot; their numbers stay (RFC 1939 §5) but they can no longer be read.
    drop.unsubscribe = store.events.subscribe(accountId, (ev) => {
      if (ev.type === "expunge" && ev.folderId === folder.id) drop.markGone(ev.uids);
    });
    try {
      await drop.measure(list, sizes, log, recorded);
    } catch (err) {
      drop.close();
      throw err;
    }
    return drop;
  }

  private unsubscribe: (() => void) | null = null;

  /** Stops following the store's events (the session ended). */
  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private markGone(uids: number[]): void {
    for (const uid of uids) {
      // The snapshot is in ascending UID order.
      let lo = 0;
      let hi = this.messages.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const u = this.messages[mid]!.uid;
        if (u === uid) {
          this.messages[mid]!.gone = true;
          break;
        }
        if (u < uid) lo = mid + 1;
        else hi = mid - 1;
      }
    }
  }

  /**
   * Fills in wire sizes: from the store (recorded at ingest), else from the
   * size cache, reading only messages stored before sizes were recorded and
   * not measured in an earlier session.
   */
  private async measure(list: MessageSummary[], sizes: SizeCache, log?: Logger, cache?: RecordedSizes): Promise<void> {
    const uids = list.map((s) => s.uid);
    // Sizes read at an earlier login stay true (see recorded-sizes.ts): no store query when all are known.
    const known = cache?.lookup(this.folder.id, this.folder.uidValidity, uids);
    if (known) {
      for (let i = 0; i < this.messages.length; i++) {
        const m = this.messages[i]!;
        m.size = known[i]!;
        m.measured = true;
      }
      return;
    }
    const recorded = await this.store.crlfSizes(this.folder.id);
    cache?.remember(this.folder.id, this.folder.uidValidity, uids, recorded);
    let unknown = 0;
    for (const m of this.messages) {
      const size = recorded.get(m.uid);
      if (size === undefined) unknown++;
      else {
        m.size = size;
        m.measured = true;
      }
    }
    if (unknown === 0) return;
    let rec: SizeRecord | null = null;
    try {
      rec = await sizes.load(this.accountId);
    } catch (err) {
      log?.warn("pop3 size cache unreadable", { err });
    }
    // (folder, UIDVALIDITY, UID) names one immutable message; anything else is another mailbox.
    if (rec && (rec.uidValidity !== this.folder.uidValidity || rec.folderId !== this.folder.id)) rec = null;
    const scanned = rec?.scannedThrough ?? 0;
    const deltas: Record<string, number> = {};
    const todo: DropMessage[] = [];
    for (const m of this.messages) {
      if (m.measured) continue;
      if (m.uid <= scanned) {
        const d = rec!.deltas[String(m.uid)] ?? 0;
        m.size = m.storedSize + d;
        m.measured = true;
        if (d !== 0) deltas[String(m.uid)] = d;
      } else todo.push(m);
    }
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (next < todo.length) {
        const m = todo[next++]!;
        try {
          const counter = new WireSizeCounter();
          for await (const chunk of this.chunks(m)) counter.push(chunk);
          m.size = counter.size;
          m.measured = true;
          if (m.size !== m.storedSize) deltas[String(m.uid)] = m.size - m.storedSize;
        } catch (err) {
          // Expunged by another session since the snapshot: RETR will say so.
          failed = true;
          log?.debug("pop3 size scan skipped a message", { uid: m.uid, err });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(SCAN_CONCURRENCY, todo.length) }, worker));
    const present = new Set(this.messages.map((m) => String(m.uid)));
    const stale = rec ? Object.keys(rec.deltas).some((k) => !present.has(k)) : false;
    if (todo.length === 0 && !stale) return;
    const last = this.messages.length ? this.messages[this.messages.length - 1]!.uid : scanned;
    try {
      await sizes.save(this.accountId, {
        folderId: this.folder.id,
        uidValidity: this.folder.uidValidity,
        // A failed read leaves the watermark where it was so the message is measured next time.
        scannedThrough: failed ? scanned : Math.max(scanned, last),
        deltas,
      });
    } catch (err) {
      log?.warn("pop3 size cache not written", { err });
    }
  }

  private blobBatches = new Map<number, Promise<void>>();

  /** The message's blob id; throws when it was expunged (over IMAP) since login. */
  private async blobIdOf(m: DropMessage): Promise<string> {
    if (m.gone) throw new Error(`message uid ${m.uid} was expunged`);
    if (m.blobId) return m.blobId;
    const k = Math.floor(m.pos / BLOB_ID_BATCH);
    let batch = this.blobBatches.get(k);
    if (!batch) {
      const from = this.messages[k * BLOB_ID_BATCH]!;
      const to = this.messages[Math.min(this.messages.length, (k + 1) * BLOB_ID_BATCH) - 1]!;
      batch = this.store.blobIdsByUid(this.folder.id, from.uid, to.uid).then((ids) => {
        for (let i = from.pos; i <= to.pos; i++) {
          const d = this.messages[i]!;
          d.blobId ??= ids.get(d.uid);
        }
      });
      this.blobBatches.set(k, batch);
      // Once settled the ids live on the messages; a later miss (expunged, or a failed query) asks again.
      void batch.then(
        () => this.blobBatches.delete(k),
        () => this.blobBatches.delete(k),
      );
    }
    await batch;
    if (!m.blobId) throw new Error(`message uid ${m.uid} no longer exists`);
    return m.blobId;
  }

  /** A small message in one read. */
  async readWhole(m: DropMessage): Promise<Uint8Array> {
    return this.store.readRange(await this.blobIdOf(m), 0, m.storedSize);
  }

  /** The stored message as chunks: one read for small messages, a blob stream for large ones. */
  async *chunks(m: DropMessage): AsyncGenerator<Uint8Array> {
    if (m.storedSize <= WHOLE_READ_LIMIT) {
      yield await this.readWhole(m);
      return;
    }
    const reader = this.store.blobs.stream(await this.blobIdOf(m)).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        if (value && value.length) yield value;
      }
    } finally {
      // Stopping early (TOP, closed connection) must release the file.
      await reader.cancel().catch(() => {});
    }
  }

  /** Message by 1-based number; null when out of range (RFC 1939 §5 "no such message"). */
  get(n: number): DropMessage | null {
    return n >= 1 && n <= this.messages.length ? this.messages[n - 1]! : null;
  }

  /** RFC 1939 §7 UIDL: stable across sessions; derived from UIDVALIDITY and UID, which never change while the message is in INBOX. */
  uidl(m: DropMessage): string {
    return `${this.folder.uidValidity}.${m.uid}`;
  }

  /** Messages not marked deleted and their total size (STAT, RFC 1939 §5). */
  stat(): { count: number; size: number } {
    let count = 0;
    let size = 0;
    for (const m of this.messages) {
      if (m.deleted) continue;
      count++;
      size += m.size;
    }
    return { count, size };
  }

  reset(): void {
    for (const m of this.messages) m.deleted = false;
  }

  /**
   * The UPDATE state (RFC 1939 §6): marks retrieved messages \Seen, then
   * removes every message marked deleted in one store call (atomic: all or
   * none), or moves them to \Trash under the leave-on-server policy.
   */
  async commit(opts: CommitOptions, log?: Logger): Promise<CommitResult> {
    const doomed = this.messages.filter((m) => m.deleted || (opts.expireRetrieved && m.retrieved)).map((m) => m.uid);
    const doomedSet = new Set(doomed);
    const seen = this.messages.filter((m) => m.retrieved && !m.seen && (opts.leaveOnServer || !doomedSet.has(m.uid))).map((m) => m.uid);
    if (seen.length) {
      try {
        await this.store.storeFlags(this.folder.id, seen, "add", ["\\Seen"], { silent: true });
      } catch (err) {
        // Cosmetic: the deletions below are what matters.
        log?.warn("pop3 could not set \\Seen", { err });
      }
    }
    if (doomed.length === 0) return { removed: 0, movedToTrash: false };
    if (opts.leaveOnServer) {
      const trash = await this.trashFolder();
      await this.store.move(this.folder.id, doomed, trash.id);
      return { removed: doomed.length, movedToTrash: true };
    }
    const removed = await this.store.expunge(this.folder.id, doomed);
    return { removed: removed.length, movedToTrash: false };
  }

  private async trashFolder(): Promise<Folder> {
    const folders = await this.store.listFolders(this.accountId, { itemClass: "mail" });
    const trash = folders.find((f) => f.specialUse === "\\Trash") ?? folders.find((f) => f.name.toLowerCase() === "trash");
    return trash ?? (await this.store.createFolder(this.accountId, "Trash", { specialUse: "\\Trash" }));
  }
}
