/**
 * Errors and limits of the iCalendar layer, and the text decoding every
 * parser entry point shares (size limit, UTF-8, BOM).
 */

/** Why an iCalendar body was refused (the service maps the codes to GroupwareError). */
export class ICalError extends Error {
  constructor(
    public readonly code: "INVALID_DATA" | "INVALID_OBJECT" | "LIMIT",
    message: string,
  ) {
    super(message);
    this.name = "ICalError";
  }
}

/** 1 MiB of text per calendar object resource or iTIP message. */
export const MAX_ICAL_BYTES = 1 << 20;
/** Components (VEVENT, VTODO, VTIMEZONE, VALARM, STANDARD, DAYLIGHT...) per object. */
export const MAX_COMPONENTS = 2000;
/** ATTENDEE properties per component. */
export const MAX_ATTENDEES = 500;
/** RRULE properties per component (RFC 5545 §3.6.1: SHOULD NOT occur more than once; each one multiplies the work of every step). */
export const MAX_RRULES = 4;
/** RDATE + EXDATE values per component (ical.js sorts them by insertion, quadratic in their number). */
export const MAX_RECURRENCE_DATES = 2000;
/** Default cap on the instances one expansion returns. */
export const MAX_INSTANCES = 10_000;
/** Time valve per expansion: some rules cost ical.js a millisecond a step (MONTHLY with BYSETPOS). */
export const MAX_EXPAND_MS = 1000;
/** Cap on recurrence iterator steps per expansion (dense rules end in LIMIT, not in a long loop). */
export const MAX_ITERATIONS = 100_000;

const utf8 = new TextDecoder("utf-8", { fatal: true });
const lossy = new TextDecoder("utf-8");

/**
 * The body as text: at most `limit` bytes, UTF-8 (RFC 5545 §6 default
 * charset; bad sequences become U+FFFD with a warning), without a BOM.
 * NUL bytes are refused: no text format here allows them and they mark
 * binary uploads.
 */
export function decodeBody(body: Uint8Array | string, limit: number, what: string, warnings: string[], mk: (code: "INVALID_DATA" | "LIMIT", msg: string) => Error): string {
  let text: string;
  if (typeof body === "string") {
    // A JS string is at most as long in UTF-16 units as its UTF-8 bytes.
    if (body.length > limit) throw mk("LIMIT", `${what} is larger than ${limit} bytes`);
    text = body;
  } else {
    if (body.length > limit) throw mk("LIMIT", `${what} is larger than ${limit} bytes`);
    try {
      text = utf8.decode(body);
    } catch {
      text = lossy.decode(body);
      warnings.push(`${what} is not valid UTF-8: bad bytes were read as U+FFFD`);
    }
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.includes("\0")) throw mk("INVALID_DATA", `${what} contains NUL bytes (binary data, not text)`);
  return text;
}
