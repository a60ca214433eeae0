/**
 * DNS blocklists and allowlists (RFC 5782). The connecting IP is looked up
 * as `<reversed address>.<zone>` (§2.1: IPv4 octets reversed; §2.4: IPv6 as
 * 32 reversed nibbles), domains as `<domain>.<zone>` (§2.3). An A answer in
 * 127.0.0.0/8 means listed (§2.1; 127.0.0.1 is never a listing, §5), no
 * name means not listed. Spamhaus answers 127.255.255.x for refused queries
 * (e.g. through a public resolver): that is an error about us, not a
 * listing, so it is logged once per zone and ignored.
 *
 * Every lookup is bounded by `timeoutMs` (a slow list counts as not
 * listed), all lookups of a message run in parallel, and answers are kept in
 * a bounded LRU cache for a few minutes (one TTL for all: node's resolver
 * does not expose it for A lookups through the project's Dns).
 */
import { isIP } from "node:net";
import type { Dns } from "../delivery/dns.ts";
import type { Logger } from "../log.ts";
import type { SpamSymbol } from "./types.ts";

export const DNSBL_SCORES = {
  /** One IP blocklist listing. */
  ip: 3.0,
  /** One domain blocklist listing. */
  domain: 2.5,
} as const;
/** DNSWL's trust levels (the last octet of 127.0.<category>.<trust>): none, low, medium, high (SpamAssassin's RCVD_IN_DNSWL_* points). */
const DNSWL_TRUST = [-0.1, -0.7, -2.3, -5.0];
/** Distinct domains of one message looked up in the domain lists. */
export const MAX_LIST_DOMAINS = 20;
const CACHE_ENTRIES = 10_000;
const CACHE_TTL_MS = 5 * 60_000;
/** Failed lookups are remembered briefly, so a dead list is not asked again for every message of a burst. */
const ERROR_TTL_MS = 30_000;

/**
 * Addresses no public list can know (loopback, RFC 1918, CGNAT, link-local,
 * IPv6 ULA): never looked up. 127.0.0.2 is: it is RFC 5782 §5's test point,
 * which every list answers as listed (a local check of the whole path).
 */
export function privateIp(ip: string): boolean {
  let a = ip.trim().toLowerCase();
  if (a.startsWith("::ffff:") && isIP(a.slice(7)) === 4) a = a.slice(7);
  if (isIP(a) === 4) {
    if (a === "127.0.0.2") return false;
    const [x, y] = a.split(".").map(Number) as [number, number];
    return x === 127 || x === 10 || x === 0 || (x === 172 && y >= 16 && y <= 31) || (x === 192 && y === 168) || (x === 169 && y === 254) || (x === 100 && y >= 64 && y <= 127);
  }
  return a === "::1" || a === "::" || a.startsWith("fc") || a.startsWith("fd") || a.startsWith("fe80");
}

/** RFC 2606 / RFC 6761 names that exist nowhere: never looked up in a domain list. */
export function reservedDomain(d: string): boolean {
  return /(^|\.)(test|example|invalid|localhost|local|lan|home\.arpa)$/.test(d) || /(^|\.)example\.(com|net|org)$/.test(d);
}

/** RFC 5782 §2.1 / §2.4: the query name's prefix for an address, or null when it is not one. */
export function reverseIp(ip: string): string | null {
  let a = ip.trim();
  if (a.toLowerCase().startsWith("::ffff:") && isIP(a.slice(7)) === 4) a = a.slice(7);
  const v = isIP(a);
  if (v === 4) return a.split(".").reverse().join(".");
  if (v !== 6) return null;
  // Expand "::" to the missing zero groups, each group to four nibbles.
  const [head, tail] = a.toLowerCase().split("::") as [string, string | undefined];
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  if (groups.length !== 8) return null;
  return groups
    .map((g) => g.padStart(4, "0"))
    .join("")
    .split("")
    .reverse()
    .join(".");
}

type Answer = string[] | "error";

export interface DnsListOptions {
  dns: Pick<Dns, "resolve4">;
  log: Logger;
}

export class DnsLists {
  private cache = new Map<string, { expires: number; answer: Answer }>();
  private reportedErrors = new Set<string>();
  constructor(private readonly opts: DnsListOptions) {}

