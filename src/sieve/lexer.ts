/**
 * Sieve lexer (RFC 5228 §2, §8.1): turns script text into tokens. Sans-IO and
 * linear in the input: every loop advances the position. Both CRLF and bare LF
 * line ends are accepted (scripts edited on Unix); string values get CRLF line
 * ends, as RFC 5228 §2.4.2 strings carry them.
 */

export type Token =
  | { t: "ident"; v: string; line: number }
  | { t: "tag"; v: string; line: number }
  | { t: "number"; v: number; line: number }
  | { t: "string"; v: string; line: number }
  | { t: "punct"; v: "[" | "]" | "(" | ")" | "{" | "}" | "," | ";"; line: number }
  | { t: "eof"; line: number };

/** A compile error raised by the lexer, parser or validator (caught by compile()). */
export class SieveSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A piece of the script quoted in an error message: at most 60 characters and
 * no control characters, so a message stays one short line (ManageSieve sends
 * them in a quoted string, RFC 5804 §1.3).
 */
export function shown(s: string): string {
  const cut = s.length > 60 ? s.slice(0, 57) + "..." : s;
  return cut.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** RFC 5228 §2.4.1: numbers are at least 31 bits; 2^64-1 as in Pigeonhole (above 2^53 the value is approximate, which no size or count notices). */
export const MAX_SIEVE_NUMBER = 2n ** 64n - 1n;

const QUANT: Record<string, number> = { k: 1024, m: 1024 * 1024, g: 1024 * 1024 * 1024 };

/** RFC 5228 §8.1: strings and comments exclude NUL (CHAR-NOT-DQUOTE, octet-not-crlf start at %x01). */
function checkNul(text: string, line: number, what: string): void {
  const at = text.indexOf("\u0000");
  if (at >= 0) throw new SieveSyntaxError(line + countLines(text, 0, at), `a NUL character is not allowed in ${what}`);
}

const isAlpha = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isDigit = (c: number) => c >= 48 && c <= 57;

/** Tokenise the whole script. Throws SieveSyntaxError with a 1-based line. */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const n = src.length;
  let i = 0;
  let line = 1;
  while (i < n) {
    const c = src.charCodeAt(i);
    // white space (RFC 5228 §8.1: SP / HTAB / CRLF; bare LF and CR tolerated)
    if (c === 32 || c === 9 || c === 13) {
      i++;
      continue;
    }
    if (c === 10) {
      line++;
      i++;
      continue;
    }
    if (c === 35) {
      // hash-comment: to the end of the line
      const nl = src.indexOf("\n", i);
      checkNul(src.slice(i, nl < 0 ? n : nl), line, "a comment");
      i = nl < 0 ? n : nl;
      continue;
    }
    if (c === 47 && src.charCodeAt(i + 1) === 42) {
      // bracket-comment "/* ... */", not nested (RFC 5228 §2.3)
      const end = src.indexOf("*/", i + 2);
      if (end < 0) throw new SieveSyntaxError(line, "unterminated comment: a '/*' without '*/'");
      checkNul(src.slice(i, end), line, "a comment");
      line += countLines(src, i, end);
      i = end + 2;
      continue;
    }
    if (c === 34) {
      const startLine = line;
      const r = quoted(src, i + 1, line);
      out.push({ t: "string", v: r.value, line: startLine });
      i = r.end;
      line = r.line;
      continue;
    }
    if (isDigit(c)) {
      let j = i;
      while (j < n && isDigit(src.charCodeAt(j))) j++;
      const digits = src.slice(i, j);
      const q = QUANT[src.charAt(j).toLowerCase()];
      if (q !== undefined) j++;
      if (j < n && (isAlpha(src.charCodeAt(j)) || src.charCodeAt(j) === 95)) {
        throw new SieveSyntaxError(line, `invalid number "${shown(src.slice(i, j + 1))}"`);
      }
      // RFC 5228 §2.4.1: at least 31 bits; like Pigeonhole we take up to 2^64-1 and refuse more
      const big = digits.length > 21 ? MAX_SIEVE_NUMBER + 1n : BigInt(digits) * BigInt(q ?? 1);
      if (big > MAX_SIEVE_NUMBER) throw new SieveSyntaxError(line, `number ${shown(src.slice(i, j))} is too large (the largest is ${MAX_SIEVE_NUMBER})`);
      out.push({ t: "number", v: Number(big), line });
      i = j;
      continue;
    }
    if (isAlpha(c) || c === 95) {
      let j = i + 1;
      while (j < n && isIdentChar(src.charCodeAt(j))) j++;
      const word = src.slice(i, j);
      // RFC 5228 §2.4.2 multi-line string: "text:" *(SP / HTAB) (hash-comment / CRLF)
      if (word.toLowerCase() === "text" && src.charCodeAt(j) === 58) {
        const startLine = line;
        const r = multiline(src, j + 1, line);
        out.push({ t: "string", v: r.value, line: startLine });
        i = r.end;
        line = r.line;
        continue;
      }
      out.push({ t: "ident", v: word.toLowerCase(), line });
      i = j;
      continue;
    }
    if (c === 58) {
      let j = i + 1;
      if (j >= n || !(isAlpha(src.charCodeAt(j)) || src.charCodeAt(j) === 95)) {
        throw new SieveSyntaxError(line, "a ':' must start a tag such as :is");
      }
      while (j < n && isIdentChar(src.charCodeAt(j))) j++;
      out.push({ t: "tag", v: src.slice(i + 1, j).toLowerCase(), line });
      i = j;
      continue;
    }
    // [ ] ( ) { } , ;
    if (c === 91 || c === 93 || c === 40 || c === 41 || c === 123 || c === 125 || c === 44 || c === 59) {
      out.push({ t: "punct", v: src[i] as "[", line });
      i++;
      continue;
    }
    const what = c < 32 || c === 127 ? `character 0x${c.toString(16).padStart(2, "0")}` : `character '${String.fromCodePoint(src.codePointAt(i)!)}'`;
    throw new SieveSyntaxError(line, `unexpected ${what}`);
  }
  out.push({ t: "eof", line });
  return out;
}

