/**
 * Writing calendar items: a Patch (calendar-patch.ts: what a CreateItem
 * `<t:CalendarItem>` or an UpdateItem's changes say) applied to the
 * iCalendar event (RFC 5545) the groupware service stores.
 *
 * Start, End, IsAllDayEvent and the zones depend on each other (an all-day
 * event's dates are wall dates in its zone, Types.xsd CalendarItemType), so
 * they are applied together; attendee lists keep the answers of those who
 * stay; recurrence is written on the master only.
 */
import { randomUUID } from "node:crypto";
import ICAL from "ical.js";
import { ensureOrganizer } from "../eas/groupware/calendar-people.ts";
import { setTimeProp } from "../eas/groupware/calendar-time.ts";
import { parseCalendarObject, stripMailto } from "../../../src/groupware/ical/parse.ts";
import { EwsError, type EwsContext } from "./context.ts";
import { ruleFromXml } from "./calendar-recurrence.ts";
import { contextZone, vtimezoneOf, wallDate, wallToInstant, type ItemZone } from "./calendar-zone.ts";
import type { Patch } from "./calendar-patch.ts";

export { patchOfChanges, patchOfElement, type Patch } from "./calendar-patch.ts";

const DAY = 86_400_000;
/** Longest event (Exchange refuses very long ones with ErrorCalendarDurationIsTooLong). */
const MAX_DURATION = 5 * 366 * DAY;
export const PRODID = "-//Pillarbox//EWS//EN";

function setText(comp: ICAL.Component, name: string, v: string | null | undefined): void {
  if (v === undefined) return;
  comp.removeAllProperties(name);
  if (v !== null && v !== "") comp.addPropertyWithValue(name, v);
}

const CLASS_OF: Record<string, string> = { Normal: "PUBLIC", Personal: "X-PERSONAL", Private: "PRIVATE", Confidential: "CONFIDENTIAL" };
const PRIORITY_OF: Record<string, number> = { High: 1, Normal: 5, Low: 9 };

function addVtimezone(root: ICAL.Component, z: ItemZone | undefined): void {
  if (!z?.tzid) return;
  if (root.getAllSubcomponents("vtimezone").some((v) => v.getFirstPropertyValue("tzid") === z.tzid)) return;
  const text = vtimezoneOf(z);
  if (text) root.addSubcomponent(new ICAL.Component(ICAL.parse(text) as unknown[]));
}

/** The zone an event's DTSTART is written in now (null when it is UTC, floating or a date). */
function currentZone(comp: ICAL.Component): ItemZone | null {
  const p = comp.getFirstProperty("dtstart");
  const v = p?.getFirstValue();
  const tzid = p?.getParameter("tzid");
  if (!(v instanceof ICAL.Time) || v.isDate || typeof tzid !== "string" || !tzid) return null;
  return { tzid, zone: v.zone && v.zone !== ICAL.Timezone.localTimezone && v.zone !== ICAL.Timezone.utcTimezone ? v.zone : null };
}

function msOfProp(comp: ICAL.Component, name: string): number | null {
  const v = comp.getFirstPropertyValue(name);
  return v instanceof ICAL.Time ? v.toJSDate().getTime() : null;
}

/**
 * Applies a patch to an event component in `root`. `master`: the series'
 * master (recurrence is only written there).
 */
