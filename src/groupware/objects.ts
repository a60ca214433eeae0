/**
 * Objects of a collection: checking a body before it is stored (RFC 4791
 * §5.3.2.1 and RFC 6352 §6.3.2.1 preconditions), ETags and their
 * conditions, and a bounded cache of parsed iCalendar objects so repeated
 * time-range queries, expansions and free/busy do not parse again.
 */
import type { CalendarFields, Item, ItemInput } from "../../storage/api.ts";
import { ICalError, expandInstances, parseCalendarObject, type CalendarObject } from "./ical/index.ts";
import { VCardError, parseVCard } from "./vcard/index.ts";
import { GroupwareError, type Collection, type StoredObject } from "./types.ts";

/** Largest object body accepted (RFC 4791 §5.2.5 max-resource-size): 1 MiB, as the parsers' own limit. */
export const MAX_OBJECT_BYTES = 1024 * 1024;

/** Strong ETag of an item version (RFC 9110 §8.8.3): its stable id and its modseq, which every write changes. */
export function etagOf(item: Item): string {
  return `"${item.id}-${item.modseq}"`;
}

export function toStored(item: Item): StoredObject {
  return { item, resourceName: item.resourceName ?? `${item.id}`, etag: etagOf(item) };
}

/**
 * RFC 9110 §13.1.1: If-Match is "*" or a list of entity tags compared
 * strongly (a weak tag never matches). True when `current` (the existing
 * object's ETag, or null) satisfies it.
 */
export function ifMatchHolds(header: string, current: string | null): boolean {
  const h = header.trim();
  if (h === "*") return current !== null;
  if (current === null) return false;
  return splitTags(h).some((t) => !t.startsWith("W/") && t === current);
}

