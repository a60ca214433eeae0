/**
 * A recurrence rule (RRULE, RFC 5545 §3.3.10) in plain English words for the
 * invitation card's data and the words of "what changed" (`changes`); the
 * browser words the rule itself in the user's language from `rrule`.
 */
import ICAL from "ical.js";

const DAYS: Record<string, string> = { MO: "Monday", TU: "Tuesday", WE: "Wednesday", TH: "Thursday", FR: "Friday", SA: "Saturday", SU: "Sunday" };
const UNITS: Record<string, [string, string]> = {
  SECONDLY: ["second", "seconds"],
  MINUTELY: ["minute", "minutes"],
  HOURLY: ["hour", "hours"],
  DAILY: ["day", "days"],
  WEEKLY: ["week", "weeks"],
  MONTHLY: ["month", "months"],
  YEARLY: ["year", "years"],
};
const ORDINALS: Record<string, string> = { "1": "first", "2": "second", "3": "third", "4": "fourth", "5": "fifth", "-1": "last", "-2": "second to last" };

/** "Every week on Tuesday and Thursday, 10 times"; "" when the rule can't be read. */
export function describeRrule(rrule: string): string {
  let r: ICAL.Recur;
  try {
    r = ICAL.Recur.fromString(rrule.slice(0, 1000));
  } catch {
    return "";
  }
  const unit = UNITS[r.freq];
  if (!unit) return "";
  const n = r.interval && r.interval > 1 ? r.interval : 1;
  let out = n === 1 ? `Every ${unit[0]}` : `Every ${n} ${unit[1]}`;
  const parts = r.parts as Record<string, unknown[] | undefined>;
  const byDay = (parts.BYDAY ?? []).map(String).slice(0, 7);
  if (byDay.length) {
    const words = byDay.map((d) => {
      const m = /^([+-]?\d)?([A-Z]{2})$/.exec(d);
      if (!m) return d;
      const day = DAYS[m[2]!] ?? m[2]!;
      return m[1] ? `the ${ORDINALS[m[1].replace("+", "")] ?? m[1]} ${day}` : day;
    });
    out += ` on ${words.length > 1 ? `${words.slice(0, -1).join(", ")} and ${words[words.length - 1]}` : words[0]}`;
  }
  const byMonthDay = (parts.BYMONTHDAY ?? []).map(Number).slice(0, 5);
  if (byMonthDay.length) out += ` on day ${byMonthDay.map((d) => (d === -1 ? "last" : String(d))).join(", ")}`;
  if (r.count) out += `, ${r.count} times`;
  else if (r.until) out += `, until ${r.until.toString().slice(0, 10)}`;
  return out;
}
