/**
 * End to end in Debian's Chromium against the real server: sign in, live
 * delivery, reading, replying with an attachment (checked byte for byte over
 * IMAP, or in the store while IMAP is not built), Sent copy, search,
 * screenshots for the README, sign out.
 */
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { tmpdir } from "node:os";
import PostalMime from "postal-mime";
import type { Page } from "playwright-core";
import { ALICE, BOB, launchBrowser, login, smtpSend, mailboxMessages, startWebmailServer, request, waitFor } from "./helpers.ts";

let srv: Awaited<ReturnType<typeof startWebmailServer>>;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
let sessionCookie = "";
const browserLog: string[] = [];
const tmp = mkdtempSync(join(tmpdir(), "pb-e2e-"));
const attachment = randomBytes(150_000);
const shots = resolve(import.meta.dirname, "../../docs/screenshots");

beforeAll(async () => {
  srv = await startWebmailServer();
  // A realistic inbox for the screenshots: a few conversations, one with an attachment.
  const alice = (await srv.store.getAccount(ALICE.email))!;
  const inbox = (await srv.store.getFolder(alice.id, "INBOX"))!;
  const people = [
    ["Grace Hopper", "grace@navy.example", "Compiler meeting moved to Thursday", "Hi Alice, the compiler review moves to Thursday 10:00. Agenda attached."],
    ["Ada Lovelace", "ada@engine.example", "Notes on the Analytical Engine", "Alice, here are my notes on Bernoulli numbers. Let me know what you think!"],
    ["Office", "office@example.test", "Printer on floor 2 is fixed", "The printer works again. Please do not print the whole archive at once."],
    ["Linus", "linus@kernel.example", "Re: patch review", "Looks good to me. Applied, thanks."],
  ];
  await srv.store.append(
    inbox.id,
    people.map(([name, addr, subject, body], i) => ({
      raw: new TextEncoder().encode(
        `From: ${name} <${addr}>\r\nTo: ${ALICE.name} <${ALICE.email}>\r\nSubject: ${subject}\r\nDate: ${new Date(Date.now() - (i + 1) * 3600_000).toUTCString()}\r\nMessage-ID: <seed${i}@example.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`,
      ),
      flags: i > 1 ? ["\\Seen"] : [],
      internalDate: Date.now() - (i + 1) * 3600_000,
    })),
  );
  browser = await launchBrowser();
  page = browser.page;
  page.setDefaultTimeout(20_000);
  // Kept for the failure message of a test that times out.
  page.on("console", (m) => browserLog.push(`console.${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => browserLog.push(`pageerror: ${e.message}`));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await srv?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe("webmail end to end (Chromium)", () => {
  test("sign in through the login form", async () => {
    await login(page, srv.base, ALICE);
    expect(await page.locator(".list-title").textContent()).toBe("Inbox");
    expect(await page.locator(".row").count()).toBeGreaterThanOrEqual(4);
    sessionCookie = (await browser.context.cookies(srv.base)).find((c) => c.name === "__Host-pb_session")!.value;
    const c = (await browser.context.cookies(srv.base)).find((c) => c.name === "__Host-pb_session")!;
    expect(c.httpOnly).toBe(true);
    expect(c.secure).toBe(true);
    expect(c.sameSite).toBe("Strict");
  }, 60_000);

  test("a message sent by SMTP appears without reloading; open it", async () => {
    await page.waitForSelector("body[data-live]", { state: "attached" }).catch((e: Error) => {
      throw new Error(`the event stream never opened: ${e.message}\n${browserLog.join("\n")}`);
    });
    const marker = await page.evaluate(() => ((window as unknown as { __noReload: number }).__noReload = 42));
    await smtpSend(srv.port("SMTP"), BOB.email, [ALICE.email], [
      `From: ${BOB.name} <${BOB.email}>`,
      `To: ${ALICE.name} <${ALICE.email}>`,
      "Subject: Lunch on Friday?",
      "Message-ID: <lunch-1@example.test>",
      `Date: ${new Date().toUTCString()}`,
      "MIME-Version: 1.0",
      "Content-Type: text/html; charset=utf-8",
      "",
      "<p>Hi Alice,</p><p>shall we try the new <b>xylophonic</b> noodle bar on Friday?</p><p>Bob</p>",
      "",
    ].join("\r\n"));
    const row = page.locator(".row", { hasText: "Lunch on Friday?" });
    await row.waitFor({ timeout: 20_000 }).catch((e: Error) => {
      throw new Error(`the new message did not appear: ${e.message}\n${browserLog.join("\n")}`);
    });
    // Same document: the live update came over the event stream, not a reload.
    expect(await page.evaluate(() => (window as unknown as { __noReload: number }).__noReload)).toBe(marker);
    expect(await row.getAttribute("class")).toContain("unread");
    await row.click();
    const frame = page.frameLocator(".msg-frame");
    await expect(frame.locator("body").textContent()).resolves.toContain("xylophonic noodle bar");
    expect(await page.locator(".msg-subject").textContent()).toBe("Lunch on Friday?");
    // Opening marks it read.
    await waitFor(async () => !((await row.getAttribute("class")) ?? "").includes("unread"), "row marked read");
  }, 90_000);

  test("screenshots of the inbox and the reading pane for the README", async () => {
    mkdirSync(shots, { recursive: true });
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(shots, "webmail-reading.png") });
    await page.keyboard.press("Escape");
    await page.locator(".reader-empty").waitFor();
    await page.screenshot({ path: join(shots, "webmail-inbox.png") });
    await page.locator(".row", { hasText: "Lunch on Friday?" }).click();
    await page.frameLocator(".msg-frame").locator("body").waitFor();
  }, 30_000);

  test("reply with an attachment: arrives in Bob's INBOX byte-identical, copy in Alice's Sent", async () => {
    await page.click('[data-action="reply"]');
    const composer = page.locator(".composer");
    await composer.waitFor();
    expect(await composer.locator('input[name="to"]').inputValue()).toContain(BOB.email);
    expect(await composer.locator('input[name="subject"]').inputValue()).toBe("Re: Lunch on Friday?");
    await composer.locator(".editor").click();
    await page.keyboard.type("Friday works for me. Menu attached.");
    const file = join(tmp, "menu.bin");
    writeFileSync(file, attachment);
    await composer.locator('input[type="file"]').setInputFiles(file);
    await composer.locator(".att-ok").waitFor({ timeout: 20_000 });
    await composer.locator('[data-action="send"]').click();
    await page.locator(".toast", { hasText: "Message sent." }).waitFor({ timeout: 20_000 });

    const bob = await waitFor(async () => {
      const r = await mailboxMessages(srv, BOB, "INBOX");
      return r.messages.length ? r : null;
    }, "reply in Bob's INBOX");
    console.log(`reply checked via ${bob.via}`);
    const mail = await PostalMime.parse(bob.messages[0]!);
    expect(mail.subject).toBe("Re: Lunch on Friday?");
    expect(mail.inReplyTo).toBe("<lunch-1@example.test>");
    expect(mail.references).toContain("<lunch-1@example.test>");
    expect(mail.text).toContain("Friday works for me. Menu attached.");
    const att = mail.attachments.find((a) => a.filename === "menu.bin");
    expect(att).toBeDefined();
    expect(Buffer.from(att!.content as ArrayBuffer).equals(attachment)).toBe(true);
    // DKIM-signed by the submission path.
    expect(bob.messages[0]!.toString("latin1")).toMatch(/^DKIM-Signature:/im);

    const sent = await mailboxMessages(srv, ALICE, "Sent");
    expect(sent.messages.length).toBe(1);
    const copy = await PostalMime.parse(sent.messages[0]!);
    expect(copy.subject).toBe("Re: Lunch on Friday?");
    expect(Buffer.from(copy.attachments.find((a) => a.filename === "menu.bin")!.content as ArrayBuffer).equals(attachment)).toBe(true);
    // The original is now marked answered.
    const alice = (await srv.store.getAccount(ALICE.email))!;
    const inbox = (await srv.store.getFolder(alice.id, "INBOX"))!;
    const rows = await srv.store.getMessages(inbox.id, (await srv.store.listMessages(inbox.id)).map((m) => m.uid));
    expect(rows.find((r) => r.subject === "Lunch on Friday?")!.flags).toContain("\\Answered");
  }, 90_000);

  test("search finds a message by a word in its body", async () => {
    await page.fill('input[name="q"]', "xylophonic");
    await page.press('input[name="q"]', "Enter");
    await page.locator(".list-title", { hasText: "Search results" }).waitFor();
    const rows = page.locator(".row");
    await rows.first().waitFor();
    // Found in the Inbox; the reply quotes the word too, so the Sent copy may match as well.
    const subjects = await page.locator(".row .row-subject").allTextContents();
    expect(subjects).toContain("Lunch on Friday?");
    expect(subjects.every((s) => /Lunch on Friday\?/.test(s))).toBe(true);
    await page.fill('input[name="q"]', "nonexistentwordqq");
    await page.press('input[name="q"]', "Enter");
    await page.locator(".list-empty", { hasText: "Nothing matched" }).waitFor();
    await page.press('input[name="q"]', "Escape");
    await page.locator(".list-title", { hasText: "Inbox" }).waitFor();
  }, 30_000);

  test("sign out ends the session on the server", async () => {
    const before = await request("GET", srv.base + "/api/session", { headers: { cookie: `__Host-pb_session=${sessionCookie}` } });
    expect(before.status).toBe(200);
    await Promise.all([page.waitForURL(srv.base + "/login"), page.click('[data-action="logout"]')]);
    expect(await page.locator('input[name="password"]').count()).toBe(1);
    // The cookie value captured before sign-out no longer opens anything.
    const after = await request("GET", srv.base + "/api/session", { headers: { cookie: `__Host-pb_session=${sessionCookie}` } });
    expect(after.status).toBe(401);
    await page.goto(srv.base + "/");
    expect(page.url()).toBe(srv.base + "/login");
  }, 30_000);
});
