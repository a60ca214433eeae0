/**
 * Compose uploads (protocols/http/webmail/uploads.ts) live in the blob store
 * through the webmail store; uploads an earlier version left as files are
 * taken over once, with their ids and ages.
 */
import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openStorage, type Storage } from "../../storage/open.ts";
import { passwordHasher } from "../../src/auth.ts";
import { UploadStore } from "../../protocols/http/webmail/uploads.ts";
import { setupAccount, tempDir } from "../storage/helpers.ts";

const HOUR = 3600_000;
let s: Storage | null = null;
let dir = "";
afterEach(async () => {
  await s?.close();
  s = null;
  rmSync(dir, { recursive: true, force: true });
});

test("uploads go to the blob store, are owned by their account, bounded per account, and expire after a day", async () => {
  dir = tempDir();
  s = await openStorage({ url: `file:${join(dir, "mail.db")}`, dataDir: dir, gcIntervalMs: 0, hasher: passwordHasher });
  const { account } = await setupAccount(s.mail, "up@example.com");
  const { account: other } = await setupAccount(s.mail, "other@example.com");
  const uploads = new UploadStore(s.webmail, 1000, dir);
  await uploads.init();
  const a = await uploads.put(account.id, "a.bin", "application/octet-stream", new Uint8Array(600).fill(7));
  expect(await s.blobs.has((await s.db.get<{ blob_id: string }>("SELECT blob_id FROM webmail_uploads WHERE id = ?", [a.id]))!.blob_id)).toBe(true);
  expect(existsSync(join(dir, "webmail-uploads"))).toBe(false);
  // 600 + 600 > 1000: refused as before (RangeError: the API answers 413)
  expect(await uploads.put(account.id, "b.bin", "application/octet-stream", new Uint8Array(600)).catch((e) => e)).toBeInstanceOf(RangeError);
  expect((await uploads.put(other.id, "c.bin", "text/plain", new Uint8Array(600))).size).toBe(600);
  expect(await uploads.read(other.id, a.id)).toBeNull();
  expect(await uploads.remove(other.id, a.id)).toBe(false);
  expect((await uploads.read(account.id, a.id))!.data).toEqual(new Uint8Array(600).fill(7));
  expect(await uploads.meta(account.id, "../../etc/passwd")).toBeNull();
  expect(await uploads.sweep(Date.now() + 25 * HOUR)).toBe(2);
  expect(await uploads.read(account.id, a.id)).toBeNull();
});

test("uploads kept as files by an earlier version are taken over with their ids, then the directory goes", async () => {
  dir = tempDir();
  s = await openStorage({ url: `file:${join(dir, "mail.db")}`, dataDir: dir, gcIntervalMs: 0, hasher: passwordHasher });
  const { account } = await setupAccount(s.mail, "legacy@example.com");
  const legacy = join(dir, "webmail-uploads");
  mkdirSync(legacy);
  const id = "AbCdEfGhIjKlMnOpQrStUvWx";
  const createdAt = Date.now() - HOUR;
  writeFileSync(join(legacy, id + ".bin"), "old attachment bytes");
  writeFileSync(join(legacy, id + ".json"), JSON.stringify({ id, accountId: account.id, name: "old.txt", type: "text/plain", size: 20, createdAt }));
  writeFileSync(join(legacy, "broken.json"), "{not json");
  const uploads = new UploadStore(s.webmail, 1 << 20, dir);
  await uploads.init();
  expect(existsSync(legacy)).toBe(false);
  const got = await uploads.read(account.id, id);
  expect(got?.meta).toEqual({ id, accountId: account.id, name: "old.txt", type: "text/plain", size: 20, createdAt });
  expect(new TextDecoder().decode(got!.data)).toBe("old attachment bytes");
});
