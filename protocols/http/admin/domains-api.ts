/**
 * /admin/api/domains: list, add (with its DKIM key), remove (409 while it has
 * accounts) and the live DNS report of a domain (src/dns-check.ts), which is
 * rate limited per session: each report is ~30 queries to the resolver.
 */
import type { Hono } from "hono";
import type { AppEnv } from "../types.ts";
import type { DnsReport, DomainView } from "./api-types.ts";
import type { Domain } from "../../../storage/api.ts";
import type { ServerContext } from "../../../src/context.ts";
import { checkDomainDns, checkResolver, policyFetcher, type DnsCheckDeps } from "../../../src/dns-check.ts";
import { effectiveMtaStsMode, mtaStsId, mtaStsPolicy } from "../../../src/mta-sts.ts";
import { detectPublicAddresses } from "../../../src/public-ip.ts";
import { caaIssuerFor, tlsaSpkiSha256 } from "../../../src/acme/dns.ts";
import { acmePaths, readIfExists } from "../../../src/acme/files.ts";
import type { DnsRecordInput } from "../../../src/dns-records.ts";
import { AdminError, audit, ok, pathParam, readJson, route, SessionRateLimit, type AdminDeps } from "./guard.ts";
import { checkDomainName, onlyFields } from "./validate.ts";

/** Live DNS reports per session: 6 a minute (a page load and a few re-checks). */
const DNS_CHECKS_PER_MINUTE = 6;

export interface DomainsApiOptions {
  /** The DNS check's resolver and policy fetcher (default: the delivery resolver, config.queue.dnsServers). */
  dnsCheck?: (ctx: ServerContext) => DnsCheckDeps;
}

export function defaultDnsCheckDeps(ctx: ServerContext): DnsCheckDeps {
  const resolver = checkResolver(ctx.config.queue.dnsServers);
  return { resolver, fetchPolicy: policyFetcher(resolver) };
}

export function mountDomainsApi(app: Hono<AppEnv>, deps: AdminDeps, opts: DomainsApiOptions = {}): void {
  const { ctx } = deps;
  const limiter = new SessionRateLimit(DNS_CHECKS_PER_MINUTE, 60_000);

  const view = async (d: Domain): Promise<DomainView> => {
    const [accounts, aliases] = await Promise.all([ctx.store.listAccounts(), ctx.store.listAliases()]);
    return viewOf(d, accounts, aliases);
  };

  app.get(
    "/admin/api/domains",
    route(deps, async (c) => {
      const [domains, accounts, aliases] = await Promise.all([ctx.store.listDomains(), ctx.store.listAccounts(), ctx.store.listAliases()]);
      return c.json(
        domains.map((d) => viewOf(d, accounts, aliases)),
        200,
        { "cache-control": "no-store" },
      );
    }),
  );

  app.post(
    "/admin/api/domains",
    route(deps, async (c) => {
      const body = await readJson(c);
      onlyFields(body, ["name"]);
      const name = checkDomainName(body.name);
      if (await ctx.store.getDomain(name)) throw new AdminError(409, "exists", `${name} is already a domain of this server.`);
      const d = await ctx.store.addDomain(name);
      audit(deps, c, "domain.add", name);
      return c.json(await view(d), 201);
    }),
  );

  app.delete(
    "/admin/api/domains/:name",
    route(deps, async (c) => {
      const name = checkDomainName(pathParam(c, "name", "domain"));
      const d = await ctx.store.getDomain(name);
      if (!d) throw new AdminError(404, "not_found", `${name} is not a domain of this server.`);
      const n = (await ctx.store.listAccounts()).filter((a) => a.domainId === d.id).length;
      if (n > 0) throw new AdminError(409, "has_accounts", `${name} still has ${n} account${n === 1 ? "" : "s"}: remove ${n === 1 ? "it" : "them"} first.`);
      await ctx.store.removeDomain(name);
      audit(deps, c, "domain.remove", name);
      return c.json(ok);
    }),
  );

  app.get(
    "/admin/api/domains/:name/dns",
    route(deps, async (c) => {
      const name = checkDomainName(pathParam(c, "name", "domain"));
      const d = await ctx.store.getDomain(name);
      if (!d) throw new AdminError(404, "not_found", `${name} is not a domain of this server.`);
      const wait = limiter.take(c.get("session").record.id);
      if (wait > 0) {
        c.header("retry-after", String(Math.ceil(wait / 1000)));
        throw new AdminError(429, "too_many", `Too many DNS checks in a short time: try again in ${Math.ceil(wait / 1000)} seconds.`);
      }
      let check: DnsCheckDeps;
      try {
        check = (opts.dnsCheck ?? defaultDnsCheckDeps)(ctx);
      } catch (e) {
        throw new AdminError(503, "dns_config", `The DNS servers configured in [queue] dns_servers cannot be used: ${(e as Error).message}`);
      }
      const report: DnsReport = await checkDomainDns(recordInput(ctx, d), check);
      return c.json(report, 200, { "cache-control": "no-store" });
    }),
  );
}

/** The records expected for a domain, built as `pillarbox quickstart` builds them (src/cli/quickstart.ts). */
function recordInput(ctx: ServerContext, d: Domain): DnsRecordInput {
  const config = ctx.config;
  const https = config.listeners.HTTPS;
  // The _mta-sts id of the policy this server serves now (protocols/http/wellknown.ts).
  const policy = mtaStsPolicy(config.hostname, effectiveMtaStsMode(config, ctx.certificates.status()), config.mtaSts.maxAgeSeconds);
  // With ACME the certificate key is kept across renewals (src/acme/dns.ts), so its TLSA record is expected; read, never created here.
  const certKey = config.acme.enabled ? readIfExists(acmePaths(config.dataDir).certKey) : null;
  const ips = detectPublicAddresses();
  return {
    domain: d.name,
    hostname: config.hostname,
    dkimSelector: d.dkimSelector,
    dkimPublicKey: d.dkimPublicKey,
    reportAddress: `postmaster@${d.name}`,
    httpsPort: https && https.port > 0 ? https.port : 443,
    // RFC 5804 §1.8 _sieve._tcp on the ManageSieve listener's port; no record expected when it is off.
    manageSievePort: config.listeners.MANAGESIEVE ? (config.listeners.MANAGESIEVE.port > 0 ? config.listeners.MANAGESIEVE.port : 4190) : null,
    mtaStsId: mtaStsId(policy),
    ipv4: ips.ipv4,
    ipv6: ips.ipv6,
    caaIssuer: config.acme.enabled ? caaIssuerFor(config.acme.directoryUrl) : null,
    tlsaSpkiSha256: certKey ? tlsaSpkiSha256(certKey) : null,
  };
}

function viewOf(d: Domain, accounts: { domainId: number }[], aliases: { source: string }[]): DomainView {
  return {
    name: d.name,
    accounts: accounts.filter((a) => a.domainId === d.id).length,
    aliases: aliases.filter((a) => a.source.slice(a.source.lastIndexOf("@") + 1) === d.name).length,
    dkimSelector: d.dkimSelector,
  };
}
