/**
 * The server's public addresses as this machine's interfaces show them, for
 * the A/AAAA records quickstart prints. Nothing is asked of the internet:
 * behind NAT no interface has a public address and the admin passes
 * --public-ip (or fills in the placeholder).
 */
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";

/** RFC 6890 special-purpose IPv4 blocks that are never a server's public address. */
function privateV4(ip: string): boolean {
  const [a, b] = ip.split(".").map(Number) as [number, number];
  return a === 0 || a === 10 || a === 127 || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 192 && b === 0) || (a === 198 && (b === 18 || b === 19)) || a >= 224;
}

/** Only global unicast IPv6 (2000::/3, RFC 4291 §2.4) outside the documentation prefix 2001:db8::/32. */
function publicV6(ip: string): boolean {
  const first = parseInt(ip.split(":")[0] || "0", 16);
  return (first & 0xe000) === 0x2000 && !ip.toLowerCase().startsWith("2001:db8:");
}

export function isPublicAddress(ip: string): boolean {
  const v = isIP(ip);
  if (v === 4) return !privateV4(ip);
  if (v === 6) return publicV6(ip);
  return false;
}

/** The first public IPv4 and IPv6 address of the interfaces (null when none). */
export function detectPublicAddresses(ifaces = networkInterfaces()): { ipv4: string | null; ipv6: string | null } {
  let ipv4: string | null = null;
  let ipv6: string | null = null;
  for (const list of Object.values(ifaces)) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (a.family === "IPv4" && !ipv4 && isPublicAddress(a.address)) ipv4 = a.address;
      if (a.family === "IPv6" && !ipv6 && isPublicAddress(a.address)) ipv6 = a.address;
    }
  }
  return { ipv4, ipv6 };
}

/** `--public-ip` values: one IPv4 and/or one IPv6, comma-separated; throws in words. */
export function parsePublicIps(raw: string): { ipv4: string | null; ipv6: string | null } {
  let ipv4: string | null = null;
  let ipv6: string | null = null;
  for (const part of raw.split(",").map((s) => s.trim()).filter(Boolean).slice(0, 4)) {
    const v = isIP(part);
    if (v === 4 && !ipv4) ipv4 = part;
    else if (v === 6 && !ipv6) ipv6 = part;
    else throw new Error(`--public-ip: ${JSON.stringify(part)} is not an IPv4 or IPv6 address (or a second one of its kind)`);
  }
  return { ipv4, ipv6 };
}
