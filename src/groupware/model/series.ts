/**
 * Outlook's three choices for changing or deleting an occurrence of a
 * series ("this occurrence", "this and following", "the whole series"):
 *
 * - this: an override component with RECURRENCE-ID (RFC 5545 §3.8.4.4), or
 *   an EXDATE (§3.8.5.1) for a delete;
 * - following: the old series ends the day before the occurrence (UNTIL in
 *   the event's zone, overrides and EXDATEs after it leave it) and the tail
 *   becomes a NEW object with a new UID starting at the occurrence, taking
 *   the later overrides and EXDATEs with it.
 *   RECURRENCE-ID;RANGE=THISANDFUTURE would say the same in one object, but
 *   most clients (Outlook, Google, many phones) ignore or mangle it, so the
 *   series is split, as Outlook and Thunderbird do themselves;
 * - all: the master changes; overrides keep their own edits and move with
 *   the series when its start time moves (their RECURRENCE-IDs follow, and an
 *   occurrence that had been moved on its own keeps its time).
 */
import ICAL from "ical.js";
import { timeProp } from "../ical/spans.ts";
import { floatingZone, timeToMs } from "../ical/zones.ts";
import type { EventData, SeriesScope } from "./types.ts";
import { clone, masterOf, recurrenceIdOf, stamp, text, setText, ensureTimezones, shiftProp } from "./component.ts";
import { mergeEvent, raiseSequence, timesOf, writeEventFields, type MergeOptions } from "./event.ts";
import { applyRecurrence, isOccurrence, untilText, type StartForm } from "./recurrence.ts";

export { isOccurrence };
import { startForm } from "./event.ts";
import { ModelError, addDays, formatDate, partsOfTime, wallAsUtc, wallOf } from "./time.ts";

/** Occurrences walked (a daily series over 30 years). */
const MAX_WALK = 20_000;

/** Occurrences of the master strictly before `ms` (for COUNT of a split series). */
function countBefore(master: ICAL.Component, ms: number, floating: ICAL.Timezone | null): number {
  const it = new ICAL.Event(master).iterator();
  let n = 0;
  for (let i = 0; i < MAX_WALK; i++) {
    const next = it.next();
    if (!next || timeToMs(next, floating) >= ms) break;
    n++;
  }
  return n;
}

/** An ICAL.Time for UTC ms written like `like` (a DATE, floating, UTC, or in like's zone). */
export function timeLike(ms: number, like: ICAL.Time, floating: ICAL.Timezone | null): ICAL.Time {
  if (like.isDate) {
    const p = wallOf(ms, floating);
    return ICAL.Time.fromData({ year: p.year, month: p.month, day: p.day, isDate: true });
  }
  const z = like.zone;
  if (!z || z === ICAL.Timezone.localTimezone || z.tzid === "floating") {
    const p = wallOf(ms, floating);
    return ICAL.Time.fromData({ year: p.year, month: p.month, day: p.day, hour: p.hour, minute: p.minute, second: 0, isDate: false });
  }
  const utc = ICAL.Time.fromJSDate(new Date(ms), true);
  if (z === ICAL.Timezone.utcTimezone) return utc;
  return utc.convertToZone(z);
}

/** A copy of `prop` (its parameters kept) holding `value`. */
function propLike(prop: ICAL.Property, name: string, value: ICAL.Time): ICAL.Property {
  const p = ICAL.Property.fromString(prop.toICALString().replace(/^[A-Z-]+/i, name.toUpperCase()));
  p.setValue(value);
  return p;
}

/** A new override of the occurrence at `ms`, made from the master (not yet added). */
function overrideFrom(master: ICAL.Component, ms: number, floating: ICAL.Timezone | null): ICAL.Component {
  if (!isOccurrence(master, ms, floating)) throw new ModelError("the series has no occurrence at that time");
  const startProp = master.getFirstProperty("dtstart")!;
  const start = startProp.getFirstValue() as ICAL.Time;
  const comp = clone(master);
  for (const n of ["rrule", "rdate", "exdate", "recurrence-id", "dtstart", "dtend", "duration"]) comp.removeAllProperties(n);
  const rid = timeLike(ms, start, floating);
  comp.addProperty(propLike(startProp, "recurrence-id", rid));
  comp.addProperty(propLike(startProp, "dtstart", rid.clone()));
  const endProp = master.getFirstProperty("dtend");
  const end = endProp?.getFirstValue();
  if (endProp && end instanceof ICAL.Time) {
    const e = rid.clone();
    e.addDuration(end.subtractDate(start));
    comp.addProperty(propLike(endProp, "dtend", e));
  } else {
    const d = master.getFirstPropertyValue("duration");
    if (d instanceof ICAL.Duration) comp.addPropertyWithValue("duration", d);
  }
  return comp;
}

