/**
 * Tasks (MS-ASTASK) <-> the store's VTODO (RFC 5545 §3.6.2).
 *
 *   Subject          SUMMARY
 *   Body             DESCRIPTION (codec.ts)
 *   Importance       PRIORITY: 1-4 high (2), 5 and none normal (1), 6-9 low (0) (RFC 5545 §3.8.1.9)
 *   UtcStartDate     DTSTART, UtcDueDate DUE (instants); StartDate / DueDate are the same
 *                    times as wall-clock values with a "Z" (MS-ASTASK §2.2.2.28)
 *   Complete         STATUS:COMPLETED + PERCENT-COMPLETE:100, DateCompleted = COMPLETED
 *   Sensitivity      CLASS: 0 PUBLIC, 1 personal and 2 PRIVATE, 3 CONFIDENTIAL
 *   Categories       CATEGORIES
 *   ReminderSet/Time the first VALARM (written with an absolute TRIGGER)
 *   Recurrence       RRULE (recurrence.ts); Regenerate / DeadOccur, which iCalendar
 *                    cannot express, are kept in X- properties
 *   OrdinalDate,     a device's sort position (16.x, MS-ASTASK §2.2.2.17/§2.2.2.30):
 *   SubOrdinalDate   kept in X- properties and given back
 *
 * Writing back merges onto the stored VTODO: only what a device sent
 * changes, a value the device sent back unchanged keeps its stored form
 * (a DUE with a TZID stays so), and properties ActiveSync cannot show
 * (X-, ATTACH, GEO, RELATED-TO...) are kept. A Change carries the whole
 * task (MS-ASCMD §2.2.3.24): dates, reminder, recurrence and categories it
 * leaves out are removed, unless the device ghosts them (AirSync:Supported
 * without them, MS-ASCMD §2.2.3.179) or, for a recurrence, the stored rule
 * was one EAS cannot express; Subject, Body, Importance and Sensitivity
 * left out are kept.
 */
import { randomUUID } from "node:crypto";
import ICAL from "ical.js";
import type { Item } from "../../../../storage/api.ts";
import { parseRoot } from "../../../../src/groupware/ical/parse.ts";
import { serialize } from "../../../../src/groupware/ical/split.ts";
import { resolveZones } from "../../../../src/groupware/ical/zones.ts";
import { PRODID } from "../../../../src/groupware/scheduling/itip.ts";
import { el, isElement, kid, kids, kidText, text, type WElement } from "../wbxml/tree.ts";
import { EasDataError, MAX_CATEGORIES, bodyTextFrom, categoriesFrom, cleanText, manages, parseEasDate, textBodyElement, type CodecContext, type GroupwareCodec } from "./codec.ts";
import { recurrenceFromEas, recurrenceToEas } from "./recurrence.ts";

/** MS-ASTASK §2.2.2.3: at most 300 Category elements. */
const MAX_SUBJECT_CHARS = 32 * 1024;
const REGENERATE = "x-pillarbox-eas-regenerate";
const DEAD_OCCUR = "x-pillarbox-eas-deadoccur";
const ORDINAL_DATE = "x-pillarbox-eas-ordinaldate";
const SUB_ORDINAL = "x-pillarbox-eas-subordinaldate";
/** MS-OXOFLAG: a sub-ordinal is at most 254 characters. */
const MAX_SUB_ORDINAL = 254;
const DAY_MS = 86_400_000;

const t = (name: string, ...c: Parameters<typeof el>[1][]) => el(`Tasks:${name}`, ...c);

// ---------------------------------------------------------------- reading the stored body

function parse(body: Uint8Array): { root: ICAL.Component; todo: ICAL.Component } {
  const root = parseRoot(body, []);
  resolveZones(root, []);
  const todos = root.getAllSubcomponents("vtodo");
  const todo = todos.find((c) => !c.hasProperty("recurrence-id")) ?? todos[0];
  if (!todo) throw new EasDataError("the stored object has no VTODO");
  return { root, todo };
}

function isFloating(v: ICAL.Time): boolean {
  const z = v.zone;
  return !z || z === ICAL.Timezone.localTimezone || z.tzid === "floating";
}

/** The instant of a value: zoned and UTC through their zone, DATE and floating values read as UTC. */
function instantOf(v: ICAL.Time): number {
  if (v.isDate || isFloating(v)) return Date.UTC(v.year, v.month - 1, v.day, v.isDate ? 0 : v.hour, v.isDate ? 0 : v.minute, v.isDate ? 0 : v.second);
  return v.toUnixTime() * 1000;
}

