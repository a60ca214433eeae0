/**
 * Byte-level helpers for the MIME parser. Line ends are CRLF, bare LF or bare
 * CR (all seen in the wild); everything works on absolute offsets into the
 * message so part offsets stay exact.
 */

export const CR = 13;
export const LF = 10;
export const SP = 32;
export const HT = 9;

/** Position of the next line terminator at or after `pos` (< end), or -1. */
export function findEol(buf: Uint8Array, pos: number, end: number): number {
  for (let i = pos; i < end; i++) {
    const c = buf[i];
    if (c === LF || c === CR) return i;
  }
  return -1;
}

/** Length of the terminator at `pos` (CRLF = 2, LF or CR = 1, 0 if none). */
export function eolLen(buf: Uint8Array, pos: number, end: number): number {
  if (pos >= end) return 0;
  if (buf[pos] === CR) return pos + 1 < end && buf[pos + 1] === LF ? 2 : 1;
  if (buf[pos] === LF) return 1;
  return 0;
}

/** Start of the line following the one that contains `pos` (or `end`). */
export function nextLine(buf: Uint8Array, pos: number, end: number): number {
  const e = findEol(buf, pos, end);
  if (e < 0) return end;
  return e + eolLen(buf, e, end);
}

/** Number of lines in [start, end): terminators, plus one for an unterminated last line. */
export function countLines(buf: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c === LF) n++;
    else if (c === CR) {
      if (i + 1 < end && buf[i + 1] === LF) i++;
      n++;
    }
  }
  if (end > start) {
    const last = buf[end - 1];
    if (last !== LF && last !== CR) n++;
  }
  return n;
}

const utf8Fatal = new TextDecoder("utf-8", { fatal: true });
const latin1 = new TextDecoder("latin1");

