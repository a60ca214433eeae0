/**
 * The class-independent sync engine (MS-ASCMD §2.2.1.21 Sync, §2.2.1.9
 * GetItemEstimate, and change detection for §2.2.1.13 Ping).
 *
 * State per device and collection is a snapshot of what the device holds
 * (item id -> modseq, see state.ts), stored in the database under each
 * SyncKey. The current key and the one before it are kept:
 *  - the device sends the current key: its last response arrived; continue;
 *  - it sends the previous key: the last response was lost (or made the
 *    device fail); roll back to the previous snapshot and answer again —
 *    nothing is lost, nothing is applied twice (adds are matched by
 *    ClientId), and the items of the lost response get a loop strike;
 *  - anything else: Status 3, the device starts over with SyncKey 0.
 * Keys grow monotonically per collection (never reused after a reset), and
 * everything is in the database, so a server restart never forces a resync.
 *
 * Where the server's changes come from: the first rounds after SyncKey 0
 * (and a round after the device changes its FilterType) compare the
 * folder's listing with the state — a snapshot. Once a round left nothing
 * behind, the state records the account's change number it is complete up
 * to (`meta.modseq`), and later rounds read the store's account change feed
 * (storage/changes.ts) for this folder since that number: only the items
 * it names are looked at. A round cut short by WindowSize keeps the old
 * number, so the next round reads the same stretch again (what was sent is
 * in the state and not sent twice). When the feed was pruned past that
 * number, the key is too old: Status 3, the device resyncs.
 *
 * Loop detection: an item that was in LOOP_STRIKES rolled-back responses is
 * a poison item (the device crashes or rejects it). One lost response is
 * normal and answered in full again; from SUSPECT_STRIKES on, suspects are
 * sent alone (window of one) so the blame is exact; after LOOP_STRIKES
 * strikes the item is skipped — recorded in the state as delivered — and
 * logged.
 */
import type { Folder } from "../../../../storage/api.ts";
import type { EasContext } from "../context.ts";
import { itemServerId, parseItemServerId } from "../folders.ts";
import { packState, unpackState, type ItemState, type StateMeta } from "../state.ts";
import { SyncStatus } from "../status.ts";
import { parseEasDate } from "../groupware/codec.ts";
import { el, kid, kids, kidText, type WElement } from "../wbxml/tree.ts";
import type { BodyPreference } from "../email/convert.ts";
import type { CollectionOptions, ListedItem, Listing, SyncClass } from "./classes.ts";

export const LOOP_STRIKES = 3;
export const SUSPECT_STRIKES = 2;
export const DEFAULT_WINDOW = 100;
/** MS-ASCMD §2.2.3.199: WindowSize 1-512; larger values are treated as 512. */
export const MAX_WINDOW = 512;

export interface StoredMeta extends StateMeta {
  options?: CollectionOptions;
  /** The account change number the state is complete up to (feed mode); absent while the snapshot rounds run. */
  modseq?: number;
  /** AirSync:Supported from the SyncKey 0 request (MS-ASCMD §2.2.3.179), kept for the life of the sync relationship. */
  supported?: string[];
}

export interface CollectionRequest {
  syncKey: string;
  collectionId: string;
  folder: Folder;
  cls: SyncClass;
  deletesAsMoves: boolean;
  /** undefined = default (true unless SyncKey 0). */
  getChanges: boolean | undefined;
  windowSize: number;
  options: CollectionOptions | null;
  commands: WElement | undefined;
  /** AirSync:Supported of the request (SyncKey 0 only), "Namespace:Name" each; null when absent. */
  supported?: string[] | null;
}

export interface CollectionResult {
  element: WElement;
  /** Anything for the device: commands, responses, a new key. */
  hasContent: boolean;
  moreAvailable: boolean;
  status: number;
}

export function defaultOptions(): CollectionOptions {
  return { filterType: 0, body: { prefs: [], mimeSupport: 0 }, conflict: 1 };
}

