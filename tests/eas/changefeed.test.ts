/**
 * ActiveSync on the store's account change feed (storage/changes.ts): once
 * a collection is in sync, the next Sync asks the feed for what changed in
 * that folder since the change number of the device's key (and Ping does
 * not list the folder when the feed has nothing); a FolderSync does the same
 * for folders; a key older than the feed's pruning floor gets the status
 * that makes the device start over (Sync Status 3, FolderSync Status 9).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { appData, commandsOf, el, kid, kidText, kids, type EasClient } from "./client.ts";
import { createUser, message, startEas, type EasEnv } from "./helpers.ts";
import type { Account, ChangeFeedOptions, Folder, MailStore } from "../../storage/api.ts";

describe("ActiveSync on the change feed", () => {
  let env: EasEnv;
  let acct: Account;
  let inboxF: Folder;
  let n = 0;
  const feedCalls: { since: number; opts?: ChangeFeedOptions }[] = [];
  let listings = 0;

  const newDevice = async () => {
    const c = env.client({ user: "fay@example.test", pass: "fay-secret-1", deviceId: `CF${++n}`, version: "14.1" });
    await c.provision();
    await c.folderSync();
    return c;
  };
  /** Sync until nothing is left behind; returns the subjects added. */
  const drain = async (c: EasClient, coll: string): Promise<string[]> => {
    const subjects: string[] = [];
    for (let i = 0; i < 50; i++) {
      const s = await c.sync(coll, { windowSize: 50 });
      expect(s.status).toBe("1");
      for (const a of commandsOf(s.coll).adds) subjects.push(kidText(appData(a), "Email:Subject")!);
      if (!kid(s.coll, "AirSync:MoreAvailable")) return subjects;
    }
    throw new Error("sync never finished");
  };

  beforeAll(async () => {
    env = await startEas();
    acct = await createUser(env.srv.store, "fay@example.test", "fay-secret-1");
    for (let i = 0; i < 3; i++) await env.srv.store.deliver(message({ to: "fay@example.test", subject: `Old ${i}` }), [{ accountId: acct.id }]);
    inboxF = (await env.srv.store.getFolder(acct.id, "INBOX"))!;
    // Watch what the protocol asks the store (the object the server uses; it may be a proxy that
    // caches the methods it hands out, so the originals are taken from the class, not through it).
    const store = env.srv.store;
    const proto = Object.getPrototypeOf(store) as MailStore;
    const feed = proto.accountChanges;
    const list = proto.listMessages;
    store.accountChanges = function (this: MailStore, accountId, since, opts) {
      feedCalls.push({ since, opts });
      return feed.call(this, accountId, since, opts);
    };
    store.listMessages = function (this: MailStore, folderId) {
      if (folderId === inboxF.id) listings++;
      return list.call(this, folderId);
    };
  });
  afterAll(async () => {
    await env.close();
  });

  test("an incremental Sync reads the feed since its key's change number and reports what changed after the key", async () => {
    const c = await newDevice();
    const inbox = c.folderByType(2);
    await c.sync(inbox);
    expect((await drain(c, inbox)).sort()).toEqual(["Old 0", "Old 1", "Old 2"]);
    const head = (await env.srv.store.accountChanges(acct.id, Number.MAX_SAFE_INTEGER)).highestModseq;

    // changes after the key: a new message, a flag change, an expunge
    await env.srv.store.deliver(message({ to: "fay@example.test", subject: "New after key" }), [{ accountId: acct.id }]);
    const msgs = await env.srv.store.listMessages(inboxF.id);
    const old0 = msgs[0]!;
    const old1 = msgs[1]!;
    await env.srv.store.storeFlags(inboxF.id, [old0.uid], "add", ["\\Seen"]);
    await env.srv.store.storeFlags(inboxF.id, [old1.uid], "add", ["\\Deleted"], { silent: true });
    await env.srv.store.expunge(inboxF.id, [old1.uid]);

    feedCalls.length = 0;
    const s = await c.sync(inbox);
    expect(s.status).toBe("1");
    const cmds = commandsOf(s.coll);
    expect(cmds.adds.map((a) => kidText(appData(a), "Email:Subject"))).toEqual(["New after key"]);
    expect(cmds.changes.map((x) => kidText(x, "AirSync:ServerId"))).toEqual([`${inbox}:${old0.id}`]);
    expect(kidText(appData(cmds.changes[0]!), "Email:Read")).toBe("1");
    expect(cmds.deletes.map((x) => kidText(x, "AirSync:ServerId"))).toEqual([`${inbox}:${old1.id}`]);
    // the engine asked the feed for this folder since the change number its key was complete up to
    expect(feedCalls.some((f) => f.opts?.folderId === inboxF.id && f.since === head)).toBe(true);

    // nothing new: same key, nothing sent
    const key = c.syncKeys.get(inbox);
    const again = await c.sync(inbox);
    expect(again.status).toBe("1");
    expect(commandsOf(again.coll).adds.length + commandsOf(again.coll).changes.length + commandsOf(again.coll).deletes.length).toBe(0);
    expect(c.syncKeys.get(inbox)).toBe(key);
  });

  test("the device's own changes are not echoed, and GetItemEstimate answers from the feed without listing the folder", async () => {
    const c = await newDevice();
    const inbox = c.folderByType(2);
    await c.sync(inbox);
    await drain(c, inbox);
    const first = (await env.srv.store.listMessages(inboxF.id))[0]!;
    // the device marks a message read
    const r = await c.sync(inbox, {
      commands: [el("AirSync:Change", el("AirSync:ServerId", `${inbox}:${first.id}`), el("AirSync:ApplicationData", el("Email:Read", "1")))],
    });
    expect(r.status).toBe("1");
    const after = await c.sync(inbox);
    expect(commandsOf(after.coll).changes.length).toBe(0);

    // nothing new since the key: the feed says so, the folder is not listed to find out
    const estimate = async () => {
      const doc = el("GetItemEstimate:GetItemEstimate", el("GetItemEstimate:Collections", el("GetItemEstimate:Collection", el("AirSync:SyncKey", c.syncKeys.get(inbox)!), el("GetItemEstimate:CollectionId", inbox), el("AirSync:Options", el("AirSync:FilterType", "0")))));
      const resp = kid((await c.send("GetItemEstimate", doc)).doc!, "GetItemEstimate:Response");
      expect(kidText(resp, "GetItemEstimate:Status")).toBe("1");
      return Number(kidText(kid(resp, "GetItemEstimate:Collection"), "GetItemEstimate:Estimate"));
    };
    listings = 0;
    expect(await estimate()).toBe(0);
    expect(listings).toBe(0);
    // one new message: the feed names it, and the estimate counts it
    await env.srv.store.deliver(message({ to: "fay@example.test", subject: "For the estimate" }), [{ accountId: acct.id }]);
    expect(await estimate()).toBe(1);
  });

  test("a key older than the feed's pruning floor: Sync Status 3 and FolderSync Status 9, then a fresh start works", async () => {
    const c = await newDevice();
    const inbox = c.folderByType(2);
    await c.sync(inbox);
    await drain(c, inbox);

    // a deletion after the device's keys, then pruning that forgets it
    await env.srv.store.createFolder(acct.id, "Scratch");
    await env.srv.store.deleteFolder(acct.id, "Scratch");
    const pruned = await env.srv.store.pruneChanges({ olderThanMs: 0, now: Date.now() + 60_000 });
    expect(pruned.rows).toBeGreaterThan(0);

    const s = await c.sync(inbox);
    expect(s.status).toBe("3"); // MS-ASCMD Sync Status 3: invalid sync key, start over with 0
    expect(kidText(s.coll, "AirSync:SyncKey")).toBe("0");

    const fs = await c.send("FolderSync", el("FolderHierarchy:FolderSync", el("FolderHierarchy:SyncKey", c.folderSyncKey)));
    expect(kidText(fs.doc!, "FolderHierarchy:Status")).toBe("9");

    // the device starts over and gets everything again
    c.folderSyncKey = "0";
    c.folders = [];
    const again = await c.folderSync();
    expect(kidText(again.doc!, "FolderHierarchy:Status")).toBe("1");
    const inbox2 = c.folderByType(2);
    expect(c.syncKeys.get(inbox2)).toBe("0");
    await c.sync(inbox2);
    const all = await drain(c, inbox2);
    expect(all.length).toBe((await env.srv.store.listMessages(inboxF.id)).length);
  });

  test("FolderSync reports created, renamed and deleted folders from the feed", async () => {
    const c = await newDevice();
    await env.srv.store.createFolder(acct.id, "Projects");
    let r = await c.folderSync();
    let changes = kid(r.doc!, "FolderHierarchy:Changes");
    expect(kids(changes, "FolderHierarchy:Add").map((a) => kidText(a, "FolderHierarchy:DisplayName"))).toEqual(["Projects"]);
    const id = c.folderByName("Projects");

    await env.srv.store.renameFolder(acct.id, "Projects", "Work");
    r = await c.folderSync();
    changes = kid(r.doc!, "FolderHierarchy:Changes");
    expect(kids(changes, "FolderHierarchy:Update").map((a) => [kidText(a, "FolderHierarchy:ServerId"), kidText(a, "FolderHierarchy:DisplayName")])).toEqual([[id, "Work"]]);

    await env.srv.store.deleteFolder(acct.id, "Work");
    r = await c.folderSync();
    changes = kid(r.doc!, "FolderHierarchy:Changes");
    expect(kids(changes, "FolderHierarchy:Delete").map((a) => kidText(a, "FolderHierarchy:ServerId"))).toEqual([id]);
    expect(kidText(changes, "FolderHierarchy:Count")).toBe("1");

    // nothing since: same key, no changes
    const key = c.folderSyncKey;
    r = await c.folderSync();
    expect(kidText(kid(r.doc!, "FolderHierarchy:Changes"), "FolderHierarchy:Count")).toBe("0");
    expect(c.folderSyncKey).toBe(key);
  });
});
