/**
 * CALDAV:calendar-data in calendar-query and calendar-multiget responses
 * (RFC 4791 §9.6): what the client asked for, and the text of one object
 * shaped that way.
 *
 *  - no children: the stored body, byte for byte (§9.6: the whole resource);
 *  - <C:comp>/<C:prop> (§9.6.1-§9.6.4): only the named components and
 *    properties (allcomp/allprop keep everything at that level; novalue
 *    keeps a property's name and parameters without its value);
 *  - <C:expand start end> (§9.6.5): the recurrence set replaced by one
 *    component per instance overlapping the range, each with a
 *    RECURRENCE-ID, every DATE-TIME in UTC, no RRULE/RDATE/EXDATE, no
 *    VTIMEZONE (nothing refers to one any more); overridden instances come
 *    from their override;
 *  - <C:limit-recurrence-set start end> (§9.6.6): the master plus only the
 *    overrides whose instance, or whose RECURRENCE-ID, falls in the range;
 *  - <C:limit-freebusy-set start end> (§9.6.7): FREEBUSY periods of
 *    VFREEBUSY components limited to those overlapping the range.
 * Only text/calendar 2.0 is offered (§9.6: else 403 supported-calendar-data).
 */
import ICAL from "ical.js";
import type { Instance } from "../../../src/groupware/types.ts";
import type { XmlElement } from "./xml.ts";
import { NS_CALDAV, ReportError } from "./caldav-report-error.ts";
import { dateOf, formatUtc, parseTimeRange, propertyUtc, timeUtc, utcTime, type TimeRange } from "./caldav-time.ts";
import { instanceOverlaps } from "./caldav-time-range.ts";

export interface PropSpec {
  name: string;
  novalue: boolean;
}

export interface CompSpec {
  name: string;
  allProps: boolean;
  props: PropSpec[];
  allComps: boolean;
  comps: CompSpec[];
}

export interface CalendarDataSpec {
  comp: CompSpec | null;
  expand: TimeRange | null;
  limitRecurrence: TimeRange | null;
  limitFreebusy: TimeRange | null;
}

function kids(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.ns === NS_CALDAV && c.name === name);
}

const NAME_RE = /^[A-Za-z0-9-]{1,64}$/;

function bad(message: string): ReportError {
  return new ReportError(400, NS_CALDAV, "valid-calendar-data", message);
}

function parseComp(el: XmlElement): CompSpec {
  const name = el.attrs["name"];
  if (name === undefined || !NAME_RE.test(name)) throw bad(`calendar-data: <C:comp> needs a component name (got ${name === undefined ? "none" : JSON.stringify(name.slice(0, 80))})`);
  const allProps = kids(el, "allprop").length > 0;
  const allComps = kids(el, "allcomp").length > 0;
  const props: PropSpec[] = [];
  for (const p of kids(el, "prop")) {
    const n = p.attrs["name"];
    if (n === undefined || !NAME_RE.test(n)) throw bad(`calendar-data: <C:prop> in ${name} needs a property name`);
    const nv = p.attrs["novalue"];
    if (nv !== undefined && nv !== "yes" && nv !== "no") throw bad(`calendar-data: novalue must be "yes" or "no"`);
    props.push({ name: n.toUpperCase(), novalue: nv === "yes" });
  }
  if (allProps && props.length) throw bad(`calendar-data: ${name} has both <C:allprop> and <C:prop> (RFC 4791 §9.6.1)`);
  const comps = kids(el, "comp").map(parseComp);
  if (allComps && comps.length) throw bad(`calendar-data: ${name} has both <C:allcomp> and <C:comp> (RFC 4791 §9.6.1)`);
  return { name: name.toUpperCase(), allProps, props, allComps, comps };
}

/** Reads a <C:calendar-data> request element (in a report's <D:prop>). */
export function parseCalendarDataSpec(el: XmlElement): CalendarDataSpec {
  const type = el.attrs["content-type"];
  const version = el.attrs["version"];
  if ((type !== undefined && type.toLowerCase() !== "text/calendar") || (version !== undefined && version !== "2.0")) {
    throw new ReportError(403, NS_CALDAV, "supported-calendar-data", `calendar-data is offered as text/calendar version 2.0 only, not ${type ?? "text/calendar"} ${version ?? "2.0"}`);
  }
  const comps = kids(el, "comp");
  if (comps.length > 1) throw bad("calendar-data: one <C:comp> (VCALENDAR) at most");
  const comp = comps.length ? parseComp(comps[0]) : null;
  if (comp && comp.name !== "VCALENDAR") throw bad(`calendar-data: the outer <C:comp> must be VCALENDAR, not ${comp.name}`);
  const range = (name: string): TimeRange | null => {
    const els = kids(el, name);
    if (!els.length) return null;
    if (els.length > 1) throw bad(`calendar-data: one <C:${name}> at most`);
    return parseTimeRange(els[0], { required: true, element: name, precondition: "valid-calendar-data" });
  };
  const expand = range("expand");
  const limitRecurrence = range("limit-recurrence-set");
  if (expand && limitRecurrence) throw bad("calendar-data: <C:expand> and <C:limit-recurrence-set> exclude each other (RFC 4791 §9.6)");
  return { comp, expand, limitRecurrence, limitFreebusy: range("limit-freebusy-set") };
}

