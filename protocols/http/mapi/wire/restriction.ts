/**
 * Restrictions (MS-OXCDATA §2.12) and sort orders (§2.13).
 */
import { LIMITS, WireError } from "./errors.ts";
import type { Reader } from "./reader.ts";
import type { Writer } from "./writer.ts";
import type { CountContext, PropTag, TaggedValue } from "./proptypes.ts";
import { readTaggedValue, writeTaggedValue } from "./propvalue.ts";

/** MS-OXCDATA §2.12 RestrictType values. */
export const RES = {
  And: 0x00, Or: 0x01, Not: 0x02, Content: 0x03, Property: 0x04, CompareProps: 0x05,
  Bitmask: 0x06, Size: 0x07, Exist: 0x08, SubObject: 0x09, Comment: 0x0a, Count: 0x0b,
} as const;

/** MS-OXCDATA §2.12.5.1 RelOp. */
export const RELOP = { LT: 0x00, LE: 0x01, GT: 0x02, GE: 0x03, EQ: 0x04, NE: 0x05, RE: 0x06, MemberOfDL: 0x64 } as const;
/** MS-OXCDATA §2.12.2.1 FuzzyLevelLow / High. */
export const FL = { FullString: 0x0000, Substring: 0x0001, Prefix: 0x0002, IgnoreCase: 0x0001, IgnoreNonSpace: 0x0002, Loose: 0x0004 } as const;

export type Restriction =
  | { type: "and"; children: Restriction[] }
  | { type: "or"; children: Restriction[] }
  | { type: "not"; child: Restriction }
  | { type: "content"; fuzzyLow: number; fuzzyHigh: number; tag: PropTag; value: TaggedValue }
  | { type: "property"; relop: number; tag: PropTag; value: TaggedValue }
  | { type: "compareProps"; relop: number; tag1: PropTag; tag2: PropTag }
  | { type: "bitmask"; relop: number; tag: PropTag; mask: number } // relop 0 = EQZ, 1 = NEZ (§2.12.6)
  | { type: "size"; relop: number; tag: PropTag; size: number }
  | { type: "exist"; tag: PropTag }
  | { type: "subObject"; subObject: PropTag; child: Restriction }
  | { type: "comment"; values: TaggedValue[]; child: Restriction | null }
  | { type: "count"; count: number; child: Restriction };

function readCount(r: Reader, ctx: CountContext): number {
  return ctx === "rop" ? r.u16() : r.u32();
}

export function readRestriction(r: Reader, ctx: CountContext = "rop", depth = 0): Restriction {
  if (depth > LIMITS.restrictionDepth) throw new WireError("too-large", "restriction nested too deeply");
  const kind = r.u8();
  switch (kind) {
    case RES.And:
    case RES.Or: {
      const n = r.count(readCount(r, ctx), LIMITS.restrictionChildren, 1, "restriction children");
      const children: Restriction[] = [];
      for (let i = 0; i < n; i++) children.push(readRestriction(r, ctx, depth + 1));
      return { type: kind === RES.And ? "and" : "or", children };
    }
    case RES.Not:
      return { type: "not", child: readRestriction(r, ctx, depth + 1) };
    case RES.Content: {
      const fuzzyLow = r.u16();
      const fuzzyHigh = r.u16();
      const tag = r.u32();
      return { type: "content", fuzzyLow, fuzzyHigh, tag, value: readTaggedValue(r, ctx, depth + 1) };
    }
    case RES.Property: {
      const relop = r.u8();
      const tag = r.u32();
      return { type: "property", relop, tag, value: readTaggedValue(r, ctx, depth + 1) };
    }
    case RES.CompareProps:
      return { type: "compareProps", relop: r.u8(), tag1: r.u32(), tag2: r.u32() };
    case RES.Bitmask:
      return { type: "bitmask", relop: r.u8(), tag: r.u32(), mask: r.u32() };
    case RES.Size:
      return { type: "size", relop: r.u8(), tag: r.u32(), size: r.u32() };
    case RES.Exist:
      return { type: "exist", tag: r.u32() };
    case RES.SubObject:
      return { type: "subObject", subObject: r.u32(), child: readRestriction(r, ctx, depth + 1) };
    case RES.Comment: {
      const n = r.count(r.u8(), 255, 4, "comment values");
      const values: TaggedValue[] = [];
      for (let i = 0; i < n; i++) values.push(readTaggedValue(r, ctx, depth + 1));
      const present = r.u8();
      return { type: "comment", values, child: present ? readRestriction(r, ctx, depth + 1) : null };
    }
    case RES.Count:
      return { type: "count", count: r.u32(), child: readRestriction(r, ctx, depth + 1) };
    default:
      throw new WireError("bad-value", `restriction type 0x${kind.toString(16)}`);
  }
}

