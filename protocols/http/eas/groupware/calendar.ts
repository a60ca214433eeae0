/**
 * The Calendar class (MS-ASCAL) <-> a stored calendar object (one UID:
 * VEVENT master + RECURRENCE-ID overrides, RFC 5545 / RFC 4791 §4.1).
 *
 * toEas renders the master with its Recurrence and Exceptions; fromEas
 * merges a device's ApplicationData onto the stored object with ical.js,
 * changing only what ActiveSync expresses, so X- properties, ATTACH,
 * VALARMs beyond the first, unknown parameters... survive a phone edit.
 *
 * Version differences (MS-ASCAL §2.2.2): Calendar:Location before 16.0,
 * airsyncbase:Location in 16.x; Calendar:UID from the device before 16.0,
 * ClientUid on an Add in 16.x (UID is then the server's, read-only);
 * ExceptionStartTime before 16.0, airsyncbase:InstanceId in 16.x; all-day
 * events in 16.x carry no Timezone and their times are dates.
 */
import { randomUUID } from "node:crypto";
import ICAL from "ical.js";
import type { Item } from "../../../../storage/api.ts";
import { ICalError } from "../../../../src/groupware/ical/errors.ts";
import { expandInstances, layoutOf, type Layout } from "../../../../src/groupware/ical/expand.ts";
import { parseCalendarObject } from "../../../../src/groupware/ical/parse.ts";
import { serialize } from "../../../../src/groupware/ical/split.ts";
import { spanOf } from "../../../../src/groupware/ical/spans.ts";
import { SyncStatus } from "../status.ts";
import { el, kid, kids, kidText, toXml, type WElement } from "../wbxml/tree.ts";
import { EasDataError, type CodecContext, type GroupwareCodec } from "./codec.ts";
import { applyExceptions, addExdate, exceptionsElement, MAX_EXCEPTIONS, type SeriesForm } from "./calendar-exceptions.ts";
import { applyPlainFields, bodyElement, categoriesElement, locationElement, numberOf, plainFields } from "./calendar-fields.ts";
import {
  applyAttendees,
  applyMyAttendeeStatus,
  applyOrganizer,
  applyResponseType,
  attendeesElement,
  ensureOrganizer,
  iOrganize,
  isMeeting,
  meetingStatus,
  myAttendee,
  organizerElements,
  replyTime,
  responseType,
} from "./calendar-people.ts";
import { dateInZone, dateOfDeviceTime, deviceTime, deviceZone, easTime, eventZone, msOf, setTimeProp, timezoneBlob, zoneFor, type DeviceZone } from "./calendar-time.ts";
import { recurrenceFromEas, recurrenceToEas } from "./recurrence.ts";
import { encodeTimezone } from "./timezone.ts";

export const PRODID = "-//Pillarbox//ActiveSync//EN";
const DAY = 86_400_000;
/** Longest UID accepted from a device (Exchange's are 112 hex digits). */
const MAX_UID = 1024;

function str(comp: ICAL.Component, name: string): string {
  const v = comp.getFirstPropertyValue(name);
  return typeof v === "string" ? v : v === null || v === undefined ? "" : String(v);
}

/** The component shown as the item: the master, or for an object holding only overrides (an invitation to one instance) the first of them. */
function mainComponent(root: ICAL.Component, layout: Layout): ICAL.Component {
  if (layout.master) return layout.master;
  const first = root.getFirstSubcomponent("vevent");
  if (!first) throw new ICalError("INVALID_OBJECT", "no VEVENT in the calendar object");
  return first;
}

export interface CalendarFieldOptions {
  /** DTSTAMP fallback (ms): the item's last write. */
  stamp?: number;
  /** Leave out Recurrence/Exceptions (an instance shown alone). */
  single?: boolean;
}

/**
 * The Calendar ApplicationData elements of one event component (`comp` in
 * `root`): times, zone, people, plain fields; Recurrence and Exceptions
 * when `comp` is the master of a series. Pure: the meetings code renders
 * meeting requests with it too.
 */
