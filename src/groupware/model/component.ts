/**
 * Property-level reading and editing of VEVENT/VTODO components shared by
 * event.ts and task.ts. An edit touches a property only when its value
 * changes, so parameters and properties the model does not describe (X-,
 * ATTACH, LANGUAGE, a client's own VALARMs...) survive a webmail write.
 */
import ICAL from "ical.js";
import { vtimezoneFor } from "../ical/index.ts";
import { timeProp } from "../ical/spans.ts";
import { timeToMs } from "../ical/zones.ts";
import { ModelError, partsOfTime, partsOfUtc, wallAsUtc } from "./time.ts";

export const PRODID = "-//Pillarbox//Webmail//EN";
export const MAX_REMINDERS = 5;
/** Four weeks: the farthest reminder the editors offer. */
export const MAX_REMINDER_MINUTES = 40_320;

export function text(comp: ICAL.Component, name: string): string {
  const v = comp.getFirstPropertyValue(name);
  return typeof v === "string" ? v : v === null || v === undefined ? "" : String(v);
}

/** Sets a text property, or removes it for "": untouched (parameters and all) when the value is the same. */
export function setText(comp: ICAL.Component, name: string, value: string): void {
  const props = comp.getAllProperties(name);
  if (!value) {
    if (props.length) comp.removeAllProperties(name);
    return;
  }
  if (props.length === 1 && props[0]!.getFirstValue() === value) return;
  comp.removeAllProperties(name);
  comp.addPropertyWithValue(name, value);
}

export function categoriesOf(comp: ICAL.Component): string[] {
  const out: string[] = [];
  for (const p of comp.getAllProperties("categories")) for (const v of p.getValues()) if (typeof v === "string" && v.trim() && !out.includes(v.trim())) out.push(v.trim());
  return out;
}

export function setCategories(comp: ICAL.Component, list: string[]): void {
  const now = categoriesOf(comp);
  if (now.length === list.length && now.every((c, i) => c === list[i])) return;
  comp.removeAllProperties("categories");
  if (!list.length) return;
  const p = new ICAL.Property("categories", comp);
  p.setValues(list);
  comp.addProperty(p);
}

/**
 * Which anchor a model reminder counts from: "start" (events: TRIGGER
 * relative to DTSTART, the default of RFC 5545 §3.8.6.3) or "end" (tasks:
 * minutes before DUE, TRIGGER;RELATED=END).
 */
export type AlarmAnchor = "start" | "end";

/** Minutes before the anchor of a VALARM the model shows (a relative trigger at or before it), else null. */
function alarmMinutes(alarm: ICAL.Component, anchor: AlarmAnchor): number | null {
  const p = alarm.getFirstProperty("trigger");
  if (!p) return null;
  const related = String(p.getParameter("related") ?? "START").toUpperCase();
  if ((anchor === "end") !== (related === "END")) return null;
  const v = p.getFirstValue();
  if (!(v instanceof ICAL.Duration)) return null;
  const secs = v.toSeconds();
  if (secs > 0) return null;
  return Math.round(-secs / 60);
}

/** The reminders (minutes before), ascending, at most MAX_REMINDERS. */
export function remindersOf(comp: ICAL.Component, anchor: AlarmAnchor = "start"): number[] {
  const out = new Set<number>();
  for (const a of comp.getAllSubcomponents("valarm")) {
    const m = alarmMinutes(a, anchor);
    if (m !== null) out.add(m);
  }
  return [...out].sort((a, b) => a - b).slice(0, MAX_REMINDERS);
}

/**
 * Writes the reminders as VALARMs (RFC 5545 §3.6.6: ACTION:DISPLAY,
 * TRIGGER:-PTnM). Unchanged reminders leave every VALARM as it is; changed
 * ones replace the alarms the model describes and keep the others (absolute
 * triggers and the other anchor, which the editor does not show).
 */
export function setReminders(comp: ICAL.Component, minutes: number[], description: string, anchor: AlarmAnchor = "start"): void {
  const want = [...new Set(minutes)].sort((a, b) => a - b);
  const have = remindersOf(comp, anchor);
  if (have.length === want.length && have.every((m, i) => m === want[i])) return;
  for (const a of [...comp.getAllSubcomponents("valarm")]) if (alarmMinutes(a, anchor) !== null) comp.removeSubcomponent(a);
  const rel = anchor === "end" ? ";RELATED=END" : "";
  for (const m of want) {
    const a = new ICAL.Component("valarm");
    a.addPropertyWithValue("action", "DISPLAY");
    a.addPropertyWithValue("description", description || "Reminder");
    a.addProperty(ICAL.Property.fromString(m === 0 ? `TRIGGER${rel}:PT0S` : `TRIGGER${rel}:-PT${m}M`));
    comp.addSubcomponent(a);
  }
}

