/**
 * Sans-IO SMTP parsing: bytes in, commands / message bytes out. No sockets,
 * no timers, no store: everything here is unit-testable and fuzzable.
 *
 *  - `InputBuffer`: the connection's unread bytes, read as command lines
 *    (with a hard length cap, RFC 5321 §4.5.3.1.4) or as raw byte ranges (BDAT).
 *  - `DataDecoder`: the DATA phase (RFC 5321 §4.1.1.4, §4.5.2): dot-unstuffing,
 *    end-of-data detection, line-length and size limits, all while streaming;
 *    `ChunkCollector` the same for BDAT. Both keep the message in a
 *    `MessageBuffer` (message-buffer.ts): memory ~ bytes received.
 *  - `parseCommandLine`, `parseMailArg`, `parseRcptArg`: command syntax,
 *    paths and ESMTP parameters (RFC 5321 §4.1.2, RFC 6531, RFC 1870, RFC 3461,
 *    RFC 6152, RFC 3030).
 */

import { isIPv4 as netIsIPv4, isIPv6 as netIsIPv6 } from "node:net";
import { MessageBuffer } from "./message-buffer.ts";

// ---------------------------------------------------------------- limits

/** RFC 5321 §4.5.3.1.4: a command line is at most 512 octets including CRLF. */
export const MAX_COMMAND_LINE = 512;
/**
 * RFC 3461 §4 / §5 let DSN parameters lengthen MAIL by 100 and RCPT by 500
 * octets; RFC 1870 adds 26 for SIZE. We allow MAIL/RCPT lines up to this.
 */
export const MAX_ENVELOPE_LINE = 1024;
/** RFC 4954 §4: an AUTH command line (and SASL continuation lines) may be up to 12288 octets. */
export const MAX_AUTH_LINE = 12288;
/**
 * RFC 5321 §4.5.3.1.6: a text line is at most 1000 octets including CRLF.
 * That is the limit for what a sender must produce; §4.5.3.1 asks receivers
 * to avoid enforcing such limits where they can, so it is not enforced on
 * receipt (see MAX_BODY_LINE).
 */
export const MAX_TEXT_LINE = 1000;
/**
 * Hard cap on one line of a received message body (DATA or BDAT), counting
 * its CRLF. Postfix, Dovecot LMTP and Exchange accept lines past 1,000 octets
 * (Postfix splits them into 2 KB records and stores any length), because
 * badly written senders put whole HTML bodies on one line (issue 13 item 16).
 * We store such lines as received, up to 1 MiB: longer than any real HTML or
 * header line, 20x the 50 KB one-line bodies seen in practice, and short
 * enough that header and MIME parsers downstream never face a multi-megabyte
 * line. The message size limit still applies on top; a message with a longer
 * line is refused after the end of data with 500 5.5.2 (RFC 5321
 * §4.5.3.1.10: "500 Line too long").
 */
export const MAX_BODY_LINE = 1024 * 1024;
/**
 * Hard cap on the header section of a received message (DATA or BDAT): the
 * octets before the first empty line (RFC 5322 §2.1), or of the whole
 * message when it has none. RFC 5322 sets no limit; Exchange refuses headers
 * over its MaxHeaderSize (256 KB by default) with 552 5.3.4, Postfix keeps at
 * most header_size_limit (100 KB). Every reader of the header (the SMTP
 * checks, mailauth, the store's index) holds per-field objects, ~20x the
 * octets, so a 30 MB header of "a: b" fields cost +578 MB in one of them.
 * 1 MiB is far above real headers (a long Received/ARC/DKIM chain is tens
 * of KB) and bounds that work.
 */
export const MAX_HEADER_SECTION = 1024 * 1024;
/** RFC 5321 §4.5.3.1.1 / §4.5.3.1.2 / §4.5.3.1.3. */
export const MAX_LOCAL_PART = 64;
export const MAX_DOMAIN = 255;
export const MAX_PATH = 256;

// ---------------------------------------------------------------- input buffer

export type LineResult = { kind: "line"; bytes: Uint8Array } | { kind: "toolong" };

const EMPTY = new Uint8Array(0);

/**
 * The unread bytes of a connection. Memory is bounded by the caller (it
 * pauses the socket when `length` grows) and by `readLine`, which drops the
 * bytes of an over-long line instead of keeping them.
 */
export class InputBuffer {
  private buf: Uint8Array = EMPTY;
  private discarding = false;

