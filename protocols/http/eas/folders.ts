/**
 * Folders as ActiveSync sees them (MS-ASCMD §2.2.1.5 FolderSync): ServerId =
 * the store's folder id, ParentId "0" for top level, DisplayName = the last
 * path segment, Type from the class module (special-use folders map to the
 * default types 2-6).
 */
import type { Folder, MailStore } from "../../../storage/api.ts";
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

/** The folders a device sees: those whose class has a sync module. */
export async function deviceFolders(store: MailStore, accountId: number): Promise<{ folders: Folder[]; entries: FolderEntry[] }> {
  const all = await store.listFolders(accountId);
  const visible = all.filter((f) => syncClassForFolder(f));
  const ids = new Set(visible.map((f) => f.id));
  const entries = visible.map((f) => ({
    serverId: String(f.id),
    // A parent that is not visible (another class) would orphan the folder: show it at the top level.
    parentId: f.parentId !== null && ids.has(f.parentId) ? String(f.parentId) : "0",
    displayName: displayName(f),
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
  return f && f.accountId === accountId ? f : null;
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
