/**
 * Mounts Exchange Web Services on the shared HTTP app (protocols/http/routes.ts):
 * /EWS/Exchange.asmx in any letter case, over HTTPS (plain HTTP is redirected
 * by the HTTP layer, so Basic credentials never travel in clear).
 */
import type { Hono } from "hono";
import { registerHttpRoutes } from "../routes.ts";
import { handleEws, isEwsPath } from "./handler.ts";

registerHttpRoutes((app: Hono, ctx) => {
  app.use("*", async (c, next) => {
    if (!isEwsPath(new URL(c.req.url).pathname)) return next();
    const env = c.env as { remoteIp?: string } | undefined;
    return handleEws(c.req.raw, env?.remoteIp ?? "", ctx);
  });
});
