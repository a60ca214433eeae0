/**
 * Header block parsing (RFC 5322 §2.2), structured parameters (RFC 2045
 * §5.1, RFC 2183, RFC 2231) and encoded words (RFC 2047). Tolerant: nothing
 * here throws on malformed input.
 */
import { bytesToString, decodeBase64, decodeCharset, decodeQuotedPrintable, CR, LF, SP, HT, findEol, eolLen } from "./bytes.ts";

export interface HeaderField {
  /** Field name as written (trimmed). */
  name: string;
  /** Lower-case name for lookups. */
  key: string;
  /** Unfolded value (CRLF before WSP removed), leading whitespace trimmed, raw (encoded words kept). */
  value: string;
}

/** Limits so a hostile header block cannot make the index explode. */
const MAX_FIELDS = 5000;
const MAX_VALUE = 256 * 1024;

export interface HeaderBlock {
  fields: HeaderField[];
  /** Offset of the first body byte (after the blank line, or where non-header text starts). */
  bodyStart: number;
  /**
   * Offset of the first field line. Lines before it (an mbox "From " line,
   * whitespace lines with no field to continue) are skipped as noise.
   */
  fieldsStart: number;
  /** True when an empty line ended the block (false: a non-header line or the end of the input). */
  separator: boolean;
}

export interface HeaderBlockOptions {
  /**
   * Keep only fields with these lower-case names, every one of them: the
   * MAX_FIELDS cap then counts kept fields only, so a sender check sees a
   * From that follows thousands of other fields.
   */
  only?: readonly string[];
}

/**
 * Scans the header block that starts at `start`. The block ends at an empty
 * line (which belongs to the header), or — for messages without the blank
 * separator — at the first line that is neither a field nor a continuation.
 */
export function parseHeaderBlock(buf: Uint8Array, start: number, end: number, opts?: HeaderBlockOptions): HeaderBlock {
  const fields: HeaderField[] = [];
  const only = opts?.only;
  let pos = start;
  let fieldsStart = -1;
  let cur: { nameEnd: number; start: number; parts: [number, number][] } | null = null;
  let curName = "";
  const flush = () => {
    if (!cur) return;
    if (fields.length < MAX_FIELDS && (!only || only.includes(curName.toLowerCase()))) {
      let value = "";
      for (const [a, b] of cur.parts) {
        value += bytesToString(buf, a, b);
        if (value.length > MAX_VALUE) {
          value = value.slice(0, MAX_VALUE);
          break;
        }
      }
      // Trim by index: a regex anchored at $ backtracks quadratically on long runs of blanks.
      value = trimBlanks(value);
      fields.push({ name: curName, key: curName.toLowerCase(), value });
    }
    cur = null;
  };
  while (pos < end) {
    const eol = findEol(buf, pos, end);
    const lineEnd = eol < 0 ? end : eol;
    const next = eol < 0 ? end : eol + eolLen(buf, eol, end);
    if (lineEnd === pos) {
      // empty line: end of header block
      flush();
      return { fields, bodyStart: next, fieldsStart: fieldsStart < 0 ? pos : fieldsStart, separator: true };
    }
    const c = buf[pos];
    if ((c === SP || c === HT) && cur) {
      // continuation (RFC 5322 §2.2.3 unfolding: drop the line break, keep the WSP)
      (cur as { parts: [number, number][] }).parts.push([pos, lineEnd]);
      pos = next;
      continue;
    }
    // field name: printable ASCII except ':' (RFC 5322 §3.6.8), then optional WSP (obs), then ':'
    let i = pos;
    while (i < lineEnd && buf[i] > 32 && buf[i] < 127 && buf[i] !== 58) i++;
    let j = i;
    while (j < lineEnd && (buf[j] === SP || buf[j] === HT)) j++;
    if (i > pos && j < lineEnd && buf[j] === 58) {
      flush();
      if (fieldsStart < 0) fieldsStart = pos;
      curName = bytesToString(buf, pos, i);
      cur = { nameEnd: i, start: pos, parts: [[j + 1, lineEnd]] };
      pos = next;
      continue;
    }
    if ((c === SP || c === HT) && !cur) {
      // leading whitespace line with nothing to continue: skip it as header noise
      pos = next;
      continue;
    }
    if (pos === start && buf[pos] === 0x46 && startsWithFrom(buf, pos, lineEnd)) {
      // mbox "From " envelope line before the header: tolerate and skip
      pos = next;
      continue;
    }
    // Not a header line: the body starts here (no blank separator).
    flush();
    return { fields, bodyStart: pos, fieldsStart: fieldsStart < 0 ? pos : fieldsStart, separator: false };
  }
  flush();
  return { fields, bodyStart: end, fieldsStart: fieldsStart < 0 ? end : fieldsStart, separator: false };
}

