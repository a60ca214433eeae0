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
