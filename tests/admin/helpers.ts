/**
 * Helpers for the web admin's tests: a signed-in admin API client (on the
 * webmail's ApiClient: cookie, CSRF token from /admin/api/me, same-origin
 * headers), Debian's dnsmasq with raw configuration lines (multi-string TXT,
 * SRV, CNAME), and python3 imaplib logins.
 */
import { execFile } from "node:child_process";
import * as net from "node:net";
import { ApiClient } from "../webmail/helpers.ts";

/** Signs in through /login?next=/admin and takes the CSRF token from /admin/api/me. */
export async function adminClient(base: string, user: { email: string; password: string }): Promise<ApiClient> {
  const c = await ApiClient.signIn(base, user);
  const me = await c.get("/admin/api/me");
  if (me.status === 200) c.csrf = String(me.json().csrf);
  return c;
}

export { freeUdpPort, startDnsmasqLines, type Dnsmasq } from "../smtp/helpers.ts";

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

/** A TCP port with nothing listening (the queue's remote MX port: connection refused at once). */
export async function closedTcpPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