/** The wall-clock time of a value as ms-read-as-UTC (MS-ASTASK StartDate/DueDate). */
function wallOf(v: ICAL.Time): number {
  if (v.isDate || isFloating(v) || v.zone === ICAL.Timezone.utcTimezone) return instantOf(v);
  return Date.UTC(v.year, v.month - 1, v.day, v.hour, v.minute, v.second);
}

function timeProp(comp: ICAL.Component, name: string): ICAL.Time | null {
  const v = comp.getFirstPropertyValue(name);
  return v instanceof ICAL.Time ? v : null;
}

function str(comp: ICAL.Component, name: string): string {
  const v = comp.getFirstPropertyValue(name);
  return typeof v === "string" ? v : v === null || v === undefined ? "" : String(v);
}

function categoriesOf(comp: ICAL.Component): string[] {
  const out: string[] = [];
  for (const p of comp.getAllProperties("categories")) for (const v of p.getValues()) if (typeof v === "string" && v !== "" && !out.includes(v)) out.push(v);
  return out;
}

function importanceOf(priority: number): number {
  if (priority >= 1 && priority <= 4) return 2;
  if (priority >= 6 && priority <= 9) return 0;
  return 1;
}

function sensitivityOf(cls: string): number {
  switch (cls.toUpperCase()) {
    case "PRIVATE":
      return 2;
    case "CONFIDENTIAL":
      return 3;
    default:
      return 0;
  }
}

function isComplete(todo: ICAL.Component): boolean {
  return str(todo, "status").toUpperCase() === "COMPLETED" || todo.hasProperty("completed");
}

/** When the first display/audio alarm fires (UTC ms), or null. */
function reminderOf(todo: ICAL.Component): number | null {
  for (const alarm of todo.getAllSubcomponents("valarm")) {
    const trig = alarm.getFirstProperty("trigger");
    if (!trig) continue;
    const v = trig.getFirstValue();
    if (v instanceof ICAL.Time) return instantOf(v);
    if (v instanceof ICAL.Duration) {
      const related = String(trig.getParameter("related") ?? "START").toUpperCase();
      const anchor = related === "END" ? (timeProp(todo, "due") ?? timeProp(todo, "dtstart")) : (timeProp(todo, "dtstart") ?? timeProp(todo, "due"));
      if (!anchor) continue;
      return instantOf(anchor) + v.toSeconds() * 1000;
    }
  }
  return null;
}

const iso = (ms: number) => new Date(ms).toISOString();

function toEas(body: Uint8Array, _item: Item, cx: CodecContext): WElement[] {
  const { todo } = parse(body);
  const start = timeProp(todo, "dtstart");
  const due = timeProp(todo, "due");
  const out: (WElement | null)[] = [];
  const descr = todo.getAllProperties("description").map((p) => p.getFirstValue()).filter((v): v is string => typeof v === "string");
  out.push(textBodyElement(descr.join("\n"), cx.body));
  out.push(t("Subject", str(todo, "summary")));
  const prio = Number(todo.getFirstPropertyValue("priority") ?? 0);
  out.push(t("Importance", importanceOf(Number.isFinite(prio) ? prio : 0)));
  if (start) out.push(t("UtcStartDate", iso(instantOf(start))), t("StartDate", iso(wallOf(start))));
  if (due) out.push(t("UtcDueDate", iso(instantOf(due))), t("DueDate", iso(wallOf(due))));
  const cats = categoriesOf(todo).slice(0, MAX_CATEGORIES);
  if (cats.length) out.push(t("Categories", ...cats.map((c) => t("Category", c))));
  const rrule = todo.getFirstPropertyValue("rrule");
  const anchor = start ?? due;
  if (rrule instanceof ICAL.Recur && anchor) out.push(withTaskExtras(recurrenceToEas(rrule, anchor, "Tasks", cx.version), todo));
  const done = isComplete(todo);
  out.push(t("Complete", done ? 1 : 0));
  if (done) {
    const when = timeProp(todo, "completed") ?? timeProp(todo, "last-modified") ?? timeProp(todo, "dtstamp");
    out.push(t("DateCompleted", iso(when ? instantOf(when) : cx.now)));
  }
  out.push(t("Sensitivity", sensitivityOf(str(todo, "class"))));
  const reminder = reminderOf(todo);
  if (reminder !== null) out.push(t("ReminderTime", iso(reminder)));
  out.push(t("ReminderSet", reminder !== null ? 1 : 0));
  if (cx.version >= 160) {
    const ord = timeProp(todo, ORDINAL_DATE);
    if (ord) out.push(t("OrdinalDate", iso(instantOf(ord))));
    const sub = str(todo, SUB_ORDINAL);
    if (sub) out.push(t("SubOrdinalDate", sub));
  }
  return out.filter((e): e is WElement => e !== null);
}

