/**
 * The mail response objects of CreateItem (Types.xsd SmartResponseType:
 * ReplyToItem, ReplyAllToItem, ForwardItem; MS-OXWSCORE §3.1.4.2.3.6): a new
 * message answering or forwarding the item ReferenceItemId names. The
 * client's NewBodyContent comes first; the server adds the original below
 * it (quoted for a reply, as a forwarded block for a forward, with the
 * original attachments) — the same composition as ActiveSync's SmartReply
 * and SmartForward (eas/email/compose.ts smartCompose, addThreadHeaders).
 * Saved (SaveOnly, a draft in Drafts or SavedItemFolderId) or sent through
 * the delivery pipeline; the original is marked \Answered or $Forwarded.
 */
import { prefixSubject } from "../../../mail/subject.ts";
import { decodeWords, type Mailbox } from "../../../mail/index.ts";
import { addThreadHeaders, smartCompose } from "../eas/email/compose.ts";
import { EwsError, type EwsContext } from "./context.ts";
import { ownItemId, resolveDistinguished } from "./ids.ts";
import type { CreateOptions, KindItem } from "./kinds.ts";
import { applyMessageElement, buildMessage, emptyDraft } from "./mail-compose.ts";
import type { MailItem } from "./mail-read.ts";
import { loadMail, sendMessage } from "./mail-send.ts";
import { attr, kid, type XmlElement } from "./xml.ts";

export const REPLY_ELEMENTS: ReadonlySet<string> = new Set(["ReplyToItem", "ReplyAllToItem", "ForwardItem"]);

function mailboxes(list: { name: string | null; mailbox: string | null; host: string | null }[] | null): Mailbox[] {
  return (list ?? []).filter((a) => a.mailbox && a.host && a.host !== "MISSING_DOMAIN").map((a) => ({ name: a.name ? decodeWords(a.name) : "", address: `${a.mailbox}@${a.host}` }));
}

/** CreateItem of a ReplyToItem, ReplyAllToItem or ForwardItem: the new message's item when saved, null when sent. */
export async function createReply(c: EwsContext, el: XmlElement, opts: CreateOptions): Promise<KindItem<MailItem> | null> {
  const refEl = kid(el, "ReferenceItemId");
  if (!refEl) throw new EwsError("ErrorInvalidRequest", `${el.name} needs a ReferenceItemId.`);
  const ref = ownItemId(c, attr(refEl, "Id"));
  if (ref.itemClass !== "mail") throw new EwsError("ErrorInvalidReferenceItem", "Only messages can be replied to or forwarded here.");
  const orig = await loadMail(c, ref);
  const origRaw = await c.store.readMessage(orig.ref.id);
  const env = orig.data.index.envelope;
  const max = c.server.config.limits.maxMessageSize;
  const forward = el.name === "ForwardItem";

  // The client's fields first (Subject, Body, recipients, From); NewBodyContent is the new text.
  const nb = kid(el, "NewBodyContent");
  let d = applyMessageElement(emptyDraft(), el, max);
  if (nb) d = { ...d, body: { html: (nb.attrs.BodyType ?? "Text") === "HTML", content: nb.text } };
  const own = c.account.email;
  if (!d.from) d.from = { name: typeof c.account.settings.displayName === "string" ? c.account.settings.displayName : "", address: own };
  if (!kid(el, "Subject")) d.subject = prefixSubject(forward ? "Fwd" : "Re", orig.data.index.subject);
  if (!forward && !kid(el, "ToRecipients")) {
    // RFC 5322 §3.6.3: a reply goes to Reply-To when there is one, else to From; reply-all adds To and Cc, without oneself.
    const replyTo = mailboxes(env.replyTo);
    d.to = replyTo.length ? replyTo : mailboxes(env.from);
    if (el.name === "ReplyAllToItem") {
      const seen = new Set(d.to.map((m) => m.address.toLowerCase()));
      const add = (l: Mailbox[]) => l.filter((m) => m.address.toLowerCase() !== own && !seen.has(m.address.toLowerCase()) && seen.add(m.address.toLowerCase()));
      d.to = [...d.to, ...add(mailboxes(env.to))];
      if (!kid(el, "CcRecipients")) d.cc = add(mailboxes(env.cc));
    }
  }
  if (forward && !d.to.length && !d.cc.length && !d.bcc.length && opts.disposition !== "SaveOnly") throw new EwsError("ErrorInvalidRecipients", "A forward needs recipients.");
  let raw = buildMessage(d, { keepBcc: true });
  raw = smartCompose(raw, orig.data.index, origRaw, forward ? "forward" : "reply");
  raw = addThreadHeaders(raw, origRaw);

  const disposition = opts.disposition ?? "SendAndSaveCopy";
  let result: KindItem<MailItem> | null = null;
  if (disposition === "SaveOnly") {
    const folder = opts.savedFolder ?? (await draftsFolder(c));
    if (raw.length > max) throw new EwsError("ErrorMessageSizeExceeded", `The message is larger than the size limit (${max} bytes).`);
    const [added] = await c.store.append(folder.id, [{ raw, flags: ["\\Draft", "\\Seen"] }]);
    result = await loadMail(c, { accountId: c.account.id, itemClass: "mail", id: added!.id });
  } else {
    const saveTo = disposition === "SendAndSaveCopy" ? (opts.savedFolder ?? (await namedFolder(c, "sentitems"))) : null;
    await sendMessage(c, { raw, saveTo });
    // MS-ASEMAIL LastVerbExecuted / IMAP: the original shows it was answered or forwarded.
    const now = await c.store.getMessageById(orig.ref.id);
    if (now) await c.store.storeFlags(now.folderId, [now.uid], "add", [forward ? "$Forwarded" : "\\Answered"]).catch(() => undefined);
  }
  return result;
}

async function namedFolder(c: EwsContext, name: string) {
  const r = await resolveDistinguished(c, name);
  if (r.kind !== "store") throw new EwsError("ErrorFolderNotFound", `No ${name} folder.`);
  return r.folder;
}

const draftsFolder = (c: EwsContext) => namedFolder(c, "drafts");
