/**
 * What every /admin/api route shares: the admin's session check (webmail
 * session + `account.admin`, read fresh on each request so a demoted or
 * disabled admin loses access at once), CSRF (the webmail's session token in
 * `X-CSRF-Token` plus the Origin / Fetch-Metadata check, OWASP CSRF cheat
 * sheet), errors in words (`{ error, code }`, never a stack), JSON bodies with
 * a size cap, and the audit line each admin action writes.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { getCookie } from "hono/cookie";
import { createHash } from "node:crypto";
import type { ServerContext } from "../../../src/context.ts";
import { QuotaExceededError, StorageFullError, StoreError, type Account } from "../../../storage/api.ts";
import type { AppEnv } from "../types.ts";
import type { ActiveSession, SessionManager } from "../webmail/session.ts";
import type { EventHub } from "../webmail/events.ts";
import type { Assets } from "../webmail/assets.ts";
import { sameOrigin, sessionCookieName } from "../webmail/auth.ts";

export interface AdminDeps {
  ctx: ServerContext;
  sessions: SessionManager;
  hub: EventHub;
  assets: Assets;
  /** When the server started (ms), for the overview's uptime. */
  startedAt: number;
}

/** A refusal meant for the admin: `message` is shown as is. */
export class AdminError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "AdminError";
  }
}

export function adminError(c: Context<AppEnv>, status: ContentfulStatusCode, code: string, message: string): Response {
  return c.json({ error: message, code }, status, { "cache-control": "no-store" });
}

/** Store rules become 4xx in words; anything else is logged and answered 500 without details. */
export function errorResponse(c: Context<AppEnv>, err: unknown, ctx: ServerContext): Response {
  if (err instanceof AdminError) return adminError(c, err.status, err.code, err.message);
  if (err instanceof StoreError) {
    const status = err.code === "NONEXISTENT" ? 404 : err.code === "ALREADYEXISTS" || err.code === "INUSE" || err.code === "CANNOT" ? 409 : 400;
    const what: Record<StoreError["code"], string> = {
      NONEXISTENT: "Not found",
      ALREADYEXISTS: "Already exists",
      CANNOT: "Not possible",
      INUSE: "Busy, try again",
      LIMIT: "Over a server limit",
      INVALID: "Not allowed",
      WRONG_CLASS: "Wrong kind of folder",
      MODIFIED: "Changed meanwhile, reload",
    };
    return adminError(c, status, err.code.toLowerCase(), `${what[err.code]}: ${err.message}.`);
  }
  if (err instanceof QuotaExceededError || err instanceof StorageFullError) {
    return adminError(c, 507, "storage_full", "The server is out of space for that. Free some space and try again.");
  }
  ctx.log.error("admin request failed", { method: c.req.method, path: c.req.path, err: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  return adminError(c, 500, "internal", "Something went wrong on the server. Please try again; if it keeps failing, the server log says why.");
}

type Handler = (c: Context<AppEnv>) => Promise<Response> | Response;

/** Wraps a route so that whatever it throws becomes an answer in the admin's error shape. */
export function route(deps: AdminDeps, fn: Handler): Handler {
  return async (c) => {
    try {
      return await fn(c);
    } catch (err) {
      return errorResponse(c, err, deps.ctx);
    }
  };
}

/** The account behind the session cookie, read fresh; null when signed out. */
export async function sessionAccount(deps: AdminDeps, c: Context<AppEnv>): Promise<{ account: Account; session: ActiveSession } | null> {
  const session = await deps.sessions.open(getCookie(c, sessionCookieName(c)));
  if (!session) return null;
  const account = await deps.ctx.store.getAccountById(session.record.accountId);
  if (!account || account.disabled) return null;
  return { account, session };
}

/** Session (401), admin flag (403), then CSRF + Origin for state-changing methods (403). */
export function requireAdmin(deps: AdminDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const found = await sessionAccount(deps, c);
    if (!found) return adminError(c, 401, "signed_out", "You are signed out. Sign in again at /login?next=/admin.");
    if (!found.account.admin) return adminError(c, 403, "not_admin", "This account is not an administrator. Ask an administrator to make it one (pillarbox user admin EMAIL on).");
    const m = c.req.method;
    if (m !== "GET" && m !== "HEAD") {
      if (!sameOrigin(c)) return adminError(c, 403, "cross_site", "This request came from another web site and was refused.");
      if (!deps.sessions.checkCsrf(found.session, c.req.header("x-csrf-token"))) {
        return adminError(c, 403, "csrf", "The page is out of date (missing or wrong X-CSRF-Token). Reload it and try again.");
      }
    }
    c.set("session", found.session);
    c.set("account", found.account);
    await next();
  };
}

/** Reads a JSON object body; anything else is a 400 in words. */
export async function readJson(c: Context<AppEnv>, maxBytes = 64 * 1024): Promise<Record<string, unknown>> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > maxBytes) throw new AdminError(413, "too_large", `That request is too large (at most ${maxBytes} bytes).`);
  const text = await c.req.text();
  if (text.length > maxBytes) throw new AdminError(413, "too_large", `That request is too large (at most ${maxBytes} bytes).`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AdminError(400, "bad_json", "The request body is not valid JSON.");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new AdminError(400, "bad_json", "The request body must be a JSON object.");
  return value as Record<string, unknown>;
}

/**
 * A path parameter (URL-encoded, as the contract says). Hono decodes it and
 * hands over a malformed escape undecoded, so a value that still has a `%`
 * that does not decode was malformed: a 400 in words, like a control character.
 */
export function pathParam(c: Context<AppEnv>, name: string, what: string): string {
  const v = c.req.param(name) ?? "";
  if (v.includes("%")) {
    try {
      decodeURIComponent(v);
    } catch {
      throw new AdminError(400, "bad_path", `The ${what} in the address is not validly URL-encoded.`);
    }
  }
  if (v === "" || v.length > 320 || /[\u0000-\u001f\u007f]/.test(v)) throw new AdminError(400, "bad_path", `The ${what} in the address is empty, too long or has control characters.`);
  return v;
}

/** The audit line of an admin action (src/activity.ts turns it into an entry of kind "admin"). */
export function audit(deps: AdminDeps, c: Context<AppEnv>, action: string, target: string, extra: Record<string, string | number | boolean | null> = {}): void {
  deps.ctx.log.info("admin action", { kind: "admin", protocol: "admin", account: c.get("account").email, ip: c.env.remoteIp, action, target, ...extra });
}

/** The opaque id the admin sees for a webmail session (never the session id itself). */
export function sessionViewId(sid: string): string {
  return createHash("sha256").update("pillarbox admin session view:" + sid).digest("base64url").slice(0, 22);
}

/** A small per-session limiter for expensive calls (the live DNS check). */
export class SessionRateLimit {
  private hits = new Map<string, number[]>();
  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  /** Counts one call; returns the ms to wait when over the limit, else 0. */
  take(key: string, now = Date.now()): number {
    const list = (this.hits.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (list.length >= this.max) {
      this.hits.set(key, list);
      return this.windowMs - (now - list[0]!);
    }
    list.push(now);
    this.hits.set(key, list);
    // Bounded memory: forget the oldest keys when many sessions called.
    if (this.hits.size > 10_000) for (const k of [...this.hits.keys()].slice(0, 1000)) this.hits.delete(k);
    return 0;
  }
}

export const ok = { ok: true } as const;
