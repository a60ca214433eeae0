/**
 * Calendar date arithmetic in a named IANA zone, without a date library.
 *
 * A day is a key "YYYY-MM-DD" (a calendar date, zone-free: adding days to it
 * is plain arithmetic on Date.UTC); an instant is UTC ms. The zone enters only
 * where the two meet: the instant a day starts in the user's zone, and the
 * day and wall-clock minute an instant falls on. Offsets come from Intl
 * (the browser's tz database) and are cached per 15-minute slot, since every
 * zone rule of the tz database changes on a quarter hour: a month view of
 * 2,000 events asks Intl a few hundred times, not thousands.
 *
 * Pure functions (no DOM): unit-tested in tests/webmail/calendar-layout.test.ts.
 */

const DAY = 86_400_000;
const SLOT = 900_000;

const partsFmt = new Map<string, Intl.DateTimeFormat>();
const offsets = new Map<string, Map<number, number>>();

function fmtFor(tz: string): Intl.DateTimeFormat {
  let f = partsFmt.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" });
    partsFmt.set(tz, f);
  }
  return f;
}

/** The zone's offset from UTC at instant `ms`, in ms (positive east of Greenwich). */
export function zoneOffset(ms: number, tz: string): number {
  let cache = offsets.get(tz);
  if (!cache) {
    cache = new Map();
    offsets.set(tz, cache);
  }
  const slot = Math.floor(ms / SLOT);
  const hit = cache.get(slot);
  if (hit !== undefined) return hit;
  const at = slot * SLOT;
  const p: Record<string, number> = {};
  for (const part of fmtFor(tz).formatToParts(at)) if (part.type !== "literal") p[part.type] = Number(part.value);
  const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour! % 24, p.minute!, p.second!);
  const off = wall - at;
  if (cache.size > 50_000) cache.clear();
  cache.set(slot, off);
  return off;
}

/** Year, month (1-12), day, hour, minute of an instant in the zone. */
export function wallParts(ms: number, tz: string): { y: number; m: number; d: number; hh: number; mm: number } {
  const t = new Date(ms + zoneOffset(ms, tz));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate(), hh: t.getUTCHours(), mm: t.getUTCMinutes() };
}

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

/** "YYYY-MM-DD" of year, month (1-12), day. */
export function keyOf(y: number, m: number, d: number): string {
  return `${pad(y, 4)}-${pad(m)}-${pad(d)}`;
}

