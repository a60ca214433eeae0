/**
 * The plain fields of an event or of one of its exceptions, both ways:
 * Subject (SUMMARY), Location, Body (DESCRIPTION), BusyStatus (TRANSP and
 * X-MICROSOFT-CDO-BUSYSTATUS), Sensitivity (CLASS), Reminder (a VALARM with
 * a TRIGGER relative to the start), Categories.
 *
 * Applying is a merge: an element the device sent replaces the value, an
 * element it left out keeps the stored one (MS-ASCAL §3.1.5.3: in 16.x
 * absent elements are ghosted; before 16.0 devices send the whole item, and
 * keeping what they left out never loses data a CalDAV client wrote).
 */
import ICAL from "ical.js";
import type { Account } from "../../../../storage/api.ts";
import { bodyTextFrom, EasDataError, textBodyElement, type CodecContext } from "./codec.ts";
import { myAttendee } from "./calendar-people.ts";
import { el, kid, kids, kidText, text, type WElement } from "../wbxml/tree.ts";

/** Longest Subject/Location accepted (characters). */
export const MAX_SHORT_TEXT = 32 * 1024;
export const MAX_CATEGORIES = 300;
/** Reminder minutes (MS-ASCAL §2.2.2.37, unsignedInt): at most a year before the start. */
export const MAX_REMINDER_MINUTES = 366 * 24 * 60;

function str(comp: ICAL.Component, name: string): string {
  const v = comp.getFirstPropertyValue(name);
  return typeof v === "string" ? v : v === null || v === undefined ? "" : String(v);
}

function paramOf(p: ICAL.Property, name: string): string {
  const v = p.getParameter(name);
  return typeof v === "string" ? v : "";
}

// ---------------------------------------------------------------- to the device

const BUSY_OF_CDO: Record<string, number> = { FREE: 0, TENTATIVE: 1, BUSY: 2, OOF: 3, WORKINGELSEWHERE: 4 };

/** MS-ASCAL §2.2.2.10 BusyStatus: 0 free, 1 tentative, 2 busy, 3 out of office, 4 working elsewhere. */
export function busyStatus(comp: ICAL.Component, account: Account): number {
  const cdo = str(comp, "x-microsoft-cdo-busystatus").toUpperCase();
  if (cdo in BUSY_OF_CDO) return BUSY_OF_CDO[cdo]!;
  if (str(comp, "transp").toUpperCase() === "TRANSPARENT") return 0;
  const me = myAttendee(comp, account);
  if (me) {
    const ps = paramOf(me, "partstat").toUpperCase() || "NEEDS-ACTION";
    if (ps === "DECLINED") return 0;
    if (ps === "TENTATIVE" || ps === "NEEDS-ACTION") return 1;
  }
  if (str(comp, "status").toUpperCase() === "TENTATIVE") return 1;
  return 2;
}

/** MS-ASCAL §2.2.2.41 Sensitivity: 0 normal, 1 personal, 2 private, 3 confidential. */
export function sensitivity(comp: ICAL.Component): number {
  switch (str(comp, "class").toUpperCase()) {
    case "X-PERSONAL":
      return 1;
    case "PRIVATE":
      return 2;
    case "CONFIDENTIAL":
      return 3;
    default:
      return 0;
  }
}

/** The first VALARM whose TRIGGER is a duration relative to the start (RFC 5545 §3.8.6.3). */
function relativeAlarm(comp: ICAL.Component): { alarm: ICAL.Component; trigger: ICAL.Property } | null {
  for (const a of comp.getAllSubcomponents("valarm")) {
    const t = a.getFirstProperty("trigger");
    if (!t) continue;
    const v = t.getFirstValue();
    if (v instanceof ICAL.Duration && paramOf(t, "related").toUpperCase() !== "END") return { alarm: a, trigger: t };
  }
  return null;
}

/** MS-ASCAL §2.2.2.37 Reminder: minutes before the start, or null without a relative alarm. */
export function reminderMinutes(comp: ICAL.Component): number | null {
  const r = relativeAlarm(comp);
  if (!r) return null;
  const secs = (r.trigger.getFirstValue() as ICAL.Duration).toSeconds();
  return Math.max(0, Math.round(-secs / 60));
}

export function categoriesOf(comp: ICAL.Component): string[] {
  const out: string[] = [];
  for (const p of comp.getAllProperties("categories")) {
    for (const v of p.getValues()) {
      const s = String(v).trim();
      if (s && !out.includes(s) && out.length < MAX_CATEGORIES) out.push(s);
    }
  }
  return out;
}

export function locationElement(location: string, version: number): WElement | null {
  if (!location) return null;
  // MS-ASCAL §2.2.2.27: 16.x uses airsyncbase:Location (MS-ASAIRS §2.2.2.27) with a DisplayName.
  return version >= 160 ? el("AirSyncBase:Location", el("AirSyncBase:DisplayName", location)) : el("Calendar:Location", location);
}

/** The plain fields of a component, by element name (absent ones left out). */
export interface PlainFields {
  subject: string;
  location: string;
  description: string;
  busy: number;
  sensitivity: number;
  reminder: number | null;
  categories: string[];
}

export function plainFields(comp: ICAL.Component, account: Account): PlainFields {
  return {
    subject: str(comp, "summary"),
    location: str(comp, "location"),
    description: str(comp, "description"),
    busy: busyStatus(comp, account),
    sensitivity: sensitivity(comp),
    reminder: reminderMinutes(comp),
    categories: categoriesOf(comp),
  };
}

