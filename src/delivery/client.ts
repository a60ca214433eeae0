/**
 * A small SMTP client for outbound delivery: one connection, one transaction,
 * per-recipient results. Opportunistic STARTTLS (RFC 3207, RFC 7435: encrypt
 * when offered, do not authenticate the certificate), PIPELINING (RFC 2920),
 * SIZE (RFC 1870), 8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531) and DSN (RFC 3461)
 * parameters passed on when the server supports them. The DATA section is
 * always canonical (./smtp-data.ts): CRLF only, lines of at most 998 octets,
 * so nothing stored can reach the next hop as a smuggled end of data.
 */
import * as net from "node:net";
import * as tls from "node:tls";
import { toSmtpData } from "./smtp-data.ts";

/** RFC 5321 §4.5.3.2 client timeouts. */
export const TIMEOUTS = {
  connect: 30_000,
  greeting: 5 * 60_000,
  command: 5 * 60_000,
  dataInit: 2 * 60_000,
  dataBlock: 3 * 60_000,
  dataEnd: 10 * 60_000,
};

const MAX_REPLY = 64 * 1024;

export interface SmtpReply {
  code: number;
  enhanced: string | null;
  text: string;
}

export function formatSmtpReply(r: SmtpReply): string {
  return `${r.code}${r.enhanced ? " " + r.enhanced : ""} ${r.text}`.trim();
}

/** A failure of the whole connection: try the next host; if none is left, retry later. */
export class ConnectionError extends Error {
  constructor(
    message: string,
    /** The server said 5xx at greeting/EHLO level: still tried elsewhere, but counts as permanent if nothing else works. */
    public reply: SmtpReply | null = null,
  ) {
    super(message);
    this.name = "ConnectionError";
  }
}

export interface OutboundRecipient {
  address: string;
  notify?: string[];
  orcpt?: string;
}

export interface OutboundMessage {
  sender: string;
  recipients: OutboundRecipient[];
  raw: Uint8Array;
  dsn?: { ret?: "FULL" | "HDRS"; envid?: string } | null;
}

export interface RecipientResult {
  address: string;
  /** "sent": accepted by DATA; "temp"/"perm": 4xx/5xx (at RCPT, MAIL or DATA). */
  status: "sent" | "temp" | "perm";
  reply: SmtpReply;
}

export interface DeliveryOutcome {
  results: RecipientResult[];
  tls: boolean;
  /** Remote supports DSN (RFC 3461): it takes over NOTIFY=SUCCESS reporting. */
  dsn: boolean;
}

export interface ConnectOptions {
  host: string; // IP address
  port: number;
  /** The MX host name (TLS SNI, logs). */
  mxName: string;
  /** Our name for EHLO. */
  helo: string;
  /** Skip STARTTLS (retry after a failed handshake). */
  noTls?: boolean;
}

class ReplyReader {
  private buf = "";
  private waiters: { resolve: (r: SmtpReply) => void; reject: (e: Error) => void }[] = [];
  private queue: SmtpReply[] = [];
  private failed: Error | null = null;
  private lines: string[] = [];

  feed(chunk: Buffer): void {
    this.buf += chunk.toString("latin1");
    if (this.buf.length > MAX_REPLY) {
      this.fail(new ConnectionError("reply too long"));
      return;
    }
    let idx: number;
    while ((idx = this.buf.indexOf("\n")) >= 0) {
      const line = this.buf.slice(0, idx).replace(/\r$/, "");
      this.buf = this.buf.slice(idx + 1);
      this.lines.push(line);
      // RFC 5321 §4.2.1: "code SP" (or just "code") ends a reply; "code-" continues it.
      if (line.length < 3 || line[3] === "-") continue;
      const lines = this.lines;
      this.lines = [];
      const code = Number(lines[0]!.slice(0, 3));
      if (!Number.isInteger(code) || code < 200 || code > 599) {
        this.fail(new ConnectionError(`malformed reply: ${lines[0]!.slice(0, 100)}`));
        return;
      }
      const texts = lines.map((l) => l.slice(4));
      const m = /^([245]\.\d{1,3}\.\d{1,3})(?: |$)/.exec(texts[0] ?? "");
      const reply: SmtpReply = {
        code,
        enhanced: m ? m[1]! : null,
        text: texts.map((t) => (m ? t.replace(/^[245]\.\d{1,3}\.\d{1,3} ?/, "") : t)).join(" ").trim(),
      };
      const w = this.waiters.shift();
      if (w) w.resolve(reply);
      else this.queue.push(reply);
    }
  }

