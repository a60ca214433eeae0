/**
 * A small raw IMAP client for tests: sends commands, collects untagged
 * responses (with literals) until the tagged reply. Plain or TLS.
 */
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";

export interface Reply {
  tag: string;
  status: string;
  text: string;
  untagged: string[];
}

export class RawImap {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private n = 0;
  closed = false;
  /** Untagged lines received outside a command (IDLE, NOTIFY). */
  unsolicited: string[] = [];

  private constructor(public sock: Socket) {
    sock.on("data", (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    sock.on("close", () => {
      this.closed = true;
      this.wake();
    });
    sock.on("error", () => {});
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  static async connect(port: number, opts: { tls?: boolean } = {}): Promise<{ c: RawImap; greeting: string }> {
    const sock: Socket = await new Promise((resolve, reject) => {
      const s = opts.tls ? tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => resolve(s)) : netConnect({ host: "127.0.0.1", port }, () => resolve(s));
      s.once("error", reject);
    });
    const c = new RawImap(sock);
    const greeting = await c.line(5000);
    return { c, greeting };
  }

  /** Reads one response line, with any literals folded in as text. Null on close. */
  async line(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let out = "";
    for (;;) {
      const i = this.buf.indexOf("\r\n");
      if (i >= 0) {
        const l = this.buf.subarray(0, i).toString("utf8");
        const m = /\{(\d+)\}$/.exec(l);
        if (m) {
          const n = Number(m[1]);
          if (this.buf.length >= i + 2 + n) {
            out += l + "\r\n" + this.buf.subarray(i + 2, i + 2 + n).toString("latin1");
            this.buf = this.buf.subarray(i + 2 + n);
            continue;
          }
        } else {
          this.buf = this.buf.subarray(i + 2);
          return out + l;
        }
      }
      if (this.closed) throw new Error("connection closed; got so far: " + out + this.buf.toString());
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timeout waiting for a line; buffered: " + JSON.stringify(this.buf.toString().slice(0, 300)));
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  write(s: string | Uint8Array): void {
    this.sock.write(s);
  }

  /** Sends a command and waits for its tagged reply. */
  async cmd(command: string, timeoutMs = 10000): Promise<Reply> {
    const tag = `T${++this.n}`;
    this.write(`${tag} ${command}\r\n`);
    return this.until(tag, timeoutMs);
  }

  async until(tag: string, timeoutMs = 10000): Promise<Reply> {
    const untagged: string[] = [];
    for (;;) {
      const l = await this.line(timeoutMs);
      if (l.startsWith(tag + " ")) {
        const rest = l.slice(tag.length + 1);
        const sp = rest.indexOf(" ");
        return { tag, status: sp < 0 ? rest : rest.slice(0, sp), text: sp < 0 ? "" : rest.slice(sp + 1), untagged };
      }
      untagged.push(l);
    }
  }

  nextTag(): string {
    return `T${++this.n}`;
  }

  close(): void {
    this.sock.destroy();
  }
}
