/**
 * The MAPI properties of a calendar item that clients ask for as extended
 * properties ([MS-OXPROPS], [MS-OXOCAL] §2.2.1) and that the event itself
 * answers: DavMail restricts its calendar FindItem on them (instance type,
 * recurring, its resource name) and Outlook-style clients read the
 * appointment's whole start and end. Computed from the store's index row
 * (no body read), so restrictions on them stay cheap; everything else is
 * the item's stored property table (extended.ts).
 */
import type { TypedPropertyValue } from "../../../storage/api.ts";
import { PROPERTY_SETS, type ComputedProperty } from "./extended.ts";
import type { CalItem } from "./calendar-store.ts";
import type { ExtendedPath } from "./shape.ts";

const APPOINTMENT = PROPERTY_SETS.Appointment!;
const PUBLIC_STRINGS = PROPERTY_SETS.PublicStrings!;

/** The set GUID of a path (by name or by id), lower case. */
function setOf(p: ExtendedPath): string | undefined {
  if (p.setName) return PROPERTY_SETS[p.setName];
  return p.setId?.toLowerCase();
}

/** [MS-OXOCAL] urn:schemas:calendar:instancetype (DavMail's "instancetype"): 0 single, 1 master, 2 occurrence, 3 exception. */
function instanceType(it: CalItem): number {
  const inst = it.data.instance;
  if (inst && inst.recurrenceId !== null) return inst.overridden ? 3 : 2;
  return it.data.item.fields.isRecurring ? 1 : 0;
}

export function calendarComputed(it: CalItem): ComputedProperty {
  const f = it.data.item.fields;
  const inst = it.data.instance;
  return (p: ExtendedPath): TypedPropertyValue | undefined => {
    if (p.tag !== undefined) {
      const item = it.data.item;
      switch (p.tag) {
        case 0x10f3: // PidTagUrlCompName: the item's name in its folder = the CalDAV resource name (DavMail keeps its .ics name there)
          return item.resourceName ? { type: "string", value: item.resourceName } : undefined;
        case 0x0e23: // PidTagInternetArticleNumber: the item's number in its folder (DavMail sorts every search by it)
          return { type: "int", value: item.uid };
        case 0x3008: // PidTagLastModificationTime (DavMail's etag)
          return { type: "time", value: item.modifiedAt };
        case 0x0037: // PidTagSubject
        case 0x3001: // PidTagDisplayName
          return { type: "string", value: f.summary };
        case 0x0e08: // PidTagMessageSize
          return { type: "int", value: item.size };
        default:
          return undefined;
      }
    }
    const set = setOf(p);
    if (set === APPOINTMENT && p.propertyId !== undefined) {
      switch (p.propertyId) {
        case 0x8223: // PidLidRecurring
          return { type: "bool", value: f.isRecurring && !(inst && inst.recurrenceId !== null) };
        case 0x820d: // PidLidAppointmentStartWhole
          return { type: "time", value: inst ? inst.start : f.dtStart };
        case 0x820e: // PidLidAppointmentEndWhole
          return { type: "time", value: inst ? inst.end : f.dtEnd };
        case 0x8215: // PidLidAppointmentSubType: all-day
          return { type: "bool", value: f.allDay };
        default:
          return undefined;
      }
    }
    if (set === PUBLIC_STRINGS && p.propertyName === "urn:schemas:calendar:instancetype") return { type: "int", value: instanceType(it) };
    return undefined;
  };
}
