/**
 * Property types and tags (MS-OXCDATA §2.9 PropertyTag, §2.11.1 property data
 * types) and the JS shape each value takes after decoding.
 */
import type { Restriction } from "./restriction.ts";

/** MS-OXCDATA §2.11.1 property data types. */
export const PT = {
  Unspecified: 0x0000,
  Null: 0x0001,
  Integer16: 0x0002,
  Integer32: 0x0003,
  Floating32: 0x0004,
  Floating64: 0x0005,
  Currency: 0x0006,
  FloatingTime: 0x0007,
  ErrorCode: 0x000a,
  Boolean: 0x000b,
  Object: 0x000d,
  Integer64: 0x0014,
  String8: 0x001e,
  String: 0x001f,
  Time: 0x0040,
  Guid: 0x0048,
  ServerId: 0x00fb,
  Restriction: 0x00fd,
  RuleAction: 0x00fe,
  Binary: 0x0102,
  MultipleInteger16: 0x1002,
  MultipleInteger32: 0x1003,
  MultipleFloating32: 0x1004,
  MultipleFloating64: 0x1005,
  MultipleCurrency: 0x1006,
  MultipleFloatingTime: 0x1007,
  MultipleInteger64: 0x1014,
  MultipleString8: 0x101e,
  MultipleString: 0x101f,
  MultipleTime: 0x1040,
  MultipleGuid: 0x1048,
  MultipleBinary: 0x1102,
} as const;

/** MS-OXCDATA §2.11.1: the 0x1000 bit marks a multi-valued type; 0x2000 (MVI) appears in table columns only. */
export const MV_FLAG = 0x1000;
export const MVI_FLAG = 0x2000;

/** A 32-bit property tag: id in the high 16 bits, type in the low 16 (MS-OXCDATA §2.9). */
export type PropTag = number;
export const propTag = (id: number, type: number): PropTag => (((id & 0xffff) << 16) | (type & 0xffff)) >>> 0;
export const propId = (tag: PropTag): number => (tag >>> 16) & 0xffff;
export const propType = (tag: PropTag): number => tag & 0xffff;
export const withType = (tag: PropTag, type: number): PropTag => propTag(propId(tag), type);

/**
 * A decoded property value. Integer16/32, Floating32/64, FloatingTime and
 * ErrorCode are numbers; Integer64, Currency and Time (FILETIME, 100 ns since
 * 1601) are bigints; Boolean is boolean; String/String8 are strings; Guid is
 * the canonical GUID string; Binary, ServerId, Object and RuleAction (the raw
 * RuleAction buffer, MS-OXORULE §2.2.5) are bytes; Restriction is the parsed
 * tree; multi-valued types are arrays; Null/Unspecified is null.
 */
export type PropValue =
  | null
  | number
  | bigint
  | boolean
  | string
  | Uint8Array
  | Restriction
  | number[]
  | bigint[]
  | string[]
  | Uint8Array[];

/** MS-OXCDATA §2.11.4 TaggedPropertyValue: a tag and a value of the tag's type. */
export interface TaggedValue {
  tag: PropTag;
  value: PropValue;
}

/** MS-OXCDATA §2.11.5 PropertyProblem. */
export interface PropertyProblem {
  index: number;
  tag: PropTag;
  error: number;
}

/**
 * Where a value is encoded (MS-OXCDATA §2.11.1.1 COUNT): in ROP buffers binary
 * byte counts are 16-bit and multi-value counts 32-bit; in MAPI/HTTP NSPI
 * bodies (MS-OXCMAPIHTTP §2.2.5) and extended rules both are 32-bit.
 */
export type CountContext = "rop" | "nspi";

/** FILETIME (100 ns ticks since 1601-01-01) <-> Date. */
const EPOCH_DIFF = 116444736000000000n;
export const dateToFiletime = (d: Date): bigint => BigInt(d.getTime()) * 10000n + EPOCH_DIFF;
export const filetimeToDate = (t: bigint): Date => new Date(Number((t - EPOCH_DIFF) / 10000n));
