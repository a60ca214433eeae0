/**
 * Storage for Exchange ActiveSync: devices per account and the per-device
 * sync state (MS-ASCMD FolderSync/Sync keys, Ping parameters, loop
 * counters). Protocols never write SQL; this file keeps ActiveSync's SQL in
 * storage/. Tables: migrations/0010_eas.ts.
 *
 * Devices are also what the CLI (`pillarbox device list|remove|wipe`) and the
 * webmail settings page show: `listDevices`, `removeDevice`, `requestWipe`.
 */
import type { Db, Queryable } from "./db.ts";

/**
 * Remote wipe life cycle (MS-ASPROV remote wipe): an administrator or the
 * user asks ("requested", or "account-requested" for the 16.1 account-only
 * wipe); the next command from the device is answered with a provisioning
 * demand and the Provision response carries RemoteWipe ("pending"); the
 * device acknowledges ("wiped") and is refused from then on until removed.
 */
export type WipeStatus = "none" | "requested" | "account-requested" | "pending" | "account-pending" | "wiped";

export interface EasDevice {
  /** Internal row id (sync state is keyed by it). */
  pk: number;
  accountId: number;
  /** Account address (for listings). */
  email: string;
  deviceId: string;
  deviceType: string;
  userAgent: string | null;
  model: string | null;
  friendlyName: string | null;
  os: string | null;
  osLanguage: string | null;
  imei: string | null;
  phoneNumber: string | null;
  mobileOperator: string | null;
  protocolVersion: string | null;
  /** The acknowledged policy key, null while not provisioned. */
  policyKey: number | null;
  /** Temporary key of a Provision phase 1 awaiting acknowledgement. */
  pendingPolicyKey: number | null;
  wipeStatus: WipeStatus;
  wipeRequestedAt: number | null;
  wipedAt: number | null;
  /** JSON: last Ping parameters (a Ping without a body reuses them, MS-ASCMD §2.2.1.13). */
  pingState: string | null;
  /** JSON: last full Sync request (an empty Sync request reuses it, MS-ASCMD §2.2.1.21). */
  syncCache: string | null;
  firstSeen: number;
  lastSeen: number;
  /** The client address of the device's last request (null before migration 0011 saw it). */
  lastIp: string | null;
}

export type DevicePatch = Partial<
  Pick<
    EasDevice,
    | "deviceType"
    | "userAgent"
    | "model"
    | "friendlyName"
    | "os"
    | "osLanguage"
    | "imei"
    | "phoneNumber"
    | "mobileOperator"
    | "protocolVersion"
    | "policyKey"
    | "pendingPolicyKey"
    | "wipeStatus"
    | "wipeRequestedAt"
    | "wipedAt"
    | "pingState"
    | "syncCache"
    | "lastSeen"
  >
>;

export interface EasStore {
  /** Creates the device on first contact, refreshes type/agent/version and last-seen otherwise. */
  touchDevice(accountId: number, deviceId: string, info: { deviceType: string; userAgent: string | null; protocolVersion: string | null; ip?: string }, now: number): Promise<EasDevice>;
  getDevice(accountId: number, deviceId: string): Promise<EasDevice | null>;
  /** All devices, or one account's; newest contact first. */
  listDevices(accountId?: number): Promise<EasDevice[]>;
  updateDevice(pk: number, patch: DevicePatch): Promise<void>;
  /** Forgets a device and all its sync state. Returns false if there was none. */
  removeDevice(accountId: number, deviceId: string): Promise<boolean>;
  /** Forgets every device of an account and their sync state (`pillarbox user logout`). Returns how many. */
  removeAccountDevices(accountId: number): Promise<number>;
  /** Marks a device for remote wipe (whole device, or the account only: MS-ASPROV AccountOnlyRemoteWipe, 16.1). */
  requestWipe(accountId: number, deviceId: string, accountOnly?: boolean, now?: number): Promise<boolean>;

  // FolderSync state: JSON snapshot of the hierarchy the device knows, per key.
  folderKeys(device: number): Promise<number[]>;
  getFolderState(device: number, key: number): Promise<string | null>;
  /** Stores `key` and deletes every other key of the device except those in `keep`. */
  putFolderState(device: number, key: number, state: string, keep: number[]): Promise<void>;
  /** Drops every folder and collection state and loop counter of the device (FolderSync with SyncKey 0). */
  resetDeviceState(device: number): Promise<void>;

