/**
 * The lead process of `pillarbox serve` with several workers
 * (src/cluster/services.ts): starts the workers, restarts one that dies,
 * relays broadcasts between them, holds the named locks, and stops them all
 * on shutdown.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { Logger } from "../log.ts";
import { parseWorkerMessage, TOPIC, type LeadToWorker } from "./messages.ts";
import { Handlers, LockTable, MaxTable, RequestHandlers, releaseOnce, type ClusterServices } from "./services.ts";

/** The environment variable that makes `serve` a worker (its value: the worker's index). */
export const WORKER_ENV = "PILLARBOX_WORKER_INDEX";

/** A worker that dies this soon after starting is restarted after a growing delay (a crash loop must not spin). */
const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 30_000;
const STABLE_AFTER_MS = 60_000;

interface Worker {
  index: number;
  child: ChildProcess | null;
  startedAt: number;
  ready: boolean;
  restartDelay: number;
  timer: ReturnType<typeof setTimeout> | null;
}

export interface LeadOptions {
  /** Processes in all, the lead included (≥ 2). */
  count: number;
  log: Logger;
  /** The command that starts a worker (default: this program with this process's arguments). */
  command?: { cmd: string; args: string[] };
  env?: NodeJS.ProcessEnv;
}

/**
 * The command line that runs this same program again: the compiled binary is
 * its own interpreter (its entry point lives inside it, argv[1] is a virtual
 * /$bunfs path); under `bun`/`node`/`deno` the script path comes first.
 */
export function selfCommand(): { cmd: string; args: string[] } {
  const script = process.argv[1] ?? "";
  const compiled = script.startsWith("/$bunfs/") || script.startsWith("B:\\~BUN\\");
  return { cmd: process.execPath, args: [...process.execArgv, ...(compiled ? [] : [script]), ...process.argv.slice(2)] };
}

export class LeadCluster implements ClusterServices {
  readonly role = "lead" as const;
  readonly index = 0;
  private readonly handlers = new Handlers();
  private readonly locks = new LockTable();
  private readonly maxes = new MaxTable();
  private readonly requests = new RequestHandlers();
  private readonly workers: Worker[] = [];
  private stopping = false;
  private readyWaiters: (() => void)[] = [];

  constructor(private readonly opts: LeadOptions) {
    for (let i = 1; i < opts.count; i++) this.workers.push({ index: i, child: null, startedAt: 0, ready: false, restartDelay: RESTART_MIN_MS, timer: null });
  }

  async lock(key: string): Promise<(() => void) | null> {
    if (!this.locks.tryLock(key, 0)) return null;
    return releaseOnce(() => this.locks.unlock(key, 0));
  }

  async claimMax(key: string, value: number | null): Promise<number | null> {
    return this.maxes.claim(key, value);
  }

  async request(topic: string, data: unknown): Promise<unknown> {
    return this.requests.answer(topic, data, 0);
  }

  handle(topic: string, fn: (data: unknown, from: number) => unknown): void {
    this.requests.set(topic, fn);
  }

  broadcast(topic: string, data: unknown): void {
    this.sendAll({ t: "b", topic, data, from: 0 }, -1);
  }

  toLead(topic: string, data: unknown): void {
    this.dispatch(topic, data, 0);
  }

  on(topic: string, fn: (data: unknown, from: number) => void): () => void {
    return this.handlers.on(topic, fn);
  }

  /** Starts every worker; resolves when all have bound their listeners (or `timeoutMs` passed). */
  start(timeoutMs = 30_000): Promise<void> {
    for (const w of this.workers) this.spawn(w);
    return this.whenReady(timeoutMs);
  }

  /** Workers running now, with their pids (the lead not included). */
  pids(): number[] {
    return this.workers.flatMap((w) => (w.child?.pid ? [w.child.pid] : []));
  }

