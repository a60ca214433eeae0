/**
 * What the admin's log viewer and graphs read (src/ops/types.ts
 * ActivityService): a bounded ring of recent activity entries, newest last,
 * and hourly counters derived from them. The logger feeds it (one entry per
 * log line that names a kind); the JSON lines on stderr stay the record of
 * truth for fail2ban and journald.
 */
import type { ActivityEntry, ActivityFilter, ActivityService, HourlyCounts } from "./ops/types.ts";

const HOUR = 3_600_000;
/** Entries kept in memory: at ~300 bytes each, about 3 MB at most. */
export const ACTIVITY_RING_SIZE = 10_000;
const MAX_LIMIT = 1_000;
const MAX_HOURS = 24 * 14;

export interface ActivityRecorder extends ActivityService {
  record(entry: ActivityEntry): void;
}

export function createActivity(opts: { size?: number; now?: () => number } = {}): ActivityRecorder {
  const size = Math.max(1, opts.size ?? ACTIVITY_RING_SIZE);
  const now = opts.now ?? Date.now;
  const ring: ActivityEntry[] = [];
  let start = 0; // index of the oldest entry once the ring is full
  const counts = new Map<number, HourlyCounts>();
  const bump = (e: ActivityEntry) => {
    const hour = Math.floor(e.ts / HOUR) * HOUR;
    let c = counts.get(hour);
    if (!c) {
      c = { hour, messagesIn: 0, messagesOut: 0, rejected: 0, loginsFailed: 0 };
      counts.set(hour, c);
      // Keep two weeks of hours, whatever the clock did.
      for (const h of counts.keys()) if (h < hour - MAX_HOURS * HOUR) counts.delete(h);
    }
    if (e.kind === "delivery") c.messagesIn++;
    else if (e.kind === "outbound" && e.fields.result === "delivered") c.messagesOut++;
    else if (e.kind === "rejection") c.rejected++;
    else if (e.kind === "login-failed") c.loginsFailed++;
  };
  return {
    record(entry) {
      if (ring.length < size) ring.push(entry);
      else {
        ring[start] = entry;
        start = (start + 1) % size;
      }
      bump(entry);
    },
    recent(filter: ActivityFilter = {}) {
      const limit = Math.min(Math.max(1, filter.limit ?? 200), MAX_LIMIT);
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
      for (let h = last - (n - 1) * HOUR; h <= last; h += HOUR) {
        out.push(counts.get(h) ?? { hour: h, messagesIn: 0, messagesOut: 0, rejected: 0, loginsFailed: 0 });
      }
      return out;
    },
  };
}

function matches(e: ActivityEntry, text: string): boolean {
  if (e.msg.toLowerCase().includes(text)) return true;
  if (e.account?.toLowerCase().includes(text) || e.ip?.toLowerCase().includes(text)) return true;
  for (const v of Object.values(e.fields)) if (v !== null && String(v).toLowerCase().includes(text)) return true;
  return false;
}
