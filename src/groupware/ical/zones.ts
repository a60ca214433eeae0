/**
 * Time zones: an object's own VTIMEZONE wins for that object (ical.js looks
 * TZIDs up in the object's VCALENDAR first, per root, RFC 5545 §3.6.5);
 * a TZID the object does not define is resolved here, process-wide, from
 * the IANA database of timezones-ical-library, by IANA name, by a Windows
 * name (Outlook) or by a prefixed IANA name ("/mozilla.org/.../Europe/Berlin").
 *
 * ICAL.TimezoneService is a process-global registry: only zones built from
 * the library's data are registered in it (once per TZID), never a
 * definition a client sent, so one client cannot change another object's
 * times.
 */
import ICAL from "ical.js";
import { tzlib_get_ical_block, tzlib_get_timezones } from "timezones-ical-library";
import { WINDOWS_ZONES } from "./windows-zones.ts";

let knownSet: Map<string, string> | null = null;
/** Lower-case IANA name -> IANA name. */
function known(): Map<string, string> {
  if (!knownSet) {
    const list = tzlib_get_timezones();
    const names = Array.isArray(list) ? list : (JSON.parse(list) as string[]);
    knownSet = new Map(names.map((n) => [n.toLowerCase(), n]));
  }
  return knownSet;
}

const UTC_NAMES = new Set(["utc", "z", "gmt", "etc/utc", "etc/gmt", "etc/zulu", "zulu", "universal", "etc/universal", "greenwich"]);
const windowsLower = new Map(Object.entries(WINDOWS_ZONES).map(([k, v]) => [k.toLowerCase(), v]));

/** The IANA name a TZID stands for, or null when it is none we know. */
export function ianaName(tzid: string): string | null {
  const t = tzid.trim().replace(/^"|"$/g, "");
  if (!t || t.length > 200) return null;
  const lower = t.toLowerCase();
  const k = known();
  const exact = k.get(lower);
  if (exact) return exact;
  const win = windowsLower.get(lower);
  if (win && k.has(win.toLowerCase())) return k.get(win.toLowerCase())!;
  if (UTC_NAMES.has(lower)) return "Etc/UTC";
  // Prefixed forms: "/mozilla.org/20050126_1/Europe/Berlin", "/softwarestudio.org/Olson_20011030_5/America/New_York".
  const parts = t.split("/").filter((p) => p !== "");
  for (let i = 1; i < parts.length; i++) {
    const cand = k.get(parts.slice(i).join("/").toLowerCase());
    if (cand && cand.includes("/")) return cand;
  }
  return null;
}

const blockCache = new Map<string, string | null>();

/** The library's VTIMEZONE of an IANA name, CRLF lines, TZID as the library spells it. */
function ianaBlock(iana: string): string | null {
  let b = blockCache.get(iana);
  if (b !== undefined) return b;
  b = null;
  if (known().has(iana.toLowerCase())) {
    const r = tzlib_get_ical_block(iana);
    const text = Array.isArray(r) ? r[0] : "";
    if (text && text.startsWith("BEGIN:VTIMEZONE")) b = text.replace(/\r?\n/g, "\r\n");
  }
  blockCache.set(iana, b);
  return b;
}

/**
 * VTIMEZONE text (CRLF, ending in CRLF) for a zone name: an IANA name, or a
 * Windows/prefixed name we map (then its TZID is the name asked for, so the
 * references of the object it goes into match). Null when unknown.
 */
export function vtimezoneFor(tzid: string): string | null {
  const iana = ianaName(tzid);
  if (!iana) return null;
  const b = ianaBlock(iana);
  if (!b) return null;
  const name = tzid.trim();
  if (/[\r\n]/.test(name)) return null;
  return b.replace(/^TZID:.*$/m, `TZID:${name}`) + "\r\n";
}

