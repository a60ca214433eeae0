/**
 * Property values on the wire (MS-OXCDATA §2.11.2 PropertyValue, §2.11.3
 * TypedPropertyValue, §2.11.4 TaggedPropertyValue, §2.11.5 PropertyProblem,
 * §2.9 PropertyTag arrays, §2.8.1 PropertyRow).
 */
import { LIMITS, WireError } from "./errors.ts";
import type { Reader } from "./reader.ts";
import type { Writer } from "./writer.ts";
import { MV_FLAG, MVI_FLAG, PT, propType, withType } from "./proptypes.ts";
import type { CountContext, PropTag, PropValue, PropertyProblem, TaggedValue } from "./proptypes.ts";
import { readRestriction, writeRestriction } from "./restriction.ts";
import type { Restriction } from "./restriction.ts";

/** Fixed byte size of one value of a scalar type (used to bound multi-value counts). */
function minSize(type: number): number {
  switch (type) {
    case PT.Integer16: return 2;
    case PT.Integer32: case PT.Floating32: case PT.ErrorCode: return 4;
    case PT.Floating64: case PT.Currency: case PT.FloatingTime: case PT.Integer64: case PT.Time: return 8;
    case PT.Guid: return 16;
    case PT.Boolean: return 1;
    case PT.String: return 2;
    case PT.String8: return 1;
    default: return 2;
  }
}

function readBinary(r: Reader, ctx: CountContext): Uint8Array {
  return ctx === "rop" ? r.bin16() : r.bin32();
}
function writeBinary(w: Writer, b: Uint8Array, ctx: CountContext): void {
  if (ctx === "rop") {
    if (b.length > 0xffff) throw new WireError("too-large", "binary value above 65535 bytes in a ROP buffer");
    w.bin16(b);
  } else w.bin32(b);
}

function readScalar(r: Reader, type: number, ctx: CountContext, depth: number): PropValue {
  switch (type) {
    case PT.Null: case PT.Unspecified: return null;
    case PT.Integer16: return r.i16();
    case PT.Integer32: return r.i32();
    case PT.ErrorCode: return r.u32();
    case PT.Floating32: return r.f32();
    case PT.Floating64: case PT.FloatingTime: return r.f64();
    case PT.Currency: case PT.Integer64: case PT.Time: return r.u64();
    case PT.Boolean: return r.u8() !== 0;
    case PT.String8: return r.cstr8();
    case PT.String: return r.cstr16();
    case PT.Guid: return r.guid();
    case PT.Binary: case PT.ServerId: case PT.Object: return readBinary(r, ctx);
    case PT.Restriction: return readRestriction(r, ctx, depth);
    case PT.RuleAction: return readRuleActionBytes(r, ctx);
    default: throw new WireError("bad-value", `property type 0x${type.toString(16)}`);
  }
}

/**
 * PtypRuleAction (MS-OXORULE §2.2.5): NoOfActions COUNT then ActionBlocks each
 * led by ActionLength COUNT. Kept as its raw bytes (the rules module decodes
 * the blocks); only the lengths are walked here to find the end.
 */
function readRuleActionBytes(r: Reader, ctx: CountContext): Uint8Array {
  const start = r.pos;
  const n = r.count(ctx === "rop" ? r.u16() : r.u32(), 256, 2, "rule actions");
  for (let i = 0; i < n; i++) r.bytes(ctx === "rop" ? r.u16() : r.u32(), "action block");
  return r.buf.subarray(start, r.pos);
}

/** MS-OXCDATA §2.11.2.1 PropertyValue of a known type. */
export function readValue(r: Reader, type: number, ctx: CountContext = "rop", depth = 0): PropValue {
  const t = type & ~MVI_FLAG;
  if (t & MV_FLAG) {
    const base = t & ~MV_FLAG;
    const n = r.count(r.u32(), LIMITS.multiValues, minSize(base), "multi-value");
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) {
      const v = readScalar(r, base, ctx, depth);
      if (v !== null && typeof v === "object" && !(v instanceof Uint8Array)) {
        throw new WireError("bad-value", `multi-valued type 0x${t.toString(16)}`);
      }
      out.push(v);
    }
    // Each element has the scalar shape of `base`; the array is homogeneous.
    return out as PropValue;
  }
  return readScalar(r, t, ctx, depth);
}

