/**
 * ActiveSync groupware benchmark (issue 16, run through `scripts/bench/eas groupware`):
 *
 *  1. First Sync of a 2,000-event calendar (single, all-day, meetings with
 *     attendees, weekly series with exceptions: eas-groupware-data.ts) by a
 *     new device over HTTPS, protocol 14.1: Provision, FolderSync, Sync
 *     SyncKey 0, then windows of 100 until MoreAvailable ends. Time to the
 *     last window, per-window p50/p95, server RSS. Repeated with fresh devices.
 *  2. The same for a 5,000-contact address book.
 *  3. 1,000 devices of one account each holding a Ping on its Calendar
 *     folder (one TLS connection each); then one event written into that
 *     calendar (through the groupware service, as a CalDAV PUT does) must
 *     answer all 1,000 with Status 2: time until the last answer, and memory
 *     per held Ping = (server RSS with the Pings held - before, both read
 *     after full collections once the RSS has settled) / devices,
 *     which must stay under 40 KB (checked as 40,000 bytes).
 *
 * The server runs in its own process (scripts/bench/eas-server.ts); this
 * client shares the machine's cores with it.
 *
 *   bun scripts/bench/eas-groupware-bench.ts [--events 2000] [--contacts 5000] [--window 100]
 *                                            [--runs 3] [--devices 1000] [--json]
 *                                            [--ping-only] [--plain] [--snapshots DIR]
 *
 * --ping-only skips 1 and 2 (no events or contacts seeded); --plain runs the
 * server on plain HTTP instead of HTTPS, to tell the TLS layer's share of a
 * held Ping. Part 3 also prints where the held memory is: the JS heap (and
 * the object types that grew, per Ping) against the rest of the RSS;
 * --snapshots DIR also writes heap snapshots before and with the Pings held
 * (compare them with scripts/bench/heap-diff.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { el, kidText, type WElement } from "../../protocols/http/eas/wbxml/tree.ts";
import { BenchClient, BenchServer, arg, log, median, mib, pct, pool, sleep, type Device } from "./eas-client.ts";

const EVENTS = Number(arg("events", "2000"));
const CONTACTS = Number(arg("contacts", "5000"));
const WINDOW = Number(arg("window", "100"));
const RUNS = Number(arg("runs", "3"));
const DEVICES = Number(arg("devices", "1000"));
const JSON_OUT = process.argv.includes("--json");
const PING_ONLY = process.argv.includes("--ping-only");
const PLAIN = process.argv.includes("--plain");
const SNAPSHOTS = arg("snapshots", "");
/** The issue's bound on memory per held Ping (done-when 3: "under 40 KB"), read strictly as 40,000 bytes. */
const PING_LIMIT_BYTES = 40_000;
const CALENDAR = 8;
const CONTACTS_TYPE = 9;

const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");
const loadStart = load();
const dataDir = mkdtempSync(join(tmpdir(), "pillarbox-eas-gw-bench-"));
const t0 = Date.now();
const srv = await BenchServer.start(["--data", dataDir, "--messages", "0", "--accounts", "0", "--pinger", ...(PING_ONLY ? ["--events", "0", "--contacts", "0"] : ["--events", String(EVENTS), "--contacts", String(CONTACTS)]), ...(PLAIN ? ["--plain"] : [])]);
const seedSeconds = (Date.now() - t0) / 1000;
log(`server ready on 127.0.0.1:${srv.port} (${PLAIN ? "plain HTTP" : "HTTPS"}, pid ${srv.pid}), ${PING_ONLY ? 0 : EVENTS} events and ${PING_ONLY ? 0 : CONTACTS} contacts seeded in ${seedSeconds.toFixed(1)} s; load average ${loadStart}`);
const client = new BenchClient(srv.port, "14.1", PLAIN);
const rssIdle = srv.rss();

// ------------------------------------------------------------------ 1 and 2: first syncs