/** Parses airsync:Options (MS-ASCMD §2.2.3.125.6); the one for this class when several are sent (14.0+). */
export function parseOptions(optionEls: WElement[], className: string): CollectionOptions | null {
  const pick = optionEls.find((o) => (kidText(o, "AirSync:Class") ?? className) === className);
  if (!pick) return null;
  const o = defaultOptions();
  const ft = kidText(pick, "AirSync:FilterType");
  if (ft !== undefined) o.filterType = Number(ft);
  const conflict = kidText(pick, "AirSync:Conflict");
  if (conflict !== undefined) o.conflict = Number(conflict);
  const ms = kidText(pick, "AirSync:MIMESupport");
  if (ms !== undefined) o.body.mimeSupport = Number(ms);
  const mt = kidText(pick, "AirSync:MIMETruncation");
  if (mt !== undefined) o.body.mimeTruncation = Number(mt);
  o.body.prefs = parseBodyPreferences(kids(pick, "AirSyncBase:BodyPreference"));
  return o;
}

export function parseBodyPreferences(els: WElement[]): BodyPreference[] {
  return els.map((bp) => {
    const p: BodyPreference = { type: Number(kidText(bp, "AirSyncBase:Type") ?? "1") };
    const ts = kidText(bp, "AirSyncBase:TruncationSize");
    if (ts !== undefined && /^\d+$/.test(ts)) p.truncationSize = Number(ts);
    const aon = kidText(bp, "AirSyncBase:AllOrNone");
    if (aon !== undefined) p.allOrNone = aon === "1";
    const pv = kidText(bp, "AirSyncBase:Preview");
    if (pv !== undefined && /^\d+$/.test(pv)) p.preview = Math.min(255, Number(pv));
    return p;
  });
}

export function validOptions(o: CollectionOptions): boolean {
  return (
    Number.isInteger(o.filterType) &&
    o.filterType >= 0 &&
    o.filterType <= 8 &&
    (o.conflict === 0 || o.conflict === 1) &&
    [0, 1, 2].includes(o.body.mimeSupport) &&
    o.body.prefs.every((p) => [1, 2, 3, 4].includes(p.type) && (p.truncationSize === undefined || p.truncationSize <= 0xffffffff))
  );
}

function parseKey(s: string): number | null {
  return /^\d{1,15}$/.test(s) ? Number(s) : null;
}

function parseMeta(s: string): StoredMeta {
  try {
    const m = JSON.parse(s) as StoredMeta;
    return {
      filterType: m.filterType ?? 0,
      sent: m.sent ?? [],
      complete: !!m.complete,
      clientIds: m.clientIds,
      options: m.options,
      modseq: typeof m.modseq === "number" && Number.isSafeInteger(m.modseq) && m.modseq >= 0 ? m.modseq : undefined,
      supported: Array.isArray(m.supported) ? m.supported.filter((x): x is string => typeof x === "string") : undefined,
    };
  } catch {
    return { filterType: 0, sent: [], complete: false };
  }
}

interface Diff {
  deletes: number[];
  softDeletes: number[];
  changes: ListedItem[];
  adds: ListedItem[];
}

function diff(listing: Listing, state: ItemState, cutoff: number | null): Diff {
  const d: Diff = { deletes: [], softDeletes: [], changes: [], adds: [] };
  for (const [id, modseq] of state) {
    const it = listing.items.get(id);
    if (!it) d.deletes.push(id);
    else if (cutoff !== null && it.date < cutoff) d.softDeletes.push(id);
    else if (it.modseq > modseq) d.changes.push(it);
  }
  for (const it of listing.items.values()) {
    if (state.has(it.id)) continue;
    if (cutoff !== null && it.date < cutoff) continue;
    d.adds.push(it);
  }
  d.adds.sort((a, b) => b.date - a.date || b.id - a.id); // newest first: the device shows recent mail first
  d.changes.sort((a, b) => a.modseq - b.modseq);
  return d;
}

