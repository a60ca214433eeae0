/**
 * Issue 17, mail item 4: Undo for delete, move and junk (the message goes back
 * where it was) and Undo send (a send delay: the message is held durably in
 * \Drafts, Undo puts it back into the composer and nothing is delivered; after
 * the delay it is delivered once, also across a server restart).
 */
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { ALICE, ApiClient, BOB, CAROL, launchBrowser, login, mailboxMessages, startWebmailServer, waitFor } from "./helpers.ts";
import { startTestServer, createUser } from "../helpers/server.ts";
import { stripFields, HELD_KEYWORD } from "../../protocols/http/webmail/send-delay.ts";

let srv: Awaited<ReturnType<typeof startWebmailServer>>;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
const enc = new TextEncoder();

async function folderOf(subject: string): Promise<string[]> {
  const a = (await srv.store.getAccount(ALICE.email))!;
  const out: string[] = [];
  for (const f of await srv.store.listFolders(a.id)) {
    const rows = await srv.store.getMessages(f.id, (await srv.store.listMessages(f.id)).map((m) => m.uid));
    for (const r of rows) if (r.subject === subject) out.push(f.name);
  }
  return out;
}

async function bobHas(subject: string): Promise<number> {
  return (await mailboxMessages(srv, BOB, "INBOX")).messages.filter((b) => b.toString().includes(`Subject: ${subject}`)).length;
}

const row = (subject: string) => page.locator(".row", { has: page.locator(".row-subject", { hasText: new RegExp(`^${subject}$`) }) });

beforeAll(async () => {
  srv = await startWebmailServer();
  const a = (await srv.store.getAccount(ALICE.email))!;
  const inbox = (await srv.store.getFolder(a.id, "INBOX"))!;
  await srv.store.createFolder(a.id, "Projects");
  await srv.store.append(
    inbox.id,
    ["Budget one", "Budget two", "Budget three", "Budget four", "Budget five"].map((s, i) => ({
      raw: enc.encode(`From: Kim <kim@example.org>\r\nTo: ${ALICE.email}\r\nSubject: ${s}\r\nMessage-ID: <u${i}@example.org>\r\n\r\nText ${i}\r\n`),
      internalDate: Date.now() - 10_000 + i * 1000,
    })),
  );
  browser = await launchBrowser();
  page = browser.page;
  page.setDefaultTimeout(10_000);
  await login(page, srv.base, ALICE);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await srv?.close();
});

describe("undo delete, move, junk", () => {
  test("Delete from the keyboard, then Undo: the message is back in the Inbox, not in Trash", async () => {
    await row("Budget one").click();
    await page.locator(".reader", { hasText: "Text 0" }).first().waitFor();
    await page.keyboard.press("Delete");
    const toast = page.locator(".toast", { hasText: "Moved 1 message to Trash." });
    await toast.locator('[data-action="undo"]').click();
    await page.locator(".toast", { hasText: "Undone" }).waitFor();
    await row("Budget one").waitFor();
    expect(await folderOf("Budget one")).toEqual(["INBOX"]);
  }, 30_000);

  test("Move two to a folder, then Undo: both are back where they were", async () => {
    await row("Budget two").click();
    await row("Budget three").click({ modifiers: ["Control"] });
    await page.locator(".bulk-n", { hasText: "2 selected" }).waitFor();
    const projects = await page.locator('select[aria-label="Move selected to"] option', { hasText: "Projects" }).getAttribute("value");
    await page.selectOption('select[aria-label="Move selected to"]', projects!);
    const toast = page.locator(".toast", { hasText: "Moved 2 messages to Projects" });
    await toast.waitFor();
    expect(await folderOf("Budget two")).toEqual(["Projects"]);
    await toast.locator('[data-action="undo"]').click();
    await row("Budget two").waitFor();
    await row("Budget three").waitFor();
    expect(await folderOf("Budget two")).toEqual(["INBOX"]);
    expect(await folderOf("Budget three")).toEqual(["INBOX"]);
  }, 30_000);

  test("Junk, then Undo: back in the Inbox without the $Junk verdict", async () => {
    await row("Budget four").click();
    await row("Budget five").click({ modifiers: ["Control"] });
    await page.click('[data-action="bulk-junk"]');
    const toast = page.locator(".toast", { hasText: "Marked as junk." });
    await toast.waitFor();
    expect(await folderOf("Budget four")).toEqual(["Junk"]);
    await toast.locator('[data-action="undo"]').click();
    await row("Budget four").waitFor();
    await row("Budget five").waitFor();
    const a = (await srv.store.getAccount(ALICE.email))!;
    const inbox = (await srv.store.getFolder(a.id, "INBOX"))!;
    const rows = await srv.store.getMessages(inbox.id, (await srv.store.listMessages(inbox.id)).map((m) => m.uid));
    for (const s of ["Budget four", "Budget five"]) expect(rows.find((r) => r.subject === s)!.flags).not.toContain("$Junk");
  }, 30_000);
});

