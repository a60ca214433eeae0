/**
 * Small well-known routes of the HTTP site:
 *  - ACME HTTP-01 (RFC 8555 §8.3): /.well-known/acme-challenge/<token>, answered
 *    on plain HTTP from the certificate service's challenge map.
 *  - MTA-STS (RFC 8461 §3.3): /.well-known/mta-sts.txt on the host
 *    mta-sts.<local domain>, over HTTPS only (plain HTTP redirects).
 *  - /healthz: 200 while the server runs (container HEALTHCHECK), 503 while it stops.
 */
import { registerHttpRoutes, registerPlainHttpPath } from "./routes.ts";
import { effectiveMtaStsMode, mtaStsPolicy } from "../../src/mta-sts.ts";

/** RFC 8555 §8.1: tokens are base64url, at least 128 bits; bound the length we look up. */
const TOKEN_RE = /^[A-Za-z0-9_-]{16,256}$/;

registerPlainHttpPath("/healthz");

registerHttpRoutes((app, ctx) => {
  app.get("/.well-known/acme-challenge/:token", (c) => {
    const token = c.req.param("token");
    const answer = TOKEN_RE.test(token) ? (ctx.certificates.httpChallenge?.(token) ?? null) : null;
    if (answer === null) return c.text("No such ACME challenge\n", 404);
    // RFC 8555 §8.3: the body is the key authorization, served as application/octet-stream.
    return c.body(answer, 200, { "content-type": "application/octet-stream", "cache-control": "no-store" });
  });

  app.get("/.well-known/mta-sts.txt", async (c) => {
    const host = (new URL(c.req.url).hostname || "").toLowerCase().replace(/\.$/, "");
    const domain = host.startsWith("mta-sts.") ? host.slice("mta-sts.".length) : "";
    if (!domain || domain.length > 253 || !(await ctx.store.isLocalDomain(domain))) return c.text("No MTA-STS policy for this host\n", 404);
    const mode = effectiveMtaStsMode(ctx.config, ctx.certificates.status());
    const body = mtaStsPolicy(ctx.config.hostname, mode, ctx.config.mtaSts.maxAgeSeconds);
    // RFC 8461 §3.2: media type text/plain; senders cache it for max_age themselves.
    return c.body(body, 200, { "content-type": "text/plain; charset=utf-8", "cache-control": "max-age=300" });
  });

  app.get("/healthz", (c) => (ctx.shuttingDown ? c.text("stopping\n", 503) : c.text("ok\n", 200)));
});
