/**
 * The on-the-wire form of a message in a POP3 multi-line response, sans-IO.
 *
 * RFC 1939 §3: multi-line responses are CRLF-terminated lines, every line
 * starting with "." gets one more "." (byte-stuffing), and the response ends
 * with ".CRLF". Stored messages are kept byte-for-byte as received, so a
 * message may hold bare LFs: they go out as CRLF, and a last line without a
 * line end gets one. `wireSize` counts exactly what `WireEncoder` emits for
 * the message itself (without stuffing and terminator), which is the size
 * RFC 1939 §5 LIST/STAT report, so a client can check RETR against LIST.
 */

import { Buffer } from "node:buffer";
import { crlfSize } from "../../mail/crlf.ts";

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;

const TERMINATOR = new Uint8Array([DOT, CR, LF]);
const CRLF_TERMINATOR = new Uint8Array([CR, LF, DOT, CR, LF]);

/** Octets of the message in CRLF form (RFC 1939 §5 "exact size"), as `WireEncoder` sends it; the store records the same number at ingest. */
export const wireSize = crlfSize;

/**
 * Streaming encoder: feed the stored message in chunks, send what `push`
 * returns, then what `finish` returns. With `bodyLines` set it produces the
 * TOP response (RFC 1939 §7): the header, the blank line, and that many body
 * lines; `done` turns true once nothing more is wanted, so the caller stops
 * reading the blob.
 */
export class WireEncoder {
  private atLineStart = true;
  private prevCR = false;
  /** Octets of the current line so far (to recognise the empty line ending the header). */
  private lineLen = 0;
  private inBody = false;
  private linesLeft: number;
  done = false;

  constructor(bodyLines?: number) {
    this.linesLeft = bodyLines ?? Infinity;
    // TOP n 0 on a message that starts with the blank line: nothing but the header.
  }

  push(chunk: Uint8Array): Uint8Array {
    if (this.done || chunk.length === 0) return new Uint8Array(0);
    // Insertion points: positions in `chunk` before which we add a CR (bare LF)
    // or a "." (stuffing). Kept as parallel arrays to avoid per-line objects.
    const at: number[] = [];
    const what: number[] = [];
    let end = chunk.length; // where to cut if TOP is satisfied inside this chunk
    let pos = 0;
    while (pos < chunk.length) {
      if (this.atLineStart) {
        if (chunk[pos] === DOT) {
          at.push(pos);
          what.push(DOT);
        }
        this.atLineStart = false;
      }
      const nl = chunk.indexOf(LF, pos);
      if (nl === -1) {
        this.lineLen += chunk.length - pos;
        this.prevCR = chunk[chunk.length - 1] === CR;
        break;
      }
      const before = nl > pos ? chunk[nl - 1] === CR : this.prevCR;
      if (!before) {
        at.push(nl);
        what.push(CR);
      }
      const len = this.lineLen + (nl - pos) - (before ? 1 : 0);
      this.lineLen = 0;
      this.prevCR = false;
      this.atLineStart = true;
      pos = nl + 1;
      if (this.linesLeft !== Infinity) {
        if (!this.inBody) {
          if (len === 0) {
            this.inBody = true;
            if (this.linesLeft === 0) {
              this.done = true;
              end = pos;
              break;
            }
          }
        } else if (--this.linesLeft === 0) {
          this.done = true;
          end = pos;
          break;
        }
      }
    }
    if (at.length === 0) return end === chunk.length ? chunk : chunk.subarray(0, end);
    const out = new Uint8Array(end + at.length);
    let src = 0;
    let dst = 0;
    for (let k = 0; k < at.length; k++) {
      const p = at[k]!;
      out.set(chunk.subarray(src, p), dst);
      dst += p - src;
      out[dst++] = what[k]!;
      src = p;
    }
    out.set(chunk.subarray(src, end), dst);
    return out;
  }

  /** The end of the response: a CRLF if the last line had none, then ".CRLF". */
  finish(): Uint8Array {
    return this.atLineStart ? TERMINATOR : CRLF_TERMINATOR;
  }
}

const LF_DOT = Buffer.from("\n.");

/**
 * Fast path for a whole message already known to be in CRLF form (no bare
 * LF, ends with a line end — what `wireSize(msg) === msg.length` implies for
 * a non-empty message): only byte-stuffing is left, found with a native
 * substring search instead of a per-line loop. Returns `head`, the stuffed
 * message and the terminator in one buffer, ready for a single write.
 */
export function encodeCrlfMessage(head: Uint8Array, msg: Uint8Array): Uint8Array {
  const buf = Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength);
  const dots: number[] = [];
  if (buf.length > 0 && buf[0] === DOT) dots.push(0);
  for (let i = buf.indexOf(LF_DOT); i !== -1; i = buf.indexOf(LF_DOT, i + 2)) dots.push(i + 1);
  const out = new Uint8Array(head.length + msg.length + dots.length + TERMINATOR.length);
  out.set(head, 0);
  let dst = head.length;
  let src = 0;
  for (const p of dots) {
    out.set(msg.subarray(src, p), dst);
    dst += p - src;
    out[dst++] = DOT;
    src = p;
  }
  out.set(msg.subarray(src), dst);
  out.set(TERMINATOR, dst + msg.length - src);
  return out;
}

/** Whole-message convenience (tests, small messages). */
export function encodeMessage(msg: Uint8Array, bodyLines?: number): Uint8Array {
  const enc = new WireEncoder(bodyLines);
  const body = enc.push(msg);
  const tail = enc.finish();
  const out = new Uint8Array(body.length + tail.length);
  out.set(body, 0);
  out.set(tail, body.length);
  return out;
}


/** Incremental `wireSize` for messages read as a stream (large blobs). */
export class WireSizeCounter {
  private total = 0;
  private bareLf = 0;
  private prevCR = false;
  private last = -1;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    let i = chunk.indexOf(LF);
    while (i !== -1) {
      const before = i === 0 ? this.prevCR : chunk[i - 1] === CR;
      if (!before) this.bareLf++;
      i = chunk.indexOf(LF, i + 1);
    }
    this.total += chunk.length;
    this.last = chunk[chunk.length - 1]!;
    this.prevCR = this.last === CR;
  }

  get size(): number {
    return this.total + this.bareLf + (this.total > 0 && this.last !== LF ? 2 : 0);
  }
}
