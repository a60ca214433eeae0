/**
 * Folders: the hierarchy ('/' delimited), special-use (RFC 6154), item
 * class, subscription, UIDVALIDITY allocation and STATUS counts.
 */
import { StoreError, type Folder, type FolderStatus, type ItemClass, type PropertyBag, type SpecialUse } from "./api.ts";
import type { Events, StoreCore } from "./core.ts";
import type { Queryable } from "./db.ts";
import { DELETED, SEEN } from "./flags.ts";
import { writeFolderTombstone } from "./changes.ts";
import type { Messages } from "./messages.ts";
import { folderDisplayName, folderKey } from "./folder-names.ts";
import { normalizeFolderName } from "./names.ts";
import { FOLDER_COLS, num, parseJson, str, toFolder, type R } from "./rows.ts";

export const ITEM_CLASSES: ItemClass[] = ["mail", "calendar", "contacts", "tasks", "notes"];
const SPECIAL_USES: SpecialUse[] = ["\\Drafts", "\\Sent", "\\Trash", "\\Junk", "\\Archive", "\\All", "\\Flagged"];

export class Folders {
  constructor(
    private readonly core: StoreCore,
    private readonly messages: Messages,
  ) {}

  private async allocUidValidity(tx: Queryable): Promise<number> {
    // Distinct per created folder: a deleted and re-created name gets a new UIDVALIDITY (RFC 9051 §2.3.1.1).
    const candidate = Math.floor(Date.now() / 1000);
    const r = await tx.get<R>(
      `INSERT INTO meta (key, value) VALUES ('uidvalidity', ?)
       ON CONFLICT(key) DO UPDATE SET value = ${this.core.dialect.greatest("CAST(meta.value AS BIGINT) + 1", "CAST(excluded.value AS BIGINT)")} RETURNING value`,
      [String(candidate)],
    );
    return Number(r?.value) % 4294967295 || 1;
  }

  /** Inserts one folder (its parent exists); bumps the counter. Used by the directory for an account's default folders. */
  async insertFolder(
    tx: Queryable,
    ev: Events,
    accountId: number,
    name: string,
    parentId: number | null,
    itemClass: ItemClass,
    specialUse: SpecialUse | null,
    subscribed: boolean,
  ): Promise<number> {
    const modseq = await this.core.bump(tx, accountId);
    const uidvalidity = await this.allocUidValidity(tx);
    const r = await tx.get<R>(
      `INSERT INTO folders (account_id, name, parent_id, item_class, special_use, subscribed, uidvalidity, uidnext, highest_modseq, props, created_at, modseq, created_modseq)
       VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, '{}', ?, ?, ?) RETURNING id`,
      [accountId, name, parentId, itemClass, specialUse, subscribed ? 1 : 0, uidvalidity, modseq, Date.now(), modseq, modseq],
    );
    const id = num(r?.id);
    ev.push({ type: "folder", accountId, folderId: id, change: "created" });
    return id;
  }

  /** Creates `name`'s missing ancestors (in the same class: `name` is a stored name, storage/folder-names.ts); returns the parent id of `name`. */
  private async ensureParents(tx: Queryable, ev: Events, accountId: number, name: string, itemClass: ItemClass = "mail"): Promise<number | null> {
    const parts = name.split("/");
    let parentId: number | null = null;
    for (let i = 1; i < parts.length; i++) {
      const pn = parts.slice(0, i).join("/");
      const r = await tx.get<R>("SELECT id FROM folders WHERE account_id = ? AND name = ?", [accountId, pn]);
      parentId = r ? num(r.id) : await this.insertFolder(tx, ev, accountId, pn, parentId, itemClass, null, true);
    }
    return parentId;
  }

  async listFolders(accountId: number, opts: { itemClass?: ItemClass } = {}): Promise<Folder[]> {
    const rows = opts.itemClass
      ? await this.core.db.all<R>(`SELECT ${FOLDER_COLS} FROM folders WHERE account_id = ? AND item_class = ? ORDER BY name`, [accountId, opts.itemClass])
      : await this.core.db.all<R>(`SELECT ${FOLDER_COLS} FROM folders WHERE account_id = ? ORDER BY name`, [accountId]);
    const list = rows.map(toFolder);
    const i = list.findIndex((f) => f.name === "INBOX");
    if (i > 0) list.unshift(...list.splice(i, 1));
    return list;
  }

  async getFolder(accountId: number, name: string, itemClass: ItemClass = "mail"): Promise<Folder | null> {
    let n: string;
    try {
      n = folderKey(itemClass, normalizeFolderName(name));
    } catch {
      return null;
    }
    const r = await this.core.db.get<R>(`SELECT ${FOLDER_COLS} FROM folders WHERE account_id = ? AND name = ?`, [accountId, n]);
    return r ? toFolder(r) : null;
  }

