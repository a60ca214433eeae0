/**
 * Blob garbage collection. A blob is written (and fsynced) before the row
 * that references it commits, so a crash or a failed transaction can leave
 * blobs nothing references; the collector deletes them, with their `blobs`
 * row and full-text entry, in the background.
 *
 * It works on any BlobStore (list, modifiedAt, delete) and asks the database
 * with set-based queries: one query per batch of listed blobs says which of
 * them any referencing table names, and the deletion of a batch re-checks
 * the same way under the write lock. Blobs younger than the grace period are
 * kept: an uncommitted delivery may own them.
 */
import type { Queryable } from "./db.ts";
import { errText, unrefTimer, type StoreCore } from "./core.ts";
import { num, str } from "./rows.ts";
import { blobCollectionHeld } from "./backup.ts";

/**
 * Every table column that holds blob ids. A row in any of them keeps its
 * blob; a storage module that stores blob ids in a new table adds it here
 * (with an index on the column: the collector looks ids up by it).
 */
export const BLOB_REFERENCES: readonly { table: string; column: string }[] = [
  { table: "items", column: "blob_id" }, // messages and the canonical bodies of other item classes
  { table: "queue", column: "blob_id" }, // outbound mail
  { table: "webmail_uploads", column: "blob_id" }, // compose attachments (migration 0021)
];

/** Blobs looked at per query and per deleting transaction. */
const BATCH = 500;

export class BlobGc {
  private gcTimer: ReturnType<typeof setTimeout> | null = null;
  private gcRunning: Promise<unknown> | null = null;
  /** `SELECT <column>` of every referencing table, each restricted to a JSON list bound to its `?`. */
  private readonly referencedSql: string;
  /** The same tables, as "no row references blobs.id". */
  private readonly unreferencedRowSql: string;

  constructor(
    private readonly core: StoreCore,
    private readonly gcGraceMs: number,
  ) {
    const list = core.dialect.textList();
    this.referencedSql = BLOB_REFERENCES.map((r) => `SELECT ${r.column} FROM ${r.table} WHERE ${r.column} IN (${list})`).join(" UNION ");
    this.unreferencedRowSql = BLOB_REFERENCES.map((r) => `NOT EXISTS (SELECT 1 FROM ${r.table} WHERE ${r.column} = blobs.id)`).join(" AND ");
  }

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

  /** Of `ids`, those some row references (one query for the whole list). */
  private async referenced(q: Queryable, ids: readonly string[]): Promise<Set<string>> {
    const list = JSON.stringify(ids);
    const rows = await q.raw(this.referencedSql, BLOB_REFERENCES.map(() => list));
    return new Set(rows.map((r) => str(r[0])));
  }

  /** Older than the grace period (a store without modification times counts every blob as old). Null: the blob is gone. */
  private async oldEnough(id: string, grace: number): Promise<boolean | null> {
    const blobs = this.core.blobs;
    const mtime = blobs.modifiedAt ? await blobs.modifiedAt(id) : 0;
    if (mtime === null) return null;
    return Date.now() - mtime >= grace;
  }

  async collectGarbage(opts: { graceMs?: number } = {}): Promise<number> {
    const grace = opts.graceMs ?? this.gcGraceMs;
    const now = Date.now();
    let removed = 0;
    let batch: string[] = [];
    const flush = async () => {
      const ids = batch;
      batch = [];
      const refs = await this.referenced(this.core.db, ids);
      const candidates: string[] = [];
      // Young blobs may belong to a delivery that has not committed yet.
      for (const id of ids) if (!refs.has(id) && (await this.oldEnough(id, grace))) candidates.push(id);
      if (candidates.length) removed += await this.remove(candidates, grace);
    };
    for await (const id of this.core.blobs.list()) {
      batch.push(id);
      if (batch.length >= BATCH) await flush();
    }
    if (batch.length) await flush();
    await this.removeStaleIndexRows(now - grace);
    await this.core.blobs.removeStaleTemps?.(Math.max(grace, 60_000));
    if (removed) this.core.log?.info("garbage collection", { removedBlobs: removed });
    return removed;
  }

  /** Deletes the candidates still unreferenced under the write lock (a delivery may have committed meanwhile). */
  private remove(candidates: string[], grace: number): Promise<number> {
    return this.core.db.write(async (tx) => {
      // a backup is copying the blobs its snapshot references: delete nothing now (storage/backup.ts, the hold)
      if (blobCollectionHeld(this.core.blobs)) return 0;
      const refs = await this.referenced(tx, candidates);
      const gone: string[] = [];
      for (const id of candidates) if (!refs.has(id) && (await this.oldEnough(id, grace)) !== false) gone.push(id);
      if (!gone.length) return 0;
      const list = JSON.stringify(gone);
      const inList = this.core.dialect.textList();
      for (const [seq] of await tx.raw(`SELECT seq FROM blobs WHERE id IN (${inList})`, [list])) await this.core.dialect.text.remove(tx, num(seq));
      await tx.run(`DELETE FROM blobs WHERE id IN (${inList})`, [list]);
      for (const id of gone) await this.core.blobs.delete(id);
      return gone.length;
    });
  }

  /** `blobs` rows (and full-text entries) whose blob is gone and that nothing references (e.g. a blob removed by hand). */
  private async removeStaleIndexRows(before: number): Promise<void> {
    await this.core.db.write(async (tx) => {
      const stale = await tx.raw(`SELECT seq, id FROM blobs WHERE created_at < ? AND ${this.unreferencedRowSql}`, [before]);
      for (const [seq, id] of stale) {
        if (await this.core.blobs.has(str(id))) continue;
        await this.core.dialect.text.remove(tx, num(seq));
        await tx.run("DELETE FROM blobs WHERE seq = ?", [num(seq)]);
      }
    });
  }

  /** Stops the timer and waits for a run in progress (the store is closing). */
  async stop(): Promise<void> {
    if (this.gcTimer) clearTimeout(this.gcTimer);
    this.gcTimer = null;
    if (this.gcRunning) await this.gcRunning;
  }
}
