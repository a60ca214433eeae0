/**
 * POP3 input parsing, sans-IO: bytes in, lines and commands out. No sockets,
 * no timers, so it is unit-tested and fuzzed directly.
 *
 * Line limits: RFC 2449 §4 caps a command line at 255 octets including the
 * CRLF. An AUTH command and the SASL responses that follow it (RFC 5034 §4)
 * may legitimately be longer (initial responses, long passwords), so those
 * get a larger, still bounded, allowance. A line over its limit is dropped
 * whole (we never buffer more than the limit) and reported as `toolong`, so
 * the session answers -ERR and carries on with the next line.
 */

/** RFC 2449 §4: 255 octets for a command line, CRLF included. */
export const MAX_COMMAND_LINE = 255;
/** AUTH lines and SASL continuation lines (RFC 5034 §4 lets them exceed 255). */
export const MAX_AUTH_LINE = 8192;

export type LineEvent = { type: "line"; line: string } | { type: "toolong" };

const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream into lines. Accepts CRLF and bare LF line ends
 * (lenient with sloppy devices); the terminator is not part of the line.
 * Lines are decoded as UTF-8 (POP3 commands are ASCII; user names and
 * passwords may carry UTF-8).
 */
export class LineReader {
  private buf: Uint8Array[] = [];
  private bufLen = 0;
  /** Dropping the rest of an over-long line until its LF. */
  private discarding = false;
  /** Continuation-line mode (SASL exchange): the larger limit applies. */
  saslMode = false;
  private readonly decoder = new TextDecoder("utf-8", { fatal: false });

  /** Bytes buffered towards the next (incomplete) line. */
  get pending(): number {
    return this.bufLen;
  }

  /** Forgets every buffered byte (after STLS: RFC 2595 §4 forbids acting on pipelined plaintext). */
  reset(): void {
    this.buf = [];
    this.bufLen = 0;
    this.discarding = false;
  }

  feed(chunk: Uint8Array): LineEvent[] {
    const out: LineEvent[] = [];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(LF, start);
      const end = nl === -1 ? chunk.length : nl;
      if (this.discarding) {
        if (nl === -1) return out;
        this.discarding = false;
        out.push({ type: "toolong" });
        start = nl + 1;
        continue;
      }
      const piece = chunk.subarray(start, end);
      // +1 (or +2 with CR) for the line end that RFC 2449 §4 counts.
      const lineLen = this.bufLen + piece.length;
      const limit = this.limitFor(piece);
      if (lineLen + 1 > limit) {
        this.buf = [];
        this.bufLen = 0;
        if (nl === -1) {
          this.discarding = true;
          return out;
        }
        out.push({ type: "toolong" });
        start = nl + 1;
        continue;
      }
      if (nl === -1) {
        // Copy: the caller may reuse its chunk buffer.
        this.buf.push(piece.slice());
        this.bufLen += piece.length;
        return out;
      }
      let line: Uint8Array;
      if (this.bufLen === 0) line = piece;
      else {
        line = new Uint8Array(lineLen);
        let off = 0;
        for (const b of this.buf) {
          line.set(b, off);
          off += b.length;
        }
        line.set(piece, off);
        this.buf = [];
        this.bufLen = 0;
      }
      let n = line.length;
      if (n > 0 && line[n - 1] === CR) n--;
      if (n + 2 > limit) out.push({ type: "toolong" });
      else out.push({ type: "line", line: this.decoder.decode(line.subarray(0, n)) });
      start = nl + 1;
    }
    return out;
  }

  /** The limit for the line being assembled: larger for AUTH and SASL responses. */
  private limitFor(piece: Uint8Array): number {
    if (this.saslMode) return MAX_AUTH_LINE;
    // Look at the first 5 octets of the line (buffered part first, then this piece).
    const head: number[] = [];
    for (const b of this.buf) {
      for (let i = 0; i < b.length && head.length < 5; i++) head.push(b[i]!);
      if (head.length >= 5) break;
    }
    for (let i = 0; i < piece.length && head.length < 5; i++) head.push(piece[i]!);
    if (head.length === 5 && (head[0]! | 0x20) === 0x61 && (head[1]! | 0x20) === 0x75 && (head[2]! | 0x20) === 0x74 && (head[3]! | 0x20) === 0x68 && head[4] === 0x20) {
      return MAX_AUTH_LINE;
    }
    return MAX_COMMAND_LINE;
  }
}

export interface Command {
  /** Upper-cased keyword. */
  name: string;
  /** Arguments split on single spaces (RFC 1939 §3). */
  args: string[];
  /** Everything after the keyword and its space, unsplit (PASS may contain spaces, RFC 1939 §7). */
  rest: string;
}

/**
 * RFC 1939 §3: a keyword of printable ASCII, then arguments separated by a
 * single space. RFC 2449 §3 allows keywords longer than four characters.
 * Returns null for an empty or unparseable line.
 */
export function parseCommand(line: string): Command | null {
  if (line.length === 0) return null;
  const sp = line.indexOf(" ");
  const keyword = sp === -1 ? line : line.slice(0, sp);
  if (keyword.length === 0 || keyword.length > 40 || !/^[\x21-\x7e]+$/.test(keyword)) return null;
  const rest = sp === -1 ? "" : line.slice(sp + 1);
  const args = rest === "" ? [] : rest.split(" ");
  return { name: keyword.toUpperCase(), args, rest };
}

/**
 * A message number or line count: decimal digits only, no sign, no
 * whitespace (RFC 1939 §3: "a message-number argument"). Returns null when
 * it is not a plain non-negative integer or is absurdly large.
 */
export function parseNumber(arg: string | undefined): number | null {
  if (arg === undefined || !/^[0-9]{1,10}$/.test(arg)) return null;
  const n = Number(arg);
  return Number.isSafeInteger(n) ? n : null;
}
