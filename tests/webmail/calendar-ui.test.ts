/**
 * The Calendar app in Chromium (web/src/calendar/*), at desktop (1280x800)
 * and phone (390x844) sizes, one server and one browser: create by clicking
 * a slot (read back over CalDAV), edit, drag to move and resize, all-day and
 * multi-day bars in the month, a weekly series edited "this event", split
 * "this and following" and deleted "all events", an in-page reminder, an
 * invitation with autocomplete and BOB's busy time in the scheduling grid
 * (the iMIP REQUEST lands in BOB's INBOX), a CalDAV write appearing live, a
 * New York event at the right Berlin hour, German weekday names; on the
 * phone: day view by default, the full-screen editor closed by Back, agenda
 * and month.
 *
 * Dates are in March 2027 (Berlin is on UTC+1 all month until the 28th).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type * as Axe from "axe-core";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import ICAL from "ical.js";
import type { EventData, EventResponse, InstancesResponse } from "../../protocols/http/webmail/api-types.ts";
import { ALICE, BOB, ApiClient, CHROMIUM_ARGS, login, mailboxMessages, request, startWebmailServer, waitFor } from "./helpers.ts";

setDefaultTimeout(60_000);

const ZONE = "Europe/Berlin";
const HOUR_PX = 48;
const SHOTS = process.env.PB_SCREENSHOTS === "1";

let srv: Awaited<ReturnType<typeof startWebmailServer>>;
let browser: Browser;
let alice: ApiClient;
let bob: ApiClient;
let desk: { context: BrowserContext; page: Page };
let phone: { context: BrowserContext; page: Page };

const AXE_SOURCE = readFileSync(join(import.meta.dir, "..", "..", "node_modules", "axe-core", "axe.min.js"), "utf8");

/** Serious or critical axe-core findings on the page as it is now (rule id -> first elements). */
async function axe(page: Page): Promise<Record<string, string[]>> {
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const a = (window as unknown as { axe: typeof Axe }).axe;
    const r = await a.run(document, { iframes: false, resultTypes: ["violations"] });
    const out: Record<string, string[]> = {};
    for (const v of r.violations) if (v.impact === "serious" || v.impact === "critical") out[v.id] = v.nodes.slice(0, 4).map((n) => n.target.join(" "));
    return out;
  });
}

function dav(user: { email: string; password: string }, method: string, path: string, body?: string) {
  const auth = "Basic " + Buffer.from(`${user.email}:${user.password}`).toString("base64");
  return request(method, srv.base + path, { headers: { authorization: auth, ...(body !== undefined ? { "content-type": "text/calendar; charset=utf-8" } : {}) }, body });
}

const berlin = (date: string, hh: number, mm = 0): number => Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)), hh - 1, mm); // CET = UTC+1 in early March

async function instancesOf(c: ApiClient, from: string, days: number): Promise<InstancesResponse["instances"]> {
  const f = berlin(from, 0);
  return (await c.ok<InstancesResponse>("GET", `/api/calendar/instances?from=${f}&to=${f + days * 86_400_000}`)).instances;
}

async function storedText(cal: string, id: string): Promise<string> {
  const r = await dav(ALICE, "GET", `/dav/calendars/${ALICE.email}/${cal}/${id}`);
  expect(r.status).toBe(200);
  return r.text;
}

function vevent(text: string): ICAL.Component {
  return ICAL.Component.fromString(text).getFirstSubcomponent("vevent")!;
}

function eventData(o: Partial<EventData> & { start: string; end: string }): EventData {
  return { uid: "", title: "x", location: "", description: "", timeZone: ZONE, allDay: false, showAs: "busy", status: "", privacy: "PUBLIC", categories: [], reminders: [], recurrence: null, organizer: null, attendees: [], sequence: 0, recurrenceId: null, ...o };
}

async function open(page: Page, arg: string): Promise<void> {
  if ((await page.evaluate(() => location.hash)) === `#/calendar/${arg}`) {
    // Already there (e.g. after a reload): wait for the view to be painted.
    await page.waitForFunction(() => !!(document.querySelector(".cal-body") as HTMLElement | null)?.dataset.painted);
    return;
  }
  const before = await page.evaluate(() => (document.querySelector(".cal-body") as HTMLElement | null)?.dataset.painted ?? null);
  await page.evaluate((a) => (location.hash = `#/calendar/${a}`), arg);
  await page.waitForFunction((b) => {
    const el = document.querySelector(".cal-body") as HTMLElement | null;
    return !!el?.dataset.painted && el.dataset.painted !== b;
  }, before ?? "");
}

async function waitRender(page: Page): Promise<void> {
  const before = await page.locator(".cal-body").getAttribute("data-painted");
  await page.waitForFunction((b) => (document.querySelector(".cal-body") as HTMLElement | null)?.dataset.painted !== b, before);
}

/** The editor dialog that is open now. */
const editor = (page: Page) => page.locator("dialog.cal-editor[open]");

async function save(page: Page, scope?: "this" | "following" | "all"): Promise<void> {
  await editor(page).locator('[data-action="save"]').click();
  if (scope) await page.locator(`dialog.cal-scope [data-scope="${scope}"]`).click();
  await editor(page).waitFor({ state: "detached" });
}

async function newContext(size: "desktop" | "phone"): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: size === "desktop" ? { width: 1280, height: 800 } : { width: 390, height: 844 },
    ignoreHTTPSErrors: true,
    locale: "en-GB",
    // The browser's own zone differs from the user's setting (Berlin): the calendar must follow the setting.
    timezoneId: "Asia/Tokyo",
    ...(size === "phone" ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  await login(page, srv.base, ALICE);
  return { context, page };
}

async function drag(page: Page, from: { x: number; y: number }, to: { x: number; y: number }): Promise<void> {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(from.x + (to.x - from.x) / 3, from.y + (to.y - from.y) / 3, { steps: 3 });
  await page.mouse.move(to.x, to.y, { steps: 5 });
  await page.mouse.up();
}

