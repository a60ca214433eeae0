/**
 * The bytes of an outgoing DATA section: what Pillarbox sends to the next
 * hop for a stored message (queued relays, forwards, DSNs, auto-replies).
 *
 * Messages are stored byte for byte as received, so a stored message may
 * hold bare CR and bare LF. Sent on unchanged, `\r.\r`, `\r.\r\n`, `\n.\n`
 * or `\n.\r\n` is an end of data to a next hop that is lax about line ends,
 * and what follows it is a second, smuggled message from our IP (SMTP
 * smuggling, CVE-2023-51766 / CVE-2023-51764). Postfix writes a queue file
 * record per line and always emits CRLF; we do the same here, in one pass:
 *
 *  1. every line end becomes CRLF: CRLF stays, a bare CR and a bare LF each
 *     become one CRLF (RFC 5321 §2.3.8: CR and LF only as CRLF);
 *  2. a line longer than 998 octets is broken after 998 octets with CRLF SP
 *     (RFC 5321 §4.5.3.1.6, RFC 5322 §2.1.1). This is what Postfix's smtp
 *     client does with smtp_line_length_limit = 998, for header and body
 *     lines alike: in a header the break is a fold (RFC 5322 §2.2.3); in a
 *     body it adds a line break and a space, the least damage to MIME text.
 *     The break moves back to a UTF-8 character boundary when it would split
 *     a character;
 *  3. a line starting with "." gets another "." (RFC 5321 §4.5.2); the
 *     stuffed dot counts towards the 998 octets, since it is on the wire;
 *  4. the data ends with CRLF "." CRLF; a last line without a line end gets
 *     one.
 *
 * `size` is the RFC 1870 size of the result: the canonical message, without
 * the stuffed dots and the terminator.
 */

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const SP = 0x20;

/** RFC 5321 §4.5.3.1.6: 1000 octets per line including CRLF. */
export const MAX_LINE = 998;

export interface SmtpData {
  /** Dot-stuffed, CRLF-only, folded, terminated with CRLF "." CRLF. */
  data: Buffer;
  /** RFC 1870 §3 message size: the canonical form, without stuffing and terminator. */
  size: number;
}

/** Back up a break point that would split a UTF-8 sequence (never below `min`). */
function charBoundary(src: Uint8Array, cut: number, min: number): number {
  let c = cut;
  // 10xxxxxx is a continuation byte: the character started before it (at most 3 back).
  while (c > min && cut - c < 3 && (src[c]! & 0xc0) === 0x80) c--;
  return (src[c]! & 0xc0) === 0x80 ? cut : c;
}

/** A growable output buffer: geometric growth, so writing n bytes costs O(n); room is reserved per line. */
class Writer {
  buf: Buffer;
  len = 0;
  constructor(initial: number) {
    this.buf = Buffer.allocUnsafe(Math.max(64, initial));
  }
  reserve(n: number): Buffer {
    if (this.len + n > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.len + n, Math.ceil(this.buf.length * 1.5)));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    return this.buf;
  }
}

/** Copies src[start, end) to out at o (short spans in JS, long ones natively); returns the new offset. */
function put(src: Buffer, start: number, end: number, out: Buffer, o: number): number {
  if (end - start < 64) for (let i = start; i < end; i++) out[o + i - start] = src[i]!;
  else src.copy(out, o, start, end);
  return o + (end - start);
}

/**
 * One pass over `src`, line by line (a line ends at CRLF, a bare CR or a bare
 * LF), writing each line with CRLF. `smtp`: also RFC 5321 §4.5.2
 * transparency, the 998-octet limit and the final "." line (DATA); without
 * it only the line ends change. Output room is reserved once per line (its
 * worst case), so the inner loops do no bounds bookkeeping; the buffer starts
 * at the input size plus a little, which is exact for CRLF mail without
 * leading dots, and grows geometrically otherwise (the output is at most about
 * twice the input: every bare CR/LF and every stuffed dot adds one octet).
 */
function encode(src: Buffer, smtp: boolean): { out: Buffer; stuffed: number } {
  const n = src.length;
  const w = new Writer(n + (n >> 6) + 8);
  let stuffed = 0;
  let pos = 0;
  while (pos < n) {
    let e = pos;
    while (e < n) {
      const b = src[e]!;
      if (b === CR || b === LF) break;
      e++;
    }
    const len = e - pos;
    // worst case: stuffed dot, final CRLF, and a CRLF SP per piece (a piece holds at least
    // MAX_LINE - 4 octets: the stuffed dot or the leading space, and at most 3 backed off for UTF-8)
    const out = w.reserve(len + 3 + (smtp ? 3 * Math.ceil(len / (MAX_LINE - 4)) : 0));
    let o = w.len;
    let p = pos;
    if (smtp) {
      let room = MAX_LINE;
      if (len > 0 && src[pos] === DOT) {
        out[o++] = DOT;
        stuffed++;
        room--;
      }
      while (e - p > room) {
        const cut = charBoundary(src, p + room, p + 1);
        o = put(src, p, cut, out, o);
        // Continuation: a leading space (a fold in a header, Postfix's CRLF SP in a body); never a "." line.
        out[o++] = CR;
        out[o++] = LF;
        out[o++] = SP;
        room = MAX_LINE - 1;
        p = cut;
      }
    }
    o = put(src, p, e, out, o);
    if (e < n || smtp) {
      // a line end; a last line without one gets one for DATA, and is left so for a plain copy
      out[o++] = CR;
      out[o++] = LF;
    }
    w.len = o;
    if (e >= n) break;
    pos = src[e] === CR && src[e + 1] === LF ? e + 2 : e + 1; // CRLF, or a bare CR / bare LF
  }
  if (smtp) {
    const out = w.reserve(3);
    out[w.len++] = DOT;
    out[w.len++] = CR;
    out[w.len++] = LF;
  }
  return { out: w.buf.subarray(0, w.len), stuffed };
}

/** The DATA section for a stored message; see the module comment. */
export function toSmtpData(raw: Uint8Array): SmtpData {
  const { out, stuffed } = encode(Buffer.from(raw.buffer, raw.byteOffset, raw.length), true);
  return { data: out, size: out.length - stuffed - 3 };
}

