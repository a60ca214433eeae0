/**
 * Ingest: a message becomes items. `deliver` (one blob, rows for every
 * recipient in one transaction), `deliverAndEnqueue` (the same plus a Sent
 * copy and the queue row for the remote copies, all in that one
 * transaction) and `append` (MULTIAPPEND, all or nothing, RFC 3502);
 * UIDs come from the folder inside the write transaction; the
 * thread is found by Message-ID/In-Reply-To/References; the blob is written
 * and fsynced before the row that references it commits.
 */
import {
  StoreError,
  type AppendInput,
  type AppendResult,
  type DeliverAndEnqueueRequest,
  type DeliverAndEnqueueResult,
  type DeliveryRecipient,
  type DeliveryResult,
} from "./api.ts";
import { analyzeMessage, type MessageAnalysis } from "../mail/index.ts";
import type { Events, StoreCore } from "./core.ts";
import type { Queryable } from "./db.ts";
import { encodeFlags, keywordsToText } from "./flags.ts";
import type { Folders } from "./folders.ts";
import type { FullText } from "./fulltext.ts";
import type { QueueStore } from "./queue-store.ts";
import { mailFolderAccount } from "./items.ts";
import { normalizeFolderName } from "./names.ts";
import { num, numOrNull, parseJson, str, strOrNull, type R } from "./rows.ts";

/** What an item row keeps of its message's analysis (the rest is in the JSON columns). */
type ItemFields = Pick<
  MessageAnalysis,
  "subject" | "baseSubject" | "fromAddr" | "fromName" | "toAddr" | "ccAddr" | "sentDate" | "messageId" | "inReplyTo" | "references" | "preview" | "hasAttachment"
>;

interface Prepared {
  fields: ItemFields;
  /** Full-text fields for the background indexer; null when reused from another item (it re-reads the blob if it ever needs them). */
  fts: MessageAnalysis["fts"] | null;
  raw: Uint8Array;
  blobId: string;
  envelopeJson: string;
  mimeJson: string;
  refsJson: string;
}

/**
 * Below this size a message's analysis is computed, never looked up from
 * another item with the same blob. The lookup (an index probe of items by
 * blob_id on the read connection, whose page cache every commit empties) cost
 * 10-50 µs per delivery, and nearly every delivered message is new, so it
 * found nothing and the analysis ran anyway; analysing a 2 KB message costs
 * ~40 µs, a 16 KB one about the same (preview and full-text excerpt are
 * bounded), growing ~2 µs per KB beyond (Bun 1.4, 2-core EPYC). Above it,
 * a duplicate's stored analysis is still reused. Either way the result is the
 * same: the analysis is a function of the bytes.
 */
const REUSE_LOOKUP_MIN_BYTES = 16 * 1024;

export class Ingest {
  /** The item INSERT, with the dialect's "next item id" as the thread of a message that starts one. */
  private readonly insertItemSql: string;
  /** A mail folder found by account and name, its next UID reserved and its highest modseq raised: one statement (`place`). */
  private readonly allocByNameSql: string;

  constructor(
    private readonly core: StoreCore,
    private readonly fulltext: FullText,
    /** For fileinto :create (folders created in the delivery's own commit). */
    private readonly folders?: Folders,
  ) {
    this.insertItemSql = `INSERT INTO items (account_id, folder_id, uid, modseq, flags, keywords, internal_date, size, blob_id,
  envelope, mime, subject, base_subject, from_addr, from_name, to_addr, cc_addr, sent_date, message_id, in_reply_to, refs,
  thread_id, preview, has_attachment, props, created_at, created_modseq)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
  COALESCE(CAST(? AS BIGINT), ${core.dialect.nextItemIdExpr ?? "0"}), ?, ?, ?, ?, ?) RETURNING id, thread_id`;
    // (without a next-id expression the column is NOT NULL: 0 until the UPDATE in insertItem sets it to the id)
    this.allocByNameSql = `UPDATE folders SET uidnext = uidnext + 1, highest_modseq = ${core.dialect.greatest("highest_modseq", "?")}
  WHERE account_id = ? AND name = ? AND item_class = 'mail' RETURNING id, uidnext`;
  }

