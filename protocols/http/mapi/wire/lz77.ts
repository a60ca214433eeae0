/**
 * The LZ77 ("DIRECT2") compression of ROP buffers (MS-OXCRPC §3.1.7.2):
 * 32-bit flag words, most significant bit first, 0 = literal byte, 1 = a
 * 2-byte match (offset-1 in the high 13 bits, length-3 in the low 3; length 7
 * continues in a shared nibble, then a byte, then a u16).
 */
import { WireError } from "./errors.ts";

/** Decompresses `input` into exactly `expected` bytes (SizeActual), never more. */
export function lz77Decompress(input: Uint8Array, expected: number): Uint8Array {
  const out = new Uint8Array(expected);
  let ip = 0;
  let op = 0;
  let flags = 0;
  let flagCount = 0;
  let sharedNibble = -1;
  const byte = (): number => {
    if (ip >= input.length) throw new WireError("truncated", "LZ77 stream ends inside a match");
    return input[ip++]!;
  };
  for (;;) {
    if (flagCount === 0) {
      if (ip + 4 > input.length) break;
      flags = (input[ip]! | (input[ip + 1]! << 8) | (input[ip + 2]! << 16) | (input[ip + 3]! << 24)) >>> 0;
      ip += 4;
      flagCount = 32;
    }
    flagCount--;
    if (ip >= input.length) break;
    if ((flags & (1 << flagCount)) === 0) {
      if (op >= expected) throw new WireError("bad-value", "LZ77 output longer than SizeActual");
      out[op++] = input[ip++]!;
      continue;
    }
    const meta = byte() | (byte() << 8);
    let length = meta & 7;
    const offset = (meta >> 3) + 1;
    if (length === 7) {
      if (sharedNibble < 0) {
        sharedNibble = ip;
        length = byte() & 0x0f;
      } else {
        length = input[sharedNibble]! >> 4;
        sharedNibble = -1;
      }
      if (length === 15) {
        length = byte();
        if (length === 255) {
          length = byte() | (byte() << 8);
          if (length < 15 + 7) throw new WireError("bad-value", "LZ77 match length below its minimum");
          length -= 15 + 7;
        }
        length += 15;
      }
      length += 7;
    }
    length += 3;
    if (offset > op) throw new WireError("bad-value", "LZ77 match before the start of the output");
    if (op + length > expected) throw new WireError("bad-value", "LZ77 output longer than SizeActual");
    for (let i = 0; i < length; i++, op++) out[op] = out[op - offset]!;
  }
  if (op !== expected) throw new WireError("truncated", `LZ77 produced ${op} of ${expected} bytes`);
  return out;
}

/**
 * A small greedy compressor in the same format (used by tests and available
 * to a server that chooses to compress): hash of 3 bytes -> last position.
 */
export function lz77Compress(input: Uint8Array): Uint8Array {
  const out: number[] = [];
  let flagPos = 0;
  let flagBits = 0;
  let flagCount = 0;
  let sharedNibble = -1;
  const startFlags = () => {
    flagPos = out.length;
    out.push(0, 0, 0, 0);
    flagBits = 0;
    flagCount = 0;
  };
  const pushFlag = (bit: number) => {
    if (flagCount === 32) {
      writeFlags();
      startFlags();
    }
    flagBits = (flagBits | (bit << (31 - flagCount))) >>> 0;
    flagCount++;
  };
  const writeFlags = () => {
    out[flagPos] = flagBits & 0xff;
    out[flagPos + 1] = (flagBits >>> 8) & 0xff;
    out[flagPos + 2] = (flagBits >>> 16) & 0xff;
    out[flagPos + 3] = (flagBits >>> 24) & 0xff;
  };
  startFlags();
  const table = new Map<number, number>();
  let i = 0;
  while (i < input.length) {
    let best = 0;
    let bestOff = 0;
    if (i + 3 <= input.length) {
      const key = (input[i]! << 16) | (input[i + 1]! << 8) | input[i + 2]!;
      const prev = table.get(key);
      table.set(key, i);
      if (prev !== undefined && i - prev <= 8192) {
        let n = 0;
        while (i + n < input.length && n < 0xffff && input[prev + n] === input[i + n]) n++;
        if (n >= 3) {
          best = n;
          bestOff = i - prev;
        }
      }
    }
    if (best === 0) {
      pushFlag(0);
      out.push(input[i]!);
      i++;
      continue;
    }
    pushFlag(1);
    const len = best - 3;
    const meta = ((bestOff - 1) << 3) | Math.min(len, 7);
    out.push(meta & 0xff, meta >> 8);
    if (len >= 7) {
      const rest = len - 7;
      const nib = Math.min(rest, 15);
      if (sharedNibble < 0) {
        sharedNibble = out.length;
        out.push(nib);
      } else {
        out[sharedNibble] = out[sharedNibble]! | (nib << 4);
        sharedNibble = -1;
      }
      if (rest >= 15) {
        const r2 = rest - 15;
        if (r2 < 255) out.push(r2);
        else {
          const total = len; // the u16 holds the whole length-3
          out.push(255, total & 0xff, total >> 8);
        }
      }
    }
    i += best;
  }
  writeFlags();
  return Uint8Array.from(out);
}
