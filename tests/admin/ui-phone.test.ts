/**
 * The web admin at phone size (390x844, touch) in Chromium, and its keyboard
 * and screen-reader behaviour: the navigation collapses into a menu button
 * that opens, navigates and closes (Escape gives focus back); tables become
 * one card per row with each value labelled by its column and nothing wider
 * than the screen; dialogs keep Tab inside and give focus back on Escape;
 * every control reached by Tab shows a focus ring; a page the API refuses
 * says why in words; axe-core finds no serious or critical problem.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { ALICE, startWebmailServer, smtpSend, CAROL } from "../webmail/helpers.ts";
import type { TestServer } from "../helpers/server.ts";
import { axe, go, launch, newPage, shot, signInAdmin } from "./ui-helpers.ts";

setDefaultTimeout(30_000);

let srv: TestServer & { base: string; httpBase: string };
let browser: Browser;
let page: Page;

beforeAll(async () => {
  srv = await startWebmailServer();
  await srv.store.setAccountFlags(ALICE.email, { admin: true });
  await smtpSend(srv.port("SMTP"), "phone@outside.test", [CAROL.email], `From: phone@outside.test\r\nTo: ${CAROL.email}\r\nSubject: phone\r\n\r\nhello\r\n`);
  browser = await launch();
  page = (await newPage(browser, "phone")).page;
  await signInAdmin(page, srv.base, ALICE);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await srv?.close();
});

/** Nothing on the page is wider than the screen (no sideways scrolling of the whole page). */
async function fitsWidth(p: Page): Promise<boolean> {
  return p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
}

describe("phone size", () => {
  test("the navigation is a menu: closed at first, opens, goes to a section and closes; Escape closes it and gives focus back", async () => {
    const menu = page.getByRole("button", { name: "Menu" });
    expect(await menu.isVisible()).toBe(true);
    expect(await menu.getAttribute("aria-expanded")).toBe("false");
    expect(await page.locator("#admin-nav").isVisible()).toBe(false);
    await menu.click();
    expect(await menu.getAttribute("aria-expanded")).toBe("true");
    await page.locator("#admin-nav").waitFor({ state: "visible" });
    expect(await axe(page, "phone menu open")).toEqual([]);
    await page.locator("#admin-nav").getByRole("link", { name: "Accounts" }).click();
    await page.waitForSelector('body[data-route="accounts"]', { state: "attached" });
    expect(await page.locator("h1").textContent()).toBe("Accounts");
    expect(await page.locator("#admin-nav").isVisible()).toBe(false);
    expect(await menu.getAttribute("aria-expanded")).toBe("false");
    expect(await page.locator('#admin-nav a[aria-current="page"]').textContent()).toBe("Accounts");

    await menu.click();
    await page.locator("#admin-nav a").first().focus();
    await page.keyboard.press("Escape");
    expect(await page.locator("#admin-nav").isVisible()).toBe(false);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Menu");
  });

  test("tables become cards: every value labelled with its column, nothing wider than the screen", async () => {
    await go(page, "#/accounts");
    expect(await fitsWidth(page)).toBe(true);
    const first = page.locator("tbody tr").first();
    const box = await first.boundingBox();
    expect(box!.width).toBeLessThanOrEqual(390);
    const label = await first.locator("td").first().evaluate((td) => getComputedStyle(td, "::before").content);
    expect(label).toBe('"Address"');
    // The account's link and its usage stay visible inside the card.
    expect(await first.getByRole("link").isVisible()).toBe(true);
    await shot(page, "admin-phone-accounts");
    expect(await axe(page, "phone accounts")).toEqual([]);
    for (const hash of ["#/overview", "#/domains", "#/aliases", "#/queue", "#/devices", "#/certificates", "#/logs", "#/stats"]) {
      await go(page, hash);
      expect(await fitsWidth(page)).toBe(true);
      expect(await axe(page, `phone ${hash}`)).toEqual([]);
    }
  });

  test("a dialog keeps Tab inside, Escape closes it and focus goes back to the button that opened it", async () => {
    await go(page, "#/accounts");
    const opener = page.getByRole("button", { name: "New account" });
    await opener.click();
    const dlg = page.locator('[role="dialog"]');
    await dlg.waitFor();
    expect(await dlg.getAttribute("aria-modal")).toBe("true");
    expect(await page.evaluate(() => document.querySelector(".shell")?.hasAttribute("inert"))).toBe(true);
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press(i % 5 === 4 ? "Shift+Tab" : "Tab");
      expect(await page.evaluate(() => !!document.activeElement?.closest('[role="dialog"]'))).toBe(true);
    }
    expect(await axe(page, "phone create dialog")).toEqual([]);
    await page.keyboard.press("Escape");
    await dlg.waitFor({ state: "detached" });
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("New account");
    expect(await page.evaluate(() => document.querySelector(".shell")?.hasAttribute("inert"))).toBe(false);
  });
});