export function calendarFields(root: ICAL.Component, comp: ICAL.Component, cx: CodecContext, opts: CalendarFieldOptions = {}): WElement[] {
  const span = spanOf(comp, null);
  const allDay = span.allDay;
  const z = eventZone(root, comp);
  const dt = comp.getFirstPropertyValue("dtstart") as ICAL.Time;
  const year = dt.year;
  const end = allDay && span.end <= span.start ? span.start + DAY : span.end;
  const f = plainFields(comp, cx.account);
  const stampV = comp.getFirstPropertyValue("dtstamp");
  const stamp = stampV instanceof ICAL.Time ? msOf(stampV) : (opts.stamp ?? cx.now);
  const meeting = isMeeting(comp);
  const v14 = cx.version >= 140;
  let recurrence: WElement | null = null;
  let exceptions: WElement | null = null;
  if (!opts.single && !comp.getFirstProperty("recurrence-id")) {
    const rule = comp.getFirstPropertyValue("rrule");
    if (rule instanceof ICAL.Recur) {
      // A rule ActiveSync cannot express (null) is left out: the device sees the first instance, and the stored RRULE is kept on its edits.
      recurrence = recurrenceToEas(rule, dt, "Calendar", cx.version);
      if (recurrence) exceptions = exceptionsElement(layoutOf(root, "vevent", null), cx);
    }
  }
  const me = myAttendee(comp, cx.account);
  const rsvp = me ? String(me.getParameter("rsvp") ?? "").toUpperCase() !== "FALSE" : false;
  const replyAt = me ? replyTime(comp) : null;
  const disallow = str(comp, "x-microsoft-disallow-counter").toUpperCase() === "TRUE";
  return [
    // MS-ASCAL §2.2.2.42: 16.x all-day events carry no Timezone; before, a UTC blob names the dates at T000000Z.
    !(allDay && cx.version >= 160) && el("Calendar:Timezone", allDay ? encodeTimezone(null, null, year) : timezoneBlob(z, year)),
    el("Calendar:AllDayEvent", allDay ? 1 : 0),
    bodyElement(f.description, cx),
    el("Calendar:BusyStatus", f.busy),
    ...organizerElements(comp, cx.account),
    el("Calendar:DtStamp", easTime(stamp)),
    el("Calendar:EndTime", easTime(end)),
    locationElement(f.location, cx.version),
    f.reminder !== null && el("Calendar:Reminder", f.reminder),
    el("Calendar:Sensitivity", f.sensitivity),
    f.subject && el("Calendar:Subject", f.subject),
    el("Calendar:StartTime", easTime(span.start)),
    el("Calendar:UID", str(comp, "uid")),
    el("Calendar:MeetingStatus", meetingStatus(comp, cx.account)),
    attendeesElement(comp),
    categoriesElement(f.categories),
    recurrence,
    exceptions,
    v14 && meeting && !iOrganize(comp, cx.account) && el("Calendar:ResponseRequested", rsvp ? 1 : 0),
    v14 && meeting && replyAt !== null && el("Calendar:AppointmentReplyTime", easTime(replyAt)),
    v14 && meeting && el("Calendar:ResponseType", responseType(comp, cx.account) ?? 0),
    v14 && meeting && el("Calendar:DisallowNewTimeProposal", disallow ? 1 : 0),
  ].filter((x): x is WElement => !!x);
}

function toEas(body: Uint8Array, item: Item, cx: CodecContext): WElement[] {
  const obj = parseCalendarObject(body, { stored: true });
  if (obj.kind !== "VEVENT") throw new ICalError("INVALID_OBJECT", "not an event");
  const layout = layoutOf(obj.root, "vevent", null);
  return calendarFields(obj.root, mainComponent(obj.root, layout), cx, { stamp: item.modifiedAt });
}

// ---------------------------------------------------------------- from the device

function newCalendar(): ICAL.Component {
  const root = new ICAL.Component("vcalendar");
  root.addPropertyWithValue("prodid", PRODID);
  root.addPropertyWithValue("version", "2.0");
  return root;
}

function deviceUid(data: WElement, version: number): string | null {
  // MS-ASCAL §2.2.2.46 UID / §2.2.2.12 ClientUid: 16.x devices name their item with ClientUid.
  const raw = (version >= 160 ? (kidText(data, "Calendar:ClientUid") ?? kidText(data, "Calendar:UID")) : (kidText(data, "Calendar:UID") ?? kidText(data, "Calendar:ClientUid")))?.trim();
  if (!raw) return null;
  if (raw.length > MAX_UID || /[\x00-\x1f\x7f]/.test(raw)) throw new EasDataError("UID is not acceptable");
  return raw;
}

