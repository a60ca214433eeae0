/**
 * MIME work for SendMail, SmartReply and SmartForward (MS-ASCMD §2.2.1.17,
 * §2.2.1.19-20): recipients from the header, Bcc removal, line-ending
 * repair, and the "smart" part — the server adds the original message's
 * text (quoted for a reply, as a forwarded block for a forward) and, for a
 * forward, the original attachments, so the device need not download and
 * re-upload them. Parts of the device's message that are not rewritten stay
 * byte for byte as sent.
 */
import { randomBytes } from "node:crypto";
import { formatMailDate } from "../../../../mail/date.ts";
import { base64Lines, quoteParamValue } from "../../../../mail/encode.ts";
import { escapeHtml } from "../../../../mail/html.ts";
import { formatAddress } from "../../../../mail/address.ts";
import { newMessageId } from "../../../../mail/message-id.ts";
import type { MessageIndex, MimePart } from "../../../../storage/api.ts";
import { decodeHeaderText, decodeWords, parseAddressList, parseMime } from "../../../../mail/index.ts";
import { headerFieldSpans, headerValue, type HeaderField } from "../../../../mail/headers.ts";
import { analyseParts, attachmentContent, bodyTexts } from "./convert.ts";
import { partText } from "../../../../mail/text.ts";

const enc = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** Bare LF (and lone CR) line ends to CRLF (RFC 5322 §2.3); some clients send LF-only MIME. */
export { canonicalLineEnds as normaliseLineEnds } from "../../../../mail/line-endings.ts";

/** Raw header fields of a header block: lower-case name and [start, end) byte range including folded lines (mail/headers.ts). */
export function headerLines(raw: Uint8Array, start: number, end: number): { name: string; start: number; end: number }[] {
  return headerFieldSpans(raw, start, end).map((f) => ({
    name: f.colon >= 0 ? latin1.decode(raw.subarray(f.start, f.colon)).trim().toLowerCase() : "",
    start: f.start,
    end: f.end,
  }));
}

export function concat(parts: (Uint8Array | string)[]): Uint8Array {
  const bufs = parts.map((p) => (typeof p === "string" ? enc.encode(p) : p));
  const out = new Uint8Array(bufs.reduce((n, b) => n + b.length, 0));
  let o = 0;
  for (const b of bufs) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}

/** The header block of a part without the named fields (raw bytes, folding kept). */
function headerWithout(raw: Uint8Array, part: MimePart, drop: (name: string) => boolean): Uint8Array {
  const lines = headerLines(raw, part.headerStart, part.bodyStart);
  return concat(lines.filter((l) => !drop(l.name)).map((l) => raw.subarray(l.start, l.end)));
}

export interface Recipients {
  to: string[];
  cc: string[];
  bcc: string[];
  all: string[];
}

