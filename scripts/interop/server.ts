/**
 * Server side of the interop runs (scripts/interop/<client>/run): an in-process
 * Pillarbox on a temp data dir with HTTP, HTTPS, SMTP and submission on
 * 127.0.0.1 (OS-chosen ports), its self-signed certificate, and two test
 * accounts. Prints one line and then waits for "QUIT" (or EOF) on stdin:
 *
 *   READY <https-port> <cert-file> <http-port>
 *
 *   bun scripts/interop/server.ts --data DIR [--log warn]
 *   (PB_DATABASE_URL=postgres://... puts the store on PostgreSQL instead of a file)
 *
 * Accounts (password "interop-pass-1"):
 *   alice@interop.test  display name "Alice Interop"  (the synced account)
 *   bob@interop.test    display name "Bob Organizer"  (a meeting organizer)
 *   carl@interop.test   no display name               (GAL entries without one)
 * alice's INBOX gets one message with an attachment on a fresh data dir (a
 * client's read-only fetch tests need an item to fetch).
 */
import { createInterface } from "node:readline";
import { join } from "node:path";
import { defaultConfig } from "../../src/config.ts";
import { LISTENER_DEFAULTS, type ListenerName } from "../../src/registry.ts";
import { startServer } from "../../src/server.ts";
import { createLogger, type LogLevel } from "../../src/log.ts";
import { selfSignedPaths } from "../../src/tls.ts";
import "../../protocols/index.ts";
import "../../protocols/http/eas/index.ts";
import "../../protocols/http/autodiscover/index.ts";

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`missing --${name}`);
  return v;
}

export const DOMAIN = "interop.test";
export const PASSWORD = "interop-pass-1";

const dataDir = arg("data");
const level = arg("log", "warn") as LogLevel;

const config = defaultConfig();
config.dataDir = dataDir;
// PB_DATABASE_URL (e.g. postgres://USER@HOST:PORT/DB?schema=NAME) runs the store on another engine.
config.databaseUrl = process.env.PB_DATABASE_URL || `file:${join(dataDir, "pillarbox.db")}`;
// PB_HOSTNAME: the name autodiscover hands out in URLs (ruler's run sets 127.0.0.1: it follows them and cannot resolve a test name).
config.hostname = process.env.PB_HOSTNAME || "mail.interop.test";
for (const name of Object.keys(LISTENER_DEFAULTS) as ListenerName[]) config.listeners[name] = null;
for (const name of ["HTTP", "HTTPS", "SMTP", "SUBMISSION"] as ListenerName[]) config.listeners[name] = { host: "127.0.0.1", port: 0 };
config.log.level = level;
config.smtp.verifyInbound = false;
config.limits.authFailuresPerIp = 1_000_000;

const server = await startServer(config, { log: createLogger(level), tlsWatchIntervalMs: 0 });
const store = server.store;
if (!(await store.getDomain(DOMAIN))) await store.addDomain(DOMAIN);
for (const [local, name] of [
  ["alice", "Alice Interop"],
  ["bob", "Bob Organizer"],
  ["carl", undefined],
] as const) {
  const email = `${local}@${DOMAIN}`;
  if (!(await store.getAccount(email))) await store.addAccount(email, PASSWORD, name ? { displayName: name } : {});
}

const alice = (await store.getAccount(`alice@${DOMAIN}`))!;
const inbox = await store.getFolder(alice.id, "INBOX");
if (inbox && (await store.listMessages(inbox.id)).length === 0) {
  const raw = [
    `From: Bob Organizer <bob@${DOMAIN}>`,
    `To: Alice Interop <alice@${DOMAIN}>`,
    "Subject: Interop seed message",
    "Date: Mon, 07 Dec 2026 09:00:00 +0000",
    `Message-ID: <interop-seed-1@${DOMAIN}>`,
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="seed"',
    "",
    "--seed",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "A message with one attachment, for the interop runs.",
    "--seed",
    'Content-Type: application/octet-stream; name="seed.bin"',
    'Content-Disposition: attachment; filename="seed.bin"',
    "Content-Transfer-Encoding: base64",
    "",
    Buffer.from("interop attachment bytes").toString("base64"),
    "--seed--",
    "",
  ].join("\r\n");
  await store.deliver(new TextEncoder().encode(raw), [{ accountId: alice.id }]);
}

const https = server.addresses.HTTPS!.port;
const http = server.addresses.HTTP!.port;
process.stdout.write(`READY ${https} ${selfSignedPaths(dataDir).certFile} ${http}\n`);

const rl = createInterface({ input: process.stdin });
for await (const line of rl) if (line.trim() === "QUIT") break;
await Promise.race([server.close(), new Promise((r) => setTimeout(r, 5000))]);
process.exit(0);