function addVtimezone(root: ICAL.Component, dz: DeviceZone): void {
  if (!dz.vtimezone) return;
  for (const tz of root.getAllSubcomponents("vtimezone")) if (tz.getFirstPropertyValue("tzid") === dz.tzid) return;
  const comp = ICAL.Component.fromString(dz.vtimezone);
  // VTIMEZONE before the events (custom and readable, RFC 5545 §3.6.5).
  const events = root.getAllSubcomponents("vevent");
  for (const e of events) root.removeSubcomponent(e);
  root.addSubcomponent(comp);
  for (const e of events) root.addSubcomponent(e);
}

function utcNow(ms: number): ICAL.Time {
  const d = new Date(ms);
  return ICAL.Time.fromData({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() }, ICAL.Timezone.utcTimezone);
}

/** SEQUENCE + 1 on every component (RFC 5546 §2.1.4: the organizer's significant change). */
function bumpSequence(root: ICAL.Component): void {
  let max = 0;
  for (const c of root.getAllSubcomponents("vevent")) max = Math.max(max, Number(c.getFirstPropertyValue("sequence") ?? 0) || 0);
  for (const c of root.getAllSubcomponents("vevent")) c.updatePropertyWithValue("sequence", max + 1);
}

function stampAll(root: ICAL.Component, master: ICAL.Component, now: number): void {
  for (const c of root.getAllSubcomponents("vevent")) c.updatePropertyWithValue("dtstamp", utcNow(now));
  master.updatePropertyWithValue("last-modified", utcNow(now));
}

function recurrenceXml(rule: ICAL.Recur, start: ICAL.Time, version: number): string {
  const r = recurrenceToEas(rule, start, "Calendar", version);
  return r ? toXml(r) : "";
}

/**
 * A 16.x Change of one instance (MS-ASCMD §2.2.3.24 Change with
 * airsyncbase:InstanceId; the engine hands the InstanceId inside
 * ApplicationData): the data is that instance's exception, merged onto its
 * override (or a new one); the series is untouched.
 */
function instanceChange(data: WElement, existing: Uint8Array, cx: CodecContext): Uint8Array {
  const obj = parseCalendarObject(existing, { stored: true });
  const root = obj.root;
  const layout = layoutOf(root, "vevent", null);
  const master = layout.master;
  if (!master || !layout.masterSpan || !master.getFirstProperty("rrule")) throw new EasDataError("an instance change for an event that is not a series", SyncStatus.ObjectNotFound);
  const z = eventZone(root, master);
  const form: SeriesForm = { tzid: z.tzid, zone: z.zone, floating: z.floating, allDay: layout.masterSpan.allDay };
  const blob = kidText(data, "Calendar:Timezone");
  const dz = blob !== undefined && blob.trim() !== "" ? deviceZone(blob.trim()) : null;
  const exceptions = el("Calendar:Exceptions", el("Calendar:Exception", data.children));
  const wasOrganizer = iOrganize(master, cx.account);
  const significant = applyExceptions({ root, layout, exceptions, form, durationMs: layout.masterSpan.end - layout.masterSpan.start, deviceZone: dz?.zone ?? null, cx, replaceAll: false });
  stampAll(root, master, cx.now);
  if (significant && wasOrganizer && isMeeting(master)) bumpSequence(root);
  const text = serialize(root);
  parseCalendarObject(text);
  return new TextEncoder().encode(text);
}

