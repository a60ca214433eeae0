/**
 * A message being written over EWS (a draft, or a message sent straight
 * away) as fields: read from a t:Message element (Types.xsd MessageType) or
 * from a stored draft, changed field by field (UpdateItem), and built into
 * RFC 5322 MIME with the project's one message writer (mail/build.ts
 * composeMessage). The Bcc stays in a saved draft and is never in what is
 * sent (RFC 5322 §3.6.3; mail/build.ts keepBcc).
 */
import { analyseParts, attachmentContent, bodyTexts } from "../eas/email/convert.ts";
import { composeMessage, decodeHeaderText, decodeWords, headerValue, htmlToText, isValidAddress, parseAddressList, parseMessageIds, parseMime, type Address, type Mailbox, type MimePart } from "../../../mail/index.ts";
import { EwsError } from "./context.ts";
import { NS } from "./ns.ts";
import { kid, kidsNamed, kidText, parseBool, type XmlElement } from "./xml.ts";

/** Most attachments one message may carry over EWS (a bound on one request's work). */
export const MAX_ATTACHMENTS = 250;
/** Most recipients of one field (To, Cc, Bcc...). */
export const MAX_RECIPIENTS = 1000;

export interface ComposedAttachment {
  name: string;
  contentType: string;
  content: Uint8Array;
  contentId: string | null;
  inline: boolean;
}

export type Importance = "Low" | "Normal" | "High";
export type Sensitivity = "Normal" | "Personal" | "Private" | "Confidential";

export interface Draft {
  from: Mailbox | null;
  to: Mailbox[];
  cc: Mailbox[];
  bcc: Mailbox[];
  replyTo: Mailbox[];
  subject: string;
  body: { html: boolean; content: string };
  importance: Importance;
  sensitivity: Sensitivity;
  readReceipt: boolean;
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  attachments: ComposedAttachment[];
}

export function emptyDraft(): Draft {
  return { from: null, to: [], cc: [], bcc: [], replyTo: [], subject: "", body: { html: false, content: "" }, importance: "Normal", sensitivity: "Normal", readReceipt: false, messageId: null, inReplyTo: null, references: [], attachments: [] };
}

/** Header text from a client: one line (RFC 5322 §2.2: a CR or LF would start a new, forged field). */
export const oneLine = (s: string): string => s.replace(/[\r\n]+/g, " ").trim();

/** Types.xsd EmailAddressType (t:Mailbox, t:From...): Name and EmailAddress; an SMTP address is required. */
export function mailboxOf(el: XmlElement): Mailbox {
  const mb = el.name === "Mailbox" ? el : (kid(el, "Mailbox") ?? el);
  const address = oneLine(kidText(mb, "EmailAddress") ?? "");
  const routing = kidText(mb, "RoutingType");
  if (routing && routing.toUpperCase() !== "SMTP") throw new EwsError("ErrorInvalidRecipients", `Only SMTP addresses can be used (not ${routing.slice(0, 20)}).`);
  if (!isValidAddress(address)) throw new EwsError("ErrorInvalidRecipients", `"${address.slice(0, 100)}" is not an e-mail address.`);
  return { name: oneLine(kidText(mb, "Name") ?? "").slice(0, 256), address };
}

/** Types.xsd ArrayOfRecipientsType. */
export function mailboxesOf(el: XmlElement | undefined): Mailbox[] {
  const list = kidsNamed(el, "Mailbox");
  if (list.length > MAX_RECIPIENTS) throw new EwsError("ErrorInvalidRecipients", `At most ${MAX_RECIPIENTS} recipients per field.`);
  return list.map(mailboxOf);
}

/** Base64 text (xs:base64Binary), checked and bounded. */
export function base64Of(text: string, what: string, maxBytes: number): Uint8Array {
  const s = text.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 === 1) throw new EwsError("ErrorInvalidRequest", `${what} is not base64.`);
  if (Math.floor((s.length * 3) / 4) > maxBytes + 3) throw new EwsError("ErrorMessageSizeExceeded", `${what} is larger than the message size limit (${maxBytes} bytes).`);
  return new Uint8Array(Buffer.from(s, "base64"));
}

