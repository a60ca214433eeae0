/**
 * Issue 17, mail items 1, 2, 3 and 5, as a person sees them in Chromium:
 * attachments and "Download original" never drawn over a long body; deleting
 * or moving the open message opens the next one; on a phone a message only
 * read does not ride along into a Delete; Move, Archive and Restore for one
 * message from the reading pane and the keyboard; folder tools on touch and
 * nested folders.
 */
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Page } from "playwright-core";
import { ALICE, BOB, ApiClient, CHROMIUM_ARGS, launchBrowser, login, startWebmailServer, waitFor } from "./helpers.ts";

let srv: Awaited<ReturnType<typeof startWebmailServer>>;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
let promptAnswer = "";
const enc = new TextEncoder();
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

async function account() {
  return (await srv.store.getAccount(ALICE.email))!;
}

async function folderByName(name: string) {
  return srv.store.getFolder((await account()).id, name);
}

/** Subjects of a folder's messages, as the store has them. */
async function subjectsIn(name: string): Promise<string[]> {
  const f = await folderByName(name);
  if (!f) return [];
  const list = await srv.store.listMessages(f.id);
  const rows = await srv.store.getMessages(f.id, list.map((m) => m.uid));
  return rows.map((r) => r.subject).sort();
}

/** Plain messages `Subject <prefix> <n>`, newest last (so the list shows the highest n first). */
async function seed(folder: string, prefix: string, n: number, extra: (i: number) => string = () => "Hello.\r\n"): Promise<void> {
  const a = await account();
  const f = (await srv.store.getFolder(a.id, folder)) ?? (await srv.store.createFolder(a.id, folder));
  const base = Date.now() - 3_600_000;
  await srv.store.append(
    f.id,
    Array.from({ length: n }, (_, k) => {
      const i = k + 1;
      return { raw: enc.encode(`From: Sender ${i} <s${i}@example.org>\r\nTo: ${ALICE.email}\r\nSubject: ${prefix} ${i}\r\nMessage-ID: <${prefix.replace(/\W/g, "")}-${i}@example.org>\r\n${extra(i)}`), flags: ["\\Seen"], internalDate: base + i * 60_000 };
    }),
  );
}

async function openFolder(p: Page, label: string): Promise<void> {
  const narrow = (p.viewportSize()?.width ?? 1280) <= 1000;
  if (narrow) {
    // One pane at a time on a phone: leave the reading view first.
    if (await p.locator(".reader .back-btn").isVisible()) await p.click(".reader .back-btn");
    await p.click(".menu-btn");
    await p.locator(".folders").waitFor({ state: "visible" });
  }
  await p.locator(".folder", { has: p.locator(".folder-name", { hasText: new RegExp(`^${label}$`) }) }).click();
  await p.locator(".list-title", { hasText: label }).waitFor();
  if (narrow) await p.locator(".folders").waitFor({ state: "hidden" });
}

/** The list row whose subject is exactly `subject`. */
const row = (p: Page, subject: string) => p.locator(".row", { has: p.locator(".row-subject", { hasText: new RegExp(`^${subject}$`) }) });

const subjectShown = (p: Page) => p.locator(".reader .msg-subject");

/**
 * Waits until the page has handled every live event sent before now: a flag set on a sentinel message in
 * another folder shows up in that folder's unread badge only after the events queued ahead of it.
 */
async function eventsSettled(p: Page): Promise<void> {
  const a = await account();
  const f = (await srv.store.getFolder(a.id, "Sentinel")) ?? (await srv.store.createFolder(a.id, "Sentinel"));
  const list = await srv.store.listMessages(f.id);
  if (!list.length) {
    await srv.store.append(f.id, [{ raw: enc.encode(`From: x@example.org\r\nSubject: sentinel\r\n\r\nx\r\n`), flags: ["\\Seen"] }]);
    await p.locator('.folder[title="Sentinel"]').waitFor();
  }
  const uid = (await srv.store.listMessages(f.id))[0]!.uid;
  const seen = (await srv.store.getMessages(f.id, [uid]))[0]!.flags.includes("\\Seen");
  await srv.store.storeFlags(f.id, [uid], seen ? "remove" : "add", ["\\Seen"]);
  const badge = p.locator('.folder[title="Sentinel"] .badge');
  await badge.waitFor({ state: seen ? "attached" : "detached" });
}

