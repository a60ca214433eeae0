/**
 * Items of the non-mail classes (calendar, contacts, tasks, notes) and typed
 * properties of any item or folder: the ItemStore part of the store API
 * (storage/item-api.ts). An item is a row of `items` like a message — stable
 * id, folder UID, MODSEQ from the account's change counter, the canonical
 * body in the blob store (so blob GC frees it once no row points at it) —
 * plus its class's index row (storage/item-fields.ts). Its class is its
 * folder's class: the store refuses an item into a folder of another class.
 *
 * `items` columns that only mean something for mail keep neutral values
 * (an empty envelope, a one-part MIME tree, thread 0, no Message-ID), `subject` holds the
 * title (summary, name or subject), `internal_date` the last change and
 * `created_at` the creation. Items count in the account's usage and quota.
 */
import { StoreError, type StoreEvent } from "./api.ts";
import type { StoreCore } from "./core.ts";
import type { Queryable } from "./db.ts";
import { decodeFlags } from "./flags.ts";
import type { GroupwareClass, Item, ItemInput, ItemProperty, ItemStore, PropertyKey, PropertyOwner } from "./item-api.ts";
import { checkBody, checkFields, CLASS_TABLE, type CheckedFields, foldCase, GROUPWARE_CLASSES, readIndexRows, titleOf, writeIndexRow } from "./item-fields.ts";
import { emptyEnvelope, emptyRoot, num } from "./rows.ts";
import { checkProperties, listFoldersWithProperties, ownerRef, readProperties, removeProperties, writeProperties, type OwnerRef } from "./item-properties.ts";
import { alternateResourceName, checkResourceName, defaultResourceName, idsByUid, NAMED_CLASSES, nameTaken } from "./item-names.ts";
import type { FolderWithProperties } from "./item-api.ts";
import type { ItemClass } from "./api.ts";

type Row = Record<string, unknown>;

/** The error for an item of one class aimed at a folder of another (IMAP NO [CANNOT], EAS status). */
export function wrongClass(folderClass: string, itemClass: string): StoreError {
  return new StoreError("WRONG_CLASS", `a ${folderClass} folder cannot hold ${itemClass === "mail" ? "mail" : `a ${itemClass} item`}`);
}

// Mail-only columns get an empty envelope and a one-part MIME tree: code that reads any item as a message sees an empty one.
const EMPTY_ENVELOPE = JSON.stringify(emptyEnvelope());
const emptyMime = (size: number) => JSON.stringify(emptyRoot(size));

const ITEM_COLS = "i.id, i.account_id, i.folder_id, i.uid, i.modseq, i.blob_id, i.size, i.resource_name, i.internal_date, f.item_class";

interface Checked {
  c: GroupwareClass;
  body: Uint8Array;
  fields: CheckedFields;
  props: readonly ItemProperty[];
  /** The resource name given (checked), or undefined. */
  name: string | undefined;
}

function checkInput(input: ItemInput): Checked {
  if (!input || typeof input !== "object") throw new StoreError("INVALID", "an item is { itemClass, body, fields }");
  const c = input.itemClass;
  if (!GROUPWARE_CLASSES.includes(c)) {
    if ((c as string) === "mail") throw new StoreError("WRONG_CLASS", "mail is stored with deliver or append, not as an item");
    throw new StoreError("INVALID", `unknown item class ${String(c)}`);
  }
  checkBody(c, input.body);
  const fields = checkFields(c, input.fields);
  const props = input.properties ?? [];
  checkProperties(props);
  let name: string | undefined;
  if (input.resourceName !== undefined) {
    if (!NAMED_CLASSES.includes(c)) throw new StoreError("INVALID", `a ${c} item has no resource name`);
    name = checkResourceName(input.resourceName);
  }
  return { c, body: input.body, fields, props, name };
}

export class Items implements ItemStore {
  constructor(private readonly core: StoreCore) {}

  private async folderRow(q: Queryable, folderId: number): Promise<{ accountId: number; itemClass: string }> {
    const f = await q.get<Row>("SELECT account_id, item_class FROM folders WHERE id = ?", [folderId]);
    if (!f) throw new StoreError("NONEXISTENT", "no such folder");
    return { accountId: num(f.account_id), itemClass: String(f.item_class) };
  }