/**
 * The same answer as diff(), from the change feed: only the items the feed
 * names (`candidates`) are compared with the state, plus an age check of the
 * items the device holds when a FilterType window is in force (an item
 * leaving the window is a SoftDelete, MS-ASCMD §2.2.3.168, and ageing is
 * not a change the feed records).
 */
function feedDiff(listing: Listing, state: ItemState, cutoff: number | null, candidates: Set<number>): Diff {
  const d: Diff = { deletes: [], softDeletes: [], changes: [], adds: [] };
  for (const id of candidates) {
    const it = listing.items.get(id);
    const known = state.get(id);
    if (!it) {
      if (known !== undefined) d.deletes.push(id);
    } else if (known !== undefined) {
      if (cutoff !== null && it.date < cutoff) d.softDeletes.push(id);
      else if (it.modseq > known) d.changes.push(it);
    } else if (cutoff === null || it.date >= cutoff) d.adds.push(it);
  }
  if (cutoff !== null) {
    for (const id of state.keys()) {
      if (candidates.has(id)) continue;
      const it = listing.items.get(id);
      if (it && it.date < cutoff) d.softDeletes.push(id);
    }
  }
  d.deletes.sort((a, b) => a - b);
  d.softDeletes.sort((a, b) => a - b);
  d.adds.sort((a, b) => b.date - a.date || b.id - a.id);
  d.changes.sort((a, b) => a.modseq - b.modseq);
  return d;
}

/** Page size when reading the change feed. */
const FEED_PAGE = 5000;

/** What the feed says about one folder since `since`: the item ids it names and the change number read up to; "tooOld" when pruned past `since`. */
export async function folderFeed(c: EasContext, folder: Folder, since: number): Promise<{ candidates: Set<number>; head: number } | "tooOld"> {
  const candidates = new Set<number>();
  let from = since;
  for (;;) {
    const r = await c.store.accountChanges(c.account.id, from, { folderId: folder.id, limit: FEED_PAGE, only: "items" });
    if (r.status === "tooOld") return "tooOld";
    for (const it of r.items) candidates.add(it.itemId);
    from = r.highestModseq;
    if (!r.more) return { candidates, head: from };
  }
}

/** The account's current change number (a feed read from above it answers "tooOld" with it). */
async function feedHead(c: EasContext): Promise<number> {
  const r = await c.store.accountChanges(c.account.id, Number.MAX_SAFE_INTEGER, { limit: 1 });
  return r.highestModseq;
}

/**
 * How the server's changes for a state are found: from the feed when the
 * state is complete up to a change number under the same FilterType, else
 * from a snapshot (listing against state). `head` is the change number the
 * answer is complete up to.
 */
type ChangeSource = { mode: "feed"; candidates: Set<number>; head: number } | { mode: "snapshot"; head: number };

async function changeSource(c: EasContext, folder: Folder, meta: StoredMeta, filterType: number): Promise<ChangeSource | "tooOld"> {
  if (meta.modseq !== undefined && meta.filterType === filterType) {
    const f = await folderFeed(c, folder, meta.modseq);
    if (f === "tooOld") return "tooOld";
    return { mode: "feed", ...f };
  }
  return { mode: "snapshot", head: await feedHead(c) };
}

function changesFrom(src: ChangeSource, listing: Listing, state: ItemState, cutoff: number | null): Diff {
  return src.mode === "feed" ? feedDiff(listing, state, cutoff, src.candidates) : diff(listing, state, cutoff);
}

function diffSize(d: Diff): number {
  return d.deletes.length + d.softDeletes.length + d.changes.length + d.adds.length;
}

interface Loaded {
  key: number;
  state: ItemState;
  meta: StoredMeta;
}

async function loadState(c: EasContext, collection: string, key: number): Promise<Loaded | null> {
  const s = await c.eas.getSyncState(c.device.pk, collection, key);
  if (!s) return null;
  try {
    return { key, state: unpackState(s.items), meta: parseMeta(s.meta) };
  } catch (e) {
    c.log.warn("eas: corrupt sync state", { collection, key, err: e });
    return null;
  }
}