function isIdentChar(c: number): boolean {
  return isAlpha(c) || isDigit(c) || c === 95;
}

function countLines(s: string, from: number, to: number): number {
  let k = 0;
  for (let p = s.indexOf("\n", from); p >= 0 && p < to; p = s.indexOf("\n", p + 1)) k++;
  return k;
}

/** Quoted string body from `i` (after the opening quote). RFC 5228 §2.4.2: "\\" and "\"" escape; any other "\x" is "x". */
function quoted(src: string, i: number, line: number): { value: string; end: number; line: number } {
  const startLine = line;
  const parts: string[] = [];
  let run = i;
  const n = src.length;
  while (i < n) {
    const c = src.charCodeAt(i);
    if (c === 34) {
      parts.push(src.slice(run, i));
      const value = parts.join("");
      checkNul(value, startLine, "a string");
      return { value: crlf(value), end: i + 1, line };
    }
    if (c === 92) {
      parts.push(src.slice(run, i));
      if (i + 1 >= n) break;
      if (src.charCodeAt(i + 1) === 10) line++;
      // the escaped character is kept; a surrogate pair stays whole
      const cp = src.codePointAt(i + 1)!;
      const len = cp > 0xffff ? 2 : 1;
      parts.push(src.slice(i + 1, i + 1 + len));
      i += 1 + len;
      run = i;
      continue;
    }
    if (c === 10) line++;
    i++;
  }
  throw new SieveSyntaxError(startLine, "unterminated quoted string: no closing '\"'");
}

/** Multi-line string after "text:" (RFC 5228 §2.4.2, §8.1): lines up to "." alone; a leading ".." loses one dot. */
function multiline(src: string, i: number, line: number): { value: string; end: number; line: number } {
  const startLine = line;
  const n = src.length;
  while (i < n && (src.charCodeAt(i) === 32 || src.charCodeAt(i) === 9)) i++;
  if (src.charCodeAt(i) === 35) {
    const nl = src.indexOf("\n", i);
    i = nl < 0 ? n : nl;
  } else if (src.charCodeAt(i) === 13 && src.charCodeAt(i + 1) === 10) {
    i++;
  }
  if (src.charCodeAt(i) !== 10) throw new SieveSyntaxError(line, "\"text:\" must be followed by the end of the line");
  i++;
  line++;
  const lines: string[] = [];
  while (i < n) {
    let nl = src.indexOf("\n", i);
    const atEof = nl < 0;
    if (atEof) nl = n;
    let text = src.slice(i, nl);
    if (text.endsWith("\r")) text = text.slice(0, -1);
    checkNul(text, line, "a string");
    if (text === ".") return { value: lines.length ? lines.join("\r\n") + "\r\n" : "", end: atEof ? n : nl + 1, line: atEof ? line : line + 1 };
    lines.push(text.startsWith(".") ? text.slice(1) : text);
    if (atEof) break;
    i = nl + 1;
    line++;
  }
  throw new SieveSyntaxError(startLine, "unterminated multi-line string: \"text:\" without a line holding only '.'");
}

function crlf(s: string): string {
  return s.includes("\n") ? s.replace(/\r?\n/g, "\r\n") : s;
}
