/**
 * Issue 17, mail item 9 (accessibility), in Chromium at desktop (1280x800)
 * and phone (390x844) sizes: axe-core finds no serious or critical problem in
 * the mail view with a message open, the composer, the settings dialog, the
 * sign-in page and the calendar, contacts and tasks apps; the settings dialog
 * keeps focus inside and gives it back; closing the composer gives focus
 * back; every control shows its focus; list rows hold no control inside
 * another; the selected row keeps its contrast in both themes; the ☰ button
 * is only there where it does something.
 *
 * axe-core is injected with page.evaluate (a DevTools evaluation, which the
 * page's script-src 'self' policy does not cover), so the page keeps its
 * real Content-Security-Policy during the check.
 */
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import type * as Axe from "axe-core";
import { ALICE, CHROMIUM_ARGS, login, startWebmailServer } from "./helpers.ts";

let srv: Awaited<ReturnType<typeof startWebmailServer>>;
let browser: Browser;
const enc = new TextEncoder();
const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;
type Size = keyof typeof SIZES;
const AXE_SOURCE = readFileSync(join(import.meta.dir, "..", "..", "node_modules", "axe-core", "axe.min.js"), "utf8");

/** A signed-in page at one size (the phone one as a touch device). */
async function openPage(size: Size, colorScheme: "light" | "dark" = "light"): Promise<{ page: Page; context: BrowserContext }> {
  const context = await browser.newContext({ viewport: SIZES[size], colorScheme, ignoreHTTPSErrors: true, ...(size === "phone" ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}) });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  await login(page, srv.base, ALICE);
  return { page, context };
}

type Finding = { id: string; impact: string | null; help: string; nodes: string[] };

/**
 * Runs axe-core on the page as it is now. Returns the serious and critical violations (the test asserts
 * there are none) and prints the others. The mail body frame is sandboxed without scripts and holds the
 * sender's markup, not ours: frames are left out.
 */
async function axe(page: Page, what: string): Promise<Finding[]> {
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(AXE_SOURCE);
  const found = await page.evaluate(async () => {
    const a = (window as unknown as { axe: typeof Axe }).axe;
    const r = await a.run(document, { iframes: false, resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact ?? null, help: v.help, nodes: v.nodes.slice(0, 6).map((n) => `${n.target.join(" ")} -> ${n.failureSummary ?? ""}`) }));
  });
  const bad = found.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const v of found) if (!bad.includes(v)) console.log(`axe (${what}) ${v.impact}: ${v.id}: ${v.help} [${v.nodes.length} element(s)]`);
  return bad;
}

/**
 * Presses Tab `n` times; for each control reached, whether it shows a focus ring: an outline or a box
 * shadow on the control, or on one of the three boxes around it that holds the focus (the search box, a
 * composer field, the text area's frame).
 */
async function tabRound(page: Page, n: number): Promise<{ seen: string[]; missing: string[] }> {
  const seen: string[] = [];
  const missing: string[] = [];
  for (let i = 0; i < n; i++) {
    await page.keyboard.press("Tab");
    const r = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return null;
      const name = `${el.tagName.toLowerCase()}${el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : ""}[${el.getAttribute("aria-label") ?? el.getAttribute("name") ?? el.textContent?.trim().slice(0, 20) ?? ""}]`;
      if (el.tagName === "IFRAME") return { name, ring: true };
      const shows = (x: Element) => {
        const cs = getComputedStyle(x);
        return (cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) >= 1) || cs.boxShadow !== "none";
      };
      let ring = shows(el);
      for (let p = el.parentElement, k = 0; !ring && p && k < 3; p = p.parentElement, k++) ring = p.matches(":focus-within") && shows(p);
      return { name, ring };
    });
    if (!r) continue;
    seen.push(r.name);
    if (!r.ring) missing.push(r.name);
  }
  return { seen, missing };
}

