/**
 * Structural MIME parser over raw bytes (RFC 2045, RFC 2046, RFC 5322).
 * Produces the MimePart tree with absolute byte offsets so IMAP
 * BODY[section]<partial>, BINARY and BODYSTRUCTURE are served from the blob
 * without re-parsing. It never throws: broken boundaries, missing separators,
 * odd line ends, deep nesting (capped, deeper parts become leaves) and
 * garbage all produce a usable tree.
 */
import { Buffer } from "node:buffer";
import type { Envelope, MimePart } from "./types.ts";
import { CR, LF, countLines, eolLen, nextLine } from "./bytes.ts";
import { headerValue, parseHeaderBlock, parseParams, stripComments, type HeaderField } from "./headers.ts";
import { parseAddressList } from "./address.ts";

/** Deeper nesting is treated as a leaf (attack messages nest thousands deep). */
export const MAX_DEPTH = 50;
/** Upper bound of parts in one message; the rest stays inside the last part. */
export const MAX_PARTS = 10_000;

export interface ParsedMessage {
  root: MimePart;
  envelope: Envelope;
  /** Top-level header fields. */
  headers: HeaderField[];
}

interface Ctx {
  buf: Uint8Array;
  parts: number;
}

export function parseMime(raw: Uint8Array): ParsedMessage {
  const ctx: Ctx = { buf: raw, parts: 0 };
  const { part, fields } = parseEntity(ctx, 0, raw.length, 0, "text/plain", true);
  return { root: part, envelope: envelopeOf(fields), headers: fields };
}

