/**
 * SendMail, SmartReply, SmartForward (MS-ASCMD §2.2.1.17, §2.2.1.20,
 * §2.2.1.19). 14.0+ sends WBXML (ComposeMail namespace) with the MIME in
 * Mime; 12.1 posts the MIME itself (Content-Type message/rfc822) with
 * SaveInSent/ItemId/CollectionId in the query. Everything goes through the
 * protocol-neutral send path (ctx.submit): sender checks, DKIM, local
 * delivery, queue, copy to Sent. Success is an empty 200 response; a
 * failure carries Status (§2.2.3.177.14/16).
 */
import { SubmitError } from "../../../../src/delivery/submit.ts";
import { parseMime } from "../../../../mail/index.ts";
import type { CommandHandler, EasContext, EasResult } from "../context.ts";
import { addThreadHeaders, finalise, fromAddress, normaliseLineEnds, recipientsOf, smartCompose, type SmartKind } from "../email/compose.ts";
import { folderByServerId, parseItemServerId } from "../folders.ts";
import { applySentMeetingReply } from "../email/meeting-sent.ts";
import { Common } from "../status.ts";
import { bytes, kid, kidText, ns } from "../wbxml/tree.ts";

const C = ns("ComposeMail");

/**
 * ClientIds already sent, per device (MS-ASCMD ClientId (SendMail): a re-sent ClientId is not sent
 * twice, Status 118). Kept per ActiveSync store, since device row ids are only unique within one
 * store (two servers in one process, as in the tests, must not see each other's ids).
 */
const recentClientIds = new WeakMap<object, Map<string, number>>();
const MAX_RECENT = 10_000;

function remember(c: EasContext, key: string): boolean {
  let seen = recentClientIds.get(c.eas);
  if (!seen) recentClientIds.set(c.eas, (seen = new Map()));
  if (seen.has(key)) return false;
  seen.set(key, Date.now());
  if (seen.size > MAX_RECENT) seen.delete(seen.keys().next().value!);
  return true;
}

function forget(c: EasContext, key: string): void {
  recentClientIds.get(c.eas)?.delete(key);
}

interface SendInput {
  kind: "send" | SmartKind;
  mime: Uint8Array;
  saveInSent: boolean;
  clientId: string | null;
  replaceMime: boolean;
  source: { folderId?: string; itemId?: string; longId?: string } | null;
}

async function send(c: EasContext, x: SendInput): Promise<number | null> {
  if (!x.mime.length) return Common.InvalidMIME;
  if (x.clientId && !remember(c, `${c.device.pk}:${x.clientId}`)) return 118; // MessagePreviouslySent
  let raw = normaliseLineEnds(x.mime);
  let parsed;
  try {
    parsed = parseMime(raw);
  } catch {
    return Common.InvalidMIME;
  }
  if (!parsed.headers.length) return Common.InvalidMIME;
  const rcpts = recipientsOf(parsed.headers);
  if (!rcpts.all.length) return Common.MessageHasNoRecipient;

  let original: { folderId: number; uid: number } | null = null;
  if (x.kind !== "send") {
    const sid = x.source?.itemId ?? x.source?.longId;
    const p = parseItemServerId(sid);
    const msg = p ? await c.store.getMessageById(p.itemId) : null;
    const folder = msg ? await c.store.getFolderById(msg.folderId) : null;
    const named = x.source?.folderId !== undefined ? await folderByServerId(c.store, c.account.id, x.source.folderId) : folder;
    if (!msg || !folder || folder.accountId !== c.account.id || !named || named.id !== folder.id) return Common.ItemNotFound;
    original = { folderId: folder.id, uid: msg.uid };
    const origRaw = await c.store.readMessage(msg.id);
    if (!x.replaceMime) raw = smartCompose(raw, msg, origRaw, x.kind);
    // RFC 5322 §3.6.4: the reply (or forward) names its source when the device's MIME does not.
    raw = addThreadHeaders(raw, origRaw);
  }
  raw = finalise(raw, c.server.config.hostname, c.now());

  const allowed = (await c.store.sendAsAddresses(c.account.id)).map((a) => a.toLowerCase());
  const from = fromAddress(parsed.headers);
  const envelopeFrom = from && allowed.includes(from.toLowerCase()) ? from : c.account.email;
  try {
    await c.server.submit({ account: c.account, envelopeFrom, recipients: rcpts.all, raw, saveToSent: x.saveInSent });
  } catch (e) {
    if (x.clientId) forget(c, `${c.device.pk}:${x.clientId}`); // not sent: the device may retry
    if (e instanceof SubmitError) {
      c.log.info("eas: submission refused", { code: e.code, err: e.message });
      switch (e.code) {
        case "SENDER":
          return Common.AccessDenied;
        case "RECIPIENT":
          return Common.InvalidRecipients;
        case "QUOTA":
          return Common.SendQuotaExceeded;
        case "SIZE":
          return Common.AttachmentIsTooLarge;
        case "TEMP":
          return Common.ServerErrorRetryLater;
      }
    }
    c.log.error("eas: submission failed", { err: e });
    return Common.MailSubmissionFailed;
  }
  if (original) {
    // MS-ASEMAIL LastVerbExecuted comes from these flags.
    await c.store.storeFlags(original.folderId, [original.uid], "add", [x.kind === "reply" ? "\\Answered" : "$Forwarded"]).catch(() => undefined);
  }
  await applySentMeetingReply(c, raw); // a device's own iMIP REPLY (12.1–14.1) updates its user's calendar copy too
  return null;
}

function root(kind: SendInput["kind"]): string {
  return kind === "send" ? "SendMail" : kind === "reply" ? "SmartReply" : "SmartForward";
}

function answer(c: EasContext, kind: SendInput["kind"], status: number | null): EasResult {
  if (status === null) return { body: new Uint8Array(0) };
  if (c.version >= 140) return { wbxml: C(root(kind), C("Status", status)) };
  // 12.x has no response body: the HTTP status says it (MS-ASCMD §2.2.1.17, 12.1 behaviour).
  const http = status === Common.ServerErrorRetryLater ? 503 : status === Common.AccessDenied ? 403 : status === Common.MailSubmissionFailed ? 500 : 400;
  return { status: http, body: new Uint8Array(0) };
}

function handler(kind: SendInput["kind"]): CommandHandler {
  return async (c, doc, raw) => {
    if (c.version < 140 || !doc) {
      // 12.x: the body is the MIME message; parameters are in the query.
      const p = c.req.params;
      const status = await send(c, {
        kind,
        mime: raw,
        saveInSent: c.req.saveInSent,
        clientId: null,
        replaceMime: false,
        source: kind === "send" ? null : { folderId: p.CollectionId, itemId: p.ItemId, longId: p.LongId },
      });
      return answer(c, kind, status);
    }
    const source = kid(doc, "ComposeMail:Source");
    const status = await send(c, {
      kind,
      mime: bytes(kid(doc, "ComposeMail:Mime")),
      saveInSent: kid(doc, "ComposeMail:SaveInSentItems") !== undefined,
      clientId: kidText(doc, "ComposeMail:ClientId") ?? null,
      replaceMime: kid(doc, "ComposeMail:ReplaceMime") !== undefined,
      source: source ? { folderId: kidText(source, "ComposeMail:FolderId"), itemId: kidText(source, "ComposeMail:ItemId"), longId: kidText(source, "ComposeMail:LongId") } : null,
    });
    return answer(c, kind, status);
  };
}

export const sendMail = handler("send");
export const smartReply = handler("reply");
export const smartForward = handler("forward");