const TYPE = /^[A-Za-z0-9!#$&^_.+-]{1,64}\/[A-Za-z0-9!#$&^_.+-]{1,64}$/;

/** Types.xsd FileAttachmentType (Name, ContentType, ContentId, IsInline, Content). */
export function fileAttachmentOf(el: XmlElement, maxBytes: number): ComposedAttachment {
  const content = base64Of(kidText(el, "Content") ?? "", "The attachment Content", maxBytes);
  const ct = oneLine(kidText(el, "ContentType") ?? "");
  const cid = oneLine(kidText(el, "ContentId") ?? "").replace(/^<|>$/g, "");
  return {
    name: oneLine(kidText(el, "Name") ?? "").slice(0, 255) || "attachment",
    contentType: TYPE.test(ct) ? ct : "application/octet-stream",
    content,
    contentId: cid && /^[^\s<>"]{1,250}$/.test(cid) ? cid : null,
    inline: parseBool(kidText(el, "IsInline")) ?? false,
  };
}

/** Types.xsd ItemAttachmentType holding a message: attached as message/rfc822 (RFC 2046 §5.2.1). */
export function itemAttachmentOf(el: XmlElement, maxBytes: number, from: Mailbox): ComposedAttachment {
  const inner = el.children.find((k) => k.ns === NS.t && (k.name === "Message" || k.name === "Item"));
  if (!inner) throw new EwsError("ErrorInvalidRequest", "Only messages can be attached as items.");
  const mime = kidText(inner, "MimeContent");
  let raw: Uint8Array;
  if (mime) raw = base64Of(mime, "The attached message's MimeContent", maxBytes);
  else {
    const d = applyMessageElement(emptyDraft(), inner, maxBytes);
    raw = buildMessage({ ...d, from: d.from ?? from }, { keepBcc: false });
  }
  const name = oneLine(kidText(el, "Name") ?? "").slice(0, 255) || `${oneLine(kidText(inner, "Subject") ?? "") || "message"}.eml`;
  return { name, contentType: "message/rfc822", content: raw, contentId: null, inline: false };
}

const IMPORTANCE: readonly Importance[] = ["Low", "Normal", "High"];
const SENSITIVITY: readonly Sensitivity[] = ["Normal", "Personal", "Private", "Confidential"];

/** The content properties of a t:Message; true when `name` is one (the rest is state: read, flag, categories). */
export const CONTENT_FIELDS: Readonly<Record<string, string>> = {
  Subject: "item:Subject",
  Body: "item:Body",
  Attachments: "item:Attachments",
  Importance: "item:Importance",
  Sensitivity: "item:Sensitivity",
  InReplyTo: "item:InReplyTo",
  ToRecipients: "message:ToRecipients",
  CcRecipients: "message:CcRecipients",
  BccRecipients: "message:BccRecipients",
  ReplyTo: "message:ReplyTo",
  From: "message:From",
  Sender: "message:Sender",
  IsReadReceiptRequested: "message:IsReadReceiptRequested",
  InternetMessageId: "message:InternetMessageId",
  References: "message:References",
};

/** Types.xsd MessageType's recipient lists and the draft's field for each. */
const RECIPIENT_LISTS = { ToRecipients: "to", CcRecipients: "cc", BccRecipients: "bcc", ReplyTo: "replyTo" } as const;

/**
 * Applies the content elements of a t:Message (or of an UpdateItem change's
 * value element) to a draft, in document order. `append` (AppendToItemField)
 * adds to Body and the recipient lists instead of replacing them.
 */
export function applyMessageElement(d: Draft, el: XmlElement, maxBytes: number, append = false): Draft {
  const out: Draft = { ...d, attachments: [...d.attachments] };
  for (const k of el.children) {
    if (k.ns !== NS.t) continue;
    const text = () => k.text.trim();
    switch (k.name) {
      case "Subject":
        out.subject = append ? out.subject + oneLine(k.text) : oneLine(k.text);
        break;
      case "Body": {
        const html = (k.attrs.BodyType ?? "Text") === "HTML";
        if (append && out.body.content) {
          out.body = out.body.html === html ? { html, content: out.body.content + k.text } : out.body.html ? { html: true, content: out.body.content + escapeHtmlText(k.text) } : { html: false, content: out.body.content + htmlToText(k.text) };
        } else out.body = { html, content: k.text };
        break;
      }
      case "ToRecipients":
      case "CcRecipients":
      case "BccRecipients":
      case "ReplyTo": {
        const list = RECIPIENT_LISTS[k.name];
        out[list] = append ? [...out[list], ...mailboxesOf(k)] : mailboxesOf(k);
        break;
      }
      case "From":
        out.from = mailboxOf(k);
        break;
      case "Importance":
        if (!(IMPORTANCE as readonly string[]).includes(text())) throw new EwsError("ErrorInvalidRequest", "Importance must be Low, Normal or High.");
        out.importance = text() as Importance;
        break;
      case "Sensitivity":
        if (!(SENSITIVITY as readonly string[]).includes(text())) throw new EwsError("ErrorInvalidRequest", "Sensitivity must be Normal, Personal, Private or Confidential.");
        out.sensitivity = text() as Sensitivity;
        break;
      case "IsReadReceiptRequested":
        out.readReceipt = parseBool(text()) ?? false;
        break;
      case "InternetMessageId": {
        const id = parseMessageIds(text())[0];
        if (id) out.messageId = id;
        break;
      }
      case "InReplyTo":
        out.inReplyTo = parseMessageIds(text())[0] ?? null;
        break;
      case "References":
        out.references = parseMessageIds(text()).slice(-50);
        break;
      case "Attachments": {
        const atts = k.children.filter((a) => a.ns === NS.t);
        if (out.attachments.length + atts.length > MAX_ATTACHMENTS) throw new EwsError("ErrorInvalidRequest", `At most ${MAX_ATTACHMENTS} attachments per message.`);
        for (const a of atts) {
          if (a.name === "FileAttachment") out.attachments.push(fileAttachmentOf(a, maxBytes));
          else if (a.name === "ItemAttachment") out.attachments.push(itemAttachmentOf(a, maxBytes, out.from ?? { name: "", address: "postmaster@invalid" }));
          else throw new EwsError("ErrorInvalidRequest", `Unknown attachment element ${a.name.slice(0, 60)}.`);
        }
        break;
      }
    }
  }
  if (out.attachments.reduce((n, a) => n + a.content.length, 0) > maxBytes) throw new EwsError("ErrorMessageSizeExceeded", `The attachments are larger than the message size limit (${maxBytes} bytes).`);
  return out;
}

function escapeHtmlText(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\r?\n/g, "<br>");
}

/** Clears one content field (DeleteItemField). Fields without a value of their own are left as they are. */
export function clearField(d: Draft, uri: string): Draft {
  const out = { ...d };
  if (uri === "item:Subject") out.subject = "";
  else if (uri === "item:Body") out.body = { html: false, content: "" };
  else if (uri.startsWith("message:") && Object.hasOwn(RECIPIENT_LISTS, uri.slice(8))) out[RECIPIENT_LISTS[uri.slice(8) as keyof typeof RECIPIENT_LISTS]] = [];
  else if (uri === "item:Attachments") out.attachments = [];
  else if (uri === "item:Importance") out.importance = "Normal";
  else if (uri === "item:Sensitivity") out.sensitivity = "Normal";
  else if (uri === "message:IsReadReceiptRequested") out.readReceipt = false;
  else if (uri === "item:InReplyTo") out.inReplyTo = null;
  else if (uri === "message:References") out.references = [];
  return out;
}

const IMPORTANCE_HEADER: Record<Importance, string | null> = { Low: "low", Normal: null, High: "high" };
const PRIORITY_HEADER: Record<Importance, string | null> = { Low: "5 (Lowest)", Normal: null, High: "1 (Highest)" };
// RFC 2156 §5.3.4 Sensitivity
const SENSITIVITY_HEADER: Record<Sensitivity, string | null> = { Normal: null, Personal: "Personal", Private: "Private", Confidential: "Company-Confidential" };

/** The draft as an RFC 5322 message (mail/build.ts). `keepBcc`: a saved copy keeps the Bcc field; what is sent never does. */
export function buildMessage(d: Draft, opts: { keepBcc: boolean; date?: Date }): Uint8Array {
  if (!d.from) throw new EwsError("ErrorInvalidRequest", "The message has no From address.");
  const extra: Record<string, string> = {};
  const imp = IMPORTANCE_HEADER[d.importance];
  if (imp) {
    extra.Importance = imp; // RFC 2156 §5.3.4
    extra["X-Priority"] = PRIORITY_HEADER[d.importance]!;
  }
  const sens = SENSITIVITY_HEADER[d.sensitivity];
  if (sens) extra.Sensitivity = sens;
  if (d.readReceipt) extra["Disposition-Notification-To"] = d.from.address; // RFC 8098 §2.1
  const html = d.body.html ? d.body.content : null;
  return composeMessage({
    from: d.from,
    to: d.to,
    cc: d.cc,
    bcc: d.bcc,
    replyTo: d.replyTo,
    subject: d.subject,
    text: html !== null ? htmlToText(html) : d.body.content,
    html,
    attachments: d.attachments.map((a) => ({ filename: a.name, contentType: a.contentType, content: a.content, ...(a.contentId ? { cid: a.contentId } : {}) })),
    inReplyTo: d.inReplyTo,
    references: d.references,
    keepBcc: opts.keepBcc,
    ...(d.messageId ? { messageId: d.messageId } : {}),
    date: opts.date,
    extraHeaders: extra,
  });
}

function mailboxesFromHeader(v: string | null): Mailbox[] {
  return parseAddressList(v)
    .filter((a: Address) => a.mailbox && a.host && a.host !== "MISSING_DOMAIN")
    .map((a: Address) => ({ name: a.name ? decodeWords(a.name) : "", address: `${a.mailbox}@${a.host}` }));
}

/** A stored message read back as a draft (to edit it field by field): the header fields and parts a draft has. */
export function draftFromMessage(raw: Uint8Array): Draft {
  const parsed = parseMime(raw);
  const h = (k: string) => headerValue(parsed.headers, k);
  const parts = analyseParts(parsed.root as MimePart);
  const texts = bodyTexts(raw, parts);
  const imp = (h("importance") ?? "").trim().toLowerCase();
  const prio = (h("x-priority") ?? "").trim();
  const sens = (h("sensitivity") ?? "").trim().toLowerCase();
  return {
    from: mailboxesFromHeader(h("from"))[0] ?? null,
    to: mailboxesFromHeader(h("to")),
    cc: mailboxesFromHeader(h("cc")),
    bcc: mailboxesFromHeader(h("bcc")),
    replyTo: mailboxesFromHeader(h("reply-to")),
    subject: decodeHeaderText(h("subject")),
    body: parts.html ? { html: true, content: texts.html() } : { html: false, content: texts.plain() },
    importance: imp === "high" || prio.startsWith("1") || prio.startsWith("2") ? "High" : imp === "low" || prio.startsWith("5") || prio.startsWith("4") ? "Low" : "Normal",
    sensitivity: sens === "personal" ? "Personal" : sens === "private" ? "Private" : sens === "company-confidential" ? "Confidential" : "Normal",
    readReceipt: h("disposition-notification-to") !== null,
    messageId: parseMessageIds(h("message-id"))[0] ?? null,
    inReplyTo: parseMessageIds(h("in-reply-to"))[0] ?? null,
    references: parseMessageIds(h("references")).slice(-50),
    attachments: parts.attachments.map((a) => ({
      name: a.name,
      contentType: a.contentType,
      content: attachmentContent(raw, a),
      contentId: a.contentId,
      inline: a.inline,
    })),
  };
}

/** Whether two drafts would make the same message (a no-op save leaves the stored draft alone). */
export function sameDraft(a: Draft, b: Draft): boolean {
  const mbs = (l: Mailbox[]) => l.map((x) => `${x.name}<${x.address.toLowerCase()}>`).join(",");
  const body = (x: Draft) => (x.body.html ? htmlToText(x.body.content) : x.body.content).replace(/\s+/g, " ").trim();
  return (
    mbs(a.from ? [a.from] : []) === mbs(b.from ? [b.from] : []) &&
    mbs(a.to) === mbs(b.to) &&
    mbs(a.cc) === mbs(b.cc) &&
    mbs(a.bcc) === mbs(b.bcc) &&
    mbs(a.replyTo) === mbs(b.replyTo) &&
    a.subject === b.subject &&
    a.body.html === b.body.html &&
    body(a) === body(b) &&
    a.importance === b.importance &&
    a.sensitivity === b.sensitivity &&
    a.readReceipt === b.readReceipt &&
    a.inReplyTo === b.inReplyTo &&
    a.references.join(" ") === b.references.join(" ") &&
    a.attachments.length === b.attachments.length &&
    a.attachments.every((x, i) => x.name === b.attachments[i]!.name && Buffer.compare(Buffer.from(x.content), Buffer.from(b.attachments[i]!.content)) === 0)
  );
}
