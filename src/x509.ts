/**
 * A minimal DER encoder for one job: a self-signed X.509 v3 server
 * certificate (RFC 5280) with an ECDSA P-256 key, built with node:crypto
 * only, so the single compiled binary needs no openssl at run time.
 */
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n >>= 8;
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
}

const seq = (...c: Buffer[]) => tlv(0x30, ...c);
const set = (...c: Buffer[]) => tlv(0x31, ...c);

function oid(dotted: string): Buffer {
  const parts = dotted.split(".").map(Number);
  const out: number[] = [parts[0]! * 40 + parts[1]!];
  for (const p of parts.slice(2)) {
    const stack: number[] = [p & 0x7f];
    let v = Math.floor(p / 128);
    while (v > 0) {
      stack.unshift((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(...stack);
  }
  return tlv(0x06, Buffer.from(out));
}

function integer(bytes: Buffer): Buffer {
  let b = bytes;
  while (b.length > 1 && b[0] === 0 && (b[1]! & 0x80) === 0) b = b.subarray(1);
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function time(d: Date): Buffer {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const y = d.getUTCFullYear();
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  if (y < 2050) return tlv(0x17, Buffer.from(`${p(y % 100)}${rest}`, "ascii"));
  return tlv(0x18, Buffer.from(`${p(y, 4)}${rest}`, "ascii"));
}

function name(cn: string): Buffer {
  return seq(set(seq(oid("2.5.4.3"), tlv(0x0c, Buffer.from(cn, "utf8")))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), tlv(0x04, value));
}

export interface SelfSigned {
  certPem: string;
  keyPem: string;
}

/**
 * Creates a key pair and a self-signed certificate for `hostnames` (the
 * first is the subject CN; all go into subjectAltName, which is what
 * clients check, RFC 6125 §6.4.4).
 */
/** The DER pieces, for the other structures built the same way (src/acme/x509-acme.ts: CSR, RFC 8737 certificate). */
export const der = { tlv, seq, set, oid, integer, name, extension };

export function createSelfSignedCertificate(hostnames: string[], opts: { days?: number; now?: Date; extensions?: Buffer[] } = {}): SelfSigned {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { certPem: buildCertificate(hostnames, privateKey, publicKey, opts), keyPem: privateKey.export({ type: "pkcs8", format: "pem" }) as string };
}

function buildCertificate(hostnames: string[], privateKey: KeyObject, publicKey: KeyObject, opts: { days?: number; now?: Date; extensions?: Buffer[] }): string {
  const now = opts.now ?? new Date();
  const notBefore = new Date(now.getTime() - 3600_000);
  // Apple's TLS policy refuses server certificates valid for more than 825 days,
  // counted from notBefore, so the back-dating hour is included in the period.
  const notAfter = new Date(notBefore.getTime() + (opts.days ?? 825) * 86_400_000);
  const sigAlg = seq(oid("1.2.840.10045.4.3.2")); // ecdsa-with-SHA256, RFC 5758 §3.2 (parameters absent)
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  const san = seq(...hostnames.map((h) => tlv(0x82, Buffer.from(h, "ascii")))); // [2] dNSName
  const extensions = tlv(
    0xa3,
    seq(
      extension("2.5.29.19", true, seq()), // basicConstraints: cA FALSE (default)
      extension("2.5.29.15", true, tlv(0x03, Buffer.from([0x07, 0x80]))), // keyUsage: digitalSignature
      extension("2.5.29.37", false, seq(oid("1.3.6.1.5.5.7.3.1"))), // extKeyUsage: serverAuth
      extension("2.5.29.17", false, san),
      ...(opts.extensions ?? []),
    ),
  );
  const spki = publicKey.export({ type: "spki", format: "der" }) as Buffer;
  const tbs = seq(
    tlv(0xa0, integer(Buffer.from([2]))), // version v3
    integer(serial),
    sigAlg,
    name(hostnames[0]!),
    seq(time(notBefore), time(notAfter)),
    name(hostnames[0]!),
    spki,
    extensions,
  );
  const signature = sign("sha256", tbs, privateKey); // DER ECDSA-Sig-Value
  const cert = seq(tbs, sigAlg, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const b64 = cert.toString("base64").replace(/.{1,64}/g, "$&\n");
  return `-----BEGIN CERTIFICATE-----\n${b64}-----END CERTIFICATE-----\n`;
}
