/**
 * Reading a stored vCard (3.0, RFC 2426; 4.0, RFC 6350) into the editor's
 * `ContactData` and the list's `ContactSummary`, with where each field lives
 * in the card (line indexes) so contact.ts can merge an edit line by line.
 */
import { Buffer } from "node:buffer";
import { paramValues, parseLines, splitList, splitStructured, unescapeText, type Line } from "../vcard/lines.ts";
import { ContactError, decodeBase64, sniffImage, type Photo } from "./contact-check.ts";
import type { ContactAddress, ContactData, ContactSummary, ContactValue } from "./types.ts";

export type VCardVersion = "3.0" | "4.0";

/** Where each field of the shape lives in the card (line indexes). */
export interface Slots {
  version: VCardVersion;
  uid: number;
  fn: number;
  n: number;
  nickname: number;
  org: number;
  title: number;
  bday: number;
  anniversary: number;
  note: number;
  photo: number;
  kind: number;
  emails: number[];
  phones: number[];
  addresses: number[];
  urls: number[];
  categories: number[];
  members: number[];
}

export interface ReadContact {
  version: VCardVersion;
  lines: Line[];
  slots: Slots;
  data: ContactData;
  /** The inline photo, when the card has a readable one of an allowed type. */
  photo: Photo | null;
}

const ANNIVERSARY_NAMES = ["ANNIVERSARY", "X-ANNIVERSARY", "X-EVOLUTION-ANNIVERSARY"];
const KIND_NAMES = ["KIND", "X-ADDRESSBOOKSERVER-KIND"];
const MEMBER_NAMES = ["MEMBER", "X-ADDRESSBOOKSERVER-MEMBER"];

/** TYPE words that say nothing about which kind of number/address it is. */
export const GENERIC_TYPES = new Set(["pref", "voice", "internet", "x400", "text", "msg", "dom", "intl", "postal", "parcel"]);

/** The one type word the shape shows for a line's TYPE values (RFC 6350 §6.4.1, RFC 2426 §3.3.1). */
export function typeOf(name: string, types: string[]): string {
  if (name === "TEL") {
    if (types.includes("cell")) return "mobile";
    if (types.includes("fax")) return "fax";
    if (types.includes("pager")) return "pager";
  }
  for (const t of ["work", "home", "other"]) if (types.includes(t)) return t;
  // only a word the editor can send back (contact-check.ts typeWord)
  return types.find((t) => !GENERIC_TYPES.has(t) && /^[a-z0-9][a-z0-9-]{0,39}$/.test(t)) ?? "";
}

/** TYPE values written for a type the user chose. */
export function typeParams(name: string, type: string): string[] {
  if (!type) return [];
  if (name === "TEL" && type === "mobile") return ["cell"];
  return [type];
}

export function isPref(l: Line): boolean {
  // 3.0: TYPE=pref (RFC 2426 §3.3.1); 4.0: PREF=1..100, 1 = most preferred (RFC 6350 §5.3)
  return paramValues(l, "TYPE").includes("pref") || paramValues(l, "PREF").includes("1");
}

function text(l: Line | undefined): string {
  return l ? unescapeText(l.value).trim() : "";
}

function parts(l: Line | undefined, n: number): string[] {
  const p = l ? splitStructured(l.value).map((x) => unescapeText(x).trim()) : [];
  while (p.length < n) p.push("");
  return p;
}

/** BDAY/ANNIVERSARY as "YYYY-MM-DD" or "--MM-DD"; "" when absent or written as text ("circa 1800"). */
function dateOf(l: Line | undefined): string {
  if (!l || paramValues(l, "VALUE").includes("text")) return "";
  const v = l.value.trim();
  let m = /^(\d{4})-?(\d{2})-?(\d{2})(?:T.*)?$/.exec(v);
  if (m) {
    // Apple's 3.0 cards say "no year" with X-APPLE-OMIT-YEAR=<the year written>.
    if (paramValues(l, "X-APPLE-OMIT-YEAR").includes(m[1]!)) return valid(`--${m[2]}-${m[3]}`);
    return valid(`${m[1]}-${m[2]}-${m[3]}`);
  }
  m = /^--(\d{2})-?(\d{2})$/.exec(v);
  return m ? valid(`--${m[1]}-${m[2]}`) : "";
}

