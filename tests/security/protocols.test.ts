/**
 * Two-factor sign-in, app passwords and disabled accounts over every
 * protocol, end to end with real clients: python3 imaplib, poplib and smtplib
 * (SMTP AUTH after STARTTLS on the submission port), curl with Basic auth for
 * CalDAV/CardDAV (PROPFIND /dav/) and ActiveSync (OPTIONS), and the webmail's
 * sign-in form over HTTPS.
 *
 *  - before 2FA the main password and an app password both work;
 *  - with 2FA on, the main password is refused by IMAP, POP3, SMTP, DAV and
 *    ActiveSync — also right after it was cached by a successful login —
 *    while app passwords are accepted; the webmail takes the main password
 *    plus a TOTP code (never an app password), and a code is good once;
 *  - revoking an app password ends that device's access at once (a cached
 *    login too); a disabled account is refused everywhere and its webmail
 *    session ends.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFile } from "node:child_process";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { cookiesOf, request } from "../webmail/helpers.ts";
import { totpCode, totpStep } from "../../src/auth-factors.ts";
import type { Account } from "../../storage/api.ts";
import { connect } from "node:net";
import { imapCredentialCheck } from "../../protocols/imap/session.ts";

const EMAIL = "erin@example.test";
const PASSWORD = "erin main password 42";

let srv: TestServer;
let erin: Account;
let base: string;

function exec(cmd: string, args: string[], input?: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    // async on purpose: the server runs in this process
    const child = execFile(cmd, args, { timeout: 30_000 }, (err, out, errOut) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: String(out), err: String(errOut) }),
    );
    if (input !== undefined) child.stdin!.end(input);
    else child.stdin!.end();
  });
}

/** One login with a real client; "ok" or the refusal's first words. */
const PY = `
import sys, ssl, imaplib, poplib, smtplib
proto, port, user, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
try:
    if proto == "imap":
        c = imaplib.IMAP4("127.0.0.1", port, timeout=20); c.login(user, pw); c.select("INBOX"); c.logout()
    elif proto == "pop3":
        c = poplib.POP3("127.0.0.1", port, timeout=20); c.user(user); c.pass_(pw); c.stat(); c.quit()
    elif proto == "smtp":
        c = smtplib.SMTP("127.0.0.1", port, timeout=20); c.starttls(context=ctx); c.login(user, pw); c.quit()
    print("ok")
except Exception as e:
    print("refused", type(e).__name__, str(e)[:200])
`;

async function mailLogin(proto: "imap" | "pop3" | "smtp", password: string): Promise<string> {
  const port = srv.port(proto === "imap" ? "IMAP" : proto === "pop3" ? "POP3" : "SUBMISSION");
  const r = await exec("python3", ["-c", PY, proto, String(port), EMAIL, password]);
  return r.out.trim() || r.err.trim();
}

/** curl with Basic auth: the HTTP status. */
async function httpBasic(kind: "dav" | "eas", password: string): Promise<number> {
  const args =
    kind === "dav"
      ? ["-sk", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PROPFIND", "-H", "Depth: 0", "-u", `${EMAIL}:${password}`, `${base}/dav/`]
      : ["-sk", "-o", "/dev/null", "-w", "%{http_code}", "-X", "OPTIONS", "-u", `${EMAIL}:${password}`, `${base}/Microsoft-Server-ActiveSync`];
  const r = await exec("curl", args);
  return Number(r.out.trim());
}

/** Every non-interactive protocol at once: protocol -> "ok" / status. */
async function everywhere(password: string): Promise<Record<string, string>> {
  const [imap, pop3, smtp, dav, eas] = await Promise.all([mailLogin("imap", password), mailLogin("pop3", password), mailLogin("smtp", password), httpBasic("dav", password), httpBasic("eas", password)]);
  const first = (s: string) => (s === "ok" ? "ok" : "refused");
  return { imap: first(imap), pop3: first(pop3), smtp: first(smtp), dav: dav === 207 ? "ok" : dav === 401 ? "refused" : `http ${dav}`, eas: eas === 200 ? "ok" : eas === 401 ? "refused" : `http ${eas}` };
}
const ALL_OK = { imap: "ok", pop3: "ok", smtp: "ok", dav: "ok", eas: "ok" };
const ALL_REFUSED = { imap: "refused", pop3: "refused", smtp: "refused", dav: "refused", eas: "refused" };

/** The webmail's sign-in form: status, the page, and the cookies/challenge to go on with. */
async function webSignIn(password: string): Promise<{ status: number; text: string; challenge: string | null; csrf: string; cookie: string; session: string | null }> {
  const page = await request("GET", base + "/login");
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? "";
  const cookie = cookiesOf(page).join("; ");
  const res = await request("POST", base + "/login", {
    headers: { "content-type": "application/x-www-form-urlencoded", origin: base, cookie, "sec-fetch-site": "same-origin" },
    body: new URLSearchParams({ email: EMAIL, password, csrf }).toString(),
  });
  return {
    status: res.status,
    text: res.text,
    challenge: /name="challenge" value="([^"]+)"/.exec(res.text)?.[1] ?? null,
    csrf: /name="csrf" value="([^"]+)"/.exec(res.text)?.[1] ?? "",
    cookie: cookiesOf(res).join("; ") || cookie,
    session: cookiesOf(res).find((c) => c.startsWith("__Host-pb_session=")) ?? null,
  };
}

