/**
 * Long fuzzing run: every parser target in its own worker thread for the
 * given budget. A watchdog mirrors the input being run into shared memory;
 * if a worker makes no progress for WATCHDOG_MS, the input is saved as a
 * hang and the worker is restarted. Prints executions and failures per target.
 *
 *   scripts/torture/fuzz [--seconds N] [--targets smtp,imap,...] [--seed S]
 */
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { fuzzTarget, saveFailure, type FuzzStats, type FuzzTarget } from "../../tests/reliability/fuzz/engine.ts";

const WATCHDOG_MS = 5000;
const SAB_BYTES = 128 * 1024;
const ALL = ["smtp", "imap", "pop3", "mime", "wbxml", "http"];

interface Job {
  target: string;
  budgetMs: number;
  seed: number;
  sab: SharedArrayBuffer;
}

async function loadTarget(name: string): Promise<{ t: FuzzTarget; close?: () => Promise<void> }> {
  if (name === "http") {
    const { makeHttpTarget } = await import("../../tests/reliability/fuzz/http-target.ts");
    const h = await makeHttpTarget();
    return { t: h.target, close: h.close };
  }
  const { PARSER_TARGETS } = await import("../../tests/reliability/fuzz/targets.ts");
  const t = PARSER_TARGETS.find((x) => x.name === name);
  if (!t) throw new Error(`unknown target ${name}`);
  return { t };
}

if (!isMainThread) {
  const job = workerData as Job;
  const counter = new Int32Array(job.sab, 0, 2); // [execs, length]
  const bytes = new Uint8Array(job.sab, 8);
  const { t, close } = await loadTarget(job.target);
  const stats = await fuzzTarget(t, {
    budgetMs: job.budgetMs,
    seed: job.seed,
    save: true,
    batch: job.target === "http" ? 500 : 5000,
    onInput(input) {
      const n = Math.min(input.length, bytes.length);
      bytes.set(input.subarray(0, n));
      Atomics.store(counter, 1, n);
      Atomics.add(counter, 0, 1);
    },
  });
  await close?.();
  const { failures, ...rest } = stats;
  parentPort!.postMessage({ ...rest, failures: failures.map((f) => ({ kind: f.kind, message: f.message.split("\n")[0], file: f.file })) });
  process.exit(0);
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const seconds = Number(arg("--seconds") ?? 300);
const targets = (arg("--targets") ?? ALL.join(",")).split(",");
const seed = Number(arg("--seed") ?? Date.now() & 0x7fffffff);
const parallel = Number(arg("--parallel") ?? 2);

type Result = Omit<FuzzStats, "failures"> & { failures: { kind: string; message: string; file?: string }[]; restarts: number };

function runOne(target: string, budgetMs: number, s: number): Promise<Result> {
  return new Promise((resolve) => {
    const total: Result = { target, execs: 0, failures: [], heapStartMB: 0, heapEndMB: 0, ms: 0, maxExecMs: 0, restarts: 0 };
    const started = Date.now();
    const launch = (remaining: number, jobSeed: number) => {
      const sab = new SharedArrayBuffer(8 + SAB_BYTES);
      const counter = new Int32Array(sab, 0, 2);
      const w = new Worker(new URL(import.meta.url), { workerData: { target, budgetMs: remaining, seed: jobSeed, sab } satisfies Job });
      let last = -1;
      let lastChange = Date.now();
      let finished = false;
      const dog = setInterval(() => {
        const c = Atomics.load(counter, 0);
        if (c !== last) {
          last = c;
          lastChange = Date.now();
          return;
        }
        // Target setup (the HTTP one starts a server) gets a minute before the first input.
        if (Date.now() - lastChange < (c === 0 ? 60_000 : WATCHDOG_MS)) return;
        // Stuck: save the input it is on and start again with what is left of the budget.
        clearInterval(dog);
        finished = true;
        const len = Atomics.load(counter, 1);
        const input = new Uint8Array(sab, 8, len).slice();
        const f = { target, kind: "hang" as const, message: `no progress for ${WATCHDOG_MS} ms`, input };
        const file = saveFailure(f);
        total.failures.push({ kind: "hang", message: f.message, file });
        total.execs += c;
        total.restarts++;
        void w.terminate();
        const left = budgetMs - (Date.now() - started);
        if (left > 2000) launch(left, jobSeed + 1);
        else resolve({ ...total, ms: Date.now() - started });
      }, 500);
      w.on("message", (r: Result) => {
        if (finished) return;
        finished = true;
        clearInterval(dog);
        total.execs += r.execs;
        total.failures.push(...r.failures);
        total.heapStartMB = total.heapStartMB || r.heapStartMB;
        total.heapEndMB = r.heapEndMB;
        total.maxExecMs = Math.max(total.maxExecMs, r.maxExecMs);
        resolve({ ...total, ms: Date.now() - started });
      });
      w.on("error", (e) => {
        if (finished) return;
        finished = true;
        clearInterval(dog);
        total.failures.push({ kind: "crash", message: `worker died: ${String(e)}` });
        resolve({ ...total, ms: Date.now() - started });
      });
    };
    launch(budgetMs, s);
  });
}

console.log(`fuzz: ${targets.join(", ")} for ${seconds} s each, ${parallel} at a time, seed ${seed}`);
const results: Result[] = [];
const queue = [...targets];
await Promise.all(
  Array.from({ length: parallel }, async () => {
    for (let t = queue.shift(); t; t = queue.shift()) {
      const r = await runOne(t, seconds * 1000, seed + t.length * 7919);
      results.push(r);
      console.log(`  ${t}: ${r.execs} executions in ${(r.ms / 1000).toFixed(0)} s, ${r.failures.length} failures, slowest input ${r.maxExecMs.toFixed(0)} ms, heap ${r.heapStartMB.toFixed(1)} -> ${r.heapEndMB.toFixed(1)} MB`);
      for (const f of r.failures) console.log(`    ${f.kind}: ${f.message} -> ${f.file ?? ""}`);
    }
  }),
);
console.log("\n| Parser | Executions | Crashes | Hangs (>1 s) | Memory | Slowest input |");
console.log("|---|---|---|---|---|---|");
for (const r of results.sort((a, b) => ALL.indexOf(a.target) - ALL.indexOf(b.target))) {
  const n = (k: string) => r.failures.filter((f) => f.kind === k).length;
  console.log(`| ${r.target} | ${r.execs} | ${n("crash")} | ${n("hang")} | ${n("memory") ? "GROWTH" : `ok (${r.heapStartMB.toFixed(0)}->${r.heapEndMB.toFixed(0)} MB heap)`} | ${r.maxExecMs.toFixed(0)} ms |`);
}
const bad = results.reduce((a, r) => a + r.failures.length, 0);
console.log(bad ? `FAIL: ${bad} failures` : "OK: 0 failures");
process.exit(bad ? 1 : 0);
