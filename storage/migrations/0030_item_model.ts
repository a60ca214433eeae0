/**
 * 0030: the generic item model (storage/items.ts). Items of every class stay
 * rows of `items` (stable id, folder UID, MODSEQ, blob of the canonical body:
 * MIME for mail and notes, iCalendar for events and tasks, vCard for
 * contacts); what a class is queried by lives in its own index table keyed
 * by `item_id`, deleted with the item (ON DELETE CASCADE):
 *  - `calendar_items`: one row per VEVENT item (a master, or an overridden
 *    instance with its RECURRENCE-ID), times in UTC ms; `last_instance_utc`
 *    is the start of the last instance of a recurring event, NULL when the
 *    rule is unbounded (RFC 5545 §3.3.10 without COUNT/UNTIL);
 *  - `contact_items` + `contact_terms` (lower-case e-mail addresses and name
 *    words, for prefix lookups from an index);
 *  - `task_items` (VTODO), `note_items` (notes are text/plain MIME messages,
 *    as EAS Notes, EWS and MAPI IPM.StickyNote carry them; no VJOURNAL);
 *  - `item_properties`: typed properties of an item or a folder, keyed by a
 *    MAPI property id or a named property (property set GUID + name or
 *    numeric id), single- or multi-valued (one row per value, `position`),
 *    ready for EWS extended properties and MAPI. The owner is also held as a
 *    foreign key (`item_id` or `folder_id`) so deleting it deletes them.
 *
 * Folder names of non-mail classes live in their own name space: the stored
 * name is prefixed with "\x01<class>\x01" (storage/folder-names.ts), which no
 * folder name can contain (control characters are refused), so a calendar
 * folder "Calendar" and an IMAP folder "Calendar" never collide under the
 * table's UNIQUE (account_id, name). Existing non-mail folders are renamed.
 */
import type { Migration } from "./types.ts";

const owner = [
  { name: "item_id", type: "integer" as const, primaryKey: true, references: { table: "items", column: "id", onDelete: "cascade" as const } },
  { name: "account_id", type: "integer" as const, notNull: true },
  { name: "folder_id", type: "integer" as const, notNull: true },
];

