/**
 * Compose attachments waiting to be sent or saved into a draft. Kept as
 * files under `<dataDir>/webmail-uploads/` (not in memory: several 50 MB
 * uploads must not grow the heap), owned by an account, removed after use or
 * after a day.
 */
import { randomBytes } from "node:crypto";
import { promises as fsp } from "node:fs";
import path from "node:path";

export interface UploadMeta {
  id: string;
  accountId: number;
  name: string;
  type: string;
  size: number;
  createdAt: number;
}

const ID_RE = /^[A-Za-z0-9_-]{16,64}$/;

export class UploadStore {
  readonly dir: string;
  private static readonly TTL_MS = 24 * 3600_000;

  constructor(
    dataDir: string,
    /** Total bytes one account may have waiting. */
    private readonly perAccountLimit: number,
  ) {
    this.dir = path.join(dataDir, "webmail-uploads");
  }

  async init(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await this.sweep();
  }

  async put(accountId: number, name: string, type: string, data: Uint8Array): Promise<UploadMeta> {
    const used = (await this.listAccount(accountId)).reduce((n, m) => n + m.size, 0);
    if (used + data.byteLength > this.perAccountLimit) throw new RangeError("upload space full");
    const id = randomBytes(18).toString("base64url");
    const meta: UploadMeta = { id, accountId, name: name.slice(0, 255) || "attachment", type, size: data.byteLength, createdAt: Date.now() };
    await fsp.writeFile(path.join(this.dir, id + ".bin"), data, { mode: 0o600 });
    await fsp.writeFile(path.join(this.dir, id + ".json"), JSON.stringify(meta), { mode: 0o600 });
    return meta;
  }

  async meta(accountId: number, id: string): Promise<UploadMeta | null> {
    if (!ID_RE.test(id)) return null;
    try {
      const meta = JSON.parse(await fsp.readFile(path.join(this.dir, id + ".json"), "utf8")) as UploadMeta;
      return meta.accountId === accountId ? meta : null;
    } catch {
      return null;
    }
  }

  async read(accountId: number, id: string): Promise<{ meta: UploadMeta; data: Uint8Array } | null> {
    const meta = await this.meta(accountId, id);
    if (!meta) return null;
    try {
      return { meta, data: new Uint8Array(await fsp.readFile(path.join(this.dir, id + ".bin"))) };
    } catch {
      return null;
    }
  }

  async remove(accountId: number, id: string): Promise<boolean> {
    const meta = await this.meta(accountId, id);
    if (!meta) return false;
    await fsp.rm(path.join(this.dir, id + ".bin"), { force: true });
    await fsp.rm(path.join(this.dir, id + ".json"), { force: true });
    return true;
  }

  private async listAccount(accountId: number): Promise<UploadMeta[]> {
    const out: UploadMeta[] = [];
    for (const f of await fsp.readdir(this.dir).catch(() => [] as string[])) {
      if (!f.endsWith(".json")) continue;
      const m = await this.meta(accountId, f.slice(0, -5));
      if (m) out.push(m);
    }
    return out;
  }

  /** Removes uploads older than a day (and orphans). */
  async sweep(now = Date.now()): Promise<number> {
    let removed = 0;
    for (const f of await fsp.readdir(this.dir).catch(() => [] as string[])) {
      const full = path.join(this.dir, f);
      const st = await fsp.stat(full).catch(() => null);
      if (st && now - st.mtimeMs > UploadStore.TTL_MS) {
        await fsp.rm(full, { force: true });
        removed++;
      }
    }
    return removed;
  }
}
