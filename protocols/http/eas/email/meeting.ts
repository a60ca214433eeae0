/**
 * Meeting messages in the Email class (MS-ASEMAIL): a mail whose
 * text/calendar part is an iTIP message (RFC 5546 over iMIP, RFC 6047) gets
 * the MessageClass of a meeting message (MS-ASEMAIL §2.2.2.49) and, for an
 * invitation or a cancellation, the Email:MeetingRequest element
 * (MS-ASEMAIL §2.2.2.48) from which a phone shows Accept / Tentative /
 * Decline and answers with MeetingResponse (../commands/meetingresponse.ts).
 *
 * Pure functions over the stored message (its MIME index and raw bytes): the
 * calendar part is looked for in the index first, so ordinary mail costs one
 * walk over its part tree and no parsing.
 */
import ICAL from "ical.js";
import type { MimePart } from "../../../../storage/api.ts";
import { formatAddress } from "../../../../mail/address.ts";
import { partContent } from "../../../../mail/text.ts";
import { parseItip } from "../../../../src/groupware/scheduling/incoming.ts";
import { attendeesOfComponent, calAddress, instanceKey, schedulingComponents } from "../../../../src/groupware/scheduling/itip.ts";
import { spanOf, timeProp } from "../../../../src/groupware/ical/spans.ts";
import { timeToMs } from "../../../../src/groupware/ical/zones.ts";
import { encodeTimezone } from "../groupware/timezone.ts";
import { recurrenceToEas } from "../groupware/recurrence.ts";
import { el, isElement, type WElement, type WNode } from "../wbxml/tree.ts";

/** MS-ASEMAIL §2.2.2.49 MessageClass values of meeting messages. */
export const MeetingClass = {
  Request: "IPM.Schedule.Meeting.Request",
  Canceled: "IPM.Schedule.Meeting.Canceled",
  Accepted: "IPM.Schedule.Meeting.Resp.Pos",
  Declined: "IPM.Schedule.Meeting.Resp.Neg",
  Tentative: "IPM.Schedule.Meeting.Resp.Tent",
} as const;

/** MS-ASEMAIL ContentClass of meeting messages (§2.2.2.21). */
export const MEETING_CONTENT_CLASS = "urn:content-classes:calendarmessage";

/** MS-ASDTYPE §2.3 date-time (the Email namespace's form): YYYY-MM-DDTHH:MM:SS.MSSZ. */
function easDate(ms: number): string {
  return new Date(ms).toISOString();
}

/** The largest calendar part looked at (the iCalendar parser's own limit is 1 MiB). */
const MAX_PART_BYTES = 1024 * 1024;

export interface MeetingMessage {
  /** METHOD of the iTIP message, upper case. */
  method: "REQUEST" | "CANCEL" | "REPLY" | "COUNTER";
  messageClass: string;
  /** Email:MeetingRequest for REQUEST and CANCEL; null for responses. */
  element: WElement | null;
  uid: string;
}

/** The iCalendar part of a stored message from its MIME index (RFC 6047 §2.4): text/calendar with a method first, then any calendar part. */
export function calendarPartOf(root: MimePart): MimePart | null {
  const found: MimePart[] = [];
  const walk = (p: MimePart, depth: number) => {
    if (depth > 20 || found.length > 20) return;
    // A forwarded invitation (message/rfc822) is not addressed to this user: not looked into.
    if (p.parts) for (const c of p.parts) walk(c, depth + 1);
    else if ((p.type === "text" && (p.subtype === "calendar" || p.subtype === "x-vcalendar")) || (p.type === "application" && p.subtype === "ics")) found.push(p);
  };
  walk(root, 0);
  return found.find((p) => p.subtype === "calendar" && p.params.method) ?? found.find((p) => p.subtype === "calendar") ?? found[0] ?? null;
}

/** MessageClass of a REPLY from its one attendee's PARTSTAT (MS-ASEMAIL §2.2.2.49). */
export function replyClass(partstat: string): string {
  switch (partstat.toUpperCase()) {
    case "ACCEPTED":
      return MeetingClass.Accepted;
    case "DECLINED":
      return MeetingClass.Declined;
    default:
      return MeetingClass.Tentative;
  }
}

/**
 * The meeting view of a message, or null when it has no usable iTIP part
 * (none, too large, malformed, a method phones have no class for). Never
 * throws: a broken invitation is shown as the plain mail it also is.
 */
