/**
 * The match-type and comparator core of Sieve: comparators (RFC 4790 i;octet,
 * i;ascii-casemap, i;ascii-numeric; RFC 5051 i;unicode-casemap), match types
 * :is, :contains, :matches (RFC 5228 §2.7.1), relational :value and :count
 * (RFC 5231 §4), and the match variables ${0}..${9} (RFC 5229 §3.2).
 *
 * :matches runs an iterative wildcard matcher with a single backtrack point
 * (the last "*" seen): each "*" first matches nothing and only the latest one
 * grows on a mismatch, so the work is about pattern length times value length
 * at worst and linear for the usual patterns, never exponential.
 */
import type { MatchFn, SieveTest } from "./types.ts";

export type Relation = "gt" | "ge" | "lt" | "le" | "eq" | "ne";

/** RFC 4790 §9.2: i;ascii-casemap folds ASCII letters only. */
export function asciiFold(s: string): string {
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) {
      ascii = false;
      break;
    }
  }
  if (ascii) return s;
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/** RFC 5051: i;unicode-casemap, approximated by NFKD plus a consistent case fold. */
export function unicodeFold(s: string): string {
  return s.normalize("NFKD").toUpperCase().toLowerCase();
}

/** The fold a comparator applies before comparing (identity for i;octet and i;ascii-numeric). */
export function foldFor(comparator: string): (s: string) => string {
  switch (comparator) {
    case "i;ascii-casemap":
      return asciiFold;
    case "i;unicode-casemap":
      return unicodeFold;
    default:
      return (s) => s;
  }
}

/** Compare by Unicode code point (the order of the UTF-8 octets, RFC 4790 §9.3). */
function codePointCompare(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    // a surrogate (a code point above U+FFFF) sorts after every BMP character
    if (xs !== ys) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** RFC 4790 §9.1: the number an i;ascii-numeric value stands for: its leading digits, or null ("positive infinity"). */
export function numericPrefix(s: string): string | null {
  let j = 0;
  while (j < s.length && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
  if (j === 0) return null;
  let k = 0;
  while (k < j - 1 && s.charCodeAt(k) === 48) k++;
  return s.slice(k, j);
}

function numericCompare(a: string, b: string): number {
  const x = numericPrefix(a);
  const y = numericPrefix(b);
  if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x === y ? 0 : x < y ? -1 : 1;
}

/** Order two values under a comparator: negative, zero or positive (RFC 4790 ordering). */
export function compareValues(comparator: string, a: string, b: string): number {
  if (comparator === "i;ascii-numeric") return numericCompare(a, b);
  const f = foldFor(comparator);
  return codePointCompare(f(a), f(b));
}

export function relationHolds(rel: Relation, cmp: number): boolean {
  switch (rel) {
    case "gt":
      return cmp > 0;
    case "ge":
      return cmp >= 0;
    case "lt":
      return cmp < 0;
    case "le":
      return cmp <= 0;
    case "eq":
      return cmp === 0;
    case "ne":
      return cmp !== 0;
  }
}

type PatTok = { k: "lit"; c: string } | { k: "one" } | { k: "star" };

/** Split a :matches key into literal characters and wildcards; "\" escapes the next character (RFC 5228 §2.7.1). */
function compilePattern(key: string): PatTok[] {
  const out: PatTok[] = [];
  const chars = Array.from(key);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === "\\" && i + 1 < chars.length) {
      out.push({ k: "lit", c: chars[++i]! });
    } else if (c === "*") {
      // "**" is the same as "*" but each still captures (RFC 5229 §3.2 counts every wildcard)
      out.push({ k: "star" });
    } else if (c === "?") out.push({ k: "one" });
    else out.push({ k: "lit", c });
  }
  return out;
}

/** Work one :matches may spend placing the segments between its stars (a hostile key against a 1 MB body gives up as "no match"). */
export const MATCH_WORK_LIMIT = 20_000_000;

/** Does segment `seg` (literals and "?") match `text` at `at`? */
function segmentAt(text: ArrayLike<string>, seg: PatTok[], at: number): boolean {
  for (let k = 0; k < seg.length; k++) {
    const p = seg[k]!;
    if (p.k === "lit" && p.c !== text[at + k]) return false;
  }
  return true;
}

/**
 * Wildcard match of `text` (already folded) against `pattern` tokens (literals
 * folded). Returns the wildcards' spans (character indices) or null.
 *
 * The key is cut at its stars into segments of literals and "?". The first
 * segment must match at the start and the last at the end (nothing follows
 * the last star); each segment between stars is taken at its leftmost place,
 * so every star but the last is as short as it can be — the answer the
 * classic backtracking matcher gives (RFC 5229 §3.2 captures), without its
 * value-length-times-key-length worst case on the ends. A middle segment
 * without "?" is found with the native substring search; one with "?" is
 * scanned within MATCH_WORK_LIMIT.
 */
