/**
 * A stored vCard (3.0, RFC 2426; 4.0, RFC 6350) ⇄ `ContactData`, for the
 * webmail's contact editor (and later EWS).
 *
 * Writing is a merge onto the stored card, line by line (../vcard/lines.ts):
 * a property the shape describes is rewritten only when its value changed,
 * keeping its group, its other parameters and its position; lines the shape
 * does not describe (X- properties, IMPP, RELATED, GEO, Apple's labels, a
 * second NICKNAME...) are kept byte for byte, so a CardDAV client reads the
 * rest of its card unchanged after a webmail edit.
 *
 * Groups: vCard 4.0 `KIND:group` with `MEMBER` URIs (RFC 6350 §6.1.4,
 * §6.6.5); in vCard 3.0 Apple's `X-ADDRESSBOOKSERVER-KIND:group` with
 * `X-ADDRESSBOOKSERVER-MEMBER` (what macOS/iOS Contacts and DAVx5 write).
 * Both spellings are read in either version; the version's own is written.
 *
 * New cards are vCard 3.0: every CardDAV client reads it (Apple's Contacts
 * stores 3.0 and shows no 4.0 KIND:group, older Android sync adapters and
 * Outlook's .vcf import know only 3.0), while every 4.0 client reads 3.0 too.
 * A new group follows its book (the caller passes the prevailing version).
 */
import { randomUUID } from "node:crypto";
import { Buffer } from "node:buffer";
import { parseVCard, VCardError, MAX_VCARD_BYTES } from "../vcard/index.ts";
import { escapeText, lineText, newLine, paramValues, parseLines, serialise, splitList, splitStructured, unescapeText, type Line, type Param } from "../vcard/lines.ts";
import { ContactError, decodeBase64, photoFromDataUrl, sniffImage, type Photo } from "./contact-check.ts";
import type { ContactAddress, ContactData, ContactSummary, ContactValue } from "./types.ts";

export { ContactError } from "./contact-check.ts";

export type VCardVersion = "3.0" | "4.0";

