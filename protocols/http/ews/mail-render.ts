/**
 * A stored message as Types.xsd MessageType (MS-OXWSMSG §2.2.4.1, elements in
 * the schema's sequence order: ItemType's, then MessageType's), in the shape
 * the client asked for: IdOnly, Default (list or GetItem), AllProperties, plus
 * AdditionalProperties. Works from the index row (envelope, MIME tree with
 * offsets); reads the header block only for properties that live in header
 * fields, and the whole message only for bodies, MimeContent and meetings.
 */
import { createHash } from "node:crypto";
import type { Address, Folder, TypedPropertyValue } from "../../../storage/api.ts";
import { decodeHeaderText, decodeWords, headerValue, parseHeaderBlock, type HeaderField } from "../../../mail/headers.ts";
import { readBody } from "../../../mail/read.ts";
import { htmlToText, partContent } from "../../../mail/text.ts";
import { textToHtml } from "../../../mail/html.ts";
import { analyseParts } from "../eas/email/convert.ts";
import { LEVEL, type EwsContext } from "./context.ts";
import { attachmentIdXml } from "./attachment-id.ts";
import { renderExtended, type ComputedProperty } from "./extended.ts";
// Categories: PidNameKeywords in the property table, else the user keywords (mail-write.ts writes both).
import { categoriesOf } from "./mail-write.ts";
import { changeKey, folderId, itemIdXml } from "./ids.ts";
import { meetingMessageRenderer, type KindItem } from "./kinds.ts";
import type { MailItem } from "./mail-read.ts";
import type { ExtendedPath, ItemShape } from "./shape.ts";
import { dateTime, esc, t, ta, tv } from "./xml.ts";

/** Every message property this kind writes, by FieldURI (AllProperties = all of them). */
const ALL = [
  "item:MimeContent", "item:ItemId", "item:ParentFolderId", "item:ItemClass", "item:Subject", "item:Sensitivity", "item:Body", "item:Attachments",
  "item:DateTimeReceived", "item:Size", "item:Categories", "item:Importance", "item:InReplyTo", "item:IsSubmitted", "item:IsDraft", "item:IsFromMe",
  "item:IsResend", "item:IsUnmodified", "item:InternetMessageHeaders", "item:DateTimeSent", "item:DateTimeCreated", "item:DisplayCc", "item:DisplayTo",
  "item:HasAttachments", "item:Culture", "item:LastModifiedTime", "item:IsAssociated", "item:ConversationId", "item:UniqueBody", "item:Flag",
  "item:Preview", "item:TextBody", "message:Sender", "message:ToRecipients", "message:CcRecipients", "message:BccRecipients",
  "message:IsReadReceiptRequested", "message:IsDeliveryReceiptRequested", "message:ConversationTopic", "message:From", "message:InternetMessageId",
  "message:IsRead", "message:References", "message:ReplyTo",
];
/**
 * Default in a list (FindItem, SyncFolderItems): what a message list shows (who, what, when, size, read,
 * flagged, attachments), all from the index row without reading the message, and no more: a page of
 * 1,000 of these is what a client downloads to show a folder.
 */
const DEFAULT_LIST = [
  "item:ItemId", "item:ParentFolderId", "item:ItemClass", "item:Subject", "item:DateTimeReceived", "item:Size", "item:IsDraft",
  "item:DateTimeSent", "item:DisplayCc", "item:DisplayTo", "item:HasAttachments", "item:ConversationId", "item:Flag",
  "message:From", "message:InternetMessageId", "message:IsRead",
];
const DEFAULT_LIST_SET: ReadonlySet<string> = new Set(DEFAULT_LIST);
/** Default in GetItem: the list's, with the body, attachments, every recipient and the header-based properties. */
const DEFAULT_GET = [
  ...DEFAULT_LIST, "item:Body", "item:Attachments", "item:Importance", "item:Sensitivity", "item:IsFromMe", "item:DateTimeCreated",
  "message:Sender", "message:ToRecipients", "message:CcRecipients", "message:BccRecipients", "message:ReplyTo", "item:InReplyTo",
  "message:References", "message:ConversationTopic",
];

