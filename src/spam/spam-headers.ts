/**
 * The header fields the verdict writes, in SpamAssassin's shapes that mail
 * clients and Sieve scripts already read:
 *   X-Spam-Status: Yes, score=7.3 required=5.0 tests=GTUBE,MISSING_DATE
 *   X-Spam-Score: 7.3
 * plus the RFC 5235 spamtest value (1..10) and :percent (0..100) for Sieve.
 * Also the removal of X-Spam-* fields a message arrives with: a sender must
 * not label its own mail "No" for a filter (or a user's rule) to trust.
 */
import { headerEnd, headerFieldSpans } from "../../mail/index.ts";
import type { SpamSymbol } from "./types.ts";

/** Symbol names listed in tests= (the rest is summarized; RFC 5322 §2.1.1 line length is kept by folding). */
const MAX_LISTED = 60;

export function formatScore(score: number): string {
  return (Math.round(score * 10) / 10).toFixed(1);
}

export function statusHeaders(score: number, required: number, isSpam: boolean, symbols: readonly SpamSymbol[]): string {
  const names = [...new Set(symbols.map((s) => s.name.replace(/[^A-Za-z0-9_]/g, "_").slice(0, 60)))].sort();
  const listed = names.slice(0, MAX_LISTED);
  // Fold after commas so no line exceeds 78 characters (RFC 5322 §2.1.1 SHOULD).
  let line = `X-Spam-Status: ${isSpam ? "Yes" : "No"}, score=${formatScore(score)} required=${formatScore(required)} tests=`;
  let out = "";
  listed.forEach((n, i) => {
    const piece = n + (i < listed.length - 1 ? "," : "");
    if (line.length + piece.length > 78 && !line.endsWith("=")) {
      out += line + "\r\n";
      line = "\t";
    }
    line += piece;
  });
  if (names.length > MAX_LISTED) line += ` (+${names.length - MAX_LISTED} more)`;
  if (listed.length === 0) line += "none";
  out += line + "\r\n";
  out += `X-Spam-Score: ${formatScore(score)}\r\n`;
  return out;
}

/**
 * RFC 5235 §3.2: spamtest 1 means "certainly not spam", 10 "certainly spam"
 * (0 is "not tested", never returned here). Linear in score/required: the
 * junk threshold is 6, twice the threshold and above is 10; :percent is
 * 50 at the threshold and 100 at twice it.
 */
export function spamtestOf(score: number, required: number, isSpam: boolean): { spamtest: number; percent: number } {
  const req = required > 0 ? required : 5;
  const t = Math.max(0, Math.min(2, score / req));
  let spamtest = score <= 0 ? 1 : Math.min(10, Math.max(1, Math.round(1 + t * 4.5)));
  if (isSpam) spamtest = Math.max(spamtest, 6);
  else spamtest = Math.min(spamtest, 5);
  let percent = Math.round(t * 50);
  percent = isSpam ? Math.max(percent, 50) : Math.min(percent, 49);
  return { spamtest, percent };
}

/** Removes every X-Spam-* field of the top-level header; returns the same array when there is none. */
export function stripSpamHeaders(raw: Uint8Array): Uint8Array {
  const end = headerEnd(raw);
  const spans = headerFieldSpans(raw, 0, end < 0 ? raw.length : end);
  const drop = spans.filter((s) => s.colon > s.start && s.colon - s.start >= 7 && isXSpam(raw, s.start));
  if (!drop.length) return raw;
  let size = raw.length;
  for (const d of drop) size -= d.end - d.start;
  const out = new Uint8Array(size);
  let w = 0;
  let r = 0;
  for (const d of drop) {
    out.set(raw.subarray(r, d.start), w);
    w += d.start - r;
    r = d.end;
  }
  out.set(raw.subarray(r), w);
  return out;
}

const X_SPAM = [0x78, 0x2d, 0x73, 0x70, 0x61, 0x6d, 0x2d]; // "x-spam-"
function isXSpam(raw: Uint8Array, at: number): boolean {
  for (let i = 0; i < X_SPAM.length; i++) if ((raw[at + i]! | 0x20) !== X_SPAM[i]) return false;
  return true;
}
