/**
 * A stored to-do (VTODO, RFC 5545 §3.6.2) ⇄ the editor's TaskData, with the
 * same rule as events: properties, parameters and alarms the shape does not
 * describe are kept. Completing an occurrence of a recurring task stores the
 * done occurrence as its own completed VTODO (new UID, RELATED-TO the
 * series, RFC 5545 §3.8.4.5) and moves the series to its next occurrence,
 * as Thunderbird and Outlook do; `completeOccurrence` is that one place.
 */
import ICAL from "ical.js";
import { timeProp } from "../ical/spans.ts";
import { floatingZone, ianaName, timeToMs } from "../ical/zones.ts";
import type { TaskData } from "./types.ts";
import { applyRecurrence, checkRecurrence, ruleFromComponent, type StartForm } from "./recurrence.ts";
import {
  categoriesOf, checkCategories, checkReminders, checkText, clone, ensureTimezones, masterOf, newCalendar, remindersOf, setCategories,
  setReminders, setText, shiftProp, stamp, text, utcNow,
} from "./component.ts";
import { ModelError, checkZone, formatDate, formatWall, icalTime, parseDate, parseWall, partsOfTime, wallAsUtc, wallOf, zoneOf } from "./time.ts";

const STATUSES: readonly TaskData["status"][] = ["NEEDS-ACTION", "IN-PROCESS", "COMPLETED", "CANCELLED"];
/** Occurrences walked to find the next one. */
const MAX_WALK = 20_000;

/** A DUE/DTSTART in the model's form: a date, or a wall time with its zone ("" floating). */
function timeOf(t: ICAL.Time | null, userZone: string): { value: string; zone: string | null } {
  if (!t) return { value: "", zone: null };
  if (t.isDate) return { value: formatDate(t), zone: null };
  const z = t.zone;
  if (!z || z === ICAL.Timezone.localTimezone || z.tzid === "floating") return { value: formatWall(partsOfTime(t)), zone: "" };
  const named = z === ICAL.Timezone.utcTimezone || z.tzid === "UTC" ? null : ianaName(z.tzid);
  const zone = named ?? (userZone || "UTC");
  return { value: formatWall(wallOf(timeToMs(t, null), zoneOf(zone))), zone };
}

/** The task of a VTODO component. */
export function taskFromComponent(comp: ICAL.Component, userZone: string): TaskData {
  const due = timeOf(timeProp(comp, "due"), userZone);
  const start = timeOf(timeProp(comp, "dtstart"), userZone);
  const completed = timeProp(comp, "completed");
  const status = text(comp, "status").toUpperCase();
  const prio = Number(comp.getFirstPropertyValue("priority") ?? 0);
  const pct = Number(comp.getFirstPropertyValue("percent-complete") ?? 0);
  const anchorT = timeProp(comp, "dtstart") ?? timeProp(comp, "due");
  const form: StartForm = { date: !anchorT || anchorT.isDate, zone: anchorT && !anchorT.isDate && anchorT.zone && anchorT.zone.tzid !== "floating" && anchorT.zone !== ICAL.Timezone.localTimezone ? anchorT.zone : null, floating: floatingZone(userZone) };
  return {
    uid: text(comp, "uid"),
    title: text(comp, "summary"),
    description: text(comp, "description"),
    due: due.value,
    start: start.value,
    timeZone: due.zone ?? start.zone ?? "",
    priority: Number.isInteger(prio) && prio >= 0 && prio <= 9 ? prio : 0,
    status: (STATUSES as readonly string[]).includes(status) ? (status as TaskData["status"]) : completed ? "COMPLETED" : "NEEDS-ACTION",
    percent: Number.isInteger(pct) && pct >= 0 && pct <= 100 ? pct : 0,
    completed: completed ? timeToMs(completed, null) : null,
    categories: categoriesOf(comp),
    reminders: remindersOf(comp, "end"),
    recurrence: !comp.hasProperty("recurrence-id") ? ruleFromComponent(comp, form) : null,
  };
}

/** The task of a stored object (its master VTODO). */
export function taskFromObject(root: ICAL.Component, userZone: string): TaskData {
  const comp = masterOf(root, "vtodo") ?? root.getFirstSubcomponent("vtodo");
  if (!comp) throw new ModelError("the object holds no task");
  return taskFromComponent(comp, userZone);
}

function checkTime(v: unknown, what: string): string {
  if (v === undefined || v === null || v === "") return "";
  if (typeof v === "string" && v.length === 10) return formatDate(parseDate(v, what));
  return formatWall(parseWall(v, what));
}

