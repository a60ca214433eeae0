/**
 * The vacation responder (RFC 5230) behind Sieve's `vacation` action and the
 * out-of-office settings (which are a generated vacation script:
 * src/sieve/vacation-script.ts). Runs after the message is committed
 * (./sieve-filter.ts afterCommit):
 *
 *  1. the checks whether to answer at all (`vacationChecks`, no I/O):
 *     RFC 5230 §4.5 the user must be an explicit recipient (To, Cc, Bcc,
 *     Resent-To/-Cc/-Bcc; the account's addresses plus :addresses), and not
 *     the sender; §4.6 / RFC 3834 §2 never to a null or daemon sender, never to
 *     automatic mail (Auto-Submitted other than "no"), lists and bulk mail
 *     (Precedence, List-*), delivery and disposition reports;
 *  2. the sent log (RFC 5230 §4.2): one response per (sender, handle) per
 *     period, recorded BEFORE sending so a crash never sends twice;
 *  3. the reply: :subject (default "Auto: <subject>", RFC 5230 §4.3 and
 *     Pigeonhole), :from (default the recipient address), :mime, threaded
 *     with In-Reply-To/References (§4.7), `Auto-Submitted: auto-replied`
 *     (RFC 3834 §5), sent with the null reverse-path (RFC 3834 §3.3, RFC 5230
 *     §5.1) so nothing ever bounces back into a responder, DKIM-signed.
 */
import { parseAddressList, parseMessageIds } from "../../mail/address.ts";
import { composeMessage } from "../../mail/build.ts";
import { decodeHeaderText } from "../../mail/headers.ts";
import { encodeWords } from "../../mail/encode.ts";
import { headerFieldsNamed } from "../../mail/line-endings.ts";
import { newMessageId } from "../../mail/message-id.ts";
import { formatMailDate } from "../../mail/date.ts";

export interface VacationCheckInput {
  /** SMTP MAIL FROM of the incoming message ("" for the null reverse-path). */
  envelopeFrom: string;
  /** Header fields of the incoming message (name case-insensitive), unfolded. */
  headers: { name: string; value: string }[];
  /** Addresses that are this user (its own, aliases, :addresses), lower-case. */
  recipientAddresses: string[];
  /** When a response with this handle last went to this sender, or null. */
  lastSentAt: number | null;
  now: number;
  periodMs: number;
}

export type VacationDecision = { send: true; to: string } | { send: false; reason: string };

/** Header fields the checks and the reply read. */
export const VACATION_HEADER_NAMES = [
  "subject", "message-id", "references", "to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc", "auto-submitted", "precedence",
  "list-id", "list-unsubscribe", "list-post", "list-help", "x-auto-response-suppress", "feedback-id", "content-type",
] as const;

/** The decision alone (RFC 5230 §4.5/§4.6, RFC 3834 §2), no I/O; never throws. */
export function vacationChecks(input: VacationCheckInput): VacationDecision {
  const sender = input.envelopeFrom.trim().toLowerCase();
  if (!sender || sender === "<>") return { send: false, reason: "null sender" };
  const local = sender.split("@")[0] ?? "";
  // RFC 5230 §4.6 / RFC 3834 §2: bounces and list machinery.
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
  if (/^multipart\/report/.test(ctype) || /^message\/(delivery-status|disposition-notification)/.test(ctype)) return { send: false, reason: "report" };

  // RFC 5230 §4.5: only when one of the user's addresses is an explicit recipient.
  const visible = new Set<string>();
  for (const v of ["to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc"].flatMap(h)) {
    for (const a of parseAddressList(v)) if (a.mailbox !== null && a.host !== null) visible.add(`${a.mailbox}@${a.host}`.toLowerCase());
  }
  if (!input.recipientAddresses.some((a) => visible.has(a.toLowerCase()))) return { send: false, reason: "not an explicit recipient" };

  if (input.lastSentAt !== null && input.now - input.lastSentAt < input.periodMs) return { send: false, reason: "already replied this period" };
  return { send: true, to: sender };
}

export interface VacationReplyInput {
  /** The original message as the user got it. */
  original: Uint8Array;
  to: string;
  /** RFC 5230 §4.4 :from, or the recipient address. */
  from: string;
  fromName?: string;
  subject: string | null;
  reason: string;
  mime: boolean;
}

const CRLF = "\r\n";

/** The response message (RFC 5230 §4.3-§4.7). */
export function buildVacationReply(input: VacationReplyInput): Uint8Array {
  const fields = headerFieldsNamed(input.original, ["subject", "message-id", "references"]);
  const get = (n: string) => fields.find((f) => f.key === n)?.value ?? null;
  const originalSubject = decodeHeaderText(get("subject")).replace(/[\r\n]+/g, " ").slice(0, 300);
  // RFC 5230 §4.3: without :subject, "Auto: " and the original subject (as Pigeonhole does).
  const subject = (input.subject ?? "").replace(/[\r\n]+/g, " ").trim() || `Auto: ${originalSubject}`.trim();
  const msgId = parseMessageIds(get("message-id"))[0] ?? null;
  const refs = [...parseMessageIds(get("references")).slice(-20), ...(msgId ? [msgId] : [])];
  const fromAddr = input.from.trim();
  const domain = fromAddr.slice(fromAddr.lastIndexOf("@") + 1) || "localhost";
  const extra = { "Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All", Precedence: "auto_reply" };
  if (!input.mime) {
    return composeMessage({
      from: { name: input.fromName ?? "", address: fromAddr },
      to: [{ name: "", address: input.to }],
      subject,
      text: input.reason,
      inReplyTo: msgId,
      references: refs,
      extraHeaders: extra,
    });
  }
  // RFC 5230 §4.4 :mime: the reason is a MIME entity (its own header fields, then its body).
  const entity = input.reason.replace(/\r?\n/g, CRLF);
  const head: [string, string][] = [
    ["From", input.fromName ? `${encodeWords(input.fromName)} <${fromAddr}>` : `<${fromAddr}>`],
    ["To", `<${input.to}>`],
    ["Subject", encodeWords(subject)],
    ["Message-ID", newMessageId(domain)],
    ["Date", formatMailDate(new Date())],
    ...(msgId ? ([["In-Reply-To", msgId]] as [string, string][]) : []),
    ...(refs.length ? ([["References", refs.join(" ")]] as [string, string][]) : []),
    ...Object.entries(extra),
    ["MIME-Version", "1.0"],
  ];
  const top = head.map(([k, v]) => `${k}: ${v}`).join(CRLF) + CRLF;
  // the entity's own fields follow ours; one without a header block is plain text
  const body = /^[!-9;-~]+:/.test(entity) ? entity : `Content-Type: text/plain; charset=utf-8${CRLF}${CRLF}${entity}`;
  return new TextEncoder().encode(top + body + (body.endsWith(CRLF) ? "" : CRLF));
}