function valid(d: string): string {
  const m = /^(\d{4}|-)-(\d{2})-(\d{2})$/.exec(d)!;
  const y = m[1] === "-" ? 2000 : Number(m[1]);
  const t = new Date(Date.UTC(y, Number(m[2]) - 1, Number(m[3])));
  return t.getUTCMonth() === Number(m[2]) - 1 && t.getUTCDate() === Number(m[3]) ? d : "";
}

/** The inline image of a PHOTO line (3.0 ENCODING=b, 4.0 data: URI) if it is an allowed image, else null. */
function photoOf(l: Line | undefined): Photo | null {
  if (!l) return null;
  const v = l.value;
  const data = /^\s*data:[^,]*;base64,/i.exec(v);
  const enc = paramValues(l, "ENCODING");
  if (!data && !enc.includes("b") && !enc.includes("base64")) return null; // a URI: not shown here, kept
  const bytes = decodeBase64(data ? v.slice(data[0].length) : v);
  if (!bytes) return null;
  const type = sniffImage(bytes);
  if (!type) return null;
  return { type, base64: Buffer.from(bytes).toString("base64"), bytes };
}

/**
 * Apple's label of a grouped property (`item1.X-ABLabel:_$!<Mobile>!$_`, or a
 * custom label) as a type word, "" when it makes none.
 */
function labelType(label: string): string {
  const m = /^_\$!<(.*)>!\$_$/.exec(label.trim());
  const word = (m ? m[1]! : label).trim().toLowerCase();
  if (word === "homefax" || word === "workfax" || word === "otherfax") return "fax";
  const t = word.replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  return /^[a-z0-9][a-z0-9-]{0,39}$/.test(t) ? t : "";
}

function values(lines: Line[], idx: number[], read: (l: Line) => string, labels: Map<string, string>): ContactValue[] {
  const out: ContactValue[] = [];
  for (const i of idx) {
    const l = lines[i]!;
    let type = typeOf(l.name, paramValues(l, "TYPE"));
    if (!type && l.group) type = labelType(labels.get(l.group.toLowerCase()) ?? "");
    out.push({ type, value: read(l), pref: isPref(l) });
  }
  return out;
}

const emailText = (l: Line) => unescapeText(l.value).trim().replace(/^mailto:/i, "");
const phoneText = (l: Line) => unescapeText(l.value).trim().replace(/^tel:/i, "");
const urlText = (l: Line) => unescapeText(l.value).trim();

function addressOf(l: Line): ContactAddress {
  const p = parts(l, 7); // RFC 6350 §6.3.1: po box; extended; street; locality; region; code; country
  return { type: typeOf("ADR", paramValues(l, "TYPE")), street: p[2]!, locality: p[3]!, region: p[4]!, postalCode: p[5]!, country: p[6]!, pref: isPref(l) };
}

/** The content lines of a stored card; not a vCard at all is a ContactError. */
export function cardLines(body: Uint8Array | string): Line[] {
  const t = typeof body === "string" ? body : new TextDecoder("utf-8").decode(body);
  const lines = parseLines(t.replace(/^\uFEFF/, ""));
  if (lines[0]?.name !== "BEGIN" || lines[0].value.trim().toUpperCase() !== "VCARD") throw new ContactError("The stored contact is not a vCard.");
  return lines;
}