/** Does the spec need the parsed object (anything but the stored body as is)? */
export function needsParse(spec: CalendarDataSpec): boolean {
  return spec.comp !== null || spec.expand !== null || spec.limitRecurrence !== null || spec.limitFreebusy !== null;
}

export interface DataEnv {
  floatingTz: string | null;
  /** Instances of the object overlapping the range; throws ReportError when over the expansion limit. */
  instances(range: TimeRange): Instance[];
  /** iCalendar text of a component tree (CRLF, folded). */
  serialize(root: ICAL.Component): string;
}

const RECURRING_PROPS = ["rrule", "rdate", "exdate", "exrule"];
const TIMED_PROPS = ["dtstart", "dtend", "due", "recurrence-id", "completed"];

/**
 * A copy of a component (detached from its VCALENDAR) with its DATE-TIME
 * values rewritten in UTC; the UTC values are read from the original, which
 * still sees the object's VTIMEZONEs.
 */
function utcCopy(orig: ICAL.Component, floatingTz: string | null): ICAL.Component {
  const c = copy(orig);
  for (const n of RECURRING_PROPS) c.removeAllProperties(n);
  for (const n of TIMED_PROPS) {
    const from = orig.getAllProperties(n);
    const to = c.getAllProperties(n);
    for (let i = 0; i < to.length && i < from.length; i++) {
      let v: unknown;
      try {
        v = from[i].getFirstValue();
      } catch {
        continue;
      }
      if (!(v instanceof ICAL.Time) || v.isDate) continue;
      const ms = timeUtc(v, from[i].getFirstParameter("tzid") ?? null, floatingTz);
      to[i].removeParameter("tzid");
      to[i].setValue(utcTime(ms));
    }
  }
  return c;
}

function setTime(comp: ICAL.Component, name: string, ms: number, allDay: boolean, floatingTz: string | null): void {
  const t = allDay ? dateOf(ms, floatingTz) : utcTime(ms);
  let p = comp.getFirstProperty(name);
  if (!p) p = comp.addPropertyWithValue(name, t);
  else {
    p.removeParameter("tzid");
    p.resetType(allDay ? "date" : "date-time");
    p.setValue(t);
  }
}

function copy(comp: ICAL.Component): ICAL.Component {
  return new ICAL.Component(structuredClone(comp.toJSON()));
}

/** RFC 4791 §9.6.5: one component per instance in the range, all in UTC. */
function expandInto(root: ICAL.Component, range: TimeRange, env: DataEnv): void {
  const kind = ["vevent", "vtodo", "vjournal"].find((k) => root.getFirstSubcomponent(k));
  if (!kind) {
    root.removeAllSubcomponents("vtimezone");
    return;
  }
  const comps = root.getAllSubcomponents(kind);
  const master = comps.find((c) => !c.hasProperty("recurrence-id")) ?? null;
  const overrides = new Map<number, ICAL.Component>();
  for (const c of comps) {
    const rid = c.getFirstProperty("recurrence-id");
    if (!rid) continue;
    const ms = propertyUtc(rid, env.floatingTz);
    if (ms !== null) overrides.set(ms, c);
  }
  const masterStart = master ? (() => {
    const p = master.getFirstProperty("dtstart");
    return p ? propertyUtc(p, env.floatingTz) : null;
  })() : null;
  const masterDue = master ? (() => {
    const p = master.getFirstProperty("due");
    return p ? propertyUtc(p, env.floatingTz) : null;
  })() : null;
  const out: ICAL.Component[] = [];
  for (const inst of env.instances(range)) {
    if (!instanceOverlaps(inst, range)) continue;
    let c: ICAL.Component;
    if (inst.overridden && inst.recurrenceId !== null && overrides.has(inst.recurrenceId)) {
      c = utcCopy(overrides.get(inst.recurrenceId)!, env.floatingTz);
    } else if (master) {
      c = utcCopy(master, env.floatingTz);
      if (inst.recurrenceId !== null) {
        const shift = masterStart !== null ? inst.start - masterStart : 0;
        if (c.hasProperty("dtstart")) setTime(c, "dtstart", inst.start, inst.allDay, env.floatingTz);
        if (c.hasProperty("dtend")) setTime(c, "dtend", inst.end, inst.allDay, env.floatingTz);
        if (c.hasProperty("due") && masterDue !== null) setTime(c, "due", c.hasProperty("dtstart") ? masterDue + shift : inst.start, inst.allDay, env.floatingTz);
        setTime(c, "recurrence-id", inst.recurrenceId, inst.allDay, env.floatingTz);
      }
    } else continue;
    out.push(c);
  }
  root.removeAllSubcomponents(kind);
  root.removeAllSubcomponents("vtimezone");
  for (const c of out) root.addSubcomponent(c);
}

