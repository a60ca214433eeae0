/**
 * ActiveSync benchmark (run through scripts/bench/eas):
 *
 *  1. First Sync of an N-message INBOX (default 10,000 messages of ~3 KB) by
 *     a new device, over HTTPS: Provision, FolderSync, Sync SyncKey 0, then
 *     Sync in windows of 100 until MoreAvailable ends. Time from the SyncKey 0
 *     request to the last response; repeated with fresh devices, median.
 *  2. Memory with D devices (default 2,000 = 100 accounts x 20 devices) each
 *     holding a Ping open: the server process's RSS (/proc/<pid>/status
 *     VmRSS) before and with the Pings held; then one delivery wakes the 20
 *     Pings of one account and the slowest of them is timed.
 *
 * The server runs in its own process (scripts/bench/eas-server.ts) so its
 * RSS is its own; this client runs on the same 2 cores.
 *
 *   bun scripts/bench/eas-bench.ts [--messages 10000] [--window 100] [--runs 3]
 *                                  [--accounts 100] [--devices-per-account 20] [--json]
 */
import { spawn } from "node:child_process";
import https from "node:https";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { decode, encode } from "../../protocols/http/eas/wbxml/codec.ts";
import { el, kid, kids, kidText, type WElement } from "../../protocols/http/eas/wbxml/tree.ts";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}
const MESSAGES = Number(arg("messages", "10000"));
const WINDOW = Number(arg("window", "100"));
const RUNS = Number(arg("runs", "3"));
const ACCOUNTS = Number(arg("accounts", "100"));
const PER_ACCOUNT = Number(arg("devices-per-account", "20"));
const JSON_OUT = process.argv.includes("--json");
const ROOT = resolve(import.meta.dir ?? new URL(".", import.meta.url).pathname, "../..");
const PASS = "bench-password-1";

const log = (s: string) => process.stderr.write(s + "\n");
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const pct = (a: number[], p: number) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor((a.length * p) / 100))]!;

// ------------------------------------------------------------------ server process

const dataDir = mkdtempSync(join(tmpdir(), "pillarbox-eas-bench-"));
const t0 = Date.now();
const srv = spawn(process.execPath, [join(ROOT, "scripts/bench/eas-server.ts"), "--data", dataDir, "--messages", String(MESSAGES), "--accounts", String(ACCOUNTS)], { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] });
const lines = createInterface({ input: srv.stdout! });
const waiting: ((l: string) => void)[] = [];
lines.on("line", (l) => waiting.shift()?.(l));
const nextLine = () => new Promise<string>((r) => waiting.push(r));
const readyLine = await nextLine();
if (!readyLine.startsWith("READY ")) throw new Error(`server did not start: ${readyLine}`);
const [, portS, pidS] = readyLine.split(" ");
const PORT = Number(portS);
const PID = Number(pidS);
log(`server ready on 127.0.0.1:${PORT} (pid ${PID}), ${MESSAGES} messages seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

function rss(): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${PID}/status`, "utf8"));
  return Number(m![1]) * 1024;
}
const mib = (b: number) => (b / 1048576).toFixed(1);

// ------------------------------------------------------------------ a lean EAS client

let agent = new https.Agent({ rejectUnauthorized: false, keepAlive: true, maxSockets: Infinity });

