/**
 * One pass over a message at delivery: structure, envelope, decoded fields
 * for SORT/SEARCH/lists, preview, attachment flag and full-text fields.
 * Never throws (a failure deep inside falls back to a minimal analysis), so
 * any byte sequence can be stored and indexed.
 */
import type { Envelope, MimePart } from "./types.ts";
import { addressString, firstAddress, parseAddressList, parseMessageIds } from "./address.ts";
import { parseMailDate } from "./date.ts";
import { decodeHeaderText, decodeWords, headerValue, type HeaderField } from "./headers.ts";
import { parseMime } from "./parse.ts";
import { baseSubject } from "./subject.ts";
import { extractText } from "./text.ts";

// The public surface of the mail library (README.md says which RFC each file follows).
export type { Address, Envelope, MimePart } from "./types.ts";
export type { HeaderField, HeaderBlock, HeaderSpan, ParsedParams } from "./headers.ts";
export type { Mailbox } from "./address.ts";
export type { ComposeInput, MimeNode, MimeLeaf, MimeMultipart, OutgoingAttachment } from "./build.ts";
export { parseMime, splitMultipart, MAX_DEPTH } from "./parse.ts";
export { parseAddressList, parseMessageIds, firstAddress, addressString, formatAddress, parseAddressInput, isValidAddress, AddressError, MISSING_DOMAIN, MISSING_MAILBOX } from "./address.ts";
export { decodeWords, decodeHeaderText, parseHeaderBlock, parseParams, headerValue, headerValues, stripComments, headerEnd, headerFieldSpans, eachHeaderField } from "./headers.ts";
export { bareLineEndInHeader, canonicalLineEnds, canonicalMessage, firstBareLineEnd, fromFields, headerFieldsNamed } from "./line-endings.ts";
export { baseSubject, prefixSubject } from "./subject.ts";
export { parseMailDate, formatMailDate } from "./date.ts";
export { partContent, partText, htmlToText, decodeTransfer, decodeEntities, decodedSizeEstimate, extractText, makePreview } from "./text.ts";
export { bytesToString, decodeBase64, decodeCharset, decodeQuotedPrintable } from "./bytes.ts";
export { base64Lines, encodeQuotedPrintable, encodeWords, foldHeader, mimeParam, quoteParamValue } from "./encode.ts";
export { escapeHtml, textToHtml } from "./html.ts";
export { newMessageId } from "./message-id.ts";
export { composeMessage, renderMessage, formatAddressList } from "./build.ts";
export { crlfSize } from "./crlf.ts";
export { readMessage, readBody, mailboxesOf } from "./read.ts";
export type { ReadableMessage } from "./read.ts";
export { decodeFlowed } from "./flowed.ts";

export interface MessageAnalysis {
  root: MimePart;
  envelope: Envelope;
  headers: HeaderField[];
  subject: string;
  baseSubject: string;
  fromAddr: string;
  fromName: string;
  toAddr: string;
  ccAddr: string;
  sentDate: number | null;
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  preview: string;
  hasAttachment: boolean;
  /** Full-text fields (decoded). */
  fts: { subject: string; from: string; to: string; cc: string; bcc: string; headers: string; body: string };
}

const MAX_HEADER_TEXT = 64 * 1024;

function addrText(raw: string | null): string {
  if (!raw) return "";
  return parseAddressList(raw)
    .filter((a) => a.host !== null)
    .map((a) => `${a.name ? decodeWords(a.name) + " " : ""}${a.mailbox}@${a.host}`)
    .join(", ");
}

/** NUL cannot pass through SQL text binding (it truncates there): shown as U+FFFD instead. */
const nul = (s: string) => (s.indexOf("\u0000") >= 0 ? s.replace(/\u0000/g, "\uFFFD") : s);
const nulOrNull = (s: string | null) => (s === null ? null : nul(s));

export function analyzeMessage(raw: Uint8Array): MessageAnalysis {
  try {
    const a = analyze(raw);
    a.subject = nul(a.subject);
    a.baseSubject = nul(a.baseSubject);
    a.fromAddr = nul(a.fromAddr);
    a.fromName = nul(a.fromName);
    a.toAddr = nul(a.toAddr);
    a.ccAddr = nul(a.ccAddr);
    a.messageId = nulOrNull(a.messageId);
    a.inReplyTo = nulOrNull(a.inReplyTo);
    a.references = a.references.map(nul);
    a.preview = nul(a.preview);
    for (const k of Object.keys(a.fts) as (keyof MessageAnalysis["fts"])[]) a.fts[k] = nul(a.fts[k]);
    return a;
  } catch {
    // Defence in depth: the parser is written not to throw; if it ever does,
    // the message is still stored, as one opaque text part.
    return minimal(raw);
  }
}

function analyze(raw: Uint8Array): MessageAnalysis {
  const { root, envelope, headers } = parseMime(raw);
  const subject = decodeHeaderText(headerValue(headers, "subject"));
  const from = firstAddress(envelope.from ?? []);
  const to = firstAddress(envelope.to ?? []);
  const cc = firstAddress(envelope.cc ?? []);
  const fromAddr = addressString(from);
  const fromName = from?.name ? decodeHeaderText(from.name) : fromAddr;
  const msgIds = parseMessageIds(headerValue(headers, "message-id"));
  const inReplyTo = parseMessageIds(headerValue(headers, "in-reply-to"));
  const refs = parseMessageIds(headerValue(headers, "references"));
  let text: ReturnType<typeof extractText>;
  try {
    text = extractText(raw, root);
  } catch {
    text = { body: "", preview: "", hasAttachment: false };
  }
  let headerText = "";
  for (const h of headers) {
    if (headerText.length > MAX_HEADER_TEXT) break;
    headerText += `${h.name}: ${decodeHeaderText(h.value)}\n`;
  }
  return {
    root,
    envelope,
    headers,
    subject,
    baseSubject: baseSubject(subject),
    fromAddr,
    fromName,
    toAddr: addressString(to),
    ccAddr: addressString(cc),
    sentDate: parseMailDate(headerValue(headers, "date")),
    messageId: msgIds[0] ?? null,
    inReplyTo: inReplyTo[0] ?? null,
    references: refs.slice(0, 500),
    preview: text.preview,
    hasAttachment: text.hasAttachment,
    fts: {
      subject,
      from: addrText(headerValue(headers, "from")),
      to: addrText(headerValue(headers, "to")),
      cc: addrText(headerValue(headers, "cc")),
      bcc: addrText(headerValue(headers, "bcc")),
      headers: headerText.slice(0, MAX_HEADER_TEXT),
      body: text.body,
    },
  };
}

function minimal(raw: Uint8Array): MessageAnalysis {
  const root: MimePart = {
    headerStart: 0,
    bodyStart: 0,
    bodyEnd: raw.length,
    type: "text",
    subtype: "plain",
    params: { charset: "us-ascii" },
    id: null,
    description: null,
    encoding: "7bit",
    md5: null,
    disposition: null,
    language: null,
    location: null,
    lines: 0,
  };
  const envelope: Envelope = { date: null, subject: null, from: null, sender: null, replyTo: null, to: null, cc: null, bcc: null, inReplyTo: null, messageId: null };
  return {
    root,
    envelope,
    headers: [],
    subject: "",
    baseSubject: "",
    fromAddr: "",
    fromName: "",
    toAddr: "",
    ccAddr: "",
    sentDate: null,
    messageId: null,
    inReplyTo: null,
    references: [],
    preview: "",
    hasAttachment: false,
    fts: { subject: "", from: "", to: "", cc: "", bcc: "", headers: "", body: "" },
  };
}
