/**
 * One lane of the activity log (./activity.ts): a bounded in-memory ring of
 * entries, newest last, and its JSON-lines file in the data dir, rotated past
 * a size (one older generation kept). Successful logins have a lane of their
 * own, so a busy server's client logins (every mail client, every few
 * minutes) never push rejections and deliveries out of the admin's view.
 */
import { appendFileSync, existsSync, readFileSync, renameSync, statSync } from "node:fs";
import type { ActivityEntry, ActivityKind } from "./ops/types.ts";

/** A line longer than this in the file is not an entry we wrote: skipped at load. */
const MAX_LINE = 16 * 1024;

export const ACTIVITY_KINDS: ReadonlySet<ActivityKind> = new Set(["delivery", "rejection", "login", "login-failed", "outbound", "admin", "security", "system"]);

/** Reads back an entry written by us, with its sequence number; null for anything else (a hand-edited or truncated line). */
export function parseEntryLine(line: string): { entry: ActivityEntry; seq: number } | null {
  if (!line || line.length > MAX_LINE) return null;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (!v || typeof v !== "object") return null;
  const e = v as Partial<ActivityEntry> & { seq?: unknown };
  if (typeof e.ts !== "number" || !Number.isFinite(e.ts) || !ACTIVITY_KINDS.has(e.kind as ActivityKind) || typeof e.msg !== "string") return null;
  if (e.level !== "info" && e.level !== "warn" && e.level !== "error") return null;
  if (!e.fields || typeof e.fields !== "object" || Array.isArray(e.fields)) return null;
  const seq = e.seq;
  if (typeof seq !== "number" || !Number.isSafeInteger(seq)) return null;
  delete e.seq;
  return { entry: e as ActivityEntry, seq };
}

export class ActivityLane {
  private readonly ring: ActivityEntry[] = [];
  private start = 0; // index of the oldest entry once the ring is full
  private pending: string[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly size: number,
    /** The file and its older generation; null: memory only. */
    readonly files: { current: string; previous: string } | null,
    private readonly fileBytes: number,
    private readonly onError: (message: string) => void,
  ) {}

  push(entry: ActivityEntry): void {
    if (this.ring.length < this.size) this.ring.push(entry);
    else {
      this.ring[this.start] = entry;
      this.start = (this.start + 1) % this.size;
    }
  }

  /** Queues the entry for the file (with its sequence number). */
  queue(entry: ActivityEntry, seq: number): void {
    if (!this.files) return;
    const line = JSON.stringify({ ...entry, seq }) + "\n";
    this.pending.push(line);
    this.pendingBytes += line.length;
    // A flood between two writes: what would be rotated away at once is dropped now (bounded memory).
    if (this.pendingBytes > 2 * this.fileBytes) {
      let drop = 0;
      while (this.pendingBytes > this.fileBytes && drop < this.pending.length - 1) this.pendingBytes -= this.pending[drop++]!.length;
      this.pending.splice(0, drop);
    }
  }

  /** The file's entries, older generation first (for the start-up load). */
  *stored(): Generator<{ entry: ActivityEntry; seq: number }> {
    if (!this.files) return;
    for (const f of [this.files.previous, this.files.current]) {
      if (!existsSync(f)) continue;
      for (const line of readFileSync(f, "utf8").split("\n")) {
        const read = parseEntryLine(line);
        if (read) yield read;
      }
    }
  }

  /** Appends what is queued, rotating the file first when it would pass its size. */
  write(): void {
    if (!this.files || this.pending.length === 0) return;
    const lines = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    const { current, previous } = this.files;
    try {
      let size = 0;
      try {
        size = statSync(current).size;
      } catch {
        size = 0;
      }
      // In chunks that each fit the file's size, rotating between them: the file never grows past its cap.
      let chunk: string[] = [];
      let chunkBytes = 0;
      const flushChunk = () => {
        if (chunk.length) appendFileSync(current, chunk.join(""), { mode: 0o600 });
        size += chunkBytes;
        chunk = [];
        chunkBytes = 0;
      };
      for (const line of lines) {
        if (size + chunkBytes > 0 && size + chunkBytes + line.length > this.fileBytes) {
          flushChunk();
          renameSync(current, previous);
          size = 0;
        }
        chunk.push(line);
        chunkBytes += line.length;
      }
      flushChunk();
    } catch (e) {
      this.onError(`cannot write the activity log ${current}: ${(e as Error).message}`);
    }
  }

  /** Entries from newest to oldest. */
  *newestFirst(): Generator<ActivityEntry> {
    for (let i = this.ring.length - 1; i >= 0; i--) yield this.ring[(this.start + i) % this.ring.length]!;
  }
}
