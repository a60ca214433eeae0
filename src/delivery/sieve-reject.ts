/**
 * Messages the Sieve filter writes itself:
 *  - the rejection notice of `reject`/`ereject` when the refusal could not be
 *    made at protocol level (RFC 5429 §2.1: an MDN, RFC 8098, with the
 *    disposition "automatic-action/MDN-sent-automatically; deleted", the
 *    reason as the human-readable part and the original's header fields),
 *    sent with the null reverse-path (RFC 5429 §2.1.1, RFC 8098 §2.1) and
 *    never to a null sender;
 *  - the report of a failing script to its owner (issue 19: "the error is
 *    logged and reported to the owner once"), delivered into their INBOX.
 */
import { encodeWords } from "../../mail/encode.ts";
import { formatMailDate } from "../../mail/date.ts";
import { newMessageId } from "../../mail/message-id.ts";
import { headerEnd } from "../../mail/headers.ts";
import { headerFieldsNamed } from "../../mail/line-endings.ts";
import { decodeHeaderText } from "../../mail/headers.ts";
import { parseMessageIds } from "../../mail/address.ts";

const CRLF = "\r\n";
const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: false });

/** Octets of the original's header kept in a notice (a hostile header stays bounded). */
const MAX_ORIGINAL_HEADER = 32 * 1024;

function boundary(): string {
  return "=_pb_" + Math.random().toString(36).slice(2) + Date.now().toString(36);
}

/** RFC 5429 §2.1.1 / RFC 8098 §3: the MDN telling `to` that `recipient` refused the message. */
export function buildRejectNotice(input: { original: Uint8Array; recipient: string; to: string; reason: string; hostname: string }): Uint8Array {
  const fields = headerFieldsNamed(input.original, ["subject", "message-id"]);
  const subj = decodeHeaderText(fields.find((f) => f.key === "subject")?.value ?? "").replace(/[\r\n]+/g, " ").slice(0, 300);
  const origId = parseMessageIds(fields.find((f) => f.key === "message-id")?.value ?? null)[0] ?? null;
  const domain = input.recipient.slice(input.recipient.lastIndexOf("@") + 1) || input.hostname;
  const b = boundary();
  const head = dec.decode(input.original.subarray(0, Math.min(headerEnd(input.original), MAX_ORIGINAL_HEADER)));
  const reason = input.reason.replace(/\r?\n/g, CRLF);
  const text = [
    `Your message to <${input.recipient}> was automatically rejected:`,
    "",
    reason,
  ].join(CRLF);
  const parts = [
    `From: Mail Delivery Subsystem <postmaster@${domain}>`,
    `To: <${input.to}>`,
    `Subject: ${encodeWords(`Rejected: ${subj}`.trim())}`,
    `Message-ID: ${newMessageId(domain)}`,
    `Date: ${formatMailDate(new Date())}`,
    ...(origId ? [`In-Reply-To: ${origId}`, `References: ${origId}`] : []),
    "Auto-Submitted: auto-replied (rejected)",
    "MIME-Version: 1.0",
    `Content-Type: multipart/report; report-type=disposition-notification; boundary="${b}"`,
    "",
    "This is a MIME-encapsulated message.",
    "",
    `--${b}`,
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
    "",
    text,
    "",
    `--${b}`,
    "Content-Type: message/disposition-notification",
    "",
    `Reporting-UA: ${input.hostname}; Pillarbox Sieve`,
    `Final-Recipient: rfc822; ${input.recipient}`,
    ...(origId ? [`Original-Message-ID: ${origId}`] : []),
    "Disposition: automatic-action/MDN-sent-automatically; deleted",
    "",
    `--${b}`,
    "Content-Type: text/rfc822-headers",
    "",
    head.replace(/\r?\n/g, CRLF).replace(/(\r\n)*$/, ""),
    "",
    `--${b}--`,
    "",
  ];
  return enc.encode(parts.join(CRLF));
}

/** The notice a script's owner gets (once per script version) when it fails. */
export function buildErrorReport(input: { to: string; scriptName: string; line: number; message: string; subject: string }): Uint8Array {
  const domain = input.to.slice(input.to.lastIndexOf("@") + 1) || "localhost";
  const body = [
    `Your Sieve script "${input.scriptName}" failed while filtering a message, so the message was kept in your INBOX.`,
    "",
    `Line ${input.line}: ${input.message}`,
    "",
    `The message: ${input.subject || "(no subject)"}`,
    "",
    "You get this notice once for this version of the script. Fix it in the webmail (Settings > Rules), with a ManageSieve client, or with `pillarbox sieve put`.",
  ].join(CRLF);
  const lines = [
    `From: Mail Delivery Subsystem <postmaster@${domain}>`,
    `To: <${input.to}>`,
    `Subject: ${encodeWords(`Sieve script error: ${input.scriptName}`)}`,
    `Message-ID: ${newMessageId(domain)}`,
    `Date: ${formatMailDate(new Date())}`,
    "Auto-Submitted: auto-generated",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
    "",
    body,
    "",
  ];
  return enc.encode(lines.join(CRLF));
}
