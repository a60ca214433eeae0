/**
 * Everything behind the HTTP listeners — the Hono app, webmail and the
 * routes other modules mount (ActiveSync, autodiscover) — built for one
 * server context. index.ts imports this module on the first HTTP request,
 * so an idle server does not carry the web stack in memory.
 */
import type { Hono } from "hono";
import type { ServerContext } from "../../src/context.ts";
import { buildApp } from "./app.ts";
import { createWebmail, type Webmail } from "./webmail/index.ts";
import type { AppEnv } from "./types.ts";
import { mountAdmin } from "./admin/index.ts";
// These register their routes through routes.ts when imported.
import "./eas/index.ts";
import "./ews/index.ts";
import "./mapi/index.ts";
import "./autodiscover/index.ts";
import "./dav/index.ts";
import "./wellknown.ts";

export interface Site {
  app: Hono<AppEnv>;
  webmail: Webmail;
  close(): Promise<void>;
}

export async function buildSite(ctx: ServerContext): Promise<Site> {
  const wstore = ctx.storage.webmail;
  const webmail = await createWebmail(ctx, wstore);
  const app = buildApp(ctx, {
    webmail,
    // The bound port (port 0 resolved by the kernel), not the configured one.
    httpsPort: () => (ctx.config.listeners.HTTPS ? (ctx.addresses.HTTPS?.port ?? ctx.config.listeners.HTTPS.port) : null),
  });
  // The web admin (/admin, /admin/api/*) on the webmail's sessions.
  mountAdmin(app, { ctx, sessions: webmail.sessions, hub: webmail.hub, assets: webmail.assets, startedAt: Date.now() });
  return {
    app,
    webmail,
    async close() {
      webmail.stop();
    },
  };
}
