/**
 * The certificate service (src/ops/types.ts CertificateService) for a server
 * whose certificate comes from files or is self-signed: it reports what the
 * TLS manager serves. The ACME manager (src/acme/) replaces it when ACME is on.
 */
import { X509Certificate } from "node:crypto";
import type { CertificateService, CertificateStatus } from "./ops/types.ts";

/** Status of one PEM certificate (the first in a chain). */
export function certificateStatusOf(certPem: string, source: CertificateStatus["source"]): CertificateStatus {
  const cert = new X509Certificate(certPem);
  const names = (cert.subjectAltName ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.startsWith("DNS:"))
    .map((s) => s.slice(4));
  const issuer = /(?:^|\n)CN=([^\n]+)/.exec(cert.issuer)?.[1] ?? /(?:^|\n)O=([^\n]+)/.exec(cert.issuer)?.[1] ?? cert.issuer;
  return {
    source,
    names,
    issuer,
    notBefore: Date.parse(cert.validFrom),
    notAfter: Date.parse(cert.validTo),
    fingerprint: cert.fingerprint256.replace(/:/g, "").toLowerCase(),
    nextRenewalAt: null,
    lastError: null,
    lastAttemptAt: null,
  };
}

export function staticCertificates(tls: { readonly certPem: string; readonly files: { selfSigned: boolean } }): CertificateService {
  return {
    status: () => [certificateStatusOf(tls.certPem, tls.files.selfSigned ? "self-signed" : "files")],
    renewNow: async () => ({ ok: false, message: "ACME is off: the certificate comes from " + (tls.files.selfSigned ? "a self-signed pair in the data dir" : "the configured files") }),
  };
}
