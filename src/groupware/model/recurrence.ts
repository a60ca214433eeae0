/**
 * RRULE (RFC 5545 §3.3.10) ⇄ the editor's RecurrenceRule. What the shape
 * cannot show (BYHOUR, BYWEEKNO, sub-daily frequencies, several RRULEs,
 * RDATE) is read with `complex: true`, and a rule written back with
 * `complex: true` leaves the stored recurrence untouched, so a CalDAV
 * client's rule is never simplified by a webmail edit.
 */
import ICAL from "ical.js";
import { checkRule } from "../ical/rules.ts";
import { timeProp } from "../ical/spans.ts";
import { timeToMs } from "../ical/zones.ts";
import type { Frequency, RecurrenceRule, Weekday } from "./types.ts";
import { ModelError, addDays, formatDate, parseDate, wallOf, wallToMs, type WallParts } from "./time.ts";

export const MAX_INTERVAL = 1000;
export const MAX_COUNT = 10_000;
const FREQS: readonly Frequency[] = ["DAILY", "WEEKLY", "MONTHLY", "YEARLY"];
const WEEKDAYS: readonly Weekday[] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
/** BY-parts the shape shows; any other makes the rule complex. */
const SHOWN = new Set(["BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS"]);

/** How the event's start is written: a DATE, a floating time, or a time in a zone (or UTC). */
export interface StartForm {
  date: boolean;
  /** The zone of DTSTART (null for a DATE or a floating time). */
  zone: ICAL.Timezone | null;
  /** The zone floating times are read in (the user's), for UNTIL of a floating event. */
  floating: ICAL.Timezone | null;
}

function numList(v: unknown): number[] {
  return (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is number => typeof x === "number");
}

function strList(v: unknown): string[] {
  return (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string => typeof x === "string");
}

/** The recurrence of a master component as the editor shows it, null when it does not recur. */
export function ruleFromComponent(master: ICAL.Component, form: StartForm): RecurrenceRule | null {
  const rrules = master.getAllProperties("rrule");
  const hasRdate = master.getAllProperties("rdate").length > 0;
  if (!rrules.length && !hasRdate) return null;
  const empty: RecurrenceRule = { freq: "DAILY", interval: 1, byDay: [], byMonthDay: [], byMonth: [], bySetPos: [], count: null, until: null, complex: true };
  if (!rrules.length) return empty;
  const v = rrules[0]!.getFirstValue();
  if (!(v instanceof ICAL.Recur)) return empty;
  const parts = (v.parts ?? {}) as Record<string, unknown>;
  let complex = rrules.length > 1 || hasRdate;
  const freq = String(v.freq ?? "").toUpperCase();
  if (!(FREQS as readonly string[]).includes(freq)) complex = true;
  for (const k of Object.keys(parts)) if (!SHOWN.has(k) && numList(parts[k]).length + strList(parts[k]).length > 0) complex = true;
  let until: string | null = null;
  if (v.until) {
    const u = v.until;
    if (u.isDate) until = formatDate(u);
    else if (u.zone === ICAL.Timezone.utcTimezone || (u.zone && u.zone.tzid === "UTC")) {
      // RFC 5545 §3.3.10: a UTC UNTIL of a zoned event; its date in the event's zone.
      until = formatDate(wallOf(u.toUnixTime() * 1000, form.zone ?? form.floating));
    } else until = formatDate(u);
  }
  return {
    freq: (FREQS as readonly string[]).includes(freq) ? (freq as Frequency) : "DAILY",
    interval: Number.isSafeInteger(v.interval) && v.interval >= 1 ? v.interval : 1,
    byDay: strList(parts["BYDAY"]).map((d) => d.toUpperCase().replace(/^\+/, "")),
    byMonthDay: numList(parts["BYMONTHDAY"]),
    byMonth: numList(parts["BYMONTH"]),
    bySetPos: numList(parts["BYSETPOS"]),
    count: typeof v.count === "number" && v.count > 0 ? v.count : null,
    until,
    complex,
  };
}

function intList(v: unknown, what: string, ok: (n: number) => boolean, max: number): number[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.length > max || !v.every((n) => Number.isInteger(n) && ok(n as number))) throw new ModelError(`the recurrence's ${what} are not valid`);
  return [...new Set(v as number[])];
}