export function meetingMessage(root: MimePart, raw: Uint8Array, version: number): MeetingMessage | null {
  const part = calendarPartOf(root);
  if (!part || part.bodyEnd - part.bodyStart > MAX_PART_BYTES * 2) return null;
  try {
    const bytes = partContent(raw, part, MAX_PART_BYTES * 2);
    if (bytes.length > MAX_PART_BYTES) return null;
    return meetingFromCalendar(bytes, version);
  } catch {
    return null;
  }
}

/** meetingMessage for the bytes of an iTIP object. Throws for malformed iCalendar (callers catch). */
export function meetingFromCalendar(bytes: Uint8Array, version: number): MeetingMessage | null {
  const parsed = parseItip(bytes);
  const method = parsed.method.toUpperCase();
  const obj = parsed.objects[0];
  if (!obj || obj.kind !== "VEVENT") return null;
  const comps = schedulingComponents(parsed.root).filter((c) => c.name === "vevent" && String(c.getFirstPropertyValue("uid") ?? "") === obj.uid);
  if (!comps.length) return null;
  const master = comps.find((c) => instanceKey(c) === "");
  const main = master ?? comps[0]!;
  switch (method) {
    case "REQUEST":
      return { method, messageClass: MeetingClass.Request, element: meetingRequestElement(parsed.root, main, !master, method, obj.sequence, version), uid: obj.uid };
    case "CANCEL":
      return { method, messageClass: MeetingClass.Canceled, element: meetingRequestElement(parsed.root, main, !master, method, obj.sequence, version), uid: obj.uid };
    case "REPLY":
    case "COUNTER": {
      // RFC 5546 §3.2.3: a REPLY names the one attendee answering; COUNTER (§3.2.7) is a proposal, shown as tentative.
      const line = [...attendeesOfComponent(main).values()][0];
      return { method, messageClass: method === "COUNTER" ? MeetingClass.Tentative : replyClass(line?.partstat ?? ""), element: null, uid: obj.uid };
    }
    default:
      return null;
  }
}

// ------------------------------------------------------------------ MeetingRequest

/** MS-ASEMAIL §2.2.2.71 Sensitivity from CLASS (RFC 5545 §3.8.1.3). */
function sensitivity(comp: ICAL.Component): number {
  const v = String(comp.getFirstPropertyValue("class") ?? "").toUpperCase();
  return v === "PRIVATE" ? 2 : v === "CONFIDENTIAL" ? 3 : 0;
}

const INTENDED: Record<string, number> = { FREE: 0, TENTATIVE: 1, BUSY: 2, OOF: 3, WORKINGELSEWHERE: 4 };

/** MS-ASEMAIL §2.2.2.14 BusyStatus: 0 free ... 4 working elsewhere; Outlook's intended status when it sent one, TRANSP otherwise. */
function busyStatus(comp: ICAL.Component, method: string): number {
  if (method === "CANCEL") return 0;
  const intended = String(comp.getFirstPropertyValue("x-microsoft-cdo-intendedstatus") ?? "").toUpperCase();
  if (intended in INTENDED) return INTENDED[intended]!;
  return String(comp.getFirstPropertyValue("transp") ?? "").toUpperCase() === "TRANSPARENT" ? 0 : 2;
}

/** MS-ASEMAIL §2.2.2.63 Reminder: seconds before the start, from the first VALARM with a relative TRIGGER before the start. */
function reminderSeconds(comp: ICAL.Component): number | null {
  for (const alarm of comp.getAllSubcomponents("valarm")) {
    const trig = alarm.getFirstProperty("trigger");
    if (!trig) continue;
    const related = String(trig.getFirstParameter("related") ?? "START").toUpperCase();
    let v: unknown;
    try {
      v = trig.getFirstValue();
    } catch {
      continue;
    }
    if (related !== "START" || !(v instanceof ICAL.Duration)) continue;
    const s = -v.toSeconds();
    if (s >= 0 && s <= 366 * 86_400) return s;
  }
  return null;
}

/** The organizer as an address line: "CN" <address>. */
function organizerLine(comp: ICAL.Component): string | null {
  const p = comp.getFirstProperty("organizer");
  if (!p) return null;
  const address = calAddress(p.getFirstValue());
  if (!address) return null;
  const cn = p.getFirstParameter("cn");
  return formatAddress({ name: typeof cn === "string" ? cn : "", address }, { display: true });
}

