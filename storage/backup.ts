/**
 * The storage side of backups (`pillarbox backup / restore / verify`,
 * `check --blobs`): a consistent snapshot of the database by the engine's own
 * mechanism, the blob ids a database references (in pages, so a store of a
 * million messages never sits in memory), and a hold that keeps the blob
 * garbage collector away while a backup copies blobs.
 *
 * Only SQLite on a local file can be snapshotted here: `VACUUM INTO` is
 * SQLite's online backup of a live database (sqlite.org/lang_vacuum.html
 * "VACUUM INTO"): it runs as one read transaction, so it sees exactly the
 * commits made before it started, never blocks writers (WAL), and writes a
 * complete, compact, self-contained database file (rollback-journal mode, no
 * -wal to carry along). PostgreSQL has pg_dump for the same job
 * (storage/backup-pg.ts), and a remote
 * libSQL server has its own snapshots (refused in words).
 */
import Database from "libsql";
import { existsSync, promises as fsp, statSync, utimesSync, writeFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { BlobStore } from "./api.ts";
import { BLOB_REFERENCES } from "./blob-gc.ts";
import { FsBlobStore } from "./blobstore.ts";
import type { Db, Queryable } from "./db.ts";
import { filePathOfUrl } from "./db-sqlite.ts";

/** A snapshot this engine cannot take (PostgreSQL, remote libSQL): the message says what to do instead. */
export class SnapshotUnsupportedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SnapshotUnsupportedError";
  }
}