  private async itemRow(q: Queryable, id: number): Promise<Row> {
    const r = await q.get<Row>(`SELECT ${ITEM_COLS}, i.flags, i.keywords FROM items i JOIN folders f ON f.id = i.folder_id WHERE i.id = ?`, [id]);
    if (!r) throw new StoreError("NONEXISTENT", "no such item");
    return r;
  }

  /** One item per UID (and per RECURRENCE-ID for events) in a folder (RFC 4791 §5.3.2.1, RFC 6352 §6.3.2.1: no UID conflicts in a collection). */
  private async checkUnique(tx: Queryable, c: GroupwareClass, accountId: number, folderId: number, fields: CheckedFields | Item["fields"], exceptId: number): Promise<void> {
    if (c === "notes") return;
    const uid = (fields as { uid: string }).uid;
    let dup: Row | undefined;
    if (c === "calendar") {
      const rid = (fields as { recurrenceId: number | null }).recurrenceId;
      dup = await tx.get<Row>(
        `SELECT item_id FROM calendar_items WHERE account_id = ? AND uid = ? AND folder_id = ? AND item_id <> ? AND ${rid === null ? "recurrence_id IS NULL" : "recurrence_id = ?"}`,
        rid === null ? [accountId, uid, folderId, exceptId] : [accountId, uid, folderId, exceptId, rid],
      );
    } else {
      const table = c === "contacts" ? "contact_items" : "task_items";
      dup = await tx.get<Row>(`SELECT item_id FROM ${table} WHERE account_id = ? AND uid = ? AND folder_id = ? AND item_id <> ?`, [accountId, uid, folderId, exceptId]);
    }
    if (dup) throw new StoreError("ALREADYEXISTS", `the folder already has an item with UID ${uid.slice(0, 200)}`);
  }

  /** After commit: a blob removed by a racing garbage collection is written again (we still hold the bytes). */
  private async ensureBlob(blobId: string, body: Uint8Array): Promise<void> {
    try {
      if (!(await this.core.blobs.has(blobId))) await this.core.blobs.put(body);
    } catch (e) {
      this.core.log?.error("blob re-check failed", { blob: blobId, error: e instanceof Error ? e.message : String(e) });
    }
  }

  /** Items by id (rows from ITEM_COLS), with their fields, in the given order. */
  private async load(q: Queryable, rows: Row[]): Promise<Item[]> {
    const byClass = new Map<GroupwareClass, number[]>();
    for (const r of rows) {
      const c = String(r.item_class) as GroupwareClass;
      if (!GROUPWARE_CLASSES.includes(c)) continue;
      let l = byClass.get(c);
      if (!l) byClass.set(c, (l = []));
      l.push(num(r.id));
    }
    const fields = new Map<number, Item["fields"]>();
    for (const [c, ids] of byClass) for (const [id, f] of await readIndexRows(q, c, ids, this.core.dialect.intList())) fields.set(id, f as Item["fields"]);
    const out: Item[] = [];
    for (const r of rows) {
      const f = fields.get(num(r.id));
      if (!f) continue; // a mail item, or a row whose index row is missing
      out.push({
        id: num(r.id),
        accountId: num(r.account_id),
        folderId: num(r.folder_id),
        uid: num(r.uid),
        modseq: num(r.modseq),
        itemClass: String(r.item_class),
        blobId: String(r.blob_id),
        size: num(r.size),
        resourceName: r.resource_name === null || r.resource_name === undefined ? null : String(r.resource_name),
        modifiedAt: num(r.internal_date),
        fields: f,
      } as Item);
    }
    return out;
  }

  private async loadIds(ids: number[]): Promise<Item[]> {
    if (ids.length === 0) return [];
    const rows = await this.core.db.all<Row>(`SELECT ${ITEM_COLS} FROM items i JOIN folders f ON f.id = i.folder_id WHERE i.id IN (${this.core.dialect.intList()})`, [
      JSON.stringify(ids),
    ]);
    const byId = new Map(rows.map((r) => [num(r.id), r]));
    return this.load(this.core.db, ids.map((id) => byId.get(id)).filter((r): r is Row => r !== undefined));
  }

