/**
 * The groupware service (the `Groupware` contract of types.ts): collections
 * and objects over the store's item model, conditional writes with ETags,
 * time-range queries with recurrence expansion, the per-collection change
 * feed for sync-collection, free/busy, and the implicit-scheduling hook.
 *
 * Every store error leaves here as a GroupwareError the protocols map
 * (CalDAV/CardDAV preconditions, 412, 507...); the body of an object is
 * stored exactly as the client sent it.
 */
import { QuotaExceededError, StorageFullError, StoreError, type Account, type Item, type MailStore } from "../../storage/api.ts";
import type { Logger } from "../log.ts";
import { Collections, fromStoreError } from "./collections.ts";
import { busyType, mergeBusy } from "./freebusy.ts";
import { ICalError, expandInstances, parseCalendarObject, type CalendarObject } from "./ical/index.ts";
import { BoundedMap, checkBody, etagOf, ifMatchHolds, MAX_OBJECT_BYTES, ParsedCache, toStored, uidOf } from "./objects.ts";
import {
  GroupwareError,
  type BusyPeriod,
  type FreeBusyType,
  type Collection,
  type CollectionChanges,
  type CollectionKind,
  type CollectionProps,
  type Groupware,
  type Instance,
  type PutConditions,
  type Scheduler,
  type StoredObject,
} from "./types.ts";

export interface GroupwareLimits {
  /** Largest object body (default 1 MiB, RFC 4791 max-resource-size). */
  maxObjectBytes?: number;
  /**
   * Parsed objects kept in memory (default 5,000) and the bytes of their bodies (default 4 MiB; a
   * parsed tree takes some 20 times its text, so about 80 MiB of heap at most).
   */
  cacheEntries?: number;
  cacheBytes?: number;
  /** Instances one object may have in one range (default 10,000; more: GroupwareError LIMIT). */
  maxInstances?: number;
}

export interface GroupwareOptions {
  log: Logger;
  scheduler?: Scheduler;
  limits?: GroupwareLimits;
}

type Range = { start: number; end: number };

/** What the store accepts as a resource name (storage/item-names.ts): a URL segment. */
function validResourceName(n: unknown): n is string {
  return typeof n === "string" && n.length > 0 && n.length <= 255 && n !== "." && n !== ".." && !/[/\x00-\x1f\x7f]/.test(n);
}

function checkRange(r: Range): Range {
  if (!r || !Number.isSafeInteger(r.start) || !Number.isSafeInteger(r.end) || r.end <= r.start) {
    throw new GroupwareError("INVALID_DATA", "a time range is { start, end } in UTC milliseconds with end after start");
  }
  return r;
}

/** RFC 4791 §9.9, the VTODO table, over a to-do's indexed times (a recurring one is expanded instead). */
function todoOverlaps(f: { start: number | null; due: number | null; completed: number | null }, { start, end }: Range): boolean {
  const s = f.start;
  const d = f.due;
  const c = f.completed;
  if (s !== null && d !== null) return (start < d || start <= s) && (end > s || end >= d);
  if (s !== null) return start <= s && end > s;
  if (d !== null) return start < d && end >= d;
  if (c !== null) return start <= c && end >= c;
  return true; // neither DTSTART, DUE nor COMPLETED: the to-do matches every range
}

export class GroupwareService implements Groupware {
  readonly collections: Collections;
  /** Parsed iCalendar objects by (item id, modseq). */
  readonly cache: ParsedCache;
  private scheduler: Scheduler | null;
  /** hasInstance answers by "id:modseq:start:end" (a bounded LRU of booleans). */
  private readonly inRange = new BoundedMap<string, boolean>(50_000);
  /** Expansions by "id:modseq:start:end" (free/busy and CalDAV expand ask the same ranges again); small ones only. */
  private readonly expanded = new BoundedMap<string, readonly Instance[]>(5_000);
  private readonly log: Logger;
  private readonly maxObjectBytes: number;
  private readonly maxInstances: number;

  constructor(
    private readonly store: MailStore,
    opts: GroupwareOptions,
  ) {
    this.log = opts.log;
    this.scheduler = opts.scheduler ?? null;
    this.collections = new Collections(store);
    const l = opts.limits ?? {};
    this.cache = new ParsedCache(l.cacheEntries ?? 5000, l.cacheBytes ?? 4 * 1024 * 1024);
    this.maxObjectBytes = Math.min(l.maxObjectBytes ?? MAX_OBJECT_BYTES, MAX_OBJECT_BYTES);
    this.maxInstances = l.maxInstances ?? 10_000;
  }

  setScheduler(scheduler: Scheduler | null): void {
    this.scheduler = scheduler;
  }

