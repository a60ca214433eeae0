/**
 * The MAPI/HTTP endpoints, /mapi/emsmdb/ and /mapi/nspi/ (any letter case,
 * with or without the trailing slash, `?MailboxId=` in the query):
 * MS-OXCMAPIHTTP §2.2 (messages) and §3.2 (server role).
 *
 * Per request: HTTP Basic authentication through the shared throttle
 * (account or app password; NTLM is not offered, so ruler needs --basic),
 * the common request headers (§2.2.3.1), a bounded body, the session
 * context and request sequence cookies (§3.2.5.1), then the service
 * (types.ts) for the request type (§2.2.3.3.1). Every refusal is an
 * X-ResponseCode (§2.2.3.3.3) on an HTTP 200, as Exchange answers, except
 * where HTTP itself must speak: 401 (no or wrong credentials), 503 (login
 * throttled), 413 (a body over the limit, so the connection is closed
 * instead of read to the end).
 *
 * Connect, Bind, Disconnect, Unbind and PING are answered in one piece (the
 * first two set the cookies of the session they make). Execute, the NSPI
 * calls and NotificationWait stream (§3.2.5.2): PROCESSING at once, PENDING
 * every X-PendingPeriod while the service works, then DONE, the additional
 * headers and the body.
 */
import type { Account } from "../../../storage/api.ts";
import type { ServerContext } from "../../../src/context.ts";
import { BodyTooLarge, readBody } from "../body.ts";
import { basicCredentials } from "../eas/handler.ts";
import { endpoints } from "../autodiscover/endpoints.ts";
import { mailboxGuid } from "./identity.ts";
import { serialized, sessionsFor, wellFormedToken, sameToken, type Endpoint, type Session, type SessionRegistry } from "./session.ts";
import { CONTEXT_COOKIE, cookieValues, finalChunk, MAPI_CONTENT_TYPE, requestType, SEQUENCE_COOKIE, serverApplication, setCookie } from "./transport-frame.ts";
import { runService, streamed, type Call } from "./transport-dispatch.ts";
import { emsmdbService, MapiHttpError, nspiService, ResponseCode, type MapiContext, type ResponseCodeValue } from "./types.ts";

/** Bounds of the transport (tests lower them). */
export const transportLimits = {
  /** Largest request body: an Execute's ROP buffers (at most 32 KiB each, MS-OXCRPC §3.1.4.2) and an auxiliary buffer, with room. */
  maxBodyBytes: 1024 * 1024,
  /** X-PendingPeriod (§2.2.3.3.4): how often a streamed response gets a PENDING keep-alive. */
  pendingPeriodMs: 15_000,
  /** The longest a NotificationWait is held before the service is told to answer (c.signal aborts). */
  notificationWaitMs: 5 * 60_000,
};

/** Which endpoint a path is: emsmdb, nspi, "other" for the rest of /mapi/ (X-ResponseCode 3), null when not ours. */
export function mapiPath(pathname: string): { endpoint: Endpoint | "other"; cookiePath: string } | null {
  const p = pathname.replace(/\/+$/, "");
  const l = p.toLowerCase();
  if (l === "/mapi/emsmdb") return { endpoint: "emsmdb", cookiePath: p };
  if (l === "/mapi/nspi") return { endpoint: "nspi", cookiePath: p };
  if (l === "/mapi" || l.startsWith("/mapi/")) return { endpoint: "other", cookiePath: "/mapi" };
  return null;
}

/** A header value we echo (X-RequestId, X-ClientInfo): visible ASCII, bounded; null when unusable. */
function echoable(v: string | null): string | null {
  if (v === null) return null;
  const t = v.trim();
  return t.length > 0 && t.length <= 512 && /^[\x20-\x7e]+$/.test(t) ? t : null;
}

interface Reply {
  req: Request;
  type: string;
  startedAt: number;
  sessions: SessionRegistry;
}

