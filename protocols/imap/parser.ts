/**
 * IMAP command parser, sans-IO (RFC 9051 §2.2, §4, §9 grammar; RFC 3501).
 *
 * Bytes go in with `push(chunk)`; `next()` returns one event at a time:
 * a complete command, a request to send a command continuation ("+") for a
 * synchronising literal, a protocol error for one command (the session
 * answers it and goes on), a raw line (IDLE "DONE", SASL responses), or a
 * fatal error (the session says BYE).
 *
 * Design:
 *  - A command is collected as line segments and literals. A line that ends
 *    with `{n}`, `{n+}` or `~{n}` announces a literal; its size is checked
 *    against the limit for that command BEFORE any literal byte is read
 *    (RFC 7888 §4; RFC 9051 §7.5 "+" only once we accept it). A refused
 *    non-synchronising literal is skipped without being buffered.
 *  - Only when the command is complete is it tokenised into arguments, so
 *    memory is bounded by the limits and the code never throws on any input.
 *  - Text is handled as latin1 (one char per byte) and strings holding 8-bit
 *    characters are decoded as UTF-8 (RFC 9051 §4.3 / RFC 6855).
 */
import { Buffer } from "node:buffer";

export type Arg = AtomArg | StringArg | ListArg;
export interface AtomArg {
  t: "atom";
  v: string;
}
export interface StringArg {
  t: "string";
  v: string;
  /** Raw bytes when the string came as a literal (APPEND message data). */
  raw?: Uint8Array;
  /** True for literal8 `~{n}` (RFC 3516). */
  binary?: boolean;
  literal?: boolean;
}
export interface ListArg {
  t: "list";
  v: Arg[];
}

export interface Command {
  tag: string;
  /** Upper-case command name; for UID commands "UID FETCH" etc. */
  name: string;
  uid: boolean;
  args: Arg[];
}

export type ParseEvent =
  | { type: "command"; cmd: Command }
  | { type: "continue"; tag: string }
  | { type: "error"; tag: string; status: "BAD" | "NO"; code?: string; text: string }
  | { type: "line"; line: string }
  | { type: "fatal"; text: string };

export interface ParserLimits {
  /** Longest single line (between CRLFs), octets. */
  maxLine: number;
  /** Largest literal for APPEND (message data). */
  maxAppendLiteral: number;
  /** Largest total of literals in one APPEND (MULTIAPPEND/CATENATE). */
  maxAppendTotal: number;
  /** Largest literal for any other command. */
  maxOtherLiteral: number;
  /** Largest total size of any other command (lines + literals). */
  maxOtherTotal: number;
  /**
   * Hard cap on input received and not yet consumed (the command buffer). The
   * session stops reading long before (pipelined input while a command runs),
   * so reaching it means the input did not stop: `push` refuses it.
   */
  maxBuffered: number;
}

export const DEFAULT_LIMITS: ParserLimits = {
  maxLine: 65536,
  maxAppendLiteral: 50 * 1024 * 1024,
  maxAppendTotal: 200 * 1024 * 1024,
  maxOtherLiteral: 65536,
  maxOtherTotal: 1024 * 1024,
  // The session pauses at 256 KiB of pipelined input; one socket read
  // (up to 512 KiB in Bun) or one inflated chunk may land on top of that.
  maxBuffered: 2 * 1024 * 1024,
};

const EMPTY = new Uint8Array(0);
const CR = 13;
const LF = 10;

interface PendingLiteral {
  size: number;
  nonSync: boolean;
  binary: boolean;
}

/** Parses the literal announcement at the end of a (latin1) line, if any. */
function literalAtEnd(line: string): PendingLiteral | null {
  const n = line.length;
  if (n < 3 || line.charCodeAt(n - 1) !== 125 /* } */) return null;
  let i = n - 2;
  let nonSync = false;
  if (line.charCodeAt(i) === 43 /* + */ || line.charCodeAt(i) === 45 /* - (LITERAL-) */) {
    nonSync = line.charCodeAt(i) === 43;
    if (line.charCodeAt(i) === 45) return null;
    i--;
  }
  const end = i + 1;
  while (i >= 0 && line.charCodeAt(i) >= 48 && line.charCodeAt(i) <= 57) i--;
  if (i === end - 1 || i < 0 || line.charCodeAt(i) !== 123 /* { */) return null;
  const digits = line.slice(i + 1, end);
  if (digits.length > 12) return { size: Number.MAX_SAFE_INTEGER, nonSync, binary: false };
  let binary = false;
  let before = i - 1;
  if (before >= 0 && line.charCodeAt(before) === 126 /* ~ */) {
    binary = true;
    before--;
  }
  // A literal starts an argument: it follows SP or "(" (RFC 9051 §9 grammar).
  if (before >= 0) {
    const c = line.charCodeAt(before);
    if (c !== 32 && c !== 40) return null;
  }
  return { size: Number(digits), nonSync, binary };
}

