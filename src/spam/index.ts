/**
 * The spam filter as the kernel carries it (`ctx.spam`, SpamService in
 * ./types.ts): the built-in scorer (./filter.ts) or rspamd (./rspamd.ts),
 * RCPT-time greylisting (./greylist.ts), and training (S6's classifier for
 * the Bayes half, sender reputation here).
 */
import { createDns } from "../delivery/dns.ts";
import type { Config } from "../config-types.ts";
import type { Logger } from "../log.ts";
import type { MailStore } from "../../storage/api.ts";
import type { SpamStore } from "../../storage/filter-api.ts";
import { parseHeaderBlock, headerEnd } from "../../mail/index.ts";
import type { BayesClassifier, SpamCheckInput, SpamService, SpamVerdict } from "./types.ts";
import { builtinCheck, type ScorerDeps } from "./filter.ts";
import { rspamdCheck } from "./rspamd.ts";
import { DnsLists } from "./dnsbl.ts";
import { GREYLIST_PASS_TTL_MS, greylistKey } from "./greylist.ts";
import { authenticatedDomainOf, goodReputation } from "./reputation.ts";
import { decideLists } from "./lists.ts";
import { bayesKey } from "./bayes.ts";

export interface SpamServiceDeps {
  /** The live configuration (a reload changes thresholds and zones in place). */
  config: () => Config;
  store: SpamStore;
  mail: Pick<MailStore, "listDomains" | "getAccountById">;
  bayes: BayesClassifier | null;
  log: Logger;
  /** Tests: a resolver instead of config.queue.dnsServers. */
  dnsLists?: DnsLists;
}

/** Local domains are re-read at most this often for the From-in-our-domain rule. */
const DOMAINS_TTL_MS = 30_000;
/**
 * An account's domain (for its domain's lists and Bayes model) is asked for every
 * recipient of every message; accounts never change address, so it is kept this long
 * (a removed account's id answers its old domain meanwhile: no mail reaches it) for at
 * most ACCOUNT_DOMAINS accounts.
 */
const ACCOUNT_DOMAIN_TTL_MS = 30_000;
const ACCOUNT_DOMAINS = 10_000;

const unscored = (backend: "builtin" | "rspamd"): SpamVerdict => ({ backend, score: 0, symbols: [], reject: false, accounts: new Map(), elapsedMs: 0 });

