/**
 * utcToWall (src/groupware/ical/zones.ts) against the runtime's own time
 * zone data (Intl): every half hour across the days the clocks change, in
 * zones with forward and backward changes, a southern-hemisphere zone and
 * Lord Howe's half-hour change. ical.js alone gets the hour after a spring
 * change wrong (it lands in the gap).
 */
import { expect, test } from "bun:test";
import ICAL from "ical.js";
import { globalZone, utcToWall } from "../../src/groupware/ical/zones.ts";

function intlWall(ms: number, tz: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(ms);
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  return `${get("year")}-${get("month")}-${get("day")}T${get("hour")}:${get("minute")}`;
}

const cases: [string, string][] = [
  ["Europe/Berlin", "2026-03-28T20:00:00Z"],
  ["Europe/Berlin", "2026-10-24T20:00:00Z"],
  ["America/New_York", "2026-03-08T03:00:00Z"],
  ["America/New_York", "2026-11-01T02:00:00Z"],
  ["Australia/Sydney", "2026-04-04T12:00:00Z"],
  ["Australia/Sydney", "2026-10-03T12:00:00Z"],
  ["Australia/Lord_Howe", "2026-04-04T12:00:00Z"],
  ["Australia/Lord_Howe", "2026-10-03T12:00:00Z"],
];

for (const [tz, from] of cases) {
  test(`utcToWall matches Intl across the change in ${tz} from ${from}`, () => {
    const zone = globalZone(tz);
    expect(zone).not.toBeNull();
    const start = Date.parse(from);
    const wrong: string[] = [];
    for (let ms = start; ms < start + 12 * 3600_000; ms += 30 * 60_000) {
      const w = utcToWall(ICAL.Time.fromJSDate(new Date(ms), true), zone!);
      const got = w.toString().slice(0, 16);
      const want = intlWall(ms, tz);
      if (got !== want) wrong.push(`${new Date(ms).toISOString()}: ${got} (Intl ${want})`);
    }
    expect(wrong).toEqual([]);
  });
}
