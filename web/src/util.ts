/**
 * Formatting and small helpers for the client. Dates are in the chosen language and the user's time zone
 * (i18n/index.ts), never the browser's defaults (item 12).
 */
import { dateFormat, formatDate, formatNumber, t } from "./i18n/index.ts";
import "./i18n/mail.ts";

/** The calendar day of an instant in the user's zone (for "is it today?"). */
function dayKey(ms: number): string {
  return dateFormat({ year: "numeric", month: "numeric", day: "numeric" }).format(ms);
}

/** A list row's date: the time today, weekday and time this week, day and month this year, else with the year. */
export function formatListDate(ms: number, now: Date | number = Date.now()): string {
  const nowMs = typeof now === "number" ? now : now.getTime();
  if (!Number.isFinite(ms) || Number.isNaN(new Date(ms).getTime())) return "";
  if (dayKey(ms) === dayKey(nowMs)) return formatDate(ms, { hour: "2-digit", minute: "2-digit" });
  const days = (nowMs - ms) / 86_400_000;
  if (days < 6 && days >= 0) return formatDate(ms, { weekday: "short", hour: "2-digit", minute: "2-digit" });
  const year = dateFormat({ year: "numeric" });
  if (year.format(ms) === year.format(nowMs)) return formatDate(ms, { day: "numeric", month: "short" });
  return formatDate(ms, { day: "numeric", month: "short", year: "numeric" });
}

/** A message's full date ("Monday, 7 December 2026 at 14:05") in the chosen language and zone. */
export function formatFullDate(v: string | number | null): string {
  if (v === null) return "";
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return String(v);
  return formatDate(d.getTime(), { dateStyle: "full", timeStyle: "short" });
}

/** The wall-clock fields of an instant in the user's zone. */
function wallParts(ms: number): { y: number; mo: number; d: number; h: number; mi: number } {
  const parts = dateFormat({ year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", hourCycle: "h23" }).formatToParts(ms);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? NaN);
  return { y: get("year"), mo: get("month"), d: get("day"), h: get("hour") % 24, mi: get("minute") };
}

/** An instant as a datetime-local input's value ("2026-12-24T09:00") in the user's zone, not the browser's. */
export function toZoneInput(ms: number | undefined): string {
  if (!ms || !Number.isFinite(ms)) return "";
  const p = wallParts(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${String(p.y).padStart(4, "0")}-${two(p.mo)}-${two(p.d)}T${two(p.h)}:${two(p.mi)}`;
}

/**
 * A datetime-local value read as a wall-clock time in the user's zone (the instant it names there). The zone's
 * offset is found from a first guess and checked once more at the result, so a time just after a DST change
 * lands right; a time that does not exist there (skipped by DST) moves forward by the gap.
 */
export function fromZoneInput(value: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value);
  if (!m) return undefined;
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  const offsetAt = (ms: number) => {
    const p = wallParts(ms);
    return Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi) - Math.floor(ms / 60_000) * 60_000;
  };
  let ms = wall - offsetAt(wall);
  ms = wall - offsetAt(ms);
  return Number.isFinite(ms) ? ms : undefined;
}

/** A size in bytes with the language's number format and unit symbols (B/KB/MB; o/Ko/Mo in French). */
export function formatSize(n: number): string {
  if (n < 1024) return t("mail.size.b", { n: formatNumber(n) });
  if (n < 1024 * 1024) return t("mail.size.kb", { n: formatNumber(Math.round(n / 1024)) });
  const one = { minimumFractionDigits: 1, maximumFractionDigits: 1 };
  if (n < 1024 * 1024 * 1024) return t("mail.size.mb", { n: formatNumber(n / 1024 / 1024, one) });
  return t("mail.size.gb", { n: formatNumber(n / 1024 / 1024 / 1024, one) });
}

export function personText(p: { name: string; address: string }): string {
  return p.name ? `${p.name} <${p.address}>` : p.address;
}

export function debounce<A extends unknown[]>(fn: (...a: A) => void, ms: number): ((...a: A) => void) & { cancel(): void; flush(): void } {
  let t: ReturnType<typeof setTimeout> | null = null;
  let last: A | null = null;
  const wrapped = (...a: A) => {
    last = a;
    if (t) clearTimeout(t);
    t = setTimeout(() => {
      t = null;
      fn(...a);
    }, ms);
  };
  wrapped.cancel = () => {
    if (t) clearTimeout(t);
    t = null;
  };
  wrapped.flush = () => {
    if (t && last) {
      clearTimeout(t);
      t = null;
      fn(...last);
    }
  };
  return wrapped;
}

/** The special folders' names in the chosen language (Outlook's terms: Posteingang, Entwürfe, ...). */
const SPECIAL_KEYS: Record<string, string> = {
  "\\Drafts": "mail.folder.drafts",
  "\\Sent": "mail.folder.sent",
  "\\Trash": "mail.folder.trash",
  "\\Junk": "mail.folder.junk",
  "\\Archive": "mail.folder.archive",
};

/** A folder's short name: the Inbox and special folders in the chosen language, others their own (last) name. */
export function folderLabel(f: { name: string; specialUse: string | null }): string {
  if (f.name === "INBOX") return t("mail.folder.inbox");
  const key = f.specialUse ? SPECIAL_KEYS[f.specialUse] : undefined;
  if (key) return t(key);
  const leaf = f.name.split("/").pop() ?? f.name;
  return leaf;
}

/** A folder's whole path (Projects/2026), with the Inbox and special folders named in the chosen language. */
export function folderPath(f: { name: string; specialUse: string | null }): string {
  if (f.name === "INBOX" || (f.specialUse && SPECIAL_KEYS[f.specialUse])) return folderLabel(f);
  if (f.name.startsWith("INBOX/")) return `${t("mail.folder.inbox")}/${f.name.slice(6)}`;
  return f.name;
}

export function folderIcon(f: { name: string; specialUse: string | null }): string {
  if (f.name === "INBOX") return "inbox";
  switch (f.specialUse) {
    case "\\Drafts":
      return "drafts";
    case "\\Sent":
      return "sent";
    case "\\Trash":
      return "trash";
    case "\\Junk":
      return "junk";
    case "\\Archive":
      return "archive";
    default:
      return "folder";
  }
}

/** Is the keyboard focus in something that takes text (shortcuts must not fire there)? */
export function typingTarget(t: EventTarget | null): boolean {
  if (!(t instanceof HTMLElement)) return false;
  return t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName);
}
