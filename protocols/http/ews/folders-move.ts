/**
 * Moving and copying folders: MoveFolder and CopyFolder (MS-OXWSFOLD
 * §3.1.4.7, §3.1.4.2.x; Messages.xsd MoveFolderType, CopyFolderType). Mail
 * and notes folders move as the store's rename of their subtree (ids and
 * items stay); a copy makes the subtree again and copies every message into
 * it (new items, as IMAP COPY). Groupware collections are flat and stay at
 * the top of the information store.
 */
import type { Folder } from "../../../storage/api.ts";
import { EwsError, registerOperation, type EwsContext } from "./context.ts";
import type { FolderRef } from "./ids.ts";
import { folderIdOnly } from "./folders-render.ts";
import { childrenOf, displayName, folderIdElements, isUnder, perFolder, resolveIn, resolveRole, type FolderTree } from "./folders-tree.ts";
import { isDistinguished, isGroupware } from "./folders-write.ts";
import { m, mkid, type XmlElement } from "./xml.ts";

/** Checks a mail/notes folder may go under `to`; returns its new store name. */
async function targetName(c: EwsContext, tree: FolderTree, ref: FolderRef & { kind: "store" }, to: FolderRef, what: "move" | "copy"): Promise<string> {
  const f = ref.folder;
  if (to.kind === "virtual" && to.name !== "msgfolderroot") throw new EwsError("ErrorInvalidParentFolder", "Folders live under the top of the information store.");
  if (isGroupware(f.itemClass)) throw new EwsError("ErrorInvalidParentFolder", "Calendars, address books and task lists stay at the top of the information store.");
  if (to.kind === "store" && to.folder.itemClass !== f.itemClass) throw new EwsError("ErrorInvalidParentFolder", `A folder ${what === "move" ? "moves" : "is copied"} only under a folder of its own kind.`);
  if (isUnder(tree, to, ref)) throw new EwsError("ErrorMoveCopyFailed", `A folder cannot be ${what === "move" ? "moved" : "copied"} into itself or its subfolders.`);
  const leaf = displayName(tree, f);
  const target = to.kind === "store" ? `${to.folder.name}/${leaf}` : leaf;
  if (target !== f.name && (await c.store.getFolder(c.account.id, target, f.itemClass))) throw new EwsError("ErrorFolderExists", `A folder named "${leaf}" exists there.`);
  if (what === "copy" && target === f.name) throw new EwsError("ErrorFolderExists", `A folder named "${leaf}" exists there.`);
  return target;
}

/**
 * MoveFolder and CopyFolder share their request (ToFolderId + FolderIds) and
 * answer (one response message per folder with its FolderId after the act):
 * Messages.xsd BaseMoveCopyFolderType, FolderInfoResponseMessageType.
 */
function registerMoveCopy(op: "MoveFolder" | "CopyFolder", act: (c: EwsContext, tree: FolderTree, ref: FolderRef, to: FolderRef) => Promise<FolderRef>): void {
  registerOperation(op, async (c, req) => {
    const toEl = mkid(req, "ToFolderId");
    if (!toEl) throw new EwsError("ErrorInvalidRequest", "ToFolderId is required.");
    return perFolder(c, op, folderIdElements(mkid(req, "FolderIds"), "FolderIds"), async (el, tree) => {
      const to = await resolveRole(c, tree, toEl, "ErrorToFolderNotFound", "The destination folder was not found.");
      const ref = await resolveIn(c, tree, el);
      return m("Folders", folderIdOnly(c, await act(c, tree, ref, to), tree.head));
    });
  });
}

/** The folder as the store has it now (its name or counters changed). */
async function reloaded(c: EwsContext, f: Folder): Promise<FolderRef> {
  return { kind: "store", folder: (await c.store.getFolderById(f.id)) ?? f };
}

// MS-OXWSFOLD §3.1.4.7 MoveFolder: a mail folder (with its subtree) under another mail folder or the top.
registerMoveCopy("MoveFolder", async (c, tree, ref, to) => {
  if (ref.kind === "virtual" || isDistinguished(tree, ref.folder)) throw new EwsError("ErrorMoveDistinguishedFolder", "Distinguished folders cannot be moved.");
  const f = ref.folder;
  // a collection "moved" to where it is already: nothing to do
  if (isGroupware(f.itemClass) && to.kind === "virtual" && to.name === "msgfolderroot") return ref;
  const target = await targetName(c, tree, ref, to, "move");
  if (target !== f.name) await c.store.renameFolder(c.account.id, f.name, target, { itemClass: f.itemClass });
  return reloaded(c, f);
});

/** Makes `f`'s subtree again under the name `target` and copies each folder's messages (deepest last). */
async function copyTree(c: EwsContext, tree: FolderTree, f: Folder, target: string, depth = 0): Promise<Folder> {
  // the store's names bound the depth; this guards a parent loop in damaged data
  if (depth > 64) throw new EwsError("ErrorMoveCopyFailed", "The folder tree is too deep to copy.");
  const copy = await c.store.createFolder(c.account.id, target, { itemClass: f.itemClass });
  const uids = (await c.store.listMessages(f.id)).map((s) => s.uid);
  if (uids.length) await c.store.copy(f.id, uids, copy.id);
  for (const child of childrenOf(tree, { kind: "store", folder: f })) await copyTree(c, tree, child, `${target}/${displayName(tree, child)}`, depth + 1);
  return copy;
}

// MS-OXWSFOLD CopyFolder: a mail/notes folder with its subfolders and messages, under another folder of its kind.
registerMoveCopy("CopyFolder", async (c, tree, ref, to) => {
  if (ref.kind === "virtual") throw new EwsError("ErrorInvalidOperation", "The mailbox root cannot be copied.");
  if (isGroupware(ref.folder.itemClass)) throw new EwsError("ErrorInvalidOperation", "Calendars, address books and task lists are not copied as folders; copy their items.");
  return reloaded(c, await copyTree(c, tree, ref.folder, await targetName(c, tree, ref, to, "copy")));
});
