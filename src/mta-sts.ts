/**
 * The MTA-STS policy (RFC 8461) Pillarbox serves for each local domain at
 * https://mta-sts.<domain>/.well-known/mta-sts.txt, and the `_mta-sts` TXT id
 * derived from it (so the id changes exactly when the policy does, §3.1).
 */
import { createHash } from "node:crypto";
import type { Config } from "./config-types.ts";
import type { CertificateStatus } from "./ops/types.ts";

export type MtaStsMode = "testing" | "enforce";

/**
 * "enforce" only when the admin asked for it and a trusted (ACME or files)
 * certificate covers the MX host: a sender enforcing the policy against a
 * self-signed certificate would refuse to deliver (RFC 8461 §4.2, §5).
 */
export function effectiveMtaStsMode(config: Pick<Config, "mtaSts" | "hostname">, certs: readonly CertificateStatus[]): MtaStsMode {
  if (config.mtaSts.mode !== "enforce") return "testing";
  const now = Date.now();
  const trusted = certs.some((c) => c.source !== "self-signed" && c.notAfter > now && c.names.some((n) => coversName(n, config.hostname)));
  return trusted ? "enforce" : "testing";
}

function coversName(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  if (p === host) return true;
  // RFC 6125 §6.4.3: a wildcard covers exactly one left-most label.
  return p.startsWith("*.") && host.slice(host.indexOf(".") + 1) === p.slice(2) && host.indexOf(".") > 0;
}

/** RFC 8461 §3.2: key/value lines, CRLF-terminated. */
export function mtaStsPolicy(hostname: string, mode: MtaStsMode, maxAgeSeconds: number): string {
  return `version: STSv1\r\nmode: ${mode}\r\nmx: ${hostname}\r\nmax_age: ${maxAgeSeconds}\r\n`;
}

/** RFC 8461 §3.1: id = 1*32 alphanumerics; a digest of the policy changes with it. */
export function mtaStsId(policy: string): string {
  return createHash("sha256").update(policy).digest("hex").slice(0, 20);
}
