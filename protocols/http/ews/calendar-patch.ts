/**
 * Reading calendar item writes (Types.xsd CalendarItemType): the properties
 * of a CreateItem `<t:CalendarItem>`, or of UpdateItem's SetItemField /
 * AppendToItemField / DeleteItemField changes, into a Patch that
 * calendar-write.ts applies to the iCalendar event. Values are checked here
 * (lengths, enumerations, dates, addresses): a bad one is the item's
 * ResponseCode, never a half-written event. Read-only properties
 * (IsMeeting, Organizer, CalendarItemType...) are ignored on create and
 * refused on update (ErrorInvalidPropertySet), as Exchange does.
 */
import { htmlToText } from "../../../mail/text.ts";
import { MAX_ATTENDEES } from "../../../src/groupware/ical/errors.ts";
import { EwsError } from "./context.ts";
import { writtenOffset, zoneOfElement, type ItemZone } from "./calendar-zone.ts";
import type { PropertyChange } from "./shape.ts";
import { attr, kid, kidsNamed, kidText, parseBool, parseDateTime, type XmlElement } from "./xml.ts";

const MAX_TEXT = 256 * 1024;
const MAX_SHORT = 32 * 1024;
const MAX_CATEGORIES = 300;
/** MimeContent of a calendar item: base64 of at most 1 MB of iCalendar (the groupware service's object limit). */
const MAX_MIME_B64 = Math.ceil((1024 * 1024 * 4) / 3) + 4;
const MAX_REMINDER = 366 * 24 * 60;

export interface AttendeeIn {
  email: string;
  name: string;
}

export interface Patch {
  subject?: string | null;
  body?: { text: string; html: string | null } | null;
  sensitivity?: string | null;
  importance?: string | null;
  categories?: string[] | null;
  reminderSet?: boolean;
  reminderMinutes?: number;
  /** `local`: written without Z or offset, a wall time of the request's TimeZoneContext (ms holds its digits as UTC). */
  start?: { ms: number; offset: number | null; local: boolean };
  end?: { ms: number; offset: number | null; local: boolean };
  allDay?: boolean;
  startZone?: ItemZone;
  endZone?: ItemZone;
  busy?: string | null;
  location?: string | null;
  required?: AttendeeIn[] | null;
  optional?: AttendeeIn[] | null;
  resources?: AttendeeIn[] | null;
  recurrence?: XmlElement | null;
  /** MimeContent: the whole event as iCalendar text (DavMail writes events this way; Exchange takes iCalendar there). */
  mime?: string;
  uid?: string;
  responseRequested?: boolean;
  allowNewTimeProposal?: boolean;
}

/** Properties a client may not write (Types.xsd: set by the server). */
const READ_ONLY = new Set([
  "ItemId", "ParentFolderId", "DateTimeReceived", "Size", "IsSubmitted", "IsDraft", "IsFromMe", "IsResend", "IsUnmodified", "DateTimeSent", "DateTimeCreated",
  "ResponseObjects", "DisplayCc", "DisplayTo", "HasAttachments", "EffectiveRights", "LastModifiedName", "LastModifiedTime", "IsAssociated", "ConversationId",
  "RecurrenceId", "DateTimeStamp", "OriginalStart", "IsMeeting", "IsCancelled", "IsRecurring", "MeetingRequestWasSent", "CalendarItemType", "MyResponseType",
  "Organizer", "ConflictingMeetingCount", "AdjacentMeetingCount", "ConflictingMeetings", "AdjacentMeetings", "Duration", "AppointmentReplyTime",
  "AppointmentSequenceNumber", "AppointmentState", "FirstOccurrence", "LastOccurrence", "ModifiedOccurrences", "DeletedOccurrences", "IsOnlineMeeting",
]);

function text(el: XmlElement, max: number, what: string): string {
  if (el.text.length > max) throw new EwsError("ErrorInvalidPropertySet", `${what} is longer than ${max} characters.`);
  return el.text;
}

