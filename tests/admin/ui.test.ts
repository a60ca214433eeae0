/**
 * The web admin in Chromium (desktop 1280x800) against a real server, part 1:
 * sign in as an administrator through /login?next=/admin (a non-admin gets
 * the 403 page, a deep link survives the sign-in), domains (add, removal
 * refused in words while accounts exist, remove after confirming) and the DNS
 * page's statuses against a local dnsmasq, and accounts — created (then
 * python imaplib signs in), filtered, quota, password reset (the old one
 * refused over IMAP), disabled and enabled, admin on and off, two-factor
 * reset, webmail session ended, app password revoked (its IMAP login then
 * fails), device wipe, typed-confirmation delete — each checked outside the
 * browser; markup in a name stays text; every change carried the CSRF token;
 * axe-core on every page. Part 2: ui-ops.test.ts.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Page } from "playwright-core";
import { ALICE, BOB, ApiClient, waitFor } from "../webmail/helpers.ts";
import * as OTPAuth from "otpauth";
import { imapLogin } from "./helpers.ts";
import { SIZES, axe, confirm, csrfOfChanges, go, newPage, row, shot, signInAdmin, startAdminUi, toast, type AdminUi } from "./ui-helpers.ts";

// Each test drives a browser through several pages; a test that runs out of time closes the browser for the rest.
setDefaultTimeout(30_000);

let ui: AdminUi;
let srv: AdminUi["srv"];
let page: Page;

/** The current TOTP code for a base32 secret (RFC 6238: SHA-1, 6 digits, 30 s). */
function totp(secret: string): string {
  return new OTPAuth.TOTP({ algorithm: "SHA1", digits: 6, period: 30, secret: OTPAuth.Secret.fromBase32(secret) }).generate();
}

beforeAll(async () => {
  ui = await startAdminUi();
  ({ srv, page } = ui);
}, 60_000);

