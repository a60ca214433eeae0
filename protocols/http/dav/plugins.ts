/**
 * The modules that extend the DAV core through extensions.ts, imported
 * once when DAV mounts (handler.ts). Each line registers reports, path
 * handlers or properties at import time; a module that extends DAV adds its
 * one import line here.
 */
import "./props-core.ts";
import "./sync-report.ts";
import "./principal-reports.ts";
// RFC 6638 scheduling (the scheduling helper's modules).
import "./scheduling-props.ts";
import "./scheduling-inbox.ts";
import "./scheduling-outbox.ts";
// CalDAV/CardDAV REPORTs: calendar-query, calendar-multiget, free-busy-query, addressbook-query/-multiget (the reports helper's modules).
import "./caldav-reports.ts";
