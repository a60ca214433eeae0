/**
 * The web admin's API (/admin/api/*) and page over real HTTPS with real
 * sessions: who may use it (no session 401, non-admin 403, CSRF and Origin),
 * every route per protocols/http/admin/api-types.ts with its effect checked
 * outside the API (IMAP logins with python imaplib, delivery over SMTP with
 * smtplib, the queue worker, ActiveSync device state), the live DNS report
 * against a local dnsmasq, and hostile input (never a 5xx).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ALICE, BOB, CAROL, ApiClient, cookiesOf, request, smtpSend, startWebmailServer, waitFor, mailboxMessages } from "../webmail/helpers.ts";
import type { TestServer } from "../helpers/server.ts";
import type { AccountAccess, AccountView, AdminMe, AdminOverview, AliasView, DeviceView, DnsReport, DomainView, LogsResponse, QueueView, StatsResponse } from "../../protocols/http/admin/api-types.ts";
import type { CertificateStatus } from "../../src/ops/types.ts";
import type { ActivityRecorder } from "../../src/activity.ts";
import { mtaStsId, mtaStsPolicy } from "../../src/mta-sts.ts";
import * as OTPAuth from "otpauth";
import { adminClient, closedTcpPort, dnsmasqTxt, freeUdpPort, imapLogin, startDnsmasqLines, type Dnsmasq } from "./helpers.ts";

let srv: TestServer & { base: string; httpBase: string };
let admin: ApiClient;
let dnsPort: number;
let dns: Dnsmasq | null = null;


beforeAll(async () => {
  dnsPort = await freeUdpPort();
  srv = await startWebmailServer({ queue: { dnsServers: [`127.0.0.1:${dnsPort}`], remotePort: await closedTcpPort() } });
  await srv.store.setAccountFlags(ALICE.email, { admin: true });
  admin = await adminClient(srv.base, ALICE);
  // The DNS zone the live check reads: some records right, some wrong, some absent.
  const d = (await srv.store.getDomain("example.test"))!;
  dns = await startDnsmasqLines(
    [
      "mx-host=example.test,mail.pillarbox.test,10",
      "host-record=mail.pillarbox.test,127.0.0.1",
      dnsmasqTxt("example.test", "v=spf1 -all"),
      dnsmasqTxt(`${d.dkimSelector}._domainkey.example.test`, `v=DKIM1; k=rsa; p=${d.dkimPublicKey}`),
      dnsmasqTxt("_mta-sts.example.test", `v=STSv1; id=${mtaStsId(mtaStsPolicy("mail.pillarbox.test", "testing", srv.config.mtaSts.maxAgeSeconds))}`),
      "srv-host=_imaps._tcp.example.test,mail.pillarbox.test,993,0,1",
      "srv-host=_submissions._tcp.example.test,elsewhere.test,465,0,1",
      "host-record=elsewhere.test,127.0.0.2",
      "cname=autoconfig.example.test,mail.pillarbox.test",
      "mx-host=remote.test,mx.remote.test,10",
      "host-record=mx.remote.test,127.0.0.1",
    ],
    dnsPort,
  );
}, 60_000);

afterAll(async () => {
  await dns?.stop();
  await srv?.close();
});

const json = { "content-type": "application/json" };

/** No answer of the admin API may be a server error, whatever was sent. */
function no5xx(status: number, what: string): void {
  if (status >= 500) throw new Error(`${what} answered ${status}`);
}

