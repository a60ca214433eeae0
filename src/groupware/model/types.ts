/**
 * The protocol-neutral shapes of events, tasks and contacts: what the
 * webmail's JSON API carries today and EWS will later. The converters in
 * this folder turn the stored iCalendar/vCard into these shapes and merge an
 * edited shape back onto the stored object (lines and properties the shape
 * does not describe are kept, so a CalDAV/CardDAV client's extras survive a
 * webmail edit).
 *
 * This file imports nothing: the browser client reads it through
 * protocols/http/webmail/api-types.ts (the layering check allows exactly
 * these two files to web/).
 *
 * Times: an instant is UTC milliseconds; a wall-clock time is the string
 * "YYYY-MM-DDTHH:MM" (seconds dropped) read in a named IANA zone; a date is
 * "YYYY-MM-DD".
 */

// ---------------------------------------------------------------- recurrence

export type Frequency = "DAILY" | "WEEKLY" | "MONTHLY" | "YEARLY";

/** Two-letter weekday codes of RFC 5545 §3.3.10 (BYDAY). */
export type Weekday = "MO" | "TU" | "WE" | "TH" | "FR" | "SA" | "SU";

/**
 * The recurrence an editor can show and write (RFC 5545 §3.3.10): the four
 * frequencies of Outlook, with interval, weekdays, day of month, "the second
 * Tuesday" (byDay with an ordinal, or bySetPos), month, and an end (count or
 * until, never both).
 */
export interface RecurrenceRule {
  freq: Frequency;
  /** ≥ 1. */
  interval: number;
  /** WEEKLY: the weekdays; MONTHLY/YEARLY: weekdays with an ordinal ("2TU", "-1FR") or plain with bySetPos. */
  byDay: string[];
  /** MONTHLY/YEARLY: days of the month (1..31, -1 = last). */
  byMonthDay: number[];
  /** YEARLY: months (1..12). */
  byMonth: number[];
  /** With plain byDay: which of the matching days (1..5, -1). */
  bySetPos: number[];
  /** Number of occurrences, or null. */
  count: number | null;
  /** Last date (inclusive, in the event's zone) "YYYY-MM-DD", or null. */
  until: string | null;
  /**
   * The stored rule uses parts this shape cannot show (BYHOUR, BYWEEKNO,
   * several RRULEs, RDATE...). Read-only for the editor: sending a rule back
   * with `complex: true` keeps the stored recurrence unchanged.
   */
  complex: boolean;
}

// ---------------------------------------------------------------- events

export type Partstat = "NEEDS-ACTION" | "ACCEPTED" | "TENTATIVE" | "DECLINED" | "DELEGATED";
export type AttendeeRole = "REQ-PARTICIPANT" | "OPT-PARTICIPANT" | "NON-PARTICIPANT" | "CHAIR";

export interface EventPerson {
  /** Lower-case address, no mailto:. */
  address: string;
  /** CN, "" when none. */
  name: string;
}

export interface EventAttendee extends EventPerson {
  partstat: Partstat;
  role: AttendeeRole;
  rsvp: boolean;
  /** The attendee's COMMENT on their last reply, "" when none (RFC 5546 §3.2.3). */
  comment: string;
}

/**
 * One event as the editor shows it: the master of a series, or one
 * occurrence (an override) when `recurrenceId` is set.
 */
export interface EventData {
  uid: string;
  title: string;
  location: string;
  /** Plain text (DESCRIPTION). */
  description: string;
  /** Wall-clock "YYYY-MM-DDTHH:MM" in `timeZone`; for allDay the date "YYYY-MM-DD". */
  start: string;
  /** Exclusive end, same form; for allDay the day after the last day (RFC 5545 DTEND;VALUE=DATE). */
  end: string;
  /** IANA zone of start/end; "" = floating (read in the user's zone); ignored for allDay. */
  timeZone: string;
  allDay: boolean;
  /** TRANSP (RFC 5545 §3.8.2.7): "busy" = OPAQUE, "free" = TRANSPARENT. */
  showAs: "busy" | "free";
  /** STATUS, "" when absent. */
  status: "" | "CONFIRMED" | "TENTATIVE" | "CANCELLED";
  /** CLASS (RFC 5545 §3.8.1.3). */
  privacy: "PUBLIC" | "PRIVATE" | "CONFIDENTIAL";
  categories: string[];
  /** VALARM triggers, minutes before the start (0 = at start), at most 5. */
  reminders: number[];
  /** The series' rule (master only), null when not recurring. */
  recurrence: RecurrenceRule | null;
  organizer: EventPerson | null;
  attendees: EventAttendee[];
  /** SEQUENCE (read-only: the server raises it on significant changes). */
  sequence: number;
  /** For an occurrence: its RECURRENCE-ID as UTC ms; null for the master or a single event. */
  recurrenceId: number | null;
}

