/**
 * The password policy (issue 18, found item 6): what `user add`, `user
 * passwd`, the webmail's password change and the admin API accept.
 *  - at least `minLength` characters (default 10; `[auth] password_min_length`
 *    in pillarbox.toml lowers or raises it, never below 1);
 *  - not a common password: case folded, the usual letter-for-digit swaps
 *    undone ("p@ssw0rd"), leading and trailing digits and symbols stripped
 *    ("Summer2024!"), then looked up in src/common-passwords.ts; a run of one
 *    character or a plain keyboard or number run is refused the same way;
 *  - not the account's own address, local part or domain, with or without
 *    digits and symbols around it.
 * An admin may override it (`--force` on the CLI): the policy guards against
 * mistakes, it does not lock the admin out.
 */
import { COMMON_PASSWORDS } from "./common-passwords.ts";

export const DEFAULT_MIN_PASSWORD_LENGTH = 10;
/** Longer than any passphrase a person types; bounds the hashing work a request can ask for. */
export const MAX_PASSWORD_LENGTH = 1024;

export type PasswordVerdict = { ok: true } | { ok: false; reason: string };

export interface PasswordCheckOptions {
  /** The account's address: the password may not be it, its local part or its domain. */
  email?: string;
  /** Minimum length in characters (default 10). */
  minLength?: number;
}

const LEET: Record<string, string> = { "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", $: "s", "!": "i", "+": "t" };
const RUNS = ["abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm", "qwertzuiopasdfghjklyxcvbnm", "azertyuiopqsdfghjklmwxcvbn", "01234567890", "09876543210"];

/** The forms a password is looked up under: as typed, and with digit-for-letter swaps undone; each with its digit/symbol ends stripped. */
function lookupForms(pw: string): string[] {
  const lower = pw.toLowerCase();
  const unleet = [...lower].map((c) => LEET[c] ?? c).join("");
  const strip = (s: string) => s.replace(/^[^a-z]+|[^a-z]+$/g, "");
  const stripped = strip(lower);
  const strippedUnleet = [...stripped].map((c) => LEET[c] ?? c).join("");
  return [...new Set([lower, unleet, stripped, strip(unleet), strippedUnleet, lower.replace(/[^a-z0-9]/g, "")])].filter((s) => s !== "");
}

/** A run of one character, or a stretch of the alphabet, a keyboard row or the digits (either way round). */
function isTrivialRun(s: string): boolean {
  if (s.length < 2) return true;
  if ([...s].every((c) => c === s[0])) return true;
  for (const run of RUNS) {
    if (run.includes(s) || [...run].reverse().join("").includes(s)) return true;
  }
  return false;
}

export function checkPassword(pw: string, opts: PasswordCheckOptions = {}): PasswordVerdict {
  if (typeof pw !== "string" || pw === "") return { ok: false, reason: "the password is empty" };
  const min = Math.max(1, Math.floor(opts.minLength ?? DEFAULT_MIN_PASSWORD_LENGTH));
  const length = [...pw].length;
  if (length < min) return { ok: false, reason: `the password is too short: at least ${min} characters` };
  if (length > MAX_PASSWORD_LENGTH) return { ok: false, reason: `the password is too long: at most ${MAX_PASSWORD_LENGTH} characters` };
  if (/[\u0000-\u001f\u007f]/.test(pw)) return { ok: false, reason: "the password contains control characters" };
  const forms = lookupForms(pw);
  for (const f of forms) {
    if (COMMON_PASSWORDS.has(f)) return { ok: false, reason: "the password is one of the most common passwords: choose a less guessable one" };
  }
  const lower = pw.toLowerCase();
  if (isTrivialRun(lower) || isTrivialRun(lower.replace(/[^a-z0-9]/g, "") || lower)) {
    return { ok: false, reason: "the password is a run of one character or a keyboard sequence: choose a less guessable one" };
  }
  if (opts.email) {
    const e = opts.email.toLowerCase();
    const at = e.lastIndexOf("@");
    const parts = [e, at > 0 ? e.slice(0, at) : e, at > 0 ? e.slice(at + 1) : ""].filter((p) => p.length >= 3);
    for (const p of parts) {
      // the address itself, or the address with only digits and symbols around it
      if (lower.includes(p) && lower.replace(p, "").replace(/[^a-z]/g, "").length === 0) {
        return { ok: false, reason: "the password is the account's own address or name: choose one that is not" };
      }
    }
  }
  return { ok: true };
}
