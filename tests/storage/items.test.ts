/**
 * The generic item model (issue 14 item 4): events, contacts, tasks and notes
 * created, updated and deleted through the store API with their canonical
 * body kept byte for byte and their index rows following every change; the
 * time-range and contact queries; typed properties of every type; class
 * checks both ways; folder name spaces per class, seen through IMAP.
 * Engine-neutral: the store tests run on SQLite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { StoreError, type Folder, type Item, type ItemInput, type ItemProperty } from "../../storage/api.ts";
import { storeEngines } from "../helpers/engines.ts";
import { run } from "../helpers/proc.ts";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { bytes, makeMessage, setupAccount, tempDir, tempStore, type TempStore } from "./helpers.ts";
import { openDb } from "../../storage/db.ts";
import { migrate } from "../../storage/migrate.ts";
import { openStore } from "../../storage/store.ts";
import { passwordHasher } from "../../src/auth.ts";
import { rmSync } from "node:fs";
import { join } from "node:path";

async function expectStoreError(p: Promise<unknown>, code: StoreError["code"]): Promise<StoreError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(StoreError);
    expect((e as StoreError).code).toBe(code);
    return e as StoreError;
  }
  throw new Error(`expected StoreError ${code}`);
}

const H = 3_600_000;
const T0 = Date.UTC(2026, 11, 7, 9, 0, 0); // Monday 7 December 2026 09:00 UTC

/** An iCalendar body with bytes a text round trip would change: CRLF and a bare LF, UTF-8, folded line, trailing spaces. */
function ics(uid: string, summary: string, extra = ""): Uint8Array {
  return bytes(
    `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//items//EN\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nSUMMARY:${summary} – Grüße \r\n` +
      `DESCRIPTION:a long line folded per RFC 5545 §3.1 \r\n continues here\nbare-lf\r\n${extra}END:VEVENT\r\nEND:VCALENDAR\r\n`,
  );
}

function vcard(uid: string, fn: string, emails: string[]): Uint8Array {
  return bytes(`BEGIN:VCARD\r\nVERSION:4.0\r\nUID:${uid}\r\nFN:${fn}\r\n${emails.map((e) => `EMAIL:${e}\r\n`).join("")}END:VCARD\r\n`);
}

function vtodo(uid: string, summary: string): Uint8Array {
  return bytes(`BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTODO\r\nUID:${uid}\r\nSUMMARY:${summary}\r\nEND:VTODO\r\nEND:VCALENDAR\r\n`);
}

function event(uid: string, dtStart: number, dtEnd: number, more: Partial<Extract<ItemInput, { itemClass: "calendar" }>["fields"]> = {}): ItemInput {
  return { itemClass: "calendar", body: ics(uid, more.summary ?? uid), fields: { uid, dtStart, dtEnd, summary: uid, ...more } };
}

const sortedUids = (items: Item[]) => items.map((i) => (i.fields as { uid: string }).uid).sort();

