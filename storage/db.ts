/**
 * Database access for the store: one small interface over two backends.
 *
 *  - `file:` URLs use libSQL's embedded engine directly (the `libsql` package
 *    that @libsql/client itself wraps for `file:`). Going one layer down buys a
 *    prepared-statement cache and raw row arrays: a 100,000-row folder listing
 *    is ~4x faster than through the client's row objects, and transactions
 *    stay on one connection whose pragmas we control.
 *  - `libsql://`, `http(s)://`, `ws(s)://` URLs use @libsql/client (remote;
 *    local pragmas skipped).
 *
 * Writes are serialized in-process and grouped: every `write()` queued while a
 * transaction runs joins the next one (group commit), each job in its own
 * SAVEPOINT so one failing job does not undo the others. Every job resolves
 * only after the COMMIT that contains it, and a durable job only once that
 * commit is on disk: the local backend commits with synchronous=NORMAL and
 * then fsyncs the WAL file from the thread pool (see `WalSync`), so the
 * event loop keeps serving reads while the disk works, and one fsync covers
 * every commit made before it started.
 * Other processes (the CLI while the server runs) are serialized by SQLite's
 * write lock: WAL + busy_timeout + BEGIN IMMEDIATE.
 */
import Database from "libsql";
import type { Client, InValue, Transaction } from "@libsql/client";

