/**
 * The Email class (MS-ASEMAIL) for the sync engine: mail folders of the
 * store, items = messages. Device changes that Email supports: read state,
 * flag, delete (or move to Deleted Items), and draft adds (16.0+,
 * MS-ASEMAIL).
 */
import type { Folder, MessageIndex } from "../../../../storage/api.ts";
import { StoreError } from "../../../../storage/api.ts";
import { emailApplicationData, emailChangeData } from "../email/convert.ts";
import { FolderType } from "../folders.ts";
import { SyncStatus } from "../status.ts";
import { kid, kids, kidText, text, type WElement } from "../wbxml/tree.ts";
import { registerSyncClass, type ListedItem, type Listing, type SyncClass } from "./classes.ts";
import type { EasContext } from "../context.ts";
import { formatMailDate } from "../../../../mail/date.ts";
import { encodeWords } from "../../../../mail/encode.ts";
import { renderMessage } from "../../../../mail/build.ts";

const DAY = 86_400_000;

/** MS-ASCMD FilterType for email: 0 all, 1 day, 3 days, 1 week, 2 weeks, 1 month. */
const CUTOFF_DAYS: Record<number, number | null> = { 0: null, 1: 1, 2: 3, 3: 7, 4: 14, 5: 30 };

export async function trashFolder(c: EasContext): Promise<Folder | null> {
  const folders = await c.store.listFolders(c.account.id, { itemClass: "mail" });
  return folders.find((f) => f.specialUse === "\\Trash") ?? null;
}

/** Builds a draft message from Email ApplicationData (16.0 draft Add), written by mail/build.ts. */
export function draftMime(data: WElement | undefined, from: string, now: number): Uint8Array {
  // Header values from the device: no line breaks (RFC 5322 §2.2: a CRLF would start a new, forged field).
  const one = (v: string | undefined) => (v ?? "").replace(/[\r\n]+/g, " ").trim();
  const to = one(kidText(data, "Email:To"));
  const cc = one(kidText(data, "Email:Cc"));
  const bcc = one(kidText(data, "Email2:Bcc"));
  const subject = one(kidText(data, "Email:Subject"));
  const body = kid(data, "AirSyncBase:Body");
  const type = kidText(body, "AirSyncBase:Type") ?? "1";
  const content = text(kid(body, "AirSyncBase:Data"));
  const fields: [string, string][] = [["From", from]];
  // The device's address lists go as it wrote them (a draft keeps Bcc, RFC 5322 §3.6.3).
  if (to) fields.push(["To", to]);
  if (cc) fields.push(["Cc", cc]);
  if (bcc) fields.push(["Bcc", bcc]);
  fields.push(["Subject", encodeWords(subject)], ["Date", formatMailDate(now)]);
  return renderMessage(fields, { type: type === "2" ? "text/html" : "text/plain", content });
}

export const EmailClass: SyncClass = {
  className: "Email",
  itemClass: "mail",
  creatableTypes: [FolderType.UserMail, FolderType.UserGeneric],

  folderType(f) {
    if (f.name === "INBOX") return FolderType.Inbox;
    switch (f.specialUse) {
      case "\\Drafts":
        return FolderType.Drafts;
      case "\\Trash":
        return FolderType.DeletedItems;
      case "\\Sent":
        return FolderType.SentItems;
      default:
        return FolderType.UserMail;
    }
  },

  cutoff(filterType, now) {
    if (!(filterType in CUTOFF_DAYS)) return filterType === 6 ? now - 91 * DAY : filterType === 7 ? now - 182 * DAY : undefined;
    const d = CUTOFF_DAYS[filterType];
    return d === null || d === undefined ? null : now - d * DAY;
  },

  async list(c, folder) {
    const msgs = await c.store.listMessages(folder.id);
    const items = new Map<number, ListedItem>();
    for (const m of msgs) items.set(m.id, { id: m.id, modseq: m.modseq, date: m.internalDate, ref: m.uid, flags: m.flags });
    return { folder, items };
  },

  async render(c, listing, ids, opts) {
    const out = new Map<number, WElement[]>();
    const uids = ids.map((id) => listing.items.get(id)?.ref).filter((u): u is number => u !== undefined);
    if (!uids.length) return out;
    const msgs: MessageIndex[] = [];
    for (let i = 0; i < uids.length; i += 200) msgs.push(...(await c.store.getMessages(listing.folder.id, uids.slice(i, i + 200))));
    for (const m of msgs) {
      let raw: Uint8Array;
      try {
        raw = await c.store.readMessage(m.id);
      } catch (e) {
        c.log.warn("eas: message blob unreadable", { id: m.id, err: e });
        continue;
      }
      out.set(m.id, emailApplicationData(m, raw, { body: opts.body, version: c.version, accountId: c.account.id }));
    }
    return out;
  },

  renderChange(c, _listing, item) {
    return emailChangeData(item.flags, c.version);
  },

  async applyChange(c, listing, item, data) {
    let modseq: number | undefined;
    const set = async (mode: "add" | "remove", flag: string) => {
      const r = await c.store.storeFlags(listing.folder.id, [item.ref], mode, [flag]);
      const u = r.updated.find((x) => x.id === item.id);
      if (u) {
        modseq = u.modseq;
        item.flags = u.flags;
      }
    };
    const read = kidText(data, "Email:Read");
    if (read === "1") await set("add", "\\Seen");
    else if (read === "0") await set("remove", "\\Seen");
    const flag = kid(data, "Email:Flag");
    if (flag) {
      const status = kidText(flag, "Email:Status");
      // MS-ASEMAIL Status (Flag): 0 cleared, 1 complete, 2 active; an empty Flag clears it
      if (status === "2") await set("add", "\\Flagged");
      else await set("remove", "\\Flagged");
    }
    return { status: SyncStatus.Success, modseq };
  },

  async applyDelete(c, listing, items, deletesAsMoves) {
    const res = new Map<number, number>();
    if (!items.length) return res;
    const uids = items.map((i) => i.ref);
    const trash = deletesAsMoves ? await trashFolder(c) : null;
    if (trash && trash.id !== listing.folder.id) {
      await c.store.move(listing.folder.id, uids, trash.id);
    } else {
      await c.store.storeFlags(listing.folder.id, uids, "add", ["\\Deleted"], { silent: true });
      await c.store.expunge(listing.folder.id, uids);
    }
    for (const i of items) res.set(i.id, SyncStatus.Success);
    return res;
  },

  async applyAdd(c, listing, data) {
    // MS-ASEMAIL: clients add email only as drafts, from protocol 16.0.
    if (c.version < 160) return { status: SyncStatus.ClientServerConversion };
    const raw = draftMime(data, c.account.email, c.now());
    try {
      const [r] = await c.store.append(listing.folder.id, [{ raw, flags: ["\\Draft", "\\Seen"] }]);
      return { status: SyncStatus.Success, id: r!.id, modseq: r!.modseq };
    } catch (e) {
      if (e instanceof StoreError) return { status: SyncStatus.ServerError };
      throw e;
    }
  },
};

registerSyncClass(EmailClass);

/** Categories from a Change are not stored (IMAP keywords cannot hold spaces); kept for later classes. */
export function categoriesOf(data: WElement | undefined): string[] {
  return kids(kid(data, "Email:Categories"), "Email:Category").map((k) => text(k));
}
