/**
 * A small SMTP / LMTP client (RFC 5321, RFC 2033) for the differential test:
 * one transaction per call over a raw socket, the same envelope and bytes to
 * both servers, and every reply kept, so a refusal at RCPT or at the end of
 * DATA (Sieve ereject, RFC 5429 §2.1) is visible per recipient.
 */
import { connect, type Socket } from "node:net";

export interface Transaction {
  /** MAIL FROM address ("" for the null reverse-path). */
  from: string;
  to: string[];
  /** The message, CRLF line ends. */
  data: Uint8Array;
}

export interface TransactionResult {
  mail: string;
  rcpt: string[];
  /** SMTP: the one reply to the end of DATA (or "" when no recipient was accepted); LMTP: one per accepted recipient. */
  data: string[];
}

export { waitListening } from "../../import/dovecot.ts";

/** Reads complete replies (the last line has a space after the code). */
class ReplyReader {
  private buf = "";
  private waiting: ((line: string) => void) | null = null;
  private replies: string[] = [];
  private failure: Error | null = null;
  constructor(sock: Socket) {
    sock.on("data", (d: Buffer) => {
      this.buf += d.toString("latin1");
      for (;;) {
        const nl = this.buf.indexOf("\r\n");
        if (nl < 0) break;
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 2);
        if (/^\d{3}-/.test(line)) continue;
        this.replies.push(line);
      }
      this.flush();
    });
    const fail = (e: Error) => {
      this.failure = e;
      this.flush();
    };
    sock.on("error", fail);
    sock.on("close", () => fail(new Error("connection closed")));
  }
  private flush(): void {
    if (!this.waiting) return;
    if (this.replies.length > 0) {
      const w = this.waiting;
      this.waiting = null;
      w(this.replies.shift()!);
    } else if (this.failure) {
      const w = this.waiting;
      this.waiting = null;
      w(`421 ${this.failure.message}`);
    }
  }
  next(timeoutMs = 20_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("no reply within the time limit")), timeoutMs);
      this.waiting = (line) => {
        clearTimeout(t);
        resolve(line);
      };
      this.flush();
    });
  }
}

/** RFC 5321 §4.5.2: a line beginning with "." gets another one. */
function dotStuff(data: Uint8Array): Buffer {
  let s = Buffer.from(data).toString("latin1");
  if (!s.endsWith("\r\n")) s += "\r\n";
  return Buffer.from(s.replace(/^\./gm, "..") + ".\r\n", "latin1");
}

/** One transaction over SMTP (`lmtp: false`, EHLO) or LMTP (LHLO). */
export async function sendTransaction(port: number, tx: Transaction, opts: { lmtp: boolean }): Promise<TransactionResult> {
  const sock = connect(port, "127.0.0.1");
  const r = new ReplyReader(sock);
  const cmd = async (line: string): Promise<string> => {
    sock.write(line + "\r\n");
    return r.next();
  };
  try {
    const greet = await r.next();
    if (!greet.startsWith("220")) throw new Error(`greeting: ${greet}`);
    const hello = await cmd(`${opts.lmtp ? "LHLO" : "EHLO"} client.sender.test`);
    if (!hello.startsWith("250")) throw new Error(`hello: ${hello}`);
    const mail = await cmd(`MAIL FROM:<${tx.from}>`);
    const rcpt: string[] = [];
    for (const to of tx.to) rcpt.push(await cmd(`RCPT TO:<${to}>`));
    const accepted = rcpt.filter((l) => l.startsWith("2")).length;
    const data: string[] = [];
    if (mail.startsWith("2") && accepted > 0) {
      const go = await cmd("DATA");
      if (go.startsWith("354")) {
        sock.write(dotStuff(tx.data));
        for (let i = 0; i < (opts.lmtp ? accepted : 1); i++) data.push(await r.next());
      } else data.push(go);
    }
    sock.write("QUIT\r\n");
    return { mail, rcpt, data };
  } finally {
    sock.end();
    setTimeout(() => sock.destroy(), 1000).unref?.();
  }
}