  async createItem(folderId: number, input: ItemInput): Promise<Item> {
    const x = checkInput(input);
    const blobId = await this.core.blobs.put(x.body);
    const id = await this.core.tx(async (tx, ev) => {
      const f = await this.folderRow(tx, folderId);
      if (f.itemClass !== x.c) throw wrongClass(f.itemClass, x.c);
      await this.checkUnique(tx, x.c, f.accountId, folderId, x.fields, 0);
      // the DAV resource name: as given (a taken one is refused), or the UID's default (a taken one gets the id appended)
      let name: string | null = null;
      let renameAfter = false;
      if (NAMED_CLASSES.includes(x.c)) {
        name = x.name ?? defaultResourceName(x.c, (x.fields as { uid: string }).uid);
        if (await nameTaken(tx, folderId, name)) {
          if (x.name !== undefined) throw new StoreError("ALREADYEXISTS", `the folder already has a resource named ${name.slice(0, 200)}`);
          renameAfter = true;
        }
      }
      const modseq = await this.core.bump(tx, f.accountId, x.body.byteLength, 1);
      const { first } = await this.core.allocUids(tx, folderId, 1, modseq);
      const now = Date.now();
      const r = await tx.get<Row>(
        `INSERT INTO items (account_id, folder_id, uid, modseq, created_modseq, internal_date, size, blob_id, envelope, mime, subject, thread_id, created_at, resource_name)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) RETURNING id`,
        [f.accountId, folderId, first, modseq, modseq, now, x.body.byteLength, blobId, EMPTY_ENVELOPE, emptyMime(x.body.byteLength), titleOf(x.c, x.fields), now, renameAfter ? null : name],
      );
      const id = num(r?.id);
      if (renameAfter && name !== null) await tx.run("UPDATE items SET resource_name = ? WHERE id = ?", [alternateResourceName(name, id), id]);
      await writeIndexRow(tx, x.c, id, f.accountId, folderId, x.fields);
      await writeProperties(tx, f.accountId, { kind: "item", id }, x.props);
      ev.push({ type: "exists", accountId: f.accountId, folderId, uid: first, id, modseq });
      return id;
    });
    await this.ensureBlob(blobId, x.body);
    return (await this.loadIds([id]))[0];
  }

  async getItem(id: number): Promise<Item | null> {
    if (!Number.isSafeInteger(id)) return null;
    return (await this.loadIds([id]))[0] ?? null;
  }

  async getItems(ids: readonly number[]): Promise<Item[]> {
    if (!Array.isArray(ids)) throw new StoreError("INVALID", "ids must be an array");
    const ok = ids.filter((id) => Number.isSafeInteger(id));
    const out: Item[] = [];
    for (let i = 0; i < ok.length; i += 10_000) out.push(...(await this.loadIds(ok.slice(i, i + 10_000))));
    return out;
  }

  async getItemByResourceName(folderId: number, name: string): Promise<Item | null> {
    if (typeof name !== "string" || name === "" || name.length > 255) return null;
    const rows = await this.core.db.all<Row>(`SELECT ${ITEM_COLS} FROM items i JOIN folders f ON f.id = i.folder_id WHERE i.folder_id = ? AND i.resource_name = ?`, [folderId, name]);
    return (await this.load(this.core.db, rows))[0] ?? null;
  }

  async getItemsByResourceNames(folderId: number, names: readonly string[]): Promise<Item[]> {
    if (!Array.isArray(names)) throw new StoreError("INVALID", "names must be an array");
    if (names.length > 10_000) throw new StoreError("LIMIT", "at most 10,000 names at once");
    const list = [...new Set(names.filter((n) => typeof n === "string" && n !== "" && n.length <= 255))];
    if (list.length === 0) return [];
    // No ORDER BY in SQL: with one, SQLite walks the folder's UID index over every item of the
    // folder (a 10,000-event calendar for a 500-name multiget); without, it looks each name up in
    // items_resource_name (migration 0034). The rows are put in UID order here instead.
    const rows = await this.core.db.all<Row>(
      `SELECT ${ITEM_COLS} FROM items i JOIN folders f ON f.id = i.folder_id WHERE i.folder_id = ? AND i.resource_name IN (${this.core.dialect.textList()})`,
      [folderId, JSON.stringify(list)],
    );
    rows.sort((a, b) => num(a.uid) - num(b.uid));
    return this.load(this.core.db, rows);
  }

  async findItemsByUid(scope: number | { accountId: number; itemClass: GroupwareClass }, uid: string): Promise<Item[]> {
    return this.loadIds(await idsByUid(this.core.db, scope, uid));
  }