  // ------------------------------------------------------------ collections

  ensureDefaults(account: Account): Promise<void> {
    return this.collections.ensureDefaults(account);
  }
  listCollections(account: Account, kind?: CollectionKind): Promise<Collection[]> {
    return this.collections.list(account, kind);
  }
  getCollection(account: Account, name: string): Promise<Collection | null> {
    return this.collections.get(account, name);
  }
  createCollection(account: Account, kind: CollectionKind, name: string, props?: CollectionProps): Promise<Collection> {
    return this.collections.create(account, kind, name, props);
  }
  updateCollection(account: Account, name: string, props: CollectionProps): Promise<Collection> {
    return this.collections.update(account, name, props);
  }
  deleteCollection(account: Account, name: string): Promise<void> {
    return this.collections.delete(account, name);
  }

  // ------------------------------------------------------------ objects

  async listObjects(collection: Collection): Promise<StoredObject[]> {
    try {
      return (await this.store.listItems(collection.id)).map(toStored);
    } catch (e) {
      throw fromStoreError(e);
    }
  }

  async getObject(collection: Collection, resourceName: string): Promise<StoredObject | null> {
    const item = await this.store.getItemByResourceName(collection.id, resourceName);
    return item ? toStored(item) : null;
  }

  async getObjects(collection: Collection, resourceNames: readonly string[]): Promise<StoredObject[]> {
    if (resourceNames.length > 10_000) throw new GroupwareError("LIMIT", "at most 10,000 resources at once");
    return (await this.store.getItemsByResourceNames(collection.id, resourceNames)).map(toStored);
  }

  async readBody(object: StoredObject): Promise<Uint8Array> {
    try {
      return await this.store.readItemBody(object.item.id);
    } catch (e) {
      throw fromStoreError(e);
    }
  }

  async putObject(
    collection: Collection,
    resourceName: string,
    body: Uint8Array,
    opts: PutConditions & { actor?: Account; schedule?: boolean } = {},
  ): Promise<{ object: StoredObject; created: boolean }> {
    if (body.byteLength > this.maxObjectBytes) throw new GroupwareError("TOO_LARGE", `an object is at most ${this.maxObjectBytes} bytes (max-resource-size)`);
    if (!validResourceName(resourceName)) throw new GroupwareError("FORBIDDEN", "a resource name is 1-255 characters without '/' or control characters, and not '.' or '..'");
    // checked (and parsed) once; a write that lost a race with another is tried once more
    const checked = checkBody(collection, body);
    for (let attempt = 0; ; attempt++) {
      const existing = await this.store.getItemByResourceName(collection.id, resourceName);
      // RFC 9110 §13.1.1/§13.1.2 (RFC 4791 §5.3.4): conditions on the current version
      if (opts.ifNoneMatch === "*" && existing) throw new GroupwareError("PRECONDITION", `${resourceName} exists (If-None-Match: *)`);
      if (opts.ifMatch !== undefined && !ifMatchHolds(opts.ifMatch, existing ? etagOf(existing) : null)) {
        throw new GroupwareError("PRECONDITION", existing ? `${resourceName} has changed (If-Match)` : `${resourceName} does not exist (If-Match)`);
      }
      if (existing && uidOf(existing) !== checked.uid) {
        // RFC 4791 §5.3.2.1 / RFC 6352 §6.3.2.1: a PUT to an existing resource must keep its UID
        throw new GroupwareError("INVALID_OBJECT", `the UID of ${resourceName} cannot change (was ${uidOf(existing).slice(0, 200)})`);
      }
      if (!existing) {
        const other = await this.store.findItemByUid(collection.id, checked.uid);
        if (other) throw new GroupwareError("UID_CONFLICT", `another resource of the collection has UID ${checked.uid.slice(0, 200)}`, other.resourceName ?? undefined);
      }
      const scheduling = !!(this.scheduler && opts.actor && opts.schedule !== false && collection.kind !== "contacts");
      const before = scheduling && existing ? await this.store.readItemBody(existing.id).catch(() => null) : null;
      let item: Item;
      try {
        item = existing
          ? await this.store.updateItem(existing.id, checked.input, { ifModseq: existing.modseq })
          : await this.store.createItem(collection.id, { ...checked.input, resourceName });
      } catch (e) {
        const raced = e instanceof StoreError && (e.code === "MODIFIED" || (e.code === "NONEXISTENT" && existing !== null) || e.code === "ALREADYEXISTS");
        if (raced && attempt === 0) continue; // look again: the conditions and UID checks decide on the new state
        throw await this.writeError(e, collection, resourceName, checked.uid);
      }
      // recurring objects are what range queries and free/busy expand: keep their parse (single ones are read from the index)
      if (checked.calendar && (checked.input.fields as { isRecurring?: boolean }).isRecurring) this.cache.set(item, checked.calendar);
      const object = toStored(item);
      if (scheduling) await this.schedule(opts.actor!, collection, before, body);
      return { object, created: !existing };
    }
  }

