/**
 * Store events (storage/api.ts StoreEvent, published after commit) as EWS
 * notification events (MS-OXWSNTIF §3.1.4.2.3.2; Types.xsd
 * NotificationEventTypeType): a delivery is NewMailEvent + CreatedEvent,
 * another arrival CreatedEvent, a copy CopiedEvent (with the source's id), a
 * move MovedEvent (the store's expunge in the source and arrival in the
 * target, same stable id, in one commit), a flag or item change
 * ModifiedEvent, an expunge DeletedEvent; folders: created, renamed
 * (ModifiedEvent, MovedEvent when the parent changed), deleted. A change to a
 * calendar item is also a FreeBusyChangedEvent.
 */
import type { ItemClass, StoreEvent } from "../../../storage/api.ts";
import { EV, type EventCode, type EwsEvent } from "./notifications-events.ts";

export interface FolderInfo {
  cls: ItemClass;
  /** 0 = top level. */
  parent: number;
}

/** The folder facts a batch needs, cached by the account's hub. */
export interface FolderFacts {
  /** The folder's class and parent (looked up when not known, or when `refresh`); null when it is not the account's. */
  get(id: number, refresh?: boolean): Promise<FolderInfo | null>;
  /** What is known without a lookup (a deleted folder's last parent). */
  known(id: number): FolderInfo | undefined;
  forget(id: number): void;
}

/** One commit's (or a few commits') store events as EWS events, in order; seq is 0 (the subscription numbers them). */
export async function mapStoreEvents(batch: StoreEvent[], folders: FolderFacts): Promise<EwsEvent[]> {
  const out: EwsEvent[] = [];
  const ms = Date.now();
  const push = (code: EventCode, modseq: number, cls: ItemClass | null, id: number, parent: number, oldId = 0, oldParent = 0) =>
    out.push({ code, seq: 0, modseq, ms, cls, id, parent, oldId, oldParent });
  // An expunge followed by the same id arriving elsewhere in the same commit is a move.
  const arrived = new Set<number>();
  const left = new Map<number, number>();
  for (const e of batch) {
    if (e.type === "exists") arrived.add(e.id);
    else if (e.type === "expunge") for (const id of e.ids) left.set(id, e.folderId);
  }
  for (const e of batch) {
    switch (e.type) {
      case "exists": {
        const f = await folders.get(e.folderId);
        if (!f) break;
        const from = e.via === "move" ? (e.fromFolderId ?? left.get(e.id)) : left.get(e.id);
        if (from !== undefined) push(EV.Moved, e.modseq, f.cls, e.id, e.folderId, e.id, from);
        else if (e.via === "copy" && e.fromId !== undefined) push(EV.Copied, e.modseq, f.cls, e.id, e.folderId, e.fromId, e.fromFolderId ?? 0);
        else {
          if (e.via === "deliver") push(EV.NewMail, e.modseq, f.cls, e.id, e.folderId);
          push(EV.Created, e.modseq, f.cls, e.id, e.folderId);
        }
        if (f.cls === "calendar") push(EV.FreeBusyChanged, e.modseq, f.cls, e.id, e.folderId);
        break;
      }
      case "flags": {
        const f = await folders.get(e.folderId);
        if (!f) break;
        for (const u of e.updates) push(EV.Modified, u.modseq, f.cls, u.id, e.folderId);
        if (f.cls === "calendar") for (const u of e.updates) push(EV.FreeBusyChanged, u.modseq, f.cls, u.id, e.folderId);
        break;
      }
      case "expunge": {
        const f = await folders.get(e.folderId);
        if (!f) break;
        for (const id of e.ids) {
          if (arrived.has(id)) continue;
          push(EV.Deleted, e.modseq, f.cls, id, e.folderId);
          if (f.cls === "calendar") push(EV.FreeBusyChanged, e.modseq, f.cls, id, e.folderId);
        }
        break;
      }
      case "folder": {
        if (e.change === "subscribed") break;
        const before = folders.known(e.folderId);
        if (e.change === "deleted") {
          folders.forget(e.folderId);
          push(EV.Deleted, 0, null, e.folderId, before?.parent ?? 0);
          break;
        }
        const now = await folders.get(e.folderId, true);
        if (!now) break;
        if (e.change === "created") push(EV.Created, 0, null, e.folderId, now.parent);
        else if (before && before.parent !== now.parent) push(EV.Moved, 0, null, e.folderId, now.parent, e.folderId, before.parent);
        else push(EV.Modified, 0, null, e.folderId, now.parent);
        break;
      }
    }
  }
  // Folder events carry no change number of their own: they take the batch's newest.
  let top = 0;
  for (const ev of out) top = Math.max(top, ev.modseq);
  for (const ev of out) if (ev.modseq === 0) ev.modseq = top;
  return out;
}
