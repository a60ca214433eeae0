/**
 * Storage for the webmail: server-side session records, paged and sorted
 * message lists, recent correspondents and the out-of-office sent-log.
 * Protocols never write SQL; this file keeps the webmail's SQL in storage/.
 */
import { randomBytes } from "node:crypto";
import { StoreError, type BlobStore } from "./api.ts";
import type { Db, Queryable } from "./db.ts";
import type { Dialect } from "./dialect.ts";
import { SEEN } from "./flags.ts";

export interface WebmailSession {
  id: string;
  accountId: number;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  ip: string;
  userAgent: string;
}

export type ListSort = "date" | "from" | "subject" | "size";

export interface ListQuery {
  sort: ListSort;
  desc: boolean;
  offset: number;
  limit: number;
  /** One row per conversation (threadId): its newest message, with counts. */
  threads: boolean;
}

/** One entry of a list page: the message's UID, and in thread mode the conversation's counts. */
export interface ListEntry {
  uid: number;
  /** Messages of the conversation in this folder (1 outside thread mode). */
  threadCount: number;
  /** Unread messages of the conversation in this folder. */
  threadUnread: number;
}

export interface Correspondent {
  address: string;
  name: string | null;
  lastUsed: number;
  uses: number;
}

/** A compose attachment waiting to be sent or saved into a draft; its bytes are a blob. */
export interface UploadMeta {
  id: string;
  accountId: number;
  name: string;
  type: string;
  size: number;
  createdAt: number;
}

export interface WebmailStore {
  createSession(s: WebmailSession): Promise<void>;
  getSession(id: string): Promise<WebmailSession | null>;
  touchSession(id: string, lastSeenAt: number): Promise<void>;
  deleteSession(id: string): Promise<void>;
  /** The account's sessions, most recently used first (`pillarbox user sessions`). */
  listAccountSessions(accountId: number): Promise<WebmailSession[]>;
  /** Deletes every session of the account except `exceptId`. Returns how many. */
  deleteAccountSessions(accountId: number, exceptId?: string): Promise<number>;
  purgeExpiredSessions(now: number, idleMs: number): Promise<number>;

  /**
   * A page of a folder's message list, sorted in SQL (a 50,000-message folder
   * must answer fast). Returns UIDs in display order; the caller fetches the
   * rows with MailStore.getMessages.
   */
  listMessagePage(folderId: number, q: ListQuery): Promise<{ total: number; entries: ListEntry[] }>;
  /** UIDs of one conversation in a folder, oldest first. */
  listThread(folderId: number, threadId: number): Promise<number[]>;

  noteCorrespondents(accountId: number, people: { address: string; name: string | null }[], at: number): Promise<void>;
  searchCorrespondents(accountId: number, prefix: string, limit: number): Promise<Correspondent[]>;

  /** When an auto-reply last went from this account to `sender`, or null. */
  oofLastSent(accountId: number, sender: string): Promise<number | null>;
  oofRecordSent(accountId: number, sender: string, at: number): Promise<void>;
  /** Forgets the sent-log of an account (when out-of-office is switched on again, a new period starts). */
  oofReset(accountId: number): Promise<void>;

  /**
   * Keeps a compose upload: the bytes go into the blob store (fsynced), the
   * row names its owner. Refuses with StoreError("LIMIT") when the account's
   * waiting uploads would exceed `limitBytes`.
   */
  putUpload(accountId: number, file: { name: string; type: string; data: Uint8Array; createdAt?: number; id?: string }, limitBytes: number): Promise<UploadMeta>;
  /** The upload if it exists and belongs to the account, else null. */
  getUpload(accountId: number, id: string): Promise<UploadMeta | null>;
  readUpload(accountId: number, id: string): Promise<{ meta: UploadMeta; data: Uint8Array } | null>;
  /** Forgets the upload (its blob goes with the next garbage collection unless a message shares it). */
  removeUpload(accountId: number, id: string): Promise<boolean>;
  /** Forgets uploads created before `before` (ms); returns how many. */
  purgeUploads(before: number): Promise<number>;
}

// ------------------------------------------------------------------ SQL implementation



