/**
 * The event model (src/groupware/model/): wall time ⇄ UTC with DST gaps and
 * overlaps, iCalendar ⇄ EventData round trips that keep what the shape does
 * not describe, RRULE ⇄ RecurrenceRule for every kind the editor offers,
 * series edits, and malformed or absurd input refused in words.
 */
import { describe, expect, test } from "bun:test";
import ICAL from "ical.js";
import { ModelError, formatWall, parseWall, wallOf, wallToMs, zoneOf } from "../../src/groupware/model/time.ts";
import { checkEventData, eventFromObject, mergeEvent, timesOf } from "../../src/groupware/model/event.ts";
import { applyRecurrence, checkRecurrence, ruleFromComponent, summariseRule } from "../../src/groupware/model/recurrence.ts";
import { deleteFromSeries, editSeries } from "../../src/groupware/model/series.ts";
import { parseCalendarObject, serialize, expandInstances } from "../../src/groupware/ical/index.ts";
import { resolveZones } from "../../src/groupware/ical/zones.ts";
import type { EventData, RecurrenceRule } from "../../src/groupware/model/types.ts";

const ME = { address: "alice@example.test", name: "Alice" };
const MINE = new Set([ME.address]);
const OPTS = { userZone: "Europe/Berlin", user: ME, mine: MINE, now: Date.UTC(2026, 0, 1) };