  /** A failed write as a GroupwareError. */
  private async writeError(e: unknown, collection: Collection, name: string, uid: string): Promise<unknown> {
    if (e instanceof QuotaExceededError) return new GroupwareError("QUOTA", "the account's quota is full");
    if (e instanceof StorageFullError) return new GroupwareError("QUOTA", "the server's storage is full");
    if (!(e instanceof StoreError)) return e;
    switch (e.code) {
      case "MODIFIED":
        return new GroupwareError("PRECONDITION", `${name} was changed by another request`);
      case "ALREADYEXISTS": {
        const other = await this.store.findItemByUid(collection.id, uid).catch(() => null);
        if (other && other.resourceName !== name) return new GroupwareError("UID_CONFLICT", `another resource of the collection has UID ${uid.slice(0, 200)}`, other.resourceName ?? undefined);
        return new GroupwareError("PRECONDITION", `${name} was created by another request`);
      }
      case "INVALID":
        // the indexed fields are out of what the store keeps (e.g. a year after 9999)
        return new GroupwareError("INVALID_OBJECT", e.message);
      case "WRONG_CLASS":
        return new GroupwareError("WRONG_COMPONENT", e.message);
      default:
        return fromStoreError(e);
    }
  }

  /** Implicit scheduling after a write (RFC 6638 §3.2): awaited, but it never fails the request. */
  private async schedule(actor: Account, collection: Collection, before: Uint8Array | null, after: Uint8Array | null): Promise<void> {
    const s = this.scheduler;
    if (!s) return;
    try {
      await s.afterChange(actor, collection, before, after);
    } catch (e) {
      this.log.warn("scheduling after a calendar change failed", { user: actor.email, collection: collection.name, error: e instanceof Error ? e.message : String(e) });
    }
  }

  async deleteObject(collection: Collection, resourceName: string, opts: { ifMatch?: string; actor?: Account; schedule?: boolean } = {}): Promise<void> {
    const existing = await this.store.getItemByResourceName(collection.id, resourceName);
    if (!existing) throw new GroupwareError("NOT_FOUND", `no resource ${resourceName}`);
    if (opts.ifMatch !== undefined && !ifMatchHolds(opts.ifMatch, etagOf(existing))) throw new GroupwareError("PRECONDITION", `${resourceName} has changed (If-Match)`);
    const scheduling = !!(this.scheduler && opts.actor && opts.schedule !== false && collection.kind !== "contacts");
    const before = scheduling ? await this.store.readItemBody(existing.id).catch(() => null) : null;
    try {
      await this.store.deleteItem(existing.id, opts.ifMatch !== undefined ? { ifModseq: existing.modseq } : {});
    } catch (e) {
      if (e instanceof StoreError && e.code === "MODIFIED") throw new GroupwareError("PRECONDITION", `${resourceName} was changed by another request`);
      throw fromStoreError(e);
    }
    if (scheduling) await this.schedule(opts.actor!, collection, before, null);
  }

