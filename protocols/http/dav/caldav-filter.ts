/**
 * The CALDAV:filter of a calendar-query REPORT (RFC 4791 §9.7): parsed and
 * checked once per request into a tree of comp-/prop-/param-filters, then
 * evaluated against each candidate object's parsed VCALENDAR (ical.js).
 *
 * Semantics (RFC 4791 §9.7.1-§9.7.5):
 *  - a comp-filter matches when a component of its name exists in the
 *    parent and that component matches every nested filter (is-not-defined:
 *    when none exists);
 *  - a prop-filter matches when a property of its name exists and one
 *    instance of it passes the time-range/text-match and every param-filter;
 *  - a param-filter likewise on the parameters of that property instance.
 * Time ranges follow §9.9 (see caldav-time-range.ts): recurring VEVENT/VTODO
 * are tested per instance, each instance against the component (master or
 * override) it comes from.
 *
 * Refused (403, the §7.8 preconditions): an unknown collation
 * (supported-collation), a component the server does not know or one
 * nested where iCalendar never puts it (supported-filter), a malformed
 * filter (valid-filter) — each with a message naming what was wrong.
 */
import type ICAL from "ical.js";
import type { XmlElement } from "./xml.ts";
import { NS_CALDAV, ReportError } from "./caldav-report-error.ts";
import { compileTextMatch, testValues, type TextMatch } from "./caldav-text-match.ts";
import { parseTimeRange, type TimeRange } from "./caldav-time.ts";
import { componentInRange, propertyInRange, type RangeEnv } from "./caldav-time-range.ts";

export interface ParamFilter {
  name: string;
  isNotDefined: boolean;
  textMatch: TextMatch | null;
}

export interface PropFilter {
  name: string;
  isNotDefined: boolean;
  timeRange: TimeRange | null;
  textMatch: TextMatch | null;
  params: ParamFilter[];
}

export interface CompFilter {
  /** Upper-case component name. */
  name: string;
  isNotDefined: boolean;
  timeRange: TimeRange | null;
  props: PropFilter[];
  comps: CompFilter[];
}

/** Which components may sit in which (RFC 5545 §3.4, §3.6; RFC 7953 for availability). */
const CHILDREN: Record<string, readonly string[]> = {
  VCALENDAR: ["VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VTIMEZONE", "VAVAILABILITY"],
  VEVENT: ["VALARM"],
  VTODO: ["VALARM"],
  VTIMEZONE: ["STANDARD", "DAYLIGHT"],
  VAVAILABILITY: ["AVAILABLE"],
};
/** Components a time-range may be applied to (RFC 4791 §9.9). */
const TIMED = new Set(["VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VALARM", "VAVAILABILITY", "AVAILABLE"]);

const NAME_RE = /^[A-Za-z0-9-]{1,64}$/;

function kids(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.ns === NS_CALDAV && c.name === name);
}

function validFilter(message: string): ReportError {
  return new ReportError(403, NS_CALDAV, "valid-filter", message);
}

function nameOf(el: XmlElement, what: string): string {
  const n = el.attrs["name"];
  if (n === undefined || !NAME_RE.test(n)) throw validFilter(`${what} needs a name attribute of letters, digits and dashes (got ${n === undefined ? "none" : JSON.stringify(n.slice(0, 80))})`);
  return n.toUpperCase();
}

const TM_RULES = { ns: NS_CALDAV, defaultCollation: "i;ascii-casemap", collations: ["i;ascii-casemap", "i;octet"], matchTypes: false } as const;

/** Unknown child elements are refused: a filter the server does not understand must not silently match everything. */
function checkOnly(el: XmlElement, allowed: readonly string[], what: string): void {
  for (const c of el.children) {
    if (c.ns !== NS_CALDAV || !allowed.includes(c.name)) {
      throw new ReportError(403, NS_CALDAV, "supported-filter", `${what} may hold only ${allowed.join(", ")}; <${c.name}> (${c.ns || "no namespace"}) is not supported`);
    }
  }
}

function parseParamFilter(el: XmlElement, prop: string): ParamFilter {
  const name = nameOf(el, `param-filter of ${prop}`);
  checkOnly(el, ["is-not-defined", "text-match"], `param-filter ${name}`);
  const isNotDefined = kids(el, "is-not-defined").length > 0;
  const tms = kids(el, "text-match");
  if (tms.length > 1 || (isNotDefined && tms.length > 0)) throw validFilter(`param-filter ${name}: either is-not-defined or one text-match (RFC 4791 §9.7.3)`);
  return { name, isNotDefined, textMatch: tms.length ? compileTextMatch(tms[0], TM_RULES) : null };
}

function parsePropFilter(el: XmlElement, comp: string): PropFilter {
  const name = nameOf(el, `prop-filter of ${comp}`);
  checkOnly(el, ["is-not-defined", "time-range", "text-match", "param-filter"], `prop-filter ${name}`);
  const isNotDefined = kids(el, "is-not-defined").length > 0;
  const trs = kids(el, "time-range");
  const tms = kids(el, "text-match");
  const pfs = kids(el, "param-filter");
  if (isNotDefined && (trs.length || tms.length || pfs.length)) throw validFilter(`prop-filter ${name}: is-not-defined stands alone (RFC 4791 §9.7.2)`);
  if (trs.length + tms.length > 1) throw validFilter(`prop-filter ${name}: at most one time-range or text-match (RFC 4791 §9.7.2)`);
  return {
    name,
    isNotDefined,
    timeRange: trs.length ? parseTimeRange(trs[0], { required: false, element: `time-range of ${name}`, status: 403 }) : null,
    textMatch: tms.length ? compileTextMatch(tms[0], TM_RULES) : null,
    params: pfs.map((p) => parseParamFilter(p, name)),
  };
}

