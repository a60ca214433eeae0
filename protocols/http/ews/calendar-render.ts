/**
 * A calendar item as `<t:CalendarItem>` (Types.xsd CalendarItemType after
 * ItemType, in schema order), from its iCalendar object: the master for a
 * series or single event, the instance (override or expanded master) for an
 * occurrence. Which properties appear follows the shape (Types.xsd
 * ItemResponseShapeType): IdOnly = the id and what AdditionalProperties
 * names; Default and AllProperties = the item's properties.
 */
import ICAL from "ical.js";
import type { Account } from "../../../storage/api.ts";
import { busyStatus, categoriesOf, reminderMinutes } from "../eas/groupware/calendar-fields.ts";
import { iOrganize, isMeeting, myAttendee, organizerOf, replyTime } from "../eas/groupware/calendar-people.ts";
import { eventZone, msOf } from "../eas/groupware/calendar-time.ts";
import { expandInstances } from "../../../src/groupware/ical/expand.ts";
import { spanOf } from "../../../src/groupware/ical/spans.ts";
import { stripMailto } from "../../../src/groupware/ical/parse.ts";
import { LEVEL, type EwsContext } from "./context.ts";
import { changeKey, folderIdOf, itemIdXml } from "./ids.ts";
import { componentOf, layout, parsedOf, refOf, type CalItem } from "./calendar-store.ts";
import { recurrenceXml } from "./calendar-recurrence.ts";
import { contextZone, wallDate, windowsId, zoneOfId, type ItemZone } from "./calendar-zone.ts";
import type { ItemShape } from "./shape.ts";
import { calendarComputed } from "./calendar-extended.ts";
import { readExtended } from "./extended.ts";
import { timeZoneDefinition } from "./misc-timezones.ts";
import { dateTime, esc, t, ta, tv } from "./xml.ts";

const DAY = 86_400_000;
const BUSY = ["Free", "Tentative", "Busy", "OOF", "WorkingElsewhere"];
/** Types.xsd ResponseTypeType for a PARTSTAT (RFC 5545 §3.2.12). */
const RESPONSE: Record<string, string> = { ACCEPTED: "Accept", TENTATIVE: "Tentative", DECLINED: "Decline", "NEEDS-ACTION": "NoResponseReceived" };
/** Occurrences walked to find a bounded series' last one (NumberedRecurrence allows 999). */
const MAX_WALK = 1000;

function str(comp: ICAL.Component, name: string): string {
  const v = comp.getFirstPropertyValue(name);
  return typeof v === "string" ? v : v === null || v === undefined ? "" : String(v);
}

function param(p: ICAL.Property, name: string): string {
  const v = p.getParameter(name);
  return typeof v === "string" ? v : Array.isArray(v) && typeof v[0] === "string" ? v[0] : "";
}

/** Types.xsd ResponseTypeType of a PARTSTAT. */
export function responseTypeOf(partstat: string): string {
  return RESPONSE[(partstat || "NEEDS-ACTION").toUpperCase()] ?? "Unknown";
}

/** `<t:Mailbox>` (Types.xsd EmailAddressType) for an address and display name. */
export function mailboxXml(email: string, name: string): string {
  return t("Mailbox", tv("Name", name || email), tv("EmailAddress", email), tv("RoutingType", "SMTP"), tv("MailboxType", "Mailbox"));
}

/** Types.xsd SensitivityChoicesType from CLASS. */
export function sensitivityOf(comp: ICAL.Component): string {
  const cls = str(comp, "class").toUpperCase();
  return cls === "PRIVATE" ? "Private" : cls === "CONFIDENTIAL" ? "Confidential" : cls === "X-PERSONAL" ? "Personal" : "Normal";
}

/** Types.xsd ImportanceChoicesType from PRIORITY (RFC 5545 §3.8.1.9: 1-4 high, 5 or none normal, 6-9 low). */
export function importanceOf(comp: ICAL.Component): string {
  const p = Number(comp.getFirstPropertyValue("priority") ?? 0);
  return p >= 1 && p <= 4 ? "High" : p >= 6 && p <= 9 ? "Low" : "Normal";
}

