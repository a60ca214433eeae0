/**
 * RFC 5260 date and currentdate: dates read from header fields with the
 * project's date parser (mail/date.ts), their zone, and the date-part values
 * of §4.2.
 */
import { parseMailDate } from "../../mail/date.ts";

export interface ZonedTime {
  /** Milliseconds since the epoch. */
  ms: number;
  /** The zone the value is shown in, minutes east of UTC. */
  zone: number;
}

const NAMED_ZONES: Record<string, number> = {
  ut: 0, gmt: 0, z: 0, utc: 0, edt: -240, est: -300, cdt: -300, cst: -360, mdt: -360, mst: -420, pdt: -420, pst: -480,
};

/** "+hhmm" / "-hhmm" (RFC 5260 §4.1 :zone) as minutes east of UTC, or null. */
export function parseZone(z: string): number | null {
  const m = /^([+-])(\d{2})(\d{2})$/.exec(z.trim());
  if (!m) return null;
  const hh = Number(m[2]);
  const mm = Number(m[3]);
  if (hh > 23 || mm > 59) return null; // RFC 5260 §4.1: a valid offset, else the zone is ignored
  return (m[1] === "-" ? -1 : 1) * (hh * 60 + mm);
}

/**
 * The date of a header field (RFC 5260 §4): for Received, the date after
 * the last ";" (RFC 5322 §3.6.7); null when there is none or it does not
 * parse (the test is then false for that field).
 */
export function headerDate(value: string, received: boolean): ZonedTime | null {
  let v = value;
  if (received) {
    const semi = v.lastIndexOf(";");
    if (semi < 0) return null;
    v = v.slice(semi + 1);
  }
  if (v.length > 512) return null; // no real date is this long; keeps the regex work small
  // RFC 5322 §3.3 shape (day, then month name): parseMailDate would also take ISO 8601 or
  // ctime forms through its fallback, which Pigeonhole treats as no date
  if (!/\d{1,2}\s*[- ]?\s*[a-z]{3}/i.test(v)) return null;
  const ms = parseMailDate(v);
  if (ms === null) return null;
  return { ms, zone: zoneOf(v) };
}

/** The zone written in a date value (numeric or one of RFC 5322 §4.3's names); 0 when none. */
function zoneOf(v: string): number {
  const s = v.replace(/\([^()]*\)/g, " ").trim();
  const num = /(?:^|\s|\d)([+-])(\d{2}):?(\d{2})\s*$/.exec(s);
  if (num) {
    const mins = Number(num[2]) * 60 + Number(num[3]);
    return num[1] === "-" ? -mins : mins;
  }
  const named = /\s([a-z]{1,5})\s*$/i.exec(s);
  if (named) return NAMED_ZONES[named[1].toLowerCase()] ?? 0;
  return 0;
}

const DAY_NAMES = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const p2 = (n: number) => String(n).padStart(2, "0");

function zoneText(zone: number, colon: boolean): string {
  const sign = zone < 0 ? "-" : "+";
  const a = Math.abs(zone);
  return `${sign}${p2(Math.floor(a / 60))}${colon ? ":" : ""}${p2(a % 60)}`;
}

/** RFC 5260 §4.2: the value of `part` for the time shown in its zone, or null for an unknown part. */
export function datePart(t: ZonedTime, part: string): string | null {
  const local = new Date(t.ms + t.zone * 60_000);
  if (!Number.isFinite(local.getTime())) return null;
  const y = local.getUTCFullYear();
  const year = String(y).padStart(4, "0");
  const month = p2(local.getUTCMonth() + 1);
  const day = p2(local.getUTCDate());
  const hour = p2(local.getUTCHours());
  const minute = p2(local.getUTCMinutes());
  const second = p2(local.getUTCSeconds());
  switch (part.toLowerCase()) {
    case "year":
      return year;
    case "month":
      return month;
    case "day":
      return day;
    case "date":
      return `${year}-${month}-${day}`;
    case "julian":
      // Modified Julian Day: days since 1858-11-17 (the Unix epoch is MJD 40587)
      return String(Math.floor((t.ms + t.zone * 60_000) / 86_400_000) + 40587);
    case "hour":
      return hour;
    case "minute":
      return minute;
    case "second":
      return second;
    case "time":
      return `${hour}:${minute}:${second}`;
    case "iso8601":
      // RFC 3339 form; UTC written "Z" as Pigeonhole writes it
      return `${year}-${month}-${day}T${hour}:${minute}:${second}${t.zone === 0 ? "Z" : zoneText(t.zone, true)}`;
    case "std11":
      return `${DAY_NAMES[local.getUTCDay()]}, ${day} ${MONTH_NAMES[local.getUTCMonth()]} ${year} ${hour}:${minute}:${second} ${zoneText(t.zone, false)}`;
    case "zone":
      return zoneText(t.zone, false);
    case "weekday":
      return String(local.getUTCDay()); // 0 = Sunday
    default:
      return null;
  }
}