  private whenReady(timeoutMs: number): Promise<void> {
    if (this.workers.every((w) => w.ready)) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      t.unref?.();
      this.readyWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** Asks every worker to stop (SIGTERM: each closes its connections gracefully), SIGKILL after `timeoutMs`. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    // A start still waiting for its workers is over: nobody waits for them any more.
    for (const f of this.readyWaiters.splice(0)) f();
    const exits: Promise<void>[] = [];
    for (const w of this.workers) {
      if (w.timer) clearTimeout(w.timer);
      const c = w.child;
      if (!c || c.exitCode !== null || c.signalCode !== null) continue;
      exits.push(new Promise<void>((r) => c.once("exit", () => r())));
      c.kill("SIGTERM");
    }
    const deadline = setTimeout(() => {
      for (const w of this.workers) if (w.child && w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
    }, timeoutMs);
    await Promise.all(exits);
    clearTimeout(deadline);
  }

  private spawn(w: Worker): void {
    const { cmd, args } = this.opts.command ?? selfCommand();
    const child = spawn(cmd, args, {
      env: { ...(this.opts.env ?? process.env), [WORKER_ENV]: String(w.index) },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    w.child = child;
    w.startedAt = Date.now();
    w.ready = false;
    child.on("message", (raw) => this.onMessage(w, raw));
    child.on("error", (e) => this.opts.log.error("worker could not start", { kind: "system", worker: w.index, error: e.message }));
    child.once("exit", (code, signal) => this.onExit(w, child, code, signal));
  }

  private onExit(w: Worker, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (w.child !== child) return;
    w.child = null;
    w.ready = false;
    // Its locks (a POP3 maildrop it had open) and its connection counts end with it.
    this.locks.dropOwner(w.index);
    this.dispatch(TOPIC.gone, w.index, 0);
    this.sendAll({ t: "b", topic: TOPIC.gone, data: w.index, from: 0 }, -1);
    if (this.stopping) return;
    const lived = Date.now() - w.startedAt;
    w.restartDelay = lived > STABLE_AFTER_MS ? RESTART_MIN_MS : Math.min(RESTART_MAX_MS, w.restartDelay * 2);
    this.opts.log.error("worker ended; restarting it", { kind: "system", worker: w.index, pid: child.pid, code, signal, restartInMs: w.restartDelay });
    w.timer = setTimeout(() => {
      w.timer = null;
      if (!this.stopping) this.spawn(w);
    }, w.restartDelay);
  }

  private onMessage(w: Worker, raw: unknown): void {
    const m = parseWorkerMessage(raw);
    if (!m) {
      this.opts.log.warn("worker sent an unknown message; dropped", { worker: w.index });
      return;
    }
    switch (m.t) {
      case "ready":
        w.ready = true;
        this.opts.log.info("worker ready", { kind: "system", worker: w.index, pid: w.child?.pid });
        if (this.workers.every((x) => x.ready)) for (const f of this.readyWaiters.splice(0)) f();
        return;
      case "b":
        this.dispatch(m.topic, m.data, w.index);
        this.sendAll({ t: "b", topic: m.topic, data: m.data, from: w.index }, w.index);
        return;
      case "l":
        this.dispatch(m.topic, m.data, w.index);
        return;
      case "lock":
        this.send(w, { t: "lock-r", id: m.id, ok: this.locks.tryLock(m.key, w.index) });
        return;
      case "unlock":
        this.locks.unlock(m.key, w.index);
        return;
      case "max":
        this.send(w, { t: "max-r", id: m.id, prev: this.maxes.claim(m.key, m.value) });
        return;
      case "req": {
        let answer: { ok: boolean; data: unknown };
        try {
          answer = { ok: true, data: this.requests.answer(m.topic, m.data, w.index) };
        } catch (e) {
          answer = { ok: false, data: e instanceof Error ? e.message : String(e) };
        }
        this.send(w, { t: "res", id: m.id, ...answer });
        return;
      }
    }
  }

  private dispatch(topic: string, data: unknown, from: number): void {
    this.handlers.dispatch(topic, data, from, (t, e) => this.opts.log.warn("cluster message handler failed", { topic: t, error: e instanceof Error ? e.message : String(e) }));
  }

  private send(w: Worker, m: LeadToWorker): void {
    const c = w.child;
    if (!c || !c.connected) return;
    try {
      c.send(m);
    } catch (e) {
      this.opts.log.debug("send to worker failed", { worker: w.index, error: (e as Error).message });
    }
  }

  private sendAll(m: LeadToWorker, except: number): void {
    for (const w of this.workers) if (w.index !== except) this.send(w, m);
  }
}
