/**
 * Found item 9: `--version` names the commit and the date, and a binary refuses
 * a database that a newer Pillarbox migrated — serve, the admin commands and
 * check, each with the same words, and nothing written to the database.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDb } from "../../storage/db.ts";
import { assertKnownSchema } from "../../storage/migrate.ts";
import { migrations } from "../../storage/migrations/index.ts";
import { REPO_ROOT, runCli } from "../helpers/proc.ts";
import { LISTENER_DEFAULTS } from "../../src/registry.ts";
import { dropPgSchema, freshPgUrl, pgAvailable } from "../helpers/engines.ts";
import { migrate } from "../../storage/migrate.ts";

setDefaultTimeout(60_000);
const root = mkdtempSync(join(tmpdir(), "pb-version-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function env(dataDir: string): Record<string, string | undefined> {
  const e: Record<string, string | undefined> = { PILLARBOX_DATA_DIR: dataDir, PILLARBOX_CONFIG: undefined, PILLARBOX_HOSTNAME: "mail.version.test" };
  for (const k of Object.keys(process.env)) if (k.startsWith("PILLARBOX_") && !(k in e)) e[k] = undefined;
  for (const n of Object.keys(LISTENER_DEFAULTS)) e[`PILLARBOX_${n}_LISTEN`] = n === "SMTP" ? "127.0.0.1:0" : "off";
  return e;
}

describe("--version", () => {
  test("version, commit and date of the checkout it runs from", async () => {
    const r = await runCli(["--version"], { env: env(join(root, "none")) });
    expect(r.code).toBe(0);
    const m = /^pillarbox (\d+\.\d+\.\d+) \(commit ([0-9a-f]{7,}(?:-dirty)?|unknown), committed (\S+), run from source\)\n$/.exec(r.stdout);
    expect(m).not.toBeNull();
    const head = execFileSync("git", ["-C", REPO_ROOT, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
    expect(head.startsWith(m![2]!.replace(/-dirty$/, ""))).toBe(true);
    expect(Number.isNaN(Date.parse(m![3]!))).toBe(false);
    // The same line for every spelling.
    expect((await runCli(["-V"], { env: env(join(root, "none")) })).stdout).toBe(r.stdout);
  });
});

describe("a database migrated by a newer Pillarbox", () => {
  const dataDir = join(root, "newer");
  const newest = Math.max(...migrations.map((m) => m.version));
  const future = newest + 1000;

  test("set up: a store with one migration row from the future", async () => {
    const made = await runCli(["domain", "add", "version.test"], { env: env(dataDir) });
    expect(made.code).toBe(0);
    const db = await openDb({ url: `file:${dataDir}/pillarbox.db` });
    try {
      await db.write((tx) => tx.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", [future, "from_the_future", Date.now()]));
    } finally {
      await db.close();
    }
  });

  const words = new RegExp(`this database was upgraded by a newer Pillarbox \\(schema ${future} > ${newest}\\): use that version or restore a backup`);

  test("serve refuses to start, in words, exit 1, no stack trace", async () => {
    const r = await runCli(["serve"], { env: env(dataDir) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(words);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).not.toContain("pillarbox serving");
  });

  test("admin commands that open the store refuse the same way", async () => {
    for (const args of [["user", "list"], ["domain", "list"], ["user", "add", "x@version.test"]]) {
      const r = await runCli(args, { env: env(dataDir) });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(words);
    }
  });

  test("check fails with the same words", async () => {
    const r = await runCli(["check"], { env: env(dataDir) });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`FAIL  ${words.source}`));
  });

  test("nothing was written: no account appeared, the future row is still there", async () => {
    const db = await openDb({ url: `file:${dataDir}/pillarbox.db` });
    try {
      const rows = await db.all<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
      expect(rows.map((r) => Number(r.version))).toContain(future);
      expect(await db.all("SELECT 1 FROM accounts WHERE email = ?", ["x@version.test"])).toEqual([]);
    } finally {
      await db.close();
    }
  });

  test("a current database passes the guard; an unknown lower version is named", () => {
    const known = migrations.map((m) => m.version);
    expect(() => assertKnownSchema(known)).not.toThrow();
    expect(() => assertKnownSchema([...known, 5])).toThrow(/migrations 5 unknown to this version/);
  });
});

if (pgAvailable()) {
  describe("the same guard on PostgreSQL", () => {
    test("a schema with a future migration: migrate() and the CLI refuse it in words", async () => {
      const url = await freshPgUrl("newer");
      try {
        const db = await openDb({ url });
        try {
          await migrate(db);
          const newest = Math.max(...migrations.map((m) => m.version));
          await db.write((tx) => tx.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", [newest + 7, "from_the_future", Date.now()]));
          await expect(migrate(db)).rejects.toThrow(`this database was upgraded by a newer Pillarbox (schema ${newest + 7} > ${newest})`);
        } finally {
          await db.close();
        }
        const r = await runCli(["user", "list"], { env: { ...env(join(root, "pg")), PILLARBOX_DATABASE_URL: url } });
        expect(r.code).toBe(1);
        expect(r.stderr).toContain("this database was upgraded by a newer Pillarbox");
      } finally {
        await dropPgSchema(url);
      }
    });
  });
}
