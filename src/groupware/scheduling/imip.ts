/**
 * iMIP (RFC 6047): iTIP messages carried by mail. Building the messages the
 * scheduler sends, and finding the iCalendar part of a message that arrives.
 *
 * The message shape (RFC 6047 §2, and what Outlook, Gmail and Apple Calendar
 * read): multipart/mixed holding
 *   multipart/alternative: text/plain (a summary for people: when, where,
 *     organizer, attendees) and text/calendar; method=<METHOD>; charset=utf-8
 *     (RFC 6047 §2.4: the method parameter must equal the object's METHOD);
 *   application/ics "invite.ics": the same object as an attachment, which
 *     some readers (Outlook on the web, Gmail) offer instead of the inline part.
 */
import { renderMessage, type MimeNode } from "../../../mail/build.ts";
import { formatAddress, type Mailbox } from "../../../mail/address.ts";
import { formatAddressList } from "../../../mail/build.ts";
import { encodeWords } from "../../../mail/encode.ts";
import { formatMailDate } from "../../../mail/date.ts";
import { newMessageId } from "../../../mail/message-id.ts";
import { parseMime } from "../../../mail/parse.ts";
import { partContent } from "../../../mail/text.ts";
import { decodeCharset } from "../../../mail/bytes.ts";
import type { MimePart } from "../../../mail/types.ts";

export type ItipMethod = "REQUEST" | "REPLY" | "CANCEL";

/** What the text part and the subject say about the event. */
export interface EventSummary {
  summary: string;
  /** UTC ms; null when unknown. */
  start: number | null;
  end: number | null;
  allDay: boolean;
  /** IANA zone to show times in (the DTSTART's TZID when it is one), else UTC. */
  timeZone: string | null;
  location: string;
  organizer: Mailbox | null;
  attendees: (Mailbox & { partstat: string })[];
}

export interface ImipInput {
  method: ItipMethod;
  from: Mailbox;
  to: Mailbox[];
  /** The iTIP object (serialised iCalendar, CRLF). */
  calendar: string;
  event: EventSummary;
  /** For a REPLY: the replying attendee's PARTSTAT. */
  partstat?: string;
  /** An update of an invitation sent before (subject "Updated invitation"). */
  update?: boolean;
  now?: number;
}

function zoneOk(tz: string | null): string {
  if (!tz) return "UTC";
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return tz;
  } catch {
    return "UTC";
  }
}

/** "Mon Dec 7, 2026 10:00 - 11:00 (Europe/Berlin)" or "Mon Dec 7, 2026 (all day)". */
export function formatWhen(e: EventSummary): string {
  if (e.start === null) return "";
  const tz = e.allDay ? "UTC" : zoneOk(e.timeZone);
  const day = new Intl.DateTimeFormat("en-US", { timeZone: tz, weekday: "short", month: "short", day: "numeric", year: "numeric" });
  const time = new Intl.DateTimeFormat("en-GB", { timeZone: tz, hour: "2-digit", minute: "2-digit", hour12: false });
  if (e.allDay) return `${day.format(e.start)} (all day)`;
  const sameDay = e.end !== null && day.format(e.start) === day.format(e.end);
  const end = e.end === null || e.end <= e.start ? "" : sameDay ? ` - ${time.format(e.end)}` : ` - ${day.format(e.end)} ${time.format(e.end)}`;
  return `${day.format(e.start)} ${time.format(e.start)}${end} (${tz})`;
}

const PARTSTAT_WORD: Record<string, string> = {
  ACCEPTED: "Accepted",
  DECLINED: "Declined",
  TENTATIVE: "Tentatively accepted",
  DELEGATED: "Delegated",
  "NEEDS-ACTION": "No answer yet",
};

/** The Subject line: "Invitation: <summary> @ <when>", "Accepted: ...", "Canceled: ...". */
export function imipSubject(input: Pick<ImipInput, "method" | "event" | "partstat" | "update">): string {
  const what = input.event.summary.replace(/[\r\n]+/g, " ").trim().slice(0, 200) || "(no title)";
  const when = formatWhen(input.event);
  const at = when ? ` @ ${when}` : "";
  switch (input.method) {
    case "REQUEST":
      return `${input.update ? "Updated invitation" : "Invitation"}: ${what}${at}`;
    case "CANCEL":
      return `Canceled: ${what}${at}`;
    case "REPLY":
      return `${PARTSTAT_WORD[input.partstat ?? ""] ?? "Reply"}: ${what}${at}`;
  }
}

