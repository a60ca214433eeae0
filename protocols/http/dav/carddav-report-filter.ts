/**
 * The CARDDAV:filter of an addressbook-query REPORT (RFC 6352 §10.5),
 * parsed and checked once per request, then evaluated against each card's
 * parsed vCard (ical.js).
 *
 *  - filter: test="anyof" (default) | "allof" over its prop-filters; no
 *    prop-filter matches every card (§10.5);
 *  - prop-filter (§10.5.1): is-not-defined, or text-matches and
 *    param-filters combined by its own test="anyof|allof"; a property with
 *    several instances (several EMAIL, TEL) matches when one instance does;
 *    grouped properties ("item1.EMAIL") count under their name; with no
 *    test inside, a defined property matches;
 *  - param-filter (§10.5.2): is-not-defined or a text-match on the values;
 *  - text-match (§10.5.4): match-type equals|contains|starts-with|ends-with,
 *    collations i;unicode-casemap (default) and i;ascii-casemap (plus
 *    i;octet), negate-condition; other collations: 403
 *    CARDDAV:supported-collation.
 * Structured values (N, ADR) are matched on their text form (components
 * joined with ";", lists with ","), as they are written.
 */
import type ICAL from "ical.js";
import { NS_CARDDAV, ReportError } from "./caldav-report-error.ts";
import { compileTextMatch, testValues, type TextMatch } from "./caldav-text-match.ts";
import type { XmlElement } from "./xml.ts";

export type Test = "anyof" | "allof";

export interface CardParamFilter {
  name: string;
  isNotDefined: boolean;
  textMatch: TextMatch | null;
}

export interface CardPropFilter {
  name: string;
  test: Test;
  isNotDefined: boolean;
  textMatches: TextMatch[];
  params: CardParamFilter[];
}

export interface CardFilter {
  test: Test;
  props: CardPropFilter[];
}

const NAME_RE = /^[A-Za-z0-9-]{1,64}$/;
const TM_RULES = { ns: NS_CARDDAV, defaultCollation: "i;unicode-casemap", collations: ["i;unicode-casemap", "i;ascii-casemap", "i;octet"], matchTypes: true } as const;

function invalid(message: string): ReportError {
  return new ReportError(403, NS_CARDDAV, "valid-filter", message);
}

function kids(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.ns === NS_CARDDAV && c.name === name);
}

function only(el: XmlElement, allowed: readonly string[], what: string): void {
  for (const c of el.children) {
    if (c.ns !== NS_CARDDAV || !allowed.includes(c.name)) {
      throw new ReportError(403, NS_CARDDAV, "supported-filter", `${what} may hold only ${allowed.join(", ")}; <${c.name}> (${c.ns || "no namespace"}) is not supported`);
    }
  }
}

function testOf(el: XmlElement, what: string): Test {
  const t = el.attrs["test"];
  if (t === undefined || t === "anyof") return "anyof";
  if (t === "allof") return "allof";
  throw invalid(`${what}: test must be "anyof" or "allof", not ${JSON.stringify(t.slice(0, 40))} (RFC 6352 §10.5)`);
}

function nameOf(el: XmlElement, what: string): string {
  const n = el.attrs["name"];
  if (n === undefined || !NAME_RE.test(n)) throw invalid(`${what} needs a name attribute of letters, digits and dashes`);
  return n.toUpperCase();
}

function parseParam(el: XmlElement, prop: string): CardParamFilter {
  const name = nameOf(el, `param-filter of ${prop}`);
  only(el, ["is-not-defined", "text-match"], `param-filter ${name}`);
  const isNotDefined = kids(el, "is-not-defined").length > 0;
  const tms = kids(el, "text-match");
  if (tms.length > 1 || (isNotDefined && tms.length)) throw invalid(`param-filter ${name}: either is-not-defined or one text-match (RFC 6352 §10.5.2)`);
  return { name, isNotDefined, textMatch: tms.length ? compileTextMatch(tms[0], TM_RULES) : null };
}

function parseProp(el: XmlElement): CardPropFilter {
  const name = nameOf(el, "prop-filter");
  only(el, ["is-not-defined", "text-match", "param-filter"], `prop-filter ${name}`);
  const isNotDefined = kids(el, "is-not-defined").length > 0;
  const tms = kids(el, "text-match");
  const pfs = kids(el, "param-filter");
  if (isNotDefined && (tms.length || pfs.length)) throw invalid(`prop-filter ${name}: is-not-defined stands alone (RFC 6352 §10.5.1)`);
  return { name, test: testOf(el, `prop-filter ${name}`), isNotDefined, textMatches: tms.map((t) => compileTextMatch(t, TM_RULES)), params: pfs.map((p) => parseParam(p, name)) };
}

/** Parses a CARDDAV:filter element; throws ReportError. */
export function parseCardFilter(filter: XmlElement): CardFilter {
  only(filter, ["prop-filter"], "filter");
  return { test: testOf(filter, "filter"), props: kids(filter, "prop-filter").map(parseProp) };
}

function flatten(v: unknown, sep: string): string {
  if (Array.isArray(v)) return v.map((x) => flatten(x, ",")).join(sep);
  return v === null || v === undefined ? "" : String(v);
}

/** The text forms of a vCard property's values (structured ones joined as written). */
function valueStrings(p: ICAL.Property): string[] {
  let vals: unknown[];
  try {
    vals = p.getValues();
  } catch {
    return [];
  }
  return vals.map((v) => flatten(v, ";"));
}

function paramValues(p: ICAL.Property, name: string): string[] | null {
  const v = p.getParameter(name.toLowerCase()) as unknown;
  if (v === undefined || v === null) return null;
  return Array.isArray(v) ? v.map(String) : [String(v)];
}

function matchParam(f: CardParamFilter, p: ICAL.Property): boolean {
  const vals = paramValues(p, f.name);
  if (f.isNotDefined) return vals === null;
  if (vals === null) return false;
  return f.textMatch ? testValues(f.textMatch, vals) : true;
}

function matchInstance(f: CardPropFilter, p: ICAL.Property): boolean {
  const tests: (() => boolean)[] = [...f.textMatches.map((tm) => () => testValues(tm, valueStrings(p))), ...f.params.map((pf) => () => matchParam(pf, p))];
  if (!tests.length) return true;
  return f.test === "allof" ? tests.every((t) => t()) : tests.some((t) => t());
}

function matchProp(f: CardPropFilter, card: ICAL.Component): boolean {
  const props = card.getAllProperties(f.name.toLowerCase());
  if (f.isNotDefined) return props.length === 0;
  return props.some((p) => matchInstance(f, p));
}

/** Does a card (its parsed vCard component) match the filter? */
export function matchCardFilter(f: CardFilter, card: ICAL.Component): boolean {
  if (!f.props.length) return true;
  return f.test === "allof" ? f.props.every((p) => matchProp(p, card)) : f.props.some((p) => matchProp(p, card));
}
