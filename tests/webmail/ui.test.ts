/**
 * The browser client's features beyond the main flow: the virtualised list
 * on a large folder, multi-select and drag to a folder, folder management,
 * conversations, keyboard shortcuts, compose (autocomplete, drag-and-drop
 * attachment, autosaved drafts, forward as attachment), settings, themes and
 * the phone layout.
 */
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import type { Page } from "playwright-core";
import { ALICE, BOB, launchBrowser, login, mailboxMessages, startWebmailServer, waitFor } from "./helpers.ts";

let srv: Awaited<ReturnType<typeof startWebmailServer>>;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
const enc = new TextEncoder();
const BIG = 5000;

async function folderId(name: string): Promise<number> {
  const a = (await srv.store.getAccount(ALICE.email))!;
  return (await srv.store.getFolder(a.id, name))!.id;
}

async function openFolder(label: string): Promise<void> {
  await page.locator(".folder", { has: page.locator(".folder-name", { hasText: new RegExp(`^${label}$`) }) }).click();
  await page.locator(".list-title", { hasText: label === "Inbox" ? "Inbox" : label }).waitFor();
}

beforeAll(async () => {
  srv = await startWebmailServer();
  const a = (await srv.store.getAccount(ALICE.email))!;
  const big = await srv.store.createFolder(a.id, "Archive 2025");
  const batch = 1000;
  for (let start = 0; start < BIG; start += batch) {
    await srv.store.append(
      big.id,
      Array.from({ length: batch }, (_, k) => {
        const i = start + k;
        return { raw: enc.encode(`From: Sender ${i % 50} <s${i % 50}@example.org>\r\nTo: ${ALICE.email}\r\nSubject: Archived message ${i}\r\nMessage-ID: <a${i}@example.org>\r\n\r\nBody ${i}\r\n`), flags: ["\\Seen"], internalDate: Date.UTC(2025, 0, 1) + i * 60_000 };
      }),
    );
  }
  const inbox = (await srv.store.getFolder(a.id, "INBOX"))!;
  await srv.store.append(inbox.id, [
    { raw: enc.encode(`From: Kim <kim@example.org>\r\nTo: ${ALICE.email}\r\nSubject: Trip plan\r\nMessage-ID: <trip1@example.org>\r\n\r\nShall we go?\r\n`), internalDate: Date.now() - 4000 },
    { raw: enc.encode(`From: Lee <lee@example.org>\r\nTo: ${ALICE.email}\r\nSubject: Re: Trip plan\r\nMessage-ID: <trip2@example.org>\r\nIn-Reply-To: <trip1@example.org>\r\nReferences: <trip1@example.org>\r\n\r\nYes!\r\n`), internalDate: Date.now() - 3000 },
    { raw: enc.encode(`From: Max <max@example.org>\r\nTo: ${ALICE.email}\r\nSubject: Invoice 42\r\nMessage-ID: <inv42@example.org>\r\n\r\nPlease pay.\r\n`), internalDate: Date.now() - 2000 },
    { raw: enc.encode(`From: Ned <ned@example.org>\r\nTo: ${ALICE.email}\r\nSubject: Invoice 43\r\nMessage-ID: <inv43@example.org>\r\n\r\nPlease pay too.\r\n`), internalDate: Date.now() - 1000 },
  ]);
  browser = await launchBrowser();
  page = browser.page;
  page.setDefaultTimeout(10_000);
  page.on("dialog", (d) => void (d.type() === "prompt" ? d.accept(process.env.__PB_PROMPT ?? "") : d.accept()));
  await login(page, srv.base, ALICE);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await srv?.close();
});