function startsWithFrom(buf: Uint8Array, pos: number, end: number): boolean {
  return end - pos >= 5 && buf[pos + 1] === 0x72 && buf[pos + 2] === 0x6f && buf[pos + 3] === 0x6d && buf[pos + 4] === SP;
}

export function headerValue(fields: HeaderField[], key: string): string | null {
  for (const f of fields) if (f.key === key) return f.value;
  return null;
}

export function headerValues(fields: HeaderField[], key: string): string[] {
  const out: string[] = [];
  for (const f of fields) if (f.key === key) out.push(f.value);
  return out;
}

// ------------------------------------------------------------ structured values

/** Removes RFC 5322 comments (nested parentheses), respecting quoted strings. */
export function stripComments(s: string): string {
  let out = "";
  let depth = 0;
  let inQuote = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (inQuote) {
      out += ch;
      if (ch === "\\" && i + 1 < s.length) out += s[++i];
      else if (ch === '"') inQuote = false;
      continue;
    }
    if (depth > 0) {
      if (ch === "\\") i++;
      else if (ch === "(") depth++;
      else if (ch === ")") depth--;
      continue;
    }
    if (ch === '"') {
      inQuote = true;
      out += ch;
    } else if (ch === "(") {
      depth++;
      out += " ";
    } else out += ch;
  }
  return out;
}

export interface ParsedParams {
  value: string; // lower-case main value, e.g. "text/plain" or "attachment"
  params: Record<string, string>;
}

/**
 * `value; name=token; name="quoted"; name*=utf-8''%E2%82%AC; name*0*=...;name*1=...`
 * RFC 2045 §5.1 with RFC 2231 continuations and charsets joined and decoded.
 */
export function parseParams(raw: string): ParsedParams {
  const s = stripComments(raw);
  const semi = findUnquoted(s, ";");
  const value = (semi < 0 ? s : s.slice(0, semi)).trim().toLowerCase();
  const params: Record<string, string> = {};
  if (semi < 0) return { value, params };
  const pieces: { name: string; section: number | null; extended: boolean; val: string }[] = [];
  let i = semi + 1;
  while (i < s.length) {
    while (i < s.length && (s[i] === " " || s[i] === "\t" || s[i] === ";" || s[i] === "\r" || s[i] === "\n")) i++;
    if (i >= s.length) break;
    let nameEnd = i;
    while (nameEnd < s.length && s[nameEnd] !== "=" && s[nameEnd] !== ";") nameEnd++;
    const rawName = s.slice(i, nameEnd).trim().toLowerCase();
    if (nameEnd >= s.length || s[nameEnd] === ";") {
      i = nameEnd + 1;
      continue; // attribute without value: ignore
    }
    i = nameEnd + 1;
    while (i < s.length && (s[i] === " " || s[i] === "\t")) i++;
    let val = "";
    if (s[i] === '"') {
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === "\\" && i + 1 < s.length) i++;
        val += s[i++];
      }
      i++;
    } else {
      const e = s.indexOf(";", i);
      const stop = e < 0 ? s.length : e;
      val = s.slice(i, stop).trim();
      i = stop;
    }
    if (!rawName) continue;
    const m = /^([^*]+)(?:\*(\d+))?(\*)?$/.exec(rawName);
    if (!m) {
      pieces.push({ name: rawName, section: null, extended: false, val });
      continue;
    }
    pieces.push({ name: m[1], section: m[2] !== undefined ? Number(m[2]) : null, extended: m[3] === "*", val });
  }
  // Group by name; RFC 2231 §3/§4: sections ordered by number, charset from section 0.
  const byName = new Map<string, typeof pieces>();
  for (const p of pieces) {
    const list = byName.get(p.name) ?? [];
    list.push(p);
    byName.set(p.name, list);
  }
  for (const [name, list] of byName) {
    const plain = list.find((p) => p.section === null && !p.extended);
    const ext = list.find((p) => p.section === null && p.extended);
    const sections = list.filter((p) => p.section !== null).sort((a, b) => (a.section as number) - (b.section as number));
    if (sections.length > 0) {
      let charset: string | null = null;
      const bytes: number[] = [];
      sections.forEach((p, idx) => {
        let v = p.val;
        if (p.extended) {
          if (idx === 0) {
            const q1 = v.indexOf("'");
            const q2 = q1 >= 0 ? v.indexOf("'", q1 + 1) : -1;
            if (q2 >= 0) {
              charset = v.slice(0, q1) || null;
              v = v.slice(q2 + 1);
            }
          }
          pushPercentDecoded(bytes, v);
        } else for (const b of new TextEncoder().encode(v)) bytes.push(b);
      });
      params[name] = decodeCharset(new Uint8Array(bytes), charset);
    } else if (ext) {
      let v = ext.val;
      let charset: string | null = null;
      const q1 = v.indexOf("'");
      const q2 = q1 >= 0 ? v.indexOf("'", q1 + 1) : -1;
      if (q2 >= 0) {
        charset = v.slice(0, q1) || null;
        v = v.slice(q2 + 1);
      }
      const bytes: number[] = [];
      pushPercentDecoded(bytes, v);
      params[name] = decodeCharset(new Uint8Array(bytes), charset);
    } else if (plain) {
      // Non-standard but common: RFC 2047 encoded words inside quoted parameter values.
      params[name] = plain.val;
    }
  }
  return { value, params };
}

