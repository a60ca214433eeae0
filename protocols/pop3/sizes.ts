/**
 * Cache of POP3 sizes (RFC 1939 §5: LIST/STAT report the size of the message
 * as RETR sends it, i.e. in CRLF form). Stored messages are kept exactly as
 * received, so a message with bare LFs is larger on the wire than in the
 * store, and the only way to know is to read it once.
 *
 * The content behind (UIDVALIDITY, UID) never changes (UIDs are never reused,
 * RFC 9051 §2.3.1.1), so a per-account record of "every UID up to N has been
 * measured, and these few differ by this much" stays true forever: later
 * logins only read messages that arrived since. Almost every message differs
 * by 0 (SMTP delivers CRLF), so the record is tiny. It is a cache: losing it
 * costs one re-scan, never a wrong answer, so it is written without fsync.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";

export interface SizeRecord {
  /** The INBOX folder and its UIDVALIDITY the record is about. */
  folderId: number;
  uidValidity: number;
  /** Every UID <= this has been measured. */
  scannedThrough: number;
  /** uid -> (wire size - stored size), only where non-zero. */
  deltas: Record<string, number>;
}

export interface SizeCache {
  load(accountId: number): Promise<SizeRecord | null>;
  save(accountId: number, record: SizeRecord): Promise<void>;
}

export function memorySizeCache(): SizeCache {
  const m = new Map<number, SizeRecord>();
  return {
    load: async (id) => {
      const r = m.get(id);
      return r ? structuredClone(r) : null;
    },
    save: async (id, r) => {
      m.set(id, structuredClone(r));
    },
  };
}

/** One small JSON file per account under `dir` (the data dir's `pop3/`). */
export function fileSizeCache(dir: string): SizeCache {
  return {
    async load(id) {
      try {
        const r = JSON.parse(await readFile(join(dir, `${id}.sizes.json`), "utf8")) as SizeRecord;
        if (typeof r.folderId !== "number" || typeof r.uidValidity !== "number" || typeof r.scannedThrough !== "number" || typeof r.deltas !== "object" || r.deltas === null) return null;
        return r;
      } catch {
        return null; // missing or damaged: re-measure
      }
    },
    async save(id, r) {
      // Every time: an operator may have removed the directory to drop the cache.
      await mkdir(dir, { recursive: true });
      const file = join(dir, `${id}.sizes.json`);
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(r));
      await rename(tmp, file);
    },
  };
}
