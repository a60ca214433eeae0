/**
 * Table restrictions (MS-OXCDATA §2.12) as RopRestrict carries them, read
 * by the wire module (wire/restriction.ts) and evaluated here against a
 * row's properties. Evaluated: And, Or, Not, Content, Property,
 * CompareProperties, Bitmask, Size, Exist; SubObject, Comment and Count
 * are refused (RopRestrict answers ecNotSupported for them).
 */
import type { PropValue } from "../wire/proptypes.ts";
import type { Restriction } from "../wire/restriction.ts";
import { RopError, ec } from "./errors.ts";
import { lookup, type PropMap, type Value } from "./values.ts";

export type { Restriction };

/** Throws ecNotSupported for the node types the engine does not evaluate. */
export function checkOffered(r: Restriction, depth = 0): void {
  if (depth > 64) throw new RopError(ec.TooBig, "restriction nested too deep");
  switch (r.type) {
    case "and":
    case "or":
      for (const c of r.children) checkOffered(c, depth + 1);
      return;
    case "not":
      checkOffered(r.child, depth + 1);
      return;
    case "subObject":
    case "comment":
    case "count":
      throw new RopError(ec.NotSupported, `${r.type} restrictions are not offered`);
    default:
      return;
  }
}

const scalar = (v: PropValue): Value | null =>
  typeof v === "number" || typeof v === "bigint" || typeof v === "boolean" || typeof v === "string" || v instanceof Uint8Array ? v : null;

/** -1, 0, 1, or null when the two values cannot be compared. */
export function compareValues(a: Value | null, b: Value | null): number | null {
  if (a === null || b === null) return null;
  if (typeof a === "string" && typeof b === "string") {
    const x = a.toLowerCase();
    const y = b.toLowerCase();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
    return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
  }
  const num = (v: Value): bigint | null => (typeof v === "bigint" ? v : typeof v === "number" ? BigInt(Math.trunc(v)) : typeof v === "boolean" ? (v ? 1n : 0n) : null);
  const x = num(a);
  const y = num(b);
  if (x === null || y === null) return null;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** MS-OXCDATA §2.12.5.1 RelOp: 0 LT, 1 LE, 2 GT, 3 GE, 4 EQ, 5 NE. */
function relation(relop: number, c: number | null): boolean {
  if (c === null) return false;
  switch (relop) {
    case 0: return c < 0;
    case 1: return c <= 0;
    case 2: return c > 0;
    case 3: return c >= 0;
    case 4: return c === 0;
    case 5: return c !== 0;
    default: return false;
  }
}

export function matches(r: Restriction, row: PropMap): boolean {
  const get = (tag: number) => lookup(row, tag & 0xffff0000);
  switch (r.type) {
    case "and": return r.children.every((s) => matches(s, row));
    case "or": return r.children.some((s) => matches(s, row));
    case "not": return !matches(r.child, row);
    case "exist": return get(r.tag) !== undefined;
    case "property": {
      const v = get(r.tag);
      return v !== undefined && relation(r.relop, compareValues(v.value, scalar(r.value.value)));
    }
    case "compareProps": {
      const a = get(r.tag1);
      const b = get(r.tag2);
      return !!a && !!b && relation(r.relop, compareValues(a.value, b.value));
    }
    case "bitmask": {
      // §2.12.6: BitmapRelOp 0 BMR_EQZ, 1 BMR_NEZ.
      const v = get(r.tag);
      if (!v || typeof v.value !== "number") return false;
      return ((v.value & r.mask) === 0) === (r.relop === 0);
    }
    case "size": {
      const v = get(r.tag);
      if (!v) return false;
      const size = typeof v.value === "string" ? v.value.length * 2 : v.value instanceof Uint8Array ? v.value.length : 8;
      return relation(r.relop, size < r.size ? -1 : size > r.size ? 1 : 0);
    }
    case "content": {
      // §2.12.2.1: FuzzyLevelLow 0 FULLSTRING, 1 SUBSTRING, 2 PREFIX; any FuzzyLevelHigh bit (IGNORECASE, IGNORENONSPACE, LOOSE) compares ignoring case.
      const v = get(r.tag);
      const want = scalar(r.value.value);
      if (!v || want === null) return false;
      if (typeof v.value === "string" && typeof want === "string") {
        const ignoreCase = r.fuzzyHigh !== 0;
        const hay = ignoreCase ? v.value.toLowerCase() : v.value;
        const needle = ignoreCase ? want.toLowerCase() : want;
        return r.fuzzyLow === 1 ? hay.includes(needle) : r.fuzzyLow === 2 ? hay.startsWith(needle) : hay === needle;
      }
      return compareValues(v.value, want) === 0;
    }
    default:
      return false;
  }
}
