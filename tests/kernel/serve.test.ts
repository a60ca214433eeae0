/**
 * `pillarbox serve` as a separate process: first start, admin commands while
 * it runs, the one-line bind error, TLS reload on SIGHUP, SIGTERM exit code.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as tls from "node:tls";
import { LISTENER_DEFAULTS } from "../../src/registry.ts";
import { createSelfSignedCertificate } from "../../src/x509.ts";
import { BUN, REPO_ROOT, runCli, spawnBackground, type Background } from "../helpers/proc.ts";

setDefaultTimeout(60_000);
const root = mkdtempSync(join(tmpdir(), "pb-serve-test-"));
const running: Background[] = [];
afterAll(async () => {
  for (const p of running) p.kill("SIGKILL");
  rmSync(root, { recursive: true, force: true });
});

/** Environment with every listener off except `on` (127.0.0.1, OS-chosen port). */
function env(dataDir: string, on: string[], extra: Record<string, string> = {}): Record<string, string | undefined> {
  const e: Record<string, string | undefined> = {};
  for (const k of Object.keys(process.env)) if (k.startsWith("PILLARBOX_")) e[k] = undefined;
  for (const n of Object.keys(LISTENER_DEFAULTS)) e[`PILLARBOX_${n}_LISTEN`] = on.includes(n) ? "127.0.0.1:0" : "off";
  return { ...e, PILLARBOX_DATA_DIR: dataDir, PILLARBOX_HOSTNAME: "mail.serve.test", PILLARBOX_SMTP_VERIFY_INBOUND: "false", ...extra };
}

async function serve(dataDir: string, on: string[], extra: Record<string, string> = {}) {
  const p = spawnBackground(BUN, [resolve(REPO_ROOT, "src/main.ts"), "serve"], { env: env(dataDir, on, extra) });
  running.push(p);
  const m = await p.waitFor(/\{[^\n]*"msg":"pillarbox serving"[^\n]*\}/, 30_000);
  const listeners = JSON.parse(m[0]).listeners as Record<string, string>;
  const port = (name: string) => Number(listeners[name]!.split(":").pop());
  return { p, port };
}

/** Reads CRLF lines from a socket, keeping what arrives in the same chunk. */
function lineReader(socket: net.Socket | tls.TLSSocket) {
  let buf = "";
  const ready: string[] = [];
  const waiting: ((l: string) => void)[] = [];
  socket.on("data", (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf("\r\n")) >= 0) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const w = waiting.shift();
      if (w) w(l);
      else ready.push(l);
    }
  });
  return () => new Promise<string>((r) => (ready.length ? r(ready.shift()!) : waiting.push(r)));
}

/** Sends each line and collects the last line of each reply. */
async function smtp(port: number, lines: string[]): Promise<string[]> {
  const s = net.connect(port, "127.0.0.1");
  const next = lineReader(s);
  const reply = async () => {
    let r = await next();
    while (/^\d{3}-/.test(r)) r = await next();
    return r;
  };
  const out = [await reply()];
  for (const l of lines) {
    s.write(l + "\r\n");
    out.push(await reply());
  }
  s.destroy();
  return out;
}

async function peerSerial(port: number): Promise<string> {
  const t = tls.connect({ port, host: "127.0.0.1", rejectUnauthorized: false, servername: "mail.serve.test" });
  await new Promise((res, rej) => {
    t.once("secureConnect", res);
    t.once("error", rej);
  });
  const serial = t.getPeerCertificate().serialNumber;
  t.destroy();
  return serial;
}

describe("pillarbox serve", () => {
  test("first start creates data dir 0700, database and self-signed key 0600; SIGTERM exits 0", async () => {
    const dataDir = join(root, "first", "nested", "data");
    const { p, port } = await serve(dataDir, ["SMTP"]);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(existsSync(join(dataDir, "pillarbox.db"))).toBe(true);
    expect(statSync(join(dataDir, "tls", "selfsigned-key.pem")).mode & 0o777).toBe(0o600);
    const greeting = await smtp(port("SMTP"), ["QUIT"]);
    expect(greeting[0]).toStartWith("220 mail.serve.test");
    p.kill("SIGTERM");
    const { code } = await p.exited;
    expect(code).toBe(0);
    expect(p.stderr()).toContain('"msg":"pillarbox stopped"');
  });

  test("admin commands work while the server runs on the same data dir, and the server sees the result", async () => {
    const dataDir = join(root, "live");
    const { p, port } = await serve(dataDir, ["SMTP"]);
    const e = env(dataDir, []);
    expect((await runCli(["domain", "add", "live.test"], { env: e })).code).toBe(0);
    const add = await runCli(["user", "add", "carol@live.test", "--password-stdin"], { env: e, input: "carol-live-pass-1\n" });
    expect(add.code).toBe(0);
    const replies = await smtp(port("SMTP"), ["EHLO client.test", "MAIL FROM:<a@remote.test>", "RCPT TO:<carol@live.test>", "RCPT TO:<nobody@live.test>", "QUIT"]);
    expect(replies[3]).toStartWith("250");
    expect(replies[4]).toMatch(/^550/);
    expect((await runCli(["user", "list"], { env: e })).stdout).toContain("carol@live.test");
    expect((await runCli(["check"], { env: e })).code).toBe(0);
    p.kill("SIGTERM");
    expect((await p.exited).code).toBe(0);
  });

  test("a port that cannot be bound: one clear line and a non-zero exit", async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const dataDir = join(root, "bind");
      const r = await runCli(["serve"], { env: env(dataDir, [], { PILLARBOX_SMTP_LISTEN: `127.0.0.1:${taken}` }) });
      expect(r.code).toBe(1);
      const lines = r.stderr.split("\n").filter((l) => l.startsWith("pillarbox:"));
      expect(lines).toHaveLength(1);
      const line = lines[0]!;
      expect(line).toContain("SMTP");
      expect(line).toContain(`127.0.0.1:${taken}`);
      expect(line).toContain("EADDRINUSE");
      expect(line).toContain("PILLARBOX_SMTP_LISTEN");
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      blocker.close();
    }
  });

  test("SIGHUP reloads configured certificate files without a restart", async () => {
    const dataDir = join(root, "hup");
    const certFile = join(root, "hup-cert.pem");
    const keyFile = join(root, "hup-key.pem");
    const a = createSelfSignedCertificate(["mail.serve.test"]);
    writeFileSync(certFile, a.certPem);
    writeFileSync(keyFile, a.keyPem, { mode: 0o600 });
    const { p, port } = await serve(dataDir, ["SUBMISSIONS"], { PILLARBOX_TLS_CERT: certFile, PILLARBOX_TLS_KEY: keyFile });
    const before = await peerSerial(port("SUBMISSIONS"));
    expect(before).toBe(new (require("node:crypto").X509Certificate)(a.certPem).serialNumber);
    const b = createSelfSignedCertificate(["mail.serve.test"]);
    writeFileSync(keyFile, b.keyPem, { mode: 0o600 });
    writeFileSync(certFile, b.certPem);
    p.kill("SIGHUP");
    await p.waitFor(/TLS certificate reloaded/);
    const after = await peerSerial(port("SUBMISSIONS"));
    expect(after).not.toBe(before);
    expect(after).toBe(new (require("node:crypto").X509Certificate)(b.certPem).serialNumber);
    p.kill("SIGTERM");
    expect((await p.exited).code).toBe(0);
  });

  test("SIGINT also stops gracefully", async () => {
    const { p } = await serve(join(root, "int"), ["SMTP"]);
    p.kill("SIGINT");
    expect((await p.exited).code).toBe(0);
  });
});
