/**
 * `pillarbox serve` as a worker (started by the lead, src/cluster/lead.ts,
 * with PILLARBOX_WORKER_INDEX set): the same configuration, the same data
 * dir, the mail listeners bound with SO_REUSEPORT beside the lead's. It stops
 * on SIGTERM/SIGINT (the lead's shutdown, or the whole process group's) and
 * when the lead is gone; it re-reads the configuration when the lead does.
 */
import type { Config } from "../config-types.ts";
import type { Logger } from "../log.ts";
import { TOPIC } from "./messages.ts";
import { WorkerCluster } from "./worker.ts";

export async function runWorker(config: Config, index: number, baseLog: Logger, reload: () => Config): Promise<number> {
  const log = baseLog.child({ worker: index });
  process.on("uncaughtException", (e) => log.error("uncaught exception", { error: e, stack: e.stack }));
  process.on("unhandledRejection", (e) => log.error("unhandled rejection", { error: e instanceof Error ? e : String(e) }));
  const cluster = new WorkerCluster(index, (topic, e) => log.warn("cluster message handler failed", { topic, error: e instanceof Error ? e.message : String(e) }));
  let finish: (code: number) => void = () => {};
  const done = new Promise<number>((r) => (finish = r));
  let closing = false;
  let server: Awaited<ReturnType<typeof import("../server.ts").startServer>> | null = null;
  const stop = (why: string) => {
    if (closing) return;
    closing = true;
    log.info("worker stopping", { reason: why });
    if (!server) return finish(0);
    server.close().then(
      () => finish(0),
      (e: Error) => {
        log.error("worker shutdown failed", { error: e });
        finish(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  // The lead forwards SIGHUP as a broadcast; a SIGHUP sent to the whole group is the same request.
  process.on("SIGHUP", () => {});
  cluster.on(TOPIC.leadGone, () => stop("the lead process is gone"));
  cluster.on(TOPIC.reload, () => server?.reloadFrom(reload));

  const { startServer } = await import("../server.ts");
  try {
    server = await startServer(config, { log, cluster });
  } catch (e) {
    log.error("worker could not start", { error: e instanceof Error ? e.message : String(e) });
    return 1;
  }
  if (closing) {
    closing = false;
    stop("signal during start-up");
  } else cluster.ready();
  const code = await done;
  // The IPC channel keeps the event loop alive: close it so the process exits.
  process.disconnect?.();
  return code;
}
