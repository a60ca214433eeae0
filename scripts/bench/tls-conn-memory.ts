/**
 * What one held connection costs the server process, by how it is accepted
 * (the TLS share of a held ActiveSync Ping, docs/BENCHMARKS.md Issue 16):
 *   plain      a plain TCP socket
 *   fresh      TLS through a new tls.Server per connection (src/tls.ts before 3ec5ee8)
 *   shared     TLS through one tls.Server for every connection (src/tls.ts now)
 * The server runs in a child process; after 50 warm-up connections, N more
 * are opened and held (each has sent a few bytes), and the difference of the
 * settled RSS (full collections until it stops moving) is divided by N.
 * Benchmark tooling (uses Bun's gc/shrink when run on Bun).
 *
 *   bun scripts/bench/tls-conn-memory.ts [--connections 1000] [--modes plain,fresh,shared]
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import { createInterface } from "node:readline";
import { createSelfSignedCertificate } from "../../src/x509.ts";

const opt = (name: string, d: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : d;
};

async function settledRss(): Promise<number> {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void; shrink?(): void } };
  let last = -1;
  for (let i = 0; i < 20; i++) {
    if (g.gc) g.gc();
    else {
      g.Bun?.gc(true);
      g.Bun?.shrink?.();
    }
    await new Promise((r) => setTimeout(r, 250));
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))![1]) * 1024;
    if (last >= 0 && Math.abs(rss - last) < 256 * 1024) return rss;
    last = rss;
  }
  return last;
}

if (process.argv[2] === "--serve") {
  const mode = process.argv[3]!;
  const { certPem: cert, keyPem: key } = createSelfSignedCertificate(["localhost"]);
  const held: net.Socket[] = [];
  const keep = (s: net.Socket) => {
    s.on("data", () => {});
    s.on("error", () => {});
    held.push(s);
  };
  const shared = tls.createServer({ cert, key }, keep);
  const srv = net.createServer((raw) => {
    if (mode === "plain") keep(raw);
    else if (mode === "shared") shared.emit("connection", raw);
    else {
      const s = tls.createServer({ cert, key }, keep);
      s.emit("connection", raw);
    }
  });
  srv.listen(0, "127.0.0.1", () => process.stdout.write(`PORT ${(srv.address() as net.AddressInfo).port}\n`));
  createInterface({ input: process.stdin }).on("line", async () => process.stdout.write(`RSS ${await settledRss()} ${held.length}\n`));
} else {
  const n = Number(opt("connections", "1000"));
  for (const mode of opt("modes", "plain,fresh,shared").split(",")) {
    const child = spawn(process.execPath, [import.meta.filename ?? new URL(import.meta.url).pathname, "--serve", mode], { stdio: ["pipe", "pipe", "inherit"] });
    const lines = createInterface({ input: child.stdout! });
    const queue: string[] = [];
    const waiting: ((l: string) => void)[] = [];
    lines.on("line", (l) => (waiting.length ? waiting.shift()!(l) : queue.push(l)));
    const next = () => new Promise<string>((r) => (queue.length ? r(queue.shift()!) : waiting.push(r)));
    const port = Number((await next()).split(" ")[1]);
    const socks: net.Socket[] = [];
    const open = () =>
      new Promise<void>((resolve, reject) => {
        const s = mode === "plain" ? net.connect(port, "127.0.0.1", () => (s.write("hello"), resolve())) : tls.connect({ port, host: "127.0.0.1", rejectUnauthorized: false }, () => (s.write("hello"), resolve()));
        s.on("error", reject);
        socks.push(s);
      });
    for (let i = 0; i < 50; i++) await open();
    child.stdin!.write("RSS\n");
    const before = Number((await next()).split(" ")[1]);
    for (let i = 0; i < n; i += 20) await Promise.all(Array.from({ length: Math.min(20, n - i) }, open));
    await new Promise((r) => setTimeout(r, 500));
    child.stdin!.write("RSS\n");
    const [, after, count] = (await next()).split(" ");
    console.log(`${mode}: ${((Number(after) - before) / n / 1024).toFixed(1)} KiB per held connection (${count} held)`);
    for (const s of socks) s.destroy();
    child.kill();
  }
  process.exit(0);
}