/** Properties that live in header fields (one range read of the header block). */
const FROM_HEADERS = new Set(["item:Importance", "item:Sensitivity", "item:InternetMessageHeaders", "message:IsReadReceiptRequested", "message:IsDeliveryReceiptRequested", "message:ReplyTo"]);
/** Properties that need the whole message. */
const FROM_RAW = new Set(["item:MimeContent", "item:Body", "item:UniqueBody", "item:TextBody", "item:Attachments"]);

/** What a shape asks of a message, worked out once per shape (a list renders many items with one shape). */
interface Plan {
  want: Set<string>;
  raw: boolean;
  headers: boolean;
  props: boolean;
  people: boolean;
  /** Whether the shape asks for anything outside DEFAULT_LIST. */
  more: boolean;
  /** Whether it asks for exactly DEFAULT_LIST (FindItem/SyncFolderItems Default). */
  listExact: boolean;
}
const plans = new WeakMap<ItemShape, Plan>();
function planOf(shape: ItemShape): Plan {
  let p = plans.get(shape);
  if (!p) {
    const want = requested(shape);
    const ext = shape.additional.some((x) => x.kind === "extended");
    const raw = [...want].some((u) => FROM_RAW.has(u));
    p = {
      want,
      raw,
      headers: raw || [...want].some((u) => FROM_HEADERS.has(u)) || shape.additional.some((x) => x.kind === "extended" && (x.tag === 0x007d || isHeaderProperty(x))),
      props: want.has("item:Categories") || ext,
      more: [...want].some((u) => !DEFAULT_LIST_SET.has(u)),
      listExact: want.size === DEFAULT_LIST_SET.size && [...want].every((u) => DEFAULT_LIST_SET.has(u)),
      people: ["message:From", "message:Sender", "message:ToRecipients", "message:CcRecipients", "message:BccRecipients", "message:ReplyTo"].some((u) => want.has(u)),
    };
    plans.set(shape, p);
  }
  return p;
}

/** Which properties a shape asks of a message. */
export function requested(shape: ItemShape): Set<string> {
  const out = new Set<string>(["item:ItemId"]);
  if (shape.base === "AllProperties") for (const u of ALL) out.add(u);
  else if (shape.base === "Default") for (const u of shape.view === "list" ? DEFAULT_LIST : DEFAULT_GET) out.add(u);
  for (const p of shape.additional) if (p.kind === "field") out.add(p.uri);
  if (shape.includeMimeContent) out.add("item:MimeContent");
  return out;
}

/** Types.xsd ImportanceChoicesType from Importance / X-Priority (RFC 2156 §5.3.4; X-Priority 1-2 high, 4-5 low). */
export function importanceOf(headers: HeaderField[]): "Low" | "Normal" | "High" {
  const imp = (headerValue(headers, "importance") ?? "").trim().toLowerCase();
  if (imp === "high") return "High";
  if (imp === "low") return "Low";
  const pri = (headerValue(headers, "x-priority") ?? "").trim();
  if (/^[12]/.test(pri)) return "High";
  if (/^[45]/.test(pri)) return "Low";
  return "Normal";
}

/** Types.xsd SensitivityChoicesType from the Sensitivity field (RFC 2156 §5.3.4). */
export function sensitivityOf(headers: HeaderField[]): "Normal" | "Personal" | "Private" | "Confidential" {
  const s = (headerValue(headers, "sensitivity") ?? "").trim().toLowerCase();
  if (s === "personal") return "Personal";
  if (s === "private") return "Private";
  if (s === "company-confidential") return "Confidential";
  return "Normal";
}

/** A stable ConversationId from the store's thread id (Types.xsd ItemIdType: opaque; base64 of 16 bytes as Exchange's are). */
export function conversationIdOf(accountId: number, threadId: number): string {
  const key = `${accountId}:${threadId}`;
  let id = conversationIds.get(key);
  if (id === undefined) {
    id = createHash("md5").update(`pillarbox-thread:${key}`).digest("base64");
    // A small bounded memo: a list shows the same conversations over and over.
    if (conversationIds.size >= CONVERSATION_MEMO) conversationIds.clear();
    conversationIds.set(key, id);
  }
  return id;
}
const conversationIds = new Map<string, string>();
/** Entries of the memo (~100 bytes each: ~3 MB at most); a folder of 10,000 threads is listed without one MD5 per message. */
const CONVERSATION_MEMO = 32_768;

