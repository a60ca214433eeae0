/**
 * Header tricks that make mail look like it came from someone else
 * (issue 13 items 6 and 7). Every reader of a message's header fields (the
 * MX and submission From checks, mailauth's SPF/DKIM/DMARC input, the
 * store's index, IMAP ENVELOPE, the webmail) must see the same fields:
 *
 *  - MX (port 25) with inbound verification: `paypal.test` publishes
 *    p=reject in a local dnsmasq. A second From (RFC 7489 §6.6.1), a From
 *    hidden behind a bare CR, and a From continued by a line that is not a
 *    header must never deliver mail that the display shows as PayPal.
 *  - Submission: a logged-in user cannot hide a From behind a bare CR or LF
 *    (DATA and BDAT) or add a second From; a normal message is still
 *    accepted and DKIM-signed (checked with Debian's python3-dkim).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { SubmitError } from "../../src/delivery/submit.ts";
import { ehloSession, folderMessages, run, startDnsmasq, submissionSession, text, type Dnsmasq } from "./helpers.ts";

setDefaultTimeout(60_000);

const PASS = "pw-header-tricks";
let dns: Dnsmasq;
let srv: TestServer;

beforeAll(async () => {
  dns = await startDnsmasq({
    txt: [
      // The impersonated brand: nobody may send for it from here.
      ["paypal.test", "v=spf1 -all"],
      ["_dmarc.paypal.test", "v=DMARC1; p=reject"],
      // The attacker's own domain: SPF passes from 127.0.0.0/8, so its own mail aligns.
      ["attacker.test", "v=spf1 ip4:127.0.0.0/8 -all"],
      ["_dmarc.attacker.test", "v=DMARC1; p=none"],
    ],
  });
  srv = await startTestServer({
    listeners: ["SMTP", "SUBMISSION", "IMAP"],
    config: {
      // Remote recipients stay queued (nothing answers on port 9): the tests only look at the queue.
      queue: { dnsServers: [dns.server], remotePort: 9 },
      smtp: { verifyInbound: true, dmarcReject: true, dmarcQuarantine: "junk" },
    },
  });
  for (const u of ["alice", "bob"]) await createUser(srv.store, `${u}@example.test`, PASS);
});

afterAll(async () => {
  await srv?.close();
  await dns?.stop();
});

const latin = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

async function inbox(email: string, needle: string): Promise<Uint8Array[]> {
  return (await folderMessages(srv.store, email)).filter((m) => text(m).includes(needle));
}

/** One message over port 25 from the attacker's envelope (SPF passes for attacker.test). */
async function mx(headers: string, tag: string): Promise<{ code: number; text: string }> {
  const c = await ehloSession(srv.port("SMTP"), "mx.attacker.test");
  await c.cmd("MAIL FROM:<me@attacker.test>");
  await c.cmd("RCPT TO:<alice@example.test>");
  expect((await c.cmd("DATA")).code).toBe(354);
  c.write(latin(`${headers}Subject: ${tag}\r\nMessage-ID: <${tag}@attacker.test>\r\n\r\nPlease confirm your account.\r\n.\r\n`));
  const r = (await c.read())!;
  c.close();
  return r;
}

/** ENVELOPE From of every INBOX message (python3 imaplib, a real IMAP client). */
async function imapEnvelopeFroms(email: string): Promise<string> {
  const script = `
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login(sys.argv[2], sys.argv[3])
typ, count = m.select("INBOX", readonly=True)
if int(count[0]) > 0:
    typ, data = m.fetch("1:*", "(ENVELOPE)")
    for d in data:
        if isinstance(d, bytes): print(d.decode("latin-1"))
m.logout()
`;
  const r = await run("/usr/bin/python3", ["-c", script, String(srv.port("IMAP")), email, PASS]);
  expect(r.stderr).toBe("");
  return r.stdout;
}

