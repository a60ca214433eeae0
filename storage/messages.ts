/**
 * Messages once stored: index rows, flags (STORE, RFC 9051 §6.4.6 with
 * UNCHANGEDSINCE of RFC 7162 §3.1.3), expunge (logged with its modseq),
 * copy and move (RFC 6851: stable ids survive, new UIDs in the destination),
 * the per-folder change log, and reading the stored bytes.
 */
import { StoreError, type CopyResult, type FlagMode, type FlagUpdateResult, type FolderChanges, type MessageIndex, type PropertyBag } from "./api.ts";
import type { Events, StoreCore } from "./core.ts";
import type { Queryable, SqlValue } from "./db.ts";
import { folderExpungesSince } from "./changes.ts";
import { DELETED, applyFlags, decodeFlags, encodeFlags, keywordsFromText, keywordsToText, sameFlags } from "./flags.ts";
import { INDEX_COLS, SUMMARY_COLS, num, parseJson, str, summaryFromRaw, toIndex, type R } from "./rows.ts";
import { wrongClass } from "./items.ts";

export class Messages {
  constructor(private readonly core: StoreCore) {}

  async getMessages(folderId: number, uids: number[]): Promise<MessageIndex[]> {
    if (uids.length === 0) return [];
    const rows = await this.core.db.raw(
      `SELECT ${INDEX_COLS} FROM items WHERE folder_id = ? AND uid IN (${this.core.dialect.intList()}) ORDER BY uid`,
      [folderId, JSON.stringify(uids.filter((u) => Number.isInteger(u)))],
    );
    return rows.map(toIndex);
  }

  async blobIdsByUid(folderId: number, fromUid: number, toUid: number): Promise<Map<number, string>> {
    const rows = await this.core.db.raw("SELECT uid, blob_id FROM items WHERE folder_id = ? AND uid BETWEEN ? AND ?", [folderId, fromUid, toUid]);
    const out = new Map<number, string>();
    for (const r of rows) out.set(num(r[0]), str(r[1]));
    return out;
  }

  async crlfSizes(folderId: number): Promise<Map<number, number>> {
    const rows = await this.core.db.raw(
      "SELECT i.uid, b.crlf_size FROM items i JOIN blobs b ON b.id = i.blob_id WHERE i.folder_id = ? AND b.crlf_size IS NOT NULL",
      [folderId],
    );
    const out = new Map<number, number>();
    for (const r of rows) out.set(num(r[0]), num(r[1]));
    return out;
  }

  async getMessagesByIds(ids: readonly number[]): Promise<MessageIndex[]> {
    const list = ids.filter((i) => Number.isSafeInteger(i));
    if (list.length === 0) return [];
    // Mail items only: those of mail folders (items of the other classes share the table, storage/items.ts).
    const rows = await this.core.db.raw(
      `SELECT ${INDEX_COLS} FROM items WHERE id IN (${this.core.dialect.intList()}) AND EXISTS (SELECT 1 FROM folders f WHERE f.id = items.folder_id AND f.item_class = 'mail')`,
      [JSON.stringify(list)],
    );
    return rows.map(toIndex);
  }

  async getMessageById(id: number): Promise<MessageIndex | null> {
    const r = await this.core.db.raw(`SELECT ${INDEX_COLS} FROM items WHERE id = ?`, [id]);
    return r.length ? toIndex(r[0]) : null;
  }

  /** Replaces keys of an item's property bag (null removes a key); bumps its modseq. */
  async setItemProps(id: number, patch: PropertyBag): Promise<PropertyBag> {
    return this.core.tx(async (tx, ev) => {
      const r = await tx.get<R>("SELECT account_id, folder_id, uid, flags, keywords, props FROM items WHERE id = ?", [id]);
      if (!r) throw new StoreError("NONEXISTENT", "no such item");
      const props = parseJson<PropertyBag>(r.props, {});
      for (const [k, v] of Object.entries(patch)) if (v === null) delete props[k]; else props[k] = v;
      const accountId = num(r.account_id);
      const modseq = await this.core.bump(tx, accountId);
      await tx.run("UPDATE items SET props = ?, modseq = ? WHERE id = ?", [JSON.stringify(props), modseq, id]);
      await this.core.stampFolder(tx, num(r.folder_id), modseq);
      ev.push({ type: "flags", accountId, folderId: num(r.folder_id), updates: [{ id, uid: num(r.uid), modseq, flags: decodeFlags(num(r.flags), r.keywords) }] });
      return props;
    });
  }