/** The current state of a collection (highest key), or null when the device never synced it. */
export async function currentState(c: EasContext, collection: string): Promise<Loaded | null> {
  const keys = await c.eas.syncKeys(c.device.pk, collection);
  if (!keys.length) return null;
  return loadState(c, collection, keys[0]!);
}

function collectionHeader(c: EasContext, req: { collectionId: string; cls: SyncClass }, syncKey: string, status: number): WElement[] {
  return [c.version <= 121 ? el("AirSync:Class", req.cls.className) : null, el("AirSync:SyncKey", syncKey), el("AirSync:CollectionId", req.collectionId), el("AirSync:Status", status)].filter(
    (x): x is WElement => x !== null,
  );
}

export function collectionStatus(c: EasContext, req: { collectionId: string; cls: SyncClass }, syncKey: string, status: number): WElement {
  return el("AirSync:Collection", collectionHeader(c, req, syncKey, status));
}

/** Sync of one collection of one device runs one at a time (a device firing two Syncs at once must not fork its state). */
const locks = new Map<string, Promise<unknown>>();

function serialised<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(key) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => undefined);
  locks.set(key, tail);
  void tail.then(() => {
    if (locks.get(key) === tail) locks.delete(key);
  });
  return run;
}

/** Runs one collection of a Sync request. */
export function syncCollection(c: EasContext, req: CollectionRequest): Promise<CollectionResult> {
  return serialised(`${c.device.pk}:${req.collectionId}`, () => syncCollectionNow(c, req));
}

