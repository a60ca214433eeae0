/**
 * The folder tree EWS shows (MS-OXWSFOLD §1.3): the virtual mailbox root
 * ("root"), under it only the IPM subtree ("msgfolderroot", "Top of
 * Information Store"), and under that every top-level store folder of every
 * class; a mail folder's children are its store children (the "/"
 * hierarchy). Calendars, address books and task lists are the groupware
 * collections (src/groupware/collections.ts): flat, shown by their display
 * name, the scheduling inbox/outbox and the directory hidden.
 *
 * One tree is loaded per request (one folder query with the collections'
 * display names, one for the account's change number); operations that
 * touch many folders read everything from it.
 */
import type { Folder, ItemProperty } from "../../../storage/api.ts";
import { isReservedName, PILLARBOX_PROPSET } from "../../../src/groupware/collections.ts";
import { EwsError, type EwsContext } from "./context.ts";
import { resolveFolder, type FolderRef, type VirtualFolder } from "./ids.ts";
import { NS } from "./ns.ts";
import { perEach, responseMessages, success } from "./responses.ts";
import type { XmlElement } from "./xml.ts";

export interface FolderTree {
  /** Visible store folders by id. */
  byId: Map<number, Folder>;
  /** Children of each visible folder (store id, or a virtual name), by display name. */
  children: Map<number | VirtualFolder, Folder[]>;
  /** The default folder of each groupware class (its DistinguishedFolderId). */
  defaults: Set<number>;
  /** Display names of groupware collections (their DAV displayname property); other folders show their last name segment. */
  displayNames: Map<number, string>;
  /** The account's change number: the ChangeKey of the virtual folders. */
  head: number;
  /** Each folder's typed properties (extended properties, PidTagContainerClass), read with the folders in one query. */
  props: Map<number, ItemProperty[]>;
}

/** MS-OXPROPS PidTagContainerClass (0x3613, String): what EWS calls FolderClass, kept when a client set it. */
export const CONTAINER_CLASS_TAG = 0x3613;

/** Whether EWS shows a store folder: groupware collections are flat and the scheduling folders are not collections (collections.ts toCollection). */
export function isVisible(f: Folder): boolean {
  if (f.itemClass === "mail" || f.itemClass === "notes") return true;
  return !isReservedName(f.name) && !f.name.includes("/");
}

/** The account's current change number (storage/changes.ts: asking from beyond the head answers it). */
export async function accountHead(c: EwsContext): Promise<number> {
  const r = await c.store.accountChanges(c.account.id, Number.MAX_SAFE_INTEGER, { only: "folders", limit: 1 });
  return r.highestModseq;
}

export async function loadTree(c: EwsContext): Promise<FolderTree> {
  await c.server.groupware.ensureDefaults(c.account);
  const head = await accountHead(c);
  const rows = await c.store.listFoldersWithProperties(c.account.id);
  const byId = new Map<number, Folder>();
  const displayNames = new Map<number, string>();
  const props = new Map<number, ItemProperty[]>();
  for (const { folder, properties } of rows) {
    if (!isVisible(folder)) continue;
    byId.set(folder.id, folder);
    props.set(folder.id, properties);
    const dn = properties.find((p) => "name" in p.key && p.key.set === PILLARBOX_PROPSET && p.key.name === "displayName");
    if (dn && dn.type === "string" && !dn.multi && dn.value) displayNames.set(folder.id, dn.value);
  }
  const children = new Map<number | VirtualFolder, Folder[]>();
  children.set("root", []);
  children.set("msgfolderroot", []);
  for (const f of byId.values()) {
    const parent = f.parentId !== null && byId.has(f.parentId) ? f.parentId : "msgfolderroot";
    let list = children.get(parent);
    if (!list) children.set(parent, (list = []));
    list.push(f);
  }
  const tree: FolderTree = { byId, children, defaults: new Set(), displayNames, head, props };
  for (const list of children.values()) list.sort((a, b) => displayName(tree, a).localeCompare(displayName(tree, b)) || a.id - b.id);
  for (const cls of ["calendar", "contacts", "tasks"] as const) {
    const all = [...byId.values()].filter((f) => f.itemClass === cls);
    const name = { calendar: "Calendar", contacts: "Contacts", tasks: "Tasks" }[cls];
    const d = all.find((f) => f.name === name && f.parentId === null) ?? all.sort((a, b) => a.id - b.id)[0];
    if (d) tree.defaults.add(d.id);
  }
  const notes = [...byId.values()].filter((f) => f.itemClass === "notes");
  const n = notes.find((f) => f.name === "Notes" && f.parentId === null) ?? notes.sort((a, b) => a.id - b.id)[0];
  if (n) tree.defaults.add(n.id);
  return tree;
}

