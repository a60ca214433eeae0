/**
 * The account change feed: "every folder and item of this account created,
 * changed or deleted since change N" (ActiveSync Sync/FolderSync, later EWS
 * SyncFolderItems/SyncFolderHierarchy, MAPI ICS and JMAP /changes all ask
 * this). Tables: migrations 0001 and 0031.
 *
 * Where each answer comes from (every change bumps `accounts.modseq` and
 * stamps the new value in the same transaction):
 *  - live items: `items.modseq` (last change) and `items.created_modseq`
 *    (when the item entered its folder: delivery, append, copy, move in);
 *  - deleted items: the expunge log `expunged` (expunges and moves out);
 *  - live folders: `folders.modseq` (own last change) and `created_modseq`;
 *  - deleted folders: `folder_tombstones`. The items a folder held when it
 *    was deleted are reported by the tombstone alone.
 * A move reports "deleted" in the source and "created" in the destination,
 * with the same stable item id.
 *
 * Pruning: deletions (expunge rows, tombstones) older than a retention are
 * removed and `accounts.changes_floor` is raised to the highest change
 * removed. A consumer whose last-seen change is below the floor gets
 * "tooOld" and must resync (ActiveSync: invalid sync key; IMAP QRESYNC: a
 * full VANISHED, see folderExpungesSince).
 *
 * Consistency without a read transaction: the account's counter H is read
 * first and the feed lists changes in (since, H]. Writers of one account are
 * serialized on the account row (the counter bump is their first write), so
 * every change <= H is committed once H is visible.
 *
 * Only portable SQL here (both engines): `?` placeholders, UNION ALL, CASE.
 */
import { errText, unrefTimer, type StoreCore } from "./core.ts";
import type { Queryable, SqlValue } from "./db.ts";
import { folderDisplayName } from "./folder-names.ts";
import type { AccountChanges, ChangeFeedOptions, FeedFolderChange, FeedItemChange, ItemClass } from "./api.ts";

/** Default retention of deletions in the feed: 90 days (an ActiveSync device or IMAP client away longer resyncs). */
export const DEFAULT_CHANGE_RETENTION_MS = 90 * 24 * 60 * 60 * 1000;
/** Default page size of accountChanges. */
export const DEFAULT_FEED_LIMIT = 1000;

const n = (v: unknown): number => Number(v ?? 0);
const textOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

type Entry = { rank: number; modseq: number; seq: number; folder?: FeedFolderChange; item?: FeedItemChange };

/** Order inside one change number: folders appear before their items, an item leaves its old folder before it enters the new one, a folder goes after its items. */
const RANK = { folder: 0, itemDeleted: 1, item: 2, folderDeleted: 3 } as const;

interface Window {
  accountId: number;
  since: number;
  upTo: number;
  folderId?: number;
  itemClass?: ItemClass;
  /** Rows per table; undefined = all. */
  limit?: number;
  only?: "folders" | "items";
}

