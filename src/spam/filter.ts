/**
 * The built-in scorer: one bounded read of the message (./scan.ts), the
 * message-level rules (GTUBE, sender authentication, header, MIME and link
 * heuristics, DNS lists, the authenticated domain's reputation) and then, per
 * recipient account, its Bayes opinion (./bayes.ts, S6's classifier) and its
 * allow/deny lists. Every part is guarded: a rule that throws is logged and
 * adds nothing, so scoring never stops a delivery.
 */
import type { Config } from "../config-types.ts";
import type { Logger } from "../log.ts";
import type { SpamStore } from "../../storage/filter-api.ts";
import type { AccountSpamVerdict, BayesClassifier, SpamCheckInput, SpamSymbol, SpamVerdict } from "./types.ts";
import { scanMessage } from "./scan.ts";
import { gtubeRule } from "./gtube.ts";
import { authFacts, authRules, domainAuthenticated } from "./rules-auth.ts";
import { fromAddress, headerRules } from "./rules-headers.ts";
import { mimeRules } from "./rules-mime.ts";
import { urlRules } from "./rules-urls.ts";
import type { DnsLists } from "./dnsbl.ts";
import { reputationRule } from "./reputation.ts";
import { decideLists, listSymbol, type Identity } from "./lists.ts";
import { spamtestOf, statusHeaders } from "./spam-headers.ts";

export interface ScorerDeps {
  spam: () => Config["spam"];
  store: SpamStore;
  bayes: BayesClassifier | null;
  dnsLists: DnsLists;
  /** Local domains, lower-case (the From-in-our-domain rule); re-read by the caller now and then. */
  localDomains: () => Promise<ReadonlySet<string>>;
  /** An account's domain (its address's), for the domain-wide Bayes model and the domain lists. */
  accountDomain: (accountId: number, address: string) => Promise<string>;
  log: Logger;
}

function domainOf(addr: string | null | undefined): string | null {
  if (!addr) return null;
  const at = addr.lastIndexOf("@");
  return at >= 0 ? addr.slice(at + 1).toLowerCase() : null;
}

const sum = (symbols: readonly SpamSymbol[]) => Math.round(symbols.reduce((a, s) => a + (Number.isFinite(s.score) ? s.score : 0), 0) * 1000) / 1000;

/** Runs `fn`; a failure is logged and counts as "nothing found". */
async function guarded<T>(log: Logger, rule: string, fallback: T, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    log.warn("spam rule failed", { rule, error: (e as Error).message });
    return fallback;
  }
}

/** `guarded` for the synchronous rules: no promise and no turn of the event loop per rule. */
function guardedSync<T>(log: Logger, rule: string, fallback: T, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    log.warn("spam rule failed", { rule, error: (e as Error).message });
    return fallback;
  }
}

/** What the message-level part found, for the per-account part and for the CLI's report. */
export interface MessageScore {
  symbols: SpamSymbol[];
  fromAddress: string | null;
  /** Identities allow/deny entries are matched against. */
  identities: Identity[];
  tokens: string[] | null;
}

