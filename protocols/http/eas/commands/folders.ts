/**
 * FolderSync, FolderCreate, FolderUpdate, FolderDelete (MS-ASCMD §2.2.1.3-6).
 * The device's view of the hierarchy is kept per FolderSync key (the
 * current and the previous one, like collection state): the folders it was
 * sent, and the account change number that view is complete up to. A
 * FolderSync reads the store's account change feed (storage/changes.ts)
 * since that number and reports only the folders it names (created,
 * renamed or moved, deleted); a key older than the feed's pruning floor
 * gets Status 9 and the device starts over. A key stored before the feed
 * existed (no change number) is answered once by comparing the whole
 * hierarchy. The folder commands carry the FolderSync key too and move it
 * forward so the device does not receive its own change back.
 *
 * Calendars, address books and task lists are groupware collections
 * (src/groupware/collections.ts): the device creates one with a URL-safe
 * name of its own and the device's name as display name, a rename sets the
 * display name (a DAV URL never moves), and the default ones are system
 * folders that cannot be renamed or deleted. Notes folders are store folders
 * of class "notes".
 */
import { StoreError, type Folder } from "../../../../storage/api.ts";
import type { CommandHandler, EasContext } from "../context.ts";
import { deviceFolders, folderByServerId, FolderType, type FolderEntry } from "../folders.ts";
import { FolderStatus } from "../status.ts";
import { syncClassForFolder, syncClasses } from "../sync/classes.ts";
import { collectionKindOfType, createCollectionFolder, deleteCollectionFolder, isCollectionFolder, isDefaultGroupwareFolder, prepareGroupwareFolders, renameCollectionFolder } from "./folders-groupware.ts";
import { kidText, ns, type WElement } from "../wbxml/tree.ts";

const F = ns("FolderHierarchy");

interface FolderSnap {
  key: number;
  entries: FolderEntry[];
  /** Account change number the entries are complete up to; undefined for a state written before the change feed. */
  modseq?: number;
}

/** Stored form: `{ modseq, entries }` (older states are a bare entries array). */
interface StoredFolderState {
  modseq?: number;
  entries: FolderEntry[];
}

async function loadSnap(c: EasContext, key: number): Promise<FolderSnap | null> {
  const s = await c.eas.getFolderState(c.device.pk, key);
  if (s === null) return null;
  try {
    const v = JSON.parse(s) as StoredFolderState | FolderEntry[];
    if (Array.isArray(v)) return { key, entries: v };
    if (!v || !Array.isArray(v.entries)) return null;
    const modseq = typeof v.modseq === "number" && Number.isSafeInteger(v.modseq) && v.modseq >= 0 ? v.modseq : undefined;
    return { key, entries: v.entries, modseq };
  } catch {
    return null;
  }
}

/** The account's current change number (a feed read from above it answers "tooOld" with it). */
async function feedHead(c: EasContext): Promise<number> {
  return (await c.store.accountChanges(c.account.id, Number.MAX_SAFE_INTEGER, { limit: 1 })).highestModseq;
}

/** Folder ids the feed names since `since` (any class: a folder's class decides visibility below), or "tooOld". */
async function changedFolders(c: EasContext, since: number): Promise<{ ids: Set<string>; head: number } | "tooOld"> {
  const ids = new Set<string>();
  let from = since;
  for (;;) {
    const r = await c.store.accountChanges(c.account.id, from, { limit: 5000, only: "folders" });
    if (r.status === "tooOld") return "tooOld";
    for (const f of r.folders) ids.add(String(f.folderId));
    from = r.highestModseq;
    if (!r.more) return { ids, head: from };
  }
}

/** The snapshot the device's key names (current or previous), or null for an unknown key. */
async function snapForKey(c: EasContext, syncKey: string | undefined): Promise<{ snap: FolderSnap; keys: number[] } | null> {
  if (!syncKey || !/^\d{1,15}$/.test(syncKey)) return null;
  const k = Number(syncKey);
  const keys = await c.eas.folderKeys(c.device.pk);
  if (k !== keys[0] && k !== keys[1]) return null;
  const snap = await loadSnap(c, k);
  return snap ? { snap, keys } : null;
}

async function saveSnap(c: EasContext, keys: number[], base: number | null, entries: FolderEntry[], modseq: number | undefined): Promise<number> {
  const key = (keys[0] ?? 0) + 1;
  const state: StoredFolderState = { modseq, entries };
  await c.eas.putFolderState(c.device.pk, key, JSON.stringify(state), base === null ? [] : [base]);
  return key;
}

