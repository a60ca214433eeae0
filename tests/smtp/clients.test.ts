/**
 * Real clients over real sockets: swaks, python3 smtplib and curl against
 * the three listeners. Every delivered message is read back from the store
 * and compared byte for byte (after removing the trace headers we add).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { folderMessages, run, stripTrace, text, withoutSpamFields } from "./helpers.ts";

let srv: TestServer;
let dir: string;

const ALICE = "alice@example.test";
const BOB = "bob@example.test";
const PASS = "correct horse battery";

function message(subject: string, extra = ""): string {
  return [
    `From: Alice <${ALICE}>`,
    `To: Bob <${BOB}>`,
    `Subject: ${subject}`,
    "Date: Fri, 27 Nov 2026 12:00:00 +0000",
    `Message-ID: <${subject.replace(/\W/g, "")}@example.test>`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "Hello Bob,",
    ".a line that starts with a dot",
    "..and one with two",
    extra,
    "Bye.",
    "",
  ].join("\r\n");
}

async function lastMessage(email: string): Promise<Uint8Array> {
  const msgs = await folderMessages(srv.store, email);
  expect(msgs.length).toBeGreaterThan(0);
  return msgs[msgs.length - 1]!;
}

beforeAll(async () => {
  srv = await startTestServer({ listeners: ["SMTP", "SUBMISSION", "SUBMISSIONS"] });
  await createUser(srv.store, ALICE, PASS);
  await createUser(srv.store, BOB, PASS);
  dir = mkdtempSync(join(tmpdir(), "pb-smtp-clients-"));
});

afterAll(async () => {
  await srv?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** swaks sends the file, then CRLF "." CRLF: a file without its last CRLF arrives exactly as `body`. */
const swaksFile = (name: string, body: string) => {
  const file = join(dir, name);
  writeFileSync(file, body.slice(0, -2));
  return file;
};

describe("swaks", () => {
  test("MX delivery on port 25, read back byte for byte", async () => {
    const body = message("swaks mx");
    const file = swaksFile("mx.eml", body);
    const r = await run("swaks", ["--server", `127.0.0.1:${srv.port("SMTP")}`, "--from", "someone@remote.test", "--to", BOB, "--helo", "client.remote.test", "--data", file]);
    expect(r.stdout).toContain("<-  250 2.0.0 Ok");
    const raw = await lastMessage(BOB);
    expect(stripTrace(raw)).toBe(body);
    const head = withoutSpamFields(text(raw));
    expect(head).toMatch(/^Received: from client\.remote\.test \(\[127\.0\.0\.1\]\)\r\n\tby mail\.pillarbox\.test \(Pillarbox\) with ESMTP id /);
    expect(head).toContain(`for <${BOB}>`);
  });

  test("STARTTLS + AUTH PLAIN on 587 (submission), DKIM-signed, byte for byte", async () => {
    const body = message("swaks submission");
    const file = swaksFile("sub.eml", body);
    const r = await run("swaks", [
      "--server", `127.0.0.1:${srv.port("SUBMISSION")}`, "-tls",
      "--auth", "PLAIN", "--auth-user", ALICE, "--auth-password", PASS,
      "--from", ALICE, "--to", BOB, "--data", file,
    ]);
    expect(r.stdout).toContain("250 AUTH PLAIN LOGIN");
    expect(r.stdout).toContain("235 2.7.0 Authentication successful");
    expect(r.stdout).toContain("<~  250 2.0.0 Ok");
    const raw = await lastMessage(BOB);
    expect(stripTrace(raw)).toBe(body);
    expect(text(raw)).toMatch(/^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=example\.test;/);
    expect(text(raw)).toContain("with ESMTPSA");
  });

  test("implicit TLS on 465 with AUTH LOGIN", async () => {
    const body = message("swaks 465");
    const file = swaksFile("465.eml", body);
    const r = await run("swaks", [
      "--server", `127.0.0.1:${srv.port("SUBMISSIONS")}`, "-tlsc",
      "--auth", "LOGIN", "--auth-user", ALICE, "--auth-password", PASS,
      "--from", ALICE, "--to", BOB, "--data", file,
    ]);
    expect(r.stdout).toContain("=== TLS started");
    expect(r.stdout).toContain("<~  220 mail.pillarbox.test ESMTP");
    expect(r.stdout).toContain("<~  250 2.0.0 Ok");
    expect(r.stdout).not.toContain("STARTTLS");
    expect(stripTrace(await lastMessage(BOB))).toBe(body);
  });

  test("wrong password gets 535 5.7.8", async () => {
    const r = await run("swaks", [
      "--server", `127.0.0.1:${srv.port("SUBMISSION")}`, "-tls",
      "--auth", "PLAIN", "--auth-user", ALICE, "--auth-password", "wrong",
      "--from", ALICE, "--to", BOB,
    ]);
    expect(r.stdout).toContain("535 5.7.8");
  });

  test("port 25 never offers AUTH, even after STARTTLS", async () => {
    const r = await run("swaks", ["--server", `127.0.0.1:${srv.port("SMTP")}`, "-tls", "--from", "x@remote.test", "--to", BOB, "--quit-after", "EHLO"]);
    expect(r.stdout).toContain("=== TLS started");
    expect(r.stdout).not.toContain("AUTH");
  });
});