/** Opens the app's editor for a new item; returns how to close it again (null when the app offers none here). */
async function openEditor(page: Page, app: "calendar" | "contacts" | "tasks"): Promise<{ close(): Promise<void> } | null> {
  const present = async (sel: string) => (await page.locator(sel).count()) > 0;
  // A programmatic click: on the phone the button may sit in the app's own drawer; the editor is what is checked.
  const press = (sel: string) => page.locator(sel).first().evaluate((b) => (b as HTMLElement).click());
  if (app === "calendar") {
    if (!(await present('[data-action="new-event"]'))) return null;
    await press('[data-action="new-event"]');
    await page.locator("dialog[open]").waitFor();
    return {
      close: async () => {
        await page.keyboard.press("Escape");
        await page.locator("dialog[open]").waitFor({ state: "detached" });
      },
    };
  }
  if (app === "contacts") {
    if (!(await present('[data-action="new-contact"]'))) return null;
    await press('[data-action="new-contact"]');
    await page.locator(".app-area form").first().waitFor();
    return { close: async () => void (await page.evaluate(() => (location.hash = "#/contacts"))) };
  }
  if (!(await present('input[name="quick-add"]'))) return null;
  await page.fill('input[name="quick-add"]', "Water the plants");
  await page.press('input[name="quick-add"]', "Enter");
  await page.locator(".app-area", { hasText: "Water the plants" }).waitFor();
  await page.locator(".app-area :text('Water the plants')").first().click();
  await page.locator('[data-action="save-task"]:visible').waitFor();
  return {
    close: async () => {
      await page.locator('[data-action="cancel"]:visible').first().click();
      await page.locator('[data-action="save-task"]:visible').waitFor({ state: "detached" });
    },
  };
}

/** On the phone the reader covers the list after a message was opened: Back first. */
async function toList(page: Page): Promise<void> {
  const back = page.locator(".reader .back-btn:visible");
  if (await back.count()) await back.first().click();
}

async function openMessage(page: Page, subject: string): Promise<void> {
  await toList(page);
  await page.locator(".row", { hasText: subject }).first().click();
  await page.locator(".reader .msg-subject", { hasText: subject }).waitFor();
}

beforeAll(async () => {
  srv = await startWebmailServer();
  const a = (await srv.store.getAccount(ALICE.email))!;
  const inbox = (await srv.store.getFolder(a.id, "INBOX"))!;
  const now = Date.now();
  const html = "<html><body><h1>Spring offers</h1><p>Dear Alice, <a href='https://example.org/offers'>see the offers</a>.</p></body></html>";
  await srv.store.append(inbox.id, [
    { raw: enc.encode(`From: Kim Ko <kim@example.org>\r\nTo: ${ALICE.email}\r\nSubject: Project kickoff\r\nMessage-ID: <k1@example.org>\r\n\r\nCan we meet on Monday?\r\n`), internalDate: now - 60 * 60_000 },
    {
      raw: enc.encode(
        [
          "From: Shop <news@shop.example>",
          `To: ${ALICE.email}`,
          "Subject: Spring offers",
          "Message-ID: <s1@shop.example>",
          "MIME-Version: 1.0",
          'Content-Type: multipart/mixed; boundary="b1"',
          "",
          "--b1",
          "Content-Type: text/html; charset=utf-8",
          "",
          html,
          "--b1",
          'Content-Type: application/pdf; name="prices.pdf"',
          'Content-Disposition: attachment; filename="prices.pdf"',
          "Content-Transfer-Encoding: base64",
          "",
          Buffer.from("%PDF-1.4 prices").toString("base64"),
          "--b1--",
          "",
        ].join("\r\n"),
      ),
      internalDate: now - 30 * 60_000,
    },
    { raw: enc.encode(`From: Lee <lee@example.org>\r\nTo: ${ALICE.email}\r\nSubject: Lunch?\r\nMessage-ID: <l1@example.org>\r\n\r\nNoon?\r\n`), internalDate: now - 10 * 60_000, flags: ["\\Seen", "\\Flagged"] },
  ]);
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await srv?.close();
});

