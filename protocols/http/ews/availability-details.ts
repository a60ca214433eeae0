/**
 * The Detailed free/busy views of one's own mailbox (MS-OXWSAVAIL
 * §2.2.4.4 CalendarEvent with CalendarEventDetails): each busy instance of
 * the window with its subject, location and flags. Other mailboxes get busy
 * blocks only (no sharing rights to read details are kept; Exchange's
 * default for other users is the same: free/busy time only).
 */
import ICAL from "ical.js";
import { busyStatus } from "../eas/groupware/calendar-fields.ts";
import { isMeeting } from "../eas/groupware/calendar-people.ts";
import { expandInstances } from "../../../src/groupware/ical/expand.ts";
import { ICalError } from "../../../src/groupware/ical/errors.ts";
import { EwsError, type EwsContext } from "./context.ts";
import { componentOf, parsedOf, type CalendarStoreItem } from "./calendar-store.ts";
import { reminderMinutes } from "../eas/groupware/calendar-fields.ts";

/** Events one Detailed view lists at most. */
const MAX_EVENTS = 5000;
/** LegacyFreeBusyType by the EAS busy number (0 free: not listed). */
const BUSY = ["", "Tentative", "Busy", "OOF", "WorkingElsewhere"];

export interface DetailedEvent {
  start: number;
  end: number;
  busy: string;
  subject: string;
  location: string;
  meeting: boolean;
  recurring: boolean;
  exception: boolean;
  reminder: boolean;
  private: boolean;
}

function str(comp: ICAL.Component, name: string): string {
  const v = comp.getFirstPropertyValue(name);
  return typeof v === "string" ? v : v === null || v === undefined ? "" : String(v);
}

/** The caller's busy instances in [start, end), in time order. */
export async function ownEvents(c: EwsContext, range: { start: number; end: number }): Promise<DetailedEvent[]> {
  const out: DetailedEvent[] = [];
  for (const col of await c.server.groupware.listCollections(c.account, "calendar")) {
    for (const obj of await c.server.groupware.objectsInRange(col, range)) {
      const item = obj.item as CalendarStoreItem;
      let parsed;
      let instances;
      try {
        parsed = await parsedOf(c, { item });
        instances = expandInstances(parsed, range, { maxInstances: MAX_EVENTS });
      } catch (e) {
        if (e instanceof EwsError || e instanceof ICalError) continue; // an unreadable event is left out, as in free/busy
        throw e;
      }
      for (const inst of instances) {
        const comp = componentOf(parsed, inst);
        if (str(comp, "status").toUpperCase() === "CANCELLED") continue;
        const busy = BUSY[busyStatus(comp, c.account)] ?? "Busy";
        if (!busy) continue;
        if (out.length >= MAX_EVENTS) throw new EwsError("ErrorTimeIntervalTooBig", `More than ${MAX_EVENTS} events in the window; ask for a shorter one.`);
        const cls = str(comp, "class").toUpperCase();
        out.push({
          start: inst.start,
          end: inst.end,
          busy,
          subject: str(comp, "summary"),
          location: str(comp, "location"),
          meeting: isMeeting(comp),
          recurring: inst.recurrenceId !== null,
          exception: inst.overridden,
          reminder: reminderMinutes(comp) !== null,
          private: cls === "PRIVATE" || cls === "CONFIDENTIAL",
        });
      }
    }
  }
  return out.sort((a, b) => a.start - b.start || a.end - b.end);
}
