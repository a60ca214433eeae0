/**
 * Calendar items as the EWS calendar kind holds them: the store's item (one
 * iCalendar object = one UID, master and overrides, RFC 4791 §4.1) and, for
 * an occurrence (a CalendarView instance or an OccurrenceItemId), the
 * instance. Loading, parsing and the groupware collection of a folder live
 * here so the kind, the renderer and the meeting code share them.
 */
import ICAL from "ical.js";
import type { Folder, Item } from "../../../storage/api.ts";
import { ICalError } from "../../../src/groupware/ical/errors.ts";
import { expandInstances, layoutOf, type Layout } from "../../../src/groupware/ical/expand.ts";
import { parseCalendarObject } from "../../../src/groupware/ical/parse.ts";
import { GroupwareError, type Collection, type Instance } from "../../../src/groupware/types.ts";
import { ParsedCache } from "../../../src/groupware/objects.ts";
import type { CalendarObject } from "../../../src/groupware/ical/model.ts";
import { EwsError, type EwsContext } from "./context.ts";
import type { ItemRef } from "./ids.ts";
import type { KindItem } from "./kinds.ts";

export type CalendarStoreItem = Extract<Item, { itemClass: "calendar" }>;

export interface CalData {
  item: CalendarStoreItem;
  /** Set for one occurrence of a recurring item (CalendarItemType Occurrence / Exception). */
  instance?: Instance;
  /** The parsed object, once read (render, value of occurrences, writes). */
  parsed?: CalendarObject;
}

export type CalItem = KindItem<CalData>;

const DAY = 86_400_000;
/** How far from its original start an occurrence id is looked for (an override may move an instance; a year covers what clients do). */
const OCCURRENCE_WINDOW = 400 * DAY;
const YEAR = 366 * DAY;

export function refOf(c: EwsContext, item: CalendarStoreItem, occurrence?: number): ItemRef {
  const ref: ItemRef = { accountId: c.account.id, itemClass: "calendar", id: item.id };
  if (occurrence !== undefined) ref.occurrence = occurrence;
  return ref;
}

export function toKindItem(c: EwsContext, item: CalendarStoreItem, instance?: Instance): CalItem {
  const rid = instance ? (instance.recurrenceId ?? undefined) : undefined;
  return { ref: refOf(c, item, rid), folderId: item.folderId, modseq: item.modseq, data: { item, instance } };
}

/** The groupware collection of a calendar folder (the folder name is the collection's URL segment). */
export async function collectionOf(c: EwsContext, folder: Folder | number): Promise<Collection> {
  const f = typeof folder === "number" ? await c.store.getFolderById(folder) : folder;
  if (!f || f.accountId !== c.account.id) throw new EwsError("ErrorFolderNotFound", "The calendar folder was not found.");
  if (f.itemClass !== "calendar") throw new EwsError("ErrorInvalidRequest", "The folder is not a calendar folder.");
  const col = await c.server.groupware.getCollection(c.account, f.name);
  if (!col || col.id !== f.id) throw new EwsError("ErrorFolderNotFound", "The calendar folder was not found.");
  return col;
}

/**
 * Parsed objects by item version (id:modseq), shared by requests: clients
 * ask for the same weeks again and again. Read-only: a write parses its own
 * copy (freshRoot). Bounded like the groupware service's own cache.
 */
const parsedCaches = new WeakMap<object, ParsedCache>();

/** The cache of one store (item ids are a store's own: one process may serve several, as the tests do). */
function cacheOf(c: EwsContext): ParsedCache {
  let p = parsedCaches.get(c.store);
  if (!p) {
    p = new ParsedCache(2000, 8 * 1024 * 1024);
    parsedCaches.set(c.store, p);
  }
  return p;
}

/** Parses an item's body (cached on the data and by version). A stored body that no longer reads: ErrorCorruptData. */
export async function parsedOf(c: EwsContext, data: CalData): Promise<CalendarObject> {
  if (data.parsed) return data.parsed;
  const hit = cacheOf(c).get(data.item);
  if (hit) return (data.parsed = hit);
  data.parsed = await parseStored(c, data.item);
  cacheOf(c).set(data.item, data.parsed);
  return data.parsed;
}

async function parseStored(c: EwsContext, item: CalendarStoreItem): Promise<CalendarObject> {
  const body = await c.store.readItemBody(item.id);
  try {
    return parseCalendarObject(body, { stored: true });
  } catch (e) {
    if (e instanceof ICalError) throw new EwsError("ErrorCorruptData", `The stored calendar item cannot be read: ${e.message}`);
    throw e;
  }
}

/** The stored object parsed afresh, to be changed in place and written back (never a cached one). */
export async function freshRoot(c: EwsContext, item: CalendarStoreItem): Promise<ICAL.Component> {
  return (await parseStored(c, item)).root;
}

