/** RFC 5322 §3.3 date-time, with the obsolete forms of §4.3 (2-digit years, named zones, missing seconds). */

const MONTHS: Record<string, number> = { jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11 };
const ZONES: Record<string, number> = {
  ut: 0, gmt: 0, z: 0, utc: 0, edt: -240, est: -300, cdt: -300, cst: -360, mdt: -360, mst: -420, pdt: -420, pst: -480,
};

/** Milliseconds since the epoch, or null if the value is not a recognisable date. */
export function parseMailDate(raw: string | null): number | null {
  if (!raw) return null;
  const s = raw.replace(/\([^()]*\)/g, " ").replace(/\s+/g, " ").trim();
  const m = /^(?:[a-z]{3,}\s*,?\s*)?(\d{1,2})\s*[- ]?\s*([a-z]{3})[a-z]*\s*[- ]?\s*(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*([+-]\d{4}|[+-]\d{2}:?\d{2}|[a-z]{1,5})?/i.exec(s);
  if (m) {
    const day = Number(m[1]);
    const mon = MONTHS[m[2].toLowerCase()];
    let year = Number(m[3]);
    if (m[3].length === 2) year += year < 50 ? 2000 : 1900; // RFC 5322 §4.3
    else if (m[3].length === 3) year += 1900;
    const hh = Number(m[4]);
    const mi = Number(m[5]);
    const ss = m[6] ? Number(m[6]) : 0;
    if (mon === undefined || day < 1 || day > 31 || hh > 23 || mi > 59 || ss > 60) return fallback(s);
    let offset = 0;
    const z = m[7];
    if (z) {
      if (/^[+-]/.test(z)) {
        const digits = z.replace(":", "");
        const sign = digits[0] === "-" ? -1 : 1;
        offset = sign * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5)));
      } else offset = ZONES[z.toLowerCase()] ?? 0; // unknown military zones: treat as UT (RFC 5322 §4.3)
    }
    const t = Date.UTC(year, mon, day, hh, mi, Math.min(ss, 59)) - offset * 60_000;
    return Number.isFinite(t) ? t : null;
  }
  return fallback(s);
}

function fallback(s: string): number | null {
  if (!/\d/.test(s)) return null;
  const t = Date.parse(s);
  return Number.isFinite(t) ? t : null;
}

const DAY_NAMES = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * RFC 5322 §3.3 date-time in UTC with a numeric zone ("Mon, 7 Dec 2026
 * 05:38:34 +0000"): the one formatter for Date, Received, DSN and draft
 * headers. "GMT" is obsolete syntax (§4.3), so the zone is always "+0000".
 * An invalid date (NaN) formats as the epoch rather than "NaN".
 */
export function formatMailDate(d: Date | number = new Date()): string {
  let t = typeof d === "number" ? d : d.getTime();
  if (!Number.isFinite(t) || Math.abs(t) > 8.64e15) t = 0;
  const x = new Date(t);
  const p = (n: number) => String(n).padStart(2, "0");
  const y = x.getUTCFullYear();
  // RFC 5322 §3.3: year is 4*DIGIT; years before 1000 are padded, after 9999 written out.
  const year = y >= 0 && y < 1000 ? String(y).padStart(4, "0") : String(y);
  return `${DAY_NAMES[x.getUTCDay()]}, ${x.getUTCDate()} ${MONTH_NAMES[x.getUTCMonth()]} ${year} ${p(x.getUTCHours())}:${p(x.getUTCMinutes())}:${p(x.getUTCSeconds())} +0000`;
}