/** Header bytes to a string: UTF-8 if valid (RFC 6532), else Latin-1 (never throws). */
export function bytesToString(buf: Uint8Array, start = 0, end = buf.length): string {
  const slice = buf.subarray(start, end);
  let ascii = true;
  for (let i = 0; i < slice.length; i++) {
    if (slice[i] > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return latin1.decode(slice);
  try {
    return utf8Fatal.decode(slice);
  } catch {
    return latin1.decode(slice);
  }
}

/** Decodes text in a named charset; unknown charsets fall back to UTF-8, then Latin-1. */
export function decodeCharset(data: Uint8Array, charset: string | null | undefined): string {
  let cs = (charset ?? "").trim().toLowerCase().replace(/^["']|["']$/g, "");
  if (cs === "" || cs === "us-ascii" || cs === "ascii" || cs === "unknown-8bit" || cs === "x-unknown") cs = "utf-8";
  if (cs === "utf8") cs = "utf-8";
  if (cs === "utf-7" || cs === "unicode-1-1-utf-7") return decodeUtf7(data);
  try {
    if (cs === "utf-8") {
      try {
        return utf8Fatal.decode(data);
      } catch {
        return latin1.decode(data); // mislabelled 8-bit text: Latin-1 keeps every byte readable
      }
    }
    return new TextDecoder(cs).decode(data);
  } catch {
    try {
      return utf8Fatal.decode(data);
    } catch {
      return latin1.decode(data);
    }
  }
}

/** RFC 2152 UTF-7 (still sent by some old clients). */
function decodeUtf7(data: Uint8Array): string {
  const s = latin1.decode(data);
  return s.replace(/\+([A-Za-z0-9+/]*)-?/g, (m, b64: string) => {
    if (b64 === "") return m === "+-" ? "+" : m;
    const bytes = decodeBase64(new TextEncoder().encode(b64));
    let out = "";
    for (let i = 0; i + 1 < bytes.length; i += 2) out += String.fromCharCode((bytes[i] << 8) | bytes[i + 1]);
    return out;
  });
}

const B64 = new Int16Array(256).fill(-1);
{
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (let i = 0; i < alphabet.length; i++) B64[alphabet.charCodeAt(i)] = i;
  B64["-".charCodeAt(0)] = 62; // base64url, seen in broken generators
  B64["_".charCodeAt(0)] = 63;
}

/** Tolerant base64: skips anything outside the alphabet, stops at '=' padding of the final quantum. */
export function decodeBase64(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.floor((src.length * 3) / 4) + 3);
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === 61) {
      // '=': padding; reset partial quantum (some encoders concatenate padded chunks)
      acc = 0;
      bits = 0;
      continue;
    }
    const v = B64[c];
    if (v < 0) continue;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
      acc &= (1 << bits) - 1;
    }
  }
  return out.subarray(0, o);
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

export interface QpOptions {
  /** RFC 2047 §4.2 "Q" encoding of a header word: '_' stands for a space. */
  header?: boolean;
  /**
   * Hard line breaks come out as CRLF whatever the stored line end (RFC 2045
   * §6.7: a hard break of the encoded text is a CRLF of the canonical form).
   * IMAP BINARY (RFC 3516) serves the canonical form; the index and the
   * webmail keep the line ends they were given.
   */
  crlf?: boolean;
}

/**
 * Tolerant quoted-printable decoding (RFC 2045 §6.7), the one decoder for
 * bodies (index, IMAP BINARY, webmail downloads) and RFC 2047 "Q" words:
 *  - "=XX" (either hex case) is one octet; an "=" not followed by two hex
 *    digits is kept literally (§6.7 note 1: robustness);
 *  - whitespace at the end of an encoded line is transport padding and is
 *    removed (§6.7 rule 3), also before a soft line break;
 *  - "=" at the end of a line (CRLF, bare LF or bare CR, all seen in stored
 *    mail) is a soft line break and joins the lines; so is "=" at the very
 *    end of the data (encoders end a body that way to avoid a final newline).
 * Output is never longer than the input (twice the input with `crlf`).
 * The older `decodeQuotedPrintable(src, true)` form still means Q encoding.
 */
export function decodeQuotedPrintable(src: Uint8Array, opts: QpOptions | boolean = false): Uint8Array {
  const header = typeof opts === "boolean" ? opts : opts.header === true;
  const crlf = typeof opts === "boolean" ? false : opts.crlf === true;
  const out = new Uint8Array(crlf ? src.length * 2 : src.length);
  let o = 0;
  let i = 0;
  const n = src.length;
  while (i < n) {
    // one encoded line: [i, eol) plus its terminator [eol, next)
    let eol = i;
    while (eol < n && src[eol] !== LF && src[eol] !== CR) eol++;
    let next = eol;
    if (next < n) next += src[next] === CR && next + 1 < n && src[next + 1] === LF ? 2 : 1;
    let lineEnd = eol;
    while (lineEnd > i && (src[lineEnd - 1] === SP || src[lineEnd - 1] === HT)) lineEnd--;
    let soft = false;
    if (lineEnd > i && src[lineEnd - 1] === 61) {
      soft = true;
      lineEnd--;
    }
    for (let k = i; k < lineEnd; k++) {
      const c = src[k];
      if (c === 61 && k + 2 < lineEnd) {
        const h = hexVal(src[k + 1]);
        const l = hexVal(src[k + 2]);
        if (h >= 0 && l >= 0) {
          out[o++] = (h << 4) | l;
          k += 2;
          continue;
        }
      }
      out[o++] = header && c === 95 ? SP : c;
    }
    if (!soft && next > eol) {
      if (crlf) {
        out[o++] = CR;
        out[o++] = LF;
      } else for (let k = eol; k < next; k++) out[o++] = src[k];
    }
    i = next;
  }
  return out.subarray(0, o);
}

/** Case-insensitive ASCII compare of buf[pos..] with a lower-case ASCII needle. */
export function startsWithCI(buf: Uint8Array, pos: number, end: number, needleLower: string): boolean {
  if (pos + needleLower.length > end) return false;
  for (let i = 0; i < needleLower.length; i++) {
    let c = buf[pos + i];
    if (c >= 65 && c <= 90) c += 32;
    if (c !== needleLower.charCodeAt(i)) return false;
  }
  return true;
}
