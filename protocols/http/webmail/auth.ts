/**
 * Sign-in, sign-out, the session middleware and CSRF protection.
 *
 * CSRF defence (OWASP CSRF cheat sheet, "signed double-submit" + "verifying
 * origin with standard headers"): every state-changing request must
 *  1. come from our own origin: `Origin` equal to this server's origin, or,
 *     when a browser sends no Origin, `Sec-Fetch-Site: same-origin`;
 *  2. carry `X-CSRF-Token` equal to the token bound to the session
 *     (HMAC of the session id; a cross-site page can neither read it nor the
 *     cookie). The login form uses a pre-session random token in a cookie and
 *     a hidden field instead (login CSRF).
 * The session cookie is also SameSite=Strict, so a cross-site request does
 * not carry it at all.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Context, Hono, MiddlewareHandler } from "hono";
import { getCookie, setCookie, deleteCookie } from "hono/cookie";
import type { ServerContext } from "../../../src/context.ts";
import { normalizeLogin } from "../../../src/auth-throttle.ts";
import type { AppEnv } from "../types.ts";
import { PAGE_CSP } from "../headers.ts";
import { DEVICE_COOKIE, DEVICE_COOKIE_PLAIN, SESSION_COOKIE, SESSION_COOKIE_PLAIN, type SessionManager } from "./session.ts";
import { apiError } from "./util.ts";
import { escapeHtml } from "./mime.ts";
import type { EventHub } from "./events.ts";
import type { Assets } from "./assets.ts";
import { pageLang, pageText, tooManyText, type PageLang } from "./login-i18n.ts";
import { PendingSignIns, verifySecondFactor } from "../../../src/auth-factors.ts";
import type { Account } from "../../../storage/api.ts";

const LOGIN_CSRF_COOKIE = "__Host-pb_login";
const LOGIN_CSRF_COOKIE_PLAIN = "pb_login";

export function sessionCookieName(c: Context<AppEnv>): string {
  return c.env.scheme === "https" ? SESSION_COOKIE : SESSION_COOKIE_PLAIN;
}

function deviceCookieName(c: Context<AppEnv>): string {
  return c.env.scheme === "https" ? DEVICE_COOKIE : DEVICE_COOKIE_PLAIN;
}

function loginCookieName(c: Context<AppEnv>): string {
  return c.env.scheme === "https" ? LOGIN_CSRF_COOKIE : LOGIN_CSRF_COOKIE_PLAIN;
}

function cookieOpts(c: Context<AppEnv>, maxAgeSec?: number) {
  return {
    path: "/",
    httpOnly: true,
    secure: c.env.scheme === "https",
    sameSite: "Strict" as const,
    ...(maxAgeSec !== undefined ? { maxAge: maxAgeSec } : {}),
  };
}

/**
 * Is this request from a page of our own origin? (Origin, else Fetch Metadata; see file comment.)
 * With `Referrer-Policy: no-referrer` a browser sends `Origin: null` on form posts (Fetch §3.1,
 * "serializing a request origin"), so "null" defers to `Sec-Fetch-Site`, which pages cannot set.
 */
export function sameOrigin(c: Context<AppEnv>): boolean {
  const origin = c.req.header("origin");
  const self = new URL(c.req.url).origin;
  if (origin !== undefined && origin !== "null") return origin === self;
  return c.req.header("sec-fetch-site") === "same-origin";
}

export interface AuthDeps {
  ctx: ServerContext;
  sessions: SessionManager;
  hub: EventHub;
  assets: Assets;
}

/** Loads the session for /api/*; 401 in words when there is none. */
export function requireSession(deps: AuthDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const session = await deps.sessions.open(getCookie(c, sessionCookieName(c)));
    if (!session) return apiError(c, 401, "signed_out", "You are signed out. Please sign in again.");
    const account = await deps.ctx.store.getAccountById(session.record.accountId);
    if (!account || account.disabled) {
      await deps.sessions.destroy(session.record.id);
      return apiError(c, 401, "signed_out", account ? "This account is disabled." : "This account no longer exists.");
    }
    c.set("session", session);
    c.set("account", account);
    await next();
  };
}

/** Rejects state-changing requests that are cross-site or lack the session's CSRF token. */
export function requireCsrf(deps: AuthDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const m = c.req.method;
    if (m === "GET" || m === "HEAD" || m === "OPTIONS") return next();
    if (!sameOrigin(c)) return apiError(c, 403, "cross_site", "This request came from another web site and was refused.");
    if (!deps.sessions.checkCsrf(c.get("session"), c.req.header("x-csrf-token"))) {
      return apiError(c, 403, "csrf", "Your page is out of date. Reload the page and try again.");
    }
    await next();
  };
}