function time(el: XmlElement, what: string): { ms: number; offset: number | null; local: boolean } {
  const ms = parseDateTime(el.text);
  if (ms === undefined) throw new EwsError("ErrorInvalidRequest", `${what} is not a date and time.`);
  return { ms, offset: writtenOffset(el.text), local: !/(Z|[+-]\d{2}:\d{2})$/.test(el.text.trim()) };
}

function bool(el: XmlElement, what: string): boolean {
  const b = parseBool(el.text);
  if (b === undefined) throw new EwsError("ErrorInvalidRequest", `${what} must be true or false.`);
  return b;
}

function attendees(el: XmlElement): AttendeeIn[] {
  const list = kidsNamed(el, "Attendee");
  if (list.length > MAX_ATTENDEES) throw new EwsError("ErrorInvalidRequest", `More than ${MAX_ATTENDEES} attendees.`);
  const out: AttendeeIn[] = [];
  for (const a of list) {
    const mb = kid(a, "Mailbox");
    const email = (kidText(mb, "EmailAddress") ?? "").trim().toLowerCase();
    if (!email || email.length > 320 || !/^[^\s@<>"]+@[^\s@<>"]+$/.test(email)) throw new EwsError("ErrorInvalidRecipients", "An attendee has no valid e-mail address.");
    out.push({ email, name: (kidText(mb, "Name") ?? "").slice(0, 256) });
  }
  return out;
}

