/**
 * Changing folders: CreateFolder, CreateFolderPath, UpdateFolder,
 * DeleteFolder, EmptyFolder, MoveFolder (MS-OXWSFOLD §3.1.4; Messages.xsd).
 *
 * Mail (and notes) folders are store folders named by their "/" path, so a
 * rename or a move is the store's renameFolder of the subtree. Calendars,
 * address books and task lists are groupware collections (flat, under the
 * top of the information store), created, renamed and deleted through the
 * groupware service so CalDAV/CardDAV see the same collections with the same
 * display names.
 */
import { randomUUID } from "node:crypto";
import type { Folder, ItemClass } from "../../../storage/api.ts";
import { isReservedName } from "../../../src/groupware/collections.ts";
import { EwsError, registerOperation, type EwsContext } from "./context.ts";
import { distinguishedName, resolveDistinguished, type FolderRef } from "./ids.ts";
import { classOfFolderClass, FOLDER_CLASS, folderAfter, folderIdOnly } from "./folders-render.ts";
import { childrenOf, CONTAINER_CLASS_TAG, displayName, folderIdElements, isUnder, loadTree, perFolder, resolveIn, resolveRole, type FolderTree } from "./folders-tree.ts";
import { applyExtendedChanges, saveExtended } from "./extended.ts";
import { parseChanges } from "./shape.ts";
import { attr, kid, kidText, m, mkid, parseBool, type XmlElement } from "./xml.ts";
import { NS } from "./ns.ts";

const ELEMENT_CLASS: Readonly<Record<string, ItemClass | null>> = {
  Folder: null,
  CalendarFolder: "calendar",
  ContactsFolder: "contacts",
  TasksFolder: "tasks",
};

/** Groupware errors (src/groupware/types.ts) as response codes. */
function fromGroupware(e: unknown): never {
  if (e instanceof Error && e.name === "GroupwareError") {
    const code = (e as Error & { code: string }).code;
    const map: Record<string, string> = { EXISTS: "ErrorFolderExists", NOT_FOUND: "ErrorFolderNotFound", FORBIDDEN: "ErrorAccessDenied", LIMIT: "ErrorExceededFolderLimit" };
    throw new EwsError(map[code] ?? "ErrorInvalidRequest", e.message);
  }
  throw e;
}

/** A DisplayName a store folder may have: not empty, no "/" (our hierarchy delimiter), no control characters. */
function checkName(name: string | undefined): string {
  const n = (name ?? "").trim();
  if (!n) throw new EwsError("ErrorFolderSavePropertyError", "A folder needs a DisplayName.");
  if (n.length > 255 || /[/\x00-\x1f\x7f]/.test(n)) {
    throw new EwsError("ErrorFolderSavePropertyError", 'A folder name is at most 255 characters, without "/" or control characters.');
  }
  return n;
}

export function isGroupware(cls: ItemClass): cls is "calendar" | "contacts" | "tasks" {
  return cls === "calendar" || cls === "contacts" || cls === "tasks";
}

/** Whether a folder is one of the mailbox's distinguished folders (never deleted or moved: MS-OXWSFOLD §3.1.4.3). */
export function isDistinguished(tree: FolderTree, f: Folder): boolean {
  return distinguishedName(f, tree.defaults) !== null;
}

async function setContainerClass(c: EwsContext, folderId: number, value: string): Promise<void> {
  await c.store.setProperties({ folderId }, [{ key: { tag: CONTAINER_CLASS_TAG }, type: "string", value }]);
}

/**
 * PermissionSet changes: nothing is shared (no delegation yet), so a set
 * that grants nobody anything (every level None, as GetFolder shows it) and
 * deleting it are accepted as they change nothing; a grant is refused.
 */
