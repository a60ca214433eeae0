/**
 * Meetings over EWS (MS-OXWSMTGS):
 *  - the meeting messages: a mail carrying an iMIP text/calendar part
 *    (RFC 6047) is shown as t:MeetingRequest (METHOD:REQUEST),
 *    t:MeetingResponse (REPLY) or t:MeetingCancellation (CANCEL), with the
 *    calendar item the iMIP processor filed as AssociatedCalendarItemId
 *    (the MeetingMessageRenderer of kinds.ts, called by the mail kind);
 *  - the response objects of CreateItem (MS-OXWSMTGS §3.1.4.1): AcceptItem,
 *    TentativelyAcceptItem and DeclineItem store the answer in the
 *    attendee's calendar copy and send the iMIP REPLY through the same
 *    engine as ActiveSync's MeetingResponse (src/groupware/scheduling/
 *    answer.ts); CancelCalendarItem (the organizer cancels: CANCEL to the
 *    attendees by the implicit scheduler) and RemoveItem (an attendee removes
 *    a cancelled meeting from the calendar, nothing sent).
 */
import ICAL from "ical.js";
import { findCalendarPart } from "../../../src/groupware/scheduling/imip.ts";
import { calendarForUid, parseItip } from "../../../src/groupware/scheduling/incoming.ts";
import { AnswerError, answerMeeting, type Partstat } from "../../../src/groupware/scheduling/answer.ts";
import { etagOf } from "../../../src/groupware/objects.ts";
import { spanOf } from "../../../src/groupware/ical/spans.ts";
import { layoutOf } from "../../../src/groupware/ical/expand.ts";
import { iOrganize, isMeeting, organizerOf } from "../eas/groupware/calendar-people.ts";
import { LEVEL, EwsError, type EwsContext } from "./context.ts";
import { itemIdXml, ownItemId, resolveDistinguished, type ItemRef } from "./ids.ts";
import { setMeetingMessageRenderer, type CreateOptions, type DeleteOptions, type KindItem } from "./kinds.ts";
import { collectionOf, groupwareError, itemsById, toKindItem, type CalData, type CalItem, type CalendarStoreItem } from "./calendar-store.ts";
import { attendeesXml, isoDuration, mailboxXml, myResponseType, responseTypeOf, wanter } from "./calendar-render.ts";
import { recurrenceXml } from "./calendar-recurrence.ts";
import { wallDate, contextZone, windowsId } from "./calendar-zone.ts";
import { eventZone, msOf } from "../eas/groupware/calendar-time.ts";
import type { ItemShape } from "./shape.ts";
import { attr, dateTime, kid, t, ta, tv, type XmlElement } from "./xml.ts";

/** The CreateItem elements the calendar kind hands here (Types.xsd NonEmptyArrayOfAllItemsType). */
export const MEETING_ELEMENTS: readonly string[] = ["AcceptItem", "TentativelyAcceptItem", "DeclineItem", "CancelCalendarItem", "RemoveItem"];

const PARTSTAT_OF: Record<string, Partstat> = { AcceptItem: "ACCEPTED", TentativelyAcceptItem: "TENTATIVE", DeclineItem: "DECLINED" };
/** Types.xsd ResponseCodeType: the organizer answering their own meeting. */
const ORGANIZER_CODE: Record<string, string> = { AcceptItem: "ErrorCalendarIsOrganizerForAccept", TentativelyAcceptItem: "ErrorCalendarIsOrganizerForTentative", DeclineItem: "ErrorCalendarIsOrganizerForDecline" };
const CANCELLED_CODE: Record<string, string> = { AcceptItem: "ErrorCalendarIsCancelledForAccept", TentativelyAcceptItem: "ErrorCalendarIsCancelledForTentative", DeclineItem: "ErrorCalendarIsCancelledForDecline" };
/** ItemClass of a meeting response by PARTSTAT (MS-OXOCAL §2.2.6). */
const RESPONSE_CLASS: Record<string, string> = { ACCEPTED: "IPM.Schedule.Meeting.Resp.Pos", TENTATIVE: "IPM.Schedule.Meeting.Resp.Tent", DECLINED: "IPM.Schedule.Meeting.Resp.Neg" };
const BUSY_OF_CDO: Record<string, string> = { FREE: "Free", TENTATIVE: "Tentative", BUSY: "Busy", OOF: "OOF", WORKINGELSEWHERE: "WorkingElsewhere" };

