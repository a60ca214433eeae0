/**
 * Speed figures for the iCalendar layer alone: `bun scripts/bench/dav/ical-speed.ts`
 * (printed; the checks only make sure the work was done).
 * The bench goal this serves: a one-month calendar-query over 10,000
 * events in under 50 ms, where the store's time-range index pre-filters
 * and only candidates are parsed (once, the service caches) and expanded.
 */
import { expandInstances, parseCalendarObject, vtimezoneFor } from "../../../src/groupware/ical/index.ts";

const TZ = vtimezoneFor("Europe/Berlin")!;
const pad = (n: number) => String(n).padStart(2, "0");

function event(i: number, recurring: boolean): string {
  const day = 1 + (i % 28);
  const hour = 8 + (i % 10);
  return (
    `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n${recurring ? TZ : ""}BEGIN:VEVENT\r\nUID:ev-${i}@bench.example\r\nDTSTAMP:20260101T000000Z\r\n` +
    (recurring
      ? `DTSTART;TZID=Europe/Berlin:2025${pad(1 + (i % 12))}${pad(day)}T${pad(hour)}0000\r\nDTEND;TZID=Europe/Berlin:2025${pad(1 + (i % 12))}${pad(day)}T${pad(hour)}3000\r\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE\r\n`
      : `DTSTART:2026${pad(1 + (i % 12))}${pad(day)}T${pad(hour)}0000Z\r\nDTEND:2026${pad(1 + (i % 12))}${pad(day)}T${pad(hour)}3000Z\r\n`) +
    `SUMMARY:Event ${i}\r\nLOCATION:Room ${i % 20}\r\nORGANIZER:mailto:alice@example.org\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`
  );
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`ical-speed: ${what}`);
}

{
  const texts = Array.from({ length: 10_000 }, (_, i) => new TextEncoder().encode(event(i, i % 10 === 0)));
  const t0 = performance.now();
  const objs = texts.map((t) => parseCalendarObject(t));
  const parseMs = performance.now() - t0;
  check(objs.filter((o) => o.calendarFields!.isRecurring).length === 1000, "1,000 recurring events expected");

  const month = { start: Date.UTC(2026, 2, 1), end: Date.UTC(2026, 3, 1) };
  const recurring = objs.filter((o) => o.calendarFields!.isRecurring);
  const t1 = performance.now();
  let n = 0;
  for (const o of recurring) n += expandInstances(o, month).length;
  const expandMs = performance.now() - t1;
  // March 2026 has 5 Mondays and 4 Wednesdays.
  check(n === 9000, `9,000 instances expected, got ${n}`);

  const t2 = performance.now();
  for (const o of recurring) expandInstances(o, month);
  const again = performance.now() - t2;
  console.log(
    `ical figures: parse+fields ${parseMs.toFixed(0)} ms for 10,000 events (${((parseMs / 10_000) * 1000).toFixed(0)} us each); ` +
      `one-month expansion of 1,000 weekly events ${expandMs.toFixed(1)} ms (${((expandMs / 1000) * 1000).toFixed(0)} us each), ${again.toFixed(1)} ms again`,
  );
}
