/**
 * Symbols from the sender authentication SMTP already ran (mailauth's
 * verdict: SPF RFC 7208, DKIM RFC 6376, DMARC RFC 7489, ARC RFC 8617). A pass
 * gives a few negative points, a failure positive ones; DMARC's own policy
 * (reject/quarantine) is applied by SMTP before scoring and not counted twice.
 * Also which domains the sender proved it speaks for (./lists.ts and
 * ./reputation.ts trust only those).
 */
import type { InboundAuthVerdict } from "../context.ts";
import type { SpamSymbol } from "./types.ts";

export const AUTH_SCORES = {
  SPF_PASS: -0.1,
  SPF_FAIL: 2.0,
  SPF_SOFTFAIL: 0.9,
  SPF_PERMERROR: 0.5,
  DKIM_PASS: -0.1,
  DKIM_FAIL: 1.0,
  DMARC_PASS: -0.5,
  DMARC_FAIL: 2.5,
  ARC_PASS: -0.1,
  ARC_FAIL: 0.5,
} as const;

export interface AuthFacts {
  /** The MAIL FROM / HELO domain SPF passed for, lower-case, or null. */
  spfPassDomain: string | null;
  /** Signing domains (d=) with a DKIM pass, lower-case. */
  dkimPassDomains: string[];
  dmarcPass: boolean;
}

function lc(s: string | undefined | null): string | null {
  return s ? s.toLowerCase() : null;
}

export function authFacts(auth: InboundAuthVerdict | null): AuthFacts {
  const spfOk = auth?.spf && auth.spf.status?.result === "pass";
  const dkim = (auth?.dkim?.results ?? []).filter((r) => r.status?.result === "pass").map((r) => lc(r.signingDomain)).filter((d): d is string => !!d);
  const dmarcPass = !!(auth?.dmarc && auth.dmarc.status?.result === "pass");
  return { spfPassDomain: spfOk && auth?.spf ? lc(auth.spf.domain) : null, dkimPassDomains: [...new Set(dkim)], dmarcPass };
}

/** True when `domain` is `authDomain` or one of its subdomains, or the reverse (RFC 7489 §3.1 relaxed alignment, without the public suffix list). */
export function aligned(domain: string, authDomain: string): boolean {
  const a = domain.toLowerCase();
  const b = authDomain.toLowerCase();
  return a === b || a.endsWith("." + b) || b.endsWith("." + a);
}

/** A domain (of From, of the envelope sender) the message proved: SPF or DKIM pass aligned with it. */
export function domainAuthenticated(domain: string | null, facts: AuthFacts): boolean {
  if (!domain) return false;
  if (facts.spfPassDomain && aligned(domain, facts.spfPassDomain)) return true;
  return facts.dkimPassDomains.some((d) => aligned(domain, d));
}

export function authRules(auth: InboundAuthVerdict | null): SpamSymbol[] {
  if (!auth) return [];
  const out: SpamSymbol[] = [];
  const spf = auth.spf ? auth.spf.status?.result : undefined;
  if (spf === "pass") out.push({ name: "SPF_PASS", score: AUTH_SCORES.SPF_PASS });
  else if (spf === "fail") out.push({ name: "SPF_FAIL", score: AUTH_SCORES.SPF_FAIL, detail: `SPF fail for ${auth.spf ? (auth.spf.domain ?? "?") : "?"}` });
  else if (spf === "softfail") out.push({ name: "SPF_SOFTFAIL", score: AUTH_SCORES.SPF_SOFTFAIL });
  else if (spf === "permerror") out.push({ name: "SPF_PERMERROR", score: AUTH_SCORES.SPF_PERMERROR });
  const results = auth.dkim?.results ?? [];
  if (results.some((r) => r.status?.result === "pass")) out.push({ name: "DKIM_PASS", score: AUTH_SCORES.DKIM_PASS });
  else if (results.some((r) => r.status?.result === "fail" || r.status?.result === "neutral")) out.push({ name: "DKIM_FAIL", score: AUTH_SCORES.DKIM_FAIL, detail: "no DKIM signature verified" });
  const dmarc = auth.dmarc ? auth.dmarc.status?.result : undefined;
  if (dmarc === "pass") out.push({ name: "DMARC_PASS", score: AUTH_SCORES.DMARC_PASS });
  else if (dmarc === "fail") out.push({ name: "DMARC_FAIL", score: AUTH_SCORES.DMARC_FAIL });
  const arc = auth.arc ? auth.arc.status?.result : undefined;
  if (arc === "pass") out.push({ name: "ARC_PASS", score: AUTH_SCORES.ARC_PASS });
  else if (arc === "fail") out.push({ name: "ARC_FAIL", score: AUTH_SCORES.ARC_FAIL });
  return out;
}
