/**
 * Message flags: the five system flags of RFC 9051 §2.3.2 as a bitmask
 * (cheap to load for 100,000 messages), keywords as space-separated text
 * kept as given. `\Recent` is not stored (IMAP4rev2 removed it).
 */

export const SEEN = 1;
export const ANSWERED = 2;
export const FLAGGED = 4;
export const DELETED = 8;
export const DRAFT = 16;

/** Bit of each system flag in items.flags. */
export const FLAG_BITS = { "\\Seen": SEEN, "\\Answered": ANSWERED, "\\Flagged": FLAGGED, "\\Deleted": DELETED, "\\Draft": DRAFT } as const;

const SYSTEM: [string, number][] = [
  ["\\Seen", SEEN],
  ["\\Answered", ANSWERED],
  ["\\Flagged", FLAGGED],
  ["\\Deleted", DELETED],
  ["\\Draft", DRAFT],
];
const BY_LOWER = new Map(SYSTEM.map(([n, b]) => [n.toLowerCase(), b]));

/** Canonical flag lists for every bitmask value, built once. */
const TABLE: string[][] = [];
for (let bits = 0; bits < 32; bits++) {
  TABLE.push(SYSTEM.filter(([, b]) => bits & b).map(([n]) => n));
}

export interface EncodedFlags {
  bits: number;
  keywords: string[];
}

/** System flags matched case-insensitively and written canonically; keywords deduplicated case-insensitively. */
export function encodeFlags(flags: readonly string[] | undefined): EncodedFlags {
  let bits = 0;
  const keywords: string[] = [];
  const seen = new Set<string>();
  for (const f of flags ?? []) {
    if (typeof f !== "string" || f === "") continue;
    if (f[0] === "\\") {
      const b = BY_LOWER.get(f.toLowerCase());
      if (b) bits |= b;
      continue; // \Recent and unknown system flags are not storable
    }
    if (/[\s()*%"\\\]{}\x00-\x1f\x7f]/.test(f)) continue; // not an IMAP atom (RFC 9051 §9 flag-keyword)
    const k = f.toLowerCase();
    if (seen.has(k)) continue;
    seen.add(k);
    keywords.push(f);
  }
  return { bits, keywords };
}

export function keywordsToText(keywords: readonly string[]): string | null {
  return keywords.length ? keywords.join(" ") : null;
}

export function keywordsFromText(text: unknown): string[] {
  return typeof text === "string" && text !== "" ? text.split(" ") : [];
}

export function decodeFlags(bits: number, keywords: unknown): string[] {
  const sys = TABLE[bits & 31];
  if (typeof keywords !== "string" || keywords === "") return sys.slice();
  return sys.concat(keywords.split(" "));
}

/** Applies a STORE operation (RFC 9051 §6.4.6). */
export function applyFlags(
  mode: "set" | "add" | "remove",
  curBits: number,
  curKeywords: string[],
  change: EncodedFlags,
): EncodedFlags {
  if (mode === "set") return { bits: change.bits, keywords: change.keywords.slice() };
  if (mode === "add") {
    const have = new Set(curKeywords.map((k) => k.toLowerCase()));
    const kw = curKeywords.slice();
    for (const k of change.keywords) if (!have.has(k.toLowerCase())) kw.push(k);
    return { bits: curBits | change.bits, keywords: kw };
  }
  const drop = new Set(change.keywords.map((k) => k.toLowerCase()));
  return { bits: curBits & ~change.bits, keywords: curKeywords.filter((k) => !drop.has(k.toLowerCase())) };
}

export function sameFlags(a: EncodedFlags, bBits: number, bKeywords: string[]): boolean {
  if (a.bits !== bBits || a.keywords.length !== bKeywords.length) return false;
  for (let i = 0; i < a.keywords.length; i++) if (a.keywords[i] !== bKeywords[i]) return false;
  return true;
}
