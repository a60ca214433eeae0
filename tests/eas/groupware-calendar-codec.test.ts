/**
 * The Calendar converter (protocols/http/eas/groupware/calendar.ts) with
 * hand-built ApplicationData: field mapping both ways, merge onto the stored
 * object, exceptions per version, instance deletes, and the malformed-input
 * corpus (every case an EasDataError, never another exception).
 */
import { describe, expect, test } from "bun:test";
import type { Account, Item } from "../../storage/api.ts";
import { calendarCodec, deleteCalendarInstance } from "../../protocols/http/eas/groupware/calendar.ts";
import { EasDataError, type CodecContext } from "../../protocols/http/eas/groupware/codec.ts";
import { encodeTimezone, packTimezone } from "../../protocols/http/eas/groupware/timezone.ts";
import { el, kid, kids, kidText, type WElement } from "../../protocols/http/eas/wbxml/tree.ts";
import { parseCalendarObject } from "../../src/groupware/ical/parse.ts";
import type { Logger } from "../../src/log.ts";
import { simpleEvent, unfold, weeklyMeeting } from "./groupware-calendar-helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const ME = "me@example.test";
const NOW = Date.UTC(2026, 11, 1, 8, 0, 0);
const silent = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger; // the codec only logs through it
const account = { id: 1, email: ME, settings: { displayName: "Me Myself" } } as unknown as Account;
const cx = (version: number): CodecContext => ({ version, account, body: { prefs: [{ type: 1 }], mimeSupport: 0 }, now: NOW, log: silent });
const item = { modifiedAt: NOW } as Item;
const app = (...c: (WElement | null | false)[]) => el("AirSync:ApplicationData", c);
const C = (name: string, ...v: (string | number | WElement | null)[]) => el(`Calendar:${name}`, ...v);
const weekly = enc.encode(weeklyMeeting("w@x", ME, [{ email: "a@example.net", name: "A", partstat: "ACCEPTED" }]));
/** The series' Recurrence as the device got it (before 16.0 a Change without it ends the series). */
const weeklyRec = el("Calendar:Recurrence", el("Calendar:Type", 1), el("Calendar:Interval", 1), el("Calendar:Occurrences", 10), el("Calendar:DayOfWeek", 2));

function add(version: number, ...c: (WElement | null | false)[]): string {
  return unfold(dec.decode(calendarCodec.fromEas(app(...c), null, cx(version))));
}
function change(existing: Uint8Array, version: number, ...c: (WElement | null | false)[]): string {
  return unfold(dec.decode(calendarCodec.fromEas(app(...c), existing, cx(version))));
}
function refused(fn: () => unknown, status = 6): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EasDataError);
    expect((e as EasDataError).status).toBe(status);
    return (e as Error).message;
  }
  throw new Error("accepted");
}

