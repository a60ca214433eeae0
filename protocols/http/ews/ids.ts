/**
 * EWS identifiers (Types.xsd ItemIdType / FolderIdType): opaque to clients,
 * ours to encode. An item id names the store's stable item id (it survives
 * moves: ROADMAP "stable item identity"), with its class and the account, so
 * an id from another mailbox is refused without a lookup. A ChangeKey is
 * the item's or folder's change number (modseq): UpdateItem with a stale
 * one gets ErrorIrresolvableConflict instead of overwriting a newer edit.
 *
 * Folder ids name a store folder, or one of the two folders the store does
 * not hold: the mailbox root ("root", above everything) and the IPM subtree
 * ("msgfolderroot", what clients show), both answered by the folder module.
 */
import type { Folder, ItemClass } from "../../../storage/api.ts";
import { EwsError, type EwsContext } from "./context.ts";
import { NS } from "./ns.ts";
import { attr, kid, type XmlElement } from "./xml.ts";

/**
 * The folders the store does not hold: the mailbox root, the IPM subtree, and
 * the recoverable-items "Deletions" folder (always empty: a soft delete here
 * removes the item; exchangelib's Item.soft_delete() looks the folder up
 * afterwards, Types.xsd DistinguishedFolderIdNameType recoverableitemsdeletions).
 */
export type VirtualFolder = "root" | "msgfolderroot" | "recoverableitemsdeletions";

export type FolderRef = { kind: "store"; folder: Folder } | { kind: "virtual"; name: VirtualFolder };

const CLASS_LETTER: Record<ItemClass, string> = { mail: "M", calendar: "C", contacts: "K", tasks: "T", notes: "N" };
const LETTER_CLASS: Record<string, ItemClass> = { M: "mail", C: "calendar", K: "contacts", T: "tasks", N: "notes" };

const NON_ASCII = /[^\x00-\x7f]/;
function b64(s: string): string {
  // Ids are ASCII (numbers, class letters): btoa encodes them as UTF-8 would, at a third of the cost (a list writes two per item).
  return NON_ASCII.test(s) ? Buffer.from(s, "utf8").toString("base64") : btoa(s);
}

function unb64(s: string): string | null {
  if (!/^[A-Za-z0-9+/_-]{4,200}={0,2}$/.test(s)) return null;
  return Buffer.from(s, "base64").toString("utf8");
}

// ------------------------------------------------------------------ items

export interface ItemRef {
  accountId: number;
  itemClass: ItemClass;
  /** The store's stable item id. */
  id: number;
  /**
   * For an occurrence of a recurring calendar item (OccurrenceItemId /
   * an expanded CalendarView instance): the instance's original start (UTC ms).
   */
  occurrence?: number;
}

export function itemId(ref: ItemRef): string {
  return b64(`I:${ref.accountId}:${CLASS_LETTER[ref.itemClass]}:${ref.id}${ref.occurrence !== undefined ? `:${ref.occurrence}` : ""}`);
}

/** Decodes an ItemId's Id attribute; null when it is not one of ours (answer ErrorInvalidIdMalformed). */
export function parseItemId(id: string): ItemRef | null {
  const s = unb64(id);
  const m = s && /^I:(\d{1,12}):([MCKTN]):(\d{1,15})(?::(-?\d{1,15}))?$/.exec(s);
  if (!m) return null;
  const ref: ItemRef = { accountId: Number(m[1]), itemClass: LETTER_CLASS[m[2]!]!, id: Number(m[3]) };
  if (m[4] !== undefined) ref.occurrence = Number(m[4]);
  return ref;
}

/** The ItemId of the calling account's item, checked: malformed -> ErrorInvalidIdMalformed, another mailbox's -> ErrorItemNotFound. */
export function ownItemId(c: EwsContext, id: string | undefined): ItemRef {
  if (!id) throw new EwsError("ErrorInvalidIdEmpty", "The item id is empty.");
  const ref = parseItemId(id);
  if (!ref) throw new EwsError("ErrorInvalidIdMalformed", "The item id is malformed.");
  if (ref.accountId !== c.account.id) throw new EwsError("ErrorItemNotFound", "The item was not found in this mailbox.");
  return ref;
}

export function changeKey(modseq: number): string {
  return b64(`CK:${modseq}`);
}

/** The modseq in a ChangeKey, or null when malformed. */
export function parseChangeKey(ck: string | undefined): number | null {
  if (!ck) return null;
  const s = unb64(ck);
  const m = s && /^CK:(\d{1,15})$/.exec(s);
  return m ? Number(m[1]) : null;
}

/** `<t:ItemId Id=".." ChangeKey=".."/>` */
export function itemIdXml(ref: ItemRef, modseq: number, element = "ItemId"): string {
  return `<t:${element} Id="${itemId(ref)}" ChangeKey="${changeKey(modseq)}"/>`;
}

