/**
 * What the admin's log viewer and graphs read (src/ops/types.ts
 * ActivityService): a bounded ring of recent activity entries, newest last,
 * and hourly counters derived from them. The logger feeds it
 * (./activity-log.ts: one entry per log line that names a `kind`); the JSON
 * lines on stderr stay the record of truth for fail2ban and journald.
 *
 * Kept across a restart in the data dir (`activity/`, 0700; files 0600: they
 * name accounts and addresses): the entries are appended to a size-capped
 * JSON-lines file (one older generation kept), and the hourly counters are
 * saved every minute and at shutdown; at start the counters are read back and
 * the entries written after they were saved are counted again (each entry's
 * line carries a sequence number, the counters the last one they include), so
 * a crash loses at most the last half second of entries and never counts one
 * twice. Not fsynced: this is an operations view, not mail.
 */
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ActivityEntry, ActivityFilter, ActivityKind, ActivityService, HourlyCounts } from "./ops/types.ts";

const HOUR = 3_600_000;
/** Entries kept in memory: at ~300 bytes each, about 3 MB at most. */
export const ACTIVITY_RING_SIZE = 10_000;
const MAX_LIMIT = 1_000;
const MAX_HOURS = 24 * 14;
/** The entries file is rotated (one older generation kept) past this size. */
export const ACTIVITY_FILE_BYTES = 4 * 1024 * 1024;
/** A line longer than this in the file is not an entry we wrote: skipped at load. */
const MAX_LINE = 16 * 1024;
const FLUSH_MS = 500;
const SAVE_COUNTS_MS = 60_000;

export const ACTIVITY_KINDS: ReadonlySet<ActivityKind> = new Set(["delivery", "rejection", "login", "login-failed", "outbound", "admin", "system"]);

export interface ActivityRecorder extends ActivityService {
  record(entry: ActivityEntry): void;
  /** Writes pending entries and the counters now (tests, shutdown). */
  flush(): void;
  /** Flushes and stops the timers. Idempotent. */
  close(): void;
}

export interface ActivityOptions {
  size?: number;
  now?: () => number;
  /** Directory for the persisted entries and counters; absent or null: memory only. */
  dir?: string | null;
  /** Rotation threshold of the entries file (tests use a small one). */
  fileBytes?: number;
  /** Told when the files cannot be read or written (never throws into the logger). */
  onError?: (message: string) => void;
}

export function activityPaths(dir: string): { entries: string; previous: string; counts: string } {
  return { entries: join(dir, "activity.jsonl"), previous: join(dir, "activity.1.jsonl"), counts: join(dir, "hourly.json") };
}

function emptyHour(hour: number): HourlyCounts {
  return { hour, messagesIn: 0, messagesOut: 0, rejected: 0, loginsFailed: 0 };
}

/** Reads back an entry written by us, with its sequence number; null for anything else (a hand-edited or truncated line). */
function parseEntry(line: string): { entry: ActivityEntry; seq: number } | null {
  if (!line || line.length > MAX_LINE) return null;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (!v || typeof v !== "object") return null;
  const e = v as Partial<ActivityEntry>;
  if (typeof e.ts !== "number" || !Number.isFinite(e.ts) || !ACTIVITY_KINDS.has(e.kind as ActivityKind) || typeof e.msg !== "string") return null;
  if (e.level !== "info" && e.level !== "warn" && e.level !== "error") return null;
  if (!e.fields || typeof e.fields !== "object" || Array.isArray(e.fields)) return null;
  const seq = (e as { seq?: unknown }).seq;
  if (typeof seq !== "number" || !Number.isSafeInteger(seq)) return null;
  delete (e as { seq?: unknown }).seq;
  return { entry: e as ActivityEntry, seq };
}

function readLines(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split("\n");
}

