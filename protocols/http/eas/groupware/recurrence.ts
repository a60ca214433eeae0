/**
 * ActiveSync Recurrence <-> iCalendar RRULE, for events (MS-ASCAL §2.2.2.38
 * Recurrence, Calendar namespace) and tasks (MS-ASTASK §2.2.2.20 Recurrence,
 * Tasks namespace: the same pattern plus Start, Regenerate and DeadOccur,
 * which the task codec handles).
 *
 * EAS patterns (Type): 0 daily, 1 weekly (DayOfWeek), 2 monthly on a day
 * (DayOfMonth), 3 monthly on the nth weekday (WeekOfMonth 1-5, 5 = last,
 * DayOfWeek), 5 yearly on a date (MonthOfYear + DayOfMonth), 6 yearly on the
 * nth weekday of a month. DayOfWeek is a bitmask Sunday = 1 ... Saturday =
 * 64; 127 = "day", 62 = "weekday", 65 = "weekend day" (with WeekOfMonth:
 * "the last weekday of the month" ...).
 *
 * An RRULE EAS cannot express (sub-daily frequencies, BYHOUR, several
 * months, BYSETPOS lists, BYWEEKNO ...) gives null: the item goes to the
 * device without a Recurrence, and the device never sends one back unless
 * the user edits the pattern, so the stored RRULE stays.
 */
import ICAL from "ical.js";
import { EasDataError, easCompactDate, parseEasDate } from "./codec.ts";
import { el, kidText, type WElement } from "../wbxml/tree.ts";

export type RecurrenceNs = "Calendar" | "Tasks";

const DAYS = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"] as const;
/** MS-ASCAL §2.2.2.14 DayOfWeek: every day of the week (with WeekOfMonth: "the nth day"). */
const ALL_DAYS = 127;
/** Highest Interval and Occurrences accepted from a device: Outlook's own limit is 999 for both. */
const MAX_INTERVAL = 999;
const MAX_OCCURRENCES = 999;

// ---------------------------------------------------------------- RRULE -> EAS

interface Pattern {
  type: number;
  dayOfWeek?: number;
  dayOfMonth?: number;
  weekOfMonth?: number;
  monthOfYear?: number;
}

/** "2MO" -> [2, 1]; "TU" -> [0, 2]; null for an unreadable value. */
function splitDay(v: string): [number, number] | null {
  const m = /^([+-]?\d{1,2})?(SU|MO|TU|WE|TH|FR|SA)$/i.exec(v.trim());
  if (!m) return null;
  return [m[1] ? Number(m[1]) : 0, DAYS.indexOf(m[2]!.toUpperCase() as (typeof DAYS)[number])];
}

function maskOf(days: number[]): number {
  return days.reduce((a, d) => a | (1 << d), 0);
}

/** EAS WeekOfMonth of an ordinal: 1-4 as is, -1 (last) is 5; other ordinals cannot be expressed. */
function weekOf(n: number): number | null {
  if (n >= 1 && n <= 4) return n;
  if (n === -1) return 5;
  return null;
}

