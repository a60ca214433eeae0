/**
 * The PostgreSQL backend of storage/db.ts (storage/pg-db.ts): placeholder
 * numbering, values as the SQLite backend gives them, group commit with one
 * failing job, migrations from the one definition, schema isolation.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { getTableConfig } from "drizzle-orm/sqlite-core";
import { openDb, type Db, type Queryable } from "../../storage/db.ts";
import { appliedVersions, migrate } from "../../storage/migrate.ts";
import { migrations } from "../../storage/migrations/index.ts";
import { renderMigration } from "../../storage/migrations/render.ts";
import { redactDbUrl, splitSchema, toPositional } from "../../storage/pg-db.ts";
import { FTS_COLUMNS, FTS_TABLE, tables } from "../../storage/schema.ts";
import { dropPgSchema, freshPgUrl, pgAvailable } from "../helpers/engines.ts";

describe("placeholders and URLs (no server needed)", () => {
  test("? becomes $n outside literals, identifiers and comments", () => {
    expect(toPositional("SELECT a FROM t WHERE x = ? AND y IN (?, ?)")).toBe("SELECT a FROM t WHERE x = $1 AND y IN ($2, $3)");
    expect(toPositional("SELECT '?', 'it''s ?', \"we?ird\" FROM t WHERE a = ?")).toBe("SELECT '?', 'it''s ?', \"we?ird\" FROM t WHERE a = $1");
    expect(toPositional("SELECT E'\\'?' , ? -- what?\n, ? /* ? */")).toBe("SELECT E'\\'?' , $1 -- what?\n, $2 /* ? */");
    expect(toPositional("SELECT $$ ? $$, $x$?$x$, ?")).toBe("SELECT $$ ? $$, $x$?$x$, $1");
    expect(toPositional("LIKE ? ESCAPE '\\'")).toBe("LIKE $1 ESCAPE '\\'");
    expect(toPositional("no placeholders")).toBe("no placeholders");
  });
  test("the password never shows; ?schema= is ours", () => {
    expect(redactDbUrl("postgres://bob:s3cret@db.example:5432/mail")).not.toContain("s3cret");
    expect(redactDbUrl("postgres://bob:s3cret@db.example:5432/mail")).toContain("bob");
    expect(splitSchema("postgres://h/db?schema=abc&sslmode=require")).toEqual({ url: "postgres://h/db?sslmode=require", schema: "abc" });
    expect(splitSchema("postgres://h/db")).toEqual({ url: "postgres://h/db", schema: null });
    expect(() => splitSchema("postgres://h/db?schema=a;drop")).toThrow(/invalid schema/);
  });
  test("every migration renders for PostgreSQL without SQLite-only syntax", () => {
    for (const m of migrations) {
      for (const sql of renderMigration(m, "postgres")) {
        expect([m.version, sql]).not.toEqual([m.version, expect.stringMatching(/AUTOINCREMENT|VIRTUAL TABLE|COLLATE NOCASE|\bBLOB\b/)]);
      }
    }
  });
});