function mailbox(a: Address, localDomains: ReadonlySet<string>): string {
  const email = `${a.mailbox}@${a.host}`;
  return t(
    "Mailbox",
    tv("Name", a.name ? decodeWords(a.name) : email),
    tv("EmailAddress", email),
    tv("RoutingType", "SMTP"),
    // Types.xsd MailboxTypeType: a mailbox of this server is a Mailbox, anyone else a OneOff address.
    tv("MailboxType", localDomains.has((a.host ?? "").toLowerCase()) ? "Mailbox" : "OneOff"),
  );
}

function mailboxes(list: Address[] | null | undefined): Address[] {
  return (list ?? []).filter((a) => a.mailbox && a.host);
}

function recipients(tag: string, list: Address[] | null | undefined, localDomains: ReadonlySet<string>): string {
  const l = mailboxes(list);
  return l.length ? t(tag, ...l.map((a) => mailbox(a, localDomains))) : "";
}

function single(tag: string, list: Address[] | null | undefined, localDomains: ReadonlySet<string>): string {
  if (!list) return "";
  for (const a of list) if (a.mailbox && a.host) return t(tag, mailbox(a, localDomains));
  return "";
}

function displayNames(list: Address[] | null | undefined): string {
  let out = "";
  if (!list) return out;
  for (const a of list) {
    if (!a.mailbox || !a.host) continue;
    out += (out ? "; " : "") + (a.name ? decodeWords(a.name) : `${a.mailbox}@${a.host}`);
  }
  return out;
}

const NO_DOMAINS: ReadonlySet<string> = new Set();
const domainCache = new WeakMap<EwsContext, Promise<Set<string>>>();
function localDomainsOf(c: EwsContext): Promise<Set<string>> {
  let p = domainCache.get(c);
  if (!p) {
    p = c.store.listDomains().then((ds) => new Set(ds.map((d) => d.name.toLowerCase())));
    domainCache.set(c, p);
  }
  return p;
}

const INTERNET_HEADERS_SET = "00020386-0000-0000-c000-000000000046";
/** A named property of the internet headers set (PS_INTERNET_HEADERS): one header field by name. */
function isHeaderProperty(p: ExtendedPath): boolean {
  return p.propertyName !== undefined && p.propertyType === "String" && (p.setName === "InternetHeaders" || p.setId?.toLowerCase() === INTERNET_HEADERS_SET);
}

