/**
 * The iCalendar layer of the groupware (RFC 5545, RFC 4791 §4.1 resources,
 * RFC 5546 iTIP): parsing with ical.js, indexed fields for the store,
 * recurrence expansion, time zones, import splitting, serialisation.
 * Everyone (service, CalDAV, scheduling, CLI) imports from here.
 */
export { ICalError } from "./errors.ts";
export type { Attendee, CalendarObject } from "./model.ts";
export { parseCalendarObject, parseItipMessage } from "./parse.ts";
export { expandInstances } from "./expand.ts";
export { vtimezoneFor } from "./zones.ts";
export { serialize, icalUtc, splitICalendar } from "./split.ts";
