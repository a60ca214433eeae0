/**
 * PostgreSQL backend of the store's `Db` interface (storage/db.ts), over
 * postgres.js (the driver Drizzle's `postgres-js` adapter uses). Selected by
 * a `postgres://` or `postgresql://` database URL.
 *
 *  - Statements are written once for both engines with `?` placeholders;
 *    `toPositional` numbers them (`$1`, `$2`, ...) outside string literals,
 *    quoted identifiers and comments. What differs beyond that goes through
 *    the dialect (storage/dialect-pg.ts).
 *  - Values come back as the SQLite backend gives them: BIGINT and NUMERIC
 *    as JS numbers (ids, MODSEQs and millisecond times stay far below 2^53),
 *    booleans as 1/0, BYTEA as a Buffer (a Uint8Array).
 *  - Writes: one dedicated connection, jobs group-committed exactly as on
 *    SQLite (GroupCommitter: each job in a SAVEPOINT when several share a
 *    transaction, every job answered after the COMMIT that contains it).
 *    `synchronous_commit = on`: COMMIT returns once the WAL is flushed, so a
 *    resolved durable job survives power loss (with the server's fsync on).
 *  - Reads: a bounded pool of connections; a read sees committed data only.
 *  - `?schema=NAME` in the URL (ours, not libpq's) puts every table in that
 *    schema (created if missing; `public` stays on the search path for
 *    extensions such as pg_trgm). Tests use it to isolate runs.
 *
 * The URL may carry a password: it is never logged (see `redactDbUrl`).
 */
import postgres from "postgres";
export { redactDbUrl } from "./db.ts";
import { GroupCommitter, type Db, type OpenDbOptions, type Queryable, type Row, type RunResult, type SqlValue } from "./db.ts";
import { postgresDialect } from "./dialect-pg.ts";
import type { Dialect } from "./dialect.ts";

/** postgres.js's client type, whatever its generic parameters. */
type PgSql = postgres.Sql<Record<string, never>>;

/** Runs of a write job that lost a deadlock or serialization conflict (see PgDb.write). */
const WRITE_ATTEMPTS = 3;

/** Connections the read pool may open. */
const DEFAULT_READ_POOL = 8;

/**
 * `?` placeholders → `$1..$n`, skipping '...' and E'...' literals, "..."
 * identifiers, dollar-quoted strings, `--` and block comments. A `?`
 * immediately followed by `|`, `&` or another `?` is left alone (jsonb
 * operators); the store never writes those with placeholders beside them.
 */
