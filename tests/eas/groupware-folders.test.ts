/**
 * Groupware folders over ActiveSync (issue 16), for 14.1 and 16.1 over real
 * HTTPS with every request and response checked against libwbxml2-utils:
 * FolderSync lists the default calendar (8), contacts (9), tasks (7) and
 * notes (10) and user-made ones (13/14/15/17) by their display names; the
 * schedule inbox is not shown; FolderCreate/Update/Delete make, rename and
 * remove collections that CalDAV/CardDAV PROPFIND sees; hierarchy changes
 * made over CalDAV/CardDAV (MKCALENDAR, MKCOL, PROPPATCH of displayname,
 * DELETE) reach the device in its next FolderSync.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Account } from "../../storage/api.ts";
import { curl, vcard, vevent, xmlHeaders, type DavServer } from "../dav/core-helpers.ts";
import { appData, commandsOf, el, kid, kids, kidText, type EasClient } from "./client.ts";
import { createUser, startEas, type EasEnv } from "./helpers.ts";

let env: EasEnv;
let d: DavServer;
const NS = `xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cr="urn:ietf:params:xml:ns:carddav"`;

beforeAll(async () => {
  env = await startEas();
  d = { srv: env.srv, base: `https://127.0.0.1:${env.port}`, close: async () => undefined };
});
afterAll(async () => {
  await env.close();
});

type Change = { kind: string; serverId: string; parentId?: string; displayName?: string; type?: number };

/** A FolderSync; the changes it reported. */
async function folderChanges(c: EasClient): Promise<Change[]> {
  const r = await c.folderSync();
  expect(kidText(r.doc!, "FolderHierarchy:Status")).toBe("1");
  return kids(kid(r.doc!, "FolderHierarchy:Changes"))
    .filter((k) => k.name !== "Count")
    .map((k) => ({
      kind: k.name,
      serverId: kidText(k, "FolderHierarchy:ServerId")!,
      parentId: kidText(k, "FolderHierarchy:ParentId"),
      displayName: kidText(k, "FolderHierarchy:DisplayName"),
      type: kidText(k, "FolderHierarchy:Type") === undefined ? undefined : Number(kidText(k, "FolderHierarchy:Type")),
    }));
}

async function propfind(user: string, pass: string, path: string): Promise<string> {
  const r = await curl(d, "PROPFIND", path, { user, pass, headers: xmlHeaders("1"), body: `<d:propfind ${NS}><d:prop><d:displayname/><d:resourcetype/></d:prop></d:propfind>` });
  expect(r.status).toBe(207);
  return r.body;
}

async function folderCmd(c: EasClient, cmd: "FolderCreate" | "FolderUpdate" | "FolderDelete", fields: [string, string][]) {
  const r = await c.send(cmd, el(`FolderHierarchy:${cmd}`, el("FolderHierarchy:SyncKey", c.folderSyncKey), fields.map(([k, v]) => el(`FolderHierarchy:${k}`, v))));
  const status = kidText(r.doc!, "FolderHierarchy:Status");
  if (status === "1") c.folderSyncKey = kidText(r.doc!, "FolderHierarchy:SyncKey")!;
  return { status, serverId: kidText(r.doc!, "FolderHierarchy:ServerId") };
}

