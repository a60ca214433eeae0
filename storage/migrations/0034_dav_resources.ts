/**
 * 0034: what CalDAV/CardDAV need of the item model (issue 15).
 *  - `items.resource_name`: the last segment of an object's DAV URL as the
 *    client chose it (RFC 4791 §5.3.2, RFC 6352 §6.3.2: the client names the
 *    resource with its PUT), unique in its folder, kept across updates and
 *    moves. NULL for mail and notes. A partial unique index: mail rows (no
 *    name) add nothing to it, and mail writes never change the column.
 *  - `expunged.resource_name`: the name an item had when it left its folder,
 *    so a sync-collection report (RFC 6578 §3.5.1) can answer a removed
 *    member by its href after the row is gone.
 *  - the UID lookups of the three classes lead with (account_id, uid) and add
 *    folder_id, so "the item of UID u in folder f" (no-uid-conflict, RFC 4791
 *    §5.3.2.1; RFC 6352 §6.3.2.1) is one index probe.
 */
import type { Migration } from "./types.ts";

export const migration: Migration = {
  version: 34,
  name: "dav_resources",
  steps: [
    { addColumn: { table: "items", column: { name: "resource_name", type: "text" } } },
    { createIndex: { name: "items_resource_name", table: "items", columns: ["folder_id", "resource_name"], unique: true, where: "resource_name IS NOT NULL" } },
    { addColumn: { table: "expunged", column: { name: "resource_name", type: "text" } } },
    { dropIndex: "calendar_items_uid" },
    { createIndex: { name: "calendar_items_uid", table: "calendar_items", columns: ["account_id", "uid", "folder_id"] } },
    { dropIndex: "contact_items_uid" },
    { createIndex: { name: "contact_items_uid", table: "contact_items", columns: ["account_id", "uid", "folder_id"] } },
    { dropIndex: "task_items_uid" },
    { createIndex: { name: "task_items_uid", table: "task_items", columns: ["account_id", "uid", "folder_id"] } },
  ],
};