const layouts = new WeakMap<CalendarObject, Layout>();

/** The object's master and overrides (remembered per parsed object: the renderer asks several times). */
export function layout(obj: CalendarObject): Layout {
  let l = layouts.get(obj);
  if (!l) {
    l = layoutOf(obj.root, "vevent", null);
    layouts.set(obj, l);
  }
  return l;
}

/** The component shown for an item: the override of its instance, else the master (or the first VEVENT of an object of overrides only). */
export function componentOf(obj: CalendarObject, instance?: Instance): ICAL.Component {
  const l = layout(obj);
  if (instance?.overridden && instance.recurrenceId !== null) {
    const o = l.overrides.get(instance.recurrenceId);
    if (o) return o.comp;
  }
  const comp = l.master ?? obj.root.getFirstSubcomponent("vevent");
  if (!comp) throw new EwsError("ErrorCorruptData", "The stored calendar item has no event.");
  return comp;
}

/** The instance of a series whose RECURRENCE-ID is `rid`, or null (not an instance, or deleted). */
export function findInstance(obj: CalendarObject, rid: number): Instance | null {
  let list: Instance[];
  try {
    list = expandInstances(obj, { start: rid - OCCURRENCE_WINDOW, end: rid + OCCURRENCE_WINDOW }, { maxInstances: 2000 });
  } catch (e) {
    if (e instanceof ICalError) return null;
    throw e;
  }
  return list.find((i) => i.recurrenceId === rid) ?? null;
}

/**
 * The RECURRENCE-ID of the n-th (1-based) instance of a series
 * (OccurrenceItemId InstanceIndex, MS-OXWSCORE §2.2.4.41): counted along the
 * pattern, deleted occurrences included (they keep their index, as in
 * Exchange); `deleted` says the one named was deleted. Null when the series
 * has fewer instances.
 */
export function nthInstance(obj: CalendarObject, index: number): { rid: number; deleted: boolean } | null {
  if (!Number.isInteger(index) || index < 1 || index > 10_000) return null;
  const l = layout(obj);
  if (!l.master) return null;
  try {
    const copy = new ICAL.Component(JSON.parse(JSON.stringify(obj.root.toJSON())) as unknown[]);
    for (const v of copy.getAllSubcomponents("vevent")) if (!v.getFirstProperty("recurrence-id")) v.removeAllProperties("exdate");
    const plain = parseCalendarObject(copy.toString(), { stored: true });
    // Year by year from the first start (an expansion refuses more than maxInstances at once, and open series never end).
    const first = l.masterSpan?.start ?? 0;
    const list: Instance[] = [];
    for (let y = 0; y < 100 && list.length < index; y++) {
      const from = first + y * YEAR;
      list.push(...expandInstances(plain, { start: from, end: from + YEAR }, { maxInstances: 10_000 }).filter((i) => i.start >= from));
    }
    const i = list[index - 1];
    if (!i || i.recurrenceId === null) return null;
    return { rid: i.recurrenceId, deleted: l.exdates.has(i.recurrenceId) };
  } catch (e) {
    if (e instanceof ICalError) return null;
    throw e;
  }
}

/** Store items by id (one query), calendar ones of this account only. */
export async function itemsById(c: EwsContext, ids: readonly number[]): Promise<Map<number, CalendarStoreItem>> {
  const out = new Map<number, CalendarStoreItem>();
  if (!ids.length) return out;
  for (const it of await c.store.getItems([...new Set(ids)])) {
    if (it.itemClass === "calendar" && it.accountId === c.account.id) out.set(it.id, it);
  }
  return out;
}

/** Maps the groupware service's refusals to ResponseCodes (MS-OXWSCDATA ResponseCodeType). */
export function groupwareError(e: unknown): unknown {
  if (e instanceof GroupwareError) {
    switch (e.code) {
      case "NOT_FOUND":
        return new EwsError("ErrorItemNotFound", e.message);
      case "PRECONDITION":
        return new EwsError("ErrorIrresolvableConflict", "The item was changed by someone else; read it again.");
      case "UID_CONFLICT":
        return new EwsError("ErrorItemSave", `${e.message} (a calendar holds each UID once)`);
      case "QUOTA":
        return new EwsError("ErrorQuotaExceeded", e.message);
      case "TOO_LARGE":
        return new EwsError("ErrorMessageSizeExceeded", e.message);
      case "LIMIT":
        return new EwsError("ErrorInvalidRequest", e.message);
      default:
        return new EwsError("ErrorInvalidRequest", e.message);
    }
  }
  if (e instanceof ICalError) return new EwsError("ErrorInvalidRequest", e.message);
  return e;
}
