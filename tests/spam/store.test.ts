/**
 * storage/spam-store.ts on both engines (migration 0043): allow/deny lists by
 * scope (idempotent, moved between kinds, bounded, bad patterns refused in
 * words, removed with the account), decayed per-domain reputation, RFC 6647
 * greylisting triplets (new, early, pass, kept passed); and the Drizzle
 * description of the tables matches the migration.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { getTableConfig } from "drizzle-orm/sqlite-core";
import { StoreError } from "../../storage/api.ts";
import { SqlSpamStore, normalizeListPattern } from "../../storage/spam-store.ts";
import { spamTables } from "../../storage/schema.ts";
import { storeEngines } from "../helpers/engines.ts";
import { setupAccount, tempStore, type TempStore } from "../storage/helpers.ts";

for (const engine of storeEngines()) {
  describe(`engine ${engine}`, () => {
    let t: TempStore;
    let s: SqlSpamStore;
    let a: number;
    let b: number;
    beforeAll(async () => {
      t = await tempStore({ engine });
      s = new SqlSpamStore(t.store.db);
      a = (await setupAccount(t.store, "sp1@example.com")).account.id;
      b = (await setupAccount(t.store, "sp2@example.com")).account.id;
    });
    afterAll(async () => t.cleanup());

    test("lists: scopes, idempotent add, allow<->deny moves, remove, entriesFor", async () => {
      const e1 = await s.addEntry({ accountId: a }, "allow", " Friend@Example.ORG ");
      expect(e1.pattern).toBe("friend@example.org");
      expect((await s.addEntry({ accountId: a }, "allow", "friend@example.org")).id).toBe(e1.id);
      await s.addEntry({ accountId: b }, "deny", "spam.example");
      await s.addEntry({ domain: "example.com" }, "deny", "@bad.example");
      await s.addEntry("global", "deny", "*.worse.example");
      expect((await s.listEntries({ accountId: a })).map((e) => [e.kind, e.pattern])).toEqual([["allow", "friend@example.org"]]);
      expect((await s.listEntries("global")).map((e) => e.pattern)).toEqual(["worse.example"]);
      const forA = await s.entriesFor(a, "example.com");
      expect(forA.map((e) => e.pattern).sort()).toEqual(["bad.example", "friend@example.org", "worse.example"]);
      // Denying what was allowed moves it: one entry per pattern and scope.
      await s.addEntry({ accountId: a }, "deny", "friend@example.org");
      expect((await s.listEntries({ accountId: a })).map((e) => [e.kind, e.pattern])).toEqual([["deny", "friend@example.org"]]);
      const id = (await s.listEntries({ accountId: a }))[0]!.id;
      expect(await s.removeEntry({ accountId: b }, id)).toBe(false);
      expect(await s.removeEntry({ accountId: a }, id)).toBe(true);
      expect(await s.listEntries({ accountId: a })).toEqual([]);
    });

    test("lists: bad patterns are refused in words; a scope holds at most 1,000", async () => {
      for (const bad of ["", "no spaces@x y.example", "localhost", "a@", "@", "x".repeat(400)]) {
        try {
          await s.addEntry({ accountId: a }, "allow", bad);
          throw new Error(`accepted ${bad}`);
        } catch (e) {
          expect(e).toBeInstanceOf(StoreError);
          expect((e as StoreError).code).toBe("INVALID");
        }
      }
      expect(normalizeListPattern("Example.COM.")).toBe("example.com");
      for (let i = 0; i < 1000; i++) await s.addEntry({ domain: "many.example" }, "deny", `s${i}.example`);
      try {
        await s.addEntry({ domain: "many.example" }, "deny", "one-more.example");
        throw new Error("accepted the 1,001st");
      } catch (e) {
        expect((e as StoreError).code).toBe("LIMIT");
      }
    }, 60_000);

    test("reputation: counts per domain, decayed with age", async () => {
      expect(await s.reputation("rep.example")).toBeNull();
      const now = Date.now();
      await s.noteReputation("Rep.Example", "spam", now);
      await s.noteReputation("rep.example", "spam", now);
      await s.noteReputation("rep.example", "ham", now);
      const r = (await s.reputation("rep.example"))!;
      expect(r.spam).toBeCloseTo(2, 1);
      expect(r.ham).toBeCloseTo(1, 1);
      // Sixty days later the old counts weigh a quarter.
      await s.noteReputation("old.example", "ham", now - 60 * 86_400_000);
      expect((await s.reputation("old.example"))!.ham).toBeCloseTo(0.25, 2);
    });

    test("greylisting: new, early, pass, kept passed", async () => {
      const now = Date.now();
      expect(await s.greylist("k1", now, 60_000, 1_000_000)).toBe("new");
      expect(await s.greylist("k1", now + 1000, 60_000, 1_000_000)).toBe("early");
      expect(await s.greylist("k1", now + 61_000, 60_000, 1_000_000)).toBe("pass");
      expect(await s.greylist("k1", now + 62_000, 60_000, 1_000_000)).toBe("pass");
      // Expired passes start over.
      expect(await s.greylist("k1", now + 62_000 + 2_000_000, 60_000, 1_000_000)).toBe("new");
      expect(await s.greylist("k2", now, 0, 1_000_000)).toBe("new");
      expect(await s.greylist("k2", now, 0, 1_000_000)).toBe("pass");
    });

    test("an account's entries go with the account", async () => {
      const c = (await setupAccount(t.store, "sp3@example.com")).account.id;
      await s.addEntry({ accountId: c }, "allow", "x@y.example");
      await t.store.removeAccount("sp3@example.com");
      expect(await s.listEntries({ accountId: c })).toEqual([]);
    });
  });
}

test("Drizzle description of the spam tables matches migration 0043", () => {
  const names = Object.values(spamTables).map((tb) => getTableConfig(tb).name).sort();
  expect(names).toEqual(["spam_greylist", "spam_lists", "spam_reputation"]);
});