describe("calendar codec: device -> iCalendar", () => {
  test("an Add becomes a VCALENDAR with Pillarbox's PRODID, the device's UID, times in the device's zone and its VTIMEZONE", () => {
    const ics = add(
      141,
      C("Timezone", encodeTimezone("Europe/Berlin", null, 2026)),
      C("StartTime", "20260710T080000Z"),
      C("EndTime", "20260710T093000Z"),
      C("Subject", "Dentist"),
      C("UID", "dev-1"),
      C("Reminder", 10),
      C("BusyStatus", 3),
      C("Sensitivity", 3),
      C("Categories", C("Category", "Health"), C("Category", "Me")),
    );
    expect(ics).toContain("PRODID:-//Pillarbox//ActiveSync//EN");
    expect(ics).toContain("UID:dev-1");
    expect(ics).toContain("TZID:Europe/Berlin");
    expect(ics).toContain("DTSTART;TZID=Europe/Berlin:20260710T100000");
    expect(ics).toContain("DTEND;TZID=Europe/Berlin:20260710T113000");
    expect(ics).toContain("TRIGGER:-PT10M");
    expect(ics).toContain("X-MICROSOFT-CDO-BUSYSTATUS:OOF");
    expect(ics).toContain("TRANSP:OPAQUE");
    expect(ics).toContain("CLASS:CONFIDENTIAL");
    expect(ics).toContain("CATEGORIES:Health,Me");
    expect(ics).toMatch(/DTSTAMP:\d{8}T\d{6}Z/);
    expect(parseCalendarObject(ics).uid).toBe("dev-1");
  });

  test("a device zone matching no known zone becomes the object's own VTIMEZONE and keeps the wall-clock time", () => {
    const blob = packTimezone({ bias: -345, standardName: "Somewhere", standardDate: null, standardBias: 0, daylightName: "", daylightDate: null, daylightBias: 0 });
    const ics = add(141, C("Timezone", blob), C("StartTime", "20260710T041500Z"), C("EndTime", "20260710T051500Z"), C("Subject", "Custom"));
    const tzid = /DTSTART;TZID=([^:]+):20260710T100000/.exec(ics)?.[1];
    expect(tzid).toBeTruthy();
    expect(ics).toContain(`BEGIN:VTIMEZONE\r\nTZID:${tzid}`);
    expect(parseCalendarObject(ics).calendarFields!.dtStart).toBe(Date.UTC(2026, 6, 10, 4, 15));
  });

  test("an Add without UID gets a new one; without Timezone it is UTC; 16.x takes ClientUid", () => {
    const a = add(141, C("StartTime", "20260710T080000Z"), C("EndTime", "20260710T090000Z"), C("Subject", "x"));
    expect(a).toMatch(/UID:[0-9a-f-]{36}/);
    expect(a).toContain("DTSTART:20260710T080000Z");
    const b = add(161, C("StartTime", "20260710T080000Z"), C("EndTime", "20260710T090000Z"), C("ClientUid", "client-7"));
    expect(b).toContain("UID:client-7");
  });

  test("a meeting made on the device: I am the ORGANIZER, attendees NEEDS-ACTION with RSVP, types to ROLE/CUTYPE", () => {
    const ics = add(
      141,
      C("StartTime", "20260710T080000Z"),
      C("EndTime", "20260710T090000Z"),
      C("Attendees", C("Attendee", C("Email", "x@example.net"), C("Name", "X"), C("AttendeeType", 2)), C("Attendee", C("Email", "room@example.net"), C("Name", "Room"), C("AttendeeType", 3))),
    );
    expect(ics).toContain("ORGANIZER;CN=Me Myself:mailto:me@example.test");
    expect(ics).toContain("ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=X;ROLE=OPT-PARTICIPANT:mailto:x@example.net");
    expect(ics).toContain("CUTYPE=RESOURCE");
  });

  test("a Change that repeats what the device got changes nothing but DTSTAMP/LAST-MODIFIED", () => {
    for (const v of [121, 140, 141, 160, 161]) {
      const shown = calendarCodec.toEas(weekly, item, cx(v));
      const back = dec.decode(calendarCodec.fromEas(app(...shown), weekly, cx(v)));
      const strip = (s: string) => unfold(s).split("\r\n").filter((l) => !/^(DTSTAMP|LAST-MODIFIED):/.test(l)).sort().join("\n");
      expect(strip(back)).toBe(strip(dec.decode(weekly)));
    }
  });

  test("a series made all-day on the device: DATE values, its exceptions named again by date", () => {
    const ics = change(
      weekly,
      141,
      C("Timezone", encodeTimezone("Europe/Berlin", null, 2026)),
      C("AllDayEvent", 1),
      C("StartTime", "20261206T230000Z"),
      C("EndTime", "20261207T230000Z"),
      weeklyRec,
      C("Exceptions", C("Exception", C("ExceptionStartTime", "20261220T230000Z"), C("Deleted", 1))),
    );
    expect(ics).toContain("DTSTART;VALUE=DATE:20261207");
    expect(ics).toContain("DTEND;VALUE=DATE:20261208");
    expect(ics).toContain("EXDATE;VALUE=DATE:20261221");
    expect(ics).not.toContain("RECURRENCE-ID");
    expect(ics).not.toContain("EXDATE;TZID");
    expect(parseCalendarObject(ics).calendarFields!.allDay).toBe(true);
  });

  test("an invitee's 14.1 Change carrying its answer as its own AttendeeStatus: my PARTSTAT, and a new exception starts from the answered series", () => {
    const invite = enc.encode(weeklyMeeting("inv2@x", "boss@example.net", [{ email: ME, name: "Me", partstat: "NEEDS-ACTION" }]));
    const ics = change(
      invite,
      141,
      weeklyRec,
      C("Attendees", C("Attendee", C("Email", ME), C("Name", "Me"), C("AttendeeStatus", 3), C("AttendeeType", 1))),
      C("Exceptions", C("Exception", C("ExceptionStartTime", "20261214T090000Z"), C("StartTime", "20261214T130000Z"), C("EndTime", "20261214T140000Z"), C("Subject", "Team sync (afternoon)")), C("Exception", C("ExceptionStartTime", "20261228T090000Z"), C("BusyStatus", 2))),
    );
    const comps = ics.split("BEGIN:VEVENT").slice(1);
    expect(comps.length).toBe(3);
    const mine = (c: string) => /ATTENDEE;[^\r\n]*PARTSTAT=([A-Z-]+)[^\r\n]*mailto:me@example\.test/.exec(c)?.[1];
    expect(mine(comps[0]!)).toBe("ACCEPTED");
    const added = comps.find((c) => c.includes("RECURRENCE-ID;TZID=Europe/Berlin:20261228T100000"))!;
    expect(mine(added)).toBe("ACCEPTED");
    expect(ics).not.toContain("boss@example.net;"); // the organizer is untouched
    expect(ics).toContain("ORGANIZER;CN=Organizer Person:mailto:boss@example.net");
  });

  test("an HTML body echoed back leaves DESCRIPTION as it was", () => {
    const html: CodecContext = { ...cx(141), body: { prefs: [{ type: 2 }], mimeSupport: 0 } };
    const shown = calendarCodec.toEas(weekly, item, html);
    expect(kidText(kid(app(...shown), "AirSyncBase:Body"), "AirSyncBase:Type")).toBe("2");
    const back = unfold(dec.decode(calendarCodec.fromEas(app(...shown), weekly, html)));
    expect(back).toContain("DESCRIPTION:Weekly agenda\r\n");
  });

  test("before 16.0 the Exceptions list is whole: an override the device leaves out goes; in 16.x it is kept", () => {
    const list = (v: number) =>
      C("Exceptions", C("Exception", v >= 160 ? el("AirSyncBase:InstanceId", "2026-12-21T09:00:00.000Z") : C("ExceptionStartTime", "20261221T090000Z"), C("Deleted", 1)));
    const v14 = change(weekly, 141, weeklyRec, list(141));
    expect(v14).not.toContain("RECURRENCE-ID");
    expect(v14).toContain("EXDATE;TZID=Europe/Berlin:20261221T100000");
    const v16 = change(weekly, 161, list(161));
    expect(v16).toContain("RECURRENCE-ID;TZID=Europe/Berlin:20261214T100000");
  });

  test("a device exception moves an instance and renames it: a RECURRENCE-ID override in the series' zone; Deleted 1 adds an EXDATE", () => {
    const ics = change(
      weekly,
      161,
      C(
        "Exceptions",
        C("Exception", el("AirSyncBase:InstanceId", "2026-12-28T09:00:00.000Z"), C("Subject", "Moved"), C("StartTime", "20261228T150000Z"), C("EndTime", "20261228T160000Z")),
        C("Exception", el("AirSyncBase:InstanceId", "2027-01-04T09:00:00.000Z"), C("Deleted", 1)),
      ),
    );
    expect(ics).toContain("RECURRENCE-ID;TZID=Europe/Berlin:20261228T100000");
    expect(ics).toContain("DTSTART;TZID=Europe/Berlin:20261228T160000");
    expect(ics).toContain("SUMMARY:Moved");
    expect(ics).toContain("EXDATE;TZID=Europe/Berlin:20270104T100000");
    // the organizer's change raised SEQUENCE
    expect(ics).toContain("SEQUENCE:1");
  });

  test("a 16.x instance Change (InstanceId in ApplicationData) edits only that instance", () => {
    const ics = change(weekly, 161, el("AirSyncBase:InstanceId", "2026-12-14T09:00:00.000Z"), C("Subject", "Only this one"));
    expect(ics).toContain("SUMMARY:Only this one");
    expect(ics).toContain("SUMMARY:Team sync\r\n");
    expect(ics).toContain("DTSTART;TZID=Europe/Berlin:20261214T140000"); // the override's time is kept
  });

  test("a stored rule ActiveSync cannot express is kept when the device sends no Recurrence; an expressible one goes before 16.0", () => {
    const odd = enc.encode(simpleEvent("odd@x", "20260105T090000Z", "20260105T100000Z", "Odd", ["RRULE:FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=1,-1"]));
    const shown = calendarCodec.toEas(odd, item, cx(141));
    expect(kid(app(...shown), "Calendar:Recurrence")).toBeUndefined();
    expect(change(odd, 141, C("Subject", "Odd 2"))).toContain("RRULE:FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=1,-1");
    const ended = change(weekly, 141, C("Subject", "No longer a series"));
    expect(ended).not.toMatch(/^RRULE:FREQ=WEEKLY/m);
    expect(ended).not.toContain("RECURRENCE-ID");
    expect(ended).not.toContain("EXDATE");
    expect(change(weekly, 141, weeklyRec, C("Subject", "Still a series"))).toContain("RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=10");
    expect(change(weekly, 161, C("Subject", "Ghosted recurrence"))).toContain("RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=10");
  });

  test("before 16.0 a managed element the Change leaves out is removed; with Supported not naming it, or in 16.x, it is kept", () => {
    const gone = change(weekly, 141, weeklyRec, C("Subject", "Bare"));
    expect(gone).not.toContain("LOCATION:");
    expect(gone).not.toContain("CATEGORIES:");
    expect(gone).not.toContain("BEGIN:VALARM");
    expect(gone).not.toContain("mailto:a@example.net"); // the organizer's device dropped the attendee
    expect(gone).not.toContain("RECURRENCE-ID"); // and the exceptions
    expect(gone).toContain("DESCRIPTION:Weekly agenda"); // a Body left out is never taken as removed
    expect(gone).toContain("X-PILLARBOX-TEST");
    const ghosted = { ...cx(141), supported: new Set(["Calendar:Subject", "Calendar:Recurrence"]) } as CodecContext;
    const kept = unfold(dec.decode(calendarCodec.fromEas(app(weeklyRec, C("Subject", "Bare")), weekly, ghosted)));
    expect(kept).toContain("LOCATION:Room 4.2");
    expect(kept).toContain("CATEGORIES:Work,Team");
    expect(kept).toContain("RECURRENCE-ID");
    expect(kept).toContain("SUMMARY:Bare");
    const v16 = change(weekly, 161, C("Subject", "Bare"));
    expect(v16).toContain("LOCATION:Room 4.2");
    expect(v16).toContain("TRIGGER:-PT15M");
    expect(v16).toContain("mailto:a@example.net");
  });

  test("before 16.0 an Exception's missing element has the series' value", () => {
    const ex = C("Exceptions", C("Exception", C("ExceptionStartTime", "20261214T090000Z"), C("StartTime", "20261214T130000Z"), C("EndTime", "20261214T140000Z")));
    const ics = change(weekly, 141, weeklyRec, C("Subject", "Team sync"), C("Location", "Room 4.2"), ex);
    expect(ics).not.toContain("SUMMARY:Team sync (afternoon)"); // the device dropped the instance's own title
    expect(ics.match(/SUMMARY:Team sync\r\n/g)?.length).toBe(2);
  });

  test("an invitee's device answers with ResponseType: my PARTSTAT; it cannot rewrite the attendee list", () => {
    const invite = enc.encode(weeklyMeeting("inv@x", "boss@example.net", [{ email: ME, name: "Me", partstat: "NEEDS-ACTION" }]));
    const shown = app(...calendarCodec.toEas(invite, item, cx(141)));
    expect(kidText(shown, "Calendar:MeetingStatus")).toBe("3");
    expect(kidText(shown, "Calendar:ResponseType")).toBe("5");
    expect(kidText(shown, "Calendar:BusyStatus")).toBe("1");
    const ics = change(invite, 141, C("ResponseType", 3), C("Attendees", C("Attendee", C("Email", "intruder@example.net"), C("Name", "I"))));
    expect(ics).toContain("PARTSTAT=ACCEPTED");
    expect(ics).not.toContain("intruder");
    expect(ics).toContain("SEQUENCE:0"); // an attendee's answer does not raise SEQUENCE
    expect(ics).toContain("X-MICROSOFT-CDO-REPLYTIME;VALUE=DATE-TIME:20261201T080000Z");
    const answered = app(...calendarCodec.toEas(enc.encode(ics), item, cx(141)));
    expect(kidText(answered, "Calendar:ResponseType")).toBe("3");
    expect(kidText(answered, "Calendar:AppointmentReplyTime")).toBe("20261201T080000Z");
    expect(kidText(answered, "Calendar:BusyStatus")).toBe("2");
  });
});

