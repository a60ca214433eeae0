/**
 * Notes (MS-ASNOTE) <-> the store's note body, an iCalendar VJOURNAL
 * (RFC 5545 §3.6.3): Subject = SUMMARY, Body = DESCRIPTION, Categories =
 * CATEGORIES, LastModifiedDate = LAST-MODIFIED; MessageClass is
 * "IPM.StickyNote" (a device's own "IPM.StickyNote.*" class is kept in
 * X-PILLARBOX-MESSAGE-CLASS).
 *
 * Writing back merges onto the stored VJOURNAL (codec.ts): every property
 * ActiveSync cannot express (DTSTART, X- properties, ATTACH, other
 * components) is kept. Notes stored in the older form, a text/plain MIME
 * message with the title as Subject, are read too and become a VJOURNAL on
 * the first device edit.
 */
import { randomUUID } from "node:crypto";
import ICAL from "ical.js";
import type { Item, NoteFields } from "../../../../storage/api.ts";
import { readMessage } from "../../../../mail/index.ts";
import { parseRoot } from "../../../../src/groupware/ical/parse.ts";
import { MAX_ICAL_BYTES } from "../../../../src/groupware/ical/errors.ts";
import { serialize } from "../../../../src/groupware/ical/split.ts";
import { PRODID } from "../../../../src/groupware/scheduling/itip.ts";
import { el, kid, kids, text, type WElement } from "../wbxml/tree.ts";
import { EasDataError, MAX_CATEGORIES, bodyTextFrom, categoriesFrom, cleanText, easCompactDate, parseEasDate, textBodyElement, type CodecContext, type GroupwareCodec } from "./codec.ts";

/** MS-ASNOTE §2.2.2.5: the value is "IPM.StickyNote" or "IPM.StickyNote.*". */
export const NOTE_CLASS = "IPM.StickyNote";
const CLASS_PROP = "x-pillarbox-message-class";
/** Longest Subject accepted from a device (characters); the index keeps the first 4,096 of a subject. Categories: codec.ts. */
const MAX_SUBJECT_CHARS = 32 * 1024;
const INDEXED_SUBJECT_CHARS = 4096;

/** What ActiveSync shows of a note. */
export interface NoteView {
  subject: string;
  text: string;
  categories: string[];
  /** UTC ms, or null when the body has none. */
  lastModified: number | null;
  messageClass: string;
}

function isICalendar(body: Uint8Array): boolean {
  const head = new TextDecoder().decode(body.subarray(0, 64)).replace(/^\uFEFF/, "").trimStart();
  return /^BEGIN:VCALENDAR/i.test(head);
}

function firstJournal(root: ICAL.Component): ICAL.Component | null {
  return root.getFirstSubcomponent("vjournal");
}

function stringValue(comp: ICAL.Component, name: string): string {
  const v = comp.getFirstPropertyValue(name);
  return typeof v === "string" ? v : v === null || v === undefined ? "" : String(v);
}

/** Every CATEGORIES value of a component (RFC 5545 §3.8.1.2: several properties, each a list). */
function categoriesOf(comp: ICAL.Component): string[] {
  const out: string[] = [];
  for (const p of comp.getAllProperties("categories")) {
    for (const v of p.getValues()) if (typeof v === "string" && v !== "") out.push(v);
  }
  return out;
}

function timeValue(comp: ICAL.Component, name: string): number | null {
  const v = comp.getFirstPropertyValue(name);
  if (!(v instanceof ICAL.Time)) return null;
  const ms = v.toUnixTime() * 1000;
  return Number.isFinite(ms) ? ms : null;
}

/** Reads a stored note body (VJOURNAL, or the older MIME form). Throws on a body that is neither. */
export function readNote(body: Uint8Array): NoteView {
  if (isICalendar(body)) {
    const journal = firstJournal(parseRoot(body, []));
    if (!journal) throw new Error("the note's iCalendar object has no VJOURNAL");
    // RFC 5545 §3.6.3: a VJOURNAL may carry several DESCRIPTIONs; they are shown one after another.
    const texts = journal.getAllProperties("description").map((p) => p.getFirstValue()).filter((v): v is string => typeof v === "string");
    return {
      subject: stringValue(journal, "summary"),
      text: texts.join("\n"),
      categories: categoriesOf(journal),
      lastModified: timeValue(journal, "last-modified") ?? timeValue(journal, "dtstamp"),
      messageClass: stringValue(journal, CLASS_PROP) || NOTE_CLASS,
    };
  }
  const m = readMessage(body);
  return { subject: m.subject, text: (m.text ?? "").replace(/\r\n/g, "\n"), categories: [], lastModified: null, messageClass: NOTE_CLASS };
}