  async storeFlags(
    folderId: number,
    uids: number[],
    mode: FlagMode,
    flags: string[],
    opts: { unchangedSince?: number; silent?: boolean } = {},
  ): Promise<FlagUpdateResult> {
    const change = encodeFlags(flags);
    if (uids.length === 0) return { updated: [], modified: [] };
    // Flag changes are not worth an fsync each (Dovecot: mail_fsync=optimized); see Db.write.
    return this.core.tx(async (tx, ev) => {
      const f = await tx.get<R>("SELECT account_id FROM folders WHERE id = ?", [folderId]);
      if (!f) throw new StoreError("NONEXISTENT", "no such folder");
      const accountId = num(f.account_id);
      const rows = await tx.raw(
        `SELECT id, uid, modseq, flags, keywords FROM items WHERE folder_id = ? AND uid IN (${this.core.dialect.intList()}) ORDER BY uid`,
        [folderId, JSON.stringify(uids.filter((u) => Number.isInteger(u)))],
      );
      const updated: FlagUpdateResult["updated"] = [];
      const modified: number[] = [];
      const changed: { id: number; uid: number; bits: number; keywords: string[] }[] = [];
      for (const r of rows) {
        const id = num(r[0]);
        const uid = num(r[1]);
        const cur = num(r[2]);
        // RFC 7162 §3.1.3: UNCHANGEDSINCE fails for messages changed after the given modseq
        if (opts.unchangedSince !== undefined && cur > opts.unchangedSince) {
          modified.push(uid);
          continue;
        }
        const bits = num(r[3]);
        const kw = keywordsFromText(r[4]);
        const next = applyFlags(mode, bits, kw, change);
        if (sameFlags(next, bits, kw)) {
          updated.push({ id, uid, modseq: cur, flags: decodeFlags(bits, r[4]) });
          continue;
        }
        changed.push({ id, uid, bits: next.bits, keywords: next.keywords });
      }
      if (changed.length) {
        const modseq = await this.core.bump(tx, accountId);
        // one UPDATE per distinct resulting flag set ("+FLAGS \Seen" on 100,000 messages is one statement)
        const groups = new Map<string, number[]>();
        for (const c of changed) {
          const key = `${c.bits}\u0000${keywordsToText(c.keywords) ?? ""}`;
          const g = groups.get(key);
          if (g) g.push(c.id);
          else groups.set(key, [c.id]);
        }
        for (const [key, ids] of groups) {
          const sep = key.indexOf("\u0000");
          const kw = key.slice(sep + 1);
          await tx.run(`UPDATE items SET flags = ?, keywords = ?, modseq = ? WHERE id IN (${this.core.dialect.intList()})`, [
            Number(key.slice(0, sep)),
            kw === "" ? null : kw,
            modseq,
            JSON.stringify(ids),
          ]);
        }
        await this.core.stampFolder(tx, folderId, modseq);
        const ups = changed.map((c) => ({ id: c.id, uid: c.uid, modseq, flags: decodeFlags(c.bits, keywordsToText(c.keywords)) }));
        updated.push(...ups);
        updated.sort((a, b) => a.uid - b.uid);
        ev.push({ type: "flags", accountId, folderId, updates: ups });
      }
      return { updated, modified };
    }, { durable: false });
  }

  async expunge(folderId: number, uids?: number[]): Promise<number[]> {
    if (uids && uids.length === 0) return [];
    return this.core.tx(async (tx, ev) => {
      const f = await tx.get<R>("SELECT account_id FROM folders WHERE id = ?", [folderId]);
      if (!f) throw new StoreError("NONEXISTENT", "no such folder");
      const accountId = num(f.account_id);
      const rows = uids
        ? await tx.raw(`SELECT id, uid, size FROM items WHERE folder_id = ? AND uid IN (${this.core.dialect.intList()}) ORDER BY uid`, [
            folderId,
            JSON.stringify(uids.filter((u) => Number.isInteger(u))),
          ])
        : await tx.raw(`SELECT id, uid, size FROM items WHERE folder_id = ? AND (flags & ${DELETED}) <> 0 ORDER BY uid`, [folderId]);
      if (rows.length === 0) return [];
      const bytes = rows.reduce((s, r) => s + num(r[2]), 0);
      const modseq = await this.core.bump(tx, accountId, -bytes, -rows.length);
      const ids = rows.map((r) => num(r[0]));
      const removed = rows.map((r) => num(r[1]));
      await tx.run(`DELETE FROM items WHERE id IN (${this.core.dialect.intList()})`, [JSON.stringify(ids)]);
      await this.logExpunged(tx, accountId, folderId, rows.map((r) => [num(r[1]), num(r[0])]), modseq);
      await this.core.stampFolder(tx, folderId, modseq);
      ev.push({ type: "expunge", accountId, folderId, uids: removed, ids, modseq });
      return removed;
    });
  }