async function webCode(step: { challenge: string | null; csrf: string; cookie: string }, code: string) {
  const res = await request("POST", base + "/login/code", {
    headers: { "content-type": "application/x-www-form-urlencoded", origin: base, cookie: step.cookie, "sec-fetch-site": "same-origin" },
    body: new URLSearchParams({ challenge: step.challenge ?? "", code, csrf: step.csrf }).toString(),
  });
  return {
    status: res.status,
    text: res.text,
    challenge: step.challenge,
    csrf: /name="csrf" value="([^"]+)"/.exec(res.text)?.[1] ?? "",
    cookie: cookiesOf(res).filter((c) => !c.startsWith("__Host-pb_session=") && !c.startsWith("__Host-pb_device=")).join("; ") || step.cookie,
    session: cookiesOf(res).find((c) => c.startsWith("__Host-pb_session=")) ?? null,
  };
}

/** A code for the step after the last one used (a fresh step each time, so no test waits for the clock). */
async function nextCode(secret: string): Promise<string> {
  const s = await srv.store.twoFactorSecret(erin.id);
  const step = Math.max(totpStep(Date.now()), (s?.lastStep ?? 0) + 1);
  if (step > totpStep(Date.now()) + 1) throw new Error("no fresh step left in the window");
  return totpCode(secret, step * 30_000);
}

let secret = "";
let phone = ""; // an app password
let laptop = ""; // another
/** Recovery codes (TOTP codes are kept to three per run: the store takes each 30-second step once). */
let codes: string[] = [];

/** A raw IMAP connection: send lines, wait for a line matching a pattern (state, not time). */
function rawImap(port: number) {
  const sock = connect({ host: "127.0.0.1", port });
  sock.setEncoding("utf8");
  let buf = "";
  let closed = false;
  const waiters: (() => void)[] = [];
  sock.on("data", (d: string) => {
    buf += d;
    for (const w of waiters.splice(0)) w();
  });
  sock.on("close", () => {
    closed = true;
    for (const w of waiters.splice(0)) w();
  });
  sock.on("error", () => {});
  return {
    send: (line: string) => sock.write(line + "\r\n"),
    async waitFor(re: RegExp): Promise<string> {
      for (;;) {
        const m = re.exec(buf);
        if (m) return m[0];
        if (closed) throw new Error(`closed without ${re}: ${buf}`);
        await new Promise<void>((r) => waiters.push(r));
      }
    },
    get closed() {
      return closed;
    },
    end: () => sock.destroy(),
  };
}

beforeAll(async () => {
  imapCredentialCheck.intervalMs = 100;
  srv = await startTestServer({ listeners: ["IMAP", "POP3", "SUBMISSION", "HTTP", "HTTPS"], config: { limits: { authFailuresPerIp: 10_000 } } });
  erin = await createUser(srv.store, EMAIL, PASSWORD);
  base = `https://127.0.0.1:${srv.port("HTTPS")}`;
  await request("GET", base + "/login");
});
afterAll(async () => {
  imapCredentialCheck.intervalMs = 30_000; // test files share a process in a shard
  await srv?.close();
});

