/**
 * Building RFC 5322 messages with MIME bodies (RFC 2045-2047, RFC 2183): the
 * one writer for every message Pillarbox composes itself (webmail sends and
 * drafts, auto-replies; protocol code that edits a client's message uses the
 * same encoders from ./encode.ts).
 *
 * Rules applied here:
 *  - every line ends in CRLF and text bodies are converted to it (RFC 2046
 *    §4.1.1: the canonical form of text uses CRLF);
 *  - text given as a string goes as 7bit when it is US-ASCII with lines of
 *    at most 998 octets (RFC 5322 §2.1.1), else as quoted-printable UTF-8,
 *    which survives any relay (RFC 2045 §6.7); content given as bytes (an
 *    attachment, whatever its type) goes as base64 (§6.8), so its bytes and
 *    line ends arrive exactly; message/rfc822 keeps its own bytes, as 7bit
 *    or 8bit (RFC 2046 §5.2.1 forbids base64 there);
 *  - header text that is not ASCII becomes RFC 2047 encoded words; display
 *    names are quoted or encoded as RFC 5322 §3.4 requires; fields are folded
 *    at 78 characters (§2.1.1);
 *  - a boundary is random and checked against the encoded children (RFC 2046
 *    §5.1.1: it must not occur in the encapsulated parts);
 *  - Bcc is left out of a message that is sent (RFC 5322 §3.6.3), kept in a
 *    draft.
 */
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { formatAddress, type Mailbox } from "./address.ts";
import { formatMailDate } from "./date.ts";
import { base64Lines, encodeQuotedPrintable, encodeWords, foldHeader, mimeParam, quoteParamValue } from "./encode.ts";
import { parseParams } from "./headers.ts";
import { newMessageId } from "./message-id.ts";

const utf8 = new TextEncoder();

/** One entity of a MIME tree to render. */
export type MimeNode = MimeLeaf | MimeMultipart;

export interface MimeLeaf {
  /** "type/subtype", e.g. "text/plain". */
  type: string;
  /** Content-Type parameters other than charset (which text leaves get as utf-8). */
  params?: Record<string, string>;
  /** A string is text (sent as UTF-8, line ends made CRLF); bytes are sent as they are, encoded. */
  content: string | Uint8Array;
  disposition?: { type: "inline" | "attachment"; filename?: string };
  /** Content-ID without angle brackets. */
  contentId?: string;
  /** Extra fields of this part (name, value), written as they are (folded). */
  headers?: [string, string][];
  /**
   * "as-is": bytes go unencoded, labelled 7bit or 8bit, for types that must
   * stay readable (RFC 3464 §2.1 message/delivery-status, RFC 6522
   * text/rfc822-headers); the caller keeps their lines short and CRLF.
   */
  encoding?: "as-is";
}

export interface MimeMultipart {
  /** Subtype: "mixed", "alternative", "related", "report", ... */
  multipart: string;
  params?: Record<string, string>;
  parts: MimeNode[];
  /** Text before the first part, for readers without MIME (RFC 2046 §5.1.1 preamble). */
  preamble?: string;
}

// RFC 2045 §5.1 token characters: anything else in a parameter value needs quoting.
const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$/;

function paramsText(params: Record<string, string> | undefined): string {
  let s = "";
  for (const [k, v] of Object.entries(params ?? {})) if (TOKEN.test(k) && !k.includes("*")) s += `; ${k}=${TOKEN.test(v) ? v : quoteParamValue(v)}`; // names are tokens (RFC 2045 §5.1)
  return s;
}

/** Text normalised to CRLF line ends (RFC 2046 §4.1.1). */
function crlfText(s: string): string {
  return s.replace(/\r\n|\r|\n/g, "\r\n");
}

function isSevenBit(b: Uint8Array): boolean {
  let line = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c >= 0x80 || c === 0) return false;
    if (c === 10) line = 0;
    else if (++line > 998) return false;
  }
  return true;
}

interface Encoded {
  /** Header fields of the entity, already folded (each ends in CRLF). */
  head: string;
  body: Uint8Array;
}

