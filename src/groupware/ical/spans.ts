/**
 * Reading times out of components: the start/end of a VEVENT or VTODO
 * (RFC 5545 §3.6.1, §3.6.2; the VTODO cases of RFC 4791 §9.9), checked
 * DATE/DATE-TIME values, and the master/override layout of one object.
 */
import ICAL from "ical.js";
import { ICalError } from "./errors.ts";
import { timeToMs } from "./zones.ts";

/** Far past / far future (the ECMAScript Date range): a VTODO with no time at all overlaps every range (RFC 4791 §9.9). */
export const FAR_PAST = -8.64e15;
export const FAR_FUTURE = 8.64e15;

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function checkTime(t: ICAL.Time, what: string): ICAL.Time {
  const leap = t.month === 2 && ((t.year % 4 === 0 && t.year % 100 !== 0) || t.year % 400 === 0);
  const dim = t.month >= 1 && t.month <= 12 ? DAYS[t.month - 1]! + (leap ? 1 : 0) : 0;
  const ok =
    Number.isInteger(t.year) && t.year >= 1 && t.year <= 9999 && t.month >= 1 && t.month <= 12 && t.day >= 1 && t.day <= dim &&
    (t.isDate || (t.hour >= 0 && t.hour <= 23 && t.minute >= 0 && t.minute <= 59 && t.second >= 0 && t.second <= 60));
  if (!ok) throw new ICalError("INVALID_DATA", `${what} is not a valid date or date-time`);
  return t;
}

const RAW_TIME = /^(\d{4})-(\d{2})-(\d{2})/;

/**
 * ical.js normalises an impossible date (February 31 becomes March 3) when
 * it builds the Time; the text it keeps in jCal is checked first.
 */
function checkRaw(p: ICAL.Property, what: string): void {
  const jcal = p.jCal as unknown[];
  for (let i = 3; i < jcal.length; i++) {
    const raw = jcal[i];
    if (typeof raw !== "string") continue;
    const m = RAW_TIME.exec(raw);
    if (!m) continue;
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const leap = mo === 2 && ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0);
    if (mo < 1 || mo > 12 || d < 1 || d > DAYS[mo - 1]! + (leap ? 1 : 0)) throw new ICalError("INVALID_DATA", `${what} is not a valid date or date-time: ${raw.slice(0, 40)}`);
  }
}

/** A DATE/DATE-TIME property's value, checked (RFC 5545 §3.3.4, §3.3.5); null when absent. */
export function timeProp(comp: ICAL.Component, name: string): ICAL.Time | null {
  const p = comp.getFirstProperty(name);
  if (!p) return null;
  const what = `${name.toUpperCase()} of ${comp.name.toUpperCase()}`;
  checkRaw(p, what);
  let v: unknown;
  try {
    v = p.getFirstValue();
  } catch (e) {
    throw new ICalError("INVALID_DATA", `${what} is not a valid date or date-time: ${(e as Error).message}`);
  }
  if (!(v instanceof ICAL.Time)) throw new ICalError("INVALID_DATA", `${name.toUpperCase()} of ${comp.name.toUpperCase()} is not a date or date-time`);
  return checkTime(v, `${name.toUpperCase()} of ${comp.name.toUpperCase()}`);
}

/** Every value of every property `name` (EXDATE, RDATE) that is a date or date-time. */
export function timeList(comp: ICAL.Component, name: string): ICAL.Time[] {
  const out: ICAL.Time[] = [];
  for (const p of comp.getAllProperties(name)) {
    checkRaw(p, name.toUpperCase());
    let vals: unknown[];
    try {
      vals = p.getValues();
    } catch (e) {
      throw new ICalError("INVALID_DATA", `${name.toUpperCase()}: ${(e as Error).message}`);
    }
    for (const v of vals) if (v instanceof ICAL.Time) out.push(checkTime(v, name.toUpperCase()));
  }
  return out;
}

function durationProp(comp: ICAL.Component): ICAL.Duration | null {
  const p = comp.getFirstProperty("duration");
  if (!p) return null;
  let v: unknown;
  try {
    v = p.getFirstValue();
  } catch {
    return null;
  }
  if (!(v instanceof ICAL.Duration)) return null;
  // Longer than a century is nonsense, and ical.js's date arithmetic walks month by month (and zones cache every year) to add it.
  if (Math.abs(v.toSeconds()) > MAX_DURATION_S) throw new ICalError("INVALID_DATA", `DURATION of ${comp.name.toUpperCase()} is longer than 100 years`);
  return v;
}

const MAX_DURATION_S = 100 * 366 * 86_400;