describe("app passwords and two-factor sign-in over every protocol", () => {
  test("before 2FA: the main password and an app password both work everywhere; a wrong one nowhere", async () => {
    phone = (await srv.store.createAppPassword(erin.id, "Phone")).password;
    laptop = (await srv.store.createAppPassword(erin.id, "Laptop")).password;
    expect(await everywhere(PASSWORD)).toEqual(ALL_OK);
    expect(await everywhere(phone)).toEqual(ALL_OK);
    expect(await everywhere("wrong password here")).toEqual(ALL_REFUSED);
    // spaces instead of dashes and capitals are the same app password
    expect(await mailLogin("imap", laptop.toUpperCase().replace(/-/g, " "))).toBe("ok");
    const listed = await srv.store.listAppPasswords(erin.id);
    const p = listed.find((x) => x.name === "Phone")!;
    expect(p.lastUsedAt).toBeGreaterThan(0);
    expect(["imap", "pop3", "smtp", "dav", "eas"]).toContain(p.lastUsedProtocol!);
  }, 60_000);

  test("an app password never opens the webmail", async () => {
    const r = await webSignIn(phone);
    expect(r.status).toBe(401);
    expect(r.session).toBeNull();
  });

  test("with 2FA on: the main password is refused everywhere (also the cached one), app passwords are accepted", async () => {
    // the main password was just accepted and cached by every protocol above
    await srv.store.beginTwoFactor(erin.id, (secret = (await import("../../src/auth-factors.ts")).newTotpSecret()));
    await srv.store.claimTotpStep(erin.id, totpStep(Date.now()) - 1);
    const codes = await srv.store.enableTwoFactor(erin.id);
    expect(codes.length).toBe(10);
    expect(await everywhere(PASSWORD)).toEqual(ALL_REFUSED);
    expect(await everywhere(phone)).toEqual(ALL_OK);
    expect(await everywhere(laptop)).toEqual(ALL_OK);
  }, 60_000);

  test("webmail with 2FA: password, then a TOTP code (once); a wrong code and a replayed code are refused", async () => {
    const first = await webSignIn(PASSWORD);
    expect(first.status).toBe(200);
    expect(first.session).toBeNull();
    expect(first.challenge).toBeTruthy();
    expect(first.text).toContain('autocomplete="one-time-code"');
    const wrong = await webCode(first, "000000" === (await nextCode(secret)) ? "111111" : "000000");
    expect(wrong.status).toBe(401);
    expect(wrong.session).toBeNull();
    const code = await nextCode(secret);
    const ok = await webCode(wrong, code);
    expect(ok.status).toBe(303);
    expect(ok.session).toBeTruthy();
    const me = await request("GET", base + "/api/session", { headers: { cookie: ok.session! } });
    expect(me.status).toBe(200);
    // the same code again, in a new sign-in: refused (RFC 6238 §5.2)
    const again = await webSignIn(PASSWORD);
    const replay = await webCode(again, code);
    expect(replay.status).toBe(401);
    expect(replay.session).toBeNull();
  });

  test("an admin's sign-in to /admin carries ?next through the second step", async () => {
    await srv.ctx.store.setAccountFlags(EMAIL, { admin: true });
    const page = await request("GET", base + "/login?next=/admin/");
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? "";
    const cookie = cookiesOf(page).join("; ");
    const res = await request("POST", base + "/login", {
      headers: { "content-type": "application/x-www-form-urlencoded", origin: base, cookie, "sec-fetch-site": "same-origin" },
      body: new URLSearchParams({ email: EMAIL, password: PASSWORD, csrf, next: "/admin/" }).toString(),
    });
    expect(res.status).toBe(200);
    const step = { challenge: /name="challenge" value="([^"]+)"/.exec(res.text)?.[1] ?? null, csrf: /name="csrf" value="([^"]+)"/.exec(res.text)?.[1] ?? "", cookie: cookiesOf(res).join("; ") || cookie };
    const done = await request("POST", base + "/login/code", {
      headers: { "content-type": "application/x-www-form-urlencoded", origin: base, cookie: step.cookie, "sec-fetch-site": "same-origin" },
      body: new URLSearchParams({ challenge: step.challenge ?? "", code: await nextCode(secret), csrf: step.csrf }).toString(),
    });
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe("/admin/");
    await srv.ctx.store.setAccountFlags(EMAIL, { admin: false });
  });

  test("malformed second steps: no challenge, a made-up challenge, junk codes, a cross-site post", async () => {
    const step = await webSignIn(PASSWORD);
    expect((await webCode({ ...step, challenge: "" }, "123456")).status).toBe(401);
    expect((await webCode({ ...step, challenge: "x".repeat(5000) }, "123456")).status).toBe(401);
    for (const junk of ["", "12345", "1234567", "abcdef", "'; DROP TABLE x", "\u0000\u0001", "9".repeat(500)]) {
      const r = await webCode(step, junk);
      expect([400, 401, 413]).toContain(r.status);
      expect(r.session).toBeNull();
      if (r.status === 401 && !r.challenge) break;
    }
    const cross = await request("POST", base + "/login/code", {
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example", cookie: step.cookie },
      body: new URLSearchParams({ challenge: step.challenge ?? "", code: "123456", csrf: step.csrf }).toString(),
    });
    expect(cross.status).toBe(403);
  });

  test("a challenge takes at most 5 codes, then the password must be entered again", async () => {
    let step = await webSignIn(PASSWORD);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await webCode(step, "000001");
      statuses.push(r.status);
      step = { ...step, csrf: r.csrf || step.csrf, cookie: r.cookie };
    }
    expect(statuses.every((s) => s === 401)).toBe(true);
    // even the right code no longer opens this challenge
    const late = await webCode(step, totpCode(secret, Date.now()));
    expect(late.session).toBeNull();
  });

  test("a recovery code signs in once", async () => {
    codes = await srv.store.regenerateRecoveryCodes(erin.id);
    const a = await webCode(await webSignIn(PASSWORD), codes[3]!);
    expect(a.status).toBe(303);
    expect(a.session).toBeTruthy();
    const b = await webCode(await webSignIn(PASSWORD), codes[3]!);
    expect(b.session).toBeNull();
    expect((await srv.store.twoFactorStatus(erin.id)).recoveryCodesLeft).toBe(9);
  });

  test("revoking an app password ends that device's access at once (it was cached); the other keeps working", async () => {
    expect(await mailLogin("imap", phone)).toBe("ok"); // cached now
    const id = (await srv.store.listAppPasswords(erin.id)).find((p) => p.name === "Phone")!.id;
    expect(await srv.store.revokeAppPassword(erin.id, id)).toBe(true);
    expect(await everywhere(phone)).toEqual(ALL_REFUSED);
    expect(await everywhere(laptop)).toEqual(ALL_OK);
  }, 60_000);

  test("an IMAP connection idling with an app password is closed (BYE) once that password is revoked", async () => {
    const tablet = await srv.store.createAppPassword(erin.id, "Tablet");
    const c = rawImap(srv.port("IMAP"));
    try {
      await c.waitFor(/^\* OK.*\r\n/m);
      c.send(`a LOGIN ${EMAIL} ${tablet.password}`);
      await c.waitFor(/^a OK.*\r\n/m);
      c.send("b SELECT INBOX");
      await c.waitFor(/^b OK.*\r\n/m);
      c.send("c IDLE");
      await c.waitFor(/^\+ .*\r\n/m);
      expect(await srv.store.revokeAppPassword(erin.id, tablet.info.id)).toBe(true);
      expect(await c.waitFor(/^\* BYE .*\r\n/m)).toContain("log in again");
    } finally {
      c.end();
    }
  });

  test("a disabled account is refused everywhere and its webmail session ends; enabling lets it in again", async () => {
    const signedIn = await webCode(await webSignIn(PASSWORD), codes[4]!);
    expect(signedIn.session).toBeTruthy();
    await srv.ctx.store.setAccountFlags(EMAIL, { disabled: true });
    expect(await everywhere(laptop)).toEqual(ALL_REFUSED);
    expect((await request("GET", base + "/api/session", { headers: { cookie: signedIn.session! } })).status).toBe(401);
    const page = await webSignIn(PASSWORD);
    expect(page.status).toBe(403);
    expect(page.challenge).toBeNull();
    await srv.ctx.store.setAccountFlags(EMAIL, { disabled: false });
    expect(await everywhere(laptop)).toEqual(ALL_OK);
  }, 60_000);

  test("turning 2FA off lets the main password in again", async () => {
    await srv.store.resetTwoFactor(erin.id);
    expect(await everywhere(PASSWORD)).toEqual(ALL_OK);
    const r = await webSignIn(PASSWORD);
    expect(r.status).toBe(303);
  }, 60_000);
});