  async getFolderById(folderId: number, itemClass?: ItemClass): Promise<Folder | null> {
    const r = await this.core.db.get<R>(`SELECT ${FOLDER_COLS} FROM folders WHERE id = ?`, [folderId]);
    return r && (!itemClass || str(r.item_class) === itemClass) ? toFolder(r) : null;
  }

  async createFolder(
    accountId: number,
    name: string,
    opts: { specialUse?: SpecialUse; itemClass?: ItemClass; subscribed?: boolean } = {},
  ): Promise<Folder> {
    if (opts.itemClass && !ITEM_CLASSES.includes(opts.itemClass)) throw new StoreError("INVALID", `unknown item class ${opts.itemClass}`);
    // each class has its own name space (storage/folder-names.ts)
    const n = folderKey(opts.itemClass ?? "mail", normalizeFolderName(name));
    if (opts.specialUse && !SPECIAL_USES.includes(opts.specialUse)) throw new StoreError("INVALID", `unknown special use ${opts.specialUse}`);
    const id = await this.core.tx(async (tx, ev) => {
      if (!(await tx.get("SELECT 1 AS x FROM accounts WHERE id = ?", [accountId]))) throw new StoreError("NONEXISTENT", "no such account");
      if (await tx.get("SELECT 1 AS x FROM folders WHERE account_id = ? AND name = ?", [accountId, n])) {
        throw new StoreError("ALREADYEXISTS", `folder exists: ${folderDisplayName(n)}`);
      }
      const parentId = await this.ensureParents(tx, ev, accountId, n, opts.itemClass);
      return this.insertFolder(tx, ev, accountId, n, parentId, opts.itemClass ?? "mail", opts.specialUse ?? null, opts.subscribed ?? true);
    });
    return (await this.getFolderById(id)) as Folder;
  }

  async renameFolder(accountId: number, from: string, to: string, opts: { itemClass?: ItemClass } = {}): Promise<void> {
    const src = folderKey(opts.itemClass ?? "mail", normalizeFolderName(from));
    const dst = folderKey(opts.itemClass ?? "mail", normalizeFolderName(to));
    if (src === dst) throw new StoreError("ALREADYEXISTS", `folder exists: ${folderDisplayName(dst)}`);
    if (dst === "INBOX") throw new StoreError("CANNOT", "cannot rename to INBOX");
    if (dst.startsWith(src + "/")) throw new StoreError("CANNOT", "cannot move a folder into itself");
    await this.core.tx(async (tx, ev) => {
      const srcRow = await tx.get<R>(`SELECT ${FOLDER_COLS} FROM folders WHERE account_id = ? AND name = ?`, [accountId, src]);
      if (!srcRow) throw new StoreError("NONEXISTENT", `no such folder: ${folderDisplayName(src)}`);
      if (await tx.get("SELECT 1 AS x FROM folders WHERE account_id = ? AND name = ?", [accountId, dst])) {
        throw new StoreError("ALREADYEXISTS", `folder exists: ${folderDisplayName(dst)}`);
      }
      const srcFolder = toFolder(srcRow);
      const parentId = await this.ensureParents(tx, ev, accountId, dst, srcFolder.itemClass);
      if (src === "INBOX") {
        // RFC 9051 §6.3.6: renaming INBOX moves its messages to a new folder and leaves INBOX
        // empty; INBOX's inferiors stay where they are.
        const newId = await this.insertFolder(tx, ev, accountId, dst, parentId, srcFolder.itemClass, null, true);
        const ids = (await tx.raw("SELECT id FROM items WHERE folder_id = ? ORDER BY uid", [srcFolder.id])).map((r) => num(r[0]));
        if (ids.length) await this.messages.moveItems(tx, ev, srcFolder.id, newId, ids, accountId);
        return;
      }
      const modseq = await this.core.bump(tx, accountId);
      // the folder and its whole subtree
      const subtree = await tx.all<R>(
        "SELECT id, name FROM folders WHERE account_id = ? AND (name = ? OR substr(name, 1, ?) = ?)",
        [accountId, src, src.length + 1, src + "/"],
      );
      for (const f of subtree) {
        const newName = dst + str(f.name).slice(src.length);
        if (newName !== dst && (await tx.get("SELECT 1 AS x FROM folders WHERE account_id = ? AND name = ?", [accountId, newName]))) {
          throw new StoreError("ALREADYEXISTS", `folder exists: ${folderDisplayName(newName)}`);
        }
      }
      // two steps so no intermediate name collides with the UNIQUE(account_id, name) constraint
      for (const f of subtree) await tx.run("UPDATE folders SET name = ? WHERE id = ?", [`\u0001rename\u0001${num(f.id)}`, num(f.id)]);
      for (const f of subtree) {
        const newName = dst + str(f.name).slice(src.length);
        await tx.run("UPDATE folders SET name = ?, highest_modseq = ?, modseq = ? WHERE id = ?", [newName, modseq, modseq, num(f.id)]);
        ev.push({ type: "folder", accountId, folderId: num(f.id), change: "renamed" });
      }
      await tx.run("UPDATE folders SET parent_id = ? WHERE id = ?", [parentId, srcFolder.id]);
    });
  }

