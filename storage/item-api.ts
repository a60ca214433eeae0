/**
 * The generic item model's part of the store API (re-exported by api.ts):
 * items of the non-mail classes (calendar, contacts, tasks, notes) and typed
 * properties of any item or folder.
 *
 * An item of any class is a row of `items` (stable `id`, per-folder `uid`,
 * `modseq` from the account's change counter) whose blob is its canonical
 * body, stored byte for byte:
 *  - calendar and tasks: an iCalendar object (RFC 5545) holding one CalDAV
 *    resource (RFC 4791 §4.1): every VEVENT or VTODO of one UID, the master
 *    and its overridden instances (RECURRENCE-ID) together, as one item
 *    (issue 15). Its `recurrenceId` stays null; the fields describe the
 *    master, and `lastInstance`/`spanEnd` cover overrides moved later. (The
 *    field remains for a lone overridden instance, e.g. an invitation to one
 *    occurrence, stored without its master.);
 *  - contacts: a vCard (RFC 6350);
 *  - notes: an iCalendar VJOURNAL (RFC 5545 §3.6.3: SUMMARY = title,
 *    DESCRIPTION = text, CATEGORIES), as ActiveSync writes them (issue 16,
 *    protocols/http/eas/groupware/note.ts); a text/plain MIME message with
 *    the title as Subject is still read as a note.
 * The store does not parse these: the caller supplies the indexed fields
 * (src/groupware/ parses them with the iCalendar/vCard library) and the
 * store checks their types and ranges.
 *
 * Calendar, task and contact items also have a DAV resource name
 * (`resourceName`, migration 0034): the last segment of the object's
 * CalDAV/CardDAV URL as the client chose it, unique in its folder, kept
 * across updates and moves (a move into a folder where the name is taken
 * gets `<stem>-<id><ext>`). Notes and mail have none.
 */
import type { Folder, ItemClass } from "./api.ts";

/** Item classes created through the item API (mail comes in through deliver/append). */
export type GroupwareClass = Exclude<ItemClass, "mail">;

/** Times are UTC milliseconds since the epoch. */
export interface CalendarFields {
  /** iCalendar UID (RFC 5545 §3.8.4.7). */
  uid: string;
  /** RECURRENCE-ID of an overridden instance (RFC 5545 §3.8.4.4), UTC ms; null/absent for a master or single event. */
  recurrenceId?: number | null;
  dtStart: number;
  /** End (exclusive); equal to dtStart for an instant event. */
  dtEnd: number;
  allDay?: boolean;
  isRecurring?: boolean;
  /** The RRULE value as written (RFC 5545 §3.8.5.3), for later expansion. */
  rrule?: string | null;
  /** Start of the last instance of a recurring event; null = unbounded (no COUNT/UNTIL). */
  lastInstance?: number | null;
  /**
   * When the event's last instance ends (what time-range queries read, migration 0032): at least
   * dtEnd, and at least lastInstance + (dtEnd - dtStart). Give it when an overridden instance
   * ends later than that (moved or lengthened); absent/null = that default.
   */
  spanEnd?: number | null;
  summary?: string;
  location?: string;
  /** Organizer address (mailto: stripped), or null. */
  organizer?: string | null;
  /**
   * The attendees (RFC 5545 §3.8.4.1): address (mailto: stripped) and PARTSTAT, at most 500. Indexed
   * with the organizer for findCalendarItemsByAddress; an input only, not part of the fields read back.
   */
  attendees?: { address: string; partstat?: string }[];
  /** RFC 5545 §3.8.1.11 for VEVENT: TENTATIVE | CONFIRMED | CANCELLED. */
  status?: string | null;
  /** RFC 5545 §3.8.2.7: OPAQUE | TRANSPARENT. */
  transp?: string | null;
  /** RFC 5545 §3.8.7.4, a non-negative integer. */
  sequence?: number;
}

export interface ContactFields {
  /** vCard UID (RFC 6350 §6.7.6). */
  uid: string;
  /** FN (RFC 6350 §6.2.1). */
  fullName?: string;
  /** What the contact sorts by (SORT-AS or N), default fullName. */
  sortName?: string;
  /** EMAIL values; stored lower-case. */
  emails?: string[];
  phones?: string[];
  org?: string;
}