function checkPermissionSet(value: XmlElement | undefined): void {
  const walk = (e: XmlElement): boolean =>
    ((e.name === "PermissionLevel" || e.name === "CalendarPermissionLevel" || e.name === "ReadItems" || e.name === "EditItems" || e.name === "DeleteItems") && e.text.trim() !== "None") ||
    (/^(CanCreateItems|CanCreateSubFolders|IsFolderOwner|IsFolderVisible|IsFolderContact)$/.test(e.name) && parseBool(e.text) === true) ||
    e.children.some(walk);
  if (value && walk(value)) throw new EwsError("ErrorInvalidPropertySet", "Sharing folders with other users is not offered by this server.");
}

/** Makes one folder under `parent` from its element (t:Folder, t:CalendarFolder...). */
async function createOne(c: EwsContext, tree: FolderTree, parent: FolderRef, el: XmlElement): Promise<Folder> {
  if (el.ns !== NS.t || !(el.name in ELEMENT_CLASS)) {
    throw new EwsError("ErrorInvalidRequest", el.name === "SearchFolder" ? "Search folders are not offered by this server." : `Unknown folder element ${el.name}.`);
  }
  const name = checkName(kidText(el, "DisplayName"));
  const declared = ELEMENT_CLASS[el.name] ?? classOfFolderClass(kidText(el, "FolderClass"));
  const cls: ItemClass = declared ?? (parent.kind === "store" ? parent.folder.itemClass : "mail");
  if (parent.kind === "virtual" && parent.name !== "msgfolderroot") throw new EwsError("ErrorInvalidParentFolder", "New folders go under the top of the information store (msgfolderroot).");
  if (parent.kind === "store" && (parent.folder.itemClass !== cls || isGroupware(cls))) {
    throw new EwsError("ErrorInvalidParentFolder", isGroupware(cls) ? "Calendars, address books and task lists are created at the top of the information store." : "A folder's subfolders hold items of its own kind.");
  }
  const siblings = childrenOf(tree, parent);
  if (siblings.some((s) => s.itemClass === cls && displayName(tree, s).toLowerCase() === name.toLowerCase())) {
    throw new EwsError("ErrorFolderExists", `A folder named "${name}" exists there.`);
  }
  let folder: Folder;
  if (isGroupware(cls)) {
    // The collection name is the DAV URL segment: the display name when it can be one, else an opaque id.
    const taken = [...tree.byId.values()].some((f) => isGroupware(f.itemClass) && f.name.toLowerCase() === name.toLowerCase());
    const urlName = !taken && !isReservedName(name) && !/[%*]/.test(name) && name.trim() === name ? name : randomUUID();
    try {
      const col = await c.server.groupware.createCollection(c.account, cls, urlName, { displayName: name });
      const f = await c.store.getFolderById(col.id);
      if (!f) throw new EwsError("ErrorFolderNotFound", "The new folder was deleted while it was created.");
      folder = f;
    } catch (e) {
      fromGroupware(e);
    }
  } else {
    const path = parent.kind === "store" ? `${parent.folder.name}/${name}` : name;
    if (await c.store.getFolder(c.account.id, path, cls)) throw new EwsError("ErrorFolderExists", `A folder named "${name}" exists there.`);
    folder = await c.store.createFolder(c.account.id, path, { itemClass: cls });
  }
  await saveExtended(c, { folderId: folder.id }, el);
  // Types.xsd FolderClass: kept as sent (PidTagContainerClass); a t:Folder sent without one has none, as on Exchange.
  const sentClass = kidText(el, "FolderClass");
  const classAsExtended = el.children.some((k) => k.name === "ExtendedProperty" && Number(attr(kid(k, "ExtendedFieldURI"), "PropertyTag")) === CONTAINER_CLASS_TAG);
  if (el.name === "Folder" && sentClass !== FOLDER_CLASS[cls] && !classAsExtended) await setContainerClass(c, folder.id, sentClass ?? "");
  return (await c.store.getFolderById(folder.id)) ?? folder;
}

function addToTree(tree: FolderTree, parent: FolderRef, f: Folder): void {
  tree.byId.set(f.id, f);
  const key = parent.kind === "store" ? parent.folder.id : "msgfolderroot";
  let list = tree.children.get(key);
  if (!list) tree.children.set(key, (list = []));
  list.push(f);
}

