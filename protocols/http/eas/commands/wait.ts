/**
 * The long poll shared by Ping (MS-ASCMD §2.2.1.13) and Sync with Wait /
 * HeartbeatInterval (§2.2.3.198): waits on the store's event bus for a
 * change in one of the watched folders, re-checks that folder against the
 * device's sync state (so a change the device already has does not wake
 * it), and gives up after the heartbeat. One long poll per device: a new
 * one ends the previous one (its answer is "no changes"), as does the client
 * going away, so a device that reconnects never leaves a poll behind.
 */
import type { Folder, StoreEvent } from "../../../../storage/api.ts";
import type { EasContext } from "../context.ts";

export type WaitOutcome = { changed: Folder[] } | { hierarchy: true } | null;

/** Active long polls by device row id. */
const active = new Map<number, () => void>();

/** Number of long polls held open right now (diagnostics, benchmarks). */
export function activeWaits(): number {
  return active.size;
}

/** Ends the device's outstanding long poll, if any (it answers "no changes"). */
export function endWait(devicePk: number): void {
  active.get(devicePk)?.();
}

/** Coalesces bursts of events (a 100-message move) into one check. */
const CHECK_DELAY_MS = 20;

export function waitForChange(
  c: EasContext,
  timeoutMs: number,
  folders: Folder[],
  check: (f: Folder) => Promise<boolean>,
  watchHierarchy = false,
): Promise<WaitOutcome> {
  const pk = c.device.pk;
  return new Promise((resolve) => {
    let done = false;
    const byId = new Map(folders.map((f) => [f.id, f]));
    const dirty = new Set<number>();
    let checkTimer: ReturnType<typeof setTimeout> | null = null;
    let checking = false;

    const finish = (v: WaitOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (checkTimer) clearTimeout(checkTimer);
      unsubscribe();
      c.signal.removeEventListener("abort", onAbort);
      if (active.get(pk) === cancel) active.delete(pk);
      resolve(v);
    };
    const cancel = () => finish(null);
    const onAbort = () => finish(null);

    const runChecks = async () => {
      checkTimer = null;
      if (done || checking) return;
      checking = true;
      try {
        const ids = [...dirty];
        dirty.clear();
        const changed: Folder[] = [];
        for (const id of ids) {
          const f = byId.get(id);
          if (f && (await check(f))) changed.push(f);
        }
        if (changed.length) finish({ changed });
      } catch (e) {
        c.log.warn("eas: change check failed during a long poll", { err: e });
      } finally {
        checking = false;
        if (!done && dirty.size && !checkTimer) checkTimer = setTimeout(() => void runChecks(), CHECK_DELAY_MS);
      }
    };

    const onEvent = (ev: StoreEvent) => {
      if (done) return;
      if (ev.type === "folder") {
        if (watchHierarchy && ev.change !== "subscribed") finish({ hierarchy: true });
        return;
      }
      if (!byId.has(ev.folderId)) return;
      dirty.add(ev.folderId);
      if (!checkTimer && !checking) checkTimer = setTimeout(() => void runChecks(), CHECK_DELAY_MS);
    };

    active.get(pk)?.();
    active.set(pk, cancel);
    const unsubscribe = c.store.events.subscribe(c.account.id, onEvent);
    const timer = setTimeout(() => finish(null), timeoutMs);
    if (c.signal.aborted) finish(null);
    else c.signal.addEventListener("abort", onAbort);
  });
}
