/**
 * Raw-socket IMAP client for scripts/bench/imap (no client library: the
 * time measured is the server's plus the wire, not a parser's).
 *
 *   timing: LOGIN, then REPEAT x (SELECT box; UID FETCH 1:* (UID FLAGS)),
 *           each timed from sending the command to its tagged OK.
 *     bun imap-client-bench.ts timing --port P --user U --pass P [--box INBOX] [--repeat 5]
 *   idle:   opens COUNT connections that LOGIN, SELECT and IDLE, then reads
 *           the server's VmRSS (/proc/PID/status) and prints the cost per
 *           connection against the RSS with one warmed-up connection.
 *     bun imap-client-bench.ts idle --port P --user U --pass P --pid SERVER_PID [--count 5000] [--parallel 100]
 * Output: one JSON object on stdout.
 */
import { connect, type Socket } from "node:net";
import { readFileSync } from "node:fs";
import { childPids } from "../../../tests/reliability/lib/server-proc.ts";

const argv = process.argv.slice(2);
const mode = argv[0];
function opt(name: string, fallback?: string): string {
  const i = argv.indexOf(`--${name}`);
  const v = i >= 0 ? argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`missing --${name}`);
  return v;
}
const host = opt("host", "127.0.0.1");
const port = Number(opt("port"));
const user = opt("user");
const pass = opt("pass");
const quote = (s: string) => `"${s.replace(/["\\]/g, (m) => "\\" + m)}"`;

/** A connection that can wait for a tagged reply or a continuation. */
class Client {
  private buf = "";
  private waiters: { test: () => boolean; resolve: () => void; reject: (e: Error) => void }[] = [];
  private tag = 0;
  bytes = 0;
  closed = false;
  private constructor(private readonly sock: Socket) {
    sock.setEncoding("latin1");
    sock.on("data", (d: string) => {
      this.bytes += d.length;
      this.buf += d;
      this.check();
    });
    const fail = (e: Error) => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w.reject(e);
    };
    sock.on("error", fail);
    sock.on("close", () => fail(new Error("connection closed")));
  }
  static open(): Promise<Client> {
    return new Promise((res, rej) => {
      const s = connect({ host, port });
      s.setNoDelay(true);
      s.once("connect", () => res(new Client(s)));
      s.once("error", rej);
    });
  }
  private check(): void {
    for (let i = 0; i < this.waiters.length; ) {
      if (this.waiters[i].test()) this.waiters.splice(i, 1)[0].resolve();
      else i++;
    }
    // keep only what a pending search may still need
    if (this.waiters.length === 0 && this.buf.length > 1 << 16) this.buf = this.buf.slice(-256);
  }
  private waitFor(test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ test, resolve, reject }));
  }
  greeting(): Promise<void> {
    return this.waitFor(() => this.buf.includes("\r\n"));
  }
  /** Sends a command; resolves with everything received up to and including its tagged status line. */
  async command(cmd: string): Promise<string> {
    const tag = `b${++this.tag}`;
    const start = this.buf.length;
    let from = Math.max(0, start - 2);
    let text = "";
    const p = this.waitFor(() => {
      // scan only new data for "\r\n<tag> "
      const at = this.buf.indexOf(`\r\n${tag} `, from);
      if (at < 0) {
        from = Math.max(from, this.buf.length - tag.length - 4);
        return false;
      }
      const end = this.buf.indexOf("\r\n", at + 2);
      if (end < 0) return false;
      text = this.buf.slice(start, end);
      return true;
    });
    this.sock.write(`${tag} ${cmd}\r\n`);
    await p;
    const line = text.slice(text.lastIndexOf("\r\n") + 2);
    if (!/^\S+ OK/.test(line)) throw new Error(`${cmd}: ${line}`);
    return text;
  }
  /** Sends IDLE and resolves once the continuation "+" arrives. */
  async idle(): Promise<void> {
    const tag = `b${++this.tag}`;
    const from = this.buf.length;
    const p = this.waitFor(() => /(^|\r\n)\+[^\r\n]*\r\n/.test(this.buf.slice(Math.max(0, from - 2))));
    this.sock.write(`${tag} IDLE\r\n`);
    await p;
  }
  close(): void {
    this.sock.destroy();
  }
}

async function login(): Promise<Client> {
  const c = await Client.open();
  await c.greeting();
  await c.command(`LOGIN ${quote(user)} ${quote(pass)}`);
  return c;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)];
}

function oneRssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

/** RSS of the lead and its workers together: the connections are spread over all of them. */
function rssKb(pid: number): number {
  return [pid, ...childPids(pid)].reduce((a, p) => a + oneRssKb(p), 0);
}

async function timing(): Promise<void> {
  const box = opt("box", "INBOX");
  const repeat = Number(opt("repeat", "5"));
  const c = await login();
  const select: number[] = [];
  const fetch: number[] = [];
  let exists = 0;
  let fetchBytes = 0;
  for (let r = 0; r < repeat; r++) {
    let t = performance.now();
    const sel = await c.command(`SELECT ${quote(box)}`);
    select.push(performance.now() - t);
    exists = Number(/\* (\d+) EXISTS/i.exec(sel)?.[1] ?? 0);
    t = performance.now();
    const b0 = c.bytes;
    await c.command("UID FETCH 1:* (UID FLAGS)");
    fetch.push(performance.now() - t);
    fetchBytes = c.bytes - b0;
  }
  await c.command("LOGOUT").catch(() => "");
  c.close();
  const r1 = (x: number) => Math.round(x * 10) / 10;
  console.log(
    JSON.stringify({
      messages: exists,
      selectMs: { first: r1(select[0]), median: r1(median(select.slice(1))), all: select.map(r1) },
      fetchMs: { first: r1(fetch[0]), median: r1(median(fetch.slice(1))), all: fetch.map(r1) },
      fetchBytes,
    }),
  );
}

async function idle(): Promise<void> {
  const pid = Number(opt("pid"));
  const count = Number(opt("count", "5000"));
  const parallel = Number(opt("parallel", "100"));
  const box = opt("box", "INBOX");
  // warm-up: one full cycle so code paths and caches exist before the baseline
  const warm = await login();
  await warm.command(`SELECT ${quote(box)}`);
  await warm.idle();
  await new Promise((r) => setTimeout(r, 1000));
  const baseline = rssKb(pid);
  const clients: Client[] = [warm];
  const t0 = performance.now();
  let next = 1;
  let failures = 0;
  async function worker(): Promise<void> {
    while (next < count) {
      next++;
      try {
        const c = await login();
        await c.command(`SELECT ${quote(box)}`);
        await c.idle();
        clients.push(c);
      } catch (e) {
        failures++;
        if (failures <= 3) console.error(`connection failed: ${(e as Error).message}`);
      }
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker));
  const openSecs = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 3000));
  const idling = clients.filter((c) => !c.closed).length;
  const after = rssKb(pid);
  for (const c of clients) c.close();
  console.log(
    JSON.stringify({
      connections: idling,
      failures,
      openSecs: +openSecs.toFixed(1),
      rssBaselineKb: baseline,
      rssIdleKb: after,
      perConnectionKb: +((after - baseline) / Math.max(1, idling - 1)).toFixed(1),
    }),
  );
}

if (mode === "timing") await timing();
else if (mode === "idle") await idle();
else {
  console.error("usage: imap-client-bench.ts timing|idle --port P --user U --pass P [...]");
  process.exit(2);
}
process.exit(0);
