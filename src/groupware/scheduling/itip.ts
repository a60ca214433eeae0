/**
 * iTIP (RFC 5546) on parsed iCalendar trees: who the organizer and the
 * attendees are, what changed between two versions of an event, and the
 * REQUEST / REPLY / CANCEL objects generated from a stored event.
 *
 * Pure functions over ical.js components: no I/O, so the organizer and
 * attendee decisions are unit-tested directly (tests/groupware/itip-*.test.ts).
 * Generated objects are serialised with the ical helper's `serialize`; stored
 * client objects are never re-serialised except where this module edits them
 * (an attendee's PARTSTAT from a REPLY, a CANCEL's STATUS).
 */
import ICAL from "ical.js";
import { icalUtc, vtimezoneFor } from "../ical/index.ts";

/** The scheduling components of an object (RFC 5546 §1.3: VEVENT and VTODO here). */
export const SCHEDULING_COMPONENTS = ["vevent", "vtodo"] as const;

export const PRODID = "-//Pillarbox//Groupware//EN";

/** A calendar user address as compared everywhere: "mailto:" stripped, lower case (RFC 6638 §2.4.1 compares them case-insensitively). */
export function calAddress(value: unknown): string {
  const s = typeof value === "string" ? value.trim() : "";
  return s.replace(/^mailto:/i, "").trim().toLowerCase();
}

/** VEVENT/VTODO children of a VCALENDAR. */
export function schedulingComponents(root: ICAL.Component): ICAL.Component[] {
  return root.getAllSubcomponents().filter((c) => (SCHEDULING_COMPONENTS as readonly string[]).includes(c.name));
}

/** "" for the master (no RECURRENCE-ID), else the RECURRENCE-ID as a UTC (or floating/date) string: the key of one instance. */
export function instanceKey(comp: ICAL.Component): string {
  const p = comp.getFirstProperty("recurrence-id");
  if (!p) return "";
  const v = p.getFirstValue();
  if (v instanceof ICAL.Time) {
    if (v.isDate) return v.toString();
    // A zone the object does not define converts as floating: still a stable key within one object.
    try {
      return v.zone && v.zone !== ICAL.Timezone.localTimezone ? v.convertToZone(ICAL.Timezone.utcTimezone).toICALString() : v.toICALString();
    } catch {
      return v.toICALString();
    }
  }
  return String(v ?? "");
}

export function organizerOf(root: ICAL.Component): string | null {
  for (const c of schedulingComponents(root)) {
    const v = c.getFirstPropertyValue("organizer");
    if (typeof v === "string" && calAddress(v)) return calAddress(v);
  }
  return null;
}

/** SCHEDULE-AGENT of a property (RFC 6638 §7.1), upper case, default SERVER. */
export function scheduleAgent(p: ICAL.Property): string {
  const a = p.getFirstParameter("schedule-agent");
  return typeof a === "string" && a ? a.toUpperCase() : "SERVER";
}

export interface AttendeeLine {
  address: string;
  partstat: string;
  scheduleAgent: string;
  name: string;
}

/** Attendees of one component, by address (the first line of an address wins). */
export function attendeesOfComponent(comp: ICAL.Component): Map<string, AttendeeLine> {
  const out = new Map<string, AttendeeLine>();
  for (const p of comp.getAllProperties("attendee")) {
    const address = calAddress(p.getFirstValue());
    if (!address || out.has(address)) continue;
    const ps = p.getFirstParameter("partstat");
    const cn = p.getFirstParameter("cn");
    out.set(address, { address, partstat: typeof ps === "string" && ps ? ps.toUpperCase() : "NEEDS-ACTION", scheduleAgent: scheduleAgent(p), name: typeof cn === "string" ? cn : "" });
  }
  return out;
}

/**
 * Attendees the server schedules for (RFC 6638 §3.2: SCHEDULE-AGENT=SERVER,
 * the default), over every component, without the organizer (who is often
 * listed as an attendee too): address -> display name.
 */
export function serverAttendees(root: ICAL.Component): Map<string, string> {
  const organizer = organizerOf(root);
  const out = new Map<string, string>();
  for (const c of schedulingComponents(root)) {
    for (const a of attendeesOfComponent(c).values()) {
      if (a.scheduleAgent !== "SERVER" || a.address === organizer || out.has(a.address)) continue;
      out.set(a.address, a.name);
    }
  }
  return out;
}

/** The SCHEDULE-AGENT of the ORGANIZER property: an attendee's server replies only when it is SERVER (RFC 6638 §3.2.2). */
export function organizerAgent(root: ICAL.Component): string {
  for (const c of schedulingComponents(root)) {
    const p = c.getFirstProperty("organizer");
    if (p) return scheduleAgent(p);
  }
  return "SERVER";
}

export function isCancelled(root: ICAL.Component): boolean {
  const comps = schedulingComponents(root);
  const master = comps.find((c) => instanceKey(c) === "") ?? comps[0];
  return String(master?.getFirstPropertyValue("status") ?? "").toUpperCase() === "CANCELLED";
}

