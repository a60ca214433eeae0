/**
 * storage/read-cache.ts and the caches the spam filter's per-message reads go
 * through (issue 19: the filter's share of SMTP delivery time): the spam lists
 * and reputation (storage/spam-store.ts) and the Bayes model totals
 * (storage/bayes-store.ts). A write through the store is seen by the next read
 * at once; a write by another process (here: a second store object on the same
 * database, as the CLI is) is seen once the entry expires; a read racing a
 * write never keeps the old value; the cache is bounded. Both engines.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ReadCache } from "../../storage/read-cache.ts";
import { SqlSpamStore } from "../../storage/spam-store.ts";
import { SqlBayesStore } from "../../storage/bayes-store.ts";
import { storeEngines } from "../helpers/engines.ts";
import { setupAccount, tempStore, type TempStore } from "./helpers.ts";

/** Polls `fn` until it answers true (state, not time: the TTL is a few milliseconds). */
async function until(fn: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("condition never held");
}

describe("ReadCache", () => {
  test("answers from memory within the TTL, reloads after invalidate", async () => {
    const c = new ReadCache<number>(10, 60_000);
    let loads = 0;
    const load = async () => ++loads;
    expect(await c.get("k", load)).toBe(1);
    expect(await c.get("k", load)).toBe(1);
    expect(loads).toBe(1);
    c.invalidate("k");
    expect(await c.get("k", load)).toBe(2);
    c.invalidate();
    expect(await c.get("k", load)).toBe(3);
  });

  test("a TTL of 0 always reads", async () => {
    const c = new ReadCache<number>(10, 0);
    let loads = 0;
    for (let i = 0; i < 3; i++) await c.get("k", async () => ++loads);
    expect(loads).toBe(3);
  });

  test("bounded: the oldest entry goes first", async () => {
    const c = new ReadCache<string>(3, 60_000);
    const loads: string[] = [];
    const get = (k: string) => c.get(k, async () => (loads.push(k), k));
    for (const k of ["a", "b", "c", "d"]) await get(k);
    expect(c.size).toBe(3);
    await get("b");
    await get("a"); // "a" was evicted: read again
    expect(loads).toEqual(["a", "b", "c", "d", "a"]);
    expect(c.size).toBe(3);
  });

  test("a read that started before an invalidation does not store its old value", async () => {
    const c = new ReadCache<string>(10, 60_000);
    let release!: (v: string) => void;
    const slow = c.get("k", () => new Promise<string>((r) => (release = r)));
    c.invalidate("k"); // a write committed while the read was in flight
    release("old");
    expect(await slow).toBe("old");
    expect(await c.get("k", async () => "new")).toBe("new");
  });

  test("a failed read stores nothing", async () => {
    const c = new ReadCache<string>(10, 60_000);
    await expect(c.get("k", async () => Promise.reject(new Error("db down")))).rejects.toThrow("db down");
    expect(c.size).toBe(0);
    expect(await c.get("k", async () => "v")).toBe("v");
  });
});

for (const engine of storeEngines()) {
  describe(`engine ${engine}`, () => {
    let t: TempStore;
    let a: number;
    beforeAll(async () => {
      t = await tempStore({ engine });
      a = (await setupAccount(t.store, "rc1@example.com")).account.id;
    });
    afterAll(async () => t.cleanup());

    test("spam lists: own writes seen at once, another writer's within the TTL", async () => {
      const s = new SqlSpamStore(t.store.db);
      const other = new SqlSpamStore(t.store.db); // another process (the CLI) on the same database
      const short = new SqlSpamStore(t.store.db, { cacheTtlMs: 5 });
      const patterns = async (st: SqlSpamStore) => (await st.entriesFor(a, "example.com")).map((e) => e.pattern).sort();
      expect(await patterns(s)).toEqual([]);
      expect(await patterns(short)).toEqual([]);
      const e = await s.addEntry({ accountId: a }, "allow", "friend@example.org");
      expect(await patterns(s)).toEqual(["friend@example.org"]);
      // server-wide and domain entries reach every account's cached answer too
      await s.addEntry("global", "deny", "worse.example");
      await s.addEntry({ domain: "example.com" }, "deny", "bad.example");
      expect(await patterns(s)).toEqual(["bad.example", "friend@example.org", "worse.example"]);
      // a change by another writer: this store keeps its answer for the TTL ...
      await other.removeEntry("global", (await other.listEntries("global"))[0]!.id);
      expect(await patterns(s)).toEqual(["bad.example", "friend@example.org", "worse.example"]);
      // ... and a store whose entries expired sees it
      await until(async () => (await patterns(short)).join() === "bad.example,friend@example.org");
      expect(await s.removeEntry({ accountId: a }, e.id)).toBe(true);
      expect(await patterns(s)).toEqual(["bad.example"]);
      // the answer is a copy: changing it changes nothing cached
      const got = await s.entriesFor(a, "example.com");
      got[0]!.pattern = "changed.example";
      got.length = 0;
      expect(await patterns(s)).toEqual(["bad.example"]);
    });

    test("reputation: noted verdicts seen at once (decayed on every read), another writer's within the TTL", async () => {
      const s = new SqlSpamStore(t.store.db);
      const short = new SqlSpamStore(t.store.db, { cacheTtlMs: 5 });
      expect(await s.reputation("rc.example")).toBeNull();
      expect(await short.reputation("rc.example")).toBeNull();
      const now = Date.now();
      await s.noteReputation("RC.example", "spam", now);
      expect((await s.reputation("rc.example"))!.spam).toBeCloseTo(1, 3);
      await s.noteReputation("rc.example", "ham", now);
      expect((await s.reputation("rc.example"))!.ham).toBeCloseTo(1, 3);
      await until(async () => ((await short.reputation("rc.example"))?.ham ?? 0) > 0.99);
    });

    test("Bayes totals: a learn is seen at once, another writer's within the TTL", async () => {
      const b = new SqlBayesStore(t.store.db);
      const other = new SqlBayesStore(t.store.db);
      const short = new SqlBayesStore(t.store.db, { cacheTtlMs: 5 });
      const scope = { accountId: a };
      expect(await b.totals(scope)).toEqual({ spam: 0, ham: 0 });
      expect(await short.totals(scope)).toEqual({ spam: 0, ham: 0 });
      expect(await b.learn(scope, "m1", ["x"], "spam")).toBe(true);
      expect(await b.totals(scope)).toEqual({ spam: 1, ham: 0 });
      expect(await b.learn(scope, "m1", ["x"], "ham")).toBe(true);
      expect(await b.totals(scope)).toEqual({ spam: 0, ham: 1 });
      await other.learn(scope, "m2", ["y"], "ham");
      expect(await b.totals(scope)).toEqual({ spam: 0, ham: 1 });
      await until(async () => (await short.totals(scope)).ham === 2);
      // the domain's shared model is a separate entry
      await b.learn({ domain: "Example.com" }, "m3", ["z"], "spam");
      expect(await b.totals({ domain: "example.com" })).toEqual({ spam: 1, ham: 0 });
      expect(await b.totals(scope)).toEqual({ spam: 0, ham: 1 });
    });
  });
}
