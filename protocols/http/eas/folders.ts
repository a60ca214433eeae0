/**
 * Folders as ActiveSync sees them (MS-ASCMD §2.2.1.5 FolderSync): ServerId =
 * the store's folder id, ParentId "0" for top level, DisplayName = the last
 * path segment (for a calendar, address book or task list: its groupware
 * display name, what CalDAV/CardDAV clients set), Type from the class module
 * (special-use folders map to the default types 2-6, the default calendar,
 * contacts, tasks and notes folders to 8, 9, 7 and 10).
 *
 * Folders of a groupware class that are not collections (the RFC 6638
 * schedule inbox the scheduling code keeps as a calendar folder "inbox",
 * nested names) are not shown to a device.
 */
import type { Account, Folder, MailStore } from "../../../storage/api.ts";
import { isReservedName, PILLARBOX_PROPSET } from "../../../src/groupware/index.ts";
import { toCollection } from "../../../src/groupware/collections.ts";
import { syncClassForFolder } from "./sync/classes.ts";

/** MS-ASCMD §2.2.3.186.3 Type (FolderSync). */
export const FolderType = {
  UserGeneric: 1,
  Inbox: 2,
  Drafts: 3,
  DeletedItems: 4,
  SentItems: 5,
  Outbox: 6,
  Tasks: 7,
  Calendar: 8,
  Contacts: 9,
  Notes: 10,
  Journal: 11,
  UserMail: 12,
  UserCalendar: 13,
  UserContacts: 14,
  UserTasks: 15,
  UserJournal: 16,
  UserNotes: 17,
  Unknown: 18,
  RecipientCache: 19,
} as const;

export interface FolderEntry {
  serverId: string;
  parentId: string;
  displayName: string;
  type: number;
}

export function displayName(f: Folder): string {
  if (f.name === "INBOX") return "Inbox";
  const i = f.name.lastIndexOf("/");
  return i >= 0 ? f.name.slice(i + 1) : f.name;
}

const COLLECTION_CLASSES = new Set(["calendar", "tasks", "contacts"]);

/** True for a folder a device may see and name: a class with a sync module, and for calendars/contacts/tasks a groupware collection. */
export function deviceVisible(f: Folder): boolean {
  if (!syncClassForFolder(f)) return false;
  // src/groupware/collections.ts: a collection is a top-level folder with a name that is not reserved
  if (COLLECTION_CLASSES.has(f.itemClass)) return !f.name.includes("/") && !isReservedName(f.name);
  return true;
}

/**
 * The folders a device sees: those whose class has a sync module; a
 * collection by its display name. One query: every folder with the
 * groupware property set (src/groupware/collections.ts).
 */
export async function deviceFolders(store: MailStore, account: Account): Promise<{ folders: Folder[]; entries: FolderEntry[] }> {
  const rows = (await store.listFoldersWithProperties(account.id, { propertySet: PILLARBOX_PROPSET })).filter((r) => deviceVisible(r.folder));
  const visible = rows.map((r) => r.folder);
  const ids = new Set(visible.map((f) => f.id));
  const entries = rows.map(({ folder: f, properties }) => ({
    serverId: String(f.id),
    // A parent that is not visible (another class) would orphan the folder: show it at the top level.
    parentId: f.parentId !== null && ids.has(f.parentId) ? String(f.parentId) : "0",
    displayName: (COLLECTION_CLASSES.has(f.itemClass) && toCollection({ folder: f, properties })?.displayName) || displayName(f),
    type: syncClassForFolder(f)!.folderType(f),
  }));
  return { folders: visible, entries };
}

export function parseFolderId(s: string | undefined): number | null {
  if (s === undefined || !/^\d{1,15}$/.test(s.trim())) return null;
  return Number(s.trim());
}

/** Finds an account's folder by ActiveSync ServerId. */
export async function folderByServerId(store: MailStore, accountId: number, serverId: string | undefined): Promise<Folder | null> {
  const id = parseFolderId(serverId);
  if (id === null) return null;
  const f = await store.getFolderById(id);
  return f && f.accountId === accountId && deviceVisible(f) ? f : null;
}

/** Item ServerId "<folder id>:<item id>": the item part is the store's stable id (survives moves). */
export function itemServerId(folderId: number, itemId: number): string {
  return `${folderId}:${itemId}`;
}

export function parseItemServerId(s: string | undefined): { folderId: number | null; itemId: number } | null {
  if (!s) return null;
  const m = /^(?:(\d{1,15}):)?(\d{1,15})$/.exec(s.trim());
  if (!m) return null;
  return { folderId: m[1] !== undefined ? Number(m[1]) : null, itemId: Number(m[2]) };
}
