/**
 * 0010: Exchange ActiveSync state (MS-ASCMD, MS-ASPROV). Everything a device
 * needs to resume after a server restart without a full resync lives here:
 * the device row (policy key, wipe status, Ping and empty-Sync parameters),
 * the folder-hierarchy snapshots per FolderSync key and the item snapshots
 * per collection Sync key (the current one and the previous one, so a
 * client that re-sends its last key after a lost response is answered), and
 * the per-item counters of the loop detector.
 */
import type { Migration } from "./types.ts";

const device = { name: "device", type: "integer", notNull: true, references: { table: "eas_devices", column: "id", onDelete: "cascade" } } as const;

export const migration: Migration = {
  version: 10,
  name: "eas",
  steps: [
    // id: a removed and re-added device never gets the id (and so the sync keys) of an old one.
    {
      createTable: {
        name: "eas_devices",
        columns: [
          { name: "id", type: "id" },
          { name: "account_id", type: "integer", notNull: true, references: { table: "accounts", column: "id", onDelete: "cascade" } },
          { name: "device_id", type: "text", notNull: true },
          { name: "device_type", type: "text", notNull: true, default: "" },
          { name: "user_agent", type: "text" },
          { name: "model", type: "text" },
          { name: "friendly_name", type: "text" },
          { name: "os", type: "text" },
          { name: "os_language", type: "text" },
          { name: "imei", type: "text" },
          { name: "phone_number", type: "text" },
          { name: "mobile_operator", type: "text" },
          { name: "protocol_version", type: "text" },
          { name: "policy_key", type: "integer" },
          { name: "pending_policy_key", type: "integer" },
          { name: "wipe_status", type: "text", notNull: true, default: "none" },
          { name: "wipe_requested_at", type: "integer" },
          { name: "wiped_at", type: "integer" },
          { name: "ping_state", type: "text" },
          { name: "sync_cache", type: "text" },
          { name: "first_seen", type: "integer", notNull: true },
          { name: "last_seen", type: "integer", notNull: true },
        ],
        unique: [["account_id", "device_id"]],
      },
    },
    {
      createTable: {
        name: "eas_folder_state",
        columns: [
          device,
          { name: "sync_key", type: "integer", notNull: true },
          { name: "state", type: "text", notNull: true },
          { name: "created_at", type: "integer", notNull: true },
        ],
        primaryKey: ["device", "sync_key"],
      },
    },
    {
      createTable: {
        name: "eas_sync_state",
        columns: [
          device,
          { name: "collection", type: "text", notNull: true },
          { name: "sync_key", type: "integer", notNull: true },
          { name: "items", type: "blob", notNull: true },
          { name: "meta", type: "text", notNull: true },
          { name: "created_at", type: "integer", notNull: true },
        ],
        primaryKey: ["device", "collection", "sync_key"],
      },
    },
    {
      createTable: {
        name: "eas_loop",
        columns: [
          device,
          { name: "collection", type: "text", notNull: true },
          { name: "item_id", type: "integer", notNull: true },
          { name: "strikes", type: "integer", notNull: true },
          { name: "updated_at", type: "integer", notNull: true },
        ],
        primaryKey: ["device", "collection", "item_id"],
      },
    },
  ],
};