  async moveObject(
    from: Collection,
    resourceName: string,
    to: Collection,
    toName: string,
    opts: { ifMatch?: string; overwrite?: boolean } = {},
  ): Promise<{ object: StoredObject; created: boolean }> {
    if (from.accountId !== to.accountId) throw new GroupwareError("FORBIDDEN", "objects move only between collections of one account");
    if (from.kind !== to.kind) throw new GroupwareError(from.kind === "contacts" || to.kind === "contacts" ? "FORBIDDEN" : "WRONG_COMPONENT", `a ${from.kind} object cannot go into a ${to.kind} collection`);
    if (!validResourceName(toName)) throw new GroupwareError("FORBIDDEN", "a resource name is 1-255 characters without '/' or control characters, and not '.' or '..'");
    if (from.id === to.id && resourceName === toName) throw new GroupwareError("FORBIDDEN", "source and destination are the same (RFC 4918 §9.9.4)");
    const src = await this.store.getItemByResourceName(from.id, resourceName);
    if (!src) throw new GroupwareError("NOT_FOUND", `no resource ${resourceName}`);
    if (opts.ifMatch !== undefined && !ifMatchHolds(opts.ifMatch, etagOf(src))) throw new GroupwareError("PRECONDITION", `${resourceName} has changed (If-Match)`);
    const dest = await this.store.getItemByResourceName(to.id, toName);
    if (dest && opts.overwrite === false) throw new GroupwareError("PRECONDITION", `${toName} exists (Overwrite: F)`);
    if (from.id !== to.id) {
      // RFC 4791 §5.3.2.1: the destination must not hold the UID under another name (the one being replaced may)
      const other = await this.store.findItemByUid(to.id, uidOf(src));
      if (other && other.resourceName !== toName) throw new GroupwareError("UID_CONFLICT", `the destination has UID ${uidOf(src).slice(0, 200)}`, other.resourceName ?? undefined);
    }
    try {
      const item = await this.store.moveItem(src.id, to.id, { resourceName: toName, replace: opts.overwrite !== false });
      return { object: toStored(item), created: !dest };
    } catch (e) {
      if (e instanceof StoreError && e.code === "ALREADYEXISTS") {
        // raced with another write: say which rule it broke now
        const other = await this.store.findItemByUid(to.id, uidOf(src)).catch(() => null);
        if (other && other.id !== src.id) throw new GroupwareError("UID_CONFLICT", `the destination has UID ${uidOf(src).slice(0, 200)}`, other.resourceName ?? undefined);
        throw new GroupwareError("PRECONDITION", `${toName} was created by another request`);
      }
      throw fromStoreError(e);
    }
  }

  async findByUid(account: Account, kind: CollectionKind, uid: string): Promise<{ collection: Collection; object: StoredObject } | null> {
    const items = await this.store.findItemsByUid({ accountId: account.id, itemClass: kind }, uid);
    if (items.length === 0) return null;
    // only visible collections (not the schedule inbox, which holds iTIP messages of the same UID)
    const cols = new Map((await this.collections.list(account, kind)).map((c) => [c.id, c]));
    for (const item of items) {
      const c = cols.get(item.folderId);
      if (c) return { collection: c, object: toStored(item) };
    }
    return null;
  }

  // ------------------------------------------------------------ time ranges

  /** The parsed object of an item (cached by id and modseq). */
  private async parsed(item: Item): Promise<CalendarObject> {
    const hit = this.cache.get(item);
    if (hit) return hit;
    const body = await this.store.readItemBody(item.id);
    let obj: CalendarObject;
    try {
      obj = parseCalendarObject(body, { stored: true }); // checked when it was written; lastInstance is in the index
    } catch (e) {
      if (e instanceof ICalError) throw new GroupwareError(e.code, `stored object ${item.resourceName ?? item.id}: ${e.message}`);
      throw e;
    }
    this.cache.set(item, obj);
    return obj;
  }

  /**
   * Does a recurring item have an instance in the range? Undecidable (too many instances,
   * unreadable): yes, conservatively. Answers are remembered per item version and range: clients
   * poll the same window (the month on screen) again and again.
   */
  private async hasInstance(item: Item, range: Range): Promise<boolean> {
    const key = `${item.id}:${item.modseq}:${range.start}:${range.end}`;
    const known = this.inRange.get(key);
    if (known !== undefined) return known;
    let yes: boolean;
    try {
      yes = expandInstances(await this.parsed(item), range, { maxInstances: 1 }).length > 0;
    } catch (e) {
      if (!(e instanceof ICalError && e.code === "LIMIT")) this.log.debug("time-range check kept an object it could not expand", { item: item.id, error: e instanceof Error ? e.message : String(e) });
      yes = true;
    }
    this.inRange.set(key, yes);
    return yes;
  }

  async objectsInRange(collection: Collection, range: Range): Promise<StoredObject[]> {
    checkRange(range);
    const out: StoredObject[] = [];
    if (collection.kind === "calendar") {
      // the store's span index finds the candidates (RFC 4791 §9.9 for single events); recurring ones are expanded
      for (const item of await this.store.findCalendarItems({ folderId: collection.id }, range)) {
        const f = item.fields as { isRecurring: boolean };
        if (!f.isRecurring || (await this.hasInstance(item, range))) out.push(toStored(item));
      }
    } else if (collection.kind === "tasks") {
      for (const item of await this.store.listItems(collection.id)) {
        const f = item.fields as { isRecurring: boolean; start: number | null; due: number | null; completed: number | null };
        if (f.isRecurring ? await this.hasInstance(item, range) : todoOverlaps(f, range)) out.push(toStored(item));
      }
    }
    return out;
  }

  async instances(object: StoredObject, range: Range): Promise<Instance[]> {
    checkRange(range);
    if (object.item.itemClass !== "calendar" && object.item.itemClass !== "tasks") return [];
    try {
      return await this.expand(object.item, range);
    } catch (e) {
      if (e instanceof ICalError) throw new GroupwareError(e.code === "LIMIT" ? "LIMIT" : e.code, e.message);
      throw e;
    }
  }

