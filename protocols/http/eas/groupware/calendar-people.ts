/**
 * Organizer, attendees and "my" answer of an event, both ways
 * (MS-ASCAL §2.2.2.3 Attendee, §2.2.2.4 AttendeeStatus, §2.2.2.5
 * AttendeeType, §2.2.2.29 MeetingStatus, §2.2.2.34/35 OrganizerEmail/Name,
 * §2.2.2.40 ResponseType) <-> ORGANIZER / ATTENDEE with PARTSTAT, ROLE,
 * CUTYPE (RFC 5545 §3.8.4.1, §3.8.4.3, §3.2.12, §3.2.16, §3.2.3).
 *
 * Exported for the meetings helper (meeting requests in the Inbox render
 * the same organizer/attendee elements).
 */
import ICAL from "ical.js";
import type { Account } from "../../../../storage/api.ts";
import { MAX_ATTENDEES } from "../../../../src/groupware/ical/errors.ts";
import { EasDataError } from "./codec.ts";
import { el, kids, kidText, type WElement } from "../wbxml/tree.ts";

function addr(v: unknown): string {
  return typeof v === "string" ? v.trim().replace(/^mailto:/i, "").trim().toLowerCase() : "";
}

function param(p: ICAL.Property, name: string): string {
  const v = p.getParameter(name);
  return typeof v === "string" ? v : Array.isArray(v) && typeof v[0] === "string" ? v[0] : "";
}

export function isMe(account: Account, address: string): boolean {
  return address !== "" && address === account.email.toLowerCase();
}

/** The organizer's address (lower case, mailto: stripped) and CN, or null. */
export function organizerOf(comp: ICAL.Component): { email: string; name: string } | null {
  const p = comp.getFirstProperty("organizer");
  if (!p) return null;
  const email = addr(p.getFirstValue());
  return email ? { email, name: param(p, "cn") } : null;
}

/** My ATTENDEE property, if I am invited. */
export function myAttendee(comp: ICAL.Component, account: Account): ICAL.Property | null {
  for (const p of comp.getAllProperties("attendee")) if (isMe(account, addr(p.getFirstValue()))) return p;
  return null;
}

/** True when the event is a meeting (it has attendees other than the organizer alone). */
export function isMeeting(comp: ICAL.Component): boolean {
  return comp.getAllProperties("attendee").length > 0;
}

/** I organize it: the ORGANIZER is me, or a meeting has no ORGANIZER (made here). */
export function iOrganize(comp: ICAL.Component, account: Account): boolean {
  const o = organizerOf(comp);
  return o ? isMe(account, o.email) : true;
}

/** MS-ASCAL §2.2.2.29: 0 appointment, 1 my meeting, 3 a meeting I was invited to; +4 when cancelled (5, 7). */
export function meetingStatus(comp: ICAL.Component, account: Account, cancelledOverride?: boolean): number {
  if (!isMeeting(comp)) return 0;
  const cancelled = cancelledOverride ?? String(comp.getFirstPropertyValue("status") ?? "").toUpperCase() === "CANCELLED";
  const base = iOrganize(comp, account) ? 1 : 3;
  return cancelled ? base + 4 : base;
}

const STATUS_OF_PARTSTAT: Record<string, number> = { ACCEPTED: 3, TENTATIVE: 2, DECLINED: 4, "NEEDS-ACTION": 5 };

/** MS-ASCAL §2.2.2.4 AttendeeStatus: 0 unknown, 2 tentative, 3 accepted, 4 declined, 5 not responded. */
export function attendeeStatus(partstat: string): number {
  return STATUS_OF_PARTSTAT[(partstat || "NEEDS-ACTION").toUpperCase()] ?? 0;
}

/** MS-ASCAL §2.2.2.40 ResponseType: 1 organizer, 2 tentative, 3 accepted, 4 declined, 5 not responded, 0 none. */
export function responseType(comp: ICAL.Component, account: Account): number | null {
  if (!isMeeting(comp)) return null;
  if (iOrganize(comp, account)) return 1;
  const me = myAttendee(comp, account);
  if (!me) return 0;
  const s = attendeeStatus(param(me, "partstat"));
  return s === 0 ? 0 : s;
}

/** MS-ASCAL §2.2.2.5 AttendeeType: 1 required, 2 optional, 3 resource. */
function attendeeType(p: ICAL.Property): number {
  const cutype = param(p, "cutype").toUpperCase();
  if (cutype === "RESOURCE" || cutype === "ROOM") return 3;
  const role = param(p, "role").toUpperCase();
  return role === "OPT-PARTICIPANT" || role === "NON-PARTICIPANT" ? 2 : 1;
}

