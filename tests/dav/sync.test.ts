/**
 * sync-collection (RFC 6578) over HTTPS with curl: the initial sync, an
 * incremental one with a changed, a new and a removed member (404), a
 * limit that truncates (507 for the collection + a token to continue,
 * §3.6), and tokens that are bad, foreign or from another collection
 * (403 valid-sync-token, §3.2). Also on an address book and the directory.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ALICE, curl, responses, startDav, texts, vcard, vevent, xmlHeaders, type DavServer } from "./core-helpers.ts";

let d: DavServer;
beforeAll(async () => {
  d = await startDav();
  await curl(d, "PROPFIND", `/dav/calendars/${ALICE}/`, { headers: xmlHeaders("0") });
});
afterAll(async () => {
  await d?.close();
});

const CAL = `/dav/calendars/${ALICE}/Calendar/`;
const ICS = { "content-type": "text/calendar" };

function syncBody(token: string, limit?: number): string {
  return `<?xml version="1.0"?><d:sync-collection xmlns:d="DAV:"><d:sync-token>${token}</d:sync-token><d:sync-level>1</d:sync-level>${limit !== undefined ? `<d:limit><d:nresults>${limit}</d:nresults></d:limit>` : ""}<d:prop><d:getetag/><d:getcontenttype/></d:prop></d:sync-collection>`;
}

async function sync(path: string, token: string, limit?: number) {
  const r = await curl(d, "REPORT", path, { headers: xmlHeaders("0"), body: syncBody(token, limit) });
  return { ...r, token: texts(r.body, "sync-token")[0] ?? "", resps: responses(r.body) };
}

describe("sync-collection", () => {
  let token = "";

  test("initial sync lists every member with its ETag and gives a token", async () => {
    for (const n of [1, 2, 3]) expect((await curl(d, "PUT", `${CAL}s${n}.ics`, { headers: ICS, body: vevent(`s${n}@example.test`, `Event ${n}`) })).status).toBe(201);
    const r = await sync(CAL, "");
    expect(r.status).toBe(207);
    expect(r.resps.length).toBe(3);
    for (const n of [1, 2, 3]) expect(r.body).toContain(`<D:href>${CAL}s${n}.ics</D:href>`);
    expect(r.body).toMatch(/<D:getetag>"[^<]+"<\/D:getetag>/);
    expect(r.token).toStartWith("urn:pillarbox:sync:");
    // The token is the collection's DAV:sync-token property too.
    const pf = await curl(d, "PROPFIND", CAL, { headers: xmlHeaders("0"), body: `<d:propfind xmlns:d="DAV:"><d:prop><d:sync-token/></d:prop></d:propfind>` });
    expect(texts(pf.body, "sync-token")[0]).toBe(r.token);
    token = r.token;
  });

  test("nothing changed: no members, the same token", async () => {
    const r = await sync(CAL, token);
    expect(r.status).toBe(207);
    expect(r.resps.length).toBe(0);
    expect(r.token).toBe(token);
  });

  test("incremental sync: changed and new members with ETags, removed ones as 404 responses", async () => {
    const upd = await curl(d, "PUT", `${CAL}s1.ics`, { headers: ICS, body: vevent("s1@example.test", "Changed") });
    expect(upd.status).toBe(204);
    await curl(d, "PUT", `${CAL}s4.ics`, { headers: ICS, body: vevent("s4@example.test") });
    expect((await curl(d, "DELETE", `${CAL}s2.ics`)).status).toBe(204);
    const r = await sync(CAL, token);
    expect(r.status).toBe(207);
    const byHref = new Map(r.resps.map((x) => [texts(x, "href")[0]!, x]));
    expect([...byHref.keys()].sort()).toEqual([`${CAL}s1.ics`, `${CAL}s2.ics`, `${CAL}s4.ics`]);
    expect(byHref.get(`${CAL}s1.ics`)).toContain(`<D:getetag>${upd.headers.etag}</D:getetag>`);
    expect(byHref.get(`${CAL}s2.ics`)).toContain("<D:status>HTTP/1.1 404 Not Found</D:status>");
    expect(byHref.get(`${CAL}s2.ics`)).not.toContain("propstat");
    expect(r.token).not.toBe(token);
    token = r.token;
  });

  test("a limit truncates with a 507 response for the collection and a token that continues (§3.6)", async () => {
    for (const n of [5, 6, 7, 8, 9]) await curl(d, "PUT", `${CAL}s${n}.ics`, { headers: ICS, body: vevent(`s${n}@example.test`) });
    const seen = new Set<string>();
    let t = token;
    let rounds = 0;
    for (;;) {
      const r = await sync(CAL, t, 2);
      expect(r.status).toBe(207);
      rounds++;
      const trunc = r.resps.find((x) => texts(x, "href")[0] === CAL);
      for (const x of r.resps) if (x !== trunc) seen.add(texts(x, "href")[0]!);
      t = r.token;
      if (!trunc) break;
      expect(trunc).toContain("507 Insufficient Storage");
      expect(trunc).toContain("<D:number-of-matches-within-limits/>");
      expect(rounds).toBeLessThan(10);
    }
    expect(rounds).toBeGreaterThan(1);
    for (const n of [5, 6, 7, 8, 9]) expect(seen.has(`${CAL}s${n}.ics`)).toBe(true);
  });

  test("bad tokens: 403 valid-sync-token", async () => {
    const other = await curl(d, "MKCALENDAR", `/dav/calendars/${ALICE}/second/`);
    expect(other.status).toBe(201);
    const foreign = await sync(`/dav/calendars/${ALICE}/second/`, token);
    for (const bad of ["garbage", "urn:pillarbox:sync:1:99999999", "http://example.com/sync/1"]) {
      const r = await sync(CAL, bad);
      expect(r.status).toBe(403);
      expect(r.body).toContain("<D:valid-sync-token/>");
      expect(r.body).toContain("<D:responsedescription>");
    }
    expect(foreign.status).toBe(403);
    expect(foreign.body).toContain("<D:valid-sync-token/>");
    const badLimit = await curl(d, "REPORT", CAL, { headers: xmlHeaders("0"), body: syncBody("", 0) });
    expect(badLimit.status).toBe(400);
  });

  test("on an address book and on the directory book", async () => {
    const book = `/dav/addressbooks/${ALICE}/Contacts/`;
    await curl(d, "PUT", `${book}c1.vcf`, { headers: { "content-type": "text/vcard" }, body: vcard("c1@example.test") });
    const r = await sync(book, "");
    expect(r.status).toBe(207);
    expect(r.body).toContain(`${book}c1.vcf`);
    const dir = `/dav/addressbooks/${ALICE}/directory/`;
    const first = await sync(dir, "");
    expect(first.status).toBe(207);
    expect(first.resps.length).toBe(2);
    expect(first.token).toStartWith("urn:pillarbox:sync:directory:");
    const same = await sync(dir, first.token);
    expect(same.resps.length).toBe(0);
    // A new account in the domain changes the directory: the old token is refused so the client reloads.
    const { createUser } = await import("../helpers/server.ts");
    await createUser(d.srv.store, "carol@example.test", "pw-carol-123", { displayName: "Carol" });
    const changed = await sync(dir, first.token);
    expect(changed.status).toBe(403);
    expect(changed.body).toContain("<D:valid-sync-token/>");
  });

  test("calendar-data and address-data can be asked for as properties: the bodies byte for byte", async () => {
    const body = `<d:sync-collection xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:sync-token/><d:sync-level>1</d:sync-level><d:prop><d:getetag/><c:calendar-data/></d:prop></d:sync-collection>`;
    const r = await curl(d, "REPORT", CAL, { headers: xmlHeaders("0"), body });
    expect(r.status).toBe(207);
    const s1 = responses(r.body).find((x) => x.includes(`${CAL}s1.ics<`))!;
    const data = texts(s1, "calendar-data")[0]!.replace(/&#13;/g, "\r").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
    expect(data).toBe((await curl(d, "GET", `${CAL}s1.ics`)).body);
    const dir = await curl(d, "PROPFIND", `/dav/addressbooks/${ALICE}/directory/`, { headers: xmlHeaders("1"), body: `<d:propfind xmlns:d="DAV:" xmlns:cr="urn:ietf:params:xml:ns:carddav"><d:prop><cr:address-data/></d:prop></d:propfind>` });
    expect(dir.body).toContain("BEGIN:VCARD&#13;\nVERSION:4.0");
  });

  test("REPORT with an unknown report or on a home is refused with supported-report", async () => {
    const r = await curl(d, "REPORT", CAL, { headers: xmlHeaders("0"), body: `<x:nonsense xmlns:x="urn:example"/>` });
    expect(r.status).toBe(403);
    expect(r.body).toContain("<D:supported-report/>");
    const home = await curl(d, "REPORT", `/dav/calendars/${ALICE}/`, { headers: xmlHeaders("0"), body: syncBody("") });
    expect(home.status).toBe(403);
  });
});