function entryEls(e: FolderEntry): WElement[] {
  return [F("ServerId", e.serverId), F("ParentId", e.parentId), F("DisplayName", e.displayName), F("Type", e.type)];
}

export const folderSync: CommandHandler = async (c, doc) => {
  const syncKey = kidText(doc!, "FolderHierarchy:SyncKey");
  if (syncKey === undefined) return { wbxml: F("FolderSync", F("Status", FolderStatus.BadRequest)) };
  // Older accounts get their default calendar, address book, task list and notes folder now.
  await prepareGroupwareFolders(c);
  if (syncKey === "0") {
    // MS-ASCMD §2.2.3.166.4 SyncKey (FolderSync): 0 asks for the whole hierarchy, which a client may do
    // at any time; the collections it synced keep their state, only those of folders that are gone lose it.
    const head = await feedHead(c); // before the listing: a change after it is reported next time
    const { entries } = await deviceFolders(c.store, c.account);
    const keys = await c.eas.folderKeys(c.device.pk);
    const live = new Set(entries.map((e) => e.serverId));
    for (const coll of await c.eas.syncedCollections(c.device.pk)) if (!live.has(coll)) await c.eas.dropSyncState(c.device.pk, coll);
    const key = await saveSnap(c, keys, null, entries, head);
    return { wbxml: F("FolderSync", F("Status", "1"), F("SyncKey", String(key)), F("Changes", F("Count", entries.length), entries.map((e) => F("Add", entryEls(e))))) };
  }
  const found = await snapForKey(c, syncKey);
  if (!found) return { wbxml: F("FolderSync", F("Status", FolderStatus.SyncKeyInvalid)) };
  const { snap, keys } = found;
  // The folders to look at: those the feed names since the key's change number (all of them for a pre-feed key).
  let named: Set<string> | null = null;
  let head: number;
  if (snap.modseq !== undefined) {
    const fc = await changedFolders(c, snap.modseq);
    // MS-ASCMD §2.2.3.177.5 Status 9: the feed no longer reaches back to this key; the device re-runs FolderSync with key 0.
    if (fc === "tooOld") return { wbxml: F("FolderSync", F("Status", FolderStatus.SyncKeyInvalid)) };
    named = fc.ids;
    head = fc.head;
  } else head = await feedHead(c);
  const { entries } = await deviceFolders(c.store, c.account);
  const old = new Map(snap.entries.map((e) => [e.serverId, e]));
  const now = new Map(entries.map((e) => [e.serverId, e]));
  const changes: WElement[] = [];
  for (const e of entries) {
    if (named && !named.has(e.serverId)) continue;
    const o = old.get(e.serverId);
    if (!o) changes.push(F("Add", entryEls(e)));
    else if (o.parentId !== e.parentId || o.displayName !== e.displayName || o.type !== e.type) changes.push(F("Update", entryEls(e)));
  }
  const deleted = snap.entries.filter((o) => (!named || named.has(o.serverId)) && !now.has(o.serverId));
  for (const o of deleted) changes.push(F("Delete", F("ServerId", o.serverId)));
  const rollback = snap.key !== keys[0];
  if (!changes.length && !rollback) return { wbxml: F("FolderSync", F("Status", "1"), F("SyncKey", syncKey), F("Changes", F("Count", "0"))) };
  // What the device holds now: its old view with this answer applied.
  const held = new Map(old);
  for (const o of deleted) held.delete(o.serverId);
  for (const e of entries) if (!named || named.has(e.serverId)) held.set(e.serverId, e);
  const key = await saveSnap(c, keys, snap.key, [...held.values()], head);
  // Collections of deleted folders lose their state.
  for (const o of deleted) await c.eas.dropSyncState(c.device.pk, o.serverId);
  return { wbxml: F("FolderSync", F("Status", "1"), F("SyncKey", String(key)), F("Changes", F("Count", changes.length), changes)) };
};

/** Folder commands need the current FolderSync key (MS-ASCMD §2.2.3.177.3 Status 9 otherwise). */
async function currentSnap(c: EasContext, syncKey: string | undefined): Promise<{ snap: FolderSnap; keys: number[] } | null> {
  const found = await snapForKey(c, syncKey);
  return found && found.snap.key === found.keys[0] ? found : null;
}

