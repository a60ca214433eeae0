/**
 * Small message-header helpers shared by the send path, DSNs and the SMTP
 * trace headers.
 */
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** RFC 5322 §3.3 date-time with a numeric zone (UTC). */
export function rfc5322Date(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** Offset just past the blank line ending the header block (RFC 5322 §2.1), or -1 if there is none. */
export function headerEnd(raw: Uint8Array): number {
  // An empty first line: the header section is empty and everything after it is body.
  if (raw[0] === 10) return 1;
  if (raw[0] === 13 && raw[1] === 10) return 2;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== 10) continue;
    if (raw[i + 1] === 10) return i + 2;
    if (raw[i + 1] === 13 && raw[i + 2] === 10) return i + 3;
  }
  return -1;
}