function str(comp: ICAL.Component, name: string): string {
  const v = comp.getFirstPropertyValue(name);
  return typeof v === "string" ? v : v === null || v === undefined ? "" : String(v);
}

async function ownAddresses(c: EwsContext): Promise<Set<string>> {
  const out = new Set((await c.store.sendAsAddresses(c.account.id)).map((a) => a.toLowerCase()));
  out.add(c.account.email.toLowerCase());
  return out;
}

/** The iTIP message of a mail of this account: method, UID and the event components. Null when the mail carries none. */
async function itipOfMail(c: EwsContext, ref: ItemRef): Promise<{ method: string; uid: string; root: ICAL.Component; mail: { folderId: number; uid: number } } | null> {
  const msg = await c.store.getMessageById(ref.id);
  if (!msg) throw new EwsError("ErrorItemNotFound", "The meeting message was not found.");
  const folder = await c.store.getFolderById(msg.folderId);
  if (!folder || folder.accountId !== c.account.id) throw new EwsError("ErrorItemNotFound", "The meeting message was not found.");
  const itip = itipOfRaw(await c.store.readMessage(msg.id));
  return itip && { ...itip, mail: { folderId: msg.folderId, uid: msg.uid } };
}

/** The iTIP method (upper case), the event's UID and the parsed calendar of a mail's text/calendar part; null without a readable VEVENT. */
function itipOfRaw(raw: Parameters<typeof findCalendarPart>[0]): { method: string; uid: string; root: ICAL.Component } | null {
  const part = findCalendarPart(raw);
  if (!part) return null;
  let parsed: ReturnType<typeof parseItip>;
  try {
    parsed = parseItip(part.bytes);
  } catch {
    return null;
  }
  const obj = parsed.objects.find((o) => o.kind === "VEVENT");
  if (!obj) return null;
  return { method: (part.method ?? parsed.method ?? "").toUpperCase(), uid: obj.uid, root: parsed.root };
}

/** The answered request leaves the Inbox for Deleted Items, as Exchange does; a failure leaves it (the answer is stored). */
async function toDeletedItems(c: EwsContext, mail: { folderId: number; uid: number }): Promise<void> {
  try {
    const trash = await resolveDistinguished(c, "deleteditems");
    if (trash.kind === "store" && trash.folder.id !== mail.folderId) await c.store.move(mail.folderId, [mail.uid], trash.folder.id);
  } catch (e) {
    c.log.info("ews: answered meeting message not moved", { err: e instanceof Error ? e.message : String(e) });
  }
}

async function calendarItemOf(c: EwsContext, ref: ItemRef): Promise<CalendarStoreItem> {
  const item = (await itemsById(c, [ref.id])).get(ref.id);
  if (!item) throw new EwsError("ErrorItemNotFound", "The calendar item was not found.");
  return item;
}

/** What the mail kind's remove does for CancelCalendarItem of one occurrence (the calendar kind passes its own). */
export type RemoveOccurrence = (c: EwsContext, it: CalItem, opts: DeleteOptions) => Promise<void>;