/** @libsql/client is only needed for remote databases: loaded then, not at every start. */
async function loadCreateClient(): Promise<typeof import("@libsql/client").createClient> {
  return (await import("@libsql/client")).createClient;
}
import { chmodSync, existsSync, mkdirSync, promises as fsp, statSync } from "node:fs";
import { dirname } from "node:path";
import { sqliteDialect, type Dialect } from "./dialect.ts";

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
  if (opts.driver === "client") return new RemoteDb(opts, await loadCreateClient());
  if (url.startsWith("file:") || url === ":memory:") return new LocalDb(opts);
  if (/^(libsql|https?|wss?):\/\//i.test(url)) return new RemoteDb(opts, await loadCreateClient());
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

/** Path of a `file:` URL (file:/abs, file:///abs, file:rel). */
export function filePathOfUrl(url: string): string {
  if (url === ":memory:") return ":memory:";
  let p = url.slice("file:".length);
  const q = p.indexOf("?");
  if (q >= 0) p = p.slice(0, q);
  if (p.startsWith("//")) p = p.slice(2); // file://<authority>/path: only empty/localhost allowed
  if (p.startsWith("localhost/")) p = p.slice("localhost".length);
  return decodeURIComponent(p);
}

// ----------------------------------------------------------- group commit core

interface Job {
  fn: (tx: Queryable) => Promise<unknown>;
  durable: boolean;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** Group commit over any engine's transactions (exported for storage/pg-db.ts). */
export abstract class GroupCommitter {
  private queue: Job[] = [];
  private running = false;
  private scheduled = false;
  protected closed = false;
  constructor(private maxGroup: number) {}

  write<T>(fn: (tx: Queryable) => Promise<T>, opts?: { durable?: boolean }): Promise<T> {
    if (this.closed) return Promise.reject(new Error("database is closed"));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, durable: opts?.durable !== false, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  private schedule() {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    // setImmediate: let I/O completions of the same loop turn (other deliveries
    // whose blob fsync just finished) queue up and share this commit.
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private async drain() {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const jobs = this.queue.splice(0, this.maxGroup);
        await this.runGroup(jobs);
      }
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  private async runGroup(jobs: Job[]) {
    let tx: Queryable;
    try {
      tx = await this.begin(jobs.some((j) => j.durable));
    } catch (e) {
      for (const j of jobs) j.reject(e);
      return;
    }
    const outcomes: { ok: boolean; value: unknown }[] = [];
    const single = jobs.length === 1;
    for (const job of jobs) {
      if (single) {
        try {
          outcomes.push({ ok: true, value: await job.fn(tx) });
        } catch (e) {
          outcomes.push({ ok: false, value: e });
        }
        continue;
      }
      try {
        await tx.run("SAVEPOINT job");
      } catch (e) {
        outcomes.push({ ok: false, value: e });
        continue;
      }
      try {
        const value = await job.fn(tx);
        await tx.run("RELEASE job");
        outcomes.push({ ok: true, value });
      } catch (e) {
        try {
          await tx.run("ROLLBACK TO job");
          await tx.run("RELEASE job");
        } catch {
          // the transaction itself is gone; COMMIT below will fail and reject all
        }
        outcomes.push({ ok: false, value: e });
      }
    }
    if (single && !outcomes[0].ok) {
      await this.rollback();
      jobs[0].reject(outcomes[0].value);
      return;
    }
    try {
      await this.commit();
    } catch (e) {
      await this.rollback();
      for (let i = 0; i < jobs.length; i++) {
        if (outcomes[i].ok) jobs[i].reject(e);
        else jobs[i].reject(outcomes[i].value);
      }
      return;
    }
    const settle = () => {
      for (let i = 0; i < jobs.length; i++) {
        if (outcomes[i].ok) jobs[i].resolve(outcomes[i].value);
        else jobs[i].reject(outcomes[i].value);
      }
    };
    const barrier = jobs.some((j, i) => j.durable && outcomes[i].ok) ? this.durableBarrier() : null;
    if (!barrier) return settle();
    // Not awaited: the next group may run while this one's fsync is in flight;
    // its jobs are answered only when the data is on disk.
    barrier.then(settle, (e) => {
      // Committed but not known to be durable: the caller must not acknowledge.
      for (const j of jobs) j.reject(e);
    });
  }

  /** Resolves once every commit made so far is on stable storage (null/none: commit itself was durable). */
  protected durableBarrier(): Promise<void> | null {
    return null;
  }

  /** Starts the group's transaction; `durable` is false when no job in it asked for durability. */
  protected abstract begin(durable: boolean): Promise<Queryable>;
  protected abstract commit(): Promise<void>;
  protected abstract rollback(): Promise<void>;

  /** A write job is queued or running (a checkpoint now would only slow it). */
  protected busyWriting(): boolean {
    return this.running || this.scheduled || this.queue.length > 0;
  }

  protected async waitIdle() {
    while (this.running || this.scheduled || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Makes WAL commits durable without blocking the event loop. With
 * synchronous=NORMAL SQLite writes each commit's frames to the -wal file but
 * does not fsync it (it does at checkpoints, before copying frames into the
 * database, so the file is never corrupt). An fdatasync of the -wal file
 * from the thread pool then puts every commit written before it on disk:
 * WAL recovery keeps exactly the transactions whose commit frame is intact
 * (sqlite.org/wal.html, "WAL file format": frames are checksummed and
 * salted), so a power loss can drop only commits not yet covered by a
 * finished sync, and those were not acknowledged. Concurrent callers share
 * syncs: a caller arriving while one runs waits for the next, which starts
 * when the running one ends and covers everyone who arrived meanwhile.
 */
export class WalSync {
  /** fsyncs done so far (tests, metrics). */
  syncs = 0;
  private handle: fsp.FileHandle | null = null;
  private ino = -1;
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  constructor(private readonly walPath: string) {}

  barrier(): Promise<void> {
    if (!this.running) return this.start();
    this.queued ??= this.running.then(
      () => this.afterRunning(),
      () => this.afterRunning(),
    );
    return this.queued;
  }

  private afterRunning(): Promise<void> {
    this.queued = null;
    return this.start();
  }

  private start(): Promise<void> {
    const p = this.sync().finally(() => {
      if (this.running === p) this.running = null;
    });
    this.running = p;
    return p;
  }

  private async sync(): Promise<void> {
    // The -wal file keeps its inode while the database is open (restarts
    // rewrite it from the start, journal_size_limit truncates it); reopen if
    // something replaced it anyway.
    let path = this.walPath;
    let ino: number;
    try {
      ino = statSync(path).ino;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      // No -wal file: everything was checkpointed into the database file.
      path = this.walPath.slice(0, -"-wal".length);
      ino = statSync(path).ino;
    }
    if (!this.handle || ino !== this.ino) {
      await this.handle?.close().catch(() => {});
      this.handle = null;
      this.handle = await fsp.open(path, "r+");
      this.ino = ino;
    }
    await this.handle.datasync();
    this.syncs++;
  }

  async close(): Promise<void> {
    await this.running?.catch(() => {});
    await this.queued?.catch(() => {});
    await this.handle?.close().catch(() => {});
    this.handle = null;
  }
}

// ----------------------------------------------------------- local (embedded)

const WAL_AUTOCHECKPOINT_PAGES = 10_000;
/** A passive checkpoint once writes have paused this long. */
const IDLE_CHECKPOINT_MS = 2_000;

type LibsqlDatabase = InstanceType<typeof Database>;
/** The part of libsql's (better-sqlite3-style) statement we use. */
interface LibsqlStatement {
  raw(toggle?: boolean): LibsqlStatement;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
}

class Conn implements Queryable {
  private cache = new Map<string, LibsqlStatement>();
  constructor(readonly db: LibsqlDatabase) {}
  private stmt(sql: string): LibsqlStatement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql) as unknown as LibsqlStatement;
      if (this.cache.size > 500) this.cache.clear();
      this.cache.set(sql, s);
    }
    return s;
  }
  /**
   * libsql finalizes a prepared statement only when it is garbage-collected, and a
   * connection with live statements stays open after close(): drop ours first.
   */
  dispose() {
    this.cache.clear();
  }
  allSync<T>(sql: string, args: SqlValue[] = []): T[] {
    return this.stmt(sql).raw(false).all(...args) as T[];
  }
  rawSync(sql: string, args: SqlValue[] = []): unknown[][] {
    return this.stmt(sql).raw(true).all(...args) as unknown[][];
  }
  runSync(sql: string, args: SqlValue[] = []): RunResult {
    const r = this.stmt(sql).run(...args);
    return { changes: Number(r.changes), lastInsertRowid: Number(r.lastInsertRowid) };
  }
  async all<T = Row>(sql: string, args?: SqlValue[]): Promise<T[]> {
    return this.allSync<T>(sql, args);
  }
  async raw(sql: string, args?: SqlValue[]): Promise<unknown[][]> {
    return this.rawSync(sql, args);
  }
  async get<T = Row>(sql: string, args?: SqlValue[]): Promise<T | undefined> {
    return this.allSync<T>(sql, args)[0];
  }
  async run(sql: string, args?: SqlValue[]): Promise<RunResult> {
    return this.runSync(sql, args);
  }
}

class LocalDb extends GroupCommitter implements Db {
  readonly remote = false;
  readonly dialect: Dialect = sqliteDialect;
  private w: Conn;
  private r: Conn;
  private busyTimeout: number;
  private path: string;
  private walSync: WalSync | null;

  constructor(opts: OpenDbOptions) {
    super(opts.maxGroup ?? 256);
    const path = filePathOfUrl(opts.url);
    this.path = path;
    this.walSync = path === ":memory:" ? null : new WalSync(`${path}-wal`);
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.busyTimeout = opts.busyTimeoutMs ?? 10_000;
    const w = new Database(path);
    this.w = new Conn(w);
    this.pragmas(this.w, true);
    // A second connection for reads: it sees committed data only, never a
    // half-done transaction of the write connection.
    this.r = path === ":memory:" ? this.w : new Conn(new Database(path));
    if (this.r !== this.w) this.pragmas(this.r, false);
    if (path !== ":memory:") {
      // password hashes and DKIM private keys live here: owner-only (SQLite gives -wal/-shm the same mode)
      for (const f of [path, `${path}-wal`, `${path}-shm`]) {
        try {
          if (existsSync(f)) chmodSync(f, 0o600);
        } catch {
          // not the owner (e.g. a read-only admin run): leave the mode alone
        }
      }
    }
  }

  private pragmas(c: Conn, writer: boolean) {
    c.db.exec(`PRAGMA busy_timeout = ${this.busyTimeout}`);
    if (writer) {
      // WAL: readers never block the writer; persistent in the file.
      const mode = c.db.prepare("PRAGMA journal_mode = WAL").raw(true).all() as unknown[][];
      void mode;
    }
    // NORMAL: COMMIT writes the WAL without an fsync; durable writes then
    // wait for WalSync's fsync from the thread pool before they resolve, so
    // an acknowledged message still survives power loss.
    c.db.exec(`PRAGMA synchronous = ${writer && this.walSync ? "NORMAL" : "FULL"}`);
    // after a checkpoint the WAL file is cut back to this size instead of staying at its peak
    c.db.exec("PRAGMA journal_size_limit = 67108864");
    if (writer) {
      // A checkpoint runs inside a COMMIT on the event loop (copying frames and
      // two fsyncs). Every 10,000 pages (~40 MB of WAL) instead of SQLite's
      // 1,000: hot pages (folder and account rows, index roots) are copied once
      // per checkpoint instead of ten times, and the loop stalls a tenth as
      // often (imaptest logout=0: ~7% less CPU per command). Quiet periods get
      // a passive checkpoint from `idleCheckpoint`, so the WAL does not stay long.
      c.db.exec(`PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    }
    c.db.exec("PRAGMA foreign_keys = ON");
  }

  all<T = Row>(sql: string, args?: SqlValue[]): Promise<T[]> {
    return this.r.all<T>(sql, args);
  }
  raw(sql: string, args?: SqlValue[]): Promise<unknown[][]> {
    return this.r.raw(sql, args);
  }
  get<T = Row>(sql: string, args?: SqlValue[]): Promise<T | undefined> {
    return this.r.get<T>(sql, args);
  }
  /** A lone statement outside write(): still serialized with the writer. */
  run(sql: string, args?: SqlValue[]): Promise<RunResult> {
    return this.write((tx) => tx.run(sql, args));
  }

  async integrityCheck(): Promise<string[]> {
    if (this.path === ":memory:") return (await this.w.raw("PRAGMA integrity_check")).map((r) => String(r[0]));
    const c = new Conn(new Database(this.path));
    try {
      c.db.exec(`PRAGMA busy_timeout = ${this.busyTimeout}`);
      return c.rawSync("PRAGMA integrity_check").map((r) => String(r[0]));
    } finally {
      c.dispose();
      c.db.close();
    }
  }

  protected override durableBarrier(): Promise<void> | null {
    return this.walSync?.barrier() ?? null;
  }

  protected async begin(): Promise<Queryable> {
    // BEGIN IMMEDIATE takes the write lock now, so reads inside the job (uidnext,
    // modseq) are the latest values across processes.
    for (let attempt = 0; ; attempt++) {
      try {
        this.w.db.exec("BEGIN IMMEDIATE");
        return this.w;
      } catch (e) {
        if (attempt < 20 && isBusy(e)) {
          await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
          continue;
        }
        throw e;
      }
    }
  }
  protected async commit(): Promise<void> {
    this.w.db.exec("COMMIT");
    this.armIdleCheckpoint();
  }

  private checkpointTimer: ReturnType<typeof setTimeout> | null = null;
  private lastCommitAt = 0;

  /** After writes pause, fold the WAL back into the database (PASSIVE: never waits for readers). */
  private armIdleCheckpoint(): void {
    this.lastCommitAt = Date.now();
    if (this.checkpointTimer || this.path === ":memory:") return;
    const fire = () => {
      this.checkpointTimer = null;
      if (this.closed) return;
      const quietFor = Date.now() - this.lastCommitAt;
      if (quietFor < IDLE_CHECKPOINT_MS || this.busyWriting()) {
        this.checkpointTimer = setTimeout(fire, Math.max(50, IDLE_CHECKPOINT_MS - quietFor));
        this.checkpointTimer.unref?.();
        return;
      }
      try {
        this.w.db.exec("PRAGMA wal_checkpoint(PASSIVE)");
      } catch {
        // busy with another process's transaction: the next commit re-arms
      }
    };
    this.checkpointTimer = setTimeout(fire, IDLE_CHECKPOINT_MS);
    this.checkpointTimer.unref?.();
  }
  protected async rollback(): Promise<void> {
    try {
      if (this.w.db.inTransaction) this.w.db.exec("ROLLBACK");
    } catch {
      // nothing more to undo
    }
  }

  async close(): Promise<void> {
    await this.waitIdle();
    this.closed = true;
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
    await this.walSync?.close();
    this.w.dispose();
    this.r.dispose();
    try {
      this.w.db.close();
    } catch {
      // already closed
    }
    if (this.r !== this.w) {
      try {
        this.r.db.close();
      } catch {
        // already closed
      }
    }
  }
}

function isBusy(e: unknown): boolean {
  const code = (e as { code?: string } | null)?.code ?? "";
  return code.startsWith("SQLITE_BUSY") || /database is locked/i.test(String((e as Error)?.message));
}

// ----------------------------------------------------------- remote (libsql server)

class RemoteQ implements Queryable {
  constructor(private c: Client | Transaction) {}
  private async exec(sql: string, args: SqlValue[] = []) {
    return this.c.execute({ sql, args: args as InValue[] });
  }
  async all<T = Row>(sql: string, args?: SqlValue[]): Promise<T[]> {
    const rs = await this.exec(sql, args);
    return rs.rows.map((r) => {
      const o: Row = {};
      for (let i = 0; i < rs.columns.length; i++) o[rs.columns[i]] = normalize(r[i]);
      return o as T;
    });
  }
  async raw(sql: string, args?: SqlValue[]): Promise<unknown[][]> {
    const rs = await this.exec(sql, args);
    return rs.rows.map((r) => {
      const a: unknown[] = new Array(rs.columns.length);
      for (let i = 0; i < a.length; i++) a[i] = normalize(r[i]);
      return a;
    });
  }
  async get<T = Row>(sql: string, args?: SqlValue[]): Promise<T | undefined> {
    return (await this.all<T>(sql, args))[0];
  }
  async run(sql: string, args?: SqlValue[]): Promise<RunResult> {
    const rs = await this.exec(sql, args);
    return { changes: rs.rowsAffected, lastInsertRowid: Number(rs.lastInsertRowid ?? 0) };
  }
}

function normalize(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  return v;
}

class RemoteDb extends GroupCommitter implements Db {
  readonly remote: boolean;
  readonly dialect: Dialect = sqliteDialect;
  private client: Client;
  private q: RemoteQ;
  private tx: Transaction | null = null;
  constructor(opts: OpenDbOptions, createClient: typeof import("@libsql/client").createClient) {
    super(opts.maxGroup ?? 64);
    this.remote = !opts.url.startsWith("file:");
    this.client = createClient({
      url: opts.url,
      authToken: opts.authToken ?? undefined,
      intMode: "number",
      timeout: opts.busyTimeoutMs ?? 10_000,
    });
    this.q = new RemoteQ(this.client);
  }
  all<T = Row>(sql: string, args?: SqlValue[]): Promise<T[]> {
    return this.q.all<T>(sql, args);
  }
  raw(sql: string, args?: SqlValue[]): Promise<unknown[][]> {
    return this.q.raw(sql, args);
  }
  get<T = Row>(sql: string, args?: SqlValue[]): Promise<T | undefined> {
    return this.q.get<T>(sql, args);
  }
  run(sql: string, args?: SqlValue[]): Promise<RunResult> {
    return this.write((tx) => tx.run(sql, args));
  }
  async integrityCheck(): Promise<string[]> {
    return (await this.q.raw("PRAGMA integrity_check")).map((r) => String(r[0]));
  }
  protected async begin(): Promise<Queryable> {
    this.tx = await this.client.transaction("write");
    return new RemoteQ(this.tx);
  }
  protected async commit(): Promise<void> {
    const tx = this.tx;
    this.tx = null;
    if (tx) await tx.commit();
  }
  protected async rollback(): Promise<void> {
    const tx = this.tx;
    this.tx = null;
    if (tx) {
      try {
        await tx.rollback();
      } catch {
        // connection gone: the server rolls back on its own
      }
      tx.close();
    }
  }
  async close(): Promise<void> {
    await this.waitIdle();
    this.closed = true;
    this.client.close();
  }
}
