/**
 * One sync-class implementation for every groupware class (Calendar,
 * Contacts, Tasks, Notes): items of a store folder of that class, rendered
 * and written back through a converter (../groupware/codec.ts).
 *
 * Calendar, contacts and task lists are groupware collections: writes go
 * through the groupware service (src/groupware/service.ts), so they get the
 * same checks, ETags, UID rules and implicit scheduling as CalDAV/CardDAV,
 * and a change made on a phone is what a CalDAV/CardDAV client reads next.
 * Notes are items of class "notes" written through the store's item API.
 *
 * Scheduling (RFC 6638 §3.2 implicit scheduling) runs for protocol 16.0 and
 * later only: MS-ASCAL 16.0 has the server send meeting requests, updates
 * and cancellations for the organizer's changes, while a 12.1–14.1 device
 * sends its own by SendMail (which the delivery pipeline processes).
 */
import { randomUUID } from "node:crypto";
import type { Account, Folder, Item, ItemClass, NoteFields } from "../../../../storage/api.ts";
import { QuotaExceededError, StorageFullError, StoreError } from "../../../../storage/api.ts";
import { etagOf, GroupwareError, type Collection, type CollectionKind } from "../../../../src/groupware/index.ts";
import type { EasContext } from "../context.ts";
import { EasDataError, type CodecContext, type GroupwareCodec } from "../groupware/codec.ts";
import { SyncStatus } from "../status.ts";
import type { WElement } from "../wbxml/tree.ts";
import type { AddResult, ApplyResult, CollectionOptions, ListedItem, Listing, SyncClass } from "./classes.ts";

export interface GroupwareClassSpec {
  /** AirSync Class: "Calendar", "Contacts", "Tasks", "Notes". */
  className: string;
  itemClass: Exclude<ItemClass, "mail">;
  /** FolderHierarchy Type of the default folder (8, 9, 7, 10) and of user-created ones (13, 14, 15, 17). */
  defaultType: number;
  userType: number;
  /** True for the account's default folder of the class. */
  isDefaultFolder(folder: Folder): boolean;
  /** Oldest date kept for a FilterType (null = all); undefined for a FilterType the class does not take. */
  cutoff(filterType: number, now: number): number | null | undefined;
  /** The date FilterType compares with the cutoff (an event's end, a task's completion...). */
  dateOf(item: Item): number;
  codec: GroupwareCodec;
  /** For Notes (store items, no groupware collection): the indexed fields of a body. */
  noteFields?(body: Uint8Array): NoteFields;
  /**
   * Removes one instance of a recurring item (16.0 Sync Delete with
   * AirSyncBase:InstanceId, MS-ASCMD §2.2.3.87): the new body, or
   * EasDataError when the item has no such instance.
   */
  deleteInstance?(body: Uint8Array, instanceId: number, cx: CodecContext): Uint8Array;
}

export function codecContext(c: EasContext, opts: CollectionOptions): CodecContext {
  return { version: c.version, account: c.account, body: opts.body, now: c.now(), log: c.log, supported: opts.supported ? new Set(opts.supported) : undefined };
}

const KIND: Record<string, CollectionKind | undefined> = { calendar: "calendar", contacts: "contacts", tasks: "tasks" };

/** A Sync status for a failed write (MS-ASCMD §2.2.3.177.17). */
export function statusForError(e: unknown): number {
  if (e instanceof EasDataError) return e.status;
  if (e instanceof GroupwareError) {
    switch (e.code) {
      case "PRECONDITION":
        return SyncStatus.Conflict;
      case "NOT_FOUND":
        return SyncStatus.ObjectNotFound;
      case "QUOTA":
        return SyncStatus.Retry; // a temporary condition: the device retries later, nothing is lost
      case "FORBIDDEN":
        return SyncStatus.CannotComplete;
      default:
        return SyncStatus.ClientServerConversion;
    }
  }
  if (e instanceof QuotaExceededError || e instanceof StorageFullError) return SyncStatus.Retry;
  if (e instanceof StoreError) {
    if (e.code === "NONEXISTENT") return SyncStatus.ObjectNotFound;
    if (e.code === "MODIFIED") return SyncStatus.Conflict;
    if (e.code === "INVALID" || e.code === "LIMIT") return SyncStatus.ClientServerConversion;
  }
  throw e;
}

