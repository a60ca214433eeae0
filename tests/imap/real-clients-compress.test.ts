/**
 * Real clients that use COMPRESS=DEFLATE (RFC 4978) end their sessions
 * cleanly (issue 13 item 17): the server's last replies (BYE, tagged OK)
 * must leave through the deflater and TLS must end with close_notify.
 *  - isync's mbsync enables COMPRESS by default; it reported
 *    "IMAP error: unexpected EOF" after every LOGOUT.
 *  - mutt with `imap_deflate=yes` reported "Connection ... closed" on quit.
 * Debian packages: isync, mutt, bsdutils (script).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { hasCommand, run } from "../helpers/proc.ts";
import "../../protocols/imap/index.ts";

let srv: TestServer;
let tmp = "";
let accountId = 0;
const USER = "mia@deflate.test";
const PASS = "mia-secret";

function message(subject: string, body: string): Uint8Array {
  return new TextEncoder().encode(`From: Bob <bob@example.org>\r\nTo: ${USER}\r\nSubject: ${subject}\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, "")}@example.org>\r\n\r\n${body}\r\n`);
}

function certFile(dir: string): string {
  const cert = srv.ctx.tls as unknown as { certPem?: string };
  const f = join(dir, "certs.pem");
  writeFileSync(f, cert.certPem ?? "");
  return f;
}

beforeAll(async () => {
  srv = await startTestServer({ listeners: ["IMAP", "IMAPS"] });
  accountId = (await createUser(srv.store, USER, PASS)).id;
  tmp = mkdtempSync(join(tmpdir(), "pillarbox-deflate-"));
  await srv.store.createFolder(accountId, "Deflated");
  for (let i = 1; i <= 3; i++) await srv.store.deliver(message(`deflate ${i}`, `body ${i} `.repeat(200)), [{ accountId, folder: "Deflated" }]);
});

afterAll(async () => {
  await srv?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("mbsync (isync)", () => {
  for (const mode of ["IMAPS", "STARTTLS"] as const) {
    test(`syncs a mailbox over ${mode} with COMPRESS and exits 0 without "unexpected EOF"`, async () => {
      if (!hasCommand("mbsync")) throw new Error("mbsync is required (Debian package isync)");
      const home = join(tmp, `mbsync-${mode}`);
      const maildir = join(home, "mail");
      mkdirSync(maildir, { recursive: true });
      const rc = join(home, "mbsyncrc");
      writeFileSync(
        rc,
        [
          "IMAPAccount pb",
          "Host 127.0.0.1",
          `Port ${srv.port(mode === "IMAPS" ? "IMAPS" : "IMAP")}`,
          `User ${USER}`,
          `Pass ${PASS}`,
          `SSLType ${mode}`,
          `CertificateFile ${certFile(home)}`,
          "SystemCertificates no",
          "AuthMechs LOGIN",
          "",
          "IMAPStore far",
          "Account pb",
          "",
          "MaildirStore near",
          `Path ${maildir}/`,
          `Inbox ${maildir}/INBOX`,
          "",
          "Channel box",
          "Far :far:",
          "Near :near:",
          "Patterns Deflated",
          "Create Near",
          "Sync Pull",
          `SyncState ${home}/state/`,
          "",
        ].join("\n"),
      );
      mkdirSync(join(home, "state"), { recursive: true });
      // -D n: network debug output shows COMPRESS being negotiated
      const r = await run("mbsync", ["-c", rc, "-Dn", "box"], { timeoutMs: 60_000, env: { HOME: home } });
      const out = r.stdout + r.stderr;
      expect(out).toContain("COMPRESS DEFLATE");
      expect(out).not.toContain("unexpected EOF");
      expect(out).not.toMatch(/IMAP error/);
      expect(r.code).toBe(0);
      const files = readdirSync(join(maildir, "Deflated", "cur")).concat(readdirSync(join(maildir, "Deflated", "new")));
      expect(files.length).toBe(3);
    }, 90_000);
  }
});

describe("mutt with imap_deflate", () => {
  test("reads a message over IMAPS with COMPRESS and quits without the connection being dropped", async () => {
    if (!hasCommand("mutt") || !hasCommand("script")) throw new Error("mutt and script are required (Debian packages mutt, bsdutils)");
    const home = join(tmp, "mutthome");
    mkdirSync(home, { recursive: true });
    const rc = join(home, "muttrc");
    const port = srv.port("IMAPS");
    const debugFile = join(home, ".muttdebug0");
    writeFileSync(
      rc,
      [
        `set folder="imaps://${encodeURIComponent(USER)}@127.0.0.1:${port}/"`,
        `set spoolfile="+Deflated"`,
        `set imap_user="${USER}"`,
        `set imap_pass="${PASS}"`,
        `set certificate_file="${certFile(home)}"`,
        "set imap_deflate=yes",
        "set ssl_verify_host=no",
        "set ssl_verify_dates=no",
        "set quit=yes",
        "set move=no",
        "set mark_old=no",
        "set header_cache=''",
        "set message_cachedir=''",
        "set imap_check_subscribed=no",
        "set timeout=5",
        "set pager_stop=yes",
        `set record=""`,
        "",
      ].join("\n"),
    );
    const keys = "<display-message><exit><quit>";
    // -d 2: mutt writes its protocol log to $HOME/.muttdebug0
    const cmd = `mutt -d 2 -n -F ${rc} -e 'push "${keys}"'`;
    const r = await run("script", ["-qec", cmd, "/dev/null"], { timeoutMs: 60_000, env: { TERM: "xterm", HOME: home, COLUMNS: "100", LINES: "30" } });
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(0);
    const { readFileSync, existsSync } = await import("node:fs");
    const dbg = [debugFile].filter(existsSync).map((f) => readFileSync(f, "utf8")).join("\n");
    // mutt logs what it negotiated and what it read
    expect(dbg).toMatch(/COMPRESS DEFLATE/);
    expect(r.stdout + dbg).not.toMatch(/Connection to [^\n]* closed/);
    expect(dbg).toMatch(/BYE/);
    // reading the message set \Seen on it
    const f = await srv.store.getFolder(accountId, "Deflated");
    const msgs = await srv.store.listMessages(f!.id);
    expect(msgs.some((m) => m.flags.includes("\\Seen"))).toBe(true);
  }, 90_000);
});