async function syncCollectionNow(c: EasContext, req: CollectionRequest): Promise<CollectionResult> {
  const { cls, folder, collectionId } = req;
  const dev = c.device.pk;
  const keys = await c.eas.syncKeys(dev, collectionId);

  // ---- SyncKey 0: a fresh start (MS-ASCMD §2.2.3.181.4)
  if (req.syncKey === "0") {
    const newKey = (keys[0] ?? 0) + 1;
    const opts = req.options ?? defaultOptions();
    const meta: StoredMeta = { filterType: opts.filterType, sent: [], complete: false, options: opts, supported: req.supported ?? undefined };
    await c.eas.dropSyncState(dev, collectionId);
    await c.eas.putSyncState(dev, collectionId, newKey, packState(new Map()), JSON.stringify(meta), []);
    return { element: collectionStatus(c, req, String(newKey), SyncStatus.Success), hasContent: true, moreAvailable: false, status: SyncStatus.Success };
  }

  const key = parseKey(req.syncKey);
  let base: Loaded | null = null;
  let discarded: Loaded | null = null;
  if (key !== null && key === keys[0]) base = await loadState(c, collectionId, key);
  else if (key !== null && key === keys[1]) {
    base = await loadState(c, collectionId, key);
    discarded = await loadState(c, collectionId, keys[0]!);
  }
  if (!base) {
    // MS-ASCMD §2.2.3.177.17 Status 3: invalid or unknown synchronization key; the client returns to SyncKey 0.
    return { element: collectionStatus(c, req, "0", SyncStatus.InvalidSyncKey), hasContent: true, moreAvailable: false, status: SyncStatus.InvalidSyncKey };
  }

  const opts = req.options ?? base.meta.options ?? defaultOptions();
  // What the class converters see: the options plus the device's Supported list (ghosted elements).
  const writeOpts: CollectionOptions = base.meta.supported ? { ...opts, supported: base.meta.supported } : opts;
  const cutoff = cls.cutoff(opts.filterType, c.now());
  if (cutoff === undefined) return { element: collectionStatus(c, req, req.syncKey, SyncStatus.ProtocolError), hasContent: true, moreAvailable: false, status: SyncStatus.ProtocolError };

  // Read before the device's own changes are applied: those come after `head` and are already in the state.
  const source = await changeSource(c, folder, base.meta, opts.filterType);
  if (source === "tooOld") {
    // The feed was pruned past this key's change number (storage/changes.ts): MS-ASCMD §2.2.3.177.17 Status 3, the device starts over.
    c.log.info("eas: sync key older than the change feed; device must resync", { device: c.device.deviceId, collection: collectionId });
    return { element: collectionStatus(c, req, "0", SyncStatus.InvalidSyncKey), hasContent: true, moreAvailable: false, status: SyncStatus.InvalidSyncKey };
  }

  // Loop detection bookkeeping: a rollback strikes what the lost response carried; a confirmation clears.
  if (discarded && discarded.meta.sent.length) {
    await c.eas.strike(dev, collectionId, discarded.meta.sent, c.now());
    c.log.info("eas: device re-sent its previous SyncKey", { device: c.device.deviceId, collection: collectionId, items: discarded.meta.sent.length });
  }
  let strikes = await c.eas.loopStrikes(dev, collectionId);
  if (!discarded && strikes.size && base.meta.sent.length) {
    const cleared = base.meta.sent.filter((id) => strikes.has(id));
    if (cleared.length) {
      await c.eas.clearStrikes(dev, collectionId, cleared);
      strikes = await c.eas.loopStrikes(dev, collectionId);
    }
  }

  const state: ItemState = new Map(base.state);
  let listing = await cls.list(c, folder);
  const responses: WElement[] = [];
  const clientIds: Record<string, string> = {};
  let modified = false;

  // ---- the device's own changes (MS-ASCMD §2.2.3.32 Commands in the request)
  const cmds = req.commands ? req.commands.children.filter((x): x is WElement => typeof x === "object" && !(x instanceof Uint8Array)) : [];
  const fetches: { serverId: string; itemId: number | null }[] = [];
  const deletes: { serverId: string; item: ListedItem }[] = [];
  for (const cmd of cmds) {
    const serverId = kidText(cmd, "AirSync:ServerId") ?? "";
    const parsed = parseItemServerId(serverId);
    const itemId = parsed && (parsed.folderId === null || parsed.folderId === folder.id) ? parsed.itemId : null;
    switch (cmd.name) {
      case "Add": {
        const clientId = kidText(cmd, "AirSync:ClientId") ?? "";
        const again = discarded?.meta.clientIds?.[clientId];
        if (clientId && again) {
          // The same Add re-sent after a lost response: answer it again, do not add twice.
          const p = parseItemServerId(again);
          const it = p ? listing.items.get(p.itemId) : undefined;
          if (it) {
            state.set(it.id, it.modseq);
          }
          clientIds[clientId] = again;
          responses.push(el("AirSync:Add", el("AirSync:ClientId", clientId), el("AirSync:ServerId", again), el("AirSync:Status", SyncStatus.Success)));
          break;
        }
        const r = await cls.applyAdd(c, listing, kid(cmd, "AirSync:ApplicationData"), writeOpts);
        if (r.status === SyncStatus.Success && r.id !== undefined) {
          const sid = itemServerId(folder.id, r.id);
          state.set(r.id, r.modseq ?? 0);
          if (clientId) clientIds[clientId] = sid;
          modified = true;
          responses.push(el("AirSync:Add", el("AirSync:ClientId", clientId), el("AirSync:ServerId", sid), el("AirSync:Status", r.status), r.data !== undefined && r.data.length > 0 && el("AirSync:ApplicationData", r.data)));
        } else responses.push(el("AirSync:Add", el("AirSync:ClientId", clientId), el("AirSync:Status", r.status)));
        break;
      }
      case "Change": {
        const it = itemId !== null ? listing.items.get(itemId) : undefined;
        if (!it) {
          responses.push(el("AirSync:Change", el("AirSync:ServerId", serverId), el("AirSync:Status", SyncStatus.ObjectNotFound)));
          break;
        }
        const known = state.get(it.id);
        if (known !== undefined && it.modseq > known && opts.conflict === 1) {
          // MS-ASCMD Conflict: server wins; the server's version goes down in Commands below.
          responses.push(el("AirSync:Change", el("AirSync:ServerId", serverId), el("AirSync:Status", SyncStatus.Conflict)));
          break;
        }
        let data = kid(cmd, "AirSync:ApplicationData");
        // MS-ASCMD §2.2.3.24 (16.x): a Change of one instance names it with airsyncbase:InstanceId beside ServerId; the class reads it inside ApplicationData.
        const inst = kid(cmd, "AirSyncBase:InstanceId");
        if (inst && data) data = { ...data, children: [...data.children, inst] };
        const r = await cls.applyChange(c, listing, it, data, writeOpts);
        if (r.status !== SyncStatus.Success) {
          responses.push(el("AirSync:Change", el("AirSync:ServerId", serverId), el("AirSync:Status", r.status)));
          break;
        }
        if (r.modseq !== undefined) {
          it.modseq = r.modseq;
          modified = true;
        }
        state.set(it.id, it.modseq);
        if (r.replacedBy !== undefined && source.mode === "feed") {
          // The item was replaced (an edited draft): this response's Commands carry Delete(old) and Add(new) at once.
          source.candidates.add(it.id);
          source.candidates.add(r.replacedBy);
        }
        // MS-ASAIRS §2.2.2.7: a Change that added attachments answers their ClientId and FileReference.
        if (r.data?.length) responses.push(el("AirSync:Change", el("AirSync:ServerId", serverId), el("AirSync:Status", SyncStatus.Success), el("AirSync:ApplicationData", r.data)));
        break;
      }
      case "Delete": {
        const it = itemId !== null ? listing.items.get(itemId) : undefined;
        if (!it) {
          if (itemId !== null && state.has(itemId)) state.delete(itemId); // already gone: nothing to report
          else responses.push(el("AirSync:Delete", el("AirSync:ServerId", serverId), el("AirSync:Status", SyncStatus.ObjectNotFound)));
          break;
        }
        const instance = kidText(cmd, "AirSyncBase:InstanceId");
        if (instance !== undefined) {
          // MS-ASCMD §2.2.3.87 (16.0): only that instance of a recurring item goes.
          let when: number | null = null;
          try {
            when = parseEasDate(instance);
          } catch {
            when = null;
          }
          const r = when !== null && cls.applyInstanceDelete ? await cls.applyInstanceDelete(c, listing, it, when, writeOpts) : { status: SyncStatus.ProtocolError };
          if (r.status !== SyncStatus.Success) responses.push(el("AirSync:Delete", el("AirSync:ServerId", serverId), el("AirSync:Status", r.status)));
          else {
            if (r.modseq !== undefined) it.modseq = r.modseq;
            state.set(it.id, it.modseq);
            modified = true;
          }
          break;
        }
        deletes.push({ serverId, item: it });
        break;
      }
      case "Fetch":
        fetches.push({ serverId, itemId });
        break;
      default:
        break;
    }
  }
  if (deletes.length) {
    const res = await cls.applyDelete(c, listing, deletes.map((d) => d.item), req.deletesAsMoves);
    for (const d of deletes) {
      const st = res.get(d.item.id) ?? SyncStatus.ServerError;
      if (st === SyncStatus.Success) state.delete(d.item.id);
      else responses.push(el("AirSync:Delete", el("AirSync:ServerId", d.serverId), el("AirSync:Status", st)));
    }
    modified = true;
  }
  if (fetches.length) {
    const ids = fetches.map((f) => f.itemId).filter((x): x is number => x !== null && listing.items.has(x));
    const rendered = ids.length ? await cls.render(c, listing, ids, opts) : new Map<number, WElement[]>();
    for (const f of fetches) {
      const data = f.itemId !== null ? rendered.get(f.itemId) : undefined;
      if (data) responses.push(el("AirSync:Fetch", el("AirSync:ServerId", f.serverId), el("AirSync:Status", SyncStatus.Success), el("AirSync:ApplicationData", data)));
      else responses.push(el("AirSync:Fetch", el("AirSync:ServerId", f.serverId), el("AirSync:Status", SyncStatus.ObjectNotFound)));
    }
  }
  if (modified) listing = await cls.list(c, folder);

  // ---- the server's changes (MS-ASCMD §2.2.3.84 GetChanges, default on)
  const commands: WElement[] = [];
  const sent: number[] = [];
  let more = false;
  const getChanges = req.getChanges ?? true;
  if (getChanges) {
    const d = changesFrom(source, listing, state, cutoff);
    const window = Math.max(1, Math.min(req.windowSize || DEFAULT_WINDOW, MAX_WINDOW));
    let budget = window;
    for (const id of d.deletes) {
      if (budget === 0) break;
      commands.push(el("AirSync:Delete", el("AirSync:ServerId", itemServerId(folder.id, id))));
      state.delete(id);
      budget--;
    }
    for (const id of d.softDeletes) {
      if (budget === 0) break;
      commands.push(el("AirSync:SoftDelete", el("AirSync:ServerId", itemServerId(folder.id, id))));
      state.delete(id);
      budget--;
    }
    // adds and changes, with loop detection
    const pending: { it: ListedItem; kind: "add" | "change" }[] = [...d.changes.map((it) => ({ it, kind: "change" as const })), ...d.adds.map((it) => ({ it, kind: "add" as const }))];
    const take: { it: ListedItem; kind: "add" | "change" }[] = [];
    let consumed = 0;
    for (const p of pending) {
      const s = strikes.get(p.it.id) ?? 0;
      if (s >= LOOP_STRIKES) {
        // Poison item: mark it delivered so the device moves on.
        c.log.warn("eas: skipping an item that makes the device loop", { device: c.device.deviceId, collection: collectionId, item: p.it.id, strikes: s });
        state.set(p.it.id, p.it.modseq);
        consumed++;
        continue;
      }
      if (budget === 0) break;
      const suspect = s >= SUSPECT_STRIKES;
      if (suspect && take.length > 0) break; // a suspect goes alone, in the next response
      take.push(p);
      consumed++;
      budget--;
      if (suspect) break;
    }
    more = d.deletes.length + d.softDeletes.length + pending.length > commands.length + consumed;
    const fullChanges = typeof cls.fullChanges === "function" ? cls.fullChanges(c, listing) : cls.fullChanges === true;
    const addIds = take.filter((t) => t.kind === "add" || fullChanges).map((t) => t.it.id);
    const rendered = addIds.length ? await cls.render(c, listing, addIds, opts) : new Map<number, WElement[]>();
    for (const t of take) {
      if (t.kind === "change" && !fullChanges) {
        commands.push(el("AirSync:Change", el("AirSync:ServerId", itemServerId(folder.id, t.it.id)), el("AirSync:ApplicationData", cls.renderChange(c, listing, t.it, opts))));
      } else {
        const data = rendered.get(t.it.id);
        if (!data) {
          c.log.warn("eas: item could not be rendered; skipped", { collection: collectionId, item: t.it.id });
        } else commands.push(el(t.kind === "add" ? "AirSync:Add" : "AirSync:Change", el("AirSync:ServerId", itemServerId(folder.id, t.it.id)), el("AirSync:ApplicationData", data)));
      }
      state.set(t.it.id, t.it.modseq);
      sent.push(t.it.id);
    }
  }

  const nothingNew = !discarded && commands.length === 0 && responses.length === 0 && !modified && sameState(state, base.state) && (req.options === null || sameOptions(req.options, base.meta.options));
  let newKey: number;
  if (nothingNew) newKey = base.key;
  else {
    newKey = keys[0]! + 1;
    // Complete up to `head` only when this round took every server change; else the next round reads from the same point again.
    const upTo = getChanges && !more ? source.head : base.meta.filterType === opts.filterType ? base.meta.modseq : undefined;
    const meta: StoredMeta = {
      filterType: opts.filterType,
      sent,
      complete: !more,
      options: opts,
      clientIds: Object.keys(clientIds).length ? clientIds : undefined,
      modseq: upTo,
      supported: base.meta.supported,
    };
    await c.eas.putSyncState(dev, collectionId, newKey, packState(state), JSON.stringify(meta), [base.key]);
  }
  const children: (WElement | null)[] = [
    ...collectionHeader(c, req, String(newKey), SyncStatus.Success),
    commands.length ? el("AirSync:Commands", commands) : null,
    responses.length ? el("AirSync:Responses", responses) : null,
    more ? el("AirSync:MoreAvailable") : null,
  ];
  return {
    element: el("AirSync:Collection", children.filter((x): x is WElement => x !== null)),
    hasContent: !nothingNew,
    moreAvailable: more,
    status: SyncStatus.Success,
  };
}

