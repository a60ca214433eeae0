/**
 * Times between an event's iCalendar form and ActiveSync's: the zone an
 * event is written in, UTC instants for StartTime/EndTime, and back to
 * DATE / DATE-TIME values in the event's zone.
 *
 * ActiveSync sends every time as a UTC instant plus one TIMEZONE blob for the
 * whole item (MS-ASCAL §2.2.2.42 Timezone); iCalendar keeps wall-clock times
 * with a TZID (RFC 5545 §3.3.5). All-day events are DATE values (RFC 5545
 * §3.3.4): before 16.0 they travel as midnight in the blob's zone (we send a
 * UTC blob, so the wire value is the date at T000000Z); in 16.x the blob is
 * left out and the value is the date itself (MS-ASCAL §2.2.2.1, §2.2.2.42).
 */
import ICAL from "ical.js";
import { timeProp } from "../../../../src/groupware/ical/spans.ts";
import { globalZone, timeToMs, utcToWall } from "../../../../src/groupware/ical/zones.ts";
import { EasDataError, easCompactDate, parseEasDate } from "./codec.ts";
import { decodeTimezone, encodeTimezone } from "./timezone.ts";

/** The zone an event's times are written in. `zone` null = UTC (or floating read as UTC). */
export interface EventZone {
  /** TZID as written in the object, null for UTC/floating/DATE. */
  tzid: string | null;
  /** The object's own VTIMEZONE text for that TZID, if it has one. */
  vtimezone: string | null;
  zone: ICAL.Timezone | null;
  /** DTSTART is floating (no TZID, no Z): keep writing floating times. */
  floating: boolean;
}

const UTC_IDS = new Set(["utc", "etc/utc", "gmt", "etc/gmt", "z", "zulu"]);

/** The VTIMEZONE component of `root` with this TZID. */
function ownVtimezone(root: ICAL.Component, tzid: string): ICAL.Component | null {
  for (const tz of root.getAllSubcomponents("vtimezone")) if (tz.getFirstPropertyValue("tzid") === tzid) return tz;
  return null;
}

/** An ICAL.Timezone for a TZID: the object's own definition first, else a known zone. */
export function zoneFor(root: ICAL.Component, tzid: string): ICAL.Timezone | null {
  if (UTC_IDS.has(tzid.toLowerCase())) return null;
  const own = ownVtimezone(root, tzid);
  if (own) {
    try {
      return new ICAL.Timezone(own);
    } catch {
      // a broken VTIMEZONE: fall back to the name
    }
  }
  const g = globalZone(tzid);
  return g === ICAL.Timezone.utcTimezone ? null : g;
}

export function eventZone(root: ICAL.Component, comp: ICAL.Component): EventZone {
  const p = comp.getFirstProperty("dtstart");
  const t = timeProp(comp, "dtstart");
  const tzid = p?.getParameter("tzid");
  if (!t || t.isDate) return { tzid: null, vtimezone: null, zone: null, floating: false };
  if (typeof tzid === "string" && tzid) {
    const own = ownVtimezone(root, tzid);
    // The zone ical.js resolved for the value (cached on the parsed object) saves building the VTIMEZONE again.
    const resolved = t.zone && t.zone.tzid === tzid && t.zone !== ICAL.Timezone.localTimezone ? t.zone : null;
    const zone = resolved === ICAL.Timezone.utcTimezone ? null : (resolved ?? zoneFor(root, tzid));
    return { tzid, vtimezone: own ? own.toString() : null, zone, floating: false };
  }
  const floating = t.zone !== ICAL.Timezone.utcTimezone;
  return { tzid: null, vtimezone: null, zone: null, floating };
}

/** UTC ms of a DATE/DATE-TIME (floating and DATE values read as UTC). */
export function msOf(t: ICAL.Time): number {
  return timeToMs(t, null);
}

/** The blob for an event (MS-ASCAL §2.2.2.42): its zone's rules in the year it starts. */
export function timezoneBlob(z: EventZone, year: number): string {
  return encodeTimezone(z.tzid, z.vtimezone, year);
}

/** A zone decoded from a device's blob, with the VTIMEZONE to add to the object. */
export interface DeviceZone {
  tzid: string;
  vtimezone: string | null;
  zone: ICAL.Timezone | null;
}

