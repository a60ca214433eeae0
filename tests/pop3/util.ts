/** Shared helpers for the POP3 socket tests. */
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { resolve } from "node:path";
import { run } from "../helpers/proc.ts";
import type { MailStore } from "../../storage/api.ts";

const STEPS = resolve(import.meta.dir, "poplib_steps.py");

export type Step = [string, string, ...(string | number)[]];
export interface StepResult {
  ok: boolean;
  res?: any; // any: shape depends on the step (string, list, object); tests index into it
  err?: string;
}

/** Runs poplib steps in a python3 subprocess (async: the server runs in this process). */
export async function poplib(steps: Step[]): Promise<StepResult[]> {
  const r = await run("python3", [STEPS], { input: JSON.stringify(steps), timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`poplib steps failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as StepResult[];
}

export const b64decode = (s: string) => Buffer.from(s, "base64");

/** A raw line-oriented client for malformed input tests. */
export class RawClient {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;
  constructor(public sock: Socket | TLSSocket) {
    sock.on("data", (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.poke();
    });
    sock.on("close", () => {
      this.closed = true;
      this.poke();
    });
    sock.on("error", () => {});
  }
  static connect(port: number, tls = false): Promise<RawClient> {
    return new Promise((res, rej) => {
      const s: Socket = tls ? tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => res(new RawClient(s))) : netConnect({ host: "127.0.0.1", port }, () => res(new RawClient(s)));
      s.once("error", rej);
    });
  }
  private poke() {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }
  send(data: string | Uint8Array): void {
    this.sock.write(data);
  }
  /** Waits until the received text matches `re` (or the connection closes); returns and consumes everything received. */
  async until(re: RegExp, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(this.buf.toString("latin1"))) {
      if (this.closed) break;
      if (Date.now() > deadline) throw new Error(`timeout waiting for ${re}; got ${JSON.stringify(this.buf.toString("latin1"))}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
    const s = this.buf.toString("latin1");
    this.buf = Buffer.alloc(0);
    return s;
  }
  /** Sends a line and waits for `n` response lines. */
  async cmd(line: string, n = 1): Promise<string> {
    this.send(line + "\r\n");
    return this.until(new RegExp(`^(?:.*\\r\\n){${n}}`, "s"));
  }
  async waitClosed(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error("connection still open");
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }
  close(): void {
    this.sock.destroy();
  }
}

/** Delivers a message to one account's INBOX through the store's delivery path. */
export async function deliverTo(store: MailStore, accountId: number, raw: string | Uint8Array): Promise<number> {
  const bytes = typeof raw === "string" ? new TextEncoder().encode(raw) : raw;
  const [r] = await store.deliver(bytes, [{ accountId }]);
  return r!.uid;
}

/** Polls until `fn` returns a truthy value (store state settling after a socket close). */
export async function eventually<T>(fn: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 50));
  }
}
