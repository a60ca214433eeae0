/**
 * `pillarbox backup / verify / restore` on a PostgreSQL store (CI's private
 * cluster, PILLARBOX_TEST_PG_URL): pg_dump of an exported snapshot while SMTP
 * deliveries run, the blob list read from the same snapshot, verify through
 * pg_restore --list, restore with pg_restore into an empty database, served
 * again: every message acknowledged before the backup is there byte for
 * byte over python3 imaplib. A non-empty target database is refused.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { PG_URL, dropPgSchema, freshPgUrl } from "../helpers/engines.ts";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { blobFiles, cli, deliveryLoad, imapDigests, STACK } from "./helpers.ts";

setDefaultTimeout(120_000);

const ALICE = "alice@example.test";
const PASS = "pg-backup-password-1";
const root = mkdtempSync(join(tmpdir(), "pb-pgbackup-test-"));
const bk = join(root, "backup");
let srv: TestServer | null = null;
let url = "";
const targetDb = `pb_restore_${randomBytes(4).toString("hex")}`;
let targetUrl = "";

/** `url` with its database replaced (the `schema` parameter kept). */
function onDatabase(u: string, db: string): string {
  const x = new URL(u);
  x.pathname = `/${db}`;
  return x.toString();
}

beforeAll(async () => {
  if (!PG_URL) return;
  url = await freshPgUrl("bk");
  srv = await startTestServer({ listeners: ["SMTP", "IMAP"], config: { databaseUrl: url } });
  await createUser(srv.store, ALICE, PASS);
  const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
  await sql.unsafe(`CREATE DATABASE ${targetDb}`);
  await sql.end();
  targetUrl = onDatabase(url, targetDb);
});

afterAll(async () => {
  await srv?.close();
  if (PG_URL) {
    await dropPgSchema(url).catch(() => {});
    const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
    await sql.unsafe(`DROP DATABASE IF EXISTS ${targetDb} WITH (FORCE)`).catch(() => {});
    await sql.end();
  }
  rmSync(root, { recursive: true, force: true });
});

describe.skipIf(!PG_URL)("backup of a PostgreSQL store", () => {
  test("pg_dump of the snapshot while mail arrives; verify; restore with pg_restore; every acknowledged message byte for byte", async () => {
    const load = deliveryLoad(srv!.port("SMTP"), ALICE, 3, "pg");
    await load.waitAcked(25);
    const ackedBefore = [...load.acked];
    const r = await cli(["backup", bk], srv!.dataDir, { PILLARBOX_DATABASE_URL: url });
    await load.stop();
    expect(r.stderr).not.toMatch(STACK);
    expect(r.code).toBe(0);
    expect(load.failures).toEqual([]);
    const m = JSON.parse(readFileSync(join(bk, "manifest.json"), "utf8"));
    expect(m.engine).toBe("postgres");
    expect(m.database.file).toMatch(/^db-.*\.pgdump$/);
    expect(m.blobList.count).toBe(m.blobs.referenced);
    expect(m.counts.messages).toBeGreaterThanOrEqual(ackedBefore.length);
    expect(readFileSync(join(bk, m.blobList.file), "utf8").trim().split("\n").length).toBe(m.blobs.referenced);

    const v = await cli(["verify", bk]);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain("pg_restore reads its table of contents");
    expect(v.stdout).toContain(`blobs: all ${m.blobs.referenced} referenced blobs present`);

    const live = await imapDigests(srv!.port("IMAP"), ALICE, PASS);
    const target = join(root, "restored");
    // without a database to restore into: words
    const noDb = await cli(["restore", bk, "--data-dir", target]);
    expect(noDb.code).toBe(1);
    expect(noDb.stderr).toContain("name the empty database to restore it into with --database-url");
    expect(existsSync(target)).toBe(false);

    const rr = await cli(["restore", bk, "--data-dir", target, "--database-url", targetUrl]);
    expect(rr.stderr).not.toMatch(STACK);
    expect(rr.code).toBe(0);
    const srv2 = await startTestServer({ dataDir: target, listeners: ["IMAP"], config: { databaseUrl: targetUrl } });
    try {
      const restored = await imapDigests(srv2.port("IMAP"), ALICE, PASS);
      expect(restored.count).toBe(m.counts.messages);
      for (const id of ackedBefore) expect(restored.messages[id]).toBe(live.messages[id]!);
      for (const [id, digest] of Object.entries(restored.messages)) expect(live.messages[id]).toBe(digest);
    } finally {
      await srv2.close();
    }

    // the same database again is not empty any more
    const again = await cli(["restore", bk, "--data-dir", join(root, "again"), "--database-url", targetUrl]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("is not empty (tables ");
    expect(existsSync(join(root, "again"))).toBe(false);
  });

  test("--prune works from the blob list: the blobs of deleted mail go, verify still passes", async () => {
    const acct = (await srv!.store.getAccount(ALICE))!;
    const inbox = (await srv!.store.getFolder(acct.id, "INBOX"))!;
    const uids = (await srv!.store.listMessages(inbox.id)).slice(0, 2).map((m) => m.uid);
    await srv!.store.expunge(inbox.id, uids);
    const r = await cli(["backup", bk, "--prune"], srv!.dataDir, { PILLARBOX_DATABASE_URL: url });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/pruned 2 blob\(s\)/);
    const m = JSON.parse(readFileSync(join(bk, "manifest.json"), "utf8"));
    expect(blobFiles(bk).length).toBe(m.blobs.referenced);
    expect((await cli(["verify", bk])).code).toBe(0);
  });

  test("verify names a blob deleted from a PostgreSQL backup", async () => {
    const bad = join(root, "damaged");
    cpSync(bk, bad, { recursive: true });
    const gone = blobFiles(bad)[2]!;
    rmSync(gone);
    const v = await cli(["verify", bad]);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain(`1 referenced blob(s) missing: ${gone.split("/").pop()}`);
  });
});
