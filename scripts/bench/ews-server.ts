/**
 * Server side of the EWS benchmark (driven by scripts/bench/ews): an
 * in-process Pillarbox with only HTTPS (EWS mounted) and IMAPS on 127.0.0.1,
 * both over TLS so the two protocols pay the same transport, and one account
 * sync0@bench.test whose INBOX holds N messages (~2-6 KB, plain text, some
 * with a small attachment), appended in batches. Prints
 * "READY <httpsPort> <imapsPort> <pid>" and obeys lines on stdin:
 *   RSS        answers "RSS <bytes>" (after full collections, once settled)
 *   QUIT / EOF shuts down
 *
 *   bun scripts/bench/ews-server.ts --data DIR [--messages 10000]
 */
import { createInterface } from "node:readline";
import { join } from "node:path";
import { defaultConfig } from "../../src/config.ts";
import { LISTENER_DEFAULTS, type ListenerName } from "../../src/registry.ts";
import { startServer } from "../../src/server.ts";
import { createLogger } from "../../src/log.ts";
import "../../protocols/http/index.ts";
import "../../protocols/http/ews/index.ts";
import "../../protocols/imap/index.ts";
import { mulberry32 } from "./lib/prng.ts";

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`missing --${name}`);
  return v;
}

const dataDir = arg("data");
const messages = Number(arg("messages", "10000"));

const config = defaultConfig();
config.dataDir = dataDir;
config.databaseUrl = `file:${join(dataDir, "pillarbox.db")}`;
config.hostname = "bench.pillarbox.test";
for (const name of Object.keys(LISTENER_DEFAULTS) as ListenerName[]) config.listeners[name] = null;
config.listeners.HTTPS = { host: "127.0.0.1", port: 0 };
config.listeners.IMAPS = { host: "127.0.0.1", port: 0 };
config.limits.authFailuresPerIp = 1_000_000;
config.log.level = "warn";
config.smtp.verifyInbound = false;

const server = await startServer(config, { log: createLogger("warn"), tlsWatchIntervalMs: 0 });
const store = server.store;
if (!(await store.getDomain("bench.test"))) await store.addDomain("bench.test");

const WORDS = "the of and to in is that for it as was with be by on not this are or from at which but have an they you mailbox server message delivery protocol pillarbox invoice meeting schedule quarterly report attached exchange calendar".split(" ");

/** A deterministic message: the same bytes on every run for the same index. */
function message(i: number): Uint8Array {
  const rnd = mulberry32(i + 1);
  const words = 300 + Math.floor(rnd() * 600);
  let text = "";
  for (let w = 0; w < words; w++) text += WORDS[Math.floor(rnd() * WORDS.length)] + (w % 12 === 11 ? "\r\n" : " ");
  const date = new Date(Date.UTC(2026, 0, 1) + i * 60_000).toUTCString().replace("GMT", "+0000");
  const head = `From: Sender ${i % 97} <sender${i % 97}@example.org>\r\nTo: Sync Zero <sync0@bench.test>\r\nSubject: Benchmark message ${i} ${WORDS[i % WORDS.length]}\r\nDate: ${date}\r\nMessage-ID: <ews-bench-${i}@example.org>\r\nMIME-Version: 1.0\r\n`;
  if (i % 10 !== 0) return new TextEncoder().encode(`${head}Content-Type: text/plain; charset=us-ascii\r\n\r\n${text}\r\n`);
  const att = Buffer.from(text.slice(0, 600)).toString("base64").replace(/.{76}/g, "$&\r\n");
  return new TextEncoder().encode(
    `${head}Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n${text}\r\n--b${i}\r\nContent-Type: application/octet-stream; name="notes-${i}.bin"\r\nContent-Disposition: attachment; filename="notes-${i}.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n${att}\r\n--b${i}--\r\n`,
  );
}

const pass = "bench-password-1";
const user = (await store.getAccount("sync0@bench.test")) ?? (await store.addAccount("sync0@bench.test", pass));
const inbox = (await store.getFolder(user.id, "INBOX"))!;
const have = (await store.listMessages(inbox.id)).length;
const base = Date.UTC(2026, 0, 1);
for (let i = have; i < messages; i += 250) {
  const batch = [];
  for (let k = i; k < Math.min(messages, i + 250); k++) batch.push({ raw: message(k), internalDate: base + k * 60_000, flags: k % 3 === 0 ? ["\\Seen"] : [] });
  await store.append(inbox.id, batch);
}
// Let the background work of the seeding end before anything is timed (both protocols would share the
// cores with it): the full-text indexer (a text search waits for it), then the idle WAL checkpoint
// (storage/db-sqlite.ts, 2 s after the last commit).
await store.searchTextTerms(inbox.id, [{ field: "body", query: "pillarbox" }]);
await new Promise((r) => setTimeout(r, 3000));

process.stdout.write(`READY ${server.addresses.HTTPS!.port} ${server.addresses.IMAPS!.port} ${process.pid}\n`);

/** A full collection before a memory reading (benchmark-only: node's gc() under --expose-gc, or Bun's). */
function fullGc(): void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.gc) g.gc();
  else g.Bun?.gc(true);
}

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

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  const cmd = line.trim();
  if (cmd === "RSS") process.stdout.write(`RSS ${await settledRss()}\n`);
  else if (cmd === "QUIT") break;
  else process.stdout.write(`ERROR unknown command\n`);
}
await server.close();
process.exit(0);
