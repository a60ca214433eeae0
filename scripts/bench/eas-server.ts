/**
 * Server side of the ActiveSync benchmark (driven by scripts/bench/eas):
 * an in-process Pillarbox with only the HTTPS listener on 127.0.0.1 and
 * ActiveSync mounted, the bench accounts, an INBOX of N messages for the
 * first-sync account and (for scripts/bench/eas-groupware-bench.ts) a
 * calendar of E events for cal0@, an address book of C contacts for card0@
 * and the account pinger@ whose devices Ping its calendar. Prints
 * "READY <port> <pid>" and then obeys lines on stdin:
 *   DELIVER <email>   delivers one message to <email>, answers "DELIVERED <ms>"
 *   CHANGE <email>    writes one new event into <email>'s calendar (through the
 *                     groupware service, as CalDAV does), answers "CHANGED <ms>"
 *   WAITS             answers "WAITS <n>": long polls (Ping / Sync Wait) held now
 *   RSS               answers "RSS <bytes>" (after full collections, once settled)
 *   GC                runs full collections until the RSS settles, answers "GC <rss bytes>"
 *   HEAP              after a full collection, answers "HEAP <json>": RSS, the JS heap
 *                     (size, object count, objects by type) and what the runtime reports
 *                     outside it (Bun's heapStats from bun:jsc; node's v8 heap statistics)
 *   SNAPSHOT <file>   after a full collection, writes a heap snapshot (V8 format; Bun's
 *                     generateHeapSnapshot("v8"), node's v8.writeHeapSnapshot) to <file>,
 *                     answers "SNAPSHOT <file>" (scripts/bench/heap-diff.ts compares two)
 *   QUIT / EOF        shuts down
 *
 *   bun scripts/bench/eas-server.ts --data DIR [--messages 10000] [--accounts 100]
 *                                   [--events 0] [--contacts 0] [--pinger] [--plain]
 *
 * --pinger creates pinger@ even with no events or contacts; --plain serves
 * plain HTTP instead of HTTPS (the port on the READY line is then HTTP's), so
 * a run can tell what the TLS layer costs.
 */
import { writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { defaultConfig } from "../../src/config.ts";
import { LISTENER_DEFAULTS, type ListenerName } from "../../src/registry.ts";
import { startServer } from "../../src/server.ts";
import { createLogger } from "../../src/log.ts";
import "../../protocols/http/index.ts";
import "../../protocols/http/eas/index.ts";
import { activeWaits } from "../../protocols/http/eas/commands/wait.ts";
import { benchContact, benchEvent } from "./eas-groupware-data.ts";

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`missing --${name}`);
  return v;
}

const dataDir = arg("data");
const messages = Number(arg("messages", "10000"));
const accounts = Number(arg("accounts", "100"));
const events = Number(arg("events", "0"));
const contacts = Number(arg("contacts", "0"));

const config = defaultConfig();
config.dataDir = dataDir;
config.databaseUrl = `file:${join(dataDir, "pillarbox.db")}`;
config.hostname = "bench.pillarbox.test";
for (const name of Object.keys(LISTENER_DEFAULTS) as ListenerName[]) config.listeners[name] = null;
const plain = process.argv.includes("--plain");
if (plain) config.listeners.HTTP = { host: "127.0.0.1", port: 0 };
else config.listeners.HTTPS = { host: "127.0.0.1", port: 0 };
config.limits.maxConnections = 20_000;
config.limits.maxConnectionsPerIp = 20_000;
config.limits.connections.http = 20_000;
config.limits.authFailuresPerIp = 1_000_000;
config.log.level = "warn";
config.smtp.verifyInbound = false;

const server = await startServer(config, { log: createLogger("warn"), tlsWatchIntervalMs: 0 });
const store = server.store;
if (!(await store.getDomain("bench.test"))) await store.addDomain("bench.test");

const WORDS = "the of and to in is that for it as was with be by on not this are or from at which but have an they you mailbox server message delivery protocol pillarbox invoice meeting schedule quarterly report attached".split(" ");
function body(i: number): string {
  let s = "";
  let n = i * 7919;
  while (s.length < 3000) {
    n = (n * 1103515245 + 12345) % 2147483648;
    s += WORDS[n % WORDS.length] + (s.length % 70 < 6 ? "\r\n" : " ");
  }
  return s;
}
function message(i: number, to: string): Uint8Array {
  return new TextEncoder().encode(
    `From: Sender ${i % 97} <sender${i % 97}@example.org>\r\nTo: ${to}\r\nSubject: Benchmark message ${i}\r\nDate: Thu, 27 Nov 2026 10:${String(i % 60).padStart(2, "0")}:00 +0000\r\nMessage-ID: <eas-bench-${i}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n${body(i)}\r\n`,
  );
}

// Accounts: sync0@ holds the big INBOX; ping0..N-1@ carry the Ping devices.
const pass = "bench-password-1";
const syncUser = (await store.getAccount("sync0@bench.test")) ?? (await store.addAccount("sync0@bench.test", pass));
for (let a = 0; a < accounts; a++) if (!(await store.getAccount(`ping${a}@bench.test`))) await store.addAccount(`ping${a}@bench.test`, pass);
const inbox = (await store.getFolder(syncUser.id, "INBOX"))!;
const have = (await store.listMessages(inbox.id)).length;
const base = Date.now() - messages * 60_000;
for (let i = have; i < messages; i += 250) {
  const batch = [];
  for (let k = i; k < Math.min(messages, i + 250); k++) batch.push({ raw: message(k, "sync0@bench.test"), internalDate: base + k * 60_000 });
  await store.append(inbox.id, batch);
}

