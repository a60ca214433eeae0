/**
 * The account change feed (storage/changes.ts) through the store API only,
 * so it runs unchanged on every engine: creations, flag changes, expunges,
 * moves, folder creation/rename/deletion, in change order; across a restart;
 * paging; "too old" after pruning (and IMAP's per-folder expunge answer
 * after pruning).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { AccountChanges, FeedFolderChange, FeedItemChange } from "../../storage/api.ts";
import { storeEngines } from "../helpers/engines.ts";
import { makeMessage, setupAccount, tempStore, type TempStore } from "./helpers.ts";

// SQLite always; PostgreSQL too when PILLARBOX_TEST_PG_URL is set (tests/helpers/engines.ts).
for (const engine of storeEngines()) {
describe(`engine ${engine}`, () => {
let t: TempStore;
beforeAll(async () => {
  t = await tempStore({ engine });
});
afterAll(async () => t.cleanup());

type Ok = Extract<AccountChanges, { status: "ok" }>;

async function feed(accountId: number, since: number, opts: Parameters<NonNullable<typeof t.store.accountChanges>>[2] = {}): Promise<Ok> {
  const r = await t.store.accountChanges(accountId, since, opts);
  if (r.status !== "ok") throw new Error(`feed answered ${r.status}`);
  return r;
}

const itemLine = (c: FeedItemChange) => `${c.kind} item ${c.itemId} in ${c.folderId}`;
const folderLine = (c: FeedFolderChange) => `${c.kind} folder ${c.folderId} ${c.name}`;

async function head(accountId: number): Promise<number> {
  return (await feed(accountId, 0, { limit: 1_000_000 })).highestModseq;
}

describe("account change feed", () => {
  test("creations, flag changes, expunges and moves, in change order", async () => {
    const { account, inbox } = await setupAccount(t.store, "feed@example.com");
    const archive = (await t.store.getFolder(account.id, "Archive"))!;
    const start = await head(account.id);

    const [a] = await t.store.deliver(makeMessage({ subject: "a" }), [{ accountId: account.id }]);
    const appended = await t.store.append(inbox.id, [{ raw: makeMessage({ subject: "b" }) }, { raw: makeMessage({ subject: "c" }) }]);
    const idA = a!.id;
    const [idB, idC] = appended.map((x) => x.id);
    const uidC = appended[1]!.uid;

    const afterCreate = await feed(account.id, start);
    expect(afterCreate.items.map(itemLine)).toEqual([`created item ${idA} in ${inbox.id}`, `created item ${idB} in ${inbox.id}`, `created item ${idC} in ${inbox.id}`]);
    expect(afterCreate.items.every((c) => c.itemClass === "mail")).toBe(true);
    expect(afterCreate.folders).toEqual([]);
    expect(afterCreate.more).toBe(false);
    const m1 = afterCreate.highestModseq;

    // a flag change is "changed"; an item created after `since` and changed since is still "created"
    await t.store.storeFlags(inbox.id, [appended[0]!.uid], "add", ["\\Seen"]);
    const flags = await feed(account.id, m1);
    expect(flags.items.map(itemLine)).toEqual([`changed item ${idB} in ${inbox.id}`]);
    expect((await feed(account.id, start)).items.find((c) => c.itemId === idB)?.kind).toBe("created");
    const m2 = flags.highestModseq;

    // expunge: deleted, with the UID it had
    await t.store.storeFlags(inbox.id, [uidC], "add", ["\\Deleted"]);
    await t.store.expunge(inbox.id);
    const gone = await feed(account.id, m2);
    // the feed gives each item's latest state: flagged \Deleted and then expunged is just "deleted"
    expect(gone.items.map(itemLine)).toEqual([`deleted item ${idC} in ${inbox.id}`]);
    expect(gone.items[0]!.uid).toBe(uidC);
    const m3 = gone.highestModseq;

    // move: deleted from INBOX, created in Archive, same stable id
    const msgA = (await t.store.getMessageById(idA))!;
    await t.store.move(inbox.id, [msgA.uid], archive.id);
    const moved = await feed(account.id, m3);
    expect(moved.items.map(itemLine)).toEqual([`deleted item ${idA} in ${inbox.id}`, `created item ${idA} in ${archive.id}`]);
    expect(moved.items[0]!.modseq).toBe(moved.items[1]!.modseq);

    // the whole history from the start, strictly in change order
    const all = await feed(account.id, start);
    const seqs = [...all.items.map((c) => c.modseq)];
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    expect(all.highestModseq).toBe(moved.highestModseq);

    // nothing since the head
    const none = await feed(account.id, moved.highestModseq);
    expect(none.items).toEqual([]);
    expect(none.folders).toEqual([]);
    expect(none.more).toBe(false);
    // a number the account never gave out (a state from another history): too old, with the current number
    const future = await t.store.accountChanges(account.id, moved.highestModseq + 1);
    expect(future).toEqual({ status: "tooOld", floor: 0, highestModseq: moved.highestModseq });
  });

  test("folder creation, rename, subscription and deletion (tombstone covers its items)", async () => {
    const { account } = await setupAccount(t.store, "folders@example.com");
    const start = await head(account.id);
    const f = await t.store.createFolder(account.id, "Projects");
    const created = await feed(account.id, start);
    expect(created.folders.map(folderLine)).toEqual([`created folder ${f.id} Projects`]);
    expect(created.folders[0]!.itemClass).toBe("mail");
    const m1 = created.highestModseq;

    await t.store.renameFolder(account.id, "Projects", "Work");
    const renamed = await feed(account.id, m1);
    expect(renamed.folders.map(folderLine)).toEqual([`changed folder ${f.id} Work`]);
    const m2 = renamed.highestModseq;

    await t.store.setSubscribed(account.id, "Work", false);
    const sub = await feed(account.id, m2);
    expect(sub.folders.map(folderLine)).toEqual([`changed folder ${f.id} Work`]);
    const m3 = sub.highestModseq;

    const [x] = await t.store.append(f.id, [{ raw: makeMessage({ subject: "in work" }) }]);
    await t.store.deleteFolder(account.id, "Work");
    const deleted = await feed(account.id, m3);
    expect(deleted.folders.map(folderLine)).toEqual([`deleted folder ${f.id} Work`]);
    // the item that was created and then went with its folder is not listed on its own
    expect(deleted.items.some((c) => c.itemId === x!.id)).toBe(false);

    // scoped to one folder (a deleted one still answers with its tombstone)
    const scoped = await feed(account.id, start, { folderId: f.id });
    expect(scoped.folders.map(folderLine)).toEqual([`deleted folder ${f.id} Work`]);
    // whole history in order: created, changed (twice collapses to the live row's last change: gone now), deleted
    const all = await feed(account.id, start);
    expect(all.folders.map((c) => c.kind)).toEqual(["deleted"]);
    // a re-created folder of the same name is a new folder
    const again = await t.store.createFolder(account.id, "Work");
    expect(again.id).not.toBe(f.id);
    const after = await feed(account.id, deleted.highestModseq);
    expect(after.folders.map(folderLine)).toEqual([`created folder ${again.id} Work`]);
  });

  test("item class and folder filters", async () => {
    const { account, inbox } = await setupAccount(t.store, "filters@example.com");
    const start = await head(account.id);
    // every account has a default "Calendar" (issue 15): a second one
    const cal = await t.store.createFolder(account.id, "Holidays", { itemClass: "calendar" });
    await t.store.deliver(makeMessage({ subject: "mail" }), [{ accountId: account.id }]);
    const mailOnly = await feed(account.id, start, { itemClass: "mail" });
    expect(mailOnly.folders).toEqual([]);
    expect(mailOnly.items.map((c) => c.folderId)).toEqual([inbox.id]);
    const calOnly = await feed(account.id, start, { itemClass: "calendar" });
    expect(calOnly.folders.map(folderLine)).toEqual([`created folder ${cal.id} Holidays`]);
    expect(calOnly.items).toEqual([]);
    expect((await feed(account.id, start, { folderId: cal.id })).items).toEqual([]);
    // only one kind: a hierarchy sync need not read item changes, an item sync not folder changes
    const onlyFolders = await feed(account.id, start, { only: "folders" });
    expect(onlyFolders.items).toEqual([]);
    expect(onlyFolders.folders.map(folderLine)).toEqual([`created folder ${cal.id} Holidays`]);
    const onlyItems = await feed(account.id, start, { only: "items" });
    expect(onlyItems.folders).toEqual([]);
    expect(onlyItems.items.map((c) => c.folderId)).toEqual([inbox.id]);
  });

  test("paging with limit never splits one change", async () => {
    const { account, inbox } = await setupAccount(t.store, "paging@example.com");
    const trash = (await t.store.getFolder(account.id, "Trash"))!;
    const start = await head(account.id);
    const res = await t.store.append(inbox.id, Array.from({ length: 5 }, (_, i) => ({ raw: makeMessage({ subject: `p${i}` }) })));
    for (let i = 0; i < 4; i++) await t.store.deliver(makeMessage({ subject: `d${i}` }), [{ accountId: account.id }]);
    // one change that moves two items (four entries with one change number)
    await t.store.move(inbox.id, [res[0]!.uid, res[1]!.uid], trash.id);
    const whole = await feed(account.id, start);
    expect(whole.more).toBe(false);

    const seen: FeedItemChange[] = [];
    let since = start;
    let pages = 0;
    for (;;) {
      const p = await feed(account.id, since, { limit: 2 });
      pages++;
      seen.push(...p.items);
      // a page ends at a change boundary: nothing of its last change is left for the next page
      if (p.items.length) expect(p.items.every((c) => c.modseq <= p.highestModseq)).toBe(true);
      since = p.highestModseq;
      if (!p.more) break;
      expect(pages).toBeLessThan(50);
    }
    expect(pages).toBeGreaterThan(2);
    expect(seen.map(itemLine)).toEqual(whole.items.map(itemLine));
  });

  test("the feed survives a restart", async () => {
    const { account, inbox } = await setupAccount(t.store, "restart@example.com");
    const start = await head(account.id);
    await t.store.deliver(makeMessage({ subject: "before restart" }), [{ accountId: account.id }]);
    await t.store.createFolder(account.id, "Kept");
    await t.store.deleteFolder(account.id, "Kept");
    const before = await feed(account.id, start);
    await t.reopen();
    const after = await feed(account.id, start);
    expect(after).toEqual(before);
    // and the counter goes on from where it was
    await t.store.storeFlags(inbox.id, [1], "add", ["\\Flagged"]);
    const next = await feed(account.id, before.highestModseq);
    expect(next.items.map((c) => c.kind)).toEqual(["changed"]);
    expect(next.highestModseq).toBeGreaterThan(before.highestModseq);
  });

  test("pruning: too old below the floor, exact above it; IMAP's expunge answer falls back to every missing UID", async () => {
    const { account, inbox } = await setupAccount(t.store, "prune@example.com");
    const start = await head(account.id);
    const res = await t.store.append(inbox.id, Array.from({ length: 4 }, (_, i) => ({ raw: makeMessage({ subject: `x${i}` }) })));
    await t.store.storeFlags(inbox.id, [res[1]!.uid], "add", ["\\Deleted"]);
    await t.store.expunge(inbox.id);
    await t.store.createFolder(account.id, "Old");
    await t.store.deleteFolder(account.id, "Old");
    const beforePrune = await feed(account.id, start);
    expect(beforePrune.items.some((c) => c.kind === "deleted")).toBe(true);
    expect((await t.store.changesSince(inbox.id, start)).expunged).toEqual([res[1]!.uid]);

    // a retention of 0 at a later "now": every deletion so far is older
    const pruned = await t.store.pruneChanges({ olderThanMs: 0, now: Date.now() + 60_000 });
    expect(pruned.rows).toBeGreaterThanOrEqual(2);

    const old = await t.store.accountChanges(account.id, start);
    expect(old.status).toBe("tooOld");
    if (old.status === "tooOld") expect(old.floor).toBeGreaterThan(start);
    const floor = old.floor;
    // at the floor: exact again (nothing deleted after it is lost)
    const fromFloor = await feed(account.id, floor);
    expect(fromFloor.items.filter((c) => c.kind === "deleted")).toEqual([]);

    // IMAP QRESYNC from below the floor: every UID below UIDNEXT that is not there (RFC 7162 §3.2.5)
    const ch = await t.store.changesSince(inbox.id, start);
    expect(ch.expunged).toEqual([res[1]!.uid]);
    const ch0 = await t.store.changesSince(inbox.id, 0);
    expect(ch0.expunged).toEqual([res[1]!.uid]);

    // new deletions after pruning are logged and reported again
    await t.store.storeFlags(inbox.id, [res[2]!.uid], "add", ["\\Deleted"]);
    await t.store.expunge(inbox.id);
    const fresh = await feed(account.id, floor);
    expect(fresh.items.filter((c) => c.kind === "deleted").map((c) => c.itemId)).toEqual([res[2]!.id]);

    // pruning with the default retention keeps recent deletions
    await t.store.pruneChanges();
    expect((await feed(account.id, floor)).items.filter((c) => c.kind === "deleted").map((c) => c.itemId)).toEqual([res[2]!.id]);
    // the floor also survives a restart
    await t.reopen();
    expect((await t.store.accountChanges(account.id, start)).status).toBe("tooOld");
  });
});
});
}
