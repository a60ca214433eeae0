/**
 * Table restrictions (MS-OXCDATA §2.12) as RopRestrict carries them (counts
 * of And/Or are 16-bit in ROPs, §2.12.1.1), parsed into a tree and evaluated
 * against a row's properties. Offered: And, Or, Not, Content, Property,
 * CompareProperties, Bitmask, Size, Exist; SubObject/Comment/Count are
 * refused (RopRestrict answers ecNotSupported for them).
 */
import type { Reader } from "../wire/reader.ts";
import { WireError } from "../wire/errors.ts";
import { RopError, ec } from "./errors.ts";
import { lookup, readValue, tagType, type PropMap, type Value } from "./values.ts";

export type Restriction =
  | { kind: "and" | "or"; subs: Restriction[] }
  | { kind: "not"; sub: Restriction }
  | { kind: "content"; fuzzy: number; tag: number; value: Value }
  | { kind: "property"; relop: number; tag: number; value: Value }
  | { kind: "compare"; relop: number; tag1: number; tag2: number }
  | { kind: "bitmask"; zero: boolean; tag: number; mask: number }
  | { kind: "size"; relop: number; tag: number; size: number }
  | { kind: "exist"; tag: number };

const MAX_DEPTH = 32;
const MAX_NODES = 4096;

export function readRestriction(r: Reader): Restriction {
  let nodes = 0;
  const one = (depth: number): Restriction => {
    if (depth > MAX_DEPTH) throw new WireError("too-large", "restriction nested too deep");
    if (++nodes > MAX_NODES) throw new WireError("too-large", "restriction has too many nodes");
    const type = r.u8();
    switch (type) {
      case 0x00:
      case 0x01: {
        const n = r.count(r.u16(), MAX_NODES, 1, "restriction");
        const subs: Restriction[] = [];
        for (let i = 0; i < n; i++) subs.push(one(depth + 1));
        return { kind: type === 0 ? "and" : "or", subs };
      }
      case 0x02:
        return { kind: "not", sub: one(depth + 1) };
      case 0x03: {
        const fuzzy = r.u32();
        const tag = r.u32();
        const vtag = r.u32();
        return { kind: "content", fuzzy, tag, value: readValue(r, tagType(vtag)) };
      }
      case 0x04: {
        const relop = r.u8();
        const tag = r.u32();
        const vtag = r.u32();
        return { kind: "property", relop, tag, value: readValue(r, tagType(vtag)) };
      }
      case 0x05:
        return { kind: "compare", relop: r.u8(), tag1: r.u32(), tag2: r.u32() };
      case 0x06:
        return { kind: "bitmask", zero: r.u8() === 0, tag: r.u32(), mask: r.u32() };
      case 0x07:
        return { kind: "size", relop: r.u8(), tag: r.u32(), size: r.u32() };
      case 0x08:
        return { kind: "exist", tag: r.u32() };
      case 0x09:
      case 0x0a:
      case 0x0b:
        throw new RopError(ec.NotSupported, `restriction type ${type} not offered`);
      default:
        throw new WireError("bad-value", `restriction type ${type}`);
    }
  };
  return one(0);
}

/** -1, 0, 1, or null when the two values cannot be compared. */
export function compareValues(a: Value, b: Value): number | null {
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
  switch (r.kind) {
    case "and": return r.subs.every((s) => matches(s, row));
    case "or": return r.subs.some((s) => matches(s, row));
    case "not": return !matches(r.sub, row);
    case "exist": return lookup(row, r.tag & 0xffff0000) !== undefined;
    case "property": {
      const v = lookup(row, r.tag & 0xffff0000);
      return v !== undefined && relation(r.relop, compareValues(v.value, r.value));
    }
    case "compare": {
      const a = lookup(row, r.tag1 & 0xffff0000);
      const b = lookup(row, r.tag2 & 0xffff0000);
      return !!a && !!b && relation(r.relop, compareValues(a.value, b.value));
    }
    case "bitmask": {
      const v = lookup(row, r.tag & 0xffff0000);
      if (!v || typeof v.value !== "number") return false;
      return ((v.value & r.mask) === 0) === r.zero;
    }
    case "size": {
      const v = lookup(row, r.tag & 0xffff0000);
      if (!v) return false;
      const size = typeof v.value === "string" ? v.value.length * 2 : v.value instanceof Uint8Array ? v.value.length : 8;
      return relation(r.relop, size < r.size ? -1 : size > r.size ? 1 : 0);
    }
    case "content": {
      // MS-OXCDATA §2.12.2.1: FuzzyLevelLow 0 FULLSTRING, 1 SUBSTRING, 2 PREFIX; FuzzyLevelHigh 0x1 IGNORECASE (0x2, 0x4 loose forms: treated as ignore-case).
      const v = lookup(row, r.tag & 0xffff0000);
      if (!v) return false;
      const low = r.fuzzy & 0xffff;
      const ignoreCase = (r.fuzzy >>> 16) !== 0;
      if (typeof v.value === "string" && typeof r.value === "string") {
        const hay = ignoreCase ? v.value.toLowerCase() : v.value;
        const needle = ignoreCase ? r.value.toLowerCase() : r.value;
        return low === 1 ? hay.includes(needle) : low === 2 ? hay.startsWith(needle) : hay === needle;
      }
      return compareValues(v.value, r.value) === 0;
    }
  }
}
