/**
 * Inbound (MX) delivery, the SMTP part only: trace fields, sender
 * authentication (SPF, DKIM, DMARC, ARC via mailauth) and the DMARC policy
 * decision, then the shared delivery pipeline (src/delivery/pipeline.ts)
 * commits every local copy and the queue entry for forwards in one
 * transaction, and its outcome becomes the DATA reply. 250 only after that
 * commit; a 4xx leaves nothing behind, so the client's retry delivers each
 * copy exactly once.
 */
import { loadMailauth } from "../../src/delivery/mailauth.ts";
import { canonicalMessage, headerFieldsNamed } from "../../mail/line-endings.ts";
import { oversizedHeaderField } from "../../mail/headers.ts";
import { QuotaExceededError, StorageFullError } from "../../storage/api.ts";
import { createDns, type Dns } from "../../src/delivery/dns.ts";
import { kickQueues } from "../../src/delivery/index.ts";
import { deliverMessage } from "../../src/delivery/pipeline.ts";
import { queueDsnOptions, senderVerifiedByAuth, type SenderAuthResult } from "../../src/delivery/dsn-policy.ts";
import type { InboundAuthVerdict } from "../../src/context.ts";
import { reply, type Reply } from "./parser.ts";
import type { SmtpSession, Transaction } from "./session.ts";
import { prependInPlace } from "./message-buffer.ts";
import { formatScore, stripSpamHeaders } from "../../src/spam/spam-headers.ts";
import type { SpamVerdict } from "../../src/spam/types.ts";
import { readHeaders, receivedHeader, removeRanges } from "./trace.ts";

let dnsCache: { key: string; dns: Dns } | null = null;
function dnsFor(servers: string[]): Dns {
  const key = servers.join(",");
  if (!dnsCache || dnsCache.key !== key) dnsCache = { key, dns: createDns(servers) };
  return dnsCache.dns;
}

interface Verdict {
  headers: string;
  reject: Reply | null;
  junk: boolean;
  /** SPF pass or a DKIM pass for the MAIL FROM domain: decides which delivery reports it may get (src/delivery/dsn-policy.ts). */
  senderVerified?: boolean;
  /** The verdict's parts the delivery hooks may read (src/context.ts InboundAuthVerdict). */
  auth?: InboundAuthVerdict;
}

/**
 * RFC 8601 §5: Authentication-Results fields that claim to come from us
 * (our authserv-id) but arrived with the message are forgeries; remove them.
 */
function stripForgedResults(raw: Uint8Array, authservId: string): Uint8Array {
  const id = authservId.toLowerCase();
  const forged = readHeaders(raw).filter((h) => h.name === "authentication-results" && h.value.split(";")[0]!.trim().toLowerCase().split(/\s/)[0] === id);
  return removeRanges(raw, forged);
}

async function verify(s: SmtpSession, tx: Transaction, raw: Uint8Array): Promise<Verdict> {
  const cfg = s.ctx.config;
  const dns = dnsFor(cfg.queue.dnsServers);
  try {
    const res = await (await loadMailauth()).authenticate(Buffer.from(raw.buffer, raw.byteOffset, raw.length), {
      ip: s.remoteIp,
      helo: s.helo ?? undefined,
      sender: tx.mailFrom || undefined,
      mta: s.hostname,
      resolver: dns.resolve as (name: string, type: string) => Promise<never>,
      disableBimi: true,
    });
    let reject: Reply | null = null;
    let junk = false;
    // Defence in depth: deliverInbound already counted From fields with the store's parser on
    // the same canonical bytes; mailauth's own count must not see more (it would skip DMARC).
    if ((res.dkim?.fromFields ?? 0) > 1) return { headers: res.headers, reject: multipleFrom(), junk };
    const dmarc = res.dmarc as { status?: { result?: string }; policy?: string } | false;
    if (dmarc && dmarc.status?.result === "fail") {
      // RFC 7489 §6.6.3 / RFC 9989: the receiver applies the domain owner's policy.
      if (dmarc.policy === "reject" && cfg.smtp.dmarcReject) {
        reject = reply(550, "5.7.1", "Message rejected: DMARC policy of the sender domain (p=reject)");
      } else if (dmarc.policy === "quarantine" && cfg.smtp.dmarcQuarantine === "junk") {
        junk = true;
      }
    }
    const auth = { spf: res.spf, dkim: res.dkim, dmarc: res.dmarc, arc: (res as { arc?: unknown }).arc } as InboundAuthVerdict;
    tx.verdicts = { ...tx.verdicts, ...verdictWords(auth), junk };
    return { headers: res.headers, reject, junk, senderVerified: senderVerifiedByAuth(res as SenderAuthResult, tx.mailFrom), auth };
  } catch (e) {
    s.log.warn("sender authentication failed to run", { error: (e as Error).message });
    tx.verdicts = { ...tx.verdicts, spf: "temperror", dkim: "temperror", dmarc: "temperror" };
    return { headers: `Authentication-Results: ${s.hostname}; none (checks could not run)\r\n`, reject: null, junk: false };
  }
}