function writeScalar(w: Writer, type: number, v: unknown, ctx: CountContext): void {
  const bad = () => new WireError("bad-value", `value does not fit type 0x${type.toString(16)}`);
  switch (type) {
    case PT.Null: case PT.Unspecified: return;
    case PT.Integer16: if (typeof v !== "number") throw bad(); w.i16(v); return;
    case PT.Integer32: if (typeof v !== "number") throw bad(); w.i32(v); return;
    case PT.ErrorCode: if (typeof v !== "number") throw bad(); w.u32(v); return;
    case PT.Floating32: if (typeof v !== "number") throw bad(); w.f32(v); return;
    case PT.Floating64: case PT.FloatingTime: if (typeof v !== "number") throw bad(); w.f64(v); return;
    case PT.Currency: case PT.Integer64: case PT.Time:
      if (typeof v === "bigint") w.u64(v);
      else if (typeof v === "number") w.u64(BigInt(Math.trunc(v)));
      else throw bad();
      return;
    case PT.Boolean: w.u8(v ? 1 : 0); return;
    case PT.String8: if (typeof v !== "string") throw bad(); w.cstr8(v); return;
    case PT.String: if (typeof v !== "string") throw bad(); w.cstr16(v); return;
    case PT.Guid: if (typeof v !== "string") throw bad(); w.guid(v); return;
    case PT.Binary: case PT.ServerId: case PT.Object:
      if (!(v instanceof Uint8Array)) throw bad();
      writeBinary(w, v, ctx);
      return;
    case PT.RuleAction: if (!(v instanceof Uint8Array)) throw bad(); w.bytes(v); return;
    case PT.Restriction:
      if (v === null || typeof v !== "object" || v instanceof Uint8Array || Array.isArray(v)) throw bad();
      writeRestriction(w, v as Restriction, ctx);
      return;
    default: throw new WireError("bad-value", `property type 0x${type.toString(16)}`);
  }
}

export function writeValue(w: Writer, type: number, v: PropValue, ctx: CountContext = "rop"): void {
  const t = type & ~MVI_FLAG;
  if (t & MV_FLAG) {
    if (!Array.isArray(v)) throw new WireError("bad-value", `multi-valued type 0x${t.toString(16)} needs an array`);
    w.u32(v.length);
    for (const x of v) writeScalar(w, t & ~MV_FLAG, x, ctx);
    return;
  }
  writeScalar(w, t, v, ctx);
}

/** §2.11.4 TaggedPropertyValue. */
export function readTaggedValue(r: Reader, ctx: CountContext = "rop", depth = 0): TaggedValue {
  const tag = r.u32();
  return { tag, value: readValue(r, propType(tag), ctx, depth) };
}
export function writeTaggedValue(w: Writer, tv: TaggedValue, ctx: CountContext = "rop"): void {
  w.u32(tv.tag);
  writeValue(w, propType(tv.tag), tv.value, ctx);
}

/** §2.11.3 TypedPropertyValue: PropertyType u16 then the value. */
export function readTypedValue(r: Reader, ctx: CountContext = "rop"): { type: number; value: PropValue } {
  const type = r.u16();
  return { type, value: readValue(r, type, ctx) };
}
export function writeTypedValue(w: Writer, type: number, v: PropValue, ctx: CountContext = "rop"): void {
  w.u16(type);
  writeValue(w, type, v, ctx);
}

