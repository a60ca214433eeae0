/**
 * `pillarbox reload`: SIGHUP to the server running on this data dir (found
 * item 1), found by its lock file (src/server-lock.ts), after checking that
 * the configuration loads; then waits for the server's answer in its activity
 * log (<data dir>/activity/, src/activity.ts) and prints what was applied and
 * what needs a restart.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { activityPaths } from "../activity.ts";
import { readServerPid, LOCK_FILE } from "../server-lock.ts";
import { COMMON_OPTIONS, type Command } from "./command.ts";
import { CliError, configFromArgs } from "./common.ts";

const RELOADED = "configuration reloaded";
const RESTART = "configuration: these settings changed but need a restart to apply";
const FAILED = "SIGHUP: configuration not reloaded, the running one stays";
/** How long to wait for the server's answer (it writes its activity entries every half second). */
const WAIT_MS = 10_000;
const TAIL_BYTES = 256 * 1024;

interface SystemLine {
  seq: number;
  msg: string;
  fields: Record<string, unknown>;
}

/** The `system` entries near the end of the activity file (a bounded read), oldest first. */
function systemTail(file: string): SystemLine[] {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return [];
  }
  try {
    const size = statSync(file).size;
    const len = Math.min(size, TAIL_BYTES);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    const out: SystemLine[] = [];
    for (const line of buf.toString("utf8").split("\n")) {
      if (!line.includes('"kind":"system"')) continue;
      try {
        const e = JSON.parse(line) as { seq?: unknown; msg?: unknown; fields?: unknown };
        if (typeof e.seq === "number" && typeof e.msg === "string") out.push({ seq: e.seq, msg: e.msg, fields: (e.fields ?? {}) as Record<string, unknown> });
      } catch {
        // a line cut by the bounded read
      }
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

export const reloadCommands: Command[] = [
  {
    name: "reload",
    usage: "[--data-dir DIR] [--config FILE]",
    summary: "apply pillarbox.toml and certificate changes to the running server (SIGHUP)",
    help: `Checks that the configuration loads, sends SIGHUP to the server running on the data dir
(its pid is in <data dir>/${LOCK_FILE}) and prints its answer: the settings applied, and
those that need a restart (listeners, data dir, database, turning ACME off). Same as
systemctl reload pillarbox or kill -HUP <pid>. Exit code 1 when no server runs on the data
dir, when the file does not load, or when the server kept its running configuration.`,
    options: COMMON_OPTIONS,
    args: [0, 0],
    async run(args, io) {
      // A broken file is reported here, before the server is bothered (it would keep its configuration anyway).
      const config = configFromArgs(args, io);
      const pid = readServerPid(config.dataDir);
      if (pid === null) throw new CliError(`no pillarbox server is running on the data dir ${config.dataDir} (no live ${LOCK_FILE} there); start it with pillarbox serve`);
      const file = activityPaths(join(config.dataDir, "activity")).entries;
      const before = Math.max(0, ...systemTail(file).map((l) => l.seq));
      try {
        process.kill(pid, "SIGHUP");
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new CliError(`cannot signal the server (pid ${pid}): ${code === "EPERM" ? "it runs as another user; run this command as that user or as root" : (e as Error).message}`);
      }
      io.out(`sent SIGHUP to the server (pid ${pid})\n`);
      const deadline = Date.now() + WAIT_MS;
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        const fresh = systemTail(file).filter((l) => l.seq > before);
        const failed = fresh.find((l) => l.msg === FAILED);
        if (failed) {
          io.err(`pillarbox: the server kept its running configuration: ${String(failed.fields.error ?? "unknown error")}\n`);
          return 1;
        }
        const done = fresh.find((l) => l.msg === RELOADED);
        if (!done) continue;
        io.out(`configuration reloaded: ${String(done.fields.applied ?? "(no change)")}\n`);
        const restart = fresh.find((l) => l.msg === RESTART);
        if (restart) io.out(`needs a restart to apply: ${String(restart.fields.settings)}\n`);
        return 0;
      }
      io.out(`no answer from the server within ${WAIT_MS / 1000} s: see its log for "${RELOADED}"\n`);
      return 0;
    },
  },
];