/** The SPF, DKIM and DMARC results in one word each (RFC 8601 §2.7 result names), for the log line. */
function verdictWords(a: InboundAuthVerdict): { spf: string; dkim: string; dmarc: string } {
  const spf = a.spf ? (a.spf.status?.result ?? "none") : "none";
  const dkimResults = a.dkim?.results ?? [];
  // The best result among the signatures: one pass is a pass (RFC 6376 §6.1).
  const dkim = dkimResults.some((r) => r.status?.result === "pass") ? "pass" : (dkimResults[0]?.status?.result ?? "none");
  const dmarc = a.dmarc ? (a.dmarc.status?.result ?? "none") : "none";
  return { spf, dkim, dmarc };
}

/**
 * The spam filter (src/spam/), for unauthenticated mail on the MX port only
 * (submission and authenticated senders are never scored), after sender
 * authentication so it can use the verdict. Never throws (the service
 * guards its parts); null when the filter is off.
 */
async function scoreSpam(s: SmtpSession, tx: Transaction, raw: Uint8Array, verdict: Verdict | null): Promise<SpamVerdict | null> {
  if (!s.ctx.spam.enabled || s.account || s.mode !== "mx") return null;
  const recipients: { accountId: number; address: string }[] = [];
  for (const r of tx.recipients) for (const a of r.accounts) recipients.push({ accountId: a.id, address: r.address });
  if (!recipients.length) return null;
  const spam = await s.ctx.spam.check({ raw, remoteIp: s.remoteIp, helo: s.helo, mailFrom: tx.mailFrom, recipients, auth: verdict?.auth ?? null });
  tx.verdicts = { ...tx.verdicts, spamScore: Math.round(spam.score * 10) / 10, spamBackend: spam.backend, spamMs: Math.round(spam.elapsedMs * 10) / 10 };
  return spam;
}

/** A Sieve reason on one SMTP reply line: control characters out, bounded (RFC 5321 §4.5.3.1.5). */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f]+/g, " ").trim().slice(0, 400);
}

/**
 * When the message goes to exactly one local account and nowhere else, that
 * account's X-Spam-* fields are written with our trace fields (directly below
 * our Received) into the receive buffer's room, and the verdict handed to the
 * pipeline carries none for it: the pipeline would otherwise build the
 * account's copy as a second full copy of the message (src/delivery/
 * pipeline.ts withSpamFields), one more message held in memory per delivery
 * in flight. With several accounts each copy differs, and the pipeline
 * builds them.
 */
function spamFieldsInline(spam: SpamVerdict, recipients: Transaction["recipients"]): { fields: string; verdict: SpamVerdict } | null {
  const accounts = new Set<number>();
  for (const r of recipients) {
    if (r.forward.length > 0) return null;
    for (const a of r.accounts) accounts.add(a.id);
  }
  if (accounts.size !== 1) return null;
  const [id] = accounts;
  const v = spam.accounts.get(id!);
  if (!v?.headers) return null;
  const map = new Map(spam.accounts);
  map.set(id!, { ...v, headers: "" });
  return { fields: v.headers, verdict: { ...spam, accounts: map } };
}

/** RFC 5321 §6.3: a message with this many Received: fields is looping. Postfix uses 50 as well. */
export const MAX_HOPS = 50;
const FROM_AND_RECEIVED = ["from", "received"] as const;

/**
 * RFC 5322 §3.6 allows exactly one From field; with two, DMARC has no single
 * author to check (RFC 7489 §6.6.1: such a message must never pass) while a
 * mail reader shows one of them (ours: the first). OpenDMARC's
 * RejectMultiValueFrom refuses such mail the same way. Applied whether or not
 * inbound verification is on: the display ambiguity exists either way.
 * Sender (at most one as well) is not checked: DMARC does not read it and
 * nothing here trusts it, so a broken Sender costs nobody anything.
 */
const multipleFrom = (): Reply => reply(550, "5.7.1", "Message rejected: it has more than one From header field (RFC 5322 section 3.6)");