if (pgAvailable()) {
  describe("PostgreSQL backend", () => {
    let url: string;
    let db: Db;
    beforeAll(async () => {
      url = await freshPgUrl("pgdb");
      db = await openDb({ url });
      await migrate(db);
    });
    afterAll(async () => {
      await db.close();
      await dropPgSchema(url);
    });

    test("every migration applied once; a second run applies nothing", async () => {
      expect(await appliedVersions(db)).toEqual(migrations.map((m) => m.version).sort((a, b) => a - b));
      expect(await migrate(db)).toEqual([]);
      expect(db.dialect.name).toBe("postgres");
    });

    test("the migrated PostgreSQL schema matches the Drizzle schema (tables, columns, NOT NULL, indexes)", async () => {
      for (const table of Object.values(tables)) {
        const cfg = getTableConfig(table);
        const cols = await db.all<{ name: string; nullable: string }>(
          "SELECT column_name AS name, is_nullable AS nullable FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?",
          [cfg.name],
        );
        expect([cfg.name, cfg.columns.map((c) => c.name).sort()]).toEqual([cfg.name, cols.map((c) => c.name).sort()]);
        for (const c of cfg.columns) {
          const dbc = cols.find((x) => x.name === c.name)!;
          expect([cfg.name, c.name, c.notNull || c.primary]).toEqual([cfg.name, c.name, dbc.nullable === "NO"]);
        }
        // indexes made by CREATE INDEX (not the ones backing PRIMARY KEY / UNIQUE constraints)
        const idx = await db.all<{ name: string }>(
          `SELECT i.relname AS name FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
           WHERE t.relname = ? AND t.relnamespace = CAST(current_schema() AS regnamespace)
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)`,
          [cfg.name],
        );
        const tableUniques = ["aliases_source_destination", "folders_account_name"];
        const declared = cfg.indexes.map((i) => i.config.name).filter((n) => !tableUniques.includes(n));
        // items_list_*: the webmail's list indexes (migration 0020), described in its own module, not in schema.ts
        const created = idx.map((i) => i.name).filter((n) => !n.startsWith("items_list_"));
        expect([cfg.name, declared.sort()]).toEqual([cfg.name, created.sort()]);
      }
      const fts = await db.all<{ name: string }>(
        "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
        [FTS_TABLE],
      );
      expect(fts.map((c) => c.name)).toEqual(["seq", ...FTS_COLUMNS]);
    });

    test("integers, booleans, bytes and text come back as on SQLite", async () => {
      const big = 1_796_622_100_926_123; // a millisecond time times 1000: past 2^32, below 2^53
      await db.run("INSERT INTO meta (key, value) VALUES (?, ?)", ["k1", "v\u0000x"]);
      const r = await db.get<{ n: number; b: number; big: number; s: number; v: string }>(
        "SELECT COUNT(*) AS n, 1 = 1 AS b, CAST(? AS BIGINT) AS big, SUM(CAST(length(value) AS BIGINT)) AS s, MAX(value) AS v FROM meta WHERE key = ?",
        [big, "k1"],
      );
      expect(r).toEqual({ n: 1, b: 1, big, s: 3, v: "v\uFFFDx" });
      const blob = new Uint8Array([0, 1, 2, 255, 254, 0]);
      await db.write(async (tx) => {
        await tx.run("INSERT INTO domains (name, created_at) VALUES ('bytes.example', 1)");
        const d = await tx.get<{ id: number }>("SELECT id FROM domains WHERE name = 'bytes.example'");
        await tx.run("INSERT INTO accounts (email, domain_id, password_hash, created_at) VALUES ('b@bytes.example', ?, 'x', 1)", [d!.id]);
        const a = await tx.get<{ id: number }>("SELECT id FROM accounts WHERE email = 'b@bytes.example'");
        const dev = await tx.get<{ id: number }>("INSERT INTO eas_devices (account_id, device_id, first_seen, last_seen) VALUES (?, 'dev', 1, 1) RETURNING id", [a!.id]);
        await tx.run("INSERT INTO eas_sync_state (device, collection, sync_key, items, meta, created_at) VALUES (?, 'c', 1, ?, '{}', 1)", [dev!.id, blob]);
      });
      const row = await db.get<{ items: Uint8Array }>("SELECT items FROM eas_sync_state WHERE collection = 'c'");
      expect(row!.items).toBeInstanceOf(Uint8Array);
      expect([...row!.items]).toEqual([...blob]);
      const raw = await db.raw("SELECT id, name FROM domains WHERE name = ?", ["bytes.example"]);
      expect(Array.isArray(raw) && raw.length === 1 && typeof raw[0][0] === "number" && raw[0][1] === "bytes.example").toBe(true);
    });

    test("group commit: a failing job is rolled back alone, the others commit; changes are counted", async () => {
      const results = await Promise.allSettled(
        ["g1", "g2", "g2", "g3"].map((k, i) =>
          db.write(async (tx) => {
            const r = await tx.run("INSERT INTO meta (key, value) VALUES (?, ?)", [k, String(i)]);
            return r.changes;
          }),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
      expect((await db.all<{ key: string; value: string }>("SELECT key, value FROM meta WHERE key LIKE 'g%' ORDER BY key"))).toEqual([
        { key: "g1", value: "0" },
        { key: "g2", value: "1" },
        { key: "g3", value: "3" },
      ]);
      // a lone failing job: its transaction is rolled back and the next write works
      await expect(db.write(async (tx) => {
        await tx.run("INSERT INTO meta (key, value) VALUES ('lone', 'x')");
        await tx.run("INSERT INTO meta (key, value) VALUES ('lone', 'y')");
      })).rejects.toThrow();
      expect(await db.get("SELECT value FROM meta WHERE key = 'lone'")).toBeUndefined();
      expect((await db.run("UPDATE meta SET value = value || '!' WHERE key LIKE 'g%'")).changes).toBe(3);
      expect(await db.integrityCheck()).toEqual(["ok"]);
    });

    test("JSON lists, jsonRows and GREATEST through the dialect", async () => {
      const d = db.dialect;
      const rows = await db.all<{ value: number }>(`SELECT value FROM (${d.intList()}) AS l ORDER BY value`, [JSON.stringify([3, 1, 2])]);
      expect(rows.map((r) => r.value)).toEqual([1, 2, 3]);
      const texts = await db.all<{ key: string }>(`SELECT key FROM meta WHERE key IN (${d.textList()}) ORDER BY key`, [JSON.stringify(["g1", "g3", "nope"])]);
      expect(texts.map((r) => r.key)).toEqual(["g1", "g3"]);
      const j = await db.raw(d.jsonRows(["key", "n"], "SELECT key, length(value) AS n FROM meta WHERE key LIKE 'g%' ORDER BY key DESC"));
      expect(JSON.parse(String(j[0][0]))).toEqual([["g3", 2], ["g2", 2], ["g1", 2]]);
      const none = await db.raw(d.jsonRows(["key"], "SELECT key FROM meta WHERE false"));
      expect(JSON.parse(String(none[0][0]))).toEqual([]);
      expect((await db.get<{ g: number }>(`SELECT ${d.greatest("?", "5")} AS g`, [7]))!.g).toBe(7);
    });

    test("substring search over the trigram table is case-insensitive and takes % and _ literally", async () => {
      const t = db.dialect.text;
      const text = (body: string) => ({ subject: "Quarterly Report", from: "a@b", to: "", cc: "", bcc: "", headers: "", body });
      await db.write(async (tx) => {
        await t.insert(tx, 101, text("the quick brown fox"));
        await t.insert(tx, 102, text("100% sure_thing"));
        await t.insert(tx, 103, text("lazy dog"));
        await t.remove(tx, 103);
      });
      const find = async (cols: Parameters<typeof t.matching>[0], phrase: string) => {
        const m = t.matching(cols, phrase);
        return (await db.all<{ seq: number }>(`${m.sql} ORDER BY seq`, m.args)).map((r) => r.seq);
      };
      expect(await find(["body"], "BROWN fox")).toEqual([101]);
      expect(await find(["subject"], "port")).toEqual([101, 102]);
      expect(await find(["body"], "0% s")).toEqual([102]);
      expect(await find(["body"], "e_t")).toEqual([102]);
      expect(await find(["body"], "e%t")).toEqual([]);
      expect(await find(["body", "subject"], "dog")).toEqual([]);
    });

    test("a job that loses a deadlock to another process's transaction runs again and succeeds", async () => {
      const other = await openDb({ url });
      try {
        await db.run("INSERT INTO meta (key, value) VALUES ('d1', ''), ('d2', '')");
        let arrived = 0;
        let open!: () => void;
        const bothHoldOne = new Promise<void>((r) => (open = r));
        const gate = async () => {
          if (++arrived === 2) open();
          await bothHoldOne;
        };
        const runs = [0, 0];
        const job = (i: number, first: string, second: string) => async (tx: Queryable) => {
          runs[i]++;
          await tx.run("UPDATE meta SET value = value || ? WHERE key = ?", [String(i), first]);
          if (runs[i] === 1) await gate(); // each holds one row, then wants the other's
          await tx.run("UPDATE meta SET value = value || ? WHERE key = ?", [String(i), second]);
        };
        await Promise.all([db.write(job(0, "d1", "d2")), other.write(job(1, "d2", "d1"))]);
        expect(runs[0] + runs[1]).toBe(3); // one of them was chosen as the deadlock victim and ran again
        const rows = await db.all<{ value: string }>("SELECT value FROM meta WHERE key IN ('d1', 'd2') ORDER BY key");
        // each job's two updates landed once: both rows hold one mark of each job
        expect(rows.map((r) => [...r.value].sort().join(""))).toEqual(["01", "01"]);
      } finally {
        await other.close();
      }
    }, 30_000);

    test("the write connection lost inside a transaction: the jobs fail, nothing of them is committed, the next write works", async () => {
      // the driver reconnects on the next statement by itself; that statement must not run outside the transaction
      const killOwnSession = async (tx: Queryable) => {
        const { pid } = (await tx.get<{ pid: number }>("SELECT pg_backend_pid() AS pid"))!;
        await db.get("SELECT pg_terminate_backend(?)", [pid]);
        // wait until the server has ended it, and a little more for the client to see the close
        for (let i = 0; i < 100 && (await db.get("SELECT 1 AS x FROM pg_stat_activity WHERE pid = ?", [pid])); i++) await new Promise((r) => setTimeout(r, 10));
        await new Promise((r) => setTimeout(r, 50));
      };
      const lone = db.write(async (tx) => {
        await tx.run("INSERT INTO meta (key, value) VALUES ('lost-a', '1')");
        await killOwnSession(tx);
        await tx.run("INSERT INTO meta (key, value) VALUES ('lost-b', '2')");
      });
      await expect(lone).rejects.toThrow();
      // several jobs in one group: the one that ran before the loss is not reported done either
      const group = await Promise.allSettled([
        db.write((tx) => tx.run("INSERT INTO meta (key, value) VALUES ('lost-c', '3')")),
        db.write(async (tx) => {
          await tx.run("INSERT INTO meta (key, value) VALUES ('lost-d', '4')");
          await killOwnSession(tx);
          await tx.run("INSERT INTO meta (key, value) VALUES ('lost-e', '5')");
        }),
        db.write((tx) => tx.run("INSERT INTO meta (key, value) VALUES ('lost-f', '6')")),
      ]);
      expect(group.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
      expect(await db.all("SELECT key FROM meta WHERE key LIKE 'lost-%'")).toEqual([]);
      await db.write((tx) => tx.run("INSERT INTO meta (key, value) VALUES ('after-loss', '7')"));
      expect(await db.get("SELECT value FROM meta WHERE key = 'after-loss'")).toEqual({ value: "7" });
    }, 30_000);

    test("schemas isolate: another schema has its own tables and migrations", async () => {
      const other = await freshPgUrl("pgdb2");
      const db2 = await openDb({ url: other });
      try {
        await migrate(db2, { upTo: 1 });
        expect(await appliedVersions(db2)).toEqual([1]);
        expect(await db2.get("SELECT key FROM meta WHERE key = 'g1'")).toBeUndefined();
      } finally {
        await db2.close();
        await dropPgSchema(other);
      }
    });

    test("concurrent openers migrate one fresh schema once", async () => {
      const fresh = await freshPgUrl("race");
      const dbs = await Promise.all([1, 2, 3].map(() => openDb({ url: fresh })));
      try {
        const done = await Promise.all(dbs.map((d) => migrate(d)));
        expect(done.flat().sort((a, b) => a - b)).toEqual(migrations.map((m) => m.version).sort((a, b) => a - b));
      } finally {
        for (const d of dbs) await d.close();
        await dropPgSchema(fresh);
      }
    });

    test("a bad URL is a clear error that does not show the password", async () => {
      const bad = PG_BAD_URL();
      let msg = "";
      try {
        const d = await openDb({ url: bad });
        await d.close();
      } catch (e) {
        msg = String((e as Error).message);
      }
      expect(msg).toMatch(/cannot open PostgreSQL database/);
      expect(msg).not.toContain("hunter2");
    });
  });
}

/** The test server's host with a port nothing listens on and a password. */
function PG_BAD_URL(): string {
  const u = new URL(process.env.PILLARBOX_TEST_PG_URL!);
  u.port = "1";
  u.password = "hunter2";
  return u.toString();
}