function overrides(root: ICAL.Component): ICAL.Component[] {
  return root.getAllSubcomponents("vevent").filter((c) => c.hasProperty("recurrence-id"));
}

/** The master's wall-clock start, read as if UTC (for a zone-independent shift). */
function wallStart(master: ICAL.Component): number {
  const t = timeProp(master, "dtstart");
  return t ? wallAsUtc(partsOfTime(t)) : 0;
}

/** Ends the series of `master` before the occurrence at `ms` (UNTIL = the day before, in its zone); drops overrides and EXDATEs from it on. */
function endSeriesBefore(root: ICAL.Component, master: ICAL.Component, ms: number, userZone: string): void {
  const floating = floatingZone(userZone);
  const form: StartForm = startForm(master, userZone);
  const until = untilText(formatDate(addDays(wallOf(ms, form.zone ?? floating), -1)), form);
  for (const p of master.getAllProperties("rrule")) {
    const r = p.getFirstValue();
    if (!(r instanceof ICAL.Recur)) continue;
    const text = r.toString().replace(/;?(COUNT|UNTIL)=[^;]*/gi, "").replace(/^;/, "");
    const np = ICAL.Property.fromString(`RRULE:${text};UNTIL=${until}`);
    p.setValue(np.getFirstValue() as ICAL.Recur);
  }
  for (const p of master.getAllProperties("rdate")) {
    const v = p.getFirstValue();
    if (v instanceof ICAL.Time && timeToMs(v, floating) >= ms) master.removeProperty(p);
  }
  for (const p of master.getAllProperties("exdate")) {
    const v = p.getFirstValue();
    if (v instanceof ICAL.Time && timeToMs(v, floating) >= ms) master.removeProperty(p);
  }
  for (const o of overrides(root)) {
    const rid = recurrenceIdOf(o, floating);
    if (rid !== null && rid >= ms) root.removeSubcomponent(o);
  }
}

export interface SeriesEdit {
  /** The changed object (same UID, same resource). */
  root: ICAL.Component;
  /** For "following": the new object of the tail (new UID), to store as a new resource. */
  tail: ICAL.Component | null;
}

/**
 * Applies an edit of `data` to a stored object with a scope. A non-recurring
 * event ignores the scope. `recurrenceId` (UTC ms) names the occurrence for
 * "this" and "following".
 */
export function editSeries(root: ICAL.Component, data: EventData, scope: SeriesScope, recurrenceId: number | null, opts: MergeOptions): SeriesEdit {
  const floating = floatingZone(opts.userZone);
  const master = masterOf(root, "vevent");
  const recurring = !!master && (master.hasProperty("rrule") || master.hasProperty("rdate"));
  if (!recurring || scope === "all") {
    if (!master && recurrenceId !== null) return { root: editThis(root, data, recurrenceId, opts), tail: null };
    return { root: editAll(root, data, opts), tail: null };
  }
  if (recurrenceId === null) throw new ModelError("say which occurrence (recurrenceId) to change");
  if (scope === "this") return { root: editThis(root, data, recurrenceId, opts), tail: null };
  // following
  if (timeToMs(timeProp(master, "dtstart")!, floating) === recurrenceId) return { root: editAll(root, data, opts), tail: null };
  if (!isOccurrence(master, recurrenceId, floating)) throw new ModelError("the series has no occurrence at that time");
  const now = opts.now ?? Date.now();
  const head = clone(root);
  const headMaster = masterOf(head, "vevent")!;
  // The tail: the master from this occurrence on, with a new UID (a new meeting for the attendees).
  const tail = clone(root);
  for (const o of overrides(tail)) tail.removeSubcomponent(o);
  const tailMaster = masterOf(tail, "vevent")!;
  const oldCount = (tailMaster.getFirstPropertyValue("rrule") as ICAL.Recur | null)?.count ?? null;
  const before = countBefore(master, recurrenceId, floating);
  endSeriesBefore(head, headMaster, recurrenceId, opts.userZone);
  stamp(headMaster, now);
  const tailUid = crypto.randomUUID();
  tailMaster.updatePropertyWithValue("uid", tailUid);
  tailMaster.updatePropertyWithValue("sequence", 0);
  for (const p of tailMaster.getAllProperties("exdate")) {
    const v = p.getFirstValue();
    if (v instanceof ICAL.Time && timeToMs(v, floating) < recurrenceId) tailMaster.removeProperty(p);
  }
  for (const p of tailMaster.getAllProperties("attendee")) {
    p.setParameter("partstat", "NEEDS-ACTION");
    p.setParameter("rsvp", "TRUE");
  }
  const startProp = tailMaster.getFirstProperty("dtstart")!;
  const occ = timeLike(recurrenceId, startProp.getFirstValue() as ICAL.Time, floating);
  const t0 = timesOf(master, opts.userZone);
  startProp.setValue(occ);
  const endProp = tailMaster.getFirstProperty("dtend");
  if (endProp) endProp.setValue(timeLike(recurrenceId + (t0.endMs - t0.startMs), endProp.getFirstValue() as ICAL.Time, floating));
  // A COUNT counts from the new start: what was left of it.
  if (oldCount !== null && (!data.recurrence || data.recurrence.complex)) {
    const r = tailMaster.getFirstPropertyValue("rrule") as ICAL.Recur;
    const left = Math.max(1, oldCount - before);
    const np = ICAL.Property.fromString(`RRULE:${r.toString().replace(/COUNT=\d+/i, `COUNT=${left}`)}`);
    tailMaster.getFirstProperty("rrule")!.setValue(np.getFirstValue() as ICAL.Recur);
  }
  const occWall = wallAsUtc(partsOfTime(occ));
  const oldTexts = ["summary", "location", "description"].map((n) => [n, text(master, n)] as const);
  const form = writeEventFields(tailMaster, { ...data, recurrenceId: null }, opts);
  if (data.recurrence) applyRecurrence(tailMaster, data.recurrence, form);
  carryOverrides(root, tail, tailMaster, tailUid, recurrenceId, wallStart(tailMaster) - occWall, oldTexts, opts.userZone);
  tailMaster.removeAllProperties("created");
  tailMaster.addPropertyWithValue("created", ICAL.Time.fromJSDate(new Date(Math.floor(now / 1000) * 1000), true));
  stamp(tailMaster, now);
  ensureTimezones(tail);
  raiseSequence(root, head, [headMaster]);
  return { root: head, tail };
}

