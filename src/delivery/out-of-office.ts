/**
 * Out-of-office auto-replies, a delivery hook: after a message is committed
 * to an account's INBOX (./pipeline.ts runs the hooks; never for Junk), the
 * account's out-of-office settings decide whether its sender gets one reply,
 * which then goes out through the shared submit path (DKIM, queue). The
 * settings are edited in the webmail and over ActiveSync Settings/Oof; the
 * log of who was answered when stays in the webmail store's table
 * (`oof_sent_log`), reached through `OofSentLog`.
 *
 * Rules (RFC 3834 "Recommendations for Automatic Responses to Electronic Mail"):
 *  - §2: respond at most once per sender per period (4 days by default);
 *  - §2: never to a null or MAILER-DAEMON/bounce sender, never to mail that
 *    is itself automatic (Auto-Submitted other than "no", §5), never to list
 *    or bulk mail (Precedence: bulk/list/junk, List-Id / List-* fields,
 *    RFC 2369/2919), never to a delivery or disposition report;
 *  - §2: only when the account's address is an explicit recipient (To/Cc),
 *    so Bcc'd and list copies get none;
 *  - §3.1.5: sent to the envelope sender (Return-Path), not Reply-To;
 *  - §5.1: the reply carries `Auto-Submitted: auto-replied`.
 *
 * The reply's envelope sender is the account's own address: §3.3 recommends
 * the null reverse-path, but the submit path only sends as addresses the
 * account owns. Loops stay impossible: the reply is marked auto-replied, to
 * which no RFC 3834 responder (this one included) answers, and each sender
 * gets at most one per period.
 */
import type { Logger } from "../log.ts";
import type { DeliveryHook } from "../context.ts";
import type { AccountSettings, MailStore } from "../../storage/api.ts";
import type { SubmitFn } from "./submit.ts";
import { parseAddressList, parseMessageIds } from "../../mail/address.ts";
import { decodeHeaderText } from "../../mail/headers.ts";
import { headerFieldsNamed } from "../../mail/line-endings.ts";
import { textToHtml } from "../../mail/html.ts";
import { composeMessage } from "../../mail/build.ts";

export const DEFAULT_OOF_PERIOD_MS = 4 * 24 * 3600_000;

export type OofSettings = NonNullable<AccountSettings["oof"]>;

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

/** The decision alone, no I/O. */
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

  // RFC 3834 §2: only when explicitly addressed in To or Cc (the shared address parser, mail/address.ts).
  const visible = new Set<string>();
  for (const v of [...h("to"), ...h("cc")]) {
    for (const a of parseAddressList(v)) if (a.mailbox !== null && a.host !== null) visible.add(`${a.mailbox}@${a.host}`.toLowerCase());
  }
  if (!input.recipientAddresses.some((a) => visible.has(a.toLowerCase()))) return { send: false, reason: "not an explicit recipient" };

  const period = input.periodMs ?? DEFAULT_OOF_PERIOD_MS;
  if (input.lastSentAt !== null && now - input.lastSentAt < period) return { send: false, reason: "already replied this period" };
  return { send: true, to: sender };
}

export interface AutoReplyMessageInput {
  oof: OofSettings;
  from: { name: string; address: string };
  to: string;
  /** Subject and Message-ID of the message being answered. */
  originalSubject: string;
  originalMessageId: string | null;
  originalReferences?: string[];
}

/** The auto-reply message (text/plain with an HTML alternative), threaded under the original (RFC 5322 §3.6.4). */
export async function buildAutoReply(input: AutoReplyMessageInput): Promise<Uint8Array> {
  const original = input.originalSubject || "Out of office";
  const subject = input.oof.subject.trim() || (/^\s*re\s*:/i.test(original) ? original : `Re: ${original}`);
  const refs = [...(input.originalReferences ?? []), ...(input.originalMessageId ? [input.originalMessageId] : [])];
  // RFC 3834 §5.1 (and the common Precedence / X-Auto-Response-Suppress hints): marked automatic so other responders stay quiet.
  return composeMessage({
    from: input.from,
    to: [{ name: "", address: input.to }],
    subject,
    text: input.oof.body,
    html: `<div>${textToHtml(input.oof.body)}</div>`,
    inReplyTo: input.originalMessageId,
    references: refs,
    extraHeaders: { "Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All", Precedence: "auto_reply" },
  });
}

