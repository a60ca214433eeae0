/**
 * The calendar kind (kinds.ts): calendar items (Types.xsd CalendarItemType)
 * in calendar folders, stored as iCalendar objects through the groupware
 * service, so CalDAV, ActiveSync and the webmail see the same events and
 * the implicit scheduler (src/groupware/scheduling/) sends the iMIP
 * invitations, updates and cancellations (MS-OXWSMTGS §3.1.4: the
 * SendMeetingInvitations / SendMeetingCancellations attributes choose
 * whether it runs).
 *
 * Also the meeting response objects of CreateItem (AcceptItem,
 * TentativelyAcceptItem, DeclineItem, CancelCalendarItem, RemoveItem;
 * meetings.ts), and the CalendarView of FindItem (occurrences expanded, each
 * with its occurrence id: ItemRef.occurrence = its RECURRENCE-ID).
 */
import { randomUUID } from "node:crypto";
import ICAL from "ical.js";
import { addExdate } from "../eas/groupware/calendar-exceptions.ts";
import { categoriesOf } from "../eas/groupware/calendar-fields.ts";
import { eventZone } from "../eas/groupware/calendar-time.ts";
import { etagOf } from "../../../src/groupware/objects.ts";
import { serialize } from "../../../src/groupware/ical/split.ts";
import { expandInstances } from "../../../src/groupware/ical/expand.ts";
import { ICalError } from "../../../src/groupware/ical/errors.ts";
import type { CalendarObject } from "../../../src/groupware/ical/model.ts";
import { parseCalendarObject } from "../../../src/groupware/ical/parse.ts";
import type { Instance } from "../../../src/groupware/types.ts";
import { EwsError, type EwsContext } from "./context.ts";
import { ownItemId, type ItemRef } from "./ids.ts";
import { registerItemKind, type ItemKind } from "./kinds.ts";
import { componentOf, collectionOf, findInstance, groupwareError, itemsById, layout, nthInstance, parsedOf, toKindItem, type CalData, type CalItem, type CalendarStoreItem } from "./calendar-store.ts";
import { renderCalendarItem } from "./calendar-render.ts";
import { calendarComputed } from "./calendar-extended.ts";
import { extendedValue } from "./extended.ts";
import { stamp } from "./calendar-write.ts";
import { body, createCalendarItem, forWrite, schedules, updateCalendarItem, writeBack } from "./calendar-save.ts";
import { MEETING_ELEMENTS, createMeetingResponse } from "./meetings.ts";
import { headValue } from "./groupware-items.ts";
import { attr, type XmlElement } from "./xml.ts";

/** Instances one CalendarView may return (Exchange's own limit is also about 1000s; a bound on one response's work). */
export const MAX_VIEW_ITEMS = 10_000;
/** The longest CalendarView range: five years (Exchange refuses long views with ErrorCalendarViewRangeTooBig; Outlook asks for months). */
const MAX_VIEW_RANGE = 5 * 366 * 86_400_000;