/** CreateItem of a response object (ReferenceItemId: the meeting message or the calendar item). */
export async function createMeetingResponse(c: EwsContext, el: XmlElement, opts: CreateOptions, removeOccurrence: RemoveOccurrence): Promise<KindItem<CalData> | null> {
  const refEl = kid(el, "ReferenceItemId");
  if (!refEl) throw new EwsError("ErrorInvalidRequest", `${el.name} needs a ReferenceItemId.`);
  const ref = ownItemId(c, attr(refEl, "Id"));
  const send = opts.disposition !== "SaveOnly";
  const bodyEl = kid(el, "Body");
  const comment = bodyEl ? bodyEl.text.slice(0, 2000) : undefined;
  if (el.name === "CancelCalendarItem") return cancelMeeting(c, ref, send, removeOccurrence);
  if (el.name === "RemoveItem") return removeCancelled(c, ref);
  const partstat = PARTSTAT_OF[el.name]!;
  let uid: string;
  let invitation: ICAL.Component | null = null;
  let mail: { folderId: number; uid: number } | null = null;
  let instance: number | null = null;
  let comp: ICAL.Component | null = null;
  if (ref.itemClass === "mail") {
    const itip = await itipOfMail(c, ref);
    if (!itip || itip.method !== "REQUEST") throw new EwsError("ErrorInvalidRequest", "The referenced message is not a meeting request.");
    uid = itip.uid;
    invitation = calendarForUid(itip.root, uid);
    mail = itip.mail;
    comp = invitation.getFirstSubcomponent("vevent");
  } else if (ref.itemClass === "calendar") {
    const item = await calendarItemOf(c, ref);
    uid = item.fields.uid;
    instance = ref.occurrence ?? null;
    const root = ICAL.Component.fromString(new TextDecoder().decode(await c.store.readItemBody(item.id)));
    comp = root.getAllSubcomponents("vevent").find((v) => !v.getFirstProperty("recurrence-id")) ?? root.getFirstSubcomponent("vevent");
  } else throw new EwsError("ErrorInvalidRequest", "The referenced item is not a meeting.");
  if (comp && (!isMeeting(comp) || iOrganize(comp, c.account))) throw new EwsError(ORGANIZER_CODE[el.name]!, "You organize this meeting; only attendees answer it.");
  if (comp && str(comp, "status").toUpperCase() === "CANCELLED") throw new EwsError(CANCELLED_CODE[el.name]!, "The meeting was cancelled.");
  let stored: Awaited<ReturnType<typeof answerMeeting>>;
  try {
    stored = await answerMeeting({ groupware: c.server.groupware, account: c.account, mine: await ownAddresses(c), uid, targets: [{ partstat, instance }], schedule: send, invitation, comment });
  } catch (e) {
    if (e instanceof AnswerError) throw new EwsError("ErrorInvalidRequest", e.message);
    throw groupwareError(e);
  }
  if (mail) await toDeletedItems(c, mail);
  c.log.debug("ews: meeting answered", { uid, partstat, sent: send });
  if (partstat === "DECLINED") return null;
  return toKindItem(c, stored.object.item as CalendarStoreItem);
}

/** CancelCalendarItem (MS-OXWSMTGS §3.1.4.1.1.x): the organizer cancels; the scheduler sends CANCEL to every attendee. */
async function cancelMeeting(c: EwsContext, ref: ItemRef, send: boolean, removeOccurrence: RemoveOccurrence): Promise<null> {
  if (ref.itemClass !== "calendar") throw new EwsError("ErrorInvalidRequest", "CancelCalendarItem names a calendar item.");
  const item = await calendarItemOf(c, ref);
  const root = ICAL.Component.fromString(new TextDecoder().decode(await c.store.readItemBody(item.id)));
  const comp = root.getAllSubcomponents("vevent").find((v) => !v.getFirstProperty("recurrence-id")) ?? root.getFirstSubcomponent("vevent");
  if (!comp || !isMeeting(comp) || !iOrganize(comp, c.account)) throw new EwsError("ErrorCalendarIsNotOrganizer", "Only the organizer cancels a meeting.");
  const cancellations = send ? "SendToAllAndSaveCopy" : "SendToNone";
  if (ref.occurrence !== undefined) {
    await removeOccurrence(c, toKindItem(c, item, { start: ref.occurrence, end: ref.occurrence, recurrenceId: ref.occurrence, allDay: false, transparent: false, status: "", overridden: false }), { disposal: "HardDelete", cancellations, affectedTaskOccurrences: null });
    return null;
  }
  const col = await collectionOf(c, item.folderId);
  try {
    // Deleting the organizer's copy with scheduling on is the CANCEL to every attendee (RFC 6638 §3.2.1.3).
    await c.server.groupware.deleteObject(col, item.resourceName ?? String(item.id), { ifMatch: etagOf(item), actor: c.account, schedule: send });
  } catch (e) {
    throw groupwareError(e);
  }
  return null;
}

