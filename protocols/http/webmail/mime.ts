/**
 * MIME for the webmail: decoding a stored message for the reading pane
 * (postal-mime), building outgoing messages and drafts (nodemailer's
 * MailComposer), reply/forward templates and download headers.
 */
import PostalMime from "postal-mime";
import type { Email, Address as PmAddress, Attachment } from "postal-mime";
import MailComposer from "nodemailer/lib/mail-composer";
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

export function attachmentSize(a: Attachment): number {
  const c = a.content;
  return typeof c === "string" ? c.length : c.byteLength;
}

export function attachmentBytes(a: Attachment): Uint8Array {
  const c = a.content;
  if (typeof c === "string") return new TextEncoder().encode(c);
  return c instanceof Uint8Array ? c : new Uint8Array(c);
}

export function isInlinePart(a: Attachment, html: string | undefined): boolean {
  if (!a.contentId) return false;
  if (a.related) return true;
  const cid = a.contentId.replace(/^<|>$/g, "");
  return !!html && html.includes(`cid:${cid}`);
}

export function toReadView(email: Email): ReadView {
  const attachments: AttachmentInfo[] = email.attachments.map((a, index) => ({
    index,
    filename: a.filename || defaultName(a.mimeType, index),
    type: a.mimeType || "application/octet-stream",
    size: attachmentSize(a),
    contentId: a.contentId ? a.contentId.replace(/^<|>$/g, "") : null,
    inline: isInlinePart(a, email.html) && a.disposition !== "attachment",
  }));
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

export async function buildMessage(input: BuildInput): Promise<Uint8Array> {
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