/**
 * Where a component's occurrences sit: `anchor` is the time recurrence
 * counts from (DTSTART; DUE for a VTODO without DTSTART), and the end of an
 * occurrence is the anchor plus `nominal` (DURATION, in the zone's wall
 * clock, RFC 5545 §3.3.6) or plus `exactMs` (DTEND/DUE - DTSTART, the same
 * exact duration for every instance, RFC 5545 §3.8.5.3).
 */
export interface Span {
  start: number;
  end: number;
  allDay: boolean;
  anchor: ICAL.Time | null;
  /** The anchor is DUE, not DTSTART (an occurrence is [due, due]). */
  anchorIsDue: boolean;
  nominal: ICAL.Duration | null;
  exactMs: number;
}

export function spanOf(comp: ICAL.Component, floating: ICAL.Timezone | null, warnings?: string[]): Span {
  const start = timeProp(comp, "dtstart");
  const isTodo = comp.name === "vtodo";
  if (!isTodo) {
    if (!start) throw new ICalError("INVALID_OBJECT", "VEVENT without DTSTART (RFC 5545 §3.6.1)");
    const s = timeToMs(start, floating);
    const endT = timeProp(comp, "dtend");
    if (endT) {
      let e = timeToMs(endT, floating);
      if (e < s) {
        warnings?.push("DTEND is before DTSTART: the event is read as ending when it starts");
        e = s;
      }
      return { start: s, end: e, allDay: start.isDate, anchor: start, anchorIsDue: false, nominal: null, exactMs: e - s };
    }
    const dur = durationProp(comp);
    if (dur && !dur.isNegative) {
      const t = start.clone();
      t.addDuration(dur);
      return { start: s, end: Math.max(s, timeToMs(t, floating)), allDay: start.isDate, anchor: start, anchorIsDue: false, nominal: dur, exactMs: 0 };
    }
    // RFC 5545 §3.6.1: a DATE start without end lasts one day, a DATE-TIME start is an instant.
    if (start.isDate) {
      const t = start.clone();
      t.addDuration(new ICAL.Duration({ days: 1 }));
      return { start: s, end: timeToMs(t, floating), allDay: true, anchor: start, anchorIsDue: false, nominal: new ICAL.Duration({ days: 1 }), exactMs: 0 };
    }
    return { start: s, end: s, allDay: false, anchor: start, anchorIsDue: false, nominal: null, exactMs: 0 };
  }
  // VTODO: RFC 4791 §9.9's table.
  const due = timeProp(comp, "due");
  if (start) {
    const s = timeToMs(start, floating);
    const dur = durationProp(comp);
    if (dur && !dur.isNegative) {
      const t = start.clone();
      t.addDuration(dur);
      return { start: s, end: Math.max(s, timeToMs(t, floating)), allDay: start.isDate, anchor: start, anchorIsDue: false, nominal: dur, exactMs: 0 };
    }
    if (due) {
      const e = Math.max(s, timeToMs(due, floating));
      return { start: s, end: e, allDay: start.isDate, anchor: start, anchorIsDue: false, nominal: null, exactMs: e - s };
    }
    return { start: s, end: s, allDay: start.isDate, anchor: start, anchorIsDue: false, nominal: null, exactMs: 0 };
  }
  if (due) {
    const d = timeToMs(due, floating);
    return { start: d, end: d, allDay: due.isDate, anchor: due, anchorIsDue: true, nominal: null, exactMs: 0 };
  }
  const completed = timeProp(comp, "completed");
  const created = timeProp(comp, "created");
  if (completed || created) {
    const a = created ? timeToMs(created, floating) : FAR_PAST;
    const b = completed ? timeToMs(completed, floating) : FAR_FUTURE;
    return { start: Math.min(a, b), end: Math.max(a, b), allDay: false, anchor: null, anchorIsDue: false, nominal: null, exactMs: 0 };
  }
  return { start: FAR_PAST, end: FAR_FUTURE, allDay: false, anchor: null, anchorIsDue: false, nominal: null, exactMs: 0 };
}

/** The end of an occurrence starting at `occ` with the span of its component. */
export function occurrenceEnd(span: Span, occ: ICAL.Time, startMs: number, floating: ICAL.Timezone | null): number {
  if (span.nominal) {
    const t = occ.clone();
    t.addDuration(span.nominal);
    return Math.max(startMs, timeToMs(t, floating));
  }
  return startMs + span.exactMs;
}

export function isRecurringComp(c: ICAL.Component): boolean {
  return c.hasProperty("rrule") || c.hasProperty("rdate");
}
