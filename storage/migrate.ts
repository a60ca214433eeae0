/**
 * Applies every not-yet-applied migration in ascending version order, each in
 * its own transaction together with its `schema_migrations` row, so a crash
 * leaves the database at a clean version boundary. An older database is
 * upgraded in place, never wiped. Safe when several processes open the same
 * file at once: the applied-check is repeated inside the write transaction.
 */
import type { Db, Queryable } from "./db.ts";
import { StoreError, type StoreLogger } from "./api.ts";
import { migrations as allMigrations, type Migration } from "./migrations/index.ts";
import { renderMigration } from "./migrations/render.ts";

/** Advisory lock key for schema migrations on PostgreSQL (any constant of our own). */
const MIGRATION_LOCK_KEY = 0x70_62_6d_67; // "pbmg"

export async function migrate(db: Db, opts: { migrations?: Migration[]; upTo?: number; log?: StoreLogger } = {}): Promise<number[]> {
  const list = [...(opts.migrations ?? allMigrations)].sort((a, b) => a.version - b.version);
  const seen = new Set<number>();
  for (const m of list) {
    if (seen.has(m.version)) throw new Error(`duplicate migration version ${m.version}`);
    seen.add(m.version);
  }
  // PostgreSQL: migrations of one database by several processes (nodes, the CLI) take
  // turns on a transaction-scoped advisory lock, the CREATE TABLE IF NOT EXISTS below
  // included (it is not atomic there); SQLite's write transaction already excludes them.
  const serialize = async (tx: Queryable) => {
    if (db.dialect.name === "postgres") await tx.run("SELECT pg_advisory_xact_lock(?)", [MIGRATION_LOCK_KEY]);
  };
  await db.write(async (tx) => {
    await serialize(tx);
    return tx.run(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at ${db.dialect.name === "postgres" ? "BIGINT" : "INTEGER"} NOT NULL
    )`);
  });
  const appliedRows = await db.all<{ version: number }>("SELECT version FROM schema_migrations");
  const applied = new Set(appliedRows.map((r) => Number(r.version)));
  assertKnownSchema([...applied], list);
  const done: number[] = [];
  for (const m of list) {
    if (applied.has(m.version)) continue;
    if (opts.upTo !== undefined && m.version > opts.upTo) break;
    const ran = await db.write(async (tx) => {
      await serialize(tx); // another process migrating waits here, then sees the version as applied
      const again = await tx.get("SELECT 1 AS x FROM schema_migrations WHERE version = ?", [m.version]);
      if (again) return false; // another process applied it meanwhile
      for (const sql of renderMigration(m, db.dialect.name)) await tx.run(sql);
      await tx.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", [m.version, m.name, Date.now()]);
      return true;
    });
    if (ran) {
      done.push(m.version);
      opts.log?.info("schema migration applied", { version: m.version, name: m.name });
    }
  }
  return done;
}

/**
 * Refuses a database that a newer Pillarbox migrated (found item 9): its
 * schema has versions this binary does not know, and running on it could
 * misread or damage what the newer code wrote. Every command that opens the
 * store (serve, the admin commands) goes through migrate() and so through here;
 * `check` reports the same condition as a failed check.
 */
export function assertKnownSchema(applied: readonly number[], known: readonly Migration[] = allMigrations): void {
  const knownVersions = new Set(known.map((m) => m.version));
  const unknown = applied.filter((v) => !knownVersions.has(v)).sort((a, b) => a - b);
  if (!unknown.length) return;
  const newest = Math.max(...applied);
  const ours = Math.max(0, ...knownVersions);
  const what = newest > ours ? `schema ${newest} > ${ours}` : `migrations ${unknown.join(", ")} unknown to this version`;
  throw new StoreError("CANNOT", `this database was upgraded by a newer Pillarbox (${what}): use that version or restore a backup made before the upgrade`);
}

/** Versions recorded as applied, ascending. */
export async function appliedVersions(db: Db): Promise<number[]> {
  const rows = await db.all<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
  return rows.map((r) => Number(r.version));
}
