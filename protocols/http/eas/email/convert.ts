/**
 * A stored message as ActiveSync Email ApplicationData (MS-ASEMAIL §2.2.2,
 * bodies and attachments per MS-ASAIRS §2.2.2). Works from the index row
 * (envelope, MIME tree with offsets) and the raw blob; never re-parses the
 * whole message.
 */
import type { Address, MessageIndex, MimePart } from "../../../../storage/api.ts";
import { decodeHeaderText, decodeWords, parseHeaderBlock } from "../../../../mail/index.ts";
import { headerValue, type HeaderField } from "../../../../mail/headers.ts";
import { decodedSizeEstimate, htmlToText, partContent, partText } from "../../../../mail/text.ts";
import { textToHtml } from "../../../../mail/html.ts";
import { formatAddress } from "../../../../mail/address.ts";
import { createHash } from "node:crypto";
import { el, type WElement } from "../wbxml/tree.ts";
import { MEETING_CONTENT_CLASS, meetingMessage } from "./meeting.ts";

/** AirSyncBase Type values (MS-ASAIRS Type element). */
export const BodyType = { Plain: 1, Html: 2, Rtf: 3, Mime: 4 } as const;

export interface BodyPreference {
  type: number;
  truncationSize?: number;
  allOrNone?: boolean;
  /** Characters of plain-text preview wanted (14.0+), 0 = none. */
  preview?: number;
}

export interface BodyOptions {
  /** In order of appearance in the request. Empty: legacy defaults. */
  prefs: BodyPreference[];
  /** MS-ASCMD MIMESupport: 0 never, 1 S/MIME only, 2 always. */
  mimeSupport: number;
  /** MS-ASCMD MIMETruncation code (12.x). */
  mimeTruncation?: number;
}

/** MS-ASCMD MIMETruncation codes to byte limits (undefined = no truncation). */
const MIME_TRUNCATION: Record<number, number | undefined> = { 0: 0, 1: 4096, 2: 5120, 3: 7168, 4: 10240, 5: 20480, 6: 51200, 7: 102400, 8: undefined };

export interface AttachmentInfo {
  /** IMAP-style section path, e.g. "2" or "1.3". */
  path: string;
  part: MimePart;
  name: string;
  contentType: string;
  /** Decoded size estimate. */
  size: number;
  contentId: string | null;
  inline: boolean;
  /** Embedded message (message/rfc822): sent as a whole .eml. */
  embedded: boolean;
}

export interface BodyParts {
  plain: MimePart | null;
  html: MimePart | null;
  attachments: AttachmentInfo[];
}

function isAttachmentPart(p: MimePart): boolean {
  const disp = p.disposition?.type;
  if (disp === "attachment") return true;
  if (p.type === "text" && (p.subtype === "plain" || p.subtype === "html") && !p.disposition?.params.filename && !p.params.name) return false;
  if (disp === "inline" && p.type === "text") return false;
  return true;
}

function estimateDecoded(p: MimePart): number {
  return decodedSizeEstimate(p.bodyEnd - p.bodyStart, p.encoding);
}

/** Finds the text and HTML bodies and the attachments of a message (first text/plain and text/html outside attachments). */
export function analyseParts(root: MimePart): BodyParts {
  const out: BodyParts = { plain: null, html: null, attachments: [] };
  const walk = (p: MimePart, path: string, depth: number) => {
    if (depth > 50) return;
    if (p.parts) {
      p.parts.forEach((c, i) => walk(c, path ? `${path}.${i + 1}` : String(i + 1), depth + 1));
      return;
    }
    const leafPath = path || "1";
    if (p.type === "message" && (p.subtype === "rfc822" || p.subtype === "global") && p.message) {
      const subj = p.message.envelope.subject ? decodeHeaderText(p.message.envelope.subject) : "message";
      out.attachments.push({ path: leafPath, part: p, name: `${subj.replace(/[\\/:*?"<>|]/g, "_") || "message"}.eml`, contentType: "message/rfc822", size: p.bodyEnd - p.bodyStart, contentId: null, inline: false, embedded: true });
      return;
    }
    if (!isAttachmentPart(p)) {
      if (p.subtype === "plain" && !out.plain) out.plain = p;
      else if (p.subtype === "html" && !out.html) out.html = p;
      return;
    }
    const rawName = p.disposition?.params.filename ?? p.params.name ?? null;
    // An iMIP invitation's text/calendar part has no name of its own: phones open "invite.ics" with their calendar.
    const name = rawName ? decodeWords(rawName) : p.type === "text" && p.subtype === "calendar" ? "invite.ics" : `attachment-${leafPath}.${p.subtype || "bin"}`;
    const cid = p.id ? p.id.replace(/^<|>$/g, "") : null;
    out.attachments.push({
      path: leafPath,
      part: p,
      name,
      contentType: `${p.type}/${p.subtype}`,
      size: estimateDecoded(p),
      contentId: cid,
      inline: p.disposition?.type === "inline" || (!p.disposition && !!cid),
      embedded: false,
    });
  };
  walk(root, "", 0);
  return out;
}

