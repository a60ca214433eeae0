/**
 * Types of the account change feed (storage/changes.ts): what every sync
 * protocol asks, "what changed in this account since change N".
 */
import type { ItemClass } from "./api.ts";

/** One entry of the account change feed (storage/changes.ts). */
export type ChangeKind = "created" | "changed" | "deleted";

export interface FeedFolderChange {
  kind: ChangeKind;
  folderId: number;
  /** The name as shown (without a non-mail class's name-space prefix, storage/folder-names.ts). */
  name: string;
  /** null for a deleted folder (and for a top-level one). */
  parentId: number | null;
  itemClass: ItemClass;
  modseq: number;
}

/** An item's change; a move is "deleted" in the old folder and "created" in the new one (same itemId). */
export interface FeedItemChange {
  kind: ChangeKind;
  itemId: number;
  folderId: number;
  /** The IMAP UID in `folderId` (for a deletion: the UID it had there). */
  uid: number;
  itemClass: ItemClass;
  modseq: number;
  /** The DAV resource name (calendar, tasks, contacts; migration 0034): for a deletion, the name it had in `folderId`. */
  resourceName?: string | null;
}

export interface ChangeFeedOptions {
  /** Entries per page (default 1000); a page never splits one change number, so it may hold a few more. */
  limit?: number;
  itemClass?: ItemClass;
  folderId?: number;
  /** Only folder changes or only item changes (the other list comes back empty; a hierarchy sync need not page through items). */
  only?: "folders" | "items";
}

/**
 * "What changed in this account since change N", in change order. With
 * `more`, ask again from `highestModseq`. "tooOld": deletions after N were
 * pruned (N < the account's floor), or N is above the account's current
 * change number (a state from another history); the caller must resync from
 * scratch. A "tooOld" answer's `highestModseq` is the current change number.
 */
export type AccountChanges =
  | { status: "ok"; highestModseq: number; floor: number; folders: FeedFolderChange[]; items: FeedItemChange[]; more: boolean }
  | { status: "tooOld"; floor: number; highestModseq: number };
