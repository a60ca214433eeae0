/**
 * UID safety (RFC 9051 §2.3.1.1): concurrent writers — in one process and in
 * eight OS processes sharing the database file — never produce a duplicate or
 * reused UID, and UIDs continue above the old maximum after expunge + restart.
 */
import { describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { BUN, makeMessage, setupAccount, strictlyAscending, tempStore } from "./helpers.ts";
import { storeEngines } from "../helpers/engines.ts";

// Every test runs on SQLite and on PostgreSQL (tests/helpers/engines.ts).
for (const engine of storeEngines()) {
describe(`engine ${engine}`, () => {
const WORKER = join(import.meta.dir, "fixtures/append-worker.ts");

function runWorker(dir: string, url: string, target: string, count: number, tag: string): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const p = spawn(BUN, [WORKER, dir, url, target, String(count), tag], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("error", reject);
    p.on("exit", (code) => {
      if (code !== 0) reject(new Error(`worker ${tag} exited ${code}: ${err.slice(0, 2000)}`));
      else resolve(out.trim().split("\n").filter(Boolean).map((l) => Number(l.split(" ")[0])));
    });
  });
}

test("8 concurrent in-process writers: unique, ascending UIDs", async () => {
  const t = await tempStore({ engine });
  try {
    const { inbox } = await setupAccount(t.store);
    const perWriter = 150;
    const all: number[][] = await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        const mine: number[] = [];
        for (let i = 0; i < perWriter; i++) {
          // mix single appends, multi-appends and copies of the same content
          if (i % 10 === 0) {
            const rs = await t.store.append(inbox.id, [{ raw: makeMessage({ subject: `w${w}-${i}a` }) }, { raw: makeMessage({ subject: `w${w}-${i}b` }) }]);
            mine.push(...rs.map((r) => r.uid));
          } else {
            const [r] = await t.store.append(inbox.id, [{ raw: makeMessage({ subject: `w${w}-${i}` }) }]);
            mine.push(r.uid);
          }
        }
        return mine;
      }),
    );
    for (const mine of all) expect(strictlyAscending(mine)).toBe(true);
    const flat = all.flat();
    expect(new Set(flat).size).toBe(flat.length);
    const list = await t.store.listMessages(inbox.id);
    expect(list.length).toBe(flat.length);
    expect(strictlyAscending(list.map((m) => m.uid))).toBe(true);
    expect(Math.max(...flat)).toBe(flat.length);
  } finally {
    await t.cleanup();
  }
}, 120_000);

test("8 OS processes appending to one database file: no duplicate UID; UIDs continue after expunge + restart", async () => {
  const t = await tempStore({ engine });
  try {
    const { account, inbox } = await setupAccount(t.store);
    const per = 60;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, w) => runWorker(t.dir, t.url, w % 2 ? String(inbox.id) : `account:${account.id}`, per, `p${w}`)),
    );
    for (const r of results) {
      expect(r.length).toBe(per);
      expect(strictlyAscending(r)).toBe(true);
    }
    const flat = results.flat();
    expect(new Set(flat).size).toBe(8 * per);
    // this process's view (opened before the children wrote) sees all of them
    const list = await t.store.listMessages(inbox.id);
    expect(list.length).toBe(8 * per);
    expect(strictlyAscending(list.map((m) => m.uid))).toBe(true);
    const maxUid = Math.max(...flat);
    expect((await t.store.quota(account.id)).messages).toBe(8 * per);

    // expunge everything, restart, append: UIDs never go back
    await t.store.storeFlags(inbox.id, list.map((m) => m.uid), "add", ["\\Deleted"]);
    expect((await t.store.expunge(inbox.id)).length).toBe(8 * per);
    const store = await t.reopen();
    const [r] = await store.append(inbox.id, [{ raw: makeMessage({ subject: "after" }) }]);
    expect(r.uid).toBe(maxUid + 1);
    const more = await runWorker(t.dir, t.url, String(inbox.id), 3, "late");
    expect(more).toEqual([maxUid + 2, maxUid + 3, maxUid + 4]);
    expect((await store.folderStatus(inbox.id)).uidNext).toBe(maxUid + 5);
    expect(await store.integrityCheck()).toEqual(["ok"]);
  } finally {
    await t.cleanup();
  }
}, 180_000);

test("group commit: concurrent writes where some fail (quota) leave the others intact and the usage exact", async () => {
  const t = await tempStore({ engine });
  try {
    const { account, inbox } = await setupAccount(t.store, "group@example.com", 30_000);
    const attempts = Array.from({ length: 40 }, (_, i) => makeMessage({ subject: `g${i}`, size: 1500 + (i % 7) * 300 }));
    const settled = await Promise.allSettled(attempts.map((raw) => t.store.append(inbox.id, [{ raw }])));
    const ok = settled.filter((s) => s.status === "fulfilled") as PromiseFulfilledResult<{ uid: number; id: number }[]>[];
    const failed = settled.filter((s) => s.status === "rejected") as PromiseRejectedResult[];
    expect(ok.length).toBeGreaterThan(5);
    expect(failed.length).toBeGreaterThan(5);
    for (const f of failed) expect((f.reason as Error).name).toBe("QuotaExceededError");
    const list = await t.store.listMessages(inbox.id);
    expect(list.map((m) => m.id).sort((a, b) => a - b)).toEqual(ok.map((o) => o.value[0].id).sort((a, b) => a - b));
    // rolled-back jobs gave their UIDs back with everything else: no gaps, no duplicates
    expect(list.map((m) => m.uid)).toEqual(Array.from({ length: list.length }, (_, i) => i + 1));
    const q = await t.store.quota(account.id);
    expect(q.usedBytes).toBe(list.reduce((s, m) => s + m.size, 0));
    expect(q.usedBytes).toBeLessThanOrEqual(30_000);
    expect(q.messages).toBe(list.length);
  } finally {
    await t.cleanup();
  }
});
});
}
