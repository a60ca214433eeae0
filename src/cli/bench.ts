/**
 * `pillarbox bench-store` (hidden): local delivery throughput of this very
 * binary's store (10 KB messages, fsync on), for scripts/bench/footprint.
 * The workload lives in ./bench-store.ts (shared with
 * scripts/bench/store-throughput.ts, which also measures listing and flags).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStorage } from "../../storage/open.ts";
import { benchAccount, measureDeliveries } from "./bench-store.ts";
import type { Command } from "./command.ts";
import { UsageError } from "./common.ts";
import { passwordHasher } from "../auth.ts";

export const benchCommands: Command[] = [
  {
    name: "bench-store",
    usage: "[--count N] [--concurrency N] [--dir DIR]",
    summary: "measure store deliveries per second (10 KB messages, fsync on)",
    hidden: true,
    options: {
      count: { value: true, arg: "N", help: "messages to deliver (default 2000)" },
      concurrency: { value: true, arg: "N", help: "concurrent deliveries (default 16)" },
      dir: { value: true, arg: "DIR", help: "parent directory for the temporary store (default: the system temp dir)" },
    },
    args: [0, 0],
    async run(args, io) {
      const num = (k: string, d: number) => {
        const v = args.options[k];
        if (v === undefined) return d;
        if (typeof v !== "string" || !/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`--${k} takes a positive number`, "bench-store");
        return Number(v);
      };
      const count = num("count", 2000);
      const conc = num("concurrency", 16);
      const parent = typeof args.options["dir"] === "string" ? args.options["dir"] : tmpdir();
      const dir = mkdtempSync(join(parent, "pb-bench-store-"));
      try {
        // opened as the server opens it (one connection for every store), on a fresh SQLite file
        const storage = await openStorage({ hasher: passwordHasher, url: `file:${join(dir, "bench.db")}`, dataDir: dir, gcIntervalMs: 0 });
        const store = storage.mail;
        try {
          const acct = await benchAccount(store);
          const rate = await measureDeliveries(store, acct.accountId, acct.email, count, conc);
          io.out(`deliveries_per_second=${rate.toFixed(0)} count=${count} concurrency=${conc} size=10KB fsync=on\n`);
        } finally {
          await storage.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
];