/** RFC 4791 §9.6.6: keep the master and the overrides that touch the range. */
function limitRecurrenceSet(root: ICAL.Component, range: TimeRange, env: DataEnv): void {
  const kind = ["vevent", "vtodo", "vjournal"].find((k) => root.getFirstSubcomponent(k));
  if (!kind) return;
  const overrides = root.getAllSubcomponents(kind).filter((c) => c.hasProperty("recurrence-id"));
  if (!overrides.length) return;
  const inRange = new Set<number>();
  for (const i of env.instances(range)) if (i.overridden && i.recurrenceId !== null && instanceOverlaps(i, range)) inRange.add(i.recurrenceId);
  for (const c of overrides) {
    const rid = c.getFirstProperty("recurrence-id")!;
    const ms = propertyUtc(rid, env.floatingTz);
    const thisAndFuture = String(rid.getFirstParameter("range") ?? "").toUpperCase() === "THISANDFUTURE";
    const keep = ms !== null && (inRange.has(ms) || (ms >= range.start && ms < range.end) || (thisAndFuture && ms < range.end));
    if (!keep) root.removeSubcomponent(c);
  }
}

/** RFC 4791 §9.6.7: FREEBUSY periods of VFREEBUSY components outside the range are dropped. */
function limitFreebusySet(root: ICAL.Component, range: TimeRange, env: DataEnv): void {
  for (const fb of root.getAllSubcomponents("vfreebusy")) {
    for (const p of [...fb.getAllProperties("freebusy")]) {
      const keep = (p.getValues() as unknown[]).filter((v) => {
        if (!(v instanceof ICAL.Period)) return true;
        const s = timeUtc(v.start, null, env.floatingTz);
        const e = v.end ? timeUtc(v.end, null, env.floatingTz) : v.duration ? s + v.duration.toSeconds() * 1000 : s;
        return range.start < e && range.end > s;
      });
      if (!keep.length) fb.removeProperty(p);
      else p.setValues(keep);
    }
  }
}

/** RFC 4791 §9.6.1: only the components and properties the client named. */
function trim(comp: ICAL.Component, spec: CompSpec): void {
  if (!spec.allProps) {
    for (const p of [...comp.getAllProperties()]) {
      const want = spec.props.find((s) => s.name === p.name.toUpperCase());
      if (!want) comp.removeProperty(p);
      else if (want.novalue) {
        const j = p.toJSON() as unknown[];
        comp.removeProperty(p);
        // A jCal property without a value is written "NAME;PARAMS:" (§9.6.4 novalue).
        comp.addProperty(new ICAL.Property([j[0], j[1], j[2]]));
      }
    }
  }
  if (!spec.allComps) {
    for (const c of [...comp.getAllSubcomponents()]) {
      const want = spec.comps.find((s) => s.name === c.name.toUpperCase());
      if (!want) comp.removeSubcomponent(c);
      else trim(c, want);
    }
  }
}

// ---------------------------------------------------------------- expand as text

/**
 * What the text form of an expansion reuses across instances and requests
 * (kept per parsed object, which the object cache keeps per ETag): the
 * VCALENDAR head, the master serialised once in UTC without its times and
 * recurrence rules (each instance adds its own DTSTART/DTEND/DUE and
 * RECURRENCE-ID lines), each override serialised once in UTC.
 */
interface ExpandTemplates {
  kind: string;
  head: string;
  master: { body: string; hasEnd: boolean; due: number | null; start: number | null } | null;
  overrides: Map<number, ICAL.Component>;
  overrideText: Map<number, string>;
}

const templates = new WeakMap<ICAL.Component, Map<string, ExpandTemplates>>();

