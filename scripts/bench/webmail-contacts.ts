/**
 * Contact search benchmark (issue 17: "contact search over 5,000 contacts
 * under 50 ms"): N contacts (default 5,000; vCard 3.0 with accented names,
 * organizations, emails and phones) written through the groupware service
 * into one address book, then over one keep-alive HTTPS connection:
 *
 *  - the whole book listed once cold (the summary cache is built: every card read) and warm;
 *  - GET /api/contacts?book=Contacts&q=... for several queries, warm, median and p95 of R runs;
 *  - GET /api/people?q=... (the composer's autocomplete over every book, groups and the directory).
 *
 * Called by scripts/bench/webmail.ts (its table gets these rows), or alone:
 *
 *   node_modules/.bin/bun scripts/bench/webmail-contacts.ts [--contacts 5000] [--runs 20] [--json]
 */
import https from "node:https";
import type { Account } from "../../storage/api.ts";
import type { TestServer } from "../../tests/helpers/server.ts";

export interface ContactsBenchResult {
  contacts: number;
  fillSeconds: number;
  listAllMs: { cold: number; warmMedian: number; rows: number };
  searchMs: Record<string, { median: number; p95: number; n: number; hits: number }>;
  peopleMs: Record<string, { median: number; p95: number; n: number; hits: number }>;
}

const GIVEN = "Anna Jürgen Zoë Renée José Ana Björn Søren Łukasz François Hans Maria Peter Chloé Inès Noël Günther Ömer Åsa Émile".split(" ");
const FAMILY = "Müller Schmidt Dupont Lefèvre Núñez García Østergaard Kowalski Smith Jones Brontë Šimůnek Weiß Çelik Fernández Lindqvist Novák Hoffmann Martin Moreau".split(" ");
const ORGS = "Café Genève|Straße & Söhne GmbH|Acme Corp|Société Générale|Nordic AB|Über Logistics|Zürich Insurance|Müller Bau".split("|");

function card(i: number): string {
  const g = GIVEN[i % GIVEN.length]!;
  const f = FAMILY[Math.floor(i / GIVEN.length) % FAMILY.length]!;
  const o = ORGS[i % ORGS.length]!;
  const mail = `${g}.${f}${i}`.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().replace(/[^a-z0-9.]/g, "");
  return [
    "BEGIN:VCARD",
    "VERSION:3.0",
    `UID:bench-${i}`,
    `FN:${g} ${f}`,
    `N:${f};${g};;;`,
    `ORG:${o.replace(/[,;]/g, "\\$&")}`,
    `EMAIL;TYPE=INTERNET,WORK:${mail}@example.org`,
    ...(i % 3 === 0 ? [`EMAIL;TYPE=INTERNET,HOME:${mail}@home.example`] : []),
    `TEL;TYPE=CELL:+49 30 ${String(1000000 + i * 37).slice(0, 7)}`,
    `NOTE:Contact number ${i}`,
    "END:VCARD",
    "",
  ].join("\r\n");
}

