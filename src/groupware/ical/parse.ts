/**
 * Parsing calendar object resources (RFC 4791 §4.1) and iTIP messages
 * (RFC 5546) into CalendarObject: structure checks, then the indexed
 * fields the store keeps (storage/item-api.ts).
 */
import ICAL from "ical.js";
import type { CalendarFields, TaskFields } from "../../../storage/api.ts";
import { ICalError, MAX_ATTENDEES, MAX_COMPONENTS, MAX_ICAL_BYTES, MAX_RECURRENCE_DATES, MAX_RRULES, decodeBody } from "./errors.ts";
import { lastInstanceOf, layoutOf, type Layout } from "./expand.ts";
import type { Attendee, CalendarObject } from "./model.ts";
import { checkRules } from "./rules.ts";
import { isRecurringComp, timeProp } from "./spans.ts";
import { resolveZones, timeToMs } from "./zones.ts";
import { nestingFault } from "./nesting.ts";

const mkErr = (code: "INVALID_DATA" | "LIMIT", msg: string) => new ICalError(code, msg);

/** Text -> the VCALENDAR component, with the size and component-count limits. */
export function parseRoot(body: Uint8Array | string, warnings: string[]): ICAL.Component {
  const text = decodeBody(body, MAX_ICAL_BYTES, "the iCalendar object", warnings, mkErr);
  if (!/^\s*BEGIN:VCALENDAR\r?\n/i.test(text)) throw new ICalError("INVALID_DATA", "not iCalendar: the text must begin with BEGIN:VCALENDAR (RFC 5545 §3.4)");
  if (!/^END:VCALENDAR[ \t]*$/im.test(text)) throw new ICalError("INVALID_DATA", "not iCalendar: END:VCALENDAR is missing (truncated?)");
  const fault = nestingFault(text);
  if (fault) throw new ICalError("INVALID_DATA", `not valid iCalendar: ${fault}`);
  let begins = 0;
  for (const m of text.matchAll(/^BEGIN:/gim)) {
    void m;
    if (++begins > MAX_COMPONENTS + 1) throw new ICalError("LIMIT", `more than ${MAX_COMPONENTS} components in one iCalendar object`);
  }
  let jcal: unknown;
  try {
    jcal = ICAL.parse(text);
  } catch (e) {
    throw new ICalError("INVALID_DATA", `not valid iCalendar: ${(e as Error).message}`);
  }
  if (!Array.isArray(jcal) || jcal.length === 0) throw new ICalError("INVALID_DATA", "not valid iCalendar: no component");
  if (Array.isArray(jcal[0])) throw new ICalError("INVALID_DATA", "several top-level components: one VCALENDAR per resource (RFC 4791 §4.1)");
  const root = new ICAL.Component(jcal as unknown[]);
  if (root.name !== "vcalendar") throw new ICalError("INVALID_DATA", `not iCalendar: the top-level component is ${root.name.toUpperCase()}, not VCALENDAR`);
  return root;
}

function str(comp: ICAL.Component, name: string): string | null {
  const p = comp.getFirstProperty(name);
  if (!p) return null;
  const v = p.getFirstValue();
  return typeof v === "string" ? v : v === null || v === undefined ? null : String(v);
}

/** mailto:Alice@Example.org -> alice@example.org (RFC 6638 §3.1: calendar user addresses are URIs). */
export function stripMailto(v: string): string {
  return v.trim().replace(/^mailto:/i, "").trim().toLowerCase();
}

function param(p: ICAL.Property, name: string): string {
  const v = p.getParameter(name);
  return typeof v === "string" ? v : Array.isArray(v) && typeof v[0] === "string" ? v[0] : "";
}

export function attendeesOf(comp: ICAL.Component): Attendee[] {
  const out: Attendee[] = [];
  for (const p of comp.getAllProperties("attendee")) {
    const v = p.getFirstValue();
    if (typeof v !== "string") continue;
    out.push({
      address: stripMailto(v),
      name: param(p, "cn"),
      partstat: (param(p, "partstat") || "NEEDS-ACTION").toUpperCase(),
      role: (param(p, "role") || "REQ-PARTICIPANT").toUpperCase(),
      rsvp: param(p, "rsvp").toUpperCase() === "TRUE",
      scheduleAgent: (param(p, "schedule-agent") || "SERVER").toUpperCase(),
    });
  }
  return out;
}

function organizerOf(comp: ICAL.Component): string | null {
  const p = comp.getFirstProperty("organizer");
  const v = p ? p.getFirstValue() : null;
  return typeof v === "string" && v.trim() ? stripMailto(v) : null;
}

