/**
 * 0032: calendar time-range queries read only the events that can overlap.
 * `calendar_items.span_end_utc` is when an event's last instance ends: its
 * DTEND for a single event, the last instance's start plus the duration for
 * a bounded recurring one, and 253402300800000 (year 10000) for an
 * unbounded one. The range indexes lead with it, so "events overlapping
 * [start, end)" (RFC 4791 §9.9) is one index range (span_end_utc >= start)
 * instead of every event that started before `end` — on a calendar with
 * years of history that is the few current events, not all of them.
 */
import type { Migration } from "./types.ts";

/** span_end_utc of an unbounded recurring event: after every time the store accepts (storage/item-fields.ts). */
const UNBOUNDED_SPAN_END = 253402300800000;

export const migration: Migration = {
  version: 32,
  name: "calendar_span",
  steps: [
    { addColumn: { table: "calendar_items", column: { name: "span_end_utc", type: "integer", notNull: true, default: 0 } } },
    {
      sql: `UPDATE calendar_items SET span_end_utc = CASE WHEN is_recurring = 0 THEN dtend_utc
              WHEN last_instance_utc IS NULL THEN ${UNBOUNDED_SPAN_END} ELSE last_instance_utc + (dtend_utc - dtstart_utc) END`,
    },
    { dropIndex: "calendar_items_folder_range" },
    { dropIndex: "calendar_items_account_range" },
    { createIndex: { name: "calendar_items_folder_span", table: "calendar_items", columns: ["folder_id", "span_end_utc", "dtstart_utc"] } },
    { createIndex: { name: "calendar_items_account_span", table: "calendar_items", columns: ["account_id", "span_end_utc", "dtstart_utc"] } },
  ],
};