// Groupware: cal0@ gets a calendar of `events` events, card0@ an address book of `contacts` contacts.
const gw = server.ctx.groupware;
const enc = new TextEncoder();
async function seed(email: string, kind: "calendar" | "contacts", n: number, make: (i: number) => string): Promise<void> {
  const acct = (await store.getAccount(email)) ?? (await store.addAccount(email, pass));
  await gw.ensureDefaults(acct);
  const coll = (await gw.listCollections(acct, kind)).find((c) => c.isDefault)!;
  const have = (await gw.listObjects(coll)).length;
  for (let i = have; i < n; i++) await gw.putObject(coll, `bench-${i}.${kind === "calendar" ? "ics" : "vcf"}`, enc.encode(make(i)), { schedule: false });
}
if (events > 0 || contacts > 0 || process.argv.includes("--pinger")) {
  await seed("cal0@bench.test", "calendar", events, (i) => benchEvent(i, Date.now()));
  await seed("card0@bench.test", "contacts", contacts, benchContact);
  const pinger = (await store.getAccount("pinger@bench.test")) ?? (await store.addAccount("pinger@bench.test", pass));
  await gw.ensureDefaults(pinger);
}

const port = (plain ? server.addresses.HTTP : server.addresses.HTTPS)!.port;
process.stdout.write(`READY ${port} ${process.pid}\n`);

/**
 * A full collection before a memory reading, so what is measured is what is
 * held, not garbage of earlier requests: node's gc() under --expose-gc, or
 * Bun's (a benchmark-only shim; the server itself uses no Bun API).
 */
function fullGc(): void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void; shrink?(): void } };
  if (g.gc) g.gc();
  else {
    g.Bun?.gc(true);
    g.Bun?.shrink?.();
  }
}

/**
 * RSS after full collections, once it has settled: the collector and the
 * allocator hand freed pages back to the system some time after a collection
 * (a reading taken at once moved by more than 10 MiB between runs, more than
 * the 1,000 held Pings themselves), so collect and read again every 250 ms
 * until two readings are within 256 KiB (at most 5 s).
 */
async function settledRss(): Promise<number> {
  let last = -1;
  for (let i = 0; i < 20; i++) {
    fullGc();
    await new Promise((r) => setTimeout(r, 250));
    const rss = process.memoryUsage().rss;
    if (last >= 0 && Math.abs(rss - last) < 256 * 1024) return rss;
    last = rss;
  }
  return last;
}

/** The heap breakdown for HEAP (benchmark-only: bun:jsc on Bun, node:v8 elsewhere). */
async function heapReport(): Promise<Record<string, unknown>> {
  fullGc();
  const rss = process.memoryUsage().rss;
  if ((globalThis as { Bun?: unknown }).Bun) {
    const jsc = (await import("bun:jsc")) as { heapStats(): { heapSize: number; heapCapacity: number; extraMemorySize: number; objectCount: number; objectTypeCounts: Record<string, number> } };
    const h = jsc.heapStats();
    return { rss, heapSize: h.heapSize, heapCapacity: h.heapCapacity, extraMemorySize: h.extraMemorySize, objectCount: h.objectCount, types: h.objectTypeCounts };
  }
  const v8 = await import("node:v8");
  const h = v8.getHeapStatistics();
  return { rss, heapSize: h.used_heap_size, heapCapacity: h.total_heap_size, extraMemorySize: h.external_memory, objectCount: 0, types: {} };
}

let seq = 0;
const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  const [cmd, argv] = line.trim().split(/\s+/);
  if (cmd === "DELIVER") {
    const acct = await store.getAccount(argv!);
    if (!acct) {
      process.stdout.write("ERROR no such account\n");
      continue;
    }
    await store.deliver(message(1_000_000 + ++seq, argv!), [{ accountId: acct.id }]);
    process.stdout.write(`DELIVERED ${Date.now()}\n`);
  } else if (cmd === "CHANGE") {
    const acct = await store.getAccount(argv!);
    const cal = acct && (await gw.listCollections(acct, "calendar")).find((c) => c.isDefault);
    if (!cal) {
      process.stdout.write("ERROR no such account or calendar\n");
      continue;
    }
    await gw.putObject(cal, `change-${++seq}.ics`, enc.encode(benchEvent(1_000_000 + seq, Date.now())), { schedule: false });
    process.stdout.write(`CHANGED ${Date.now()}\n`);
  } else if (cmd === "WAITS") {
    process.stdout.write(`WAITS ${activeWaits()}\n`);
  } else if (cmd === "RSS") {
    process.stdout.write(`RSS ${await settledRss()}\n`);
  } else if (cmd === "GC") {
    process.stdout.write(`GC ${await settledRss()}\n`);
  } else if (cmd === "HEAP") {
    process.stdout.write(`HEAP ${JSON.stringify(await heapReport())}\n`);
  } else if (cmd === "SNAPSHOT") {
    fullGc();
    const g = globalThis as { Bun?: { generateHeapSnapshot(format: "v8"): string } };
    if (g.Bun) writeFileSync(argv!, g.Bun.generateHeapSnapshot("v8"));
    else (await import("node:v8")).writeHeapSnapshot(argv!);
    process.stdout.write(`SNAPSHOT ${argv}\n`);
  } else if (cmd === "QUIT") break;
}
// The client has closed its connections; do not wait on stragglers longer than a few seconds.
await Promise.race([server.close(), new Promise((r) => setTimeout(r, 5000))]);
process.exit(0);
