/**
 * Blob garbage collection (storage/blob-gc.ts): set-based over every table
 * that references blobs (messages, the queue, webmail uploads), on any
 * BlobStore, sparing young blobs.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { BlobStore } from "../../storage/api.ts";
import { openStorage, type Storage } from "../../storage/open.ts";
import { passwordHasher } from "../../src/auth.ts";
import { storeEngines, freshPgUrl, dropPgSchema } from "../helpers/engines.ts";
import { bytes, makeMessage, setupAccount, tempDir, text } from "./helpers.ts";

/** A BlobStore that is not a file system: bytes in a Map, with write times the test can age. */
class MemBlobStore implements BlobStore {
  readonly data = new Map<string, { bytes: Uint8Array; at: number }>();
  deletes = 0;
  async put(d: Uint8Array): Promise<string> {
    const id = createHash("sha256").update(d).digest("hex");
    if (!this.data.has(id)) this.data.set(id, { bytes: d.slice(), at: Date.now() });
    return id;
  }
  async get(id: string): Promise<Uint8Array> {
    const e = this.data.get(id);
    if (!e) throw new Error(`no blob ${id}`);
    return e.bytes.slice();
  }
  async getRange(id: string, start: number, end: number): Promise<Uint8Array> {
    return (await this.get(id)).slice(start, end);
  }
  stream(id: string, start = 0, end?: number): ReadableStream<Uint8Array> {
    return new ReadableStream({
      pull: async (c) => {
        const b = await this.get(id);
        c.enqueue(b.slice(start, end ?? b.length));
        c.close();
      },
    });
  }
  async has(id: string): Promise<boolean> {
    return this.data.has(id);
  }
  async delete(id: string): Promise<void> {
    if (this.data.delete(id)) this.deletes++;
  }
  async *list(): AsyncIterable<string> {
    yield* [...this.data.keys()];
  }
  async modifiedAt(id: string): Promise<number | null> {
    return this.data.get(id)?.at ?? null;
  }
  /** Makes every blob look `ms` older. */
  age(ms: number): void {
    for (const e of this.data.values()) e.at -= ms;
  }
}

const HOUR = 3600_000;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c().catch(() => {});
});

for (const engine of storeEngines()) {
  describe(`engine ${engine}`, () => {
    async function open(blobs?: BlobStore): Promise<Storage> {
      const dir = tempDir();
      const url = engine === "postgres" ? await freshPgUrl("gc") : `file:${join(dir, "mail.db")}`;
      const s = await openStorage({ url, dataDir: dir, gcIntervalMs: 0, hasher: passwordHasher, blobs });
      cleanups.push(async () => {
        await s.close();
        rmSync(dir, { recursive: true, force: true });
        if (engine === "postgres") await dropPgSchema(url);
      });
      return s;
    }

    test("collects an orphan upload and an orphan message blob, keeps everything referenced", async () => {
      const s = await open();
      const { account, inbox } = await setupAccount(s.mail, "gc@example.com");
      const kept = makeMessage({ subject: "delivered" });
      await s.mail.deliver(kept, [{ accountId: account.id }]);
      const queued = makeMessage({ subject: "queued" });
      await s.mail.enqueue({ sender: "gc@example.com", recipients: ["x@remote.example"], raw: queued });
      // a message blob whose delivery never committed
      const orphanMessage = await s.blobs.put(makeMessage({ subject: "never committed" }));
      // an upload still waiting, one removed, and one removed whose bytes a message shares
      const waiting = await s.webmail.putUpload(account.id, { name: "a.txt", type: "text/plain", data: bytes("still waiting") }, 1 << 20);
      const dropped = await s.webmail.putUpload(account.id, { name: "b.txt", type: "text/plain", data: bytes("sent and gone") }, 1 << 20);
      const shared = await s.webmail.putUpload(account.id, { name: "c.eml", type: "message/rfc822", data: kept }, 1 << 20);
      expect(await s.webmail.removeUpload(account.id, dropped.id)).toBe(true);
      expect(await s.webmail.removeUpload(account.id, shared.id)).toBe(true);
      const droppedBlob = createHash("sha256").update(bytes("sent and gone")).digest("hex");

      // within the grace period nothing goes
      expect(await s.mail.collectGarbage()).toBe(0);
      expect(await s.mail.collectGarbage({ graceMs: 0 })).toBe(2);
      expect(await s.blobs.has(orphanMessage)).toBe(false);
      expect(await s.blobs.has(droppedBlob)).toBe(false);
      // referenced: the delivered message (also the removed upload's bytes), the queue entry, the waiting upload
      const [m] = await s.mail.listMessages(inbox.id);
      expect(text(await s.mail.readMessage(m.id))).toContain("delivered");
      const [q] = await s.mail.listQueue();
      expect(await s.blobs.has(q.blobId)).toBe(true);
      expect(text((await s.webmail.readUpload(account.id, waiting.id))!.data)).toBe("still waiting");
      expect(await s.mail.collectGarbage({ graceMs: 0 })).toBe(0);
    });

    test("works on a BlobStore that is not a file system, in batches, sparing young blobs", async () => {
      const mem = new MemBlobStore();
      const s = await open(mem);
      expect(s.blobs).toBe(mem);
      const { account, inbox } = await setupAccount(s.mail, "mem@example.com");
      for (let i = 0; i < 3; i++) await s.mail.deliver(makeMessage({ subject: `kept ${i}` }), [{ accountId: account.id }]);
      // more orphans than one batch of the collector
      for (let i = 0; i < 1200; i++) await mem.put(bytes(`orphan ${i}`));
      const young = await mem.put(bytes("written just now"));
      expect(mem.data.size).toBe(3 + 1200 + 1);
      mem.age(2 * HOUR);
      mem.data.get(young)!.at = Date.now();
      expect(await s.mail.collectGarbage({ graceMs: HOUR })).toBe(1200);
      expect(mem.deletes).toBe(1200);
      expect([...mem.data.keys()].sort()).toEqual([...(await Promise.all((await s.mail.listMessages(inbox.id)).map(async (m) => (await s.mail.getMessageById(m.id))!.blobId))), young].sort());
      for (const m of await s.mail.listMessages(inbox.id)) expect(text(await s.mail.readMessage(m.id))).toContain("kept");
      // the blobs rows of collected message blobs go too: an expunged message's blob is collected with its row
      await s.mail.expunge(inbox.id, [1]);
      mem.age(2 * HOUR);
      expect(await s.mail.collectGarbage({ graceMs: HOUR })).toBe(2);
      const rows = await s.db.all<{ n: number }>("SELECT COUNT(*) AS n FROM blobs");
      expect(Number(rows[0].n)).toBe(2);
    });
  });
}
