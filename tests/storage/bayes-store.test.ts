/**
 * storage/bayes-store.ts (migration 0042) on both engines: counts per model
 * and token, totals, trained-as per message so moving a message in, out and in
 * again counts once, retraining as the other class, forgetting, the token
 * lookup in one query, pruning, and models going with their account.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SqlBayesStore } from "../../storage/bayes-store.ts";
import { storeEngines } from "../helpers/engines.ts";
import { setupAccount, tempStore, type TempStore } from "./helpers.ts";

for (const engine of storeEngines()) {
  describe(`engine ${engine}`, () => {
    let t: TempStore;
    let bayes: SqlBayesStore;
    let id: number;
    let other: number;
    beforeAll(async () => {
      t = await tempStore({ engine });
      bayes = new SqlBayesStore(t.store.db);
      id = (await setupAccount(t.store, "bayes@example.com")).account.id;
      other = (await setupAccount(t.store, "other@example.com")).account.id;
    });
    afterAll(async () => t.cleanup());

    test("an untrained scope has zero totals, no tokens, nothing trained", async () => {
      expect(await bayes.totals({ accountId: id })).toEqual({ spam: 0, ham: 0 });
      expect((await bayes.tokenCounts({ accountId: id }, ["a", "b"])).size).toBe(0);
      expect(await bayes.trainedAs({ accountId: id }, "k")).toBeNull();
      expect(await bayes.learn({ accountId: id }, "k", ["a"], null)).toBe(false);
      expect(await bayes.totals({ accountId: id })).toEqual({ spam: 0, ham: 0 });
    });

    test("learn counts each token once per message; the same message again changes nothing", async () => {
      const s = { accountId: id };
      expect(await bayes.learn(s, "m1", ["cheap", "pills", "cheap", "subject:offer"], "spam")).toBe(true);
      expect(await bayes.learn(s, "m1", ["cheap", "pills", "subject:offer"], "spam")).toBe(false);
      expect(await bayes.learn(s, "m2", ["cheap", "meeting"], "ham")).toBe(true);
      expect(await bayes.totals(s)).toEqual({ spam: 1, ham: 1 });
      const c = await bayes.tokenCounts(s, ["cheap", "pills", "meeting", "absent", "subject:offer"]);
      expect(Object.fromEntries(c)).toEqual({ cheap: { spam: 1, ham: 1 }, pills: { spam: 1, ham: 0 }, meeting: { spam: 0, ham: 1 }, "subject:offer": { spam: 1, ham: 0 } });
      expect(await bayes.trainedAs(s, "m1")).toBe("spam");
      expect(await bayes.trainedAs(s, "m2")).toBe("ham");
    });

    test("in, out (as ham) and in again: one spam count at the end; null forgets", async () => {
      const s = { accountId: id };
      expect(await bayes.learn(s, "m1", ["cheap", "pills", "subject:offer"], "ham")).toBe(true);
      expect(await bayes.totals(s)).toEqual({ spam: 0, ham: 2 });
      expect(Object.fromEntries(await bayes.tokenCounts(s, ["cheap", "pills"]))).toEqual({ cheap: { spam: 0, ham: 2 }, pills: { spam: 0, ham: 1 } });
      expect(await bayes.learn(s, "m1", ["cheap", "pills", "subject:offer"], "spam")).toBe(true);
      expect(await bayes.totals(s)).toEqual({ spam: 1, ham: 1 });
      expect(Object.fromEntries(await bayes.tokenCounts(s, ["cheap", "pills"]))).toEqual({ cheap: { spam: 1, ham: 1 }, pills: { spam: 1, ham: 0 } });
      expect(await bayes.learn(s, "m1", ["cheap", "pills", "subject:offer"], null)).toBe(true);
      expect(await bayes.trainedAs(s, "m1")).toBeNull();
      expect(await bayes.totals(s)).toEqual({ spam: 0, ham: 1 });
      // tokens whose counts reached zero are gone
      expect(Object.fromEntries(await bayes.tokenCounts(s, ["cheap", "pills"]))).toEqual({ cheap: { spam: 0, ham: 1 } });
    });

    test("scopes are separate: account, other account, domain (case-insensitive)", async () => {
      await bayes.learn({ domain: "Example.COM" }, "m9", ["shared"], "spam");
      expect(await bayes.totals({ domain: "example.com" })).toEqual({ spam: 1, ham: 0 });
      expect((await bayes.tokenCounts({ accountId: id }, ["shared"])).size).toBe(0);
      expect((await bayes.tokenCounts({ accountId: other }, ["cheap"])).size).toBe(0);
      expect(await bayes.trainedAs({ accountId: other }, "m2")).toBeNull();
    });

    test("thousands of tokens in one learn and one lookup; odd and over-long tokens are stored safely", async () => {
      const s = { accountId: other };
      const tokens = Array.from({ length: 3000 }, (_, i) => `tok${i}`);
      tokens.push("quote'\"; DROP TABLE bayes_tokens; --", "ünïcödé", "x".repeat(500), "");
      expect(await bayes.learn(s, "big", tokens, "spam")).toBe(true);
      const c = await bayes.tokenCounts(s, tokens);
      expect(c.size).toBe(3003);
      expect(c.get("quote'\"; DROP TABLE bayes_tokens; --")).toEqual({ spam: 1, ham: 0 });
      expect(c.get("ünïcödé")).toEqual({ spam: 1, ham: 0 });
      expect(await bayes.learn(s, "big", tokens, null)).toBe(true);
      expect((await bayes.tokenCounts(s, tokens)).size).toBe(0);
    });

    test("prune drops old single-message tokens, then the rarest beyond maxTokens", async () => {
      const s = { domain: "prune.example" };
      await bayes.learn(s, "p1", ["common", "rare1", "rare2", "rare3"], "spam");
      await bayes.learn(s, "p2", ["common"], "ham");
      const now = Date.now();
      // nothing is old yet
      expect(await bayes.prune(s, { maxTokens: 100, olderThanMs: 3_600_000, now })).toBe(0);
      // everything is "old" at now + 2h: the three seen once go, "common" (2 messages) stays
      expect(await bayes.prune(s, { maxTokens: 100, olderThanMs: 3_600_000, now: now + 7_200_000 })).toBe(3);
      expect([...(await bayes.tokenCounts(s, ["common", "rare1", "rare2", "rare3"])).keys()]).toEqual(["common"]);
      await bayes.learn(s, "p3", ["a1", "a2", "common"], "spam");
      expect(await bayes.prune(s, { maxTokens: 1, olderThanMs: 3_600_000, now })).toBe(2);
      expect([...(await bayes.tokenCounts(s, ["common", "a1", "a2"])).keys()]).toEqual(["common"]);
      expect(await bayes.prune({ domain: "never.example" }, { maxTokens: 1, olderThanMs: 0, now })).toBe(0);
    });

    test("concurrent learns of one message count it once", async () => {
      const s = { accountId: other };
      const r = await Promise.all(Array.from({ length: 8 }, () => bayes.learn(s, "race", ["r1", "r2"], "ham")));
      expect(r.filter(Boolean).length).toBe(1);
      expect(Object.fromEntries(await bayes.tokenCounts(s, ["r1"]))).toEqual({ r1: { spam: 0, ham: 1 } });
    });

    test("an account's model goes with the account", async () => {
      const gone = (await setupAccount(t.store, "gone@example.com")).account.id;
      await bayes.learn({ accountId: gone }, "g1", ["bye"], "spam");
      await t.store.removeAccount("gone@example.com");
      expect(await bayes.totals({ accountId: gone })).toEqual({ spam: 0, ham: 0 });
      const left = await t.store.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM bayes_tokens WHERE token = ?", ["bye"]);
      expect(Number(left?.n)).toBe(0);
    });
  });
}