export function bodyElement(description: string, cx: CodecContext): WElement | null {
  return textBodyElement(description, cx.body);
}

export function categoriesElement(cats: string[]): WElement | null {
  return cats.length ? el("Calendar:Categories", cats.map((c) => el("Calendar:Category", c))) : null;
}

// ---------------------------------------------------------------- from the device

function shortText(s: string, what: string): string {
  if (s.length > MAX_SHORT_TEXT) throw new EasDataError(`${what} is too long`);
  return s.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, "");
}

function setText(comp: ICAL.Component, name: string, value: string): void {
  if (value === "") comp.removeAllProperties(name);
  else comp.updatePropertyWithValue(name, value);
}

/** An unsigned number element, checked against [min, max]. */
export function numberOf(data: WElement, qname: string, min: number, max: number): number | undefined {
  const s = kidText(data, qname);
  if (s === undefined) return undefined;
  const t = s.trim();
  if (!/^\d{1,10}$/.test(t)) throw new EasDataError(`${qname} ${JSON.stringify(t.slice(0, 20))} is not a number`);
  const n = Number(t);
  if (n < min || n > max) throw new EasDataError(`${qname} ${n} is out of range`);
  return n;
}

const CDO_OF_BUSY = ["FREE", "TENTATIVE", "BUSY", "OOF", "WORKINGELSEWHERE", "WORKINGELSEWHERE"];
const CLASS_OF_SENSITIVITY = ["PUBLIC", "X-PERSONAL", "PRIVATE", "CONFIDENTIAL"];

/** The device's Location: airsyncbase:Location's DisplayName (16.x) or Calendar:Location. */
export function deviceLocation(data: WElement): string | undefined {
  const asb = kid(data, "AirSyncBase:Location");
  if (asb) return kidText(asb, "AirSyncBase:DisplayName") ?? (kids(asb).length === 0 ? text(asb) : "");
  return kidText(data, "Calendar:Location");
}

/** Merges the plain fields a device sent onto `comp`. Returns the names of iCalendar properties that changed meaning for attendees (SUMMARY, LOCATION). */
export function applyPlainFields(comp: ICAL.Component, data: WElement, account: Account): string[] {
  const changed: string[] = [];
  const subject = kidText(data, "Calendar:Subject");
  if (subject !== undefined) {
    const v = shortText(subject, "Subject");
    if (v !== str(comp, "summary")) changed.push("summary");
    setText(comp, "summary", v);
  }
  const location = deviceLocation(data);
  if (location !== undefined) {
    const v = shortText(location, "Location");
    if (v !== str(comp, "location")) changed.push("location");
    setText(comp, "location", v);
  }
  const body = bodyTextFrom(data);
  if (body !== undefined && body !== str(comp, "description").replace(/\r\n/g, "\n")) setText(comp, "description", body);
  const busy = numberOf(data, "Calendar:BusyStatus", 0, 5);
  // Each value is written only when it differs from what the stored event already says, so an echo of the
  // item changes nothing a CalDAV client would see.
  if (busy !== undefined && busy !== busyStatus(comp, account)) {
    comp.updatePropertyWithValue("x-microsoft-cdo-busystatus", CDO_OF_BUSY[busy]!);
    // RFC 5545 §3.8.2.7: only "free" is transparent to free/busy.
    comp.updatePropertyWithValue("transp", busy === 0 ? "TRANSPARENT" : "OPAQUE");
  }
  const sens = numberOf(data, "Calendar:Sensitivity", 0, 3);
  if (sens !== undefined && sens !== sensitivity(comp)) {
    if (sens === 0 && !comp.getFirstProperty("class")) {
      // normal and nothing stored: leave CLASS out (its default is PUBLIC, RFC 5545 §3.8.1.3)
    } else comp.updatePropertyWithValue("class", CLASS_OF_SENSITIVITY[sens]!);
  }
  const rem = kid(data, "Calendar:Reminder");
  if (rem) {
    const t = text(rem).trim();
    const existing = relativeAlarm(comp);
    if (t !== "" && existing && numberOf(data, "Calendar:Reminder", 0, MAX_REMINDER_MINUTES) === reminderMinutes(comp)) {
      // unchanged
    } else if (t === "") {
      // An empty Reminder: no alarm (what real devices send to clear it).
      if (existing) comp.removeSubcomponent(existing.alarm);
    } else {
      const minutes = numberOf(data, "Calendar:Reminder", 0, MAX_REMINDER_MINUTES)!;
      const dur = ICAL.Duration.fromSeconds(-minutes * 60);
      if (minutes === 0) dur.isNegative = false;
      if (existing) existing.trigger.setValue(dur);
      else {
        const a = new ICAL.Component("valarm");
        a.addPropertyWithValue("action", "DISPLAY");
        a.addPropertyWithValue("description", "Reminder");
        a.addPropertyWithValue("trigger", dur);
        comp.addSubcomponent(a);
      }
    }
  }
  const cats = kid(data, "Calendar:Categories");
  if (cats) {
    const list = kids(cats, "Calendar:Category").map((c) => shortText(text(c).trim(), "Category"));
    if (list.length > MAX_CATEGORIES) throw new EasDataError(`more than ${MAX_CATEGORIES} categories`);
    const uniq = [...new Set(list.filter((c) => c !== ""))];
    if (JSON.stringify(uniq) !== JSON.stringify(categoriesOf(comp))) comp.removeAllProperties("categories");
    else uniq.length = 0;
    if (uniq.length) {
      const p = new ICAL.Property("categories", comp);
      p.setValues(uniq);
      comp.addProperty(p);
    }
  }
  return changed;
}
