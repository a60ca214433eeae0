/**
 * The web admin in Chromium (desktop 1280x800) against a real server: sign
 * in as an administrator through /login?next=/admin, then every admin action
 * of issue 18 done through the pages, each checked outside the browser —
 * python imaplib logins (account created, password reset, disabled, app
 * password revoked), smtplib deliveries through an alias and a catch-all,
 * the queue worker's attempts, ActiveSync wipe state in storage, the store's
 * flags and quotas — plus the DNS report's statuses against a local dnsmasq,
 * the certificate's issuer, a failed IMAP login found with the log filters,
 * bars for delivered messages, a non-admin's 403 page, the German catalog,
 * and axe-core on every page (no serious or critical finding).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import * as net from "node:net";
import type { Browser, Page } from "playwright-core";
import { ALICE, BOB, CAROL, ApiClient, mailboxMessages, smtpSend, startWebmailServer, waitFor } from "../webmail/helpers.ts";
import type { TestServer } from "../helpers/server.ts";
import type { CertificateStatus } from "../../src/ops/types.ts";
import { dnsmasqTxt, freeUdpPort, imapLogin, startDnsmasqLines, type Dnsmasq } from "./helpers.ts";
import { axe, confirm, go, launch, newPage, shot, signInAdmin } from "./ui-helpers.ts";

// Each test drives a browser through several pages; a test that runs out of time closes the browser for the rest.
setDefaultTimeout(30_000);

let srv: TestServer & { base: string; httpBase: string };
let dns: Dnsmasq | null = null;
let browser: Browser;
let page: Page;

async function closedTcpPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Waits until the status line (or the error line) says `includes` (any words when not given); its text. */
async function toast(p: Page, kind: "status" | "alert" = "status", includes = ""): Promise<string> {
  const el = p.locator(kind === "status" ? ".toasts [role=status]" : ".toasts [role=alert]");
  return waitFor(async () => {
    const text = (await el.textContent()) ?? "";
    return text && text.includes(includes) ? text : null;
  }, `the ${kind} line to say ${includes || "something"}`);
}

/** The table row (tbody tr) holding `text`. */
function row(p: Page, text: string) {
  return p.locator("tbody tr", { hasText: text });
}

beforeAll(async () => {
  const dnsPort = await freeUdpPort();
  srv = await startWebmailServer({ queue: { dnsServers: [`127.0.0.1:${dnsPort}`], remotePort: await closedTcpPort() } });
  await srv.store.setAccountFlags(ALICE.email, { admin: true });
  const d = (await srv.store.getDomain("example.test"))!;
  dns = await startDnsmasqLines(
    [
      "mx-host=example.test,mail.pillarbox.test,10",
      "host-record=mail.pillarbox.test,127.0.0.1",
      dnsmasqTxt("example.test", "v=spf1 -all"),
      dnsmasqTxt(`${d.dkimSelector}._domainkey.example.test`, `v=DKIM1; k=rsa; p=${d.dkimPublicKey}`),
      "mx-host=remote.test,mx.remote.test,10",
      "host-record=mx.remote.test,127.0.0.1",
    ],
    dnsPort,
  );
  browser = await launch();
  page = (await newPage(browser)).page;
  await signInAdmin(page, srv.base, ALICE);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await dns?.stop();
  await srv?.close();
});

