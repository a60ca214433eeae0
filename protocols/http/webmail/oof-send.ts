/**
 * The out-of-office hook for the delivery path: one call after a message
 * has been stored in an account's INBOX.
 *
 *   import { maybeAutoReply } from "../../protocols/http/webmail/oof-send.ts";
 *   void maybeAutoReply(ctx, { accountId, envelopeFrom, raw }).catch((err) => log.warn("auto-reply failed", { err }));
 *
 * It reads the account's out-of-office settings and the sent-log, applies the
 * RFC 3834 rules of oof.ts, sends the reply through ctx.submit (DKIM, queue)
 * and records it. Never throws for a message that should simply get no reply.
 *
 * The reply's envelope sender is the account's own address: RFC 3834 §3.3
 * recommends the null reverse-path, but the shared send path only sends as
 * addresses the account owns. Loops stay impossible: the reply carries
 * `Auto-Submitted: auto-replied` (§5), to which no RFC 3834 responder
 * (including this one) answers, and each sender gets at most one per period.
 */
import type { ServerContext } from "../../../src/context.ts";
import type { WebmailStore } from "../../../storage/webmail-store.ts";
import { shouldAutoReply, buildAutoReply, DEFAULT_OOF_PERIOD_MS, type OofSettings } from "./oof.ts";
import { splitReferences } from "./mime.ts";

function storeFor(ctx: ServerContext): Promise<WebmailStore> {
  return Promise.resolve(ctx.storage.webmail);
}

/** Unfolded header fields of a message (RFC 5322 §2.2.3), from at most its first 64 KB. */
export function headerFields(raw: Uint8Array): { name: string; value: string }[] {
  const head = new TextDecoder("latin1").decode(raw.subarray(0, 65536));
  const end = head.search(/\r?\n\r?\n/);
  const block = (end >= 0 ? head.slice(0, end) : head).replace(/\r?\n[ \t]+/g, " ");
  const out: { name: string; value: string }[] = [];
  for (const line of block.split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i > 0) out.push({ name: line.slice(0, i).trim(), value: line.slice(i + 1).trim() });
  }
  return out;
}

export type AutoReplyOutcome = { sent: true; to: string } | { sent: false; reason: string };

export async function maybeAutoReply(
  ctx: ServerContext,
  msg: { accountId: number; envelopeFrom: string; raw: Uint8Array; now?: number; periodMs?: number },
): Promise<AutoReplyOutcome> {
  const account = await ctx.store.getAccountById(msg.accountId);
  const oof = account?.settings.oof as OofSettings | undefined;
  if (!account || !oof?.enabled) return { sent: false, reason: "disabled" };
  const now = msg.now ?? Date.now();
  const wstore = await storeFor(ctx);
  const headers = headerFields(msg.raw);
  const sender = msg.envelopeFrom.trim().toLowerCase();
  const decision = shouldAutoReply({
    oof,
    now,
    envelopeFrom: sender,
    headers,
    recipientAddresses: (await ctx.store.sendAsAddresses(account.id)).map((a) => a.toLowerCase()),
    lastSentAt: sender ? await wstore.oofLastSent(account.id, sender) : null,
    periodMs: msg.periodMs ?? DEFAULT_OOF_PERIOD_MS,
  });
  if (!decision.send) return { sent: false, reason: decision.reason };
  const h = (n: string) => headers.find((x) => x.name.toLowerCase() === n)?.value ?? null;
  // Record first: a crash after sending must not make the next message send a second reply.
  await wstore.oofRecordSent(account.id, decision.to, now);
  const raw = await buildAutoReply({
    oof,
    from: { name: account.settings.displayName ?? "", address: account.email },
    to: decision.to,
    originalSubject: decodeSubject(h("subject") ?? ""),
    originalMessageId: h("message-id"),
    originalReferences: splitReferences(h("references")),
  });
  await ctx.submit({ account, envelopeFrom: account.email, recipients: [decision.to], raw, saveToSent: false });
  return { sent: true, to: decision.to };
}

function decodeSubject(s: string): string {
  // Encoded words are left to buildMessage's "Re:" only when no subject is configured; keep it printable.
  return s.replace(/[\r\n]+/g, " ").slice(0, 300);
}