/**
 * Occurrences after the split point that were edited on their own (overrides) go with the tail, so a
 * "this and following" change never loses them: their UID becomes the tail's, their RECURRENCE-ID follows
 * the tail's start shift (as in editAll), an override not moved on its own moves along, texts it shared
 * with the old series take the new ones, and attendees answer again (the tail is a new meeting). One the
 * tail's rule no longer has is left out (it would be an orphan, RFC 5545 §3.8.4.4).
 */
function carryOverrides(
  root: ICAL.Component,
  tail: ICAL.Component,
  tailMaster: ICAL.Component,
  tailUid: string,
  splitAt: number,
  deltaWall: number,
  oldTexts: readonly (readonly [string, string])[],
  userZone: string,
): void {
  const floating = floatingZone(userZone);
  const times = timesOf(tailMaster, userZone);
  // The tail's cancelled occurrences (EXDATE) follow the same shift, or they would miss their occurrences.
  if (deltaWall !== 0) for (const p of tailMaster.getAllProperties("exdate")) shiftProp(p, deltaWall);
  for (const o of overrides(root)) {
    const rid = recurrenceIdOf(o, floating);
    if (rid === null || rid <= splitAt) continue;
    const c = clone(o);
    c.updatePropertyWithValue("uid", tailUid);
    const ridT = timeProp(c, "recurrence-id");
    const start = timeProp(c, "dtstart");
    const movedAlone = !ridT || !start || timeToMs(ridT, floating) !== timeToMs(start, floating);
    shiftProp(c.getFirstProperty("recurrence-id"), deltaWall);
    if (!movedAlone) {
      shiftProp(c.getFirstProperty("dtstart"), deltaWall);
      const s = timeProp(c, "dtstart");
      const endProp = c.getFirstProperty("dtend");
      if (s && endProp && endProp.getFirstValue() instanceof ICAL.Time) {
        endProp.setValue(timeLike(timeToMs(s, floating) + (times.endMs - times.startMs), endProp.getFirstValue() as ICAL.Time, floating));
      }
    }
    for (const [n, old] of oldTexts) if (text(c, n) === old) setText(c, n, text(tailMaster, n));
    for (const p of c.getAllProperties("attendee")) {
      p.setParameter("partstat", "NEEDS-ACTION");
      p.setParameter("rsvp", "TRUE");
    }
    c.updatePropertyWithValue("sequence", 0);
    const moved = recurrenceIdOf(c, floating);
    if (moved !== null && isOccurrence(tailMaster, moved, floating)) tail.addSubcomponent(c);
  }
}

/** "this": the occurrence's override (made from the master when there is none) gets the shape. */
function editThis(root: ICAL.Component, data: EventData, recurrenceId: number, opts: MergeOptions): ICAL.Component {
  const floating = floatingZone(opts.userZone);
  const out = clone(root);
  let comp = overrides(out).find((o) => recurrenceIdOf(o, floating) === recurrenceId);
  if (!comp) {
    const master = masterOf(out, "vevent");
    if (!master) throw new ModelError("the event has no such occurrence");
    comp = overrideFrom(master, recurrenceId, floating);
    out.addSubcomponent(comp);
  }
  writeEventFields(comp, { ...data, recurrence: null }, opts);
  stamp(comp, opts.now ?? Date.now());
  ensureTimezones(out);
  raiseSequence(root, out, [comp]);
  return out;
}