describe("sign-in and who may enter", () => {
  test("an admin signs in through /login?next=/admin and lands on the overview", async () => {
    expect(new URL(page.url()).pathname).toBe("/admin");
    await expect(page.locator("h1").textContent()).resolves.toBe("Overview");
    const text = (await page.locator(".page").textContent()) ?? "";
    expect(text).toContain(srv.ctx.config.hostname);
    // Every open listener with its address.
    const https = row(page, "HTTPS");
    await expect(https.textContent()).resolves.toContain(String(srv.port("HTTPS")));
    // The certificate line says its state in words.
    expect(await page.locator(".cert-line .badge").first().textContent()).toMatch(/Valid for|Expires|Expired|Not valid/);
    await shot(page, "admin-overview");
    expect(await axe(page, "overview")).toEqual([]);
  });

  test("a non-admin gets the 403 page in words, and the API refuses them", async () => {
    const { page: p, context } = await newPage(browser);
    try {
      await p.goto(srv.base + "/admin");
      await p.fill('input[name="email"]', BOB.email);
      await p.fill('input[name="password"]', BOB.password);
      const [res] = await Promise.all([p.waitForResponse((r) => new URL(r.url()).pathname === "/admin"), p.click('button[type="submit"]')]);
      expect(res.status()).toBe(403);
      expect(await p.locator("body").textContent()).toContain("not an administrator");
      // The same browser session (its cookies) on the API: refused too.
      expect((await context.request.get(srv.base + "/admin/api/accounts")).status()).toBe(403);
    } finally {
      await context.close();
    }
  });

  test("a deep link survives the sign-in: /admin/queue comes back to the queue page", async () => {
    const { page: p, context } = await newPage(browser);
    try {
      await signInAdmin(p, srv.base, ALICE, "/admin/queue");
      await p.waitForSelector('body[data-route="queue"]', { state: "attached" });
      expect(new URL(p.url()).hash).toBe("#/queue");
      expect(await p.locator("h1").textContent()).toBe("Queue");
    } finally {
      await context.close();
    }
  });
});

describe("domains and the DNS page", () => {
  test("add a domain, refuse removing one with accounts (in words), remove one after confirming", async () => {
    await go(page, "#/domains");
    await page.fill("#new-domain", "ui-added.test");
    await page.click('form.inline-form button[type="submit"]');
    await toast(page, "status", "ui-added.test");
    await row(page, "ui-added.test").waitFor();
    expect(await srv.store.getDomain("ui-added.test")).not.toBeNull();
    expect(await axe(page, "domains")).toEqual([]);

    // example.test has accounts: the server's refusal is shown in words, the domain stays.
    await row(page, "example.test").getByRole("button", { name: "Remove example.test" }).click();
    await confirm(page);
    expect((await toast(page, "alert")).length).toBeGreaterThan(10);
    expect(await srv.store.getDomain("example.test")).not.toBeNull();

    // Cancelling a confirmation leaves everything as it was.
    await row(page, "ui-added.test").getByRole("button", { name: "Remove ui-added.test" }).click();
    await page.locator('[role="dialog"]').getByRole("button", { name: "Cancel" }).click();
    expect(await srv.store.getDomain("ui-added.test")).not.toBeNull();

    await row(page, "ui-added.test").getByRole("button", { name: "Remove ui-added.test" }).click();
    await confirm(page);
    await row(page, "ui-added.test").waitFor({ state: "detached" });
    expect(await srv.store.getDomain("ui-added.test")).toBeNull();
  });

  test("the DNS page: each record's status in words from the server's resolver, expected and found, the zone block", async () => {
    await go(page, "#/domains/example.test");
    expect(await page.locator("h1").textContent()).toBe("DNS for example.test");
    const status = async (purpose: string) => (await row(page, purpose).first().locator("[data-status]").getAttribute("data-status")) ?? "";
    // dnsmasq publishes the MX and the DKIM key as expected, an SPF that differs, and no DMARC.
    expect(await status("MX")).toBe("ok");
    expect(await status("DKIM")).toBe("ok");
    expect(await status("DMARC")).toBe("missing");
    expect(await row(page, "DMARC").first().textContent()).toContain("Missing");
    const spf = row(page, "SPF").first();
    expect(await spf.locator("[data-status]").getAttribute("data-status")).toBe("mismatch");
    expect(await spf.textContent()).toContain("v=spf1 -all");
    expect(await spf.textContent()).toContain("Different from expected");
    const zone = (await page.locator("pre.zone").textContent()) ?? "";
    expect(zone).toContain("_dmarc");
    expect(zone).toContain("_domainkey");
    // Check again asks the server for a fresh report and draws it.
    const [again] = await Promise.all([page.waitForResponse((r) => r.url().endsWith("/admin/api/domains/example.test/dns")), page.getByRole("button", { name: "Check again" }).click()]);
    expect(again.status()).toBe(200);
    await page.waitForSelector(".page .loading", { state: "detached" });
    expect(await row(page, "DMARC").first().locator("[data-status]").getAttribute("data-status")).toBe("missing");
    await shot(page, "admin-dns");
    expect(await axe(page, "dns")).toEqual([]);
  });
});