/** RemoveItem (Types.xsd RemoveItemType): a cancelled meeting leaves the attendee's calendar; nothing is sent. */
async function removeCancelled(c: EwsContext, ref: ItemRef): Promise<null> {
  if (ref.itemClass !== "mail") throw new EwsError("ErrorInvalidRequest", "RemoveItem names a meeting cancellation.");
  const itip = await itipOfMail(c, ref);
  if (!itip || itip.method !== "CANCEL") throw new EwsError("ErrorInvalidRequest", "The referenced message is not a meeting cancellation.");
  const found = await c.server.groupware.findByUid(c.account, "calendar", itip.uid);
  if (found) {
    try {
      await c.server.groupware.deleteObject(found.collection, found.object.resourceName, { ifMatch: found.object.etag, schedule: false });
    } catch (e) {
      throw groupwareError(e);
    }
  }
  await toDeletedItems(c, itip.mail);
  return null;
}

// ------------------------------------------------------------ meeting messages

setMeetingMessageRenderer({
  async render(c, raw, base, shape, messageXml) {
    const itip = itipOfRaw(raw);
    if (!itip) return null;
    const method = itip.method;
    const root = calendarForUid(itip.root, itip.uid);
    const l = layoutOf(root, "vevent", null);
    const comp = l.master ?? root.getFirstSubcomponent("vevent");
    if (!comp) return null;
    let element: string;
    let itemClass: string;
    let responder: ICAL.Property | null = null;
    if (method === "REQUEST") {
      element = "MeetingRequest";
      itemClass = "IPM.Schedule.Meeting.Request";
    } else if (method === "REPLY") {
      element = "MeetingResponse";
      responder = comp.getFirstProperty("attendee");
      const ps = String(responder?.getParameter("partstat") ?? "").toUpperCase();
      itemClass = RESPONSE_CLASS[ps] ?? "IPM.Schedule.Meeting.Resp.Tent";
    } else if (method === "CANCEL") {
      element = "MeetingCancellation";
      itemClass = "IPM.Schedule.Meeting.Canceled";
    } else return null;
    const xml = await messageXml(element, await meetingFields(c, element, root, comp, itip.uid, responder, shape));
    // The message fields are the mail kind's; the class is the meeting's (MS-OXOCAL §2.2.6).
    return xml.replace("<t:ItemClass>IPM.Note</t:ItemClass>", `<t:ItemClass>${itemClass}</t:ItemClass>`);
  },
});