export function applyPatch(c: EwsContext, root: ICAL.Component, comp: ICAL.Component, p: Patch, opts: { master: boolean }): void {
  setText(comp, "summary", p.subject);
  if (p.body !== undefined) {
    setText(comp, "description", p.body === null ? null : p.body.text);
    comp.removeAllProperties("x-alt-desc");
    if (p.body?.html) {
      const alt = new ICAL.Property("x-alt-desc", comp);
      alt.setParameter("fmttype", "text/html");
      alt.setValue(p.body.html);
      comp.addProperty(alt);
    }
  }
  if (p.sensitivity !== undefined) setText(comp, "class", p.sensitivity === null ? null : CLASS_OF[p.sensitivity]!);
  if (p.importance !== undefined) {
    comp.removeAllProperties("priority");
    if (p.importance !== null && p.importance !== "Normal") comp.addPropertyWithValue("priority", PRIORITY_OF[p.importance]!);
  }
  if (p.categories !== undefined) {
    comp.removeAllProperties("categories");
    if (p.categories?.length) {
      const prop = new ICAL.Property("categories", comp);
      prop.setValues(p.categories);
      comp.addProperty(prop);
    }
  }
  setText(comp, "location", p.location);
  if (p.busy !== undefined) {
    comp.removeAllProperties("transp");
    comp.removeAllProperties("x-microsoft-cdo-busystatus");
    if (p.busy !== null && p.busy !== "NoData") {
      comp.addPropertyWithValue("transp", p.busy === "Free" ? "TRANSPARENT" : "OPAQUE");
      comp.addPropertyWithValue("x-microsoft-cdo-busystatus", p.busy.toUpperCase());
    }
  }
  if (p.allowNewTimeProposal !== undefined) setText(comp, "x-microsoft-disallow-counter", p.allowNewTimeProposal ? null : "TRUE");
  applyTimes(c, root, comp, p);
  applyReminder(comp, p);
  applyAttendees(c, comp, p);
  if (opts.master && p.recurrence !== undefined) {
    comp.removeAllProperties("rrule");
    if (p.recurrence === null) {
      comp.removeAllProperties("exdate");
      comp.removeAllProperties("rdate");
      for (const o of root.getAllSubcomponents("vevent")) if (o !== comp && o.getFirstProperty("recurrence-id")) root.removeSubcomponent(o);
    } else {
      const allDay = (comp.getFirstPropertyValue("dtstart") as ICAL.Time | null)?.isDate ?? false;
      comp.addPropertyWithValue("rrule", ruleFromXml(p.recurrence, currentZone(comp) ?? contextZone(c), allDay));
    }
  } else if (!opts.master && p.recurrence) throw new EwsError("ErrorInvalidPropertySet", "An occurrence has no recurrence of its own.");
}

/**
 * A time written without Z or offset is a wall time of the request's
 * TimeZoneContext (MS-OXWSCDATA TimeZoneContext; UTC without one): made an
 * instant here, with the offset it had, so all-day dates come out as written.
 */
function resolveLocal(c: EwsContext, t: Patch["start"]): Patch["start"] {
  if (!t || !t.local) return t;
  const ms = wallToInstant(t.ms, contextZone(c));
  return { ms, offset: Math.round((t.ms - ms) / 60_000), local: false };
}

function applyTimes(c: EwsContext, root: ICAL.Component, comp: ICAL.Component, given: Patch): void {
  if (!given.start && !given.end && given.allDay === undefined && !given.startZone && !given.endZone) return;
  const p: Patch = { ...given, start: resolveLocal(c, given.start), end: resolveLocal(c, given.end) };
  const oldStartV = comp.getFirstPropertyValue("dtstart") as ICAL.Time | null;
  const wasAllDay = oldStartV instanceof ICAL.Time ? oldStartV.isDate : false;
  const allDay = p.allDay ?? wasAllDay;
  const oldStart = msOfProp(comp, "dtstart");
  let oldEnd = msOfProp(comp, "dtend");
  if (oldEnd === null && oldStart !== null) oldEnd = oldStart + (wasAllDay ? DAY : 0);
  const start = p.start?.ms ?? oldStart;
  let end = p.end?.ms ?? (oldEnd !== null && oldStart !== null && start !== null ? start + (oldEnd - oldStart) : null);
  if (start === null) throw new EwsError("ErrorInvalidRequest", "A calendar item needs a Start.");
  if (end === null) end = start + (allDay ? DAY : 30 * 60_000);
  if (end < start) throw new EwsError("ErrorCalendarEndDateIsEarlierThanStartDate", "End is before Start.");
  if (end - start > MAX_DURATION) throw new EwsError("ErrorCalendarDurationIsTooLong", "A calendar item lasts at most five years.");
  const zone = p.startZone ?? currentZone(comp) ?? contextZone(c);
  const endZone = p.endZone ?? p.startZone ?? zone;
  comp.removeAllProperties("duration");
  if (allDay) {
    // The dates as the client's clock reads them: the written offset when there is one, else the item's zone.
    const dateOf = (t: { ms: number; offset: number | null } | undefined, ms: number, z: ItemZone) =>
      t && t.offset !== null ? Math.floor((t.ms + t.offset * 60_000) / DAY) * DAY : wasAllDay && !t ? ms : wallDate(ms, z);
    const sd = dateOf(p.start, start, zone);
    let ed = dateOf(p.end, end, endZone);
    // A non-midnight end is pushed to the next midnight (MS-OXWSCAL: all-day events span whole days).
    if (p.end && p.end.offset === null && wallDate(end, endZone) !== wallDate(end - 1, endZone)) ed = wallDate(end, endZone);
    if (ed <= sd) ed = sd + DAY;
    const form = { tzid: null, zone: null, floating: false };
    setTimeProp(comp, "dtstart", sd, form, true);
    setTimeProp(comp, "dtend", ed, form, true);
    return;
  }
  addVtimezone(root, zone);
  addVtimezone(root, endZone);
  setTimeProp(comp, "dtstart", start, { tzid: zone.tzid, zone: zone.zone, floating: false }, false);
  setTimeProp(comp, "dtend", end, { tzid: endZone.tzid, zone: endZone.zone, floating: false }, false);
}