/** Regenerate and DeadOccur (MS-ASTASK §2.2.2.24, §2.2.2.9) kept from a device, before FirstDayOfWeek. */
function withTaskExtras(rec: WElement | null, todo: ICAL.Component): WElement | null {
  if (!rec) return null;
  const extras = [
    str(todo, REGENERATE) === "1" ? t("Regenerate", 1) : null,
    str(todo, DEAD_OCCUR) === "1" ? t("DeadOccur", 1) : null,
  ].filter((e): e is WElement => e !== null);
  if (!extras.length) return rec;
  const at = rec.children.findIndex((c) => isElement(c) && c.name === "FirstDayOfWeek");
  const children = [...rec.children];
  children.splice(at < 0 ? children.length : at, 0, ...extras);
  return { ...rec, children };
}

// ---------------------------------------------------------------- writing back


function flag(data: WElement, name: string): boolean | undefined {
  const v = kidText(data, `Tasks:${name}`);
  if (v === undefined) return undefined;
  const s = v.trim();
  if (s === "1") return true;
  if (s === "0" || s === "") return false;
  throw new EasDataError(`Tasks ${name} ${JSON.stringify(s.slice(0, 20))} is not 0 or 1`);
}

function smallInt(data: WElement, name: string, max: number): number | undefined {
  const v = kidText(data, `Tasks:${name}`);
  if (v === undefined) return undefined;
  const s = v.trim();
  if (!/^\d$/.test(s) || Number(s) > max) throw new EasDataError(`Tasks ${name} ${JSON.stringify(s.slice(0, 20))} is out of range`);
  return Number(s);
}

function date(data: WElement, name: string): number | undefined {
  const v = kidText(data, `Tasks:${name}`);
  if (v === undefined || v.trim() === "") return undefined;
  return parseEasDate(v);
}

/** A device's time pair (UtcX, X): the instant, and whether the wall-clock time is a midnight (a date-only task). */
interface DeviceTime {
  utc: number;
  dateOnly: boolean;
  wall: number;
}

function deviceTime(data: WElement, utcName: string, localName: string): DeviceTime | null {
  const utc = date(data, utcName);
  const local = date(data, localName);
  if (utc === undefined && local === undefined) return null;
  const wall = local ?? utc!;
  return { utc: utc ?? local!, wall, dateOnly: wall % DAY_MS === 0 };
}

function utcTime(ms: number): ICAL.Time {
  return ICAL.Time.fromJSDate(new Date(Math.floor(ms / 1000) * 1000), true);
}

function dateValue(wall: number): ICAL.Time {
  const d = new Date(wall);
  return ICAL.Time.fromData({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), isDate: true });
}

function setTime(comp: ICAL.Component, name: string, v: ICAL.Time | null): void {
  comp.removeAllProperties(name);
  if (v) comp.addPropertyWithValue(name, v);
}

/** DTSTART/DUE from the device's pairs: a value sent back at its stored instant keeps its stored form. */
/** Whether the device manages either element of a pair (an absent pair then means "removed", MS-ASCMD §2.2.3.179 Supported). */
function managesAny(cx: CodecContext, ...names: string[]): boolean {
  return names.some((n) => manages(cx, `Tasks:${n}`));
}

function applyTimes(todo: ICAL.Component, data: WElement, cx: CodecContext): void {
  const s = deviceTime(data, "UtcStartDate", "StartDate");
  const d = deviceTime(data, "UtcDueDate", "DueDate");
  if (s && d && s.utc > d.utc) throw new EasDataError("the task's start is after its due date");
  const oldS = timeProp(todo, "dtstart");
  const oldD = timeProp(todo, "due");
  // Date-only when every time the device gave is a wall-clock midnight (RFC 5545 §3.8.2.3: DUE and DTSTART of one type).
  const dateOnly = [s, d].every((x) => x === null || x.dateOnly);
  const pick = (dev: DeviceTime | null, old: ICAL.Time | null, managed: boolean): ICAL.Time | null => {
    // MS-ASTASK: a Change carries the whole task; a missing date is a removed one, unless the device
    // ghosts it (left it out of its Supported list): then it was never the device's to change.
    if (!dev) return managed ? null : old;
    if (old && instantOf(old) === dev.utc) return old;
    return dateOnly ? dateValue(dev.wall) : utcTime(dev.utc);
  };
  let ns = pick(s, oldS, managesAny(cx, "StartDate", "UtcStartDate"));
  let nd = pick(d, oldD, managesAny(cx, "DueDate", "UtcDueDate"));
  if (ns && nd && ns.isDate !== nd.isDate) {
    // A kept date next to a new date-time: both become UTC date-times.
    if (ns.isDate) ns = utcTime(instantOf(ns));
    if (nd.isDate) nd = utcTime(instantOf(nd));
  }
  if (ns !== oldS) setTime(todo, "dtstart", ns);
  if (nd !== oldD) setTime(todo, "due", nd);
}

