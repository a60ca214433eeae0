/**
 * Running external programs from tests (python3, curl, swaks, openssl, the
 * pillarbox CLI) with a timeout and captured output.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  input?: string | Uint8Array;
  timeoutMs?: number;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

export function run(cmd: string, args: string[] = [], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env } as NodeJS.ProcessEnv, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs ?? 30_000);
    child.stdout!.on("data", (d: Buffer) => out.push(d));
    child.stderr!.on("data", (d: Buffer) => err.push(d));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), timedOut });
    });
    child.stdin!.on("error", () => {});
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    else child.stdin!.end();
  });
}

/** True if `cmd` is on PATH. */
export function hasCommand(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${JSON.stringify(cmd)}`]).status === 0;
}

export const REPO_ROOT = resolve(import.meta.dir ?? new URL(".", import.meta.url).pathname, "../..");
/** The Bun that runs the tests (for running src/main.ts as a separate process). */
export const BUN = process.execPath;

/** Runs the pillarbox CLI from source in a separate process. */
export function runCli(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run(BUN, [resolve(REPO_ROOT, "src/main.ts"), ...args], { timeoutMs: 60_000, ...opts });
}

export interface Background {
  child: ChildProcess;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout+stderr match `re` (or rejects after timeoutMs / on exit). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code/signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

/** Starts a long-running process (a server) and lets the test wait for output. */
export function spawnBackground(cmd: string, args: string[], opts: Omit<RunOptions, "input" | "timeoutMs"> = {}): Background {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env } as NodeJS.ProcessEnv, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const waiters = new Set<() => void>();
  const poke = () => waiters.forEach((w) => w());
  child.stdout!.on("data", (d: Buffer) => ((out += d.toString("utf8")), poke()));
  child.stderr!.on("data", (d: Buffer) => ((err += d.toString("utf8")), poke()));
  let exitedFlag = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on("close", (code, signal) => {
      exitedFlag = true;
      poke();
      r({ code, signal });
    }),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill: (signal = "SIGTERM") => {
      if (!exitedFlag) child.kill(signal);
    },
    waitFor(re, timeoutMs = 20_000) {
      return new Promise((resolveWait, reject) => {
        const check = () => {
          const m = (out + "\n" + err).match(re);
          if (m) {
            done();
            resolveWait(m);
          } else if (exitedFlag) {
            done();
            reject(new Error(`process exited before printing ${re}\nstdout: ${out}\nstderr: ${err}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for ${re}\nstdout: ${out}\nstderr: ${err}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}
