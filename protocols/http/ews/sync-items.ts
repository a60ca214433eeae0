/**
 * SyncFolderItems (MS-OXWSSYNC §3.1.4.2; Messages.xsd SyncFolderItemsType)
 * for every item kind: the first sync sends each item of the folder as
 * Create, in windows of MaxChangesReturned (mail in UID order, other kinds
 * in item id order); later syncs send
 * what the account change feed (storage/change-api.ts) records for the
 * folder since the SyncState: Create, Update, Delete. So a message delivered
 * by SMTP, a flag set over IMAP, an expunge, an event written over CalDAV
 * all reach an EWS client the same way.
 *
 * Performance (issue 20 done-when 2): a window's items are read in batches
 * (mail: one index read per batch of UIDs, never a message body for a list
 * shape), never one store round trip per change.
 */
import type { FeedItemChange, Folder } from "../../../storage/api.ts";
import { EwsError, registerOperation, type EwsContext } from "./context.ts";
import { decodeItemSyncState, encodeItemSyncState, itemId, itemIdXml, ownItemId, resolveFolder, type ItemRef, type ItemSyncState } from "./ids.ts";
import { accountHead } from "./folders-tree.ts";
import { kindOf, type ItemKind, type KindItem } from "./kinds.ts";
import { indexesOf, mailKindItem } from "./mail-read.ts";
import { mailListing } from "./mail-listing.ts";
import { responseMessages, success } from "./responses.ts";
import { parseItemShape, type ItemShape } from "./shape.ts";
import { kidText, m, mkid, mv, t } from "./xml.ts";
import { NS } from "./ns.ts";

const TAG = "SyncFolderItemsResponseMessage";

/** Messages.xsd SyncFolderItemsType MaxChangesReturned: 1 to 512. */
export const MAX_CHANGES = 512;

/** Item ids one Ignore list may name (rules: client-controlled counts are bounded). */
const MAX_IGNORE = 1000;

function parseMax(op: Parameters<Parameters<typeof registerOperation>[1]>[1]): number {
  const s = kidText(op, "MaxChangesReturned", NS.m);
  if (s === undefined) throw new EwsError("ErrorInvalidRequest", "MaxChangesReturned is required.");
  if (!/^\d{1,4}$/.test(s) || Number(s) < 1 || Number(s) > MAX_CHANGES) throw new EwsError("ErrorInvalidRequest", `MaxChangesReturned must be 1 to ${MAX_CHANGES}.`);
  return Number(s);
}

/**
 * The items of one folder by store id, in id order, read in batches: mail by
 * UID (one index read per 500), other kinds through their own `load`.
 */
async function loadItems(c: EwsContext, kind: ItemKind, folder: Folder, wanted: readonly { id: number; uid: number }[]): Promise<Map<number, KindItem>> {
  const out = new Map<number, KindItem>();
  if (wanted.length === 0) return out;
  if (folder.itemClass === "mail") {
    const rows = await indexesOf(c, folder.id, wanted.map((w) => w.uid));
    for (const r of rows) out.set(r.id, mailKindItem(c.account.id, r) as KindItem);
    return out;
  }
  const refs: ItemRef[] = wanted.map((w) => ({ accountId: c.account.id, itemClass: folder.itemClass, id: w.id }));
  for (const it of await kind.load(c, refs)) if (it.folderId === folder.id) out.set(it.ref.id, it);
  return out;
}

/** A folder's items in a stable order with a cursor key: mail by UID (the listing's own order), other kinds by id. */
interface Listed {
  id: number;
  uid: number;
  modseq: number;
  /** What the first sync's cursor (ItemSyncState.initial) counts: the UID for mail, the id for the others. */
  key: number;
}

/** A folder's listing: `length` entries with ascending `keyAt(i)` (the cursor); `entry(i)` made only for the entries a window takes. */
interface Listing {
  length: number;
  keyAt(i: number): number;
  entry(i: number): Listed;
  items?: Map<number, KindItem>;
}

