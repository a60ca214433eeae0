/**
 * The class-pluggable part of the sync engine. Each ActiveSync class
 * (MS-ASCMD §2.2.3.27 Class: Email, Calendar, Contacts, Tasks, Notes) is one
 * module that knows how to list a folder's items, render them as
 * ApplicationData and apply a device's changes. The engine (engine.ts) owns
 * everything class-independent: sync keys, state snapshots, diffing,
 * windowing, conflicts, loop detection, Ping and GetItemEstimate.
 *
 * Adding Calendar later = a new module calling registerSyncClass(); the
 * engine, FolderSync and Ping pick it up by the folders' item class.
 */
import type { Folder, ItemClass } from "../../../../storage/api.ts";
import type { EasContext } from "../context.ts";
import type { BodyOptions } from "../email/convert.ts";
import type { WElement } from "../wbxml/tree.ts";

/** One item of a folder as the engine sees it. */
export interface ListedItem {
  id: number;
  modseq: number;
  /** Time used by FilterType (received date for mail, end time for events...). */
  date: number;
  /** Class-specific handle (IMAP UID for mail). */
  ref: number;
  /** Class-specific cheap state (IMAP flags for mail), enough to render a Change. */
  flags: string[];
}

export interface Listing {
  folder: Folder;
  items: Map<number, ListedItem>;
}

/** Parsed airsync:Options of a collection (MS-ASCMD §2.2.3.125.6). */
export interface CollectionOptions {
  filterType: number;
  body: BodyOptions;
  /** MS-ASCMD Conflict: 0 client wins, 1 server wins (default). */
  conflict: number;
  /**
   * MS-ASCMD §2.2.3.179: the elements the device manages, as "Namespace:Name", from its SyncKey 0
   * request; an element of the class not listed is ghosted (absent from a Change = keep the stored
   * value). Undefined = the device sent no Supported: every element is managed. Set by the engine
   * for applyAdd/applyChange only (never part of the stored options).
   */
  supported?: readonly string[];
}

export interface ApplyResult {
  /** AirSync Status (1 = success). */
  status: number;
  /** New change counter of the item after the change (written into the state). */
  modseq?: number;
  /** ApplicationData of the Responses Add/Change (16.x: each added attachment's ClientId and FileReference, MS-ASAIRS §2.2.2.7). */
  data?: WElement[];
  /**
   * A Change applied by replacing the item (an edited draft: stored messages are immutable): the id of
   * the new item. The engine sends the device Delete of the old ServerId and Add of the new one.
   */
  replacedBy?: number;
}

export interface AddResult extends ApplyResult {
  id?: number;
}

export interface SyncClass {
  /** The AirSync Class name. */
  className: string;
  /** Store folders of this item class are synced by this module. */
  itemClass: ItemClass;
  /** FolderHierarchy Type of a folder (MS-ASCMD §2.2.3.186.3). */
  folderType(folder: Folder): number;
  /** Folder types FolderCreate may create for this class. */
  creatableTypes: number[];
  /** Oldest date kept for a FilterType (MS-ASCMD FilterType), null = all. Unsupported filter types return undefined. */
  cutoff(filterType: number, now: number): number | null | undefined;
  list(c: EasContext, folder: Folder): Promise<Listing>;
  /** Full ApplicationData children for Adds and Fetches, for a batch of ids. Missing ids are left out of the map. */
  render(c: EasContext, listing: Listing, ids: number[], opts: CollectionOptions): Promise<Map<number, WElement[]>>;
  /** ApplicationData children of a Change (only what can change). */
  renderChange(c: EasContext, listing: Listing, item: ListedItem, opts: CollectionOptions): WElement[];
  applyChange(c: EasContext, listing: Listing, item: ListedItem, data: WElement | undefined, opts: CollectionOptions): Promise<ApplyResult>;
  /** Deletes (or moves to Deleted Items when deletesAsMoves); returns per-id status. */
  applyDelete(c: EasContext, listing: Listing, items: ListedItem[], deletesAsMoves: boolean): Promise<Map<number, number>>;
  applyAdd(c: EasContext, listing: Listing, data: WElement | undefined, opts: CollectionOptions): Promise<AddResult>;
  /**
   * A Change carries the whole item (groupware classes; mail in Drafts for 16.x, whose content
   * another protocol may edit in place): the engine renders it with render(), not renderChange().
   */
  fullChanges?: boolean | ((c: EasContext, listing: Listing) => boolean);
  /**
   * 16.0+ Sync Delete of one instance of a recurring item (AirSyncBase:InstanceId, MS-ASCMD
   * §2.2.3.87): the item stays, without that instance. Classes without recurrence leave it out.
   */
  applyInstanceDelete?(c: EasContext, listing: Listing, item: ListedItem, instanceId: number, opts: CollectionOptions): Promise<ApplyResult>;
}

const classes = new Map<string, SyncClass>();

export function registerSyncClass(mod: SyncClass): void {
  classes.set(mod.className, mod);
}

export function syncClassByName(name: string): SyncClass | undefined {
  return classes.get(name);
}

export function syncClassForFolder(folder: Folder): SyncClass | undefined {
  for (const m of classes.values()) if (m.itemClass === folder.itemClass) return m;
  return undefined;
}

export function syncClasses(): SyncClass[] {
  return [...classes.values()];
}
