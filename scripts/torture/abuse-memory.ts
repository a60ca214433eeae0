/**
 * Resource attacks of issue 13 against a real `pillarbox serve` process, each
 * with the server's memory recorded before, at its peak and after it settles:
 *
 *   1. SMTP DATA of short bare-LF lines (`a\n`), four unauthenticated connections
 *   2. SMTP DATA of dot-stuffed lines (`.a\r\n`), and one-byte BDAT chunks
 *   3. IMAP COMPRESS=DEFLATE bomb behind a FETCH the client never reads
 *   4. IMAP IDLE clients that never read while another session toggles flags
 *   5. webmail /api/events streams that never read while change events fire
 *   6. connection-cap fairness: port 25 saturated from many addresses
 *   7. IMAP SEARCH with thousands of two-character BODY terms
 *   8. authentication: parallel guesses from one new address, and guesses
 *      spread over many addresses against one account
 *
 * Memory: RSS from /proc/PID/status; the peak is the larger of VmRSS polled
 * every 50 ms and VmHWM (reset per attack through /proc/PID/clear_refs). The
 * server is started with scripts/torture/gc-on-signal.ts preloaded, so before
 * each "start" and "after" sample it is asked (SIGUSR2) for a full garbage
 * collection and given a few seconds to settle.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { connect as netConnect, type Socket } from "node:net";
import { join, resolve } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { constants as zc, createDeflateRaw } from "node:zlib";
import type { MailStore } from "../../storage/api.ts";
import { ImapConn, LineConn, smtpCmd, smtpReply } from "../../tests/reliability/lib/conn.ts";
import { freePort, REPO, startServerProc, type ServerProc } from "../../tests/reliability/lib/server-proc.ts";
import { passwordHasher } from "../../src/auth.ts";

export interface MemCase {
  group: string;
  name: string;
  ok: boolean;
  detail: string;
}

export interface MemoryAbuseOptions {
  quick?: boolean;
  /** Run the server from another checkout (e.g. the code before the fixes). */
  serverDir?: string;
  /** Only these attacks (names as in ATTACKS). */
  only?: string[];
  /** Multiplies the SMTP flood sizes (e.g. 0.25 on a small machine). */
  scale?: number;
  dataDir: string;
  log?: (s: string) => void;
}

export const ATTACKS = ["bare-lf", "dot-stuffed", "bdat", "compress", "idle", "events", "caps", "auth", "search"] as const;
export type AttackName = (typeof ATTACKS)[number];

const DOMAIN = "abuse.test";
const ALICE = `alice@${DOMAIN}`;
const BOB = `bob@${DOMAIN}`;
const CAROL = `carol@${DOMAIN}`;
const PASS = "abuse-pass-1";
const MB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ memory probe

function status(pid: number, field: "VmRSS" | "VmHWM"): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Server CPU time (user + system) in seconds. */
function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

const mbOf = (b: number) => Math.round(b / MB);

interface Figures {
  start: number;
  peak: number;
  after: number;
  cpu: number;
}

class Probe {
  constructor(
    private srv: ServerProc,
    private settleMs: number,
  ) {}

  rss(): number {
    return status(this.srv.pid, "VmRSS");
  }

  /** The server's CPU time so far, seconds. */
  cpu(): number {
    return cpuSeconds(this.srv.pid);
  }

  /** Full GC in the server, then wait for the allocator to hand pages back; twice, then sample. */
  async settle(): Promise<number> {
    for (let i = 0; i < 2; i++) {
      try {
        process.kill(this.srv.pid, "SIGUSR2");
      } catch {
        /* server gone: the sample below says 0 */
      }
      await sleep(i === 0 ? this.settleMs : 500);
    }
    return this.rss();
  }

  /** Runs `attack`, recording RSS at start, at peak and after settling. */
  async measure<T>(attack: () => Promise<T>): Promise<{ result: T; fig: Figures }> {
    const start = await this.settle();
    try {
      writeFileSync(`/proc/${this.srv.pid}/clear_refs`, "5"); // resets VmHWM to the current RSS
    } catch {
      /* older kernels: the 50 ms poll still sees the peak */
    }
    let peak = start;
    const poll = setInterval(() => (peak = Math.max(peak, this.rss())), 50);
    const cpu0 = cpuSeconds(this.srv.pid);
    let result: T;
    try {
      result = await attack();
    } finally {
      clearInterval(poll);
    }
    peak = Math.max(peak, this.rss(), status(this.srv.pid, "VmHWM"));
    const cpu = cpuSeconds(this.srv.pid) - cpu0;
    const after = await this.settle();
    return { result, fig: { start, peak, after, cpu } };
  }
}

function memLine(label: string, f: Figures, inFlight?: number): string {
  const grow = f.peak - f.start;
  const ratio = inFlight ? `, ${(grow / inFlight).toFixed(1)}x in flight` : "";
  const back = f.start ? Math.round(((f.after - f.start) / f.start) * 100) : 0;
  return `[memory] ${label}: start ${mbOf(f.start)} MB, peak ${mbOf(f.peak)} MB (+${mbOf(grow)}${ratio}), after ${mbOf(f.after)} MB (${back >= 0 ? "+" : ""}${back}%), server CPU ${f.cpu.toFixed(1)} s`;
}

/** RSS after the attack within 20% of where it started (done-when point 2). */
const returned = (f: Figures) => f.after <= f.start * 1.2;

// ------------------------------------------------------------------ clients

function waitDrainOrClose(s: Socket, ms: number): Promise<void> {
  return new Promise((r) => {
    const done = () => {
      clearTimeout(t);
      s.off("drain", done);
      s.off("close", done);
      r();
    };
    const t = setTimeout(done, ms);
    s.on("drain", done);
    s.on("close", done);
  });
}