/** One zone object per IANA name (its DST table is computed once), and every name registered for it. */
const ianaZones = new Map<string, ICAL.Timezone | null>();
const globalZones = new Map<string, ICAL.Timezone>();
/** Names that are neither IANA nor in the Windows table ("/vendor/.../Europe/Berlin"): finite in practice, capped against floods. */
const MAX_OTHER_ALIASES = 1000;
let otherAliases = 0;

function ianaZone(iana: string): ICAL.Timezone | null {
  let z = ianaZones.get(iana);
  if (z !== undefined) return z;
  z = null;
  if (iana === "Etc/UTC") z = ICAL.Timezone.utcTimezone;
  else {
    const text = ianaBlock(iana);
    if (text) {
      try {
        z = new ICAL.Timezone({ component: new ICAL.Component(ICAL.parse(text) as unknown[]), tzid: iana });
      } catch {
        z = null;
      }
    }
  }
  ianaZones.set(iana, z);
  return z;
}

/**
 * The process-wide zone for a TZID no object defines (registered in
 * ICAL.TimezoneService under that TZID, so ical.js finds it when it reads a
 * DATE-TIME with TZID=...). Null when the name is unknown.
 */
export function globalZone(tzid: string): ICAL.Timezone | null {
  const known = globalZones.get(tzid);
  if (known) return known;
  const iana = ianaName(tzid);
  if (!iana) return null;
  const z = ianaZone(iana);
  if (!z) return null;
  const plain = iana.toLowerCase() === tzid.toLowerCase() || windowsLower.has(tzid.toLowerCase()) || UTC_NAMES.has(tzid.toLowerCase());
  if (!plain && ++otherAliases > MAX_OTHER_ALIASES) return null;
  globalZones.set(tzid, z);
  if (!ICAL.TimezoneService.has(tzid)) ICAL.TimezoneService.register(z, tzid);
  return z;
}

const floatingCache = new Map<string, ICAL.Timezone | null>();

/** The zone floating times and DATE values are read in (RFC 4791 §9.9: the calendar's zone), null = UTC. */
export function floatingZone(tzid: string | undefined): ICAL.Timezone | null {
  if (!tzid) return null;
  let z = floatingCache.get(tzid);
  if (z === undefined) {
    z = globalZone(tzid);
    if (z === ICAL.Timezone.utcTimezone) z = null;
    if (floatingCache.size < 1000) floatingCache.set(tzid, z);
  }
  return z;
}

/**
 * Makes every TZID an object refers to resolvable: defined in the object
 * (its own VTIMEZONE, kept per object by ical.js), or a zone we know
 * (registered globally from the library), else a warning: its times are
 * read as floating.
 */
export function resolveZones(root: ICAL.Component, warnings: string[]): void {
  const own = new Set<string>();
  for (const tz of root.getAllSubcomponents("vtimezone")) {
    const id = tz.getFirstPropertyValue("tzid");
    if (typeof id === "string") own.add(id);
  }
  const seen = new Set<string>();
  const visit = (c: ICAL.Component) => {
    if (c.name === "vtimezone") return;
    for (const p of c.getAllProperties()) {
      const id = p.getParameter("tzid");
      if (typeof id !== "string" || seen.has(id)) continue;
      seen.add(id);
      if (own.has(id)) continue;
      if (!globalZone(id)) warnings.push(`unknown TZID "${id.slice(0, 100)}" without a VTIMEZONE: its times are read as floating`);
    }
    for (const s of c.getAllSubcomponents()) visit(s);
  };
  for (const c of root.getAllSubcomponents()) visit(c);
}

/**
 * UTC ms of a DATE or DATE-TIME: floating times and DATE values in the
 * floating zone (UTC by default), zoned ones through their zone.
 */
