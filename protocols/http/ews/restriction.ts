/**
 * FindItem/FindFolder restrictions (Types.xsd RestrictionType and the
 * SearchExpressionType substitution group; MS-OXWSSRCH §2.2.4): parsed into a
 * small tree with bounded size, then evaluated per item over the values an
 * item kind gives for a property path (kinds.ts `value`). Also the AQS-lite
 * QueryString of Exchange 2013 (MS-OXWSSRCH §2.2.5.1: words and "field:value").
 */
import { EwsError } from "./context.ts";
import { NS } from "./ns.ts";
import { parsePath, type PropertyPath } from "./shape.ts";
import { attr, kid, parseDateTime, type XmlElement } from "./xml.ts";

/** A value a kind gives for a path: dates are UTC ms numbers; a multi-valued property (Categories) is a list. */
export type FieldValue = string | number | boolean | readonly string[] | undefined;
export type Getter = (path: PropertyPath) => FieldValue;

export type Comparison = "eq" | "ne" | "gt" | "ge" | "lt" | "le";
export type ContainmentMode = "FullString" | "Prefixed" | "Substring" | "PrefixOnWords" | "ExactPhrase";

export type Operand = { kind: "constant"; value: string } | { kind: "path"; path: PropertyPath };

export type Restriction =
  | { op: "and" | "or"; items: Restriction[] }
  | { op: "not"; item: Restriction }
  | { op: "compare"; cmp: Comparison; path: PropertyPath; operand: Operand }
  | { op: "contains"; path: PropertyPath; value: string; mode: ContainmentMode; ignoreCase: boolean; loose: boolean }
  | { op: "excludes"; path: PropertyPath; mask: number }
  | { op: "exists"; path: PropertyPath }
  /** An empty And (matches everything) / Or (nothing) is kept as these. */
  | { op: "const"; value: boolean }
  /** The property's value is one of these (a search the store answered, e.g. body text by its index). */
  | { op: "in"; path: PropertyPath; values: ReadonlySet<string> };

/** Limits of one restriction (ErrorRestrictionTooComplex beyond them). */
export const MAX_RESTRICTION_NODES = 500;
export const MAX_RESTRICTION_DEPTH = 32;
/** Longest Constant a restriction takes (a search string, not a message). */
const MAX_CONSTANT = 4096;

const COMPARE: Record<string, Comparison> = {
  IsEqualTo: "eq",
  IsNotEqualTo: "ne",
  IsGreaterThan: "gt",
  IsGreaterThanOrEqualTo: "ge",
  IsLessThan: "lt",
  IsLessThanOrEqualTo: "le",
};
const MODES: readonly ContainmentMode[] = ["FullString", "Prefixed", "Substring", "PrefixOnWords", "ExactPhrase"];
const PATH_ELEMENTS = new Set(["FieldURI", "IndexedFieldURI", "ExtendedFieldURI"]);

function invalid(msg: string): EwsError {
  return new EwsError("ErrorInvalidRestriction", msg);
}

function pathOf(e: XmlElement): PropertyPath {
  const p = e.children.find((k) => k.ns === NS.t && PATH_ELEMENTS.has(k.name));
  if (!p) throw invalid(`${e.name} names no property.`);
  return parsePath(p);
}

function constantOf(e: XmlElement | undefined, where: string): string {
  if (!e) throw invalid(`${where} needs a Constant.`);
  const v = attr(e, "Value");
  if (v === undefined) throw invalid(`${where}: Constant needs a Value.`);
  if (v.length > MAX_CONSTANT) throw new EwsError("ErrorRestrictionTooComplex", "The restriction's constant is too long.");
  return v;
}

/**
 * Parses an `m:Restriction` element (its one search expression). Null when
 * absent. Malformed: ErrorInvalidRestriction; too large: ErrorRestrictionTooComplex.
 */
