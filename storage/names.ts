/**
 * Names as the store keeps them: domains (lower-case A-labels), addresses
 * (local part lower-case) and folder names ('/' delimited, UTF-8).
 */
import { domainToASCII } from "node:url";
import { StoreError } from "./api.ts";

/** Lower-case A-label (IDNA), trailing dot removed. */
export function normalizeDomain(d: string): string {
  const s = d.trim().replace(/\.$/, "").toLowerCase();
  if (s === "") return "";
  if (/^[\x21-\x7e]+$/.test(s)) return s;
  return domainToASCII(s) || s;
}

/** `<Local@Dom>` -> `local@dom` (local parts compared lower-case). */
export function normalizeAddress(a: string): string {
  let s = a.trim();
  if (s.startsWith("<") && s.endsWith(">")) s = s.slice(1, -1).trim();
  const at = s.lastIndexOf("@");
  if (at < 0) return s.toLowerCase();
  return `${s.slice(0, at).toLowerCase()}@${normalizeDomain(s.slice(at + 1))}`;
}

// RFC 5322 §3.2.3 atext, plus UTF-8 beyond ASCII (RFC 6531 §3.3, SMTPUTF8).
const ATEXT = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\u{10ffff}]+$/u;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Why `address` cannot be given to a new account or alias, in words, or null
 * when it can. The local part must be an RFC 5321 §4.1.2 Dot-string (atoms
 * joined by single dots: no leading, trailing or doubled dot; a quoted local
 * part is not accepted for mailboxes created here) of at most 64 octets
 * (§4.5.3.1.1); the domain host-name labels (letters, digits, inner hyphens,
 * 1-63 octets each, 255 in all; §4.1.2 Domain, RFC 1035 §2.3.4).
 */
export function addressProblem(address: string): string | null {
  if (typeof address !== "string" || address === "") return "the address is empty";
  const s = normalizeAddress(address);
  const at = s.lastIndexOf("@");
  if (at < 0) return `${JSON.stringify(address)} has no @domain`;
  const local = s.slice(0, at);
  const problem = localPartProblem(local);
  if (problem) return `${JSON.stringify(address)}: ${problem}`;
  const dp = domainProblem(s.slice(at + 1));
  return dp ? `${JSON.stringify(address)}: ${dp}` : null;
}

function localPartProblem(local: string): string | null {
  if (local === "") return "the part before @ is empty";
  if (local.startsWith('"')) return "a quoted local part is not accepted here (RFC 5321 §4.1.2 Dot-string only)";
  if (new TextEncoder().encode(local).length > 64) return "the part before @ is longer than 64 octets (RFC 5321 §4.5.3.1.1)";
  if (local.startsWith(".")) return "the part before @ starts with a dot (RFC 5321 §4.1.2)";
  if (local.endsWith(".")) return "the part before @ ends with a dot (RFC 5321 §4.1.2)";
  if (local.includes("..")) return "the part before @ has two dots in a row (RFC 5321 §4.1.2)";
  for (const atom of local.split(".")) {
    if (!ATEXT.test(atom)) {
      const bad = [...atom].find((c) => !ATEXT.test(c)) ?? "";
      return `the part before @ has a character not allowed there: ${JSON.stringify(bad)} (RFC 5321 §4.1.2)`;
    }
  }
  return null;
}

/** Why `domain` (already normalised) is not a host name, or null. */
export function domainProblem(domain: string): string | null {
  if (domain === "") return "the domain is empty";
  if (domain.length > 255) return "the domain is longer than 255 octets";
  for (const label of domain.split(".")) {
    if (label === "") return "the domain has an empty label (a leading, trailing or doubled dot)";
    if (label.length > 63) return `the domain label ${JSON.stringify(label.slice(0, 20))}... is longer than 63 octets`;
    if (!LABEL.test(label)) return `the domain label ${JSON.stringify(label)} may hold only letters, digits and inner hyphens`;
  }
  return null;
}

export function domainOf(addr: string): string {
  const at = addr.lastIndexOf("@");
  return at < 0 ? "" : addr.slice(at + 1);
}

/** Folder names: '/' delimited, UTF-8; "INBOX" any case is INBOX (RFC 9051 §5.1). */
export function normalizeFolderName(name: string): string {
  if (typeof name !== "string") throw new StoreError("INVALID", "folder name must be a string");
  const parts = name.split("/");
  if (parts[0].toUpperCase() === "INBOX") parts[0] = "INBOX";
  const out = parts.join("/");
  if (out === "" || parts.some((p) => p === "")) throw new StoreError("INVALID", "folder name has an empty level");
  if (/[\x00-\x1f\x7f*%]/.test(out)) throw new StoreError("INVALID", "folder name has a forbidden character");
  if (new TextEncoder().encode(out).length > 1000 || parts.length > 64) throw new StoreError("LIMIT", "folder name too long");
  return out;
}

/** Escapes `\`, `%` and `_` for `LIKE ? ESCAPE '\'`. */
export function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => "\\" + c);
}
