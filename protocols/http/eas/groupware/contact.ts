/**
 * The Contacts class converter (MS-ASCNTC, with the Contacts2 code page):
 * a stored vCard 3.0/4.0 <-> the ApplicationData of a contact.
 *
 * Writing back is a merge (codec.ts): for every field ActiveSync carries,
 * an element the device left out of a Change removes the vCard property
 * (MS-ASCNTC: a Change carries the whole contact), an element with a new
 * value replaces the value of the same line (its TYPE, group and other
 * parameters kept), and an unchanged value keeps the line byte for byte.
 * Properties with no ActiveSync element (X- properties, RELATED, GEO, a
 * fourth EMAIL...) are never touched. Three exceptions, each because the
 * device cannot have meant a deletion:
 *  - no Picture element keeps the photo (devices leave an unchanged
 *    picture out), an empty one deletes it;
 *  - no Body element keeps the NOTE (AirSyncBase Body is sent only when
 *    edited, MS-ASAIRS);
 *  - what the device was never shown (a photo over the 48 KB limit or a
 *    URI, a date written as text) is kept whatever it sends.
 */
import { randomUUID } from "node:crypto";
import { parseVCard, VCardError } from "../../../../src/groupware/vcard/index.ts";
import { EasDataError, manages, textBodyElement, type CodecContext, type GroupwareCodec } from "./codec.ts";
import { easBirthday, pictureType, readDevice, type DeviceContact } from "./contact-device.ts";
import {
  ADDRESS_KINDS,
  ADDRESS_PARTS,
  DATE_FIELDS,
  EMAIL_FIELDS,
  IM_FIELDS,
  MAX_PICTURE_BASE64,
  NAME_FIELDS,
  PHONE_FIELDS,
  readCard,
  SIMPLE_FIELDS,
  type CardView,
  type Slot,
} from "./contact-fields.ts";
import { escapeText, LineEditor as Editor, newLine, parseLines, serialise, splitList, splitStructured, withValue, type Line, type Param } from "../../../../src/groupware/vcard/lines.ts";
import { el, type WElement } from "../wbxml/tree.ts";

const utf8 = new TextDecoder("utf-8");

function cardLines(body: Uint8Array): Line[] {
  const lines = parseLines(utf8.decode(body).replace(/^\uFEFF/, ""));
  if (lines[0]?.name !== "BEGIN" || lines[0].value.trim().toUpperCase() !== "VCARD") throw new EasDataError("the stored object is not a vCard");
  return lines;
}

function opt(name: string, value: string | undefined): WElement | null {
  return value ? el(name, value) : null;
}

/** ApplicationData children of a stored card. */
export function contactToEas(body: Uint8Array, cx: CodecContext): WElement[] {
  const v = readCard(cardLines(body));
  const out: (WElement | null)[] = [];
  out.push(opt("Contacts:FileAs", v.fn?.value));
  NAME_FIELDS.forEach((f, i) => out.push(opt(f, v.n?.parts[i])));
  out.push(opt("Contacts:CompanyName", v.org?.parts[0]), opt("Contacts:Department", v.org?.parts[1]));
  EMAIL_FIELDS.forEach((f, i) => out.push(opt(f, v.emails[i]?.value)));
  for (const f of Object.keys(PHONE_FIELDS)) if (f.startsWith("Contacts:")) out.push(opt(f, v.phones.get(f)?.value));
  for (const kind of ADDRESS_KINDS) {
    const a = v.addresses.get(kind);
    ADDRESS_PARTS.forEach((p, i) => out.push(opt(`Contacts:${kind}Address${p}`, a?.parts[i])));
  }
  for (const f of Object.keys(DATE_FIELDS)) {
    const d = v.dates.get(f);
    if (d) out.push(el(f, easBirthday(d.value)));
  }
  for (const f of Object.keys(SIMPLE_FIELDS)) if (f.startsWith("Contacts:")) out.push(opt(f, v.simple.get(f)?.value));
  if (v.categories.values.length) out.push(el("Contacts:Categories", v.categories.values.map((c) => el("Contacts:Category", c))));
  if (v.children.values.some(Boolean)) out.push(el("Contacts:Children", v.children.values.filter(Boolean).map((c) => el("Contacts:Child", c))));
  if (v.photo?.base64 && v.photo.base64.length <= MAX_PICTURE_BASE64) out.push(el("Contacts:Picture", v.photo.base64));
  out.push(textBodyElement(v.note?.value ?? "", cx.body));
  // Contacts2 (MS-ASWBXML code page 12) after the rest.
  for (const f of Object.keys(SIMPLE_FIELDS)) if (f.startsWith("Contacts2:")) out.push(opt(f, v.simple.get(f)?.value));
  IM_FIELDS.forEach((f, i) => out.push(opt(f, v.ims[i]?.value)));
  for (const f of Object.keys(PHONE_FIELDS)) if (f.startsWith("Contacts2:")) out.push(opt(f, v.phones.get(f)?.value));
  return out.filter((e): e is WElement => e !== null);
}

