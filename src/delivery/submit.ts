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
 *  - delivers local recipients directly (one blob, atomic) and queues
 *    remote ones durably;
 *  - when `saveToSent` is true, appends a copy to the account's \Sent folder;
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