/** The attendee lists, split as EWS splits them (Types.xsd: RequiredAttendees, OptionalAttendees, Resources), the organizer left out. */
export function attendeesXml(comp: ICAL.Component): { required: string; optional: string; resources: string } {
  const org = organizerOf(comp)?.email ?? "";
  const lists = { required: [] as string[], optional: [] as string[], resources: [] as string[] };
  for (const p of comp.getAllProperties("attendee")) {
    const email = stripMailto(String(p.getFirstValue() ?? ""));
    if (!email || email === org) continue;
    const cutype = param(p, "cutype").toUpperCase();
    const role = param(p, "role").toUpperCase();
    const list = cutype === "RESOURCE" || cutype === "ROOM" ? lists.resources : role === "OPT-PARTICIPANT" || role === "NON-PARTICIPANT" ? lists.optional : lists.required;
    list.push(t("Attendee", mailboxXml(email, param(p, "cn")), tv("ResponseType", responseTypeOf(param(p, "partstat")))));
  }
  return {
    required: lists.required.length ? t("RequiredAttendees", ...lists.required) : "",
    optional: lists.optional.length ? t("OptionalAttendees", ...lists.optional) : "",
    resources: lists.resources.length ? t("Resources", ...lists.resources) : "",
  };
}

/** Types.xsd ResponseTypeType of the mailbox owner for an event. */
export function myResponseType(comp: ICAL.Component, account: Account): string {
  if (!isMeeting(comp) || iOrganize(comp, account)) return "Organizer";
  const me = myAttendee(comp, account);
  return me ? responseTypeOf(param(me, "partstat")) : "Unknown";
}

/** The body (DESCRIPTION; X-ALT-DESC with FMTTYPE=text/html when HTML is wanted and there is one). */
export function bodyXml(comp: ICAL.Component, shape: ItemShape, element = "Body"): string {
  const text = str(comp, "description");
  if (shape.bodyType !== "Text") {
    const alt = comp.getAllProperties("x-alt-desc").find((p) => param(p, "fmttype").toLowerCase() === "text/html");
    if (alt) return ta(element, { BodyType: "HTML" }, esc(String(alt.getFirstValue() ?? "")));
    if (shape.bodyType === "HTML") {
      const html = `<html><body>${text.split(/\r?\n/).map((l) => esc(l)).join("<br>")}</body></html>`;
      return ta(element, { BodyType: "HTML" }, esc(html));
    }
  }
  return ta(element, { BodyType: "Text" }, esc(text));
}

/** Which properties a shape returns: `want("calendar:Start")`. */
export function wanter(shape: ItemShape): (uri: string) => boolean {
  const extra = new Set(shape.additional.filter((p) => p.kind === "field").map((p) => (p as { uri: string }).uri));
  const all = shape.base !== "IdOnly";
  const list = shape.view === "list";
  // MS-OXWSSRCH: FindItem lists carry no body; their Default shape is Exchange's short list of a calendar item.
  if (list && shape.base === "Default") return (uri) => extra.has(uri) || LIST_DEFAULT.has(uri);
  return (uri) => extra.has(uri) || (all && !(list && uri === "item:Body"));
}

/** What FindItem's Default shape returns for a calendar item (Exchange's own list: id, subject, times, place, type, organizer). */
const LIST_DEFAULT = new Set([
  "item:ParentFolderId", "item:ItemClass", "item:Subject", "item:HasAttachments", "item:IsAssociated", "calendar:Start", "calendar:End",
  "calendar:IsAllDayEvent", "calendar:LegacyFreeBusyStatus", "calendar:Location", "calendar:CalendarItemType", "calendar:Organizer", "calendar:IsRecurring",
  "calendar:IsMeeting", "calendar:IsCancelled", "calendar:MyResponseType", "calendar:UID", "calendar:RecurrenceId",
]);

