/**
 * DNS for the send path and inbound checks: a node:dns Resolver pointed at
 * config.queue.dnsServers (tests use a local dnsmasq), or the system's.
 */
import { Resolver } from "node:dns/promises";
import { isIP } from "node:net";

export interface Dns {
  /** mailauth's resolver signature (name, rrtype) -> records. */
  resolve(name: string, type: string): Promise<unknown>;
  resolveMx(name: string): Promise<{ exchange: string; priority: number }[]>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
}

export function createDns(servers: string[]): Dns {
  const r = new Resolver({ timeout: 5000, tries: 2 });
  if (servers.length) r.setServers(servers);
  return {
    resolve: (name, type) => r.resolve(name, type as "A"),
    resolveMx: (name) => r.resolveMx(name),
    resolve4: (name) => r.resolve4(name),
    resolve6: (name) => r.resolve6(name),
  };
}

/** Permanent: the name does not exist. Temporary: anything else (timeouts, SERVFAIL, refused). */
export function isNxDomain(e: unknown): boolean {
  const code = (e as { code?: string })?.code;
  return code === "ENOTFOUND";
}

export function isNoData(e: unknown): boolean {
  const code = (e as { code?: string })?.code;
  return code === "ENODATA";
}

export interface MxTarget {
  host: string;
  priority: number;
}

export class DnsError extends Error {
  constructor(
    message: string,
    public permanent: boolean,
  ) {
    super(message);
    this.name = "DnsError";
  }
}

/**
 * RFC 5321 §5.1: MX records in preference order (equal preferences shuffled);
 * no MX records -> the domain itself is the implicit MX; RFC 7505 null MX
 * ("." with preference 0) -> the domain accepts no mail (permanent).
 */
export async function lookupMx(dns: Dns, domain: string): Promise<MxTarget[]> {
  if (domain.startsWith("[") && domain.endsWith("]")) {
    const lit = domain.slice(1, -1).replace(/^ipv6:/i, "");
    if (isIP(lit)) return [{ host: lit, priority: 0 }];
    throw new DnsError(`unsupported address literal ${domain}`, true);
  }
  let mx: { exchange: string; priority: number }[];
  try {
    mx = await dns.resolveMx(domain);
  } catch (e) {
    if (isNoData(e)) return [{ host: domain, priority: 0 }];
    if (isNxDomain(e)) {
      // Bun reports NODATA as ENOTFOUND too, so "no such domain" is only believed
      // when the name has no address either; otherwise it is the implicit MX.
      const { addresses, temporary } = await lookupAddresses(dns, domain);
      if (addresses.length) return [{ host: domain, priority: 0 }];
      if (temporary) throw new DnsError(`address lookup for ${domain} failed`, false);
      throw new DnsError(`domain ${domain} does not exist or has no mail server`, true);
    }
    throw new DnsError(`MX lookup for ${domain} failed: ${(e as Error).message}`, false);
  }
  if (mx.length === 0) return [{ host: domain, priority: 0 }];
  if (mx.some((m) => m.exchange === "" || m.exchange === ".")) {
    throw new DnsError(`domain ${domain} does not accept mail (null MX, RFC 7505)`, true);
  }
  const shuffled = mx.map((m) => ({ m, r: Math.random() }));
  shuffled.sort((a, b) => a.m.priority - b.m.priority || a.r - b.r);
  return shuffled.map(({ m }) => ({ host: m.exchange.replace(/\.$/, ""), priority: m.priority }));
}

/** A and AAAA addresses of an MX host (IPv4 first: loopback tests and most MX hosts). */
export async function lookupAddresses(dns: Dns, host: string): Promise<{ addresses: string[]; temporary: boolean }> {
  if (isIP(host)) return { addresses: [host], temporary: false };
  const out: string[] = [];
  let temporary = false;
  for (const fn of [dns.resolve4, dns.resolve6]) {
    try {
      out.push(...(await fn(host)));
    } catch (e) {
      if (!isNoData(e) && !isNxDomain(e)) temporary = true;
    }
  }
  return { addresses: out, temporary };
}
