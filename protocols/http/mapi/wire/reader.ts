/**
 * A sans-IO little-endian reader over one Uint8Array (MS-OXCDATA §2.1: all
 * multi-byte fields are little-endian). Every read checks the remaining bytes
 * first and throws WireError("truncated") instead of reading past the end.
 */
import { WireError } from "./errors.ts";

const utf16 = new TextDecoder("utf-16le");
/** ISO-8859-1: one byte, one code point (TextDecoder's "latin1" is windows-1252, which does not round-trip). */
export function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

export class Reader {
  private readonly view: DataView;
  pos: number;

  constructor(readonly buf: Uint8Array, pos = 0, readonly end = buf.length) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws unless `n` more bytes exist. */
  need(n: number, what = "field"): void {
    if (!Number.isInteger(n) || n < 0 || n > this.end - this.pos) {
      throw new WireError("truncated", `${what} needs ${n} bytes, ${this.end - this.pos} left at ${this.pos}`);
    }
  }

  /** A count read from the buffer, checked against a limit and (for items of `minSize` bytes) the bytes left. */
  count(n: number, limit: number, minSize: number, what: string): number {
    if (n > limit) throw new WireError("too-large", `${what} count ${n} above ${limit}`);
    if (minSize > 0 && n * minSize > this.remaining) {
      throw new WireError("truncated", `${what} count ${n} exceeds the ${this.remaining} bytes left`);
    }
    return n;
  }

  u8(): number {
    this.need(1, "u8");
    return this.buf[this.pos++]!;
  }
  u16(): number {
    this.need(2, "u16");
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  i16(): number {
    this.need(2, "i16");
    const v = this.view.getInt16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4, "u32");
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  i32(): number {
    this.need(4, "i32");
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    this.need(8, "u64");
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }
  f32(): number {
    this.need(4, "f32");
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }
  f64(): number {
    this.need(8, "f64");
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
  bool(): boolean {
    return this.u8() !== 0;
  }

  /** `n` bytes as a copy-free view. */
  bytes(n: number, what = "bytes"): Uint8Array {
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  /** The rest of the buffer. */
  rest(): Uint8Array {
    return this.bytes(this.remaining);
  }
  /** Binary with a 16-bit count (MS-OXCDATA §2.11.1 PtypBinary COUNT = u16 in ROPs). */
  bin16(): Uint8Array {
    return this.bytes(this.u16(), "binary16");
  }
  /** Binary with a 32-bit count. */
  bin32(): Uint8Array {
    return this.bytes(this.u32(), "binary32");
  }
  /** A 16-byte GUID in its binary (mixed-endian) layout, returned as the canonical string. */
  guid(): string {
    return guidToString(this.bytes(16, "guid"));
  }

  /** A NUL-terminated 8-bit string (PtypString8; ASCII/Latin-1 code page). */
  cstr8(): string {
    const start = this.pos;
    const at = this.buf.subarray(start, this.end).indexOf(0);
    if (at < 0) throw new WireError("truncated", `string8 at ${start} has no terminator`);
    this.pos = start + at + 1;
    return latin1(this.buf.subarray(start, start + at));
  }
  /** A NUL-terminated UTF-16LE string (PtypString): the terminator is a 2-byte aligned 0x0000. */
  cstr16(): string {
    const start = this.pos;
    for (let p = start; p + 1 < this.end; p += 2) {
      if (this.buf[p] === 0 && this.buf[p + 1] === 0) {
        this.pos = p + 2;
        return utf16.decode(this.buf.subarray(start, p));
      }
    }
    throw new WireError("truncated", `string at ${start} has no terminator`);
  }

  /** Throws unless every byte was consumed. */
  done(what = "buffer"): void {
    if (this.pos !== this.end) throw new WireError("trailing", `${this.end - this.pos} bytes after the ${what}`);
  }
}

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** MS-DTYP §2.3.4.2 GUID packet: Data1 u32 LE, Data2 u16 LE, Data3 u16 LE, Data4 8 bytes. */
export function guidToString(b: Uint8Array): string {
  if (b.length !== 16) throw new WireError("bad-value", "a GUID is 16 bytes");
  const d1 = hex(b.subarray(0, 4).slice().reverse());
  const d2 = hex(b.subarray(4, 6).slice().reverse());
  const d3 = hex(b.subarray(6, 8).slice().reverse());
  return `${d1}-${d2}-${d3}-${hex(b.subarray(8, 10))}-${hex(b.subarray(10, 16))}`;
}

export function guidToBytes(s: string): Uint8Array {
  const h = s.replace(/[{}-]/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(h)) throw new WireError("bad-value", `not a GUID: ${s}`);
  const raw = Uint8Array.from({ length: 16 }, (_, i) => parseInt(h.slice(i * 2, i * 2 + 2), 16));
  const out = raw.slice();
  out.set(raw.subarray(0, 4).slice().reverse(), 0);
  out.set(raw.subarray(4, 6).slice().reverse(), 4);
  out.set(raw.subarray(6, 8).slice().reverse(), 6);
  return out;
}
