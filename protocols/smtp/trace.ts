/**
 * Trace header fields: Received: (RFC 5321 §4.4) and helpers to read and
 * edit a message's header block without parsing the body.
 */
import { randomBytes } from "node:crypto";
import { concatChunks } from "../../src/bytes.ts";
import { formatMailDate } from "../../mail/date.ts";
import { headerEnd } from "../../mail/headers.ts";
import type { SmtpSession, Transaction } from "./session.ts";

/** RFC 3848 / RFC 6531 §3.7.3 "with" protocol types: S for TLS, A for authenticated. */
export function protocolType(s: SmtpSession, tx: Transaction): string {
  if (!s.esmtp && !s.secure && !s.account && !tx.smtputf8) return "SMTP";
  return (tx.smtputf8 ? "UTF8SMTP" : "ESMTP") + (s.secure ? "S" : "") + (s.account ? "A" : "");
}

/** RFC 5321 §4.4 Received: header. The client's address goes in brackets, as the TCP-info. */
export function receivedHeader(s: SmtpSession, tx: Transaction): string {
  const helo = (s.helo ?? "unknown").replace(/[\r\n()]/g, "");
  const ip = s.remoteIp.includes(":") ? `IPv6:${s.remoteIp}` : s.remoteIp;
  let h = `Received: from ${helo} ([${ip}])\r\n\tby ${s.hostname} (Pillarbox) with ${protocolType(s, tx)} id ${randomBytes(6).toString("hex")}`;
  if (s.tlsInfo) h += `\r\n\t(${s.tlsInfo})`;
  // "for" only with a single recipient: more would disclose Bcc recipients to each other.
  if (tx.recipients.length === 1) h += `\r\n\tfor <${tx.recipients[0]!.address}>`;
  h += `;\r\n\t${formatMailDate()}\r\n`;
  return h;
}

/** Offset of the end of the header block (after the blank line), or the message length if there is none. */
function headerBlockEnd(raw: Uint8Array): number {
  const end = headerEnd(raw);
  return end < 0 ? raw.length : end;
}

/** Unfolded header fields of the header block, in order. */
export function readHeaders(raw: Uint8Array): { name: string; value: string; start: number; end: number }[] {
  const end = headerBlockEnd(raw);
  const text = Buffer.from(raw.buffer, raw.byteOffset, end).toString("latin1");
  const out: { name: string; value: string; start: number; end: number }[] = [];
  let i = 0;
  while (i < text.length) {
    let j = text.indexOf("\n", i);
    if (j < 0) j = text.length - 1;
    // continuation lines start with WSP (RFC 5322 §2.2.3)
    while (j + 1 < text.length && (text[j + 1] === " " || text[j + 1] === "\t")) {
      const k = text.indexOf("\n", j + 1);
      if (k < 0) {
        j = text.length - 1;
        break;
      }
      j = k;
    }
    const field = text.slice(i, j + 1);
    const colon = field.indexOf(":");
    if (colon > 0) {
      out.push({ name: field.slice(0, colon).trim().toLowerCase(), value: field.slice(colon + 1).replace(/\r?\n/g, "").trim(), start: i, end: j + 1 });
    }
    i = j + 1;
  }
  return out;
}

export function concatBytes(...parts: (Uint8Array | string)[]): Uint8Array {
  return concatChunks(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : p)));
}

/** Removes header fields (by byte range) from a message. */
export function removeRanges(raw: Uint8Array, ranges: { start: number; end: number }[]): Uint8Array {
  if (ranges.length === 0) return raw;
  const parts: Uint8Array[] = [];
  let pos = 0;
  for (const r of [...ranges].sort((a, b) => a.start - b.start)) {
    parts.push(raw.subarray(pos, r.start));
    pos = r.end;
  }
  parts.push(raw.subarray(pos));
  return concatBytes(...parts);
}