export function groupwareSyncClass(spec: GroupwareClassSpec): SyncClass {
  const kind = KIND[spec.itemClass];
  const ext = spec.itemClass === "contacts" ? ".vcf" : ".ics";

  async function collectionOf(c: EasContext, folder: Folder): Promise<Collection> {
    const col = await c.server.groupware.getCollection(c.account, folder.name);
    if (!col || col.id !== folder.id) throw new GroupwareError("NOT_FOUND", `no collection for folder ${folder.id}`);
    return col;
  }

  function schedule(c: EasContext): boolean {
    return spec.itemClass === "calendar" && c.version >= 160;
  }

  /** Writes a body for an existing item, only if it is still at `modseq`. */
  async function writeExisting(c: EasContext, folder: Folder, item: Item, body: Uint8Array): Promise<Item> {
    if (!kind) {
      return c.store.updateItem(item.id, { itemClass: "notes", body, fields: spec.noteFields!(body) }, { ifModseq: item.modseq });
    }
    const col = await collectionOf(c, folder);
    const r = await c.server.groupware.putObject(col, item.resourceName ?? String(item.id), body, { ifMatch: etagOf(item), actor: c.account, schedule: schedule(c) });
    return r.object.item;
  }

  async function add(c: EasContext, folder: Folder, data: WElement, cx: CodecContext): Promise<Item> {
    const body = spec.codec.fromEas(data, null, cx);
    if (!kind) return c.store.createItem(folder.id, { itemClass: "notes", body, fields: spec.noteFields!(body) });
    const col = await collectionOf(c, folder);
    try {
      const r = await c.server.groupware.putObject(col, `${randomUUID()}${ext}`, body, { ifNoneMatch: "*", actor: c.account, schedule: schedule(c) });
      return r.object.item;
    } catch (e) {
      // The device adds what the server already holds under this UID (an invitation the phone
      // accepted that the iMIP processor had already put in the calendar): it becomes a change of that item.
      if (!(e instanceof GroupwareError) || e.code !== "UID_CONFLICT" || !e.conflict) throw e;
      const existing = await c.server.groupware.getObject(col, e.conflict);
      if (!existing) throw e;
      const merged = spec.codec.fromEas(data, await c.server.groupware.readBody(existing), cx);
      const r = await c.server.groupware.putObject(col, existing.resourceName, merged, { ifMatch: existing.etag, actor: c.account, schedule: schedule(c) });
      return r.object.item;
    }
  }

  return {
    className: spec.className,
    itemClass: spec.itemClass,
    creatableTypes: [spec.userType],
    fullChanges: true,

    folderType(folder) {
      return spec.isDefaultFolder(folder) ? spec.defaultType : spec.userType;
    },

    cutoff: spec.cutoff,

    async list(c, folder) {
      const items = new Map<number, ListedItem>();
      for (const it of await c.store.listItems(folder.id)) {
        items.set(it.id, { id: it.id, modseq: it.modseq, date: spec.dateOf(it), ref: 0, flags: [] });
      }
      return { folder, items };
    },

    async render(c, listing, ids, opts) {
      const out = new Map<number, WElement[]>();
      const cx = codecContext(c, opts);
      for (const item of await c.store.getItems(ids)) {
        if (item.folderId !== listing.folder.id) continue;
        try {
          out.set(item.id, spec.codec.toEas(await c.store.readItemBody(item.id), item, cx));
        } catch (e) {
          c.log.warn("eas: stored item cannot be converted", { cls: spec.className, item: item.id, err: e instanceof Error ? e.message : String(e) });
        }
      }
      return out;
    },

    renderChange() {
      // Never called: fullChanges makes the engine render a Change with render().
      return [];
    },

    async applyChange(c, listing, listed, data, opts): Promise<ApplyResult> {
      if (!data) return { status: SyncStatus.ProtocolError };
      const item = await c.store.getItem(listed.id);
      if (!item || item.folderId !== listing.folder.id) return { status: SyncStatus.ObjectNotFound };
      try {
        const body = spec.codec.fromEas(data, await c.store.readItemBody(item.id), codecContext(c, opts));
        const written = await writeExisting(c, listing.folder, item, body);
        return { status: SyncStatus.Success, modseq: written.modseq };
      } catch (e) {
        const status = statusForError(e);
        c.log.info("eas: device change refused", { cls: spec.className, item: item.id, status, err: e instanceof Error ? e.message : String(e) });
        return { status };
      }
    },

    async applyDelete(c, listing, items) {
      const res = new Map<number, number>();
      const col = kind ? await collectionOf(c, listing.folder) : null;
      for (const listed of items) {
        try {
          const item = await c.store.getItem(listed.id);
          if (!item || item.folderId !== listing.folder.id) {
            res.set(listed.id, SyncStatus.ObjectNotFound);
            continue;
          }
          if (col) await c.server.groupware.deleteObject(col, item.resourceName ?? String(item.id), { actor: c.account, schedule: schedule(c) });
          else await c.store.deleteItem(item.id);
          res.set(listed.id, SyncStatus.Success);
        } catch (e) {
          res.set(listed.id, statusForError(e));
        }
      }
      return res;
    },

    async applyAdd(c, listing, data, opts): Promise<AddResult> {
      if (!data) return { status: SyncStatus.ProtocolError };
      try {
        const item = await add(c, listing.folder, data, codecContext(c, opts));
        return { status: SyncStatus.Success, id: item.id, modseq: item.modseq };
      } catch (e) {
        const status = statusForError(e);
        c.log.info("eas: device add refused", { cls: spec.className, status, err: e instanceof Error ? e.message : String(e) });
        return { status };
      }
    },

    applyInstanceDelete: spec.deleteInstance
      ? async (c, listing, listed, instanceId, opts): Promise<ApplyResult> => {
          const item = await c.store.getItem(listed.id);
          if (!item || item.folderId !== listing.folder.id) return { status: SyncStatus.ObjectNotFound };
          try {
            const body = spec.deleteInstance!(await c.store.readItemBody(item.id), instanceId, codecContext(c, opts));
            const written = await writeExisting(c, listing.folder, item, body);
            return { status: SyncStatus.Success, modseq: written.modseq };
          } catch (e) {
            return { status: statusForError(e) };
          }
        }
      : undefined,
  };
}

/** The account's address, lower case: "me" for converters comparing organizer and attendees. */
export function ownAddress(a: Account): string {
  return a.email.toLowerCase();
}