  private async logExpunged(tx: Queryable, accountId: number, folderId: number, pairs: [number, number][], modseq: number) {
    // multi-row inserts: 500 rows per statement
    for (let i = 0; i < pairs.length; i += 500) {
      const chunk = pairs.slice(i, i + 500);
      const args: SqlValue[] = [];
      const now = Date.now();
      for (const [uid, id] of chunk) args.push(accountId, folderId, uid, id, modseq, now);
      await tx.run(`INSERT INTO expunged (account_id, folder_id, uid, item_id, modseq, deleted_at) VALUES ${chunk.map(() => "(?, ?, ?, ?, ?, ?)").join(", ")}`, args);
    }
  }

  private async folderAccount(tx: Queryable, folderId: number): Promise<{ accountId: number; itemClass: string }> {
    const f = await tx.get<R>("SELECT account_id, item_class FROM folders WHERE id = ?", [folderId]);
    if (!f) throw new StoreError("NONEXISTENT", "no such folder");
    return { accountId: num(f.account_id), itemClass: str(f.item_class) };
  }

  async copy(fromFolderId: number, uids: number[], toFolderId: number): Promise<CopyResult> {
    return this.core.tx(async (tx, ev) => {
      const src = await this.folderAccount(tx, fromFolderId);
      const dst = await this.folderAccount(tx, toFolderId);
      if (src.accountId !== dst.accountId) throw new StoreError("CANNOT", "cannot copy between accounts");
      for (const c of [src.itemClass, dst.itemClass]) if (c !== "mail") throw wrongClass(c, "mail"); // mail only (items.ts has the other classes)
      const rows = await tx.raw(`SELECT id, uid, size FROM items WHERE folder_id = ? AND uid IN (${this.core.dialect.intList()}) ORDER BY uid`, [
        fromFolderId,
        JSON.stringify(uids.filter((u) => Number.isInteger(u))),
      ]);
      if (rows.length === 0) {
        const f = await tx.get<R>("SELECT uidvalidity FROM folders WHERE id = ?", [toFolderId]);
        return { uidValidity: num(f?.uidvalidity), mapping: [] };
      }
      const bytes = rows.reduce((s, r) => s + num(r[2]), 0);
      const modseq = await this.core.bump(tx, dst.accountId, bytes, rows.length);
      const { first, uidValidity } = await this.core.allocUids(tx, toFolderId, rows.length, modseq);
      const mapping: [number, number][] = [];
      const now = Date.now();
      for (let i = 0; i < rows.length; i++) {
        const newUid = first + i;
        const r = await tx.get<R>(
          `INSERT INTO items (account_id, folder_id, uid, modseq, flags, keywords, internal_date, size, blob_id, envelope, mime, subject,
             base_subject, from_addr, from_name, to_addr, cc_addr, sent_date, message_id, in_reply_to, refs, thread_id, preview,
             has_attachment, props, created_at, created_modseq)
           SELECT account_id, ?, ?, ?, flags, keywords, internal_date, size, blob_id, envelope, mime, subject,
             base_subject, from_addr, from_name, to_addr, cc_addr, sent_date, message_id, in_reply_to, refs, thread_id, preview,
             has_attachment, props, ?, ? FROM items WHERE id = ? RETURNING id`,
          [toFolderId, newUid, modseq, now, modseq, num(rows[i][0])],
        );
        mapping.push([num(rows[i][1]), newUid]);
        ev.push({ type: "exists", accountId: dst.accountId, folderId: toFolderId, uid: newUid, id: num(r?.id), modseq, via: "copy", fromFolderId, fromId: num(rows[i][0]) });
      }
      return { uidValidity, mapping };
    });
  }

