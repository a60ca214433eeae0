/**
 * A libSQL server (`libsql://`, `http(s)://`, `ws(s)://`) through
 * @libsql/client behind the Db interface; also a local file through the
 * client when a test forces `driver: "client"`. Loaded only when used.
 * Local pragmas are the server's business.
 */
import { createClient, type Client, type InValue, type Transaction } from "@libsql/client";
import type { Db, OpenDbOptions, Queryable, Row, RunResult, SqlValue } from "./db.ts";
import { GroupCommitter } from "./db-group-commit.ts";
import { sqliteDialect, type Dialect } from "./dialect.ts";

export function openRemoteDb(opts: OpenDbOptions): Db {
  return new RemoteDb(opts, createClient);
}

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
  protected get reads(): Queryable {
    return this.q;
  }
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
