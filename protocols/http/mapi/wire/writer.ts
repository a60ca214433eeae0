/**
 * A growable little-endian writer (MS-OXCDATA §2.1). Produces one Uint8Array.
 */
import { guidToBytes } from "./reader.ts";

const enc = new TextEncoder();

export class Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  pos = 0;

  private grow(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.grow(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }
  u16(v: number): this {
    this.grow(2);
    this.view.setUint16(this.pos, v & 0xffff, true);
    this.pos += 2;
    return this;
  }
  i16(v: number): this {
    this.grow(2);
    this.view.setInt16(this.pos, v, true);
    this.pos += 2;
    return this;
  }
  u32(v: number): this {
    this.grow(4);
    this.view.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
    return this;
  }
  i32(v: number): this {
    this.grow(4);
    this.view.setInt32(this.pos, v | 0, true);
    this.pos += 4;
    return this;
  }
  u64(v: bigint): this {
    this.grow(8);
    this.view.setBigUint64(this.pos, BigInt.asUintN(64, v), true);
    this.pos += 8;
    return this;
  }
  f32(v: number): this {
    this.grow(4);
    this.view.setFloat32(this.pos, v, true);
    this.pos += 4;
    return this;
  }
  f64(v: number): this {
    this.grow(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
    return this;
  }
  bool(v: boolean): this {
    return this.u8(v ? 1 : 0);
  }
  bytes(b: Uint8Array): this {
    this.grow(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }
  bin16(b: Uint8Array): this {
    return this.u16(b.length).bytes(b);
  }
  bin32(b: Uint8Array): this {
    return this.u32(b.length).bytes(b);
  }
  guid(s: string): this {
    return this.bytes(guidToBytes(s));
  }
  /** NUL-terminated 8-bit string; characters above 0xFF become '?'. */
  cstr8(s: string): this {
    const b = Uint8Array.from(s, (c) => { const x = c.charCodeAt(0); return x > 0xff ? 0x3f : x; });
    return this.bytes(b).u8(0);
  }
  /** NUL-terminated UTF-16LE string. */
  cstr16(s: string): this {
    this.grow(s.length * 2 + 2);
    for (let i = 0; i < s.length; i++) this.u16(s.charCodeAt(i));
    return this.u16(0);
  }
  /** UTF-8 bytes with no terminator (for callers that need them). */
  utf8(s: string): this {
    return this.bytes(enc.encode(s));
  }
  /** Overwrite a u16 at an earlier offset (sizes known only after writing). */
  patchU16(at: number, v: number): void {
    this.view.setUint16(at, v & 0xffff, true);
  }
  patchU32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0, true);
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