function splitTags(h: string): string[] {
  return (h.match(/(?:W\/)?"[^"]*"/g) ?? []).slice(0, 100);
}

/** What a checked body becomes: the item input for the store and what the scheduler and caches need. */
export interface CheckedObject {
  input: ItemInput;
  uid: string;
  /** The parsed iCalendar object (calendar, tasks); null for a vCard. */
  calendar: CalendarObject | null;
}

function mapICal(e: unknown): never {
  if (e instanceof ICalError) throw new GroupwareError(e.code === "LIMIT" ? "LIMIT" : e.code, e.message);
  throw e;
}

/**
 * Parses and checks a body for `collection` (GroupwareError otherwise):
 * iCalendar for calendars (VEVENT) and task lists (VTODO), vCard for address
 * books. The body itself is stored byte for byte, never re-serialised.
 */
export function checkBody(collection: Collection, body: Uint8Array): CheckedObject {
  if (!(body instanceof Uint8Array)) throw new GroupwareError("INVALID_DATA", "the body must be bytes");
  if (body.byteLength > MAX_OBJECT_BYTES) throw new GroupwareError("TOO_LARGE", `an object is at most ${MAX_OBJECT_BYTES} bytes (max-resource-size)`);
  if (body.byteLength === 0) throw new GroupwareError("INVALID_DATA", "the body is empty");
  if (collection.kind === "contacts") {
    let card;
    try {
      card = parseVCard(body);
    } catch (e) {
      if (e instanceof VCardError) throw new GroupwareError(e.code, e.message);
      throw e;
    }
    return { input: { itemClass: "contacts", body, fields: card.fields }, uid: card.uid, calendar: null };
  }
  let obj: CalendarObject;
  try {
    obj = parseCalendarObject(body);
  } catch (e) {
    mapICal(e);
  }
  // RFC 4791 §4.1: a calendar object resource has no METHOD (iTIP messages live in the schedule inbox)
  if (obj.method !== null) throw new GroupwareError("INVALID_OBJECT", `a calendar object resource must not have a METHOD (found ${obj.method}); iTIP messages are not stored in calendars`);
  const want = collection.kind === "tasks" ? "VTODO" : "VEVENT";
  // RFC 4791 §5.3.2.1 supported-calendar-component: events in calendars, to-dos in task lists
  if (obj.kind !== want) {
    throw new GroupwareError("WRONG_COMPONENT", `a ${collection.kind === "tasks" ? "task list holds VTODO" : "calendar holds VEVENT"} components, this object is a ${obj.kind}`);
  }
  if (obj.kind === "VEVENT") {
    if (!obj.calendarFields) throw new GroupwareError("INVALID_OBJECT", "the event has no usable DTSTART");
    const fields: CalendarFields = {
      ...obj.calendarFields,
      recurrenceId: null,
      spanEnd: spanEndOf(obj),
      attendees: obj.attendees.map((a) => ({ address: a.address, partstat: a.partstat })),
    };
    return { input: { itemClass: "calendar", body, fields }, uid: obj.uid, calendar: obj };
  }
  if (!obj.taskFields) throw new GroupwareError("INVALID_OBJECT", "the to-do could not be read");
  return { input: { itemClass: "tasks", body, fields: obj.taskFields }, uid: obj.uid, calendar: obj };
}

/**
 * When the object's last instance ends, for the store's time-range index
 * (migration 0032): only computed when overridden instances exist, since an
 * override may end later than lastInstance + the master's duration (moved or
 * lengthened). The instances overlapping the last instance's start are
 * expanded and the latest end taken; null (the store's default) otherwise.
 */
function spanEndOf(obj: CalendarObject): number | null {
  const f = obj.calendarFields;
  if (!f || !f.isRecurring || f.lastInstance === null || f.lastInstance === undefined) return null;
  const comps = obj.root.getAllSubcomponents(obj.kind.toLowerCase());
  if (comps.length < 2) return null;
  const at = f.lastInstance;
  try {
    const list = expandInstances(obj, { start: at, end: at + 1 });
    let end = f.dtEnd;
    for (const i of list) end = Math.max(end, i.end);
    return end;
  } catch {
    // too many instances to tell: the store's default span (lastInstance + duration) stands
    return null;
  }
}

/** Item fields say the UID for every class the service stores. */
export function uidOf(item: Item): string {
  return (item.fields as { uid?: string }).uid ?? "";
}

/**
 * Parsed objects by (item id, modseq): a time-range query re-reads the same
 * recurring events, so each is parsed once per version. Bounded by entries
 * and by the bytes of the bodies held (a parsed tree is a few times its
 * text), least recently used first out.
 */
export class ParsedCache {
  private readonly map = new Map<string, { obj: CalendarObject; size: number }>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(
    private readonly maxEntries = 5000,
    private readonly maxBytes = 32 * 1024 * 1024,
  ) {}

  get(item: Item): CalendarObject | undefined {
    const k = `${item.id}:${item.modseq}`;
    const e = this.map.get(k);
    if (!e) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.map.delete(k);
    this.map.set(k, e);
    return e.obj;
  }

  set(item: Item, obj: CalendarObject): void {
    // one big object would evict everything else: those past a quarter of the budget are parsed each time
    if (this.maxEntries <= 0 || item.size > this.maxBytes / 4) return;
    const k = `${item.id}:${item.modseq}`;
    const old = this.map.get(k);
    if (old) {
      this.bytes -= old.size;
      this.map.delete(k);
    }
    this.map.set(k, { obj, size: item.size });
    this.bytes += item.size;
    while (this.map.size > this.maxEntries || this.bytes > this.maxBytes) {
      const first = this.map.keys().next();
      if (first.done) break;
      this.bytes -= this.map.get(first.value)!.size;
      this.map.delete(first.value);
    }
  }

  get size(): number {
    return this.map.size;
  }
}

/** A Map that forgets its least recently used entries past `max` entries. */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly max: number) {}

  get(k: K): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }

  set(k: K, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    while (this.map.size > this.max) {
      const first = this.map.keys().next();
      if (first.done) break;
      this.map.delete(first.value);
    }
  }
}