/** Reads a card's lines into the shape (and where each field lives). */
export function readLines(lines: Line[]): ReadContact {
  const version: VCardVersion = lines.find((l) => l.name === "VERSION")?.value.trim() === "4.0" ? "4.0" : "3.0";
  const s: Slots = { version, uid: -1, fn: -1, n: -1, nickname: -1, org: -1, title: -1, bday: -1, anniversary: -1, note: -1, photo: -1, kind: -1, emails: [], phones: [], addresses: [], urls: [], categories: [], members: [] };
  const firstOf = (k: keyof Slots, i: number) => {
    if ((s[k] as number) < 0) (s[k] as number) = i;
  };
  let depth = 0;
  lines.forEach((l, i) => {
    if (l.name === "BEGIN") depth++;
    else if (l.name === "END") depth--;
    if (depth !== 1 || l.name === "BEGIN") return; // a nested card (vCard 2.1 AGENT) is not this contact's
    switch (l.name) {
      case "UID": return firstOf("uid", i);
      case "FN": return firstOf("fn", i);
      case "N": return firstOf("n", i);
      case "NICKNAME": return firstOf("nickname", i);
      case "ORG": return firstOf("org", i);
      case "TITLE": return firstOf("title", i);
      case "BDAY": return firstOf("bday", i);
      case "NOTE": return firstOf("note", i);
      case "PHOTO": return firstOf("photo", i);
      // An empty value is no row of the editor: such a line is left alone.
      case "EMAIL": return void (emailText(l) && s.emails.push(i));
      case "TEL": return void (phoneText(l) && s.phones.push(i));
      case "ADR": return void (splitStructured(l.value).some((p) => unescapeText(p).trim()) && s.addresses.push(i));
      case "URL": return void (urlText(l) && s.urls.push(i));
      case "CATEGORIES": return void s.categories.push(i);
    }
    if (KIND_NAMES.includes(l.name)) firstOf("kind", i);
    else if (MEMBER_NAMES.includes(l.name)) s.members.push(i);
    else if (ANNIVERSARY_NAMES.includes(l.name)) firstOf("anniversary", i);
  });
  const at = (i: number): Line | undefined => (i >= 0 ? lines[i] : undefined);
  const labels = new Map<string, string>();
  for (const l of lines) if (l.group && l.name === "X-ABLABEL") labels.set(l.group.toLowerCase(), unescapeText(l.value));
  const n = parts(at(s.n), 5);
  const org = parts(at(s.org), 2);
  const categories: string[] = [];
  for (const i of s.categories) for (const c of splitList(lines[i]!.value)) if (c.trim() && !categories.includes(c.trim())) categories.push(c.trim());
  const kind = text(at(s.kind)).toLowerCase() === "group" ? "group" : "individual";
  const photo = photoOf(at(s.photo));
  const data: ContactData = {
    uid: text(at(s.uid)),
    kind,
    fullName: text(at(s.fn)),
    familyName: n[0]!,
    givenName: n[1]!,
    middleName: n[2]!,
    prefix: n[3]!,
    suffix: n[4]!,
    nickname: s.nickname >= 0 ? (splitList(lines[s.nickname]!.value)[0] ?? "").trim() : "",
    organization: org[0]!,
    department: org[1]!,
    jobTitle: text(at(s.title)),
    emails: values(lines, s.emails, emailText, labels),
    phones: values(lines, s.phones, phoneText, labels),
    addresses: s.addresses.map((i) => addressOf(lines[i]!)),
    urls: values(lines, s.urls, urlText, labels),
    birthday: dateOf(at(s.bday)),
    anniversary: dateOf(at(s.anniversary)),
    notes: s.note >= 0 ? unescapeText(lines[s.note]!.value) : "",
    photo: photo ? `data:${photo.type};base64,${photo.base64}` : null,
    categories,
    members: s.members.map((i) => lines[i]!.value.trim()).filter(Boolean),
  };
  return { version, lines, slots: s, data, photo };
}

/** A stored card as the editor shows it. */
export function readContact(body: Uint8Array | string): ReadContact {
  return readLines(cardLines(body));
}

/** "Family, Given" when the card has a family name (what the list sorts by), else the full name. */
export function sortNameOf(d: Pick<ContactData, "familyName" | "givenName" | "fullName" | "organization">): string {
  if (d.familyName) return d.givenName ? `${d.familyName}, ${d.givenName}` : d.familyName;
  return d.fullName || d.givenName || d.organization;
}

/** The list row of a card. */
export function contactSummary(body: Uint8Array | string, where: { book: string; id: string; etag: string }): ContactSummary {
  const r = readContact(body);
  return summaryOf(r, where);
}

export function summaryOf(r: ReadContact, where: { book: string; id: string; etag: string }): ContactSummary {
  const d = r.data;
  const emails: string[] = [];
  for (const e of d.emails) if (e.value && !emails.includes(e.value.toLowerCase())) emails.push(e.value.toLowerCase());
  return {
    ...where,
    uid: d.uid,
    kind: d.kind,
    fullName: d.fullName || sortNameOf(d) || emails[0] || "",
    sortName: sortNameOf(d) || emails[0] || "",
    organization: d.organization,
    emails,
    phones: d.phones.map((p) => p.value).filter(Boolean),
    hasPhoto: r.photo !== null,
    memberCount: d.kind === "group" ? d.members.length : 0,
  };
}

