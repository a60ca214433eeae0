/**
 * Running the Debian CalDAV/CardDAV clients (python3-caldav, vdirsyncer,
 * khal, khard, cadaver, curl) from tests: each client gets a temp HOME and
 * XDG_* dirs (never the real ones), a timeout, and captured output.
 *
 *   const home = clientHome();                  // temp HOME + XDG dirs
 *   const r = await runClient(home, "vdirsyncer", ["-c", cfg, "sync"]);
 *   home.cleanup();
 *
 * Availability: `clientSkip(names)` is true only outside CI when a client is
 * missing (the test is skipped); under CI (CI=true) it is false and
 * `assertClients(names)` inside the test fails it, naming what is missing.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hasCommand, run, type RunResult } from "./proc.ts";
import { DEBIAN_PYTHON, hasRadicale } from "./radicale.ts";

export { DEBIAN_PYTHON } from "./radicale.ts";

export type ClientName = "python3-caldav" | "vdirsyncer" | "khal" | "khard" | "cadaver" | "curl" | "radicale" | "script";

const availability = new Map<ClientName, boolean>();

/** True if the client can run here (python3-caldav and radicale are Python modules of the Debian Python; "script" is util-linux script(1), a pty for cadaver). */
export function hasClient(name: ClientName): boolean {
  let ok = availability.get(name);
  if (ok === undefined) {
    if (name === "python3-caldav") ok = spawnSync(DEBIAN_PYTHON, ["-c", "import caldav"], { stdio: "ignore" }).status === 0;
    else if (name === "radicale") ok = hasRadicale();
    else ok = hasCommand(name);
    availability.set(name, ok);
  }
  return ok;
}

export function missingClients(names: ClientName[]): ClientName[] {
  return names.filter((n) => !hasClient(n));
}

/** Skip (outside CI only) when a client is missing; under CI never skip. */
export function clientSkip(names: ClientName[]): boolean {
  return process.env.CI !== "true" && missingClients(names).length > 0;
}

/** Throws when a client is missing: under CI that fails the test instead of skipping it. */
export function assertClients(names: ClientName[]): void {
  const missing = missingClients(names);
  if (missing.length) throw new Error(`missing DAV clients (install the Debian packages, see .ci/run): ${missing.join(", ")}`);
}

export interface ClientHome {
  /** The temp dir; HOME is `${dir}/home`. */
  dir: string;
  home: string;
  /** HOME, XDG_CONFIG_HOME, XDG_DATA_HOME, XDG_CACHE_HOME, XDG_STATE_HOME, TZ, LANG for the client. */
  env: Record<string, string>;
  /** A path inside the temp dir (parents created). */
  path(...parts: string[]): string;
  cleanup(): void;
}

/** A fresh temp HOME with XDG dirs, so no client reads or writes the real user's config. */
export function clientHome(prefix = "pillarbox-davclient-"): ClientHome {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const home = join(dir, "home");
  const env: Record<string, string> = {
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_DATA_HOME: join(home, ".local", "share"),
    XDG_CACHE_HOME: join(home, ".cache"),
    XDG_STATE_HOME: join(home, ".local", "state"),
    // Stable output: UTC times, UTF-8, no colours, no pager.
    TZ: "UTC",
    LANG: "C.UTF-8",
    LC_ALL: "C.UTF-8",
    NO_COLOR: "1",
    PAGER: "cat",
    PYTHONDONTWRITEBYTECODE: "1",
  };
  for (const k of ["XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"]) mkdirSync(env[k]!, { recursive: true });
  return {
    dir,
    home,
    env,
    path: (...parts) => {
      const p = join(dir, ...parts);
      mkdirSync(join(p, ".."), { recursive: true });
      return p;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface ClientRunOptions {
  input?: string | Uint8Array;
  timeoutMs?: number;
  env?: Record<string, string>;
  cwd?: string;
}

/**
 * Runs a client with the temp HOME's environment (plus `env`), a timeout
 * (default 20 s; a timed-out client is killed and `timedOut` set) and
 * captured stdout/stderr. The python3-caldav client is run as
 * `runClient(home, DEBIAN_PYTHON, [script, ...])`.
 */
export function runClient(home: ClientHome, cmd: string, args: string[], opts: ClientRunOptions = {}): Promise<RunResult> {
  return run(cmd, args, {
    input: opts.input,
    timeoutMs: opts.timeoutMs ?? 20_000,
    cwd: opts.cwd ?? home.dir,
    env: { ...home.env, ...opts.env },
  });
}

/** A one-line summary of a run for assertion messages. */
export function describeRun(r: RunResult): string {
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ""}${r.timedOut ? " TIMED OUT" : ""}\nstdout: ${r.stdout.slice(0, 4000)}\nstderr: ${r.stderr.slice(0, 4000)}`;
}
