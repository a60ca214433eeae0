/**
 * What the admin's log viewer and graphs read (src/ops/types.ts
 * ActivityService): bounded rings of recent activity entries (two lanes,
 * ./activity-lane.ts) and hourly counters derived from them. The logger feeds it
 * (./activity-log.ts: one entry per log line that names a `kind`); the JSON
 * lines on stderr stay the record of truth for fail2ban and journald.
 *
 * Kept across a restart in the data dir (`activity/`, 0700; files 0600: they
 * name accounts and addresses): the entries are appended to size-capped
 * JSON-lines files (./activity-lane.ts: one for successful logins, one for
 * everything else, each with one older generation), and the hourly counters are
 * saved every minute and at shutdown; at start the counters are read back and
 * the entries written after they were saved are counted again (each entry's
 * line carries a sequence number, the counters the last one they include), so
 * a crash loses at most the last half second of entries and never counts one
 * twice. Not fsynced: this is an operations view, not mail.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ActivityEntry, ActivityFilter, ActivityService, HourlyCounts } from "./ops/types.ts";
import { ActivityLane } from "./activity-lane.ts";

export { ACTIVITY_KINDS } from "./activity-lane.ts";

const HOUR = 3_600_000;
/** Entries kept in memory per lane (events; successful logins): at ~300 bytes each, about 3 MB each at most. */
export const ACTIVITY_RING_SIZE = 10_000;
const MAX_LIMIT = 1_000;
const MAX_HOURS = 24 * 14;
/** Each lane's file is rotated (one older generation kept) past this size. */
export const ACTIVITY_FILE_BYTES = 4 * 1024 * 1024;
const FLUSH_MS = 500;
const SAVE_COUNTS_MS = 60_000;

export interface ActivityRecorder extends ActivityService {
  record(entry: ActivityEntry): void;
  /** Writes pending entries and the counters now (tests, shutdown). */
  flush(): void;
  /** Flushes and stops the timers. Idempotent. */
  close(): void;
}

export interface ActivityOptions {
  /** Entries kept in memory per lane. */
  size?: number;
  now?: () => number;
  /** Directory for the persisted entries and counters; absent or null: memory only. */
  dir?: string | null;
  /** Rotation threshold of the entries files (tests use a small one). */
  fileBytes?: number;
  /** Told when the files cannot be read or written (never throws into the logger). */
  onError?: (message: string) => void;
}

/** `entries`: every kind but successful logins (system lines included); `logins`: successful logins. */
export function activityPaths(dir: string): { entries: string; previous: string; logins: string; loginsPrevious: string; counts: string } {
  return {
    entries: join(dir, "activity.jsonl"),
    previous: join(dir, "activity.1.jsonl"),
    logins: join(dir, "logins.jsonl"),
    loginsPrevious: join(dir, "logins.1.jsonl"),
    counts: join(dir, "hourly.json"),
  };
}

function emptyHour(hour: number): HourlyCounts {
  return { hour, messagesIn: 0, messagesOut: 0, rejected: 0, loginsFailed: 0 };
}

export function createActivity(opts: ActivityOptions = {}): ActivityRecorder {
  const size = Math.max(1, opts.size ?? ACTIVITY_RING_SIZE);
  const now = opts.now ?? Date.now;
  const fileBytes = opts.fileBytes ?? ACTIVITY_FILE_BYTES;
  const onError = opts.onError ?? (() => {});
  const paths = opts.dir ? activityPaths(opts.dir) : null;
  const events = new ActivityLane(size, paths && { current: paths.entries, previous: paths.previous }, fileBytes, onError);
  const logins = new ActivityLane(size, paths && { current: paths.logins, previous: paths.loginsPrevious }, fileBytes, onError);
  const laneOf = (e: ActivityEntry) => (e.kind === "login" ? logins : events);
  const counts = new Map<number, HourlyCounts>();
  let countsDirty = false;
  /** Sequence number of the last entry recorded (and so counted), across both lanes. */
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
      for (const lane of [events, logins]) {
        for (const read of lane.stored()) {
          lane.push(read.entry);
          // Entries written after the counters were last saved (a crash, a kill -9) are counted again.
          if (read.seq > savedSeq) bump(read.entry);
          seq = Math.max(seq, read.seq);
        }
      }
      seq = Math.max(seq, savedSeq);
    } catch (e) {
      onError(`activity log in ${opts.dir} unreadable: ${(e as Error).message}`);
    }
  }

  const writeEntries = () => {
    events.write();
    logins.write();
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
    writeEntries();
    saveCounts();
  };

  return {
    record(entry) {
      const lane = laneOf(entry);
      lane.push(entry);
      bump(entry);
      seq++;
      if (!paths || closed) return;
      lane.queue(entry, seq);
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
      const keep = (e: ActivityEntry) =>
        (!kinds || kinds.has(e.kind)) && (filter.since === undefined || e.ts >= filter.since) && (filter.until === undefined || e.ts <= filter.until) && (!text || matches(e, text));
      // The two lanes, merged newest first (ties: the events lane first).
      const lanes = (kinds && !kinds.has("login") ? [events] : kinds && kinds.size === 1 ? [logins] : [events, logins]).map((l) => l.newestFirst());
      const heads = lanes.map((it) => it.next());
      const out: ActivityEntry[] = [];
      let scanned = 0;
      // Every entry is looked at once at most (two rings of `size`): bounded work per request.
      while (out.length < limit && scanned <= 2 * size) {
        let best = -1;
        for (let i = 0; i < heads.length; i++) {
          const h = heads[i]!;
          if (!h.done && (best < 0 || h.value.ts > (heads[best]!.value as ActivityEntry).ts)) best = i;
        }
        if (best < 0) break;
        const e = heads[best]!.value as ActivityEntry;
        heads[best] = lanes[best]!.next();
        scanned++;
        if (keep(e)) out.push(e);
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
