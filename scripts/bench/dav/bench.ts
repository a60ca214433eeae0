/**
 * CalDAV/CardDAV benchmark, Pillarbox beside Radicale in the same run
 * (entry point scripts/bench/dav/run; see README.md there):
 *
 *  1. Generates a calendar of N events (R recurring, with EXDATEs and
 *     overridden instances) and an address book of C contacts
 *     (generate.ts, deterministic), starts Pillarbox (its own process,
 *     HTTPS only, temp data dir) and Debian's Radicale (HTTPS with a
 *     self-signed certificate, htpasswd plain auth, temp storage;
 *     tests/helpers/radicale.ts), creates one calendar and one address
 *     book on each (MKCALENDAR, extended MKCOL) and loads the same objects
 *     into both: into Pillarbox with PUT (If-None-Match: *), a few in
 *     parallel; into Radicale by writing each object as a file into the
 *     collection's folder of its filesystem storage (its own layout: one
 *     file per resource, named like the href), because PUT to Radicale
 *     3.1 runs at ~11 objects/s here and would take over half an hour
 *     (--radicale-put loads it over PUT anyway). Radicale builds its item
 *     cache on the first read: the untimed warm-up round absorbs that.
 *  2. Times, each server in turn, alternating who goes first, over several
 *     rounds (after one untimed warm-up round): the initial sync-collection
 *     of the calendar and of the address book (RFC 6578), a one-month
 *     calendar-query with <C:expand> (RFC 4791 §7.8, §9.6.5), a
 *     calendar-multiget of M hrefs (§7.9) and a free-busy-query REPORT
 *     over the month (§7.10; Radicale 3.1 has none: it gets a
 *     calendar-query over the same month returning the events, what a
 *     client would fetch to compute free/busy itself).
 *  3. Prints median and p90 per query and server, the ratio Radicale /
 *     Pillarbox (goal >= 5) and what each server answered (responses,
 *     VEVENTs, FREEBUSY periods) so a wrong answer does not pass as fast.
 *
 *   bun scripts/bench/dav/bench.ts [--events 10000] [--recurring 1000] [--contacts 5000]
 *     [--runs 7] [--month 2027-03] [--multiget 500] [--parallel 4] [--compare DIR]
 *     [--radicale-http] [--radicale-put] [--radicale-only] [--timeout SECONDS] [--json] [--keep]
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort, startRadicale, type RadicaleServer } from "../../../tests/helpers/radicale.ts";
import { generateContacts, generateEvents, type GeneratedObject } from "./generate.ts";

const argv = process.argv.slice(2);
function opt(name: string, fallback: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
}
if (argv.includes("--help") || argv.includes("-h")) {
  process.stdout.write(readFileSync(new URL(import.meta.url), "utf8").split("*/")[0]!.replace(/^\/\*\*\n?/, "").replace(/^ \* ?/gm, ""));
  process.exit(0);
}
const EVENTS = Number(opt("events", "10000"));
const RECURRING = Number(opt("recurring", "1000"));
const CONTACTS = Number(opt("contacts", "5000"));
const RUNS = Number(opt("runs", "7"));
const MONTH = opt("month", "2027-03");
const MULTIGET = Number(opt("multiget", "500"));
const PARALLEL = Number(opt("parallel", "4"));
const COMPARE = argv.includes("--compare") ? resolve(opt("compare", "")) : null;
const RADICALE_HTTP = argv.includes("--radicale-http");
const JSON_OUT = argv.includes("--json");
/** Load Radicale over PUT too (slow: ~11 PUTs/s on 2 cores, slower as the collection grows) instead of writing its storage. */
const RADICALE_PUT = argv.includes("--radicale-put");
/** Only Radicale (checks the peer setup and its figures without a Pillarbox). */
const RADICALE_ONLY = argv.includes("--radicale-only");
const KEEP = argv.includes("--keep");
const ROOT = resolve(import.meta.dir ?? new URL(".", import.meta.url).pathname, "../../..");
const PASS = "bench-dav-password-1";
const REQUEST_TIMEOUT_MS = Number(opt("timeout", "900")) * 1000;
const PB_USER = "bench@bench.test";

