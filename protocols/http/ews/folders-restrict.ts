/**
 * FindFolder's Restriction (Types.xsd RestrictionType) over the few folder
 * properties a client filters folders by: DisplayName, FolderClass and the
 * counts. And/Or/Not, the comparisons, Contains and Exists; anything else,
 * or a tree deeper or larger than the bounds, is ErrorInvalidRestriction /
 * ErrorRestrictionTooComplex (MS-OXWSSRCH §2.2.4.x). Folders number in the
 * tens, so each is tested on its own.
 */
import { EwsError } from "./context.ts";
import type { FolderRef } from "./ids.ts";
import { NS } from "./ns.ts";
import { attr, kid, type XmlElement } from "./xml.ts";

const MAX_DEPTH = 16;
const MAX_NODES = 256;

type Value = string | number | boolean | undefined;
/** Reads a property of the folder under test; `path` is the t:FieldURI or t:ExtendedFieldURI element. */
type Getter = (path: XmlElement) => Promise<Value>;

const COMPARISONS = new Set(["IsEqualTo", "IsNotEqualTo", "IsGreaterThan", "IsGreaterThanOrEqualTo", "IsLessThan", "IsLessThanOrEqualTo"]);

/** Checks the tree's shape and size before any folder is tested. */
function check(e: XmlElement, depth: number, count: { n: number }): void {
  if (++count.n > MAX_NODES || depth > MAX_DEPTH) throw new EwsError("ErrorRestrictionTooComplex", "The restriction is too complex.");
  if (e.ns !== NS.t) throw new EwsError("ErrorInvalidRestriction", `Unknown restriction element ${e.name}.`);
  if (e.name === "And" || e.name === "Or" || e.name === "Not") {
    const kids = e.children.filter((k) => k.ns === NS.t);
    if (kids.length === 0 || (e.name === "Not" && kids.length !== 1)) throw new EwsError("ErrorInvalidRestriction", `${e.name} needs ${e.name === "Not" ? "one" : "at least one"} expression.`);
    for (const k of kids) check(k, depth + 1, count);
    return;
  }
  if (COMPARISONS.has(e.name)) {
    if (!fieldOf(e)) throw new EwsError("ErrorInvalidRestriction", `${e.name} needs a FieldURI.`);
    const c = kid(e, "FieldURIOrConstant");
    if (!kid(c, "Constant") && !fieldOf(c)) throw new EwsError("ErrorInvalidRestriction", `${e.name} needs a FieldURIOrConstant.`);
    return;
  }
  if (e.name === "Contains") {
    if (!fieldOf(e) || attr(kid(e, "Constant"), "Value") === undefined) throw new EwsError("ErrorInvalidRestriction", "Contains needs a FieldURI and a Constant.");
    return;
  }
  if (e.name === "Exists") {
    if (!fieldOf(e)) throw new EwsError("ErrorInvalidRestriction", "Exists needs a FieldURI.");
    return;
  }
  throw new EwsError("ErrorInvalidRestriction", `The restriction ${e.name} is not supported for folders.`);
}

/** The property an expression tests: t:FieldURI (folder:DisplayName...) or t:ExtendedFieldURI (PR_CONTAINER_CLASS...). */
function fieldOf(e: XmlElement | undefined): XmlElement | undefined {
  return kid(e, "FieldURI") ?? kid(e, "ExtendedFieldURI");
}

function compare(a: Value, b: Value): number | null {
  if (a === undefined || b === undefined) return null;
  if (typeof a === "boolean" || typeof b === "boolean") return String(a).toLowerCase() === String(b).toLowerCase() ? 0 : null;
  if (typeof a === "number" || typeof b === "number") {
    const x = Number(a);
    const y = Number(b);
    return Number.isFinite(x) && Number.isFinite(y) ? x - y : null;
  }
  return a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0;
}

async function test(e: XmlElement, get: Getter): Promise<boolean> {
  const kids = e.children.filter((k) => k.ns === NS.t);
  switch (e.name) {
    case "And":
      for (const k of kids) if (!(await test(k, get))) return false;
      return true;
    case "Or":
      for (const k of kids) if (await test(k, get)) return true;
      return false;
    case "Not":
      return !(await test(kids[0]!, get));
    case "Exists":
      return (await get(fieldOf(e)!)) !== undefined;
    case "Contains": {
      const v = await get(fieldOf(e)!);
      if (v === undefined) return false;
      const ignoreCase = (attr(e, "ContainmentComparison") ?? "Exact") !== "Exact";
      const hay = ignoreCase ? String(v).toLowerCase() : String(v);
      const c = attr(kid(e, "Constant"), "Value")!;
      const needle = ignoreCase ? c.toLowerCase() : c;
      const mode = attr(e, "ContainmentMode") ?? "Substring";
      if (mode === "FullString") return hay === needle;
      if (mode === "Prefixed") return hay.startsWith(needle);
      if (mode === "PrefixOnWords") return hay.split(/\s+/).some((w) => w.startsWith(needle));
      return hay.includes(needle);
    }
    default: {
      const left = await get(fieldOf(e)!);
      const other = kid(e, "FieldURIOrConstant");
      const constant = kid(other, "Constant");
      const otherPath = fieldOf(other);
      const right = constant ? attr(constant, "Value") : otherPath ? await get(otherPath) : undefined;
      const r = compare(left, typeof left === "number" && right !== undefined ? Number(right) : right);
      if (r === null) return e.name === "IsNotEqualTo";
      switch (e.name) {
        case "IsEqualTo":
          return r === 0;
        case "IsNotEqualTo":
          return r !== 0;
        case "IsGreaterThan":
          return r > 0;
        case "IsGreaterThanOrEqualTo":
          return r >= 0;
        case "IsLessThan":
          return r < 0;
        default:
          return r <= 0;
      }
    }
  }
}

/** The folders of `refs` that match the Restriction element (m:Restriction holding one expression). */
export async function matchFolders(restriction: XmlElement, refs: FolderRef[], value: (ref: FolderRef, path: XmlElement) => Promise<Value>): Promise<FolderRef[]> {
  const exprs = restriction.children.filter((k) => k.ns === NS.t);
  if (exprs.length !== 1) throw new EwsError("ErrorInvalidRestriction", "A restriction holds one expression.");
  const root = exprs[0]!;
  check(root, 0, { n: 0 });
  const out: FolderRef[] = [];
  for (const ref of refs) if (await test(root, (path) => value(ref, path))) out.push(ref);
  return out;
}
