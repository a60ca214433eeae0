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
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { el, kidText, type WElement } from "../../protocols/http/eas/wbxml/tree.ts";
import { BenchClient, BenchServer, arg, log, median, mib, pct, pool, type Device } from "./eas-client.ts";

const MESSAGES = Number(arg("messages", "10000"));
const WINDOW = Number(arg("window", "100"));
const RUNS = Number(arg("runs", "3"));
const ACCOUNTS = Number(arg("accounts", "100"));
const PER_ACCOUNT = Number(arg("devices-per-account", "20"));
const JSON_OUT = process.argv.includes("--json");

// ------------------------------------------------------------------ server process

const dataDir = mkdtempSync(join(tmpdir(), "pillarbox-eas-bench-"));
const t0 = Date.now();
const srv = await BenchServer.start(["--data", dataDir, "--messages", String(MESSAGES), "--accounts", String(ACCOUNTS)]);
const PID = srv.pid;
log(`server ready on 127.0.0.1:${srv.port} (pid ${PID}), ${MESSAGES} messages seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
const rss = () => srv.rss();
const client = new BenchClient(srv.port);
const mailOptions: WElement[] = [el("AirSync:FilterType", "0"), el("AirSyncBase:BodyPreference", el("AirSyncBase:Type", "2"), el("AirSyncBase:TruncationSize", "32768"))];
const inboxOf = (d: Device) => d.folders.get(2)!;

async function setupDevice(user: string, id: string, primeInbox: boolean): Promise<Device> {
  const d = await client.setupDevice(user, id);
  if (primeInbox) {
    const s = await client.syncOnce(d, inboxOf(d), 100, mailOptions);
    if (s.status !== "1") throw new Error(`prime sync failed: ${s.status}`);
  }
  return d;
}

// ------------------------------------------------------------------ 1. first sync

const rssIdle = rss();
const syncRuns: { seconds: number; rounds: number; items: number; mb: number; roundMs: number[] }[] = [];
for (let run = 0; run < RUNS; run++) {
  const d = await setupDevice("sync0@bench.test", `FIRSTSYNC${run}`, false);
  const r = await client.firstSync(d, inboxOf(d), WINDOW, mailOptions);
  const { seconds, items, bytes, windowMs: roundMs } = r;
  const rounds = roundMs.length;
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
client.newAgent();
await new Promise((r) => setTimeout(r, 1500));
const rssBeforePings = rss();

const ac = new AbortController();
let answered = 0;
const answers = new Map<string, { status: string | undefined; at: number }>();
const pingDoc = (d: Device) => el("Ping:Ping", el("Ping:HeartbeatInterval", "3000"), el("Ping:Folders", el("Ping:Folder", el("Ping:Id", inboxOf(d)), el("Ping:Class", "Email"))));
const held = ready.map((d) =>
  client
    .post(d.user, d.id, "Ping", pingDoc(d), d.key, ac.signal)
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
  heldNow = Number((await srv.ask("WAITS")).split(" ")[1]);
  if (heldNow >= ready.length) break;
  await new Promise((r) => setTimeout(r, 500));
}
const heldAfter = (Date.now() - tPing) / 1000;
await new Promise((r) => setTimeout(r, 1000));
const rssPings = rss();
log(`${heldNow} Pings held by the server ${heldAfter.toFixed(1)} s after sending (client saw ${answered} answered); server RSS ${mib(rssPings)} MiB (before the Pings ${mib(rssBeforePings)} MiB)`);
if (heldNow < ready.length) throw new Error(`only ${heldNow} of ${ready.length} Pings reached the server`);

// One delivery wakes the devices of one account.
const delivered = await srv.ask("DELIVER ping0@bench.test");
const deliveredAt = Number(delivered.split(" ")[1]);
const woken = ready.filter((d) => d.user === "ping0@bench.test");
for (let i = 0; i < 400 && woken.some((d) => !answers.has(d.id)); i++) await new Promise((r) => setTimeout(r, 25));
const wakeMs = woken.map((d) => (answers.get(d.id)?.at ?? NaN) - deliveredAt);
const wokenOk = woken.filter((d) => answers.get(d.id)?.status === "2").length;
log(`delivery to ping0: ${wokenOk}/${woken.length} of its Pings answered Status 2, slowest after ${Math.max(...wakeMs)} ms; other Pings still held: ${ready.length - answered}`);

ac.abort();
await Promise.allSettled(held);
client.destroy();
await srv.quit();
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