afterAll(async () => {
  await ui?.close();
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
    const { page: p, context } = await newPage(ui.browser);
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
    const { page: p, context } = await newPage(ui.browser);
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

describe("the way in from the webmail", () => {
  for (const size of ["desktop", "phone"] as const) {
    test(`${size}: the webmail's top bar has an Admin link for admins only, and it opens the admin`, async () => {
      const open = async (user: { email: string; password: string }) => {
        const { page: p, context } = await newPage(ui.browser, size);
        await p.goto(srv.base + "/login");
        await p.fill('input[name="email"]', user.email);
        await p.fill('input[name="password"]', user.password);
        await Promise.all([p.waitForURL((u) => u.pathname === "/"), p.click('button[type="submit"]')]);
        await p.waitForSelector(".topbar .me", { state: "attached" });
        return { p, context };
      };
      const bob = await open(BOB);
      try {
        expect(await bob.p.locator(".topbar a.admin-link").count()).toBe(0);
      } finally {
        await bob.context.close();
      }
      const alice = await open(ALICE);
      try {
        const link = alice.p.locator(".topbar a.admin-link");
        await link.waitFor();
        const box = await link.boundingBox();
        expect(box).not.toBeNull();
        // On the phone it is a 44 x 44 px target like every other control (tests/webmail/phone.test.ts).
        if (size === "phone") expect(Math.min(box!.width, box!.height)).toBeGreaterThanOrEqual(44);
        // Inside the viewport: the top bar does not push it off screen.
        expect(box!.x + box!.width).toBeLessThanOrEqual(SIZES[size].width + 0.5);
        await Promise.all([alice.p.waitForURL((u) => u.pathname === "/admin"), link.click()]);
        await alice.p.waitForSelector("body[data-admin-ready]", { state: "attached" });
        expect(await alice.p.locator("h1").textContent()).toBe("Overview");
      } finally {
        await alice.context.close();
      }
    });
  }
});

describe("two-factor sign-in", () => {
  test("an admin with two-factor sign-in: password, then a wrong code refused, then the TOTP code lands on the admin", async () => {
    const erin = { email: "erin@example.test", password: "erin's long passphrase 31" };
    const acct = await srv.store.addAccount(erin.email, erin.password);
    await srv.store.setAccountFlags(erin.email, { admin: true });
    const secret = new OTPAuth.Secret({ size: 20 }).base32;
    await srv.store.beginTwoFactor(acct.id, secret);
    await srv.store.enableTwoFactor(acct.id);
    const { page: p, context } = await newPage(ui.browser);
    try {
      await p.goto(srv.base + "/admin/accounts");
      await p.fill('input[name="email"]', erin.email);
      await p.fill('input[name="password"]', erin.password);
      await p.click('button[type="submit"]');
      const code = p.locator('input[name="code"]');
      await code.waitFor();
      // RFC 6238 §5.2: a code outside the accepted window is refused; the form asks again.
      await code.fill("000000" === totp(secret) ? "111111" : "000000");
      await p.click('button[type="submit"]');
      await p.locator('input[name="code"]').waitFor();
      expect(new URL(p.url()).pathname).not.toStartWith("/admin");
      await p.locator('input[name="code"]').fill(totp(secret));
      await Promise.all([p.waitForURL((u) => u.pathname.startsWith("/admin")), p.click('button[type="submit"]')]);
      await p.waitForSelector('body[data-route="accounts"]', { state: "attached" });
      expect(await p.locator("h1").textContent()).toBe("Accounts");
      expect(await row(p, erin.email).textContent()).toContain("Two-factor on");
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
    // The row whose first cell (the purpose) is exactly `purpose`.
    const record = (purpose: string) => page.locator("tbody tr").filter({ has: page.locator("td:first-child", { hasText: new RegExp(`^${purpose}$`) }) });
    const status = async (purpose: string) => (await record(purpose).locator("[data-status]").getAttribute("data-status")) ?? "";
    // dnsmasq publishes the MX and the DKIM key as expected, an SPF that differs, and no DMARC.
    expect(await status("MX")).toBe("ok");
    expect(await status("DKIM")).toBe("ok");
    expect(await status("DMARC")).toBe("missing");
    expect(await record("DMARC").textContent()).toContain("Missing");
    // Every record says its state in words, one of the four.
    const words = await page.locator("[data-status] .badge").allTextContents();
    expect(words.length).toBeGreaterThan(5);
    for (const w of words) expect(w).toMatch(/Correct|Missing|Different from expected|Could not be checked/);
    const spf = record("SPF");
    expect(await spf.locator("[data-status]").getAttribute("data-status")).toBe("mismatch");
    expect(await spf.textContent()).toContain("v=spf1 -all");
    expect(await spf.textContent()).toContain("Different from expected");
    const zone = (await page.locator("pre.zone").textContent()) ?? "";
    expect(zone).toContain("_dmarc");
    expect(zone).toContain("_domainkey");
    // The copy button puts the whole block on the clipboard.
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: srv.base });
    await page.getByRole("button", { name: "Copy the block" }).click();
    await toast(page, "status", "Copied to the clipboard.");
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(zone);
    // Check again asks the server for a fresh report and draws it.
    const [again] = await Promise.all([page.waitForResponse((r) => r.url().endsWith("/admin/api/domains/example.test/dns")), page.getByRole("button", { name: "Check again" }).click()]);
    expect(again.status()).toBe(200);
    await page.waitForSelector(".page .loading", { state: "detached" });
    expect(await status("DMARC")).toBe("missing");
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

describe("security", () => {
  test("names from the server are drawn as text: markup in a display name stays inert", async () => {
    const evil = `<img src=x onerror="window.__pwned=1"><b>bold</b>`;
    await srv.store.addAccount("evil@example.test", "a long passphrase for evil 9", { displayName: evil });
    await go(page, "#/accounts");
    const cell = row(page, "evil@example.test").locator("td").nth(1);
    expect(await cell.textContent()).toBe(evil);
    expect(await cell.locator("img, b").count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  test("every state-changing call the pages made carried the session's CSRF token", async () => {
    const { methods, wrong } = await csrfOfChanges(ui);
    expect(ui.changes.length).toBeGreaterThan(15);
    expect(methods).toEqual(["DELETE", "PATCH", "POST"]);
    expect(wrong).toEqual([]);
  });

  test("the pages ran under the admin's Content-Security-Policy without a refused style or script, and without a script error", () => {
    expect(ui.problems).toEqual([]);
  });
});
