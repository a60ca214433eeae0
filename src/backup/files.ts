/**
 * File-level helpers of backup and restore: durable copies (temp file, fsync,
 * rename, fsync of the directory: a crash leaves either the old state or the
 * complete new file, never a half-written one under its final name), sha256
 * while copying, owner-only modes (directories 0700, files 0600), and a
 * bounded-concurrency runner for copying many blobs.
 */
import { createHash, randomBytes } from "node:crypto";
import { constants as fsc, promises as fsp } from "node:fs";
import { dirname, join } from "node:path";
import { fsyncDir } from "../../storage/blobstore.ts";

export { fsyncDir };

/** Bytes per read/write while copying. */
const PIECE = 1024 * 1024;

export interface CopyResult {
  bytes: number;
  sha256: string;
}

/** sha256 (hex) and size of a file, read in pieces (memory stays flat whatever the size). */
export async function hashFile(path: string): Promise<CopyResult> {
  const h = createHash("sha256");
  const fh = await fsp.open(path, "r");
  try {
    const buf = new Uint8Array(PIECE);
    let bytes = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, bytes);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
      bytes += bytesRead;
    }
    return { bytes, sha256: h.digest("hex") };
  } finally {
    await fh.close();
  }
}

/**
 * Copies `src` to `dest` durably with the given mode, hashing what it copies.
 * When `expectSha256` is given and the bytes do not match, nothing is left at
 * `dest` and the result says so (the caller reports it).
 */
export async function copyDurable(src: string, dest: string, opts: { mode?: number; expectSha256?: string } = {}): Promise<CopyResult & { matches: boolean }> {
  const tmp = join(dirname(dest), `.tmp-${randomBytes(6).toString("hex")}`);
  const h = createHash("sha256");
  let bytes = 0;
  const input = await fsp.open(src, "r");
  let out: fsp.FileHandle | null = null;
  try {
    out = await fsp.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, opts.mode ?? 0o600);
    const buf = new Uint8Array(PIECE);
    for (;;) {
      const { bytesRead } = await input.read(buf, 0, buf.length, bytes);
      if (bytesRead === 0) break;
      const piece = buf.subarray(0, bytesRead);
      h.update(piece);
      let off = 0;
      while (off < bytesRead) off += (await out.write(piece, off, bytesRead - off, bytes + off)).bytesWritten;
      bytes += bytesRead;
    }
    const sha256 = h.digest("hex");
    if (opts.expectSha256 !== undefined && sha256 !== opts.expectSha256) {
      await out.close();
      out = null;
      await fsp.unlink(tmp).catch(() => {});
      return { bytes, sha256, matches: false };
    }
    await out.chmod(opts.mode ?? 0o600);
    await out.sync();
    await out.close();
    out = null;
    await fsp.rename(tmp, dest);
    return { bytes, sha256, matches: true };
  } catch (e) {
    if (out) await out.close().catch(() => {});
    await fsp.unlink(tmp).catch(() => {});
    throw e;
  } finally {
    await input.close();
  }
}

/** Writes `data` durably to `path` (temp file, fsync, rename, fsync of the directory). */
export async function writeDurable(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const tmp = join(dirname(path), `.tmp-${randomBytes(6).toString("hex")}`);
  const fh = await fsp.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, path);
  await fsyncDir(dirname(path));
}


/** Creates `dir` and its missing parents with mode 0700. */
export async function mkdirPrivate(dir: string): Promise<void> {
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
}

/** `blobs/ab/cd/<id>` under `root` (the layout of the data dir's blob store, kept in backups). */
export function blobPath(root: string, id: string): string {
  return join(root, "blobs", id.slice(0, 2), id.slice(2, 4), id);
}

export const BLOB_ID = /^[0-9a-f]{64}$/;

/** Runs `fn` over `items` with at most `limit` at a time (parallel fsyncs let the file system batch its journal commits). */
export async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException)?.code === "ENOENT";
}
