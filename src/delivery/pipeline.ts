/**
 * The one delivery pipeline: every way mail enters the server ends here.
 *
 *   resolve  recipients -> local accounts (aliases, catch-alls, one-to-many)
 *            and remote addresses (forwards, or the recipient itself);
 *   commit   the local copies, the sender's Sent copy and ONE queue entry for
 *            every remote address in ONE store transaction
 *            (`MailStore.deliverAndEnqueue`);
 *   then     wake the queue and run the delivery hooks (out-of-office).
 *
 * Why one transaction: a message is acknowledged (SMTP 250, the webmail's
 * "sent", ActiveSync's empty SendMail answer) only after everything is
 * committed. If the local copies and the queue entry were two commits, a
 * temporary failure between them (a full disk, the database, a quota) would
 * answer 4xx for a message that is already half delivered, and the client's
 * retry would deliver that half twice: a forward sent twice when the queue
 * came first, a local copy filed twice when the mailbox came first. With one
 * commit a failure leaves nothing behind and the retry produces exactly one
 * of each (RFC 5321 §4.1.1.4 and §6.1: once the server answers 250 it owns
 * the message; before that, nothing may have been done that a retry repeats).
 *
 * Who calls it:
 *  - inbound SMTP (protocols/smtp/inbound.ts) after the trace fields and the
 *    mailauth verdict, with the recipients it accepted at RCPT;
 *  - the submit path (./index.ts, `createSubmit`) after the sender checks and
 *    the DKIM signature: SMTP submission, webmail send, ActiveSync
 *    SendMail/SmartReply/SmartForward and the out-of-office reply all submit;
 *  - the queue worker (./queue.ts) for the delivery reports it writes.
 *
 * Per-recipient semantics stay with the callers: SMTP answers RCPT per
 * recipient (unknown user, a mailbox already full) and one reply for DATA; a
 * quota that only the real size exceeds fails the whole message temporarily
 * and, since nothing was committed, the retry cannot duplicate anyone.
 */
import type { Logger } from "../log.ts";
import { runDeliveryHooks, type DeliveryHook, type DeliveryOrigin } from "../context.ts";
import type { Account, DeliverAndEnqueueRequest, DeliveryRecipient, DeliveryResult, MailStore, QueueEntry } from "../../storage/api.ts";
import type { SpamVerdict } from "../spam/types.ts";
import type { DeliveryFilter } from "./filter-types.ts";
import { eachHeaderField } from "../../mail/headers.ts";

/** A recipient resolved to where its copies go. */
export interface ResolvedRecipient<A extends { id: number } = { id: number }> {
  /** The address as given (lower-case). */
  address: string;
  /** Local accounts it expands to (aliases, catch-all, one-to-many), each once. */
  accounts: readonly A[];
  /** Remote addresses: forwards of a local address, or the address itself when it is remote. */
  forward: readonly string[];
  /** RFC 3461 §4.1 NOTIFY of this recipient, if the client gave one. */
  notify?: string[] | null;
  /** RFC 3461 §4.2 ORCPT of this recipient, if the client gave one. */
  orcpt?: string | null;
  /** The address is not in one of our domains (it forwards to itself). */
  remote?: boolean;
}

/** Per-recipient DSN options of the queue entry (keyed by the remote address). */
export type RecipientDsn = Record<string, { notify?: string[]; orcpt?: string }>;

/**
 * Looks the addresses up in the directory (MailStore.resolveRecipient:
 * accounts, aliases one-to-many and recursive, sub-addresses, catch-alls).
 * `remote` addresses (a domain that is not ours) forward to themselves;
 * `unknown` lists addresses of a local domain that match nothing (the caller
 * refuses them: SMTP at RCPT with 550 5.1.1, the submit path as RECIPIENT).
 * An account reached twice (two aliases naming one mailbox) is listed once,
 * forwards lower-cased and once.
 */
export async function resolveRecipients(
  store: MailStore,
  addresses: readonly string[],
  /** The delivery filter: a bounce to a Sieve redirect's SRS sender (./srs.ts) forwards to the original sender when it verifies. */
  filter?: DeliveryFilter | null,
): Promise<{ recipients: ResolvedRecipient<Account>[]; unknown: string[] }> {
  const recipients: ResolvedRecipient<Account>[] = [];
  const unknown: string[] = [];
  const done = new Set<string>();
  for (const given of addresses) {
    const address = given.toLowerCase();
    if (done.has(address)) continue;
    done.add(address);
    const r = await store.resolveRecipient(address);
    if (r === "remote") {
      recipients.push({ address, accounts: [], forward: [given], remote: true });
      continue;
    }
    if (r === null && filter?.reverseSrs && /^srs0[=+-]/i.test(address)) {
      // an SRS address that verifies and is not older than 21 days; a forged or expired one is refused (no open relay)
      const back = filter.reverseSrs(given);
      if (back.ok) recipients.push({ address, accounts: [], forward: [back.address] });
      else unknown.push(given);
      continue;
    }
    if (r === null || (r.accounts.length === 0 && r.forward.length === 0)) {
      unknown.push(given);
      continue;
    }
    const seen = new Set<number>();
    const accounts = r.accounts.filter((a) => (seen.has(a.id) ? false : (seen.add(a.id), true)));
    recipients.push({ address, accounts, forward: [...new Set(r.forward.map((f) => f.toLowerCase()))] });
  }
  return { recipients, unknown };
}