/** One unauthenticated SMTP transaction whose DATA is `total` bytes of `chunk` repeated. Returns the final reply. */
async function smtpDataFlood(port: number, ip: string, chunk: Buffer, total: number): Promise<{ reply: string; sent: number }> {
  const c = await LineConn.connect(port, { localAddress: ip });
  let sent = 0;
  try {
    await smtpReply(c);
    await smtpCmd(c, "EHLO flood.test");
    await smtpCmd(c, "MAIL FROM:<flood@outside.test>");
    const r = await smtpCmd(c, `RCPT TO:<${ALICE}>`);
    if (r.code !== 250) return { reply: `RCPT ${r.code}`, sent };
    const d = await smtpCmd(c, "DATA");
    if (d.code !== 354) return { reply: `DATA ${d.code}`, sent };
    // A proper header section, then the body made of `chunk` (issue 13 item 1 is about body lines).
    c.write(`From: flood@outside.test\r\nTo: ${ALICE}\r\nSubject: flood\r\nMessage-ID: <flood.${ip}.${Date.now()}@outside.test>\r\n\r\n`);
    const deadline = Date.now() + 300_000;
    while (sent < total && !c.closed && Date.now() < deadline) {
      const ok = c.sock.write(chunk);
      sent += chunk.length;
      if (!ok) await waitDrainOrClose(c.sock, 60_000);
    }
    c.write("\r\n.\r\n");
    const e = await smtpReply(c, 300_000).catch((err: Error) => ({ code: 0, text: err.message }));
    return { reply: `${e.code} ${e.text.split("\n")[0]}`.slice(0, 90), sent };
  } finally {
    c.close();
  }
}

/** `n` one-byte BDAT chunks, pipelined (RFC 3030 allows it), replies read as they come. */
async function bdatFlood(port: number, ip: string, n: number, hold?: { chunksIn: () => void; release: Promise<void> }): Promise<{ reply: string; acked: number }> {
  const c = await LineConn.connect(port, { localAddress: ip });
  await smtpReply(c);
  await smtpCmd(c, "EHLO flood.test");
  await smtpCmd(c, "MAIL FROM:<flood@outside.test>");
  await smtpCmd(c, `RCPT TO:<${ALICE}>`);
  // Take the socket over: count reply lines, keep only the last one.
  const sock = c.sock;
  sock.removeAllListeners("data");
  let acked = 0;
  let last = "";
  let tail = "";
  let closed = false;
  let wake: (() => void) | null = null;
  sock.on("data", (d: Buffer) => {
    const s = tail + d.toString("latin1");
    const lines = s.split("\n");
    tail = lines.pop()!;
    for (const l of lines) {
      acked++;
      last = l;
    }
    wake?.();
  });
  sock.on("close", () => {
    closed = true;
    wake?.();
  });
  const waitFor = async (cond: () => boolean, ms: number) => {
    const deadline = Date.now() + ms;
    while (!cond() && !closed && Date.now() < deadline) await new Promise<void>((r) => ((wake = r), setTimeout(r, 200)));
  };
  const BATCH = 5000;
  const batch = Buffer.from("BDAT 1\r\na".repeat(BATCH));
  let sent = 0;
  try {
    while (sent < n && !closed) {
      sock.write(batch);
      sent += BATCH;
      // Keep at most 50,000 chunks unanswered: the attack is the chunk count, not an output backlog.
      await waitFor(() => sent - acked <= 50_000, 60_000);
      if (sent - acked > 50_000) break;
    }
    if (hold) {
      // Every chunk answered, the message still open: what the server holds now is what it keeps per chunk.
      await waitFor(() => acked >= sent, 60_000);
      hold.chunksIn();
      await hold.release;
    }
    sock.write("BDAT 0 LAST\r\n");
    await waitFor(() => acked >= sent + 1, 120_000);
    return { reply: `${last.trim().slice(0, 80)} after ${sent} chunks sent, ${acked} replies${closed ? ", closed by the server" : ""}`, acked };
  } finally {
    sock.destroy();
  }
}

/**
 * The COMPRESS bomb: LOGIN, SELECT a big folder, COMPRESS DEFLATE, a FETCH of
 * every body that is never read, then deflated NOOP lines until `compressed`
 * bytes went out (~1000:1, so 1.5 MB inflates to ~1.5 GB of commands).
 */
async function compressBomb(port: number, ip: string, folder: string, compressed: number): Promise<{ sent: number; conn: LineConn }> {
  const { imap } = await ImapConn.connect(port, { localAddress: ip });
  await imap.cmd(`LOGIN ${ALICE} ${PASS}`);
  await imap.cmd(`SELECT ${folder}`);
  const r = await imap.cmd("COMPRESS DEFLATE");
  if (r.status !== "OK") throw new Error(`COMPRESS refused: ${r.status} ${r.text}`);
  const sock = imap.c.sock;
  sock.pause(); // never read what the server sends from now on
  const def = createDeflateRaw({ level: 6 });
  let sent = 0;
  def.on("data", (d: Buffer) => {
    sent += d.length;
    if (!sock.destroyed) sock.write(d);
  });
  // Eight FETCHes of every body: more output than the kernel's socket buffers take, so the session blocks on it.
  for (let k = 1; k <= 8; k++) def.write(`f${k} FETCH 1:* (BODY[])\r\n`);
  await new Promise<void>((r) => def.flush(zc.Z_SYNC_FLUSH, () => r()));
  const noops = Buffer.from("n NOOP\r\n".repeat(128 * 1024)); // 1 MB
  const deadline = Date.now() + 120_000;
  while (sent < compressed && !sock.destroyed && !imap.c.closed && Date.now() < deadline) {
    if (!def.write(noops)) await once(def, "drain");
    await new Promise<void>((r) => def.flush(zc.Z_SYNC_FLUSH, () => r()));
    if (sock.writableLength > 8 * MB) await waitDrainOrClose(sock, 2000);
  }
  def.end();
  return { sent, conn: imap.c };
}