/** Fills the account's default book "Contacts" with `count` cards through the groupware service. */
async function fill(srv: TestServer, account: Account, count: number): Promise<number> {
  const gw = srv.ctx.groupware;
  await gw.ensureDefaults(account);
  const book = (await gw.getCollection(account, "Contacts"))!;
  const enc = new TextEncoder();
  const t0 = performance.now();
  for (let i = 0; i < count; i += 16) {
    await Promise.all(Array.from({ length: Math.min(16, count - i) }, (_, k) => gw.putObject(book, `bench-${i + k}.vcf`, enc.encode(card(i + k)))));
  }
  return (performance.now() - t0) / 1000;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
const r1 = (x: number) => Math.round(x * 10) / 10;

export type Get = (path: string) => Promise<{ status: number; body: string }>;

/** The measurements, over `get` (a signed-in client on one keep-alive connection). */
export async function benchContacts(opts: { srv: TestServer; account: Account; get: Get; contacts?: number; runs?: number }): Promise<ContactsBenchResult> {
  const count = opts.contacts ?? 5000;
  const runs = Math.max(20, opts.runs ?? 20);
  const fillSeconds = await fill(opts.srv, opts.account, count);
  const time = async (path: string): Promise<{ ms: number; body: string }> => {
    const t0 = performance.now();
    const r = await opts.get(path);
    const ms = performance.now() - t0;
    if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
    return { ms, body: r.body };
  };

  const cold = await time("/api/contacts?book=Contacts");
  const rows = (JSON.parse(cold.body) as { contacts: unknown[] }).contacts.length;
  if (rows !== count) throw new Error(`listed ${rows} contacts, expected ${count}`);
  const warmAll: number[] = [];
  for (let i = 0; i < runs; i++) warmAll.push((await time("/api/contacts?book=Contacts")).ms);

  const measure = async (path: (q: string) => string, queries: string[], key: "contacts" | "people") => {
    const out: ContactsBenchResult["searchMs"] = {};
    for (const q of queries) {
      const first = await time(path(q)); // warm-up
      const hits = (JSON.parse(first.body) as Record<string, unknown[]>)[key]!.length;
      const times: number[] = [];
      for (let i = 0; i < runs; i++) times.push((await time(path(q))).ms);
      out[q] = { median: r1(pct(times, 50)), p95: r1(pct(times, 95)), n: runs, hits };
    }
    return out;
  };
  const searchMs = await measure((q) => `/api/contacts?book=Contacts&q=${encodeURIComponent(q)}`, ["muller", "geneve", "anna", "zoe dupont", "lefevre@example", "+49 30 118", "no-such-person"], "contacts");
  const peopleMs = await measure((q) => `/api/people?q=${encodeURIComponent(q)}`, ["mul", "anna sch", "renee.dup", "zzz"], "people");
  return { contacts: count, fillSeconds: r1(fillSeconds), listAllMs: { cold: r1(cold.ms), warmMedian: r1(pct(warmAll, 50)), rows }, searchMs, peopleMs };
}

/** Console lines. */
export function contactsText(r: ContactsBenchResult): string[] {
  return [
    `contacts: ${r.contacts} written through the groupware service in ${r.fillSeconds} s; whole book listed cold ${r.listAllMs.cold} ms (summary cache built), warm median ${r.listAllMs.warmMedian} ms`,
    ...Object.entries(r.searchMs).map(([q, v]) => `contact search q="${q}" (${v.hits} hits): median ${v.median} ms, p95 ${v.p95} ms (${v.n} requests)`),
    ...Object.entries(r.peopleMs).map(([q, v]) => `people autocomplete q="${q}" (${v.hits} suggestions): median ${v.median} ms, p95 ${v.p95} ms (${v.n} requests)`),
  ];
}

/** Rows for the Webmail table of docs/BENCHMARKS.md. */
export function contactsRows(r: ContactsBenchResult): string[] {
  const n = r.contacts.toLocaleString("en");
  const worst = (m: ContactsBenchResult["searchMs"]) => Math.max(...Object.values(m).map((v) => v.median));
  return [
    `| Contact search \`/api/contacts?q=\` over ${n} contacts, ${Object.keys(r.searchMs).length} queries (accented names, email, phone, none), warm (median of ${Object.values(r.searchMs)[0]?.n ?? 0} each) | slowest median **${worst(r.searchMs)} ms** (${Object.entries(r.searchMs).map(([q, v]) => `"${q}" ${v.median}`).join(", ")}) |`,
    `| Address autocomplete \`/api/people?q=\` (contacts, groups, directory) over ${n} contacts | slowest median **${worst(r.peopleMs)} ms** (${Object.entries(r.peopleMs).map(([q, v]) => `"${q}" ${v.median}`).join(", ")}) |`,
    `| Whole ${n}-contact book listed: first time (every card read into the summary cache) / warm | **${r.listAllMs.cold} ms** / **${r.listAllMs.warmMedian} ms** |`,
  ];
}

// ---------------------------------------------------------------- alone

async function signIn(base: string, agent: https.Agent, email: string, password: string): Promise<string> {
  const raw = (path: string, init: { method?: string; headers?: Record<string, string>; body?: string }) =>
    new Promise<{ status: number; body: string; headers: Record<string, unknown> }>((res, rej) => {
      const req = https.request(new URL(base + path), { method: init.method ?? "GET", agent, headers: init.headers }, (r) => {
        let b = "";
        r.setEncoding("utf8");
        r.on("data", (c) => (b += c));
        r.on("end", () => res({ status: r.statusCode ?? 0, body: b, headers: r.headers }));
      });
      req.on("error", rej);
      req.end(init.body);
    });
  const page = await raw("/login", {});
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1]!;
  const cookie = String((page.headers["set-cookie"] as string[])[0]).split(";")[0]!;
  const body = new URLSearchParams({ email, password, csrf }).toString();
  const r = await raw("/login", { method: "POST", headers: { cookie, origin: base, "content-type": "application/x-www-form-urlencoded", "content-length": String(body.length) }, body });
  return String(((r.headers["set-cookie"] as string[] | undefined) ?? []).find((c) => c.startsWith("__Host-pb_session"))).split(";")[0]!;
}

export function keepAliveGet(base: string, agent: https.Agent, cookie: string): Get {
  return (path) =>
    new Promise((res, rej) => {
      const req = https.request(new URL(base + path), { agent, headers: { cookie } }, (r) => {
        let b = "";
        r.setEncoding("utf8");
        r.on("data", (c) => (b += c));
        r.on("end", () => res({ status: r.statusCode ?? 0, body: b }));
      });
      req.on("error", rej);
      req.end();
    });
}

/** What a bench piece run on its own gets: a test server, its bench account, a signed-in keep-alive GET and `--name N` options. */
export interface Alone {
  srv: TestServer;
  account: Account;
  base: string;
  user: { email: string; password: string };
  get: Get;
  arg(name: string, def: number): number;
}

/** Runs one webmail bench piece on its own (`bun scripts/bench/webmail-<piece>.ts [--json]`) and prints its lines or JSON. */
export async function runAlone<R>(run: (a: Alone) => Promise<R>, text: (r: R) => string[]): Promise<void> {
  const argv = process.argv.slice(2);
  const arg = (name: string, def: number) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? Number(argv[i + 1]) : def;
  };
  const { startTestServer, createUser } = await import("../../tests/helpers/server.ts");
  const srv = await startTestServer({ listeners: ["HTTP", "HTTPS"] });
  try {
    const user = { email: "bench@example.test", password: "bench password 123" };
    const account = await createUser(srv.store, user.email, user.password, { displayName: "Bench User" });
    const base = `https://127.0.0.1:${srv.port("HTTPS")}`;
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
    const cookie = await signIn(base, agent, user.email, user.password);
    const r = await run({ srv, account, base, user, get: keepAliveGet(base, agent, cookie), arg });
    agent.destroy();
    if (argv.includes("--json")) console.log(JSON.stringify(r, null, 2));
    else for (const l of text(r)) console.log(l);
  } finally {
    await srv.close();
  }
}

if (import.meta.main) {
  await runAlone((a) => benchContacts({ srv: a.srv, account: a.account, get: a.get, contacts: a.arg("contacts", 5000), runs: a.arg("runs", 20) }), contactsText);
}