/** The zone an item's times are shown in: the event's own, else (all-day, floating, UTC) the request's TimeZoneContext. */
function shownZone(c: EwsContext, root: ICAL.Component, comp: ICAL.Component): ItemZone {
  const z = eventZone(root, comp);
  if (z.tzid && z.zone) return zoneOfId(z.tzid) ?? { tzid: z.tzid, zone: z.zone };
  return contextZone(c);
}

const zoneDefinitions = new Map<string, string>();

/**
 * StartTimeZone / EndTimeZone as Exchange writes them (Types.xsd
 * TimeZoneDefinitionType with Periods and Transitions, A's
 * misc-timezones.ts, the rules of the item's start year), remembered per
 * zone and year; the Id alone when the zone has no rules we can write.
 */
function timeZoneXml(name: string, z: ItemZone, year: number): string {
  const id = windowsId(z.tzid);
  const key = `${id}|${year}`;
  let def = zoneDefinitions.get(key);
  if (def === undefined) {
    try {
      def = timeZoneDefinition(id, year, true);
    } catch {
      def = "";
    }
    if (zoneDefinitions.size < 2000) zoneDefinitions.set(key, def);
  }
  if (!def.startsWith("<t:TimeZoneDefinition")) return ta(name, { Id: id, Name: id });
  return `<t:${name}${def.slice("<t:TimeZoneDefinition".length, -"</t:TimeZoneDefinition>".length)}</t:${name}>`;
}

/** Start/End of an all-day instance: DATE values are wall dates, shown as local midnight of the zone. */
function shownTime(ms: number, allDay: boolean, z: ItemZone): number {
  if (!allDay || !z.zone) return ms;
  const d = new Date(ms);
  const t0 = new ICAL.Time({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: 0, minute: 0, second: 0, isDate: false }, z.zone);
  return t0.toUnixTime() * 1000;
}

