/**
 * EWS benchmark (run through scripts/bench/ews; figures in docs/BENCHMARKS.md):
 *
 *  a. SyncFolderItems of a whole N-message INBOX (default 10,000) from an
 *     empty SyncState in pages of 512 changes, IdOnly and Default shapes,
 *     against IMAP over the same data in the same run: `UID FETCH 1:* (UID
 *     FLAGS)` and `UID FETCH 1:* (UID FLAGS ENVELOPE RFC822.SIZE
 *     INTERNALDATE)`.
 *  b. FindItem paging through the whole INBOX (Default shape, newest first by
 *     DateTimeReceived) in pages of 100 and of 1,000, against IMAP FETCH of
 *     the same sequence ranges (UID FLAGS ENVELOPE RFC822.SIZE INTERNALDATE).
 *  c. Memory per open streaming subscription with 1,000 open: runs
 *     scripts/bench/ews-subscriptions.ts (the notifications owner's script).
 *
 * The server runs in its own process (scripts/bench/ews-server.ts); both
 * protocols go over TLS on 127.0.0.1 with one kept-alive connection each,
 * the client reading whole responses without parsing them beyond the few
 * values it needs (SyncState, paging). Each figure is the median of --runs
 * rounds (default 3) of a, then b, EWS and IMAP alternating.
 *
 *   bun scripts/bench/ews-bench.ts [--messages 10000] [--runs 3] [--sync-page 512] [--no-subscriptions] [--json]
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { ROOT, arg, log, median } from "./eas-client.ts";

const MESSAGES = Number(arg("messages", "10000"));
const RUNS = Number(arg("runs", "3"));
const SYNC_PAGE = Number(arg("sync-page", "512"));
const JSON_OUT = process.argv.includes("--json");
const USER = "sync0@bench.test";
const PASS = "bench-password-1";

// ------------------------------------------------------------------ server process

class Server {
  private waiting: ((l: string) => void)[] = [];
  constructor(
    private proc: ChildProcess,
    readonly httpsPort: number,
    readonly imapsPort: number,
    readonly pid: number,
    lines: ReturnType<typeof createInterface>,
  ) {
    lines.on("line", (l) => this.waiting.shift()?.(l));
  }
  static async start(dataDir: string): Promise<Server> {
    const proc = spawn(process.execPath, [join(ROOT, "scripts/bench/ews-server.ts"), "--data", dataDir, "--messages", String(MESSAGES)], { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] });
    const lines = createInterface({ input: proc.stdout! });
    const ready = await new Promise<string>((r, j) => {
      lines.once("line", r);
      proc.once("exit", (code) => j(new Error(`server exited with ${code} before it was ready`)));
    });
    const m = /^READY (\d+) (\d+) (\d+)$/.exec(ready);
    if (!m) throw new Error(`server did not start: ${ready}`);
    return new Server(proc, Number(m[1]), Number(m[2]), Number(m[3]), lines);
  }
  async quit(): Promise<void> {
    this.proc.stdin!.write("QUIT\n");
    await new Promise((r) => this.proc.once("exit", r));
  }
}

// ------------------------------------------------------------------ EWS client

const NS = `xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"`;
const soap = (op: string) => `<?xml version="1.0" encoding="utf-8"?><s:Envelope ${NS}><s:Header><t:RequestServerVersion Version="Exchange2016"/></s:Header><s:Body>${op}</s:Body></s:Envelope>`;

class Ews {
  private agent = new Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
  private auth = "Basic " + Buffer.from(`${USER}:${PASS}`).toString("base64");
  bytes = 0;
  constructor(private port: number) {}
  call(op: string): Promise<string> {
    const body = Buffer.from(soap(op));
    return new Promise((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port: this.port, method: "POST", path: "/EWS/Exchange.asmx", agent: this.agent, headers: { authorization: this.auth, "content-type": "text/xml; charset=utf-8", "content-length": body.length } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (d: Buffer) => chunks.push(d));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            this.bytes += text.length;
            if (res.statusCode !== 200 || !text.includes('ResponseClass="Success"')) reject(new Error(`EWS ${res.statusCode}: ${text.slice(0, 600)}`));
            else resolve(text);
          });
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }
  close(): void {
    this.agent.destroy();
  }
}

const count = (s: string, needle: string) => s.split(needle).length - 1;

/** SyncFolderItems from an empty state until IncludesLastItemInRange; returns [seconds, items]. */
async function ewsSync(ews: Ews, shape: "IdOnly" | "Default"): Promise<[number, number]> {
  let state = "";
  let items = 0;
  const t = performance.now();
  for (let round = 0; round < 10_000; round++) {
    const r = await ews.call(
      `<m:SyncFolderItems><m:ItemShape><t:BaseShape>${shape}</t:BaseShape></m:ItemShape><m:SyncFolderId><t:DistinguishedFolderId Id="inbox"/></m:SyncFolderId>${state ? `<m:SyncState>${state}</m:SyncState>` : ""}<m:MaxChangesReturned>${SYNC_PAGE}</m:MaxChangesReturned></m:SyncFolderItems>`,
    );
    items += count(r, "<t:Create>");
    state = /<m:SyncState>([^<]*)<\/m:SyncState>/.exec(r)?.[1] ?? "";
    if (/<m:IncludesLastItemInRange>true</.test(r)) break;
  }
  return [(performance.now() - t) / 1000, items];
}

