/**
 * Helpers for the web admin's tests: a signed-in admin API client (on the
 * webmail's ApiClient: cookie, CSRF token from /admin/api/me, same-origin
 * headers), Debian's dnsmasq with raw configuration lines (multi-string TXT,
 * SRV, CNAME), and python3 imaplib logins.
 */
import { spawn, execFile } from "node:child_process";
import * as dgram from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiClient } from "../webmail/helpers.ts";

/** Signs in through /login?next=/admin and takes the CSRF token from /admin/api/me. */
export async function adminClient(base: string, user: { email: string; password: string }): Promise<ApiClient> {
  const c = await ApiClient.signIn(base, user);
  const me = await c.get("/admin/api/me");
  if (me.status === 200) c.csrf = String(me.json().csrf);
  return c;
}

export interface Dnsmasq {
  server: string;
  stop(): Promise<void>;
}

export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** dnsmasq on a free port, authoritative for `.test`, with the given configuration lines. */
export async function startDnsmasqLines(lines: string[], port?: number): Promise<Dnsmasq> {
  port ??= await freeUdpPort();
  const dir = mkdtempSync(join(tmpdir(), "pb-admin-dns-"));
  const conf = [`port=${port}`, "listen-address=127.0.0.1", "bind-interfaces", "no-resolv", "no-hosts", "no-poll", "local=/test/", ...lines].join("\n");
  const file = join(dir, "dnsmasq.conf");
  writeFileSync(file, conf + "\n");
  const p = spawn("dnsmasq", ["--no-daemon", `--conf-file=${file}`, "--pid-file=" + join(dir, "pid")], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  p.stderr.on("data", (d: Buffer) => (err += d.toString()));
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

/** dnsmasq's txt-record value: the text in quoted strings of at most 255 octets (RFC 1035 §3.3.14). */
export function dnsmasqTxt(name: string, text: string): string {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += 255) parts.push(`"${text.slice(i, i + 255).replace(/"/g, '\\"')}"`);
  return `txt-record=${name},${parts.join(",")}`;
}

/** Tries an IMAP LOGIN with python3 imaplib; "OK" or the server's refusal text. */
export function imapLogin(port: number, email: string, password: string): Promise<string> {
  const py = `import imaplib,sys
m=imaplib.IMAP4('127.0.0.1', ${port})
try:
  m.login(sys.argv[1], sys.argv[2])
  print('OK')
  m.logout()
except imaplib.IMAP4.error as e:
  print('NO ' + str(e))`;
  return new Promise((resolve, reject) => {
    execFile("python3", ["-c", py, email, password], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`python3 failed: ${err.message}\n${stderr}`));
      else resolve(stdout.trim());
    });
  });
}
