/**
 * Encoders for messages Pillarbox writes: base64 bodies in 76-character
 * lines (RFC 2045 §6.8), RFC 2047 encoded words for non-ASCII header text,
 * MIME parameter values, and header folding (RFC 5322 §2.2.3). The decoders
 * are in ./bytes.ts (transfer encodings) and ./headers.ts (encoded words,
 * parameters); fuzz targets check that each pair round-trips.
 */
import { Buffer } from "node:buffer";

const utf8 = new TextEncoder();

/** RFC 2045 §6.8: base64 in lines of at most 76 characters, each ended by CRLF ("" for no data). */
export function base64Lines(data: Uint8Array, lineLength = 76): string {
  const b64 = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64");
  const len = Math.max(4, lineLength - (lineLength % 4));
  let out = "";
  for (let i = 0; i < b64.length; i += len) out += b64.slice(i, i + len) + "\r\n";
  return out;
}

/**
 * Quoted-printable (RFC 2045 §6.7) of octets whose line breaks are CRLF:
 * each CRLF is a hard line break; every other CR or LF, "=", control and
 * 8-bit octet is "=XX"; a space or tab at the end of a line is encoded (rule
 * 3: trailing whitespace would be taken for padding); lines are cut with a
 * soft break ("=" CRLF) to at most 76 characters (rule 5), never inside an
 * escape. decodeQuotedPrintable(encodeQuotedPrintable(b)) returns b.
 */
export function encodeQuotedPrintable(data: Uint8Array): string {
  const HEX = "0123456789ABCDEF";
  let out = "";
  let line = "";
  const put = (tok: string) => {
    if (line.length + tok.length > 75) {
      out += line + "=\r\n";
      line = "";
    }
    line += tok;
  };
  const n = data.length;
  for (let i = 0; i < n; i++) {
    const c = data[i]!;
    if (c === 13 && i + 1 < n && data[i + 1] === 10) {
      out += line + "\r\n";
      line = "";
      i++;
      continue;
    }
    const lineEnds = i + 1 >= n || (data[i + 1] === 13 && i + 2 < n && data[i + 2] === 10);
    if ((c >= 33 && c <= 126 && c !== 61) || ((c === 32 || c === 9) && !lineEnds)) put(String.fromCharCode(c));
    else put(`=${HEX[c >> 4]}${HEX[c & 15]}`);
  }
  return out + line;
}

/** Header text that can go as it is: printable ASCII and tabs, and nothing a decoder would take for an encoded word. */
function plainHeaderText(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[\x20-\x7e\t]*$/.test(s) && !s.includes("=?");
}

/** UTF-8 bytes of `s` cut into chunks of at most `max` bytes, never inside a character. */
function utf8Chunks(s: string, max: number): Uint8Array[] {
  const b = utf8.encode(s);
  const out: Uint8Array[] = [];
  let i = 0;
  while (i < b.length) {
    let end = Math.min(b.length, i + max);
    if (end < b.length) while (end > i + 1 && (b[end]! & 0xc0) === 0x80) end--; // not before a continuation byte
    out.push(b.subarray(i, end));
    i = end;
  }
  return out;
}

/**
 * Unstructured header text (Subject, a display name's words) for a header:
 * returned unchanged when it is printable ASCII, else as RFC 2047 "B" encoded
 * words in UTF-8, each at most 75 characters (§2) and holding whole
 * characters (§5: a multi-octet character must not be split), separated by a
 * space (which a decoder drops between adjacent words, §6.2). Line breaks in
 * the input become spaces: a CRLF would start a forged field.
 */
export function encodeWords(text: string): string {
  const s = text.replace(/\r\n|\r|\n/g, " ");
  return plainHeaderText(s) ? s : encodedWords(s);
}

/** `s` as RFC 2047 "B" words, whatever it holds. */
function encodedWords(s: string): string {
  // "=?UTF-8?B?" + 60 base64 characters (45 octets) + "?=" = 72 ≤ 75.
  return utf8Chunks(s, 45)
    .map((c) => `=?UTF-8?B?${Buffer.from(c.buffer, c.byteOffset, c.byteLength).toString("base64")}?=`)
    .join(" ");
}

