/**
 * Exceptions of a recurring event (MS-ASCAL §2.2.2.21 Exception, §2.2.2.22
 * Exceptions) <-> RECURRENCE-ID overrides and EXDATEs (RFC 5545 §3.8.4.4,
 * §3.8.5.1).
 *
 * An exception names its instance by the original start: ExceptionStartTime
 * before 16.0 (§2.2.2.23), airsyncbase:InstanceId in 16.x (MS-ASAIRS
 * §2.2.2.26). A deleted instance is an Exception with Deleted 1 (§2.2.2.16)
 * and an EXDATE here. An overridden one carries only what differs from the
 * series (§2.2.2.21: an element left out has the series' value); StartTime
 * and EndTime are always sent.
 */
import ICAL from "ical.js";
import type { Layout } from "../../../../src/groupware/ical/expand.ts";
import { spanOf, timeList } from "../../../../src/groupware/ical/spans.ts";
import { EasDataError, type CodecContext } from "./codec.ts";
import { attendeesElement, applyAttendees, applyResponseType, responseType } from "./calendar-people.ts";
import { applyPlainFields, bodyElement, categoriesElement, locationElement, numberOf, plainFields } from "./calendar-fields.ts";
import { dateInZone, dateOfDeviceTime, deviceTime, easInstanceId, easTime, msOf, setTimeProp, type TimeForm } from "./calendar-time.ts";
import { el, kid, kids, kidText, type WElement } from "../wbxml/tree.ts";
import { toXml } from "../wbxml/tree.ts";

/** Exceptions accepted in one device item (the store holds at most 2,000 components and 2,000 EXDATEs per object). */
export const MAX_EXCEPTIONS = 1000;

const DAY = 86_400_000;

/** How the series writes its times: the zone form and whether it is all-day. */
export interface SeriesForm extends TimeForm {
  allDay: boolean;
}

function idElement(rid: number, version: number): WElement {
  return version >= 160 ? el("AirSyncBase:InstanceId", easInstanceId(rid)) : el("Calendar:ExceptionStartTime", easTime(rid));
}

function dtstamp(comp: ICAL.Component): WElement | null {
  const v = comp.getFirstPropertyValue("dtstamp");
  return v instanceof ICAL.Time ? el("Calendar:DtStamp", easTime(msOf(v))) : null;
}

/** Calendar:Exceptions for the series' EXDATEs and overrides, in instance order; null without any. */
export function exceptionsElement(layout: Layout, cx: CodecContext): WElement | null {
  const master = layout.master;
  if (!master || !layout.masterSpan) return null;
  const base = plainFields(master, cx.account);
  const baseAllDay = layout.masterSpan.allDay;
  const baseAttendees = attendeesElement(master);
  const baseAtt = baseAttendees ? toXml(baseAttendees) : "";
  const baseResponse = responseType(master, cx.account);
  const items: { rid: number; out: WElement }[] = [];
  for (const rid of layout.exdates) {
    if (layout.overrides.has(rid)) continue;
    items.push({ rid, out: el("Calendar:Exception", el("Calendar:Deleted", 1), idElement(rid, cx.version)) });
  }
  for (const o of layout.overrides.values()) {
    const comp = o.comp;
    const f = plainFields(comp, cx.account);
    const cancelled = String(comp.getFirstPropertyValue("status") ?? "").toUpperCase() === "CANCELLED";
    if (cancelled && !layout.exdates.has(o.rid)) {
      // A cancelled instance is gone for the phone (RFC 5545 §3.8.1.11 STATUS:CANCELLED on an override).
      items.push({ rid: o.rid, out: el("Calendar:Exception", el("Calendar:Deleted", 1), idElement(o.rid, cx.version)) });
      continue;
    }
    const allDay = o.span.allDay;
    const att = cx.version >= 140 ? attendeesElement(comp) : null;
    const attXml = att ? toXml(att) : "";
    const resp = cx.version >= 140 ? responseType(comp, cx.account) : null;
    const differs = <T>(a: T, b: T) => JSON.stringify(a) !== JSON.stringify(b);
    items.push({
      rid: o.rid,
      out: el(
        "Calendar:Exception",
        idElement(o.rid, cx.version),
        differs(f.subject, base.subject) && el("Calendar:Subject", f.subject),
        el("Calendar:StartTime", easTime(o.span.start)),
        el("Calendar:EndTime", easTime(allDay && o.span.end <= o.span.start ? o.span.start + DAY : o.span.end)),
        differs(f.description, base.description) && (bodyElement(f.description, cx) ?? el("AirSyncBase:Body", el("AirSyncBase:Type", 1), el("AirSyncBase:EstimatedDataSize", 0), el("AirSyncBase:Data"))),
        differs(f.location, base.location) && (locationElement(f.location, cx.version) ?? (cx.version >= 160 ? el("AirSyncBase:Location", el("AirSyncBase:DisplayName")) : el("Calendar:Location"))),
        differs(f.categories, base.categories) && (categoriesElement(f.categories) ?? el("Calendar:Categories")),
        differs(f.sensitivity, base.sensitivity) && el("Calendar:Sensitivity", f.sensitivity),
        differs(f.busy, base.busy) && el("Calendar:BusyStatus", f.busy),
        allDay !== baseAllDay && el("Calendar:AllDayEvent", allDay ? 1 : 0),
        f.reminder !== null && differs(f.reminder, base.reminder) && el("Calendar:Reminder", f.reminder),
        dtstamp(comp),
        cx.version >= 140 && attXml !== baseAtt && (att ?? el("Calendar:Attendees")),
        resp !== null && resp !== baseResponse && el("Calendar:ResponseType", resp),
      ),
    });
  }
  if (!items.length) return null;
  items.sort((a, b) => a.rid - b.rid);
  return el("Calendar:Exceptions", items.map((i) => i.out));
}

