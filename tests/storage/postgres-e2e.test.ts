/**
 * End to end on PostgreSQL: `pillarbox serve` as its own process with
 * PILLARBOX_DATABASE_URL=postgres://..., the admin CLI on the same database
 * while it runs, a message in by SMTP (python3 smtplib), out by IMAP
 * (imaplib) and POP3 (poplib), listed by the webmail API and fetched by an
 * ActiveSync Sync. Then a restart on the same database: everything is still
 * there. No SQLite file is created, and the URL's password never reaches the
 * logs.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { LISTENER_DEFAULTS } from "../../src/registry.ts";
import { appData, closeConnections, commandsOf, EasClient, kidText } from "../eas/client.ts";
import { dropPgSchema, freshPgUrl, pgAvailable } from "../helpers/engines.ts";
import { BUN, REPO_ROOT, run, runCli, spawnBackground, type Background } from "../helpers/proc.ts";
import { ApiClient } from "../webmail/helpers.ts";

setDefaultTimeout(120_000);

const USER = { email: "pat@pg.test", password: "pat-secret-pw-1" };
/** A password in the URL: the private test cluster trusts local connections and ignores it; the logs must never show it. */
const URL_PASSWORD = "url-pw-must-not-leak";

// Needs no PostgreSQL: nothing listens on port 1.
test("an unreachable PostgreSQL: serve exits 1 with one clear line, without the URL's password", async () => {
  const root = mkdtempSync(join(tmpdir(), "pb-pg-down-"));
  try {
    const e: Record<string, string | undefined> = {};
    for (const k of Object.keys(process.env)) if (k.startsWith("PILLARBOX_")) e[k] = undefined;
    for (const n of Object.keys(LISTENER_DEFAULTS)) e[`PILLARBOX_${n}_LISTEN`] = n === "SMTP" ? "127.0.0.1:0" : "off";
    const r = await runCli(["serve"], { env: { ...e, PILLARBOX_DATA_DIR: join(root, "data"), PILLARBOX_DATABASE_URL: `postgres://bob:${URL_PASSWORD}@127.0.0.1:1/mail` } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^pillarbox: error: cannot open PostgreSQL database: .*ECONNREFUSED/m);
    expect(r.stdout + r.stderr).not.toContain(URL_PASSWORD);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

if (pgAvailable()) {
  describe("the server on PostgreSQL", () => {
    let root: string;
    let dataDir: string;
    let url: string;
    let server: Background | null = null;
    let ports: Record<string, number> = {};
    const logs: string[] = [];

    function env(on: string[]): Record<string, string | undefined> {
      const e: Record<string, string | undefined> = {};
      for (const k of Object.keys(process.env)) if (k.startsWith("PILLARBOX_")) e[k] = undefined;
      for (const n of Object.keys(LISTENER_DEFAULTS)) e[`PILLARBOX_${n}_LISTEN`] = on.includes(n) ? "127.0.0.1:0" : "off";
      return {
        ...e,
        PILLARBOX_DATA_DIR: dataDir,
        PILLARBOX_DATABASE_URL: url,
        PILLARBOX_HOSTNAME: "mail.pg.test",
        PILLARBOX_SMTP_VERIFY_INBOUND: "false",
        PILLARBOX_IMAP_ALLOW_PLAINTEXT_AUTH: "true",
        PILLARBOX_POP3_ALLOW_PLAINTEXT_AUTH: "true",
        PILLARBOX_LOG_LEVEL: "info",
      };
    }

    async function serve(): Promise<void> {
      const p = spawnBackground(BUN, [resolve(REPO_ROOT, "src/main.ts"), "serve"], { env: env(["SMTP", "IMAP", "POP3", "HTTPS"]) });
      server = p;
      const m = await p.waitFor(/\{[^\n]*"msg":"pillarbox serving"[^\n]*\}/, 60_000);
      const listeners = JSON.parse(m[0]).listeners as Record<string, string>;
      ports = Object.fromEntries(Object.entries(listeners).map(([k, v]) => [k, Number(String(v).split(":").pop())]));
    }

    async function stop(): Promise<void> {
      if (!server) return;
      closeConnections();
      server.kill("SIGTERM");
      const { code } = await server.exited;
      logs.push(server.stdout() + server.stderr());
      server = null;
      expect(code).toBe(0);
    }

    async function py(script: string, args: string[]): Promise<string> {
      const r = await run("python3", ["-c", script, ...args], { timeoutMs: 60_000 });
      if (r.code !== 0) throw new Error(`python3 failed (${r.code}): ${r.stderr}`);
      return r.stdout.trim();
    }

    beforeAll(async () => {
      root = mkdtempSync(join(tmpdir(), "pb-pg-e2e-"));
      dataDir = join(root, "data");
      const u = new URL(await freshPgUrl("e2e"));
      u.password = URL_PASSWORD;
      url = u.toString();
      await serve();
      // the admin CLI on the same PostgreSQL database while the server runs
      const cli = env([]);
      expect((await runCli(["domain", "add", "pg.test"], { env: cli })).code).toBe(0);
      const add = await runCli(["user", "add", USER.email, "--password-stdin"], { env: cli, input: `${USER.password}\n` });
      expect(add.code).toBe(0);
    });

    afterAll(async () => {
      if (server) {
        closeConnections();
        server.kill("SIGKILL");
        await server.exited;
      }
      rmSync(root, { recursive: true, force: true });
      await dropPgSchema(url);
    });

    const SUBJECTS = ["Postgres hello", "Zweite Nachricht über PostgreSQL"];

    test("SMTP in: two messages accepted", async () => {
      const out = await py(
        `
import smtplib, sys
from email.message import EmailMessage
port, rcpt = int(sys.argv[1]), sys.argv[2]
for i, subject in enumerate(sys.argv[3:]):
    m = EmailMessage()
    m["From"] = "Sender <sender@remote.example>"
    m["To"] = rcpt
    m["Subject"] = subject
    m["Message-ID"] = "<pg-e2e-%d@remote.example>" % i
    m.set_content("Body number %d: the quick brown fox.\\n" % i)
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        s.ehlo("client.example")
        refused = s.send_message(m, from_addr="sender@remote.example", to_addrs=[rcpt])
        print("refused" if refused else "ok")
`,
        [String(ports.SMTP), USER.email, ...SUBJECTS],
      );
      expect(out.split("\n")).toEqual(["ok", "ok"]);
    });

    test("IMAP out: both messages, content, SEARCH through the trigram index", async () => {
      const out = await py(
        `
import imaplib, sys, json, email
from email.header import decode_header, make_header
port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
c = imaplib.IMAP4("127.0.0.1", port)
c.login(user, pw)
typ, data = c.select("INBOX")
n = int(data[0])
subjects, bodies = [], []
for i in range(1, n + 1):
    typ, d = c.fetch(str(i), "(BODY.PEEK[])")
    msg = email.message_from_bytes(d[0][1])
    subjects.append(str(make_header(decode_header(msg["Subject"]))))
    bodies.append(msg.get_payload(decode=True).decode().replace("\\r\\n", "\\n"))
typ, s1 = c.uid("SEARCH", "BODY", '"brown fox"')
typ, s2 = c.uid("SEARCH", "SUBJECT", "ZWEITE")
typ, s3 = c.uid("SEARCH", "BODY", "absent-word")
c.logout()
print(json.dumps({"n": n, "subjects": subjects, "bodies": bodies, "s1": s1[0].decode(), "s2": s2[0].decode(), "s3": s3[0].decode()}))
`,
        [String(ports.IMAP), USER.email, USER.password],
      );
      const r = JSON.parse(out);
      expect(r.n).toBe(2);
      expect(r.subjects).toEqual(SUBJECTS);
      expect(r.bodies).toEqual(["Body number 0: the quick brown fox.\n", "Body number 1: the quick brown fox.\n"]);
      expect(r.s1).toBe("1 2");
      expect(r.s2).toBe("2");
      expect(r.s3).toBe("");
    });

    test("POP3 out: STAT and RETR", async () => {
      const out = await py(
        `
import poplib, sys, json
port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
p = poplib.POP3("127.0.0.1", port, timeout=30)
p.user(user)
p.pass_(pw)
count, size = p.stat()
resp, lines, octets = p.retr(1)
p.quit()
print(json.dumps({"count": count, "size": size, "subject": [l.decode() for l in lines if l.startswith(b"Subject:")]}))
`,
        [String(ports.POP3), USER.email, USER.password],
      );
      const r = JSON.parse(out);
      expect(r.count).toBe(2);
      expect(r.size).toBeGreaterThan(200);
      expect(r.subject).toEqual([`Subject: ${SUBJECTS[0]}`]);
    });

    test("webmail API: the inbox lists both messages, newest first", async () => {
      const base = `https://127.0.0.1:${ports.HTTPS}`;
      const c = await ApiClient.signIn(base, USER);
      const folders = (await c.ok<{ folders: { id: number; name: string; total: number }[] }>("GET", "/api/folders")).folders;
      const inbox = folders.find((f) => f.name === "INBOX")!;
      expect(inbox.total).toBe(2);
      const list = await c.ok<{ total: number; items: { subject: string }[] }>("GET", `/api/folders/${inbox.id}/messages`);
      expect(list.total).toBe(2);
      expect(list.items.map((i) => i.subject).sort()).toEqual([...SUBJECTS].sort());
      const threads = await c.ok<{ total: number; items: { subject: string }[] }>("GET", `/api/folders/${inbox.id}/messages?threads=1&sort=from`);
      expect(threads.items.length).toBe(2);
    });

    test("ActiveSync: FolderSync and Sync fetch both messages", async () => {
      const c = new EasClient({ host: "127.0.0.1", port: ports.HTTPS, user: USER.email, pass: USER.password, deviceId: "PGE2E1", version: "14.1" });
      await c.provision();
      await c.folderSync();
      const inbox = c.folderByType(2);
      await c.sync(inbox); // SyncKey 0 -> 1
      const s = await c.sync(inbox);
      expect(s.status).toBe("1");
      const subjects = commandsOf(s.coll).adds.map((a) => kidText(appData(a), "Email:Subject"));
      expect(subjects.sort()).toEqual([...SUBJECTS].sort());
    });

    test("restart on the same database: the mail and the device state are still there", async () => {
      await stop();
      await serve();
      const out = await py(
        `
import imaplib, sys
c = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
c.login(sys.argv[2], sys.argv[3])
typ, data = c.select("INBOX", readonly=True)
print(int(data[0]))
c.logout()
`,
        [String(ports.IMAP), USER.email, USER.password],
      );
      expect(out).toBe("2");
      const check = await runCli(["check"], { env: env([]) });
      expect(check.stdout + check.stderr).toMatch(/database integrity_check: ok/);
      await stop();
      // nothing went to a SQLite file, and the URL's password was never printed
      expect(existsSync(join(dataDir, "pillarbox.db"))).toBe(false);
      expect(readdirSync(dataDir).filter((f) => f.endsWith(".db"))).toEqual([]);
      const all = logs.join("\n") + check.stdout + check.stderr;
      expect(all).toContain("pillarbox serving");
      expect(all).not.toContain(URL_PASSWORD);
    });
  });
}