const types = (t: string[]): Param[] => (t.length ? [{ name: "TYPE", values: t }] : []);

/** One single-line field: keep, replace the value, remove, or add a new line. */
function editSlot(ed: Editor, lines: Line[], slot: Slot | null | undefined, value: string | undefined, same: (a: string, b: string) => boolean, make: () => Line, encode: (line: Line, v: string) => Line): void {
  if (!value) {
    if (slot) ed.remove(slot.line);
  } else if (!slot) ed.append(make());
  else if (!same(slot.value, value)) ed.set(slot.line, encode(lines[slot.line]!, value));
}

const exact = (a: string, b: string) => a === b;

/**
 * MS-ASCMD §2.2.3.179: an element the device left out of its Supported list
 * is ghosted, and its absence from a Change keeps the stored value. The
 * stored value is filled in as if the device had sent it back, so the line
 * is kept byte for byte. (FileAs is left alone: FN follows the names.)
 */
function fillGhosted(d: DeviceContact, v: CardView, cx: CodecContext): void {
  const keep = (q: string) => !d.present.has(q) && !manages(cx, q);
  const fill = (q: string, value: string | undefined) => {
    if (keep(q) && value) d.values.set(q, value);
  };
  NAME_FIELDS.forEach((f, i) => fill(f, v.n?.parts[i]));
  fill("Contacts:CompanyName", v.org?.parts[0]);
  fill("Contacts:Department", v.org?.parts[1]);
  EMAIL_FIELDS.forEach((f, i) => fill(f, v.emails[i]?.value));
  IM_FIELDS.forEach((f, i) => fill(f, v.ims[i]?.value));
  for (const f of Object.keys(PHONE_FIELDS)) fill(f, v.phones.get(f)?.value);
  for (const f of Object.keys(SIMPLE_FIELDS)) fill(f, v.simple.get(f)?.value);
  for (const f of Object.keys(DATE_FIELDS)) fill(f, v.dates.get(f)?.value);
  for (const kind of ADDRESS_KINDS) ADDRESS_PARTS.forEach((p, i) => fill(`Contacts:${kind}Address${p}`, v.addresses.get(kind)?.parts[i]));
  if (keep("Contacts:Categories")) d.categories = v.categories.values.slice();
  if (keep("Contacts:Children")) d.children = v.children.values.slice();
}

