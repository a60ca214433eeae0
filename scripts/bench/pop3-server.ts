/**
 * Pillarbox side of the POP3 benchmark (driven by scripts/bench/pop3):
 * starts an in-process server with only the POP3 listener on 127.0.0.1,
 * creates the bench account, appends every file of a maildir `cur/`
 * directory (sorted by name, so both servers hold the same messages in the
 * same order) into its INBOX, lets the server finish indexing them, prints
 * "READY <port>" and serves until stdin closes or SIGTERM arrives.
 *
 *   bun scripts/bench/pop3-server.ts --data DIR --maildir DIR/Maildir --user U --pass P
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { defaultConfig } from "../../src/config.ts";
import { LISTENER_DEFAULTS, type ListenerName } from "../../src/registry.ts";
import { startServer } from "../../src/server.ts";
import { createLogger } from "../../src/log.ts";
import "../../protocols/pop3/index.ts";

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`missing --${name}`);
  return v;
}

const dataDir = arg("data");
const maildir = arg("maildir");
const user = arg("user", "bench@bench.test");
const pass = arg("pass", "benchpass");

const config = defaultConfig();
config.dataDir = dataDir;
config.databaseUrl = `file:${join(dataDir, "pillarbox.db")}`;
config.hostname = "bench.pillarbox.test";
for (const name of Object.keys(LISTENER_DEFAULTS) as ListenerName[]) config.listeners[name] = null;
config.listeners.POP3 = { host: "127.0.0.1", port: Number(arg("port", "0")) };
config.pop3.allowPlaintextAuth = true;
config.log.level = "warn";
config.smtp.verifyInbound = false;

const server = await startServer(config, { log: createLogger("warn"), tlsWatchIntervalMs: 0 });
const store = server.store;
const domain = user.slice(user.indexOf("@") + 1);
if (!(await store.getDomain(domain))) await store.addDomain(domain);
const account = (await store.getAccount(user)) ?? (await store.addAccount(user, pass));
const inbox = await store.getFolder(account.id, "INBOX");
if (!inbox) throw new Error("no INBOX");

const existing = (await store.listMessages(inbox.id)).length;
const cur = join(maildir, "cur");
const files = readdirSync(cur).sort();
const t0 = performance.now();
if (existing === 0) {
  const BATCH = 250;
  for (let i = 0; i < files.length; i += BATCH) {
    const batch = files.slice(i, i + BATCH).map((f) => ({ raw: new Uint8Array(readFileSync(join(cur, f))) }));
    await store.append(inbox.id, batch);
  }
}
// Loading ends when the server has finished with what it was given: the background full-text indexer
// (storage/fulltext.ts, runs once deliveries pause) has indexed every message, and the idle WAL
// checkpoint (storage/db-sqlite.ts, 2 s after the last write) has run. Without this the benchmark's
// "first" session shares the CPU with the tail of the load (~0.25 s of indexing and checkpointing
// measured right after READY), which is delivery work, not POP3 work. A text search flushes the
// indexer (storage/text-search.ts); the checkpoint is waited for.
if (existing === 0) {
  await store.searchText(inbox.id, "body", "benchmark");
  await new Promise((r) => setTimeout(r, 2500));
}
const seeded = (await store.listMessages(inbox.id)).length;
process.stderr.write(`pillarbox: ${seeded} messages in INBOX (seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
process.stdout.write(`READY ${server.addresses.POP3!.port}\n`);

let closing = false;
async function shutdown(): Promise<void> {
  if (closing) return;
  closing = true;
  await server.close();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown());
process.on("SIGINT", () => void shutdown());
process.stdin.on("end", () => void shutdown());
process.stdin.on("close", () => void shutdown());
process.stdin.resume();