describe("who may use the admin", () => {
  test("without a session: the API says 401 in words, the page sends the browser to sign in and back", async () => {
    const r = await request("GET", srv.base + "/admin/api/me");
    expect(r.status).toBe(401);
    expect(r.json<{ error: string }>().error).toContain("signed out");
    const page = await request("GET", srv.base + "/admin");
    expect(page.status).toBe(302);
    expect(page.headers.location).toBe("/login?next=%2Fadmin");
    const deep = await request("GET", srv.base + "/admin/accounts");
    expect(deep.headers.location).toBe("/login?next=%2Fadmin%2Faccounts");
  });

  test("sign-in with ?next=/admin returns to /admin; a foreign next goes to the mailbox", async () => {
    const form = await request("GET", srv.base + "/login?next=/admin");
    expect(form.text).toContain('name="next" value="/admin"');
    const token = /name="csrf" value="([^"]+)"/.exec(form.text)![1]!;
    const post = (next: string) =>
      request("POST", srv.base + "/login", {
        headers: { "content-type": "application/x-www-form-urlencoded", origin: srv.base, cookie: cookiesOf(form).join("; ") },
        body: new URLSearchParams({ email: ALICE.email, password: ALICE.password, csrf: token, next }).toString(),
      });
    const ok = await post("/admin");
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe("/admin");
    for (const evil of ["https://evil.example/admin", "//evil.example/admin", "/admin/../api/session", "/\\evil.example", "/admin\r\nx: y"]) {
      const r = await post(evil);
      expect(r.status).toBe(303);
      expect(r.headers.location).toBe("/");
    }
    // A signed-in browser that opens /login?next=/admin goes straight there.
    const session = cookiesOf(ok).find((c) => c.startsWith("__Host-pb_session="))!;
    const again = await request("GET", srv.base + "/login?next=/admin", { headers: { cookie: session } });
    expect(again.status).toBe(302);
    expect(again.headers.location).toBe("/admin");
  }, 60_000);

  test("a non-admin gets 403 from the API and a page in words", async () => {
    const bob = await ApiClient.signIn(srv.base, BOB);
    const r = await bob.get("/admin/api/accounts");
    expect(r.status).toBe(403);
    expect(r.json<{ error: string }>().error).toContain("not an administrator");
    const w = await bob.send("POST", "/admin/api/domains", { name: "bob.test" });
    expect(w.status).toBe(403);
    expect(await srv.store.getDomain("bob.test")).toBeNull();
    const page = await bob.get("/admin");
    expect(page.status).toBe(403);
    expect(page.headers["content-type"]).toContain("text/html");
    expect(page.text).toContain("not an administrator");
    expect(page.text).toContain(BOB.email);
  }, 60_000);

  test("the admin page: the shell with the admin bundle, a strict CSP, no caching", async () => {
    const page = await admin.get("/admin");
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/<script type="module" src="\/assets\/admin\.[0-9a-f]+\.js"><\/script>|<script type="module" src="\/assets\/admin\.js"><\/script>/);
    expect(page.text).toContain('<div id="admin">');
    const csp = String(page.headers["content-security-policy"]);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(page.headers["cache-control"]).toBe("no-store");
    expect(page.headers["x-frame-options"]).toBe("DENY");
    expect((await admin.get("/admin/domains/example.test")).status).toBe(200);
  });

  test("state changes need the CSRF token and our Origin", async () => {
    const noToken = await admin.send("POST", "/admin/api/domains", { name: "csrf.test" }, { "x-csrf-token": "" });
    expect(noToken.status).toBe(403);
    expect(noToken.json<{ error: string }>().error).toContain("X-CSRF-Token");
    const wrong = await admin.send("POST", "/admin/api/domains", { name: "csrf.test" }, { "x-csrf-token": "A".repeat(43) });
    expect(wrong.status).toBe(403);
    const foreign = await admin.send("POST", "/admin/api/domains", { name: "csrf.test" }, { origin: "https://evil.example" });
    expect(foreign.status).toBe(403);
    expect(foreign.json<{ error: string }>().error).toContain("another web site");
    expect(await srv.store.getDomain("csrf.test")).toBeNull();
  });

  test("an admin with two-factor sign-in: the password alone opens nothing; the code step returns to /admin", async () => {
    const EVE = { email: "eve@example.test", password: "eve's long admin password 5" };
    const eve = await srv.store.addAccount(EVE.email, EVE.password);
    await srv.store.setAccountFlags(EVE.email, { admin: true });
    const secret = new OTPAuth.Secret({ size: 20 }).base32;
    await srv.store.beginTwoFactor(eve.id, secret);
    await srv.store.enableTwoFactor(eve.id);
    const form = await request("GET", srv.base + "/login?next=/admin");
    const token = /name="csrf" value="([^"]+)"/.exec(form.text)![1]!;
    const step1 = await request("POST", srv.base + "/login", {
      headers: { "content-type": "application/x-www-form-urlencoded", origin: srv.base, cookie: cookiesOf(form).join("; ") },
      body: new URLSearchParams({ email: EVE.email, password: EVE.password, csrf: token, next: "/admin" }).toString(),
    });
    expect(step1.status).toBe(200);
    expect(cookiesOf(step1).some((c) => c.startsWith("__Host-pb_session="))).toBe(false);
    const challenge = /name="challenge" value="([^"]+)"/.exec(step1.text)![1]!;
    const token2 = /name="csrf" value="([^"]+)"/.exec(step1.text)![1]!;
    const code = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30 }).generate();
    const step2 = await request("POST", srv.base + "/login/code", {
      headers: { "content-type": "application/x-www-form-urlencoded", origin: srv.base, cookie: cookiesOf(step1).join("; ") },
      body: new URLSearchParams({ csrf: token2, challenge, code }).toString(),
    });
    expect(step2.status).toBe(303);
    expect(step2.headers.location).toBe("/admin");
    const session = cookiesOf(step2).find((c) => c.startsWith("__Host-pb_session="))!;
    expect((await request("GET", srv.base + "/admin/api/me", { headers: { cookie: session } })).status).toBe(200);
    // The admin view shows the factor, and an admin's reset turns it off (the owner lost the device).
    const view = (await admin.ok<AccountView[]>("GET", "/admin/api/accounts")).find((a) => a.email === EVE.email)!;
    expect(view.twoFactor).toBe(true);
    const reset = await admin.ok<AccountView>("PATCH", `/admin/api/accounts/${encodeURIComponent(EVE.email)}`, { resetTwoFactor: true });
    expect(reset.twoFactor).toBe(false);
    expect((await srv.store.twoFactorStatus(eve.id)).enabled).toBe(false);
    const eveAgain = await ApiClient.signIn(srv.base, EVE);
    expect((await eveAgain.get("/admin/api/me")).status).toBe(200);
  }, 60_000);

  test("a demoted admin loses access at the next request", async () => {
    await srv.store.setAccountFlags(CAROL.email, { admin: true });
    const carol = await adminClient(srv.base, CAROL);
    expect((await carol.get("/admin/api/me")).status).toBe(200);
    await srv.store.setAccountFlags(CAROL.email, { admin: false });
    expect((await carol.get("/admin/api/me")).status).toBe(403);
  }, 60_000);
});

