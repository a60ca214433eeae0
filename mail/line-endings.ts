/**
 * One reading of a message's header lines for every reader (the SMTP and
 * submission checks, mailauth's SPF/DKIM/DMARC input, the store's index,
 * IMAP ENVELOPE, the webmail).
 *
 * The store's header parser (./headers.ts) ends a line at CRLF, a bare LF or
 * a bare CR; mailauth and most other mail software split only at CRLF or
 * LF, so a bare CR could hide a whole field from one reader and show it to
 * another ("X-A: a\rFrom: ..."). The rule chosen here keeps the store's
 * reading as the definition and makes the bytes say it plainly:
 *
 *  - canonicalLineEnds: every bare CR and bare LF becomes CRLF (RFC 5322
 *    §2.3: CR and LF only occur together as CRLF; RFC 6376 §5.3 asks a DKIM
 *    signer to convert bare CR/LF to CRLF before signing, so a verifier that
 *    does the same sees what a correct signer signed). On canonical input the
 *    store's parser and a plain CRLF split agree line by line.
 *  - canonicalMessage: the above, plus the header section made explicit where
 *    the store's parser reads it implicitly: noise lines it skips before the
 *    first field (an mbox "From " line, whitespace lines continuing nothing)
 *    are dropped, and where it ends the header at a line that is neither a
 *    field nor a continuation, an empty line is inserted before that line.
 *    mailauth (tools.parseHeaders) would otherwise append such a line to the
 *    field above it: "From: service@paypal.test\r\n<me@attacker.test>" is
 *    PayPal to the display and attacker.test to DMARC. Both changes touch only
 *    malformed messages; a well-formed message is returned as it is.
 *
 * fromFields lists the From fields exactly as the store's parser sees them
 * (it is that parser), for the MX and submission checks.
 */
import { Buffer } from "node:buffer";
import { CR, LF } from "./bytes.ts";
import { parseHeaderBlock, type HeaderField } from "./headers.ts";

/** Offset of the first CR not followed by LF or LF not preceded by CR in [start, end), or -1. */
export function firstBareLineEnd(buf: Uint8Array, start = 0, end = buf.length): number {
  let i = start;
  while (i < end) {
    // indexOf runs natively: the common case (CRLF only) costs two scans per line.
    const cr = buf.indexOf(CR, i);
    const lf = buf.indexOf(LF, i);
    const c = cr < 0 || cr >= end ? -1 : cr;
    const l = lf < 0 || lf >= end ? -1 : lf;
    if (c < 0 && l < 0) return -1;
    if (c >= 0 && (l < 0 || c < l)) {
      // CR first: it must be followed by LF (inside the range)
      if (c + 1 >= end || buf[c + 1] !== LF) return c;
      i = c + 2;
    } else {
      // LF first, with no CR right before it in range
      return l;
    }
  }
  return -1;
}

/**
 * Every bare CR and bare LF becomes CRLF; CRLF stays. "\r\r\n" is two line
 * ends, "\n\r" two as well. Returns the input itself when it is already
 * canonical (no copy), else one new buffer of the exact size.
 */
export function canonicalLineEnds(raw: Uint8Array): Uint8Array {
  const first = firstBareLineEnd(raw);
  if (first < 0) return raw;
  // Two plain byte loops from the first bare line end: count, then copy. (Copying runs
  // with subarray()+set(), or finding line ends with indexOf, costs a call per line,
  // which made 30 MB of "a\n" lines, a shape a BDAT sender may pick, take seconds.)
  const n = raw.length;
  let extra = 0;
  for (let i = first; i < n; i++) {
    const c = raw[i];
    if (c === CR) {
      if (i + 1 < n && raw[i + 1] === LF) i++;
      else extra++;
    } else if (c === LF) extra++;
  }
  const out = new Uint8Array(n + extra);
  out.set(raw.subarray(0, first), 0);
  let o = first;
  for (let i = first; i < n; i++) {
    const c = raw[i]!;
    if (c === CR) {
      out[o++] = CR;
      out[o++] = LF;
      if (i + 1 < n && raw[i + 1] === LF) i++;
    } else if (c === LF) {
      out[o++] = CR;
      out[o++] = LF;
    } else out[o++] = c;
  }
  return out;
}

/**
 * Offset of the first bare CR or bare LF in the header section, or -1. The
 * section is taken as wide as any reader could take it: up to the first
 * empty CRLF line (the whole message when there is none), so a bare line end
 * that some reader would treat as the end of the header is inside it too.
 */
export function bareLineEndInHeader(raw: Uint8Array): number {
  let end = raw.length;
  if (raw[0] === CR && raw[1] === LF) end = 2;
  else {
    const i = Buffer.from(raw.buffer, raw.byteOffset, raw.length).indexOf(BLANK_LINE);
    if (i >= 0) end = i + 4;
  }
  return firstBareLineEnd(raw, 0, end);
}
const BLANK_LINE = Buffer.from("\r\n\r\n", "latin1");

const CRLF_BYTES = Uint8Array.of(CR, LF);

/**
 * canonicalLineEnds plus an explicit header section (see the module comment):
 * skipped noise before the first field removed, an empty line inserted where
 * the store's parser ends the header without one. Idempotent; returns the
 * input itself when nothing changes.
 */
export function canonicalMessage(raw: Uint8Array): Uint8Array {
  const msg = canonicalLineEnds(raw);
  const hb = parseHeaderBlock(msg, 0, msg.length, { only: [] });
  const drop = hb.fieldsStart; // bytes of skipped noise lines at the top
  const insert = !hb.separator && hb.bodyStart < msg.length;
  if (drop === 0 && !insert) return msg;
  const head = msg.subarray(drop, hb.bodyStart);
  const body = msg.subarray(hb.bodyStart);
  const out = new Uint8Array(head.length + (insert ? 2 : 0) + body.length);
  out.set(head, 0);
  if (insert) out.set(CRLF_BYTES, head.length);
  out.set(body, head.length + (insert ? 2 : 0));
  return out;
}

/** Header fields with these lower-case names, every one, as the store's parser reads them. */
export function headerFieldsNamed(raw: Uint8Array, names: readonly string[]): HeaderField[] {
  return parseHeaderBlock(raw, 0, raw.length, { only: names }).fields;
}

/** Unfolded values of every From field, in order, as the store's index and IMAP ENVELOPE read them. */
export function fromFields(raw: Uint8Array): string[] {
  return headerFieldsNamed(raw, FROM).map((f) => f.value);
}
const FROM = ["from"] as const;
