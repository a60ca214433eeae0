/**
 * AUTHORIZATION state commands: USER/PASS (RFC 1939 §7), AUTH (RFC 5034,
 * SASL PLAIN per RFC 4616), STLS (RFC 2595 §4). APOP is not offered.
 *
 * Response codes: [AUTH] for bad credentials, [SYS/TEMP] while the IP is
 * locked out (RFC 3206 §4: a temporary condition, try later without asking
 * the user for a new password), [IN-USE] and [LOGIN-DELAY] (RFC 2449 §8.1).
 */
import { Buffer } from "node:buffer";
import type { Command } from "./parser.ts";
import type { Pop3Session } from "./session.ts";
import { Maildrop } from "./maildrop.ts";
import { upgradeSession } from "../../src/line-connection.ts";

type Handler = (s: Pop3Session, cmd: Command) => Promise<void> | void;

/** Failed authentications on one connection before we hang up (the per-IP limiter covers the rest). */
export const MAX_AUTH_FAILURES = 3;

function plaintextRefused(s: Pop3Session): boolean {
  if (s.secure || s.deps.options.allowPlaintextAuth) return false;
  // RFC 2595 §2.2: don't take cleartext passwords on an unprotected connection.
  s.send("-ERR [AUTH] Plaintext authentication disallowed on non-secure connections; use STLS first");
  return true;
}

function user(s: Pop3Session, cmd: Command): void {
  if (cmd.args.length !== 1 || cmd.args[0] === "") return s.bad("-ERR USER takes exactly one argument");
  if (plaintextRefused(s)) return;
  s.user = cmd.args[0]!;
  // Always +OK: telling which names exist would help guessing (RFC 1939 §7 allows either).
  s.send("+OK Send your password");
}

async function pass(s: Pop3Session, cmd: Command): Promise<void> {
  const name = s.user;
  s.user = null;
  if (name === null) return s.bad("-ERR USER first");
  // RFC 1939 §7: the password is the whole rest of the line; it may contain spaces.
  if (cmd.rest === "") return s.bad("-ERR PASS takes one argument");
  if (plaintextRefused(s)) return;
  await login(s, name, cmd.rest);
}

async function auth(s: Pop3Session, cmd: Command): Promise<void> {
  const offered = s.secure || s.deps.options.allowPlaintextAuth;
  if (cmd.args.length === 0) {
    // Not in RFC 5034, but RFC 1734-era clients (and Outlook) probe with a bare AUTH; list the mechanisms.
    await s.sendMulti("+OK Supported mechanisms", offered ? ["PLAIN"] : []);
    return;
  }
  if (cmd.args.length > 2) return s.bad("-ERR Syntax: AUTH mechanism [initial-response]");
  const mech = cmd.args[0]!.toUpperCase();
  if (mech !== "PLAIN") {
    s.send("-ERR Unsupported authentication mechanism");
    return;
  }
  if (plaintextRefused(s)) return;
  if (cmd.args.length === 2) {
    // RFC 5034 §4: "=" is an initial response of zero length.
    const ir = cmd.args[1]!;
    await plainResponse(s, ir === "=" ? "" : ir);
    return;
  }
  s.sasl = { mech: "PLAIN" };
  s.reader.saslMode = true;
  // RFC 5034 §4: an empty challenge is "+ " followed by CRLF.
  s.send("+ ");
}