describe("MX: one From, read the same way by DMARC and by every display", () => {
  test("two From fields, PayPal first: 550 5.7.1, nothing stored", async () => {
    const r = await mx("From: PayPal <service@paypal.test>\r\nFrom: me@attacker.test\r\nTo: alice@example.test\r\n", "twofrom");
    expect(r.code).toBe(550);
    expect(r.text).toStartWith("5.7.1");
    expect(r.text).toContain("From");
    expect(await inbox("alice@example.test", "twofrom")).toHaveLength(0);
  });

  test("From hidden behind a bare CR plus a second From: refused as two From, nothing stored", async () => {
    const r = await mx("X-A: a\rFrom: PayPal <service@paypal.test>\r\nFrom: me@attacker.test\r\nTo: alice@example.test\r\n", "hiddenfrom");
    expect(r.code).toBe(550);
    expect(r.text).toStartWith("5.7.1");
    expect(await inbox("alice@example.test", "hiddenfrom")).toHaveLength(0);
    // and no message in the mailbox shows PayPal as its author over IMAP
    expect(await imapEnvelopeFroms("alice@example.test")).not.toContain("paypal");
  });

  test("a whitespace line before the first field (skipped by the store, a From to mailauth) is not a second reading", async () => {
    // Old code: the store skipped "\tFrom: me@attacker.test" and showed PayPal; mailauth counted two
    // From fields and ran no DMARC at all, so p=reject was never applied.
    const r = await mx("\tFrom: me@attacker.test\r\nFrom: PayPal <service@paypal.test>\r\nTo: alice@example.test\r\n", "leadingws");
    expect(r.code).toBe(550);
    expect(await inbox("alice@example.test", "leadingws")).toHaveLength(0);
  });

  test("the only From hidden behind a bare CR: DMARC sees PayPal (p=reject) and refuses it", async () => {
    // Old code: mailauth read one "X-A" field and no From (no DMARC at all), the store's index a From of PayPal.
    const r = await mx("X-A: a\rFrom: PayPal <service@paypal.test>\r\nTo: alice@example.test\r\n", "onlyhidden");
    expect(r.code).toBe(550);
    expect(r.text).toContain("DMARC");
    expect(await inbox("alice@example.test", "onlyhidden")).toHaveLength(0);
  });

  test("a line that is not a header after From ends the header for DMARC as it does for the display", async () => {
    // The store's parser ends the header at "<me@attacker.test>" (not a field); mailauth used to append it to
    // From and read the author as attacker.test (dmarc=pass), while the display showed service@paypal.test.
    const r = await mx("From: service@paypal.test\r\n<me@attacker.test>\r\n", "notaheader");
    expect(r.code).toBe(550);
    expect(r.text).toContain("DMARC");
    expect(await inbox("alice@example.test", "notaheader")).toHaveLength(0);
  });

  test("accepted mail with a bare CR in a header: stored with CRLF only; ENVELOPE and DMARC name the same From", async () => {
    const r = await mx("From: Me <me@attacker.test>\r\nTo: alice@example.test\r\nX-Junk: a\rX-More: b\r\n", "barecr-ok");
    expect(r.code).toBe(250);
    const got = await inbox("alice@example.test", "barecr-ok");
    expect(got).toHaveLength(1);
    const t = text(got[0]!);
    expect(t).not.toMatch(/\r(?!\n)|(?<!\r)\n/); // no bare CR, no bare LF
    expect(t).toMatch(/dmarc=pass[^;]*header\.from=attacker\.test/);
    const env = await imapEnvelopeFroms("alice@example.test");
    const line = env.split("\n").find((l) => l.includes("barecr-ok"))!;
    expect(line).toContain('(("Me" NIL "me" "attacker.test"))');
    expect(line).not.toContain("paypal");
  });
});

