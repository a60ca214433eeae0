/**
 * Unit tests of the meeting-message converter (protocols/http/eas/email/
 * meeting.ts) and of the answer editor (src/groupware/scheduling/answer.ts): the
 * MessageClass and MeetingRequest element of invitations, cancellations and
 * replies per protocol version, the GlobalObjId structure, and malformed
 * text/calendar parts, which must leave a plain mail and never throw.
 */
import { describe, expect, test } from "bun:test";
import ICAL from "ical.js";
import { parseMime } from "../../mail/index.ts";
import { globalObjId, MeetingClass, meetingMessage } from "../../protocols/http/eas/email/meeting.ts";
import { AnswerError, applyAnswers } from "../../src/groupware/scheduling/answer.ts";
import { kid, kids, kidText, type WElement } from "../../protocols/http/eas/wbxml/tree.ts";
import { BERLIN } from "../dav/clients/fixtures.ts";

const enc = new TextEncoder();

function ical(method: string, lines: string[], extra: string[] = []): string {
  return ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Tests//EN", `METHOD:${method}`, ...extra, "BEGIN:VEVENT", ...lines, "END:VEVENT", "END:VCALENDAR", ""].join("\r\n");
}


/** A mail carrying `calendar` as iMIP does (RFC 6047): text/plain + text/calendar; method=... in multipart/alternative. */
function mail(calendar: string, method: string, opts: { base64?: boolean } = {}): Uint8Array {
  const body = opts.base64 ? Buffer.from(calendar).toString("base64").replace(/.{76}/g, "$&\r\n") : calendar;
  return enc.encode(
    [
      "From: Bob <bob@example.test>",
      "To: alice@example.test",
      "Subject: Invitation",
      "MIME-Version: 1.0",
      'Content-Type: multipart/alternative; boundary="b1"',
      "",
      "--b1",
      "Content-Type: text/plain; charset=utf-8",
      "",
      "You are invited.",
      "--b1",
      `Content-Type: text/calendar; method=${method}; charset=utf-8`,
      ...(opts.base64 ? ["Content-Transfer-Encoding: base64"] : []),
      "",
      body,
      "--b1--",
      "",
    ].join("\r\n"),
  );
}

function view(calendar: string, method: string, version: number, opts: { base64?: boolean } = {}) {
  const raw = mail(calendar, method, opts);
  return meetingMessage(parseMime(raw).root, raw, version);
}

const EVENT = [
  "UID:meeting-1@example.test",
  "DTSTAMP:20261201T090000Z",
  "DTSTART;TZID=Europe/Berlin:20261210T100000",
  "DTEND;TZID=Europe/Berlin:20261210T110000",
  "SUMMARY:Planning",
  "LOCATION:Room 4",
  "ORGANIZER;CN=Bob Builder:mailto:bob@example.test",
  "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:alice@example.test",
  "CLASS:PRIVATE",
  "BEGIN:VALARM",
  "ACTION:DISPLAY",
  "TRIGGER:-PT15M",
  "END:VALARM",
];

const mr = (el: WElement | null | undefined) => el ?? undefined;