function applyReminder(comp: ICAL.Component, p: Patch): void {
  if (p.reminderSet === undefined && p.reminderMinutes === undefined) return;
  const has = comp.getAllSubcomponents("valarm").length > 0;
  const set = p.reminderSet ?? has;
  if (!set) {
    for (const a of comp.getAllSubcomponents("valarm")) comp.removeSubcomponent(a);
    return;
  }
  if (p.reminderMinutes === undefined && has) return;
  for (const a of comp.getAllSubcomponents("valarm")) comp.removeSubcomponent(a);
  const alarm = new ICAL.Component("valarm");
  alarm.addPropertyWithValue("action", "DISPLAY");
  alarm.addPropertyWithValue("description", "Reminder");
  alarm.addPropertyWithValue("trigger", ICAL.Duration.fromSeconds(-60 * (p.reminderMinutes ?? 15)));
  comp.addSubcomponent(alarm);
}

/** Replaces the attendees of each list given (required, optional, resources), keeping the answers of those who stay. */
function applyAttendees(c: EwsContext, comp: ICAL.Component, p: Patch): void {
  if (p.required === undefined && p.optional === undefined && p.resources === undefined && p.responseRequested === undefined) return;
  const categoryOf = (prop: ICAL.Property): "required" | "optional" | "resources" => {
    const cu = String(prop.getParameter("cutype") ?? "").toUpperCase();
    const role = String(prop.getParameter("role") ?? "").toUpperCase();
    return cu === "RESOURCE" || cu === "ROOM" ? "resources" : role === "OPT-PARTICIPANT" || role === "NON-PARTICIPANT" ? "optional" : "required";
  };
  const existing = new Map<string, ICAL.Property>();
  for (const prop of comp.getAllProperties("attendee")) existing.set(stripMailto(String(prop.getFirstValue() ?? "")), prop);
  for (const cat of ["required", "optional", "resources"] as const) {
    const list = p[cat];
    if (list === undefined) continue;
    for (const prop of comp.getAllProperties("attendee")) if (categoryOf(prop) === cat) comp.removeProperty(prop);
    for (const a of list ?? []) {
      const old = existing.get(a.email);
      const prop = new ICAL.Property("attendee", comp);
      prop.setValue(`mailto:${a.email}`);
      if (a.name) prop.setParameter("cn", a.name);
      else if (old?.getParameter("cn")) prop.setParameter("cn", String(old.getParameter("cn")));
      prop.setParameter("role", cat === "optional" ? "OPT-PARTICIPANT" : "REQ-PARTICIPANT");
      if (cat === "resources") prop.setParameter("cutype", "RESOURCE");
      prop.setParameter("partstat", String(old?.getParameter("partstat") ?? "NEEDS-ACTION"));
      prop.setParameter("rsvp", p.responseRequested === false ? "FALSE" : "TRUE");
      comp.addProperty(prop);
    }
  }
  if (p.responseRequested !== undefined) for (const prop of comp.getAllProperties("attendee")) prop.setParameter("rsvp", p.responseRequested ? "TRUE" : "FALSE");
  const org = comp.getFirstProperty("organizer");
  const others = comp.getAllProperties("attendee").filter((a) => stripMailto(String(a.getFirstValue() ?? "")) !== c.account.email.toLowerCase());
  if (!others.length) {
    // No one invited any more: an appointment again (RFC 5545 §3.8.4.3 ORGANIZER only with attendees).
    for (const a of comp.getAllProperties("attendee")) comp.removeProperty(a);
    if (org && stripMailto(String(org.getFirstValue() ?? "")) === c.account.email.toLowerCase()) comp.removeProperty(org);
    return;
  }
  ensureOrganizer(comp, c.account);
}