describe("submission: the sender check sees every From the store sees", () => {
  async function dataSubmit(body: Uint8Array, rcpt = "bob@example.test"): Promise<{ code: number; text: string }> {
    const c = await submissionSession(srv.port("SUBMISSION"), "alice@example.test", PASS);
    await c.cmd("MAIL FROM:<alice@example.test>");
    expect((await c.cmd(`RCPT TO:<${rcpt}>`)).code).toBe(250);
    expect((await c.cmd("DATA")).code).toBe(354);
    c.write(body);
    c.write(".\r\n");
    const r = (await c.read())!;
    c.close();
    return r;
  }

  async function bdatSubmit(body: Uint8Array, rcpt = "bob@example.test"): Promise<{ code: number; text: string }> {
    const c = await submissionSession(srv.port("SUBMISSION"), "alice@example.test", PASS);
    await c.cmd("MAIL FROM:<alice@example.test>");
    expect((await c.cmd(`RCPT TO:<${rcpt}>`)).code).toBe(250);
    c.write(`BDAT ${body.length} LAST\r\n`);
    c.write(body);
    const r = (await c.read())!;
    c.close();
    return r;
  }

  test("From hidden behind a bare CR (the CEO) before the user's own From: 554 5.6.0, nothing delivered or queued", async () => {
    const queued = (await srv.store.listQueue()).length;
    const r = await dataSubmit(latin("X-Note: hi\rFrom: The CEO <ceo@example.test>\r\nFrom: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: ceo-barecr\r\n\r\nWire the money.\r\n"));
    expect(r.code).toBe(554);
    expect(r.text).toStartWith("5.6.0");
    expect(r.text).toMatch(/bare CR/i);
    expect(await inbox("bob@example.test", "ceo-barecr")).toHaveLength(0);
    const r2 = await dataSubmit(latin("X-Note: hi\rFrom: The CEO <ceo@example.test>\r\nFrom: Alice <alice@example.test>\r\nTo: x@remote.test\r\nSubject: ceo-barecr-remote\r\n\r\nWire the money.\r\n"), "x@remote.test");
    expect(r2.code).toBe(554);
    expect((await srv.store.listQueue()).length).toBe(queued);
  });

  test("a bare LF in the header over BDAT (no DATA decoding): refused", async () => {
    const r = await bdatSubmit(latin("X-Note: hi\nFrom: The CEO <ceo@example.test>\r\nFrom: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: ceo-barelf\r\n\r\nWire the money.\r\n"));
    expect(r.code).toBe(554);
    expect(r.text).toStartWith("5.6.0");
    expect(await inbox("bob@example.test", "ceo-barelf")).toHaveLength(0);
  });

  test("two plain From fields (the CEO and the user): refused, nothing delivered", async () => {
    const r = await dataSubmit(latin("From: The CEO <ceo@example.test>\r\nFrom: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: ceo-twofrom\r\n\r\nWire the money.\r\n"));
    expect(r.code).toBe(553);
    expect(r.text).toContain("From");
    expect(await inbox("bob@example.test", "ceo-twofrom")).toHaveLength(0);
  });

  test("a From continued by a non-header line is checked as the store reads it, and sent with an explicit end of header", async () => {
    const r = await dataSubmit(latin("From: alice@example.test\r\n<ceo@example.test>\r\nSubject: not-reached\r\n\r\nbody continued-from\r\n"));
    expect(r.code).toBe(250);
    const got = await inbox("bob@example.test", "continued-from");
    expect(got).toHaveLength(1);
    // the header ends where the store's parser ends it, for every later reader (mailauth's
    // address parser read "alice@example.test\r\n<ceo@example.test>" as the CEO's address)
    expect(text(got[0]!)).toContain("From: alice@example.test\r\n\r\n<ceo@example.test>\r\n");
  });

  test("a normal message is accepted, DKIM-signed, and bare CRs in its body become CRLF before signing", async () => {
    const r = await bdatSubmit(latin("From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: normal-one\r\n\r\nline one\rline two\nline three\r\n"));
    expect(r.code).toBe(250);
    const got = await inbox("bob@example.test", "normal-one");
    expect(got).toHaveLength(1);
    const t = text(got[0]!);
    expect(t).toContain("DKIM-Signature:");
    expect(t).toContain("line one\r\nline two\r\nline three\r\n");
    const domain = (await srv.store.getDomain("example.test"))!;
    const script = `
import dkim, sys
txt = b"v=DKIM1; k=rsa; p=" + sys.argv[2].encode()
def dnsfunc(name, timeout=5):
    return txt
msg = sys.stdin.buffer.read()
print("verified" if dkim.verify(msg, dnsfunc=dnsfunc) else "FAILED")
`;
    const v = await run("/usr/bin/python3", ["-c", script, domain.dkimSelector!, domain.dkimPublicKey!], { input: got[0]! });
    expect(v.stdout).toBe("verified\n");
  });
});

describe("the shared send path (ctx.submit: webmail send, ActiveSync SendMail)", () => {
  async function submitRaw(raw: string): Promise<unknown> {
    const account = (await srv.store.getAccount("alice@example.test"))!;
    return srv.ctx.submit({ account, envelopeFrom: "alice@example.test", recipients: ["bob@example.test"], raw: latin(raw), saveToSent: false });
  }

  test("a From hidden behind a bare CR is seen and refused (two From fields)", async () => {
    const err = await submitRaw("X-A: a\rFrom: The CEO <ceo@example.test>\r\nFrom: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: eas-hidden\r\n\r\nx\r\n").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SubmitError);
    expect((err as SubmitError).code).toBe("SENDER");
    expect(await inbox("bob@example.test", "eas-hidden")).toHaveLength(0);
  });

  test("the only From hidden behind a bare CR is checked against the user's addresses", async () => {
    const err = await submitRaw("X-A: a\rFrom: The CEO <ceo@example.test>\r\nTo: bob@example.test\r\nSubject: eas-only\r\n\r\nx\r\n").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SubmitError);
    expect((err as SubmitError).message).toContain("ceo@example.test");
    expect(await inbox("bob@example.test", "eas-only")).toHaveLength(0);
  });

  test("a message with bare LF line ends (as some clients send) is accepted and stored with CRLF", async () => {
    await submitRaw("From: alice@example.test\nTo: bob@example.test\nSubject: eas-lf\n\nhello\nworld\n");
    const got = await inbox("bob@example.test", "eas-lf");
    expect(got).toHaveLength(1);
    expect(text(got[0]!)).toContain("Subject: eas-lf\r\n\r\nhello\r\nworld\r\n");
    expect(text(got[0]!)).not.toMatch(/\r(?!\n)|(?<!\r)\n/);
  });
});