export function mountAuth(app: Hono<AppEnv>, deps: AuthDeps): void {
  const { ctx, sessions } = deps;

  app.get("/login", async (c) => {
    const next = safeNext(c.req.query("next"));
    const existing = await sessions.open(getCookie(c, sessionCookieName(c)));
    if (existing) return c.redirect(next, 302);
    return loginPage(c, deps, { email: "", error: null, status: 200, next });
  });

  app.post("/login", async (c) => {
    // Login CSRF: the form must come from our page (Origin) and carry the token from the cookie we set.
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const email = typeof form.email === "string" ? form.email.trim().toLowerCase().slice(0, 320) : "";
    const password = typeof form.password === "string" ? form.password.slice(0, 1024) : "";
    const token = typeof form.csrf === "string" ? form.csrf : "";
    const next = safeNext(typeof form.next === "string" ? form.next : undefined);
    const cookieToken = getCookie(c, loginCookieName(c)) ?? "";
    if (!sameOrigin(c) || !token || !safeEqual(token, cookieToken)) {
      return loginPage(c, deps, { email, next, error: pageText(langOf(c), "expired"), status: 403 });
    }
    const ip = c.env.remoteIp;
    if (!email || !password) return loginPage(c, deps, { email, next, error: pageText(langOf(c), "missing"), status: 400 });
    // The shared throttle (src/auth-throttle.ts): per IP a hard limit; per account a progressive delay
    // from which this browser is exempt when it carries a device cookie of this account.
    const trusted = await sessions.isKnownDevice(getCookie(c, deviceCookieName(c)), normalizeLogin(email));
    const result = await ctx.login(email, password, ip, { trusted, protocol: "webmail" });
    if (!result.ok) {
      if (result.reason === "throttled") return loginPage(c, deps, { email, next, error: tooManyText(langOf(c), result.retryAfterMs), status: 429, retryAfter: result.retryAfterMs });
      if (result.reason === "disabled") return loginPage(c, deps, { email, next, error: pageText(langOf(c), "disabled"), status: 403 });
      if (result.reason === "second-factor") {
        // The password was right; the session starts only after a code (src/auth-factors.ts).
        const challenge = pending.create({ accountId: result.account.id, email: result.account.email, next, trusted });
        return codePage(c, deps, { challenge, error: null, status: 200 });
      }
      return loginPage(c, deps, { email, next, error: pageText(langOf(c), "wrong"), status: 401 });
    }
    return startSession(c, result.account, next);
  });

  // Two-factor sign-in, second step: a TOTP code (RFC 6238) or a recovery code for the pending sign-in.
  const pending = new PendingSignIns();
  const startSession = async (c: Context<AppEnv>, account: Account, next: string): Promise<Response> => {
    const ip = c.env.remoteIp;
    const { token: sealed } = await sessions.create(account.id, { ip, userAgent: c.req.header("user-agent") ?? "" });
    setCookie(c, sessionCookieName(c), sealed, cookieOpts(c, Math.floor(sessions.policy.maxAgeMs / 1000)));
    setCookie(c, deviceCookieName(c), await sessions.deviceToken(normalizeLogin(account.email)), cookieOpts(c, Math.floor(sessions.policy.maxAgeMs / 1000)));
    deleteCookie(c, loginCookieName(c), cookieOpts(c));
    ctx.log.info("webmail login", { ip, user: account.email });
    return c.redirect(next, 303);
  };
  app.post("/login/code", async (c) => {
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const token = typeof form.csrf === "string" ? form.csrf : "";
    const cookieToken = getCookie(c, loginCookieName(c)) ?? "";
    if (!sameOrigin(c) || !token || !safeEqual(token, cookieToken)) return loginPage(c, deps, { email: "", error: pageText(langOf(c), "expired"), status: 403 });
    const challenge = typeof form.challenge === "string" ? form.challenge : "";
    const p = pending.take(challenge);
    if (!p) return loginPage(c, deps, { email: "", error: pageText(langOf(c), "codeExpired"), status: 401 });
    const account = await ctx.store.getAccountById(p.accountId);
    if (!account) return loginPage(c, deps, { email: "", error: pageText(langOf(c), "codeExpired"), status: 401 });
    const code = typeof form.code === "string" ? form.code.trim().slice(0, 64) : "";
    const r = await verifySecondFactor({ store: ctx.store, throttle: ctx.authThrottle, log: ctx.log }, account, code, c.env.remoteIp, { trusted: p.trusted, protocol: "webmail" });
    if (r.ok) {
      pending.finish(challenge);
      return startSession(c, r.account, p.next);
    }
    if (r.reason === "throttled") return codePage(c, deps, { challenge, error: tooManyText(langOf(c), r.retryAfterMs), status: 429, retryAfter: r.retryAfterMs });
    if (p.tries >= pending.maxTries) {
      pending.finish(challenge);
      return loginPage(c, deps, { email: p.email, next: p.next, error: pageText(langOf(c), "codeExpired"), status: 401 });
    }
    return codePage(c, deps, { challenge, error: pageText(langOf(c), "codeWrong"), status: 401 });
  });

  app.get("/api/session", requireSession(deps), (c) => {
    const a = c.get("account");
    c.header("cache-control", "no-store");
    return c.json({
      accountId: a.id,
      email: a.email,
      displayName: a.settings.displayName ?? "",
      csrf: c.get("session").csrf,
      maxMessageSize: ctx.config.limits.maxMessageSize,
      expiresAt: c.get("session").record.expiresAt,
      admin: a.admin === true,
    });
  });

  app.post("/api/logout", requireSession(deps), requireCsrf(deps), async (c) => {
    const sid = c.get("session").record.id;
    await sessions.destroy(sid);
    deps.hub.closeSession(sid);
    deleteCookie(c, sessionCookieName(c), cookieOpts(c));
    ctx.log.info("webmail logout", { user: c.get("account").email });
    return c.json({ ok: true });
  });
}

