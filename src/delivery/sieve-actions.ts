/**
 * One account's Sieve outcome turned into what the pipeline commits (issue
 * 19): copies (keep, fileinto, the implicit keep), queue entries (redirect),
 * rejection notices, and the work left for after the commit (vacation,
 * duplicate ids). ./sieve-filter.ts runs the scripts and calls this.
 *
 *  - keep / implicit keep file into the account's default folder: INBOX, or
 *    Junk when the spam verdict says so (or the DMARC quarantine asked for
 *    it); an explicit fileinto is honoured as written (RFC 5228 §4.1).
 *  - fileinto :create creates the folder in the commit (RFC 5490 §3.2);
 *    without it a missing folder is the interpreter's runtime error, and the
 *    store falls back to INBOX as a last resort.
 *  - redirect (RFC 5228 §4.2): to a remote address through the queue with an
 *    SRS envelope sender (./srs.ts) and the message as the script left it;
 *    to a local address as a copy in that account's INBOX. Loops are cut
 *    three ways: never to the account's own addresses, never past the hop
 *    limit, and each (Message-ID, target) at most once (a duplicate record).
 *  - reject/ereject (RFC 5429): an MDN to the envelope sender, never to "".
 */
import type { DeliverAndEnqueueRequest, DeliveryRecipient, MailStore } from "../../storage/api.ts";
import type { SieveStore } from "../../storage/filter-api.ts";
import type { Logger } from "../log.ts";
import type { SieveAction } from "../sieve/types.ts";
import { headerFieldsNamed } from "../../mail/line-endings.ts";
import { parseMessageIds } from "../../mail/address.ts";
import { buildRejectNotice } from "./sieve-reject.ts";
import type { Srs } from "./srs.ts";

/** Received fields at or above which a message is not redirected again (protocols/smtp/inbound.ts refuses at 50: RFC 5321 §6.3). */
export const REDIRECT_MAX_HOPS = 49;
/** How long a (Message-ID, target) redirect is remembered: the same message is redirected once. */
const REDIRECT_MEMORY_SECONDS = 7 * 86_400;

export type ExtraQueue = NonNullable<DeliverAndEnqueueRequest["extraQueues"]>[number];

export interface AccountContext {
  store: MailStore;
  sieve: SieveStore;
  srs: () => Srs;
  log: Logger;
  hostname: string;
  accountId: number;
  accountEmail: string;
  /** The account's own addresses (lower-case, read when first needed): redirect never goes to them. */
  ownAddresses: () => Promise<ReadonlySet<string>>;
  /** The envelope recipient that reached this account. */
  recipient: string;
  envelopeFrom: string;
  /** Where keep files: INBOX, or Junk (spam verdict, DMARC quarantine). */
  keepFolder: string;
  now: number;
}

export interface AccountPlan {
  copies: DeliveryRecipient[];
  extraQueues: ExtraQueue[];
  notices: { local: DeliveryRecipient[]; queues: ExtraQueue[] };
  rejected: { reason: string; extended: boolean } | null;
  /** After the commit: duplicate ids to record (key, expiry ms). */
  duplicates: { key: string; expiresAt: number }[];
  vacations: Extract<SieveAction, { type: "vacation" }>[];
}

const isJunk = (folder: string) => folder.toLowerCase() === "junk";

/** A copy of `raw` only when it differs from the base (equal bytes share one blob anyway; this keeps the request small). */
function copy(accountId: number, folder: string, flags: string[], raw: Uint8Array, base: Uint8Array, create = false): DeliveryRecipient {
  return {
    accountId,
    folder,
    ...(flags.length ? { flags } : {}),
    ...(create ? { create: true } : {}),
    ...(raw !== base ? { raw } : {}),
  };
}

/**
 * The plan of one account from its scripts' actions. `message` is the bytes
 * this account sees (its spam fields on top); `finalMessage` what the
 * implicit keep stores (after editheader).
 */
