/**
 * The contract between the groupware sync classes (sync/groupware-class.ts)
 * and the per-class converters (calendar.ts, contact.ts, task.ts, note.ts in
 * this folder): a converter turns a stored iCalendar/vCard body into the
 * ApplicationData children of MS-ASCAL / MS-ASCNTC / MS-ASTASK / MS-ASNOTE,
 * and a device's ApplicationData back into a body.
 *
 * Writing back is a merge, never a rewrite: `fromEas` starts from the stored
 * body and changes only what ActiveSync expresses, so properties a phone
 * cannot show (X- properties, ATTACH, GEO, vCard fields without an EAS
 * element...) survive a phone edit and CalDAV/CardDAV clients see them
 * unchanged.
 */
import type { Account, Item } from "../../../../storage/api.ts";
import type { Logger } from "../../../../src/log.ts";
import { htmlToText } from "../../../../mail/text.ts";
import { BodyType, type BodyOptions } from "../email/convert.ts";
import { SyncStatus } from "../status.ts";
import { el, kid, kids, kidText, text, type WElement } from "../wbxml/tree.ts";

export interface CodecContext {
  /** Negotiated protocol version: 121, 140, 141, 160, 161. */
  version: number;
  /** The device's user: "me" among organizer and attendees. */
  account: Account;
  /** The collection's body preferences (AirSyncBase:BodyPreference). */
  body: BodyOptions;
  now: number;
  log: Logger;
  /**
   * MS-ASCMD §2.2.3.179 Supported: the elements ("Namespace:Name") the device manages; one of the
   * class's elements not in it is ghosted, and its absence from a Change keeps the stored value.
   * Undefined: the device sent no Supported, every element is managed (absent = removed).
   */
  supported?: ReadonlySet<string>;
}

/** True when the device manages `qname` ("Contacts:Email1Address"): its absence from a Change means "remove". */
export function manages(cx: CodecContext, qname: string): boolean {
  return !cx.supported || cx.supported.has(qname);
}

/**
 * Device data that cannot be stored: answered with a Sync Status instead of
 * a stored half item (default 6, "error in client/server conversion",
 * MS-ASCMD §2.2.3.177.17).
 */
export class EasDataError extends Error {
  constructor(
    message: string,
    public readonly status: number = SyncStatus.ClientServerConversion,
  ) {
    super(message);
    this.name = "EasDataError";
  }
}

export interface GroupwareCodec {
  /**
   * ApplicationData children for a stored item (Add, Fetch, Change).
   * Throws (any error) when the stored body cannot be shown: the engine
   * logs it and skips the item.
   */
  toEas(body: Uint8Array, item: Item, cx: CodecContext): WElement[];
  /**
   * The body to store for a device's ApplicationData: `existing` is the
   * stored body for a Change (merge onto it), null for an Add (a new UID is
   * made when the device sent none). Throws EasDataError for data that
   * cannot be stored.
   */
  fromEas(data: WElement, existing: Uint8Array | null, cx: CodecContext): Uint8Array;
}

/** Largest body text accepted from a device for one item (characters). */
export const MAX_TEXT_BODY = 512 * 1024;

/**
 * AirSyncBase:Body for a groupware item's text (DESCRIPTION, NOTE): the
 * first preference the device gave of plain (1) or HTML (2) decides the
 * type; TruncationSize cuts it (MS-ASAIRS §2.2.2.9). 12.1 devices get the
 * same element (AirSyncBase exists since 12.0). Empty text gives null:
 * the element is left out.
 */
export function textBodyElement(text: string, opts: BodyOptions): WElement | null {
  if (!text) return null;
  const pref = opts.prefs.find((p) => p.type === BodyType.Plain || p.type === BodyType.Html) ?? { type: BodyType.Plain };
  const data = pref.type === BodyType.Html ? `<html><body><pre>${escapeHtml(text)}</pre></body></html>` : text;
  const bytes = new TextEncoder().encode(data);
  let out = data;
  let truncated = false;
  if (pref.truncationSize !== undefined && bytes.length > pref.truncationSize) {
    let cut = pref.truncationSize;
    // Never cut a UTF-8 sequence in half.
    while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--;
    out = new TextDecoder().decode(bytes.subarray(0, cut));
    truncated = true;
  }
  return el(
    "AirSyncBase:Body",
    el("AirSyncBase:Type", pref.type),
    el("AirSyncBase:EstimatedDataSize", bytes.length),
    truncated ? el("AirSyncBase:Truncated", "1") : null,
    el("AirSyncBase:Data", out),
  );
}

