/**
 * The PostgreSQL side of `pillarbox backup / restore`: PostgreSQL's own
 * dump tool does the database, and the blob list comes from the very same
 * snapshot, so the two agree exactly.
 *
 * A REPEATABLE READ READ ONLY transaction exports its snapshot
 * (pg_export_snapshot(), PostgreSQL manual "Snapshot Synchronization
 * Functions"); `pg_dump --snapshot=ID` dumps exactly that state, and the
 * referenced blob ids are read inside the same transaction. The transaction
 * stays open until both are done (an exported snapshot lives as long as the
 * transaction that exported it).
 */
import postgres from "postgres";
import type { SnapshotCounts } from "./backup.ts";
import { referencedBlobIds } from "./backup.ts";
import type { Queryable, Row, RunResult, SqlValue } from "./db.ts";
import { splitSchema, toPositional } from "./pg-db.ts";

/** What a backup does inside the snapshot: dump it (by its id) and read what it references. */
export interface PgSnapshot {
  /** The exported snapshot id, for `pg_dump --snapshot`. */
  readonly id: string;
  /** The schema named by the URL's `schema` parameter (null: the search path's default). */
  readonly schema: string | null;
  referencedBlobIds(pageSize?: number): AsyncGenerator<string[]>;
  schemaVersions(): Promise<number[]>;
  counts(): Promise<SnapshotCounts>;
}

type Tx = postgres.TransactionSql<Record<string, never>>;

class TxQueryable implements Queryable {
  constructor(private readonly tx: Tx) {}
  async all<T = Row>(sql: string, args: SqlValue[] = []): Promise<T[]> {
    return (await this.tx.unsafe(toPositional(sql), args as postgres.ParameterOrJSON<never>[])) as unknown as T[];
  }
  async raw(sql: string, args: SqlValue[] = []): Promise<unknown[][]> {
    return (await this.tx.unsafe(toPositional(sql), args as postgres.ParameterOrJSON<never>[]).values()) as unknown as unknown[][];
  }
  async get<T = Row>(sql: string, args?: SqlValue[]): Promise<T | undefined> {
    return (await this.all<T>(sql, args))[0];
  }
  async run(): Promise<RunResult> {
    throw new Error("the backup's snapshot transaction is read only");
  }
}

/** Runs `fn` inside an exported REPEATABLE READ snapshot of the database at `url`. */
export async function withPgSnapshot<T>(url: string, fn: (snap: PgSnapshot) => Promise<T>): Promise<T> {
  const { url: plain, schema } = splitSchema(url);
  const connection: Record<string, string> = { application_name: "pillarbox backup" };
  if (schema) connection.search_path = `${schema}, public`;
  const sql = postgres(plain, { max: 1, onnotice: () => {}, connection, max_lifetime: 0, idle_timeout: 0 });
  try {
    return (await sql.begin("ISOLATION LEVEL REPEATABLE READ READ ONLY", async (tx) => {
      const [row] = await tx.unsafe("SELECT pg_export_snapshot() AS id");
      const q = new TxQueryable(tx as unknown as Tx);
      const one = async (s: string) => Number((await q.raw(s))[0]?.[0] ?? 0);
      return fn({
        id: String((row as unknown as { id: string }).id),
        schema,
        referencedBlobIds: (pageSize = 1000) => referencedBlobIds(q, pageSize),
        schemaVersions: async () => (await q.raw("SELECT version FROM schema_migrations ORDER BY version")).map((r) => Number(r[0])),
        counts: async () => ({
          domains: await one("SELECT count(*) FROM domains"),
          accounts: await one("SELECT count(*) FROM accounts"),
          messages: await one("SELECT count(*) FROM items i JOIN folders f ON f.id = i.folder_id WHERE f.item_class = 'mail'"),
          items: await one("SELECT count(*) FROM items"),
          queued: await one("SELECT count(*) FROM queue"),
        }),
      });
    })) as T;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * Whether the database (schema) at `url` holds no Pillarbox tables: restore
 * writes only into an empty one. Also makes sure the pg_trgm extension the
 * schema's indexes use exists (a schema-only dump does not carry it).
 */
export async function preparePgRestoreTarget(url: string): Promise<{ empty: boolean; schema: string | null; tables: string[] }> {
  const { url: plain, schema } = splitSchema(url);
  const sql = postgres(plain, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql.unsafe(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = COALESCE($1, current_schema()) AND table_type = 'BASE TABLE' ORDER BY table_name LIMIT 5",
      [schema],
    );
    const tables = rows.map((r) => String((r as unknown as { table_name: string }).table_name));
    if (!tables.length && schema) {
      // pg_restore creates the schema it dumped: an existing empty one (made by hand) is dropped first;
      // RESTRICT refuses if anything at all (a view, a function) is in it
      await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" RESTRICT`);
    }
    if (!tables.length) {
      // trusted since PostgreSQL 13: the database owner may create it; already there is fine
      await sql.unsafe("CREATE EXTENSION IF NOT EXISTS pg_trgm").catch(() => {});
    }
    return { empty: tables.length === 0, schema, tables };
  } finally {
    await sql.end({ timeout: 5 });
  }
}