/** The bytes of an attachment as the user sees them (transfer encoding undone; an embedded message whole). */
export function attachmentContent(raw: Uint8Array, a: AttachmentInfo): Uint8Array {
  if (a.embedded) return raw.subarray(a.part.bodyStart, a.part.bodyEnd);
  return partContent(raw, a.part);
}

export function findAttachment(root: MimePart, path: string): AttachmentInfo | null {
  return analyseParts(root).attachments.find((a) => a.path === path) ?? null;
}

/** An address list as MS-ASEMAIL To/Cc/From carry it: RFC 5322 mailboxes, names quoted when they need it (mail/address.ts). */
function addressList(list: Address[] | null): string {
  return (list ?? [])
    .filter((a) => a.mailbox && a.host)
    .map((a) => formatAddress({ name: a.name ? decodeWords(a.name) : "", address: `${a.mailbox}@${a.host}` }, { display: true }))
    .join(", ");
}

function displayNames(list: Address[] | null): string {
  return (list ?? [])
    .filter((a) => a.mailbox && a.host)
    .map((a) => (a.name ? decodeWords(a.name) : `${a.mailbox}@${a.host}`))
    .join("; ");
}

/** MS-ASDTYPE date-time: YYYY-MM-DDTHH:MM:SS.MSSZ */
export function easDate(ms: number): string {
  return new Date(ms).toISOString();
}

const utf8 = new TextEncoder();

/** Cuts a string to at most `max` UTF-8 bytes on a character boundary. */
export function truncateUtf8(s: string, max: number): { text: string; truncated: boolean; size: number } {
  const b = utf8.encode(s);
  if (b.length <= max) return { text: s, truncated: false, size: b.length };
  let cut = max;
  while (cut > 0 && (b[cut]! & 0xc0) === 0x80) cut--; // back off a continuation byte
  return { text: new TextDecoder().decode(b.subarray(0, cut)), truncated: true, size: b.length };
}

function plainToHtml(s: string): string {
  return `<html><body><div>${textToHtml(s, "<br>\n")}</div></body></html>`;
}

export function bodyTexts(raw: Uint8Array, parts: BodyParts): { plain: () => string; html: () => string; native: number } {
  let plainCache: string | null = null;
  let htmlCache: string | null = null;
  const plain = () => (plainCache ??= parts.plain ? partText(raw, parts.plain) : parts.html ? htmlToText(partText(raw, parts.html)).trim() : "");
  const html = () => (htmlCache ??= parts.html ? partText(raw, parts.html) : plainToHtml(parts.plain ? partText(raw, parts.plain) : ""));
  return { plain, html, native: parts.html ? BodyType.Html : BodyType.Plain };
}

/** Valid UTF-8 without NUL can go as an inline string; anything else goes as opaque data. */
function asContent(b: Uint8Array): string | Uint8Array {
  if (b.includes(0)) return b;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(b);
  } catch {
    return b;
  }
}