  async deleteFolder(accountId: number, name: string, opts: { itemClass?: ItemClass } = {}): Promise<void> {
    const n = folderKey(opts.itemClass ?? "mail", normalizeFolderName(name));
    if (n === "INBOX") throw new StoreError("CANNOT", "cannot delete INBOX");
    await this.core.tx(async (tx, ev) => {
      const f = await tx.get<R>("SELECT id, item_class FROM folders WHERE account_id = ? AND name = ?", [accountId, n]);
      if (!f) throw new StoreError("NONEXISTENT", `no such folder: ${folderDisplayName(n)}`);
      const id = num(f.id);
      // Like Dovecot ("Mailbox has children"): a folder with inferiors is not deleted;
      // delete the children first. Keeps the tree free of \Noselect placeholders.
      if (await tx.get("SELECT 1 AS x FROM folders WHERE parent_id = ? LIMIT 1", [id])) {
        throw new StoreError("CANNOT", `folder has children: ${folderDisplayName(n)}`);
      }
      const usage = await tx.get<R>("SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM items WHERE folder_id = ?", [id]);
      const modseq = await this.core.bump(tx, accountId, -num(usage?.bytes), -num(usage?.n));
      await tx.run("DELETE FROM items WHERE folder_id = ?", [id]);
      // The change feed reports the folder (and with it every item it held) by its tombstone (storage/changes.ts).
      await tx.run("DELETE FROM expunged WHERE folder_id = ?", [id]);
      await writeFolderTombstone(tx, { accountId, folderId: id, name: n, itemClass: str(f.item_class), modseq });
      await tx.run("DELETE FROM folders WHERE id = ?", [id]);
      ev.push({ type: "folder", accountId, folderId: id, change: "deleted" });
    });
  }

  async setSubscribed(accountId: number, name: string, subscribed: boolean, opts: { itemClass?: ItemClass } = {}): Promise<void> {
    const n = folderKey(opts.itemClass ?? "mail", normalizeFolderName(name));
    await this.core.tx(async (tx, ev) => {
      const f = await tx.get<R>("SELECT id, subscribed FROM folders WHERE account_id = ? AND name = ?", [accountId, n]);
      if (!f) throw new StoreError("NONEXISTENT", `no such folder: ${folderDisplayName(n)}`);
      if ((num(f.subscribed) !== 0) === subscribed) return;
      const modseq = await this.core.bump(tx, accountId);
      await tx.run("UPDATE folders SET subscribed = ?, highest_modseq = ?, modseq = ? WHERE id = ?", [subscribed ? 1 : 0, modseq, modseq, num(f.id)]);
      ev.push({ type: "folder", accountId, folderId: num(f.id), change: "subscribed" });
    });
  }

  /** Replaces keys of a folder's property bag (null removes a key). */
  async setFolderProps(folderId: number, patch: PropertyBag): Promise<PropertyBag> {
    return this.core.tx(async (tx) => {
      const f = await tx.get<R>("SELECT account_id, props FROM folders WHERE id = ?", [folderId]);
      if (!f) throw new StoreError("NONEXISTENT", "no such folder");
      const props = parseJson<PropertyBag>(f.props, {});
      for (const [k, v] of Object.entries(patch)) if (v === null) delete props[k]; else props[k] = v;
      const modseq = await this.core.bump(tx, num(f.account_id));
      await tx.run("UPDATE folders SET props = ?, highest_modseq = ?, modseq = ? WHERE id = ?", [JSON.stringify(props), modseq, modseq, folderId]);
      return props;
    });
  }

  async folderStatus(folderId: number): Promise<FolderStatus> {
    const f = await this.getFolderById(folderId);
    if (!f) throw new StoreError("NONEXISTENT", "no such folder");
    const r = await this.core.db.get<R>(
      `SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes,
              COALESCE(SUM(CASE WHEN (flags & ${SEEN}) = 0 THEN 1 ELSE 0 END), 0) AS unseen,
              COALESCE(SUM(CASE WHEN (flags & ${DELETED}) <> 0 THEN 1 ELSE 0 END), 0) AS deleted
       FROM items WHERE folder_id = ?`,
      [folderId],
    );
    return {
      messages: num(r?.n),
      recent: 0,
      unseen: num(r?.unseen),
      uidNext: f.uidNext,
      uidValidity: f.uidValidity,
      highestModseq: f.highestModseq,
      size: num(r?.bytes),
      deleted: num(r?.deleted),
    };
  }
}