function storeStatus(e: unknown): number {
  if (e instanceof StoreError) {
    if (e.code === "ALREADYEXISTS") return FolderStatus.AlreadyExists;
    if (e.code === "NONEXISTENT") return FolderStatus.NotFound;
    if (e.code === "INVALID") return FolderStatus.BadRequest;
    return FolderStatus.ServerError;
  }
  throw e;
}

const validName = (n: string) => n.length > 0 && n.length <= 255 && !n.includes("/") && !/[\u0000-\u001f\u007f]/.test(n) && n.trim() === n;

async function parentName(c: EasContext, parentId: string): Promise<{ name: string | null; itemClass?: string } | null> {
  if (parentId === "0") return { name: null };
  const p = await folderByServerId(c.store, c.account.id, parentId);
  if (!p || !syncClassForFolder(p)) return null;
  return { name: p.name, itemClass: p.itemClass };
}

export const folderCreate: CommandHandler = async (c, doc) => {
  const r = doc!;
  const syncKey = kidText(r, "FolderHierarchy:SyncKey");
  const parentId = kidText(r, "FolderHierarchy:ParentId");
  const name = kidText(r, "FolderHierarchy:DisplayName");
  const type = Number(kidText(r, "FolderHierarchy:Type"));
  if (parentId === undefined || name === undefined || !Number.isInteger(type)) return { wbxml: F("FolderCreate", F("Status", FolderStatus.BadRequest)) };
  const found = await currentSnap(c, syncKey);
  if (!found) return { wbxml: F("FolderCreate", F("Status", FolderStatus.SyncKeyInvalid)) };
  const cls = syncClasses().find((m) => m.creatableTypes.includes(type));
  if (!cls) return { wbxml: F("FolderCreate", F("Status", FolderStatus.BadRequest)) };
  if (!validName(name)) return { wbxml: F("FolderCreate", F("Status", FolderStatus.BadRequest)) };
  const parent = await parentName(c, parentId);
  if (!parent) return { wbxml: F("FolderCreate", F("Status", FolderStatus.ParentNotFound)) };
  // Each item class has its own folder tree: under a folder of another class the new one goes to the top level.
  const nested = parent.name !== null && parent.itemClass === cls.itemClass;
  const kind = collectionKindOfType(type);
  let created: Folder;
  if (kind) {
    // A calendar, address book or task list: a groupware collection (collections are not nested: one URL level under a DAV home).
    const r = await createCollectionFolder(c, kind, name);
    if (typeof r === "number") return { wbxml: F("FolderCreate", F("Status", r)) };
    created = r;
  } else {
    const full = nested ? `${parent.name}/${name}` : name;
    if (full.toUpperCase() === "INBOX") return { wbxml: F("FolderCreate", F("Status", FolderStatus.AlreadyExists)) };
    try {
      created = await c.store.createFolder(c.account.id, full, { itemClass: cls.itemClass });
    } catch (e) {
      return { wbxml: F("FolderCreate", F("Status", storeStatus(e))) };
    }
  }
  const entry: FolderEntry = { serverId: String(created.id), parentId: !kind && nested ? parentId : "0", displayName: name, type: cls.folderType(created) };
  const key = await saveSnap(c, found.keys, found.snap.key, [...found.snap.entries, entry], found.snap.modseq);
  return { wbxml: F("FolderCreate", F("Status", "1"), F("SyncKey", String(key)), F("ServerId", entry.serverId)) };
};

function isSpecial(f: Folder): boolean {
  return f.name === "INBOX" || f.specialUse !== null;
}

