/** `pillarbox serve`: run the server until SIGTERM/SIGINT; SIGHUP re-reads the configuration and certificates. */
import { CONFIG_FLAGS, loadConfig, settingsHelp } from "../config.ts";
import { setNativeCacheDir } from "../native-addon.ts";
import { DataDirError, prepareDataDir } from "../data-dir.ts";
import { acquireServerLock, ServerLockedError, type ServerLock } from "../server-lock.ts";
import { createLogger } from "../log.ts";
import type { RunningServer } from "../server.ts";
import { COMMON_OPTIONS, type Command } from "./command.ts";
import { availableParallelism } from "node:os";
import { LeadCluster, WORKER_ENV } from "../cluster/lead.ts";
import { TOPIC } from "../cluster/messages.ts";

/** The processes `serve` runs: the configured number, or one per core (0). */
export function workerCount(configured: number): number {
  return configured > 0 ? configured : Math.max(1, availableParallelism());
}

export const serveCommands: Command[] = [
  {
    name: "serve",
    usage: "[--config FILE] [--SETTING=VALUE ...]",
    summary: "run the mail server",
    help: `Starts every listener whose protocol is built and enabled in the configuration.
Settings come from defaults < TOML file < environment variables < flags.
On first start it creates the data dir (0700), the database and a self-signed
TLS certificate for the host name. SIGTERM/SIGINT stop it gracefully (exit 0);
SIGHUP re-reads the configuration (the TOML file, with the same environment
and flags) and applies it without a restart: host name (greetings, Received:,
autoconfig, the self-signed certificate), [tls] files, limits, log level, SMTP,
IMAP, POP3 and queue settings; it also re-reads the certificate files. Listener
addresses, the data dir and the database need a restart (a warning names them).
One server per data dir: it holds <data dir>/pillarbox.pid while it runs, and a
second serve on the same data dir stops with the first one's pid.
Several processes (--workers N, PILLARBOX_WORKERS; default one per core): the
first opens the database and starts the others, which share the SMTP,
submission, POP3 and ManageSieve ports with it (SO_REUSEPORT); IMAP, HTTP and
HTTPS, the outbound queue, ACME and the other background jobs run in the first. A worker that dies
is restarted; SIGTERM/SIGHUP to the first reach them all.

Settings (flag, environment variable, TOML key, default):
${settingsHelp()}`,
    options: { config: COMMON_OPTIONS.config! },
    allowUnknownOptions: (name) => CONFIG_FLAGS.has(name),
    args: [0, 0],
    async run(args, io) {
      const flags: Record<string, string> = {};
      for (const [k, v] of Object.entries(args.options)) if (k !== "config" && typeof v === "string") flags[k] = v;
      const file = typeof args.options["config"] === "string" ? args.options["config"] : undefined;
      const config = loadConfig({ file, env: io.env, flags });
      const log = createLogger(config.log.level);
      // One server per data dir (src/server-lock.ts), and the compiled binary's SQLite driver
      // cached in the data dir rather than $TMPDIR (src/native-addon.ts).
      // A data dir this user cannot write is refused in words (not libsql's "ConnectionFailed ... 14").
      setNativeCacheDir(config.dataDir);
      const workerIndex = Number(io.env[WORKER_ENV] ?? "");
      if (Number.isInteger(workerIndex) && workerIndex > 0 && typeof process.send === "function") {
        const { runWorker } = await import("../cluster/run-worker.ts");
        return runWorker(config, workerIndex, log, () => loadConfig({ file, env: io.env, flags }));
      }
      const processes = workerCount(config.workers);
      let lock: ServerLock;
      try {
        prepareDataDir(config.dataDir, { adoptOwner: false });
        lock = acquireServerLock(config.dataDir);
      } catch (e) {
        if (e instanceof ServerLockedError || e instanceof DataDirError) {
          io.err(`pillarbox: ${e.message}\n`);
          return 1;
        }
        throw e;
      }
      process.on("uncaughtException", (e) => log.error("uncaught exception", { error: e, stack: e.stack }));
      process.on("unhandledRejection", (e) => log.error("unhandled rejection", { error: e instanceof Error ? e : String(e) }));
      // Signal handlers go in first: a SIGTERM during start-up still means a clean stop.
      let stopping = false;
      let finish: (code: number) => void = () => {};
      const done = new Promise<number>((r) => (finish = r));
      let server: RunningServer | null = null;
      const stop = (sig: string) => {
        if (stopping) {
          log.warn("second signal: exiting now", { signal: sig });
          finish(1);
          return;
        }
        stopping = true;
        log.info("shutting down", { signal: sig });
        if (!server) return; // start-up finishes first, then closes (below)
        // The workers close their connections as the lead does (SIGTERM to each), then the lead's store closes.
        Promise.all([server.close(), lead?.stop(15_000)]).then(
          () => finish(0),
          (e: Error) => {
            log.error("shutdown failed", { error: e });
            finish(1);
          },
        );
      };
      const onTerm = () => stop("SIGTERM");
      const onInt = () => stop("SIGINT");
      const onHup = () => {
        // Found item 1: a config written while the server runs (quickstart) applies on SIGHUP, not only at restart.
        if (server) {
          server.reloadFrom(() => loadConfig({ file, env: io.env, flags }));
          lead?.broadcast(TOPIC.reload, null);
          return;
        }
        log.info("SIGHUP during start-up: ignored, the server reads its configuration as it starts");
      };
      process.on("SIGTERM", onTerm);
      process.on("SIGINT", onInt);
      process.on("SIGHUP", onHup);

      // Loaded here so admin commands do not pay for every protocol module at start-up.
      const { BindError, startServer } = await import("../server.ts");
      // Several processes: this one leads (src/cluster/lead.ts); it binds first, so a port
      // that is taken is reported once, here, before any worker starts.
      const lead = processes > 1 ? new LeadCluster({ count: processes, log }) : null;
      try {
        server = await startServer(config, { log, cluster: lead ?? undefined });
        if (lead) {
          await lead.start();
          log.info("workers started", { kind: "system", processes, pids: lead.pids() });
        }
      } catch (e) {
        process.off("SIGTERM", onTerm);
        process.off("SIGINT", onInt);
        process.off("SIGHUP", onHup);
        lock.release();
        if (e instanceof BindError) {
          io.err(`pillarbox: ${e.message}\n`);
          return 1;
        }
        throw e;
      }
      if (stopping) {
        stopping = false;
        stop("signal during start-up");
      }
      try {
        return await done;
      } finally {
        lock.release();
      }
    },
  },
];
