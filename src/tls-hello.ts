/**
 * Reads the server name (SNI) and the offered ALPN protocols from a TLS
 * ClientHello without consuming it, so a listener can tell an ACME
 * TLS-ALPN-01 validation (RFC 8737 §3: ALPN "acme-tls/1") from a normal
 * client before the handshake starts. Bounded: one TLS record (at most
 * 2^14 + 5 octets, RFC 8446 §5.1), every length checked against what is there.
 */

export type HelloPeek =
  | { kind: "more" } // not enough octets yet
  | { kind: "hello"; serverName: string | null; alpn: string[] }
  | { kind: "other" }; // not a ClientHello we can read: hand to TLS as is

/** Largest record we wait for (RFC 8446 §5.1: 2^14 plus the 5-octet header). */
export const MAX_HELLO_RECORD = 16_384 + 5;

export function peekClientHello(buf: Uint8Array): HelloPeek {
  if (buf.length < 5) return { kind: "more" };
  // RFC 8446 §5.1: ContentType handshake(22), legacy_record_version, length.
  if (buf[0] !== 22) return { kind: "other" };
  const recLen = (buf[3]! << 8) | buf[4]!;
  if (recLen > 16_384 || recLen < 4) return { kind: "other" };
  if (buf.length < 5 + recLen) return { kind: "more" };
  const rec = buf.subarray(5, 5 + recLen);
  // RFC 8446 §4: HandshakeType client_hello(1), uint24 length.
  if (rec[0] !== 1) return { kind: "other" };
  const hsLen = (rec[1]! << 16) | (rec[2]! << 8) | rec[3]!;
  // A ClientHello split over several records is legal but unusual; we then do not look inside.
  if (4 + hsLen > rec.length) return { kind: "other" };
  const h = rec.subarray(4, 4 + hsLen);
  let p = 2 + 32; // legacy_version, random
  const need = (n: number) => p + n <= h.length;
  if (!need(1)) return { kind: "other" };
  p += 1 + h[p]!; // legacy_session_id
  if (!need(2)) return { kind: "other" };
  p += 2 + ((h[p]! << 8) | h[p + 1]!); // cipher_suites
  if (!need(1)) return { kind: "other" };
  p += 1 + h[p]!; // legacy_compression_methods
  if (!need(2)) return { kind: "hello", serverName: null, alpn: [] }; // no extensions
  const extEnd = Math.min(h.length, p + 2 + ((h[p]! << 8) | h[p + 1]!));
  p += 2;
  let serverName: string | null = null;
  const alpn: string[] = [];
  while (p + 4 <= extEnd) {
    const type = (h[p]! << 8) | h[p + 1]!;
    const len = (h[p + 2]! << 8) | h[p + 3]!;
    const body = h.subarray(p + 4, Math.min(extEnd, p + 4 + len));
    p += 4 + len;
    if (type === 0 && body.length >= 5) {
      // RFC 6066 §3: server_name_list; the host_name(0) entry.
      if (body[2] === 0) {
        const n = (body[3]! << 8) | body[4]!;
        if (5 + n <= body.length) serverName = new TextDecoder().decode(body.subarray(5, 5 + n)).toLowerCase();
      }
    } else if (type === 16 && body.length >= 2) {
      // RFC 7301 §3.1: ProtocolNameList.
      const end = Math.min(body.length, 2 + ((body[0]! << 8) | body[1]!));
      let q = 2;
      while (q < end && alpn.length < 64) {
        const n = body[q]!;
        if (n === 0 || q + 1 + n > end) break;
        alpn.push(new TextDecoder().decode(body.subarray(q + 1, q + 1 + n)));
        q += 1 + n;
      }
    }
  }
  return { kind: "hello", serverName, alpn };
}
