/**
 * ManageSieve input parsing (RFC 5804 §4), sans-IO: bytes in, command lines
 * out. No sockets, no timers, so it is unit-tested and fuzzed directly.
 *
 * A command line is an atom (the command name) followed by arguments: atoms
 * and numbers, quoted strings (at most 1024 octets, `\"` and `\\` escapes
 * only, no CR/LF — RFC 5804 §4 `quoted`), and literals `{n+}` CRLF n octets
 * (`literal-c2s`). A synchronizing `{n}` is accepted the same way: ManageSieve
 * has no command continuation request, and older clients send it expecting
 * none. A SASL response (RFC 5804 §2.1) is a line holding one string, so the
 * same reader serves both.
 *
 * Bounds (nothing grows with what the client announces):
 *  - a line segment (the text between literals) is at most MAX_SEGMENT
 *    octets; a longer one ends the connection (`fatal`), since the parser
 *    cannot tell where the next command starts;
 *  - a literal larger than `maxLiteral` is read and thrown away as it
 *    arrives (the client sends it anyway: `{n+}` does not wait), and the
 *    command is reported `oversize` (the session answers NO (QUOTA/MAXSIZE));
 *  - a literal larger than `hardCap` is not read at all: `fatal` (BYE).
 */

/** Longest command line text between literals; RFC 5804 gives none, quoted strings are at most 1024 octets. */
export const MAX_SEGMENT = 8192;
/** RFC 5804 §4: quoted = DQUOTE *1024QUOTED-CHAR DQUOTE. */
export const MAX_QUOTED = 1024;
/** Arguments per command: the longest command (RENAMESCRIPT) has two, a few more give a clear syntax error. */
export const MAX_ARGS = 16;

export type Token =
  | { kind: "atom"; value: string }
  | { kind: "string"; bytes: Uint8Array; literal: boolean };

export type ReaderEvent =
  /** One complete line: tokens in order. `oversize`: a literal over `maxLiteral` was dropped (its token is an empty string). */
  | { type: "line"; tokens: Token[]; oversize: boolean }
  /** A malformed line, skipped whole; the next line is read normally. */
  | { type: "error"; message: string }
  /** The stream cannot be followed any more (over-long line, literal over the hard cap): answer BYE and close. */
  | { type: "fatal"; message: string; literal: boolean };

const CR = 0x0d;
const LF = 0x0a;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const SP = 0x20;

type Lexed = { tokens: Token[]; literal: { size: number } | null } | { error: string };

/**
 * Splits one segment (the octets of a line up to CRLF, or up to a literal
 * marker) into tokens. A `{n}` / `{n+}` may only end a segment.
 */
export function lexSegment(seg: Uint8Array): Lexed {
  const tokens: Token[] = [];
  let i = 0;
  while (i < seg.length) {
    const c = seg[i]!;
    if (c === SP || c === 0x09) {
      i++;
      continue;
    }
    if (c === DQUOTE) {
      const out: number[] = [];
      i++;
      for (;;) {
        if (i >= seg.length) return { error: "unterminated quoted string" };
        const d = seg[i]!;
        if (d === DQUOTE) break;
        if (d === BACKSLASH) {
          const e = seg[i + 1];
          // RFC 5804 §4: QUOTED-SPECIALS are DQUOTE and "\" only.
          if (e !== DQUOTE && e !== BACKSLASH) return { error: 'a backslash in a quoted string may only escape " or \\' };
          out.push(e);
          i += 2;
        } else if (d === 0) {
          return { error: "a NUL octet in a quoted string" };
        } else {
          out.push(d);
          i++;
        }
        if (out.length > MAX_QUOTED) return { error: `quoted string longer than ${MAX_QUOTED} octets; send it as a literal` };
      }
      i++;
      tokens.push({ kind: "string", bytes: Uint8Array.from(out), literal: false });
    } else if (c === 0x7b /* { */) {
      const close = seg.indexOf(0x7d /* } */, i);
      if (close === -1) return { error: "malformed literal length" };
      const inner = new TextDecoder().decode(seg.subarray(i + 1, close));
      const m = /^(\d{1,10})(\+?)$/.exec(inner);
      if (!m) return { error: "malformed literal length" };
      // The literal's octets follow the CRLF: the marker must end the line.
      if (close !== seg.length - 1) return { error: "a literal length must end the line" };
      const size = Number(m[1]);
      if (!Number.isSafeInteger(size) || size > 0xffffffff) return { error: "literal length out of range" };
      return { tokens, literal: { size } };
    } else {
      let j = i;
      while (j < seg.length && isAtomChar(seg[j]!)) j++;
      if (j === i) return { error: `unexpected character 0x${c.toString(16).padStart(2, "0")}` };
      tokens.push({ kind: "atom", value: String.fromCharCode(...seg.subarray(i, j)) });
      i = j;
    }
    if (tokens.length > MAX_ARGS + 1) return { error: "too many arguments" };
    // Tokens are separated by a space (RFC 5804 §4: SP between arguments).
    if (i < seg.length && seg[i] !== SP && seg[i] !== 0x09) return { error: "arguments must be separated by spaces" };
  }
  return { tokens, literal: null };
}