describe("meeting requests", () => {
  test("14.1: class, times in UTC, organizer, reminder in seconds, GlobalObjId with the vCal UID, Email:Location, MeetingMessageType 1", () => {
    const m = view(ical("REQUEST", EVENT, BERLIN), "REQUEST", 141)!;
    expect(m.messageClass).toBe(MeetingClass.Request);
    const e = mr(m.element);
    expect(kidText(e, "Email:StartTime")).toBe("2026-12-10T09:00:00.000Z");
    expect(kidText(e, "Email:EndTime")).toBe("2026-12-10T10:00:00.000Z");
    expect(kidText(e, "Email:DtStamp")).toBe("2026-12-01T09:00:00.000Z");
    expect(kidText(e, "Email:AllDayEvent")).toBe("0");
    expect(kidText(e, "Email:InstanceType")).toBe("0");
    expect(kidText(e, "Email:Organizer")).toBe("Bob Builder <bob@example.test>");
    expect(kidText(e, "Email:Location")).toBe("Room 4");
    expect(kidText(e, "Email:Reminder")).toBe("900");
    expect(kidText(e, "Email:Sensitivity")).toBe("2");
    expect(kidText(e, "Email:BusyStatus")).toBe("2");
    expect(kidText(e, "Email:ResponseRequested")).toBe("1");
    expect(kidText(e, "Email2:MeetingMessageType")).toBe("1");
    expect(kidText(e, "Email:DisallowNewTimeProposal")).toBe("0");
    expect(kid(e, "Calendar:UID")).toBeUndefined();
    // The TIMEZONE blob (MS-ASDTYPE: 172 bytes) says UTC+1 (Bias -60 minutes).
    const tz = Buffer.from(kidText(e, "Email:TimeZone")!, "base64");
    expect(tz.length).toBe(172);
    expect(tz.readInt32LE(0)).toBe(-60);
    const goid = Buffer.from(kidText(e, "Email:GlobalObjId")!, "base64");
    expect(goid.subarray(0, 16).toString("hex")).toBe("040000008200e00074c5b7101a82e008");
    expect(goid.readUInt32LE(36)).toBe(goid.length - 40);
    expect(goid.subarray(40, 48).toString("latin1")).toBe("vCal-Uid");
    expect(goid.subarray(52, goid.length - 1).toString("utf8")).toBe("meeting-1@example.test");
    expect(goid[goid.length - 1]).toBe(0);
  });

  test("16.1: calendar:UID instead of GlobalObjId, airsyncbase:Location; 12.1 has neither DisallowNewTimeProposal nor MeetingMessageType", () => {
    const e16 = mr(view(ical("REQUEST", EVENT, BERLIN), "REQUEST", 161)!.element);
    expect(kidText(e16, "Calendar:UID")).toBe("meeting-1@example.test");
    expect(kid(e16, "Email:GlobalObjId")).toBeUndefined();
    expect(kidText(kid(e16, "AirSyncBase:Location"), "AirSyncBase:DisplayName")).toBe("Room 4");
    expect(kid(e16, "Email:Location")).toBeUndefined();
    const e12 = mr(view(ical("REQUEST", EVENT, BERLIN), "REQUEST", 121)!.element);
    expect(kid(e12, "Email:DisallowNewTimeProposal")).toBeUndefined();
    expect(kid(e12, "Email2:MeetingMessageType")).toBeUndefined();
    expect(kid(e12, "Email:GlobalObjId")).toBeDefined();
  });

  test("a weekly meeting carries Recurrences in the Email namespace; an update (SEQUENCE 1) is MeetingMessageType 2", () => {
    const m = view(ical("REQUEST", [...EVENT, "RRULE:FREQ=WEEKLY;BYDAY=TH;UNTIL=20270131T090000Z", "SEQUENCE:1"], BERLIN), "REQUEST", 141, { base64: true })!;
    const e = mr(m.element);
    expect(kidText(e, "Email:InstanceType")).toBe("1");
    const rec = kid(kid(e, "Email:Recurrences"), "Email:Recurrence");
    expect(kidText(rec, "Email:Type")).toBe("1");
    expect(kidText(rec, "Email:DayOfWeek")).toBe("16");
    expect(kidText(rec, "Email:Until")).toMatch(/^2027-01-31T\d{2}:\d{2}:\d{2}\.000Z$/);
    expect(kids(rec).every((k) => k.ns === "Email" || k.ns === "Email2")).toBe(true);
    expect(kidText(e, "Email2:MeetingMessageType")).toBe("2");
  });

  test("an invitation to one moved occurrence: RecurrenceId, InstanceType 3, the instance date in the GlobalObjId", () => {
    const lines = EVENT.filter((l) => !l.startsWith("DTSTART") && !l.startsWith("DTEND")).concat([
      "RECURRENCE-ID;TZID=Europe/Berlin:20261217T100000",
      "DTSTART;TZID=Europe/Berlin:20261217T120000",
      "DTEND;TZID=Europe/Berlin:20261217T130000",
    ]);
    const e = mr(view(ical("REQUEST", lines, BERLIN), "REQUEST", 141)!.element);
    expect(kidText(e, "Email:RecurrenceId")).toBe("2026-12-17T09:00:00.000Z");
    expect(kidText(e, "Email:InstanceType")).toBe("3");
    const goid = Buffer.from(kidText(e, "Email:GlobalObjId")!, "base64");
    expect([...goid.subarray(16, 20)]).toEqual([0x07, 0xea, 12, 17]);
  });

  test("an all-day invitation; a free (TRANSPARENT) one; RSVP=FALSE asks for no answer", () => {
    const lines = ["UID:allday@example.test", "DTSTAMP:20261201T090000Z", "DTSTART;VALUE=DATE:20261224", "DTEND;VALUE=DATE:20261225", "ORGANIZER:mailto:bob@example.test", "ATTENDEE;RSVP=FALSE:mailto:alice@example.test", "TRANSP:TRANSPARENT"];
    const e = mr(view(ical("REQUEST", lines), "REQUEST", 141)!.element);
    expect(kidText(e, "Email:AllDayEvent")).toBe("1");
    expect(kidText(e, "Email:StartTime")).toBe("2026-12-24T00:00:00.000Z");
    expect(kidText(e, "Email:BusyStatus")).toBe("0");
    expect(kidText(e, "Email:ResponseRequested")).toBe("0");
    expect(Buffer.from(kidText(e, "Email:TimeZone")!, "base64").readInt32LE(0)).toBe(0);
  });

  test("an Outlook UID (hex of a Global Object ID) is the GlobalObjId itself", () => {
    const hex = "040000008200E00074C5B7101A82E00800000000B0D1B3C4D5E6D801000000000000000010000000AABBCCDDEEFF00112233445566778899";
    expect(Buffer.from(globalObjId(hex), "base64").toString("hex").toUpperCase()).toBe(hex);
  });
});