function patternOf(rule: ICAL.Recur, start: ICAL.Time): Pattern | null {
  const parts = rule.parts as Record<string, unknown[] | undefined>;
  const allowed = new Set(["BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS"]);
  for (const [k, v] of Object.entries(parts)) if (v && v.length && !allowed.has(k)) return null;
  const byday = (parts.BYDAY ?? []).map((v) => splitDay(String(v)));
  if (byday.some((d) => d === null)) return null;
  const days = byday as [number, number][];
  const monthDays = (parts.BYMONTHDAY ?? []).map(Number);
  const months = (parts.BYMONTH ?? []).map(Number);
  const setPos = (parts.BYSETPOS ?? []).map(Number);
  const plainDays = days.every(([n]) => n === 0);
  const startDow = start.dayOfWeek() - 1;

  switch (rule.freq) {
    case "DAILY":
      if (monthDays.length || months.length || setPos.length) return null;
      if (!days.length) return { type: 0 };
      // Daily limited to some weekdays is weekly on those days when it runs every day (interval 1).
      if (!plainDays || (rule.interval ?? 1) !== 1) return null;
      return { type: 1, dayOfWeek: maskOf(days.map(([, d]) => d)) };
    case "WEEKLY":
      if (monthDays.length || months.length || setPos.length || !plainDays) return null;
      return { type: 1, dayOfWeek: days.length ? maskOf(days.map(([, d]) => d)) : 1 << startDow };
    case "MONTHLY":
    case "YEARLY": {
      const yearly = rule.freq === "YEARLY";
      if (!yearly && months.length) return null;
      if (months.length > 1) return null;
      const month = yearly ? (months[0] ?? start.month) : undefined;
      const nth = yearly ? 6 : 3;
      const onDate = yearly ? 5 : 2;
      if (days.length === 0) {
        if (setPos.length || monthDays.length > 1) return null;
        const dom = monthDays[0] ?? start.day;
        if (dom === -1) return { type: nth, dayOfWeek: ALL_DAYS, weekOfMonth: 5, monthOfYear: month };
        if (dom < 1 || dom > 31) return null;
        return { type: onDate, dayOfMonth: dom, monthOfYear: month };
      }
      if (monthDays.length) return null;
      if (days.length === 1 && !setPos.length) {
        const w = weekOf(days[0]![0]);
        if (w === null) return null;
        return { type: nth, dayOfWeek: 1 << days[0]![1], weekOfMonth: w, monthOfYear: month };
      }
      // Several plain weekdays picked by one BYSETPOS: "the last weekday", "the first weekend day".
      if (!plainDays || setPos.length !== 1) return null;
      const w = weekOf(setPos[0]!);
      if (w === null) return null;
      return { type: nth, dayOfWeek: maskOf(days.map(([, d]) => d)), weekOfMonth: w, monthOfYear: month };
    }
    default:
      // SECONDLY, MINUTELY, HOURLY.
      return null;
  }
}

/** UTC ms of an UNTIL value: UTC as is, a zoned one through its zone, floating and DATE values as if UTC. */
function untilMs(until: ICAL.Time, start: ICAL.Time): number {
  if (until.isDate) {
    // The last day's occurrence at the start's time of day.
    const t = start.clone();
    t.year = until.year;
    t.month = until.month;
    t.day = until.day;
    if (start.isDate) return Date.UTC(until.year, until.month - 1, until.day);
    return wallMs(t);
  }
  return wallMs(until);
}

function wallMs(t: ICAL.Time): number {
  const z = t.zone;
  if (z && z !== ICAL.Timezone.localTimezone && z.tzid !== "floating") return t.toUnixTime() * 1000;
  return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
}

