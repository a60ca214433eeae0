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
 *
 * Reading is contact-read.ts, the line edits contact-lines.ts, the checks of
 * client input contact-check.ts; this module is what callers import.
 */
import { randomUUID } from "node:crypto";
import { parseVCard, VCardError, MAX_VCARD_BYTES } from "../vcard/index.ts";
import { escapeText, newLine, serialise, splitList, splitStructured, type Line } from "../vcard/lines.ts";
import { ContactError, photoFromDataUrl } from "./contact-check.ts";
import { cardLines, readLines, type VCardVersion } from "./contact-read.ts";
import { date, Editor, photoLine, repeated, rewrite, single } from "./contact-lines.ts";
import type { ContactAddress, ContactData, ContactValue } from "./types.ts";

export { ContactError } from "./contact-check.ts";
export { cardLines, contactSummary, readContact, readLines, sortNameOf, summaryOf, type ReadContact, type VCardVersion } from "./contact-read.ts";

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
