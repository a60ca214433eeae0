/**
 * DAV discovery and PROPFIND over real HTTPS with curl: RFC 6764 well-known
 * redirects, Basic auth (401, throttle-free wrong password), OPTIONS, the
 * principal's properties (RFC 5397, RFC 4791 §6.2.1, RFC 6352 §7.1.1,
 * RFC 6638 §2), homes, Depth 0/1/infinity, allprop/propname, and refusal of
 * other users' URLs and path tricks.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ALICE, BOB, curl, responses, startDav, texts, xmlHeaders, type DavServer } from "./core-helpers.ts";

let d: DavServer;
beforeAll(async () => {
  d = await startDav();
});
afterAll(async () => {
  await d?.close();
});

const PF = (props: string) => `<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cr="urn:ietf:params:xml:ns:carddav" xmlns:cs="http://calendarserver.org/ns/"><d:prop>${props}</d:prop></d:propfind>`;

describe("discovery", () => {
  test("/.well-known/caldav and carddav redirect to /dav/ without authentication (RFC 6764 §5)", async () => {
    for (const p of ["/.well-known/caldav", "/.well-known/carddav"]) {
      const r = await curl(d, "GET", p, { user: null });
      expect(r.status).toBe(301);
      expect(r.headers.location).toBe("/dav/");
      const pf = await curl(d, "PROPFIND", p, { user: null, headers: xmlHeaders("0") });
      expect(pf.status).toBe(301);
    }
  });

  test("plain HTTP is redirected to HTTPS before any credentials are read", async () => {
    const r = await curl(d, "PROPFIND", `http://127.0.0.1:${d.srv.port("HTTP")}/dav/`, { headers: xmlHeaders("0") });
    expect(r.status).toBe(308);
    expect(r.headers.location).toStartWith("https://");
  });

  test("no or wrong credentials: 401 with a Basic challenge", async () => {
    const none = await curl(d, "PROPFIND", "/dav/", { user: null, headers: xmlHeaders("0") });
    expect(none.status).toBe(401);
    expect(none.headers["www-authenticate"]).toStartWith("Basic ");
    const wrong = await curl(d, "PROPFIND", "/dav/", { pass: "nope", headers: xmlHeaders("0") });
    expect(wrong.status).toBe(401);
  });

  test("OPTIONS advertises the DAV classes and methods", async () => {
    const r = await curl(d, "OPTIONS", `/dav/calendars/${ALICE}/Calendar/`);
    expect(r.status).toBe(200);
    for (const c of ["1", "3", "access-control", "calendar-access", "addressbook", "extended-mkcol", "calendar-auto-schedule"]) expect(r.headers.dav!.split(/,\s*/)).toContain(c);
    expect(r.headers.allow).toContain("PROPFIND");
    expect(r.headers.allow).toContain("REPORT");
    const obj = await curl(d, "OPTIONS", `/dav/calendars/${ALICE}/Calendar/x.ics`);
    for (const m of ["GET", "PUT", "DELETE", "MOVE", "COPY"]) expect(obj.headers.allow).toContain(m);
  });

  test("current-user-principal from the root, then the principal's home sets and addresses", async () => {
    const root = await curl(d, "PROPFIND", "/dav/", { headers: xmlHeaders("0"), body: PF("<d:current-user-principal/>") });
    expect(root.status).toBe(207);
    expect(texts(root.body, "href")).toContain(`/dav/principals/${ALICE}/`);

    await d.srv.store.addAlias("a.liddell@example.test", ALICE);
    const p = await curl(d, "PROPFIND", `/dav/principals/${ALICE}/`, {
      headers: xmlHeaders("0"),
      body: PF(
        "<d:displayname/><d:principal-URL/><d:resourcetype/><c:calendar-home-set/><cr:addressbook-home-set/><c:calendar-user-address-set/><c:schedule-inbox-URL/><c:schedule-outbox-URL/><d:principal-collection-set/><d:owner/><d:current-user-privilege-set/><d:supported-report-set/><d:no-such-prop/>",
      ),
    });
    expect(p.status).toBe(207);
    expect(p.body).toContain("<D:displayname>Alice Liddell</D:displayname>");
    expect(p.body).toContain(`<C:calendar-home-set><D:href>/dav/calendars/${ALICE}/</D:href></C:calendar-home-set>`);
    expect(p.body).toContain(`<CR:addressbook-home-set><D:href>/dav/addressbooks/${ALICE}/</D:href></CR:addressbook-home-set>`);
    expect(p.body).toContain(`mailto:${ALICE}`);
    expect(p.body).toContain("mailto:a.liddell@example.test");
    expect(p.body).toContain(`<C:schedule-inbox-URL><D:href>/dav/calendars/${ALICE}/inbox/</D:href>`);
    expect(p.body).toContain(`<C:schedule-outbox-URL><D:href>/dav/calendars/${ALICE}/outbox/</D:href>`);
    expect(p.body).toContain("<D:principal/>");
    expect(p.body).toContain("<D:principal-collection-set><D:href>/dav/principals/</D:href>");
    // The unknown property is answered 404 in its own propstat.
    expect(p.body).toMatch(/<D:propstat><D:prop><D:no-such-prop\/><\/D:prop><D:status>HTTP\/1.1 404 Not Found<\/D:status>/);
  });

  test("calendar home Depth 1 lists the default calendar, task list, inbox and outbox (defaults created on first access)", async () => {
    const r = await curl(d, "PROPFIND", `/dav/calendars/${ALICE}/`, {
      headers: xmlHeaders("1"),
      body: PF("<d:resourcetype/><d:displayname/><c:supported-calendar-component-set/><cs:getctag/><d:sync-token/><d:current-user-privilege-set/><c:supported-calendar-data/><c:max-resource-size/><d:supported-report-set/>"),
    });
    expect(r.status).toBe(207);
    const hrefs = texts(r.body, "href").filter((h) => h.startsWith("/dav/calendars/"));
    expect(hrefs).toContain(`/dav/calendars/${ALICE}/`);
    expect(hrefs).toContain(`/dav/calendars/${ALICE}/Calendar/`);
    expect(hrefs).toContain(`/dav/calendars/${ALICE}/Tasks/`);
    expect(hrefs).toContain(`/dav/calendars/${ALICE}/inbox/`);
    expect(hrefs).toContain(`/dav/calendars/${ALICE}/outbox/`);
    const cal = responses(r.body).find((x) => x.includes(`/dav/calendars/${ALICE}/Calendar/<`))!;
    expect(cal).toContain('<C:comp name="VEVENT"/>');
    expect(cal).toContain("<C:calendar/>");
    expect(cal).toMatch(/<CS:getctag>\d+<\/CS:getctag>/);
    expect(cal).toMatch(/<D:sync-token>urn:pillarbox:sync:\d+:\d+<\/D:sync-token>/);
    expect(cal).toContain("<D:write-content/>");
    expect(cal).toContain("<D:supported-report><D:report><D:sync-collection/></D:report></D:supported-report>");
    const tasks = responses(r.body).find((x) => x.includes(`/dav/calendars/${ALICE}/Tasks/<`))!;
    expect(tasks).toContain('<C:comp name="VTODO"/>');
  });

  test("address book home Depth 1 lists Contacts and the directory, with CardDAV properties", async () => {
    const r = await curl(d, "PROPFIND", `/dav/addressbooks/${ALICE}/`, { headers: xmlHeaders("1"), body: PF("<d:resourcetype/><d:displayname/><cr:supported-address-data/><cr:max-resource-size/><d:quota-used-bytes/>") });
    expect(r.status).toBe(207);
    const hrefs = texts(r.body, "href");
    expect(hrefs).toContain(`/dav/addressbooks/${ALICE}/Contacts/`);
    expect(hrefs).toContain(`/dav/addressbooks/${ALICE}/directory/`);
    const book = responses(r.body).find((x) => x.includes("/Contacts/<"))!;
    expect(book).toContain("<CR:addressbook/>");
    expect(book).toContain('version="3.0"');
    expect(book).toContain('version="4.0"');
    expect(book).toMatch(/<D:quota-used-bytes>\d+<\/D:quota-used-bytes>/);
  });

  test("Depth infinity (also implied by no Depth header) is refused with propfind-finite-depth", async () => {
    for (const depth of ["infinity", undefined]) {
      const r = await curl(d, "PROPFIND", `/dav/calendars/${ALICE}/`, { headers: xmlHeaders(depth), body: PF("<d:resourcetype/>") });
      expect(r.status).toBe(403);
      expect(r.body).toContain("<D:propfind-finite-depth/>");
      expect(r.body).toContain("<D:responsedescription>");
    }
    const bad = await curl(d, "PROPFIND", `/dav/calendars/${ALICE}/`, { headers: xmlHeaders("2") });
    expect(bad.status).toBe(400);
  });

  test("allprop (and an empty body) and propname", async () => {
    const all = await curl(d, "PROPFIND", `/dav/calendars/${ALICE}/Calendar/`, { headers: xmlHeaders("0"), body: `<d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>` });
    expect(all.status).toBe(207);
    expect(all.body).toContain("<D:resourcetype>");
    expect(all.body).toContain("<D:displayname>Calendar</D:displayname>");
    expect(all.body).not.toContain("404 Not Found");
    const empty = await curl(d, "PROPFIND", `/dav/calendars/${ALICE}/Calendar/`, { headers: { depth: "0" } });
    expect(empty.status).toBe(207);
    expect(empty.body).toContain("<D:resourcetype>");
    const names = await curl(d, "PROPFIND", `/dav/calendars/${ALICE}/Calendar/`, { headers: xmlHeaders("0"), body: `<d:propfind xmlns:d="DAV:"><d:propname/></d:propfind>` });
    expect(names.status).toBe(207);
    expect(names.body).toContain("<CS:getctag/>");
    expect(names.body).toContain("<D:sync-token/>");
    expect(names.body).toContain("<C:supported-calendar-component-set/>");
  });

  test("Prefer: return=minimal (RFC 8144) and Brief: t leave out the 404 propstats", async () => {
    const body = PF("<d:displayname/><d:no-such-prop/>");
    const full = await curl(d, "PROPFIND", `/dav/calendars/${ALICE}/Calendar/`, { headers: xmlHeaders("0"), body });
    expect(full.body).toContain("404 Not Found");
    const pref = await curl(d, "PROPFIND", `/dav/calendars/${ALICE}/Calendar/`, { headers: { ...xmlHeaders("0"), prefer: "return=minimal" }, body });
    expect(pref.status).toBe(207);
    expect(pref.headers["preference-applied"]).toBe("return=minimal");
    expect(pref.body).not.toContain("404 Not Found");
    expect(pref.body).toContain("<D:displayname>");
    const brief = await curl(d, "PROPFIND", `/dav/calendars/${ALICE}/`, { headers: { ...xmlHeaders("1"), brief: "t" }, body: PF("<d:no-such-prop/>") });
    expect(brief.body).not.toContain("404 Not Found");
    expect(responses(brief.body).length).toBeGreaterThan(2);
  });

  test("another user's principal and homes are refused (403), and so are path tricks", async () => {
    for (const p of [`/dav/principals/${BOB}/`, `/dav/calendars/${BOB}/`, `/dav/calendars/${BOB}/Calendar/`, `/dav/addressbooks/${BOB}/Contacts/`, `/dav/addressbooks/${BOB}/directory/`]) {
      const r = await curl(d, "PROPFIND", p, { headers: xmlHeaders("0") });
      expect(r.status).toBe(403);
    }
    const tricks = [
      `/dav/calendars/${ALICE}/..%2f${BOB}/Calendar/`,
      `/dav/calendars/${ALICE}/%2e%2e/${BOB}/Calendar/`,
      `/dav/calendars/${ALICE}/../${BOB}/Calendar/`,
      `/dav/calendars//${BOB}/Calendar/`,
      `/dav/calendars/${ALICE}//Calendar/`,
      `/dav/calendars/${ALICE}/Calendar%2fx/`,
      `/dav/calendars/${BOB.replace("@", "%40")}/Calendar/`,
      `/dav/calendars/${ALICE}/Calendar/%5c..%5c`,
    ];
    for (const p of tricks) {
      const r = await curl(d, "PROPFIND", p, { headers: xmlHeaders("0"), args: ["--path-as-is"] });
      expect([400, 403, 404]).toContain(r.status);
      expect(r.body).not.toContain(BOB);
    }
    // Bob's own requests work, and see none of Alice's.
    const bob = await curl(d, "PROPFIND", `/dav/calendars/${BOB}/`, { user: BOB, headers: xmlHeaders("1"), body: PF("<d:displayname/>") });
    expect(bob.status).toBe(207);
    expect(bob.body).not.toContain(ALICE);
  });

  test("an unknown method and a path outside the layout", async () => {
    expect((await curl(d, "PROPFIND", "/dav/nothing/", { headers: xmlHeaders("0") })).status).toBe(404);
    expect((await curl(d, "LOCK", `/dav/calendars/${ALICE}/Calendar/`)).status).toBe(405);
  });
});