describe("item 9: axe-core finds no serious or critical problem", () => {
  for (const size of ["desktop", "phone"] as const) {
    // The phone runs in the dark theme (the device's choice), the desktop in the light one: both themes are checked.
    const scheme = size === "phone" ? "dark" : "light";
    test(`item 9: mail with a message open, the composer and the settings dialog (${size}, ${scheme} theme)`, async () => {
      const { page, context } = await openPage(size, scheme);
      expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe(scheme);
      try {
        await openMessage(page, "Spring offers");
        expect(await axe(page, `${size}: message open`)).toEqual([]);
        await toList(page);
        await page.click('[data-action="compose"]');
        await page.locator(".composer-wrap:not([hidden])").waitFor();
        expect(await axe(page, `${size}: composer`)).toEqual([]);
        await page.click('.composer [data-action="close"]');
        await page.locator(".composer-wrap").waitFor({ state: "hidden" });
        await page.click('[data-action="settings"]');
        await page.locator('.overlay [role="dialog"]').waitFor();
        expect(await axe(page, `${size}: settings`)).toEqual([]);
      } finally {
        await context.close();
      }
    }, 60_000);

    test(`item 9: the sign-in page (${size})`, async () => {
      const context = await browser.newContext({ viewport: SIZES[size], ignoreHTTPSErrors: true, ...(size === "phone" ? { isMobile: true, hasTouch: true } : {}) });
      try {
        const page = await context.newPage();
        await page.goto(srv.base + "/login");
        await page.locator('input[name="email"]').waitFor();
        expect(await axe(page, `${size}: sign-in`)).toEqual([]);
      } finally {
        await context.close();
      }
    }, 30_000);

    test(`item 9: the calendar, contacts and tasks apps (${size})`, async () => {
      const { page, context } = await openPage(size);
      try {
        const found: Record<string, Finding[]> = {};
        for (const app of ["calendar", "contacts", "tasks"] as const) {
          await page.evaluate((a) => (location.hash = `#/${a}`), app);
          await page.locator(`body[data-app="${app}"]`).waitFor({ state: "attached" });
          await page.locator(".app-area:not([hidden]) > :not([hidden])").first().waitFor();
          // Let the view load its collections (the views show a busy state until then).
          await page.waitForFunction(() => !document.querySelector(".app-area [aria-busy='true']"));
          found[app] = await axe(page, `${size}: ${app}`);
          // And the app's editor: a new event (a modal <dialog>), a new contact, a task opened after a quick add.
          const editor = await openEditor(page, app);
          if (editor) {
            found[`${app} editor`] = await axe(page, `${size}: ${app} editor`);
            await editor.close();
          }
        }
        expect(found).toEqual({ calendar: [], "calendar editor": [], contacts: [], "contacts editor": [], tasks: [], "tasks editor": [] });
      } finally {
        await context.close();
      }
    }, 60_000);
  }
});

