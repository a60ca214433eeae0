/** `pillarbox serve`: run the server until SIGTERM/SIGINT; SIGHUP reloads TLS. */
import { CONFIG_FLAGS, loadConfig, settingsHelp } from "../config.ts";
import { createLogger } from "../log.ts";
import { BindError, startServer } from "../server.ts";
import { COMMON_OPTIONS, type Command } from "./command.ts";

export const serveCommands: Command[] = [
  {
    name: "serve",
    usage: "[--config FILE] [--SETTING=VALUE ...]",
    summary: "run the mail server",
    help: `Starts every listener whose protocol is built and enabled in the configuration.
Settings come from defaults < TOML file < environment variables < flags.
On first start it creates the data dir (0700), the database and a self-signed
TLS certificate for the host name. SIGTERM/SIGINT stop it gracefully (exit 0);
SIGHUP reloads the TLS certificate.

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
      process.on("uncaughtException", (e) => log.error("uncaught exception", { error: e, stack: e.stack }));
      process.on("unhandledRejection", (e) => log.error("unhandled rejection", { error: e instanceof Error ? e : String(e) }));
      let server;
      try {
        server = await startServer(config, { log });
      } catch (e) {
        if (e instanceof BindError) {
          io.err(`pillarbox: ${e.message}\n`);
          return 1;
        }
        throw e;
      }
      return await new Promise<number>((resolve) => {
        let stopping = false;
        const stop = (sig: string) => {
          if (stopping) {
            log.warn("second signal: exiting now", { signal: sig });
            resolve(1);
            return;
          }
          stopping = true;
          log.info("shutting down", { signal: sig });
          server.close().then(
            () => resolve(0),
            (e: Error) => {
              log.error("shutdown failed", { error: e });
              resolve(1);
            },
          );
        };
        process.on("SIGTERM", () => stop("SIGTERM"));
        process.on("SIGINT", () => stop("SIGINT"));
        process.on("SIGHUP", () => {
          log.info("SIGHUP: reloading TLS certificate");
          server.tls.reload();
        });
      });
    },
  },
];
