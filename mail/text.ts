/**
 * Content decoding for the index: transfer encodings (RFC 2045 §6), charsets,
 * HTML to text. Used for the full-text index, previews and attachment
 * detection; the stored message itself is never changed.
 */
import type { MimePart } from "./types.ts";
import { decodeBase64, decodeCharset, decodeQuotedPrintable } from "./bytes.ts";

/** Per-part and total caps keep indexing of huge messages bounded. */
const MAX_PART_BYTES = 4 * 1024 * 1024;
const MAX_TEXT_CHARS = 512 * 1024;

/**
 * A body with its Content-Transfer-Encoding (RFC 2045 §6, name compared
 * case-insensitively) undone; 7bit, 8bit, binary and unknown encodings are
 * returned as they are. `crlf`: quoted-printable hard line breaks as CRLF
 * (see decodeQuotedPrintable).
 */
export function decodeTransfer(data: Uint8Array, encoding: string, opts?: { crlf?: boolean }): Uint8Array {
  switch (encoding.toLowerCase()) {
    case "base64":
      return decodeBase64(data);
    case "quoted-printable":
      return decodeQuotedPrintable(data, { crlf: opts?.crlf === true });
    default:
      return data;
  }
}

/**
 * The decoded size of a part body from its encoded size, without decoding:
 * base64 carries 3 octets per 4 characters and ends each 76-character line
 * with CRLF (RFC 2045 §6.8); other encodings are counted as they are. For
 * listings (webmail attachment sizes, EAS EstimatedDataSize).
 */
export function decodedSizeEstimate(encodedBytes: number, encoding: string): number {
  if (encoding.toLowerCase() === "base64") return Math.floor(((encodedBytes * 3) / 4) * (76 / 78));
  return encodedBytes;
}

/** Decoded content of a leaf part (transfer encoding undone), as bytes. */
export function partContent(raw: Uint8Array, part: MimePart, maxBytes = Number.POSITIVE_INFINITY): Uint8Array {
  const end = Math.min(part.bodyEnd, part.bodyStart + maxBytes);
  return decodeTransfer(raw.subarray(part.bodyStart, end), part.encoding);
}

export function partText(raw: Uint8Array, part: MimePart): string {
  const bytes = partContent(raw, part, MAX_PART_BYTES);
  return decodeCharset(bytes, part.params.charset);
}

const ENTITIES: Record<string, string> = {
  nbsp: " ", amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", copy: "©", reg: "®", euro: "€", hellip: "…",
  mdash: "—", ndash: "–", lsquo: "‘", rsquo: "’", ldquo: "“", rdquo: "”", bull: "•", middot: "·", shy: "",
  auml: "ä", ouml: "ö", uuml: "ü", Auml: "Ä", Ouml: "Ö", Uuml: "Ü", szlig: "ß", eacute: "é", egrave: "è", agrave: "à",
};

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z][a-z0-9]{1,31});/gi, (m, e: string) => {
    if (e[0] === "#") {
      const cp = e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      if (!Number.isFinite(cp) || cp <= 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return " ";
      return String.fromCodePoint(cp);
    }
    return ENTITIES[e] ?? ENTITIES[e.toLowerCase()] ?? m;
  });
}