export async function scoreMessage(deps: ScorerDeps, input: SpamCheckInput): Promise<MessageScore> {
  const cfg = deps.spam();
  const log = deps.log;
  const view = guardedSync(log, "scan", null, () => scanMessage(input.raw, cfg.maxScanBytes));
  const facts = authFacts(input.auth);
  const locals = await guarded(log, "local-domains", new Set<string>() as ReadonlySet<string>, () => deps.localDomains());
  const symbols: SpamSymbol[] = [];
  let from: { address: string | null; domain: string | null } = { address: null, domain: null };
  let hosts: string[] = [];
  if (view) {
    symbols.push(...guardedSync(log, "gtube", [], () => gtubeRule(view)));
    symbols.push(...guardedSync(log, "headers", [], () => headerRules(view, { facts, isLocalDomain: (d) => locals.has(d), now: Date.now() })));
    symbols.push(...guardedSync(log, "mime", [], () => mimeRules(view)));
    const urls = guardedSync(log, "urls", { symbols: [], hosts: [] }, () => urlRules(view));
    symbols.push(...urls.symbols);
    hosts = urls.hosts;
    from = guardedSync(log, "from", from, () => fromAddress(view));
  }
  symbols.push(...guardedSync(log, "auth", [], () => authRules(input.auth)));

  const envelopeDomain = domainOf(input.mailFrom);
  const fromAuthenticated = domainAuthenticated(from.domain, facts);
  const envelopeAuthenticated = !!(envelopeDomain && facts.spfPassDomain && facts.spfPassDomain === envelopeDomain);
  // The domain this message proved it comes from, for reputation.
  const provedDomain = fromAuthenticated ? from.domain : envelopeAuthenticated ? envelopeDomain : null;

  // All network lookups of the message at once: IP lists, domain lists, reputation, Bayes tokens.
  const listDomains = [from.domain, envelopeDomain, ...hosts].filter((d): d is string => !!d && !locals.has(d));
  const [ipSymbols, domainSymbols, rep, tokens] = await Promise.all([
    guarded(log, "dnsbl", [] as SpamSymbol[], () => deps.dnsLists.checkIp(input.remoteIp, cfg.dnsBlocklists, cfg.dnsAllowlists, cfg.dnsTimeoutMs)),
    guarded(log, "dbl", [] as SpamSymbol[], () => deps.dnsLists.checkDomains(listDomains, cfg.domainBlocklists, cfg.dnsTimeoutMs)),
    guarded(log, "reputation", null, () => reputationRule(deps.store, provedDomain)),
    guarded(log, "bayes-tokens", null, () => (deps.bayes ? deps.bayes.tokenize(input.raw, cfg.maxScanBytes) : null)),
  ]);
  symbols.push(...ipSymbols, ...domainSymbols);
  if (rep) symbols.push(rep);

  const identities: Identity[] = [];
  if (from.address) identities.push({ address: from.address, authenticated: fromAuthenticated });
  if (input.mailFrom) identities.push({ address: input.mailFrom.toLowerCase(), authenticated: envelopeAuthenticated });
  return { symbols, fromAddress: from.address, identities, tokens };
}

/** One account's verdict: the message's symbols plus its Bayes and list symbols. */
export async function scoreAccount(deps: ScorerDeps, msg: MessageScore, accountId: number, address: string): Promise<AccountSpamVerdict> {
  const cfg = deps.spam();
  const log = deps.log;
  const symbols = [...msg.symbols];
  const domain = await guarded(log, "account-domain", domainOf(address) ?? "", () => deps.accountDomain(accountId, address));
  if (deps.bayes && msg.tokens && msg.tokens.length) {
    const bayes = deps.bayes;
    const tokens = msg.tokens;
    const sym = await guarded(log, "bayes", null, async () => {
      const r = await bayes.classify(accountId, domain, tokens);
      return r ? bayes.symbol(r.probability) : null;
    });
    if (sym) symbols.push(sym);
  }
  const decision = await guarded(log, "lists", null, async () => decideLists(await deps.store.entriesFor(accountId, domain), msg.identities));
  const ls = listSymbol(decision);
  if (ls) symbols.push(ls);
  return accountVerdict(symbols, cfg.junkScore, decision?.kind ?? null);
}

export function accountVerdict(symbols: SpamSymbol[], junkScore: number, list: "allow" | "deny" | null): AccountSpamVerdict {
  const score = sum(symbols);
  const isSpam = list === "allow" ? false : list === "deny" ? true : score >= junkScore;
  const { spamtest, percent } = spamtestOf(score, junkScore, isSpam);
  return { score, isSpam, spamtest, percent, symbols, headers: statusHeaders(score, junkScore, isSpam, symbols) };
}

/** The whole built-in check. Never throws. */
export async function builtinCheck(deps: ScorerDeps, input: SpamCheckInput): Promise<SpamVerdict> {
  const started = performance.now();
  const cfg = deps.spam();
  const msg = await scoreMessage(deps, input);
  const accounts = new Map<number, AccountSpamVerdict>();
  const seen = new Set<number>();
  const list = input.recipients.filter((r) => (seen.has(r.accountId) ? false : (seen.add(r.accountId), true)));
  const verdicts = await Promise.all(list.map((r) => scoreAccount(deps, msg, r.accountId, r.address)));
  list.forEach((r, i) => accounts.set(r.accountId, verdicts[i]!));
  const score = sum(msg.symbols);
  // Refused at SMTP only when every recipient's own score is at or above rejectScore and no allow entry saved it.
  const reject = cfg.rejectScore !== null && verdicts.length > 0 && verdicts.every((v) => v.isSpam && v.score >= cfg.rejectScore!);
  return { backend: "builtin", score, symbols: msg.symbols, reject, accounts, elapsedMs: performance.now() - started };
}