beforeAll(async () => {
  srv = await startWebmailServer();
  alice = await ApiClient.signIn(srv.base, ALICE);
  bob = await ApiClient.signIn(srv.base, BOB);
  await alice.ok("PUT", "/api/settings", { timeZone: ZONE, language: "en" });
  await bob.ok("PUT", "/api/settings", { timeZone: ZONE });
  // The collections exist once listed (ensureDefaults).
  await alice.ok("GET", "/api/groupware/collections?kind=calendar");
  await bob.ok("GET", "/api/groupware/collections?kind=calendar");
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
  desk = await newContext("desktop");
  phone = await newContext("phone");
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await srv?.close();
});

describe("desktop", () => {
  test("click a slot in week view, name the event, save: it shows in the week and over CalDAV; edit its title", async () => {
    const page = desk.page;
    await open(page, "2027-03-01/week");
    expect(await page.locator(".cal-dayhead").count()).toBe(7);
    // en-GB weeks start on Monday.
    expect(await page.locator(".cal-dayhead").first().getAttribute("data-day")).toBe("2027-03-01");
    await page.locator('.cal-col[data-day="2027-03-02"]').click({ position: { x: 30, y: 10 * HOUR_PX + 10 } });
    await editor(page).waitFor();
    expect(await editor(page).locator('input[name="startTime"]').inputValue()).toBe("10:00");
    expect(await editor(page).locator('input[name="endTime"]').inputValue()).toBe("11:00");
    expect(await editor(page).locator('select[name="timeZone"]').inputValue()).toBe(ZONE);
    await editor(page).locator('input[name="title"]').fill("Design review");
    await editor(page).locator('input[name="location"]').fill("Room 4");
    await save(page);
    const chip = page.locator('.cal-col[data-day="2027-03-02"] .cal-timed', { hasText: "Design review" });
    await chip.waitFor();
    expect(parseFloat((await chip.getAttribute("style"))!.match(/top:\s*([\d.]+)px/)![1]!)).toBe(10 * HOUR_PX);

    const inst = (await instancesOf(alice, "2027-03-01", 7)).find((i) => i.title === "Design review")!;
    expect(inst.start).toBe(berlin("2027-03-02", 10));
    const ve = vevent(await storedText(inst.calendar, inst.id));
    expect(ve.getFirstPropertyValue("summary")).toBe("Design review");
    expect(ve.getFirstPropertyValue("location")).toBe("Room 4");
    expect(ve.getFirstProperty("dtstart")!.getParameter("tzid")).toBe(ZONE);
    expect(String(ve.getFirstPropertyValue("dtstart"))).toBe("2027-03-02T10:00:00");

    await chip.click();
    await editor(page).waitFor();
    expect(await editor(page).locator('input[name="title"]').inputValue()).toBe("Design review");
    await editor(page).locator('input[name="title"]').fill("Design review (final)");
    await save(page);
    await page.locator(".cal-timed", { hasText: "Design review (final)" }).waitFor();
    expect(vevent(await storedText(inst.calendar, inst.id)).getFirstPropertyValue("summary")).toBe("Design review (final)");
  });

  test("drag to another day and an hour later moves the event; dragging its bottom edge makes it longer (15-minute steps)", async () => {
    const page = desk.page;
    const chip = page.locator(".cal-timed", { hasText: "Design review (final)" });
    const box = (await chip.boundingBox())!;
    const wed = (await page.locator('.cal-col[data-day="2027-03-03"]').boundingBox())!;
    await drag(page, { x: box.x + box.width / 2, y: box.y + 10 }, { x: wed.x + wed.width / 2, y: box.y + 10 + HOUR_PX });
    await page.locator('.cal-col[data-day="2027-03-03"] .cal-timed', { hasText: "Design review (final)" }).waitFor();
    const inst = await waitFor(async () => (await instancesOf(alice, "2027-03-01", 7)).find((i) => i.title === "Design review (final)" && i.start === berlin("2027-03-03", 11)), "the moved event");
    expect(inst.end).toBe(berlin("2027-03-03", 12));
    expect(String(vevent(await storedText(inst.calendar, inst.id)).getFirstPropertyValue("dtstart"))).toBe("2027-03-03T11:00:00");

    await waitRender(page).catch(() => {});
    const moved = page.locator('.cal-col[data-day="2027-03-03"] .cal-timed', { hasText: "Design review (final)" });
    const handle = (await moved.locator(".cal-resize").boundingBox())!;
    await drag(page, { x: handle.x + handle.width / 2, y: handle.y + handle.height / 2 }, { x: handle.x + handle.width / 2, y: handle.y + handle.height / 2 + 1.5 * HOUR_PX });
    const longer = await waitFor(async () => (await instancesOf(alice, "2027-03-01", 7)).find((i) => i.title === "Design review (final)" && i.end === berlin("2027-03-03", 13, 30)), "the resized event");
    expect(longer.start).toBe(berlin("2027-03-03", 11));

    // Dragging over an empty range starts an event over exactly that range (15-minute steps).
    await waitRender(page).catch(() => {});
    const sat = page.locator('.cal-col[data-day="2027-03-06"]');
    const sb = (await sat.boundingBox())!;
    // The column's box is where it is drawn now (scrolled), so an hour is at its top + h hours.
    const yAt = (h: number) => sb.y + h * HOUR_PX;
    await drag(page, { x: sb.x + sb.width / 2, y: yAt(15) + 2 }, { x: sb.x + sb.width / 2, y: yAt(17) + 2 });
    await editor(page).waitFor();
    expect(await editor(page).locator('input[name="startDate"]').inputValue()).toBe("2027-03-06");
    expect(await editor(page).locator('input[name="startTime"]').inputValue()).toBe("15:00");
    expect(await editor(page).locator('input[name="endTime"]').inputValue()).toBe("17:00");
    await page.keyboard.press("Escape");
    await editor(page).waitFor({ state: "detached" });
  });

  test("an all-day event over three days is one bar across the month cells; a day with too many events says +N more", async () => {
    const page = desk.page;
    await open(page, "2027-03-01/month");
    await page.locator('.cal-month-cell[data-day="2027-03-09"]').click({ position: { x: 60, y: 60 } });
    await editor(page).waitFor();
    expect(await editor(page).locator('input[name="allDay"]').isChecked()).toBe(true);
    await editor(page).locator('input[name="title"]').fill("Trade fair");
    await editor(page).locator('input[name="endDate"]').fill("2027-03-11");
    await save(page);
    const bar = page.locator(".cal-month-bars .cal-bar", { hasText: "Trade fair" });
    await bar.waitFor();
    const cell = (await page.locator('.cal-month-cell[data-day="2027-03-09"]').boundingBox())!;
    const b = (await bar.boundingBox())!;
    expect(b.width).toBeGreaterThan(2.5 * cell.width);
    expect(Math.abs(b.x - cell.x)).toBeLessThan(10);
    const inst = (await instancesOf(alice, "2027-03-01", 31)).find((i) => i.title === "Trade fair")!;
    expect([inst.allDay, inst.startDate, inst.endDate]).toEqual([true, "2027-03-09", "2027-03-12"]);
    const ve = vevent(await storedText(inst.calendar, inst.id));
    expect(ve.getFirstPropertyValue("dtstart")!.toString()).toBe("2027-03-09");

    // Dragged a week later in the month, it keeps its three days.
    const target = (await page.locator('.cal-month-cell[data-day="2027-03-16"]').boundingBox())!;
    await drag(page, { x: b.x + 20, y: b.y + b.height / 2 }, { x: target.x + 20, y: target.y + target.height / 2 });
    const movedFair = await waitFor(async () => (await instancesOf(alice, "2027-03-01", 31)).find((i) => i.title === "Trade fair" && i.startDate === "2027-03-16"), "the trade fair a week later");
    expect(movedFair.endDate).toBe("2027-03-19");
    const moved = await waitFor(async () => {
      const box = await bar.boundingBox();
      return box && Math.abs(box.x - target.x) < 10 && box.y > target.y && box.y < target.y + target.height ? box : null;
    }, "the bar drawn on its new days");
    await drag(page, { x: moved.x + 20, y: moved.y + moved.height / 2 }, { x: cell.x + 20, y: cell.y + cell.height / 2 });
    await waitFor(async () => (await instancesOf(alice, "2027-03-01", 31)).find((i) => i.title === "Trade fair" && i.startDate === "2027-03-09"), "the trade fair back");
    await waitFor(async () => {
      const box = await bar.boundingBox();
      return box && Math.abs(box.x - cell.x) < 10 && box.y > cell.y && box.y < cell.y + cell.height;
    }, "the bar back on its days");
    expect(await editor(page).count()).toBe(0); // a drag is not a click

    // In the week view the same event is a bar across the top of its three days.
    await open(page, "2027-03-08/week");
    const weekBar = page.locator(".cal-allday-lanes .cal-bar", { hasText: "Trade fair" });
    await weekBar.waitFor();
    const col = (await page.locator('.cal-col[data-day="2027-03-09"]').boundingBox())!;
    const wb = (await weekBar.boundingBox())!;
    expect(Math.round(wb.width / col.width)).toBe(3);
    expect(Math.abs(wb.x - col.x)).toBeLessThan(10);
    await open(page, "2027-03-01/month");

    // Eight meetings on one day overflow its lanes.
    for (let i = 0; i < 8; i++) {
      await alice.ok("POST", "/api/calendar/events/Calendar", { event: eventData({ title: `Slot ${i}`, start: `2027-03-17T${String(8 + i).padStart(2, "0")}:00`, end: `2027-03-17T${String(8 + i).padStart(2, "0")}:30` }) });
    }
    const more = page.locator('.cal-month-cell[data-day="2027-03-17"] .cal-more');
    await more.waitFor();
    expect(await more.textContent()).toMatch(/^\+\d+ more$/);
    await more.click();
    await page.waitForFunction(() => document.querySelector(".app-calendar")?.getAttribute("data-view") === "day");
    await page.locator(".cal-timed", { hasText: "Slot 7" }).waitFor();
    expect(await page.locator(".cal-timed", { hasText: /Slot \d/ }).count()).toBe(8);
  });

  test("a weekly series x5: one occurrence renamed (this event), the rest moved from the third on (this and following: two objects), then all deleted", async () => {
    const page = desk.page;
    await open(page, "2027-03-01/week");
    await page.locator('.cal-col[data-day="2027-03-04"]').click({ position: { x: 30, y: 14 * HOUR_PX + 10 } });
    await editor(page).waitFor();
    await editor(page).locator('input[name="title"]').fill("Weekly sync");
    await editor(page).locator('select[name="freq"]').selectOption("WEEKLY");
    expect(await editor(page).locator('input[name="byday"][value="TH"]').isChecked()).toBe(true);
    await editor(page).locator('select[name="endMode"]').selectOption("count");
    await editor(page).locator('input[name="count"]').fill("5");
    await save(page);
    await page.locator(".cal-timed", { hasText: "Weekly sync" }).waitFor();
    const all = (await instancesOf(alice, "2027-03-01", 42)).filter((i) => i.title === "Weekly sync");
    expect(all.map((i) => i.start)).toEqual(["2027-03-04", "2027-03-11", "2027-03-18", "2027-03-25", "2027-04-01"].map((d) => berlin(d, 14) - (d === "2027-04-01" ? 3_600_000 : 0)));

    // This event: only the second occurrence gets the new title.
    await open(page, "2027-03-08/week");
    await page.locator(".cal-timed", { hasText: "Weekly sync" }).click();
    await editor(page).waitFor();
    await editor(page).locator('input[name="title"]').fill("Weekly sync (demo)");
    await save(page, "this");
    await page.locator(".cal-timed", { hasText: "Weekly sync (demo)" }).waitFor();
    const afterThis = (await instancesOf(alice, "2027-03-01", 42)).filter((i) => i.title.startsWith("Weekly sync"));
    expect(afterThis.map((i) => i.title)).toEqual(["Weekly sync", "Weekly sync (demo)", "Weekly sync", "Weekly sync", "Weekly sync"]);
    expect(new Set(afterThis.map((i) => i.id)).size).toBe(1);

    // This and following: drag the third one hour later; the series splits in two objects.
    await open(page, "2027-03-15/week");
    const third = page.locator(".cal-timed", { hasText: "Weekly sync" });
    const box = (await third.boundingBox())!;
    await drag(page, { x: box.x + box.width / 2, y: box.y + 10 }, { x: box.x + box.width / 2, y: box.y + 10 + HOUR_PX });
    await page.locator("dialog.cal-scope [data-scope=following]").click();
    const split = await waitFor(async () => {
      const list = (await instancesOf(alice, "2027-03-01", 42)).filter((i) => i.title.startsWith("Weekly sync"));
      return new Set(list.map((i) => i.id)).size === 2 ? list : null;
    }, "the split series");
    expect(split.length).toBe(5);
    const head = split.filter((i) => i.id === afterThis[0]!.id);
    const tail = split.filter((i) => i.id !== afterThis[0]!.id);
    expect(head.map((i) => i.start)).toEqual([berlin("2027-03-04", 14), berlin("2027-03-11", 14)]);
    expect(tail.map((i) => i.start)).toEqual([berlin("2027-03-18", 15), berlin("2027-03-25", 15), berlin("2027-04-01", 15) - 3_600_000]);
    const headIcs = await storedText(head[0]!.calendar, head[0]!.id);
    expect(headIcs).toMatch(/RRULE:[^\r\n]*(UNTIL|COUNT=2)/);
    expect(tail[0]!.uid).not.toBe(head[0]!.uid);

    // All events: delete the first series from one of its occurrences.
    await open(page, "2027-03-01/week");
    await page.locator(".cal-timed", { hasText: "Weekly sync" }).click();
    await editor(page).waitFor();
    await editor(page).locator('[data-action="delete"]').click();
    await page.locator("dialog.cal-scope [data-scope=all]").click();
    await editor(page).waitFor({ state: "detached" });
    const left = await waitFor(async () => {
      const list = (await instancesOf(alice, "2027-03-01", 42)).filter((i) => i.title.startsWith("Weekly sync"));
      return list.every((i) => i.id !== head[0]!.id) ? list : null;
    }, "the first series deleted");
    expect(left.length).toBe(3);
    expect((await dav(ALICE, "GET", `/dav/calendars/${ALICE.email}/${head[0]!.calendar}/${head[0]!.id}`)).status).toBe(404);
  });

  test("recurrence editor: monthly on the 2nd Tuesday until a date, yearly every 2 years after 3 times; a rule it cannot show is 'Custom rule (kept)' and survives an edit", async () => {
    const page = desk.page;
    await open(page, "2027-03-08/week");
    await page.locator('.cal-col[data-day="2027-03-09"]').click({ position: { x: 30, y: 8 * HOUR_PX + 10 } });
    await editor(page).waitFor();
    await editor(page).locator('input[name="title"]').fill("Board meeting");
    await editor(page).locator('select[name="freq"]').selectOption("MONTHLY");
    await editor(page).locator('select[name="monthlyMode"]').selectOption("nth");
    expect(await editor(page).locator('select[name="monthlyMode"] option[value="nth"]').textContent()).toBe("On the second Tuesday");
    await editor(page).locator('select[name="endMode"]').selectOption("until");
    await editor(page).locator('input[name="until"]').fill("2027-03-01");
    await editor(page).locator('[data-action="save"]').click();
    expect(await editor(page).locator(".cal-error").textContent()).toContain("on or after the start");
    await editor(page).locator('input[name="until"]').fill("2027-12-31");
    await save(page);
    const board = await waitFor(async () => (await instancesOf(alice, "2027-03-08", 2)).find((i) => i.title === "Board meeting"), "the board meeting");
    const rrule = vevent(await storedText(board.calendar, board.id)).getFirstPropertyValue("rrule") as ICAL.Recur;
    expect(rrule.freq).toBe("MONTHLY");
    expect(rrule.parts.BYDAY).toEqual(["2TU"]);
    expect(rrule.until?.toString().slice(0, 10)).toBe("2027-12-31");
    const april = (await instancesOf(alice, "2027-04-01", 30)).find((i) => i.title === "Board meeting")!;
    expect(april.start).toBe(Date.UTC(2027, 3, 13, 6)); // the second Tuesday of April, 08:00 CEST

    await page.locator('.cal-col[data-day="2027-03-10"]').click({ position: { x: 30, y: 8 * HOUR_PX + 10 } });
    await editor(page).waitFor();
    await editor(page).locator('input[name="title"]').fill("Anniversary");
    await editor(page).locator('select[name="freq"]').selectOption("YEARLY");
    await editor(page).locator('input[name="interval"]').fill("2");
    await editor(page).locator('select[name="endMode"]').selectOption("count");
    await editor(page).locator('input[name="count"]').fill("3");
    await save(page);
    const anniversary = await waitFor(async () => (await instancesOf(alice, "2027-03-08", 7)).find((i) => i.title === "Anniversary"), "the anniversary");
    const yr = vevent(await storedText(anniversary.calendar, anniversary.id)).getFirstPropertyValue("rrule") as ICAL.Recur;
    expect([yr.freq, yr.interval, yr.count]).toEqual(["YEARLY", 2, 3]);

    const put = await dav(ALICE, "PUT", `/dav/calendars/${ALICE.email}/Calendar/complex.ics`, [
      "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VEVENT", "UID:complex-1@test", "DTSTAMP:20270101T000000Z",
      "DTSTART:20270311T070000Z", "DTEND:20270311T073000Z", "RRULE:FREQ=DAILY;BYHOUR=8,17;COUNT=6", "SUMMARY:Pills", "END:VEVENT", "END:VCALENDAR", "",
    ].join("\r\n"));
    expect(put.status).toBeLessThan(300);
    const pills = page.locator('.cal-col[data-day="2027-03-11"] .cal-timed', { hasText: "Pills" }).first();
    await pills.waitFor({ timeout: 15_000 });
    await pills.click();
    await editor(page).waitFor();
    await editor(page).locator(".cal-rec-custom", { hasText: "Custom rule (kept)" }).waitFor();
    expect(await editor(page).locator('select[name="freq"]').isVisible()).toBe(false);
    await editor(page).locator('input[name="title"]').fill("Pills (with water)");
    await save(page, "all");
    await waitFor(async () => (await storedText("Calendar", "complex.ics")).includes("Pills (with water)"), "the renamed series");
    expect(await storedText("Calendar", "complex.ics")).toContain("RRULE:FREQ=DAILY;BYHOUR=8,17;COUNT=6");
  });

  test("a reminder already due shows in the page (event in 2 minutes, reminder 5 minutes before); dismissed, it does not come back after a reload", async () => {
    const page = desk.page;
    const start = new Date(Date.now() + 2 * 60_000);
    const end = new Date(start.getTime() + 30 * 60_000);
    const wall = (d: Date) => d.toISOString().slice(0, 16);
    await alice.ok("POST", "/api/calendar/events/Calendar", { event: eventData({ title: "Call the bank", timeZone: "UTC", start: wall(start), end: wall(end), reminders: [5] }) });
    const card = page.locator(".cal-reminder", { hasText: "Call the bank" });
    await card.waitFor({ timeout: 15_000 });
    expect(await card.locator('[data-action="snooze"]').count()).toBe(1);
    await card.locator('[data-action="dismiss"]').click();
    await card.waitFor({ state: "detached" });
    // Snooze: the card goes and is remembered as due again in 5 minutes.
    await alice.ok("POST", "/api/calendar/events/Calendar", { event: eventData({ title: "Water the plants", timeZone: "UTC", start: wall(start), end: wall(end), reminders: [15] }) });
    const plants = page.locator(".cal-reminder", { hasText: "Water the plants" });
    await plants.waitFor({ timeout: 15_000 });
    await plants.locator('[data-action="snooze"]').click();
    await plants.waitFor({ state: "detached" });
    const snoozed = await page.evaluate(() => Object.values(JSON.parse(localStorage.getItem("pb-cal-reminded") ?? "{}")) as number[]);
    expect(snoozed.some((v) => v > Date.now() + 4 * 60_000)).toBe(true);
    // Desktop reminders: allowed by the browser, the switch stays on.
    await desk.context.grantPermissions(["notifications"]);
    await open(page, "2027-03-01/week");
    await page.locator('input[name="desktopReminders"]').check();
    await page.waitForFunction(() => localStorage.getItem("pb-cal-desktop") === "1");
    expect(await page.locator('input[name="desktopReminders"]').isChecked()).toBe(true);
    const reminderRead = page.waitForResponse((r) => r.url().includes("/api/calendar/instances") && r.url().includes(`to=`) && r.request().method() === "GET");
    await page.reload();
    await page.waitForSelector("body[data-list-ready]", { state: "attached" });
    await reminderRead;
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    expect(await page.locator(".cal-reminder", { hasText: "Call the bank" }).count()).toBe(0);
    expect(await page.locator(".cal-reminder", { hasText: "Water the plants" }).count()).toBe(0);
  });

  test("invite BOB by autocomplete; the scheduling grid shows his busy time; a free slot moves the meeting; saving sends him the invitation", async () => {
    const page = desk.page;
    await bob.ok("POST", "/api/calendar/events/Calendar", { event: eventData({ title: "Bob's dentist", start: "2027-03-05T13:00", end: "2027-03-05T15:00" }) });
    await open(page, "2027-03-01/week");
    await page.locator('.cal-col[data-day="2027-03-05"]').click({ position: { x: 30, y: 13 * HOUR_PX + 10 } });
    await editor(page).waitFor();
    await editor(page).locator('input[name="title"]').fill("Budget meeting");
    await editor(page).locator('input[name="attendee"]').pressSequentially("bob", { delay: 30 });
    await editor(page).locator(".cal-att-opt", { hasText: BOB.email }).waitFor();
    await editor(page).locator('input[name="attendee"]').press("Enter");
    await editor(page).locator(`.cal-att[data-address="${BOB.email}"]`).waitFor();
    expect(await editor(page).locator(`.cal-att[data-address="${BOB.email}"] .cal-att-status`).textContent()).toBe("No answer yet");
    await editor(page).locator('[data-action="scheduling"]').click();
    const busy = editor(page).locator(`.cal-sched-track[data-address="${BOB.email}"] .cal-sched-busy`);
    await busy.waitFor();
    const left = await busy.evaluate((el) => parseFloat((el as HTMLElement).style.left));
    const width = await busy.evaluate((el) => parseFloat((el as HTMLElement).style.width));
    expect(Math.round((left / 100) * 24)).toBe(13);
    expect(Math.round((width / 100) * 24)).toBe(2);
    // Click 16:00 on his row: the meeting moves there, keeping its hour.
    const track = (await editor(page).locator(`.cal-sched-track[data-address="${BOB.email}"]`).boundingBox())!;
    await page.mouse.click(track.x + (track.width * 16.25) / 24, track.y + track.height / 2);
    expect(await editor(page).locator('input[name="startTime"]').inputValue()).toBe("16:00");
    expect(await editor(page).locator('input[name="endTime"]').inputValue()).toBe("17:00");
    await save(page);
    await page.locator(".cal-timed", { hasText: "Budget meeting" }).waitFor();
    const invite = await waitFor(async () => {
      const box = await mailboxMessages(srv, BOB, "INBOX");
      return box.messages.map((m) => m.toString("utf8")).find((m) => m.includes("Budget meeting") && /METHOD:REQUEST/.test(m));
    }, "the invitation in BOB's INBOX");
    expect(invite).toContain("ORGANIZER");
    expect(invite).toMatch(/DTSTART;TZID=Europe\/Berlin:20270305T160000/);
  });

  test("answers: BOB's acceptance shows in ALICE's open editor as it arrives; invited by BOB, ALICE answers Tentative with a note from the calendar", async () => {
    const page = desk.page;
    await open(page, "2027-03-01/week");
    await page.locator(".cal-timed", { hasText: "Budget meeting" }).click();
    await editor(page).waitFor();
    const bobRow = editor(page).locator(`.cal-att[data-address="${BOB.email}"]`);
    expect(await bobRow.locator(".cal-att-status").textContent()).toBe("No answer yet");
    const bobCopy = await waitFor(async () => (await instancesOf(bob, "2027-03-05", 1)).find((i) => i.title === "Budget meeting"), "the meeting in BOB's calendar");
    expect(bobCopy.myPartstat).toBe("NEEDS-ACTION");
    await bob.ok("POST", `/api/calendar/events/${bobCopy.calendar}/${bobCopy.id}/respond`, { partstat: "ACCEPTED", comment: "See you there", scope: "all" });
    await bobRow.locator(".cal-att-status", { hasText: "Accepted" }).waitFor({ timeout: 15_000 });
    // His note travels with the answer (RFC 5546 §3.2.3 COMMENT) and shows beside it.
    await bobRow.locator(".cal-att-comment", { hasText: "See you there" }).waitFor();
    await editor(page).locator(".cal-dlg-x").click();
    await editor(page).waitFor({ state: "detached" });

    await bob.ok("POST", "/api/calendar/events/Calendar", {
      event: eventData({ title: "Quarterly planning", start: "2027-03-04T09:00", end: "2027-03-04T10:00", organizer: { address: BOB.email, name: BOB.name }, attendees: [{ address: ALICE.email, name: ALICE.name, partstat: "NEEDS-ACTION", role: "REQ-PARTICIPANT", rsvp: true, comment: "" }] }),
    });
    const invited = page.locator(".cal-timed", { hasText: "Quarterly planning" });
    await invited.waitFor({ timeout: 15_000 });
    expect(await invited.getAttribute("class")).toContain("is-pending");
    await invited.click();
    await editor(page).waitFor();
    expect(await editor(page).locator('input[name="title"]').count()).toBe(0);
    await editor(page).locator('input[name="comment"]').fill("I may be late");
    await editor(page).locator('[data-answer="TENTATIVE"]').click();
    await editor(page).waitFor({ state: "detached" });
    const reply = await waitFor(async () => {
      const box = await mailboxMessages(srv, BOB, "INBOX");
      return box.messages.map((m) => m.toString("utf8")).find((m) => /METHOD:REPLY/.test(m) && m.includes("Quarterly planning"));
    }, "ALICE's REPLY in BOB's INBOX");
    expect(reply).toMatch(/PARTSTAT=TENTATIVE/);
    expect(reply.replace(/\r\n[ \t]/g, "")).toContain("I may be late");
    const mine = (await instancesOf(alice, "2027-03-04", 1)).find((i) => i.title === "Quarterly planning")!;
    expect(mine.myPartstat).toBe("TENTATIVE");
  });

  test("live: an event written over CalDAV appears in the open week view without a reload", async () => {
    const page = desk.page;
    await open(page, "2027-03-01/week");
    const put = await dav(ALICE, "PUT", `/dav/calendars/${ALICE.email}/Calendar/live-1.ics`, [
      "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VEVENT", "UID:live-1@test", "DTSTAMP:20270101T000000Z",
      "DTSTART:20270301T080000Z", "DTEND:20270301T090000Z", "SUMMARY:Arrived over CalDAV", "END:VEVENT", "END:VCALENDAR", "",
    ].join("\r\n"));
    expect(put.status).toBeLessThan(300);
    const chip = page.locator('.cal-col[data-day="2027-03-01"] .cal-timed', { hasText: "Arrived over CalDAV" });
    await chip.waitFor({ timeout: 15_000 });
    expect(parseFloat((await chip.getAttribute("style"))!.match(/top:\s*([\d.]+)px/)![1]!)).toBe(9 * HOUR_PX);
  });

  test("an event stored in America/New_York shows at the Berlin hour; the editor shows its own zone and the user's time", async () => {
    const page = desk.page;
    await open(page, "2027-03-01/week");
    const put = await dav(ALICE, "PUT", `/dav/calendars/${ALICE.email}/Calendar/ny.ics`, [
      "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN",
      "BEGIN:VTIMEZONE", "TZID:America/New_York",
      "BEGIN:STANDARD", "DTSTART:20071104T020000", "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU", "TZOFFSETFROM:-0400", "TZOFFSETTO:-0500", "TZNAME:EST", "END:STANDARD",
      "BEGIN:DAYLIGHT", "DTSTART:20070311T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU", "TZOFFSETFROM:-0500", "TZOFFSETTO:-0400", "TZNAME:EDT", "END:DAYLIGHT",
      "END:VTIMEZONE",
      "BEGIN:VEVENT", "UID:ny-1@test", "DTSTAMP:20270101T000000Z",
      "DTSTART;TZID=America/New_York:20270302T100000", "DTEND;TZID=America/New_York:20270302T110000", "SUMMARY:New York standup", "END:VEVENT", "END:VCALENDAR", "",
    ].join("\r\n"));
    expect(put.status).toBeLessThan(300);
    const chip = page.locator('.cal-col[data-day="2027-03-02"] .cal-timed', { hasText: "New York standup" });
    await chip.waitFor({ timeout: 15_000 });
    // 10:00 EST = 15:00 UTC = 16:00 CET.
    expect(parseFloat((await chip.getAttribute("style"))!.match(/top:\s*([\d.]+)px/)![1]!)).toBe(16 * HOUR_PX);
    expect(await chip.locator(".cal-ev-time").textContent()).toMatch(/^(16:00|4:00\sPM)/);
    await chip.click();
    await editor(page).waitFor();
    expect(await editor(page).locator('select[name="timeZone"]').inputValue()).toBe("America/New_York");
    expect(await editor(page).locator('input[name="startTime"]').inputValue()).toBe("10:00");
    expect(await editor(page).locator(".cal-yourtime").textContent()).toMatch(/Berlin\).*(16:00|4:00\sPM)/);
    await editor(page).locator(".cal-dlg-x").click();
    await editor(page).waitFor({ state: "detached" });
  });

  test("calendars: a new one with its colour, hidden and shown again (remembered), renamed, deleted", async () => {
    const page = desk.page;
    await page.locator('[data-action="new-calendar"]').click();
    const dlg = page.locator("dialog.cal-caldlg[open]");
    await dlg.locator('input[name="displayName"]').fill("Family");
    await dlg.locator('input[name="color"]').fill("#1e7b34");
    await dlg.locator('[data-action="save"]').click();
    const row = page.locator(".cal-cal", { hasText: "Family" });
    await row.waitFor();
    expect(await row.locator(".cal-swatch").evaluate((el) => getComputedStyle(el).backgroundColor)).toBe("rgb(30, 123, 52)");
    const name = (await row.getAttribute("data-cal"))!;
    await alice.ok("POST", `/api/calendar/events/${name}`, { event: eventData({ title: "School play", start: "2027-03-03T18:00", end: "2027-03-03T19:00" }) });
    await page.locator(".cal-timed", { hasText: "School play" }).waitFor();
    await row.locator('input[type="checkbox"]').uncheck();
    await page.locator(".cal-timed", { hasText: "School play" }).waitFor({ state: "detached" });
    expect(await page.evaluate(() => localStorage.getItem("pb-cal-hidden"))).toContain(name);
    await row.locator('input[type="checkbox"]').check();
    await page.locator(".cal-timed", { hasText: "School play" }).waitFor();
    // Import an .ics file into it, and its export holds what is in it.
    await row.locator('[data-action="edit-calendar"]').click();
    const ics = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VEVENT", "UID:imported-1@test", "DTSTAMP:20270101T000000Z", "DTSTART:20270304T170000Z", "DTEND:20270304T180000Z", "SUMMARY:Imported piano lesson", "END:VEVENT", "END:VCALENDAR", ""].join("\r\n");
    expect(await dlg.locator('[data-action="export-calendar"]').getAttribute("href")).toBe(`/api/calendar/export/${name}`);
    await dlg.locator('input[name="importFile"]').setInputFiles({ name: "lessons.ics", mimeType: "text/calendar", buffer: Buffer.from(ics) });
    await dlg.waitFor({ state: "detached" });
    await page.locator(".cal-timed", { hasText: "Imported piano lesson" }).waitFor();
    const exported = await alice.get(`/api/calendar/export/${name}`);
    expect(exported.status).toBe(200);
    expect(exported.text).toContain("SUMMARY:Imported piano lesson");
    expect(exported.text).toContain("SUMMARY:School play");
    await row.locator('[data-action="edit-calendar"]').click();
    await dlg.locator('input[name="displayName"]').fill("Family & friends");
    await dlg.locator('[data-action="save"]').click();
    await page.locator(".cal-cal", { hasText: "Family & friends" }).waitFor();
    await page.locator(".cal-cal", { hasText: "Family & friends" }).locator('[data-action="edit-calendar"]').click();
    await dlg.locator('[data-action="delete-calendar"]').click();
    await page.locator('dialog[open] [data-action="confirm"]').click();
    await page.locator(".cal-cal", { hasText: "Family" }).waitFor({ state: "detached" });
    await page.locator(".cal-timed", { hasText: "School play" }).waitFor({ state: "detached" });
  });

  test("accessibility: week, month and agenda views, the editor with attendees and the series question have no serious axe-core findings", async () => {
    const page = desk.page;
    const found: Record<string, Record<string, string[]>> = {};
    for (const v of ["week", "month", "agenda"]) {
      await open(page, `2027-03-01/${v}`);
      found[v] = await axe(page);
    }
    await open(page, "2027-03-01/week");
    await page.locator(".cal-timed", { hasText: "Budget meeting" }).click();
    await editor(page).waitFor();
    await editor(page).locator('[data-action="scheduling"]').click();
    await editor(page).locator(".cal-sched-grid").waitFor();
    found.editor = await axe(page);
    await page.keyboard.press("Escape");
    await editor(page).waitFor({ state: "detached" });
    await open(page, "2027-03-15/week");
    await page.locator(".cal-timed", { hasText: "Weekly sync" }).click();
    await editor(page).waitFor();
    await editor(page).locator('[data-action="delete"]').click();
    await page.locator("dialog.cal-scope[open]").waitFor();
    found.scope = await axe(page);
    await page.keyboard.press("Escape");
    await page.locator("dialog.cal-scope[open]").waitFor({ state: "detached" });
    await page.keyboard.press("Escape");
    await editor(page).waitFor({ state: "detached" });
    expect(found).toEqual({ week: {}, month: {}, agenda: {}, editor: {}, scope: {} });
  });

  test("keyboard: m, a, d, w switch views, arrows move the range, t returns to today", async () => {
    const page = desk.page;
    await open(page, "2027-03-03/week");
    await page.locator(".cal-title").click();
    const view = () => page.locator(".app-calendar").getAttribute("data-view");
    await page.keyboard.press("m");
    await page.waitForFunction(() => document.querySelector(".app-calendar")?.getAttribute("data-view") === "month");
    expect(await page.locator(".cal-title").textContent()).toBe("March 2027");
    await page.keyboard.press("ArrowRight");
    await page.waitForFunction(() => document.querySelector(".cal-title")?.textContent === "April 2027");
    await page.keyboard.press("a");
    await page.waitForFunction(() => document.querySelector(".app-calendar")?.getAttribute("data-view") === "agenda");
    await page.keyboard.press("d");
    await page.waitForFunction(() => document.querySelector(".app-calendar")?.getAttribute("data-view") === "day");
    await page.keyboard.press("w");
    await page.waitForFunction(() => document.querySelector(".app-calendar")?.getAttribute("data-view") === "week");
    expect(await view()).toBe("week");
    // The date input jumps to a date; the work week shows Monday to Friday.
    await page.locator('input[name="calDate"]').fill("2027-05-12");
    await page.waitForFunction(() => location.hash.startsWith("#/calendar/2027-05-12"));
    await page.locator('.cal-view-btn[data-view="workweek"]').click();
    await page.locator('.cal-dayhead[data-day="2027-05-10"]').waitFor();
    expect(await page.locator(".cal-dayhead").evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.day))).toEqual(["2027-05-10", "2027-05-11", "2027-05-12", "2027-05-13", "2027-05-14"]);
    await page.locator(".cal-title").click();
    await page.keyboard.press("t");
    const today = new Intl.DateTimeFormat("en-CA", { timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit" }).format(Date.now());
    await page.waitForFunction((d) => location.hash.startsWith(`#/calendar/${d}`), today);
    await page.locator(`.cal-dayhead[data-day="${today}"]`).waitFor();
  });

  test("in German the weekdays and the toolbar are German", async () => {
    await alice.ok("PUT", "/api/settings", { language: "de" });
    const page = desk.page;
    await page.reload();
    await page.waitForSelector("body[data-list-ready]", { state: "attached" });
    await page.locator('.cal-view-btn[data-view="week"]', { hasText: /^Woche$/ }).waitFor();
    await open(page, "2027-03-01/week");
    const heads = await page.locator(".cal-dayhead-wd").allTextContents();
    expect(heads.map((s) => s.replace(/\.$/, ""))).toEqual(["Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"]);
    expect(await page.locator('[data-action="today"]').textContent()).toBe("Heute");
    await open(page, "2027-03-01/month");
    expect(await page.locator(".cal-title").textContent()).toBe("März 2027");
    await alice.ok("PUT", "/api/settings", { language: "en" });
    await page.reload();
    await page.waitForSelector("body[data-list-ready]", { state: "attached" });
  });

  test("screenshot: a realistic week (several calendars, an all-day event, overlapping meetings)", async () => {
    if (!SHOTS) return;
    const page = desk.page;
    const team = await alice.ok<{ name: string }>("POST", "/api/groupware/collections", { kind: "calendar", displayName: "Team", color: "#8e24aa" });
    const add = (cal: string, title: string, start: string, end: string, extra: Partial<EventData> = {}) => alice.ok<EventResponse>("POST", `/api/calendar/events/${cal}`, { event: eventData({ title, start, end, ...extra }) });
    await add("Calendar", "Company offsite", "2027-03-23", "2027-03-25", { allDay: true, showAs: "free" });
    await add("Calendar", "Standup", "2027-03-22T09:00", "2027-03-22T09:15", { recurrence: { freq: "DAILY", interval: 1, byDay: [], byMonthDay: [], byMonth: [], bySetPos: [], count: 5, until: null, complex: false } });
    await add(team.name, "Sprint planning", "2027-03-22T10:00", "2027-03-22T12:00", { location: "Room 2" });
    await add("Calendar", "1:1 with Kim", "2027-03-22T11:00", "2027-03-22T11:30");
    await add(team.name, "Design critique", "2027-03-24T14:00", "2027-03-24T15:30");
    await add("Calendar", "Customer call", "2027-03-24T14:30", "2027-03-24T15:00");
    await add("Calendar", "Lunch with Sam", "2027-03-25T12:30", "2027-03-25T13:30", { location: "Café Nord" });
    await add(team.name, "Release review", "2027-03-26T16:00", "2027-03-26T17:00");
    mkdirSync("docs/screenshots", { recursive: true });
    await open(page, "2027-03-22/week");
    await page.locator(".cal-timed", { hasText: "Release review" }).waitFor();
    await page.locator(".cal-scroll").evaluate((el) => (el.scrollTop = 8 * 48));
    await page.screenshot({ path: "docs/screenshots/calendar-week.png" });
  });
});

