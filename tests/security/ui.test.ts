/**
 * Settings > Security in Debian's Chromium (playwright-core), desktop and
 * phone sizes: turn on two-factor sign-in (scan data from the page, the code
 * computed from the shown key), recovery codes shown once, an app password
 * created, shown once and used by python3 imaplib while the main password is
 * refused there, sign-out and sign-in with password + TOTP, a recovery code
 * that works once (each test run uses two TOTP codes: the store accepts each
 * 30-second step once, so a third would have to wait for the clock), revoking the app password ends its IMAP access, and on a
 * phone the panel fits the screen with 44 px targets and turns 2FA off.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFile } from "node:child_process";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { ALICE, CHROMIUM_ARGS, startWebmailServer } from "../webmail/helpers.ts";
import type { TestServer } from "../helpers/server.ts";
import { totpCode, totpStep } from "../../src/auth-factors.ts";

let srv: TestServer & { base: string };
let browser: Browser;
let aliceId = 0;

function imapLogin(password: string): Promise<string> {
  const py = `
import sys, imaplib
try:
    c = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]), timeout=20); c.login(sys.argv[2], sys.argv[3]); c.select("INBOX"); c.logout(); print("ok")
except Exception as e:
    print("refused")
`;
  return new Promise((resolve) => {
    // async on purpose: the server runs in this process
    execFile("python3", ["-c", py, String(srv.port("IMAP")), ALICE.email, password], { timeout: 30_000 }, (_e, out) => resolve(String(out).trim()));
  });
}

/** A code of a step later than any used so far (the store refuses a step twice). */
async function nextCode(secret: string): Promise<string> {
  const last = (await srv.store.twoFactorSecret(aliceId))?.lastStep ?? 0;
  const step = Math.max(totpStep(Date.now()), last + 1);
  if (step > totpStep(Date.now()) + 1) throw new Error("no fresh step left in the window");
  return totpCode(secret, step * 30_000);
}

async function newPage(size: { width: number; height: number }, phone = false): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: size, ignoreHTTPSErrors: true, ...(phone ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}) });
  const page = await context.newPage();
  page.on("dialog", (d) => void d.accept());
  return { context, page };
}

/** The sign-in form; with `code` the second step too. Resolves on the mail list. */
async function signIn(page: Page, code?: () => Promise<string>): Promise<void> {
  await page.goto(srv.base + "/login");
  await page.fill('input[name="email"]', ALICE.email);
  await page.fill('input[name="password"]', ALICE.password);
  await page.click('button[type="submit"]');
  if (code) {
    await page.waitForSelector('input[name="code"]');
    await page.fill('input[name="code"]', await code());
    await page.click('button[type="submit"]');
  }
  await page.waitForSelector("body[data-list-ready]", { state: "attached", timeout: 15_000 });
}

async function closeSettings(page: Page): Promise<void> {
  await page.keyboard.press("Escape");
  await page.locator('.overlay [role="dialog"]').waitFor({ state: "detached" });
}

async function openSecurity(page: Page): Promise<void> {
  await page.click('[data-action="settings"]');
  await page.waitForSelector('[data-panel="security"] [data-state]');
}

let secret = "";
let recovery: string[] = [];
let appPassword = "";

beforeAll(async () => {
  srv = await startWebmailServer({ limits: { authFailuresPerIp: 10_000 } });
  aliceId = (await srv.store.getAccount(ALICE.email))!.id;
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await srv?.close();
});