const cal = (...lines: string[]) => {
  const root = ICAL.Component.fromString(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", ...lines, "END:VCALENDAR"].join("\r\n"));
  resolveZones(root, []);
  return root;
};
const rule = (o: Partial<RecurrenceRule>): RecurrenceRule => ({ freq: "DAILY", interval: 1, byDay: [], byMonthDay: [], byMonth: [], bySetPos: [], count: null, until: null, complex: false, ...o });
const data = (o: Partial<EventData>): EventData =>
  checkEventData({ title: "T", start: "2026-03-10T09:00", end: "2026-03-10T10:00", timeZone: "Europe/Berlin", allDay: false, attendees: [], reminders: [], ...o });

/** Starts (UTC ms) of the instances of a root in a range, read like the calendar view does. */
function starts(root: ICAL.Component, from: number, to: number, zone = "Europe/Berlin"): number[] {
  return expandInstances(parseCalendarObject(serialize(root)), { start: from, end: to }, { floatingTz: zone }).map((i) => i.start);
}

describe("time", () => {
  const berlin = zoneOf("Europe/Berlin");
  test("wall time <-> UTC in winter and summer", () => {
    expect(wallToMs(parseWall("2026-01-15T12:00"), berlin)).toBe(Date.UTC(2026, 0, 15, 11));
    expect(wallToMs(parseWall("2026-07-15T12:00"), berlin)).toBe(Date.UTC(2026, 6, 15, 10));
    expect(formatWall(wallOf(Date.UTC(2026, 6, 15, 10), berlin))).toBe("2026-07-15T12:00");
    expect(wallToMs(parseWall("2026-07-15T12:00"), null)).toBe(Date.UTC(2026, 6, 15, 12));
  });
  test("a time in the spring gap moves forward; a time in the autumn overlap is the first one", () => {
    // 2026-03-29 02:00 -> 03:00 in Berlin: 02:30 does not exist, it becomes 03:30 CEST (01:30 UTC).
    expect(wallToMs(parseWall("2026-03-29T02:30"), berlin)).toBe(Date.UTC(2026, 2, 29, 1, 30));
    expect(formatWall(wallOf(Date.UTC(2026, 2, 29, 1, 30), berlin))).toBe("2026-03-29T03:30");
    // 2026-10-25 03:00 -> 02:00: 02:30 happens twice; the first is CEST (00:30 UTC).
    expect(wallToMs(parseWall("2026-10-25T02:30"), berlin)).toBe(Date.UTC(2026, 9, 25, 0, 30));
    // New York too (2026-03-08 02:00 -> 03:00).
    expect(wallToMs(parseWall("2026-03-08T02:15"), zoneOf("America/New_York"))).toBe(Date.UTC(2026, 2, 8, 7, 15));
  });
  test("bad wall times are refused in words", () => {
    for (const bad of ["2026-02-29T10:00", "2026-01-01T24:00", "2026-1-1T10:00", "", "2026-01-01 10:00", "0000-01-01T00:00"]) expect(() => parseWall(bad)).toThrow(ModelError);
  });
});

describe("event <-> iCalendar", () => {
  test("a zoned event with unknown properties, ATTACH and a client's alarm: edits keep them", () => {
    const root = cal(
      "BEGIN:VEVENT", "UID:keep-1", "DTSTAMP:20260101T000000Z", "DTSTART;TZID=Europe/Berlin:20260310T090000", "DTEND;TZID=Europe/Berlin:20260310T100000",
      "SUMMARY;LANGUAGE=de:Besprechung", "X-MOZ-GENERATION:3", "ATTACH:https://example.org/a.pdf",
      "BEGIN:VALARM", "ACTION:EMAIL", "TRIGGER;VALUE=DATE-TIME:20260309T080000Z", "SUMMARY:mail me", "DESCRIPTION:x", "ATTENDEE:mailto:alice@example.test", "END:VALARM",
      "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT10M", "DESCRIPTION:soon", "X-WR-ALARMUID:abc", "END:VALARM",
      "END:VEVENT",
    );
    const e = eventFromObject(root, null, "Europe/Berlin", MINE);
    expect(e).toMatchObject({ uid: "keep-1", title: "Besprechung", start: "2026-03-10T09:00", end: "2026-03-10T10:00", timeZone: "Europe/Berlin", reminders: [10], allDay: false });
    // Unchanged reminders: every VALARM stays as it was, title parameter kept when the title is the same.
    const same = serialize(mergeEvent(root, { ...e, location: "Room 2" }, OPTS).root);
    expect(same).toContain("X-MOZ-GENERATION:3");
    expect(same).toContain("ATTACH:https://example.org/a.pdf");
    expect(same).toContain("SUMMARY;LANGUAGE=de:Besprechung");
    expect(same).toContain("X-WR-ALARMUID:abc");
    expect(same).toContain("TRIGGER;VALUE=DATE-TIME:20260309T080000Z");
    expect(same).toContain("LOCATION:Room 2");
    expect(same).toContain("DTSTART;TZID=Europe/Berlin:20260310T090000");
    // Changed reminders: the displayed alarm is replaced, the absolute e-mail alarm stays.
    const changed = serialize(mergeEvent(root, { ...e, reminders: [0, 30] }, OPTS).root);
    expect(changed).not.toContain("X-WR-ALARMUID:abc");
    expect(changed).toContain("TRIGGER;VALUE=DATE-TIME:20260309T080000Z");
    expect(changed).toContain("TRIGGER:-PT30M");
    expect(changed).toContain("TRIGGER:PT0S");
    expect(eventFromObject(ICAL.Component.fromString(changed), null, "Europe/Berlin").reminders).toEqual([0, 30]);
  });

  test("UTC, floating, DURATION and unknown-zone events are shown in the user's zone; all-day as dates", () => {
    const utc = cal("BEGIN:VEVENT", "UID:u", "DTSTAMP:20260101T000000Z", "DTSTART:20260310T080000Z", "DURATION:PT90M", "END:VEVENT");
    expect(eventFromObject(utc, null, "Asia/Tokyo")).toMatchObject({ start: "2026-03-10T17:00", end: "2026-03-10T18:30", timeZone: "Asia/Tokyo" });
    const floating = cal("BEGIN:VEVENT", "UID:f", "DTSTAMP:20260101T000000Z", "DTSTART:20260310T080000", "DTEND:20260310T090000", "END:VEVENT");
    expect(eventFromObject(floating, null, "Asia/Tokyo")).toMatchObject({ start: "2026-03-10T08:00", end: "2026-03-10T09:00", timeZone: "" });
    const custom = cal(
      "BEGIN:VTIMEZONE", "TZID:My Own Zone", "BEGIN:STANDARD", "DTSTART:19700101T000000", "TZOFFSETFROM:+0300", "TZOFFSETTO:+0300", "END:STANDARD", "END:VTIMEZONE",
      "BEGIN:VEVENT", "UID:c", "DTSTAMP:20260101T000000Z", "DTSTART;TZID=My Own Zone:20260310T120000", "DTEND;TZID=My Own Zone:20260310T130000", "END:VEVENT",
    );
    expect(eventFromObject(custom, null, "Europe/Berlin")).toMatchObject({ start: "2026-03-10T10:00", end: "2026-03-10T11:00", timeZone: "Europe/Berlin" });
    const windows = cal("BEGIN:VEVENT", "UID:w", "DTSTAMP:20260101T000000Z", "DTSTART;TZID=W. Europe Standard Time:20260310T120000", "DTEND;TZID=W. Europe Standard Time:20260310T130000", "END:VEVENT");
    expect(eventFromObject(windows, null, "UTC")).toMatchObject({ start: "2026-03-10T12:00", timeZone: "Europe/Berlin" });
    const allDay = cal("BEGIN:VEVENT", "UID:a", "DTSTAMP:20260101T000000Z", "DTSTART;VALUE=DATE:20260310", "END:VEVENT");
    expect(eventFromObject(allDay, null, "UTC")).toMatchObject({ allDay: true, start: "2026-03-10", end: "2026-03-11", timeZone: "" });
  });

  test("a new event: VTIMEZONE added once, all-day as VALUE=DATE, attendees make the user the organizer", () => {
    const { root } = mergeEvent(null, data({ attendees: [{ address: "Bob@Example.test", name: "Bob", partstat: "ACCEPTED", role: "OPT-PARTICIPANT", rsvp: true, comment: "" }] }), OPTS);
    const text = serialize(root);
    expect(root.getAllSubcomponents("vtimezone").length).toBe(1);
    expect(text).toContain("ORGANIZER;CN=Alice:mailto:alice@example.test");
    // A new attendee has not answered yet, whatever the client sent.
    expect(text.replace(/\r\n /g, "")).toContain("ATTENDEE;CN=Bob;ROLE=OPT-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bob@example.test");
    // Removing every attendee removes the user's ORGANIZER.
    const e = eventFromObject(root, null, "Europe/Berlin");
    expect(serialize(mergeEvent(root, { ...e, attendees: [] }, OPTS).root)).not.toContain("ORGANIZER");
    const day = serialize(mergeEvent(null, data({ allDay: true, start: "2026-03-10", end: "2026-03-12", timeZone: "" }), OPTS).root);
    expect(day).toContain("DTSTART;VALUE=DATE:20260310");
    expect(day).toContain("DTEND;VALUE=DATE:20260312");
    expect(day).not.toContain("VTIMEZONE");
  });

  test("a start in the spring DST gap is stored moved forward; an occurrence that does not exist is refused", () => {
    const { root } = mergeEvent(null, data({ start: "2026-03-29T02:30", end: "2026-03-29T04:00" }), OPTS);
    expect(serialize(root)).toContain("DTSTART;TZID=Europe/Berlin:20260329T033000");
    expect(eventFromObject(root, null, "Europe/Berlin").start).toBe("2026-03-29T03:30");
    const series = mergeEvent(null, data({ recurrence: rule({ freq: "DAILY", count: 3 }) }), OPTS).root;
    expect(() => eventFromObject(series, Date.UTC(2026, 2, 10, 8, 1), "Europe/Berlin")).toThrow(ModelError);
    expect(() => eventFromObject(series, Date.UTC(2026, 2, 20, 8), "Europe/Berlin")).toThrow(ModelError);
    expect(eventFromObject(series, Date.UTC(2026, 2, 11, 8), "Europe/Berlin").start).toBe("2026-03-11T09:00");
  });

  test("the organizer's significant change raises SEQUENCE; a description edit does not", () => {
    const { root } = mergeEvent(null, data({ attendees: [{ address: "bob@example.test", name: "", partstat: "NEEDS-ACTION", role: "REQ-PARTICIPANT", rsvp: true, comment: "" }] }), OPTS);
    const e = eventFromObject(root, null, "Europe/Berlin");
    expect(e.sequence).toBe(0);
    const moved = mergeEvent(root, { ...e, start: "2026-03-10T11:00", end: "2026-03-10T12:00" }, OPTS).root;
    expect(eventFromObject(moved, null, "Europe/Berlin").sequence).toBe(1);
    const described = mergeEvent(moved, { ...eventFromObject(moved, null, "Europe/Berlin"), description: "notes" }, OPTS).root;
    expect(eventFromObject(described, null, "Europe/Berlin").sequence).toBe(1);
  });

  test("malformed and absurd input is a ModelError, never a crash", () => {
    const bad: unknown[] = [
      null, [], "x", {},
      { start: "2026-03-10T09:00", end: "2026-03-09T09:00", timeZone: "" },
      { start: "2026-03-10T09:00", end: "2037-03-10T09:00", timeZone: "" },
      { allDay: true, start: "2026-03-10", end: "2026-03-10" },
      { start: "2026-03-10T09:00", end: "2026-03-10T10:00", timeZone: "Not/AZone" },
      { start: "2026-03-10T09:00", end: "2026-03-10T10:00", timeZone: 5 },
      { start: "2026-03-10T09:00", end: "2026-03-10T10:00", title: 7 },
      { start: "2026-03-10T09:00", end: "2026-03-10T10:00", title: "a\u0000b" },
      { start: "2026-03-10T09:00", end: "2026-03-10T10:00", reminders: [-5] },
      { start: "2026-03-10T09:00", end: "2026-03-10T10:00", reminders: "15" },
      { start: "2026-03-10T09:00", end: "2026-03-10T10:00", categories: new Array(60).fill("c") },
      { start: "2026-03-10T09:00", end: "2026-03-10T10:00", attendees: new Array(501).fill({ address: "a@b.c" }) },
      { start: "2026-03-10T09:00", end: "2026-03-10T10:00", attendees: [{ address: "a@b.c\r\nX: y" }] },
      { start: "2026-03-10T09:00", end: "2026-03-10T10:00", recurrence: { freq: "HOURLY" } },
      { start: "2026-03-10T09:00", end: "2026-03-10T10:00", recurrence: { freq: "WEEKLY", interval: 1001 } },
      { start: "2026-03-10T09:00", end: "2026-03-10T10:00", recurrence: { freq: "WEEKLY", count: 10001 } },
      { start: "2026-03-10T09:00", end: "2026-03-10T10:00", recurrence: { freq: "WEEKLY", byDay: ["XX"] } },
      { start: "2026-03-10T09:00", end: "2026-03-10T10:00", recurrence: { freq: "WEEKLY", byDay: ["2TU"] } },
      { start: "2026-03-10T09:00", end: "2026-03-10T10:00", recurrence: { freq: "WEEKLY", byMonthDay: [3] } },
      { start: "2026-03-10T09:00", end: "2026-03-10T10:00", recurrence: { freq: "MONTHLY", byMonthDay: [32] } },
      { start: "2026-03-10T09:00", end: "2026-03-10T10:00", recurrence: { freq: "MONTHLY", until: "2026-02-30" } },
      { start: "2026-03-10T09:00", end: "2026-03-10T10:00", recurrence: { freq: "DAILY", count: 3, until: "2026-04-01" } },
      { start: "2026-03-10T09:00", end: "2026-03-10T10:00", recurrence: { freq: "DAILY", until: "2026-03-09" } },
    ];
    for (const b of bad) expect(() => checkEventData(b)).toThrow(ModelError);
    // A rule no date satisfies is refused when written.
    const e = data({ recurrence: rule({ freq: "MONTHLY", byMonthDay: [31], byMonth: [] }) });
    expect(() => mergeEvent(null, { ...e, recurrence: rule({ freq: "DAILY", byMonth: [2], byMonthDay: [30] }) }, OPTS)).toThrow(ModelError);
  });
});

describe("recurrence", () => {
  const from = Date.UTC(2026, 0, 1);
  const to = Date.UTC(2027, 0, 1);
  const series = (r: RecurrenceRule, start = "2026-03-10T09:00") => mergeEvent(null, data({ start, end: start.replace("09:00", "10:00"), recurrence: r }), OPTS).root;
  const days = (root: ICAL.Component) => starts(root, from, to).map((ms) => formatWall(wallOf(ms, zoneOf("Europe/Berlin"))).slice(0, 10));

  test("daily with interval and count", () => {
    const r = series(rule({ freq: "DAILY", interval: 3, count: 4 }));
    expect(days(r)).toEqual(["2026-03-10", "2026-03-13", "2026-03-16", "2026-03-19"]);
    expect(eventFromObject(r, null, "Europe/Berlin").recurrence).toEqual(rule({ freq: "DAILY", interval: 3, count: 4 }));
  });
  test("weekly on several days until a date (UNTIL in UTC, inclusive in the zone)", () => {
    const r = series(rule({ freq: "WEEKLY", byDay: ["TU", "TH"], until: "2026-03-19" }));
    expect(r.getFirstSubcomponent("vevent")!.getFirstProperty("rrule")!.toICALString()).toBe("RRULE:FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20260319T225959Z");
    expect(days(r)).toEqual(["2026-03-10", "2026-03-12", "2026-03-17", "2026-03-19"]);
    expect(eventFromObject(r, null, "Europe/Berlin").recurrence!.until).toBe("2026-03-19");
  });
  test("monthly on a day, on the second Tuesday, on the last weekday with BYSETPOS", () => {
    expect(days(series(rule({ freq: "MONTHLY", byMonthDay: [10], count: 3 })))).toEqual(["2026-03-10", "2026-04-10", "2026-05-10"]);
    expect(days(series(rule({ freq: "MONTHLY", byDay: ["2TU"], count: 3 })))).toEqual(["2026-03-10", "2026-04-14", "2026-05-12"]);
    const last = series(rule({ freq: "MONTHLY", byDay: ["MO", "TU", "WE", "TH", "FR"], bySetPos: [-1], count: 3 }), "2026-03-31T09:00");
    expect(days(last)).toEqual(["2026-03-31", "2026-04-30", "2026-05-29"]);
    expect(eventFromObject(last, null, "Europe/Berlin").recurrence).toMatchObject({ bySetPos: [-1], byDay: ["MO", "TU", "WE", "TH", "FR"] });
  });
  test("yearly in a month on a day; floating and all-day UNTIL forms", () => {
    expect(days(series(rule({ freq: "YEARLY", byMonth: [3], byMonthDay: [10], count: 1 })))).toEqual(["2026-03-10"]);
    const allDay = mergeEvent(null, data({ allDay: true, start: "2026-03-10", end: "2026-03-11", timeZone: "", recurrence: rule({ freq: "DAILY", until: "2026-03-12" }) }), OPTS).root;
    expect(allDay.getFirstSubcomponent("vevent")!.getFirstProperty("rrule")!.toICALString()).toBe("RRULE:FREQ=DAILY;UNTIL=20260312");
    const floating = mergeEvent(null, data({ timeZone: "", recurrence: rule({ freq: "DAILY", until: "2026-03-12" }) }), OPTS).root;
    expect(floating.getFirstSubcomponent("vevent")!.getFirstProperty("rrule")!.toICALString()).toBe("RRULE:FREQ=DAILY;UNTIL=20260312T235959");
  });
  test("what the editor cannot show is complex; complex on write keeps the stored rule; null removes it", () => {
    const root = cal("BEGIN:VEVENT", "UID:x", "DTSTAMP:20260101T000000Z", "DTSTART:20260310T090000Z", "RRULE:FREQ=DAILY;BYHOUR=9,15", "RDATE:20260401T090000Z", "EXDATE:20260311T090000Z", "END:VEVENT");
    const e = eventFromObject(root, null, "UTC");
    expect(e.recurrence!.complex).toBe(true);
    const kept = serialize(mergeEvent(root, { ...e, title: "new" }, OPTS).root);
    expect(kept).toContain("RRULE:FREQ=DAILY;BYHOUR=9,15");
    expect(kept).toContain("RDATE:20260401T090000Z");
    const gone = serialize(mergeEvent(root, { ...e, recurrence: null }, OPTS).root);
    expect(gone).not.toMatch(/RRULE|RDATE|EXDATE/);
    const comp = root.getFirstSubcomponent("vevent")!;
    expect(applyRecurrence(comp, checkRecurrence({ complex: true }), { date: false, zone: null, floating: null })).toBe(false);
    expect(ruleFromComponent(cal("BEGIN:VEVENT", "UID:y", "DTSTAMP:20260101T000000Z", "DTSTART:20260310T090000Z", "END:VEVENT").getFirstSubcomponent("vevent")!, { date: false, zone: null, floating: null })).toBeNull();
  });
  test("plain English summaries", () => {
    expect(summariseRule(rule({ freq: "WEEKLY", byDay: ["TU"], count: 10 }))).toBe("Every week on Tuesday, 10 times");
    expect(summariseRule(rule({ freq: "WEEKLY", interval: 2, byDay: ["MO", "TH"] }))).toBe("Every 2 weeks on Monday and Thursday");
    expect(summariseRule(rule({ freq: "MONTHLY", byDay: ["2TU"], until: "2026-12-31" }))).toBe("Every month on the second Tuesday, until 2026-12-31");
    expect(summariseRule(rule({ freq: "YEARLY", byMonth: [3], byMonthDay: [10] }))).toBe("Every year on day 10 of March");
    expect(summariseRule(rule({ complex: true }))).toBe("Repeats (custom pattern)");
  });
});

describe("series", () => {
  const base = () => mergeEvent(null, data({ title: "Sync", recurrence: rule({ freq: "DAILY", count: 5 }) }), OPTS).root;
  const rid = (d: number) => Date.UTC(2026, 2, 10 + d, 8);

  test("this: an override; all with a new time moves it along; following splits with a new UID", () => {
    const root = base();
    const one = eventFromObject(root, rid(2), "Europe/Berlin");
    expect(one.start).toBe("2026-03-12T09:00");
    const a = editSeries(root, { ...one, title: "Sync (once)" }, "this", rid(2), OPTS).root;
    expect(a.getAllSubcomponents("vevent").length).toBe(2);
    const master = eventFromObject(a, null, "Europe/Berlin");
    const b = editSeries(a, { ...master, start: "2026-03-10T10:00", end: "2026-03-10T11:00" }, "all", null, OPTS).root;
    const o = b.getAllSubcomponents("vevent").find((c) => c.hasProperty("recurrence-id"))!;
    expect(o.getFirstProperty("recurrence-id")!.toICALString()).toBe("RECURRENCE-ID;TZID=Europe/Berlin:20260312T100000");
    expect(o.getFirstProperty("dtstart")!.toICALString()).toBe("DTSTART;TZID=Europe/Berlin:20260312T100000");
    expect(o.getFirstPropertyValue("summary")).toBe("Sync (once)");
    const split = editSeries(b, { ...eventFromObject(b, rid(3) + 3600_000, "Europe/Berlin"), title: "Sync 2" }, "following", rid(3) + 3600_000, OPTS);
    expect(split.tail).not.toBeNull();
    const tailMaster = split.tail!.getFirstSubcomponent("vevent")!;
    expect(tailMaster.getFirstPropertyValue("uid")).not.toBe("");
    expect(tailMaster.getFirstPropertyValue("uid")).not.toBe(b.getFirstSubcomponent("vevent")!.getFirstPropertyValue("uid"));
    // COUNT=5 from the 10th: the tail from the 13th keeps the 2 left.
    expect((tailMaster.getFirstPropertyValue("rrule") as ICAL.Recur).count).toBe(2);
    expect(starts(split.root, Date.UTC(2026, 2, 1), Date.UTC(2026, 3, 1)).length).toBe(3);
    expect(() => editSeries(root, one, "this", rid(2) + 1000, OPTS)).toThrow(ModelError);
    expect(() => editSeries(root, one, "this", null, OPTS)).toThrow(ModelError);
  });

  test("following: occurrences after the split edited on their own go with the tail (nothing is lost)", () => {
    const root = mergeEvent(null, data({ title: "Sync", recurrence: rule({ freq: "DAILY", count: 6 }) }), OPTS).root;
    // The 5th occurrence renamed and the 6th moved an hour later, each on its own.
    const five = editSeries(root, { ...eventFromObject(root, rid(4), "Europe/Berlin"), title: "Sync (demo)" }, "this", rid(4), OPTS).root;
    const six = eventFromObject(five, rid(5), "Europe/Berlin");
    const moved = editSeries(five, { ...six, start: "2026-03-15T10:00", end: "2026-03-15T11:00" }, "this", rid(5), OPTS).root;
    // From the 3rd on: a new title and 30 minutes later.
    const third = eventFromObject(moved, rid(2), "Europe/Berlin");
    const split = editSeries(moved, { ...third, title: "Sync v2", start: "2026-03-12T09:30", end: "2026-03-12T10:30" }, "following", rid(2), OPTS);
    expect(split.root.getAllSubcomponents("vevent").filter((c) => c.hasProperty("recurrence-id"))).toEqual([]);
    const tailUid = split.tail!.getFirstSubcomponent("vevent")!.getFirstPropertyValue("uid");
    const carried = split.tail!.getAllSubcomponents("vevent").filter((c) => c.hasProperty("recurrence-id"));
    expect(carried.length).toBe(2);
    for (const c of carried) expect(c.getFirstPropertyValue("uid")).toBe(tailUid);
    const byTitle = new Map(carried.map((c) => [String(c.getFirstPropertyValue("summary")), c]));
    // The renamed one keeps its own title and follows the 30-minute shift.
    expect(byTitle.get("Sync (demo)")!.getFirstProperty("recurrence-id")!.toICALString()).toBe("RECURRENCE-ID;TZID=Europe/Berlin:20260314T093000");
    expect(byTitle.get("Sync (demo)")!.getFirstProperty("dtstart")!.toICALString()).toBe("DTSTART;TZID=Europe/Berlin:20260314T093000");
    // The one moved on its own keeps its time; its title (the old series') becomes the new one.
    const other = byTitle.get("Sync v2")!;
    expect(other.getFirstProperty("recurrence-id")!.toICALString()).toBe("RECURRENCE-ID;TZID=Europe/Berlin:20260315T093000");
    expect(other.getFirstProperty("dtstart")!.toICALString()).toBe("DTSTART;TZID=Europe/Berlin:20260315T100000");
    // Both are read back as occurrences of the tail.
    expect(starts(split.tail!, Date.UTC(2026, 2, 1), Date.UTC(2026, 3, 1))).toContain(Date.UTC(2026, 2, 15, 9));
  });

  test("following with a new time: a cancelled later occurrence stays cancelled in the tail", () => {
    const root = mergeEvent(null, data({ title: "Sync", recurrence: rule({ freq: "DAILY", count: 6 }) }), OPTS).root;
    const cut = deleteFromSeries(root, "this", rid(4), "Europe/Berlin")!;
    const third = eventFromObject(cut, rid(2), "Europe/Berlin");
    const split = editSeries(cut, { ...third, start: "2026-03-12T11:00", end: "2026-03-12T12:00" }, "following", rid(2), OPTS);
    // Tail from the 12th at 11:00 local (10:00Z), 4 occurrences left, the 14th still cancelled.
    expect(starts(split.tail!, Date.UTC(2026, 2, 1), Date.UTC(2026, 3, 1))).toEqual([Date.UTC(2026, 2, 12, 10), Date.UTC(2026, 2, 13, 10), Date.UTC(2026, 2, 15, 10)]);
  });

  test("deletes: this = EXDATE, following = UNTIL, all or from the first = the whole object", () => {
    const root = base();
    const one = deleteFromSeries(root, "this", rid(1), "Europe/Berlin")!;
    expect(serialize(one)).toContain("EXDATE;TZID=Europe/Berlin:20260311T090000");
    expect(starts(one, Date.UTC(2026, 2, 1), Date.UTC(2026, 3, 1)).length).toBe(4);
    const following = deleteFromSeries(root, "following", rid(2), "Europe/Berlin")!;
    expect(starts(following, Date.UTC(2026, 2, 1), Date.UTC(2026, 3, 1))).toEqual([rid(0), rid(1)]);
    expect(deleteFromSeries(root, "following", rid(0), "Europe/Berlin")).toBeNull();
    expect(deleteFromSeries(root, "all", null, "Europe/Berlin")).toBeNull();
    expect(() => deleteFromSeries(root, "this", rid(9), "Europe/Berlin")).toThrow(ModelError);
  });

  test("all-day series: this = a DATE RECURRENCE-ID, following = a DATE UNTIL the day before", () => {
    const root = mergeEvent(null, data({ allDay: true, timeZone: "", start: "2026-03-10", end: "2026-03-11", recurrence: rule({ freq: "DAILY", count: 5 }) }), OPTS).root;
    const day = (n: number) => Date.UTC(2026, 2, 10 + n) - 3600_000; // midnight in Berlin (CET)
    const one = eventFromObject(root, day(2), "Europe/Berlin");
    expect(one).toMatchObject({ allDay: true, start: "2026-03-12", end: "2026-03-13" });
    const edited = editSeries(root, { ...one, title: "Day off" }, "this", day(2), OPTS).root;
    expect(serialize(edited)).toContain("RECURRENCE-ID;VALUE=DATE:20260312");
    const split = editSeries(edited, { ...eventFromObject(edited, day(3), "Europe/Berlin"), title: "Later" }, "following", day(3), OPTS);
    expect(split.root.getFirstSubcomponent("vevent")!.getFirstProperty("rrule")!.toICALString()).toBe("RRULE:FREQ=DAILY;UNTIL=20260312");
    expect(split.tail!.getFirstSubcomponent("vevent")!.getFirstProperty("dtstart")!.toICALString()).toBe("DTSTART;VALUE=DATE:20260313");
  });

  test("timesOf reads a stored event's span", () => {
    const t = timesOf(base().getFirstSubcomponent("vevent")!, "Europe/Berlin");
    expect(t).toMatchObject({ allDay: false, start: "2026-03-10T09:00", end: "2026-03-10T10:00", startMs: Date.UTC(2026, 2, 10, 8) });
  });
});