/** A new event object from a CreateItem patch. */
export function newEvent(c: EwsContext, p: Patch): { root: ICAL.Component; comp: ICAL.Component; uid: string } {
  if (!p.start) throw new EwsError("ErrorInvalidRequest", "A calendar item needs a Start.");
  const root = new ICAL.Component("vcalendar");
  root.addPropertyWithValue("version", "2.0");
  root.addPropertyWithValue("prodid", PRODID);
  const comp = new ICAL.Component("vevent");
  const uid = p.uid ?? randomUUID();
  comp.addPropertyWithValue("uid", uid);
  const now = ICAL.Time.fromJSDate(new Date(Math.floor(c.now() / 1000) * 1000), true);
  comp.addPropertyWithValue("dtstamp", now);
  comp.addPropertyWithValue("created", now.clone());
  comp.addPropertyWithValue("sequence", 0);
  root.addSubcomponent(comp);
  if (p.reminderSet === undefined) p.reminderSet = p.reminderMinutes !== undefined;
  applyPatch(c, root, comp, p, { master: true });
  return { root, comp, uid };
}

/** Marks a change: DTSTAMP and LAST-MODIFIED now, SEQUENCE + 1 when the organizer changes a meeting's time or recurrence (RFC 5546 §2.1.4). */
export function stamp(c: EwsContext, comp: ICAL.Component, p: Patch): void {
  const now = ICAL.Time.fromJSDate(new Date(Math.floor(c.now() / 1000) * 1000), true);
  comp.updatePropertyWithValue("dtstamp", now);
  comp.updatePropertyWithValue("last-modified", now.clone());
  if (p.start || p.end || p.allDay !== undefined || p.recurrence !== undefined || p.location !== undefined) {
    const seq = Number(comp.getFirstPropertyValue("sequence") ?? 0) || 0;
    comp.updatePropertyWithValue("sequence", seq + 1);
  }
}

/**
 * The event of a MimeContent (an iCalendar object, as DavMail sends it): its
 * METHOD dropped (an iTIP method does not belong in a stored object, RFC 4791
 * §4.1), its UID forced to `uid` when the item exists already. Checked by the
 * groupware parser: what it refuses is ErrorInvalidRequest here.
 */
export function eventFromMime(text: string, uid: string | null): ICAL.Component {
  let obj;
  try {
    obj = parseCalendarObject(text);
  } catch (e) {
    throw new EwsError("ErrorInvalidRequest", `MimeContent is not a usable iCalendar event: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (obj.kind !== "VEVENT") throw new EwsError("ErrorInvalidRequest", "MimeContent of a calendar item holds a VEVENT.");
  const root = obj.root;
  root.removeAllProperties("method");
  if (uid !== null) for (const v of root.getAllSubcomponents("vevent")) v.updatePropertyWithValue("uid", uid);
  return root;
}

/** The master event of an object (the one without RECURRENCE-ID), or its first event. */
export function masterOf(root: ICAL.Component): ICAL.Component {
  const m = root.getAllSubcomponents("vevent").find((v) => !v.getFirstProperty("recurrence-id")) ?? root.getFirstSubcomponent("vevent");
  if (!m) throw new EwsError("ErrorInvalidRequest", "The calendar item has no event.");
  return m;
}
