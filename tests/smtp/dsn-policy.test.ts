/**
 * Delivery reports (issue 13 item 9).
 *
 *  - ORCPT and ENVID are xtext (RFC 3461 §4); a value that is malformed or
 *    decodes to control characters is refused with 501 5.5.4, so nobody can
 *    write their own lines (`Action: failed`, `X-Injected: yes`) into a
 *    report's delivery-status part.
 *  - Success ("relayed") and delay reports go only to senders we can
 *    believe: an authenticated submission, or a MAIL FROM domain with SPF
 *    pass or an aligned DKIM pass. An unauthenticated, forged
 *    `MAIL FROM:<victim@victim.test> RET=FULL NOTIFY=SUCCESS` to a forwarding
 *    alias produces no report at all (no backscatter).
 *  - Failure reports still go to the envelope sender (RFC 5321 §6.2), but to
 *    an unverified sender they return the header only, even with RET=FULL.
 *
 * Reports to remote senders travel through our queue to a capturing SMTP
 * peer (./sink.ts) found through MX records served by dnsmasq.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { dkimSign } from "mailauth";
import { kickQueues } from "../../src/delivery/index.ts";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { ehloSession, folderMessages, startDnsmasq, submissionSession, text, waitFor, type Dnsmasq } from "./helpers.ts";
import { startSink, type Sink, type SinkTransaction } from "./sink.ts";

setDefaultTimeout(60_000);

const PASS = "pw-dsn-policy";
let dns: Dnsmasq;
let sink: Sink;
let srv: TestServer;
const dkimKey = generateKeyPairSync("rsa", { modulusLength: 1024 });
const dkimPublic = (dkimKey.publicKey.export({ type: "spki", format: "der" }) as Buffer).toString("base64");

beforeAll(async () => {
  sink = await startSink({ reject: ["nobody@sink.test"] });
  const viaSink = ["sink.test", "victim.test", "good.test", "dkim.test"].map((d): [string, string, number] => [d, "mx.sink.test", 10]);
  dns = await startDnsmasq({
    mx: viaSink,
    hosts: [["mx.sink.test", "127.0.0.1"]],
    txt: [
      ["good.test", "v=spf1 ip4:127.0.0.0/8 -all"],
      ["sel._domainkey.dkim.test", `v=DKIM1; k=rsa; p=${dkimPublic}`],
    ],
  });
  srv = await startTestServer({
    listeners: ["SMTP", "SUBMISSION"],
    config: {
      queue: { dnsServers: [dns.server], remotePort: sink.port },
      smtp: { verifyInbound: true },
    },
  });
  await createUser(srv.store, "alice@example.test", PASS);
  await srv.store.addAlias("fwd@example.test", "dest@sink.test");
  await srv.store.addAlias("fwdfail@example.test", "nobody@sink.test");
});

afterAll(async () => {
  await srv?.close();
  await sink?.close();
  await dns?.stop();
});

/** A short assertion on a large text (a failure names the needle, not 40 KB of report). */
function has(hay: string | Buffer, needle: string, yes = true): void {
  const h = typeof hay === "string" ? hay : hay.toString("latin1");
  expect({ needle, found: h.includes(needle) }).toEqual({ needle, found: yes });
}

const BODY = "CONFIDENTIAL-BODY-LINE " + "x".repeat(60) + "\r\n";

function message(subject: string, from: string, to: string): string {
  return `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, "")}@x>\r\n\r\n${BODY.repeat(500)}`;
}

async function sendMx(mailFrom: string, rcpt: string, raw: string, mailParams = "RET=FULL", rcptParams = "NOTIFY=SUCCESS"): Promise<void> {
  const c = await ehloSession(srv.port("SMTP"), "sender.example");
  expect((await c.cmd(`MAIL FROM:<${mailFrom}> ${mailParams}`)).code).toBe(250);
  expect((await c.cmd(`RCPT TO:<${rcpt}> ${rcptParams}`)).code).toBe(250);
  expect((await c.cmd("DATA")).code).toBe(354);
  c.write(raw + "\r\n.\r\n");
  expect((await c.read())?.code).toBe(250);
  c.close();
}

/** Reports (null reverse-path) the peer received for `to`. */
const reportsTo = (to: string): SinkTransaction[] =>
  sink.transactions.filter((t) => t.mailFrom.startsWith("MAIL FROM:<>") && t.rcpts.some((r) => r.toLowerCase().includes(`<${to}>`)));

const relayedCopies = (subject: string) => sink.transactions.filter((t) => !t.mailFrom.startsWith("MAIL FROM:<>") && t.wire.includes(`Subject: ${subject}\r\n`));

/** Waits until the queue is empty: every report the worker decided to send has been sent by then. */
const queueDrained = () => waitFor(async () => (await srv.store.listQueue()).length === 0);