// ---------------------------------------------------------------- folders

export function folderId(accountId: number, f: Folder | VirtualFolder): string {
  return b64(`F:${accountId}:${typeof f === "string" ? f : f.id}`);
}

/** The FolderId of a store folder known only by its number (notifications: a deleted folder, an event's folder). */
export function folderIdOf(accountId: number, id: number): string {
  return b64(`F:${accountId}:${id}`);
}

/** `<t:FolderId Id=".." ChangeKey=".."/>` (a virtual folder's change key is the account's change number given). */
export function folderIdXml(accountId: number, f: Folder | VirtualFolder, modseq: number, element = "FolderId"): string {
  return `<t:${element} Id="${folderId(accountId, f)}" ChangeKey="${changeKey(modseq)}"/>`;
}

export function parseFolderId(id: string): { accountId: number; folder: number | VirtualFolder } | null {
  const s = unb64(id);
  const m = s && /^F:(\d{1,12}):(\d{1,15}|root|msgfolderroot|recoverableitemsdeletions)$/.exec(s);
  if (!m) return null;
  const f = m[2]!;
  return { accountId: Number(m[1]), folder: f === "root" || f === "msgfolderroot" || f === "recoverableitemsdeletions" ? f : Number(f) };
}

/**
 * Types.xsd DistinguishedFolderIdNameType names this server has a folder
 * for: mail folders by their RFC 6154 special use, the groupware classes by
 * their default folder. Others (voicemail, recoverable items, archive...)
 * answer ErrorFolderNotFound.
 */
export const DISTINGUISHED_MAIL: Readonly<Record<string, "INBOX" | Folder["specialUse"] | "Outbox">> = {
  inbox: "INBOX",
  drafts: "\\Drafts",
  sentitems: "\\Sent",
  deleteditems: "\\Trash",
  junkemail: "\\Junk",
  archive: "\\Archive",
  outbox: "Outbox",
};
export const DISTINGUISHED_CLASS: Readonly<Record<string, Exclude<ItemClass, "mail">>> = {
  calendar: "calendar",
  contacts: "contacts",
  tasks: "tasks",
  notes: "notes",
};

/** The distinguished name of a store folder, if it is one (for DistinguishedFolderId in responses). */
export function distinguishedName(f: Folder, defaults: ReadonlySet<number>): string | null {
  if (f.itemClass === "mail") {
    if (f.name === "INBOX") return "inbox";
    if (f.name === "Outbox" && f.parentId === null) return "outbox";
    for (const [k, v] of Object.entries(DISTINGUISHED_MAIL)) if (v === f.specialUse) return k;
    return null;
  }
  if (!defaults.has(f.id)) return null;
  return f.itemClass;
}

/**
 * Resolves a `t:FolderId` or `t:DistinguishedFolderId` element (or the
 * element holding one of them, e.g. `m:ParentFolderId`) to the caller's
 * folder. A Mailbox naming someone else: ErrorNonExistentMailbox (no
 * delegation yet); an id of another account: ErrorFolderNotFound.
 */
export async function resolveFolder(c: EwsContext, el: XmlElement | undefined): Promise<FolderRef> {
  if (!el) throw new EwsError("ErrorInvalidRequest", "A folder id is required.");
  let target = el;
  if (el.name !== "FolderId" && el.name !== "DistinguishedFolderId") {
    const inner = kid(el, "FolderId") ?? kid(el, "DistinguishedFolderId");
    if (!inner) throw new EwsError("ErrorInvalidRequest", "A folder id is required.");
    target = inner;
  }
  if (target.ns !== NS.t) throw new EwsError("ErrorInvalidRequest", "A folder id is required.");
  if (target.name === "DistinguishedFolderId") {
    const mailbox = kid(kid(target, "Mailbox"), "EmailAddress")?.text.trim().toLowerCase();
    if (mailbox && mailbox !== c.account.email && !(await c.store.sendAsAddresses(c.account.id)).some((a) => a.toLowerCase() === mailbox)) {
      throw new EwsError("ErrorNonExistentMailbox", "Only your own mailbox can be opened.");
    }
    return resolveDistinguished(c, (attr(target, "Id") ?? "").trim());
  }
  const parsed = parseFolderId(attr(target, "Id") ?? "");
  if (!parsed) throw new EwsError("ErrorInvalidIdMalformed", "The folder id is malformed.");
  if (parsed.accountId !== c.account.id) throw new EwsError("ErrorFolderNotFound", "The folder was not found in this mailbox.");
  if (typeof parsed.folder === "string") return { kind: "virtual", name: parsed.folder };
  const folder = await c.store.getFolderById(parsed.folder);
  if (!folder || folder.accountId !== c.account.id) throw new EwsError("ErrorFolderNotFound", "The folder was not found in this mailbox.");
  return { kind: "store", folder };
}