const calendarOptions: WElement[] = [el("AirSync:FilterType", "0"), el("AirSyncBase:BodyPreference", el("AirSyncBase:Type", "1"), el("AirSyncBase:TruncationSize", "32768"))];
const contactOptions: WElement[] = [el("AirSyncBase:BodyPreference", el("AirSyncBase:Type", "1"), el("AirSyncBase:TruncationSize", "32768"))];

interface FirstSyncResult {
  what: string;
  items: number;
  medianSeconds: number;
  runs: { seconds: number; windows: number; windowP50Ms: number; windowP95Ms: number; wbxmlMiB: number }[];
  rssAfterMiB: number;
}

async function firstSyncs(what: string, user: string, type: number, expected: number, options: WElement[]): Promise<FirstSyncResult> {
  const runs: FirstSyncResult["runs"] = [];
  for (let run = 0; run < RUNS; run++) {
    const d = await client.setupDevice(user, `${what.toUpperCase()}${run}`);
    const folder = d.folders.get(type);
    if (!folder) throw new Error(`FolderSync listed no folder of type ${type} for ${user}`);
    const r = await client.firstSync(d, folder, WINDOW, options);
    if (r.items !== expected) throw new Error(`first ${what} sync delivered ${r.items} items, expected ${expected}`);
    runs.push({ seconds: +r.seconds.toFixed(3), windows: r.windowMs.length, windowP50Ms: +median(r.windowMs).toFixed(1), windowP95Ms: +pct(r.windowMs, 95).toFixed(1), wbxmlMiB: +(r.bytes / 1048576).toFixed(2) });
    log(`${what} first sync run ${run + 1}: ${r.items} items in ${r.windowMs.length} windows of ${WINDOW}, ${r.seconds.toFixed(2)} s (${(r.items / r.seconds).toFixed(0)} items/s, ${mib(r.bytes)} MiB WBXML), window p50 ${median(r.windowMs).toFixed(1)} ms, p95 ${pct(r.windowMs, 95).toFixed(1)} ms`);
  }
  return { what, items: expected, medianSeconds: median(runs.map((r) => r.seconds)), runs, rssAfterMiB: +mib(srv.rss()) };
}

const calendar = PING_ONLY ? null : await firstSyncs("calendar", "cal0@bench.test", CALENDAR, EVENTS, calendarOptions);
const contacts = PING_ONLY ? null : await firstSyncs("contacts", "card0@bench.test", CONTACTS_TYPE, CONTACTS, contactOptions);

// ------------------------------------------------------------------ 3. 1,000 Pings on one calendar

const USER = "pinger@bench.test";
const tSetup = Date.now();
const ready: Device[] = [];
await pool(
  Array.from({ length: DEVICES }, (_, i) => `CALPING${i}`),
  32,
  async (id) => {
    const d = await client.setupDevice(USER, id);
    const cal = d.folders.get(CALENDAR)!;
    for (let k = 0; k < 2; k++) {
      const s = await client.syncOnce(d, cal, 100, calendarOptions);
      if (s.status !== "1") throw new Error(`prime sync of ${id} answered ${s.status}`);
    }
    ready.push(d);
  },
);
const setupSeconds = (Date.now() - tSetup) / 1000;
log(`${ready.length} devices provisioned, folder-synced and calendar-synced in ${setupSeconds.toFixed(1)} s`);
client.newAgent(); // fresh connections for the Pings: one per device, as phones have
await sleep(1500);
// Each reading twice: as it is, and after a full collection (held memory, not garbage of the set-up).
const rssBeforeRaw = srv.rss();
await srv.ask("GC");
const rssBefore = srv.rss();
const heapBefore = await heap();
if (SNAPSHOTS) await srv.ask(`SNAPSHOT ${join(SNAPSHOTS, "before.heapsnapshot")}`);