export function timeToMs(t: ICAL.Time, floating: ICAL.Timezone | null): number {
  const z = t.zone;
  if (t.isDate || !z || z === ICAL.Timezone.localTimezone || z.tzid === "floating") {
    if (!floating) {
      const d = new Date(0);
      // setUTCFullYear: Date.UTC would read years 0-99 as 1900-1999.
      d.setUTCFullYear(t.year, t.month - 1, t.day);
      return d.getTime() + (t.isDate ? 0 : (t.hour * 3600 + t.minute * 60 + t.second) * 1000);
    }
    const local = new ICAL.Time({ year: t.year, month: t.month, day: t.day, hour: t.isDate ? 0 : t.hour, minute: t.isDate ? 0 : t.minute, second: t.isDate ? 0 : t.second, isDate: false }, floating);
    return local.toUnixTime() * 1000;
  }
  if (t.year > FAR_YEAR && z !== ICAL.Timezone.utcTimezone) {
    // The Gregorian calendar repeats every 400 years (146,097 days): read the offset 400*k years earlier, so a
    // zone shared by every object never computes (and keeps) its DST changes up to a far year a client names.
    const k = Math.ceil((t.year - FAR_YEAR) / 400);
    const c = t.clone();
    c.year -= 400 * k;
    return c.toUnixTime() * 1000 + k * CYCLE_MS;
  }
  return t.toUnixTime() * 1000;
}

const FAR_YEAR = 2200;
const CYCLE_MS = 146_097 * 86_400_000;

/** The wall-clock (floating) time in `zone` of a UTC instant, with the same 400-year shortcut for far years. */
export function utcToWall(t: ICAL.Time, zone: ICAL.Timezone): ICAL.Time {
  let k = 0;
  let u = t;
  if (t.year > FAR_YEAR) {
    k = Math.ceil((t.year - FAR_YEAR) / 400);
    u = t.clone();
    u.year -= 400 * k;
  }
  // ical.js picks the zone's offset by the UTC clock reading as if it were local time, so next to a
  // change it can use the wrong side's offset (Europe/Berlin 01:30Z gives 02:30, in the gap, instead of
  // 03:30; America/New_York 06:00Z gives 02:00 instead of 01:00). For a zone with an IANA name the
  // runtime's zone data (Intl) answers exactly; other zones (a client's own VTIMEZONE) are corrected by
  // reading the answer back in the zone and keeping a shifted time only when it reads back exactly.
  const iana = ianaName(zone.tzid);
  const exact = iana ? intlWall(u.toUnixTime() * 1000, iana) : null;
  let w: ICAL.Time;
  if (exact) {
    w = exact;
  } else {
    w = u.convertToZone(zone);
    const want = u.toUnixTime();
    const back = readBack(w, zone);
    if (back !== want) {
      const alt = w.clone();
      alt.addDuration(ICAL.Duration.fromSeconds(want - back));
      if (readBack(alt, zone) === want) w = alt;
    }
  }
  w.year += 400 * k;
  w.zone = ICAL.Timezone.localTimezone;
  return w;
}

const intlCache = new Map<string, Intl.DateTimeFormat | null>();

/** The wall-clock time of `ms` in an IANA zone from the runtime's zone data, or null when the runtime lacks the zone. */
function intlWall(ms: number, iana: string): ICAL.Time | null {
  let f = intlCache.get(iana);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat("en-US", { timeZone: iana, year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric", hourCycle: "h23", era: "short" });
    } catch {
      f = null;
    }
    if (intlCache.size > 1000) intlCache.clear();
    intlCache.set(iana, f);
  }
  if (!f || !Number.isFinite(ms)) return null;
  const n: Record<string, number> = {};
  let bc = false;
  for (const p of f.formatToParts(ms)) {
    if (p.type === "era") bc = p.value.startsWith("B");
    else if (p.type !== "literal") n[p.type] = Number(p.value);
  }
  if (bc || !(n.year > 0)) return null; // years before 1 AD: leave them to ical.js
  return new ICAL.Time({ year: n.year, month: n.month, day: n.day, hour: n.hour, minute: n.minute, second: n.second, isDate: false }, ICAL.Timezone.localTimezone);
}

/** The UTC seconds of a wall-clock time read in `zone`. */
function readBack(w: ICAL.Time, zone: ICAL.Timezone): number {
  const c = w.clone();
  c.zone = zone;
  return c.toUnixTime();
}