/** FindItem through the whole INBOX, newest first, pages of `page`; returns [seconds, items]. */
async function ewsFind(ews: Ews, page: number): Promise<[number, number]> {
  let items = 0;
  const t = performance.now();
  for (let offset = 0; offset < MESSAGES + page; offset += page) {
    const r = await ews.call(
      `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>Default</t:BaseShape></m:ItemShape><m:IndexedPageItemView MaxEntriesReturned="${page}" Offset="${offset}" BasePoint="Beginning"/><m:SortOrder><t:FieldOrder Order="Descending"><t:FieldURI FieldURI="item:DateTimeReceived"/></t:FieldOrder></m:SortOrder><m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindItem>`,
    );
    items += count(r, "<t:ItemId ");
    if (/IncludesLastItemInRange="true"/.test(r)) break;
  }
  return [(performance.now() - t) / 1000, items];
}

// ------------------------------------------------------------------ IMAP client (raw, over TLS)

class Imap {
  private buf = "";
  private tagN = 0;
  private wake: (() => void) | null = null;
  bytes = 0;
  private constructor(private sock: TLSSocket) {
    sock.setEncoding("latin1");
    sock.on("data", (d: string) => {
      this.buf += d;
      this.bytes += d.length;
      this.wake?.();
    });
  }
  static async open(port: number): Promise<Imap> {
    // The data listener goes on at once: a greeting that arrives with the handshake must not be missed.
    const c = new Imap(tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false }));
    await new Promise<void>((resolve, reject) => {
      c.sock.once("secureConnect", () => resolve());
      c.sock.once("error", reject);
    });
    await c.until(() => c.buf.includes("\r\n"));
    c.buf = "";
    await c.cmd(`LOGIN "${USER}" "${PASS}"`);
    await c.cmd("SELECT INBOX");
    return c;
  }
  private until(test: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (test()) {
          this.wake = null;
          resolve();
        }
      };
      this.wake = check;
      check();
    });
  }
  /** Sends one command and waits for its tagged completion; returns the response text. */
  async cmd(line: string): Promise<string> {
    const tag = `B${++this.tagN}`;
    this.buf = "";
    this.sock.write(`${tag} ${line}\r\n`);
    // The last line of the buffer (a tagged reply can be long: LOGIN's carries the capabilities).
    const lastLine = () => {
      if (!this.buf.endsWith("\r\n")) return "";
      const before = this.buf.lastIndexOf("\r\n", this.buf.length - 3);
      return this.buf.slice(before < 0 ? 0 : before + 2);
    };
    await this.until(() => /^\S+ (OK|NO|BAD)/.test(lastLine()) && lastLine().startsWith(`${tag} `));
    const out = this.buf;
    const status = lastLine();
    this.buf = "";
    if (!status.startsWith(`${tag} OK`)) throw new Error(`IMAP ${line}: ${status}`);
    return out;
  }
  close(): void {
    this.sock.destroy();
  }
}

const FULL = "(UID FLAGS ENVELOPE RFC822.SIZE INTERNALDATE)";

async function imapAll(imap: Imap, items: string): Promise<[number, number]> {
  const t = performance.now();
  const r = await imap.cmd(`UID FETCH 1:* ${items}`);
  return [(performance.now() - t) / 1000, count(r, " FETCH (")];
}

/** The same newest-first pages as FindItem: sequence ranges from the top of the mailbox. */
async function imapPages(imap: Imap, page: number): Promise<[number, number]> {
  let items = 0;
  const t = performance.now();
  for (let hi = MESSAGES; hi >= 1; hi -= page) {
    const lo = Math.max(1, hi - page + 1);
    const r = await imap.cmd(`FETCH ${lo}:${hi} ${FULL}`);
    items += count(r, " FETCH (");
  }
  return [(performance.now() - t) / 1000, items];
}

// ------------------------------------------------------------------ run