const ATOM_END = new Uint8Array(256);
for (const c of [32, 40, 41, 34, 13, 10]) ATOM_END[c] = 1;

export class CommandParser {
  limits: ParserLimits;
  /** When true, the next complete line is returned raw (IDLE DONE, SASL). */
  lineMode = false;

  private buf: Uint8Array = EMPTY;
  private start = 0;
  private end = 0;

  // command being collected
  private lines: string[] = [];
  private literals: StringArg[] = [];
  private total = 0;
  private cmdName = "";
  private cmdTag = "";

  // literal being read
  private litBuf: Uint8Array | null = null;
  private litFill = 0;
  private litInfo: PendingLiteral | null = null;
  /** Octets of a refused literal still to skip. */
  private skipBytes = 0;
  /** After a refused literal: discard the rest of the command. */
  private discarding = false;
  private pendingEvents: ParseEvent[] = [];
  private dead = false;

  constructor(limits: Partial<ParserLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Bytes received and not yet consumed (for pause decisions). */
  get buffered(): number {
    return this.end - this.start;
  }

  /**
   * Appends input. Returns false, and takes nothing, when the unconsumed input
   * would pass `limits.maxBuffered`; the parser is then dead and the caller
   * closes the connection. The buffer grows by doubling, so a slowly consumed
   * stream of small chunks costs amortised linear copying, not quadratic.
   */
  push(chunk: Uint8Array): boolean {
    if (chunk.length === 0) return true;
    if (this.dead) return false;
    const have = this.end - this.start;
    const need = have + chunk.length;
    if (need > this.limits.maxBuffered) {
      this.reset();
      this.dead = true;
      return false;
    }
    if (have === 0) {
      // Common case: keep a reference, no copy.
      this.buf = chunk;
      this.owned = false;
      this.start = 0;
      this.end = chunk.length;
      return true;
    }
    if (this.owned && this.buf.buffer !== chunk.buffer && this.buf.length >= need) {
      if (this.buf.length - this.end < chunk.length) {
        // room once the consumed head is dropped
        this.buf.copyWithin(0, this.start, this.end);
        this.start = 0;
        this.end = have;
      }
      this.buf.set(chunk, this.end);
      this.end += chunk.length;
      return true;
    }
    let size = Math.max(65536, this.owned ? this.buf.length * 2 : 0);
    while (size < need) size *= 2;
    const nb = new Uint8Array(Math.min(size, this.limits.maxBuffered));
    nb.set(this.buf.subarray(this.start, this.end), 0);
    nb.set(chunk, have);
    this.buf = nb;
    this.owned = true;
    this.start = 0;
    this.end = need;
    return true;
  }

  /** Bytes allocated for the command buffer (tests: growth is geometric and capped). */
  get capacity(): number {
    return this.buf.length;
  }
  private owned = false;

  /** Removes and returns unconsumed input (STARTTLS discards it; COMPRESS inflates it). */
  takeRemaining(): Uint8Array {
    const rest = this.buf.slice(this.start, this.end);
    this.reset();
    return rest;
  }

  /** Drops all buffered input and any command in progress. */
  reset(): void {
    this.buf = EMPTY;
    this.owned = false;
    this.start = this.end = 0;
    this.resetCommand();
    this.skipBytes = 0;
    this.pendingEvents.length = 0;
  }

  private resetCommand(): void {
    this.lines = [];
    this.literals = [];
    this.total = 0;
    this.cmdName = "";
    this.cmdTag = "";
    this.litBuf = null;
    this.litInfo = null;
    this.litFill = 0;
    this.discarding = false;
  }

  private compact(): void {
    if (this.start === this.end) {
      this.buf = EMPTY;
      this.owned = false;
      this.start = this.end = 0;
    }
  }

  /** Reads one CRLF- (or LF-) terminated line as latin1; null if incomplete. */
  private readLine(): string | null | "toolong" {
    const b = this.buf;
    const lim = this.end;
    const idx = b.indexOf(LF, this.start);
    if (idx < 0 || idx >= lim) {
      if (lim - this.start > this.limits.maxLine) return "toolong";
      return null;
    }
    let stop = idx;
    if (stop > this.start && b[stop - 1] === CR) stop--;
    if (stop - this.start > this.limits.maxLine) {
      this.start = idx + 1;
      return "toolong";
    }
    const line = latin1(b, this.start, stop);
    this.start = idx + 1;
    return line;
  }

  next(): ParseEvent | null {
    if (this.dead) {
      this.buf = EMPTY;
      this.start = this.end = 0;
      return null;
    }
    if (this.pendingEvents.length) return this.pendingEvents.shift()!;
    for (;;) {
      // 1. skipping a refused literal
      if (this.skipBytes > 0) {
        const n = Math.min(this.skipBytes, this.end - this.start);
        this.start += n;
        this.skipBytes -= n;
        this.compact();
        if (this.skipBytes > 0) return null;
        continue;
      }
      // 2. reading an accepted literal
      if (this.litBuf && this.litInfo) {
        const size = this.litInfo.size;
        const want = size - this.litFill;
        const n = Math.min(want, this.end - this.start);
        if (n > 0) {
          // grow with what actually arrives: an announced size alone allocates little
          if (this.litFill + n > this.litBuf.length) {
            const nb = new Uint8Array(Math.min(size, Math.max(this.litFill + n, this.litBuf.length * 2)));
            nb.set(this.litBuf.subarray(0, this.litFill));
            this.litBuf = nb;
          }
          this.litBuf.set(this.buf.subarray(this.start, this.start + n), this.litFill);
          this.litFill += n;
          this.start += n;
        }
        this.compact();
        if (this.litFill < size) return null;
        const raw = this.litBuf.length === size ? this.litBuf : this.litBuf.slice(0, size);
        this.literals.push({ t: "string", v: "", raw, binary: this.litInfo.binary, literal: true });
        this.litBuf = null;
        this.litInfo = null;
        this.litFill = 0;
        continue;
      }
      if (this.end === this.start) return null;
      // 3. a line
      const line = this.readLine();
      if (line === null) return null;
      this.compact();
      if (line === "toolong") {
        // Fatal: the session closes; drop everything and stay silent afterwards.
        this.reset();
        this.dead = true;
        return { type: "fatal", text: "Line too long" };
      }
      if (this.lineMode && this.lines.length === 0 && !this.discarding) {
        return { type: "line", line };
      }
      const ev = this.onLine(line);
      if (ev) return ev;
    }
  }

  private onLine(line: string): ParseEvent | null {
    const lit = literalAtEnd(line);
    if (this.discarding) {
      // Rest of a refused command. Further non-synchronising literals are skipped
      // too; a synchronising one is never sent by a client that saw our BAD.
      if (lit && lit.nonSync) {
        this.skipBytes = lit.size;
        return null;
      }
      this.resetCommand();
      return null;
    }
    if (this.lines.length === 0) {
      // First line of a command: learn tag and name for limits.
      const m = /^([^\s(){%*"\\+]+) ([A-Za-z]+)(?: ([A-Za-z]+))?/.exec(line);
      this.cmdTag = m ? m[1] : tagOf(line);
      let name = m ? m[2].toUpperCase() : "";
      if (name === "UID" && m && m[3]) name = "UID " + m[3].toUpperCase();
      this.cmdName = name;
      if (line.length === 0) return null; // empty line: ignore
    }
    this.lines.push(line);
    this.total += line.length + 2;
    if (!lit) {
      const lines = this.lines;
      const lits = this.literals;
      this.resetCommand();
      return tokenizeCommand(lines, lits);
    }
    const isAppend = this.cmdName === "APPEND";
    const maxLit = isAppend ? this.limits.maxAppendLiteral : this.limits.maxOtherLiteral;
    const maxTotal = isAppend ? this.limits.maxAppendTotal : this.limits.maxOtherTotal;
    const tag = this.cmdTag || "*";
    if (lit.size > maxLit || this.total + lit.size > maxTotal) {
      const text = isAppend ? "Message too large" : "Literal too large";
      if (lit.nonSync) {
        // RFC 7888 §4: refuse with BAD and discard the octets without buffering them.
        this.skipBytes = lit.size;
        this.lines = [];
        this.literals = [];
        this.discarding = true;
        return { type: "error", tag, status: "BAD", code: isAppend ? "TOOBIG" : undefined, text };
      }
      // Synchronising: the client sends nothing until "+"; answer now (RFC 7889 TOOBIG).
      this.resetCommand();
      return { type: "error", tag, status: "NO", code: "TOOBIG", text };
    }
    this.total += lit.size;
    this.litInfo = lit;
    this.litBuf = new Uint8Array(Math.min(lit.size, 65536));
    this.litFill = 0;
    if (!lit.nonSync) return { type: "continue", tag };
    return null;
  }
}

function tagOf(line: string): string {
  const sp = line.indexOf(" ");
  const t = sp < 0 ? line : line.slice(0, sp);
  return /^[^\s(){%*"\\\]+]+$/.test(t) && t.length <= 64 ? t : "*";
}

export function latin1(b: Uint8Array, s: number, e: number): string {
  if (e - s < 64) {
    let out = "";
    for (let i = s; i < e; i++) out += String.fromCharCode(b[i]);
    return out;
  }
  return Buffer.from(b.buffer, b.byteOffset + s, e - s).toString("latin1");
}

/** Decodes a latin1-held string as UTF-8 if it has 8-bit characters. */
export function fromLatin1Utf8(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 127) return Buffer.from(s, "latin1").toString("utf8");
  }
  return s;
}

class TokenError {
  constructor(public text: string) {}
}

/** Tokenises a complete command (line segments interleaved with literals). */
function tokenizeCommand(lines: string[], literals: StringArg[]): ParseEvent {
  const first = lines[0];
  // tag: 1*<any ASTRING-CHAR except "+"> (RFC 9051 §9)
  let i = 0;
  while (i < first.length && first.charCodeAt(i) !== 32) i++;
  const rawTag = first.slice(0, i);
  if (!rawTag || !/^[\x21-\x7e]+$/.test(rawTag) || /[(){%*"\\+]/.test(rawTag)) {
    return { type: "error", tag: "*", status: "BAD", text: "Invalid tag" };
  }
  if (i >= first.length) return { type: "error", tag: rawTag, status: "BAD", text: "Missing command" };
  i++;
  let j = i;
  while (j < first.length && first.charCodeAt(j) !== 32) j++;
  let name = first.slice(i, j).toUpperCase();
  if (!/^[A-Z][A-Z0-9\-.]*$/.test(name)) return { type: "error", tag: rawTag, status: "BAD", text: "Invalid command" };
  let uid = false;
  let pos = j;
  if (name === "UID") {
    if (pos >= first.length) return { type: "error", tag: rawTag, status: "BAD", text: "Missing UID command" };
    let k = pos + 1;
    while (k < first.length && first.charCodeAt(k) !== 32) k++;
    const sub = first.slice(pos + 1, k).toUpperCase();
    if (!/^[A-Z]+$/.test(sub)) return { type: "error", tag: rawTag, status: "BAD", text: "Invalid UID command" };
    name = "UID " + sub;
    uid = true;
    pos = k;
  }
  const fetchMode = name === "FETCH" || name === "UID FETCH";
  try {
    const tz = new Tokenizer(lines, literals, 0, pos, fetchMode);
    const args = tz.parseArgs();
    return { type: "command", cmd: { tag: rawTag, name, uid, args } };
  } catch (e) {
    if (e instanceof TokenError) return { type: "error", tag: rawTag, status: "BAD", text: e.text };
    return { type: "error", tag: rawTag, status: "BAD", text: "Syntax error" };
  }
}

class Tokenizer {
  private li: number;
  private s: string;
  private p: number;
  private litIdx = 0;
  constructor(
    private lines: string[],
    private literals: StringArg[],
    lineIdx: number,
    pos: number,
    private fetchMode: boolean,
  ) {
    this.li = lineIdx;
    this.s = lines[lineIdx];
    this.p = pos;
  }

  parseArgs(): Arg[] {
    const stack: Arg[][] = [[]];
    let needSep = false; // after an argument a SP or ")" must follow
    for (;;) {
      const s = this.s;
      if (this.p >= s.length) {
        // end of this line segment: either the end of the command or a literal follows
        if (this.li + 1 < this.lines.length) throw new TokenError("Unexpected literal");
        if (stack.length !== 1) throw new TokenError("Missing ')'");
        return stack[0];
      }
      const c = s.charCodeAt(this.p);
      if (c === 32) {
        this.p++;
        needSep = false;
        continue;
      }
      if (c === 41 /* ) */) {
        if (stack.length === 1) throw new TokenError("Unexpected ')'");
        const list = stack.pop()!;
        stack[stack.length - 1].push({ t: "list", v: list });
        this.p++;
        needSep = true;
        continue;
      }
      if (needSep) throw new TokenError("Missing space between arguments");
      if (c === 40 /* ( */) {
        if (stack.length > 100) throw new TokenError("Too deep nesting");
        stack.push([]);
        this.p++;
        continue;
      }
      let arg: Arg;
      if (c === 34 /* " */) arg = this.quoted();
      else if (c === 123 /* { */ || (c === 126 /* ~ */ && s.charCodeAt(this.p + 1) === 123)) arg = this.literal();
      else arg = this.atom();
      stack[stack.length - 1].push(arg);
      needSep = true;
    }
  }

  private quoted(): StringArg {
    const s = this.s;
    let p = this.p + 1;
    let out = "";
    let runStart = p;
    let high = false;
    for (;;) {
      if (p >= s.length) throw new TokenError("Unterminated quoted string");
      const c = s.charCodeAt(p);
      if (c === 34) break;
      if (c === 92 /* \ */) {
        const n = s.charCodeAt(p + 1);
        // RFC 9051 §9 quoted-specials: only DQUOTE and backslash may be escaped.
        if (n !== 34 && n !== 92) throw new TokenError("Invalid escape in quoted string");
        out += s.slice(runStart, p) + String.fromCharCode(n);
        p += 2;
        runStart = p;
        continue;
      }
      if (c === 0 || c === 13 || c === 10) throw new TokenError("Invalid character in quoted string");
      if (c > 127) high = true;
      p++;
    }
    out += s.slice(runStart, p);
    this.p = p + 1;
    return { t: "string", v: high ? fromLatin1Utf8(out) : out };
  }

  private literal(): StringArg {
    const s = this.s;
    const lit = literalAtEnd(s);
    const openAt = s.charCodeAt(this.p) === 126 ? this.p + 1 : this.p;
    // The literal announcement must be the rest of this line.
    if (!lit || s.lastIndexOf("{") !== openAt) throw new TokenError("Invalid literal");
    const l = this.literals[this.litIdx++];
    if (!l || this.li + 1 >= this.lines.length) throw new TokenError("Missing literal");
    this.li++;
    this.s = this.lines[this.li];
    this.p = 0;
    if (l.raw) l.v = decodeLiteralText(l.raw);
    return l;
  }

  private atom(): AtomArg {
    const s = this.s;
    const st = this.p;
    let p = st;
    while (p < s.length) {
      const c = s.charCodeAt(p);
      if (ATOM_END[c] || c < 32 || c === 127) {
        if (c === 34 || c < 32 || c === 127) throw new TokenError("Invalid character in atom");
        break;
      }
      if (c === 91 /* [ */ && this.fetchMode) {
        // BODY[HEADER.FIELDS (A B)]<0.10>: the section may hold spaces and parens.
        const close = s.indexOf("]", p);
        if (close < 0) throw new TokenError("Missing ']'");
        p = close + 1;
        continue;
      }
      if (c === 123 /* { */ && p > st) {
        // "{" is an atom-special; tolerated inside names but never a literal here
      }
      p++;
    }
    if (p === st) throw new TokenError("Empty argument");
    this.p = p;
    const v = s.slice(st, p);
    return { t: "atom", v: fromLatin1Utf8(v) };
  }
}

const utf8Decoder = new TextDecoder("utf-8", { fatal: false });
/** Text value of a literal (lazily useful for LOGIN, SEARCH...). Large literals keep only bytes. */
function decodeLiteralText(raw: Uint8Array): string {
  if (raw.length > 65536) return "";
  return utf8Decoder.decode(raw);
}

// ---------------------------------------------------------------- argument helpers

export function isAtom(a: Arg | undefined, v?: string): a is AtomArg {
  return !!a && a.t === "atom" && (v === undefined || a.v.toUpperCase() === v);
}

/** astring / string value, or null when the argument is a list. NIL atom stays "NIL". */
export function argString(a: Arg | undefined): string | null {
  if (!a) return null;
  if (a.t === "list") return null;
  return a.v;
}

/** nstring: NIL -> null. */
export function argNString(a: Arg | undefined): string | null | undefined {
  if (!a) return undefined;
  if (a.t === "atom" && a.v.toUpperCase() === "NIL") return null;
  if (a.t === "list") return undefined;
  return a.v;
}
