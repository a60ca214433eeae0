/**
 * EAS Recurrence <-> RRULE (MS-ASCAL §2.2.2.38, MS-ASTASK Recurrence): every
 * Type both ways, with instance dates checked through ical.js; rules EAS
 * cannot express give null; the absurd-count / bad-field corpus is an
 * EasDataError with Status 6.
 */
import { describe, expect, test } from "bun:test";
import ICAL from "ical.js";
import { recurrenceFromEas, recurrenceToEas, type RecurrenceNs } from "../../protocols/http/eas/groupware/recurrence.ts";
import { EasDataError } from "../../protocols/http/eas/groupware/codec.ts";
import { el, kidText, type WElement } from "../../protocols/http/eas/wbxml/tree.ts";

const START = ICAL.Time.fromDateTimeString("2026-03-10T09:00:00"); // a Tuesday

function rec(ns: RecurrenceNs, fields: Record<string, string | number>): WElement {
  return el(`${ns}:Recurrence`, ...Object.entries(fields).map(([k, v]) => el(`${ns}:${k}`, v)));
}

/** The first n instance starts of a rule from START, as "YYYY-MM-DD". */
function instances(rule: ICAL.Recur, n: number, start = START): string[] {
  const it = rule.iterator(start);
  const out: string[] = [];
  for (let t = it.next(); t && out.length < n; t = it.next()) out.push(t.toString().slice(0, 10));
  return out;
}

function fields(e: WElement | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of e?.children ?? []) if (typeof c === "object" && !(c instanceof Uint8Array)) out[c.name] = kidText(e!, `${c.ns}:${c.name}`)!;
  return out;
}