  /**
   * The analysis an item row needs. Blobs are content-addressed, so when
   * another item already holds the same bytes (a list message delivered to
   * several mailboxes in separate transactions, a client re-uploading or
   * copying mail between accounts) its stored analysis is reused instead of
   * parsing the message again.
   */
  private async prepare(raw: Uint8Array, blobId: string): Promise<Prepared> {
    // A small message is analysed without asking first: the lookup cost more than the analysis it
    // could save, and almost every message is new (see REUSE_LOOKUP_MIN_BYTES).
    const known = raw.byteLength < REUSE_LOOKUP_MIN_BYTES ? [] : await this.core.db.raw(
      `SELECT envelope, mime, refs, subject, base_subject, from_addr, from_name, to_addr, cc_addr, sent_date, message_id, in_reply_to, preview, has_attachment
       FROM items WHERE blob_id = ? LIMIT 1`,
      [blobId],
    );
    if (known.length) {
      const r = known[0]!;
      return {
        fields: {
          references: parseJson<string[]>(r[2], []),
          subject: str(r[3]),
          baseSubject: str(r[4]),
          fromAddr: str(r[5]),
          fromName: str(r[6]),
          toAddr: str(r[7]),
          ccAddr: str(r[8]),
          sentDate: numOrNull(r[9]),
          messageId: strOrNull(r[10]),
          inReplyTo: strOrNull(r[11]),
          preview: str(r[12]),
          hasAttachment: num(r[13]) !== 0,
        },
        fts: null,
        raw,
        blobId,
        envelopeJson: str(r[0]),
        mimeJson: str(r[1]),
        refsJson: str(r[2]),
      };
    }
    const analysis = analyzeMessage(raw);
    return {
      fields: analysis,
      fts: analysis.fts,
      raw,
      blobId,
      envelopeJson: JSON.stringify(analysis.envelope),
      mimeJson: JSON.stringify(analysis.root),
      refsJson: JSON.stringify(analysis.references),
    };
  }

  private async findThread(tx: Queryable, accountId: number, a: ItemFields): Promise<number | null> {
    const ids = [...a.references.slice(-50)];
    if (a.inReplyTo) ids.push(a.inReplyTo);
    if (a.messageId) ids.push(a.messageId);
    if (ids.length === 0) return null;
    const r = await tx.get<R>(
      `SELECT thread_id FROM items WHERE account_id = ? AND message_id IN (${this.core.dialect.textList()}) LIMIT 1`,
      [accountId, JSON.stringify([...new Set(ids)])],
    );
    return r ? num(r.thread_id) : null;
  }

  private async insertItem(
    tx: Queryable,
    accountId: number,
    folderId: number,
    uid: number,
    modseq: number,
    p: Prepared,
    bits: number,
    keywords: string[],
    internalDate: number,
  ): Promise<number> {
    const a = p.fields;
    const thread = await this.findThread(tx, accountId, a);
    const r = await tx.get<R>(this.insertItemSql, [
      accountId,
      folderId,
      uid,
      modseq,
      bits,
      keywordsToText(keywords),
      internalDate,
      p.raw.byteLength,
      p.blobId,
      p.envelopeJson,
      p.mimeJson,
      a.subject,
      a.baseSubject,
      a.fromAddr,
      a.fromName,
      a.toAddr,
      a.ccAddr,
      a.sentDate,
      a.messageId,
      a.inReplyTo,
      p.refsJson,
      thread,
      a.preview,
      a.hasAttachment ? 1 : 0,
      "{}",
      Date.now(),
      modseq,
    ]);
    const id = num(r?.id);
    // an engine that cannot name the next id in the INSERT: the first message of a thread gets its own id after
    if (thread === null && this.core.dialect.nextItemIdExpr === null) await tx.run("UPDATE items SET thread_id = id WHERE id = ?", [id]);
    return id;
  }

