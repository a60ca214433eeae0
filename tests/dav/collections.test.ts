/**
 * Collections over HTTPS with curl: MKCALENDAR (RFC 4791 §5.3.1) incl. a
 * VTODO-only one becoming a task list, extended MKCOL (RFC 5689) for address
 * books, reserved names, PROPPATCH (RFC 4918 §9.2) all-or-nothing, DELETE of
 * collections (the defaults are kept).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ALICE, curl, responses, startDav, xmlHeaders, type DavServer } from "./core-helpers.ts";

let d: DavServer;
beforeAll(async () => {
  d = await startDav();
});
afterAll(async () => {
  await d?.close();
});

const CAL = `/dav/calendars/${ALICE}/`;
const BOOK = `/dav/addressbooks/${ALICE}/`;
const NS = `xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cr="urn:ietf:params:xml:ns:carddav" xmlns:i="http://apple.com/ns/ical/"`;

async function props(path: string, list: string): Promise<string> {
  const r = await curl(d, "PROPFIND", path, { headers: xmlHeaders("0"), body: `<d:propfind ${NS}><d:prop>${list}</d:prop></d:propfind>` });
  expect(r.status).toBe(207);
  return r.body;
}

describe("MKCALENDAR and MKCOL", () => {
  test("MKCALENDAR with properties makes a calendar", async () => {
    const r = await curl(d, "MKCALENDAR", CAL + "work/", {
      headers: xmlHeaders(),
      body: `<c:mkcalendar ${NS}><d:set><d:prop><d:displayname>Work</d:displayname><c:calendar-description>Office things</c:calendar-description><i:calendar-color>#FF0000FF</i:calendar-color></d:prop></d:set></c:mkcalendar>`,
    });
    expect(r.status).toBe(201);
    const b = await props(CAL + "work/", "<d:displayname/><c:calendar-description/><i:calendar-color/><c:supported-calendar-component-set/><d:resourcetype/>");
    expect(b).toContain("<D:displayname>Work</D:displayname>");
    expect(b).toContain("<C:calendar-description>Office things</C:calendar-description>");
    expect(b).toContain("<ICAL:calendar-color>#FF0000FF</ICAL:calendar-color>");
    expect(b).toContain('<C:comp name="VEVENT"/>');
    // Again at the same URL: 405 (RFC 4918 §9.3.1).
    expect((await curl(d, "MKCALENDAR", CAL + "work/")).status).toBe(405);
  });

  test("MKCALENDAR with only VTODO makes a task list; a body-less MKCALENDAR a calendar", async () => {
    const r = await curl(d, "MKCALENDAR", CAL + "chores/", {
      headers: xmlHeaders(),
      body: `<c:mkcalendar ${NS}><d:set><d:prop><c:supported-calendar-component-set><c:comp name="VTODO"/></c:supported-calendar-component-set></d:prop></d:set></c:mkcalendar>`,
    });
    expect(r.status).toBe(201);
    expect(await props(CAL + "chores/", "<c:supported-calendar-component-set/>")).toContain('<C:comp name="VTODO"/>');
    expect((await curl(d, "MKCALENDAR", CAL + "plain/")).status).toBe(201);
    expect(await props(CAL + "plain/", "<c:supported-calendar-component-set/>")).toContain('<C:comp name="VEVENT"/>');
    const journal = await curl(d, "MKCALENDAR", CAL + "journal/", {
      headers: xmlHeaders(),
      body: `<c:mkcalendar ${NS}><d:set><d:prop><c:supported-calendar-component-set><c:comp name="VJOURNAL"/></c:supported-calendar-component-set></d:prop></d:set></c:mkcalendar>`,
    });
    expect(journal.status).toBe(403);
    expect(journal.body).toContain("<C:supported-calendar-component/>");
  });

  test("MKCALENDAR with a property it cannot set creates nothing and says which (RFC 4791 §5.3.1.2)", async () => {
    const r = await curl(d, "MKCALENDAR", CAL + "broken/", {
      headers: xmlHeaders(),
      body: `<c:mkcalendar ${NS}><d:set><d:prop><d:displayname>Broken</d:displayname><i:calendar-color>red</i:calendar-color></d:prop></d:set></c:mkcalendar>`,
    });
    expect(r.status).toBe(403);
    expect(r.body).toContain("<C:mkcalendar-response ");
    expect(r.body).toContain("calendar-color must be");
    expect(r.body).toContain("424 Failed Dependency");
    expect((await curl(d, "PROPFIND", CAL + "broken/", { headers: xmlHeaders("0") })).status).toBe(404);
  });

  test("extended MKCOL makes an address book; a calendar resourcetype in the address book home is refused", async () => {
    const r = await curl(d, "MKCOL", BOOK + "friends/", {
      headers: xmlHeaders(),
      body: `<d:mkcol ${NS}><d:set><d:prop><d:resourcetype><d:collection/><cr:addressbook/></d:resourcetype><d:displayname>Friends</d:displayname><cr:addressbook-description>People I like</cr:addressbook-description></d:prop></d:set></d:mkcol>`,
    });
    expect(r.status).toBe(201);
    const b = await props(BOOK + "friends/", "<d:resourcetype/><d:displayname/><cr:addressbook-description/>");
    expect(b).toContain("<CR:addressbook/>");
    expect(b).toContain("<D:displayname>Friends</D:displayname>");
    expect(b).toContain("People I like");
    const wrong = await curl(d, "MKCOL", BOOK + "cal/", { headers: xmlHeaders(), body: `<d:mkcol ${NS}><d:set><d:prop><d:resourcetype><d:collection/><c:calendar/></d:resourcetype></d:prop></d:set></d:mkcol>` });
    expect(wrong.status).toBe(403);
    expect(wrong.body).toContain("<D:valid-resourcetype/>");
    // Extended MKCOL of a calendar in the calendar home works too (RFC 5689 §3).
    const cal = await curl(d, "MKCOL", CAL + "viamkcol/", { headers: xmlHeaders(), body: `<d:mkcol ${NS}><d:set><d:prop><d:resourcetype><d:collection/><c:calendar/></d:resourcetype></d:prop></d:set></d:mkcol>` });
    expect(cal.status).toBe(201);
    expect(await props(CAL + "viamkcol/", "<d:resourcetype/>")).toContain("<C:calendar/>");
  });

  test("reserved names inbox, outbox and directory cannot be created", async () => {
    expect((await curl(d, "MKCALENDAR", CAL + "inbox/")).status).toBe(405);
    expect((await curl(d, "MKCALENDAR", CAL + "Outbox/")).status).toBe(403);
    expect((await curl(d, "MKCOL", BOOK + "directory/")).status).toBe(405);
    expect((await curl(d, "MKCOL", BOOK + "DIRECTORY/")).status).toBe(403);
  });
});

describe("PROPPATCH", () => {
  test("sets several properties at once", async () => {
    const r = await curl(d, "PROPPATCH", CAL + "Calendar/", {
      headers: xmlHeaders(),
      body: `<d:propertyupdate ${NS}><d:set><d:prop><d:displayname>Home</d:displayname><i:calendar-color>#00FF00</i:calendar-color><i:calendar-order>3</i:calendar-order></d:prop></d:set></d:propertyupdate>`,
    });
    expect(r.status).toBe(207);
    expect(r.body).toContain("200 OK");
    expect(r.body).not.toContain("424");
    const b = await props(CAL + "Calendar/", "<d:displayname/><i:calendar-color/><i:calendar-order/>");
    expect(b).toContain("<D:displayname>Home</D:displayname>");
    expect(b).toContain("#00FF00");
    expect(b).toContain("<ICAL:calendar-order>3</ICAL:calendar-order>");
  });

  test("is atomic: one refused property (protected, unknown or invalid) leaves every property unchanged, the others 424", async () => {
    for (const bad of ["<d:getetag>x</d:getetag>", "<x:custom xmlns:x='urn:example'>v</x:custom>", "<i:calendar-color>not-a-colour</i:calendar-color>"]) {
      const r = await curl(d, "PROPPATCH", CAL + "Calendar/", {
        headers: xmlHeaders(),
        body: `<d:propertyupdate ${NS}><d:set><d:prop><d:displayname>Changed</d:displayname><c:calendar-description>Changed too</c:calendar-description>${bad}</d:prop></d:set></d:propertyupdate>`,
      });
      expect(r.status).toBe(207);
      expect(r.body).toContain("424 Failed Dependency");
      expect(r.body).toMatch(/HTTP\/1.1 (403|409)/);
      const b = await props(CAL + "Calendar/", "<d:displayname/><c:calendar-description/>");
      expect(b).toContain("<D:displayname>Home</D:displayname>");
      expect(b).not.toContain("Changed");
    }
    const prot = await curl(d, "PROPPATCH", CAL + "Calendar/", { headers: xmlHeaders(), body: `<d:propertyupdate ${NS}><d:set><d:prop><d:resourcetype/></d:prop></d:set></d:propertyupdate>` });
    expect(prot.body).toContain("<D:cannot-modify-protected-property/>");
  });

  test("remove clears a property; calendar-timezone must be a VTIMEZONE", async () => {
    const rm = await curl(d, "PROPPATCH", CAL + "Calendar/", { headers: xmlHeaders(), body: `<d:propertyupdate ${NS}><d:remove><d:prop><i:calendar-color/></d:prop></d:remove></d:propertyupdate>` });
    expect(rm.status).toBe(207);
    expect(await props(CAL + "Calendar/", "<i:calendar-color/>")).toContain("404 Not Found");
    const tz = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n";
    const ok = await curl(d, "PROPPATCH", CAL + "Calendar/", { headers: xmlHeaders(), body: `<d:propertyupdate ${NS}><d:set><d:prop><c:calendar-timezone>${tz}</c:calendar-timezone></d:prop></d:set></d:propertyupdate>` });
    expect(ok.body).toContain("200 OK");
    expect(await props(CAL + "Calendar/", "<c:calendar-timezone/>")).toContain("TZID:Europe/Paris");
    const bad = await curl(d, "PROPPATCH", CAL + "Calendar/", { headers: xmlHeaders(), body: `<d:propertyupdate ${NS}><d:set><d:prop><c:calendar-timezone>Europe/Paris</c:calendar-timezone></d:prop></d:set></d:propertyupdate>` });
    expect(bad.body).toContain("<C:valid-calendar-data/>");
  });

  test("the directory book and the homes are not writable", async () => {
    const r = await curl(d, "PROPPATCH", BOOK + "directory/", { headers: xmlHeaders(), body: `<d:propertyupdate ${NS}><d:set><d:prop><d:displayname>Mine</d:displayname></d:prop></d:set></d:propertyupdate>` });
    expect(r.status).toBe(403);
    expect(r.body).toContain("<D:need-privileges>");
    const home = await curl(d, "PROPPATCH", CAL, { headers: xmlHeaders(), body: `<d:propertyupdate ${NS}><d:set><d:prop><d:displayname>Mine</d:displayname></d:prop></d:set></d:propertyupdate>` });
    expect(home.status).toBe(405);
  });
});

describe("DELETE of collections", () => {
  test("a created collection can be deleted, the default ones cannot", async () => {
    expect((await curl(d, "MKCALENDAR", CAL + "temp/")).status).toBe(201);
    expect((await curl(d, "DELETE", CAL + "temp/")).status).toBe(204);
    expect((await curl(d, "PROPFIND", CAL + "temp/", { headers: xmlHeaders("0") })).status).toBe(404);
    for (const p of [CAL + "Calendar/", CAL + "Tasks/", BOOK + "Contacts/", BOOK + "directory/"]) {
      const r = await curl(d, "DELETE", p);
      expect(r.status).toBe(403);
      expect(r.body).toContain("<D:need-privileges>");
      expect(r.body).toContain("<D:responsedescription>");
    }
    const listing = await curl(d, "PROPFIND", CAL, { headers: xmlHeaders("1"), body: `<d:propfind ${NS}><d:prop><d:resourcetype/></d:prop></d:propfind>` });
    expect(responses(listing.body).some((r) => r.includes("/Calendar/<"))).toBe(true);
  });
});