export function parseRestriction(el: XmlElement | undefined): Restriction | null {
  if (!el) return null;
  const exprs = el.children.filter((k) => k.ns === NS.t);
  if (exprs.length !== 1) throw invalid("Restriction must hold exactly one search expression.");
  const budget = { nodes: 0 };
  return parseExpr(exprs[0]!, 0, budget);
}

function parseExpr(e: XmlElement, depth: number, budget: { nodes: number }): Restriction {
  if (++budget.nodes > MAX_RESTRICTION_NODES || depth > MAX_RESTRICTION_DEPTH) throw new EwsError("ErrorRestrictionTooComplex", "The restriction is too complex.");
  if (e.ns !== NS.t) throw invalid(`Unknown search expression ${e.name}.`);
  const kids = e.children.filter((k) => k.ns === NS.t);
  switch (e.name) {
    case "And":
    case "Or": {
      const items = kids.map((k) => parseExpr(k, depth + 1, budget));
      if (items.length === 0) return { op: "const", value: e.name === "And" };
      if (items.length === 1) return items[0]!;
      return { op: e.name === "And" ? "and" : "or", items };
    }
    case "Not": {
      if (kids.length !== 1) throw invalid("Not holds exactly one search expression.");
      return { op: "not", item: parseExpr(kids[0]!, depth + 1, budget) };
    }
    case "Exists":
      return { op: "exists", path: pathOf(e) };
    case "Excludes": {
      const bm = constantOf(kid(e, "Bitmask"), "Excludes");
      const mask = /^0x[0-9a-f]{1,8}$/i.test(bm) ? parseInt(bm, 16) : /^\d{1,10}$/.test(bm) ? Number(bm) : NaN;
      if (!Number.isInteger(mask)) throw invalid(`Bitmask "${bm.slice(0, 20)}" is not a number.`);
      return { op: "excludes", path: pathOf(e), mask };
    }
    case "Contains": {
      const mode = (attr(e, "ContainmentMode") ?? "Substring") as ContainmentMode;
      if (!MODES.includes(mode)) throw invalid(`ContainmentMode "${mode.slice(0, 30)}" is unknown.`);
      const cmp = attr(e, "ContainmentComparison") ?? "Exact";
      const known = ["Exact", "IgnoreCase", "IgnoreNonSpacingCharacters", "Loose", "IgnoreCaseAndNonSpacingCharacters", "LooseAndIgnoreCase", "LooseAndIgnoreNonSpace", "LooseAndIgnoreCaseAndIgnoreNonSpace"];
      if (!known.includes(cmp)) throw invalid(`ContainmentComparison "${cmp.slice(0, 40)}" is unknown.`);
      return {
        op: "contains",
        path: pathOf(e),
        value: constantOf(kid(e, "Constant"), "Contains"),
        mode,
        ignoreCase: /IgnoreCase|Loose/.test(cmp),
        loose: cmp.startsWith("Loose") || cmp.includes("NonSpac"),
      };
    }
    default: {
      const cmp = COMPARE[e.name];
      if (!cmp) throw invalid(`Unknown search expression ${e.name.slice(0, 60)}.`);
      const path = pathOf(e);
      const uoc = kid(e, "FieldURIOrConstant");
      if (!uoc) throw invalid(`${e.name} needs FieldURIOrConstant.`);
      const inner = uoc.children.find((k) => k.ns === NS.t);
      if (!inner) throw invalid(`${e.name}: FieldURIOrConstant is empty.`);
      const operand: Operand = inner.name === "Constant" ? { kind: "constant", value: constantOf(inner, e.name) } : { kind: "path", path: parsePath(inner) };
      return { op: "compare", cmp, path, operand };
    }
  }
}