/** The sign-in page's language: nobody is signed in yet, so the browser's Accept-Language chooses (item 12). */
export function langOf(c: Context<AppEnv>): PageLang {
  return pageLang(c.req.header("accept-language"));
}

/**
 * Where a sign-in returns to (`/login?next=/admin`): only the web admin's own
 * paths, so the parameter can never send a browser to another site (an open
 * redirect, OWASP "Unvalidated Redirects") or anywhere unexpected; else "/".
 */
export function safeNext(v: string | undefined): string {
  if (!v || v.length > 200) return "/";
  return /^\/admin(\/[A-Za-z0-9._~\/-]*)?$/.test(v) && !v.includes("//") && !v.includes("/..") ? v : "/";
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The second step's page: one code field (a TOTP code or a recovery code) for the pending sign-in. */
function codePage(c: Context<AppEnv>, deps: AuthDeps, o: { challenge: string; error: string | null; status: 200 | 401 | 429; retryAfter?: number }): Response {
  const token = randomBytes(24).toString("base64url");
  setCookie(c, loginCookieName(c), token, cookieOpts(c, 3600));
  const lang = langOf(c);
  const tx = (k: Parameters<typeof pageText>[1]) => escapeHtml(pageText(lang, k));
  const html = `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="color-scheme" content="light dark"><title>${tx("title")}</title>
<link rel="stylesheet" href="${deps.assets.url("app.css")}"></head>
<body class="login-body"><main class="login-card">
<h1 class="login-title">Pillarbox</h1>
<p class="login-sub">${tx("codeSubtitle")}</p>
${o.error ? `<p class="login-error" role="alert">${escapeHtml(o.error)}</p>` : ""}
<form method="post" action="/login/code" class="login-form">
<input type="hidden" name="csrf" value="${token}">
<input type="hidden" name="challenge" value="${escapeHtml(o.challenge)}">
<label>${tx("code")}<input type="text" name="code" autocomplete="one-time-code" inputmode="numeric" maxlength="64" required autofocus></label>
<p class="login-sub">${tx("codeHelp")}</p>
<button type="submit">${tx("codeSubmit")}</button>
</form></main></body></html>`;
  const headers: Record<string, string> = { "content-security-policy": PAGE_CSP, "cache-control": "no-store", vary: "Accept-Language", "content-language": lang };
  if (o.retryAfter) headers["retry-after"] = String(Math.ceil(o.retryAfter / 1000));
  return c.html(html, o.status, headers);
}

function loginPage(c: Context<AppEnv>, deps: AuthDeps, o: { email: string; error: string | null; status: 200 | 400 | 401 | 403 | 429; retryAfter?: number; next?: string }): Response {
  const token = randomBytes(24).toString("base64url");
  setCookie(c, loginCookieName(c), token, cookieOpts(c, 3600));
  const css = deps.assets.url("app.css");
  const lang = langOf(c);
  const tx = (k: Parameters<typeof pageText>[1]) => escapeHtml(pageText(lang, k));
  const html = `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="color-scheme" content="light dark"><title>${tx("title")}</title>
<link rel="stylesheet" href="${css}"></head>
<body class="login-body"><main class="login-card">
<h1 class="login-title">Pillarbox</h1>
<p class="login-sub">${tx("subtitle")}</p>
${o.error ? `<p class="login-error" role="alert">${escapeHtml(o.error)}</p>` : ""}
<form method="post" action="/login" class="login-form">
<input type="hidden" name="csrf" value="${token}">
${o.next && o.next !== "/" ? `<input type="hidden" name="next" value="${escapeHtml(o.next)}">\n` : ""}<label>${tx("email")}<input type="email" name="email" autocomplete="username" required autofocus value="${escapeHtml(o.email)}"></label>
<label>${tx("password")}<input type="password" name="password" autocomplete="current-password" required></label>
<button type="submit">${tx("submit")}</button>
</form></main></body></html>`;
  // The page depends on Accept-Language (RFC 9110 §12.5.5 Vary) and says which language it is in (§8.5).
  const headers: Record<string, string> = { "content-security-policy": PAGE_CSP, "cache-control": "no-store", vary: "Accept-Language", "content-language": lang };
  if (o.retryAfter) headers["retry-after"] = String(Math.ceil(o.retryAfter / 1000));
  return c.html(html, o.status, headers);
}
