/**
 * The database engines a store test runs on. SQLite always; PostgreSQL when
 * `PILLARBOX_TEST_PG_URL` names a database (scripts/pg-test-cluster.sh start
 * prints one; .ci/run exports it). Each PostgreSQL store gets a fresh schema
 * of its own (the `?schema=` parameter of storage/pg-db.ts), dropped again on
 * cleanup, so runs never see each other's rows.
 *
 * Without the URL the PostgreSQL runs are skipped with a visible message,
 * except in CI (`CI=true`), where a missing URL is a failing test: the
 * second engine must not silently go untested.
 *
 * PILLARBOX_TEST_SERVER_ENGINE=postgres (tests/helpers/server.ts) puts every
 * in-process test server on PostgreSQL too, so a protocol suite can be run on
 * it: `PILLARBOX_TEST_SERVER_ENGINE=postgres bun test tests/imap`. (Tests
 * that run the CLI in its own process on the server's data dir keep using
 * that dir's SQLite file, so they do not apply in that mode.)
 */
import { test } from "bun:test";
import { randomBytes } from "node:crypto";

export type Engine = "sqlite" | "postgres";

export const PG_URL: string | null = process.env.PILLARBOX_TEST_PG_URL?.trim() || null;
const IN_CI = process.env.CI === "true" || process.env.CI === "1";

let warned = false;
function noticeMissing(): void {
  if (IN_CI) {
    if (warned) return;
    warned = true;
    test("PostgreSQL engine is available (PILLARBOX_TEST_PG_URL)", () => {
      throw new Error("CI=true but PILLARBOX_TEST_PG_URL is not set: start scripts/pg-test-cluster.sh and export its URL");
    });
    return;
  }
  if (warned) return;
  warned = true;
  console.warn("[engines] PostgreSQL runs SKIPPED: PILLARBOX_TEST_PG_URL is not set (scripts/pg-test-cluster.sh start prints it)");
}

/** ["sqlite", "postgres"] or ["sqlite"] (with the skip notice or, in CI, a failing test). */
export function storeEngines(): Engine[] {
  if (PG_URL) return ["sqlite", "postgres"];
  noticeMissing();
  return ["sqlite"];
}

/** True when PostgreSQL tests can run; otherwise registers the notice (or the CI failure). */
export function pgAvailable(): boolean {
  if (PG_URL) return true;
  noticeMissing();
  return false;
}

function withSchema(url: string, schema: string): string {
  return url + (url.includes("?") ? "&" : "?") + `schema=${schema}`;
}

/**
 * A database URL in a schema nobody else uses (created by the store on first
 * open). pg_trgm is created once in `public` first, where every test
 * schema's search path finds it.
 */
export async function freshPgUrl(prefix = "t"): Promise<string> {
  if (!PG_URL) throw new Error("PILLARBOX_TEST_PG_URL is not set");
  await ensureExtensions();
  const schema = `pb_${prefix.replace(/[^a-z0-9_]/gi, "").slice(0, 20)}_${randomBytes(6).toString("hex")}`.toLowerCase();
  return withSchema(PG_URL, schema);
}

let extensions: Promise<void> | null = null;
function ensureExtensions(): Promise<void> {
  extensions ??= (async () => {
    const { openDb } = await import("../../storage/db.ts");
    const db = await openDb({ url: PG_URL! });
    try {
      await db.run("CREATE EXTENSION IF NOT EXISTS pg_trgm");
    } catch (e) {
      // another test process created it at the same moment
      if (!(await db.get("SELECT 1 AS x FROM pg_extension WHERE extname = 'pg_trgm'"))) throw e;
    } finally {
      await db.close();
    }
  })();
  return extensions;
}

/** Drops the schema of a URL made by freshPgUrl (and everything in it). */
export async function dropPgSchema(url: string): Promise<void> {
  const m = /[?&]schema=([a-z0-9_]+)/i.exec(url);
  if (!m || !PG_URL) return;
  const { openDb } = await import("../../storage/db.ts");
  const db = await openDb({ url: PG_URL });
  try {
    await db.run(`DROP SCHEMA IF EXISTS ${m[1]} CASCADE`);
  } finally {
    await db.close();
  }
}
