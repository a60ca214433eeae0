/**
 * Shared by the backup tests: the pillarbox CLI on a data dir (a separate
 * process, as an admin runs it next to the server), a raw SMTP sender and a
 * delivery load, and python3 imaplib reading every message of INBOX.
 */
import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import * as net from "node:net";
import { join } from "node:path";
import { run, runCli, type RunResult } from "../helpers/proc.ts";

/** The CLI with only our PILLARBOX_* settings (none inherited from the shell). */
export function cli(args: string[], dataDir?: string, extra: Record<string, string> = {}): Promise<RunResult> {
  const env: Record<string, string | undefined> = {};
  for (const k of Object.keys(process.env)) if (k.startsWith("PILLARBOX_")) env[k] = undefined;
  if (dataDir) env.PILLARBOX_DATA_DIR = dataDir;
  return runCli(args, { env: { ...env, ...extra }, timeoutMs: 120_000 });
}

/** A JS stack trace in CLI output ("    at fn (file:line)"): errors must come out as words. */
export const STACK = /\n\s+at .+[:(]/;

export function sha256(b: Uint8Array | string): string {
  return createHash("sha256").update(b).digest("hex");
}

/** Blob files under `<root>/blobs`. */
export function countBlobFiles(root: string): number {
  let n = 0;
  let l1: string[];
  try {
    l1 = readdirSync(join(root, "blobs"));
  } catch {
    return 0;
  }
  for (const a of l1) {
    if (!/^[0-9a-f]{2}$/.test(a)) continue;
    for (const b of readdirSync(join(root, "blobs", a))) for (const f of readdirSync(join(root, "blobs", a, b))) if (/^[0-9a-f]{64}$/.test(f)) n++;
  }
  return n;
}

export function blobFiles(root: string): string[] {
  const out: string[] = [];
  for (const a of readdirSync(join(root, "blobs"))) {
    if (!/^[0-9a-f]{2}$/.test(a)) continue;
    for (const b of readdirSync(join(root, "blobs", a))) for (const f of readdirSync(join(root, "blobs", a, b))) if (/^[0-9a-f]{64}$/.test(f)) out.push(join(root, "blobs", a, b, f));
  }
  return out.sort();
}

/** One SMTP session per message: returns the final reply code of DATA (250 = acknowledged). */
export async function sendMail(port: number, to: string, raw: string): Promise<number> {
  const s = net.connect(port, "127.0.0.1");
  let buf = "";
  const waiting: ((l: string) => void)[] = [];
  const lines: string[] = [];
  s.on("data", (d: Buffer) => {
    buf += d.toString("latin1");
    let i: number;
    while ((i = buf.indexOf("\r\n")) >= 0) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (/^\d{3}-/.test(l)) continue;
      const w = waiting.shift();
      if (w) w(l);
      else lines.push(l);
    }
  });
  const closed = new Promise<void>((r) => s.once("close", () => r()));
  s.on("error", () => {});
  const reply = () => new Promise<string>((r, j) => {
    if (lines.length) return r(lines.shift()!);
    const t = setTimeout(() => j(new Error("SMTP reply timeout")), 30_000);
    waiting.push((l) => {
      clearTimeout(t);
      r(l);
    });
  });
  const say = async (l: string) => {
    s.write(l + "\r\n");
    return reply();
  };
  try {
    await reply();
    await say("EHLO load.test");
    await say("MAIL FROM:<sender@remote.test>");
    const rcpt = await say(`RCPT TO:<${to}>`);
    if (!rcpt.startsWith("250")) return Number(rcpt.slice(0, 3));
    const go = await say("DATA");
    if (!go.startsWith("354")) return Number(go.slice(0, 3));
    const body = raw.replace(/\r?\n/g, "\r\n").replace(/^\./gm, "..");
    const done = await say(body + (body.endsWith("\r\n") ? "" : "\r\n") + ".");
    s.write("QUIT\r\n");
    return Number(done.slice(0, 3));
  } finally {
    s.end();
    await Promise.race([closed, new Promise((r) => setTimeout(r, 1000))]);
    s.destroy();
  }
}

export function testMessage(id: string, n: number): string {
  // sizes vary (blobs of different sizes), content is unique per message (no dedupe)
  const pad = "abcdefghijklmnopqrstuvwxyz0123456789 ".repeat(20 + ((n * 37) % 400));
  return `From: Sender <sender@remote.test>\r\nTo: alice@example.test\r\nSubject: load ${n}\r\nMessage-ID: <${id}>\r\nDate: Mon, 07 Dec 2026 12:00:00 +0000\r\n\r\nmessage ${n}\r\n${pad}\r\n`;
}

/** Workers delivering over SMTP until stopped; `acked` lists Message-IDs in the order their 250 came back. */
export function deliveryLoad(port: number, to: string, workers: number, prefix: string) {
  const acked: string[] = [];
  const failures: string[] = [];
  let stop = false;
  let n = 0;
  const waiters: { count: number; resolve: () => void }[] = [];
  const worker = async () => {
    while (!stop) {
      const i = n++;
      const id = `${prefix}-${i}@load.test`;
      try {
        const code = await sendMail(port, to, testMessage(id, i));
        if (code === 250) acked.push(id);
        else failures.push(`${id}: ${code}`);
      } catch (e) {
        failures.push(`${id}: ${(e as Error).message}`);
      }
      for (const w of waiters.splice(0)) {
        if (acked.length >= w.count) w.resolve();
        else waiters.push(w);
      }
    }
  };
  const running = Promise.all(Array.from({ length: workers }, worker));
  return {
    acked,
    failures,
    /** Resolves once `count` messages were acknowledged. */
    waitAcked(count: number): Promise<void> {
      if (acked.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    async stop(): Promise<void> {
      stop = true;
      await running;
    },
  };
}

const IMAP_DIGEST_PY = String.raw`
import imaplib, hashlib, json, re, sys
port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
m = imaplib.IMAP4("127.0.0.1", port)
m.login(user, pw)
typ, data = m.select("INBOX", readonly=True)
count = int(data[0])
out = {}
if count:
    typ, data = m.fetch("1:*", "(UID BODY.PEEK[])")
    if typ != "OK":
        print(json.dumps({"error": typ + " " + repr(data)})); sys.exit(1)
    for item in data:
        if not isinstance(item, tuple):
            continue
        raw = item[1]
        mid = re.search(rb"^Message-ID:\s*<([^>]+)>", raw, re.I | re.M)
        out[mid.group(1).decode() if mid else "uid-" + item[0].decode()] = hashlib.sha256(raw).hexdigest()
m.logout()
print(json.dumps({"count": count, "messages": out}))
`;

/** Every INBOX message over python3 imaplib: Message-ID -> sha256 of BODY[]. */
export async function imapDigests(port: number, user: string, password: string): Promise<{ count: number; messages: Record<string, string> }> {
  const r = await run("python3", ["-c", IMAP_DIGEST_PY, String(port), user, password], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`imaplib failed (${r.code}): ${r.stdout} ${r.stderr}`);
  return JSON.parse(r.stdout);
}
