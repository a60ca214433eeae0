/**
 * Found item 4: the log lines an admin (and fail2ban) needs, each produced by a
 * real client: a relay attempt (swaks, 554), an unknown recipient (python
 * smtplib, 550), a full mailbox (452), an accepted message with its recipients,
 * Message-ID, size and SPF/DKIM/DMARC verdicts, IMAP/POP3/ActiveSync logins
 * that succeed and fail (imaplib, poplib, curl), a submission and its outbound
 * attempts (delivered to a second server found by MX through dnsmasq; deferred
 * with the reason for an MX host without an address). The same lines become
 * entries of the admin's activity log, which, with its hourly counters,
 * survives a restart (and a crash, for the entries already written).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, type RunningServer } from "../../src/server.ts";
import { createLogger } from "../../src/log.ts";
import { activityPaths, createActivity } from "../../src/activity.ts";
import { entryFromLine } from "../../src/activity-log.ts";
import type { ActivityEntry } from "../../src/ops/types.ts";
import { createUser, startTestServer, testConfig, type TestServer } from "../helpers/server.ts";
import { startDnsmasq, type Dnsmasq } from "../smtp/helpers.ts";
import { REPO_ROOT, run } from "../helpers/proc.ts";

setDefaultTimeout(60_000);
const PASS = "Log-lines-test-passphrase-3";
const root = mkdtempSync(join(tmpdir(), "pb-log-lines-"));
const dataDir = join(root, "data");
let dns: Dnsmasq;
let remote: TestServer;
let server: RunningServer;
const lines: Record<string, unknown>[] = [];
/** The same lines as written (what journald and fail2ban see). */
const rawLines: string[] = [];

async function start(): Promise<RunningServer> {
  const config = testConfig(dataDir, ["SMTP", "SUBMISSION", "IMAP", "POP3", "HTTPS"], {
    log: { level: "info" },
    queue: { dnsServers: [dns.server], remotePort: remote.port("SMTP") },
    smtp: { verifyInbound: true },
  });
  const log = createLogger("info", {}, (l) => {
    rawLines.push(l);
    lines.push(JSON.parse(l) as Record<string, unknown>);
  });
  return startServer(config, { log, tlsWatchIntervalMs: 0, shutdownTimeoutMs: 3000 });
}
const port = (name: "SMTP" | "SUBMISSION" | "IMAP" | "POP3" | "HTTPS") => server.addresses[name]!.port;

beforeAll(async () => {
  dns = await startDnsmasq({
    mx: [
      ["remote.test", "mx.remote.test", 10],
      ["gone.test", "mx.gone.test", 10], // an MX host with no address: a temporary failure
    ],
    hosts: [["mx.remote.test", "127.0.0.2"]],
    txt: [
      ["good.test", "v=spf1 ip4:127.0.0.0/8 -all"],
      ["evil.test", "v=spf1 -all"],
      ["_dmarc.evil.test", "v=DMARC1; p=reject"],
    ],
  });
  remote = await startTestServer({ listeners: ["SMTP"], config: { hostname: "mx.remote.test", listeners: { SMTP: { host: "127.0.0.2", port: 0 } } } });
  await createUser(remote.store, "rcpt@remote.test", PASS);
  server = await start();
  for (const u of ["alice", "bob"]) await createUser(server.store, `${u}@example.test`, PASS);
  await createUser(server.store, "tight@example.test", PASS, { quotaBytes: 100 });
});

afterAll(async () => {
  await server?.close();
  await remote?.close();
  await dns?.stop();
  rmSync(root, { recursive: true, force: true });
});

