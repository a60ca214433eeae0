/**
 * Wall-clock times of the model ("YYYY-MM-DDTHH:MM" in a named zone, or a
 * date "YYYY-MM-DD") to and from UTC milliseconds, through the zones of the
 * iCalendar layer (ical/zones.ts: the IANA database as VTIMEZONEs), so the
 * server, CalDAV and the webmail agree on every offset.
 *
 * DST (RFC 5545 §3.3.5 leaves it to the zone): a wall time that does not
 * exist (the hour skipped in spring) moves forward by the gap, as Outlook and
 * Google do; a wall time that exists twice (autumn) is the first of the two.
 */
import ICAL from "ical.js";
import { globalZone, ianaName, utcToWall } from "../ical/zones.ts";

export class ModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelError";
  }
}

const WALL_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

export interface WallParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

function daysIn(year: number, month: number): number {
  return [31, (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

/** A checked "YYYY-MM-DD" (years 1..9999); ModelError in words otherwise. */
export function parseDate(s: unknown, what = "the date"): WallParts {
  const m = typeof s === "string" ? DATE_RE.exec(s) : null;
  if (!m) throw new ModelError(`${what} must be a date like 2026-03-29`);
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) throw new ModelError(`${what} (${s}) is not a day of the calendar`);
  return { year, month, day, hour: 0, minute: 0 };
}

/** A checked "YYYY-MM-DDTHH:MM"; ModelError in words otherwise. */
export function parseWall(s: unknown, what = "the time"): WallParts {
  const m = typeof s === "string" ? WALL_RE.exec(s) : null;
  if (!m) throw new ModelError(`${what} must be a date and time like 2026-03-29T14:30`);
  const d = parseDate(`${m[1]}-${m[2]}-${m[3]}`, what);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  if (hour > 23 || minute > 59) throw new ModelError(`${what} (${s}) is not a time of day`);
  return { ...d, hour, minute };
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

export function formatDate(p: { year: number; month: number; day: number }): string {
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
}

export function formatWall(p: WallParts): string {
  return `${formatDate(p)}T${pad(p.hour)}:${pad(p.minute)}`;
}

/** The wall parts read as if they were UTC (the zone-free arithmetic of a wall clock). */
export function wallAsUtc(p: WallParts): number {
  const d = new Date(0);
  d.setUTCFullYear(p.year, p.month - 1, p.day);
  d.setUTCHours(p.hour, p.minute, 0, 0);
  return d.getTime();
}

/** Wall parts of a "UTC-read" ms value (inverse of wallAsUtc). */
export function partsOfUtc(ms: number): WallParts {
  const d = new Date(ms);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes() };
}

/** A zone of the IANA database (or a Windows / prefixed name we map); null when unknown. "UTC" and "Etc/UTC" are UTC. */
export function zoneOf(name: string): ICAL.Timezone | null {
  if (!name) return null;
  return globalZone(name);
}

/** The IANA name of a zone name a client used, or null. */
export function canonicalZone(name: string): string | null {
  return ianaName(name);
}

/** Checks a zone name of the model: "" or a known zone; returns the IANA name. */
export function checkZone(name: unknown, what = "the time zone"): string {
  if (name === "" ) return "";
  if (typeof name !== "string" || name.length > 100) throw new ModelError(`${what} is not a time zone name`);
  const iana = ianaName(name);
  if (!iana || !zoneOf(iana)) throw new ModelError(`${what} "${name.slice(0, 60)}" is not a known time zone`);
  return iana;
}

const formatters = new Map<string, Intl.DateTimeFormat | null>();

/** An Intl formatter giving the wall clock of an IANA zone, null when the runtime does not know the name. */
function formatterFor(tzid: string): Intl.DateTimeFormat | null {
  let f = formatters.get(tzid);
  if (f !== undefined) return f;
  try {
    f = new Intl.DateTimeFormat("en-US", { timeZone: tzid, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" });
  } catch {
    f = null;
  }
  if (formatters.size < 1000) formatters.set(tzid, f);
  return f;
}

/**
 * Offset (ms) of `zone` at the instant `ms`: wall - utc. The runtime's IANA
 * data answers when it knows the zone: ical.js's UTC-to-local conversion
 * looks the offset up with the UTC clock reading, so in the hour after a
 * change it gives the old offset (01:30Z on 2026-03-29 read as 02:30 in
 * Berlin, not 03:30). Zones only ical.js knows go through it.
 */
function offsetAt(ms: number, zone: ICAL.Timezone): number {
  if (zone === ICAL.Timezone.utcTimezone) return 0;
  const f = formatterFor(zone.tzid);
  if (f && Math.abs(ms) < 8.64e15) {
    const parts: Record<string, number> = {};
    for (const p of f.formatToParts(new Date(ms))) if (p.type !== "literal") parts[p.type] = Number(p.value);
    if (Number.isFinite(parts.year) && Number.isFinite(parts.hour)) {
      const wall = wallAsUtc({ year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute! }) + (parts.second ?? 0) * 1000;
      return wall - Math.floor(ms / 1000) * 1000;
    }
  }
  const w = utcToWall(ICAL.Time.fromJSDate(new Date(ms), true), zone);
  return wallAsUtc({ year: w.year, month: w.month, day: w.day, hour: w.hour, minute: w.minute }) + w.second * 1000 - ms;
}

/** Wall parts in `zone` (null = UTC) of an instant. */
export function wallOf(ms: number, zone: ICAL.Timezone | null): WallParts {
  if (!zone) return partsOfUtc(ms);
  return partsOfUtc(ms + offsetAt(ms, zone));
}

/**
 * UTC ms of a wall time in `zone` (null = UTC). A time in a DST gap moves
 * forward by the gap; a time that occurs twice is the earlier instant.
 */
export function wallToMs(p: WallParts, zone: ICAL.Timezone | null): number {
  const local = wallAsUtc(p);
  if (!zone || zone === ICAL.Timezone.utcTimezone) return local;
  // The offsets a day either side cover any one transition around the time.
  const before = offsetAt(local - DAY_MS, zone);
  const after = offsetAt(local + DAY_MS, zone);
  const candidates = [...new Set([local - before, local - after])].filter((ms) => formatWall(wallOf(ms, zone)) === formatWall(p)).sort((a, b) => a - b);
  if (candidates.length) return candidates[0]!;
  // In a gap: read with the offset before it, which lands after the gap by as much as the time was into it.
  return local - before;
}

/** Adds whole days to a date. */
export function addDays(p: { year: number; month: number; day: number }, days: number): WallParts {
  const ms = wallAsUtc({ year: p.year, month: p.month, day: p.day, hour: 0, minute: 0 }) + days * DAY_MS;
  return partsOfUtc(ms);
}

/** Midnight starting a date in `zone` (null = UTC), as UTC ms. */
export function dateStartMs(date: string, zone: ICAL.Timezone | null): number {
  return wallToMs(parseDate(date), zone);
}

/** An ICAL.Time of wall parts: a DATE, a floating time, or a time in a named zone (TZID). */
export function icalTime(p: WallParts, kind: { date: true } | { date: false; zone: ICAL.Timezone | null }): ICAL.Time {
  if (kind.date) return ICAL.Time.fromData({ year: p.year, month: p.month, day: p.day, isDate: true });
  const t = ICAL.Time.fromData({ year: p.year, month: p.month, day: p.day, hour: p.hour, minute: p.minute, second: 0, isDate: false }, kind.zone ?? undefined);
  return t;
}

/** Wall parts of an ICAL.Time as written (no zone conversion). */
export function partsOfTime(t: ICAL.Time): WallParts {
  return { year: t.year, month: t.month, day: t.day, hour: t.isDate ? 0 : t.hour, minute: t.isDate ? 0 : t.minute };
}