  get length(): number {
    return this.buf.length;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.buf.length === 0) {
      this.buf = chunk;
      return;
    }
    const next = new Uint8Array(this.buf.length + chunk.length);
    next.set(this.buf, 0);
    next.set(chunk, this.buf.length);
    this.buf = next;
  }

  /** Drops everything unread (RFC 3207 §4.2: bytes pipelined after STARTTLS). */
  clear(): void {
    this.buf = EMPTY;
    this.discarding = false;
  }

  /**
   * Next line without its line ending (CRLF or a bare LF), or "toolong" once
   * a line longer than `maxLen` octets (counting CRLF) has been skipped
   * entirely, or null when more bytes are needed.
   */
  readLine(maxLen: number): LineResult | null {
    const idx = this.buf.indexOf(10);
    if (idx < 0) {
      if (this.buf.length > maxLen) {
        // Do not keep an unbounded line: drop what we have and remember to skip the rest.
        this.discarding = true;
        this.buf = EMPTY;
      }
      return null;
    }
    const lineEnd = idx > 0 && this.buf[idx - 1] === 13 ? idx - 1 : idx;
    const bytes = this.buf.subarray(0, lineEnd);
    this.buf = this.buf.subarray(idx + 1);
    if (this.discarding) {
      this.discarding = false;
      return { kind: "toolong" };
    }
    if (idx + 1 > maxLen) return { kind: "toolong" };
    return { kind: "line", bytes };
  }

  /** Up to `max` raw bytes (BDAT chunks, RFC 3030 §2). */
  readBytes(max: number): Uint8Array {
    const n = Math.min(max, this.buf.length);
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Everything unread. */
  takeAll(): Uint8Array {
    const out = this.buf;
    this.buf = EMPTY;
    return out;
  }
}

// ---------------------------------------------------------------- DATA decoding

const enum DState {
  /** At the start of a line that followed a CRLF (or the start of data). */
  LineStart,
  /** Saw "." at such a line start. */
  Dot,
  /** Saw ".\r" at such a line start. */
  DotCr,
  /** Inside a line. */
  Mid,
  /** Inside a line, last byte was CR. */
  MidCr,
}

/**
 * What DATA and BDAT share: the receive buffer, the three caps that refuse a
 * message (size, one line, the header section) and the finished message.
 * Once any cap is crossed nothing more is kept (`refused`).
 */
abstract class MessageIntake {
  protected readonly buf: MessageBuffer;
  /** Octets of the message, kept or not. */
  size = 0;
  oversize = false;
  /** Some line exceeded `maxLine` octets (counting its line end). */
  lineTooLong = false;
  /** The header section exceeded `maxHeader` octets. */
  headerTooLong = false;

  constructor(
    protected readonly maxSize: number,
    protected readonly maxLine: number = MAX_BODY_LINE,
    protected readonly maxHeader: number = MAX_HEADER_SECTION,
  ) {
    this.buf = new MessageBuffer(maxSize);
  }

  /** True once the message is known to be refused (nothing is kept from then on). */
  get refused(): boolean {
    return this.oversize || this.lineTooLong || this.headerTooLong;
  }

  /** Octets of memory held for the message (for tests and limits). */
  get retainedBytes(): number {
    return this.buf.retainedBytes;
  }

  get retainedChunks(): number {
    return this.buf.retainedChunks;
  }

  /** The message (empty when refused: oversize, or a line or the header over its cap). */
  message(): Uint8Array {
    return this.refused ? EMPTY : this.buf.bytes();
  }
}

export interface DataResult {
  /** True once <CRLF>.<CRLF> was seen. */
  done: boolean;
  /** Bytes of the input chunk consumed (the rest are pipelined commands). */
  consumed: number;
}

/**
 * Streaming DATA decoder (RFC 5321 §4.1.1.4 end of data, §4.5.2 transparency).
 *
 * Only <CRLF>.<CRLF> ends the data: "<LF>.<LF>", "<CRLF>.<LF>" and similar
 * do not, so a message cannot smuggle a second one past a downstream MTA
 * that reads line ends differently (the 2023 "SMTP smuggling" family). Bare
 * LF line ends are normalised to CRLF (the store and IMAP want CRLF), and a
 * leading dot is only removed after a real CRLF, matching how clients stuff.
 *
 * Memory: the decoded bytes are copied into a `MessageBuffer` (a few large
 * chunks), never kept as one view per line, so what is held stays within
 * about twice the message whatever the line shape (issue 13 item 1). Bytes
 * beyond `maxSize` are counted but not kept, and what was kept is released
 * the moment the limit is crossed (RFC 1870 §6.3 / RFC 5321 §4.5.3.1.7: the
 * server reads to the end of data and refuses with 552). A line over
 * `maxLine` likewise releases everything: that message will be refused.
 */