function merge(input: WElement, existing: Uint8Array | null, cx: CodecContext): Uint8Array {
  let data = input;
  const version = cx.version;
  if (existing && kid(data, "AirSyncBase:InstanceId")) return instanceChange(data, existing, cx);
  let root: ICAL.Component;
  let layout: Layout | null = null;
  let master: ICAL.Component;
  if (existing) {
    const obj = parseCalendarObject(existing, { stored: true });
    if (obj.kind !== "VEVENT") throw new EasDataError("the stored item is not an event");
    root = obj.root;
    layout = layoutOf(root, "vevent", null);
    master = mainComponent(root, layout);
  } else {
    root = newCalendar();
    master = new ICAL.Component("vevent");
    master.addPropertyWithValue("uid", deviceUid(data, version) ?? randomUUID());
    master.addPropertyWithValue("created", utcNow(cx.now));
    root.addSubcomponent(master);
  }
  // Before 16.0 a Change carries the whole item (MS-ASCMD §2.2.3.179 Supported): an element the device manages
  // (all of them when it sent no Supported) that is absent was removed on the device. In 16.x every absent
  // top-level element is ghosted: the stored value stays (MS-ASCAL §3.1.5.3). Body, times, zone, organizer
  // and the answer are never taken as removed (a device may hold a truncated body; the rest cannot be empty).
  const supported = (cx as CodecContext & { supported?: ReadonlySet<string> }).supported;
  const removedWhenAbsent = (q: string, ...alt: string[]): boolean =>
    existing !== null && version < 160 && !kid(data, q) && alt.every((a) => !kid(data, a)) && (!supported || supported.has(q));
  const empties = [
    removedWhenAbsent("Calendar:Subject") && el("Calendar:Subject"),
    removedWhenAbsent("Calendar:Location", "AirSyncBase:Location") && el("Calendar:Location"),
    removedWhenAbsent("Calendar:Reminder") && el("Calendar:Reminder"),
    removedWhenAbsent("Calendar:Categories") && el("Calendar:Categories"),
    removedWhenAbsent("Calendar:Sensitivity") && el("Calendar:Sensitivity", 0),
    removedWhenAbsent("Calendar:Attendees") && el("Calendar:Attendees"),
  ].filter((x): x is WElement => !!x);
  if (empties.length) data = { ...data, children: [...data.children, ...empties] };
  const excEl = kid(data, "Calendar:Exceptions");
  if (excEl && kids(excEl, "Calendar:Exception").length > MAX_EXCEPTIONS) throw new EasDataError(`more than ${MAX_EXCEPTIONS} exceptions`);
  const before = existing ? spanOf(master, null) : null;
  const wasOrganizer = iOrganize(master, cx.account);
  let significant = false;

  // ---- zone and times (MS-ASCAL §2.2.2.42 Timezone, §2.2.2.42 StartTime, §2.2.2.20 EndTime, §2.2.2.1 AllDayEvent)
  const ade = numberOf(data, "Calendar:AllDayEvent", 0, 1);
  const allDay = ade !== undefined ? ade === 1 : (before?.allDay ?? false);
  const blob = kidText(data, "Calendar:Timezone");
  const dz = blob !== undefined && blob.trim() !== "" ? deviceZone(blob.trim()) : null;
  const oldZone = existing ? eventZone(root, master) : null;
  let form: SeriesForm;
  if (allDay) form = { tzid: null, zone: null, floating: false, allDay: true };
  else if (dz) {
    const year = before ? (master.getFirstPropertyValue("dtstart") as ICAL.Time).year : new Date(cx.now).getUTCFullYear();
    // The device repeats the zone we sent: keep the stored TZID (and its VTIMEZONE) rather than its decoded twin.
    if (oldZone && oldZone.tzid && oldZone.zone && timezoneBlob(oldZone, year) === blob!.trim()) form = { tzid: oldZone.tzid, zone: oldZone.zone, floating: false, allDay: false };
    else if (oldZone && !oldZone.tzid && !dz.zone) form = { tzid: null, zone: null, floating: oldZone.floating, allDay: false };
    else {
      addVtimezone(root, dz);
      form = { tzid: dz.zone ? dz.tzid : null, zone: dz.zone, floating: false, allDay: false };
      if (form.tzid && !form.zone) form.zone = zoneFor(root, form.tzid);
    }
  } else if (oldZone) form = { tzid: oldZone.tzid, zone: oldZone.zone, floating: oldZone.floating, allDay: false };
  else form = { tzid: null, zone: null, floating: false, allDay: false };
  // For all-day times before 16.0 the device's zone says where midnight is.
  const wireZone = dz?.zone ?? null;
  const conv = (s: string, what: string, ceil: boolean): number =>
    allDay ? (version >= 160 ? dateOfDeviceTime(s, what) : dateInZone(deviceTime(s, what)!, wireZone, ceil)) : deviceTime(s, what)!;
  const startS = kidText(data, "Calendar:StartTime");
  const endS = kidText(data, "Calendar:EndTime");
  let start = startS !== undefined ? conv(startS, "StartTime", false) : before ? (allDay ? dateInZone(before.start, null, false) : before.start) : null;
  let end = endS !== undefined ? conv(endS, "EndTime", true) : null;
  if (start === null) {
    // MS-ASCAL §3.2.4.4: an event without StartTime starts now (to the minute).
    start = allDay ? dateInZone(cx.now, null, false) : Math.floor(cx.now / 60_000) * 60_000;
  }
  if (end === null) end = before ? start + Math.max(0, before.end - before.start) : start + (allDay ? DAY : 30 * 60_000);
  if (end < start) throw new EasDataError("EndTime is before StartTime");
  if (allDay && end <= start) end = start + DAY;
  const oldTzid = oldZone?.tzid ?? null;
  if (!before || before.start !== start || before.end !== end || before.allDay !== allDay || oldTzid !== form.tzid) {
    if (before && (before.start !== start || before.end !== end || before.allDay !== allDay)) significant = true;
    setTimeProp(master, "dtstart", start, form, allDay);
    master.removeAllProperties("duration");
    setTimeProp(master, "dtend", end, form, allDay);
    if (before && before.allDay !== allDay && !master.getFirstProperty("recurrence-id")) {
      // RFC 5545 §3.8.4.4/§3.8.5.1: RECURRENCE-ID and EXDATE take DTSTART's value type. A series that turned
      // all-day (or back) loses its old instance names; the device's Exceptions below name them anew.
      for (const n of ["exdate", "rdate"]) master.removeAllProperties(n);
      for (const c of root.getAllSubcomponents("vevent")) if (c !== master) root.removeSubcomponent(c);
    }
  }

  // ---- recurrence (MS-ASCAL §2.2.2.38)
  let exceptions: WElement | undefined;
  if (!master.getFirstProperty("recurrence-id")) {
    const dtstart = master.getFirstPropertyValue("dtstart") as ICAL.Time;
    const rec = kid(data, "Calendar:Recurrence");
    const stored = master.getFirstPropertyValue("rrule");
    const storedRule = stored instanceof ICAL.Recur ? stored : null;
    if (rec) {
      const rule = recurrenceFromEas(rec, dtstart, "Calendar");
      if (!storedRule || recurrenceXml(storedRule, dtstart, version) !== recurrenceXml(rule, dtstart, version)) {
        master.removeAllProperties("rrule");
        master.addPropertyWithValue("rrule", rule);
        if (existing) significant = true;
      }
    } else if (storedRule && removedWhenAbsent("Calendar:Recurrence") && recurrenceToEas(storedRule, dtstart, "Calendar", version)) {
      // Before 16.0 the device sends the whole item: no Recurrence = it is no longer a series. A rule it could
      // not see (recurrenceToEas gave null, nothing was sent) is kept; in 16.x a missing element is ghosted.
      for (const n of ["rrule", "rdate", "exdate"]) master.removeAllProperties(n);
      for (const o of layout?.overrides.values() ?? []) root.removeSubcomponent(o.comp);
      significant = true;
    }
    // Exceptions the device saw (its series was expressible) and no longer lists are gone too.
    const sawSeries = storedRule !== null && recurrenceToEas(storedRule, dtstart, "Calendar", version) !== null;
    exceptions = kid(data, "Calendar:Exceptions") ?? (sawSeries && rec && removedWhenAbsent("Calendar:Exceptions") ? el("Calendar:Exceptions") : undefined);
  }

  // ---- people (MS-ASCAL §2.2.2.3, §2.2.2.34, §2.2.2.35, §2.2.2.40)
  if (!existing || !master.getFirstProperty("organizer")) applyOrganizer(master, data);
  const att = kid(data, "Calendar:Attendees");
  if (att && (iOrganize(master, cx.account) || !existing)) applyAttendees(master, att, cx.account);
  else if (att) applyMyAttendeeStatus(master, att, cx.account, cx.now);
  ensureOrganizer(master, cx.account);
  applyResponseType(master, kidText(data, "Calendar:ResponseType"), cx.account, cx.now);
  const ms = numberOf(data, "Calendar:MeetingStatus", 0, 15);
  if (ms !== undefined && (ms & 4) !== 0 && iOrganize(master, cx.account) && str(master, "status").toUpperCase() !== "CANCELLED") {
    master.updatePropertyWithValue("status", "CANCELLED");
    significant = true;
  }
  const dis = numberOf(data, "Calendar:DisallowNewTimeProposal", 0, 1);
  if (dis !== undefined && iOrganize(master, cx.account)) {
    if (dis === 1) master.updatePropertyWithValue("x-microsoft-disallow-counter", "TRUE");
    else master.removeAllProperties("x-microsoft-disallow-counter");
  }

  // ---- plain fields
  if (applyPlainFields(master, data, cx.account).length && existing) significant = true;

  // ---- exceptions (MS-ASCAL §2.2.2.22), last: a new override starts from the series as this request left it
  if (exceptions && master.getFirstProperty("rrule")) {
    const lay = layoutOf(root, "vevent", null);
    const span = spanOf(master, null);
    if (applyExceptions({ root, layout: lay, exceptions, form, durationMs: span.end - span.start, deviceZone: wireZone, cx, replaceAll: version < 160 })) significant = true;
  }

  stampAll(root, master, cx.now);
  if (existing && significant && wasOrganizer && isMeeting(master)) bumpSequence(root);
  if (!existing) master.updatePropertyWithValue("sequence", 0);
  const text = serialize(root);
  // The same checks as a CalDAV PUT (rules, limits, dates): a bad item is refused here, never stored half.
  parseCalendarObject(text);
  return new TextEncoder().encode(text);
}

