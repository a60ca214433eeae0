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
  const nameOf = (p: MimePart) => {
    const rawName = p.disposition?.params.filename ?? p.params.name ?? null;
    return rawName ? decodeWords(rawName).replace(/[\u0000-\u001f]/g, "").trim() : "";
  };
  // An iMIP message (RFC 6047 §2.4) often carries its invitation twice: as the text/calendar alternative of
  // the body and as a named .ics file. The file is offered once; the body's copy only when it is the only one.
  const namedCalendar = someLeaf(root, (p) => CALENDAR_TYPES.has(`${p.type}/${p.subtype}`) && (!!nameOf(p) || p.disposition?.type === "attachment"));
  const walk = (p: MimePart, parentRelated: boolean, top: boolean, parentAlternative = false) => {
    if (p.type === "multipart" && p.parts) {
      for (const c of p.parts) walk(c, p.subtype === "related", false, p.subtype === "alternative");
      return;
    }
    const filename = nameOf(p);
    const isAttachmentDisp = p.disposition?.type === "attachment";
    if (p.type === "text" && (p.subtype === "plain" || p.subtype === "html") && !filename && !isAttachmentDisp) return;
    if (parentAlternative && namedCalendar && CALENDAR_TYPES.has(`${p.type}/${p.subtype}`) && !filename && !isAttachmentDisp) return;
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

const CALENDAR_TYPES = new Set(["text/calendar", "application/ics", "text/x-vcalendar"]);

/** Is there a leaf part (not inside an attached message) for which `test` holds? Bounded by the tree the store built. */
function someLeaf(p: MimePart, test: (p: MimePart) => boolean, depth = 0): boolean {
  if (depth > 40) return false;
  if (p.type === "multipart" && p.parts) return p.parts.some((c) => someLeaf(c, test, depth + 1));
  return test(p);
}

/** Decodes a part body per its Content-Transfer-Encoding (RFC 2045 §6). Unknown encodings are returned as is. */
export function decodeBody(body: Uint8Array, encoding: string): Uint8Array {
  return decodeTransfer(body, encoding);
}

/**
 * Names for parts without one, by content type: what a person's computer opens them with
 * (an invitation as "invite.ics" for the calendar, not "attachment-2.calendar").
 */
const NAMED: Readonly<Record<string, string>> = {
  "text/calendar": "invite.ics", // RFC 5545 §8.1
  "application/ics": "invite.ics",
  "text/x-vcalendar": "invite.vcs",
  "text/vcard": "contact.vcf", // RFC 6350 §10.1
  "text/x-vcard": "contact.vcf",
  "text/directory": "contact.vcf",
  "application/pgp-signature": "signature.asc", // RFC 3156 §5
  "application/pgp-keys": "key.asc",
  "application/pkcs7-signature": "smime.p7s", // RFC 8551 §3.2.1
  "application/x-pkcs7-signature": "smime.p7s",
};

/** Extensions of common types whose subtype is not one (a name keeps its index: several of a kind stay apart). */
const EXTENSIONS: Readonly<Record<string, string>> = {
  "message/rfc822": "eml",
  "message/global": "eml",
  "message/delivery-status": "txt",
  "message/disposition-notification": "txt",
  "text/rfc822-headers": "txt",
  "text/plain": "txt",
  "text/html": "html",
  "text/markdown": "md",
  "image/jpeg": "jpg",
  "image/svg+xml": "svg",
  "image/tiff": "tif",
  "audio/mpeg": "mp3",
  "video/quicktime": "mov",
  "application/octet-stream": "",
  "application/msword": "doc",
  "application/vnd.ms-excel": "xls",
  "application/vnd.ms-powerpoint": "ppt",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
  "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
  "application/vnd.oasis.opendocument.text": "odt",
  "application/vnd.oasis.opendocument.spreadsheet": "ods",
  "application/x-zip-compressed": "zip",
  "application/gzip": "gz",
  "application/x-gzip": "gz",
  "application/x-7z-compressed": "7z",
  "application/x-tar": "tar",
  "application/ms-tnef": "dat",
  "application/vnd.ms-tnef": "dat",
};

export function defaultName(type: string, index: number): string {
  const t = type.toLowerCase();
  const named = NAMED[t];
  if (named) return named;
  if (t === "message/rfc822" || t === "message/global") return `message-${index + 1}.eml`;
  const ext = EXTENSIONS[t] ?? t.split("/")[1]?.replace(/^(x-|vnd\.)/, "").replace(/[^a-z0-9]/g, "").slice(0, 8);
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