describe("message list", () => {
  test(`a ${BIG}-message folder shows its total but only the rows in view exist`, async () => {
    await openFolder("Archive 2025");
    await page.locator(".row", { hasText: `Archived message ${BIG - 1}` }).waitFor();
    // Counts are written with the language's digit grouping (item 12): "5,000 messages".
    expect(await page.locator(".list-count").textContent()).toBe(`${new Intl.NumberFormat("en").format(BIG)} messages`);
    const rows = await page.locator(".row").count();
    expect(rows).toBeGreaterThan(5);
    expect(rows).toBeLessThan(60);
    // Jump to the middle: the rows there are fetched and drawn.
    await page.locator(".list-scroll").evaluate((el) => (el.scrollTop = el.scrollHeight / 2));
    await page.locator(".row", { hasText: `Archived message ${BIG / 2 - 1}` }).waitFor({ timeout: 10_000 });
    expect(await page.locator(".row").count()).toBeLessThan(60);
    await page.locator(".list-scroll").evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.locator(".row", { hasText: "Archived message 0" }).waitFor({ timeout: 10_000 });
  }, 60_000);

  test("sorting by subject and oldest first", async () => {
    await page.selectOption("select.sort", "date:asc");
    await page.locator(".row[data-index='0']", { hasText: "Archived message 0" }).waitFor();
    await page.selectOption("select.sort", "subject:asc");
    await page.locator(".row[data-index='0']", { hasText: "Archived message 0" }).waitFor();
    await page.locator(".row[data-index='1']", { hasText: "Archived message 1" }).waitFor();
    await page.selectOption("select.sort", "date:desc");
  }, 30_000);

  test("keyboard: j/k move and open, / focuses search, c opens the composer", async () => {
    await openFolder("Inbox");
    await page.locator(".row").first().waitFor();
    await page.locator(".list-scroll").focus();
    await page.keyboard.press("j");
    await page.locator(".msg-subject", { hasText: "Invoice 43" }).waitFor();
    await page.keyboard.press("j");
    await page.locator(".msg-subject", { hasText: "Invoice 42" }).waitFor();
    await page.keyboard.press("k");
    await page.locator(".msg-subject", { hasText: "Invoice 43" }).waitFor();
    await page.keyboard.press("/");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("name"))).toBe("q");
    await page.keyboard.press("Escape");
    await page.locator("body").click({ position: { x: 700, y: 500 } });
    await page.keyboard.press("c");
    await page.locator(".composer").waitFor();
    await page.keyboard.press("Escape");
    await page.locator(".composer-wrap").waitFor({ state: "hidden" });
  }, 30_000);

  test("multi-select, then drag to a folder created in the app", async () => {
    process.env.__PB_PROMPT = "Bills";
    await page.click('[data-action="new-folder"]');
    const bills = page.locator(".folder", { has: page.locator(".folder-name", { hasText: /^Bills$/ }) });
    await bills.waitFor();
    await page.locator(".row", { hasText: "Invoice 42" }).click();
    await page.locator(".row", { hasText: "Invoice 43" }).click({ modifiers: ["Control"] });
    await page.locator(".bulk-n", { hasText: "2 selected" }).waitFor();
    await page.locator(".row", { hasText: "Invoice 43" }).dragTo(bills);
    await page.locator(".toast", { hasText: "Moved 2 messages to Bills" }).waitFor();
    const billsId = await folderId("Bills");
    await waitFor(async () => (await srv.store.listMessages(billsId)).length === 2, "two messages in Bills");
    expect(await page.locator(".row", { hasText: "Invoice" }).count()).toBe(0);
    // Rename and delete the folder from the app.
    process.env.__PB_PROMPT = "Paid bills";
    await bills.hover();
    await page.click('button[aria-label="Rename Bills"]');
    const paid = page.locator(".folder", { has: page.locator(".folder-name", { hasText: /^Paid bills$/ }) });
    await paid.waitFor();
    await paid.hover();
    await page.click('button[aria-label="Delete Paid bills"]');
    await paid.waitFor({ state: "detached" });
    expect(await srv.store.getFolderById(billsId)).toBeNull();
  }, 30_000);

  test("conversation view groups a thread and opens it as a conversation", async () => {
    await page.check(".thread-toggle input");
    const row = page.locator(".row", { hasText: "Trip plan" });
    await row.locator(".row-count", { hasText: "2" }).waitFor();
    expect(await page.locator(".row", { hasText: "Trip plan" }).count()).toBe(1);
    await row.click();
    await page.locator(".thread-subject", { hasText: "2 messages" }).waitFor();
    await page.locator(".thread-item.expanded .text-body", { hasText: "Yes!" }).waitFor();
    await page.locator(".thread-head", { hasText: "Kim" }).click();
    await page.locator(".thread-item.expanded .text-body", { hasText: "Shall we go?" }).waitFor();
    await page.uncheck(".thread-toggle input");
  }, 30_000);
});

