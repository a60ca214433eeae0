/**
 * The text-match element of CalDAV filters (RFC 4791 §9.7.5) and CardDAV
 * filters (RFC 6352 §10.5.4), compiled once per request into a predicate.
 *
 * Collations (RFC 4790, registry of RFC 4790 §9):
 *  - `i;octet`: the exact code units;
 *  - `i;ascii-casemap`: only the ASCII letters a-z/A-Z compared without case
 *    (RFC 4790 §9.2), everything else exactly — CalDAV's default;
 *  - `i;unicode-casemap` (RFC 5051): case folded and compatibility-decomposed
 *    (NFKD) — CardDAV's default. The folding is the per-character simple
 *    mapping of the JavaScript runtime, which is what RFC 5051's titlecase +
 *    NFKD comes to for the scripts address books hold.
 * An unknown collation is refused with the precondition the RFCs name
 * (CALDAV:supported-collation, CARDDAV:supported-collation; 403).
 * Match types (RFC 6352 §10.5.4): equals, contains (default), starts-with,
 * ends-with; CalDAV's text-match is always a substring test.
 */
import type { XmlElement } from "./xml.ts";
import { ReportError } from "./caldav-report-error.ts";

export type Collation = "i;octet" | "i;ascii-casemap" | "i;unicode-casemap";
export type MatchType = "equals" | "contains" | "starts-with" | "ends-with";

/** Longest text-match value accepted (the test runs over every candidate: keep it cheap). */
export const MAX_TEXT_MATCH = 4096;

export interface TextMatch {
  collation: Collation;
  matchType: MatchType;
  negate: boolean;
  /** The needle, already folded by the collation. */
  needle: string;
  /** True when `value` matches (negation applied). */
  test(value: string): boolean;
}

export interface TextMatchRules {
  /** Namespace of the request (CalDAV or CardDAV): errors use its precondition names. */
  ns: string;
  defaultCollation: Collation;
  collations: readonly Collation[];
  /** CardDAV has a match-type attribute; CalDAV does not (always "contains"). */
  matchTypes: boolean;
}

const ASCII_UPPER = /[A-Z]/g;

/** Folds a string for comparison under a collation. */
export function fold(collation: Collation, s: string): string {
  switch (collation) {
    case "i;octet":
      return s;
    case "i;ascii-casemap":
      // RFC 4790 §9.2: only US-ASCII letters are case-insensitive.
      return s.replace(ASCII_UPPER, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
    case "i;unicode-casemap": {
      // RFC 5051 §2: case mapping, then NFKD. Per code point, so that the
      // context-dependent final sigma rule does not make "Σ" fold two ways.
      let out = "";
      for (const ch of s.normalize("NFKD")) out += ch.toUpperCase().toLowerCase();
      return out.normalize("NFKD");
    }
  }
}

function attr(el: XmlElement, name: string): string | undefined {
  return el.attrs[name];
}

/** Compiles a text-match element; throws ReportError for an unknown collation or match type. */
export function compileTextMatch(el: XmlElement, rules: TextMatchRules): TextMatch {
  const rawCollation = attr(el, "collation");
  const collation = (rawCollation ?? rules.defaultCollation) as Collation;
  if (!rules.collations.includes(collation)) {
    throw new ReportError(
      403,
      rules.ns,
      "supported-collation",
      `collation "${rawCollation}" is not supported; use ${rules.collations.map((c) => `"${c}"`).join(" or ")}`,
    );
  }
  const rawType = attr(el, "match-type");
  let matchType: MatchType = "contains";
  if (rawType !== undefined) {
    if (!rules.matchTypes) throw new ReportError(400, rules.ns, "valid-filter", "text-match has no match-type attribute in CalDAV (RFC 4791 §9.7.5)");
    if (rawType !== "equals" && rawType !== "contains" && rawType !== "starts-with" && rawType !== "ends-with") {
      throw new ReportError(400, rules.ns, "valid-filter", `match-type "${rawType}" is not one of equals, contains, starts-with, ends-with (RFC 6352 §10.5.4)`);
    }
    matchType = rawType;
  }
  const neg = attr(el, "negate-condition");
  if (neg !== undefined && neg !== "yes" && neg !== "no") {
    throw new ReportError(400, rules.ns, "valid-filter", `negate-condition must be "yes" or "no", not "${neg}"`);
  }
  if (el.text.length > MAX_TEXT_MATCH) throw new ReportError(400, rules.ns, "valid-filter", `text-match is longer than ${MAX_TEXT_MATCH} characters`);
  const negate = neg === "yes";
  const needle = fold(collation, el.text);
  const hit = (value: string): boolean => {
    const v = fold(collation, value);
    switch (matchType) {
      case "equals":
        return v === needle;
      case "contains":
        return v.includes(needle);
      case "starts-with":
        return v.startsWith(needle);
      case "ends-with":
        return v.endsWith(needle);
    }
  };
  return { collation, matchType, negate, needle, test: (value: string) => hit(value) !== negate };
}

/**
 * Applies a text-match to the values of one property (or parameter)
 * instance: a multi-valued one (CATEGORIES, NICKNAME, a parameter list)
 * matches when one of its values does; a negated match when none does.
 */
export function testValues(tm: TextMatch, values: readonly string[]): boolean {
  if (values.length === 0) return tm.negate;
  if (tm.negate) return values.every((v) => tm.test(v));
  return values.some((v) => tm.test(v));
}
