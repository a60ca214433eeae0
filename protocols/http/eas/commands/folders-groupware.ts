/**
 * The groupware side of FolderCreate/FolderUpdate/FolderDelete (MS-ASCMD
 * §2.2.1.3, §2.2.1.4, §2.2.1.6): calendars, address books and task lists
 * are groupware collections (src/groupware/collections.ts), so a device's
 * folder goes through the groupware service like a CalDAV MKCALENDAR: a
 * URL-safe name chosen here (the device's name becomes the display name,
 * which is what CalDAV/CardDAV clients show), a rename changes only the
 * display name (the DAV URL never moves), and the default collection of a
 * kind is a system folder.
 */
import { randomBytes } from "node:crypto";
import { StoreError, type Folder } from "../../../../storage/api.ts";
import { GroupwareError, type Collection, type CollectionKind } from "../../../../src/groupware/index.ts";
import type { EasContext } from "../context.ts";
import { FolderType } from "../folders.ts";
import { FolderStatus } from "../status.ts";
import { syncClassByName, syncClassForFolder } from "../sync/classes.ts";
import { ensureNotesFolder } from "../sync/notes.ts";

/** Folder types of the default folder of each class (MS-ASCMD §2.2.3.186.3): system folders. */
const DEFAULT_TYPES: ReadonlySet<number> = new Set([FolderType.Tasks, FolderType.Calendar, FolderType.Contacts, FolderType.Notes]);

const KIND_OF_TYPE: Readonly<Record<number, CollectionKind>> = {
  [FolderType.UserCalendar]: "calendar",
  [FolderType.UserContacts]: "contacts",
  [FolderType.UserTasks]: "tasks",
};

/** The collection kind a FolderCreate Type asks for, or undefined for mail/notes types. */
export function collectionKindOfType(type: number): CollectionKind | undefined {
  return KIND_OF_TYPE[type];
}

/** True for a folder of a groupware collection class (calendar, contacts, tasks). */
export function isCollectionFolder(f: Folder): boolean {
  return f.itemClass === "calendar" || f.itemClass === "contacts" || f.itemClass === "tasks";
}

/** The default calendar, address book, task list or notes folder (its class module gives it type 7-10). */
export function isDefaultGroupwareFolder(f: Folder): boolean {
  const cls = syncClassForFolder(f);
  return f.itemClass !== "mail" && !!cls && DEFAULT_TYPES.has(cls.folderType(f));
}

/**
 * Before a FolderSync: the account's default collections (older accounts
 * have none yet, groupware.ensureDefaults) and, when the Notes class is
 * served, a default Notes folder (the notes class module's ensureNotesFolder).
 */
export async function prepareGroupwareFolders(c: EasContext): Promise<void> {
  await c.server.groupware.ensureDefaults(c.account);
  if (syncClassByName("Notes")) await ensureNotesFolder(c.store, c.account);
}

/** A FolderCreate/Update/Delete Status for a refused groupware write (MS-ASCMD §2.2.3.177.3/4/6). */
function groupwareStatus(e: unknown): number {
  if (e instanceof GroupwareError) {
    switch (e.code) {
      case "EXISTS":
        return FolderStatus.AlreadyExists;
      case "NOT_FOUND":
        return FolderStatus.NotFound;
      case "FORBIDDEN":
        return FolderStatus.SpecialFolder;
      case "INVALID_DATA":
        return FolderStatus.BadRequest;
      default:
        return FolderStatus.ServerError; // LIMIT (500 collections), QUOTA
    }
  }
  if (e instanceof StoreError) return e.code === "ALREADYEXISTS" ? FolderStatus.AlreadyExists : FolderStatus.ServerError;
  throw e;
}

/**
 * A URL segment for a device's folder name: ASCII letters, digits and '-'
 * from the name, and a random suffix so two folders of the same name (or
 * names without ASCII letters) never meet.
 */
export function collectionNameFor(displayName: string): string {
  const base = displayName
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
  return `${base || "folder"}-${randomBytes(4).toString("hex")}`;
}

/** Another collection of the kind with this display name (the device's "a folder of that name exists"). */
async function sameName(c: EasContext, kind: CollectionKind, displayName: string, except?: number): Promise<Collection | undefined> {
  const want = displayName.toLowerCase();
  return (await c.server.groupware.listCollections(c.account, kind)).find((x) => x.id !== except && x.displayName.toLowerCase() === want);
}

/** FolderCreate of a calendar, address book or task list: the new folder, or a FolderCreate Status. */
export async function createCollectionFolder(c: EasContext, kind: CollectionKind, displayName: string): Promise<Folder | number> {
  if (await sameName(c, kind, displayName)) return FolderStatus.AlreadyExists;
  // a random suffix makes a clash unlikely; a few tries make it impossible in practice
  for (let attempt = 0; attempt < 4; attempt++) {
    try {
      const col = await c.server.groupware.createCollection(c.account, kind, collectionNameFor(displayName), { displayName });
      const f = await c.store.getFolderById(col.id);
      return f ?? FolderStatus.ServerError;
    } catch (e) {
      if (e instanceof GroupwareError && e.code === "EXISTS") continue;
      return groupwareStatus(e);
    }
  }
  return FolderStatus.ServerError;
}

/** FolderUpdate of a collection: a new display name; the folder stays where it is (collections are not nested). */
export async function renameCollectionFolder(c: EasContext, folder: Folder, displayName: string): Promise<number> {
  if (isDefaultGroupwareFolder(folder)) return FolderStatus.AlreadyExists; // MS-ASCMD §2.2.3.177.6 Status 2: a system folder
  const kind = folder.itemClass as CollectionKind;
  if (await sameName(c, kind, displayName, folder.id)) return FolderStatus.AlreadyExists;
  try {
    await c.server.groupware.updateCollection(c.account, folder.name, { displayName });
    return FolderStatus.Success;
  } catch (e) {
    return groupwareStatus(e);
  }
}

/** FolderDelete of a collection with its objects; the default one is a system folder (Status 3). */
export async function deleteCollectionFolder(c: EasContext, folder: Folder): Promise<number> {
  if (isDefaultGroupwareFolder(folder)) return FolderStatus.SpecialFolder; // MS-ASCMD §2.2.3.177.4 Status 3
  try {
    await c.server.groupware.deleteCollection(c.account, folder.name);
    return FolderStatus.Success;
  } catch (e) {
    return groupwareStatus(e);
  }
}