function applyComplete(todo: ICAL.Component, data: WElement, now: number): void {
  const complete = flag(data, "Complete");
  if (complete === undefined) return;
  const when = date(data, "DateCompleted");
  if (complete) {
    const old = timeProp(todo, "completed");
    const at = when ?? (old ? instantOf(old) : now);
    if (at > now + 366 * DAY_MS) throw new EasDataError("DateCompleted is far in the future");
    if (!old || instantOf(old) !== at) setTime(todo, "completed", utcTime(at));
    todo.updatePropertyWithValue("status", "COMPLETED");
    todo.updatePropertyWithValue("percent-complete", 100);
  } else if (isComplete(todo)) {
    todo.removeAllProperties("completed");
    todo.updatePropertyWithValue("status", "NEEDS-ACTION");
    todo.removeAllProperties("percent-complete");
  }
}

function applyReminder(todo: ICAL.Component, data: WElement, summary: string, cx: CodecContext): void {
  const set = flag(data, "ReminderSet");
  const time = date(data, "ReminderTime");
  if (set === undefined && time === undefined) {
    // MS-ASTASK: a Change carries the whole task; no reminder elements = no reminder (unless ghosted).
    if (!managesAny(cx, "ReminderSet", "ReminderTime")) return;
    for (const a of todo.getAllSubcomponents("valarm")) todo.removeSubcomponent(a);
    return;
  }
  if (set === false) {
    for (const a of todo.getAllSubcomponents("valarm")) todo.removeSubcomponent(a);
    return;
  }
  if (time === undefined) return; // ReminderSet 1 without a time: keep what is stored
  if (reminderOf(todo) === time) return;
  for (const a of todo.getAllSubcomponents("valarm")) todo.removeSubcomponent(a);
  const alarm = new ICAL.Component("valarm");
  alarm.addPropertyWithValue("action", "DISPLAY");
  alarm.addPropertyWithValue("description", summary || "Reminder");
  const trig = new ICAL.Property("trigger");
  trig.resetType("date-time");
  trig.setValue(utcTime(time));
  alarm.addProperty(trig);
  todo.addSubcomponent(alarm);
}

/** `shownAnchor`: the start (or due) the stored rule was shown to the device with, before this Change. */
function applyRecurrence(todo: ICAL.Component, data: WElement, cx: CodecContext, shownAnchor: ICAL.Time | null): void {
  const rec = kid(data, "Tasks:Recurrence");
  const old = todo.getFirstPropertyValue("rrule");
  const anchor = timeProp(todo, "dtstart") ?? timeProp(todo, "due");
  if (!rec) {
    // Gone from the device: removed, unless the stored rule was one the device never saw (inexpressible, or ghosted).
    if (old instanceof ICAL.Recur && shownAnchor && manages(cx, "Tasks:Recurrence") && recurrenceToEas(old, shownAnchor, "Tasks", cx.version)) {
      todo.removeAllProperties("rrule");
      todo.removeAllProperties(REGENERATE);
      todo.removeAllProperties(DEAD_OCCUR);
    }
    return;
  }
  let start = anchor;
  if (!start) {
    // MS-ASTASK §2.2.2.28: the recurrence's Start anchors a task without dates.
    const s = kidText(rec, "Tasks:Start");
    if (!s) throw new EasDataError("a recurring task needs a start or due date");
    start = utcTime(parseEasDate(s));
    setTime(todo, "dtstart", start);
  }
  const rule = recurrenceFromEas(rec, start, "Tasks");
  const same = old instanceof ICAL.Recur && old.toString() === rule.toString();
  if (!same) {
    todo.removeAllProperties("rrule");
    todo.addPropertyWithValue("rrule", rule);
  }
  for (const [name, prop] of [["Regenerate", REGENERATE], ["DeadOccur", DEAD_OCCUR]] as const) {
    const v = kidText(rec, `Tasks:${name}`)?.trim();
    if (v !== undefined && v !== "0" && v !== "1") throw new EasDataError(`Tasks ${name} is not 0 or 1`);
    todo.removeAllProperties(prop);
    if (v === "1") todo.addPropertyWithValue(prop, "1");
  }
}

