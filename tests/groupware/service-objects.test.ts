/**
 * The groupware service's collections and objects over a real store (both
 * engines): the defaults (created once even when two services race), the
 * reserved names, collection properties, and every rule of a PUT — ETag
 * conditions, UID conflicts and UID changes, the wrong component, METHOD,
 * malformed and oversized bodies, the quota — with the body kept byte for
 * byte; DELETE with If-Match; the scheduling hook's calls.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Account } from "../../storage/api.ts";
import { createLogger } from "../../src/log.ts";
import { createGroupware, GroupwareError, type Collection, type Groupware, type GroupwareErrorCode, type Scheduler } from "../../src/groupware/index.ts";
import { storeEngines } from "../helpers/engines.ts";
import { bytes, setupAccount, tempStore, type TempStore } from "../storage/helpers.ts";

const log = createLogger("error");

async function gwError(p: Promise<unknown>, code: GroupwareErrorCode): Promise<GroupwareError> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof GroupwareError)) throw e;
    expect(e.code).toBe(code);
    return e;
  }
  throw new Error(`expected GroupwareError ${code}`);
}

/** An event with bytes a re-serialisation would change: folded line, X- property, trailing space, bare LF in a value. */
function vevent(uid: string, summary = "Meeting", extra = ""): Uint8Array {
  return bytes(
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//service//EN\r\nBEGIN:VEVENT\r\n" +
      `UID:${uid}\r\nDTSTAMP:20261201T000000Z\r\nDTSTART:20261207T090000Z\r\nDTEND:20261207T100000Z\r\nSUMMARY:${summary} \r\n` +
      "DESCRIPTION:folded per RFC 5545 §3.1, a long line that goes on and on and on and \r\n on\r\nX-PILLARBOX-TEST;X-PARAM=1:kept\r\n" +
      `${extra}END:VEVENT\r\nEND:VCALENDAR\r\n`,
  );
}
const vtodo = (uid: string) => bytes(`BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VTODO\r\nUID:${uid}\r\nDTSTAMP:20261201T000000Z\r\nSUMMARY:Do it\r\nDUE:20261210T170000Z\r\nEND:VTODO\r\nEND:VCALENDAR\r\n`);
const vcard = (uid: string | null, fn = "Carol Example") =>
  bytes(`BEGIN:VCARD\r\nVERSION:3.0\r\n${uid ? `UID:${uid}\r\n` : ""}FN:${fn}\r\nN:Example;Carol;;;\r\nEMAIL;TYPE=work:Carol@Example.org\r\nEMAIL;TYPE=home:carol@home.example\r\nTEL:+1 555 0100\r\nTEL:+1 555 0101\r\nitem1.X-ABLABEL:kept\r\nEND:VCARD\r\n`);

