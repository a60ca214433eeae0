/**
 * GetAttachment, CreateAttachment, DeleteAttachment (MS-OXWSATT §3.1.4.1-3).
 * A mail attachment is a MIME part of the stored message (attachment-id.ts:
 * the item and the part's section path). Reading decodes the part (a file as
 * base64 Content, an attached message as a t:Message). Adding or removing
 * an attachment rebuilds a draft's MIME (mail-compose.ts) and replaces the
 * stored message in one store step keeping its item id
 * (MailStore.replaceMessage), so the ItemId the client holds stays valid and
 * only its ChangeKey moves on. The content of sent or received mail is fixed.
 */
import { analyseParts, attachmentContent, findAttachment, type AttachmentInfo } from "../eas/email/convert.ts";
import { decodeHeaderText, decodeWords, headerValue, htmlToText, parseAddressList, parseMailDate, parseMime, type Address } from "../../../mail/index.ts";
import { attachmentIdXml, ownAttachmentId } from "./attachment-id.ts";
import { EwsError, registerOperation, type EwsContext } from "./context.ts";
import { changeKey, itemId, ownItemId, type ItemRef } from "./ids.ts";
import type { KindItem } from "./kinds.ts";
import { applyMessageElement, buildMessage, draftFromMessage, MAX_ATTACHMENTS, type Draft } from "./mail-compose.ts";
import type { MailItem } from "./mail-read.ts";
import { loadMail } from "./mail-send.ts";
import { NS } from "./ns.ts";
import { failure, messageFor, responseMessages, success, asEwsError } from "./responses.ts";
import { attr, dateTime, m, ma, mkid, parseBool, t, tv, type XmlElement } from "./xml.ts";

/** Most attachment ids one request may name. */
const MAX_IDS = 1000;

function onUnexpected(c: EwsContext, op: string): (e: unknown) => void {
  return (e) => c.log.error(`ews: ${op} failed`, { err: e instanceof Error ? (e.stack ?? e.message) : String(e) });
}

function idElements(container: XmlElement | undefined, what: string): XmlElement[] {
  if (!container) throw new EwsError("ErrorInvalidRequest", `${what} is required.`);
  const list = container.children.filter((k) => k.ns === NS.t);
  if (list.length > MAX_IDS) throw new EwsError("ErrorExceededFindCountLimit", `At most ${MAX_IDS} attachments per request.`);
  return list;
}

/** Attachments of other kinds are not MIME parts; only mail carries them here. */
function mailOnly(ref: ItemRef): void {
  if (ref.itemClass !== "mail") throw new EwsError("ErrorInvalidRequest", "Only messages have attachments on this server (calendar items, contacts and tasks keep none).");
}

// ------------------------------------------------------------ GetAttachment

function addressXml(a: Address | undefined): string | null {
  if (!a || !a.mailbox || !a.host) return null;
  return t("Mailbox", tv("Name", a.name ? decodeWords(a.name) : `${a.mailbox}@${a.host}`), tv("EmailAddress", `${a.mailbox}@${a.host}`), tv("RoutingType", "SMTP"), tv("MailboxType", "OneOff"));
}

/** An attached message (message/rfc822) as a t:Message (Types.xsd MessageType): its MimeContent when asked for, and the fields a reader shows. */
function embeddedMessageXml(bytes: Uint8Array, includeMime: boolean, bodyType: string): string {
  const parsed = parseMime(bytes);
  const h = (k: string) => headerValue(parsed.headers, k);
  const parts = analyseParts(parsed.root);
  const msg = draftFromMessage(bytes);
  const html = msg.body.html && bodyType !== "Text";
  const text = msg.body.html && !html ? htmlToText(msg.body.content) : msg.body.content;
  const date = parseMailDate(h("date") ?? "");
  const list = (k: string) => parseAddressList(h(k)).map((a) => addressXml(a)).filter((x): x is string => !!x);
  const to = list("to");
  const cc = list("cc");
  return t(
    "Message",
    includeMime ? tv("MimeContent", Buffer.from(bytes).toString("base64"), { CharacterSet: "UTF-8" }) : null,
    tv("ItemClass", "IPM.Note"),
    tv("Subject", decodeHeaderText(h("subject"))),
    tv("Body", html ? msg.body.content : text, { BodyType: html ? "HTML" : "Text" }),
    tv("DateTimeSent", date !== null ? dateTime(date) : null),
    tv("Size", bytes.length),
    tv("HasAttachments", parts.attachments.length > 0),
    to.length ? t("ToRecipients", ...to) : null,
    cc.length ? t("CcRecipients", ...cc) : null,
    (() => {
      const f = addressXml(parseAddressList(h("from"))[0]);
      return f ? t("From", f) : null;
    })(),
    tv("InternetMessageId", h("message-id")?.trim() ?? null),
  );
}