export interface TaskFields {
  uid: string;
  summary?: string;
  due?: number | null;
  start?: number | null;
  completed?: number | null;
  /** RFC 5545 §3.8.1.11 for VTODO: NEEDS-ACTION | COMPLETED | IN-PROCESS | CANCELLED. */
  status?: string | null;
  /** RFC 5545 §3.8.1.9: 0 (undefined) to 9 (lowest). */
  priority?: number;
  isRecurring?: boolean;
}

export interface NoteFields {
  subject?: string;
}

export interface ClassFields {
  calendar: CalendarFields;
  contacts: ContactFields;
  tasks: TaskFields;
  notes: NoteFields;
}

/** What createItem/updateItem take: the canonical body, the indexed fields of the class, optional typed properties. */
export type ItemInput = {
  [C in GroupwareClass]: {
    itemClass: C;
    body: Uint8Array;
    fields: ClassFields[C];
    /** Set (replacing values of the same keys) together with the item. */
    properties?: ItemProperty[];
    /**
     * DAV resource name (calendar, tasks, contacts; refused for notes): 1-255 characters, no "/",
     * no control characters, not "." or "..". createItem defaults it to the UID made URL-safe
     * plus ".ics"/".vcf"; updateItem keeps the current name when absent, renames when given.
     * A name another item of the folder has: StoreError ALREADYEXISTS.
     */
    resourceName?: string;
  };
}[GroupwareClass];

/** An item of a non-mail class as the store returns it; `fields` as stored (defaults filled in). */
export type Item = {
  [C in GroupwareClass]: {
    id: number;
    accountId: number;
    folderId: number;
    uid: number;
    /** Changes with every update: CalDAV/CardDAV ETags and `ifModseq` conditions use it. */
    modseq: number;
    itemClass: C;
    blobId: string;
    size: number;
    /** DAV resource name; null for notes. */
    resourceName: string | null;
    /** Time of the last write (ms; the row's internal_date): DAV getlastmodified / Last-Modified. */
    modifiedAt: number;
    fields: StoredFields[C];
  };
}[GroupwareClass];

/** The fields of an item as read back: every field with its default (a calendar item's spanEnd and attendees are inputs only). */
export type StoredFields = {
  [C in GroupwareClass]: C extends "calendar" ? Omit<Required<CalendarFields>, "spanEnd" | "attendees"> : Required<ClassFields[C]>;
};

// ---------------------------------------------------------------- typed properties

/**
 * A property key: a MAPI property id ([MS-OXPROPS], the high 16 bits of a
 * property tag, 0x0001-0xFFFE), or a named property ([MS-OXCDATA] §2.6.1):
 * a property set GUID with a string name or a numeric id (LID).
 */
export type PropertyKey = { tag: number } | { set: string; name: string } | { set: string; lid: number };

export type PropertyType = "int" | "bool" | "real" | "time" | "string" | "binary" | "guid";

export interface PropertyValueTypes {
  /** A 64-bit integer within JavaScript's safe range. */
  int: number;
  bool: boolean;
  real: number;
  /** UTC milliseconds since the epoch. */
  time: number;
  string: string;
  binary: Uint8Array;
  /** Lower-case 8-4-4-4-12 hex form. */
  guid: string;
}

/** One value, or (`multi: true`) an ordered list of values of one type. */
export type TypedPropertyValue = {
  [T in PropertyType]: { type: T; multi?: false; value: PropertyValueTypes[T] } | { type: T; multi: true; value: PropertyValueTypes[T][] };
}[PropertyType];

export type ItemProperty = { key: PropertyKey } & TypedPropertyValue;

/** Whose properties: an item (of any class, mail too) or a folder. */
export type PropertyOwner = { itemId: number } | { folderId: number };

/** A folder with its typed properties (listFoldersWithProperties). */
export interface FolderWithProperties {
  folder: Folder;
  properties: ItemProperty[];
}

