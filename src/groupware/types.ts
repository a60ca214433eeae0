/**
 * The groupware core's contract (issue 15): what CalDAV/CardDAV, the iMIP
 * processor, the CLI and later ActiveSync and the webmail call. The
 * implementation is `service.ts` (collections and objects over the store's
 * item model), `ical/` and `vcard/` (formats, recurrence), `freebusy.ts`,
 * `directory.ts` (global address list) and `scheduling/` (iTIP/iMIP).
 *
 * Collections are folders of the store's item model: a calendar is a folder
 * of class "calendar" (VEVENT), a task list one of class "tasks" (VTODO), an
 * address book one of class "contacts". A collection's `name` is its folder
 * name and the last segment of its DAV URL; what users see is `displayName`
 * (a folder property), so renaming never moves a URL.
 *
 * An object is one item whose body is the resource exactly as the client
 * sent it (an iCalendar object with every component of one UID, master and
 * overridden instances together, RFC 4791 §4.1; or one vCard); `resourceName`
 * is the last segment of its DAV URL as the client chose it.
 */
import type { Account, Item } from "../../storage/api.ts";

export type CollectionKind = "calendar" | "tasks" | "contacts";

export interface Collection {
  /** The folder id. */
  id: number;
  accountId: number;
  kind: CollectionKind;
  /** Folder name = URL segment. */
  name: string;
  displayName: string;
  description: string;
  /** "#RRGGBB" or "#RRGGBBAA" (Apple/DAVx5 calendar-color), or "". */
  color: string;
  /** Apple calendar-order, 0 when unset. */
  order: number;
  /** The folder's highest modseq: getctag, and the sync-token of a collection (RFC 6578). */
  modseq: number;
  /** A VTIMEZONE text (RFC 4791 §5.2.2) or "". */
  timezone: string;
  /** The default collection of its kind ("Calendar", "Contacts", "Tasks"): cannot be deleted. */
  isDefault: boolean;
}

export interface CollectionProps {
  displayName?: string;
  description?: string;
  color?: string;
  order?: number;
  timezone?: string;
}

export interface StoredObject {
  item: Item;
  resourceName: string;
  /** Strong ETag (RFC 9110 §8.8.3) with its quotes, changes with every write. */
  etag: string;
}

export interface PutConditions {
  /** The ETag the client saw (If-Match), with quotes; "*" = must exist. */
  ifMatch?: string;
  /** "*" = must not exist (If-None-Match: *). */
  ifNoneMatch?: "*";
}

/**
 * Why a write was refused; protocols map codes to their own errors
 * (CalDAV/CardDAV: RFC 4791 §5.3.2.1 and RFC 6352 §6.3.2.1 preconditions).
 */
export type GroupwareErrorCode =
  | "INVALID_DATA" // not parseable iCalendar/vCard (valid-calendar-data, valid-address-data)
  | "INVALID_OBJECT" // parseable but breaks the rules of a resource: no UID, several UIDs, mixed components (valid-calendar-object-resource)
  | "WRONG_COMPONENT" // VTODO into an event calendar, VEVENT into a task list (supported-calendar-component)
  | "UID_CONFLICT" // another resource of the collection has this UID (no-uid-conflict); `href` says which
  | "PRECONDITION" // If-Match / If-None-Match failed (412)
  | "NOT_FOUND"
  | "EXISTS" // a collection of that name exists
  | "FORBIDDEN" // e.g. deleting a default collection, writing the directory
  | "TOO_LARGE" // over the per-object size limit (max-resource-size)
  | "LIMIT" // too many instances, attendees, collections... (the message says which)
  | "QUOTA" // the account's quota is full (insufficient storage, 507)
  | "TOKEN_TOO_OLD"; // a sync token below the change feed's floor, or one never given out (RFC 6578 §3.2 valid-sync-token)

export class GroupwareError extends Error {
  constructor(
    public readonly code: GroupwareErrorCode,
    message: string,
    /** For UID_CONFLICT: the resource name holding the UID. */
    public readonly conflict?: string,
  ) {
    super(message);
    this.name = "GroupwareError";
  }
}

/** One occurrence of an event (or task) in a time range. Times are UTC ms. */
export interface Instance {
  start: number;
  end: number;
  /** RECURRENCE-ID of this instance in UTC ms; null for a non-recurring object. */
  recurrenceId: number | null;
  allDay: boolean;
  /** TRANSP:TRANSPARENT (RFC 5545 §3.8.2.7): does not count as busy. */
  transparent: boolean;
  /** STATUS of the instance (override or master), upper case, "" when absent. */
  status: string;
  /** True when the instance comes from an overridden component (RECURRENCE-ID). */
  overridden: boolean;
}

