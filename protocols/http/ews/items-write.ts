/**
 * CreateItem, UpdateItem and SendItem (MS-OXWSCORE §3.1.4.2, §3.1.4.9,
 * §3.1.4.7): the generic half. Each request element goes to the item kind
 * that takes it (kinds.ts kindForElement: t:Message to the mail kind,
 * t:CalendarItem and the meeting response objects to the calendar kind...);
 * the mail response objects ReplyToItem, ReplyAllToItem and ForwardItem are
 * answered here with mail-compose-reply.ts. One response message per item;
 * one bad item never fails the others.
 */
import type { Folder } from "../../../storage/api.ts";
import { resolveCalendarId } from "./calendar-kind.ts";
import { EwsError, registerOperation, type EwsContext } from "./context.ts";
import { defaultFolder, ownItemId, parseChangeKey, resolveDistinguished, resolveFolder, type ItemRef } from "./ids.ts";
import { kindForElement, kindOf, type CreateOptions, type ItemKind, type KindItem, type MeetingInvitations, type MessageDisposition, type UpdateOptions } from "./kinds.ts";
import { loadMail, sendStoredDraft } from "./mail-send.ts";
import { createdMailXml } from "./mail-write.ts";
import { REPLY_ELEMENTS, createReply } from "./mail-compose-reply.ts";
import type { MailItem } from "./mail-read.ts";
import { NS } from "./ns.ts";
import { perEach, responseMessages, success } from "./responses.ts";
import { parseChanges, type ItemShape } from "./shape.ts";
import { attr, kid, m, mkid, parseBool, tv, type XmlElement } from "./xml.ts";

/** Most items (or item changes, or item ids) one request may name (a bound on one request's work). */
export const MAX_ITEMS_PER_REQUEST = 1000;

const ID_ONLY: ItemShape = { base: "IdOnly", bodyType: "Best", includeMimeContent: false, filterHtml: false, additional: [] };

const DISPOSITIONS: readonly MessageDisposition[] = ["SaveOnly", "SendOnly", "SendAndSaveCopy"];
const INVITATIONS: readonly MeetingInvitations[] = ["SendToNone", "SendOnlyToAll", "SendToAllAndSaveCopy", "SendOnlyToChanged", "SendToChangedAndSaveCopy"];

function enumAttr<T extends string>(op: XmlElement, name: string, allowed: readonly T[]): T | null {
  const v = attr(op, name);
  if (v === undefined) return null;
  if (!(allowed as readonly string[]).includes(v)) throw new EwsError("ErrorInvalidRequest", `${name} "${v.slice(0, 40)}" is not one of ${allowed.join(", ")}.`);
  return v as T;
}

/** A SavedItemFolderId that names a real (store) folder, or null when absent. */
export async function savedFolderOf(c: EwsContext, op: XmlElement): Promise<Folder | null> {
  const el = mkid(op, "SavedItemFolderId");
  if (!el) return null;
  const ref = await resolveFolder(c, el);
  if (ref.kind !== "store") throw new EwsError("ErrorInvalidRequest", "Items cannot be saved in the mailbox root.");
  return ref.folder;
}

/** The store mail folder of a distinguished name (drafts, sentitems...). */
export async function mailFolder(c: EwsContext, name: string): Promise<Folder> {
  const ref = await resolveDistinguished(c, name);
  if (ref.kind !== "store") throw new EwsError("ErrorFolderNotFound", `No ${name} folder.`);
  return ref.folder;
}

/** The elements of a container in the types namespace, at most MAX_ITEMS_PER_REQUEST (ErrorExceededFindCountLimit beyond). */
function itemsOf(container: XmlElement | undefined, what: string): XmlElement[] {
  if (!container) throw new EwsError("ErrorInvalidRequest", `${what} is required.`);
  const items = container.children.filter((k) => k.ns === NS.t);
  if (items.length > MAX_ITEMS_PER_REQUEST) throw new EwsError("ErrorExceededFindCountLimit", `At most ${MAX_ITEMS_PER_REQUEST} items per request.`);
  return items;
}