/** "all": the master gets the shape; overrides and EXDATEs move with the series' start; unedited texts follow the master's. */
function editAll(root: ICAL.Component, data: EventData, opts: MergeOptions): ICAL.Component {
  const oldMaster = masterOf(root, "vevent");
  const oldStart = oldMaster ? wallStart(oldMaster) : 0;
  const oldTexts = oldMaster ? ["summary", "location", "description"].map((n) => [n, text(oldMaster, n)] as const) : [];
  const oldTimes = oldMaster ? timesOf(oldMaster, opts.userZone) : null;
  const { root: out, master } = mergeEvent(root, { ...data, recurrenceId: null }, opts);
  if (!oldMaster || !oldTimes) return out;
  const delta = wallStart(master) - oldStart;
  const newTimes = timesOf(master, opts.userZone);
  const floating = floatingZone(opts.userZone);
  if (delta !== 0) for (const p of master.getAllProperties("exdate")) shiftProp(p, delta);
  const ruleChanged = (root: ICAL.Component) => masterOf(root, "vevent")!.getAllProperties("rrule").map((p) => p.toICALString()).join();
  const changedRule = ruleChanged(root) !== ruleChanged(out);
  for (const o of overrides(out)) {
    const ridProp = o.getFirstProperty("recurrence-id");
    const rid = timeProp(o, "recurrence-id");
    const start = timeProp(o, "dtstart");
    const moved = !rid || !start || timeToMs(rid, floating) !== timeToMs(start, floating);
    shiftProp(ridProp, delta);
    if (!moved) {
      // Not moved on its own: it follows the series (start shift and the series' new length).
      shiftProp(o.getFirstProperty("dtstart"), delta);
      const s = timeProp(o, "dtstart");
      const endProp = o.getFirstProperty("dtend");
      if (s && endProp && endProp.getFirstValue() instanceof ICAL.Time) {
        endProp.setValue(timeLike(timeToMs(s, floating) + (newTimes.endMs - newTimes.startMs), endProp.getFirstValue() as ICAL.Time, floating));
      }
    }
    for (const [n, old] of oldTexts) if (text(o, n) === old) setText(o, n, text(master, n));
    // A changed rule: an override of an occurrence the new rule does not have would be an orphan.
    const r = recurrenceIdOf(o, floating);
    if (changedRule && (r === null || !isOccurrence(master, r, floating))) out.removeSubcomponent(o);
  }
  return out;
}

/**
 * Deletes with a scope: the whole object (null: delete the resource), one
 * occurrence (EXDATE and its override gone) or this and following (the
 * series ends the day before).
 */
export function deleteFromSeries(root: ICAL.Component, scope: SeriesScope, recurrenceId: number | null, userZone: string, now = Date.now()): ICAL.Component | null {
  const floating = floatingZone(userZone);
  const master = masterOf(root, "vevent");
  const recurring = !!master && (master.hasProperty("rrule") || master.hasProperty("rdate"));
  if (scope === "all" || (!recurring && master)) return null;
  if (recurrenceId === null) throw new ModelError("say which occurrence (recurrenceId) to delete");
  const out = clone(root);
  const m = masterOf(out, "vevent");
  if (!m) {
    const o = overrides(out).find((c) => recurrenceIdOf(c, floating) === recurrenceId);
    if (!o) throw new ModelError("the event has no such occurrence");
    out.removeSubcomponent(o);
    return overrides(out).length ? out : null;
  }
  const first = timeToMs(timeProp(m, "dtstart")!, floating);
  if (scope === "following") {
    if (recurrenceId <= first) return null;
    if (!isOccurrence(m, recurrenceId, floating)) throw new ModelError("the series has no occurrence at that time");
    endSeriesBefore(out, m, recurrenceId, userZone);
  } else {
    const own = overrides(out).find((c) => recurrenceIdOf(c, floating) === recurrenceId);
    if (!own && !isOccurrence(m, recurrenceId, floating)) throw new ModelError("the series has no occurrence at that time");
    if (own) out.removeSubcomponent(own);
    // RFC 5545 §3.8.5.1: EXDATE in the form of DTSTART.
    const startProp = m.getFirstProperty("dtstart")!;
    m.addProperty(propLike(startProp, "exdate", timeLike(recurrenceId, startProp.getFirstValue() as ICAL.Time, floating)));
  }
  stamp(m, now);
  raiseSequence(root, out, [m]);
  ensureTimezones(out);
  return out;
}