describe("calendar codec: iCalendar -> device", () => {
  test("12.1 gets ExceptionStartTime and Calendar:Location, no ResponseType; 16.1 InstanceId and airsyncbase:Location", () => {
    const v12 = app(...calendarCodec.toEas(weekly, item, cx(121)));
    expect(kidText(v12, "Calendar:Location")).toBe("Room 4.2");
    expect(kidText(v12, "Calendar:ResponseType")).toBeUndefined();
    const ex12 = kids(kid(v12, "Calendar:Exceptions"), "Calendar:Exception");
    expect(ex12.map((e) => kidText(e, "Calendar:ExceptionStartTime"))).toEqual(["20261214T090000Z", "20261221T090000Z"]);
    expect(kid(ex12[0], "Calendar:Attendees")).toBeUndefined();
    const v16 = app(...calendarCodec.toEas(weekly, item, cx(161)));
    expect(kidText(kid(v16, "AirSyncBase:Location"), "AirSyncBase:DisplayName")).toBe("Room 4.2");
    expect(kids(kid(v16, "Calendar:Exceptions"), "Calendar:Exception").map((e) => kidText(e, "AirSyncBase:InstanceId"))).toEqual(["2026-12-14T09:00:00.000Z", "2026-12-21T09:00:00.000Z"]);
  });

  test("a floating event is sent as UTC times with a UTC blob and stays floating after a device edit", () => {
    const floating = enc.encode(simpleEvent("fl@x", "20260301T090000", "20260301T100000", "Floating"));
    const shown = app(...calendarCodec.toEas(floating, item, cx(141)));
    expect(kidText(shown, "Calendar:StartTime")).toBe("20260301T090000Z");
    expect(change(floating, 141, ...shown.children.filter((x): x is WElement => typeof x === "object" && !(x instanceof Uint8Array)).map((x) => (x.name === "Subject" ? C("Subject", "F2") : x)))).toContain("DTSTART:20260301T090000\r\n");
  });
});