interface HeapReport {
  rss: number;
  heapSize: number;
  extraMemorySize: number;
  objectCount: number;
  types: Record<string, number>;
}
async function heap(): Promise<HeapReport> {
  return JSON.parse((await srv.ask("HEAP")).slice(5)) as HeapReport;
}
/** Per held Ping: JS heap bytes and objects, runtime-reported memory outside the heap, the rest of the RSS; object types that grew most. */
function heapBreakdown(a: HeapReport, b: HeapReport, n: number, rssDelta: number) {
  const per = (x: number) => Math.round(x / n);
  const types = Object.entries(b.types)
    .map(([t, c]) => [t, +((c - (a.types[t] ?? 0)) / n).toFixed(2)] as [string, number])
    .filter(([, c]) => c >= 0.5)
    .sort((x, y) => y[1] - x[1])
    .slice(0, 25);
  const heapBytes = per(b.heapSize - a.heapSize);
  const extraBytes = per(b.extraMemorySize - a.extraMemorySize);
  return { heapBytes, objects: +((b.objectCount - a.objectCount) / n).toFixed(1), extraBytes, otherBytes: per(rssDelta) - heapBytes - extraBytes, types };
}

const ac = new AbortController();
const answers = new Map<string, { status: string | undefined; at: number }>();
const pingDoc = (d: Device) => el("Ping:Ping", el("Ping:HeartbeatInterval", "900"), el("Ping:Folders", el("Ping:Folder", el("Ping:Id", d.folders.get(CALENDAR)!), el("Ping:Class", "Calendar"))));
const send = (d: Device) =>
  client
    .post(d.user, d.id, "Ping", pingDoc(d), d.key, ac.signal)
    .then((r) => {
      answers.set(d.id, { status: r.doc ? kidText(r.doc, "Ping:Status") : `HTTP ${r.status}`, at: Date.now() });
    })
    .catch(() => undefined);
const waitHeld = async (n: number) => {
  let now = 0;
  for (let i = 0; i < 600; i++) {
    now = Number((await srv.ask("WAITS")).split(" ")[1]);
    if (now >= n || answers.size > 0) break;
    await sleep(500);
  }
  return now;
};
// In two halves: the second half's growth is read after the first has taken up the free memory the
// set-up left in the process, so it is closer to what one more held Ping costs than the whole figure.
const half = Math.floor(ready.length / 2);
const tPing = Date.now();
const held = ready.slice(0, half).map(send);
await waitHeld(half);
await sleep(500);
await srv.ask("GC");
const rssHalf = srv.rss();
held.push(...ready.slice(half).map(send));
const heldNow = await waitHeld(ready.length);
const secondsUntilHeld = (Date.now() - tPing) / 1000;
await sleep(1000);
const rssHeldRaw = srv.rss();
await srv.ask("GC");
const rssHeld = srv.rss();
const heapHeld = await heap();
if (SNAPSHOTS) await srv.ask(`SNAPSHOT ${join(SNAPSHOTS, "held.heapsnapshot")}`);
const perPingBytes = (rssHeld - rssBefore) / ready.length;
const perPingRawKiB = (rssHeldRaw - rssBeforeRaw) / ready.length / 1024;
const perPingKiB = perPingBytes / 1024;
const perPingSecondHalfKiB = (rssHeld - rssHalf) / (ready.length - half) / 1024;
log(`${heldNow} Pings held ${secondsUntilHeld.toFixed(1)} s after sending (${answers.size} answered early); server RSS after a full GC ${mib(rssHeld)} MiB, before ${mib(rssBefore)} MiB: ${perPingKiB.toFixed(1)} KiB per held Ping (without the GC: ${mib(rssHeldRaw)} / ${mib(rssBeforeRaw)} MiB, ${perPingRawKiB.toFixed(1)} KiB); the second half alone ${perPingSecondHalfKiB.toFixed(1)} KiB per Ping (${mib(rssHalf)} -> ${mib(rssHeld)} MiB)`);
const breakdown = heapBreakdown(heapBefore, heapHeld, ready.length, rssHeld - rssBefore);
log(`per held Ping: JS heap ${breakdown.heapBytes} B (${breakdown.objects} objects), runtime memory outside the heap ${breakdown.extraBytes} B, the rest of the RSS ${breakdown.otherBytes} B (native: sockets, ${PLAIN ? "HTTP" : "TLS"} state, allocator)`);
log(`objects per held Ping by type: ${breakdown.types.map(([t, n]) => `${t} ${n}`).join(", ")}`);
if (answers.size > 0) log(`early answers: ${[...new Set([...answers.values()].map((a) => a.status))].join(", ")}`);