/** Response headers every MAPI/HTTP answer carries (§2.2.3.2, §2.2.3.3). */
function baseHeaders(r: Reply, code: ResponseCodeValue, extra: [string, string][] = []): Headers {
  const h = new Headers();
  h.set("content-type", MAPI_CONTENT_TYPE);
  h.set("cache-control", "private");
  if (r.type) h.set("x-requesttype", r.type);
  const id = echoable(r.req.headers.get("x-requestid"));
  if (id) h.set("x-requestid", id);
  const ci = echoable(r.req.headers.get("x-clientinfo"));
  if (ci) h.set("x-clientinfo", ci);
  h.set("x-responsecode", String(code));
  h.set("x-serverapplication", serverApplication());
  h.set("x-pendingperiod", String(transportLimits.pendingPeriodMs));
  h.set("x-expirationinfo", String(r.sessions.limits.expirationMs));
  for (const [k, v] of extra) h.append(k, v);
  return h;
}

/** A whole (not streamed) answer: DONE, additional headers, body. A refusal's body is a line of text for the log of a human. */
function reply(r: Reply, code: ResponseCodeValue, body: Uint8Array | string, extra: [string, string][] = [], status = 200): Response {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body + "\r\n") : body;
  return new Response(finalChunk(code, r.startedAt, Date.now(), bytes), { status, headers: baseHeaders(r, code, extra) });
}

function unauthorized(): Response {
  return new Response("Authentication required\n", {
    status: 401,
    headers: { "www-authenticate": 'Basic realm="Pillarbox MAPI", charset="UTF-8"', "content-type": "text/plain; charset=utf-8", "x-responsecode": String(ResponseCode.AnonymousNotAllowed) },
  });
}

/** MailboxId=<guid>@<domain> (any case of the name) must name the caller's own mailbox when present. */
function mailboxMatches(url: URL, account: Account): boolean {
  const v = [...url.searchParams].find(([n]) => n.toLowerCase() === "mailboxid")?.[1];
  if (v === undefined) return true;
  // The mailbox GUID form autodiscover writes, or (as Exchange also takes) the mailbox's own address.
  if (v.toLowerCase() === account.email) return true;
  const at = v.indexOf("@");
  return (at < 0 ? v : v.slice(0, at)).toLowerCase() === mailboxGuid(account);
}