/** The MAPI tags a client may ask for as extended properties that the message itself answers ([MS-OXPROPS]). */
export function mailComputed(c: EwsContext, item: KindItem<MailItem>): ComputedProperty {
  const x = item.data.index;
  const has = (f: string) => x.flags.includes(f);
  return (p: ExtendedPath): TypedPropertyValue | undefined => {
    if (isHeaderProperty(p)) {
      // [MS-OXPROPS] PS_INTERNET_HEADERS: a named property per header field, its value the field's (decoded) text.
      const v = item.data.headers ? headerValue(item.data.headers, p.propertyName!.toLowerCase()) : null;
      return v === null ? undefined : { type: "string", value: decodeHeaderText(v) };
    }
    if (p.setName === "PublicStrings" && p.propertyName === "Keywords" && p.propertyType === "StringArray") {
      // PidNameKeywords read without a stored value: the categories the IMAP keywords carry.
      const stored = item.data.props?.some((x) => "name" in x.key && x.key.name === "Keywords");
      if (!stored) {
        const cats = categoriesOf([], x.flags);
        return cats.length ? { type: "string", multi: true, value: cats } : undefined;
      }
      return undefined;
    }
    if (p.setName === "Common" && p.propertyId === 0x8570) {
      // PidLidImapDeleted ([MS-OXPROPS] §2.148): 1 while the message carries IMAP \Deleted.
      return has("\\Deleted") ? { type: "int", value: 1 } : undefined;
    }
    if (p.tag === undefined) return undefined;
    switch (p.tag) {
      case 0x10f3: // PidTagUrlCompName: a stable file name for the message (DavMail names messages by it)
        return { type: "string", value: `${x.id}.EML` };
      case 0x0e07: {
        // PidTagMessageFlags: read, unmodified, unsent (draft), has attachment, from me ([MS-OXCMSG] §2.2.1.6).
        let v = 0;
        if (has("\\Seen")) v |= 0x1;
        if (!has("\\Draft")) v |= 0x2;
        if (has("\\Draft")) v |= 0x8;
        if (x.hasAttachment) v |= 0x10;
        if (x.fromAddr === c.account.email) v |= 0x20;
        return { type: "int", value: v };
      }
      case 0x0e08: // PidTagMessageSize
        return { type: "int", value: x.size };
      case 0x0e23: // PidTagInternetArticleNumber: the IMAP UID (DavMail's imapUid)
        return { type: "int", value: x.uid };
      case 0x1090: // PidTagFlagStatus: 2 = flagged; absent when not ([MS-OXOFLAG] §2.2.1.1)
        return has("\\Flagged") ? { type: "int", value: 2 } : undefined;
      case 0x1081: // PidTagLastVerbExecuted: 102 reply to sender, 104 forward ([MS-OXOMSG] §2.2.1.40)
        return has("$Forwarded") ? { type: "int", value: 104 } : has("\\Answered") ? { type: "int", value: 102 } : undefined;
      case 0x0e06: // PidTagMessageDeliveryTime
      case 0x3007: // PidTagCreationTime
      case 0x3008: // PidTagLastModificationTime
        return { type: "time", value: x.internalDate };
      case 0x0039: // PidTagClientSubmitTime
        return { type: "time", value: x.sentDate ?? x.internalDate };
      case 0x0037: // PidTagSubject
        return { type: "string", value: x.subject };
      case 0x001a: // PidTagMessageClass
        return { type: "string", value: "IPM.Note" };
      case 0x1035: // PidTagInternetMessageId
        return x.messageId ? { type: "string", value: x.messageId } : undefined;
      case 0x0e1b: // PidTagHasAttachments
        return { type: "bool", value: x.hasAttachment };
      case 0x007d: // PidTagTransportMessageHeaders
        return item.data.headers ? { type: "string", value: item.data.headers.map((h) => `${h.name}: ${h.value}`).join("\r\n") + "\r\n" } : undefined;
      default:
        return undefined;
    }
  };
}

/** `<t:ParentFolderId Id=".."/>`, remembered for the last folder (a list writes the same one for every item). */
let lastParent = { accountId: -1, folderId: -1, xml: "" };
function parentFolderXml(accountId: number, id: number): string {
  if (lastParent.accountId !== accountId || lastParent.folderId !== id) {
    lastParent = { accountId, folderId: id, xml: ta("ParentFolderId", { Id: folderId(accountId, { id } as Pick<Folder, "id"> as Folder) }) };
  }
  return lastParent.xml;
}

function bodyXml(tag: string, kind: "HTML" | "Text", text: string): string {
  return `<t:${tag} BodyType="${kind}" IsTruncated="false">${esc(text)}</t:${tag}>`;
}

/** The t:Message element (or, for an iMIP message, the calendar module's meeting element). */
export async function renderMail(c: EwsContext, item: KindItem<MailItem>, shape: ItemShape): Promise<string> {
  const x = item.data.index;
  const plan = planOf(shape);
  const want = plan.want;
  const meeting = meetingMessageRenderer();
  // The store's hint first: the MIME tree is parsed only for a message that may carry an invitation.
  const isMeeting = meeting !== null && x.calendarHint !== false && hasCalendarPart(x.root);
  const needRaw = isMeeting || plan.raw;
  const needHeaders = needRaw || plan.headers;
  let raw: Uint8Array | null = null;
  if (needRaw) raw = await c.store.readMessage(x.id);
  if (needHeaders && !item.data.headers) {
    const r = x.root;
    const bytes = raw ? raw.subarray(r.headerStart, r.bodyStart) : await c.store.readRange(x.blobId, r.headerStart, r.bodyStart);
    item.data.headers = parseHeaderBlock(bytes, 0, bytes.length).fields;
  }
  if (plan.props && !item.data.props) {
    item.data.props = await c.store.getProperties({ itemId: x.id });
  }
  const messageXml = async (element: string, extra: string) => `<t:${element}>${await inner(c, item, shape, plan, raw)}${extra}</t:${element}>`;
  if (isMeeting && raw) {
    const m = await meeting.render(c, raw, { ref: item.ref, folderId: item.folderId, modseq: item.modseq }, shape, messageXml);
    if (m !== null) return m;
  }
  return messageXml("Message", "");
}