/** The first line with this message matching every given field (waits: some come from background work). */
async function line(msg: string, match: Record<string, unknown>, timeoutMs = 20_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = lines.find((l) => l.msg === msg && Object.entries(match).every(([k, v]) => (v instanceof RegExp ? v.test(String(l[k])) : l[k] === v)));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no "${msg}" line with ${JSON.stringify(match)}; saw: ${lines.filter((l) => l.msg === msg).map((l) => JSON.stringify(l)).join("\n")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function py(script: string) {
  return run("python3", ["-c", script], { timeoutMs: 30_000 });
}

describe("SMTP outcomes", () => {
  test("a relay attempt (swaks): 554, logged with code, reason, sender, recipient and IP", async () => {
    const r = await run("swaks", ["--server", "127.0.0.1", "--port", String(port("SMTP")), "--from", "spammer@evil.test", "--to", "victim@elsewhere.test", "--quit-after", "RCPT"], { timeoutMs: 30_000 });
    expect(r.stdout).toContain("554 5.7.1 Relay access denied");
    const l = await line("smtp rejected", { rcpt: "victim@elsewhere.test" });
    expect(l).toMatchObject({ kind: "rejection", protocol: "smtp", stage: "rcpt", result: "rejected", code: 554, status: "5.7.1", reason: "Relay access denied", from: "spammer@evil.test", ip: "127.0.0.1", level: "warn" });
  });

  test("an unknown recipient (smtplib): 550 user unknown", async () => {
    const r = await py(`
import smtplib
s = smtplib.SMTP("127.0.0.1", ${port("SMTP")})
s.ehlo("client.test")
s.mail("someone@good.test")
print(s.rcpt("nobody@example.test"))
s.quit()`);
    expect(r.stdout).toContain("550");
    const l = await line("smtp rejected", { rcpt: "nobody@example.test" });
    expect(l).toMatchObject({ kind: "rejection", code: 550, status: "5.1.1", result: "rejected", from: "someone@good.test" });
    expect(String(l.reason)).toContain("user unknown");
  });

  test("a full mailbox: 452 at RCPT, logged as deferred with the reason", async () => {
    const r = await py(`
import smtplib
s = smtplib.SMTP("127.0.0.1", ${port("SMTP")})
s.ehlo("client.test")
s.mail("someone@good.test", ["SIZE=5000"])
print(s.rcpt("tight@example.test"))
s.quit()`);
    expect(r.stdout).toContain("452");
    const l = await line("smtp rejected", { rcpt: "tight@example.test" });
    expect(l).toMatchObject({ kind: "rejection", code: 452, status: "4.2.2", result: "deferred", reason: "Mailbox full: tight@example.test" });
  });

  test("an accepted message: recipients, Message-ID, size, SPF/DKIM/DMARC verdicts", async () => {
    const msg = "From: Someone <someone@good.test>\r\nTo: alice@example.test, bob@example.test\r\nSubject: logged\r\nMessage-ID: <logged-1@good.test>\r\n\r\nhello\r\n";
    const r = await py(`
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", ${port("SMTP")})
s.ehlo("client.good.test")
s.sendmail("someone@good.test", ["alice@example.test", "bob@example.test"], ${JSON.stringify(msg)})
s.quit()
print("sent")`);
    expect(r.stdout).toContain("sent");
    const l = await line("smtp transaction", { messageId: "<logged-1@good.test>" });
    expect(l).toMatchObject({ kind: "delivery", protocol: "smtp", result: "accepted", code: 250, from: "someone@good.test", rcpts: "alice@example.test,bob@example.test", rcptCount: 2, local: 2, spf: "pass", dkim: "none", ip: "127.0.0.1" });
    expect(l.size).toBe(Buffer.byteLength(msg));
    expect(typeof l.dmarc).toBe("string");
  });
});

describe("a message refused after DATA", () => {
  test("DMARC p=reject (smtplib): one transaction line, kind rejection, with the verdicts that decided it", async () => {
    const msg = "From: CEO <ceo@evil.test>\r\nTo: alice@example.test\r\nSubject: wire money\r\nMessage-ID: <forged-1@evil.test>\r\n\r\npay\r\n";
    const r = await py(`
import smtplib
s = smtplib.SMTP("127.0.0.1", ${port("SMTP")})
s.ehlo("client.test")
try:
    s.sendmail("ceo@evil.test", ["alice@example.test"], ${JSON.stringify(msg)})
except smtplib.SMTPDataError as e:
    print(e.smtp_code)
s.quit()`);
    expect(r.stdout).toContain("550");
    const l = await line("smtp transaction", { messageId: "<forged-1@evil.test>" });
    expect(l).toMatchObject({ kind: "rejection", result: "rejected", code: 550, status: "5.7.1", spf: "fail", dmarc: "fail", from: "ceo@evil.test", rcpts: "alice@example.test", level: "warn" });
    expect(String(l.reason)).toContain("DMARC");
  });
});

describe("logins", () => {
  test("IMAP (imaplib): success and failure, with protocol, account and IP", async () => {
    const r = await py(`
import imaplib
m = imaplib.IMAP4("127.0.0.1", ${port("IMAP")})
try:
    m.login("alice@example.test", "wrong password")
except imaplib.IMAP4.error as e:
    print("refused")
m.login("alice@example.test", ${JSON.stringify(PASS)})
print("in")
m.logout()`);
    expect(r.stdout).toContain("refused\nin");
    expect(await line("login failed", { protocol: "imap", account: "alice@example.test" })).toMatchObject({ kind: "login-failed", ip: "127.0.0.1", level: "warn" });
    const ok = await line("login", { protocol: "imap", account: "alice@example.test" });
    expect(ok).toMatchObject({ kind: "login", ip: "127.0.0.1", level: "info" });
    expect(ok.credential).toBe("main"); // not an app password
  });

  test("POP3 (poplib): success and failure", async () => {
    const r = await py(`
import poplib
p = poplib.POP3("127.0.0.1", ${port("POP3")})
p.user("bob@example.test")
try:
    p.pass_("nope")
except poplib.error_proto:
    print("refused")
p = poplib.POP3("127.0.0.1", ${port("POP3")})
p.user("bob@example.test")
p.pass_(${JSON.stringify(PASS)})
print("in")
p.quit()`);
    expect(r.stdout).toContain("refused\nin");
    expect(await line("login failed", { protocol: "pop3", account: "bob@example.test" })).toMatchObject({ kind: "login-failed" });
    expect(await line("login", { protocol: "pop3", account: "bob@example.test" })).toMatchObject({ kind: "login" });
  });

  test("ActiveSync (curl OPTIONS with Basic auth): success and failure", async () => {
    const url = `https://127.0.0.1:${port("HTTPS")}/Microsoft-Server-ActiveSync`;
    const bad = await run("curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", "-X", "OPTIONS", "-u", "bob@example.test:wrong", url]);
    expect(bad.stdout).toBe("401");
    const good = await run("curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", "-X", "OPTIONS", "-u", `bob@example.test:${PASS}`, url]);
    expect(good.stdout).toBe("200");
    expect(await line("login failed", { protocol: "eas", account: "bob@example.test" })).toMatchObject({ kind: "login-failed", ip: "127.0.0.1" });
    expect(await line("login", { protocol: "eas", account: "bob@example.test" })).toMatchObject({ kind: "login" });
  });
});

