/**
 * GetUserAvailability (MS-OXWSAVAIL) over real sockets: two local users with
 * busy blocks made over EWS and CalDAV, times in the request's
 * SerializableTimeZone, merged free/busy digits, an unknown mailbox answered
 * in its own ResponseMessage, and malformed requests.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { ewsFixture, find, findAll, type XmlElement } from "./helpers.ts";
import { createCalendarItem, dav, text } from "./calendar-helpers.ts";

const A = "ann@avail.test";
const B = "ben@avail.test";
const PASS = "avail-pass-1";
const { env } = ewsFixture({ users: [{ email: A, pass: PASS }, { email: B, pass: PASS }] });

beforeAll(async () => {
  // Ann: busy 09:00-10:00Z and tentative 14:00-15:00Z on 2026-12-10 (over EWS).
  await env.call(A, PASS, createCalendarItem(`<t:Subject>busy</t:Subject><t:Start>2026-12-10T09:00:00Z</t:Start><t:End>2026-12-10T10:00:00Z</t:End><t:LegacyFreeBusyStatus>Busy</t:LegacyFreeBusyStatus>`));
  await env.call(A, PASS, createCalendarItem(`<t:Subject>maybe</t:Subject><t:Start>2026-12-10T14:00:00Z</t:Start><t:End>2026-12-10T15:00:00Z</t:End><t:LegacyFreeBusyStatus>Free</t:LegacyFreeBusyStatus>`));
  // Ben: busy 11:00-12:00Z (over CalDAV).
  const ics = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", "BEGIN:VEVENT", "UID:ben-1", "DTSTAMP:20261201T000000Z", "DTSTART:20261210T110000Z", "DTEND:20261210T120000Z", "SUMMARY:ben", "END:VEVENT", "END:VCALENDAR", ""].join("\r\n");
  const put = await dav(env, B, PASS, "PUT", `/dav/calendars/${B}/Calendar/ben-1.ics`, ics);
  if (put.status !== 201) throw new Error(`PUT ${put.status}`);
});

const CET =
  `<t:TimeZone><t:Bias>-60</t:Bias><t:StandardTime><t:Bias>0</t:Bias><t:Time>03:00:00</t:Time><t:DayOrder>5</t:DayOrder><t:Month>10</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek></t:StandardTime>` +
  `<t:DaylightTime><t:Bias>-60</t:Bias><t:Time>02:00:00</t:Time><t:DayOrder>5</t:DayOrder><t:Month>3</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek></t:DaylightTime></t:TimeZone>`;

function request(mailboxes: string[], view = "DetailedMerged", window = ["2026-12-10T00:00:00", "2026-12-11T00:00:00"], tz = CET, interval = 60): string {
  return (
    `<m:GetUserAvailabilityRequest>${tz}<m:MailboxDataArray>` +
    mailboxes.map((a) => `<t:MailboxData><t:Email><t:Address>${a}</t:Address></t:Email><t:AttendeeType>Required</t:AttendeeType><t:ExcludeConflicts>false</t:ExcludeConflicts></t:MailboxData>`).join("") +
    `</m:MailboxDataArray><t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>${window[0]}</t:StartTime><t:EndTime>${window[1]}</t:EndTime></t:TimeWindow>` +
    `<t:MergedFreeBusyIntervalInMinutes>${interval}</t:MergedFreeBusyIntervalInMinutes><t:RequestedView>${view}</t:RequestedView></t:FreeBusyViewOptions></m:GetUserAvailabilityRequest>`
  );
}

function responses(body: XmlElement): XmlElement[] {
  return find(body, "FreeBusyResponseArray")?.children ?? [];
}

describe("GetUserAvailability", () => {
  test("two local users and an unknown one, in Central European time", async () => {
    const r = await env.call(A, PASS, request([A, B, "nobody@avail.test"]));
    expect(r.status).toBe(200);
    const rs = responses(r.body);
    expect(rs.map((x) => text(x, "ResponseMessage", "ResponseCode"))).toEqual(["NoError", "NoError", "ErrorMailRecipientNotFound"]);
    // Ann: 10:00-11:00 local busy (digit 2 at hour 10), 15:00-16:00 free (transparent).
    const ann = find(rs[0], "FreeBusyView")!;
    expect(text(ann, "MergedFreeBusy")).toBe("000000000020000000000000");
    const events = findAll(ann, "CalendarEvent");
    expect(events.map((e) => [text(e, "StartTime"), text(e, "EndTime"), text(e, "BusyType")])).toEqual([["2026-12-10T10:00:00", "2026-12-10T11:00:00", "Busy"]]);
    expect(text(ann, "WorkingHours", "WorkingPeriodArray", "WorkingPeriod", "StartTimeInMinutes")).toBe("480");
    // One's own calendar in a Detailed view: the event's details; another's: busy blocks only.
    expect(text(ann, "FreeBusyViewType")).toBe("DetailedMerged");
    expect(text(events[0], "CalendarEventDetails", "Subject")).toBe("busy");
    expect(text(events[0], "CalendarEventDetails", "IsMeeting")).toBe("false");
    // Ben: 12:00-13:00 local.
    const ben = find(rs[1], "FreeBusyView")!;
    expect(text(ben, "MergedFreeBusy")).toBe("000000000000200000000000");
    expect(text(ben, "FreeBusyViewType")).toBe("FreeBusyMerged");
    expect(findAll(ben, "CalendarEventDetails")).toEqual([]);
  });

  test("FreeBusy view without merged digits; a summer-time window shifts by two hours", async () => {
    const ics = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", "BEGIN:VEVENT", "UID:ben-2", "DTSTAMP:20261201T000000Z", "DTSTART:20270610T080000Z", "DTEND:20270610T090000Z", "SUMMARY:summer", "END:VEVENT", "END:VCALENDAR", ""].join("\r\n");
    expect((await dav(env, B, PASS, "PUT", `/dav/calendars/${B}/Calendar/ben-2.ics`, ics)).status).toBe(201);
    const r = await env.call(A, PASS, request([B], "FreeBusy", ["2027-06-10T00:00:00", "2027-06-11T00:00:00"]));
    const view = find(responses(r.body)[0], "FreeBusyView")!;
    expect(text(view, "FreeBusyViewType")).toBe("FreeBusy");
    expect(find(view, "MergedFreeBusy")).toBeUndefined();
    expect(findAll(view, "CalendarEvent").map((e) => text(e, "StartTime"))).toEqual(["2027-06-10T10:00:00"]);
  });

  test("malformed requests", async () => {
    const bad: [string, string][] = [
      [request([A], "DetailedMerged", ["2026-12-11T00:00:00", "2026-12-10T00:00:00"]), "ErrorInvalidTimeInterval"],
      [request([A], "DetailedMerged", ["2026-01-01T00:00:00", "2027-01-01T00:00:00"]), "ErrorTimeIntervalTooBig"],
      [request([A], "Everything"), "ErrorInvalidRequest"],
      [request([A], "DetailedMerged", ["yesterday", "2026-12-10T00:00:00"]), "ErrorInvalidRequest"],
      [request([A], "DetailedMerged", undefined, CET, 1), "ErrorInvalidRequest"],
      [request([]), "ErrorInvalidRequest"],
      [request([A], "DetailedMerged", undefined, `<t:TimeZone><t:Bias>banana</t:Bias></t:TimeZone>`), "ErrorInvalidRequest"],
      [`<m:GetUserAvailabilityRequest><m:MailboxDataArray><t:MailboxData><t:Email><t:Address>${A}</t:Address></t:Email></t:MailboxData></m:MailboxDataArray><t:SuggestionsViewOptions/></m:GetUserAvailabilityRequest>`, "ErrorInvalidRequest"],
    ];
    for (const [xml, code] of bad) {
      const r = await env.call(A, PASS, xml);
      expect(r.status).toBeLessThan(500);
      expect(r.text).toContain(code);
    }
    const many = request(Array.from({ length: 101 }, (_, i) => `u${i}@avail.test`));
    const r = await env.call(A, PASS, many);
    expect(r.status).toBeLessThan(500);
    expect(r.text).toContain("ErrorExceededFindCountLimit");
  });
});