export class DataDecoder extends MessageIntake {
  private state = DState.LineStart;
  /** Length of the current line so far (octets, without its line end). */
  private lineLen = 0;
  /** Still before the first empty line (the header section). */
  private inHeader = true;
  /** Octets of the header section so far (lines with their CRLF). */
  private headerLen = 0;

  /** Counts and keeps `src[start, end)` of decoded message bytes. */
  private emit(src: Uint8Array, start: number, end: number): void {
    if (end <= start) return;
    this.size += end - start;
    if (!this.oversize && this.size > this.maxSize) {
      this.oversize = true;
      this.buf.clear();
    }
    if (this.refused) return;
    this.buf.append(src, start, end);
  }

  private countLine(n: number): void {
    this.lineLen += n;
    // maxLine counts the CRLF (RFC 5321 §4.5.3.1.6).
    if (this.lineLen + 2 > this.maxLine && !this.lineTooLong) {
      this.lineTooLong = true;
      this.buf.clear();
    }
    if (this.inHeader) this.countHeader(n);
  }

  /** A line ended (its length is in lineLen): the first empty one ends the header section. */
  private endLine(): void {
    if (this.inHeader) {
      if (this.lineLen === 0) this.inHeader = false;
      else this.countHeader(2);
    }
    this.lineLen = 0;
  }

  private countHeader(n: number): void {
    this.headerLen += n;
    if (this.headerLen > this.maxHeader && !this.headerTooLong) {
      this.headerTooLong = true;
      this.buf.clear();
    }
  }

  push(chunk: Uint8Array): DataResult {
    let pos = 0;
    const n = chunk.length;
    while (pos < n) {
      switch (this.state) {
        case DState.LineStart: {
          const c = chunk[pos]!;
          if (c === 46 /* . */) {
            this.state = DState.Dot;
            pos++;
          } else {
            this.state = DState.Mid;
          }
          break;
        }
        case DState.Dot: {
          const c = chunk[pos]!;
          if (c === 13) {
            this.state = DState.DotCr;
            pos++;
          } else {
            // RFC 5321 §4.5.2: a leading dot is removed; the rest of the line is data.
            this.state = DState.Mid;
            this.countLine(1);
          }
          break;
        }
        case DState.DotCr: {
          const c = chunk[pos]!;
          if (c === 10) {
            return { done: true, consumed: pos + 1 };
          }
          // ".\r" followed by something else: the dot was stuffing, the CR is (bare) data.
          this.state = DState.Mid;
          this.countLine(2);
          this.emit(CR, 0, 1);
          break;
        }
        case DState.MidCr: {
          const c = chunk[pos]!;
          if (c === 10) {
            this.emit(LF, 0, 1);
            this.endLine();
            this.state = DState.LineStart;
            pos++;
          } else {
            // the CR was bare: it is data (already emitted)
            this.countLine(1);
            this.state = DState.Mid;
          }
          break;
        }
        case DState.Mid: {
          // Scan whole runs of ordinary CRLF lines and copy them in one go; stop
          // only where bytes must change (bare LF, a line starting with ".") or at
          // the end of the chunk.
          const runStart = pos;
          for (;;) {
            const idx = chunk.indexOf(10, pos);
            if (idx < 0) {
              const segLen = n - pos;
              this.countLine(segLen);
              this.emit(chunk, runStart, n);
              if (segLen && chunk[n - 1] === 13) {
                this.state = DState.MidCr;
                this.lineLen -= 1; // the CR is a line end candidate
              }
              return { done: false, consumed: n };
            }
            if (idx > pos && chunk[idx - 1] === 13) {
              // a normal CRLF line end
              this.countLine(idx - 1 - pos);
              this.endLine();
              pos = idx + 1;
              if (pos < n && chunk[pos] !== 46) continue;
              this.emit(chunk, runStart, pos);
              this.state = DState.LineStart;
              break;
            }
            // bare LF: normalise to CRLF; no dot handling on the next line
            this.countLine(idx - pos);
            this.emit(chunk, runStart, idx);
            this.emit(CRLF, 0, 2);
            this.endLine();
            pos = idx + 1;
            break;
          }
          break;
        }
      }
    }
    return { done: false, consumed: n };
  }

}

const CR = new Uint8Array([13]);
const LF = new Uint8Array([10]);
const CRLF = new Uint8Array([13, 10]);

