/**
 * Footprint of the compiled binary (issue "Foundation", done-when 4):
 *  - start-to-listening: exec -> every configured listener accepts a TCP
 *    connection and SMTP greets (median of 5 restarts on an existing data dir;
 *    the first start, which creates the database and certificate, is shown too);
 *  - idle RSS 2 s after start (VmRSS from /proc);
 *  - store throughput: deliveries/s of 10 KB messages with fsync on, measured
 *    by the binary itself (`pillarbox bench-store`).
 * Writes the figures into docs/BENCHMARKS.md, section "Footprint".
 *
 *   scripts/bench/footprint [--binary dist/pillarbox] [--count 2000] [--no-write]
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const arg = (name: string, def: string) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  if (a) return a.slice(name.length + 3);
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
};
const binary = resolve(ROOT, arg("binary", "dist/pillarbox"));
const count = Number(arg("count", "2000"));
const write = !process.argv.includes("--no-write");
const RUNS = 5;
const LISTENERS = ["SMTP", "SUBMISSION", "SUBMISSIONS", "IMAP", "IMAPS", "POP3", "POP3S", "HTTP", "HTTPS", "MANAGESIEVE"];

if (!existsSync(binary)) {
  console.error(`footprint: ${binary} not found; run npm run build first`);
  process.exit(1);
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

function tryConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), res(true)));
    s.once("error", () => res(false));
  });
}

function banner(port: number): Promise<string> {
  return new Promise((res, rej) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("data", (d) => (s.destroy(), res(d.toString().split("\r\n")[0]!)));
    s.once("error", rej);
  });
}

async function waitExit(p: ChildProcess): Promise<number | null> {
  if (p.exitCode !== null) return p.exitCode;
  return new Promise((r) => p.once("exit", (c) => r(c)));
}

interface StartResult {
  ms: number;
  rssMb: number;
  /** RSS split: anonymous (heap, stacks) vs file-backed (the executable's code and embedded bundle, the extracted addon). */
  anonMb: number;
  fileMb: number;
  listeners: string[];
  greeting: string;
}

/** Listeners whose protocol is built, learned from the first start's "pillarbox serving" log line. */
let served: string[] = LISTENERS;

