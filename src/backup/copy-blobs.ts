/**
 * Step 3 of a backup (src/backup/backup.ts): copies the blobs a snapshot
 * references from the data dir into the backup directory, only those not
 * there yet (incremental: a blob's name is its hash, so a present file is
 * the same content), each checked against its hash and fsynced, then the
 * directories that got new names. Blobs missing or damaged in the data dir
 * are counted and named (the first 40), not copied.
 */
import { promises as fsp } from "node:fs";
import { dirname } from "node:path";
import { BLOB_ID, blobPath, copyDurable, eachLimited, fsyncDir, isNotFound, mkdirPrivate } from "./files.ts";

export interface BlobTally {
  referenced: number;
  bytes: number;
  copied: number;
  alreadyPresent: number;
  missing: number;
  damaged: number;
}

const PARALLEL = 8;
const PROBLEMS_KEPT = 40;

export async function copyReferencedBlobs(
  pages: AsyncIterable<string[]>,
  dataDir: string,
  dir: string,
  progress: (line: string) => void,
): Promise<{ blobs: BlobTally; problems: string[] }> {
  const problems: string[] = [];
  const blobs: BlobTally = { referenced: 0, bytes: 0, copied: 0, alreadyPresent: 0, missing: 0, damaged: 0 };
  const madeDirs = new Map<string, Promise<void>>();
  const touched = new Set<string>();
  const problem = (p: string) => {
    if (problems.length < PROBLEMS_KEPT) problems.push(p);
  };
  for await (const ids of pages) {
    await eachLimited(ids, PARALLEL, async (id) => {
      blobs.referenced++;
      if (!BLOB_ID.test(id)) {
        blobs.damaged++;
        problem(`the database references a malformed blob id ${JSON.stringify(id.slice(0, 80))}`);
        return;
      }
      const dest = blobPath(dir, id);
      try {
        const size = (await fsp.stat(dest)).size; // awaited first: `x += await y` would read x before the await and lose parallel updates
        blobs.bytes += size;
        blobs.alreadyPresent++;
        return;
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      const d = dirname(dest);
      let ready = madeDirs.get(d);
      if (!ready) {
        // one mkdir per directory, awaited by every worker that needs it
        ready = mkdirPrivate(d);
        madeDirs.set(d, ready);
      }
      await ready;
      try {
        const r = await copyDurable(blobPath(dataDir, id), dest, { expectSha256: id });
        if (!r.matches) {
          blobs.damaged++;
          problem(`blob ${id} is damaged in the data dir (its content does not match its hash): not copied`);
          return;
        }
        blobs.bytes += r.bytes;
        blobs.copied++;
        touched.add(d);
      } catch (e) {
        if (!isNotFound(e)) throw e;
        blobs.missing++;
        problem(`blob ${id} is missing from the data dir`);
      }
    });
    if (blobs.referenced % 10_000 < ids.length) progress(`blobs: ${blobs.referenced} referenced, ${blobs.copied} copied`);
  }
  // the new names must survive a power loss too: fsync each directory that got files, and its parents
  const parents = new Set<string>();
  for (const d of touched) {
    parents.add(dirname(d));
    parents.add(dirname(dirname(d)));
  }
  await eachLimited([...touched, ...parents], PARALLEL, fsyncDir);
  return { blobs, problems };
}
