/**
 * DeleteItem, MoveItem, CopyItem (MS-OXWSCORE §3.1.4.3, §3.1.4.8, §3.1.4.1)
 * and MarkAsJunk (MS-OXWSCORE §3.1.4.7, Exchange 2013): the generic half. Ids
 * are loaded per class (items-read.ts loadItems) and each item goes to its
 * kind's remove/move/copy; one response message per id, one bad id never
 * fails the others.
 */
import type { Folder } from "../../../storage/api.ts";
import { EwsError, registerOperation, type EwsContext } from "./context.ts";
import { itemIdXml, resolveDistinguished, resolveFolder } from "./ids.ts";
import { idElements, loadItems } from "./items-read.ts";
import { kindOf, type DeleteOptions, type KindItem } from "./kinds.ts";
import type { MailItem } from "./mail-read.ts";
import { failure, perEach, responseMessages, success } from "./responses.ts";
import type { ItemShape } from "./shape.ts";
import { attr, m, mkid, parseBool, type XmlElement } from "./xml.ts";

const ID_ONLY: ItemShape = { base: "IdOnly", bodyType: "Best", includeMimeContent: false, filterHtml: false, additional: [] };

function enumAttr<T extends string>(op: XmlElement, name: string, allowed: readonly T[], required: boolean): T | null {
  const v = attr(op, name);
  if (v === undefined) {
    if (required) throw new EwsError("ErrorInvalidRequest", `${name} is required.`);
    return null;
  }
  if (!(allowed as readonly string[]).includes(v)) throw new EwsError("ErrorInvalidRequest", `${name} "${v.slice(0, 40)}" is not one of ${allowed.join(", ")}.`);
  return v as T;
}

function unexpected(c: EwsContext, op: string): (e: unknown) => void {
  return (e) => c.log.error(`ews: ${op} failed`, { err: e instanceof Error ? (e.stack ?? e.message) : String(e) });
}

registerOperation("DeleteItem", async (c, op) => {
  const opts: DeleteOptions = {
    disposal: enumAttr(op, "DeleteType", ["HardDelete", "SoftDelete", "MoveToDeletedItems"] as const, true)!,
    cancellations: enumAttr(op, "SendMeetingCancellations", ["SendToNone", "SendOnlyToAll", "SendToAllAndSaveCopy"] as const, false),
    affectedTaskOccurrences: enumAttr(op, "AffectedTaskOccurrences", ["AllOccurrences", "SpecifiedOccurrenceOnly"] as const, false),
  };
  const onUnexpected = unexpected(c, "DeleteItem");
  const items = await loadItems(c, idElements(mkid(op, "ItemIds")), onUnexpected);
  const msgs = await perEach(
    items,
    "DeleteItemResponseMessage",
    async (it) => {
      if (it instanceof EwsError) return failure("DeleteItemResponseMessage", it);
      await kindOf(it.ref.itemClass).remove(c, it, opts);
      return success("DeleteItemResponseMessage");
    },
    onUnexpected,
  );
  return responseMessages("DeleteItem", msgs);
});

async function targetFolder(c: EwsContext, op: XmlElement): Promise<Folder> {
  const ref = await resolveFolder(c, mkid(op, "ToFolderId"));
  if (ref.kind !== "store") throw new EwsError("ErrorMoveCopyFailed", "Items cannot be put in the mailbox root.");
  return ref.folder;
}

function moveOrCopy(name: "MoveItem" | "CopyItem") {
  return async (c: EwsContext, op: XmlElement) => {
    const tag = `${name}ResponseMessage`;
    const to = await targetFolder(c, op);
    // ReturnNewItemIds (Exchange 2010 SP1+): false leaves the Items element empty.
    const returnIds = parseBool(mkid(op, "ReturnNewItemIds")?.text) ?? true;
    const onUnexpected = unexpected(c, name);
    const items = await loadItems(c, idElements(mkid(op, "ItemIds")), onUnexpected);
    const msgs = await perEach(
      items,
      tag,
      async (it) => {
        if (it instanceof EwsError) return failure(tag, it);
        if (to.itemClass !== it.ref.itemClass) throw new EwsError("ErrorMoveCopyFailed", `A ${it.ref.itemClass} item cannot go into a ${to.itemClass} folder.`);
        const kind = kindOf(it.ref.itemClass);
        const out = name === "MoveItem" ? await kind.move(c, it, to) : await kind.copy(c, it, to);
        return success(tag, m("Items", returnIds && (await kind.render(c, out, ID_ONLY))));
      },
      onUnexpected,
    );
    return responseMessages(name, msgs);
  };
}