function encodeLeaf(leaf: MimeLeaf): Encoded {
  // A type given with parameters ("text/csv; charset=latin1") keeps them; a malformed type is sent as octets.
  const parsed = parseParams(leaf.type.replace(/[\r\n]+/g, " "));
  const type = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(parsed.value) ? parsed.value : "application/octet-stream";
  const isMessage = type === "message/rfc822" || type === "message/global";
  const bytes = typeof leaf.content === "string" ? utf8.encode(crlfText(leaf.content)) : leaf.content;
  let cte: string;
  let body: Uint8Array;
  const params = { ...parsed.params, ...(leaf.params ?? {}) };
  if (isMessage || leaf.encoding === "as-is") {
    cte = isSevenBit(bytes) ? "7bit" : "8bit"; // RFC 2046 §5.2.1: no base64/QP for message/rfc822
    body = bytes;
  } else if (typeof leaf.content === "string") {
    params.charset = "utf-8";
    if (isSevenBit(bytes)) {
      cte = "7bit";
      body = bytes;
    } else {
      cte = "quoted-printable";
      body = utf8.encode(encodeQuotedPrintable(bytes));
    }
  } else {
    cte = "base64";
    body = utf8.encode(base64Lines(bytes));
  }
  const fields: [string, string][] = [];
  const fn = leaf.disposition?.filename;
  // The file name goes in both places: Content-Disposition filename (RFC 2183 §2.3) and the older Content-Type name that many readers still use.
  fields.push(["Content-Type", `${type}${paramsText(fn !== undefined && params.name === undefined ? { ...params, name: fn } : params)}`]);
  fields.push(["Content-Transfer-Encoding", cte]);
  // RFC 2183 §2.3 filename in the standard RFC 2231 form when it is not ASCII (name= above keeps the common encoded-word form for older readers).
  if (leaf.disposition) fields.push(["Content-Disposition", `${leaf.disposition.type}${fn !== undefined ? `; ${mimeParam("filename", fn)}` : ""}`]);
  if (leaf.contentId) fields.push(["Content-ID", `<${leaf.contentId.replace(/[<>\s]/g, "")}>`]);
  for (const f of leaf.headers ?? []) fields.push(f);
  return { head: fields.map(([n, v]) => foldHeader(n, v)).join(""), body };
}

function concat(parts: (Uint8Array | string)[]): Uint8Array {
  const bufs = parts.map((p) => (typeof p === "string" ? utf8.encode(p) : p));
  let n = 0;
  for (const b of bufs) n += b.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const b of bufs) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(hay.buffer, hay.byteOffset, hay.byteLength).indexOf(needle) >= 0;
}

function encodeNode(node: MimeNode, depth = 0): Encoded {
  if (!("multipart" in node)) return encodeLeaf(node);
  if (depth > 64) throw new Error("MIME tree too deep to build");
  const children = node.parts.map((p) => encodeNode(p, depth + 1));
  let boundary = "";
  // RFC 2046 §5.1.1: the boundary must not appear in any part ("=_" never occurs in base64 or QP output).
  for (let tries = 0; tries < 8; tries++) {
    boundary = `=_pb_${randomBytes(12).toString("hex")}`;
    const b = utf8.encode(boundary);
    if (!children.some((c) => contains(c.body, b) || c.head.includes(boundary))) break;
  }
  const pieces: (Uint8Array | string)[] = [];
  if (node.preamble) pieces.push(node.preamble.replace(/\r\n|\r|\n/g, "\r\n").replace(/(\r\n)?$/, "\r\n\r\n"));
  for (const c of children) {
    // The CRLF before the next delimiter belongs to the delimiter (RFC 2046 §5.1.1), so it is
    // always added: a body's own final line end stays part of the body.
    pieces.push(`--${boundary}\r\n`, c.head, "\r\n", c.body, "\r\n");
  }
  pieces.push(`--${boundary}--\r\n`);
  const head = foldHeader("Content-Type", `multipart/${node.multipart}${paramsText({ ...(node.params ?? {}) })}; boundary="${boundary}"`);
  return { head, body: concat(pieces) };
}

/**
 * A message from top-level header fields and a MIME tree. Fields are written
 * in the order given, folded; MIME-Version and the content fields follow.
 * Values must already be in header form (see headerText / formatAddressList).
 */