/**
 * The text of an incoming AirSyncBase:Body (HTML made plain text), or
 * undefined when the device sent no Body element (keep the stored text).
 * An empty Data is "" (the device cleared it).
 */
export function bodyTextFrom(data: WElement): string | undefined {
  const body = kid(data, "AirSyncBase:Body");
  if (!body) return undefined;
  const type = Number(kidText(body, "AirSyncBase:Type") ?? "1");
  const raw = kidText(body, "AirSyncBase:Data") ?? "";
  if (raw.length > MAX_TEXT_BODY) throw new EasDataError("body text too large");
  if (type === BodyType.Html) return htmlToText(raw).trim();
  if (type === BodyType.Plain) return raw.replace(/\r\n/g, "\n");
  throw new EasDataError(`body type ${type} is not accepted for this class`);
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * EAS compact UTC date-time "YYYYMMDDTHHMMSSZ" (MS-ASCAL StartTime,
 * DtStamp...) from UTC ms.
 */
export function easCompactDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/**
 * Parses an EAS date: compact "YYYYMMDDTHHMMSSZ" or ISO-8601 extended
 * "YYYY-MM-DDTHH:MM:SS(.sss)Z" (both are sent by real devices). Throws
 * EasDataError for anything else or an impossible date (month 13, Feb 30).
 */
export function parseEasDate(s: string): number {
  const t = s.trim();
  const m = /^(\d{4})-?(\d{2})-?(\d{2})T(\d{2}):?(\d{2}):?(\d{2})(?:\.(\d{1,3}))?Z$/.exec(t);
  if (!m) throw new EasDataError(`invalid date ${JSON.stringify(t.slice(0, 40))}`);
  const [y, mo, d, h, mi, se] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  const ms = m[7] ? Number(m[7].padEnd(3, "0")) : 0;
  const v = Date.UTC(y!, mo! - 1, d!, h!, mi!, se!, ms);
  const back = new Date(v);
  if (y! < 1601 || y! > 9999 || back.getUTCMonth() !== mo! - 1 || back.getUTCDate() !== d! || h! > 23 || mi! > 59 || se! > 59) {
    throw new EasDataError(`invalid date ${JSON.stringify(t)}`);
  }
  return v;
}

/**
 * iCalendar TEXT cannot hold control characters other than HTAB and line
 * breaks (RFC 5545 §3.3.11, the CONTROL rule): a device's are dropped.
 */
export function cleanText(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\r\n?/g, "\n").replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "");
}

/** Most categories one item may carry, and the longest category name, from a device. */
export const MAX_CATEGORIES = 300;
export const MAX_CATEGORY_CHARS = 1024;

/**
 * The device's `<ns>:Categories` (MS-ASNOTE §2.2.2.2, MS-ASTASK §2.2.2.3): cleaned, one line each,
 * without empties and repeats; undefined when the element is absent. Too many or too long:
 * EasDataError (Status 6).
 */
export function categoriesFrom(data: WElement, ns: "Notes" | "Tasks" | "Calendar"): string[] | undefined {
  const cats = kid(data, `${ns}:Categories`);
  if (!cats) return undefined;
  const list = kids(cats, `${ns}:Category`);
  if (list.length > MAX_CATEGORIES) throw new EasDataError(`more than ${MAX_CATEGORIES} categories`);
  const out: string[] = [];
  for (const c of list) {
    const v = cleanText(text(c)).replace(/\n/g, " ").trim();
    if (v.length > MAX_CATEGORY_CHARS) throw new EasDataError("category name too long");
    if (v && !out.includes(v)) out.push(v);
  }
  return out;
}