beforeAll(async () => {
  srv = await startWebmailServer();
  browser = await launchBrowser();
  page = browser.page;
  page.setDefaultTimeout(10_000);
  page.on("dialog", (d) => void (d.type() === "prompt" ? d.accept(promptAnswer) : d.accept()));
  const long = Array.from({ length: 400 }, (_, i) => `Line ${i + 1} of the quarterly report, with enough words to wrap on a phone.`).join("\r\n");
  await seed("Long", "Long report", 1, () =>
    [
      "MIME-Version: 1.0",
      'Content-Type: multipart/mixed; boundary="b1"',
      "",
      "--b1",
      "Content-Type: text/plain; charset=utf-8",
      "",
      long,
      "The very last line.",
      "--b1",
      'Content-Type: application/pdf; name="figures.pdf"',
      'Content-Disposition: attachment; filename="figures.pdf"',
      "Content-Transfer-Encoding: base64",
      "",
      Buffer.from("%PDF-1.4 figures").toString("base64"),
      "--b1--",
      "",
    ].join("\r\n"),
  );
  await seed("Next", "Next", 10);
  await seed("Phone", "Phone", 4);
  await seed("Single", "Single", 6);
  const a = await account();
  await srv.store.createFolder(a.id, "Elsewhere");
  await login(page, srv.base, ALICE);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await srv?.close();
});

describe("item 1: attachments and Download original are not drawn over a long body", () => {
  for (const [name, size] of [
    ["desktop", DESKTOP],
    ["phone", PHONE],
  ] as const) {
    test(`${name}: they sit in the header above the body, and the body keeps all its text`, async () => {
      await page.setViewportSize(size);
      await openFolder(page, "Long");
      await page.locator(".row", { hasText: "Long report 1" }).click();
      await subjectShown(page).waitFor();
      const att = page.locator(".reader .attachment", { hasText: "figures.pdf" });
      const orig = page.locator(".reader a", { hasText: "Download original" });
      await att.waitFor();
      const box = async (sel: string) => page.locator(sel).first().evaluate((el) => el.getBoundingClientRect().toJSON() as DOMRect);
      const body = await box(".reader .msg-body");
      const text = await box(".reader .text-body");
      const a = await att.evaluate((el) => el.getBoundingClientRect().toJSON() as DOMRect);
      const o = await orig.evaluate((el) => el.getBoundingClientRect().toJSON() as DOMRect);
      // Both above the body, inside the header.
      expect(a.bottom).toBeLessThanOrEqual(body.top);
      expect(o.bottom).toBeLessThanOrEqual(body.top);
      expect(await att.evaluate((el) => !!el.closest(".msg-header"))).toBe(true);
      expect(await orig.evaluate((el) => !!el.closest(".msg-header"))).toBe(true);
      // What is drawn at their centre is them (nothing of the body on top, nothing of them on the body).
      const hit = (r: DOMRect) => page.evaluate(([x, y]) => document.elementFromPoint(x!, y!)?.closest("a")?.textContent ?? null, [r.left + r.width / 2, r.top + r.height / 2]);
      expect(await hit(a)).toContain("figures.pdf");
      expect(await hit(o)).toContain("Download original");
      // The body box holds all of its text: the text does not run out of it under something else.
      expect(text.bottom).toBeLessThanOrEqual(body.bottom + 1);
      // Scrolled to the end, the last line is on screen and it is the body's own text at that point.
      await page.locator(".reader").evaluate((el) => (el.scrollTop = el.scrollHeight));
      const last = await page.evaluate(() => {
        const r = document.createRange();
        const tb = document.querySelector(".reader .text-body")!;
        const node = tb.lastChild!;
        r.setStart(node, Math.max(0, (node.textContent ?? "").length - 5));
        r.setEnd(node, (node.textContent ?? "").length);
        const b = r.getBoundingClientRect();
        const at = document.elementFromPoint(b.left + 2, b.top + b.height / 2);
        return { inView: b.bottom <= window.innerHeight + 1 && b.top >= 0, isText: !!at?.closest(".text-body") };
      });
      expect(last).toEqual({ inView: true, isText: true });
      if (name === "phone") await page.click(".reader .back-btn");
      await page.setViewportSize(DESKTOP);
    }, 30_000);
  }
});