/** The text/plain part: what the event is, for readers that do not understand text/calendar. */
export function imipText(input: ImipInput): string {
  const e = input.event;
  const lines: string[] = [];
  const who = (m: Mailbox) => (m.name ? `${m.name} <${m.address}>` : m.address);
  if (input.method === "REQUEST") lines.push(`${who(input.from)} ${input.update ? "updated" : "invites you to"} this event.`);
  else if (input.method === "CANCEL") lines.push(`${who(input.from)} canceled this event.`);
  else lines.push(`${who(input.from)} answered: ${PARTSTAT_WORD[input.partstat ?? ""] ?? input.partstat ?? "reply"}.`);
  lines.push("");
  lines.push(`Title:     ${e.summary || "(no title)"}`);
  const when = formatWhen(e);
  if (when) lines.push(`When:      ${when}`);
  if (e.location) lines.push(`Where:     ${e.location}`);
  if (e.organizer) lines.push(`Organizer: ${who(e.organizer)}`);
  if (e.attendees.length) {
    // A huge attendee list stays a readable text part: the calendar part has them all.
    const shown = e.attendees.slice(0, 50).map((a) => `  ${who(a)}${a.partstat && a.partstat !== "NEEDS-ACTION" ? ` (${PARTSTAT_WORD[a.partstat] ?? a.partstat})` : ""}`);
    lines.push("Attendees:", ...shown);
    if (e.attendees.length > 50) lines.push(`  ... and ${e.attendees.length - 50} more`);
  }
  lines.push("");
  lines.push("Your calendar program reads the attached invitation (invite.ics).");
  return lines.join("\n") + "\n";
}

/** The complete iMIP message (RFC 6047 §2). */
export function buildImipMessage(input: ImipInput): Uint8Array {
  const calendarBytes = new TextEncoder().encode(input.calendar);
  const root: MimeNode = {
    multipart: "mixed",
    parts: [
      {
        multipart: "alternative",
        parts: [
          { type: "text/plain", content: imipText(input) },
          // RFC 6047 §2.4: the method parameter equals the object's METHOD; charset is added for text content.
          { type: "text/calendar", params: { method: input.method }, content: input.calendar },
        ],
      },
      { type: "application/ics", params: { name: "invite.ics" }, content: calendarBytes, disposition: { type: "attachment", filename: "invite.ics" } },
    ],
  };
  const domain = input.from.address.slice(input.from.address.lastIndexOf("@") + 1);
  const fields: [string, string][] = [
    ["From", formatAddress(input.from)],
    // RFC 6047 §2.2.1: the sender is the calendar user who sends (the organizer, or the replying attendee).
    ["Sender", formatAddress(input.from)],
    ["To", formatAddressList(input.to)],
    ["Subject", encodeWords(imipSubject(input))],
    ["Message-ID", newMessageId(domain)],
    ["Date", formatMailDate(new Date(input.now ?? Date.now()))],
  ];
  return renderMessage(fields, root);
}

// ------------------------------------------------------------------ reading

/** The largest iCalendar part taken from a message (the ical parser's own limit is 1 MiB of text). */
export const MAX_CALENDAR_PART = 1024 * 1024;

export interface CalendarPart {
  /** The method parameter of the Content-Type, upper case, or null. */
  method: string | null;
  /** The part's content, transfer-decoded: the iTIP object byte for byte. */
  bytes: Uint8Array;
  /** Decoded as text with its charset. */
  text: string;
}

function isCalendarType(p: MimePart): boolean {
  const t = `${p.type}/${p.subtype}`;
  return t === "text/calendar" || t === "application/ics" || t === "text/x-vcalendar";
}

/**
 * The message's iCalendar part (RFC 6047 §2.4): text/calendar at the top or
 * anywhere in a multipart (preferred when it has a method parameter), else an
 * application/ics attachment. Null when there is none or it is too large.
 * Message/rfc822 parts (a forwarded invitation) are not looked into: a
 * forwarded invitation is not addressed to this calendar.
 */
export function findCalendarPart(raw: Uint8Array): CalendarPart | null {
  const { root } = parseMime(raw);
  const found: MimePart[] = [];
  const walk = (p: MimePart, depth: number) => {
    if (depth > 20 || found.length > 20) return;
    if (p.parts) for (const c of p.parts) walk(c, depth + 1);
    else if (isCalendarType(p)) found.push(p);
  };
  walk(root, 0);
  if (!found.length) return null;
  const part = found.find((p) => p.type === "text" && p.subtype === "calendar" && p.params.method) ?? found.find((p) => p.type === "text" && p.subtype === "calendar") ?? found[0]!;
  if (part.bodyEnd - part.bodyStart > MAX_CALENDAR_PART * 2) return null; // base64 of more than 1 MiB
  const bytes = partContent(raw, part, MAX_CALENDAR_PART * 2);
  if (bytes.length > MAX_CALENDAR_PART) return null;
  const m = part.params.method;
  return { method: typeof m === "string" && m ? m.toUpperCase() : null, bytes, text: decodeCharset(bytes, part.params.charset) };
}

