/**
 * vCard (3.0, RFC 2426; 4.0, RFC 6350) for CardDAV (RFC 6352): parsing with
 * ical.js, the indexed fields the store keeps, and splitting multi-card
 * files for import. Cards are stored exactly as sent; nothing here
 * re-serialises one.
 */
import ICAL from "ical.js";
import type { ContactFields } from "../../../storage/api.ts";

export class VCardError extends Error {
  constructor(
    public readonly code: "INVALID_DATA" | "INVALID_OBJECT",
    message: string,
  ) {
    super(message);
    this.name = "VCardError";
  }
}

export interface ContactObject {
  version: "3.0" | "4.0";
  /** UID; a vCard without one is INVALID_OBJECT (RFC 6352 §6.3.2.3 requires it). */
  uid: string;
  /** fullName (FN), sortName (SORT-AS / N / FN), emails (lower-case), phones, org. */
  fields: ContactFields;
  /** For addressbook-query prop-filters. */
  root: ICAL.Component;
  warnings: string[];
}

/** 1 MiB per card (photos included). */
export const MAX_VCARD_BYTES = 1 << 20;
/** Properties per card. */
export const MAX_VCARD_PROPERTIES = 1000;
/** Cards per import file split (the CLI's file limit comes first). */
export const MAX_SPLIT_CARDS = 1_000_000;

const utf8 = new TextDecoder("utf-8", { fatal: true });
const lossy = new TextDecoder("utf-8");

function decode(body: Uint8Array | string, warnings: string[]): string {
  let text: string;
  if (typeof body === "string") text = body;
  else {
    if (body.length > MAX_VCARD_BYTES) throw new VCardError("INVALID_DATA", `the vCard is larger than ${MAX_VCARD_BYTES} bytes`);
    try {
      text = utf8.decode(body);
    } catch {
      text = lossy.decode(body);
      warnings.push("the vCard is not valid UTF-8: bad bytes were read as U+FFFD");
    }
  }
  if (text.length > MAX_VCARD_BYTES) throw new VCardError("INVALID_DATA", `the vCard is larger than ${MAX_VCARD_BYTES} bytes`);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.includes("\0")) throw new VCardError("INVALID_DATA", "the vCard contains NUL bytes (binary data, not text)");
  return text;
}

function firstString(v: unknown): string {
  if (typeof v === "string") return v;
  if (Array.isArray(v)) {
    for (const x of v) {
      const s = firstString(x);
      if (s) return s;
    }
  }
  return "";
}

function structured(p: ICAL.Property | null): string[] {
  if (!p) return [];
  const v = p.getFirstValue();
  if (Array.isArray(v)) return v.map((x) => (Array.isArray(x) ? x.join(" ") : String(x ?? "")));
  return typeof v === "string" ? v.split(";") : [];
}

/**
 * One vCard resource (RFC 6352 §5.1: exactly one vCard with a UID).
 * vCard 2.1 is refused with a clear message (its encoding rules differ).
 */
