/**
 * The embedded SQLite engine (libSQL's `libsql` package, the one
 * @libsql/client wraps for `file:`) behind the Db interface: a
 * prepared-statement cache, raw row arrays, WAL with synchronous=NORMAL and
 * an fsync of the WAL per group commit (WalSync), BEGIN IMMEDIATE and a busy
 * timeout against other processes on the same file.
 */
import Database from "libsql";
import { chmodSync, existsSync, mkdirSync, promises as fsp, statSync } from "node:fs";
import { dirname } from "node:path";
import type { Db, OpenDbOptions, Queryable, Row, RunResult, SqlValue } from "./db.ts";
import { GroupCommitter } from "./db-group-commit.ts";
import { sqliteDialect, type Dialect } from "./dialect.ts";

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

const WAL_AUTOCHECKPOINT_PAGES = 10_000;
/** The write connection's own busy wait per attempt (see pragmas()). */
const WRITER_BUSY_SLICE_MS = 2;
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

export class LocalDb extends GroupCommitter implements Db {
  readonly remote = false;
  readonly dialect: Dialect = sqliteDialect;
  private w: Conn;
  private r: Conn;
  protected get reads(): Queryable {
    return this.r;
  }
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
    // The write connection waits for another process's write lock (the server's
    // other workers, an admin command) a few milliseconds at a time: SQLite's busy
    // handler sleeps on this thread, so a long timeout here would stall every
    // connection this process serves. begin() retries asynchronously instead,
    // up to the full busy timeout. Reads in WAL mode never wait for writers.
    c.db.exec(`PRAGMA busy_timeout = ${writer ? Math.min(this.busyTimeout, WRITER_BUSY_SLICE_MS) : this.busyTimeout}`);
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
    // modseq) are the latest values across processes. Several processes write to
    // one file (src/cluster/: the server's workers; admin commands): while one of
    // them holds the lock, wait here without blocking the event loop, in short
    // steps, since another process's group commit lasts about a millisecond.
    const deadline = Date.now() + this.busyTimeout;
    for (let attempt = 0; ; attempt++) {
      try {
        this.w.db.exec("BEGIN IMMEDIATE");
        return this.w;
      } catch (e) {
        if (isBusy(e) && Date.now() < deadline) {
          const step = Math.min(20, 1 << Math.min(attempt, 4));
          await new Promise((r) => setTimeout(r, step * (0.5 + Math.random())));
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