export function createSpamService(deps: SpamServiceDeps): SpamService & { scorer: ScorerDeps } {
  const log = deps.log.child({ component: "spam" });
  let dnsKey = "";
  let dnsLists: DnsLists | null = deps.dnsLists ?? null;
  const lists = (): DnsLists => {
    if (deps.dnsLists) return deps.dnsLists;
    const servers = deps.config().queue.dnsServers;
    const key = servers.join(",");
    if (!dnsLists || key !== dnsKey) {
      dnsKey = key;
      dnsLists = new DnsLists({ dns: createDns(servers), log });
    }
    return dnsLists;
  };
  let domains: { at: number; set: ReadonlySet<string> } | null = null;
  const localDomains = async (): Promise<ReadonlySet<string>> => {
    if (domains && Date.now() - domains.at < DOMAINS_TTL_MS) return domains.set;
    const set = new Set((await deps.mail.listDomains()).map((d) => d.name.toLowerCase()));
    domains = { at: Date.now(), set };
    return set;
  };
  const accountDomains = new Map<number, { at: number; domain: string }>();
  const accountDomain = async (accountId: number, address: string): Promise<string> => {
    const now = Date.now();
    const hit = accountDomains.get(accountId);
    if (hit && now - hit.at < ACCOUNT_DOMAIN_TTL_MS && now >= hit.at) return hit.domain;
    const a = await deps.mail.getAccountById(accountId);
    const email = a?.email ?? address;
    const domain = email.slice(email.lastIndexOf("@") + 1).toLowerCase();
    // an unknown account is not remembered (its answer is the address's domain, not its own)
    if (a) {
      accountDomains.delete(accountId);
      if (accountDomains.size >= ACCOUNT_DOMAINS) accountDomains.delete(accountDomains.keys().next().value!);
      accountDomains.set(accountId, { at: now, domain });
    }
    return domain;
  };
  const scorer: ScorerDeps = {
    spam: () => deps.config().spam,
    store: deps.store,
    bayes: deps.bayes,
    get dnsLists() {
      return lists();
    },
    localDomains,
    accountDomain,
    log,
  };

  return {
    scorer,
    get enabled() {
      return deps.config().spam.enabled;
    },
    async check(input: SpamCheckInput): Promise<SpamVerdict> {
      const cfg = deps.config().spam;
      try {
        if (cfg.backend === "rspamd") return await rspamdCheck({ spam: () => cfg, store: deps.store, accountDomain, log }, input);
        return await builtinCheck(scorer, input);
      } catch (e) {
        // The parts are guarded; this is the last line: scoring never stops a delivery.
        log.error("spam check failed: message delivered unscored", { error: (e as Error).message });
        return unscored(cfg.backend);
      }
    },
    async greylist(input: { remoteIp: string; mailFrom: string; recipient: string; accountId: number }): Promise<"pass" | "defer"> {
      const cfg = deps.config().spam;
      if (!cfg.enabled || !cfg.greylisting) return "pass";
      try {
        // Known good senders pass at once: allow-listed envelope senders, DNS-allowlisted IPs, domains with a good reputation.
        const domain = await accountDomain(input.accountId, input.recipient);
        const entries = await deps.store.entriesFor(input.accountId, domain);
        if (input.mailFrom && decideLists(entries, [{ address: input.mailFrom, authenticated: true }])?.kind === "allow") return "pass";
        const senderDomain = input.mailFrom.includes("@") ? input.mailFrom.slice(input.mailFrom.lastIndexOf("@") + 1) : null;
        if (await goodReputation(deps.store, senderDomain)) return "pass";
        if (cfg.dnsAllowlists.length && (await lists().ipAllowed(input.remoteIp, cfg.dnsAllowlists, cfg.dnsTimeoutMs))) return "pass";
        const state = await deps.store.greylist(greylistKey(input.remoteIp, input.mailFrom, input.recipient), Date.now(), cfg.greylistDelaySeconds * 1000, GREYLIST_PASS_TTL_MS);
        return state === "pass" ? "pass" : "defer";
      } catch (e) {
        // Greylisting is an optimisation: when its state cannot be read, accept.
        log.warn("greylisting failed: recipient accepted", { error: (e as Error).message });
        return "pass";
      }
    },
    async train(accountId: number, raw: Uint8Array, as: "spam" | "ham" | null): Promise<void> {
      const cfg = deps.config();
      try {
        const account = await deps.mail.getAccountById(accountId);
        const domain = account ? account.email.slice(account.email.lastIndexOf("@") + 1).toLowerCase() : "";
        if (deps.bayes) {
          const tokens = deps.bayes.tokenize(raw, cfg.spam.maxScanBytes);
          await deps.bayes.train(accountId, domain, bayesKey(raw), tokens, as);
        }
        // Reputation learns from verdicts only (untraining does not subtract: counts decay instead).
        if (as) {
          const end = headerEnd(raw);
          const fields = parseHeaderBlock(raw, 0, end < 0 ? raw.length : end).fields;
          const from = fields.find((f) => f.key === "from")?.value ?? "";
          const m = /@([a-z0-9.-]+)/i.exec(from.slice(0, 1000));
          const proved = authenticatedDomainOf(fields, cfg.hostname, m ? m[1]!.toLowerCase() : null);
          if (proved) await deps.store.noteReputation(proved, as, Date.now());
        }
      } catch (e) {
        log.warn("spam training failed", { accountId, error: (e as Error).message });
      }
    },
    close() {
      dnsLists = null;
    },
  };
}