/** The card for a device's contact: merged onto `existing`, or a new vCard 3.0 for an Add. */
export function contactFromEas(data: WElement, existing: Uint8Array | null, cx?: CodecContext): Uint8Array {
  const d = readDevice(data);
  const lines = existing ? cardLines(existing) : [newLine("BEGIN", [], "VCARD"), newLine("VERSION", [], "3.0"), newLine("UID", [], randomUUID()), newLine("END", [], "VCARD")];
  const v = readCard(lines);
  if (existing && cx) fillGhosted(d, v, cx);
  const ed = new Editor(lines);
  const text = (l: Line, x: string) => withValue(l, escapeText(x));

  const namesChanged = mergeStructured(ed, lines, v, d);
  mergeFileAs(ed, lines, v, d, namesChanged);

  for (const [f, names] of Object.entries(SIMPLE_FIELDS)) {
    const value = d.values.get(f);
    const slot = v.simple.get(f);
    if (!value && !slot) continue;
    if (!value) {
      clearField(ed, lines, slot!, names);
      continue;
    }
    const encode = (l: Line, x: string): Line => {
      if (l.name === "URL") return withValue(l, x.replace(/[\r\n]/g, ""));
      if (l.name === "NICKNAME") return withValue(l, [escapeText(x), ...splitList(l.value).slice(1).map(escapeText)].join(","));
      return text(l, x);
    };
    editSlot(ed, lines, slot, value, exact, () => encode(newLine(names[0]!, [], ""), value), encode);
  }

  for (const [f, names] of Object.entries(DATE_FIELDS)) {
    if (v.unreadableDates.has(f) && !v.dates.has(f)) continue;
    const value = d.values.get(f);
    const name = (v.version === "4.0" ? names.v4 : names.v3)[0]!;
    const encode = (l: Line, x: string) => withValue(l, cardDateText(x, v.version, l.name), ["VALUE"]);
    const slot = v.dates.get(f);
    if (!value && slot) {
      clearField(ed, lines, slot, [...names.v3, ...names.v4]);
      continue;
    }
    editSlot(ed, lines, v.dates.get(f), value, exact, () => encode(newLine(name, [], ""), value!), encode);
  }

  mergeEmails(ed, lines, v, d);
  mergePhones(ed, lines, v, d);
  mergeAddresses(ed, lines, v, d);
  mergeIms(ed, lines, v, d);
  mergeList(ed, lines, v.categories, d.categories, (vals) => [newLine("CATEGORIES", [], vals.map(escapeText).join(","))]);
  mergeList(ed, lines, v.children, d.children, (vals) => vals.map((c) => newLine("X-CHILD", [], escapeText(c))));
  mergePicture(ed, v, d);
  if (d.body !== undefined && !(cx && v.note && truncatedEcho(v.note.value, d.body, cx))) {
    // An HTML body comes back as text without its outer white space: that alone is no edit.
    const sameNote = (a: string, b: string) => a.trim() === b.trim();
    editSlot(ed, lines, v.note, d.body, sameNote, () => newLine("NOTE", [], escapeText(d.body!)), text);
  }

  const out = new TextEncoder().encode(serialise(ed.result()));
  try {
    parseVCard(out);
  } catch (e) {
    if (e instanceof VCardError) throw new EasDataError(`the contact cannot be stored: ${e.message}`);
    throw e;
  }
  return out;
}

/**
 * A field the device cleared: its line goes, and so do lines of its other
 * spellings (X-EVOLUTION-SPOUSE beside X-SPOUSE), which would otherwise show
 * up as the value next time. More lines of the same property (a second URL)
 * were never shown to the device and stay.
 */
function clearField(ed: Editor, lines: Line[], slot: Slot, names: string[]): void {
  const own = lines[slot.line]!.name;
  lines.forEach((l, i) => (i === slot.line || (l.name !== own && names.includes(l.name))) && ed.remove(i));
}

/**
 * A device that only ever got a truncated note (longer than the
 * collection's TruncationSize, MS-ASAIRS §2.2.2.40.1) and sends that
 * truncated text back has not edited it: the whole stored note is kept.
 */
function truncatedEcho(stored: string, sent: string, cx: CodecContext): boolean {
  const pref = cx.body.prefs.find((p) => p.type === 1 || p.type === 2);
  if (pref?.truncationSize === undefined || new TextEncoder().encode(stored).length <= pref.truncationSize) return false;
  const prefix = sent.trimEnd();
  return prefix.length < stored.length && stored.startsWith(prefix);
}

/** BDAY/ANNIVERSARY text for "YYYY-MM-DD": 4.0 basic format ("--MMDD" without a year, RFC 6350 §4.3.1), 3.0 ISO date (RFC 2426 §3.1.5). */
function cardDateText(date: string, version: string, property: string): string {
  const [y, m, dd] = date.split("-");
  if (version === "4.0" && !property.startsWith("X-")) return y === "1604" ? `--${m}${dd}` : `${y}${m}${dd}`;
  return date;
}

