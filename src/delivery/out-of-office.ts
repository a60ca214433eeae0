/**
 * Out-of-office (issue 19: one mechanism with Sieve vacation). The settings
 * (edited in the webmail and over ActiveSync Settings/Oof) become a vacation
 * script (src/sieve/vacation-script.ts) that the delivery filter
 * (./sieve-filter.ts) runs before the user's own script; the responder with
 * its RFC 3834 checks is ./vacation-reply.ts + ./sieve-vacation.ts, its log the
 * SieveStore's vacation log. What stays here:
 *  - `shouldAutoReply`: the decision for given settings (their switch and
 *    dates, then the responder's checks), for callers that show it;
 *  - `maybeAutoReply`: the account's out-of-office run on its own.
 */
import type { AccountSettings } from "../../storage/api.ts";
import type { DeliveryFilter } from "./filter-types.ts";
import type { SieveDeliveryFilter } from "./sieve-filter.ts";
import { vacationChecks } from "./vacation-reply.ts";

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

/**
 * The decision alone, no I/O: the settings' own switch and dates, then the
 * vacation responder's checks (./vacation-reply.ts, RFC 5230 §4.5/§4.6 and
 * RFC 3834 §2), which is what a delivered message actually goes through.
 */
export function shouldAutoReply(input: AutoReplyInput): AutoReplyDecision {
  const { oof, now } = input;
  if (!oof?.enabled) return { send: false, reason: "disabled" };
  if (oof.start !== undefined && oof.start !== null && now < oof.start) return { send: false, reason: "not yet started" };
  if (oof.end !== undefined && oof.end !== null && now >= oof.end) return { send: false, reason: "period ended" };
  return vacationChecks({
    envelopeFrom: input.envelopeFrom,
    headers: input.headers,
    recipientAddresses: input.recipientAddresses,
    lastSentAt: input.lastSentAt,
    now,
    periodMs: input.periodMs ?? DEFAULT_OOF_PERIOD_MS,
  });
}

/** What `maybeAutoReply` needs: the server context is one. */
export interface OutOfOfficeDeps {
  readonly deliveryFilter: DeliveryFilter | null;
}

export type AutoReplyOutcome = { sent: true; to: string } | { sent: false; reason: string };

/**
 * Runs the account's out-of-office (its generated vacation script, nothing
 * else) for a message it already has: what delivery does for every message,
 * callable on its own (tests, tools). Never throws for a message that simply
 * gets no reply.
 */
export async function maybeAutoReply(deps: OutOfOfficeDeps, msg: { accountId: number; envelopeFrom: string; raw: Uint8Array; now?: number }): Promise<AutoReplyOutcome> {
  const f = deps.deliveryFilter as (DeliveryFilter & Partial<Pick<SieveDeliveryFilter, "outOfOffice">>) | null;
  if (!f?.outOfOffice) return { sent: false, reason: "no delivery filter" };
  return f.outOfOffice(msg);
}