describe("principal reports (RFC 3253 §3.8, RFC 3744 §9.4-9.5)", () => {
  test("expand-property: the principal's home sets expanded into their properties", async () => {
    const r = await curl(d, "REPORT", `/dav/principals/${ALICE}/`, {
      headers: xmlHeaders("0"),
      body: `<d:expand-property xmlns:d="DAV:"><d:property name="calendar-home-set" namespace="urn:ietf:params:xml:ns:caldav"><d:property name="resourcetype"/><d:property name="owner"/></d:property><d:property name="displayname"/><d:property name="nothing-here"/></d:expand-property>`,
    });
    expect(r.status).toBe(207);
    expect(r.body).toContain(`<C:calendar-home-set><D:response><D:href>/dav/calendars/${ALICE}/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype><D:owner><D:href>/dav/principals/${ALICE}/</D:href></D:owner>`);
    expect(r.body).toContain("<D:displayname>Alice Liddell</D:displayname>");
    expect(r.body).toMatch(/<D:nothing-here\/><\/D:prop><D:status>HTTP\/1.1 404/);
  });

  test("principal-property-search finds one's own principal by name or address, nothing else", async () => {
    const search = (match: string) =>
      curl(d, "REPORT", "/dav/principals/", {
        headers: xmlHeaders("0"),
        body: `<d:principal-property-search xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" test="anyof"><d:property-search><d:prop><d:displayname/></d:prop><d:match>${match}</d:match></d:property-search><d:property-search><d:prop><c:calendar-user-address-set/></d:prop><d:match>${match}</d:match></d:property-search><d:prop><d:displayname/><c:calendar-home-set/></d:prop></d:principal-property-search>`,
      });
    const byName = await search("liddell");
    expect(byName.status).toBe(207);
    expect(byName.body).toContain(`<D:href>/dav/principals/${ALICE}/</D:href>`);
    expect(byName.body).toContain(`<C:calendar-home-set><D:href>/dav/calendars/${ALICE}/</D:href>`);
    expect((await search("ALICE@EXAMPLE")).body).toContain(`/dav/principals/${ALICE}/`);
    const other = await search("bob");
    expect(other.status).toBe(207);
    expect(responses(other.body).length).toBe(0);
    const set = await curl(d, "REPORT", `/dav/principals/${ALICE}/`, { headers: xmlHeaders("0"), body: `<d:principal-search-property-set xmlns:d="DAV:"/>` });
    expect(set.status).toBe(200);
    expect(set.body).toContain("<D:principal-search-property><D:prop><D:displayname/></D:prop>");
  });
});
