/**
 * CALDAV:time-range tests (RFC 4791 §9.9) on one component or property of
 * a parsed calendar object.
 *
 * VEVENT (and VTODO) instances come from the ical helper's recurrence
 * expansion (`expandInstances`, through `RangeEnv.instances`), so RRULE,
 * RDATE, EXDATE and overridden instances moved in or out of the range count
 * where they are now; each instance is attributed to the component it comes
 * from (the master, or the override with its RECURRENCE-ID), so a filter
 * combining a time-range with property tests checks them on the same
 * component. The §9.9 overlap rules per kind:
 *  - VEVENT: an instance with a duration overlaps when start < its end and
 *    end > its start; an instant (zero duration) when start <= it < end.
 *  - VTODO (non-recurring): the table of §9.9 on DTSTART, DURATION, DUE,
 *    COMPLETED and CREATED, exactly. A recurring VTODO is tested per
 *    instance with the VEVENT rule over the instance's span (DTSTART to DUE)
 *    — an approximation of the table for repeating tasks.
 *  - VJOURNAL: DTSTART (a DATE lasts the day); none never matches.
 *  - VFREEBUSY: its FREEBUSY periods, else DTSTART..DTEND.
 *  - VALARM: the alarm's trigger times (TRIGGER relative to the start or end
 *    of each instance of its parent, or absolute, plus REPEAT x DURATION
 *    repetitions) — exact for the triggers, not modelling snoozes.
 * When the expansion refuses (more instances than its limit), the range
 * holds that many instances at least: the master is taken as matching.
 */
import ICAL from "ical.js";
import type { Instance } from "../../../src/groupware/types.ts";
import { DAY_MS, durationMs, propertyUtc, timeUtc, type TimeRange } from "./caldav-time.ts";

export interface RangeEnv {
  /** Floating times and DATE values are read in this IANA zone (the calendar's), null = UTC. */
  floatingTz: string | null;
  /** Instances of the whole object overlapping [start, end); null when there are more than the expansion limit. */
  instances(range: TimeRange): Instance[] | null;
}

/** Most REPEAT repetitions of an alarm looked at (RFC 5545 §3.8.6.2 sets no bound). */
const MAX_ALARM_REPEAT = 1000;

function utcOf(comp: ICAL.Component, name: string, env: RangeEnv): number | null {
  const p = comp.getFirstProperty(name);
  return p ? propertyUtc(p, env.floatingTz) : null;
}

function isDateValued(comp: ICAL.Component, name: string): boolean {
  try {
    const v = comp.getFirstPropertyValue(name);
    return v instanceof ICAL.Time && v.isDate;
  } catch {
    return false;
  }
}

/** The instance rule of §9.9 for VEVENT: a span overlaps, an instant must fall in [start, end). */
export function instanceOverlaps(i: { start: number; end: number }, r: TimeRange): boolean {
  return i.end > i.start ? r.start < i.end && r.end > i.start : r.start <= i.start && r.end > i.start;
}

/**
 * The instances of an object that come from `comp` (the expansion applies
 * the same §9.9 overlap rule, instants at r.start included); null = over
 * the limit.
 */
function ownInstances(comp: ICAL.Component, r: TimeRange, env: RangeEnv): Instance[] | null {
  const all = env.instances(r);
  if (all === null) return comp.hasProperty("recurrence-id") ? [] : null;
  const parent = comp.parent;
  const siblings = parent ? parent.getAllSubcomponents(comp.name) : [comp];
  if (siblings.length <= 1) return all;
  const rid = comp.getFirstProperty("recurrence-id");
  if (!rid) return all.filter((i) => !i.overridden);
  const ms = propertyUtc(rid, env.floatingTz);
  return all.filter((i) => i.overridden && i.recurrenceId === ms);
}

function isRecurringSet(comp: ICAL.Component): boolean {
  if (comp.hasProperty("rrule") || comp.hasProperty("rdate") || comp.hasProperty("recurrence-id")) return true;
  const parent = comp.parent;
  return parent !== null && parent !== undefined && parent.getAllSubcomponents(comp.name).length > 1;
}

function eventInRange(comp: ICAL.Component, r: TimeRange, env: RangeEnv): boolean {
  const inst = ownInstances(comp, r, env);
  if (inst === null) return true;
  return inst.some((i) => instanceOverlaps(i, r));
}

function todoInRange(comp: ICAL.Component, r: TimeRange, env: RangeEnv): boolean {
  if (isRecurringSet(comp)) {
    const inst = ownInstances(comp, r, env);
    if (inst === null) return true;
    return inst.some((i) => instanceOverlaps(i, r));
  }
  const dtstart = utcOf(comp, "dtstart", env);
  const dur = durationMs(comp.getFirstProperty("duration"));
  const due = utcOf(comp, "due", env);
  const completed = utcOf(comp, "completed", env);
  const created = utcOf(comp, "created", env);
  const { start, end } = r;
  // RFC 4791 §9.9, the VTODO table, row by row.
  if (dtstart !== null && dur !== null) {
    const e = dtstart + dur;
    return start <= e && (end > dtstart || end >= e);
  }
  if (dtstart !== null && due !== null) return (start < due || start <= dtstart) && (end > dtstart || end >= due);
  if (dtstart !== null) return start <= dtstart && end > dtstart;
  if (due !== null) return start < due && end >= due;
  if (completed !== null && created !== null) return (start <= created || start <= completed) && (end >= created || end >= completed);
  if (completed !== null) return start <= completed && end >= completed;
  if (created !== null) return end > created;
  return true;
}

