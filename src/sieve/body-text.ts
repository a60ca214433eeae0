/**
 * RFC 5173 body test: the strings a `body` test compares, read from the
 * message with the project's MIME code (mail/parse.ts, mail/text.ts).
 *
 *  - :raw (§5.1): the body after the header, undecoded, as one value.
 *  - :content (§5.2): every MIME part whose type matches one of the given
 *    types, decoded (transfer encoding, and charset for text parts); a
 *    multipart part contributes its preamble and epilogue, a message/rfc822
 *    part the header of the enclosed message (its own parts are reached by
 *    the walk).
 *  - :text (§5.3, the default): every text/* part decoded; HTML converted to
 *    text (Pigeonhole does the same).
 *
 * Bounded for hostile messages: at most `maxBytes` characters of text in all
 * and at most MAX_BODY_PARTS parts are read; each part's encoded input is cut
 * before it is decoded, so a 20 MB body costs no more than the budget.
 */
import { Buffer } from "node:buffer";
import type { MimePart } from "../../mail/types.ts";
import { parseMime } from "../../mail/parse.ts";
import { bytesToString, decodeCharset } from "../../mail/bytes.ts";
import { htmlToText, partContent } from "../../mail/text.ts";

/** MIME parts one body test looks at (a 2,000-part tree is read up to here). */
export const MAX_BODY_PARTS = 1000;

export type BodyTransform = { kind: "raw" } | { kind: "text" } | { kind: "content"; types: readonly string[] };

/** RFC 5173 §5.2: does `type` (lower-case "type/subtype" or "type", or "") name this part's type? */
export function contentTypeMatches(spec: string, part: MimePart): boolean {
  const t = spec.trim().toLowerCase();
  if (t === "") return true;
  const slash = t.indexOf("/");
  if (slash < 0) return part.type === t;
  // a type that begins or ends with "/" or holds two slashes matches no part
  if (slash === 0 || slash === t.length - 1 || t.indexOf("/", slash + 1) >= 0) return false;
  return `${part.type}/${part.subtype}` === t;
}

/** The values the body test compares for one transform. */
export function bodyValues(message: Uint8Array, transform: BodyTransform, maxBytes: number, root: MimePart = parseMime(message).root): string[] {
  const budget = { left: Math.max(0, maxBytes), parts: 0 };
  if (transform.kind === "raw") {
    const end = Math.min(root.bodyEnd, root.bodyStart + budget.left);
    return [bytesToString(message, root.bodyStart, end)];
  }
  const out: string[] = [];
  const walk = (part: MimePart) => {
    if (budget.parts >= MAX_BODY_PARTS || budget.left <= 0) return;
    budget.parts++;
    if (transform.kind === "content") {
      if (transform.types.some((t) => contentTypeMatches(t, part))) {
        const v = contentValue(message, part, budget.left);
        if (v !== null) take(out, v, budget);
      }
    } else if (part.type === "text" && !part.parts) {
      take(out, textValue(message, part, budget.left), budget);
    }
    if (part.parts) for (const child of part.parts) walk(child);
    if (part.message) walk(part.message.root);
  };
  walk(root);
  return out;
}

function take(out: string[], v: string, budget: { left: number }): void {
  const s = v.length > budget.left ? v.slice(0, budget.left) : v;
  budget.left -= s.length;
  out.push(s);
}

/** Encoded input that decodes to at most `chars` characters (base64 carries 3 octets in 4, plus line ends). */
function encodedCap(chars: number): number {
  return Math.ceil(chars * 1.4) + 16;
}

function textValue(message: Uint8Array, part: MimePart, left: number): string {
  const bytes = partContent(message, part, encodedCap(left));
  const text = decodeCharset(bytes, part.params.charset);
  return part.subtype === "html" ? htmlToText(text) : text;
}

function contentValue(message: Uint8Array, part: MimePart, left: number): string | null {
  if (part.parts) return preambleAndEpilogue(message, part, left);
  if (part.message) {
    // the enclosed message's header section
    const h = part.message.root;
    return bytesToString(message, h.headerStart, Math.min(h.bodyStart, h.headerStart + left));
  }
  const bytes = partContent(message, part, encodedCap(left));
  return part.type === "text" ? decodeCharset(bytes, part.params.charset) : bytesToString(bytes);
}

/** RFC 2046 §5.1.1: the text before the first delimiter line and after the close delimiter. */
function preambleAndEpilogue(message: Uint8Array, part: MimePart, left: number): string {
  const boundary = part.params.boundary;
  if (!boundary || !part.parts || part.parts.length === 0) return "";
  const hay = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  const first = part.parts[0].headerStart;
  const delim = hay.lastIndexOf(Buffer.from("--" + boundary, "latin1"), first - 1);
  let preEnd = delim >= part.bodyStart ? delim : part.bodyStart;
  if (preEnd > part.bodyStart && message[preEnd - 1] === 10) preEnd--;
  if (preEnd > part.bodyStart && message[preEnd - 1] === 13) preEnd--;
  const pre = bytesToString(message, part.bodyStart, Math.min(preEnd, part.bodyStart + left));
  const last = part.parts[part.parts.length - 1].bodyEnd;
  const close = hay.indexOf(Buffer.from("--" + boundary + "--", "latin1"), last);
  let epi = "";
  if (close >= 0 && close < part.bodyEnd) {
    const nl = message.indexOf(10, close);
    const start = nl < 0 || nl >= part.bodyEnd ? part.bodyEnd : nl + 1;
    epi = bytesToString(message, start, Math.min(part.bodyEnd, start + Math.max(0, left - pre.length)));
  }
  return epi === "" ? pre : pre === "" ? epi : `${pre}\r\n${epi}`;
}