describe("desktop", () => {
  let context: BrowserContext;
  let page: Page;
  beforeAll(async () => ({ context, page } = await newPage({ width: 1280, height: 800 })));
  afterAll(async () => context?.close());

  test("turn on two-factor sign-in: password, QR code and key, a code, ten recovery codes shown once", async () => {
    await signIn(page);
    await openSecurity(page);
    expect(await page.locator('[data-state="two-factor-off"]').count()).toBe(1);
    // without the current password nothing starts
    await page.click('[data-action="setup-2fa"]');
    await page.locator('[data-panel="security"] .form-err', { hasText: "current password" }).waitFor();
    await page.fill('input[name="securityPassword"]', ALICE.password);
    await page.click('[data-action="setup-2fa"]');
    await page.waitForSelector("[data-totp-secret]");
    secret = (await page.locator("[data-totp-secret]").textContent())!.replace(/\s/g, "");
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const qr = page.locator("img.totp-qr");
    await qr.waitFor();
    expect(await qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    // a wrong code is refused in words
    await page.fill('input[name="totpCode"]', "000000" === totpCode(secret, Date.now()) ? "111111" : "000000");
    await page.click('[data-action="enable-2fa"]');
    await page.locator('[data-panel="security"] .form-err', { hasText: "not correct" }).waitFor();
    await page.fill('input[name="totpCode"]', await nextCode(secret));
    await page.click('[data-action="enable-2fa"]');
    await page.waitForSelector('[data-state="two-factor-on"]');
    recovery = await page.locator('[data-shown-once="recovery-codes"] li').allTextContents();
    expect(recovery.length).toBe(10);
    expect((await srv.store.twoFactorStatus(aliceId)).enabled).toBe(true);
  }, 60_000);

  test("create an app password, shown once; IMAP takes it and refuses the main password", async () => {
    await page.fill('input[name="appPasswordName"]', "Thunderbird");
    await page.fill('input[name="securityPassword"]', ALICE.password);
    await page.click('[data-action="create-app-password"]');
    await page.waitForSelector("[data-new-app-password]");
    appPassword = (await page.locator("[data-new-app-password]").textContent())!.trim();
    expect(appPassword).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
    expect(await page.locator("li[data-app-password]").count()).toBe(1);
    expect(await page.locator("li[data-app-password]").textContent()).toContain("Thunderbird");
    expect(await imapLogin(appPassword)).toBe("ok");
    expect(await imapLogin(ALICE.password)).toBe("refused");
    // the list shows the use once drawn again (reopen the settings)
    await closeSettings(page);
    await openSecurity(page);
    await page.locator("li[data-app-password]", { hasText: "IMAP" }).waitFor();
    expect(await page.locator("[data-new-app-password]").count()).toBe(0); // shown once
    await closeSettings(page);
  }, 60_000);

  test("sign out, then sign in with password + TOTP", async () => {
    await page.click('[data-action="logout"]');
    await page.waitForURL(/\/login/);
    await signIn(page, () => nextCode(secret));
    expect(page.url()).toBe(srv.base + "/");
  }, 60_000);

  test("a recovery code signs in once; the second time it is refused in words", async () => {
    await page.click('[data-action="logout"]');
    await page.waitForURL(/\/login/);
    await signIn(page, async () => recovery[0]!);
    await page.click('[data-action="logout"]');
    await page.waitForURL(/\/login/);
    await page.fill('input[name="email"]', ALICE.email);
    await page.fill('input[name="password"]', ALICE.password);
    await page.click('button[type="submit"]');
    await page.fill('input[name="code"]', recovery[0]!);
    await page.click('button[type="submit"]');
    await page.locator(".login-error", { hasText: "not correct" }).waitFor();
    expect((await srv.store.twoFactorStatus(aliceId)).recoveryCodesLeft).toBe(9);
    // another recovery code on the same page goes on (TOTP codes are kept to two per test run: one per 30 s step)
    await page.fill('input[name="code"]', recovery[1]!);
    await page.click('button[type="submit"]');
    await page.waitForSelector("body[data-list-ready]", { state: "attached", timeout: 15_000 });
  }, 60_000);

  test("revoking the app password ends its IMAP access at once", async () => {
    expect(await imapLogin(appPassword)).toBe("ok"); // in the server's login cache now
    await openSecurity(page);
    await page.click('[data-action="revoke-app-password"]');
    await page.waitForSelector('[data-state="no-app-passwords"]');
    expect(await imapLogin(appPassword)).toBe("refused");
    await closeSettings(page);
  }, 60_000);
});

describe("phone", () => {
  test("the Security panel fits a 390 px screen with 44 px targets, and turns two-factor sign-in off", async () => {
    const { context, page } = await newPage({ width: 390, height: 844 }, true);
    try {
      await signIn(page, async () => recovery[2]!);
      await openSecurity(page);
      const panel = page.locator('[data-panel="security"]');
      await panel.scrollIntoViewIfNeeded();
      const fit = await page.evaluate(() => {
        const p = document.querySelector('[data-panel="security"]')!.getBoundingClientRect();
        return { right: p.right, width: innerWidth, scroll: document.documentElement.scrollWidth };
      });
      expect(fit.right).toBeLessThanOrEqual(fit.width + 0.5);
      expect(fit.scroll).toBeLessThanOrEqual(fit.width);
      const small = await page.evaluate(() => {
        const out: string[] = [];
        for (const el of document.querySelectorAll<HTMLElement>('[data-panel="security"] button, [data-panel="security"] input')) {
          const r = el.getBoundingClientRect();
          if (r.width === 0) continue;
          const text = el instanceof HTMLInputElement;
          if (text ? r.height < 43.5 : r.width < 43.5 || r.height < 43.5) out.push(`${el.tagName} ${el.getAttribute("name") ?? el.textContent} ${Math.round(r.width)}x${Math.round(r.height)}`);
        }
        return out;
      });
      expect(small).toEqual([]);
      await page.fill('input[name="securityPassword"]', ALICE.password);
      await page.click('[data-action="disable-2fa"]');
      await page.waitForSelector('[data-state="two-factor-off"]');
      expect((await srv.store.twoFactorStatus(aliceId)).enabled).toBe(false);
      expect(await imapLogin(ALICE.password)).toBe("ok");
    } finally {
      await context.close();
    }
  }, 60_000);
});