for (const engine of storeEngines()) {
describe(`engine ${engine}`, () => {
  let t: TempStore;
  let accountId: number;
  let inbox: Folder;
  let cal: Folder;
  let contacts: Folder;
  let tasks: Folder;
  let notes: Folder;

  beforeAll(async () => {
    t = await tempStore({ engine, gcGraceMs: 0 });
    const a = await setupAccount(t.store, "items@example.com");
    accountId = a.account.id;
    inbox = a.inbox;
    // every new account has these three (issue 15) and a notes folder (issue 16)
    cal = (await t.store.getFolder(accountId, "Calendar", "calendar"))!;
    contacts = (await t.store.getFolder(accountId, "Contacts", "contacts"))!;
    tasks = (await t.store.getFolder(accountId, "Tasks", "tasks"))!;
    notes = (await t.store.getFolder(accountId, "Notes", "notes"))!;
  });
  afterAll(async () => t.cleanup());

  test("an event: body bytes round-trip exactly, index row follows updates, delete removes it and frees the blob", async () => {
    const s = t.store;
    const usedBefore = (await s.quota(accountId)).usedBytes;
    const body = ics("ev-1@test", "Planning");
    const e = await s.createItem(cal.id, { itemClass: "calendar", body, fields: { uid: "ev-1@test", dtStart: T0, dtEnd: T0 + H, summary: "Planning", location: "Room 1", organizer: "boss@example.com", status: "confirmed", transp: "OPAQUE", sequence: 0 } });
    expect(e.itemClass).toBe("calendar");
    expect(e.folderId).toBe(cal.id);
    expect(e.uid).toBe(1);
    expect(e.size).toBe(body.byteLength);
    expect(e.fields).toEqual({
      uid: "ev-1@test", recurrenceId: null, dtStart: T0, dtEnd: T0 + H, allDay: false, isRecurring: false, rrule: null, lastInstance: null,
      summary: "Planning", location: "Room 1", organizer: "boss@example.com", status: "CONFIRMED", transp: "OPAQUE", sequence: 0,
    });
    expect(Buffer.from(await s.readItemBody(e.id)).equals(Buffer.from(body))).toBe(true);
    expect(await s.getItem(e.id)).toEqual(e);
    expect((await s.quota(accountId)).usedBytes).toBe(usedBefore + body.byteLength);
    expect((await s.listItems(cal.id)).map((i) => i.id)).toEqual([e.id]);
    expect((await s.findCalendarItems({ folderId: cal.id }, { start: T0, end: T0 + 24 * H })).map((i) => i.id)).toEqual([e.id]);

    // update: moved to the afternoon, new body; a stale modseq is refused
    const body2 = ics("ev-1@test", "Planning (moved)", "LOCATION:Room 2\r\n");
    const u = await s.updateItem(e.id, { itemClass: "calendar", body: body2, fields: { uid: "ev-1@test", dtStart: T0 + 5 * H, dtEnd: T0 + 6 * H, summary: "Planning (moved)", location: "Room 2", sequence: 1 } }, { ifModseq: e.modseq });
    expect(u.id).toBe(e.id);
    expect(u.uid).toBe(e.uid);
    expect(u.modseq).toBeGreaterThan(e.modseq);
    expect(u.fields).toMatchObject({ dtStart: T0 + 5 * H, summary: "Planning (moved)", location: "Room 2", sequence: 1, organizer: null });
    expect(Buffer.from(await s.readItemBody(e.id)).equals(Buffer.from(body2))).toBe(true);
    expect(await s.findCalendarItems({ folderId: cal.id }, { start: T0, end: T0 + 2 * H })).toEqual([]);
    expect((await s.findCalendarItems({ folderId: cal.id }, { start: T0 + 5 * H, end: T0 + 5 * H + 1 })).map((i) => i.id)).toEqual([e.id]);
    expect((await s.quota(accountId)).usedBytes).toBe(usedBefore + body2.byteLength);
    await expectStoreError(s.updateItem(e.id, event("ev-1@test", T0, T0 + H), { ifModseq: e.modseq }), "MODIFIED");
    await expectStoreError(s.deleteItem(e.id, { ifModseq: e.modseq }), "MODIFIED");

    // delete: gone from every query, logged for sync, usage back, both blobs collectable
    const oldBlob = e.blobId;
    const newBlob = u.blobId;
    expect(oldBlob).not.toBe(newBlob);
    await s.deleteItem(e.id, { ifModseq: u.modseq });
    expect(await s.getItem(e.id)).toBeNull();
    expect(await s.listItems(cal.id)).toEqual([]);
    expect(await s.findCalendarItems({ accountId }, { start: 0, end: T0 + 1000 * H })).toEqual([]);
    expect((await s.changesSince(cal.id, u.modseq)).expunged).toEqual([u.uid]);
    expect((await s.quota(accountId)).usedBytes).toBe(usedBefore);
    await expectStoreError(s.readItemBody(e.id), "NONEXISTENT");
    await s.collectGarbage({ graceMs: 0 });
    expect(await s.blobs.has(oldBlob)).toBe(false);
    expect(await s.blobs.has(newBlob)).toBe(false);
  });

  test("a contact: create, find by e-mail and name prefix, update, delete; one UID per folder", async () => {
    const s = t.store;
    const body = vcard("c-1", "Ann Smith", ["Ann.Smith@Example.org", "ann@home.example"]);
    const c = await s.createItem(contacts.id, { itemClass: "contacts", body, fields: { uid: "c-1", fullName: "Ann Smith", sortName: "Smith, Ann", emails: ["Ann.Smith@Example.org", "ann@home.example"], phones: ["+1 555 0100"], org: "Acme Ltd" } });
    const other = await s.createItem(contacts.id, { itemClass: "contacts", body: vcard("c-2", "Bob Annand", ["bob@example.org"]), fields: { uid: "c-2", fullName: "Bob Annand", emails: ["bob@example.org"] } });
    expect(c.fields).toEqual({ uid: "c-1", fullName: "Ann Smith", sortName: "Smith, Ann", emails: ["ann.smith@example.org", "ann@home.example"], phones: ["+1 555 0100"], org: "Acme Ltd" });
    expect(Buffer.from(await s.readItemBody(c.id)).equals(Buffer.from(body))).toBe(true);
    const ids = async (p: string) => (await s.findContacts(accountId, p)).map((i) => i.id).sort((a, b) => a - b);
    expect(await ids("ann.sm")).toEqual([c.id]);
    expect(await ids("ANN")).toEqual([c.id, other.id].sort((a, b) => a - b)); // "ann@..." and the word "annand"
    expect(await ids("smi")).toEqual([c.id]);
    expect(await ids("acme")).toEqual([c.id]);
    expect(await ids("bob@")).toEqual([other.id]);
    expect(await ids("zz")).toEqual([]);
    expect(await ids("")).toEqual([]);
    expect(await ids("a".repeat(100_000))).toEqual([]);
    // sorted by sort name: "Bob Annand" before "Smith, Ann"
    expect((await s.findContacts(accountId, "ann", { folderId: contacts.id })).map((i) => i.id)).toEqual([other.id, c.id]);
    expect((await s.findContacts(accountId, "ann", { limit: 1 })).length).toBe(1);
    await expectStoreError(s.createItem(contacts.id, { itemClass: "contacts", body: vcard("c-1", "Dup", []), fields: { uid: "c-1", fullName: "Dup" } }), "ALREADYEXISTS");

    const u = await s.updateItem(c.id, { itemClass: "contacts", body: vcard("c-1", "Ann Jones", ["ann.jones@example.org"]), fields: { uid: "c-1", fullName: "Ann Jones", emails: ["ann.jones@example.org"] } });
    expect((u.fields as { uid: string }).uid).toBe("c-1");
    expect(await ids("ann.sm")).toEqual([]);
    expect(await ids("smi")).toEqual([]);
    expect(await ids("jon")).toEqual([c.id]);
    await s.deleteItem(c.id);
    expect(await ids("jon")).toEqual([]);
    await s.deleteItem(other.id);
    expect(await s.listItems(contacts.id)).toEqual([]);
  });

  test("a task and a note: create, update, delete; fields checked", async () => {
    const s = t.store;
    const task = await s.createItem(tasks.id, { itemClass: "tasks", body: vtodo("t-1", "File taxes"), fields: { uid: "t-1", summary: "File taxes", due: T0 + 48 * H, priority: 1, status: "needs-action" } });
    expect(task.fields).toEqual({ uid: "t-1", summary: "File taxes", due: T0 + 48 * H, start: null, completed: null, status: "NEEDS-ACTION", priority: 1, isRecurring: false });
    const done = await s.updateItem(task.id, { itemClass: "tasks", body: vtodo("t-1", "File taxes"), fields: { uid: "t-1", summary: "File taxes", due: T0 + 48 * H, completed: T0 + 47 * H, status: "COMPLETED", priority: 1 } });
    expect(done.fields).toMatchObject({ status: "COMPLETED", completed: T0 + 47 * H });
    expect((await s.getItem(task.id))?.fields).toEqual(done.fields);
    await expectStoreError(s.updateItem(task.id, { itemClass: "tasks", body: vtodo("t-1", "x"), fields: { uid: "t-1", priority: 10 } }), "INVALID");
    await expectStoreError(s.updateItem(task.id, { itemClass: "tasks", body: vtodo("t-1", "x"), fields: { uid: "t-1", status: "DONE" } }), "INVALID");
    await s.deleteItem(task.id);
    expect(await s.getItem(task.id)).toBeNull();

    const noteBody = bytes("Subject: Shopping\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nmilk\r\neggs\r\n");
    const note = await s.createItem(notes.id, { itemClass: "notes", body: noteBody, fields: { subject: "Shopping" } });
    expect(note.fields).toEqual({ subject: "Shopping" });
    expect(Buffer.from(await s.readItemBody(note.id)).equals(Buffer.from(noteBody))).toBe(true);
    await s.deleteItem(note.id);

    // bad input: clear errors, nothing written
    const before = (await s.listItems(cal.id)).length;
    await expectStoreError(s.createItem(cal.id, event("bad", T0 + H, T0)), "INVALID"); // ends before it starts
    await expectStoreError(s.createItem(cal.id, event("bad", T0, T0 + H, { lastInstance: T0 + 9 * H })), "INVALID"); // not recurring
    await expectStoreError(s.createItem(cal.id, event("", T0, T0 + H)), "INVALID");
    await expectStoreError(s.createItem(cal.id, event("bad", 1e300, 1e300)), "INVALID");
    await expectStoreError(s.createItem(cal.id, { itemClass: "calendar", body: vcard("x", "x", []), fields: { uid: "x", dtStart: T0, dtEnd: T0 } }), "INVALID");
    await expectStoreError(s.createItem(cal.id, { itemClass: "calendar", body: new Uint8Array(0), fields: { uid: "x", dtStart: T0, dtEnd: T0 } }), "INVALID");
    await expectStoreError(s.createItem(notes.id, { itemClass: "notes", body: bytes("just text, no header\r\n"), fields: {} }), "INVALID");
    await expectStoreError(s.createItem(999_999, event("x", T0, T0 + H)), "NONEXISTENT");
    expect((await s.listItems(cal.id)).length).toBe(before);
  });

  test("time-range query: single, instant, all-day, recurring bounded and unbounded, overridden instance; per folder and per account", async () => {
    const s = t.store;
    const cal2 = await s.createFolder(accountId, "Work", { itemClass: "calendar" });
    const D = 24 * H;
    await s.createItem(cal.id, event("single", T0, T0 + H)); // Mon 09-10
    await s.createItem(cal.id, event("instant", T0 + 3 * H, T0 + 3 * H)); // Mon 12:00, no duration
    await s.createItem(cal.id, event("allday", T0 - 9 * H + D, T0 - 9 * H + 2 * D, { allDay: true })); // Tue
    await s.createItem(cal.id, event("weekly", T0 - 7 * D, T0 - 7 * D + H, { isRecurring: true, rrule: "FREQ=WEEKLY;COUNT=3", lastInstance: T0 + 7 * D })); // until next Mon
    await s.createItem(cal.id, event("weekly", T0 + 2 * H, T0 + 3 * H, { recurrenceId: T0 })); // today's instance moved to 11-12
    await s.createItem(cal2.id, event("daily", T0 - 30 * D, T0 - 30 * D + H, { isRecurring: true, rrule: "FREQ=DAILY" })); // unbounded
    await s.createItem(cal2.id, event("old", T0 - 10 * D, T0 - 10 * D + H));
    await expectStoreError(s.createItem(cal.id, event("weekly", T0, T0 + H, { recurrenceId: T0 })), "ALREADYEXISTS");

    const q = async (scope: { folderId: number } | { accountId: number }, start: number, end: number) => sortedUids(await s.findCalendarItems(scope, { start, end }));
    expect(await q({ folderId: cal.id }, T0, T0 + H)).toEqual(["single", "weekly"]);
    expect(await q({ folderId: cal.id }, T0 + H, T0 + 2 * H)).toEqual(["weekly"]); // the series may have an instance; "single" ended at T0+H
    expect(await q({ folderId: cal.id }, T0 + 3 * H, T0 + 3 * H + 1)).toEqual(["instant", "weekly"]);
    expect(await q({ folderId: cal.id }, T0 + 2 * H, T0 + 3 * H)).toEqual(["weekly", "weekly"]); // master and the override
    expect(await q({ folderId: cal.id }, T0 + D, T0 + D + H)).toEqual(["allday", "weekly"]);
    expect(await q({ folderId: cal.id }, T0 + 8 * D, T0 + 9 * D)).toEqual([]); // after the last weekly instance
    expect(await q({ folderId: cal2.id }, T0 + 100 * D, T0 + 101 * D)).toEqual(["daily"]);
    expect(await q({ accountId }, T0 - 10 * D, T0 - 10 * D + 1)).toEqual(["daily", "old"]); // "weekly" starts 3 days later
    expect(await q({ accountId }, T0 - 7 * D, T0 - 7 * D + 1)).toEqual(["daily", "weekly"]);
    expect(await q({ accountId }, T0 - 40 * D, T0 - 35 * D)).toEqual([]);
    const ordered = await s.findCalendarItems({ folderId: cal.id }, { start: T0 - 100 * D, end: T0 + 100 * D });
    const starts = ordered.map((i) => (i.fields as { dtStart: number }).dtStart);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    await expectStoreError(s.findCalendarItems({ folderId: cal.id }, { start: 10, end: 5 }), "INVALID");
  });

  test("typed properties of every type on items and folders, multi-valued and binary; replaced per key; deleted with the owner", async () => {
    const s = t.store;
    const e = await s.createItem(cal.id, event("props", T0, T0 + H));
    const PS = "00020329-0000-0000-C000-000000000046"; // PS_PUBLIC_STRINGS
    const bin = new Uint8Array([0, 1, 2, 0xff, 0xfe, 0x80, 0]);
    const props: ItemProperty[] = [
      { key: { tag: 0x0e07 }, type: "int", value: 2 ** 40 + 1 },
      { key: { tag: 0x0e1b }, type: "bool", value: true },
      { key: { tag: 0x1000 }, type: "string", value: "Grüße \u{1F600}" },
      { key: { tag: 0x0ff9 }, type: "binary", value: bin },
      { key: { tag: 0x3007 }, type: "time", value: T0 },
      { key: { set: PS, name: "Keywords" }, type: "string", multi: true, value: ["b", "a", "b"] },
      { key: { set: PS, name: "Scores" }, type: "real", multi: true, value: [1.5, -2.25] },
      { key: { set: PS, name: "Empty" }, type: "int", multi: true, value: [] },
      { key: { set: PS, lid: 0x8501 }, type: "int", value: -15 },
      { key: { set: PS, lid: 0x8502 }, type: "guid", value: "6ED8DA90-450B-101B-98DA-00AA003F1305" },
      { key: { set: PS, lid: 0x8503 }, type: "binary", multi: true, value: [bin, new Uint8Array(0)] },
      { key: { set: PS, lid: 0x8504 }, type: "bool", multi: true, value: [false, true] },
      { key: { set: PS, lid: 0x8505 }, type: "time", multi: true, value: [T0, T0 + H] },
      { key: { set: PS, lid: 0x8506 }, type: "guid", multi: true, value: [PS] },
    ];
    await s.setProperties({ itemId: e.id }, props);
    const got = await s.getProperties({ itemId: e.id });
    const norm = (list: ItemProperty[]) =>
      list
        .map((p) => JSON.stringify(p, (_k, v) => (v instanceof Uint8Array ? { bytes: [...v] } : typeof v === "string" && /^[0-9A-F-]{36}$/.test(v) ? v.toLowerCase() : v)))
        .sort();
    expect(norm(got)).toEqual(norm(props));
    const b = got.find((p) => "tag" in p.key && p.key.tag === 0x0ff9)!;
    expect(b.value).toBeInstanceOf(Uint8Array);
    expect([...(b.value as Uint8Array)]).toEqual([...bin]);
    const after = (await s.getItem(e.id))!;
    expect(after.modseq).toBeGreaterThan(e.modseq); // a property change is an item change

    // one key replaced (values and type), another deleted
    await s.setProperties({ itemId: e.id }, [{ key: { set: PS.toLowerCase(), name: "Keywords" }, type: "string", value: "only" }]);
    expect(await s.deleteProperties({ itemId: e.id }, [{ tag: 0x0e07 }, { tag: 0x0e08 }])).toBe(1);
    const now = await s.getProperties({ itemId: e.id });
    expect(now.length).toBe(props.length - 1);
    expect(now.find((p) => "name" in p.key && p.key.name === "Keywords")).toEqual({ key: { set: PS.toLowerCase(), name: "Keywords" }, type: "string", value: "only" });
    // properties also come with createItem/updateItem
    const e2 = await s.createItem(cal.id, { ...event("props2", T0, T0 + H), properties: [{ key: { tag: 0x1001 }, type: "string", value: "x" }] } as ItemInput);
    expect(await s.getProperties({ itemId: e2.id })).toEqual([{ key: { tag: 0x1001 }, type: "string", value: "x" }]);

    // folders and mail items have properties too
    await s.setProperties({ folderId: cal.id }, [{ key: { tag: 0x3613 }, type: "string", value: "IPF.Appointment" }]);
    expect(await s.getProperties({ folderId: cal.id })).toEqual([{ key: { tag: 0x3613 }, type: "string", value: "IPF.Appointment" }]);
    const [m] = await s.append(inbox.id, [{ raw: makeMessage({ subject: "with props" }) }]);
    await s.setProperties({ itemId: m.id }, [{ key: { tag: 0x0037 }, type: "string", value: "subject" }]);
    expect((await s.listMessages(inbox.id)).find((x) => x.id === m.id)!.modseq).toBeGreaterThan(m.modseq);

    // bad input is refused before anything is written
    await expectStoreError(s.setProperties({ itemId: e.id }, [{ key: { tag: 0 }, type: "int", value: 1 }]), "INVALID");
    await expectStoreError(s.setProperties({ itemId: e.id }, [{ key: { set: "not-a-guid", name: "x" }, type: "int", value: 1 }]), "INVALID");
    await expectStoreError(s.setProperties({ itemId: e.id }, [{ key: { tag: 1 }, type: "int", value: 1.5 }]), "INVALID");
    await expectStoreError(s.setProperties({ itemId: e.id }, [{ key: { tag: 1 }, type: "binary", value: "text" as unknown as Uint8Array }]), "INVALID");
    await expectStoreError(s.setProperties({ itemId: e.id }, [{ key: { tag: 1 }, type: "real", multi: true, value: [1, Number.NaN] }]), "INVALID");
    await expectStoreError(s.setProperties({ itemId: 999_999 }, [{ key: { tag: 1 }, type: "int", value: 1 }]), "NONEXISTENT");
    expect((await s.getProperties({ itemId: e.id })).length).toBe(props.length - 1);

    // deleting the owner deletes its properties (items, folders, mail expunge)
    // (rows, one per value: portable SQL, the same on both engines)
    const count = async () => Number((await t.store.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM item_properties"))!.n);
    expect(await count()).toBeGreaterThan(props.length);
    await s.deleteItem(e.id);
    await s.deleteItem(e2.id);
    await s.expunge(inbox.id, [m.uid]);
    expect(await count()).toBe(1); // the calendar folder's own
    const tmp = await s.createFolder(accountId, "Temp", { itemClass: "calendar" });
    await s.setProperties({ folderId: tmp.id }, [{ key: { tag: 0x3613 }, type: "string", value: "IPF.Appointment" }]);
    expect(await count()).toBe(2);
    await s.deleteFolder(accountId, "Temp", { itemClass: "calendar" });
    expect(await count()).toBe(1);
  });

  test("class mismatches are refused both ways with WRONG_CLASS; deliver never puts mail into a calendar", async () => {
    const s = t.store;
    const before = (await s.listItems(cal.id)).length;
    await expectStoreError(s.createItem(inbox.id, event("in-inbox", T0, T0 + H)), "WRONG_CLASS");
    await expectStoreError(s.createItem(cal.id, { itemClass: "contacts", body: vcard("x", "X", []), fields: { uid: "x" } }), "WRONG_CLASS");
    await expectStoreError(s.createItem(cal.id, { itemClass: "mail", body: makeMessage(), fields: {} } as unknown as ItemInput), "WRONG_CLASS");
    const err = await expectStoreError(s.append(cal.id, [{ raw: makeMessage({ subject: "into a calendar" }) }]), "WRONG_CLASS");
    expect(err.message).toContain("calendar");
    const [m] = await s.append(inbox.id, [{ raw: makeMessage({ subject: "stays mail" }) }]);
    await expectStoreError(s.copy(inbox.id, [m.uid], cal.id), "WRONG_CLASS");
    await expectStoreError(s.move(inbox.id, [m.uid], cal.id), "WRONG_CLASS");
    const e = await s.createItem(cal.id, event("mover", T0, T0 + H));
    await expectStoreError(s.move(cal.id, [e.uid], inbox.id), "WRONG_CLASS");
    await expectStoreError(s.moveItem(e.id, inbox.id), "WRONG_CLASS");
    await expectStoreError(s.moveItem(e.id, tasks.id), "WRONG_CLASS");
    await expectStoreError(s.updateItem(e.id, { itemClass: "tasks", body: vtodo("mover", "x"), fields: { uid: "mover" } }), "WRONG_CLASS");
    await expectStoreError(s.deleteItem(m.id), "WRONG_CLASS");
    await expectStoreError(s.listItems(inbox.id), "WRONG_CLASS");
    expect(await s.getItem(m.id)).toBeNull(); // a mail item is read with getMessageById

    // deliver to "Calendar": only a calendar has that name, so the message goes to INBOX
    const [d] = await s.deliver(makeMessage({ subject: "delivered" }), [{ accountId, folder: "Calendar" }]);
    expect(d.folderId).toBe(inbox.id);
    expect((await s.listItems(cal.id)).length).toBe(before + 1); // just "mover"
    expect((await s.listMessages(cal.id)).length).toBe(before + 1);

    // moveItem within the class: same id, new UID in the destination, the source logs the removal
    const other = await s.createFolder(accountId, "Other calendar", { itemClass: "calendar" });
    const moved = await s.moveItem(e.id, other.id);
    expect(moved.id).toBe(e.id);
    expect(moved.folderId).toBe(other.id);
    expect(moved.uid).toBe(1);
    expect((await s.changesSince(cal.id, e.modseq)).expunged).toEqual([e.uid]);
    expect((await s.findCalendarItems({ folderId: other.id }, { start: T0, end: T0 + H })).map((i) => i.id)).toEqual([e.id]);
    expect(await s.findCalendarItems({ folderId: cal.id }, { start: T0, end: T0 + H }).then((l) => l.map((i) => i.id))).not.toContain(e.id);
  });

  test("folder names: each class has its own name space; a mail lookup never finds a calendar", async () => {
    const s = t.store;
    // "Calendar" (calendar) exists; IMAP-side code can create a mail "Calendar" beside it
    expect(await s.getFolder(accountId, "Calendar")).toBeNull();
    const mailCal = await s.createFolder(accountId, "Calendar");
    expect(mailCal.itemClass).toBe("mail");
    expect(mailCal.id).not.toBe(cal.id);
    expect((await s.getFolder(accountId, "Calendar"))?.id).toBe(mailCal.id);
    expect((await s.getFolder(accountId, "Calendar", "calendar"))?.id).toBe(cal.id);
    expect((await s.getFolder(accountId, "Calendar", "calendar"))?.name).toBe("Calendar");
    expect(await s.getFolderById(cal.id, "mail")).toBeNull();
    expect((await s.getFolderById(cal.id, "calendar"))?.id).toBe(cal.id);
    expect((await s.getFolderById(cal.id))?.itemClass).toBe("calendar");
    const dup = await expectStoreError(s.createFolder(accountId, "Calendar", { itemClass: "calendar" }), "ALREADYEXISTS");
    expect(dup.message).toBe("folder exists: Calendar"); // the name as shown, never the stored prefix
    const mailNames = (await s.listFolders(accountId, { itemClass: "mail" })).map((f) => f.name);
    expect(mailNames.filter((n) => n === "Calendar")).toEqual(["Calendar"]);
    expect(mailNames).not.toContain("Contacts");
    expect((await s.listFolders(accountId, { itemClass: "calendar" })).map((f) => f.name).sort()).toEqual(["Calendar", "Other calendar", "Work"]);
    expect((await s.listFolders(accountId)).filter((f) => f.name === "Calendar").length).toBe(2);

    // a nested calendar gets calendar parents, not mail ones
    const nested = await s.createFolder(accountId, "Team/Shared", { itemClass: "calendar" });
    const parent = await s.getFolder(accountId, "Team", "calendar");
    expect(parent?.itemClass).toBe("calendar");
    expect(nested.parentId).toBe(parent!.id);
    expect(await s.getFolder(accountId, "Team")).toBeNull();
    // rename and delete stay within the class
    await s.renameFolder(accountId, "Team", "Teams", { itemClass: "calendar" });
    expect((await s.getFolder(accountId, "Teams/Shared", "calendar"))?.id).toBe(nested.id);
    await expectStoreError(s.deleteFolder(accountId, "Teams/Shared"), "NONEXISTENT");
    await s.deleteFolder(accountId, "Teams/Shared", { itemClass: "calendar" });
    await s.deleteFolder(accountId, "Teams", { itemClass: "calendar" });
    // the mail "Calendar" goes away alone
    await s.deleteFolder(accountId, "Calendar");
    expect((await s.getFolder(accountId, "Calendar", "calendar"))?.id).toBe(cal.id);
  });

  test("the account change feed reports item creations, changes, moves and deletions in order", async () => {
    const s = t.store;
    const feed = async (since: number) => {
      const r = await s.accountChanges(accountId, since);
      if (r.status !== "ok") throw new Error("feed too old");
      return r;
    };
    const m0 = (await feed(0)).highestModseq;
    const e = await s.createItem(cal.id, event("feed-ev", T0, T0 + H));
    const k = await s.createItem(contacts.id, { itemClass: "contacts", body: vcard("feed-c", "Feed", []), fields: { uid: "feed-c", fullName: "Feed" } });
    const r1 = await feed(m0);
    expect(r1.items.map((i) => [i.kind, i.itemId, i.itemClass])).toEqual([["created", e.id, "calendar"], ["created", k.id, "contacts"]]);
    expect(r1.items.map((i) => i.modseq)).toEqual([e.modseq, k.modseq]);
    const m1 = r1.highestModseq;
    const u = await s.updateItem(e.id, event("feed-ev", T0 + H, T0 + 2 * H));
    await s.deleteItem(k.id);
    const other = (await s.getFolder(accountId, "Work", "calendar"))!;
    const moved = await s.moveItem(e.id, other.id);
    const r2 = await feed(m1);
    expect(r2.items.map((i) => [i.kind, i.itemId, i.folderId])).toEqual([
      ["deleted", k.id, contacts.id],
      ["deleted", e.id, cal.id],
      ["created", e.id, other.id],
    ]);
    expect(r2.items.at(-1)!.uid).toBe(moved.uid);
    expect(u.modseq).toBeGreaterThan(m1);
    const r3 = await feed(u.modseq - 1);
    expect(r3.items.map((i) => i.kind)).toEqual(["deleted", "deleted", "created"]);
    const onlyCal = await s.accountChanges(accountId, m0, { itemClass: "calendar" });
    expect(onlyCal.status === "ok" && onlyCal.items.every((i) => i.itemClass === "calendar")).toBe(true);
  });

  test("items survive a restart", async () => {
    const ev = await t.store.createItem(cal.id, event("durable", T0 + 200 * H, T0 + 201 * H));
    const body = await t.store.readItemBody(ev.id);
    const s = await t.reopen();
    expect(await s.getItem(ev.id)).toEqual(ev);
    expect(Buffer.from(await s.readItemBody(ev.id)).equals(Buffer.from(body))).toBe(true);
    expect((await s.findCalendarItems({ folderId: cal.id }, { start: T0 + 200 * H, end: T0 + 200 * H + 1 })).map((i) => i.id)).toEqual([ev.id]);
    const next = await s.createItem(cal.id, event("after-restart", T0, T0 + H));
    expect(next.uid).toBeGreaterThan(ev.uid);
    expect(next.id).toBeGreaterThan(ev.id);
  });
});
}

test("migration 0030 moves an older database's non-mail folders into their class's name space", async () => {
  const dir = tempDir();
  try {
    const url = `file:${join(dir, "old.db")}`;
    const db = await openDb({ url });
    await migrate(db, { upTo: 29 });
    await db.write(async (tx) => {
      await tx.run("INSERT INTO domains (name, created_at) VALUES ('old.example', 1)");
      await tx.run("INSERT INTO accounts (email, domain_id, password_hash, created_at) VALUES ('u@old.example', 1, 'x', 1)");
      await tx.run("INSERT INTO folders (account_id, name, uidvalidity, created_at) VALUES (1, 'INBOX', 7, 1)");
      await tx.run("INSERT INTO folders (account_id, name, item_class, uidvalidity, created_at) VALUES (1, 'Birthdays', 'calendar', 8, 1)");
    });
    await db.close();
    const store = await openStore({ hasher: passwordHasher, url, dataDir: dir, gcIntervalMs: 0 });
    try {
      const acct = (await store.getAccount("u@old.example"))!;
      expect(await store.getFolder(acct.id, "Birthdays")).toBeNull();
      const f = (await store.getFolder(acct.id, "Birthdays", "calendar"))!;
      expect([f.name, f.itemClass, f.uidValidity]).toEqual(["Birthdays", "calendar", 8]);
      expect((await store.createFolder(acct.id, "Birthdays")).itemClass).toBe("mail");
      expect((await store.listFolders(acct.id)).map((x) => `${x.itemClass}:${x.name}`).sort()).toEqual(["calendar:Birthdays", "mail:Birthdays", "mail:INBOX"]);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("migration 0032 gives events stored before it their span end: the time-range query finds them as before", async () => {
  const dir = tempDir();
  try {
    const url = `file:${join(dir, "old.db")}`;
    const db = await openDb({ url });
    await migrate(db, { upTo: 31 });
    const D = 24 * H;
    await db.write(async (tx) => {
      await tx.run("INSERT INTO domains (name, created_at) VALUES ('old.example', 1)");
      await tx.run("INSERT INTO accounts (email, domain_id, password_hash, created_at) VALUES ('u@old.example', 1, 'x', 1)");
      await tx.run("INSERT INTO folders (account_id, name, item_class, uidvalidity, uidnext, created_at) VALUES (1, ?, 'calendar', 8, 4, 1)", ["\x01calendar\x01Cal"]);
      const rows: [number, string, number, number, number, number | null][] = [
        [1, "single", T0, T0 + H, 0, null],
        [2, "bounded", T0 - 30 * D, T0 - 30 * D + H, 1, T0 - D],
        [3, "unbounded", T0 - 30 * D, T0 - 30 * D + H, 1, null],
      ];
      for (const [uid, name, s0, e0, rec, last] of rows) {
        const r = await tx.get<{ id: number }>(
          "INSERT INTO items (account_id, folder_id, uid, modseq, internal_date, size, blob_id, envelope, mime, thread_id, created_at) VALUES (1, 1, ?, 2, 1, 10, 'none', '{}', '{}', 0, 1) RETURNING id",
          [uid],
        );
        await tx.run("INSERT INTO calendar_items (item_id, account_id, folder_id, uid, dtstart_utc, dtend_utc, is_recurring, last_instance_utc) VALUES (?, 1, 1, ?, ?, ?, ?, ?)", [r!.id, name, s0, e0, rec, last]);
      }
    });
    await db.close();
    const store = await openStore({ hasher: passwordHasher, url, dataDir: dir, gcIntervalMs: 0 });
    try {
      const q = async (start: number, end: number) => sortedUids(await store.findCalendarItems({ accountId: 1 }, { start, end }));
      expect(await q(T0, T0 + H)).toEqual(["single", "unbounded"]);
      expect(await q(T0 - D, T0 - D + 1)).toEqual(["bounded", "unbounded"]);
      expect(await q(T0 - 40 * D, T0 - 39 * D)).toEqual([]);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe("IMAP sees only mail folders (python3 imaplib)", () => {
  let srv: TestServer;
  let accountId: number;
  const USER = "cal@example.com";
  const PASS = "imap-pass-1";

  beforeAll(async () => {
    srv = await startTestServer({ listeners: ["IMAP"] });
    accountId = (await createUser(srv.store, USER, PASS)).id;
    const cal = (await srv.store.getFolder(accountId, "Calendar", "calendar"))!;
    await srv.store.createItem(cal.id, event("imap-ev", T0, T0 + H));
  });
  afterAll(async () => srv?.close());

  test("APPEND to a calendar's name gives NO; CREATE makes a mail Calendar beside it; LIST shows only the mail one", async () => {
    const py = `
import imaplib
m = imaplib.IMAP4("127.0.0.1", ${srv.port("IMAP")})
m.login(${JSON.stringify(USER)}, ${JSON.stringify(PASS)})
def names():
    typ, data = m.list()
    return sorted(d.decode().rsplit(' "/" ', 1)[1].strip('"') for d in data)
print("LIST1", names())
msg = b"From: a@example.net\\r\\nSubject: into the calendar\\r\\n\\r\\nbody\\r\\n"
typ, data = m.append("Calendar", None, None, msg)
print("APPEND1", typ, data[0].decode())
typ, data = m.select("Calendar")
print("SELECT1", typ)
typ, data = m.create("Calendar")
print("CREATE", typ)
print("LIST2", names())
typ, data = m.append("Calendar", None, None, msg)
print("APPEND2", typ)
typ, data = m.select("Calendar")
print("SELECT2", typ, data[0].decode())
m.logout()
`;
    const r = await run("python3", ["-c", py], { timeoutMs: 30_000 });
    expect(r.stderr).toBe("");
    const line = (k: string) => r.stdout.split("\n").find((l) => l.startsWith(k + " ")) ?? "";
    expect(line("LIST1")).toBe("LIST1 ['Archive', 'Drafts', 'INBOX', 'Junk', 'Sent', 'Trash']");
    expect(line("APPEND1")).toMatch(/^APPEND1 NO \[TRYCREATE\]/);
    expect(line("SELECT1")).toBe("SELECT1 NO");
    expect(line("CREATE")).toBe("CREATE OK");
    expect(line("LIST2")).toBe("LIST2 ['Archive', 'Calendar', 'Drafts', 'INBOX', 'Junk', 'Sent', 'Trash']");
    expect(line("APPEND2")).toBe("APPEND2 OK");
    expect(line("SELECT2")).toBe("SELECT2 OK 1");
    // the calendar kept its one event; the message is in the mail folder
    const cal = (await srv.store.getFolder(accountId, "Calendar", "calendar"))!;
    expect((await srv.store.listItems(cal.id)).map((i) => (i.fields as { uid: string }).uid)).toEqual(["imap-ev"]);
    const mailCal = (await srv.store.getFolder(accountId, "Calendar"))!;
    expect(mailCal.itemClass).toBe("mail");
    expect((await srv.store.listMessages(mailCal.id)).length).toBe(1);
  }, 60_000);
});
