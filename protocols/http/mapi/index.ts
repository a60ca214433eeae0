/**
 * Mounts MAPI over HTTP (MS-OXCMAPIHTTP) on the shared HTTP app
 * (protocols/http/routes.ts): /mapi/emsmdb/ and /mapi/nspi/ in any letter
 * case, over HTTPS only (plain HTTP is redirected by the HTTP layer, so
 * Basic credentials never travel in clear). The services behind them
 * register themselves through types.ts when their modules are imported.
 */
import type { Hono } from "hono";
import { registerHttpRoutes } from "../routes.ts";
import { handleMapi, mapiPath } from "./transport.ts";
import "./emsmdb/index.ts"; // registers the ROP engine (registerEmsmdb)
import "./nspi/index.ts"; // registers the NSPI address book (registerNspi)

registerHttpRoutes((app: Hono, ctx) => {
  app.use("*", async (c, next) => {
    if (!mapiPath(new URL(c.req.url).pathname)) return next();
    const env = c.env as { remoteIp?: string } | undefined;
    return (await handleMapi(c.req.raw, env?.remoteIp ?? "", ctx)) ?? next();
  });
});
