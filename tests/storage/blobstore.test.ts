/**
 * The blob store's read paths: small reads are synchronous under the hood
 * (SYNC_READ_LIMIT), larger ones stream through the thread pool; both must
 * return the same bytes and the same errors.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlobNotFoundError, FsBlobStore, SYNC_READ_LIMIT } from "../../storage/blobstore.ts";

const dir = mkdtempSync(join(tmpdir(), "pillarbox-blobs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

for (const size of [0, 1, 10_240, SYNC_READ_LIMIT, SYNC_READ_LIMIT + 1, 3 * SYNC_READ_LIMIT + 17]) {
  test(`get and getRange return the stored bytes (${size} octets)`, async () => {
    const store = new FsBlobStore(dir);
    const data = bytes(size, size + 7);
    const id = await store.put(data);
    expect(Buffer.from(await store.get(id)).equals(Buffer.from(data))).toBe(true);
    expect(Buffer.from(await store.getRange(id, 0, size)).equals(Buffer.from(data))).toBe(true);
    const a = Math.floor(size / 3);
    const b = Math.floor((2 * size) / 3);
    expect(Buffer.from(await store.getRange(id, a, b)).equals(Buffer.from(data.subarray(a, b)))).toBe(true);
    // A range past the end is cut at the end, never padded.
    expect((await store.getRange(id, a, size + 100)).length).toBe(size - a);
  });
}

test("a missing blob is BlobNotFoundError on both paths", async () => {
  const store = new FsBlobStore(dir);
  const missing = "0".repeat(64);
  await expect(store.get(missing)).rejects.toBeInstanceOf(BlobNotFoundError);
  await expect(store.getRange(missing, 0, 10)).rejects.toBeInstanceOf(BlobNotFoundError);
  await expect(store.getRange(missing, 0, SYNC_READ_LIMIT * 2)).rejects.toBeInstanceOf(BlobNotFoundError);
});

test("a damaged (shortened) blob reads short instead of returning stale or zero bytes", async () => {
  const store = new FsBlobStore(dir);
  const data = bytes(5000, 99);
  const id = await store.put(data);
  truncateSync(store.pathOf(id), 1000);
  const got = await store.getRange(id, 0, 5000);
  expect(got.length).toBe(1000);
  expect(Buffer.from(got).equals(Buffer.from(data.subarray(0, 1000)))).toBe(true);
  expect((await store.get(id)).length).toBe(1000);
});

test("an invalid blob id is refused before touching the file system", async () => {
  const store = new FsBlobStore(dir);
  await expect(store.get("../../etc/passwd")).rejects.toThrow(/invalid blob id/);
  await expect(store.getRange("../x", 0, 1)).rejects.toThrow(/invalid blob id/);
});
