/**
 * The webmail calendar JSON API over real HTTPS (protocols/http/webmail/
 * calendar-api.ts, collections-api.ts): events created here read back over
 * CalDAV and CalDAV writes show in the instances; series edits and deletes
 * (this / this and following / all) checked in the stored iCalendar;
 * invitations to BOB arrive by iMIP in his INBOX and his answer with a
 * comment comes back as a REPLY; free/busy; import/export; ownership and
 * malformed input.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import ICAL from "ical.js";
import { ALICE, BOB, CAROL, ApiClient, mailboxMessages, request, startWebmailServer, waitFor } from "./helpers.ts";
import type { CollectionInfo, EventData, EventResponse, ImportResult, InstancesResponse, FreeBusyResponse } from "../../protocols/http/webmail/api-types.ts";

setDefaultTimeout(60_000);

let srv: Awaited<ReturnType<typeof startWebmailServer>>;
let alice: ApiClient;
let bob: ApiClient;
let carol: ApiClient;
const ZONE = "Europe/Berlin";

function ev(o: Partial<EventData> & { start: string; end: string }): EventData {
  return {
    uid: "",
    title: "Untitled",
    location: "",
    description: "",
    timeZone: ZONE,
    allDay: false,
    showAs: "busy",
    status: "",
    privacy: "PUBLIC",
    categories: [],
    reminders: [],
    recurrence: null,
    organizer: null,
    attendees: [],
    sequence: 0,
    recurrenceId: null,
    ...o,
  };
}

const weekly = (extra: Partial<NonNullable<EventData["recurrence"]>> = {}): NonNullable<EventData["recurrence"]> => ({
  freq: "WEEKLY", interval: 1, byDay: ["TU"], byMonthDay: [], byMonth: [], bySetPos: [], count: null, until: null, complex: false, ...extra,
});

function dav(user: { email: string; password: string }, method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const auth = "Basic " + Buffer.from(`${user.email}:${user.password}`).toString("base64");
  return request(method, srv.base + path, { headers: { authorization: auth, ...(body !== undefined ? { "content-type": "text/calendar; charset=utf-8" } : {}), ...headers }, body });
}

async function stored(client: ApiClient, user: { email: string; password: string }, cal: string, id: string): Promise<ICAL.Component> {
  void client;
  const r = await dav(user, "GET", `/dav/calendars/${user.email}/${cal}/${id}`);
  expect(r.status).toBe(200);
  return ICAL.Component.fromString(r.text);
}

async function instances(c: ApiClient, from: number, to: number, cals?: string): Promise<InstancesResponse> {
  return c.ok<InstancesResponse>("GET", `/api/calendar/instances?from=${from}&to=${to}${cals ? `&calendars=${encodeURIComponent(cals)}` : ""}`);
}

beforeAll(async () => {
  srv = await startWebmailServer();
  alice = await ApiClient.signIn(srv.base, ALICE);
  bob = await ApiClient.signIn(srv.base, BOB);
  carol = await ApiClient.signIn(srv.base, CAROL);
  for (const c of [alice, bob, carol]) await c.ok("PUT", "/api/settings", { timeZone: ZONE });
}, 60_000);

afterAll(async () => {
  await srv?.close();
});

describe("collections", () => {
  test("defaults listed with counts; create gets a palette colour; rename; default cannot be deleted; another's name is 404", async () => {
    const list = (await alice.ok<{ collections: CollectionInfo[] }>("GET", "/api/groupware/collections?kind=calendar")).collections;
    expect(list.length).toBe(1);
    expect(list[0]!.isDefault).toBe(true);
    expect(list[0]!.count).toBe(0);
    const made = await alice.send("POST", "/api/groupware/collections", { kind: "calendar", displayName: "Team Events", color: "" });
    expect(made.status).toBe(201);
    const info = made.json<CollectionInfo>();
    expect(info.name).toBe("team-events");
    expect(info.color).toMatch(/^#[0-9a-f]{6}$/);
    const renamed = await alice.ok<CollectionInfo>("PATCH", `/api/groupware/collections/${info.name}`, { displayName: "Team", color: "#112233" });
    expect(renamed.displayName).toBe("Team");
    expect(renamed.color).toBe("#112233");
    expect((await alice.send("DELETE", `/api/groupware/collections/${list[0]!.name}`)).status).toBe(403);
    expect((await bob.send("PATCH", `/api/groupware/collections/${info.name}`, { displayName: "Mine" })).status).toBe(404);
    expect((await bob.send("DELETE", `/api/groupware/collections/${info.name}`)).status).toBe(404);
    expect((await alice.send("POST", "/api/groupware/collections", { kind: "boxes", displayName: "x" })).status).toBe(400);
    expect((await alice.send("POST", "/api/groupware/collections", { kind: "calendar", displayName: "x", color: "red" })).status).toBe(400);
    expect((await alice.send("DELETE", `/api/groupware/collections/${info.name}`)).status).toBe(200);
  });
});

describe("events", () => {
  test("create -> read back over CalDAV (zone, VTIMEZONE, VALARM); a CalDAV PUT shows in the instances", async () => {
    const r = await alice.send("POST", "/api/calendar/events/Calendar", {
      event: ev({ title: "Planning", location: "Room 1", start: "2026-03-10T09:00", end: "2026-03-10T10:30", reminders: [15], categories: ["Work"] }),
    });
    expect(r.status).toBe(201);
    const created = r.json<EventResponse>();
    expect(created.id).toMatch(/^[0-9a-f-]{36}\.ics$/);
    expect(created.event.start).toBe("2026-03-10T09:00");
    expect(created.event.timeZone).toBe(ZONE);
    expect(created.editable).toBe(true);
    const root = await stored(alice, ALICE, "Calendar", created.id);
    const vev = root.getFirstSubcomponent("vevent")!;
    expect(vev.getFirstProperty("dtstart")!.getParameter("tzid")).toBe(ZONE);
    expect(root.getAllSubcomponents("vtimezone").map((z) => z.getFirstPropertyValue("tzid"))).toEqual([ZONE]);
    expect(vev.getFirstSubcomponent("valarm")!.getFirstPropertyValue("trigger")!.toString()).toBe("-PT15M");
    expect(vev.getFirstPropertyValue("summary")).toBe("Planning");
    // 09:00 in Berlin (CET) is 08:00 UTC.
    const day = Date.UTC(2026, 2, 10);
    const inst = await instances(alice, day, day + 86_400_000);
    const mine = inst.instances.find((i) => i.id === created.id)!;
    expect(mine.start).toBe(Date.UTC(2026, 2, 10, 8, 0));
    expect(mine.end).toBe(Date.UTC(2026, 2, 10, 9, 30));
    expect(mine.reminders).toEqual([15]);
    expect(inst.timeZone).toBe(ZONE);

    const put = await dav(ALICE, "PUT", `/dav/calendars/${ALICE.email}/Calendar/from-dav.ics`, [
      "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VEVENT", "UID:from-dav-1", "DTSTAMP:20260101T000000Z",
      "DTSTART:20260310T120000Z", "DTEND:20260310T130000Z", "SUMMARY:From DAV", "X-CUSTOM:keep me", "END:VEVENT", "END:VCALENDAR", "",
    ].join("\r\n"));
    expect(put.status).toBe(201);
    const after = await instances(alice, day, day + 86_400_000);
    const fromDav = after.instances.find((i) => i.id === "from-dav.ics")!;
    expect(fromDav.title).toBe("From DAV");
    expect(fromDav.start).toBe(Date.UTC(2026, 2, 10, 12));
    // Shown in the user's zone; an edit keeps X- properties.
    const got = await alice.ok<EventResponse>("GET", "/api/calendar/events/Calendar/from-dav.ics");
    expect(got.event.start).toBe("2026-03-10T13:00");
    const upd = await alice.ok<EventResponse>("PUT", "/api/calendar/events/Calendar/from-dav.ics", { event: { ...got.event, title: "From DAV, renamed" }, etag: got.etag });
    expect(upd.event.title).toBe("From DAV, renamed");
    const text = (await dav(ALICE, "GET", `/dav/calendars/${ALICE.email}/Calendar/from-dav.ics`)).text;
    expect(text).toContain("X-CUSTOM:keep me");
    expect(text).toContain("SUMMARY:From DAV\\, renamed");
    // A stale etag is a 409.
    const stale = await alice.send("PUT", "/api/calendar/events/Calendar/from-dav.ics", { event: got.event, etag: got.etag });
    expect(stale.status).toBe(409);
    expect(stale.json<{ error: string }>().error).toBe("changed");
  });

  test("all-day events are DATE values and sit on their days in the user's zone", async () => {
    const r = await alice.ok<EventResponse>("POST", "/api/calendar/events/Calendar", { event: ev({ title: "Holiday", allDay: true, start: "2026-04-06", end: "2026-04-08", timeZone: "" }) });
    const vev = (await stored(alice, ALICE, "Calendar", r.id)).getFirstSubcomponent("vevent")!;
    expect(vev.getFirstProperty("dtstart")!.toICALString()).toBe("DTSTART;VALUE=DATE:20260406");
    expect(vev.getFirstProperty("dtend")!.toICALString()).toBe("DTEND;VALUE=DATE:20260408");
    const inst = (await instances(alice, Date.UTC(2026, 3, 5), Date.UTC(2026, 3, 10))).instances.find((i) => i.id === r.id)!;
    expect(inst.allDay).toBe(true);
    expect(inst.startDate).toBe("2026-04-06");
    expect(inst.endDate).toBe("2026-04-08");
    // Midnight in Berlin (CEST, +2).
    expect(inst.start).toBe(Date.UTC(2026, 3, 5, 22));
  });

  test("malformed input is a 400 in words; other users' calendars are 404; ranges are bounded", async () => {
    const bad = [
      "{not json",
      JSON.stringify({ event: ev({ start: "2026-02-30T10:00", end: "2026-02-30T11:00" }) }),
      JSON.stringify({ event: ev({ start: "2026-03-10T10:00", end: "2026-03-10T09:00" }) }),
      JSON.stringify({ event: ev({ start: "yesterday", end: "2026-03-10T09:00" }) }),
      JSON.stringify({ event: ev({ start: "2026-03-10T10:00", end: "2026-03-10T11:00", timeZone: "Mars/Olympus" }) }),
      JSON.stringify({ event: ev({ start: "2026-03-10T10:00", end: "2026-03-10T11:00", recurrence: weekly({ interval: 100000 }) }) }),
      JSON.stringify({ event: ev({ start: "2026-03-10T10:00", end: "2026-03-10T11:00", recurrence: weekly({ count: 5, until: "2026-05-01" }) }) }),
      JSON.stringify({ event: ev({ start: "2026-03-10T10:00", end: "2026-03-10T11:00", reminders: [1, 2, 3, 4, 5, 6] }) }),
      JSON.stringify({ event: ev({ start: "2026-03-10T10:00", end: "2026-03-10T11:00", attendees: [{ address: "not an address", name: "", partstat: "NEEDS-ACTION", role: "REQ-PARTICIPANT", rsvp: true, comment: "" }] }) }),
      JSON.stringify({ event: "nope" }),
      JSON.stringify([]),
    ];
    for (const b of bad) {
      const r = await alice.send("POST", "/api/calendar/events/Calendar", undefined, {});
      void r;
      const res = await request("POST", srv.base + "/api/calendar/events/Calendar", {
        headers: { cookie: alice.cookie, origin: srv.base, "x-csrf-token": alice.csrf, "content-type": "application/json" },
        body: b,
      });
      expect(res.status).toBe(400);
      expect(typeof res.json<{ message: string }>().message).toBe("string");
    }
    const mine = await alice.ok<EventResponse>("POST", "/api/calendar/events/Calendar", { event: ev({ title: "Private", start: "2026-03-11T10:00", end: "2026-03-11T11:00" }) });
    expect((await bob.send("GET", `/api/calendar/events/Calendar/${mine.id}`)).status).toBe(404);
    // bob's own "Calendar" has no such object; alice's other calendars are not reachable by name
    expect((await bob.send("DELETE", `/api/calendar/events/Calendar/${mine.id}`)).status).toBe(404);
    expect((await bob.send("GET", `/api/calendar/instances?from=0&to=86400000&calendars=team`)).status).toBe(404);
    expect((await alice.send("GET", "/api/calendar/instances?from=0&to=" + 401 * 86_400_000)).status).toBe(400);
    expect((await alice.send("GET", "/api/calendar/instances?from=abc&to=1")).status).toBe(400);
    expect((await alice.send("GET", `/api/calendar/events/Calendar/${mine.id}?recurrenceId=x`)).status).toBe(400);
    expect((await alice.send("DELETE", `/api/calendar/events/Calendar/${mine.id}?scope=some`)).status).toBe(400);
  });
});
