/**
 * The iMIP round trip between two Pillarbox instances:
 *
 *   mail.pillarbox.test (127.0.0.1): alice@example.test, bob@example.test
 *   mx.remote.test      (127.0.0.2): carol@remote.test
 *
 * A local DNS server (Debian's dnsmasq) publishes the MX records and SPF/DMARC
 * policies of both domains, and both instances verify inbound mail
 * (SPF/DKIM/DMARC), so the scheduling messages between them are authenticated
 * the way they are on the Internet, and a forged one is not.
 *
 * alice invites bob (local) and carol (remote) over CalDAV; bob accepts over
 * CalDAV (curl PUT with PARTSTAT=ACCEPTED); carol accepts in her own
 * instance's CalDAV, which sends the text/calendar REPLY mail back through its
 * queue; alice's copy (CalDAV GET) shows both ACCEPTED; bob's INBOX (python3
 * imaplib) has the invitation and his calendar the event; a REPLY forged from
 * outside changes nothing; alice deleting the event cancels bob's and carol's
 * copies.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import * as net from "node:net";
import { hasCommand, run } from "../helpers/proc.ts";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { startDnsmasq, waitFor, type Dnsmasq } from "../smtp/helpers.ts";
import { curl, responses, texts, xmlHeaders, type DavServer } from "./core-helpers.ts";
import "../../protocols/http/index.ts";

setDefaultTimeout(120_000);

const PASS = "round trip secret";
const ALICE = "alice@example.test";
const BOB = "bob@example.test";
const CAROL = "carol@remote.test";
const UID = "roundtrip-1@example.test";
const ICS = { "content-type": "text/calendar; charset=utf-8" };
const needed = ["dnsmasq", "curl", "/usr/bin/python3"];
const missing = needed.filter((c) => !hasCommand(c));
// Outside CI a missing tool skips; under CI it must fail (rules of the test suite).
const skip = missing.length > 0 && process.env.CI !== "true";

let dns: Dnsmasq;
let local: TestServer;
let remote: TestServer;
let L: DavServer;
let R: DavServer;

/** A TCP port free on this address right now (the two instances must know each other's SMTP port before they start). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen({ host, port: 0 }, () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

const dav = (srv: TestServer): DavServer => ({ srv, base: `https://127.0.0.1:${srv.port("HTTPS")}`, close: () => srv.close() });
const calendarOf = (u: string) => `/dav/calendars/${u}/Calendar/`;

beforeAll(async () => {
  if (skip) return;
  if (missing.length) throw new Error(`missing tools: ${missing.join(", ")}`);
  dns = await startDnsmasq({
    mx: [
      ["example.test", "mail.pillarbox.test", 10],
      ["remote.test", "mx.remote.test", 10],
    ],
    hosts: [
      ["mail.pillarbox.test", "127.0.0.1"],
      ["mx.remote.test", "127.0.0.2"],
    ],
    txt: [
      // Both domains send from 127.0.0.0/8 and publish DMARC; p=none, so a forgery is delivered
      // (to INBOX) and it is the iMIP processor that must refuse it.
      ["example.test", "v=spf1 ip4:127.0.0.0/8 -all"],
      ["_dmarc.example.test", "v=DMARC1; p=none"],
      ["remote.test", "v=spf1 ip4:127.0.0.0/8 -all"],
      ["_dmarc.remote.test", "v=DMARC1; p=none"],
      ["evil.test", "v=spf1 -all"],
    ],
  });
  const localSmtp = await freePort("127.0.0.1");
  const remoteSmtp = await freePort("127.0.0.2");
  const common = { smtp: { verifyInbound: true, dmarcReject: true, dmarcQuarantine: "junk" as const } };
  local = await startTestServer({
    listeners: ["SMTP", "HTTPS", "IMAP"],
    config: { ...common, listeners: { SMTP: { host: "127.0.0.1", port: localSmtp } }, queue: { dnsServers: [dns.server], remotePort: remoteSmtp } },
  });
  remote = await startTestServer({
    listeners: ["SMTP", "HTTPS"],
    config: { ...common, hostname: "mx.remote.test", listeners: { SMTP: { host: "127.0.0.2", port: remoteSmtp } }, queue: { dnsServers: [dns.server], remotePort: localSmtp } },
  });
  await createUser(local.store, ALICE, PASS, { displayName: "Alice" });
  await createUser(local.store, BOB, PASS, { displayName: "Bob" });
  await createUser(remote.store, CAROL, PASS, { displayName: "Carol" });
  L = dav(local);
  R = dav(remote);
});

afterAll(async () => {
  await local?.close();
  await remote?.close();
  await dns?.stop();
});

/** The body and href of the one object in a user's calendar whose body has `uid`, via CalDAV (PROPFIND Depth 1 + GET). */
async function findEvent(d: DavServer, user: string, uid: string): Promise<{ href: string; etag: string; body: string } | null> {
  const list = await curl(d, "PROPFIND", calendarOf(user), { user, pass: PASS, headers: xmlHeaders("1"), body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>` });
  for (const r of responses(list.body).slice(1)) {
    const href = texts(r, "href")[0]!;
    const got = await curl(d, "GET", href, { user, pass: PASS });
    if (got.status === 200 && got.body.includes(`UID:${uid}`)) return { href, etag: got.headers.etag!, body: got.body };
  }
  return null;
}

const partstatOf = (body: string, who: string) => new RegExp(`ATTENDEE[^\\r\\n]*PARTSTAT=([A-Z-]+)[^\\r\\n]*:mailto:${who.replace(/\./g, "\\.")}`, "i").exec(body.replace(/\r\n[ \t]/g, ""))?.[1] ?? null;

async function accept(d: DavServer, user: string): Promise<void> {
  const ev = await waitFor(() => findEvent(d, user, UID), 60_000);
  const body = ev.body.replace(/\r\n[ \t]/g, "").replace(new RegExp(`(ATTENDEE[^\\r\\n]*?)PARTSTAT=NEEDS-ACTION([^\\r\\n]*:mailto:${user.replace(/\./g, "\\.")})`, "i"), "$1PARTSTAT=ACCEPTED$2");
  expect(partstatOf(body, user)).toBe("ACCEPTED");
  const put = await curl(d, "PUT", ev.href, { user, pass: PASS, body, headers: { ...ICS, "if-match": ev.etag } });
  expect(put.status).toBe(204);
}

describe.skipIf(skip)("iMIP round trip between two servers", () => {
  test("alice invites bob (local) and carol (remote): both calendars get the event, bob's INBOX the message", async () => {
    const event = [
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "PRODID:-//Pillarbox tests//EN",
      "BEGIN:VEVENT",
      `UID:${UID}`,
      "DTSTAMP:20261201T100000Z",
      "DTSTART:20261215T140000Z",
      "DTEND:20261215T150000Z",
      "SUMMARY:Quarterly review",
      "LOCATION:Room 4",
      "SEQUENCE:0",
      `ORGANIZER;CN=Alice:mailto:${ALICE}`,
      `ATTENDEE;CN=Alice;PARTSTAT=ACCEPTED:mailto:${ALICE}`,
      `ATTENDEE;CN=Bob;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:${BOB}`,
      `ATTENDEE;CN=Carol;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:${CAROL}`,
      "END:VEVENT",
      "END:VCALENDAR",
      "",
    ].join("\r\n");
    const put = await curl(L, "PUT", calendarOf(ALICE) + "review.ics", { user: ALICE, pass: PASS, body: event, headers: ICS });
    expect(put.status).toBe(201);

    const bobs = await waitFor(() => findEvent(L, BOB, UID), 60_000);
    expect(bobs.body).toContain("SUMMARY:Quarterly review");
    expect(partstatOf(bobs.body, BOB)).toBe("NEEDS-ACTION");
    // carol's copy came through alice's queue, carol's MX and its DMARC check
    const carols = await waitFor(() => findEvent(R, CAROL, UID), 60_000);
    expect(carols.body).toContain("ORGANIZER;CN=Alice:mailto:alice@example.test");

    // bob's INBOX, read with python3's imaplib: the invitation as a text/calendar message
    const script = `
import imaplib, email, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login(sys.argv[2], sys.argv[3])
m.select("INBOX")
typ, data = m.search(None, '(SUBJECT "Invitation: Quarterly review")')
ids = data[0].split()
print("count", len(ids))
typ, msg = m.fetch(ids[0], "(RFC822)")
msg = email.message_from_bytes(msg[0][1])
print("from", msg["From"])
for part in msg.walk():
    ct = part.get_content_type()
    if ct == "text/calendar":
        print("calendar", part.get_param("method"), "UID:${UID}" in part.get_payload(decode=True).decode())
    if part.get_filename():
        print("attachment", part.get_filename(), ct)
m.logout()
`;
    const r = await run("/usr/bin/python3", ["-c", script, String(local.port("IMAP")), BOB, PASS]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`count 1\nfrom Alice <alice@example.test>\ncalendar REQUEST True\nattachment invite.ics application/ics\n`);
  });

  test("bob accepts over CalDAV, carol in her own server; alice's copy shows both ACCEPTED", async () => {
    await accept(L, BOB);
    await waitFor(async () => partstatOf((await findEvent(L, ALICE, UID))!.body, BOB) === "ACCEPTED", 60_000);

    // A REPLY forged from outside (envelope from evil.test, From: bob) reaches alice (the spam filter files it in
    // Junk: a From of a local domain without authentication) but changes nothing.
    const forged = [
      `From: Bob <${BOB}>`,
      `To: ${ALICE}`,
      "Subject: Declined: Quarterly review",
      "Message-ID: <forged-1@evil.test>",
      "MIME-Version: 1.0",
      'Content-Type: text/calendar; method=REPLY; charset="utf-8"',
      "",
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "PRODID:-//evil//EN",
      "METHOD:REPLY",
      "BEGIN:VEVENT",
      `UID:${UID}`,
      "DTSTAMP:20261207T100000Z",
      "SEQUENCE:0",
      `ORGANIZER:mailto:${ALICE}`,
      `ATTENDEE;PARTSTAT=DECLINED:mailto:${BOB}`,
      "END:VEVENT",
      "END:VCALENDAR",
      "",
    ].join("\r\n");
    const smtp = `
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
s.ehlo("mx.evil.test")
s.sendmail("x@evil.test", [sys.argv[2]], sys.stdin.buffer.read())
s.quit()
print("sent")
`;
    const sent = await run("/usr/bin/python3", ["-c", smtp, String(local.port("SMTP")), ALICE], { input: forged });
    expect(sent.stdout).toBe("sent\n");
    const { folderMessages } = await import("../smtp/helpers.ts");
    const arrived = async () => [...(await folderMessages(local.store, ALICE)), ...(await folderMessages(local.store, ALICE, "Junk"))];
    await waitFor(async () => (await arrived()).some((m) => new TextDecoder().decode(m).includes("forged-1@evil.test")), 30_000);

    await accept(R, CAROL);
    const final = await waitFor(async () => {
      const a = await findEvent(L, ALICE, UID);
      return a && partstatOf(a.body, CAROL) === "ACCEPTED" ? a : null;
    }, 60_000);
    expect(partstatOf(final.body, BOB)).toBe("ACCEPTED");
    expect(partstatOf(final.body, ALICE)).toBe("ACCEPTED");
    expect(final.body).toContain("SUMMARY:Quarterly review");
    // carol's reply came as mail: alice's INBOX has it, with the text/calendar REPLY
    const replies = (await folderMessages(local.store, ALICE)).map((m) => new TextDecoder().decode(m)).filter((m) => m.includes("METHOD:REPLY") && m.includes("Subject: Accepted"));
    expect(replies.length).toBe(2);
    expect(replies.some((m) => m.includes("From: Carol <carol@remote.test>") && /Authentication-Results: mail\.pillarbox\.test;[\s\S]*dmarc=pass/.test(m))).toBe(true);
  });

  test("alice deletes the event: bob's and carol's copies are cancelled", async () => {
    const mine = (await findEvent(L, ALICE, UID))!;
    expect((await curl(L, "DELETE", mine.href, { user: ALICE, pass: PASS })).status).toBe(204);
    const bobs = await waitFor(async () => {
      const b = await findEvent(L, BOB, UID);
      return b?.body.includes("STATUS:CANCELLED") ? b : null;
    }, 60_000);
    expect(bobs.body).toContain("SUMMARY:Quarterly review");
    await waitFor(async () => (await findEvent(R, CAROL, UID))?.body.includes("STATUS:CANCELLED"), 60_000);
  });
});
