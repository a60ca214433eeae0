/**
 * Where the server may connect on a user's behalf. An import a user starts
 * from the webmail makes the server open a connection to a host the user
 * names; without a check that is a way to reach what only the server can
 * reach (its loopback, the LAN, a cloud metadata address). The name is
 * resolved once here, every address it resolves to is vetted, and the
 * import then connects to the vetted address (not the name again, so a
 * second, different DNS answer cannot slip an internal address in).
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";

/** IPv4 ranges that are not the public internet (RFC 6890 special-purpose registry, RFC 1918, RFC 6598, multicast, reserved). */
const V4_BLOCKED: [string, number][] = [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
];

function v4ToInt(a: string): number {
  return a.split(".").reduce((n, o) => n * 256 + Number(o), 0);
}

function v4Blocked(a: string): boolean {
  const n = v4ToInt(a);
  return V4_BLOCKED.some(([base, bits]) => {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return ((n & mask) >>> 0) === ((v4ToInt(base) & mask) >>> 0);
  });
}

/** The 8 groups of an IPv6 address as numbers (handles "::" and an embedded IPv4 tail). */
function v6Groups(a: string): number[] | null {
  let s = a.toLowerCase().split("%")[0]!;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const n = v4ToInt(v4[1]!);
    s = s.slice(0, -v4[1]!.length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const parse = (x: string) => (x === "" ? [] : x.split(":").map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  if (fill < 0) return null;
  const groups = [...head, ...new Array<number>(fill).fill(0), ...tail];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g)) ? groups : null;
}

/** True for an address the server must not connect to for a user: loopback, private, link-local, unique-local, multicast, unspecified, documentation. */
export function isInternalAddress(a: string): boolean {
  const fam = isIP(a);
  if (fam === 4) return v4Blocked(a);
  if (fam !== 6) return true;
  const g = v6Groups(a);
  if (!g) return true;
  if (g.every((x) => x === 0)) return true; // ::
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return true; // ::1
  const v4 = (hi: number, lo: number) => `${hi >>> 8}.${hi & 0xff}.${lo >>> 8}.${lo & 0xff}`;
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return v4Blocked(v4(g[6]!, g[7]!)); // ::ffff:a.b.c.d
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return v4Blocked(v4(g[6]!, g[7]!)); // NAT64 (RFC 6052)
  if ((g[0]! & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local (RFC 4193)
  if ((g[0]! & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  if ((g[0]! & 0xff00) === 0xff00) return true; // multicast
  if (g[0] === 0x2001 && g[1] === 0x0db8) return true; // documentation (RFC 3849)
  if (g.slice(0, 6).every((x) => x === 0)) return true; // IPv4-compatible (deprecated)
  return false;
}

export class AddressRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AddressRefused";
  }
}

/**
 * Resolves `host` and returns the address to connect to. Unless
 * `allowInternal`, refuses when any address the name resolves to is
 * internal (a name that resolves to both is refused too: which one a
 * connection would use is not ours to guess).
 */
export async function vetHost(host: string, allowInternal: boolean, resolve: (h: string) => Promise<{ address: string }[]> = (h) => lookup(h, { all: true, verbatim: true })): Promise<string> {
  let addrs: { address: string }[];
  if (isIP(host)) addrs = [{ address: host }];
  else {
    try {
      addrs = await resolve(host);
    } catch {
      throw new AddressRefused(`The server name ${host} was not found.`);
    }
  }
  if (addrs.length === 0) throw new AddressRefused(`The server name ${host} was not found.`);
  if (!allowInternal) {
    const bad = addrs.find((a) => isInternalAddress(a.address));
    if (bad) throw new AddressRefused(`${host} is an address on a private or local network (${bad.address}); this server does not connect there for users.`);
  }
  return addrs[0]!.address;
}
