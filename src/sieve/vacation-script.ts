/**
 * Out-of-office settings (`settings.oof`, written by the webmail and by
 * ActiveSync Settings/Oof) as a Sieve script (issue 19: "the existing
 * out-of-office becomes a vacation rule so there is one mechanism"). The
 * delivery filter (src/delivery/sieve-filter.ts) compiles it once per text and
 * runs it before the user's active script, as Pigeonhole runs a sieve_before
 * script; the webmail shows it read-only.
 *
 * The start and end are guarded with `currentdate` (RFC 5260 §5) in UTC: the
 * "iso8601" date-part of a date in zone +0000 starts with
 * "YYYY-MM-DDTHH:MM:SS", and comparing it as a string with a key of exactly
 * that form orders instants correctly (a longer string with an equal prefix
 * sorts after it, so "at the end instant" is not "before the end").
 * The handle (RFC 5230 §4.2) changes with the text and the dates, so a new
 * absence answers everyone again, while the same absence answers each sender
 * once per period (4 days, RFC 3834 §2's suggested order of magnitude).
 */
import { createHash } from "node:crypto";

export interface OofSettingsLike {
  enabled: boolean;
  subject: string;
  body: string;
  start?: number | null;
  end?: number | null;
}

/** Days between two replies to one sender (the out-of-office's period before issue 19). */
export const OOF_PERIOD_DAYS = 4;

/** A Sieve string literal (RFC 5228 §2.4.2: backslash escapes only `"` and `\`). */
export function sieveQuote(s: string): string {
  return '"' + s.replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"';
}

/** "YYYY-MM-DDTHH:MM:SS" in UTC. */
function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/** The script for these settings, or null when out-of-office is off (or its dates cannot match). */
export function vacationScriptFor(oof: OofSettingsLike | null | undefined): string | null {
  if (!oof?.enabled) return null;
  const start = typeof oof.start === "number" && Number.isFinite(oof.start) ? oof.start : null;
  const end = typeof oof.end === "number" && Number.isFinite(oof.end) ? oof.end : null;
  if (start !== null && end !== null && end <= start) return null;
  const subject = (oof.subject ?? "").replace(/[\r\n]+/g, " ").trim();
  const body = String(oof.body ?? "");
  const handle = "pillarbox-oof-" + createHash("sha256").update(JSON.stringify([subject, body, start, end])).digest("hex").slice(0, 16);
  const guards: string[] = [];
  if (start !== null) guards.push(`currentdate :zone "+0000" :value "ge" "iso8601" ${sieveQuote(isoSeconds(start))}`);
  if (end !== null) guards.push(`currentdate :zone "+0000" :value "lt" "iso8601" ${sieveQuote(isoSeconds(end))}`);
  const vacation = `vacation :days ${OOF_PERIOD_DAYS}${subject ? ` :subject ${sieveQuote(subject)}` : ""} :handle ${sieveQuote(handle)} ${sieveQuote(body)};`;
  const lines = [
    "# Out-of-office (generated from the settings; edit them in the webmail or your phone)",
    guards.length ? 'require ["vacation", "date", "relational"];' : 'require "vacation";',
  ];
  if (guards.length === 0) lines.push(vacation);
  else lines.push(`if ${guards.length === 1 ? guards[0] : `allof (${guards.join(", ")})`} {`, `  ${vacation}`, "}");
  return lines.join("\n") + "\n";
}