export function parseVCard(body: Uint8Array | string): ContactObject {
  try {
    return parseCard(body);
  } catch (e) {
    // Whatever ical.js throws on odd input is the input's fault.
    if (e instanceof VCardError) throw e;
    throw new VCardError("INVALID_DATA", `not a valid vCard: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function parseCard(body: Uint8Array | string): ContactObject {
  const warnings: string[] = [];
  const text = decode(body, warnings);
  if (!/^\s*BEGIN:VCARD\r?\n/i.test(text)) throw new VCardError("INVALID_DATA", "not a vCard: the text must begin with BEGIN:VCARD (RFC 6350 §3.3)");
  if (!/^END:VCARD[ \t]*$/im.test(text)) throw new VCardError("INVALID_DATA", "not a vCard: END:VCARD is missing (truncated?)");
  const vm = /^VERSION:[ \t]*([^\r\n]*)$/im.exec(text);
  if (!vm) throw new VCardError("INVALID_DATA", "the vCard has no VERSION (RFC 6350 §6.7.9)");
  const ver = vm[1]!.trim();
  if (ver === "2.1") throw new VCardError("INVALID_DATA", "vCard 2.1 is not supported: send vCard 3.0 or 4.0 (RFC 6352 §5.1)");
  if (ver !== "3.0" && ver !== "4.0") throw new VCardError("INVALID_DATA", `vCard version ${ver.slice(0, 20)} is not supported: send vCard 3.0 or 4.0`);
  let lines = 0;
  for (const m of text.matchAll(/\n(?![ \t])/g)) {
    void m;
    if (++lines > MAX_VCARD_PROPERTIES + 2) throw new VCardError("INVALID_DATA", `more than ${MAX_VCARD_PROPERTIES} properties in one vCard`);
  }
  let jcal: unknown;
  try {
    jcal = ICAL.parse(text);
  } catch (e) {
    throw new VCardError("INVALID_DATA", `not a valid vCard: ${(e as Error).message}`);
  }
  if (!Array.isArray(jcal) || jcal.length === 0) throw new VCardError("INVALID_DATA", "not a valid vCard: no component");
  if (Array.isArray(jcal[0])) throw new VCardError("INVALID_OBJECT", "several vCards in one resource: one card per resource (RFC 6352 §5.1)");
  const root = new ICAL.Component(jcal as unknown[]);
  if (root.name !== "vcard") throw new VCardError("INVALID_DATA", `not a vCard: the component is ${root.name.toUpperCase()}`);
  if (root.getAllSubcomponents().length > 0) throw new VCardError("INVALID_DATA", "a vCard cannot contain nested components");
  const props = root.getAllProperties();
  if (props.length > MAX_VCARD_PROPERTIES) throw new VCardError("INVALID_DATA", `more than ${MAX_VCARD_PROPERTIES} properties in one vCard`);
  const uid = firstString(root.getFirstPropertyValue("uid")).trim();
  if (!uid) throw new VCardError("INVALID_OBJECT", "the vCard has no UID (RFC 6352 §6.3.2.3 requires one)");
  const fn = firstString(root.getFirstPropertyValue("fn")).trim();
  if (!fn) warnings.push("the vCard has no FN (RFC 6350 §6.2.1)");
  const nProp = root.getFirstProperty("n");
  const n = structured(nProp);
  // RFC 6350 §5.9: SORT-AS on N gives the sort string(s).
  const sortAs = nProp ? firstString(nProp.getParameter("sort-as")) : "";
  const byName = [n[0] ?? "", n[1] ?? ""].map((s) => s.trim()).filter(Boolean).join(" ");
  const sortName = sortAs.replace(/,/g, " ").trim() || byName || fn;
  const emails: string[] = [];
  for (const p of root.getAllProperties("email")) {
    const e = firstString(p.getFirstValue()).trim().replace(/^mailto:/i, "").toLowerCase();
    if (e && !emails.includes(e)) emails.push(e);
  }
  const phones: string[] = [];
  for (const p of root.getAllProperties("tel")) {
    const t = firstString(p.getFirstValue()).trim().replace(/^tel:/i, "");
    if (t && !phones.includes(t)) phones.push(t);
  }
  const org = structured(root.getFirstProperty("org"))[0]?.trim() ?? "";
  return { version: ver, uid, fields: { uid, fullName: fn, sortName, emails, phones, org }, root, warnings };
}

/**
 * Splits a multi-vCard file into the text of each card, byte-exact slices
 * (BEGIN:VCARD through END:VCARD and its line end). Text between cards and
 * an unterminated last card are reported in `errors`; the cards are not
 * parsed here (the importer writes each through the service, which reports
 * what is wrong with it).
 */
export function splitVCards(text: string): { cards: string[]; errors: string[] } {
  const cards: string[] = [];
  const errors: string[] = [];
  const re = /[^\r\n]*(?:\r\n|\n|\r|$)/g;
  re.lastIndex = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let cardStart = -1;
  let cardLine = 0;
  let depth = 0;
  let lineNo = 0;
  let junkReported = false;
  for (;;) {
    const pos = re.lastIndex;
    if (pos >= text.length) break;
    const m = re.exec(text);
    if (!m || m[0] === "") break;
    lineNo++;
    // A line beginning with white space continues the previous one (RFC 6350 §3.2): never a marker.
    const line = m[0].replace(/[\r\n]+$/, "").replace(/[ \t]+$/, "");
    if (/^BEGIN:VCARD$/i.test(line)) {
      if (depth === 0) {
        cardStart = pos;
        cardLine = lineNo;
      }
      depth++; // vCard 2.1 AGENT may nest a card
    } else if (/^END:VCARD$/i.test(line) && depth > 0) {
      depth--;
      if (depth === 0) {
        if (cards.length >= MAX_SPLIT_CARDS) {
          errors.push(`more than ${MAX_SPLIT_CARDS} cards: the rest was not read`);
          return { cards, errors };
        }
        cards.push(text.slice(cardStart, re.lastIndex));
        junkReported = false;
      }
    } else if (depth === 0 && line !== "" && !junkReported) {
      errors.push(`line ${lineNo}: text outside BEGIN:VCARD/END:VCARD ignored`);
      junkReported = true;
    }
  }
  if (depth > 0) errors.push(`line ${cardLine}: the card is not terminated (END:VCARD missing)`);
  return { cards, errors };
}