/** Every property path a restriction reads (so a caller can tell whether it needs more than the summary). */
export function restrictionPaths(r: Restriction | null): PropertyPath[] {
  if (!r) return [];
  switch (r.op) {
    case "and":
    case "or":
      return r.items.flatMap(restrictionPaths);
    case "not":
      return restrictionPaths(r.item);
    case "const":
      return [];
    case "compare":
      return r.operand.kind === "path" ? [r.path, r.operand.path] : [r.path];
    default:
      return [r.path];
  }
}

/**
 * A copy of the restriction with each node `swap` answers replaced by its
 * answer (the caller's own evaluation of some nodes, e.g. a body search the
 * store's text index does); the rest is kept.
 */
export async function rewrite(r: Restriction, swap: (node: Restriction) => Promise<Restriction | null>): Promise<Restriction> {
  const s = await swap(r);
  if (s) return s;
  switch (r.op) {
    case "and":
    case "or": {
      const items: Restriction[] = [];
      for (const x of r.items) items.push(await rewrite(x, swap));
      return { op: r.op, items };
    }
    case "not":
      return { op: "not", item: await rewrite(r.item, swap) };
    default:
      return r;
  }
}

// ------------------------------------------------------------ evaluation

/** Folds case and, for Loose/IgnoreNonSpacing, combining marks (é ~ e) and runs of spaces. */
function fold(s: string, ignoreCase: boolean, loose: boolean): string {
  let v = s;
  if (loose) v = v.normalize("NFD").replace(/\p{M}+/gu, "").replace(/\s+/g, " ");
  return ignoreCase ? v.toLowerCase() : v;
}

function containsOne(hay: string, r: Extract<Restriction, { op: "contains" }>): boolean {
  const h = fold(hay, r.ignoreCase, r.loose);
  const n = fold(r.value, r.ignoreCase, r.loose);
  switch (r.mode) {
    case "FullString":
      return h === n;
    case "Prefixed":
      return h.startsWith(n);
    case "PrefixOnWords":
      return h.startsWith(n) || h.split(/[\s\p{P}]+/u).some((w) => w.startsWith(n));
    case "ExactPhrase":
    case "Substring":
      return h.includes(n);
  }
}

/** The constant read as the field's value is typed: number/date for numbers, boolean for booleans, else text. */
function typedConstant(v: FieldValue, c: string): string | number | boolean | undefined {
  if (typeof v === "number") {
    const t = c.trim();
    if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
    const ms = parseDateTime(t);
    if (ms !== undefined) return ms;
    return undefined;
  }
  if (typeof v === "boolean") {
    const t = c.trim().toLowerCase();
    return t === "true" || t === "1" ? true : t === "false" || t === "0" ? false : undefined;
  }
  return c;
}

/** -1/0/1, or null when the two cannot be compared. Text compares case-insensitively (Exchange's default collation). */
export function compareValues(a: string | number | boolean, b: string | number | boolean): number | null {
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "boolean" && typeof b === "boolean") return a === b ? 0 : a ? 1 : -1;
  if (typeof a === "string" && typeof b === "string") {
    const x = a.toLowerCase();
    const y = b.toLowerCase();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return null;
}

function compareOne(v: string | number | boolean, cmp: Comparison, o: string | number | boolean): boolean {
  const d = compareValues(v, o);
  if (d === null) return cmp === "ne";
  switch (cmp) {
    case "eq":
      return d === 0;
    case "ne":
      return d !== 0;
    case "gt":
      return d > 0;
    case "ge":
      return d >= 0;
    case "lt":
      return d < 0;
    case "le":
      return d <= 0;
  }
}

