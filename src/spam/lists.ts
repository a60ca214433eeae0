/**
 * Allow and deny lists (per account, per local domain, server-wide). An
 * allow entry only counts for an identity the sender proved: the From
 * address or domain when SPF or DKIM passed aligned with it, or the envelope
 * sender when SPF passed for its domain — a forged From must not walk
 * through an allowlist. A deny entry counts for what the message claims
 * (From, envelope sender): claiming an address someone denied is never a way
 * in. The narrowest scope with a matching entry decides (the account over its
 * domain over the server); inside one scope an address entry beats a domain
 * entry, and deny beats allow.
 */
import type { SpamListEntry } from "../../storage/filter-api.ts";
import type { SpamSymbol } from "./types.ts";

export const LIST_SCORES = { USER_IN_ALLOWLIST: -100, USER_IN_DENYLIST: 100 } as const;

export interface Identity {
  address: string;
  /** Proved by SPF/DKIM (allow entries need this). */
  authenticated: boolean;
}

export type ListDecision = { kind: "allow" | "deny"; entry: SpamListEntry } | null;

/** 2: the address itself, 1: its domain or a parent domain, 0: no match. */
function specificity(pattern: string, address: string): number {
  const a = address.toLowerCase();
  if (pattern.includes("@")) return pattern === a ? 2 : 0;
  const domain = a.slice(a.lastIndexOf("@") + 1);
  return domain === pattern || domain.endsWith("." + pattern) ? 1 : 0;
}

function scopeRank(e: SpamListEntry): number {
  if (e.scope === "global") return 2;
  return "accountId" in e.scope ? 0 : 1;
}

export function decideLists(entries: readonly SpamListEntry[], identities: readonly Identity[]): ListDecision {
  let best: { entry: SpamListEntry; rank: number; spec: number } | null = null;
  for (const e of entries) {
    for (const id of identities) {
      if (!id.address) continue;
      if (e.kind === "allow" && !id.authenticated) continue;
      const spec = specificity(e.pattern, id.address);
      if (!spec) continue;
      const rank = scopeRank(e);
      const better = !best || rank < best.rank || (rank === best.rank && (spec > best.spec || (spec === best.spec && e.kind === "deny" && best.entry.kind === "allow")));
      if (better) best = { entry: e, rank, spec };
    }
  }
  return best ? { kind: best.entry.kind, entry: best.entry } : null;
}

export function listSymbol(d: ListDecision): SpamSymbol | null {
  if (!d) return null;
  const where = d.entry.scope === "global" ? "server" : "accountId" in d.entry.scope ? "account" : `domain ${d.entry.scope.domain}`;
  return d.kind === "allow"
    ? { name: "USER_IN_ALLOWLIST", score: LIST_SCORES.USER_IN_ALLOWLIST, detail: `${d.entry.pattern} on the ${where} allow list` }
    : { name: "USER_IN_DENYLIST", score: LIST_SCORES.USER_IN_DENYLIST, detail: `${d.entry.pattern} on the ${where} deny list` };
}