export function deviceZone(blob: string): DeviceZone {
  const d = decodeTimezone(blob);
  if (UTC_IDS.has(d.tzid.toLowerCase())) return { tzid: d.tzid, vtimezone: null, zone: null };
  // A blob that matched a known zone: its shared ICAL.Timezone (transitions computed once per process).
  let zone: ICAL.Timezone | null = globalZone(d.tzid);
  if (!zone || zone === ICAL.Timezone.utcTimezone) {
    try {
      zone = new ICAL.Timezone(ICAL.Component.fromString(d.vtimezone));
    } catch {
      zone = null;
    }
  }
  if (!zone) throw new EasDataError(`time zone ${d.tzid} cannot be used`);
  return { tzid: d.tzid, vtimezone: d.vtimezone, zone };
}

/** An ICAL.Time for a UTC instant. */
export function utcTime(ms: number): ICAL.Time {
  const d = new Date(ms);
  const t = new ICAL.Time({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(), isDate: false }, ICAL.Timezone.utcTimezone);
  return t;
}

/** A DATE value for a UTC-midnight ms (the date part of the instant). */
export function dateTime(ms: number): ICAL.Time {
  const d = new Date(ms);
  return new ICAL.Time({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), isDate: true }, ICAL.Timezone.localTimezone);
}

/** The form a time is written in: a zone (TZID), UTC, or floating. */
export interface TimeForm {
  tzid: string | null;
  zone: ICAL.Timezone | null;
  floating: boolean;
}

/**
 * Writes a UTC instant into `comp` as property `name` (DTSTART, DTEND,
 * RECURRENCE-ID, or one EXDATE value appended when `append`) in `form`.
 */
export function setTimeProp(comp: ICAL.Component, name: string, ms: number, form: TimeForm, allDay: boolean, append = false): void {
  if (!append) comp.removeAllProperties(name);
  const p = new ICAL.Property(name, comp);
  p.setValue(timeValue(ms, form, allDay));
  if (!allDay && form.tzid && form.zone) p.setParameter("tzid", form.tzid);
  comp.addProperty(p);
}

/** The value for a UTC instant in `form` (a DATE for all-day: the UTC date of the instant). */
export function timeValue(ms: number, form: TimeForm, allDay: boolean): ICAL.Time {
  if (allDay) return dateTime(ms);
  const u = utcTime(ms);
  if (form.tzid && form.zone) return utcToWall(u, form.zone);
  if (form.floating) {
    const f = u.clone();
    f.zone = ICAL.Timezone.localTimezone;
    return f;
  }
  return u;
}

/** UTC midnight of the wall-clock date an instant falls on in `zone` (null = UTC), rounded up to the next midnight when `ceil` and not at midnight. */
export function dateInZone(ms: number, zone: ICAL.Timezone | null, ceil: boolean): number {
  const w = zone ? utcToWall(utcTime(ms), zone) : utcTime(ms);
  const day = Date.UTC(w.year, w.month - 1, w.day);
  const atMidnight = w.hour === 0 && w.minute === 0 && w.second === 0;
  return ceil && !atMidnight ? day + 86_400_000 : day;
}

/** StartTime/EndTime value (MS-ASDTYPE §2.7.2 compact date-time, UTC). */
export function easTime(ms: number): string {
  return easCompactDate(ms);
}

/** AirSyncBase:InstanceId (MS-ASAIRS §2.2.2.26, a dateTime: "YYYY-MM-DDTHH:MM:SS.000Z"). */
export function easInstanceId(ms: number): string {
  return new Date(ms).toISOString();
}

/** A device's date element, checked (EasDataError for nonsense like 20261345T000000Z). */
export function deviceTime(s: string | undefined, what: string): number | undefined {
  if (s === undefined) return undefined;
  if (s.trim() === "") throw new EasDataError(`${what} is empty`);
  return parseEasDate(s);
}

/** 16.x all-day values are dates (MS-ASCAL §2.2.2.1); the device may still add a time: keep the date part. */
export function dateOfDeviceTime(s: string, what: string): number {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})(?:T.*)?$/.exec(s.trim());
  if (!m) throw new EasDataError(`${what} is not a date`);
  return parseEasDate(`${m[1]}${m[2]}${m[3]}T000000Z`);
}