/** The folder a new item goes to when the request names none: the kind's default (MS-OXWSCORE §3.1.4.2.3.2 SavedItemFolderId). */
async function defaultFolderFor(c: EwsContext, kind: ItemKind, disposition: MessageDisposition | null): Promise<Folder> {
  if (kind.itemClass === "mail") return mailFolder(c, disposition === "SendAndSaveCopy" ? "sentitems" : "drafts");
  const f = await defaultFolder(c, kind.itemClass);
  if (!f) throw new EwsError("ErrorFolderNotFound", `This mailbox has no ${kind.itemClass} folder.`);
  return f;
}

/** The response's item element for an item just written: the mail kind adds its attachment ids (exchangelib pairs them with its own). */
async function writtenXml(c: EwsContext, kind: ItemKind, item: KindItem): Promise<string> {
  if (kind.itemClass === "mail") return createdMailXml(c, item as KindItem<MailItem>);
  return kind.render(c, item, ID_ONLY);
}

registerOperation("CreateItem", async (c, op) => {
  const disposition = enumAttr(op, "MessageDisposition", DISPOSITIONS);
  const invitations = enumAttr(op, "SendMeetingInvitations", INVITATIONS);
  const savedFolder = await savedFolderOf(c, op);
  const items = itemsOf(mkid(op, "Items"), "Items");
  const opts: CreateOptions = { disposition, savedFolder, invitations };
  const msgs = await perEach(
    items,
    "CreateItemResponseMessage",
    async (el) => {
      if (el.name === "SuppressReadReceipt") {
        // Types.xsd SuppressReadReceiptType: this server never sends read receipts on its own, so there is nothing to suppress; the reference is checked.
        const refEl = kid(el, "ReferenceItemId");
        await loadMail(c, ownItemId(c, attr(refEl, "Id")));
        return success("CreateItemResponseMessage", m("Items"));
      }
      if (REPLY_ELEMENTS.has(el.name)) {
        const made = await createReply(c, el, opts);
        return success("CreateItemResponseMessage", m("Items", made ? await writtenXml(c, kindOf("mail"), made) : null));
      }
      let kind = kindForElement(el.name);
      // A t:Message saved into a notes folder is a sticky note (MS-OXONOTE): the notes kind takes it (note-kind.ts).
      if (kind?.itemClass === "mail" && el.name === "Message" && savedFolder?.itemClass === "notes") kind = kindOf("notes");
      if (!kind) throw new EwsError("ErrorInvalidItemForOperationCreateItem", `Items of type ${el.name.slice(0, 60)} cannot be created on this server.`);
      if (kind.itemClass === "mail" && disposition === null && (el.name === "Message" || el.name === "PostItem")) {
        // Messages.xsd CreateItemType: MessageDisposition is required for messages.
        throw new EwsError("ErrorInvalidRequest", "MessageDisposition is required when creating a message.");
      }
      const folder = savedFolder ?? (await defaultFolderFor(c, kind, disposition));
      const item = await kind.create(c, folder, el, opts);
      return success("CreateItemResponseMessage", m("Items", item ? await writtenXml(c, kind, item) : null));
    },
    (e) => c.log.error("ews: CreateItem failed", { err: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  );
  return responseMessages("CreateItem", msgs);
});

/**
 * The item an ItemChange names: an ItemId, or for calendar items an
 * OccurrenceItemId (one occurrence of a series) or RecurringMasterItemId
 * (the series of an occurrence), resolved by the calendar module.
 */
export async function changedRef(c: EwsContext, change: XmlElement): Promise<{ ref: ItemRef; changeKey: string | undefined }> {
  const idEl = kid(change, "ItemId") ?? kid(change, "OccurrenceItemId") ?? kid(change, "RecurringMasterItemId");
  if (!idEl) throw new EwsError("ErrorInvalidIdEmpty", "The item id is missing.");
  if (idEl.name !== "ItemId") return { ref: await resolveCalendarId(c, idEl), changeKey: attr(idEl, "ChangeKey") };
  return { ref: ownItemId(c, attr(idEl, "Id")), changeKey: attr(idEl, "ChangeKey") };
}

registerOperation("UpdateItem", async (c, op) => {
  const disposition = enumAttr(op, "MessageDisposition", DISPOSITIONS);
  const invitations = enumAttr(op, "SendMeetingInvitationsOrCancellations", INVITATIONS);
  const conflictResolution = enumAttr(op, "ConflictResolution", ["NeverOverwrite", "AutoResolve", "AlwaysOverwrite"] as const) ?? "AutoResolve";
  const savedFolder = await savedFolderOf(c, op);
  const changes = itemsOf(mkid(op, "ItemChanges"), "ItemChanges");
  const msgs = await perEach(
    changes,
    "UpdateItemResponseMessage",
    async (change) => {
      if (change.name !== "ItemChange") throw new EwsError("ErrorInvalidRequest", `Unexpected ${change.name.slice(0, 60)} in ItemChanges.`);
      const { ref, changeKey } = await changedRef(c, change);
      const expectedModseq = parseChangeKey(changeKey);
      if (changeKey !== undefined && expectedModseq === null) throw new EwsError("ErrorInvalidChangeKey", "The change key is malformed.");
      const kind = kindOf(ref.itemClass);
      const [item] = ref.itemClass === "mail" ? [await loadMail(c, ref)] : await kind.load(c, [ref]);
      if (!item) throw new EwsError("ErrorItemNotFound", "The item was not found in this mailbox.");
      // Types.xsd ConflictResolutionType: NeverOverwrite refuses a change made against an older version.
      if (conflictResolution === "NeverOverwrite" && expectedModseq !== null && expectedModseq !== item.modseq) {
        throw new EwsError("ErrorIrresolvableConflict", "The item was changed since this change key was read; read it again.");
      }
      const parsed = parseChanges(kid(change, "Updates"));
      const opts: UpdateOptions = { conflictResolution, expectedModseq, disposition, savedFolder, invitations };
      const now = await kind.update(c, item, parsed, opts);
      // MS-OXWSCORE §3.1.4.9: the new ItemId and ChangeKey, and the conflicts resolved (none: changes are applied whole).
      return success("UpdateItemResponseMessage", m("Items", now ? await writtenXml(c, kind, now) : null), m("ConflictResults", tv("Count", 0)));
    },
    (e) => c.log.error("ews: UpdateItem failed", { err: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  );
  return responseMessages("UpdateItem", msgs);
});

registerOperation("SendItem", async (c, op) => {
  const saveCopy = parseBool(attr(op, "SaveItemToFolder"));
  if (saveCopy === undefined) throw new EwsError("ErrorInvalidRequest", "SaveItemToFolder (true or false) is required.");
  const savedFolder = saveCopy ? await savedFolderOf(c, op) : null;
  const ids = itemsOf(mkid(op, "ItemIds"), "ItemIds");
  const msgs = await perEach(
    ids,
    "SendItemResponseMessage",
    async (idEl) => {
      if (idEl.name !== "ItemId") throw new EwsError("ErrorInvalidRequest", `SendItem takes ItemId elements, not ${idEl.name.slice(0, 60)}.`);
      const ref = ownItemId(c, attr(idEl, "Id"));
      if (ref.itemClass !== "mail") throw new EwsError("ErrorInvalidItemForOperationSendItem", "Only messages can be sent with SendItem.");
      await sendStoredDraft(c, ref, { saveCopy, savedFolder });
      return success("SendItemResponseMessage");
    },
    (e) => c.log.error("ews: SendItem failed", { err: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  );
  return responseMessages("SendItem", msgs);
});

