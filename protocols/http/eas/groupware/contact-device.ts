/**
 * A device's contact (MS-ASCNTC ApplicationData of a Sync Add or Change),
 * read and checked before anything is merged into the stored vCard: every
 * limit is applied here, so a bad request gets Status 6 and nothing is
 * stored (never half a card).
 */
import { Buffer } from "node:buffer";
import { bodyTextFrom, EasDataError, parseEasDate } from "./codec.ts";
import { ADDRESS_KINDS, ADDRESS_PARTS, DATE_FIELDS, EMAIL_FIELDS, IM_FIELDS, MAX_PICTURE_BASE64, NAME_FIELDS, PHONE_FIELDS, SIMPLE_FIELDS } from "./contact-fields.ts";
import { kids, qn, text, type WElement } from "../wbxml/tree.ts";

/** Longest one-line field (a name, a phone, a street...) in characters. */
export const MAX_FIELD = 8 * 1024;
/** Children of ApplicationData: the schema has about 90 elements. */
export const MAX_ELEMENTS = 300;
export const MAX_CATEGORIES = 256;
export const MAX_CHILDREN = 64;

const DAY = 86_400_000;
const HOUR = 3_600_000;

/**
 * The calendar date of an EAS Birthday/Anniversary (a UTC date-time,
 * MS-ASCNTC §2.2.2.4). Devices send the local midnight of the date
 * converted to UTC (anything from D-14h in UTC+14 to D+12h in UTC-12),
 * TbSync sends D at 00:00Z, and this server sends D at 10:00Z (see
 * `easBirthday`). The window (D-14h, D+10h] is the day: right for every
 * zone from UTC-10 to UTC+13 (all of Europe, the Americas, Asia, Australia
 * and New Zealand in both summer and winter) and for both of the fixed
 * conventions; only the nearly empty zones UTC-11, UTC-12 and UTC+14 can be
 * off by a day.
 */
export function birthdayDate(ms: number): string {
  const day = Math.ceil((ms - 10 * HOUR) / DAY);
  return new Date(day * DAY).toISOString().slice(0, 10);
}

/**
 * An EAS date for a card date "YYYY-MM-DD": 10:00 UTC of that day. A device
 * that shows the UTC instant in its own zone shows the same date anywhere
 * from UTC-10 to UTC+13 (noon would put New Zealand, Fiji and Tonga a day
 * late; midnight would put all of the Americas a day early), and a device
 * that reads the UTC date part (TbSync) gets the date as is.
 */
export function easBirthday(date: string): string {
  return `${date}T10:00:00.000Z`;
}

export interface DeviceContact {
  /** Element qname -> text, for the one-value elements present and not empty. */
  values: Map<string, string>;
  /** Present elements (an empty element counts: it clears). */
  present: Set<string>;
  categories: string[];
  children: string[];
  /** Base64 of a Picture element: undefined = absent (keep), "" = empty (delete). */
  picture: string | undefined;
  /** undefined = no Body element (keep the stored NOTE). */
  body: string | undefined;
}

const SINGLE = new Set<string>([
  "Contacts:FileAs",
  "Contacts:CompanyName",
  "Contacts:Department",
  ...NAME_FIELDS,
  ...EMAIL_FIELDS,
  ...IM_FIELDS,
  ...Object.keys(PHONE_FIELDS),
  ...Object.keys(SIMPLE_FIELDS),
  ...Object.keys(DATE_FIELDS),
  ...ADDRESS_KINDS.flatMap((k) => ADDRESS_PARTS.map((p) => `Contacts:${k}Address${p}`)),
]);

function checkText(name: string, v: string, max = MAX_FIELD): string {
  if (v.length > max) throw new EasDataError(`${name} is longer than ${max} characters`);
  // NUL and the other C0 controls but tab and line breaks have no place in a card (RFC 6350 §3.3 value text).
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(v)) throw new EasDataError(`${name} contains control characters`);
  return v;
}

/** The address of an Email*Address value: devices send `addr` or `"Name" <addr>`. */
export function emailAddress(v: string): string {
  const angle = /<([^<>]*)>\s*$/.exec(v);
  const addr = (angle ? angle[1]! : v).trim().replace(/^mailto:/i, "");
  if ((addr.match(/@/g) ?? []).length > 1 || /[\s,;]/.test(addr)) throw new EasDataError("an Email*Address element holds one address");
  return addr;
}

export function readDevice(data: WElement): DeviceContact {
  const all = kids(data);
  if (all.length > MAX_ELEMENTS) throw new EasDataError(`more than ${MAX_ELEMENTS} elements in one contact`);
  const out: DeviceContact = { values: new Map(), present: new Set(), categories: [], children: [], picture: undefined, body: undefined };
  for (const e of all) {
    const name = qn(e);
    if (SINGLE.has(name)) {
      // MS-ASCNTC §2.2.2: each of these occurs at most once in a contact.
      if (out.present.has(name)) throw new EasDataError(`${name} occurs more than once`);
      out.present.add(name);
      let v = checkText(name, text(e)).trim();
      if (!v) continue;
      if (EMAIL_FIELDS.includes(name)) v = emailAddress(v);
      else if (name in DATE_FIELDS) v = birthdayDate(parseEasDate(v));
      else if (!name.endsWith("Street")) v = v.replace(/\s*[\r\n]+\s*/g, " ");
      if (v) out.values.set(name, v);
    } else if (name === "Contacts:Categories" || name === "Contacts:Children") {
      if (out.present.has(name)) throw new EasDataError(`${name} occurs more than once`);
      out.present.add(name);
      const isCat = name === "Contacts:Categories";
      const items = kids(e, isCat ? "Contacts:Category" : "Contacts:Child");
      const max = isCat ? MAX_CATEGORIES : MAX_CHILDREN;
      if (items.length > max) throw new EasDataError(`more than ${max} ${isCat ? "categories" : "children"}`);
      const list = isCat ? out.categories : out.children;
      for (const it of items) {
        const v = checkText(name, text(it)).replace(/\s*[\r\n]+\s*/g, " ").trim();
        if (v && !list.includes(v)) list.push(v);
      }
    } else if (name === "Contacts:Picture") {
      if (out.picture !== undefined) throw new EasDataError("Picture occurs more than once");
      out.picture = readPicture(e);
    }
    // Anything else (Alias, WeightedRank, 2.5's Contacts:Body...) carries nothing to store.
  }
  // Control characters in a note are dropped rather than refused: a long pasted text is still the user's note.
  out.body = bodyTextFrom(data)?.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "");
  return out;
}

function readPicture(e: WElement): string {
  const raw = text(e);
  // Checked before any copy: a 50 MB picture is refused by its length alone.
  if (raw.length > MAX_PICTURE_BASE64 + 4096) throw new EasDataError(`Picture over ${MAX_PICTURE_BASE64} bytes of base64 (MS-ASCNTC §2.2.2.58)`);
  const b64 = raw.replace(/\s+/g, "");
  if (b64.length > MAX_PICTURE_BASE64) throw new EasDataError(`Picture over ${MAX_PICTURE_BASE64} bytes of base64 (MS-ASCNTC §2.2.2.58)`);
  if (b64 && (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 === 1)) throw new EasDataError("Picture is not base64");
  return b64;
}

/** The image type of a base64 picture from its first bytes (JPEG when unknown, what phones send). */
export function pictureType(b64: string): "JPEG" | "PNG" | "GIF" {
  const head = Buffer.from(b64.slice(0, 16), "base64");
  if (head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47) return "PNG";
  if (head[0] === 0x47 && head[1] === 0x49 && head[2] === 0x46) return "GIF";
  return "JPEG";
}
