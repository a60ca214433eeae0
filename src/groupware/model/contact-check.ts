/**
 * What a client may send as a contact (the webmail's JSON, later EWS): the
 * `ContactData` shape checked field by field with limits, and the photo as a
 * data: URL checked against its own bytes. Everything wrong is a
 * ContactError whose message is written for a person (the API turns it into a
 * 400), never a crash and never a half-written card.
 */
import { Buffer } from "node:buffer";
import { MAX_VCARD_BYTES } from "../vcard/index.ts";
import type { ContactAddress, ContactData, ContactValue } from "./types.ts";

/** Bad contact input: the message says what is wrong, in words. */
export class ContactError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ContactError";
  }
}

export const CONTACT_LIMITS = {
  /** Emails, phones, addresses, web pages each. */
  values: 50,
  categories: 50,
  /** Members of one group. */
  members: 1000,
  /** One-line text fields (names, organization, title, a category, an address part). */
  text: 256,
  /** NOTE. */
  notes: 32 * 1024,
  /** RFC 5321 §4.5.3.1: 64 + 1 + 255. */
  email: 320,
  phone: 64,
  url: 2048,
  uid: 255,
  member: 1024,
  /** A TYPE word such as "home" or "x-assistant". */
  type: 40,
};

/**
 * The largest photo, decoded. A whole card is at most MAX_VCARD_BYTES (1 MiB, the
 * collection's max-resource-size, RFC 6352 §6.2.3) and base64 takes 4 bytes per 3
 * (RFC 4648 §4) plus CRLF and a space every 74 characters of the folded line, so a
 * photo of 1 MB could never be stored: 64 KiB are left for the rest of the card.
 */
export const MAX_PHOTO_BYTES = Math.floor(((MAX_VCARD_BYTES - 64 * 1024) * 3 * 74) / (4 * 77)); // folded: 3 more octets per 74

/** The image types a contact photo may have (the ones every browser shows; no SVG, which can carry script). */
export const PHOTO_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"] as const;
export type PhotoType = (typeof PHOTO_TYPES)[number];

/** The image type of `bytes` by its signature, or null (the declared type is not trusted). */
export function sniffImage(bytes: Uint8Array): PhotoType | null {
  const b = bytes;
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "image/jpeg";
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a) return "image/png";
  if (b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38 && (b[4] === 0x37 || b[4] === 0x39) && b[5] === 0x61) return "image/gif";
  if (b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) return "image/webp";
  return null;
}

export interface Photo {
  type: PhotoType;
  /** Base64 without white space. */
  base64: string;
  bytes: Uint8Array;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Base64 text (white space allowed) to bytes, or null when it is not base64. */
export function decodeBase64(text: string): Uint8Array | null {
  const b = text.replace(/\s+/g, "");
  if (b.length % 4 === 1 || !BASE64.test(b)) return null;
  return new Uint8Array(Buffer.from(b, "base64"));
}

/**
 * A photo sent as a data: URL (RFC 2397) of one of PHOTO_TYPES, base64, at most
 * MAX_PHOTO_BYTES, whose bytes really are that kind of image.
 */
export function photoFromDataUrl(url: string): Photo {
  if (url.length > Math.ceil((MAX_PHOTO_BYTES * 4) / 3) + 200) throw new ContactError(`The photo is too large: at most ${Math.floor(MAX_PHOTO_BYTES / 1024)} KB.`);
  const m = /^data:([a-z0-9.+-]+\/[a-z0-9.+-]+)(?:;[a-z0-9-]+=[^;,]*)*;base64,([A-Za-z0-9+/=\s]*)$/i.exec(url);
  if (!m) throw new ContactError("The photo must be a data: URL with base64 data (data:image/jpeg;base64,...).");
  const declared = m[1]!.toLowerCase() === "image/jpg" ? "image/jpeg" : m[1]!.toLowerCase();
  if (!(PHOTO_TYPES as readonly string[]).includes(declared)) throw new ContactError("The photo must be a JPEG, PNG, GIF or WebP image.");
  const bytes = decodeBase64(m[2]!);
  if (!bytes || bytes.length === 0) throw new ContactError("The photo data is not valid base64.");
  if (bytes.length > MAX_PHOTO_BYTES) throw new ContactError(`The photo is too large: at most ${Math.floor(MAX_PHOTO_BYTES / 1024)} KB.`);
  const real = sniffImage(bytes);
  if (!real) throw new ContactError("The photo is not a JPEG, PNG, GIF or WebP image.");
  return { type: real, base64: Buffer.from(bytes).toString("base64"), bytes };
}

// ---------------------------------------------------------------- the shape

type Obj = Record<string, unknown>;

/**
 * Values the stored card already has (a client sends the whole contact back): they
 * are accepted as they are, whatever the rules for new values say, since the merge
 * keeps their lines untouched. Set for the duration of one synchronous
 * checkContactData call.
 */
let known: Set<string> = new Set();
let knownCounts: Record<string, number> = {};

function leaves(v: unknown, out: Set<string>): void {
  if (typeof v === "string") out.add(v);
  else if (Array.isArray(v)) for (const x of v) leaves(x, out);
  else if (v && typeof v === "object") for (const x of Object.values(v)) leaves(x, out);
}

const CONTROL = /[\x00-\x1f\x7f]/;
const CONTROL_BUT_NEWLINE = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;

function str(o: Obj, key: string, label: string, max: number, multiline = false): string {
  const v = o[key];
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") throw new ContactError(`${label} must be text.`);
  if (known.has(v)) return v;
  if (v.length > max) throw new ContactError(`${label} is too long (at most ${max} characters).`);
  if ((multiline ? CONTROL_BUT_NEWLINE : CONTROL).test(v)) throw new ContactError(multiline ? `${label} contains control characters.` : `${label} must be one line of text.`);
  return multiline ? v.replace(/\r\n?/g, "\n") : v.trim();
}

function list(o: Obj, key: string, label: string, max: number): unknown[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ContactError(`${label} must be a list.`);
  if (v.length > Math.max(max, knownCounts[key] ?? 0)) throw new ContactError(`At most ${max} ${label.toLowerCase()} per contact.`);
  return v;
}

function obj(v: unknown, label: string): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ContactError(`${label} must be an object.`);
  return v as Obj;
}

