/**
 * Issue 13 item 11: the per-account throttle holds on every protocol, not
 * only where it was first tried. After guesses for dora over IMAP, the right
 * password from an unknown address is answered as a temporary refusal by
 * POP3 (python poplib), SMTP AUTH on submission (python smtplib) and
 * ActiveSync (HTTP 503 with Retry-After); guesses over POP3 count for IMAP.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { connect } from "node:net";
import { execFile } from "node:child_process";
import "../../protocols/index.ts";
import "../../protocols/imap/index.ts";
import "../../protocols/http/eas/index.ts";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { closeConnections, httpsRequest } from "../eas/client.ts";

setDefaultTimeout(60_000);

let srv: TestServer;
const env = {
  get srv() {
    return srv;
  },
  get port() {
    return srv.port("HTTPS");
  },
};
beforeAll(async () => {
  // A 30 s first delay (the default is 1 s): each check below starts a python process, which on a
  // loaded machine can take longer than a second, and the refusal must still be inside the delay.
  srv = await startTestServer({ listeners: ["HTTPS", "SUBMISSION", "IMAP", "POP3"], accountThrottle: { accountBaseDelayMs: 30_000 } });
  await createUser(env.srv.store, "dora@example.test", "dora-right-pass1");
  await createUser(env.srv.store, "fred@example.test", "fred-right-pass1");
});
afterAll(async () => {
  closeConnections();
  await srv.close();
});

function python(code: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("python3", ["-c", code], { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout.trim())));
  });
}

/** One IMAP LOGIN from a given source address; the tagged reply. */
function imapLogin(localAddress: string, user: string, pass: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const s = connect({ host: "127.0.0.1", port: env.srv.port("IMAP"), localAddress }, () => s.write(`a LOGIN "${user}" "${pass}"\r\n`));
    s.setEncoding("utf8");
    s.on("data", (d: string) => {
      buf += d;
      const m = /^a (.*)\r\n/m.exec(buf);
      if (m) {
        s.destroy();
        resolve(m[1]!);
      }
    });
    s.on("error", reject);
  });
}

const pop3Login = (user: string, pass: string) =>
  python(`import poplib
p=poplib.POP3('127.0.0.1', ${env.srv.port("POP3")})
try:
  p.user(${JSON.stringify(user)}); p.pass_(${JSON.stringify(pass)}); print('OK')
except poplib.error_proto as e:
  print(e.args[0].decode())`);

const smtpLogin = (user: string, pass: string) =>
  python(`import smtplib, ssl
c=ssl.create_default_context(); c.check_hostname=False; c.verify_mode=ssl.CERT_NONE
s=smtplib.SMTP('127.0.0.1', ${env.srv.port("SUBMISSION")}); s.starttls(context=c); s.ehlo()
try:
  s.login(${JSON.stringify(user)}, ${JSON.stringify(pass)}); print('235')
except smtplib.SMTPAuthenticationError as e:
  print(e.smtp_code, e.smtp_error.decode())
except smtplib.SMTPResponseException as e:
  print(e.smtp_code, e.smtp_error.decode())`);

describe("the per-account throttle on every protocol", () => {
  test("after guesses over IMAP, POP3, SMTP AUTH and ActiveSync refuse the right password from an unknown address as temporary", async () => {
    for (let i = 0; i < 8; i++) expect(await imapLogin(`127.0.6.${i + 1}`, "dora@example.test", `guess ${i}`)).toMatch(/^NO /);
    expect(await pop3Login("dora@example.test", "dora-right-pass1")).toMatch(/^-ERR \[SYS\/TEMP\]/);
    expect(await smtpLogin("<dora@example.test>", "dora-right-pass1")).toMatch(/^454 4\.7\.0/);
    const eas = await httpsRequest({
      host: "127.0.0.1",
      port: env.port,
      method: "OPTIONS",
      path: "/Microsoft-Server-ActiveSync",
      headers: { authorization: "Basic " + Buffer.from("dora@example.test.:dora-right-pass1").toString("base64") },
    });
    expect(eas.status).toBe(503);
    expect(Number(eas.headers["retry-after"])).toBeGreaterThan(0);
  });

  test("guesses over POP3 slow down IMAP for the same account", async () => {
    for (let i = 0; i < 6; i++) expect(await pop3Login("FRED@example.test", `guess ${i}`)).toMatch(/^-ERR/);
    expect(await imapLogin("127.0.7.1", "fred@ｅxample.test", "fred-right-pass1")).toMatch(/^NO \[UNAVAILABLE\]/);
  });
});
