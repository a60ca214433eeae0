/**
 * Mounts CalDAV/CardDAV on the shared HTTP app (protocols/http/routes.ts):
 * the RFC 6764 §5 well-known redirects (unauthenticated) and everything
 * under /dav/ (handler.ts), over HTTPS.
 */
import type { Hono } from "hono";
import { registerHttpRoutes } from "../routes.ts";
import { handleDav } from "./handler.ts";

registerHttpRoutes((app: Hono, ctx) => {
  app.use("*", async (c, next) => {
    const path = new URL(c.req.url).pathname;
    // RFC 6764 §5: /.well-known/caldav and /.well-known/carddav point at the context path; any method.
    if (path === "/.well-known/caldav" || path === "/.well-known/carddav" || path === "/.well-known/caldav/" || path === "/.well-known/carddav/") {
      return new Response(null, { status: 301, headers: { location: "/dav/", "cache-control": "no-store" } });
    }
    if (path !== "/dav" && !path.startsWith("/dav/")) return next();
    const env = c.env as { remoteIp?: string; scheme?: string } | undefined;
    return handleDav(c.req.raw, env ?? {}, ctx);
  });
});
