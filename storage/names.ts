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