export function sequenceOf(root: ICAL.Component): number {
  let max = 0;
  for (const c of schedulingComponents(root)) {
    const v = Number(c.getFirstPropertyValue("sequence") ?? 0);
    if (Number.isFinite(v) && v > max) max = v;
  }
  return max;
}

// RFC 5546 §2.1.4 / RFC 6638 §3.2.1: what makes an update a reschedule the attendees must hear about.
const SIGNIFICANT = ["dtstart", "dtend", "duration", "due", "rrule", "rdate", "exdate", "location", "summary", "status"];

function fingerprint(comp: ICAL.Component): string {
  const parts: string[] = [];
  for (const name of SIGNIFICANT) {
    const vals = comp.getAllProperties(name).map((p) => p.toICALString()).sort();
    parts.push(`${name}=${vals.join("|")}`);
  }
  return parts.join("\n");
}

/**
 * True when the organizer's edit changed what attendees agreed to: times,
 * recurrence, location, summary or status of any instance, an instance
 * overridden or no longer overridden, or a SEQUENCE the client raised.
 * A PARTSTAT refresh or an edited description is not (no resend).
 */
export function significantChange(before: ICAL.Component, after: ICAL.Component): boolean {
  if (sequenceOf(after) > sequenceOf(before)) return true;
  const map = (root: ICAL.Component) => new Map(schedulingComponents(root).map((c) => [instanceKey(c), fingerprint(c)]));
  const a = map(before);
  const b = map(after);
  if (a.size !== b.size) return true;
  for (const [k, v] of a) if (b.get(k) !== v) return true;
  return false;
}

/**
 * PARTSTATs of `addresses` (one attendee, possibly under several aliases) per
 * instance key: what the attendee said for the master and each override.
 */
export function partstatsOf(root: ICAL.Component, addresses: ReadonlySet<string>): Map<string, { address: string; partstat: string }> {
  const out = new Map<string, { address: string; partstat: string }>();
  for (const c of schedulingComponents(root)) {
    for (const a of attendeesOfComponent(c).values()) {
      if (addresses.has(a.address)) {
        out.set(instanceKey(c), { address: a.address, partstat: a.partstat });
        break;
      }
    }
  }
  return out;
}

// ------------------------------------------------------------------ generation

function newCalendar(method: string): ICAL.Component {
  const cal = new ICAL.Component("vcalendar");
  cal.addPropertyWithValue("prodid", PRODID);
  cal.addPropertyWithValue("version", "2.0");
  cal.addPropertyWithValue("method", method);
  return cal;
}

/** TZIDs referenced by the properties of a component (and its subcomponents). */
function tzidsOf(comp: ICAL.Component, out = new Set<string>()): Set<string> {
  for (const p of comp.getAllProperties()) {
    const tz = p.getFirstParameter("tzid");
    if (typeof tz === "string" && tz) out.add(tz);
  }
  for (const c of comp.getAllSubcomponents()) tzidsOf(c, out);
  return out;
}

/** Copies the VTIMEZONEs of `from` that the components of `to` use (RFC 5545 §3.6.5: each TZID used needs its VTIMEZONE). */
function copyTimezones(from: ICAL.Component, to: ICAL.Component): void {
  const used = new Set<string>();
  for (const c of to.getAllSubcomponents()) tzidsOf(c, used);
  const zones = from.getAllSubcomponents("vtimezone").filter((z) => used.has(String(z.getFirstPropertyValue("tzid") ?? "")));
  // A TZID the object names without defining it (an IANA name; clients may rely on the server
  // knowing it, RFC 7809) gets its definition: the receiver of an iTIP message may not know it.
  for (const tzid of used) {
    if (zones.some((z) => String(z.getFirstPropertyValue("tzid") ?? "") === tzid)) continue;
    const text = vtimezoneFor(tzid);
    if (!text) continue;
    try {
      const parsed = ICAL.Component.fromString(text);
      const z = parsed.name === "vtimezone" ? parsed : parsed.getFirstSubcomponent("vtimezone");
      if (z) zones.push(z);
    } catch {
      // an unusable definition is left out, as the object had none
    }
  }
  // VTIMEZONEs go first, as most writers put them (some readers want zones defined before use).
  // A copy: ical.js hands out its own child list, which removeAllSubcomponents empties.
  const comps = [...to.getAllSubcomponents()].map(clone);
  to.removeAllSubcomponents();
  for (const z of zones) to.addSubcomponent(new ICAL.Component(ICAL.helpers.clone(z.toJSON(), true) as unknown[]));
  for (const c of comps) to.addSubcomponent(c);
}

function clone(comp: ICAL.Component): ICAL.Component {
  return new ICAL.Component(ICAL.helpers.clone(comp.toJSON(), true) as unknown[]);
}

/** Removes the parameters only the organizer's server uses (RFC 6638 §3.2.9/§7: SCHEDULE-STATUS, SCHEDULE-FORCE-SEND are not sent on). */
function stripServerParams(comp: ICAL.Component): void {
  for (const name of ["attendee", "organizer"]) {
    for (const p of comp.getAllProperties(name)) {
      p.removeParameter("schedule-status");
      p.removeParameter("schedule-force-send");
      // One attendee's note to the organizer (incoming.ts applyReply) is not shown to the others.
      p.removeParameter("x-response-comment");
    }
  }
}