  async findItemByUid(scope: number | { accountId: number; itemClass: GroupwareClass }, uid: string): Promise<Item | null> {
    const ids = await idsByUid(this.core.db, scope, uid);
    return ids.length ? ((await this.loadIds([ids[0]!]))[0] ?? null) : null;
  }

  listFoldersWithProperties(accountId: number, opts: { itemClasses?: readonly ItemClass[]; propertySet?: string } = {}): Promise<FolderWithProperties[]> {
    return listFoldersWithProperties(this.core.db, this.core.dialect.textList(), accountId, opts);
  }

  async readItemBody(id: number): Promise<Uint8Array> {
    const r = await this.core.db.get<Row>("SELECT blob_id FROM items WHERE id = ?", [id]);
    if (!r) throw new StoreError("NONEXISTENT", "no such item");
    return this.core.blobs.get(String(r.blob_id));
  }

  async updateItem(id: number, input: ItemInput, opts: { ifModseq?: number } = {}): Promise<Item> {
    const x = checkInput(input);
    const blobId = await this.core.blobs.put(x.body);
    await this.core.tx(async (tx, ev) => {
      const r = await this.itemRow(tx, id);
      const itemClass = String(r.item_class);
      if (itemClass !== x.c) throw wrongClass(itemClass, x.c);
      if (opts.ifModseq !== undefined && num(r.modseq) !== opts.ifModseq) throw new StoreError("MODIFIED", "the item changed since it was read");
      const accountId = num(r.account_id);
      const folderId = num(r.folder_id);
      await this.checkUnique(tx, x.c, accountId, folderId, x.fields, id);
      if (x.name !== undefined && x.name !== r.resource_name && (await nameTaken(tx, folderId, x.name, id))) {
        throw new StoreError("ALREADYEXISTS", `the folder already has a resource named ${x.name.slice(0, 200)}`);
      }
      const modseq = await this.core.bump(tx, accountId, x.body.byteLength - num(r.size), 0);
      if (x.name !== undefined && x.name !== r.resource_name) await tx.run("UPDATE items SET resource_name = ? WHERE id = ?", [x.name, id]);
      await tx.run("UPDATE items SET modseq = ?, internal_date = ?, size = ?, blob_id = ?, mime = ?, subject = ? WHERE id = ?", [
        modseq,
        Date.now(),
        x.body.byteLength,
        blobId,
        emptyMime(x.body.byteLength),
        titleOf(x.c, x.fields),
        id,
      ]);
      await this.core.stampFolder(tx, folderId, modseq);
      await writeIndexRow(tx, x.c, id, accountId, folderId, x.fields);
      await writeProperties(tx, accountId, { kind: "item", id }, x.props);
      ev.push({ type: "flags", accountId, folderId, updates: [{ id, uid: num(r.uid), modseq, flags: [] }] });
    });
    await this.ensureBlob(blobId, x.body);
    return (await this.loadIds([id]))[0];
  }

  async deleteItem(id: number, opts: { ifModseq?: number } = {}): Promise<void> {
    await this.core.tx(async (tx, ev) => {
      const r = await this.itemRow(tx, id);
      const itemClass = String(r.item_class);
      if (itemClass === "mail") throw new StoreError("WRONG_CLASS", "mail is removed with expunge, not deleteItem");
      if (opts.ifModseq !== undefined && num(r.modseq) !== opts.ifModseq) throw new StoreError("MODIFIED", "the item changed since it was read");
      await this.deleteRow(tx, ev, r);
    });
  }

  /** Deletes the item of row `r` (ITEM_COLS) inside a write transaction, logging it for sync. */
  private async deleteRow(tx: Queryable, ev: StoreEvent[], r: Row): Promise<void> {
    const id = num(r.id);
    const accountId = num(r.account_id);
    const folderId = num(r.folder_id);
    const uid = num(r.uid);
    const modseq = await this.core.bump(tx, accountId, -num(r.size), -1);
    // index rows and properties go with it (ON DELETE CASCADE)
    await tx.run("DELETE FROM items WHERE id = ?", [id]);
    await this.logDeleted(tx, accountId, folderId, uid, id, modseq, r.resource_name);
    await this.core.stampFolder(tx, folderId, modseq);
    ev.push({ type: "expunge", accountId, folderId, uids: [uid], ids: [id], modseq });
  }