async function listFolder(c: EwsContext, kind: ItemKind, folder: Folder): Promise<Listing> {
  if (folder.itemClass === "mail") {
    // ascending UID (UIDs never repeat in a folder), kept between the pages of a walk (mail-listing.ts)
    const l = await mailListing(c, folder);
    return { length: l.length, keyAt: (i) => l.uid[i]!, entry: (i) => ({ id: l.id[i]!, uid: l.uid[i]!, modseq: l.modseq[i]!, key: l.uid[i]! }) };
  }
  // Groupware folders list with their data (no cheaper listing): keep what was read.
  const all = await kind.list(c, folder);
  const items = new Map(all.map((i) => [i.ref.id, i]));
  const list = all.map((i) => ({ id: i.ref.id, uid: 0, modseq: i.modseq, key: i.ref.id })).sort((a, b) => a.key - b.key);
  return { length: list.length, keyAt: (i) => list[i]!.key, entry: (i) => list[i]!, items };
}

/** The index of the first entry whose key is above `after` (binary search: keys ascend). */
function firstAfter(l: Listing, after: number): number {
  let lo = 0;
  let hi = l.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (l.keyAt(mid) <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Window {
  xml: string;
  state: ItemSyncState;
  last: boolean;
}

/** First sync: the items after cursor `after` (Listed.key), at most `max`, each as Create. */
async function initialWindow(c: EwsContext, kind: ItemKind, folder: Folder, shape: ItemShape, since: number, after: number, max: number, ignore: Set<number>): Promise<Window> {
  const listing = await listFolder(c, kind, folder);
  const items = listing.items;
  const start = firstAfter(listing, after);
  const page: Listed[] = [];
  for (let i = start; i < Math.min(listing.length, start + max); i++) page.push(listing.entry(i));
  let xml = "";
  if (folder.itemClass === "mail" && shape.base === "IdOnly" && shape.additional.length === 0) {
    // IdOnly with nothing else is an id and a ChangeKey: written from the folder listing without reading
    // the index rows (issue 20 done-when 2: the first sync of a large folder). The one thing given up:
    // a meeting message shows as t:Message here; GetItem shows it as the meeting it is.
    for (const w of page) {
      if (!ignore.has(w.id)) xml += `<t:Create><t:Message>${itemIdXml({ accountId: c.account.id, itemClass: "mail", id: w.id }, w.modseq)}</t:Message></t:Create>`;
    }
  } else {
    const loaded = items ?? (await loadItems(c, kind, folder, page));
    for (const w of page) {
      const it = loaded.get(w.id);
      if (!it || ignore.has(w.id)) continue;
      xml += t("Create", await kind.render(c, it, shape));
    }
  }
  const last = start + max >= listing.length;
  const state: ItemSyncState = { accountId: c.account.id, folder: folder.id, since };
  if (!last) state.initial = page[page.length - 1]!.key;
  return { xml, state, last };
}

/** One item's net change over a window of the feed. */
interface NetChange {
  id: number;
  uid: number;
  itemClass: FeedItemChange["itemClass"];
  first: FeedItemChange["kind"];
  last: FeedItemChange["kind"];
  modseq: number;
}

/** Later syncs: the feed since `state.since` for this folder, one net change per item, at most `max`. */
async function changeWindow(c: EwsContext, kind: ItemKind, folder: Folder, shape: ItemShape, state: ItemSyncState, max: number, ignore: Set<number>): Promise<Window> {
  const feed = await c.store.accountChanges(c.account.id, state.since, { only: "items", folderId: folder.id, limit: max + 64 });
  if (feed.status === "tooOld") throw new EwsError("ErrorInvalidSyncStateData", "The SyncState is too old; synchronise again from the start.");
  const byId = new Map<number, NetChange>();
  for (const ch of feed.items) {
    if (ch.folderId !== folder.id) continue;
    // the client already has the changes at change number since+1 up to item `within` (a window cut inside one change number)
    if (state.within !== undefined && ch.modseq === state.since + 1 && ch.itemId <= state.within) continue;
    const cur = byId.get(ch.itemId);
    if (cur) {
      cur.last = ch.kind;
      cur.uid = ch.uid;
      cur.modseq = Math.max(cur.modseq, ch.modseq);
    } else {
      byId.set(ch.itemId, { id: ch.itemId, uid: ch.uid, itemClass: ch.itemClass, first: ch.kind, last: ch.kind, modseq: ch.modseq });
    }
  }
  const net = [...byId.values()].sort((a, b) => a.modseq - b.modseq || a.id - b.id);
  const cut = net.length > max;
  const take = cut ? net.slice(0, max) : net;
  const present = take.filter((n) => n.last !== "deleted");
  const loaded = await loadItems(c, kind, folder, present);
  let xml = "";
  for (const n of take) {
    if (ignore.has(n.id)) continue;
    const it = n.last === "deleted" ? undefined : loaded.get(n.id);
    if (!it) {
      // gone (or moved away since): a Delete, unless it came and went inside this window
      if (n.first === "created") continue;
      xml += t("Delete", `<t:ItemId Id="${itemId({ accountId: c.account.id, itemClass: n.itemClass, id: n.id })}"/>`);
      continue;
    }
    xml += t(n.first === "created" ? "Create" : "Update", await kind.render(c, it, shape));
  }
  const next: ItemSyncState = { accountId: c.account.id, folder: folder.id, since: feed.highestModseq };
  if (cut) {
    const end = take[take.length - 1]!;
    const after = net[max]!;
    if (after.modseq === end.modseq) {
      next.since = end.modseq - 1;
      next.within = end.id;
    } else {
      next.since = end.modseq;
    }
  }
  return { xml, state: next, last: !cut && !feed.more };
}

// MS-OXWSSYNC §3.1.4.2
registerOperation("SyncFolderItems", async (c, op) => {
  const shape: ItemShape = { ...parseItemShape(mkid(op, "ItemShape")), view: "list" };
  const max = parseMax(op);
  const scope = kidText(op, "SyncScope", NS.m);
  if (scope !== undefined && scope !== "NormalItems" && scope !== "NormalAndAssociatedItems") throw new EwsError("ErrorInvalidRequest", "SyncScope must be NormalItems or NormalAndAssociatedItems.");
  const ignoreEls = (mkid(op, "Ignore")?.children ?? []).filter((k) => k.ns === NS.t && k.name === "ItemId");
  if (ignoreEls.length > MAX_IGNORE) throw new EwsError("ErrorInvalidRequest", `Ignore names at most ${MAX_IGNORE} items.`);
  const ignore = new Set(ignoreEls.map((e) => ownItemId(c, e.attrs.Id).id));
  const syncEl = mkid(op, "SyncFolderId");
  if (!syncEl) throw new EwsError("ErrorInvalidRequest", "SyncFolderId is required.");
  const ref = await resolveFolder(c, syncEl);
  const stateText = mkid(op, "SyncState")?.text.trim() ?? "";
  const target = ref.kind === "store" ? ref.folder.id : ref.name;
  let state: ItemSyncState | null = null;
  if (stateText) {
    state = decodeItemSyncState(stateText);
    if (!state || state.accountId !== c.account.id || state.folder !== target) throw new EwsError("ErrorInvalidSyncStateData", "The SyncState is not one this server gave for this folder.");
  }

  let win: Window;
  if (ref.kind === "virtual") {
    // The mailbox root and the top of the information store hold folders, not items.
    win = { xml: "", state: { accountId: c.account.id, folder: ref.name, since: state?.since ?? (await accountHead(c)) }, last: true };
  } else {
    const kind = kindOf(ref.folder.itemClass);
    if (!state || state.initial !== undefined) {
      // The change number is read before the listing: anything that changes meanwhile comes again from the feed.
      const since = state?.since ?? (await accountHead(c));
      win = await initialWindow(c, kind, ref.folder, shape, since, state?.initial ?? 0, max, ignore);
    } else {
      win = await changeWindow(c, kind, ref.folder, shape, state, max, ignore);
    }
  }
  return responseMessages("SyncFolderItems", [
    success(TAG, mv("SyncState", encodeItemSyncState(win.state)), mv("IncludesLastItemInRange", win.last), m("Changes", win.xml)),
  ]);
});
