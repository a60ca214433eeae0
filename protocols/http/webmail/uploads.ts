/**
 * Compose attachments waiting to be sent or saved into a draft, owned by an
 * account, removed after use or after a day. The bytes live in the blob
 * store and the records in the webmail store (storage/webmail-store.ts,
 * migration 0021), so blob garbage collection sees them like any other
 * reference and they never sit in memory (several 50 MB uploads must not
 * grow the heap).
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { StoreError } from "../../../storage/api.ts";
import type { UploadMeta, WebmailStore } from "../../../storage/webmail-store.ts";

export type { UploadMeta } from "../../../storage/webmail-store.ts";

const TTL_MS = 24 * 3600_000;

export class UploadStore {
  constructor(
    private readonly wstore: WebmailStore,
    /** Total bytes one account may have waiting. */
    private readonly perAccountLimit: number,
    /** The data dir: uploads of versions that kept them as files (`webmail-uploads/`) are taken over once. */
    private readonly dataDir?: string,
  ) {}

  async init(): Promise<void> {
    if (this.dataDir) await this.adoptLegacyFiles(path.join(this.dataDir, "webmail-uploads"));
    await this.sweep();
  }

  /** Throws RangeError when the account's waiting uploads would exceed the limit. */
  async put(accountId: number, name: string, type: string, data: Uint8Array): Promise<UploadMeta> {
    try {
      return await this.wstore.putUpload(accountId, { name, type, data }, this.perAccountLimit);
    } catch (e) {
      if (e instanceof StoreError && e.code === "LIMIT") throw new RangeError("upload space full");
      throw e;
    }
  }

  meta(accountId: number, id: string): Promise<UploadMeta | null> {
    return this.wstore.getUpload(accountId, id);
  }

  read(accountId: number, id: string): Promise<{ meta: UploadMeta; data: Uint8Array } | null> {
    return this.wstore.readUpload(accountId, id);
  }

  remove(accountId: number, id: string): Promise<boolean> {
    return this.wstore.removeUpload(accountId, id);
  }

  /** Forgets uploads older than a day. */
  sweep(now = Date.now()): Promise<number> {
    return this.wstore.purgeUploads(now - TTL_MS);
  }

  /**
   * Moves uploads an earlier version left as `<id>.json` + `<id>.bin` files
   * into the store (with their original age, so they still expire on time),
   * then removes the directory. A pair that cannot be read is dropped.
   */
  private async adoptLegacyFiles(dir: string): Promise<void> {
    const names = await fsp.readdir(dir).catch(() => null);
    if (!names) return;
    for (const f of names) {
      if (!f.endsWith(".json")) continue;
      try {
        const meta = JSON.parse(await fsp.readFile(path.join(dir, f), "utf8")) as Partial<UploadMeta>;
        const data = new Uint8Array(await fsp.readFile(path.join(dir, f.slice(0, -5) + ".bin")));
        if (typeof meta.accountId !== "number" || typeof meta.createdAt !== "number") continue;
        await this.wstore.putUpload(meta.accountId, { id: f.slice(0, -5), name: String(meta.name ?? ""), type: String(meta.type ?? "application/octet-stream"), data, createdAt: meta.createdAt }, Infinity);
      } catch {
        // unreadable, or its account is gone: nothing to keep
      }
    }
    await fsp.rm(dir, { recursive: true, force: true });
  }
}