/** Any failure converting device data is the device's: Status 6, never an HTTP 500. */
function asDataError(e: unknown): EasDataError {
  if (e instanceof EasDataError) return e;
  return new EasDataError(e instanceof Error ? e.message : String(e));
}

function fromEas(data: WElement, existing: Uint8Array | null, cx: CodecContext): Uint8Array {
  try {
    return merge(data, existing, cx);
  } catch (e) {
    throw asDataError(e);
  }
}

/**
 * 16.0 Sync Delete of one instance (MS-ASCMD §2.2.3.87 InstanceId): an
 * EXDATE for it, its override dropped. `instance` is the instance's
 * original start (UTC ms; an all-day one: its date at UTC midnight).
 * Status 8 (object not found) when the series has no such instance.
 */
export function deleteCalendarInstance(body: Uint8Array, instance: number, cx: CodecContext): Uint8Array {
  let obj;
  try {
    obj = parseCalendarObject(body, { stored: true });
  } catch (e) {
    throw asDataError(e);
  }
  const root = obj.root;
  const layout = layoutOf(root, "vevent", null);
  const master = layout.master;
  if (!master || !layout.masterSpan || !master.getFirstProperty("rrule") && !master.getFirstProperty("rdate")) {
    throw new EasDataError("not a recurring event", SyncStatus.ObjectNotFound);
  }
  const allDay = layout.masterSpan.allDay;
  const rid = allDay ? dateInZone(instance, null, false) : instance;
  const z = eventZone(root, master);
  const form: SeriesForm = { tzid: z.tzid, zone: z.zone, floating: z.floating, allDay };
  if (!layout.exdates.has(rid)) {
    const override = layout.overrides.get(rid);
    if (!override) {
      let found = false;
      try {
        found = expandInstances(obj, { start: rid, end: rid + 1 }, { maxInstances: 50 }).some((i) => i.recurrenceId === rid && !i.overridden);
      } catch (e) {
        throw asDataError(e);
      }
      if (!found) throw new EasDataError("the series has no such instance", SyncStatus.ObjectNotFound);
    } else root.removeSubcomponent(override.comp);
    addExdate(master, rid, form);
    stampAll(root, master, cx.now);
    if (iOrganize(master, cx.account) && isMeeting(master)) bumpSequence(root);
  }
  return new TextEncoder().encode(serialize(root));
}


export const calendarCodec: GroupwareCodec = { toEas, fromEas };
