/**
 * Read paths on a large folder: listMessages (IMAP SELECT), folderStatus,
 * changesSince, getMessages, storeFlags on the whole folder.
 *   bun scripts/bench/store-list.ts [messages=100000]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../../storage/store.ts";
import { passwordHasher } from "../../src/auth.ts";

const N = Number(process.argv[2] ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), "pb-store-list-"));
let store = await openStore({ hasher: passwordHasher, url: `file:${join(dir, "list.db")}`, dataDir: dir, gcIntervalMs: 0 });
const time = async <T>(label: string, fn: () => Promise<T>, runs = 5): Promise<T> => {
  let r: T | undefined;
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    r = await fn();
    ms.push(performance.now() - t0);
  }
  const first = ms[0];
  ms.sort((a, b) => a - b);
  console.log(`${label}: first ${first.toFixed(1)} ms, median ${ms[Math.floor(ms.length / 2)].toFixed(1)} ms (min ${ms[0].toFixed(1)}) over ${runs}`);
  return r as T;
};
try {
  await store.addDomain("list.test");
  const acct = await store.addAccount("u@list.test", "pw");
  const inbox = (await store.getFolder(acct.id, "INBOX"))!;
  const raw = new TextEncoder().encode("From: a@b.test\r\nTo: u@list.test\r\nSubject: same\r\n\r\nbody\r\n");
  const t0 = performance.now();
  for (let i = 0; i < N; i += 1000) {
    await store.append(inbox.id, Array.from({ length: Math.min(1000, N - i) }, (_, j) => ({ raw, flags: (i + j) % 3 ? ["\\Seen"] : ["\\Seen", "$Work"] })));
  }
  console.log(`fill ${N}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  // a fresh store: the first listing is a cold load, the rest come from the cache
  await store.close();
  store = await openStore({ hasher: passwordHasher, url: `file:${join(dir, "list.db")}`, dataDir: dir, gcIntervalMs: 0 });
  const list = await time(`listMessages(${N})`, () => store.listMessages(inbox.id));
  await store.storeFlags(inbox.id, [list[5].uid, list[50_000 % list.length].uid], "add", ["\\Answered"]);
  await time(`listMessages after a flag change elsewhere (incremental)`, () => store.listMessages(inbox.id), 1);
  if (list.length !== N) throw new Error("count mismatch");
  await time("folderStatus", () => store.folderStatus(inbox.id));
  const hm = (await store.getFolderById(inbox.id))!.highestModseq;
  await time("changesSince(highest-1)", () => store.changesSince(inbox.id, hm - 1));
  await time("getMessages(100)", () => store.getMessages(inbox.id, list.slice(-100).map((m) => m.uid)));
  await time("getMessages(all uids, envelope fetch)", () => store.getMessages(inbox.id, list.map((m) => m.uid)), 1);
  await time("searchText subject", () => store.searchText(inbox.id, "subject", "same"), 1);
  await time("storeFlags +\\Flagged on all", () => store.storeFlags(inbox.id, list.map((m) => m.uid), "add", ["\\Flagged"]), 1);
  await time("expunge none", () => store.expunge(inbox.id), 3);
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