  /** The deletion goes into the expunge log (what "changed since N" reads), like an IMAP expunge. */
  private async logDeleted(tx: Queryable, accountId: number, folderId: number, uid: number, id: number, modseq: number, name: unknown): Promise<void> {
    // the resource name goes with it: a sync-collection report answers the removed member by its href (RFC 6578 §3.5.1)
    await tx.run("INSERT INTO expunged (account_id, folder_id, uid, item_id, modseq, deleted_at, resource_name) VALUES (?, ?, ?, ?, ?, ?, ?)", [
      accountId,
      folderId,
      uid,
      id,
      modseq,
      Date.now(),
      name === null || name === undefined ? null : String(name),
    ]);
  }

  async moveItem(id: number, toFolderId: number, opts: { resourceName?: string; replace?: boolean } = {}): Promise<Item> {
    const wanted = opts.resourceName === undefined ? undefined : checkResourceName(opts.resourceName);
    await this.core.tx(async (tx, ev) => {
      const r = await this.itemRow(tx, id);
      const itemClass = String(r.item_class);
      if (itemClass === "mail") throw new StoreError("WRONG_CLASS", "mail is moved with move, not moveItem");
      if (wanted !== undefined && !NAMED_CLASSES.includes(itemClass as ItemClass)) throw new StoreError("INVALID", `a ${itemClass} item has no resource name`);
      const to = await this.folderRow(tx, toFolderId);
      const accountId = num(r.account_id);
      const fromFolderId = num(r.folder_id);
      if (to.accountId !== accountId) throw new StoreError("CANNOT", "cannot move between accounts");
      if (to.itemClass !== itemClass) throw wrongClass(to.itemClass, itemClass);
      const oldName = r.resource_name === null || r.resource_name === undefined ? null : String(r.resource_name);
      if (fromFolderId === toFolderId && (wanted === undefined || wanted === oldName)) return;
      // the name: as asked (taken by another item: refused, or that item replaced, DAV MOVE with Overwrite: T),
      // else the old one unless the destination has it already
      let newName: string | null;
      if (wanted !== undefined) {
        const holder = await tx.get<Row>(`SELECT ${ITEM_COLS} FROM items i JOIN folders f ON f.id = i.folder_id WHERE i.folder_id = ? AND i.resource_name = ? AND i.id <> ?`, [toFolderId, wanted, id]);
        if (holder && !opts.replace) throw new StoreError("ALREADYEXISTS", `the folder already has a resource named ${wanted.slice(0, 200)}`);
        if (holder) await this.deleteRow(tx, ev, holder);
        newName = wanted;
      } else newName = oldName !== null && (await nameTaken(tx, toFolderId, oldName, id)) ? alternateResourceName(oldName, id) : oldName;
      if (fromFolderId !== toFolderId) {
        const fields = (await readIndexRows(tx, itemClass as GroupwareClass, [id], this.core.dialect.intList())).get(id);
        if (fields) await this.checkUnique(tx, itemClass as GroupwareClass, accountId, toFolderId, fields as Item["fields"], id);
      }
      const modseq = await this.core.bump(tx, accountId);
      // a rename inside the folder is a move too: the old UID and name leave, a new UID with the new name comes
      const { first } = await this.core.allocUids(tx, toFolderId, 1, modseq);
      await tx.run("UPDATE items SET folder_id = ?, uid = ?, modseq = ?, created_modseq = ?, resource_name = ? WHERE id = ?", [toFolderId, first, modseq, modseq, newName, id]);
      if (fromFolderId !== toFolderId) await tx.run(`UPDATE ${CLASS_TABLE[itemClass as GroupwareClass]} SET folder_id = ? WHERE item_id = ?`, [toFolderId, id]);
      await this.logDeleted(tx, accountId, fromFolderId, num(r.uid), id, modseq, oldName);
      await this.core.stampFolder(tx, fromFolderId, modseq);
      ev.push({ type: "expunge", accountId, folderId: fromFolderId, uids: [num(r.uid)], ids: [id], modseq });
      ev.push({ type: "exists", accountId, folderId: toFolderId, uid: first, id, modseq });
    });
    return (await this.loadIds([id]))[0];
  }

  async listItems(folderId: number): Promise<Item[]> {
    const f = await this.folderRow(this.core.db, folderId);
    if (f.itemClass === "mail") throw new StoreError("WRONG_CLASS", "a mail folder's items are listed with listMessages");
    const rows = await this.core.db.all<Row>(`SELECT ${ITEM_COLS} FROM items i JOIN folders f ON f.id = i.folder_id WHERE i.folder_id = ? ORDER BY i.uid`, [folderId]);
    return this.load(this.core.db, rows);
  }