describe("submission and outbound attempts", () => {
  test("a submitted message (smtplib, STARTTLS, AUTH) and one outbound line per recipient: delivered, deferred with the reason", async () => {
    const msg = "From: Alice <alice@example.test>\r\nTo: rcpt@remote.test, someone@gone.test\r\nSubject: out\r\nMessage-ID: <out-1@example.test>\r\n\r\nhi\r\n";
    const r = await py(`
import smtplib, ssl
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP("127.0.0.1", ${port("SUBMISSION")})
s.starttls(context=ctx)
s.login("alice@example.test", ${JSON.stringify(PASS)})
s.sendmail("alice@example.test", ["rcpt@remote.test", "someone@gone.test"], ${JSON.stringify(msg)})
s.quit()
print("sent")`);
    expect(r.stdout).toContain("sent");
    expect(await line("smtp transaction", { messageId: "<out-1@example.test>" })).toMatchObject({ kind: "delivery", protocol: "submission", result: "accepted", account: "alice@example.test", rcpts: "rcpt@remote.test,someone@gone.test", rcptCount: 2, local: 0, tls: true });
    const ok = await line("outbound attempt", { rcpt: "rcpt@remote.test" });
    expect(ok).toMatchObject({ kind: "outbound", result: "delivered", code: 250, mx: "mx.remote.test", ip: "127.0.0.2", from: "alice@example.test", level: "info" });
    const deferred = await line("outbound attempt", { rcpt: "someone@gone.test" });
    expect(deferred).toMatchObject({ kind: "outbound", result: "deferred", domain: "gone.test", level: "warn" });
    expect(String(deferred.reason)).toContain("mx.gone.test");
    expect(typeof deferred.id).toBe("number");
  });
});

describe("docs/OPERATIONS.md fail2ban filters", () => {
  test("each documented failregex matches the refusals above (with their IP) and no success line", async () => {
    const doc = readFileSync(join(REPO_ROOT, "docs/OPERATIONS.md"), "utf8");
    const regexes = [...doc.matchAll(/^ {4}failregex = (.+)$/gm)].map((m) => m[1]!);
    expect(regexes.length).toBe(2);
    // fail2ban's <HOST> is an address group; Python's re is what fail2ban runs.
    const script = `
import json, re, sys
data = json.load(sys.stdin)
out = []
for rx in data["regexes"]:
    r = re.compile(rx.replace("<HOST>", r"(?P<host>[0-9A-Fa-f.:]+)"))
    out.append([ (m.group("host") if m else None) for m in (r.search(l) for l in data["lines"]) ])
print(json.dumps(out))`;
    const r = await run("python3", ["-c", script], { input: JSON.stringify({ regexes, lines: rawLines }), timeoutMs: 30_000 });
    expect(r.stderr).toBe("");
    const hits = JSON.parse(r.stdout) as (string | null)[][];
    const matched = (i: number) => rawLines.map((l, j) => ({ l: JSON.parse(l) as Record<string, unknown>, host: hits[i]![j] })).filter((x) => x.host !== null);
    const logins = matched(0);
    expect(logins.length).toBeGreaterThanOrEqual(3); // imap, pop3, eas refusals
    for (const { l, host } of logins) {
      expect(l.kind).toBe("login-failed");
      expect(host).toBe("127.0.0.1");
    }
    const smtp = matched(1);
    expect(smtp.map(({ l }) => l.code).sort()).toEqual([550, 554]);
    for (const { host } of smtp) expect(host).toBe("127.0.0.1");
  });
});