/** The display names of the virtual folders (what Exchange calls them). */
export function virtualName(name: VirtualFolder): string {
  return name === "msgfolderroot" ? "Top of Information Store" : name === "recoverableitemsdeletions" ? "Deletions" : "";
}

/** What a folder is called in EWS: a collection's display name, else the last segment of its store name. */
export function displayName(tree: FolderTree, f: Folder): string {
  const dn = tree.displayNames.get(f.id);
  if (dn) return dn;
  const i = f.name.lastIndexOf("/");
  return i < 0 ? f.name : f.name.slice(i + 1);
}

/** A folder's FolderClass: the one a client set (PidTagContainerClass; "" = none, as a folder made without one), else its class's. */
export function folderClassOf(tree: FolderTree, f: Folder, defaults: Readonly<Record<Folder["itemClass"], string>>): string | null {
  const p = tree.props.get(f.id)?.find((x) => "tag" in x.key && x.key.tag === CONTAINER_CLASS_TAG);
  if (p && p.type === "string" && !p.multi) return p.value === "" ? null : p.value;
  return defaults[f.itemClass];
}

/** The parent of a folder in the EWS tree (null for the root). */
export function parentOf(tree: FolderTree, ref: FolderRef): FolderRef | null {
  if (ref.kind === "virtual") return ref.name === "root" ? null : { kind: "virtual", name: "root" };
  const p = ref.folder.parentId;
  if (p !== null) {
    const pf = tree.byId.get(p);
    if (pf) return { kind: "store", folder: pf };
  }
  return { kind: "virtual", name: "msgfolderroot" };
}

export function childrenOf(tree: FolderTree, ref: FolderRef): Folder[] {
  if (ref.kind === "virtual") return ref.name === "msgfolderroot" ? (tree.children.get("msgfolderroot") ?? []) : [];
  return tree.children.get(ref.folder.id) ?? [];
}

/** Every descendant, depth first in display-name order (FindFolder Traversal Deep); the virtual root's include msgfolderroot itself. */
export function descendantsOf(tree: FolderTree, ref: FolderRef): FolderRef[] {
  const out: FolderRef[] = [];
  if (ref.kind === "virtual" && ref.name === "root") {
    out.push({ kind: "virtual", name: "msgfolderroot" });
    ref = { kind: "virtual", name: "msgfolderroot" };
  }
  const walk = (r: FolderRef, depth: number) => {
    // the store's names bound the depth; this guards against a parent loop in damaged data
    if (depth > 64) return;
    for (const f of childrenOf(tree, r)) {
      const child: FolderRef = { kind: "store", folder: f };
      out.push(child);
      walk(child, depth + 1);
    }
  };
  walk(ref, 0);
  return out;
}

/** The children of root as FindFolder Shallow sees them: only msgfolderroot. */
export function shallowOf(tree: FolderTree, ref: FolderRef): FolderRef[] {
  if (ref.kind === "virtual" && ref.name === "root") return [{ kind: "virtual", name: "msgfolderroot" }];
  return childrenOf(tree, ref).map((folder) => ({ kind: "store", folder }));
}