function intProp(comp: ICAL.Component, name: string, warnings: string[], min: number, max: number): number {
  const p = comp.getFirstProperty(name);
  if (!p) return 0;
  const v = p.getFirstValue();
  const n = typeof v === "number" ? v : Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    warnings.push(`${name.toUpperCase()} "${String(v).slice(0, 40)}" is not an integer from ${min} to ${max}: read as 0`);
    return 0;
  }
  return n;
}

function optUpper(comp: ICAL.Component, name: string): string | null {
  const v = str(comp, name);
  return v ? v.toUpperCase() : null;
}

/**
 * Builds a CalendarObject from a VCALENDAR holding components of one kind
 * and one UID (the caller checked that), reading every value ical.js
 * hydrates lazily so bad values fail here, not later in a query.
 */
function buildObject(root: ICAL.Component, kind: "vevent" | "vtodo", uid: string, method: string | null, warnings: string[], itip = false, stored = false): CalendarObject {
  resolveZones(root, warnings);
  const comps = root.getAllSubcomponents(kind);
  for (const c of comps) {
    if (c.getAllProperties("attendee").length > MAX_ATTENDEES) throw new ICalError("LIMIT", `more than ${MAX_ATTENDEES} attendees in one component`);
    if (c.getAllProperties("rrule").length > MAX_RRULES) throw new ICalError("LIMIT", `more than ${MAX_RRULES} RRULE properties in one component`);
    let dates = 0;
    for (const p of [...c.getAllProperties("rdate"), ...c.getAllProperties("exdate")]) dates += (p.jCal as unknown[]).length - 3;
    if (dates > MAX_RECURRENCE_DATES) throw new ICalError("LIMIT", `more than ${MAX_RECURRENCE_DATES} RDATE/EXDATE values in one component`);
    if (!stored) checkRules(c);
  }
  if (itip && kind === "vevent" && comps.some((c) => !c.hasProperty("dtstart"))) {
    // RFC 5546 §3.2: a REPLY, CANCEL or REFRESH may leave DTSTART out; such an object has no times to index.
    const main = comps.find((c) => !c.hasProperty("recurrence-id")) ?? comps[0]!;
    return { kind: "VEVENT", uid, method, sequence: intProp(main, "sequence", warnings, 0, 2 ** 31 - 1), organizer: organizerOf(main), attendees: attendeesOf(main), calendarFields: null, taskFields: null, root, warnings };
  }
  let layout: Layout;
  try {
    layout = layoutOf(root, kind, null, warnings);
  } catch (e) {
    if (e instanceof ICalError) throw e;
    throw new ICalError("INVALID_DATA", `cannot read the times of the ${kind.toUpperCase()}: ${(e as Error).message}`);
  }
  const main = layout.master ?? comps[0]!;
  const organizer = organizerOf(main);
  const sequence = intProp(main, "sequence", warnings, 0, 2 ** 31 - 1);
  const attendees = attendeesOf(main);
  let calendarFields: CalendarFields | null = null;
  let taskFields: TaskFields | null = null;
  const recurring = layout.master !== null && isRecurringComp(layout.master);
  try {
    if (kind === "vevent") {
      const span = layout.masterSpan ?? null;
      let dtStart: number;
      let dtEnd: number;
      let allDay: boolean;
      if (span) ({ start: dtStart, end: dtEnd, allDay } = span);
      else {
        // Only overridden instances (an attendee invited to some occurrences): cover them all.
        const spans = [...layout.overrides.values()].map((o) => o.span);
        dtStart = Math.min(...spans.map((s) => s.start));
        dtEnd = Math.max(...spans.map((s) => s.end));
        allDay = spans[0]!.allDay;
      }
      let lastInstance: number | null = null;
      if (recurring && !stored) lastInstance = lastInstanceOf(layout, null);
      const rr = layout.master?.getFirstProperty("rrule");
      calendarFields = {
        uid,
        recurrenceId: null,
        dtStart,
        dtEnd,
        allDay,
        isRecurring: recurring,
        rrule: rr ? rr.toICALString().replace(/^RRULE:/i, "") : null,
        lastInstance,
        summary: str(main, "summary") ?? "",
        location: str(main, "location") ?? "",
        organizer,
        status: optUpper(main, "status"),
        transp: optUpper(main, "transp"),
        sequence,
      };
    } else {
      const ms = (name: string) => {
        const t = timeProp(main, name);
        return t ? timeToMs(t, null) : null;
      };
      taskFields = {
        uid,
        summary: str(main, "summary") ?? "",
        due: ms("due"),
        start: ms("dtstart"),
        completed: ms("completed"),
        status: optUpper(main, "status"),
        priority: intProp(main, "priority", warnings, 0, 9),
        isRecurring: recurring,
      };
      if (recurring && !stored) lastInstanceOf(layout, null); // reads RRULE/RDATE/EXDATE now, so bad values fail the write
    }
  } catch (e) {
    if (e instanceof ICalError) throw e;
    throw new ICalError("INVALID_DATA", `cannot read the ${kind.toUpperCase()}: ${(e as Error).message}`);
  }
  return { kind: kind === "vevent" ? "VEVENT" : "VTODO", uid, method, sequence, organizer, attendees, calendarFields, taskFields, root, warnings };
}

