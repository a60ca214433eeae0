/**
 * SyncFolderHierarchy and SyncFolderItems over real sockets (MS-OXWSSYNC),
 * cross-protocol: folders made, renamed and deleted over IMAP come as
 * Create/Update/Delete; a message delivered over SMTP comes as Create, a
 * flag set over IMAP as Update, an IMAP expunge as Delete; windows of
 * MaxChangesReturned page through a folder; bad states are refused.
 */
import { expect, test } from "bun:test";
import { sendMail } from "../backup/helpers.ts";
import { ewsFixture, find, responseCodes, type XmlElement } from "./helpers.ts";

const USER = "syncer@example.test";
const PASS = "sync-password-1";
const { env, imap } = ewsFixture({ users: [{ email: USER, pass: PASS }, { email: "other-sync@example.test", pass: "other-password-1" }], imap: true });

const call = (xml: string, version?: string) => env.call(USER, PASS, xml, { version });
const dist = (id: string) => `<t:DistinguishedFolderId Id="${id}"/>`;

interface SyncAnswer {
  code: string;
  state: string;
  last: boolean;
  changes: { type: string; el: XmlElement }[];
}

function read(body: XmlElement, lastName: string): SyncAnswer {
  const msg = find(body, "ResponseMessages")!.children[0]!;
  const changes = find(msg, "Changes")?.children ?? [];
  return {
    code: find(msg, "ResponseCode")!.text,
    state: find(msg, "SyncState")?.text ?? "",
    last: find(msg, lastName)?.text === "true",
    changes: changes.map((c) => ({ type: c.name, el: c.children[0]! })),
  };
}

async function syncHierarchy(state?: string, folder?: string): Promise<SyncAnswer> {
  const r = await call(
    `<m:SyncFolderHierarchy><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape>${folder ? `<m:SyncFolderId>${folder}</m:SyncFolderId>` : ""}${state ? `<m:SyncState>${state}</m:SyncState>` : ""}</m:SyncFolderHierarchy>`,
  );
  return read(r.body, "IncludesLastFolderInRange");
}

async function syncItems(folder: string, max: number, state?: string, extra = ""): Promise<SyncAnswer> {
  const r = await call(
    `<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:SyncFolderId>${folder}</m:SyncFolderId>${state ? `<m:SyncState>${state}</m:SyncState>` : ""}${extra}<m:MaxChangesReturned>${max}</m:MaxChangesReturned></m:SyncFolderItems>`,
  );
  return read(r.body, "IncludesLastItemInRange");
}

const nameOf = (el: XmlElement) => el.children.find((k) => k.name === "DisplayName")?.text;
const idOf = (el: XmlElement) => (el.name === "FolderId" || el.name === "ItemId" ? el : el.children.find((k) => k.name === "FolderId" || k.name === "ItemId"))?.attrs.Id;

test("SyncFolderHierarchy: everything first, then IMAP's create, rename and delete as Create, Update, Delete", async () => {
  const first = await syncHierarchy();
  expect(first.code).toBe("NoError");
  expect(first.last).toBe(true);
  expect(first.changes.every((c) => c.type === "Create")).toBe(true);
  const names = first.changes.map((c) => nameOf(c.el));
  for (const n of ["INBOX", "Sent", "Trash", "Calendar", "Contacts", "Tasks"]) expect(names).toContain(n);

  const again = await syncHierarchy(first.state);
  expect(again.changes).toEqual([]);

  expect((await imap.cmd(`CREATE "Clients"`)).status).toBe("OK");
  const created = await syncHierarchy(again.state);
  expect(created.changes.map((c) => [c.type, nameOf(c.el)])).toEqual([["Create", "Clients"]]);
  const clientsId = idOf(created.changes[0]!.el);

  expect((await imap.cmd(`RENAME "Clients" "Customers"`)).status).toBe("OK");
  const renamed = await syncHierarchy(created.state);
  expect(renamed.changes.map((c) => [c.type, nameOf(c.el)])).toEqual([["Update", "Customers"]]);
  expect(idOf(renamed.changes[0]!.el)).toBe(clientsId);

  expect((await imap.cmd(`DELETE "Customers"`)).status).toBe("OK");
  const deleted = await syncHierarchy(renamed.state);
  expect(deleted.changes.map((c) => [c.type, idOf(c.el)])).toEqual([["Delete", clientsId]]);

  // made and removed between two syncs: the feed keeps only the folder's tombstone, so at most a Delete of an id the client never saw (a no-op for it)
  expect((await imap.cmd(`CREATE "Fleeting"`)).status).toBe("OK");
  expect((await imap.cmd(`DELETE "Fleeting"`)).status).toBe("OK");
  const fleeting = await syncHierarchy(deleted.state);
  expect(fleeting.changes.every((c) => c.type === "Delete" && idOf(c.el) !== clientsId)).toBe(true);
});

