/**
 * The ActiveSync TIMEZONE blob (MS-ASCAL §2.2.2.42 Timezone, layout in
 * MS-ASDTYPE §2.7 TimeZone): base64 of a 172-byte little-endian structure
 *
 *   0   Bias          int32   minutes, UTC = local + Bias
 *   4   StandardName  32 UTF-16 code units, NUL padded
 *   68  StandardDate  SYSTEMTIME (8 × uint16: year, month, dayOfWeek, day, hour, minute, second, ms)
 *   84  StandardBias  int32
 *   88  DaylightName  32 UTF-16 code units
 *   152 DaylightDate  SYSTEMTIME
 *   168 DaylightBias  int32
 *
 * A SYSTEMTIME with year 0 is a yearly "day-of-week" rule: `day` is the
 * week of the month 1-5 (5 = the last), `dayOfWeek` 0 = Sunday, the time is
 * the wall-clock time (in the offset in force before the change) at which
 * the change happens. Month 0 in StandardDate means the zone has no DST.
 *
 * A blob has no history: encodeTimezone gives the rules in force in the
 * event's year; decodeTimezone finds the IANA zone whose current rules the
 * blob describes, or makes a VTIMEZONE of the blob's own rules so the event
 * keeps its wall-clock time.
 */
import ICAL from "ical.js";
import { ianaName, vtimezoneFor } from "../../../../src/groupware/ical/zones.ts";
import { WINDOWS_ZONES } from "../../../../src/groupware/ical/windows-zones.ts";
import { EasDataError } from "./codec.ts";

const BLOB_SIZE = 172;
const NAME_UNITS = 32;
/** Real zones lie within UTC-12..UTC+14; ±14 h bounds every bias a device may send. */
const MAX_BIAS_MINUTES = 14 * 60;

