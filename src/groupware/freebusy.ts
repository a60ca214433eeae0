/**
 * Free/busy time (RFC 4791 §7.10, RFC 5545 §3.6.4 and §3.2.9): the busy
 * periods of instances in a range, merged into non-overlapping periods.
 *  - TRANSP:TRANSPARENT instances do not consume time (RFC 5545 §3.8.2.7)
 *    and STATUS:CANCELLED ones are not happening: both are free;
 *  - STATUS:TENTATIVE -> BUSY-TENTATIVE, everything else BUSY (RFC 4791
 *    §7.10: CONFIRMED or no STATUS is BUSY);
 *  - where periods of different types overlap, the stronger wins
 *    (BUSY-UNAVAILABLE > BUSY > BUSY-TENTATIVE), so the answer has no
 *    overlapping periods; periods are clipped to the range and sorted.
 */
import type { BusyPeriod, FreeBusyType, Instance } from "./types.ts";

const STRENGTH: Record<FreeBusyType, number> = { "BUSY-TENTATIVE": 1, BUSY: 2, "BUSY-UNAVAILABLE": 3 };
const TYPES: FreeBusyType[] = ["BUSY-TENTATIVE", "BUSY", "BUSY-UNAVAILABLE"];

/** The busy type of one instance, or null when it leaves the time free. */
export function busyType(i: Pick<Instance, "transparent" | "status">): FreeBusyType | null {
  if (i.transparent) return null;
  const s = i.status.toUpperCase();
  if (s === "CANCELLED") return null;
  if (s === "TENTATIVE") return "BUSY-TENTATIVE";
  return "BUSY";
}

/** Busy periods of `periods`, clipped to [start, end), merged: sorted, never overlapping, adjacent ones of one type joined. */
export function mergeBusy(periods: readonly BusyPeriod[], range: { start: number; end: number }): BusyPeriod[] {
  // a sweep over the boundaries, holding how many periods of each type are open
  const edges: { at: number; type: FreeBusyType; d: 1 | -1 }[] = [];
  for (const p of periods) {
    const s = Math.max(p.start, range.start);
    const e = Math.min(p.end, range.end);
    if (e <= s) continue;
    edges.push({ at: s, type: p.type, d: 1 }, { at: e, type: p.type, d: -1 });
  }
  edges.sort((a, b) => a.at - b.at);
  const open: Record<FreeBusyType, number> = { "BUSY-TENTATIVE": 0, BUSY: 0, "BUSY-UNAVAILABLE": 0 };
  const out: BusyPeriod[] = [];
  const strongest = (): FreeBusyType | null => {
    let best: FreeBusyType | null = null;
    for (const t of TYPES) if (open[t] > 0 && (!best || STRENGTH[t] > STRENGTH[best])) best = t;
    return best;
  };
  let cur: FreeBusyType | null = null;
  let since = 0;
  for (let k = 0; k < edges.length; ) {
    const at = edges[k]!.at;
    for (; k < edges.length && edges[k]!.at === at; k++) open[edges[k]!.type] += edges[k]!.d;
    const now = strongest();
    if (now === cur) continue;
    if (cur !== null && at > since) {
      const last = out[out.length - 1];
      if (last && last.type === cur && last.end === since) last.end = at;
      else out.push({ start: since, end: at, type: cur });
    }
    cur = now;
    since = at;
  }
  return out;
}