  /** A records of `name`, [] when it does not exist, "error" on timeout or failure. Cached. */
  async lookup(name: string, timeoutMs: number): Promise<Answer> {
    const key = name.toLowerCase();
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.expires > now) {
      // LRU: a hit moves to the end.
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit.answer;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answer: Answer = await Promise.race([
      this.opts.dns.resolve4(key).then(
        (a) => a,
        (e: { code?: string }) => (e?.code === "ENOTFOUND" || e?.code === "ENODATA" ? [] : ("error" as const)),
      ),
      new Promise<"error">((resolve) => {
        timer = setTimeout(() => resolve("error"), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    this.cache.set(key, { expires: now + (answer === "error" ? ERROR_TTL_MS : CACHE_TTL_MS), answer });
    while (this.cache.size > CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    return answer;
  }

  /** The listing answers of `name` (127.0.0.0/8 except 127.0.0.1 and the 127.255.255.x error codes). */
  private async listed(name: string, zone: string, timeoutMs: number): Promise<string[]> {
    const answer = await this.lookup(name, timeoutMs);
    if (answer === "error") return [];
    const out: string[] = [];
    for (const a of answer) {
      if (!a.startsWith("127.") || a === "127.0.0.1") continue;
      if (a.startsWith("127.255.255.")) {
        if (!this.reportedErrors.has(zone)) {
          this.reportedErrors.add(zone);
          this.opts.log.warn("DNS list refused our query (an error answer, not a listing): ignored", { zone, answer: a });
        }
        continue;
      }
      out.push(a);
    }
    return out;
  }

  /** IP blocklists and allowlists for the connecting address, all in parallel. */
  async checkIp(ip: string | null, blocklists: readonly string[], allowlists: readonly string[], timeoutMs: number): Promise<SpamSymbol[]> {
    if (!blocklists.length && !allowlists.length) return []; // lists off: not even the address parsed
    const rev = ip && !privateIp(ip) ? reverseIp(ip) : null;
    if (!rev) return [];
    const block = blocklists.map(async (zone): Promise<SpamSymbol | null> => {
      const hits = await this.listed(`${rev}.${zone}`, zone, timeoutMs);
      return hits.length ? { name: `RBL_${symbolPart(zone)}`, score: DNSBL_SCORES.ip, detail: `${ip} listed in ${zone} (${hits.slice(0, 3).join(",")})` } : null;
    });
    const allow = allowlists.map(async (zone): Promise<SpamSymbol | null> => {
      const hits = (await this.listed(`${rev}.${zone}`, zone, timeoutMs)).filter((a) => a !== "127.0.0.255");
      if (!hits.length) return null;
      const trust = Math.max(...hits.map((a) => Math.min(Number(a.split(".")[3]) || 0, 3)));
      return { name: `DNSWL_${symbolPart(zone)}`, score: DNSWL_TRUST[trust]!, detail: `${ip} listed in ${zone} (${hits[0]})` };
    });
    return (await Promise.all([...block, ...allow])).filter((s): s is SpamSymbol => s !== null);
  }

  /** True when the IP is on one of the allowlists (greylisting lets such senders through at once). */
  async ipAllowed(ip: string, allowlists: readonly string[], timeoutMs: number): Promise<boolean> {
    return (await this.checkIp(ip, [], allowlists, timeoutMs)).length > 0;
  }

  /** Domain blocklists for the given domains (the first MAX_LIST_DOMAINS distinct, syntactically valid, not bare IPs). */
  async checkDomains(domains: readonly string[], zones: readonly string[], timeoutMs: number): Promise<SpamSymbol[]> {
    if (!zones.length) return [];
    const list: string[] = [];
    for (const d of domains) {
      const name = d.toLowerCase().replace(/\.$/, "");
      if (list.length >= MAX_LIST_DOMAINS) break;
      if (list.includes(name) || isIP(name) || reservedDomain(name) || !/^(?=.{1,200}$)[a-z0-9_-]+(\.[a-z0-9_-]+)+$/.test(name)) continue;
      list.push(name);
    }
    const checks = zones.flatMap((zone) =>
      list.map(async (d): Promise<{ zone: string; domain: string; hit: string } | null> => {
        const hits = await this.listed(`${d}.${zone}`, zone, timeoutMs);
        return hits.length ? { zone, domain: d, hit: hits[0]! } : null;
      }),
    );
    const found = (await Promise.all(checks)).filter((x): x is { zone: string; domain: string; hit: string } => x !== null);
    // One symbol per zone (several listed domains of one message are one piece of evidence).
    const byZone = new Map<string, { domain: string; hit: string }[]>();
    for (const f of found) byZone.set(f.zone, [...(byZone.get(f.zone) ?? []), f]);
    return [...byZone].map(([zone, hits]) => ({ name: `DBL_${symbolPart(zone)}`, score: DNSBL_SCORES.domain, detail: `${hits.map((h) => h.domain).slice(0, 3).join(",")} listed in ${zone}` }));
  }
}

/** "zen.spamhaus.org" -> "ZEN_SPAMHAUS_ORG": a symbol name part. */
function symbolPart(zone: string): string {
  return zone
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, "_")
    .replace(/^_|_$/g, "")
    .slice(0, 40);
}