interface HttpRes {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function https(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<HttpRes> {
  return new Promise((res, rej) => {
    const req = httpsRequest(
      { host: "127.0.0.1", port, method, path, headers: { host: `localhost:${port}`, ...headers }, rejectUnauthorized: false, agent: false, servername: "localhost" },
      (r) => {
        let b = "";
        r.on("data", (d: Buffer) => (b += d.toString()));
        r.on("end", () => res({ status: r.statusCode ?? 0, headers: r.headers, body: b }));
      },
    );
    req.on("error", rej);
    req.end(body);
  });
}

const cookiePairs = (h: HttpRes) => ([] as string[]).concat(h.headers["set-cookie"] ?? []).map((c) => c.split(";")[0]!);

/** Signs in to the webmail; returns the session cookie header. */
export async function webmailLogin(port: number, email: string, password: string): Promise<string> {
  const page = await https(port, "GET", "/login", {});
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? "";
  const form = new URLSearchParams({ email, password, csrf }).toString();
  const res = await https(port, "POST", "/login", {
    "content-type": "application/x-www-form-urlencoded",
    origin: `https://localhost:${port}`,
    "sec-fetch-site": "same-origin",
    cookie: cookiePairs(page).join("; "),
    "content-length": String(Buffer.byteLength(form)),
  }, form);
  const session = cookiePairs(res).filter((c) => /session/i.test(c));
  if (res.status !== 303 || !session.length) throw new Error(`webmail login failed: ${res.status}`);
  return cookiePairs(res).join("; ");
}

/** A client that stopped reading. */
interface Stalled {
  closed(): boolean;
  /** Starts reading again, handing each chunk's size to `count`. */
  resume(count: (n: number) => void): void;
  destroy(): void;
}

function stalledLineConn(c: LineConn): Stalled {
  return {
    closed: () => c.closed,
    resume: (count) => {
      c.sock.removeAllListeners("data");
      c.sock.on("data", (d: Buffer) => count(d.length));
      c.sock.resume();
    },
    destroy: () => c.close(),
  };
}

/**
 * Whether the server dropped the stalled clients. A client that does not read cannot see that (the FIN
 * waits behind the data it has not read), so each starts reading again and counts what it had to read
 * before the end of the connection (at most `maxBytes`: past that it is taken as not disconnected).
 */
export async function drainStalled(xs: Stalled[], ms: number, maxBytes: number): Promise<{ closed: number; maxBacklog: number }> {
  const got = xs.map(() => 0);
  const gaveUp = xs.map(() => false);
  xs.forEach((x, i) =>
    x.resume((n) => {
      got[i]! += n;
      if (got[i]! > maxBytes && !gaveUp[i]) {
        gaveUp[i] = true;
        x.destroy();
      }
    }),
  );
  await waitUntil(() => xs.every((x) => x.closed()), ms);
  const closed = xs.filter((x, i) => x.closed() && !gaveUp[i]).length;
  for (const x of xs) x.destroy();
  return { closed, maxBacklog: Math.max(0, ...got) };
}

/** Opens /api/events and stops reading once the stream is live. */
export function stalledEventStream(port: number, cookie: string, ip: string): Promise<Stalled> {
  return new Promise((resolve, reject) => {
    let closed = false;
    const s = tlsConnect({ socket: netConnect({ host: "127.0.0.1", port, localAddress: ip }), rejectUnauthorized: false, servername: "localhost" });
    s.on("close", () => (closed = true));
    s.on("error", () => {});
    s.once("secureConnect", () => s.write(`GET /api/events HTTP/1.1\r\nHost: localhost:${port}\r\nCookie: ${cookie}\r\nAccept: text/event-stream\r\n\r\n`));
    let got = "";
    const onData = (d: Buffer) => {
      got += d.toString("latin1");
      if (got.includes("event: ready") || got.includes("event:ready")) {
        s.off("data", onData);
        s.pause();
        resolve({
          closed: () => closed,
          resume: (count) => {
            s.on("data", (d: Buffer) => count(d.length));
            s.resume();
          },
          destroy: () => s.destroy(),
        });
      } else if (/^HTTP\/1\.1 [45]/.test(got)) reject(new Error(got.split("\r\n")[0]));
    };
    s.on("data", onData);
    setTimeout(() => reject(new Error("event stream did not start")), 15_000);
  });
}

/**
 * Changes flags in `folder` until `done()` (every stalled client was disconnected) or `maxMs`: each round
 * toggles \Flagged on every message (one change on each), then, with `ranges`, sets or clears \Seen on the
 * whole folder in STOREs of that many messages, pipelined (many mid-sized change events). It runs at least
 * `minRounds` rounds however long they take: a stalled reader is cut off only once the server's output cap
 * plus the kernel's socket buffers (several MB on loopback) are full, which a time limit alone may not
 * reach on a loaded machine.
 */
export async function churnFlags(port: number, ip: string, folder: string, o: { maxMs: number; minRounds?: number; done: () => boolean; ranges?: number }): Promise<{ rounds: number; changes: number }> {
  const { imap } = await ImapConn.connect(port, { localAddress: ip });
  const t0 = Date.now();
  let rounds = 0;
  let changes = 0;
  try {
    await imap.cmd(`LOGIN ${ALICE} ${PASS}`);
    const sel = await imap.cmd(`SELECT ${folder}`);
    const exists = Number(sel.untagged.map((l) => /^\* (\d+) EXISTS/.exec(l)?.[1]).find(Boolean) ?? 0);
    while ((Date.now() - t0 < o.maxMs || rounds < (o.minRounds ?? 0)) && !o.done()) {
      const r = await imap.cmd(`STORE 1:* ${rounds % 2 ? "-" : "+"}FLAGS.SILENT (\\Flagged)`, undefined, 120_000);
      if (r.status !== "OK") break;
      changes += exists;
      if (o.ranges) {
        let batch = "";
        let k = 0;
        for (let a = 1; a <= exists; a += o.ranges) batch += `p${++k} STORE ${a}:${Math.min(exists, a + o.ranges - 1)} ${rounds % 2 ? "-" : "+"}FLAGS.SILENT (\\Seen)\r\n`;
        imap.c.write(batch);
        for (;;) {
          const l = await imap.c.line(120_000);
          if (l.startsWith(`p${k} `)) break;
        }
        changes += exists;
      }
      rounds++;
    }
    return { rounds, changes };
  } finally {
    imap.close();
  }
}

async function waitUntil(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await sleep(100);
  return cond();
}

// ------------------------------------------------------------------ setup

interface Sizes {
  floodBytes: number;
  /** Parallel BDAT sessions and one-byte chunks per session (under the 100,000 commands a session may send). */
  bdatSessions: number;
  bdatPerSession: number;
  bombBytes: number;
  flagMessages: number;
  /** How long the flag churn of the IDLE and event-stream attacks may run (it stops once every stalled client is gone). */
  churnMs: number;
  bigMessages: number;
  searchTerms: number;
  searchLimitMs: number;
}

function sizesFor(quick: boolean, scale: number): Sizes {
  return quick
    ? { floodBytes: Math.round(4 * MB * scale), bdatSessions: 4, bdatPerSession: 50_000, bombBytes: 200 * 1024, flagMessages: 5000, churnMs: 6000, bigMessages: 60, searchTerms: 2000, searchLimitMs: 15_000 }
    : { floodBytes: Math.round(30 * MB * scale), bdatSessions: 20, bdatPerSession: 90_000, bombBytes: 1.5 * MB, flagMessages: 5000, churnMs: 40_000, bigMessages: 300, searchTerms: 7000, searchLimitMs: 30_000 };
}

/** Accounts and folders, written with the store of the checkout the server runs from (its schema). */
async function prefill(serverDir: string, dataDir: string, s: Sizes): Promise<void> {
  const { openStore } = (await import(resolve(serverDir, "storage/store.ts"))) as { openStore: (o: { url: string; dataDir: string; gcIntervalMs?: number; hasher?: unknown }) => Promise<MailStore> };
  const store = await openStore({ hasher: passwordHasher, url: `file:${resolve(dataDir, "pillarbox.db")}`, dataDir, gcIntervalMs: 0 });
  try {
    await store.addDomain(DOMAIN);
    const alice = await store.addAccount(ALICE, PASS);
    await store.addAccount(BOB, PASS);
    await store.addAccount(CAROL, PASS);
    const flags = await store.createFolder(alice.id, "Flags");
    const big = await store.createFolder(alice.id, "Big");
    const small = (i: number) =>
      new TextEncoder().encode(`From: s${i}@outside.test\r\nTo: ${ALICE}\r\nSubject: flag test ${i}\r\nMessage-ID: <f${i}@outside.test>\r\nDate: Mon, 7 Dec 2026 03:00:00 +0000\r\n\r\nbody ${i}\r\n`);
    for (let i = 0; i < s.flagMessages; i += 500) {
      await store.append(flags.id, Array.from({ length: Math.min(500, s.flagMessages - i) }, (_, k) => ({ raw: small(i + k) })));
    }
    // 64 KB of random words, one line of 76 characters after another: text that SEARCH BODY has to scan and
    // that a deflater shrinks only to about 60%, so a FETCH of the folder stays more than the socket buffers
    // hold even under COMPRESS=DEFLATE.
    const bigRaw = (i: number) => {
      const r = randomBytes(64 * 1024);
      let text = "";
      for (let k = 0; k < r.length; k++) {
        text += r[k]! % 7 === 0 ? " " : String.fromCharCode(97 + (r[k]! % 26));
        if (k % 76 === 75) text += "\r\n";
      }
      return new TextEncoder().encode(
        `From: b${i}@outside.test\r\nTo: ${ALICE}\r\nSubject: big ${i}\r\nMessage-ID: <b${i}@outside.test>\r\nDate: Mon, 7 Dec 2026 03:00:00 +0000\r\n\r\n${text}\r\n`,
      );
    };
    for (let i = 0; i < s.bigMessages; i += 50) {
      await store.append(big.id, Array.from({ length: Math.min(50, s.bigMessages - i) }, (_, k) => ({ raw: bigRaw(i + k) })));
    }
  } finally {
    await store.close();
  }
}

// ------------------------------------------------------------------ the run

interface Ports {
  smtp: number;
  submission: number;
  imap: number;
  pop3: number;
  https: number;
}

/** The server every attack gets: its own process on a copy of the prefilled data dir. */
async function startAttackServer(dataDir: string, serverDir: string): Promise<{ srv: ServerProc; ports: Ports }> {
  // A port found free may be taken by another process before the server binds it: try again with new ones.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startAttackServerOn(dataDir, serverDir);
    } catch (e) {
      if (attempt >= 3 || !/EADDRINUSE/.test(String(e))) throw e;
    }
  }
}

