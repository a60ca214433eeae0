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

/** A growable output buffer (geometric growth, so writing n bytes costs O(n)). */
class Writer {
  buf: Buffer;
  len = 0;
  constructor(initial: number) {
    this.buf = Buffer.allocUnsafe(Math.max(64, initial));
  }
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.len + n, Math.ceil(this.buf.length * 1.5)));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  bytes(src: Buffer, start: number, end: number): void {
    this.room(end - start);
    src.copy(this.buf, this.len, start, end);
    this.len += end - start;
  }
  byte(b: number): void {
    this.room(1);
    this.buf[this.len++] = b;
  }
  crlf(): void {
    this.room(2);
    this.buf[this.len++] = CR;
    this.buf[this.len++] = LF;
  }
}

/** Back up a break point that would split a UTF-8 sequence (never below `min`). */
function charBoundary(src: Buffer, cut: number, min: number): number {
  let c = cut;
  // 10xxxxxx is a continuation byte: the character started before it (at most 3 back).
  while (c > min && cut - c < 3 && (src[c]! & 0xc0) === 0x80) c--;
  return (src[c]! & 0xc0) === 0x80 ? cut : c;
}

/** Writes one line (no line end inside [start, end)) as one or more wire lines. */
function writeLine(w: Writer, src: Buffer, start: number, end: number): number {
  let stuffed = 0;
  let room = MAX_LINE;
  if (src[start] === DOT) {
    w.byte(DOT);
    stuffed = 1;
    room--;
  }
  let pos = start;
  while (end - pos > room) {
    const cut = charBoundary(src, pos + room, pos + 1);
    w.bytes(src, pos, cut);
    w.crlf();
    // Continuation: a leading space (a fold in a header, Postfix's CRLF SP in a body); never a "." line.
    w.byte(SP);
    room = MAX_LINE - 1;
    pos = cut;
  }
  w.bytes(src, pos, end);
  w.crlf();
  return stuffed;
}

/**
 * Calls `line(start, end)` for every line of `src`, where a line ends at
 * CRLF, a bare CR or a bare LF (or at the end of the data); `end` excludes
 * the line end. Returns whether the last line had a line end. Scans with
 * indexOf, so long runs without CR/LF are skipped natively.
 */
function forEachLine(src: Buffer, line: (start: number, end: number) => void): boolean {
  let pos = 0;
  let nextCr = src.indexOf(CR, 0);
  let nextLf = src.indexOf(LF, 0);
  while (pos < src.length) {
    if (nextCr !== -1 && nextCr < pos) nextCr = src.indexOf(CR, pos);
    if (nextLf !== -1 && nextLf < pos) nextLf = src.indexOf(LF, pos);
    if (nextCr === -1 && nextLf === -1) {
      line(pos, src.length);
      return false;
    }
    if (nextLf === -1 || (nextCr !== -1 && nextCr < nextLf)) {
      line(pos, nextCr);
      pos = src[nextCr + 1] === LF ? nextCr + 2 : nextCr + 1; // CRLF, or a bare CR
    } else {
      line(pos, nextLf);
      pos = nextLf + 1; // a bare LF
    }
  }
  return true;
}

/** The DATA section for a stored message; see the module comment. */
export function toSmtpData(raw: Uint8Array): SmtpData {
  const src = Buffer.from(raw.buffer, raw.byteOffset, raw.length);
  // Most messages are CRLF already with short lines: this is then exact, bar the stuffed dots.
  const w = new Writer(src.length + (src.length >> 6) + 8);
  let stuffed = 0;
  // A last line without a line end gets one (writeLine always ends with CRLF).
  forEachLine(src, (start, end) => {
    stuffed += writeLine(w, src, start, end);
  });
  const size = w.len - stuffed;
  w.byte(DOT);
  w.crlf();
  return { data: w.buf.subarray(0, w.len), size };
}

/**
 * The same canonical line ends without dot-stuffing or folding, for a stored
 * message that is put inside a new one (the returned part of a DSN): a bare
 * CR must not split header lines differently for different readers. A last
 * line without a line end is left so.
 */
export function canonicalLineEnds(raw: Uint8Array): Uint8Array {
  const src = Buffer.from(raw.buffer, raw.byteOffset, raw.length);
  const w = new Writer(src.length + (src.length >> 6) + 8);
  let first = true;
  const ended = forEachLine(src, (start, end) => {
    if (!first) w.crlf();
    first = false;
    w.bytes(src, start, end);
  });
  if (ended && !first) w.crlf();
  return w.buf.subarray(0, w.len);
}
