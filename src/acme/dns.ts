/**
 * What the ACME setup adds to the DNS records quickstart prints: the CAA
 * issuer of the configured CA (RFC 8659) and the DANE TLSA 3 1 1 value of the
 * certificate key (RFC 7672 §3.1.3), which the manager keeps across renewals.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { acmePaths, ensureDir, readIfExists, writeFileAtomic } from "./files.ts";

/** The CAA issuer domain each well-known ACME CA checks for (from its directory host); null when unknown. */
export function caaIssuerFor(directoryUrl: string): string | null {
  let host: string;
  try {
    host = new URL(directoryUrl).hostname.toLowerCase();
  } catch {
    return null;
  }
  const known: [RegExp, string][] = [
    [/(^|\.)letsencrypt\.org$/, "letsencrypt.org"],
    [/(^|\.)buypass\.(com|no)$/, "buypass.com"],
    [/(^|\.)pki\.goog$/, "pki.goog"],
    [/(^|\.)zerossl\.com$/, "sectigo.com"],
  ];
  return known.find(([re]) => re.test(host))?.[1] ?? null;
}

/** The certificate key the ACME manager will use: created now (ECDSA P-256, 0600) when missing, so its TLSA record can be published before the first order. */
export function ensureCertKey(dataDir: string): string {
  const p = acmePaths(dataDir);
  ensureDir(p);
  const have = readIfExists(p.certKey);
  if (have) return have;
  const pem = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }) as string;
  writeFileAtomic(p.certKey, pem, 0o600);
  return pem;
}

/** RFC 7672 §3.1.3 / RFC 6698 §2.1: SHA-256 of the DER SubjectPublicKeyInfo, lower-case hex (TLSA 3 1 1). */
export function tlsaSpkiSha256(keyPem: string): string {
  const spki = createPublicKey(createPrivateKey(keyPem)).export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("hex");
}
