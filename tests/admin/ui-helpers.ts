/**
 * Helpers for the web admin's Chromium tests (tests/admin/ui*.test.ts): a
 * browser per file, a signed-in admin page at desktop or phone size (signed
 * in through the webmail form at /login?next=/admin, as a person would), a
 * confirmation-dialog helper, axe-core, and screenshots for docs/ADMIN.md
 * when PB_SCREENSHOTS=1.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import type * as Axe from "axe-core";
import { CHROMIUM_ARGS } from "../webmail/helpers.ts";

export const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;
export type Size = keyof typeof SIZES;
const AXE_SOURCE = readFileSync(join(import.meta.dir, "..", "..", "node_modules", "axe-core", "axe.min.js"), "utf8");

export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
}

/** A fresh context (own cookies) at a size, in a language; the phone one as a touch device. */
export async function newPage(browser: Browser, size: Size = "desktop", locale = "en-GB"): Promise<{ page: Page; context: BrowserContext }> {
  const context = await browser.newContext({ viewport: SIZES[size], locale, ignoreHTTPSErrors: true, ...(size === "phone" ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}) });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return { page, context };
}

/** Opens /admin, which sends the browser to the sign-in form and back; waits for the first page. */
export async function signInAdmin(page: Page, base: string, user: { email: string; password: string }, path = "/admin"): Promise<void> {
  await page.goto(base + path);
  await page.waitForURL(/\/login\?next=/);
  await page.fill('input[name="email"]', user.email);
  await page.fill('input[name="password"]', user.password);
  await Promise.all([page.waitForURL((u) => u.pathname.startsWith("/admin")), page.click('button[type="submit"]')]);
  await page.waitForSelector("body[data-admin-ready]", { state: "attached" });
}

/** Goes to a hash route and waits until that page is drawn (not its "Loading…"). */
export async function go(page: Page, hash: string): Promise<void> {
  await page.evaluate(() => {
    delete document.body.dataset.adminReady;
  });
  await page.evaluate((h) => {
    if (location.hash === h) window.dispatchEvent(new HashChangeEvent("hashchange"));
    else location.hash = h;
  }, hash);
  await page.waitForSelector("body[data-admin-ready]", { state: "attached" });
  await page.waitForSelector(".page .loading", { state: "detached" });
}

/** Answers the open confirmation dialog (typing the text first when it asks for that). */
export async function confirm(page: Page, typed?: string): Promise<void> {
  const dlg = page.locator('[role="dialog"]');
  await dlg.waitFor();
  if (typed) await dlg.locator("input").fill(typed);
  await dlg.locator(".dialog-actions button").last().click();
  await dlg.waitFor({ state: "detached" });
}

export type Finding = { id: string; impact: string | null; help: string; nodes: string[] };

/** axe-core on the page as it is (injected through DevTools, so the page keeps its CSP); serious and critical findings. */
export async function axe(page: Page, what: string): Promise<Finding[]> {
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(AXE_SOURCE);
  const found = await page.evaluate(async () => {
    const a = (window as unknown as { axe: typeof Axe }).axe;
    const r = await a.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact ?? null, help: v.help, nodes: v.nodes.slice(0, 6).map((n) => `${n.target.join(" ")} -> ${n.failureSummary ?? ""}`) }));
  });
  const bad = found.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const v of found) if (!bad.includes(v)) console.log(`axe (${what}) ${v.impact}: ${v.id}: ${v.help} [${v.nodes.length} element(s)]`);
  return bad;
}

export const screenshots = process.env.PB_SCREENSHOTS === "1";

export async function shot(page: Page, name: string): Promise<void> {
  if (!screenshots) return;
  mkdirSync("docs/screenshots", { recursive: true });
  // Without the passing status line (the test reads its text, not its visibility).
  await page.evaluate(() => document.querySelector(".toasts")?.classList.add("sr-only"));
  await page.screenshot({ path: `docs/screenshots/${name}.png` });
  await page.evaluate(() => document.querySelector(".toasts")?.classList.remove("sr-only"));
}