/** The whole `<t:CalendarItem>` element. */
export async function renderCalendarItem(c: EwsContext, it: CalItem, shape: ItemShape, element = "CalendarItem"): Promise<string> {
  const want = wanter(shape);
  const idEl = itemIdXml(it.ref, it.modseq);
  if (shape.base === "IdOnly" && !shape.additional.length && !shape.includeMimeContent) return t(element, idEl);
  if (!it.data.parsed && fromIndex(shape)) return indexedXml(c, it, shape, element);
  const obj = await parsedOf(c, it.data);
  const root = obj.root;
  const inst = it.data.instance;
  const comp = componentOf(obj, inst);
  const l = layout(obj);
  const master = l.master;
  const span = spanOf(comp, null);
  const allDay = span.allDay;
  const zone = shownZone(c, root, comp);
  const start = shownTime(inst ? inst.start : span.start, allDay, zone);
  let endRaw = inst ? inst.end : span.end;
  if (allDay && endRaw <= (inst ? inst.start : span.start)) endRaw = (inst ? inst.start : span.start) + DAY;
  const end = shownTime(endRaw, allDay, zone);
  const recurring = !!master && (!!master.getFirstProperty("rrule") || !!master.getFirstProperty("rdate"));
  const type = inst && inst.recurrenceId !== null ? (inst.overridden ? "Exception" : "Occurrence") : recurring ? "RecurringMaster" : "Single";
  const meeting = isMeeting(comp);
  const cancelled = str(comp, "status").toUpperCase() === "CANCELLED";
  const mine = iOrganize(comp, c.account);
  const org = organizerOf(comp);
  const orgName = (org ? org.name : c.account.settings.displayName) ?? "";
  const orgEmail = org ? org.email : c.account.email;
  const reminder = reminderMinutes(comp);
  const cats = categoriesOf(comp);
  const people = attendeesXml(comp);
  const stampV = comp.getFirstPropertyValue("dtstamp");
  const stamp = stampV instanceof ICAL.Time ? msOf(stampV) : it.data.item.modifiedAt;
  const createdV = comp.getFirstPropertyValue("created");
  const created = createdV instanceof ICAL.Time ? msOf(createdV) : it.data.item.modifiedAt;
  const rid = inst && inst.recurrenceId !== null ? inst.recurrenceId : null;
  const ridShown = rid !== null ? shownTime(rid, allDay, zone) : null;
  const busy = BUSY[busyStatus(comp, c.account)] ?? "Busy";
  const v2010 = c.version.level >= LEVEL.Exchange2010;
  const v2013 = c.version.level >= LEVEL.Exchange2013;
  const seq = Number(comp.getFirstPropertyValue("sequence") ?? 0) || 0;
  const reply = meeting && !mine ? replyTime(comp) : null;
  const duration = isoDuration(end - start);
  const folderXml = want("item:ParentFolderId") ? `<t:ParentFolderId Id="${folderIdOf(c.account.id, it.folderId)}" ChangeKey="${changeKey(it.modseq)}"/>` : "";

  // Recurrence, first/last, modified and deleted occurrences (masters only).
  let recurrence = "";
  let first = "";
  let last = "";
  let modified = "";
  let deleted = "";
  if (master && recurring && !inst) {
    const masterSpan = l.masterSpan ?? span;
    const rule = master.getFirstPropertyValue("rrule");
    if (want("calendar:Recurrence") && rule instanceof ICAL.Recur) {
      recurrence = recurrenceXml(rule, masterSpan.start, masterSpan.allDay ? masterSpan.start : wallDate(masterSpan.start, zone), zone) ?? "";
    }
    const occXml = (name: string, i: { start: number; end: number; recurrenceId: number | null }) =>
      t(name, itemIdXml(refOf(c, it.data.item, i.recurrenceId ?? undefined), it.modseq), tv("Start", dateTime(shownTime(i.start, allDay, zone))), tv("End", dateTime(shownTime(i.end > i.start || !allDay ? i.end : i.start + DAY, allDay, zone))), tv("OriginalStart", dateTime(shownTime(i.recurrenceId ?? i.start, allDay, zone))));
    if (want("calendar:FirstOccurrence") || want("calendar:LastOccurrence")) {
      let list: ReturnType<typeof expandInstances> = [];
      try {
        list = expandInstances(obj, { start: masterSpan.start - 400 * DAY, end: Date.UTC(9999, 0, 1) }, { maxInstances: MAX_WALK });
      } catch {
        list = [];
      }
      const bounded = !!(rule instanceof ICAL.Recur && (rule.count || rule.until)) && list.length < MAX_WALK;
      if (list[0] && want("calendar:FirstOccurrence")) first = occXml("FirstOccurrence", list[0]);
      const lastI = list[list.length - 1];
      if (bounded && lastI && want("calendar:LastOccurrence")) last = occXml("LastOccurrence", lastI);
    }
    if (want("calendar:ModifiedOccurrences") && l.overrides.size) {
      const occ = [...l.overrides.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([r, o]) => {
          const s = spanOf(o.comp, null);
          return occXml("Occurrence", { start: s.start, end: s.end, recurrenceId: r });
        });
      modified = t("ModifiedOccurrences", ...occ);
    }
    if (want("calendar:DeletedOccurrences") && l.exdates.size) {
      deleted = t("DeletedOccurrences", ...[...l.exdates].sort((a, b) => a - b).map((x) => t("DeletedOccurrence", tv("Start", dateTime(shownTime(x, allDay, zone))))));
    }
  }

  const extended = await readExtended(c, { itemId: it.data.item.id }, shape.additional, calendarComputed(it));
  const mime = shape.includeMimeContent ? ta("MimeContent", { CharacterSet: "UTF-8" }, Buffer.from(await c.store.readItemBody(it.data.item.id)).toString("base64")) : "";
  return t(
    element,
    mime,
    idEl,
    folderXml,
    want("item:ItemClass") && tv("ItemClass", "IPM.Appointment"),
    want("item:Subject") && tv("Subject", str(comp, "summary")),
    want("item:Sensitivity") && tv("Sensitivity", sensitivityOf(comp)),
    want("item:Body") && bodyXml(comp, shape),
    want("item:DateTimeReceived") && tv("DateTimeReceived", dateTime(created)),
    want("item:Size") && tv("Size", it.data.item.size),
    want("item:Categories") && cats.length > 0 && t("Categories", ...cats.map((x) => tv("String", x))),
    want("item:Importance") && tv("Importance", importanceOf(comp)),
    want("item:IsSubmitted") && tv("IsSubmitted", false),
    want("item:IsDraft") && tv("IsDraft", false),
    want("item:IsFromMe") && tv("IsFromMe", false),
    want("item:IsResend") && tv("IsResend", false),
    want("item:IsUnmodified") && tv("IsUnmodified", false),
    want("item:DateTimeSent") && tv("DateTimeSent", dateTime(created)),
    want("item:DateTimeCreated") && tv("DateTimeCreated", dateTime(created)),
    want("item:ReminderDueBy") && reminder !== null && tv("ReminderDueBy", dateTime(start)),
    want("item:ReminderIsSet") && tv("ReminderIsSet", reminder !== null),
    want("item:ReminderMinutesBeforeStart") && tv("ReminderMinutesBeforeStart", reminder ?? 15),
    want("item:DisplayCc") && tv("DisplayCc", ""),
    want("item:DisplayTo") && tv("DisplayTo", ""),
    want("item:HasAttachments") && tv("HasAttachments", comp.getAllProperties("attach").length > 0),
    extended,
    want("item:Culture") && tv("Culture", "en-US"),
    want("item:LastModifiedTime") && tv("LastModifiedTime", dateTime(it.data.item.modifiedAt)),
    want("item:IsAssociated") && tv("IsAssociated", false),
    v2010 && want("calendar:UID") && tv("UID", obj.uid),
    ridShown !== null && want("calendar:RecurrenceId") && tv("RecurrenceId", dateTime(ridShown)),
    want("calendar:DateTimeStamp") && tv("DateTimeStamp", dateTime(stamp)),
    want("calendar:Start") && tv("Start", dateTime(start)),
    want("calendar:End") && tv("End", dateTime(end)),
    ridShown !== null && want("calendar:OriginalStart") && tv("OriginalStart", dateTime(ridShown)),
    want("calendar:IsAllDayEvent") && tv("IsAllDayEvent", allDay),
    want("calendar:LegacyFreeBusyStatus") && tv("LegacyFreeBusyStatus", busy === "WorkingElsewhere" && !v2013 ? "Busy" : busy),
    want("calendar:Location") && tv("Location", str(comp, "location") || null),
    want("calendar:IsMeeting") && tv("IsMeeting", meeting),
    want("calendar:IsCancelled") && tv("IsCancelled", cancelled),
    want("calendar:IsRecurring") && tv("IsRecurring", recurring),
    want("calendar:MeetingRequestWasSent") && tv("MeetingRequestWasSent", meeting && mine),
    want("calendar:IsResponseRequested") && tv("IsResponseRequested", meeting),
    want("calendar:CalendarItemType") && tv("CalendarItemType", type),
    want("calendar:MyResponseType") && tv("MyResponseType", myResponseType(comp, c.account)),
    want("calendar:Organizer") && (meeting || org) && t("Organizer", mailboxXml(orgEmail, orgName)),
    want("calendar:RequiredAttendees") && people.required,
    want("calendar:OptionalAttendees") && people.optional,
    want("calendar:Resources") && people.resources,
    want("calendar:ConflictingMeetingCount") && shape.base === "AllProperties" && tv("ConflictingMeetingCount", 0),
    want("calendar:AdjacentMeetingCount") && shape.base === "AllProperties" && tv("AdjacentMeetingCount", 0),
    want("calendar:Duration") && tv("Duration", duration),
    want("calendar:AppointmentReplyTime") && reply !== null && tv("AppointmentReplyTime", dateTime(reply)),
    want("calendar:AppointmentSequenceNumber") && tv("AppointmentSequenceNumber", seq),
    // Types.xsd AppointmentState: 1 meeting, 2 received (I am not the organizer), 4 cancelled.
    want("calendar:AppointmentState") && tv("AppointmentState", (meeting ? 1 : 0) | (meeting && !mine ? 2 : 0) | (cancelled ? 4 : 0)),
    recurrence,
    first,
    last,
    modified,
    deleted,
    !v2010 && want("calendar:MeetingTimeZone") && ta("MeetingTimeZone", { TimeZoneName: windowsId(zone.tzid) }),
    v2010 && want("calendar:StartTimeZone") && timeZoneXml("StartTimeZone", zone, new Date(start).getUTCFullYear()),
    v2010 && want("calendar:EndTimeZone") && timeZoneXml("EndTimeZone", endZone(comp) ?? zone, new Date(end).getUTCFullYear()),
    want("calendar:ConferenceType") && tv("ConferenceType", 0),
    want("calendar:AllowNewTimeProposal") && tv("AllowNewTimeProposal", str(comp, "x-microsoft-disallow-counter").toUpperCase() !== "TRUE"),
    want("calendar:IsOnlineMeeting") && tv("IsOnlineMeeting", false),
  );
}

