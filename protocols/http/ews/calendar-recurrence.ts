/**
 * Recurrence of calendar items (Types.xsd RecurrenceType: one pattern,
 * RecurrencePatternBaseType's six calendar patterns, and one range,
 * RecurrenceRangeBaseType) <-> an RRULE (RFC 5545 §3.3.10).
 *
 * Patterns: DailyRecurrence (FREQ=DAILY), WeeklyRecurrence (WEEKLY with
 * BYDAY, FirstDayOfWeek = WKST), AbsoluteMonthlyRecurrence (BYMONTHDAY),
 * RelativeMonthlyRecurrence (BYDAY + BYSETPOS: "the second Tuesday"),
 * AbsoluteYearlyRecurrence (BYMONTH + BYMONTHDAY), RelativeYearlyRecurrence
 * (BYMONTH + BYDAY + BYSETPOS). Ranges: NoEndRecurrence, EndDateRecurrence
 * (UNTIL: the end of that date in the item's zone), NumberedRecurrence
 * (COUNT). A rule EWS cannot say (BYHOUR, several month days...) is shown
 * without Recurrence (IsRecurring stays true) and kept as stored.
 */
import ICAL from "ical.js";
import { EwsError } from "./context.ts";
import { midnightIn, type ItemZone } from "./calendar-zone.ts";
import { kid, kidText, t, tv, type XmlElement } from "./xml.ts";

const DAY = 86_400_000;
/** Types.xsd DayOfWeekType. */
const DAY_NAMES: Record<string, string> = { SU: "Sunday", MO: "Monday", TU: "Tuesday", WE: "Wednesday", TH: "Thursday", FR: "Friday", SA: "Saturday" };
const DAY_CODES: Record<string, string> = Object.fromEntries(Object.entries(DAY_NAMES).map(([k, v]) => [v, k]));
const WEEKDAYS = ["MO", "TU", "WE", "TH", "FR"];
const WEEKEND = ["SA", "SU"];
/** Types.xsd DayOfWeekIndexType <-> BYSETPOS. */
const INDEX_NAMES: Record<number, string> = { 1: "First", 2: "Second", 3: "Third", 4: "Fourth", [-1]: "Last" };
const INDEX_NUMBERS: Record<string, number> = { First: 1, Second: 2, Third: 3, Fourth: 4, Last: -1 };
/** Types.xsd MonthNamesType. */
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
/** Occurrences a NumberedRecurrence may ask for (Exchange's own limit is 999). */
export const MAX_OCCURRENCES = 999;
const MAX_INTERVAL = 999;

