/**
 * What issue 15 adds to the item model's store (migration 0034): DAV
 * resource names (unique per folder, kept across updates and moves, looked
 * up one at a time and many at once), UID lookups by folder and by account,
 * the names of removed items in the change feed, a home's folders with
 * their properties in one query, the calendar span an expanded object gives,
 * and the default calendar, address book and task list of a new account.
 * On both engines; the index use is checked on SQLite's query plans.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { StoreError, type Folder, type Item, type ItemInput } from "../../storage/api.ts";
import { openDb } from "../../storage/db.ts";
import { migrate } from "../../storage/migrate.ts";
import { openStore } from "../../storage/store.ts";
import { passwordHasher } from "../../src/auth.ts";
import { storeEngines } from "../helpers/engines.ts";
import { bytes, setupAccount, tempDir, tempStore, type TempStore } from "./helpers.ts";

const H = 3_600_000;
const D = 24 * H;
const T0 = Date.UTC(2026, 11, 7, 9, 0, 0);

async function storeError(p: Promise<unknown>, code: StoreError["code"]): Promise<StoreError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(StoreError);
    expect((e as StoreError).code).toBe(code);
    return e as StoreError;
  }
  throw new Error(`expected StoreError ${code}`);
}

const ics = (uid: string) => bytes(`BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nDTSTART:20261207T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`);
const vcf = (uid: string) => bytes(`BEGIN:VCARD\r\nVERSION:4.0\r\nUID:${uid}\r\nFN:${uid}\r\nEND:VCARD\r\n`);
const event = (uid: string, more: Partial<Extract<ItemInput, { itemClass: "calendar" }>> = {}): ItemInput => ({
  itemClass: "calendar",
  body: ics(uid),
  fields: { uid, dtStart: T0, dtEnd: T0 + H },
  ...more,
});
const names = (items: Item[]) => items.map((i) => i.resourceName).sort();

for (const engine of storeEngines()) {
  describe(`engine ${engine}`, () => {
    let t: TempStore;
    let accountId: number;
    let cal: Folder;
    let work: Folder;
    let contacts: Folder;
    let notes: Folder;

    beforeAll(async () => {
      t = await tempStore({ engine, gcGraceMs: 0 });
      accountId = (await setupAccount(t.store, "dav@example.com")).account.id;
      cal = (await t.store.getFolder(accountId, "Calendar", "calendar"))!;
      contacts = (await t.store.getFolder(accountId, "Contacts", "contacts"))!;
      work = await t.store.createFolder(accountId, "Work", { itemClass: "calendar" });
      notes = (await t.store.getFolder(accountId, "Notes", "notes"))!;
    });
    afterAll(async () => t.cleanup());

    test("a new account has a calendar, an address book and a task list", async () => {
      const all = await t.store.listFolders(accountId);
      expect(all.filter((f) => f.itemClass === "calendar").map((f) => f.name)).toContain("Calendar");
      expect(all.filter((f) => f.itemClass === "contacts").map((f) => f.name)).toEqual(["Contacts"]);
      expect(all.filter((f) => f.itemClass === "tasks").map((f) => f.name)).toEqual(["Tasks"]);
      expect(all.filter((f) => f.itemClass === "notes").map((f) => f.name)).toEqual(["Notes"]);
      // mail clients see none of them
      expect((await t.store.listFolders(accountId, { itemClass: "mail" })).map((f) => f.name)).not.toContain("Calendar");
    });

    test("resource names: given, defaulted from the UID, unique per folder, kept by updates, renamed on request", async () => {
      const a = await t.store.createItem(cal.id, event("uid-a", { resourceName: "A event.ics" }));
      expect(a.resourceName).toBe("A event.ics");
      // the default: the UID made URL-safe plus .ics
      const b = await t.store.createItem(cal.id, event("b/with spaces?x"));
      expect(b.resourceName).toBe("b_with_spaces_x.ics");
      // a default that is taken gets the item id appended; a given name that is taken is refused
      const c = await t.store.createItem(cal.id, event("b_with spaces?x"));
      expect(c.resourceName).toBe(`b_with_spaces_x-${c.id}.ics`);
      await storeError(t.store.createItem(cal.id, event("uid-d", { resourceName: "A event.ics" })), "ALREADYEXISTS");
      // the same name in another folder is fine
      expect((await t.store.createItem(work.id, event("uid-a", { resourceName: "A event.ics" }))).resourceName).toBe("A event.ics");
      // updates keep the name unless one is given
      const a2 = await t.store.updateItem(a.id, { ...event("uid-a"), body: ics("uid-a") });
      expect(a2.resourceName).toBe("A event.ics");
      expect(a2.modseq).toBeGreaterThan(a.modseq);
      await storeError(t.store.updateItem(a.id, event("uid-a", { resourceName: "b_with_spaces_x.ics" })), "ALREADYEXISTS");
      const a3 = await t.store.updateItem(a.id, event("uid-a", { resourceName: "renamed.ics" }));
      expect(a3.resourceName).toBe("renamed.ics");
      expect(await t.store.getItemByResourceName(cal.id, "A event.ics")).toBeNull();
      expect((await t.store.getItemByResourceName(cal.id, "renamed.ics"))?.id).toBe(a.id);
      // names that cannot be a URL segment, and names for classes without them
      for (const bad of ["", ".", "..", "a/b", "tab\there", "x".repeat(256)]) await storeError(t.store.createItem(cal.id, event(`bad-${bad.length}`, { resourceName: bad })), "INVALID");
      await storeError(t.store.createItem(notes.id, { itemClass: "notes", body: bytes("Subject: n\r\n\r\nbody"), fields: { subject: "n" }, resourceName: "n.txt" }), "INVALID");
      const note = await t.store.createItem(notes.id, { itemClass: "notes", body: bytes("Subject: n\r\n\r\nbody"), fields: { subject: "n" } });
      expect(note.resourceName).toBeNull();
      // contacts default to .vcf
      expect((await t.store.createItem(contacts.id, { itemClass: "contacts", body: vcf("card-1"), fields: { uid: "card-1", fullName: "Card" } })).resourceName).toBe("card-1.vcf");
    });

    test("lookups: by name, many names in one call, by UID in a folder and in an account", async () => {
      const x = await t.store.createItem(cal.id, event("uid-x", { resourceName: "x.ics" }));
      const y = await t.store.createItem(cal.id, event("uid-y", { resourceName: "y.ics" }));
      expect(names(await t.store.getItemsByResourceNames(cal.id, ["y.ics", "x.ics", "missing.ics", "x.ics", ""]))).toEqual(["x.ics", "y.ics"]);
      expect(await t.store.getItemsByResourceNames(cal.id, [])).toEqual([]);
      await storeError(t.store.getItemsByResourceNames(cal.id, Array.from({ length: 10_001 }, (_, i) => `${i}.ics`)), "LIMIT");
      expect((await t.store.findItemByUid(cal.id, "uid-y"))?.id).toBe(y.id);
      expect(await t.store.findItemByUid(work.id, "uid-y")).toBeNull();
      // the same UID in two calendars of the account: both, lowest folder first
      const x2 = await t.store.createItem(work.id, event("uid-x"));
      expect((await t.store.findItemsByUid({ accountId, itemClass: "calendar" }, "uid-x")).map((i) => i.id)).toEqual([x.id, x2.id]);
      expect((await t.store.findItemByUid({ accountId, itemClass: "calendar" }, "uid-x"))?.id).toBe(x.id);
      expect(await t.store.findItemByUid({ accountId, itemClass: "contacts" }, "uid-x")).toBeNull();
      expect((await t.store.getItems([y.id, 999_999, x.id])).map((i) => i.id)).toEqual([y.id, x.id]);
      // the store still refuses a second item of one UID in a folder (RFC 4791 §5.3.2.1)
      await storeError(t.store.createItem(cal.id, event("uid-x", { resourceName: "other.ics" })), "ALREADYEXISTS");
    });

    test("moves keep the name unless it is taken; the change feed names removed items", async () => {
      const m = await t.store.createItem(cal.id, event("uid-move", { resourceName: "move.ics" }));
      await t.store.createItem(work.id, event("uid-there", { resourceName: "taken.ics" }));
      const before = (await t.store.accountChanges(accountId, 0, { limit: 100_000 })) as { highestModseq: number };
      const moved = await t.store.moveItem(m.id, work.id);
      expect(moved.resourceName).toBe("move.ics");
      const t2 = await t.store.createItem(cal.id, event("uid-t2", { resourceName: "taken.ics" }));
      const moved2 = await t.store.moveItem(t2.id, work.id);
      expect(moved2.resourceName).toBe(`taken-${t2.id}.ics`);
      const gone = await t.store.createItem(cal.id, event("uid-gone", { resourceName: "gone.ics" }));
      await t.store.deleteItem(gone.id);
      const feed = await t.store.accountChanges(accountId, before.highestModseq, { folderId: cal.id });
      if (feed.status !== "ok") throw new Error("feed too old");
      const deleted = feed.items.filter((i) => i.kind === "deleted").map((i) => i.resourceName).sort();
      expect(deleted).toEqual(["gone.ics", "move.ics", "taken.ics"]);
      const into = await t.store.accountChanges(accountId, before.highestModseq, { folderId: work.id });
      if (into.status !== "ok") throw new Error("feed too old");
      expect(into.items.filter((i) => i.kind === "created").map((i) => i.resourceName).sort()).toEqual(["move.ics", `taken-${t2.id}.ics`]);
    });

    test("moveItem with a name: renamed in place (a new UID), into another folder, replacing the holder only when asked", async () => {
      const it = await t.store.createItem(cal.id, event("uid-ren", { resourceName: "ren.ics" }));
      const r1 = await t.store.moveItem(it.id, cal.id, { resourceName: "ren2.ics" });
      expect([r1.id, r1.folderId, r1.resourceName]).toEqual([it.id, cal.id, "ren2.ics"]);
      expect(r1.uid).toBeGreaterThan(it.uid);
      expect(await t.store.getItemByResourceName(cal.id, "ren.ics")).toBeNull();
      const holder = await t.store.createItem(work.id, event("uid-holder", { resourceName: "spot.ics" }));
      await storeError(t.store.moveItem(it.id, work.id, { resourceName: "spot.ics" }), "ALREADYEXISTS");
      const r2 = await t.store.moveItem(it.id, work.id, { resourceName: "spot.ics", replace: true });
      expect([r2.folderId, r2.resourceName]).toEqual([work.id, "spot.ics"]);
      expect(await t.store.getItem(holder.id)).toBeNull();
      await storeError(t.store.moveItem(it.id, work.id, { resourceName: "a/b" }), "INVALID");
      // the same name in the same folder: nothing to do
      expect((await t.store.moveItem(it.id, work.id, { resourceName: "spot.ics" })).modseq).toBe(r2.modseq);
    });

    test("organizer and attendees are indexed: events by address, role; rewritten with the item, gone with it", async () => {
      const mk = (uid: string, organizer: string | null, attendees: { address: string; partstat?: string }[], dtStart = T0) =>
        ({ itemClass: "calendar", body: ics(uid), fields: { uid, dtStart, dtEnd: dtStart + H, organizer, attendees } }) as ItemInput;
      const a = await t.store.createItem(cal.id, mk("ppl-a", "Alice@Example.com", [{ address: "mailto:Bob@Example.com", partstat: "accepted" }, { address: "carol@example.com" }, { address: "BOB@example.com" }]));
      const b = await t.store.createItem(work.id, mk("ppl-b", "bob@example.com", [{ address: "alice@example.com" }], T0 - D));
      const ids = async (addr: string, role?: "ORGANIZER" | "ATTENDEE") => (await t.store.findCalendarItemsByAddress(accountId, addr, { role })).map((i) => i.id);
      expect(await ids("bob@example.com")).toEqual([b.id, a.id]); // by start
      expect(await ids("MAILTO:bob@example.com", "ATTENDEE")).toEqual([a.id]);
      expect(await ids("bob@example.com", "ORGANIZER")).toEqual([b.id]);
      expect(await ids("carol@example.com")).toEqual([a.id]);
      expect(await ids("nobody@example.com")).toEqual([]);
      await t.store.updateItem(a.id, mk("ppl-a", "alice@example.com", [{ address: "dave@example.com" }]));
      expect(await ids("carol@example.com")).toEqual([]);
      expect(await ids("dave@example.com")).toEqual([a.id]);
      await t.store.deleteItem(a.id);
      expect(await ids("dave@example.com")).toEqual([]);
      await storeError(t.store.createItem(cal.id, mk("ppl-bad", null, [{ address: "x\ny" }])), "INVALID");
      // read-back fields leave the input-only attendees out
      expect("attendees" in (await t.store.getItem(b.id))!.fields).toBe(false);
    });

    test("a home's folders with their properties of one set, in one call", async () => {
      const SET = "6f0b3a52-9c1e-4d7a-8e25-3b1f0c9d4a61";
      const OTHER = "00020329-0000-0000-c000-000000000046";
      await t.store.setProperties({ folderId: work.id }, [
        { key: { set: SET, name: "displayName" }, type: "string", value: "Work stuff" },
        { key: { set: SET, name: "order" }, type: "int", value: 3 },
        { key: { set: OTHER, name: "foreign" }, type: "string", value: "not asked for" },
      ]);
      const list = await t.store.listFoldersWithProperties(accountId, { itemClasses: ["calendar", "tasks", "contacts"], propertySet: SET });
      expect(list.map((f) => `${f.folder.itemClass}:${f.folder.name}`)).toEqual(["calendar:Calendar", "calendar:Work", "contacts:Contacts", "tasks:Tasks"]);
      const w = list.find((f) => f.folder.id === work.id)!;
      expect(w.properties).toEqual([
        { key: { set: SET, name: "displayName" }, type: "string", value: "Work stuff" },
        { key: { set: SET, name: "order" }, type: "int", value: 3 },
      ]);
      expect(w.folder.highestModseq).toBeGreaterThan(0);
      expect(list.find((f) => f.folder.name === "Calendar")!.properties).toEqual([]);
      // without a set: every property
      const every = await t.store.listFoldersWithProperties(accountId, { itemClasses: ["calendar"] });
      expect(every.find((f) => f.folder.id === work.id)!.properties.length).toBe(3);
      await storeError(t.store.listFoldersWithProperties(accountId, { propertySet: "not-a-guid" }), "INVALID");
    });

    test("spanEnd: an overridden instance that ends later keeps the event in later ranges", async () => {
      // weekly, last regular instance at T0 + 14d (1 h); an override moved to T0 + 16d, ending 3 h later
      const fields = { uid: "span", dtStart: T0, dtEnd: T0 + H, isRecurring: true, rrule: "FREQ=WEEKLY;COUNT=3", lastInstance: T0 + 14 * D };
      const plain = await t.store.createItem(work.id, { itemClass: "calendar", body: ics("span"), fields, resourceName: "span.ics" });
      const late = { start: T0 + 16 * D + H, end: T0 + 16 * D + 2 * H };
      expect((await t.store.findCalendarItems({ folderId: work.id }, late)).map((i) => i.id)).not.toContain(plain.id);
      await t.store.updateItem(plain.id, { itemClass: "calendar", body: ics("span"), fields: { ...fields, spanEnd: T0 + 16 * D + 3 * H } });
      expect((await t.store.findCalendarItems({ folderId: work.id }, late)).map((i) => i.id)).toContain(plain.id);
      // never shorter than the default span, never before dtEnd
      await t.store.updateItem(plain.id, { itemClass: "calendar", body: ics("span"), fields: { ...fields, spanEnd: T0 } });
      expect((await t.store.findCalendarItems({ folderId: work.id }, { start: T0 + 14 * D, end: T0 + 14 * D + 1 })).map((i) => i.id)).toContain(plain.id);
      // fields as read back leave the input-only spanEnd out
      expect("spanEnd" in (await t.store.getItem(plain.id))!.fields).toBe(false);
    });
  });
}

test("migration 0034: items and expunge rows get resource_name, UID lookups their folder; older items keep working", async () => {
  const dir = tempDir();
  try {
    const url = `file:${join(dir, "old.db")}`;
    const db = await openDb({ url });
    await migrate(db, { upTo: 33 });
    await db.write(async (tx) => {
      await tx.run("INSERT INTO domains (name, created_at) VALUES ('old.example', 1)");
      await tx.run("INSERT INTO accounts (email, domain_id, password_hash, created_at) VALUES ('u@old.example', 1, 'x', 1)");
      await tx.run("INSERT INTO folders (account_id, name, item_class, uidvalidity, uidnext, created_at) VALUES (1, ?, 'calendar', 8, 4, 1)", ["\x01calendar\x01Cal"]);
      const r = await tx.get<{ id: number }>(
        "INSERT INTO items (account_id, folder_id, uid, modseq, internal_date, size, blob_id, envelope, mime, thread_id, created_at) VALUES (1, 1, 1, 2, 1, 10, 'none', '{}', '{}', 0, 1) RETURNING id",
      );
      await tx.run("INSERT INTO calendar_items (item_id, account_id, folder_id, uid, dtstart_utc, dtend_utc, span_end_utc) VALUES (?, 1, 1, 'old-uid', ?, ?, ?)", [r!.id, T0, T0 + H, T0 + H]);
      await tx.run("UPDATE accounts SET modseq = 2 WHERE id = 1");
    });
    await db.close();
    const store = await openStore({ hasher: passwordHasher, url, dataDir: dir, gcIntervalMs: 0 });
    try {
      const old = (await store.findItemByUid(1, "old-uid"))!;
      expect(old.resourceName).toBeNull();
      expect(await store.getItemByResourceName(1, "old-uid.ics")).toBeNull();
      // SQLite's plans: name and UID lookups are index probes
      const plan = async (sql: string, args: (string | number)[]) => (await store.db.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, args)).map((r) => r.detail).join(" | ");
      expect(await plan("SELECT id FROM items WHERE folder_id = ? AND resource_name = ?", [1, "x.ics"])).toContain("INDEX items_resource_name (folder_id=? AND resource_name=?)");
      expect(await plan("SELECT item_id FROM calendar_items WHERE account_id = ? AND uid = ? AND folder_id = ?", [1, "u", 1])).toContain("INDEX calendar_items_uid (account_id=? AND uid=? AND folder_id=?)");
      expect(await plan("SELECT item_id FROM contact_items WHERE account_id = ? AND uid = ? AND folder_id = ?", [1, "u", 1])).toContain("contact_items_uid (account_id=? AND uid=? AND folder_id=?)");
      expect(await plan("SELECT item_id FROM task_items WHERE account_id = ? AND uid = ? AND folder_id = ?", [1, "u", 1])).toContain("task_items_uid (account_id=? AND uid=? AND folder_id=?)");
      // a deleted old item is logged without a name (it never had one)
      await store.deleteItem(old.id);
      const feed = await store.accountChanges(1, 0);
      if (feed.status !== "ok") throw new Error("too old");
      expect(feed.items.find((i) => i.kind === "deleted")?.resourceName).toBeNull();
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