function setDtstamp(comp: ICAL.Component, now: number): void {
  comp.removeAllProperties("dtstamp");
  comp.addProperty(ICAL.Property.fromString(`DTSTAMP:${icalUtc(now)}`));
}

/**
 * METHOD:REQUEST (RFC 5546 §3.2.2): the whole object, master and overrides,
 * with its VTIMEZONEs and a fresh DTSTAMP.
 */
export function buildRequest(root: ICAL.Component, now: number): ICAL.Component {
  const cal = newCalendar("REQUEST");
  for (const c of schedulingComponents(root)) {
    const copy = clone(c);
    stripServerParams(copy);
    setDtstamp(copy, now);
    cal.addSubcomponent(copy);
  }
  copyTimezones(root, cal);
  return cal;
}

// RFC 5546 §3.2.5 (CANCEL) and §3.2.3 (REPLY) list what these carry; DTSTART/DTEND/SUMMARY/LOCATION
// are allowed and let Outlook, Gmail and Apple Calendar show which meeting it is.
const CANCEL_KEEP = ["uid", "organizer", "sequence", "recurrence-id", "dtstart", "dtend", "duration", "due", "summary", "location", "rrule", "rdate", "exdate"];
// A REPLY also carries the attendee's COMMENT (§3.2.3 allows it; answer.ts stores the note there).
const REPLY_KEEP = ["uid", "organizer", "sequence", "recurrence-id", "dtstart", "dtend", "duration", "due", "summary", "location", "rrule", "rdate", "exdate", "comment"];

function reduced(comp: ICAL.Component, keep: readonly string[]): ICAL.Component {
  const out = new ICAL.Component(comp.name);
  for (const p of comp.getAllProperties()) {
    if (keep.includes(p.name)) out.addProperty(ICAL.Property.fromString(p.toICALString()));
  }
  stripServerParams(out);
  return out;
}

/**
 * METHOD:CANCEL for `recipients` (RFC 5546 §3.2.5): each component (the
 * whole event, or only the instances given by `instanceKeys`) with
 * STATUS:CANCELLED and the recipients' ATTENDEE lines.
 */
export function buildCancel(root: ICAL.Component, recipients: ReadonlySet<string>, now: number, instanceKeys?: ReadonlySet<string>): ICAL.Component {
  const cal = newCalendar("CANCEL");
  for (const c of schedulingComponents(root)) {
    const key = instanceKey(c);
    if (instanceKeys && !instanceKeys.has(key)) continue;
    // Cancelling the whole event: the master carries it (overrides of a cancelled series go with it).
    if (!instanceKeys && key !== "" && schedulingComponents(root).some((x) => instanceKey(x) === "")) continue;
    const out = reduced(c, CANCEL_KEEP);
    for (const p of c.getAllProperties("attendee")) {
      if (recipients.has(calAddress(p.getFirstValue()))) {
        const a = ICAL.Property.fromString(p.toICALString());
        a.removeParameter("schedule-status");
        a.removeParameter("schedule-force-send");
        out.addProperty(a);
      }
    }
    out.addPropertyWithValue("status", "CANCELLED");
    setDtstamp(out, now);
    cal.addSubcomponent(out);
  }
  copyTimezones(root, cal);
  return cal;
}

/**
 * METHOD:REPLY (RFC 5546 §3.2.3) from one attendee: for each instance key
 * given ("" = master), the component with only that attendee's ATTENDEE
 * line, its PARTSTAT set to `partstat` when given (a deletion declines).
 */
export function buildReply(root: ICAL.Component, attendee: string, keys: ReadonlySet<string>, now: number, partstat?: string): ICAL.Component {
  const cal = newCalendar("REPLY");
  for (const c of schedulingComponents(root)) {
    if (!keys.has(instanceKey(c))) continue;
    const out = reduced(c, REPLY_KEEP);
    const line = c.getAllProperties("attendee").find((p) => calAddress(p.getFirstValue()) === attendee);
    const a = line ? ICAL.Property.fromString(line.toICALString()) : ICAL.Property.fromString(`ATTENDEE:mailto:${attendee}`);
    a.removeParameter("schedule-status");
    a.removeParameter("schedule-force-send");
    a.removeParameter("rsvp");
    if (partstat) a.setParameter("partstat", partstat);
    out.addProperty(a);
    // RFC 5546 §3.2.3: REQUEST-STATUS of a reply: 2.0 success.
    out.addProperty(ICAL.Property.fromString("REQUEST-STATUS:2.0;Success"));
    setDtstamp(out, now);
    cal.addSubcomponent(out);
  }
  copyTimezones(root, cal);
  return cal;
}

/** The iTIP body of a stored attendee copy: the REQUEST's components without METHOD (RFC 4791 §4.1 forbids METHOD in a calendar resource). */
export function storableCopy(itip: ICAL.Component): ICAL.Component {
  const cal = clone(itip);
  cal.removeAllProperties("method");
  return cal;
}
