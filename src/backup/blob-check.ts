/**
 * Checks that every blob a database references is present under
 * `<root>/blobs/ab/cd/<id>` and, when hashing, that its sha256 is its name
 * (blobs are content-addressed: a mismatch is damage). Used by `pillarbox
 * verify` on a backup and by `pillarbox check --blobs` on the live data dir
 * (found item 5: `check` passed while 50 blobs were gone).
 *
 * Reads the ids a page at a time and keeps only counts and the first
 * `keep` ids of each kind, so memory stays flat for any store size.
 */
import { promises as fsp } from "node:fs";
import { blobPath, eachLimited, hashFile, isNotFound } from "./files.ts";

export interface BlobCheckResult {
  /** Referenced blobs looked at. */
  checked: number;
  /** Bytes of the blobs present. */
  bytes: number;
  missingCount: number;
  damagedCount: number;
  /** The first `keep` ids of each kind. */
  missing: string[];
  damaged: string[];
}

export interface BlobCheckOptions {
  /** Read and hash every blob (default true); false checks presence only. */
  hash?: boolean;
  /** Ids kept per kind for the report (default 20). */
  keep?: number;
  /** Called after each page with the running totals (progress). */
  onPage?: (r: BlobCheckResult) => void;
}

/** Blob files read at once while hashing. */
const PARALLEL = 8;

export async function checkBlobFiles(pages: AsyncIterable<string[]>, root: string, opts: BlobCheckOptions = {}): Promise<BlobCheckResult> {
  const keep = opts.keep ?? 20;
  const hash = opts.hash ?? true;
  const r: BlobCheckResult = { checked: 0, bytes: 0, missingCount: 0, damagedCount: 0, missing: [], damaged: [] };
  for await (const ids of pages) {
    await eachLimited(ids, PARALLEL, async (id) => {
      const path = blobPath(root, id);
      try {
        if (hash) {
          const h = await hashFile(path);
          r.bytes += h.bytes;
          if (h.sha256 !== id) {
            r.damagedCount++;
            if (r.damaged.length < keep) r.damaged.push(id);
          }
        } else {
          const size = (await fsp.stat(path)).size; // awaited before the += (parallel updates)
          r.bytes += size;
        }
      } catch (e) {
        if (!isNotFound(e)) throw e;
        r.missingCount++;
        if (r.missing.length < keep) r.missing.push(id);
      }
      r.checked++;
    });
    opts.onPage?.(r);
  }
  r.missing.sort();
  r.damaged.sort();
  return r;
}