async function readEntries(q: Queryable, w: Window): Promise<{ entries: Entry[]; truncated: boolean }> {
  const base: SqlValue[] = [w.accountId, w.since, w.upTo];
  const lim = w.limit === undefined ? "" : ` LIMIT ${Math.floor(w.limit) + 1}`;
  const itemWhere = (alias: string): { sql: string; args: SqlValue[] } => {
    let sql = "";
    const args: SqlValue[] = [];
    if (w.folderId !== undefined) {
      sql += ` AND ${alias}.folder_id = ?`;
      args.push(w.folderId);
    }
    if (w.itemClass !== undefined) {
      sql += " AND f.item_class = ?";
      args.push(w.itemClass);
    }
    return { sql, args };
  };
  const folderWhere = (col: string): { sql: string; args: SqlValue[] } => {
    let sql = "";
    const args: SqlValue[] = [];
    if (w.folderId !== undefined) {
      sql += ` AND ${col} = ?`;
      args.push(w.folderId);
    }
    if (w.itemClass !== undefined) {
      sql += " AND item_class = ?";
      args.push(w.itemClass);
    }
    return { sql, args };
  };

  const items = w.only !== "folders";
  const folderRows = w.only !== "items";
  const iw = itemWhere("i");
  const live = !items ? [] : await q.raw(
    // through each folder's (folder_id, modseq) index: items has no account-wide one (migration 0033)
    `SELECT i.id, i.folder_id, i.uid, i.modseq, i.created_modseq, f.item_class, i.resource_name FROM folders f JOIN items i ON i.folder_id = f.id
     WHERE f.account_id = ? AND i.modseq > ? AND i.modseq <= ?${iw.sql} ORDER BY i.modseq, i.id${lim}`,
    [...base, ...iw.args],
  );
  const ew = itemWhere("e");
  const gone = !items ? [] : await q.raw(
    `SELECT e.item_id, e.folder_id, e.uid, e.modseq, f.item_class, e.id, e.resource_name FROM expunged e JOIN folders f ON f.id = e.folder_id
     WHERE e.account_id = ? AND e.modseq > ? AND e.modseq <= ?${ew.sql} ORDER BY e.modseq, e.id${lim}`,
    [...base, ...ew.args],
  );
  const fw = folderWhere("id");
  const folders = !folderRows ? [] : await q.raw(
    `SELECT id, name, parent_id, item_class, modseq, created_modseq FROM folders
     WHERE account_id = ? AND modseq > ? AND modseq <= ?${fw.sql} ORDER BY modseq, id${lim}`,
    [...base, ...fw.args],
  );
  const tw = folderWhere("folder_id");
  const tombs = !folderRows ? [] : await q.raw(
    `SELECT folder_id, name, item_class, modseq, id FROM folder_tombstones
     WHERE account_id = ? AND modseq > ? AND modseq <= ?${tw.sql} ORDER BY modseq, id${lim}`,
    [...base, ...tw.args],
  );
  const truncated = w.limit !== undefined && [live, gone, folders, tombs].some((rows) => rows.length > w.limit!);

  const entries: Entry[] = [];
  for (const r of live) {
    const modseq = n(r[3]);
    entries.push({
      rank: RANK.item,
      modseq,
      seq: n(r[0]),
      item: { kind: n(r[4]) > w.since ? "created" : "changed", itemId: n(r[0]), folderId: n(r[1]), uid: n(r[2]), itemClass: String(r[5]) as ItemClass, modseq, resourceName: textOrNull(r[6]) },
    });
  }
  for (const r of gone) {
    const modseq = n(r[3]);
    entries.push({
      rank: RANK.itemDeleted,
      modseq,
      seq: n(r[5]),
      item: { kind: "deleted", itemId: n(r[0]), folderId: n(r[1]), uid: n(r[2]), itemClass: String(r[4]) as ItemClass, modseq, resourceName: textOrNull(r[6]) },
    });
  }
  for (const r of folders) {
    const modseq = n(r[4]);
    entries.push({
      rank: RANK.folder,
      modseq,
      seq: n(r[0]),
      folder: {
        kind: n(r[5]) > w.since ? "created" : "changed",
        folderId: n(r[0]),
        name: folderDisplayName(String(r[1])),
        parentId: r[2] === null || r[2] === undefined ? null : n(r[2]),
        itemClass: String(r[3]) as ItemClass,
        modseq,
      },
    });
  }
  for (const r of tombs) {
    const modseq = n(r[3]);
    entries.push({
      rank: RANK.folderDeleted,
      modseq,
      seq: n(r[4]),
      folder: { kind: "deleted", folderId: n(r[0]), name: folderDisplayName(String(r[1])), parentId: null, itemClass: String(r[2]) as ItemClass, modseq },
    });
  }
  entries.sort((a, b) => a.modseq - b.modseq || a.rank - b.rank || a.seq - b.seq);
  return { entries, truncated };
}

