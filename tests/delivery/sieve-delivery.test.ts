/**
 * Sieve in delivery end to end (src/delivery/sieve-filter.ts): messages sent
 * with Python's smtplib to the test server's port 25, scripts stored through
 * the SieveStore (as ManageSieve and the CLI do), the result read from the
 * store and over IMAP (Python's imaplib), and what leaves through the queue
 * captured by a fake remote MX (tests/smtp/sink.ts, found through dnsmasq):
 * fileinto :create with flags, redirect with an SRS envelope sender and the
 * bounce to it forwarded back (a forged one refused), the same message never
 * redirected twice, reject at DATA (550) for a single recipient and an MDN for
 * a mixed delivery, vacation once per period and never to lists, duplicate,
 * editheader, a failing script (INBOX + one report), a runaway script bounded.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { folderMessages, run, startDnsmasq, text, waitFor, type Dnsmasq } from "../smtp/helpers.ts";
import { startSink, type Sink } from "../smtp/sink.ts";

setDefaultTimeout(60_000);

const PASS = "pw-sieve-delivery-1";
const LIMITS = { maxScripts: 10, maxBytes: 256 * 1024 };
let srv: TestServer;
let sink: Sink;
let dns: Dnsmasq;
let dir: string;
let n = 0;

function message(o: { from: string; to: string; subject: string; id?: string; extra?: string; body?: string }): { raw: string; id: string } {
  const id = o.id ?? `<sieve-${++n}-${process.pid}@sender.test>`;
  return {
    id,
    raw: `From: <${o.from}>\r\nTo: <${o.to}>\r\nSubject: ${o.subject}\r\nDate: Mon, 07 Dec 2026 06:00:00 +0000\r\nMessage-ID: ${id}\r\n${o.extra ?? ""}\r\n${o.body ?? "Hello from the Sieve test."}\r\n`,
  };
}

async function smtplib(from: string, to: string[], raw: string, auth?: { user: string; password: string }): Promise<{ code: number; refused: Record<string, number>; text?: string }> {
  const file = join(dir, `msg-${++n}.eml`);
  writeFileSync(file, raw);
  const port = auth ? srv.port("SUBMISSION") : srv.port("SMTP");
  const r = await run("python3", [join(import.meta.dir, "smtp_send.py"), String(port), from, to.join(","), file, ...(auth ? [auth.user, auth.password] : [])]);
  if (r.code !== 0) throw new Error(`smtplib failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

async function activate(email: string, script: string): Promise<number> {
  const a = (await srv.store.getAccount(email))!;
  await srv.ctx.storage.sieve.putScript(a.id, "main", script, LIMITS);
  await srv.ctx.storage.sieve.setActive(a.id, "main");
  return a.id;
}

const withId = (msgs: Uint8Array[], id: string) => msgs.filter((m) => text(m).includes(`Message-ID: ${id}`));
const sentTo = (rcpt: string) => sink.transactions.filter((t) => t.rcpts.some((r) => r.toLowerCase().includes(`<${rcpt}>`)));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pb-sieve-delivery-"));
  sink = await startSink();
  dns = await startDnsmasq({
    mx: [
      ["remote.test", "mx.remote.test", 10],
      ["sender.test", "mx.remote.test", 10],
    ],
    hosts: [["mx.remote.test", "127.0.0.1"]],
  });
  srv = await startTestServer({ listeners: ["SMTP", "SUBMISSION", "IMAP"], config: { queue: { dnsServers: [dns.server], remotePort: sink.port } } });
  for (const u of ["alice", "bob", "carol", "dora", "erin", "fred", "gina", "hank", "ivan", "jane", "kim", "liam", "mona", "nina", "olga", "pete", "quin"]) await createUser(srv.store, `${u}@example.test`, PASS);
});

afterAll(async () => {
  await srv?.close();
  await sink?.close();
  await dns?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("sieve in delivery", () => {
  test("fileinto :create with :flags files into a new folder, seen over IMAP with its flag", async () => {
    await activate(
      "alice@example.test",
      `require ["fileinto", "mailbox", "imap4flags"];\nif header :contains "subject" "invoice" { fileinto :create :flags "\\\\Flagged" "Accounts/Invoices"; }\n`,
    );
    const m = message({ from: "zed@sender.test", to: "alice@example.test", subject: "Your invoice 42" });
    expect((await smtplib("zed@sender.test", ["alice@example.test"], m.raw)).code).toBe(250);
    const other = message({ from: "zed@sender.test", to: "alice@example.test", subject: "lunch?" });
    expect((await smtplib("zed@sender.test", ["alice@example.test"], other.raw)).code).toBe(250);
    expect(withId(await folderMessages(srv.store, "alice@example.test", "Accounts/Invoices"), m.id).length).toBe(1);
    expect(withId(await folderMessages(srv.store, "alice@example.test", "INBOX"), m.id).length).toBe(0);
    expect(withId(await folderMessages(srv.store, "alice@example.test", "INBOX"), other.id).length).toBe(1);
    const py = `
import imaplib, sys
c = imaplib.IMAP4("127.0.0.1", ${srv.port("IMAP")})
c.login("alice@example.test", "${PASS}")
typ, data = c.select('"Accounts/Invoices"')
typ, data = c.fetch("1", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
print(data)
c.logout()
`;
    const r = await run("python3", ["-c", py]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("\\\\Flagged");
    expect(r.stdout).toContain("Your invoice 42");
  });

  test("redirect: an SRS envelope sender, the bounce to it forwarded to the original sender, a forged one refused, never twice", async () => {
    await activate("bob@example.test", `redirect "bob@remote.test";\n`);
    const m = message({ from: "zed@sender.test", to: "bob@example.test", subject: "forward me" });
    expect((await smtplib("zed@sender.test", ["bob@example.test"], m.raw)).code).toBe(250);
    const t = await waitFor(() => sentTo("bob@remote.test").find((x) => x.wire.toString("latin1").includes(m.id)));
    const srs = /MAIL FROM:<([^>]*)>/i.exec(t.mailFrom)![1]!;
    expect(srs).toMatch(/^SRS0=[a-z2-7]{6}=[a-z2-7]{2}=sender\.test=zed@example\.test$/);
    expect(withId(await folderMessages(srv.store, "bob@example.test"), m.id).length).toBe(0); // redirect cancels the keep
    // the same message again (a loop back to us, or a resend): not redirected a second time
    expect((await smtplib("zed@sender.test", ["bob@example.test"], m.raw)).code).toBe(250);
    const marker = message({ from: "zed@sender.test", to: "bob@example.test", subject: "after" });
    expect((await smtplib("zed@sender.test", ["bob@example.test"], marker.raw)).code).toBe(250);
    await waitFor(() => sentTo("bob@remote.test").find((x) => x.wire.toString("latin1").includes(marker.id)));
    expect(sentTo("bob@remote.test").filter((x) => x.wire.toString("latin1").includes(m.id)).length).toBe(1);
    // the remote MX bounces: a DSN to the SRS address reaches the original sender
    const bounce = message({ from: "MAILER-DAEMON@remote.test", to: srs, subject: "Undelivered Mail Returned to Sender" });
    expect((await smtplib("", [srs], bounce.raw)).code).toBe(250);
    await waitFor(() => sentTo("zed@sender.test").find((x) => x.wire.toString("latin1").includes(bounce.id)));
    // a forged hash: refused at RCPT
    const forged = srs.replace(/^SRS0=([a-z2-7]{6})/, (_, h: string) => "SRS0=" + (h[0] === "a" ? "b" : "a") + h.slice(1));
    const r = await smtplib("", [forged], bounce.raw);
    expect(r.code).toBe(550);
    const key = statSync(join(srv.dataDir, "srs.key"));
    expect(key.mode & 0o777).toBe(0o600);
  });

  test("redirect to the account's own address is refused and the message kept", async () => {
    await activate("ivan@example.test", `redirect "ivan@example.test";\n`);
    const m = message({ from: "zed@sender.test", to: "ivan@example.test", subject: "self" });
    expect((await smtplib("zed@sender.test", ["ivan@example.test"], m.raw)).code).toBe(250);
    expect(withId(await folderMessages(srv.store, "ivan@example.test"), m.id).length).toBe(1);
  });

  test("reject: 550 at DATA for a single recipient, nothing stored; an MDN to the sender for a mixed delivery", async () => {
    await activate("carol@example.test", `require "reject";\nreject "I do not take mail from you.";\n`);
    const m = message({ from: "zed@sender.test", to: "carol@example.test", subject: "buy now" });
    const r = await smtplib("zed@sender.test", ["carol@example.test"], m.raw);
    expect(r.code).toBe(550);
    expect(r.text).toContain("I do not take mail from you.");
    expect(withId(await folderMessages(srv.store, "carol@example.test"), m.id).length).toBe(0);
    // carol rejects, dora keeps: accepted, dora has it, zed gets an MDN from the null sender
    const mixed = message({ from: "zed@sender.test", to: "carol@example.test", subject: "team news" });
    expect((await smtplib("zed@sender.test", ["carol@example.test", "dora@example.test"], mixed.raw)).code).toBe(250);
    expect(withId(await folderMessages(srv.store, "dora@example.test"), mixed.id).length).toBe(1);
    expect(withId(await folderMessages(srv.store, "carol@example.test"), mixed.id).length).toBe(0);
    const mdn = await waitFor(() => sentTo("zed@sender.test").find((x) => x.wire.toString("latin1").includes(`Original-Message-ID: ${mixed.id}`)));
    expect(mdn.mailFrom).toMatch(/MAIL FROM:<>/i);
    const wire = mdn.wire.toString("latin1");
    expect(wire).toContain("report-type=disposition-notification");
    expect(wire).toContain("Disposition: automatic-action/MDN-sent-automatically; deleted");
    expect(wire).toContain("I do not take mail from you.");
    // a null sender gets no notice (and the message is still refused for carol alone... here with dora: accepted)
    const fromNull = message({ from: "daemon@sender.test", to: "carol@example.test", subject: "report" });
    expect((await smtplib("", ["carol@example.test", "dora@example.test"], fromNull.raw)).code).toBe(250);
    expect(withId(await folderMessages(srv.store, "dora@example.test"), fromNull.id).length).toBe(1);
  });

  test("vacation: one reply per sender per period, from the null sender, never to list mail", async () => {
    await activate("dora@example.test", `require "vacation";\nvacation :days 3 :subject "Away" "I am away until Monday.";\n`);
    const first = message({ from: "amy@remote.test", to: "dora@example.test", subject: "question 1" });
    expect((await smtplib("amy@remote.test", ["dora@example.test"], first.raw)).code).toBe(250);
    const reply = await waitFor(() => sentTo("amy@remote.test").find((x) => x.wire.toString("latin1").includes(`In-Reply-To: ${first.id}`)));
    expect(reply.mailFrom).toMatch(/MAIL FROM:<>/i);
    const wire = reply.wire.toString("latin1");
    expect(wire).toMatch(/^Auto-Submitted: auto-replied/m);
    expect(wire).toMatch(/^Subject: Away/m);
    expect(wire).toContain("I am away until Monday.");
    const second = message({ from: "amy@remote.test", to: "dora@example.test", subject: "question 2" });
    expect((await smtplib("amy@remote.test", ["dora@example.test"], second.raw)).code).toBe(250);
    const list = message({ from: "news@remote.test", to: "dora@example.test", subject: "newsletter", extra: "List-Id: <news.remote.test>\r\n" });
    expect((await smtplib("news@remote.test", ["dora@example.test"], list.raw)).code).toBe(250);
    const auto = message({ from: "bot@remote.test", to: "dora@example.test", subject: "robot", extra: "Auto-Submitted: auto-generated\r\n" });
    expect((await smtplib("bot@remote.test", ["dora@example.test"], auto.raw)).code).toBe(250);
    // a later sender is answered: by then the earlier messages had their turn
    const other = message({ from: "ben@remote.test", to: "dora@example.test", subject: "question 3" });
    expect((await smtplib("ben@remote.test", ["dora@example.test"], other.raw)).code).toBe(250);
    await waitFor(() => sentTo("ben@remote.test").find((x) => x.wire.toString("latin1").includes(`In-Reply-To: ${other.id}`)));
    expect(sentTo("amy@remote.test").length).toBe(1);
    expect(sentTo("news@remote.test").length).toBe(0);
    expect(sentTo("bot@remote.test").length).toBe(0);
    // every message was kept
    for (const id of [first.id, second.id, list.id, auto.id, other.id]) expect(withId(await folderMessages(srv.store, "dora@example.test"), id).length).toBe(1);
  });

  test("duplicate: the second copy of a Message-ID goes where the script says", async () => {
    const id = await activate("erin@example.test", `require ["duplicate", "fileinto", "mailbox"];\nif duplicate { fileinto :create "Dups"; }\n`);
    const m = message({ from: "zed@sender.test", to: "erin@example.test", subject: "twice" });
    expect((await smtplib("zed@sender.test", ["erin@example.test"], m.raw)).code).toBe(250);
    // recorded after the commit (RFC 7352 §3: the id of a delivered message); the interpreter's key for the Message-ID
    const key = createHash("sha256").update(JSON.stringify([null, m.id])).digest("hex");
    await waitFor(() => srv.ctx.storage.sieve.duplicateSeen(id, key, Date.now()));
    expect((await smtplib("zed@sender.test", ["erin@example.test"], m.raw)).code).toBe(250);
    expect(withId(await folderMessages(srv.store, "erin@example.test", "INBOX"), m.id).length).toBe(1);
    expect(withId(await folderMessages(srv.store, "erin@example.test", "Dups"), m.id).length).toBe(1);
  });

  test("editheader: the stored copy carries the added field and lacks the deleted one", async () => {
    await activate("fred@example.test", `require "editheader";\naddheader "X-Sieve-Seen" "yes";\ndeleteheader "X-Remove-Me";\n`);
    const m = message({ from: "zed@sender.test", to: "fred@example.test", subject: "edit me", extra: "X-Remove-Me: secret\r\n" });
    expect((await smtplib("zed@sender.test", ["fred@example.test"], m.raw)).code).toBe(250);
    const [copy] = withId(await folderMessages(srv.store, "fred@example.test"), m.id);
    expect(text(copy!)).toMatch(/^X-Sieve-Seen: yes\r$/m);
    expect(text(copy!)).not.toContain("X-Remove-Me");
  });

  test("a failing script keeps every message in INBOX and reports once", async () => {
    await activate("gina@example.test", `require "fileinto";\nfileinto "No/Such/Folder";\n`);
    const a = message({ from: "zed@sender.test", to: "gina@example.test", subject: "one" });
    const b = message({ from: "zed@sender.test", to: "gina@example.test", subject: "two" });
    expect((await smtplib("zed@sender.test", ["gina@example.test"], a.raw)).code).toBe(250);
    expect((await smtplib("zed@sender.test", ["gina@example.test"], b.raw)).code).toBe(250);
    const inbox = await folderMessages(srv.store, "gina@example.test");
    expect(withId(inbox, a.id).length).toBe(1);
    expect(withId(inbox, b.id).length).toBe(1);
    const reports = await waitFor(async () => {
      const r = (await folderMessages(srv.store, "gina@example.test")).filter((m) => text(m).includes("Subject: Sieve script error: main"));
      return r.length ? r : null;
    });
    expect(reports.length).toBe(1);
    expect(text(reports[0]!)).toContain("Line 2:");
    // a new version of the script that fails again is reported again (once)
    await activate("gina@example.test", `require "fileinto";\nfileinto "Still/Missing";\n`);
    const c = message({ from: "zed@sender.test", to: "gina@example.test", subject: "three" });
    expect((await smtplib("zed@sender.test", ["gina@example.test"], c.raw)).code).toBe(250);
    await waitFor(async () => (await folderMessages(srv.store, "gina@example.test")).filter((m) => text(m).includes("Subject: Sieve script error: main")).length === 2);
  });

  test("a runaway script (hundreds of redirects, a deep regex-like match) is stopped and the message kept", async () => {
    const redirects = Array.from({ length: 300 }, (_, i) => `redirect "r${i}@remote.test";`).join("\n");
    await activate("hank@example.test", redirects + "\n");
    const m = message({ from: "zed@sender.test", to: "hank@example.test", subject: "many" });
    expect((await smtplib("zed@sender.test", ["hank@example.test"], m.raw)).code).toBe(250);
    expect(withId(await folderMessages(srv.store, "hank@example.test"), m.id).length).toBe(1);
    expect(sink.transactions.filter((t) => t.rcpts.some((r) => /<r\d+@remote\.test>/.test(r))).length).toBe(0);
    const stars = "*a".repeat(40);
    await activate("hank@example.test", `if header :matches "subject" "${stars}b" { discard; }\n`);
    const m2 = message({ from: "zed@sender.test", to: "hank@example.test", subject: "a".repeat(200) });
    expect((await smtplib("zed@sender.test", ["hank@example.test"], m2.raw)).code).toBe(250);
    expect(withId(await folderMessages(srv.store, "hank@example.test"), m2.id).length).toBe(1);
  });

  test("the submit path runs the local recipient's script too (submission with STARTTLS + AUTH)", async () => {
    await activate("jane@example.test", `require ["fileinto", "mailbox"];\nif address :is "from" "kim@example.test" { fileinto :create "From Kim"; }\n`);
    const m = message({ from: "kim@example.test", to: "jane@example.test", subject: "internal" });
    expect((await smtplib("kim@example.test", ["jane@example.test"], m.raw, { user: "kim@example.test", password: PASS })).code).toBe(250);
    expect(withId(await folderMessages(srv.store, "jane@example.test", "From Kim"), m.id).length).toBe(1);
    expect(withId(await folderMessages(srv.store, "jane@example.test", "INBOX"), m.id).length).toBe(0);
  });

  test("spam verdicts: each account's fields on its copy, keep to Junk, fileinto honoured, spamtest fed, no hooks for Junk", async () => {
    const kim = (await srv.store.getAccount("kim@example.test"))!;
    const liam = (await srv.store.getAccount("liam@example.test"))!;
    const ivan = (await srv.store.getAccount("ivan@example.test"))!;
    await srv.ctx.storage.sieve.setActive(ivan.id, null);
    await activate("liam@example.test", `require ["spamtest", "relational", "comparator-i;ascii-numeric", "fileinto", "mailbox"];\nif spamtest :value "ge" :comparator "i;ascii-numeric" "8" { fileinto :create "Certainly spam"; }\n`);
    await activate("kim@example.test", `require ["fileinto", "mailbox"];\nif header :contains "subject" "cheap" { fileinto :create "Deals"; }\n`);
    const verdict = (spamtest: number, isSpam: boolean, score: number) => ({
      score,
      isSpam,
      spamtest,
      percent: spamtest * 10,
      symbols: [],
      headers: `X-Spam-Status: ${isSpam ? "Yes" : "No"}, score=${score} required=5.0 tests=TEST\r\nX-Spam-Score: ${score}\r\n`,
    });
    const m = message({ from: "zed@sender.test", to: "kim@example.test", subject: "cheap pills" });
    const seen: number[][] = [];
    const { deliverMessage, resolveRecipients } = await import("../../src/delivery/pipeline.ts");
    const { recipients } = await resolveRecipients(srv.store, ["kim@example.test", "liam@example.test", "ivan@example.test"]);
    await deliverMessage(
      { store: srv.store, filter: srv.ctx.deliveryFilter, log: srv.ctx.log, deliveryHooks: [(d) => seen.push(d.accountIds)] },
      {
        raw: new TextEncoder().encode(m.raw),
        envelopeFrom: "zed@sender.test",
        recipients,
        spam: {
          backend: "builtin",
          score: 9,
          symbols: [],
          reject: false,
          elapsedMs: 1,
          accounts: new Map([
            [kim.id, verdict(9, true, 9)],
            [liam.id, verdict(9, true, 9)],
            [ivan.id, verdict(2, false, 1)],
          ]),
        },
      },
    );
    // kim: spam, but her fileinto wins
    const [k] = withId(await folderMessages(srv.store, "kim@example.test", "Deals"), m.id);
    expect(text(k!)).toMatch(/^X-Spam-Status: Yes, score=9/);
    // liam: spamtest 9 >= 8
    expect(withId(await folderMessages(srv.store, "liam@example.test", "Certainly spam"), m.id).length).toBe(1);
    // ivan: no script, not spam: INBOX with his own fields
    const [i] = withId(await folderMessages(srv.store, "ivan@example.test", "INBOX"), m.id);
    expect(text(i!)).toMatch(/^X-Spam-Status: No, score=1/);
    // a spam message without a script goes to Junk and no hook sees it
    await srv.ctx.storage.sieve.setActive(kim.id, null);
    const j = message({ from: "zed@sender.test", to: "kim@example.test", subject: "more junk" });
    const r2 = await resolveRecipients(srv.store, ["kim@example.test"]);
    await deliverMessage(
      { store: srv.store, filter: srv.ctx.deliveryFilter, log: srv.ctx.log, deliveryHooks: [(d) => seen.push(d.accountIds)] },
      {
        raw: new TextEncoder().encode(j.raw),
        envelopeFrom: "zed@sender.test",
        recipients: r2.recipients,
        spam: { backend: "builtin", score: 9, symbols: [], reject: false, elapsedMs: 1, accounts: new Map([[kim.id, verdict(9, true, 9)]]) },
      },
    );
    expect(withId(await folderMessages(srv.store, "kim@example.test", "Junk"), j.id).length).toBe(1);
    // the hooks saw the first delivery's three copies (none in Junk), and nothing of the second
    expect(seen.length).toBe(1);
    expect([...seen[0]!].sort((a, b) => a - b)).toEqual([kim.id, liam.id, ivan.id].sort((a, b) => a - b));
  });

  test("out-of-office (the settings' vacation script) still answers when the user's own script fails", async () => {
    const id = await activate("mona@example.test", `require "fileinto";\nfileinto "Nowhere";\n`);
    await srv.store.updateSettings(id, { oof: { enabled: true, subject: "Mona is away", body: "Back next week." } });
    const m = message({ from: "pat@remote.test", to: "mona@example.test", subject: "hello mona" });
    expect((await smtplib("pat@remote.test", ["mona@example.test"], m.raw)).code).toBe(250);
    const reply = await waitFor(() => sentTo("pat@remote.test").find((x) => x.wire.toString("latin1").includes(`In-Reply-To: ${m.id}`)));
    expect(reply.wire.toString("latin1")).toMatch(/^Subject: Mona is away/m);
    expect(withId(await folderMessages(srv.store, "mona@example.test"), m.id).length).toBe(1);
  });

  test("delivery reports are filtered too: a bounce to a local sender goes where her script says", async () => {
    await activate("nina@example.test", `require ["fileinto", "mailbox", "envelope"];\nif envelope :is "from" "" { fileinto :create "Bounces"; }\n`);
    sink.options.reject = ["gone@remote.test"];
    const m = message({ from: "nina@example.test", to: "gone@remote.test", subject: "to nowhere" });
    expect((await smtplib("nina@example.test", ["gone@remote.test"], m.raw, { user: "nina@example.test", password: PASS })).code).toBe(250);
    const dsn = await waitFor(async () => (await folderMessages(srv.store, "nina@example.test", "Bounces")).find((x) => text(x).includes("Undelivered Mail Returned to Sender")));
    expect(text(dsn)).toContain("gone@remote.test");
    sink.options.reject = [];
  });

  test("redirect :copy to a local address: both mailboxes have it, the original sender untouched", async () => {
    await activate("olga@example.test", `require "copy";\nredirect :copy "pete@example.test";\n`);
    const m = message({ from: "zed@sender.test", to: "olga@example.test", subject: "share this" });
    expect((await smtplib("zed@sender.test", ["olga@example.test"], m.raw)).code).toBe(250);
    expect(withId(await folderMessages(srv.store, "olga@example.test"), m.id).length).toBe(1);
    expect(withId(await folderMessages(srv.store, "pete@example.test"), m.id).length).toBe(1);
  });

  test("vacation :from with a display name and :mime", async () => {
    await activate("quin@example.test", `require "vacation";\nvacation :from "\\"Quin Q\\" <quin@example.test>" :mime "Content-Type: text/plain; charset=utf-8\r\n\r\nGone fishing.";\n`);
    const m = message({ from: "sam@remote.test", to: "quin@example.test", subject: "fish?" });
    expect((await smtplib("sam@remote.test", ["quin@example.test"], m.raw)).code).toBe(250);
    const reply = await waitFor(() => sentTo("sam@remote.test").find((x) => x.wire.toString("latin1").includes(`In-Reply-To: ${m.id}`)));
    const wire = reply.wire.toString("latin1");
    expect(wire).toMatch(/^From: "?Quin Q"? <quin@example\.test>\r$/m);
    expect(wire).toMatch(/^Subject: Auto: fish\?\r$/m);
    expect(wire).toContain("Gone fishing.");
  });
});
