/**
 * Issue 13 item 16: body lines longer than 1,000 octets are accepted on
 * receipt and stored as received (RFC 5321 §4.5.3.1 asks receivers to avoid
 * such limits; Postfix, Dovecot LMTP and Exchange accept them), up to the
 * MAX_BODY_LINE hard cap (1 MiB); past it the message gets a clear 500 after
 * the end of data and the session goes on. Command lines keep their limit
 * (RFC 5321 §4.5.3.1.4).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MAX_BODY_LINE } from "../../protocols/smtp/parser.ts";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { ehloSession, folderMessages, run, stripTrace } from "./helpers.ts";

let srv: TestServer;
const MAX = 4 * 1024 * 1024;

beforeAll(async () => {
  srv = await startTestServer({ listeners: ["SMTP"], config: { limits: { maxMessageSize: MAX } } });
  await createUser(srv.store, "bob@example.test", "pw-123456");
});

afterAll(async () => {
  await srv?.close();
});

const last = async () => {
  const m = await folderMessages(srv.store, "bob@example.test");
  return { count: m.length, raw: m[m.length - 1] };
};

describe("long body lines on receipt", () => {
  test("python smtplib: a 50,000-octet single-line HTML body is accepted and read back byte for byte", async () => {
    const before = (await last()).count;
    const html = "<html><body>" + "<p>long line</p>".repeat(3123) + "end at" + "</body></html>"; // one line
    expect(html.length).toBe(50_000);
    const message =
      "From: sender@remote.test\r\nTo: bob@example.test\r\nSubject: one-line html\r\n" +
      "MIME-Version: 1.0\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n" +
      html +
      "\r\n";
    const py = `
import smtplib, sys
msg = sys.stdin.buffer.read()
s = smtplib.SMTP("127.0.0.1", ${srv.port("SMTP")}, timeout=30)
s.ehlo("client.example")
try:
    s.sendmail("sender@remote.test", ["bob@example.test"], msg)
    print("SENT")
except smtplib.SMTPDataError as e:
    print("REFUSED", e.smtp_code, e.smtp_error.decode())
s.quit()
`;
    const r = await run("python3", ["-c", py], { input: message });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("SENT");
    const after = await last();
    expect(after.count).toBe(before + 1);
    expect(stripTrace(after.raw!)).toBe(message);
  }, 60_000);

  test("BDAT: a 200,000-octet line is stored as received", async () => {
    const before = (await last()).count;
    const body = "Subject: bdat long line\r\n\r\n" + "b".repeat(200_000) + "\r\n";
    const c = await ehloSession(srv.port("SMTP"));
    await c.cmd("MAIL FROM:<sender@remote.test>");
    await c.cmd("RCPT TO:<bob@example.test>");
    c.write(`BDAT ${body.length} LAST\r\n${body}`);
    expect((await c.read())!.code).toBe(250);
    const after = await last();
    expect(after.count).toBe(before + 1);
    expect(stripTrace(after.raw!)).toBe(body);
    c.close();
  }, 60_000);

  test("a line over the 1 MiB hard cap: 500 5.5.2 after the end of data, nothing stored, the session goes on", async () => {
    const before = (await last()).count;
    const c = await ehloSession(srv.port("SMTP"));
    await c.cmd("MAIL FROM:<sender@remote.test>");
    await c.cmd("RCPT TO:<bob@example.test>");
    expect((await c.cmd("DATA")).code).toBe(354);
    c.write("Subject: too long\r\n\r\n");
    const piece = "q".repeat(64 * 1024);
    for (let sent = 0; sent < MAX_BODY_LINE + 10; sent += piece.length) c.write(piece);
    c.write("\r\n.\r\n");
    const r = (await c.read(30_000))!;
    expect(r.code).toBe(500);
    expect(r.text).toStartWith("5.5.2");
    expect(r.text).toContain("Line too long");
    expect((await last()).count).toBe(before);
    // the same over BDAT, refused at the chunk
    await c.cmd("MAIL FROM:<sender@remote.test>");
    await c.cmd("RCPT TO:<bob@example.test>");
    const big = "Subject: x\r\n\r\n" + "r".repeat(MAX_BODY_LINE + 1) + "\r\n";
    c.write(`BDAT ${big.length} LAST\r\n${big}`);
    const b = (await c.read(30_000))!;
    expect(b.code).toBe(500);
    expect(b.text).toStartWith("5.5.2");
    expect((await last()).count).toBe(before);
    // and the next message goes through
    await c.cmd("MAIL FROM:<sender@remote.test>");
    await c.cmd("RCPT TO:<bob@example.test>");
    await c.cmd("DATA");
    expect((await c.cmd("Subject: fine\r\n\r\nshort\r\n.")).code).toBe(250);
    expect((await last()).count).toBe(before + 1);
    c.close();
  }, 60_000);

  test("command lines keep their limit: a 600-octet NOOP gets 500 5.5.2 Line too long", async () => {
    const c = await ehloSession(srv.port("SMTP"));
    const r = await c.cmd("NOOP " + "n".repeat(600));
    expect(r.code).toBe(500);
    expect(r.text).toStartWith("5.5.2");
    expect((await c.cmd("NOOP")).code).toBe(250);
    c.close();
  });
});