/** The item API part of MailStore (storage/items.ts). */
export interface ItemStore {
  /** Creates an item in a folder of the same class (else StoreError WRONG_CLASS); bumps the account's counter; a new folder UID. */
  createItem(folderId: number, input: ItemInput): Promise<Item>;
  /** An item of a non-mail class, or null (also for a mail item: use getMessageById). */
  getItem(id: number): Promise<Item | null>;
  /** Items of non-mail classes by id, in the order given (ids not found, or of mail, left out). */
  getItems(ids: readonly number[]): Promise<Item[]>;
  /** The item of a folder with this DAV resource name, or null. */
  getItemByResourceName(folderId: number, name: string): Promise<Item | null>;
  /** The items of a folder with these resource names (one query; names not found are left out; at most 10,000 names). */
  getItemsByResourceNames(folderId: number, names: readonly string[]): Promise<Item[]>;
  /**
   * The item with iCalendar/vCard UID `uid` in a folder, or in any folder of an
   * account's class (the one in the lowest folder id first). For a calendar
   * folder of the old model (overrides as their own items) the master, else any.
   */
  findItemByUid(scope: number | { accountId: number; itemClass: GroupwareClass }, uid: string): Promise<Item | null>;
  /** Every item with UID `uid` in the scope (ascending folder id, then id): an account may hold a UID in several folders. */
  findItemsByUid(scope: number | { accountId: number; itemClass: GroupwareClass }, uid: string): Promise<Item[]>;
  /** The canonical body, byte for byte as stored. */
  readItemBody(id: number): Promise<Uint8Array>;
  /**
   * Replaces body, fields (and the given properties) of an item; a new modseq.
   * `ifModseq`: only when the item's modseq is still that (else StoreError MODIFIED),
   * what a CalDAV If-Match needs.
   */
  updateItem(id: number, input: ItemInput, opts?: { ifModseq?: number }): Promise<Item>;
  /** Deletes an item (index rows and properties with it; the deletion is logged for sync). */
  deleteItem(id: number, opts?: { ifModseq?: number }): Promise<void>;
  /**
   * Moves an item to another folder of its class in the same account: same id, new UID; the resource
   * name goes with it (a name taken there becomes `<stem>-<id><ext>`). With `resourceName` the item
   * gets that name (also a rename inside its folder); a name another item has is refused
   * (ALREADYEXISTS) unless `replace`, which deletes that item in the same transaction (DAV MOVE with
   * Overwrite: T, RFC 4918 §9.9.3).
   */
  moveItem(id: number, toFolderId: number, opts?: { resourceName?: string; replace?: boolean }): Promise<Item>;
  /** Every item of a non-mail folder, ascending UID. */
  listItems(folderId: number): Promise<Item[]>;
  /**
   * Calendar items (of one folder, or of every calendar folder of an account)
   * with an instance that may overlap [start, end): single events by their
   * times (RFC 4791 §9.9), recurring ones from their first start to the end of
   * their last instance (or forever). Ascending start.
   */
  findCalendarItems(scope: { folderId: number } | { accountId: number }, range: { start: number; end: number }): Promise<Item[]>;
  /**
   * Calendar items of an account whose organizer or an attendee is `address` (case-insensitive,
   * mailto: stripped), optionally only as `role`; ascending start, at most `limit` (default 1000).
   */
  findCalendarItemsByAddress(accountId: number, address: string, opts?: { role?: "ORGANIZER" | "ATTENDEE"; limit?: number }): Promise<Item[]>;
  /**
   * The PARTSTAT (upper case) an attendee whose address is one of `addresses` gave on each of
   * `itemIds` (master components, from the index of migration 0035); items where none of the
   * addresses is an attendee are absent. Free/busy reads it: an unanswered invitation is tentative.
   */
  attendeeAnswers(accountId: number, itemIds: readonly number[], addresses: readonly string[]): Promise<Map<number, string>>;
  /** Contacts of an account (or one folder) with an e-mail address, or a word of the name, that starts with `prefix` (case-insensitive). */
  findContacts(accountId: number, prefix: string, opts?: { folderId?: number; limit?: number }): Promise<Item[]>;
  /**
   * The folders of an account (of the given classes, default all) with their typed properties
   * (only those of property set `propertySet` when given), in one query: what a CalDAV/CardDAV
   * home listing needs (names, props, highest modseq) without a query per folder. Ordered by name.
   */
  listFoldersWithProperties(accountId: number, opts?: { itemClasses?: readonly ItemClass[]; propertySet?: string }): Promise<FolderWithProperties[]>;
  /** Every typed property of an item or folder, ordered by key. */
  getProperties(owner: PropertyOwner): Promise<ItemProperty[]>;
  /** Sets properties (replacing all values of each key given); bumps the owner's modseq. */
  setProperties(owner: PropertyOwner, props: ItemProperty[]): Promise<void>;
  /** Deletes the given keys; returns how many keys were present. */
  deleteProperties(owner: PropertyOwner, keys: PropertyKey[]): Promise<number>;
}