/** One attachment in a GetAttachment answer (Types.xsd FileAttachmentType / ItemAttachmentType). */
function attachmentXml(ref: ItemRef, ck: string, a: AttachmentInfo, raw: Uint8Array, shape: { includeMime: boolean; bodyType: string }): string {
  const content = attachmentContent(raw, a);
  const head = [attachmentIdXml(ref, a.path, ck), tv("Name", a.name), tv("ContentType", a.contentType), tv("ContentId", a.contentId), tv("Size", content.length), tv("IsInline", a.inline)];
  if (a.embedded) return t("ItemAttachment", ...head, embeddedMessageXml(content, shape.includeMime, shape.bodyType));
  return t("FileAttachment", ...head, tv("IsContactPhoto", false), tv("Content", Buffer.from(content).toString("base64")));
}

registerOperation("GetAttachment", async (c, op) => {
  const shapeEl = mkid(op, "AttachmentShape");
  const shape = { includeMime: parseBool(kidTextT(shapeEl, "IncludeMimeContent")) ?? false, bodyType: kidTextT(shapeEl, "BodyType") ?? "Best" };
  const ids = idElements(mkid(op, "AttachmentIds"), "AttachmentIds");
  // The answer holds every attachment at once: its decoded bytes are bounded (a few messages' worth).
  let budget = 4 * c.server.config.limits.maxMessageSize;
  const raws = new Map<number, { item: KindItem<MailItem>; raw: Uint8Array }>();
  const msgs: string[] = [];
  for (const idEl of ids) {
    msgs.push(
      await messageFor(
        "GetAttachmentResponseMessage",
        async () => {
          const { ref, part } = ownAttachmentId(c, attr(idEl, "Id"));
          mailOnly(ref);
          let got = raws.get(ref.id);
          if (!got) {
            const item = await loadMail(c, ref);
            got = { item, raw: await c.store.readMessage(ref.id) };
            raws.set(ref.id, got);
          }
          const a = findAttachment(got.item.data.index.root, part);
          if (!a) throw new EwsError("ErrorInvalidAttachmentId", "The message has no such attachment (any more).");
          budget -= a.size;
          if (budget < 0) throw new EwsError("ErrorInsufficientResources", "Too many attachment bytes for one answer; ask for this one in another request.");
          return success("GetAttachmentResponseMessage", m("Attachments", attachmentXml(got.item.ref, changeKey(got.item.modseq), a, got.raw, shape)));
        },
        onUnexpected(c, "GetAttachment"),
      ),
    );
  }
  return responseMessages("GetAttachment", msgs);
});

function kidTextT(e: XmlElement | undefined, name: string): string | undefined {
  const k = e?.children.find((x) => x.name === name && (x.ns === NS.t || x.ns === NS.m));
  return k ? k.text.trim() : undefined;
}

// ------------------------------------------------------------ rebuilding a draft

async function draftItem(c: EwsContext, ref: ItemRef): Promise<{ item: KindItem<MailItem>; raw: Uint8Array }> {
  mailOnly(ref);
  const item = await loadMail(c, ref);
  if (!item.data.index.flags.includes("\\Draft")) {
    throw new EwsError("ErrorInvalidPropertyUpdateSentMessage", "Attachments can only be changed on a draft; this message was sent or received.");
  }
  return { item, raw: await c.store.readMessage(ref.id) };
}

/** Stores a draft's new content in place of the old (same item id, flags kept); the item as it is now. */
async function storeDraft(c: EwsContext, item: KindItem<MailItem>, d: Draft): Promise<KindItem<MailItem>> {
  const raw = buildMessage(d, { keepBcc: true });
  const max = c.server.config.limits.maxMessageSize;
  if (raw.length > max) throw new EwsError("ErrorMessageSizeExceeded", `The message would be larger than the size limit (${max} bytes).`);
  await c.store.replaceMessage(item.ref.id, { raw, flags: item.data.index.flags, internalDate: item.data.index.internalDate }, { ifModseq: item.modseq });
  return loadMail(c, item.ref);
}

// ------------------------------------------------------------ CreateAttachment