describe("RRULE -> EAS -> RRULE, every Type", () => {
  const cases: [string, string, Record<string, string>, string[]][] = [
    ["daily (0)", "FREQ=DAILY;INTERVAL=2;COUNT=3", { Type: "0", Occurrences: "3", Interval: "2" }, ["2026-03-10", "2026-03-12", "2026-03-14"]],
    ["weekly (1)", "FREQ=WEEKLY;BYDAY=TU,TH", { Type: "1", DayOfWeek: String(4 | 16) }, ["2026-03-10", "2026-03-12", "2026-03-17"]],
    ["weekly without BYDAY: the start's day", "FREQ=WEEKLY", { Type: "1", DayOfWeek: "4" }, ["2026-03-10", "2026-03-17", "2026-03-24"]],
    ["monthly on a day (2)", "FREQ=MONTHLY;BYMONTHDAY=10", { Type: "2", DayOfMonth: "10" }, ["2026-03-10", "2026-04-10", "2026-05-10"]],
    ["monthly on the nth weekday (3)", "FREQ=MONTHLY;BYDAY=2TU", { Type: "3", WeekOfMonth: "2", DayOfWeek: "4" }, ["2026-03-10", "2026-04-14", "2026-05-12"]],
    ["monthly on the last Friday (3, week 5)", "FREQ=MONTHLY;BYDAY=-1FR", { Type: "3", WeekOfMonth: "5", DayOfWeek: "32" }, ["2026-03-27", "2026-04-24", "2026-05-29"]],
    ["monthly on the last weekday (3, mask 62)", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", { Type: "3", WeekOfMonth: "5", DayOfWeek: "62" }, ["2026-03-31", "2026-04-30", "2026-05-29"]],
    ["monthly on the last day (3, mask 127)", "FREQ=MONTHLY;BYMONTHDAY=-1", { Type: "3", WeekOfMonth: "5", DayOfWeek: "127" }, ["2026-03-31", "2026-04-30", "2026-05-31"]],
    ["yearly on a date (5)", "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=10", { Type: "5", MonthOfYear: "3", DayOfMonth: "10" }, ["2026-03-10", "2027-03-10", "2028-03-10"]],
    ["yearly on the nth weekday (6)", "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH", { Type: "6", WeekOfMonth: "4", DayOfWeek: "16", MonthOfYear: "11" }, ["2026-11-26", "2027-11-25", "2028-11-23"]],
  ];
  for (const [what, rrule, want, dates] of cases) {
    test(what, () => {
      const rule = ICAL.Recur.fromString(rrule);
      for (const ns of ["Calendar", "Tasks"] as const) {
        const e = recurrenceToEas(rule, START, ns, 141)!;
        expect(e.ns).toBe(ns);
        expect(e.name).toBe("Recurrence");
        expect(fields(e)).toMatchObject(want);
        if (ns === "Tasks") expect(fields(e).Start).toBe("2026-03-10T09:00:00.000Z"); // MS-ASTASK: Start is required
        const back = recurrenceFromEas(e, START, ns);
        expect(instances(back, 3)).toEqual(dates);
      }
      expect(instances(rule, 3)).toEqual(dates);
    });
  }

  test("Until: UTC for a timed start, a DATE for an all-day one; COUNT wins over UNTIL", () => {
    const timed = recurrenceToEas(ICAL.Recur.fromString("FREQ=DAILY;UNTIL=20260315T080000Z"), START, "Calendar", 161);
    expect(fields(timed).Until).toBe("20260315T080000Z");
    expect(recurrenceFromEas(timed!, START, "Calendar").toString()).toBe("FREQ=DAILY;UNTIL=20260315T080000Z");
    const day = ICAL.Time.fromDateString("2026-03-10");
    const allDay = recurrenceToEas(ICAL.Recur.fromString("FREQ=WEEKLY;UNTIL=20260331"), day, "Calendar", 161);
    expect(fields(allDay).Until).toBe("20260331T000000Z");
    const back = recurrenceFromEas(allDay!, day, "Calendar");
    expect(back.until!.isDate).toBe(true);
    expect(back.toString()).toBe("FREQ=WEEKLY;BYDAY=TU;UNTIL=20260331");
    // a device east of UTC sends its local midnight: the previous UTC evening is still that day
    const east = recurrenceFromEas(rec("Calendar", { Type: 0, Until: "20260330T230000Z" }), day, "Calendar");
    expect(east.until!.toString()).toBe("2026-03-31");
    const west = recurrenceFromEas(rec("Calendar", { Type: 0, Until: "20260331T040000Z" }), day, "Calendar");
    expect(west.until!.toString()).toBe("2026-03-31");
    // the task form of Until (extended ISO)
    expect(recurrenceFromEas(rec("Tasks", { Type: 0, Until: "2026-03-20T09:00:00.000Z" }), START, "Tasks").toString()).toBe("FREQ=DAILY;UNTIL=20260320T090000Z");
    expect(fields(recurrenceToEas(ICAL.Recur.fromString("FREQ=DAILY;UNTIL=20260320T090000Z"), START, "Tasks", 141)).Until).toBe("2026-03-20T09:00:00.000Z");
    const both = recurrenceFromEas(rec("Calendar", { Type: 0, Occurrences: 4, Until: "20260330T230000Z" }), START, "Calendar");
    expect(both.toString()).toBe("FREQ=DAILY;COUNT=4");
  });

  test("FirstDayOfWeek is WKST (14.1 and later only); a daily rule on weekdays is weekly", () => {
    const r = ICAL.Recur.fromString("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR;WKST=SU");
    expect(fields(recurrenceToEas(r, START, "Calendar", 141)).FirstDayOfWeek).toBe("0");
    expect(fields(recurrenceToEas(r, START, "Calendar", 140)).FirstDayOfWeek).toBeUndefined();
    expect(recurrenceFromEas(rec("Calendar", { Type: 1, Interval: 2, DayOfWeek: 34, FirstDayOfWeek: 0 }), START, "Calendar").toString()).toBe("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR;WKST=SU");
    expect(fields(recurrenceToEas(ICAL.Recur.fromString("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR"), START, "Calendar", 161))).toMatchObject({ Type: "1", DayOfWeek: "62" });
    // daily with a DayOfWeek from a device: those days only
    expect(instances(recurrenceFromEas(rec("Calendar", { Type: 0, DayOfWeek: 62 }), START, "Calendar"), 5)).toEqual(["2026-03-10", "2026-03-11", "2026-03-12", "2026-03-13", "2026-03-16"]);
  });
});

describe("rules EAS cannot express give null", () => {
  for (const rrule of [
    "FREQ=HOURLY",
    "FREQ=MINUTELY;INTERVAL=15",
    "FREQ=SECONDLY",
    "FREQ=DAILY;BYHOUR=9,17",
    "FREQ=YEARLY;BYMONTH=1,7",
    "FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=1,-1",
    "FREQ=MONTHLY;BYDAY=MO",
    "FREQ=MONTHLY;BYDAY=3MO,3TU",
    "FREQ=MONTHLY;BYMONTHDAY=1,15",
    "FREQ=MONTHLY;BYMONTHDAY=-2",
    "FREQ=MONTHLY;BYDAY=-2FR",
    "FREQ=YEARLY;BYWEEKNO=20",
    "FREQ=YEARLY;BYYEARDAY=100",
    "FREQ=WEEKLY;BYDAY=1MO",
    "FREQ=DAILY;INTERVAL=2;BYDAY=MO,FR",
    "FREQ=WEEKLY;INTERVAL=5000",
    "FREQ=DAILY;COUNT=1000",
  ]) {
    test(rrule, () => {
      expect(recurrenceToEas(ICAL.Recur.fromString(rrule), START, "Calendar", 161)).toBeNull();
      expect(recurrenceToEas(ICAL.Recur.fromString(rrule), START, "Tasks", 161)).toBeNull();
    });
  }
});

describe("the absurd-count / bad-field corpus", () => {
  const corpus: [string, Record<string, string | number>][] = [
    ["no Type", { Interval: 1 }],
    ["Type 4", { Type: 4 }],
    ["Type 7", { Type: 7 }],
    ["Type text", { Type: "weekly" }],
    ["Interval 0", { Type: 0, Interval: 0 }],
    ["Interval 1000", { Type: 0, Interval: 1000 }],
    ["Interval negative", { Type: 0, Interval: -1 }],
    ["Occurrences 0", { Type: 0, Occurrences: 0 }],
    ["Occurrences 1000", { Type: 0, Occurrences: 1000 }],
    ["Occurrences absurd", { Type: 0, Occurrences: "99999999999999999999" }],
    ["DayOfWeek 0 for weekly", { Type: 1, DayOfWeek: 0 }],
    ["DayOfWeek 128", { Type: 1, DayOfWeek: 128 }],
    ["DayOfMonth 32", { Type: 2, DayOfMonth: 32 }],
    ["DayOfMonth 0", { Type: 2, DayOfMonth: 0 }],
    ["WeekOfMonth 6", { Type: 3, DayOfWeek: 2, WeekOfMonth: 6 }],
    ["nth weekday without WeekOfMonth", { Type: 3, DayOfWeek: 2 }],
    ["nth weekday without DayOfWeek", { Type: 6, WeekOfMonth: 2, MonthOfYear: 5 }],
    ["MonthOfYear 13", { Type: 5, MonthOfYear: 13, DayOfMonth: 1 }],
    ["February 30 (never happens)", { Type: 5, MonthOfYear: 2, DayOfMonth: 30 }],
    ["April 31 (never happens)", { Type: 5, MonthOfYear: 4, DayOfMonth: 31 }],
    ["invalid Until", { Type: 0, Until: "20261345T250000Z" }],
    ["Until not a date", { Type: 0, Until: "next year" }],
    ["FirstDayOfWeek 7", { Type: 1, DayOfWeek: 2, FirstDayOfWeek: 7 }],
    ["lunar CalendarType", { Type: 5, MonthOfYear: 1, DayOfMonth: 1, CalendarType: 14 }],
    ["CalendarType 99", { Type: 0, CalendarType: 99 }],
    ["IsLeapMonth in a Gregorian calendar", { Type: 5, MonthOfYear: 1, DayOfMonth: 1, IsLeapMonth: 1 }],
  ];
  for (const ns of ["Calendar", "Tasks"] as const) {
    test(`${ns}: every entry is an EasDataError with Status 6`, () => {
      for (const [what, f] of corpus) {
        let err: unknown;
        try {
          recurrenceFromEas(rec(ns, f), START, ns);
        } catch (e) {
          err = e;
        }
        expect([what, err instanceof EasDataError]).toEqual([what, true]);
        expect((err as EasDataError).status).toBe(6);
      }
    });
  }

  test("limits at the edge are accepted (Interval 999, Occurrences 999, February 29)", () => {
    expect(recurrenceFromEas(rec("Calendar", { Type: 0, Interval: 999, Occurrences: 999 }), START, "Calendar").toString()).toBe("FREQ=DAILY;COUNT=999;INTERVAL=999");
    expect(recurrenceFromEas(rec("Calendar", { Type: 5, MonthOfYear: 2, DayOfMonth: 29 }), START, "Calendar").toString()).toBe("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29");
    // Gregorian flavours of CalendarType are fine
    expect(recurrenceFromEas(rec("Calendar", { Type: 0, CalendarType: 1, IsLeapMonth: 0 }), START, "Calendar").toString()).toBe("FREQ=DAILY");
  });
});
