/**
 * `pillarbox check --blobs` (found item 5): every blob the live database
 * references is present in the data dir and its sha256 is its name. Reads
 * every blob (it is opt-in for that reason); reports counts and the first
 * ids with the messages that use them, so the admin knows what was lost.
 */
import { checkBlobFiles } from "../backup/blob-check.ts";
import type { Config } from "../config-types.ts";
import { blobOwners, referencedBlobIds } from "../../storage/backup.ts";
import { openDb, redactDbUrl } from "../../storage/db.ts";

/** Ids shown per kind. */
const SHOW = 10;

/** Runs the blob check; reports through ok/fail; returns the number of failed checks. */
export async function checkBlobs(config: Config, report: { ok(m: string): void; warn(m: string): void; fail(m: string): void }): Promise<number> {
  const { ok, warn, fail } = report;
  let db: Awaited<ReturnType<typeof openDb>> | null = null;
  try {
    db = await openDb({ url: config.databaseUrl, authToken: config.databaseAuthToken });
    const r = await checkBlobFiles(referencedBlobIds(db), config.dataDir, { keep: SHOW });
    if (!r.missingCount && !r.damagedCount) {
      ok(`blobs: all ${r.checked} referenced blobs present and matching their sha256 (${r.bytes} bytes)`);
      return 0;
    }
    let failed = 0;
    const describe = async (ids: string[]) => {
      const owners = await blobOwners(db!, ids, SHOW);
      const byId = new Map(owners.map((o) => [o.blobId, `${o.account} ${o.folder} UID ${o.uid}`]));
      return ids.map((id) => `${id}${byId.has(id) ? ` (${byId.get(id)})` : ""}`).join("; ");
    };
    const more = (n: number, k: number) => (n > k ? `; and ${n - k} more` : "");
    if (r.missingCount) {
      failed++;
      fail(`blobs: ${r.missingCount} of ${r.checked} referenced blobs are missing: ${await describe(r.missing)}${more(r.missingCount, r.missing.length)}`);
    }
    if (r.damagedCount) {
      failed++;
      fail(`blobs: ${r.damagedCount} of ${r.checked} blobs are damaged (content does not match its sha256): ${await describe(r.damaged)}${more(r.damagedCount, r.damaged.length)}`);
    }
    warn("blobs: restore the listed blobs from a backup (they are files blobs/ab/cd/<id> in the backup directory), or the messages stay unreadable");
    return failed;
  } catch (e) {
    fail(`blobs: cannot check ${redactDbUrl(config.databaseUrl)}: ${(e as Error).message}`);
    return 1;
  } finally {
    await db?.close().catch(() => {});
  }
}
