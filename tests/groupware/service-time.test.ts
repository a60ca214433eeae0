/**
 * The groupware service's time and sync answers over a real store (both
 * engines): time-range queries with a recurring event and an overridden
 * instance moved out of its slot, the parsed-object cache, to-dos by the RFC
 * 4791 §9.9 table, free/busy (transparent and cancelled are free, tentative
 * is BUSY-TENTATIVE, merged and clipped, the schedule inbox left out), and
 * the per-collection changes with the names of removed resources and a
 * too-old token.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Account } from "../../storage/api.ts";
import { createLogger } from "../../src/log.ts";
import { createGroupware, GroupwareError, type Collection, type GroupwareService } from "../../src/groupware/index.ts";
import { storeEngines } from "../helpers/engines.ts";
import { bytes, setupAccount, tempStore, type TempStore } from "../storage/helpers.ts";

const log = createLogger("error");
const H = 3_600_000;
const utc = (s: string) => Date.parse(s);
const iso = (ms: number) => new Date(ms).toISOString().replace(".000", "");

function cal(...events: string[]): Uint8Array {
  return bytes(`BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//time//EN\r\n${events.join("")}END:VCALENDAR\r\n`);
}
function ev(uid: string, start: string, end: string, extra = ""): string {
  return `BEGIN:VEVENT\r\nUID:${uid}\r\nDTSTAMP:20261201T000000Z\r\nDTSTART:${start}\r\nDTEND:${end}\r\n${extra}END:VEVENT\r\n`;
}

/** Weekly on Mondays 09:00-10:00 UTC from 7 Dec 2026, four times; the 28 Dec one moved to Wed 30 Dec 14:00-17:00 and made tentative. */
const weekly = cal(
  ev("weekly", "20261207T090000Z", "20261207T100000Z", "RRULE:FREQ=WEEKLY;COUNT=4\r\nSUMMARY:Weekly\r\n"),
  `BEGIN:VEVENT\r\nUID:weekly\r\nDTSTAMP:20261201T000000Z\r\nRECURRENCE-ID:20261228T090000Z\r\nDTSTART:20261230T140000Z\r\nDTEND:20261230T170000Z\r\nSTATUS:TENTATIVE\r\nSUMMARY:Moved\r\nEND:VEVENT\r\n`,
);

