/**
 * Several store instances on one database, as several processes or nodes
 * would run: the outbound queue hands each due entry to exactly one claimer
 * (PostgreSQL: FOR UPDATE SKIP LOCKED), and deliveries to the same accounts
 * in opposite orders never deadlock (accounts locked in ascending id order).
 * On SQLite the write transaction already serializes the instances; the
 * rules are the same.
 */
import { describe, expect, test } from "bun:test";
import { passwordHasher } from "../../src/auth.ts";
import { openStore, type SqlMailStore } from "../../storage/store.ts";
import { storeEngines } from "../helpers/engines.ts";
import { makeMessage, setupAccount, tempStore } from "./helpers.ts";

for (const engine of storeEngines()) {
  describe(`engine ${engine}`, () => {
    test("four instances claiming the queue at once: every due entry goes to exactly one", async () => {
      const t = await tempStore({ engine });
      const others: SqlMailStore[] = [];
      try {
        for (let i = 0; i < 3; i++) others.push(await openStore({ hasher: passwordHasher, url: t.url, dataDir: t.dir, gcIntervalMs: 0 }));
        const raw = makeMessage({ subject: "queued" });
        const ids: number[] = [];
        for (let i = 0; i < 60; i++) ids.push((await t.store.enqueue({ sender: "a@example.com", recipients: [`r${i}@remote.example`], raw })).id);
        const now = Date.now() + 1000;
        const stores = [t.store, ...others];
        const claimed: number[][] = stores.map(() => []);
        // rounds of simultaneous claims until nothing is left
        for (let round = 0; round < 40; round++) {
          const got = await Promise.all(stores.map((s) => s.claimDueQueueEntries(now, 7, 60_000)));
          got.forEach((g, i) => claimed[i].push(...g.map((e) => e.id)));
          if (got.every((g) => g.length === 0)) break;
        }
        const all = claimed.flat().sort((a, b) => a - b);
        expect(all).toEqual([...ids].sort((a, b) => a - b)); // each exactly once
        expect(claimed.filter((c) => c.length > 0).length).toBeGreaterThan(0);
        // locked entries are not due again until the lock expires
        expect(await t.store.claimDueQueueEntries(now, 100, 60_000)).toEqual([]);
        expect((await t.store.claimDueQueueEntries(now + 61_000, 100, 1000)).length).toBe(60);
      } finally {
        for (const o of others) await o.close();
        await t.cleanup();
      }
    }, 60_000);

    test("deliveries to the same accounts in opposite orders from two instances all land, none deadlocks", async () => {
      const t = await tempStore({ engine });
      const other = await openStore({ hasher: passwordHasher, url: t.url, dataDir: t.dir, gcIntervalMs: 0 });
      try {
        const a = await setupAccount(t.store, "a@example.com");
        const b = await setupAccount(t.store, "b@example.com");
        const c = await setupAccount(t.store, "c@example.com");
        const accts = [a.account.id, b.account.id, c.account.id];
        const n = 40;
        const jobs: Promise<unknown>[] = [];
        for (let i = 0; i < n; i++) {
          const order = i % 2 ? [...accts] : [...accts].reverse();
          const s = i % 2 ? t.store : other;
          jobs.push(s.deliver(makeMessage({ subject: `m${i}` }), order.map((accountId) => ({ accountId }))));
        }
        const settled = await Promise.allSettled(jobs);
        expect(settled.filter((r) => r.status === "rejected").map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
        for (const x of [a, b, c]) {
          const list = await t.store.listMessages(x.inbox.id);
          expect(list.length).toBe(n);
          expect(new Set(list.map((m) => m.uid)).size).toBe(n);
          expect((await t.store.quota(x.account.id)).messages).toBe(n);
        }
        expect(await t.store.integrityCheck()).toEqual(["ok"]);
      } finally {
        await other.close();
        await t.cleanup();
      }
    }, 60_000);

    test("sends that cross (A to B with A's Sent copy, B to A with B's Sent copy) from two instances never deadlock", async () => {
      const t = await tempStore({ engine });
      const other = await openStore({ hasher: passwordHasher, url: t.url, dataDir: t.dir, gcIntervalMs: 0 });
      try {
        const a = await setupAccount(t.store, "a@example.com");
        const b = await setupAccount(t.store, "b@example.com");
        const sentA = (await t.store.getFolder(a.account.id, "Sent"))!;
        const sentB = (await t.store.getFolder(b.account.id, "Sent"))!;
        const n = 30;
        const jobs: Promise<unknown>[] = [];
        for (let i = 0; i < n; i++) {
          jobs.push(t.store.deliverAndEnqueue({ raw: makeMessage({ subject: `a${i}` }), local: [{ accountId: b.account.id }], copies: [{ folderId: sentA.id, flags: ["\\Seen"] }] }));
          jobs.push(other.deliverAndEnqueue({ raw: makeMessage({ subject: `b${i}` }), local: [{ accountId: a.account.id }], copies: [{ folderId: sentB.id, flags: ["\\Seen"] }] }));
        }
        const settled = await Promise.allSettled(jobs);
        expect(settled.filter((r) => r.status === "rejected").map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
        for (const f of [a.inbox, b.inbox, sentA, sentB]) expect((await t.store.listMessages(f.id)).length).toBe(n);
        expect(await t.store.integrityCheck()).toEqual(["ok"]);
      } finally {
        await other.close();
        await t.cleanup();
      }
    }, 60_000);

    test("the same message to one account and to several at once, from two instances, never deadlocks on its blob", async () => {
      const t = await tempStore({ engine });
      const other = await openStore({ hasher: passwordHasher, url: t.url, dataDir: t.dir, gcIntervalMs: 0 });
      try {
        const a = await setupAccount(t.store, "a@example.com");
        const b = await setupAccount(t.store, "b@example.com");
        const n = 30;
        const jobs: Promise<unknown>[] = [];
        for (let i = 0; i < n; i++) {
          // identical bytes: one blob row that both transactions insert
          const raw = makeMessage({ subject: `same ${i}`, messageId: `<same-${i}@example.com>` });
          jobs.push(t.store.deliver(raw, [{ accountId: a.account.id }, { accountId: b.account.id }]));
          jobs.push(other.deliver(raw, [{ accountId: b.account.id }]));
        }
        const settled = await Promise.allSettled(jobs);
        expect(settled.filter((r) => r.status === "rejected").map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
        expect((await t.store.listMessages(a.inbox.id)).length).toBe(n);
        expect((await t.store.listMessages(b.inbox.id)).length).toBe(2 * n);
        expect(Number((await t.store.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM blobs"))!.n)).toBe(n);
      } finally {
        await other.close();
        await t.cleanup();
      }
    }, 60_000);
  });
}
