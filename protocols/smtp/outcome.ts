/**
 * One log line per SMTP outcome an admin (or fail2ban) looks for (issue 18,
 * found item 4; docs/OPERATIONS.md "Logs"): a refused MAIL or RCPT (relay
 * attempts 554, unknown users 550, ...) and the end of every transaction that
 * reached DATA/BDAT, accepted or refused, with code, reason, envelope,
 * Message-ID, size and the sender-authentication verdicts. The lines carry a
 * `kind` (delivery, rejection), which the kernel's logger sink turns into
 * entries of the admin's activity log (src/activity.ts).
 */
import { headerFieldsNamed } from "../../mail/line-endings.ts";
import type { Reply } from "./parser.ts";
import type { SmtpSession, Transaction } from "./session.ts";

/** What the DATA stage learnt, for the transaction line (set by inbound.ts / submission.ts). */
export interface TxVerdicts {
  spf?: string;
  dkim?: string;
  dmarc?: string;
  junk?: boolean;
  /** The spam filter's message-level score and backend (issue 19), when the message was scored. */
  spamScore?: number;
  spamBackend?: string;
  /** Milliseconds the spam check took. */
  spamMs?: number;
  queueId?: number | string | null;
  /** Local copies committed and queue entries made. */
  local?: number;
  queued?: number;
  /** Why a local delivery failed (the store's words), when the reply is a 4xx "local error". */
  error?: string;
}

/** Recipients listed in a line: enough to grep for, bounded for a 100-recipient message. */
const MAX_LISTED = 20;
const MAX_FIELD = 300;

function clip(v: string): string {
  // Control characters never reach a log line (a crafted address or Message-ID could forge one).
  const clean = v.replace(/[\u0000-\u001f\u007f]/g, "?");
  return clean.length > MAX_FIELD ? clean.slice(0, MAX_FIELD) + "…" : clean;
}

function protocolOf(s: SmtpSession): string {
  return s.mode === "submission" ? "submission" : "smtp";
}

function replyFields(r: Reply): { code: number; status: string | null; reason: string } {
  return { code: r.code, status: r.enhanced ?? null, reason: clip(r.lines.join(" ")) };
}

/** The value of the message's (first) Message-ID field as written, trimmed and bounded; null when absent. */
export function messageIdOf(raw: Uint8Array): string | null {
  const f = headerFieldsNamed(raw, ["message-id"])[0];
  return f ? clip(f.value.trim()) : null;
}

/** The address of "TO:<a@b> NOTIFY=..." / "FROM:<a@b> SIZE=..." (the argument as given when it has no <...>). */
function pathOf(arg: string): string {
  const m = /^\s*(?:from|to)\s*:\s*<([^>]*)>/i.exec(arg);
  return m ? m[1]! : arg.replace(/^\s*(?:from|to)\s*:\s*/i, "");
}

/** A MAIL or RCPT command refused (any 4xx/5xx): relays, unknown users, full mailboxes, bad syntax. */
export function logEnvelopeRefusal(s: SmtpSession, stage: "mail" | "rcpt", r: Reply, arg: string): void {
  if (r.code < 400) return;
  const fields = {
    kind: "rejection",
    protocol: protocolOf(s),
    stage,
    result: r.code >= 500 ? "rejected" : "deferred",
    ...replyFields(r),
    helo: s.helo ? clip(s.helo) : null,
    from: stage === "rcpt" ? (s.tx?.mailFrom ?? null) : null,
    [stage === "rcpt" ? "rcpt" : "arg"]: clip(pathOf(arg)),
    account: s.account?.email ?? null,
  };
  if (r.code >= 500) s.log.warn("smtp rejected", fields);
  else s.log.info("smtp rejected", fields);
}

/** The outcome of one transaction at the end of DATA/BDAT. `raw` is the message as received (null when none was read). */
export function logTransaction(s: SmtpSession, tx: Transaction, r: Reply, raw: Uint8Array | null): void {
  const accepted = r.code >= 200 && r.code < 300;
  const v = tx.verdicts ?? {};
  const rcpts = tx.recipients.map((x) => x.address);
  const fields: Record<string, string | number | boolean | null> = {
    kind: accepted ? "delivery" : "rejection",
    protocol: protocolOf(s),
    stage: "data",
    result: accepted ? "accepted" : r.code >= 500 ? "rejected" : "deferred",
    ...replyFields(r),
    from: clip(tx.mailFrom),
    rcpts: clip(rcpts.slice(0, MAX_LISTED).join(",") + (rcpts.length > MAX_LISTED ? `,+${rcpts.length - MAX_LISTED} more` : "")),
    rcptCount: rcpts.length,
    messageId: raw ? messageIdOf(raw) : null,
    size: raw ? raw.length : (tx.size ?? null),
    account: s.account?.email ?? null,
    helo: s.helo ? clip(s.helo) : null,
    tls: s.secure,
  };
  if (v.spf !== undefined) fields.spf = v.spf;
  if (v.dkim !== undefined) fields.dkim = v.dkim;
  if (v.dmarc !== undefined) fields.dmarc = v.dmarc;
  if (v.junk !== undefined) fields.junk = v.junk;
  if (v.spamScore !== undefined) fields.spamScore = v.spamScore;
  if (v.spamBackend !== undefined) fields.spamBackend = v.spamBackend;
  if (v.spamMs !== undefined) fields.spamMs = v.spamMs;
  if (v.queueId) fields.queueId = v.queueId;
  if (v.local !== undefined) fields.local = v.local;
  if (v.queued !== undefined) fields.queued = v.queued;
  if (v.error) fields.error = clip(v.error);
  if (accepted) s.log.info("smtp transaction", fields);
  else s.log.warn("smtp transaction", fields);
}