describe("the activity log", () => {
  test("the same lines are entries: filters by kind and text, newest first", () => {
    const rejections = server.ctx.activity.recent({ kinds: ["rejection"] });
    expect(rejections.map((e) => e.fields.rcpt)).toEqual(expect.arrayContaining(["victim@elsewhere.test", "nobody@example.test", "tight@example.test"]));
    const relay = rejections.find((e) => e.fields.rcpt === "victim@elsewhere.test")!;
    expect(relay).toMatchObject({ kind: "rejection", level: "warn", msg: "smtp rejected", protocol: "smtp", ip: "127.0.0.1" });
    expect(relay.fields.code).toBe(554);
    for (let i = 1; i < rejections.length; i++) expect(rejections[i - 1]!.ts).toBeGreaterThanOrEqual(rejections[i]!.ts);
    expect(server.ctx.activity.recent({ kinds: ["login-failed"], text: "pop3" }).every((e) => e.protocol === "pop3")).toBe(true);
    expect(server.ctx.activity.recent({ kinds: ["outbound"] }).length).toBeGreaterThanOrEqual(2);
  });

  let before: Awaited<ReturnType<RunningServer["ctx"]["activity"]["hourly"]>>;
  test("hourly counters: messages in and out, rejections, failed logins", async () => {
    before = await server.ctx.activity.hourly(24);
    expect(before.length).toBe(24);
    const sum = (k: "messagesIn" | "messagesOut" | "rejected" | "loginsFailed") => before.reduce((a, h) => a + h[k], 0);
    expect(sum("messagesIn")).toBe(1); // the MX message; the submission counts when it leaves
    expect(sum("messagesOut")).toBe(1); // rcpt@remote.test delivered
    expect(sum("rejected")).toBe(4); // relay, unknown user, full mailbox, DMARC
    expect(sum("loginsFailed")).toBeGreaterThanOrEqual(3);
  });

  test("after a restart: the entries and the counters are still there", async () => {
    const recentBefore = server.ctx.activity.recent({ limit: 1000 }).filter((e) => e.kind !== "system");
    await server.close();
    const closedAt = Date.now();
    const { entries, counts } = activityPaths(join(dataDir, "activity"));
    expect(existsSync(entries) && existsSync(counts)).toBe(true);
    server = await start();
    // What the restarted server adds itself (its start line, a queue retry) is not part of the comparison.
    const after = server.ctx.activity.recent({ limit: 1000 }).filter((e) => e.kind !== "system" && e.ts <= closedAt);
    expect(after.map((e) => e.ts)).toEqual(recentBefore.map((e) => e.ts));
    expect(after.find((e) => e.fields.rcpt === "victim@elsewhere.test")?.fields.code).toBe(554);
    const hours = await server.ctx.activity.hourly(24);
    expect(hours.map(({ messagesIn, messagesOut, rejected, loginsFailed }) => ({ messagesIn, messagesOut, rejected, loginsFailed }))).toEqual(
      before.map(({ messagesIn, messagesOut, rejected, loginsFailed }) => ({ messagesIn, messagesOut, rejected, loginsFailed })),
    );
  });
});

