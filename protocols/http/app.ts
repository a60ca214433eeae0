/**
 * The one Hono app behind the HTTP and HTTPS listeners: plain-HTTP
 * redirect, routes registered by other modules (ActiveSync, autodiscover),
 * the webmail, and error handling that never leaks internals.
 */
import { Hono } from "hono";
import type { ServerContext } from "../../src/context.ts";
import type { AppEnv } from "./types.ts";
import { httpRouteMounters, plainHttpPrefixes } from "./routes.ts";
import type { Webmail } from "./webmail/index.ts";

export interface AppOptions {
  webmail: Webmail | null;
  /**
   * Port of the HTTPS listener for redirects; null when HTTPS is off (then HTTP
   * serves everything).
   */
  httpsPort: () => number | null;
}

export function buildApp(ctx: ServerContext, opts: AppOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // RFC 6797 §7.2: plain HTTP requests are sent to HTTPS, except paths that must stay plain (ACME http-01, RFC 8555 §8.3).
  app.use("*", async (c, next) => {
    if (c.env.scheme !== "http") return next();
    const httpsPort = opts.httpsPort();
    const url = new URL(c.req.url);
    if (httpsPort === null || plainHttpPrefixes().some((p) => url.pathname.startsWith(p))) return next();
    const host = url.hostname.includes(":") ? `[${url.hostname}]` : url.hostname;
    const target = `https://${host}${httpsPort === 443 ? "" : ":" + httpsPort}${url.pathname}${url.search}`;
    // 301 for GET/HEAD (RFC 9110 §15.4.2); 308 keeps the method and body for the rest (RFC 9110 §15.4.9).
    const status = c.req.method === "GET" || c.req.method === "HEAD" ? 301 : 308;
    return new Response(null, { status, headers: { location: target, "cache-control": "no-store" } });
  });

  for (const mount of httpRouteMounters()) {
    // The registry's contract uses the plain Hono type; our env only adds typed bindings.
    mount(app as unknown as Hono, ctx);
  }

  opts.webmail?.mount(app);

  app.notFound((c) => (c.req.path.startsWith("/api/") ? c.json({ error: "not_found", message: "Unknown request." }, 404) : c.text("Not found\n", 404)));

  app.onError((err, c) => {
    const mapped = opts.webmail?.errorResponse(err, c);
    if (mapped) return mapped;
    ctx.log.error("http request failed", { method: c.req.method, path: c.req.path, err: err instanceof Error ? err.stack ?? err.message : String(err) });
    if (c.req.path.startsWith("/api/")) {
      return c.json({ error: "internal", message: "Something went wrong on the server. Your data is safe; please try again." }, 500);
    }
    return c.text("Internal error\n", 500);
  });

  return app;
}