describe("ORCPT and ENVID: xtext decoded, control characters refused", () => {
  const bad: [string, string][] = [
    ["MAIL", "ENVID=a+0D+0AX-Injected:+20yes"],
    ["MAIL", "ENVID=nul+00here"],
    ["RCPT", "ORCPT=rfc822;x+0D+0AAction:+20failed"],
    ["RCPT", "ORCPT=rfc822;x+0AX-Injected:+20yes"],
    ["RCPT", "ORCPT=rfc822;x+00y@example.test"],
    ["RCPT", "ORCPT=rfc822;esc+1B[31m@example.test"],
    ["RCPT", "ORCPT=rfc822;del+7F@example.test"],
    ["RCPT", "ORCPT=rfc822;x+0"], // malformed xtext
    ["RCPT", "ORCPT=rfc822;x+0d+0a"], // RFC 3461 §4: upper-case hex only
  ];
  for (const [verb, param] of bad) {
    test(`${verb} ... ${param} -> 501 5.5.4`, async () => {
      const c = await ehloSession(srv.port("SMTP"), "sender.example");
      const mailParam = verb === "MAIL" ? ` ${param}` : "";
      const m = await c.cmd(`MAIL FROM:<someone@sender.example>${mailParam}`);
      if (verb === "MAIL") {
        expect(m.code).toBe(501);
        expect(m.text).toStartWith("5.5.4");
      } else {
        expect(m.code).toBe(250);
        const r = await c.cmd(`RCPT TO:<fwd@example.test> ${param}`);
        expect(r.code).toBe(501);
        expect(r.text).toStartWith("5.5.4");
      }
      c.close();
    });
  }

  test("well-formed xtext is accepted and decoded into the report", async () => {
    const c = await submissionSession(srv.port("SUBMISSION"), "alice@example.test", PASS);
    expect((await c.cmd("MAIL FROM:<alice@example.test> ENVID=id+2B1")).code).toBe(250);
    expect((await c.cmd("RCPT TO:<nobody@sink.test> ORCPT=rfc822;orig+2Btag@example.test")).code).toBe(250);
    expect((await c.cmd("DATA")).code).toBe(354);
    c.write(message("xtext ok", "alice@example.test", "nobody@sink.test") + "\r\n.\r\n");
    expect((await c.read())?.code).toBe(250);
    c.close();
    const dsn = await waitFor(async () => (await folderMessages(srv.store, "alice@example.test")).find((m) => text(m).includes("Subject: xtext ok")));
    has(text(dsn), "Original-Envelope-Id: id+1");
    has(text(dsn), "Original-Recipient: rfc822; orig+tag@example.test");
    await queueDrained();
  });

  test("a queue entry from before the fix with CRLF in its ORCPT cannot inject report fields", async () => {
    await srv.store.enqueue({
      sender: "alice@example.test",
      recipients: ["nobody@sink.test"],
      raw: new TextEncoder().encode(message("old entry", "alice@example.test", "nobody@sink.test")),
      dsn: { envid: "e\r\nX-Injected: yes" },
      rcptDsn: { "nobody@sink.test": { orcpt: "rfc822;x\r\nAction: delivered\r\nX-Injected: yes" } },
    });
    kickQueues();
    const dsn = await waitFor(async () => (await folderMessages(srv.store, "alice@example.test")).find((m) => text(m).includes("Subject: old entry")));
    const t = text(dsn);
    expect(/\r\nX-Injected:/.test(t)).toBe(false);
    expect(/\r\nAction: delivered/.test(t)).toBe(false);
    has(t, "Action: failed");
    await queueDrained();
  });
});