function post(user: string, deviceId: string, cmd: string, doc: WElement | null, policyKey: string | null, signal?: AbortSignal): Promise<{ status: number; doc: WElement | null; bytes: number }> {
  const body = doc ? Buffer.from(encode(doc)) : Buffer.alloc(0);
  const q = new URLSearchParams({ Cmd: cmd, User: user, DeviceId: deviceId, DeviceType: "BenchPhone" });
  const headers: Record<string, string> = {
    authorization: "Basic " + Buffer.from(`${user}:${PASS}`).toString("base64"),
    "ms-asprotocolversion": "14.1",
    "content-type": "application/vnd.ms-sync.wbxml",
    "content-length": String(body.length),
  };
  if (policyKey) headers["x-ms-policykey"] = policyKey;
  return new Promise((resolve, reject) => {
    const req = https.request({ host: "127.0.0.1", port: PORT, method: "POST", path: `/Microsoft-Server-ActiveSync?${q}`, headers, agent, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const b = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, doc: b.length ? decode(new Uint8Array(b)).root : null, bytes: b.length });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

interface Device {
  user: string;
  id: string;
  key: string | null;
  inbox: string;
  syncKey: string;
}

async function setupDevice(user: string, id: string, primeInbox: boolean): Promise<Device> {
  const policy = (extra: WElement[]) => el("Provision:Policies", el("Provision:Policy", el("Provision:PolicyType", "MS-EAS-Provisioning-WBXML"), extra));
  const p1 = await post(user, id, "Provision", el("Provision:Provision", policy([])), null);
  const temp = kidText(kid(kid(p1.doc!, "Provision:Policies"), "Provision:Policy"), "Provision:PolicyKey")!;
  const p2 = await post(user, id, "Provision", el("Provision:Provision", policy([el("Provision:PolicyKey", temp), el("Provision:Status", "1")])), "0");
  const key = kidText(kid(kid(p2.doc!, "Provision:Policies"), "Provision:Policy"), "Provision:PolicyKey")!;
  const fs = await post(user, id, "FolderSync", el("FolderHierarchy:FolderSync", el("FolderHierarchy:SyncKey", "0")), key);
  const inbox = kids(kid(fs.doc!, "FolderHierarchy:Changes"), "FolderHierarchy:Add").find((a) => kidText(a, "FolderHierarchy:Type") === "2")!;
  const d: Device = { user, id, key, inbox: kidText(inbox, "FolderHierarchy:ServerId")!, syncKey: "0" };
  if (primeInbox) {
    const s = await syncOnce(d, 100);
    if (s.status !== "1") throw new Error(`prime sync failed: ${s.status}`);
  }
  return d;
}

async function syncOnce(d: Device, windowSize: number): Promise<{ status: string | undefined; adds: number; more: boolean; bytes: number }> {
  const coll = el(
    "AirSync:Collection",
    el("AirSync:SyncKey", d.syncKey),
    el("AirSync:CollectionId", d.inbox),
    d.syncKey !== "0" && el("AirSync:GetChanges"),
    el("AirSync:WindowSize", windowSize),
    el("AirSync:Options", el("AirSync:FilterType", "0"), el("AirSyncBase:BodyPreference", el("AirSyncBase:Type", "2"), el("AirSyncBase:TruncationSize", "32768"))),
  );
  const r = await post(d.user, d.id, "Sync", el("AirSync:Sync", el("AirSync:Collections", coll)), d.key);
  const c = kid(kid(r.doc!, "AirSync:Collections"), "AirSync:Collection");
  const status = kidText(c, "AirSync:Status");
  if (status === "1") d.syncKey = kidText(c, "AirSync:SyncKey")!;
  return { status, adds: kids(kid(c, "AirSync:Commands"), "AirSync:Add").length, more: kid(c, "AirSync:MoreAvailable") !== undefined, bytes: r.bytes };
}

async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) await fn(items[i++]!);
  }));
}

// ------------------------------------------------------------------ 1. first sync

const rssIdle = rss();
const syncRuns: { seconds: number; rounds: number; items: number; mb: number; roundMs: number[] }[] = [];
for (let run = 0; run < RUNS; run++) {
  const d = await setupDevice("sync0@bench.test", `FIRSTSYNC${run}`, false);
  const start = performance.now();
  let s = await syncOnce(d, WINDOW); // SyncKey 0
  let rounds = 0;
  let items = 0;
  let bytes = 0;
  const roundMs: number[] = [];
  do {
    const t = performance.now();
    s = await syncOnce(d, WINDOW);
    roundMs.push(performance.now() - t);
    if (s.status !== "1") throw new Error(`sync failed with status ${s.status}`);
    rounds++;
    items += s.adds;
    bytes += s.bytes;
  } while (s.more);
  const seconds = (performance.now() - start) / 1000;
  if (items !== MESSAGES) throw new Error(`first sync delivered ${items} items, expected ${MESSAGES}`);
  syncRuns.push({ seconds, rounds, items, mb: bytes / 1048576, roundMs });
  log(`first sync run ${run + 1}: ${items} items in ${rounds} windows of ${WINDOW}, ${seconds.toFixed(2)} s (${(items / seconds).toFixed(0)} items/s, ${(bytes / 1048576).toFixed(1)} MiB WBXML), window median ${median(roundMs).toFixed(1)} ms, p95 ${pct(roundMs, 95).toFixed(1)} ms`);
}
const rssAfterSync = rss();

// ------------------------------------------------------------------ 2. devices holding a Ping

const devices: { user: string; id: string }[] = [];
for (let a = 0; a < ACCOUNTS; a++) for (let k = 0; k < PER_ACCOUNT; k++) devices.push({ user: `ping${a}@bench.test`, id: `PING${a}X${k}` });
const tSetup = Date.now();
const ready: Device[] = [];
await pool(devices, 32, async (x) => {
  ready.push(await setupDevice(x.user, x.id, true));
});
log(`${ready.length} devices provisioned, folder-synced and primed in ${((Date.now() - tSetup) / 1000).toFixed(1)} s`);
// Fresh connections for the Pings: one per device, as phones have.
agent.destroy();
agent = new https.Agent({ rejectUnauthorized: false, keepAlive: true, maxSockets: Infinity });
await new Promise((r) => setTimeout(r, 1500));
const rssBeforePings = rss();

