/**
 * Mounts account discovery (autodiscover, autoconfig, Apple profiles) on
 * the shared HTTP app. The Thunderbird autoconfig paths are also served on
 * plain HTTP: Thunderbird tries http://autoconfig.<domain>/ and the file
 * holds no secret (RFC 6186-style discovery data only).
 */
import type { Hono } from "hono";
import { registerHttpRoutes, registerPlainHttpPath } from "../routes.ts";
import { handleAutodiscover } from "./handler.ts";

registerPlainHttpPath("/.well-known/autoconfig/");
registerPlainHttpPath("/mail/config-v1.1.xml");

registerHttpRoutes((app: Hono, ctx) => {
  app.use("*", async (c, next) => {
    const env = c.env as { remoteIp?: string } | undefined;
    const res = await handleAutodiscover(c.req.raw, env?.remoteIp ?? "", ctx);
    return res ?? next();
  });
});