  /** The instances of an item in a range (ICalError when it cannot be expanded); a fresh array each call. */
  private async expand(item: Item, range: Range): Promise<Instance[]> {
    const key = `${item.id}:${item.modseq}:${range.start}:${range.end}`;
    const known = this.expanded.get(key);
    if (known) return known.map((i) => ({ ...i }));
    const list = expandInstances(await this.parsed(item), range, { maxInstances: this.maxInstances });
    if (list.length <= 200) this.expanded.set(key, list.map((i) => ({ ...i })));
    return list;
  }

  // ------------------------------------------------------------ sync

  async changesSince(collection: Collection, token: number, limit = 1000): Promise<CollectionChanges> {
    if (!Number.isSafeInteger(token) || token < 0) throw new GroupwareError("TOKEN_TOO_OLD", "not a sync token of this collection");
    const lim = Math.max(1, Math.min(10_000, Math.floor(limit)));
    const feed = await this.store.accountChanges(collection.accountId, token, { folderId: collection.id, limit: lim, only: "items" });
    if (feed.status === "tooOld") {
      // RFC 6578 §3.2: a token the server can no longer answer must be refused (valid-sync-token);
      // the initial sync (token 0) is answered in full instead, from the current items
      if (token !== 0) throw new GroupwareError("TOKEN_TOO_OLD", "the sync token is too old or unknown: sync again from the start");
      const all = await this.listObjects(collection);
      return { changed: all, removed: [], token: feed.highestModseq, truncated: false };
    }
    const changedIds: number[] = [];
    const removedNames = new Set<string>();
    for (const e of feed.items) {
      if (e.folderId !== collection.id) continue;
      if (e.kind === "deleted") {
        if (e.resourceName) removedNames.add(e.resourceName);
      } else changedIds.push(e.itemId);
    }
    const items = (await this.store.getItems(changedIds)).filter((i) => i.folderId === collection.id);
    const changed = items.map(toStored);
    // a name removed and used again since the token is a change, not a removal
    for (const o of changed) removedNames.delete(o.resourceName);
    return { changed, removed: [...removedNames], token: feed.highestModseq, truncated: feed.more };
  }

  // ------------------------------------------------------------ free/busy

  async freeBusy(account: Account, range: Range): Promise<BusyPeriod[]> {
    checkRange(range);
    const calendars = new Set((await this.collections.list(account, "calendar")).map((c) => c.id));
    const busy: BusyPeriod[] = [];
    const items = (await this.store.findCalendarItems({ accountId: account.id }, range)).filter((i) => calendars.has(i.folderId)); // the schedule inbox and hidden folders are not the user's time
    // The owner's own answer to an invitation (RFC 5546 §3.2.3 PARTSTAT): a declined meeting
    // leaves the time free, an unanswered or tentative one is BUSY-TENTATIVE, as Exchange shows
    // a new invitation in the attendee's calendar.
    const mine = new Set((await this.store.sendAsAddresses(account.id)).map((a) => a.toLowerCase()));
    mine.add(account.email.toLowerCase());
    const answers = await this.store.attendeeAnswers(account.id, items.map((i) => i.id), [...mine]);
    for (const item of items) {
      const f = item.fields as { isRecurring: boolean; dtStart: number; dtEnd: number; transp: string | null; status: string | null; organizer: string | null };
      const answer = f.organizer && !mine.has(f.organizer.toLowerCase()) ? answers.get(item.id) : undefined;
      if (answer === "DECLINED") continue;
      const tentative = answer === "NEEDS-ACTION" || answer === "TENTATIVE";
      const weaken = (t: FreeBusyType | null): FreeBusyType | null => (t === "BUSY" && tentative ? "BUSY-TENTATIVE" : t);
      if (!f.isRecurring) {
        const type = weaken(busyType({ transparent: f.transp === "TRANSPARENT", status: f.status ?? "" }));
        if (type) busy.push({ start: f.dtStart, end: f.dtEnd, type });
        continue;
      }
      let list: Instance[];
      try {
        list = await this.expand(item, range);
      } catch (e) {
        this.log.warn("free/busy left out an event it could not expand", { user: account.email, item: item.id, error: e instanceof Error ? e.message : String(e) });
        continue;
      }
      for (const i of list) {
        const type = weaken(busyType(i));
        if (type) busy.push({ start: i.start, end: i.end, type });
      }
    }
    return mergeBusy(busy, range);
  }
}