// MS-OXWSFOLD §3.1.4.2 CreateFolder
registerOperation("CreateFolder", async (c, op) => {
  const parentEl = mkid(op, "ParentFolderId");
  const folders = (mkid(op, "Folders")?.children ?? []).filter((k) => k.ns === NS.t);
  if (!parentEl) throw new EwsError("ErrorParentFolderIdRequired", "ParentFolderId is required.");
  if (folders.length === 0) throw new EwsError("ErrorInvalidRequest", "Folders names no folder to create.");
  if (folders.length > 1000) throw new EwsError("ErrorInvalidRequest", "At most 1000 folders per request.");
  return perFolder(c, "CreateFolder", folders, async (el, tree) => {
    const parent = await resolveParent(c, tree, parentEl);
    const f = await createOne(c, tree, parent, el);
    addToTree(tree, parent, f);
    return m("Folders", folderIdOnly(c, { kind: "store", folder: f }, tree.head));
  });
});

function resolveParent(c: EwsContext, tree: FolderTree, el: XmlElement): Promise<FolderRef> {
  return resolveRole(c, tree, el, "ErrorParentFolderNotFound", "The parent folder was not found.");
}

// MS-OXWSFOLD §3.1.4.1 CreateFolderPath (Exchange 2013): each level of the path, made when missing.
registerOperation(
  "CreateFolderPath",
  async (c, op) => {
    const parentEl = mkid(op, "ParentFolderId");
    const path = (mkid(op, "RelativeFolderPath")?.children ?? []).filter((k) => k.ns === NS.t);
    if (!parentEl) throw new EwsError("ErrorParentFolderIdRequired", "ParentFolderId is required.");
    if (path.length === 0 || path.length > 32) throw new EwsError("ErrorInvalidRequest", "RelativeFolderPath holds 1 to 32 folders.");
    const tree = await loadTree(c);
    let parent: FolderRef | null = null;
    let failed: EwsError | null = null;
    return perFolder(
      c,
      "CreateFolderPath",
      path,
      async (el) => {
        if (failed) throw new EwsError("ErrorBatchProcessingStopped", "An earlier folder of the path could not be made.");
        try {
          parent ??= await resolveParent(c, tree, parentEl);
          const name = checkName(kidText(el, "DisplayName"));
          const existing = childrenOf(tree, parent).find((f) => displayName(tree, f).toLowerCase() === name.toLowerCase());
          const f = existing ?? (await createOne(c, tree, parent, el));
          if (!existing) addToTree(tree, parent, f);
          parent = { kind: "store", folder: f };
          return m("Folders", folderIdOnly(c, parent, tree.head));
        } catch (e) {
          failed = e instanceof EwsError ? e : new EwsError("ErrorInternalServerError", "The folder could not be made.");
          throw e;
        }
      },
      tree,
    );
  },
  { since: "Exchange2013" },
);

/** The store name a mail/notes folder gets when renamed in place. */
function renamedPath(f: Folder, newName: string): string {
  const i = f.name.lastIndexOf("/");
  return i < 0 ? newName : `${f.name.slice(0, i)}/${newName}`;
}

/** Refuses a rename before anything is written (the Inbox keeps its name: renaming it in the store moves its mail, RFC 9051 §6.3.6). */
async function checkRename(c: EwsContext, f: Folder, newName: string): Promise<void> {
  if (isGroupware(f.itemClass)) return;
  if (f.name === "INBOX") throw new EwsError("ErrorAccessDenied", "The Inbox cannot be renamed.");
  const to = renamedPath(f, newName);
  if (to !== f.name && to.toLowerCase() !== f.name.toLowerCase() && (await c.store.getFolder(c.account.id, to, f.itemClass))) {
    throw new EwsError("ErrorFolderExists", `A folder named "${newName}" exists there.`);
  }
}

