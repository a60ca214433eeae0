/**
 * The two X.509 structures ACME needs from us, built with node:crypto and the
 * DER pieces of src/x509.ts (the library's own builder fails to load its ASN.1
 * schemas under this dependency tree): the certificate signing request sent at
 * finalize (RFC 8555 §7.4, PKCS #10 / RFC 2986) and the TLS-ALPN-01 validation
 * certificate (RFC 8737 §3).
 */
import { createHash, createPrivateKey, createPublicKey, sign } from "node:crypto";
import { createSelfSignedCertificate, der } from "../x509.ts";

const { tlv, seq, set, oid, integer, name, extension } = der;

function pem(label: string, body: Buffer): string {
  return `-----BEGIN ${label}-----\n${body.toString("base64").replace(/.{1,64}/g, "$&\n")}-----END ${label}-----\n`;
}

/** RFC 2986 §4: a CSR for `names` (first = subject CN, all in subjectAltName) signed by the ECDSA P-256 key. */
export function createCsr(names: string[], keyPem: string): string {
  const key = createPrivateKey(keyPem);
  const spki = createPublicKey(key).export({ type: "spki", format: "der" }) as Buffer;
  const san = seq(...names.map((h) => tlv(0x82, Buffer.from(h, "ascii")))); // [2] dNSName
  // PKCS #9 extensionRequest (1.2.840.113549.1.9.14) carrying the subjectAltName (RFC 2985 §5.4.2).
  const attributes = tlv(0xa0, seq(oid("1.2.840.113549.1.9.14"), set(seq(extension("2.5.29.17", false, san)))));
  const info = seq(integer(Buffer.from([0])), name(names[0]!), spki, attributes);
  const sigAlg = seq(oid("1.2.840.10045.4.3.2")); // ecdsa-with-SHA256
  const signature = sign("sha256", info, key);
  return pem("CERTIFICATE REQUEST", seq(info, sigAlg, tlv(0x03, Buffer.concat([Buffer.from([0]), signature]))));
}

/**
 * RFC 8737 §3: a self-signed certificate for exactly one DNS name with the
 * critical id-pe-acmeIdentifier extension (1.3.6.1.5.5.7.1.31) holding the
 * SHA-256 digest of the key authorization as an OCTET STRING.
 */
export function createAlpnCertificate(dnsName: string, keyAuthorization: string): { cert: string; key: string } {
  const digest = createHash("sha256").update(keyAuthorization).digest();
  const acmeId = extension("1.3.6.1.5.5.7.1.31", true, tlv(0x04, digest));
  const { certPem, keyPem } = createSelfSignedCertificate([dnsName], { days: 7, extensions: [acmeId] });
  return { cert: certPem, key: keyPem };
}
