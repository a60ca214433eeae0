/**
 * The RFC 6638 schedule outbox (§2.1) and its one operation, a POST of a
 * VFREEBUSY request (§5): "when are these people busy?". The answer is a
 * C:schedule-response with one C:response per recipient (§10.1): for a
 * local account its busy time from the groupware service (RFC 5545 §3.6.4:
 * transparent and cancelled events are free, tentative ones BUSY-TENTATIVE),
 * as a METHOD:REPLY VFREEBUSY; for anyone else a request status saying why
 * not (3.7 invalid calendar user for an unknown address of our domains,
 * 5.3 no scheduling support for a remote one: we do not fetch free/busy
 * from other servers).
 *
 * Every local account may ask for any local account's free/busy (the issue:
 * "a free/busy query ... for any local user"); busy periods say nothing
 * about the events themselves.
 *
 * Other iTIP messages are not accepted here: RFC 6638 §3 moved invitations,
 * replies and cancellations to implicit scheduling on PUT/DELETE, which the
 * server does (src/groupware/scheduling/).
 */
import ICAL from "ical.js";
import { parseItipMessage, icalUtc, ICalError } from "../../../src/groupware/ical/index.ts";
import type { BusyPeriod } from "../../../src/groupware/types.ts";
import { calAddress } from "../../../src/groupware/scheduling/itip.ts";
import { registerPathHandler } from "./extensions.ts";
import { readBody, BodyTooLarge } from "../body.ts";
import { userAddresses } from "./props-core.ts";
import { davError, textError, type DavContext, type DavTarget } from "./types.ts";
import { CALDAV_NS, DAV_NS } from "./xml.ts";
import { x, xmlResponse, type XNode } from "./xml-writer.ts";

/** Recipients of one free/busy request (bounded work per POST). */
export const MAX_FREEBUSY_RECIPIENTS = 100;
/** The longest range asked for (a year and a bit: what calendar clients ask for at most). */
export const MAX_FREEBUSY_RANGE_MS = 400 * 86_400_000;
const POST_LIMIT = 256 * 1024;

const mailto = (a: string) => `mailto:${a}`;

/** The VFREEBUSY REPLY of one recipient (RFC 5546 §3.3.2). */
export function freeBusyReply(req: { uid: string | null; organizer: string; start: number; end: number }, attendee: string, busy: readonly BusyPeriod[], now: number): string {
  const cal = new ICAL.Component("vcalendar");
  cal.addPropertyWithValue("version", "2.0");
  cal.addPropertyWithValue("prodid", "-//Pillarbox//Groupware//EN");
  cal.addPropertyWithValue("method", "REPLY");
  const fb = new ICAL.Component("vfreebusy");
  if (req.uid) fb.addPropertyWithValue("uid", req.uid);
  fb.addProperty(ICAL.Property.fromString(`DTSTAMP:${icalUtc(now)}`));
  fb.addProperty(ICAL.Property.fromString(`DTSTART:${icalUtc(req.start)}`));
  fb.addProperty(ICAL.Property.fromString(`DTEND:${icalUtc(req.end)}`));
  fb.addProperty(ICAL.Property.fromString(`ORGANIZER:${mailto(req.organizer)}`));
  fb.addProperty(ICAL.Property.fromString(`ATTENDEE:${mailto(attendee)}`));
  // One FREEBUSY line per type, periods in order (RFC 5545 §3.8.2.6).
  for (const type of ["BUSY", "BUSY-TENTATIVE", "BUSY-UNAVAILABLE"] as const) {
    const periods = busy.filter((b) => b.type === type).map((b) => `${icalUtc(b.start)}/${icalUtc(b.end)}`);
    if (periods.length) fb.addProperty(ICAL.Property.fromString(`FREEBUSY;FBTYPE=${type}:${periods.join(",")}`));
  }
  cal.addSubcomponent(fb);
  // CRLF line ends, as iCalendar requires (RFC 5545 §3.1).
  return cal.toString().replace(/\r?\n/g, "\r\n") + "\r\n";
}

function response(recipient: string, status: string, calendarData?: string): XNode {
  return x(CALDAV_NS, "response", x(CALDAV_NS, "recipient", x(DAV_NS, "href", mailto(recipient))), x(CALDAV_NS, "request-status", status), calendarData !== undefined && x(CALDAV_NS, "calendar-data", calendarData));
}