const log = (s: string) => process.stderr.write(s + "\n");
const sorted = (a: number[]) => [...a].sort((x, y) => x - y);
const median = (a: number[]) => {
  const s = sorted(a);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const p90 = (a: number[]) => sorted(a)[Math.min(a.length - 1, Math.ceil(a.length * 0.9) - 1)]!;

const [year, month] = MONTH.split("-").map(Number) as [number, number];
const RANGE_START = Date.UTC(year, month - 1, 1);
const RANGE_END = Date.UTC(year, month, 1);
const icalUtc = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");

// ------------------------------------------------------------------ HTTP

interface Target {
  label: string;
  origin: string; // https://127.0.0.1:PORT
  user: string;
  calendar: string; // collection path with trailing slash
  book: string;
  agent: http.Agent;
  freeBusyNative: boolean;
  /** Where a collection path's resources live on disk (Radicale's filesystem storage), or null to load over PUT. */
  storageFolder: ((collectionPath: string) => string) | null;
  stop(): Promise<void>;
}

interface Answer {
  status: number;
  body: string;
  ms: number;
  headers: http.IncomingHttpHeaders;
}

function request(t: Target, method: string, path: string, body: string | null, headers: Record<string, string> = {}): Promise<Answer> {
  const payload = body === null ? null : Buffer.from(body, "utf8");
  const h: Record<string, string> = { authorization: "Basic " + Buffer.from(`${t.user}:${PASS}`).toString("base64"), ...headers };
  if (payload) h["content-length"] = String(payload.length);
  const mod = t.origin.startsWith("https:") ? https : http;
  const url = new URL(path, t.origin);
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const req = mod.request({ host: url.hostname, port: url.port, path: url.pathname, method, headers: h, agent: t.agent, rejectUnauthorized: false } as https.RequestOptions, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), ms: performance.now() - t0, headers: res.headers }));
      res.on("error", reject);
    });
    // a request that takes this long is a defect worth a clear failure, not a number
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`${t.label} ${method} ${path}: no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
    req.on("error", reject);
    req.end(payload ?? undefined);
  });
}

const XML = { "content-type": "application/xml; charset=utf-8" };
const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;
const RESPONSES = /<(?:[A-Za-z0-9]+:)?response[\s>]/g;
const hrefsOf = (s: string) => [...s.matchAll(/<(?:[A-Za-z0-9]+:)?href>([^<]*)<\/(?:[A-Za-z0-9]+:)?href>/g)].map((m) => m[1]!);

// ------------------------------------------------------------------ servers

function pillarboxCommand(repo: string): string[] {
  if (process.env.PILLARBOX_BIN && repo === ROOT) return [process.env.PILLARBOX_BIN, "serve"];
  const bin = join(repo, "dist/pillarbox");
  try {
    const built = statSync(bin).mtimeMs;
    const newer = spawnSync("find", [join(repo, "src"), join(repo, "protocols"), join(repo, "storage"), "-name", "*.ts", "-newer", bin, "-print", "-quit"], { encoding: "utf8" }).stdout.trim();
    if (built && newer === "") return [bin, "serve"];
  } catch {
    // no binary: run from source
  }
  return [join(repo, "node_modules/.bin/bun"), join(repo, "src/main.ts"), "serve"];
}

async function startPillarbox(label: string, repo: string): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), "pillarbox-dav-bench-"));
  const users = spawnSync(join(repo, "node_modules/.bin/bun"), [join(repo, "scripts/bench/lib/pillarbox-users.ts"), "--data-dir", dir, "--pass", PASS, PB_USER], { encoding: "utf8" });
  if (users.status !== 0) throw new Error(`${label}: creating the account failed: ${users.stderr}`);
  const port = await freePort();
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PILLARBOX_DATA_DIR: dir,
    PILLARBOX_HOSTNAME: "localhost",
    PILLARBOX_LOG_LEVEL: process.env.PILLARBOX_LOG_LEVEL ?? "warn",
    PILLARBOX_HTTPS_LISTEN: `127.0.0.1:${port}`,
    PILLARBOX_MAX_CONNECTIONS: "20000",
    PILLARBOX_MAX_CONNECTIONS_PER_IP: "20000",
    PILLARBOX_MAX_CONNECTIONS_HTTP: "20000",
    PILLARBOX_AUTH_FAILURES_PER_IP: "1000000",
    PILLARBOX_SMTP_VERIFY_INBOUND: "false",
  };
  for (const n of ["SMTP", "SUBMISSION", "SUBMISSIONS", "IMAP", "IMAPS", "POP3", "POP3S", "HTTP", "MANAGESIEVE"]) env[`PILLARBOX_${n}_LISTEN`] = "off";
  const [cmd, ...args] = pillarboxCommand(repo);
  // the server's log goes to DIR/pillarbox.log (kept with --keep)
  const logFd = openSync(join(dir, "pillarbox.log"), "a");
  const proc: ChildProcess = spawn(cmd!, args, { env, stdio: ["ignore", logFd, logFd] });
  closeSync(logFd);
  const stderrTail = () => readFileSync(join(dir, "pillarbox.log"), "utf8").slice(-4000);
  const t: Target = {
    label,
    origin: `https://127.0.0.1:${port}`,
    user: PB_USER,
    calendar: `/dav/calendars/${PB_USER}/bench-calendar/`,
    book: `/dav/addressbooks/${PB_USER}/bench-contacts/`,
    agent: new https.Agent({ keepAlive: true, maxSockets: 16 }),
    freeBusyNative: true,
    storageFolder: null,
    async stop() {
      t.agent.destroy();
      proc.kill("SIGTERM");
      await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once("exit", r)));
      if (!KEEP) rmSync(dir, { recursive: true, force: true });
      else log(`kept ${dir}`);
    },
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${label} exited during start-up: ${stderrTail()}`);
    try {
      const r = await request(t, "PROPFIND", "/dav/", null, { depth: "0" });
      if (r.status === 207) break;
      if (Date.now() > deadline) throw new Error(`${label}: PROPFIND /dav/ answered ${r.status}: ${r.body.slice(0, 300)}`);
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  log(`${label}: ${[cmd, ...args].join(" ")} on ${t.origin} (data ${dir})`);
  return t;
}

async function startRadicaleTarget(): Promise<{ t: Target; rad: RadicaleServer }> {
  const rad = await startRadicale({ users: { bench: PASS }, plainHttp: RADICALE_HTTP });
  const origin = rad.url.replace("localhost", "127.0.0.1").replace(/\/$/, "");
  const isHttps = origin.startsWith("https:");
  const t: Target = {
    label: "radicale",
    origin,
    user: "bench",
    calendar: "/bench/bench-calendar/",
    book: "/bench/bench-contacts/",
    agent: isHttps ? new https.Agent({ keepAlive: true, maxSockets: 16 }) : new http.Agent({ keepAlive: true, maxSockets: 16 }),
    freeBusyNative: false,
    // collection-root/<user>/<collection>/<href>: Radicale 3's multifilesystem layout
    storageFolder: RADICALE_PUT ? null : (p) => join(rad.storageDir, ...p.split("/").filter(Boolean).map(decodeURIComponent)),
    async stop() {
      t.agent.destroy();
      if (KEEP) log(`radicale storage: ${rad.storageDir} (removed on close)`);
      await rad.close();
    },
  };
  const version = spawnSync("/usr/bin/python3", ["-c", "import radicale; print(radicale.VERSION)"], { encoding: "utf8" }).stdout.trim();
  log(`radicale ${version}: python3 -m radicale on ${origin}`);
  return { t, rad };
}

// ------------------------------------------------------------------ loading

async function makeCollections(t: Target): Promise<void> {
  const mkcal = `<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>