/** Trace and authentication fields a receiving server puts on top (RFC 5321 §4.4, RFC 8601 §5, RFC 8617). */
const TOP_FIELDS = /^(received|return-path|authentication-results|received-spf|arc-seal|arc-message-signature|arc-authentication-results)$/i;

/**
 * One account's copy with its spam filter fields (X-Spam-Status/X-Spam-Score):
 * inserted below the trace block at the top (our Received, the
 * Authentication-Results), so the trace stays first as RFC 5321 §4.4 has it
 * and SpamAssassin places its fields.
 */
export function withSpamFields(raw: Uint8Array, fields: string): Uint8Array {
  if (!fields) return raw;
  let at = 0;
  let inTop = true;
  const dec = new TextDecoder("latin1");
  eachHeaderField(raw, 0, raw.byteLength, (start, end, colon) => {
    if (!inTop) return;
    if (colon > start && TOP_FIELDS.test(dec.decode(raw.subarray(start, colon)).trim())) at = end;
    else inTop = false;
  });
  const add = new TextEncoder().encode(fields);
  const out = new Uint8Array(raw.byteLength + add.byteLength);
  out.set(raw.subarray(0, at), 0);
  out.set(add, at);
  out.set(raw.subarray(at), at + add.byteLength);
  return out;
}

/** What one message becomes: local copies (one per account) and the remote addresses of one queue entry. */
export interface DeliveryPlan {
  local: DeliveryRecipient[];
  remote: string[];
  rcptDsn: RecipientDsn | undefined;
}

/**
 * Turns resolved recipients into copies: every account once (an alias and the
 * address itself, or two aliases, name the same mailbox once), every remote
 * address once. A forward inherits the DSN request of the recipient it was
 * reached through; its ORCPT names that recipient (RFC 3461 §4.2: the
 * original recipient is what the sender addressed, not where we forwarded).
 */
export function planDelivery(recipients: readonly ResolvedRecipient[], folder?: string): DeliveryPlan {
  const local: DeliveryRecipient[] = [];
  const accounts = new Set<number>();
  const remote: string[] = [];
  const seenRemote = new Set<string>();
  const rcptDsn: RecipientDsn = {};
  for (const r of recipients) {
    for (const a of r.accounts) {
      if (accounts.has(a.id)) continue;
      accounts.add(a.id);
      local.push(folder ? { accountId: a.id, folder } : { accountId: a.id });
    }
    for (const f of r.forward) {
      const key = f.toLowerCase();
      if (seenRemote.has(key)) continue;
      seenRemote.add(key);
      remote.push(f);
      const orcpt = r.orcpt ?? (key !== r.address.toLowerCase() ? `rfc822;${r.address}` : null);
      if (r.notify || r.orcpt) rcptDsn[f] = { ...(r.notify ? { notify: r.notify } : {}), ...(orcpt ? { orcpt } : {}) };
    }
  }
  return { local, remote, rcptDsn: Object.keys(rcptDsn).length ? rcptDsn : undefined };
}

export interface PipelineDeps {
  store: MailStore;
  /** Sieve and the spam verdict's Junk filing (./filter-types.ts; ctx.deliveryFilter). Absent: every copy to `folder`. */
  filter?: DeliveryFilter | null;
  log: Logger;
  /** Told about every local delivery after it is committed (ServerContext.deliveryHooks). */
  deliveryHooks?: readonly DeliveryHook[];
  /** Wakes the queue workers after a queue entry was committed. */
  kick?: () => void;
}

export interface PipelineRequest {
  /** The message exactly as it is to be stored and sent (trace fields, DKIM signature already on it). */
  raw: Uint8Array;
  /** Envelope sender ("" for a delivery report): the queue entry's sender and what the hooks see. */
  envelopeFrom: string;
  recipients: readonly ResolvedRecipient[];
  /** Folder for the local copies (inbound junk goes to "Junk"); default INBOX. */
  folder?: string;
  /** The queue entry's DSN options (RET, ENVID, what the sender may be told: ./dsn-policy.ts). */
  dsn?: QueueEntry["dsn"];
  /** Also file a copy in this folder, e.g. the sender's Sent (flagged \Seen), in the same commit. */
  sentCopy?: { folderId: number; flags?: string[] };
  /** Run the delivery hooks for the local copies (default true; false for junk: RFC 3834 §2). */
  hooks?: boolean;
  /** Where the message came from, passed to the hooks (src/context.ts DeliveryOrigin). */
  origin?: DeliveryOrigin;
  /** The spam filter's verdict (inbound SMTP): per-account X-Spam-* fields, Sieve spamtest, Junk filing. */
  spam?: SpamVerdict | null;
  /** The connecting client (Sieve environment "remote-ip"). */
  remoteIp?: string | null;
  /**
   * True when the caller can refuse the message at protocol level (SMTP DATA):
   * if every local recipient's script rejects it and nothing else is to be
   * delivered, nothing is committed and the result's `smtpReject` carries the
   * reason (RFC 5429 §2.1.1). False (the default): rejections become notices
   * to the sender.
   */
  canRefuse?: boolean;
}