// ---------------------------------------------------------------- from the device

/** Removes the EXDATE value for instance `rid` (ms), keeping the others. */
export function removeExdate(master: ICAL.Component, rid: number): void {
  for (const p of master.getAllProperties("exdate")) {
    const vals = p.getValues().filter((v): v is ICAL.Time => v instanceof ICAL.Time);
    const keep = vals.filter((v) => msOf(v) !== rid);
    if (keep.length === vals.length) continue;
    if (keep.length === 0) master.removeProperty(p);
    else p.setValues(keep);
  }
}

export function hasExdate(master: ICAL.Component, rid: number): boolean {
  return timeList(master, "exdate").some((t) => msOf(t) === rid);
}

/** Adds an EXDATE for instance `rid` in the series' form (RFC 5545 §3.8.5.1: same value type as DTSTART). */
export function addExdate(master: ICAL.Component, rid: number, form: SeriesForm): void {
  if (hasExdate(master, rid)) return;
  setTimeProp(master, "exdate", rid, form, form.allDay, true);
}

/** The UTC ms an instance is named by, as the series' RECURRENCE-ID reads (an all-day instance: its date at UTC midnight). */
export function instanceMs(s: string, form: SeriesForm, version: number, zone: ICAL.Timezone | null, what: string): number {
  if (!form.allDay) return deviceTime(s, what)!;
  // 16.x sends the date itself (MS-ASCAL §2.2.2.1); before, midnight in the device's zone as UTC.
  return version >= 160 ? dateOfDeviceTime(s, what) : dateInZone(deviceTime(s, what)!, zone, false);
}

/** The series' master made into a new override's starting point: no rule, no EXDATE (RFC 5545 §3.8.4.4). */
function newOverride(master: ICAL.Component): ICAL.Component {
  const c = new ICAL.Component(JSON.parse(JSON.stringify(master.toJSON())) as unknown[]);
  for (const n of ["rrule", "rdate", "exdate", "exrule", "recurrence-id"]) c.removeAllProperties(n);
  return c;
}

/**
 * Before 16.0 an Exception is whole: an element it leaves out has the
 * series' value (MS-ASCAL §2.2.2.21), so the override takes the master's
 * (Reminder excepted: "no reminder" has no form in an Exception).
 */
function withSeriesValues(ex: WElement, master: ICAL.Component, cx: CodecContext): WElement {
  const f = plainFields(master, cx.account);
  const add: WElement[] = [];
  if (!kid(ex, "Calendar:Subject")) add.push(el("Calendar:Subject", f.subject));
  if (!kid(ex, "Calendar:Location") && !kid(ex, "AirSyncBase:Location")) add.push(el("Calendar:Location", f.location));
  if (!kid(ex, "AirSyncBase:Body")) add.push(el("AirSyncBase:Body", el("AirSyncBase:Type", 1), el("AirSyncBase:Data", f.description)));
  if (!kid(ex, "Calendar:Categories")) add.push(categoriesElement(f.categories) ?? el("Calendar:Categories"));
  if (!kid(ex, "Calendar:Sensitivity")) add.push(el("Calendar:Sensitivity", f.sensitivity));
  if (!kid(ex, "Calendar:BusyStatus")) add.push(el("Calendar:BusyStatus", f.busy));
  return { ...ex, children: [...ex.children, ...add] };
}

