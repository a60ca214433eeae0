/**
 * Store workloads measured by `pillarbox bench-store` (the footprint bench)
 * and by scripts/bench/store-throughput.ts (both engines side by side). They
 * use only the MailStore API, so they run unchanged on any engine and on an
 * older checkout's store.
 */
import type { MailStore } from "../../storage/api.ts";

const encoder = new TextEncoder();

/** A 10 KB plain-text message (headers + body), distinct per `i`. */
export function benchMessage(i: number, to: string, size = 10 * 1024): Uint8Array {
  const head =
    `From: Bench <bench@example.net>\r\nTo: ${to}\r\nSubject: bench message ${i}\r\n` +
    `Message-ID: <bench-${i}-${Math.random().toString(36).slice(2)}@example.net>\r\n` +
    `Date: ${new Date().toUTCString()}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n`;
  const line = `Line of body text for message ${i}, lorem ipsum dolor sit amet.\r\n`;
  let body = "";
  while (head.length + body.length < size) body += line;
  return encoder.encode((head + body).slice(0, size));
}

/** A fresh account on a fresh domain (unique per call, so a shared database can be reused). */
export async function benchAccount(store: MailStore, label = "bench"): Promise<{ accountId: number; email: string; domain: string }> {
  const domain = `${label}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}.test`;
  await store.addDomain(domain);
  const email = `user@${domain}`;
  const acct = await store.addAccount(email, "bench-password");
  return { accountId: acct.id, email, domain };
}

/** Removes what benchAccount created (its mail goes with the account). */
export async function dropBenchAccount(store: MailStore, a: { email: string; domain: string }): Promise<void> {
  await store.removeAccount(a.email);
  await store.removeDomain(a.domain);
}

/**
 * Deliveries per second of `count` 10 KB messages to one mailbox with
 * `concurrency` deliver() calls in flight (as SMTP sessions issue them).
 */
export async function measureDeliveries(store: MailStore, accountId: number, to: string, count: number, concurrency = 16): Promise<number> {
  const msgs = Array.from({ length: Math.min(count, 256) }, (_, i) => benchMessage(i, to));
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (true) {
      const i = next++;
      if (i >= count) return;
      // vary bytes so every message is a distinct blob (no dedupe shortcut)
      const raw = msgs[i % msgs.length]!.slice();
      const tag = encoder.encode(String(i).padStart(8, "0"));
      raw.set(tag, raw.length - tag.length - 2);
      await store.deliver(raw, [{ accountId }]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return count / ((performance.now() - t0) / 1000);
}

/** Appends `count` small messages to a folder in batches of 1,000 (a bench fixture, not a measurement). */
export async function fillFolder(store: MailStore, folderId: number, count: number): Promise<void> {
  const raw = encoder.encode("From: a@b.test\r\nTo: u@list.test\r\nSubject: fill\r\n\r\nbody\r\n");
  for (let i = 0; i < count; i += 1000) {
    await store.append(
      folderId,
      Array.from({ length: Math.min(1000, count - i) }, (_, j) => ({ raw, flags: (i + j) % 3 ? ["\\Seen"] : ["\\Seen", "$Work"] })),
    );
  }
}

/** Milliseconds of each of `runs` calls of `fn`. */
export async function timeRuns(fn: () => Promise<unknown>, runs: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return ms;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}