/** Renames a store folder (mail, notes) keeping its place; a collection gets a new display name. */
async function rename(c: EwsContext, f: Folder, newName: string): Promise<void> {
  if (isGroupware(f.itemClass)) {
    try {
      await c.server.groupware.updateCollection(c.account, f.name, { displayName: newName });
    } catch (e) {
      fromGroupware(e);
    }
    return;
  }
  const to = renamedPath(f, newName);
  if (to !== f.name) await c.store.renameFolder(c.account.id, f.name, to, { itemClass: f.itemClass });
}

// MS-OXWSFOLD §3.1.4.8 UpdateFolder: DisplayName (a rename) and extended properties.
registerOperation("UpdateFolder", async (c, op) => {
  const changes = (mkid(op, "FolderChanges")?.children ?? []).filter((k) => k.ns === NS.t && k.name === "FolderChange");
  if (changes.length === 0) throw new EwsError("ErrorInvalidRequest", "FolderChanges names no folder.");
  if (changes.length > 1000) throw new EwsError("ErrorInvalidRequest", "At most 1000 folders per request.");
  return perFolder(c, "UpdateFolder", changes, async (fc, tree) => {
    const idEl = fc.children.find((k) => k.ns === NS.t && (k.name === "FolderId" || k.name === "DistinguishedFolderId"));
    if (!idEl) throw new EwsError("ErrorInvalidRequest", "A FolderChange names no folder.");
    const ref = await resolveIn(c, tree, idEl);
    const list = parseChanges(kid(fc, "Updates"));
    if (ref.kind === "virtual") throw new EwsError("ErrorAccessDenied", "The mailbox root cannot be changed.");
    const f = ref.folder;
    // Every change is checked before any is written: no half-applied update (rules: no half-written item).
    let newName: string | null = null;
    let newClass: string | null = null;
    for (const ch of list) {
      if (ch.path.kind === "extended") continue;
      const uri = ch.path.uri;
      if (uri === "folder:PermissionSet") {
        if (ch.op !== "delete") checkPermissionSet(kid(ch.value, "PermissionSet"));
        continue;
      }
      if (uri === "folder:FolderClass") {
        // a class of the folder's own kind (IPF.Note.Custom on a mail folder); another kind would move its items between name spaces
        const v = ch.op === "delete" ? "" : (kidText(ch.value, "FolderClass") ?? "");
        const to = classOfFolderClass(v);
        if (v && to !== null && to !== f.itemClass) throw new EwsError("ErrorInvalidPropertySet", "A folder's class cannot change to another kind of folder.");
        newClass = v;
        continue;
      }
      if (uri !== "folder:DisplayName") {
        throw new EwsError(ch.op === "delete" ? "ErrorInvalidPropertyDelete" : "ErrorInvalidPropertySet", `${uri} cannot be changed on a folder.`);
      }
      if (ch.op === "delete") throw new EwsError("ErrorInvalidPropertyDelete", "A folder's DisplayName cannot be deleted.");
      newName = checkName(kidText(ch.value, "DisplayName"));
    }
    if (newName !== null) await checkRename(c, f, newName);
    await applyExtendedChanges(c, { folderId: f.id }, list);
    if (newClass !== null) await setContainerClass(c, f.id, newClass);
    if (newName !== null) await rename(c, f, newName);
    return folderAfter(c, tree, f);
  });
});

/** Removes a mail/notes folder and everything under it (the store refuses a folder with children: deepest first). */
async function removeTree(c: EwsContext, tree: FolderTree, f: Folder): Promise<void> {
  for (const child of childrenOf(tree, { kind: "store", folder: f })) await removeTree(c, tree, child);
  await c.store.deleteFolder(c.account.id, f.name, { itemClass: f.itemClass });
}