  async findCalendarItems(scope: { folderId: number } | { accountId: number }, range: { start: number; end: number }): Promise<Item[]> {
    const { start, end } = range ?? {};
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) throw new StoreError("INVALID", "a time range is { start, end } in UTC ms, end not before start");
    const s = scope as { folderId?: unknown; accountId?: unknown };
    const [col, key] = Number.isSafeInteger(s.folderId) ? ["folder_id", s.folderId as number] : Number.isSafeInteger(s.accountId) ? ["account_id", s.accountId as number] : [null, 0];
    if (!col) throw new StoreError("INVALID", "the scope is { folderId } or { accountId }");
    // RFC 4791 §9.9: an event overlaps [start, end) when it starts before `end` and ends after
    // `start` (an instant event: at or after `start`); a recurring event is a candidate from its
    // first start until its last instance ends (span_end_utc, migration 0032; unbounded: forever).
    // The index range is span_end_utc >= start: events over before the range are never read.
    const rows = await this.core.db.all<Row>(
      `SELECT item_id FROM calendar_items WHERE ${col} = ? AND span_end_utc >= ? AND dtstart_utc < ?
         AND (span_end_utc > ? OR dtend_utc = dtstart_utc)
       ORDER BY dtstart_utc, item_id`,
      [key, start, end, start],
    );
    return this.loadIds(rows.map((r) => num(r.item_id)));
  }

  async findCalendarItemsByAddress(accountId: number, address: string, opts: { role?: "ORGANIZER" | "ATTENDEE"; limit?: number } = {}): Promise<Item[]> {
    if (typeof address !== "string") throw new StoreError("INVALID", "the address must be a string");
    const a = address.trim().replace(/^mailto:/i, "").toLowerCase();
    if (a === "" || a.length > 1024) return [];
    const limit = Math.max(1, Math.min(10_000, Math.floor(opts.limit ?? 1000)));
    const args: (number | string)[] = [accountId, a];
    let role = "";
    if (opts.role !== undefined) {
      if (opts.role !== "ORGANIZER" && opts.role !== "ATTENDEE") throw new StoreError("INVALID", "role is ORGANIZER or ATTENDEE");
      role = " AND p.role = ?";
      args.push(opts.role);
    }
    const rows = await this.core.db.all<Row>(
      `SELECT DISTINCT c.item_id, c.dtstart_utc FROM calendar_people p JOIN calendar_items c ON c.item_id = p.item_id
       WHERE p.account_id = ? AND p.address = ?${role} ORDER BY c.dtstart_utc, c.item_id LIMIT ${limit}`,
      args,
    );
    return this.loadIds(rows.map((r) => num(r.item_id)));
  }

  async attendeeAnswers(accountId: number, itemIds: readonly number[], addresses: readonly string[]): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    const addrs = [...new Set(addresses.map((a) => String(a).trim().replace(/^mailto:/i, "").toLowerCase()).filter((a) => a !== "" && a.length <= 1024))].slice(0, 100);
    if (addrs.length === 0 || itemIds.length === 0) return out;
    // chunks keep each statement under every engine's bound-parameter limit
    for (let k = 0; k < itemIds.length; k += 500) {
      const ids = itemIds.slice(k, k + 500);
      const rows = await this.core.db.all<Row>(
        `SELECT item_id, partstat FROM calendar_people WHERE account_id = ? AND role = 'ATTENDEE'
         AND item_id IN (${ids.map(() => "?").join(",")}) AND address IN (${addrs.map(() => "?").join(",")})`,
        [accountId, ...ids, ...addrs],
      );
      for (const r of rows) out.set(num(r.item_id), String(r.partstat ?? "NEEDS-ACTION").toUpperCase());
    }
    return out;
  }

  async findContacts(accountId: number, prefix: string, opts: { folderId?: number; limit?: number } = {}): Promise<Item[]> {
    if (typeof prefix !== "string") throw new StoreError("INVALID", "the prefix must be a string");
    const p = foldCase(prefix.trim());
    if (p === "" || [...p].length > 320) return []; // no term is longer (item-fields.ts)
    const limit = Math.max(1, Math.min(1000, Math.floor(opts.limit ?? 50)));
    const upper = successor(p);
    const args: (number | string)[] = [accountId, p];
    let where = "t.account_id = ? AND t.term >= ?";
    if (upper !== null) {
      where += " AND t.term < ?";
      args.push(upper);
    }
    if (opts.folderId !== undefined) {
      where += " AND c.folder_id = ?";
      args.push(opts.folderId);
    }
    // the range is the index lookup; substr re-checks the prefix
    where += " AND substr(t.term, 1, ?) = ?";
    args.push([...p].length, p);
    const rows = await this.core.db.all<Row>(
      `SELECT c.item_id, MIN(c.sort_name) AS sort_name FROM contact_terms t JOIN contact_items c ON c.item_id = t.item_id
       WHERE ${where} GROUP BY c.item_id ORDER BY sort_name, c.item_id LIMIT ${limit}`,
      args,
    );
    return this.loadIds(rows.map((r) => num(r.item_id)));
  }

  // ------------------------------------------------------------ typed properties

  /** The owner's account, checked to exist; for an item also what its "touched" event needs. */
  private async owner(q: Queryable, o: OwnerRef): Promise<{ accountId: number; item?: Row }> {
    if (o.kind === "folder") return { accountId: (await this.folderRow(q, o.id)).accountId };
    const r = await this.itemRow(q, o.id);
    return { accountId: num(r.account_id), item: r };
  }

  /** A property change is a change of its owner: a new modseq for the item (or the folder). */
  private async touch(tx: Queryable, ev: StoreEvent[], o: OwnerRef, own: { accountId: number; item?: Row }): Promise<void> {
    const modseq = await this.core.bump(tx, own.accountId);
    if (own.item) {
      const r = own.item;
      await tx.run("UPDATE items SET modseq = ? WHERE id = ?", [modseq, o.id]);
      await this.core.stampFolder(tx, num(r.folder_id), modseq);
      const flags = String(r.item_class) === "mail" ? decodeFlags(num(r.flags), r.keywords) : [];
      ev.push({ type: "flags", accountId: own.accountId, folderId: num(r.folder_id), updates: [{ id: o.id, uid: num(r.uid), modseq, flags }] });
    } else {
      await tx.run("UPDATE folders SET modseq = ? WHERE id = ?", [modseq, o.id]);
      await this.core.stampFolder(tx, o.id, modseq);
    }
  }

  async getProperties(owner: PropertyOwner): Promise<ItemProperty[]> {
    const o = ownerRef(owner);
    await this.owner(this.core.db, o);
    return readProperties(this.core.db, o);
  }

  async setProperties(owner: PropertyOwner, props: ItemProperty[]): Promise<void> {
    const o = ownerRef(owner);
    checkProperties(props);
    if (props.length === 0) return;
    await this.core.tx(async (tx, ev) => {
      const own = await this.owner(tx, o);
      await writeProperties(tx, own.accountId, o, props);
      await this.touch(tx, ev, o, own);
    });
  }

  async deleteProperties(owner: PropertyOwner, keys: PropertyKey[]): Promise<number> {
    const o = ownerRef(owner);
    if (!Array.isArray(keys)) throw new StoreError("INVALID", "keys must be an array");
    if (keys.length === 0) return 0;
    return this.core.tx(async (tx, ev) => {
      const own = await this.owner(tx, o);
      const n = await removeProperties(tx, o, keys);
      if (n > 0) await this.touch(tx, ev, o, own);
      return n;
    });
  }
}

/**
 * The least string greater than every string starting with `p`, in code point
 * order (SQLite's BINARY collation on UTF-8, and PostgreSQL's "C" collation
 * that migration 0030 gives contact_terms.term): `p` with its last code point
 * incremented; null when there is none.
 */
function successor(p: string): string | null {
  const cps = [...p];
  while (cps.length) {
    const last = cps.pop()!.codePointAt(0)!;
    let next = last + 1;
    if (next >= 0xd800 && next <= 0xdfff) next = 0xe000; // surrogates are not characters
    if (next <= 0x10ffff) return cps.join("") + String.fromCodePoint(next);
  }
  return null;
}

/** The account of a folder row ({ account_id, item_class }) that mail goes into; a folder of another class is refused (WRONG_CLASS). */
export function mailFolderAccount(f: Record<string, unknown>): number {
  if (String(f.item_class) !== "mail") throw wrongClass(String(f.item_class), "mail");
  return num(f.account_id);
}