describe("item 2: deleting or moving the open message opens the next one", () => {
  const noGoneText = async () => expect(await page.locator(".reader-empty", { hasText: "moved or deleted" }).count()).toBe(0);

  test("desktop: Delete, Move to… and a multi-move each open the next message, 3 of 3", async () => {
    await openFolder(page, "Next");
    // The list shows Next 10 … Next 1.
    await row(page, "Next 9").click();
    await subjectShown(page).filter({ hasText: /^Next 9$/ }).waitFor();

    // 1. Delete from the reading pane.
    await page.click('.reader [data-action="delete"]');
    await subjectShown(page).filter({ hasText: /^Next 8$/ }).waitFor();
    await eventsSettled(page);
    await noGoneText();
    await expect(subjectShown(page).textContent()).resolves.toBe("Next 8");

    // 2. Move to… from the reading pane.
    await page.click('.reader [data-action="move"]');
    await page.locator(".picker").waitFor();
    await page.locator(".picker-folder", { hasText: /^Elsewhere$/ }).click();
    await subjectShown(page).filter({ hasText: /^Next 7$/ }).waitFor();
    await eventsSettled(page);
    await noGoneText();
    await expect(subjectShown(page).textContent()).resolves.toBe("Next 7");

    // 3. Several selected (the open one among them), moved with the bulk bar.
    await row(page, "Next 6").click({ modifiers: ["Control"] });
    await page.locator(".bulk-n", { hasText: "2 selected" }).waitFor();
    await page.selectOption('.bulk select[aria-label="Move selected to"]', { label: "Elsewhere" });
    await subjectShown(page).filter({ hasText: /^Next 5$/ }).waitFor();
    await eventsSettled(page);
    await noGoneText();
    await expect(subjectShown(page).textContent()).resolves.toBe("Next 5");
    expect(await subjectsIn("Elsewhere")).toEqual(["Next 6", "Next 7", "Next 8"]);
    expect(await subjectsIn("Trash")).toContain("Next 9");
    // The one opened after each step is the highlighted row.
    expect(await page.locator(".row.cursor").textContent()).toContain("Next 5");
  }, 60_000);

  test("desktop: the last message in the list opens the one above it", async () => {
    await row(page, "Next 1").click();
    await subjectShown(page).filter({ hasText: /^Next 1$/ }).waitFor();
    await page.click('.reader [data-action="delete"]');
    await subjectShown(page).filter({ hasText: /^Next 2$/ }).waitFor();
    await eventsSettled(page);
    await noGoneText();
  }, 30_000);

  test("phone: Delete in the reading view shows the next message, not an empty pane", async () => {
    await page.setViewportSize(PHONE);
    await page.click(".reader .back-btn");
    await row(page, "Next 4").click();
    await subjectShown(page).filter({ hasText: /^Next 4$/ }).waitFor();
    await page.click('.reader [data-action="delete"]');
    await subjectShown(page).filter({ hasText: /^Next 3$/ }).waitFor();
    await eventsSettled(page);
    await noGoneText();
    expect(await page.locator(".reader").isVisible()).toBe(true);
    await page.click(".reader .back-btn");
    await page.setViewportSize(DESKTOP);
  }, 30_000);

  test("phone: a message deleted by another client says so, with a way back", async () => {
    await page.setViewportSize(PHONE);
    await row(page, "Next 10").click();
    await subjectShown(page).filter({ hasText: /^Next 10$/ }).waitFor();
    const f = (await folderByName("Next"))!;
    const m = (await srv.store.listMessages(f.id)).at(-1)!;
    await srv.store.storeFlags(f.id, [m.uid], "add", ["\\Deleted"], { silent: true });
    await srv.store.expunge(f.id, [m.uid]);
    await page.locator(".reader-empty", { hasText: "moved or deleted" }).waitFor();
    await page.click(".reader .back-btn");
    await page.locator(".reader").waitFor({ state: "hidden" });
    await row(page, "Next 3").waitFor();
    await page.setViewportSize(DESKTOP);
  }, 30_000);
});