/** Whether `ref` is `ancestor` or below it. */
export function isUnder(tree: FolderTree, ref: FolderRef, ancestor: FolderRef): boolean {
  for (let r: FolderRef | null = ref, i = 0; r && i < 70; r = parentOf(tree, r), i++) {
    if (sameFolder(r, ancestor)) return true;
  }
  return false;
}

export function sameFolder(a: FolderRef, b: FolderRef): boolean {
  if (a.kind === "virtual" || b.kind === "virtual") return a.kind === b.kind && a.kind === "virtual" && b.kind === "virtual" && a.name === b.name;
  return a.folder.id === b.folder.id;
}

/** The store folder behind a ref, refreshed from the tree (null for the virtual folders and hidden ones). */
export function storeFolder(tree: FolderTree, ref: FolderRef): Folder | null {
  return ref.kind === "store" ? (tree.byId.get(ref.folder.id) ?? null) : null;
}

/** Most folder ids one request may name (rules: every client-controlled count has a limit). */
export const MAX_FOLDER_IDS = 1000;

/** The folder id elements of a FolderIds / ParentFolderIds element (FolderId, DistinguishedFolderId). */
export function folderIdElements(e: XmlElement | undefined, what: string): XmlElement[] {
  if (!e) throw new EwsError("ErrorInvalidRequest", `${what} is required.`);
  const ids = e.children.filter((k) => k.ns === NS.t && (k.name === "FolderId" || k.name === "DistinguishedFolderId"));
  if (ids.length === 0) throw new EwsError("ErrorInvalidRequest", `${what} names no folder.`);
  if (ids.length > MAX_FOLDER_IDS) throw new EwsError("ErrorInvalidRequest", `At most ${MAX_FOLDER_IDS} folders per request.`);
  return ids;
}

/** Logs a surprise in a per-folder loop (responses.ts perEach). */
export function unexpected(c: EwsContext): (err: unknown) => void {
  return (err) => c.log.error("ews: folder operation failed", { err: String(err instanceof Error ? (err.stack ?? err.message) : err) });
}

/**
 * The frame every folder operation shares: one tree loaded for the request and
 * one response message per request element, in request order (Messages.xsd
 * ArrayOfResponseMessagesType). `fn` gives a Success message's content; an
 * EwsError it throws becomes that element's Error message (responses.ts perEach).
 */
export async function perFolder(c: EwsContext, op: string, els: readonly XmlElement[], fn: (el: XmlElement, tree: FolderTree) => Promise<string | null>, tree?: FolderTree): Promise<string> {
  const t = tree ?? (await loadTree(c));
  const tag = `${op}ResponseMessage`;
  return responseMessages(op, await perEach(els, tag, async (el) => success(tag, await fn(el, t)), unexpected(c)));
}

/** Resolves a folder element against the tree of this request (a folder EWS hides is not found). */
export async function resolveIn(c: EwsContext, tree: FolderTree, el: XmlElement): Promise<FolderRef> {
  const ref = await resolveFolder(c, el);
  if (ref.kind === "store") {
    const f = tree.byId.get(ref.folder.id);
    if (!f) {
      // created by resolveFolder (an Outbox on first use) after the tree was read: it is shown from now on
      if (ref.folder.itemClass === "mail") {
        tree.byId.set(ref.folder.id, ref.folder);
        tree.children.get("msgfolderroot")?.push(ref.folder);
        return ref;
      }
      throw new EwsError("ErrorFolderNotFound", "The folder was not found in this mailbox.");
    }
    return { kind: "store", folder: f };
  }
  return ref;
}

/**
 * resolveIn for a folder with a role in the request (CreateFolder's parent, a
 * move's destination): a missing one is answered with that role's own code
 * (ErrorParentFolderNotFound, ErrorToFolderNotFound) instead of ErrorFolderNotFound.
 */
export async function resolveRole(c: EwsContext, tree: FolderTree, el: XmlElement, code: string, text: string): Promise<FolderRef> {
  try {
    return await resolveIn(c, tree, el);
  } catch (e) {
    if (e instanceof EwsError && e.code === "ErrorFolderNotFound") throw new EwsError(code, text);
    throw e;
  }
}
