/**
 * Sequence sets (RFC 9051 §9 sequence-set, seq-range; RFC 5182 "$").
 *
 * A parsed set is a list of ranges where STAR (0) stands for "*", the
 * largest number in use. Resolution against a mailbox view yields ascending,
 * de-duplicated view indices (0-based positions).
 */

export const STAR = 0;
export type Range = [number, number];

export interface SeqSet {
  /** True for "$" (the saved search result, RFC 5182). */
  saved: boolean;
  ranges: Range[];
}

const MAX_NZ = 4294967295;

function parseNum(s: string): number | null {
  if (s === "*") return STAR;
  if (!/^[1-9][0-9]{0,9}$/.test(s)) return null;
  const n = Number(s);
  return n <= MAX_NZ ? n : null;
}

/** Parses a sequence-set; null when invalid. */
export function parseSeqSet(s: string): SeqSet | null {
  if (s === "$") return { saved: true, ranges: [] };
  if (!s || s.length > 100000) return null;
  const ranges: Range[] = [];
  for (const part of s.split(",")) {
    const colon = part.indexOf(":");
    if (colon < 0) {
      const n = parseNum(part);
      if (n === null) return null;
      ranges.push([n, n]);
    } else {
      const a = parseNum(part.slice(0, colon));
      const b = parseNum(part.slice(colon + 1));
      if (a === null || b === null) return null;
      ranges.push([a, b]);
    }
  }
  return { saved: false, ranges };
}

/** True if the string looks like a sequence set (SEARCH keys are tried as sets first). */
export function isSeqSetSyntax(s: string): boolean {
  return s === "$" || /^(\d+|\*)(:(\d+|\*))?(,(\d+|\*)(:(\d+|\*))?)*$/.test(s);
}

/**
 * Resolves sequence numbers against `count` messages: ascending 0-based
 * indices. `outOfRange` is set when a number exceeds the count (FETCH and
 * STORE answer BAD for that, RFC 9051 §6.4.5; SEARCH just matches nothing).
 */
export function resolveSeq(set: SeqSet, count: number): { idx: number[]; outOfRange: boolean } {
  let outOfRange = false;
  if (count === 0) {
    return { idx: [], outOfRange: set.ranges.length > 0 };
  }
  // Fast path: one range.
  if (set.ranges.length === 1) {
    let [a, b] = set.ranges[0];
    if (a === STAR) a = count;
    if (b === STAR) b = count;
    if (a > b) [a, b] = [b, a];
    if (b > count) {
      outOfRange = true;
      b = count;
    }
    const idx: number[] = [];
    for (let i = a; i <= b; i++) idx.push(i - 1);
    return { idx, outOfRange };
  }
  const mark = new Uint8Array(count);
  for (let [a, b] of set.ranges) {
    if (a === STAR) a = count;
    if (b === STAR) b = count;
    if (a > b) [a, b] = [b, a];
    if (b > count) {
      outOfRange = true;
      b = count;
    }
    for (let i = a; i <= b; i++) mark[i - 1] = 1;
  }
  const idx: number[] = [];
  for (let i = 0; i < count; i++) if (mark[i]) idx.push(i);
  return { idx, outOfRange };
}

/** First index i with uids[i] >= v (uids ascending). */
export function lowerBound(uids: ArrayLike<number>, count: number, v: number): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (uids[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of uid or -1. */
export function indexOfUid(uids: ArrayLike<number>, count: number, uid: number): number {
  const i = lowerBound(uids, count, uid);
  return i < count && uids[i] === uid ? i : -1;
}

/**
 * Resolves a UID set against the view's ascending UIDs: indices of existing
 * messages ("*" is the highest UID in the view; UIDs not present are ignored,
 * RFC 9051 §6.4.9). "n:*" with n above the highest UID still includes the
 * last message (RFC 9051 §9 seq-range note).
 */
export function resolveUid(set: SeqSet, uids: ArrayLike<number>, count: number): number[] {
  if (count === 0) return [];
  const max = uids[count - 1];
  const spans: Range[] = [];
  for (let [a, b] of set.ranges) {
    if (a === STAR) a = max;
    if (b === STAR) b = max;
    if (a > b) [a, b] = [b, a];
    const i = lowerBound(uids, count, a);
    const j = lowerBound(uids, count, b + 1);
    if (j > i) spans.push([i, j]);
  }
  if (spans.length === 1) {
    const [i, j] = spans[0];
    const out: number[] = new Array(j - i);
    for (let k = i; k < j; k++) out[k - i] = k;
    return out;
  }
  spans.sort((x, y) => x[0] - y[0]);
  const out: number[] = [];
  let last = -1;
  for (const [i, j] of spans) {
    for (let k = Math.max(i, last + 1); k < j; k++) out.push(k);
    if (j - 1 > last) last = j - 1;
  }
  return out;
}

/** Tests membership of a number in a set with "*" = max. */
export function setHas(set: SeqSet, n: number, max: number): boolean {
  for (let [a, b] of set.ranges) {
    if (a === STAR) a = max;
    if (b === STAR) b = max;
    if (a > b) [a, b] = [b, a];
    if (n >= a && n <= b) return true;
  }
  return false;
}

/** Expands a UID set of explicit numbers (no view), used for QRESYNC known-uids and VANISHED. Bounded by `limit`. */
export function expandSet(set: SeqSet, max: number, limit = 1_000_000): number[] | null {
  const out: number[] = [];
  for (let [a, b] of set.ranges) {
    if (a === STAR) a = max;
    if (b === STAR) b = max;
    if (a > b) [a, b] = [b, a];
    if (b - a + out.length > limit) return null;
    for (let i = a; i <= b; i++) out.push(i);
  }
  out.sort((x, y) => x - y);
  return out.filter((v, i) => i === 0 || out[i - 1] !== v);
}
