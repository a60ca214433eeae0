/**
 * Content-addressed blob store on the local file system:
 * `<dataDir>/blobs/ab/cd/<sha256>`. A blob is written to a temp file,
 * fsynced, renamed into place and its directory fsynced, all BEFORE the
 * database row referencing it commits, so a committed row never points at a
 * missing or partial file. The same bytes are stored once (deduplicated).
 * Directories 0700, files 0600.
 */
import { createHash, randomBytes } from "node:crypto";
import { promises as fsp, constants as fsc, openSync, fstatSync, readSync, closeSync, statSync, utimesSync, writeSync, renameSync, unlinkSync, mkdirSync, fsync } from "node:fs";
import { join } from "node:path";
import { StorageFullError, type BlobStore } from "./api.ts";

/** Largest single write of a blob (see put). */
const WRITE_PIECE = 1024 * 1024;

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Reads up to this many bytes are done synchronously. A small read from the
 * page cache costs ~10 µs in one go, while the async path (open, read, close
 * each a trip through the thread pool and back to the event loop) costs
 * 20-60 µs and a loop wake-up per step: on POP3 RETR and IMAP FETCH of
 * ordinary messages that hop dominated the response time. The index reads
 * (SQLite) are synchronous already, so this adds no new kind of stall; larger
 * reads, where a cold disk could hold the loop, stay asynchronous.
 */
export const SYNC_READ_LIMIT = 256 * 1024;

export function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export class BlobNotFoundError extends Error {
  constructor(id: string) {
    super(`blob not found: ${id}`);
    this.name = "BlobNotFoundError";
  }
}

export class FsBlobStore implements BlobStore {
  readonly root: string;
  private knownDirs = new Set<string>();

  constructor(dataDir: string) {
    this.root = join(dataDir, "blobs");
  }

  pathOf(id: string): string {
    if (!HEX64.test(id)) throw new Error(`invalid blob id: ${JSON.stringify(id).slice(0, 80)}`);
    return join(this.root, id.slice(0, 2), id.slice(2, 4), id);
  }

  async put(data: Uint8Array): Promise<string> {
    const id = sha256Hex(data);
    const dest = this.pathOf(id);
    const dir = join(this.root, id.slice(0, 2), id.slice(2, 4));
    // Every step but the two fsyncs is a synchronous syscall (microseconds each, metadata in the
    // page cache); only the fsyncs go to the thread pool: 2 pool round trips per new blob
    // instead of 10-16 (SMTP, 2 KB messages: ~8% less CPU per delivery).
    try {
      const st = statSync(dest);
      if (st.size === data.byteLength) {
        // Dedupe hit. Refresh mtime so the garbage collector's grace period
        // protects it until our row commits (it may be an old orphan).
        const now = new Date();
        utimesSync(dest, now, now);
        return id;
      }
    } catch (e) {
      if (!isNotFound(e)) throw mapFsError(e);
      // (a wrong-sized file under our hash is damage: replaced below)
    }
    await this.ensureDir(dir);
    const tmp = join(dir, `.tmp-${id.slice(0, 16)}-${randomBytes(6).toString("hex")}`);
    let fd: number | null = null;
    try {
      fd = openSync(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
      // In pieces of at most WRITE_PIECE, so one write call never holds the loop for a whole large message.
      let off = 0;
      while (off < data.byteLength) off += writeSync(fd, data, off, Math.min(WRITE_PIECE, data.byteLength - off), off);
      await fsyncFd(fd);
      closeSync(fd);
      fd = null;
      renameSync(tmp, dest);
      await fsyncDir(dir);
    } catch (e) {
      if (fd !== null) {
        try {
          closeSync(fd);
        } catch {
          // already closed
        }
      }
      try {
        unlinkSync(tmp);
      } catch {
        // never created
      }
      throw mapFsError(e);
    }
    return id;
  }

  private async ensureDir(dir: string) {
    if (this.knownDirs.has(dir)) return;
    // the root and first-level directories are remembered too: no EEXIST mkdir per new leaf directory
    const l1 = join(this.root, dir.slice(this.root.length + 1, this.root.length + 3));
    const parts = [this.root, l1, dir];
    for (let i = 0; i < parts.length; i++) {
      if (this.knownDirs.has(parts[i]!)) continue;
      try {
        mkdirSync(parts[i]!, { mode: 0o700 });
        if (i > 0) await fsyncDir(parts[i - 1]!);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EEXIST") {
          if (i < 2) this.knownDirs.add(parts[i]!);
          continue;
        }
        if (isNotFound(e) && i === 0) {
          mkdirSync(parts[0]!, { recursive: true, mode: 0o700 });
          continue;
        }
        throw mapFsError(e);
      }
      if (i < 2) this.knownDirs.add(parts[i]!);
    }
    this.knownDirs.add(dir);
  }

  async get(id: string): Promise<Uint8Array> {
    const path = this.pathOf(id);
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (e) {
      if (isNotFound(e)) throw new BlobNotFoundError(id);
      throw e;
    }
    try {
      const size = fstatSync(fd).size;
      if (size <= SYNC_READ_LIMIT) return readFully(fd, 0, size);
    } finally {
      closeSync(fd);
    }
    try {
      return new Uint8Array(await fsp.readFile(path));
    } catch (e) {
      if (isNotFound(e)) throw new BlobNotFoundError(id);
      throw e;
    }
  }