describe("overview, certificates", () => {
  test("me and overview", async () => {
    const me = await admin.ok<AdminMe>("GET", "/admin/api/me");
    expect(me.email).toBe(ALICE.email);
    expect(me.csrf).toBe(admin.csrf);
    expect(me.hostname).toBe("mail.pillarbox.test");
    expect(me.version).toMatch(/^\d+\.\d+\.\d+/);
    const o = await admin.ok<AdminOverview>("GET", "/admin/api/overview");
    expect(o.accounts).toBe((await srv.store.listAccounts()).length);
    expect(o.domains).toBe((await srv.store.listDomains()).length);
    expect(o.listeners.HTTPS).toBe(`127.0.0.1:${srv.port("HTTPS")}`);
    expect(o.listeners.SMTP).toBe(`127.0.0.1:${srv.port("SMTP")}`);
    expect(o.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(o.certificates.length).toBeGreaterThan(0);
  });

  test("certificates: what the listeners serve; renew answers in words when ACME is off", async () => {
    const certs = await admin.ok<CertificateStatus[]>("GET", "/admin/api/certificates");
    expect(certs[0]!.source).toBe("self-signed");
    expect(certs[0]!.names).toContain("mail.pillarbox.test");
    expect(certs[0]!.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(certs[0]!.notAfter).toBeGreaterThan(Date.now());
    const r = await admin.ok<{ ok: boolean; message: string }>("POST", "/admin/api/certificates/renew");
    expect(r.ok).toBe(false);
    expect(r.message).toContain("ACME");
    // At most three renewals asked per session in ten minutes.
    expect((await admin.send("POST", "/admin/api/certificates/renew")).status).toBe(200);
    expect((await admin.send("POST", "/admin/api/certificates/renew")).status).toBe(200);
    const limited = await admin.send("POST", "/admin/api/certificates/renew");
    expect(limited.status).toBe(429);
    expect(limited.json<{ error: string }>().error).toContain("Too many renewals");
  });
});

describe("domains", () => {
  test("add, list, refuse malformed and duplicate, remove (409 while it has accounts)", async () => {
    const created = await admin.send("POST", "/admin/api/domains", { name: "New-Domain.test." });
    expect(created.status).toBe(201);
    const d = created.json<DomainView>();
    expect(d).toEqual({ name: "new-domain.test", accounts: 0, aliases: 0, dkimSelector: expect.stringMatching(/^pb\d{6}$/) });
    const list = await admin.ok<DomainView[]>("GET", "/admin/api/domains");
    expect(list.find((x) => x.name === "example.test")!.accounts).toBe((await srv.store.listAccounts()).length);
    expect(list.some((x) => x.name === "new-domain.test")).toBe(true);
    for (const bad of ["", "nodots", "-bad.test", "a..b.test", "exa mple.test", "x".repeat(64) + ".test", "1.2.3.4", 42, null]) {
      const r = await admin.send("POST", "/admin/api/domains", { name: bad });
      expect(r.status).toBe(400);
      expect(r.json<{ error: string }>().error.length).toBeGreaterThan(10);
    }
    expect((await admin.send("POST", "/admin/api/domains", { name: "new-domain.test" })).status).toBe(409);
    const busy = await admin.send("DELETE", "/admin/api/domains/example.test");
    expect(busy.status).toBe(409);
    expect(busy.json<{ error: string }>().error).toContain("account");
    expect((await admin.send("DELETE", "/admin/api/domains/new-domain.test")).status).toBe(200);
    expect(await srv.store.getDomain("new-domain.test")).toBeNull();
    expect((await admin.send("DELETE", "/admin/api/domains/new-domain.test")).status).toBe(404);
  });

  test("the live DNS report through the server's resolver (dnsmasq): ok, mismatch, missing", async () => {
    const rep = await admin.ok<DnsReport>("GET", "/admin/api/domains/example.test/dns");
    expect(rep.domain).toBe("example.test");
    expect(rep.zone).toContain("_dmarc.example.test.");
    const by = (p: string) => rep.records.find((r) => r.purpose === p)!;
    expect(by("MX").status).toBe("ok");
    expect(by("MX").found).toEqual(["10 mail.pillarbox.test."]);
    expect(by("DKIM").status).toBe("ok");
    expect(by("SPF").status).toBe("mismatch");
    expect(by("SPF").found).toEqual(["v=spf1 -all"]);
    expect(by("DMARC").status).toBe("missing");
    expect(by("TLS-RPT").status).toBe("missing");
    expect(by("MTA-STS").status).toBe("ok");
    expect(by("SRV imaps").status).toBe("ok");
    expect(by("SRV submissions").status).toBe("mismatch");
    expect(by("autoconfig").status).toBe("ok");
    expect(by("autodiscover").status).toBe("missing");
    // The policy host has no address in this zone: the fetch fails, said in words.
    expect(by("MTA-STS policy").status).toBe("error");
    expect(by("MTA-STS policy").note).toContain("mta-sts.example.test");
    for (const r of rep.records) expect(["ok", "missing", "mismatch", "error"]).toContain(r.status);
  }, 30_000);

  test("the DNS report: unknown domain 404, malformed 400, and a per-session rate limit (429 with Retry-After)", async () => {
    const other = await adminClient(srv.base, ALICE);
    expect((await other.get("/admin/api/domains/unknown.test/dns")).status).toBe(404);
    expect((await other.get("/admin/api/domains/bad..name/dns")).status).toBe(400);
    let limited = null;
    for (let i = 0; i < 8 && !limited; i++) {
      const r = await other.get("/admin/api/domains/example.test/dns");
      if (r.status === 429) limited = r;
      else expect(r.status).toBe(200);
    }
    expect(limited).not.toBeNull();
    expect(Number(limited!.headers["retry-after"])).toBeGreaterThan(0);
    expect(limited!.json<{ error: string }>().error).toContain("Too many DNS checks");
  }, 60_000);
});

describe("accounts", () => {
  const DAVE = { email: "dave@example.test", password: "correct horse battery staple 7" };

  test("create: password policy and address checks in words; then the account signs in over IMAP", async () => {
    const weak = await admin.send("POST", "/admin/api/accounts", { email: DAVE.email, password: "x" });
    expect(weak.status).toBe(400);
    expect(weak.json<{ error: string }>().error).toContain("too short");
    const common = await admin.send("POST", "/admin/api/accounts", { email: DAVE.email, password: "password1234" });
    expect(common.status).toBe(400);
    for (const bad of [".bob@example.test", "bob.@example.test", "b..ob@example.test", "bob@", "@example.test", "bo b@example.test", 'b"ob@example.test']) {
      const r = await admin.send("POST", "/admin/api/accounts", { email: bad, password: DAVE.password });
      expect(r.status).toBe(400);
      expect(r.json<{ error: string }>().error).toMatch(/not a valid|Give the/);
    }
    const dot = await admin.send("POST", "/admin/api/accounts", { email: ".bob@example.test", password: DAVE.password });
    expect(dot.json<{ error: string }>().error).toContain("may not start or end with a dot");
    expect((await admin.send("POST", "/admin/api/accounts", { email: "dave@nowhere.test", password: DAVE.password })).status).toBe(400);
    expect((await admin.send("POST", "/admin/api/accounts", { email: DAVE.email, password: DAVE.password, quotaBytes: -1 })).status).toBe(400);
    expect((await admin.send("POST", "/admin/api/accounts", { email: DAVE.email, password: DAVE.password, colour: "red" })).status).toBe(400);
    const r = await admin.send("POST", "/admin/api/accounts", { email: "Dave@Example.test", password: DAVE.password, displayName: "Dave", quotaBytes: 50_000_000 });
    expect(r.status).toBe(201);
    const v = r.json<AccountView>();
    expect(v).toMatchObject({ email: DAVE.email, displayName: "Dave", quotaBytes: 50_000_000, usedBytes: 0, messages: 0, admin: false, disabled: false, twoFactor: false, appPasswords: 0 });
    expect((await admin.send("POST", "/admin/api/accounts", { email: DAVE.email, password: DAVE.password })).status).toBe(409);
    expect(await imapLogin(srv.port("IMAP"), DAVE.email, DAVE.password)).toBe("OK");
    const list = await admin.ok<AccountView[]>("GET", "/admin/api/accounts");
    expect(list.find((a) => a.email === ALICE.email)!.admin).toBe(true);
    expect(list.find((a) => a.email === DAVE.email)!.quotaBytes).toBe(50_000_000);
  }, 60_000);

  test("an account over an existing alias address is refused", async () => {
    await srv.store.addAlias("sales@example.test", BOB.email);
    const r = await admin.send("POST", "/admin/api/accounts", { email: "sales@example.test", password: "a long sales password 9" });
    expect(r.status).toBe(409);
    expect(r.json<{ error: string }>().error).toContain("alias");
    await srv.store.removeAlias("sales@example.test");
  });

  test("patch: quota, display name; disable refuses IMAP and ends sessions; enable; password reset", async () => {
    const path = `/admin/api/accounts/${encodeURIComponent(DAVE.email)}`;
    const q = await admin.ok<AccountView>("PATCH", path, { quotaBytes: null, displayName: "Dave D." });
    expect(q.quotaBytes).toBeNull();
    expect(q.displayName).toBe("Dave D.");
    const dave = await ApiClient.signIn(srv.base, DAVE);
    expect((await dave.get("/api/session")).status).toBe(200);
    expect((await admin.ok<AccountView>("PATCH", path, { disabled: true })).disabled).toBe(true);
    expect(await imapLogin(srv.port("IMAP"), DAVE.email, DAVE.password)).toStartWith("NO");
    expect((await dave.get("/api/session")).status).toBe(401);
    expect((await admin.ok<AccountView>("PATCH", path, { disabled: false })).disabled).toBe(false);
    expect(await imapLogin(srv.port("IMAP"), DAVE.email, DAVE.password)).toBe("OK");
    const weak = await admin.send("PATCH", path, { password: "123" });
    expect(weak.status).toBe(400);
    const NEW = "a brand new passphrase 42";
    await admin.ok("PATCH", path, { password: NEW });
    expect(await imapLogin(srv.port("IMAP"), DAVE.email, DAVE.password)).toStartWith("NO");
    expect(await imapLogin(srv.port("IMAP"), DAVE.email, NEW)).toBe("OK");
    DAVE.password = NEW;
    // A refused field changes nothing, even when others were fine.
    const mixed = await admin.send("PATCH", path, { quotaBytes: 1000, admin: "yes" });
    expect(mixed.status).toBe(400);
    expect((await srv.store.getAccount(DAVE.email))!.quotaBytes).toBeNull();
  }, 60_000);

  test("admin flag and two-factor reset; an admin cannot demote, disable or delete themselves", async () => {
    const path = `/admin/api/accounts/${encodeURIComponent(DAVE.email)}`;
    expect((await admin.ok<AccountView>("PATCH", path, { admin: true })).admin).toBe(true);
    expect((await srv.store.getAccount(DAVE.email))!.admin).toBe(true);
    expect((await admin.ok<AccountView>("PATCH", path, { admin: false })).admin).toBe(false);
    expect((await admin.ok<AccountView>("PATCH", path, { resetTwoFactor: true })).twoFactor).toBe(false);
    const me = `/admin/api/accounts/${encodeURIComponent(ALICE.email)}`;
    for (const body of [{ admin: false }, { disabled: true }]) {
      const r = await admin.send("PATCH", me, body);
      expect(r.status).toBe(400);
      expect(r.json<{ error: string }>().error).toContain("own");
    }
    expect((await admin.send("DELETE", `${me}?confirm=${encodeURIComponent(ALICE.email)}`)).status).toBe(400);
    expect((await srv.store.getAccount(ALICE.email))!.admin).toBe(true);
  });

  test("access: webmail sessions, app passwords and devices; revoking ends that access", async () => {
    const dave = await ApiClient.signIn(srv.base, DAVE);
    const acct = (await srv.store.getAccount(DAVE.email))!;
    const app = await srv.store.createAppPassword(acct.id, "Phone mail app");
    await srv.ctx.storage.eas.touchDevice(acct.id, "DEVDAVE1", { deviceType: "iPhone", userAgent: "Apple-iPhone/1", protocolVersion: "16.1", ip: "192.0.2.7" }, Date.now());
    const path = `/admin/api/accounts/${encodeURIComponent(DAVE.email)}`;
    const access = await admin.ok<AccountAccess>("GET", `${path}/access`);
    expect(access.sessions.length).toBe(1);
    expect(access.sessions[0]!.id).not.toContain(".");
    expect(access.sessions[0]!.ip).toBe("127.0.0.1");
    expect(access.appPasswords).toEqual([{ id: app.info.id, name: "Phone mail app", createdAt: expect.any(Number), lastUsedAt: null, lastUsedProtocol: null }]);
    expect(access.devices.map((d) => d.deviceId)).toEqual(["DEVDAVE1"]);
    expect(await imapLogin(srv.port("IMAP"), DAVE.email, app.password)).toBe("OK");

    expect((await admin.send("DELETE", `${path}/sessions/${access.sessions[0]!.id}`)).status).toBe(200);
    expect((await dave.get("/api/session")).status).toBe(401);
    expect((await admin.send("DELETE", `${path}/sessions/${access.sessions[0]!.id}`)).status).toBe(404);

    expect((await admin.send("DELETE", `${path}/app-passwords/${app.info.id}`)).status).toBe(200);
    expect(await imapLogin(srv.port("IMAP"), DAVE.email, app.password)).toStartWith("NO");
    expect((await admin.send("DELETE", `${path}/app-passwords/${app.info.id}`)).status).toBe(404);
    expect((await admin.send("DELETE", `${path}/app-passwords/abc`)).status).toBe(400);
    const after = await admin.ok<AccountAccess>("GET", `${path}/access`);
    expect(after.sessions).toEqual([]);
    expect(after.appPasswords).toEqual([]);
  }, 60_000);

  test("delete needs the address repeated; then the account and its mail are gone", async () => {
    const path = `/admin/api/accounts/${encodeURIComponent(DAVE.email)}`;
    const noConfirm = await admin.send("DELETE", path);
    expect(noConfirm.status).toBe(400);
    expect(noConfirm.json<{ error: string }>().error).toContain("confirm");
    expect((await admin.send("DELETE", `${path}?confirm=someone@example.test`)).status).toBe(400);
    expect((await admin.send("DELETE", `${path}?confirm=${encodeURIComponent(DAVE.email)}`)).status).toBe(200);
    expect(await srv.store.getAccount(DAVE.email)).toBeNull();
    expect(await imapLogin(srv.port("IMAP"), DAVE.email, DAVE.password)).toStartWith("NO");
    expect((await admin.send("DELETE", `${path}?confirm=${encodeURIComponent(DAVE.email)}`)).status).toBe(404);
  }, 60_000);
});

describe("aliases", () => {
  test("an alias delivers over SMTP; catch-all; shadowing an account and malformed addresses refused; remove", async () => {
    const r = await admin.send("POST", "/admin/api/aliases", { source: "Info@Example.test", destination: CAROL.email });
    expect(r.status).toBe(201);
    const a = r.json<AliasView>();
    expect(a).toEqual({ id: expect.any(Number), source: "info@example.test", destination: CAROL.email });
    const subject = `alias test ${Date.now()}`;
    await smtpSend(srv.port("SMTP"), "someone@outside.test", ["info@example.test"], `From: someone@outside.test\r\nTo: info@example.test\r\nSubject: ${subject}\r\n\r\nhello\r\n`);
    await waitFor(async () => (await mailboxMessages(srv, CAROL, "INBOX")).messages.some((m) => m.toString().includes(subject)), "the alias's message in Carol's INBOX");

    const shadow = await admin.send("POST", "/admin/api/aliases", { source: BOB.email, destination: CAROL.email });
    expect(shadow.status).toBe(409);
    expect(shadow.json<{ error: string }>().error).toContain("is an account");
    for (const body of [{ source: ".x@example.test", destination: CAROL.email }, { source: "x@example.test", destination: "nobody" }, { source: "x@elsewhere.test", destination: CAROL.email }, { source: "@", destination: CAROL.email }, { source: ["x"], destination: CAROL.email }]) {
      const res = await admin.send("POST", "/admin/api/aliases", body);
      expect(res.status).toBe(400);
    }
    expect((await admin.send("POST", "/admin/api/aliases", { source: "info@example.test", destination: CAROL.email })).status).toBe(409);
    expect((await admin.send("POST", "/admin/api/aliases", { source: "@example.test", destination: BOB.email })).status).toBe(201);
    const list = await admin.ok<AliasView[]>("GET", "/admin/api/aliases");
    expect(list.map((x) => x.source)).toEqual(expect.arrayContaining(["info@example.test", "@example.test"]));
    expect((await admin.send("DELETE", "/admin/api/aliases?source=%40example.test")).status).toBe(200);
    expect((await admin.send("DELETE", `/admin/api/aliases?source=info%40example.test&destination=${encodeURIComponent(CAROL.email)}`)).status).toBe(200);
    expect((await admin.send("DELETE", "/admin/api/aliases?source=info%40example.test")).status).toBe(404);
    expect((await admin.send("DELETE", "/admin/api/aliases")).status).toBe(400);
    expect(await admin.ok<AliasView[]>("GET", "/admin/api/aliases")).toEqual([]);
  }, 30_000);
});

describe("queue and devices", () => {
  test("queue: list, retry makes the worker try again now, drop removes it", async () => {
    const e = await srv.store.enqueue({ sender: ALICE.email, recipients: ["someone@remote.test"], raw: new TextEncoder().encode("From: alice@example.test\r\nSubject: q\r\n\r\nbody\r\n") });
    // The worker tries at once; the remote MX refuses connections, so it stays queued with an error.
    const first = await waitFor(async () => {
      const q = await admin.ok<QueueView[]>("GET", "/admin/api/queue");
      const v = q.find((x) => x.id === e.id);
      return v && v.attempts >= 1 ? v : null;
    }, "the first delivery attempt");
    expect(first.recipients).toEqual(["someone@remote.test"]);
    expect(first.sender).toBe(ALICE.email);
    expect(first.lastError).not.toBeNull();
    expect(first.nextAttemptAt).toBeGreaterThan(Date.now());
    expect((await admin.send("POST", `/admin/api/queue/${e.id}/retry`)).status).toBe(200);
    await waitFor(async () => ((await srv.store.getQueueEntry(e.id))?.attempts ?? 0) > first.attempts, "the retried attempt");
    expect((await admin.send("POST", "/admin/api/queue/999999/retry")).status).toBe(404);
    expect((await admin.send("POST", "/admin/api/queue/-1/retry")).status).toBe(400);
    expect((await admin.send("DELETE", `/admin/api/queue/${e.id}`)).status).toBe(200);
    expect(await srv.store.getQueueEntry(e.id)).toBeNull();
    expect((await admin.ok<QueueView[]>("GET", "/admin/api/queue")).some((x) => x.id === e.id)).toBe(false);
    expect((await admin.send("DELETE", `/admin/api/queue/${e.id}`)).status).toBe(404);
  }, 30_000);

  test("devices: every account's, wipe ordered (stored), remove", async () => {
    const bob = (await srv.store.getAccount(BOB.email))!;
    await srv.ctx.storage.eas.touchDevice(bob.id, "BOBPHONE", { deviceType: "Android", userAgent: "Android-Mail/1", protocolVersion: "14.1", ip: "192.0.2.9" }, Date.now());
    const list = await admin.ok<DeviceView[]>("GET", "/admin/api/devices");
    const d = list.find((x) => x.deviceId === "BOBPHONE")!;
    expect(d).toMatchObject({ account: BOB.email, deviceType: "Android", userAgent: "Android-Mail/1", lastIp: "192.0.2.9", wipeStatus: "none" });
    const base = `/admin/api/devices/${encodeURIComponent(BOB.email)}`;
    expect((await admin.send("POST", `${base}/BOBPHONE/wipe`)).status).toBe(200);
    expect((await srv.ctx.storage.eas.getDevice(bob.id, "BOBPHONE"))!.wipeStatus).toBe("requested");
    expect((await admin.ok<DeviceView[]>("GET", "/admin/api/devices")).find((x) => x.deviceId === "BOBPHONE")!.wipeStatus).toBe("requested");
    expect((await admin.send("POST", `${base}/NOSUCH/wipe`)).status).toBe(404);
    expect((await admin.send("DELETE", `${base}/BOBPHONE`)).status).toBe(200);
    expect(await srv.ctx.storage.eas.getDevice(bob.id, "BOBPHONE")).toBeNull();
    expect((await admin.send("DELETE", `${base}/BOBPHONE`)).status).toBe(404);
  });
});

describe("logs and stats", () => {
  test("logs: filters by kind, text and time; a failed IMAP login and the admin actions are in the log", async () => {
    const ring = srv.ctx.activity as ActivityRecorder;
    const now = Date.now();
    ring.record({ ts: now - 1000, kind: "login-failed", level: "warn", msg: "login failed", protocol: "imap", account: "mallory@example.test", ip: "198.51.100.7", fields: { reason: "bad password", marker: "c1-synthetic" } });
    ring.record({ ts: now - 500, kind: "delivery", level: "info", msg: "message accepted", protocol: "smtp", fields: { messageId: "<x1@outside.test>", size: 1234, marker: "c1-synthetic" } });
    const failed = await admin.ok<LogsResponse>("GET", "/admin/api/logs?kind=login-failed");
    expect(failed.entries.length).toBeGreaterThan(0);
    expect(failed.entries.every((e) => e.kind === "login-failed")).toBe(true);
    expect(failed.entries.some((e) => e.account === "mallory@example.test" && e.ip === "198.51.100.7")).toBe(true);
    const text = await admin.ok<LogsResponse>("GET", "/admin/api/logs?q=x1%40outside");
    expect(text.entries.map((e) => e.fields.messageId)).toContain("<x1@outside.test>");
    const two = await admin.ok<LogsResponse>("GET", `/admin/api/logs?kind=delivery,login-failed&q=c1-synthetic&since=${now - 2000}&limit=1`);
    expect(two.entries.length).toBe(1);
    expect(two.entries[0]!.ts).toBe(now - 500);
    const later = await admin.ok<LogsResponse>("GET", `/admin/api/logs?kind=delivery&since=${now + 60_000}`);
    expect(later.entries).toEqual([]);
    // Real entries: a failed IMAP login made here, and the admin actions of the tests above.
    expect(await imapLogin(srv.port("IMAP"), "carol@example.test", "not her password at all")).toStartWith("NO");
    const imapFail = await waitFor(async () => {
      const l = await admin.ok<LogsResponse>("GET", "/admin/api/logs?kind=login-failed&q=carol%40example.test");
      return l.entries.find((e) => e.protocol === "imap" && e.ip === "127.0.0.1") ?? null;
    }, "the failed IMAP login in the log");
    expect(imapFail.kind).toBe("login-failed");
    const actions = await admin.ok<LogsResponse>("GET", "/admin/api/logs?kind=admin&limit=1000");
    const did = actions.entries.map((e) => `${e.fields.action} ${e.fields.target}`);
    expect(did).toEqual(expect.arrayContaining(["domain.add new-domain.test", "account.create dave@example.test", "account.delete dave@example.test", "alias.add info@example.test", `device.wipe ${BOB.email}`]));
    expect(actions.entries.every((e) => e.account === ALICE.email && e.protocol === "admin")).toBe(true);
    // Every kind the activity log records is a valid filter (incl. "security": two-factor and app password changes).
    for (const k of ["delivery", "rejection", "login", "login-failed", "outbound", "admin", "system", "security"]) expect((await admin.get(`/admin/api/logs?kind=${k}`)).status).toBe(200);
    for (const q of ["kind=bogus", "limit=-1", "limit=abc", "limit=100000", "since=yesterday", `q=${"x".repeat(300)}`]) {
      const r = await admin.get(`/admin/api/logs?${q}`);
      expect(r.status).toBe(400);
    }
  }, 60_000);

  test("stats: hourly counts for the hours asked, storage per account", async () => {
    const s = await admin.ok<StatsResponse>("GET", "/admin/api/stats?hours=24");
    expect(s.hourly.length).toBe(24);
    expect(s.hourly[23]!.hour).toBe(Math.floor(Date.now() / 3_600_000) * 3_600_000);
    expect(s.hourly.reduce((n, h) => n + h.messagesIn, 0)).toBeGreaterThan(0);
    const carol = s.storage.find((x) => x.email === CAROL.email)!;
    expect(carol.usedBytes).toBeGreaterThan(0);
    expect((await admin.ok<StatsResponse>("GET", "/admin/api/stats")).hourly.length).toBe(48);
    expect((await admin.get("/admin/api/stats?hours=100000")).status).toBe(400);
  });
});

describe("hostile input", () => {
  test("bodies: huge, not JSON, not an object, wrong types — 4xx in words", async () => {
    const huge = await request("POST", srv.base + "/admin/api/domains", {
      headers: { cookie: admin.cookie, origin: srv.base, "x-csrf-token": admin.csrf, ...json },
      body: JSON.stringify({ name: "x".repeat(200_000) }),
    });
    expect(huge.status).toBe(413);
    for (const body of ["{", "null", "[1,2]", '"text"', "42", '{"name": {"$gt": ""}}', "\u0000\u0001"]) {
      const r = await request("POST", srv.base + "/admin/api/domains", { headers: { cookie: admin.cookie, origin: srv.base, "x-csrf-token": admin.csrf, ...json }, body });
      expect(r.status).toBe(400);
      expect(typeof r.json<{ error: string }>().error).toBe("string");
    }
  });

  test("paths: bad percent-encoding, control characters, unknown ids and routes — 4xx, never 5xx", async () => {
    const cases: [string, string][] = [
      ["PATCH", "/admin/api/accounts/%E0%A4%A"],
      ["PATCH", "/admin/api/accounts/%00bob%40example.test"],
      ["GET", "/admin/api/accounts/%ZZ/access"],
      ["GET", "/admin/api/accounts/nobody%40example.test/access"],
      ["DELETE", "/admin/api/accounts/bob%40example.test/sessions/nope"],
      ["DELETE", "/admin/api/domains/%25"],
      ["GET", "/admin/api/domains/" + "a".repeat(5000) + "/dns"],
      ["POST", "/admin/api/queue/1e3/retry"],
      ["DELETE", "/admin/api/queue/99999999999999999999"],
      ["POST", "/admin/api/devices/bob%40example.test/" + "D".repeat(500) + "/wipe"],
      ["GET", "/admin/api/nothing-here"],
      ["PUT", "/admin/api/domains"],
    ];
    for (const [method, path] of cases) {
      const r = method === "GET" ? await admin.get(path) : await admin.send(method, path, method === "PATCH" ? { quotaBytes: 1 } : undefined);
      no5xx(r.status, `${method} ${path}`);
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(typeof r.json<{ error: string }>().error).toBe("string");
    }
    // The server still answers.
    expect((await admin.get("/admin/api/me")).status).toBe(200);
  });
});
