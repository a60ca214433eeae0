/**
 * Migrations: an older database is upgraded in place, never wiped; each
 * version is recorded once; concurrent openers do not apply a version twice.
 *
 * SQLite only (sqlite_master, FTS5 tables, several openers of one file);
 * the same migrations on PostgreSQL, concurrent openers included, are tested
 * in pg-db.test.ts.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { rmSync } from "node:fs";
import { openDb } from "../../storage/db.ts";
import { appliedVersions, migrate } from "../../storage/migrate.ts";
import { migrations } from "../../storage/migrations/index.ts";
import type { Migration } from "../../storage/migrations/types.ts";
import { openStore, SqlMailStore } from "../../storage/store.ts";
import { FsBlobStore } from "../../storage/blobstore.ts";
import { makeMessage, tempDir } from "./helpers.ts";
import { passwordHasher } from "../../src/auth.ts";

test("a database at version 0001 is upgraded by openStore without data loss", async () => {
  const dir = tempDir();
  try {
    const url = `file:${join(dir, "old.db")}`;
    // build an "old" database: only 0001 applied, with data written through the store code
    const db = await openDb({ url });
    expect(await migrate(db, { upTo: 1 })).toEqual([1]);
    await db.close();
    expect(migrations.some((m) => m.version > 1)).toBe(true); // there is something to upgrade to
    // data as an old build wrote it (only the 0001 tables exist)
    const dbOld = await openDb({ url });
    expect(await appliedVersions(dbOld)).toEqual([1]);
    await dbOld.write(async (tx) => {
      await tx.run("INSERT INTO domains (name, created_at) VALUES ('old.example', 1)");
      await tx.run("INSERT INTO accounts (email, domain_id, password_hash, created_at) VALUES ('u@old.example', 1, 'x', 1)");
      await tx.run("INSERT INTO folders (account_id, name, uidvalidity, uidnext, created_at) VALUES (1, 'INBOX', 7, 5, 1)");
    });
    await dbOld.close();

    const store = await openStore({ hasher: passwordHasher, url, dataDir: dir });
    try {
      expect(await appliedVersions(store.db)).toEqual(migrations.map((m) => m.version).sort((a, b) => a - b));
      const acct = await store.getAccount("u@old.example");
      expect(acct?.email).toBe("u@old.example");
      const inbox = await store.getFolder(acct!.id, "INBOX");
      expect(inbox?.uidValidity).toBe(7);
      const [r] = await store.append(inbox!.id, [{ raw: makeMessage({ subject: "after upgrade" }) }]);
      expect(r.uid).toBe(5); // uidnext kept
      expect(await store.integrityCheck()).toEqual(["ok"]);
    } finally {
      await store.close();
    }
    // reopening applies nothing new
    const again = await openDb({ url });
    expect(await migrate(again)).toEqual([]);
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a later migration alters a table with rows in it; a failing migration rolls back alone", async () => {
  const dir = tempDir();
  try {
    const url = `file:${join(dir, "m.db")}`;
    const v1: Migration = { version: 1, name: "t", steps: [{ sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT NOT NULL)" }] };
    const v2: Migration = {
      version: 2,
      name: "t_b",
      steps: [{ sql: "ALTER TABLE t ADD COLUMN b INTEGER NOT NULL DEFAULT 0" }, { sql: "UPDATE t SET b = length(a)" }, { sql: "CREATE INDEX t_b ON t(b)" }],
    };
    const bad: Migration = { version: 3, name: "bad", steps: [{ sql: "CREATE TABLE u (x INTEGER)" }, { sql: "THIS IS NOT SQL" }] };
    const db = await openDb({ url });
    expect(await migrate(db, { migrations: [v1] })).toEqual([1]);
    await db.write(async (tx) => {
      for (let i = 0; i < 100; i++) await tx.run("INSERT INTO t (a) VALUES (?)", ["x".repeat(i)]);
    });
    expect(await migrate(db, { migrations: [v2, v1] })).toEqual([2]);
    expect((await db.get<{ n: number; s: number }>("SELECT COUNT(*) AS n, SUM(b) AS s FROM t"))).toEqual({ n: 100, s: 4950 });
    await expect(migrate(db, { migrations: [v1, v2, bad] })).rejects.toThrow();
    expect(await appliedVersions(db)).toEqual([1, 2]);
    expect(await db.get("SELECT name FROM sqlite_master WHERE name = 'u'")).toBeUndefined(); // rolled back
    await expect(migrate(db, { migrations: [v1, v1] })).rejects.toThrow(/duplicate/);
    await db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("several processes' worth of openers migrate one fresh file once", async () => {
  const dir = tempDir();
  try {
    const url = `file:${join(dir, "race.db")}`;
    const dbs = await Promise.all([1, 2, 3, 4].map(() => openDb({ url })));
    const done = await Promise.all(dbs.map((d) => migrate(d)));
    const all = done.flat().sort((a, b) => a - b);
    expect(all).toEqual(migrations.map((m) => m.version).sort((a, b) => a - b)); // each applied exactly once
    for (const d of dbs) await d.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("0002 moves existing full-text rows into the contentless table: old messages stay searchable", async () => {
  const dir = tempDir();
  try {
    const url = `file:${join(dir, "fts.db")}`;
    const db = await openDb({ url });
    await migrate(db, { upTo: 1 });
    // the store code of the 0001 era on a 0001 database: today's code also needs
    // 0003's and 0004's columns, so they exist while the old rows are written and are dropped after
    await db.run("ALTER TABLE blobs ADD COLUMN fts_indexed INTEGER NOT NULL DEFAULT 1");
    await db.run("ALTER TABLE blobs ADD COLUMN fts_partial INTEGER NOT NULL DEFAULT 0");
    await db.run("ALTER TABLE blobs ADD COLUMN crlf_size INTEGER");
    // and 0031's change-feed columns (storage/changes.ts)
    // (and 0040's account flags, which every account read selects)
    const feedColumns = [["items", "created_modseq"], ["folders", "modseq"], ["folders", "created_modseq"], ["expunged", "deleted_at"], ["accounts", "is_admin"], ["accounts", "disabled"]];
    for (const [table, col] of feedColumns) await db.run(`ALTER TABLE ${table} ADD COLUMN ${col} INTEGER NOT NULL DEFAULT 0`);
    const old = new SqlMailStore(db, new FsBlobStore(dir), undefined, undefined, passwordHasher);
    await old.addDomain("fts.example");
    const acct = await old.addAccount("u@fts.example", "pw");
    const inbox = (await old.getFolder(acct.id, "INBOX"))!;
    await old.append(inbox.id, [
      { raw: makeMessage({ subject: "alpha report", body: "the quick brown fox" }) },
      { raw: makeMessage({ subject: "beta", body: "lazy dog sleeps" }) },
    ]);
    expect(await old.searchText(inbox.id, "body", "brown fox")).toEqual([1]);
    await db.run("ALTER TABLE blobs DROP COLUMN fts_indexed");
    await db.run("ALTER TABLE blobs DROP COLUMN fts_partial");
    await db.run("ALTER TABLE blobs DROP COLUMN crlf_size");
    for (const [table, col] of feedColumns) await db.run(`ALTER TABLE ${table} DROP COLUMN ${col}`);
    await old.close();

    const store = await openStore({ hasher: passwordHasher, url, dataDir: dir, gcIntervalMs: 0 });
    try {
      expect(await appliedVersions(store.db)).toContain(2);
      const sql = await store.db.get<{ sql: string }>("SELECT sql FROM sqlite_master WHERE name = 'message_fts'");
      expect(sql?.sql).toContain("contentless_delete");
      expect(await store.searchText(inbox.id, "body", "brown fox")).toEqual([1]);
      expect(await store.searchText(inbox.id, "subject", "report")).toEqual([1]);
      expect(await store.searchText(inbox.id, "body", "dog")).toEqual([2]);
      // deleting works on the new table (contentless_delete) and keeps the index sound
      await store.expunge(inbox.id, [1]);
      expect(await store.collectGarbage({ graceMs: 0 })).toBe(1);
      expect(await store.searchText(inbox.id, "body", "brown fox")).toEqual([]);
      expect(await store.integrityCheck()).toEqual(["ok"]);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