export function writeRestriction(w: Writer, res: Restriction, ctx: CountContext = "rop"): void {
  const count = (n: number) => (ctx === "rop" ? w.u16(n) : w.u32(n));
  switch (res.type) {
    case "and":
    case "or":
      w.u8(res.type === "and" ? RES.And : RES.Or);
      count(res.children.length);
      for (const c of res.children) writeRestriction(w, c, ctx);
      return;
    case "not":
      w.u8(RES.Not);
      writeRestriction(w, res.child, ctx);
      return;
    case "content":
      w.u8(RES.Content).u16(res.fuzzyLow).u16(res.fuzzyHigh).u32(res.tag);
      writeTaggedValue(w, res.value, ctx);
      return;
    case "property":
      w.u8(RES.Property).u8(res.relop).u32(res.tag);
      writeTaggedValue(w, res.value, ctx);
      return;
    case "compareProps":
      w.u8(RES.CompareProps).u8(res.relop).u32(res.tag1).u32(res.tag2);
      return;
    case "bitmask":
      w.u8(RES.Bitmask).u8(res.relop).u32(res.tag).u32(res.mask);
      return;
    case "size":
      w.u8(RES.Size).u8(res.relop).u32(res.tag).u32(res.size);
      return;
    case "exist":
      w.u8(RES.Exist).u32(res.tag);
      return;
    case "subObject":
      w.u8(RES.SubObject).u32(res.subObject);
      writeRestriction(w, res.child, ctx);
      return;
    case "comment":
      w.u8(RES.Comment).u8(res.values.length);
      for (const v of res.values) writeTaggedValue(w, v, ctx);
      w.u8(res.child ? 1 : 0);
      if (res.child) writeRestriction(w, res.child, ctx);
      return;
    case "count":
      w.u8(RES.Count).u32(res.count);
      writeRestriction(w, res.child, ctx);
      return;
  }
}

/** MS-OXCDATA §2.13.1 SortOrder: PropertyType u16, PropertyId u16, Order u8. */
export interface SortOrder {
  tag: PropTag;
  /** 0x00 ascending, 0x01 descending, 0x04 maximum category, 0x08 minimum category. */
  order: number;
}
/** MS-OXCDATA §2.13.2 SortOrderSet. */
export interface SortOrderSet {
  categorizedCount: number;
  expandedCount: number;
  sorts: SortOrder[];
}

export function readSortOrderSet(r: Reader): SortOrderSet {
  const n = r.count(r.u16(), LIMITS.tags, 5, "sort orders");
  const categorizedCount = r.u16();
  const expandedCount = r.u16();
  const sorts: SortOrder[] = [];
  for (let i = 0; i < n; i++) {
    const type = r.u16();
    const id = r.u16();
    sorts.push({ tag: ((id << 16) | type) >>> 0, order: r.u8() });
  }
  return { categorizedCount, expandedCount, sorts };
}

export function writeSortOrderSet(w: Writer, s: SortOrderSet): void {
  w.u16(s.sorts.length).u16(s.categorizedCount).u16(s.expandedCount);
  for (const o of s.sorts) w.u16(o.tag & 0xffff).u16(o.tag >>> 16).u8(o.order);
}