for (const engine of storeEngines()) {
  describe(`engine ${engine}`, () => {
    let t: TempStore;
    let gw: GroupwareService;
    let account: Account;
    let calendar: Collection;

    beforeAll(async () => {
      t = await tempStore({ engine });
      account = (await setupAccount(t.store, "bob@example.org")).account;
      gw = createGroupware(t.store, { log });
      await gw.ensureDefaults(account);
      calendar = (await gw.getCollection(account, "Calendar"))!;
      await gw.putObject(calendar, "weekly.ics", weekly);
      await gw.putObject(calendar, "single.ics", cal(ev("single", "20261214T120000Z", "20261214T130000Z")));
      await gw.putObject(calendar, "old.ics", cal(ev("old", "20250101T120000Z", "20250101T130000Z")));
    });
    afterAll(async () => t.cleanup());

    const names = async (start: string, end: string) => (await gw.objectsInRange(calendar, { start: utc(start), end: utc(end) })).map((o) => o.resourceName).sort();

    test("objectsInRange: a recurring event by its instances, the overridden one where it now is", async () => {
      expect(await names("2026-12-14T00:00:00Z", "2026-12-15T00:00:00Z")).toEqual(["single.ics", "weekly.ics"]);
      // Monday 28 Dec: the instance moved away, nothing is there
      expect(await names("2026-12-28T00:00:00Z", "2026-12-29T00:00:00Z")).toEqual([]);
      // Wednesday 30 Dec afternoon: the moved instance (after the last regular one: the span covers it)
      expect(await names("2026-12-30T15:00:00Z", "2026-12-30T16:00:00Z")).toEqual(["weekly.ics"]);
      expect(await names("2027-01-04T00:00:00Z", "2027-02-01T00:00:00Z")).toEqual([]);
      expect(await names("2024-12-31T00:00:00Z", "2025-01-02T00:00:00Z")).toEqual(["old.ics"]);
      await expect(gw.objectsInRange(calendar, { start: 10, end: 5 })).rejects.toBeInstanceOf(GroupwareError);
      const w = (await gw.getObject(calendar, "weekly.ics"))!;
      const inst = await gw.instances(w, { start: utc("2026-12-01T00:00:00Z"), end: utc("2027-01-31T00:00:00Z") });
      expect(inst.map((i) => `${iso(i.start)}/${iso(i.end)} ${i.status || "-"} ${i.overridden}`)).toEqual([
        "2026-12-07T09:00:00Z/2026-12-07T10:00:00Z - false",
        "2026-12-14T09:00:00Z/2026-12-14T10:00:00Z - false",
        "2026-12-21T09:00:00Z/2026-12-21T10:00:00Z - false",
        "2026-12-30T14:00:00Z/2026-12-30T17:00:00Z TENTATIVE true",
      ]);
      // asked again (answered from memory): the same, and not the array the first caller changed
      inst[0]!.start = 0;
      inst.pop();
      const again = await gw.instances(w, { start: utc("2026-12-01T00:00:00Z"), end: utc("2027-01-31T00:00:00Z") });
      expect(again.length).toBe(4);
      expect(iso(again[0]!.start)).toBe("2026-12-07T09:00:00Z");
    });

    test("the parsed-object cache: another range parses nothing again, the same range is remembered; a new version is parsed once", async () => {
      const range = ["2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"] as const;
      await names(...range);
      const misses = gw.cache.misses;
      const hits = gw.cache.hits;
      await names("2026-12-02T00:00:00Z", "2027-01-02T00:00:00Z");
      expect(gw.cache.misses).toBe(misses);
      expect(gw.cache.hits).toBeGreaterThan(hits);
      // the same window again (a client polling the month on screen): answered without expanding
      const hits2 = gw.cache.hits;
      expect(await names(...range)).toEqual(["single.ics", "weekly.ics"]);
      expect(gw.cache.hits).toBe(hits2);
      // a PUT puts the new version's parse in the cache itself
      await gw.putObject(calendar, "weekly.ics", bytes(new TextDecoder().decode(weekly).replace("SUMMARY:Weekly", "SUMMARY:Weekly (v2)")));
      expect(await names(...range)).toEqual(["single.ics", "weekly.ics"]);
      expect(gw.cache.misses).toBe(misses);
    });

    test("to-dos by RFC 4791 §9.9 (DUE only, DTSTART+DUE, none)", async () => {
      const tasks = (await gw.getCollection(account, "Tasks"))!;
      const todo = (uid: string, props: string) => cal(`BEGIN:VTODO\r\nUID:${uid}\r\nDTSTAMP:20261201T000000Z\r\n${props}END:VTODO\r\n`);
      await gw.putObject(tasks, "due.ics", todo("due", "DUE:20261210T170000Z\r\n"));
      await gw.putObject(tasks, "span.ics", todo("span", "DTSTART:20261201T090000Z\r\nDUE:20261220T170000Z\r\n"));
      await gw.putObject(tasks, "none.ics", todo("none", "SUMMARY:whenever\r\n"));
      const q = async (s: string, e: string) => (await gw.objectsInRange(tasks, { start: utc(s), end: utc(e) })).map((o) => o.resourceName).sort();
      expect(await q("2026-12-10T00:00:00Z", "2026-12-11T00:00:00Z")).toEqual(["due.ics", "none.ics", "span.ics"]);
      expect(await q("2026-12-15T00:00:00Z", "2026-12-16T00:00:00Z")).toEqual(["none.ics", "span.ics"]);
      expect(await q("2027-01-15T00:00:00Z", "2027-01-16T00:00:00Z")).toEqual(["none.ics"]);
    });

    test("freeBusy: opaque busy, transparent and cancelled free, tentative BUSY-TENTATIVE, merged, clipped; the schedule inbox is not busy time", async () => {
      const other = await gw.createCollection(account, "calendar", "second");
      await gw.putObject(other, "overlap.ics", cal(ev("overlap", "20261214T093000Z", "20261214T110000Z")));
      await gw.putObject(other, "transparent.ics", cal(ev("transparent", "20261215T090000Z", "20261215T100000Z", "TRANSP:TRANSPARENT\r\n")));
      await gw.putObject(other, "cancelled.ics", cal(ev("cancelled", "20261216T090000Z", "20261216T100000Z", "STATUS:CANCELLED\r\n")));
      await gw.putObject(other, "tentative.ics", cal(ev("tentative", "20261217T090000Z", "20261217T100000Z", "STATUS:TENTATIVE\r\n")));
      // a tentative event overlapped by a busy one: the busy part wins, the rest stays tentative
      await gw.putObject(other, "tent-long.ics", cal(ev("tent-long", "20261214T120000Z", "20261214T150000Z", "STATUS:TENTATIVE\r\n")));
      // the scheduling code's inbox (a hidden calendar folder) holds an invitation: not the user's time
      const inbox = await t.store.createFolder(account.id, "inbox", { itemClass: "calendar" });
      await t.store.createItem(inbox.id, {
        itemClass: "calendar",
        body: cal(ev("invite", "20261218T090000Z", "20261218T100000Z")),
        fields: { uid: "invite", dtStart: utc("2026-12-18T09:00:00Z"), dtEnd: utc("2026-12-18T10:00:00Z") },
      });
      const fb = await gw.freeBusy(account, { start: utc("2026-12-14T09:15:00Z"), end: utc("2026-12-31T00:00:00Z") });
      expect(fb.map((p) => `${iso(p.start)} ${iso(p.end)} ${p.type}`)).toEqual([
        // weekly 09:00-10:00 (clipped to 09:15) and overlap 09:30-11:00 merged
        "2026-12-14T09:15:00Z 2026-12-14T11:00:00Z BUSY",
        // single 12:00-13:00 over tent-long 12:00-15:00
        "2026-12-14T12:00:00Z 2026-12-14T13:00:00Z BUSY",
        "2026-12-14T13:00:00Z 2026-12-14T15:00:00Z BUSY-TENTATIVE",
        "2026-12-17T09:00:00Z 2026-12-17T10:00:00Z BUSY-TENTATIVE",
        "2026-12-21T09:00:00Z 2026-12-21T10:00:00Z BUSY",
        // the moved instance is tentative
        "2026-12-30T14:00:00Z 2026-12-30T17:00:00Z BUSY-TENTATIVE",
      ]);
    });

    test("freeBusy: an invitation the owner has not answered or answered tentatively is BUSY-TENTATIVE, a declined one free, an accepted one busy", async () => {
      const cal2 = await gw.createCollection(account, "calendar", "invitations");
      const me = account.email;
      const invite = (uid: string, day: string, partstat: string) =>
        cal(ev(uid, `202701${day}T090000Z`, `202701${day}T100000Z`, `ORGANIZER:mailto:boss@elsewhere.example\r\nATTENDEE;PARTSTAT=${partstat}:mailto:${me}\r\n`));
      await gw.putObject(cal2, "new.ics", invite("inv-new", "04", "NEEDS-ACTION"), { schedule: false });
      await gw.putObject(cal2, "tent.ics", invite("inv-tent", "05", "TENTATIVE"), { schedule: false });
      await gw.putObject(cal2, "no.ics", invite("inv-no", "06", "DECLINED"), { schedule: false });
      await gw.putObject(cal2, "yes.ics", invite("inv-yes", "07", "ACCEPTED"), { schedule: false });
      // the owner's own meeting: their PARTSTAT as an attendee of it does not weaken it
      await gw.putObject(cal2, "own.ics", cal(ev("own", "20270108T090000Z", "20270108T100000Z", `ORGANIZER:mailto:${me}\r\nATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:${me}\r\n`)), { schedule: false });
      const fb = await gw.freeBusy(account, { start: utc("2027-01-04T00:00:00Z"), end: utc("2027-01-09T00:00:00Z") });
      expect(fb.map((p) => `${iso(p.start)} ${p.type}`)).toEqual([
        "2027-01-04T09:00:00Z BUSY-TENTATIVE",
        "2027-01-05T09:00:00Z BUSY-TENTATIVE",
        "2027-01-07T09:00:00Z BUSY",
        "2027-01-08T09:00:00Z BUSY",
      ]);
    });

    test("changesSince: everything from 0, then changes and removed names; paging; a too-old token", async () => {
      const book = (await gw.getCollection(account, "Contacts"))!;
      const card = (uid: string, fn: string) => bytes(`BEGIN:VCARD\r\nVERSION:4.0\r\nUID:${uid}\r\nFN:${fn}\r\nEND:VCARD\r\n`);
      for (const n of ["a", "b", "c"]) await gw.putObject(book, `${n}.vcf`, card(n, n));
      const first = await gw.changesSince(book, 0);
      expect(first.changed.map((o) => o.resourceName).sort()).toEqual(["a.vcf", "b.vcf", "c.vcf"]);
      expect(first.removed).toEqual([]);
      expect(first.truncated).toBe(false);
      await gw.putObject(book, "a.vcf", card("a", "A changed"));
      await gw.deleteObject(book, "b.vcf");
      // c removed and a new c under the same name: a change, not a removal
      await gw.deleteObject(book, "c.vcf");
      await gw.putObject(book, "c.vcf", card("c2", "new c"));
      await gw.putObject(calendar, "elsewhere.ics", cal(ev("elsewhere", "20261201T090000Z", "20261201T100000Z")));
      const next = await gw.changesSince(book, first.token);
      expect(next.changed.map((o) => o.resourceName).sort()).toEqual(["a.vcf", "c.vcf"]);
      expect(next.removed).toEqual(["b.vcf"]);
      const none = await gw.changesSince(book, next.token);
      expect([none.changed, none.removed]).toEqual([[], []]);
      // paging: one object a page
      const paged: string[] = [];
      let token = first.token;
      for (let i = 0; i < 10; i++) {
        const page = await gw.changesSince(book, token, 1);
        paged.push(...page.changed.map((o) => o.resourceName), ...page.removed.map((n) => `-${n}`));
        token = page.token;
        if (!page.truncated) break;
      }
      // in change order: a page ends at a change, so c's removal comes before its new version
      expect(paged).toEqual(["a.vcf", "-b.vcf", "-c.vcf", "c.vcf"]);
      // after pruning, an old token is refused (RFC 6578 §3.2) and 0 still lists everything
      await t.store.pruneChanges({ olderThanMs: 0, now: Date.now() + 60_000 });
      const err = await gw.changesSince(book, first.token).catch((e) => e);
      expect(err).toBeInstanceOf(GroupwareError);
      expect((err as GroupwareError).code).toBe("TOKEN_TOO_OLD");
      expect((await gw.changesSince(book, 0)).changed.map((o) => o.resourceName).sort()).toEqual(["a.vcf", "c.vcf"]);
      // a token never given out
      expect(((await gw.changesSince(book, Number.MAX_SAFE_INTEGER).catch((e) => e)) as GroupwareError).code).toBe("TOKEN_TOO_OLD");
    });
  });
}