export interface ApplyExceptionsInput {
  root: ICAL.Component;
  layout: Layout;
  exceptions: WElement;
  form: SeriesForm;
  /** Length of one instance (ms), for an exception without EndTime. */
  durationMs: number;
  /** The device's zone (all-day times before 16.0 are midnight in it). */
  deviceZone: ICAL.Timezone | null;
  cx: CodecContext;
  /** Before 16.0 the device sends its whole list: overrides and EXDATEs it leaves out go. */
  replaceAll: boolean;
}

/** Applies a device's Exceptions. Returns true when instances were added, moved or removed (an organizer change). */
export function applyExceptions(inp: ApplyExceptionsInput): boolean {
  const { root, layout, form, cx } = inp;
  const master = layout.master;
  if (!master) throw new EasDataError("exceptions for an event without a series");
  const list = kids(inp.exceptions, "Calendar:Exception");
  if (list.length > MAX_EXCEPTIONS) throw new EasDataError(`more than ${MAX_EXCEPTIONS} exceptions`);
  let significant = false;
  const listed = new Set<number>();
  const version = cx.version;
  for (const ex of list) {
    const id = kidText(ex, "AirSyncBase:InstanceId") ?? kidText(ex, "Calendar:ExceptionStartTime");
    if (id === undefined) throw new EasDataError("an Exception names no instance (ExceptionStartTime / InstanceId)");
    const rid = instanceMs(id, form, version, inp.deviceZone, "ExceptionStartTime");
    if (listed.has(rid)) throw new EasDataError("two Exceptions for the same instance");
    listed.add(rid);
    const deleted = numberOf(ex, "Calendar:Deleted", 0, 1) === 1;
    const existing = layout.overrides.get(rid)?.comp ?? null;
    if (deleted) {
      // A cancelled override is shown as deleted (exceptionsElement): the device repeating that changes nothing.
      if (existing && String(existing.getFirstPropertyValue("status") ?? "").toUpperCase() === "CANCELLED") continue;
      if (existing) root.removeSubcomponent(existing);
      if (!hasExdate(master, rid)) significant = true;
      addExdate(master, rid, form);
      continue;
    }
    if (hasExdate(master, rid)) {
      removeExdate(master, rid);
      significant = true;
    }
    const comp = existing ?? newOverride(master);
    if (!existing) {
      setTimeProp(comp, "recurrence-id", rid, form, form.allDay);
      root.addSubcomponent(comp);
    }
    const startS = kidText(ex, "Calendar:StartTime");
    const endS = kidText(ex, "Calendar:EndTime");
    const conv = (s: string, what: string, ceil: boolean) =>
      form.allDay ? (version >= 160 ? dateOfDeviceTime(s, what) : dateInZone(deviceTime(s, what)!, inp.deviceZone, ceil)) : deviceTime(s, what)!;
    const start = startS !== undefined ? conv(startS, "Exception StartTime", false) : existing ? null : rid;
    let end = endS !== undefined ? conv(endS, "Exception EndTime", true) : null;
    if (start !== null) {
      if (end === null && (!existing || startS !== undefined)) end = start + inp.durationMs;
      if (end !== null && end < start) throw new EasDataError("an Exception ends before it starts");
      if (form.allDay && end !== null && end <= start) end = start + DAY;
      const was = existing ? spanOf(comp, null) : null;
      if (!was || was.start !== start || (end !== null && was.end !== end) || was.allDay !== form.allDay) {
        if (existing) significant = true;
        setTimeProp(comp, "dtstart", start, form, form.allDay);
        if (end !== null) {
          comp.removeAllProperties("duration");
          setTimeProp(comp, "dtend", end, form, form.allDay);
        }
      }
    } else if (end !== null && end !== spanOf(comp, null).end) {
      comp.removeAllProperties("duration");
      setTimeProp(comp, "dtend", end, form, form.allDay);
      significant = true;
    }
    if (applyPlainFields(comp, inp.replaceAll ? withSeriesValues(ex, master, cx) : ex, cx.account).length) significant = true;
    const att = kid(ex, "Calendar:Attendees");
    if (att) applyAttendees(comp, att, cx.account);
    const ms = numberOf(ex, "Calendar:MeetingStatus", 0, 15);
    if (ms !== undefined && (ms & 4) !== 0) {
      comp.updatePropertyWithValue("status", "CANCELLED");
      significant = true;
    }
    applyResponseType(comp, kidText(ex, "Calendar:ResponseType"), cx.account, cx.now);
    if (!existing) significant = true;
  }
  if (inp.replaceAll) {
    for (const [rid, o] of layout.overrides) {
      if (!listed.has(rid)) {
        root.removeSubcomponent(o.comp);
        significant = true;
      }
    }
    for (const rid of layout.exdates) {
      if (!listed.has(rid)) {
        removeExdate(master, rid);
        significant = true;
      }
    }
  }
  return significant;
}