/** Sort keys; text ones case-insensitive through the dialect (the columns are rewritten to `i.` below for joins). */
/** Upload ids are random base64url (18 bytes from the CSPRNG); anything else is not one. */
const UPLOAD_ID_RE = /^[A-Za-z0-9_-]{16,64}$/;

const ORDER: Record<ListSort, (d: Dialect) => string> = {
  date: () => "internal_date",
  from: (d) => d.nocase("from_name"),
  subject: (d) => d.nocase("base_subject"),
  size: () => "size",
};

/** The webmail's tables on the storage's one database (storage/open.ts builds it; closing the storage closes the database). */
export class SqlWebmailStore implements WebmailStore {
  constructor(
    private readonly db: Db,
    private readonly blobs: BlobStore,
  ) {}

  // -------------------------------------------------------------- sessions
  async createSession(s: WebmailSession): Promise<void> {
    await this.db.write((tx) =>
      tx.run("INSERT INTO webmail_sessions (id, account_id, created_at, last_seen_at, expires_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)", [
        s.id,
        s.accountId,
        s.createdAt,
        s.lastSeenAt,
        s.expiresAt,
        s.ip,
        s.userAgent,
      ]),
    );
  }

  async getSession(id: string): Promise<WebmailSession | null> {
    const r = await this.db.get<Record<string, unknown>>(
      "SELECT id, account_id, created_at, last_seen_at, expires_at, ip, user_agent FROM webmail_sessions WHERE id = ?",
      [id],
    );
    return r ? sessionFromRow(r) : null;
  }

  async listAccountSessions(accountId: number): Promise<WebmailSession[]> {
    const rows = await this.db.all<Record<string, unknown>>(
      "SELECT id, account_id, created_at, last_seen_at, expires_at, ip, user_agent FROM webmail_sessions WHERE account_id = ? ORDER BY last_seen_at DESC, id LIMIT 1000",
      [accountId],
    );
    return rows.map(sessionFromRow);
  }

  async touchSession(id: string, lastSeenAt: number): Promise<void> {
    await this.db.write((tx) => tx.run("UPDATE webmail_sessions SET last_seen_at = ? WHERE id = ?", [lastSeenAt, id]));
  }

  async deleteSession(id: string): Promise<void> {
    await this.db.write((tx) => tx.run("DELETE FROM webmail_sessions WHERE id = ?", [id]));
  }

  async deleteAccountSessions(accountId: number, exceptId?: string): Promise<number> {
    const r = await this.db.write((tx) =>
      exceptId
        ? tx.run("DELETE FROM webmail_sessions WHERE account_id = ? AND id <> ?", [accountId, exceptId])
        : tx.run("DELETE FROM webmail_sessions WHERE account_id = ?", [accountId]),
    );
    return r.changes;
  }

  async purgeExpiredSessions(now: number, idleMs: number): Promise<number> {
    const r = await this.db.write((tx) => tx.run("DELETE FROM webmail_sessions WHERE expires_at <= ? OR last_seen_at <= ?", [now, now - idleMs]));
    return r.changes;
  }

  // -------------------------------------------------------------- lists
  async listMessagePage(folderId: number, q: ListQuery): Promise<{ total: number; entries: ListEntry[] }> {
    const dir = q.desc ? "DESC" : "ASC";
    // Ties broken by date then UID in the same direction, so the order is stable across pages and
    // the covering indexes of migration 0020 (folder_id, <column>, internal_date, uid) answer it.
    const order = q.sort === "date" ? `internal_date ${dir}, uid ${dir}` : `${ORDER[q.sort](this.db.dialect)} ${dir}, internal_date ${dir}, uid ${dir}`;
    if (!q.threads) {
      const total = await this.count("SELECT COUNT(*) FROM items WHERE folder_id = ?", [folderId]);
      const rows = await this.db.raw(`SELECT uid FROM items WHERE folder_id = ? ORDER BY ${order} LIMIT ? OFFSET ?`, [folderId, q.limit, q.offset]);
      return { total, entries: rows.map((r) => ({ uid: Number(r[0]), threadCount: 1, threadUnread: 0 })) };
    }
    // One row per conversation, represented by its newest message (the dialect's threadHeads).
    const total = await this.count("SELECT COUNT(DISTINCT thread_id) FROM items WHERE folder_id = ?", [folderId]);
    const groups = this.db.dialect.threadHeads(SEEN);
    const rows =
      q.sort === "date"
        ? await this.db.raw(`SELECT uid, n, unread FROM (${groups}) AS t ORDER BY last ${dir}, uid ${dir} LIMIT ? OFFSET ?`, [folderId, q.limit, q.offset])
        : await this.db.raw(
            `SELECT t.uid, t.n, t.unread FROM (${groups}) AS t JOIN items AS i ON i.folder_id = ? AND i.uid = t.uid
             ORDER BY ${order.replace(/\b(internal_date|uid|from_name|base_subject|size)\b/g, "i.$1")} LIMIT ? OFFSET ?`,
            [folderId, folderId, q.limit, q.offset],
          );
    return { total, entries: rows.map((r) => ({ uid: Number(r[0]), threadCount: Number(r[1]), threadUnread: Number(r[2]) })) };
  }

