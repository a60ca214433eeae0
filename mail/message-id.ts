/**
 * Message-ID generation (RFC 5322 §3.6.4): "<" id-left "@" id-right ">",
 * unique worldwide. The left side is the time in base 36 and 72 random bits
 * (RFC 5322 §3.6.4 suggests date-time and a random part); the right side is
 * a domain of the writer, so two servers never collide.
 */
import { randomBytes } from "node:crypto";

/** A new Message-ID for `domain` (a host name Pillarbox answers for), angle brackets included. */
export function newMessageId(domain: string): string {
  // id-right must be a dot-atom-text (§3.6.4); anything else in a configured name is dropped.
  const right = domain.replace(/^\[|\]$/g, "").replace(/[^A-Za-z0-9.-]/g, "").replace(/^\.+|\.+$/g, "").replace(/\.{2,}/g, ".") || "localhost";
  return `<${Date.now().toString(36)}.${randomBytes(9).toString("hex")}@${right}>`;
}
