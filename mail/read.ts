/**
 * A message as a person reads it: decoded header fields, addresses, and the
 * body as text and as HTML. The body is made of the message's inline text
 * parts in document order (RFC 2046 §5.1.3 multipart/mixed), one
 * representation per multipart/alternative (§5.1.4: the last, richest one a
 * reader supports; here plain for the text form, HTML for the HTML form);
 * where a part exists only in the other form it is converted. Attachments —
 * parts with `Content-Disposition: attachment`, non-text parts, and attached
 * messages unless they are explicitly inline (RFC 2183) — are not body.
 * Text parts with format=flowed are joined (RFC 3676).
 */
import type { MimePart } from "./types.ts";
import { formatAddress, parseAddressList, parseMessageIds, type Mailbox } from "./address.ts";
import { decodeCharset } from "./bytes.ts";
import { parseMailDate } from "./date.ts";
import { decodeFlowed } from "./flowed.ts";
import { decodeHeaderText, decodeWords, headerValue, headerValues, parseHeaderBlock, type HeaderField } from "./headers.ts";
import { escapeHtml, textToHtml } from "./html.ts";
import { parseMime } from "./parse.ts";
import { htmlToText, partContent } from "./text.ts";

export interface ReadableMessage {
  /** Top-level fields, values unfolded and still encoded (decode with decodeHeaderText). */
  headers: HeaderField[];
  subject: string;
  from: Mailbox[];
  sender: Mailbox[];
  to: Mailbox[];
  cc: Mailbox[];
  bcc: Mailbox[];
  replyTo: Mailbox[];
  /** ISO 8601 when the Date field is readable (RFC 5322 §3.3), else the field as written; null when absent. */
  date: string | null;
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  /** Body as text (null when the message has no inline text part). */
  text: string | null;
  /** Body as HTML (null when the message has no HTML part: a plain message is not converted). */
  html: string | null;
}

/** Attached messages shown inline are read to this depth; deeper ones stay attachments. */
const MAX_INLINE_MESSAGES = 10;

/** Every mailbox of the fields named `key` (groups flattened), names decoded (RFC 2047), addresses lower-case. */
export function mailboxesOf(fields: HeaderField[], key: string): Mailbox[] {
  const out: Mailbox[] = [];
  for (const v of headerValues(fields, key)) {
    for (const a of parseAddressList(v)) {
      if (a.host === null || a.mailbox === null) continue; // group markers
      const address = a.host === "MISSING_DOMAIN" ? a.mailbox.toLowerCase() : `${a.mailbox}@${a.host}`.toLowerCase();
      out.push({ name: a.name ? decodeHeaderText(a.name) : "", address });
    }
  }
  return out;
}

type Entry = { kind: "text"; value: string } | { kind: "header"; value: HeaderField[] };

/** The text of a leaf: transfer encoding and charset undone, flowed lines joined. */
function leafText(raw: Uint8Array, p: MimePart): string {
  const s = decodeCharset(partContent(raw, p), p.params.charset);
  return (p.params.format ?? "").toLowerCase() === "flowed" ? decodeFlowed(s, (p.params.delsp ?? "").toLowerCase() === "yes") : s;
}

function headerRows(fields: HeaderField[]): [string, string][] {
  const rows: [string, string][] = [];
  const add = (label: string, v: string) => v && rows.push([label, v]);
  const people = (key: string) => mailboxesOf(fields, key).map((m) => formatAddress(m, { display: true })).join(", ");
  add("From", people("from"));
  add("Subject", decodeHeaderText(headerValue(fields, "subject")));
  add("Date", decodeHeaderText(headerValue(fields, "date")));
  add("To", people("to"));
  add("Cc", people("cc"));
  return rows;
}

