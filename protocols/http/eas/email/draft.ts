/**
 * Drafts a device saves with Sync Add (MS-ASEMAIL 16.0+): the message is
 * built from the ApplicationData, or taken as the device wrote it when the
 * body is MIME (AirSyncBase:Body Type 4: headers and parts kept, From forced
 * to the account), plus the attachments of AirSyncBase:Attachments/Add
 * (MS-ASAIRS §2.2.2.2: ClientId, Content, DisplayName, ContentType, Method,
 * ContentId, IsInline). What cannot be stored as the device meant it is
 * refused with DraftError (a Sync Status) — never stored half or wrong.
 */
import { formatMailDate } from "../../../../mail/date.ts";
import { base64Lines, encodeWords, quoteParamValue } from "../../../../mail/encode.ts";
import { renderMessage } from "../../../../mail/build.ts";
import { parseMime } from "../../../../mail/index.ts";
import { SyncStatus } from "../status.ts";
import { bytes, kid, kids, kidText, text, type WElement } from "../wbxml/tree.ts";
import { concat, headerLines, normaliseLineEnds, withExtraParts } from "./compose.ts";

/** Most attachments one draft may carry (a bound on one request's work). */
export const MAX_DRAFT_ATTACHMENTS = 100;

/** A draft the server refuses: `status` is the Sync Status of the Add (MS-ASCMD §2.2.3.177.17). */
export class DraftError extends Error {
  constructor(
    message: string,
    public readonly status: number = SyncStatus.ClientServerConversion,
  ) {
    super(message);
    this.name = "DraftError";
  }
}

export interface DraftAttachment {
  clientId: string;
  displayName: string;
  contentType: string;
  content: Uint8Array;
  contentId: string | null;
  inline: boolean;
  /** Method 5 (MS-ASAIRS §2.2.2.31.1): an embedded message, stored as message/rfc822. */
  embedded: boolean;
}

/** Header values from the device: no line breaks (RFC 5322 §2.2: a CRLF would start a new, forged field). */
const one = (v: string | undefined) => (v ?? "").replace(/[\r\n]+/g, " ").trim();

/** MS-ASDTYPE §2.7.1 byte array: opaque data in WBXML, base64 text in the XML form. */
function byteArray(e: WElement | undefined): Uint8Array {
  if (!e) throw new DraftError("attachment without Content");
  if (e.children.some((k) => k instanceof Uint8Array)) return bytes(e);
  const s = text(e).replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 === 1) throw new DraftError("attachment Content is neither opaque data nor base64");
  return new Uint8Array(Buffer.from(s, "base64"));
}

