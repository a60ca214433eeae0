/**
 * A stored calendar object (the whole VCALENDAR of one UID: master and
 * overrides, RFC 4791 §4.1) ⇄ the editor's EventData. `mergeEvent` writes
 * the shape onto the stored component and keeps everything it does not
 * describe: X- properties, ATTACH, parameters of unchanged properties, and
 * VALARMs when the reminders did not change.
 */
import ICAL from "ical.js";
import { timeProp } from "../ical/spans.ts";
import { floatingZone, ianaName, timeToMs } from "../ical/zones.ts";
import { MAX_ATTENDEES } from "../ical/errors.ts";
import { significantChange } from "../scheduling/itip.ts";
import type { AttendeeRole, EventAttendee, EventData, EventPerson, Partstat } from "./types.ts";
import { applyRecurrence, checkRecurrence, isOccurrence, ruleFromComponent, type StartForm } from "./recurrence.ts";
import {
  categoriesOf, checkCategories, checkReminders, checkText, clone, ensureTimezones, masterOf, newCalendar, recurrenceIdOf,
  remindersOf, setCategories, setReminders, setText, stamp, text,
} from "./component.ts";
import {
  ModelError, addDays, checkZone, formatDate, formatWall, icalTime, parseDate, parseWall, partsOfTime, wallAsUtc, wallOf, wallToMs, zoneOf,
} from "./time.ts";