describe("calendar codec: instance deletes", () => {
  test("an EXDATE for the instance; the override of a moved one is dropped; no such instance is Status 8", () => {
    const a = unfold(dec.decode(deleteCalendarInstance(weekly, Date.UTC(2026, 11, 28, 9), cx(161))));
    expect(a).toContain("EXDATE;TZID=Europe/Berlin:20261228T100000");
    const b = unfold(dec.decode(deleteCalendarInstance(weekly, Date.UTC(2026, 11, 14, 9), cx(161))));
    expect(b).not.toContain("RECURRENCE-ID");
    expect(b).toContain("EXDATE;TZID=Europe/Berlin:20261214T100000");
    refused(() => deleteCalendarInstance(weekly, Date.UTC(2026, 11, 28, 9, 30), cx(161)), 8);
    refused(() => deleteCalendarInstance(weekly, Date.UTC(2027, 5, 7, 8), cx(161)), 8); // after COUNT=10
    refused(() => deleteCalendarInstance(enc.encode(simpleEvent("s@x", "20260301T090000Z", "20260301T100000Z", "Single")), Date.UTC(2026, 2, 1, 9), cx(161)), 8);
    // all-day series: the instance is named by its date
    const allDay = enc.encode(simpleEvent("ad@x", "20260301", "20260302", "Daily", ["RRULE:FREQ=DAILY;COUNT=5"]));
    expect(unfold(dec.decode(deleteCalendarInstance(allDay, Date.UTC(2026, 2, 3), cx(161))))).toContain("EXDATE;VALUE=DATE:20260303");
  });
});