const BLOCK = new Set(["p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "pre", "hr", "ul", "ol", "section", "article"]);

// Blocks that end a line of readable text when they close (<br> ends one wherever it is).
const READABLE_BLOCK_END = new Set(["p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "blockquote", "pre"]);

/**
 * Linear-time HTML to text: drops script/style/head/title content, comments
 * and tags, decodes entities. The default form is for the index (every block
 * tag separates words). `readable` is the form for people (quoting a message
 * in a reply, the text/plain alternative of an HTML message): line breaks at
 * <br> and at the end of paragraphs, list items, rows and headings, "• " for
 * a list item, trailing blanks removed, at most one empty line in a row,
 * trimmed.
 */
export function htmlToText(html: string, opts?: { readable?: boolean }): string {
  const readable = opts?.readable === true;
  const lower = html.toLowerCase();
  // Where "</name" next occurs, remembered: thousands of unclosed <script> tags must not each
  // search the rest of the text again (that was quadratic). -1: none after the last search.
  const nextClose = new Map<string, number>();
  const closeTag = (name: string, from: number): number => {
    const known = nextClose.get(name);
    if (known !== undefined && (known === -1 || known >= from)) return known;
    const at = lower.indexOf("</" + name, from);
    nextClose.set(name, at);
    return at;
  };
  let out = "";
  let i = 0;
  const n = html.length;
  while (i < n) {
    const lt = html.indexOf("<", i);
    if (lt < 0) {
      out += html.slice(i);
      break;
    }
    out += html.slice(i, lt);
    if (html.startsWith("<!--", lt)) {
      const e = html.indexOf("-->", lt + 4);
      i = e < 0 ? n : e + 3;
      continue;
    }
    const gt = html.indexOf(">", lt + 1);
    if (gt < 0) {
      out += html.slice(lt); // a "<" that opens no tag ("a < b") is text
      break;
    }
    const m = /^<(\/?)\s*([a-z0-9]+)/.exec(lower.slice(lt, Math.min(gt + 1, lt + 40)));
    const closing = m ? m[1] === "/" : false;
    const name = m ? m[2] : "";
    if ((name === "script" || name === "style" || name === "head" || name === "title") && !closing) {
      const close = closeTag(name, gt + 1);
      if (close < 0) {
        i = gt + 1; // unclosed: drop just the tag
        continue;
      }
      const e = html.indexOf(">", close);
      i = e < 0 ? n : e + 1;
      out += readable ? "" : " ";
      continue;
    }
    if (readable) {
      if (name === "br" || (closing && READABLE_BLOCK_END.has(name))) out += "\n";
      else if (name === "li" && !closing) out += "• ";
      else if (name === "td" || name === "th") out += closing ? " " : "";
    } else {
      // inline markup (<b>, <span>, <a>) must not split words; blocks and cells separate them
      out += BLOCK.has(name) ? "\n" : name === "td" || name === "th" || name === "img" ? " " : "";
    }
    i = gt + 1;
  }
  const text = decodeEntities(out);
  if (!readable) return text;
  // Per line: trailing blanks off (a plain loop, not a regex that could backtrack over long blank runs).
  const lines = text.split("\n").map((l) => l.replace(/\r$/, "").trimEnd());
  return lines.join("\n").replace(/\n{3,}/g, "\n\n").trim();
}

export interface ExtractedText {
  /** Text of the body parts, for the full-text index. */
  body: string;
  /** First ~200 characters of readable text. */
  preview: string;
  hasAttachment: boolean;
}

function isAttachment(p: MimePart): boolean {
  const disp = p.disposition?.type;
  if (disp === "attachment") return true;
  const named = !!(p.disposition?.params.filename || p.params.name);
  if (disp === "inline") return false;
  if (named) return true;
  return false;
}

/** Walks the tree; in multipart/alternative only the plain (else the richest) alternative is taken. */
export function extractText(raw: Uint8Array, root: MimePart): ExtractedText {
  const chunks: string[] = [];
  const own: string[] = []; // text of the message itself, not of attached messages: for the preview
  let attached = 0;
  let total = 0;
  let hasAttachment = false;
  const add = (s: string) => {
    if (total >= MAX_TEXT_CHARS) return;
    const t = s.length + total > MAX_TEXT_CHARS ? s.slice(0, MAX_TEXT_CHARS - total) : s;
    chunks.push(t);
    if (attached === 0 && own.length < 8) own.push(t);
    total += t.length;
  };
  const walk = (p: MimePart, depth: number) => {
    if (depth > 60) return;
    if (p.parts) {
      if (p.subtype === "alternative") {
        const plain = p.parts.find((c) => c.type === "text" && c.subtype === "plain" && !isAttachment(c));
        const pick = plain ?? p.parts[p.parts.length - 1];
        for (const c of p.parts) if (c !== pick && c.parts) scanAttachments(c);
        walk(pick, depth + 1);
        return;
      }
      for (const c of p.parts) walk(c, depth + 1);
      return;
    }
    if (p.message) {
      if (p.disposition?.type === "attachment") hasAttachment = true;
      attached++;
      walk(p.message.root, depth + 1);
      attached--;
      return;
    }
    if (isAttachment(p)) {
      hasAttachment = true;
      return;
    }
    if (p.type === "text" && (p.subtype === "plain" || p.subtype === "html" || p.subtype === "enriched" || p.subtype === "markdown")) {
      try {
        const t = partText(raw, p);
        add(p.subtype === "html" ? htmlToText(t) : t);
      } catch {
        // undecodable text part: leave it out of the index
      }
    } else if (p.type !== "text" && p.type !== "multipart") {
      // a non-text leaf without a name (e.g. an image inline in multipart/mixed) still counts
      if (!(p.type === "image" && p.id)) hasAttachment = true;
    }
  };
  const scanAttachments = (p: MimePart) => {
    if (p.parts) for (const c of p.parts) scanAttachments(c);
    else if (isAttachment(p)) hasAttachment = true;
  };
  walk(root, 0);
  // whitespace runs (line wrapping) collapse to one space, so phrases match across lines
  const body = chunks.join("\n").replace(/\s+/g, " ").trim();
  return { body, preview: makePreview(own.join("\n")), hasAttachment };
}

export function makePreview(text: string, max = 200): string {
  const s = text.slice(0, max * 8).replace(/\s+/g, " ").trim();
  if (s.length <= max) return s;
  // do not cut a surrogate pair in half
  let cut = max;
  const c = s.charCodeAt(cut - 1);
  if (c >= 0xd800 && c <= 0xdbff) cut--;
  return s.slice(0, cut);
}