/** Where each field of the shape lives in the card (line indexes). */
interface Slots {
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
const GENERIC_TYPES = new Set(["pref", "voice", "internet", "x400", "text", "msg", "dom", "intl", "postal", "parcel"]);

/** The one type word the shape shows for a line's TYPE values (RFC 6350 §6.4.1, RFC 2426 §3.3.1). */
function typeOf(name: string, types: string[]): string {
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
function typeParams(name: string, type: string): string[] {
  if (!type) return [];
  if (name === "TEL" && type === "mobile") return ["cell"];
  return [type];
}

function isPref(l: Line): boolean {
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

// ================================================================ writing

/** Line edits against the stored card, applied at the end so indexes stay valid. */
class Editor {
  private readonly replaced = new Map<number, Line | null>();
  private readonly after = new Map<number, Line[]>();
  private readonly end: Line[] = [];
  changed = false;

  constructor(private readonly lines: Line[]) {}

  set(i: number, l: Line): void {
    this.replaced.set(i, l);
    this.changed = true;
  }
  remove(i: number): void {
    this.replaced.set(i, null);
    this.changed = true;
  }
  insertAfter(i: number, l: Line): void {
    const list = this.after.get(i) ?? [];
    list.push(l);
    this.after.set(i, list);
    this.changed = true;
  }
  append(l: Line): void {
    this.end.push(l);
    this.changed = true;
  }
  result(): Line[] {
    let endAt = this.lines.length - 1;
    while (endAt > 0 && this.lines[endAt]!.name !== "END") endAt--;
    // Lines written here use the card's own line end (a card stored with LF stays LF).
    const first = this.lines[0]?.raw ?? "";
    const eol = /\r\n$/.test(first) || !/\n$/.test(first) ? "\r\n" : "\n";
    const fresh = (l: Line): Line => (eol === "\r\n" ? l : { ...l, raw: l.raw.replace(/\r\n/g, eol) });
    const out: Line[] = [];
    this.lines.forEach((l, i) => {
      if (i === endAt) out.push(...this.end.map(fresh));
      const r = this.replaced.has(i) ? this.replaced.get(i) : l;
      if (r) out.push(r === l ? l : fresh(r));
      out.push(...(this.after.get(i) ?? []).map(fresh));
    });
    return this.dropOrphanLabels(out);
  }

  /** Apple labels a grouped property with siblings (`item1.TEL` + `item1.X-ABLabel`): they go with it. */
  private dropOrphanLabels(out: Line[]): Line[] {
    const groups = new Set<string>();
    for (const [i, r] of this.replaced) if (r === null && this.lines[i]!.group) groups.add(this.lines[i]!.group.toLowerCase());
    if (!groups.size) return out;
    const alive = new Set(out.filter((l) => l.group && !l.name.startsWith("X-AB")).map((l) => l.group.toLowerCase()));
    return out.filter((l) => !(l.group && l.name.startsWith("X-AB") && groups.has(l.group.toLowerCase()) && !alive.has(l.group.toLowerCase())));
  }
}

/** A line with a new value and parameters, same group and name. */
function rewrite(old: Line, params: Param[], value: string): Line {
  return { raw: lineText(old.group, old.name, params, value), group: old.group, name: old.name, params, value };
}

/** A base64 PHOTO line folded quickly (ASCII only: 75 octets, then 74 after the leading space; RFC 6350 §3.2). */
function photoLine(head: string, params: Param[], value: string, group = ""): Line {
  const short = lineText(group, head, params, "");
  const logical = short.slice(0, -2).replace(/\r\n /g, "") + value;
  const chunks = [logical.slice(0, 75)];
  for (let i = 75; i < logical.length; i += 74) chunks.push(logical.slice(i, i + 74));
  return { raw: chunks.join("\r\n ") + "\r\n", group, name: head, params, value };
}

/** Single-value field: keep when equal, rewrite the value (other params kept), remove, or append. */
function single(ed: Editor, lines: Line[], at: number, had: string, want: string, name: string, encode: (v: string) => string, dropParams: string[] = []): void {
  if (want === had) return;
  if (!want) {
    if (at >= 0) ed.remove(at);
    return;
  }
  if (at >= 0) {
    const old = lines[at]!;
    ed.set(at, rewrite(old, old.params.filter((p) => !dropParams.includes(p.name)), encode(want)));
  } else ed.append(newLine(name, [], encode(want)));
}

/** TYPE/PREF parameters for a value whose type or preference changed; others of the line are kept. */
function valueParams(old: Line | undefined, name: string, v: { type: string; pref: boolean }, version: VCardVersion, typeKept = false): Param[] {
  const oldTypes = old ? paramValues(old, "TYPE") : [];
  const sameType = old !== undefined && (typeKept || typeOf(name, oldTypes) === v.type);
  if (old && sameType && isPref(old) === v.pref) return old.params.filter((p) => p.name !== "VALUE"); // only the value changed
  let types = sameType ? oldTypes.filter((t) => t !== "pref") : [...oldTypes.filter((t) => GENERIC_TYPES.has(t) && t !== "pref"), ...typeParams(name, v.type)];
  if (!old && name === "EMAIL" && version === "3.0") types = ["internet", ...types]; // RFC 2426 §3.3.2 default, written as Apple does
  if (v.pref && version === "3.0") types.push("pref");
  const out: Param[] = [];
  if (types.length) out.push({ name: "TYPE", values: [...new Set(types)] });
  for (const p of old?.params ?? []) if (p.name !== "TYPE" && p.name !== "PREF" && p.name !== "VALUE") out.push(p);
  if (v.pref && version === "4.0") out.push({ name: "PREF", values: ["1"] });
  return out;
}

/**
 * Repeated properties (EMAIL, TEL, ADR, URL). A wanted value still on one of
 * the lines keeps that line (its parameters rewritten only when type or
 * preference changed); the remaining wanted values take the remaining lines in
 * order (an edited value keeps its line's group and parameters); lines left
 * over are removed, values left over are added after the last line of the property.
 */
function repeated<T extends { type: string; pref: boolean }>(
  ed: Editor,
  lines: Line[],
  idx: number[],
  had: T[],
  want: T[],
  name: string,
  version: VCardVersion,
  same: (a: T, b: T) => boolean,
  encode: (v: T, old: Line | undefined) => string,
): void {
  const pairOf = new Array<number>(want.length).fill(-1);
  const used = new Set<number>();
  want.forEach((w, i) => {
    const k = had.findIndex((h, j) => !used.has(j) && same(h, w));
    if (k >= 0) {
      pairOf[i] = k;
      used.add(k);
    }
  });
  const free = had.map((_, j) => j).filter((j) => !used.has(j));
  want.forEach((_, i) => {
    if (pairOf[i]! < 0 && free.length) pairOf[i] = free.shift()!;
  });
  for (const j of free) ed.remove(idx[j]!);
  const anchor = idx.length ? idx[idx.length - 1]! : -1;
  want.forEach((w, i) => {
    const j = pairOf[i]!;
    if (j < 0) {
      const l = newLine(name, valueParams(undefined, name, w, version), encode(w, undefined));
      if (anchor >= 0) ed.insertAfter(anchor, l);
      else ed.append(l);
      return;
    }
    const h = had[j]!;
    if (same(h, w) && h.type === w.type && h.pref === w.pref) return;
    const old = lines[idx[j]!]!;
    ed.set(idx[j]!, rewrite(old, valueParams(old, name, w, version, h.type === w.type), same(h, w) ? old.value : encode(w, old)));
  });
}

function dateText(d: string, version: VCardVersion): { value: string; params: Param[] } {
  const noYear = d.startsWith("--");
  if (version === "4.0") return { value: noYear ? `--${d.slice(2, 4)}${d.slice(5, 7)}` : d.replace(/-/g, ""), params: [] }; // RFC 6350 §4.3.1 basic format
  // 3.0 has no date without a year (RFC 2426 §3.1.5): Apple's 1604 with X-APPLE-OMIT-YEAR.
  return noYear ? { value: `1604-${d.slice(2)}`, params: [{ name: "X-APPLE-OMIT-YEAR", values: ["1604"] }] } : { value: d, params: [] };
}

function date(ed: Editor, lines: Line[], at: number, had: string, want: string, name: string, version: VCardVersion): void {
  if (want === had) return;
  if (!want) {
    if (at >= 0) ed.remove(at);
    return;
  }
  const { value, params } = dateText(want, version);
  if (at >= 0) {
    const old = lines[at]!;
    ed.set(at, rewrite(old, [...old.params.filter((p) => p.name !== "VALUE" && p.name !== "X-APPLE-OMIT-YEAR"), ...params], value));
  } else ed.append(newLine(name, params, value));
}

export interface MergeOptions {
  /** For a new card: its version (default 3.0) and UID (default the data's, else a new one). */
  version?: VCardVersion;
}

/** The full name a card gets when the editor left it empty (FN is required, RFC 6350 §6.2.1). */
function fullNameOf(d: ContactData): string {
  return d.fullName || [d.prefix, d.givenName, d.middleName, d.familyName, d.suffix].filter(Boolean).join(" ") || d.organization || d.emails[0]?.value || d.phones[0]?.value || "";
}

/**
 * The card for `data`: merged onto `existing` (its UID is kept whatever the data
 * says), or a new one. `data` must have been checked (checkContactData).
 * Throws ContactError when the result would not be a storable vCard.
 */
export function mergeContact(existing: Uint8Array | string | null, data: ContactData, opts: MergeOptions = {}): string {
  const version = opts.version ?? "3.0";
  const uid = data.uid || randomUUID();
  const lines = existing ? cardLines(existing) : [newLine("BEGIN", [], "VCARD"), newLine("VERSION", [], version), newLine("PRODID", [], "-//Pillarbox//Webmail//EN"), uidLine(uid, version), newLine("END", [], "VCARD")];
  const r = readLines(lines);
  const had = r.data;
  const v = r.version;
  const s = r.slots;
  const ed = new Editor(lines);
  const fn = fullNameOf(data);
  if (!fn) throw new ContactError(data.kind === "group" ? "A group needs a name." : "A contact needs a name, an organization, an email address or a phone number.");

  single(ed, lines, s.fn, had.fullName, fn, "FN", escapeText);
  const n = [data.familyName, data.givenName, data.middleName, data.prefix, data.suffix];
  const hadN = [had.familyName, had.givenName, had.middleName, had.prefix, had.suffix];
  const nChanged = n.some((x, i) => x !== hadN[i]);
  if (nChanged) {
    const value = n.map(escapeText).join(";");
    if (s.n >= 0) {
      if (n.some(Boolean) || v === "3.0") ed.set(s.n, rewrite(lines[s.n]!, lines[s.n]!.params, value));
      else ed.remove(s.n);
    } else if (n.some(Boolean) || v === "3.0") ed.append(newLine("N", [], value)); // RFC 2426 §3.1.2: N is required in 3.0
  }
  if (data.nickname !== had.nickname) {
    const rest = s.nickname >= 0 ? splitList(lines[s.nickname]!.value).slice(1) : [];
    single(ed, lines, s.nickname, had.nickname, data.nickname, "NICKNAME", (x) => [x, ...rest].map(escapeText).join(","));
  }
  if (data.organization !== had.organization || data.department !== had.department) {
    const rest = s.org >= 0 ? splitStructured(lines[s.org]!.value).slice(2) : [];
    const p = [escapeText(data.organization), escapeText(data.department), ...rest];
    while (p.length && p[p.length - 1] === "") p.pop();
    if (!p.length) ed.remove(s.org);
    else if (s.org >= 0) ed.set(s.org, rewrite(lines[s.org]!, lines[s.org]!.params, p.join(";")));
    else ed.append(newLine("ORG", [], p.join(";")));
  }
  single(ed, lines, s.title, had.jobTitle, data.jobTitle, "TITLE", escapeText);

  const sameValue = (a: ContactValue, b: ContactValue) => a.value === b.value;
  repeated(ed, lines, s.emails, had.emails, data.emails, "EMAIL", v, (a, b) => a.value.toLowerCase() === b.value.toLowerCase(), (x) => escapeText(x.value));
  repeated(ed, lines, s.phones, had.phones, data.phones, "TEL", v, sameValue, (x) => escapeText(x.value));
  const sameAdr = (a: ContactAddress, b: ContactAddress) => a.street === b.street && a.locality === b.locality && a.region === b.region && a.postalCode === b.postalCode && a.country === b.country;
  repeated(ed, lines, s.addresses, had.addresses, data.addresses, "ADR", v, sameAdr, (x, old) => {
    const kept = old ? splitStructured(old.value).slice(0, 2) : [];
    while (kept.length < 2) kept.push("");
    return [...kept, ...[x.street, x.locality, x.region, x.postalCode, x.country].map(escapeText)].join(";");
  });
  repeated(ed, lines, s.urls, had.urls, data.urls, "URL", v, sameValue, (x) => x.value); // a URI value: not escaped (RFC 6350 §6.7.8)

  date(ed, lines, s.bday, had.birthday, data.birthday, "BDAY", v);
  date(ed, lines, s.anniversary, had.anniversary, data.anniversary, v === "4.0" ? "ANNIVERSARY" : "X-ANNIVERSARY", v); // no ANNIVERSARY in 3.0

  if (data.categories.length !== had.categories.length || data.categories.some((c, i) => c !== had.categories[i])) {
    s.categories.forEach((i) => ed.remove(i));
    if (data.categories.length) {
      const l = newLine("CATEGORIES", [], data.categories.map(escapeText).join(","));
      if (s.categories.length) ed.set(s.categories[0]!, l);
      else ed.append(l);
    }
  }
  single(ed, lines, s.note, had.notes, data.notes, "NOTE", escapeText);

  if (data.photo !== undefined && data.photo !== had.photo) {
    if (data.photo === null) {
      if (s.photo >= 0) ed.remove(s.photo);
    } else {
      const p = photoFromDataUrl(data.photo);
      const l =
        v === "4.0"
          ? photoLine("PHOTO", [], `data:${p.type};base64,${p.base64}`) // RFC 6350 §6.2.4: a data: URI
          : photoLine("PHOTO", [{ name: "ENCODING", values: ["b"] }, { name: "TYPE", values: [p.type.slice(6).toUpperCase()] }], p.base64); // RFC 2426 §3.1.4
      if (s.photo >= 0) ed.set(s.photo, { ...l, group: lines[s.photo]!.group, raw: lines[s.photo]!.group ? photoLine("PHOTO", l.params, l.value, lines[s.photo]!.group).raw : l.raw });
      else ed.append(l);
    }
  }

  // Groups: KIND + MEMBER (4.0, RFC 6350 §6.1.4/§6.6.5) or Apple's X-ADDRESSBOOKSERVER-* (3.0).
  if (data.kind !== had.kind) {
    if (data.kind === "group") {
      const l = newLine(v === "4.0" ? "KIND" : "X-ADDRESSBOOKSERVER-KIND", [], "group");
      if (s.kind >= 0) ed.set(s.kind, l);
      else ed.append(l);
    } else if (s.kind >= 0) ed.remove(s.kind);
  }
  const want = data.kind === "group" ? data.members.map(memberUri) : [];
  const keep = new Set<string>();
  for (const i of s.members) {
    const m = lines[i]!.value.trim();
    if (want.includes(m) && !keep.has(m)) keep.add(m);
    else ed.remove(i);
  }
  const memberName = v === "4.0" ? "MEMBER" : "X-ADDRESSBOOKSERVER-MEMBER";
  const last = s.members.length ? s.members[s.members.length - 1]! : -1;
  for (const m of want) {
    if (keep.has(m)) continue;
    keep.add(m);
    const l = newLine(memberName, [], m);
    if (last >= 0) ed.insertAfter(last, l);
    else ed.append(l);
  }

  if (!ed.changed && existing) return typeof existing === "string" ? existing : new TextDecoder().decode(existing);
  if (s.n < 0 && v === "3.0" && !nChanged) ed.append(newLine("N", [], ";;;;")); // RFC 2426 §3.1.2: N is required in 3.0 (only added with another change)
  bumpRev(ed, lines, v);
  const out = serialise(ed.result());
  if (new TextEncoder().encode(out).length > MAX_VCARD_BYTES) throw new ContactError(`The contact is too large to store (at most ${MAX_VCARD_BYTES / 1024} KB with its photo).`);
  try {
    parseVCard(out);
  } catch (e) {
    if (e instanceof VCardError) throw new ContactError(`The contact cannot be stored: ${e.message}`);
    throw e;
  }
  return out;
}

/** UID of a new card: 3.0 text; 4.0 a URI (RFC 6350 §6.7.6), urn:uuid: for a UUID, else VALUE=text. */
function uidLine(uid: string, version: VCardVersion): Line {
  if (version === "3.0") return newLine("UID", [], escapeText(uid));
  if (/^[a-z][a-z0-9+.-]*:/i.test(uid)) return newLine("UID", [], uid);
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(uid)) return newLine("UID", [], `urn:uuid:${uid}`);
  return newLine("UID", [{ name: "VALUE", values: ["text"] }], escapeText(uid));
}

/** A member as written in the card: a URI as given, a bare UID as urn:uuid: (RFC 6350 §6.6.5 example). */
export function memberUri(m: string): string {
  return /^[a-z][a-z0-9+.-]*:/i.test(m) ? m : `urn:uuid:${m}`;
}

/** REV (RFC 6350 §6.7.4), when the card has one, says when it last changed. */
function bumpRev(ed: Editor, lines: Line[], v: VCardVersion): void {
  const i = lines.findIndex((l) => l.name === "REV");
  if (i < 0) return;
  const iso = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  ed.set(i, rewrite(lines[i]!, lines[i]!.params.filter((p) => p.name !== "VALUE"), v === "4.0" ? iso.replace(/[-:]/g, "") : iso));
}
