/** Formatting and small helpers for the client. */

export function formatListDate(ms: number, now = new Date()): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return "";
  const sameDay = d.toDateString() === now.toDateString();
  if (sameDay) return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  const days = (now.getTime() - d.getTime()) / 86_400_000;
  if (days < 6 && days >= 0) return d.toLocaleDateString(undefined, { weekday: "short" }) + " " + d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  if (d.getFullYear() === now.getFullYear()) return d.toLocaleDateString(undefined, { day: "numeric", month: "short" });
  return d.toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" });
}

export function formatFullDate(v: string | number | null): string {
  if (v === null) return "";
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return String(v);
  return d.toLocaleString(undefined, { dateStyle: "full", timeStyle: "short" });
}

export function formatSize(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(1)} GB`;
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

export function folderLabel(f: { name: string; specialUse: string | null }): string {
  if (f.name === "INBOX") return "Inbox";
  const leaf = f.name.split("/").pop() ?? f.name;
  return leaf;
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