function templatesOf(root: ICAL.Component, env: DataEnv): ExpandTemplates | null {
  const kind = ["vevent", "vtodo", "vjournal"].find((k) => root.getFirstSubcomponent(k));
  if (!kind) return null;
  let byTz = templates.get(root);
  if (!byTz) templates.set(root, (byTz = new Map()));
  const tzKey = env.floatingTz ?? "";
  const cached = byTz.get(tzKey);
  if (cached) return cached;
  const headComp = new ICAL.Component(["vcalendar", (root.toJSON() as unknown[])[1], []]);
  const headText = env.serialize(headComp);
  const head = headText.slice(0, headText.lastIndexOf("END:VCALENDAR"));
  const comps = root.getAllSubcomponents(kind);
  const masterComp = comps.find((c) => !c.hasProperty("recurrence-id")) ?? null;
  let master: ExpandTemplates["master"] = null;
  if (masterComp) {
    const m = utcCopy(masterComp, env.floatingTz);
    const hasEnd = m.hasProperty("dtend");
    for (const n of ["dtstart", "dtend", "due", "recurrence-id"]) m.removeAllProperties(n);
    const dtstart = masterComp.getFirstProperty("dtstart");
    const due = masterComp.getFirstProperty("due");
    master = { body: env.serialize(m), hasEnd, start: dtstart ? propertyUtc(dtstart, env.floatingTz) : null, due: due ? propertyUtc(due, env.floatingTz) : null };
  }
  const overrides = new Map<number, ICAL.Component>();
  for (const c of comps) {
    const rid = c.getFirstProperty("recurrence-id");
    const ms = rid ? propertyUtc(rid, env.floatingTz) : null;
    if (ms !== null) overrides.set(ms, c);
  }
  const t: ExpandTemplates = { kind, head, master, overrides, overrideText: new Map() };
  if (byTz.size < 4) byTz.set(tzKey, t);
  return t;
}

function timeLine(name: string, ms: number, allDay: boolean, floatingTz: string | null): string {
  if (!allDay) return `${name}:${formatUtc(ms)}\r\n`;
  const d = dateOf(ms, floatingTz);
  return `${name};VALUE=DATE:${String(d.year).padStart(4, "0")}${String(d.month).padStart(2, "0")}${String(d.day).padStart(2, "0")}\r\n`;
}

/** RFC 4791 §9.6.5 as text: the same result as expandInto, without copying the tree per instance. */
function expandText(root: ICAL.Component, range: TimeRange, env: DataEnv): string {
  const t = templatesOf(root, env);
  if (!t) return env.serialize(new ICAL.Component(["vcalendar", (root.toJSON() as unknown[])[1], []]));
  const out: string[] = [t.head];
  const begin = `BEGIN:${t.kind.toUpperCase()}\r\n`;
  for (const inst of env.instances(range)) {
    if (!instanceOverlaps(inst, range)) continue;
    if (inst.overridden && inst.recurrenceId !== null && t.overrides.has(inst.recurrenceId)) {
      let text = t.overrideText.get(inst.recurrenceId);
      if (text === undefined) {
        text = env.serialize(utcCopy(t.overrides.get(inst.recurrenceId)!, env.floatingTz));
        t.overrideText.set(inst.recurrenceId, text);
      }
      out.push(text);
      continue;
    }
    const m = t.master;
    if (!m) continue;
    let lines = "";
    if (t.kind !== "vtodo" || m.start !== null) lines += timeLine("DTSTART", inst.start, inst.allDay, env.floatingTz);
    if (m.hasEnd) lines += timeLine("DTEND", inst.end, inst.allDay, env.floatingTz);
    if (m.due !== null) lines += timeLine("DUE", m.start !== null ? m.due + (inst.start - m.start) : inst.start, inst.allDay, env.floatingTz);
    if (inst.recurrenceId !== null) lines += timeLine("RECURRENCE-ID", inst.recurrenceId, inst.allDay, env.floatingTz);
    out.push(begin + lines + m.body.slice(begin.length));
  }
  out.push("END:VCALENDAR\r\n");
  return out.join("");
}

/**
 * The calendar-data text of one object. `root` is the parsed VCALENDAR; it
 * is not modified (a copy is shaped). Throws ReportError when the expansion
 * is over its limit.
 */
export function renderCalendarData(spec: CalendarDataSpec, body: Uint8Array, root: ICAL.Component | null, env: DataEnv): string {
  if (!needsParse(spec) || root === null) return new TextDecoder().decode(body);
  if (spec.expand && !spec.comp && !spec.limitFreebusy) return expandText(root, spec.expand, env);
  const out = copy(root);
  if (spec.expand) expandInto(out, spec.expand, env);
  else if (spec.limitRecurrence) limitRecurrenceSet(out, spec.limitRecurrence, env);
  if (spec.limitFreebusy) limitFreebusySet(out, spec.limitFreebusy, env);
  if (spec.comp) trim(out, spec.comp);
  return env.serialize(out);
}
