/**
 * The outbound queue: entries (one blob, per-recipient status, DSN options
 * of RFC 3461) and the row lock that lets several workers, processes or
 * nodes share one queue (a crashed holder's lock expires).
 */
import { StoreError, type QueueEntry } from "./api.ts";
import type { StoreCore } from "./core.ts";
import type { Queryable, SqlValue } from "./db.ts";
import { QUEUE_COLS, num, toQueue, type R } from "./rows.ts";

/** A queue entry to insert (its blob written by the caller). */
export interface QueueInsert {
  sender: string;
  recipients: string[];
  size: number;
  dsn?: QueueEntry["dsn"];
  rcptDsn?: Record<string, { notify?: string[]; orcpt?: string }>;
}

export class QueueStore {
  constructor(private readonly core: StoreCore) {}

  async enqueue(entry: {
    sender: string;
    recipients: string[];
    raw: Uint8Array;
    dsn?: QueueEntry["dsn"];
    rcptDsn?: Record<string, { notify?: string[]; orcpt?: string }>;
  }): Promise<QueueEntry> {
    if (entry.recipients.length === 0) throw new StoreError("INVALID", "no recipients");
    const blobId = await this.core.blobs.put(entry.raw);
    const id = await this.core.tx((tx) => this.insertEntry(tx, { ...entry, size: entry.raw.byteLength }, blobId));
    if (!(await this.core.blobs.has(blobId))) await this.core.blobs.put(entry.raw);
    return (await this.getQueueEntry(id)) as QueueEntry;
  }

  /**
   * The queue row of an entry whose blob is already written, inside the
   * caller's write job: storage/ingest.ts `deliverAndEnqueue` commits it
   * with the local copies of the same message. Returns the entry id.
   */
  async insertEntry(tx: Queryable, entry: QueueInsert, blobId: string): Promise<number> {
    if (entry.recipients.length === 0) throw new StoreError("INVALID", "no recipients");
    const now = Date.now();
    const recipients: QueueEntry["recipients"] = entry.recipients.map((address) => {
      const d = entry.rcptDsn?.[address];
      return d ? { address, status: "pending", dsn: d } : { address, status: "pending" };
    });
    const r = await tx.get<R>(
      `INSERT INTO queue (sender, recipients, blob_id, size, created_at, next_attempt_at, attempts, last_error, dsn, locked_until)
         VALUES (?, ?, ?, ?, ?, ?, 0, NULL, ?, NULL) RETURNING id`,
      [entry.sender, JSON.stringify(recipients), blobId, entry.size, now, now, entry.dsn ? JSON.stringify(entry.dsn) : null],
    );
    return num(r?.id);
  }

  async listQueue(): Promise<QueueEntry[]> {
    return (await this.core.db.all<R>(`SELECT ${QUEUE_COLS} FROM queue ORDER BY next_attempt_at, id`)).map(toQueue);
  }

  async getQueueEntry(id: number): Promise<QueueEntry | null> {
    const r = await this.core.db.get<R>(`SELECT ${QUEUE_COLS} FROM queue WHERE id = ?`, [id]);
    return r ? toQueue(r) : null;
  }

  async claimDueQueueEntries(now: number, limit: number, lockMs: number): Promise<QueueEntry[]> {
    // The lock lives in the row, so several processes/nodes share one queue; a crashed holder's lock expires.
    return this.core.tx(async (tx) => {
      const rows = await tx.all<R>(
        // PostgreSQL: SKIP LOCKED, so two nodes claiming at once never both take a row
        `SELECT ${QUEUE_COLS} FROM queue WHERE next_attempt_at <= ? AND (locked_until IS NULL OR locked_until <= ?) ORDER BY next_attempt_at, id LIMIT ?${this.core.dialect.forUpdateSkipLocked}`,
        [now, now, Math.max(0, Math.floor(limit))],
      );
      const until = now + lockMs;
      for (const r of rows) {
        await tx.run("UPDATE queue SET locked_until = ? WHERE id = ?", [until, num(r.id)]);
        r.locked_until = until;
      }
      return rows.map(toQueue);
    });
  }

  async updateQueueEntry(
    id: number,
    patch: Partial<Pick<QueueEntry, "recipients" | "nextAttemptAt" | "attempts" | "lastError" | "lockedUntil">>,
  ): Promise<void> {
    const sets: string[] = [];
    const args: SqlValue[] = [];
    if (patch.recipients !== undefined) {
      sets.push("recipients = ?");
      args.push(JSON.stringify(patch.recipients));
    }
    if (patch.nextAttemptAt !== undefined) {
      sets.push("next_attempt_at = ?");
      args.push(patch.nextAttemptAt);
    }
    if (patch.attempts !== undefined) {
      sets.push("attempts = ?");
      args.push(patch.attempts);
    }
    if (patch.lastError !== undefined) {
      sets.push("last_error = ?");
      args.push(patch.lastError);
    }
    if (patch.lockedUntil !== undefined) {
      sets.push("locked_until = ?");
      args.push(patch.lockedUntil);
    }
    if (sets.length === 0) return;
    args.push(id);
    const r = await this.core.db.run(`UPDATE queue SET ${sets.join(", ")} WHERE id = ?`, args);
    if (r.changes === 0) throw new StoreError("NONEXISTENT", "no such queue entry");
  }

  async removeQueueEntry(id: number): Promise<void> {
    await this.core.db.run("DELETE FROM queue WHERE id = ?", [id]);
  }
}
