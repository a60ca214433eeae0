/**
 * The protocol-neutral send path (ROADMAP: SMTP submission, webmail,
 * ActiveSync SendMail, later EWS and MAPI all submit through it).
 *
 * Contract:
 *  - first brings the message to canonical form (CRLF line ends, an explicit
 *    end of header: mail/line-endings.ts), so the checks, the DKIM
 *    signature, the store and every later reader see the same header fields;
 *  - checks that `envelopeFrom` and the message's From: are addresses the
 *    account may send as (its own or an alias), reading From as the store
 *    does and as mailauth does; a message with more than one From field or a
 *    From without an address is refused too; otherwise throws SubmitError
 *    with code "SENDER" (SMTP maps it to 553 5.7.1);
 *  - DKIM-signs with the sender domain's key;
 *  - hands the message to the delivery pipeline (./pipeline.ts): the local
 *    recipients' copies, the copy in the account's \Sent folder (when
 *    `saveToSent` is true; it counts against the sender's quota) and one
 *    queue entry for the remote recipients are committed in ONE
 *    transaction (one blob), so a failure (code "QUOTA" or "TEMP", or any
 *    other error) has made no copy anywhere and a retry makes each once;
 *  - resolves only after everything is committed and fsynced.
 */
import type { Account } from "../../storage/api.ts";

export interface SubmitRequest {
  account: Account;
  envelopeFrom: string;
  recipients: string[];
  raw: Uint8Array;
  saveToSent?: boolean;
  dsn?: { ret?: "FULL" | "HDRS"; envid?: string };
  rcptDsn?: Record<string, { notify?: string[]; orcpt?: string }>;
}

export interface SubmitResult {
  /** The signed message as delivered/queued. */
  messageId: string | null;
  local: string[];
  queued: string[];
  queueId: number | null;
}

export class SubmitError extends Error {
  constructor(
    public code: "SENDER" | "RECIPIENT" | "QUOTA" | "SIZE" | "TEMP",
    message: string,
  ) {
    super(message);
    this.name = "SubmitError";
  }
}

export type SubmitFn = (req: SubmitRequest) => Promise<SubmitResult>;