  /** After commit: a blob deleted by a racing garbage collection is written again (we still hold the bytes). */
  private async ensureBlob(p: Prepared) {
    try {
      if (!(await this.core.blobs.has(p.blobId))) await this.core.blobs.put(p.raw);
    } catch (e) {
      this.core.log?.error("blob re-check failed", { blob: p.blobId, error: e instanceof Error ? e.message : String(e) });
    }
  }

  async deliver(raw: Uint8Array, recipients: DeliveryRecipient[], opts: { internalDate?: number } = {}): Promise<DeliveryResult[]> {
    if (recipients.length === 0) return [];
    return (await this.deliverAndEnqueue({ raw, local: recipients, internalDate: opts.internalDate })).delivered;
  }

  /**
   * One message, one blob, ONE transaction: the local copies (as `deliver`),
   * the copies into folders by id (as `append`: the sender's Sent copy) and
   * the queue row for the remote copies (`queue`). A failure anywhere commits
   * none of them, so the protocol's 4xx and the client's retry cannot make a
   * copy twice (src/delivery/pipeline.ts).
   */
  async deliverAndEnqueue(req: DeliverAndEnqueueRequest, queue?: QueueStore): Promise<DeliverAndEnqueueResult> {
    const raw = req.raw;
    const recipients = req.local;
    const copies = req.copies ?? [];
    const q = req.queue && req.queue.recipients.length ? { ...req.queue, size: raw.byteLength } : null;
    // Sieve redirects and notices (issue 19): more entries, each with its own envelope and bytes
    const extras = (req.extraQueues ?? []).filter((e) => e.recipients.length > 0);
    if ((q || extras.length) && !queue) throw new StoreError("INVALID", "no queue to enqueue into");
    if (recipients.length === 0 && copies.length === 0 && !q && !extras.length) return { delivered: [], copies: [], queueId: null };
    // The request's own bytes are written only when something uses them: when every local copy
    // brings its own (per-account spam fields) and nothing else refers to them, no blob write and
    // no analysis is spent on them. Every distinct byte string once (content-addressed).
    const localShared = copies.length > 0 || recipients.some((r) => !r.raw);
    const shared = localShared || !!q || extras.some((e) => !e.raw);
    const blobId = shared ? await this.core.blobs.put(raw) : "";
    const extraBlobs: { raw: Uint8Array; blobId: string }[] = [];
    for (const e of extras) extraBlobs.push(e.raw ? { raw: e.raw, blobId: await this.core.blobs.put(e.raw) } : { raw, blobId });
    const insertExtras = async (tx: Queryable): Promise<number[]> => {
      const ids: number[] = [];
      for (let i = 0; i < extras.length; i++) {
        const e = extras[i]!;
        const b = extraBlobs[i]!;
        ids.push(await queue!.insertEntry(tx, { sender: e.sender, recipients: e.recipients, dsn: e.dsn, size: b.raw.byteLength }, b.blobId));
      }
      return ids;
    };
    const extraResult = async (tx: Queryable) => (extras.length ? { extraQueueIds: await insertExtras(tx) } : {});
    const recheckExtras = async () => {
      for (const b of extraBlobs) if (!(await this.core.blobs.has(b.blobId))) await this.core.blobs.put(b.raw);
    };
    if (recipients.length === 0 && copies.length === 0) {
      // Remote copies only: no item, so nothing to analyse.
      const ids = await this.core.tx(async (tx) => ({ queueId: q ? await queue!.insertEntry(tx, q, blobId) : null, ...(await extraResult(tx)) }));
      if (shared && !(await this.core.blobs.has(blobId))) await this.core.blobs.put(raw);
      await recheckExtras();
      return { delivered: [], copies: [], ...ids };
    }
    const prepared = new Map<string, Prepared>();
    const prepareBytes = async (bytes: Uint8Array, id?: string): Promise<Prepared> => {
      const bid = id ?? (await this.core.blobs.put(bytes));
      let p = prepared.get(bid);
      if (!p) prepared.set(bid, (p = await this.prepare(bytes, bid)));
      return p;
    };
    const p = localShared ? await prepareBytes(raw, blobId) : null;
    const internalDate = req.internalDate ?? Date.now();
    // the same account+folder twice gets one copy
    const uniq = new Map<string, { rcpt: DeliveryRecipient; name: string; p: Prepared }>();
    for (const r of recipients) {
      let name = r.folder ?? "INBOX";
      try {
        name = normalizeFolderName(name);
      } catch {
        name = "INBOX"; // invalid names fall back to INBOX
      }
      const key = `${r.accountId}\u0000${name}`;
      if (uniq.has(key)) continue;
      uniq.set(key, { rcpt: r, name, p: r.raw ? await prepareBytes(r.raw) : p! });
    }
    const results = await this.core.tx(async (tx, ev) => {
      await this.core.lockAccounts(
        tx,
        [...uniq.values()].map((u) => u.rcpt.accountId),
        copies.map((c) => c.folderId),
      );
      const out: DeliveryResult[] = [];
      for (const { rcpt, name, p: cp } of uniq.values()) {
        const { folderId, modseq, first } = rcpt.create ? await this.placeCreating(tx, ev, rcpt, name, cp) : await this.place(tx, rcpt, name, cp);
        const fl = encodeFlags(rcpt.flags);
        const id = await this.insertItem(tx, rcpt.accountId, folderId, first, modseq, cp, fl.bits, fl.keywords, internalDate);
        out.push({ accountId: rcpt.accountId, folderId, id, uid: first });
        ev.push({ type: "exists", accountId: rcpt.accountId, folderId, uid: first, id, modseq, via: "deliver" });
      }
      // The blob rows after the accounts (as append does): every write takes account rows
      // before the blob row, so on PostgreSQL two transactions inserting the same
      // content never wait on each other in a cycle.
      const used = new Set([...uniq.values()].map((u) => u.p.blobId));
      for (const cp of prepared.values()) if (used.has(cp.blobId)) await this.fulltext.registerBlob(tx, cp);
      const appended: AppendResult[] = [];
      for (const c of copies) appended.push(...(await this.appendRows(tx, ev, c.folderId, [p!], [{ raw, flags: c.flags, internalDate }])));
      // Last, after every local copy: the queue rows commit with them or not at all.
      const queueId = q ? await queue!.insertEntry(tx, q, blobId) : null;
      return { delivered: out, copies: appended, queueId, ...(await extraResult(tx)) };
    });
    for (const cp of prepared.values()) await this.ensureBlob(cp);
    // the queue entry's bytes when no local copy shares them (a racing garbage collection)
    if (q && !localShared && !(await this.core.blobs.has(blobId))) await this.core.blobs.put(raw);
    await recheckExtras();
    return results;
  }

