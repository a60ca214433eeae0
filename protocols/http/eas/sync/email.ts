/**
 * The Email class (MS-ASEMAIL) for the sync engine: mail folders of the
 * store, items = messages. Device changes that Email supports: read state,
 * flag, delete (or move to Deleted Items), and draft adds (16.0+,
 * MS-ASEMAIL).
 */
import type { Folder, MessageIndex } from "../../../../storage/api.ts";
import { StoreError } from "../../../../storage/api.ts";
import { emailApplicationData, emailChangeData, fileReference } from "../email/convert.ts";
import { FolderType } from "../folders.ts";
import { SyncStatus } from "../status.ts";
import { el, kid, kids, kidText, text, type WElement } from "../wbxml/tree.ts";
import { registerSyncClass, type ApplyResult, type ListedItem, type Listing, type SyncClass } from "./classes.ts";
import type { EasContext } from "../context.ts";
import { DraftError, draftMessage } from "../email/draft.ts";
import { editedDraft, editsDraftContent } from "../email/draft-change.ts";

const DAY = 86_400_000;

/** MS-ASCMD FilterType for email: 0 all, 1 day, 3 days, 1 week, 2 weeks, 1 month. */
const CUTOFF_DAYS: Record<number, number | null> = { 0: null, 1: 1, 2: 3, 3: 7, 4: 14, 5: 30 };

export async function trashFolder(c: EasContext): Promise<Folder | null> {
  const folders = await c.store.listFolders(c.account.id, { itemClass: "mail" });
  return folders.find((f) => f.specialUse === "\\Trash") ?? null;
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

  // MS-ASEMAIL 16.0: drafts are editable items. An EWS edit replaces a draft's content under the same
  // item id (MailStore.replaceMessage), so a flags-only Change would leave the device's old subject and body.
  fullChanges: (c, listing) => c.version >= 160 && listing.folder.specialUse === "\\Drafts",

  renderChange(c, _listing, item) {
    return emailChangeData(item.flags, c.version);
  },

  async applyChange(c, listing, item, data) {
    // MS-ASEMAIL 16.0: a device edits the content of drafts only (in the Drafts folder); other content edits are refused, not dropped.
    const drafts = c.version >= 160 && listing.folder.specialUse === "\\Drafts";
    if (editsDraftContent(data, drafts)) {
      if (!drafts) {
        c.log.info("eas: content change of a non-draft refused", { id: item.id });
        return { status: SyncStatus.ClientServerConversion };
      }
      return replaceDraft(c, listing, item, data);
    }
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
    let draft: ReturnType<typeof draftMessage>;
    try {
      draft = draftMessage(data, c.account.email, c.now(), c.server.config.limits.maxMessageSize);
    } catch (e) {
      if (!(e instanceof DraftError)) throw e;
      c.log.info("eas: draft refused", { err: e.message });
      return { status: e.status };
    }
    // The device's Read and Flag of the new draft (MS-ASEMAIL Read, Flag Status 2 = active); unread only when it says so.
    const flags = ["\\Draft"];
    if (kidText(data, "Email:Read") !== "0") flags.push("\\Seen");
    if (kidText(kid(data, "Email:Flag"), "Email:Status") === "2") flags.push("\\Flagged");
    try {
      const [r] = await c.store.append(listing.folder.id, [{ raw: draft.raw, flags }]);
      // MS-ASAIRS §2.2.2.24.1: the client records each added attachment's FileReference
      const refs = draft.attachments.map((a, i) => el("AirSyncBase:Attachment", el("AirSyncBase:ClientId", a.clientId), el("AirSyncBase:FileReference", fileReference(r!.id, draft.attachmentPaths[i]!))));
      return { status: SyncStatus.Success, id: r!.id, modseq: r!.modseq, data: refs.length ? [el("AirSyncBase:Attachments", refs)] : undefined };
    } catch (e) {
      if (e instanceof StoreError) return { status: SyncStatus.ServerError };
      throw e;
    }
  },
};

registerSyncClass(EmailClass);

/** The device's Read and Flag of a draft applied to its flags (MS-ASEMAIL Read, Flag Status 2 = active). */
function draftFlags(flags: string[], data: WElement | undefined): string[] {
  const out = new Set(flags.filter((f) => f !== "\\Recent"));
  out.add("\\Draft");
  const read = kidText(data, "Email:Read");
  if (read === "1") out.add("\\Seen");
  else if (read === "0") out.delete("\\Seen");
  const flag = kid(data, "Email:Flag");
  if (flag) {
    if (kidText(flag, "Email:Status") === "2") out.add("\\Flagged");
    else out.delete("\\Flagged");
  }
  return [...out];
}

/**
 * A 16.x Change of a draft's content: the edited message (email/draft-change.ts) is appended to the
 * Drafts folder with the draft's flags, then the old one is expunged — in that order, so a failure
 * never loses the draft. The engine tells the device Delete(old) + Add(new) (ApplyResult.replacedBy).
 */
async function replaceDraft(c: EasContext, listing: Listing, item: ListedItem, data: WElement | undefined): Promise<ApplyResult> {
  let oldRaw: Uint8Array;
  try {
    oldRaw = await c.store.readMessage(item.id);
  } catch (e) {
    if (e instanceof StoreError) return { status: SyncStatus.ObjectNotFound };
    throw e;
  }
  let draft: ReturnType<typeof editedDraft>;
  try {
    draft = editedDraft(oldRaw, data, item.id, c.account.email, c.now(), c.server.config.limits.maxMessageSize);
  } catch (e) {
    if (!(e instanceof DraftError)) throw e;
    c.log.info("eas: draft change refused", { id: item.id, err: e.message });
    return { status: e.status };
  }
  let added: { id: number; modseq: number };
  try {
    const [r] = await c.store.append(listing.folder.id, [{ raw: draft.raw, flags: draftFlags(item.flags, data) }]);
    added = r!;
  } catch (e) {
    if (e instanceof StoreError) return { status: SyncStatus.ServerError };
    throw e;
  }
  await c.store.storeFlags(listing.folder.id, [item.ref], "add", ["\\Deleted"], { silent: true });
  await c.store.expunge(listing.folder.id, [item.ref]);
  listing.items.delete(item.id); // a later command of the same request naming the old ServerId finds nothing
  c.log.info("eas: draft edited", { old: item.id, new: added.id });
  // MS-ASAIRS §2.2.2.24.1: each added attachment's ClientId with its FileReference
  const refs = draft.attachments.map((a, i) => el("AirSyncBase:Attachment", el("AirSyncBase:ClientId", a.clientId), el("AirSyncBase:FileReference", fileReference(added.id, draft.attachmentPaths[i]!))));
  return { status: SyncStatus.Success, modseq: added.modseq, replacedBy: added.id, data: refs.length ? [el("AirSyncBase:Attachments", refs)] : undefined };
}

/** Categories from a Change are not stored (IMAP keywords cannot hold spaces); kept for later classes. */
export function categoriesOf(data: WElement | undefined): string[] {
  return kids(kid(data, "Email:Categories"), "Email:Category").map((k) => text(k));
}
