/**
 * Saving calendar items: CreateItem of a t:CalendarItem (its properties, or
 * its MimeContent = an iCalendar object, as DavMail writes events) and
 * UpdateItem of an item or of one occurrence (an override is made from the
 * master, RFC 5545 §3.8.4.4), written through the groupware service with
 * the stored ETag as the condition (a write in between is
 * ErrorIrresolvableConflict, never a lost update). Extended properties
 * (t:ExtendedProperty) go to the item's property table (extended.ts);
 * PidTagUrlCompName (0x10F3) given on create names the CalDAV resource, so
 * DavMail finds its event under the name it chose.
 */
import { randomUUID } from "node:crypto";
import ICAL from "ical.js";
import type { Folder } from "../../../storage/api.ts";
import { eventZone, setTimeProp } from "../eas/groupware/calendar-time.ts";
import { etagOf } from "../../../src/groupware/objects.ts";
import { serialize } from "../../../src/groupware/ical/split.ts";
import { parseCalendarObject } from "../../../src/groupware/ical/parse.ts";
import type { Instance } from "../../../src/groupware/types.ts";
import { EwsError, type EwsContext } from "./context.ts";
import type { CreateOptions, DeleteOptions, MeetingInvitations, UpdateOptions } from "./kinds.ts";
import { collectionOf, findInstance, freshRoot, groupwareError, itemsById, parsedOf, toKindItem, type CalItem, type CalendarStoreItem } from "./calendar-store.ts";
import { applyPatch, eventFromMime, masterOf, newEvent, patchOfChanges, patchOfElement, stamp, type Patch } from "./calendar-write.ts";
import { applyExtendedChanges, isExtendedProperty, saveExtended } from "./extended.ts";
import type { PropertyChange } from "./shape.ts";
import { attr, kid, type XmlElement } from "./xml.ts";

/** Whether a SendMeetingInvitations/Cancellations choice runs the scheduler (SendToNone, or none given: not). */
export function schedules(v: MeetingInvitations | DeleteOptions["cancellations"] | null): boolean {
  return v !== null && v !== "SendToNone";
}

export function body(root: ICAL.Component): Uint8Array {
  return new TextEncoder().encode(serialize(root));
}

/** The item as stored now (after a write), as a kind item. */
function fresh(c: EwsContext, item: CalendarStoreItem, instance?: Instance): CalItem {
  return toKindItem(c, item, instance);
}

/** A copy of the master as the override of one instance (RFC 5545 §3.8.4.4), added to the object. */
function overrideFor(root: ICAL.Component, master: ICAL.Component, inst: Instance): ICAL.Component {
  const o = new ICAL.Component(JSON.parse(JSON.stringify(master.toJSON())) as unknown[]);
  for (const n of ["rrule", "rdate", "exdate", "recurrence-id", "duration"]) o.removeAllProperties(n);
  const z = eventZone(root, master);
  const form = { tzid: z.tzid, zone: z.zone, floating: z.floating };
  setTimeProp(o, "recurrence-id", inst.recurrenceId!, form, inst.allDay);
  setTimeProp(o, "dtstart", inst.start, form, inst.allDay);
  setTimeProp(o, "dtend", inst.end, form, inst.allDay);
  root.addSubcomponent(o);
  return o;
}

export async function writeBack(c: EwsContext, item: CalendarStoreItem, root: ICAL.Component, schedule: boolean): Promise<CalendarStoreItem> {
  const col = await collectionOf(c, item.folderId);
  try {
    const r = await c.server.groupware.putObject(col, item.resourceName ?? String(item.id), body(root), { ifMatch: etagOf(item), actor: c.account, schedule });
    return r.object.item as CalendarStoreItem;
  } catch (e) {
    throw groupwareError(e);
  }
}

/** Reads the stored object fresh for a write (never a cached parse: it is changed in place). */
export function forWrite(c: EwsContext, item: CalendarStoreItem): Promise<ICAL.Component> {
  return freshRoot(c, item);
}


/** The item as stored now, read again (after its properties were written: a new modseq). */
async function reread(c: EwsContext, item: CalendarStoreItem): Promise<CalendarStoreItem> {
  return (await itemsById(c, [item.id])).get(item.id) ?? item;
}