describe("item 3: Delete acts only on what the user sees selected", () => {
  test("phone: a message read and left with Back is not deleted along with the one ticked", async () => {
    await page.setViewportSize(PHONE);
    await openFolder(page, "Phone");
    await row(page, "Phone 3").click();
    await subjectShown(page).filter({ hasText: /^Phone 3$/ }).waitFor();
    await page.click(".reader .back-btn");
    await page.locator(".reader").waitFor({ state: "hidden" });
    // Nothing shows as selected after Back.
    expect(await page.locator(".row.selected").count()).toBe(0);
    expect(await row(page, "Phone 3").locator(".row-check").isChecked()).toBe(false);
    await row(page, "Phone 2").locator(".row-check").click();
    await page.locator(".bulk-n", { hasText: "1 selected" }).waitFor();
    await page.click('[data-action="bulk-delete"]');
    await row(page, "Phone 2").waitFor({ state: "detached" });
    expect(await subjectsIn("Phone")).toEqual(["Phone 1", "Phone 3", "Phone 4"]);
    expect(await row(page, "Phone 3").count()).toBe(1);
    await page.setViewportSize(DESKTOP);
  }, 30_000);

  test("desktop: ticking a box starts a new selection; the open message is not part of it", async () => {
    await row(page, "Phone 4").click();
    await subjectShown(page).filter({ hasText: /^Phone 4$/ }).waitFor();
    await row(page, "Phone 1").locator(".row-check").click();
    await page.locator(".bulk-n", { hasText: "1 selected" }).waitFor();
    expect(await row(page, "Phone 4").locator(".row-check").isChecked()).toBe(false);
    await page.locator(".list-scroll").focus();
    await page.keyboard.press("Delete");
    await row(page, "Phone 1").waitFor({ state: "detached" });
    expect(await subjectsIn("Phone")).toEqual(["Phone 3", "Phone 4"]);
    // The open message stays open.
    await expect(subjectShown(page).textContent()).resolves.toBe("Phone 4");
  }, 30_000);
});

