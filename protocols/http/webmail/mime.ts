/**
 * MIME for the webmail: decoding a stored message for the reading pane
 * (postal-mime), building outgoing messages and drafts (nodemailer's
 * MailComposer), reply/forward templates and download headers.
 */
import PostalMime, { decodeWords } from "postal-mime";
import type { MimePart } from "../../../storage/api.ts";
import type { Email, Address as PmAddress } from "postal-mime";
import addressparser from "nodemailer/lib/addressparser";

export interface Person {
  name: string;
  address: string;
}

export interface AttachmentInfo {
  /** Index into the parsed attachment list: the download key. */
  index: number;
  filename: string;
  type: string;
  size: number;
  contentId: string | null;
  /** Referenced from the HTML body (cid:) rather than a file for the user. */
  inline: boolean;
}

export interface ReadView {
  subject: string;
  from: Person[];
  sender: Person[];
  to: Person[];
  cc: Person[];
  bcc: Person[];
  replyTo: Person[];
  date: string | null;
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  text: string | null;
  html: string | null;
  attachments: AttachmentInfo[];
  /** List-Unsubscribe etc. are not shown; a few headers the reader may want. */
  headers: { name: string; value: string }[];
}

export async function parseMessage(raw: Uint8Array): Promise<Email> {
  // RFC 2046 §5.2.1: an attached message is shown as an attachment, not merged into the body.
  return PostalMime.parse(raw, { attachmentEncoding: "arraybuffer", rfc822Attachments: true, maxNestingDepth: 64 });
}

export function flattenAddresses(list: PmAddress | PmAddress[] | undefined): Person[] {
  if (!list) return [];
  const arr = Array.isArray(list) ? list : [list];
  const out: Person[] = [];
  for (const a of arr) {
    if (a.group) for (const m of a.group) out.push({ name: m.name ?? "", address: (m.address ?? "").toLowerCase() });
    else if (a.address !== undefined) out.push({ name: a.name ?? "", address: a.address.toLowerCase() });
  }
  return out.filter((p) => p.address !== "" || p.name !== "");
}

export function splitReferences(v: string | undefined | null): string[] {
  if (!v) return [];
  return v.match(/<[^<>\s]+>/g) ?? [];
}

/** The reading view: text and HTML from postal-mime, attachments from the stored MIME tree (exact bytes). */
export function toReadView(email: Email, root: MimePart): ReadView {
  const attachments = listAttachments(root, email.html ?? null).map(({ part: _part, ...info }) => info);
  const shown = new Set(["list-id", "list-unsubscribe", "authentication-results", "x-mailer", "user-agent", "return-path", "delivered-to"]);
  return {
    subject: email.subject ?? "",
    from: flattenAddresses(email.from),
    sender: flattenAddresses(email.sender),
    to: flattenAddresses(email.to),
    cc: flattenAddresses(email.cc),
    bcc: flattenAddresses(email.bcc),
    replyTo: flattenAddresses(email.replyTo),
    date: email.date ?? null,
    messageId: email.messageId ?? null,
    inReplyTo: email.inReplyTo ?? null,
    references: splitReferences(email.references),
    text: email.text ?? null,
    html: email.html ?? null,
    attachments,
    headers: email.headers.filter((h) => shown.has(h.key)).map((h) => ({ name: h.originalKey, value: h.value.slice(0, 2000) })),
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
      size: encodedToDecodedSize(p.bodyEnd - p.bodyStart, p.encoding),
      contentId,
      inline,
      part: p,
    });
  };
  walk(root, false, true);
  return out;
}

function encodedToDecodedSize(n: number, encoding: string): number {
  if (encoding === "base64") return Math.floor((n * 3) / 4 * (76 / 78));
  return n;
}

/** Decodes a part body per its Content-Transfer-Encoding (RFC 2045 §6). Unknown encodings are returned as is. */
export function decodeBody(body: Uint8Array, encoding: string): Uint8Array {
  const enc = encoding.toLowerCase();
  if (enc === "base64") {
    const text = new TextDecoder("latin1").decode(body).replace(/[^A-Za-z0-9+/=]/g, "");
    const buf = Buffer.from(text, "base64");
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  if (enc === "quoted-printable") return decodeQuotedPrintable(body);
  return body;
}

/** RFC 2045 §6.7: =XX escapes, soft line breaks ("=" at end of line), trailing whitespace on lines dropped. */
export function decodeQuotedPrintable(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length);
  let o = 0;
  const hex = (c: number) => (c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === 0x3d) {
      // soft line break: "=" CRLF or "=" LF, possibly with transport padding before the line end
      let j = i + 1;
      while (j < body.length && (body[j] === 0x20 || body[j] === 0x09)) j++;
      if (body[j] === 0x0d && body[j + 1] === 0x0a) {
        i = j + 1;
        continue;
      }
      if (body[j] === 0x0a) {
        i = j;
        continue;
      }
      const h = hex(body[i + 1] ?? 0);
      const l = hex(body[i + 2] ?? 0);
      if (h >= 0 && l >= 0) {
        out[o++] = (h << 4) | l;
        i += 2;
        continue;
      }
      out[o++] = c; // a lone "=": kept, as RFC 2045 §6.7 (1) suggests for robustness
      continue;
    }
    if (c === 0x20 || c === 0x09) {
      // whitespace at the end of a line is transport padding
      let j = i;
      while (j < body.length && (body[j] === 0x20 || body[j] === 0x09)) j++;
      if (j >= body.length || body[j] === 0x0d || body[j] === 0x0a) {
        i = j - 1;
        continue;
      }
    }
    out[o++] = c;
  }
  return out.slice(0, o);
}