  /**
   * Where one local copy goes, in two statements: the account's change
   * number (and usage: the quota counts this copy's own size, its X-Spam-*
   * fields and editheader changes included), then the folder found by name
   * and its next UID reserved in the same UPDATE (RFC 3501 §2.3.1.1: UIDs
   * strictly ascending; RFC 7162 §3.1: the folder's highest mod-sequence
   * raised to the copy's). A name that is no mail folder of the account gets
   * INBOX, as before. Both rows are locked in the usual order (account, then
   * folder), so this takes no lock that the three-statement form did not.
   */
  private async place(tx: Queryable, rcpt: DeliveryRecipient, name: string, cp: Prepared): Promise<{ folderId: number; modseq: number; first: number }> {
    const modseq = await this.core.bump(tx, rcpt.accountId, cp.raw.byteLength, 1);
    let r = await tx.get<R>(this.allocByNameSql, [modseq, rcpt.accountId, name]);
    if (!r && name !== "INBOX") r = await tx.get<R>(this.allocByNameSql, [modseq, rcpt.accountId, "INBOX"]);
    if (!r) throw new StoreError("NONEXISTENT", `account ${rcpt.accountId} has no INBOX`);
    return { folderId: num(r.id), modseq, first: num(r.uidnext) - 1 };
  }

