/**
 * 0035: the people of an event, indexed (issue 15 asks organizer/attendees
 * among the fields an event is queried by). `calendar_people` holds one row
 * per address of a calendar item: its ORGANIZER and each ATTENDEE (RFC 5545
 * §3.8.4.3, §3.8.4.1; lower case, mailto: stripped), with the attendee's
 * PARTSTAT; deleted with the item. "Events bob organizes or attends" (the
 * scheduling code, later the ActiveSync meeting views) is one index range
 * on (account_id, address).
 */
import type { Migration } from "./types.ts";

export const migration: Migration = {
  version: 35,
  name: "calendar_people",
  steps: [
    {
      createTable: {
        name: "calendar_people",
        columns: [
          { name: "item_id", type: "integer", notNull: true, references: { table: "items", column: "id", onDelete: "cascade" } },
          { name: "account_id", type: "integer", notNull: true },
          { name: "address", type: "text", notNull: true },
          /** ORGANIZER or ATTENDEE. */
          { name: "role", type: "text", notNull: true },
          /** The attendee's PARTSTAT (RFC 5545 §3.2.12), upper case; NULL for the organizer. */
          { name: "partstat", type: "text" },
        ],
        primaryKey: ["item_id", "role", "address"],
      },
    },
    { createIndex: { name: "calendar_people_address", table: "calendar_people", columns: ["account_id", "address"] } },
    // events stored before this migration have no rows here until their next write; their organizer is in calendar_items
    { sql: "INSERT INTO calendar_people (item_id, account_id, address, role) SELECT item_id, account_id, lower(organizer), 'ORGANIZER' FROM calendar_items WHERE organizer IS NOT NULL AND organizer <> ''" },
  ],
};