for (const engine of storeEngines()) {
  describe(`engine ${engine}`, () => {
    let t: TempStore;
    let gw: Groupware;
    let account: Account;
    let cal: Collection;
    let tasks: Collection;
    let book: Collection;
    const calls: { before: string | null; after: string | null; actor: string; collection: string }[] = [];
    const scheduler: Scheduler = {
      async afterChange(actor, collection, before, after) {
        const d = (b: Uint8Array | null) => (b ? new TextDecoder().decode(b) : null);
        calls.push({ actor: actor.email, collection: collection.name, before: d(before), after: d(after) });
        if (d(after)?.includes("SUMMARY:explode")) throw new Error("the scheduler failed");
      },
    };

    beforeAll(async () => {
      t = await tempStore({ engine });
      account = (await setupAccount(t.store, "alice@example.org")).account;
      gw = createGroupware(t.store, { log, scheduler });
      await gw.ensureDefaults(account);
      cal = (await gw.getCollection(account, "Calendar"))!;
      tasks = (await gw.getCollection(account, "Tasks"))!;
      book = (await gw.getCollection(account, "Contacts"))!;
    });
    afterAll(async () => t.cleanup());

    test("defaults: a calendar, a task list and an address book; created once by two racing services for an older account", async () => {
      expect((await gw.listCollections(account)).map((c) => `${c.kind}:${c.name}:${c.displayName}:${c.isDefault}`).sort()).toEqual([
        "calendar:Calendar:Calendar:true",
        "contacts:Contacts:Contacts:true",
        "tasks:Tasks:Tasks:true",
      ]);
      // an account from before issue 15: no groupware folders at all
      const old = (await setupAccount(t.store, "old@example.org")).account;
      for (const [name, c] of [["Calendar", "calendar"], ["Contacts", "contacts"], ["Tasks", "tasks"]] as const) await t.store.deleteFolder(old.id, name, { itemClass: c });
      expect(await gw.listCollections(old)).toEqual([]);
      // two processes' services and two requests in each, all at once
      const other = createGroupware(t.store, { log });
      await Promise.all([gw.ensureDefaults(old), gw.ensureDefaults(old), other.ensureDefaults(old), other.ensureDefaults(old)]);
      const folders = (await t.store.listFolders(old.id)).filter((f) => f.itemClass !== "mail");
      expect(folders.map((f) => `${f.itemClass}:${f.name}`).sort()).toEqual(["calendar:Calendar", "contacts:Contacts", "notes:Notes", "tasks:Tasks"]);
      // an account with a calendar of its own keeps it as its only calendar
      const own = (await setupAccount(t.store, "own@example.org")).account;
      await t.store.deleteFolder(own.id, "Calendar", { itemClass: "calendar" });
      await t.store.createFolder(own.id, "Personal", { itemClass: "calendar" });
      await createGroupware(t.store, { log }).ensureDefaults(own);
      expect((await gw.listCollections(own, "calendar")).map((c) => c.name)).toEqual(["Personal"]);
    });

    test("collections: create with properties, reserved and duplicate names, update, delete (not the defaults)", async () => {
      const tz = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n";
      const work = await gw.createCollection(account, "calendar", "work", { displayName: "Work", color: "#FF8800", order: 2, description: "Office", timezone: tz });
      expect(work).toMatchObject({ kind: "calendar", name: "work", displayName: "Work", color: "#FF8800", order: 2, description: "Office", timezone: tz, isDefault: false });
      for (const reserved of ["inbox", "Outbox", "DIRECTORY"]) await gwError(gw.createCollection(account, "calendar", reserved), "FORBIDDEN");
      for (const bad of ["a/b", "", "..", " padded"]) await gwError(gw.createCollection(account, "calendar", bad), "FORBIDDEN");
      await gwError(gw.createCollection(account, "calendar", "work"), "EXISTS");
      // one name space for the three kinds (they share /dav/calendars/<user>/)
      await gwError(gw.createCollection(account, "tasks", "work"), "EXISTS");
      await gwError(gw.createCollection(account, "calendar", "bad-color", { color: "orange" }), "INVALID_DATA");
      await gwError(gw.createCollection(account, "calendar", "bad-tz", { timezone: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n" }), "INVALID_DATA");
      expect(await gw.getCollection(account, "bad-color")).toBeNull();
      const before = work.modseq;
      const upd = await gw.updateCollection(account, "work", { displayName: "Work (team)", color: "", order: 0 });
      expect(upd).toMatchObject({ displayName: "Work (team)", color: "", order: 0, description: "Office" });
      expect(upd.modseq).toBeGreaterThan(before); // getctag moves with property changes
      await gwError(gw.updateCollection(account, "nope", { displayName: "x" }), "NOT_FOUND");
      await gwError(gw.deleteCollection(account, "Calendar"), "FORBIDDEN");
      await gw.deleteCollection(account, "work");
      expect(await gw.getCollection(account, "work")).toBeNull();
      await gwError(gw.deleteCollection(account, "work"), "NOT_FOUND");
      // the schedule inbox is a calendar folder the scheduling code makes with the store: hidden here
      await t.store.createFolder(account.id, "inbox", { itemClass: "calendar" });
      expect((await gw.listCollections(account, "calendar")).map((c) => c.name)).toEqual(["Calendar"]);
      expect(await gw.getCollection(account, "inbox")).toBeNull();
    });

    test("PUT creates and replaces with strong ETags, the body byte for byte; If-Match and If-None-Match", async () => {
      const body = vevent("put-1");
      const { object, created } = await gw.putObject(cal, "put-1.ics", body, { ifNoneMatch: "*" });
      expect(created).toBe(true);
      expect(object.resourceName).toBe("put-1.ics");
      expect(object.etag).toBe(`"${object.item.id}-${object.item.modseq}"`);
      expect(await gw.readBody(object)).toEqual(body);
      expect((await gw.getObject(cal, "put-1.ics"))?.etag).toBe(object.etag);
      await gwError(gw.putObject(cal, "put-1.ics", body, { ifNoneMatch: "*" }), "PRECONDITION");
      await gwError(gw.putObject(cal, "put-1.ics", body, { ifMatch: '"0-0"' }), "PRECONDITION");
      await gwError(gw.putObject(cal, "put-1.ics", body, { ifMatch: `W/${object.etag}` }), "PRECONDITION"); // weak tags never match
      await gwError(gw.putObject(cal, "missing.ics", body, { ifMatch: "*" }), "PRECONDITION");
      const body2 = vevent("put-1", "Moved meeting");
      const r2 = await gw.putObject(cal, "put-1.ics", body2, { ifMatch: `"x", ${object.etag}` });
      expect(r2.created).toBe(false);
      expect(r2.object.item.id).toBe(object.item.id);
      expect(r2.object.etag).not.toBe(object.etag);
      expect(await gw.readBody(r2.object)).toEqual(body2);
      expect((await gw.getObjects(cal, ["put-1.ics", "nope.ics"])).map((o) => o.resourceName)).toEqual(["put-1.ics"]);
      // RFC 4791 §5.3.2.1: no UID change at one URL, no second resource with one UID
      await gwError(gw.putObject(cal, "put-1.ics", vevent("put-other")), "INVALID_OBJECT");
      const conflict = await gwError(gw.putObject(cal, "copy.ics", vevent("put-1")), "UID_CONFLICT");
      expect(conflict.conflict).toBe("put-1.ics");
      // deletes with conditions
      await gwError(gw.deleteObject(cal, "put-1.ics", { ifMatch: object.etag }), "PRECONDITION");
      await gw.deleteObject(cal, "put-1.ics", { ifMatch: r2.object.etag });
      expect(await gw.getObject(cal, "put-1.ics")).toBeNull();
      await gwError(gw.deleteObject(cal, "put-1.ics"), "NOT_FOUND");
    });

    test("an invitation's organizer and attendees are indexed from the body", async () => {
      const people = "ORGANIZER;CN=Alice:mailto:alice@example.org\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:Bob@Example.net\r\nATTENDEE;RSVP=TRUE:mailto:carol@example.com\r\n";
      const { object } = await gw.putObject(cal, "invite.ics", vevent("invite-1", "Planning", people));
      const found = async (a: string, role?: "ORGANIZER" | "ATTENDEE") => (await t.store.findCalendarItemsByAddress(account.id, a, { role })).map((i) => i.id);
      expect(await found("bob@example.net", "ATTENDEE")).toEqual([object.item.id]);
      expect(await found("alice@example.org", "ORGANIZER")).toEqual([object.item.id]);
      expect(await found("carol@example.com")).toEqual([object.item.id]);
      await gw.deleteObject(cal, "invite.ics");
      expect(await found("carol@example.com")).toEqual([]);
    });

    test("bad bodies: wrong component, METHOD, malformed, no UID, oversized", async () => {
      await gwError(gw.putObject(cal, "todo.ics", vtodo("todo-1")), "WRONG_COMPONENT");
      await gwError(gw.putObject(tasks, "event.ics", vevent("ev-in-tasks")), "WRONG_COMPONENT");
      const t1 = await gw.putObject(tasks, "todo.ics", vtodo("todo-1"));
      expect(t1.object.item.itemClass).toBe("tasks");
      await gwError(gw.putObject(cal, "method.ics", bytes(new TextDecoder().decode(vevent("m-1")).replace("VERSION:2.0\r\n", "VERSION:2.0\r\nMETHOD:REQUEST\r\n"))), "INVALID_OBJECT");
      await gwError(gw.putObject(cal, "garbage.ics", bytes("BEGIN:VCALENDAR\r\nthis is not iCalendar\r\n")), "INVALID_DATA");
      await gwError(gw.putObject(cal, "binary.ics", new Uint8Array([0, 1, 2, 255, 254])), "INVALID_DATA");
      await gwError(gw.putObject(book, "nouid.vcf", vcard(null)), "INVALID_OBJECT");
      await gwError(gw.putObject(book, "event.vcf", vevent("x")), "INVALID_DATA");
      const big = bytes(new TextDecoder().decode(vevent("big", "Big", `X-FILL:${"a".repeat(1024 * 1024)}\r\n`)));
      await gwError(gw.putObject(cal, "big.ics", big), "TOO_LARGE");
      expect((await gw.listObjects(cal)).map((o) => o.resourceName)).not.toContain("big.ics");
      // a name that cannot be a URL segment
      for (const bad of ["a/b.ics", "..", "", "x".repeat(256)]) await gwError(gw.putObject(cal, bad, vevent(`bad-name-${bad.length}`)), "FORBIDDEN");
    });

    test("MOVE: to another calendar and renamed in place, the item (and its id) kept; Overwrite; UID conflict; wrong kind", async () => {
      const second = await gw.createCollection(account, "calendar", "second-cal");
      const { object } = await gw.putObject(cal, "mv.ics", vevent("mv-1"));
      const moved = await gw.moveObject(cal, "mv.ics", second, "moved.ics");
      expect(moved.created).toBe(true);
      expect(moved.object.item.id).toBe(object.item.id);
      expect(moved.object.resourceName).toBe("moved.ics");
      expect(moved.object.etag).not.toBe(object.etag);
      expect(await gw.getObject(cal, "mv.ics")).toBeNull();
      expect(await gw.readBody(moved.object)).toEqual(vevent("mv-1"));
      // a rename in place
      const renamed = await gw.moveObject(second, "moved.ics", second, "renamed.ics");
      expect(renamed.object.item.id).toBe(object.item.id);
      expect((await gw.listObjects(second)).map((o) => o.resourceName)).toEqual(["renamed.ics"]);
      // sync clients see the old name removed and the new one
      const since = (await gw.changesSince(second, 0)).token;
      await gw.moveObject(second, "renamed.ics", second, "again.ics");
      const ch = await gw.changesSince(second, since);
      expect([ch.changed.map((o) => o.resourceName), ch.removed]).toEqual([["again.ics"], ["renamed.ics"]]);
      // Overwrite: F refuses an existing destination; otherwise it is replaced
      await gw.putObject(cal, "target.ics", vevent("target"));
      await gwError(gw.moveObject(second, "again.ics", cal, "target.ics", { overwrite: false }), "PRECONDITION");
      const over = await gw.moveObject(second, "again.ics", cal, "target.ics");
      expect(over.created).toBe(false);
      expect((await gw.getObject(cal, "target.ics"))?.item.id).toBe(object.item.id);
      // the destination holding the UID under another name
      await gw.putObject(second, "dup.ics", vevent("mv-1"));
      const c = await gwError(gw.moveObject(cal, "target.ics", second, "other-name.ics"), "UID_CONFLICT");
      expect(c.conflict).toBe("dup.ics");
      await gwError(gw.moveObject(cal, "target.ics", tasks, "t.ics"), "WRONG_COMPONENT");
      await gwError(gw.moveObject(cal, "target.ics", book, "t.vcf"), "FORBIDDEN");
      await gwError(gw.moveObject(cal, "nope.ics", second, "x.ics"), "NOT_FOUND");
      await gwError(gw.moveObject(cal, "target.ics", cal, "target.ics"), "FORBIDDEN");
      await gwError(gw.moveObject(cal, "target.ics", second, "x.ics", { ifMatch: '"1-1"' }), "PRECONDITION");
    });

    test("contacts: a vCard 3.0 with several emails and phones, kept byte for byte; found by UID", async () => {
      const card = vcard("card-1");
      const { object } = await gw.putObject(book, "carol.vcf", card);
      expect(await gw.readBody(object)).toEqual(card);
      expect(object.item.fields).toMatchObject({ uid: "card-1", fullName: "Carol Example", emails: ["carol@example.org", "carol@home.example"] });
      const found = await gw.findByUid(account, "contacts", "card-1");
      expect(found?.collection.name).toBe("Contacts");
      expect(found?.object.resourceName).toBe("carol.vcf");
      expect(await gw.findByUid(account, "calendar", "card-1")).toBeNull();
    });

    test("quota: a put over the account's quota is QUOTA and stores nothing", async () => {
      const small = (await setupAccount(t.store, "small@example.org", 2000)).account;
      const c = (await gw.getCollection(small, "Calendar"))!;
      await gw.putObject(c, "fits.ics", vevent("fits"));
      await gwError(gw.putObject(c, "over.ics", vevent("over", "Over", `X-FILL:${"b".repeat(3000)}\r\n`)), "QUOTA");
      expect((await gw.listObjects(c)).map((o) => o.resourceName)).toEqual(["fits.ics"]);
    });

    test("scheduling hook: after writes by an actor, with the old and new bodies; never for schedule:false or contacts; its failure does not fail the write", async () => {
      calls.length = 0;
      await gw.putObject(cal, "s.ics", vevent("sched"), { actor: account });
      await gw.putObject(cal, "s.ics", vevent("sched", "Changed"), { actor: account });
      await gw.putObject(cal, "s.ics", vevent("sched", "Quiet"), { actor: account, schedule: false });
      await gw.putObject(cal, "s.ics", vevent("sched", "No actor"));
      await gw.putObject(book, "s.vcf", vcard("sched-card"), { actor: account });
      await gw.putObject(cal, "s.ics", vevent("sched", "explode"), { actor: account });
      await gw.deleteObject(cal, "s.ics", { actor: account });
      expect(calls.map((c) => [c.collection, c.before?.match(/SUMMARY:(\S+)/)?.[1] ?? null, c.after?.match(/SUMMARY:(\S+)/)?.[1] ?? null])).toEqual([
        ["Calendar", null, "Meeting"],
        ["Calendar", "Meeting", "Changed"],
        ["Calendar", "No", "explode"],
        ["Calendar", "explode", null],
      ]);
      expect(calls.every((c) => c.actor === "alice@example.org")).toBe(true);
      expect(await gw.getObject(cal, "s.ics")).toBeNull();
    });
  });
}
