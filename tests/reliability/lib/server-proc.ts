/**
 * Runs `bun src/main.ts serve` as a child process with its own data dir and
 * free high ports on 127.0.0.1, so harnesses can SIGKILL it and start it again.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { connect as netConnect, createServer } from "node:net";
import { resolve } from "node:path";
import { readdirSync, readFileSync } from "node:fs";

export const REPO = resolve(import.meta.dir ?? new URL(".", import.meta.url).pathname, "../../..");
export const BUN = process.execPath;

export type Listener = "smtp" | "submission" | "submissions" | "imap" | "imaps" | "pop3" | "pop3s" | "http" | "https" | "managesieve";
export const ALL_LISTENERS: Listener[] = ["smtp", "submission", "submissions", "imap", "imaps", "pop3", "pop3s", "http", "https", "managesieve"];

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

/** Pids whose parent is `pid` (a server's workers: src/cluster/). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface ServerProc {
  child: ChildProcess;
  pid: number;
  /** The lead's workers now (PILLARBOX_WORKERS > 1). */
  workers(): number[];
  /** SIGKILLs the lead and every worker at once (a power cut of the whole server); resolves once all are gone. */
  killAll(): Promise<void>;
  ports: Partial<Record<Listener, number>>;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(sig?: NodeJS.Signals): void;
}

export interface ServeOptions {
  dataDir: string;
  ports: Partial<Record<Listener, number>>;
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  /** Modules bun loads before the server (`bun --preload`): diagnostics such as scripts/torture/heap-sampler.ts. */
  preload?: string[];
  /** Run the server from another checkout of the repository (before/after comparisons); default this one. */
  serverDir?: string;
}

/** Environment common to all harness servers: no DNS-based checks, plaintext auth allowed on IMAP/POP3. */
export function baseEnv(o: ServeOptions): Record<string, string> {
  const env: Record<string, string> = {
    PILLARBOX_DATA_DIR: o.dataDir,
    PILLARBOX_HOSTNAME: "mail.torture.test",
    PILLARBOX_LOG_LEVEL: "warn",
    PILLARBOX_SMTP_VERIFY_INBOUND: "false",
    PILLARBOX_IMAP_ALLOW_PLAINTEXT_AUTH: "true",
    PILLARBOX_POP3_ALLOW_PLAINTEXT_AUTH: "true",
    // Outbound mail must stay queued: MX lookups go to a closed port (temporary failure).
    PILLARBOX_QUEUE_DNS_SERVERS: "127.0.0.1:9",
  };
  for (const l of ALL_LISTENERS) {
    const p = o.ports[l];
    env[`PILLARBOX_${l.toUpperCase()}_LISTEN`] = p ? `127.0.0.1:${p}` : "off";
  }
  return { ...env, ...o.env };
}

export async function startServerProc(o: ServeOptions): Promise<ServerProc> {
  const env = { ...process.env, ...baseEnv(o) } as NodeJS.ProcessEnv;
  const pre = (o.preload ?? []).flatMap((m) => ["--preload", m]);
  const dir = o.serverDir ? resolve(o.serverDir) : REPO;
  const child = spawn(BUN, [...pre, resolve(dir, "src/main.ts"), "serve"], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  let out = "";
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on("close", (code, signal) => r({ code, signal })));
  child.stdout!.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-20000)));
  child.stderr!.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-50000)));
  const proc: ServerProc = {
    child,
    pid: child.pid!,
    ports: o.ports,
    stderr: () => err + out,
    exited,
    kill: (sig = "SIGKILL") => void child.kill(sig),
    workers: () => childPids(child.pid!),
    async killAll() {
      const all = [child.pid!, ...childPids(child.pid!)];
      for (const p of all) {
        try {
          process.kill(p, "SIGKILL");
        } catch {
          // already gone
        }
      }
      await exited;
      while (all.some(pidAlive)) await new Promise((r) => setTimeout(r, 20));
    },
  };
  // Ready when every requested port accepts a connection.
  const deadline = Date.now() + (o.readyTimeoutMs ?? 60_000);
  let done = false;
  void exited.then(() => (done = true));
  for (const p of Object.values(o.ports)) {
    for (;;) {
      if (done) throw new Error(`server exited during start:\n${err}${out}`);
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`server not ready within timeout:\n${err}${out}`);
      }
      const ok = await new Promise<boolean>((r) => {
        const s = netConnect({ host: "127.0.0.1", port: p }, () => {
          s.destroy();
          r(true);
        });
        s.on("error", () => r(false));
      });
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return proc;
}
