/**
 * The Calendar class (MS-ASCAL): calendars are groupware collections of
 * kind "calendar" (VEVENT), converted by ../groupware/calendar.ts. The
 * default calendar has FolderHierarchy Type 8, user-created ones Type 13
 * (MS-ASCMD §2.2.3.186.3). 16.0 instance deletes (Sync Delete with
 * airsyncbase:InstanceId) put an EXDATE on the series.
 */
import { DEFAULT_NAMES } from "../../../../src/groupware/collections.ts";
import type { Item } from "../../../../storage/api.ts";
import { calendarCodec, deleteCalendarInstance } from "../groupware/calendar.ts";
import { registerSyncClass } from "./classes.ts";
import { groupwareSyncClass } from "./groupware-class.ts";

const DAY = 86_400_000;

/** MS-ASCMD §2.2.3.69.2 FilterType for calendars: 0 all, 4 two weeks, 5 one month, 6 three months, 7 six months back. */
const FILTER_DAYS: Record<number, number> = { 4: 14, 5: 31, 6: 92, 7: 183 };

export function calendarCutoff(filterType: number, now: number): number | null | undefined {
  if (filterType === 0) return null;
  const days = FILTER_DAYS[filterType];
  return days === undefined ? undefined : now - days * DAY;
}

/** When the event's last instance ends: FilterType keeps an event that ends after the cutoff (an unbounded series always). */
export function calendarDateOf(item: Item): number {
  if (item.itemClass !== "calendar") return 0;
  const f = item.fields;
  if (!f.isRecurring) return f.dtEnd;
  if (f.lastInstance === null) return Number.MAX_SAFE_INTEGER;
  return Math.max(f.dtEnd, f.lastInstance + Math.max(0, f.dtEnd - f.dtStart));
}

export const calendarClass = groupwareSyncClass({
  className: "Calendar",
  itemClass: "calendar",
  defaultType: 8,
  userType: 13,
  isDefaultFolder: (folder) => folder.name === DEFAULT_NAMES.calendar,
  cutoff: calendarCutoff,
  dateOf: calendarDateOf,
  codec: calendarCodec,
  deleteInstance: deleteCalendarInstance,
});

registerSyncClass(calendarClass);