describe("item 9: keyboard and focus", () => {
  test("item 9: the Settings dialog keeps Tab and Shift+Tab inside, closes on Escape and gives focus back to its button", async () => {
    const { page, context } = await openPage("desktop");
    try {
      await page.focus('[data-action="settings"]');
      await page.keyboard.press("Enter");
      const dialog = page.locator('.overlay [role="dialog"][aria-modal="true"]');
      await dialog.waitFor();
      expect(await page.evaluate(() => (document.activeElement as HTMLInputElement).name)).toBe("displayName");
      const inside = () => page.evaluate(() => !!document.activeElement?.closest(".overlay"));
      const count = await page.evaluate(() => document.querySelectorAll(".overlay button, .overlay input, .overlay select, .overlay textarea, .overlay [contenteditable='true']").length);
      // Round the whole dialog and further: focus never leaves it.
      for (let i = 0; i < count + 3; i++) {
        await page.keyboard.press("Tab");
        expect(await inside()).toBe(true);
      }
      for (let i = 0; i < count + 3; i++) {
        await page.keyboard.press("Shift+Tab");
        expect(await inside()).toBe(true);
      }
      // From the first control Shift+Tab goes to the last one, and Tab from the last one to the first.
      await page.focus('.overlay [data-action="close"]');
      await page.keyboard.press("Shift+Tab");
      const last = await page.evaluate(() => document.activeElement?.textContent ?? "");
      expect(await inside()).toBe(true);
      await page.keyboard.press("Tab");
      expect(await page.evaluate(() => document.activeElement?.getAttribute("data-action"))).toBe("close");
      expect(last.length).toBeGreaterThan(0);
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "detached" });
      expect(await page.evaluate(() => document.activeElement?.getAttribute("data-action"))).toBe("settings");
      // The close button gives focus back too.
      await page.keyboard.press("Enter");
      await dialog.waitFor();
      await page.click('.overlay [data-action="close"]');
      await dialog.waitFor({ state: "detached" });
      expect(await page.evaluate(() => document.activeElement?.getAttribute("data-action"))).toBe("settings");
    } finally {
      await context.close();
    }
  }, 30_000);

  test("item 9: closing the composer gives focus back where it was (New message, and Reply in the reading pane)", async () => {
    const { page, context } = await openPage("desktop");
    try {
      await page.focus('[data-action="compose"]');
      await page.keyboard.press("Enter");
      await page.locator(".composer-wrap:not([hidden])").waitFor();
      expect(await page.evaluate(() => !!document.activeElement?.closest(".composer"))).toBe(true);
      await page.click('.composer [data-action="close"]');
      await page.locator(".composer-wrap").waitFor({ state: "hidden" });
      expect(await page.evaluate(() => document.activeElement?.getAttribute("data-action"))).toBe("compose");

      await openMessage(page, "Project kickoff");
      await page.focus('.reader [data-action="reply"]');
      await page.keyboard.press("Enter");
      await page.locator(".composer-wrap:not([hidden])").waitFor();
      await page.keyboard.press("Escape");
      await page.locator(".composer-wrap").waitFor({ state: "hidden" });
      expect(await page.evaluate(() => document.activeElement?.closest(".reader") ? document.activeElement.getAttribute("data-action") : null)).toBe("reply");
    } finally {
      await context.close();
    }
  }, 30_000);

  test("item 9: every control the keyboard reaches shows a focus ring, the search box included", async () => {
    const { page, context } = await openPage("desktop");
    try {
      await openMessage(page, "Spring offers");
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      const { seen, missing } = await tabRound(page, 40);
      expect(seen.some((n) => n.startsWith("input") && n.includes("q]") || n.includes("Search"))).toBe(true);
      expect(seen.length).toBeGreaterThan(15);
      expect(missing).toEqual([]);
      // The search box itself: its box gets the ring when the field has focus.
      await page.focus('input[name="q"]');
      expect(await page.evaluate(() => getComputedStyle(document.querySelector(".search")!).outlineStyle)).not.toBe("none");
      // The composer's fields, formatting buttons, text and buttons.
      await page.click('[data-action="compose"]');
      await page.locator(".composer-wrap:not([hidden])").waitFor();
      const composer = await tabRound(page, 20);
      expect(composer.seen.filter((n) => n.startsWith("input")).length).toBeGreaterThanOrEqual(2);
      expect(composer.missing).toEqual([]);
    } finally {
      await context.close();
    }
  }, 30_000);
});