describe("undo send", () => {
  test("the send delay is a setting; 0 is off and a bad value is refused", async () => {
    const api = await ApiClient.signIn(srv.base, CAROL);
    expect((await api.ok<{ seconds: number }>("GET", "/api/settings/send-delay")).seconds).toBe(0);
    expect((await api.send("PUT", "/api/settings/send-delay", { seconds: 7 })).status).toBe(400);
    expect((await api.send("PUT", "/api/settings/send-delay", { seconds: "10" })).status).toBe(400);
    await api.ok("PUT", "/api/settings/send-delay", { seconds: 10 });
    expect((await api.ok<{ seconds: number }>("GET", "/api/settings/send-delay")).seconds).toBe(10);
    // Undo of something that is not held (or not the caller's) is refused, never a 500.
    expect((await api.send("POST", "/api/send/999999/undo")).status).toBe(409);
    expect((await api.send("POST", "/api/send/abc/undo")).status).toBe(400);
  });

  test("Undo within the delay puts the message back into the composer and nothing is delivered", async () => {
    const api = await ApiClient.signIn(srv.base, ALICE);
    // Turned on in Settings.
    await page.click('[data-action="settings"]');
    await page.selectOption('select[name="sendDelay"]', "5");
    await page.locator(".form-msg", { hasText: "Undo send saved." }).waitFor();
    expect((await api.ok<{ seconds: number }>("GET", "/api/settings/send-delay")).seconds).toBe(5);
    await page.click('[aria-label="Close settings"]');
    await page.click('[data-action="compose"]');
    const composer = page.locator(".composer");
    await composer.locator('input[name="to"]').fill(`${BOB.email}, `);
    await composer.locator('input[name="cc"]').fill(`${CAROL.email}`).catch(() => {});
    await composer.locator('input[name="subject"]').fill("Second thoughts");
    await composer.locator(".editor").click();
    await page.keyboard.type("Maybe not.");
    await composer.locator('[data-action="send"]').click();
    const toast = page.locator(".toast", { hasText: "Sending…" });
    await toast.locator('[data-action="undo"]').click();
    await composer.waitFor({ state: "visible" });
    await waitFor(async () => (await composer.locator('input[name="subject"]').inputValue()) === "Second thoughts", "the subject back in the composer");
    expect(await composer.locator(".editor").innerText()).toContain("Maybe not.");
    // Past the due time: still nothing at Bob's, and the held copy is an ordinary draft now.
    await new Promise((r) => setTimeout(r, 6500));
    expect(await bobHas("Second thoughts")).toBe(0);
    const a = (await srv.store.getAccount(ALICE.email))!;
    const drafts = (await srv.store.getFolder(a.id, "Drafts"))!;
    const held = (await srv.store.listMessages(drafts.id)).filter((m) => m.flags.includes(HELD_KEYWORD));
    expect(held.length).toBe(0);
    await composer.locator('[data-action="discard"]').click();
    await api.ok("PUT", "/api/settings/send-delay", { seconds: 0 });
  }, 60_000);

  test("after the delay it is delivered once, Bcc kept off the header, and the reply flags its original", async () => {
    const api = await ApiClient.signIn(srv.base, ALICE);
    await api.ok("PUT", "/api/settings/send-delay", { seconds: 5 });
    const a = (await srv.store.getAccount(ALICE.email))!;
    const inbox = (await srv.store.getFolder(a.id, "INBOX"))!;
    const orig = (await srv.store.getMessages(inbox.id, (await srv.store.listMessages(inbox.id)).map((m) => m.uid))).find((r) => r.subject === "Budget one")!;
    const res = await api.ok<{ held: { id: number; sendAt: number } }>("POST", "/api/send", {
      to: BOB.email,
      bcc: CAROL.email,
      subject: "Held then sent",
      text: "On its way.",
      source: { id: orig.id, mode: "reply" },
    });
    expect(res.held.sendAt).toBeGreaterThan(Date.now());
    expect(await bobHas("Held then sent")).toBe(0);
    await waitFor(async () => (await bobHas("Held then sent")) === 1, "delivery after the delay", 20_000);
    const carol = (await mailboxMessages(srv, CAROL, "INBOX")).messages.filter((b) => b.toString().includes("Held then sent"));
    expect(carol.length).toBe(1);
    const atBob = (await mailboxMessages(srv, BOB, "INBOX")).messages.find((b) => b.toString().includes("Held then sent"))!.toString();
    expect(atBob).not.toMatch(/^Bcc:/im);
    expect(atBob).not.toMatch(/^X-Pillarbox-Answers:/im);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await bobHas("Held then sent")).toBe(1);
    const sent = (await srv.store.getFolder(a.id, "Sent"))!;
    const sentRows = await srv.store.getMessages(sent.id, (await srv.store.listMessages(sent.id)).map((m) => m.uid));
    expect(sentRows.filter((r) => r.subject === "Held then sent").length).toBe(1);
    const drafts = (await srv.store.getFolder(a.id, "Drafts"))!;
    expect((await srv.store.listMessages(drafts.id)).filter((m) => m.flags.includes(HELD_KEYWORD)).length).toBe(0);
    expect((await srv.store.getMessageById(orig.id))!.flags).toContain("\\Answered");
    // Too late to undo now.
    expect((await api.send("POST", `/api/send/${res.held.id}/undo`)).status).toBe(409);
    await api.ok("PUT", "/api/settings/send-delay", { seconds: 0 });
  }, 60_000);
});