function ymd(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * A range date as Exchange writes it: the date with the item zone's offset
 * on that day ("2027-05-18+02:00"); clients (exchangelib) read a date with
 * an offset as a date, one without as a date-time.
 */
function zonedDate(dateMs: number, zone: ItemZone): string {
  const off = Math.round((dateMs - midnightIn(dateMs, zone)) / 60_000);
  const a = Math.abs(off);
  return `${ymd(dateMs)}${off < 0 ? "-" : "+"}${String(Math.floor(a / 60)).padStart(2, "0")}:${String(a % 60).padStart(2, "0")}`;
}

/** The DaysOfWeek value for a BYDAY list (Day / Weekday / WeekendDay for the relative patterns' sets). */
function daysText(codes: string[], relative: boolean): string | null {
  const set = [...new Set(codes)];
  if (!set.length || set.some((d) => !(d in DAY_NAMES))) return null;
  if (relative && set.length > 1) {
    const same = (list: string[]) => list.length === set.length && list.every((d) => set.includes(d));
    if (same(Object.keys(DAY_NAMES))) return "Day";
    if (same(WEEKDAYS)) return "Weekday";
    if (same(WEEKEND)) return "WeekendDay";
    return null;
  }
  return set.map((d) => DAY_NAMES[d]).join(" ");
}

/** BYDAY values of a rule without ordinal prefixes; null when some have one ("2TU": not a plain list). */
function plainDays(rule: ICAL.Recur): string[] | null {
  const by = (rule.parts.BYDAY ?? []) as string[];
  const out: string[] = [];
  for (const d of by) {
    if (!/^[A-Z]{2}$/.test(d)) return null;
    out.push(d);
  }
  return out;
}

/**
 * `<t:Recurrence>` for a rule of an item whose first start is `startMs` (its
 * wall date in `zone` is the range's StartDate); null when EWS cannot say it.
 */
export function recurrenceXml(rule: ICAL.Recur, startMs: number, startDate: number, zone: ItemZone): string | null {
  const parts = rule.parts;
  const allowed = new Set(["BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS"]);
  if (Object.keys(parts).some((k) => !allowed.has(k) && (parts as Record<string, unknown[]>)[k]?.length)) return null;
  const interval = Math.min(rule.interval || 1, MAX_INTERVAL);
  const monthDays = (parts.BYMONTHDAY ?? []) as number[];
  const months = (parts.BYMONTH ?? []) as number[];
  const setpos = (parts.BYSETPOS ?? []) as number[];
  let days = plainDays(rule);
  // A BYDAY with an ordinal ("2TU", "-1FR") and no BYSETPOS is the same as the plain day with that BYSETPOS.
  let pos: number | null = setpos.length === 1 ? setpos[0]! : setpos.length ? NaN : null;
  if (days === null) {
    const by = (parts.BYDAY ?? []) as string[];
    const m = by.length === 1 ? /^([+-]?\d)([A-Z]{2})$/.exec(by[0]!) : null;
    if (!m || pos !== null) return null;
    pos = Number(m[1]);
    days = [m[2]!];
  }
  if (pos !== null && !(pos in INDEX_NAMES)) return null;
  const start = new Date(startMs);
  let pattern: string | null = null;
  switch (rule.freq) {
    case "DAILY":
      if (days.length || monthDays.length || months.length || pos !== null) return null;
      pattern = t("DailyRecurrence", tv("Interval", interval));
      break;
    case "WEEKLY": {
      if (monthDays.length || months.length || pos !== null) return null;
      const list = days.length ? days : [Object.keys(DAY_NAMES)[start.getUTCDay()]!];
      const text = daysText(list, false);
      if (!text) return null;
      pattern = t("WeeklyRecurrence", tv("Interval", interval), tv("DaysOfWeek", text), tv("FirstDayOfWeek", DAY_NAMES[(rule.wkst && Object.keys(DAY_NAMES)[rule.wkst - 1]) || "MO"]));
      break;
    }
    case "MONTHLY":
      if (months.length) return null;
      if (pos !== null || days.length) {
        const text = days.length && pos !== null && !monthDays.length ? daysText(days, true) : null;
        if (!text) return null;
        pattern = t("RelativeMonthlyRecurrence", tv("Interval", interval), tv("DaysOfWeek", text), tv("DayOfWeekIndex", INDEX_NAMES[pos!]));
      } else {
        if (monthDays.length > 1 || (monthDays[0] ?? 1) < 1) return null;
        pattern = t("AbsoluteMonthlyRecurrence", tv("Interval", interval), tv("DayOfMonth", monthDays[0] ?? start.getUTCDate()));
      }
      break;
    case "YEARLY": {
      // EWS yearly patterns recur every year (no Interval).
      if (interval !== 1 || months.length > 1) return null;
      const month = MONTHS[(months[0] ?? start.getUTCMonth() + 1) - 1]!;
      if (pos !== null || days.length) {
        const text = days.length && pos !== null && !monthDays.length ? daysText(days, true) : null;
        if (!text) return null;
        pattern = t("RelativeYearlyRecurrence", tv("DaysOfWeek", text), tv("DayOfWeekIndex", INDEX_NAMES[pos!]), tv("Month", month));
      } else {
        if (monthDays.length > 1 || (monthDays[0] ?? 1) < 1) return null;
        pattern = t("AbsoluteYearlyRecurrence", tv("DayOfMonth", monthDays[0] ?? start.getUTCDate()), tv("Month", month));
      }
      break;
    }
    default:
      return null;
  }
  const sd = tv("StartDate", zonedDate(startDate, zone));
  let range: string;
  if (rule.count) range = t("NumberedRecurrence", sd, tv("NumberOfOccurrences", rule.count));
  else if (rule.until) {
    const u = rule.until;
    const untilDate = u.isDate ? Date.UTC(u.year, u.month - 1, u.day) : wallDateOfUntil(u, zone);
    range = t("EndDateRecurrence", sd, tv("EndDate", zonedDate(untilDate, zone)));
  } else range = t("NoEndRecurrence", sd);
  return t("Recurrence", pattern, range);
}

function wallDateOfUntil(u: ICAL.Time, zone: ItemZone): number {
  const ms = u.toUnixTime() * 1000;
  if (!zone.zone) return Math.floor(ms / DAY) * DAY;
  const c = u.convertToZone(zone.zone);
  return Date.UTC(c.year, c.month - 1, c.day);
}

function intIn(s: string | undefined, min: number, max: number, what: string): number {
  if (s === undefined || !/^\d{1,6}$/.test(s)) throw new EwsError("ErrorCalendarInvalidRecurrence", `${what} must be a number from ${min} to ${max}.`);
  const n = Number(s);
  if (n < min || n > max) throw new EwsError("ErrorCalendarInvalidRecurrence", `${what} must be a number from ${min} to ${max}.`);
  return n;
}

function dayCodes(text: string | undefined): string[] {
  const out: string[] = [];
  for (const w of (text ?? "").split(/\s+/).filter(Boolean)) {
    if (w === "Day") out.push(...Object.keys(DAY_NAMES));
    else if (w === "Weekday") out.push(...WEEKDAYS);
    else if (w === "WeekendDay") out.push(...WEEKEND);
    else if (DAY_CODES[w]) out.push(DAY_CODES[w]!);
    else throw new EwsError("ErrorCalendarInvalidRecurrence", `"${w.slice(0, 40)}" is not a day of the week.`);
  }
  if (!out.length) throw new EwsError("ErrorCalendarInvalidRecurrence", "DaysOfWeek names no day.");
  return [...new Set(out)];
}

function month(text: string | undefined): number {
  const i = MONTHS.indexOf(text ?? "");
  if (i < 0) throw new EwsError("ErrorCalendarInvalidRecurrence", "Month must be a month name.");
  return i + 1;
}

/** Types.xsd xs:date, possibly with a zone suffix ("2026-12-07", "2026-12-07Z", "2026-12-07+01:00"): UTC midnight of that date. */
export function parseDate(s: string | undefined, what: string): number {
  const m = s && /^(\d{4})-(\d{2})-(\d{2})(Z|[+-]\d{2}:\d{2})?$/.exec(s.trim());
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || !Number.isFinite(ms) || new Date(ms).getUTCDate() !== Number(m[3])) throw new EwsError("ErrorCalendarInvalidRecurrence", `${what} is not a date.`);
  return ms;
}