/**
 * The feed of one account since `since` (exclusive), in change order. A page
 * never ends inside one change number (a move of 500 messages is one change),
 * so it may hold a few more than `limit` entries; with `more`, ask again
 * from the returned `highestModseq`. "tooOld" (below the pruning floor, or
 * above the account's current number) carries the current number as
 * `highestModseq`, so asking from MAX_SAFE_INTEGER is how to read it.
 */
export async function accountChanges(q: Queryable, accountId: number, since: number, opts: ChangeFeedOptions = {}): Promise<AccountChanges> {
  const acct = await q.get<{ modseq: unknown; changes_floor: unknown }>("SELECT modseq, changes_floor FROM accounts WHERE id = ?", [accountId]);
  if (!acct) return { status: "tooOld", floor: 0, highestModseq: 0 };
  const head = n(acct.modseq);
  const floor = n(acct.changes_floor);
  const from = Math.max(0, Math.floor(since));
  // Below the floor: deletions were pruned. Above the head: a number this account never gave out (a state
  // from another history, e.g. kept across a restore from backup): nothing it says can be trusted either.
  if (!Number.isFinite(since) || from < floor || from > head) return { status: "tooOld", floor, highestModseq: head };
  const limit = Math.max(1, Math.floor(opts.limit ?? DEFAULT_FEED_LIMIT));
  const w: Window = { accountId, since: from, upTo: head, folderId: opts.folderId, itemClass: opts.itemClass, only: opts.only };
  let { entries, truncated } = await readEntries(q, { ...w, limit });
  let highest = head;
  let more = false;
  if (truncated || entries.length > limit) {
    const cut = entries[limit - 1]!.modseq;
    more = truncated || entries.some((e) => e.modseq > cut);
    if (more) {
      // Complete the last change number: every row up to `cut` (at most `limit` before it, plus its own).
      entries = (await readEntries(q, { ...w, upTo: cut })).entries;
      highest = cut;
    }
  }
  const folders: FeedFolderChange[] = [];
  const items: FeedItemChange[] = [];
  for (const e of entries) {
    if (e.folder) folders.push(e.folder);
    else if (e.item) items.push(e.item);
  }
  return { status: "ok", highestModseq: highest, floor, folders, items, more };
}

/** Records a deleted folder (inside the deleting transaction, with the change number of the deletion). */
export async function writeFolderTombstone(
  tx: Queryable,
  f: { accountId: number; folderId: number; name: string; itemClass: string; modseq: number },
  now = Date.now(),
): Promise<void> {
  await tx.run("INSERT INTO folder_tombstones (account_id, folder_id, name, item_class, modseq, deleted_at) VALUES (?, ?, ?, ?, ?, ?)", [
    f.accountId,
    f.folderId,
    f.name,
    f.itemClass,
    f.modseq,
    now,
  ]);
}

/**
 * Removes deletions older than `olderThan` (a time, ms) from the feed and
 * raises each affected account's floor to the highest change removed (every
 * deletion at or below it goes, so the floor is exact). Inside a write
 * transaction. Returns the accounts touched and the rows removed.
 */
export async function pruneChanges(tx: Queryable, olderThan: number): Promise<{ accounts: number; rows: number }> {
  const cut = await tx.raw(
    `SELECT account_id, MAX(modseq) FROM (
       SELECT account_id, modseq FROM expunged WHERE deleted_at < ?
       UNION ALL SELECT account_id, modseq FROM folder_tombstones WHERE deleted_at < ?
     ) old GROUP BY account_id`,
    [olderThan, olderThan],
  );
  let rows = 0;
  for (const [a, m] of cut) {
    const accountId = n(a);
    const floor = n(m);
    rows += (await tx.run("DELETE FROM expunged WHERE account_id = ? AND modseq <= ?", [accountId, floor])).changes;
    rows += (await tx.run("DELETE FROM folder_tombstones WHERE account_id = ? AND modseq <= ?", [accountId, floor])).changes;
    await tx.run("UPDATE accounts SET changes_floor = CASE WHEN changes_floor < ? THEN ? ELSE changes_floor END WHERE id = ?", [floor, floor, accountId]);
  }
  return { accounts: cut.length, rows };
}