const PARTSTATS: readonly Partstat[] = ["NEEDS-ACTION", "ACCEPTED", "TENTATIVE", "DECLINED", "DELEGATED"];
const ROLES: readonly AttendeeRole[] = ["REQ-PARTICIPANT", "OPT-PARTICIPANT", "NON-PARTICIPANT", "CHAIR"];
const ADDRESS_RE = /^[^\s@<>()",;:\\]{1,64}@[A-Za-z0-9.-]{1,253}$/;

/** The times of a component in the model's form. */
export interface Times {
  allDay: boolean;
  /** IANA zone, "" for floating/all-day. */
  timeZone: string;
  start: string;
  end: string;
  startMs: number;
  endMs: number;
}

function addr(v: unknown): string {
  return (typeof v === "string" ? v : "").trim().replace(/^mailto:/i, "").trim().toLowerCase();
}

function param(p: ICAL.Property, name: string): string {
  const v = p.getParameter(name);
  return typeof v === "string" ? v : Array.isArray(v) && typeof v[0] === "string" ? v[0] : "";
}

/** The zone a DTSTART/DTEND names: its IANA name, "UTC", "" for floating/date, null when it is a zone we cannot name. */
function zoneNameOf(t: ICAL.Time): string | null {
  if (t.isDate) return "";
  const z = t.zone;
  if (!z || z === ICAL.Timezone.localTimezone || z.tzid === "floating") return "";
  if (z === ICAL.Timezone.utcTimezone || z.tzid === "UTC") return "UTC";
  return ianaName(z.tzid);
}

/** Start and end of a VEVENT in the model's form; `userZone` is where UTC and unknown-zone times are shown. */
export function timesOf(comp: ICAL.Component, userZone: string): Times {
  const floating = floatingZone(userZone);
  const s = timeProp(comp, "dtstart");
  if (!s) throw new ModelError("the event has no start (DTSTART)");
  const startMs = timeToMs(s, floating);
  const e = timeProp(comp, "dtend");
  let endMs: number;
  let endT: ICAL.Time | null = e;
  if (!e) {
    const d = comp.getFirstPropertyValue("duration");
    if (d instanceof ICAL.Duration && !d.isNegative) {
      endT = s.clone();
      endT.addDuration(d);
    } else if (s.isDate) {
      endT = s.clone();
      endT.addDuration(new ICAL.Duration({ days: 1 }));
    }
  }
  endMs = endT ? Math.max(startMs, timeToMs(endT, floating)) : startMs;
  if (s.isDate) {
    let end = endT && endT.isDate ? formatDate(endT) : formatDate(addDays(s, 1));
    if (end <= formatDate(s)) end = formatDate(addDays(s, 1));
    return { allDay: true, timeZone: "", start: formatDate(s), end, startMs, endMs };
  }
  const zn = zoneNameOf(s);
  if (zn === "") {
    const end = endT && !endT.isDate && zoneNameOf(endT) === "" ? formatWall(partsOfTime(endT)) : formatWall(wallOf(endMs, floating));
    return { allDay: false, timeZone: "", start: formatWall(partsOfTime(s)), end, startMs, endMs };
  }
  // A named IANA zone stays the event's zone; UTC and zones we cannot name are shown in the user's.
  const name = zn && zn !== "UTC" ? zn : userZone || "UTC";
  const zone = zoneOf(name);
  return { allDay: false, timeZone: name, start: formatWall(wallOf(startMs, zone)), end: formatWall(wallOf(endMs, zone)), startMs, endMs };
}

function attendeesOf(comp: ICAL.Component, mine: ReadonlySet<string>): EventAttendee[] {
  const out: EventAttendee[] = [];
  const seen = new Set<string>();
  const ownComment = text(comp, "comment");
  for (const p of comp.getAllProperties("attendee")) {
    const address = addr(p.getFirstValue());
    if (!address || seen.has(address)) continue;
    seen.add(address);
    const ps = param(p, "partstat").toUpperCase();
    const role = param(p, "role").toUpperCase();
    out.push({
      address,
      name: param(p, "cn"),
      partstat: (PARTSTATS as readonly string[]).includes(ps) ? (ps as Partstat) : "NEEDS-ACTION",
      role: (ROLES as readonly string[]).includes(role) ? (role as AttendeeRole) : "REQ-PARTICIPANT",
      rsvp: param(p, "rsvp").toUpperCase() === "TRUE",
      comment: param(p, "x-response-comment") || (mine.has(address) ? ownComment : ""),
    });
  }
  return out;
}

function organizerOfComp(comp: ICAL.Component): EventPerson | null {
  const p = comp.getFirstProperty("organizer");
  const address = p ? addr(p.getFirstValue()) : "";
  return p && address ? { address, name: param(p, "cn") } : null;
}

function privacyOf(comp: ICAL.Component): EventData["privacy"] {
  const c = text(comp, "class").toUpperCase();
  return c === "PRIVATE" || c === "CONFIDENTIAL" ? c : "PUBLIC";
}

function statusOf(comp: ICAL.Component): EventData["status"] {
  const s = text(comp, "status").toUpperCase();
  return s === "CONFIRMED" || s === "TENTATIVE" || s === "CANCELLED" ? s : "";
}

/** The form DTSTART is written in, for RRULE UNTIL. */
export function startForm(comp: ICAL.Component, userZone: string): StartForm {
  const s = timeProp(comp, "dtstart");
  const floating = floatingZone(userZone);
  if (!s || s.isDate) return { date: true, zone: null, floating };
  const z = s.zone;
  if (!z || z === ICAL.Timezone.localTimezone || z.tzid === "floating") return { date: false, zone: null, floating };
  return { date: false, zone: z, floating };
}

/** Reads one component (master or override) as EventData. */
export function eventFromComponent(comp: ICAL.Component, userZone: string, mine: ReadonlySet<string> = new Set()): EventData {
  const t = timesOf(comp, userZone);
  const isMaster = !comp.hasProperty("recurrence-id");
  const seq = Number(comp.getFirstPropertyValue("sequence") ?? 0);
  return {
    uid: text(comp, "uid"),
    title: text(comp, "summary"),
    location: text(comp, "location"),
    description: text(comp, "description"),
    start: t.start,
    end: t.end,
    timeZone: t.timeZone,
    allDay: t.allDay,
    showAs: text(comp, "transp").toUpperCase() === "TRANSPARENT" ? "free" : "busy",
    status: statusOf(comp),
    privacy: privacyOf(comp),
    categories: categoriesOf(comp),
    reminders: remindersOf(comp),
    recurrence: isMaster ? ruleFromComponent(comp, startForm(comp, userZone)) : null,
    organizer: organizerOfComp(comp),
    attendees: attendeesOf(comp, mine),
    sequence: Number.isSafeInteger(seq) && seq >= 0 ? seq : 0,
    recurrenceId: isMaster ? null : recurrenceIdOf(comp, floatingZone(userZone)),
  };
}

/**
 * The event of a stored object: the master (recurrenceId null), or one
 * occurrence — its override when there is one, else the master moved to the
 * occurrence's time.
 */
export function eventFromObject(root: ICAL.Component, recurrenceId: number | null, userZone: string, mine: ReadonlySet<string> = new Set()): EventData {
  const comps = root.getAllSubcomponents("vevent");
  if (!comps.length) throw new ModelError("the object holds no event");
  const floating = floatingZone(userZone);
  const master = masterOf(root, "vevent");
  if (recurrenceId === null) return eventFromComponent(master ?? comps[0]!, userZone, mine);
  const own = comps.find((c) => recurrenceIdOf(c, floating) === recurrenceId);
  if (own) return eventFromComponent(own, userZone, mine);
  if (!master || !isOccurrence(master, recurrenceId, floating)) throw new ModelError("the event has no occurrence at that time");
  const data = eventFromComponent(master, userZone, mine);
  const t = timesOf(master, userZone);
  const length = t.endMs - t.startMs;
  if (data.allDay) {
    const day = wallOf(recurrenceId, floating);
    const days = Math.max(1, Math.round((wallAsUtc(parseDate(t.end)) - wallAsUtc(parseDate(t.start))) / 86_400_000));
    data.start = formatDate(day);
    data.end = formatDate(addDays(day, days));
  } else {
    const zone = data.timeZone ? zoneOf(data.timeZone) : floating;
    data.start = formatWall(wallOf(recurrenceId, zone));
    data.end = formatWall(wallOf(recurrenceId + length, zone));
  }
  data.recurrence = null;
  data.recurrenceId = recurrenceId;
  return data;
}

// ---------------------------------------------------------------- input

function checkPerson(v: unknown, what: string): EventPerson {
  if (!v || typeof v !== "object") throw new ModelError(`${what} is not a person`);
  const o = v as Record<string, unknown>;
  const address = addr(o.address);
  if (!ADDRESS_RE.test(address)) throw new ModelError(`${what}: "${String(o.address ?? "").slice(0, 80)}" is not an email address`);
  return { address, name: checkText(o.name, `the name of ${address}`, 200) };
}

/** Checks an EventData from a client: types, lengths, dates, zone, recurrence (ModelError in words). */
export function checkEventData(v: unknown): EventData {
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new ModelError("the event is missing");
  const o = v as Record<string, unknown>;
  const allDay = o.allDay === true;
  const timeZone = allDay ? "" : checkZone(o.timeZone ?? "");
  let start: string;
  let end: string;
  if (allDay) {
    const s = parseDate(o.start, "the start");
    const e = o.end === undefined || o.end === "" ? addDays(s, 1) : parseDate(o.end, "the end");
    start = formatDate(s);
    end = formatDate(e);
    if (end <= start) throw new ModelError("an all-day event ends on a later day than it starts (the end is the day after the last day)");
    if (wallAsUtc(e) - wallAsUtc(s) > 3660 * 86_400_000) throw new ModelError("an event lasts at most ten years");
  } else {
    const s = parseWall(o.start, "the start");
    const e = parseWall(o.end ?? o.start, "the end");
    start = formatWall(s);
    end = formatWall(e);
    if (wallAsUtc(e) < wallAsUtc(s)) throw new ModelError("the event ends before it starts");
    if (wallAsUtc(e) - wallAsUtc(s) > 3660 * 86_400_000) throw new ModelError("an event lasts at most ten years");
  }
  const showAs = o.showAs === "free" ? "free" : "busy";
  const status = o.status === "CONFIRMED" || o.status === "TENTATIVE" || o.status === "CANCELLED" ? o.status : "";
  const privacy = o.privacy === "PRIVATE" || o.privacy === "CONFIDENTIAL" ? o.privacy : "PUBLIC";
  const attendeesRaw = o.attendees ?? [];
  if (!Array.isArray(attendeesRaw) || attendeesRaw.length > MAX_ATTENDEES) throw new ModelError(`a meeting has at most ${MAX_ATTENDEES} attendees`);
  const attendees: EventAttendee[] = [];
  for (const a of attendeesRaw) {
    const p = checkPerson(a, "an attendee");
    if (attendees.some((x) => x.address === p.address)) continue;
    const r = (a as Record<string, unknown>).role;
    const ps = (a as Record<string, unknown>).partstat;
    attendees.push({
      ...p,
      role: typeof r === "string" && (ROLES as readonly string[]).includes(r) ? (r as AttendeeRole) : "REQ-PARTICIPANT",
      partstat: typeof ps === "string" && (PARTSTATS as readonly string[]).includes(ps) ? (ps as Partstat) : "NEEDS-ACTION",
      rsvp: (a as Record<string, unknown>).rsvp !== false,
      comment: "",
    });
  }
  const recurrence = checkRecurrence(o.recurrence);
  if (recurrence && recurrence.until !== null && recurrence.until < start.slice(0, 10)) throw new ModelError("the recurrence ends before the event starts");
  const uid = o.uid === undefined || o.uid === "" ? "" : checkText(o.uid, "the UID", 255);
  const rid = o.recurrenceId;
  if (rid !== undefined && rid !== null && !Number.isSafeInteger(rid)) throw new ModelError("recurrenceId is a time in milliseconds");
  return {
    uid,
    title: checkText(o.title, "the title", 1000),
    location: checkText(o.location, "the location", 1000),
    description: checkText(o.description, "the description", 100_000, true),
    start,
    end,
    timeZone,
    allDay,
    showAs,
    status,
    privacy,
    categories: checkCategories(o.categories),
    reminders: checkReminders(o.reminders),
    recurrence,
    organizer: o.organizer ? checkPerson(o.organizer, "the organizer") : null,
    attendees,
    sequence: 0,
    recurrenceId: typeof rid === "number" ? rid : null,
  };
}

// ---------------------------------------------------------------- output

export interface MergeOptions {
  /** The user's zone (floating times, UNTIL of floating events). */
  userZone: string;
  /** The writing user: becomes ORGANIZER when they add attendees to an event without one. */
  user: EventPerson;
  /** The user's own addresses (lower case). */
  mine: ReadonlySet<string>;
  now?: number;
}

/** Writes DTSTART/DTEND of the shape; unchanged times keep their properties. Returns the StartForm written. */
export function writeTimes(comp: ICAL.Component, data: Pick<EventData, "start" | "end" | "allDay" | "timeZone">, userZone: string): StartForm {
  const cur = comp.hasProperty("dtstart") ? (() => { try { return timesOf(comp, userZone); } catch { return null; } })() : null;
  const same = cur && cur.allDay === data.allDay && cur.start === data.start && cur.end === data.end && (data.allDay || cur.timeZone === data.timeZone);
  if (!same) {
    comp.removeAllProperties("dtstart");
    comp.removeAllProperties("dtend");
    comp.removeAllProperties("duration");
    if (data.allDay) {
      comp.addProperty(dateProp("dtstart", data.start));
      comp.addProperty(dateProp("dtend", data.end));
    } else {
      comp.addProperty(wallProp("dtstart", data.start, data.timeZone));
      comp.addProperty(wallProp("dtend", data.end, data.timeZone));
    }
  }
  return startForm(comp, userZone);
}

function dateProp(name: string, date: string): ICAL.Property {
  const p = new ICAL.Property(name);
  p.resetType("date");
  p.setValue(icalTime(parseDate(date), { date: true }));
  return p;
}

function wallProp(name: string, wall: string, zone: string): ICAL.Property {
  const parts = parseWall(wall);
  const p = new ICAL.Property(name);
  const z = zone ? zoneOf(zone) : null;
  if (zone && z && z !== ICAL.Timezone.utcTimezone) {
    // The value carries its zone (later reads in this request see it) and the text its TZID; a time in a DST gap moves forward.
    p.setValue(icalTime(wallOf(wallToMs(parts, z), z), { date: false, zone: z }));
    p.setParameter("tzid", zone);
  } else if (z === ICAL.Timezone.utcTimezone) {
    p.setValue(ICAL.Time.fromJSDate(new Date(wallAsUtc(parts)), true));
  } else p.setValue(icalTime(parts, { date: false, zone: null }));
  return p;
}

/** Merges attendees by address: kept lines keep their parameters (and the PARTSTAT the attendee gave); new ones need an answer. */
function writeAttendees(comp: ICAL.Component, list: EventAttendee[]): void {
  const existing = new Map<string, ICAL.Property>();
  for (const p of comp.getAllProperties("attendee")) existing.set(addr(p.getFirstValue()), p);
  const want = new Set(list.map((a) => a.address));
  for (const [address, p] of existing) if (!want.has(address)) comp.removeProperty(p);
  for (const a of list) {
    const p = existing.get(a.address);
    if (p) {
      if (a.name && param(p, "cn") !== a.name) p.setParameter("cn", a.name);
      if (param(p, "role").toUpperCase() !== a.role && !(a.role === "REQ-PARTICIPANT" && !param(p, "role"))) p.setParameter("role", a.role);
      continue;
    }
    const np = new ICAL.Property("attendee");
    np.setValue(`mailto:${a.address}`);
    if (a.name) np.setParameter("cn", a.name);
    np.setParameter("role", a.role);
    np.setParameter("partstat", "NEEDS-ACTION");
    if (a.rsvp) np.setParameter("rsvp", "TRUE");
    comp.addProperty(np);
  }
}

/** The organizer: the user when they add attendees to an event without one; removed with the last attendee when it was the user. */
function writeOrganizer(comp: ICAL.Component, attendees: EventAttendee[], user: EventPerson, mine: ReadonlySet<string>): void {
  const cur = organizerOfComp(comp);
  if (attendees.length && !cur) {
    const p = new ICAL.Property("organizer");
    p.setValue(`mailto:${user.address}`);
    if (user.name) p.setParameter("cn", user.name);
    comp.addProperty(p);
  } else if (!attendees.length && cur && mine.has(cur.address)) comp.removeAllProperties("organizer");
}

/** Writes the shape's fields (not the recurrence) onto one component. */
export function writeEventFields(comp: ICAL.Component, data: EventData, opts: MergeOptions): StartForm {
  setText(comp, "summary", data.title);
  setText(comp, "location", data.location);
  setText(comp, "description", data.description);
  const form = writeTimes(comp, data, opts.userZone);
  const transp = data.showAs === "free" ? "TRANSPARENT" : "OPAQUE";
  if (text(comp, "transp").toUpperCase() !== transp && !(transp === "OPAQUE" && !comp.hasProperty("transp"))) setText(comp, "transp", transp);
  if (text(comp, "status").toUpperCase() !== data.status) setText(comp, "status", data.status);
  if (privacyOf(comp) !== data.privacy) setText(comp, "class", data.privacy === "PUBLIC" ? "" : data.privacy);
  setCategories(comp, data.categories);
  setReminders(comp, data.reminders, data.title);
  writeAttendees(comp, data.attendees);
  writeOrganizer(comp, data.attendees, opts.user, opts.mine);
  return form;
}

/** Is the user the organizer of the object (or is it no meeting at all)? Then they may edit everything. */
export function userMayEdit(root: ICAL.Component, mine: ReadonlySet<string>): boolean {
  for (const c of root.getAllSubcomponents("vevent")) {
    const o = organizerOfComp(c);
    if (o && !mine.has(o.address) && c.getAllProperties("attendee").length) return false;
  }
  return true;
}

/**
 * RFC 5546 §2.1.4: the organizer raises SEQUENCE when a change is significant
 * (time, recurrence, location, summary, status). Done here for meetings, so
 * attendees' clients take the update; CalDAV clients do the same themselves.
 */
export function raiseSequence(before: ICAL.Component | null, after: ICAL.Component, touched: ICAL.Component[]): void {
  if (!before) return;
  const hasAttendees = after.getAllSubcomponents("vevent").some((c) => c.getAllProperties("attendee").length > 0);
  if (!hasAttendees || !significantChange(before, after)) return;
  let max = 0;
  for (const c of before.getAllSubcomponents("vevent")) max = Math.max(max, Number(c.getFirstPropertyValue("sequence") ?? 0) || 0);
  for (const c of touched) {
    const mine = Number(c.getFirstPropertyValue("sequence") ?? 0) || 0;
    if (mine <= max) c.updatePropertyWithValue("sequence", max + 1);
  }
}

/**
 * Writes `data` onto the master of `root` (a new object when null): the
 * whole event or series. Returns the new root (a copy; `root` is untouched)
 * and the master component.
 */
export function mergeEvent(root: ICAL.Component | null, data: EventData, opts: MergeOptions): { root: ICAL.Component; master: ICAL.Component } {
  const now = opts.now ?? Date.now();
  const out = root ? clone(root) : newCalendar();
  let master = masterOf(out, "vevent");
  if (!master) {
    if (root && root.getAllSubcomponents("vevent").length) throw new ModelError("this event has only single occurrences: edit one of them");
    master = new ICAL.Component("vevent");
    master.addPropertyWithValue("uid", data.uid || crypto.randomUUID());
    master.addPropertyWithValue("created", ICAL.Time.fromJSDate(new Date(Math.floor(now / 1000) * 1000), true));
    master.addPropertyWithValue("sequence", 0);
    out.addSubcomponent(master);
  }
  const form = writeEventFields(master, data, opts);
  applyRecurrence(master, data.recurrence, form);
  stamp(master, now);
  ensureTimezones(out);
  raiseSequence(root, out, [master]);
  return { root: out, master };
}

export { wallToMs };