export const calendarKind: ItemKind<CalData> = {
  itemClass: "calendar",
  elements: ["CalendarItem", ...MEETING_ELEMENTS],

  async list(c, folder) {
    const items = await c.store.listItems(folder.id);
    return items.filter((i): i is CalendarStoreItem => i.itemClass === "calendar").map((i) => toKindItem(c, i));
  },

  async load(c, refs) {
    const byId = await itemsById(
      c,
      refs.filter((r) => r.itemClass === "calendar" && r.accountId === c.account.id).map((r) => r.id),
    );
    const out: CalItem[] = [];
    for (const ref of refs) {
      const item = byId.get(ref.id);
      if (!item || ref.itemClass !== "calendar") continue;
      if (ref.occurrence === undefined) {
        out.push(toKindItem(c, item));
        continue;
      }
      const data: CalData = { item };
      const inst = findInstance(await parsedOf(c, data), ref.occurrence);
      if (!inst) continue;
      const k = toKindItem(c, item, inst);
      k.data.parsed = data.parsed;
      out.push(k);
    }
    return out;
  },

  render(c, it, shape) {
    return renderCalendarItem(c, it, shape);
  },

  value(c, it, path) {
    // Extended: what the event answers itself (calendar-extended.ts); stored ones are not read for a restriction.
    if (path.kind === "extended") return extendedValue([], path, calendarComputed(it));
    if (path.kind !== "field") return undefined;
    const f = it.data.item.fields;
    const inst = it.data.instance;
    switch (path.uri) {
      case "calendar:Start":
        return inst ? inst.start : f.dtStart;
      case "calendar:End":
        return inst ? inst.end : f.dtEnd;
      case "calendar:Location":
        return f.location || undefined;
      case "calendar:UID":
        return f.uid;
      case "calendar:IsRecurring":
        return f.isRecurring;
      case "calendar:IsAllDayEvent":
        return f.allDay;
      case "calendar:IsCancelled":
        return (f.status ?? "").toUpperCase() === "CANCELLED";
      case "calendar:Organizer":
        return f.organizer ?? undefined;
      case "calendar:CalendarItemType":
        return inst && inst.recurrenceId !== null ? (inst.overridden ? "Exception" : "Occurrence") : f.isRecurring ? "RecurringMaster" : "Single";
      case "item:ItemClass":
        return "IPM.Appointment";
      case "item:DateTimeReceived":
        return it.data.item.modifiedAt;
      case "item:Categories":
        return it.data.parsed ? categoriesOf(componentOf(it.data.parsed, inst)) : undefined;
      default:
        // Subject, Size, DateTimeCreated, LastModifiedTime, ItemId: as every groupware kind
        return headValue(it, path, f.summary);
    }
  },

  async create(c, folder, el, opts) {
    if (MEETING_ELEMENTS.includes(el.name)) return createMeetingResponse(c, el, opts, (cx, it, o) => calendarKind.remove(cx, it, o));
    return createCalendarItem(c, folder, el, opts);
  },

  update(c, it, changes, opts) {
    return updateCalendarItem(c, it, changes, opts);
  },

  async remove(c, it, opts) {
    const item = it.data.item;
    const occ = it.ref.occurrence;
    const schedule = schedules(opts.cancellations);
    if (occ === undefined) {
      const col = await collectionOf(c, item.folderId);
      try {
        await c.server.groupware.deleteObject(col, item.resourceName ?? String(item.id), { ifMatch: etagOf(item), actor: c.account, schedule });
      } catch (e) {
        throw groupwareError(e);
      }
      return;
    }
    // One occurrence: its override goes, an EXDATE takes its place (RFC 5545 §3.8.5.1).
    const root = await forWrite(c, item);
    const master = root.getAllSubcomponents("vevent").find((v) => !v.getFirstProperty("recurrence-id"));
    if (!master) throw new EwsError("ErrorItemNotFound", "The series of this occurrence was not found.");
    const obj = parseCalendarObject(serialize(root), { stored: true });
    const l = layout(obj);
    if (l.exdates.has(occ)) throw new EwsError("ErrorCalendarOccurrenceIsDeletedFromRecurrence", "This occurrence was already deleted.");
    const override = root.getAllSubcomponents("vevent").find((v) => {
      const r = v.getFirstPropertyValue("recurrence-id");
      return r instanceof ICAL.Time && r.toJSDate().getTime() === occ;
    });
    if (!override && !findInstance(obj, occ)) throw new EwsError("ErrorItemNotFound", "The series has no such occurrence.");
    if (override) root.removeSubcomponent(override);
    const z = eventZone(root, master);
    const allDay = (master.getFirstPropertyValue("dtstart") as ICAL.Time).isDate;
    addExdate(master, occ, { tzid: z.tzid, zone: z.zone, floating: z.floating, allDay });
    stamp(c, master, {});
    await writeBack(c, item, root, schedule);
  },

  async move(c, it, to) {
    if (to.itemClass !== "calendar") throw new EwsError("ErrorInvalidRequest", "Calendar items can only be moved to calendar folders.");
    if (it.ref.occurrence !== undefined) throw new EwsError("ErrorCalendarCannotMoveOrCopyOccurrence", "An occurrence moves with its series.");
    const item = it.data.item;
    if (to.id === item.folderId) return it;
    const from = await collectionOf(c, item.folderId);
    const dest = await collectionOf(c, to);
    const name = item.resourceName ?? `${item.id}.ics`;
    try {
      const r = await c.server.groupware.moveObject(from, name, dest, name, { ifMatch: etagOf(item), overwrite: false });
      return toKindItem(c, r.object.item as CalendarStoreItem);
    } catch (e) {
      throw groupwareError(e);
    }
  },

  async copy(c, it, to) {
    if (to.itemClass !== "calendar") throw new EwsError("ErrorInvalidRequest", "Calendar items can only be copied to calendar folders.");
    if (it.ref.occurrence !== undefined) throw new EwsError("ErrorCalendarCannotMoveOrCopyOccurrence", "An occurrence is copied with its series.");
    const root = await forWrite(c, it.data.item);
    // The copy is a new event: its own UID (a calendar holds a UID once, RFC 4791 §5.3.2.1).
    const uid = randomUUID();
    for (const v of root.getAllSubcomponents("vevent")) v.updatePropertyWithValue("uid", uid);
    const dest = await collectionOf(c, to);
    try {
      const r = await c.server.groupware.putObject(dest, `${uid}.ics`, body(root), { ifNoneMatch: "*", actor: c.account, schedule: false });
      return toKindItem(c, r.object.item as CalendarStoreItem);
    } catch (e) {
      throw groupwareError(e);
    }
  },

  async calendarView(c, folder, view) {
    if (!(view.end >= view.start)) throw new EwsError("ErrorCalendarEndDateIsEarlierThanStartDate", "EndDate is before StartDate.");
    if (view.end - view.start > MAX_VIEW_RANGE) throw new EwsError("ErrorCalendarViewRangeTooBig", "The calendar view spans more than five years.");
    const col = await collectionOf(c, folder);
    const range = { start: view.start, end: Math.max(view.end, view.start + 1) };
    const out: CalItem[] = [];
    try {
      for (const obj of await c.server.groupware.objectsInRange(col, range)) {
        const item = obj.item as CalendarStoreItem;
        // One parse per object, shared by its occurrences when they are rendered.
        const shared: CalData = { item };
        let parsed: CalendarObject;
        let instances: Instance[];
        try {
          parsed = await parsedOf(c, shared);
          instances = expandInstances(parsed, range, { maxInstances: MAX_VIEW_ITEMS });
        } catch (e) {
          // One unreadable or unexpandable object does not cost the client the rest of the view.
          if (!(e instanceof EwsError || e instanceof ICalError)) throw e;
          c.log.info("ews: calendar item left out of a CalendarView", { item: item.id, err: e.message });
          continue;
        }
        for (const inst of instances) {
          if (out.length >= MAX_VIEW_ITEMS) throw new EwsError("ErrorExceededFindCountLimit", `The calendar view holds more than ${MAX_VIEW_ITEMS} items; ask for a shorter range.`);
          const k = toKindItem(c, item, inst.recurrenceId === null ? undefined : inst);
          k.data.parsed = parsed;
          out.push(k);
        }
      }
    } catch (e) {
      throw groupwareError(e);
    }
    out.sort((a, b) => (a.data.instance?.start ?? a.data.item.fields.dtStart) - (b.data.instance?.start ?? b.data.item.fields.dtStart) || a.ref.id - b.ref.id);
    // Every instance of the range in time order: the caller cuts at MaxEntriesReturned (Types.xsd BasePagingType)
    // and then answers IncludesLastItemInRange="false".
    return out;
  },
};