function utcOf(v: unknown): number | null {
  if (!(v instanceof ICAL.Time)) return null;
  try {
    return v.toJSDate().getTime();
  } catch {
    return null;
  }
}

async function postOutbox(dc: DavContext, target: DavTarget): Promise<Response> {
  if (target.kind !== "schedule-outbox") return textError(405, "POST is for the schedule outbox");
  const ctype = (dc.req.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (ctype !== "text/calendar") return davError(403, CALDAV_NS, "supported-calendar-data", "the schedule outbox takes a text/calendar VFREEBUSY request (RFC 6638 section 5)");
  let body: Uint8Array;
  try {
    body = await readBody(dc.req, POST_LIMIT);
  } catch (e) {
    if (e instanceof BodyTooLarge) return textError(413, e.message);
    throw e;
  }
  let root: ICAL.Component;
  let method: string;
  try {
    const parsed = parseItipMessage(body);
    root = parsed.root;
    method = parsed.method.toUpperCase();
  } catch (e) {
    if (e instanceof ICalError) return davError(403, CALDAV_NS, "valid-calendar-data", `not a valid iTIP message: ${e.message}`);
    throw e;
  }
  const fb = root.getAllSubcomponents("vfreebusy");
  if (method !== "REQUEST" || fb.length !== 1) {
    return davError(403, CALDAV_NS, "valid-scheduling-message", "only a METHOD:REQUEST with one VFREEBUSY can be POSTed to the outbox; invitations are sent by saving the event (RFC 6638 section 3)");
  }
  const req = fb[0]!;
  const organizer = calAddress(req.getFirstPropertyValue("organizer"));
  const mine = (await userAddresses(dc)).map((a) => a.toLowerCase());
  // RFC 6638 §5.1: the ORGANIZER must be the authenticated user.
  if (!organizer || !mine.includes(organizer)) return davError(403, CALDAV_NS, "organizer-allowed", "the ORGANIZER of a free/busy request must be one of your own addresses");
  let start: number | null;
  let end: number | null;
  try {
    start = utcOf(req.getFirstPropertyValue("dtstart"));
    end = utcOf(req.getFirstPropertyValue("dtend"));
  } catch {
    // ical.js reads values lazily: a malformed DTSTART/DTEND throws here, not in parseItipMessage.
    start = end = null;
  }
  if (start === null || end === null || !(end > start)) return davError(403, CALDAV_NS, "valid-scheduling-message", "the VFREEBUSY needs DTSTART and a later DTEND");
  if (end - start > MAX_FREEBUSY_RANGE_MS) return davError(403, CALDAV_NS, "valid-scheduling-message", `a free/busy range may span at most ${MAX_FREEBUSY_RANGE_MS / 86_400_000} days`);
  const attendees = [...new Set(req.getAllProperties("attendee").map((p) => calAddress(p.getFirstValue())).filter((a) => a))];
  if (!attendees.length) return davError(403, CALDAV_NS, "recipient-specified", "the free/busy request names no ATTENDEE");
  if (attendees.length > MAX_FREEBUSY_RECIPIENTS) return davError(403, CALDAV_NS, "recipient-permission", `at most ${MAX_FREEBUSY_RECIPIENTS} recipients per free/busy request`);
  const uid = req.getFirstPropertyValue("uid");
  const now = Date.now();
  const out: XNode[] = [];
  for (const a of attendees) {
    const r = await dc.ctx.store.resolveRecipient(a);
    if (r === "remote") {
      out.push(response(a, "5.3;No scheduling support for user"));
      continue;
    }
    // One mailbox: an alias naming several accounts has no single calendar to answer for.
    if (r === null || r.accounts.length !== 1) {
      out.push(response(a, "3.7;Invalid calendar user"));
      continue;
    }
    try {
      const busy = await dc.groupware.freeBusy(r.accounts[0]!, { start, end });
      out.push(response(a, "2.0;Success", freeBusyReply({ uid: typeof uid === "string" ? uid : null, organizer, start, end }, a, busy, now)));
    } catch (e) {
      dc.log.warn("free/busy lookup failed", { recipient: a, error: (e as Error).message });
      out.push(response(a, "5.1;Could not deliver"));
    }
  }
  return xmlResponse(200, x(CALDAV_NS, "schedule-response", ...out));
}

registerPathHandler("schedule-outbox", ["POST"], postOutbox);
