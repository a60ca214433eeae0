/**
 * Sync (MS-ASCMD §2.2.1.21): parses the request, runs each collection
 * through the engine, and handles the protocol's request-level features:
 * the empty request (reuse of the cached last request, Status 13 without
 * one), Partial, Wait / HeartbeatInterval long-polling (Status 14 with
 * Limit when out of range), the request-wide WindowSize.
 */
import type { CommandHandler, EasContext, EasResult } from "../context.ts";
import { folderByServerId } from "../folders.ts";
import { SyncStatus } from "../status.ts";
import { syncClassByName, syncClassForFolder, type CollectionOptions } from "../sync/classes.ts";
import { collectionStatus, DEFAULT_WINDOW, hasPendingChanges, MAX_WINDOW, parseOptions, syncCollection, validOptions } from "../sync/engine.ts";
import { isElement, kid, kids, kidText, ns, qn, text, type WElement } from "../wbxml/tree.ts";
import { waitForChange } from "./wait.ts";

const A = ns("AirSync");

/** MS-ASCMD §2.2.3.198 Wait: 1-59 minutes; §2.2.3.88.2 HeartbeatInterval: 60-3540 seconds. */
export const SYNC_MIN_HEARTBEAT = 60;
export const SYNC_MAX_HEARTBEAT = 3540;
const MAX_COLLECTIONS = 1000;

interface CachedCollection {
  collectionId: string;
  syncKey: string;
  className?: string;
  windowSize?: number;
  deletesAsMoves?: boolean;
  getChanges?: boolean;
  options?: CollectionOptions | null;
}

interface SyncCache {
  collections: CachedCollection[];
  windowSize?: number;
  heartbeat?: number;
}

function parseCache(s: string | null): SyncCache | null {
  if (!s) return null;
  try {
    return JSON.parse(s) as SyncCache;
  } catch {
    return null;
  }
}

function parseCollection(e: WElement): CachedCollection | { error: true } {
  const collectionId = kidText(e, "AirSync:CollectionId");
  const syncKey = kidText(e, "AirSync:SyncKey");
  if (collectionId === undefined || syncKey === undefined) return { error: true };
  const ws = kidText(e, "AirSync:WindowSize");
  const dam = kid(e, "AirSync:DeletesAsMoves");
  const gc = kid(e, "AirSync:GetChanges");
  const cls = kidText(e, "AirSync:Class");
  // MS-ASCMD §2.2.3.43/§2.2.3.84: an empty element means 1 (true).
  const bool = (x: WElement | undefined) => (x === undefined ? undefined : text(x).trim() !== "0");
  return {
    collectionId,
    syncKey,
    className: cls,
    windowSize: ws !== undefined ? Number(ws) : undefined,
    deletesAsMoves: bool(dam),
    getChanges: bool(gc),
  };
}

/** MS-ASCMD §2.2.3.179 Supported: the qualified names of the elements the device manages (null when absent). At most 500. */
function supportedOf(e: WElement): string[] | null {
  const sup = kid(e, "AirSync:Supported");
  if (!sup) return null;
  return sup.children
    .filter(isElement)
    .slice(0, 500)
    .map((x) => qn(x));
}

