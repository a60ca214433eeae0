/**
 * Issue 19 in Chromium (Debian's, through playwright-core), at 1280x800 and
 * at 390x844: a rule made in Settings > Rules files a message delivered over
 * SMTP into its folder; the Sieve scripts view shows the script and the line
 * of an error in a broken one (which is not stored); turning out-of-office on
 * shows its vacation script; the Junk button moves a message to Junk.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { ALICE, launchBrowser, login, mailboxMessages, smtpSend, startWebmailServer, waitFor } from "./helpers.ts";
import { axe } from "../admin/ui-helpers.ts";

let srv: Awaited<ReturnType<typeof startWebmailServer>>;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
let aliceId = 0;

beforeAll(async () => {
  srv = await startWebmailServer();
  const a = (await srv.store.getAccount(ALICE.email))!;
  aliceId = a.id;
  await srv.store.createFolder(a.id, "Accounts");
  const inbox = (await srv.store.getFolder(a.id, "INBOX"))!;
  await srv.store.append(inbox.id, [{ raw: new TextEncoder().encode(`From: spammer@bad.example\r\nTo: ${ALICE.email}\r\nSubject: Cheap pills today\r\nMessage-ID: <pills@bad.example>\r\n\r\nBuy now.\r\n`) }]);
  browser = await launchBrowser();
  page = browser.page;
  await login(page, srv.base, ALICE);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await srv?.close();
});

async function closeSettings(): Promise<void> {
  await page.locator('.overlay .panel-head [data-action="close"]').click();
  await page.locator(".panel-scroll").waitFor({ state: "detached" });
}

async function openSettings(): Promise<void> {
  if (await page.locator(".panel-scroll").isVisible()) await closeSettings();
  await page.click('[data-action="settings"]');
  // Both filter panels are drawn from one GET /api/sieve.
  await page.locator('[data-panel="sieve"] .sieve-body > *').first().waitFor();
}

/** The page is no wider than the window: nothing of the panels sticks out sideways. */
async function fitsWidth(width: number): Promise<void> {
  for (const sel of ['[data-panel="rules"]', '[data-panel="sieve"]']) {
    const r = await page.locator(sel).evaluate((el) => el.getBoundingClientRect());
    expect(r.left).toBeGreaterThanOrEqual(0);
    expect(Math.round(r.right)).toBeLessThanOrEqual(width);
  }
}