function sameState(a: ItemState, b: ItemState): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

function sameOptions(a: CollectionOptions, b: CollectionOptions | undefined): boolean {
  return !!b && JSON.stringify(a) === JSON.stringify(b);
}

/** Number of changes waiting for the device (GetItemEstimate), or a status when the key is not usable. */
export async function estimate(c: EasContext, cls: SyncClass, folder: Folder, collectionId: string, syncKey: string, options: CollectionOptions | null): Promise<{ count: number } | { status: "notPrimed" | "badKey" }> {
  if (syncKey === "0") return { status: "notPrimed" };
  const key = parseKey(syncKey);
  const keys = await c.eas.syncKeys(c.device.pk, collectionId);
  if (key === null || !keys.slice(0, 2).includes(key)) return { status: "badKey" };
  const loaded = await loadState(c, collectionId, key);
  if (!loaded) return { status: "badKey" };
  const opts = options ?? loaded.meta.options ?? defaultOptions();
  const cutoff = cls.cutoff(opts.filterType, c.now()) ?? null;
  const source = await changeSource(c, folder, loaded.meta, opts.filterType);
  if (source === "tooOld") return { status: "badKey" };
  if (source.mode === "feed" && source.candidates.size === 0 && cutoff === null) return { count: 0 };
  const listing = await cls.list(c, folder);
  return { count: diffSize(changesFrom(source, listing, loaded.state, cutoff)) };
}