registerItemKind(calendarKind);

/**
 * The calendar item an OccurrenceItemId (RecurringMasterId + InstanceIndex,
 * 1-based, MS-OXWSCORE §2.2.4.41) or RecurringMasterItemId (OccurrenceId =
 * an occurrence's id: its series) names, for GetItem, UpdateItem, DeleteItem.
 */
export async function resolveCalendarId(c: EwsContext, el: XmlElement): Promise<ItemRef> {
  if (el.name === "RecurringMasterItemId") {
    const ref = ownItemId(c, attr(el, "OccurrenceId"));
    if (ref.itemClass !== "calendar") throw new EwsError("ErrorItemNotFound", "The id names no calendar item.");
    return { accountId: ref.accountId, itemClass: "calendar", id: ref.id };
  }
  if (el.name === "OccurrenceItemId") {
    const ref = ownItemId(c, attr(el, "RecurringMasterId"));
    if (ref.itemClass !== "calendar") throw new EwsError("ErrorItemNotFound", "The id names no calendar item.");
    const index = Number(attr(el, "InstanceIndex") ?? "");
    if (!Number.isInteger(index) || index < 1) throw new EwsError("ErrorInvalidRequest", "InstanceIndex must be a number from 1.");
    const [item] = (await itemsById(c, [ref.id])).values();
    if (!item) throw new EwsError("ErrorItemNotFound", "The recurring item was not found.");
    const obj = await parsedOf(c, { item });
    if (!item.fields.isRecurring) throw new EwsError("ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange", "The item is not recurring.");
    const nth = nthInstance(obj, index);
    if (!nth) throw new EwsError("ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange", `The series has no occurrence ${index}.`);
    if (nth.deleted) throw new EwsError("ErrorCalendarOccurrenceIsDeletedFromRecurrence", `Occurrence ${index} was deleted from the series.`);
    return { accountId: ref.accountId, itemClass: "calendar", id: ref.id, occurrence: nth.rid };
  }
  return ownItemId(c, attr(el, "Id"));
}