/** The EAS Recurrence element for an RRULE, or null when EAS cannot express it (BYSETPOS lists, BYHOUR, several BYMONTH, SECONDLY..HOURLY...). `start` is the DTSTART (local wall-clock of the event's zone). */
export function recurrenceToEas(rule: ICAL.Recur, start: ICAL.Time, ns: RecurrenceNs, version: number): WElement | null {
  const p = patternOf(rule, start);
  if (!p) return null;
  const interval = rule.interval ?? 1;
  if (!Number.isInteger(interval) || interval < 1 || interval > MAX_INTERVAL) return null;
  const count = rule.count ?? undefined;
  // A device may send back at most 999 Occurrences (recurrenceFromEas): a longer count would come back refused.
  if (count !== undefined && (count < 1 || count > MAX_OCCURRENCES)) return null;
  const until = rule.until ? untilMs(rule.until, start) : undefined;
  const q = (name: string, ...c: (string | number | null | undefined | WElement)[]) => el(`${ns}:${name}`, ...c);
  // FirstDayOfWeek exists from 14.1 on (MS-ASCAL §2.2.2.23); ical.js numbers days 1 = Sunday, EAS 0 = Sunday.
  const fdow = version >= 141 && rule.wkst ? rule.wkst - 1 : undefined;
  if (ns === "Calendar") {
    // Element order of the MS-ASCAL schema.
    return q(
      "Recurrence",
      q("Type", p.type),
      count !== undefined ? q("Occurrences", count) : null,
      interval !== 1 ? q("Interval", interval) : null,
      p.weekOfMonth !== undefined ? q("WeekOfMonth", p.weekOfMonth) : null,
      p.dayOfWeek !== undefined ? q("DayOfWeek", p.dayOfWeek) : null,
      p.monthOfYear !== undefined ? q("MonthOfYear", p.monthOfYear) : null,
      until !== undefined && count === undefined ? q("Until", easCompactDate(until)) : null,
      p.dayOfMonth !== undefined ? q("DayOfMonth", p.dayOfMonth) : null,
      fdow !== undefined ? q("FirstDayOfWeek", fdow) : null,
    );
  }
  // MS-ASTASK §2.2.2.20: Start is required; task dates are the extended ISO form.
  return q(
    "Recurrence",
    q("Type", p.type),
    q("Start", new Date(wallMs(start)).toISOString()),
    until !== undefined && count === undefined ? q("Until", new Date(until).toISOString()) : null,
    count !== undefined ? q("Occurrences", count) : null,
    q("Interval", interval),
    p.dayOfMonth !== undefined ? q("DayOfMonth", p.dayOfMonth) : null,
    p.dayOfWeek !== undefined ? q("DayOfWeek", p.dayOfWeek) : null,
    p.weekOfMonth !== undefined ? q("WeekOfMonth", p.weekOfMonth) : null,
    p.monthOfYear !== undefined ? q("MonthOfYear", p.monthOfYear) : null,
    fdow !== undefined ? q("FirstDayOfWeek", fdow) : null,
  );
}

// ---------------------------------------------------------------- EAS -> RRULE

function intField(rec: WElement, ns: RecurrenceNs, name: string, min: number, max: number): number | undefined {
  const raw = kidText(rec, `${ns}:${name}`);
  if (raw === undefined) return undefined;
  const t = raw.trim();
  if (!/^\d{1,9}$/.test(t)) throw new EasDataError(`Recurrence ${name} ${JSON.stringify(t.slice(0, 20))} is not a number`);
  const n = Number(t);
  if (n < min || n > max) throw new EasDataError(`Recurrence ${name} ${n} is out of range ${min}..${max}`);
  return n;
}

function daysOfMask(mask: number): string[] {
  return DAYS.filter((_, i) => mask & (1 << i));
}

/** Days in a month of a leap year: a yearly date must occur at least once in four years. */
const MAX_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Gregorian CalendarType values (MS-ASCAL §2.2.2.11): default, Gregorian, US, Middle East French, Arabic, transliterated English/French. */
const GREGORIAN = new Set([0, 1, 2, 9, 10, 11, 12]);