/**
 * Collects BDAT chunks up to a size limit without keeping bytes past it (RFC
 * 3030 §2, RFC 1870). Bytes are copied into one `MessageBuffer`, so a run of
 * 1-byte chunks costs one byte each, not one array each. BDAT data is taken
 * as is (no line-end rewriting, RFC 3030 §2); lines (up to each LF) are only
 * measured against the same hard cap as DATA.
 */
export class ChunkCollector extends MessageIntake {
  /** Octets since the last LF. */
  private lineLen = 0;
  /** The last octet seen was CR (a line of just CR before its LF is empty). */
  private lastCr = false;
  /** Still before the first empty line (the header section). */
  private inHeader = true;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const before = this.size;
    this.size += chunk.length;
    if (!this.oversize && this.size > this.maxSize) {
      this.oversize = true;
      this.buf.clear();
    }
    this.measureLines(chunk, before);
    if (this.refused) return;
    this.buf.append(chunk);
  }

  /**
   * Tracks line lengths across chunks (lines end at LF; their length includes
   * it) and the header section (up to the first empty line, "\r\n" or "\n").
   * `offset` is the message offset of the chunk's first octet.
   */
  private measureLines(chunk: Uint8Array, offset: number): void {
    if (this.lineTooLong && (this.headerTooLong || !this.inHeader)) return;
    let p = 0;
    for (;;) {
      const lf = chunk.indexOf(10, p);
      if (lf < 0) {
        this.lineLen += chunk.length - p;
        break;
      }
      const len = this.lineLen + lf + 1 - p;
      // Empty: just the LF, or CR LF (the CR may have ended the previous chunk).
      const empty = len === 1 || (len === 2 && (lf > 0 ? chunk[lf - 1] === 13 : this.lastCr));
      if (len > this.maxLine) this.flagLine();
      if (this.inHeader && empty) {
        this.inHeader = false;
        if (offset + lf + 1 - len > this.maxHeader) this.flagHeader();
      }
      this.lineLen = 0;
      p = lf + 1;
    }
    this.lastCr = chunk[chunk.length - 1] === 13;
    // A line still open will be at least one octet (its LF) longer: flag it now,
    // so an endless line is not kept until it ends.
    if (this.lineLen + 1 > this.maxLine) this.flagLine();
    if (this.inHeader && offset + chunk.length > this.maxHeader) this.flagHeader();
  }

  private flagLine(): void {
    if (this.lineTooLong) return;
    this.lineTooLong = true;
    this.buf.clear();
  }

  private flagHeader(): void {
    if (this.headerTooLong) return;
    this.headerTooLong = true;
    this.buf.clear();
  }

}

// ---------------------------------------------------------------- command lines

