/**
 * Shared helpers for the SMTP tests: running real client programs without
 * blocking the in-process server, a raw SMTP line client for protocol-level
 * checks, a local DNS server (Debian's dnsmasq) and store read-back.
 */
import { spawn } from "node:child_process";
import * as net from "node:net";
import * as tls from "node:tls";
import * as dgram from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MailStore } from "../../storage/api.ts";

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program asynchronously (the server lives in this process: never block the event loop). */
export function run(cmd: string, args: string[], opts: { input?: string | Uint8Array; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...opts.env } });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => p.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    p.on("error", (e) => {
      clearTimeout(t);
      reject(e);
    });
    p.on("close", (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
    if (opts.input !== undefined) p.stdin.end(opts.input);
    else p.stdin.end();
  });
}

export interface Reply {
  code: number;
  lines: string[];
  text: string;
}

/** A raw SMTP client: send exact bytes, read replies one by one. */
export class RawSmtp {
  private buf = "";
  private replies: Reply[] = [];
  private waiters: ((r: Reply | null) => void)[] = [];
  private pending: string[] = [];
  closed = false;
  sock: net.Socket | tls.TLSSocket;

  private constructor(sock: net.Socket | tls.TLSSocket) {
    this.sock = sock;
    this.attach(sock);
  }

  private attach(sock: net.Socket | tls.TLSSocket) {
    sock.on("data", (d: Buffer) => this.onData(d));
    sock.on("close", () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w(null);
    });
    sock.on("error", () => undefined);
  }

  static connect(port: number, opts: { tls?: boolean; host?: string } = {}): Promise<RawSmtp> {
    return new Promise((resolve, reject) => {
      const host = opts.host ?? "127.0.0.1";
      const s = opts.tls ? tls.connect({ host, port, rejectUnauthorized: false }) : net.connect({ host, port });
      s.once(opts.tls ? "secureConnect" : "connect", () => resolve(new RawSmtp(s)));
      s.once("error", reject);
    });
  }

  private onData(d: Buffer) {
    this.buf += d.toString("utf8");
    let i: number;
    while ((i = this.buf.indexOf("\r\n")) >= 0) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      this.pending.push(line);
      if (line[3] === "-") continue;
      const lines = this.pending;
      this.pending = [];
      const r: Reply = { code: Number(line.slice(0, 3)), lines, text: lines.map((l) => l.slice(4)).join("\n") };
      const w = this.waiters.shift();
      if (w) w(r);
      else this.replies.push(r);
    }
  }

  /** Next reply; null when the server closed the connection. */
  read(timeoutMs = 10_000): Promise<Reply | null> {
    const r = this.replies.shift();
    if (r) return Promise.resolve(r);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("timeout waiting for a reply")), timeoutMs);
      this.waiters.push((x) => {
        clearTimeout(t);
        resolve(x);
      });
    });
  }

  /** Replies received and not yet read (to check batching). */
  get buffered(): number {
    return this.replies.length;
  }

  write(data: string | Uint8Array): void {
    this.sock.write(data);
  }

  async cmd(line: string): Promise<Reply> {
    this.write(line + "\r\n");
    const r = await this.read();
    if (!r) throw new Error(`connection closed after ${line}`);
    return r;
  }

  /** STARTTLS then TLS handshake on the same socket. */
  async startTls(): Promise<Reply> {
    const r = await this.cmd("STARTTLS");
    if (r.code !== 220) return r;
    const raw = this.sock as net.Socket;
    raw.removeAllListeners("data");
    this.sock = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const t = tls.connect({ socket: raw, rejectUnauthorized: false }, () => resolve(t));
      t.once("error", reject);
    });
    this.attach(this.sock);
    return r;
  }

  close(): void {
    this.sock.destroy();
  }
}

/** A fresh EHLO'd session on port 25 (or any plain port). */
export async function ehloSession(port: number, name = "client.example"): Promise<RawSmtp> {
  const c = await RawSmtp.connect(port);
  const g = await c.read();
  if (g?.code !== 220) throw new Error(`bad greeting ${JSON.stringify(g)}`);
  const e = await c.cmd(`EHLO ${name}`);
  if (e.code !== 250) throw new Error(`bad EHLO ${JSON.stringify(e)}`);
  return c;
}

/** An authenticated submission session (STARTTLS + AUTH PLAIN on 587). */
export async function submissionSession(port: number, user: string, password: string): Promise<RawSmtp> {
  const c = await ehloSession(port);
  const t = await c.startTls();
  if (t.code !== 220) throw new Error("STARTTLS refused");
  await c.cmd("EHLO client.example");
  const a = await c.cmd("AUTH PLAIN " + Buffer.from(`\0${user}\0${password}`).toString("base64"));
  if (a.code !== 235) throw new Error(`AUTH failed ${a.text}`);
  return c;
}

