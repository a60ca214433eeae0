/**
 * Calendar objects and request bodies for the CalDAV report tests
 * (caldav-query, caldav-multiget, caldav-freebusy, caldav-errors).
 */
export const CAL = (user: string) => `/dav/calendars/${user}/Calendar/`;
export const TASKS = (user: string) => `/dav/calendars/${user}/Tasks/`;

const head = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Pillarbox report tests//EN"];
const wrap = (lines: string[]) => [...head, ...lines, "END:VCALENDAR", ""].join("\r\n");

/**
 * A weekly Monday 10:00 Europe/Berlin (09:00Z) meeting, 10 occurrences from
 * 2026-01-05; the 2026-01-12 instance moved to Thursday 2026-01-15 14:00
 * (13:00Z); 2026-01-19 excluded (EXDATE). The zone has no VTIMEZONE: the
 * IANA name is resolved by the server.
 */
export const WEEKLY = wrap([
  "BEGIN:VEVENT",
  "UID:weekly-sync@example.test",
  "DTSTAMP:20260101T000000Z",
  "DTSTART;TZID=Europe/Berlin:20260105T100000",
  "DTEND;TZID=Europe/Berlin:20260105T110000",
  "RRULE:FREQ=WEEKLY;COUNT=10",
  "EXDATE;TZID=Europe/Berlin:20260119T100000",
  "SUMMARY:Weekly sync",
  "LOCATION:Room 1",
  "BEGIN:VALARM",
  "ACTION:DISPLAY",
  "DESCRIPTION:Reminder",
  "TRIGGER:-PT15M",
  "END:VALARM",
  "END:VEVENT",
  "BEGIN:VEVENT",
  "UID:weekly-sync@example.test",
  "DTSTAMP:20260101T000000Z",
  "RECURRENCE-ID;TZID=Europe/Berlin:20260112T100000",
  "DTSTART;TZID=Europe/Berlin:20260115T140000",
  "DTEND;TZID=Europe/Berlin:20260115T150000",
  "SUMMARY:Weekly sync (moved to Thursday)",
  "END:VEVENT",
]);

export function single(uid: string, start: string, end: string, summary: string, extra: string[] = []): string {
  return wrap(["BEGIN:VEVENT", `UID:${uid}`, "DTSTAMP:20260101T000000Z", `DTSTART:${start}`, `DTEND:${end}`, `SUMMARY:${summary}`, ...extra, "END:VEVENT"]);
}

export function todo(uid: string, summary: string, extra: string[]): string {
  return wrap(["BEGIN:VTODO", `UID:${uid}`, "DTSTAMP:20260101T000000Z", `SUMMARY:${summary}`, ...extra, "END:VTODO"]);
}

export const CAL_NS = 'xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"';

/** A calendar-query body: `filter` inside <C:filter>, `data` inside <C:calendar-data> (null = no calendar-data). */
export function query(filter: string, data: string | null = "", extra = ""): string {
  const prop = data === null ? "<D:getetag/>" : `<D:getetag/><C:calendar-data>${data}</C:calendar-data>`;
  return `<?xml version="1.0" encoding="utf-8"?><C:calendar-query ${CAL_NS}><D:prop>${prop}</D:prop><C:filter>${filter}</C:filter>${extra}</C:calendar-query>`;
}

export function eventsIn(start: string, end: string): string {
  return `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="${start}" end="${end}"/></C:comp-filter></C:comp-filter>`;
}

/** Unescapes the XML text of a calendar-data element. */
export function unxml(s: string): string {
  return s.replace(/&#13;/g, "\r").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&amp;/g, "&");
}