function defaultName(type: string, index: number): string {
  if (type === "message/rfc822") return `message-${index + 1}.eml`;
  const ext = type.split("/")[1]?.replace(/[^a-z0-9]/gi, "").slice(0, 8);
  return `attachment-${index + 1}${ext ? "." + ext : ""}`;
}

// ------------------------------------------------------------------ addresses

/** Parses a user-typed list ("Ann <a@x>, b@y; c@z") into addresses; throws with the bad piece. */
export function parseAddressList(input: string | string[] | undefined): Person[] {
  if (!input) return [];
  const text = Array.isArray(input) ? input.join(", ") : input;
  const out: Person[] = [];
  for (const a of addressparser(text.replace(/;/g, ","), { flatten: true }) as { name: string; address: string }[]) {
    const address = (a.address ?? "").trim();
    if (!address) continue;
    if (!isValidAddress(address)) throw new AddressError(address || a.name);
    out.push({ name: (a.name ?? "").trim(), address });
  }
  return out;
}

export class AddressError extends Error {
  constructor(public readonly address: string) {
    super(`"${address}" is not a valid email address`);
    this.name = "AddressError";
  }
}

// RFC 5321 §4.1.2 Mailbox, kept pragmatic: one @, a dot-atom-ish local part, a domain with a dot or an IP literal.
export function isValidAddress(a: string): boolean {
  if (a.length > 254 || /[\s<>(),;:\\"\[\]]/.test(a.replace(/^"[^"]*"@/, "x@"))) return false;
  const at = a.lastIndexOf("@");
  if (at < 1 || at === a.length - 1) return false;
  const domain = a.slice(at + 1);
  return /^[^.\s][^\s]*$/.test(domain) && (domain.includes(".") || domain === "localhost");
}

export function formatPerson(p: Person): string {
  if (!p.name) return p.address;
  return `${/[",<>@;:\\]/.test(p.name) ? JSON.stringify(p.name) : p.name} <${p.address}>`;
}

// ------------------------------------------------------------------ building

export interface OutgoingAttachment {
  filename: string;
  contentType: string;
  content: Uint8Array;
  /** For inline images referenced from the HTML. */
  cid?: string;
}

export interface BuildInput {
  from: Person;
  to: Person[];
  cc: Person[];
  bcc: Person[];
  subject: string;
  text: string;
  html: string | null;
  attachments: OutgoingAttachment[];
  inReplyTo?: string | null;
  references?: string[];
  /** Keep Bcc: in the output (drafts only: a sent message never carries it, RFC 5322 §3.6.3). */
  keepBcc?: boolean;
  messageId?: string;
  date?: Date;
  extraHeaders?: Record<string, string>;
}

// Loaded on first use: the composer pulls in a good part of nodemailer, which an idle server need not hold.
let composerModule: Promise<typeof import("nodemailer/lib/mail-composer")> | null = null;

export async function buildMessage(input: BuildInput): Promise<Uint8Array> {
  const MailComposer = (await (composerModule ??= import("nodemailer/lib/mail-composer"))).default;
  const composer = new MailComposer({
    from: { name: input.from.name, address: input.from.address },
    to: input.to.map((p) => ({ name: p.name, address: p.address })),
    cc: input.cc.map((p) => ({ name: p.name, address: p.address })),
    bcc: input.bcc.map((p) => ({ name: p.name, address: p.address })),
    subject: input.subject,
    text: input.text,
    html: input.html ?? undefined,
    inReplyTo: input.inReplyTo ?? undefined,
    references: input.references?.length ? input.references : undefined,
    messageId: input.messageId,
    date: input.date ?? new Date(),
    attachments: input.attachments.map((a) => ({
      filename: a.filename,
      contentType: a.contentType,
      content: Buffer.from(a.content.buffer, a.content.byteOffset, a.content.byteLength),
      cid: a.cid,
      // A forwarded message keeps its own encoding: message/rfc822 must not be base64 (RFC 2046 §5.2.1).
      contentTransferEncoding: a.contentType === "message/rfc822" ? "8bit" : undefined,
    })),
    headers: { "X-Mailer": "Pillarbox Webmail", ...input.extraHeaders },
  });
  const node = composer.compile();
  if (input.keepBcc) node.keepBcc = true;
  const buf = await node.build();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

// ------------------------------------------------------------------ reply / forward templates

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

export function textToHtml(text: string): string {
  return escapeHtml(text).replace(/\r?\n/g, "<br>");
}

/** Crude but safe HTML-to-text for quoting and the text/plain alternative. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style|head|title)[^>]*>[\s\S]*?<\/\1\s*>/gi, "")
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/(p|div|h[1-6]|li|tr|blockquote|pre)>/gi, "\n")
    .replace(/<li[^>]*>/gi, "• ")
    .replace(/<[^>]+>/g, "")
    .replace(/&nbsp;/g, " ")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#(\d+);/g, (_, n) => safeFromCodePoint(Number(n)))
    .replace(/&amp;/g, "&")
    .replace(/[ \t]+\n/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

function safeFromCodePoint(n: number): string {
  try {
    return String.fromCodePoint(n);
  } catch {
    return "";
  }
}

export function prefixSubject(prefix: "Re" | "Fwd", subject: string): string {
  const re = prefix === "Re" ? /^\s*re\s*:/i : /^\s*(fwd?|fw)\s*:/i;
  return re.test(subject) ? subject : `${prefix}: ${subject}`;
}

export function peopleText(list: Person[]): string {
  return list.map(formatPerson).join(", ");
}
