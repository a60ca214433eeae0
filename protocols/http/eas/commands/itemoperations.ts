/**
 * ItemOperations (MS-ASCMD §2.2.1.10): Fetch of items (by CollectionId +
 * ServerId, or a Search LongId) and of attachments (by FileReference, with
 * an optional byte Range), EmptyFolderContents (mail and groupware folders). Fetched data goes inline
 * (base64 in Data) or, when the client asks for multipart
 * (MS-ASAcceptMultiPart: T, MS-ASHTTP §2.2.1.1.2.5), as binary parts after
 * the WBXML with Part references.
 * Status (§2.2.3.177.8): 2 protocol error, 3 server error, 6 object not
 * found, 8 byte range invalid, 9 store unknown, 15 attachment id invalid.
 */
import { StoreError, type Folder } from "../../../../storage/api.ts";
import { GroupwareError } from "../../../../src/groupware/index.ts";
import type { CommandHandler, EasContext, EasResult } from "../context.ts";
import { attachmentContent, findAttachment, parseFileReference } from "../email/convert.ts";
import { folderByServerId, parseItemServerId } from "../folders.ts";
import { syncClassForFolder, type ListedItem } from "../sync/classes.ts";
import { defaultOptions, parseBodyPreferences } from "../sync/engine.ts";
import { el, kid, kids, kidText, ns, type WElement } from "../wbxml/tree.ts";
import { encode } from "../wbxml/codec.ts";

const I = ns("ItemOperations");

interface Ctx {
  multipart: boolean;
  parts: Uint8Array[];
}

function dataEl(x: Ctx, bytes: Uint8Array): WElement {
  if (x.multipart) {
    x.parts.push(bytes);
    return I("Part", x.parts.length); // part 0 is the WBXML itself
  }
  return I("Data", Buffer.from(bytes).toString("base64"));
}

/** "start-end", inclusive (MS-ASCMD Range (ItemOperations)). */
function parseRange(s: string | undefined, total: number): [number, number] | null | "bad" {
  if (s === undefined) return null;
  const m = /^(\d{1,10})-(\d{1,10})$/.exec(s.trim());
  if (!m) return "bad";
  const a = Number(m[1]);
  const b = Number(m[2]);
  if (a > b) return "bad";
  if (total === 0) return [0, -1];
  if (a >= total) return "bad";
  return [a, Math.min(b, total - 1)];
}

async function fetchAttachment(c: EasContext, x: Ctx, ref: string, options: WElement | undefined): Promise<WElement> {
  const fr = parseFileReference(ref);
  const fail = (st: number) => I("Fetch", I("Status", st), el("AirSyncBase:FileReference", ref));
  if (!fr) return fail(15);
  const msg = await c.store.getMessageById(fr.itemId);
  const folder = msg ? await c.store.getFolderById(msg.folderId) : null;
  if (!msg || !folder || folder.accountId !== c.account.id) return fail(15);
  const att = findAttachment(msg.root, fr.path);
  if (!att) return fail(15);
  const raw = await c.store.readMessage(msg.id);
  const bytes = attachmentContent(raw, att);
  const range = parseRange(kidText(options, "ItemOperations:Range"), bytes.length);
  if (range === "bad") return fail(8);
  const slice = range ? bytes.subarray(range[0], range[1] + 1) : bytes;
  return I(
    "Fetch",
    I("Status", "1"),
    el("AirSyncBase:FileReference", ref),
    I(
      "Properties",
      el("AirSyncBase:ContentType", att.contentType),
      range && I("Range", `${range[0]}-${Math.max(range[0], range[1])}`),
      range && I("Total", bytes.length),
      dataEl(x, slice),
    ),
  );
}

async function fetchItem(c: EasContext, x: Ctx, collectionId: string | undefined, serverId: string | undefined, longId: string | undefined, options: WElement | undefined): Promise<WElement> {
  const sid = serverId ?? longId;
  const parsed = parseItemServerId(sid);
  const idEls = [collectionId !== undefined && el("AirSync:CollectionId", collectionId), serverId !== undefined && el("AirSync:ServerId", serverId), longId !== undefined && el("Search:LongId", longId)];
  const fail = (st: number) => I("Fetch", I("Status", st), idEls);
  if (!parsed) return fail(6);
  // A message (mail) or an item of a groupware class (calendar, contacts, tasks, notes): rendered by its class module.
  const msg = await c.store.getMessageById(parsed.itemId);
  const item = msg ? null : await c.store.getItem(parsed.itemId);
  const listed: ListedItem | null = msg
    ? { id: msg.id, modseq: msg.modseq, date: msg.internalDate, ref: msg.uid, flags: msg.flags }
    : item
      ? { id: item.id, modseq: item.modseq, date: 0, ref: 0, flags: [] }
      : null;
  const folderId = msg?.folderId ?? item?.folderId;
  if (!listed || folderId === undefined) return fail(6);
  const folder = await folderByServerId(c.store, c.account.id, collectionId ?? String(folderId));
  if (!folder || folder.id !== folderId) return fail(6);
  const cls = syncClassForFolder(folder);
  if (!cls) return fail(6);
  const opts = defaultOptions();
  opts.body.prefs = parseBodyPreferences(kids(options, "AirSyncBase:BodyPreference"));
  const ms = kidText(options, "AirSync:MIMESupport");
  if (ms !== undefined) opts.body.mimeSupport = Number(ms);
  const listing = { folder, items: new Map([[listed.id, listed]]) };
  const rendered = await cls.render(c, listing, [listed.id], opts);
  let props = rendered.get(listed.id);
  if (!props) return fail(6);
  if (x.multipart) {
    // Body data goes in a binary part.
    props = props.map((p) => {
      if (p.ns !== "AirSyncBase" || p.name !== "Body") return p;
      const data = kid(p, "AirSyncBase:Data");
      if (!data) return p;
      const bytes = data.children[0] instanceof Uint8Array ? data.children[0] : new TextEncoder().encode(String(data.children[0] ?? ""));
      x.parts.push(bytes);
      return { ...p, children: p.children.map((k) => (k === data ? I("Part", x.parts.length) : k)) };
    });
  }
  return I("Fetch", I("Status", "1"), idEls, el("AirSync:Class", cls.className), I("Properties", props));
}