describe("dark scheme", () => {
  test("in the system's dark scheme every page keeps its contrast (axe)", async () => {
    const { page: p, context } = await newPage(browser, "desktop", "en-GB", "dark");
    try {
      await signInAdmin(p, srv.base, ALICE);
      expect(await p.evaluate(() => getComputedStyle(document.body).backgroundColor)).not.toBe("rgb(245, 246, 248)");
      for (const hash of ["#/overview", "#/accounts", `#/accounts/${encodeURIComponent(CAROL.email)}`, "#/logs", "#/stats", "#/certificates"]) {
        await go(p, hash);
        expect(await axe(p, `dark ${hash}`)).toEqual([]);
      }
    } finally {
      await context.close();
    }
  });
});

describe("keyboard and errors", () => {
  test("every control reached by Tab shows a focus ring (desktop)", async () => {
    const { page: p, context } = await newPage(browser, "desktop");
    try {
      await signInAdmin(p, srv.base, ALICE, "/admin/logs");
      await p.waitForSelector('body[data-route="logs"]', { state: "attached" });
      const missing: string[] = [];
      let reached = 0;
      for (let i = 0; i < 25; i++) {
        await p.keyboard.press("Tab");
        const r = await p.evaluate(() => {
          const el = document.activeElement as HTMLElement | null;
          if (!el || el === document.body) return null;
          const cs = getComputedStyle(el);
          const ring = (cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) >= 1) || cs.boxShadow !== "none";
          return { name: `${el.tagName.toLowerCase()}[${el.getAttribute("aria-label") ?? el.id ?? el.textContent?.trim().slice(0, 20) ?? ""}]`, ring };
        });
        if (!r) continue;
        reached++;
        if (!r.ring) missing.push(r.name);
      }
      expect(reached).toBeGreaterThan(15);
      expect(missing).toEqual([]);
    } finally {
      await context.close();
    }
  });

  test("odd routes: an unknown account, an unknown domain's DNS, a bad escape and an unknown section each end in words or a list", async () => {
    const { page: p, context } = await newPage(browser, "desktop");
    try {
      await signInAdmin(p, srv.base, ALICE);
      await go(p, "#/accounts/nobody%40example.test");
      expect(await p.locator(".page [role=alert]").textContent()).toBe("There is no account nobody@example.test.");
      await go(p, "#/domains/unknown-domain.test");
      expect(((await p.locator(".page [role=alert]").textContent()) ?? "").length).toBeGreaterThan(10);
      expect(await p.getByRole("button", { name: "Try again" }).isVisible()).toBe(true);
      await go(p, "#/accounts/%E0%A4%A");
      expect(await p.locator("h1").textContent()).toBe("Accounts");
      await go(p, "#/no-such-section");
      expect(await p.locator("h1").textContent()).toBe("Overview");
    } finally {
      await context.close();
    }
  });

  test("an admin demoted while the page is open is told in words instead of a blank page", async () => {
    const { page: p, context } = await newPage(browser, "desktop");
    try {
      await signInAdmin(p, srv.base, ALICE, "/admin/overview");
      await srv.store.setAccountFlags(ALICE.email, { admin: false });
      await go(p, "#/accounts");
      const alert = (await p.locator(".page [role=alert]").textContent()) ?? "";
      expect(alert.length).toBeGreaterThan(10);
      expect(await p.getByRole("button", { name: "Try again" }).isVisible()).toBe(true);
    } finally {
      await srv.store.setAccountFlags(ALICE.email, { admin: true });
      await context.close();
    }
  });
});
