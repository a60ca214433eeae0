/**
 * AUTH (RFC 4954) with PLAIN (RFC 4616) and LOGIN. Offered only on the
 * submission ports after TLS; never on port 25. Attempts go through the
 * shared throttle (ctx.login: per IP and per account, counted before the
 * hash check); a blocked address gets 421 4.7.0 and the connection is
 * closed, a slowed-down account 454 4.7.0.
 */
import { normalizeIp } from "../../src/auth.ts";
import { decodeBase64, parsePlainResponse, reply, type Reply } from "./parser.ts";
import { authAvailable } from "./hello.ts";
import type { SmtpSession } from "./session.ts";

export type AuthStep = Reply | { cont: AuthContinuation; challenge: string } | { reply: Reply; close: true };
export type AuthContinuation = (line: string) => Promise<AuthStep>;

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

function blocked(s: SmtpSession): AuthStep {
  return { reply: reply(421, "4.7.0", `${s.hostname} Too many failed authentications, try again later`), close: true };
}

export async function handleAuth(s: SmtpSession, arg: string): Promise<AuthStep> {
  if (s.mode !== "submission") return reply(503, "5.5.1", "Error: authentication not enabled");
  if (!s.secure) return reply(530, "5.7.0", "Must issue a STARTTLS command first"); // RFC 3207 §4, RFC 4954 §4
  if (!s.helo || !s.esmtp) return reply(503, "5.5.1", "Error: send EHLO first");
  if (!authAvailable(s)) return reply(503, "5.5.1", "Error: already authenticated"); // RFC 4954 §4
  if (s.tx) return reply(503, "5.5.1", "Error: AUTH not allowed during a mail transaction");
  const ip = normalizeIp(s.remoteIp);
  if (s.ctx.authLimiter.isBlocked(ip)) return blocked(s);
  const [mech = "", initial] = arg.trim().split(/ +/, 2);
  switch (mech.toUpperCase()) {
    case "PLAIN": {
      if (initial === undefined) return { cont: (line) => plainResponse(s, line), challenge: "" };
      // RFC 4954 §4: "=" is an empty initial response
      return plainResponse(s, initial === "=" ? "" : initial);
    }
    case "LOGIN": {
      if (initial !== undefined) {
        const u = decodeBase64(initial);
        if (!u) return reply(501, "5.5.2", "Invalid base64 data");
        return loginPassword(s, Buffer.from(u).toString("utf8"));
      }
      return {
        challenge: b64("Username:"),
        cont: async (line) => {
          if (line.trim() === "*") return reply(501, "5.0.0", "Authentication cancelled");
          const u = decodeBase64(line);
          if (!u) return reply(501, "5.5.2", "Invalid base64 data");
          return loginPassword(s, Buffer.from(u).toString("utf8"));
        },
      };
    }
    case "":
      return reply(501, "5.5.4", "Syntax: AUTH mechanism");
    default:
      return reply(504, "5.5.4", "Unrecognized authentication type");
  }
}

function loginPassword(s: SmtpSession, user: string): AuthStep {
  return {
    challenge: b64("Password:"),
    cont: async (line) => {
      if (line.trim() === "*") return reply(501, "5.0.0", "Authentication cancelled");
      const p = decodeBase64(line);
      if (!p) return reply(501, "5.5.2", "Invalid base64 data");
      return check(s, user, Buffer.from(p).toString("utf8"));
    },
  };
}

async function plainResponse(s: SmtpSession, line: string): Promise<AuthStep> {
  if (line.trim() === "*") return reply(501, "5.0.0", "Authentication cancelled"); // RFC 4954 §4
  const bytes = decodeBase64(line);
  if (!bytes) return reply(501, "5.5.2", "Invalid base64 data");
  const creds = parsePlainResponse(bytes);
  if (!creds) return reply(501, "5.5.2", "Malformed PLAIN response");
  // RFC 4616 §2: acting as another identity (authzid) is not supported: it must be empty or the same user.
  if (creds.authzid && creds.authzid.toLowerCase() !== creds.authcid.toLowerCase()) {
    s.ctx.authLimiter.fail(normalizeIp(s.remoteIp));
    return fail();
  }
  return check(s, creds.authcid, creds.password);
}

async function check(s: SmtpSession, user: string, password: string): Promise<AuthStep> {
  const ip = normalizeIp(s.remoteIp);
  if (s.ctx.authLimiter.isBlocked(ip)) return blocked(s);
  // The shared throttle (src/auth-throttle.ts) reserves the attempt before the password hash is checked.
  const r = await s.ctx.login(user, password, s.remoteIp, { protocol: "smtp" });
  if (!r.ok && r.reason === "throttled") {
    if (s.ctx.authLimiter.isBlocked(ip)) return blocked(s);
    // RFC 4954 §6: 454 4.7.0 Temporary authentication failure (the account is being slowed down).
    return reply(454, "4.7.0", "Temporary authentication failure, try again later");
  }
  if (!r.ok) return fail();
  const acct = r.account;
  s.account = acct;
  s.log.info("authenticated", { user: acct.email });
  return reply(235, "2.7.0", "Authentication successful");
}

function fail(): AuthStep {
  // RFC 4954 §6: 535 5.7.8 for bad credentials.
  return reply(535, "5.7.8", "Error: authentication failed");
}