/** Checks a TaskData from a client (ModelError in words). */
export function checkTaskData(v: unknown): TaskData {
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new ModelError("the task is missing");
  const o = v as Record<string, unknown>;
  const due = checkTime(o.due, "the due date");
  const start = checkTime(o.start, "the start date");
  const hasTime = due.length > 10 || start.length > 10;
  const timeZone = hasTime ? checkZone(o.timeZone ?? "") : "";
  if (due && start && (due.length === 10) !== (start.length === 10)) throw new ModelError("the start and the due date are both dates or both times");
  if (due && start && start > due) throw new ModelError("the task starts after it is due");
  const priority = o.priority === undefined ? 0 : o.priority;
  if (!Number.isInteger(priority) || (priority as number) < 0 || (priority as number) > 9) throw new ModelError("the priority is a whole number from 0 to 9 (RFC 5545 §3.8.1.9)");
  const status = o.status === undefined ? "NEEDS-ACTION" : o.status;
  if (typeof status !== "string" || !(STATUSES as readonly string[]).includes(status)) throw new ModelError("the status is NEEDS-ACTION, IN-PROCESS, COMPLETED or CANCELLED");
  const percent = o.percent === undefined ? 0 : o.percent;
  if (!Number.isInteger(percent) || (percent as number) < 0 || (percent as number) > 100) throw new ModelError("the percentage done is a whole number from 0 to 100");
  const completed = o.completed === undefined || o.completed === null ? null : o.completed;
  if (completed !== null && !Number.isSafeInteger(completed)) throw new ModelError("completed is a time in milliseconds");
  const recurrence = checkRecurrence(o.recurrence);
  if (recurrence && !recurrence.complex && !due && !start) throw new ModelError("a recurring task needs a due date");
  if (recurrence && recurrence.until !== null && recurrence.until < (start || due).slice(0, 10)) throw new ModelError("the recurrence ends before the task starts");
  return {
    uid: o.uid === undefined || o.uid === "" ? "" : checkText(o.uid, "the UID", 255),
    title: checkText(o.title, "the title", 1000),
    description: checkText(o.description, "the description", 100_000, true),
    due,
    start,
    timeZone,
    priority: priority as number,
    status: status as TaskData["status"],
    percent: percent as number,
    completed: completed as number | null,
    categories: checkCategories(o.categories),
    reminders: checkReminders(o.reminders),
    recurrence,
  };
}

function timePropOf(name: string, value: string, zone: string): ICAL.Property {
  const p = new ICAL.Property(name);
  if (value.length === 10) {
    p.resetType("date");
    p.setValue(icalTime(parseDate(value), { date: true }));
    return p;
  }
  const parts = parseWall(value);
  const z = zone ? zoneOf(zone) : null;
  if (z === ICAL.Timezone.utcTimezone) p.setValue(ICAL.Time.fromJSDate(new Date(wallAsUtc(parts)), true));
  else {
    p.setValue(icalTime(parts, { date: false, zone: z }));
    if (z) p.setParameter("tzid", zone);
  }
  return p;
}

/** Sets DUE or DTSTART when it differs from the stored one (the stored property, parameters and all, stays otherwise). */
function setTime(comp: ICAL.Component, name: "due" | "dtstart", value: string, zone: string, userZone: string): void {
  const cur = timeOf(timeProp(comp, name), userZone);
  if (cur.value === value && (value.length <= 10 || cur.zone === zone)) return;
  comp.removeAllProperties(name);
  if (name === "due") comp.removeAllProperties("duration");
  if (value) comp.addProperty(timePropOf(name, value, zone));
}

function setInt(comp: ICAL.Component, name: string, value: number, dropZero: boolean): void {
  const cur = Number(comp.getFirstPropertyValue(name) ?? 0);
  if (cur === value && (comp.hasProperty(name) || (dropZero && value === 0))) return;
  comp.removeAllProperties(name);
  if (!(dropZero && value === 0)) comp.addPropertyWithValue(name, value);
}

/** Writes the shape onto a VTODO component (the recurrence too, on a master). */
export function writeTaskFields(comp: ICAL.Component, data: TaskData, userZone: string, now: number): void {
  setText(comp, "summary", data.title);
  setText(comp, "description", data.description);
  setTime(comp, "dtstart", data.start, data.timeZone, userZone);
  setTime(comp, "due", data.due, data.timeZone, userZone);
  setInt(comp, "priority", data.priority, true);
  const done = data.status === "COMPLETED";
  if (text(comp, "status").toUpperCase() !== data.status && !(data.status === "NEEDS-ACTION" && !comp.hasProperty("status"))) setText(comp, "status", data.status);
  setInt(comp, "percent-complete", done ? 100 : data.percent, true);
  // RFC 5545 §3.8.2.1: COMPLETED is when it was done; it goes with the COMPLETED status.
  if (done && !comp.hasProperty("completed")) comp.addPropertyWithValue("completed", utcNow(data.completed ?? now));
  if (!done) comp.removeAllProperties("completed");
  setCategories(comp, data.categories);
  setReminders(comp, data.reminders, data.title, "end");
  if (!comp.hasProperty("recurrence-id")) {
    const anchor = timeProp(comp, "dtstart") ?? timeProp(comp, "due");
    const form: StartForm = {
      date: !anchor || anchor.isDate,
      zone: anchor && !anchor.isDate && anchor.zone && anchor.zone.tzid !== "floating" && anchor.zone !== ICAL.Timezone.localTimezone ? anchor.zone : null,
      floating: floatingZone(userZone),
    };
    applyRecurrence(comp, data.recurrence, form);
  }
}