describe("python3 smtplib", () => {
  test("MX delivery with SMTPUTF8 and an 8-bit body", async () => {
    const body = "From: Jörg <jörg@remote.test>\r\nTo: bob@example.test\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nMessage-ID: <py1@remote.test>\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße aus Köln — ✓\r\n.\r\n";
    const script = `
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", ${srv.port("SMTP")})
s.ehlo("py.remote.test")
assert s.has_extn("smtputf8") and s.has_extn("8bitmime") and s.has_extn("pipelining") and s.has_extn("chunking")
refused = s.sendmail("jörg@remote.test", ["bob@example.test"], sys.stdin.buffer.read(), mail_options=["SMTPUTF8", "BODY=8BITMIME"])
print("refused", refused)
s.quit()
`;
    const r = await run("python3", ["-c", script], { input: body });
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("refused {}");
    const raw = await lastMessage(BOB);
    expect(stripTrace(raw)).toBe(body);
    expect(text(raw)).toContain("with UTF8SMTP id");
  });

  test("submission with STARTTLS + LOGIN; sender checks (553 5.7.1)", async () => {
    const body = message("python submission");
    const script = `
import smtplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP("127.0.0.1", ${srv.port("SUBMISSION")})
s.ehlo()
try:
    s.login("${ALICE}", "${PASS}")
    print("login before tls: ok?!")
except smtplib.SMTPNotSupportedError:
    print("no auth before tls")
try:
    s.sendmail("${ALICE}", ["${BOB}"], b"Subject: x\\r\\n\\r\\nx\\r\\n")
except smtplib.SMTPSenderRefused as e:
    print("refused before auth", e.smtp_code, e.smtp_error.decode())
s.starttls(context=ctx)
s.ehlo()
s.login("${ALICE}", "${PASS}")
try:
    s.sendmail("${BOB}", ["${BOB}"], b"Subject: x\\r\\n\\r\\nx\\r\\n")
except smtplib.SMTPSenderRefused as e:
    print("sender refused", e.smtp_code, e.smtp_error.decode())
try:
    s.sendmail("${ALICE}", ["${BOB}"], b"From: ${BOB}\\r\\nSubject: x\\r\\n\\r\\nx\\r\\n")
except smtplib.SMTPDataError as e:
    print("from refused", e.smtp_code, e.smtp_error.decode())
print("sent", s.sendmail("${ALICE}", ["${BOB}"], sys.stdin.buffer.read()))
s.quit()
`;
    const r = await run("python3", ["-c", script], { input: body });
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("no auth before tls");
    expect(r.stdout).toContain("refused before auth 530 5.7.0");
    expect(r.stdout).toContain("sender refused 553 5.7.1");
    expect(r.stdout).toContain("from refused 553 5.7.1");
    expect(r.stdout).toContain("sent {}");
    expect(stripTrace(await lastMessage(BOB))).toBe(body);
  });
});

describe("curl", () => {
  test("smtp:// MX delivery", async () => {
    const body = message("curl mx");
    const file = join(dir, "curl.eml");
    writeFileSync(file, body);
    const r = await run("curl", ["-sS", `smtp://127.0.0.1:${srv.port("SMTP")}/client.remote.test`, "--mail-from", "c@remote.test", "--mail-rcpt", BOB, "-T", file]);
    expect(r.code).toBe(0);
    expect(stripTrace(await lastMessage(BOB))).toBe(body);
  });

  test("smtp:// submission with --ssl-reqd and smtps:// on 465", async () => {
    for (const [url, name] of [
      [`smtp://127.0.0.1:${srv.port("SUBMISSION")}`, "curl starttls"],
      [`smtps://127.0.0.1:${srv.port("SUBMISSIONS")}`, "curl smtps"],
    ] as const) {
      const body = message(name);
      const file = join(dir, "curl-sub.eml");
      writeFileSync(file, body);
      const r = await run("curl", ["-sS", url, "--ssl-reqd", "-k", "--user", `${ALICE}:${PASS}`, "--mail-from", ALICE, "--mail-rcpt", BOB, "-T", file]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(stripTrace(await lastMessage(BOB))).toBe(body);
    }
  });

  test("curl without TLS cannot submit", async () => {
    const file = join(dir, "curl-plain.eml");
    writeFileSync(file, message("curl plain"));
    const r = await run("curl", ["-sS", `smtp://127.0.0.1:${srv.port("SUBMISSION")}`, "--user", `${ALICE}:${PASS}`, "--mail-from", ALICE, "--mail-rcpt", BOB, "-T", file]);
    expect(r.code).not.toBe(0);
  });
});