export interface CommandLine {
  /** Upper-cased verb, "" for an empty line. */
  verb: string;
  /** Everything after the first space (may be ""). */
  arg: string;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Decodes a command line; null if it is not valid UTF-8 (RFC 6531 §3.3 allows UTF-8 only). */
export function decodeLine(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

export function parseCommandLine(line: string): CommandLine {
  const sp = line.indexOf(" ");
  const verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
  const arg = sp < 0 ? "" : line.slice(sp + 1);
  return { verb, arg };
}

// ---------------------------------------------------------------- replies

/** An SMTP reply: code, enhanced status code (RFC 3463, RFC 2034) and text lines. */
export interface Reply {
  code: number;
  /** e.g. "5.5.2"; omitted for 220/221 greetings and when ENHANCEDSTATUSCODES does not apply. */
  enhanced?: string;
  lines: string[];
}

export function reply(code: number, enhanced: string | undefined, ...lines: string[]): Reply {
  return { code, enhanced, lines: lines.length ? lines : [""] };
}

/** RFC 5321 §4.2.1: multi-line replies use "code-" on every line but the last. */
export function formatReply(r: Reply): string {
  let out = "";
  const last = r.lines.length - 1;
  r.lines.forEach((text, i) => {
    const sep = i === last ? " " : "-";
    const enh = r.enhanced ? r.enhanced + " " : "";
    out += `${r.code}${sep}${enh}${text}`.replace(/[\r\n]/g, " ") + "\r\n";
  });
  return out;
}

// ---------------------------------------------------------------- addresses

export type DomainKind = "domain" | "ipv4" | "ipv6" | "general";

export interface Mailbox {
  /** Local part as written, quotes removed and quoted-pairs resolved. */
  local: string;
  /** True if the local part was a Quoted-string. */
  quoted: boolean;
  /** Domain (as written, not case-folded) or the address literal's content without brackets. */
  domain: string;
  domainKind: DomainKind;
  /** Contains non-ASCII (needs SMTPUTF8, RFC 6531 §3.4). */
  utf8: boolean;
}

export interface Path {
  /** RFC 5321 §4.1.2 A-d-l source route hosts (ignored or refused, never followed). */
  route: string[];
  /** null for the null reverse-path "<>". */
  mailbox: Mailbox | null;
  /** "<Postmaster>" without a domain (RFC 5321 §4.1.1.3). */
  postmaster?: boolean;
}

export interface ParseError {
  code: number;
  enhanced: string;
  text: string;
  /** Why, for callers that map some syntax errors differently (relay tricks). */
  reason?: "nodomain" | "routing" | "trailingdot" | "syntax" | "param" | "unknown-param" | "toolong";
}

const isAlpha = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isDigit = (c: number) => c >= 48 && c <= 57;
/** RFC 5322 §3.2.3 atext (ASCII part). */
const ATEXT_SPECIALS = "!#$%&'*+-/=?^_`{|}~";
const isAtext = (ch: string) => {
  const c = ch.charCodeAt(0);
  return isAlpha(c) || isDigit(c) || ATEXT_SPECIALS.includes(ch) || c >= 0x80; // RFC 6531 §3.3 UTF8-non-ascii
};

/** RFC 5321 §4.1.2 Domain, extended by RFC 6531 §3.3 to U-labels. */
export function isValidDomain(d: string): boolean {
  if (d.length === 0 || Buffer.byteLength(d) > MAX_DOMAIN) return false;
  const labels = d.split(".");
  for (const l of labels) {
    if (l.length === 0 || Buffer.byteLength(l) > 63) return false;
    // sub-domain = Let-dig [Ldh-str]: no leading/trailing hyphen
    if (l.startsWith("-") || l.endsWith("-")) return false;
    for (const ch of l) {
      const c = ch.codePointAt(0)!;
      if (!(isAlpha(c) || isDigit(c) || c === 45 || c >= 0x80)) return false;
    }
  }
  return true;
}

function isIPv4(s: string): boolean {
  // RFC 5321 §4.1.3 IPv4-address-literal: Snum 3("."  Snum), decimal only
  return /^[0-9]{1,3}(\.[0-9]{1,3}){3}$/.test(s) && netIsIPv4(s);
}

/** RFC 5321 §4.1.3 IPv6-addr. */
function isIPv6(s: string): boolean {
  return s.length <= 45 && netIsIPv6(s);
}

interface Cursor {
  s: string;
  i: number;
}

function parseLocalPart(c: Cursor): { local: string; quoted: boolean } | null {
  if (c.s[c.i] === '"') {
    // RFC 5321 §4.1.2 Quoted-string: qtextSMTP / quoted-pairSMTP
    c.i++;
    let out = "";
    while (c.i < c.s.length) {
      const ch = c.s[c.i]!;
      const code = ch.charCodeAt(0);
      if (ch === '"') {
        c.i++;
        return { local: out, quoted: true };
      }
      if (ch === "\\") {
        const nx = c.s[c.i + 1];
        if (nx === undefined) return null;
        const nc = nx.charCodeAt(0);
        if (nc < 32 || nc > 126) return null;
        out += nx;
        c.i += 2;
        continue;
      }
      if (code < 32 || code === 127) return null;
      out += ch;
      c.i++;
    }
    return null;
  }
  // Dot-string = Atom *("." Atom)
  const start = c.i;
  let prevDot = true;
  while (c.i < c.s.length) {
    const ch = c.s[c.i]!;
    if (ch === ".") {
      if (prevDot) return null;
      prevDot = true;
      c.i++;
      continue;
    }
    if (!isAtext(ch)) break;
    prevDot = false;
    c.i++;
  }
  if (c.i === start || prevDot) return null;
  return { local: c.s.slice(start, c.i), quoted: false };
}

function parseDomainPart(c: Cursor): { domain: string; kind: DomainKind } | null {
  if (c.s[c.i] === "[") {
    const end = c.s.indexOf("]", c.i);
    if (end < 0) return null;
    const lit = c.s.slice(c.i + 1, end);
    c.i = end + 1;
    if (isIPv4(lit)) return { domain: lit, kind: "ipv4" };
    if (/^ipv6:/i.test(lit)) return isIPv6(lit.slice(5)) ? { domain: lit.slice(5).toLowerCase(), kind: "ipv6" } : null;
    // General-address-literal = Standardized-tag ":" 1*dcontent
    const m = /^([A-Za-z0-9-]*[A-Za-z0-9]):([\x21-\x5a\x5e-\x7e]+)$/.exec(lit);
    if (m) return { domain: lit, kind: "general" };
    return null;
  }
  const start = c.i;
  while (c.i < c.s.length && c.s[c.i] !== ">" && c.s[c.i] !== " " && c.s[c.i] !== "," && c.s[c.i] !== ":") c.i++;
  const d = c.s.slice(start, c.i);
  return { domain: d, kind: "domain" };
}

/** Parses `user@domain` (no brackets). Used for paths and for ORCPT/From checks. */
export function parseMailbox(s: string): Mailbox | ParseError {
  const c: Cursor = { s, i: 0 };
  const r = parseMailboxAt(c);
  if ("code" in r) return r;
  if (c.i !== s.length) return err(501, "5.1.3", "Bad address syntax");
  return r;
}

function parseMailboxAt(c: Cursor): Mailbox | ParseError {
  const lp = parseLocalPart(c);
  if (!lp) return err(501, "5.1.3", "Bad address syntax (local part)");
  if (c.s[c.i] !== "@") return { ...err(501, "5.1.3", "Address needs a domain"), reason: "nodomain" };
  c.i++;
  const dp = parseDomainPart(c);
  if (!dp) return err(501, "5.1.3", "Bad address syntax (domain)");
  if (Buffer.byteLength(lp.local) > MAX_LOCAL_PART) return err(553, "5.1.3", "Local part too long");
  if (dp.kind === "domain" && !isValidDomain(dp.domain)) {
    // Keep relay tricks distinguishable: a trailing dot ("user@host.") or a
    // second routing character in the domain ("user@a@b", "user@a%b") is a
    // request to route elsewhere, which callers refuse as relaying.
    if (dp.domain.endsWith(".") && isValidDomain(dp.domain.replace(/\.+$/, ""))) {
      return { ...err(501, "5.1.2", "Bad domain syntax (trailing dot)"), reason: "trailingdot" };
    }
    if (/[@%!]/.test(dp.domain)) return { ...err(501, "5.1.2", "Bad domain syntax"), reason: "routing" };
    return err(501, "5.1.2", "Bad domain syntax");
  }
  // eslint-disable-next-line no-control-regex
  const utf8 = /[^\x00-\x7f]/.test(lp.local) || /[^\x00-\x7f]/.test(dp.domain);
  return { local: lp.local, quoted: lp.quoted, domain: dp.domain, domainKind: dp.kind, utf8 };
}

function err(code: number, enhanced: string, text: string): ParseError {
  return { code, enhanced, text };
}

/** RFC 5321 §4.1.2 Path = "<" [ A-d-l ":" ] Mailbox ">" (or "<>" when allowed). */
export function parsePath(s: string, allowNull: boolean, allowPostmaster: boolean): { path: Path; rest: string } | ParseError {
  if (!s.startsWith("<")) return err(501, "5.5.4", "Syntax: address must be enclosed in <>");
  if (allowNull && s.startsWith("<>")) return { path: { route: [], mailbox: null }, rest: s.slice(2) };
  const c: Cursor = { s, i: 1 };
  const route: string[] = [];
  if (s[1] === "@") {
    // A-d-l = At-domain *( "," At-domain ) ":"  (RFC 5321 §4.1.2, Appendix C: obsolete source route)
    for (;;) {
      if (c.s[c.i] !== "@") return err(501, "5.1.3", "Bad source route");
      c.i++;
      const dp = parseDomainPart(c);
      if (!dp || (dp.kind === "domain" && !isValidDomain(dp.domain))) return err(501, "5.1.3", "Bad source route");
      route.push(dp.domain);
      if (c.s[c.i] === ",") {
        c.i++;
        continue;
      }
      if (c.s[c.i] === ":") {
        c.i++;
        break;
      }
      return err(501, "5.1.3", "Bad source route");
    }
  }
  if (allowPostmaster && route.length === 0 && /^<postmaster>/i.test(s)) {
    return { path: { route, mailbox: null, postmaster: true }, rest: s.slice("<postmaster>".length) };
  }
  const mb = parseMailboxAt(c);
  if ("code" in mb) return mb;
  if (c.s[c.i] !== ">") return err(501, "5.1.3", "Bad address syntax");
  c.i++;
  // RFC 5321 §4.5.3.1.3: a path is at most 256 octets including punctuation.
  if (Buffer.byteLength(s.slice(0, c.i)) > MAX_PATH) return err(501, "5.1.3", "Path too long");
  return { path: { route, mailbox: mb }, rest: s.slice(c.i) };
}

// ---------------------------------------------------------------- ESMTP parameters

/** RFC 5321 §4.1.2 esmtp-keyword / esmtp-value (value extended to UTF-8 by RFC 6531 §3.3). */
export function parseParams(rest: string): Map<string, string | null> | ParseError {
  const params = new Map<string, string | null>();
  const trimmed = rest.replace(/^ +/, "").replace(/ +$/, "");
  if (trimmed === "") return params;
  if (rest.length > 0 && rest[0] !== " ") return err(501, "5.5.4", "Syntax error after address");
  for (const tok of trimmed.split(/ +/)) {
    const eq = tok.indexOf("=");
    const key = (eq < 0 ? tok : tok.slice(0, eq)).toUpperCase();
    const value = eq < 0 ? null : tok.slice(eq + 1);
    if (!/^[A-Z0-9][A-Z0-9-]*$/.test(key)) return { ...err(501, "5.5.4", "Bad parameter syntax"), reason: "param" };
    if (value !== null) {
      if (value.length === 0) return { ...err(501, "5.5.4", `Empty value for ${key}`), reason: "param" };
      for (const ch of value) {
        const cp = ch.codePointAt(0)!;
        if (!((cp >= 33 && cp <= 60) || (cp >= 62 && cp <= 126) || cp >= 0x80)) {
          return { ...err(501, "5.5.4", `Bad value for ${key}`), reason: "param" };
        }
      }
    }
    if (params.has(key)) return { ...err(501, "5.5.4", `Duplicate parameter ${key}`), reason: "param" };
    params.set(key, value);
  }
  return params;
}

/** RFC 3461 §4 xtext decoding ("+" HEX HEX). Null if malformed. */
export function decodeXtext(s: string): string | null {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const c = ch.charCodeAt(0);
    if (ch === "+") {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) return null;
      out += String.fromCharCode(parseInt(hex, 16));
      i += 2;
    } else if (c >= 33 && c <= 126 && ch !== "=") {
      out += ch;
    } else if (c >= 0x80) {
      out += ch; // RFC 6533 utf-8-addr-xtext allows UTF-8
    } else {
      return null;
    }
  }
  return out;
}