registerOperation("CreateAttachment", async (c, op) => {
  const parentEl = mkid(op, "ParentItemId");
  const list = idElements(mkid(op, "Attachments"), "Attachments");
  if (list.length > MAX_ATTACHMENTS) throw new EwsError("ErrorInvalidRequest", `At most ${MAX_ATTACHMENTS} attachments per message.`);
  const tag = "CreateAttachmentResponseMessage";
  let parent: { item: KindItem<MailItem>; raw: Uint8Array };
  try {
    parent = await draftItem(c, ownItemId(c, attr(parentEl, "Id")));
  } catch (e) {
    // The parent is wrong for every attachment of the request: one message each, all the same error.
    const err = asEwsError(e, onUnexpected(c, "CreateAttachment"));
    return responseMessages("CreateAttachment", list.map(() => failure(tag, err)));
  }
  const max = c.server.config.limits.maxMessageSize;
  const base = draftFromMessage(parent.raw);
  // Each attachment checked on its own: a bad one is answered with its error, the good ones are added (one rebuild).
  const added: (Draft["attachments"][number] | EwsError)[] = list.map((a) => {
    try {
      return applyMessageElement({ ...base, attachments: [] }, { ns: NS.t, name: "Message", attrs: {}, text: "", children: [{ ns: NS.t, name: "Attachments", attrs: {}, text: "", children: [a] }] }, max).attachments[0]!;
    } catch (e) {
      return asEwsError(e, onUnexpected(c, "CreateAttachment"));
    }
  });
  const good = added.filter((a): a is Draft["attachments"][number] => !(a instanceof EwsError));
  let now: KindItem<MailItem>;
  try {
    if (!good.length) now = parent.item;
    else {
      if (base.attachments.reduce((n, a) => n + a.content.length, 0) + good.reduce((n, a) => n + a.content.length, 0) > max) throw new EwsError("ErrorMessageSizeExceeded", `The attachments would make the message larger than the size limit (${max} bytes).`);
      now = await storeDraft(c, parent.item, { ...base, attachments: [...base.attachments, ...good] });
    }
  } catch (e) {
    const err = asEwsError(e, onUnexpected(c, "CreateAttachment"));
    return responseMessages("CreateAttachment", list.map(() => failure(tag, err)));
  }
  // The new parts' paths: the last attachments of the rebuilt message with these names, matched from the end.
  const analysed = analyseParts(now.data.index.root).attachments;
  const used = new Set<string>(analysed.slice(0, analysed.length - good.length).map((a) => a.path));
  const ck = changeKey(now.modseq);
  const msgs = added.map((a, i) => {
    if (a instanceof EwsError) return failure(tag, a);
    const found = analysed.find((x) => !used.has(x.path) && x.name === a.name) ?? analysed.find((x) => !used.has(x.path));
    if (found) used.add(found.path);
    const el = list[i]!.name === "ItemAttachment" ? "ItemAttachment" : "FileAttachment";
    return success(tag, m("Attachments", t(el, found ? attachmentIdXml(now.ref, found.path, ck) : null)));
  });
  return responseMessages("CreateAttachment", msgs);
});

// ------------------------------------------------------------ DeleteAttachment

registerOperation("DeleteAttachment", async (c, op) => {
  const ids = idElements(mkid(op, "AttachmentIds"), "AttachmentIds");
  const tag = "DeleteAttachmentResponseMessage";
  const parsed = ids.map((el) => {
    try {
      const a = ownAttachmentId(c, attr(el, "Id"));
      mailOnly(a.ref);
      return a;
    } catch (e) {
      return asEwsError(e, onUnexpected(c, "DeleteAttachment"));
    }
  });
  // Grouped by message: every id of one message is resolved against the same stored version, then one rebuild.
  const groups = new Map<number, number[]>();
  parsed.forEach((p, i) => {
    if (p instanceof EwsError) return;
    const g = groups.get(p.ref.id) ?? [];
    g.push(i);
    groups.set(p.ref.id, g);
  });
  const out: string[] = parsed.map((p) => (p instanceof EwsError ? failure(tag, p) : ""));
  for (const [, idx] of groups) {
    const first = parsed[idx[0]!] as { ref: ItemRef; part: string };
    try {
      const { item, raw } = await draftItem(c, first.ref);
      const analysed = analyseParts(item.data.index.root).attachments;
      const drop = new Set<number>();
      const missing = new Set<number>();
      for (const i of idx) {
        const pos = analysed.findIndex((a) => a.path === (parsed[i] as { part: string }).part);
        if (pos < 0) missing.add(i);
        else drop.add(pos);
      }
      let now = item;
      if (drop.size) {
        const d = draftFromMessage(raw);
        now = await storeDraft(c, item, { ...d, attachments: d.attachments.filter((_, k) => !drop.has(k)) });
      }
      for (const i of idx) {
        out[i] = missing.has(i)
          ? failure(tag, new EwsError("ErrorInvalidAttachmentId", "The message has no such attachment (any more)."))
          : success(tag, ma("RootItemId", { RootItemId: itemId(now.ref), RootItemChangeKey: changeKey(now.modseq) }));
      }
    } catch (e) {
      const err = asEwsError(e, onUnexpected(c, "DeleteAttachment"));
      for (const i of idx) out[i] = failure(tag, err);
    }
  }
  return responseMessages("DeleteAttachment", out);
});