  async getRange(id: string, start: number, end: number): Promise<Uint8Array> {
    start = Math.max(0, Math.floor(start));
    end = Math.floor(end);
    if (end <= start) return new Uint8Array(0);
    if (end - start <= SYNC_READ_LIMIT) {
      let fd: number;
      try {
        fd = openSync(this.pathOf(id), "r");
      } catch (e) {
        if (isNotFound(e)) throw new BlobNotFoundError(id);
        throw e;
      }
      try {
        return readFully(fd, start, end - start);
      } finally {
        closeSync(fd);
      }
    }
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(this.pathOf(id), "r");
    } catch (e) {
      if (isNotFound(e)) throw new BlobNotFoundError(id);
      throw e;
    }
    try {
      const buf = new Uint8Array(end - start);
      let got = 0;
      while (got < buf.length) {
        const { bytesRead } = await fh.read(buf, got, buf.length - got, start + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === buf.length ? buf : buf.subarray(0, got);
    } finally {
      await fh.close();
    }
  }

  stream(id: string, start = 0, end?: number): ReadableStream<Uint8Array> {
    const path = this.pathOf(id);
    let fh: fsp.FileHandle | null = null;
    let pos = Math.max(0, start);
    let limit = end ?? Number.POSITIVE_INFINITY;
    const CHUNK = 64 * 1024;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          if (!fh) {
            fh = await fsp.open(path, "r").catch((e) => {
              throw isNotFound(e) ? new BlobNotFoundError(id) : e;
            });
            const st = await fh.stat();
            limit = Math.min(limit, st.size);
          }
          const n = Math.min(CHUNK, limit - pos);
          if (n <= 0) {
            await fh.close();
            fh = null;
            controller.close();
            return;
          }
          const buf = new Uint8Array(n);
          const { bytesRead } = await fh.read(buf, 0, n, pos);
          if (bytesRead === 0) {
            await fh.close();
            fh = null;
            controller.close();
            return;
          }
          pos += bytesRead;
          controller.enqueue(bytesRead === n ? buf : buf.subarray(0, bytesRead));
        } catch (e) {
          if (fh) await fh.close().catch(() => {});
          fh = null;
          controller.error(e);
        }
      },
      async cancel() {
        if (fh) await fh.close().catch(() => {});
        fh = null;
      },
    });
  }

  async has(id: string): Promise<boolean> {
    try {
      await fsp.access(this.pathOf(id));
      return true;
    } catch {
      return false;
    }
  }

  /** Last modification time (ms), or null if absent. Used for the GC grace period. */
  async modifiedAt(id: string): Promise<number | null> {
    try {
      return (await fsp.stat(this.pathOf(id))).mtimeMs;
    } catch {
      return null;
    }
  }

  async delete(id: string): Promise<void> {
    try {
      await fsp.unlink(this.pathOf(id));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  async *list(): AsyncIterable<string> {
    let level1: string[];
    try {
      level1 = await fsp.readdir(this.root);
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    for (const a of level1.sort()) {
      if (!/^[0-9a-f]{2}$/.test(a)) continue;
      const level2 = await fsp.readdir(join(this.root, a)).catch(() => [] as string[]);
      for (const b of level2.sort()) {
        if (!/^[0-9a-f]{2}$/.test(b)) continue;
        const files = await fsp.readdir(join(this.root, a, b)).catch(() => [] as string[]);
        for (const f of files.sort()) if (HEX64.test(f) && f.startsWith(a + b)) yield f;
      }
    }
  }

  /** Leftover temp files of writes interrupted by a crash (older than `olderThanMs`): removed. */
  async removeStaleTemps(olderThanMs: number): Promise<number> {
    let removed = 0;
    const now = Date.now();
    const level1 = await fsp.readdir(this.root).catch(() => [] as string[]);
    for (const a of level1) {
      const level2 = await fsp.readdir(join(this.root, a)).catch(() => [] as string[]);
      for (const b of level2) {
        const dir = join(this.root, a, b);
        const files = await fsp.readdir(dir).catch(() => [] as string[]);
        for (const f of files) {
          if (!f.startsWith(".tmp-")) continue;
          const p = join(dir, f);
          const st = await fsp.stat(p).catch(() => null);
          if (st && now - st.mtimeMs >= olderThanMs) {
            await fsp.unlink(p).catch(() => {});
            removed++;
          }
        }
      }
    }
    return removed;
  }
}

/** Up to `length` bytes from `position`; shorter at end of file. */
function readFully(fd: number, position: number, length: number): Uint8Array {
  const buf = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got === length ? buf : buf.subarray(0, got);
}

function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException)?.code === "ENOENT";
}

export function mapFsError(e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === "ENOSPC" || code === "EDQUOT") return new StorageFullError(`blob store: ${code}`);
  return e;
}

/** fsync on the thread pool (the only blocking step of a blob write). */
function fsyncFd(fd: number): Promise<void> {
  return new Promise((res, rej) => fsync(fd, (e) => (e ? rej(e) : res())));
}
/** fsync of a directory, so the names created in it survive a power loss (also used by src/backup/). */
export async function fsyncDir(dir: string): Promise<void> {
  const fd = openSync(dir, "r");
  try {
    await fsyncFd(fd);
  } catch (e) {
    // Some file systems refuse fsync on a directory (EINVAL/EISDIR/EBADF): nothing more we can do there.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EINVAL" && code !== "EISDIR" && code !== "EPERM" && code !== "EBADF") throw mapFsError(e);
  } finally {
    closeSync(fd);
  }
}