  /**
   * `place` for a copy whose folder may have to be created (RFC 5490 §3.2
   * fileinto :create): the folder first, created with its parents in this
   * commit when missing, then the change number, so the copy's mod-sequence
   * comes after the folder's creation.
   */
  private async placeCreating(tx: Queryable, ev: Events, rcpt: DeliveryRecipient, name: string, cp: Prepared): Promise<{ folderId: number; modseq: number; first: number }> {
    let f = await tx.get<R>("SELECT id, item_class FROM folders WHERE account_id = ? AND name = ?", [rcpt.accountId, name]);
    if (!f && name !== "INBOX" && this.folders) f = { id: await this.createMailFolder(tx, ev, rcpt.accountId, name), item_class: "mail" };
    if (!f || str(f.item_class) !== "mail") f = await tx.get<R>("SELECT id, item_class FROM folders WHERE account_id = ? AND name = 'INBOX'", [rcpt.accountId]);
    if (!f) throw new StoreError("NONEXISTENT", `account ${rcpt.accountId} has no INBOX`);
    const folderId = num(f.id);
    const modseq = await this.core.bump(tx, rcpt.accountId, cp.raw.byteLength, 1);
    const { first } = await this.core.allocUids(tx, folderId, 1, modseq);
    return { folderId, modseq, first };
  }

  /** A missing mail folder and its missing parents, inside the delivery's transaction (fileinto :create). */
  private async createMailFolder(tx: Queryable, ev: Events, accountId: number, name: string): Promise<number> {
    const parts = name.split("/");
    let parentId: number | null = null;
    for (let i = 1; i <= parts.length; i++) {
      const pn = parts.slice(0, i).join("/");
      const r = await tx.get<R>("SELECT id FROM folders WHERE account_id = ? AND name = ?", [accountId, pn]);
      parentId = r ? num(r.id) : await this.folders!.insertFolder(tx, ev, accountId, pn, parentId, "mail", null, true);
    }
    return parentId!;
  }

  async checkQuota(accountId: number, size: number): Promise<boolean> {
    const r = await this.core.db.get<R>("SELECT used_bytes, quota_bytes FROM accounts WHERE id = ?", [accountId]);
    if (!r) return false;
    return r.quota_bytes === null || num(r.used_bytes) + size <= num(r.quota_bytes);
  }

  async quota(accountId: number): Promise<{ usedBytes: number; limitBytes: number | null; messages: number }> {
    const r = await this.core.db.get<R>("SELECT used_bytes, quota_bytes, message_count FROM accounts WHERE id = ?", [accountId]);
    if (!r) throw new StoreError("NONEXISTENT", "no such account");
    return { usedBytes: num(r.used_bytes), limitBytes: numOrNull(r.quota_bytes), messages: num(r.message_count) };
  }

  async append(folderId: number, messages: AppendInput[]): Promise<AppendResult[]> {
    if (messages.length === 0) return [];
    const prepared: Prepared[] = [];
    for (const m of messages) prepared.push(await this.prepare(m.raw, await this.core.blobs.put(m.raw)));
    const results = await this.core.tx((tx, ev) => this.appendRows(tx, ev, folderId, prepared, messages));
    for (const p of prepared) await this.ensureBlob(p);
    return results;
  }