/** Why the database at `url` cannot be snapshotted by us, or null when it can. */
export function snapshotUnsupported(url: string): string | null {
  // PostgreSQL is dumped by its own pg_dump instead (storage/backup-pg.ts, src/backup/postgres.ts)
  if (/^postgres(ql)?:\/\//i.test(url)) return "the database is PostgreSQL: it is backed up with pg_dump, not VACUUM INTO";
  if (!url.startsWith("file:")) return "the database is a remote libSQL server: use its own snapshots, then copy the data dir's blobs/ directory after the snapshot (see docs/OPERATIONS.md, \"Backup\")";
  if (filePathOfUrl(url) === ":memory:") return "the database is in memory: nothing to back up";
  return null;
}

/**
 * Writes a consistent copy of the live database at `url` to `dest` (which
 * must not exist) with `VACUUM INTO` on a connection of its own (it cannot
 * run inside the group-committed transactions of a Db), then fsyncs it.
 * Safe while the server runs and mail arrives: one read transaction, writers
 * go on meanwhile (WAL).
 */
export async function snapshotDatabase(url: string, dest: string, busyTimeoutMs = 10_000): Promise<void> {
  const why = snapshotUnsupported(url);
  if (why) throw new SnapshotUnsupportedError(why);
  const path = filePathOfUrl(url);
  if (!existsSync(path)) throw new Error(`database ${path} does not exist`);
  const conn = new Database(path);
  try {
    conn.exec(`PRAGMA busy_timeout = ${Math.floor(busyTimeoutMs)}`);
    // the file name is a bound value, never spliced into the statement
    conn.prepare("VACUUM INTO ?").run(dest);
  } finally {
    conn.close();
  }
  const fh = await fsp.open(dest, "r+");
  try {
    await fh.chmod(0o600);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** One SELECT of every referencing column, DISTINCT, in id order after a bound `?`, LIMIT bound. */
function referencedPageSql(): string {
  const union = BLOB_REFERENCES.map((r) => `SELECT ${r.column} AS id FROM ${r.table} WHERE ${r.column} IS NOT NULL`).join(" UNION ");
  return `SELECT id FROM (${union}) refs WHERE id > ? ORDER BY id LIMIT ?`;
}

/** Referenced blob ids of `q` in ascending order, `pageSize` per query (keyset paging: each page is one indexed range scan). */
export async function* referencedBlobIds(q: Queryable, pageSize = 1000): AsyncGenerator<string[]> {
  const sql = referencedPageSql();
  let after = "";
  for (;;) {
    const rows = await q.raw(sql, [after, pageSize]);
    if (!rows.length) return;
    const ids = rows.map((r) => String(r[0]));
    yield ids;
    after = ids[ids.length - 1]!;
    if (rows.length < pageSize) return;
  }
}

/** Counts shown in a backup's manifest and by `verify`. */
export interface SnapshotCounts {
  domains: number;
  accounts: number;
  messages: number;
  items: number;
  queued: number;
}

/**
 * A snapshot file (a backup's database) opened for reading only: its schema
 * version, counts, integrity and referenced blobs. Writes are refused
 * (PRAGMA query_only), so reading never changes the file.
 */
export class SnapshotReader implements Queryable {
  private readonly conn: InstanceType<typeof Database>;

  private constructor(readonly path: string) {
    this.conn = new Database(path);
    this.conn.exec("PRAGMA query_only = 1");
  }

  /** Opens `path`; throws in words when it is missing or not a database. */
  static open(path: string): SnapshotReader {
    if (!existsSync(path)) throw new Error(`database file ${path} is missing`);
    if (statSync(path).size < 512) throw new Error(`database file ${path} is truncated (${statSync(path).size} bytes)`);
    const r = new SnapshotReader(path);
    try {
      r.conn.prepare("SELECT count(*) FROM sqlite_master").raw(true).all();
    } catch (e) {
      r.close();
      throw new Error(`database file ${path} is not a readable SQLite database: ${(e as Error).message}`);
    }
    return r;
  }

  async all<T>(sql: string, args: unknown[] = []): Promise<T[]> {
    return this.conn.prepare(sql).raw(false).all(...args) as T[];
  }
  async raw(sql: string, args: unknown[] = []): Promise<unknown[][]> {
    return this.conn.prepare(sql).raw(true).all(...args) as unknown[][];
  }
  async get<T>(sql: string, args: unknown[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, args))[0];
  }
  async run(): Promise<never> {
    throw new Error("a backup's database is read only");
  }

  /** PRAGMA integrity_check: ["ok"] when sound, else SQLite's list of problems. */
  integrityCheck(): string[] {
    return (this.conn.prepare("PRAGMA integrity_check").raw(true).all() as unknown[][]).map((r) => String(r[0]));
  }

  /** Applied migration versions, ascending ([] when the table is missing: not a Pillarbox database). */
  schemaVersions(): number[] {
    try {
      return (this.conn.prepare("SELECT version FROM schema_migrations ORDER BY version").raw(true).all() as unknown[][]).map((r) => Number(r[0]));
    } catch {
      return [];
    }
  }

  counts(): SnapshotCounts {
    const one = (sql: string) => Number((this.conn.prepare(sql).raw(true).all() as unknown[][])[0]?.[0] ?? 0);
    return {
      domains: one("SELECT count(*) FROM domains"),
      accounts: one("SELECT count(*) FROM accounts"),
      messages: one("SELECT count(*) FROM items i JOIN folders f ON f.id = i.folder_id WHERE f.item_class = 'mail'"),
      items: one("SELECT count(*) FROM items"),
      queued: one("SELECT count(*) FROM queue"),
    };
  }

  /** The referenced blob ids in ascending order, a page at a time. */
  referencedBlobIds(pageSize = 1000): AsyncGenerator<string[]> {
    return referencedBlobIds(this, pageSize);
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}

/**
 * The hold a running backup puts on blob garbage collection: a marker file in
 * the blob store's root, its mtime refreshed while the backup runs.
 *
 * Why it is needed: the collector deletes a blob that no live row references
 * and whose file is older than the grace period (storage/blob-gc.ts). A
 * message expunged right after the snapshot is still referenced BY THE
 * SNAPSHOT, and its (old) file would be collectable before the backup has
 * copied it. With the hold taken before the snapshot starts, the collector's
 * delete step (under the write lock) sees it and deletes nothing, so every
 * blob present when the snapshot began is still there when it is copied.
 * A collector that passed its check before the hold existed only deletes
 * blobs that were unreferenced before the snapshot began, which the snapshot
 * then does not reference either.
 * A hold not refreshed for HOLD_STALE_MS (the backup process died) is ignored.
 */
export const BACKUP_HOLD_FILE = ".backup-hold";
export const HOLD_STALE_MS = 10 * 60 * 1000;
const HOLD_REFRESH_MS = 30 * 1000;

export interface BlobHold {
  release(): Promise<void>;
}

export async function holdBlobCollection(dataDir: string): Promise<BlobHold> {
  const root = join(dataDir, "blobs");
  await fsp.mkdir(root, { recursive: true, mode: 0o700 });
  const file = join(root, BACKUP_HOLD_FILE);
  writeFileSync(file, `${process.pid}\n`, { mode: 0o600 });
  const timer = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(file, now, now);
    } catch {
      // removed by hand: the backup goes on, the collector may run
    }
  }, HOLD_REFRESH_MS);
  (timer as { unref?: () => void }).unref?.();
  return {
    async release() {
      clearInterval(timer);
      try {
        unlinkSync(file);
      } catch {
        // already gone
      }
    },
  };
}

/** True while a backup holds blob collection on this store (only the file-system store has holds). */
export function blobCollectionHeld(blobs: BlobStore): boolean {
  if (!(blobs instanceof FsBlobStore)) return false;
  try {
    return Date.now() - statSync(join(blobs.root, BACKUP_HOLD_FILE)).mtimeMs < HOLD_STALE_MS;
  } catch {
    return false;
  }
}

/** Where a blob is used, for reports (check --blobs): a message's account, folder and UID. */
export interface BlobOwner {
  blobId: string;
  account: string;
  folder: string;
  uid: number;
}

/** The messages using `ids` (at most `limit` rows; one query). */
export async function blobOwners(db: Db, ids: readonly string[], limit = 50): Promise<BlobOwner[]> {
  if (!ids.length) return [];
  const rows = await db.raw(
    `SELECT i.blob_id, a.email, f.name, i.uid FROM items i JOIN folders f ON f.id = i.folder_id JOIN accounts a ON a.id = i.account_id
     WHERE i.blob_id IN (${db.dialect.textList()}) ORDER BY a.email, f.name, i.uid LIMIT ?`,
    [JSON.stringify(ids), limit],
  );
  return rows.map((r) => ({ blobId: String(r[0]), account: String(r[1]), folder: String(r[2]), uid: Number(r[3]) }));
}
