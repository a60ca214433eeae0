/**
 * The web admin's page: `GET /admin` (and `/admin/...` deep links) answers an
 * HTML shell that loads the admin bundle (web/src/admin/, built into the
 * embedded assets as admin.js / admin.css). Without a session it sends the
 * browser to the sign-in form, which comes back here; a signed-in account
 * that is not an administrator gets a page in words, status 403.
 */
import type { Context, Hono } from "hono";
import type { AppEnv } from "../types.ts";
import { PAGE_CSP } from "../headers.ts";
import { escapeHtml } from "../webmail/mime.ts";
import { safeNext } from "../webmail/auth.ts";
import { sessionAccount, type AdminDeps } from "./guard.ts";

/**
 * The admin shell's policy: scripts and styles only from our origin (no
 * inline script or style attribute — the admin code styles through the CSSOM
 * and draws charts as SVG elements), data only from our API, no frames, no
 * plugins, never framed itself (CSP3; clickjacking).
 */
export const ADMIN_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "object-src 'none'",
  "frame-ancestors 'none'",
].join("; ");

export function mountAdminPage(app: Hono<AppEnv>, deps: AdminDeps): void {
  const page = async (c: Context<AppEnv>) => {
    const found = await sessionAccount(deps, c);
    if (!found) {
      const next = safeNext(new URL(c.req.url).pathname);
      return c.redirect(`/login?next=${encodeURIComponent(next)}`, 302);
    }
    if (!found.account.admin) return forbiddenPage(c, found.account.email);
    return c.html(shell(deps), 200, { "content-security-policy": ADMIN_CSP, "cache-control": "no-store" });
  };
  app.get("/admin", page);
  app.get("/admin/", page);
  // Deep links other than the API (the pages themselves use #/ routes; a bookmarked path still opens the admin).
  app.get("/admin/*", (c, next) => (c.req.path === "/admin/api" || c.req.path.startsWith("/admin/api/") ? next() : page(c)));
}

function shell(deps: AdminDeps): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Pillarbox admin</title>
<link rel="stylesheet" href="${deps.assets.url("admin.css")}">
<script type="module" src="${deps.assets.url("admin.js")}"></script>
</head><body><div id="admin"><p class="boot">Loading…</p></div><noscript><p class="boot">The admin pages need JavaScript.</p></noscript></body></html>`;
}

function forbiddenPage(c: Context<AppEnv>, email: string): Response {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="color-scheme" content="light dark"><title>Not an administrator</title></head>
<body><main><h1>Not an administrator</h1>
<p>You are signed in as ${escapeHtml(email)}, which is not an administrator account, so the admin pages are closed to you.</p>
<p>An administrator can give this account access (in the admin's Accounts page, or on the server with <code>pillarbox user admin ${escapeHtml(email)} on</code>).</p>
<p><a href="/">Back to your mail</a></p></main></body></html>`;
  return c.html(html, 403, { "content-security-policy": PAGE_CSP, "cache-control": "no-store" });
}