registerOperation("MoveItem", moveOrCopy("MoveItem"));
registerOperation("CopyItem", moveOrCopy("CopyItem"));

/**
 * The sender's place on the account's own lists (the ones the webmail's
 * Settings > Junk mail edits): junk puts the address on the block list (and off
 * the allow list), not junk takes it off the block list (MS-OXWSCORE §3.1.4.7:
 * MarkAsJunk adds to or removes from the blocked senders list).
 */
async function listSender(c: EwsContext, address: string, junk: boolean): Promise<void> {
  if (!address || !address.includes("@")) return;
  const lists = c.server.storage.spam;
  const scope = { accountId: c.account.id };
  const entries = await lists.listEntries(scope);
  const drop = entries.filter((e) => e.pattern.toLowerCase() === address && e.kind === (junk ? "allow" : "deny"));
  for (const e of drop) await lists.removeEntry(scope, e.id);
  if (junk && !entries.some((e) => e.kind === "deny" && e.pattern.toLowerCase() === address)) {
    try {
      await lists.addEntry(scope, "deny", address);
    } catch (e) {
      // A full list or an address the list cannot hold does not undo the verdict; the move still happens.
      c.log.warn("ews: MarkAsJunk could not list the sender", { err: e instanceof Error ? e.message : String(e) });
    }
  }
}

registerOperation(
  "MarkAsJunk",
  async (c, op) => {
    const isJunk = parseBool(attr(op, "IsJunk"));
    const doMove = parseBool(attr(op, "MoveItem"));
    if (isJunk === undefined || doMove === undefined) throw new EwsError("ErrorInvalidRequest", "MarkAsJunk needs IsJunk and MoveItem (true or false).");
    const onUnexpected = unexpected(c, "MarkAsJunk");
    const items = await loadItems(c, idElements(mkid(op, "ItemIds")), onUnexpected);
    let target: Folder | null = null;
    const msgs = await perEach(
      items,
      "MarkAsJunkResponseMessage",
      async (it) => {
        if (it instanceof EwsError) return failure("MarkAsJunkResponseMessage", it);
        if (it.ref.itemClass !== "mail") throw new EwsError("ErrorInvalidRequest", "Only messages can be marked as junk.");
        const mail = it as KindItem<MailItem>;
        const x = mail.data.index;
        // As the webmail's Junk / Not junk: RFC 5788 $Junk / $NotJunk tell other clients the verdict; the
        // move into or out of Junk is what trains the filter (src/spam/training.ts listens to moves).
        await c.store.storeFlags(x.folderId, [x.uid], "add", [isJunk ? "$Junk" : "$NotJunk"], { silent: true });
        await c.store.storeFlags(x.folderId, [x.uid], "remove", [isJunk ? "$NotJunk" : "$Junk"], { silent: true });
        await listSender(c, x.fromAddr, isJunk);
        if (!doMove) return success("MarkAsJunkResponseMessage");
        if (!target) {
          const ref = await resolveDistinguished(c, isJunk ? "junkemail" : "inbox");
          if (ref.kind !== "store") throw new EwsError("ErrorFolderNotFound", "The Junk or Inbox folder is missing.");
          target = ref.folder;
        }
        const moved = await kindOf("mail").move(c, it, target);
        return success("MarkAsJunkResponseMessage", itemIdXml(moved.ref, moved.modseq, "MovedItemId").replace("<t:MovedItemId", "<m:MovedItemId"));
      },
      onUnexpected,
    );
    return responseMessages("MarkAsJunk", msgs);
  },
  { since: "Exchange2013" },
);
