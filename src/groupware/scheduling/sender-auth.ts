/**
 * Whether the author of an incoming scheduling message is who its From says.
 *
 * An iTIP message rewrites a calendar: a REPLY changes an attendee's answer
 * in the organizer's copy, a CANCEL cancels an attendee's event. A forged
 * From must therefore never be enough (RFC 6047 §3: "the receiving agent
 * must verify that the originator is authorized", RFC 5546 §6.1 spoofing).
 *
 *  - A message from the submit path was sent by an authenticated local
 *    account, and the submit path checked that its From is one of that
 *    account's addresses (src/delivery/index.ts): trusted.
 *  - A message from outside (inbound SMTP) must show that its From domain
 *    authenticated it: a DMARC pass for that domain, or, for a domain with
 *    no DMARC record, a DKIM pass by that domain or a parent of it, or an
 *    SPF pass for a MAIL FROM in exactly that domain (aligned identifiers,
 *    RFC 7489 §3.1; only the parent direction counts, as in
 *    src/delivery/dsn-policy.ts, so no Public Suffix List is needed).
 *  - Without a verdict (inbound checks off, or they could not run) or with
 *    an unknown origin (a delivery report), nothing is trusted unless the
 *    operator chose `remoteAuth: "none"` (policy "none" trusts the From of
 *    any mail that reached the inbox; only for closed test setups).
 */
import type { DeliveryOrigin } from "../../context.ts";

export type RemoteAuthPolicy = "dmarc" | "none";

export type SenderCheck = { ok: true; how: string } | { ok: false; reason: string };

const domainOf = (addr: string) => addr.slice(addr.lastIndexOf("@") + 1).toLowerCase().replace(/\.$/, "");

function underDomain(domain: string, parent: string): boolean {
  const p = parent.toLowerCase().replace(/\.$/, "");
  return p.length > 0 && (domain === p || domain.endsWith("." + p));
}

/** Decides for one message whose From header address is `from` (lower case). */
export function checkSender(origin: DeliveryOrigin | undefined, from: string, policy: RemoteAuthPolicy = "dmarc"): SenderCheck {
  if (origin?.kind === "submit") return { ok: true, how: "local submission" };
  if (policy === "none") return { ok: true, how: "policy none" };
  if (!origin) return { ok: false, reason: "unknown origin (not an authenticated submission nor checked inbound mail)" };
  const auth = origin.auth;
  if (!auth) return { ok: false, reason: "inbound sender authentication did not run (smtp.verifyInbound off?)" };
  const domain = domainOf(from);
  const dmarc = auth.dmarc;
  if (dmarc && dmarc.status?.result === "pass") {
    const d = (dmarc.status.header?.from ?? dmarc.domain ?? "").toLowerCase();
    if (!d || underDomain(domain, d) || underDomain(d, domain)) return { ok: true, how: "dmarc=pass" };
  }
  for (const sig of auth.dkim?.results ?? []) {
    if (sig.status?.result === "pass" && sig.signingDomain && underDomain(domain, sig.signingDomain)) return { ok: true, how: `dkim=pass d=${sig.signingDomain}` };
  }
  const spf = auth.spf;
  if (spf && spf.status?.result === "pass" && (spf.domain ?? "").toLowerCase() === domain && domainOf(origin.mailFrom) === domain) return { ok: true, how: "spf=pass aligned" };
  return { ok: false, reason: `the From domain ${domain} is not authenticated (no DMARC pass, no aligned DKIM or SPF pass)` };
}
