/**
 * The iCalendar part of a stored message, read for the invitation card:
 * found in the MIME tree the store computed at delivery (no re-parse of the
 * message), its bytes read from their exact range, parsed as an iTIP
 * message (RFC 5546) with the same rules the iMIP processor applies
 * (src/groupware/scheduling/incoming.ts parseItip). Every way this can fail
 * is a 404 with a reason in words: the card is then not shown, and the
 * message reads as any other.
 */
import type ICAL from "ical.js";
import type { MimePart } from "../../../storage/api.ts";
import { decodeCharset } from "../../../mail/bytes.ts";
import { MAX_CALENDAR_PART } from "../../../src/groupware/scheduling/imip.ts";
import { calendarForUid, parseItip } from "../../../src/groupware/scheduling/incoming.ts";
import { instanceKey, schedulingComponents, sequenceOf } from "../../../src/groupware/scheduling/itip.ts";
import { ApiError } from "./util.ts";
import { decodeBody } from "./mime.ts";
import type { InvitationView } from "./api-types.ts";

const CALENDAR_TYPES = new Set(["text/calendar", "application/ics", "text/x-vcalendar"]);
/** Parts looked at (a message with hundreds of parts is not an invitation). */
const MAX_PARTS = 200;

/**
 * The message's iCalendar part (RFC 6047 §2.4): the text/calendar with a
 * method parameter first, then any text/calendar, then application/ics.
 * Attached messages (message/rfc822) are not looked into: a forwarded
 * invitation is not addressed to this user (the iMIP processor agrees).
 */
export function calendarPartOf(root: MimePart): MimePart | null {
  const found: MimePart[] = [];
  let seen = 0;
  const walk = (p: MimePart, depth: number) => {
    if (depth > 20 || ++seen > MAX_PARTS) return;
    if (p.type === "multipart" && p.parts) for (const c of p.parts) walk(c, depth + 1);
    else if (CALENDAR_TYPES.has(`${p.type}/${p.subtype}`)) found.push(p);
  };
  walk(root, 0);
  return found.find((p) => p.type === "text" && p.subtype === "calendar" && p.params.method) ?? found.find((p) => p.type === "text" && p.subtype === "calendar") ?? found[0] ?? null;
}

export function hasInvitationPart(root: MimePart): boolean {
  return calendarPartOf(root) !== null;
}

export type ItipMethod = InvitationView["method"];
const METHODS: readonly ItipMethod[] = ["REQUEST", "REPLY", "CANCEL", "COUNTER", "ADD", "REFRESH", "PUBLISH"];

/** One event of an iTIP message, as the card reads it. */
export interface MessageInvitation {
  method: ItipMethod;
  uid: string;
  /** The components of this UID (master and overrides), as sent. */
  comps: ICAL.Component[];
  /** The one the card shows: the master, else the first override. */
  main: ICAL.Component;
  /** A VCALENDAR of this UID without METHOD (what answerMeeting stores when the calendar has no copy yet). */
  storable: ICAL.Component;
  sequence: number;
  /** The message's components had no DTSTART (a REPLY or CANCEL may leave it out): times come from the calendar's copy. */
  timeless: boolean;
}

/** Reads the invitation of a message (its MIME tree and a reader of byte ranges of the stored blob). */
export async function readInvitation(root: MimePart, readRange: (start: number, end: number) => Promise<Uint8Array>): Promise<MessageInvitation> {
  const part = calendarPartOf(root);
  if (!part) throw new ApiError(404, "no_invitation", "This message carries no invitation.");
  // Base64 of 1 MiB is about 1.4 MiB: a part over twice the limit is too large however it is encoded.
  if (part.bodyEnd - part.bodyStart > MAX_CALENDAR_PART * 2) throw new ApiError(404, "invitation_too_large", "The invitation in this message is too large to show.");
  const bytes = decodeBody(await readRange(part.bodyStart, part.bodyEnd), part.encoding);
  if (bytes.byteLength > MAX_CALENDAR_PART) throw new ApiError(404, "invitation_too_large", "The invitation in this message is too large to show.");
  const text = decodeCharset(bytes, part.params.charset);
  return parseInvitation(text);
}

/** Parses an iTIP object's text into the card's event (404 with the reason when it is unusable). */
export function parseInvitation(text: string): MessageInvitation {
  let parsed: ReturnType<typeof parseItip>;
  try {
    parsed = parseItip(new TextEncoder().encode(text));
  } catch (e) {
    const why = e instanceof Error ? e.message.slice(0, 300) : "not iCalendar";
    throw new ApiError(404, "invitation_unreadable", `The invitation in this message can't be read (${why}).`);
  }
  const method = parsed.method.toUpperCase() as ItipMethod;
  if (!METHODS.includes(method)) throw new ApiError(404, "invitation_unreadable", `The calendar part has a method (${parsed.method.slice(0, 40)}) this page does not show.`);
  const obj = parsed.objects[0];
  if (!obj) throw new ApiError(404, "invitation_unreadable", "The calendar part holds no event.");
  if (obj.kind !== "VEVENT") throw new ApiError(404, "invitation_unreadable", "The calendar part holds a task, not an event.");
  const storable = calendarForUid(parsed.root, obj.uid);
  const comps = schedulingComponents(storable);
  const main = comps.find((c) => instanceKey(c) === "") ?? comps[0];
  if (!main) throw new ApiError(404, "invitation_unreadable", "The calendar part holds no event.");
  // parseItip gives a REPLY/CANCEL without DTSTART its RECURRENCE-ID or DTSTAMP as one (for its own checks): not a time to show.
  const timeless = (method === "REPLY" || method === "CANCEL") && !/^DTSTART[;:]/im.test(text);
  return { method, uid: obj.uid, comps, main, storable, sequence: sequenceOf(storable), timeless };
}