async function emptyFolder(c: EasContext, e: WElement): Promise<WElement> {
  const collectionId = kidText(e, "AirSync:CollectionId") ?? "";
  const folder = await folderByServerId(c.store, c.account.id, collectionId);
  if (!folder || !syncClassForFolder(folder)) return I("EmptyFolderContents", I("Status", "6"), el("AirSync:CollectionId", collectionId));
  if (folder.itemClass !== "mail") return I("EmptyFolderContents", I("Status", await emptyGroupwareFolder(c, folder)), el("AirSync:CollectionId", collectionId));
  const deleteSub = kid(kid(e, "ItemOperations:Options"), "ItemOperations:DeleteSubFolders") !== undefined;
  await c.store.expunge(folder.id, (await c.store.listMessages(folder.id)).map((m) => m.uid));
  if (deleteSub) {
    const subs = (await c.store.listFolders(c.account.id, { itemClass: folder.itemClass })).filter((f) => f.name.startsWith(folder.name + "/")).sort((a, b) => b.name.length - a.name.length);
    for (const f of subs) await c.store.deleteFolder(c.account.id, f.name, { itemClass: folder.itemClass });
  }
  return I("EmptyFolderContents", I("Status", "1"), el("AirSync:CollectionId", collectionId));
}

/**
 * EmptyFolderContents of a calendar, address book, task list or notes
 * folder (MS-ASCMD §2.2.3.58: all items of the folder): objects go through
 * the groupware service without scheduling (emptying a calendar sends no
 * cancellations), notes through the store. Status 1, or 3 when an item
 * could not be deleted.
 */
async function emptyGroupwareFolder(c: EasContext, folder: Folder): Promise<number> {
  const items = await c.store.listItems(folder.id);
  try {
    if (folder.itemClass === "notes") {
      for (const it of items) await c.store.deleteItem(it.id);
      return 1;
    }
    const col = await c.server.groupware.getCollection(c.account, folder.name);
    if (!col || col.id !== folder.id) return 6;
    for (const it of items) await c.server.groupware.deleteObject(col, it.resourceName ?? String(it.id), { schedule: false });
    return 1;
  } catch (e) {
    if (!(e instanceof GroupwareError) && !(e instanceof StoreError)) throw e;
    c.log.info("eas: EmptyFolderContents failed", { folder: folder.id, err: e.message });
    return 3;
  }
}

export const itemOperations: CommandHandler = async (c, doc): Promise<EasResult> => {
  const x: Ctx = { multipart: c.req.acceptMultipart, parts: [] };
  const out: WElement[] = [];
  for (const op of kids(doc!)) {
    switch (op.name) {
      case "Fetch": {
        const store = kidText(op, "ItemOperations:Store") ?? "";
        const options = kid(op, "ItemOperations:Options");
        if (store.toLowerCase() !== "mailbox") {
          out.push(I("Fetch", I("Status", "9")));
          break;
        }
        const fileRef = kidText(op, "AirSyncBase:FileReference");
        if (fileRef !== undefined) out.push(await fetchAttachment(c, x, fileRef, options));
        else out.push(await fetchItem(c, x, kidText(op, "AirSync:CollectionId"), kidText(op, "AirSync:ServerId"), kidText(op, "Search:LongId"), options));
        break;
      }
      case "EmptyFolderContents":
        out.push(await emptyFolder(c, op));
        break;
      case "Move":
        // Conversation moves (14.0+) need conversation ids we do not keep per folder: not supported.
        out.push(I("Move", I("Status", "2")));
        break;
      default:
        return { wbxml: I("ItemOperations", I("Status", "2")) };
    }
  }
  const wbxml = I("ItemOperations", I("Status", "1"), I("Response", out));
  if (!x.multipart) return { wbxml };
  return multipartResponse(encode(wbxml), x.parts);
};

/** MS-ASCMD ItemOperations multipart body: part count, (offset, length) pairs, then the parts; all integers 32-bit little-endian. */
export function multipartResponse(wbxml: Uint8Array, parts: Uint8Array[]): EasResult {
  const all = [wbxml, ...parts];
  const headerLen = 4 + all.length * 8;
  const total = headerLen + all.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setInt32(0, all.length, true);
  let off = headerLen;
  all.forEach((p, i) => {
    dv.setInt32(4 + i * 8, off, true);
    dv.setInt32(8 + i * 8, p.length, true);
    out.set(p, off);
    off += p.length;
  });
  return { body: out, contentType: "application/vnd.ms-sync.multipart" };
}