/** A PropertyTagArray with a u16 count (ROP requests: RopSetColumns, RopGetPropertiesSpecific ...). */
export function readTags16(r: Reader): PropTag[] {
  const n = r.count(r.u16(), LIMITS.tags, 4, "property tags");
  const tags: PropTag[] = [];
  for (let i = 0; i < n; i++) tags.push(r.u32());
  return tags;
}
export function writeTags16(w: Writer, tags: readonly PropTag[]): void {
  w.u16(tags.length);
  for (const t of tags) w.u32(t);
}
/** A LargePropertyTagArray with a u32 count (MS-OXCDATA §2.10.2; MS-OXCMAPIHTTP §2.2.1.8). */
export function readTags32(r: Reader): PropTag[] {
  const n = r.count(r.u32(), LIMITS.tags, 4, "property tags");
  const tags: PropTag[] = [];
  for (let i = 0; i < n; i++) tags.push(r.u32());
  return tags;
}
export function writeTags32(w: Writer, tags: readonly PropTag[]): void {
  w.u32(tags.length);
  for (const t of tags) w.u32(t);
}

/** §2.11.5 PropertyProblemArray with a u16 count. */
export function writeProblems(w: Writer, ps: readonly PropertyProblem[]): void {
  w.u16(ps.length);
  for (const p of ps) w.u16(p.index).u32(p.tag).u32(p.error);
}
export function readProblems(r: Reader): PropertyProblem[] {
  const n = r.count(r.u16(), LIMITS.tags, 10, "property problems");
  const out: PropertyProblem[] = [];
  for (let i = 0; i < n; i++) out.push({ index: r.u16(), tag: r.u32(), error: r.u32() });
  return out;
}

/**
 * One cell of a PropertyRow. `error` (a PtypErrorCode such as ecNotFound
 * 0x8004010F) forces the FlaggedPropertyRow form for the whole row.
 */
export type Cell = { value: PropValue } | { error: number };

/**
 * §2.8.1 PropertyRow for the given columns: StandardPropertyRow (Flag 0x00)
 * when every cell has a value, else FlaggedPropertyRow (Flag 0x01) whose cells
 * carry 0x00 value / 0x0A error. A column of type PtypUnspecified carries a
 * TypedPropertyValue (§2.8.1.1); `cellType` gives its real type.
 */
export function writePropertyRow(
  w: Writer,
  columns: readonly PropTag[],
  cells: readonly Cell[],
  ctx: CountContext = "rop",
  cellType?: (i: number) => number,
): void {
  if (cells.length !== columns.length) throw new WireError("bad-value", "row width differs from the columns");
  const flagged = cells.some((c) => "error" in c);
  w.u8(flagged ? 0x01 : 0x00);
  cells.forEach((c, i) => {
    const colType = propType(columns[i]!);
    if ("error" in c) {
      w.u8(0x0a);
      if (colType === PT.Unspecified) w.u16(PT.ErrorCode);
      w.u32(c.error);
      return;
    }
    if (flagged) w.u8(0x00);
    if (colType === PT.Unspecified) writeTypedValue(w, cellType ? cellType(i) : PT.Null, c.value, ctx);
    else writeValue(w, colType, c.value, ctx);
  });
}

/** Reads one PropertyRow for the given columns (client side; used by tests and the fuzz target). */
export function readPropertyRow(r: Reader, columns: readonly PropTag[], ctx: CountContext = "rop"): Cell[] {
  const flag = r.u8();
  if (flag !== 0x00 && flag !== 0x01) throw new WireError("bad-value", `row flag 0x${flag.toString(16)}`);
  return columns.map((col) => {
    const colType = propType(col);
    if (flag === 0x01) {
      const f = r.u8();
      if (f === 0x0a) {
        if (colType === PT.Unspecified) r.u16();
        return { error: r.u32() };
      }
      if (f === 0x01) return { error: 0x8004010f };
      if (f !== 0x00) throw new WireError("bad-value", `cell flag 0x${f.toString(16)}`);
    }
    if (colType === PT.Unspecified) return { value: readTypedValue(r, ctx).value };
    return { value: readValue(r, colType, ctx) };
  });
}

/** A tag with its type replaced by PtypErrorCode (§2.11.1: how a missing property is reported). */
export const errorTag = (tag: PropTag): PropTag => withType(tag, PT.ErrorCode);