function uidOf(c: ICAL.Component): string {
  const u = c.getFirstPropertyValue("uid");
  if (typeof u !== "string" || !u.trim()) throw new ICalError("INVALID_OBJECT", `a ${c.name.toUpperCase()} without UID (RFC 5545 §3.6.1)`);
  return u;
}

/**
 * One CalDAV resource: a VCALENDAR whose VEVENT or VTODO components all
 * have one UID (master and overrides), RFC 4791 §4.1.
 * `stored`: the body was accepted by a write before (queries, free/busy):
 * the write-time checks of its rules and the walk to its last instance
 * (`lastInstance` is null then) are skipped, ~10x cheaper.
 */
export function parseCalendarObject(body: Uint8Array | string, opts: { stored?: boolean } = {}): CalendarObject {
  return guarded(() => parseObject(body, opts.stored === true));
}

/** Whatever ical.js throws on odd input is the input's fault: an INVALID_DATA with its message. */
function guarded<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ICalError) throw e;
    if (e instanceof RangeError && /call stack/i.test(e.message)) throw new ICalError("LIMIT", "the iCalendar object is nested too deeply");
    throw new ICalError("INVALID_DATA", `not valid iCalendar: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function parseObject(body: Uint8Array | string, stored: boolean): CalendarObject {
  const warnings: string[] = [];
  const root = parseRoot(body, warnings);
  const kinds = new Set<string>();
  const uids = new Set<string>();
  for (const c of root.getAllSubcomponents()) {
    const n = c.name;
    if (n === "vtimezone" || n.startsWith("x-")) continue;
    if (n !== "vevent" && n !== "vtodo") throw new ICalError("INVALID_OBJECT", `${n.toUpperCase()} is not stored here: a calendar object holds VEVENT or VTODO components (RFC 4791 §4.1)`);
    kinds.add(n);
    uids.add(uidOf(c));
  }
  if (kinds.size === 0) throw new ICalError("INVALID_OBJECT", "no VEVENT or VTODO in the object");
  if (kinds.size > 1) throw new ICalError("INVALID_OBJECT", "VEVENT and VTODO mixed in one object (RFC 4791 §4.1)");
  if (uids.size > 1) throw new ICalError("INVALID_OBJECT", `${uids.size} different UIDs in one object: one UID per resource (RFC 4791 §4.1)`);
  const method = root.getFirstPropertyValue("method");
  return buildObject(root, [...kinds][0] as "vevent" | "vtodo", [...uids][0]!, typeof method === "string" ? method.toUpperCase() : null, warnings, false, stored);
}

/**
 * An iTIP message (RFC 5546 §1.4: METHOD required). Components of several
 * UIDs are allowed; each UID's VEVENTs or VTODOs become one CalendarObject
 * (with the VTIMEZONEs they use); VFREEBUSY and others stay in `root`.
 */
export function parseItipMessage(body: Uint8Array | string): { method: string; root: ICAL.Component; objects: CalendarObject[] } {
  return guarded(() => parseItip(body));
}

function parseItip(body: Uint8Array | string): { method: string; root: ICAL.Component; objects: CalendarObject[] } {
  const warnings: string[] = [];
  const root = parseRoot(body, warnings);
  const m = root.getFirstPropertyValue("method");
  if (typeof m !== "string" || !m.trim()) throw new ICalError("INVALID_OBJECT", "an iTIP message needs a METHOD (RFC 5546 §1.4)");
  const method = m.trim().toUpperCase();
  const groups = new Map<string, { kind: "vevent" | "vtodo"; comps: ICAL.Component[] }>();
  for (const c of root.getAllSubcomponents()) {
    if (c.name !== "vevent" && c.name !== "vtodo") continue;
    const uid = uidOf(c);
    const g = groups.get(uid);
    if (!g) groups.set(uid, { kind: c.name, comps: [c] });
    else if (g.kind !== c.name) throw new ICalError("INVALID_OBJECT", `UID ${uid.slice(0, 100)} is both a VEVENT and a VTODO`);
    else g.comps.push(c);
  }
  const tzs = root.getAllSubcomponents("vtimezone");
  const objects: CalendarObject[] = [];
  for (const [uid, g] of groups) {
    const sub = new ICAL.Component(["vcalendar", root.jCal[1], [...tzs.map((t) => t.jCal), ...g.comps.map((c) => c.jCal)]]);
    objects.push(buildObject(sub, g.kind, uid, method, [...warnings], true));
  }
  return { method, root, objects };
}