/** The RRULE for a device's Recurrence element. Throws EasDataError for nonsense (unknown Type, Interval 0 or > 999, Occurrences > 999, DayOfWeek 0 for weekly, DayOfMonth 32, invalid Until...). */
export function recurrenceFromEas(rec: WElement, start: ICAL.Time, ns: RecurrenceNs): ICAL.Recur {
  const type = intField(rec, ns, "Type", 0, 6);
  if (type === undefined) throw new EasDataError("Recurrence without Type");
  if (type === 4) throw new EasDataError("Recurrence Type 4 is not defined");
  const interval = intField(rec, ns, "Interval", 1, MAX_INTERVAL) ?? 1;
  const occurrences = intField(rec, ns, "Occurrences", 1, MAX_OCCURRENCES);
  const dayOfWeek = intField(rec, ns, "DayOfWeek", 1, ALL_DAYS);
  const dayOfMonth = intField(rec, ns, "DayOfMonth", 1, 31);
  const weekOfMonth = intField(rec, ns, "WeekOfMonth", 1, 5);
  const monthOfYear = intField(rec, ns, "MonthOfYear", 1, 12);
  const fdow = intField(rec, ns, "FirstDayOfWeek", 0, 6);
  const calendarType = intField(rec, ns, "CalendarType", 0, 23);
  const leap = intField(rec, ns, "IsLeapMonth", 0, 1);
  // Non-Gregorian calendars (Hijri, Hebrew, lunar...) need RSCALE (RFC 7529), which the store's ical.js cannot expand.
  if (calendarType !== undefined && !GREGORIAN.has(calendarType)) throw new EasDataError(`Recurrence CalendarType ${calendarType} is not supported`);
  if (leap === 1) throw new EasDataError("Recurrence IsLeapMonth needs a lunar calendar");

  const parts: string[] = [];
  const nthDays = (): string => {
    if (dayOfWeek === undefined) throw new EasDataError(`Recurrence Type ${type} needs DayOfWeek`);
    if (weekOfMonth === undefined) throw new EasDataError(`Recurrence Type ${type} needs WeekOfMonth`);
    const n = weekOfMonth === 5 ? -1 : weekOfMonth;
    const days = daysOfMask(dayOfWeek);
    if (dayOfWeek === ALL_DAYS) return `BYMONTHDAY=${n}`;
    if (days.length === 1) return `BYDAY=${n}${days[0]}`;
    return `BYDAY=${days.join(",")};BYSETPOS=${n}`;
  };
  switch (type) {
    case 0:
      parts.push("FREQ=DAILY");
      // Some devices send "every weekday" as daily with a DayOfWeek mask.
      if (dayOfWeek !== undefined && dayOfWeek !== ALL_DAYS) parts.push(`BYDAY=${daysOfMask(dayOfWeek).join(",")}`);
      break;
    case 1:
      parts.push("FREQ=WEEKLY");
      parts.push(`BYDAY=${daysOfMask(dayOfWeek ?? 1 << (start.dayOfWeek() - 1)).join(",")}`);
      break;
    case 2:
      parts.push("FREQ=MONTHLY", `BYMONTHDAY=${dayOfMonth ?? start.day}`);
      break;
    case 3:
      parts.push("FREQ=MONTHLY", nthDays());
      break;
    case 5: {
      const m = monthOfYear ?? start.month;
      const d = dayOfMonth ?? start.day;
      // February 30th never happens: a rule with no instance at all.
      if (d > MAX_DAYS[m - 1]!) throw new EasDataError(`Recurrence day ${d} does not exist in month ${m}`);
      parts.push("FREQ=YEARLY", `BYMONTH=${m}`, `BYMONTHDAY=${d}`);
      break;
    }
    case 6:
      parts.push("FREQ=YEARLY", `BYMONTH=${monthOfYear ?? start.month}`, nthDays());
      break;
  }
  if (interval !== 1) parts.push(`INTERVAL=${interval}`);
  if (fdow !== undefined) parts.push(`WKST=${DAYS[fdow]}`);
  const untilText = kidText(rec, `${ns}:Until`);
  if (occurrences !== undefined) parts.push(`COUNT=${occurrences}`);
  else if (untilText !== undefined && untilText.trim() !== "") parts.push(`UNTIL=${untilValue(parseEasDate(untilText), start)}`);
  try {
    return ICAL.Recur.fromString(parts.join(";"));
  } catch (e) {
    throw new EasDataError(`Recurrence cannot be read: ${(e as Error).message}`);
  }
}

/**
 * UNTIL for a device's Until (RFC 5545 §3.3.10: a DATE for an all-day
 * start, UTC otherwise). A device sends an all-day Until as its local
 * midnight in UTC: late in the previous UTC day east of Greenwich, early
 * in the same day west of it, so a time past noon is read as the next day.
 */
function untilValue(ms: number, start: ICAL.Time): string {
  const d = new Date(ms);
  if (start.isDate) {
    const day = d.getUTCHours() >= 12 ? new Date(ms + 86_400_000) : d;
    return day.toISOString().slice(0, 10).replace(/-/g, "");
  }
  return easCompactDate(ms);
}
