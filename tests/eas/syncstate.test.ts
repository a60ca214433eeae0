/**
 * The sync engine's promises: a re-sent SyncKey after a lost response is
 * answered (nothing lost, nothing doubled), a poison item that makes the
 * device loop is found and skipped, a restart never forces a resync,
 * conflicts follow the Conflict option, deletes move to Deleted Items
 * unless told otherwise, bodies follow BodyPreference, FilterType windows
 * the folder, and the device's own changes are never echoed. (The restart
 * case is in restart.test.ts: one server per process at a time.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { appData, commandsOf, el, kid, kids, kidText, text, type EasClient } from "./client.ts";
import { createUser, message, startEas, type EasEnv } from "./helpers.ts";
import type { Account, Folder } from "../../storage/api.ts";

const enc = new TextEncoder();

async function drain(c: EasClient, coll: string, o: Parameters<EasClient["sync"]>[1] = {}): Promise<string[]> {
  const subjects: string[] = [];
  for (let i = 0; i < 100; i++) {
    const s = await c.sync(coll, o);
    expect(s.status).toBe("1");
    for (const a of commandsOf(s.coll).adds) subjects.push(kidText(appData(a), "Email:Subject")!);
    if (!kid(s.coll, "AirSync:MoreAvailable")) return subjects;
  }
  throw new Error("sync never finished");
}

describe("sync state", () => {
  let env: EasEnv;
  let acct: Account;
  let inboxF: Folder;
  let n = 0;
  const newDevice = async (version = "14.1") => {
    const c = env.client({ user: "erin@example.test", pass: "erin-secret-1", deviceId: `SS${++n}`, version });
    await c.provision();
    await c.folderSync();
    return c;
  };

  beforeAll(async () => {
    env = await startEas();
    acct = await createUser(env.srv.store, "erin@example.test", "erin-secret-1");
    const now = Date.now();
    for (let i = 0; i < 12; i++) await env.srv.store.deliver(message({ to: "erin@example.test", subject: `Item ${i}`, body: `Text of item ${i}, which is long enough to be truncated somewhere.\r\n` }), [{ accountId: acct.id }], { internalDate: now - (12 - i) * 1000 });
    inboxF = (await env.srv.store.getFolder(acct.id, "INBOX"))!;
  });
  afterAll(async () => {
    await env.close();
  });

  test("a lost response: re-sending the previous SyncKey gets the same changes again, nothing doubled", async () => {
    const c = await newDevice();
    const inbox = c.folderByType(2);
    await c.sync(inbox);
    const before = c.syncKeys.get(inbox)!;
    const first = await c.sync(inbox, { windowSize: 5 });
    const firstIds = commandsOf(first.coll).adds.map((a) => kidText(a, "AirSync:ServerId"));
    expect(firstIds.length).toBe(5);
    // The response is "lost": send the previous key again.
    c.syncKeys.set(inbox, before);
    const again = await c.sync(inbox, { windowSize: 5 });
    expect(again.status).toBe("1");
    expect(commandsOf(again.coll).adds.map((a) => kidText(a, "AirSync:ServerId"))).toEqual(firstIds);
    const rest = await drain(c, inbox, { windowSize: 5 });
    expect(rest.length).toBe(7);
    // The key before the previous one is gone: Status 3.
    const stale = await c.sync(inbox, { syncKey: before });
    expect(stale.status).toBe("3");
  });

  test("a poison item that makes the device loop is detected and skipped", async () => {
    const c = await newDevice();
    const inbox = c.folderByType(2);
    await c.sync(inbox);
    const poison = `${inbox}:${(await env.srv.store.listMessages(inboxF.id)).find((m, i, all) => i === all.length - 3)!.id}`;
    const got = new Set<string>();
    let rejected = 0;
    for (let round = 0; round < 60; round++) {
      const key = c.syncKeys.get(inbox)!;
      const s = await c.sync(inbox, { windowSize: 5 });
      const ids = commandsOf(s.coll).adds.map((a) => kidText(a, "AirSync:ServerId")!);
      if (ids.includes(poison)) {
        // The device chokes on this item: it never stores the response and retries with its old key.
        c.syncKeys.set(inbox, key);
        rejected++;
        continue;
      }
      ids.forEach((i) => got.add(i));
      if (!kid(s.coll, "AirSync:MoreAvailable")) break;
    }
    expect(got.has(poison)).toBe(false);
    expect(got.size).toBe(11); // everything else arrived
    expect(rejected).toBe(3); // twice in a full window (a lost response is normal), once alone, then skipped
    // And it stays skipped.
    const s = await c.sync(inbox);
    expect(commandsOf(s.coll).adds.length).toBe(0);
  });

  test("conflicts: the server wins by default (Status 7), the client wins with Conflict 0", async () => {
    const c = await newDevice();
    const inbox = c.folderByType(2);
    await c.sync(inbox);
    const all = await drain(c, inbox, { windowSize: 50 });
    expect(all.length).toBeGreaterThan(5);
    const msgs = await env.srv.store.listMessages(inboxF.id);
    const target = msgs[0]!;
    const sid = `${inbox}:${target.id}`;
    // The server changes the item after the device's last sync...
    await env.srv.store.storeFlags(inboxF.id, [target.uid], "add", ["\\Flagged"]);
    // ...and the device marks it read at the same time.
    const r = await c.sync(inbox, { commands: [el("AirSync:Change", el("AirSync:ServerId", sid), el("AirSync:ApplicationData", el("Email:Read", "1")))] });
    const resp = kid(kid(r.coll, "AirSync:Responses"), "AirSync:Change");
    expect(kidText(resp, "AirSync:Status")).toBe("7");
    const ch = commandsOf(r.coll).changes.find((x) => kidText(x, "AirSync:ServerId") === sid)!;
    expect(kidText(kid(appData(ch), "Email:Flag"), "Email:Status")).toBe("2");
    expect((await env.srv.store.getMessages(inboxF.id, [target.uid]))[0]!.flags).not.toContain("\\Seen");
    // Client wins.
    await env.srv.store.storeFlags(inboxF.id, [target.uid], "remove", ["\\Flagged"]);
    const r2 = await c.sync(inbox, { options: [el("AirSync:Conflict", "0")], commands: [el("AirSync:Change", el("AirSync:ServerId", sid), el("AirSync:ApplicationData", el("Email:Read", "1")))] });
    expect(kid(r2.coll, "AirSync:Responses")).toBeUndefined();
    expect((await env.srv.store.getMessages(inboxF.id, [target.uid]))[0]!.flags).toContain("\\Seen");
  });

  test("Delete moves to Deleted Items by default, removes with DeletesAsMoves 0; Fetch inside Sync", async () => {
    const c = await newDevice();
    const inbox = c.folderByType(2);
    await c.sync(inbox);
    await drain(c, inbox, { windowSize: 50 });
    const msgs = await env.srv.store.listMessages(inboxF.id);
    const [m1, m2, m3] = msgs;
    const r = await c.sync(inbox, { commands: [el("AirSync:Delete", el("AirSync:ServerId", `${inbox}:${m1!.id}`)), el("AirSync:Fetch", el("AirSync:ServerId", `${inbox}:${m3!.id}`))] });
    expect(commandsOf(r.coll).deletes.length).toBe(0); // not echoed
    const fetch = kid(kid(r.coll, "AirSync:Responses"), "AirSync:Fetch");
    expect(kidText(fetch, "AirSync:Status")).toBe("1");
    expect(kidText(appData(fetch!), "Email:Subject")).toBeTruthy();
    const trash = (await env.srv.store.listFolders(acct.id)).find((f) => f.specialUse === "\\Trash")!;
    expect((await env.srv.store.listMessages(trash.id)).map((m) => m.id)).toContain(m1!.id);
    const r2 = await c.sync(inbox, { deletesAsMoves: false, commands: [el("AirSync:Delete", el("AirSync:ServerId", `${inbox}:${m2!.id}`))] });
    expect(r2.status).toBe("1");
    expect(await env.srv.store.getMessageById(m2!.id)).toBeNull();
    const missing = await c.sync(inbox, { commands: [el("AirSync:Change", el("AirSync:ServerId", `${inbox}:999999`), el("AirSync:ApplicationData", el("Email:Read", "1")))] });
    expect(kidText(kid(kid(missing.coll, "AirSync:Responses"), "AirSync:Change"), "AirSync:Status")).toBe("8");
    // Put the moved one back for the other tests.
    await env.srv.store.move(trash.id, (await env.srv.store.listMessages(trash.id)).map((m) => m.uid), inboxF.id);
  });

  test("BodyPreference: plain truncated, HTML, MIME with MIMESupport 2, AllOrNone; preview", async () => {
    const c = await newDevice("14.1");
    const inbox = c.folderByType(2);
    await c.sync(inbox);
    const s = await c.sync(inbox, { windowSize: 1, options: [el("AirSyncBase:BodyPreference", el("AirSyncBase:Type", "1"), el("AirSyncBase:TruncationSize", "10"), el("AirSyncBase:Preview", "20"))] });
    const body = kid(appData(commandsOf(s.coll).adds[0]!), "AirSyncBase:Body");
    expect(kidText(body, "AirSyncBase:Type")).toBe("1");
    expect(kidText(body, "AirSyncBase:Truncated")).toBe("1");
    expect(enc.encode(kidText(body, "AirSyncBase:Data")!).length).toBeLessThanOrEqual(10);
    expect(Number(kidText(body, "AirSyncBase:EstimatedDataSize"))).toBeGreaterThan(10);
    expect(kidText(body, "AirSyncBase:Preview")!.length).toBeLessThanOrEqual(20);
    const m = await c.sync(inbox, { windowSize: 1, options: [el("AirSync:MIMESupport", "2"), el("AirSyncBase:BodyPreference", el("AirSyncBase:Type", "4"))] });
    const add = commandsOf(m.coll).adds[0]!;
    const mb = kid(appData(add), "AirSyncBase:Body");
    expect(kidText(mb, "AirSyncBase:Type")).toBe("4");
    const id = Number(kidText(add, "AirSync:ServerId")!.split(":")[1]);
    expect(kidText(mb, "AirSyncBase:Data")).toBe(new TextDecoder().decode(await env.srv.store.readMessage(id)));
    const a = await c.sync(inbox, { windowSize: 1, options: [el("AirSyncBase:BodyPreference", el("AirSyncBase:Type", "1"), el("AirSyncBase:TruncationSize", "5"), el("AirSyncBase:AllOrNone", "1"))] });
    const ab = kid(appData(commandsOf(a.coll).adds[0]!), "AirSyncBase:Body");
    expect(kidText(ab, "AirSyncBase:Truncated")).toBe("1");
    expect(kid(ab, "AirSyncBase:Data")).toBeUndefined();
  });

  test("FilterType windows the folder; narrowing it soft-deletes what fell out", async () => {
    const a = await createUser(env.srv.store, "fred@example.test", "fred-secret-1");
    const now = Date.now();
    await env.srv.store.deliver(message({ to: "fred@example.test", subject: "old" }), [{ accountId: a.id }], { internalDate: now - 10 * 86_400_000 });
    await env.srv.store.deliver(message({ to: "fred@example.test", subject: "new" }), [{ accountId: a.id }], { internalDate: now - 3_600_000 });
    const c = env.client({ user: "fred@example.test", pass: "fred-secret-1", deviceId: "FILTER", version: "14.1" });
    await c.provision();
    await c.folderSync();
    const inbox = c.folderByType(2);
    await c.sync(inbox, { options: [el("AirSync:FilterType", "0")] });
    expect((await drain(c, inbox)).sort()).toEqual(["new", "old"]);
    const s = await c.sync(inbox, { options: [el("AirSync:FilterType", "3")] }); // one week
    expect(commandsOf(s.coll).softDeletes.length).toBe(1);
    const f2 = env.client({ user: "fred@example.test", pass: "fred-secret-1", deviceId: "FILTER2", version: "14.1" });
    await f2.provision();
    await f2.folderSync();
    await f2.sync(inbox, { options: [el("AirSync:FilterType", "1")] });
    expect(await drain(f2, inbox)).toEqual(["new"]);
  });

  test("16.1 draft Add: answered with a ServerId, stored as a draft, not echoed, not added twice when re-sent", async () => {
    const c = await newDevice("16.1");
    const drafts = c.folderByType(3);
    await c.sync(drafts);
    await drain(c, drafts);
    const before = c.syncKeys.get(drafts)!;
    const add = el(
      "AirSync:Add",
      el("AirSync:ClientId", "draft-1"),
      el("AirSync:ApplicationData", el("Email:To", "someone@example.test"), el("Email:Subject", "A draft"), el("AirSyncBase:Body", el("AirSyncBase:Type", "1"), el("AirSyncBase:Data", "Draft text"))),
    );
    const r = await c.sync(drafts, { commands: [add] });
    const resp = kid(kid(r.coll, "AirSync:Responses"), "AirSync:Add");
    expect(kidText(resp, "AirSync:Status")).toBe("1");
    const sid = kidText(resp, "AirSync:ServerId")!;
    expect(commandsOf(r.coll).adds.length).toBe(0);
    // Lost response: the same Add again with the previous key.
    c.syncKeys.set(drafts, before);
    const again = await c.sync(drafts, { commands: [add] });
    expect(kidText(kid(kid(again.coll, "AirSync:Responses"), "AirSync:Add"), "AirSync:ServerId")).toBe(sid);
    const df = (await env.srv.store.listFolders(acct.id)).find((f) => f.specialUse === "\\Drafts")!;
    const stored = await env.srv.store.getMessages(df.id, (await env.srv.store.listMessages(df.id)).map((m) => m.uid));
    expect(stored.filter((m) => m.subject === "A draft").length).toBe(1);
    expect(stored[0]!.flags).toContain("\\Draft");
  });

  test("GetChanges 0: the device's changes are applied, the server's are held back", async () => {
    const c = await newDevice();
    const inbox = c.folderByType(2);
    await c.sync(inbox);
    await drain(c, inbox);
    await env.srv.store.deliver(message({ to: "erin@example.test", subject: "held back" }), [{ accountId: acct.id }]);
    const r = await c.sync(inbox, { getChanges: false });
    expect(r.status).toBe("1");
    expect(kid(r.coll, "AirSync:Commands")).toBeUndefined();
    const later = await c.sync(inbox);
    expect(commandsOf(later.coll).adds.map((a) => kidText(appData(a), "Email:Subject"))).toEqual(["held back"]);
  });

  test("a repeated FolderSync with SyncKey 0 keeps the state of collections whose folders still exist", async () => {
    // MS-ASCMD: a client may repeat the initial FolderSync at any time (issue 16 fix; tests/eas/fixes16.test.ts)
    const c = await newDevice();
    const inbox = c.folderByType(2);
    await c.sync(inbox);
    c.folderSyncKey = "0";
    await c.folderSync();
    const s = await c.sync(inbox);
    expect(s.status).toBe("1");
  });

  test("an empty Sync repeats the last request with the keys just issued", async () => {
    const c = await newDevice();
    const inbox = c.folderByType(2);
    await c.sync(inbox);
    await drain(c, inbox);
    await env.srv.store.deliver(message({ to: "erin@example.test", subject: "for the empty sync" }), [{ accountId: acct.id }]);
    const r = await c.send("Sync", null);
    const coll = kid(kid(r.doc!, "AirSync:Collections"), "AirSync:Collection");
    expect(kidText(coll, "AirSync:Status")).toBe("1");
    expect(kids(kid(coll, "AirSync:Commands")).map((a) => kidText(appData(a), "Email:Subject"))).toEqual(["for the empty sync"]);
    expect(text(kid(coll, "AirSync:SyncKey")!)).not.toBe(c.syncKeys.get(inbox));
  });
  test("every request matched xml2wbxml byte for byte and every response matched wbxml2xml", () => {
    const r = env.libwbxml();
    console.log(`libwbxml: ${r.requests} requests and ${r.responses} responses compared, ${r.skipped} skipped`);
    expect(r.mismatches).toEqual([]);
    expect(r.requests).toBeGreaterThan(10);
  });
});
