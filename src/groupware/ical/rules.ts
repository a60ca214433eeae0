/**
 * Checks on RRULE values before ical.js iterates them. ical.js searches for
 * the next occurrence candidate by candidate inside one `next()` call; a
 * rule whose filters no date satisfies (FREQ=DAILY;BYMONTH=4;BYMONTHDAY=31)
 * or whose filters are far coarser than its frequency
 * (FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=29: years of seconds between hits)
 * would make that one call run for minutes or forever, out of reach of any
 * step cap. Such rules are refused when the object is written.
 */
import ICAL from "ical.js";
import { ICalError } from "./errors.ts";

const MAX_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const SUB_DAILY = new Set(["SECONDLY", "MINUTELY", "HOURLY"]);

/** Part, smallest and largest value, whether negative values (counting from the end) are allowed. */
const RANGES: [string, number, number, boolean][] = [
  ["BYSECOND", 0, 60, false],
  ["BYMINUTE", 0, 59, false],
  ["BYHOUR", 0, 23, false],
  ["BYMONTHDAY", 1, 31, true],
  ["BYYEARDAY", 1, 366, true],
  ["BYWEEKNO", 1, 53, true],
  ["BYMONTH", 1, 12, false],
  ["BYSETPOS", 1, 366, true],
];

function nums(v: unknown): number[] {
  return Array.isArray(v) ? v.filter((x): x is number => typeof x === "number") : [];
}

export function checkRule(rule: ICAL.Recur): void {
  const freq = rule.freq ?? "";
  const parts = (rule.parts ?? {}) as Record<string, unknown>;
  const has = (k: string) => Array.isArray(parts[k]) && (parts[k] as unknown[]).length > 0;
  const refuse = (why: string, code: "LIMIT" | "INVALID_DATA" = "LIMIT") => {
    throw new ICalError(code, `RRULE ${rule.toString().slice(0, 120)}: ${why}`);
  };
  // RFC 5545 §3.3.10 value ranges (ical.js compares the text with the bound and lets "99999999999Z" through).
  for (const [k, lo, hi, signed] of RANGES) {
    const v = parts[k];
    if (v === undefined) continue;
    const list = Array.isArray(v) ? v : [v];
    if (list.length > 366) refuse(`more than 366 ${k} values`, "INVALID_DATA");
    for (const x of list) {
      const n = typeof x === "number" ? x : Number.NaN;
      const ok = Number.isInteger(n) && (signed ? Math.abs(n) >= lo && Math.abs(n) <= hi : n >= lo && n <= hi);
      if (!ok) refuse(`${k} value ${String(x).slice(0, 30)} is out of range`, "INVALID_DATA");
    }
  }
  const byday = parts["BYDAY"];
  if (byday !== undefined) {
    const list = Array.isArray(byday) ? byday : [byday];
    if (list.length > 366) refuse("more than 366 BYDAY values", "INVALID_DATA");
    for (const d of list) {
      const m = typeof d === "string" ? /^([+-]?)(\d{0,2})(MO|TU|WE|TH|FR|SA|SU)$/.exec(d) : null;
      if (!m || (m[2] !== "" && (Number(m[2]) < 1 || Number(m[2]) > 53))) refuse(`BYDAY value ${String(d).slice(0, 30)} is out of range`, "INVALID_DATA");
    }
  }
  // A period longer than a century has one instance in any calendar's life; huge ones overflow ical.js's date arithmetic.
  const unitDays: Record<string, number> = { SECONDLY: 1 / 86_400, MINUTELY: 1 / 1440, HOURLY: 1 / 24, DAILY: 1, WEEKLY: 7, MONTHLY: 31, YEARLY: 366 };
  const interval = rule.interval ?? 1;
  if (!Number.isSafeInteger(interval) || interval < 1 || interval * (unitDays[freq] ?? 1) > 36_600) refuse(`INTERVAL=${String(interval).slice(0, 30)} is out of range (a period of at most 100 years)`, "INVALID_DATA");
  // RFC 5545 §3.3.10: BYWEEKNO only with YEARLY; BYYEARDAY not with DAILY, WEEKLY, MONTHLY; BYMONTHDAY not with WEEKLY.
  if (has("BYWEEKNO") && freq !== "YEARLY") refuse("BYWEEKNO is only allowed with FREQ=YEARLY (RFC 5545 §3.3.10)", "INVALID_DATA");
  if (has("BYYEARDAY") && (freq === "DAILY" || freq === "WEEKLY" || freq === "MONTHLY")) refuse(`BYYEARDAY is not allowed with FREQ=${freq} (RFC 5545 §3.3.10)`, "INVALID_DATA");
  if (has("BYMONTHDAY") && freq === "WEEKLY") refuse("BYMONTHDAY is not allowed with FREQ=WEEKLY (RFC 5545 §3.3.10)", "INVALID_DATA");
  if (SUB_DAILY.has(freq)) {
    // Day-level filters on a sub-daily rule are searched hour by hour, minute by minute or second by second.
    for (const k of ["BYMONTH", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO"]) if (has(k)) refuse(`${k} with FREQ=${freq} is not supported (too many candidates between occurrences)`);
    if (freq === "SECONDLY" && has("BYDAY")) refuse("BYDAY with FREQ=SECONDLY is not supported (too many candidates between occurrences)");
  }
  // BYMONTH with BYMONTHDAY: some month of the list must have some day of the list, or no date ever matches.
  if ((freq === "DAILY" || freq === "MONTHLY") && has("BYMONTHDAY")) {
    const months = has("BYMONTH") ? nums(parts["BYMONTH"]) : [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    const days = nums(parts["BYMONTHDAY"]);
    const ok = months.some((m) => m >= 1 && m <= 12 && days.some((d) => d !== 0 && Math.abs(d) <= MAX_DAYS[m - 1]!));
    if (!ok) refuse("no date matches BYMONTH and BYMONTHDAY together", "INVALID_DATA");
  }
}

/** Every RRULE of a component, checked. */
export function checkRules(comp: ICAL.Component): void {
  for (const p of comp.getAllProperties("rrule")) {
    const v = p.getFirstValue();
    if (!(v instanceof ICAL.Recur)) throw new ICalError("INVALID_DATA", "RRULE is not a recurrence rule");
    if (!v.freq) throw new ICalError("INVALID_DATA", "RRULE without FREQ (RFC 5545 §3.3.10)");
    checkRule(v);
  }
}
