/**
 * Time zones of calendar items in EWS (Types.xsd TimeZoneDefinitionType,
 * StartTimeZone/EndTimeZone since Exchange 2010; MeetingTimeZone before):
 * EWS names a zone by its Windows id ("W. Europe Standard Time"), iCalendar
 * by TZID (an IANA name here). The map is src/groupware/ical/windows-zones.ts
 * (CLDR's "001" territory); both directions are answered from it.
 */
import ICAL from "ical.js";
import { WINDOWS_ZONES } from "../../../src/groupware/ical/windows-zones.ts";
import { globalZone, ianaName, utcToWall, vtimezoneFor } from "../../../src/groupware/ical/zones.ts";
import { EwsError, type EwsContext } from "./context.ts";
import { attr, kid, type XmlElement } from "./xml.ts";

const DAY = 86_400_000;

/** IANA name (lower case) -> the Windows id whose "001" zone it is (the first one listed wins). */
const windowsOfIana = new Map<string, string>();
for (const [win, iana] of Object.entries(WINDOWS_ZONES)) if (!windowsOfIana.has(iana.toLowerCase())) windowsOfIana.set(iana.toLowerCase(), win);
const windowsLower = new Map(Object.keys(WINDOWS_ZONES).map((k) => [k.toLowerCase(), k]));

/** A zone as an item uses it: the TZID written into the iCalendar object and its ICAL zone (null = UTC). */
export interface ItemZone {
  tzid: string | null;
  zone: ICAL.Timezone | null;
}

export const UTC_ZONE: ItemZone = { tzid: null, zone: null };

/** The Windows id for a TZID ("UTC" for UTC or a zone we cannot name). */
export function windowsId(tzid: string | null): string {
  if (!tzid) return "UTC";
  const w = windowsLower.get(tzid.toLowerCase());
  if (w) return w;
  const iana = ianaName(tzid);
  if (!iana) return "UTC";
  return windowsOfIana.get(iana.toLowerCase()) ?? "UTC";
}

/** The zone a Windows id (or IANA name) names; null when unknown. */
export function zoneOfId(id: string): ItemZone | null {
  const iana = ianaName(id);
  if (!iana) return null;
  if (iana === "Etc/UTC") return UTC_ZONE;
  const z = globalZone(iana);
  if (!z || z === ICAL.Timezone.utcTimezone) return UTC_ZONE;
  return { tzid: iana, zone: z };
}

/** The VTIMEZONE text to add to an object for a zone, or null (UTC / unknown). */
export function vtimezoneOf(z: ItemZone): string | null {
  return z.tzid ? vtimezoneFor(z.tzid) : null;
}

/**
 * The zone of a StartTimeZone / EndTimeZone / MeetingTimeZone element
 * (Id attribute, Types.xsd TimeZoneDefinitionType; the 2007 MeetingTimeZone
 * carries TimeZoneName). An Id we do not know: ErrorCalendarInvalidTimeZone (Exchange's
 * code for an unknown time zone), so the event is not silently moved.
 */
export function zoneOfElement(el: XmlElement | undefined): ItemZone | null {
  if (!el) return null;
  const id = (attr(el, "Id") ?? attr(el, "TimeZoneName") ?? "").trim();
  if (!id) {
    // A 2007 MeetingTimeZone with only a BaseOffset: a fixed offset zone we cannot name; read times as given (UTC).
    if (kid(el, "BaseOffset")) return UTC_ZONE;
    return null;
  }
  const z = zoneOfId(id);
  if (!z) throw new EwsError("ErrorCalendarInvalidTimeZone", `The time zone "${id.slice(0, 100)}" is not known.`);
  return z;
}

/** The request's TimeZoneContext zone (c.timeZone, an IANA name), or UTC. */
export function contextZone(c: EwsContext): ItemZone {
  if (!c.timeZone) return UTC_ZONE;
  return zoneOfId(c.timeZone) ?? UTC_ZONE;
}

/** UTC midnight of the wall date `ms` falls on in `z`. */
export function wallDate(ms: number, z: ItemZone): number {
  if (!z.zone) return Math.floor(ms / DAY) * DAY;
  const u = ICAL.Time.fromData({ year: 1970, month: 1, day: 1 }, ICAL.Timezone.utcTimezone);
  u.fromUnixTime(Math.floor(ms / 1000));
  u.zone = ICAL.Timezone.utcTimezone;
  const w = utcToWall(u, z.zone);
  return Date.UTC(w.year, w.month - 1, w.day);
}

/** The UTC instant of local midnight of a date (UTC-midnight ms) in `z`. */
export function midnightIn(dateMs: number, z: ItemZone): number {
  if (!z.zone) return dateMs;
  const d = new Date(dateMs);
  const t = new ICAL.Time({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: 0, minute: 0, second: 0, isDate: false }, z.zone);
  return t.toUnixTime() * 1000;
}

/** The instant a wall-clock time (given as the UTC ms of the same digits) is in `z`. */
export function wallToInstant(wallMs: number, z: ItemZone): number {
  if (!z.zone) return wallMs;
  const d = new Date(wallMs);
  const t = new ICAL.Time({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(), isDate: false }, z.zone);
  return t.toUnixTime() * 1000;
}

/** The offset (minutes east of UTC) written in an xs:dateTime, or null when it has none or Z. */
export function writtenOffset(s: string): number | null {
  const m = /([+-])(\d{2}):(\d{2})$/.exec(s.trim());
  if (!m) return null;
  return (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}