async function startOnce(dataDir: string, measureRss: boolean, learn = false): Promise<StartResult> {
  const ports: Record<string, number> = {};
  const env: Record<string, string> = { ...(process.env as Record<string, string>), PILLARBOX_DATA_DIR: dataDir, PILLARBOX_HOSTNAME: "bench.pillarbox.test", PILLARBOX_LOG_LEVEL: learn ? "info" : "warn" };
  for (const l of LISTENERS) {
    ports[l] = await freePort();
    env[`PILLARBOX_${l}_LISTEN`] = `127.0.0.1:${ports[l]}`;
  }
  let stderr = "";
  const t0 = performance.now();
  const p = spawn(binary, ["serve"], { env, stdio: ["ignore", "ignore", "pipe"] });
  p.stderr!.on("data", (d) => (stderr += d));
  let pending = new Set(served);
  const learnServed = () => {
    const line = stderr.split("\n").find((l) => l.includes('"msg":"pillarbox serving"'));
    if (!line) return false;
    served = Object.keys(JSON.parse(line).listeners);
    pending = new Set([...pending].filter((l) => served.includes(l)));
    return true;
  };
  let learned = !learn;
  let ms = 0;
  const deadline = t0 + 30_000;
  let smtpUp = false;
  while (performance.now() < deadline && p.exitCode === null) {
    if (!smtpUp) smtpUp = await tryConnect(ports.SMTP!);
    if (smtpUp && !learned) learned = learnServed();
    if (smtpUp && learned) {
      // The kernel binds listeners one after another; wait until the last configured one accepts.
      for (const l of [...pending]) if (await tryConnect(ports[l]!)) pending.delete(l);
      if (pending.size === 0) {
        ms = performance.now() - t0;
        break;
      }
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  if (!ms) {
    p.kill("SIGKILL");
    throw new Error(`server did not start: ${stderr}`);
  }
  const greeting = await banner(ports.SMTP!);
  let rssMb = 0;
  let anonMb = 0;
  let fileMb = 0;
  if (measureRss) {
    await new Promise((r) => setTimeout(r, 2000));
    const status = readFileSync(`/proc/${p.pid}/status`, "utf8");
    rssMb = Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
    anonMb = Number(/RssAnon:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
    fileMb = Number(/RssFile:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
  }
  p.kill("SIGTERM");
  const code = await waitExit(p);
  if (code !== 0) throw new Error(`serve exited ${code} on SIGTERM: ${stderr}`);
  return { ms, rssMb, anonMb, fileMb, listeners: served.filter((l) => !pending.has(l)), greeting };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const work = mkdtempSync(join(tmpdir(), "pb-footprint-"));
try {
  const dataDir = join(work, "data");
  const first = await startOnce(dataDir, false, true);
  const runs: StartResult[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await startOnce(dataDir, i === RUNS - 1 ? true : false));
  const rssRuns = [runs[RUNS - 1]!.rssMb];
  const startMs = median(runs.map((r) => r.ms));
  const fastest = Math.min(...runs.map((r) => r.ms));
  const rss = median(rssRuns);
  const last = runs[RUNS - 1]!;

  const bench = spawnSync(binary, ["bench-store", "--count", String(count), "--dir", work], { encoding: "utf8" });
  const m = /deliveries_per_second=(\d+)/.exec(bench.stdout);
  if (!m) throw new Error(`bench-store failed: ${bench.stdout}${bench.stderr}`);
  const rate = Number(m[1]);
  const serial = spawnSync(binary, ["bench-store", "--count", String(Math.min(count, 500)), "--concurrency", "1", "--dir", work], { encoding: "utf8" });
  const serialRate = Number(/deliveries_per_second=(\d+)/.exec(serial.stdout)?.[1] ?? NaN);

  const size = statSync(binary).size / 1024 / 1024;
  const gz = spawnSync("sh", ["-c", `gzip -1 -c ${JSON.stringify(binary)} | wc -c`], { encoding: "utf8" });
  const gzMb = Number(gz.stdout.trim()) / 1024 / 1024;
  const lines = [
    `binary: ${binary.replace(ROOT + "/", "")} ${size.toFixed(1)} MiB (gzip -1: ${gzMb.toFixed(1)} MiB)`,
    `listeners up: ${runs[0]!.listeners.join(" ")} (greeting: ${runs[0]!.greeting})`,
    `start-to-listening: median ${startMs.toFixed(0)} ms of ${RUNS} restarts (${runs.map((r) => r.ms.toFixed(0)).join(", ")} ms); first start (creates database + certificate): ${first.ms.toFixed(0)} ms   [target < 300 ms]`,
    `idle RSS 2 s after start: ${rss.toFixed(1)} MB (anonymous ${last.anonMb.toFixed(1)} MB, file-backed ${last.fileMb.toFixed(1)} MB)   [target < 80 MB]`,
    `store deliveries, 10 KB messages, fsync on: ${rate} /s with 16 concurrent deliveries (${count} messages); ${serialRate} /s one at a time`,
  ];
  for (const l of lines) console.log(l);

  if (write) {
    const file = join(ROOT, "docs", "BENCHMARKS.md");
    const date = new Date().toISOString().slice(0, 10);
    const section = `## Footprint

Measured by \`scripts/bench/footprint\` on ${date} (${cpus().length} cores, ${cpus()[0]?.model.trim() ?? "unknown CPU"}, load average ${loadavg()[0]!.toFixed(1)} at the end: the machine was shared with other work, so treat the figures as indicative).

| Figure | Value | Target |
|---|---|---|
| Binary size (linux-x64) | ${size.toFixed(1)} MiB (${gzMb.toFixed(1)} MiB gzipped) | |
| Start to listening (median of ${RUNS} restarts, exec -> all listeners accept) | ${startMs.toFixed(0)} ms (fastest ${fastest.toFixed(0)} ms) | < 300 ms |
| First start (creates database, migrations, certificate) | ${first.ms.toFixed(0)} ms | |
| Idle RSS 2 s after start | ${rss.toFixed(1)} MB (anonymous ${last.anonMb.toFixed(1)} MB; file-backed ${last.fileMb.toFixed(1)} MB: the executable's code and embedded modules, the unpacked SQLite addon) | < 80 MB |
| Store deliveries/s, 10 KB, fsync on, 16 concurrent | ${rate} | |
| Store deliveries/s, 10 KB, fsync on, one at a time | ${serialRate} | |

Listeners up during the measurement: ${runs[0]!.listeners.join(", ")}.
`;
    let text = existsSync(file) ? readFileSync(file, "utf8") : "# Benchmarks\n\nEach section is owned by the part it measures; re-run its script to refresh it.\n";
    const re = /## Footprint\n[\s\S]*?(?=\n## |$)/;
    if (re.test(text)) text = text.replace(re, section.trimEnd() + "\n");
    else text = text.trimEnd() + "\n\n" + section;
    writeFileSync(file, text);
    console.log(`wrote the Footprint section of ${file.replace(ROOT + "/", "")}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