/** The VTIMEZONE text of `tzid` in the message, or null. */
function vtimezoneText(root: ICAL.Component, tzid: string): string | null {
  const z = root.getAllSubcomponents("vtimezone").find((t) => t.getFirstPropertyValue("tzid") === tzid);
  return z ? z.toString() : null;
}

/** The first bytes of every Outlook Global Object ID (MS-OXOCAL §2.2.1.27 PidLidGlobalObjectId). */
const GOID_CLASS = Uint8Array.from([0x04, 0x00, 0x00, 0x00, 0x82, 0x00, 0xe0, 0x00, 0x74, 0xc5, 0xb7, 0x10, 0x1a, 0x82, 0xe0, 0x08]);
const GOID_HEADER = 16 + 4 + 8 + 8 + 4;
const MAX_UID_BYTES = 4096;

/**
 * MS-ASEMAIL §2.2.2.37 GlobalObjId: base64 of the Global Object ID of the
 * meeting. A UID that is itself the hex of an Outlook id (Outlook and
 * Exchange send those) is that id; any other UID is wrapped as a "vCal-Uid"
 * id. `instance` (the RECURRENCE-ID's date) fills the instance date of an
 * id for one occurrence. The creation-time field stays zero, so the same
 * UID always gives the same id.
 */
export function globalObjId(uid: string, instance: { year: number; month: number; day: number } | null = null): string {
  let id: Uint8Array;
  const hex = uid.trim();
  if (/^[0-9a-f]+$/i.test(hex) && hex.length % 2 === 0 && hex.length >= GOID_HEADER * 2 && hex.length <= MAX_UID_BYTES * 2 && hex.slice(0, 32).toUpperCase() === Buffer.from(GOID_CLASS).toString("hex").toUpperCase()) {
    id = new Uint8Array(Buffer.from(hex, "hex"));
  } else {
    const u = new TextEncoder().encode(uid).subarray(0, MAX_UID_BYTES);
    const data = new Uint8Array(8 + 4 + u.length + 1);
    data.set(new TextEncoder().encode("vCal-Uid"), 0);
    data.set([0x01, 0x00, 0x00, 0x00], 8);
    data.set(u, 12);
    id = new Uint8Array(GOID_HEADER + data.length);
    id.set(GOID_CLASS, 0);
    new DataView(id.buffer).setUint32(36, data.length, true);
    id.set(data, GOID_HEADER);
  }
  if (instance) {
    id[16] = (instance.year >> 8) & 0xff;
    id[17] = instance.year & 0xff;
    id[18] = instance.month;
    id[19] = instance.day;
  }
  return Buffer.from(id).toString("base64");
}

/** A Calendar-namespace Recurrence (../groupware/recurrence.ts) in the Email namespaces (MS-ASEMAIL §2.2.2.62): Until as an extended date-time, the 14.0+ fields in Email2. */
function emailRecurrence(rec: WElement): WElement {
  const kidsOut: WElement[] = [];
  for (const k of rec.children) {
    if (!isElement(k)) continue;
    const txt = k.children.filter((c): c is string => typeof c === "string").join("");
    if (k.name === "CalendarType" || k.name === "IsLeapMonth" || k.name === "FirstDayOfWeek") kidsOut.push(el(`Email2:${k.name}`, txt));
    else if (k.name === "Until") kidsOut.push(el("Email:Until", compactToExtended(txt)));
    else kidsOut.push({ ns: "Email", name: k.name, children: k.children as WNode[] });
  }
  return el("Email:Recurrence", kidsOut);
}

