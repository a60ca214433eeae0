/**
 * Connection and authentication commands (RFC 5804 §2.1–§2.4, §2.11, §2.14):
 * AUTHENTICATE (SASL PLAIN RFC 4616 and LOGIN, initial response, "*" abort),
 * STARTTLS, LOGOUT, CAPABILITY, NOOP, UNAUTHENTICATE.
 *
 * Authentication is IMAP's: the shared throttle and the account rules come
 * from ctx.login (protocol "managesieve": two-factor accounts use app
 * passwords), and PLAIN/LOGIN are offered only over TLS unless
 * imap.allow_plaintext_auth is set.
 */
import { Buffer } from "node:buffer";
import type { ReaderEvent, Token } from "./parser.ts";
import { utf8 } from "./parser.ts";
import { response, str } from "./response.ts";
import { MAX_AUTH_FAILURES, registerCommands, registerSaslHandler, type SieveSession } from "./session.ts";
import { upgradeSession } from "../../src/line-connection.ts";

/** A string argument as text (null: not a string, or not UTF-8). */
export function argText(t: Token | undefined): string | null {
  if (!t || t.kind !== "string") return null;
  return utf8(t.bytes);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function b64(text: string): string | null {
  if (!BASE64.test(text)) return null;
  return utf8(Buffer.from(text, "base64"));
}

async function fail(s: SieveSession, text: string): Promise<void> {
  s.authFailures++;
  s.no(text);
  if (s.authFailures >= MAX_AUTH_FAILURES) s.bye("Too many authentication failures");
}

async function finishLogin(s: SieveSession, user: string, pass: string): Promise<void> {
  const { deps } = s;
  if (deps.isBlocked(s.remoteIp)) {
    // RFC 5804 §1.3 TRYLATER: a temporary refusal, the client may retry without asking for a new password.
    s.no("Too many failed logins from your address; try again later", "TRYLATER");
    return;
  }
  // The shared throttle (src/auth-throttle.ts) reserves the attempt before the password hash is checked; the login
  // line in the log (kind "login" / "login-failed", protocol "managesieve") is written there, as for IMAP.
  const r = await deps.login(user, pass, s.remoteIp);
  if (s.closed) return;
  if (!r.ok && r.reason === "throttled") {
    s.no("Too many failed logins; try again later", "TRYLATER");
    return;
  }
  if (!r.ok) {
    await fail(s, "Authentication failed");
    return;
  }
  s.loggedIn(r.account);
  s.ok("Logged in");
}

/** RFC 4616 §2: [authzid] NUL authcid NUL passwd. */
async function plain(s: SieveSession, decoded: string): Promise<void> {
  const parts = decoded.split("\0");
  if (parts.length !== 3 || parts[1] === "" || parts[2] === "") return fail(s, "Malformed PLAIN response");
  const [authz, authc, password] = parts as [string, string, string];
  // No proxy authorization: an authzid must name the same user (RFC 4616 §2).
  if (authz !== "" && authz.toLowerCase() !== authc.toLowerCase()) return fail(s, "Authorization identity not permitted");
  await finishLogin(s, authc, password);
}

/** The client's answer to a challenge (RFC 5804 §2.1: a string, or "*" to abort). */
async function saslResponse(s: SieveSession, ev: ReaderEvent): Promise<void> {
  const ex = s.sasl!;
  s.sasl = null;
  if (ev.type !== "line" || ev.tokens.length !== 1 || ev.tokens[0]!.kind !== "string" || ev.oversize) {
    return fail(s, "Malformed SASL response: expected one string");
  }
  const text = argText(ev.tokens[0]);
  if (text === "*") {
    s.no("Authentication cancelled");
    return;
  }
  const decoded = text === null ? null : b64(text);
  if (decoded === null) return fail(s, "Invalid base64 in the SASL response");
  if (ex.mech === "PLAIN") return plain(s, decoded);
  if (ex.step === 0) {
    s.sasl = { mech: "LOGIN", step: 1, user: decoded };
    s.send(str(Buffer.from("Password:").toString("base64")) + "\r\n");
    return;
  }
  await finishLogin(s, ex.user ?? "", decoded);
}
registerSaslHandler(saslResponse);

registerCommands({
  AUTHENTICATE: {
    state: "notauth",
    async fn(s, args) {
      const mech = argText(args[0])?.toUpperCase();
      if (!mech || args.length > 2) return s.bad('Syntax: AUTHENTICATE "mechanism" ["initial response"]');
      if (mech !== "PLAIN" && mech !== "LOGIN") return s.no(`Unsupported SASL mechanism ${mech.slice(0, 32)}`);
      // RFC 5804 §1.3 ENCRYPT-NEEDED: the mechanism sends the password in the clear; STARTTLS first.
      if (!s.authAllowed) return s.no("Plaintext authentication needs TLS; use STARTTLS first", "ENCRYPT-NEEDED");
      if (s.deps.isBlocked(s.remoteIp)) return s.no("Too many failed logins from your address; try again later", "TRYLATER");
      if (args.length === 2) {
        const ir = argText(args[1]);
        const decoded = ir === null ? null : b64(ir);
        if (decoded === null) return fail(s, "Invalid base64 in the initial response");
        if (mech === "PLAIN") return plain(s, decoded);
        // LOGIN with an initial response: it is the user name.
        s.sasl = { mech: "LOGIN", step: 1, user: decoded };
        s.send(str(Buffer.from("Password:").toString("base64")) + "\r\n");
        return;
      }
      // RFC 5804 §2.1: a challenge is a string on a line of its own; PLAIN's first one is empty.
      s.sasl = { mech, step: 0 };
      s.send((mech === "PLAIN" ? '""' : str(Buffer.from("Username:").toString("base64"))) + "\r\n");
    },
  },
  STARTTLS: {
    state: "notauth",
    async fn(s, args) {
      if (args.length) return s.bad("STARTTLS takes no arguments");
      if (s.secure) return s.no("TLS is already active");
      if (!s.deps.options.tlsAvailable) return s.no("TLS is not available");
      // Anything pipelined after STARTTLS came in the clear and must not be acted on.
      if (!(await upgradeSession(s, response("OK", "Begin TLS negotiation now")))) return;
      s.secure = true;
      s.sasl = null;
      // RFC 5804 §2.2: after the handshake the server re-issues the capability listing (SASL may now list mechanisms).
      s.send(s.capabilityLines() + response("OK", "TLS negotiation successful"));
    },
  },
  LOGOUT: {
    state: "any",
    fn(s, args) {
      if (args.length) return s.bad("LOGOUT takes no arguments");
      // RFC 5804 §2.3: OK, then the server closes the connection.
      s.ok("Logout completed");
      s.end();
    },
  },
  CAPABILITY: {
    state: "any",
    fn(s, args) {
      if (args.length) return s.bad("CAPABILITY takes no arguments");
      s.send(s.capabilityLines() + response("OK", "Capability completed"));
    },
  },
  NOOP: {
    state: "any",
    fn(s, args) {
      if (args.length > 1) return s.bad('Syntax: NOOP ["tag"]');
      if (args.length === 1) {
        const tag = argText(args[0]);
        if (tag === null) return s.bad("NOOP takes a string");
        // RFC 5804 §2.13: the tag comes back in a TAG response code.
        return s.ok("Done", { tag });
      }
      s.ok("Done");
    },
  },
  UNAUTHENTICATE: {
    state: "auth",
    fn(s, args) {
      if (args.length) return s.bad("UNAUTHENTICATE takes no arguments");
      // RFC 5804 §2.14.1: back to the non-authenticated state; TLS stays.
      s.loggedOut();
      s.ok("Unauthenticated");
    },
  },
});
