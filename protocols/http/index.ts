/**
 * HTTP and HTTPS listeners (webmail, and the routes other modules register
 * through routes.ts). The kernel accepts connections and hands them over;
 * for HTTPS they are already TLS sockets with the mail listeners'
 * certificate.
 *
 * State is kept per server context, so two servers in one process (tests)
 * never share an app, a store or sockets.
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

interface Instance {
  ctx: ServerContext;
  app: Hono<AppEnv> | null;
  webmail: Webmail | null;
  http: ReturnType<typeof createBridge>;
  https: ReturnType<typeof createBridge>;
  closeWstore: (() => Promise<void>) | null;
}

const instances = new Map<ServerContext, Instance>();

function instanceFor(ctx: ServerContext): Instance {
  let inst = instances.get(ctx);
  if (inst) return inst;
  const handler = (req: Request, env: Parameters<Hono<AppEnv>["fetch"]>[1]) => {
    if (!inst!.app) return new Response("Starting up, try again in a moment\n", { status: 503, headers: { "retry-after": "2" } });
    return inst!.app.fetch(req, env);
  };
  const onError = (err: unknown) => ctx.log.error("http bridge error", { err });
  const defaultHost = () => ctx.config.hostname;
  inst = {
    ctx,
    app: null,
    webmail: null,
    http: createBridge(handler, { scheme: "http", defaultHost, onError }),
    https: createBridge(handler, { scheme: "https", defaultHost, onError }),
    closeWstore: null,
  };
  instances.set(ctx, inst);
  return inst;
}

async function stopInstance(inst: Instance): Promise<void> {
  instances.delete(inst.ctx);
  inst.webmail?.stop();
  for (const b of [inst.http, inst.https]) {
    b.server.close();
    // Idle keep-alive and event-stream sockets would otherwise hold shutdown open.
    b.server.closeIdleConnections?.();
    for (const s of b.sockets) s.destroy();
  }
  await inst.closeWstore?.().catch(() => {});
}

registerProtocol({
  name: "http",
  listeners: ["HTTP", "HTTPS"],
  async start(ctx) {
    const inst = instanceFor(ctx);
    const wstore = await openWebmailStore(ctx.store, { url: ctx.config.databaseUrl, authToken: ctx.config.databaseAuthToken });
    inst.closeWstore = () => wstore.close();
    inst.webmail = await createWebmail(ctx, wstore);
    inst.app = buildApp(ctx, {
      webmail: inst.webmail,
      // The bound port (port 0 resolved by the kernel), not the configured one.
      httpsPort: () => (ctx.config.listeners.HTTPS ? (ctx.addresses.HTTPS?.port ?? ctx.config.listeners.HTTPS.port) : null),
    });
  },
  onConnection(socket: Socket, listener: ListenerInfo, ctx) {
    const inst = instanceFor(ctx);
    if (listener.name === "HTTPS") inst.https.server.emit("connection", socket);
    else inst.http.server.emit("connection", socket);
  },
  async stop() {
    // The registry's stop() names no server: stop the ones shutting down (the kernel sets the flag first).
    await Promise.all([...instances.values()].filter((i) => i.ctx.shuttingDown).map(stopInstance));
  },
});
