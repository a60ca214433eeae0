/**
 * The read-only directory address book (issue 15's global address list over
 * CardDAV): one vCard 4.0 per account and alias of the user's own domain,
 * stable names and content-hash ETags, nothing of other domains, and every
 * write refused.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ALICE, BOB, curl, responses, startDav, texts, vcard, xmlHeaders, type DavServer } from "./core-helpers.ts";
import { createUser } from "../helpers/server.ts";

let d: DavServer;
const DIR = `/dav/addressbooks/${ALICE}/directory/`;
beforeAll(async () => {
  d = await startDav();
  await createUser(d.srv.store, "zed@other.test", "pw-zed-12345", { displayName: "Zed Elsewhere" });
  await d.srv.store.addAlias("builder@example.test", BOB);
});
afterAll(async () => {
  await d?.close();
});

const PF = `<d:propfind xmlns:d="DAV:" xmlns:cr="urn:ietf:params:xml:ns:carddav" xmlns:cs="http://calendarserver.org/ns/"><d:prop><d:resourcetype/><d:displayname/><d:getetag/><d:getcontenttype/><cs:getctag/><d:current-user-privilege-set/></d:prop></d:propfind>`;

describe("directory address book", () => {
  test("PROPFIND lists the domain's accounts and aliases, not other domains; it is a read-only address book", async () => {
    const r = await curl(d, "PROPFIND", DIR, { headers: xmlHeaders("1"), body: PF });
    expect(r.status).toBe(207);
    const self = responses(r.body)[0]!;
    expect(self).toContain("<CR:addressbook/>");
    expect(self).toContain("<D:read/>");
    expect(self).not.toContain("<D:write");
    const hrefs = texts(r.body, "href").filter((h) => h !== DIR);
    expect(hrefs.sort()).toEqual([`${DIR}${ALICE}.vcf`, `${DIR}${BOB}.vcf`, `${DIR}builder@example.test.vcf`].sort());
    expect(r.body).not.toContain("other.test");
  });

  test("GET gives a vCard 4.0 with FN, N and EMAIL; ETags are stable and equal to the listing's", async () => {
    const a = await curl(d, "GET", `${DIR}${BOB}.vcf`);
    expect(a.status).toBe(200);
    expect(a.headers["content-type"]).toStartWith("text/vcard");
    expect(a.body).toStartWith("BEGIN:VCARD\r\nVERSION:4.0\r\n");
    expect(a.body).toContain("FN:Bob Builder\r\n");
    expect(a.body).toContain("N:Builder;Bob;;;\r\n");
    expect(a.body).toContain(`EMAIL;TYPE=work:${BOB}\r\n`);
    expect(a.body).toMatch(/UID:urn:uuid:[0-9a-f-]{36}\r\n/);
    const alias = await curl(d, "GET", `${DIR}builder@example.test.vcf`);
    expect(alias.body).toContain("EMAIL;TYPE=work:builder@example.test\r\n");
    const b = await curl(d, "GET", `${DIR}${BOB}.vcf`);
    expect(b.headers.etag).toBe(a.headers.etag!);
    expect(b.body).toBe(a.body);
    const list = await curl(d, "PROPFIND", DIR, { headers: xmlHeaders("1"), body: PF });
    const bobResp = responses(list.body).find((x) => x.includes(`${DIR}${BOB}.vcf<`))!;
    expect(bobResp).toContain(`<D:getetag>${a.headers.etag}</D:getetag>`);
    expect((await curl(d, "GET", `${DIR}zed@other.test.vcf`)).status).toBe(404);
  });

  test("the ctag changes when an entry changes", async () => {
    const ctag = async () => texts((await curl(d, "PROPFIND", DIR, { headers: xmlHeaders("0"), body: PF })).body, "getctag")[0];
    const before = await ctag();
    await createUser(d.srv.store, "dora@example.test", "pw-dora-12345", { displayName: "Dora" });
    expect(await ctag()).not.toBe(before);
  });

  test("PUT, DELETE, PROPPATCH and MOVE are refused with need-privileges", async () => {
    const put = await curl(d, "PUT", `${DIR}new.vcf`, { headers: { "content-type": "text/vcard" }, body: vcard("x@example.test") });
    expect(put.status).toBe(403);
    expect(put.body).toContain("<D:need-privileges>");
    for (const [m, p] of [["DELETE", `${DIR}${BOB}.vcf`], ["DELETE", DIR], ["MOVE", `${DIR}${BOB}.vcf`]] as const) {
      const r = await curl(d, m, p, { headers: { destination: `${d.base}/dav/addressbooks/${ALICE}/Contacts/bob.vcf` } });
      expect(r.status).toBe(403);
    }
    expect((await curl(d, "GET", `${DIR}${BOB}.vcf`)).status).toBe(200);
  });

  test("COPY takes a directory entry into one's own address book, byte for byte", async () => {
    const r = await curl(d, "COPY", `${DIR}${BOB}.vcf`, { headers: { destination: `${d.base}/dav/addressbooks/${ALICE}/Contacts/bob.vcf` } });
    expect(r.status).toBe(201);
    const copy = await curl(d, "GET", `/dav/addressbooks/${ALICE}/Contacts/bob.vcf`);
    expect(copy.body).toBe((await curl(d, "GET", `${DIR}${BOB}.vcf`)).body);
    // Not into a calendar.
    expect((await curl(d, "COPY", `${DIR}${BOB}.vcf`, { headers: { destination: `${d.base}/dav/calendars/${ALICE}/Calendar/bob.ics` } })).status).toBe(403);
  });
});
