/**
 * Address and domain checks for what the admin creates. Stricter than the
 * store (which takes what SMTP may hand it): a new account or alias gets a
 * name every client can use. Refusals are AdminErrors in words.
 */
import { normalizeDomain } from "../../../storage/names.ts";
import { AdminError } from "./guard.ts";

// RFC 5321 §4.1.2 Dot-string: atoms of atext (RFC 5322 §3.2.3) joined by single dots — no leading,
// trailing or doubled dot. Non-ASCII letters are allowed as RFC 6531 §3.3 extends atext with UTF-8.
const ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~\\-\\u0080-\\uffff]+";
const DOT_STRING = new RegExp(`^${ATOM}(\\.${ATOM})*$`);
// RFC 1035 §2.3.1 labels (letters, digits, inner hyphens, at most 63 octets), as A-labels.
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A lower-case A-label domain of at least two labels; throws in words. */
export function checkDomainName(input: unknown, what = "domain"): string {
  if (typeof input !== "string" || input.trim() === "") throw new AdminError(400, "bad_domain", `Give the ${what} name, e.g. example.org.`);
  if (input.length > 253) throw new AdminError(400, "bad_domain", `The ${what} name is too long (at most 253 characters).`);
  const d = normalizeDomain(input);
  const labels = d.split(".");
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l)) || /^[0-9]+$/.test(labels[labels.length - 1]!)) {
    throw new AdminError(400, "bad_domain", `"${input.slice(0, 100)}" is not a valid ${what} name: use letters, digits and hyphens in dot-separated labels, like example.org.`);
  }
  return d;
}

/** A full address local@domain, local part lower-cased (as the store keeps it); throws in words. */
export function checkAddress(input: unknown, what = "address"): string {
  if (typeof input !== "string" || input.trim() === "") throw new AdminError(400, "bad_address", `Give the ${what}, e.g. alice@example.org.`);
  const s = input.trim();
  if (s.length > 254) throw new AdminError(400, "bad_address", `The ${what} is too long (at most 254 characters).`);
  const at = s.lastIndexOf("@");
  if (at <= 0) throw new AdminError(400, "bad_address", `"${s.slice(0, 100)}" is not a valid ${what}: it needs a name, an @ and a domain.`);
  const local = s.slice(0, at);
  if (local.length > 64) throw new AdminError(400, "bad_address", `The part before the @ of the ${what} is too long (at most 64 characters).`);
  if (!DOT_STRING.test(local)) {
    throw new AdminError(
      400,
      "bad_address",
      `"${s.slice(0, 100)}" is not a valid ${what}: the part before the @ may not start or end with a dot, have two dots in a row, or contain spaces, quotes, commas, brackets or backslashes.`,
    );
  }
  return `${local.toLowerCase()}@${checkDomainName(s.slice(at + 1), `${what}'s domain`)}`;
}

/** An alias source: an address, or `@domain` for a catch-all. */
export function checkAliasSource(input: unknown): string {
  if (typeof input === "string" && input.trim().startsWith("@")) return "@" + checkDomainName(input.trim().slice(1), "catch-all domain");
  return checkAddress(input, "alias address");
}

/** A quota: null (unlimited) or a whole number of bytes up to 1 PiB. */
export function checkQuota(v: unknown): number | null {
  if (v === null) return null;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || v > 2 ** 50) {
    throw new AdminError(400, "bad_quota", "The quota must be a whole number of bytes (0 to 1 PiB), or null for no limit.");
  }
  return v;
}

export function checkBool(v: unknown, field: string): boolean {
  if (typeof v !== "boolean") throw new AdminError(400, "bad_field", `"${field}" must be true or false.`);
  return v;
}

export function checkDisplayName(v: unknown): string {
  if (typeof v !== "string" || v.length > 200 || /[\u0000-\u001f\u007f]/.test(v)) {
    throw new AdminError(400, "bad_field", "The display name must be text of at most 200 characters, without control characters.");
  }
  return v.trim();
}

/** Fields a body may carry; any other is a 400 naming it (a typo is not silently ignored). */
export function onlyFields(body: Record<string, unknown>, allowed: readonly string[]): void {
  const extra = Object.keys(body).filter((k) => !allowed.includes(k));
  if (extra.length) throw new AdminError(400, "bad_field", `Unknown field${extra.length > 1 ? "s" : ""}: ${extra.slice(0, 5).map((k) => JSON.stringify(k.slice(0, 40))).join(", ")}. Allowed: ${allowed.join(", ")}.`);
}
