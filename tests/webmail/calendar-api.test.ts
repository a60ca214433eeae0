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
    expect(list[0]!.color).toMatch(/^#[0-9a-f]{6}$/);
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
    expect((await alice.send("GET", `/api/calendar/events/Calendar/${mine.id}?recurrenceId=12345`)).status).toBe(400);
    expect((await alice.send("DELETE", `/api/calendar/events/Calendar/${mine.id}?scope=some`)).status).toBe(400);
  });
});

describe("series", () => {
  // Tuesdays 10:00-11:00 Berlin from 2026-03-03, 6 times: Mar 3, 10, 17, 24, 31 (CEST from Mar 29), Apr 7.
  const at = (d: string, hh = 10) => {
    const [y, m, day] = d.split("-").map(Number) as [number, number, number];
    // CET (+1) before 2026-03-29, CEST (+2) after.
    return Date.UTC(y, m - 1, day, hh - (d >= "2026-03-29" ? 2 : 1));
  };
  async function makeSeries(title: string, extra: Partial<EventData> = {}): Promise<EventResponse> {
    return alice.ok<EventResponse>("POST", "/api/calendar/events/Calendar", {
      event: ev({ title, start: "2026-03-03T10:00", end: "2026-03-03T11:00", recurrence: weekly({ count: 6 }), ...extra }),
    });
  }
  const range = [Date.UTC(2026, 2, 1), Date.UTC(2026, 3, 30)] as const;
  const occ = async (uid: string) => (await instances(alice, range[0], range[1])).instances.filter((i) => i.uid === uid);

  test("expansion keeps 10:00 local across the DST change; the rule reads back", async () => {
    const s = await makeSeries("Weekly");
    expect(s.event.recurrence).toMatchObject({ freq: "WEEKLY", byDay: ["TU"], count: 6, complex: false });
    const list = await occ(s.event.uid);
    expect(list.map((i) => i.start)).toEqual(["2026-03-03", "2026-03-10", "2026-03-17", "2026-03-24", "2026-03-31", "2026-04-07"].map((d) => at(d)));
    expect(list.every((i) => i.recurring)).toBe(true);
  });

  test("this occurrence: an override with RECURRENCE-ID; delete this: EXDATE", async () => {
    const s = await makeSeries("This one");
    const rid = at("2026-03-17");
    const one = await alice.ok<EventResponse>("GET", `/api/calendar/events/Calendar/${s.id}?recurrenceId=${rid}`);
    expect(one.event.start).toBe("2026-03-17T10:00");
    expect(one.event.recurrenceId).toBe(rid);
    const moved = await alice.ok<EventResponse>("PUT", `/api/calendar/events/Calendar/${s.id}`, {
      event: { ...one.event, title: "Moved once", start: "2026-03-17T14:00", end: "2026-03-17T15:00" }, etag: one.etag, scope: "this", recurrenceId: rid,
    });
    expect(moved.overrides).toEqual([rid]);
    const root = await stored(alice, ALICE, "Calendar", s.id);
    const comps = root.getAllSubcomponents("vevent");
    expect(comps.length).toBe(2);
    const o = comps.find((c) => c.hasProperty("recurrence-id"))!;
    expect(o.getFirstProperty("recurrence-id")!.toICALString()).toBe(`RECURRENCE-ID;TZID=${ZONE}:20260317T100000`);
    expect(o.getFirstPropertyValue("summary")).toBe("Moved once");
    const list = await occ(s.event.uid);
    const changed = list.find((i) => i.recurrenceId === rid)!;
    expect(changed.start).toBe(at("2026-03-17", 14));
    expect(changed.overridden).toBe(true);
    expect(changed.title).toBe("Moved once");
    // Delete another occurrence: EXDATE in DTSTART's form.
    const rid2 = at("2026-03-24");
    expect((await alice.send("DELETE", `/api/calendar/events/Calendar/${s.id}?scope=this&recurrenceId=${rid2}&etag=${encodeURIComponent(moved.etag)}`)).status).toBe(200);
    const after = await stored(alice, ALICE, "Calendar", s.id);
    const master = after.getAllSubcomponents("vevent").find((c) => !c.hasProperty("recurrence-id"))!;
    expect(master.getFirstProperty("exdate")!.toICALString()).toBe(`EXDATE;TZID=${ZONE}:20260324T100000`);
    expect((await occ(s.event.uid)).length).toBe(5);
    // An occurrence that does not exist is a 400.
    expect((await alice.send("DELETE", `/api/calendar/events/Calendar/${s.id}?scope=this&recurrenceId=${rid2 + 60_000}`)).status).toBe(400);
  });

  test("this and following: the old series ends the day before (UNTIL in UTC), the tail is a new object with a new UID", async () => {
    const s = await makeSeries("Split me");
    const rid = at("2026-03-24");
    // An override after the split point goes with the old series' tail (dropped from the old object).
    const later = await alice.ok<EventResponse>("GET", `/api/calendar/events/Calendar/${s.id}?recurrenceId=${at("2026-03-31")}`);
    const withOverride = await alice.ok<EventResponse>("PUT", `/api/calendar/events/Calendar/${s.id}`, { event: { ...later.event, title: "Special" }, scope: "this", recurrenceId: at("2026-03-31") });
    const one = await alice.ok<EventResponse>("GET", `/api/calendar/events/Calendar/${s.id}?recurrenceId=${rid}`);
    const tail = await alice.ok<EventResponse>("PUT", `/api/calendar/events/Calendar/${s.id}`, {
      event: { ...one.event, title: "Split me (new time)", start: "2026-03-24T15:00", end: "2026-03-24T16:00", recurrence: weekly({ count: 3 }) },
      etag: withOverride.etag, scope: "following", recurrenceId: rid,
    });
    expect(tail.id).not.toBe(s.id);
    expect(tail.event.uid).not.toBe(s.event.uid);
    expect(tail.event.start).toBe("2026-03-24T15:00");
    const head = await stored(alice, ALICE, "Calendar", s.id);
    const comps = head.getAllSubcomponents("vevent");
    expect(comps.length).toBe(1);
    const rrule = comps[0]!.getFirstPropertyValue("rrule") as ICAL.Recur;
    expect(rrule.count).toBeNull();
    // The last minute of Monday 23 March in Berlin (CET) in UTC (RFC 5545 §3.3.10).
    expect(rrule.until!.toICALString()).toBe("20260323T225959Z");
    expect((await occ(s.event.uid)).map((i) => i.start)).toEqual([at("2026-03-03"), at("2026-03-10"), at("2026-03-17")]);
    expect((await occ(tail.event.uid)).map((i) => i.start)).toEqual([at("2026-03-24", 15), at("2026-03-31", 15), at("2026-04-07", 15)]);
    // Following from the first occurrence is the whole series.
    const first = await alice.ok<EventResponse>("GET", `/api/calendar/events/Calendar/${tail.id}?recurrenceId=${at("2026-03-24", 15)}`);
    const whole = await alice.ok<EventResponse>("PUT", `/api/calendar/events/Calendar/${tail.id}`, { event: { ...first.event, title: "Renamed tail", recurrence: tail.event.recurrence }, scope: "following", recurrenceId: at("2026-03-24", 15) });
    expect(whole.id).toBe(tail.id);
    // Delete this and following.
    expect((await alice.send("DELETE", `/api/calendar/events/Calendar/${tail.id}?scope=following&recurrenceId=${at("2026-03-31", 15)}`)).status).toBe(200);
    expect((await occ(tail.event.uid)).length).toBe(1);
  });

  test("whole series: a new start time moves unedited occurrences and the RECURRENCE-IDs; a moved occurrence keeps its time and own title", async () => {
    const s = await makeSeries("Standup", { location: "Room A" });
    const r1 = at("2026-03-10");
    const r2 = at("2026-03-17");
    const o1 = await alice.ok<EventResponse>("GET", `/api/calendar/events/Calendar/${s.id}?recurrenceId=${r1}`);
    await alice.ok("PUT", `/api/calendar/events/Calendar/${s.id}`, { event: { ...o1.event, title: "Standup (moved)", start: "2026-03-10T08:00", end: "2026-03-10T09:00" }, scope: "this", recurrenceId: r1 });
    const o2 = await alice.ok<EventResponse>("GET", `/api/calendar/events/Calendar/${s.id}?recurrenceId=${r2}`);
    await alice.ok("PUT", `/api/calendar/events/Calendar/${s.id}`, { event: { ...o2.event, description: "agenda for the 17th" }, scope: "this", recurrenceId: r2 });
    const master = await alice.ok<EventResponse>("GET", `/api/calendar/events/Calendar/${s.id}`);
    const all = await alice.ok<EventResponse>("PUT", `/api/calendar/events/Calendar/${s.id}`, {
      event: { ...master.event, start: "2026-03-03T11:00", end: "2026-03-03T12:00", location: "Room B" }, etag: master.etag, scope: "all",
    });
    expect(all.overrides.length).toBe(2);
    const list = await occ(s.event.uid);
    expect(list.length).toBe(6);
    const byStart = list.map((i) => [i.start, i.title, i.location]);
    // The moved one keeps 08:00 and its title; the other override follows to 11:00 and takes the new location.
    expect(byStart).toContainEqual([at("2026-03-10", 8), "Standup (moved)", "Room B"]);
    expect(byStart).toContainEqual([at("2026-03-17", 11), "Standup", "Room B"]);
    expect(list.filter((i) => !i.overridden).every((i) => new Date(i.start).getUTCHours() + (i.start >= Date.UTC(2026, 2, 29) ? 2 : 1) === 11)).toBe(true);
    const root = await stored(alice, ALICE, "Calendar", s.id);
    const rids = root.getAllSubcomponents("vevent").filter((c) => c.hasProperty("recurrence-id")).map((c) => c.getFirstProperty("recurrence-id")!.toICALString()).sort();
    expect(rids).toEqual([`RECURRENCE-ID;TZID=${ZONE}:20260310T110000`, `RECURRENCE-ID;TZID=${ZONE}:20260317T110000`]);
    // The description edit of the 17th survives.
    expect(root.getAllSubcomponents("vevent").some((c) => c.getFirstPropertyValue("description") === "agenda for the 17th")).toBe(true);
    // Deleting the whole series removes the resource.
    expect((await alice.send("DELETE", `/api/calendar/events/Calendar/${s.id}?scope=all`)).status).toBe(200);
    expect((await dav(ALICE, "GET", `/dav/calendars/${ALICE.email}/Calendar/${s.id}`)).status).toBe(404);
  });

  test("all-day series with UNTIL is a DATE; monthly 'second Tuesday' and yearly rules round-trip", async () => {
    const a = await alice.ok<EventResponse>("POST", "/api/calendar/events/Calendar", {
      event: ev({ title: "Bins", allDay: true, timeZone: "", start: "2026-03-02", end: "2026-03-03", recurrence: { freq: "DAILY", interval: 2, byDay: [], byMonthDay: [], byMonth: [], bySetPos: [], count: null, until: "2026-03-10", complex: false } }),
    });
    const vev = (await stored(alice, ALICE, "Calendar", a.id)).getFirstSubcomponent("vevent")!;
    expect(vev.getFirstProperty("rrule")!.toICALString()).toBe("RRULE:FREQ=DAILY;INTERVAL=2;UNTIL=20260310");
    expect(a.event.recurrence!.until).toBe("2026-03-10");
    expect((await occ(a.event.uid)).map((i) => i.startDate)).toEqual(["2026-03-02", "2026-03-04", "2026-03-06", "2026-03-08", "2026-03-10"]);
    const m = await alice.ok<EventResponse>("POST", "/api/calendar/events/Calendar", {
      event: ev({ title: "Board", start: "2026-03-10T09:00", end: "2026-03-10T10:00", recurrence: { freq: "MONTHLY", interval: 1, byDay: ["2TU"], byMonthDay: [], byMonth: [], bySetPos: [], count: 2, until: null, complex: false } }),
    });
    expect(m.event.recurrence).toMatchObject({ freq: "MONTHLY", byDay: ["2TU"], count: 2 });
    expect((await occ(m.event.uid)).map((i) => i.start)).toEqual([at("2026-03-10", 9), at("2026-04-14", 9)]);
    const y = await alice.ok<EventResponse>("POST", "/api/calendar/events/Calendar", {
      event: ev({ title: "Birthday", allDay: true, timeZone: "", start: "2026-04-01", end: "2026-04-02", recurrence: { freq: "YEARLY", interval: 1, byDay: [], byMonthDay: [1], byMonth: [4], bySetPos: [], count: null, until: null, complex: false } }),
    });
    expect(y.event.recurrence).toMatchObject({ freq: "YEARLY", byMonth: [4], byMonthDay: [1] });
  });

  test("a rule the editor cannot show is complex and kept untouched on write", async () => {
    const put = await dav(ALICE, "PUT", `/dav/calendars/${ALICE.email}/Calendar/complex.ics`, [
      "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VEVENT", "UID:complex-1", "DTSTAMP:20260101T000000Z",
      "DTSTART:20260302T090000Z", "DTEND:20260302T100000Z", "RRULE:FREQ=YEARLY;BYWEEKNO=10,20;BYDAY=MO", "SUMMARY:Odd", "END:VEVENT", "END:VCALENDAR", "",
    ].join("\r\n"));
    expect(put.status).toBe(201);
    const got = await alice.ok<EventResponse>("GET", "/api/calendar/events/Calendar/complex.ics");
    expect(got.event.recurrence!.complex).toBe(true);
    await alice.ok("PUT", "/api/calendar/events/Calendar/complex.ics", { event: { ...got.event, title: "Odd, renamed" }, etag: got.etag });
    const text = (await dav(ALICE, "GET", `/dav/calendars/${ALICE.email}/Calendar/complex.ics`)).text;
    expect(text).toContain("RRULE:FREQ=YEARLY;BYWEEKNO=10,20;BYDAY=MO");
    expect(text).toContain("SUMMARY:Odd\\, renamed");
  });
});