/** N and ORG; true when a name part changed (FN then follows the names). */
function mergeStructured(ed: Editor, lines: Line[], v: CardView, d: DeviceContact): boolean {
  const names = NAME_FIELDS.map((f) => d.values.get(f) ?? "");
  const had = v.n?.parts ?? ["", "", "", "", ""];
  const nChanged = names.some((x, i) => x !== had[i]);
  if (nChanged) {
    const value = names.map(escapeText).join(";");
    if (v.n) {
      if (names.some(Boolean) || v.version === "3.0") ed.set(v.n.line, withValue(lines[v.n.line]!, value));
      else ed.remove(v.n.line);
    } else ed.append(newLine("N", [], value));
  } else if (!v.n && v.version === "3.0") {
    ed.append(newLine("N", [], ";;;;")); // RFC 2426 §3.1.2: N is required in 3.0
  }
  const company = d.values.get("Contacts:CompanyName") ?? "";
  const dept = d.values.get("Contacts:Department") ?? "";
  if (company !== (v.org?.parts[0] ?? "") || dept !== (v.org?.parts[1] ?? "")) {
    const rest = v.org ? splitStructured(lines[v.org.line]!.value).slice(2) : [];
    const parts = [escapeText(company), escapeText(dept), ...rest];
    while (parts.length && parts[parts.length - 1] === "") parts.pop();
    if (!parts.length) ed.remove(v.org!.line);
    else if (v.org) ed.set(v.org.line, withValue(lines[v.org.line]!, parts.join(";")));
    else ed.append(newLine("ORG", [], parts.join(";")));
  }
  return nChanged;
}

/**
 * FN (required by vCard, RFC 6350 §6.2.1) is FileAs when the device sends
 * one; otherwise it keeps its text unless the names changed, and is made
 * from the names, the company, the first email or the first phone.
 */
function mergeFileAs(ed: Editor, lines: Line[], v: CardView, d: DeviceContact, namesChanged: boolean): void {
  let fn = d.values.get("Contacts:FileAs");
  if (!fn) {
    if (v.fn && !namesChanged) return;
    const g = (f: string) => d.values.get(f) ?? "";
    fn = [g("Contacts:Title"), g("Contacts:FirstName"), g("Contacts:MiddleName"), g("Contacts:LastName"), g("Contacts:Suffix")].filter(Boolean).join(" ");
    fn ||= g("Contacts:CompanyName") || g("Contacts:Email1Address") || g("Contacts:MobilePhoneNumber") || Object.keys(PHONE_FIELDS).map(g).find(Boolean) || v.fn?.value || "";
  }
  if (v.fn) {
    if (fn !== v.fn.value) ed.set(v.fn.line, withValue(lines[v.fn.line]!, escapeText(fn)));
  } else ed.append(newLine("FN", [], escapeText(fn)));
}

/** Email1..3Address over the first three EMAILs, new ones placed after the last kept one to keep their order. */
function mergeEmails(ed: Editor, lines: Line[], v: CardView, d: DeviceContact): void {
  const make = (x: string) => newLine("EMAIL", v.version === "3.0" ? types(["internet"]) : [], escapeText(x));
  EMAIL_FIELDS.forEach((f, i) => {
    const value = d.values.get(f);
    const slot = v.emails[i];
    const next = v.emails.slice(i + 1)[0];
    if (value && !slot && next) ed.insertBefore(next.line, make(value));
    else editSlot(ed, lines, slot, value, (a, b) => a.toLowerCase() === b.toLowerCase(), () => make(value!), (l, x) => withValue(l, escapeText(x)));
  });
}

