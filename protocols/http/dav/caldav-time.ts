/**
 * Times in CalDAV reports: the UTC date-times of time-range, expand,
 * limit-recurrence-set and limit-freebusy-set (RFC 4791 §9.9, §9.6.5-7), and
 * iCalendar values converted to UTC milliseconds for the §9.9 tests.
 *
 * A value with a TZID is converted with the object's own VTIMEZONE (ical.js
 * finds it in the component tree), else with the IANA definition of that
 * name; a floating value (no TZID, no Z) is read in the calendar's time zone
 * (RFC 4791 §9.9: "floating ... compared in the time zone of the calendar
 * collection"), UTC when it has none.
 */
import ICAL from "ical.js";
import { vtimezoneFor } from "../../../src/groupware/ical/index.ts";
import { ReportError, NS_CALDAV } from "./caldav-report-error.ts";
import type { XmlElement } from "./xml.ts";

/** The earliest/latest instant an open-ended range stands for (ECMAScript Date limits). */
export const MIN_TIME = -8.64e15;
export const MAX_TIME = 8.64e15;
export const DAY_MS = 86_400_000;

export interface TimeRange {
  start: number;
  end: number;
}

const UTC_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** "YYYYMMDDTHHMMSSZ" (RFC 5545 §3.3.5 form 2, the only form RFC 4791 allows here) to UTC ms; null when malformed. */
export function parseUtcDateTime(s: string): number | null {
  const m = UTC_RE.exec(s.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return null;
  const ms = Date.UTC(y, mo - 1, d, h, mi, Math.min(se, 59));
  // Date.UTC rolls 31 February over into March: refuse what does not round-trip.
  const back = new Date(ms);
  if (back.getUTCDate() !== d || back.getUTCMonth() !== mo - 1) return null;
  return ms;
}

/** UTC ms back to "YYYYMMDDTHHMMSSZ". */
export function formatUtc(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/**
 * Reads the start/end attributes of a time-range-like element. `required`:
 * both must be present (expand, limit-recurrence-set, limit-freebusy-set,
 * free-busy-query); otherwise at least one (RFC 4791 §9.9).
 */
export function parseTimeRange(el: XmlElement, opts: { required: boolean; element: string; preconditionNs?: string; precondition?: string; status?: number }): TimeRange {
  const fail = (why: string) => new ReportError(opts.status ?? 400, opts.preconditionNs ?? NS_CALDAV, opts.precondition ?? "valid-filter", `${opts.element}: ${why}`);
  const rawStart = el.attrs["start"];
  const rawEnd = el.attrs["end"];
  if (opts.required && (rawStart === undefined || rawEnd === undefined)) throw fail('needs both a "start" and an "end" attribute');
  if (rawStart === undefined && rawEnd === undefined) throw fail('needs a "start" or an "end" attribute (RFC 4791 §9.9)');
  const start = rawStart === undefined ? MIN_TIME : parseUtcDateTime(rawStart);
  if (start === null) throw fail(`start "${rawStart}" is not a UTC date-time like 20260101T000000Z`);
  const end = rawEnd === undefined ? MAX_TIME : parseUtcDateTime(rawEnd);
  if (end === null) throw fail(`end "${rawEnd}" is not a UTC date-time like 20260101T000000Z`);
  if (end <= start) throw fail(`end ${rawEnd} is not after start ${rawStart}`);
  return { start, end };
}

// ---------------------------------------------------------------- zones

/** IANA zones built from their VTIMEZONE once (definitions are global and immutable, so shared). */
const ianaZones = new Map<string, ICAL.Timezone | null>();
const MAX_ZONES = 1000;

/** The zone of an IANA (or mapped Windows) name, null when unknown. */
export function ianaZone(tzid: string): ICAL.Timezone | null {
  if (ianaZones.has(tzid)) return ianaZones.get(tzid) ?? null;
  let zone: ICAL.Timezone | null = null;
  try {
    const text = vtimezoneFor(tzid);
    if (text) {
      const comp = new ICAL.Component(ICAL.parse(text.includes("BEGIN:VCALENDAR") ? text : `BEGIN:VCALENDAR\r\n${text}\r\nEND:VCALENDAR`));
      const vtz = comp.name === "vtimezone" ? comp : comp.getFirstSubcomponent("vtimezone");
      if (vtz) zone = new ICAL.Timezone({ component: vtz, tzid });
    }
  } catch {
    zone = null;
  }
  if (ianaZones.size >= MAX_ZONES) ianaZones.clear();
  ianaZones.set(tzid, zone);
  return zone;
}

function isUtc(t: ICAL.Time): boolean {
  return t.zone === ICAL.Timezone.utcTimezone || t.zone?.tzid === "UTC";
}

function isFloating(t: ICAL.Time): boolean {
  return !t.zone || t.zone === ICAL.Timezone.localTimezone || t.zone.tzid === "floating";
}

/** A wall-clock time read in `zone` (null = UTC). */
function inZone(t: ICAL.Time, zone: ICAL.Timezone | null): number {
  const w = new ICAL.Time({ year: t.year, month: t.month, day: t.day, hour: t.isDate ? 0 : t.hour, minute: t.isDate ? 0 : t.minute, second: t.isDate ? 0 : t.second, isDate: false }, zone ?? ICAL.Timezone.utcTimezone);
  return w.toUnixTime() * 1000;
}

/**
 * UTC ms of a DATE or DATE-TIME value of `prop` (its first value). A DATE is
 * its midnight, like a floating time. Null when the value is not a time.
 */
export function propertyUtc(prop: ICAL.Property, floatingTz: string | null): number | null {
  let v: unknown;
  try {
    v = prop.getFirstValue();
  } catch {
    return null;
  }
  if (!(v instanceof ICAL.Time)) return null;
  return timeUtc(v, prop.getFirstParameter("tzid") ?? null, floatingTz);
}

/** UTC ms of an ICAL.Time; `tzid` is the TZID parameter it was written with (null when none). */
export function timeUtc(t: ICAL.Time, tzid: string | null, floatingTz: string | null): number {
  if (isUtc(t)) return t.toUnixTime() * 1000;
  if (!isFloating(t) && !t.isDate) return t.toUnixTime() * 1000; // resolved from the object's VTIMEZONE
  if (tzid && !t.isDate) {
    const z = ianaZone(tzid);
    if (z) return inZone(t, z);
  }
  return inZone(t, floatingTz ? ianaZone(floatingTz) : null);
}

/** A DURATION value in ms (negative allowed), or null. */
export function durationMs(prop: ICAL.Property | null): number | null {
  if (!prop) return null;
  try {
    const v = prop.getFirstValue();
    return v instanceof ICAL.Duration ? v.toSeconds() * 1000 : null;
  } catch {
    return null;
  }
}

/** A UTC instant as a DATE-TIME in UTC (the form expanded instances use, RFC 4791 §9.6.5). */
export function utcTime(ms: number): ICAL.Time {
  const d = new Date(ms);
  return new ICAL.Time(
    { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(), isDate: false },
    ICAL.Timezone.utcTimezone,
  );
}

/** The DATE an all-day instance starting at `ms` falls on, read in the floating zone (null = UTC). */
export function dateOf(ms: number, floatingTz: string | null): ICAL.Time {
  const zone = floatingTz ? ianaZone(floatingTz) : null;
  let t = utcTime(ms);
  if (zone) t = t.convertToZone(zone);
  return ICAL.Time.fromData({ year: t.year, month: t.month, day: t.day, isDate: true });
}
