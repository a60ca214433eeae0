/**
 * Sender reputation per domain, learned from verdicts (as mox does): when a
 * user trains a message as spam or ham, the domain that authenticated it
 * (SPF/DKIM aligned with From, or SPF for the envelope sender) gets one count
 * of that class; later mail from a domain that authenticated the same way is
 * scored by its history. Only authenticated domains: anyone can claim any
 * From, so an unauthenticated claim must neither earn nor spoil a reputation.
 */
import type { SpamStore } from "../../storage/filter-api.ts";
import type { SpamSymbol } from "./types.ts";

export const REPUTATION_SCORES = { REPUTATION_BAD: 2.5, REPUTATION_GOOD: -1.5 } as const;
/** Verdicts a domain needs before its history counts. */
const MIN_VERDICTS = 3;

export async function reputationRule(store: SpamStore, domain: string | null): Promise<SpamSymbol | null> {
  if (!domain) return null;
  const r = await store.reputation(domain);
  if (!r) return null;
  const total = r.spam + r.ham;
  // Decay makes fresh counts a hair under whole numbers: three verdicts of this week count as three.
  if (total < MIN_VERDICTS - 0.05) return null;
  const ratio = r.spam / total;
  const detail = `${domain}: ${r.spam.toFixed(1)} spam, ${r.ham.toFixed(1)} ham`;
  if (ratio >= 0.8) return { name: "REPUTATION_BAD", score: REPUTATION_SCORES.REPUTATION_BAD, detail };
  if (ratio <= 0.1) return { name: "REPUTATION_GOOD", score: REPUTATION_SCORES.REPUTATION_GOOD, detail };
  return null;
}

/** True when the domain has a good history (greylisting lets it through at once). */
export async function goodReputation(store: SpamStore, domain: string | null): Promise<boolean> {
  return (await reputationRule(store, domain))?.name === "REPUTATION_GOOD";
}

/**
 * The domain a stored message proved, read back from our own
 * Authentication-Results field (RFC 8601; `authservId` is our host name):
 * the From domain when a DKIM pass (header.d) or SPF pass (smtp.mailfrom)
 * aligns with it. Fields from other hosts are not trusted.
 */
export function authenticatedDomainOf(fields: readonly { key: string; value: string }[], authservId: string, fromDomain: string | null): string | null {
  if (!fromDomain) return null;
  const id = authservId.toLowerCase();
  const proved: string[] = [];
  for (const f of fields) {
    if (f.key !== "authentication-results") continue;
    const v = f.value.slice(0, 8192);
    if (v.split(";")[0]!.trim().toLowerCase().split(/\s/)[0] !== id) continue;
    for (const part of v.split(";").slice(1, 50)) {
      const p = part.trim().toLowerCase();
      const dkim = /^dkim=pass\b.*\bheader\.d=([a-z0-9.-]+)/.exec(p);
      if (dkim) proved.push(dkim[1]!);
      const spf = /^spf=pass\b.*\bsmtp\.mailfrom=(?:[^@\s]*@)?([a-z0-9.-]+)/.exec(p);
      if (spf) proved.push(spf[1]!);
    }
  }
  const f = fromDomain.toLowerCase();
  return proved.some((d) => d === f || f.endsWith("." + d) || d.endsWith("." + f)) ? f : null;
}