/** "20261231T235959Z" -> "2026-12-31T23:59:59.000Z" (MS-ASDTYPE §2.3); anything else as it is. */
function compactToExtended(s: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s.trim());
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.000Z` : s;
}

/**
 * MS-ASEMAIL §2.2.2.48 MeetingRequest for an invitation or cancellation.
 * `main` is the master (or, for a message about one occurrence only, that
 * occurrence). Version differences: DisallowNewTimeProposal 14.0+,
 * MeetingMessageType (Email2) 14.1+; 16.x has airsyncbase:Location and
 * calendar:UID where 12.1–14.1 have Email:Location and GlobalObjId.
 */
function meetingRequestElement(root: ICAL.Component, main: ICAL.Component, occurrenceOnly: boolean, method: string, sequence: number, version: number): WElement {
  const start = timeProp(main, "dtstart");
  // RFC 5546 §3.2.5: a CANCEL may leave the times out (Outlook and Google do): StartTime/EndTime are optional then.
  const span = start ? spanOf(main, null) : null;
  // The zone is the DTSTART's TZID parameter (RFC 5545 §3.2.19); UTC, floating and all-day times get the UTC blob.
  const tzParam = start && !start.isDate ? main.getFirstProperty("dtstart")?.getFirstParameter("tzid") : undefined;
  const zoneId = typeof tzParam === "string" && tzParam ? tzParam : null;
  const stamp = timeProp(main, "dtstamp");
  const stampMs = stamp ? timeToMs(stamp, null) : span ? span.start : 0;
  const year = new Date(span ? span.start : stampMs).getUTCFullYear();
  const uid = String(main.getFirstPropertyValue("uid") ?? "");
  const location = String(main.getFirstPropertyValue("location") ?? "");
  const organizer = organizerLine(main);
  const rid = occurrenceOnly ? timeProp(main, "recurrence-id") : null;
  const ridMs = rid ? timeToMs(rid, null) : null;
  const reminder = reminderSeconds(main);
  // ResponseRequested: RSVP=FALSE on every attendee line means no answer is wanted (RFC 5545 §3.2.17); a cancellation wants none.
  const attendees = main.getAllProperties("attendee");
  const rsvpFalse = attendees.length > 0 && attendees.every((p) => String(p.getFirstParameter("rsvp") ?? "").toUpperCase() === "FALSE");
  let recurrence: WElement | null = null;
  const rrule = !occurrenceOnly ? main.getFirstPropertyValue("rrule") : null;
  if (rrule instanceof ICAL.Recur && start) {
    const r = recurrenceToEas(rrule, start, "Calendar", version);
    if (r) recurrence = el("Email:Recurrences", emailRecurrence(r));
  }
  // MS-ASEMAIL §2.2.2.39 InstanceType: 0 single, 1 recurring master, 2 one occurrence, 3 an exception (moved occurrence).
  let instanceType = 0;
  if (recurrence || main.hasProperty("rrule") || main.hasProperty("rdate")) instanceType = 1;
  if (rid && ridMs !== null) instanceType = !span || ridMs === span.start ? 2 : 3;
  const disallow = String(main.getFirstPropertyValue("x-microsoft-disallow-counter") ?? "").toUpperCase() === "TRUE";
  // MS-ASEMAIL §2.2.2.47 MeetingMessageType: 1 first invitation, 2 full update (a SEQUENCE raised), 0 otherwise (a cancellation).
  const messageType = method === "REQUEST" ? (sequence > 0 ? 2 : 1) : 0;
  let timezone = "";
  try {
    timezone = encodeTimezone(zoneId, zoneId ? vtimezoneText(root, zoneId) : null, year);
  } catch {
    timezone = encodeTimezone(null, null, year);
  }
  return el(
    "Email:MeetingRequest",
    span && el("Email:AllDayEvent", span.allDay ? "1" : "0"),
    span && el("Email:StartTime", easDate(span.start)),
    el("Email:DtStamp", easDate(stampMs)),
    span && el("Email:EndTime", easDate(span.end)),
    el("Email:InstanceType", instanceType),
    location && (version >= 160 ? el("AirSyncBase:Location", el("AirSyncBase:DisplayName", location)) : el("Email:Location", location)),
    organizer && el("Email:Organizer", organizer),
    ridMs !== null && el("Email:RecurrenceId", easDate(ridMs)),
    reminder !== null && el("Email:Reminder", reminder),
    el("Email:ResponseRequested", method === "REQUEST" && !rsvpFalse ? "1" : "0"),
    recurrence,
    el("Email:Sensitivity", sensitivity(main)),
    el("Email:BusyStatus", busyStatus(main, method)),
    el("Email:TimeZone", timezone),
    version < 160 && el("Email:GlobalObjId", globalObjId(uid, rid ? { year: rid.year, month: rid.month, day: rid.day } : null)),
    version >= 160 && el("Calendar:UID", uid),
    version >= 140 && el("Email:DisallowNewTimeProposal", disallow ? "1" : "0"),
    version >= 141 && el("Email2:MeetingMessageType", messageType),
  );
}