const dataDir = mkdtempSync(join(tmpdir(), "pillarbox-ews-bench-"));
const t0 = Date.now();
const srv = await Server.start(dataDir);
log(`server ready (pid ${srv.pid}): EWS on https://127.0.0.1:${srv.httpsPort}, IMAPS on ${srv.imapsPort}; ${MESSAGES} messages seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

interface Pair {
  name: string;
  ews: string;
  imap: string;
  ewsS: number[];
  imapS: number[];
}
const pairs: Pair[] = [
  { name: "sync-idonly", ews: `SyncFolderItems IdOnly, pages of ${SYNC_PAGE}`, imap: "UID FETCH 1:* (UID FLAGS)", ewsS: [], imapS: [] },
  { name: "sync-default", ews: `SyncFolderItems Default, pages of ${SYNC_PAGE}`, imap: `UID FETCH 1:* ${FULL}`, ewsS: [], imapS: [] },
  { name: "find-100", ews: "FindItem Default, newest first, pages of 100", imap: `FETCH of the same 100-message ranges ${FULL}`, ewsS: [], imapS: [] },
  { name: "find-1000", ews: "FindItem Default, newest first, pages of 1,000", imap: "FETCH of the same 1,000-message ranges", ewsS: [], imapS: [] },
];
const ews = new Ews(srv.httpsPort);
const imap = await Imap.open(srv.imapsPort);
const expect = (what: string, got: number) => {
  if (got !== MESSAGES) throw new Error(`${what} returned ${got} items, expected ${MESSAGES}`);
};
// One warm-up pass of each (caches, JIT), not counted.
await ewsSync(ews, "IdOnly");
await imapAll(imap, "(UID FLAGS)");
for (let run = 0; run < RUNS; run++) {
  const steps: [Pair, () => Promise<[number, number]>, () => Promise<[number, number]>][] = [
    [pairs[0]!, () => ewsSync(ews, "IdOnly"), () => imapAll(imap, "(UID FLAGS)")],
    [pairs[1]!, () => ewsSync(ews, "Default"), () => imapAll(imap, FULL)],
    [pairs[2]!, () => ewsFind(ews, 100), () => imapPages(imap, 100)],
    [pairs[3]!, () => ewsFind(ews, 1000), () => imapPages(imap, 1000)],
  ];
  for (const [p, e, i] of steps) {
    const [es, en] = await e();
    expect(p.ews, en);
    const [is, inn] = await i();
    expect(p.imap, inn);
    p.ewsS.push(es);
    p.imapS.push(is);
    log(`run ${run + 1} ${p.name}: EWS ${es.toFixed(3)} s, IMAP ${is.toFixed(3)} s, ratio ${(es / is).toFixed(2)}`);
  }
}
ews.close();
imap.close();
await srv.quit();
rmSync(dataDir, { recursive: true, force: true });

// c. streaming subscriptions (its own server; the owner's script prints its own lines).
let subscriptions: string | null = null;
const subScript = join(ROOT, "scripts/bench/ews-subscriptions.ts");
if (!process.argv.includes("--no-subscriptions")) {
  if (existsSync(subScript)) {
    const r = spawnSync(process.execPath, [subScript], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 600_000 });
    subscriptions = (r.stdout ?? "").trim() || `(ews-subscriptions.ts exited ${r.status} with no output)`;
  } else subscriptions = "(scripts/bench/ews-subscriptions.ts is not there: not measured)";
}

const rows = pairs.map((p) => ({ name: p.name, ews: p.ews, imap: p.imap, ewsMedianS: +median(p.ewsS).toFixed(3), imapMedianS: +median(p.imapS).toFixed(3), ratio: +(median(p.ewsS) / median(p.imapS)).toFixed(2), ewsRuns: p.ewsS.map((x) => +x.toFixed(3)), imapRuns: p.imapS.map((x) => +x.toFixed(3)) }));
console.log(`\nEWS benchmark: ${MESSAGES}-message INBOX, median of ${RUNS} rounds (2 cores shared by client and server, TLS on 127.0.0.1, one connection each)`);
console.log(`| EWS | s | IMAP | s | EWS/IMAP |`);
console.log(`|---|---:|---|---:|---:|`);
for (const r of rows) console.log(`| ${r.ews} | ${r.ewsMedianS.toFixed(2)} | ${r.imap} | ${r.imapMedianS.toFixed(2)} | ${r.ratio.toFixed(2)} |`);
const worst = Math.max(...rows.map((r) => r.ratio));
console.log(`Goal EWS/IMAP <= 2: ${worst <= 2 ? "met" : "missed"} (worst ratio ${worst.toFixed(2)})`);
if (subscriptions !== null) console.log(`\nStreaming subscriptions (scripts/bench/ews-subscriptions.ts):\n${subscriptions}`);
if (JSON_OUT) console.log(JSON.stringify({ messages: MESSAGES, runs: RUNS, syncPage: SYNC_PAGE, rows, subscriptions }, null, 1));
process.exit(0);
