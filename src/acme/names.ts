/**
 * The DNS names the ACME certificate covers: the mail host name, then for
 * each local domain the autoconfig., autodiscover. and mta-sts. names that
 * `quickstart` prints (src/dns-records.ts), then the configured extra names.
 */
import type { Config } from "../config-types.ts";

/** Per RFC 8555 §7.1.4 an order may name many identifiers; CAs cap it (Let's Encrypt: 100). */
export const MAX_NAMES = 100;

export function certificateNames(config: Pick<Config, "hostname" | "acme">, domains: readonly string[]): string[] {
  const out: string[] = [config.hostname.toLowerCase()];
  const add = (n: string) => {
    const v = n.toLowerCase();
    if (!out.includes(v) && out.length < MAX_NAMES) out.push(v);
  };
  if (config.acme.domainNames) {
    for (const d of domains) for (const p of ["autoconfig", "autodiscover", "mta-sts"]) add(`${p}.${d}`);
  }
  for (const n of config.acme.extraNames) add(n);
  // Names that cannot be on a public certificate: "localhost", single labels.
  return out.filter((n, i) => i === 0 || (n.includes(".") && !n.endsWith(".localhost")));
}