export interface MailCommand {
  path: Path;
  size: number | null;
  body: "7BIT" | "8BITMIME" | null;
  smtputf8: boolean;
  ret: "FULL" | "HDRS" | null;
  envid: string | null;
  /** RFC 4954 §5 AUTH= value (accepted, not trusted). */
  auth: string | null;
}

export interface RcptCommand {
  path: Path;
  notify: string[] | null;
  orcpt: string | null;
}

function stripPrefix(arg: string, prefix: string): string | null {
  if (arg.slice(0, prefix.length).toUpperCase() !== prefix) return null;
  // RFC 5321 says no space after the colon; many clients send one (Postfix accepts it too).
  return arg.slice(prefix.length).replace(/^ +/, "");
}

/** MAIL FROM:<reverse-path> [SP Mail-parameters] (RFC 5321 §4.1.1.2). */
export function parseMailArg(arg: string): MailCommand | ParseError {
  const s = stripPrefix(arg, "FROM:");
  if (s === null) return err(501, "5.5.4", "Syntax: MAIL FROM:<address>");
  const p = parsePath(s, true, false);
  if ("code" in p) return p;
  const params = parseParams(p.rest);
  if ("code" in params) return params;
  const cmd: MailCommand = { path: p.path, size: null, body: null, smtputf8: false, ret: null, envid: null, auth: null };
  for (const [k, v] of params) {
    switch (k) {
      case "SIZE": // RFC 1870 §3
        if (v === null || !/^[0-9]{1,20}$/.test(v)) return { ...err(501, "5.5.4", "Bad SIZE value"), reason: "param" };
        cmd.size = Number(v);
        break;
      case "BODY": // RFC 6152 §2
        if (v === null) return { ...err(501, "5.5.4", "BODY needs a value"), reason: "param" };
        if (v.toUpperCase() === "7BIT" || v.toUpperCase() === "8BITMIME") cmd.body = v.toUpperCase() as "7BIT" | "8BITMIME";
        else return { ...err(504, "5.5.4", `BODY=${v} not supported`), reason: "param" };
        break;
      case "SMTPUTF8": // RFC 6531 §3.4
        if (v !== null) return { ...err(501, "5.5.4", "SMTPUTF8 takes no value"), reason: "param" };
        cmd.smtputf8 = true;
        break;
      case "RET": // RFC 3461 §4.3
        if (v === null || !/^(FULL|HDRS)$/i.test(v)) return { ...err(501, "5.5.4", "Bad RET value"), reason: "param" };
        cmd.ret = v.toUpperCase() as "FULL" | "HDRS";
        break;
      case "ENVID": {
        // RFC 3461 §4.4: xtext, at most 100 characters
        const d = v === null ? null : decodeXtext(v);
        if (d === null || v!.length > 100) return { ...err(501, "5.5.4", "Bad ENVID value"), reason: "param" };
        cmd.envid = d;
        break;
      }
      case "AUTH": // RFC 4954 §5
        if (v === null) return { ...err(501, "5.5.4", "AUTH needs a value"), reason: "param" };
        cmd.auth = v;
        break;
      default:
        return { ...err(555, "5.5.4", `Unsupported parameter ${k}`), reason: "unknown-param" };
    }
  }
  return cmd;
}