/** Resolves a distinguished folder name (case-sensitive in the schema; we accept any case as Exchange does). */
export async function resolveDistinguished(c: EwsContext, name: string): Promise<FolderRef> {
  const n = name.toLowerCase();
  if (n === "root" || n === "msgfolderroot" || n === "recoverableitemsdeletions") return { kind: "virtual", name: n };
  const mail = DISTINGUISHED_MAIL[n];
  if (mail) {
    const folders = await c.store.listFolders(c.account.id, { itemClass: "mail" });
    let f = mail === "INBOX" || mail === "Outbox" ? folders.find((x) => x.name === mail) : folders.find((x) => x.specialUse === mail);
    // Clients expect an Outbox (exchangelib, Outlook): created empty on first use; sent items never wait in it.
    if (!f && mail === "Outbox") f = await c.store.createFolder(c.account.id, "Outbox");
    if (f) return { kind: "store", folder: f };
    throw new EwsError("ErrorFolderNotFound", `This mailbox has no ${name} folder.`);
  }
  const cls = DISTINGUISHED_CLASS[n];
  if (cls) {
    const f = await defaultFolder(c, cls);
    if (f) return { kind: "store", folder: f };
  }
  throw new EwsError("ErrorFolderNotFound", `The distinguished folder "${name}" does not exist on this server.`);
}

/** The default folder of a groupware class (the one the store created with the account), created when missing. */
export async function defaultFolder(c: EwsContext, cls: Exclude<ItemClass, "mail">): Promise<Folder | null> {
  if (cls !== "notes") await c.server.groupware.ensureDefaults(c.account);
  const folders = await c.store.listFolders(c.account.id, { itemClass: cls });
  const name = { calendar: "Calendar", contacts: "Contacts", tasks: "Tasks", notes: "Notes" }[cls];
  let f = folders.find((x) => x.name === name && x.parentId === null) ?? folders[0] ?? null;
  if (!f && cls === "notes") f = await c.store.createFolder(c.account.id, "Notes", { itemClass: "notes" });
  return f;
}

// ------------------------------------------------------------- sync states

/**
 * SyncFolderHierarchy's and SyncFolderItems' SyncState (Messages.xsd
 * SyncFolderHierarchyType/SyncFolderItemsType: an opaque string the client
 * hands back). Ours is a position in the account change feed
 * (storage/change-api.ts):
 * - hierarchy: the account, the synced subtree ("all" = msgfolderroot, or
 *   one folder id) and the change number the client has seen;
 * - items: the account, the folder, the change number `since`, and either
 *   the first sync's position (`initial`: the cursor of the items already
 *   sent; a mail folder lists by UID, the others by item id) or, when the client's window
 *   ended inside one change number, the last item id sent at it (`within`).
 * A state of another account, subtree or folder is refused by the caller
 * (ErrorInvalidSyncStateData, MS-OXWSSYNC §3.1.4.2).
 */
export type HierarchySyncState = { accountId: number; scope: number | "all"; since: number };

export type ItemSyncState = {
  accountId: number;
  folder: number | VirtualFolder;
  since: number;
  /** First sync in progress: items after this cursor (mail: UID, other kinds: item id) are still to come (as Create). */
  initial?: number;
  /** Changes at change number since+1 up to this item id were sent already. */
  within?: number;
};

export function encodeHierarchySyncState(s: HierarchySyncState): string {
  return b64(`SH:${s.accountId}:${s.scope}:${s.since}`);
}

/** null when the string is not a hierarchy state of ours. */
export function decodeHierarchySyncState(state: string): HierarchySyncState | null {
  const s = unb64(state.trim());
  const m = s && /^SH:(\d{1,12}):(\d{1,15}|all):(\d{1,15})$/.exec(s);
  if (!m) return null;
  return { accountId: Number(m[1]), scope: m[2] === "all" ? "all" : Number(m[2]), since: Number(m[3]) };
}

export function encodeItemSyncState(s: ItemSyncState): string {
  const tail = s.initial !== undefined ? `:i${s.initial}` : s.within !== undefined ? `:w${s.within}` : "";
  return b64(`SI:${s.accountId}:${s.folder}:${s.since}${tail}`);
}

/** null when the string is not an item state of ours. */
export function decodeItemSyncState(state: string): ItemSyncState | null {
  const s = unb64(state.trim());
  const m = s && /^SI:(\d{1,12}):(\d{1,15}|root|msgfolderroot|recoverableitemsdeletions):(\d{1,15})(?::([iw])(\d{1,15}))?$/.exec(s);
  if (!m) return null;
  const f = m[2]!;
  const out: ItemSyncState = { accountId: Number(m[1]), folder: f === "root" || f === "msgfolderroot" || f === "recoverableitemsdeletions" ? f : Number(f), since: Number(m[3]) };
  if (m[4] === "i") out.initial = Number(m[5]);
  if (m[4] === "w") out.within = Number(m[5]);
  return out;
}