export function recipientsOf(headers: HeaderField[]): Recipients {
  const list = (key: string) =>
    headerValue(headers, key) === null
      ? []
      : headers
          .filter((h) => h.key === key)
          .flatMap((h) => parseAddressList(h.value))
          .filter((a) => a.mailbox && a.host && a.host !== "MISSING_DOMAIN")
          .map((a) => `${a.mailbox}@${a.host}`);
  const to = list("to");
  const cc = list("cc");
  const bcc = list("bcc");
  const seen = new Set<string>();
  const all = [...to, ...cc, ...bcc].filter((a) => {
    const k = a.toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return { to, cc, bcc, all };
}

export function fromAddress(headers: HeaderField[]): string | null {
  const a = parseAddressList(headerValue(headers, "from"))[0];
  return a && a.mailbox && a.host ? `${a.mailbox}@${a.host}` : null;
}

/** Removes Bcc (RFC 5322 §3.6.3: blind recipients must not see each other) and adds Date/Message-ID when missing. */
export function finalise(raw: Uint8Array, hostname: string, now: number): Uint8Array {
  const parsed = parseMime(raw);
  const lines = headerLines(raw, parsed.root.headerStart, parsed.root.bodyStart);
  const kept = lines.filter((l) => l.name !== "bcc").map((l) => raw.subarray(l.start, l.end));
  const extra: string[] = [];
  if (!lines.some((l) => l.name === "date")) extra.push(`Date: ${formatMailDate(now)}\r\n`);
  if (!lines.some((l) => l.name === "message-id")) extra.push(`Message-ID: ${newMessageId(hostname)}\r\n`);
  const headerEnd = lines.length ? lines[lines.length - 1]!.end : parsed.root.headerStart;
  return concat([...extra, ...kept, raw.subarray(headerEnd)]);
}

/** Message ids of a header value ("<a@b> <c@d>"), at most `max` of them (the newest kept). */
function msgIds(v: string | null, max = 50): string[] {
  const ids = (v ?? "").match(/<[^<>\s]{1,250}>/g) ?? [];
  return ids.slice(-max);
}

/**
 * Adds In-Reply-To and References (RFC 5322 §3.6.4) to a SmartReply's or
 * SmartForward's message when the device's MIME has none: In-Reply-To is
 * the source's Message-ID, References the source's References (or its
 * In-Reply-To) followed by that id. A source without a Message-ID leaves
 * the message as it is; fields the device wrote are kept.
 */
export function addThreadHeaders(raw: Uint8Array, origRaw: Uint8Array): Uint8Array {
  const orig = parseMime(origRaw);
  const parent = msgIds(headerValue(orig.headers, "message-id"), 1)[0];
  if (!parent) return raw;
  const parsed = parseMime(raw);
  const has = (k: string) => headerValue(parsed.headers, k) !== null;
  const extra: string[] = [];
  if (!has("in-reply-to")) extra.push(`In-Reply-To: ${parent}\r\n`);
  if (!has("references")) {
    let refs = msgIds(headerValue(orig.headers, "references"));
    if (!refs.length) refs = msgIds(headerValue(orig.headers, "in-reply-to"), 1);
    // folded one id a line (RFC 5322 §2.2.3) so long chains stay under the line limit
    extra.push(`References: ${[...refs.filter((r) => r !== parent), parent].join("\r\n ")}\r\n`);
  }
  return extra.length ? concat([...extra, raw]) : raw;
}

function htmlInner(html: string): string {
  const m = /<body[^>]*>([\s\S]*?)<\/body>/i.exec(html);
  return m ? m[1]! : html;
}

/** Addresses for the quoted "From:"/"To:" lines people read (mail/address.ts display form). */
function fmtAddrs(list: { name: string | null; mailbox: string | null; host: string | null }[] | null): string {
  return (list ?? [])
    .filter((a) => a.mailbox && a.host)
    .map((a) => formatAddress({ name: a.name ? decodeWords(a.name) : "", address: `${a.mailbox}@${a.host}` }, { display: true }))
    .join(", ");
}

export type SmartKind = "reply" | "forward";

/**
 * Adds the original message to the device's message (MS-ASCMD §2.2.1.19:
 * "the server ... appends the original message"). Text and HTML bodies of
 * the new message get the original's text; a forward also carries the
 * original attachments.
 */
export function smartCompose(newRaw: Uint8Array, orig: MessageIndex, origRaw: Uint8Array, kind: SmartKind): Uint8Array {
  const parsed = parseMime(newRaw);
  const origParts = analyseParts(orig.root);
  const texts = bodyTexts(origRaw, origParts);
  const when = orig.sentDate ?? orig.internalDate;
  const from = fmtAddrs(orig.envelope.from);
  let plainAdd: string;
  let htmlAdd: string;
  if (kind === "reply") {
    const intro = `On ${formatMailDate(when)}, ${from} wrote:`;
    const quoted = texts
      .plain()
      .split(/\r?\n/)
      .map((l) => `> ${l}`)
      .join("\r\n");
    plainAdd = `\r\n\r\n${intro}\r\n${quoted}\r\n`;
    htmlAdd = `<br><div>${escapeHtml(intro)}</div><blockquote style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex">${origParts.html ? htmlInner(texts.html()) : escapeHtml(texts.plain()).replace(/\r?\n/g, "<br>")}</blockquote>`;
  } else {
    const head = [
      "---------- Forwarded message ----------",
      `From: ${from}`,
      `Date: ${formatMailDate(when)}`,
      `Subject: ${orig.subject}`,
      `To: ${fmtAddrs(orig.envelope.to)}`,
      orig.envelope.cc && orig.envelope.cc.length ? `Cc: ${fmtAddrs(orig.envelope.cc)}` : null,
    ].filter((x): x is string => x !== null);
    plainAdd = `\r\n\r\n${head.join("\r\n")}\r\n\r\n${texts.plain().replace(/\r?\n/g, "\r\n")}\r\n`;
    htmlAdd = `<br><div>${head.map(escapeHtml).join("<br>")}</div><br>${origParts.html ? htmlInner(texts.html()) : escapeHtml(texts.plain()).replace(/\r?\n/g, "<br>")}`;
  }

  // Rewrite the body leaves of the new message (first text/plain and text/html outside attachments).
  const targets = analyseParts(parsed.root);
  const edits: { start: number; end: number; bytes: Uint8Array }[] = [];
  const rewrite = (part: MimePart, isHtml: boolean) => {
    let textNow = partText(newRaw, part);
    if (isHtml) {
      const i = textNow.search(/<\/body>/i);
      textNow = i >= 0 ? textNow.slice(0, i) + htmlAdd + textNow.slice(i) : textNow + htmlAdd;
    } else textNow = textNow.replace(/\r?\n/g, "\r\n") + plainAdd;
    const head = headerWithout(newRaw, part, (n) => n === "content-type" || n === "content-transfer-encoding");
    const bytes = concat([head, `Content-Type: text/${isHtml ? "html" : "plain"}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n`, base64Lines(enc.encode(textNow))]);
    edits.push({ start: part.headerStart, end: part.bodyEnd, bytes });
  };
  if (targets.plain) rewrite(targets.plain, false);
  if (targets.html) rewrite(targets.html, true);
  if (!targets.plain && !targets.html && !parsed.root.parts) {
    // A message with no text body at all: make the original text its body.
    rewrite(parsed.root, false);
  }
  edits.sort((a, b) => a.start - b.start);
  const chunks: Uint8Array[] = [];
  let pos = 0;
  for (const e of edits) {
    chunks.push(newRaw.subarray(pos, e.start), e.bytes);
    pos = e.end;
  }
  chunks.push(newRaw.subarray(pos));
  let out = concat(chunks);
  if (kind === "forward" && origParts.attachments.length) out = addAttachments(out, origRaw, origParts.attachments);
  return out;
}

function addAttachments(raw: Uint8Array, origRaw: Uint8Array, atts: ReturnType<typeof analyseParts>["attachments"]): Uint8Array {
  return withExtraParts(
    raw,
    atts.map((a) => {
      const content = attachmentContent(origRaw, a);
      if (a.embedded) return concat([`Content-Type: message/rfc822\r\nContent-Disposition: attachment; filename=${quoteParamValue(a.name)}\r\n\r\n`, content, "\r\n"]);
      const cid = a.contentId ? `Content-ID: <${a.contentId}>\r\n` : "";
      return concat([
        `Content-Type: ${a.contentType}; name=${quoteParamValue(a.name)}\r\nContent-Disposition: ${a.inline ? "inline" : "attachment"}; filename=${quoteParamValue(a.name)}\r\n${cid}Content-Transfer-Encoding: base64\r\n\r\n`,
        base64Lines(content),
      ]);
    }),
  );
}

/**
 * Appends whole MIME parts (header and body each) to a message: to its
 * multipart/mixed, or with the message's own body as the first part of a
 * new multipart/mixed. The top-level header fields stay as they are.
 */
export function withExtraParts(raw: Uint8Array, attParts: Uint8Array[]): Uint8Array {
  const parsed = parseMime(raw);
  const root = parsed.root;
  const boundary = `=_pillarbox_${randomBytes(12).toString("hex")}`;
  const contentHeader = (n: string) => n.startsWith("content-") || n === "mime-version";
  const top = headerWithout(raw, root, contentHeader);
  const children: Uint8Array[] = [];
  if (root.type === "multipart" && root.subtype === "mixed" && root.parts) {
    for (const p of root.parts) children.push(raw.subarray(p.headerStart, p.bodyEnd));
  } else {
    // The device's whole body becomes the first part of a new multipart/mixed.
    const own = concat(headerLines(raw, root.headerStart, root.bodyStart).filter((l) => contentHeader(l.name) && l.name !== "mime-version").map((l) => raw.subarray(l.start, l.end)));
    children.push(concat([own, "\r\n", raw.subarray(root.bodyStart, root.bodyEnd)]));
  }
  children.push(...attParts);
  const body: (Uint8Array | string)[] = [];
  for (const ch of children) body.push(`--${boundary}\r\n`, ch, ch[ch.length - 1] === 10 ? "" : "\r\n");
  body.push(`--${boundary}--\r\n`);
  return concat([top, `MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n`, ...body]);
}

export function subjectOf(headers: HeaderField[]): string {
  return decodeHeaderText(headerValue(headers, "subject"));
}