export const migration: Migration = {
  version: 30,
  name: "item_model",
  steps: [
    {
      createTable: {
        name: "calendar_items",
        columns: [
          ...owner,
          { name: "uid", type: "text", notNull: true },
          { name: "recurrence_id", type: "integer" },
          { name: "dtstart_utc", type: "integer", notNull: true },
          { name: "dtend_utc", type: "integer", notNull: true },
          { name: "all_day", type: "integer", notNull: true, default: 0 },
          { name: "is_recurring", type: "integer", notNull: true, default: 0 },
          { name: "rrule", type: "text" },
          { name: "last_instance_utc", type: "integer" },
          { name: "summary", type: "text", notNull: true, default: "" },
          { name: "location", type: "text", notNull: true, default: "" },
          { name: "organizer", type: "text" },
          { name: "status", type: "text" },
          { name: "transp", type: "text" },
          { name: "sequence", type: "integer", notNull: true, default: 0 },
        ],
      },
    },
    { createIndex: { name: "calendar_items_folder_range", table: "calendar_items", columns: ["folder_id", "dtstart_utc", "dtend_utc"] } },
    { createIndex: { name: "calendar_items_account_range", table: "calendar_items", columns: ["account_id", "dtstart_utc", "dtend_utc"] } },
    { createIndex: { name: "calendar_items_uid", table: "calendar_items", columns: ["account_id", "uid"] } },
    {
      createTable: {
        name: "contact_items",
        columns: [
          ...owner,
          { name: "uid", type: "text", notNull: true },
          { name: "full_name", type: "text", notNull: true, default: "" },
          { name: "sort_name", type: "text", notNull: true, default: "" },
          /** Lower-case addresses, one a line. */
          { name: "emails", type: "text", notNull: true, default: "" },
          /** Phone numbers as given, one a line. */
          { name: "phones", type: "text", notNull: true, default: "" },
          { name: "org", type: "text", notNull: true, default: "" },
        ],
      },
    },
    { createIndex: { name: "contact_items_uid", table: "contact_items", columns: ["account_id", "uid"] } },
    { createIndex: { name: "contact_items_sort", table: "contact_items", columns: ["folder_id", "sort_name"] } },
    {
      createTable: {
        name: "contact_terms",
        columns: [
          { name: "item_id", type: "integer", notNull: true, references: { table: "items", column: "id", onDelete: "cascade" } },
          { name: "account_id", type: "integer", notNull: true },
          { name: "term", type: "text", notNull: true },
        ],
        primaryKey: ["item_id", "term"],
      },
    },
    // Prefix lookups are ranges (term >= p AND term < p'): they need byte order, which SQLite's
    // BINARY collation is and a PostgreSQL database's default collation may not be.
    { postgres: [`ALTER TABLE contact_terms ALTER COLUMN term TYPE TEXT COLLATE "C"`] },
    { createIndex: { name: "contact_terms_prefix", table: "contact_terms", columns: ["account_id", "term"] } },
    {
      createTable: {
        name: "task_items",
        columns: [
          ...owner,
          { name: "uid", type: "text", notNull: true },
          { name: "summary", type: "text", notNull: true, default: "" },
          { name: "due_utc", type: "integer" },
          { name: "start_utc", type: "integer" },
          { name: "completed_utc", type: "integer" },
          { name: "status", type: "text" },
          { name: "priority", type: "integer", notNull: true, default: 0 },
          { name: "is_recurring", type: "integer", notNull: true, default: 0 },
        ],
      },
    },
    { createIndex: { name: "task_items_folder_due", table: "task_items", columns: ["folder_id", "due_utc"] } },
    { createIndex: { name: "task_items_uid", table: "task_items", columns: ["account_id", "uid"] } },
    {
      createTable: {
        name: "note_items",
        columns: [...owner, { name: "subject", type: "text", notNull: true, default: "" }],
      },
    },
    {
      createTable: {
        name: "item_properties",
        columns: [
          { name: "account_id", type: "integer", notNull: true },
          /** "item" or "folder". */
          { name: "owner_kind", type: "text", notNull: true },
          { name: "owner_id", type: "integer", notNull: true },
          /** The owner again, as a foreign key: deleting it deletes its properties. */
          { name: "item_id", type: "integer", references: { table: "items", column: "id", onDelete: "cascade" } },
          { name: "folder_id", type: "integer", references: { table: "folders", column: "id", onDelete: "cascade" } },
          /** Canonical key (storage/item-properties.ts): "tag:<id>", "name:<guid>:<name>" or "lid:<guid>:<id>". */
          { name: "prop_key", type: "text", notNull: true },
          /** MAPI property id (0x0001-0xFFFE) of a tagged property, else NULL. */
          { name: "prop_tag", type: "integer" },
          /** Property set GUID (lower case) of a named property, else NULL. */
          { name: "prop_set", type: "text" },
          { name: "prop_name", type: "text" },
          { name: "prop_lid", type: "integer" },
          /** int | bool | real | time | string | binary | guid. */
          { name: "prop_type", type: "text", notNull: true },
          { name: "multi", type: "integer", notNull: true, default: 0 },
          /** Index of the value in a multi-valued property (0 for a single value). */
          { name: "position", type: "integer", notNull: true, default: 0 },
          { name: "int_value", type: "integer" },
          { name: "real_value", type: "real" },
          { name: "text_value", type: "text" },
          { name: "blob_value", type: "blob" },
        ],
        primaryKey: ["owner_kind", "owner_id", "prop_key", "position"],
      },
    },
    { createIndex: { name: "item_properties_item", table: "item_properties", columns: ["item_id"] } },
    { createIndex: { name: "item_properties_folder", table: "item_properties", columns: ["folder_id"] } },
    // non-mail folders move into their class's name space (see above)
    {
      sqlite: ["UPDATE folders SET name = char(1) || item_class || char(1) || name WHERE item_class <> 'mail' AND substr(name, 1, 1) <> char(1)"],
      postgres: ["UPDATE folders SET name = chr(1) || item_class || chr(1) || name WHERE item_class <> 'mail' AND substr(name, 1, 1) <> chr(1)"],
    },
  ],
};