/** Whether an item (seen through `get`) matches. A property the item lacks matches only IsNotEqualTo and Not. */
export function evaluate(r: Restriction, get: Getter): boolean {
  switch (r.op) {
    case "const":
      return r.value;
    case "in": {
      const v = get(r.path);
      return v !== undefined && !Array.isArray(v) && r.values.has(String(v));
    }
    case "and":
      return r.items.every((x) => evaluate(x, get));
    case "or":
      return r.items.some((x) => evaluate(x, get));
    case "not":
      return !evaluate(r.item, get);
    case "exists": {
      const v = get(r.path);
      return v !== undefined && !(Array.isArray(v) && v.length === 0);
    }
    case "excludes": {
      const v = get(r.path);
      return typeof v === "number" && (v & r.mask) === 0;
    }
    case "contains": {
      const v = get(r.path);
      if (v === undefined) return false;
      if (Array.isArray(v)) return v.some((x) => containsOne(x, r));
      return containsOne(String(v), r);
    }
    case "compare": {
      const v = get(r.path);
      if (v === undefined) return r.cmp === "ne";
      const list: readonly (string | number | boolean)[] = Array.isArray(v) ? v : [v as string | number | boolean];
      let other: string | number | boolean | undefined;
      if (r.operand.kind === "path") {
        const o = get(r.operand.path);
        if (o === undefined || Array.isArray(o)) return r.cmp === "ne";
        other = o as string | number | boolean;
      }
      // A multi-valued property matches when one of its values does (IsNotEqualTo: when none equals).
      if (r.cmp === "ne") return list.every((x) => compareOne(x, "ne", other ?? typedConstant(x, (r.operand as { value: string }).value) ?? ""));
      return list.some((x) => {
        const o = other ?? typedConstant(x, (r.operand as { value: string }).value);
        return o !== undefined && compareOne(x, r.cmp, o);
      });
    }
  }
}

// ------------------------------------------------------------ QueryString

const FIELD_ALIASES: Record<string, string[]> = {
  subject: ["item:Subject"],
  from: ["message:From"],
  to: ["message:ToRecipients"],
  cc: ["message:CcRecipients"],
  body: ["item:Body"],
  category: ["item:Categories"],
  categories: ["item:Categories"],
};
/** Where a bare word is looked for (MS-OXWSSRCH: subject, body and people). */
const WORD_FIELDS = ["item:Subject", "item:Body", "message:From", "message:ToRecipients", "message:CcRecipients"];

/**
 * An AQS-lite query string (m:QueryString, Exchange 2013+) as a restriction:
 * words and "quoted phrases" must all occur (substring, ignoring case) in the
 * subject, body or an address; `field:value` limits a term to subject, from, to,
 * cc, body or category; "OR" between terms joins them.
 */
export function parseQueryString(q: string): Restriction {
  if (q.length > MAX_CONSTANT) throw new EwsError("ErrorRestrictionTooComplex", "The query string is too long.");
  const tokens = q.match(/(?:[A-Za-z]+:)?"[^"]*"|\S+/g) ?? [];
  if (tokens.length > 50) throw new EwsError("ErrorRestrictionTooComplex", "The query string has too many terms.");
  const groups: Restriction[][] = [[]];
  for (const tok of tokens) {
    if (tok === "OR") {
      groups.push([]);
      continue;
    }
    if (tok === "AND") continue;
    const m = /^([A-Za-z]+):(.*)$/.exec(tok);
    const fields = m && FIELD_ALIASES[m[1]!.toLowerCase()] ? FIELD_ALIASES[m[1]!.toLowerCase()]! : WORD_FIELDS;
    const text = (m && FIELD_ALIASES[m[1]!.toLowerCase()] ? m[2]! : tok).replace(/^"|"$/g, "");
    if (!text) continue;
    const alts: Restriction[] = fields.map((uri) => ({ op: "contains", path: { kind: "field", uri }, value: text, mode: "Substring", ignoreCase: true, loose: false }));
    groups[groups.length - 1]!.push(alts.length === 1 ? alts[0]! : { op: "or", items: alts });
  }
  const ands: Restriction[] = groups.filter((g) => g.length).map((g) => (g.length === 1 ? g[0]! : { op: "and", items: g }));
  if (ands.length === 0) return { op: "const", value: true };
  return ands.length === 1 ? ands[0]! : { op: "or", items: ands };
}