/** Checks a RecurrenceRule from a client (ModelError in words); returns a clean copy. */
export function checkRecurrence(r: unknown): RecurrenceRule | null {
  if (r === null || r === undefined) return null;
  if (typeof r !== "object" || Array.isArray(r)) throw new ModelError("the recurrence is not a rule");
  const o = r as Record<string, unknown>;
  if (o.complex === true) return { freq: "DAILY", interval: 1, byDay: [], byMonthDay: [], byMonth: [], bySetPos: [], count: null, until: null, complex: true };
  if (typeof o.freq !== "string" || !(FREQS as readonly string[]).includes(o.freq)) throw new ModelError("the recurrence repeats daily, weekly, monthly or yearly");
  const interval = o.interval === undefined ? 1 : o.interval;
  if (!Number.isInteger(interval) || (interval as number) < 1 || (interval as number) > MAX_INTERVAL) throw new ModelError(`the recurrence's interval is a whole number from 1 to ${MAX_INTERVAL}`);
  const byDayRaw = o.byDay ?? [];
  if (!Array.isArray(byDayRaw) || byDayRaw.length > 35) throw new ModelError("the recurrence's weekdays are not valid");
  const byDay: string[] = [];
  for (const d of byDayRaw) {
    const m = typeof d === "string" ? /^([+-]?[1-5])?(MO|TU|WE|TH|FR|SA|SU)$/.exec(d.toUpperCase()) : null;
    if (!m) throw new ModelError(`"${String(d).slice(0, 20)}" is not a weekday of a recurrence (MO..SU, or 2TU, -1FR)`);
    if (m[1] && o.freq !== "MONTHLY" && o.freq !== "YEARLY") throw new ModelError("a weekday with a position (2TU) is only for monthly or yearly recurrences");
    const s = d.toUpperCase().replace(/^\+/, "");
    if (!byDay.includes(s)) byDay.push(s);
  }
  const byMonthDay = intList(o.byMonthDay, "days of the month", (n) => n !== 0 && n >= -31 && n <= 31, 31);
  const byMonth = intList(o.byMonth, "months", (n) => n >= 1 && n <= 12, 12);
  const bySetPos = intList(o.bySetPos, "positions", (n) => n !== 0 && n >= -5 && n <= 5, 5);
  if (o.freq === "WEEKLY" && byMonthDay.length) throw new ModelError("a weekly recurrence has no days of the month (RFC 5545 §3.3.10)");
  const count = o.count === undefined || o.count === null ? null : o.count;
  if (count !== null && (!Number.isInteger(count) || (count as number) < 1 || (count as number) > MAX_COUNT)) throw new ModelError(`the number of occurrences is a whole number from 1 to ${MAX_COUNT}`);
  const until = o.until === undefined || o.until === null || o.until === "" ? null : formatDate(parseDate(o.until, "the recurrence's end date"));
  if (count !== null && until !== null) throw new ModelError("a recurrence ends after a number of times or on a date, not both (RFC 5545 §3.3.10)");
  return { freq: o.freq as Frequency, interval: interval as number, byDay, byMonthDay, byMonth, bySetPos, count: count as number | null, until, complex: false };
}

const dateText = (p: { year: number; month: number; day: number }) => formatDate(p).replace(/-/g, "");

/** The UNTIL value (RFC 5545 §3.3.10): a DATE for all-day events, UTC for zoned ones, floating for floating ones; the end of that day. */
export function untilText(until: string, form: StartForm): string {
  const day = parseDate(until);
  if (form.date) return dateText(day);
  const endOfDay: WallParts = { ...day, hour: 23, minute: 59 };
  if (!form.zone) return `${dateText(day)}T235959`;
  // "The last date, inclusive": the last minute of that day in the event's zone, in UTC.
  const ms = wallToMs(endOfDay, form.zone) + 59_000;
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
}

/** The RRULE text of a (checked, not complex) rule. */
export function ruleText(rule: RecurrenceRule, form: StartForm): string {
  const parts = [`FREQ=${rule.freq}`];
  if (rule.interval > 1) parts.push(`INTERVAL=${rule.interval}`);
  if (rule.byDay.length) parts.push(`BYDAY=${rule.byDay.join(",")}`);
  if (rule.byMonthDay.length) parts.push(`BYMONTHDAY=${rule.byMonthDay.join(",")}`);
  if (rule.byMonth.length) parts.push(`BYMONTH=${rule.byMonth.join(",")}`);
  if (rule.bySetPos.length) parts.push(`BYSETPOS=${rule.bySetPos.join(",")}`);
  if (rule.count !== null) parts.push(`COUNT=${rule.count}`);
  if (rule.until !== null) parts.push(`UNTIL=${untilText(rule.until, form)}`);
  return parts.join(";");
}

/**
 * Writes `rule` onto a master component: null removes the recurrence (RRULE,
 * RDATE, EXDATE); complex keeps what is stored; otherwise the RRULEs and
 * RDATEs are replaced by the one rule (EXDATEs stay: deleted occurrences stay
 * deleted). Returns whether the recurrence changed.
 */