async function startAttackServerOn(dataDir: string, serverDir: string): Promise<{ srv: ServerProc; ports: Ports }> {
  const ports: Ports = { smtp: await freePort(), submission: await freePort(), imap: await freePort(), pop3: await freePort(), https: await freePort() };
  const srv = await startServerProc({
    dataDir,
    ports,
    serverDir,
    preload: [resolve(REPO, "scripts/torture/gc-on-signal.ts")],
    env: {
      // ABUSE_SERVER_LOG=info (or debug) prints the server's log after each attack.
      PILLARBOX_LOG_LEVEL: process.env.ABUSE_SERVER_LOG || "error",
      PILLARBOX_MAX_MESSAGE_SIZE: "50M",
      PILLARBOX_AUTH_FAILURES_PER_IP: "5",
      PILLARBOX_AUTH_WINDOW_SECONDS: "60",
      // The backstop is the sum of the family caps: with one global cap, port 25 alone could fill it.
      PILLARBOX_MAX_CONNECTIONS: "200",
      // Above the 40 parallel logins of the auth attack: that attack is about the login throttle, not connection caps.
      PILLARBOX_MAX_CONNECTIONS_PER_IP: "50",
      PILLARBOX_MAX_CONNECTIONS_SMTP: "60",
      PILLARBOX_MAX_CONNECTIONS_SUBMISSION: "20",
      PILLARBOX_MAX_CONNECTIONS_IMAP: "60",
      PILLARBOX_MAX_CONNECTIONS_POP3: "20",
      PILLARBOX_MAX_CONNECTIONS_HTTP: "40",
    },
  });
  return { srv, ports };
}