<D:displayname>Bench calendar</D:displayname>
<C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>
</D:prop></D:set></C:mkcalendar>`;
  const mkcol = `<?xml version="1.0" encoding="utf-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:set><D:prop>
<D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype><D:displayname>Bench contacts</D:displayname>
</D:prop></D:set></D:mkcol>`;
  const a = await request(t, "MKCALENDAR", t.calendar, mkcal, XML);
  if (a.status !== 201) throw new Error(`${t.label}: MKCALENDAR ${t.calendar} -> ${a.status} ${a.body.slice(0, 400)}`);
  const b = await request(t, "MKCOL", t.book, mkcol, XML);
  if (b.status !== 201) throw new Error(`${t.label}: MKCOL ${t.book} -> ${b.status} ${b.body.slice(0, 400)}`);
}

async function load(t: Target, base: string, objects: GeneratedObject[], type: string): Promise<number> {
  const t0 = performance.now();
  if (t.storageFolder) {
    const folder = t.storageFolder(base);
    statSync(join(folder, ".Radicale.props")); // made by MKCALENDAR/MKCOL: the layout is what we think
    for (const o of objects) writeFileSync(join(folder, o.name), o.text);
    return performance.now() - t0;
  }
  let next = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < objects.length) {
        const o = objects[next++]!;
        const r = await request(t, "PUT", base + o.name, o.text, { "content-type": type, "if-none-match": "*" });
        if (r.status !== 201 && r.status !== 204) {
          if (failed++ < 3) log(`${t.label}: PUT ${o.name} -> ${r.status} ${r.body.slice(0, 300)}`);
        }
      }
    }),
  );
  if (failed) throw new Error(`${t.label}: ${failed} PUTs failed`);
  return performance.now() - t0;
}

// ------------------------------------------------------------------ queries

interface Query {
  name: string;
  goal: string;
  run(t: Target): Promise<{ ms: number; what: string }>;
}

const syncBody = `<?xml version="1.0" encoding="utf-8"?>
<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`;

const range = `start="${icalUtc(RANGE_START)}" end="${icalUtc(RANGE_END)}"`;
const monthQuery = `<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
<D:prop><D:getetag/><C:calendar-data><C:expand ${range}/></C:calendar-data></D:prop>
<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range ${range}/></C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>`;
const monthQueryPlain = monthQuery.replace(`<C:calendar-data><C:expand ${range}/></C:calendar-data>`, "<C:calendar-data/>");
const freeBusyQuery = `<?xml version="1.0" encoding="utf-8"?>
<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range ${range}/></C:free-busy-query>`;

/** Hrefs picked evenly from a server's own sync-collection answer. */
const multigetHrefs = new Map<string, string[]>();

function multigetBody(hrefs: string[]): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
<D:prop><D:getetag/><C:calendar-data/></D:prop>
${hrefs.map((h) => `<D:href>${h}</D:href>`).join("\n")}
</C:calendar-multiget>`;
}

