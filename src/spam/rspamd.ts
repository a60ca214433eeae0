/**
 * The rspamd backend (spam.backend = "rspamd"): the message goes to an
 * existing rspamd's normal worker over its HTTP protocol (POST /checkv2, the
 * envelope in request headers: Ip, Helo, From, one Rcpt per recipient,
 * Queue-Id, Pass: all), and its JSON answer (score, required_score, action,
 * symbols) becomes a SpamVerdict. rspamd's action decides Junk ("add header",
 * "rewrite subject", "reject") and, only when the administrator turned SMTP
 * refusal on (spam.reject_score set), "reject" refuses with 550 5.7.1. Our
 * own allow/deny lists still apply per account. rspamd down, slow (more than
 * RSPAMD_TIMEOUT_MS) or answering nonsense: logged, delivered unscored.
 */
import type { Config } from "../config-types.ts";
import type { Logger } from "../log.ts";
import type { SpamStore } from "../../storage/filter-api.ts";
import type { AccountSpamVerdict, SpamCheckInput, SpamSymbol, SpamVerdict } from "./types.ts";
import { accountVerdict } from "./filter.ts";
import { decideLists, listSymbol, type Identity } from "./lists.ts";
import { authFacts, domainAuthenticated } from "./rules-auth.ts";
import { scanMessage } from "./scan.ts";
import { fromAddress } from "./rules-headers.ts";
import { spamtestOf, statusHeaders } from "./spam-headers.ts";

export const RSPAMD_TIMEOUT_MS = 15_000;
/** Octets of rspamd's answer read (its JSON is a few KB; a wrong URL must not stream us a disk image). */
const MAX_ANSWER = 1024 * 1024;
const SPAM_ACTIONS = new Set(["add header", "rewrite subject", "reject"]);

export interface RspamdAnswer {
  score: number;
  requiredScore: number | null;
  action: string;
  symbols: SpamSymbol[];
}

/** Parses rspamd's checkv2 JSON; null when it is not one. */
export function parseRspamdAnswer(json: unknown): RspamdAnswer | null {
  if (!json || typeof json !== "object") return null;
  const j = json as { score?: unknown; required_score?: unknown; action?: unknown; symbols?: unknown };
  if (typeof j.score !== "number" || !Number.isFinite(j.score) || typeof j.action !== "string") return null;
  const symbols: SpamSymbol[] = [];
  if (j.symbols && typeof j.symbols === "object") {
    for (const [key, v] of Object.entries(j.symbols as Record<string, unknown>).slice(0, 500)) {
      const s = v as { name?: unknown; score?: unknown; description?: unknown; options?: unknown };
      const name = (typeof s?.name === "string" ? s.name : key).slice(0, 80);
      const score = typeof s?.score === "number" && Number.isFinite(s.score) ? s.score : 0;
      const opts = Array.isArray(s?.options) ? s.options.filter((o): o is string => typeof o === "string").slice(0, 3).join(", ") : "";
      const desc = typeof s?.description === "string" ? s.description : "";
      symbols.push({ name, score, ...(desc || opts ? { detail: [desc, opts].filter(Boolean).join(": ").slice(0, 200) } : {}) });
    }
  }
  return { score: j.score, requiredScore: typeof j.required_score === "number" ? j.required_score : null, action: j.action, symbols };
}

export interface RspamdDeps {
  spam: () => Config["spam"];
  store: SpamStore;
  accountDomain: (accountId: number, address: string) => Promise<string>;
  log: Logger;
}

