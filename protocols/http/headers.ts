/**
 * Security headers put on every HTTP response, whatever route produced it
 * (webmail, ActiveSync, autodiscover, errors, redirects). The bridge applies
 * them when writing the response, so a handler that forgets or throws still
 * gets them. A handler may set a stricter or different value for a header;
 * the bridge only fills in the missing ones.
 */

/** Default policy for non-HTML answers (JSON, XML, downloads): nothing may load, nothing may frame it. */
export const DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * Policy for the webmail app shell. Scripts only from our own origin (no
 * inline script, no eval). Mail bodies are rendered in a sandboxed srcdoc
 * iframe which inherits this policy (CSP3 §4.2.2 policy container
 * inheritance for srcdoc), and which adds its own stricter <meta> policy: so
 * `style-src 'unsafe-inline'` (mail uses inline styles) is needed here.
 *
 * The app page itself never loads a remote picture (issue 13 item 14): the
 * composer holds quoted mail in this page, and whatever slipped past its
 * sanitizer must not be able to reach another host. Remote pictures the
 * user allowed are shown in a frame document the server answers under its
 * own policy (webmail/mail-frame.ts), which this one does not cover.
 */
export const APP_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-src 'self' blob:",
  "manifest-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "object-src 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Login and other server-rendered pages: no script at all. */
export const PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

export function securityHeaders(https: boolean): [string, string][] {
  const h: [string, string][] = [
    ["content-security-policy", DEFAULT_CSP],
    ["x-content-type-options", "nosniff"],
    ["x-frame-options", "DENY"],
    ["referrer-policy", "no-referrer"],
    ["cross-origin-opener-policy", "same-origin"],
    ["cross-origin-resource-policy", "same-origin"],
    ["permissions-policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"],
  ];
  // RFC 6797 §7.2: HSTS only over secure transport; a UA ignores it over plain HTTP.
  if (https) h.push(["strict-transport-security", "max-age=31536000; includeSubDomains"]);
  return h;
}