  /** Moves items (stable ids kept) with new UIDs; logs the source expunges. Caller holds the transaction (folders.ts uses it to rename INBOX). */
  async moveItems(tx: Queryable, ev: Events, fromFolderId: number, toFolderId: number, ids: number[], accountId: number): Promise<CopyResult> {
    const rows = await tx.raw(`SELECT id, uid FROM items WHERE id IN (${this.core.dialect.intList()}) ORDER BY uid`, [JSON.stringify(ids)]);
    const modseq = await this.core.bump(tx, accountId);
    const { first, uidValidity } = await this.core.allocUids(tx, toFolderId, rows.length, modseq);
    const mapping: [number, number][] = [];
    for (let i = 0; i < rows.length; i++) {
      const newUid = first + i;
      // created_modseq: the item entered this folder now (the change feed reports a move as deleted there, created here)
      await tx.run("UPDATE items SET folder_id = ?, uid = ?, modseq = ?, created_modseq = ? WHERE id = ?", [toFolderId, newUid, modseq, modseq, num(rows[i][0])]);
      mapping.push([num(rows[i][1]), newUid]);
    }
    await this.logExpunged(tx, accountId, fromFolderId, rows.map((r) => [num(r[1]), num(r[0])]), modseq);
    await this.core.stampFolder(tx, fromFolderId, modseq);
    const movedIds = rows.map((r) => num(r[0]));
    // RFC 6851 §4.3: the source sees the expunge; the destination sees new messages
    ev.push({ type: "expunge", accountId, folderId: fromFolderId, uids: mapping.map((m) => m[0]), ids: movedIds, modseq });
    for (let i = 0; i < rows.length; i++) {
      ev.push({ type: "exists", accountId, folderId: toFolderId, uid: mapping[i][1], id: movedIds[i], modseq, via: "move", fromFolderId });
    }
    return { uidValidity, mapping };
  }

  async move(fromFolderId: number, uids: number[], toFolderId: number): Promise<CopyResult> {
    return this.core.tx(async (tx, ev) => {
      const src = await this.folderAccount(tx, fromFolderId);
      const dst = await this.folderAccount(tx, toFolderId);
      if (src.accountId !== dst.accountId) throw new StoreError("CANNOT", "cannot move between accounts");
      for (const c of [src.itemClass, dst.itemClass]) if (c !== "mail") throw wrongClass(c, "mail"); // other classes move with moveItem (items.ts)
      const rows = await tx.raw(`SELECT id FROM items WHERE folder_id = ? AND uid IN (${this.core.dialect.intList()}) ORDER BY uid`, [
        fromFolderId,
        JSON.stringify(uids.filter((u) => Number.isInteger(u))),
      ]);
      if (rows.length === 0) {
        const f = await tx.get<R>("SELECT uidvalidity FROM folders WHERE id = ?", [toFolderId]);
        return { uidValidity: num(f?.uidvalidity), mapping: [] };
      }
      return this.moveItems(tx, ev, fromFolderId, toFolderId, rows.map((r) => num(r[0])), src.accountId);
    });
  }

  async changesSince(folderId: number, modseq: number): Promise<FolderChanges> {
    const f = await this.core.db.get<R>("SELECT highest_modseq FROM folders WHERE id = ?", [folderId]);
    if (!f) throw new StoreError("NONEXISTENT", "no such folder");
    const changed = (await this.core.db.raw(`SELECT ${SUMMARY_COLS} FROM items WHERE folder_id = ? AND modseq > ? ORDER BY uid`, [folderId, modseq])).map(summaryFromRaw);
    // below the change feed's pruning floor: every UID not held (RFC 7162 §3.2.5; storage/changes.ts)
    const expunged = await folderExpungesSince(this.core.db, folderId, modseq);
    return { highestModseq: num(f.highest_modseq), changed, expunged };
  }

  async readMessage(id: number): Promise<Uint8Array> {
    const r = await this.core.db.get<R>("SELECT blob_id FROM items WHERE id = ?", [id]);
    if (!r) throw new StoreError("NONEXISTENT", "no such item");
    return this.core.blobs.get(str(r.blob_id));
  }

  readRange(blobId: string, start: number, end: number): Promise<Uint8Array> {
    return this.core.blobs.getRange(blobId, start, end);
  }
}