describe("cancellations and replies", () => {
  test("a CANCEL without DTSTART (Outlook, Google) is IPM.Schedule.Meeting.Canceled with a MeetingRequest", () => {
    const lines = ["UID:meeting-1@example.test", "DTSTAMP:20261205T090000Z", "SEQUENCE:2", "ORGANIZER:mailto:bob@example.test", "ATTENDEE:mailto:alice@example.test", "STATUS:CANCELLED"];
    const m = view(ical("CANCEL", lines), "CANCEL", 141)!;
    expect(m.messageClass).toBe(MeetingClass.Canceled);
    expect(kidText(mr(m.element), "Email:BusyStatus")).toBe("0");
    expect(kidText(mr(m.element), "Email:ResponseRequested")).toBe("0");
    expect(kidText(mr(m.element), "Email2:MeetingMessageType")).toBe("0");
  });

  test("a REPLY takes its class from the attendee's PARTSTAT; no MeetingRequest element", () => {
    for (const [ps, cls] of [
      ["ACCEPTED", MeetingClass.Accepted],
      ["DECLINED", MeetingClass.Declined],
      ["TENTATIVE", MeetingClass.Tentative],
    ] as const) {
      const lines = ["UID:meeting-1@example.test", "DTSTAMP:20261205T090000Z", "DTSTART:20261210T090000Z", "ORGANIZER:mailto:bob@example.test", `ATTENDEE;PARTSTAT=${ps}:mailto:alice@example.test`];
      const m = view(ical("REPLY", lines), "REPLY", 161)!;
      expect(m.messageClass).toBe(cls);
      expect(m.element).toBeNull();
    }
  });

  test("PUBLISH and a VTODO request are no meeting messages", () => {
    expect(view(ical("PUBLISH", EVENT, BERLIN), "PUBLISH", 141)).toBeNull();
    const todo = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//T//EN", "METHOD:REQUEST", "BEGIN:VTODO", "UID:t1", "DTSTAMP:20261201T000000Z", "ORGANIZER:mailto:bob@example.test", "ATTENDEE:mailto:alice@example.test", "END:VTODO", "END:VCALENDAR", ""].join("\r\n");
    expect(view(todo, "REQUEST", 141)).toBeNull();
  });
});

