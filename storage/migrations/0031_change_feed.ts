/**
 * 0031: the account change feed (storage/changes.ts). What it adds to the
 * per-account change counter (`accounts.modseq`, RFC 7162 MODSEQ source):
 *  - `items.created_modseq`: the change at which an item entered its folder
 *    (delivery, append, copy, or a move into it), so the feed tells
 *    "created" from "changed". Backfilled from `modseq` (the best we know).
 *  - `folders.modseq` / `folders.created_modseq`: the folder's own last
 *    change (create, rename, subscribe, props, class) and its creation;
 *    `highest_modseq` also moves with its items, so it cannot say this.
 *    Backfilled with `highest_modseq` (a folder reported as changed once
 *    too often is harmless; one never reported is not) and 1.
 *  - `folder_tombstones`: deleted folders, so "what changed since N" can say
 *    a folder (and with it all its items) is gone.
 *  - `expunged.deleted_at` and `folder_tombstones.deleted_at`: when the
 *    deletion happened, so pruning can keep a retention by age.
 *  - `accounts.changes_floor`: deletions at or below it were pruned; a
 *    consumer whose last-seen change is below it must resync ("too old").
 *  - indexes (account_id, modseq) on every table the feed reads.
 */
import type { Migration } from "./types.ts";

export const migration: Migration = {
  version: 31,
  name: "change_feed",
  steps: [
    { addColumn: { table: "items", column: { name: "created_modseq", type: "integer", notNull: true, default: 0 } } },
    { sql: "UPDATE items SET created_modseq = modseq" },
    { addColumn: { table: "folders", column: { name: "modseq", type: "integer", notNull: true, default: 0 } } },
    { addColumn: { table: "folders", column: { name: "created_modseq", type: "integer", notNull: true, default: 0 } } },
    { sql: "UPDATE folders SET modseq = highest_modseq, created_modseq = 1" },
    { addColumn: { table: "accounts", column: { name: "changes_floor", type: "integer", notNull: true, default: 0 } } },
    { addColumn: { table: "expunged", column: { name: "deleted_at", type: "integer" } } },
    // Rows logged before this migration count as deleted now: kept one full retention from here.
    {
      sqlite: ["UPDATE expunged SET deleted_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000"],
      postgres: ["UPDATE expunged SET deleted_at = CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)"],
    },
    {
      createTable: {
        name: "folder_tombstones",
        columns: [
          { name: "id", type: "id" },
          { name: "account_id", type: "integer", notNull: true },
          { name: "folder_id", type: "integer", notNull: true },
          { name: "name", type: "text", notNull: true },
          { name: "item_class", type: "text", notNull: true },
          { name: "modseq", type: "integer", notNull: true },
          { name: "deleted_at", type: "integer", notNull: true },
        ],
      },
    },
    { createIndex: { name: "items_account_modseq", table: "items", columns: ["account_id", "modseq"] } },
    { createIndex: { name: "expunged_account_modseq", table: "expunged", columns: ["account_id", "modseq"] } },
    { createIndex: { name: "folders_account_modseq", table: "folders", columns: ["account_id", "modseq"] } },
    { createIndex: { name: "folder_tombstones_account_modseq", table: "folder_tombstones", columns: ["account_id", "modseq"] } },
  ],
};