function pushPercentDecoded(out: number[], v: string) {
  for (let i = 0; i < v.length; i++) {
    const ch = v[i];
    if (ch === "%" && i + 2 < v.length && /^[0-9a-fA-F]{2}$/.test(v.slice(i + 1, i + 3))) {
      out.push(parseInt(v.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      for (const b of new TextEncoder().encode(ch)) out.push(b);
    }
  }
}

function findUnquoted(s: string, ch: string): number {
  let inQuote = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inQuote) {
      if (c === "\\") i++;
      else if (c === '"') inQuote = false;
    } else if (c === '"') inQuote = true;
    else if (c === ch) return i;
  }
  return -1;
}

// ------------------------------------------------------------ RFC 2047

const ENCODED_WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;

/**
 * Decodes RFC 2047 encoded words. Whitespace between adjacent encoded words is
 * dropped (§6.2); adjacent words in the same charset are joined at the byte
 * level first, so a multi-byte character split across words decodes.
 */
export function decodeWords(s: string): string {
  if (s.indexOf("=?") < 0) return s;
  let out = "";
  let last = 0;
  let pending: { charset: string; bytes: number[] } | null = null;
  const flushPending = () => {
    if (pending) {
      out += decodeCharset(new Uint8Array(pending.bytes), pending.charset);
      pending = null;
    }
  };
  ENCODED_WORD.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = ENCODED_WORD.exec(s)) !== null) {
    const between = s.slice(last, m.index);
    const adjacent = last > 0 && /^[ \t\r\n]*$/.test(between) && pending !== null;
    if (!adjacent) {
      flushPending();
      out += between;
    }
    let charset = m[1].toLowerCase();
    const star = charset.indexOf("*"); // RFC 2231 §5 language suffix
    if (star >= 0) charset = charset.slice(0, star);
    const enc = m[2].toLowerCase();
    const text = new TextEncoder().encode(m[3]);
    const bytes = enc === "b" ? decodeBase64(text) : decodeQuotedPrintable(text, true);
    if (pending && (pending as { charset: string }).charset === charset) {
      for (const b of bytes) (pending as { bytes: number[] }).bytes.push(b);
    } else {
      flushPending();
      pending = { charset, bytes: Array.from(bytes) };
    }
    last = m.index + m[0].length;
  }
  flushPending();
  out += s.slice(last);
  return out;
}

/** Unfolded header value to display text: encoded words decoded, whitespace runs collapsed. */
export function decodeHeaderText(raw: string | null): string {
  if (!raw) return "";
  return decodeWords(raw)
    .replace(/[\r\n]+/g, "")
    .replace(/[ \t]+/g, " ")
    .trim();
}

export { CR, LF };

/** One field of a header block as bytes (see headerFieldSpans). */
export interface HeaderSpan {
  /** First byte of the field (its name). */
  start: number;
  /** Just past the field's last line end, continuation lines included. */
  end: number;
  /** Offset of the colon after the name, or -1 when the field's first line has none. */
  colon: number;
}

