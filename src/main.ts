#!/usr/bin/env bun
/**
 * The `pillarbox` executable: `pillarbox --help` lists the commands
 * (src/cli/commands.ts).
 */
import { runCli } from "./cli/run.ts";
import type { CliIO } from "./cli/command.ts";

// A reader that goes away (`pillarbox quickstart | head -1`) closes the pipe: the write fails
// with EPIPE, synchronously or as an 'error' event. The command still finishes its work (a
// half-done quickstart would be worse) and the rest of its output is dropped, without a trace.
const closed = { out: false, err: false };
function writer(stream: NodeJS.WriteStream, key: "out" | "err"): (t: string) => void {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE" || e.code === "ERR_STREAM_DESTROYED") closed[key] = true;
    else throw e;
  });
  return (t) => {
    if (closed[key]) return;
    try {
      stream.write(t);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EPIPE") throw e;
      closed[key] = true;
    }
  };
}

const io: CliIO = {
  out: writer(process.stdout, "out"),
  err: writer(process.stderr, "err"),
  async readStdin() {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
    return Buffer.concat(chunks).toString("utf8");
  },
  env: process.env,
  async confirm(question) {
    if (!process.stdin.isTTY) return null;
    const { createInterface } = await import("node:readline");
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await new Promise<string>((r) => {
        rl.question(question, r);
        // Ctrl-C or Ctrl-D at the question is a "no" (an empty answer), not a hang.
        rl.once("SIGINT", () => {
          io.err("\n");
          r("");
        });
        rl.once("close", () => r(""));
      });
    } finally {
      rl.close();
    }
  },
};

const code = await runCli(process.argv.slice(2), io);
// Flush stdout/stderr before exiting: piped output is written asynchronously.
const flush = (stream: NodeJS.WriteStream, key: "out" | "err") =>
  closed[key] ? Promise.resolve() : new Promise<void>((r) => {
    try {
      stream.write("", () => r());
    } catch {
      r();
    }
  });
await flush(process.stdout, "out");
await flush(process.stderr, "err");
process.exit(code);