describe("compose", () => {
  test("autocomplete, a dropped file, an autosaved draft, then send", async () => {
    await page.click('[data-action="compose"]');
    const composer = page.locator(".composer");
    await composer.waitFor();
    await composer.locator('input[name="to"]').click();
    await page.keyboard.type("bob");
    await page.locator(".suggest li", { hasText: BOB.email }).waitFor();
    await page.keyboard.press("Enter");
    expect(await composer.locator('input[name="to"]').inputValue()).toBe(`${BOB.name} <${BOB.email}>, `);
    await composer.locator('input[name="subject"]').fill("Dropped file");
    await composer.locator(".editor").click();
    await page.keyboard.type("See the dropped file.");
    // Drop a file onto the composer, as a desktop drag would.
    await composer.evaluate((form) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array([1, 2, 3, 4, 5])], "dropped.bin", { type: "application/octet-stream" }));
      form.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await composer.locator(".att", { hasText: "dropped.bin" }).locator(".att-ok").waitFor();
    // The draft saves itself.
    await composer.locator(".compose-status", { hasText: "Draft saved" }).waitFor({ timeout: 15_000 });
    const drafts = await folderId("Drafts");
    const rows = await srv.store.getMessages(drafts, (await srv.store.listMessages(drafts)).map((m) => m.uid));
    expect(rows.map((r) => r.subject)).toEqual(["Dropped file"]);
    await composer.locator('[data-action="send"]').click();
    await page.locator(".toast", { hasText: "Message sent." }).last().waitFor();
    expect((await srv.store.listMessages(drafts)).length).toBe(0);
    const got = await waitFor(async () => (await mailboxMessages(srv, BOB, "INBOX")).messages.find((b) => b.toString().includes("Dropped file")), "message at Bob");
    // RFC 2183 §2: filename is a token or a quoted-string; mail/build.ts quotes it.
    expect(got.toString()).toMatch(/Content-Disposition: attachment; filename="?dropped\.bin"?\r\n/);
  }, 60_000);

  test("errors are shown in words: no recipient", async () => {
    await page.click('[data-action="compose"]');
    const composer = page.locator(".composer");
    await composer.locator('input[name="subject"]').fill("nobody");
    await composer.locator('[data-action="send"]').click();
    await composer.locator(".compose-error", { hasText: "Add at least one recipient." }).waitFor();
    await composer.locator('[data-action="discard"]').click();
    await page.locator(".composer-wrap").waitFor({ state: "hidden" });
  }, 30_000);

  test("forward as attachment from the reading pane", async () => {
    await openFolder("Inbox");
    await page.locator(".row", { hasText: "Re: Trip plan" }).click();
    await page.click('[data-action="forwardAttachment"]');
    const composer = page.locator(".composer");
    await composer.locator(".att", { hasText: "Re_ Trip plan.eml" }).waitFor().catch(async () => composer.locator(".att", { hasText: ".eml" }).waitFor());
    expect(await composer.locator('input[name="subject"]').inputValue()).toBe("Fwd: Re: Trip plan");
    await composer.locator('input[name="to"]').fill(BOB.email);
    await composer.locator('[data-action="send"]').click();
    // The earlier send's toast may still be up: wait for the newest one.
    await page.locator(".toast", { hasText: "Message sent." }).last().waitFor();
    const got = await waitFor(async () => (await mailboxMessages(srv, BOB, "INBOX")).messages.find((b) => b.toString().includes("Subject: Fwd: Re: Trip plan")), "forward at Bob");
    expect(got.toString()).toMatch(/Content-Type: message\/rfc822/i);
  }, 30_000);
});

describe("settings, themes, phone", () => {
  test("display name, signature and out-of-office are saved from the settings panel", async () => {
    await page.click('[data-action="settings"]');
    await page.fill('input[name="displayName"]', "Alice In Settings");
    await page.fill(`.sig-editor[data-address="${ALICE.email}"]`, "Alice\nSent from Pillarbox"); // the HTML signature of the own address (issue 17 item 8)
    await page.check('input[name="oofEnabled"]');
    await page.fill('input[name="oofSubject"]', "On holiday");
    await page.fill('textarea[name="oofBody"]', "Back on Monday.");
    await page.click('.settings button[type="submit"] >> text=Save settings');
    await page.locator(".form-msg", { hasText: "Settings saved." }).waitFor();
    const acct = (await srv.store.getAccount(ALICE.email))!;
    expect(acct.settings.displayName).toBe("Alice In Settings");
    expect(acct.settings.oof).toMatchObject({ enabled: true, subject: "On holiday", body: "Back on Monday." });
    await page.keyboard.press("Escape");
    // A new message starts with the signature.
    await page.click('[data-action="compose"]');
    await page.locator(".composer .pb-signature", { hasText: "Sent from Pillarbox" }).waitFor();
    await page.locator('.composer [data-action="discard"]').click();
  }, 30_000);

  test("dark theme from the toggle, and following the device otherwise", async () => {
    await page.emulateMedia({ colorScheme: "light" });
    await page.evaluate(() => localStorage.removeItem("pb-theme"));
    await page.reload();
    await page.waitForSelector("body[data-list-ready]", { state: "attached" });
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("light");
    await page.emulateMedia({ colorScheme: "dark" });
    await page.waitForFunction(() => document.documentElement.dataset.theme === "dark");
    await page.click('[data-action="theme"]');
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("light");
    await page.click('[data-action="theme"]');
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).toBe("rgb(23, 24, 27)");
    await page.click('[data-action="theme"]');
  }, 30_000);

  test("on a phone one pane shows at a time, with a way back", async () => {
    await page.setViewportSize({ width: 390, height: 800 });
    // Folders are a drawer, closed until the menu button opens it.
    await page.locator(".folders").waitFor({ state: "hidden" });
    await page.click(".menu-btn");
    await page.locator(".folders").waitFor({ state: "visible" });
    await openFolder("Inbox");
    await page.locator(".folders").waitFor({ state: "hidden" });
    expect(await page.locator(".reader").isVisible()).toBe(false);
    await page.locator(".row", { hasText: "Trip plan" }).first().click();
    await page.locator(".reader .msg-subject").waitFor();
    expect(await page.locator(".listpane").evaluate((el) => el.getBoundingClientRect().width)).toBeLessThanOrEqual(390);
    expect(await page.locator(".reader").evaluate((el) => Math.round(el.getBoundingClientRect().width))).toBe(390);
    await page.click(".reader .back-btn");
    await page.locator(".reader").waitFor({ state: "hidden" });
    await page.locator(".listpane .row").first().waitFor();
    await page.setViewportSize({ width: 1280, height: 800 });
  }, 30_000);
});