function render(e: Entry, as: "plain" | "html", converted: boolean): string {
  if (e.kind === "header") {
    const rows = headerRows(e.value);
    if (as === "plain") return rows.map(([k, v]) => `${k}: ${v}`).join("\n") + "\n";
    return `<div class="pb-message-header">${rows.map(([k, v]) => `<div><b>${k}:</b> ${escapeHtml(v)}</div>`).join("")}</div>`;
  }
  if (!converted) return e.value;
  return as === "html" ? `<div>${textToHtml(e.value, "<br />")}</div>` : htmlToText(e.value, { readable: true });
}

/** Text and HTML bodies of a parsed message (see the module comment). */
export function readBody(raw: Uint8Array, root: MimePart): { text: string | null; html: string | null } {
  // One selector per standalone text part or per multipart/alternative, in document order.
  const selectors = new Map<MimePart, { plain?: Entry[]; html?: Entry[] }>();
  const types = new Set<"plain" | "html">();
  const add = (sel: MimePart, type: "plain" | "html", e: Entry) => {
    let s = selectors.get(sel);
    if (!s) selectors.set(sel, (s = {}));
    (s[type] ??= []).push(e);
    types.add(type);
  };
  const walk = (p: MimePart, alternative: MimePart | null, inlineDepth: number) => {
    if (p.type === "multipart") {
      const alt = p.subtype === "alternative" ? p : alternative;
      for (const c of p.parts ?? []) walk(c, alt, inlineDepth);
      return;
    }
    if (p.message) {
      // RFC 2183: an attached message is shown inline only when it says so.
      if (p.disposition?.type === "inline" && inlineDepth < MAX_INLINE_MESSAGES) {
        const inner = p.message.root;
        add(p, "plain", { kind: "header", value: parseHeaderBlock(raw, inner.headerStart, inner.bodyStart).fields });
        walk(inner, null, inlineDepth + 1);
      }
      return;
    }
    if (p.disposition?.type === "attachment" || p.type !== "text" || (p.subtype !== "plain" && p.subtype !== "html")) return;
    add(alternative ?? p, p.subtype === "html" ? "html" : "plain", { kind: "text", value: leafText(raw, p) });
  };
  walk(root, null, 0);
  const out: { text: string | null; html: string | null } = { text: null, html: null };
  for (const type of types) {
    const pieces: string[] = [];
    for (const s of selectors.values()) {
      const own = s[type];
      const other = s[type === "html" ? "plain" : "html"];
      for (const e of own ?? other ?? []) pieces.push(render(e, type, !own));
    }
    out[type === "html" ? "html" : "text"] = pieces.join("\n");
  }
  return out;
}

/** Reads a whole message (parsing it unless the parsed form is given). Never throws. */
export function readMessage(raw: Uint8Array, parsed?: { root: MimePart; headers: HeaderField[] }): ReadableMessage {
  const { root, headers } = parsed ?? parseMime(raw);
  const dateRaw = headerValue(headers, "date");
  const t = parseMailDate(dateRaw);
  const one = (key: string) => {
    const v = headerValue(headers, key);
    return v === null ? null : decodeWords(v).trim() || null;
  };
  let body: { text: string | null; html: string | null };
  try {
    body = readBody(raw, root);
  } catch {
    body = { text: null, html: null }; // defence in depth: the parts above are written not to throw
  }
  return {
    headers,
    subject: decodeHeaderText(headerValue(headers, "subject")),
    from: mailboxesOf(headers, "from").slice(0, 1),
    sender: mailboxesOf(headers, "sender").slice(0, 1),
    to: mailboxesOf(headers, "to"),
    cc: mailboxesOf(headers, "cc"),
    bcc: mailboxesOf(headers, "bcc"),
    replyTo: mailboxesOf(headers, "reply-to"),
    date: dateRaw === null ? null : t !== null ? new Date(t).toISOString() : dateRaw.trim(),
    messageId: one("message-id"),
    inReplyTo: one("in-reply-to"),
    references: parseMessageIds(headerValue(headers, "references")),
    text: body.text,
    html: body.html,
  };
}