describe("Settings > Rules at 1280x800", () => {
  test('a rule "Subject contains invoice -> move to Accounts" files a message delivered over SMTP into Accounts', async () => {
    await openSettings();
    const rules = page.locator('[data-panel="rules"]');
    await rules.locator('[data-state="no-rules"]').waitFor();
    await rules.locator('[data-action="new-rule"]').click();
    await rules.locator('input[name="ruleName"]').fill("Invoices");
    const cond = rules.locator("[data-condition]").first();
    expect(await cond.locator('select[name="condField"]').inputValue()).toBe("subject");
    expect(await cond.locator('select[name="condOp"]').inputValue()).toBe("contains");
    await cond.locator('input[name="condValue"]').fill("invoice");
    const act = rules.locator("[data-action-row]").first();
    expect(await act.locator('select[name="actionType"]').inputValue()).toBe("fileinto");
    // The folder picker lists the user's folders.
    const options = await act.locator('select[name="actionFolder"] option').allTextContents();
    expect(options).toEqual(expect.arrayContaining(["INBOX", "Accounts"]));
    await act.locator('select[name="actionFolder"]').selectOption("Accounts");
    await rules.locator('[data-action="save-rule"]').click();
    await rules.locator("li[data-rule]", { hasText: "Invoices" }).waitFor();
    await rules.locator(".form-msg", { hasText: "Invoices" }).waitFor();
    expect(await rules.locator('li[data-rule] .rule-summary').first().textContent()).toBe("Subject contains invoice → Move to folder Accounts");
    const active = await srv.ctx.storage.sieve.activeScript(aliceId);
    expect(active?.name).toBe("Pillarbox rules");
    expect(active?.content).toContain('if header :contains "subject" "invoice" {\n  fileinto "Accounts";\n}');
    await fitsWidth(1280);

    await smtpSend(srv.port("SMTP"), "billing@shop.example", [ALICE.email], `From: billing@shop.example\r\nTo: ${ALICE.email}\r\nSubject: Your Invoice 2026-117\r\nMessage-ID: <inv117@shop.example>\r\n\r\nPlease pay.\r\n`);
    await smtpSend(srv.port("SMTP"), "friend@home.example", [ALICE.email], `From: friend@home.example\r\nTo: ${ALICE.email}\r\nSubject: Dinner?\r\nMessage-ID: <dinner@home.example>\r\n\r\nTonight?\r\n`);
    const filed = await waitFor(async () => (await mailboxMessages(srv, ALICE, "Accounts")).messages.find((m) => m.toString().includes("Invoice 2026-117")), "the invoice in Accounts");
    expect(filed.toString()).toContain("Please pay.");
    const inbox = await waitFor(async () => {
      const msgs = (await mailboxMessages(srv, ALICE, "INBOX")).messages.map((m) => m.toString());
      return msgs.some((m) => m.includes("Subject: Dinner?")) ? msgs : null;
    }, "the other message in INBOX");
    expect(inbox.some((m) => m.includes("Invoice 2026-117"))).toBe(false);
  }, 45_000);

  test("turning a rule off, and the Sieve scripts view showing the rules script as active", async () => {
    const rules = page.locator('[data-panel="rules"]');
    await rules.locator('input[name="ruleEnabled"]').uncheck();
    await rules.locator("li.rule-off", { hasText: "Invoices" }).waitFor();
    expect((await srv.ctx.storage.sieve.activeScript(aliceId))?.content).not.toContain("\nif "); // only the rule's comment is left
    await rules.locator('input[name="ruleEnabled"]').check();
    await rules.locator("li.rule:not(.rule-off)", { hasText: "Invoices" }).waitFor();
    const raw = page.locator('[data-panel="sieve"]');
    const row = raw.locator('li[data-script="Pillarbox rules"][data-active="true"]');
    await row.waitFor();
    await row.locator('[data-action="open-script"]').click();
    const text = raw.locator('textarea[name="sieveScript"]');
    await text.waitFor();
    expect(await text.inputValue()).toContain('fileinto "Accounts";');
  }, 30_000);

  test("the raw view flags an error with its line and does not store the broken script", async () => {
    const raw = page.locator('[data-panel="sieve"]');
    await raw.locator('input[name="newScriptName"]').fill("My own");
    await raw.locator('[data-action="new-script"]').click();
    const text = raw.locator('textarea[name="sieveScript"]');
    await raw.locator(".sieve-editor-box h4", { hasText: "My own" }).waitFor();
    await text.fill('require "fileinto";\n\nif header :contains "subject" "x" {\n  fileinto "X"\n}\n');
    await raw.locator('[data-action="check-script"]').click();
    const problem = raw.locator("[data-sieve-problems] li").first();
    await problem.waitFor();
    expect(Number(await problem.getAttribute("data-line"))).toBeGreaterThanOrEqual(4);
    expect(await problem.textContent()).toMatch(/^Line \d+: /);
    // axe-core: no serious or critical problem with the rules list, the script list and the editor with its errors.
    expect(await axe(page, "rules and raw view")).toEqual([]);
    await raw.locator('[data-action="save-script"]').click();
    await raw.locator(".form-err", { hasText: "Not saved" }).waitFor();
    expect(await srv.ctx.storage.sieve.getScript(aliceId, "My own")).toBeNull();
    // Corrected, it checks and saves; it is stored but not active, and the rules panel says nothing is wrong.
    await text.fill('require "fileinto";\n\nif header :contains "subject" "x" {\n  fileinto "X";\n}\n');
    await raw.locator('[data-action="check-script"]').click();
    await raw.locator(".form-msg", { hasText: "The script is correct." }).waitFor();
    await raw.locator('[data-action="save-script"]').click();
    await raw.locator('li[data-script="My own"][data-active="false"]').waitFor();
    expect(await srv.ctx.storage.sieve.getScript(aliceId, "My own")).toContain('fileinto "X";');
    // Activating it warns that the rules now do nothing; activating the rules again clears that.
    await raw.locator('li[data-script="My own"] [data-action="activate-script"]').click();
    await raw.locator('[data-state="other-active"]').waitFor();
    await page.locator('[data-panel="rules"] [data-state="rules-inactive"]').waitFor();
    await raw.locator('li[data-script="Pillarbox rules"] [data-action="activate-script"]').click();
    await raw.locator('li[data-script="Pillarbox rules"][data-active="true"]').waitFor();
    expect(await raw.locator('[data-state="other-active"]').count()).toBe(0);
    page.once("dialog", (d) => void d.accept());
    await raw.locator('li[data-script="My own"] [data-action="delete-script"]').click();
    await raw.locator('li[data-script="My own"]').waitFor({ state: "detached" });
  }, 30_000);

  test("out-of-office on: the vacation script is shown, and the out-of-office screen says it works with any script", async () => {
    await page.locator('[data-panel="sieve"] [data-state="vacation-off"]').waitFor();
    await page.locator('[data-hint="oof-sieve"]').waitFor();
    await page.check('input[name="oofEnabled"]');
    await page.fill('input[name="oofSubject"]', "Away this week");
    await page.fill('textarea[name="oofBody"]', "Back on Monday.");
    await page.click('.settings button[type="submit"] >> text=Save settings');
    await page.locator(".form-msg", { hasText: "Settings saved." }).waitFor();
    await openSettings();
    const code = page.locator("[data-vacation-script]");
    await code.waitFor();
    const text = (await code.textContent()) ?? "";
    expect(text).toContain("vacation");
    expect(text).toContain("Back on Monday.");
  }, 30_000);

});

