/**
 * Who may receive which delivery report, and with how much of the message.
 *
 * An MX accepts mail from anyone, and the envelope sender of an
 * unauthenticated message is only a claim. A report to a forged sender is
 * backscatter; one that carries the message back (RET=FULL) turns us into a
 * reflector that delivers an attacker's content to a victim from our IP.
 * So, as Postfix limits it (no success notices for mail it cannot attribute,
 * bounces that return headers only when configured so), we decide per queue
 * entry:
 *
 *  - Failure reports are an obligation (RFC 5321 §6.2: a server that
 *    accepted a message must report its failure to the reverse-path), so
 *    they always go to the envelope sender when NOTIFY allows; to an
 *    unverified sender they return the header only (RFC 3464 §2.1
 *    text/rfc822-headers), whatever RET asked for.
 *  - Success ("relayed", "delivered") and delay reports are a courtesy the
 *    sender asked for with NOTIFY=SUCCESS/DELAY (RFC 3461 §4.1). We send them
 *    only to a verified sender. This is a deliberate limitation: an
 *    unverified sender that asked for them gets none, with no error at RCPT.
 *  - Success and delay reports return the header only even then: RET governs
 *    failure reports (RFC 3461 §4.3), and a delay or success notice needs no
 *    copy of the message.
 *
 * A sender is verified when the message came through an authenticated
 * submission, or when the MAIL FROM domain itself has an SPF pass (RFC 7208
 * checks exactly that domain) or a DKIM pass whose d= is that domain or a
 * parent of it. Only the parent direction counts: whoever controls the DNS of
 * a parent controls its subdomains, while a signer for a subdomain (or a
 * sibling under a shared suffix) says nothing about the parent. That is
 * stricter than DMARC's relaxed alignment and needs no Public Suffix List.
 */
import type { QueueEntry } from "../../storage/api.ts";

export type ReturnContent = "FULL" | "HDRS";

export interface ReportPolicy {
  /** NOTIFY=SUCCESS and NOTIFY=DELAY are honoured. */
  successAndDelay: boolean;
  /** What a failure report returns: RET for a verified sender, HDRS otherwise. */
  failureReturn: ReturnContent;
}

export function reportPolicy(entry: Pick<QueueEntry, "dsn">): ReportPolicy {
  const verified = entry.dsn?.senderVerified === true;
  return {
    successAndDelay: verified,
    // RFC 3461 §4.3: without RET the choice is ours; full content for a verified sender (Postfix's default).
    failureReturn: verified ? (entry.dsn?.ret ?? "FULL") : "HDRS",
  };
}

/**
 * The DSN parameters passed on to a next hop that supports DSN: it then
 * reports in our stead, so the same limits apply. For an unverified sender,
 * NOTIFY loses SUCCESS and DELAY (a list left empty becomes NEVER, which
 * keeps "no failure report" as asked) and RET becomes HDRS.
 */
export function onwardDsn(policy: ReportPolicy, entry: Pick<QueueEntry, "dsn">, notify: string[] | undefined): { ret?: ReturnContent; envid?: string; notify?: string[] } {
  const envid = entry.dsn?.envid;
  if (policy.successAndDelay) return { ret: entry.dsn?.ret, envid, notify };
  const kept = notify?.filter((n) => n !== "SUCCESS" && n !== "DELAY");
  return {
    ret: entry.dsn?.ret ? "HDRS" : undefined,
    envid,
    notify: notify === undefined ? undefined : kept!.length ? kept : ["NEVER"],
  };
}

/** The DSN options a queue entry stores: RET/ENVID as given, plus whether the sender is verified. */
export function queueDsnOptions(ret: ReturnContent | null | undefined, envid: string | null | undefined, senderVerified: boolean): QueueEntry["dsn"] {
  const out: NonNullable<QueueEntry["dsn"]> = {};
  if (ret) out.ret = ret;
  if (envid) out.envid = envid;
  if (senderVerified) out.senderVerified = true;
  return Object.keys(out).length ? out : null;
}

/** The parts of mailauth's `authenticate()` result read here (its typings describe them loosely). */
export interface SenderAuthResult {
  spf?: { domain?: string; status?: { result?: string } } | false | null;
  dkim?: { results?: { signingDomain?: string; status?: { result?: string } }[] } | null;
}

const domainOf = (addr: string) => addr.slice(addr.lastIndexOf("@") + 1).toLowerCase().replace(/\.$/, "");

/** Whether `domain` is `signer` or a subdomain of it. */
function underSigner(domain: string, signer: string): boolean {
  const d = signer.toLowerCase().replace(/\.$/, "");
  return d.length > 0 && (domain === d || domain.endsWith("." + d));
}

/**
 * True when the MAIL FROM domain is proven by SPF pass or a DKIM pass for
 * that domain or a parent of it (see the module comment). A null
 * reverse-path is never verified: nothing is ever reported to it anyway.
 */
export function senderVerifiedByAuth(result: SenderAuthResult, mailFrom: string): boolean {
  if (!mailFrom || !mailFrom.includes("@")) return false;
  const domain = domainOf(mailFrom);
  const spf = result.spf;
  if (spf && spf.status?.result === "pass" && (spf.domain ?? "").toLowerCase() === domain) return true;
  for (const sig of result.dkim?.results ?? []) {
    if (sig.status?.result === "pass" && sig.signingDomain && underSigner(domain, sig.signingDomain)) return true;
  }
  return false;
}