/**
 * A MIME parameter value (RFC 2045 §5.1) as a quoted-string: quotes and
 * backslashes escaped, line breaks dropped. Non-ASCII values (file names) go
 * as RFC 2047 encoded words inside the quotes: not what RFC 2047 §5 allows,
 * but what most mail clients write and read for `name`/`filename`, and what
 * this server's own parser decodes (parseParams).
 */
export function quoteParamValue(value: string): string {
  const s = value.replace(/[\r\n]+/g, " ");
  // eslint-disable-next-line no-control-regex
  if (plainHeaderText(s)) return `"${s.replace(/["\\]/g, "\\$&")}"`;
  return `"${encodedWords(s)}"`;
}

// RFC 2231 §7 attribute-char: US-ASCII except space, controls, "*", "'", "%" and the RFC 2045 tspecials.
const ATTRIBUTE_CHAR = /^[A-Za-z0-9!#$&+\-.^_`{|}~]$/;

/**
 * A parameter as `name=value` for a MIME header: a quoted-string when the
 * value is short printable ASCII (RFC 2045 §5.1), else the RFC 2231 extended form
 * in UTF-8, percent-encoded and cut into numbered sections (`name*0*=utf-8''...;
 * name*1*=...`, §3-§4) so no line gets long. This is the standard form for a
 * non-ASCII file name (RFC 2183 §2.3 with RFC 2231); parseParams reads it back.
 */
export function mimeParam(name: string, value: string): string {
  const s = value.replace(/[\r\n]+/g, " ");
  // Short printable ASCII as a quoted-string; anything longer is cut into sections so no line gets long.
  if (plainHeaderText(s) && !s.includes("\t")) {
    // the limit is on the quoted form: every quote and backslash gains a backslash
    const quoted = s.replace(/["\\]/g, "\\$&");
    if (quoted.length <= 64) return `${name}="${quoted}"`;
  }
  const pieces: string[] = [];
  let cur = "";
  for (const ch of s) {
    let enc = "";
    if (ATTRIBUTE_CHAR.test(ch)) enc = ch;
    else for (const b of utf8.encode(ch)) enc += `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
    if (cur.length + enc.length > 60) {
      pieces.push(cur);
      cur = "";
    }
    cur += enc; // one character's octets stay in one section
  }
  pieces.push(cur);
  if (pieces.length === 1) return `${name}*=utf-8''${pieces[0]}`;
  return pieces.map((p, i) => `${name}*${i}*=${i === 0 ? "utf-8''" : ""}${p}`).join("; ");
}

/** RFC 5322 §2.1.1: lines SHOULD be at most 78 characters. */
const FOLD_AT = 78;

/**
 * One header field, "Name: value" + CRLF, folded at spaces so that lines
 * stay within 78 characters where the value has room to break (RFC 5322
 * §2.2.3: folding inserts CRLF before existing whitespace; a word longer
 * than a line stays whole). Line breaks in the value become spaces first.
 */
export function foldHeader(name: string, value: string): string {
  const v = value.replace(/\r\n|\r|\n/g, " ");
  let line = `${name}:`;
  let out = "";
  // Tokens: each word with the whitespace that precedes it.
  const re = /[ \t]*[^ \t]+|[ \t]+$/g;
  let first = true;
  let m: RegExpExecArray | null;
  while ((m = re.exec(v)) !== null) {
    let tok = m[0];
    if (first && !/^[ \t]/.test(tok)) tok = " " + tok;
    first = false;
    if (line.length + tok.length > FOLD_AT && /^[ \t]/.test(tok) && line.trim() !== `${name}:` && /[^ \t]/.test(tok)) {
      out += line + "\r\n";
      line = tok;
    } else line += tok;
  }
  return out + line + "\r\n";
}
