/**
 * Sender Rewriting Scheme for Sieve `redirect` (issue 19): a forwarded copy
 * leaves with an envelope sender in OUR domain, so the next hop's SPF check
 * (RFC 7208 §2.4: MAIL FROM's domain authorises the sending IP) sees our
 * domain instead of the original sender's, which has not authorised us. The
 * original sender is encoded in the rewritten address so a bounce can be sent
 * back to it:
 *
 *   SRS0=HASH=TT=orig-domain=orig-local@our-domain
 *
 * TT is the day (days since the epoch mod 1024, two base-32 digits); HASH an
 * HMAC-SHA256 over TT, domain and local part (lower-cased: MTAs may change
 * case) with a key kept in the data dir (`srs.key`, 0600, created on first
 * use), cut to 6 base-32 digits. A bounce to a rewritten address is forwarded
 * to the original sender only when the hash verifies and TT is at most
 * MAX_AGE_DAYS old; anything else is refused (no open relay through forged
 * SRS addresses). A null sender stays null (RFC 5321 §4.5.5: bounces have none).
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, mkdirSync, openSync, closeSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";

const B32 = "abcdefghijklmnopqrstuvwxyz234567";
const DAY_MS = 86_400_000;
/** How long a rewritten address accepts bounces (days). */
export const SRS_MAX_AGE_DAYS = 21;
const HASH_CHARS = 6;

function b32(bytes: Uint8Array, chars: number): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5 && out.length < chars) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= chars) break;
    value &= (1 << bits) - 1;
  }
  return out;
}

const dayStamp = (now: number): number => Math.floor(now / DAY_MS) % 1024;
const encodeStamp = (d: number): string => B32[(d >> 5) & 31]! + B32[d & 31]!;
function decodeStamp(s: string): number | null {
  if (s.length !== 2) return null;
  const a = B32.indexOf(s[0]!.toLowerCase());
  const b = B32.indexOf(s[1]!.toLowerCase());
  return a < 0 || b < 0 ? null : (a << 5) | b;
}

export type SrsReverse = { ok: true; address: string } | { ok: false; reason: string };

export class Srs {
  constructor(private readonly key: Uint8Array) {}

  private hash(stamp: string, domain: string, local: string): string {
    const mac = createHmac("sha256", this.key).update(`${stamp}\u0000${domain.toLowerCase()}\u0000${local.toLowerCase()}`).digest();
    return b32(mac, HASH_CHARS);
  }

  /** The rewritten envelope sender for a copy leaving through `ourDomain`; "" stays "". An address of our own domain is kept (SPF passes for it). */
  forward(sender: string, ourDomain: string, now = Date.now()): string {
    if (!sender) return "";
    const at = sender.lastIndexOf("@");
    if (at <= 0) return sender;
    const local = sender.slice(0, at);
    const domain = sender.slice(at + 1);
    if (domain.toLowerCase() === ourDomain.toLowerCase()) return sender;
    const stamp = encodeStamp(dayStamp(now));
    return `SRS0=${this.hash(stamp, domain, local)}=${stamp}=${domain}=${local}@${ourDomain}`;
  }

  /** True for a local part in SRS0 form (whether or not it verifies). */
  static looksLike(address: string): boolean {
    return /^srs0[=+-]/i.test(address);
  }

  /** The original sender of a rewritten address, when its hash verifies and it is not older than SRS_MAX_AGE_DAYS. */
  reverse(address: string, now = Date.now()): SrsReverse {
    const at = address.lastIndexOf("@");
    const local = at > 0 ? address.slice(0, at) : address;
    const m = /^srs0[=+-]([^=]+)=([^=]+)=([^=]+)=(.+)$/i.exec(local);
    if (!m) return { ok: false, reason: "not an SRS address" };
    const [, hash, stampText, domain, origLocal] = m as unknown as [string, string, string, string, string];
    const stamp = decodeStamp(stampText);
    if (stamp === null) return { ok: false, reason: "malformed SRS timestamp" };
    const expected = Buffer.from(this.hash(stampText.toLowerCase(), domain, origLocal));
    const given = Buffer.from(hash.toLowerCase());
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: "SRS hash does not verify" };
    const age = (dayStamp(now) - stamp + 1024) % 1024;
    if (age > SRS_MAX_AGE_DAYS) return { ok: false, reason: "SRS address expired" };
    if (!/^[A-Za-z0-9.-]+$/.test(domain)) return { ok: false, reason: "malformed SRS domain" };
    return { ok: true, address: `${origLocal}@${domain}` };
  }
}

/**
 * The SRS key from `<dataDir>/srs.key` (32 random bytes, 0600 in a 0700
 * directory), created on first use. Never logged.
 */
export function loadSrsKey(dataDir: string): Uint8Array {
  const path = join(dataDir, "srs.key");
  try {
    const k = readFileSync(path);
    if (k.byteLength >= 16) return new Uint8Array(k);
  } catch {
    // absent: created below
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  try {
    // O_EXCL: two processes starting at once keep the first key
    const fd = openSync(path, "wx", 0o600);
    try {
      writeSync(fd, key);
    } finally {
      closeSync(fd);
    }
    chmodSync(path, 0o600);
    return new Uint8Array(key);
  } catch {
    return new Uint8Array(readFileSync(path));
  }
}