function expect207(t: Target, what: string, r: Answer): void {
  if (r.status !== 207) throw new Error(`${t.label}: ${what} -> ${r.status} ${r.body.slice(0, 400)}`);
}

const QUERIES: Query[] = [
  {
    name: `initial sync-collection, calendar (${EVENTS} events)`,
    goal: ">= 5x",
    async run(t) {
      const r = await request(t, "REPORT", t.calendar, syncBody, { ...XML, depth: "0" });
      expect207(t, "sync-collection", r);
      if (!multigetHrefs.has(t.label)) {
        const all = hrefsOf(r.body).filter((h) => h.endsWith(".ics"));
        const step = Math.max(1, Math.floor(all.length / MULTIGET));
        multigetHrefs.set(t.label, all.filter((_, i) => i % step === 0).slice(0, MULTIGET));
      }
      return { ms: r.ms, what: `${count(r.body, RESPONSES)} responses` };
    },
  },
  {
    name: `initial sync-collection, address book (${CONTACTS} contacts)`,
    goal: ">= 5x",
    async run(t) {
      const r = await request(t, "REPORT", t.book, syncBody, { ...XML, depth: "0" });
      expect207(t, "sync-collection", r);
      return { ms: r.ms, what: `${count(r.body, RESPONSES)} responses` };
    },
  },
  {
    name: `calendar-query ${MONTH} with expand`,
    goal: ">= 5x, Pillarbox < 50 ms",
    async run(t) {
      const r = await request(t, "REPORT", t.calendar, monthQuery, { ...XML, depth: "1" });
      expect207(t, "calendar-query", r);
      return { ms: r.ms, what: `${count(r.body, RESPONSES)} objects, ${count(r.body, /BEGIN:VEVENT/g)} VEVENTs, ${count(r.body, /RECURRENCE-ID/g)} RECURRENCE-IDs` };
    },
  },
  {
    name: `calendar-multiget of ${MULTIGET} hrefs`,
    goal: ">= 5x",
    async run(t) {
      const hrefs = multigetHrefs.get(t.label) ?? [];
      const r = await request(t, "REPORT", t.calendar, multigetBody(hrefs), { ...XML, depth: "1" });
      expect207(t, "calendar-multiget", r);
      return { ms: r.ms, what: `${count(r.body, RESPONSES)} responses, ${count(r.body, /BEGIN:VCALENDAR/g)} objects` };
    },
  },
  {
    name: `free/busy ${MONTH}`,
    goal: ">= 5x",
    async run(t) {
      if (t.freeBusyNative) {
        const r = await request(t, "REPORT", t.calendar, freeBusyQuery, { ...XML, depth: "1" });
        if (r.status !== 200) throw new Error(`${t.label}: free-busy-query -> ${r.status} ${r.body.slice(0, 400)}`);
        return { ms: r.ms, what: `free-busy-query: ${count(r.body, /^FREEBUSY/gm)} FREEBUSY lines` };
      }
      // Radicale 3.1 has no free-busy-query (RFC 4791 §7.10): what a client fetches instead
      const r = await request(t, "REPORT", t.calendar, monthQueryPlain, { ...XML, depth: "1" });
      expect207(t, "calendar-query", r);
      return { ms: r.ms, what: `calendar-query (no free-busy-query): ${count(r.body, RESPONSES)} objects` };
    },
  },
];

