/**
 * Store throughput on one engine, through the same open function the server
 * uses (`openStorage()`), so SQLite and PostgreSQL (and an older checkout) can be compared:
 *  - deliver: 10 KB messages to one mailbox, 16 deliver() calls in flight
 *    (as SMTP sessions issue them; fsync on), and one at a time;
 *  - listMessages of a 10,000-message folder: the first call after the store
 *    is reopened (cold) and the median of the next five (warm);
 *  - flags on 1,000 messages: one storeFlags over 1,000 UIDs (IMAP
 *    `UID STORE 1:1000`), and 1,000 single-message storeFlags calls one after
 *    another (a client marking mail read one by one).
 * Prints a Markdown table; every run uses a fresh account on a fresh domain
 * (so a shared PostgreSQL database can be reused) and removes it afterwards.
 *
 *   bun scripts/bench/store-throughput.ts [--url URL] [--repo DIR] [--count N] [--list N] [--flags N] [--label TEXT]
 *     --url    database URL: postgres://user@host:port/db, or file:PATH (default: a
 *              fresh SQLite file in a temporary data dir)
 *     --repo   open the store of another checkout (e.g. /tmp/pb-base) with the same
 *              workload code, for a before/after figure
 *     --count  messages to deliver (default 2000; one-at-a-time uses min(count, 500))
 *     --list   size of the listed folder (default 10000); --flags: messages whose flags change (default 1000)
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { MailStore } from "../../storage/api.ts";
import { benchAccount, dropBenchAccount, fillFolder, measureDeliveries, median, timeRuns } from "../../src/cli/bench-store.ts";

interface Args {
  url: string | null;
  repo: string | null;
  count: number;
  list: number;
  flags: number;
  label: string | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { url: null, repo: null, count: 2000, list: 10_000, flags: 1000, label: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = argv[i + 1];
    const num = () => {
      if (!v || !/^\d+$/.test(v) || Number(v) < 1) throw new Error(`${k} takes a positive number`);
      return Number(v);
    };
    if (k === "--url" && v) a.url = v;
    else if (k === "--repo" && v) a.repo = resolve(v);
    else if (k === "--label" && v) a.label = v;
    else if (k === "--count") a.count = num();
    else if (k === "--list") a.list = num();
    else if (k === "--flags") a.flags = num();
    else throw new Error(`unknown argument ${k} (see the header of scripts/bench/store-throughput.ts)`);
    i++;
  }
  if (a.flags > a.list) throw new Error("--flags must not exceed --list");
  return a;
}

type Opener = (url: string, dataDir: string) => Promise<MailStore>;

/**
 * The store of a checkout, opened as its server opens it: `openStorage()`
 * (storage/open.ts, with the checkout's own password hasher from src/auth.ts)
 * when the checkout has it (issue 14), else `openStore()` (before the split).
 */
async function opener(repo: string): Promise<Opener> {
  const load = async (path: string): Promise<Record<string, unknown>> => {
    if (!existsSync(join(repo, path))) return {};
    return (await import(pathToFileURL(join(repo, path)).href)) as Record<string, unknown>;
  };
  type Open = (o: { url: string; dataDir: string; gcIntervalMs?: number; hasher?: unknown }) => Promise<unknown>;
  const openStorage = (await load("storage/open.ts"))["openStorage"] as Open | undefined;
  // the checkout's hasher (before issue 14 the store hashed by itself and takes none)
  const hasher = (await load("src/auth.ts"))["passwordHasher"];
  if (openStorage) {
    return async (url, dataDir) => {
      const s = (await openStorage({ hasher, url, dataDir, gcIntervalMs: 0 })) as { mail: MailStore };
      // openStorage() returns every store on one database; the bench needs the mail store
      return s.mail;
    };
  }
  const openStore = (await load("storage/store.ts"))["openStore"] as Open | undefined;
  if (!openStore) throw new Error(`${repo} has neither storage/open.ts openStorage() nor storage/store.ts openStore()`);
  return async (url, dataDir) => (await openStore({ hasher, url, dataDir, gcIntervalMs: 0 })) as MailStore;
}

function engineOf(url: string): string {
  return /^postgres(ql)?:/.test(url) ? "PostgreSQL" : "SQLite";
}

const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const repo = args.repo ?? resolve(import.meta.dir, "../..");
  const open = await opener(repo);
  const dataDir = mkdtempSync(join(tmpdir(), "pb-store-throughput-"));
  const url = args.url ?? `file:${join(dataDir, "bench.db")}`;
  const label = args.label ?? `${engineOf(url)}${args.repo ? ` (${args.repo})` : ""}`;
  const rows: [string, string][] = [];
  let store = await open(url, dataDir);
  const acct = await benchAccount(store);
  try {
    const conc = await measureDeliveries(store, acct.accountId, acct.email, args.count, 16);
    rows.push([`deliver 10 KB, 16 concurrent (${args.count} messages)`, `${fmt(conc)} msg/s`]);
    const serialCount = Math.min(args.count, 500);
    const serial = await measureDeliveries(store, acct.accountId, acct.email, serialCount, 1);
    rows.push([`deliver 10 KB, one at a time (${serialCount} messages)`, `${fmt(serial)} msg/s`]);

    const folder = await store.createFolder(acct.accountId, "Bench list");
    await fillFolder(store, folder.id, args.list);
    // reopen: the first listing is a cold load (no summary cache)
    await store.close();
    store = await open(url, dataDir);
    const [cold] = await timeRuns(() => store.listMessages(folder.id), 1);
    const warm = await timeRuns(() => store.listMessages(folder.id), 5);
    const list = await store.listMessages(folder.id);
    if (list.length !== args.list) throw new Error(`listMessages returned ${list.length} of ${args.list} messages`);
    rows.push([`listMessages of ${args.list} messages, cold (after reopen)`, `${fmt(cold!)} ms`]);
    rows.push([`listMessages of ${args.list} messages, warm (median of 5)`, `${fmt(median(warm))} ms`]);

    const uids = list.slice(0, args.flags).map((m) => m.uid);
    const [bulk] = await timeRuns(() => store.storeFlags(folder.id, uids, "add", ["\\Flagged"]), 1);
    rows.push([`storeFlags +\\Flagged on ${args.flags} messages, one call`, `${fmt(bulk!)} ms`]);
    const t0 = performance.now();
    for (const uid of uids) await store.storeFlags(folder.id, [uid], "remove", ["\\Seen"]);
    const each = performance.now() - t0;
    rows.push([`storeFlags -\\Seen on ${args.flags} messages, one call each`, `${fmt(each)} ms (${fmt(args.flags / (each / 1000))} /s)`]);
  } finally {
    await dropBenchAccount(store, acct).catch((e) => console.error(`cleanup: ${(e as Error).message}`));
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(`store throughput: ${label}; ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(" ")} at the end`);
  console.log(`| ${label} | |`);
  console.log("|---|---:|");
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
}

if (import.meta.main) {
  main().catch((e) => {
    console.error(`store-throughput: ${(e as Error).message}`);
    process.exit(1);
  });
}
