/**
 * The certificate status without a running server (`pillarbox check`): what
 * the ACME manager left in the data dir, and one line in words for it.
 */
import { X509Certificate } from "node:crypto";
import type { Config } from "../config-types.ts";
import type { CertificateStatus } from "../ops/types.ts";
import { certificateStatusOf } from "../certificates.ts";
import { acmePaths, readIfExists, readState } from "./files.ts";
import { nextAttemptAt } from "./schedule.ts";

/** The stored ACME certificate and renewal state; null when ACME has no certificate yet and no attempt was made. */
export function storedAcmeStatus(config: Pick<Config, "dataDir">): CertificateStatus | null {
  const p = acmePaths(config.dataDir);
  const state = readState(p);
  const pem = readIfExists(p.cert);
  let base: CertificateStatus | null = null;
  if (pem) {
    try {
      base = certificateStatusOf(pem, "acme");
    } catch {
      base = null;
    }
  }
  if (!base && state.lastAttemptAt === null) return null;
  const x = pem && base ? new X509Certificate(pem) : null;
  const next = nextAttemptAt({ certNotBefore: x ? Date.parse(x.validFrom) : null, certNotAfter: x ? Date.parse(x.validTo) : null, failures: state.failures, lastAttemptAt: state.lastAttemptAt }, Date.now());
  const none: CertificateStatus = { source: "self-signed", names: [], issuer: "", notBefore: 0, notAfter: 0, fingerprint: "", nextRenewalAt: null, lastError: null, lastAttemptAt: null };
  return { ...(base ?? none), nextRenewalAt: next, lastError: state.lastError, lastAttemptAt: state.lastAttemptAt };
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace("T", " ") + " UTC";

/** e.g. "certificate (acme): issuer Pebble Intermediate CA, names a, b; expires 2027-03-07 10:00 UTC (89 days); next renewal 2027-02-05 10:00 UTC; last error: none" */
export function certificateStatusLine(s: CertificateStatus, now = Date.now()): string {
  const parts: string[] = [];
  if (s.fingerprint) {
    parts.push(`certificate (${s.source}): issuer ${s.issuer}, names ${s.names.join(", ") || "(none)"}`);
    parts.push(`expires ${day(s.notAfter)} (${Math.floor((s.notAfter - now) / 86_400_000)} days)`);
  } else parts.push("certificate (acme): none issued yet");
  if (s.nextRenewalAt !== null) parts.push(`next renewal ${s.nextRenewalAt <= now ? "now" : day(s.nextRenewalAt)}`);
  parts.push(`last error: ${s.lastError ?? "none"}`);
  return parts.join("; ");
}
