/**
 * Notes over ActiveSync (MS-ASNOTE): the default Notes folder, notes both
 * ways (device Add/Change/Delete, server change/delete) stored as VJOURNAL,
 * Categories, properties ActiveSync cannot express surviving a phone edit,
 * and malformed device data answered with Status 6 and nothing stored.
 * Every request and response is checked against libwbxml2-utils.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { appData, commandsOf, el, kid, kids, kidText, text, type EasClient } from "./client.ts";
import { createUser, startEas, type EasEnv } from "./helpers.ts";
import { libwbxmlAvailable } from "./libwbxml.ts";
import type { Account, Folder, Item } from "../../storage/api.ts";
import { noteCodec, noteFieldsOf, readNote } from "../../protocols/http/eas/groupware/note.ts";
import { EasDataError, type CodecContext } from "../../protocols/http/eas/groupware/codec.ts";
import { ensureNotesFolder } from "../../protocols/http/eas/sync/notes.ts";
import type { WElement } from "../../protocols/http/eas/wbxml/tree.ts";
import type { Logger } from "../../src/log.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const T0 = Date.UTC(2026, 2, 10, 9, 30, 0);

const silent = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger; // the codec only logs through it
function cx(prefs: { type: number; truncationSize?: number }[] = [{ type: 1 }]): CodecContext {
  return { version: 161, account: { id: 1, email: "n@example.test" } as Account, body: { prefs, mimeSupport: 0 }, now: T0, log: silent };
}
const fakeItem = { modifiedAt: T0 - 60_000 } as Item;

function vjournal(o: { uid?: string; summary?: string; description?: string; categories?: string; extra?: string } = {}): Uint8Array {
  return enc.encode(
    [
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "PRODID:-//Other//Client//EN",
      "BEGIN:VJOURNAL",
      `UID:${o.uid ?? "note-1"}`,
      "DTSTAMP:20260301T100000Z",
      o.summary !== undefined ? `SUMMARY:${o.summary}` : null,
      o.description !== undefined ? `DESCRIPTION:${o.description}` : null,
      o.categories !== undefined ? `CATEGORIES:${o.categories}` : null,
      "LAST-MODIFIED:20260301T100000Z",
      o.extra ?? null,
      "END:VJOURNAL",
      "END:VCALENDAR",
      "",
    ]
      .filter((l) => l !== null)
      .join("\r\n"),
  );
}

function noteData(o: { subject?: string; body?: string; bodyType?: number; categories?: string[]; messageClass?: string; lastModified?: string }): WElement {
  return el(
    "AirSync:ApplicationData",
    o.body !== undefined && el("AirSyncBase:Body", el("AirSyncBase:Type", o.bodyType ?? 1), el("AirSyncBase:Data", o.body)),
    o.subject !== undefined && el("Notes:Subject", o.subject),
    el("Notes:MessageClass", o.messageClass ?? "IPM.StickyNote"),
    o.lastModified !== undefined && el("Notes:LastModifiedDate", o.lastModified),
    o.categories && el("Notes:Categories", o.categories.map((c) => el("Notes:Category", c))),
  );
}

const names = (els: WElement[]) => els.map((e) => `${e.ns}:${e.name}`);

describe("note codec", () => {
  test("a VJOURNAL becomes Body, Subject, MessageClass, LastModifiedDate, Categories in MS-ASNOTE order", () => {
    const out = noteCodec.toEas(vjournal({ summary: "Shopping", description: "milk\\neggs", categories: "Home,Errands" }), fakeItem, cx());
    expect(names(out)).toEqual(["AirSyncBase:Body", "Notes:Subject", "Notes:MessageClass", "Notes:LastModifiedDate", "Notes:Categories"]);
    expect(kidText(out[0], "AirSyncBase:Data")).toBe("milk\neggs");
    expect(text(out[1])).toBe("Shopping");
    expect(text(out[2])).toBe("IPM.StickyNote");
    expect(text(out[3])).toBe("20260301T100000Z");
    expect(kids(out[4], "Notes:Category").map(text)).toEqual(["Home", "Errands"]);
    // truncated as the device asked, HTML when preferred
    const cut = noteCodec.toEas(vjournal({ summary: "s", description: "0123456789" }), fakeItem, cx([{ type: 1, truncationSize: 4 }]));
    expect(kidText(cut[0], "AirSyncBase:Data")).toBe("0123");
    expect(kidText(cut[0], "AirSyncBase:Truncated")).toBe("1");
    const html = noteCodec.toEas(vjournal({ summary: "s", description: "a<b" }), fakeItem, cx([{ type: 2 }]));
    expect(kidText(html[0], "AirSyncBase:Data")).toContain("a&lt;b");
  });

  test("a note without text or categories leaves those elements out; the item's time stands in for LAST-MODIFIED", () => {
    const body = enc.encode("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//x//EN\r\nBEGIN:VJOURNAL\r\nUID:u\r\nSUMMARY:Only a title\r\nEND:VJOURNAL\r\nEND:VCALENDAR\r\n");
    const out = noteCodec.toEas(body, fakeItem, cx());
    expect(names(out)).toEqual(["Notes:Subject", "Notes:MessageClass", "Notes:LastModifiedDate"]);
    expect(text(out[2])).toBe("20260310T092900Z");
  });

  test("an older MIME note is read, and becomes a VJOURNAL with its text on the first device edit", () => {
    const mime = enc.encode("Subject: Old note\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nkept text\r\n");
    expect(readNote(mime)).toMatchObject({ subject: "Old note", text: "kept text\n" });
    const stored = noteCodec.fromEas(noteData({ subject: "Renamed" }), mime, cx());
    const n = readNote(stored);
    expect(n.subject).toBe("Renamed");
    expect(n.text).toBe("kept text\n");
    expect(dec.decode(stored)).toContain("BEGIN:VJOURNAL");
  });

  test("a device change merges: X- properties, DTSTART, UID and other components survive; unchanged categories keep their form", () => {
    const existing = vjournal({ summary: "Old", description: "old text", categories: "A", extra: "X-OTHER-CLIENT;X-P=1:keep me\r\nDTSTART;VALUE=DATE:20260301\r\nCATEGORIES:B" });
    const stored = dec.decode(noteCodec.fromEas(noteData({ subject: "New", body: "new text", categories: ["A", "B"] }), existing, cx()));
    expect(stored).toContain("UID:note-1");
    expect(stored).toContain("X-OTHER-CLIENT;X-P=1:keep me");
    expect(stored).toContain("DTSTART;VALUE=DATE:20260301");
    expect(stored).toContain("SUMMARY:New");
    expect(stored).toContain("DESCRIPTION:new text");
    expect(stored).toContain("CATEGORIES:A\r\n");
    expect(stored).toContain("CATEGORIES:B\r\n");
    expect(stored).toContain("PRODID:-//Other//Client//EN");
    // changed categories are written as one list; a Change without Categories clears them (MS-ASCMD Change)
    const changed = dec.decode(noteCodec.fromEas(noteData({ subject: "New", categories: ["C", "A"] }), existing, cx()));
    expect(changed).toContain("CATEGORIES:C,A");
    expect(changed).toContain("DESCRIPTION:old text"); // no Body sent: the text stays
    expect(dec.decode(noteCodec.fromEas(noteData({ subject: "New" }), existing, cx()))).not.toContain("CATEGORIES");
    // the device's time of the edit, never later than now
    expect(changed).toContain(`LAST-MODIFIED:20260310T093000Z`);
    const dated = dec.decode(noteCodec.fromEas(noteData({ subject: "x", lastModified: "2026-03-09T08:00:00.000Z" }), existing, cx()));
    expect(dated).toContain("LAST-MODIFIED:20260309T080000Z");
  });

  test("an Add builds a new VJOURNAL; HTML bodies become text; control characters are dropped", () => {
    const a = noteCodec.fromEas(noteData({ subject: "Tab\there\u0007", body: "<p>Hello <b>you</b></p>", bodyType: 2, categories: ["Work", "Work", " "] }), null, cx());
    const s = dec.decode(a);
    expect(s).toMatch(/^BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-\/\/Pillarbox/);
    expect(s).toMatch(/\r\nUID:[0-9a-f-]{36}\r\n/);
    const n = readNote(a);
    expect(n.subject).toBe("Tab\there");
    expect(n.text).toBe("Hello you");
    expect(n.categories).toEqual(["Work"]);
    expect(noteFieldsOf(a)).toEqual({ subject: "Tab\there" });
    expect(noteFieldsOf(enc.encode("BEGIN:VCALENDAR\r\nbroken"))).toEqual({ subject: "" });
    expect(noteFieldsOf(enc.encode(`BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VJOURNAL\r\nUID:u\r\nSUMMARY:${"s".repeat(5000)}\r\nEND:VJOURNAL\r\nEND:VCALENDAR\r\n`)).subject!.length).toBe(4096);
  });

  test("malformed device data is an EasDataError with Status 6", () => {
    const bad: [string, WElement, Uint8Array | null][] = [
      ["invalid date", noteData({ subject: "x", lastModified: "20261345T250000Z" }), null],
      ["February 30", noteData({ subject: "x", lastModified: "20260230T100000Z" }), null],
      ["not a date", noteData({ subject: "x", lastModified: "yesterday" }), null],
      ["not a note", noteData({ subject: "x", messageClass: "IPM.Note" }), null],
      ["RTF body", noteData({ subject: "x", body: "{\\rtf1}", bodyType: 3 }), null],
      ["MIME body", noteData({ subject: "x", body: "Subject: x", bodyType: 4 }), null],
      ["301 categories", noteData({ subject: "x", categories: Array.from({ length: 301 }, (_, i) => `c${i}`) }), null],
      ["huge category", noteData({ subject: "x", categories: ["c".repeat(5000)] }), null],
      ["huge subject", noteData({ subject: "s".repeat(40_000) }), null],
      ["huge body", noteData({ subject: "x", body: "b".repeat(600 * 1024) }), null],
      ["over the iCalendar size limit", noteData({ subject: "x", body: "\u20ac".repeat(400 * 1024) }), null],
      ["stored body without VJOURNAL", noteData({ subject: "x" }), enc.encode("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTODO\r\nUID:t\r\nEND:VTODO\r\nEND:VCALENDAR\r\n")],
    ];
    for (const [what, data, existing] of bad) {
      let err: unknown;
      try {
        noteCodec.fromEas(data, existing, cx());
      } catch (e) {
        err = e;
      }
      expect([what, err instanceof EasDataError]).toEqual([what, true]);
      expect((err as EasDataError).status).toBe(6);
    }
  });
});

describe("notes over ActiveSync", () => {
  let env: EasEnv;
  let acct: Account;
  let notes: Folder;
  let n = 0;
  const USER = "nora@example.test";
  const PASS = "nora-secret-1";

  beforeAll(async () => {
    if (process.env.CI === "true" && !libwbxmlAvailable()) throw new Error("libwbxml2-utils (xml2wbxml) is required in CI");
    env = await startEas();
    acct = await createUser(env.srv.store, USER, PASS, { displayName: "Nora North" });
    notes = (await env.srv.store.getFolder(acct.id, "Notes", "notes"))!;
  });
  afterAll(async () => {
    const w = env.libwbxml();
    expect(w.mismatches).toEqual([]);
    if (libwbxmlAvailable()) expect(w.responses).toBeGreaterThan(20);
    await env.close();
  });

  async function device(version: string): Promise<EasClient> {
    const c = env.client({ user: USER, pass: PASS, deviceId: `NOTES${++n}`, version });
    await c.provision();
    expect(kidText((await c.folderSync()).doc!, "FolderHierarchy:Status")).toBe("1");
    return c;
  }
  // the children of AirSync:Options (EasClient.syncDoc wraps them)
  const options = [el("AirSync:Class", "Notes"), el("AirSyncBase:BodyPreference", el("AirSyncBase:Type", "1"), el("AirSyncBase:TruncationSize", "20000"))];

  test("a new account has the default Notes folder; an older account gets one once", async () => {
    expect(notes).toBeTruthy();
    const old = await createUser(env.srv.store, "olden@example.test", "olden-secret-1");
    await env.srv.store.deleteFolder(old.id, "Notes", { itemClass: "notes" });
    expect(await env.srv.store.listFolders(old.id, { itemClass: "notes" })).toEqual([]);
    // a user notes folder is no default: the account still gets "Notes"
    await env.srv.store.createFolder(old.id, "Ideas", { itemClass: "notes" });
    const made = await Promise.all([ensureNotesFolder(env.srv.store, old), ensureNotesFolder(env.srv.store, old)]);
    expect(made[0].id).toBe(made[1].id);
    expect(made[0].name).toBe("Notes");
    expect((await env.srv.store.listFolders(old.id, { itemClass: "notes" })).map((f) => f.name).sort()).toEqual(["Ideas", "Notes"]);
    expect((await ensureNotesFolder(env.srv.store, old)).id).toBe(made[0].id);
    // not a DAV collection
    expect((await env.srv.ctx.groupware.listCollections(old)).map((c) => c.kind).sort()).toEqual(["calendar", "contacts", "tasks"]);
  });

  test("an account without a notes folder gets the default Notes (10) at its first FolderSync", async () => {
    const old = await createUser(env.srv.store, "elder@example.test", "elder-secret-1");
    await env.srv.store.deleteFolder(old.id, "Notes", { itemClass: "notes" });
    const c = env.client({ user: "elder@example.test", pass: "elder-secret-1", deviceId: "NOTESOLD", version: "14.1" });
    await c.provision();
    expect(kidText((await c.folderSync()).doc!, "FolderHierarchy:Status")).toBe("1");
    expect(c.folders.filter((f) => f.type === 10).map((f) => f.displayName)).toEqual(["Notes"]);
    expect((await env.srv.store.listFolders(old.id, { itemClass: "notes" })).map((f) => f.name)).toEqual(["Notes"]);
  });

  for (const version of ["14.1", "16.1"]) {
    test(`${version}: FolderSync lists Notes (10); device Add/Change/Delete and server Change/Delete, Categories, VJOURNAL in the store`, async () => {
      const c = await device(version);
      const f = c.folders.find((x) => x.type === 10);
      expect(f?.displayName).toBe("Notes");
      const coll = f!.serverId;
      expect((await c.sync(coll)).status).toBe("1");
      expect((await c.sync(coll, { options })).status).toBe("1");

      // device Add
      const add = await c.sync(coll, {
        options,
        commands: [el("AirSync:Add", el("AirSync:ClientId", "n1"), noteData({ subject: `Groceries ${version}`, body: "milk\r\nbread", categories: ["Home", "Errands"] }))],
      });
      expect(add.status).toBe("1");
      const resp = kid(kid(add.coll, "AirSync:Responses"), "AirSync:Add");
      expect(kidText(resp, "AirSync:Status")).toBe("1");
      const sid = kidText(resp, "AirSync:ServerId")!;
      expect(sid).toMatch(/^\d+:\d+$/);
      const itemId = Number(sid.split(":")[1]);
      const stored = (await env.srv.store.getItem(itemId))!;
      expect(stored.itemClass).toBe("notes");
      expect(stored.fields).toEqual({ subject: `Groceries ${version}` });
      const body = dec.decode(await env.srv.store.readItemBody(itemId));
      expect(body).toContain("BEGIN:VJOURNAL");
      expect(body).toContain(`SUMMARY:Groceries ${version}`);
      expect(body).toContain("DESCRIPTION:milk\\nbread");
      expect(body).toContain("CATEGORIES:Home,Errands");
      // not echoed back
      expect(commandsOf((await c.sync(coll, { options })).coll).adds).toEqual([]);

      // a server-side change (another client) with a property ActiveSync cannot show
      const changedBody = body.replace(`SUMMARY:Groceries ${version}`, `SUMMARY:Groceries ${version} (edited)`).replace("CATEGORIES:Home,Errands", "CATEGORIES:Home\r\nX-NOTE-COLOR:yellow");
      await env.srv.store.updateItem(itemId, { itemClass: "notes", body: enc.encode(changedBody), fields: noteFieldsOf(enc.encode(changedBody)) });
      const ch = await c.sync(coll, { options });
      const changes = commandsOf(ch.coll).changes;
      expect(changes.map((x) => kidText(x, "AirSync:ServerId"))).toEqual([sid]);
      const data = appData(changes[0])!;
      expect(kidText(data, "Notes:Subject")).toBe(`Groceries ${version} (edited)`);
      expect(kidText(kid(data, "AirSyncBase:Body"), "AirSyncBase:Data")).toBe("milk\nbread");
      expect(kids(kid(data, "Notes:Categories"), "Notes:Category").map(text)).toEqual(["Home"]);
      expect(kidText(data, "Notes:MessageClass")).toBe("IPM.StickyNote");

      // device Change: new text and categories; the X- property survives
      const dc = await c.sync(coll, { options, commands: [el("AirSync:Change", el("AirSync:ServerId", sid), noteData({ subject: "Groceries, final", body: "milk", categories: ["Errands"] }))] });
      expect(dc.status).toBe("1");
      expect(kid(dc.coll, "AirSync:Responses")).toBeUndefined(); // a successful Change has no response (MS-ASCMD §2.2.3.24.1)
      const after = dec.decode(await env.srv.store.readItemBody(itemId));
      expect(after).toContain("SUMMARY:Groceries\\, final");
      expect(after).toContain("DESCRIPTION:milk\r\n");
      expect(after).toContain("CATEGORIES:Errands");
      expect(after).toContain("X-NOTE-COLOR:yellow");
      expect((await env.srv.store.getItem(itemId))!.fields).toEqual({ subject: "Groceries, final" });
      expect(commandsOf((await c.sync(coll, { options })).coll).changes).toEqual([]);

      // a second note from the server, deleted on the server
      const other = await env.srv.store.createItem(notes.id, { itemClass: "notes", body: vjournal({ uid: `srv-${version}`, summary: "From the server" }), fields: { subject: "From the server" } });
      const got = commandsOf((await c.sync(coll, { options })).coll).adds;
      expect(got.map((a) => kidText(appData(a), "Notes:Subject"))).toEqual(["From the server"]);
      await env.srv.store.deleteItem(other.id);
      const del = commandsOf((await c.sync(coll, { options })).coll).deletes;
      expect(del.map((d) => kidText(d, "AirSync:ServerId"))).toEqual([`${coll}:${other.id}`]);

      // device Delete
      const dd = await c.sync(coll, { options, commands: [el("AirSync:Delete", el("AirSync:ServerId", sid))] });
      expect(dd.status).toBe("1");
      expect(await env.srv.store.getItem(itemId)).toBeNull();
      expect(await env.srv.store.listItems(notes.id)).toEqual([]);
    });
  }

  test("malformed notes from the device get Status 6 and nothing is stored; a good one in the same Sync is kept", async () => {
    const c = await device("16.1");
    const coll = c.folderByType(10);
    await c.sync(coll);
    const bad = [
      noteData({ subject: "bad date", lastModified: "20261345T100000Z" }),
      noteData({ subject: "bad class", messageClass: "IPM.Appointment" }),
      noteData({ subject: "rtf", body: "{\\rtf1 x}", bodyType: 3 }),
      noteData({ subject: "cats", categories: Array.from({ length: 301 }, (_, i) => `c${i}`) }),
    ];
    const r = await c.sync(coll, {
      options,
      commands: [...bad.map((d, i) => el("AirSync:Add", el("AirSync:ClientId", `bad${i}`), d)), el("AirSync:Add", el("AirSync:ClientId", "good"), noteData({ subject: "fine" }))],
    });
    expect(r.r.status).toBe(200);
    expect(r.status).toBe("1");
    const res = kids(kid(r.coll, "AirSync:Responses"), "AirSync:Add").map((a) => [kidText(a, "AirSync:ClientId"), kidText(a, "AirSync:Status")]);
    expect(res).toEqual([["bad0", "6"], ["bad1", "6"], ["bad2", "6"], ["bad3", "6"], ["good", "1"]]);
    const left = await env.srv.store.listItems(notes.id);
    expect(left.length).toBe(1);
    expect((await env.srv.store.getItem(left[0].id))!.fields).toEqual({ subject: "fine" });
    // a bad Change leaves the stored note as it was
    const sid = `${coll}:${left[0].id}`;
    const before = await env.srv.store.readItemBody(left[0].id);
    const ch = await c.sync(coll, { options, commands: [el("AirSync:Change", el("AirSync:ServerId", sid), noteData({ subject: "x", lastModified: "2026-02-30T10:00:00.000Z" }))] });
    expect(kidText(kid(kid(ch.coll, "AirSync:Responses"), "AirSync:Change"), "AirSync:Status")).toBe("6");
    expect(Buffer.from(await env.srv.store.readItemBody(left[0].id)).equals(Buffer.from(before))).toBe(true);
    // A FilterType window does not apply to notes (MS-ASCMD FilterType): the device gets every note, not Status 4
    const ft = await c.sync(coll, { options: [el("AirSync:Class", "Notes"), el("AirSync:FilterType", "3")] });
    expect(ft.r.status).toBe(200);
    expect(ft.status).toBe("1");
    expect(kids(kid(ft.coll, "AirSync:Commands"), "AirSync:SoftDelete").length).toBe(0);
    // An unknown FilterType is still a protocol error
    const unknownFilter = await c.sync(coll, { options: [el("AirSync:Class", "Notes"), el("AirSync:FilterType", "9")] });
    expect(unknownFilter.status).toBe("4");
    await env.srv.store.deleteItem(left[0].id);
  });
});
