/**
 * One bounded read of a message for the scoring rules (./rules-*.ts): the
 * top-level header fields, the MIME leaves (at most MAX_PARTS), the decoded
 * text of the text parts (at most MAX_TEXT_CHARS in all) and the raw HTML.
 * Reads at most `maxScanBytes` of the message: a hostile message (a huge
 * MIME tree, megabytes of encoded words) costs the same as a normal one. The
 * project's one MIME parser (mail/) does the structure.
 */
import { parseMime, parseHeaderBlock, headerValue, partText, headerEnd, type HeaderField, type MimePart } from "../../mail/index.ts";

type ParsedMessage = ReturnType<typeof parseMime>;

/** MIME leaves the rules look at; the rest of a huge tree is ignored. */
export const MAX_PARTS = 200;
/** Characters of decoded text (all text parts together) the rules read. */
export const MAX_TEXT_CHARS = 200_000;
/** Octets of one part decoded for its text. */
const MAX_PART_BYTES = 128 * 1024;

export interface ScanLeaf {
  type: string;
  subtype: string;
  /** Content-Type charset parameter as given (lower-case), or null. */
  charset: string | null;
  encoding: string;
  /** File name from Content-Disposition or Content-Type (raw, may still be encoded). */
  filename: string | null;
  attachment: boolean;
  /** Any octet above 0x7f in the body as sent. */
  eightBit: boolean;
}

export interface ScanView {
  /** Top-level header fields (the whole header is read, whatever maxScanBytes is). */
  headers: HeaderField[];
  leaves: ScanLeaf[];
  /** Decoded text of text/plain parts. */
  text: string;
  /** Decoded source of text/html parts. */
  html: string;
  /** True when the MIME tree had more leaves than MAX_PARTS. */
  truncatedParts: boolean;
  /** Octets of the message. */
  size: number;
}

function has8bit(raw: Uint8Array, start: number, end: number): boolean {
  const stop = Math.min(end, start + MAX_PART_BYTES);
  for (let i = start; i < stop; i++) if (raw[i]! > 0x7f) return true;
  return false;
}

/**
 * The last parse of each message (by its bytes' identity) and the bound it was read with:
 * one inbound message is scored by several readers (the rules here, the Bayes tokenizer),
 * and the MIME parse, with its address lists, is the larger part of each one's cost. Held
 * weakly: it goes when the message's bytes do. Callers must not change the parse.
 */
const parses = new WeakMap<Uint8Array, { maxScanBytes: number; msg: ParsedMessage }>();

/**
 * The message parsed by the project's MIME parser (mail/), header whole and body up to
 * `maxScanBytes` octets; the same object again for the same bytes and bound.
 */
export function parseForScan(raw: Uint8Array, maxScanBytes: number): ParsedMessage {
  const hit = parses.get(raw);
  if (hit && hit.maxScanBytes === maxScanBytes) return hit.msg;
  const hEnd = headerEnd(raw);
  const limit = Math.min(raw.length, Math.max(hEnd, 0) + Math.max(maxScanBytes, 0));
  const msg = parseMime(limit < raw.length ? raw.subarray(0, limit) : raw);
  parses.set(raw, { maxScanBytes, msg });
  return msg;
}

export function scanMessage(raw: Uint8Array, maxScanBytes: number): ScanView {
  // The header is always read whole (bounded by the header parser's own limits); the body up to maxScanBytes.
  const hEnd = headerEnd(raw);
  const limit = Math.min(raw.length, Math.max(hEnd, 0) + Math.max(maxScanBytes, 0));
  const bytes = limit < raw.length ? raw.subarray(0, limit) : raw;
  const parsed = parseForScan(raw, maxScanBytes);
  const { root } = parsed;
  // With a header/body separator the parse holds the whole header; without one it may be cut at maxScanBytes: read it whole then.
  const headers = hEnd >= 0 ? parsed.headers : parseHeaderBlock(raw, 0, raw.length).fields;
  const leaves: ScanLeaf[] = [];
  let text = "";
  let html = "";
  let truncatedParts = false;
  // An explicit stack, not recursion: the parser already caps depth, but a wide tree must not cost more than MAX_PARTS leaves.
  const stack: MimePart[] = [root];
  let visited = 0;
  while (stack.length) {
    const p = stack.pop()!;
    if (++visited > MAX_PARTS * 4) {
      truncatedParts = true;
      break;
    }
    if (p.parts) {
      for (let i = p.parts.length - 1; i >= 0; i--) stack.push(p.parts[i]!);
      continue;
    }
    if (p.message) {
      stack.push(p.message.root);
      continue;
    }
    if (leaves.length >= MAX_PARTS) {
      truncatedParts = true;
      break;
    }
    const filename = p.disposition?.params.filename ?? p.params.name ?? null;
    const attachment = p.disposition?.type === "attachment" || (!!filename && p.disposition?.type !== "inline");
    const leaf: ScanLeaf = {
      type: p.type,
      subtype: p.subtype,
      charset: p.params.charset?.toLowerCase() ?? null,
      encoding: p.encoding,
      filename,
      attachment,
      eightBit: has8bit(bytes, p.bodyStart, p.bodyEnd),
    };
    leaves.push(leaf);
    if (p.type === "text" && !attachment && text.length + html.length < MAX_TEXT_CHARS) {
      let t = "";
      try {
        t = partText(bytes, p);
      } catch {
        t = "";
      }
      const room = MAX_TEXT_CHARS - text.length - html.length;
      if (p.subtype === "html") html += t.slice(0, room) + "\n";
      else if (p.subtype === "plain") text += t.slice(0, room) + "\n";
    }
  }
  return { headers, leaves, text, html, truncatedParts, size: raw.length };
}

export function header(v: ScanView, key: string): string | null {
  return headerValue(v.headers, key);
}
