/**
 * Delivery status notifications: RFC 3464 multipart/report messages
 * (report-type=delivery-status, RFC 6522) for failures, delays and relays.
 */
import { formatMailDate as rfc5322Date } from "../../mail/date.ts";
import { headerEnd } from "../../mail/headers.ts";
import { newMessageId } from "../../mail/message-id.ts";
import { renderMessage } from "../../mail/build.ts";
import { canonicalLineEnds } from "../../mail/line-endings.ts";

export interface DsnRecipient {
  address: string;
  action: "failed" | "delayed" | "relayed" | "delivered";
  /** RFC 3463 status code, e.g. "5.1.1". */
  status: string;
  /** The remote server's reply, e.g. "550 5.1.1 no such user" (Diagnostic-Code: smtp; ...). */
  diagnostic?: string;
  remoteMta?: string;
  orcpt?: string;
}

export interface DsnInput {
  reportingMta: string;
  /** The envelope sender the report goes to. */
  to: string;
  arrivalDate: Date;
  envid?: string | null;
  /**
   * RFC 3461 §4.3: FULL returns the message, HDRS only its header. The caller decides it
   * (./dsn-policy.ts: HDRS for unverified senders and for success/delay reports).
   */
  ret: "FULL" | "HDRS";
  recipients: DsnRecipient[];
  original: Uint8Array;
  /** Upper bound on the returned message (the rest becomes headers only). */
  maxReturn?: number;
}

function headerBlock(raw: Uint8Array): Uint8Array {
  const end = headerEnd(raw);
  return end < 0 ? raw : raw.subarray(0, end);
}

/** Status text a person can read, for the first part. */
function describe(r: DsnRecipient): string {
  switch (r.action) {
    case "failed":
      return `<${clean(r.address)}>: delivery failed${r.diagnostic ? `\r\n    ${clean(r.diagnostic)}` : ""}`;
    case "delayed":
      return `<${clean(r.address)}>: delivery delayed, still trying${r.diagnostic ? `\r\n    ${clean(r.diagnostic)}` : ""}`;
    case "relayed":
      return `<${clean(r.address)}>: relayed to a server that does not send delivery notifications`;
    case "delivered":
      return `<${clean(r.address)}>: delivered`;
  }
}

/**
 * One header-field value of the delivery-status part (RFC 3464 §2.1: fields
 * in RFC 822 syntax). Control characters would start a field of their own
 * (an injected `Action:`); the SMTP layer refuses them in ORCPT/ENVID
 * (501), and this keeps entries queued before that, and remote reply text,
 * on one line too.
 */
// eslint-disable-next-line no-control-regex
const clean = (s: string) => s.replace(/[\x00-\x1f\x7f]+/g, " ").trim().slice(0, 900);

export function buildDsn(input: DsnInput): Uint8Array {
  const anyFailed = input.recipients.some((r) => r.action === "failed");
  const anyDelayed = input.recipients.some((r) => r.action === "delayed");
  const subject = anyFailed
    ? "Undelivered Mail Returned to Sender"
    : anyDelayed
      ? "Delayed Mail (still being retried)"
      : "Successful Mail Delivery Report";
  const fields: [string, string][] = [
    ["From", `Mail Delivery System <MAILER-DAEMON@${input.reportingMta}>`],
    ["To", `<${input.to}>`],
    ["Subject", subject],
    ["Date", rfc5322Date()],
    ["Message-ID", newMessageId(input.reportingMta)],
    // RFC 3834 §5: automatic responses are marked so responders do not answer them.
    ["Auto-Submitted", "auto-replied"],
  ];

  const human = [
    `This is the mail system at host ${input.reportingMta}.`,
    "",
    anyFailed
      ? "I'm sorry to have to inform you that your message could not be delivered to one or more recipients. It's attached below."
      : anyDelayed
        ? "Your message could not be delivered yet. The mail system will keep trying; you do not need to resend it."
        : "Your message was delivered or relayed as requested.",
    "",
    ...input.recipients.map(describe),
    "",
  ].join("\r\n");

  // RFC 3464 §2.2 per-message fields, then §2.3 per-recipient field groups.
  const status: string[] = [`Reporting-MTA: dns; ${input.reportingMta}`];
  if (input.envid) status.push(`Original-Envelope-Id: ${clean(input.envid)}`);
  status.push(`Arrival-Date: ${rfc5322Date(input.arrivalDate)}`, "");
  for (const r of input.recipients) {
    if (r.orcpt) {
      const semi = r.orcpt.indexOf(";");
      status.push(`Original-Recipient: ${semi > 0 ? `${clean(r.orcpt.slice(0, semi))}; ${clean(r.orcpt.slice(semi + 1))}` : `rfc822; ${clean(r.orcpt)}`}`);
    }
    status.push(`Final-Recipient: rfc822; ${clean(r.address)}`, `Action: ${r.action}`, `Status: ${clean(r.status)}`);
    if (r.remoteMta) status.push(`Remote-MTA: dns; ${clean(r.remoteMta)}`);
    if (r.diagnostic) status.push(`Diagnostic-Code: smtp; ${clean(r.diagnostic)}`);
    status.push(`Last-Attempt-Date: ${rfc5322Date()}`);
    if (r.action === "delayed") status.push(`Will-Retry-Until: ${rfc5322Date(new Date(Date.now() + 86_400_000))}`);
    status.push("");
  }

  const maxReturn = input.maxReturn ?? 10 * 1024 * 1024;
  const full = input.ret === "FULL" && input.original.length <= maxReturn;
  // The returned message with CRLF line ends only: a bare CR must not split its header lines one
  // way for us and another for the reader of the report (item 8 of issue 13, and ./smtp-data.ts).
  const returned = canonicalLineEnds(full ? input.original : headerBlock(input.original));

  // RFC 6522 multipart/report: the human-readable part, the RFC 3464 status, the message or its header.
  return renderMessage(fields, {
    multipart: "report",
    params: { "report-type": "delivery-status" },
    preamble: "This is a MIME-encapsulated message.",
    parts: [
      { type: "text/plain", content: human },
      { type: "message/delivery-status", content: new TextEncoder().encode(status.join("\r\n")), encoding: "as-is" },
      { type: full ? "message/rfc822" : "text/rfc822-headers", content: returned, encoding: "as-is", headers: [["Content-Description", "Undelivered message"]] },
    ],
  });
}
