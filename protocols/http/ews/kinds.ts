/**
 * The item kinds: how each store item class (mail, calendar, contacts,
 * tasks, notes) is read, written and changed in EWS. The generic item
 * operations (FindItem, GetItem, CreateItem, UpdateItem, DeleteItem,
 * MoveItem, CopyItem, SyncFolderItems) find the kind of a folder or an id
 * here and leave the class's own rules to it; each kind module registers
 * itself at import time (mail-kind.ts, calendar-kind.ts, contact-kind.ts,
 * task-kind.ts, note-kind.ts).
 */
import type { Folder, ItemClass } from "../../../storage/api.ts";
import { EwsError, type EwsContext } from "./context.ts";
import type { ItemRef } from "./ids.ts";
import type { ItemShape, PropertyChange, PropertyPath } from "./shape.ts";
import type { XmlElement } from "./xml.ts";

/** One item as its kind loaded it: the id, where it is, its change number, and the kind's own data. */
export interface KindItem<T = unknown> {
  ref: ItemRef;
  folderId: number;
  modseq: number;
  data: T;
}

/** Types.xsd MessageDispositionType. */
export type MessageDisposition = "SaveOnly" | "SendOnly" | "SendAndSaveCopy";

/** Types.xsd CalendarItemCreateOrDeleteOperationType / ...UpdateOperationType. */
export type MeetingInvitations = "SendToNone" | "SendOnlyToAll" | "SendToAllAndSaveCopy" | "SendOnlyToChanged" | "SendToChangedAndSaveCopy";

export interface CreateOptions {
  /** Mail: what CreateItem does with the message (required for messages by the schema). */
  disposition: MessageDisposition | null;
  /** SavedItemFolderId: where a saved (or sent-and-saved) item goes; null = the kind's default (Drafts, Sent, the default calendar...). */
  savedFolder: Folder | null;
  /** Calendar: SendMeetingInvitations. */
  invitations: MeetingInvitations | null;
}

export interface UpdateOptions {
  /** Types.xsd ConflictResolutionType: NeverOverwrite (default: the ChangeKey must match), AutoResolve, AlwaysOverwrite. */
  conflictResolution: "NeverOverwrite" | "AutoResolve" | "AlwaysOverwrite";
  /** ChangeKey's modseq as the client sent it (null when absent). */
  expectedModseq: number | null;
  disposition: MessageDisposition | null;
  savedFolder: Folder | null;
  invitations: MeetingInvitations | null;
}

export interface DeleteOptions {
  /** Types.xsd DisposalType. MoveToDeletedItems for a mail item moves it to Trash; the others remove it. */
  disposal: "HardDelete" | "SoftDelete" | "MoveToDeletedItems";
  /** Calendar: SendMeetingCancellations. */
  cancellations: "SendToNone" | "SendOnlyToAll" | "SendToAllAndSaveCopy" | null;
  /** Tasks: AffectedTaskOccurrences. */
  affectedTaskOccurrences: "AllOccurrences" | "SpecifiedOccurrenceOnly" | null;
}

export interface ItemKind<T = unknown> {
  itemClass: ItemClass;
  /** The Types.xsd elements this kind takes in CreateItem, the one it writes first (Message, CalendarItem, Contact, Task...). */
  elements: readonly string[];
  /** Every item of a folder, for FindItem and SyncFolderItems (any order; the caller sorts). */
  list(c: EwsContext, folder: Folder): Promise<KindItem<T>[]>;
  /** Items by store id (GetItem, responses after a write); ids that do not exist (any more) are left out. */
  load(c: EwsContext, refs: readonly ItemRef[]): Promise<KindItem<T>[]>;
  /** The item element (`<t:Message>...`) in the given shape. */
  render(c: EwsContext, item: KindItem<T>, shape: ItemShape): Promise<string>;
  /**
   * A property's value for restrictions and sorting; undefined when the item has none.
   * Dates as UTC ms numbers; a multi-valued property (item:Categories) as a list (restriction.ts FieldValue).
   */
  value(c: EwsContext, item: KindItem<T>, path: PropertyPath): string | number | boolean | readonly string[] | undefined;
  /** CreateItem: makes one item from its element; null when it was only sent (SendOnly), else the new item. */
  create(c: EwsContext, folder: Folder, el: XmlElement, opts: CreateOptions): Promise<KindItem<T> | null>;
  /** UpdateItem: applies the changes (after the caller checked the ChangeKey); returns the item as it is now (null: sent and not saved). */
  update(c: EwsContext, item: KindItem<T>, changes: PropertyChange[], opts: UpdateOptions): Promise<KindItem<T> | null>;
  /** DeleteItem (after the caller resolved MoveToDeletedItems for mail into a move when that is what it means). */
  remove(c: EwsContext, item: KindItem<T>, opts: DeleteOptions): Promise<void>;
  /** MoveItem: the item in `to` (same stable id when the store keeps it). */
  move(c: EwsContext, item: KindItem<T>, to: Folder): Promise<KindItem<T>>;
  /** CopyItem: a new item in `to`. */
  copy(c: EwsContext, item: KindItem<T>, to: Folder): Promise<KindItem<T>>;
  /**
   * FindItem with a CalendarView (Messages.xsd FindItemType): the
   * occurrences between start and end, recurring items expanded, each an item
   * with an occurrence id. Only the calendar kind has it.
   */
  calendarView?(c: EwsContext, folder: Folder, view: { start: number; end: number; max: number | null }): Promise<KindItem<T>[]>;
}

/**
 * How a mail message that carries a meeting (an iMIP text/calendar part,
 * RFC 6047) is shown: the calendar module renders it as t:MeetingRequest,
 * t:MeetingResponse or t:MeetingCancellation (Types.xsd) instead of
 * t:Message. The mail kind calls this before rendering a message that has a
 * text/calendar part; null means "render it as a plain message".
 */
export interface MeetingMessageRenderer {
  render(c: EwsContext, raw: Uint8Array, base: { ref: ItemRef; folderId: number; modseq: number }, shape: ItemShape, messageXml: (element: string, extra: string) => Promise<string>): Promise<string | null>;
}

let meetingRenderer: MeetingMessageRenderer | null = null;

export function setMeetingMessageRenderer(r: MeetingMessageRenderer): void {
  meetingRenderer = r;
}

export function meetingMessageRenderer(): MeetingMessageRenderer | null {
  return meetingRenderer;
}

const byClass = new Map<ItemClass, ItemKind>();
const byElement = new Map<string, ItemKind>();

export function registerItemKind<T>(kind: ItemKind<T>): void {
  if (byClass.has(kind.itemClass)) throw new Error(`EWS item kind ${kind.itemClass} registered twice`);
  byClass.set(kind.itemClass, kind as ItemKind);
  for (const e of kind.elements) byElement.set(e, kind as ItemKind);
}

/** The kind of a store class; ErrorInvalidRequest when none is registered. */
export function kindOf(cls: ItemClass): ItemKind {
  const k = byClass.get(cls);
  if (!k) throw new EwsError("ErrorInvalidRequest", `Items of class ${cls} are not available over EWS.`);
  return k;
}

/** The kind that takes a CreateItem element (t:Message, t:CalendarItem...), or undefined. */
export function kindForElement(name: string): ItemKind | undefined {
  return byElement.get(name);
}