describe("activity store (src/activity.ts)", () => {
  const entry = (i: number, kind: ActivityEntry["kind"] = "rejection"): ActivityEntry => ({ ts: 1_700_000_000_000 + i, kind, level: "warn", msg: "smtp rejected", fields: { n: i } });

  test("a crash after the entries were written: counters rebuilt from them, nothing counted twice", async () => {
    const dir = join(root, "crash");
    const a = createActivity({ dir, now: () => 1_700_000_000_000 });
    for (let i = 0; i < 5; i++) a.record(entry(i));
    a.flush(); // entries and counters on disk: 5
    for (let i = 5; i < 8; i++) a.record(entry(i));
    // No close(): the process dies once the entries (not the counters) are written.
    const file = activityPaths(dir).entries;
    const deadline = Date.now() + 10_000;
    while (readFileSync(file, "utf8").trim().split("\n").length < 8 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const b = createActivity({ dir, now: () => 1_700_000_000_000 });
    expect(b.recent({ limit: 100 }).length).toBe(8);
    const h = await b.hourly(1);
    expect(h[0]!.rejected).toBe(8);
    a.close();
    b.close();
  });

  test("the file is capped: rotated once, the ring keeps the newest", () => {
    const dir = join(root, "rotate");
    const a = createActivity({ dir, size: 50, fileBytes: 6000, now: () => 1_700_000_000_000 });
    for (let i = 0; i < 200; i++) {
      a.record(entry(i, "login-failed"));
      if (i % 10 === 9) a.flush();
    }
    a.close();
    const p = activityPaths(dir);
    expect(readFileSync(p.entries).length).toBeLessThanOrEqual(6000);
    expect(existsSync(p.previous)).toBe(true);
    const b = createActivity({ dir, size: 50 });
    const recent = b.recent({ limit: 1000 });
    expect(recent.length).toBe(50);
    expect(recent[0]!.fields.n).toBe(199);
    b.close();
  });

  test("a flood of successful logins does not push rejections out (a lane each), and both come back after a restart", () => {
    const dir = join(root, "lanes");
    const a = createActivity({ dir, size: 10 });
    a.record(entry(0));
    for (let i = 1; i <= 100; i++) a.record({ ...entry(i, "login"), level: "info", msg: "login" });
    a.record(entry(101, "admin"));
    expect(a.recent({ kinds: ["rejection"] }).map((e) => e.fields.n)).toEqual([0]);
    expect(a.recent({ limit: 3 }).map((e) => e.fields.n)).toEqual([101, 100, 99]);
    expect(a.recent({ kinds: ["login"], limit: 100 }).length).toBe(10);
    a.close();
    const p = activityPaths(dir);
    expect(readFileSync(p.logins, "utf8").trim().split("\n").length).toBe(100);
    const b = createActivity({ dir, size: 10 });
    expect(b.recent({ limit: 100 }).map((e) => e.fields.n)).toEqual([101, 100, 99, 98, 97, 96, 95, 94, 93, 92, 91, 0]);
    b.close();
  });

  test("a flood between two writes: the files stay within their cap, the newest entries are kept", () => {
    const dir = join(root, "flood");
    const a = createActivity({ dir, size: 5000, fileBytes: 5000 });
    for (let i = 0; i < 5000; i++) a.record(entry(i));
    a.close(); // one write of everything pending
    const p = activityPaths(dir);
    expect(readFileSync(p.entries).length).toBeLessThanOrEqual(5000);
    expect(readFileSync(p.previous).length).toBeLessThanOrEqual(5000);
    const b = createActivity({ dir, size: 5000 });
    const kept = b.recent({ limit: 1000 }).map((e) => e.fields.n as number);
    expect(kept[0]).toBe(4999);
    for (let i = 1; i < kept.length; i++) expect(kept[i]).toBe(kept[i - 1]! - 1); // contiguous: nothing in the middle lost
    b.close();
  });

  test("malformed lines in the file are skipped, not trusted", () => {
    const dir = join(root, "garbage");
    const a = createActivity({ dir });
    a.record(entry(1));
    a.close();
    const p = activityPaths(dir);
    require("node:fs").appendFileSync(p.entries, 'not json\n{"ts":"x","kind":"rejection"}\n{"ts":1,"kind":"root","level":"warn","msg":"m","fields":{}}\n' + "x".repeat(20_000) + "\n");
    require("node:fs").writeFileSync(p.counts, "{broken");
    const errors: string[] = [];
    const b = createActivity({ dir, onError: (m) => errors.push(m) });
    expect(b.recent().length).toBe(1);
    expect(errors.join()).toContain("unreadable");
    b.close();
  });

  test("entryFromLine: only known kinds; secrets redacted; objects left on the JSON line", () => {
    expect(entryFromLine("info", "x", { kind: "nonsense" })).toBeNull();
    expect(entryFromLine("info", "x", { msg: "no kind" })).toBeNull();
    expect(entryFromLine("info", "app password created", { kind: "security", account: "a@b.test", device: "phone" })).toMatchObject({ kind: "security", account: "a@b.test", fields: { device: "phone" } });
    const e = entryFromLine("debug", "login", { kind: "login", proto: "imap", user: "a@b.test", ip: "1.2.3.4", password: "hunter2", nested: { a: 1 }, n: 1 })!;
    expect(e).toMatchObject({ kind: "login", level: "info", protocol: "imap", account: "a@b.test", ip: "1.2.3.4" });
    expect(e.fields).toEqual({ password: "[redacted]", n: 1 });
  });
});
