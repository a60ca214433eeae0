/**
 * SyncFolderHierarchy (MS-OXWSSYNC §3.1.4.1; Messages.xsd
 * SyncFolderHierarchyType): the folders under the synced folder (by default
 * the top of the information store) as Create, then what changed since the
 * client's SyncState as Create/Update/Delete, read from the account change
 * feed (storage/change-api.ts), so a folder made over IMAP, CalDAV or the
 * webmail shows up here like one made over EWS.
 */
import type { FeedFolderChange } from "../../../storage/api.ts";
import { EwsError, registerOperation, type EwsContext } from "./context.ts";
import { decodeHierarchySyncState, encodeHierarchySyncState, folderIdOf, type FolderRef } from "./ids.ts";
import { checkFolderShape, renderFolders } from "./folders-render.ts";
import { descendantsOf, isUnder, loadTree, resolveIn, type FolderTree } from "./folders-tree.ts";
import { responseMessages, success } from "./responses.ts";
import { parseFolderShape, type FolderShape } from "./shape.ts";
import { m, mkid, mv, t } from "./xml.ts";

/** Folder changes read from the feed per response (MS-OXWSSYNC: the server picks the window; IncludesLastFolderInRange says whether more follow). */
const FEED_PAGE = 500;

const TAG = "SyncFolderHierarchyResponseMessage";

/** One folder's net change over a window of the feed: how it first appeared and how it last changed. */
interface NetChange {
  folderId: number;
  first: FeedFolderChange["kind"];
  last: FeedFolderChange["kind"];
  modseq: number;
}

function collapse(changes: readonly FeedFolderChange[]): NetChange[] {
  const byId = new Map<number, NetChange>();
  for (const ch of changes) {
    const cur = byId.get(ch.folderId);
    if (cur) {
      cur.last = ch.kind;
      cur.modseq = ch.modseq;
      // re-inserted at the end: the change order of the window is the order of last changes
      byId.delete(ch.folderId);
      byId.set(ch.folderId, cur);
    } else {
      byId.set(ch.folderId, { folderId: ch.folderId, first: ch.kind, last: ch.kind, modseq: ch.modseq });
    }
  }
  return [...byId.values()];
}

async function changesXml(c: EwsContext, tree: FolderTree, scope: FolderRef, shape: FolderShape, net: readonly NetChange[]): Promise<string> {
  let out = "";
  for (const ch of net) {
    const f = tree.byId.get(ch.folderId);
    const ref: FolderRef | null = f ? { kind: "store", folder: f } : null;
    const inScope = ref !== null && isUnder(tree, ref, scope) && !(scope.kind === "store" && scope.folder.id === ch.folderId);
    if (!ref) {
      // Gone (or hidden from EWS, e.g. a scheduling folder: never shown, never deleted); one made and removed in the window was never seen.
      // A deleted folder's place is no longer known, so a scoped sync hears of every deletion (a Delete of an unknown id is a no-op for clients).
      if (ch.last !== "deleted" || ch.first === "created") continue;
      out += t("Delete", `<t:FolderId Id="${folderIdOf(c.account.id, ch.folderId)}"/>`);
      continue;
    }
    // Outside the synced subtree: not this sync's business.
    if (!inScope) continue;
    const [xml] = await renderFolders(c, tree, [ref], shape);
    out += t(ch.first === "created" ? "Create" : "Update", xml);
  }
  return out;
}

// MS-OXWSSYNC §3.1.4.1
registerOperation("SyncFolderHierarchy", async (c, op) => {
  const shape = parseFolderShape(mkid(op, "FolderShape"));
  checkFolderShape(shape);
  const tree = await loadTree(c);
  const syncEl = mkid(op, "SyncFolderId");
  let scope: FolderRef = syncEl ? await resolveIn(c, tree, syncEl) : { kind: "virtual", name: "msgfolderroot" };
  // the mailbox root holds nothing but the information store: syncing it is syncing that
  if (scope.kind === "virtual" && scope.name === "root") scope = { kind: "virtual", name: "msgfolderroot" };
  const scopeKey = scope.kind === "store" ? scope.folder.id : "all";
  const stateText = mkid(op, "SyncState")?.text.trim() ?? "";

  if (!stateText) {
    // First sync: every folder of the subtree, parents before children, as of the change number read before listing.
    const refs = descendantsOf(tree, scope).filter((r) => r.kind === "store");
    const rendered = await renderFolders(c, tree, refs, shape);
    const state = encodeHierarchySyncState({ accountId: c.account.id, scope: scopeKey, since: tree.head });
    return responseMessages("SyncFolderHierarchy", [
      success(TAG, mv("SyncState", state), mv("IncludesLastFolderInRange", true), m("Changes", rendered.map((x) => t("Create", x)).join(""))),
    ]);
  }

  const state = decodeHierarchySyncState(stateText);
  if (!state || state.accountId !== c.account.id || state.scope !== scopeKey) {
    throw new EwsError("ErrorInvalidSyncStateData", "The SyncState is not one this server gave for this folder.");
  }
  const feed = await c.store.accountChanges(c.account.id, state.since, { only: "folders", limit: FEED_PAGE });
  if (feed.status === "tooOld") throw new EwsError("ErrorInvalidSyncStateData", "The SyncState is too old; synchronise again from the start.");
  const changes = await changesXml(c, tree, scope, shape, collapse(feed.folders));
  const next = encodeHierarchySyncState({ accountId: c.account.id, scope: scopeKey, since: feed.highestModseq });
  return responseMessages("SyncFolderHierarchy", [success(TAG, mv("SyncState", next), mv("IncludesLastFolderInRange", !feed.more), m("Changes", changes))]);
});