export function applyRecurrence(master: ICAL.Component, rule: RecurrenceRule | null, form: StartForm): boolean {
  if (rule && rule.complex) return false;
  const before = master.getAllProperties("rrule").map((p) => p.toICALString()).join("\n") + master.getAllProperties("rdate").map((p) => p.toICALString()).join("\n");
  if (!rule) {
    for (const n of ["rrule", "rdate", "exdate"]) master.removeAllProperties(n);
    return before !== "";
  }
  const text = ruleText(rule, form);
  const prop = ICAL.Property.fromString(`RRULE:${text}`);
  const v = prop.getFirstValue();
  if (!(v instanceof ICAL.Recur)) throw new ModelError("the recurrence could not be written");
  try {
    checkRule(v);
  } catch (e) {
    throw new ModelError(`the recurrence cannot be used: ${(e as Error).message}`);
  }
  master.removeAllProperties("rrule");
  master.removeAllProperties("rdate");
  master.addProperty(prop);
  return before !== prop.toICALString();
}

/** A rule ended on the day before `date` (for "this and following": the old series stops there). COUNT becomes UNTIL. */
export function endBefore(rule: RecurrenceRule, date: string): RecurrenceRule {
  return { ...rule, count: null, until: formatDate(addDays(parseDate(date), -1)), complex: false };
}

/** Occurrences walked to find one (a daily series over 30 years). */
const MAX_WALK = 20_000;

/** Does the master's recurrence set contain an occurrence starting at `ms`? */
export function isOccurrence(master: ICAL.Component, ms: number, floating: ICAL.Timezone | null): boolean {
  const start = timeProp(master, "dtstart");
  if (!start) return false;
  if (!master.hasProperty("rrule") && !master.hasProperty("rdate")) return timeToMs(start, floating) === ms;
  const it = new ICAL.Event(master).iterator();
  for (let i = 0; i < MAX_WALK; i++) {
    const next = it.next();
    if (!next) return false;
    const at = timeToMs(next, floating);
    if (at === ms) return true;
    if (at > ms) return false;
  }
  return false;
}

// ---------------------------------------------------------------- plain English

const DAY_NAMES: Record<string, string> = { MO: "Monday", TU: "Tuesday", WE: "Wednesday", TH: "Thursday", FR: "Friday", SA: "Saturday", SU: "Sunday" };
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const ORD: Record<string, string> = { "1": "first", "2": "second", "3": "third", "4": "fourth", "5": "fifth", "-1": "last", "-2": "second to last" };
const nth = (n: number) => (n === -1 ? "the last day" : n < 0 ? `day ${n}` : `day ${n}`);

function list(words: string[]): string {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} and ${words[words.length - 1]}`;
}

function dayWord(d: string): string {
  const m = /^([+-]?\d)?(MO|TU|WE|TH|FR|SA|SU)$/.exec(d);
  if (!m) return d;
  return m[1] ? `the ${ORD[m[1].replace("+", "")] ?? m[1]} ${DAY_NAMES[m[2]!]}` : DAY_NAMES[m[2]!]!;
}

/**
 * A plain English summary of a rule ("Every 2 weeks on Monday and Thursday,
 * 10 times"), for the invitation card and iMIP text; the browser has its own
 * translated one.
 */
export function summariseRule(rule: RecurrenceRule): string {
  if (rule.complex) return "Repeats (custom pattern)";
  const unit = { DAILY: "day", WEEKLY: "week", MONTHLY: "month", YEARLY: "year" }[rule.freq];
  let s = rule.interval === 1 ? `Every ${unit}` : `Every ${rule.interval} ${unit}s`;
  const setPos = rule.bySetPos.length ? `the ${list(rule.bySetPos.map((p) => ORD[String(p)] ?? String(p)))} ` : "";
  if (rule.freq === "WEEKLY" && rule.byDay.length) s += ` on ${list(rule.byDay.map(dayWord))}`;
  else if (rule.freq === "DAILY" && rule.byDay.length) s += ` on ${list(rule.byDay.map(dayWord))}`;
  if (rule.freq === "MONTHLY" || rule.freq === "YEARLY") {
    const inMonth = rule.byMonth.length ? ` of ${list(rule.byMonth.map((m) => MONTHS[m - 1] ?? String(m)))}` : "";
    if (rule.byMonthDay.length) s += ` on ${list(rule.byMonthDay.map(nth))}${inMonth}`;
    else if (rule.byDay.length) s += ` on ${setPos}${list(rule.byDay.map(dayWord))}${inMonth}`;
    else if (inMonth) s += ` in${inMonth.slice(3)}`;
  }
  if (rule.count !== null) s += rule.count === 1 ? ", once" : `, ${rule.count} times`;
  if (rule.until !== null) s += `, until ${rule.until}`;
  return s;
}

export { WEEKDAYS };