/** Raw messages of an account's folder, oldest first. */
export async function folderMessages(store: MailStore, email: string, folder = "INBOX"): Promise<Uint8Array[]> {
  const acct = await store.getAccount(email);
  if (!acct) throw new Error(`no account ${email}`);
  const f = await store.getFolder(acct.id, folder);
  if (!f) return [];
  const list = await store.listMessages(f.id);
  const out: Uint8Array[] = [];
  for (const m of list) out.push(await store.readMessage(m.id));
  return out;
}

export const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Removes the trace fields a receiving server prepends (Received, Authentication-Results, Received-SPF, DKIM-Signature, ARC-*, the spam filter's X-Spam-Status/X-Spam-Score). */
export function stripTrace(raw: Uint8Array, extra: string[] = []): string {
  const names = ["received", "authentication-results", "received-spf", "dkim-signature", "arc-seal", "arc-message-signature", "arc-authentication-results", "x-spam-status", "x-spam-score", ...extra];
  let s = new TextDecoder().decode(raw);
  for (;;) {
    const m = /^([A-Za-z-]+):[^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*/.exec(s);
    if (!m || !names.includes(m[1]!.toLowerCase())) return s;
    s = s.slice(m[0].length);
  }
}

/** The message text without the spam filter's X-Spam-Status/X-Spam-Score on top (the delivery agent adds them above the trace fields). */
export function withoutSpamFields(s: string): string {
  return s.replace(/^(?:X-Spam-(?:Status|Score):[^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*)+/, "");
}

/** Waits until `fn` returns a truthy value (polling, bounded). */
export async function waitFor<T>(fn: () => Promise<T> | T, timeoutMs = 20_000, stepMs = 100): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** A free UDP port on 127.0.0.1. */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface Dnsmasq {
  server: string; // "127.0.0.1:port"
  stop(): Promise<void>;
}

/**
 * Debian's dnsmasq serving fixed records on a high port, authoritative for
 * `.test` (unknown names get NXDOMAIN, known names without MX get NODATA).
 */
export async function startDnsmasq(records: { mx?: [string, string, number][]; hosts?: [string, string][]; txt?: [string, string][] }): Promise<Dnsmasq> {
  return startDnsmasqLines([
    ...(records.mx ?? []).map(([d, h, p]) => `mx-host=${d},${h},${p}`),
    ...(records.hosts ?? []).map(([h, ip]) => `host-record=${h},${ip}`),
    ...(records.txt ?? []).map(([n, t]) => `txt-record=${n},"${t.replace(/"/g, '\\"')}"`),
  ]);
}

/** dnsmasq on a free (or the given) port, authoritative for `.test`, with raw configuration lines (SRV, CNAME, multi-string TXT...). */
export async function startDnsmasqLines(lines: string[], port?: number): Promise<Dnsmasq> {
  if (port !== undefined) return startDnsmasqOn(lines, port);
  // A port free for UDP may be taken on TCP (dnsmasq binds both) by another test's server: try another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDnsmasqOn(lines, await freeUdpPort());
    } catch (e) {
      if (attempt >= 5 || !/Address already in use/.test((e as Error).message)) throw e;
    }
  }
}

async function startDnsmasqOn(lines: string[], port: number): Promise<Dnsmasq> {
  const dir = mkdtempSync(join(tmpdir(), "pb-dns-"));
  const conf = [`port=${port}`, "listen-address=127.0.0.1", "bind-interfaces", "no-resolv", "no-hosts", "no-poll", "local=/test/", ...lines].join("\n");
  const file = join(dir, "dnsmasq.conf");
  writeFileSync(file, conf + "\n");
  const p = spawn("dnsmasq", ["--no-daemon", `--conf-file=${file}`, "--pid-file=" + join(dir, "pid")], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  p.stderr.on("data", (d: Buffer) => (err += d.toString()));
  // ready when it answers
  const { Resolver } = await import("node:dns/promises");
  const r = new Resolver({ timeout: 500, tries: 1 });
  r.setServers([`127.0.0.1:${port}`]);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await r.resolve4("ready-check.test");
      break;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "ENOTFOUND" || code === "ENODATA") break;
      if (Date.now() > deadline || p.exitCode !== null) throw new Error(`dnsmasq did not start: ${err}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  return {
    server: `127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((res) => {
        const done = () => {
          rmSync(dir, { recursive: true, force: true });
          res();
        };
        if (p.exitCode !== null) return done();
        p.once("exit", done);
        p.kill("SIGTERM");
      }),
  };
}