async function warmUp(ports: Ports): Promise<void> {
  // The folders the attacks use are read once too (flag changes on every message fill the store's caches).
  const { imap } = await ImapConn.connect(ports.imap, { localAddress: "127.0.9.2" });
  await imap.cmd(`LOGIN ${ALICE} ${PASS}`);
  await imap.cmd("SELECT Flags");
  await imap.cmd("STORE 1:* +FLAGS.SILENT (\\Flagged)", undefined, 60_000);
  await imap.cmd("STORE 1:* -FLAGS.SILENT (\\Flagged)", undefined, 60_000);
  await imap.cmd("SELECT Big");
  await imap.cmd("FETCH 1:* (FLAGS RFC822.SIZE)", undefined, 60_000);
  await imap.cmd("LOGOUT");
  imap.close();
  await https(ports.https, "GET", "/login", {});
  const c = await LineConn.connect(ports.smtp, { localAddress: "127.0.9.2" });
  await smtpReply(c);
  await smtpCmd(c, "EHLO warm.test");
  c.close();
}

export async function runMemoryAbuse(o: MemoryAbuseOptions): Promise<{ cases: MemCase[]; lines: string[] }> {
  const log = o.log ?? (() => {});
  const quick = o.quick ?? false;
  const s = sizesFor(quick, o.scale ?? 1);
  const want = (a: AttackName) => !o.only?.length || o.only.includes(a);
  const cases: MemCase[] = [];
  const lines: string[] = [];
  const add = (group: string, name: string, ok: boolean, detail: string) => {
    cases.push({ group, name, ok, detail });
    log(`  ${ok ? "ok  " : "FAIL"} [${group}] ${name}: ${detail}`);
  };
  const report = (line: string) => {
    lines.push(line);
    log(line);
  };
  const serverDir = o.serverDir ? resolve(o.serverDir) : REPO;
  // One data dir for every attack's server, one after the other (copying its blob files per attack took seconds).
  const dataDir = join(o.dataDir, "data");
  mkdirSync(dataDir, { recursive: true });
  const t0 = Date.now();
  await prefill(serverDir, dataDir, s);
  log(`  (prefilled ${s.flagMessages} small and ${s.bigMessages} 64 KB messages in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);

  // Set per attack, used by the attack closures below.
  let ports!: Ports;
  let probe!: Probe;

    // ---------------------------------------------------------- 1, 2: SMTP DATA decoder
    /** `stored`: octets the server stores per octet sent (bare LF becomes CRLF: 1.5; `.a\r\n` loses its stuffed dot: 0.75). */
    const flood = async (label: string, chunk: Buffer, stored: number) => {
      const inFlight = 4 * s.floodBytes;
      const { result, fig } = await probe.measure(() =>
        Promise.all([1, 2, 3, 4].map((i) => smtpDataFlood(ports.smtp, `127.0.2.${i}`, chunk, s.floodBytes))),
      );
      const tag = `${label} 4x${mbOf(s.floodBytes)}MB`;
      report(memLine(tag, fig, inFlight));
      const grew = fig.peak - fig.start;
      const replies = `replies: ${result.map((r) => r.reply.split(" ")[0]).join(", ")}`;
      if (quick) {
        // Quick sizes (CI) are an eighth of the full run, where fixed costs (the store's work per message, socket
        // buffers, garbage not yet collected: 25-40 MB measured) and the message's own growth (bare LF stored as
        // CRLF) dominate. The bound, 2x the larger of sent and stored plus 32 MB, still fails the per-line blow-up
        // this attack was written for by more than ten times (the old decoder took ~50x).
        const bound = 2 * Math.max(1, stored) * inFlight + 32 * MB;
        add("memory", `${tag}: peak under 2x the larger of sent and stored + 32 MB`, grew < bound, `+${mbOf(grew)} MB for ${mbOf(stored * inFlight)} MB stored (${mbOf(inFlight)} MB in flight); ${replies}`);
      } else {
        // Full size: the issue's bound exactly (2x the bytes in flight).
        add("memory", `${tag}: peak under 2x the bytes in flight`, grew < 2 * inFlight, `+${mbOf(grew)} MB for ${mbOf(inFlight)} MB in flight (${mbOf(stored * inFlight)} MB as stored); ${replies}`);
      }
      add("memory", `${tag}: RSS back within 20% of the start`, returned(fig), `${mbOf(fig.start)} -> ${mbOf(fig.after)} MB`);
    };
    const attacks: [AttackName, () => Promise<void>][] = [];
    attacks.push(["bare-lf", () => flood("smtp bare-LF", Buffer.from("a\n".repeat(512 * 1024)), 1.5)]);
    attacks.push(["dot-stuffed", () => flood("smtp dot-stuffed", Buffer.from(".a\r\n".repeat(256 * 1024)), 0.75)]);
    attacks.push(["bdat", async () => {
      // Parallel sessions, each under the SMTP per-session command limit (100,000). Once all their chunks are
      // answered and before BDAT LAST, the server is asked for a full GC and its RSS sampled: what it holds for
      // open messages (the peak also counts garbage not yet collected).
      const perConn = s.bdatPerSession;
      const n = s.bdatSessions;
      let held = 0;
      const { result, fig } = await probe.measure(async () => {
        let release!: () => void;
        const released = new Promise<void>((r) => (release = r));
        let ready = 0;
        let allIn!: () => void;
        const allInP = new Promise<void>((r) => (allIn = r));
        const sessions = Promise.all(
          Array.from({ length: n }, (_, i) =>
            bdatFlood(ports.smtp, `127.0.2.${10 + i}`, perConn, { chunksIn: () => ++ready === n && allIn(), release: released }),
          ),
        );
        await Promise.race([allInP, sessions]);
        held = await probe.settle();
        release();
        return sessions;
      });
      const inFlight = n * perConn;
      const wire = 9 * inFlight; // "BDAT 1\r\n" + one octet
      const tag = `smtp BDAT ${n} sessions x ${perConn} 1-byte chunks`;
      report(memLine(tag, fig, wire) + `; held with the messages open ${mbOf(held)} MB (+${mbOf(held - fig.start)}, ${Math.round((held - fig.start) / inFlight)} bytes per chunk)`);
      add("memory", `${tag}: held while open under 2x the bytes in flight + 16 MB`, held - fig.start < 2 * wire + 16 * MB, `+${mbOf(held - fig.start)} MB held for ${Math.round(wire / 1024)} KB in flight (peak +${mbOf(fig.peak - fig.start)} MB); last reply: ${result.at(-1)?.reply}`);
      add("memory", `${tag}: RSS back within 20% of the start`, returned(fig), `${mbOf(fig.start)} -> ${mbOf(fig.after)} MB`);
    }]);

    // ---------------------------------------------------------- 3: COMPRESS bomb
    attacks.push(["compress", async () => {
      const conns = 3;
      const wait = quick ? 1500 : 5000;
      const window = quick ? 1500 : 5000;
      let loginMs = -1;
      let held = 0;
      const { result, fig } = await probe.measure(async () => {
        const bombs = await Promise.all(Array.from({ length: conns }, (_, i) => compressBomb(ports.imap, `127.0.3.${i + 1}`, "Big", s.bombBytes).catch((e: Error) => e)));
        // Another user logs in while the bombs sit in the server.
        const t = performance.now();
        const { imap } = await ImapConn.connect(ports.imap, { localAddress: "127.0.3.20" });
        const r = await imap.cmd(`LOGIN ${CAROL} ${PASS}`);
        loginMs = r.status === "OK" ? performance.now() - t : -1;
        imap.close();
        // A server that stopped reading the blocked sessions' input spends no CPU on it once their FETCH output is stuck.
        await sleep(wait);
        const cpu0 = probe.cpu();
        await sleep(window);
        const busy = probe.cpu() - cpu0;
        held = await probe.settle();
        const closed = bombs.filter((b) => !(b instanceof Error) && b.conn.closed).length;
        const sent = bombs.map((b) => (b instanceof Error ? b.message : `${Math.round(b.sent / 1024)} KB`));
        for (const b of bombs) if (!(b instanceof Error)) b.conn.close();
        return { closed, sent, busy };
      });
      const tag = `imap COMPRESS bomb ${conns}x${Math.round(s.bombBytes / 1024)}KB deflated behind an unread FETCH`;
      report(memLine(tag, fig) + `; held while blocked ${mbOf(held)} MB (+${mbOf(held - fig.start)}); server CPU ${result.busy.toFixed(1)} s in ${window / 1000} s while blocked; another user's LOGIN took ${loginMs.toFixed(0)} ms`);
      const bound = 64 * MB + 16 * MB * conns;
      add("memory", `${tag}: held while blocked under 64 MB + 16 MB per connection`, held - fig.start < bound, `+${mbOf(held - fig.start)} MB (bound ${mbOf(bound)}; peak +${mbOf(fig.peak - fig.start)} MB); sent ${result.sent.join(", ")}`);
      add("cpu", `${tag}: the blocked sessions' input is not read (server CPU under 30% while they wait)`, result.busy < (0.3 * window) / 1000, `${result.busy.toFixed(1)} s of CPU in ${window / 1000} s; ${result.closed} of ${conns} connections closed by the server`);
      add("memory", `${tag}: RSS back within 20% of the start`, returned(fig), `${mbOf(fig.start)} -> ${mbOf(fig.after)} MB`);
    }]);

    // ---------------------------------------------------------- 4: IDLE backlog
    attacks.push(["idle", async () => {
      const n = 10;
      let held = 0;
      const { result, fig } = await probe.measure(async () => {
        const idlers: Stalled[] = [];
        for (let i = 0; i < n; i++) {
          const { imap } = await ImapConn.connect(ports.imap, { localAddress: "127.0.4.1" });
          await imap.cmd(`LOGIN ${ALICE} ${PASS}`);
          await imap.cmd("SELECT Flags");
          imap.c.write("i IDLE\r\n");
          await imap.c.line();
          imap.c.sock.pause();
          idlers.push(stalledLineConn(imap.c));
        }
        // About 350 KB of untagged FETCH per round to each idler: 40 rounds (~14 MB) are far past the 2 MiB output cap plus loopback buffers.
        const churn = await churnFlags(ports.imap, "127.0.4.2", "Flags", { maxMs: s.churnMs, minRounds: 40, done: () => false, ranges: 500 });
        held = await probe.settle(); // what the server keeps for the stalled clients, garbage collected
        const drained = await drainStalled(idlers, 10_000, 256 * MB);
        return { churn, ...drained };
      });
      const tag = `imap IDLE ${n} stalled clients, another session toggling ${s.flagMessages} flags`;
      report(memLine(tag, fig) + `; held while stalled ${mbOf(held)} MB (+${mbOf(held - fig.start)}), most one client had to read before the end ${mbOf(result.maxBacklog)} MB`);
      const bound = 64 * MB + 8 * MB * n;
      add("memory", `${tag}: the stalled clients are disconnected`, result.closed === n, `${result.closed} of ${n} found the connection closed (after reading up to ${mbOf(result.maxBacklog)} MB) after ${result.churn.rounds} toggles (${result.churn.changes} flag changes)`);
      add("memory", `${tag}: held while stalled under 64 MB + 8 MB per client`, held - fig.start < bound, `+${mbOf(held - fig.start)} MB (bound ${mbOf(bound)}; peak +${mbOf(fig.peak - fig.start)} MB)`);
      add("memory", `${tag}: RSS back within 20% of the start`, returned(fig), `${mbOf(fig.start)} -> ${mbOf(fig.after)} MB`);
    }]);
    attacks.push(["events", async () => {
      const n = 16;
      let held = 0;
      const { result, fig } = await probe.measure(async () => {
        // Two sessions of eight streams (the hub allows 8 per session, 16 per account).
        const cookies = [await webmailLogin(ports.https, ALICE, PASS), await webmailLogin(ports.https, ALICE, PASS)];
        const streams = await Promise.all(Array.from({ length: n }, (_, i) => stalledEventStream(ports.https, cookies[i % 2]!, "127.0.5.1").catch((e: Error) => e)));
        const opened = streams.filter((x): x is Exclude<typeof x, Error> => !(x instanceof Error));
        const errors = streams.filter((x): x is Error => x instanceof Error).map((e) => e.message);
        const churn = await churnFlags(ports.imap, "127.0.5.2", "Flags", { maxMs: s.churnMs, minRounds: 40, done: () => false, ranges: 200 });
        held = await probe.settle();
        const drained = await drainStalled(opened, 10_000, 256 * MB);
        return { opened: opened.length, churn, errors, ...drained };
      });
      const tag = `webmail /api/events ${n} stalled streams, flags of ${s.flagMessages} messages changing`;
      report(memLine(tag, fig) + `; held while stalled ${mbOf(held)} MB (+${mbOf(held - fig.start)}), most one client had to read before the end ${mbOf(result.maxBacklog)} MB`);
      const bound = 64 * MB + 2 * MB * n;
      add("memory", `${tag}: the stalled streams are disconnected`, result.opened === n && result.closed === n, `${result.opened} opened, ${result.closed} found the connection closed (after reading up to ${mbOf(result.maxBacklog)} MB) after ${result.churn.rounds} rounds (${result.churn.changes} flag changes)${result.errors.length ? `; refused: ${[...new Set(result.errors)].join(", ")}` : ""}`);
      add("memory", `${tag}: held while stalled under 64 MB + 2 MB per stream`, held - fig.start < bound, `+${mbOf(held - fig.start)} MB (bound ${mbOf(bound)}; peak +${mbOf(fig.peak - fig.start)} MB)`);
      add("memory", `${tag}: RSS back within 20% of the start`, returned(fig), `${mbOf(fig.start)} -> ${mbOf(fig.after)} MB`);
    }]);

    // ---------------------------------------------------------- 6: connection-cap fairness
    attacks.push(["caps", async () => {
      const { result, fig } = await probe.measure(async () => {
        // 11 addresses x 20 idle connections to port 25 = 220, more than the whole backstop (200).
        const held: LineConn[] = [];
        let greeted = 0;
        const refusals = new Map<string, number>();
        for (let ip = 1; ip <= 11; ip++) {
          const batch = await Promise.all(
            Array.from({ length: 20 }, async () => {
              const c = await LineConn.connect(ports.smtp, { localAddress: `127.0.6.${ip}`, timeoutMs: 5000 }).catch(() => null);
              if (!c) return null;
              const first = await c.line(3000).catch(() => "(closed)");
              return { c, first };
            }),
          );
          for (const b of batch) {
            if (!b) continue;
            held.push(b.c);
            if (b.first.startsWith("220")) greeted++;
            else {
              const k = b.first.replace(/^(\d{3} \d\.\d\.\d) \S+/, "$1").slice(0, 50);
              refusals.set(k, (refusals.get(k) ?? 0) + 1);
            }
          }
        }
        // A legitimate client from another address.
        const other = "127.0.6.100";
        const served: string[] = [];
        const imap = await ImapConn.connect(ports.imap, { localAddress: other }).catch(() => null);
        const il = imap && imap.greeting.startsWith("* OK") ? (await imap.imap.cmd(`LOGIN ${CAROL} ${PASS}`)).status : "refused";
        imap?.imap.close();
        served.push(`IMAP ${il}`);
        const pop = await LineConn.connect(ports.pop3, { localAddress: other }).catch(() => null);
        const pl = pop ? await pop.line(3000).catch(() => "refused") : "refused";
        pop?.close();
        served.push(`POP3 ${pl.startsWith("+OK") ? "OK" : "refused"}`);
        const web = await https(ports.https, "GET", "/login", {}).catch((e: Error) => ({ status: 0, body: e.message }) as HttpRes);
        served.push(`HTTPS ${web.status || "refused"}`);
        const sub = await LineConn.connect(ports.submission, { localAddress: other }).catch(() => null);
        const sl = sub ? await sub.line(3000).catch(() => "refused") : "refused";
        sub?.close();
        served.push(`submission ${sl.startsWith("220") ? "OK" : "refused"}`);
        for (const c of held) c.close();
        return { greeted, refusals, served, ok: il === "OK" && pl.startsWith("+OK") && web.status === 200 && sl.startsWith("220") };
      });
      const tag = "connection caps: 11 IPs x 20 idle SMTP connections";
      report(memLine(tag, fig));
      add("limits", `${tag}: IMAP, POP3, HTTPS and submission still serve another address`, result.ok, `${result.served.join(", ")}; port 25 greeted ${result.greeted}, refused ${[...result.refusals].map(([k, v]) => `${v}x "${k}"`).join(", ") || "none"}`);
    }]);

    // ---------------------------------------------------------- 8: authentication throttle
    attacks.push(["auth", async () => {
      const login = async (user: string, pass: string, ip: string) => {
        const { imap } = await ImapConn.connect(ports.imap, { localAddress: ip });
        try {
          return await imap.cmd(`LOGIN ${user} ${pass}`, undefined, 60_000);
        } finally {
          imap.close();
        }
      };
      const throttled = (t: string) => /UNAVAILABLE|too many|later|LIMIT|slow down|wait/i.test(t);
      const { result, fig } = await probe.measure(async () => {
        // (a) 39 wrong guesses and then the right password, all at once, from one new address.
        const ip = "127.0.8.1";
        const guesses = Array.from({ length: 39 }, (_, i) => login(BOB, `guess-${i}`, ip).catch((e: Error) => ({ status: "ERR", text: e.message, untagged: [] })));
        await sleep(20);
        const right = login(BOB, PASS, ip).catch((e: Error) => ({ status: "ERR", text: e.message, untagged: [] }));
        const all = await Promise.all([...guesses, right]);
        const checked = all.slice(0, 39).filter((r) => r.status === "NO" && !throttled(r.text)).length;
        const rightRes = await right;
        // (b) one account, guesses spread over 10 addresses, 4 each (under the per-IP limit of 5).
        const owner = "127.0.8.200";
        const ownerFirst = await login(CAROL, PASS, owner);
        let spreadThrottled = 0;
        let lastText = "";
        for (let k = 0; k < 4; k++) {
          const round = await Promise.all(Array.from({ length: 10 }, (_, i) => login(CAROL, `spread-${k}-${i}`, `127.0.8.${10 + i}`).catch((e: Error) => ({ status: "ERR", text: e.message, untagged: [] }))));
          for (const r of round) if (throttled(r.text)) spreadThrottled++;
          lastText = round.at(-1)!.text;
        }
        const fresh = await login(CAROL, "spread-final", "127.0.8.60");
        const ownerAfter = await login(CAROL, PASS, owner);
        return { checked, rightRes, spreadThrottled, lastText, fresh, ownerFirst, ownerAfter };
      });
      report(memLine("auth: 40 parallel LOGINs + 40 spread guesses", fig));
      add("auth", "40 parallel LOGINs from one new IP: throttled before the hash check, the right password last is refused", result.rightRes.status === "NO" && result.checked <= 5, `${result.checked} of 39 wrong guesses reached the password check (limit 5); the right password got ${result.rightRes.status} ${result.rightRes.text.replace(/\[CAPABILITY [^\]]*\] /, "").slice(0, 80)}`);
      add("auth", "40 guesses for one account from 10 IPs: later guesses are slowed (refused without a check)", result.spreadThrottled > 0 && throttled(result.fresh.text), `${result.spreadThrottled} of 40 throttled; a guess from an 11th IP: ${result.fresh.status} ${result.fresh.text}`);
      add("auth", "the owner from a known address still signs in after the spread guesses", result.ownerFirst.status === "OK" && result.ownerAfter.status === "OK", `${result.ownerAfter.status} ${result.ownerAfter.text.replace(/\[CAPABILITY [^\]]*\] /, "").slice(0, 80)}`);
    }]);

    // ---------------------------------------------------------- 7: SEARCH with short terms (last: old code may keep a core busy for minutes)
    attacks.push(["search", async () => {
      const pairs = "abcdefghijklmnopqrstuvwxyz";
      const command = (n: number) => {
        const terms: string[] = [];
        for (let i = 0; terms.length < n; i++) terms.push(`BODY ${pairs[i % 26]}${pairs[Math.floor(i / 26) % 26]}`);
        return `s SEARCH ${terms.join(" ")}`;
      };
      const search = async (cmd: string) => {
        const { imap } = await ImapConn.connect(ports.imap, { localAddress: "127.0.7.1" });
        await imap.cmd(`LOGIN ${ALICE} ${PASS}`);
        await imap.cmd("SELECT Big");
        const t = performance.now();
        imap.c.write(cmd + "\r\n");
        let reply = "(no reply)";
        for (;;) {
          const l = await imap.c.line(s.searchLimitMs).catch((e: Error) => `(${e.message})`);
          if (l.startsWith("s ") || l.startsWith("(") || l.startsWith("* BYE")) {
            reply = l;
            break;
          }
        }
        const ms = performance.now() - t;
        imap.close();
        return { reply, ms };
      };
      // The largest count under the term limit first (the old code, busy with the big one, would answer nothing after it).
      const few = 60;
      const big = command(s.searchTerms);
      const { result, fig } = await probe.measure(async () => ({ few: await search(command(few)), many: await search(big) }));
      const tag = `imap SEARCH two-letter BODY terms on ${s.bigMessages} x 64 KB`;
      report(memLine(tag, fig) + `; ${few} terms answered in ${(result.few.ms / 1000).toFixed(1)} s, ${s.searchTerms} terms (${Math.round(big.length / 1024)} KB) in ${(result.many.ms / 1000).toFixed(1)} s`);
      const bounded = (r: { reply: string; ms: number }) => /^s (NO|BAD)/.test(r.reply) || (r.reply.startsWith("s OK") && r.ms < 10_000);
      add("cpu", `${tag}: ${s.searchTerms} terms answered NO [LIMIT] or within 10 s`, bounded(result.many), `${result.many.reply.slice(0, 80)} after ${(result.many.ms / 1000).toFixed(1)} s`);
      add("cpu", `${tag}: ${few} terms answered within 10 s`, bounded(result.few), `${result.few.reply.slice(0, 80)} after ${(result.few.ms / 1000).toFixed(1)} s; server CPU for both ${fig.cpu.toFixed(1)} s`);
    }]);


  for (const [name, attack] of attacks) {
    if (!want(name)) continue;
    // Each attack on its own server process: an attack the old code cannot bound (a CPU-bound inflater, a
    // search that scans for minutes) must not spoil the next attack's figures.
    const t1 = Date.now();
    const started = await startAttackServer(dataDir, serverDir);
    ports = started.ports;
    probe = new Probe(started.srv, quick ? 1000 : 5000);
    try {
      // Load each protocol's code once (the webmail is built on its first request) so "start" is a warm server.
      await warmUp(ports);
      await attack();
    } catch (e) {
      add("memory", `${name}: the attack ran to its end`, false, e instanceof Error ? e.message : String(e));
    } finally {
      const c = await LineConn.connect(ports.smtp, { localAddress: "127.0.9.1", timeoutMs: 5000 }).catch(() => null);
      const g = c ? await c.line(5000).catch(() => "") : "";
      c?.close();
      add("final", `${name}: server alive after the attack`, g.startsWith("220"), g || "no SMTP greeting within 5 s");
      started.srv.kill("SIGKILL"); // nothing to keep: the data dir goes next
      if (process.env.ABUSE_SERVER_LOG) log(started.srv.stderr().split("\n").slice(-40).join("\n"));
      log(`  (${name}: ${((Date.now() - t1) / 1000).toFixed(1)} s)`);
      await started.srv.exited;
    }
  }
  return { cases, lines };
}