const DAVE = { email: "dave@example.test", password: "dave's long passphrase 77", name: "Dave Lister" };

describe("accounts", () => {
  test("create: a weak password is refused in the dialog in words; a good one creates an account that signs in over IMAP", async () => {
    await go(page, "#/accounts");
    await page.getByRole("button", { name: "New account" }).click();
    const dlg = page.locator('[role="dialog"]');
    await dlg.getByLabel("Address").fill(DAVE.email);
    await dlg.getByLabel("Name").fill(DAVE.name);
    await dlg.getByLabel("Password").fill("x");
    await dlg.getByRole("button", { name: "Create" }).click();
    const err = dlg.locator(".dialog-error");
    await err.waitFor({ state: "visible" });
    expect(((await err.textContent()) ?? "").length).toBeGreaterThan(10);
    expect(await srv.store.getAccount(DAVE.email)).toBeNull();
    await dlg.getByLabel("Quota in MB").fill("lots");
    await dlg.getByRole("button", { name: "Create" }).click();
    await expect(err.textContent()).resolves.toContain("number of megabytes");
    await dlg.getByLabel("Quota in MB").fill("");
    await dlg.getByLabel("Password").fill(DAVE.password);
    await dlg.getByRole("button", { name: "Create" }).click();
    await dlg.waitFor({ state: "detached" });
    await toast(page, "status", DAVE.email);
    await row(page, DAVE.email).waitFor();
    expect(await row(page, DAVE.email).textContent()).toContain(DAVE.name);
    if (srv.port("IMAP")) expect(await imapLogin(srv.port("IMAP"), DAVE.email, DAVE.password)).toBe("OK");
    await shot(page, "admin-accounts");
    expect(await axe(page, "accounts")).toEqual([]);
  });

  test("the filter narrows the table", async () => {
    await go(page, "#/accounts");
    await page.fill("#account-filter", "dave");
    await waitFor(async () => (await page.locator("tbody tr").count()) === 1, "one row");
    expect(await page.locator("tbody tr").textContent()).toContain(DAVE.email);
    await page.fill("#account-filter", "nobody-here");
    await page.getByText("No account matches the filter.").waitFor();
    await page.fill("#account-filter", "");
  });

  test("quota, password reset (the old password refused over IMAP), disable and enable, admin on and off", async () => {
    await go(page, `#/accounts/${encodeURIComponent(DAVE.email)}`);
    expect(await page.locator("h1").textContent()).toBe(DAVE.email);
    await page.getByLabel("Quota in MB").fill("50");
    await page.getByRole("button", { name: "Save" }).click();
    await toast(page, "status", "Changes saved.");
    await waitFor(async () => (await srv.store.getAccount(DAVE.email))?.quotaBytes === 50 * 1024 * 1024, "the quota stored");
    await page.waitForSelector(".usage-text:has-text('of 50 MB')");

    const newPassword = "another long passphrase 88";
    await page.getByLabel("New password").fill(newPassword);
    await page.getByRole("button", { name: "Reset password" }).click();
    await toast(page, "status", "was reset");
    const imap = srv.port("IMAP");
    if (imap) {
      expect(await imapLogin(imap, DAVE.email, DAVE.password)).toStartWith("NO");
      expect(await imapLogin(imap, DAVE.email, newPassword)).toBe("OK");
    }
    DAVE.password = newPassword;

    await page.getByRole("button", { name: "Disable" }).click();
    await confirm(page);
    await page.getByRole("button", { name: "Enable" }).waitFor();
    expect((await srv.store.getAccount(DAVE.email))!.disabled).toBe(true);
    expect(await page.locator(".flags").first().textContent()).toContain("Disabled");
    if (imap) expect(await imapLogin(imap, DAVE.email, DAVE.password)).toStartWith("NO");
    await page.getByRole("button", { name: "Enable" }).click();
    await page.getByRole("button", { name: "Disable" }).waitFor();
    expect((await srv.store.getAccount(DAVE.email))!.disabled).toBe(false);
    if (imap) expect(await imapLogin(imap, DAVE.email, DAVE.password)).toBe("OK");

    await page.getByRole("button", { name: "Make administrator" }).click();
    await page.getByRole("button", { name: "Remove administrator rights" }).waitFor();
    expect((await srv.store.getAccount(DAVE.email))!.admin).toBe(true);
    await page.getByRole("button", { name: "Remove administrator rights" }).click();
    await page.getByRole("button", { name: "Make administrator" }).waitFor();
    expect((await srv.store.getAccount(DAVE.email))!.admin).toBe(false);
    expect(await axe(page, "account")).toEqual([]);
  });

  test("own account: the buttons that would lock the admin out are off, with the reason", async () => {
    await go(page, `#/accounts/${encodeURIComponent(ALICE.email)}`);
    expect(await page.getByRole("button", { name: "Disable" }).isDisabled()).toBe(true);
    expect(await page.getByRole("button", { name: "Delete the account" }).isDisabled()).toBe(true);
    expect(await page.locator(".page").textContent()).toContain("This is your own account");
  });

  test("two-factor reset turns it off in storage", async () => {
    const acct = (await srv.store.getAccount(DAVE.email))!;
    await srv.store.beginTwoFactor(acct.id, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP");
    await srv.store.enableTwoFactor(acct.id);
    expect((await srv.store.twoFactorStatus(acct.id)).enabled).toBe(true);
    await go(page, `#/accounts/${encodeURIComponent(DAVE.email)}`);
    expect(await page.locator(".flags").first().textContent()).toContain("Two-factor on");
    await page.getByRole("button", { name: "Turn off two-factor sign-in" }).click();
    await confirm(page);
    await toast(page, "status", "Two-factor sign-in is off");
    expect((await srv.store.twoFactorStatus(acct.id)).enabled).toBe(false);
  });

  test("access: end a webmail session, revoke an app password (its IMAP login then fails), wipe a device", async () => {
    const acct = (await srv.store.getAccount(DAVE.email))!;
    const web = await ApiClient.signIn(srv.base, DAVE);
    expect((await web.get("/api/session")).status).toBe(200);
    const app = await srv.store.createAppPassword(acct.id, "Phone mail app");
    await srv.ctx.storage.eas.touchDevice(acct.id, "DAVEPHONE", { deviceType: "iPhone", userAgent: "Apple-iPhone/1", protocolVersion: "16.1", ip: "192.0.2.7" }, Date.now());
    const imap = srv.port("IMAP");
    if (imap) expect(await imapLogin(imap, DAVE.email, app.password)).toBe("OK");

    await go(page, `#/accounts/${encodeURIComponent(DAVE.email)}`);
    const sessions = page.locator("section", { has: page.getByRole("heading", { name: "Webmail sessions" }) });
    expect(await sessions.locator("tbody tr").count()).toBeGreaterThanOrEqual(1);
    while ((await sessions.locator("tbody tr").count()) > 0) {
      const before = await sessions.locator("tbody tr").count();
      await sessions.locator("tbody tr").first().getByRole("button", { name: "End session" }).click();
      await waitFor(async () => (await sessions.locator("tbody tr").count()) < before, "the session row gone");
    }
    expect((await web.get("/api/session")).status).toBe(401);

    await page.getByRole("button", { name: "Revoke the app password Phone mail app" }).click();
    await confirm(page);
    await toast(page, "status", "Phone mail app");
    await page.getByText("No app password.").waitFor();
    if (imap) expect(await imapLogin(imap, DAVE.email, app.password)).toStartWith("NO");

    await page.getByRole("button", { name: "Wipe DAVEPHONE" }).click();
    await confirm(page);
    await page.getByText("Requested, waits for the device").waitFor();
    expect((await srv.ctx.storage.eas.getDevice(acct.id, "DAVEPHONE"))!.wipeStatus).toBe("requested");
    expect(await axe(page, "account access")).toEqual([]);
  });

  test("delete needs the address typed; then the account is gone", async () => {
    await go(page, `#/accounts/${encodeURIComponent(DAVE.email)}`);
    await page.getByRole("button", { name: "Delete the account" }).click();
    const dlg = page.locator('[role="dialog"]');
    const ok = dlg.locator(".dialog-actions button").last();
    expect(await ok.isDisabled()).toBe(true);
    await dlg.locator("input").fill("dave@");
    expect(await ok.isDisabled()).toBe(true);
    await confirm(page, DAVE.email);
    await page.waitForSelector('body[data-route="accounts"]', { state: "attached" });
    await waitFor(async () => (await srv.store.getAccount(DAVE.email)) === null, "the account deleted");
    expect(await row(page, DAVE.email).count()).toBe(0);
  });
});

describe("aliases, queue, devices, certificates", () => {
  test("an alias and a catch-all made on the page deliver mail sent with smtplib; remove one", async () => {
    await srv.store.addDomain("catch.test");
    await go(page, "#/aliases");
    const add = async (source: string, destination: string) => {
      await page.getByLabel("Alias address").fill(source);
      await page.getByLabel("Delivers to").fill(destination);
      await page.getByRole("button", { name: "Add an alias" }).click();
      await row(page, source).waitFor();
    };
    await add("info@example.test", BOB.email);
    await add("@catch.test", CAROL.email);
    expect(await row(page, "@catch.test").textContent()).toContain("Catch-all for catch.test");
    // Malformed: refused in words, nothing added.
    await page.getByLabel("Alias address").fill("not an address");
    await page.getByLabel("Delivers to").fill(BOB.email);
    await page.getByRole("button", { name: "Add an alias" }).click();
    expect((await toast(page, "alert")).length).toBeGreaterThan(5);

    await smtpSend(srv.port("SMTP"), "someone@outside.test", ["info@example.test"], "From: someone@outside.test\r\nTo: info@example.test\r\nSubject: via alias ui\r\nMessage-ID: <alias-ui@outside.test>\r\n\r\nhello\r\n");
    await smtpSend(srv.port("SMTP"), "someone@outside.test", ["whoever@catch.test"], "From: someone@outside.test\r\nTo: whoever@catch.test\r\nSubject: via catch-all ui\r\nMessage-ID: <catch-ui@outside.test>\r\n\r\nhello\r\n");
    const bob = await mailboxMessages(srv, BOB, "INBOX");
    expect(bob.messages.some((m) => m.toString().includes("<alias-ui@outside.test>"))).toBe(true);
    const carol = await mailboxMessages(srv, CAROL, "INBOX");
    expect(carol.messages.some((m) => m.toString().includes("<catch-ui@outside.test>"))).toBe(true);
    expect(await axe(page, "aliases")).toEqual([]);

    await page.getByRole("button", { name: `Remove the alias info@example.test → ${BOB.email}` }).click();
    await confirm(page);
    await row(page, "info@example.test").waitFor({ state: "detached" });
    expect((await srv.store.listAliases()).some((a) => a.source === "info@example.test")).toBe(false);
  });

  test("queue: an entry to an unreachable host shows its error; retry makes the worker try again; drop removes it", async () => {
    const e = await srv.store.enqueue({ sender: ALICE.email, recipients: ["someone@remote.test"], raw: new TextEncoder().encode("From: alice@example.test\r\nSubject: q\r\n\r\nbody\r\n") });
    const first = await waitFor(async () => {
      const q = await srv.store.getQueueEntry(e.id);
      return q && q.attempts >= 1 && q.lastError ? q : null;
    }, "the first delivery attempt");
    await go(page, "#/queue");
    const r = row(page, "someone@remote.test");
    expect(await r.textContent()).toContain(first.lastError!.slice(0, 20));
    expect(await axe(page, "queue")).toEqual([]);
    await page.getByRole("button", { name: `Retry now (message ${e.id})` }).click();
    await toast(page, "status", `Message ${e.id} will be tried now.`);
    await waitFor(async () => ((await srv.store.getQueueEntry(e.id))?.attempts ?? 0) > first.attempts, "the retried attempt");
    await page.getByRole("button", { name: `Drop message ${e.id}` }).click();
    await confirm(page);
    await row(page, "someone@remote.test").waitFor({ state: "detached" });
    expect(await srv.store.getQueueEntry(e.id)).toBeNull();
  }, 30_000);

  test("devices: every account's; wipe after confirming (stored as requested), remove", async () => {
    const bob = (await srv.store.getAccount(BOB.email))!;
    await srv.ctx.storage.eas.touchDevice(bob.id, "BOBPHONE", { deviceType: "Android", userAgent: "Android-Mail/1", protocolVersion: "14.1", ip: "192.0.2.9" }, Date.now());
    await go(page, "#/devices");
    const r = row(page, "BOBPHONE");
    expect(await r.textContent()).toContain(BOB.email);
    expect(await r.textContent()).toContain("Not requested");
    await r.getByRole("button", { name: "Wipe BOBPHONE" }).click();
    await confirm(page);
    await row(page, "BOBPHONE").getByText("Requested, waits for the device").waitFor();
    expect((await srv.ctx.storage.eas.getDevice(bob.id, "BOBPHONE"))!.wipeStatus).toBe("requested");
    expect(await axe(page, "devices")).toEqual([]);
    await row(page, "BOBPHONE").getByRole("button", { name: "Remove BOBPHONE" }).click();
    await confirm(page);
    await row(page, "BOBPHONE").waitFor({ state: "detached" });
    expect(await srv.ctx.storage.eas.getDevice(bob.id, "BOBPHONE")).toBeNull();
  });

  test("certificates: the issuer, names and validity the listeners serve; renew answers in words", async () => {
    const certs: CertificateStatus[] = srv.ctx.certificates.status();
    expect(certs.length).toBeGreaterThan(0);
    await go(page, "#/certificates");
    const issuers = await page.locator(".cert-issuer").allTextContents();
    expect(issuers).toContain(certs[0]!.issuer);
    expect(await page.locator(".page").textContent()).toContain(certs[0]!.fingerprint);
    expect(await page.locator(".page").textContent()).toContain(certs[0]!.names[0]!);
    await page.getByRole("button", { name: "Renew now" }).click();
    const result = page.locator(".renew-result");
    await waitFor(async () => {
      const text = (await result.textContent()) ?? "";
      return text.length > 10 && !text.startsWith("Renewing") ? text : null;
    }, "the renewal's answer");
    expect(await axe(page, "certificates")).toEqual([]);
  });
});

describe("logs and graphs", () => {
  test("logs: a failed IMAP login made by the test is found with the kind and text filters", async () => {
    const imap = srv.port("IMAP");
    if (!imap) return;
    expect(await imapLogin(imap, CAROL.email, "certainly not the password")).toStartWith("NO");
    await go(page, "#/logs");
    for (const box of await page.locator("fieldset.kinds input").all()) if (await box.isChecked()) await box.uncheck();
    await page.getByLabel("Failed login").check();
    await page.getByLabel("Containing").fill("carol@");
    const hit = page.locator("tbody tr", { hasText: CAROL.email });
    await hit.first().waitFor();
    const text = (await hit.first().textContent()) ?? "";
    expect(text).toContain("Failed login");
    expect(text).toContain("imap");
    // Every row shown is of the chosen kind.
    const kinds = await page.locator("tbody tr td:nth-child(2)").allTextContents();
    expect(kinds.every((k) => k.includes("Failed login"))).toBe(true);
    // Deliveries only: the failed login is not among them.
    await page.getByLabel("Failed login").uncheck();
    await page.getByLabel("Delivery", { exact: true }).check();
    await waitFor(async () => (await page.locator("tbody tr", { hasText: "Failed login" }).count()) === 0, "the filter applied");
    await page.getByLabel("Delivery", { exact: true }).uncheck();
    await page.getByLabel("Containing").fill("");
    expect(await axe(page, "logs")).toEqual([]);
  });

  test("logs: auto-refresh shows a new entry without a reload", async () => {
    await go(page, "#/logs");
    await page.getByLabel("Failed login").check();
    await page.getByLabel("Refresh every 5 seconds").check();
    const imap = srv.port("IMAP");
    if (!imap) return;
    expect(await imapLogin(imap, "autorefresh-probe@example.test", "wrong password")).toStartWith("NO");
    await page.locator("tbody tr", { hasText: "autorefresh-probe@example.test" }).first().waitFor({ timeout: 20_000 });
    await page.getByLabel("Refresh every 5 seconds").uncheck();
    await page.getByLabel("Failed login").uncheck();
  }, 30_000);

  test("graphs: bars for the messages the test delivered, and storage per account", async () => {
    const before = (await srv.ctx.activity.hourly(1))[0]!.messagesIn;
    for (let i = 0; i < 3; i++) await smtpSend(srv.port("SMTP"), "stats@outside.test", [CAROL.email], `From: stats@outside.test\r\nTo: ${CAROL.email}\r\nSubject: stats ${i}\r\n\r\nhello\r\n`);
    await waitFor(async () => (await srv.ctx.activity.hourly(1))[0]!.messagesIn >= before + 3, "three deliveries counted");
    const expected = (await srv.ctx.activity.hourly(1))[0]!.messagesIn;
    await go(page, "#/stats");
    // The current hour is the last group; its "received" bar carries the count.
    const values = await page.locator("#chart-traffic rect.col.s0").evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-value"))));
    expect(values.length).toBeGreaterThan(0);
    expect(values[values.length - 1]).toBe(expected);
    expect(await page.locator("#chart-traffic svg").getAttribute("aria-label")).toContain("received");
    const carol = page.locator("#storage-bars li", { hasText: CAROL.email });
    expect(await carol.textContent()).toMatch(/\d/);
    const width = await carol.locator(".bar-fill").evaluate((e) => (e as HTMLElement).getBoundingClientRect().width);
    expect(width).toBeGreaterThan(0);
    await shot(page, "admin-stats");
    expect(await axe(page, "stats")).toEqual([]);
  }, 30_000);
});

describe("language", () => {
  test("a German browser gets the German pages", async () => {
    const { page: p, context } = await newPage(browser, "desktop", "de-DE");
    try {
      await signInAdmin(p, srv.base, ALICE, "/admin/accounts");
      await p.waitForSelector('body[data-route="accounts"]', { state: "attached" });
      expect(await p.locator("h1").textContent()).toBe("Konten");
      expect(await p.locator("nav").textContent()).toContain("Warteschlange");
      expect(await p.getAttribute("html", "lang")).toBe("de");
    } finally {
      await context.close();
    }
  });
});