export type FreeBusyType = "BUSY" | "BUSY-TENTATIVE" | "BUSY-UNAVAILABLE";

export interface BusyPeriod {
  start: number;
  end: number;
  type: FreeBusyType;
}

/** A change since a sync token (RFC 6578): the changed objects and the removed resource names. */
export interface CollectionChanges {
  changed: StoredObject[];
  removed: string[];
  /** The new token (the folder's modseq at the time of reading). */
  token: number;
  /** More changes remain (the limit was reached): ask again with `token`. */
  truncated: boolean;
}

/** The groupware service (src/groupware/service.ts implements it). */
export interface Groupware {
  /** Creates the default Calendar, Contacts and Tasks collections when the account has none of that kind (idempotent). */
  ensureDefaults(account: Account): Promise<void>;
  listCollections(account: Account, kind?: CollectionKind): Promise<Collection[]>;
  getCollection(account: Account, name: string): Promise<Collection | null>;
  createCollection(account: Account, kind: CollectionKind, name: string, props?: CollectionProps): Promise<Collection>;
  updateCollection(account: Account, name: string, props: CollectionProps): Promise<Collection>;
  deleteCollection(account: Account, name: string): Promise<void>;

  listObjects(collection: Collection): Promise<StoredObject[]>;
  getObject(collection: Collection, resourceName: string): Promise<StoredObject | null>;
  /** Many at once (multiget); names not found are left out. */
  getObjects(collection: Collection, resourceNames: readonly string[]): Promise<StoredObject[]>;
  readBody(object: StoredObject): Promise<Uint8Array>;
  /**
   * Creates or replaces the object at `resourceName` after parsing and
   * checking the body (GroupwareError otherwise). `actor` is who writes it
   * (scheduling runs for an organizer's or attendee's change unless
   * `schedule: false`, e.g. for the iMIP processor's own writes and imports).
   */
  putObject(
    collection: Collection,
    resourceName: string,
    body: Uint8Array,
    opts?: PutConditions & { actor?: Account; schedule?: boolean },
  ): Promise<{ object: StoredObject; created: boolean }>;
  deleteObject(collection: Collection, resourceName: string, opts?: { ifMatch?: string; actor?: Account; schedule?: boolean }): Promise<void>;
  /**
   * Moves an object to another collection of the same kind of the same account, or renames it in
   * its own (DAV MOVE, RFC 4918 §9.9): one store transaction, the item (and its id) survives.
   * An existing destination is replaced unless `overwrite: false` (PRECONDITION, Overwrite: F);
   * UID_CONFLICT when the destination holds the UID under another name; `created` is false when
   * a destination was replaced. No scheduling: the event itself does not change.
   */
  moveObject(
    from: Collection,
    resourceName: string,
    to: Collection,
    toName: string,
    opts?: { ifMatch?: string; overwrite?: boolean },
  ): Promise<{ object: StoredObject; created: boolean }>;
  /** Finds the object of a UID in any collection of the kind (scheduling, imports). */
  findByUid(account: Account, kind: CollectionKind, uid: string): Promise<{ collection: Collection; object: StoredObject } | null>;

  /** Objects with an instance overlapping [start, end) (RFC 4791 §9.9), recurrence expanded. */
  objectsInRange(collection: Collection, range: { start: number; end: number }): Promise<StoredObject[]>;
  /** Instances of one object overlapping [start, end). */
  instances(object: StoredObject, range: { start: number; end: number }): Promise<Instance[]>;
  /** Changes since `token` (0 = everything); `limit` objects at most. A token the feed can no longer answer: GroupwareError TOKEN_TOO_OLD. */
  changesSince(collection: Collection, token: number, limit?: number): Promise<CollectionChanges>;
  /** Busy time of an account (all its calendars) in [start, end), merged and sorted (RFC 5545 §3.6.4). */
  freeBusy(account: Account, range: { start: number; end: number }): Promise<BusyPeriod[]>;
  /** Installs the implicit scheduler (scheduling/ creates it after the service, since it writes through the service). */
  setScheduler(scheduler: Scheduler | null): void;
}

/**
 * Implicit scheduling (RFC 6638 §3.2): called by the service after an object
 * of a calendar collection was written or deleted by `actor` with
 * scheduling on. The scheduler (scheduling/) compares the two versions and
 * sends the iTIP messages (REQUEST/CANCEL from an organizer, REPLY from an
 * attendee) over iMIP; it must not throw (failures are logged).
 */
export interface Scheduler {
  afterChange(actor: Account, collection: Collection, before: Uint8Array | null, after: Uint8Array | null): Promise<void>;
}