/** Command names, and numbers (RFC 5804 §4 `number`), are ASCII letters, digits and a few marks. */
function isAtomChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x5f || c === 0x2e;
}

export class CommandReader {
  /** Octets of the current segment (before its CRLF). */
  private seg: Uint8Array[] = [];
  private segLen = 0;
  /** Tokens of the line so far (segments before literals, and the literals). */
  private tokens: Token[] = [];
  private oversize = false;
  /** Literal being read: octets still to come, and where they go (null: dropped). */
  private literalLeft = 0;
  private literalBuf: Uint8Array | null = null;
  private literalPos = 0;
  private inLiteral = false;
  /** The first error on the line being read: reported when the line ends. */
  private lineError: string | null = null;
  private dead = false;

  constructor(private readonly limits: { maxLiteral: number; hardCap: number }) {}

  /** Bytes held for the line being read. */
  get pending(): number {
    return this.segLen + this.literalPos;
  }

  /** Forgets everything buffered (after STARTTLS: RFC 5804 §2.2 — nothing pipelined before TLS may be acted on). */
  reset(): void {
    this.seg = [];
    this.segLen = 0;
    this.tokens = [];
    this.oversize = false;
    this.literalLeft = 0;
    this.literalBuf = null;
    this.literalPos = 0;
    this.inLiteral = false;
    this.lineError = null;
  }

  feed(chunk: Uint8Array): ReaderEvent[] {
    const out: ReaderEvent[] = [];
    let pos = 0;
    while (pos < chunk.length && !this.dead) {
      if (this.inLiteral) {
        const n = Math.min(this.literalLeft, chunk.length - pos);
        if (this.literalBuf) this.literalBuf.set(chunk.subarray(pos, pos + n), this.literalPos);
        this.literalPos += this.literalBuf ? n : 0;
        this.literalLeft -= n;
        pos += n;
        if (this.literalLeft === 0) {
          this.inLiteral = false;
          if (this.lineError === null) this.tokens.push({ kind: "string", bytes: this.literalBuf ?? new Uint8Array(0), literal: true });
          this.literalBuf = null;
          this.literalPos = 0;
        }
        continue;
      }
      const nl = chunk.indexOf(LF, pos);
      const end = nl === -1 ? chunk.length : nl;
      if (this.segLen + (end - pos) > MAX_SEGMENT) {
        this.dead = true;
        out.push({ type: "fatal", message: `Line longer than ${MAX_SEGMENT} octets`, literal: false });
        return out;
      }
      if (nl === -1) {
        this.seg.push(chunk.slice(pos));
        this.segLen += chunk.length - pos;
        return out;
      }
      this.seg.push(chunk.subarray(pos, end));
      this.segLen += end - pos;
      pos = nl + 1;
      const ev = this.endSegment();
      if (ev) out.push(ev);
    }
    return out;
  }

  /** A CRLF (or bare LF) ended the current segment. */
  private endSegment(): ReaderEvent | null {
    let seg = concat(this.seg, this.segLen);
    this.seg = [];
    this.segLen = 0;
    if (seg.length && seg[seg.length - 1] === CR) seg = seg.subarray(0, seg.length - 1);
    let literal: number | null = null;
    if (this.lineError === null) {
      const lexed = lexSegment(seg);
      if ("error" in lexed) this.lineError = lexed.error;
      else {
        for (const t of lexed.tokens) this.tokens.push(t);
        if (this.tokens.length > MAX_ARGS + 1) this.lineError = "too many arguments";
        literal = lexed.literal?.size ?? null;
      }
    }
    if (this.lineError !== null) {
      this.tokens = [];
      // A literal announced on a bad line is still read (and dropped): its octets must never be taken as commands.
      const m = literal === null ? /\{(\d{1,10})\+?\}$/.exec(latin1(seg.subarray(Math.max(0, seg.length - 16)))) : null;
      if (m) literal = Number(m[1]);
    }
    if (literal !== null) return this.startLiteral(literal);
    const ev: ReaderEvent =
      this.lineError !== null ? { type: "error", message: this.lineError } : { type: "line", tokens: this.tokens, oversize: this.oversize };
    this.tokens = [];
    this.oversize = false;
    this.lineError = null;
    return ev;
  }

  private startLiteral(size: number): ReaderEvent | null {
    if (size > this.limits.hardCap) {
      this.dead = true;
      return { type: "fatal", message: `Literal of ${size} octets refused: too large`, literal: true };
    }
    const drop = this.lineError !== null || size > this.limits.maxLiteral;
    if (drop && this.lineError === null) this.oversize = true;
    this.literalBuf = drop ? null : new Uint8Array(size);
    this.literalPos = 0;
    this.literalLeft = size;
    this.inLiteral = true;
    return null;
  }
}

function latin1(b: Uint8Array): string {
  return String.fromCharCode(...b);
}

function concat(parts: Uint8Array[], len: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const fatalDecoder = new TextDecoder("utf-8", { fatal: true });

/** A string argument as UTF-8 text, or null when it is not valid UTF-8 (RFC 5804 §1.6, §4: strings are UTF-8). */
export function utf8(bytes: Uint8Array): string | null {
  try {
    return fatalDecoder.decode(bytes);
  } catch {
    return null;
  }
}