/** RCPT TO:<forward-path> [SP Rcpt-parameters] (RFC 5321 §4.1.1.3). */
export function parseRcptArg(arg: string): RcptCommand | ParseError {
  const s = stripPrefix(arg, "TO:");
  if (s === null) return err(501, "5.5.4", "Syntax: RCPT TO:<address>");
  const p = parsePath(s, false, true);
  if ("code" in p) return p;
  const params = parseParams(p.rest);
  if ("code" in params) return params;
  const cmd: RcptCommand = { path: p.path, notify: null, orcpt: null };
  for (const [k, v] of params) {
    switch (k) {
      case "NOTIFY": {
        // RFC 3461 §4.1: "NEVER" alone, or a list of SUCCESS, FAILURE, DELAY
        if (v === null) return { ...err(501, "5.5.4", "NOTIFY needs a value"), reason: "param" };
        const list = v.toUpperCase().split(",");
        const ok = list.every((x) => x === "SUCCESS" || x === "FAILURE" || x === "DELAY" || x === "NEVER");
        if (!ok || (list.includes("NEVER") && list.length > 1) || new Set(list).size !== list.length) {
          return { ...err(501, "5.5.4", "Bad NOTIFY value"), reason: "param" };
        }
        cmd.notify = list;
        break;
      }
      case "ORCPT": {
        // RFC 3461 §4.2: addr-type ";" xtext
        const semi = v === null ? -1 : v.indexOf(";");
        if (v === null || semi <= 0) return { ...err(501, "5.5.4", "Bad ORCPT value"), reason: "param" };
        const type = v.slice(0, semi);
        const addr = decodeXtext(v.slice(semi + 1));
        if (!/^[A-Za-z0-9-]+$/.test(type) || addr === null || addr.length === 0 || v.length > 500) {
          return { ...err(501, "5.5.4", "Bad ORCPT value"), reason: "param" };
        }
        cmd.orcpt = `${type.toLowerCase()};${addr}`;
        break;
      }
      default:
        return { ...err(555, "5.5.4", `Unsupported parameter ${k}`), reason: "unknown-param" };
    }
  }
  return cmd;
}