/** Who was answered when: the webmail store's `oof_sent_log` (storage/webmail-store.ts) implements it. */
export interface OofSentLog {
  oofLastSent(accountId: number, sender: string): Promise<number | null>;
  oofRecordSent(accountId: number, sender: string, at: number): Promise<void>;
}

/** What the responder needs; the server context (src/context.ts) is one. Read at each call, so `submit` may be set later. */
export interface OutOfOfficeDeps {
  readonly store: Pick<MailStore, "getAccountById" | "sendAsAddresses">;
  readonly submit: SubmitFn;
  /** The sent-log lives in the webmail state store (storage/webmail-store.ts, table oof_sent_log). */
  readonly storage: { readonly webmail: OofSentLog };
}

export type AutoReplyOutcome = { sent: true; to: string } | { sent: false; reason: string };

const HEADER_NAMES = ["subject", "message-id", "references", "to", "cc", "auto-submitted", "precedence", "list-id", "list-unsubscribe", "list-post", "list-help", "x-auto-response-suppress", "feedback-id", "content-type"] as const;

/** One message delivered to one account: answers it if the rules say so. Never throws for a message that simply gets no reply. */
export async function maybeAutoReply(
  deps: OutOfOfficeDeps,
  msg: { accountId: number; envelopeFrom: string; raw: Uint8Array; now?: number; periodMs?: number },
): Promise<AutoReplyOutcome> {
  const account = await deps.store.getAccountById(msg.accountId);
  const oof = account?.settings.oof;
  if (!account || !oof?.enabled) return { sent: false, reason: "disabled" };
  const now = msg.now ?? Date.now();
  const log = deps.storage.webmail;
  // The shared header parser (mail/), as the store's index reads the same message.
  const fields = headerFieldsNamed(msg.raw, HEADER_NAMES);
  const headers = fields.map((f) => ({ name: f.key, value: f.value }));
  const sender = msg.envelopeFrom.trim().toLowerCase();
  const decision = shouldAutoReply({
    oof,
    now,
    envelopeFrom: sender,
    headers,
    recipientAddresses: (await deps.store.sendAsAddresses(account.id)).map((a) => a.toLowerCase()),
    lastSentAt: sender ? await log.oofLastSent(account.id, sender) : null,
    periodMs: msg.periodMs ?? DEFAULT_OOF_PERIOD_MS,
  });
  if (!decision.send) return { sent: false, reason: decision.reason };
  const h = (n: string) => fields.find((x) => x.key === n)?.value ?? null;
  // Record first: a crash after sending must not make the next message send a second reply.
  await log.oofRecordSent(account.id, decision.to, now);
  const raw = await buildAutoReply({
    oof,
    from: { name: account.settings.displayName ?? "", address: account.email },
    to: decision.to,
    originalSubject: decodeHeaderText(h("subject")).replace(/[\r\n]+/g, " ").slice(0, 300),
    originalMessageId: parseMessageIds(h("message-id"))[0] ?? null,
    originalReferences: parseMessageIds(h("references")),
  });
  await deps.submit({ account, envelopeFrom: account.email, recipients: [decision.to], raw, saveToSent: false });
  return { sent: true, to: decision.to };
}

/** The delivery hook the kernel registers (src/server.ts): one check per account that got the message, after the commit, off the reply path. */
export function outOfOfficeHook(deps: OutOfOfficeDeps, log: Logger): DeliveryHook {
  return (d) => {
    for (const accountId of d.accountIds) {
      void maybeAutoReply(deps, { accountId, envelopeFrom: d.envelopeFrom, raw: d.raw }).catch((err) =>
        log.warn("auto-reply failed", { accountId, error: err instanceof Error ? err.message : String(err) }),
      );
    }
  };
}
