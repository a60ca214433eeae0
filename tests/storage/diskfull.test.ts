/**
 * Disk full is a temporary failure, never corruption: on a small tmpfs the
 * store fills up, deliveries fail with StorageFullError (or QuotaExceeded-
 * style temporary errors), every acknowledged message stays readable, the
 * database stays intact and works again once space is freed.
 *
 * SQLite only: the database file must live on the small tmpfs; a PostgreSQL
 * server's disk is not ours to fill (its disk_full error, SQLSTATE 53100, maps
 * to the same StorageFullError through dialect-pg.ts isDiskFull).
 */
import { expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StorageFullError } from "../../storage/api.ts";
import { FsBlobStore, mapFsError } from "../../storage/blobstore.ts";
import { openStore } from "../../storage/store.ts";
import { makeMessage, setupAccount, tempDir, tempStore } from "./helpers.ts";
import { passwordHasher } from "../../src/auth.ts";

function tryMountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0700`, "tmpfs", dir], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

test("ENOSPC/EDQUOT map to StorageFullError; other errors pass through", () => {
  const enospc = Object.assign(new Error("no space"), { code: "ENOSPC" });
  const edquot = Object.assign(new Error("quota"), { code: "EDQUOT" });
  const eacces = Object.assign(new Error("denied"), { code: "EACCES" });
  expect(mapFsError(enospc)).toBeInstanceOf(StorageFullError);
  expect(mapFsError(edquot)).toBeInstanceOf(StorageFullError);
  expect(mapFsError(eacces)).toBe(eacces);
});

test("a full file system fails deliveries cleanly and recovers", async () => {
  const dir = tempDir();
  const mnt = join(dir, "small");
  mkdirSync(mnt);
  if (!tryMountTmpfs(mnt, "8m")) {
    // no privilege to mount here: the blob store alone, on an unwritable root, still must not corrupt anything
    console.log("diskfull: cannot mount tmpfs (not root?); ran the reduced check only");
    const blobs = new FsBlobStore("/proc/self");
    await expect(blobs.put(new Uint8Array([1, 2, 3]))).rejects.toThrow();
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  let store: Awaited<ReturnType<typeof openStore>> | null = null;
  try {
    // ballast: what the administrator deletes to make room again
    writeFileSync(join(mnt, "ballast"), new Uint8Array(1024 * 1024));
    store = await openStore({ hasher: passwordHasher, url: `file:${join(mnt, "mail.db")}`, dataDir: mnt, gcIntervalMs: 0 });
    const { account, inbox } = await setupAccount(store);
    const acked: number[] = [];
    let failure: unknown = null;
    for (let i = 0; i < 2000 && !failure; i++) {
      try {
        const [r] = await store.deliver(makeMessage({ subject: `fill ${i}`, size: 100_000 + i }), [{ accountId: account.id }]);
        acked.push(r.uid);
      } catch (e) {
        failure = e;
      }
    }
    expect(failure).toBeInstanceOf(StorageFullError);
    expect(acked.length).toBeGreaterThan(10);
    // everything acknowledged is complete and readable
    const list = await store.listMessages(inbox.id);
    expect(list.map((m) => m.uid)).toEqual(acked);
    for (const m of await store.getMessages(inbox.id, acked.slice(-5))) expect((await store.readMessage(m.id)).byteLength).toBe(m.size);
    // the administrator frees space; then expunge half, collect garbage, deliver again
    unlinkSync(join(mnt, "ballast"));
    await store.expunge(inbox.id, acked.slice(0, Math.floor(acked.length / 2)));
    expect(await store.collectGarbage({ graceMs: 0 })).toBeGreaterThan(0);
    const [r] = await store.deliver(makeMessage({ subject: "after cleanup", size: 20_000 }), [{ accountId: account.id }]);
    expect(r.uid).toBeGreaterThan(acked[acked.length - 1]);
    await store.close();
    store = await openStore({ hasher: passwordHasher, url: `file:${join(mnt, "mail.db")}`, dataDir: mnt, gcIntervalMs: 0 });
    expect(await store.integrityCheck()).toEqual(["ok"]);
    expect((await store.listMessages(inbox.id)).length).toBe(acked.length - Math.floor(acked.length / 2) + 1);
  } finally {
    await store?.close().catch(() => {});
    try {
      // lazy: libsql releases a closed connection's file handles when its statements are collected
      execFileSync("umount", ["-l", mnt], { stdio: "ignore" });
    } catch {
      // already unmounted
    }
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

test("files are owner-only: database 0600, blob directories 0700, blobs 0600", async () => {
  const t = await tempStore();
  try {
    const { account } = await setupAccount(t.store);
    const [r] = await t.store.deliver(makeMessage({ subject: "perm" }), [{ accountId: account.id }]);
    const m = await t.store.getMessageById(r.id);
    const p = (t.store.blobs as FsBlobStore).pathOf(m!.blobId);
    expect(statSync(p).mode & 0o777).toBe(0o600);
    expect(statSync(join(p, "..")).mode & 0o777).toBe(0o700);
    expect(statSync(join(p, "../..")).mode & 0o777).toBe(0o700);
    expect(statSync(join(t.dir, "blobs")).mode & 0o777).toBe(0o700);
    expect(statSync(join(t.dir, "mail.db")).mode & 0o777).toBe(0o600);
  } finally {
    await t.cleanup();
  }
});