/**
 * The fields of the header block in [start, end) as byte ranges, for code
 * that filters or rewrites a header and must keep every other byte and fold
 * as it is (IMAP HEADER.FIELDS, ActiveSync Bcc removal). Lines end at LF; a
 * line starting with a space or tab continues the field above (RFC 5322
 * §2.2.3) and is dropped when there is none; the block ends at the first
 * empty line (CRLF or LF) or at `end`. No strings are built.
 */
export function headerFieldSpans(buf: Uint8Array, start = 0, end = buf.length): HeaderSpan[] {
  const out: HeaderSpan[] = [];
  eachHeaderField(buf, start, end, (s, e, colon) => void out.push({ start: s, end: e, colon }));
  return out;
}

/** headerFieldSpans as a callback per field, allocating nothing (IMAP HEADER.FIELDS runs it per message fetched). */
export function eachHeaderField(buf: Uint8Array, start: number, end: number, visit: (start: number, end: number, colon: number) => void): void {
  let fs = -1;
  let fe = 0;
  let fc = -1;
  let i = start;
  while (i < end) {
    const e = buf.indexOf(LF, i);
    const lineEnd = e < 0 || e >= end ? end : e + 1;
    const first = buf[i];
    if (first === LF || (first === CR && i + 1 < end && buf[i + 1] === LF)) break;
    if (first === SP || first === HT) {
      if (fs >= 0) fe = lineEnd;
    } else {
      if (fs >= 0) visit(fs, fe, fc);
      let c = i;
      while (c < lineEnd && buf[c] !== 58) c++;
      fs = i;
      fe = lineEnd;
      fc = c < lineEnd ? c : -1;
    }
    i = lineEnd;
  }
  if (fs >= 0) visit(fs, fe, fc);
}

/**
 * Offset just past the empty line that ends the header section (RFC 5322
 * §2.1), or -1 when there is none. CRLF and bare LF line ends are both
 * accepted; an empty first line means an empty header and everything after
 * it is body. (The full header reader is parseHeaderBlock; this is the cheap
 * byte scan for callers that only cut the header off: DSN "headers only"
 * copies, trace fields.)
 */
export function headerEnd(raw: Uint8Array): number {
  if (raw[0] === LF) return 1;
  if (raw[0] === CR && raw[1] === LF) return 2;
  for (let i = raw.indexOf(LF); i >= 0; i = raw.indexOf(LF, i + 1)) {
    if (raw[i + 1] === LF) return i + 2;
    if (raw[i + 1] === CR && raw[i + 2] === LF) return i + 3;
  }
  return -1;
}

/** Strips leading/trailing spaces and tabs in linear time. */
function trimBlanks(v: string): string {
  let a = 0;
  let b = v.length;
  while (a < b && (v.charCodeAt(a) === 32 || v.charCodeAt(a) === 9)) a++;
  while (b > a && (v.charCodeAt(b - 1) === 32 || v.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === v.length ? v : v.slice(a, b);
}

/**
 * Bounds on one header field, folded lines included. RFC 5322 §2.1.1 sets no
 * limit on a field, but the DKIM/SPF/DMARC library (mailauth) reads a field
 * in time quadratic in its folded lines: 10,000 lines cost ~0.9 s of CPU to
 * sign and 50,000 ~10 s to verify, on the event loop, every other connection
 * waiting. Postfix bounds a field to 100 KB (header_size_limit, truncating);
 * we refuse instead, so no signed field is silently cut. Real fields stay far
 * below both: a To of 2,000 addresses, one per line, is ~60 KB in 2,000 lines.
 */
export const MAX_HEADER_FIELD_BYTES = 128 * 1024;
export const MAX_HEADER_FIELD_LINES = 5000;

/** Why the message's header has a field over those bounds (words for a reply), or null. */
export function oversizedHeaderField(raw: Uint8Array): string | null {
  const end = headerEnd(raw);
  let bytes = 0;
  let lines = 0;
  eachHeaderField(raw, 0, end < 0 ? raw.length : end, (s, e) => {
    if (e - s > bytes) bytes = e - s;
    if (e - s > MAX_HEADER_FIELD_LINES) {
      let n = 1;
      for (let i = raw.indexOf(LF, s); i >= 0 && i < e - 1; i = raw.indexOf(LF, i + 1)) n++;
      if (n > lines) lines = n;
    }
  });
  if (bytes > MAX_HEADER_FIELD_BYTES) return `a header field is longer than ${MAX_HEADER_FIELD_BYTES / 1024} KB`;
  if (lines > MAX_HEADER_FIELD_LINES) return `a header field is folded into more than ${MAX_HEADER_FIELD_LINES} lines`;
  return null;
}