  /**
   * A message's content replaced, its stable id kept (an edited draft: EWS UpdateItem and
   * CreateAttachment keep the ItemId a client holds, MS-OXWSCORE §3.1.4.9). In its folder it is
   * a new message: a new UID and modseq, the old UID logged as expunged (IMAP, ActiveSync and
   * the change feed see "deleted, then created", as for a move), the quota adjusted by the
   * size difference. One transaction: the old content or the new, never neither. `ifModseq`:
   * only when the message is still at that change number (else StoreError MODIFIED).
   */
  async replaceMessage(id: number, input: AppendInput, opts: { ifModseq?: number } = {}): Promise<AppendResult> {
    const p = await this.prepare(input.raw, await this.core.blobs.put(input.raw));
    const result = await this.core.tx(async (tx, ev) => {
      const row = await tx.get<R>("SELECT i.account_id, i.folder_id, i.uid, i.size, i.modseq, f.item_class FROM items i JOIN folders f ON f.id = i.folder_id WHERE i.id = ?", [id]);
      if (!row) throw new StoreError("NONEXISTENT", "no such item");
      // the version the caller edited must still be the stored one (a concurrent edit is not overwritten)
      if (opts.ifModseq !== undefined && num(row.modseq) !== opts.ifModseq) throw new StoreError("MODIFIED", "the message changed since it was read");
      const accountId = mailFolderAccount({ account_id: row.account_id, item_class: row.item_class });
      const folderId = num(row.folder_id);
      const oldUid = num(row.uid);
      const modseq = await this.core.bump(tx, accountId, p.raw.byteLength - num(row.size), 0);
      const { first: uid, uidValidity } = await this.core.allocUids(tx, folderId, 1, modseq);
      await this.fulltext.registerBlob(tx, p);
      const a = p.fields;
      const fl = encodeFlags(input.flags);
      await tx.run(
        `UPDATE items SET uid = ?, modseq = ?, created_modseq = ?, flags = ?, keywords = ?, internal_date = ?, size = ?, blob_id = ?, envelope = ?, mime = ?,
           subject = ?, base_subject = ?, from_addr = ?, from_name = ?, to_addr = ?, cc_addr = ?, sent_date = ?, message_id = ?, in_reply_to = ?, refs = ?,
           preview = ?, has_attachment = ? WHERE id = ?`,
        [uid, modseq, modseq, fl.bits, keywordsToText(fl.keywords), input.internalDate ?? Date.now(), p.raw.byteLength, p.blobId, p.envelopeJson, p.mimeJson,
          a.subject, a.baseSubject, a.fromAddr, a.fromName, a.toAddr, a.ccAddr, a.sentDate, a.messageId, a.inReplyTo, p.refsJson,
          a.preview, a.hasAttachment ? 1 : 0, id],
      );
      await tx.run("INSERT INTO expunged (account_id, folder_id, uid, item_id, modseq, deleted_at) VALUES (?, ?, ?, ?, ?, ?)", [accountId, folderId, oldUid, id, modseq, Date.now()]);
      ev.push({ type: "expunge", accountId, folderId, uids: [oldUid], ids: [id], modseq });
      ev.push({ type: "exists", accountId, folderId, uid, id, modseq, via: "append" });
      return { id, uid, uidValidity, modseq };
    });
    await this.ensureBlob(p);
    return result;
  }

  /** The rows of an append (one folder, all or nothing) inside the caller's write job. */
  private async appendRows(tx: Queryable, ev: Events, folderId: number, prepared: Prepared[], messages: AppendInput[]): Promise<AppendResult[]> {
    const total = messages.reduce((s, m) => s + m.raw.byteLength, 0);
    const f = await tx.get<R>("SELECT account_id, item_class FROM folders WHERE id = ?", [folderId]);
    if (!f) throw new StoreError("NONEXISTENT", "no such folder");
    const accountId = mailFolderAccount(f); // mail only: a calendar folder refuses it (WRONG_CLASS)
    const modseq = await this.core.bump(tx, accountId, total, messages.length);
    const { first, uidValidity } = await this.core.allocUids(tx, folderId, messages.length, modseq);
    const out: AppendResult[] = [];
    for (let i = 0; i < messages.length; i++) {
      const p = prepared[i];
      await this.fulltext.registerBlob(tx, p);
      const fl = encodeFlags(messages[i].flags);
      const uid = first + i;
      const id = await this.insertItem(tx, accountId, folderId, uid, modseq, p, fl.bits, fl.keywords, messages[i].internalDate ?? Date.now());
      out.push({ id, uid, uidValidity, modseq });
      ev.push({ type: "exists", accountId, folderId, uid, id, modseq, via: "append" });
    }
    return out;
  }
}