test("SyncFolderHierarchy under one folder; states of another scope or garbage refused", async () => {
  expect((await imap.cmd(`CREATE "INBOX/Lists"`)).status).toBe("OK");
  const scoped = await syncHierarchy(undefined, dist("inbox"));
  expect(scoped.changes.map((c) => nameOf(c.el))).toEqual(["Lists"]);
  expect((await imap.cmd(`CREATE "INBOX/Lists/Dev"`)).status).toBe("OK");
  expect((await imap.cmd(`CREATE "Elsewhere"`)).status).toBe("OK");
  const next = await syncHierarchy(scoped.state, dist("inbox"));
  expect(next.changes.map((c) => [c.type, nameOf(c.el)])).toEqual([["Create", "Dev"]]);

  expect((await syncHierarchy(scoped.state)).code).toBe("ErrorInvalidSyncStateData");
  expect((await syncHierarchy("bm90IGEgc3RhdGU=")).code).toBe("ErrorInvalidSyncStateData");
  expect((await syncHierarchy("%%%")).code).toBe("ErrorInvalidSyncStateData");
  const other = await env.call("other-sync@example.test", "other-password-1", `<m:SyncFolderHierarchy><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:SyncState>${scoped.state}</m:SyncState></m:SyncFolderHierarchy>`);
  expect(responseCodes(other.body)).toEqual(["ErrorInvalidSyncStateData"]);
});

test("SyncFolderItems: SMTP deliveries as Create in windows; IMAP flag as Update; IMAP expunge as Delete", async () => {
  expect((await imap.cmd(`CREATE "Feed"`)).status).toBe("OK");
  for (let i = 0; i < 5; i++) {
    const msg = `From: a@example.test\r\nTo: ${USER}\r\nSubject: feed ${i}\r\n\r\nbody ${i}\r\n`;
    expect((await imap.cmd(`APPEND "Feed" {${msg.length}+}\r\n${msg}`)).status).toBe("OK");
  }
  const h = await syncHierarchy();
  const feed = h.changes.find((c) => nameOf(c.el) === "Feed")!;
  const folder = `<t:FolderId Id="${idOf(feed.el)}"/>`;

  // first sync in windows of 2: 2 + 2 + 1, the last one says so
  const seen: string[] = [];
  let state: string | undefined;
  const windows: number[] = [];
  for (let i = 0; i < 5; i++) {
    const w = await syncItems(folder, 2, state);
    expect(w.code).toBe("NoError");
    expect(w.changes.every((c) => c.type === "Create" && c.el.name === "Message")).toBe(true);
    seen.push(...w.changes.map((c) => idOf(c.el)!));
    windows.push(w.changes.length);
    state = w.state;
    if (w.last) break;
  }
  expect(windows).toEqual([2, 2, 1]);
  expect(new Set(seen).size).toBe(5);
  const quiet = await syncItems(folder, 10, state);
  expect(quiet.changes).toEqual([]);
  expect(quiet.last).toBe(true);

  // IMAP: \Seen on message 2, expunge message 4
  expect((await imap.cmd(`SELECT "Feed"`)).status).toBe("OK");
  expect((await imap.cmd(`STORE 2 +FLAGS (\\Seen)`)).status).toBe("OK");
  const flagged = await syncItems(folder, 10, quiet.state);
  expect(flagged.changes.map((c) => c.type)).toEqual(["Update"]);
  expect(idOf(flagged.changes[0]!.el)).toBe(seen[1]);
  expect((await imap.cmd(`STORE 4 +FLAGS (\\Deleted)`)).status).toBe("OK");
  expect((await imap.cmd(`EXPUNGE`)).status).toBe("OK");
  const expunged = await syncItems(folder, 10, flagged.state);
  expect(expunged.changes.map((c) => [c.type, idOf(c.el)])).toEqual([["Delete", seen[3]]]);

  // SMTP delivery to the Inbox
  const inboxFirst = await syncItems(dist("inbox"), 512);
  expect(await sendMail(env.srv.port("SMTP"), USER, `From: b@example.test\r\nTo: ${USER}\r\nSubject: fresh\r\n\r\nhello\r\n`)).toBe(250);
  const fresh = await syncItems(dist("inbox"), 512, inboxFirst.state);
  expect(fresh.changes.map((c) => c.type)).toEqual(["Create"]);

  // the Ignore list leaves out an item's change
  expect((await imap.cmd(`STORE 1 +FLAGS (\\Flagged)`)).status).toBe("OK");
  const ignored = await syncItems(folder, 10, expunged.state, `<m:Ignore><t:ItemId Id="${seen[0]}"/></m:Ignore>`);
  expect(ignored.changes).toEqual([]);
});