/** Picks the body type to send (MS-ASAIRS: the server honours the client's preferences). */
export function chooseBody(opts: BodyOptions, native: number, smime: boolean): BodyPreference {
  const wants = (t: number) => opts.prefs.find((p) => p.type === t);
  if (wants(BodyType.Mime) && (opts.mimeSupport === 2 || (opts.mimeSupport === 1 && smime))) return wants(BodyType.Mime)!;
  if (native === BodyType.Html && wants(BodyType.Html)) return wants(BodyType.Html)!;
  if (wants(BodyType.Plain)) return wants(BodyType.Plain)!;
  if (wants(BodyType.Html)) return wants(BodyType.Html)!;
  if (opts.prefs.length === 0 && opts.mimeSupport === 2) return { type: BodyType.Mime, truncationSize: MIME_TRUNCATION[opts.mimeTruncation ?? 8] };
  return opts.prefs.find((p) => p.type !== BodyType.Rtf && p.type !== BodyType.Mime) ?? { type: BodyType.Plain };
}

/** The airsyncbase:Body element. */
export function bodyElement(raw: Uint8Array, parts: BodyParts, pref: BodyPreference, version: number): WElement {
  const texts = bodyTexts(raw, parts);
  let data: string | Uint8Array;
  let size: number;
  let truncated = false;
  if (pref.type === BodyType.Mime) {
    size = raw.length;
    let bytes = raw;
    if (pref.truncationSize !== undefined && raw.length > pref.truncationSize) {
      truncated = true;
      bytes = pref.allOrNone ? new Uint8Array(0) : raw.subarray(0, pref.truncationSize);
    }
    data = asContent(bytes);
  } else {
    const full = pref.type === BodyType.Html ? texts.html() : texts.plain();
    if (pref.truncationSize !== undefined) {
      const t = truncateUtf8(full, pref.truncationSize);
      size = t.size;
      truncated = t.truncated;
      data = truncated && pref.allOrNone ? "" : t.text;
    } else {
      size = utf8.encode(full).length;
      data = full;
    }
  }
  const preview = version >= 140 && pref.preview ? texts.plain().replace(/\s+/g, " ").trim().slice(0, pref.preview) : "";
  return el(
    "AirSyncBase:Body",
    el("AirSyncBase:Type", pref.type),
    el("AirSyncBase:EstimatedDataSize", size),
    truncated && el("AirSyncBase:Truncated", "1"),
    (typeof data === "string" ? data !== "" : data.length > 0) && el("AirSyncBase:Data", data),
    preview !== "" && el("AirSyncBase:Preview", preview),
  );
}

function importance(headers: HeaderField[]): number {
  const imp = (headerValue(headers, "importance") ?? "").trim().toLowerCase();
  if (imp === "high") return 2;
  if (imp === "low") return 0;
  const pri = (headerValue(headers, "x-priority") ?? "").trim();
  if (/^[12]/.test(pri)) return 2;
  if (/^[45]/.test(pri)) return 0;
  return 1;
}

function messageClass(root: MimePart): string {
  if (root.type === "multipart" && root.subtype === "signed") return "IPM.Note.SMIME.MultipartSigned";
  if (root.type === "application" && (root.subtype === "pkcs7-mime" || root.subtype === "x-pkcs7-mime")) return "IPM.Note.SMIME";
  if (root.type === "multipart" && root.subtype === "report") return "REPORT.IPM.Note.NDR";
  return "IPM.Note";
}

/** Keywords shown as categories: user keywords, not IMAP system flags or $-prefixed client flags. */
function categories(flags: string[]): string[] {
  return flags.filter((f) => !f.startsWith("\\") && !f.startsWith("$"));
}

/** MS-ASEMAIL LastVerbExecuted: 1 reply to sender, 3 forward. */
function lastVerb(flags: string[]): number | null {
  if (flags.includes("$Forwarded")) return 3;
  if (flags.includes("\\Answered")) return 1;
  return null;
}

/** The email:Flag element (MS-ASEMAIL Flag); empty when not flagged (clears a flag on the device). */
export function flagElement(flags: string[]): WElement {
  if (!flags.includes("\\Flagged")) return el("Email:Flag");
  return el("Email:Flag", el("Email:Status", "2"), el("Email:FlagType", "Flag for follow up"));
}

/** A stable 16-byte ConversationId from the store's thread id (MS-ASEMAIL ConversationId: opaque to the client). */
function conversationId(threadId: number, accountId: number): Uint8Array {
  return new Uint8Array(createHash("md5").update(`pillarbox-thread:${accountId}:${threadId}`).digest());
}

export interface RenderOptions {
  body: BodyOptions;
  version: number;
  accountId: number;
}

