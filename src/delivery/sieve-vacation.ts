/**
 * Sending one vacation response (RFC 5230) after the message was committed:
 * the checks (./vacation-reply.ts `vacationChecks`), the sent log per
 * (sender, handle) in the SieveStore, then the reply, DKIM-signed with the
 * From domain's key and delivered through the one pipeline with the null
 * reverse-path (RFC 3834 §3.3): a local sender gets it in their mailbox, a
 * remote one through the queue.
 */
import type { Account, MailStore } from "../../storage/api.ts";
import type { SieveStore } from "../../storage/filter-api.ts";
import type { Logger } from "../log.ts";
import type { SieveAction } from "../sieve/types.ts";
import { headerFieldsNamed } from "../../mail/line-endings.ts";
import type { DeliveryFilter } from "./filter-types.ts";
import { signMessage } from "./index.ts";
import { deliverMessage, resolveRecipients } from "./pipeline.ts";
import { VACATION_HEADER_NAMES, buildVacationReply, vacationChecks } from "./vacation-reply.ts";

export type VacationOutcome = { sent: true; to: string } | { sent: false; reason: string };

export interface VacationDeps {
  store: MailStore;
  sieve: SieveStore;
  log: Logger;
  filter: DeliveryFilter;
  kick?: () => void;
}

export async function sendVacation(
  deps: VacationDeps,
  v: { account: Account; addresses: string[]; action: Extract<SieveAction, { type: "vacation" }>; envelopeFrom: string; recipient: string; message: Uint8Array; now: number },
): Promise<VacationOutcome> {
  const a = v.action;
  const headers = headerFieldsNamed(v.message, VACATION_HEADER_NAMES).map((f) => ({ name: f.key, value: f.value }));
  const sender = v.envelopeFrom.trim().toLowerCase();
  const mine = [...new Set([...v.addresses, ...a.addresses, v.recipient].map((x) => x.trim().toLowerCase()).filter(Boolean))];
  const decision = vacationChecks({
    envelopeFrom: sender,
    headers,
    recipientAddresses: mine,
    lastSentAt: sender ? await deps.sieve.vacationLastSent(v.account.id, sender, a.handle) : null,
    now: v.now,
    periodMs: a.periodSeconds * 1000,
  });
  if (!decision.send) return { sent: false, reason: decision.reason };
  // Recorded first: a crash after sending must not make the next message send a second response.
  await deps.sieve.vacationRecordSent(v.account.id, decision.to, a.handle, v.now);
  // RFC 5230 §4.5: by default from the address the message was sent to
  const from = (a.from ?? "").trim() || v.recipient || v.account.email;
  // :from may be a name-addr ("Alice" <alice@example.test>): the name is kept
  const named = /^\s*"?([^"<]*?)"?\s*<([^>]+)>\s*$/.exec(from);
  const fromAddr = named ? named[2]!.trim() : from;
  const raw = buildVacationReply({
    original: v.message,
    to: decision.to,
    from: fromAddr,
    fromName: named ? named[1]!.trim() : a.from ? "" : (v.account.settings.displayName ?? ""),
    subject: a.subject,
    reason: a.reason,
    mime: a.mime,
  });
  const signed = await signMessage(deps.store, raw, fromAddr.slice(fromAddr.lastIndexOf("@") + 1).toLowerCase(), deps.log);
  const resolved = await resolveRecipients(deps.store, [decision.to]);
  if (resolved.unknown.length) return { sent: false, reason: "sender unknown here" };
  await deliverMessage({ store: deps.store, log: deps.log, filter: deps.filter, kick: deps.kick }, { raw: signed, envelopeFrom: "", recipients: resolved.recipients, hooks: false });
  return { sent: true, to: decision.to };
}