describe("phone", () => {
  test("day view by default; New event opens a full-screen editor that Back closes; a tapped slot creates an event; agenda and month", async () => {
    const page = phone.page;
    await page.evaluate(() => (location.hash = "#/calendar"));
    await page.waitForFunction(() => !!(document.querySelector(".cal-body") as HTMLElement | null)?.dataset.painted);
    expect(await page.locator(".app-calendar").getAttribute("data-view")).toBe("day");
    expect(await page.locator(".cal-dayhead").count()).toBe(1);
    // Work week and week are not offered on a phone; day, month and agenda are, each 44 px tall at least.
    expect(await page.locator('.cal-view-btn[data-view="week"]').isVisible()).toBe(false);
    for (const v of ["day", "month", "agenda"]) {
      const b = (await page.locator(`.cal-view-btn[data-view="${v}"]`).boundingBox())!;
      expect(b.height).toBeGreaterThanOrEqual(44);
    }
    await page.locator(".cal-side-toggle").tap();
    await page.locator('.cal-side [data-action="new-event"]').tap();
    await editor(page).waitFor();
    const box = (await editor(page).boundingBox())!;
    expect(box.width).toBe(390);
    expect(box.height).toBeGreaterThan(800);
    // Nothing in the editor is wider than the phone (the scheduling grid scrolls inside its box).
    await editor(page).locator('[data-action="scheduling"]').tap();
    await editor(page).locator(".cal-sched-grid").waitFor();
    expect(await editor(page).evaluate((d) => [...d.querySelectorAll("fieldset, .cal-field")].every((el) => el.getBoundingClientRect().right <= 391))).toBe(true);
    await page.goBack();
    await editor(page).waitFor({ state: "detached" });
    expect(await page.evaluate(() => document.body.dataset.app)).toBe("calendar");

    await open(page, "2027-03-02/day");
    await page.locator('.cal-col[data-day="2027-03-02"]').tap({ position: { x: 100, y: 8 * HOUR_PX + 10 } });
    await editor(page).waitFor();
    expect(await editor(page).locator('input[name="startTime"]').inputValue()).toBe("08:00");
    await editor(page).locator('input[name="title"]').fill("Phone made this");
    await save(page);
    const chip = page.locator(".cal-timed", { hasText: "Phone made this" });
    await chip.waitFor();
    expect((await chip.boundingBox())!.height).toBeGreaterThanOrEqual(44);
    expect((await instancesOf(alice, "2027-03-02", 1)).some((i) => i.title === "Phone made this" && i.start === berlin("2027-03-02", 8))).toBe(true);

    await page.locator('.cal-view-btn[data-view="agenda"]').tap();
    await page.locator(".cal-agenda-item", { hasText: "Phone made this" }).waitFor();
    await page.locator('.cal-view-btn[data-view="month"]').tap();
    await page.locator(".cal-month-bars .cal-event", { hasText: "Phone made this" }).waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(390);
    expect(await axe(page)).toEqual({});
    if (SHOTS) {
      for (const b of await page.locator('.cal-reminder [data-action="dismiss"]').all()) await b.tap();
      await open(page, "2027-03-22/day");
      await page.locator(".cal-scroll").evaluate((el) => (el.scrollTop = 8 * 48));
      await page.screenshot({ path: "docs/screenshots/calendar-phone.png" });
    }
  });
});
