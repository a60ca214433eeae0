/**
 * Settings > Junk mail in Chromium (issue 19): allowed and blocked senders
 * added and removed through /api/spam/lists land in the SpamStore the filter
 * reads; a bad pattern is refused in words; at 390x844 the panel fits.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { ALICE, launchBrowser, login, startWebmailServer, waitFor } from "./helpers.ts";

let srv: Awaited<ReturnType<typeof startWebmailServer>>;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
let aliceId = 0;

beforeAll(async () => {
  srv = await startWebmailServer();
  aliceId = (await srv.store.getAccount(ALICE.email))!.id;
  browser = await launchBrowser();
  page = browser.page;
  await login(page, srv.base, ALICE);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await srv?.close();
});

const stored = async () => (await srv.ctx.storage.spam.listEntries({ accountId: aliceId })).map((e) => `${e.kind}:${e.pattern}`).sort();

describe("Settings > Junk mail", () => {
  test("add an allowed sender and a blocked domain, then remove the allowed sender", async () => {
    await page.click('[data-action="settings"]');
    const panel = page.locator('[data-panel="spam"]');
    await panel.locator('[data-spam-list="allow"][data-state="empty"]').waitFor();
    await panel.locator('input[name="spamPattern"]').fill("friend@partner.example");
    await panel.locator('select[name="spamKind"]').selectOption("allow");
    await panel.locator('[data-action="add-spam-entry"]').click();
    await panel.locator('[data-spam-list="allow"] li[data-spam-entry="friend@partner.example"]').waitFor();
    await panel.locator('input[name="spamPattern"]').fill("spam-sender.example");
    await panel.locator('select[name="spamKind"]').selectOption("deny");
    await panel.locator('[data-action="add-spam-entry"]').click();
    await panel.locator('[data-spam-list="deny"] li[data-spam-entry="spam-sender.example"]').waitFor();
    expect(await stored()).toEqual(["allow:friend@partner.example", "deny:spam-sender.example"]);
    expect(await panel.locator('input[name="spamPattern"]').inputValue()).toBe("");

    await panel.locator('li[data-spam-entry="friend@partner.example"] [data-action="remove-spam-entry"]').click();
    await panel.locator('li[data-spam-entry="friend@partner.example"]').waitFor({ state: "detached" });
    await panel.locator('[data-spam-list="allow"][data-state="empty"]').waitFor();
    await waitFor(async () => (await stored()).join() === "deny:spam-sender.example", "the entry removed from the store");
  }, 30_000);

  test("a pattern that is neither an address nor a domain is refused in words, and nothing is added", async () => {
    const panel = page.locator('[data-panel="spam"]');
    await panel.locator('input[name="spamPattern"]').fill("not a pattern!");
    await panel.locator('[data-action="add-spam-entry"]').click();
    const err = panel.locator(".form-err");
    await waitFor(async () => ((await err.textContent()) ?? "").length > 10, "the error");
    expect(await stored()).toEqual(["deny:spam-sender.example"]);
    // An empty field is caught before asking the server.
    await panel.locator('input[name="spamPattern"]').fill("  ");
    await panel.locator('[data-action="add-spam-entry"]').click();
    await panel.locator(".form-err", { hasText: "Enter an address or a domain." }).waitFor();
  }, 30_000);

  test("at 390x844 the panel fits the screen and still adds entries", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const panel = page.locator('[data-panel="spam"]');
    await panel.scrollIntoViewIfNeeded();
    const r = await panel.evaluate((el) => el.getBoundingClientRect());
    expect(r.left).toBeGreaterThanOrEqual(0);
    expect(Math.round(r.right)).toBeLessThanOrEqual(390);
    await panel.locator('input[name="spamPattern"]').fill("colleague@work.example");
    await panel.locator('select[name="spamKind"]').selectOption("allow");
    await panel.locator('[data-action="add-spam-entry"]').click();
    await panel.locator('[data-spam-list="allow"] li[data-spam-entry="colleague@work.example"]').waitFor();
    expect(await stored()).toEqual(["allow:colleague@work.example", "deny:spam-sender.example"]);
    await page.setViewportSize({ width: 1280, height: 800 });
  }, 30_000);
});