export async function handleMapi(req: Request, remoteIp: string, server: ServerContext): Promise<Response | null> {
  const url = new URL(req.url);
  const where = mapiPath(url.pathname);
  if (!where) return null;
  const sessions = sessionsFor(server);
  const r: Reply = { req, type: "", startedAt: Date.now(), sessions };
  const method = req.method.toUpperCase();
  if (method !== "POST" && method !== "GET" && method !== "HEAD") return reply(r, ResponseCode.InvalidVerb, "Only POST is accepted here.", [["allow", "GET, POST"]], 405);

  const cred = basicCredentials(req.headers.get("authorization"));
  if (!cred) return unauthorized();
  const auth = await server.login(cred.user, cred.pass, remoteIp, { protocol: "mapi" });
  if (!auth.ok && auth.reason === "throttled") {
    // RFC 9110 §15.6.4: a temporary refusal, so the client backs off instead of asking for a new password.
    return new Response(null, { status: 503, headers: { "retry-after": String(Math.max(1, Math.ceil(auth.retryAfterMs / 1000))) } });
  }
  if (!auth.ok) return unauthorized();
  const account = auth.account;

  if (method !== "POST") {
    // Exchange answers a browser's GET with a page; it tells a person they reached the endpoint with working credentials.
    return new Response("<!DOCTYPE html><title>MAPI over HTTP</title><p>Pillarbox MAPI over HTTP endpoint: clients POST application/mapi-http requests here.</p>\n", {
      status: 200,
      headers: { "content-type": "text/html; charset=utf-8", "cache-control": "private" },
    });
  }
  const endpoint = where.endpoint;
  if (endpoint === "other") return reply(r, ResponseCode.InvalidPath, "The MAPI/HTTP endpoints are /mapi/emsmdb/ and /mapi/nspi/.");
  if (!mailboxMatches(url, account)) return reply(r, ResponseCode.NoPrivilege, "MailboxId names a mailbox this account may not open.");

  // §2.2.3.1: X-RequestType, X-RequestId and X-ClientInfo are required on every request.
  const typeHeader = req.headers.get("x-requesttype");
  if (typeHeader === null) return reply(r, ResponseCode.MissingHeader, "X-RequestType is missing.");
  const type = requestType(endpoint, typeHeader);
  if (!type) return reply(r, ResponseCode.InvalidRequestType, `X-RequestType is not a ${endpoint} request type.`);
  r.type = type;
  if (req.headers.get("x-requestid") === null || req.headers.get("x-clientinfo") === null) return reply(r, ResponseCode.MissingHeader, "X-RequestId and X-ClientInfo are required.");
  if (!echoable(req.headers.get("x-requestid")) || !echoable(req.headers.get("x-clientinfo"))) return reply(r, ResponseCode.InvalidHeader, "X-RequestId or X-ClientInfo is not a short printable value.");
  // §2.2.2.1: the request body is application/mapi-http (octet-stream accepted: the bytes are the same).
  const ct = (req.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (ct !== MAPI_CONTENT_TYPE && ct !== "application/octet-stream") return reply(r, ResponseCode.InvalidHeader, "Content-Type must be application/mapi-http.");

  let body: Uint8Array;
  try {
    body = await readBody(req, transportLimits.maxBodyBytes);
  } catch (e) {
    if (e instanceof BodyTooLarge) return reply(r, ResponseCode.TooLarge, `The request is larger than ${e.limit} bytes.`, [], 413);
    return reply(r, ResponseCode.InvalidRequestBody, "The request body could not be read.");
  }

  const log = server.log.child({ proto: "mapi", endpoint, type });
  const origin = endpoints(server.config, url).httpsBase;
  const context = (signal: AbortSignal): MapiContext => ({ server, store: server.store, account, log, signal, now: Date.now, origin });

  // §2.2.3.3.1 PING: no body either way; it proves the endpoint and the credentials.
  if (type === "PING") return reply(r, ResponseCode.Success, new Uint8Array(0));

  const svc = endpoint === "emsmdb" ? emsmdbService() : nspiService();
  if (!svc) return reply(r, ResponseCode.EndpointDisabled, `The ${endpoint} service is not available.`);

  if (type === "Connect" || type === "Bind") return open(r, endpoint, where.cookiePath, account, body, context(req.signal));

  // Everything else runs inside a Session Context (§3.2.5.1).
  const found = findSession(r, endpoint, account);
  if (found instanceof Response) return found;
  const s = found;
  const waits = type === "NotificationWait";
  if (!waits) {
    const seqs = cookieValues(req.headers.get("cookie"), SEQUENCE_COOKIE);
    if (seqs.length === 0) return reply(r, ResponseCode.MissingCookie, "The request sequence cookie is missing.");
    // A stale sequence: a replayed or concurrent request, which the session must not run twice (§3.2.5.1).
    if (!seqs.some((v) => sameToken(v, s.sequence))) return reply(r, ResponseCode.InvalidSequence, "The request sequence cookie is not the current one.");
  }
  // NotificationWait runs beside the session's other requests, so it neither checks nor moves the sequence.
  const seq = sessions.touch(s, !waits);
  const cookies: [string, string][] = waits ? [] : [["set-cookie", setCookie(SEQUENCE_COOKIE, seq, where.cookiePath)]];

  if (type === "Disconnect" || type === "Unbind") {
    const call: Call = (c) => (type === "Disconnect" ? emsmdbService()!.disconnect(c, s.state, body) : nspiService()!.unbind(c, s.state, body));
    const out = await serialized(s, () => runService(call, context(req.signal), log));
    // The service let go of its state whatever it answered: the session ends without a dispose.
    sessions.end(s, false);
    const gone: [string, string][] = [
      ["set-cookie", setCookie(CONTEXT_COOKIE, "", where.cookiePath)],
      ["set-cookie", setCookie(SEQUENCE_COOKIE, "", where.cookiePath)],
    ];
    return reply(r, out.code, out.body, gone);
  }

  const signals = [req.signal, s.ended.signal];
  if (waits) signals.push(AbortSignal.timeout(transportLimits.notificationWaitMs));
  const c = context(AbortSignal.any(signals));
  let call: Call;
  // NotificationWait runs beside the other calls (it waits); everything else one at a time, and not
  // on a session that ended (Disconnect, expiry) while the call waited for its turn.
  const live = <T>(fn: () => Promise<T>) =>
    serialized(s, () => {
      if (s.ended.signal.aborted) throw new MapiHttpError(ResponseCode.ContextNotFound, "The session ended before this request ran.");
      return fn();
    });
  if (type === "Execute") call = (x) => live(() => emsmdbService()!.execute(x, s.state, body));
  else if (type === "NotificationWait") call = (x) => emsmdbService()!.notificationWait(x, s.state, body);
  else {
    const nspiType = type;
    call = (x) => live(() => nspiService()!.call(x, s.state, nspiType, body));
  }
  return new Response(streamed(call, c, log, r.startedAt, transportLimits.pendingPeriodMs), { status: 200, headers: baseHeaders(r, ResponseCode.Success, cookies) });
}

/** Connect / Bind: the service makes the state, then the session and its two cookies. */
async function open(r: Reply, endpoint: Endpoint, cookiePath: string, account: Account, body: Uint8Array, c: MapiContext): Promise<Response> {
  // A client that reconnects with its old cookie gives that session up (it would only wait for expiry).
  for (const old of cookieValues(r.req.headers.get("cookie"), CONTEXT_COOKIE)) {
    const s = wellFormedToken(old) ? r.sessions.find(old) : null;
    if (s && s.accountId === account.id && s.endpoint === endpoint) r.sessions.end(s, true);
  }
  let state: object | null = null;
  const svcE = emsmdbService();
  const svcN = nspiService();
  const out = await runService(async (x) => {
    const res = endpoint === "emsmdb" ? await svcE!.connect(x, body) : await svcN!.bind(x, body);
    state = res.state;
    return res.body;
  }, c, c.log);
  if (out.code !== ResponseCode.Success || state === null) return reply(r, out.code, out.body);
  const st: object = state;
  const dispose = endpoint === "emsmdb" ? svcE!.dispose : svcN!.dispose;
  const s = r.sessions.create(endpoint, account.id, st, dispose ? () => dispose.call(endpoint === "emsmdb" ? svcE : svcN, st) : null);
  return reply(r, ResponseCode.Success, out.body, [
    ["set-cookie", setCookie(CONTEXT_COOKIE, s.id, cookiePath)],
    ["set-cookie", setCookie(SEQUENCE_COOKIE, s.sequence, cookiePath)],
  ]);
}

/** The Session Context the request's cookie names, or the refusal (§3.2.5.1; X-ResponseCode 13, 6, 10, 11). */
function findSession(r: Reply, endpoint: Endpoint, account: Account): Session | Response {
  const values = cookieValues(r.req.headers.get("cookie"), CONTEXT_COOKIE);
  if (values.length === 0) return reply(r, ResponseCode.MissingCookie, "The session context cookie is missing: Connect or Bind first.");
  const usable = values.filter(wellFormedToken);
  if (usable.length === 0) return reply(r, ResponseCode.InvalidContextCookie, "The session context cookie is not one this server gave.");
  let other: Session | null = null;
  for (const v of usable) {
    const s = r.sessions.find(v);
    if (!s || s.endpoint !== endpoint) continue;
    if (s.accountId === account.id) return s;
    other = s;
  }
  if (other) return reply(r, ResponseCode.NoPrivilege, "The session belongs to another account.");
  return reply(r, ResponseCode.ContextNotFound, "The session has ended or expired: Connect or Bind again.");
}