/**
 * True when the device's current state of the collection is behind the
 * folder (Ping, Sync Wait). A folder the device never synced counts as
 * changed: the answer makes the device sync it.
 */
export async function hasPendingChanges(c: EasContext, cls: SyncClass, folder: Folder, collectionId: string): Promise<boolean> {
  const loaded = await currentState(c, collectionId);
  if (!loaded) return true;
  const cutoff = cls.cutoff(loaded.meta.filterType, c.now()) ?? null;
  const source = await changeSource(c, folder, loaded.meta, loaded.meta.filterType);
  if (source === "tooOld") return true; // the next Sync answers Status 3
  // Feed mode with nothing new and no FilterType window to age: no listing needed.
  if (source.mode === "feed" && source.candidates.size === 0 && cutoff === null) return false;
  const listing = await cls.list(c, folder);
  return diffSize(changesFrom(source, listing, loaded.state, cutoff)) > 0;
}



/**
 * Applies a change the device made outside Sync (MoveItems) to its current
 * state of a collection, in place, so the next Sync does not echo it back.
 */
export async function adjustCurrentState(c: EasContext, collectionId: string, fn: (state: ItemState) => void): Promise<void> {
  const keys = await c.eas.syncKeys(c.device.pk, collectionId);
  if (!keys.length) return;
  const loaded = await loadState(c, collectionId, keys[0]!);
  if (!loaded) return;
  fn(loaded.state);
  await c.eas.putSyncState(c.device.pk, collectionId, keys[0]!, packState(loaded.state), JSON.stringify(loaded.meta), keys.slice(1, 2));
}
