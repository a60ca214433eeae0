/**
 * Sending mail over EWS (MS-OXWSMSG): CreateItem's SendOnly and
 * SendAndSaveCopy, UpdateItem's send of an edited draft, SendItem, and the
 * reply/forward response objects all end here. Every send goes through the
 * delivery pipeline (ctx.submit: sender checks, DKIM, local delivery,
 * queue); the sent copy is filed after (or with) the send, with its Bcc.
 */
import type { Folder } from "../../../storage/api.ts";
import { SubmitError } from "../../../src/delivery/submit.ts";
import { canonicalLineEnds, foldHeader, formatAddress, headerValue, parseMime } from "../../../mail/index.ts";
import { concat, finalise, fromAddress, headerLines, recipientsOf } from "../eas/email/compose.ts";
import { EwsError, type EwsContext } from "./context.ts";
import { resolveDistinguished, type ItemRef } from "./ids.ts";
import type { KindItem } from "./kinds.ts";
import type { MailItem } from "./mail-read.ts";

// ------------------------------------------------------------ loading

/** The calling account's message by its ItemRef (ErrorItemNotFound when gone or another's). */
export async function loadMail(c: EwsContext, ref: ItemRef): Promise<KindItem<MailItem>> {
  const index = ref.itemClass === "mail" ? await c.store.getMessageById(ref.id) : null;
  const folder = index ? await c.store.getFolderById(index.folderId) : null;
  if (!index || !folder || folder.accountId !== c.account.id) throw new EwsError("ErrorItemNotFound", "The item was not found in this mailbox.");
  return { ref: { accountId: c.account.id, itemClass: "mail", id: index.id }, folderId: index.folderId, modseq: index.modseq, data: { index } };
}

export const maxSize = (c: EwsContext) => c.server.config.limits.maxMessageSize;

export function checkSize(c: EwsContext, raw: Uint8Array): void {
  if (raw.length > maxSize(c)) throw new EwsError("ErrorMessageSizeExceeded", `The message is larger than the size limit (${maxSize(c)} bytes).`);
}

// ------------------------------------------------------------ sending

/** The account's From when the message names none (its display name and address). */
export function ownMailbox(c: EwsContext): { name: string; address: string } {
  return { name: typeof c.account.settings.displayName === "string" ? c.account.settings.displayName : "", address: c.account.email };
}

async function sendAsAllowed(c: EwsContext, address: string): Promise<boolean> {
  const a = address.toLowerCase();
  return a === c.account.email || (await c.store.sendAsAddresses(c.account.id)).some((x) => x.toLowerCase() === a);
}

/** The message with a Bcc field written back after `finalise` dropped it (for the saved copy only). */
function withBcc(sent: Uint8Array, original: Uint8Array): Uint8Array {
  const parsed = parseMime(original);
  const bcc = headerLines(original, parsed.root.headerStart, parsed.root.bodyStart).filter((l) => l.name === "bcc");
  return bcc.length ? concat([...bcc.map((l) => original.subarray(l.start, l.end)), sent]) : sent;
}

export interface SendRequest {
  /** The message as composed, in canonical form, Bcc included. */
  raw: Uint8Array;
  /** Where the sent copy goes (SendAndSaveCopy), or null (SendOnly). */
  saveTo: Folder | null;
  /** A stored draft that becomes the saved copy (same item id) or is removed when nothing is saved. */
  draft?: KindItem<MailItem>;
}

/**
 * Submits a message (ctx.submit) and files the sent copy. The recipients are
 * the message's To, Cc and Bcc; what is sent has no Bcc field, the saved
 * copy keeps it. The copy goes in with the send when it can (one commit: the
 * Sent folder, no Bcc), else right after it; a copy that cannot be filed
 * after the message went out is logged, not reported, so the client does
 * not send it twice.
 */