  fail(e: Error): void {
    if (this.failed) return;
    this.failed = e;
    for (const w of this.waiters.splice(0)) w.reject(e);
  }

  next(timeoutMs: number): Promise<SmtpReply> {
    const q = this.queue.shift();
    if (q) return Promise.resolve(q);
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new ConnectionError("timeout waiting for the server"));
      }, timeoutMs);
      const w = {
        resolve: (r: SmtpReply) => {
          clearTimeout(t);
          resolve(r);
        },
        reject: (e: Error) => {
          clearTimeout(t);
          reject(e);
        },
      };
      this.waiters.push(w);
    });
  }

  reset(): void {
    this.buf = "";
    this.queue = [];
    this.lines = [];
  }
}

/**
 * RFC 5321 §4.5.2: the DATA section for a message (see ./smtp-data.ts: CRLF
 * only, lines folded at 998 octets, dot-stuffed, ends with CRLF "." CRLF).
 */
export function dotStuff(raw: Uint8Array): Buffer {
  return toSmtpData(raw).data;
}

/** RFC 3461 §4 xtext encoding. */
export function xtext(s: string): string {
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c >= 33 && c <= 126 && ch !== "+" && ch !== "=") out += ch;
    else if (c < 128) out += "+" + c.toString(16).toUpperCase().padStart(2, "0");
    else out += ch; // RFC 6533 allows UTF-8 with SMTPUTF8
  }
  return out;
}

// eslint-disable-next-line no-control-regex
const nonAscii = (s: string) => /[^\x00-\x7f]/.test(s);
const has8bit = (raw: Uint8Array) => raw.some((b) => b >= 0x80);

function connect(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    const t = setTimeout(() => {
      sock.destroy();
      reject(new ConnectionError(`connect to ${host}:${port} timed out`));
    }, TIMEOUTS.connect);
    sock.once("connect", () => {
      clearTimeout(t);
      resolve(sock);
    });
    sock.once("error", (e) => {
      clearTimeout(t);
      reject(new ConnectionError(`connect to ${host}:${port}: ${e.message}`));
    });
  });
}

/** EHLO keywords and their parameters (RFC 5321 §4.1.1.1), from the reply lines after the first. */
function parseEhlo(lines: string): Map<string, string> {
  const caps = new Map<string, string>();
  for (const l of lines.split("\n").slice(1)) {
    const [k, ...rest] = l.trim().split(/\s+/);
    if (k) caps.set(k.toUpperCase(), rest.join(" "));
  }
  return caps;
}

/**
 * Delivers one message to one host. Throws ConnectionError when the host
 * could not take the transaction at all (next host / retry later).
 */
