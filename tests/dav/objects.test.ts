/**
 * Objects over HTTPS with curl: PUT/GET/HEAD/DELETE with ETags and
 * If-Match / If-None-Match (RFC 9110 §13, RFC 4791 §5.3.4), byte-exact
 * bodies, the CalDAV/CardDAV error bodies (RFC 4791 §5.3.2.1, RFC 6352
 * §6.3.2.1) for invalid data, UID conflicts, wrong components and wrong
 * content types, and MOVE/COPY (RFC 4918 §9.8-9.9).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ALICE, curl, responses, startDav, texts, vcard, vevent, vtodo, xmlHeaders, type DavServer } from "./core-helpers.ts";

let d: DavServer;
beforeAll(async () => {
  d = await startDav();
  // First access creates the default collections.
  await curl(d, "PROPFIND", `/dav/calendars/${ALICE}/`, { headers: xmlHeaders("0") });
  await curl(d, "MKCALENDAR", `/dav/calendars/${ALICE}/other/`);
});
afterAll(async () => {
  await d?.close();
});

const CAL = `/dav/calendars/${ALICE}/Calendar/`;
const OTHER = `/dav/calendars/${ALICE}/other/`;
const TASKS = `/dav/calendars/${ALICE}/Tasks/`;
const BOOK = `/dav/addressbooks/${ALICE}/Contacts/`;
const ICS = { "content-type": "text/calendar; charset=utf-8" };

describe("PUT / GET / DELETE", () => {
  test("create with If-None-Match: *, read back byte for byte with the same ETag, HEAD", async () => {
    const body = vevent("put-1@example.test", "Planning", "X-CUSTOM-PROP;X-PARAM=1:kept as is");
    const put = await curl(d, "PUT", CAL + "put-1.ics", { headers: { ...ICS, "if-none-match": "*" }, body });
    expect(put.status).toBe(201);
    const etag = put.headers.etag!;
    expect(etag).toMatch(/^"[^"]+"$/);
    const get = await curl(d, "GET", CAL + "put-1.ics");
    expect(get.status).toBe(200);
    expect(get.body).toBe(body);
    expect(get.headers.etag).toBe(etag);
    expect(get.headers["content-type"]).toStartWith("text/calendar");
    expect(Date.parse(get.headers["last-modified"]!)).toBeGreaterThan(Date.parse("2026-01-01T00:00:00Z"));
    const head = await curl(d, "HEAD", CAL + "put-1.ics");
    expect(head.status).toBe(200);
    expect(head.headers.etag).toBe(etag);
    expect(Number(head.headers["content-length"])).toBe(Buffer.byteLength(body));
    // If-None-Match: * on an existing resource: 412, nothing changed.
    const again = await curl(d, "PUT", CAL + "put-1.ics", { headers: { ...ICS, "if-none-match": "*" }, body: vevent("put-1@example.test", "Overwritten") });
    expect(again.status).toBe(412);
    expect((await curl(d, "GET", CAL + "put-1.ics")).body).toBe(body);
    // A conditional GET.
    expect((await curl(d, "GET", CAL + "put-1.ics", { headers: { "if-none-match": etag } })).status).toBe(304);
  });

  test("update with If-Match: the current ETag works, a stale one is 412", async () => {
    const first = await curl(d, "PUT", CAL + "put-2.ics", { headers: ICS, body: vevent("put-2@example.test", "v1") });
    expect(first.status).toBe(201);
    const upd = await curl(d, "PUT", CAL + "put-2.ics", { headers: { ...ICS, "if-match": first.headers.etag! }, body: vevent("put-2@example.test", "v2") });
    expect(upd.status).toBe(204);
    expect(upd.headers.etag).not.toBe(first.headers.etag);
    const stale = await curl(d, "PUT", CAL + "put-2.ics", { headers: { ...ICS, "if-match": first.headers.etag! }, body: vevent("put-2@example.test", "v3") });
    expect(stale.status).toBe(412);
    expect((await curl(d, "GET", CAL + "put-2.ics")).body).toContain("SUMMARY:v2");
    // If-Match on a missing resource: 412.
    expect((await curl(d, "PUT", CAL + "nothing.ics", { headers: { ...ICS, "if-match": '"1-1"' }, body: vevent("nothing@example.test") })).status).toBe(412);
  });

  test("DELETE with a stale If-Match is 412, then works; GET of a deleted object is 404", async () => {
    const put = await curl(d, "PUT", CAL + "del.ics", { headers: ICS, body: vevent("del@example.test") });
    expect((await curl(d, "DELETE", CAL + "del.ics", { headers: { "if-match": '"0-0"' } })).status).toBe(412);
    expect((await curl(d, "DELETE", CAL + "del.ics", { headers: { "if-match": put.headers.etag! } })).status).toBe(204);
    expect((await curl(d, "GET", CAL + "del.ics")).status).toBe(404);
    expect((await curl(d, "DELETE", CAL + "del.ics")).status).toBe(404);
  });

  test("a task goes into the task list, a contact into the address book", async () => {
    expect((await curl(d, "PUT", TASKS + "t.ics", { headers: ICS, body: vtodo("task-1@example.test") })).status).toBe(201);
    const card = vcard("card-1@example.test");
    const put = await curl(d, "PUT", BOOK + "c.vcf", { headers: { "content-type": "text/vcard; charset=utf-8" }, body: card });
    expect(put.status).toBe(201);
    const get = await curl(d, "GET", BOOK + "c.vcf");
    expect(get.body).toBe(card);
    expect(get.headers["content-type"]).toStartWith("text/vcard");
    // text/x-vcard (older clients) is accepted too.
    expect((await curl(d, "PUT", BOOK + "c2.vcf", { headers: { "content-type": "text/x-vcard" }, body: vcard("card-2@example.test") })).status).toBe(201);
  });

  test("PROPFIND Depth 1 on a collection lists its objects with getetag, getcontenttype, getcontentlength", async () => {
    const r = await curl(d, "PROPFIND", CAL, { headers: xmlHeaders("1"), body: `<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/><d:getcontenttype/><d:getcontentlength/><d:getlastmodified/><d:resourcetype/></d:prop></d:propfind>` });
    const objs = responses(r.body).filter((x) => x.includes(".ics</D:href>"));
    expect(objs.length).toBeGreaterThan(0);
    for (const o of objs) expect(o).not.toContain("404 Not Found");
    expect(r.body).toMatch(/<D:getlastmodified>[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT<\/D:getlastmodified>/);
    expect(r.status).toBe(207);
    const hrefs = texts(r.body, "href");
    expect(hrefs).toContain(CAL + "put-1.ics");
    expect(r.body).toContain("text/calendar; charset=utf-8; component=VEVENT");
    const get = await curl(d, "GET", CAL + "put-1.ics");
    expect(texts(r.body, "getetag")).toContain(get.headers.etag!);
  });
});

describe("error bodies", () => {
  test("invalid iCalendar: 403 valid-calendar-data with a description", async () => {
    const r = await curl(d, "PUT", CAL + "bad.ics", { headers: ICS, body: "BEGIN:VCALENDAR\r\nthis is not icalendar\r\n" });
    expect(r.status).toBe(403);
    expect(r.headers["content-type"]).toStartWith("application/xml");
    expect(r.body).toContain("<C:valid-calendar-data/>");
    expect(texts(r.body, "responsedescription")[0]!.length).toBeGreaterThan(5);
    expect((await curl(d, "GET", CAL + "bad.ics")).status).toBe(404);
  });

  test("invalid vCard: 403 valid-address-data", async () => {
    const r = await curl(d, "PUT", BOOK + "bad.vcf", { headers: { "content-type": "text/vcard" }, body: "BEGIN:VCARD\r\nnonsense\r\n" });
    expect(r.status).toBe(403);
    expect(r.body).toContain("<CR:valid-address-data/>");
  });

  test("a second resource with the same UID: 403 no-uid-conflict naming the other resource", async () => {
    const r = await curl(d, "PUT", CAL + "dup.ics", { headers: ICS, body: vevent("put-1@example.test", "Same UID") });
    expect(r.status).toBe(403);
    expect(r.body).toContain("<C:no-uid-conflict>");
    expect(r.body).toContain(`<D:href>${CAL}put-1.ics</D:href>`);
    const card = await curl(d, "PUT", BOOK + "dup.vcf", { headers: { "content-type": "text/vcard" }, body: vcard("card-1@example.test", "Other") });
    expect(card.status).toBe(403);
    expect(card.body).toContain("<CR:no-uid-conflict>");
  });

  test("a VTODO into a calendar and a VEVENT into a task list: 403 supported-calendar-component", async () => {
    const a = await curl(d, "PUT", CAL + "todo.ics", { headers: ICS, body: vtodo("wrong-1@example.test") });
    expect(a.status).toBe(403);
    expect(a.body).toContain("<C:supported-calendar-component/>");
    const b = await curl(d, "PUT", TASKS + "event.ics", { headers: ICS, body: vevent("wrong-2@example.test") });
    expect(b.status).toBe(403);
    expect(b.body).toContain("<C:supported-calendar-component/>");
  });

  test("wrong content type: 415 with supported-calendar-data / supported-address-data", async () => {
    const a = await curl(d, "PUT", CAL + "json.ics", { headers: { "content-type": "application/json" }, body: "{}" });
    expect(a.status).toBe(415);
    expect(a.body).toContain("<C:supported-calendar-data/>");
    const b = await curl(d, "PUT", BOOK + "cal.vcf", { headers: ICS, body: vevent("x@example.test") });
    expect(b.status).toBe(415);
    expect(b.body).toContain("<CR:supported-address-data/>");
  });

  test("an object over the size limit: 413 max-resource-size, refused before reading it", async () => {
    const big = vevent("big@example.test", "x".repeat(1024 * 1024 + 10));
    const r = await curl(d, "PUT", CAL + "big.ics", { headers: ICS, body: big });
    expect(r.status).toBe(413);
    expect(r.body).toContain("<C:max-resource-size/>");
  });

  test("PUT outside a collection and into the directory are refused", async () => {
    expect((await curl(d, "PUT", `/dav/calendars/${ALICE}/nope/x.ics`, { headers: ICS, body: vevent("n@example.test") })).status).toBe(404);
    expect((await curl(d, "PUT", CAL, { headers: ICS, body: vevent("n2@example.test") })).status).toBe(405);
    const dir = await curl(d, "PUT", `/dav/addressbooks/${ALICE}/directory/x.vcf`, { headers: { "content-type": "text/vcard" }, body: vcard("dir@example.test") });
    expect(dir.status).toBe(403);
    expect(dir.body).toContain("<D:need-privileges>");
  });
});

describe("MOVE and COPY", () => {
  test("COPY to another calendar keeps the bytes; into the same calendar it is a UID conflict", async () => {
    const body = vevent("copy-1@example.test", "Copied");
    await curl(d, "PUT", CAL + "copy-1.ics", { headers: ICS, body });
    const c = await curl(d, "COPY", CAL + "copy-1.ics", { headers: { destination: d.base + OTHER + "copy-1.ics" } });
    expect(c.status).toBe(201);
    expect((await curl(d, "GET", OTHER + "copy-1.ics")).body).toBe(body);
    expect((await curl(d, "GET", CAL + "copy-1.ics")).body).toBe(body);
    const same = await curl(d, "COPY", CAL + "copy-1.ics", { headers: { destination: CAL + "copy-2.ics" } });
    expect(same.status).toBe(403);
    expect(same.body).toContain("<C:no-uid-conflict>");
  });

  test("MOVE renames inside a calendar and moves between calendars; Overwrite: F refuses an existing target", async () => {
    const body = vevent("move-1@example.test", "Moving");
    const put = await curl(d, "PUT", CAL + "move-1.ics", { headers: ICS, body });
    // the ETag is "<item id>-<modseq>": a MOVE keeps the item (and the id ActiveSync/EWS know it by)
    const idOf = (etag: string | undefined) => /^"(\d+)-/.exec(etag ?? "")?.[1];
    const id = idOf(put.headers.etag);
    expect(id).toBeDefined();
    const ren = await curl(d, "MOVE", CAL + "move-1.ics", { headers: { destination: d.base + CAL + "moved.ics" } });
    expect(ren.status).toBe(201);
    expect((await curl(d, "GET", CAL + "move-1.ics")).status).toBe(404);
    expect((await curl(d, "GET", CAL + "moved.ics")).body).toBe(body);
    const mv = await curl(d, "MOVE", CAL + "moved.ics", { headers: { destination: d.base + OTHER + "moved.ics" } });
    expect(mv.status).toBe(201);
    expect((await curl(d, "GET", CAL + "moved.ics")).status).toBe(404);
    const moved = await curl(d, "GET", OTHER + "moved.ics");
    expect(moved.body).toBe(body);
    expect(idOf(moved.headers.etag)).toBe(id);
    await curl(d, "PUT", CAL + "target.ics", { headers: ICS, body: vevent("target@example.test") });
    await curl(d, "PUT", CAL + "source.ics", { headers: ICS, body: vevent("source@example.test") });
    const no = await curl(d, "MOVE", CAL + "source.ics", { headers: { destination: d.base + CAL + "target.ics", overwrite: "F" } });
    expect(no.status).toBe(412);
    const yes = await curl(d, "MOVE", CAL + "source.ics", { headers: { destination: d.base + CAL + "target.ics" } });
    expect(yes.status).toBe(204);
    expect((await curl(d, "GET", CAL + "target.ics")).body).toContain("UID:source@example.test");
  });

  test("MOVE into a collection of another kind or another user's is refused", async () => {
    await curl(d, "PUT", CAL + "kind.ics", { headers: ICS, body: vevent("kind@example.test") });
    expect((await curl(d, "MOVE", CAL + "kind.ics", { headers: { destination: d.base + TASKS + "kind.ics" } })).status).toBe(403);
    expect((await curl(d, "MOVE", CAL + "kind.ics", { headers: { destination: d.base + "/dav/calendars/bob@example.test/Calendar/kind.ics" } })).status).toBe(403);
    expect((await curl(d, "MOVE", CAL + "kind.ics", { headers: { destination: "https://elsewhere.example/dav/x.ics" } })).status).toBe(502);
    expect((await curl(d, "GET", CAL + "kind.ics")).status).toBe(200);
  });
});

describe("quota and names", () => {
  test("a PUT over the account's quota is 507 with quota-not-exceeded (RFC 4331 §6), and the quota properties say why", async () => {
    const { createUser } = await import("../helpers/server.ts");
    await createUser(d.srv.store, "tiny@example.test", "tiny-pass-12345", { quotaBytes: 2048 });
    const home = "/dav/calendars/tiny@example.test/";
    const pf = await curl(d, "PROPFIND", home, { user: "tiny@example.test", pass: "tiny-pass-12345", headers: xmlHeaders("0"), body: `<d:propfind xmlns:d="DAV:"><d:prop><d:quota-available-bytes/><d:quota-used-bytes/></d:prop></d:propfind>` });
    expect(pf.body).toMatch(/<D:quota-available-bytes>\d+<\/D:quota-available-bytes>/);
    const r = await curl(d, "PUT", home + "Calendar/big.ics", { user: "tiny@example.test", pass: "tiny-pass-12345", headers: ICS, body: vevent("q@example.test", "q".repeat(4000)) });
    expect(r.status).toBe(507);
    expect(r.body).toContain("<D:quota-not-exceeded/>");
  });

  test("percent-encoded resource names are decoded once and listed back encoded only where needed", async () => {
    const put = await curl(d, "PUT", CAL + "uid%40host%20x.ics", { headers: ICS, body: vevent("enc@example.test") });
    expect(put.status).toBe(201);
    expect((await curl(d, "GET", CAL + "uid@host%20x.ics")).status).toBe(200);
    const r = await curl(d, "PROPFIND", CAL, { headers: xmlHeaders("1"), body: `<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>` });
    expect(texts(r.body, "href")).toContain(CAL + "uid@host%20x.ics");
  });
});
