/**
 * Calendar shapes particular to one protocol version, end to end over HTTPS
 * (checked against libwbxml): 12.1 (folder list, a calendar sync with
 * ExceptionStartTime and Calendar:Location, a device edit back to CalDAV)
 * and 16.1 per-instance Changes (airsyncbase:InstanceId beside ServerId,
 * as EAS-4-TbSync sends them) becoming one RECURRENCE-ID override.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { el, kid, kids, kidText } from "./client.ts";
import { createUser, startEas, type EasEnv } from "./helpers.ts";
import { libwbxmlAvailable } from "./libwbxml.ts";
import { calendarDevice, calOptions, davOf, pull, responsesOf, unfold, weeklyMeeting, type Dav } from "./groupware-calendar-helpers.ts";

let env: EasEnv;
let dav: Dav;
const PASS = "calendar-secret-3";

beforeAll(async () => {
  if (process.env.CI === "true" && !libwbxmlAvailable()) throw new Error("libwbxml2-utils (xml2wbxml) is required in CI");
  env = await startEas();
  dav = davOf(env);
});
afterAll(async () => {
  const w = env.libwbxml();
  expect(w.mismatches).toEqual([]);
  if (libwbxmlAvailable()) expect(w.responses).toBeGreaterThan(5);
  await env.close();
});

describe("Calendar 12.1", () => {
  test("FolderSync lists the calendar; a sync carries ExceptionStartTime, Calendar:Location, attendee status; a device edit reads back over CalDAV", async () => {
    const user = "cal121@example.test";
    await createUser(env.srv.store, user, PASS);
    expect((await dav.put(user, PASS, "w.ics", weeklyMeeting("w121@x", user, [{ email: "a@example.net", name: "A", partstat: "TENTATIVE" }]))).status).toBe(201);
    const { c, cal } = await calendarDevice(env, user, PASS, "CAL121", "12.1");
    const { adds } = await pull(c, cal);
    expect(adds.size).toBe(1);
    const [[sid, d]] = [...adds];
    expect(kidText(d, "Calendar:Location")).toBe("Room 4.2");
    expect(kid(d, "AirSyncBase:Location")).toBeUndefined();
    expect(kidText(d, "Calendar:ResponseType")).toBeUndefined(); // 14.0 and later
    expect(kidText(d, "Calendar:UID")).toBe("w121@x");
    expect(kids(kid(d, "Calendar:Attendees"), "Calendar:Attendee").map((a) => kidText(a, "Calendar:AttendeeStatus"))).toEqual(["2"]);
    const ex = kids(kid(d, "Calendar:Exceptions"), "Calendar:Exception");
    expect(ex.map((e) => kidText(e, "Calendar:ExceptionStartTime"))).toEqual(["20261214T090000Z", "20261221T090000Z"]);
    expect(kid(ex[0], "Calendar:Attendees")).toBeUndefined(); // exception attendees are 14.0+
    // the device moves the whole series an hour later and keeps its exceptions
    const moved = el(
      "AirSync:ApplicationData",
      d.children.map((x) => {
        if (typeof x !== "object" || x instanceof Uint8Array) return x;
        if (x.name === "StartTime") return el("Calendar:StartTime", "20261207T100000Z");
        if (x.name === "EndTime") return el("Calendar:EndTime", "20261207T110000Z");
        return x;
      }),
    );
    const r = await c.sync(cal, { options: calOptions(), commands: [el("AirSync:Change", el("AirSync:ServerId", sid), moved)] });
    expect(r.status).toBe("1");
    expect(responsesOf(r.coll)).toEqual([]);
    const ics = unfold((await dav.get(user, PASS, "w.ics")).body);
    expect(ics).toContain("DTSTART;TZID=Europe/Berlin:20261207T110000");
    expect(ics).toContain("DTEND;TZID=Europe/Berlin:20261207T120000");
    expect(ics).toContain("RECURRENCE-ID;TZID=Europe/Berlin:20261214T100000");
    expect(ics).toContain("EXDATE;TZID=Europe/Berlin:20261221T100000");
    expect(ics).toContain("X-PILLARBOX-TEST;X-FLAVOUR=mint:kept across phone edits");
    expect([...ics.matchAll(/^SEQUENCE:(\d+)$/gm)].map((m) => m[1])).toEqual(["1", "1"]);
  });
});

describe("Calendar 14.1 with AirSync:Supported", () => {
  test("a device managing only some elements (Supported at SyncKey 0) keeps the ones it ghosts; the ones it manages and leaves out go", async () => {
    const user = "cal141s@example.test";
    await createUser(env.srv.store, user, PASS);
    expect((await dav.put(user, PASS, "w.ics", weeklyMeeting("w141s@x", user, [{ email: "a@example.net", name: "A", partstat: "ACCEPTED" }]))).status).toBe(201);
    const { c, cal } = await calendarDevice(env, user, PASS, "CAL141S", "14.1");
    // MS-ASCMD §2.2.3.179: Supported goes with the SyncKey 0 request only
    const managed = ["Subject", "StartTime", "EndTime", "Timezone", "Recurrence", "Categories"].map((n) => el(`Calendar:${n}`));
    const first = el("AirSync:Sync", el("AirSync:Collections", el("AirSync:Collection", el("AirSync:SyncKey", "0"), el("AirSync:CollectionId", cal), el("AirSync:Supported", managed))));
    const r0 = await c.send("Sync", first);
    const col0 = kid(kid(r0.doc!, "AirSync:Collections"), "AirSync:Collection");
    expect(kidText(col0, "AirSync:Status")).toBe("1");
    c.syncKeys.set(cal, kidText(col0, "AirSync:SyncKey")!);
    const { adds } = await pull(c, cal);
    const [[sid, d]] = [...adds];
    const keep = new Set(["Timezone", "StartTime", "EndTime", "Recurrence"]);
    const data = el(
      "AirSync:ApplicationData",
      d.children.filter((x) => typeof x === "object" && !(x instanceof Uint8Array) && x.ns === "Calendar" && keep.has(x.name)),
      el("Calendar:Subject", "Team sync (ghosts)"),
    );
    const r = await c.sync(cal, { options: calOptions(), commands: [el("AirSync:Change", el("AirSync:ServerId", sid), data)] });
    expect(r.status).toBe("1");
    expect(responsesOf(r.coll)).toEqual([]);
    const ics = unfold((await dav.get(user, PASS, "w.ics")).body);
    expect(ics).toContain("SUMMARY:Team sync (ghosts)");
    // ghosted (not in Supported): kept
    expect(ics).toContain("LOCATION:Room 4.2");
    expect(ics).toContain("TRIGGER:-PT15M");
    expect(ics).toContain("mailto:a@example.net");
    expect(ics).toContain("RECURRENCE-ID;TZID=Europe/Berlin:20261214T100000");
    // managed and left out: removed from the series (the ghosted exception keeps its own copy)
    expect(ics.match(/^CATEGORIES:/gm)?.length).toBe(1);
    expect(ics.indexOf("CATEGORIES:")).toBeGreaterThan(ics.indexOf("RECURRENCE-ID"));
  });
});

describe("Calendar 16.1 instance changes", () => {
  test("a Change with InstanceId beside ServerId edits one instance: a RECURRENCE-ID override over CalDAV, the series untouched", async () => {
    const user = "cal161i@example.test";
    await createUser(env.srv.store, user, PASS);
    expect((await dav.put(user, PASS, "w.ics", weeklyMeeting("w161@x", user, []))).status).toBe(201);
    const { c, cal } = await calendarDevice(env, user, PASS, "CAL161I", "16.1");
    const { adds } = await pull(c, cal);
    const [[sid]] = [...adds];
    const change = el(
      "AirSync:Change",
      el("AirSync:ServerId", sid),
      el("AirSyncBase:InstanceId", "2026-12-28T09:00:00.000Z"),
      el("AirSync:ApplicationData", el("Calendar:Subject", "Team sync (offsite)"), el("Calendar:StartTime", "20261228T120000Z"), el("Calendar:EndTime", "20261228T130000Z")),
    );
    const r = await c.sync(cal, { options: calOptions(), commands: [change] });
    expect(r.status).toBe("1");
    expect(responsesOf(r.coll)).toEqual([]);
    const ics = unfold((await dav.get(user, PASS, "w.ics")).body);
    expect(ics).toContain("RECURRENCE-ID;TZID=Europe/Berlin:20261228T100000");
    expect(ics).toContain("DTSTART;TZID=Europe/Berlin:20261228T130000");
    expect(ics).toContain("SUMMARY:Team sync (offsite)");
    expect(ics).toContain("SUMMARY:Team sync\r\n");
    expect(ics).toContain("DTSTART;TZID=Europe/Berlin:20261207T100000");
    // the device sees the new exception in the series on its next sync from another device
    const other = await calendarDevice(env, user, PASS, "CAL161J", "16.1");
    const seen = await pull(other.c, other.cal);
    const exIds = kids(kid([...seen.adds.values()][0], "Calendar:Exceptions"), "Calendar:Exception").map((e) => kidText(e, "AirSyncBase:InstanceId"));
    expect(exIds).toContain("2026-12-28T09:00:00.000Z");
  });
});