function hasCalendarPart(p: KindItem<MailItem>["data"]["index"]["root"]): boolean {
  if (p.type === "text" && p.subtype === "calendar") return true;
  return (p.parts ?? []).some(hasCalendarPart);
}

async function inner(c: EwsContext, item: KindItem<MailItem>, shape: ItemShape, plan: Plan, raw: Uint8Array | null): Promise<string> {
  const want = plan.want;
  const x = item.data.index;
  const env = x.envelope;
  const headers = item.data.headers ?? [];
  const flags = x.flags;
  // Types.xsd: ConversationId and UniqueBody are Exchange 2010 elements; Flag, Preview and TextBody 2013's.
  const v2010 = c.version.level >= LEVEL.Exchange2010;
  const v2013 = c.version.level >= LEVEL.Exchange2013;
  const domains = plan.people ? await localDomainsOf(c) : NO_DOMAINS;
  const w = (u: string) => want.has(u);

  let bodies: { text: string | null; html: string | null } | null = null;
  const body = () => (bodies ??= raw ? readBody(raw, x.root) : { text: null, html: null });
  const bodyOf = (tag: string, kind: "Best" | "HTML" | "Text") => {
    const b = body();
    const html = kind === "HTML" || (kind === "Best" && b.html !== null);
    if (html) return bodyXml(tag, "HTML", b.html ?? `<html><body><div>${textToHtml(b.text ?? "", "<br>\n")}</div></body></html>`);
    return bodyXml(tag, "Text", b.text ?? (b.html ? htmlToText(b.html) : ""));
  };

  const attachments = () => {
    const list = analyseParts(x.root).attachments;
    if (!list.length) return "";
    const ck = changeKey(item.modseq);
    return t(
      "Attachments",
      ...list.map((a) =>
        t(
          a.embedded ? "ItemAttachment" : "FileAttachment",
          attachmentIdXml(item.ref, a.path, ck),
          tv("Name", a.name),
          tv("ContentType", a.contentType),
          tv("ContentId", a.contentId),
          // The decoded size when the message was read anyway (exact), else the index's estimate.
          tv("Size", raw && !a.embedded ? partContent(raw, a.part).length : a.size),
          tv("LastModifiedTime", dateTime(x.internalDate)),
          tv("IsInline", a.inline),
          !a.embedded && tv("IsContactPhoto", false),
        ),
      ),
    );
  };

  const cats = want.has("item:Categories") ? categoriesOf(item.data.props ?? [], flags) : [];
  const replyTo = headerValue(headers, "reply-to") !== null ? env.replyTo : null;
  const extended = plan.props ? renderExtended(shape.additional, item.data.props ?? [], mailComputed(c, item)) : "";

  // A list shape (Default in FindItem/SyncFolderItems) asks for nothing beyond DEFAULT_LIST: skip the other lookups.
  const more = plan.more;
  // Exactly the list shape: every DEFAULT_LIST property is wanted, no lookup needed.
  const all = plan.listExact;
  let out = "";
  const add = (v: string | false | null | undefined) => {
    if (v) out += v;
  };
  add(more && w("item:MimeContent") && raw && `<t:MimeContent CharacterSet="UTF-8">${Buffer.from(raw).toString("base64")}</t:MimeContent>`);
  add(itemIdXml(item.ref, item.modseq));
  // The parent's id only (FolderIdType's ChangeKey is optional; the folder row is not read for a list).
  add((all || w("item:ParentFolderId")) && parentFolderXml(c.account.id, x.folderId));
  add((all || w("item:ItemClass")) && tv("ItemClass", "IPM.Note"));
  add((all || w("item:Subject")) && tv("Subject", x.subject));
  add(more && w("item:Sensitivity") && tv("Sensitivity", sensitivityOf(headers)));
  add(more && w("item:Body") && raw && bodyOf("Body", shape.bodyType));
  add(more && w("item:Attachments") && attachments());
  add((all || w("item:DateTimeReceived")) && tv("DateTimeReceived", dateTime(x.internalDate)));
  add((all || w("item:Size")) && tv("Size", x.size));
  add(more && w("item:Categories") && cats.length > 0 && t("Categories", ...cats.map((s) => tv("String", s))));
  add(more && w("item:Importance") && tv("Importance", importanceOf(headers)));
  add(more && w("item:InReplyTo") && tv("InReplyTo", x.inReplyTo));
  add(more && w("item:IsSubmitted") && tv("IsSubmitted", false));
  add((all || w("item:IsDraft")) && tv("IsDraft", flags.includes("\\Draft")));
  add(more && w("item:IsFromMe") && tv("IsFromMe", x.fromAddr === c.account.email));
  add(more && w("item:IsResend") && tv("IsResend", false));
  add(more && w("item:IsUnmodified") && tv("IsUnmodified", !flags.includes("\\Draft")));
  add(
    more &&
      w("item:InternetMessageHeaders") &&
      headers.length > 0 &&
      t("InternetMessageHeaders", ...headers.map((h) => `<t:InternetMessageHeader HeaderName="${esc(h.name)}">${esc(decodeHeaderText(h.value))}</t:InternetMessageHeader>`)));
  add((all || w("item:DateTimeSent")) && tv("DateTimeSent", dateTime(x.sentDate ?? x.internalDate)));
  add(more && w("item:DateTimeCreated") && tv("DateTimeCreated", dateTime(x.internalDate)));
  // Empty display lists are left out (no value, Types.xsd minOccurs="0").
  add((all || w("item:DisplayCc")) && tv("DisplayCc", displayNames(env.cc) || null));
  add((all || w("item:DisplayTo")) && tv("DisplayTo", displayNames(env.to) || null));
  add((all || w("item:HasAttachments")) && tv("HasAttachments", x.hasAttachment));
  add(extended);
  add(more && w("item:Culture") && tv("Culture", "en-US"));
  add(more && w("item:LastModifiedTime") && tv("LastModifiedTime", dateTime(x.internalDate)));
  add(more && w("item:IsAssociated") && tv("IsAssociated", false));
  add(v2010 && (all || w("item:ConversationId")) && ta("ConversationId", { Id: conversationIdOf(c.account.id, x.threadId) }));
  add(more && v2010 && w("item:UniqueBody") && raw && bodyOf("UniqueBody", shape.bodyType === "Text" ? "Text" : "HTML"));
  add(v2013 && (all || w("item:Flag")) && t("Flag", tv("FlagStatus", flags.includes("\\Flagged") ? "Flagged" : "NotFlagged")));
  add(more && v2013 && w("item:Preview") && tv("Preview", x.preview));
  add(more && v2013 && w("item:TextBody") && raw && bodyOf("TextBody", "Text"));
  add(more && w("message:Sender") && single("Sender", env.sender && env.sender.length ? env.sender : env.from, domains));
  add(more && w("message:ToRecipients") && recipients("ToRecipients", env.to, domains));
  add(more && w("message:CcRecipients") && recipients("CcRecipients", env.cc, domains));
  add(more && w("message:BccRecipients") && recipients("BccRecipients", env.bcc, domains));
  add(more && w("message:IsReadReceiptRequested") && tv("IsReadReceiptRequested", headerValue(headers, "disposition-notification-to") !== null));
  add(more && w("message:IsDeliveryReceiptRequested") && tv("IsDeliveryReceiptRequested", false));
  add(more && w("message:ConversationTopic") && tv("ConversationTopic", x.baseSubject));
  add((all || w("message:From")) && single("From", env.from, domains));
  add((all || w("message:InternetMessageId")) && tv("InternetMessageId", x.messageId));
  add((all || w("message:IsRead")) && tv("IsRead", flags.includes("\\Seen")));
  add(more && w("message:References") && x.references.length > 0 && tv("References", x.references.join(" ")));
  add(more && w("message:ReplyTo") && recipients("ReplyTo", replyTo, domains));
  return out;
}