describe("malformed text/calendar parts leave a plain mail", () => {
  const corpus: [string, string][] = [
    ["not iCalendar at all", "hello, this is not a calendar"],
    ["truncated (no END:VCALENDAR)", ical("REQUEST", EVENT, BERLIN).replace("END:VCALENDAR\r\n", "")],
    ["an END that does not match its BEGIN", ical("REQUEST", EVENT, BERLIN).replace("END:VEVENT", "END:VTODO")],
    ["an invalid date (month 13, day 45)", ical("REQUEST", EVENT.map((l) => (l.startsWith("DTSTART") ? "DTSTART:20261345T100000Z" : l)))],
    ["an absurd recurrence (COUNT 10^12, BYHOUR out of range)", ical("REQUEST", [...EVENT, "RRULE:FREQ=SECONDLY;COUNT=1000000000000;BYHOUR=99"], BERLIN)],
    ["no METHOD", ical("REQUEST", EVENT, BERLIN).replace("METHOD:REQUEST\r\n", "")],
    ["no UID", ical("REQUEST", EVENT.filter((l) => !l.startsWith("UID")), BERLIN)],
    ["6,000 attendees", ical("REQUEST", [...EVENT, ...Array.from({ length: 6000 }, (_, i) => `ATTENDEE:mailto:a${i}@example.test`)], BERLIN)],
    ["an unknown TZID without VTIMEZONE", ical("REQUEST", EVENT.map((l) => l.replace("Europe/Berlin", "Mars/Olympus_Mons")))],
  ];
  for (const [name, text] of corpus) {
    test(name, () => {
      let out: ReturnType<typeof view> = null;
      expect(() => (out = view(text, "REQUEST", 141))).not.toThrow();
      // Either no meeting view (a plain mail), or (unknown TZID: read as floating) a complete one.
      const o = out as ReturnType<typeof view>;
      if (o) expect(kid(mr(o.element), "Email:TimeZone")).toBeDefined();
    });
  }

  test("a calendar part over 1 MiB is not parsed", () => {
    const big = ical("REQUEST", [...EVENT, `DESCRIPTION:${"x".repeat(1_200_000)}`], BERLIN);
    expect(view(big, "REQUEST", 141)).toBeNull();
  });
});

describe("answers in the attendee's copy", () => {
  const MINE = new Set(["alice@example.test"]);
  const stored = (extra: string[] = []) =>
    ICAL.Component.fromString(
      ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//T//EN", ...BERLIN, "BEGIN:VEVENT", ...EVENT.filter((l) => !l.startsWith("BEGIN:VALARM") && !l.startsWith("ACTION") && !l.startsWith("TRIGGER") && !l.startsWith("END:VALARM")), "RRULE:FREQ=WEEKLY;COUNT=4", ...extra, "END:VEVENT", "END:VCALENDAR", ""].join("\r\n"),
    );
  const partstat = (c: ICAL.Component) => c.getAllProperties("attendee").find((p) => String(p.getFirstValue()).includes("alice"))!.getFirstParameter("partstat");

  test("the whole series; then one occurrence gets an override with RECURRENCE-ID in the event's zone", () => {
    const root = stored();
    applyAnswers(root, MINE, [{ partstat: "ACCEPTED", instance: null }]);
    expect(partstat(root.getFirstSubcomponent("vevent")!)).toBe("ACCEPTED");
    applyAnswers(root, MINE, [{ partstat: "DECLINED", instance: Date.UTC(2026, 11, 24, 9) }]);
    const events = root.getAllSubcomponents("vevent");
    expect(events.length).toBe(2);
    const ov = events[1]!;
    expect(ov.getFirstProperty("recurrence-id")!.toICALString()).toBe("RECURRENCE-ID;TZID=Europe/Berlin:20261224T100000");
    expect(ov.getFirstProperty("dtend")!.toICALString()).toBe("DTEND;TZID=Europe/Berlin:20261224T110000");
    expect(ov.hasProperty("rrule")).toBe(false);
    expect(partstat(ov)).toBe("DECLINED");
    expect(partstat(events[0]!)).toBe("ACCEPTED");
  });

  test("refused: no such occurrence, an EXDATE'd one, the organizer, someone not invited, a cancelled meeting", () => {
    expect(() => applyAnswers(stored(), MINE, [{ partstat: "ACCEPTED", instance: Date.UTC(2026, 11, 11, 9) }])).toThrow(AnswerError);
    expect(() => applyAnswers(stored(), MINE, [{ partstat: "ACCEPTED", instance: Date.UTC(2027, 0, 7, 9) }])).toThrow(AnswerError); // after COUNT=4
    expect(() => applyAnswers(stored(["EXDATE;TZID=Europe/Berlin:20261217T100000"]), MINE, [{ partstat: "ACCEPTED", instance: Date.UTC(2026, 11, 17, 9) }])).toThrow(AnswerError);
    expect(() => applyAnswers(stored(), new Set(["bob@example.test"]), [{ partstat: "ACCEPTED", instance: null }])).toThrow(/organizes/);
    expect(() => applyAnswers(stored(), new Set(["carol@example.test"]), [{ partstat: "ACCEPTED", instance: null }])).toThrow(/not an attendee/);
    expect(() => applyAnswers(stored(["STATUS:CANCELLED"]), MINE, [{ partstat: "ACCEPTED", instance: null }])).toThrow(/cancelled/);
  });
});