describe("who gets which report", () => {
  test("forged unauthenticated sender, RET=FULL NOTIFY=SUCCESS to a forwarding alias: relayed, no report to the victim", async () => {
    await sendMx("victim@victim.test", "fwd@example.test", message("backscatter success", "victim@victim.test", "fwd@example.test"));
    await waitFor(() => relayedCopies("backscatter success").length === 1);
    await queueDrained();
    expect(reportsTo("victim@victim.test").length).toBe(0);
  });

  test("forged unauthenticated sender, RET=FULL, failure: the victim gets the failure report with headers only", async () => {
    await sendMx("victim@victim.test", "fwdfail@example.test", message("backscatter failure", "victim@victim.test", "fwdfail@example.test"), "RET=FULL", "NOTIFY=SUCCESS,FAILURE");
    const got = await waitFor(() => {
      const r = reportsTo("victim@victim.test").filter((t) => t.wire.includes("Subject: backscatter failure"));
      return r.length ? r : null;
    });
    await queueDrained();
    expect(got.length).toBe(1);
    const t = got[0]!.wire.toString("latin1");
    has(t, "Action: failed");
    has(t, "Content-Type: text/rfc822-headers");
    has(t, "Content-Type: message/rfc822", false);
    has(t, "CONFIDENTIAL-BODY-LINE", false);
    expect(got[0]!.wire.length).toBeLessThan(8000); // the 40 KB message did not come back
  });

  test("SPF-pass sender (good.test) with NOTIFY=SUCCESS gets its relayed report", async () => {
    await sendMx("boss@good.test", "fwd@example.test", message("spf pass success", "boss@good.test", "fwd@example.test"), "RET=HDRS");
    const got = await waitFor(() => {
      const r = reportsTo("boss@good.test").filter((t) => t.wire.includes("Subject: spf pass success"));
      return r.length ? r : null;
    });
    await queueDrained();
    expect(got.length).toBe(1);
    const t = got[0]!.wire.toString("latin1");
    has(t, "Action: relayed");
    has(t, "CONFIDENTIAL-BODY-LINE", false); // success reports return headers only
  });

  test("sender with an aligned DKIM pass (d=dkim.test, no SPF) gets its relayed report; an unaligned signature does not count", async () => {
    const sign = async (from: string, subject: string, d: string) => {
      const raw = message(subject, from, "fwd@example.test") ;
      const res = await dkimSign(Buffer.from(raw), {
        canonicalization: "relaxed/relaxed",
        signatureData: [{ signingDomain: d, selector: "sel", privateKey: dkimKey.privateKey.export({ type: "pkcs8", format: "pem" }) as string }],
      } as unknown as Parameters<typeof dkimSign>[1]);
      has(res.signatures, "d=" + d);
      return res.signatures + raw;
    };
    await sendMx("news@dkim.test", "fwd@example.test", await sign("news@dkim.test", "dkim aligned success", "dkim.test"));
    // Signed by dkim.test but MAIL FROM victim.test: the signature says nothing about the envelope sender.
    await sendMx("victim@victim.test", "fwd@example.test", await sign("news@dkim.test", "dkim unaligned success", "dkim.test"));
    const got = await waitFor(() => {
      const r = reportsTo("news@dkim.test").filter((t) => t.wire.includes("Subject: dkim aligned success"));
      return r.length ? r : null;
    });
    await waitFor(() => relayedCopies("dkim unaligned success").length === 1);
    await queueDrained();
    expect(got.length).toBe(1);
    has(got[0]!.wire.toString("latin1"), "Action: relayed");
    expect(reportsTo("victim@victim.test").filter((t) => t.wire.includes("dkim unaligned success")).length).toBe(0);
  });

  test("authenticated submission with NOTIFY=SUCCESS still gets its relayed report; its failure report returns the full message", async () => {
    const c = await submissionSession(srv.port("SUBMISSION"), "alice@example.test", PASS);
    expect((await c.cmd("MAIL FROM:<alice@example.test> RET=FULL")).code).toBe(250);
    expect((await c.cmd("RCPT TO:<dest@sink.test> NOTIFY=SUCCESS")).code).toBe(250);
    expect((await c.cmd("RCPT TO:<nobody@sink.test> NOTIFY=FAILURE")).code).toBe(250);
    expect((await c.cmd("DATA")).code).toBe(354);
    c.write(message("submitted report", "alice@example.test", "dest@sink.test") + "\r\n.\r\n");
    expect((await c.read())?.code).toBe(250);
    c.close();
    const inbox = async () => (await folderMessages(srv.store, "alice@example.test")).filter((m) => text(m).includes("Subject: submitted report"));
    const reports = await waitFor(async () => ((await inbox()).length === 2 ? inbox() : null));
    await queueDrained();
    const relayed = reports.find((m) => text(m).includes("Action: relayed"));
    const failed = reports.find((m) => text(m).includes("Action: failed"));
    expect(relayed).toBeDefined();
    has(text(relayed!), "Final-Recipient: rfc822; dest@sink.test");
    expect(failed).toBeDefined();
    has(text(failed!), "Content-Type: message/rfc822");
    has(text(failed!), "CONFIDENTIAL-BODY-LINE");
  });

  test("a DSN-capable next hop reports in our stead: an unverified sender's NOTIFY=SUCCESS and RET=FULL are not passed on", async () => {
    sink.options.dsn = true;
    try {
      await sendMx("victim@victim.test", "fwd@example.test", message("onward unverified", "victim@victim.test", "fwd@example.test"), "RET=FULL ENVID=e1", "NOTIFY=SUCCESS");
      const c = await submissionSession(srv.port("SUBMISSION"), "alice@example.test", PASS);
      expect((await c.cmd("MAIL FROM:<alice@example.test> RET=FULL ENVID=e2")).code).toBe(250);
      expect((await c.cmd("RCPT TO:<dest@sink.test> NOTIFY=SUCCESS,FAILURE")).code).toBe(250);
      expect((await c.cmd("DATA")).code).toBe(354);
      c.write(message("onward verified", "alice@example.test", "dest@sink.test") + "\r\n.\r\n");
      expect((await c.read())?.code).toBe(250);
      c.close();
      const unverified = await waitFor(() => relayedCopies("onward unverified")[0]);
      const verified = await waitFor(() => relayedCopies("onward verified")[0]);
      await queueDrained();
      expect(unverified.mailFrom).toContain(" RET=HDRS");
      expect(unverified.mailFrom).toContain(" ENVID=e1");
      expect(unverified.rcpts[0]).toContain(" NOTIFY=NEVER");
      expect(verified.mailFrom).toContain(" RET=FULL");
      expect(verified.rcpts[0]).toContain(" NOTIFY=SUCCESS,FAILURE");
      // the next hop does the reporting: we send no "relayed" report of our own
      expect(reportsTo("victim@victim.test").filter((t) => t.wire.includes("onward unverified")).length).toBe(0);
    } finally {
      sink.options.dsn = false;
    }
  });
});
