/**
 * Ping (MS-ASCMD §2.2.1.13): the device names folders and a heartbeat; the
 * server answers as soon as one of them has changes for the device (Status
 * 2 with the folders), or after the heartbeat (Status 1). A Ping without a
 * body reuses the last parameters (kept on the device row, so they survive
 * a restart). Out-of-range heartbeats get Status 5 with the limit, too many
 * folders Status 6 with MaxFolders, unknown folders Status 7.
 */
import type { Folder } from "../../../../storage/api.ts";
import type { CommandHandler } from "../context.ts";
import { folderByServerId } from "../folders.ts";
import { PingStatus } from "../status.ts";
import { syncClassForFolder } from "../sync/classes.ts";
import { hasPendingChanges } from "../sync/engine.ts";
import { kid, kids, kidText, ns } from "../wbxml/tree.ts";
import { waitForChange } from "./wait.ts";

const P = ns("Ping");

/** Heartbeat bounds in seconds (MS-ASCMD HeartbeatInterval (Ping): the server chooses; Exchange's defaults). */
export const PING_MIN_HEARTBEAT = 60;
export const PING_MAX_HEARTBEAT = 3540;
export const PING_MAX_FOLDERS = 300;

interface PingState {
  heartbeat: number;
  folders: { id: string; cls: string }[];
}

export const ping: CommandHandler = async (c, doc) => {
  let state: PingState | null = null;
  try {
    state = c.device.pingState ? (JSON.parse(c.device.pingState) as PingState) : null;
  } catch {
    state = null;
  }
  let heartbeat = state?.heartbeat;
  let folders = state?.folders;
  if (doc) {
    const hb = kidText(doc, "Ping:HeartbeatInterval");
    if (hb !== undefined) {
      const h = Number(hb);
      if (!Number.isInteger(h) || h < PING_MIN_HEARTBEAT) return { wbxml: P("Ping", P("Status", PingStatus.HeartbeatOutOfRange), P("HeartbeatInterval", PING_MIN_HEARTBEAT)) };
      if (h > PING_MAX_HEARTBEAT) return { wbxml: P("Ping", P("Status", PingStatus.HeartbeatOutOfRange), P("HeartbeatInterval", PING_MAX_HEARTBEAT)) };
      heartbeat = h;
    }
    const fEl = kid(doc, "Ping:Folders");
    if (fEl) {
      const list = kids(fEl, "Ping:Folder").map((f) => ({ id: kidText(f, "Ping:Id") ?? "", cls: kidText(f, "Ping:Class") ?? "Email" }));
      if (list.some((f) => f.id === "")) return { wbxml: P("Ping", P("Status", PingStatus.ProtocolError)) };
      if (list.length > PING_MAX_FOLDERS) return { wbxml: P("Ping", P("Status", PingStatus.TooManyFolders), P("MaxFolders", PING_MAX_FOLDERS)) };
      folders = list;
    }
  }
  if (heartbeat === undefined || !folders || folders.length === 0) return { wbxml: P("Ping", P("Status", PingStatus.MissingParameters)) };

  const resolved: Folder[] = [];
  for (const f of folders) {
    const folder = await folderByServerId(c.store, c.account.id, f.id);
    if (!folder || !syncClassForFolder(folder)) return { wbxml: P("Ping", P("Status", PingStatus.FolderHierarchyChanged)) };
    resolved.push(folder);
  }
  const next = JSON.stringify({ heartbeat, folders } satisfies PingState);
  if (next !== c.device.pingState) {
    await c.eas.updateDevice(c.device.pk, { pingState: next });
    c.device.pingState = next;
  }

  const check = async (f: Folder) => hasPendingChanges(c, syncClassForFolder(f)!, f, String(f.id));
  // Changes that happened before the Ping arrived count at once.
  const already: Folder[] = [];
  for (const f of resolved) if (await check(f)) already.push(f);
  if (already.length) return { wbxml: P("Ping", P("Status", PingStatus.Changes), P("Folders", already.map((f) => P("Folder", String(f.id))))) };

  const outcome = await waitForChange(c, heartbeat * 1000, resolved, check, true);
  if (!outcome) return { wbxml: P("Ping", P("Status", PingStatus.Expired)) };
  if ("hierarchy" in outcome) return { wbxml: P("Ping", P("Status", PingStatus.FolderHierarchyChanged)) };
  return { wbxml: P("Ping", P("Status", PingStatus.Changes), P("Folders", outcome.changed.map((f) => P("Folder", String(f.id))))) };
};