function mergePhones(ed: Editor, lines: Line[], v: CardView, d: DeviceContact): void {
  for (const [f, t] of Object.entries(PHONE_FIELDS)) {
    const value = d.values.get(f);
    const make = () => newLine("TEL", types(t), escapeText(value!));
    // A new first number goes before the second one of its kind, so the two keep their fields.
    const second = f === "Contacts:BusinessPhoneNumber" ? v.phones.get("Contacts:Business2PhoneNumber") : f === "Contacts:HomePhoneNumber" ? v.phones.get("Contacts:Home2PhoneNumber") : undefined;
    if (value && !v.phones.has(f) && second) ed.insertBefore(second.line, make());
    else editSlot(ed, lines, v.phones.get(f), value, exact, make, (l, x) => withValue(l, escapeText(x), ["VALUE"]));
  }
}

function mergeAddresses(ed: Editor, lines: Line[], v: CardView, d: DeviceContact): void {
  for (const kind of ADDRESS_KINDS) {
    const parts = ADDRESS_PARTS.map((p) => d.values.get(`Contacts:${kind}Address${p}`) ?? "");
    const slot = v.addresses.get(kind);
    const empty = !parts.some(Boolean);
    if (empty) {
      if (slot) ed.remove(slot.line);
      continue;
    }
    if (slot && parts.every((x, i) => x === slot.parts[i])) continue;
    const kept = slot ? splitStructured(lines[slot.line]!.value).slice(0, 2) : ["", ""];
    while (kept.length < 2) kept.push("");
    const value = [...kept, ...parts.map(escapeText)].join(";");
    if (slot) ed.set(slot.line, withValue(lines[slot.line]!, value));
    else ed.append(newLine("ADR", types(kind === "Business" ? ["work"] : kind === "Home" ? ["home"] : []), value));
  }
}

function mergeIms(ed: Editor, lines: Line[], v: CardView, d: DeviceContact): void {
  IM_FIELDS.forEach((f, i) => {
    const value = d.values.get(f);
    const slot = v.ims[i];
    const hasScheme = (x: string) => /^[a-z][a-z0-9+.-]*:/i.test(x);
    // IMPP is a URI (RFC 6350 §6.4.3): a bare address gets the generic im: scheme (RFC 3860).
    const make = () => newLine("IMPP", [], hasScheme(value!) ? value! : `im:${value}`);
    const encode = (l: Line, x: string): Line => {
      if (l.name !== "IMPP") return withValue(l, escapeText(x));
      if (hasScheme(x)) return withValue(l, x);
      const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(l.value.trim())?.[0] ?? "im:";
      return withValue(l, scheme + x);
    };
    const same = (a: string, b: string) => a === b || (slot !== undefined && lines[slot.line]!.value.trim() === b);
    editSlot(ed, lines, slot, value, same, make, encode);
  });
}

/** CATEGORIES and X-CHILD: the whole list is replaced when it differs. */
function mergeList(ed: Editor, _lines: Line[], had: { lines: number[]; values: string[] }, want: string[], make: (v: string[]) => Line[]): void {
  if (had.values.length === want.length && had.values.every((x, i) => x === want[i])) return;
  had.lines.forEach((i) => ed.remove(i));
  if (!want.length) return;
  const fresh = make(want);
  if (had.lines.length) fresh.forEach((l) => ed.insertBefore(had.lines[0]!, l));
  else fresh.forEach((l) => ed.append(l));
}

function mergePicture(ed: Editor, v: CardView, d: DeviceContact): void {
  if (d.picture === undefined) return;
  const shown = !!v.photo?.base64 && v.photo.base64.length <= MAX_PICTURE_BASE64;
  if (d.picture === "") {
    if (shown) ed.remove(v.photo!.line);
    return;
  }
  if (v.photo?.base64 === d.picture) return;
  const type = pictureType(d.picture);
  const line =
    v.version === "4.0"
      ? newLine("PHOTO", [], `data:image/${type.toLowerCase()};base64,${d.picture}`)
      : newLine("PHOTO", [{ name: "ENCODING", values: ["b"] }, { name: "TYPE", values: [type] }], d.picture);
  if (v.photo) ed.set(v.photo.line, line);
  else ed.append(line);
}

export const ContactCodec: GroupwareCodec = {
  toEas: (body, _item, cx) => contactToEas(body, cx),
  fromEas: (data, existing, cx) => contactFromEas(data, existing, cx),
};