for (const version of ["14.1", "16.1"]) {
  describe(`groupware folders, ActiveSync ${version}`, () => {
    const tag = version.replace(".", "");
    const user = `gw${tag}@example.test`;
    const pass = `gw-secret-${tag}`;
    const CAL = `/dav/calendars/${user}/`;
    const BOOK = `/dav/addressbooks/${user}/`;
    let acct: Account;
    let c: EasClient;

    beforeAll(async () => {
      acct = await createUser(env.srv.store, user, pass, { displayName: `Gwen ${tag}` });
      // the RFC 6638 schedule inbox the scheduling code keeps as a calendar folder: never a device folder
      await env.srv.store.createFolder(acct.id, "inbox", { itemClass: "calendar" }).catch(() => undefined);
      c = env.client({ user, pass, deviceId: `GWFOLDERS${tag}`, version });
      await c.provision();
    });

    test("FolderSync lists the default calendar, contacts, tasks and notes folders with their types; the schedule inbox is hidden", async () => {
      const adds = await folderChanges(c);
      const byType = (t: number) => adds.filter((a) => a.type === t);
      expect(byType(8).map((a) => a.displayName)).toEqual(["Calendar"]);
      expect(byType(9).map((a) => a.displayName)).toEqual(["Contacts"]);
      expect(byType(7).map((a) => a.displayName)).toEqual(["Tasks"]);
      expect(byType(10).map((a) => a.displayName)).toEqual(["Notes"]);
      expect(byType(2).length).toBe(1); // the mail Inbox
      const inboxCal = await env.srv.store.getFolder(acct.id, "inbox", "calendar");
      expect(adds.some((a) => a.serverId === String(inboxCal!.id))).toBe(false);
      for (const a of adds.filter((x) => [7, 8, 9, 10].includes(x.type!))) expect(a.parentId).toBe("0");
      // nothing more to tell
      expect(await folderChanges(c)).toEqual([]);
    });

    test("a default collection's display name set over CalDAV is what the device shows", async () => {
      const r = await curl(d, "PROPPATCH", CAL + "Calendar/", { user, pass, headers: xmlHeaders(), body: `<d:propertyupdate ${NS}><d:set><d:prop><d:displayname>Family calendar</d:displayname></d:prop></d:set></d:propertyupdate>` });
      expect(r.status).toBe(207);
      const ch = await folderChanges(c);
      expect(ch).toEqual([{ kind: "Update", serverId: c.folderByType(8), parentId: "0", displayName: "Family calendar", type: 8 }]);
    });

    test("collections made, renamed and deleted over CalDAV/CardDAV reach the next FolderSync as Add, Update and Delete", async () => {
      expect((await curl(d, "MKCALENDAR", CAL + "work/", { user, pass, headers: xmlHeaders(), body: `<c:mkcalendar ${NS}><d:set><d:prop><d:displayname>Work things</d:displayname></d:prop></d:set></c:mkcalendar>` })).status).toBe(201);
      expect(
        (
          await curl(d, "MKCALENDAR", CAL + "chores/", {
            user,
            pass,
            headers: xmlHeaders(),
            body: `<c:mkcalendar ${NS}><d:set><d:prop><d:displayname>Chores</d:displayname><c:supported-calendar-component-set><c:comp name="VTODO"/></c:supported-calendar-component-set></d:prop></d:set></c:mkcalendar>`,
          })
        ).status,
      ).toBe(201);
      expect((await curl(d, "MKCOL", BOOK + "friends/", { user, pass, headers: xmlHeaders(), body: `<d:mkcol ${NS}><d:set><d:prop><d:resourcetype><d:collection/><cr:addressbook/></d:resourcetype><d:displayname>Friends</d:displayname></d:prop></d:set></d:mkcol>` })).status).toBe(201);
      const adds = await folderChanges(c);
      const ids = async (name: string, cls: "calendar" | "tasks" | "contacts") => String((await env.srv.store.getFolder(acct.id, name, cls))!.id);
      const work = await ids("work", "calendar");
      expect(adds).toEqual(
        expect.arrayContaining([
          { kind: "Add", serverId: work, parentId: "0", displayName: "Work things", type: 13 },
          { kind: "Add", serverId: await ids("chores", "tasks"), parentId: "0", displayName: "Chores", type: 15 },
          { kind: "Add", serverId: await ids("friends", "contacts"), parentId: "0", displayName: "Friends", type: 14 },
        ]),
      );
      expect(adds.length).toBe(3);

      const pp = await curl(d, "PROPPATCH", CAL + "work/", { user, pass, headers: xmlHeaders(), body: `<d:propertyupdate ${NS}><d:set><d:prop><d:displayname>Office</d:displayname></d:prop></d:set></d:propertyupdate>` });
      expect(pp.status).toBe(207);
      expect(await folderChanges(c)).toEqual([{ kind: "Update", serverId: work, parentId: "0", displayName: "Office", type: 13 }]);

      expect((await curl(d, "DELETE", CAL + "work/", { user, pass })).status).toBe(204);
      expect(await folderChanges(c)).toEqual([{ kind: "Delete", serverId: work, parentId: undefined, displayName: undefined, type: undefined }]);
    });

    test("FolderCreate of types 13, 14, 15 and 17 makes collections (and a notes folder) that CalDAV/CardDAV see; the device does not get them back", async () => {
      const cal = await folderCmd(c, "FolderCreate", [["ParentId", "0"], ["DisplayName", "Holidays & trips"], ["Type", "13"]]);
      expect(cal.status).toBe("1");
      const book = await folderCmd(c, "FolderCreate", [["ParentId", "0"], ["DisplayName", "Clubs"], ["Type", "14"]]);
      expect(book.status).toBe("1");
      const tasks = await folderCmd(c, "FolderCreate", [["ParentId", "0"], ["DisplayName", "Garden jobs"], ["Type", "15"]]);
      expect(tasks.status).toBe("1");
      const notes = await folderCmd(c, "FolderCreate", [["ParentId", "0"], ["DisplayName", "Ideas"], ["Type", "17"]]);
      expect(notes.status).toBe("1");
      // a calendar under the default calendar (what some phones send) is made at the top level
      const sub = await folderCmd(c, "FolderCreate", [["ParentId", c.folderByType(8)], ["DisplayName", "Birthdays"], ["Type", "13"]]);
      expect(sub.status).toBe("1");

      const calHome = await propfind(user, pass, CAL);
      expect(calHome).toContain("<D:displayname>Holidays &amp; trips</D:displayname>");
      expect(calHome).toContain("<D:displayname>Garden jobs</D:displayname>");
      expect(calHome).toContain("<D:displayname>Birthdays</D:displayname>");
      expect(await propfind(user, pass, BOOK)).toContain("<D:displayname>Clubs</D:displayname>");
      // URL-safe names; the display name is the device's
      const col = (await env.srv.ctx.groupware.listCollections(acct, "calendar")).find((x) => String(x.id) === cal.serverId)!;
      expect(col.displayName).toBe("Holidays & trips");
      expect(col.name).toMatch(/^holidays-trips-[0-9a-f]{8}$/);
      expect((await env.srv.ctx.groupware.listCollections(acct, "tasks")).find((x) => String(x.id) === tasks.serverId)?.displayName).toBe("Garden jobs");
      expect((await env.srv.store.getFolderById(Number(notes.serverId)))?.itemClass).toBe("notes");
      // the device's own creations do not come back as Adds
      expect(await folderChanges(c)).toEqual([]);

      // a second calendar of the same name: MS-ASCMD FolderCreate Status 2
      expect((await folderCmd(c, "FolderCreate", [["ParentId", "0"], ["DisplayName", "holidays & TRIPS"], ["Type", "13"]])).status).toBe("2");
      // a stale FolderSync key: Status 9
      const stale = await c.send("FolderCreate", el("FolderHierarchy:FolderCreate", el("FolderHierarchy:SyncKey", "1"), el("FolderHierarchy:ParentId", "0"), el("FolderHierarchy:DisplayName", "Late"), el("FolderHierarchy:Type", "13")));
      expect(kidText(stale.doc!, "FolderHierarchy:Status")).toBe("9");
      // an unknown parent: Status 5
      expect((await folderCmd(c, "FolderCreate", [["ParentId", "999999"], ["DisplayName", "Orphan"], ["Type", "14"]])).status).toBe("5");
    });

    test("FolderUpdate renames a collection (display name, same URL); FolderDelete removes it; the defaults are system folders", async () => {
      const cal = (await env.srv.ctx.groupware.listCollections(acct, "calendar")).find((x) => x.displayName === "Holidays & trips")!;
      const up = await folderCmd(c, "FolderUpdate", [["ServerId", String(cal.id)], ["ParentId", "0"], ["DisplayName", "Vacations"]]);
      expect(up.status).toBe("1");
      const after = (await env.srv.ctx.groupware.getCollection(acct, cal.name))!;
      expect(after.displayName).toBe("Vacations");
      expect(await propfind(user, pass, `${CAL}${cal.name}/`)).toContain("<D:displayname>Vacations</D:displayname>");
      expect(await folderChanges(c)).toEqual([]);

      const book = (await env.srv.ctx.groupware.listCollections(acct, "contacts")).find((x) => x.displayName === "Clubs")!;
      expect((await folderCmd(c, "FolderUpdate", [["ServerId", String(book.id)], ["ParentId", "0"], ["DisplayName", "Clubs and societies"]])).status).toBe("1");
      expect(await propfind(user, pass, BOOK)).toContain("<D:displayname>Clubs and societies</D:displayname>");

      // MS-ASCMD §2.2.3.177.6 Status 2 and §2.2.3.177.4 Status 3: the default folders stay
      for (const t of [7, 8, 9, 10]) {
        const sid = c.folderByType(t);
        expect((await folderCmd(c, "FolderUpdate", [["ServerId", sid], ["ParentId", "0"], ["DisplayName", "Renamed"]])).status).toBe("2");
        expect((await folderCmd(c, "FolderDelete", [["ServerId", sid]])).status).toBe("3");
      }
      expect((await folderCmd(c, "FolderDelete", [["ServerId", "999999"]])).status).toBe("4");

      expect((await folderCmd(c, "FolderDelete", [["ServerId", String(cal.id)]])).status).toBe("1");
      expect(await env.srv.ctx.groupware.getCollection(acct, cal.name)).toBeNull();
      expect(await propfind(user, pass, CAL)).not.toContain("Vacations");
      expect((await folderCmd(c, "FolderDelete", [["ServerId", String(book.id)]])).status).toBe("1");
      expect(await propfind(user, pass, BOOK)).not.toContain("Clubs and societies");
      const ideas = c.folders.length ? (await env.srv.store.listFolders(acct.id, { itemClass: "notes" })).find((f) => f.name === "Ideas")! : undefined;
      expect((await folderCmd(c, "FolderDelete", [["ServerId", String(ideas!.id)]])).status).toBe("1");
      expect(await env.srv.store.getFolderById(ideas!.id)).toBeNull();
      expect(await folderChanges(c)).toEqual([]);
    });

    test("events and contacts: GetItemEstimate, ItemOperations Fetch, and MoveItems between calendars / address books keeping the item id", async () => {
      const put = async (path: string, body: string, type: string) => {
        const r = await curl(d, "PUT", path, { user, pass, headers: { "content-type": type }, body });
        expect(r.status).toBe(201);
      };
      await put(`${CAL}Calendar/move-me.ics`, vevent(`move-${tag}`, "Dentist"), "text/calendar; charset=utf-8");
      await put(`${BOOK}Contacts/carol.vcf`, vcard(`carol-${tag}`), "text/vcard; charset=utf-8");
      const cal = c.folderByType(8);
      const book = c.folderByType(9);
      const other = await folderCmd(c, "FolderCreate", [["ParentId", "0"], ["DisplayName", "Second calendar"], ["Type", "13"]]);
      const otherBook = await folderCmd(c, "FolderCreate", [["ParentId", "0"], ["DisplayName", "Second book"], ["Type", "14"]]);
      expect([other.status, otherBook.status]).toEqual(["1", "1"]);
      for (const f of [cal, book, other.serverId!, otherBook.serverId!]) expect((await c.sync(f)).status).toBe("1");

      const est = await c.send("GetItemEstimate", el("GetItemEstimate:GetItemEstimate", el("GetItemEstimate:Collections", el("GetItemEstimate:Collection", el("AirSync:SyncKey", c.syncKeys.get(cal)!), el("GetItemEstimate:CollectionId", cal)))));
      const er = kid(est.doc!, "GetItemEstimate:Response");
      expect(kidText(er, "GetItemEstimate:Status")).toBe("1");
      expect(kidText(kid(er, "GetItemEstimate:Collection"), "GetItemEstimate:Estimate")).toBe("1");

      const events = commandsOf((await c.sync(cal)).coll).adds;
      const dentist = events.find((a) => kidText(appData(a), "Calendar:Subject") === "Dentist")!;
      const eventSid = kidText(dentist, "AirSync:ServerId")!;
      const contacts = commandsOf((await c.sync(book)).coll).adds;
      const carolSid = kidText(contacts.find((a) => kidText(appData(a), "Contacts:FileAs") !== undefined || kidText(appData(a), "Contacts:FirstName") === "Carol")!, "AirSync:ServerId")!;

      const f = await c.send("ItemOperations", el("ItemOperations:ItemOperations", el("ItemOperations:Fetch", el("ItemOperations:Store", "Mailbox"), el("AirSync:CollectionId", cal), el("AirSync:ServerId", eventSid))));
      const fetch = kid(kid(f.doc!, "ItemOperations:Response"), "ItemOperations:Fetch");
      expect(kidText(fetch, "ItemOperations:Status")).toBe("1");
      expect(kidText(fetch, "AirSync:Class")).toBe("Calendar");
      expect(kidText(kid(fetch, "ItemOperations:Properties"), "Calendar:Subject")).toBe("Dentist");
      // an item fetched under a collection it is not in: Status 6
      const wrong = await c.send("ItemOperations", el("ItemOperations:ItemOperations", el("ItemOperations:Fetch", el("ItemOperations:Store", "Mailbox"), el("AirSync:CollectionId", book), el("AirSync:ServerId", eventSid))));
      expect(kidText(kid(kid(wrong.doc!, "ItemOperations:Response"), "ItemOperations:Fetch"), "ItemOperations:Status")).toBe("6");

      const itemId = eventSid.split(":")[1]!;
      const mv = await c.send("MoveItems", el("Move:MoveItems", el("Move:Move", el("Move:SrcMsgId", eventSid), el("Move:SrcFldId", cal), el("Move:DstFldId", other.serverId!)), el("Move:Move", el("Move:SrcMsgId", carolSid), el("Move:SrcFldId", book), el("Move:DstFldId", otherBook.serverId!)), el("Move:Move", el("Move:SrcMsgId", carolSid), el("Move:SrcFldId", book), el("Move:DstFldId", other.serverId!))));
      const [r1, r2, r3] = kids(mv.doc!, "Move:Response");
      expect(kidText(r1, "Move:Status")).toBe("3");
      expect(kidText(r1, "Move:DstMsgId")).toBe(`${other.serverId}:${itemId}`);
      expect(kidText(r2, "Move:Status")).toBe("3");
      expect(kidText(r2, "Move:DstMsgId")).toBe(`${otherBook.serverId}:${carolSid.split(":")[1]}`);
      expect(kidText(r3, "Move:Status")).toBe("2"); // a contact cannot go into a calendar: invalid destination
      // CalDAV/CardDAV see the objects at their new collections, under their old names
      const otherCol = (await env.srv.ctx.groupware.listCollections(acct, "calendar")).find((x) => String(x.id) === other.serverId)!;
      const got = await curl(d, "GET", `${CAL}${otherCol.name}/move-me.ics`, { user, pass });
      expect(got.status).toBe(200);
      expect(got.body).toContain(`UID:move-${tag}`);
      expect((await curl(d, "GET", `${CAL}Calendar/move-me.ics`, { user, pass })).status).toBe(404);
      const otherBookCol = (await env.srv.ctx.groupware.listCollections(acct, "contacts")).find((x) => String(x.id) === otherBook.serverId)!;
      expect((await curl(d, "GET", `${BOOK}${otherBookCol.name}/carol.vcf`, { user, pass })).status).toBe(200);
      // MS-ASCMD §2.2.1.12: the source's next Sync has the Delete, the destination no duplicate Add
      expect(commandsOf((await c.sync(cal)).coll).deletes.map((x) => kidText(x, "AirSync:ServerId"))).toEqual([eventSid]);
      expect(commandsOf((await c.sync(other.serverId!)).coll).adds.length).toBe(0);
      // a second event with the same resource name moves in under a new name, nothing is replaced
      await put(`${CAL}Calendar/move-me.ics`, vevent(`move2-${tag}`, "Second dentist"), "text/calendar; charset=utf-8");
      const again = commandsOf((await c.sync(cal)).coll).adds;
      const sid2 = kidText(again[0]!, "AirSync:ServerId")!;
      const mv2 = await c.send("MoveItems", el("Move:MoveItems", el("Move:Move", el("Move:SrcMsgId", sid2), el("Move:SrcFldId", cal), el("Move:DstFldId", other.serverId!))));
      expect(kidText(kid(mv2.doc!, "Move:Response"), "Move:Status")).toBe("3");
      expect((await env.srv.ctx.groupware.listObjects(otherCol)).length).toBe(2);
      // EmptyFolderContents of a calendar: its events are gone over CalDAV too
      const empty = await c.send("ItemOperations", el("ItemOperations:ItemOperations", el("ItemOperations:EmptyFolderContents", el("AirSync:CollectionId", other.serverId!))));
      expect(kidText(kid(kid(empty.doc!, "ItemOperations:Response"), "ItemOperations:EmptyFolderContents"), "ItemOperations:Status")).toBe("1");
      expect((await env.srv.ctx.groupware.listObjects(otherCol)).length).toBe(0);
      expect((await curl(d, "GET", `${CAL}${otherCol.name}/move-me.ics`, { user, pass })).status).toBe(404);
    });
  });
}

test("12.1: the folder list has the groupware folders too", async () => {
  const acct = await createUser(env.srv.store, "gw121@example.test", "gw-secret-121", {});
  const c = env.client({ user: "gw121@example.test", pass: "gw-secret-121", deviceId: "GWFOLDERS121", version: "12.1" });
  await c.provision();
  const adds = await folderChanges(c);
  expect(adds.filter((a) => [7, 8, 9, 10].includes(a.type!)).map((a) => a.type).sort()).toEqual([10, 7, 8, 9].sort());
  expect(acct.id).toBeGreaterThan(0);
});

test("every request matched xml2wbxml byte for byte and every response matched wbxml2xml", () => {
  const r = env.libwbxml();
  if (process.env.CI === "true" || r.requests + r.responses > 0) {
    console.log(`libwbxml: ${r.requests} requests and ${r.responses} responses compared, ${r.skipped} skipped`);
    expect(r.mismatches).toEqual([]);
    expect(r.requests).toBeGreaterThan(20);
  }
});