const ac = new AbortController();
let answered = 0;
const answers = new Map<string, { status: string | undefined; at: number }>();
const pingDoc = (d: Device) => el("Ping:Ping", el("Ping:HeartbeatInterval", "3000"), el("Ping:Folders", el("Ping:Folder", el("Ping:Id", d.inbox), el("Ping:Class", "Email"))));
const held = ready.map((d) =>
  post(d.user, d.id, "Ping", pingDoc(d), d.key, ac.signal)
    .then((r) => {
      answered++;
      answers.set(d.id, { status: kidText(r.doc!, "Ping:Status"), at: Date.now() });
    })
    .catch(() => undefined),
);
const tPing = Date.now();
// Wait until the server holds every Ping (2,000 TLS handshakes take a while on 2 shared cores).
let heldNow = 0;
for (let i = 0; i < 600; i++) {
  srv.stdin!.write("WAITS\n");
  heldNow = Number((await nextLine()).split(" ")[1]);
  if (heldNow >= ready.length) break;
  await new Promise((r) => setTimeout(r, 500));
}
const heldAfter = (Date.now() - tPing) / 1000;
await new Promise((r) => setTimeout(r, 1000));
const rssPings = rss();
log(`${heldNow} Pings held by the server ${heldAfter.toFixed(1)} s after sending (client saw ${answered} answered); server RSS ${mib(rssPings)} MiB (before the Pings ${mib(rssBeforePings)} MiB)`);
if (heldNow < ready.length) throw new Error(`only ${heldNow} of ${ready.length} Pings reached the server`);

// One delivery wakes the devices of one account.
srv.stdin!.write("DELIVER ping0@bench.test\n");
const delivered = await nextLine();
const deliveredAt = Number(delivered.split(" ")[1]);
const woken = ready.filter((d) => d.user === "ping0@bench.test");
for (let i = 0; i < 400 && woken.some((d) => !answers.has(d.id)); i++) await new Promise((r) => setTimeout(r, 25));
const wakeMs = woken.map((d) => (answers.get(d.id)?.at ?? NaN) - deliveredAt);
const wokenOk = woken.filter((d) => answers.get(d.id)?.status === "2").length;
log(`delivery to ping0: ${wokenOk}/${woken.length} of its Pings answered Status 2, slowest after ${Math.max(...wakeMs)} ms; other Pings still held: ${ready.length - answered}`);

ac.abort();
await Promise.allSettled(held);
agent.destroy();
srv.stdin!.write("QUIT\n");
await new Promise((r) => srv.once("exit", r));
rmSync(dataDir, { recursive: true, force: true });

const result = {
  messages: MESSAGES,
  window: WINDOW,
  firstSync: { medianSeconds: median(syncRuns.map((r) => r.seconds)), runs: syncRuns.map((r) => ({ seconds: +r.seconds.toFixed(3), rounds: r.rounds, windowMedianMs: +median(r.roundMs).toFixed(1), windowP95Ms: +pct(r.roundMs, 95).toFixed(1), wbxmlMiB: +r.mb.toFixed(1) })) },
  pings: { devices: ready.length, heldOpen: heldNow, secondsUntilAllHeld: +heldAfter.toFixed(1), rssIdleMiB: +mib(rssIdle), rssAfterSyncMiB: +mib(rssAfterSync), rssBeforePingsMiB: +mib(rssBeforePings), rssWithPingsMiB: +mib(rssPings), perPingKiB: +((rssPings - rssBeforePings) / ready.length / 1024).toFixed(1), wakeSlowestMs: Math.max(...wakeMs), woken: `${wokenOk}/${woken.length}` },
};
const med = result.firstSync.medianSeconds;
console.log(`\nActiveSync benchmark (2 cores shared by client and server, HTTPS on 127.0.0.1, protocol 14.1)`);
console.log(`First Sync of a ${MESSAGES}-message INBOX in windows of ${WINDOW}: ${med.toFixed(2)} s median of ${RUNS} (${(MESSAGES / med).toFixed(0)} items/s)`);
console.log(`RSS with ${ready.length} devices holding a Ping open: ${mib(rssPings)} MiB (before the Pings: ${mib(rssBeforePings)} MiB; ${result.pings.perPingKiB} KiB per held Ping)`);
console.log(`A delivery woke its account's ${woken.length} Pings: ${wokenOk} answered, slowest ${Math.max(...wakeMs)} ms after the store committed`);
if (JSON_OUT) console.log(JSON.stringify(result, null, 1));
process.exit(0);