/** The zone DTEND is written in, when it names its own. */
function endZone(comp: ICAL.Component): ItemZone | null {
  const tzid = comp.getFirstProperty("dtend")?.getParameter("tzid");
  return typeof tzid === "string" && tzid ? zoneOfId(tzid) : null;
}

/** Properties the store's index row answers without reading the event (storage/item-api.ts CalendarFields). */
const INDEXED = new Set(["item:Subject", "item:ItemClass", "item:Size", "item:LastModifiedTime", "calendar:Start", "calendar:End", "calendar:Location", "calendar:UID", "calendar:IsRecurring", "calendar:IsAllDayEvent", "calendar:IsCancelled", "calendar:CalendarItemType"]);

/** An IdOnly shape asking only for indexed properties (what a client's list of events asks): no body read per item. */
function fromIndex(shape: ItemShape): boolean {
  return shape.base === "IdOnly" && !shape.includeMimeContent && shape.additional.every((p) => p.kind === "field" && INDEXED.has(p.uri));
}

function indexedXml(c: EwsContext, it: CalItem, shape: ItemShape, element: string): string {
  const want = wanter(shape);
  const f = it.data.item.fields;
  const inst = it.data.instance;
  const zone = contextZone(c);
  const allDay = f.allDay;
  const start = shownTime(inst ? inst.start : f.dtStart, allDay, zone);
  const rawEnd = inst ? inst.end : f.dtEnd;
  const end = shownTime(allDay && rawEnd <= (inst ? inst.start : f.dtStart) ? (inst ? inst.start : f.dtStart) + DAY : rawEnd, allDay, zone);
  const type = inst && inst.recurrenceId !== null ? (inst.overridden ? "Exception" : "Occurrence") : f.isRecurring ? "RecurringMaster" : "Single";
  return t(
    element,
    itemIdXml(it.ref, it.modseq),
    want("item:ItemClass") && tv("ItemClass", "IPM.Appointment"),
    want("item:Subject") && tv("Subject", f.summary),
    want("item:Size") && tv("Size", it.data.item.size),
    want("item:LastModifiedTime") && tv("LastModifiedTime", dateTime(it.data.item.modifiedAt)),
    c.version.level >= LEVEL.Exchange2010 && want("calendar:UID") && tv("UID", f.uid),
    want("calendar:Start") && tv("Start", dateTime(start)),
    want("calendar:End") && tv("End", dateTime(end)),
    want("calendar:IsAllDayEvent") && tv("IsAllDayEvent", allDay),
    want("calendar:Location") && tv("Location", f.location || null),
    want("calendar:IsCancelled") && tv("IsCancelled", (f.status ?? "").toUpperCase() === "CANCELLED"),
    want("calendar:IsRecurring") && tv("IsRecurring", f.isRecurring),
    want("calendar:CalendarItemType") && tv("CalendarItemType", type),
  );
}

/** xs:duration of a span ("PT1H30M", "P1D"). */
export function isoDuration(ms: number): string {
  let s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const mi = Math.floor(s / 60);
  s -= mi * 60;
  const time = `${h ? `${h}H` : ""}${mi ? `${mi}M` : ""}${s ? `${s}S` : ""}`;
  return `P${d ? `${d}D` : ""}${time ? `T${time}` : d ? "" : "T0S"}`;
}

