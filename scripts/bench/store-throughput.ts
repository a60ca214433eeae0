/**
 * Local delivery throughput of the mail store: 10 KB messages to one
 * mailbox, fsync on (blob fsync + WAL fsync at commit), with concurrent
 * deliver() calls as an SMTP server would issue them (group commit).
 *
 *   bun scripts/bench/store-throughput.ts [count] [concurrency]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../../storage/store.ts";

function message(i: number): Uint8Array {
  const head = `From: Bench <bench@example.net>\r\nTo: user@bench.test\r\nSubject: bench message ${i}\r\nMessage-ID: <bench-${i}-${Math.random().toString(36).slice(2)}@example.net>\r\nDate: ${new Date().toUTCString()}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n`;
  const line = `Line of body text for message ${i}, lorem ipsum dolor sit amet.\r\n`;
  let body = "";
  while (head.length + body.length < 10 * 1024) body += line;
  return new TextEncoder().encode((head + body).slice(0, 10 * 1024));
}

/** Deliveries per second for `count` 10 KB messages into a fresh store under `dataDir`. */
export async function measureDeliveryThroughput(dataDir: string, count: number, concurrency = 16): Promise<number> {
  const store = await openStore({ url: `file:${join(dataDir, "bench.db")}`, dataDir, gcIntervalMs: 0 });
  try {
    await store.addDomain("bench.test");
    const acct = await store.addAccount("user@bench.test", "bench-password");
    const msgs = Array.from({ length: Math.min(count, 256) }, (_, i) => message(i));
    let next = 0;
    const t0 = performance.now();
    const worker = async () => {
      while (true) {
        const i = next++;
        if (i >= count) return;
        // vary one byte so every message is a distinct blob (no dedupe shortcut)
        const raw = msgs[i % msgs.length].slice();
        const tag = new TextEncoder().encode(String(i).padStart(8, "0"));
        raw.set(tag, raw.length - tag.length - 2);
        await store.deliver(raw, [{ accountId: acct.id }]);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
    const secs = (performance.now() - t0) / 1000;
    return count / secs;
  } finally {
    await store.close();
  }
}

if (import.meta.main) {
  const count = Number(process.argv[2] ?? 2000);
  const conc = Number(process.argv[3] ?? 16);
  const dirs = [mkdtempSync(join(tmpdir(), "pb-store-bench-")), mkdtempSync(join(tmpdir(), "pb-store-bench-"))];
  try {
    const rate = await measureDeliveryThroughput(dirs[0], count, conc);
    console.log(`store deliveries: ${count} x 10 KB, concurrency ${conc}, fsync on: ${rate.toFixed(0)} /s`);
    const serial = await measureDeliveryThroughput(dirs[1], Math.min(count, 500), 1);
    console.log(`store deliveries: ${Math.min(count, 500)} x 10 KB, one at a time, fsync on: ${serial.toFixed(0)} /s`);
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