function typeWord(o: Obj, label: string): string {
  const t = str(o, "type", `${label} type`, CONTACT_LIMITS.type).toLowerCase();
  if (t && !/^[a-z0-9][a-z0-9-]*$/.test(t)) throw new ContactError(`${label} type must be a word such as "home", "work" or "mobile".`);
  return t;
}

function pref(o: Obj): boolean {
  const p = o.pref;
  if (p === undefined || p === null) return false;
  if (typeof p !== "boolean") throw new ContactError("pref must be true or false.");
  return p;
}

function values(o: Obj, key: "emails" | "phones" | "urls"): ContactValue[] {
  const label = key === "emails" ? "Email addresses" : key === "phones" ? "Phone numbers" : "Web pages";
  const one = key === "emails" ? "An email address" : key === "phones" ? "A phone number" : "A web page";
  const max = key === "emails" ? CONTACT_LIMITS.email : key === "phones" ? CONTACT_LIMITS.phone : CONTACT_LIMITS.url;
  const out: ContactValue[] = [];
  for (const item of list(o, key, label, CONTACT_LIMITS.values)) {
    const x = obj(item, one);
    const value = str(x, "value", one, max);
    if (!value) continue; // an empty row of the editor
    if (key === "emails" && !known.has(value) && (!/^[^\s@]+@[^\s@]+$/.test(value) || /[<>",;]/.test(value))) throw new ContactError(`"${value.slice(0, 80)}" is not an email address.`);
    if (key === "urls" && !known.has(value) && /\s/.test(value)) throw new ContactError("A web page address cannot contain spaces.");
    out.push({ type: typeWord(x, one), value, pref: pref(x) });
  }
  return out;
}

function addresses(o: Obj): ContactAddress[] {
  const out: ContactAddress[] = [];
  for (const item of list(o, "addresses", "Addresses", CONTACT_LIMITS.values)) {
    const x = obj(item, "An address");
    const a: ContactAddress = {
      type: typeWord(x, "An address"),
      street: str(x, "street", "The street", CONTACT_LIMITS.text * 4, true),
      locality: str(x, "locality", "The city", CONTACT_LIMITS.text),
      region: str(x, "region", "The region", CONTACT_LIMITS.text),
      postalCode: str(x, "postalCode", "The postal code", CONTACT_LIMITS.text),
      country: str(x, "country", "The country", CONTACT_LIMITS.text),
      pref: pref(x),
    };
    a.street = a.street.trim();
    if (a.street || a.locality || a.region || a.postalCode || a.country) out.push(a);
  }
  return out;
}

/** "YYYY-MM-DD" (a real day) or "--MM-DD"; "" for none. */
function date(o: Obj, key: string, label: string): string {
  const v = str(o, key, label, 10);
  if (!v || known.has(v)) return v;
  const full = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  const noYear = /^--(\d{2})-(\d{2})$/.exec(v);
  if (!full && !noYear) throw new ContactError(`${label} must be a date "YYYY-MM-DD" (or "--MM-DD" without a year).`);
  const y = full ? Number(full[1]) : 2000; // without a year: a leap year, so --02-29 is accepted
  const mo = Number(full ? full[2] : noYear![1]);
  const d = Number(full ? full[3] : noYear![2]);
  const t = new Date(Date.UTC(y, mo - 1, d));
  if (y < 1 || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) throw new ContactError(`${label} is not a date that exists.`);
  return v;
}

/** A group member: "mailto:address", a URI ("urn:uuid:...") or a contact's bare UID. */
function members(o: Obj): string[] {
  const out: string[] = [];
  for (const m of list(o, "members", "Members", CONTACT_LIMITS.members)) {
    if (typeof m !== "string") throw new ContactError("A group member must be text (a contact's UID or mailto:address).");
    const v = known.has(m) ? m : m.trim();
    if (!v) continue;
    if (known.has(v)) {
      if (!out.includes(v)) out.push(v);
      continue;
    }
    if (v.length > CONTACT_LIMITS.member || /[\s\x00-\x1f\x7f]/.test(v)) throw new ContactError("A group member must be a contact's UID or mailto:address without spaces.");
    if (/^mailto:/i.test(v) && !/^mailto:[^\s@]+@[^\s@]+$/i.test(v)) throw new ContactError(`"${v.slice(0, 80)}" is not a mailto: address.`);
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

/**
 * The contact a client sent, checked: every field of the right type and size,
 * absent fields empty (photo: undefined = keep the stored one, null = remove).
 * `existing`: the stored contact an update is merged onto; values it already has
 * pass unchanged (a card from another client may break rules new input must keep).
 */
export function checkContactData(input: unknown, existing?: ContactData): ContactData {
  known = new Set();
  knownCounts = {};
  if (existing) {
    leaves(existing, known);
    known.delete("");
    for (const k of ["emails", "phones", "addresses", "urls", "categories", "members"] as const) knownCounts[k] = existing[k].length;
  }
  try {
    return check(input);
  } finally {
    known = new Set();
    knownCounts = {};
  }
}

function check(input: unknown): ContactData {
  const o = obj(input, "The contact");
  const kind = o.kind === undefined || o.kind === null ? "individual" : o.kind;
  if (kind !== "individual" && kind !== "group") throw new ContactError('kind must be "individual" or "group".');
  const uid = str(o, "uid", "The UID", CONTACT_LIMITS.uid);
  const categories: string[] = [];
  for (const c of list(o, "categories", "Categories", CONTACT_LIMITS.categories)) {
    if (typeof c !== "string") throw new ContactError("A category must be text.");
    const v = str({ c }, "c", "A category", CONTACT_LIMITS.text);
    if (v && !categories.includes(v)) categories.push(v);
  }
  let photo: string | null | undefined;
  if (o.photo === null) photo = null;
  else if (o.photo !== undefined) {
    if (typeof o.photo !== "string") throw new ContactError("The photo must be a data: URL, or null to remove it.");
    photo = o.photo;
    if (!known.has(photo)) photoFromDataUrl(photo); // checked here; written by the merge
  }
  const data: ContactData = {
    uid,
    kind,
    fullName: str(o, "fullName", "The name", CONTACT_LIMITS.text),
    givenName: str(o, "givenName", "The first name", CONTACT_LIMITS.text),
    familyName: str(o, "familyName", "The last name", CONTACT_LIMITS.text),
    middleName: str(o, "middleName", "The middle name", CONTACT_LIMITS.text),
    prefix: str(o, "prefix", "The title", CONTACT_LIMITS.text),
    suffix: str(o, "suffix", "The suffix", CONTACT_LIMITS.text),
    nickname: str(o, "nickname", "The nickname", CONTACT_LIMITS.text),
    organization: str(o, "organization", "The organization", CONTACT_LIMITS.text),
    department: str(o, "department", "The department", CONTACT_LIMITS.text),
    jobTitle: str(o, "jobTitle", "The job title", CONTACT_LIMITS.text),
    emails: values(o, "emails"),
    phones: values(o, "phones"),
    addresses: addresses(o),
    urls: values(o, "urls"),
    birthday: date(o, "birthday", "The birthday"),
    anniversary: date(o, "anniversary", "The anniversary"),
    notes: str(o, "notes", "The notes", CONTACT_LIMITS.notes, true),
    categories,
    members: kind === "group" ? members(o) : [],
  };
  if (photo !== undefined) data.photo = photo;
  return data;
}
