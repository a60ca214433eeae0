/**
 * The store benchmarks' workloads (src/cli/bench-store.ts) do what their
 * figures claim, and both entry points run: `pillarbox bench-store` (the
 * footprint bench) and scripts/bench/store-throughput.ts (engines and
 * checkouts side by side). Counts are asserted, never timings.
 */
import { expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStorage } from "../storage/open.ts";
import { passwordHasher } from "../src/auth.ts";
import { benchAccount, benchMessage, dropBenchAccount, fillFolder, measureDeliveries, median } from "../src/cli/bench-store.ts";
import { run } from "./helpers/proc.ts";

const ROOT = join(import.meta.dir, "..");
const BUN = process.execPath;

test("the workloads deliver distinct 10 KB messages, fill a folder, and clean up after themselves", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pb-bench-test-"));
  const storage = await openStorage({ hasher: passwordHasher, url: `file:${join(dir, "t.db")}`, dataDir: dir, gcIntervalMs: 0 });
  try {
    const store = storage.mail;
    expect(benchMessage(1, "a@b.test").length).toBe(10 * 1024);
    const acct = await benchAccount(store);
    const other = await benchAccount(store);
    expect(other.domain).not.toBe(acct.domain);
    const rate = await measureDeliveries(store, acct.accountId, acct.email, 40, 8);
    expect(rate).toBeGreaterThan(0);
    const inbox = (await store.getFolder(acct.accountId, "INBOX"))!;
    const list = await store.listMessages(inbox.id);
    expect(list).toHaveLength(40);
    // every delivery is its own blob (no dedupe shortcut), each of 10 KB
    const blobs = await store.blobIdsByUid(inbox.id, 1, list[list.length - 1]!.uid);
    expect(new Set(blobs.values()).size).toBe(40);
    expect(list.every((m) => m.size === 10 * 1024)).toBe(true);

    const folder = await store.createFolder(acct.accountId, "Bench list");
    await fillFolder(store, folder.id, 2500);
    expect(await store.listMessages(folder.id)).toHaveLength(2500);

    await dropBenchAccount(store, acct);
    expect(await store.getAccount(acct.email)).toBeNull();
    expect(await store.getDomain(acct.domain)).toBeNull();
    expect(await store.getAccount(other.email)).not.toBeNull();
    expect(median([3, 1, 2])).toBe(2);
  } finally {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

test("pillarbox bench-store prints deliveries per second and leaves nothing behind", async () => {
  const parent = mkdtempSync(join(tmpdir(), "pb-bench-cli-"));
  try {
    const r = await run(BUN, [join(ROOT, "src/main.ts"), "bench-store", "--count", "30", "--concurrency", "4", "--dir", parent], { timeoutMs: 60_000 });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^deliveries_per_second=\d+ count=30 concurrency=4 size=10KB fsync=on\n$/);
    // the temporary store under --dir is removed
    expect(readdirSync(parent)).toEqual([]);
    const bad = await run(BUN, [join(ROOT, "src/main.ts"), "bench-store", "--count", "zero"], { timeoutMs: 30_000 });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("--count takes a positive number");
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
}, 90_000);

test("store-throughput.ts measures every workload on SQLite and prints a table", async () => {
  const r = await run(BUN, [join(ROOT, "scripts/bench/store-throughput.ts"), "--count", "20", "--list", "300", "--flags", "50"], { timeoutMs: 120_000 });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const rows = r.stdout.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| SQLite"));
  expect(rows.map((l) => l.split(" | ")[0]!.slice(2))).toEqual([
    "deliver 10 KB, 16 concurrent (20 messages)",
    "deliver 10 KB, one at a time (20 messages)",
    "listMessages of 300 messages, cold (after reopen)",
    "listMessages of 300 messages, warm (median of 5)",
    "storeFlags +\\Flagged on 50 messages, one call",
    "storeFlags -\\Seen on 50 messages, one call each",
  ]);
  const bad = await run(BUN, [join(ROOT, "scripts/bench/store-throughput.ts"), "--flags", "20", "--list", "10"], { timeoutMs: 30_000 });
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain("--flags must not exceed --list");
}, 150_000);