async function meetingFields(c: EwsContext, element: string, root: ICAL.Component, comp: ICAL.Component, uid: string, responder: ICAL.Property | null, shape: ItemShape): Promise<string> {
  const want = wanter(shape);
  const fieldWant = (...uris: string[]) => uris.some(want);
  const found = fieldWant("meeting:AssociatedCalendarItemId", "meeting:HasBeenProcessed", "meeting:ResponseType", "calendar:MyResponseType") ? await c.server.groupware.findByUid(c.account, "calendar", uid) : null;
  const assoc = found ? itemIdXml({ accountId: c.account.id, itemClass: "calendar", id: found.object.item.id }, found.object.item.modseq, "AssociatedCalendarItemId") : "";
  // My answer: as my calendar copy has it (after AcceptItem), else as the invitation says.
  let myComp = comp;
  if (found) {
    try {
      const own = ICAL.Component.fromString(new TextDecoder().decode(await c.server.groupware.readBody(found.object)));
      myComp = own.getAllSubcomponents("vevent").find((v) => !v.getFirstProperty("recurrence-id")) ?? own.getFirstSubcomponent("vevent") ?? comp;
    } catch {
      myComp = comp;
    }
  }
  const span = spanOf(comp, null);
  const zone = (() => {
    const z = eventZone(root, comp);
    return z.tzid && z.zone ? { tzid: z.tzid, zone: z.zone } : contextZone(c);
  })();
  const rid = comp.getFirstPropertyValue("recurrence-id");
  const stampV = comp.getFirstPropertyValue("dtstamp");
  const seq = Number(comp.getFirstPropertyValue("sequence") ?? 0) || 0;
  const org = organizerOf(comp);
  const mine = iOrganize(comp, c.account);
  const respType = responder ? responseTypeOf(String(responder.getParameter("partstat") ?? "")) : myResponseType(myComp, c.account);
  const common = [
    want("meeting:AssociatedCalendarItemId") && assoc,
    want("meeting:IsDelegated") && tv("IsDelegated", false),
    want("meeting:IsOutOfDate") && tv("IsOutOfDate", false),
    want("meeting:HasBeenProcessed") && tv("HasBeenProcessed", found !== null),
    want("meeting:ResponseType") && tv("ResponseType", respType),
    c.version.level >= LEVEL.Exchange2010 && want("calendar:UID") && tv("UID", uid),
    rid instanceof ICAL.Time && want("calendar:RecurrenceId") && tv("RecurrenceId", dateTime(msOf(rid))),
    stampV instanceof ICAL.Time && want("calendar:DateTimeStamp") && tv("DateTimeStamp", dateTime(msOf(stampV))),
    c.version.level >= LEVEL.Exchange2013 && want("meeting:IsOrganizer") && tv("IsOrganizer", mine),
  ];
  const start = span.start;
  const end = span.allDay && span.end <= span.start ? span.start + 86_400_000 : span.end;
  const times = [want("calendar:Start") && tv("Start", dateTime(start)), want("calendar:End") && tv("End", dateTime(end))];
  const rule = comp.getFirstPropertyValue("rrule");
  const recurrence = rule instanceof ICAL.Recur && want("calendar:Recurrence") ? (recurrenceXml(rule, start, span.allDay ? start : wallDate(start, zone), zone) ?? "") : "";
  const type = rid ? "Exception" : rule ? "RecurringMaster" : "Single";
  if (element === "MeetingRequest") {
    const people = attendeesXml(comp);
    const cdo = BUSY_OF_CDO[str(comp, "x-microsoft-cdo-busystatus").toUpperCase()] ?? (str(comp, "transp").toUpperCase() === "TRANSPARENT" ? "Free" : "Busy");
    return [
      ...common,
      want("meetingRequest:MeetingRequestType") && tv("MeetingRequestType", seq > 0 ? "FullUpdate" : "NewMeetingRequest"),
      want("meetingRequest:IntendedFreeBusyStatus") && tv("IntendedFreeBusyStatus", cdo),
      ...times,
      want("calendar:IsAllDayEvent") && tv("IsAllDayEvent", span.allDay),
      want("calendar:LegacyFreeBusyStatus") && tv("LegacyFreeBusyStatus", "Tentative"),
      want("calendar:Location") && tv("Location", str(comp, "location") || null),
      want("calendar:IsMeeting") && tv("IsMeeting", true),
      want("calendar:IsCancelled") && tv("IsCancelled", false),
      want("calendar:IsRecurring") && tv("IsRecurring", !!rule),
      want("calendar:MeetingRequestWasSent") && tv("MeetingRequestWasSent", false),
      want("calendar:CalendarItemType") && tv("CalendarItemType", type),
      want("calendar:MyResponseType") && tv("MyResponseType", myResponseType(myComp, c.account)),
      want("calendar:Organizer") && org && t("Organizer", mailboxXml(org.email, org.name)),
      want("calendar:RequiredAttendees") && people.required,
      want("calendar:OptionalAttendees") && people.optional,
      want("calendar:Resources") && people.resources,
      want("calendar:Duration") && tv("Duration", isoDuration(end - start)),
      want("calendar:AppointmentSequenceNumber") && tv("AppointmentSequenceNumber", seq),
      want("calendar:AppointmentState") && tv("AppointmentState", 3),
      recurrence,
      c.version.level >= LEVEL.Exchange2010 && want("calendar:StartTimeZone") && ta("StartTimeZone", { Id: windowsId(zone.tzid), Name: windowsId(zone.tzid) }),
      c.version.level >= LEVEL.Exchange2010 && want("calendar:EndTimeZone") && ta("EndTimeZone", { Id: windowsId(zone.tzid), Name: windowsId(zone.tzid) }),
    ]
      .filter(Boolean)
      .join("");
  }
  // MeetingResponse / MeetingCancellation: the times and place since Exchange 2013 (Types.xsd MeetingResponseMessageType).
  const extra2013 = c.version.level >= LEVEL.Exchange2013 ? [...times, want("calendar:Location") && tv("Location", str(comp, "location") || null), recurrence, want("calendar:CalendarItemType") && tv("CalendarItemType", type)] : [];
  return [...common, ...extra2013].filter(Boolean).join("");
}