/** The account's pruning floor (0 when nothing was pruned). */
export async function changesFloor(q: Queryable, accountId: number): Promise<number> {
  const r = await q.get<{ changes_floor: unknown }>("SELECT changes_floor FROM accounts WHERE id = ?", [accountId]);
  return n(r?.changes_floor);
}

/** The pruning floor of the account that owns a folder (0 for no such folder). */
export async function folderChangesFloor(q: Queryable, folderId: number): Promise<number> {
  const r = await q.get<{ changes_floor: unknown }>("SELECT a.changes_floor FROM folders f JOIN accounts a ON a.id = f.account_id WHERE f.id = ?", [folderId]);
  return n(r?.changes_floor);
}

/**
 * UIDs of a folder that left it (expunge or move out) after `since`, for
 * IMAP QRESYNC/VANISHED. When `since` is below the account's floor the log
 * cannot say which UIDs went; RFC 7162 §3.2.5 (SELECT QRESYNC) lets the
 * server then report every UID below UIDNEXT that it does not hold in
 * VANISHED (EARLIER) (§3.2.10): a client forgets those it has and ignores
 * the others. Returns ascending UIDs.
 */
export async function folderExpungesSince(q: Queryable, folderId: number, since: number): Promise<number[]> {
  const f = await q.get<{ account_id: unknown; uidnext: unknown }>("SELECT account_id, uidnext FROM folders WHERE id = ?", [folderId]);
  if (!f) return [];
  const floor = await changesFloor(q, n(f.account_id));
  if (since >= floor) {
    return (await q.raw("SELECT DISTINCT uid FROM expunged WHERE folder_id = ? AND modseq > ? ORDER BY uid", [folderId, since])).map((r) => n(r[0]));
  }
  const present = (await q.raw("SELECT uid FROM items WHERE folder_id = ? ORDER BY uid", [folderId])).map((r) => n(r[0]));
  const out: number[] = [];
  let k = 0;
  const next = n(f.uidnext);
  for (let uid = 1; uid < next; uid++) {
    if (k < present.length && present[k] === uid) {
      k++;
      continue;
    }
    out.push(uid);
  }
  return out;
}

/**
 * The feed as a part of the store (storage/store.ts): the queries above on
 * the store's database, and the pruning run with the store's maintenance.
 * Retention: deletions are kept `retentionMs` (default 90 days) after they
 * happen; a sync client away longer resyncs.
 */
export class ChangeFeed {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly core: StoreCore,
    readonly retentionMs = DEFAULT_CHANGE_RETENTION_MS,
  ) {}

  accountChanges(accountId: number, sinceModseq: number, opts?: ChangeFeedOptions): Promise<AccountChanges> {
    return accountChanges(this.core.db, accountId, sinceModseq, opts);
  }

  pruneChanges(opts: { olderThanMs?: number; now?: number } = {}): Promise<{ accounts: number; rows: number }> {
    const olderThan = (opts.now ?? Date.now()) - (opts.olderThanMs ?? this.retentionMs);
    return this.core.tx((tx) => pruneChanges(tx, olderThan));
  }

  /** Prunes every `intervalMs` (first after `firstMs`), like the blob collector; timers never keep the process alive. */
  startMaintenance(intervalMs: number, firstMs = 10 * 60 * 1000): void {
    if (intervalMs <= 0 || this.core.closed) return;
    const run = () => {
      this.timer = null;
      if (this.core.closed) return;
      this.running = this.pruneChanges()
        .then((r) => r.rows && this.core.log?.info("change feed pruned", { accounts: r.accounts, rows: r.rows }))
        .catch((e) => this.core.log?.warn("change feed pruning failed", { error: errText(e) }))
        .finally(() => {
          this.running = null;
          if (!this.core.closed) this.timer = unrefTimer(setTimeout(run, intervalMs));
        });
    };
    this.timer = unrefTimer(setTimeout(run, Math.min(firstMs, intervalMs)));
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.running) await this.running;
  }
}
