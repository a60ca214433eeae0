/**
 * Minimal line-oriented clients for the reliability harnesses (SMTP, IMAP,
 * POP3 over plain TCP, STARTTLS or implicit TLS). Kept here rather than shared
 * with the protocol tests so a torture run does not depend on their helpers.
 */
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";

export class LineConn {
  private buf: Buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;
  error: Error | null = null;

  constructor(public sock: Socket | TLSSocket) {
    this.attach(sock);
  }

  private attach(sock: Socket | TLSSocket) {
    sock.on("data", (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.wake();
    });
    sock.on("close", () => {
      this.closed = true;
      this.wake();
    });
    sock.on("error", (e) => {
      this.error = e;
      this.wake();
    });
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  static connect(port: number, opts: { host?: string; tls?: boolean; timeoutMs?: number; localAddress?: string } = {}): Promise<LineConn> {
    const host = opts.host ?? "127.0.0.1";
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`connect ${port} timed out`));
      }, opts.timeoutMs ?? 10_000);
      const done = () => {
        clearTimeout(timer);
        resolve(new LineConn(s));
      };
      const s = opts.tls
        ? tlsConnect({ socket: netConnect({ host, port, localAddress: opts.localAddress }), rejectUnauthorized: false, servername: "localhost" }, done)
        : netConnect({ host, port, localAddress: opts.localAddress }, done);
      s.once("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  /** Upgrades the connection in place (after STARTTLS/STLS was accepted). */
  async startTls(): Promise<void> {
    const raw = this.sock;
    raw.removeAllListeners("data");
    raw.removeAllListeners("close");
    raw.removeAllListeners("error");
    this.buf = Buffer.alloc(0);
    const t: TLSSocket = await new Promise((resolve, reject) => {
      const s = tlsConnect({ socket: raw, rejectUnauthorized: false, servername: "localhost" }, () => resolve(s));
      s.once("error", reject);
    });
    this.sock = t;
    this.attach(t);
  }

  write(data: string | Uint8Array): void {
    if (!this.closed) this.sock.write(data);
  }

  /** Next CRLF line (without CRLF). Throws on close or timeout. */
  async line(timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.buf.indexOf("\n");
      if (i >= 0) {
        const l = this.buf.subarray(0, i).toString("latin1").replace(/\r$/, "");
        this.buf = this.buf.subarray(i + 1);
        return l;
      }
      if (this.closed) throw new Error(`connection closed${this.error ? ": " + this.error.message : ""}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("read timed out");
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Exactly n bytes (IMAP literals). */
  async bytes(n: number, timeoutMs = 15_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.buf.length < n) {
      if (this.closed) throw new Error("connection closed");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("read timed out");
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Resolves true if the peer closes within timeoutMs. */
  async waitClose(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
      this.buf = Buffer.alloc(0);
    }
    return this.closed;
  }

  close(): void {
    this.closed = true;
    this.sock.destroy();
  }
}

// ---------------------------------------------------------------- SMTP

export interface SmtpReply {
  code: number;
  text: string;
}

export async function smtpReply(c: LineConn, timeoutMs?: number): Promise<SmtpReply> {
  let text = "";
  for (;;) {
    const l = await c.line(timeoutMs);
    text += (text ? "\n" : "") + l;
    if (l.length < 4 || l[3] !== "-") return { code: Number(l.slice(0, 3)), text };
  }
}

export async function smtpCmd(c: LineConn, cmd: string, timeoutMs?: number): Promise<SmtpReply> {
  c.write(cmd + "\r\n");
  return smtpReply(c, timeoutMs);
}

export interface SmtpSendOptions {
  port: number;
  from: string;
  to: string[];
  data: string;
  /** STARTTLS + AUTH PLAIN (submission). */
  auth?: { user: string; pass: string };
  implicitTls?: boolean;
}

/** One message in one session. Returns the reply to the end of DATA (or the first refusal). */
export async function smtpSend(o: SmtpSendOptions): Promise<SmtpReply> {
  const c = await LineConn.connect(o.port, { tls: o.implicitTls });
  try {
    const g = await smtpReply(c);
    if (g.code !== 220) return g;
    let r = await smtpCmd(c, "EHLO torture.test");
    if (o.auth) {
      if (!o.implicitTls) {
        r = await smtpCmd(c, "STARTTLS");
        if (r.code !== 220) return r;
        await c.startTls();
        r = await smtpCmd(c, "EHLO torture.test");
      }
      r = await smtpCmd(c, "AUTH PLAIN " + Buffer.from(`\0${o.auth.user}\0${o.auth.pass}`).toString("base64"));
      if (r.code !== 235) return r;
    }
    r = await smtpCmd(c, `MAIL FROM:<${o.from}>`);
    if (r.code !== 250) return r;
    let ok = 0;
    let last = r;
    for (const t of o.to) {
      last = await smtpCmd(c, `RCPT TO:<${t}>`);
      if (last.code === 250 || last.code === 251) ok++;
    }
    if (!ok) return last;
    r = await smtpCmd(c, "DATA");
    if (r.code !== 354) return r;
    const body = o.data.replace(/\r?\n/g, "\r\n").replace(/^\./gm, "..");
    c.write(body + (body.endsWith("\r\n") ? "" : "\r\n") + ".\r\n");
    r = await smtpReply(c, 60_000);
    c.write("QUIT\r\n");
    return r;
  } finally {
    setTimeout(() => c.close(), 50);
  }
}

// ---------------------------------------------------------------- IMAP

export interface ImapResult {
  status: string; // OK | NO | BAD
  text: string;
  untagged: string[];
}

export class ImapConn {
  private n = 0;
  constructor(public c: LineConn) {}

  static async connect(port: number, opts: { tls?: boolean; localAddress?: string } = {}): Promise<{ imap: ImapConn; greeting: string }> {
    const c = await LineConn.connect(port, opts);
    const greeting = await c.line();
    return { imap: new ImapConn(c), greeting };
  }

  /** Sends a command (with optional synchronising literal) and reads up to its tagged reply. */
  async cmd(text: string, literal?: Uint8Array | string, timeoutMs = 30_000): Promise<ImapResult> {
    const tag = `t${++this.n}`;
    const untagged: string[] = [];
    if (literal !== undefined) {
      const lit = typeof literal === "string" ? Buffer.from(literal) : literal;
      this.c.write(`${tag} ${text} {${lit.length}}\r\n`);
      for (;;) {
        const l = await this.c.line(timeoutMs);
        if (l.startsWith("+")) break;
        if (l.startsWith(tag + " ")) return parseTagged(l, tag, untagged);
        untagged.push(l);
      }
      this.c.write(lit);
      this.c.write("\r\n");
    } else {
      this.c.write(`${tag} ${text}\r\n`);
    }
    for (;;) {
      let l = await this.c.line(timeoutMs);
      // Fold literals into the line.
      for (let m = /\{(\d+)\}$/.exec(l); m; m = /\{(\d+)\}$/.exec(l)) {
        const data = await this.c.bytes(Number(m[1]), timeoutMs);
        l = l + data.toString("latin1") + (await this.c.line(timeoutMs));
      }
      if (l.startsWith(tag + " ")) return parseTagged(l, tag, untagged);
      untagged.push(l);
    }
  }

  close(): void {
    this.c.close();
  }
}

function parseTagged(l: string, tag: string, untagged: string[]): ImapResult {
  const rest = l.slice(tag.length + 1);
  const sp = rest.indexOf(" ");
  return { status: sp < 0 ? rest : rest.slice(0, sp), text: sp < 0 ? "" : rest.slice(sp + 1), untagged };
}

export function imapQuote(s: string): string {
  return '"' + s.replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"';
}