const TOKEN_TYPE = /^[A-Za-z0-9!#$&^_.+-]{1,64}\/[A-Za-z0-9!#$&^_.+-]{1,64}$/;

/** The AirSyncBase:Attachments/Add entries of ApplicationData, checked; at most `maxBytes` of content in all. */
export function draftAttachments(data: WElement | undefined, maxBytes: number): DraftAttachment[] {
  const adds = kids(kid(data, "AirSyncBase:Attachments"), "AirSyncBase:Add");
  if (adds.length > MAX_DRAFT_ATTACHMENTS) throw new DraftError(`more than ${MAX_DRAFT_ATTACHMENTS} attachments`);
  let total = 0;
  return adds.map((a) => {
    const content = byteArray(kid(a, "AirSyncBase:Content"));
    total += content.length;
    if (total > maxBytes) throw new DraftError("attachments larger than the message size limit");
    const ct = one(kidText(a, "AirSyncBase:ContentType"));
    const cid = one(kidText(a, "AirSyncBase:ContentId")).replace(/^<|>$/g, "");
    const method = kidText(a, "AirSyncBase:Method") ?? "1";
    if (!/^[1-6]$/.test(method)) throw new DraftError(`attachment Method ${method}`);
    return {
      clientId: one(kidText(a, "AirSyncBase:ClientId")),
      displayName: one(kidText(a, "AirSyncBase:DisplayName")).slice(0, 255) || "attachment",
      contentType: TOKEN_TYPE.test(ct) ? ct : "application/octet-stream",
      content,
      contentId: cid && /^[^\s<>"]{1,250}$/.test(cid) ? cid : null,
      inline: kidText(a, "AirSyncBase:IsInline") === "1",
      embedded: method === "5",
    };
  });
}

/** One attachment as a whole MIME part (header and base64 body). */
export function attachmentPart(a: DraftAttachment): Uint8Array {
  const name = quoteParamValue(a.displayName);
  if (a.embedded) return concat([`Content-Type: message/rfc822\r\nContent-Disposition: attachment; filename=${name}\r\n\r\n`, normaliseLineEnds(a.content), "\r\n"]);
  const cid = a.contentId ? `Content-ID: <${a.contentId}>\r\n` : "";
  return concat([
    `Content-Type: ${a.contentType}; name=${name}\r\nContent-Disposition: ${a.inline ? "inline" : "attachment"}; filename=${name}\r\n${cid}Content-Transfer-Encoding: base64\r\n\r\n`,
    base64Lines(a.content),
  ]);
}

/** A Type 4 body: the device's message with its From replaced by the account (and a Date when it has none). */
function mimeDraft(mime: Uint8Array, from: string, now: number): Uint8Array {
  const raw = normaliseLineEnds(mime);
  let parsed;
  try {
    parsed = parseMime(raw);
  } catch {
    throw new DraftError("the MIME body cannot be parsed");
  }
  const lines = headerLines(raw, parsed.root.headerStart, parsed.root.bodyStart);
  if (!lines.length || lines.some((l) => l.name === "")) throw new DraftError("the MIME body has no header");
  const kept = lines.filter((l) => l.name !== "from" && l.name !== "sender").map((l) => raw.subarray(l.start, l.end));
  const extra = [`From: ${from}\r\n`];
  if (!lines.some((l) => l.name === "date")) extra.push(`Date: ${formatMailDate(now)}\r\n`);
  return concat([...extra, ...kept, raw.subarray(lines[lines.length - 1]!.end)]);
}

/**
 * A draft message from Email ApplicationData (16.0 draft Add); DraftError when it cannot be stored as sent.
 * `attachmentPaths` are the MIME part paths of the added attachments (for their FileReferences), in request order.
 */
export function draftMessage(data: WElement | undefined, from: string, now: number, maxBytes: number): { raw: Uint8Array; attachments: DraftAttachment[]; attachmentPaths: string[] } {
  const body = kid(data, "AirSyncBase:Body");
  const type = kidText(body, "AirSyncBase:Type") ?? "1";
  if (!/^[124]$/.test(type)) throw new DraftError(`draft body Type ${type}`); // MS-ASAIRS §2.2.2.22.1: 3 (RTF) is not a draft format
  const atts = draftAttachments(data, maxBytes);
  let raw: Uint8Array;
  if (type === "4") raw = mimeDraft(bytes(kid(body, "AirSyncBase:Data")), from, now);
  else {
    const to = one(kidText(data, "Email:To"));
    const cc = one(kidText(data, "Email:Cc"));
    const bcc = one(kidText(data, "Email2:Bcc"));
    const fields: [string, string][] = [["From", from]];
    // The device's address lists go as it wrote them (a draft keeps Bcc, RFC 5322 §3.6.3).
    if (to) fields.push(["To", to]);
    if (cc) fields.push(["Cc", cc]);
    if (bcc) fields.push(["Bcc", bcc]);
    fields.push(["Subject", encodeWords(one(kidText(data, "Email:Subject")))], ["Date", formatMailDate(now)]);
    raw = renderMessage(fields, { type: type === "2" ? "text/html" : "text/plain", content: text(kid(body, "AirSyncBase:Data")) });
  }
  let attachmentPaths: string[] = [];
  if (atts.length) {
    raw = withExtraParts(raw, atts.map(attachmentPart));
    // withExtraParts appends them as the last children of the top-level multipart/mixed
    const n = parseMime(raw).root.parts?.length ?? 0;
    attachmentPaths = atts.map((_, i) => String(n - atts.length + i + 1));
  }
  if (raw.length > maxBytes) throw new DraftError("the draft is larger than the message size limit");
  return { raw, attachments: atts, attachmentPaths };
}