describe("item 9: list rows, contrast, the ☰ button", () => {
  test("item 9: list rows hold no control inside another: a grid whose check box has its own cell", async () => {
    const { page, context } = await openPage("desktop");
    try {
      const report = await page.evaluate(() => {
        const grid = document.querySelector(".list-scroll")!;
        const rows = [...document.querySelectorAll(".list-scroll .row[data-id]")];
        const interactive = "button, a[href], input, select, textarea, [tabindex], [role=button], [role=option], [role=checkbox]";
        const nested: string[] = [];
        for (const row of rows) {
          for (const c of row.querySelectorAll(interactive)) {
            // Inside the row, a control sits in a grid cell and in no other control.
            const cell = c.closest("[role=gridcell]");
            const outer = c.parentElement?.closest(interactive);
            if (!cell || !row.contains(cell) || (outer && row.contains(outer))) nested.push(c.outerHTML.slice(0, 80));
          }
        }
        return { role: grid.getAttribute("role"), rowRoles: [...new Set(rows.map((r) => r.getAttribute("role")))], rowCount: grid.getAttribute("aria-rowcount"), rows: rows.length, nested };
      });
      expect(report.role).toBe("grid");
      expect(report.rowRoles).toEqual(["row"]);
      expect(report.rows).toBe(3);
      expect(report.rowCount).toBe("3");
      expect(report.nested).toEqual([]);
      // Moving the cursor with the keyboard: the grid names the cursor row's cell as its active descendant.
      await page.focus(".list-scroll");
      await page.keyboard.press("j");
      await page.locator(".row.cursor").waitFor();
      const active = await page.evaluate(() => {
        const id = document.querySelector(".list-scroll")!.getAttribute("aria-activedescendant");
        return id ? document.getElementById(id)?.closest(".row")?.classList.contains("cursor") : false;
      });
      expect(active).toBe(true);
      // The check box still ticks a row (existing selectors keep working).
      await page.locator(".row", { hasText: "Project kickoff" }).locator(".row-check").click();
      await page.locator(".row.selected", { hasText: "Project kickoff" }).waitFor();
      expect(await page.locator(".row", { hasText: "Project kickoff" }).getAttribute("aria-selected")).toBe("true");
    } finally {
      await context.close();
    }
  }, 30_000);

  test("item 9: the selected row's text keeps 4.5:1 contrast in the light and the dark theme", async () => {
    const { page, context } = await openPage("desktop");
    try {
      // One row open (selected and cursor), one only ticked (selected).
      await openMessage(page, "Project kickoff");
      await page.locator(".row", { hasText: "Lunch?" }).locator(".row-check").click();
      for (const theme of ["light", "dark"] as const) {
        await page.evaluate((t) => {
          localStorage.setItem("pb-theme", t);
          document.documentElement.dataset.theme = t;
        }, theme);
        const worst = await page.evaluate(() => {
          const rgb = (s: string) => (s.match(/[\d.]+/g) ?? []).map(Number);
          const lum = ([r, g, b]: number[]) => {
            const f = (c: number) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
            return 0.2126 * f(r!) + 0.7152 * f(g!) + 0.0722 * f(b!);
          };
          const bgOf = (el: Element | null): number[] => {
            for (; el; el = el.parentElement) {
              const c = rgb(getComputedStyle(el).backgroundColor);
              if (c.length >= 3 && (c[3] === undefined || c[3] > 0)) return c;
            }
            return [255, 255, 255];
          };
          const out: { text: string; ratio: number; row: string }[] = [];
          for (const row of document.querySelectorAll(".row.selected, .row.cursor")) {
            for (const el of row.querySelectorAll(".row-from, .row-subject, .row-date, .row-preview, .row-size, .row-folder")) {
              if (!el.textContent?.trim()) continue;
              const a = lum(rgb(getComputedStyle(el).color));
              const b = lum(bgOf(el));
              const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
              out.push({ text: el.className, ratio: Math.round(ratio * 100) / 100, row: row.className });
            }
          }
          return out;
        });
        expect(worst.length).toBeGreaterThanOrEqual(8);
        expect({ theme, low: worst.filter((w) => w.ratio < 4.5) }).toEqual({ theme, low: [] });
      }
    } finally {
      await context.close();
    }
  }, 30_000);

  test("item 9: the ☰ button is hidden at desktop width (folders always shown) and opens the folders where it is shown", async () => {
    const { page, context } = await openPage("desktop");
    try {
      expect(await page.locator(".menu-btn").isVisible()).toBe(false);
      expect(await page.locator(".folders").isVisible()).toBe(true);
      await page.setViewportSize({ width: 900, height: 800 });
      await page.locator(".menu-btn").waitFor({ state: "visible" });
      // A drawer now, closed until asked for.
      await page.locator(".folders").waitFor({ state: "hidden" });
      await page.click(".menu-btn");
      await page.locator(".folders").waitFor({ state: "visible" });
      expect(await page.locator(".menu-btn").getAttribute("aria-expanded")).toBe("true");
      await page.click(".scrim", { position: { x: 600, y: 400 } });
      await page.locator(".folders").waitFor({ state: "hidden" });
      // The other apps have no folder pane: no ☰ there.
      await page.evaluate(() => (location.hash = "#/calendar"));
      await page.locator('body[data-app="calendar"]').waitFor({ state: "attached" });
      expect(await page.locator(".menu-btn").isVisible()).toBe(false);
    } finally {
      await context.close();
    }
  }, 30_000);
});