export const sync: CommandHandler = async (c, doc): Promise<EasResult> => {
  const cache = parseCache(c.device.syncCache);
  let requested: { coll: CachedCollection; el: WElement | null }[] = [];
  let waitSeconds: number | null = null;
  let globalWindow: number | undefined;

  if (!doc) {
    // MS-ASCMD §2.2.1.21: an empty Sync request repeats the last one.
    if (!cache || !cache.collections.length) return { wbxml: A("Sync", A("Status", SyncStatus.EmptyRequestNoCache)) };
    requested = cache.collections.map((coll) => ({ coll, el: null }));
    waitSeconds = cache.heartbeat ?? null;
    globalWindow = cache.windowSize;
  } else {
    const wait = kidText(doc, "AirSync:Wait");
    const hb = kidText(doc, "AirSync:HeartbeatInterval");
    if (wait !== undefined) {
      const w = Number(wait);
      if (!Number.isInteger(w) || w < 1) return { wbxml: A("Sync", A("Status", SyncStatus.WaitOutOfRange), A("Limit", "1")) };
      if (w > 59) return { wbxml: A("Sync", A("Status", SyncStatus.WaitOutOfRange), A("Limit", "59")) };
      waitSeconds = w * 60;
    }
    if (hb !== undefined) {
      const h = Number(hb);
      if (!Number.isInteger(h) || h < SYNC_MIN_HEARTBEAT) return { wbxml: A("Sync", A("Status", SyncStatus.WaitOutOfRange), A("Limit", SYNC_MIN_HEARTBEAT)) };
      if (h > SYNC_MAX_HEARTBEAT) return { wbxml: A("Sync", A("Status", SyncStatus.WaitOutOfRange), A("Limit", SYNC_MAX_HEARTBEAT)) };
      waitSeconds = h;
    }
    const ws = kidText(doc, "AirSync:WindowSize");
    if (ws !== undefined) globalWindow = Number(ws);
    const colls = kids(kid(doc, "AirSync:Collections"), "AirSync:Collection");
    if (colls.length > MAX_COLLECTIONS) return { wbxml: A("Sync", A("Status", SyncStatus.TooManyCollections)) };
    for (const e of colls) {
      const p = parseCollection(e);
      if ("error" in p) return { wbxml: A("Sync", A("Status", SyncStatus.ProtocolError)) };
      requested.push({ coll: p, el: e });
    }
    if (kid(doc, "AirSync:Partial") && cache) {
      // MS-ASCMD §2.2.3.131 Partial: collections of the cached request not named here take part too.
      const named = new Set(requested.map((r) => r.coll.collectionId));
      for (const coll of cache.collections) if (!named.has(coll.collectionId)) requested.push({ coll, el: null });
      if (waitSeconds === null && cache.heartbeat) waitSeconds = cache.heartbeat;
    }
    if (!requested.length) return { wbxml: A("Sync", A("Status", SyncStatus.EmptyRequestNoCache)) };
  }

  const run = async (first: boolean) => {
    const results: { coll: CachedCollection; element: WElement; hasContent: boolean; newKey: string | null }[] = [];
    let budget = globalWindow && globalWindow > 0 ? Math.min(globalWindow, MAX_WINDOW * requested.length) : Infinity;
    for (const r of requested) {
      const coll = r.coll;
      const folder = await folderByServerId(c.store, c.account.id, coll.collectionId);
      const cls = folder ? (coll.className ? syncClassByName(coll.className) : syncClassForFolder(folder)) : undefined;
      const fakeReq = { collectionId: coll.collectionId, cls: cls ?? syncClassByName("Email")! };
      if (!folder || !cls || cls.itemClass !== folder.itemClass) {
        // MS-ASCMD §2.2.3.177.17 Status 12: the folder is gone; the device re-runs FolderSync.
        results.push({ coll, element: collectionStatus(c, fakeReq, coll.syncKey, SyncStatus.FolderHierarchyChanged), hasContent: true, newKey: null });
        continue;
      }
      let options: CollectionOptions | null = coll.options ?? null;
      if (r.el && first) {
        const optEls = kids(r.el, "AirSync:Options");
        options = optEls.length ? parseOptions(optEls, cls.className) : null;
        if (options && !validOptions(options)) {
          results.push({ coll, element: collectionStatus(c, fakeReq, coll.syncKey, SyncStatus.ProtocolError), hasContent: true, newKey: null });
          continue;
        }
        coll.options = options;
      }
      const window = Math.min(coll.windowSize && coll.windowSize > 0 ? coll.windowSize : DEFAULT_WINDOW, budget);
      const res = await syncCollection(c, {
        syncKey: coll.syncKey,
        collectionId: coll.collectionId,
        folder,
        cls,
        deletesAsMoves: coll.deletesAsMoves ?? true,
        getChanges: coll.getChanges,
        windowSize: Math.max(1, window),
        options,
        commands: first && r.el ? kid(r.el, "AirSync:Commands") : undefined,
        supported: first && r.el ? supportedOf(r.el) : null,
      });
      const cmds = kid(res.element, "AirSync:Commands");
      if (cmds && budget !== Infinity) budget = Math.max(0, budget - cmds.children.filter(isElement).length);
      const newKey = kidText(res.element, "AirSync:SyncKey") ?? null;
      results.push({ coll, element: res.element, hasContent: res.hasContent, newKey: res.status === SyncStatus.Success ? newKey : null });
    }
    return results;
  };

  let results = await run(true);
  const anything = () => results.some((r) => r.hasContent);
  if (waitSeconds !== null && !anything()) {
    // Long poll (14.0+): wait for a change in any of the collections, then answer; nothing changed = empty response.
    const folders = (await Promise.all(requested.map((r) => folderByServerId(c.store, c.account.id, r.coll.collectionId)))).filter((f) => f !== null);
    const changed = await waitForChange(c, waitSeconds * 1000, folders, async (f) => {
      const cls = syncClassForFolder(f);
      return !!cls && (await hasPendingChanges(c, cls, f, String(f.id)));
    });
    if (!changed) {
      await saveCache(c, requested, globalWindow, waitSeconds);
      return { body: new Uint8Array(0) };
    }
    results = await run(false);
  }
  // Remember the request (with the keys just issued) for empty and Partial requests.
  for (const r of results) if (r.newKey !== null) r.coll.syncKey = r.newKey;
  await saveCache(c, requested, globalWindow, waitSeconds);
  return { wbxml: A("Sync", A("Collections", results.map((r) => r.element))) };
};

async function saveCache(c: EasContext, requested: { coll: CachedCollection }[], windowSize: number | undefined, heartbeat: number | null): Promise<void> {
  const next: SyncCache = { collections: requested.map((r) => r.coll), windowSize, heartbeat: heartbeat ?? undefined };
  const s = JSON.stringify(next);
  if (s !== c.device.syncCache) {
    await c.eas.updateDevice(c.device.pk, { syncCache: s });
    c.device.syncCache = s;
  }
}

