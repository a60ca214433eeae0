/**
 * Calendars over ActiveSync (MS-ASCAL), end to end over HTTPS with every
 * request and response checked against libwbxml2-utils, for 14.1 and 16.1:
 * an event written over CalDAV reaches the device with every field; device
 * Adds and Changes read back over CalDAV with what ActiveSync cannot show
 * kept and SEQUENCE right; all-day events per version; 16.1 instance
 * deletes; FilterType windows.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { el, kid, kids, kidText, text } from "./client.ts";
import { createUser, startEas, type EasEnv } from "./helpers.ts";
import { libwbxmlAvailable } from "./libwbxml.ts";
import { decodeTimezone, encodeTimezone } from "../../protocols/http/eas/groupware/timezone.ts";
import { calendarDevice, calOptions, davOf, pull, resourceNameOf, responsesOf, simpleEvent, unfold, weeklyMeeting, type Dav } from "./groupware-calendar-helpers.ts";
import type { WElement } from "../../protocols/http/eas/wbxml/tree.ts";

let env: EasEnv;
let dav: Dav;
const PASS = "calendar-secret-1";
let n = 0;

beforeAll(async () => {
  if (process.env.CI === "true" && !libwbxmlAvailable()) throw new Error("libwbxml2-utils (xml2wbxml) is required in CI");
  env = await startEas();
  dav = davOf(env);
});
afterAll(async () => {
  const w = env.libwbxml();
  expect(w.mismatches).toEqual([]);
  if (libwbxmlAvailable()) expect(w.responses).toBeGreaterThan(20);
  await env.close();
});

const t = (e: WElement | undefined, name: string) => kidText(e, `Calendar:${name}`);

function findBySubject(m: Map<string, WElement>, subject: string): [string, WElement] {
  for (const [sid, d] of m) if (t(d, "Subject") === subject) return [sid, d];
  throw new Error(`no item "${subject}" among ${[...m.values()].map((d) => t(d, "Subject")).join(", ")}`);
}

for (const version of ["14.1", "16.1"]) {
  const v16 = version === "16.1";
  describe(`Calendar ${version}`, () => {
    const user = `cal${version.replace(".", "")}@example.test`;
    const attendees = [
      { email: "anna@example.net", name: "Anna Attendee", partstat: "ACCEPTED" },
      { email: "otto@example.net", name: "Otto Optional", partstat: "NEEDS-ACTION", role: "OPT-PARTICIPANT" },
    ];

    beforeAll(async () => {
      await createUser(env.srv.store, user, PASS, { displayName: "Cal Owner" });
    });

    test("an event PUT over CalDAV (weekly, moved + cancelled instance, Berlin, alarm, attendees) arrives with every field", async () => {
      expect((await dav.put(user, PASS, "weekly.ics", weeklyMeeting("weekly-1@example.test", user, attendees))).status).toBe(201);
      const { c, cal } = await calendarDevice(env, user, PASS, `CAL${++n}`, version);
      const { adds } = await pull(c, cal);
      const [, d] = findBySubject(adds, "Team sync");
      expect(decodeTimezone(t(d, "Timezone")!).tzid).toBe("Europe/Berlin");
      expect(t(d, "AllDayEvent")).toBe("0");
      expect(t(d, "StartTime")).toBe("20261207T090000Z");
      expect(t(d, "EndTime")).toBe("20261207T100000Z");
      expect(t(d, "UID")).toBe("weekly-1@example.test");
      expect(t(d, "Reminder")).toBe("15");
      expect(t(d, "BusyStatus")).toBe("2");
      expect(t(d, "Sensitivity")).toBe("0");
      expect(t(d, "OrganizerEmail")).toBe(user);
      expect(t(d, "OrganizerName")).toBe("Organizer Person");
      expect(t(d, "MeetingStatus")).toBe("1");
      expect(t(d, "ResponseType")).toBe("1");
      expect(kidText(kid(d, "AirSyncBase:Body"), "AirSyncBase:Data")).toBe("Weekly agenda");
      expect(kids(kid(d, "Calendar:Categories"), "Calendar:Category").map(text)).toEqual(["Work", "Team"]);
      if (v16) expect(kidText(kid(d, "AirSyncBase:Location"), "AirSyncBase:DisplayName")).toBe("Room 4.2");
      else expect(t(d, "Location")).toBe("Room 4.2");
      const att = kids(kid(d, "Calendar:Attendees"), "Calendar:Attendee").map((a) => [t(a, "Email"), t(a, "Name"), t(a, "AttendeeStatus"), t(a, "AttendeeType")]);
      expect(att).toEqual([
        ["anna@example.net", "Anna Attendee", "3", "1"],
        ["otto@example.net", "Otto Optional", "5", "2"],
      ]);
      const rec = kid(d, "Calendar:Recurrence")!;
      expect([t(rec, "Type"), t(rec, "Occurrences"), t(rec, "DayOfWeek")]).toEqual(["1", "10", "2"]);
      const ex = kids(kid(d, "Calendar:Exceptions"), "Calendar:Exception");
      expect(ex.length).toBe(2);
      const idOf = (e: WElement) => (v16 ? kidText(e, "AirSyncBase:InstanceId") : t(e, "ExceptionStartTime"));
      expect(idOf(ex[0]!)).toBe(v16 ? "2026-12-14T09:00:00.000Z" : "20261214T090000Z");
      expect(t(ex[0], "Subject")).toBe("Team sync (afternoon)");
      expect(t(ex[0], "StartTime")).toBe("20261214T130000Z");
      expect(t(ex[0], "EndTime")).toBe("20261214T140000Z");
      expect(t(ex[0], "Location")).toBeUndefined(); // same as the series: left out
      expect(idOf(ex[1]!)).toBe(v16 ? "2026-12-21T09:00:00.000Z" : "20261221T090000Z");
      expect(t(ex[1], "Deleted")).toBe("1");
    });

    test("a device Change (new title, reminder) reads back over CalDAV with the X- property, GEO, override and EXDATE kept and SEQUENCE raised", async () => {
      const { c, cal } = await calendarDevice(env, user, PASS, `CAL${++n}`, version);
      const { adds } = await pull(c, cal);
      const [sid, d] = findBySubject(adds, "Team sync");
      const before = await dav.get(user, PASS, "weekly.ics");
      // The device sends the item back whole, as real devices do, with its edits.
      const edited = el(
        "AirSync:ApplicationData",
        d.children.map((x) => {
          if (typeof x !== "object" || x instanceof Uint8Array) return x;
          if (x.ns === "Calendar" && x.name === "Subject") return el("Calendar:Subject", "Team sync (renamed)");
          if (x.ns === "Calendar" && x.name === "Reminder") return el("Calendar:Reminder", 30);
          if (x.ns === "Calendar" && ["UID", "DtStamp", "MeetingStatus", "ResponseType", "OrganizerName", "OrganizerEmail"].includes(x.name) && v16) return null;
          return x;
        }),
      );
      const r = await c.sync(cal, { options: calOptions(), commands: [el("AirSync:Change", el("AirSync:ServerId", sid), edited)] });
      expect(r.status).toBe("1");
      expect(responsesOf(r.coll).filter((x) => x.status !== "1")).toEqual([]);
      const after = await dav.get(user, PASS, "weekly.ics");
      expect(after.status).toBe(200);
      expect(after.headers.etag).not.toBe(before.headers.etag);
      const ics = unfold(after.body);
      expect(ics).toContain("SUMMARY:Team sync (renamed)");
      expect(ics).toContain("SUMMARY:Team sync (afternoon)");
      expect(ics).toContain("X-PILLARBOX-TEST;X-FLAVOUR=mint:kept across phone edits");
      expect(ics).toContain("GEO:52.52;13.405");
      expect(ics).toContain("TRIGGER:-PT30M");
      expect(ics).toContain("EXDATE;TZID=Europe/Berlin:20261221T100000");
      expect(ics).toContain("RECURRENCE-ID;TZID=Europe/Berlin:20261214T100000");
      expect(ics).toContain("DTSTART;TZID=Europe/Berlin:20261207T100000");
      expect(ics).toContain("RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=10");
      expect(ics).toContain("ATTENDEE;CN=Otto Optional;PARTSTAT=NEEDS-ACTION;ROLE=OPT-PARTICIPANT;RSVP=TRUE:mailto:otto@example.net");
      // the organizer's change of a meeting raises SEQUENCE (RFC 5546 §2.1.4) in every component
      expect([...ics.matchAll(/^SEQUENCE:(\d+)$/gm)].map((m) => m[1])).toEqual(["1", "1"]);
      // the device's own change is not echoed back
      const again = await pull(c, cal);
      expect([...again.adds.keys(), ...again.changes.keys()]).toEqual([]);
    });

    test("a device Add (New York zone, alarm, UID/ClientUid) reads back over CalDAV", async () => {
      const { c, cal } = await calendarDevice(env, user, PASS, `CAL${++n}`, version);
      await pull(c, cal);
      const uid = `device-add-${version}@phone`;
      const data = el(
        "AirSync:ApplicationData",
        el("Calendar:Timezone", encodeTimezone("America/New_York", null, 2027)),
        el("Calendar:AllDayEvent", 0),
        el("AirSyncBase:Body", el("AirSyncBase:Type", 1), el("AirSyncBase:Data", "Bring slides")),
        el("Calendar:BusyStatus", 2),
        v16 ? null : el("Calendar:DtStamp", "20270101T000000Z"),
        el("Calendar:EndTime", "20270115T160000Z"),
        v16 ? el("AirSyncBase:Location", el("AirSyncBase:DisplayName", "Pier 17")) : el("Calendar:Location", "Pier 17"),
        el("Calendar:Reminder", 30),
        el("Calendar:Sensitivity", 2),
        el("Calendar:Subject", "Harbour lunch"),
        el("Calendar:StartTime", "20270115T150000Z"),
        v16 ? el("Calendar:ClientUid", uid) : el("Calendar:UID", uid),
        el("Calendar:MeetingStatus", 0),
      );
      const r = await c.sync(cal, { options: calOptions(), commands: [el("AirSync:Add", el("AirSync:ClientId", "c1"), data)] });
      const resp = responsesOf(r.coll).find((x) => x.kind === "Add");
      expect(resp?.status).toBe("1");
      const name = await resourceNameOf(env, resp!.serverId!);
      const got = await dav.get(user, PASS, name);
      expect(got.status).toBe(200);
      const ics = unfold(got.body);
      expect(ics).toContain(`UID:${uid}`);
      expect(ics).toContain("DTSTART;TZID=America/New_York:20270115T100000");
      expect(ics).toContain("DTEND;TZID=America/New_York:20270115T110000");
      expect(ics).toContain("BEGIN:VTIMEZONE");
      expect(ics).toContain("SUMMARY:Harbour lunch");
      expect(ics).toContain("LOCATION:Pier 17");
      expect(ics).toContain("DESCRIPTION:Bring slides");
      expect(ics).toContain("CLASS:PRIVATE");
      expect(ics).toContain("TRIGGER:-PT30M");
      expect(ics).toContain("SEQUENCE:0");
      expect(ics).not.toContain("ORGANIZER"); // no attendees: an appointment, not a meeting
      // a CalDAV edit comes back to the device as a Change with the new title
      const edited = got.body.replace("SUMMARY:Harbour lunch", "SUMMARY:Harbour lunch (moved to pier 18)");
      expect((await dav.put(user, PASS, name, edited, got.headers.etag)).status).toBe(204);
      const { changes } = await pull(c, cal);
      expect(t(changes.get(resp!.serverId!), "Subject")).toBe("Harbour lunch (moved to pier 18)");
    });

    test("all-day events: CalDAV DATE values reach the device in the version's form, and a device all-day Add is stored as DATEs", async () => {
      expect((await dav.put(user, PASS, "holiday.ics", simpleEvent("holiday-1@example.test", "20261224", "20261226", "Holidays"))).status).toBe(201);
      const { c, cal } = await calendarDevice(env, user, PASS, `CAL${++n}`, version);
      const { adds } = await pull(c, cal);
      const [, d] = findBySubject(adds, "Holidays");
      expect(t(d, "AllDayEvent")).toBe("1");
      expect(t(d, "StartTime")).toBe("20261224T000000Z");
      expect(t(d, "EndTime")).toBe("20261226T000000Z");
      // MS-ASCAL §2.2.2.42: no Timezone for an all-day event in 16.x; before, a UTC blob
      if (v16) expect(t(d, "Timezone")).toBeUndefined();
      else expect(decodeTimezone(t(d, "Timezone")!).tzid).toMatch(/UTC/i);
      // device Add: 16.1 sends the dates; 14.1 midnight of its own zone (Berlin) in UTC
      const data = el(
        "AirSync:ApplicationData",
        v16 ? null : el("Calendar:Timezone", encodeTimezone("Europe/Berlin", null, 2027)),
        el("Calendar:AllDayEvent", 1),
        el("Calendar:StartTime", v16 ? "20270501T000000Z" : "20270430T220000Z"),
        el("Calendar:EndTime", v16 ? "20270502T000000Z" : "20270501T220000Z"),
        el("Calendar:Subject", "Labour day"),
      );
      const r = await c.sync(cal, { options: calOptions(), commands: [el("AirSync:Add", el("AirSync:ClientId", "ad1"), data)] });
      const resp = responsesOf(r.coll).find((x) => x.kind === "Add")!;
      expect(resp.status).toBe("1");
      const ics = unfold((await dav.get(user, PASS, await resourceNameOf(env, resp.serverId!))).body);
      expect(ics).toContain("DTSTART;VALUE=DATE:20270501");
      expect(ics).toContain("DTEND;VALUE=DATE:20270502");
    });

    if (v16) {
      test("16.1 Sync Delete with InstanceId: an EXDATE over CalDAV; an instance the series does not have gets Status 8", async () => {
        expect((await dav.put(user, PASS, "series.ics", weeklyMeeting("series-2@example.test", user, []).replace("SUMMARY:Team sync\r\n", "SUMMARY:Solo series\r\n"))).status).toBe(201);
        const { c, cal } = await calendarDevice(env, user, PASS, `CAL${++n}`, version);
        const { adds } = await pull(c, cal);
        const [sid] = findBySubject(adds, "Solo series");
        const del = (instance: string) => el("AirSync:Delete", el("AirSync:ServerId", sid), el("AirSyncBase:InstanceId", instance));
        const r = await c.sync(cal, { options: calOptions(), commands: [del("2026-12-28T09:00:00.000Z")] });
        expect(r.status).toBe("1");
        expect(responsesOf(r.coll)).toEqual([]);
        const ics = unfold((await dav.get(user, PASS, "series.ics")).body);
        expect(ics).toContain("EXDATE;TZID=Europe/Berlin:20261228T100000");
        expect(ics).toContain("EXDATE;TZID=Europe/Berlin:20261221T100000");
        expect(ics).toContain("SUMMARY:Solo series");
        const bad = await c.sync(cal, { options: calOptions(), commands: [del("2026-12-28T10:30:00.000Z")] });
        expect(responsesOf(bad.coll)).toEqual([{ kind: "Delete", serverId: sid, clientId: undefined, status: "8" }]);
        // the moved instance can go too: its override is dropped
        await c.sync(cal, { options: calOptions(), commands: [del("2026-12-14T09:00:00.000Z")] });
        const ics2 = unfold((await dav.get(user, PASS, "series.ics")).body);
        expect(ics2).toContain("EXDATE;TZID=Europe/Berlin:20261214T100000");
        expect(ics2).not.toContain("RECURRENCE-ID");
      });
    }
  });
}

describe("Calendar FilterType windows", () => {
  test("FilterType 4 (two weeks) and 0 (all): an event that ended long ago is left out, recent and unbounded ones are sent", async () => {
    const user = "calfilter@example.test";
    await createUser(env.srv.store, user, PASS);
    const day = 86_400_000;
    const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
    const now = Date.now();
    await dav.put(user, PASS, "old.ics", simpleEvent("old@x", stamp(now - 60 * day), stamp(now - 60 * day + 3_600_000), "Long ago"));
    await dav.put(user, PASS, "recent.ics", simpleEvent("recent@x", stamp(now - 3 * day), stamp(now - 3 * day + 3_600_000), "Recent"));
    await dav.put(user, PASS, "daily.ics", simpleEvent("daily@x", stamp(now - 400 * day), stamp(now - 400 * day + 3_600_000), "Daily forever", ["RRULE:FREQ=DAILY"]));
    await dav.put(user, PASS, "ended.ics", simpleEvent("ended@x", stamp(now - 400 * day), stamp(now - 400 * day + 3_600_000), "Ended series", ["RRULE:FREQ=DAILY;COUNT=5"]));
    for (const version of ["14.1", "16.1"]) {
      const { c, cal } = await calendarDevice(env, user, PASS, `CALF${++n}`, version);
      const two = await pull(c, cal, 4);
      expect([...two.adds.values()].map((d) => t(d, "Subject")).sort()).toEqual(["Daily forever", "Recent"]);
      const d2 = await calendarDevice(env, user, PASS, `CALF${++n}`, version);
      const all = await pull(d2.c, d2.cal, 0);
      expect([...all.adds.values()].map((d) => t(d, "Subject")).sort()).toEqual(["Daily forever", "Ended series", "Long ago", "Recent"]);
      // FilterType 1 (one day back) is a mail filter: the calendar refuses it
      const d3 = await calendarDevice(env, user, PASS, `CALF${++n}`, version);
      await d3.c.sync(d3.cal);
      const r = await d3.c.sync(d3.cal, { options: calOptions(1) });
      expect(r.status).not.toBe("1");
    }
  });
});