export const folderUpdate: CommandHandler = async (c, doc) => {
  const r = doc!;
  const syncKey = kidText(r, "FolderHierarchy:SyncKey");
  const serverId = kidText(r, "FolderHierarchy:ServerId");
  const parentId = kidText(r, "FolderHierarchy:ParentId");
  const name = kidText(r, "FolderHierarchy:DisplayName");
  if (serverId === undefined || parentId === undefined || name === undefined) return { wbxml: F("FolderUpdate", F("Status", FolderStatus.BadRequest)) };
  const found = await currentSnap(c, syncKey);
  if (!found) return { wbxml: F("FolderUpdate", F("Status", FolderStatus.SyncKeyInvalid)) };
  const folder = await folderByServerId(c.store, c.account.id, serverId);
  if (!folder || !syncClassForFolder(folder)) return { wbxml: F("FolderUpdate", F("Status", FolderStatus.NotFound)) };
  // MS-ASCMD §2.2.3.177.6 Status 2: special folders cannot be renamed or moved.
  if (isSpecial(folder) || isDefaultGroupwareFolder(folder)) return { wbxml: F("FolderUpdate", F("Status", FolderStatus.AlreadyExists)) };
  if (!validName(name)) return { wbxml: F("FolderUpdate", F("Status", FolderStatus.BadRequest)) };
  const parent = await parentName(c, parentId);
  if (!parent) return { wbxml: F("FolderUpdate", F("Status", FolderStatus.ParentNotFound)) };
  if (isCollectionFolder(folder)) {
    // A collection keeps its URL: the new name is its display name, and it stays at the top level.
    const st = await renameCollectionFolder(c, folder, name);
    if (st !== FolderStatus.Success) return { wbxml: F("FolderUpdate", F("Status", st)) };
    const entries = found.snap.entries.map((e) => (e.serverId === serverId ? { ...e, parentId: "0", displayName: name } : e));
    const key = await saveSnap(c, found.keys, found.snap.key, entries, found.snap.modseq);
    return { wbxml: F("FolderUpdate", F("Status", "1"), F("SyncKey", String(key))) };
  }
  const full = parent.name === null || parent.itemClass !== folder.itemClass ? name : `${parent.name}/${name}`;
  if (full !== folder.name) {
    try {
      await c.store.renameFolder(c.account.id, folder.name, full, { itemClass: folder.itemClass });
    } catch (e) {
      return { wbxml: F("FolderUpdate", F("Status", storeStatus(e))) };
    }
  }
  const entries = found.snap.entries.map((e) => (e.serverId === serverId ? { ...e, parentId: parent.name === null || parent.itemClass !== folder.itemClass ? "0" : parentId, displayName: name } : e));
  const key = await saveSnap(c, found.keys, found.snap.key, entries, found.snap.modseq);
  return { wbxml: F("FolderUpdate", F("Status", "1"), F("SyncKey", String(key))) };
};

export const folderDelete: CommandHandler = async (c, doc) => {
  const r = doc!;
  const syncKey = kidText(r, "FolderHierarchy:SyncKey");
  const serverId = kidText(r, "FolderHierarchy:ServerId");
  if (serverId === undefined) return { wbxml: F("FolderDelete", F("Status", FolderStatus.BadRequest)) };
  const found = await currentSnap(c, syncKey);
  if (!found) return { wbxml: F("FolderDelete", F("Status", FolderStatus.SyncKeyInvalid)) };
  const folder = await folderByServerId(c.store, c.account.id, serverId);
  if (!folder || !syncClassForFolder(folder)) return { wbxml: F("FolderDelete", F("Status", FolderStatus.NotFound)) };
  if (isSpecial(folder) || isDefaultGroupwareFolder(folder)) return { wbxml: F("FolderDelete", F("Status", FolderStatus.SpecialFolder)) };
  if (isCollectionFolder(folder)) {
    const st = await deleteCollectionFolder(c, folder);
    if (st !== FolderStatus.Success) return { wbxml: F("FolderDelete", F("Status", st)) };
    await c.eas.dropSyncState(c.device.pk, serverId);
    const key = await saveSnap(c, found.keys, found.snap.key, found.snap.entries.filter((e) => e.serverId !== serverId), found.snap.modseq);
    return { wbxml: F("FolderDelete", F("Status", "1"), F("SyncKey", String(key))) };
  }
  // ActiveSync deletes a folder with its subfolders; the store wants children first.
  // each item class has its own folder tree (storage/folder-names.ts)
  const all = await c.store.listFolders(c.account.id, { itemClass: folder.itemClass });
  const subtree = all.filter((f) => f.name === folder.name || f.name.startsWith(folder.name + "/")).sort((a, b) => b.name.length - a.name.length);
  try {
    for (const f of subtree) await c.store.deleteFolder(c.account.id, f.name, { itemClass: folder.itemClass });
  } catch (e) {
    return { wbxml: F("FolderDelete", F("Status", storeStatus(e))) };
  }
  const gone = new Set(subtree.map((f) => String(f.id)));
  for (const id of gone) await c.eas.dropSyncState(c.device.pk, id);
  const key = await saveSnap(c, found.keys, found.snap.key, found.snap.entries.filter((e) => !gone.has(e.serverId)), found.snap.modseq);
  return { wbxml: F("FolderDelete", F("Status", "1"), F("SyncKey", String(key))) };
};

export { FolderType };
