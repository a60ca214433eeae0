/**
 * HTTP and HTTPS listeners (webmail, and the routes other modules register
 * through routes.ts). The kernel accepts connections and hands them over;
 * for HTTPS they are already TLS sockets with the mail listeners'
 * certificate.
 */
import type { Socket } from "node:net";
import type { Hono } from "hono";
import { registerProtocol, type ListenerInfo } from "../../src/registry.ts";
import type { ServerContext } from "../../src/context.ts";
import { openWebmailStore } from "../../storage/webmail-store.ts";
import { createBridge } from "./bridge.ts";
import { buildApp } from "./app.ts";
import { createWebmail, type Webmail } from "./webmail/index.ts";
import type { AppEnv } from "./types.ts";

let app: Hono<AppEnv> | null = null;
let webmail: Webmail | null = null;
let bridges: { http: ReturnType<typeof createBridge>; https: ReturnType<typeof createBridge> } | null = null;
let httpsPortSeen: number | null = null;
let closeWstore: (() => Promise<void>) | null = null;

function setup(ctx: ServerContext): void {
  if (bridges) return;
  const handler = (req: Request, env: Parameters<Hono<AppEnv>["fetch"]>[1]) => {
    if (!app) return new Response("Starting up, try again in a moment\n", { status: 503, headers: { "retry-after": "2" } });
    return app.fetch(req, env);
  };
  const onError = (err: unknown) => ctx.log.error("http bridge error", { err });
  const defaultHost = () => ctx.config.hostname;
  bridges = {
    http: createBridge(handler, { scheme: "http", defaultHost, onError }),
    https: createBridge(handler, { scheme: "https", defaultHost, onError }),
  };
}

registerProtocol({
  name: "http",
  listeners: ["HTTP", "HTTPS"],
  async start(ctx) {
    setup(ctx);
    const wstore = await openWebmailStore(ctx.store, { url: ctx.config.databaseUrl, authToken: ctx.config.databaseAuthToken });
    closeWstore = () => wstore.close();
    webmail = await createWebmail(ctx, wstore);
    app = buildApp(ctx, {
      webmail,
      httpsPort: () => {
        const l = ctx.config.listeners.HTTPS;
        if (!l) return null;
        return l.port || httpsPortSeen || 0;
      },
    });
  },
  onConnection(socket: Socket, listener: ListenerInfo, ctx) {
    setup(ctx);
    if (listener.name === "HTTPS") {
      httpsPortSeen = listener.port;
      bridges!.https.server.emit("connection", socket);
    } else bridges!.http.server.emit("connection", socket);
  },
  async stop() {
    webmail?.stop();
    await closeWstore?.().catch(() => {});
    closeWstore = null;
    if (!bridges) return;
    for (const b of [bridges.http, bridges.https]) {
      b.server.close();
      // Idle keep-alive and event-stream sockets would otherwise hold shutdown open.
      b.server.closeIdleConnections?.();
      for (const s of b.sockets) s.destroy();
    }
  },
});