// ------------------------------------------------------------------ main

function commit(): string {
  const r = spawnSync("git", ["-C", ROOT, "log", "-1", "--format=%h %s"], { encoding: "utf8" });
  const dirty = spawnSync("git", ["-C", ROOT, "status", "--porcelain", "--untracked-files=no"], { encoding: "utf8" }).stdout.trim() !== "";
  return `${r.stdout.trim().slice(0, 80)}${dirty ? " (+ uncommitted changes)" : ""}`;
}

const targets: Target[] = [];
let radicale: RadicaleServer | null = null;
const cleanup = async () => {
  for (const t of targets) await t.stop().catch(() => {});
};
process.on("SIGINT", () => void cleanup().then(() => process.exit(130)));

try {
  log(`machine: ${cpus()[0]?.model ?? "?"} x${cpus().length}, load ${loadavg().map((l) => l.toFixed(2)).join(" ")}; commit ${commit()}`);
  const tg = performance.now();
  const events = generateEvents(EVENTS, RECURRING);
  const contacts = generateContacts(CONTACTS);
  log(`generated ${events.length} events (${RECURRING} recurring) and ${contacts.length} contacts in ${(performance.now() - tg).toFixed(0)} ms`);

  if (!RADICALE_ONLY) targets.push(await startPillarbox("pillarbox", ROOT));
  if (COMPARE) targets.push(await startPillarbox("base", COMPARE));
  const r = await startRadicaleTarget();
  radicale = r.rad;
  targets.push(r.t);

  const loadMs: Record<string, [number, number]> = {};
  for (const t of targets) {
    await makeCollections(t);
    const ev = await load(t, t.calendar, events, "text/calendar; charset=utf-8");
    const ct = await load(t, t.book, contacts, "text/vcard; charset=utf-8");
    loadMs[t.label] = [ev, ct];
    const how = t.storageFolder ? "written into its storage folders" : `${PARALLEL} PUTs in parallel`;
    log(`${t.label}: loaded ${events.length} events in ${(ev / 1000).toFixed(1)} s (${(events.length / (ev / 1000)).toFixed(0)}/s), ${contacts.length} contacts in ${(ct / 1000).toFixed(1)} s, ${how}`);
  }

  const times: Record<string, Record<string, number[]>> = {};
  const answers: Record<string, Record<string, string>> = {};
  for (let round = 0; round <= RUNS; round++) {
    const order = round % 2 ? [...targets].reverse() : targets;
    for (const q of QUERIES) {
      for (const t of order) {
        const res = await q.run(t);
        ((answers[q.name] ??= {})[t.label] = res.what);
        if (round > 0) ((times[q.name] ??= {})[t.label] ??= []).push(res.ms);
      }
    }
    if (round === 0) log("warm-up round done (not counted)");
    else log(`round ${round}/${RUNS} done`);
  }

  const rows: string[][] = [];
  const labels = targets.map((t) => t.label);
  const header = ["query", ...labels.flatMap((l) => [`${l} median`, `${l} p90`]), "radicale / pillarbox", ...(COMPARE ? ["base / pillarbox"] : []), "goal"];
  const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1)) + " ms";
  for (const q of QUERIES) {
    const byLabel = times[q.name]!;
    const pm = byLabel["pillarbox"] ? median(byLabel["pillarbox"]) : NaN;
    rows.push([
      q.name,
      ...labels.flatMap((l) => [fmt(median(byLabel[l]!)), fmt(p90(byLabel[l]!))]),
      `${(median(byLabel["radicale"]!) / pm).toFixed(1)}x`,
      ...(COMPARE ? [`${(median(byLabel["base"]!) / pm).toFixed(2)}x`] : []),
      q.goal,
    ]);
  }
  if (JSON_OUT) {
    process.stdout.write(JSON.stringify({ events: EVENTS, recurring: RECURRING, contacts: CONTACTS, runs: RUNS, month: MONTH, multiget: MULTIGET, load: loadMs, times, answers, commit: commit() }, null, 2) + "\n");
  } else {
    const md = (r: string[]) => `| ${r.join(" | ")} |`;
    process.stdout.write(`\nDAV benchmark: ${EVENTS} events (${RECURRING} recurring), ${CONTACTS} contacts; ${RUNS} rounds after a warm-up, median and p90 per request (client wall time)\n`);
    process.stdout.write(`Pillarbox over HTTPS (keep-alive); Radicale over ${RADICALE_HTTP ? "plain HTTP" : "HTTPS"} (its server closes the connection after each response)\n\n`);
    process.stdout.write([md(header), md(header.map((_, i) => (i === 0 ? "---" : "---:"))), ...rows.map(md)].join("\n") + "\n\n");
    process.stdout.write("What each server answered (last round):\n");
    for (const q of QUERIES) for (const l of labels) process.stdout.write(`  ${q.name} [${l}]: ${answers[q.name]![l]}\n`);
    process.stdout.write(`\nLoading: ${targets.map((t) => `${t.label} ${(loadMs[t.label]![0] / 1000).toFixed(1)} s events + ${(loadMs[t.label]![1] / 1000).toFixed(1)} s contacts (${t.storageFolder ? "files written into its storage" : `PUT, ${PARALLEL} in parallel`})`).join("; ")}\n`);
  }
} finally {
  await cleanup();
}