export interface PipelineResult {
  /** The local copies as committed. */
  delivered: DeliveryResult[];
  /** Accounts that got a copy. */
  accountIds: number[];
  /** Remote addresses in the queue entry. */
  queued: string[];
  queueId: number | null;
  /** Set when `canRefuse` and every recipient's Sieve script refused the message: nothing was committed; answer 550 5.7.1 with this text. */
  smtpReject?: string;
}

/**
 * Commits one message to every local recipient and the queue in one
 * transaction, then wakes the queue and runs the hooks. Throws what the store
 * throws (QuotaExceededError, StorageFullError, ...) with nothing committed.
 */
export async function deliverMessage(deps: PipelineDeps, req: PipelineRequest): Promise<PipelineResult> {
  const plan = planDelivery(req.recipients, req.folder);
  if (plan.local.length === 0 && plan.remote.length === 0 && !req.sentCopy) return { delivered: [], accountIds: [], queued: [], queueId: null };
  // Sieve and the spam verdict decide where each account's copies go (./sieve-filter.ts).
  const fp =
    deps.filter && plan.local.length
      ? await deps.filter.plan({
          raw: req.raw,
          envelopeFrom: req.envelopeFrom,
          recipients: req.recipients,
          folder: req.folder,
          spam: req.spam ?? null,
          origin: req.origin,
          remoteIp: req.remoteIp ?? null,
        })
      : null;
  let local = plan.local;
  let extraQueues: NonNullable<DeliverAndEnqueueRequest["extraQueues"]> = [];
  if (fp) {
    // RFC 5429 §2.1.1: refuse at protocol level when every local recipient's script rejected it and
    // nothing else is to be delivered (one DATA reply covers every recipient); nothing is committed.
    const rejectedAll = fp.rejected.length > 0 && new Set(fp.rejected.map((r) => r.accountId)).size === new Set(plan.local.map((l) => l.accountId)).size;
    if (req.canRefuse && rejectedAll && fp.local.length === 0 && fp.extraQueues.length === 0 && plan.remote.length === 0 && !req.sentCopy) {
      return { delivered: [], accountIds: [], queued: [], queueId: null, smtpReject: fp.rejected[0]!.reason.replace(/[\r\n]+/g, " ").slice(0, 400) };
    }
    local = [...fp.local, ...fp.notices.local];
    extraQueues = [...fp.extraQueues, ...fp.notices.queues];
  } else if (req.spam) {
    // no filter: the verdict alone (each account's X-Spam-* fields on its copy, spam to Junk)
    const spam = req.spam;
    local = plan.local.map((l) => {
      const v = spam.accounts.get(l.accountId);
      if (!v) return l;
      const raw = v.headers ? withSpamFields(req.raw, v.headers) : undefined;
      return { ...l, ...(v.isSpam ? { folder: "Junk" } : {}), ...(raw ? { raw } : {}) };
    });
  }
  const res = await deps.store.deliverAndEnqueue({
    raw: req.raw,
    local,
    copies: req.sentCopy ? [{ folderId: req.sentCopy.folderId, flags: req.sentCopy.flags ?? ["\\Seen"] }] : undefined,
    queue: plan.remote.length ? { sender: req.envelopeFrom, recipients: plan.remote, dsn: req.dsn ?? undefined, rcptDsn: plan.rcptDsn } : undefined,
    ...(extraQueues.length ? { extraQueues } : {}),
  });
  const accountIds = [...new Set(res.delivered.map((d) => d.accountId))];
  if (res.queueId !== null || res.extraQueueIds?.length) deps.kick?.();
  // After the commit, never before: a reply must not answer a message that was not kept.
  if (fp) void fp.afterCommit({ accountIds, queueIds: res.extraQueueIds ?? [] });
  // The hooks (iMIP) see the accounts that got a copy outside Junk (RFC 3834 §2).
  const hookIds = fp ? fp.hookAccountIds : local.filter((l) => (l.folder ?? "INBOX").toLowerCase() !== "junk").map((l) => l.accountId);
  if (hookIds.length && req.hooks !== false && deps.deliveryHooks?.length) {
    runDeliveryHooks(deps.deliveryHooks, { accountIds: hookIds, envelopeFrom: req.envelopeFrom, raw: req.raw, ...(req.origin ? { origin: req.origin } : {}) }, deps.log);
  }
  return { delivered: res.delivered, accountIds, queued: plan.remote, queueId: res.queueId };
}
