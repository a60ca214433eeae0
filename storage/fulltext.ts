/**
 * The background full-text indexer (migration 0003). A new blob's row is
 * written with `fts_indexed = 0` inside the delivery's transaction; its text
 * goes into the index after the commit, in batches, once deliveries pause
 * (so indexing never slows the acknowledgement of a message). Searches call
 * `flushPendingText()` first, so they always see every committed message.
 * The index itself is the dialect's TextIndex (SQLite: FTS5 trigram).
 */
import { crlfSize } from "../mail/crlf.ts";
import { analyzeMessage, type MessageAnalysis } from "../mail/index.ts";
import { errText, unrefTimer, type StoreCore } from "./core.ts";
import type { Queryable } from "./db.ts";
import { num, str, type R } from "./rows.ts";

/** Full-text indexing batches (see registerBlob): how long to gather, and how many per commit. */
const FTS_BATCH_DELAY_MS = 50;
const FTS_BATCH_SIZE = 200;
/** The indexer runs once deliveries have paused this long, or when this many wait. */
const FTS_IDLE_MS = 250;
const FTS_BACKLOG_MAX = 5000;
/**
 * Body characters put in the full-text index. Longer bodies (rare in mail:
 * attachments are not indexed) are indexed up to here and marked partial;
 * searches read those messages' full text, so results stay exact.
 */
export const FTS_BODY_MAX = 32 * 1024;
/** Texts kept in memory for the indexer; beyond this they are recomputed from the blob. */
const PENDING_FTS_MAX = 2000;

export class FullText {
  constructor(private readonly core: StoreCore) {}

  /**
   * Blob row, once per distinct content. Its full-text row is written after
   * the commit by the background indexer (migration 0003): the text computed
   * now is kept in memory for it, so it need not re-read the blob.
   */
  async registerBlob(tx: Queryable, p: { blobId: string; raw: Uint8Array; fts: MessageAnalysis["fts"] | null }): Promise<void> {
    const r = await tx.get<R>("INSERT INTO blobs (id, size, created_at, fts_indexed, crlf_size) VALUES (?, ?, ?, 0, ?) ON CONFLICT(id) DO NOTHING RETURNING seq", [
      p.blobId,
      p.raw.byteLength,
      Date.now(),
      crlfSize(p.raw),
    ]);
    if (!r) return;
    if (p.fts) this.pendingFts.set(p.blobId, p.fts);
    this.lastBlobAt = Date.now();
    this.ftsBacklog++;
    // bounded: evicted texts are recomputed from the blob by the indexer
    if (this.pendingFts.size > PENDING_FTS_MAX) this.pendingFts.delete(this.pendingFts.keys().next().value!);
    this.scheduleFtsIndexing();
  }

  private pendingFts = new Map<string, MessageAnalysis["fts"]>();

  /** When the last new blob was registered, and roughly how many wait for indexing. */
  private lastBlobAt = 0;

  private ftsBacklog = 0;

  private ftsTimer: ReturnType<typeof setTimeout> | null = null;

  private ftsRunning: Promise<number> | null = null;

  /** Picks up blobs committed but not yet full-text indexed before a restart. */
  resumeTextIndexing(): void {
    this.scheduleFtsIndexing(1000);
  }

  /** Runs the indexer shortly, so one batch (one commit) covers many deliveries. */
  private scheduleFtsIndexing(delayMs = FTS_BATCH_DELAY_MS): void {
    if (this.ftsTimer || this.core.closed) return;
    this.ftsTimer = unrefTimer(
      setTimeout(() => {
        this.ftsTimer = null;
        // Deliveries first: while mail is arriving the index waits (like Dovecot's
        // background indexer), unless the backlog grows large. Searches flush it anyway.
        if (Date.now() - this.lastBlobAt < FTS_IDLE_MS && this.ftsBacklog < FTS_BACKLOG_MAX) {
          this.scheduleFtsIndexing(FTS_IDLE_MS);
          return;
        }
        void this.indexPendingText()
          .then((n) => {
            if (n > 0) this.scheduleFtsIndexing(0); // more may be waiting
          })
          .catch((e) => this.core.log?.warn("full-text indexing failed", { error: errText(e) }));
      }, delayMs),
    );
  }

  /** Indexes one batch of pending blobs; returns how many were indexed. Never runs twice at once. */
  private indexPendingText(): Promise<number> {
    if (this.ftsRunning) return this.ftsRunning;
    const run = async (): Promise<number> => {
      if (this.core.closed) return 0;
      const rows = await this.core.db.raw("SELECT seq, id FROM blobs WHERE fts_indexed = 0 ORDER BY seq LIMIT ?", [FTS_BATCH_SIZE]);
      if (rows.length === 0) return 0;
      const texts: [number, MessageAnalysis["fts"] | null][] = [];
      for (const [seq, id] of rows) {
        let f = this.pendingFts.get(str(id)) ?? null;
        if (!f) {
          try {
            f = analyzeMessage(await this.core.blobs.get(str(id))).fts;
          } catch {
            f = null; // blob gone (collected): nothing to index
          }
        }
        texts.push([num(seq), f]);
      }
      await this.core.db.write(async (tx) => {
        for (const [seq, f] of texts) {
          // re-check under the write lock: another indexer or the collector may have been first
          const b = await tx.get<R>("SELECT fts_indexed FROM blobs WHERE seq = ?", [seq]);
          if (!b || num(b.fts_indexed) !== 0) continue;
          const partial = f !== null && f.body.length > FTS_BODY_MAX;
          if (f) await this.core.dialect.text.insert(tx, seq, { ...f, body: partial ? f.body.slice(0, FTS_BODY_MAX) : f.body });
          await tx.run("UPDATE blobs SET fts_indexed = 1, fts_partial = ? WHERE seq = ?", [partial ? 1 : 0, seq]);
        }
      });
      for (const [, id] of rows) this.pendingFts.delete(str(id));
      this.ftsBacklog = Math.max(0, this.ftsBacklog - rows.length);
      return rows.length;
    };
    this.ftsRunning = run().finally(() => {
      this.ftsRunning = null;
    });
    return this.ftsRunning;
  }

  /** Indexes everything pending, so a search sees every committed message. */
  async flushPendingText(): Promise<void> {
    for (;;) {
      // a batch already running may have looked before the caller's commit: wait, then look again
      const running = this.ftsRunning as Promise<number> | null;
      if (running) {
        await running.catch(() => 0);
        continue;
      }
      if ((await this.indexPendingText()) === 0) return;
    }
  }

  /** Stops the timer and waits for a batch in progress (the store is closing). */
  async stop(): Promise<void> {
    if (this.ftsTimer) clearTimeout(this.ftsTimer);
    this.ftsTimer = null;
    if (this.ftsRunning) await this.ftsRunning.catch(() => 0);
  }
}
