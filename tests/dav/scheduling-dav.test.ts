/**
 * RFC 6638 over CalDAV with curl on real HTTPS sockets: implicit scheduling
 * on PUT (an organizer's PUT invites, the attendee's schedule inbox lists
 * the iTIP message, GET/DELETE on it), the outbox POST of a VFREEBUSY
 * request answered per recipient (local busy time with transparent and
 * cancelled events free, remote and unknown recipients with their request
 * status), the scheduling properties, and the errors of a bad POST.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { ALICE, BOB, curl, responses, startDav, texts, xmlHeaders, type DavServer } from "./core-helpers.ts";
import { waitFor } from "../smtp/helpers.ts";

setDefaultTimeout(60_000);

let d: DavServer;
const cal = (u: string) => `/dav/calendars/${u}/Calendar/`;
const inbox = (u: string) => `/dav/calendars/${u}/inbox/`;
const outbox = (u: string) => `/dav/calendars/${u}/outbox/`;
const ICS = { "content-type": "text/calendar; charset=utf-8" };

function ev(uid: string, o: { start: string; end: string; attendees?: string[]; organizer?: string; extra?: string[] }): string {
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Pillarbox tests//EN",
    "BEGIN:VEVENT",
    `UID:${uid}`,
    "DTSTAMP:20260101T000000Z",
    `DTSTART:${o.start}`,
    `DTEND:${o.end}`,
    "SUMMARY:Sync",
    ...(o.organizer ? [`ORGANIZER:mailto:${o.organizer}`] : []),
    ...(o.attendees ?? []),
    ...(o.extra ?? []),
    "END:VEVENT",
    "END:VCALENDAR",
    "",
  ].join("\r\n");
}

function fbRequest(organizer: string, attendees: string[], start = "20260310T000000Z", end = "20260311T000000Z"): string {
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Pillarbox tests//EN",
    "METHOD:REQUEST",
    "BEGIN:VFREEBUSY",
    "UID:fb-1@example.test",
    "DTSTAMP:20260301T000000Z",
    `DTSTART:${start}`,
    `DTEND:${end}`,
    `ORGANIZER:mailto:${organizer}`,
    ...attendees.map((a) => `ATTENDEE:mailto:${a}`),
    "END:VFREEBUSY",
    "END:VCALENDAR",
    "",
  ].join("\r\n");
}

beforeAll(async () => {
  d = await startDav();
});

afterAll(async () => {
  await d?.close();
});

describe("implicit scheduling and the schedule inbox", () => {
  test("alice's PUT with bob as attendee lands in bob's calendar and his schedule inbox", async () => {
    const body = ev("sched-1@example.test", { start: "20260310T090000Z", end: "20260310T100000Z", organizer: ALICE, attendees: [`ATTENDEE;PARTSTAT=ACCEPTED:mailto:${ALICE}`, `ATTENDEE;RSVP=TRUE:mailto:${BOB}`] });
    const put = await curl(d, "PUT", cal(ALICE) + "sched-1.ics", { body, headers: ICS });
    expect(put.status).toBe(201);
    // bob's inbox lists the REQUEST (Depth 1), with the RFC 6638 resource type on the collection
    const listing = await waitFor(async () => {
      const r = await curl(d, "PROPFIND", inbox(BOB), { user: BOB, headers: xmlHeaders("1"), body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:resourcetype/><D:getetag/><D:getcontenttype/><C:schedule-default-calendar-URL/></D:prop></D:propfind>` });
      return responses(r.body).length >= 2 ? r : null;
    });
    expect(listing.status).toBe(207);
    const rs = responses(listing.body);
    expect(rs[0]).toContain("schedule-inbox");
    expect(texts(rs[0]!, "schedule-default-calendar-URL")[0]).toContain(`/dav/calendars/${BOB}/Calendar/`);
    const href = texts(rs[1]!, "href")[0]!;
    expect(href.startsWith(`/dav/calendars/${BOB}/inbox/`)).toBe(true);
    const got = await curl(d, "GET", href, { user: BOB });
    expect(got.status).toBe(200);
    expect(got.headers["content-type"]).toStartWith("text/calendar");
    expect(got.body).toContain("METHOD:REQUEST");
    expect(got.body).toContain("UID:sched-1@example.test");
    // the event itself is in bob's calendar
    const report = await curl(d, "PROPFIND", cal(BOB), { user: BOB, headers: xmlHeaders("1"), body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>` });
    expect(report.body).toContain("sched-1");
    // only the server fills the inbox; bob may delete what he read
    expect((await curl(d, "PUT", href, { user: BOB, body: "x", headers: ICS })).status).toBe(403);
    expect((await curl(d, "DELETE", href, { user: BOB })).status).toBe(204);
    expect((await curl(d, "GET", href, { user: BOB })).status).toBe(404);
    // alice cannot read bob's inbox
    expect((await curl(d, "PROPFIND", inbox(BOB), { headers: xmlHeaders("1") })).status).toBe(403);
  });
});

describe("outbox POST: free/busy (RFC 6638 §5)", () => {
  test("one response per recipient: local busy time (transparent and cancelled free), remote 5.3, unknown 3.7", async () => {
    const put = (name: string, body: string) => curl(d, "PUT", cal(BOB) + name, { user: BOB, body, headers: ICS });
    expect((await put("busy.ics", ev("b1@example.test", { start: "20260310T120000Z", end: "20260310T130000Z" }))).status).toBe(201);
    expect((await put("tent.ics", ev("b2@example.test", { start: "20260310T140000Z", end: "20260310T150000Z", extra: ["STATUS:TENTATIVE"] }))).status).toBe(201);
    expect((await put("transp.ics", ev("b3@example.test", { start: "20260310T160000Z", end: "20260310T170000Z", extra: ["TRANSP:TRANSPARENT"] }))).status).toBe(201);
    expect((await put("cancel.ics", ev("b4@example.test", { start: "20260310T180000Z", end: "20260310T190000Z", extra: ["STATUS:CANCELLED"] }))).status).toBe(201);
    const r = await curl(d, "POST", outbox(ALICE), { body: fbRequest(ALICE, [BOB, "carol@remote.test", "nobody@example.test"]), headers: ICS });
    expect(r.status).toBe(200);
    expect(r.body).toContain("schedule-response");
    const rs = [...r.body.matchAll(/<C:response>([\s\S]*?)<\/C:response>/g)].map((m) => m[1]!);
    expect(rs.length).toBe(3);
    const byRecipient = new Map(rs.map((x) => [texts(x, "href")[0]!, x]));
    const bob = byRecipient.get(`mailto:${BOB}`)!;
    expect(texts(bob, "request-status")[0]).toBe("2.0;Success");
    // XML-escaped CRs, folded lines (RFC 5545 §3.1): unfolded for the checks.
    const data = texts(bob, "calendar-data")[0]!.replace(/&#13;/g, "\r").replace(/\r\n[ \t]/g, "");
    expect(data).toContain("METHOD:REPLY");
    expect(data).toContain("BEGIN:VFREEBUSY");
    // the 12:00 event is busy; the invitation of the first test (09:00-10:00, not yet answered by bob) and the
    // 14:00 STATUS:TENTATIVE event are tentative (an unanswered invitation is BUSY-TENTATIVE); 16:00 and 18:00 free
    expect(data).toContain("FREEBUSY;FBTYPE=BUSY:20260310T120000Z/20260310T130000Z\r\n");
    expect(data).toContain("FREEBUSY;FBTYPE=BUSY-TENTATIVE:20260310T090000Z/20260310T100000Z,20260310T140000Z/20260310T150000Z");
    expect(data).not.toContain("20260310T160000Z");
    expect(data).not.toContain("20260310T180000Z");
    expect(texts(byRecipient.get("mailto:carol@remote.test")!, "request-status")[0]).toStartWith("5.3;");
    expect(texts(byRecipient.get("mailto:nobody@example.test")!, "request-status")[0]).toStartWith("3.7;");
  });

  test("bad POSTs get clear CalDAV errors", async () => {
    const post = (body: string, headers: Record<string, string> = ICS) => curl(d, "POST", outbox(ALICE), { body, headers });
    const cases: [Awaited<ReturnType<typeof post>>, string][] = [
      [await post(fbRequest(BOB, [ALICE])), "organizer-allowed"],
      [await post(fbRequest(ALICE, [BOB]), { "content-type": "application/xml" }), "supported-calendar-data"],
      [await post("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VFREEBUSY\r\n"), "valid-calendar-data"],
      [await post(ev("x@example.test", { start: "20260310T090000Z", end: "20260310T100000Z", organizer: ALICE, attendees: [`ATTENDEE:mailto:${BOB}`] }).replace("VERSION:2.0", "VERSION:2.0\r\nMETHOD:REQUEST")), "valid-scheduling-message"],
      [await post(fbRequest(ALICE, [BOB], "20260101T000000Z", "20300101T000000Z")), "valid-scheduling-message"],
      [await post(fbRequest(ALICE, [])), "recipient-specified"],
    ];
    for (const [r, condition] of cases) {
      expect(r.status).toBe(403);
      expect(r.body).toContain(condition);
      expect(r.body).toContain("responsedescription");
    }
    // POST to another user's outbox is refused
    expect((await curl(d, "POST", outbox(BOB), { body: fbRequest(ALICE, [BOB]), headers: ICS })).status).toBe(403);
  });
});

describe("scheduling properties", () => {
  test("principal URLs, schedule-calendar-transp (opaque; transparent refused)", async () => {
    const p = await curl(d, "PROPFIND", `/dav/principals/${ALICE}/`, {
      headers: xmlHeaders("0"),
      body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:schedule-inbox-URL/><C:schedule-outbox-URL/><C:calendar-user-type/><C:calendar-user-address-set/></D:prop></D:propfind>`,
    });
    expect(texts(p.body, "schedule-inbox-URL")[0]).toContain(inbox(ALICE));
    expect(texts(p.body, "schedule-outbox-URL")[0]).toContain(outbox(ALICE));
    expect(texts(p.body, "calendar-user-type")[0]).toBe("INDIVIDUAL");
    expect(p.body).toContain(`mailto:${ALICE}`);
    const t = await curl(d, "PROPFIND", cal(ALICE), { headers: xmlHeaders("0"), body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:schedule-calendar-transp/></D:prop></D:propfind>` });
    expect(t.body).toMatch(/<C:schedule-calendar-transp>\s*<C:opaque\/>\s*<\/C:schedule-calendar-transp>/);
    const set = (v: string) => curl(d, "PROPPATCH", cal(ALICE), { headers: xmlHeaders(), body: `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><C:schedule-calendar-transp><C:${v}/></C:schedule-calendar-transp></D:prop></D:set></D:propertyupdate>` });
    expect((await set("opaque")).body).toContain("200");
    const refused = await set("transparent");
    expect(refused.body).toContain("403");
    const outboxProps = await curl(d, "PROPFIND", outbox(ALICE), { headers: xmlHeaders("0"), body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/></D:prop></D:propfind>` });
    expect(outboxProps.body).toContain("schedule-outbox");
  });
});