describe("held sends across a restart", () => {
  test("a restart during the delay still delivers once", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "pb-undo-restart-"));
    try {
      let s = await startTestServer({ listeners: ["HTTPS", "SMTP"], dataDir });
      for (const u of [ALICE, BOB]) await createUser(s.store, u.email, u.password);
      const api = await ApiClient.signIn(`https://127.0.0.1:${s.port("HTTPS")}`, ALICE);
      await api.ok("PUT", "/api/settings/send-delay", { seconds: 5 });
      const res = await api.ok<{ held: { id: number } }>("POST", "/api/send", { to: BOB.email, subject: "Across a restart", text: "Still coming." });
      expect(res.held.id).toBeGreaterThan(0);
      await s.close();
      s = await startTestServer({ listeners: ["HTTPS", "SMTP"], dataDir });
      const count = async () => {
        const b = (await s.store.getAccount(BOB.email))!;
        const f = (await s.store.getFolder(b.id, "INBOX"))!;
        return (await s.store.getMessages(f.id, (await s.store.listMessages(f.id)).map((m) => m.uid))).filter((r) => r.subject === "Across a restart").length;
      };
      await waitFor(async () => (await count()) === 1, "delivery after the restart", 20_000);
      await new Promise((r) => setTimeout(r, 1500));
      expect(await count()).toBe(1);
      await s.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  test("interrupted after submit (marked $PbSending, copy in Sent): after a restart it is not sent again", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "pb-undo-crash-"));
    try {
      let s = await startTestServer({ listeners: ["HTTPS", "SMTP"], dataDir });
      for (const u of [ALICE, BOB]) await createUser(s.store, u.email, u.password);
      const api = await ApiClient.signIn(`https://127.0.0.1:${s.port("HTTPS")}`, ALICE);
      await api.ok("PUT", "/api/settings/send-delay", { seconds: 5 });
      const res = await api.ok<{ held: { id: number } }>("POST", "/api/send", { to: BOB.email, subject: "Sent before the crash", text: "Once." });
      // What a crash right after submit leaves: the mark, the delivered copy and the \Sent copy, and the held copy.
      const held = (await s.store.getMessageById(res.held.id))!;
      await s.store.storeFlags(held.folderId, [held.uid], "add", ["$PbSending"]);
      const alice = (await s.store.getAccount(ALICE.email))!;
      const raw = await s.store.readMessage(held.id);
      await s.ctx.submit({ account: alice, envelopeFrom: ALICE.email, recipients: [BOB.email], raw: stripFields(raw, ["bcc"]), saveToSent: true });
      await s.close();
      s = await startTestServer({ listeners: ["HTTPS", "SMTP"], dataDir });
      await waitFor(async () => !(await s.store.getMessageById(res.held.id)) || null, "the held copy cleared after the restart", 20_000);
      const b = (await s.store.getAccount(BOB.email))!;
      const f = (await s.store.getFolder(b.id, "INBOX"))!;
      const rows = await s.store.getMessages(f.id, (await s.store.listMessages(f.id)).map((m) => m.uid));
      expect(rows.filter((r) => r.subject === "Sent before the crash").length).toBe(1);
      await s.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe("stripFields", () => {
  test("removes a field with its folded lines and keeps the body", () => {
    const raw = enc.encode("From: a@x\r\nBcc: b@x,\r\n c@x\r\nSubject: s\r\n\r\nBcc: in the body\r\n");
    expect(new TextDecoder().decode(stripFields(raw, ["bcc"]))).toBe("From: a@x\r\nSubject: s\r\n\r\nBcc: in the body\r\n");
    const noBody = enc.encode("Subject: only a header");
    expect(stripFields(noBody, ["subject"])).toBe(noBody);
  });
});