  async listThread(folderId: number, threadId: number): Promise<number[]> {
    const rows = await this.db.raw("SELECT uid FROM items WHERE folder_id = ? AND thread_id = ? ORDER BY internal_date ASC, uid ASC LIMIT 500", [folderId, threadId]);
    return rows.map((r) => Number(r[0]));
  }

  private async count(sql: string, args: (string | number)[]): Promise<number> {
    const rows = await this.db.raw(sql, args);
    return Number(rows[0]?.[0] ?? 0);
  }

  // -------------------------------------------------------------- correspondents
  async noteCorrespondents(accountId: number, people: { address: string; name: string | null }[], at: number): Promise<void> {
    if (!people.length) return;
    await this.db.write(async (tx: Queryable) => {
      for (const p of people.slice(0, 200)) {
        const address = p.address.trim().toLowerCase();
        if (!address) continue;
        await tx.run(
          `INSERT INTO webmail_correspondents (account_id, address, name, last_used, uses) VALUES (?, ?, ?, ?, 1)
           ON CONFLICT (account_id, address) DO UPDATE SET last_used = excluded.last_used, uses = webmail_correspondents.uses + 1,
             name = COALESCE(NULLIF(excluded.name, ''), webmail_correspondents.name)`,
          [accountId, address, p.name ?? null, at],
        );
      }
    });
  }

  async searchCorrespondents(accountId: number, prefix: string, limit: number): Promise<Correspondent[]> {
    const like = "%" + prefix.toLowerCase().replace(/[\\%_]/g, (c) => "\\" + c) + "%";
    const rows = await this.db.all<Record<string, unknown>>(
      `SELECT address, name, last_used, uses FROM webmail_correspondents
       WHERE account_id = ? AND (address LIKE ? ESCAPE '\\' OR lower(coalesce(name, '')) LIKE ? ESCAPE '\\')
       ORDER BY uses DESC, last_used DESC LIMIT ?`,
      [accountId, like, like, limit],
    );
    return rows.map((r) => ({ address: String(r.address), name: r.name === null ? null : String(r.name), lastUsed: Number(r.last_used), uses: Number(r.uses) }));
  }

  // -------------------------------------------------------------- out-of-office log
  async oofLastSent(accountId: number, sender: string): Promise<number | null> {
    const rows = await this.db.raw("SELECT sent_at FROM oof_sent_log WHERE account_id = ? AND sender = ?", [accountId, sender.toLowerCase()]);
    return rows.length ? Number(rows[0]![0]) : null;
  }

  async oofRecordSent(accountId: number, sender: string, at: number): Promise<void> {
    await this.db.write((tx) =>
      tx.run("INSERT INTO oof_sent_log (account_id, sender, sent_at) VALUES (?, ?, ?) ON CONFLICT (account_id, sender) DO UPDATE SET sent_at = excluded.sent_at", [
        accountId,
        sender.toLowerCase(),
        at,
      ]),
    );
  }

  async oofReset(accountId: number): Promise<void> {
    await this.db.write((tx) => tx.run("DELETE FROM oof_sent_log WHERE account_id = ?", [accountId]));
  }