/** One occurrence in a time range, for the day/week/month/agenda views. */
export interface EventInstance {
  /** Collection name of the calendar. */
  calendar: string;
  /** Resource name of the object (the event's id in URLs). */
  id: string;
  etag: string;
  uid: string;
  /** RECURRENCE-ID of this occurrence (UTC ms); null for a non-recurring event. */
  recurrenceId: number | null;
  /** UTC ms. For allDay: midnight starting `startDate` / ending `endDate` in the user's zone. */
  start: number;
  end: number;
  allDay: boolean;
  /** For allDay: first day and the day after the last, "YYYY-MM-DD". */
  startDate: string | null;
  endDate: string | null;
  title: string;
  location: string;
  /** Part of a series (master has an RRULE/RDATE, or this is an override). */
  recurring: boolean;
  /** This occurrence was edited on its own (RECURRENCE-ID component). */
  overridden: boolean;
  status: string;
  showAs: "busy" | "free";
  /** The user's own PARTSTAT when they are an attendee (not the organizer), else null. */
  myPartstat: Partstat | null;
  /** The user organizes a meeting with attendees. */
  isOrganizer: boolean;
  attendeeCount: number;
  /** Minutes before start (for in-page reminders). */
  reminders: number[];
  privacy: "PUBLIC" | "PRIVATE" | "CONFIDENTIAL";
}

/** Which part of a series a change or delete applies to (Outlook's three choices; RFC 5545 §3.8.4.4 RANGE). */
export type SeriesScope = "all" | "this" | "following";

// ---------------------------------------------------------------- tasks

export interface TaskData {
  uid: string;
  title: string;
  description: string;
  /** "YYYY-MM-DD" (date) or "YYYY-MM-DDTHH:MM" in `timeZone`; "" when none. */
  due: string;
  start: string;
  timeZone: string;
  /** RFC 5545 §3.8.1.9: 0 none, 1 highest .. 9 lowest (1-4 high, 5 normal, 6-9 low). */
  priority: number;
  status: "NEEDS-ACTION" | "IN-PROCESS" | "COMPLETED" | "CANCELLED";
  /** PERCENT-COMPLETE 0..100. */
  percent: number;
  /** COMPLETED as UTC ms, null when open. */
  completed: number | null;
  categories: string[];
  /** Minutes before due. */
  reminders: number[];
  recurrence: RecurrenceRule | null;
}

export interface TaskSummary extends TaskData {
  list: string;
  id: string;
  etag: string;
  /** Due as UTC ms (a date-only due = its midnight in the user's zone), null when none: for sorting and "overdue". */
  dueAt: number | null;
}

// ---------------------------------------------------------------- contacts

export interface ContactValue {
  /** "home" | "work" | "mobile" | "fax" | "pager" | "other" | ... lower case; "" when untyped. */
  type: string;
  value: string;
  pref: boolean;
}

export interface ContactAddress {
  type: string;
  street: string;
  locality: string;
  region: string;
  postalCode: string;
  country: string;
  pref: boolean;
}

export interface ContactData {
  uid: string;
  /** vCard 4 KIND (RFC 6350 §6.1.4); Apple's X-ADDRESSBOOKSERVER-KIND for 3.0. */
  kind: "individual" | "group";
  /** FN. */
  fullName: string;
  /** N parts. */
  givenName: string;
  familyName: string;
  middleName: string;
  prefix: string;
  suffix: string;
  nickname: string;
  organization: string;
  department: string;
  jobTitle: string;
  emails: ContactValue[];
  phones: ContactValue[];
  addresses: ContactAddress[];
  urls: ContactValue[];
  /** "YYYY-MM-DD" or "--MM-DD" (no year), "" when none. */
  birthday: string;
  anniversary: string;
  notes: string;
  /** A data: URL (image/jpeg|png|gif|webp) on a full read; null = none. On a write: undefined/omitted = keep, null = remove. */
  photo?: string | null;
  categories: string[];
  /** For groups: the members as contact UIDs of the same book ("urn:uuid:..." kept as-is) or "mailto:addr". */
  members: string[];
}

export interface ContactSummary {
  book: string;
  id: string;
  etag: string;
  uid: string;
  kind: "individual" | "group";
  fullName: string;
  /** For sorting ("Family, Given" when there is an N). */
  sortName: string;
  organization: string;
  emails: string[];
  phones: string[];
  hasPhoto: boolean;
  /** For groups: number of members. */
  memberCount: number;
}
