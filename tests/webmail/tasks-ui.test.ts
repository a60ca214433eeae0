/**
 * Issue 17, Tasks in the webmail (web/src/tasks), in Chromium at desktop
 * (1280x800) and phone (390x844) sizes: quick-add, due date and priority in
 * the editor (overdue shown), completion by the checkbox stored as
 * STATUS:COMPLETED (read back over CalDAV), a weekly task completed moves to
 * its next due date, show/hide completed, delete, a CalDAV change appearing
 * live, task lists created and renamed.
 */
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import type { Page } from "playwright-core";
import { ALICE, ApiClient, launchBrowser, login, request, startWebmailServer, waitFor } from "./helpers.ts";
import type { CollectionInfo, TaskSummary } from "../../protocols/http/webmail/api-types.ts";

let srv: Awaited<ReturnType<typeof startWebmailServer>>;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let api: ApiClient;
let list: CollectionInfo;
const SIZES = [
  { name: "desktop", size: { width: 1280, height: 800 } },
  { name: "phone", size: { width: 390, height: 844 } },
] as const;
const pages: Record<string, Page> = {};

const auth = "Basic " + Buffer.from(`${ALICE.email}:${ALICE.password}`).toString("base64");
const dav = (method: string, path: string, body?: string) => request(method, srv.base + path, { headers: { authorization: auth, ...(body !== undefined ? { "content-type": "text/calendar; charset=utf-8" } : {}) }, body });
const todoPath = (id: string) => `/dav/calendars/${ALICE.email}/${list.name}/${id}`;
/** The VTODO text with folded lines joined (RFC 5545 §3.1). */
const unfold = (s: string) => s.replace(/\r\n[ \t]/g, "");

async function tasks(completed = true): Promise<TaskSummary[]> {
  return (await api.ok<{ tasks: TaskSummary[] }>("GET", `/api/tasks?list=${encodeURIComponent(list.name)}${completed ? "&completed=1" : ""}`)).tasks;
}
async function taskNamed(title: string): Promise<TaskSummary | undefined> {
  return (await tasks()).find((x) => x.title === title);
}

/**
 * Opens a task's editor and waits until the editor shows THAT task: the editor
 * reads the task first, so until then the pane may still hold the previous
 * task's form, and typing into it would be lost when the new one replaces it.
 */
async function openEditor(page: Page, title: string): Promise<void> {
  await row(page, title).locator(".tk-open").click();
  await page.waitForFunction((t) => (document.querySelector('form.tk-editor input[name="title"]') as HTMLInputElement | null)?.value === t, title);
}

async function openTasks(page: Page): Promise<void> {
  await page.bringToFront(); // a background tab's timers are throttled
  await page.click('a.app-link[data-app="tasks"]');
  await page.locator(".app-tasks").waitFor();
  const back = page.locator(".app-tasks .ct-detail .ct-back").first();
  if ((await page.locator(".app-tasks").getAttribute("data-pane")) === "detail" && (await back.isVisible())) await back.click();
  await page.locator(".app-tasks .tk-quick").waitFor();
}

const row = (page: Page, title: string) => page.locator(".app-tasks .tk-row", { has: page.locator(".tk-title", { hasText: new RegExp(`^${title}$`) }) });

beforeAll(async () => {
  srv = await startWebmailServer();
  api = await ApiClient.signIn(srv.base, ALICE);
  const lists = (await api.ok<{ collections: CollectionInfo[] }>("GET", "/api/groupware/collections?kind=tasks")).collections;
  list = lists.find((l) => l.isDefault) ?? lists[0]!;
  browser = await launchBrowser();
  pages.desktop = browser.page;
  pages.phone = await browser.context.newPage();
  await pages.phone.setViewportSize({ width: 390, height: 844 });
  for (const p of Object.values(pages)) {
    p.setDefaultTimeout(10_000);
    p.on("dialog", (d) => void (d.type() === "prompt" ? d.accept(process.env.__PB_PROMPT ?? "") : d.accept()));
  }
  await login(pages.desktop, srv.base, ALICE);
  await pages.phone.goto(srv.base + "/");
  await pages.phone.waitForSelector("body[data-list-ready]", { state: "attached", timeout: 15_000 });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await srv?.close();
});

