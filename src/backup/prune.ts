/**
 * `pillarbox backup DIR --prune`: removes from DIR the blobs the backup's
 * current database no longer references (mail deleted since earlier runs), so
 * an incremental backup directory does not grow forever. Runs after the new
 * manifest is in place, against that manifest's own snapshot.
 *
 * Memory stays flat: the referenced ids come sorted (ORDER BY id) and DIR's
 * blobs are listed sorted (ab/cd/<id>), so one merge walk decides each file.
 * The referenced stream is first read once to check it really is strictly
 * ascending (a PostgreSQL collation could order differently): if it is not,
 * nothing is removed.
 */
import { promises as fsp } from "node:fs";
import { join } from "node:path";
import { BLOB_ID } from "./files.ts";

export interface PruneResult {
  removed: number;
  bytes: number;
}

/** Blob ids under `<dir>/blobs`, ascending. */
async function* listBlobs(dir: string): AsyncGenerator<string> {
  const root = join(dir, "blobs");
  const level1 = (await fsp.readdir(root).catch(() => [] as string[])).filter((a) => /^[0-9a-f]{2}$/.test(a)).sort();
  for (const a of level1) {
    const level2 = (await fsp.readdir(join(root, a)).catch(() => [] as string[])).filter((b) => /^[0-9a-f]{2}$/.test(b)).sort();
    for (const b of level2) {
      const files = (await fsp.readdir(join(root, a, b)).catch(() => [] as string[])).filter((f) => BLOB_ID.test(f) && f.startsWith(a + b)).sort();
      yield* files;
    }
  }
}

async function* flatten(pages: AsyncIterable<string[]>): AsyncGenerator<string> {
  for await (const p of pages) yield* p;
}

/** True when the ids arrive strictly ascending (JS string order, the order of the listing). */
async function ascending(pages: AsyncIterable<string[]>): Promise<boolean> {
  let last = "";
  for await (const id of flatten(pages)) {
    if (id <= last) return false;
    last = id;
  }
  return true;
}

/** `referenced` is called twice (a check pass, then the merge); each call must give the same ids afresh. */
export async function pruneBlobs(dir: string, referenced: () => AsyncIterable<string[]>): Promise<PruneResult | null> {
  if (!(await ascending(referenced()))) return null;
  const refs = flatten(referenced());
  let ref = await refs.next();
  const result: PruneResult = { removed: 0, bytes: 0 };
  for await (const id of listBlobs(dir)) {
    while (!ref.done && ref.value < id) ref = await refs.next();
    if (!ref.done && ref.value === id) continue;
    const path = join(dir, "blobs", id.slice(0, 2), id.slice(2, 4), id);
    const st = await fsp.stat(path).catch(() => null);
    await fsp.unlink(path).catch(() => {});
    result.removed++;
    result.bytes += st?.size ?? 0;
  }
  await refs.return(undefined); // lets the source close (a snapshot's connection)
  return result;
}