describe("item 5: Move, Archive and Restore for one message; folders on touch; nested folders", () => {
  test("Archive from the reading pane, then Archive (e) and Move (v) from the keyboard", async () => {
    await openFolder(page, "Single");
    await row(page, "Single 6").click();
    await subjectShown(page).filter({ hasText: /^Single 6$/ }).waitFor();
    await page.click('.reader [data-action="archive"]');
    await page.locator(".toast", { hasText: "Archived 1 message." }).last().waitFor();
    await subjectShown(page).filter({ hasText: /^Single 5$/ }).waitFor();
    await waitFor(async () => (await subjectsIn("Archive")).includes("Single 6"), "Single 6 in Archive");
    await page.locator(".list-scroll").focus();
    await page.keyboard.press("e");
    await subjectShown(page).filter({ hasText: /^Single 4$/ }).waitFor();
    await waitFor(async () => (await subjectsIn("Archive")).includes("Single 5"), "Single 5 in Archive");
    await page.keyboard.press("v");
    await page.locator(".picker").waitFor();
    await page.keyboard.type("elsew");
    expect(await page.locator(".picker-folder:visible").count()).toBe(1);
    await page.keyboard.press("Enter");
    await page.locator(".picker").waitFor({ state: "detached" });
    await page.locator(".toast", { hasText: "Moved 1 message to Elsewhere" }).last().waitFor();
    await subjectShown(page).filter({ hasText: /^Single 3$/ }).waitFor();
    expect(await subjectsIn("Elsewhere")).toContain("Single 4");
    // Escape in the picker closes only the picker.
    await page.keyboard.press("v");
    await page.locator(".picker").waitFor();
    await page.keyboard.press("Escape");
    await page.locator(".picker").waitFor({ state: "detached" });
    await expect(subjectShown(page).textContent()).resolves.toBe("Single 3");
  }, 60_000);

  test("in Trash, Restore (button and e) puts a message back where it was deleted from", async () => {
    await page.click('.reader [data-action="delete"]'); // Single 3 -> Trash
    await subjectShown(page).filter({ hasText: /^Single 2$/ }).waitFor();
    await page.click('.reader [data-action="delete"]'); // Single 2 -> Trash
    await subjectShown(page).filter({ hasText: /^Single 1$/ }).waitFor();
    await openFolder(page, "Trash");
    await row(page, "Single 3").click();
    await subjectShown(page).filter({ hasText: /^Single 3$/ }).waitFor();
    expect(await page.locator('.reader [data-action="archive"]').count()).toBe(0);
    await page.click('.reader [data-action="restore"]');
    await page.locator(".toast", { hasText: "Restored 1 message to Single." }).last().waitFor();
    await row(page, "Single 3").waitFor({ state: "detached" });
    expect(await subjectsIn("Single")).toEqual(["Single 1", "Single 3"]);
    await row(page, "Single 2").click();
    await subjectShown(page).filter({ hasText: /^Single 2$/ }).waitFor();
    await page.locator(".list-scroll").focus();
    await page.keyboard.press("e");
    await row(page, "Single 2").waitFor({ state: "detached" });
    expect(await subjectsIn("Single")).toEqual(["Single 1", "Single 2", "Single 3"]);
    // A message that came to Trash some other way goes to the Inbox.
    const trash = (await folderByName("Trash"))!;
    await srv.store.append(trash.id, [{ raw: enc.encode(`From: x@example.org\r\nSubject: Came by IMAP\r\n\r\nx\r\n`), flags: ["\\Seen"] }]);
    await page.locator(".row", { hasText: "Came by IMAP" }).click();
    await page.click('.reader [data-action="restore"]');
    await page.locator(".toast", { hasText: "Restored 1 message to Inbox." }).last().waitFor();
    expect(await subjectsIn("INBOX")).toContain("Came by IMAP");
    // One message ticked (not opened) gets Restore in the bar above the list.
    await row(page, "Phone 2").locator(".row-check").click();
    await page.locator(".bulk-n", { hasText: "1 selected" }).waitFor();
    await page.click('[data-action="bulk-restore"]');
    await page.locator(".toast", { hasText: "Restored 1 message to Phone." }).last().waitFor();
    expect(await subjectsIn("Phone")).toEqual(["Phone 2", "Phone 3", "Phone 4"]);
  }, 60_000);

  test("nested folders: a name with / and New folder in… (the parent picker)", async () => {
    promptAnswer = "Projects/2026";
    await page.click('[data-action="new-folder"]');
    const child = page.locator(".folder[title='Projects/2026']");
    await child.waitFor();
    const parent = page.locator(".folder[title='Projects']");
    await parent.waitFor();
    const indent = async (l: typeof child) => l.evaluate((el) => parseFloat(getComputedStyle(el).paddingLeft));
    expect(await indent(child)).toBeGreaterThan(await indent(parent));
    promptAnswer = "Q1";
    await parent.hover();
    await page.click('button[aria-label="New folder in Projects"]');
    await page.locator(".folder[title='Projects/Q1']").waitFor();
    expect(await folderByName("Projects/Q1")).not.toBeNull();
    expect(await folderByName("Projects/2026")).not.toBeNull();
    // Bad levels are refused in words.
    promptAnswer = "Projects//x";
    await page.click('[data-action="new-folder"]');
    await page.locator(".toast-error", { hasText: "Each level of a folder name needs a name" }).waitFor();
  }, 30_000);

  test("touch phone: rename and delete a folder without hover", async () => {
    const profile = mkdtempSync(join(tmpdir(), "pb-chromium-"));
    const ctx = await chromium.launchPersistentContext(profile, { executablePath: "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS, ignoreHTTPSErrors: true, viewport: PHONE, hasTouch: true, isMobile: true });
    try {
      const p = ctx.pages()[0] ?? (await ctx.newPage());
      p.setDefaultTimeout(10_000);
      let answer = "Renamed on touch";
      p.on("dialog", (d) => void (d.type() === "prompt" ? d.accept(answer) : d.accept()));
      await login(p, srv.base, ALICE);
      expect(await p.evaluate(() => matchMedia("(hover: none)").matches)).toBe(true);
      await p.tap(".menu-btn");
      await p.locator(".folders").waitFor({ state: "visible" });
      const ren = p.locator('button[aria-label="Rename Elsewhere"]');
      expect(await ren.isVisible()).toBe(true);
      await ren.tap();
      await p.locator(".folder[title='Renamed on touch']").waitFor();
      const del = p.locator('button[aria-label="Delete Renamed on touch"]');
      expect(await del.isVisible()).toBe(true);
      answer = "";
      await del.tap();
      await p.locator(".folder[title='Renamed on touch']").waitFor({ state: "detached" });
      expect(await folderByName("Renamed on touch")).toBeNull();
      // A single message moved from the reading view on the phone.
      await p.locator(".folder", { has: p.locator(".folder-name", { hasText: /^Single$/ }) }).tap();
      await row(p, "Single 1").tap();
      await p.locator(".reader .msg-subject", { hasText: /^Single 1$/ }).waitFor();
      await p.tap('.reader [data-action="move"]');
      await p.locator(".picker-folder", { hasText: /^2026$/ }).tap();
      await p.locator(".reader .msg-subject", { hasText: /^Single 2$/ }).waitFor();
      expect(await subjectsIn("Projects/2026")).toEqual(["Single 1"]);
    } finally {
      await ctx.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("the API behind Archive, Restore and nested folders", () => {
  test("Restore: only from Trash, only one's own messages, back to the Inbox when the old folder is gone; bad input is a 400", async () => {
    const alice = await ApiClient.signIn(srv.base, ALICE);
    const a = await account();
    const gone = await srv.store.createFolder(a.id, "Short lived");
    await srv.store.append(gone.id, [{ raw: enc.encode(`From: x@example.org\r\nSubject: Orphan\r\n\r\nx\r\n`), flags: ["\\Seen"] }]);
    const orphan = (await srv.store.getMessages(gone.id, [(await srv.store.listMessages(gone.id))[0]!.uid]))[0]!;
    await alice.ok("POST", "/api/messages/delete", { ids: [orphan.id] });
    await alice.ok("DELETE", `/api/folders/${gone.id}`);
    const trash = (await folderByName("Trash"))!;
    const inTrash = (await srv.store.getMessages(trash.id, (await srv.store.listMessages(trash.id)).map((m) => m.uid))).find((m) => m.subject === "Orphan")!;
    const r = await alice.ok<{ moved: number; folders: { folderId: number }[] }>("POST", "/api/messages/restore", { ids: [inTrash.id] });
    expect(r.moved).toBe(1);
    expect(r.folders[0]!.folderId).toBe((await folderByName("INBOX"))!.id);
    expect(await subjectsIn("INBOX")).toContain("Orphan");
    // Not in Trash: nothing moves.
    const inboxMsg = (await srv.store.getMessages((await folderByName("INBOX"))!.id, (await srv.store.listMessages((await folderByName("INBOX"))!.id)).map((m) => m.uid))).find((m) => m.subject === "Orphan")!;
    expect((await alice.ok<{ moved: number }>("POST", "/api/messages/restore", { ids: [inboxMsg.id] })).moved).toBe(0);
    // Someone else's message: ignored.
    const b = (await srv.store.getAccount(BOB.email))!;
    const bobInbox = (await srv.store.getFolder(b.id, "INBOX"))!;
    await srv.store.append(bobInbox.id, [{ raw: enc.encode(`From: x@example.org\r\nSubject: Bob's own\r\n\r\nx\r\n`) }]);
    const bobMsg = (await srv.store.getMessages(bobInbox.id, (await srv.store.listMessages(bobInbox.id)).map((m) => m.uid)))[0]!;
    expect((await alice.ok<{ moved: number }>("POST", "/api/messages/restore", { ids: [bobMsg.id] })).moved).toBe(0);
    expect((await alice.ok<{ moved: number }>("POST", "/api/messages/archive", { ids: [bobMsg.id] })).moved).toBe(0);
    expect((await srv.store.listMessages(bobInbox.id)).length).toBe(1);
    for (const body of [{ ids: "1" }, { ids: [0] }, { ids: [1.5] }, {}, { ids: Array.from({ length: 10_001 }, (_, i) => i + 1) }]) {
      expect((await alice.send("POST", "/api/messages/restore", body)).status).toBe(400);
      expect((await alice.send("POST", "/api/messages/archive", body)).status).toBe(400);
    }
    expect((await alice.send("POST", "/api/messages/restore", "not json", { "content-type": "application/json" })).status).toBeLessThan(500);
  }, 30_000);

  test("Archive goes to the special-use Archive folder; a message moved on purpose forgets where a delete took it from", async () => {
    const alice = await ApiClient.signIn(srv.base, ALICE);
    const archive = (await srv.store.listFolders((await account()).id)).find((f) => f.specialUse === "\\Archive");
    expect(archive?.name).toBe("Archive");
    // Deleted from Single in the webmail, moved by hand from Trash to another folder, then put in Trash by an IMAP
    // client (which records nothing): Restore goes to the Inbox, not back to Single.
    const single = (await folderByName("Single"))!;
    const one = (await srv.store.getMessages(single.id, (await srv.store.listMessages(single.id)).map((m) => m.uid)))[0]!;
    await alice.ok("POST", "/api/messages/delete", { ids: [one.id] });
    const trash = (await folderByName("Trash"))!;
    const find = async (folderId: number) => (await srv.store.getMessages(folderId, (await srv.store.listMessages(folderId)).map((m) => m.uid))).find((m) => m.subject === one.subject)!;
    const other = await srv.store.createFolder((await account()).id, "Second home");
    await alice.ok("POST", "/api/messages/move", { ids: [(await find(trash.id)).id], folderId: other.id });
    expect((await find(other.id)).props["webmail.restoreFolderId"]).toBeUndefined();
    await srv.store.move(other.id, [(await find(other.id)).uid], trash.id); // as an IMAP client would
    await alice.ok("POST", "/api/messages/restore", { ids: [(await find(trash.id)).id] });
    expect(await subjectsIn("INBOX")).toContain(one.subject);
    expect(await subjectsIn("Single")).not.toContain(one.subject);
  }, 30_000);

  test("nested folder names: too deep, empty levels and wildcards are refused in words", async () => {
    const alice = await ApiClient.signIn(srv.base, ALICE);
    for (const name of ["x/".repeat(25) + "x", "a/ /b", "/a", "a/", "a/b%"]) {
      const res = await alice.send("POST", "/api/folders", { name });
      expect(res.status).toBe(400);
      expect(String(res.json().message).length).toBeGreaterThan(10);
    }
    const ok = await alice.send("POST", "/api/folders", { name: " Clients / Acme " });
    expect(ok.status).toBe(201);
    expect(ok.json().name).toBe("Clients/Acme");
  }, 30_000);
});
