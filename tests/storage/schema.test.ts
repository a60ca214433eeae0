/** storage/schema.ts (Drizzle) and the migrated database describe the same tables, columns and indexes. */
import { expect, test } from "bun:test";
import { getTableConfig } from "drizzle-orm/sqlite-core";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { openDb } from "../../storage/db.ts";
import { migrate } from "../../storage/migrate.ts";
import { migrations } from "../../storage/migrations/index.ts";
import { FTS_COLUMNS, FTS_TABLE, tables } from "../../storage/schema.ts";
import { tempDir } from "./helpers.ts";

test("Drizzle schema matches the storage migrations", async () => {
  const dir = tempDir();
  try {
    const db = await openDb({ url: `file:${join(dir, "s.db")}` });
    // storage's own migrations: 0001-0009, 0030-0039 (item model, change feed) 0040 (account security) and 0041-0043 (issue 19 filter stores); others' tables are described in their own modules
    await migrate(db, { migrations: migrations.filter((m) => m.version < 10 || (m.version >= 30 && m.version <= 43)) });
    for (const table of Object.values(tables)) {
      const cfg = getTableConfig(table);
      const cols = await db.all<{ name: string; notnull: number; pk: number }>(`PRAGMA table_info(${cfg.name})`);
      expect(cols.length).toBeGreaterThan(0);
      expect(cfg.columns.map((c) => c.name).sort()).toEqual(cols.map((c) => c.name).sort());
      for (const c of cfg.columns) {
        const dbc = cols.find((x) => x.name === c.name)!;
        expect([cfg.name, c.name, c.notNull || c.primary]).toEqual([cfg.name, c.name, dbc.notnull === 1 || dbc.pk === 1]);
      }
      const idx = await db.all<{ name: string; origin: string }>(`PRAGMA index_list(${cfg.name})`);
      const created = idx.filter((i) => i.origin === "c").map((i) => i.name).sort();
      // these two are UNIQUE(...) constraints inside CREATE TABLE (SQLite autoindexes), not CREATE INDEX
      const tableUniques = ["aliases_source_destination", "folders_account_name"];
      const declared = cfg.indexes.map((i) => i.config.name).filter((n) => !tableUniques.includes(n));
      expect([cfg.name, declared.sort()]).toEqual([cfg.name, created]);
    }
    const fts = await db.all<{ name: string }>(`PRAGMA table_info(${FTS_TABLE})`);
    expect(fts.map((c) => c.name)).toEqual([...FTS_COLUMNS]);
    await db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
