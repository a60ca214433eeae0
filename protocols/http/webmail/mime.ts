/**
 * MIME for the webmail: the reading view of a stored message and its
 * attachment list from the stored MIME tree, on top of the shared mail
 * library (../../../mail/: reading, building, addresses, templates). Mail-
 * format rules live in mail/; only what is the webmail's own is here.
 */
import type { MimePart } from "../../../storage/api.ts";
import { decodeHeaderText, decodeWords } from "../../../mail/headers.ts";
import { formatAddress } from "../../../mail/address.ts";
import { composeMessage, type ComposeInput, type OutgoingAttachment } from "../../../mail/build.ts";
import { readMessage, type ReadableMessage } from "../../../mail/read.ts";
import { decodedSizeEstimate, decodeTransfer, htmlToText as mailHtmlToText } from "../../../mail/text.ts";
import type { AttachmentInfo, Person, ReadView } from "./api-types.ts";

export type { AttachmentInfo, Person, ReadView } from "./api-types.ts";
export type { OutgoingAttachment } from "../../../mail/build.ts";
export type { ReadableMessage } from "../../../mail/read.ts";
export { AddressError, isValidAddress, parseAddressInput as parseAddressList } from "../../../mail/address.ts";
export { escapeHtml, textToHtml } from "../../../mail/html.ts";
export { prefixSubject } from "../../../mail/subject.ts";

/** The readable form of a stored message (mail/read.ts): decoded fields, text and HTML bodies. */
export async function parseMessage(raw: Uint8Array): Promise<ReadableMessage> {
  return readMessage(raw);
}

/** The reading view: text and HTML from mail/read.ts, attachments from the stored MIME tree (exact bytes). */
export function toReadView(email: ReadableMessage, root: MimePart): ReadView {
  const attachments = listAttachments(root, email.html).map(({ part: _part, ...info }) => info);
  const shown = new Set(["list-id", "list-unsubscribe", "authentication-results", "x-mailer", "user-agent", "return-path", "delivered-to"]);
  return {
    subject: email.subject,
    from: email.from,
    sender: email.sender,
    to: email.to,
    cc: email.cc,
    bcc: email.bcc,
    replyTo: email.replyTo,
    date: email.date,
    messageId: email.messageId,
    inReplyTo: email.inReplyTo,
    references: email.references,
    text: email.text,
    html: email.html,
    attachments,
    headers: email.headers.filter((h) => shown.has(h.key)).map((h) => ({ name: h.name, value: decodeHeaderText(h.value).slice(0, 2000) })),
  };
}

/**
 * The attachments of a message, from the MIME tree the store computed at
 * delivery, in document order (the index is the download key). Text and HTML
 * parts without a file name or `attachment` disposition are the body, not
 * attachments; an attached message (message/rfc822, RFC 2046 §5.2.1) is one
 * attachment, its own parts are not listed.
 */
export function listAttachments(root: MimePart, html: string | null): (AttachmentInfo & { part: MimePart })[] {
  const out: (AttachmentInfo & { part: MimePart })[] = [];
  const walk = (p: MimePart, parentRelated: boolean, top: boolean) => {
    if (p.type === "multipart" && p.parts) {
      for (const c of p.parts) walk(c, p.subtype === "related", false);
      return;
    }
    const rawName = p.disposition?.params.filename ?? p.params.name ?? null;
    const filename = rawName ? decodeWords(rawName).replace(/[\u0000-\u001f]/g, "").trim() : "";
    const isAttachmentDisp = p.disposition?.type === "attachment";
    if (p.type === "text" && (p.subtype === "plain" || p.subtype === "html") && !filename && !isAttachmentDisp) return;
    if (top && !filename && !isAttachmentDisp && p.type === "text") return;
    const type = `${p.type}/${p.subtype}`;
    const contentId = p.id ? p.id.trim().replace(/^<|>$/g, "") : null;
    const referenced = !!contentId && !!html && html.includes(`cid:${contentId}`);
    const inline = !!contentId && !isAttachmentDisp && (referenced || parentRelated);
    const index = out.length;
    out.push({
      index,
      filename: filename || defaultName(type, index),
      type,
      size: decodedSizeEstimate(p.bodyEnd - p.bodyStart, p.encoding),
      contentId,
      inline,
      part: p,
    });
  };
  walk(root, false, true);
  return out;
}

/** Decodes a part body per its Content-Transfer-Encoding (RFC 2045 §6). Unknown encodings are returned as is. */
export function decodeBody(body: Uint8Array, encoding: string): Uint8Array {
  return decodeTransfer(body, encoding);
}

function defaultName(type: string, index: number): string {
  if (type === "message/rfc822") return `message-${index + 1}.eml`;
  const ext = type.split("/")[1]?.replace(/[^a-z0-9]/gi, "").slice(0, 8);
  return `attachment-${index + 1}${ext ? "." + ext : ""}`;
}

// ------------------------------------------------------------------ addresses and building

/** A person for display (reply and forward quotes): the name quoted when it needs it, Unicode as it is. */
export function formatPerson(p: Person): string {
  return formatAddress(p, { display: true });
}

export function peopleText(list: Person[]): string {
  return list.map(formatPerson).join(", ");
}

/** An outgoing message or draft of the webmail (mail/build.ts), marked with the webmail's X-Mailer. */
export async function buildMessage(input: ComposeInput): Promise<Uint8Array> {
  return composeMessage({ ...input, extraHeaders: { "X-Mailer": "Pillarbox Webmail", ...input.extraHeaders } });
}

/** Readable text of an HTML body, for quoting and the text/plain alternative (mail/text.ts). */
export function htmlToText(html: string): string {
  return mailHtmlToText(html, { readable: true });
}
