/**
 * RSET, NOOP, VRFY/EXPN, HELP, QUIT (RFC 5321 §4.1.1.5-§4.1.1.10).
 */
import { reply, type Reply } from "./parser.ts";
import type { SmtpSession } from "./session.ts";

export function handleRset(s: SmtpSession, arg: string): Reply {
  if (arg.trim() !== "") return reply(501, "5.5.4", "Syntax: RSET takes no parameters");
  s.resetTransaction();
  return reply(250, "2.0.0", "Ok");
}

export function handleNoop(_s: SmtpSession, _arg: string): Reply {
  // RFC 5321 §4.1.1.9: a parameter is allowed and ignored.
  return reply(250, "2.0.0", "Ok");
}

/**
 * RFC 5321 §3.5.3: 252 when we will not verify (address harvesting), §7.3
 * allows disabling EXPN.
 */
export function handleVrfy(_s: SmtpSession, verb: string, arg: string): Reply {
  if (verb === "EXPN") return reply(502, "5.5.1", "Error: EXPN not supported");
  if (arg.trim() === "") return reply(501, "5.5.4", "Syntax: VRFY address");
  return reply(252, "2.5.2", "Cannot VRFY user, but will accept message and attempt delivery");
}

export function handleHelp(_s: SmtpSession, _arg: string): Reply {
  return reply(
    214,
    "2.0.0",
    "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP VRFY HELP QUIT STARTTLS AUTH",
    "See RFC 5321 and https://www.rfc-editor.org/rfc/rfc5321",
  );
}

export function handleQuit(s: SmtpSession, _arg: string): Reply {
  return reply(221, "2.0.0", `${s.hostname} closing connection`);
}
