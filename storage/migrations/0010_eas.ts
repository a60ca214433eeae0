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

export const migration: Migration = {
  version: 10,
  name: "eas",
  statements: [
    // AUTOINCREMENT: a removed and re-added device never gets the id (and so the sync keys) of an old one.
    `CREATE TABLE eas_devices (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      device_id TEXT NOT NULL,
      device_type TEXT NOT NULL DEFAULT '',
      user_agent TEXT,
      model TEXT,
      friendly_name TEXT,
      os TEXT,
      os_language TEXT,
      imei TEXT,
      phone_number TEXT,
      mobile_operator TEXT,
      protocol_version TEXT,
      policy_key INTEGER,
      pending_policy_key INTEGER,
      wipe_status TEXT NOT NULL DEFAULT 'none',
      wipe_requested_at INTEGER,
      wiped_at INTEGER,
      ping_state TEXT,
      sync_cache TEXT,
      first_seen INTEGER NOT NULL,
      last_seen INTEGER NOT NULL,
      UNIQUE (account_id, device_id)
    )`,
    `CREATE TABLE eas_folder_state (
      device INTEGER NOT NULL REFERENCES eas_devices(id) ON DELETE CASCADE,
      sync_key INTEGER NOT NULL,
      state TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      PRIMARY KEY (device, sync_key)
    )`,
    `CREATE TABLE eas_sync_state (
      device INTEGER NOT NULL REFERENCES eas_devices(id) ON DELETE CASCADE,
      collection TEXT NOT NULL,
      sync_key INTEGER NOT NULL,
      items BLOB NOT NULL,
      meta TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      PRIMARY KEY (device, collection, sync_key)
    )`,
    `CREATE TABLE eas_loop (
      device INTEGER NOT NULL REFERENCES eas_devices(id) ON DELETE CASCADE,
      collection TEXT NOT NULL,
      item_id INTEGER NOT NULL,
      strikes INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (device, collection, item_id)
    )`,
  ],
};
