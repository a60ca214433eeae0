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

/** The store methods POP3 uses (unit tests pass a small in-memory fake). */
export type Pop3Store = Pick<
  MailStore,
  "getAccountById" | "getFolder" | "listFolders" | "createFolder" | "listMessages" | "getMessages" | "readMessage" | "expunge" | "move" | "storeFlags"
> & { blobs: Pick<MailStore["blobs"], "stream"> };

/** Messages at or below this stored size are read in one call; larger ones are streamed. */
export const WHOLE_READ_LIMIT = 1024 * 1024;
/** Parallel reads while measuring sizes at login. */
const SCAN_CONCURRENCY = 16;

export interface DropMessage {
  id: number;
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

  static async open(store: Pop3Store, accountId: number, sizes: SizeCache, log?: Logger): Promise<Maildrop | null> {
    const folder = await store.getFolder(accountId, "INBOX");
    if (!folder) return null;
    const list = await store.listMessages(folder.id);
    const drop = new Maildrop(
      store,
      accountId,
      folder,
      list.map((s) => ({ id: s.id, uid: s.uid, storedSize: s.size, size: s.size, measured: false, seen: s.flags.includes("\\Seen"), deleted: false, retrieved: false })),
    );
    await drop.measure(list, sizes, log);
    return drop;
  }

  /** Fills in wire sizes from the cache, reading only messages not measured before. */
  private async measure(list: MessageSummary[], sizes: SizeCache, log?: Logger): Promise<void> {
    let rec: SizeRecord | null = null;
    try {
      rec = await sizes.load(this.accountId);
    } catch (err) {
      log?.warn("pop3 size cache unreadable", { err });
    }
    // (folder, UIDVALIDITY, UID) names one immutable message; anything else is another mailbox.
    if (rec && (rec.uidValidity !== this.folder.uidValidity || rec.folderId !== this.folder.id)) rec = null;
    const known = rec?.scannedThrough ?? 0;
    const deltas: Record<string, number> = {};
    const todo: DropMessage[] = [];
    for (const m of this.messages) {
      if (m.uid <= known) {
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
    const last = this.messages.length ? this.messages[this.messages.length - 1]!.uid : known;
    try {
      await sizes.save(this.accountId, {
        folderId: this.folder.id,
        uidValidity: this.folder.uidValidity,
        // A failed read leaves the watermark where it was so the message is measured next time.
        scannedThrough: failed ? known : Math.max(known, last),
        deltas,
      });
    } catch (err) {
      log?.warn("pop3 size cache not written", { err });
    }
  }

  /** A small message in one read. */
  readWhole(m: DropMessage): Promise<Uint8Array> {
    return this.store.readMessage(m.id);
  }

  /** The stored message as chunks: one read for small messages, a blob stream for large ones. */
  async *chunks(m: DropMessage): AsyncGenerator<Uint8Array> {
    if (m.storedSize <= WHOLE_READ_LIMIT) {
      yield await this.readWhole(m);
      return;
    }
    const [idx] = await this.store.getMessages(this.folder.id, [m.uid]);
    if (!idx) throw new Error(`message uid ${m.uid} no longer exists`);
    const reader = this.store.blobs.stream(idx.blobId).getReader();
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
    const folders = await this.store.listFolders(this.accountId);
    const trash = folders.find((f) => f.specialUse === "\\Trash") ?? folders.find((f) => f.name.toLowerCase() === "trash");
    return trash ?? (await this.store.createFolder(this.accountId, "Trash", { specialUse: "\\Trash" }));
  }
}