export function renderMessage(fields: [string, string][], root: MimeNode): Uint8Array {
  const enc = encodeNode(root);
  let head = "";
  for (const [n, v] of fields) head += foldHeader(n, v);
  return concat([head, "MIME-Version: 1.0\r\n", enc.head, "\r\n", enc.body]);
}

/** An address list for a header field: names quoted or encoded as needed (RFC 5322 §3.4, RFC 2047 §5). */
export function formatAddressList(list: readonly Mailbox[]): string {
  return list.map((m) => formatAddress(m)).join(", ");
}

export interface OutgoingAttachment {
  filename: string;
  contentType: string;
  content: Uint8Array;
  /** Content-ID (without brackets) for an inline image the HTML references as cid:. */
  cid?: string;
}

export interface ComposeInput {
  from: Mailbox;
  to: Mailbox[];
  cc?: Mailbox[];
  bcc?: Mailbox[];
  replyTo?: Mailbox[];
  subject: string;
  text: string;
  html?: string | null;
  attachments?: OutgoingAttachment[];
  inReplyTo?: string | null;
  references?: string[];
  /** Keep Bcc: in the output (drafts only: a sent message never carries it, RFC 5322 §3.6.3). */
  keepBcc?: boolean;
  /** With angle brackets; a new one (on the sender's domain) when absent. */
  messageId?: string;
  date?: Date;
  /** Further fields, e.g. Auto-Submitted; values are unstructured text (encoded when not ASCII). */
  extraHeaders?: Record<string, string>;
}

/**
 * A complete message: text/plain, or multipart/alternative with HTML (the
 * HTML and its cid: images in multipart/related, RFC 2387), in
 * multipart/mixed when there are attachments.
 */
export function composeMessage(input: ComposeInput): Uint8Array {
  const atts = input.attachments ?? [];
  const html = input.html ?? null;
  const inline = html ? atts.filter((a) => a.cid && html.includes(`cid:${a.cid}`)) : [];
  const files = atts.filter((a) => !inline.includes(a));
  let body: MimeNode = { type: "text/plain", content: input.text };
  if (html !== null) {
    let htmlNode: MimeNode = { type: "text/html", content: html };
    if (inline.length) {
      htmlNode = {
        multipart: "related",
        params: { type: "text/html" },
        parts: [htmlNode, ...inline.map((a): MimeLeaf => ({ type: a.contentType, content: a.content, disposition: { type: "inline", filename: a.filename }, contentId: a.cid }))],
      };
    }
    body = { multipart: "alternative", parts: [body, htmlNode] };
  }
  if (files.length) {
    body = {
      multipart: "mixed",
      parts: [body, ...files.map((a): MimeLeaf => ({ type: a.contentType, content: a.content, disposition: { type: "attachment", filename: a.filename }, ...(a.cid ? { contentId: a.cid } : {}) }))],
    };
  }
  const domain = input.from.address.slice(input.from.address.lastIndexOf("@") + 1);
  const fields: [string, string][] = [["From", formatAddress(input.from)]];
  if (input.to.length) fields.push(["To", formatAddressList(input.to)]);
  if (input.cc?.length) fields.push(["Cc", formatAddressList(input.cc)]);
  if (input.keepBcc && input.bcc?.length) fields.push(["Bcc", formatAddressList(input.bcc)]);
  if (input.replyTo?.length) fields.push(["Reply-To", formatAddressList(input.replyTo)]);
  fields.push(["Subject", encodeWords(input.subject)]);
  fields.push(["Message-ID", input.messageId ?? newMessageId(domain)]);
  fields.push(["Date", formatMailDate(input.date ?? new Date())]);
  const oneId = (s: string) => s.replace(/[\r\n\s]+/g, "");
  if (input.inReplyTo) fields.push(["In-Reply-To", oneId(input.inReplyTo)]);
  if (input.references?.length) fields.push(["References", input.references.map(oneId).join(" ")]);
  for (const [k, v] of Object.entries(input.extraHeaders ?? {})) {
    if (/^[!-9;-~]+$/.test(k)) fields.push([k, encodeWords(v)]); // RFC 5322 §3.6.8 field-name
  }
  return renderMessage(fields, body);
}