function journalInRange(comp: ICAL.Component, r: TimeRange, env: RangeEnv): boolean {
  const s = utcOf(comp, "dtstart", env);
  if (s === null) return false;
  if (isDateValued(comp, "dtstart")) return r.start < s + DAY_MS && r.end > s;
  return r.start <= s && r.end > s;
}

function freeBusyInRange(comp: ICAL.Component, r: TimeRange, env: RangeEnv): boolean {
  const fbs = comp.getAllProperties("freebusy");
  if (fbs.length) {
    for (const p of fbs) {
      for (const v of p.getValues() as unknown[]) {
        if (!(v instanceof ICAL.Period)) continue;
        const s = timeUtc(v.start, null, env.floatingTz);
        const e = v.end ? timeUtc(v.end, null, env.floatingTz) : v.duration ? s + v.duration.toSeconds() * 1000 : s;
        if (r.start < e && r.end > s) return true;
      }
    }
    return false;
  }
  const s = utcOf(comp, "dtstart", env);
  const e = utcOf(comp, "dtend", env);
  if (s === null || e === null) return false;
  return r.start <= e && r.end > s;
}

function triggerHit(base: number, offset: number, repeat: number, every: number, r: TimeRange): boolean {
  for (let k = 0; k <= repeat; k++) {
    const t = base + offset + k * every;
    if (t >= r.start && t < r.end) return true;
    if (every <= 0) break;
  }
  return false;
}

function alarmInRange(alarm: ICAL.Component, r: TimeRange, env: RangeEnv): boolean {
  const trig = alarm.getFirstProperty("trigger");
  if (!trig) return false;
  let value: unknown;
  try {
    value = trig.getFirstValue();
  } catch {
    return false;
  }
  const repeat = Math.min(Math.max(Number(alarm.getFirstPropertyValue("repeat") ?? 0) || 0, 0), MAX_ALARM_REPEAT);
  const every = repeat > 0 ? (durationMs(alarm.getFirstProperty("duration")) ?? 0) : 0;
  if (value instanceof ICAL.Time) {
    const t = timeUtc(value, trig.getFirstParameter("tzid") ?? null, env.floatingTz);
    return triggerHit(t, 0, repeat, every, r);
  }
  if (!(value instanceof ICAL.Duration)) return false;
  const offset = value.toSeconds() * 1000;
  const parent = alarm.parent;
  if (!parent || (parent.name !== "vevent" && parent.name !== "vtodo")) return false;
  const related = String(trig.getFirstParameter("related") ?? "START").toUpperCase();
  const span = repeat * Math.max(every, 0);
  // Instances whose start (or end) lies where a trigger could land in r.
  const window = { start: r.start - offset - span - 1, end: r.end - offset + 1 };
  const inst = ownInstances(parent, window, env);
  if (inst === null) return true;
  return inst.some((i) => triggerHit(related === "END" ? i.end : i.start, offset, repeat, every, r));
}

/** Does a component pass a comp-filter's time-range (RFC 4791 §9.9)? */
export function componentInRange(comp: ICAL.Component, r: TimeRange, env: RangeEnv): boolean {
  switch (comp.name) {
    case "vevent":
      return eventInRange(comp, r, env);
    case "vtodo":
      return todoInRange(comp, r, env);
    case "vjournal":
      return journalInRange(comp, r, env);
    case "vfreebusy":
      return freeBusyInRange(comp, r, env);
    case "valarm":
      return alarmInRange(comp, r, env);
    default: {
      // VAVAILABILITY / AVAILABLE (RFC 7953 §5): DTSTART..DTEND, open ends unbounded.
      const s = utcOf(comp, "dtstart", env);
      const e = utcOf(comp, "dtend", env);
      return r.start < (e ?? Infinity) && r.end > (s ?? -Infinity);
    }
  }
}

/** A prop-filter's time-range on a DATE or DATE-TIME property value (RFC 4791 §9.9, properties). */
export function propertyInRange(p: ICAL.Property, r: TimeRange, env: RangeEnv): boolean {
  const t = propertyUtc(p, env.floatingTz);
  if (t === null) return false;
  let isDate = false;
  try {
    const v = p.getFirstValue();
    isDate = v instanceof ICAL.Time && v.isDate;
  } catch {
    return false;
  }
  return isDate ? r.start < t + DAY_MS && r.end > t : r.start <= t && r.end > t;
}