/** A free name under Deleted Items for a folder moved there ("Name", "Name (2)"...). */
async function freeName(c: EwsContext, parent: string, name: string, cls: ItemClass): Promise<string> {
  for (let i = 1; i <= 100; i++) {
    const candidate = `${parent}/${i === 1 ? name : `${name} (${i})`}`;
    if (!(await c.store.getFolder(c.account.id, candidate, cls))) return candidate;
  }
  throw new EwsError("ErrorFolderExists", "Deleted Items already holds folders of this name.");
}

// MS-OXWSFOLD §3.1.4.3 DeleteFolder
registerOperation("DeleteFolder", async (c, op) => {
  const type = attr(op, "DeleteType") ?? "";
  if (type !== "HardDelete" && type !== "SoftDelete" && type !== "MoveToDeletedItems") throw new EwsError("ErrorInvalidRequest", "DeleteType must be HardDelete, SoftDelete or MoveToDeletedItems.");
  const ids = folderIdElements(mkid(op, "FolderIds"), "FolderIds");
  return perFolder(c, "DeleteFolder", ids, async (el, tree) => {
    const ref = await resolveIn(c, tree, el);
    if (ref.kind === "virtual" || isDistinguished(tree, ref.folder)) throw new EwsError("ErrorDeleteDistinguishedFolder", "Distinguished folders cannot be deleted.");
    const f = ref.folder;
    if (isGroupware(f.itemClass)) {
      try {
        await c.server.groupware.deleteCollection(c.account, f.name);
      } catch (e) {
        fromGroupware(e);
      }
    } else if (type === "MoveToDeletedItems" && f.itemClass === "mail") {
      const trash = await resolveDistinguished(c, "deleteditems");
      if (trash.kind !== "store") throw new EwsError("ErrorFolderNotFound", "This mailbox has no Deleted Items folder.");
      if (isUnder(tree, ref, trash)) await removeTree(c, tree, f);
      else await c.store.renameFolder(c.account.id, f.name, await freeName(c, trash.folder.name, displayName(tree, f), "mail"), { itemClass: "mail" });
    } else {
      await removeTree(c, tree, f);
    }
    tree.byId.delete(f.id);
    return null;
  });
});

/** Deletes every item of a folder (MoveToDeletedItems: mail goes to Deleted Items). */
async function emptyItems(c: EwsContext, f: Folder, type: string): Promise<void> {
  if (f.itemClass === "mail") {
    const uids = (await c.store.listMessages(f.id)).map((s) => s.uid);
    if (uids.length === 0) return;
    if (type === "MoveToDeletedItems") {
      const trash = await resolveDistinguished(c, "deleteditems");
      if (trash.kind === "store" && trash.folder.id !== f.id) {
        await c.store.move(f.id, uids, trash.folder.id);
        return;
      }
    }
    await c.store.expunge(f.id, uids);
    return;
  }
  for (const item of await c.store.listItems(f.id)) await c.store.deleteItem(item.id);
}

// MS-OXWSFOLD §3.1.4.5 EmptyFolder: the items, and with DeleteSubFolders the subfolders too.
registerOperation(
  "EmptyFolder",
  async (c, op) => {
    const type = attr(op, "DeleteType") ?? "";
    if (type !== "HardDelete" && type !== "SoftDelete" && type !== "MoveToDeletedItems") throw new EwsError("ErrorInvalidRequest", "DeleteType must be HardDelete, SoftDelete or MoveToDeletedItems.");
    const subfolders = parseBool(attr(op, "DeleteSubFolders")) ?? false;
    const ids = folderIdElements(mkid(op, "FolderIds"), "FolderIds");
    return perFolder(c, "EmptyFolder", ids, async (el, tree) => {
      const ref = await resolveIn(c, tree, el);
      if (ref.kind === "virtual") throw new EwsError("ErrorCannotEmptyFolder", "The mailbox root holds no items.");
      await emptyItems(c, ref.folder, type);
      if (subfolders) for (const child of childrenOf(tree, ref)) if (!isDistinguished(tree, child)) await removeTree(c, tree, child);
      return null;
    });
  },
  { since: "Exchange2010" },
);