/** One checkv2 request; throws on transport errors, timeouts, non-200 and unreadable answers. */
export async function askRspamd(cfg: Config["spam"], input: SpamCheckInput, queueId?: string): Promise<RspamdAnswer> {
  const headers = new Headers({ "Content-Type": "message/rfc822", Pass: "all" });
  if (input.remoteIp) headers.set("Ip", input.remoteIp);
  if (input.helo) headers.set("Helo", input.helo.replace(/[\r\n]/g, "").slice(0, 255));
  if (input.mailFrom) headers.set("From", input.mailFrom);
  for (const r of input.recipients.slice(0, 100)) headers.append("Rcpt", r.address);
  if (queueId) headers.set("Queue-Id", queueId);
  if (cfg.rspamdPassword) headers.set("Password", cfg.rspamdPassword);
  const url = cfg.rspamdUrl.replace(/\/+$/, "") + "/checkv2";
  const res = await fetch(url, { method: "POST", headers, body: input.raw as Uint8Array<ArrayBuffer> /* the message bytes; TS types fetch bodies as ArrayBuffer-backed views */, signal: AbortSignal.timeout(RSPAMD_TIMEOUT_MS) });
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new Error(`rspamd answered HTTP ${res.status}`);
  }
  const len = Number(res.headers.get("content-length") ?? "0");
  if (len > MAX_ANSWER) {
    await res.body?.cancel();
    throw new Error("rspamd answer too large");
  }
  const text = await res.text();
  if (text.length > MAX_ANSWER) throw new Error("rspamd answer too large");
  const parsed = parseRspamdAnswer(JSON.parse(text));
  if (!parsed) throw new Error("rspamd answer is not a checkv2 result");
  return parsed;
}

export async function rspamdCheck(deps: RspamdDeps, input: SpamCheckInput): Promise<SpamVerdict> {
  const started = performance.now();
  const cfg = deps.spam();
  let answer: RspamdAnswer;
  try {
    answer = await askRspamd(cfg, input);
  } catch (e) {
    deps.log.warn("rspamd check failed: message delivered unscored", { url: cfg.rspamdUrl, error: (e as Error).message });
    return { backend: "rspamd", score: 0, symbols: [], reject: false, accounts: new Map(), elapsedMs: performance.now() - started };
  }
  const spamByAction = SPAM_ACTIONS.has(answer.action);
  // Our allow/deny lists per account, with the same rule as the built-in filter: allow only for an authenticated sender.
  const facts = authFacts(input.auth);
  let from: { address: string | null; domain: string | null } = { address: null, domain: null };
  try {
    from = fromAddress(scanMessage(input.raw, 0));
  } catch {
    // an unreadable header: no From identity
  }
  const envDomain = input.mailFrom.includes("@") ? input.mailFrom.slice(input.mailFrom.lastIndexOf("@") + 1).toLowerCase() : null;
  const identities: Identity[] = [];
  if (from.address) identities.push({ address: from.address, authenticated: domainAuthenticated(from.domain, facts) });
  if (input.mailFrom) identities.push({ address: input.mailFrom.toLowerCase(), authenticated: !!envDomain && facts.spfPassDomain === envDomain });
  const accounts = new Map<number, AccountSpamVerdict>();
  for (const r of input.recipients) {
    if (accounts.has(r.accountId)) continue;
    let decision: ReturnType<typeof decideLists> = null;
    try {
      decision = decideLists(await deps.store.entriesFor(r.accountId, await deps.accountDomain(r.accountId, r.address)), identities);
    } catch (e) {
      deps.log.warn("spam lists unreadable", { error: (e as Error).message });
    }
    const ls = listSymbol(decision);
    const symbols = ls ? [...answer.symbols, ls] : answer.symbols;
    if (decision) {
      accounts.set(r.accountId, accountVerdict(symbols, cfg.junkScore, decision.kind));
      continue;
    }
    const score = Math.round(answer.score * 1000) / 1000;
    const { spamtest, percent } = spamtestOf(score, cfg.junkScore, spamByAction);
    accounts.set(r.accountId, { score, isSpam: spamByAction, spamtest, percent, symbols, headers: statusHeaders(score, cfg.junkScore, spamByAction, symbols) });
  }
  const reject = answer.action === "reject" && cfg.rejectScore !== null && [...accounts.values()].every((v) => v.isSpam);
  return { backend: "rspamd", score: answer.score, symbols: answer.symbols, reject, accounts, elapsedMs: performance.now() - started };
}