  // Collection (Sync) state: packed item snapshot + JSON meta, per key.
  /** Keys held for a collection, highest first. */
  syncKeys(device: number, collection: string): Promise<number[]>;
  getSyncState(device: number, collection: string, key: number): Promise<{ items: Uint8Array; meta: string } | null>;
  /** Stores `key` and deletes every other key of the collection except those in `keep`. */
  putSyncState(device: number, collection: string, key: number, items: Uint8Array, meta: string, keep: number[]): Promise<void>;
  dropSyncState(device: number, collection: string): Promise<void>;
  /** Collections with sync state (for a device's Ping and diagnostics). */
  syncedCollections(device: number): Promise<string[]>;

  // Loop detection: strikes per item a device failed to take.
  loopStrikes(device: number, collection: string): Promise<Map<number, number>>;
  strike(device: number, collection: string, itemIds: number[], now: number): Promise<void>;
  clearStrikes(device: number, collection: string, itemIds: number[]): Promise<void>;
}

interface DeviceRow {
  id: number;
  account_id: number;
  email: string;
  device_id: string;
  device_type: string;
  user_agent: string | null;
  model: string | null;
  friendly_name: string | null;
  os: string | null;
  os_language: string | null;
  imei: string | null;
  phone_number: string | null;
  mobile_operator: string | null;
  protocol_version: string | null;
  policy_key: number | null;
  pending_policy_key: number | null;
  wipe_status: string;
  wipe_requested_at: number | null;
  wiped_at: number | null;
  ping_state: string | null;
  sync_cache: string | null;
  first_seen: number;
  last_seen: number;
  last_ip: string | null;
}

const DEVICE_COLS = `d.id, d.account_id, a.email, d.device_id, d.device_type, d.user_agent, d.model, d.friendly_name, d.os, d.os_language, d.imei,
  d.phone_number, d.mobile_operator, d.protocol_version, d.policy_key, d.pending_policy_key, d.wipe_status, d.wipe_requested_at, d.wiped_at,
  d.ping_state, d.sync_cache, d.first_seen, d.last_seen, d.last_ip`;

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function toDevice(r: DeviceRow): EasDevice {
  return {
    pk: Number(r.id),
    accountId: Number(r.account_id),
    email: r.email,
    deviceId: r.device_id,
    deviceType: r.device_type,
    userAgent: r.user_agent,
    model: r.model,
    friendlyName: r.friendly_name,
    os: r.os,
    osLanguage: r.os_language,
    imei: r.imei,
    phoneNumber: r.phone_number,
    mobileOperator: r.mobile_operator,
    protocolVersion: r.protocol_version,
    policyKey: num(r.policy_key),
    pendingPolicyKey: num(r.pending_policy_key),
    wipeStatus: r.wipe_status as WipeStatus,
    wipeRequestedAt: num(r.wipe_requested_at),
    wipedAt: num(r.wiped_at),
    pingState: r.ping_state,
    syncCache: r.sync_cache,
    firstSeen: Number(r.first_seen),
    lastSeen: Number(r.last_seen),
    lastIp: r.last_ip ?? null,
  };
}

const PATCH_COLUMNS: Record<keyof DevicePatch, string> = {
  deviceType: "device_type",
  userAgent: "user_agent",
  model: "model",
  friendlyName: "friendly_name",
  os: "os",
  osLanguage: "os_language",
  imei: "imei",
  phoneNumber: "phone_number",
  mobileOperator: "mobile_operator",
  protocolVersion: "protocol_version",
  policyKey: "policy_key",
  pendingPolicyKey: "pending_policy_key",
  wipeStatus: "wipe_status",
  wipeRequestedAt: "wipe_requested_at",
  wipedAt: "wiped_at",
  pingState: "ping_state",
  syncCache: "sync_cache",
  lastSeen: "last_seen",
};

/** Placeholders "?, ?, ?" for an IN list. */
const marks = (n: number) => Array(n).fill("?").join(", ");

