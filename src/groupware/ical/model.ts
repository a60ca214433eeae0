/** The parsed forms the iCalendar layer hands to the service, CalDAV and scheduling. */
import type ICAL from "ical.js";
import type { CalendarFields, TaskFields } from "../../../storage/api.ts";

export interface Attendee {
  /** mailto: stripped, lower-case. */
  address: string;
  /** CN, "" when absent. */
  name: string;
  /** PARTSTAT, upper case, default NEEDS-ACTION (RFC 5545 §3.2.12). */
  partstat: string;
  /** ROLE, upper case, default REQ-PARTICIPANT (RFC 5545 §3.2.16). */
  role: string;
  /** RSVP=TRUE (RFC 5545 §3.2.17). */
  rsvp: boolean;
  /** SCHEDULE-AGENT (RFC 6638 §7.1): SERVER | CLIENT | NONE, default SERVER. */
  scheduleAgent: string;
}

export interface CalendarObject {
  kind: "VEVENT" | "VTODO";
  uid: string;
  /** METHOD property (iTIP), null when absent. */
  method: string | null;
  sequence: number;
  /** mailto: stripped, lower-case. */
  organizer: string | null;
  /** Of the master (or first) component. */
  attendees: Attendee[];
  /** For kind VEVENT: what storage createItem needs. */
  calendarFields: CalendarFields | null;
  /** For kind VTODO. */
  taskFields: TaskFields | null;
  /** The parsed VCALENDAR (for CalDAV filters / calendar-data trimming). */
  root: ICAL.Component;
  /** Things kept but odd (unknown TZID read as floating, bad property values kept). */
  warnings: string[];
}