/** Full ApplicationData children of an Add (or Fetch). */
export function emailApplicationData(msg: MessageIndex, raw: Uint8Array, o: RenderOptions): WElement[] {
  const env = msg.envelope;
  const headers = parseHeaderBlock(raw, msg.root.headerStart, msg.root.bodyStart).fields;
  const parts = analyseParts(msg.root);
  const meeting = meetingMessage(msg.root, raw, o.version); // MS-ASEMAIL §2.2.2.48/49: invitations, cancellations, replies
  const mclass = meeting?.messageClass ?? messageClass(msg.root);
  const pref = chooseBody(o.body, parts.html ? BodyType.Html : BodyType.Plain, mclass.includes("SMIME"));
  const v = o.version;
  const out: (WElement | false | null)[] = [
    env.to && el("Email:To", addressList(env.to)),
    env.cc && env.cc.length > 0 && el("Email:Cc", addressList(env.cc)),
    env.from && el("Email:From", addressList(env.from)),
    el("Email:Subject", msg.subject),
    env.replyTo && env.replyTo.length > 0 && headerValue(headers, "reply-to") !== null && el("Email:ReplyTo", addressList(env.replyTo)),
    el("Email:DateReceived", easDate(msg.internalDate)),
    el("Email:DisplayTo", displayNames(env.to)),
    el("Email:ThreadTopic", msg.baseSubject),
    el("Email:Importance", importance(headers)),
    el("Email:Read", msg.flags.includes("\\Seen") ? "1" : "0"),
    parts.attachments.length > 0 &&
      el(
        "AirSyncBase:Attachments",
        parts.attachments.map((a) =>
          el(
            "AirSyncBase:Attachment",
            el("AirSyncBase:DisplayName", a.name),
            el("AirSyncBase:FileReference", fileReference(msg.id, a.path)),
            el("AirSyncBase:Method", a.embedded ? "5" : "1"),
            el("AirSyncBase:EstimatedDataSize", a.size),
            a.contentId && el("AirSyncBase:ContentId", a.contentId),
            a.inline && el("AirSyncBase:IsInline", "1"),
          ),
        ),
      ),
    bodyElement(raw, parts, pref, v),
    el("Email:MessageClass", mclass),
    meeting?.element ?? null,
    el("Email:InternetCPID", "65001"),
    flagElement(msg.flags),
    el("Email:ContentClass", meeting ? MEETING_CONTENT_CLASS : "urn:content-classes:message"),
    el("AirSyncBase:NativeBodyType", parts.html ? BodyType.Html : BodyType.Plain),
    v >= 140 && el("Email2:ConversationId", conversationId(msg.threadId, o.accountId)),
    v >= 140 && lastVerb(msg.flags) !== null && el("Email2:LastVerbExecuted", lastVerb(msg.flags)!),
    v >= 140 && categories(msg.flags).length > 0 && el("Email:Categories", categories(msg.flags).map((c) => el("Email:Category", c))),
    v >= 160 && msg.flags.includes("\\Draft") && el("Email2:IsDraft", "1"),
  ];
  return out.filter((x): x is WElement => !!x);
}

/** ApplicationData children of a Change: only what a flag change can alter (MS-ASCMD §2.2.3.24). */
export function emailChangeData(flags: string[], version: number): WElement[] {
  const out: (WElement | false)[] = [
    el("Email:Read", flags.includes("\\Seen") ? "1" : "0"),
    flagElement(flags),
    version >= 140 && lastVerb(flags) !== null && el("Email2:LastVerbExecuted", lastVerb(flags)!),
    version >= 140 && el("Email:Categories", categories(flags).map((c) => el("Email:Category", c))),
  ];
  return out.filter((x): x is WElement => !!x);
}

/** AirSyncBase FileReference: "<item id>:<MIME part path>" (opaque to clients, MS-ASAIRS §2.2.2.24.1). */
export function fileReference(itemId: number, path: string): string {
  return `${itemId}:${path}`;
}

export function parseFileReference(ref: string): { itemId: number; path: string } | null {
  const m = /^(\d{1,15}):(\d+(?:\.\d+)*)$/.exec(ref.trim());
  if (!m) return null;
  return { itemId: Number(m[1]), path: m[2]! };
}