/** Reads one property element of a t:CalendarItem into the patch. `update`: read-only ones are refused. */
export function readProperty(p: Patch, el: XmlElement, update: boolean): void {
  switch (el.name) {
    case "Subject":
      p.subject = text(el, MAX_SHORT, "Subject");
      return;
    case "Body": {
      const v = text(el, MAX_TEXT, "Body");
      p.body = attr(el, "BodyType") === "HTML" ? { text: htmlToText(v, { readable: true }), html: v } : { text: v, html: null };
      return;
    }
    case "Sensitivity":
      if (!["Normal", "Personal", "Private", "Confidential"].includes(el.text.trim())) throw new EwsError("ErrorInvalidRequest", "Sensitivity is not valid.");
      p.sensitivity = el.text.trim();
      return;
    case "Importance":
      if (!["Low", "Normal", "High"].includes(el.text.trim())) throw new EwsError("ErrorInvalidRequest", "Importance is not valid.");
      p.importance = el.text.trim();
      return;
    case "Categories": {
      const cats = kidsNamed(el, "String").map((s) => s.text.trim().slice(0, 1024)).filter(Boolean);
      if (cats.length > MAX_CATEGORIES) throw new EwsError("ErrorInvalidRequest", "Too many categories.");
      p.categories = cats;
      return;
    }
    case "ReminderIsSet":
      p.reminderSet = bool(el, "ReminderIsSet");
      return;
    case "ReminderMinutesBeforeStart": {
      const n = Number(el.text.trim());
      if (!/^-?\d{1,7}$/.test(el.text.trim()) || n < 0 || n > MAX_REMINDER) throw new EwsError("ErrorInvalidRequest", "ReminderMinutesBeforeStart is not valid.");
      p.reminderMinutes = n;
      return;
    }
    case "Start":
      p.start = time(el, "Start");
      return;
    case "End":
      p.end = time(el, "End");
      return;
    case "IsAllDayEvent":
      p.allDay = bool(el, "IsAllDayEvent");
      return;
    case "StartTimeZone":
      p.startZone = zoneOfElement(el) ?? undefined;
      return;
    case "EndTimeZone":
      p.endZone = zoneOfElement(el) ?? undefined;
      return;
    case "MeetingTimeZone": {
      const z = zoneOfElement(el) ?? undefined;
      p.startZone = z;
      p.endZone = z;
      return;
    }
    case "LegacyFreeBusyStatus":
      if (!["Free", "Tentative", "Busy", "OOF", "NoData", "WorkingElsewhere"].includes(el.text.trim())) throw new EwsError("ErrorInvalidRequest", "LegacyFreeBusyStatus is not valid.");
      p.busy = el.text.trim();
      return;
    case "Location":
      p.location = text(el, MAX_SHORT, "Location");
      return;
    case "RequiredAttendees":
      p.required = attendees(el);
      return;
    case "OptionalAttendees":
      p.optional = attendees(el);
      return;
    case "Resources":
      p.resources = attendees(el);
      return;
    case "Recurrence":
      p.recurrence = el;
      return;
    case "MimeContent": {
      const b64 = el.text.replace(/\s+/g, "");
      if (b64.length > MAX_MIME_B64 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new EwsError("ErrorInvalidRequest", "MimeContent is not base64 of an iCalendar object up to 1 MB.");
      p.mime = Buffer.from(b64, "base64").toString("utf8");
      return;
    }
    case "UID": {
      const uid = el.text.trim();
      if (!uid || uid.length > 1024 || /[\r\n]/.test(uid)) throw new EwsError("ErrorInvalidRequest", "UID is not valid.");
      if (update) throw new EwsError("ErrorInvalidPropertySet", "The UID of an item cannot be changed.");
      p.uid = uid;
      return;
    }
    case "IsResponseRequested":
      p.responseRequested = bool(el, "IsResponseRequested");
      return;
    case "AllowNewTimeProposal":
      p.allowNewTimeProposal = bool(el, "AllowNewTimeProposal");
      return;
    default:
      if (update && READ_ONLY.has(el.name)) throw new EwsError("ErrorInvalidPropertySet", `${el.name} is read-only.`);
    // Others (ItemClass, ConferenceType, When, MeetingWorkspaceUrl, ExtendedProperty...) are not kept in the event.
  }
}

/** The patch of a whole CreateItem t:CalendarItem. */
export function patchOfElement(el: XmlElement): Patch {
  const p: Patch = {};
  for (const k of el.children) readProperty(p, k, false);
  return p;
}

const DELETABLE: Record<string, (p: Patch) => void> = {
  "item:Subject": (p) => (p.subject = null),
  "item:Body": (p) => (p.body = null),
  "item:Sensitivity": (p) => (p.sensitivity = null),
  "item:Importance": (p) => (p.importance = null),
  "item:Categories": (p) => (p.categories = null),
  "item:ReminderIsSet": (p) => (p.reminderSet = false),
  "calendar:Location": (p) => (p.location = null),
  "calendar:LegacyFreeBusyStatus": (p) => (p.busy = null),
  "calendar:RequiredAttendees": (p) => (p.required = null),
  "calendar:OptionalAttendees": (p) => (p.optional = null),
  "calendar:Resources": (p) => (p.resources = null),
  "calendar:Recurrence": (p) => (p.recurrence = null),
  "calendar:StartTimeZone": () => undefined,
  "calendar:EndTimeZone": () => undefined,
  "calendar:MeetingTimeZone": () => undefined,
};

/** The patch of an UpdateItem's changes (Set/Append of calendar properties, Delete of the deletable ones). */
export function patchOfChanges(changes: PropertyChange[]): Patch {
  const p: Patch = {};
  for (const ch of changes) {
    if (ch.path.kind !== "field") throw new EwsError("ErrorInvalidPropertyRequest", "Only calendar item properties can be changed here.");
    const uri = ch.path.uri;
    if (ch.op === "delete") {
      const f = DELETABLE[uri];
      if (!f) throw new EwsError("ErrorInvalidPropertyDelete", `${uri} cannot be deleted.`);
      f(p);
      continue;
    }
    const name = uri.slice(uri.indexOf(":") + 1);
    const el = ch.value?.children.find((k) => k.name === name);
    if (!el) throw new EwsError("ErrorInvalidPropertySet", `The change of ${uri} carries no ${name}.`);
    if (ch.op === "append" && name !== "Body") throw new EwsError("ErrorInvalidPropertyAppend", `${uri} cannot be appended to.`);
    readProperty(p, el, true);
  }
  return p;
}
