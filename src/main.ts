#!/usr/bin/env bun
/**
 * The `pillarbox` executable: `pillarbox --help` lists the commands
 * (src/cli/commands.ts).
 */
import { runCli } from "./cli/run.ts";
import type { CliIO } from "./cli/command.ts";

const io: CliIO = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  async readStdin() {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
    return Buffer.concat(chunks).toString("utf8");
  },
  env: process.env,
};

const code = await runCli(process.argv.slice(2), io);
// Flush stdout/stderr before exiting: piped output is written asynchronously.
await new Promise<void>((r) => process.stdout.write("", () => r()));
await new Promise<void>((r) => process.stderr.write("", () => r()));
process.exit(code);
