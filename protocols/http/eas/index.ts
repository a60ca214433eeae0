/**
 * Mounts Exchange ActiveSync on the shared HTTP app (protocols/http/routes.ts):
 * /Microsoft-Server-ActiveSync in any letter case, over HTTPS (plain HTTP is
 * redirected by the HTTP layer: Basic credentials never travel in clear).
 */
import type { Hono } from "hono";
import { registerHttpRoutes } from "../routes.ts";
import { handleEas, isEasPath } from "./handler.ts";

registerHttpRoutes((app: Hono, ctx) => {
  app.use("*", async (c, next) => {
    if (!isEasPath(new URL(c.req.url).pathname)) return next();
    const env = c.env as { remoteIp?: string } | undefined;
    return handleEas(c.req.raw, env?.remoteIp ?? "", ctx);
  });
});