describe("meetings", () => {
  const hasPart = (raw: Buffer, method: string, uid: string) => {
    const t = raw.toString("utf8").replace(/\r\n[ \t]/g, "");
    return t.includes(`METHOD:${method}`) && t.includes(uid) ? t : null;
  };

  test("an invitation to BOB arrives by iMIP; his answer with a comment comes back as a REPLY with PARTSTAT and COMMENT; SEQUENCE rises on a new time", async () => {
    const created = await alice.ok<EventResponse>("POST", "/api/calendar/events/Calendar", {
      event: ev({ title: "Budget review", location: "Room 4", start: "2026-05-05T14:00", end: "2026-05-05T15:00", attendees: [{ address: BOB.email, name: "Bob Builder", partstat: "NEEDS-ACTION", role: "REQ-PARTICIPANT", rsvp: true, comment: "" }] }),
    });
    expect(created.event.organizer).toEqual({ address: ALICE.email, name: ALICE.name });
    expect(created.event.attendees.map((a) => [a.address, a.partstat])).toEqual([[BOB.email, "NEEDS-ACTION"]]);
    const uid = created.event.uid;
    const request = await waitFor(async () => (await mailboxMessages(srv, BOB, "INBOX")).messages.map((m) => hasPart(m, "REQUEST", uid)).find(Boolean), "the iMIP REQUEST in bob's INBOX");
    expect(request).toContain("Budget review");
    expect(request.toLowerCase()).toContain("text/calendar");
    // The processor filed it in bob's calendar: he sees it, not as organizer, with his answer pending.
    const bobInst = await waitFor(async () => (await instances(bob, Date.UTC(2026, 4, 5), Date.UTC(2026, 4, 6))).instances.find((i) => i.uid === uid), "the meeting in bob's calendar");
    expect(bobInst.myPartstat).toBe("NEEDS-ACTION");
    expect(bobInst.isOrganizer).toBe(false);
    const bobEv = await bob.ok<EventResponse>("GET", `/api/calendar/events/${bobInst.calendar}/${bobInst.id}`);
    expect(bobEv.editable).toBe(false);
    // Bad answers are 400s.
    expect((await bob.send("POST", `/api/calendar/events/${bobInst.calendar}/${bobInst.id}/respond`, { partstat: "MAYBE" })).status).toBe(400);
    expect((await alice.send("POST", `/api/calendar/events/Calendar/${created.id}/respond`, { partstat: "ACCEPTED" })).status).toBe(400);
    const answered = await bob.ok<EventResponse>("POST", `/api/calendar/events/${bobInst.calendar}/${bobInst.id}/respond`, { partstat: "TENTATIVE", comment: "Might be late, sorry" });
    expect(answered.event.attendees.find((a) => a.address === BOB.email)!.partstat).toBe("TENTATIVE");
    expect(answered.event.attendees.find((a) => a.address === BOB.email)!.comment).toBe("Might be late, sorry");
    const reply = await waitFor(async () => (await mailboxMessages(srv, ALICE, "INBOX")).messages.map((m) => hasPart(m, "REPLY", uid)).find(Boolean), "bob's REPLY in alice's INBOX");
    expect(reply).toMatch(/PARTSTAT=TENTATIVE/);
    expect(reply).toContain("COMMENT:Might be late\\, sorry");
    // The organizer's copy shows bob's answer.
    const aliceView = await waitFor(async () => {
      const e = await alice.ok<EventResponse>("GET", `/api/calendar/events/Calendar/${created.id}`);
      return e.event.attendees.find((a) => a.address === BOB.email)!.partstat === "TENTATIVE" ? e : null;
    }, "bob's answer in alice's copy");
    // The organizer's copy keeps bob's note for her editor (X-RESPONSE-COMMENT on his line), not for other attendees.
    expect(aliceView.event.attendees.find((a) => a.address === BOB.email)!.comment).toBe("Might be late, sorry");
    // A new time is significant: SEQUENCE rises and bob gets the update.
    const moved = await alice.ok<EventResponse>("PUT", `/api/calendar/events/Calendar/${created.id}`, { event: { ...aliceView.event, start: "2026-05-05T16:00", end: "2026-05-05T17:00" }, etag: aliceView.etag });
    expect(moved.event.sequence).toBe(aliceView.event.sequence + 1);
    const update = await waitFor(async () => (await mailboxMessages(srv, BOB, "INBOX")).messages.map((m) => hasPart(m, "REQUEST", uid)).filter(Boolean)[1], "the update in bob's INBOX");
    expect(update).not.toContain("X-RESPONSE-COMMENT");
    // A description edit is not significant: no new SEQUENCE.
    const desc = await alice.ok<EventResponse>("PUT", `/api/calendar/events/Calendar/${created.id}`, { event: { ...moved.event, description: "bring numbers" }, etag: moved.etag });
    expect(desc.event.sequence).toBe(moved.event.sequence);
    // notify: false writes without mail; deleting cancels.
    expect((await alice.send("DELETE", `/api/calendar/events/Calendar/${created.id}?etag=${encodeURIComponent(desc.etag)}`)).status).toBe(200);
    await waitFor(async () => (await mailboxMessages(srv, BOB, "INBOX")).messages.map((m) => hasPart(m, "CANCEL", uid)).find(Boolean), "the CANCEL in bob's INBOX");
  });

  test("a recurring meeting: bob declines one occurrence (an override in his copy, REPLY with RECURRENCE-ID); his own reminders are all he may edit", async () => {
    const created = await alice.ok<EventResponse>("POST", "/api/calendar/events/Calendar", {
      event: ev({ title: "Weekly 1:1", start: "2026-09-01T10:00", end: "2026-09-01T10:30", recurrence: weekly({ count: 4 }), attendees: [{ address: BOB.email, name: "", partstat: "NEEDS-ACTION", role: "REQ-PARTICIPANT", rsvp: true, comment: "" }] }),
    });
    const uid = created.event.uid;
    const second = Date.UTC(2026, 8, 8, 8);
    const inst = await waitFor(async () => {
      const l = (await instances(bob, Date.UTC(2026, 8, 1), Date.UTC(2026, 9, 1))).instances.filter((i) => i.uid === uid);
      return l.length === 4 ? l : null;
    }, "the series in bob's calendar");
    expect(inst!.map((i) => i.myPartstat)).toEqual(["NEEDS-ACTION", "NEEDS-ACTION", "NEEDS-ACTION", "NEEDS-ACTION"]);
    const { calendar, id } = inst![0]!;
    expect((await bob.send("POST", `/api/calendar/events/${calendar}/${id}/respond`, { partstat: "DECLINED", scope: "this" })).status).toBe(400);
    expect((await bob.send("POST", `/api/calendar/events/${calendar}/${id}/respond`, { partstat: "DECLINED", scope: "following", recurrenceId: second })).status).toBe(400);
    const r = await bob.ok<EventResponse>("POST", `/api/calendar/events/${calendar}/${id}/respond`, { partstat: "DECLINED", comment: "On holiday", scope: "this", recurrenceId: second });
    expect(r.event.recurrenceId).toBe(second);
    expect(r.overrides).toEqual([second]);
    const after = (await instances(bob, Date.UTC(2026, 8, 1), Date.UTC(2026, 9, 1))).instances.filter((i) => i.uid === uid);
    expect(after.map((i) => i.myPartstat)).toEqual(["NEEDS-ACTION", "DECLINED", "NEEDS-ACTION", "NEEDS-ACTION"]);
    const reply = await waitFor(async () => (await mailboxMessages(srv, ALICE, "INBOX")).messages.map((m) => hasPart(m, "REPLY", uid)).find(Boolean), "bob's REPLY for one occurrence");
    expect(reply).toContain("RECURRENCE-ID");
    expect(reply).toMatch(/PARTSTAT=DECLINED/);
    // An attendee's edit changes only their reminders, never the organizer's event.
    const mine = await bob.ok<EventResponse>("GET", `/api/calendar/events/${calendar}/${id}`);
    const edited = await bob.ok<EventResponse>("PUT", `/api/calendar/events/${calendar}/${id}`, { event: { ...mine.event, title: "Hijacked", reminders: [5] }, etag: mine.etag });
    expect(edited.event.title).toBe("Weekly 1:1");
    expect(edited.event.reminders).toEqual([5]);
  });

  test("an all-day recurring meeting: one day answered from the instance the view shows", async () => {
    const created = await alice.ok<EventResponse>("POST", "/api/calendar/events/Calendar", {
      event: ev({ title: "Trade fair", allDay: true, timeZone: "", start: "2026-10-05", end: "2026-10-06", recurrence: { freq: "DAILY", interval: 1, byDay: [], byMonthDay: [], byMonth: [], bySetPos: [], count: 3, until: null, complex: false }, attendees: [{ address: BOB.email, name: "", partstat: "NEEDS-ACTION", role: "REQ-PARTICIPANT", rsvp: true, comment: "" }] }),
    });
    const uid = created.event.uid;
    const days = await waitFor(async () => {
      const l = (await instances(bob, Date.UTC(2026, 9, 1), Date.UTC(2026, 9, 10))).instances.filter((i) => i.uid === uid);
      return l.length === 3 ? l : null;
    }, "the fair in bob's calendar");
    expect(days.map((d) => d.startDate)).toEqual(["2026-10-05", "2026-10-06", "2026-10-07"]);
    const second = days[1]!;
    const r = await bob.ok<EventResponse>("POST", `/api/calendar/events/${second.calendar}/${second.id}/respond`, { partstat: "ACCEPTED", scope: "this", recurrenceId: second.recurrenceId });
    expect(r.event).toMatchObject({ allDay: true, start: "2026-10-06", recurrenceId: second.recurrenceId });
    const after = (await instances(bob, Date.UTC(2026, 9, 1), Date.UTC(2026, 9, 10))).instances.filter((i) => i.uid === uid);
    expect(after.map((i) => i.myPartstat)).toEqual(["NEEDS-ACTION", "ACCEPTED", "NEEDS-ACTION"]);
  });

  test("free/busy of BOB (a local account) from his calendar; unknown addresses are null", async () => {
    await bob.ok("POST", "/api/calendar/events/Calendar", { event: ev({ title: "Dentist", start: "2026-06-02T09:00", end: "2026-06-02T10:00" }) });
    await bob.ok("POST", "/api/calendar/events/Calendar", { event: ev({ title: "Free time", showAs: "free", start: "2026-06-02T11:00", end: "2026-06-02T12:00" }) });
    const fb = await alice.ok<FreeBusyResponse>("GET", `/api/calendar/freebusy?from=${Date.UTC(2026, 5, 2)}&to=${Date.UTC(2026, 5, 3)}&addresses=${BOB.email},someone@elsewhere.example,${CAROL.email}`);
    expect(fb.people.length).toBe(3);
    expect(fb.people[0]).toEqual({ address: BOB.email, busy: [{ start: Date.UTC(2026, 5, 2, 7), end: Date.UTC(2026, 5, 2, 8), type: "BUSY" }] });
    expect(fb.people[1]).toEqual({ address: "someone@elsewhere.example", busy: null });
    expect(fb.people[2]).toEqual({ address: CAROL.email, busy: [] });
    expect((await alice.send("GET", `/api/calendar/freebusy?from=1&to=0&addresses=${BOB.email}`)).status).toBe(400);
  });
});

