/**
 * 0011: the address an ActiveSync device last connected from, so
 * `pillarbox user sessions EMAIL` can show where each device is (as it shows
 * each webmail session's IP).
 */
import type { Migration } from "./types.ts";

export const migration: Migration = {
  version: 11,
  name: "eas_device_ip",
  steps: [{ addColumn: { table: "eas_devices", column: { name: "last_ip", type: "text" } } }],
};