describe("at 390x844 (phone)", () => {
  test("the rules editor fits the screen and saves a second rule", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await openSettings();
    const rules = page.locator('[data-panel="rules"]');
    await rules.locator("li[data-rule]", { hasText: "Invoices" }).waitFor();
    await rules.locator('[data-action="new-rule"]').click();
    await rules.locator('input[name="ruleName"]').fill("Newsletters");
    const cond = rules.locator("[data-condition]").first();
    await cond.locator('select[name="condField"]').selectOption("from");
    await cond.locator('input[name="condValue"]').fill("news@");
    const act = rules.locator("[data-action-row]").first();
    await act.locator('select[name="actionType"]').selectOption("mark-read");
    await rules.locator('[data-action="add-action"]').click();
    await rules.locator('select[name="actionType"]').nth(1).selectOption("stop");
    await fitsWidth(390);
    expect(await axe(page, "rules editor at 390x844")).toEqual([]);
    await rules.locator('[data-action="save-rule"]').click();
    await rules.locator("li[data-rule]", { hasText: "Newsletters" }).waitFor();
    const names = await rules.locator("li[data-rule] strong").allTextContents();
    expect(names).toEqual(["Invoices", "Newsletters"]);
    // Move it up: the order of the script follows.
    await rules.locator('li[data-rule]:has-text("Newsletters") [data-action="rule-up"]').click();
    await waitFor(async () => (await rules.locator("li[data-rule] strong").allTextContents()).join() === "Newsletters,Invoices", "the new order");
    const content = (await srv.ctx.storage.sieve.activeScript(aliceId))!.content;
    expect(content.indexOf('address :contains "from" "news@"')).toBeLessThan(content.indexOf('header :contains "subject" "invoice"'));
    expect(content).toContain('  addflag "\\\\Seen";\n  stop;\n');
    await fitsWidth(390);
    await page.setViewportSize({ width: 1280, height: 800 });
  }, 30_000);
});

describe("Junk", () => {
  test("the Junk button moves the open message to Junk, Not junk moves it back", async () => {
    await closeSettings();
    await page.locator(".folder", { has: page.locator(".folder-name", { hasText: /^Inbox$/ }) }).click();
    await page.locator(".row", { hasText: "Cheap pills today" }).first().click();
    await page.locator(".reader .msg-subject", { hasText: "Cheap pills today" }).waitFor();
    await page.locator('.reader [data-action="junk"]').click();
    await waitFor(async () => (await mailboxMessages(srv, ALICE, "Junk")).messages.some((m) => m.toString().includes("Cheap pills today")), "the message in Junk");
    expect((await mailboxMessages(srv, ALICE, "INBOX")).messages.some((m) => m.toString().includes("Cheap pills today"))).toBe(false);
    // And Not junk, from the Junk folder, moves it back to INBOX.
    await page.locator(".folder", { has: page.locator(".folder-name", { hasText: /^Junk$/ }) }).click();
    await page.locator(".row", { hasText: "Cheap pills today" }).first().click();
    await page.locator(".reader .msg-subject", { hasText: "Cheap pills today" }).waitFor();
    await page.locator('.reader [data-action="notJunk"]').click();
    await waitFor(async () => (await mailboxMessages(srv, ALICE, "INBOX")).messages.some((m) => m.toString().includes("Cheap pills today")), "the message back in INBOX");
    expect((await mailboxMessages(srv, ALICE, "Junk")).messages.some((m) => m.toString().includes("Cheap pills today"))).toBe(false);
  }, 30_000);
});