export async function deliverToHost(opts: ConnectOptions, msg: OutboundMessage): Promise<DeliveryOutcome> {
  let sock: net.Socket | tls.TLSSocket = await connect(opts.host, opts.port);
  const reader = new ReplyReader();
  // EHLO capability lines are also needed raw: collect them separately.
  let rawLines = "";
  const onData = (c: Buffer) => {
    rawLines += c.toString("latin1");
    if (rawLines.length > MAX_REPLY) rawLines = rawLines.slice(-MAX_REPLY);
    reader.feed(c);
  };
  const onErr = (e: Error) => reader.fail(new ConnectionError(e.message));
  const onClose = () => reader.fail(new ConnectionError("connection closed by the server"));
  const attach = (s: net.Socket | tls.TLSSocket) => {
    s.on("data", onData);
    s.on("error", onErr);
    s.on("close", onClose);
  };
  const detach = (s: net.Socket | tls.TLSSocket) => {
    s.off("data", onData);
    s.off("error", onErr);
    s.off("close", onClose);
  };
  attach(sock);
  const write = (s: string | Buffer) => sock.write(s);
  let usedTls = false;
  try {
    const greet = await reader.next(TIMEOUTS.greeting);
    if (greet.code !== 220) throw new ConnectionError(`greeting: ${formatSmtpReply(greet)}`, greet);

    const ehlo = async (): Promise<Map<string, string> | null> => {
      rawLines = "";
      write(`EHLO ${opts.helo}\r\n`);
      const r = await reader.next(TIMEOUTS.command);
      if (r.code === 250) {
        const lines = rawLines.replace(/\r/g, "").split("\n").filter((l) => /^250[ -]/.test(l)).map((l) => l.slice(4)).join("\n");
        return parseEhlo(lines);
      }
      // RFC 5321 §4.1.4: fall back to HELO when EHLO is refused.
      write(`HELO ${opts.helo}\r\n`);
      const h = await reader.next(TIMEOUTS.command);
      if (h.code !== 250) throw new ConnectionError(`HELO: ${formatSmtpReply(h)}`, h);
      return null;
    };

    let caps = await ehlo();
    if (caps?.has("STARTTLS") && !opts.noTls) {
      write("STARTTLS\r\n");
      const r = await reader.next(TIMEOUTS.command);
      if (r.code === 220) {
        detach(sock);
        reader.reset();
        const raw = sock as net.Socket;
        sock = await new Promise<tls.TLSSocket>((resolve, reject) => {
          // RFC 7435 opportunistic security: encrypt without authenticating the peer.
          const t = tls.connect({ socket: raw, servername: net.isIP(opts.mxName) ? undefined : opts.mxName, rejectUnauthorized: false, minVersion: "TLSv1.2" });
          const timer = setTimeout(() => {
            t.destroy();
            reject(new ConnectionError("TLS handshake timed out", { code: 0, enhanced: null, text: "tls" }));
          }, TIMEOUTS.connect);
          t.once("secureConnect", () => {
            clearTimeout(timer);
            resolve(t);
          });
          t.once("error", (e) => {
            clearTimeout(timer);
            reject(new TlsFailure(e.message));
          });
        });
        attach(sock);
        usedTls = true;
        caps = await ehlo();
      }
    }
    caps ??= new Map();

    // Everything we send onward goes out in canonical form (item 8 of issue 13: no bare CR/LF can
    // reach the next hop as an end of data), and SIZE announces that form (RFC 1870 §3).
    const wire = toSmtpData(msg.raw);
    const size = wire.size;
    const maxSize = caps.has("SIZE") ? Number(caps.get("SIZE")) : 0;
    if (maxSize > 0 && size > maxSize) {
      // RFC 1870 §6.2: do not send what the server said it would refuse.
      const rep: SmtpReply = { code: 552, enhanced: "5.3.4", text: `message size ${size} exceeds remote limit ${maxSize}` };
      await quit();
      return { results: msg.recipients.map((r) => ({ address: r.address, status: "perm", reply: rep })), tls: usedTls, dsn: false };
    }
    const needUtf8 = nonAscii(msg.sender) || msg.recipients.some((r) => nonAscii(r.address));
    if (needUtf8 && !caps.has("SMTPUTF8")) {
      // RFC 6531 §3.2: no downgrade for internationalised addresses.
      const rep: SmtpReply = { code: 553, enhanced: "5.6.7", text: "remote server does not support SMTPUTF8" };
      await quit();
      return { results: msg.recipients.map((r) => ({ address: r.address, status: "perm", reply: rep })), tls: usedTls, dsn: false };
    }
    const dsn = caps.has("DSN");
    let mail = `MAIL FROM:<${msg.sender}>`;
    if (caps.has("SIZE")) mail += ` SIZE=${size}`;
    if (caps.has("8BITMIME") && has8bit(msg.raw)) mail += " BODY=8BITMIME";
    if (needUtf8) mail += " SMTPUTF8";
    if (dsn && msg.dsn?.ret) mail += ` RET=${msg.dsn.ret}`;
    if (dsn && msg.dsn?.envid) mail += ` ENVID=${xtext(msg.dsn.envid)}`;
    const rcptLines = msg.recipients.map((r) => {
      let l = `RCPT TO:<${r.address}>`;
      if (dsn && r.notify?.length) l += ` NOTIFY=${r.notify.join(",")}`;
      if (dsn && r.orcpt) {
        const semi = r.orcpt.indexOf(";");
        l += ` ORCPT=${r.orcpt.slice(0, semi)};${xtext(r.orcpt.slice(semi + 1))}`;
      }
      return l;
    });

    const pipelining = caps.has("PIPELINING");
    const results: RecipientResult[] = [];
    let mailReply: SmtpReply;
    const rcptReplies: SmtpReply[] = [];
    let dataReply: SmtpReply | null = null;
    if (pipelining) {
      // RFC 2920 §3.1: MAIL, RCPTs and DATA in one group; replies read in order.
      write([mail, ...rcptLines, "DATA"].join("\r\n") + "\r\n");
      mailReply = await reader.next(TIMEOUTS.command);
      for (let i = 0; i < rcptLines.length; i++) rcptReplies.push(await reader.next(TIMEOUTS.command));
      dataReply = await reader.next(TIMEOUTS.dataInit);
    } else {
      write(mail + "\r\n");
      mailReply = await reader.next(TIMEOUTS.command);
      if (mailReply.code === 250) {
        for (const l of rcptLines) {
          write(l + "\r\n");
          rcptReplies.push(await reader.next(TIMEOUTS.command));
        }
      }
    }
    if (mailReply.code !== 250) {
      if (dataReply?.code === 354) await abortData();
      await quit();
      const status = mailReply.code >= 500 ? "perm" : "temp";
      return { results: msg.recipients.map((r) => ({ address: r.address, status, reply: mailReply })), tls: usedTls, dsn };
    }
    const accepted: OutboundRecipient[] = [];
    msg.recipients.forEach((r, i) => {
      const rep = rcptReplies[i]!;
      if (rep.code === 250 || rep.code === 251) accepted.push(r);
      else results.push({ address: r.address, status: rep.code >= 500 ? "perm" : "temp", reply: rep });
    });
    if (accepted.length === 0) {
      if (dataReply?.code === 354) await abortData();
      await quit();
      return { results, tls: usedTls, dsn };
    }
    if (!pipelining) {
      write("DATA\r\n");
      dataReply = await reader.next(TIMEOUTS.dataInit);
    }
    if (dataReply!.code !== 354) {
      await quit();
      const st = dataReply!.code >= 500 ? "perm" : "temp";
      for (const r of accepted) results.push({ address: r.address, status: st, reply: dataReply! });
      return { results, tls: usedTls, dsn };
    }
    write(wire.data);
    const end = await reader.next(TIMEOUTS.dataEnd);
    const st = end.code === 250 ? "sent" : end.code >= 500 ? "perm" : "temp";
    for (const r of accepted) results.push({ address: r.address, status: st, reply: end });
    await quit();
    return { results, tls: usedTls, dsn };
  } catch (e) {
    sock.destroy();
    if (e instanceof TlsFailure && !opts.noTls) {
      // A broken TLS stack on the other side: retry once in the clear, as Postfix does for opportunistic TLS.
      return deliverToHost({ ...opts, noTls: true }, msg);
    }
    throw e instanceof ConnectionError ? e : new ConnectionError((e as Error).message);
  } finally {
    sock.destroy();
  }

  async function abortData(): Promise<void> {
    // A 354 we did not want (pipelined DATA after every RCPT failed): sending "." would deliver an
    // empty message, so drop the connection instead (RFC 2920 §3.1 lets the client do either).
    sock.destroy();
  }

  async function quit(): Promise<void> {
    try {
      write("QUIT\r\n");
      await reader.next(5000);
    } catch {
      // the answer to QUIT does not matter
    }
  }
}

class TlsFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TlsFailure";
  }
}