export async function planAccount(
  ctx: AccountContext,
  run: { actions: SieveAction[]; implicitKeep: boolean; implicitKeepFlags: string[]; message: Uint8Array; finalMessage: Uint8Array },
  base: Uint8Array,
): Promise<AccountPlan> {
  const plan: AccountPlan = { copies: [], extraQueues: [], notices: { local: [], queues: [] }, rejected: null, duplicates: [], vacations: [] };
  let keep = run.implicitKeep;
  let keepFlags = run.implicitKeepFlags;
  const fields = headerFieldsNamed(run.message, ["message-id", "received"]);
  const messageId = parseMessageIds(fields.find((f) => f.key === "message-id")?.value ?? null)[0] ?? null;
  const hops = fields.filter((f) => f.key === "received").length;
  for (const a of run.actions) {
    switch (a.type) {
      case "keep":
        plan.copies.push(copy(ctx.accountId, ctx.keepFolder, a.flags, a.message ?? run.message, base));
        break;
      case "fileinto":
        plan.copies.push(copy(ctx.accountId, a.mailbox, a.flags, a.message ?? run.message, base, a.create));
        break;
      case "discard":
        break;
      case "redirect": {
        const ok = await redirect(ctx, plan, a.address, a.message ?? run.message, messageId, hops, base);
        // a refused redirect must not lose the message: it is kept instead
        if (!ok && !a.copy) {
          keep = true;
          keepFlags = [];
        }
        break;
      }
      case "reject":
        plan.rejected = { reason: a.reason, extended: a.extended };
        await rejectNotice(ctx, plan, a.reason, run.message);
        break;
      case "vacation":
        plan.vacations.push(a);
        break;
      case "duplicate":
        plan.duplicates.push({ key: a.key, expiresAt: ctx.now + a.expirySeconds * 1000 });
        break;
    }
  }
  if (keep) plan.copies.push(copy(ctx.accountId, ctx.keepFolder, keepFlags, run.finalMessage, base));
  return plan;
}

async function redirect(ctx: AccountContext, plan: AccountPlan, target: string, message: Uint8Array, messageId: string | null, hops: number, base: Uint8Array): Promise<boolean> {
  // RFC 5321 §2.4: the local part's case is kept on the wire (the domain is case-blind)
  const to = target.trim();
  const at = to.lastIndexOf("@");
  const lower = to.toLowerCase();
  if ((await ctx.ownAddresses()).has(lower)) {
    ctx.log.info("sieve redirect to the account's own address refused", { account: ctx.accountEmail, to });
    return false;
  }
  if (hops >= REDIRECT_MAX_HOPS) {
    ctx.log.warn("sieve redirect refused: too many hops", { account: ctx.accountEmail, to, hops });
    return false;
  }
  // RFC 5228 §4.2 leaves loop control to the implementation: the same message to the same target once.
  const key = `redirect:${messageId ?? "(no id)"}:${at > 0 ? to.slice(0, at) + to.slice(at).toLowerCase() : to}`;
  if (messageId && (await ctx.sieve.duplicateSeen(ctx.accountId, key, ctx.now))) {
    ctx.log.info("sieve redirect skipped: this message was already redirected there", { account: ctx.accountEmail, to });
    return true;
  }
  const r = await ctx.store.resolveRecipient(lower);
  if (r === null || (r !== "remote" && r.accounts.length === 0 && r.forward.length === 0)) {
    ctx.log.warn("sieve redirect to an unknown local address", { account: ctx.accountEmail, to });
    return false;
  }
  if (r === "remote" || r.forward.length) {
    const remote = r === "remote" ? [to] : r.forward;
    const domain = ctx.accountEmail.slice(ctx.accountEmail.lastIndexOf("@") + 1);
    // SPF of the original sender's domain would fail at the next hop: the envelope sender becomes ours (SRS).
    plan.extraQueues.push({ sender: ctx.srs().forward(ctx.envelopeFrom, domain, ctx.now), recipients: [...remote], raw: message });
  }
  if (r !== "remote") for (const acc of r.accounts) if (acc.id !== ctx.accountId) plan.copies.push(copy(acc.id, "INBOX", [], message, base));
  if (messageId) plan.duplicates.push({ key, expiresAt: ctx.now + REDIRECT_MEMORY_SECONDS * 1000 });
  return true;
}

async function rejectNotice(ctx: AccountContext, plan: AccountPlan, reason: string, message: Uint8Array): Promise<void> {
  const sender = ctx.envelopeFrom.trim();
  // RFC 5429 §2.1.1: never a notice to the null reverse-path (nor to our own daemons).
  if (!sender || /^mailer-daemon@/i.test(sender)) return;
  const notice = buildRejectNotice({ original: message, recipient: ctx.recipient, to: sender, reason, hostname: ctx.hostname });
  const r = await ctx.store.resolveRecipient(sender.toLowerCase());
  if (r !== null && r !== "remote" && r.accounts.length) {
    for (const acc of r.accounts) plan.notices.local.push({ accountId: acc.id, raw: notice });
    return;
  }
  plan.notices.queues.push({ sender: "", recipients: [sender], raw: notice });
}

export { isJunk };
