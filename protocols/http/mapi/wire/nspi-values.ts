/**
 * The address-book value shapes of NSPI over MAPI/HTTP (MS-OXCMAPIHTTP
 * §2.2.1): STAT (MS-OXNSPI §2.2.8), LargePropertyTagArray, the
 * AddressBookPropertyValue family and AddressBookPropertyRow.
 *
 * These differ from the ROP encodings of MS-OXCDATA §2.11: a string, binary
 * or multi-valued value is preceded by a HasValue byte (§2.2.1.1), binary and
 * multi-value counts are 32-bit, and every element of a multi-valued string or
 * binary carries its own presence byte (what Exchange and Outlook put on the
 * wire; the text of §2.2.1.1 names only the outer one).
 */
import { LIMITS, WireError } from "./errors.ts";
import type { Reader } from "./reader.ts";
import type { Writer } from "./writer.ts";

/** MS-OXNSPI §2.2.8 STAT: the client's position in one address-book table. */
export interface Stat {
  sortType: number;
  containerId: number;
  currentRec: number;
  delta: number;
  numPos: number;
  totalRecs: number;
  codePage: number;
  templateLocale: number;
  sortLocale: number;
}

export const STAT_SIZE = 36;

export function readStat(r: Reader): Stat {
  r.need(STAT_SIZE, "STAT");
  return {
    sortType: r.u32(),
    containerId: r.u32(),
    currentRec: r.u32(),
    delta: r.i32(),
    numPos: r.u32(),
    totalRecs: r.u32(),
    codePage: r.u32(),
    templateLocale: r.u32(),
    sortLocale: r.u32(),
  };
}

export function writeStat(w: Writer, s: Stat): void {
  w.u32(s.sortType).u32(s.containerId).u32(s.currentRec).i32(s.delta).u32(s.numPos).u32(s.totalRecs);
  w.u32(s.codePage).u32(s.templateLocale).u32(s.sortLocale);
}

/** An optional STAT: HasState (0xFF present, 0 absent) then the 36 bytes. */
export function readOptStat(r: Reader): Stat | null {
  return r.u8() !== 0 ? readStat(r) : null;
}

/** Property types (MS-OXCDATA §2.11.1) the address book reads and writes. */
export const PT = {
  Unspecified: 0x0000,
  Null: 0x0001,
  I16: 0x0002,
  I32: 0x0003,
  Float: 0x0004,
  Double: 0x0005,
  Error: 0x000a,
  Boolean: 0x000b,
  Object: 0x000d,
  I64: 0x0014,
  String8: 0x001e,
  String: 0x001f,
  Time: 0x0040,
  Guid: 0x0048,
  Binary: 0x0102,
  MvI32: 0x1003,
  MvString8: 0x101e,
  MvString: 0x101f,
  MvBinary: 0x1102,
} as const;

/** A property value as the address book holds it: the tag's type says how to encode it. */
export type AbValue = number | boolean | bigint | string | Uint8Array | string[] | Uint8Array[] | number[];

export interface AbTaggedValue {
  tag: number;
  value: AbValue;
}

/** LargePropertyTagArray (MS-OXCMAPIHTTP §2.2.1.8): u32 count, u32 tags. */
export function readTagArray(r: Reader): number[] {
  const n = r.count(r.u32(), LIMITS.tags, 4, "property tags");
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(r.u32());
  return out;
}

export function readOptTagArray(r: Reader): number[] | null {
  return r.u8() !== 0 ? readTagArray(r) : null;
}

export function writeTagArray(w: Writer, tags: readonly number[]): void {
  w.u32(tags.length);
  for (const t of tags) w.u32(t);
}

/** A list of minimal entry ids: u32 count then u32 each (MS-OXCMAPIHTTP §2.2.5, e.g. QueryRows ExplicitTable). */
export function readMidArray(r: Reader): number[] {
  const n = r.count(r.u32(), LIMITS.ids, 4, "minimal ids");
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(r.u32());
  return out;
}

export function writeMidArray(w: Writer, mids: readonly number[]): void {
  w.u32(mids.length);
  for (const m of mids) w.u32(m);
}

/** An 8-bit string's bytes (code page 1252 ~ Latin-1); characters above 0xFF become '?'. */
const latin1Bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => (c.charCodeAt(0) > 0xff ? 0x3f : c.charCodeAt(0)));

/**
 * AddressBookPropertyValue (§2.2.1.1) of `type`. The value must suit the
 * type (the caller built it from the tag); a mismatch is a programming error.
 */
export function writeAbValue(w: Writer, type: number, v: AbValue): void {
  switch (type) {
    case PT.I16:
      w.i16(v as number);
      return;
    case PT.I32:
    case PT.Error:
      w.u32(v as number);
      return;
    case PT.Boolean:
      w.u8(v ? 1 : 0);
      return;
    case PT.I64:
    case PT.Time:
      w.u64(typeof v === "bigint" ? v : BigInt(v as number));
      return;
    case PT.Double:
      w.f64(v as number);
      return;
    case PT.Guid:
      w.bytes(v as Uint8Array);
      return;
    case PT.String:
      w.u8(0xff).cstr16(v as string);
      return;
    case PT.String8:
      w.u8(0xff).bytes(latin1Bytes(v as string)).u8(0);
      return;
    case PT.Binary:
      w.u8(0xff).bin32(v as Uint8Array);
      return;
    case PT.MvI32:
      w.u8(0xff).u32((v as number[]).length);
      for (const x of v as number[]) w.u32(x);
      return;
    case PT.MvString:
      w.u8(0xff).u32((v as string[]).length);
      for (const x of v as string[]) w.u8(0xff).cstr16(x);
      return;
    case PT.MvString8:
      w.u8(0xff).u32((v as string[]).length);
      for (const x of v as string[]) w.u8(0xff).bytes(latin1Bytes(x)).u8(0);
      return;
    case PT.MvBinary:
      w.u8(0xff).u32((v as Uint8Array[]).length);
      for (const x of v as Uint8Array[]) w.u8(0xff).bin32(x);
      return;
    default:
      throw new WireError("bad-value", `no address-book encoding for property type 0x${type.toString(16)}`);
  }
}