function parseCompFilter(el: XmlElement, parent: string | null): CompFilter {
  const name = nameOf(el, "comp-filter");
  if (parent === null && name !== "VCALENDAR") throw validFilter(`the filter must start with comp-filter VCALENDAR, not ${name} (RFC 4791 §9.7)`);
  if (parent !== null) {
    const allowed = CHILDREN[parent] ?? [];
    if (!allowed.includes(name) && !name.startsWith("X-")) {
      throw new ReportError(403, NS_CALDAV, "supported-filter", `component ${name} is not supported inside ${parent} (known: ${allowed.join(", ") || "none"})`);
    }
  }
  checkOnly(el, ["is-not-defined", "time-range", "prop-filter", "comp-filter"], `comp-filter ${name}`);
  const isNotDefined = kids(el, "is-not-defined").length > 0;
  const trs = kids(el, "time-range");
  const pfs = kids(el, "prop-filter");
  const cfs = kids(el, "comp-filter");
  if (isNotDefined && (trs.length || pfs.length || cfs.length)) throw validFilter(`comp-filter ${name}: is-not-defined stands alone (RFC 4791 §9.7.1)`);
  if (trs.length > 1) throw validFilter(`comp-filter ${name}: one time-range at most`);
  if (trs.length && !TIMED.has(name)) throw validFilter(`comp-filter ${name}: a time-range applies only to ${[...TIMED].join(", ")} (RFC 4791 §9.9)`);
  return {
    name,
    isNotDefined,
    timeRange: trs.length ? parseTimeRange(trs[0], { required: false, element: `time-range of ${name}`, status: 403 }) : null,
    props: pfs.map((p) => parsePropFilter(p, name)),
    comps: cfs.map((c) => parseCompFilter(c, name)),
  };
}

/** Parses a CALDAV:filter element; throws ReportError (403 valid-filter / supported-filter / supported-collation). */
export function parseCalendarFilter(filter: XmlElement): CompFilter {
  const top = kids(filter, "comp-filter");
  checkOnly(filter, ["comp-filter"], "filter");
  if (top.length !== 1) throw validFilter(`a filter holds exactly one comp-filter (VCALENDAR), not ${top.length} (RFC 4791 §9.7)`);
  return parseCompFilter(top[0], null);
}

/**
 * The time range and component a filter asks for at its first level, when
 * it has one (VCALENDAR > VEVENT|VTODO with a time-range): what the
 * collection-level pre-filter (objectsInRange) can use.
 */
export function leadingTimeRange(f: CompFilter): { comp: string; range: TimeRange } | null {
  if (f.isNotDefined) return null;
  for (const c of f.comps) if (!c.isNotDefined && c.timeRange) return { comp: c.name, range: c.timeRange };
  return null;
}

/** True when the filter is nothing but VCALENDAR > comp with one time-range (no property tests). */
export function isPureTimeRange(f: CompFilter): boolean {
  if (f.isNotDefined || f.props.length || f.timeRange || f.comps.length !== 1) return false;
  const c = f.comps[0];
  return !c.isNotDefined && c.timeRange !== null && c.props.length === 0 && c.comps.length === 0;
}

// ---------------------------------------------------------------- evaluation

function propStrings(p: ICAL.Property): string[] {
  let vals: unknown[];
  try {
    vals = p.getValues();
  } catch {
    return [];
  }
  return vals.map((v) => {
    if (typeof v === "string") return v;
    if (v && typeof (v as { toICALString?: unknown }).toICALString === "function") return (v as { toICALString(): string }).toICALString();
    return String(v);
  });
}

function paramStrings(p: ICAL.Property, name: string): string[] | null {
  const v = p.getParameter(name.toLowerCase()) as unknown;
  if (v === undefined || v === null) return null;
  return Array.isArray(v) ? v.map(String) : [String(v)];
}

function matchParam(f: ParamFilter, p: ICAL.Property): boolean {
  const vals = paramStrings(p, f.name);
  if (f.isNotDefined) return vals === null;
  if (vals === null) return false;
  return f.textMatch ? testValues(f.textMatch, vals) : true;
}

function matchProp(f: PropFilter, comp: ICAL.Component, env: RangeEnv): boolean {
  const props = comp.getAllProperties(f.name.toLowerCase());
  if (f.isNotDefined) return props.length === 0;
  return props.some((p) => {
    if (f.timeRange && !propertyInRange(p, f.timeRange, env)) return false;
    if (f.textMatch && !testValues(f.textMatch, propStrings(p))) return false;
    return f.params.every((pf) => matchParam(pf, p));
  });
}

function matchComp(f: CompFilter, comp: ICAL.Component, env: RangeEnv): boolean {
  if (f.timeRange && !componentInRange(comp, f.timeRange, env)) return false;
  for (const pf of f.props) if (!matchProp(pf, comp, env)) return false;
  for (const cf of f.comps) if (!matchIn(cf, comp, env)) return false;
  return true;
}

function matchIn(f: CompFilter, parent: ICAL.Component, env: RangeEnv): boolean {
  const found = parent.getAllSubcomponents(f.name.toLowerCase());
  if (f.isNotDefined) return found.length === 0;
  return found.some((c) => matchComp(f, c, env));
}

/** Does a calendar object (its parsed VCALENDAR) match the filter? */
export function matchCalendarFilter(f: CompFilter, root: ICAL.Component, env: RangeEnv): boolean {
  const isCal = root.name === "vcalendar";
  if (f.isNotDefined) return !isCal;
  return isCal && matchComp(f, root, env);
}