/** OrdinalDate / SubOrdinalDate: kept as sent; absent ones stay as stored (a device without them never saw them). */
function applyOrdinal(todo: ICAL.Component, data: WElement): void {
  const ord = date(data, "OrdinalDate");
  if (ord !== undefined) setTime(todo, ORDINAL_DATE, utcTime(ord));
  const sub = kidText(data, "Tasks:SubOrdinalDate");
  if (sub !== undefined) {
    const v = cleanText(sub).trim();
    if (v.length > MAX_SUB_ORDINAL || /\n/.test(v)) throw new EasDataError("SubOrdinalDate too long");
    todo.removeAllProperties(SUB_ORDINAL);
    if (v) todo.addPropertyWithValue(SUB_ORDINAL, v);
  }
}


function newCalendar(): { root: ICAL.Component; todo: ICAL.Component } {
  const root = new ICAL.Component("vcalendar");
  root.addPropertyWithValue("version", "2.0");
  root.addPropertyWithValue("prodid", PRODID);
  const todo = new ICAL.Component("vtodo");
  todo.addPropertyWithValue("uid", randomUUID());
  root.addSubcomponent(todo);
  return { root, todo };
}

function fromEas(data: WElement, existing: Uint8Array | null, cx: CodecContext): Uint8Array {
  let doc: { root: ICAL.Component; todo: ICAL.Component };
  if (existing) {
    try {
      doc = parse(existing);
    } catch (e) {
      throw new EasDataError(`the stored task cannot be read: ${(e as Error).message}`);
    }
  } else doc = newCalendar();
  const { root, todo } = doc;

  const subject = kidText(data, "Tasks:Subject");
  if (subject !== undefined) {
    if (subject.length > MAX_SUBJECT_CHARS) throw new EasDataError("subject too long");
    const s = cleanText(subject).replace(/\n/g, " ");
    if (s !== str(todo, "summary")) {
      todo.removeAllProperties("summary");
      if (s !== "") todo.addPropertyWithValue("summary", s);
    }
  }
  const bodyText = bodyTextFrom(data);
  if (bodyText !== undefined) {
    const cur = todo.getAllProperties("description").map((p) => p.getFirstValue()).join("\n");
    if (cleanText(bodyText) !== cur) {
      todo.removeAllProperties("description");
      if (bodyText !== "") todo.addPropertyWithValue("description", cleanText(bodyText));
    }
  }
  const importance = smallInt(data, "Importance", 2);
  if (importance !== undefined) {
    const cur = Number(todo.getFirstPropertyValue("priority") ?? 0);
    if (importanceOf(Number.isFinite(cur) ? cur : 0) !== importance) todo.updatePropertyWithValue("priority", [9, 5, 1][importance]!);
  }
  const sensitivity = smallInt(data, "Sensitivity", 3);
  if (sensitivity !== undefined) {
    const want = ["PUBLIC", "PRIVATE", "PRIVATE", "CONFIDENTIAL"][sensitivity]!;
    const cur = str(todo, "class").toUpperCase();
    if (cur !== want && !(want === "PUBLIC" && cur === "")) todo.updatePropertyWithValue("class", want);
  }
  // A Change without Categories clears them, unless the device ghosts them.
  const cats = categoriesFrom(data, "Tasks") ?? (manages(cx, "Tasks:Categories") ? [] : undefined);
  if (cats !== undefined && cats.join("\u0000") !== categoriesOf(todo).join("\u0000")) {
    todo.removeAllProperties("categories");
    if (cats.length) {
      const p = new ICAL.Property("categories");
      p.setValues(cats);
      todo.addProperty(p);
    }
  }
  const shownAnchor = timeProp(todo, "dtstart") ?? timeProp(todo, "due");
  applyTimes(todo, data, cx);
  applyComplete(todo, data, cx.now);
  applyReminder(todo, data, str(todo, "summary"), cx);
  applyRecurrence(todo, data, cx, shownAnchor);
  applyOrdinal(todo, data);

  const now = utcTime(cx.now);
  setTime(todo, "dtstamp", now);
  setTime(todo, "last-modified", now);
  if (!existing) setTime(todo, "created", now);
  return new TextEncoder().encode(serialize(root));
}

export const taskCodec: GroupwareCodec = { toEas, fromEas };