/**
 * The RRULE for a `<t:Recurrence>` of an item starting at `startMs` in `zone`
 * (all-day: UNTIL is a DATE). ErrorCalendarInvalidRecurrence for what is not one.
 */
export function ruleFromXml(rec: XmlElement, zone: ItemZone, allDay: boolean): ICAL.Recur {
  const pat = rec.children.find((k) => k.name.endsWith("Recurrence") && !/^(NoEnd|EndDate|Numbered)Recurrence$/.test(k.name));
  if (!pat) throw new EwsError("ErrorCalendarInvalidRecurrence", "The recurrence has no pattern.");
  const parts: Record<string, unknown> = {};
  let freq: string;
  let interval = 1;
  switch (pat.name) {
    case "DailyRecurrence":
      freq = "DAILY";
      interval = intIn(kidText(pat, "Interval"), 1, MAX_INTERVAL, "Interval");
      break;
    case "WeeklyRecurrence": {
      freq = "WEEKLY";
      interval = intIn(kidText(pat, "Interval"), 1, MAX_INTERVAL, "Interval");
      parts.BYDAY = dayCodes(kidText(pat, "DaysOfWeek"));
      const first = kidText(pat, "FirstDayOfWeek");
      if (first !== undefined) {
        if (!DAY_CODES[first]) throw new EwsError("ErrorCalendarInvalidRecurrence", "FirstDayOfWeek is not a day.");
        parts.WKST = DAY_CODES[first];
      }
      break;
    }
    case "AbsoluteMonthlyRecurrence":
      freq = "MONTHLY";
      interval = intIn(kidText(pat, "Interval"), 1, MAX_INTERVAL, "Interval");
      parts.BYMONTHDAY = [intIn(kidText(pat, "DayOfMonth"), 1, 31, "DayOfMonth")];
      break;
    case "RelativeMonthlyRecurrence":
      freq = "MONTHLY";
      interval = intIn(kidText(pat, "Interval"), 1, MAX_INTERVAL, "Interval");
      parts.BYDAY = dayCodes(kidText(pat, "DaysOfWeek"));
      parts.BYSETPOS = [relIndex(kidText(pat, "DayOfWeekIndex"))];
      break;
    case "AbsoluteYearlyRecurrence":
      freq = "YEARLY";
      parts.BYMONTH = [month(kidText(pat, "Month"))];
      parts.BYMONTHDAY = [intIn(kidText(pat, "DayOfMonth"), 1, 31, "DayOfMonth")];
      break;
    case "RelativeYearlyRecurrence":
      freq = "YEARLY";
      parts.BYMONTH = [month(kidText(pat, "Month"))];
      parts.BYDAY = dayCodes(kidText(pat, "DaysOfWeek"));
      parts.BYSETPOS = [relIndex(kidText(pat, "DayOfWeekIndex"))];
      break;
    default:
      throw new EwsError("ErrorCalendarInvalidRecurrence", `${pat.name} is not a calendar recurrence pattern.`);
  }
  const data: Record<string, unknown> = { freq, interval };
  const wkst = parts.WKST;
  delete parts.WKST;
  const numbered = kid(rec, "NumberedRecurrence");
  const endDate = kid(rec, "EndDateRecurrence");
  const noEnd = kid(rec, "NoEndRecurrence");
  const range = numbered ?? endDate ?? noEnd;
  if (!range) throw new EwsError("ErrorCalendarInvalidRecurrence", "The recurrence has no range.");
  const start = parseDate(kidText(range, "StartDate"), "StartDate");
  if (numbered) data.count = intIn(kidText(numbered, "NumberOfOccurrences"), 1, MAX_OCCURRENCES, "NumberOfOccurrences");
  if (endDate) {
    const end = parseDate(kidText(endDate, "EndDate"), "EndDate");
    if (end < start) throw new EwsError("ErrorCalendarInvalidRecurrence", "EndDate is before StartDate.");
    if (allDay) {
      const d = new Date(end);
      data.until = new ICAL.Time({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), isDate: true }, ICAL.Timezone.localTimezone);
    } else {
      // The last instance may start any time on EndDate (in the item's zone): UNTIL is the last second of that day, in UTC.
      const last = midnightIn(end + DAY, zone) - 1000;
      const u = new ICAL.Time({ year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0, isDate: false }, ICAL.Timezone.utcTimezone);
      u.fromUnixTime(last / 1000);
      u.zone = ICAL.Timezone.utcTimezone;
      data.until = u;
    }
  }
  const rule = new ICAL.Recur({ ...data, parts } as ConstructorParameters<typeof ICAL.Recur>[0]);
  if (wkst) rule.wkst = ICAL.Recur.icalDayToNumericDay(wkst as string, ICAL.Time.SUNDAY);
  return rule;
}

function relIndex(s: string | undefined): number {
  const n = s !== undefined ? INDEX_NUMBERS[s] : undefined;
  if (n === undefined) throw new EwsError("ErrorCalendarInvalidRecurrence", "DayOfWeekIndex must be First, Second, Third, Fourth or Last.");
  return n;
}

/** The StartDate of a Recurrence element (the range's), for checks by the caller. */
export function recurrenceStartDate(rec: XmlElement): number | null {
  const range = kid(rec, "NumberedRecurrence") ?? kid(rec, "EndDateRecurrence") ?? kid(rec, "NoEndRecurrence");
  const s = kidText(range, "StartDate");
  return s === undefined ? null : parseDate(s, "StartDate");
}
