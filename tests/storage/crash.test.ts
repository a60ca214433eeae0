/**
 * Crash safety: a process delivering in a loop is killed with SIGKILL. On
 * reopen every acknowledged message is there, every item's blob exists,
 * matches its content hash and parses, the database passes
 * PRAGMA integrity_check, and garbage collection removes orphan blobs only.
 *
 * On both engines: on SQLite the killed process owned the database file (WAL
 * recovery, PRAGMA integrity_check); on PostgreSQL the server rolls back the
 * killed client's open transaction, and what it acknowledged was committed.
 */
import { expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { sha256Hex } from "../../storage/blobstore.ts";
import { analyzeMessage } from "../../mail/index.ts";
import { BUN, bytes, setupAccount, tempStore } from "./helpers.ts";
import { storeEngines } from "../helpers/engines.ts";

const WORKER = join(import.meta.dir, "fixtures/append-worker.ts");

for (const engine of storeEngines()) {
test(`${engine}: SIGKILL during delivery loses nothing acknowledged and leaves no half message`, async () => {
  const t = await tempStore({ engine });
  try {
    const { account, inbox } = await setupAccount(t.store);
    await t.store.close();

    const acked: number[] = [];
    await new Promise<void>((resolve, reject) => {
      const p = spawn(BUN, [WORKER, t.dir, t.url, `account:${account.id}`, "forever", "crash"], { stdio: ["ignore", "pipe", "pipe"] });
      let buf = "";
      let killed = false;
      p.stdout.on("data", (d) => {
        buf += d;
        const lines = buf.split("\n");
        buf = lines.pop() ?? "";
        for (const l of lines) if (l) acked.push(Number(l.split(" ")[0]));
        // kill at an arbitrary moment once a good number of messages went through
        if (!killed && acked.length >= 150) {
          killed = true;
          setTimeout(() => p.kill("SIGKILL"), Math.floor(Math.random() * 20));
        }
      });
      p.on("error", reject);
      p.on("exit", (_code, signal) => (signal === "SIGKILL" ? resolve() : reject(new Error(`worker ended without kill: ${signal}`))));
    });
    expect(acked.length).toBeGreaterThanOrEqual(150);

    const store = await t.reopen();
    expect(await store.integrityCheck()).toEqual(["ok"]);
    const list = await store.listMessages(inbox.id);
    const present = new Set(list.map((m) => m.uid));
    for (const uid of acked) expect(present.has(uid)).toBe(true); // acknowledged => committed
    expect((await store.quota(account.id)).messages).toBe(list.length);

    const idx = await store.getMessages(inbox.id, list.map((m) => m.uid));
    expect(idx.length).toBe(list.length);
    const referenced = new Set<string>();
    for (const m of idx) {
      referenced.add(m.blobId);
      const raw = await store.blobs.get(m.blobId);
      expect(raw.byteLength).toBe(m.size);
      expect(sha256Hex(raw)).toBe(m.blobId);
      const a = analyzeMessage(raw);
      expect(a.subject).toBe(m.subject);
      expect(m.subject).toMatch(/^crash-\d+$/);
    }

    // an orphan we know of (as a crash between blob write and commit leaves), plus whatever the kill left
    const orphan = await store.blobs.put(bytes("Subject: orphan\r\n\r\nnever committed\r\n"));
    const before: string[] = [];
    for await (const id of store.blobs.list()) before.push(id);
    const orphans = before.filter((id) => !referenced.has(id));
    expect(orphans).toContain(orphan);

    // with the default grace period young orphans are kept (an uncommitted delivery may own them)
    expect(await store.collectGarbage()).toBe(0);
    const removed = await store.collectGarbage({ graceMs: 0 });
    expect(removed).toBe(orphans.length);
    const after: string[] = [];
    for await (const id of store.blobs.list()) after.push(id);
    expect(new Set(after)).toEqual(referenced);
    for (const m of idx) expect(await store.blobs.has(m.blobId)).toBe(true);
    // still searchable after GC (full-text rows of live blobs untouched)
    const last = idx[idx.length - 1];
    expect(await store.searchText(inbox.id, "subject", last.subject)).toContain(last.uid);
    expect(await store.integrityCheck()).toEqual(["ok"]);
  } finally {
    await t.cleanup();
  }
}, 120_000);
}
