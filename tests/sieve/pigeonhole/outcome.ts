/**
 * The normalised outcome of delivering one message to one user under one
 * Sieve script, the same shape for Pigeonhole and for Pillarbox, so the two
 * can be compared as strings:
 *  - accepted: did the server take the message (2xx), or refuse it at the
 *    protocol level (RFC 5429 §2.1: reject/ereject "at SMTP time")?
 *  - copies: "Folder [flags sorted]" per stored copy (sorted), with the values
 *    of the header fields the manifest asks to check (editheader);
 *  - redirects: the addresses a redirected copy went to (RFC 5228 §4.2);
 *  - notices: rejection notices (RFC 5429 §2.1 MDNs) by recipient;
 *  - replies: vacation responses (RFC 5230) as "to | subject".
 * Outgoing mail is told apart by its content: a copy carrying the original
 * Message-ID is a redirect, a multipart/report is a rejection notice, any
 * other message is an auto-reply.
 */
import type { StoredCopy } from "./maildir.ts";

export interface Outgoing {
  /** MAIL FROM address ("" for null). */
  from: string;
  rcpts: string[];
  raw: Buffer;
}

/** One delivery of a pair's sequence. */
export interface DeliveryOutcome {
  accepted: boolean;
  /** The script rejected it (RFC 5429): refused at the protocol level, or accepted and answered with a notice (or, to a null sender, nothing). */
  rejected: boolean;
  copies: string[];
}

/** A pair: each delivery, and the mail that left for the whole sequence. */
export interface Outcome {
  deliveries: DeliveryOutcome[];
  redirects: string[];
  notices: string[];
  replies: string[];
}

/** The header section of a message, unfolded, as [lower-case name, value] pairs in order. */
export function headerFields(raw: Uint8Array): [string, string][] {
  const text = Buffer.from(raw).toString("latin1");
  let end = text.indexOf("\r\n\r\n");
  if (end < 0) end = text.indexOf("\n\n");
  const head = (end < 0 ? text : text.slice(0, end)).replace(/\r?\n[ \t]/g, " ");
  const out: [string, string][] = [];
  for (const line of head.split(/\r?\n/)) {
    const c = line.indexOf(":");
    if (c <= 0) continue;
    out.push([line.slice(0, c).trim().toLowerCase(), line.slice(c + 1).trim()]);
  }
  return out;
}

export function headerValue(raw: Uint8Array, name: string): string | null {
  return headerFields(raw).find(([n]) => n === name.toLowerCase())?.[1] ?? null;
}

/** RFC 2047 encoded words in a Subject (base64/Q, UTF-8 or Latin-1), so both servers' replies compare by text. */
export function decodeWords(s: string): string {
  return s
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (_, cs: string, enc: string, data: string) => {
      const bytes = enc.toUpperCase() === "B" ? Buffer.from(data, "base64") : Buffer.from(data.replace(/_/g, " ").replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1");
      return /utf-?8/i.test(cs) ? bytes.toString("utf8") : bytes.toString("latin1");
    });
}

const SYSTEM_FLAGS = new Map(["\\seen", "\\answered", "\\flagged", "\\deleted", "\\draft"].map((f) => [f, f[0] + f[1]!.toUpperCase() + f.slice(2)]));

/** System flags in their canonical case (RFC 3501 §2.3.2 flags are case-insensitive); keywords as stored. */
export function normaliseFlags(flags: readonly string[]): string[] {
  const set = new Set(flags.filter((f) => f.toLowerCase() !== "\\recent").map((f) => SYSTEM_FLAGS.get(f.toLowerCase()) ?? f));
  return [...set].sort();
}

/** An address as sent, the domain lower-cased (RFC 5321 §2.4: only the local part may be case-sensitive). */
function addr(s: string): string {
  const m = /<([^>]*)>/.exec(s);
  const a = (m ? m[1]! : s).trim();
  const at = a.lastIndexOf("@");
  return at < 0 ? a : a.slice(0, at) + a.slice(at).toLowerCase();
}

export function describeCopy(c: StoredCopy, headers: readonly string[]): string {
  let s = `${c.folder} [${normaliseFlags(c.flags).join(" ")}]`;
  if (headers.length > 0) {
    const fields = headerFields(c.raw);
    const vals = headers.map((h) => `${h}=${JSON.stringify(fields.filter(([n]) => n === h.toLowerCase()).map(([, v]) => v.replace(/\s+/g, " ")))}`);
    s += ` {${vals.join(" ")}}`;
  }
  return s;
}

export function deliveryOutcome(accepted: boolean, rejected: boolean, copies: readonly StoredCopy[], headers: readonly string[]): DeliveryOutcome {
  return { accepted, rejected, copies: copies.map((c) => describeCopy(c, headers)).sort() };
}

/** Sorts the mail that left into redirects, rejection notices and replies (see the top of this file). */
export function outgoingOutcome(outgoing: readonly Outgoing[], messageIds: ReadonlySet<string>): Pick<Outcome, "redirects" | "notices" | "replies"> {
  const redirects: string[] = [];
  const notices: string[] = [];
  const replies: string[] = [];
  for (const m of outgoing) {
    const id = headerValue(m.raw, "message-id");
    const type = headerValue(m.raw, "content-type") ?? "";
    const rcpts = m.rcpts.map(addr);
    if (id !== null && messageIds.has(id)) redirects.push(...rcpts);
    else if (/multipart\/report/i.test(type)) notices.push(...rcpts);
    else for (const r of rcpts) replies.push(`${r} | ${decodeWords(headerValue(m.raw, "subject") ?? "").replace(/\s+/g, " ")}`);
  }
  return { redirects: redirects.sort(), notices: notices.sort(), replies: replies.sort() };
}

export function outcomeText(o: Outcome): string {
  const parts = o.deliveries.map((d) => `${d.accepted ? "accepted" : "REFUSED"}${d.rejected ? " (rejected)" : ""}: ${d.copies.join(", ") || "no copy"}`);
  if (o.redirects.length) parts.push(`redirect: ${o.redirects.join(", ")}`);
  if (o.notices.length) parts.push(`reject notice: ${o.notices.join(", ")}`);
  if (o.replies.length) parts.push(`vacation: ${o.replies.join(", ")}`);
  return parts.join("; ");
}
