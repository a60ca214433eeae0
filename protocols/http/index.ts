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
import { createBridge } from "./bridge.ts";
import type { AppEnv } from "./types.ts";
import type { Site } from "./site.ts";

interface Instance {
  ctx: ServerContext;
  /** The app and webmail, built on the first request (see site.ts). */
  site: Promise<Site> | null;
  http: ReturnType<typeof createBridge>;
  https: ReturnType<typeof createBridge>;
}

const instances = new Map<ServerContext, Instance>();

function siteOf(inst: Instance): Promise<Site> {
  if (!inst.site) {
    const building = import("./site.ts").then((m) => m.buildSite(inst.ctx));
    inst.site = building;
    // a failed build (e.g. the database was briefly unavailable) is retried by the next request
    building.catch(() => {
      if (inst.site === building) inst.site = null;
    });
  }
  return inst.site;
}

function instanceFor(ctx: ServerContext): Instance {
  let inst = instances.get(ctx);
  if (inst) return inst;
  const handler = async (req: Request, env: Parameters<Hono<AppEnv>["fetch"]>[1]) => {
    let site: Site;
    try {
      site = await siteOf(inst!);
    } catch (err) {
      ctx.log.error("http: could not start the web application", { err });
      return new Response("The web service is starting or unavailable, try again in a moment\n", { status: 503, headers: { "retry-after": "5" } });
    }
    return site.app.fetch(req, env);
  };
  const onError = (err: unknown) => ctx.log.error("http bridge error", { err });
  const defaultHost = () => ctx.config.hostname;
  inst = {
    ctx,
    site: null,
    http: createBridge(handler, { scheme: "http", defaultHost, onError }),
    https: createBridge(handler, { scheme: "https", defaultHost, onError }),
  };
  instances.set(ctx, inst);
  return inst;
}

async function stopInstance(inst: Instance): Promise<void> {
  instances.delete(inst.ctx);
  for (const b of [inst.http, inst.https]) {
    b.server.close();
    // Idle keep-alive and event-stream sockets would otherwise hold shutdown open.
    b.server.closeIdleConnections?.();
    for (const s of b.sockets) s.destroy();
  }
  const site = await inst.site?.catch(() => null);
  await site?.close();
  (await import("./webmail/send-delay.ts")).stopHeldSends(inst.ctx);
}

registerProtocol({
  name: "http",
  listeners: ["HTTP", "HTTPS"],
  start(ctx) {
    instanceFor(ctx);
    // Webmail sends held for the send delay survive a restart: schedule them now, not at the first request.
    void import("./webmail/send-delay.ts").then((m) => m.startHeldSends(ctx)).catch((err) => ctx.log.warn("http: held sends not scheduled", { err }));
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
