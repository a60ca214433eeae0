/**
 * The reading frame for a message whose remote pictures the user allowed.
 *
 * The app page's policy allows no remote picture (headers.ts APP_CSP), and a
 * srcdoc frame inherits its parent's policy (HTML §"determining navigation
 * params policy container"; CSP3 §4.2.2), so a srcdoc frame could never
 * show them. Instead the app posts the document it sanitized to this
 * endpoint with a form that targets the frame, and we answer it under a
 * policy of its own: a sandbox without scripts, forms or same-origin
 * (CSP3 §6.3.2 `sandbox`), pictures from data:, http: and https:, nothing
 * else. The answer comes back only to the session's own page (session
 * cookie, same origin, the session's CSRF token), so this is no reflector
 * for other sites; nothing is stored.
 */
import type { Hono } from "hono";
import { getCookie } from "hono/cookie";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../types.ts";
import type { SessionManager } from "./session.ts";
import { sameOrigin, sessionCookieName } from "./auth.ts";

export const MAIL_FRAME_PATH = "/mailframe";

/** The frame document's own policy: as the <meta> policy frameDocument() writes, plus the sandbox. */
export const MAIL_FRAME_CSP = [
  "sandbox allow-popups allow-popups-to-escape-sandbox",
  "default-src 'none'",
  "img-src data: https: http:",
  "style-src 'unsafe-inline'",
  "font-src data:",
  "form-action 'none'",
  "base-uri 'none'",
  "frame-ancestors 'self'",
].join("; ");

export interface MailFrameDeps {
  sessions: SessionManager;
  /** Largest message the server accepts; the frame carries its HTML plus inline pictures as data: URLs. */
  maxMessageSize: number;
}

export function mountMailFrame(app: Hono<AppEnv>, deps: MailFrameDeps): void {
  const text = (body: string, status: 400 | 401 | 403 | 413) =>
    new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" } });
  // The reader fetches at most 10 MB of inline pictures per message (reader.ts), base64 in data: URLs.
  app.use(MAIL_FRAME_PATH, bodyLimit({ maxSize: deps.maxMessageSize + 16 * 1024 * 1024, onError: () => text("This message is too large to show.\n", 413) }));
  app.post(MAIL_FRAME_PATH, async (c) => {
    const session = await deps.sessions.open(getCookie(c, sessionCookieName(c)));
    if (!session) return text("You are signed out.\n", 401);
    if (!sameOrigin(c)) return text("This request came from another web site and was refused.\n", 403);
    let form: Record<string, string | File>;
    try {
      form = (await c.req.parseBody()) as Record<string, string | File>;
    } catch {
      return text("The request could not be understood.\n", 400);
    }
    const token = typeof form.csrf === "string" ? form.csrf : "";
    if (!deps.sessions.checkCsrf(session, token)) return text("Your page is out of date. Reload the page and try again.\n", 403);
    const html = typeof form.html === "string" ? form.html : "";
    return new Response(html, {
      headers: {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": MAIL_FRAME_CSP,
        // Framed by our own page only (RFC 7034 X-Frame-Options for browsers without frame-ancestors).
        "x-frame-options": "SAMEORIGIN",
        "cache-control": "no-store",
        "referrer-policy": "no-referrer",
      },
    });
  });
}
