/**
 * Blob garbage collection: blobs no row references, older than a grace
 * period (an uncommitted delivery may own a young one), are deleted with
 * their `blobs` row and full-text entry; runs in the background.
 */
import type { StoreCore } from "./core.ts";
import { errText, unrefTimer } from "./core.ts";
import { FsBlobStore } from "./blobstore.ts";
import { num, str, type R } from "./rows.ts";

/**
 * Queries (one column: blob id) of other storage modules' tables that
 * reference blobs; garbage collection keeps every blob they name.
 */
const blobReferenceQueries = new Set<string>();
export function registerBlobReferences(sql: string): void {
  blobReferenceQueries.add(sql);
}

export class BlobGc {
  private gcTimer: ReturnType<typeof setTimeout> | null = null;
  private gcRunning: Promise<unknown> | null = null;

  constructor(
    private readonly core: StoreCore,
    private readonly gcGraceMs: number,
  ) {}

  /** Background garbage collection: every `intervalMs`, first after `firstMs`. Timers never keep the process alive. */
  startMaintenance(intervalMs: number, firstMs = 10 * 60 * 1000) {
    if (intervalMs <= 0 || this.core.closed) return;
    const run = () => {
      this.gcTimer = null;
      if (this.core.closed) return;
      this.gcRunning = this.collectGarbage()
        .catch((e) => this.core.log?.warn("background garbage collection failed", { error: errText(e) }))
        .finally(() => {
          this.gcRunning = null;
          if (!this.core.closed) this.gcTimer = unrefTimer(setTimeout(run, intervalMs));
        });
    };
    this.gcTimer = unrefTimer(setTimeout(run, Math.min(firstMs, intervalMs)));
  }

  async collectGarbage(opts: { graceMs?: number } = {}): Promise<number> {
    const grace = opts.graceMs ?? this.gcGraceMs;
    const now = Date.now();
    const refs = new Set<string>();
    for (const r of await this.core.db.raw("SELECT DISTINCT blob_id FROM items UNION SELECT blob_id FROM queue")) refs.add(str(r[0]));
    for (const q of blobReferenceQueries) for (const r of await this.core.db.raw(q)) refs.add(str(r[0]));
    const candidates: string[] = [];
    for await (const id of this.core.blobs.list()) {
      if (refs.has(id)) continue;
      const mtime = this.core.blobs.modifiedAt ? await this.core.blobs.modifiedAt(id) : 0;
      if (mtime === null) continue;
      // Young blobs may belong to a delivery that has not committed yet.
      if (now - mtime < grace) continue;
      candidates.push(id);
    }
    let removed = 0;
    for (let i = 0; i < candidates.length; i += 200) {
      const chunk = candidates.slice(i, i + 200);
      removed += await this.core.db.write(async (tx) => {
        let n = 0;
        for (const id of chunk) {
          // re-check under the write lock: a delivery may have committed meanwhile
          if (await tx.get("SELECT 1 AS x FROM items WHERE blob_id = ? UNION ALL SELECT 1 FROM queue WHERE blob_id = ? LIMIT 1", [id, id])) continue;
          let extra = false;
          for (const q of blobReferenceQueries) if ((await tx.raw(q)).some((r) => str(r[0]) === id)) extra = true;
          if (extra) continue;
          const mtime = this.core.blobs.modifiedAt ? await this.core.blobs.modifiedAt(id) : 0;
          if (mtime !== null && Date.now() - mtime < grace) continue;
          const b = await tx.get<R>("SELECT seq FROM blobs WHERE id = ?", [id]);
          if (b) {
            await this.core.dialect.text.remove(tx, num(b.seq));
            await tx.run("DELETE FROM blobs WHERE seq = ?", [num(b.seq)]);
          }
          await this.core.blobs.delete(id);
          n++;
        }
        return n;
      });
    }
    // index rows whose blob is gone and unreferenced (e.g. removed by hand)
    await this.core.db.write(async (tx) => {
      const stale = await tx.raw(
        "SELECT seq, id FROM blobs WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM items WHERE blob_id = blobs.id) AND NOT EXISTS (SELECT 1 FROM queue WHERE blob_id = blobs.id)",
        [now - grace],
      );
      for (const [seq, id] of stale) {
        if (await this.core.blobs.has(str(id))) continue;
        await this.core.dialect.text.remove(tx, num(seq));
        await tx.run("DELETE FROM blobs WHERE seq = ?", [num(seq)]);
      }
    });
    if (this.core.blobs instanceof FsBlobStore) await this.core.blobs.removeStaleTemps(Math.max(grace, 60_000));
    if (removed) this.core.log?.info("garbage collection", { removedBlobs: removed });
    return removed;
  }

  /** Stops the timer and waits for a run in progress (the store is closing). */
  async stop(): Promise<void> {
    if (this.gcTimer) clearTimeout(this.gcTimer);
    this.gcTimer = null;
    if (this.gcRunning) await this.gcRunning;
  }
}