export function createActivity(opts: ActivityOptions = {}): ActivityRecorder {
  const size = Math.max(1, opts.size ?? ACTIVITY_RING_SIZE);
  const now = opts.now ?? Date.now;
  const fileBytes = opts.fileBytes ?? ACTIVITY_FILE_BYTES;
  const onError = opts.onError ?? (() => {});
  const paths = opts.dir ? activityPaths(opts.dir) : null;
  const ring: ActivityEntry[] = [];
  let start = 0; // index of the oldest entry once the ring is full
  const counts = new Map<number, HourlyCounts>();
  let pending: string[] = [];
  let countsDirty = false;
  /** Sequence number of the last entry recorded (and so counted). */
  let seq = 0;
  let closed = false;

  const bump = (e: ActivityEntry) => {
    const hour = Math.floor(e.ts / HOUR) * HOUR;
    let c = counts.get(hour);
    if (!c) {
      c = emptyHour(hour);
      counts.set(hour, c);
      // Keep two weeks of hours, whatever the clock did.
      for (const h of counts.keys()) if (h < hour - MAX_HOURS * HOUR) counts.delete(h);
    }
    // Messages in: mail accepted from other servers (MX); a submission is counted when it leaves (outbound).
    if (e.kind === "delivery" && e.protocol !== "submission") c.messagesIn++;
    else if (e.kind === "outbound" && e.fields.result === "delivered") c.messagesOut++;
    else if (e.kind === "rejection") c.rejected++;
    else if (e.kind === "login-failed") c.loginsFailed++;
    countsDirty = true;
  };
  const push = (entry: ActivityEntry) => {
    if (ring.length < size) ring.push(entry);
    else {
      ring[start] = entry;
      start = (start + 1) % size;
    }
  };

  // ---- load what an earlier run left
  if (paths) {
    try {
      mkdirSync(opts.dir!, { recursive: true, mode: 0o700 });
      let savedSeq = 0;
      if (existsSync(paths.counts)) {
        try {
          const saved = JSON.parse(readFileSync(paths.counts, "utf8")) as { seq?: unknown; hours?: unknown };
          if (typeof saved.seq === "number") savedSeq = saved.seq;
          if (Array.isArray(saved.hours)) {
            for (const h of saved.hours.slice(-MAX_HOURS - 1) as Partial<HourlyCounts>[]) {
              if (typeof h?.hour !== "number") continue;
              counts.set(h.hour, { hour: h.hour, messagesIn: Number(h.messagesIn) || 0, messagesOut: Number(h.messagesOut) || 0, rejected: Number(h.rejected) || 0, loginsFailed: Number(h.loginsFailed) || 0 });
            }
          }
        } catch (e) {
          onError(`activity counters ${paths.counts} unreadable, starting from the entries: ${(e as Error).message}`);
        }
      }
      for (const line of [...readLines(paths.previous), ...readLines(paths.entries)]) {
        const read = parseEntry(line);
        if (!read) continue;
        push(read.entry);
        // Entries written after the counters were last saved (a crash, a kill -9) are counted again.
        if (read.seq > savedSeq) bump(read.entry);
        seq = Math.max(seq, read.seq);
      }
      seq = Math.max(seq, savedSeq);
    } catch (e) {
      onError(`activity log in ${opts.dir} unreadable: ${(e as Error).message}`);
    }
  }

  const writeEntries = () => {
    if (!paths || pending.length === 0) return;
    const text = pending.join("");
    pending = [];
    try {
      let current = 0;
      try {
        current = statSync(paths.entries).size;
      } catch {
        current = 0;
      }
      if (current > 0 && current + text.length > fileBytes) renameSync(paths.entries, paths.previous);
      appendFileSync(paths.entries, text, { mode: 0o600 });
    } catch (e) {
      onError(`cannot write the activity log ${paths.entries}: ${(e as Error).message}`);
    }
  };
  const saveCounts = () => {
    if (!paths || !countsDirty) return;
    countsDirty = false;
    const hours = [...counts.values()].sort((a, b) => a.hour - b.hour);
    try {
      const tmp = paths.counts + ".tmp";
      writeFileSync(tmp, JSON.stringify({ seq, savedAt: now(), hours }), { mode: 0o600 });
      chmodSync(tmp, 0o600);
      renameSync(tmp, paths.counts);
    } catch (e) {
      onError(`cannot save the activity counters ${paths.counts}: ${(e as Error).message}`);
    }
  };
  let flushTimer: ReturnType<typeof setTimeout> | null = null;
  const saveTimer = paths ? setInterval(() => saveCounts(), SAVE_COUNTS_MS) : null;
  saveTimer?.unref?.();

  const flush = () => {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = null;
    // Entries first: the counters' savedAt then covers only entries already on disk.
    writeEntries();
    saveCounts();
  };

  return {
    record(entry) {
      push(entry);
      bump(entry);
      seq++;
      if (!paths || closed) return;
      pending.push(JSON.stringify({ ...entry, seq }) + "\n");
      if (!flushTimer) {
        flushTimer = setTimeout(() => {
          flushTimer = null;
          writeEntries();
        }, FLUSH_MS);
        flushTimer.unref?.();
      }
    },
    recent(filter: ActivityFilter = {}) {
      const limit = Math.min(Math.max(1, Math.floor(filter.limit ?? 200) || 1), MAX_LIMIT);
      const kinds = filter.kinds?.length ? new Set(filter.kinds) : null;
      const text = filter.text?.toLowerCase().slice(0, 200) || null;
      const out: ActivityEntry[] = [];
      for (let i = ring.length - 1; i >= 0 && out.length < limit; i--) {
        const e = ring[(start + i) % ring.length]!;
        if (kinds && !kinds.has(e.kind)) continue;
        if (filter.since !== undefined && e.ts < filter.since) continue;
        if (filter.until !== undefined && e.ts > filter.until) continue;
        if (text && !matches(e, text)) continue;
        out.push(e);
      }
      return out;
    },
    async hourly(hours) {
      const n = Math.min(Math.max(1, Math.floor(hours) || 1), MAX_HOURS);
      const last = Math.floor(now() / HOUR) * HOUR;
      const out: HourlyCounts[] = [];
      for (let h = last - (n - 1) * HOUR; h <= last; h += HOUR) out.push({ ...(counts.get(h) ?? emptyHour(h)) });
      return out;
    },
    flush,
    close() {
      if (closed) return;
      flush();
      closed = true;
      if (saveTimer) clearInterval(saveTimer);
    },
  };
}

function matches(e: ActivityEntry, text: string): boolean {
  if (e.msg.toLowerCase().includes(text)) return true;
  if (e.account?.toLowerCase().includes(text) || e.ip?.toLowerCase().includes(text) || e.protocol?.toLowerCase().includes(text)) return true;
  for (const v of Object.values(e.fields)) if (v !== null && String(v).toLowerCase().includes(text)) return true;
  return false;
}
