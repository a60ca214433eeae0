/**
 * The core every part of the store shares: one database (`Db`), the blob
 * store, the event bus, the logger and the password hasher, plus the two
 * things every write needs — `tx()` (a group-committed write job whose
 * events are published only after its COMMIT) and `bump()` (the account's
 * change counter, the MODSEQ source of RFC 7162).
 *
 * The parts (directory.ts, folders.ts, ingest.ts, messages.ts, fulltext.ts,
 * text-search.ts, queue-store.ts, blob-gc.ts) each hold a reference to one
 * StoreCore; storage/store.ts assembles them behind the MailStore API.
 */
import { QuotaExceededError, StorageFullError, StoreError, type BlobStore, type PasswordHasher, type StoreEvent, type StoreLogger } from "./api.ts";
import type { Db, Queryable } from "./db.ts";
import type { Dialect } from "./dialect.ts";
import { InProcessEventBus } from "./events.ts";
import { num, type R } from "./rows.ts";

/** Events a write job collects; published after its commit. */
export type Events = StoreEvent[];

export class StoreCore {
  readonly events: InProcessEventBus;
  readonly dialect: Dialect;
  closed = false;

  constructor(
    readonly db: Db,
    readonly blobs: BlobStore,
    readonly hasher: PasswordHasher,
    readonly log?: StoreLogger,
  ) {
    this.events = new InProcessEventBus(log);
    this.dialect = db.dialect;
    const d = this.dialect;
    // built once: the same text each time keeps the driver's prepared-statement cache hot
    this.sql = {
      bump: `UPDATE accounts SET modseq = modseq + 1, used_bytes = ${d.greatest("0", "used_bytes + ?")}, message_count = ${d.greatest("0", "message_count + ?")} WHERE id = ? RETURNING modseq, used_bytes, quota_bytes`,
      stampFolder: `UPDATE folders SET highest_modseq = ${d.greatest("highest_modseq", "?")} WHERE id = ?`,
      allocUids: `UPDATE folders SET uidnext = uidnext + ?, highest_modseq = ${d.greatest("highest_modseq", "?")} WHERE id = ? RETURNING uidnext, uidvalidity, account_id`,
    };
  }

  private readonly sql: { bump: string; stampFolder: string; allocUids: string };

  /** Runs a write job; its events are published after the commit. */
  async tx<T>(fn: (tx: Queryable, ev: Events) => Promise<T>, opts?: { durable?: boolean }): Promise<T> {
    const ev: Events = [];
    let result: T;
    try {
      result = await this.db.write((tx) => {
        ev.length = 0; // a retried job starts clean
        return fn(tx, ev);
      }, opts);
    } catch (e) {
      // a full disk: a temporary failure for the protocols, never corruption
      if (this.dialect.isDiskFull(e)) throw new StorageFullError(`database: ${(e as Error).message}`);
      throw e;
    }
    for (const e of ev) this.events.publish(e);
    return result;
  }

  /**
   * Before a transaction bumps several accounts (a delivery to many
   * recipients): locks their rows in ascending id order, so two such
   * transactions in different processes never wait on each other in a
   * cycle (PostgreSQL; on SQLite the write transaction already excludes others).
   */
  async lockAccounts(tx: Queryable, accountIds: Iterable<number>, folderIds: Iterable<number> = []): Promise<void> {
    const ids = [...new Set(accountIds)];
    const folders = [...new Set(folderIds)]; // copies into folders by id (a Sent copy): their accounts too
    if (ids.length + folders.length < 2 || !this.dialect.forUpdate) return;
    const d = this.dialect;
    await tx.all(`SELECT id FROM accounts WHERE id IN (${d.intList()}) OR id IN (SELECT account_id FROM folders WHERE id IN (${d.intList()})) ORDER BY id${d.forUpdate}`, [
      JSON.stringify(ids),
      JSON.stringify(folders),
    ]);
  }

  /** Bumps the account's change counter (and usage); returns the new modseq. Quota enforced when growing. */
  async bump(tx: Queryable, accountId: number, deltaBytes = 0, deltaCount = 0): Promise<number> {
    const r = await tx.get<R>(this.sql.bump, [deltaBytes, deltaCount, accountId]);
    if (!r) throw new StoreError("NONEXISTENT", "no such account");
    if (deltaBytes > 0 && r.quota_bytes !== null && num(r.used_bytes) > num(r.quota_bytes)) throw new QuotaExceededError();
    return num(r.modseq);
  }

  /** Raises a folder's highest modseq to `modseq` (never lowers it). */
  async stampFolder(tx: Queryable, folderId: number, modseq: number): Promise<void> {
    await tx.run(this.sql.stampFolder, [modseq, folderId]);
  }

  /** Reserves `n` UIDs in a folder and stamps its highest modseq; returns the first UID. */
  async allocUids(tx: Queryable, folderId: number, n: number, modseq: number): Promise<{ first: number; uidValidity: number; accountId: number }> {
    const r = await tx.get<R>(this.sql.allocUids, [n, modseq, folderId]);
    if (!r) throw new StoreError("NONEXISTENT", "no such folder");
    return { first: num(r.uidnext) - n, uidValidity: num(r.uidvalidity), accountId: num(r.account_id) };
  }
}

/**
 * The hasher of a store opened without one (storage imports nothing of the
 * kernel, so it has none of its own): account passwords cannot be set or
 * checked, and saying so beats a silent default.
 */
export const missingHasher: PasswordHasher = {
  hash: () => Promise.reject(new StoreError("CANNOT", "no password hasher: pass one to openStorage() (src/auth.ts passwordHasher)")),
  verify: () => Promise.reject(new StoreError("CANNOT", "no password hasher: pass one to openStorage() (src/auth.ts passwordHasher)")),
  dummyHash: () => Promise.resolve(""),
};

/** Timers of the store never keep the process alive. */
export function unrefTimer<T>(t: T): T {
  (t as { unref?: () => void }).unref?.();
  return t;
}

/** An error's message for a log line. */
export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