/** Calendar:OrganizerName / OrganizerEmail elements (left out for an appointment without organizer). */
export function organizerElements(comp: ICAL.Component, account: Account): WElement[] {
  const o = organizerOf(comp);
  if (!o) {
    if (!isMeeting(comp)) return [];
    const name = account.settings.displayName;
    return [name ? el("Calendar:OrganizerName", name) : null, el("Calendar:OrganizerEmail", account.email)].filter((x): x is WElement => x !== null);
  }
  const out: WElement[] = [];
  if (o.name) out.push(el("Calendar:OrganizerName", o.name));
  out.push(el("Calendar:OrganizerEmail", o.email));
  return out;
}

/** Calendar:Attendees (MS-ASCAL §2.2.2.3): every ATTENDEE but the organizer's own copy. AttendeeStatus/Type exist since 12.0. */
export function attendeesElement(comp: ICAL.Component): WElement | null {
  const org = organizerOf(comp)?.email ?? "";
  const list: WElement[] = [];
  for (const p of comp.getAllProperties("attendee")) {
    const email = addr(p.getFirstValue());
    if (!email || email === org) continue;
    const name = param(p, "cn") || email;
    list.push(
      el(
        "Calendar:Attendee",
        el("Calendar:Email", email),
        el("Calendar:Name", name),
        el("Calendar:AttendeeStatus", attendeeStatus(param(p, "partstat"))),
        el("Calendar:AttendeeType", attendeeType(p)),
      ),
    );
  }
  return list.length ? el("Calendar:Attendees", list) : null;
}

const PARTSTAT_OF_STATUS: Record<number, string> = { 2: "TENTATIVE", 3: "ACCEPTED", 4: "DECLINED", 5: "NEEDS-ACTION" };
const PARTSTAT_OF_RESPONSE: Record<number, string> = { 2: "TENTATIVE", 3: "ACCEPTED", 4: "DECLINED", 5: "NEEDS-ACTION" };

function smallInt(s: string | undefined, what: string, max: number): number | undefined {
  if (s === undefined || s.trim() === "") return undefined;
  if (!/^\d{1,3}$/.test(s.trim())) throw new EasDataError(`${what} is not a number`);
  const n = Number(s.trim());
  if (n > max) throw new EasDataError(`${what} ${n} is out of range`);
  return n;
}

/** A plausible address: something@something, no spaces or control characters, at most 320 characters. */
function checkAddress(s: string, what: string): string {
  const v = s.trim().replace(/^mailto:/i, "");
  if (v.length > 320 || !/^[^\s@<>"\\\x00-\x1f]+@[^\s@<>"\\\x00-\x1f]+$/.test(v)) throw new EasDataError(`${what} is not an e-mail address`);
  return v;
}

function cleanName(s: string | undefined, what: string): string {
  const v = (s ?? "").replace(/[\x00-\x08\x0b-\x1f]/g, "").trim();
  if (v.length > 512) throw new EasDataError(`${what} is too long`);
  return v;
}

/**
 * Applies a device's Calendar:Attendees onto `comp`: attendees the device
 * lists are kept with their stored parameters (PARTSTAT of others is the
 * server's to know; the device may name or retype them), new ones are
 * added as NEEDS-ACTION with RSVP, ones the device left out are removed.
 */
export function applyAttendees(comp: ICAL.Component, attendees: WElement, account: Account): void {
  const list = kids(attendees, "Calendar:Attendee");
  if (list.length > MAX_ATTENDEES) throw new EasDataError(`more than ${MAX_ATTENDEES} attendees`);
  const stored = new Map<string, ICAL.Property>();
  for (const p of comp.getAllProperties("attendee")) stored.set(addr(p.getFirstValue()), p);
  const org = organizerOf(comp)?.email ?? "";
  const wanted = new Map<string, { name: string; status?: number; type?: number }>();
  for (const a of list) {
    const email = checkAddress(kidText(a, "Calendar:Email") ?? "", "Attendee Email").toLowerCase();
    const name = cleanName(kidText(a, "Calendar:Name"), "Attendee Name");
    const status = smallInt(kidText(a, "Calendar:AttendeeStatus"), "AttendeeStatus", 5);
    const type = smallInt(kidText(a, "Calendar:AttendeeType"), "AttendeeType", 3);
    if (type !== undefined && (type < 1 || type > 3)) throw new EasDataError(`AttendeeType ${type} is not 1-3`);
    wanted.set(email, { name, status, type });
  }
  for (const [email, p] of stored) {
    // The organizer's own ATTENDEE line is never shown to the device: keep it.
    if (!wanted.has(email) && email !== org) comp.removeProperty(p);
  }
  for (const [email, w] of wanted) {
    let p = stored.get(email);
    if (!p) {
      p = new ICAL.Property("attendee", comp);
      p.setValue(`mailto:${email}`);
      const own = isMe(account, email) && w.status !== undefined ? PARTSTAT_OF_STATUS[w.status] : undefined;
      p.setParameter("partstat", own ?? "NEEDS-ACTION");
      if (!own) p.setParameter("rsvp", "TRUE");
      comp.addProperty(p);
    }
    if (w.name && w.name.toLowerCase() !== email) p.setParameter("cn", w.name);
    if (w.type !== undefined && w.type !== attendeeType(p)) {
      if (w.type === 3) p.setParameter("cutype", "RESOURCE");
      else {
        if (param(p, "cutype").toUpperCase() === "RESOURCE" || param(p, "cutype").toUpperCase() === "ROOM") p.removeParameter("cutype");
        p.setParameter("role", w.type === 2 ? "OPT-PARTICIPANT" : "REQ-PARTICIPANT");
      }
    }
  }
}