  // -------------------------------------------------------------- uploads
  async putUpload(accountId: number, file: { name: string; type: string; data: Uint8Array; createdAt?: number; id?: string }, limitBytes: number): Promise<UploadMeta> {
    const size = file.data.byteLength;
    // checked before the blob is written (no bytes kept for a refused upload), and again under the write lock
    if ((await this.uploadBytes(this.db, accountId)) + size > limitBytes) throw new StoreError("LIMIT", "upload space full");
    // The blob first, fsynced: the row that references it commits after (a crash in between leaves
    // an unreferenced blob for garbage collection, never a row without its bytes).
    const blobId = await this.blobs.put(file.data);
    const meta: UploadMeta = {
      // an id given by the caller (uploads taken over from an earlier version) is kept if it is one
      id: file.id !== undefined && UPLOAD_ID_RE.test(file.id) ? file.id : randomBytes(18).toString("base64url"),
      accountId,
      name: file.name.slice(0, 255) || "attachment",
      type: file.type,
      size,
      createdAt: file.createdAt ?? Date.now(),
    };
    await this.db.write(async (tx) => {
      if ((await this.uploadBytes(tx, accountId)) + size > limitBytes) throw new StoreError("LIMIT", "upload space full");
      await tx.run("INSERT INTO webmail_uploads (id, account_id, name, type, size, blob_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)", [
        meta.id,
        accountId,
        meta.name,
        meta.type,
        size,
        blobId,
        meta.createdAt,
      ]);
    });
    // a garbage collection that ran between the put and the commit may have taken the blob: write it again
    if (!(await this.blobs.has(blobId))) await this.blobs.put(file.data);
    return meta;
  }

  private async uploadBytes(q: Queryable, accountId: number): Promise<number> {
    const rows = await q.raw("SELECT COALESCE(SUM(size), 0) FROM webmail_uploads WHERE account_id = ?", [accountId]);
    return Number(rows[0]?.[0] ?? 0);
  }

  async getUpload(accountId: number, id: string): Promise<UploadMeta | null> {
    return (await this.uploadRow(accountId, id))?.meta ?? null;
  }

  private async uploadRow(accountId: number, id: string): Promise<{ meta: UploadMeta; blobId: string } | null> {
    if (typeof id !== "string" || !UPLOAD_ID_RE.test(id)) return null;
    const r = await this.db.get<Record<string, unknown>>(
      "SELECT id, account_id, name, type, size, blob_id, created_at FROM webmail_uploads WHERE id = ? AND account_id = ?",
      [id, accountId],
    );
    if (!r) return null;
    return {
      meta: { id: String(r.id), accountId: Number(r.account_id), name: String(r.name), type: String(r.type), size: Number(r.size), createdAt: Number(r.created_at) },
      blobId: String(r.blob_id),
    };
  }

  async readUpload(accountId: number, id: string): Promise<{ meta: UploadMeta; data: Uint8Array } | null> {
    const row = await this.uploadRow(accountId, id);
    if (!row) return null;
    try {
      return { meta: row.meta, data: await this.blobs.get(row.blobId) };
    } catch {
      return null; // the blob is gone (removed by hand): so is the upload
    }
  }

  async removeUpload(accountId: number, id: string): Promise<boolean> {
    if (typeof id !== "string" || !UPLOAD_ID_RE.test(id)) return false;
    const r = await this.db.write((tx) => tx.run("DELETE FROM webmail_uploads WHERE id = ? AND account_id = ?", [id, accountId]));
    return r.changes > 0;
  }

  async purgeUploads(before: number): Promise<number> {
    const r = await this.db.write((tx) => tx.run("DELETE FROM webmail_uploads WHERE created_at < ?", [before]));
    return r.changes;
  }
}

function sessionFromRow(r: Record<string, unknown>): WebmailSession {
  return {
    id: String(r.id),
    accountId: Number(r.account_id),
    createdAt: Number(r.created_at),
    lastSeenAt: Number(r.last_seen_at),
    expiresAt: Number(r.expires_at),
    ip: String(r.ip),
    userAgent: String(r.user_agent),
  };
}