for (const { name } of SIZES) {
  describe(`tasks at ${name} size`, () => {
    const tag = name === "desktop" ? "D" : "P";

    test("quick-add, then due date and priority in the editor; overdue is shown in red", async () => {
      const page = pages[name]!;
      await openTasks(page);
      const title = `Pay invoice ${tag}`;
      await page.fill(".app-tasks .tk-quick", title);
      await page.press(".app-tasks .tk-quick", "Enter");
      await row(page, title).waitFor();
      expect((await taskNamed(title))?.status).toBe("NEEDS-ACTION");

      await openEditor(page, title);
      const form = page.locator("form.tk-editor");
      await form.locator('input[name="due"]').fill("2020-01-15");
      await form.locator('select[name="priority"]').selectOption("high");
      await form.locator('[data-action="save-task"]').click();
      await waitFor(async () => (await taskNamed(title))?.priority === 1, "the priority stored");
      if (name === "phone") await form.locator(".ct-back").click();
      await row(page, title).locator(".tk-due.tk-overdue", { hasText: "Jan 15, 2020" }).waitFor();
      expect(await row(page, title).getAttribute("data-priority")).toBe("high");
      if (name === "phone") {
        // Every control of the list pane is at least 44 px tall (tap targets; the checkbox's row is).
        const small = await page.evaluate(() =>
          [...document.querySelectorAll<HTMLElement>(".app-tasks button, .app-tasks input:not([type=checkbox]), .app-tasks select, .app-tasks .tk-row")]
            .filter((el) => el.getClientRects().length > 0)
            .map((el) => ({ what: el.getAttribute("aria-label") || el.textContent || el.getAttribute("name"), h: el.getBoundingClientRect().height }))
            .filter((x) => x.h < 44),
        );
        expect(small).toEqual([]);
      }
      const t = (await taskNamed(title))!;
      const ics = unfold((await dav("GET", todoPath(t.id))).text);
      expect(ics).toMatch(/DUE;VALUE=DATE:20200115/);
      expect(ics).toMatch(/PRIORITY:1\r?\n/);
    }, 30_000);

    test("the checkbox completes a task (STATUS:COMPLETED over CalDAV); show and hide completed", async () => {
      const page = pages[name]!;
      await openTasks(page);
      const title = `Water plants ${tag}`;
      await page.fill(".app-tasks .tk-quick", title);
      await page.press(".app-tasks .tk-quick", "Enter");
      await row(page, title).locator(".tk-check").check();
      await row(page, title).waitFor({ state: "detached" });
      const t = (await taskNamed(title))!;
      expect(t.status).toBe("COMPLETED");
      const ics = unfold((await dav("GET", todoPath(t.id))).text);
      expect(ics).toContain("STATUS:COMPLETED");
      expect(ics).toMatch(/COMPLETED:\d{8}T\d{6}Z/);

      await page.check('.app-tasks input[name="show-completed"]');
      await row(page, title).and(page.locator(".tk-done")).waitFor();
      // Unticking reopens it.
      await row(page, title).locator(".tk-check").uncheck();
      await row(page, title).and(page.locator(".tk-row:not(.tk-done)")).waitFor();
      expect((await taskNamed(title))!.status).toBe("NEEDS-ACTION");
      await row(page, title).locator(".tk-check").check();
      await row(page, title).and(page.locator(".tk-done")).waitFor();
      await page.uncheck('.app-tasks input[name="show-completed"]');
      await row(page, title).waitFor({ state: "detached" });
    }, 30_000);

    test("a weekly task completed moves to its next due date, which is shown", async () => {
      const page = pages[name]!;
      await openTasks(page);
      const title = `Weekly report ${tag}`;
      await page.fill(".app-tasks .tk-quick", title);
      await page.press(".app-tasks .tk-quick", "Enter");
      await openEditor(page, title);
      const form = page.locator("form.tk-editor");
      await form.locator('input[name="due"]').fill("2030-03-04");
      await form.locator('select[name="freq"]').selectOption("WEEKLY");
      await form.locator('[data-action="save-task"]').click();
      // (a "Task saved." toast of an earlier test may still show: wait for the stored task instead)
      const before = await waitFor(async () => {
        const x = await taskNamed(title);
        return x?.recurrence ? x : null;
      }, "the weekly rule stored");
      expect(before.recurrence?.freq).toBe("WEEKLY");
      expect(before.recurrence?.byDay).toEqual(["MO"]);
      if (name === "phone") await form.locator(".ct-back").click();
      await row(page, title).locator(".tk-repeat-mark").waitFor();
      await row(page, title).locator(".tk-check").check();
      await page.locator(".toast", { hasText: "Next occurrence due Mar 11, 2030" }).first().waitFor();
      await row(page, title).locator(".tk-due", { hasText: "Mar 11, 2030" }).waitFor();
      const after = (await tasks(false)).find((x) => x.title === title)!;
      expect(after.due).toBe("2030-03-11");
      expect(after.status).toBe("NEEDS-ACTION");
    }, 30_000);

    test("delete a task from the editor", async () => {
      const page = pages[name]!;
      await openTasks(page);
      const title = `Throw away ${tag}`;
      await page.fill(".app-tasks .tk-quick", title);
      await page.press(".app-tasks .tk-quick", "Enter");
      const id = (await (async () => {
        await row(page, title).waitFor();
        return (await taskNamed(title))!.id;
      })())!;
      await openEditor(page, title);
      await page.click('form.tk-editor [data-action="delete-task"]');
      await page.locator(".toast", { hasText: "Task deleted." }).first().waitFor();
      await row(page, title).waitFor({ state: "detached" });
      expect((await dav("GET", todoPath(id))).status).toBe(404);
    }, 30_000);

    test("live: a to-do PUT over CalDAV appears without a reload", async () => {
      const page = pages[name]!;
      await openTasks(page);
      const uid = `live-${tag}-${Date.now()}`;
      const title = `From another client ${tag}`;
      const put = await dav("PUT", todoPath(`${uid}.ics`), ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VTODO", `UID:${uid}`, "DTSTAMP:20260101T000000Z", `SUMMARY:${title}`, "PRIORITY:9", "END:VTODO", "END:VCALENDAR", ""].join("\r\n"));
      expect(put.status).toBe(201);
      await row(page, title).waitFor({ timeout: 15_000 });
      expect(await row(page, title).getAttribute("data-priority")).toBe("low");
    }, 30_000);
  });
}

describe("task conflicts", () => {
  test("a stale edit (the to-do changed over CalDAV meanwhile) is not saved: the editor shows the newer task and says so", async () => {
    const page = pages.desktop!;
    await openTasks(page);
    const title = "Stale task";
    await page.fill(".app-tasks .tk-quick", title);
    await page.press(".app-tasks .tk-quick", "Enter");
    await openEditor(page, title);
    const form = page.locator("form.tk-editor");
    await form.locator('textarea[name="description"]').fill("typed in the webmail");
    const t = (await taskNamed(title))!;
    const ics = (await dav("GET", todoPath(t.id))).text;
    expect((await dav("PUT", todoPath(t.id), ics.replace("SUMMARY:Stale task", "SUMMARY:Fresh task"))).status).toBe(204);
    await form.locator('[data-action="save-task"]').click();
    await page.locator(".toast", { hasText: "changed elsewhere" }).first().waitFor();
    expect(await page.locator('form.tk-editor input[name="title"]').inputValue()).toBe("Fresh task");
    const stored = (await dav("GET", todoPath(t.id))).text;
    expect(stored).toContain("SUMMARY:Fresh task");
    expect(stored).not.toContain("typed in the webmail");
  }, 30_000);
});

describe("task lists", () => {
  test("create, rename and delete a list; sort by title", async () => {
    const page = pages.desktop!;
    await openTasks(page);
    process.env.__PB_PROMPT = "Garden";
    await page.click('.app-tasks [data-action="new-book"]');
    await page.locator(".app-tasks .ct-list-title", { hasText: "Garden" }).waitFor();
    for (const t of ["b second", "a first", "c third"]) {
      await page.fill(".app-tasks .tk-quick", t);
      await page.press(".app-tasks .tk-quick", "Enter");
      await row(page, t).waitFor();
    }
    await page.selectOption(".app-tasks .tk-sort", "title");
    expect(await page.locator(".app-tasks .tk-title").allTextContents()).toEqual(["a first", "b second", "c third"]);
    process.env.__PB_PROMPT = "Garden jobs";
    await page.click('.app-tasks [aria-label="Rename Garden"]');
    await page.locator(".app-tasks .gw-book-name", { hasText: "Garden jobs" }).waitFor();
    await page.click('.app-tasks [aria-label="Delete Garden jobs"]');
    await page.locator(".app-tasks .gw-book-name", { hasText: "Garden jobs" }).waitFor({ state: "detached" });
    const lists = (await api.ok<{ collections: CollectionInfo[] }>("GET", "/api/groupware/collections?kind=tasks")).collections;
    expect(lists.some((l) => l.displayName.startsWith("Garden"))).toBe(false);
    await page.selectOption(".app-tasks .tk-sort", "due");
  }, 40_000);
});