const changedAt = Number((await srv.ask(`CHANGE ${USER}`)).split(" ")[1]);
for (let i = 0; i < 2400 && answers.size < ready.length; i++) await sleep(25);
const wake = [...answers.values()].map((a) => a.at - changedAt);
const status2 = [...answers.values()].filter((a) => a.status === "2").length;
log(`one calendar change: ${status2}/${ready.length} Pings answered Status 2, the last ${Math.max(...wake)} ms after the write (p50 ${median(wake)} ms)`);

ac.abort();
await Promise.allSettled(held);
client.destroy();
await srv.quit();
rmSync(dataDir, { recursive: true, force: true });
const loadEnd = load();

const result = {
  events: EVENTS,
  contacts: CONTACTS,
  window: WINDOW,
  seedSeconds: +seedSeconds.toFixed(1),
  rssIdleMiB: +mib(rssIdle),
  calendar,
  contactsSync: contacts,
  ping: {
    devices: ready.length,
    held: heldNow,
    setupSeconds: +setupSeconds.toFixed(1),
    secondsUntilHeld: +secondsUntilHeld.toFixed(1),
    rssBeforeMiB: +mib(rssBefore),
    rssHeldMiB: +mib(rssHeld),
    rssBeforeRawMiB: +mib(rssBeforeRaw),
    rssHeldRawMiB: +mib(rssHeldRaw),
    perPingRawKiB: +perPingRawKiB.toFixed(1),
    perPingKiB: +perPingKiB.toFixed(1),
    perPingBytes: Math.round(perPingBytes),
    perPingSecondHalfKiB: +perPingSecondHalfKiB.toFixed(1),
    breakdown,
    status2,
    lastAnswerMs: Math.max(...wake),
    medianAnswerMs: median(wake),
  },
  loadAverage: { start: loadStart, end: loadEnd },
};
console.log(`\nActiveSync groupware benchmark (2 cores shared by client and server, ${PLAIN ? "plain HTTP" : "HTTPS"} on 127.0.0.1, protocol 14.1; load average ${loadStart} -> ${loadEnd})`);
for (const r of [calendar, contacts]) {
  if (!r) continue;
  console.log(`First Sync of ${r.items} ${r.what === "calendar" ? "events" : "contacts"} in windows of ${WINDOW}: ${r.medianSeconds.toFixed(2)} s median of ${RUNS}; window p50 ${median(r.runs.map((x) => x.windowP50Ms))} ms, p95 ${median(r.runs.map((x) => x.windowP95Ms))} ms; server RSS after ${r.rssAfterMiB} MiB`);
}
console.log(`${ready.length} devices holding a Ping on one calendar: ${perPingKiB.toFixed(1)} KiB (${(perPingBytes / 1000).toFixed(1)} kB) per held Ping after a full GC (limit ${PING_LIMIT_BYTES / 1000} kB; ${perPingRawKiB.toFixed(1)} KiB without the GC; ${perPingSecondHalfKiB.toFixed(1)} KiB for the second half alone; JS heap ${(breakdown.heapBytes / 1024).toFixed(1)} KiB); one change answered ${status2}/${ready.length} with Status 2, the last after ${Math.max(...wake)} ms`);
if (JSON_OUT) console.log(JSON.stringify(result, null, 1));
const ok = perPingBytes < PING_LIMIT_BYTES && status2 === ready.length && heldNow === ready.length;
if (!ok) console.log("FAILED: " + [perPingBytes >= PING_LIMIT_BYTES && `memory per Ping ${(perPingBytes / 1000).toFixed(1)} kB`, status2 !== ready.length && `${ready.length - status2} Pings not answered Status 2`, heldNow !== ready.length && `${heldNow} of ${ready.length} Pings held`].filter(Boolean).join("; "));
process.exit(ok ? 0 : 1);