test("SyncFolderItems: many changes of one window are cut at MaxChangesReturned and continue where they stopped", async () => {
  expect((await imap.cmd(`CREATE "Many"`)).status).toBe("OK");
  for (let i = 0; i < 7; i++) {
    const msg = `From: a@example.test\r\nTo: ${USER}\r\nSubject: many ${i}\r\n\r\nbody\r\n`;
    expect((await imap.cmd(`APPEND "Many" {${msg.length}+}\r\n${msg}`)).status).toBe("OK");
  }
  const h = await syncHierarchy();
  const folder = `<t:FolderId Id="${idOf(h.changes.find((c) => nameOf(c.el) === "Many")!.el)}"/>`;
  const first = await syncItems(folder, 512);
  expect(first.changes.length).toBe(7);
  expect(first.last).toBe(true);
  // one STORE over all seven: possibly one change number for all of them
  expect((await imap.cmd(`SELECT "Many"`)).status).toBe("OK");
  expect((await imap.cmd(`STORE 1:7 +FLAGS (\\Seen)`)).status).toBe("OK");
  const got: string[] = [];
  let state = first.state;
  for (let i = 0; i < 10; i++) {
    const w = await syncItems(folder, 3, state);
    expect(w.changes.length).toBeLessThanOrEqual(3);
    got.push(...w.changes.map((c) => `${c.type}:${idOf(c.el)}`));
    state = w.state;
    if (w.last) break;
  }
  expect(got.length).toBe(7);
  expect(new Set(got).size).toBe(7);
  expect(got.every((g) => g.startsWith("Update:"))).toBe(true);
});

test("SyncFolderItems: bad MaxChangesReturned, states of another folder, garbage, missing folder id", async () => {
  const inbox = await syncItems(dist("inbox"), 5);
  expect((await syncItems(dist("inbox"), 0)).code).toBe("ErrorInvalidRequest");
  expect((await syncItems(dist("inbox"), 513)).code).toBe("ErrorInvalidRequest");
  expect((await syncItems(dist("sentitems"), 5, inbox.state)).code).toBe("ErrorInvalidSyncStateData");
  expect((await syncItems(dist("inbox"), 5, "Z2FyYmFnZQ==")).code).toBe("ErrorInvalidSyncStateData");
  expect((await syncItems(`<t:FolderId Id="nope"/>`, 5)).code).toBe("ErrorInvalidIdMalformed");
  expect((await syncItems(dist("inbox"), 5, undefined, `<m:Ignore><t:ItemId Id="bad"/></m:Ignore>`)).code).toBe("ErrorInvalidIdMalformed");
  const none = await call(`<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:MaxChangesReturned>5</m:MaxChangesReturned></m:SyncFolderItems>`);
  expect(responseCodes(none.body)).toEqual(["ErrorInvalidRequest"]);
  // the virtual folders hold no items
  const root = await syncItems(dist("msgfolderroot"), 5);
  expect(root.code).toBe("NoError");
  expect(root.changes).toEqual([]);
});

test("SyncFolderItems on a calendar: an event written through the groupware service comes as Create", async () => {
  const first = await syncItems(dist("calendar"), 100);
  expect(first.code).toBe("NoError");
  const acct = (await env.srv.store.getAccount(USER))!;
  const col = (await env.srv.ctx.groupware.listCollections(acct, "calendar"))[0]!;
  const ics = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VEVENT", "UID:sync-test-1", "DTSTAMP:20261201T000000Z", "DTSTART:20261210T100000Z", "DTEND:20261210T110000Z", "SUMMARY:Standup", "END:VEVENT", "END:VCALENDAR", ""].join("\r\n");
  await env.srv.ctx.groupware.putObject(col, "sync-test-1.ics", new TextEncoder().encode(ics), { schedule: false });
  const next = await syncItems(dist("calendar"), 100, first.state);
  expect(next.code).toBe("NoError");
  expect(next.changes.map((c) => [c.type, c.el.name])).toEqual([["Create", "CalendarItem"]]);
});
