/**
 * MoveItems (MS-ASCMD §2.2.1.12). Item ids are the store's stable ids, so
 * the destination ServerId keeps the item part (DstMsgId = "<dst>:<id>").
 * MS-ASCMD §2.2.1.12: the client receives a Delete in the source folder the
 * next time it syncs it (harmless for a device that moved the item itself,
 * and what clients such as pyactivesync wait for); the destination's state
 * already holds the item under DstMsgId, so it does not come back as a
 * duplicate Add.
 * Status (§2.2.3.177.10): 1 invalid source, 2 invalid destination,
 * 3 success, 4 source and destination are the same, 5 failure.
 *
 * Events between calendars and contacts between address books go through
 * groupware.moveObject (one store transaction, the item keeps its id and
 * resource name; no scheduling, the event itself does not change); notes
 * move with the store's item move.
 */
import { randomUUID } from "node:crypto";
import { StoreError, type Folder } from "../../../../storage/api.ts";
import { GroupwareError } from "../../../../src/groupware/index.ts";
import type { CommandHandler, EasContext } from "../context.ts";
import { folderByServerId, itemServerId, parseItemServerId } from "../folders.ts";
import { syncClassForFolder } from "../sync/classes.ts";
import { adjustCurrentState } from "../sync/engine.ts";
import { kids, kidText, ns, type WElement } from "../wbxml/tree.ts";

const M = ns("Move");

export const moveItems: CommandHandler = async (c, doc) => {
  const out: WElement[] = [];
  for (const mv of kids(doc!, "Move:Move")) {
    const src = kidText(mv, "Move:SrcMsgId") ?? "";
    const srcFld = kidText(mv, "Move:SrcFldId") ?? "";
    const dstFld = kidText(mv, "Move:DstFldId") ?? "";
    const resp = (status: number, dst?: string) => M("Response", M("SrcMsgId", src), M("Status", status), dst !== undefined && M("DstMsgId", dst));
    const parsed = parseItemServerId(src);
    const from = await folderByServerId(c.store, c.account.id, srcFld);
    const to = await folderByServerId(c.store, c.account.id, dstFld);
    if (!parsed || !from || (parsed.folderId !== null && parsed.folderId !== from.id)) {
      out.push(resp(1));
      continue;
    }
    if (!to || !syncClassForFolder(to) || to.itemClass !== from.itemClass) {
      out.push(resp(2));
      continue;
    }
    if (from.id === to.id) {
      out.push(resp(4));
      continue;
    }
    if (from.itemClass !== "mail") {
      out.push(await moveGroupwareItem(c, src, parsed.itemId, from, to));
      continue;
    }
    const msg = await c.store.getMessageById(parsed.itemId);
    if (!msg || msg.folderId !== from.id) {
      out.push(resp(1));
      continue;
    }
    try {
      const r = await c.store.move(from.id, [msg.uid], to.id);
      if (!r.mapping.length) {
        out.push(resp(1));
        continue;
      }
    } catch (e) {
      c.log.warn("eas: MoveItems failed", { err: e });
      out.push(resp(5));
      continue;
    }
    const moved = await c.store.getMessageById(msg.id);
    if (moved) await adjustCurrentState(c, String(to.id), (s) => s.set(msg.id, moved.modseq));
    out.push(resp(3, itemServerId(to.id, msg.id)));
  }
  return { wbxml: M("MoveItems", out) };
};

async function moveGroupwareItem(c: EasContext, src: string, itemId: number, from: Folder, to: Folder) {
  const resp = (status: number, dst?: string) => M("Response", M("SrcMsgId", src), M("Status", status), dst !== undefined && M("DstMsgId", dst));
  const item = await c.store.getItem(itemId);
  if (!item || item.folderId !== from.id) return resp(1);
  let modseq: number;
  try {
    if (from.itemClass === "notes") modseq = (await c.store.moveItem(item.id, to.id)).modseq;
    else {
      const fromCol = await c.server.groupware.getCollection(c.account, from.name);
      const toCol = await c.server.groupware.getCollection(c.account, to.name);
      if (!fromCol || !item.resourceName) return resp(1);
      if (!toCol) return resp(2);
      // the same resource name in the destination unless one of that name is there (never replaced)
      const taken = await c.server.groupware.getObject(toCol, item.resourceName);
      const name = taken ? `${randomUUID()}${/\.[a-z]{1,8}$/i.exec(item.resourceName)?.[0] ?? ""}` : item.resourceName;
      const r = await c.server.groupware.moveObject(fromCol, item.resourceName, toCol, name, { overwrite: false });
      modseq = r.object.item.modseq;
    }
  } catch (e) {
    if (!(e instanceof GroupwareError) && !(e instanceof StoreError)) throw e;
    c.log.info("eas: MoveItems refused", { err: e.message });
    return resp(e instanceof GroupwareError && e.code === "NOT_FOUND" ? 1 : 5);
  }
  await adjustCurrentState(c, String(to.id), (s) => s.set(item.id, modseq));
  return resp(3, itemServerId(to.id, item.id));
}
