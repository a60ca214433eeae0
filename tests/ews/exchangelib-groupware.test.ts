/**
 * exchangelib end to end, part 2 (tests/ews/exchangelib/suite_groupware.py):
 * calendar items (CalDAV sees them), recurrence with a modified and a deleted
 * occurrence through CalendarView, a meeting invitation the attendee accepts
 * and the organiser cancels, contacts, ResolveNames, tasks, free/busy,
 * out-of-office (the auto-reply really arrives) and pull and streaming
 * notifications raised by mail delivered over SMTP.
 */
import { exchangelibSuite } from "./exchangelib-run.ts";

exchangelibSuite({
  title: "exchangelib: calendar, contacts, tasks, free/busy, OOF, notifications",
  script: "suite_groupware.py",
  scenarios: [
    "calendar_item",
    "calendar_recurrence",
    "meeting_invitation_accept",
    "contacts",
    "resolve_names_directory",
    "tasks",
    "free_busy",
    "out_of_office",
    "pull_notifications",
    "streaming_notifications",
  ],
});
