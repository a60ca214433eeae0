/**
 * Real IMAP clients against Pillarbox over real sockets:
 *  - python3 imaplib: STARTTLS on the IMAP port, LOGIN, APPEND, SELECT,
 *    FETCH, STORE, SEARCH, and IDLE (sent raw: 3.11's imaplib has no idle())
 *    waking up on a concurrent delivery;
 *  - curl imap:// and imaps://: LIST, fetch a message, append from a file;
 *  - mutt (in a pseudo-terminal via script(1)): reading messages and copying
 *    them to another folder.
 * Debian packages used: python3 (pyenv), curl, mutt, bsdutils (script).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { hasCommand, run, spawnBackground } from "../helpers/proc.ts";
import "../../protocols/imap/index.ts";

let srv: TestServer;
let tmp: string;
const USER = "dora@clients.test";
const PASS = "dora pass";
let accountId = 0;
const enc = new TextEncoder();

function message(subject: string, body: string): Uint8Array {
  return enc.encode(`From: Eve <eve@example.org>\r\nTo: Dora <${USER}>\r\nSubject: ${subject}\r\nDate: Tue, 2 Jan 2024 09:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, "")}@example.org>\r\n\r\n${body}\r\n`);
}

beforeAll(async () => {
  // plaintext LOGIN is refused before STARTTLS, as in production
  srv = await startTestServer({ listeners: ["IMAP", "IMAPS"], config: { imap: { allowPlaintextAuth: false } } });
  accountId = (await createUser(srv.store, USER, PASS)).id;
  tmp = mkdtempSync(join(tmpdir(), "pb-imap-clients-"));
});

afterAll(async () => {
  await srv?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe("python3 imaplib", () => {
  test("STARTTLS, LOGIN, APPEND, FETCH, STORE, SEARCH", async () => {
    const py = `
import imaplib, ssl, sys, time
port = int(sys.argv[1])
M = imaplib.IMAP4("127.0.0.1", port)
assert "LOGINDISABLED" in M.capabilities, M.capabilities
try:
    M.login(sys.argv[2], sys.argv[3])
    print("LOGIN-BEFORE-TLS-ACCEPTED")
except imaplib.IMAP4.error as e:
    print("plain login refused:", e)
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
M.starttls(ssl_context=ctx)
assert "AUTH=PLAIN" in M.capabilities, M.capabilities
typ, data = M.login(sys.argv[2], sys.argv[3]); print("login", typ)
msg = b"From: Pat <pat@example.org>\\r\\nTo: dora@clients.test\\r\\nSubject: from imaplib\\r\\n\\r\\nbody with needle42 inside\\r\\n"
typ, data = M.append("INBOX", "(\\\\Flagged)", imaplib.Time2Internaldate(time.time()), msg); print("append", typ, data[0].decode())
typ, data = M.select("INBOX"); print("select", typ, data[0].decode())
n = int(data[0])
typ, data = M.fetch(str(n), "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)] RFC822.SIZE)")
print("fetch", typ, data[0][0].decode(), repr(data[0][1].decode()))
typ, data = M.fetch(str(n), "(BODY[TEXT])"); print("text", repr(data[0][1].decode()))
typ, data = M.store(str(n), "+FLAGS", "(\\\\Answered)"); print("store", typ, data[0].decode())
typ, data = M.search(None, "BODY", "needle42"); print("search", typ, data[0].decode())
typ, data = M.search(None, "UNANSWERED"); print("unanswered", data[0].decode())
typ, data = M.uid("SEARCH", "SEEN"); print("uidseen", data[0].decode())
M.logout(); print("done")
`;
    const r = await run("python3", ["-c", py, String(srv.port("IMAP")), USER, PASS], { timeoutMs: 30_000 });
    expect(r.stderr).toBe("");
    const out = r.stdout;
    expect(out).toContain("plain login refused:");
    expect(out).not.toContain("LOGIN-BEFORE-TLS-ACCEPTED");
    expect(out).toContain("login OK");
    expect(out).toMatch(/append OK \[APPENDUID \d+ 1\] Append completed\./);
    expect(out).toContain("select OK 1");
    expect(out).toMatch(/fetch OK 1 \(FLAGS \(\\Recent \\Flagged\) BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{25\}/);
    expect(out).toContain("'Subject: from imaplib\\r\\n\\r\\n'");
    expect(out).toContain("text 'body with needle42 inside\\r\\n'");
    expect(out).toMatch(/store OK 1 \(FLAGS \(\\Recent \\Seen \\Answered \\Flagged\)\)/);
    expect(out).toContain("search OK 1");
    expect(out).toContain("unanswered \n");
    expect(out).toContain("uidseen 1");
    expect(out).toContain("done");
  });

  test("IDLE wakes up on a concurrent delivery", async () => {
    const py = `
import imaplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
M = imaplib.IMAP4_SSL("127.0.0.1", int(sys.argv[1]), ssl_context=ctx)
M.login(sys.argv[2], sys.argv[3])
typ, data = M.select("INBOX")
print("exists", data[0].decode(), flush=True)
tag = M._new_tag()
M.send(tag + b" IDLE\\r\\n")
line = M.readline()
assert line.startswith(b"+"), line
print("IDLING", flush=True)
M.sock.settimeout(10)
while True:
    line = M.readline()
    print("got", line.decode().strip(), flush=True)
    if line.endswith(b"EXISTS\\r\\n"):
        break
M.send(b"DONE\\r\\n")
while True:
    line = M.readline()
    if line.startswith(tag):
        print("end", line.decode().strip(), flush=True)
        break
M.logout()
`;
    const p = spawnBackground("python3", ["-c", py, String(srv.port("IMAPS")), USER, PASS]);
    try {
      const m = await p.waitFor(/exists (\d+)/);
      const before = Number(m[1]);
      await p.waitFor(/IDLING/);
      await srv.store.deliver(message("delivered during idle", "hi"), [{ accountId }]);
      const got = await p.waitFor(/got \* (\d+) EXISTS/, 5000);
      expect(Number(got[1])).toBe(before + 1);
      await p.waitFor(/end \S+ OK/);
    } finally {
      p.kill();
    }
  });
});

describe("curl", () => {
  test("imap:// and imaps://: LIST, fetch a message, APPEND from a file", async () => {
    if (!hasCommand("curl")) throw new Error("curl is required (Debian package curl)");
    const port = srv.port("IMAP");
    const sport = srv.port("IMAPS");
    const user = `${USER}:${PASS}`;
    await srv.store.createFolder(accountId, "CurlBox");
    await srv.store.deliver(message("for curl", "curl body line"), [{ accountId, folder: "CurlBox" }]);
    // LIST over STARTTLS (plaintext auth is refused without it)
    const list = await run("curl", ["-sS", "--ssl-reqd", "-k", "-u", user, `imap://127.0.0.1:${port}/`], { timeoutMs: 20_000 });
    expect(list.stderr).toBe("");
    expect(list.stdout).toContain('* LIST (\\HasNoChildren) "/" "CurlBox"');
    expect(list.stdout).toContain('* LIST (\\HasNoChildren) "/" "INBOX"');
    // fetch message 1 of CurlBox over IMAPS
    const fetch = await run("curl", ["-sS", "-k", "-u", user, `imaps://127.0.0.1:${sport}/CurlBox;UID=1`], { timeoutMs: 20_000 });
    expect(fetch.stderr).toBe("");
    expect(fetch.stdout).toContain("Subject: for curl");
    expect(fetch.stdout).toContain("curl body line");
    // append from a file (curl needs a file, not stdin)
    const file = join(tmp, "append.eml");
    writeFileSync(file, "From: curl@example.org\r\nSubject: appended by curl\r\n\r\nfrom a file\r\n");
    const up = await run("curl", ["-sS", "-k", "-u", user, "-T", file, `imaps://127.0.0.1:${sport}/CurlBox`], { timeoutMs: 20_000 });
    expect(up.stderr).toBe("");
    expect(up.code).toBe(0);
    const f = await srv.store.getFolder(accountId, "CurlBox");
    const msgs = await srv.store.listMessages(f!.id);
    expect(msgs.length).toBe(2);
    const raw = new TextDecoder().decode(await srv.store.readMessage(msgs[1].id));
    expect(raw).toContain("Subject: appended by curl");
    // search via curl's custom request
    const search = await run("curl", ["-sS", "-k", "-u", user, `imaps://127.0.0.1:${sport}/CurlBox`, "-X", "SEARCH SUBJECT appended"], { timeoutMs: 20_000 });
    expect(search.stdout.trim()).toBe("* SEARCH 2");
  });
});

describe("mutt", () => {
  test("reads messages and copies them to another folder", async () => {
    if (!hasCommand("mutt") || !hasCommand("script")) throw new Error("mutt and script are required (Debian packages mutt, bsdutils)");
    await srv.store.createFolder(accountId, "MuttIn");
    await srv.store.createFolder(accountId, "MuttArchive");
    await srv.store.deliver(message("mutt one", "first for mutt"), [{ accountId, folder: "MuttIn" }]);
    await srv.store.deliver(message("mutt two", "second for mutt"), [{ accountId, folder: "MuttIn" }]);
    const port = srv.port("IMAPS");
    const home = join(tmp, "mutthome");
    rmSync(home, { recursive: true, force: true });
    await run("mkdir", ["-p", home]);
    const rc = join(home, "muttrc");
    const cert = srv.ctx.tls as unknown as { certPem?: string };
    const certFile = join(home, "certs.pem");
    writeFileSync(certFile, cert.certPem ?? "");
    writeFileSync(
      rc,
      [
        `set folder="imaps://${encodeURIComponent(USER)}@127.0.0.1:${port}/"`,
        `set spoolfile="+MuttIn"`,
        `set imap_user="${USER}"`,
        `set imap_pass="${PASS}"`,
        `set certificate_file="${certFile}"`,
        "set ssl_verify_host=no",
        "set ssl_verify_dates=no",
        "set confirmappend=no",
        "set confirmcreate=no",
        "set quit=yes",
        "set move=no",
        "set mark_old=no",
        "set header_cache=''",
        "set message_cachedir=''",
        "set imap_check_subscribed=no",
        "set timeout=5",
        "set pager_stop=yes",
        `set record=""`,
        `set sort=date`,
        "",
      ].join("\n"),
    );
    // open the first message, leave the pager, tag all, copy them, quit
    const keys = "<display-message><exit><tag-pattern>~A<enter><tag-prefix><copy-message>=MuttArchive<enter><quit>";
    const cmd = `mutt -n -F ${rc} -e 'push "${keys}"'`;
    const r = await run("script", ["-qec", cmd, "/dev/null"], { timeoutMs: 60_000, env: { TERM: "xterm", HOME: home, COLUMNS: "100", LINES: "30" } });
    expect(r.timedOut).toBe(false);
    const arch = await srv.store.getFolder(accountId, "MuttArchive");
    const copied = await srv.store.listMessages(arch!.id);
    expect(copied.length).toBe(2);
    const subjects = await Promise.all(copied.map(async (m) => new TextDecoder().decode(await srv.store.readMessage(m.id)).match(/Subject: (.*)\r\n/)![1]));
    expect(subjects.sort()).toEqual(["mutt one", "mutt two"]);
    // reading the message in the pager set \Seen on it
    const inbox = await srv.store.getFolder(accountId, "MuttIn");
    const src = await srv.store.listMessages(inbox!.id);
    expect(src.some((m) => m.flags.includes("\\Seen"))).toBe(true);
  });
});
