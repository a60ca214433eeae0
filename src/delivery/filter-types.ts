/**
 * The delivery filter's seam in the one pipeline (./pipeline.ts): before the
 * commit, each local account's copies go where its Sieve scripts (the
 * out-of-office vacation script, then the user's active script) and the spam
 * verdict say; after it, the replies and records those scripts asked for.
 * ./sieve-filter.ts implements it; the server context carries it as
 * `ctx.deliveryFilter` and every caller of `deliverMessage` passes it on.
 */
import type { DeliverAndEnqueueRequest, DeliveryRecipient } from "../../storage/api.ts";
import type { DeliveryOrigin } from "../context.ts";
import type { SpamVerdict } from "../spam/types.ts";
import type { ResolvedRecipient } from "./pipeline.ts";

export interface FilterInput {
  raw: Uint8Array;
  envelopeFrom: string;
  recipients: readonly ResolvedRecipient[];
  /** The folder the caller would file local copies in (default INBOX). */
  folder?: string;
  spam?: SpamVerdict | null;
  origin?: DeliveryOrigin;
  /** The connecting client's address for Sieve's environment (RFC 5183 "remote-ip"), when known. */
  remoteIp?: string | null;
}

/** What the filter decided for one message, before anything is committed. */
export interface FilterPlan {
  /** The local copies (replacing the default one-INBOX-copy-per-account plan). */
  local: DeliveryRecipient[];
  /** Queue entries of Sieve redirects (each with its own envelope), committed with the copies. */
  extraQueues: NonNullable<DeliverAndEnqueueRequest["extraQueues"]>;
  /** Accounts whose script refused the message (RFC 5429), with the reason the sender is told. */
  rejected: { accountId: number; reason: string; extended: boolean }[];
  /**
   * The rejection notices (RFC 5429 §2.1: an MDN to the envelope sender) for
   * `rejected`: committed with the copies unless the pipeline refuses the
   * whole message at protocol level instead (PipelineRequest.canRefuse).
   * A local sender's notice is a local copy with its own bytes, a remote one a queue entry.
   */
  notices: { local: DeliveryRecipient[]; queues: NonNullable<DeliverAndEnqueueRequest["extraQueues"]> };
  /** Accounts that got a copy the delivery hooks should see (iMIP processing): not discarded, not Junk. */
  hookAccountIds: number[];
  /**
   * Runs once the copies are committed (never when the commit failed): vacation
   * replies, rejection notices to the sender for recipients a protocol-level
   * refusal could not cover, duplicate-id records, error reports to owners.
   * Must not throw; errors are logged. The promise (when one is returned)
   * settles, never rejecting, once that work is done: the pipeline does not
   * wait for it (the sender's 250 does not wait for a vacation reply), tests do.
   */
  afterCommit(result: { accountIds: number[]; queueIds: number[] }): void | Promise<void>;
}

export interface DeliveryFilter {
  plan(input: FilterInput): Promise<FilterPlan>;
  /**
   * A recipient in SRS form (./srs.ts: a bounce to a redirected copy's
   * rewritten sender): the original sender when it verifies, else why not.
   * resolveRecipients asks it for addresses of our domains no account matches.
   */
  reverseSrs?(address: string): { ok: true; address: string } | { ok: false; reason: string };
}
