/**
 * EHLO, HELO and STARTTLS.
 */
import { parseHeloArg, reply, type Reply } from "./parser.ts";
import type { SmtpSession } from "./session.ts";

/** AUTH is offered only on the submission ports, only over TLS, only once (RFC 4954 §4, RFC 8314 §3.3, RFC 3207 §4). */
export function authAvailable(s: SmtpSession): boolean {
  return s.mode === "submission" && s.secure && s.account === null;
}

/** RFC 5321 §4.1.1.1 EHLO: greeting plus the extensions we support. */
export function handleEhlo(s: SmtpSession, arg: string): Reply {
  const h = parseHeloArg(arg);
  if (typeof h !== "string") return reply(h.code, h.enhanced, h.text);
  // RFC 5321 §4.1.4: EHLO mid-session resets the transaction, as RSET.
  s.resetTransaction();
  s.helo = h;
  s.esmtp = true;
  const lines = [
    `${s.hostname} Hello ${h} [${s.remoteIp}]`,
    "PIPELINING", // RFC 2920
    `SIZE ${s.maxSize}`, // RFC 1870
    "8BITMIME", // RFC 6152
    "SMTPUTF8", // RFC 6531
    "ENHANCEDSTATUSCODES", // RFC 2034
  ];
  if (!s.secure) lines.push("STARTTLS"); // RFC 3207 §4.2: not after TLS is in use
  lines.push("DSN"); // RFC 3461
  lines.push("CHUNKING"); // RFC 3030
  if (authAvailable(s)) lines.push("AUTH PLAIN LOGIN"); // RFC 4954
  return reply(250, undefined, ...lines);
}

/** RFC 5321 §4.1.1.1 HELO: no extensions. */
export function handleHelo(s: SmtpSession, arg: string): Reply {
  const h = parseHeloArg(arg);
  if (typeof h !== "string") return reply(h.code, h.enhanced, h.text);
  s.resetTransaction();
  s.helo = h;
  s.esmtp = false;
  return reply(250, undefined, `${s.hostname}`);
}

/** RFC 3207 §4. The caller performs the upgrade after sending the 220. */
export function handleStartTls(s: SmtpSession, arg: string): Reply {
  if (arg.trim() !== "") return reply(501, "5.5.4", "Syntax: STARTTLS takes no parameters");
  if (s.secure) return reply(503, "5.5.1", "TLS already active");
  if (s.tx) return reply(503, "5.5.1", "STARTTLS not allowed during a mail transaction");
  return reply(220, "2.0.0", "Ready to start TLS");
}