/** The store's indexed fields of a note body (what list views show as its title). */
export function noteFieldsOf(body: Uint8Array): NoteFields {
  try {
    return { subject: readNote(body).subject.slice(0, INDEXED_SUBJECT_CHARS) };
  } catch {
    return { subject: "" };
  }
}



function setText(comp: ICAL.Component, name: string, value: string): void {
  comp.removeAllProperties(name);
  if (value !== "") comp.addPropertyWithValue(name, value);
}

function newCalendar(): { root: ICAL.Component; journal: ICAL.Component } {
  const root = new ICAL.Component("vcalendar");
  root.addPropertyWithValue("version", "2.0");
  root.addPropertyWithValue("prodid", PRODID);
  const journal = new ICAL.Component("vjournal");
  journal.addPropertyWithValue("uid", randomUUID());
  root.addSubcomponent(journal);
  return { root, journal };
}

function utcTime(ms: number): ICAL.Time {
  return ICAL.Time.fromJSDate(new Date(Math.floor(ms / 1000) * 1000), true);
}

export const noteCodec: GroupwareCodec = {
  toEas(body: Uint8Array, item: Item, cx: CodecContext): WElement[] {
    const n = readNote(body);
    const categories = n.categories.slice(0, MAX_CATEGORIES);
    // MS-ASNOTE §2.2.2: Body, Subject, MessageClass, LastModifiedDate, Categories
    return [
      textBodyElement(n.text, cx.body),
      el("Notes:Subject", n.subject),
      el("Notes:MessageClass", n.messageClass),
      el("Notes:LastModifiedDate", easCompactDate(n.lastModified ?? item.modifiedAt)),
      categories.length > 0 ? el("Notes:Categories", categories.map((c) => el("Notes:Category", c))) : null,
    ].filter((e): e is WElement => e !== null);
  },

  fromEas(data: WElement, existing: Uint8Array | null, cx: CodecContext): Uint8Array {
    let root: ICAL.Component;
    let journal: ICAL.Component;
    let oldText: string | undefined;
    if (existing && isICalendar(existing)) {
      root = parseRoot(existing, []);
      const j = firstJournal(root);
      if (!j) throw new EasDataError("the stored note has no VJOURNAL");
      journal = j;
    } else {
      ({ root, journal } = newCalendar());
      // a note of the older MIME form becomes a VJOURNAL with its text, unless the device sends its own
      if (existing) oldText = readNote(existing).text;
    }

    const messageClass = kid(data, "Notes:MessageClass");
    if (messageClass) {
      const v = text(messageClass).trim();
      // MS-ASNOTE §2.2.2.5: nothing else is a note
      if (v !== NOTE_CLASS && !(v.startsWith(`${NOTE_CLASS}.`) && v.length <= 255)) throw new EasDataError(`MessageClass ${JSON.stringify(v.slice(0, 60))} is not a note`);
      setText(journal, CLASS_PROP, v === NOTE_CLASS ? "" : v);
    }

    // MS-ASCMD §2.2.3.24.2: an element left out of a Change is deleted (Subject, Categories);
    // the Body alone is kept when absent (codec.ts bodyTextFrom: a device may not send it back).
    const subject = cleanText(kid(data, "Notes:Subject") ? text(kid(data, "Notes:Subject")) : "");
    if (subject.length > MAX_SUBJECT_CHARS) throw new EasDataError("subject too long");
    setText(journal, "summary", subject);

    const bodyText = bodyTextFrom(data);
    const description = bodyText !== undefined ? cleanText(bodyText) : oldText;
    if (description !== undefined) setText(journal, "description", description);

    const categories = categoriesFrom(data, "Notes") ?? [];
    // unchanged categories keep their stored form (several properties, parameters)
    const stored = categoriesOf(journal);
    if (stored.length !== categories.length || stored.some((c, i) => c !== categories[i])) {
      journal.removeAllProperties("categories");
      if (categories.length > 0) {
        const p = new ICAL.Property("categories", journal);
        p.setValues(categories);
        journal.addProperty(p);
      }
    }

    // LAST-MODIFIED: when the user changed it, as the device says (MS-ASNOTE §2.2.2.4), else now
    const lm = kid(data, "Notes:LastModifiedDate");
    const modified = lm ? parseEasDate(text(lm)) : cx.now;
    journal.updatePropertyWithValue("last-modified", utcTime(Math.min(modified, cx.now)));
    journal.updatePropertyWithValue("dtstamp", utcTime(cx.now));
    if (!journal.hasProperty("created") && !existing) journal.addPropertyWithValue("created", utcTime(cx.now));
    if (!journal.hasProperty("uid")) journal.addPropertyWithValue("uid", randomUUID());

    const out = new TextEncoder().encode(serialize(root));
    // what is stored must read back (parseRoot's size limit)
    if (out.length > MAX_ICAL_BYTES) throw new EasDataError("note too large");
    return out;
  },
};