/** The client's line during a SASL exchange (RFC 5034 §4). */
export async function continueSasl(s: Pop3Session, line: string): Promise<void> {
  s.sasl = null;
  s.reader.saslMode = false;
  if (line === "*") {
    s.send("-ERR Authentication cancelled");
    return;
  }
  await plainResponse(s, line);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

async function plainResponse(s: Pop3Session, b64: string): Promise<void> {
  if (!BASE64.test(b64)) {
    s.send("-ERR [AUTH] Invalid base64 data");
    return;
  }
  // RFC 4616 §2: [authzid] NUL authcid NUL passwd, UTF-8.
  const parts = Buffer.from(b64, "base64").toString("utf8").split("\0");
  if (parts.length !== 3 || parts[1] === "" || parts[2] === "") {
    await fail(s, "-ERR [AUTH] Malformed PLAIN response");
    return;
  }
  const [authz, authc, password] = parts as [string, string, string];
  // No proxy authorization: an authzid must name the same user (RFC 4616 §2).
  if (authz !== "" && authz.toLowerCase() !== authc.toLowerCase()) {
    await fail(s, "-ERR [AUTH] Authorization identity not permitted");
    return;
  }
  await login(s, authc, password);
}

async function fail(s: Pop3Session, line: string): Promise<void> {
  s.authFailures++;
  s.send(line);
  if (s.authFailures >= MAX_AUTH_FAILURES) {
    s.send("-ERR Too many authentication failures, closing connection");
    s.end();
  }
}

/** Verifies the credentials, enforces LOGIN-DELAY, takes the maildrop lock and opens INBOX. */
async function login(s: Pop3Session, name: string, password: string): Promise<void> {
  const { deps } = s;
  if (deps.isBlocked(s.remoteIp)) {
    s.send("-ERR [SYS/TEMP] Too many failed logins from your address; try again later");
    return;
  }
  // The shared throttle (src/auth-throttle.ts) reserves the attempt before the password hash is checked.
  const r = deps.login ? await deps.login(name, password, s.remoteIp) : null;
  const account = r ? (r.ok ? r.account : null) : await deps.authenticate(name, password, s.remoteIp);
  if (s.closed) return;
  if (r && !r.ok && r.reason === "throttled") {
    // RFC 3206 §4 SYS/TEMP: a temporary refusal (too many failures for this account or address).
    s.send("-ERR [SYS/TEMP] Too many failed logins; try again later");
    return;
  }
  if (!account) {
    await fail(s, "-ERR [AUTH] Authentication failed");
    return;
  }
  const now = (deps.now ?? Date.now)();
  const delay = deps.options.loginDelaySeconds;
  if (delay !== null && delay > 0) {
    const last = deps.loginTimes.get(account.id);
    // RFC 2449 §8.1.1: refuse a login within the advertised delay, after the credentials checked out.
    if (last !== undefined && now - last < delay * 1000) {
      s.send("-ERR [LOGIN-DELAY] Minimum time between logins not yet reached");
      return;
    }
  }
  const release = await deps.locks.acquire(account.id);
  if (s.closed) {
    release?.();
    return;
  }
  if (!release) {
    // RFC 2449 §8.1.2.
    s.send("-ERR [IN-USE] Mailbox is in use by another POP3 session");
    return;
  }
  let drop: Maildrop | null;
  try {
    drop = await Maildrop.open(deps.store, account.id, deps.sizes, deps.log, deps.recordedSizes);
  } catch (err) {
    release();
    deps.log.error("pop3 could not open the maildrop", { account: account.email, err });
    if (!s.closed) s.send("-ERR [SYS/TEMP] Could not open the mailbox; try again later");
    return;
  }
  if (s.closed) {
    drop?.close();
    release();
    return;
  }
  if (!drop) {
    release();
    s.send("-ERR [SYS/PERM] Mailbox has no INBOX");
    return;
  }
  const opened = drop;
  s.releaseLock = () => {
    opened.close();
    release();
  };
  s.account = account;
  s.maildrop = drop;
  s.state = "TRANSACTION";
  deps.loginTimes.set(account.id, now);
  deps.log.info("pop3 login", { account: account.email, ip: s.remoteIp, tls: s.secure, messages: drop.messages.length });
  const st = drop.stat();
  s.send(`+OK Logged in, ${st.count} messages (${st.size} octets)`);
}

function apop(s: Pop3Session): void {
  // APOP needs the cleartext password on the server; we keep only hashes.
  s.send("-ERR APOP not supported; use USER/PASS or AUTH PLAIN over TLS");
}

async function stls(s: Pop3Session, cmd: Command): Promise<void> {
  if (cmd.args.length) return s.bad("-ERR STLS takes no arguments");
  if (s.secure) {
    s.send("-ERR Already using TLS");
    return;
  }
  if (!s.deps.options.tlsAvailable) {
    s.send("-ERR TLS not available");
    return;
  }
  // RFC 2595 §4: anything the client sent after STLS was sent in the clear
  // and must not be acted on once TLS is up.
  if (!(await upgradeSession(s, "+OK Begin TLS negotiation now\r\n"))) return;
  s.secure = true;
  // A fresh start: nothing from the cleartext phase carries over.
  s.user = null;
  s.sasl = null;
  s.reader.saslMode = false;
}

export const AUTHORIZATION_COMMANDS: Record<string, Handler> = {
  USER: user,
  PASS: pass,
  AUTH: auth,
  APOP: apop,
  STLS: stls,
};