export function createEasStore(db: Db): EasStore {
  const getDevice = async (q: Queryable, accountId: number, deviceId: string): Promise<EasDevice | null> => {
    const r = await q.get<DeviceRow>(`SELECT ${DEVICE_COLS} FROM eas_devices d JOIN accounts a ON a.id = d.account_id WHERE d.account_id = ? AND d.device_id = ?`, [accountId, deviceId]);
    return r ? toDevice(r) : null;
  };

  return {
    async touchDevice(accountId, deviceId, info, now) {
      const existing = await getDevice(db, accountId, deviceId);
      if (existing && existing.deviceType === info.deviceType && existing.userAgent === info.userAgent && existing.protocolVersion === info.protocolVersion && (info.ip === undefined || existing.lastIp === info.ip) && now - existing.lastSeen < 60_000) {
        return existing; // nothing to write: keeps the hot path (Ping, Sync) free of write transactions
      }
      await db.write(async (tx) => {
        await tx.run(
          `INSERT INTO eas_devices (account_id, device_id, device_type, user_agent, protocol_version, first_seen, last_seen, last_ip)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (account_id, device_id) DO UPDATE SET
             device_type = excluded.device_type,
             user_agent = COALESCE(excluded.user_agent, eas_devices.user_agent),
             protocol_version = COALESCE(excluded.protocol_version, eas_devices.protocol_version),
             last_seen = excluded.last_seen,
             last_ip = COALESCE(excluded.last_ip, eas_devices.last_ip)`,
          [accountId, deviceId, info.deviceType, info.userAgent, info.protocolVersion, now, now, info.ip ?? null],
        );
      });
      return (await getDevice(db, accountId, deviceId))!;
    },

    getDevice: (accountId, deviceId) => getDevice(db, accountId, deviceId),

    async listDevices(accountId) {
      const rows =
        accountId === undefined
          ? await db.all<DeviceRow>(`SELECT ${DEVICE_COLS} FROM eas_devices d JOIN accounts a ON a.id = d.account_id ORDER BY d.last_seen DESC, d.id`)
          : await db.all<DeviceRow>(`SELECT ${DEVICE_COLS} FROM eas_devices d JOIN accounts a ON a.id = d.account_id WHERE d.account_id = ? ORDER BY d.last_seen DESC, d.id`, [accountId]);
      return rows.map(toDevice);
    },

    async updateDevice(pk, patch) {
      const sets: string[] = [];
      const args: (string | number | null)[] = [];
      for (const [k, v] of Object.entries(patch) as [keyof DevicePatch, string | number | null | undefined][]) {
        if (v === undefined) continue;
        sets.push(`${PATCH_COLUMNS[k]} = ?`);
        args.push(v);
      }
      if (!sets.length) return;
      args.push(pk);
      await db.write((tx) => tx.run(`UPDATE eas_devices SET ${sets.join(", ")} WHERE id = ?`, args));
    },

    async removeDevice(accountId, deviceId) {
      return db.write(async (tx) => {
        const r = await tx.get<{ id: number }>("SELECT id FROM eas_devices WHERE account_id = ? AND device_id = ?", [accountId, deviceId]);
        if (!r) return false;
        // Explicit deletes: the cascade needs foreign_keys=ON, which a remote engine may not have.
        for (const t of ["eas_folder_state", "eas_sync_state", "eas_loop"]) await tx.run(`DELETE FROM ${t} WHERE device = ?`, [r.id]);
        await tx.run("DELETE FROM eas_devices WHERE id = ?", [r.id]);
        return true;
      });
    },

    async removeAccountDevices(accountId) {
      return db.write(async (tx) => {
        const ids = (await tx.all<{ id: number }>("SELECT id FROM eas_devices WHERE account_id = ?", [accountId])).map((r) => Number(r.id));
        for (const id of ids) {
          for (const t of ["eas_folder_state", "eas_sync_state", "eas_loop"]) await tx.run(`DELETE FROM ${t} WHERE device = ?`, [id]);
          await tx.run("DELETE FROM eas_devices WHERE id = ?", [id]);
        }
        return ids.length;
      });
    },

    async requestWipe(accountId, deviceId, accountOnly = false, now = Date.now()) {
      const res = await db.write((tx) =>
        tx.run("UPDATE eas_devices SET wipe_status = ?, wipe_requested_at = ? WHERE account_id = ? AND device_id = ?", [accountOnly ? "account-requested" : "requested", now, accountId, deviceId]),
      );
      return res.changes > 0;
    },

    async folderKeys(device) {
      const rows = await db.all<{ sync_key: number }>("SELECT sync_key FROM eas_folder_state WHERE device = ? ORDER BY sync_key DESC", [device]);
      return rows.map((r) => Number(r.sync_key));
    },

    async getFolderState(device, key) {
      const r = await db.get<{ state: string }>("SELECT state FROM eas_folder_state WHERE device = ? AND sync_key = ?", [device, key]);
      return r ? r.state : null;
    },

    async putFolderState(device, key, state, keep) {
      const all = [key, ...keep];
      await db.write(async (tx) => {
        await tx.run(
          `INSERT INTO eas_folder_state (device, sync_key, state, created_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (device, sync_key) DO UPDATE SET state = excluded.state, created_at = excluded.created_at`,
          [device, key, state, Date.now()],
        );
        await tx.run(`DELETE FROM eas_folder_state WHERE device = ? AND sync_key NOT IN (${marks(all.length)})`, [device, ...all]);
      });
    },

    async resetDeviceState(device) {
      await db.write(async (tx) => {
        for (const t of ["eas_folder_state", "eas_sync_state", "eas_loop"]) await tx.run(`DELETE FROM ${t} WHERE device = ?`, [device]);
      });
    },

    async syncKeys(device, collection) {
      const rows = await db.all<{ sync_key: number }>("SELECT sync_key FROM eas_sync_state WHERE device = ? AND collection = ? ORDER BY sync_key DESC", [device, collection]);
      return rows.map((r) => Number(r.sync_key));
    },

    async getSyncState(device, collection, key) {
      const r = await db.get<{ items: Uint8Array | ArrayBuffer; meta: string }>("SELECT items, meta FROM eas_sync_state WHERE device = ? AND collection = ? AND sync_key = ?", [device, collection, key]);
      if (!r) return null;
      const items = r.items instanceof Uint8Array ? r.items : new Uint8Array(r.items);
      return { items, meta: r.meta };
    },

    async putSyncState(device, collection, key, items, meta, keep) {
      const all = [key, ...keep];
      await db.write(async (tx) => {
        await tx.run(
          `INSERT INTO eas_sync_state (device, collection, sync_key, items, meta, created_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (device, collection, sync_key) DO UPDATE SET items = excluded.items, meta = excluded.meta, created_at = excluded.created_at`,
          [device, collection, key, items, meta, Date.now()],
        );
        await tx.run(`DELETE FROM eas_sync_state WHERE device = ? AND collection = ? AND sync_key NOT IN (${marks(all.length)})`, [device, collection, ...all]);
      });
    },

    async dropSyncState(device, collection) {
      await db.write(async (tx) => {
        await tx.run("DELETE FROM eas_sync_state WHERE device = ? AND collection = ?", [device, collection]);
        await tx.run("DELETE FROM eas_loop WHERE device = ? AND collection = ?", [device, collection]);
      });
    },

    async syncedCollections(device) {
      const rows = await db.all<{ collection: string }>("SELECT DISTINCT collection FROM eas_sync_state WHERE device = ?", [device]);
      return rows.map((r) => r.collection);
    },

    async loopStrikes(device, collection) {
      const rows = await db.all<{ item_id: number; strikes: number }>("SELECT item_id, strikes FROM eas_loop WHERE device = ? AND collection = ?", [device, collection]);
      return new Map(rows.map((r) => [Number(r.item_id), Number(r.strikes)]));
    },

    async strike(device, collection, itemIds, now) {
      if (!itemIds.length) return;
      await db.write(async (tx) => {
        for (const id of itemIds) {
          await tx.run(
            `INSERT INTO eas_loop (device, collection, item_id, strikes, updated_at) VALUES (?, ?, ?, 1, ?)
             ON CONFLICT (device, collection, item_id) DO UPDATE SET strikes = eas_loop.strikes + 1, updated_at = excluded.updated_at`,
            [device, collection, id, now],
          );
        }
      });
    },

    async clearStrikes(device, collection, itemIds) {
      if (!itemIds.length) return;
      await db.write(async (tx) => {
        for (let i = 0; i < itemIds.length; i += 500) {
          const chunk = itemIds.slice(i, i + 500);
          await tx.run(`DELETE FROM eas_loop WHERE device = ? AND collection = ? AND item_id IN (${marks(chunk.length)})`, [device, collection, ...chunk]);
        }
      });
    },
  };
}