/** A device's OrganizerEmail/OrganizerName: sets ORGANIZER (an Add from the device, or a stored event without one). */
export function applyOrganizer(comp: ICAL.Component, data: WElement): void {
  const email = kidText(data, "Calendar:OrganizerEmail");
  const name = kidText(data, "Calendar:OrganizerName");
  if (email === undefined && name === undefined) return;
  const existing = organizerOf(comp);
  const address = email !== undefined && email.trim() !== "" ? checkAddress(email, "OrganizerEmail").toLowerCase() : existing?.email;
  if (!address) return;
  const cn = name !== undefined ? cleanName(name, "OrganizerName") : existing?.name ?? "";
  comp.removeAllProperties("organizer");
  const p = new ICAL.Property("organizer", comp);
  p.setValue(`mailto:${address}`);
  if (cn) p.setParameter("cn", cn);
  comp.addProperty(p);
}

/** A meeting made on the device names no organizer: it is the device's user (RFC 5545 §3.8.4.3 needs one with attendees). */
export function ensureOrganizer(comp: ICAL.Component, account: Account): void {
  if (!isMeeting(comp) || comp.getFirstProperty("organizer")) return;
  const p = new ICAL.Property("organizer", comp);
  p.setValue(`mailto:${account.email}`);
  if (account.settings.displayName) p.setParameter("cn", account.settings.displayName);
  comp.addProperty(p);
}

/**
 * A device's ResponseType for an event I was invited to (12.1–14.1 devices
 * answer in the item itself and mail the REPLY with SendMail): my PARTSTAT.
 * Organizer (1) and none (0) change nothing.
 */
export function applyResponseType(comp: ICAL.Component, value: string | undefined, account: Account, now: number): void {
  const n = smallInt(value, "ResponseType", 5);
  if (n === undefined) return;
  const partstat = PARTSTAT_OF_RESPONSE[n];
  if (!partstat || iOrganize(comp, account)) return;
  const me = myAttendee(comp, account);
  if (!me) return;
  if (param(me, "partstat").toUpperCase() === partstat) return;
  me.setParameter("partstat", partstat);
  setReplyTime(comp, now);
}

/**
 * An invitee's device (EAS-4-TbSync, 12.1–14.1 phones) may carry its answer
 * as its own AttendeeStatus in the Attendees it sends back: my PARTSTAT.
 * The rest of the list is the organizer's and is left alone.
 */
export function applyMyAttendeeStatus(comp: ICAL.Component, attendees: WElement, account: Account, now: number): void {
  const list = kids(attendees, "Calendar:Attendee");
  if (list.length > MAX_ATTENDEES) throw new EasDataError(`more than ${MAX_ATTENDEES} attendees`);
  for (const a of list) {
    if (!isMe(account, addr(kidText(a, "Calendar:Email") ?? ""))) continue;
    const status = smallInt(kidText(a, "Calendar:AttendeeStatus"), "AttendeeStatus", 5);
    if (status === 2 || status === 3 || status === 4) applyResponseType(comp, String(status), account, now);
    return;
  }
}

/** When I answered (MS-ASCAL §2.2.2.6 AppointmentReplyTime), kept as Exchange does in X-MICROSOFT-CDO-REPLYTIME. */
export function setReplyTime(comp: ICAL.Component, now: number): void {
  comp.updatePropertyWithValue("x-microsoft-cdo-replytime", ICAL.Time.fromJSDate(new Date(Math.floor(now / 1000) * 1000), true));
}

/** The reply time stored by setReplyTime (or another Exchange-style client), UTC ms, or null. */
export function replyTime(comp: ICAL.Component): number | null {
  const p = comp.getFirstProperty("x-microsoft-cdo-replytime");
  if (!p) return null;
  const raw = p.getFirstValue();
  const s = typeof raw === "string" ? raw : raw instanceof ICAL.Time ? raw.toString() : "";
  const m = /^(\d{4})-?(\d{2})-?(\d{2})T(\d{2}):?(\d{2}):?(\d{2})Z$/.exec(s.trim());
  if (!m) return null;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return Number.isFinite(ms) ? ms : null;
}