function globMatch(text: ArrayLike<string>, pat: PatTok[]): Array<[number, number]> | null {
  const segs: PatTok[][] = [[]];
  for (const t of pat) {
    if (t.k === "star") segs.push([]);
    else segs[segs.length - 1]!.push(t);
  }
  const n = text.length;
  const stars = segs.length - 1;
  const first = segs[0]!;
  const last = segs[stars]!;
  if (stars === 0) {
    if (first.length !== n || !segmentAt(text, first, 0)) return null;
  } else if (first.length + last.length > n || !segmentAt(text, first, 0) || !segmentAt(text, last, n - last.length)) {
    return null;
  }
  // where each segment starts in the text
  const starts: number[] = [0];
  const end = n - last.length;
  let cur = first.length;
  let budget = MATCH_WORK_LIMIT;
  for (let s = 1; s < stars; s++) {
    const seg = segs[s]!;
    const at = findSegment(text, seg, cur, end - seg.length, budget);
    if (at.pos < 0) return null;
    budget = at.budget;
    starts.push(at.pos);
    cur = at.pos + seg.length;
  }
  if (stars > 0) starts.push(end);
  // spans in key order: each "?" its character, each star the gap before the next segment
  const spans: Array<[number, number]> = [];
  let prevEnd = 0;
  for (let s = 0; s < segs.length; s++) {
    const start = starts[s]!;
    if (s > 0) spans.push([prevEnd, start]);
    const seg = segs[s]!;
    for (let k = 0; k < seg.length; k++) if (seg[k]!.k === "one") spans.push([start + k, start + k + 1]);
    prevEnd = start + seg.length;
  }
  return spans;
}

/** The leftmost place in [from, maxStart] where `seg` matches, or -1; `budget` bounds the work. */
function findSegment(text: ArrayLike<string>, seg: PatTok[], from: number, maxStart: number, budget: number): { pos: number; budget: number } {
  if (maxStart < from) return { pos: -1, budget };
  if (typeof text !== "string") {
    for (let p = from; p <= maxStart; p++) {
      budget -= seg.length + 1;
      if (budget < 0) return { pos: -1, budget };
      if (segmentAt(text, seg, p)) return { pos: p, budget };
    }
    return { pos: -1, budget };
  }
  // the runs of literals between the "?" of the segment, with their offsets
  const runs: Array<{ off: number; str: string }> = [];
  for (let k = 0; k < seg.length; ) {
    if (seg[k]!.k !== "lit") {
      k++;
      continue;
    }
    let str = "";
    const off = k;
    while (k < seg.length && seg[k]!.k === "lit") str += (seg[k++] as { c: string }).c;
    runs.push({ off, str });
  }
  let p = from;
  while (p <= maxStart) {
    let fits = true;
    for (const run of runs) {
      budget -= run.str.length + 1;
      if (text.startsWith(run.str, p + run.off)) continue;
      // this run cannot be in place before its next occurrence: jump there (native search)
      const q = text.indexOf(run.str, p + run.off + 1);
      if (q < 0) return { pos: -1, budget };
      p = Math.max(p + 1, q - run.off);
      fits = false;
      break;
    }
    if (fits) return { pos: p, budget };
    if (budget < 0) return { pos: -1, budget };
  }
  return { pos: -1, budget };
}

const SURROGATE = /[\ud800-\udfff]/;

/** The characters of a string: the string itself when it has no surrogate pairs (one unit = one character), else its code points. */
function chars(s: string): ArrayLike<string> {
  return SURROGATE.test(s) ? Array.from(s) : s;
}

function sliceChars(c: ArrayLike<string>, a: number, b: number): string {
  return typeof c === "string" ? c.slice(a, b) : Array.prototype.slice.call(c, a, b).join("");
}

/** :matches of one value against one key; returns the capture groups (${0} then one per wildcard) or null. */
export function wildcardMatch(value: string, key: string, comparator: string): string[] | null {
  const fold = foldFor(comparator);
  const folded = fold(value);
  const text = chars(folded);
  // a literal that folds to several characters (unicode-casemap) becomes one token per character
  const pat: PatTok[] = [];
  for (const t of compilePattern(key)) {
    if (t.k !== "lit") pat.push(t);
    else for (const c of Array.from(fold(t.c))) pat.push({ k: "lit", c });
  }
  const spans = globMatch(text, pat);
  if (!spans) return null;
  // captures come from the original value when folding kept the characters aligned, else from the folded text
  const orig = folded.length === value.length ? chars(value) : text;
  const src = orig.length === text.length ? orig : text;
  return [value, ...spans.map(([a, b]) => sliceChars(src, a, b))];
}

/** One value against one key under a match type other than :count. */
export function matchOne(value: string, key: string, comparator: string, match: SieveTest["match"]): boolean {
  const type = match?.type ?? "is";
  switch (type) {
    case "is":
      return compareValues(comparator, value, key) === 0;
    case "contains": {
      const f = foldFor(comparator);
      return f(value).includes(f(key));
    }
    case "matches":
      return wildcardMatch(value, key, comparator) !== null;
    case "value":
      return relationHolds(match?.relation ?? "eq", compareValues(comparator, value, key));
    case "count":
      return false;
  }
}

/**
 * The contract's MatchFn: does any value match any key? RFC 5228 §2.7.1 (a
 * test is true when any value matches any key), RFC 5231 §4.2 (:count compares
 * the number of values with i;ascii-numeric whatever the comparator).
 */
export const matchValues: MatchFn = (values, keys, comparator, match, onCapture) => {
  const type = match?.type ?? "is";
  if (type === "count") {
    const n = String(values.length);
    const rel = match?.relation ?? "eq";
    return keys.some((k) => relationHolds(rel, numericCompare(n, k)));
  }
  if (type === "matches") {
    for (const v of values) {
      for (const k of keys) {
        const groups = wildcardMatch(v, k, comparator);
        if (groups) {
          // RFC 5229 §3.2: ${0} is the whole value, ${1}.. the wildcards of the first matching pair
          onCapture?.(groups);
          return true;
        }
      }
    }
    return false;
  }
  for (const v of values) for (const k of keys) if (matchOne(v, k, comparator, match)) return true;
  return false;
};