describe("calendar codec: malformed device data is an EasDataError (Status 6)", () => {
  const ok = [C("StartTime", "20260710T080000Z"), C("EndTime", "20260710T090000Z")];
  const rec = (...c: WElement[]) => C("Recurrence", ...c);
  const cases: [string, (WElement | null)[]][] = [
    ["month 13 in StartTime", [C("StartTime", "20261345T000000Z"), C("EndTime", "20261346T000000Z")]],
    ["February 30", [C("StartTime", "20260230T000000Z"), C("EndTime", "20260301T000000Z")]],
    ["not a date", [C("StartTime", "tomorrow"), C("EndTime", "20260710T090000Z")]],
    ["end before start", [C("StartTime", "20260710T090000Z"), C("EndTime", "20260710T080000Z")]],
    ["Timezone not base64", [C("Timezone", "!!!not base64!!!"), ...ok]],
    ["Timezone too short", [C("Timezone", Buffer.from("short").toString("base64")), ...ok]],
    ["Occurrences 100000", [...ok, rec(C("Type", 0), C("Interval", 1), C("Occurrences", 100000))]],
    ["Interval 0", [...ok, rec(C("Type", 0), C("Interval", 0))]],
    ["Recurrence Type 4", [...ok, rec(C("Type", 4), C("Interval", 1))]],
    ["Until month 13", [...ok, rec(C("Type", 0), C("Interval", 1), C("Until", "20261301T000000Z"))]],
    ["BusyStatus 9", [...ok, C("BusyStatus", 9)]],
    ["Sensitivity -1", [...ok, C("Sensitivity", "-1")]],
    ["Reminder in years", [...ok, C("Reminder", 99999999)]],
    ["AllDayEvent 2", [...ok, C("AllDayEvent", 2)]],
    ["attendee without address", [...ok, C("Attendees", C("Attendee", C("Email", "not an address"), C("Name", "N")))]],
    ["5,000 attendees", [...ok, C("Attendees", Array.from({ length: 5000 }, (_, i) => C("Attendee", C("Email", `p${i}@example.net`), C("Name", `P ${i}`))) as unknown as WElement)]],
    ["8 MB body", [...ok, el("AirSyncBase:Body", el("AirSyncBase:Type", 1), el("AirSyncBase:Data", "x".repeat(8 << 20)))]],
    ["UID with control characters", [...ok, C("UID", "a\u0001b")]],
    ["subject over 32 KiB", [...ok, C("Subject", "s".repeat(40_000))]],
  ];
  for (const [name, data] of cases) {
    test(`Add: ${name}`, () => {
      refused(() => calendarCodec.fromEas(app(...data), null, cx(141)));
    });
  }

  test("10,000 exceptions, an Exception without instance, two for one instance", () => {
    const many = C("Exceptions", Array.from({ length: 10_000 }, (_, i) => C("Exception", C("ExceptionStartTime", `2027${String((i % 12) + 1).padStart(2, "0")}01T090000Z`), C("Deleted", 1))) as unknown as WElement);
    refused(() => calendarCodec.fromEas(app(many), weekly, cx(141)));
    refused(() => calendarCodec.fromEas(app(weeklyRec, many), weekly, cx(141)));
    refused(() => calendarCodec.fromEas(app(weeklyRec, C("Exceptions", C("Exception", C("Subject", "which?")))), weekly, cx(141)));
    const twice = C("Exceptions", C("Exception", C("ExceptionStartTime", "20261228T090000Z"), C("Deleted", 1)), C("Exception", C("ExceptionStartTime", "20261228T090000Z"), C("Subject", "x")));
    refused(() => calendarCodec.fromEas(app(weeklyRec, twice), weekly, cx(141)));
    refused(() => calendarCodec.fromEas(app(weeklyRec, C("Exceptions", C("Exception", C("ExceptionStartTime", "20261299T090000Z"), C("Deleted", 1)))), weekly, cx(141)));
  });

  test("a stored object that is not an event, and garbage as the stored body", () => {
    const todo = enc.encode("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTODO\r\nUID:t\r\nDTSTAMP:20260101T000000Z\r\nEND:VTODO\r\nEND:VCALENDAR\r\n");
    refused(() => calendarCodec.fromEas(app(C("Subject", "x")), todo, cx(141)));
    refused(() => calendarCodec.fromEas(app(C("Subject", "x")), enc.encode("not iCalendar"), cx(141)));
  });
});