describe("import, export, move", () => {
  test("import splits by UID, same UID replaces, bad objects are listed; export is one VCALENDAR with each VTIMEZONE once", async () => {
    const tz = (await dav(ALICE, "GET", `/dav/calendars/${ALICE.email}/Calendar/`)).status; // the calendar exists
    expect([200, 207, 405]).toContain(tz);
    const made = await carol.ok<CollectionInfo>("POST", "/api/groupware/collections", { kind: "calendar", displayName: "Imported" });
    const file = (summary: string) => [
      "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "METHOD:PUBLISH",
      "BEGIN:VTIMEZONE", "TZID:Europe/Berlin", "BEGIN:STANDARD", "DTSTART:19701025T030000", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "END:STANDARD",
      "BEGIN:DAYLIGHT", "DTSTART:19700329T020000", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "END:DAYLIGHT", "END:VTIMEZONE",
      "BEGIN:VEVENT", "UID:imp-1", "DTSTAMP:20260101T000000Z", "DTSTART;TZID=Europe/Berlin:20260701T090000", "DTEND;TZID=Europe/Berlin:20260701T100000", `SUMMARY:${summary}`, "END:VEVENT",
      "BEGIN:VEVENT", "UID:imp-2", "DTSTAMP:20260101T000000Z", "DTSTART;TZID=Europe/Berlin:20260702T090000", "DTEND;TZID=Europe/Berlin:20260702T100000", "SUMMARY:Second", "END:VEVENT",
      "BEGIN:VEVENT", "DTSTAMP:20260101T000000Z", "DTSTART:20260703T090000Z", "SUMMARY:No UID", "END:VEVENT",
      "BEGIN:VEVENT", "UID:imp-bad", "DTSTAMP:20260101T000000Z", "SUMMARY:No start", "END:VEVENT",
      "END:VCALENDAR", "",
    ].join("\r\n");
    const send = (body: string) => request("POST", `${srv.base}/api/calendar/import/${made.name}`, { headers: { cookie: carol.cookie, origin: srv.base, "x-csrf-token": carol.csrf, "content-type": "text/calendar" }, body });
    const first = (await send(file("First"))).json<ImportResult>();
    expect(first.imported).toBe(2);
    expect(first.updated).toBe(0);
    expect(first.errors.length).toBe(2);
    const again = (await send(file("First, again"))).json<ImportResult>();
    expect(again).toMatchObject({ imported: 0, updated: 2 });
    const inst = (await instances(carol, Date.UTC(2026, 6, 1), Date.UTC(2026, 6, 4), made.name)).instances;
    expect(inst.map((i) => i.title).sort()).toEqual(["First, again", "Second"]);
    expect((await send("hello")).status).toBe(400);
    expect((await alice.send("POST", `/api/calendar/import/${made.name}`)).status).toBe(404);
    const exp = await carol.get(`/api/calendar/export/${made.name}`);
    expect(exp.status).toBe(200);
    expect(String(exp.headers["content-type"])).toContain("text/calendar");
    expect(String(exp.headers["content-disposition"])).toContain("Imported.ics");
    const root = ICAL.Component.fromString(exp.text);
    expect(root.getAllSubcomponents("vtimezone").length).toBe(1);
    expect(root.getAllSubcomponents("vevent").map((e) => e.getFirstPropertyValue("uid")).sort()).toEqual(["imp-1", "imp-2"]);
    // Round trip: the export imported into another calendar gives the same events.
    const other = await carol.ok<CollectionInfo>("POST", "/api/groupware/collections", { kind: "calendar", displayName: "Round trip" });
    await carol.ok("DELETE", `/api/groupware/collections/${made.name}`);
    const back = (await request("POST", `${srv.base}/api/calendar/import/${other.name}`, { headers: { cookie: carol.cookie, origin: srv.base, "x-csrf-token": carol.csrf, "content-type": "text/calendar" }, body: exp.text })).json<ImportResult>();
    expect(back).toMatchObject({ imported: 2, updated: 0, errors: [] });
    expect((await alice.send("GET", `/api/calendar/export/${other.name}`)).status).toBe(404);
  });

  test("move to another calendar of one's own; a stale etag or someone else's calendar is refused", async () => {
    const e = await alice.ok<EventResponse>("POST", "/api/calendar/events/Calendar", { event: ev({ title: "Mover", start: "2026-08-01T09:00", end: "2026-08-01T10:00" }) });
    const dest = await alice.ok<CollectionInfo>("POST", "/api/groupware/collections", { kind: "calendar", displayName: "Private" });
    expect((await alice.send("POST", `/api/calendar/events/Calendar/${e.id}/move`, { to: dest.name, etag: '"stale"' })).status).toBe(409);
    expect((await alice.send("POST", `/api/calendar/events/Calendar/${e.id}/move`, { to: "nope" })).status).toBe(404);
    const moved = await alice.ok<EventResponse>("POST", `/api/calendar/events/Calendar/${e.id}/move`, { to: dest.name, etag: e.etag });
    expect(moved.calendar).toBe(dest.name);
    expect((await alice.send("GET", `/api/calendar/events/Calendar/${e.id}`)).status).toBe(404);
    const inst = (await instances(alice, Date.UTC(2026, 7, 1), Date.UTC(2026, 7, 2), dest.name)).instances;
    expect(inst.map((i) => i.title)).toEqual(["Mover"]);
  });
});