function parseEntity(
  ctx: Ctx,
  start: number,
  end: number,
  depth: number,
  defaultType: "text/plain" | "message/rfc822",
  isMessage: boolean,
): { part: MimePart; fields: HeaderField[] } {
  void isMessage;
  ctx.parts++;
  const buf = ctx.buf;
  const hb = parseHeaderBlock(buf, start, end);
  const fields = hb.fields;
  const bodyStart = Math.min(hb.bodyStart, end);
  const bodyEnd = end;

  let type: string;
  let subtype: string;
  let params: Record<string, string>;
  const ctRaw = headerValue(fields, "content-type");
  const ct = ctRaw !== null ? parseParams(ctRaw) : null;
  const m = ct ? /^([a-z0-9!#$%&'*+.^_`{|}~-]+)\/([a-z0-9!#$%&'*+.^_`{|}~-]+)$/.exec(ct.value) : null;
  if (ct && m) {
    type = m[1];
    subtype = m[2];
    params = ct.params;
  } else if (ct && ct.value === "text") {
    // "Content-Type: text" (seen from old mailers): text/plain
    type = "text";
    subtype = "plain";
    params = ct.params;
  } else {
    // RFC 2045 §5.2: missing or invalid Content-Type is text/plain; charset=us-ascii
    // (message/rfc822 inside multipart/digest, RFC 2046 §5.1.5).
    [type, subtype] = defaultType.split("/");
    params = type === "text" ? { charset: ct?.params.charset ?? "us-ascii" } : {};
  }

  const cte = headerValue(fields, "content-transfer-encoding");
  const encoding = cte ? stripComments(cte).trim().toLowerCase() || "7bit" : "7bit";
  const dispRaw = headerValue(fields, "content-disposition");
  let disposition: MimePart["disposition"] = null;
  if (dispRaw !== null) {
    const d = parseParams(dispRaw);
    if (d.value) disposition = { type: d.value, params: d.params };
  }
  const langRaw = headerValue(fields, "content-language");
  const language = langRaw
    ? stripComments(langRaw)
        .split(",")
        .map((x) => x.trim())
        .filter((x) => x !== "")
    : null;
  const idRaw = headerValue(fields, "content-id");
  const locRaw = headerValue(fields, "content-location");

  const part: MimePart = {
    headerStart: start,
    bodyStart,
    bodyEnd,
    type,
    subtype,
    params,
    id: idRaw !== null ? idRaw.trim() : null,
    description: headerValue(fields, "content-description"),
    encoding,
    md5: headerValue(fields, "content-md5"),
    disposition,
    language: language && language.length ? language : null,
    location: locRaw !== null ? locRaw.replace(/\s+/g, "") : null,
    lines: 0,
  };

  if (type === "multipart") {
    const boundary = params.boundary;
    const ranges = boundary && depth < MAX_DEPTH && ctx.parts < MAX_PARTS ? splitMultipart(buf, bodyStart, bodyEnd, boundary, MAX_PARTS - ctx.parts) : [];
    if (ranges.length === 0) {
      // No usable boundary or nothing between delimiters: serve the body as plain text
      // (a multipart node must have children for BODYSTRUCTURE).
      part.type = "text";
      part.subtype = "plain";
      part.params = { charset: "us-ascii" };
      part.lines = countLines(buf, bodyStart, bodyEnd);
      return { part, fields };
    }
    const childDefault = subtype === "digest" ? "message/rfc822" : "text/plain";
    part.parts = ranges.map(([s, e]) => parseEntity(ctx, s, e, depth + 1, childDefault, false).part);
    return { part, fields };
  }

  if (type === "message" && (subtype === "rfc822" || subtype === "global")) {
    part.lines = countLines(buf, bodyStart, bodyEnd);
    // An encoded message/rfc822 is not allowed (RFC 2046 §5.2.1); serve it as an opaque leaf.
    if (depth < MAX_DEPTH && ctx.parts < MAX_PARTS && (encoding === "7bit" || encoding === "8bit" || encoding === "binary")) {
      const inner = parseEntity(ctx, bodyStart, bodyEnd, depth + 1, "text/plain", true);
      part.message = { envelope: envelopeOf(inner.fields), root: inner.part };
    }
    return { part, fields };
  }

  if (type === "text") part.lines = countLines(buf, bodyStart, bodyEnd);
  return { part, fields };
}

/**
 * Body ranges between boundary delimiters (RFC 2046 §5.1.1). A delimiter is
 * "--boundary" at the start of a line, followed by optional whitespace and
 * the line end, or by "--" for the close delimiter. The line break before a
 * delimiter belongs to the delimiter, so it is not part of the body.
 * Preamble and epilogue are dropped; a missing close delimiter ends the last
 * part at the end of the enclosing body.
 */
export function splitMultipart(buf: Uint8Array, start: number, end: number, boundary: string, maxParts: number): [number, number][] {
  const delim = Buffer.from("--" + boundary, "latin1");
  if (delim.length <= 2) return [];
  const hay = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: [number, number][] = [];
  let partStart = -1;
  let pos = start;
  while (pos < end) {
    const idx = hay.indexOf(delim, pos);
    if (idx < 0 || idx + delim.length > end) break;
    const atLineStart = idx === start || buf[idx - 1] === LF || buf[idx - 1] === CR;
    const after = idx + delim.length;
    if (!atLineStart) {
      pos = idx + 1;
      continue;
    }
    const isClose = after + 1 < end && buf[after] === 45 && buf[after + 1] === 45;
    if (!isClose) {
      // only transport padding may follow (otherwise it is a longer, different boundary)
      let k = after;
      while (k < end && (buf[k] === 32 || buf[k] === 9)) k++;
      if (k < end && buf[k] !== CR && buf[k] !== LF) {
        pos = idx + 1;
        continue;
      }
    }
    if (partStart >= 0) {
      let e = idx;
      if (e > start) {
        if (buf[e - 1] === LF) e -= e - 2 >= start && buf[e - 2] === CR ? 2 : 1;
        else if (buf[e - 1] === CR) e -= 1;
      }
      out.push([partStart, Math.max(partStart, e)]);
      if (out.length >= maxParts) return out;
    }
    if (isClose) return out;
    partStart = nextLine(buf, after, end);
    pos = partStart > after ? partStart : after;
  }
  if (partStart >= 0) out.push([partStart, end]);
  return out;
}

export function envelopeOf(fields: HeaderField[]): Envelope {
  const list = (key: string) => {
    const v = headerValue(fields, key);
    if (v === null) return null;
    const l = parseAddressList(v);
    return l.length ? l : null;
  };
  const from = list("from");
  const sender = list("sender");
  const replyTo = list("reply-to");
  const raw = (key: string) => {
    const v = headerValue(fields, key);
    return v === null ? null : v;
  };
  return {
    date: raw("date"),
    subject: raw("subject"),
    from,
    // RFC 3501 §7.4.2: absent or empty Sender / Reply-To take the From value
    sender: sender ?? from,
    replyTo: replyTo ?? from,
    to: list("to"),
    cc: list("cc"),
    bcc: list("bcc"),
    inReplyTo: raw("in-reply-to"),
    messageId: raw("message-id"),
  };
}

/** Offsets helper for callers that need the header block of a part: [headerStart, bodyStart). */
export function headerRange(part: MimePart): [number, number] {
  return [part.headerStart, part.bodyStart];
}

export { eolLen };