export function checkReminders(v: unknown): number[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.length > MAX_REMINDERS || !v.every((n) => Number.isInteger(n) && n >= 0 && n <= MAX_REMINDER_MINUTES)) {
    throw new ModelError(`reminders are at most ${MAX_REMINDERS} whole numbers of minutes before, up to four weeks`);
  }
  return [...new Set(v as number[])].sort((a, b) => a - b);
}

/** A checked single-line (or multi-line) text field of a client's shape. */
export function checkText(v: unknown, what: string, max: number, multiline = false): string {
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") throw new ModelError(`${what} must be text`);
  if (v.length > max) throw new ModelError(`${what} is longer than ${max} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(v) || (!multiline && /[\r\n]/.test(v))) throw new ModelError(`${what} contains characters that cannot be stored`);
  return multiline ? v.replace(/\r\n?/g, "\n") : v.trim();
}

export function checkCategories(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.length > 50) throw new ModelError("categories are a list of at most 50 names");
  const out: string[] = [];
  for (const c of v) {
    const s = checkText(c, "a category", 100);
    if (s && !out.includes(s)) out.push(s);
  }
  return out;
}

/** A new VCALENDAR for the webmail's own objects. */
export function newCalendar(): ICAL.Component {
  const root = new ICAL.Component("vcalendar");
  root.addPropertyWithValue("version", "2.0");
  root.addPropertyWithValue("prodid", PRODID);
  return root;
}

export function utcNow(now: number): ICAL.Time {
  return ICAL.Time.fromJSDate(new Date(Math.floor(now / 1000) * 1000), true);
}

/** DTSTAMP and LAST-MODIFIED of an edited component (RFC 5545 §3.8.7.2, §3.8.7.3). */
export function stamp(comp: ICAL.Component, now: number): void {
  comp.updatePropertyWithValue("dtstamp", utcNow(now));
  comp.updatePropertyWithValue("last-modified", utcNow(now));
}

/** TZIDs the components use. */
function usedZones(root: ICAL.Component): Set<string> {
  const out = new Set<string>();
  const visit = (c: ICAL.Component) => {
    if (c.name === "vtimezone") return;
    for (const p of c.getAllProperties()) {
      const tz = p.getParameter("tzid");
      if (typeof tz === "string" && tz) out.add(tz);
    }
    for (const s of c.getAllSubcomponents()) visit(s);
  };
  visit(root);
  return out;
}

/** Adds a VTIMEZONE (RFC 5545 §3.6.5) for every TZID used and not defined, before the first event/to-do. */
export function ensureTimezones(root: ICAL.Component): void {
  const have = new Set(root.getAllSubcomponents("vtimezone").map((z) => String(z.getFirstPropertyValue("tzid") ?? "")));
  for (const tzid of usedZones(root)) {
    if (have.has(tzid)) continue;
    const t = vtimezoneFor(tzid);
    if (!t) continue;
    const z = ICAL.Component.fromString(t);
    const comps = [...root.getAllSubcomponents()];
    const first = comps.find((c) => c.name !== "vtimezone");
    if (!first) root.addSubcomponent(z);
    else {
      // ical.js has no insertBefore: rebuild the child list with the zone first.
      for (const c of comps) root.removeSubcomponent(c);
      root.addSubcomponent(z);
      for (const c of comps) root.addSubcomponent(c);
    }
    have.add(tzid);
  }
}

/** UTC ms of a component's RECURRENCE-ID (floating read in `floating`), or null. */
export function recurrenceIdOf(comp: ICAL.Component, floating: ICAL.Timezone | null): number | null {
  const t = timeProp(comp, "recurrence-id");
  return t ? timeToMs(t, floating) : null;
}

export function componentsOf(root: ICAL.Component, kind: "vevent" | "vtodo"): ICAL.Component[] {
  return root.getAllSubcomponents(kind);
}

export function masterOf(root: ICAL.Component, kind: "vevent" | "vtodo"): ICAL.Component | null {
  return root.getAllSubcomponents(kind).find((c) => !c.hasProperty("recurrence-id")) ?? null;
}

export function clone(comp: ICAL.Component): ICAL.Component {
  return new ICAL.Component(ICAL.helpers.clone(comp.toJSON(), true) as unknown[]);
}

/** Shifts a DATE/DATE-TIME property by a wall-clock amount (keeps its form and zone). */
export function shiftProp(p: ICAL.Property | null, deltaMs: number): void {
  if (!p || deltaMs === 0) return;
  const t = p.getFirstValue();
  if (!(t instanceof ICAL.Time)) return;
  const moved = partsOfUtc(wallAsUtc(partsOfTime(t)) + (t.isDate ? Math.round(deltaMs / 86_400_000) * 86_400_000 : deltaMs));
  const n = t.clone();
  n.year = moved.year;
  n.month = moved.month;
  n.day = moved.day;
  if (!t.isDate) {
    n.hour = moved.hour;
    n.minute = moved.minute;
  }
  p.setValue(n);
}
