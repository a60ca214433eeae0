/**
 * The outbound queue end to end: a local DNS server (Debian's dnsmasq)
 * publishes MX records for remote.test pointing at a second Pillarbox on
 * 127.0.0.2. Queued mail is delivered there; a 4xx is retried (after a
 * restart of the sending server), a 5xx bounces a DSN into the sender's
 * INBOX. DKIM signatures are checked with an independent verifier
 * (Debian's python3-dkim). Inbound DMARC policies are checked against the
 * same DNS server.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";

setDefaultTimeout(60_000);
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { ehloSession, folderMessages, run, startDnsmasq, stripTrace, submissionSession, text, waitFor, withoutSpamFields, type Dnsmasq } from "./helpers.ts";

const PASS = "pw-outbound";
let dns: Dnsmasq;
let remote: TestServer; // mx.remote.test on 127.0.0.2
let local: TestServer; // mail.pillarbox.test, sender side
let localDir: string;

async function startLocal(): Promise<TestServer> {
  return startTestServer({
    listeners: ["SMTP", "SUBMISSION"],
    dataDir: localDir,
    keepDataDir: true,
    config: {
      queue: { dnsServers: [dns.server], remotePort: remote.port("SMTP"), perDomainConcurrency: 2, delayWarningSeconds: 1 },
      smtp: { verifyInbound: true, dmarcReject: true, dmarcQuarantine: "junk" },
    },
  });
}

beforeAll(async () => {
  dns = await startDnsmasq({
    mx: [
      ["remote.test", "mx.remote.test", 10],
      ["gone.test", "mx.gone.test", 10], // MX host with no address: temporary
    ],
    hosts: [
      ["mx.remote.test", "127.0.0.2"],
      ["implicit.test", "127.0.0.2"], // no MX: the A record is the implicit MX
    ],
    txt: [
      ["evil.test", "v=spf1 -all"],
      ["_dmarc.evil.test", "v=DMARC1; p=reject"],
      ["shady.test", "v=spf1 -all"],
      ["_dmarc.shady.test", "v=DMARC1; p=quarantine"],
      ["good.test", "v=spf1 ip4:127.0.0.0/8 -all"],
      ["_dmarc.good.test", "v=DMARC1; p=reject"],
    ],
  });
  remote = await startTestServer({
    listeners: ["SMTP"],
    config: { hostname: "mx.remote.test", listeners: { SMTP: { host: "127.0.0.2", port: 0 } } },
  });
  for (const u of ["rcpt", "tight"]) await createUser(remote.store, `${u}@remote.test`, PASS);
  await remote.store.addDomain("implicit.test");
  await remote.store.addAlias("@implicit.test", "rcpt@remote.test");
  localDir = mkdtempSync(join(tmpdir(), "pb-outbound-"));
  local = await startLocal();
  await createUser(local.store, "alice@example.test", PASS);
});

afterAll(async () => {
  await local?.close();
  await remote?.close();
  await dns?.stop();
  rmSync(localDir, { recursive: true, force: true });
});

async function submit(to: string[], subject: string): Promise<string> {
  const c = await submissionSession(local.port("SUBMISSION"), "alice@example.test", PASS);
  await c.cmd("MAIL FROM:<alice@example.test>");
  for (const t of to) expect((await c.cmd(`RCPT TO:<${t}>`)).code).toBe(250);
  expect((await c.cmd("DATA")).code).toBe(354);
  const msg = `From: Alice <alice@example.test>\r\nTo: ${to.join(", ")}\r\nSubject: ${subject}\r\nDate: Fri, 27 Nov 2026 12:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, "")}@example.test>\r\n\r\nHello remote world.\r\n`;
  c.write(msg + ".\r\n");
  const r = (await c.read())!;
  expect(r.code).toBe(250);
  await c.cmd("QUIT");
  return msg;
}

const findIn = async (srv: TestServer, email: string, needle: string, folder = "INBOX") =>
  (await folderMessages(srv.store, email, folder)).find((m) => text(m).includes(needle));

describe("outbound queue", () => {
  test("queued mail reaches the MX found in DNS, DKIM-signed; the signature verifies with python3-dkim", async () => {
    const msg = await submit(["rcpt@remote.test", "anyone@implicit.test"], "outbound one");
    const got = await waitFor(async () => {
      const all = (await folderMessages(remote.store, "rcpt@remote.test")).filter((m) => text(m).includes("Subject: outbound one"));
      return all.length === 2 ? all : null;
    });
    for (const m of got) {
      expect(stripTrace(m)).toBe(msg);
      // the remote's Received shows our EHLO name and TLS (opportunistic STARTTLS)
      expect(withoutSpamFields(text(m))).toMatch(/^Received: from mail\.pillarbox\.test \(\[127\.0\.0\.1\]\)\r\n\tby mx\.remote\.test \(Pillarbox\) with ESMTPS/);
    }
    await waitFor(async () => (await local.store.listQueue()).length === 0);

    // Independent DKIM verification: dkimpy with the public key from our store as the DNS answer.
    const domain = (await local.store.getDomain("example.test"))!;
    const script = `
import dkim, sys
txt = b"v=DKIM1; k=rsa; p=" + sys.argv[2].encode()
def dnsfunc(name, timeout=5):
    assert name == (sys.argv[1] + "._domainkey.example.test.").encode() or name == (sys.argv[1] + "._domainkey.example.test").encode(), name
    return txt
msg = sys.stdin.buffer.read()
print("verified" if dkim.verify(msg, dnsfunc=dnsfunc) else "FAILED")
tampered = msg.replace(b"Hello remote world.", b"Hello tampered world.")
print("tampered-verified" if dkim.verify(tampered, dnsfunc=dnsfunc) else "tampered-failed")
`;
    const r = await run("/usr/bin/python3", ["-c", script, domain.dkimSelector!, domain.dkimPublicKey!], { input: got[0]! });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("verified\ntampered-failed\n");
  });

  test("5xx from the remote: the sender gets an RFC 3464 DSN in their INBOX", async () => {
    await submit(["nobody@remote.test"], "will bounce");
    const dsn = await waitFor(() => findIn(local, "alice@example.test", "Undelivered Mail Returned to Sender"));
    const t = text(dsn);
    expect(t).toContain("Content-Type: multipart/report; report-type=delivery-status;");
    expect(t).toContain("Content-Type: message/delivery-status");
    expect(t).toContain("Reporting-MTA: dns; mail.pillarbox.test");
    expect(t).toContain("Final-Recipient: rfc822; nobody@remote.test");
    expect(t).toContain("Action: failed");
    expect(t).toContain("Status: 5.1.1");
    expect(t).toContain("Remote-MTA: dns; mx.remote.test");
    expect(t).toMatch(/Diagnostic-Code: smtp; 550 5\.1\.1 /);
    expect(t).toContain("Content-Type: message/rfc822");
    expect(t).toContain("Subject: will bounce");
    expect(t).toContain("From: Mail Delivery System <MAILER-DAEMON@mail.pillarbox.test>");
    await waitFor(async () => (await local.store.listQueue()).length === 0);
  });

  test("NOTIFY=NEVER: a permanent failure is dropped without a DSN; RET/ENVID pass into the report otherwise", async () => {
    const c = await submissionSession(local.port("SUBMISSION"), "alice@example.test", PASS);
    expect((await c.cmd("MAIL FROM:<alice@example.test> RET=HDRS ENVID=env+2B42")).code).toBe(250);
    expect((await c.cmd("RCPT TO:<ghost1@remote.test> NOTIFY=NEVER")).code).toBe(250);
    expect((await c.cmd("RCPT TO:<ghost2@remote.test> NOTIFY=FAILURE ORCPT=rfc822;ghost2@remote.test")).code).toBe(250);
    await c.cmd("DATA");
    c.write("From: alice@example.test\r\nSubject: notify test\r\n\r\nsecret body text\r\n.\r\n");
    expect((await c.read())!.code).toBe(250);
    c.close();
    const dsn = await waitFor(() => findIn(local, "alice@example.test", "ghost2@remote.test"));
    const t = text(dsn);
    expect(t).not.toContain("ghost1@remote.test");
    expect(t).toContain("Original-Envelope-Id: env+42");
    expect(t).toContain("Original-Recipient: rfc822; ghost2@remote.test");
    expect(t).toContain("Content-Type: text/rfc822-headers"); // RET=HDRS: no body returned
    expect(t).not.toContain("secret body text");
    await waitFor(async () => (await local.store.listQueue()).length === 0);
  });

  test("4xx from the remote is retried; the queue survives a restart and `flush` is picked up", async () => {
    await remote.store.setQuota("tight@remote.test", 1); // RCPT with SIZE=n -> 452 4.2.2
    await submit(["tight@remote.test"], "retry me");
    const deferred = await waitFor(async () => {
      const q = await local.store.listQueue();
      return q.find((e) => e.attempts >= 1 && e.lockedUntil === null) ?? null;
    });
    expect(deferred.recipients[0]!.status).toBe("pending");
    expect(deferred.recipients[0]!.lastError).toContain("452 4.2.2");
    expect(deferred.nextAttemptAt).toBeGreaterThan(Date.now() + 30_000); // backoff, not a busy loop
    expect(await findIn(remote, "tight@remote.test", "retry me")).toBeUndefined();

    // restart the sending server on the same data dir
    await local.close();
    local = await startLocal();
    const q = await local.store.listQueue();
    expect(q.map((e) => e.id)).toContain(deferred.id);

    await remote.store.setQuota("tight@remote.test", null);
    // what `pillarbox queue flush` does: make it due now; the worker polls the database
    await local.store.updateQueueEntry(deferred.id, { nextAttemptAt: Date.now() });
    const m = await waitFor(() => findIn(remote, "tight@remote.test", "retry me"));
    expect(text(m)).toContain("DKIM-Signature:");
    await waitFor(async () => (await local.store.getQueueEntry(deferred.id)) === null);
    // no DSN for a message that was delivered in the end
    expect(await findIn(local, "alice@example.test", "retry me")).toBeUndefined();
  });

  test("an MX host without an address is a temporary failure, kept in the queue; one delay warning", async () => {
    const c = await submissionSession(local.port("SUBMISSION"), "alice@example.test", PASS);
    await c.cmd("MAIL FROM:<alice@example.test>");
    await c.cmd("RCPT TO:<x@gone.test>");
    await c.cmd("DATA");
    c.write("From: alice@example.test\r\nSubject: gone\r\n\r\nx\r\n.\r\n");
    expect((await c.read())!.code).toBe(250);
    c.close();
    const e = await waitFor(async () => (await local.store.listQueue()).find((x) => x.attempts >= 1 && x.lockedUntil === null) ?? null);
    expect(e.recipients[0]!.status).toBe("pending");
    expect(e.recipients[0]!.lastError).toContain("mx.gone.test");
    // past the delay-warning threshold (1 s here), the next deferral tells the sender once
    await new Promise((r) => setTimeout(r, 1100));
    await local.store.updateQueueEntry(e.id, { nextAttemptAt: Date.now() });
    const warn = await waitFor(() => findIn(local, "alice@example.test", "Delayed Mail"));
    expect(text(warn)).toContain("Action: delayed");
    expect(text(warn)).toContain("Final-Recipient: rfc822; x@gone.test");
    expect(text(warn)).toMatch(/Status: 4\.\d\.\d/);
    const again = await waitFor(async () => {
      const x = await local.store.getQueueEntry(e.id);
      return x && x.attempts >= 2 && x.lockedUntil === null ? x : null;
    });
    expect(again.recipients[0]!.status).toBe("pending");
    await local.store.removeQueueEntry(e.id);
  });
});

describe("inbound sender authentication (mailauth, DNS from dnsmasq)", () => {
  async function sendFrom(from: string, subject: string): Promise<{ code: number; text: string }> {
    const c = await ehloSession(local.port("SMTP"), "sender.example");
    await c.cmd(`MAIL FROM:<${from}>`);
    await c.cmd("RCPT TO:<alice@example.test>");
    await c.cmd("DATA");
    c.write(`From: ${from}\r\nTo: alice@example.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, "")}@x>\r\n\r\nbody\r\n.\r\n`);
    const r = (await c.read())!;
    c.close();
    return r;
  }

  test("DMARC p=reject failure is refused with 550 5.7.1", async () => {
    const r = await sendFrom("ceo@evil.test", "dmarc reject");
    expect(r.code).toBe(550);
    expect(r.text).toStartWith("5.7.1");
    expect(await findIn(local, "alice@example.test", "dmarc reject")).toBeUndefined();
  });

  test("DMARC p=quarantine failure is filed into Junk", async () => {
    const r = await sendFrom("news@shady.test", "dmarc quarantine");
    expect(r.code).toBe(250);
    expect(await findIn(local, "alice@example.test", "dmarc quarantine")).toBeUndefined();
    const junk = await findIn(local, "alice@example.test", "dmarc quarantine", "Junk");
    expect(junk).toBeDefined();
    expect(text(junk!)).toContain("dmarc=fail");
  });

  test("SPF pass aligns DMARC: accepted into INBOX with Authentication-Results; forged results removed", async () => {
    const c = await ehloSession(local.port("SMTP"), "sender.example");
    await c.cmd("MAIL FROM:<boss@good.test>");
    await c.cmd("RCPT TO:<alice@example.test>");
    await c.cmd("DATA");
    c.write("Authentication-Results: mail.pillarbox.test; dkim=pass header.d=bank.example\r\nFrom: boss@good.test\r\nSubject: dmarc pass\r\n\r\nbody\r\n.\r\n");
    expect((await c.read())!.code).toBe(250);
    c.close();
    const m = await findIn(local, "alice@example.test", "dmarc pass");
    const t = text(m!);
    expect(t).toContain("Authentication-Results: mail.pillarbox.test;");
    expect(t).toMatch(/spf=pass/);
    expect(t).toMatch(/dmarc=pass/);
    expect(t).not.toContain("header.d=bank.example");
  });
});
