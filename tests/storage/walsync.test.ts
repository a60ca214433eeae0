/**
 * Durable commits: COMMIT runs with synchronous=NORMAL and the WAL is then
 * fsynced from the thread pool (storage/db.ts WalSync). Callers that arrive
 * together share one fsync, a caller arriving during a sync gets the next
 * one, and a durable write resolves only after a sync that started after
 * its commit.
 *
 * SQLite only (the WAL file of a local database); PostgreSQL's commits are
 * flushed by the server.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WalSync, openDb } from "../../storage/db.ts";

const dir = mkdtempSync(join(tmpdir(), "pillarbox-walsync-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("callers arriving together share fsyncs; later callers get a later one", async () => {
  const wal = join(dir, "a.db-wal");
  writeFileSync(wal, "x".repeat(4096));
  const w = new WalSync(wal);
  const first = w.barrier();
  const during = Array.from({ length: 50 }, () => w.barrier());
  await Promise.all([first, ...during]);
  // one sync for the first caller, one shared by the 50 that came while it ran
  expect(w.syncs).toBe(2);
  await w.barrier();
  expect(w.syncs).toBe(3);
  await w.close();
});

test("no -wal file (all checkpointed): the database file itself is synced", async () => {
  const db = join(dir, "b.db");
  writeFileSync(db, "y");
  const w = new WalSync(`${db}-wal`);
  await w.barrier();
  expect(w.syncs).toBe(1);
  await w.close();
});

test("a durable write is answered only after a WAL sync that began after its commit", async () => {
  const db = await openDb({ url: `file:${join(dir, "c.db")}` });
  try {
    await db.write((tx) => tx.run("CREATE TABLE t (v INTEGER)"));
    // private, read for the test only: the count of finished syncs
    const syncsOf = () => (db as unknown as { walSync: WalSync }).walSync.syncs;
    const before = syncsOf();
    const writes = Array.from({ length: 20 }, (_, i) => db.write((tx) => tx.run("INSERT INTO t VALUES (?)", [i])));
    await Promise.all(writes);
    expect(syncsOf()).toBeGreaterThan(before);
    // 20 writes grouped into few commits and fewer fsyncs
    expect(syncsOf() - before).toBeLessThanOrEqual(3);
    // non-durable writes add no fsync
    const mid = syncsOf();
    await db.write((tx) => tx.run("INSERT INTO t VALUES (99)"), { durable: false });
    expect(syncsOf()).toBe(mid);
    expect((await db.all<{ n: number }>("SELECT COUNT(*) AS n FROM t"))[0]!.n).toBe(21);
  } finally {
    await db.close();
  }
});

test("after writes pause, an idle checkpoint folds the WAL into the database file", async () => {
  const path = join(dir, "d.db");
  const db = await openDb({ url: `file:${path}` });
  try {
    await db.write((tx) => tx.run("CREATE TABLE big (v BLOB)"));
    await db.write(async (tx) => {
      for (let i = 0; i < 1000; i++) await tx.run("INSERT INTO big VALUES (randomblob(1000))");
    });
    // Well under the autocheckpoint threshold: the rows are only in the WAL so far.
    expect(statSync(path).size).toBeLessThan(200_000);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(statSync(path).size).toBeGreaterThan(1_000_000);
    expect((await db.all<{ n: number }>("SELECT COUNT(*) AS n FROM big"))[0]!.n).toBe(1000);
  } finally {
    await db.close();
  }
});
