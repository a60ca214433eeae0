/**
 * Recurrence expansion and time zones (src/groupware/ical): exact instance
 * times for the corpus in tests/fixtures/groupware/, computed by hand from
 * the rules (RFC 5545 §3.8.5, RFC 4791 §9.9) and the zones' offsets.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ICalError, expandInstances, parseCalendarObject, type CalendarObject } from "../../src/groupware/ical/index.ts";
import type { Instance } from "../../src/groupware/types.ts";

const FIX = join(import.meta.dir, "../fixtures/groupware");
const load = (name: string): CalendarObject => parseCalendarObject(readFileSync(join(FIX, name)));
const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");
const ms = (s: string) => Date.parse(s);
const range = (a: string, b: string) => ({ start: ms(a), end: ms(b) });
const starts = (l: Instance[]) => l.map((i) => iso(i.start));
const spans = (l: Instance[]) => l.map((i) => `${iso(i.start)}/${iso(i.end)}`);
const YEAR_2026 = range("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z");

function limitError(f: () => unknown): ICalError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ICalError);
    return e as ICalError;
  }
  throw new Error("expected an ICalError");
}

describe("DST transitions", () => {
  test("Europe/Berlin weekly across the March change (CET +1 -> CEST +2)", () => {
    const o = load("berlin-weekly-dst.ics");
    const l = expandInstances(o, range("2026-03-18T00:00:00Z", "2026-04-03T00:00:00Z"));
    expect(spans(l)).toEqual(["2026-03-19T08:00:00Z/2026-03-19T09:00:00Z", "2026-03-26T08:00:00Z/2026-03-26T09:00:00Z", "2026-04-02T07:00:00Z/2026-04-02T08:00:00Z"]);
    expect(l.map((i) => i.recurrenceId)).toEqual(l.map((i) => i.start));
    expect(l.every((i) => !i.overridden && !i.allDay && !i.transparent && i.status === "")).toBe(true);
  });

  test("Europe/Berlin weekly across the October change (CEST +2 -> CET +1), UNTIL ends it", () => {
    const o = load("berlin-weekly-dst.ics");
    expect(starts(expandInstances(o, range("2026-10-21T00:00:00Z", "2026-11-02T00:00:00Z")))).toEqual(["2026-10-22T07:00:00Z", "2026-10-29T08:00:00Z"]);
    // UNTIL=20261105T235959Z: Nov 5 is the last Thursday.
    expect(starts(expandInstances(o, range("2026-11-01T00:00:00Z", "2027-01-01T00:00:00Z")))).toEqual(["2026-11-05T08:00:00Z"]);
    expect(o.calendarFields!.lastInstance).toBe(ms("2026-11-05T08:00:00Z"));
    expect(expandInstances(o, YEAR_2026)).toHaveLength(34);
  });

  test("America/New_York by IANA name only (no VTIMEZONE in the object), DURATION", () => {
    const o = load("newyork-no-vtimezone.ics");
    expect(o.warnings).toEqual([]);
    expect(spans(expandInstances(o, YEAR_2026))).toEqual([
      "2026-03-02T14:30:00Z/2026-03-02T15:30:00Z",
      "2026-03-09T13:30:00Z/2026-03-09T14:30:00Z",
      "2026-03-16T13:30:00Z/2026-03-16T14:30:00Z",
    ]);
    expect(o.calendarFields!.dtStart).toBe(ms("2026-03-02T14:30:00Z"));
    expect(o.calendarFields!.lastInstance).toBe(ms("2026-03-16T13:30:00Z"));
  });
});

describe("rules", () => {
  test("BYSETPOS=-1: the last weekday of each month", () => {
    const o = load("bysetpos-last-weekday.ics");
    expect(starts(expandInstances(o, YEAR_2026))).toEqual(["2026-01-30T17:00:00Z", "2026-02-27T17:00:00Z", "2026-03-31T17:00:00Z", "2026-04-30T17:00:00Z"]);
    expect(o.calendarFields!.lastInstance).toBe(ms("2026-04-30T17:00:00Z"));
  });

  test("UNTIL is inclusive", () => {
    const o = load("daily-until.ics");
    expect(spans(expandInstances(o, YEAR_2026))).toEqual([
      "2026-06-01T08:00:00Z/2026-06-01T08:30:00Z",
      "2026-06-02T08:00:00Z/2026-06-02T08:30:00Z",
      "2026-06-03T08:00:00Z/2026-06-03T08:30:00Z",
      "2026-06-04T08:00:00Z/2026-06-04T08:30:00Z",
    ]);
    expect(o.calendarFields).toMatchObject({ isRecurring: true, rrule: "FREQ=DAILY;UNTIL=20260604T080000Z", lastInstance: ms("2026-06-04T08:00:00Z") });
  });

  test("COUNT with EXDATE and RDATE (the RDATE takes the master's duration)", () => {
    const o = load("exdate-rdate.ics");
    expect(spans(expandInstances(o, YEAR_2026))).toEqual([
      "2026-01-05T10:00:00Z/2026-01-05T11:00:00Z",
      "2026-01-15T15:00:00Z/2026-01-15T16:00:00Z",
      "2026-01-19T10:00:00Z/2026-01-19T11:00:00Z",
      "2026-01-26T10:00:00Z/2026-01-26T11:00:00Z",
    ]);
  });

  test("an EXDATE as a DATE removes that day's occurrence of a DATE-TIME series", () => {
    const o = parseCalendarObject(`BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:exd\r\nDTSTART:20260105T100000Z\r\nRRULE:FREQ=DAILY;COUNT=5\r\nEXDATE;VALUE=DATE:20260107\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`);
    expect(starts(expandInstances(o, YEAR_2026))).toEqual(["2026-01-05T10:00:00Z", "2026-01-06T10:00:00Z", "2026-01-08T10:00:00Z", "2026-01-09T10:00:00Z"]);
  });

  test("a range in the middle of a long series, and the overlap rule at the edges", () => {
    const o = load("berlin-weekly-dst.ics");
    // [start, end) of the query against [09:00, 10:00) Berlin = [07:00, 08:00)Z in summer.
    expect(starts(expandInstances(o, range("2026-07-02T08:00:00Z", "2026-07-09T07:00:00Z")))).toEqual([]);
    expect(starts(expandInstances(o, range("2026-07-02T07:59:59Z", "2026-07-09T07:00:01Z")))).toEqual(["2026-07-02T07:00:00Z", "2026-07-09T07:00:00Z"]);
  });

  test("a daily series started ten years ago expands one month cheaply and exactly", () => {
    const text = `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:old-daily\r\nDTSTART;TZID=Europe/Berlin:20160105T100000\r\nDTEND;TZID=Europe/Berlin:20160105T110000\r\nRRULE:FREQ=DAILY\r\nEXDATE;TZID=Europe/Berlin:20260310T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;
    const o = parseCalendarObject(text);
    expect(o.calendarFields!.lastInstance).toBeNull();
    const l = expandInstances(o, range("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"), { maxIterations: 200 });
    expect(l).toHaveLength(30);
    expect(iso(l[0]!.start)).toBe("2026-03-01T09:00:00Z");
    expect(starts(l)).not.toContain("2026-03-10T09:00:00Z");
    expect(iso(l.at(-1)!.start)).toBe("2026-03-31T08:00:00Z");
  });
});

describe("overridden instances (RECURRENCE-ID)", () => {
  const o = () => load("override-moved.ics");

  test("an instance moved across midnight counts where it is now, not where it was", () => {
    // Feb 9 23:00 Berlin (22:00Z) moved to Feb 11 01:00 Berlin (00:00Z).
    expect(expandInstances(o(), range("2026-02-09T00:00:00Z", "2026-02-10T00:00:00Z"))).toEqual([]);
    const l = expandInstances(o(), range("2026-02-11T00:00:00Z", "2026-02-12T00:00:00Z"));
    expect(l).toEqual([{ start: ms("2026-02-11T00:00:00Z"), end: ms("2026-02-11T00:30:00Z"), recurrenceId: ms("2026-02-09T22:00:00Z"), allDay: false, transparent: false, status: "TENTATIVE", overridden: true }]);
  });

  test("a RECURRENCE-ID written in UTC replaces its zoned occurrence; overrides keep their own TRANSP", () => {
    const l = expandInstances(o(), range("2026-02-16T00:00:00Z", "2026-02-17T00:00:00Z"));
    expect(l).toHaveLength(1);
    expect(l[0]).toMatchObject({ start: ms("2026-02-16T20:00:00Z"), recurrenceId: ms("2026-02-16T22:00:00Z"), transparent: true, overridden: true });
  });

  test("the whole series: moved-out instance gone, moved-in instances present, ascending", () => {
    expect(starts(expandInstances(o(), YEAR_2026))).toEqual(["2026-02-02T22:00:00Z", "2026-02-11T00:00:00Z", "2026-02-16T20:00:00Z", "2026-03-10T11:00:00Z"]);
    // lastInstance covers the instance moved weeks after the last regular one (plus the master's 30 minutes).
    const f = o().calendarFields!;
    expect(f.lastInstance! + (f.dtEnd - f.dtStart)).toBeGreaterThanOrEqual(ms("2026-03-10T12:00:00Z"));
  });

  test("organizer, attendees and sequence of the master", () => {
    const x = o();
    expect(x.organizer).toBe("alice@example.org");
    expect(x.sequence).toBe(2);
    expect(x.attendees).toEqual([
      { address: "bob@example.org", name: "Bob", partstat: "ACCEPTED", role: "REQ-PARTICIPANT", rsvp: true, scheduleAgent: "SERVER" },
      { address: "carol@remote.example", name: "Carol", partstat: "NEEDS-ACTION", role: "REQ-PARTICIPANT", rsvp: false, scheduleAgent: "CLIENT" },
    ]);
    expect(x.calendarFields).toMatchObject({ uid: "moved@pillarbox.test", organizer: "alice@example.org", sequence: 2, summary: "Late call", recurrenceId: null, isRecurring: true });
  });

  test("overrides only (an attendee invited to one occurrence): the override is the instance", () => {
    const text = readFileSync(join(FIX, "override-moved.ics"), "utf8").replace(/BEGIN:VEVENT\r\nUID:moved@pillarbox.test\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe\/Berlin:20260202T230000[\s\S]*?END:VEVENT\r\n/, "");
    const x = parseCalendarObject(text);
    expect(x.calendarFields).toMatchObject({ dtStart: ms("2026-02-11T00:00:00Z"), dtEnd: ms("2026-03-10T12:00:00Z"), isRecurring: false });
    expect(starts(expandInstances(x, YEAR_2026))).toEqual(["2026-02-11T00:00:00Z", "2026-02-16T20:00:00Z", "2026-03-10T11:00:00Z"]);
  });

  test("THISANDFUTURE moves every later instance", () => {
    const text = `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:tf\r\nDTSTART:20260105T100000Z\r\nDTEND:20260105T110000Z\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:tf\r\nRECURRENCE-ID;RANGE=THISANDFUTURE:20260112T100000Z\r\nDTSTART:20260112T140000Z\r\nDTEND:20260112T160000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;
    const x = parseCalendarObject(text);
    expect(spans(expandInstances(x, YEAR_2026))).toEqual([
      "2026-01-05T10:00:00Z/2026-01-05T11:00:00Z",
      "2026-01-12T14:00:00Z/2026-01-12T16:00:00Z",
      "2026-01-19T14:00:00Z/2026-01-19T16:00:00Z",
      "2026-01-26T14:00:00Z/2026-01-26T16:00:00Z",
    ]);
  });
});

describe("all-day and floating", () => {
  test("DATE values: end exclusive, UTC by default, the calendar's zone when given", () => {
    const o = load("allday-yearly.ics");
    const l = expandInstances(o, range("2026-01-01T00:00:00Z", "2028-01-01T00:00:00Z"));
    expect(spans(l)).toEqual(["2026-03-24T00:00:00Z/2026-03-26T00:00:00Z", "2027-03-24T00:00:00Z/2027-03-26T00:00:00Z"]);
    expect(l.every((i) => i.allDay && i.transparent)).toBe(true);
    expect(o.calendarFields).toMatchObject({ allDay: true, dtStart: ms("2026-03-24T00:00:00Z"), dtEnd: ms("2026-03-26T00:00:00Z"), transp: "TRANSPARENT" });
    // The day after the end does not overlap (DTEND is exclusive).
    expect(expandInstances(o, range("2026-03-26T00:00:00Z", "2026-03-27T00:00:00Z"))).toEqual([]);
    expect(spans(expandInstances(o, YEAR_2026, { floatingTz: "Europe/Berlin" }))).toEqual(["2026-03-23T23:00:00Z/2026-03-25T23:00:00Z"]);
  });

  test("floating DATE-TIME: UTC by default, floatingTz when given", () => {
    const o = load("floating.ics");
    expect(spans(expandInstances(o, YEAR_2026))).toEqual(["2026-04-10T09:00:00Z/2026-04-10T10:00:00Z"]);
    expect(spans(expandInstances(o, YEAR_2026, { floatingTz: "America/New_York" }))).toEqual(["2026-04-10T13:00:00Z/2026-04-10T14:00:00Z"]);
    // The same object read for two zones alternately (the per-object cache is per zone).
    expect(starts(expandInstances(o, YEAR_2026))).toEqual(["2026-04-10T09:00:00Z"]);
  });

  test("a non-recurring event has recurrenceId null", () => {
    const l = expandInstances(load("floating.ics"), YEAR_2026);
    expect(l[0]!.recurrenceId).toBeNull();
  });
});

describe("time zone names", () => {
  test("an unknown TZID is a warning, read as floating (not a crash)", () => {
    const o = load("unknown-tzid.ics");
    expect(o.warnings.join("\n")).toContain('unknown TZID "Mars/Olympus_Mons"');
    expect(starts(expandInstances(o, YEAR_2026))).toEqual(["2026-04-10T09:00:00Z"]);
  });

  test("Outlook's Windows zone name without VTIMEZONE maps to Europe/Berlin", () => {
    const o = load("outlook-windows-name.ics");
    expect(o.warnings).toEqual([]);
    expect(o.method).toBe("PUBLISH");
    expect(spans(expandInstances(o, YEAR_2026))).toEqual(["2026-07-15T12:00:00Z/2026-07-15T13:00:00Z"]);
  });

  test("Outlook's own VTIMEZONE (DTSTART 1601) for a Windows name", () => {
    const o = load("outlook-vtimezone.ics");
    expect(starts(expandInstances(o, YEAR_2026))).toEqual([
      "2026-01-15T13:00:00Z",
      "2026-02-15T13:00:00Z",
      "2026-03-15T13:00:00Z",
      "2026-04-15T12:00:00Z",
      "2026-05-15T12:00:00Z",
      "2026-06-15T12:00:00Z",
      "2026-07-15T12:00:00Z",
    ]);
  });

  test("an object's own VTIMEZONE wins for that object and does not leak into others", () => {
    const own = load("own-vtimezone-wins.ics");
    expect(starts(expandInstances(own, YEAR_2026))).toEqual(["2026-07-15T09:00:00Z"]);
    const other = parseCalendarObject(
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:other\r\nDTSTART;TZID=Europe/Berlin:20260715T140000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    expect(starts(expandInstances(other, YEAR_2026))).toEqual(["2026-07-15T12:00:00Z"]);
    // And the odd definition still holds for its own object afterwards.
    expect(starts(expandInstances(load("own-vtimezone-wins.ics"), YEAR_2026))).toEqual(["2026-07-15T09:00:00Z"]);
  });

  test("far years keep their zone's rules (read through the 400-year cycle)", () => {
    const at = (d: string) => parseCalendarObject(`BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:far\r\nDTSTART;TZID=Europe/Berlin:${d}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`).calendarFields!.dtStart;
    expect(iso(at("90000715T140000"))).toBe("9000-07-15T12:00:00Z");
    expect(iso(at("90000115T140000"))).toBe("9000-01-15T13:00:00Z");
    const o = parseCalendarObject(`BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:far2\r\nDTSTART;TZID=Europe/Berlin:20260105T100000\r\nRRULE:FREQ=WEEKLY;UNTIL=99991227T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`);
    // 9999-12-27 is a Monday in winter: 10:00 Berlin = 09:00Z, exactly the UNTIL.
    expect(starts(expandInstances(o, range("9999-12-20T00:00:00Z", "9999-12-31T00:00:00Z")))).toEqual(["9999-12-20T09:00:00Z", "9999-12-27T09:00:00Z"]);
  });

  test("prefixed IANA names (/mozilla.org/.../Europe/Berlin) resolve", () => {
    const o = parseCalendarObject(
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:moz\r\nDTSTART;TZID=/mozilla.org/20050126_1/Europe/Berlin:20260115T140000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    expect(o.warnings).toEqual([]);
    expect(o.calendarFields!.dtStart).toBe(ms("2026-01-15T13:00:00Z"));
  });
});

describe("tasks", () => {
  test("VTODO with DTSTART, DUE and RRULE: instances [start, due)", () => {
    const o = load("vtodo-due-rrule.ics");
    expect(o.kind).toBe("VTODO");
    expect(o.calendarFields).toBeNull();
    expect(o.taskFields).toEqual({ uid: "todo-weekly@pillarbox.test", summary: "Weekly report", due: ms("2026-05-01T17:00:00Z"), start: ms("2026-05-01T09:00:00Z"), completed: null, status: "NEEDS-ACTION", priority: 2, isRecurring: true });
    expect(spans(expandInstances(o, YEAR_2026))).toEqual([
      "2026-05-01T09:00:00Z/2026-05-01T17:00:00Z",
      "2026-05-08T09:00:00Z/2026-05-08T17:00:00Z",
      "2026-05-15T09:00:00Z/2026-05-15T17:00:00Z",
    ]);
  });

  test("VTODO with DUE only (a DATE); a bad PRIORITY is kept with a warning", () => {
    const o = load("vtodo-due-only.ics");
    expect(o.taskFields).toMatchObject({ due: ms("2026-05-20T00:00:00Z"), start: null, completed: ms("2026-05-19T12:00:00Z"), status: "COMPLETED", priority: 0, isRecurring: false });
    expect(o.warnings.join("\n")).toContain("PRIORITY");
    const l = expandInstances(o, YEAR_2026);
    expect(l).toHaveLength(1);
    expect(l[0]).toMatchObject({ start: ms("2026-05-20T00:00:00Z"), end: ms("2026-05-20T00:00:00Z"), allDay: true });
  });
});

describe("limits: bounded work for hostile rules", () => {
  test("FREQ=SECONDLY;COUNT=10^9: LIMIT beyond maxInstances, quickly", () => {
    const o = load("huge-count-secondly.ics");
    expect(o.calendarFields!.lastInstance).toBeNull();
    const e = limitError(() => expandInstances(o, YEAR_2026, { maxInstances: 1000 }));
    expect(e.code).toBe("LIMIT");
    expect(e.message).toContain("1000 instances");
    // A small range is fine.
    expect(expandInstances(o, range("2026-01-01T00:00:00Z", "2026-01-01T00:00:10Z"))).toHaveLength(10);
  });

  test("FREQ=SECONDLY;UNTIL=9999: a range years later needs no iteration from DTSTART", () => {
    const o = load("until-9999.ics");
    expect(o.calendarFields!.lastInstance).toBe(ms("9999-12-31T23:59:59Z"));
    const l = expandInstances(o, range("2026-06-01T00:00:00Z", "2026-06-01T00:01:00Z"), { maxIterations: 1000 });
    expect(l).toHaveLength(60);
    expect(iso(l[0]!.start)).toBe("2026-06-01T00:00:00Z");
  });

  test("COUNT rules must count from DTSTART: the iteration cap ends in LIMIT", () => {
    const o = load("huge-count-secondly.ics");
    const e = limitError(() => expandInstances(o, range("2027-01-01T00:00:00Z", "2027-01-01T00:00:10Z"), { maxIterations: 2000 }));
    expect(e.code).toBe("LIMIT");
    expect(e.message).toContain("2000 steps");
  });
});

describe("rules ical.js cannot iterate safely are refused at write time", () => {
  const rule = (r: string) => `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:r\r\nDTSTART:20260105T100000Z\r\nRRULE:${r}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;
  for (const [r, code, msg] of [
    ["FREQ=DAILY;BYMONTH=4;BYMONTHDAY=31", "INVALID_DATA", "no date matches BYMONTH and BYMONTHDAY"],
    ["FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30,31", "INVALID_DATA", "no date matches"],
    ["FREQ=DAILY;BYWEEKNO=53;BYMONTH=6", "INVALID_DATA", "BYWEEKNO is only allowed with FREQ=YEARLY"],
    ["FREQ=WEEKLY;BYMONTHDAY=3", "INVALID_DATA", "BYMONTHDAY is not allowed with FREQ=WEEKLY"],
    ["FREQ=SECONDLY;COUNT=100000000;BYMONTH=2;BYMONTHDAY=29", "LIMIT", "BYMONTH with FREQ=SECONDLY"],
    ["FREQ=MINUTELY;BYYEARDAY=100", "LIMIT", "BYYEARDAY with FREQ=MINUTELY"],
    ["FREQ=SECONDLY;BYDAY=MO", "LIMIT", "BYDAY with FREQ=SECONDLY"],
    ["FREQ=DAILY;BYHOUR=99999999999999999999990000Z", "INVALID_DATA", "BYHOUR value 1e+26 is out of range"],
    ["FREQ=MONTHLY;BYMONTHDAY=31,-1;INTERVAL=999999999999999999992", "INVALID_DATA", "is out of range (a period of at most 100 years)"],
    ["FREQ=YEARLY;BYDAY=54MO", "INVALID_DATA", "invalid BYDAY value \"54MO\""],
  ] as const) {
    test(r, () => {
      const t0 = performance.now();
      const e = limitError(() => parseCalendarObject(rule(r)));
      expect(e.code).toBe(code);
      expect(e.message).toContain(msg);
      expect(performance.now() - t0).toBeLessThan(2000);
    });
  }

  test("a DURATION over 100 years is refused; a query beyond year 9999 finds nothing without work", () => {
    const e = limitError(() => parseCalendarObject(rule("FREQ=WEEKLY").replace("RRULE:", "DURATION:PT14294967295H\r\nRRULE:")));
    expect(e.code).toBe("INVALID_DATA");
    expect(e.message).toContain("longer than 100 years");
    const o = parseCalendarObject(rule("FREQ=WEEKLY"));
    expect(expandInstances(o, { start: Date.UTC(10000, 0, 1), end: 8.64e15 })).toEqual([]);
    const l = expandInstances(o, { start: Date.UTC(9999, 11, 1), end: 8.64e15 });
    expect(l.map((i) => iso(i.start))).toEqual(["9999-12-06T10:00:00Z", "9999-12-13T10:00:00Z", "9999-12-20T10:00:00Z", "9999-12-27T10:00:00Z"]);
  });

  test("Feb 29 with DAILY and HOURLY;BYDAY are fine", () => {
    const o = parseCalendarObject(rule("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;COUNT=2"));
    expect(expandInstances(o, range("2026-01-01T00:00:00Z", "2033-01-01T00:00:00Z")).map((i) => iso(i.start))).toEqual(["2026-01-05T10:00:00Z", "2028-02-29T10:00:00Z"]);
    expect(parseCalendarObject(rule("FREQ=HOURLY;BYDAY=MO")).calendarFields!.lastInstance).toBeNull();
  });

  test("a yearly series from year 1600 expands a month of 2026 without iterating four centuries", () => {
    const o = parseCalendarObject(rule("FREQ=YEARLY;BYMONTH=3;BYDAY=-1FR").replace("DTSTART:20260105T100000Z", "DTSTART:16000105T100000Z"));
    const l = expandInstances(o, range("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"), { maxIterations: 100 });
    expect(l.map((i) => iso(i.start))).toEqual(["2026-03-27T10:00:00Z"]);
    const m = parseCalendarObject(rule("FREQ=MONTHLY;INTERVAL=5;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1").replace("DTSTART:20260105T100000Z", "DTSTART:19000105T100000Z"));
    // 1900-01 + 5n months: 2026-04 (1515 months later) and 2026-09; their last weekdays are Thursday 30 and Wednesday 30.
    expect(expandInstances(m, range("2026-01-01T00:00:00Z", "2026-12-31T00:00:00Z"), { maxIterations: 100 }).map((i) => iso(i.start))).toEqual(["2026-04-30T10:00:00Z", "2026-09-30T10:00:00Z"]);
  });
});
