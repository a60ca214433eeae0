/**
 * Database access for the store: one small interface (`Db`, `Queryable`)
 * over three backends, each in its own file, and the only way SQL runs.
 *
 *  - `file:` URLs: libSQL's embedded engine directly (storage/db-sqlite.ts;
 *    the `libsql` package that @libsql/client itself wraps for `file:`).
 *    Going one layer down buys a prepared-statement cache and raw row
 *    arrays: a 100,000-row folder listing is ~4x faster than through the
 *    client's row objects, and transactions stay on one connection whose
 *    pragmas we control.
 *  - `libsql://`, `http(s)://`, `ws(s)://`: @libsql/client
 *    (storage/db-libsql-remote.ts; loaded only then; local pragmas skipped).
 *  - `postgres://`: storage/pg-db.ts (loaded only then).
 *
 * Each Db carries its engine's Dialect (storage/dialect.ts). Every
 * statement uses `?` placeholders.
 *
 * Writes are serialized in-process and grouped (storage/db-group-commit.ts):
 * every `write()` queued while a transaction runs joins the next one (group
 * commit), each job in its own
 * SAVEPOINT so one failing job does not undo the others. Every job resolves
 * only after the COMMIT that contains it, and a durable job only once that
 * commit is on disk: the local backend commits with synchronous=NORMAL and
 * then fsyncs the WAL file from the thread pool (see `WalSync`), so the
 * event loop keeps serving reads while the disk works, and one fsync covers
 * every commit made before it started.
 * Other processes (the CLI while the server runs) are serialized by SQLite's
 * write lock: WAL + busy_timeout + BEGIN IMMEDIATE.
 */
import { LocalDb } from "./db-sqlite.ts";
import type { Dialect } from "./dialect.ts";

export { GroupCommitter } from "./db-group-commit.ts";
export { WalSync, filePathOfUrl } from "./db-sqlite.ts";

export type SqlValue = string | number | bigint | null | Uint8Array;
export type Row = Record<string, unknown>;
export interface Stmt {
  sql: string;
  args?: SqlValue[];
}
export interface RunResult {
  changes: number;
  lastInsertRowid: number;
}

/** What a job can do inside a transaction, and what reads can do outside one. */
export interface Queryable {
  all<T = Row>(sql: string, args?: SqlValue[]): Promise<T[]>;
  /** Rows as arrays in column order (no per-row objects: the fast path). */
  raw(sql: string, args?: SqlValue[]): Promise<unknown[][]>;
  get<T = Row>(sql: string, args?: SqlValue[]): Promise<T | undefined>;
  run(sql: string, args?: SqlValue[]): Promise<RunResult>;
}

export interface Db extends Queryable {
  readonly remote: boolean;
  /** What differs between engines (storage/dialect.ts); every statement the store writes goes through it or is portable. */
  readonly dialect: Dialect;
  /**
   * Runs `fn` inside a write transaction (group-committed). Resolves after
   * COMMIT. `durable: false` (flag changes and similar) skips the fsync of
   * this commit: the change is safe against a process crash at once and
   * against power loss from the next durable commit on (the WAL is
   * sequential), like Dovecot's mail_fsync=optimized. A group with any
   * durable job is fsynced.
   */
  write<T>(fn: (tx: Queryable) => Promise<T>, opts?: { durable?: boolean }): Promise<T>;
  /** PRAGMA integrity_check (on a fresh connection locally: FTS5 checks against a long-lived reader's cached structure misreport). */
  integrityCheck(): Promise<string[]>;
  close(): Promise<void>;
}

export interface OpenDbOptions {
  url: string;
  authToken?: string | null;
  /** Busy timeout for local files, ms. */
  busyTimeoutMs?: number;
  /** Upper bound of jobs in one group commit. */
  maxGroup?: number;
  /** "client" forces @libsql/client even for `file:` (tests use it to exercise the remote code path). */
  driver?: "native" | "client";
}

export async function openDb(opts: OpenDbOptions): Promise<Db> {
  const url = opts.url;
  // @libsql/client is only needed for remote databases: loaded then, not at every start
  if (opts.driver === "client") return (await import("./db-libsql-remote.ts")).openRemoteDb(opts);
  if (url.startsWith("file:") || url === ":memory:") return new LocalDb(opts);
  if (/^(libsql|https?|wss?):\/\//i.test(url)) return (await import("./db-libsql-remote.ts")).openRemoteDb(opts);
  // PostgreSQL (storage/pg-db.ts): loaded only when used, so SQLite installs never load the driver
  if (/^postgres(ql)?:\/\//i.test(url)) return (await import("./pg-db.ts")).openPgDb(opts);
  throw new Error(`unsupported database URL scheme: ${url.split(":")[0]}`);
}

/** A database URL without its password, for logs and error messages (postgres://user:***@host/db). */
export function redactDbUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password) return url;
    u.password = "***";
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
  }
}