/** RFC 3030 §2: "BDAT" SP chunk-size [ SP end-marker ]. */
export function parseBdatArg(arg: string): { size: number; last: boolean } | ParseError {
  const m = /^([0-9]{1,15})(?: +(LAST))? *$/i.exec(arg);
  if (!m) return err(501, "5.5.4", "Syntax: BDAT <size> [LAST]");
  return { size: Number(m[1]), last: !!m[2] };
}

/** RFC 5321 §4.1.1.1: EHLO/HELO argument (a domain or an address literal). Lenient: clients often send odd names. */
export function parseHeloArg(arg: string): string | ParseError {
  const a = arg.trim();
  if (a.length === 0) return err(501, "5.5.4", "Syntax: EHLO hostname");
  if (/[\s<>]/.test(a) || a.length > MAX_DOMAIN) return err(501, "5.5.4", "Invalid hostname");
  return a;
}

/** Strict base64 (RFC 4954 §4: invalid base64 gets 501). Null if malformed. */
export function decodeBase64(s: string): Uint8Array | null {
  const t = s.trim();
  if (t.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(t)) return null;
  return new Uint8Array(Buffer.from(t, "base64"));
}

/** RFC 4616 §2: [authzid] NUL authcid NUL passwd. */
export function parsePlainResponse(bytes: Uint8Array): { authzid: string; authcid: string; password: string } | null {
  const s = decodeLine(bytes);
  if (s === null) return null;
  const parts = s.split("\0");
  if (parts.length !== 3) return null;
  const [authzid, authcid, password] = parts as [string, string, string];
  if (!authcid || !password) return null;
  return { authzid, authcid, password };
}