/** A yearly transition rule (SYSTEMTIME with year 0) or a one-off date (year set). */
export interface TzRule {
  year: number;
  month: number;
  dayOfWeek: number;
  /** Week of the month 1-5 (5 = last) for a yearly rule, the day of the month for a dated one. */
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The decoded structure (minutes as in the blob: Bias = -UTC offset). */
export interface TzInfo {
  bias: number;
  standardName: string;
  standardDate: TzRule | null;
  standardBias: number;
  daylightName: string;
  daylightDate: TzRule | null;
  daylightBias: number;
}

const windowsByIana = new Map<string, string>();
for (const [win, iana] of Object.entries(WINDOWS_ZONES)) if (!windowsByIana.has(iana)) windowsByIana.set(iana, win);

// ---------------------------------------------------------------- binary form

export function packTimezone(tz: TzInfo): string {
  const buf = new Uint8Array(BLOB_SIZE);
  const dv = new DataView(buf.buffer);
  dv.setInt32(0, tz.bias, true);
  writeName(dv, 4, tz.standardName);
  writeSystemTime(dv, 68, tz.standardDate);
  dv.setInt32(84, tz.standardBias, true);
  writeName(dv, 88, tz.daylightName);
  writeSystemTime(dv, 152, tz.daylightDate);
  dv.setInt32(168, tz.daylightBias, true);
  return Buffer.from(buf).toString("base64");
}

function writeName(dv: DataView, at: number, name: string): void {
  // 31 units at most: the last one stays NUL (the field is a NUL-terminated WCHAR[32]).
  const n = Math.min(name.length, NAME_UNITS - 1);
  for (let i = 0; i < n; i++) dv.setUint16(at + 2 * i, name.charCodeAt(i), true);
}

function writeSystemTime(dv: DataView, at: number, r: TzRule | null): void {
  if (!r) return;
  const v = [r.year, r.month, r.dayOfWeek, r.day, r.hour, r.minute, r.second, 0];
  v.forEach((x, i) => dv.setUint16(at + 2 * i, x, true));
}

/** Parses and checks a blob; throws EasDataError for anything malformed. */
export function unpackTimezone(blob: string): TzInfo {
  const t = blob.replace(/\s+/g, "");
  if (t.length > 400 || !/^[A-Za-z0-9+/]*={0,2}$/.test(t) || t.length % 4 !== 0) throw new EasDataError("time zone is not base64");
  const buf = Buffer.from(t, "base64");
  if (buf.length !== BLOB_SIZE) throw new EasDataError(`time zone blob has ${buf.length} bytes, not ${BLOB_SIZE}`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const info: TzInfo = {
    bias: dv.getInt32(0, true),
    standardName: readName(dv, 4),
    standardDate: readSystemTime(dv, 68, "StandardDate"),
    standardBias: dv.getInt32(84, true),
    daylightName: readName(dv, 88),
    daylightDate: readSystemTime(dv, 152, "DaylightDate"),
    daylightBias: dv.getInt32(168, true),
  };
  for (const b of [info.bias, info.bias + info.standardBias, info.bias + info.daylightBias]) {
    if (Math.abs(b) > MAX_BIAS_MINUTES) throw new EasDataError(`time zone bias ${b} min is beyond ±14 h`);
  }
  // MS-ASDTYPE: month 0 in StandardDate = no daylight saving time; a lone daylight rule is meaningless.
  if (!info.standardDate || !info.daylightDate) {
    info.standardDate = null;
    info.daylightDate = null;
    info.daylightBias = 0;
  }
  if (info.standardDate && info.daylightDate && info.standardBias === info.daylightBias) {
    // Both rules switch to the same offset: no DST in effect.
    info.standardDate = null;
    info.daylightDate = null;
  }
  return info;
}

function readName(dv: DataView, at: number): string {
  let s = "";
  for (let i = 0; i < NAME_UNITS; i++) {
    const c = dv.getUint16(at + 2 * i, true);
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  // Control characters would end up in a TZID line.
  return s.replace(/[\u0000-\u001f\u007f\ud800-\udfff]/g, "").trim();
}

function readSystemTime(dv: DataView, at: number, field: string): TzRule | null {
  const v = Array.from({ length: 8 }, (_, i) => dv.getUint16(at + 2 * i, true));
  const [year, month, dayOfWeek, day, hour, minute, second, ms] = v as [number, number, number, number, number, number, number, number];
  if (month === 0) return null;
  const bad = (what: string) => new EasDataError(`time zone ${field}: ${what}`);
  if (month > 12) throw bad(`month ${month}`);
  if (dayOfWeek > 6) throw bad(`day of week ${dayOfWeek}`);
  if (hour > 23 || minute > 59 || second > 59 || ms > 999) throw bad("time out of range");
  if (year === 0) {
    if (day < 1 || day > 5) throw bad(`week ${day}`);
  } else {
    if (year < 1601 || year > 9999) throw bad(`year ${year}`);
    if (day < 1 || day > daysInMonth(year, month)) throw bad(`day ${day}`);
  }
  return { year, month, dayOfWeek, day, hour, minute, second };
}

// ---------------------------------------------------------------- encode

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const UTC_INFO: TzInfo = Object.freeze({ bias: 0, standardName: "UTC", standardDate: null, standardBias: 0, daylightName: "UTC", daylightDate: null, daylightBias: 0 });

/** Blob for the zone an event uses: `tzid` (an IANA name, a Windows name, or the TZID of `vtimezone`) in `year`; UTC/floating/unknown -> a zero-bias "UTC" blob. */
export function encodeTimezone(tzid: string | null, vtimezone: string | null, year: number): string {
  const info = timezoneInfo(tzid, vtimezone, year);
  let blob = packed.get(info);
  if (blob === undefined) {
    blob = packTimezone(info);
    packed.set(info, blob);
  }
  return blob;
}

/** The blob of a computed (cached) structure. */
const packed = new WeakMap<TzInfo, string>();

/**
 * Computed structures: a first sync renders every event of a calendar, most in one or two zones, and one
 * computation takes a few milliseconds. Keyed by zone and year (and by the definition for a zone an object
 * defines itself); cleared when full, so a flood of distinct definitions cannot grow it.
 */
const infoCache = new Map<string, TzInfo>();
const MAX_CACHED = 2000;
/** Definitions longer than this are computed each time rather than kept as cache keys. */
const MAX_CACHED_DEFINITION = 16 * 1024;

/** The structure encodeTimezone packs (shared and frozen). */
export function timezoneInfo(tzid: string | null, vtimezone: string | null, year: number): TzInfo {
  if (!tzid) return UTC_INFO;
  const y = Number.isInteger(year) && year >= 1601 && year <= 9999 ? year : new Date().getUTCFullYear();
  const iana = ianaName(tzid);
  if (iana === "Etc/UTC") return UTC_INFO;
  const key = iana ? `${iana}\u0000${y}` : vtimezone && vtimezone.length <= MAX_CACHED_DEFINITION ? `${tzid}\u0000${y}\u0000${vtimezone}` : null;
  const hit = key !== null ? infoCache.get(key) : undefined;
  if (hit) return hit;
  let zone: ICAL.Timezone | null = null;
  let name = tzid.trim();
  if (iana) {
    zone = knownZone(iana);
    name = windowsByIana.get(iana) ?? iana;
  }
  if (!zone && vtimezone) zone = zoneFromText(vtimezone, tzid);
  if (!zone) return UTC_INFO;
  // Shared through the cache: frozen.
  const info = Object.freeze(infoOfZone(zone, y, name));
  if (key !== null) {
    if (infoCache.size >= MAX_CACHED) infoCache.clear();
    infoCache.set(key, info);
  }
  return info;
}

/** One zone object per IANA name (ical.js keeps its computed transitions). */
const knownZones = new Map<string, ICAL.Timezone | null>();
function knownZone(iana: string): ICAL.Timezone | null {
  let z = knownZones.get(iana);
  if (z === undefined) {
    z = zoneFromText(vtimezoneFor(iana), iana);
    knownZones.set(iana, z);
  }
  return z;
}

function zoneFromText(text: string | null, tzid: string): ICAL.Timezone | null {
  if (!text || text.length > 256 * 1024) return null;
  try {
    const parsed = ICAL.parse(text) as unknown[];
    let comp = new ICAL.Component(parsed);
    if (comp.name !== "vtimezone") {
      const found = comp.getAllSubcomponents("vtimezone").find((c) => c.getFirstPropertyValue("tzid") === tzid) ?? comp.getFirstSubcomponent("vtimezone");
      if (!found) return null;
      comp = found;
    }
    return new ICAL.Timezone({ component: comp, tzid });
  } catch {
    return null;
  }
}

/**
 * UTC offset in minutes of a wall-clock time (given as ms of that wall time read as UTC). ical.js looks
 * offsets up by wall-clock time; a wall time in a spring-forward gap reads as the new offset, one in the
 * repeated hour of a fall-back as the new (standard) offset.
 */
function offsetAtWall(zone: ICAL.Timezone, wallMs: number): number {
  const d = new Date(wallMs);
  const t = new ICAL.Time(
    { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: 0, isDate: false },
    zone,
  );
  return Math.round(zone.utcOffset(t) / 60);
}

interface Change {
  /** Wall-clock ms (read as UTC) of the change, in the offset in force before it (the SYSTEMTIME's meaning). */
  wall: number;
  from: number;
  to: number;
}

/** The offset changes within a year: monthly probes of wall-clock time, then a binary search to the minute. */
function changesIn(zone: ICAL.Timezone, year: number): { changes: Change[]; first: number } {
  const probes: number[] = [];
  for (let m = 0; m <= 12; m++) probes.push(Date.UTC(year, m, 1));
  const offs = probes.map((p) => offsetAtWall(zone, p));
  const changes: Change[] = [];
  for (let i = 0; i < 12; i++) {
    if (offs[i] === offs[i + 1]) continue;
    let lo = probes[i]!;
    let hi = probes[i + 1]!;
    const from = offs[i]!;
    while (hi - lo > 60_000) {
      const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
      if (offsetAtWall(zone, mid) === from) lo = mid;
      else hi = mid;
    }
    const to = offsetAtWall(zone, hi);
    // Spring forward: the first wall time of the new offset is the old offset's wall time of the change.
    // Fall back: it is the new offset's; in the old offset's wall clock the change is (from - to) later.
    changes.push({ wall: to > from ? hi : hi + (from - to) * 60_000, from, to });
  }
  return { changes, first: offs[0]! };
}

function ruleOf(c: Change): TzRule {
  const d = new Date(c.wall);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth() + 1;
  const dom = d.getUTCDate();
  const week = dom + 7 > daysInMonth(year, month) ? 5 : Math.ceil(dom / 7);
  return { year: 0, month, dayOfWeek: d.getUTCDay(), day: week, hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: 0 };
}

function infoOfZone(zone: ICAL.Timezone, year: number, name: string): TzInfo {
  const { changes, first } = changesIn(zone, year);
  const stdName = name.slice(0, NAME_UNITS - 1);
  const dstName = (/Standard Time$/.test(name) ? name.replace(/Standard Time$/, "Daylight Time") : name).slice(0, NAME_UNITS - 1);
  if (changes.length !== 2 || changes[0]!.to !== changes[1]!.from || changes[1]!.to !== changes[0]!.from) {
    // No DST this year, or an irregular year (a zone changing its base offset): the offset in force at the
    // year's end, which is the one that lasts.
    const off = changes.length ? changes[changes.length - 1]!.to : first;
    return { bias: -off, standardName: stdName, standardDate: null, standardBias: 0, daylightName: dstName, daylightDate: null, daylightBias: 0 };
  }
  const [a, b] = changes as [Change, Change];
  // Standard time is the smaller offset (northern and southern zones alike).
  const toDst = a.to > a.from ? a : b;
  const toStd = toDst === a ? b : a;
  const std = toStd.to;
  const dst = toDst.to;
  return {
    bias: -std,
    standardName: stdName,
    standardDate: ruleOf(toStd),
    standardBias: 0,
    daylightName: dstName,
    daylightDate: ruleOf(toDst),
    daylightBias: -(dst - std),
  };
}

// ---------------------------------------------------------------- decode

/**
 * Whether two structures describe the same offsets changing on the same days of `year`. Rules are
 * compared by the dates they give, not their form: a device may write "the last Sunday" as week 4 in
 * a year where that Sunday is the 4th (MS-ASDTYPE's week 5 means "last", but not every device uses it).
 */
function sameRules(a: TzInfo, b: TzInfo, year: number): boolean {
  const r = (x: TzRule | null, y: TzRule | null) => {
    if (x === null || y === null) return x === y;
    const dx = ruleDate(x, year);
    const dy = ruleDate(y, year);
    return dx.y === dy.y && dx.m === dy.m && dx.d === dy.d && x.hour === y.hour && x.minute === y.minute;
  };
  const off = (i: TzInfo) => [-(i.bias + i.standardBias), -(i.bias + i.daylightBias)];
  const [as, ad] = off(a);
  const [bs, bd] = off(b);
  if (a.standardDate === null) return b.standardDate === null && as === bs;
  return as === bs && ad === bd && r(a.standardDate, b.standardDate) && r(a.daylightDate, b.daylightDate);
}

/** Candidate zones for a bias/rule search: the zones of the Windows table (one per Windows zone, its "001" zone). */
const CANDIDATES = [...new Set(Object.values(WINDOWS_ZONES))].filter((z) => z !== "Etc/UTC");
/** The offsets (minutes) a zone's definition switches to (its TZOFFSETTO values): a cheap filter before its rules are computed. */
const offsetSets = new Map<string, Set<number>>();
function offsetsOf(iana: string): Set<number> {
  let set = offsetSets.get(iana);
  if (!set) {
    set = new Set();
    for (const m of (vtimezoneFor(iana) ?? "").matchAll(/^TZOFFSETTO:([+-])(\d\d)(\d\d)/gm)) {
      set.add((m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])));
    }
    offsetSets.set(iana, set);
  }
  return set;
}

/** The candidate zones whose definitions use the blob's offsets: only those get their year's rules computed. */
function candidatesFor(info: TzInfo): string[] {
  const std = -(info.bias + info.standardBias);
  const dst = -(info.bias + info.daylightBias);
  return CANDIDATES.filter((iana) => {
    const set = offsetsOf(iana);
    return set.has(std) && (info.standardDate === null || set.has(dst));
  });
}

function matchesZone(info: TzInfo, iana: string, years: number[]): boolean {
  if (iana === "Etc/UTC") return info.standardDate === null && info.bias + info.standardBias === 0;
  if (!knownZone(iana)) return false;
  return years.some((y) => sameRules(info, timezoneInfo(iana, null, y), y));
}

/** The zone of a blob: an IANA tzid when the blob matches a known zone (StandardName as a Windows zone name via src/groupware/ical/windows-zones.ts, else bias+rules), and a VTIMEZONE text for it. Throws EasDataError (../groupware/codec.ts) for a malformed blob (not base64, wrong length, month 13, week 9, bias beyond ±14h...). */
export function decodeTimezone(blob: string): { tzid: string; vtimezone: string } {
  // A device sends the same blob with every event: the answer is kept per blob (only well-formed ones).
  const hit = decodeCache.get(blob);
  if (hit) return { ...hit };
  const out = decodeUncached(blob);
  if (decodeCache.size >= MAX_CACHED) decodeCache.clear();
  if (blob.length <= 400) decodeCache.set(blob, out);
  return out;
}

const decodeCache = new Map<string, { tzid: string; vtimezone: string }>();

function decodeUncached(blob: string): { tzid: string; vtimezone: string } {
  const info = unpackTimezone(blob);
  const now = new Date().getUTCFullYear();
  const years = [now, now + 1, now - 1];
  const named = info.standardName ? ianaName(info.standardName) : null;
  if (named && matchesZone(info, named, years)) return known(named);
  if (info.standardDate === null && info.bias + info.standardBias === 0) return known("Etc/UTC");
  // A dated (year-specific) rule matches no yearly zone: only a yearly one is searched.
  if (info.standardDate === null || (info.standardDate.year === 0 && info.daylightDate!.year === 0)) {
    for (const y of years) {
      for (const iana of candidatesFor(info)) if (sameRules(info, timezoneInfo(iana, null, y), y)) return known(iana);
    }
  }
  return custom(info);
}

function known(iana: string): { tzid: string; vtimezone: string } {
  if (iana === "Etc/UTC") return { tzid: "UTC", vtimezone: vtimezoneFor("UTC") ?? customText("UTC", 0, null) };
  const text = vtimezoneFor(iana);
  if (!text) throw new EasDataError(`zone ${iana} has no definition`);
  return { tzid: iana, vtimezone: text };
}

function fmtOffset(min: number, colon: boolean): string {
  const s = min < 0 ? "-" : "+";
  const a = Math.abs(min);
  const h = String(Math.floor(a / 60)).padStart(2, "0");
  const m = String(a % 60).padStart(2, "0");
  return `${s}${h}${colon ? ":" : ""}${m}`;
}

const DAY_CODES = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"];

function ruleLabel(r: TzRule): string {
  const t = `${String(r.hour).padStart(2, "0")}:${String(r.minute).padStart(2, "0")}`;
  return r.year ? `${r.year}-${String(r.month).padStart(2, "0")}-${String(r.day).padStart(2, "0")} ${t}` : `M${r.month}.${r.day}.${r.dayOfWeek} ${t}`;
}

interface Observance {
  kind: "STANDARD" | "DAYLIGHT";
  from: number;
  to: number;
  rule: TzRule;
}

function custom(info: TzInfo): { tzid: string; vtimezone: string } {
  const std = -(info.bias + info.standardBias);
  if (!info.standardDate || !info.daylightDate) {
    const tzid = `Custom UTC${fmtOffset(std, true)}`;
    return { tzid, vtimezone: customText(tzid, std, null) };
  }
  const dst = -(info.bias + info.daylightBias);
  const tzid = `Custom UTC${fmtOffset(std, true)} DST${fmtOffset(dst, true)} ${ruleLabel(info.daylightDate)} ${ruleLabel(info.standardDate)}`;
  const obs: Observance[] = [
    { kind: "DAYLIGHT", from: std, to: dst, rule: info.daylightDate },
    { kind: "STANDARD", from: dst, to: std, rule: info.standardDate },
  ];
  return { tzid, vtimezone: customText(tzid, std, obs) };
}

/** The date a rule gives in `year` (yearly rules) or its own date. */
function ruleDate(r: TzRule, year: number): { y: number; m: number; d: number } {
  if (r.year) return { y: r.year, m: r.month, d: r.day };
  const first = new Date(Date.UTC(year, r.month - 1, 1)).getUTCDay();
  let d = 1 + ((r.dayOfWeek - first + 7) % 7) + 7 * (r.day - 1);
  while (d > daysInMonth(year, r.month)) d -= 7;
  return { y: year, m: r.month, d };
}

function customText(tzid: string, std: number, obs: Observance[] | null): string {
  const lines = ["BEGIN:VTIMEZONE", `TZID:${tzid}`];
  if (!obs) {
    lines.push("BEGIN:STANDARD", "DTSTART:16010101T000000", `TZOFFSETFROM:${fmtOffset(std, false)}`, `TZOFFSETTO:${fmtOffset(std, false)}`, "END:STANDARD");
  } else {
    for (const o of obs) {
      const { y, m, d } = ruleDate(o.rule, 1970);
      const p2 = (n: number) => String(n).padStart(2, "0");
      lines.push(
        `BEGIN:${o.kind}`,
        `DTSTART:${String(y).padStart(4, "0")}${p2(m)}${p2(d)}T${p2(o.rule.hour)}${p2(o.rule.minute)}00`,
        `TZOFFSETFROM:${fmtOffset(o.from, false)}`,
        `TZOFFSETTO:${fmtOffset(o.to, false)}`,
      );
      if (!o.rule.year) {
        const week = o.rule.day === 5 ? -1 : o.rule.day;
        lines.push(`RRULE:FREQ=YEARLY;BYMONTH=${o.rule.month};BYDAY=${week}${DAY_CODES[o.rule.dayOfWeek]}`);
      }
      lines.push(`END:${o.kind}`);
    }
  }
  lines.push("END:VTIMEZONE");
  return lines.join("\r\n") + "\r\n";
}
