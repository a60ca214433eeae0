/**
 * Registers the CalDAV and CardDAV REPORTs with the DAV core (one import in
 * plugins.ts): calendar-query, calendar-multiget (caldav-query.ts),
 * free-busy-query (caldav-freebusy.ts), addressbook-query and
 * addressbook-multiget (carddav-report.ts).
 */
import "./caldav-query.ts";
import "./caldav-freebusy.ts";
import "./carddav-report.ts";