export async function sendMessage(c: EwsContext, req: SendRequest): Promise<void> {
  checkSize(c, req.raw);
  let parsed;
  try {
    parsed = parseMime(req.raw);
  } catch {
    throw new EwsError("ErrorMimeContentConversionFailed", "The message could not be read as MIME.");
  }
  const rcpts = recipientsOf(parsed.headers);
  if (!rcpts.all.length) throw new EwsError("ErrorInvalidRecipients", "The message has no recipients.");
  if (rcpts.all.length > 1000) throw new EwsError("ErrorInvalidRecipients", "At most 1000 recipients per message.");
  if (headerValue(parsed.headers, "from") === null) {
    // A MIME message without From (a client's bare draft) is sent from the account, as Exchange does.
    req = { ...req, raw: concat([foldHeader("From", formatAddress(ownMailbox(c))), req.raw]) };
    parsed = parseMime(req.raw);
  }
  const from = fromAddress(parsed.headers);
  if (!from || !(await sendAsAllowed(c, from))) throw new EwsError("ErrorSendAsDenied", `This account cannot send as ${(from ?? "(no From)").slice(0, 100)}.`);
  const sent = finalise(req.raw, c.server.config.hostname, c.now());
  const copy = withBcc(sent, req.raw);
  const sentFolder = req.saveTo ? (await resolveDistinguished(c, "sentitems")) : null;
  const atomic = !!req.saveTo && !req.draft && copy === sent && sentFolder?.kind === "store" && sentFolder.folder.id === req.saveTo.id;
  try {
    await c.server.submit({ account: c.account, envelopeFrom: from, recipients: rcpts.all, raw: sent, saveToSent: atomic });
  } catch (e) {
    if (e instanceof SubmitError) {
      c.log.info("ews: submission refused", { code: e.code, err: e.message });
      const code = { SENDER: "ErrorSendAsDenied", RECIPIENT: "ErrorInvalidRecipients", QUOTA: "ErrorQuotaExceeded", SIZE: "ErrorMessageSizeExceeded", TEMP: "ErrorServerBusy" }[e.code];
      throw new EwsError(code, e.message);
    }
    throw e;
  }
  try {
    if (req.draft) {
      const d = req.draft;
      if (req.saveTo) {
        // The draft becomes the sent copy: same item, the sent bytes (Bcc kept), read, no longer a draft.
        await c.store.replaceMessage(d.ref.id, { raw: copy, flags: ["\\Seen"] });
        if (req.saveTo.id !== d.folderId) {
          const moved = await c.store.getMessageById(d.ref.id);
          if (moved) await c.store.move(moved.folderId, [moved.uid], req.saveTo.id);
        }
      } else {
        const now = await c.store.getMessageById(d.ref.id);
        if (now) {
          await c.store.storeFlags(now.folderId, [now.uid], "add", ["\\Deleted"], { silent: true });
          await c.store.expunge(now.folderId, [now.uid]);
        }
      }
    } else if (req.saveTo && !atomic) {
      await c.store.append(req.saveTo.id, [{ raw: copy, flags: ["\\Seen"] }]);
    }
  } catch (e) {
    c.log.error("ews: message sent, but its copy could not be filed", { err: e instanceof Error ? e.message : String(e) });
  }
}

export async function sentFolder(c: EwsContext): Promise<Folder> {
  const r = await resolveDistinguished(c, "sentitems");
  if (r.kind !== "store") throw new EwsError("ErrorFolderNotFound", "No Sent Items folder.");
  return r.folder;
}

/** SendItem (MS-OXWSCORE §3.1.4.7): a stored draft sent; the copy saved in `savedFolder` (default Sent) or the draft removed. */
export async function sendStoredDraft(c: EwsContext, ref: ItemRef, opts: { saveCopy: boolean; savedFolder: Folder | null }): Promise<void> {
  const item = await loadMail(c, ref);
  const saveTo = opts.saveCopy ? (opts.savedFolder ?? (await sentFolder(c))) : null;
  if (saveTo && saveTo.itemClass !== "mail") throw new EwsError("ErrorInvalidRequest", "A sent message can only be saved in a mail folder.");
  await sendMessage(c, { raw: canonicalLineEnds(await c.store.readMessage(ref.id)), saveTo, draft: item });
}