/** Reads an AddressBookPropertyValue of `type` (§2.2.1.1); an absent value (HasValue 0) reads as null. */
export function readAbValue(r: Reader, type: number): AbValue | null {
  switch (type) {
    case PT.I16:
      return r.i16();
    case PT.I32:
    case PT.Error:
      return r.u32();
    case PT.Boolean:
      return r.u8() !== 0;
    case PT.I64:
    case PT.Time:
      return r.u64();
    case PT.Double:
      return r.f64();
    case PT.Guid:
      return r.bytes(16, "guid");
  }
  const has = r.u8();
  if (has === 0) return null;
  switch (type) {
    case PT.String:
      return r.cstr16();
    case PT.String8:
      return r.cstr8();
    case PT.Binary:
      return r.bin32();
    case PT.MvI32: {
      const n = r.count(r.u32(), LIMITS.multiValues, 4, "values");
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push(r.u32());
      return out;
    }
    case PT.MvString:
    case PT.MvString8: {
      const n = r.count(r.u32(), LIMITS.multiValues, 2, "values");
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        if (r.u8() === 0) { out.push(""); continue; }
        out.push(type === PT.MvString ? r.cstr16() : r.cstr8());
      }
      return out;
    }
    case PT.MvBinary: {
      const n = r.count(r.u32(), LIMITS.multiValues, 1, "values");
      const out: Uint8Array[] = [];
      for (let i = 0; i < n; i++) out.push(r.u8() === 0 ? new Uint8Array(0) : r.bin32());
      return out;
    }
    default:
      throw new WireError("bad-value", `no address-book encoding for property type 0x${type.toString(16)}`);
  }
}

/** AddressBookTaggedPropertyValue (§2.2.1.3): u16 type, u16 id, value. */
export function readAbTagged(r: Reader): AbTaggedValue & { present: boolean } {
  const type = r.u16();
  const id = r.u16();
  const v = readAbValue(r, type);
  return { tag: ((id << 16) | type) >>> 0, value: v ?? "", present: v !== null };
}

export function writeAbTagged(w: Writer, t: AbTaggedValue): void {
  w.u16(t.tag & 0xffff).u16(t.tag >>> 16);
  writeAbValue(w, t.tag & 0xffff, t.value);
}

/** AddressBookPropertyValueList (§2.2.1.4): u32 count, tagged values. */
export function writeAbValueList(w: Writer, list: readonly AbTaggedValue[]): void {
  w.u32(list.length);
  for (const t of list) writeAbTagged(w, t);
}

export function readAbValueList(r: Reader): AbTaggedValue[] {
  const n = r.count(r.u32(), LIMITS.tags, 4, "property values");
  const out: AbTaggedValue[] = [];
  for (let i = 0; i < n; i++) out.push(readAbTagged(r));
  return out;
}

/** One row cell: a value, or an error code (ecNotFound for a property the object lacks). */
export type AbCell = { value: AbValue } | { error: number };

/**
 * AddressBookPropertyRow (§2.2.1.7): Flags 0x0 when every column has a value
 * (then bare values), 0x1 otherwise (then AddressBookFlaggedPropertyValue,
 * §2.2.1.5: Flag 0x0 value, 0xA PtypErrorCode). A column of type
 * PtypUnspecified carries the value's own type first (§2.2.1.2, §2.2.1.6).
 */
export function writeAbRow(w: Writer, columns: readonly number[], cells: readonly (AbCell & { type?: number })[]): void {
  const flagged = cells.some((c) => "error" in c);
  w.u8(flagged ? 0x1 : 0x0);
  columns.forEach((col, i) => {
    const cell = cells[i]!;
    const colType = col & 0xffff;
    if ("error" in cell) {
      if (colType === PT.Unspecified) w.u16(PT.Error);
      w.u8(0xa).u32(cell.error);
      return;
    }
    const type = colType === PT.Unspecified ? (cell.type ?? PT.Null) : colType;
    if (colType === PT.Unspecified) w.u16(type);
    if (flagged) w.u8(0x0);
    writeAbValue(w, type, cell.value);
  });
}

/** Reads an AddressBookPropertyRow for `columns` (tests and the fuzz target use it to check what the server wrote). */
export function readAbRow(r: Reader, columns: readonly number[]): AbCell[] {
  const flags = r.u8();
  if (flags !== 0 && flags !== 1) throw new WireError("bad-value", `row flags ${flags}`);
  return columns.map((col) => {
    let type = col & 0xffff;
    if (type === PT.Unspecified) type = r.u16();
    if (flags === 1) {
      const f = r.u8();
      if (f === 0x1) return { error: 0x8004010f };
      if (f === 0xa) return { error: r.u32() };
      if (f !== 0x0) throw new WireError("bad-value", `flagged value flag ${f}`);
    }
    const v = readAbValue(r, type);
    return v === null ? { error: 0x8004010f } : { value: v };
  });
}