/** Writes `data` onto the stored object's master VTODO (a new object when null); returns a new root. */
export function mergeTask(root: ICAL.Component | null, data: TaskData, opts: { userZone: string; now?: number }): ICAL.Component {
  const now = opts.now ?? Date.now();
  const out = root ? clone(root) : newCalendar();
  let comp = masterOf(out, "vtodo");
  if (!comp) {
    if (root && root.getAllSubcomponents("vtodo").length) throw new ModelError("this task has only single occurrences");
    comp = new ICAL.Component("vtodo");
    comp.addPropertyWithValue("uid", data.uid || crypto.randomUUID());
    comp.addPropertyWithValue("created", utcNow(now));
    out.addSubcomponent(comp);
  }
  writeTaskFields(comp, data, opts.userZone, now);
  stamp(comp, now);
  ensureTimezones(out);
  return out;
}

/** The next occurrence (after the current anchor) of a recurring VTODO, as an ICAL.Time in the anchor's form, or null. */
function nextOccurrence(comp: ICAL.Component): ICAL.Time | null {
  const anchor = timeProp(comp, "dtstart") ?? timeProp(comp, "due");
  const rule = comp.getFirstPropertyValue("rrule");
  if (!anchor || !(rule instanceof ICAL.Recur)) return null;
  const ex = new Set(comp.getAllProperties("exdate").flatMap((p) => p.getValues()).filter((v): v is ICAL.Time => v instanceof ICAL.Time).map((t) => t.toString()));
  const it = rule.iterator(anchor);
  const current = anchor.toString();
  for (let i = 0; i < MAX_WALK; i++) {
    const n = it.next();
    if (!n) return null;
    const s = n.toString();
    if (s === current || ex.has(s) || n.compare(anchor) <= 0) continue;
    return n;
  }
  return null;
}


/**
 * Completes the current occurrence of a recurring task: `done` is a new
 * completed VTODO of that occurrence (new UID, RELATED-TO the series, no
 * recurrence); `series` is the task moved to its next occurrence, open
 * again (COUNT lowered by one), or null when there is no next occurrence
 * (then complete the task itself).
 */
export function completeOccurrence(root: ICAL.Component, now = Date.now()): { done: ICAL.Component; series: ICAL.Component | null } {
  const series = clone(root);
  const comp = masterOf(series, "vtodo");
  if (!comp) throw new ModelError("the object holds no task");
  const uid = text(comp, "uid");
  const doneRoot = clone(root);
  for (const c of [...doneRoot.getAllSubcomponents("vtodo")]) if (c.hasProperty("recurrence-id")) doneRoot.removeSubcomponent(c);
  const done = masterOf(doneRoot, "vtodo")!;
  for (const n of ["rrule", "rdate", "exdate", "uid", "related-to", "completed", "status", "percent-complete"]) done.removeAllProperties(n);
  done.addPropertyWithValue("uid", crypto.randomUUID());
  done.addPropertyWithValue("related-to", uid);
  done.addPropertyWithValue("status", "COMPLETED");
  done.addPropertyWithValue("percent-complete", 100);
  done.addPropertyWithValue("completed", utcNow(now));
  for (const a of [...done.getAllSubcomponents("valarm")]) done.removeSubcomponent(a);
  stamp(done, now);

  const anchorProp = comp.getFirstProperty("dtstart") ?? comp.getFirstProperty("due");
  const anchor = anchorProp?.getFirstValue();
  const next = nextOccurrence(comp);
  if (!next || !(anchor instanceof ICAL.Time)) return { done: doneRoot, series: null };
  const delta = wallAsUtc(partsOfTime(next)) - wallAsUtc(partsOfTime(anchor));
  shiftProp(comp.getFirstProperty("dtstart"), delta);
  shiftProp(comp.getFirstProperty("due"), delta);
  const rule = comp.getFirstPropertyValue("rrule");
  if (rule instanceof ICAL.Recur && typeof rule.count === "number" && rule.count > 0) {
    const text2 = rule.toString().replace(/COUNT=\d+/i, `COUNT=${Math.max(1, rule.count - 1)}`);
    comp.getFirstProperty("rrule")!.setValue(ICAL.Recur.fromString(text2));
  }
  for (const n of ["completed", "percent-complete"]) comp.removeAllProperties(n);
  comp.updatePropertyWithValue("status", "NEEDS-ACTION");
  // Overrides of occurrences before the new start are history now.
  const startMs = timeToMs((comp.getFirstPropertyValue("dtstart") ?? comp.getFirstPropertyValue("due")) as ICAL.Time, null);
  for (const c of [...series.getAllSubcomponents("vtodo")]) {
    const rid = timeProp(c, "recurrence-id");
    if (rid && timeToMs(rid, null) < startMs) series.removeSubcomponent(c);
  }
  stamp(comp, now);
  return { done: doneRoot, series };
}

/** Is the stored task recurring (a master with RRULE)? */
export function isRecurringTask(root: ICAL.Component): boolean {
  const m = masterOf(root, "vtodo");
  return !!m && m.hasProperty("rrule");
}
