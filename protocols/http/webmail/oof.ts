/**
 * Out-of-office auto-replies: the decision and the message, as pure
 * functions with no I/O, so the SMTP delivery path (which owns sending) can
 * call them and the webmail (which owns the settings) can test them.
 *
 * Wiring, for the delivery path, after a message is stored in an account's INBOX:
 *
 *   const decision = shouldAutoReply({ oof: account.settings.oof, now, envelopeFrom, headers,
 *     recipientAddresses: await store.sendAsAddresses(account.id),
 *     lastSentAt: await webmailStore.oofLastSent(account.id, envelopeFrom) });
 *   if (decision.send) {
 *     const raw = await buildAutoReply({ ... });
 *     await ctx.submit({ account, envelopeFrom: "", ... })  // null reverse-path, RFC 3834 §3.3
 *     await webmailStore.oofRecordSent(account.id, envelopeFrom, now);
 *   }
 *
 * Rules (RFC 3834 "Recommendations for Automatic Responses to Electronic Mail"):
 *  - §2: respond at most once per sender per period (we use 4 days by default);
 *  - §2: never to a null or MAILER-DAEMON/bounce sender, never to mail that
 *    is itself automatic (Auto-Submitted other than "no", §5), never to list
 *    or bulk mail (Precedence: bulk/list/junk, List-Id / List-* headers,
 *    RFC 2369/2919);
 *  - §2: only when the account's address is an explicit recipient (To/Cc),
 *    so Bcc'd list copies do not trigger replies;
 *  - §3.1.5: sent to the envelope sender (Return-Path), not Reply-To;
 *  - §5.1: the reply carries `Auto-Submitted: auto-replied`;
 *  - §3.3: sent with a null envelope sender so it cannot cause a loop.
 */
import addressparser from "nodemailer/lib/addressparser";
import { buildMessage, prefixSubject, textToHtml, type Person } from "./mime.ts";

export const DEFAULT_OOF_PERIOD_MS = 4 * 24 * 3600_000;

export interface OofSettings {
  enabled: boolean;
  subject: string;
  body: string;
  start?: number;
  end?: number;
}

export interface AutoReplyInput {
  oof: OofSettings | undefined | null;
  now: number;
  /** SMTP MAIL FROM of the incoming message ("" for the null reverse-path). */
  envelopeFrom: string;
  /** Header fields of the incoming message (name case-insensitive), unfolded. */
  headers: { name: string; value: string }[];
  /** Addresses that are this account (its own and aliases), lower-case. */
  recipientAddresses: string[];
  /** When we last auto-replied to this sender (from the sent-log), or null. */
  lastSentAt: number | null;
  periodMs?: number;
}

export type AutoReplyDecision = { send: true; to: string } | { send: false; reason: string };

export function shouldAutoReply(input: AutoReplyInput): AutoReplyDecision {
  const { oof, now } = input;
  if (!oof?.enabled) return { send: false, reason: "disabled" };
  if (oof.start !== undefined && oof.start !== null && now < oof.start) return { send: false, reason: "not yet started" };
  if (oof.end !== undefined && oof.end !== null && now >= oof.end) return { send: false, reason: "period ended" };

  const sender = input.envelopeFrom.trim().toLowerCase();
  if (!sender || sender === "<>") return { send: false, reason: "null sender" };
  const local = sender.split("@")[0] ?? "";
  // RFC 3834 §2: bounces and list machinery.
  if (/^(mailer-daemon|postmaster|listserv|majordomo|owner-.*|.*-request|.*-bounces?|noreply|no-reply|do-not-reply|donotreply)$/.test(local)) {
    return { send: false, reason: "automated sender" };
  }
  if (input.recipientAddresses.includes(sender)) return { send: false, reason: "own address" };

  const h = (name: string) => input.headers.filter((x) => x.name.toLowerCase() === name).map((x) => x.value.trim());
  const auto = h("auto-submitted")[0];
  if (auto && !/^no\b/i.test(auto)) return { send: false, reason: "auto-submitted" };
  const precedence = h("precedence")[0]?.toLowerCase();
  if (precedence && /^(bulk|list|junk)\b/.test(precedence)) return { send: false, reason: "precedence " + precedence };
  for (const name of ["list-id", "list-unsubscribe", "list-post", "list-help", "x-auto-response-suppress", "feedback-id"]) {
    if (h(name).length) {
      if (name === "x-auto-response-suppress" && !/(all|oof|autoreply)/i.test(h(name)[0]!)) continue;
      return { send: false, reason: name };
    }
  }
  const ctype = h("content-type")[0]?.toLowerCase() ?? "";
  if (/^multipart\/report/.test(ctype) || /^message\/(delivery-status|disposition-notification)/.test(ctype)) {
    return { send: false, reason: "report" };
  }

  // RFC 3834 §2: only when explicitly addressed in To or Cc.
  const visible = new Set(
    (addressparser([...h("to"), ...h("cc")].join(", "), { flatten: true }) as { address?: string }[]).map((a) => (a.address ?? "").toLowerCase()),
  );
  if (!input.recipientAddresses.some((a) => visible.has(a.toLowerCase()))) return { send: false, reason: "not an explicit recipient" };

  const period = input.periodMs ?? DEFAULT_OOF_PERIOD_MS;
  if (input.lastSentAt !== null && now - input.lastSentAt < period) return { send: false, reason: "already replied this period" };
  return { send: true, to: sender };
}

export interface AutoReplyMessageInput {
  oof: OofSettings;
  from: Person;
  to: string;
  /** Subject and Message-ID of the message being answered. */
  originalSubject: string;
  originalMessageId: string | null;
  originalReferences?: string[];
}

/** The auto-reply message (text/plain with an HTML alternative). */
export async function buildAutoReply(input: AutoReplyMessageInput): Promise<Uint8Array> {
  const subject = input.oof.subject.trim() || prefixSubject("Re", input.originalSubject || "Out of office");
  const refs = [...(input.originalReferences ?? []), ...(input.originalMessageId ? [input.originalMessageId] : [])];
  // RFC 3834 §5.1 (and the common Precedence / X-Auto-Response-Suppress hints): mark it automatic so other responders stay quiet.
  return buildMessage({
    from: input.from,
    to: [{ name: "", address: input.to }],
    cc: [],
    bcc: [],
    subject,
    text: input.oof.body,
    html: `<div>${textToHtml(input.oof.body)}</div>`,
    attachments: [],
    inReplyTo: input.originalMessageId,
    references: refs,
    extraHeaders: { "Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All", Precedence: "auto_reply" },
  });
}