export function toPositional(sql: string): string {
  if (!sql.includes("?")) return sql;
  let out = "";
  let n = 0;
  let i = 0;
  const len = sql.length;
  while (i < len) {
    const c = sql[i];
    if (c === "'") {
      const escaped = i > 0 && (sql[i - 1] === "E" || sql[i - 1] === "e") && !/[A-Za-z0-9_]/.test(sql[i - 2] ?? "");
      let j = i + 1;
      while (j < len) {
        if (escaped && sql[j] === "\\") {
          j += 2;
          continue;
        }
        if (sql[j] === "'") {
          if (sql[j + 1] === "'") {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === '"') {
      let j = sql.indexOf('"', i + 1);
      while (j >= 0 && sql[j + 1] === '"') j = sql.indexOf('"', j + 2);
      if (j < 0) j = len - 1;
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === "-" && sql[i + 1] === "-") {
      let j = sql.indexOf("\n", i);
      if (j < 0) j = len;
      out += sql.slice(i, j);
      i = j;
    } else if (c === "/" && sql[i + 1] === "*") {
      let j = sql.indexOf("*/", i + 2);
      j = j < 0 ? len : j + 2;
      out += sql.slice(i, j);
      i = j;
    } else if (c === "$" && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? "")) {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (m) {
        const close = sql.indexOf(m[0], i + m[0].length);
        const j = close < 0 ? len : close + m[0].length;
        out += sql.slice(i, j);
        i = j;
      } else {
        out += c;
        i++;
      }
    } else if (c === "?" && !/[|&?]/.test(sql[i + 1] ?? "")) {
      out += `$${++n}`;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const positionalCache = new Map<string, string>();
function positional(sql: string): string {
  let s = positionalCache.get(sql);
  if (s === undefined) {
    s = toPositional(sql);
    if (positionalCache.size > 2000) positionalCache.clear();
    positionalCache.set(sql, s);
  }
  return s;
}

/**
 * PostgreSQL's TEXT cannot hold U+0000 (the SQLite backend can). Such a
 * character only reaches the database in text derived from a message
 * (subjects, addresses, indexed text: the message itself is a blob on disk),
 * so it becomes U+FFFD instead of failing the delivery.
 */
function bindArgs(args: SqlValue[] | undefined): postgres.ParameterOrJSON<never>[] {
  if (!args || args.length === 0) return [];
  const out = new Array(args.length);
  for (let i = 0; i < args.length; i++) {
    const v = args[i];
    out[i] = typeof v === "string" && v.includes("\u0000") ? v.replace(/\u0000/g, "\uFFFD") : v;
  }
  return out;
}

/** One statement runner over a pool or the write connection. */
class PgQ implements Queryable {
  /** `guard` runs before every statement (the write connection's "still the same session" check). */
  constructor(
    private readonly s: PgSql,
    private readonly guard: () => void = () => {},
  ) {}
  async all<T = Row>(sql: string, args?: SqlValue[]): Promise<T[]> {
    this.guard();
    // a plain array: the driver's result list also carries its statement, columns and connection state
    return Array.from(await this.s.unsafe(positional(sql), bindArgs(args))) as unknown as T[];
  }
  async raw(sql: string, args?: SqlValue[]): Promise<unknown[][]> {
    this.guard();
    return Array.from(await this.s.unsafe(positional(sql), bindArgs(args)).values()) as unknown as unknown[][];
  }
  async get<T = Row>(sql: string, args?: SqlValue[]): Promise<T | undefined> {
    return (await this.all<T>(sql, args))[0];
  }
  async run(sql: string, args?: SqlValue[]): Promise<RunResult> {
    this.guard();
    const r = await this.s.unsafe(positional(sql), bindArgs(args));
    // PostgreSQL has no "last insert rowid": statements that need a new id use RETURNING.
    return { changes: r.count ?? 0, lastInsertRowid: 0 };
  }
}

/** A schema name we put in SQL ourselves: letters, digits, underscore. */
function checkSchemaName(s: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(s)) throw new Error(`invalid schema name in database URL: ${JSON.stringify(s)}`);
  return s;
}

/** Splits our own `schema` parameter off the URL (libpq does not know it). */
export function splitSchema(url: string): { url: string; schema: string | null } {
  const q = url.indexOf("?");
  if (q < 0) return { url, schema: null };
  const params = new URLSearchParams(url.slice(q + 1));
  const schema = params.get("schema");
  if (schema === null) return { url, schema: null };
  params.delete("schema");
  const rest = params.toString();
  return { url: url.slice(0, q) + (rest ? `?${rest}` : ""), schema: checkSchemaName(schema) };
}

function connect(url: string, schema: string | null, max: number, writer?: { onclose: () => void }): PgSql {
  const connection: Record<string, string> = { application_name: "pillarbox", synchronous_commit: "on" };
  if (schema) connection.search_path = `${schema}, public`;
  return postgres(url, {
    max,
    onclose: writer?.onclose,
    // the driver recycles a connection after 30-60 minutes even between two statements of
    // an open transaction: never for the write connection (readers hold no transaction)
    ...(writer ? { max_lifetime: 0 } : {}),
    prepare: true,
    onnotice: () => {}, // "relation already exists, skipping" and similar
    connection,
    types: {
      // BIGINT (COUNT, SUM of integers, every integer column) and NUMERIC as JS numbers, like SQLite's INTEGER
      bigint: { to: 20, from: [20, 1700], serialize: (x: number | bigint) => String(x), parse: (x: string) => Number(x) },
      // JSON parameters arrive already serialized (the SQLite side binds the same text to json_each);
      // the driver would encode the string once more into a JSON string scalar
      json: { to: 114, from: [114, 3802], serialize: (x: unknown) => (typeof x === "string" ? x : JSON.stringify(x)), parse: (x: string) => x },
      // booleans (comparisons, EXISTS) as 1/0, like SQLite
      bool: { to: 16, from: [16], serialize: (x: unknown) => (x ? "t" : "f"), parse: (x: string) => (x === "t" ? 1 : 0) },
    },
  }) as unknown as PgSql;
}

export class PgDb extends GroupCommitter implements Db {
  readonly remote = true;
  readonly dialect: Dialect = postgresDialect;
  private readonly reader: PgSql;
  private readonly writer: PgSql;
  private readonly r: PgQ;
  protected get reads(): Queryable {
    return this.r;
  }
  private readonly w: PgQ;
  private readonly schema: string | null;
  private ready: Promise<void> | null = null;

  constructor(opts: OpenDbOptions & { readPool?: number }) {
    super(opts.maxGroup ?? 256);
    const { url, schema } = splitSchema(opts.url);
    this.schema = schema;
    this.reader = connect(url, schema, Math.max(1, opts.readPool ?? DEFAULT_READ_POOL));
    // one connection: writes are serialized in-process (group commit), like the SQLite backend
    this.writer = connect(url, schema, 1, { onclose: () => this.writerSession++ });
    this.r = new PgQ(this.reader);
    this.w = new PgQ(this.writer, () => this.checkSession());
  }

  /**
   * The write connection's session, counted up each time it closes. The driver
   * reconnects by itself on the next statement, and a statement sent on the
   * new session would run outside the transaction (committed at once) while
   * the server rolled back what came before it: so inside a transaction every
   * statement first checks the session is still the one that ran BEGIN, and
   * the job fails instead (the server has rolled it back).
   */
  private writerSession = 0;
  private txSession: number | null = null;

  private checkSession(): void {
    if (this.txSession !== null && this.txSession !== this.writerSession) {
      throw new Error("the connection to PostgreSQL was lost during a transaction (the server rolled it back)");
    }
  }

  /** Connects, and creates the URL's schema if it has one. Rejects with the URL redacted. */
  init(): Promise<void> {
    this.ready ??= (async () => {
      try {
        if (this.schema) {
          try {
            await this.writer.unsafe(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
          } catch (e) {
            // another opener created it at the same moment (IF NOT EXISTS is not atomic)
            const exists = await this.writer.unsafe("SELECT 1 FROM pg_namespace WHERE nspname = $1", [this.schema]);
            if (exists.length === 0) throw e;
          }
        } else await this.writer.unsafe("SELECT 1");
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        throw new Error(`cannot open PostgreSQL database: ${msg}`);
      }
    })();
    return this.ready;
  }

  /**
   * A job that lost a deadlock or a serialization conflict to another
   * process's transaction (SQLSTATE 40P01, 40001) was rolled back alone (its
   * SAVEPOINT, or its own transaction): it runs again, up to three times,
   * before its caller sees the error. Jobs start clean when re-run
   * (core.ts tx()). The store takes row locks in one order (accounts by id,
   * then folders, items and blobs), so this is a safety net, not the rule.
   */
  override async write<T>(fn: (tx: Queryable) => Promise<T>, opts?: { durable?: boolean }): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await super.write(fn, opts);
      } catch (e) {
        const code = String((e as { code?: unknown } | null)?.code ?? "");
        if (attempt >= WRITE_ATTEMPTS || (code !== "40P01" && code !== "40001")) throw e;
      }
    }
  }


  /**
   * PostgreSQL checks its own pages (checksums, WAL); what can go wrong above
   * it is the store's invariants. "ok" when they hold, else one line per
   * broken one (as SQLite's PRAGMA integrity_check answers).
   */
  async integrityCheck(): Promise<string[]> {
    const problems: string[] = [];
    const checks: [string, string][] = [
      ["items whose folder does not exist", "SELECT COUNT(*) AS n FROM items i LEFT JOIN folders f ON f.id = i.folder_id WHERE f.id IS NULL"],
      ["items with uid >= their folder's uidnext", "SELECT COUNT(*) AS n FROM items i JOIN folders f ON f.id = i.folder_id WHERE i.uid >= f.uidnext"],
      ["folders whose account does not exist", "SELECT COUNT(*) AS n FROM folders f LEFT JOIN accounts a ON a.id = f.account_id WHERE a.id IS NULL"],
    ];
    for (const [what, sql] of checks) {
      const r = await this.r.get<{ n: number }>(sql);
      if (r && Number(r.n) > 0) problems.push(`${what}: ${r.n}`);
    }
    return problems.length ? problems : ["ok"];
  }

  protected async begin(durable: boolean): Promise<Queryable> {
    // A group of non-durable jobs only (flag changes and similar) does not wait for
    // the WAL flush at COMMIT: safe against a crash of this process at once and
    // against power loss from the next durable commit on (PostgreSQL's asynchronous
    // commit never corrupts or reorders), as the SQLite backend skips its fsync.
    // One round trip either way (simple protocol, two statements).
    this.txSession = null;
    const session = this.writerSession;
    await this.writer.unsafe(durable ? "BEGIN" : "BEGIN; SET LOCAL synchronous_commit TO OFF");
    this.txSession = session;
    this.checkSession(); // the connection closed while BEGIN ran: fail now
    return this.w;
  }
  protected async commit(): Promise<void> {
    try {
      await this.w.run("COMMIT");
    } finally {
      this.txSession = null;
    }
  }
  protected async rollback(): Promise<void> {
    try {
      await this.w.run("ROLLBACK");
    } catch {
      // connection gone: the server rolled back on its own
    } finally {
      this.txSession = null;
    }
  }

  async close(): Promise<void> {
    await this.waitIdle();
    this.closed = true;
    await Promise.all([this.reader.end({ timeout: 5 }), this.writer.end({ timeout: 5 })]);
  }
}

export async function openPgDb(opts: OpenDbOptions): Promise<PgDb> {
  const db = new PgDb(opts);
  try {
    await db.init();
  } catch (e) {
    await db.close().catch(() => {});
    throw e;
  }
  return db;
}
