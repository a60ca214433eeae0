/**
 * Property values as the engine holds them and their wire form (MS-OXCDATA
 * §2.11.1 property data types, §2.11.2 PropertyValue, §2.11.4
 * TaggedPropertyValue, §2.8.1 PropertyRow).
 */
import type { Writer } from "../wire/writer.ts";
import { ec } from "./errors.ts";

/** MS-OXCDATA §2.11.1 type codes the engine reads and writes. */
export const PT = {
  Unspecified: 0x0000,
  Null: 0x0001,
  I16: 0x0002,
  I32: 0x0003,
  F64: 0x0005,
  Error: 0x000a,
  Bool: 0x000b,
  I64: 0x0014,
  String8: 0x001e,
  Unicode: 0x001f,
  Time: 0x0040,
  Guid: 0x0048,
  Binary: 0x0102,
} as const;

export type Value = number | bigint | boolean | string | Uint8Array;

export const tagType = (tag: number): number => tag & 0xffff;
export const tagId = (tag: number): number => tag >>> 16;
export const mkTag = (id: number, type: number): number => ((id << 16) | type) >>> 0;

/** A property known for an object: its tag (with our type) and value. */
export type PropMap = Map<number /* property id */, { type: number; value: Value }>;

const FILETIME_EPOCH_MS = 11644473600000n;

/** ms since the Unix epoch -> FILETIME (100 ns since 1601, MS-DTYP §2.3.3). */
export function fileTime(ms: number): bigint {
  return (BigInt(Math.trunc(ms)) + FILETIME_EPOCH_MS) * 10000n;
}
/** Writes one value of `type` (a request may ask String8 of a Unicode property: converted here). */
export function writeValue(w: Writer, type: number, v: Value): void {
  switch (type) {
    case PT.I16:
      w.i16(Number(v));
      return;
    case PT.I32:
    case PT.Error:
      w.u32(Number(v));
      return;
    case PT.F64:
      w.f64(Number(v));
      return;
    case PT.Bool:
      w.u8(v ? 1 : 0);
      return;
    case PT.I64:
    case PT.Time:
      w.u64(typeof v === "bigint" ? v : BigInt(Math.trunc(Number(v))));
      return;
    case PT.String8:
      w.cstr8(String(v));
      return;
    case PT.Unicode:
      w.cstr16(String(v));
      return;
    case PT.Guid:
      w.bytes(v instanceof Uint8Array && v.length === 16 ? v : new Uint8Array(16));
      return;
    case PT.Binary:
      w.bin16(v instanceof Uint8Array ? v : new TextEncoder().encode(String(v)));
      return;
    default:
      throw new Error(`no writer for property type 0x${type.toString(16)}`);
  }
}

/** The value of `tag` in `props` as the tag asks (by id; a String8/Unicode request gets either), or undefined. */
export function lookup(props: PropMap, tag: number): { type: number; value: Value } | undefined {
  const p = props.get(tagId(tag));
  if (!p) return undefined;
  const want = tagType(tag);
  if (want === PT.Unspecified || want === p.type) return p;
  if ((want === PT.String8 || want === PT.Unicode) && (p.type === PT.String8 || p.type === PT.Unicode)) return { type: want, value: p.value };
  return undefined;
}

/**
 * A PropertyRow for `tags` (MS-OXCDATA §2.8.1): a StandardPropertyRow when
 * every value exists, else a FlaggedPropertyRow whose missing values are
 * PtypErrorCode ecNotFound (flag 0x0A). `sizeLimit` > 0 turns larger values
 * into ecNotEnoughMemory-style errors so the client opens a stream.
 */
export function writeRow(w: Writer, tags: readonly number[], props: PropMap, sizeLimit = 0): void {
  const vals = tags.map((t) => lookup(props, t));
  const big = (v: { type: number; value: Value }) => sizeLimit > 0 && valueSize(v) > sizeLimit;
  const flagged = vals.some((v) => !v || big(v));
  w.u8(flagged ? 1 : 0);
  for (const [i, tag] of tags.entries()) {
    const v = vals[i];
    const unspecified = tagType(tag) === PT.Unspecified;
    if (!flagged) {
      if (unspecified) w.u16(v!.type);
      writeValue(w, v!.type, v!.value);
    } else if (!v || big(v)) {
      if (unspecified) w.u16(PT.Error);
      w.u8(0x0a);
      w.u32(v ? 0x8007000e /* ecNotEnoughMemory: read it as a stream, MS-OXCPRPT §3.2.5.1 */ : ec.NotFound);
    } else {
      if (unspecified) w.u16(v.type);
      w.u8(0);
      writeValue(w, v.type, v.value);
    }
  }
}

/** Rough wire size of a value (for size limits and buffer budgets). */
export function valueSize(v: { type: number; value: Value }): number {
  if (typeof v.value === "string") return (v.value.length + 1) * (v.type === PT.String8 ? 1 : 2);
  if (v.value instanceof Uint8Array) return v.value.length + 2;
  return 8;
}