export async function deliverInbound(s: SmtpSession, tx: Transaction, received: Uint8Array): Promise<Reply> {
  // Canonical line ends and an explicit end of header, once, before any check and before storing:
  // mailauth, the hop count, the store's index, IMAP ENVELOPE and the webmail then read the same
  // header fields (mail/line-endings.ts says why and how).
  let raw = canonicalMessage(received);
  // One pass of the store's header parser for both checks.
  const fields = headerFieldsNamed(raw, FROM_AND_RECEIVED);
  if (fields.filter((f) => f.key === "from").length > 1) {
    s.log.info("message refused: more than one From field", { from: tx.mailFrom });
    return multipleFrom();
  }
  if (fields.filter((f) => f.key === "received").length >= MAX_HOPS) {
    return reply(554, "5.4.6", "Too many hops: mail forwarding loop");
  }
  // Before sender authentication: mailauth's cost grows with the square of a field's folded lines.
  const oversized = oversizedHeaderField(raw);
  if (oversized) {
    s.log.info("message refused: header field too large", { from: tx.mailFrom });
    // RFC 3463 §3.4: 5.3.4 "message too big for system" (the field, not the whole message).
    return reply(552, "5.3.4", `Message refused: ${oversized}`);
  }
  let verdict: Verdict | null = null;
  if (s.ctx.config.smtp.verifyInbound) {
    raw = stripForgedResults(raw, s.hostname);
    verdict = await verify(s, tx, raw);
    if (verdict.reject) return verdict.reject;
  }
  // A sender must not label its own mail for our filter or a user's rules: X-Spam-* fields that
  // arrive are removed (after DKIM was verified on the bytes as sent, in case a signature covers them).
  raw = stripSpamHeaders(raw);
  const spam = await scoreSpam(s, tx, raw, verdict);
  if (spam?.reject) {
    s.log.info("message refused: spam score at or above spam.reject_score", { score: spam.score, from: tx.mailFrom });
    return reply(550, "5.7.1", `Message rejected as spam (score ${formatScore(spam.score)})`);
  }
  const trace = receivedHeader(s, tx);
  const own = spam ? spamFieldsInline(spam, tx.recipients) : null;
  // RFC 5321 §4.4: our Received goes on top of what arrived; RFC 8601 §5: Authentication-Results
  // is placed above it, as close to the top as possible.
  // Written into the room the receive buffer keeps in front of the message: no second copy of it.
  const message = prependInPlace(raw, Buffer.from((verdict?.headers ?? "") + trace + (own?.fields ?? ""), "utf8"));

  let delivered: { accountIds: number[]; queued: string[]; smtpReject?: string };
  try {
    // Recipients were resolved and checked at RCPT (protocols/smtp/envelope.ts: aliases, catch-all,
    // one-to-many, forwards, a mailbox already full). Junk is filed as such and gets no
    // out-of-office reply (RFC 3834 §2): the hooks run for INBOX deliveries only.
    delivered = await deliverMessage(
      { store: s.ctx.store, filter: s.ctx.deliveryFilter, log: s.log, deliveryHooks: s.ctx.deliveryHooks, kick: kickQueues },
      {
        raw: message,
        envelopeFrom: tx.mailFrom,
        recipients: tx.recipients,
        folder: verdict?.junk ? "Junk" : "INBOX",
        hooks: !verdict?.junk,
        origin: { kind: "inbound", mailFrom: tx.mailFrom, auth: verdict?.auth ?? null },
        // Unverified senders get no success/delay reports and headers-only failure reports (item 9 of issue 13).
        dsn: queueDsnOptions(tx.ret, tx.envid, verdict?.senderVerified === true),
        // Per-account X-Spam-* fields, Sieve spamtest and Junk filing (src/delivery/filter-types.ts).
        spam: own ? own.verdict : spam,
        remoteIp: s.remoteIp,
        // SMTP can still refuse: a Sieve reject of every recipient becomes 550 (RFC 5429 §2.1.1).
        canRefuse: true,
      },
    );
    if (delivered.smtpReject !== undefined) {
      tx.verdicts = { ...tx.verdicts, local: 0, queued: 0 };
      return reply(550, "5.7.1", oneLine(delivered.smtpReject) || "Message rejected by the recipient's filter");
    }
  } catch (e) {
    // The store enforces quotas atomically with the real size (RCPT only knew the declared
    // SIZE). A full mailbox defers the whole message, nothing of it committed; on retry that
    // recipient gets 452 at RCPT.
    if (e instanceof QuotaExceededError) return reply(452, "4.2.2", "Mailbox full, try again later");
    if (e instanceof StorageFullError) return reply(452, "4.3.1", "Insufficient system storage, try again later");
    s.log.error("inbound delivery failed", { error: e as Error });
    tx.verdicts = { ...tx.verdicts, error: (e as Error).message };
    return reply(451, "4.3.0", "Local error in processing, try again later");
  }
  // The "smtp transaction" line (./outcome.ts) records the acceptance with these counts.
  tx.verdicts = { ...tx.verdicts, local: delivered.accountIds.length, queued: delivered.queued.length, junk: verdict?.junk ?? false };
  return reply(250, "2.0.0", `Ok: queued as ${s.id}`);
}
