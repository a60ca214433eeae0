/**
 * The calendar's pure date arithmetic and layout (web/src/calendar/dates.ts,
 * layout.ts): overlapping events side by side, multi-day and all-day bars in
 * lanes with "+N more", DST days of 23 and 25 hours, and weeks starting on
 * Sunday or Monday.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { registeredKeys } from "../../web/src/i18n/index.ts";
import "../../web/src/i18n/calendar.ts";
import { addDays, addMonths, dayKey, dayStart, isoWeekday, monthWeeks, parseKey, wallMinutes, wallString, wallStringToMs, wallToMs, weekStart } from "../../web/src/calendar/dates.ts";
import { isBar, layoutBars, layoutDay, spanOf, MIN_MINUTES } from "../../web/src/calendar/layout.ts";

const BERLIN = "Europe/Berlin";
const NY = "America/New_York";
const H = 3_600_000;

const at = (key: string, hhmm: string, tz = BERLIN): number => wallStringToMs(`${key}T${hhmm}`, tz)!;

describe("dates in a zone", () => {
  test("day keys, weekdays and month arithmetic", () => {
    expect(addDays("2026-12-30", 3)).toBe("2027-01-02");
    expect(addDays("2024-03-01", -1)).toBe("2024-02-29");
    expect(addMonths("2026-01-31", 1)).toBe("2026-02-28");
    expect(addMonths("2026-01-15", -2)).toBe("2025-11-15");
    expect(isoWeekday("2026-12-07")).toBe(1); // a Monday
    expect(isoWeekday("2026-12-13")).toBe(7);
    expect(parseKey("2026-02-30")).toBeNull();
    expect(parseKey("2026-2-3")).toBeNull();
    expect(parseKey("2026-02-28")).toEqual({ y: 2026, m: 2, d: 28 });
  });

  test("weeks start on Monday or Sunday", () => {
    expect(weekStart("2026-12-10", 1)).toBe("2026-12-07");
    expect(weekStart("2026-12-10", 7)).toBe("2026-12-06");
    expect(weekStart("2026-12-06", 1)).toBe("2026-11-30");
    expect(weekStart("2026-12-06", 7)).toBe("2026-12-06");
    expect(weekStart("2026-12-12", 6)).toBe("2026-12-12"); // Saturday-first regions
  });

  test("month grid: whole weeks from the week of the 1st to the week of the last day", () => {
    const mon = monthWeeks("2026-02-14", 1);
    expect(mon[0]![0]).toBe("2026-01-26");
    expect(mon.at(-1)!.at(-1)).toBe("2026-03-01");
    expect(mon.length).toBe(5);
    const sun = monthWeeks("2026-02-14", 7);
    expect(sun[0]![0]).toBe("2026-02-01"); // Feb 1st 2026 is a Sunday
    expect(sun.length).toBe(4);
    for (const w of [...mon, ...sun]) expect(w.length).toBe(7);
  });

  test("local midnight and wall times, also on DST days", () => {
    expect(dayStart("2026-07-01", BERLIN)).toBe(Date.UTC(2026, 5, 30, 22));
    expect(dayStart("2026-12-01", BERLIN)).toBe(Date.UTC(2026, 10, 30, 23));
    // Spring forward (29 March 2026): 23 hours; fall back (25 October 2026): 25 hours.
    expect(dayStart("2026-03-30", BERLIN) - dayStart("2026-03-29", BERLIN)).toBe(23 * H);
    expect(dayStart("2026-10-26", BERLIN) - dayStart("2026-10-25", BERLIN)).toBe(25 * H);
    expect(dayStart("2026-03-09", NY) - dayStart("2026-03-08", NY)).toBe(23 * H);
    // 02:30 does not exist on 29 March in Berlin: it moves forward by the gap (RFC 5545 §3.3.5).
    expect(wallString(at("2026-03-29", "02:30"), BERLIN)).toBe("2026-03-29T03:30");
    // 02:30 exists twice on 25 October: the first one (still summer time, UTC+2).
    expect(at("2026-10-25", "02:30")).toBe(Date.UTC(2026, 9, 25, 0, 30));
    expect(wallToMs("2026-10-25", 180, BERLIN)).toBe(Date.UTC(2026, 9, 25, 2));
    expect(dayKey(Date.UTC(2026, 11, 6, 23, 30), BERLIN)).toBe("2026-12-07");
    expect(dayKey(Date.UTC(2026, 11, 6, 23, 30), NY)).toBe("2026-12-06");
    expect(wallMinutes(Date.UTC(2026, 11, 7, 15, 0), NY)).toBe(10 * 60);
    expect(wallStringToMs("2026-13-01T10:00", BERLIN)).toBeNull();
    expect(wallStringToMs("2026-12-01T24:00", BERLIN)).toBeNull();
    expect(wallStringToMs("garbage", BERLIN)).toBeNull();
  });
});

describe("timed events in a day column", () => {
  const ev = (id: string, from: string, to: string, key = "2026-12-07", tz = BERLIN) => ({ item: id, start: at(key, from, tz), end: at(key, to, tz) });

  test("separate events take the whole width", () => {
    const p = layoutDay([ev("a", "09:00", "10:00"), ev("b", "10:00", "11:30")], "2026-12-07", BERLIN);
    expect(p.map((x) => [x.item, x.top, x.height, x.col, x.cols])).toEqual([
      ["a", 540, 60, 0, 1],
      ["b", 600, 90, 0, 1],
    ]);
  });

  test("overlapping events share the width; a cluster's width is its most simultaneous events", () => {
    const p = layoutDay([ev("a", "09:00", "11:00"), ev("b", "09:30", "10:00"), ev("c", "10:00", "10:30"), ev("d", "10:15", "12:00"), ev("e", "13:00", "14:00")], "2026-12-07", BERLIN);
    const by = Object.fromEntries(p.map((x) => [x.item, x]));
    expect(by.a!.col).toBe(0);
    expect(by.b!.col).toBe(1);
    expect(by.c!.col).toBe(1); // b ended, c reuses its column
    expect(by.d!.col).toBe(2); // a and c still run at 10:15
    expect([by.a!.cols, by.b!.cols, by.c!.cols, by.d!.cols]).toEqual([3, 3, 3, 3]);
    expect(by.e!.cols).toBe(1);
    expect(by.e!.col).toBe(0);
  });

  test("events crossing midnight are clipped to the day, with flags", () => {
    const night = { item: "n", start: at("2026-12-06", "22:00"), end: at("2026-12-07", "02:00") };
    const [d6] = layoutDay([night], "2026-12-06", BERLIN);
    const [d7] = layoutDay([night], "2026-12-07", BERLIN);
    expect([d6!.top, d6!.height, d6!.clippedStart, d6!.clippedEnd]).toEqual([1320, 120, false, true]);
    expect([d7!.top, d7!.height, d7!.clippedStart, d7!.clippedEnd]).toEqual([0, 120, true, false]);
    expect(layoutDay([night], "2026-12-08", BERLIN)).toEqual([]);
  });

  test("zero-length and very short events stay clickable", () => {
    const p = layoutDay([ev("z", "12:00", "12:00"), ev("s", "23:55", "23:59")], "2026-12-07", BERLIN);
    for (const x of p) expect(x.height).toBeGreaterThanOrEqual(MIN_MINUTES);
    for (const x of p) expect(x.top + x.height).toBeLessThanOrEqual(1440);
  });

  test("DST days: wall-clock positions on the 23-hour and the 25-hour day", () => {
    const spring = layoutDay([ev("noon", "12:00", "13:00", "2026-03-29"), ev("early", "01:00", "04:00", "2026-03-29")], "2026-03-29", BERLIN);
    const noon = spring.find((x) => x.item === "noon")!;
    expect(noon.top).toBe(720);
    expect(noon.height).toBe(60);
    const early = spring.find((x) => x.item === "early")!;
    expect([early.top, early.height]).toEqual([60, 180]); // 01:00-04:00 on the clock though only 2 h pass
    const fall = layoutDay([ev("noon", "12:00", "13:00", "2026-10-25"), { item: "late", start: at("2026-10-25", "22:00"), end: dayStart("2026-10-26", BERLIN) }], "2026-10-25", BERLIN);
    expect(fall.find((x) => x.item === "noon")!.top).toBe(720);
    const late = fall.find((x) => x.item === "late")!;
    expect([late.top, late.height, late.clippedEnd]).toEqual([1320, 120, false]);
    // An event inside the repeated hour (02:10 summer time to 02:20 winter time: 70 minutes) still gets its real length.
    const rep = layoutDay([{ item: "r", start: Date.UTC(2026, 9, 25, 0, 10), end: Date.UTC(2026, 9, 25, 1, 20) }], "2026-10-25", BERLIN);
    expect(rep[0]!.top).toBe(130);
    expect(rep[0]!.height).toBe(70);
  });

  test("the same instant lands at the user's wall time: a New York 10:00 meeting is 16:00 in Berlin", () => {
    const nyMeeting = { item: "ny", start: at("2026-12-07", "10:00", NY), end: at("2026-12-07", "11:00", NY) };
    const [p] = layoutDay([nyMeeting], "2026-12-07", BERLIN);
    expect(p!.top).toBe(16 * 60);
  });
});

describe("bars across days", () => {
  const span = (id: string, s: string, e: string) => ({ item: id, startDay: s, endDay: e });

  test("all-day and multi-day events stack in lanes, longer first", () => {
    const row = layoutBars([span("one", "2026-12-08", "2026-12-09"), span("long", "2026-12-07", "2026-12-11"), span("later", "2026-12-10", "2026-12-12")], "2026-12-07", 7);
    const by = Object.fromEntries(row.bars.map((b) => [b.item, b]));
    expect([by.long!.col, by.long!.span, by.long!.lane]).toEqual([0, 4, 0]);
    expect([by.one!.col, by.one!.span, by.one!.lane]).toEqual([1, 1, 1]);
    expect([by.later!.col, by.later!.span, by.later!.lane]).toEqual([3, 2, 1]); // lane 0 is taken on day 3 by "long"
    expect(row.lanes).toBe(2);
    expect(row.more).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });

  test("bars that begin before or end after the row are clipped and flagged", () => {
    const row = layoutBars([span("trip", "2026-12-03", "2026-12-16")], "2026-12-07", 7);
    expect(row.bars[0]).toMatchObject({ col: 0, span: 7, continuesBefore: true, continuesAfter: true });
    expect(layoutBars([span("past", "2026-12-01", "2026-12-07")], "2026-12-07", 7).bars).toEqual([]);
    expect(layoutBars([span("next", "2026-12-14", "2026-12-15")], "2026-12-07", 7).bars).toEqual([]);
  });

  test("with fewer lanes than events, each day counts what it could not show (+N more)", () => {
    const items = [span("a", "2026-12-09", "2026-12-10"), span("b", "2026-12-09", "2026-12-10"), span("c", "2026-12-09", "2026-12-10"), span("d", "2026-12-09", "2026-12-11"), span("e", "2026-12-07", "2026-12-08")];
    const row = layoutBars(items, "2026-12-07", 7, 2);
    expect(row.lanes).toBe(2);
    expect(row.bars.length).toBe(3);
    expect(row.more).toEqual([0, 0, 2, 0, 0, 0, 0]);
    expect(row.bars.find((b) => b.item === "d")!.lane).toBe(0); // the two-day bar is placed first
  });

  test("spanOf: all-day dates as given, timed events by the days they touch in the zone", () => {
    const allDay = { allDay: true, startDate: "2026-12-24", endDate: "2026-12-27", start: 0, end: 0 };
    expect(spanOf("x", allDay, BERLIN)).toEqual({ item: "x", startDay: "2026-12-24", endDay: "2026-12-27" });
    const night = { allDay: false, startDate: null, endDate: null, start: at("2026-12-06", "22:00"), end: at("2026-12-07", "00:00") };
    expect(spanOf("n", night, BERLIN)).toMatchObject({ startDay: "2026-12-06", endDay: "2026-12-07" }); // ends at midnight: one day
    const overnight = { ...night, end: at("2026-12-07", "02:00") };
    expect(spanOf("o", overnight, BERLIN)).toMatchObject({ startDay: "2026-12-06", endDay: "2026-12-08" });
    expect(isBar(allDay, BERLIN)).toBe(true);
    expect(isBar(overnight, BERLIN)).toBe(false);
    expect(isBar({ ...night, end: at("2026-12-09", "10:00") }, BERLIN)).toBe(true);
    // A Berlin all-day event covers its own dates whatever zone the instant math would give.
    expect(spanOf("y", { ...allDay, startDate: "2026-03-29", endDate: "2026-03-30" }, NY)).toMatchObject({ startDay: "2026-03-29", endDay: "2026-03-30" });
  });

  test("a week row starting on Sunday places a Monday event in column 1", () => {
    const row = layoutBars([span("m", "2026-12-07", "2026-12-08")], weekStart("2026-12-07", 7), 7);
    expect(row.bars[0]!.col).toBe(1);
    const rowMon = layoutBars([span("m", "2026-12-07", "2026-12-08")], weekStart("2026-12-07", 1), 7);
    expect(rowMon.bars[0]!.col).toBe(0);
  });
});

describe("catalog", () => {
  test("every cal.* key the calendar looks up is there in English, German, French and Spanish, and no language has a key English lacks", () => {
    const dir = join(import.meta.dir, "..", "..", "web", "src", "calendar");
    const used = new Set<string>();
    for (const f of readdirSync(dir).filter((n) => n.endsWith(".ts"))) {
      const src = readFileSync(join(dir, f), "utf8");
      for (const m of src.matchAll(/t\(\s*"(cal\.[\w.-]+)"/g)) used.add(m[1]!);
      for (const m of src.matchAll(/"(cal\.(?:respond|scope|rem)\.[\w-]+)"/g)) used.add(m[1]!);
    }
    // Keys built at run time: answers, ordinals, units, views.
    for (const p of ["NEEDS-ACTION", "ACCEPTED", "TENTATIVE", "DECLINED", "DELEGATED"]) used.add(`cal.answer.${p}`);
    for (const n of [1, 2, 3, 4, 5]) used.add(`cal.rec.nth${n}`);
    for (const f of ["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]) used.add(`cal.rec.unit.${f}`);
    for (const v of ["day", "workweek", "week", "month", "agenda"]) used.add(`cal.view.${v}`);
    expect(used.size).toBeGreaterThan(100);
    const en = new Set(registeredKeys("en").filter((k) => k.startsWith("cal.")));
    for (const lang of ["en", "de", "fr", "es"] as const) {
      const keys = new Set(registeredKeys(lang).filter((k) => k.startsWith("cal.")));
      expect([...used].filter((k) => !keys.has(k))).toEqual([]);
      expect([...keys].filter((k) => !en.has(k))).toEqual([]);
      expect(keys.size).toBe(en.size);
    }
  });
});