/** The resource name a client gave as PidTagUrlCompName (0x10F3) on create, when it is a plain .ics name. */
function urlCompName(el: XmlElement): string | null {
  for (const k of el.children) {
    if (!isExtendedProperty(k)) continue;
    const uri = kid(k, "ExtendedFieldURI");
    const tag = attr(uri, "PropertyTag")?.toLowerCase();
    if (tag !== "0x10f3" && tag !== "4339") continue;
    const v = (kid(k, "Value")?.text ?? "").trim();
    return /^[A-Za-z0-9@._+=-]{1,200}\.ics$/.test(v) ? v : null;
  }
  return null;
}

/** CreateItem of a t:CalendarItem into a calendar folder. */
export async function createCalendarItem(c: EwsContext, folder: Folder, el: XmlElement, opts: CreateOptions): Promise<CalItem> {
  if (folder.itemClass !== "calendar") throw new EwsError("ErrorCannotCreateCalendarItemInNonCalendarFolder", "Calendar items are created in calendar folders.");
  const patch = patchOfElement(el);
  let root: ICAL.Component;
  if (patch.mime !== undefined) {
    // The iCalendar object is the event; the other properties of the element are applied over it.
    root = eventFromMime(patch.mime, patch.uid ?? null);
    const rest: Patch = { ...patch, mime: undefined, uid: undefined };
    applyPatch(c, root, masterOf(root), rest, { master: true });
  } else root = newEvent(c, patch).root;
  const col = await collectionOf(c, folder);
  let item: CalendarStoreItem;
  try {
    const r = await c.server.groupware.putObject(col, urlCompName(el) ?? `${randomUUID()}.ics`, body(root), { ifNoneMatch: "*", actor: c.account, schedule: schedules(opts.invitations) });
    item = r.object.item as CalendarStoreItem;
  } catch (e) {
    throw groupwareError(e);
  }
  if (el.children.some(isExtendedProperty)) {
    await saveExtended(c, { itemId: item.id }, el);
    item = await reread(c, item);
  }
  return toKindItem(c, item);
}

/** UpdateItem of a calendar item or of one occurrence (`it.ref.occurrence`). */
export async function updateCalendarItem(c: EwsContext, it: CalItem, changes: PropertyChange[], opts: UpdateOptions): Promise<CalItem> {
  let item = it.data.item;
  const rest = await applyExtendedChanges(c, { itemId: item.id }, changes);
  if (rest.length !== changes.length) item = await reread(c, item);
  const occ = it.ref.occurrence;
  if (!rest.length) return toKindItem(c, item, it.data.instance);
  const patch = patchOfChanges(rest);
  let root = await forWrite(c, item);
  let comp: ICAL.Component;
  if (patch.mime !== undefined) {
    if (occ !== undefined) throw new EwsError("ErrorInvalidPropertySet", "An occurrence's MimeContent cannot be set; set the series'.");
    root = eventFromMime(patch.mime, item.fields.uid);
    comp = masterOf(root);
    applyPatch(c, root, comp, { ...patch, mime: undefined }, { master: true });
  } else if (occ !== undefined) {
    const master = root.getAllSubcomponents("vevent").find((v) => !v.getFirstProperty("recurrence-id"));
    if (!master) throw new EwsError("ErrorItemNotFound", "The series of this occurrence was not found.");
    const existing = root.getAllSubcomponents("vevent").find((v) => {
      const r = v.getFirstPropertyValue("recurrence-id");
      return r instanceof ICAL.Time && r.toJSDate().getTime() === occ;
    });
    const inst = it.data.instance ?? findInstance(await parsedOf(c, { item }), occ);
    if (!existing && !inst) throw new EwsError("ErrorCalendarOccurrenceIsDeletedFromRecurrence", "This occurrence was deleted from the series.");
    comp = existing ?? overrideFor(root, master, inst!);
    applyPatch(c, root, comp, patch, { master: false });
  } else {
    const master = root.getAllSubcomponents("vevent").find((v) => !v.getFirstProperty("recurrence-id"));
    comp = master ?? masterOf(root);
    applyPatch(c, root, comp, patch, { master: master !== undefined });
  }
  stamp(c, comp, patch);
  const saved = await writeBack(c, item, root, schedules(opts.invitations));
  if (occ === undefined) return toKindItem(c, saved);
  const inst = findInstance(parseCalendarObject(await c.store.readItemBody(saved.id), { stored: true }), occ);
  return toKindItem(c, saved, inst ?? undefined);
}