/** Parses "YYYY-MM-DD" (a real date) or returns null. */
export function parseKey(key: string): { y: number; m: number; d: number } | null {
  const mt = /^(\d{4})-(\d{2})-(\d{2})$/.exec(key);
  if (!mt) return null;
  const y = Number(mt[1]);
  const m = Number(mt[2]);
  const d = Number(mt[3]);
  const t = new Date(Date.UTC(y, m - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== m - 1 || t.getUTCDate() !== d) return null;
  return { y, m, d };
}

function keyParts(key: string): { y: number; m: number; d: number } {
  const p = parseKey(key);
  if (!p) throw new RangeError(`not a date: ${key}`);
  return p;
}

/** The day an instant falls on in the zone. */
export function dayKey(ms: number, tz: string): string {
  const p = wallParts(ms, tz);
  return keyOf(p.y, p.m, p.d);
}

/** Minutes since local midnight of an instant in the zone (wall clock: 0..1439). */
export function wallMinutes(ms: number, tz: string): number {
  const p = wallParts(ms, tz);
  return p.hh * 60 + p.mm;
}

export function addDays(key: string, n: number): string {
  const p = keyParts(key);
  const t = new Date(Date.UTC(p.y, p.m - 1, p.d + n));
  return keyOf(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate());
}

export function addMonths(key: string, n: number): string {
  const p = keyParts(key);
  const first = new Date(Date.UTC(p.y, p.m - 1 + n, 1));
  const y = first.getUTCFullYear();
  const m = first.getUTCMonth() + 1;
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return keyOf(y, m, Math.min(p.d, last));
}

const dayNumbers = new Map<string, number>();

/** Days since 1970-01-01 of a day key (cached: the month view compares thousands of keys per render). */
export function dayNumber(key: string): number {
  let n = dayNumbers.get(key);
  if (n === undefined) {
    const p = keyParts(key);
    n = Math.round(Date.UTC(p.y, p.m - 1, p.d) / DAY);
    if (dayNumbers.size > 20_000) dayNumbers.clear();
    dayNumbers.set(key, n);
  }
  return n;
}

/** Whole days from a to b (b - a). */
export function daysBetween(a: string, b: string): number {
  return dayNumber(b) - dayNumber(a);
}

/** ISO weekday of a day: Monday = 1 .. Sunday = 7 (the numbering of firstDayOfWeek()). */
export function isoWeekday(key: string): number {
  const p = keyParts(key);
  const wd = new Date(Date.UTC(p.y, p.m - 1, p.d)).getUTCDay();
  return wd === 0 ? 7 : wd;
}

/** The first day of the week containing `key`, for a week starting on `firstDay` (1 = Monday .. 7 = Sunday). */
export function weekStart(key: string, firstDay: number): string {
  const back = (isoWeekday(key) - firstDay + 7) % 7;
  return addDays(key, -back);
}

/**
 * The instant a wall-clock time of a day begins in the zone. A time that does
 * not exist (inside a spring-forward gap) moves forward by the gap, as RFC 5545
 * §3.3.5 asks of a DATE-TIME in a gap; a time that exists twice (fall-back)
 * gives the first.
 */
export function wallToMs(key: string, minutes: number, tz: string): number {
  const p = keyParts(key);
  const guess = Date.UTC(p.y, p.m - 1, p.d, 0, minutes);
  const o1 = zoneOffset(guess - zoneOffset(guess, tz), tz);
  const o0 = zoneOffset(guess - o1 - 3 * 3_600_000, tz);
  // The earlier offset first: for a repeated hour this is the first pass.
  if (zoneOffset(guess - o0, tz) === o0) return guess - o0;
  if (zoneOffset(guess - o1, tz) === o1) return guess - o1;
  // In a gap: neither offset maps back to this wall time; the pre-gap offset lands after the gap.
  return guess - o0;
}

/** The instant the day begins in the zone (local midnight, or the first instant of a day whose midnight is skipped). */
export function dayStart(key: string, tz: string): number {
  return wallToMs(key, 0, tz);
}

/** Today's key in the zone. */
export function today(tz: string, now: number = Date.now()): string {
  return dayKey(now, tz);
}

/** "YYYY-MM-DDTHH:MM" of an instant in the zone (EventData's wall-clock form). */
export function wallString(ms: number, tz: string): string {
  const p = wallParts(ms, tz);
  return `${keyOf(p.y, p.m, p.d)}T${pad(p.hh)}:${pad(p.mm)}`;
}

/** Parses "YYYY-MM-DDTHH:MM" in the zone to UTC ms, or null when malformed. */
export function wallStringToMs(s: string, tz: string): number | null {
  const mt = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})/.exec(s);
  if (!mt || !parseKey(mt[1]!)) return null;
  const hh = Number(mt[2]);
  const mm = Number(mt[3]);
  if (hh > 23 || mm > 59) return null;
  return wallToMs(mt[1]!, hh * 60 + mm, tz);
}

/** The days of a month grid: whole weeks from the week containing the 1st to the week containing the last day. */
export function monthWeeks(anyDayOfMonth: string, firstDay: number): string[][] {
  const p = keyParts(anyDayOfMonth);
  const first = keyOf(p.y, p.m, 1);
  const last = keyOf(p.y, p.m, new Date(Date.UTC(p.y, p.m, 0)).getUTCDate());
  const weeks: string[][] = [];
  for (let w = weekStart(first, firstDay); daysBetween(w, last) >= 0; w = addDays(w, 7)) {
    weeks.push(Array.from({ length: 7 }, (_, i) => addDays(w, i)));
  }
  return weeks;
}
