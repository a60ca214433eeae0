/**
 * Random DAV requests (mutated from realistic ones: every method, paths
 * with tricks, Depth/If-Match/Destination headers, XML and iCalendar
 * bodies) straight into the DAV handler with a real store behind it. A
 * failure is an exception, an HTTP 500 (an unhandled error inside a
 * handler), a response body that fails while streaming, or a request that
 * takes longer than the fuzz engine's hang limit.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { fuzzTarget, type FuzzTarget } from "../reliability/fuzz/engine.ts";
import { requestFromInput } from "../reliability/fuzz/http-target.ts";
import { handleDav } from "../../protocols/http/dav/handler.ts";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { vcard, vevent, vtodo } from "./core-helpers.ts";

const BUDGET_MS = Number(process.env.PILLARBOX_FUZZ_MS ?? 2500);
const USER = "fuzz@fuzz.test";
const METHODS = ["OPTIONS", "GET", "HEAD", "PUT", "DELETE", "PROPFIND", "PROPPATCH", "MKCOL", "MKCALENDAR", "REPORT", "MOVE", "COPY", "POST"];
let srv: TestServer;

beforeAll(async () => {
  srv = await startTestServer({ listeners: [] });
  await createUser(srv.store, USER, "fuzz-password-1");
  await createUser(srv.store, "other@fuzz.test", "fuzz-password-2");
});
afterAll(async () => {
  await srv?.close();
});

function toRequest(input: Uint8Array): Request | null {
  const authorization = "Basic " + Buffer.from(`${USER}:fuzz-password-1`).toString("base64");
  return requestFromInput(input, { methods: METHODS, defaultPath: "/dav/", headers: { authorization }, replaceHeaders: true });
}

test("random DAV requests never make the handler fail", async () => {
  const C = `/dav/calendars/${USER}/Calendar/`;
  const B = `/dav/addressbooks/${USER}/Contacts/`;
  const X = `content-type: application/xml`;
  const seeds = [
    `PROPFIND /dav/\ndepth: 0\n${X}\n\n<d:propfind xmlns:d="DAV:"><d:prop><d:current-user-principal/></d:prop></d:propfind>`,
    `PROPFIND /dav/principals/${USER}/\ndepth: 0\n${X}\n\n<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:calendar-home-set/><c:calendar-user-address-set/></d:prop></d:propfind>`,
    `PROPFIND /dav/calendars/${USER}/\ndepth: 1\n${X}\n\n<d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>`,
    `PROPFIND ${C}\ndepth: 1\n${X}\n\n<d:propfind xmlns:d="DAV:"><d:propname/></d:propfind>`,
    `PUT ${C}a.ics\ncontent-type: text/calendar\nif-none-match: *\n\n${vevent("a@fuzz", "A", "RRULE:FREQ=DAILY;COUNT=5")}`,
    `PUT /dav/calendars/${USER}/Tasks/t.ics\ncontent-type: text/calendar\n\n${vtodo("t@fuzz")}`,
    `PUT ${B}c.vcf\ncontent-type: text/vcard\n\n${vcard("c@fuzz")}`,
    `GET ${C}a.ics\nif-none-match: "1-1"`,
    `DELETE ${C}a.ics\nif-match: "1-2"`,
    `MOVE ${C}a.ics\ndestination: https://mail.pillarbox.test${C}b.ics\noverwrite: F`,
    `COPY ${C}a.ics\ndestination: /dav/calendars/${USER}/other/a.ics`,
    `MKCALENDAR /dav/calendars/${USER}/new/\n${X}\n\n<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop><d:displayname>N</d:displayname><c:supported-calendar-component-set><c:comp name="VTODO"/></c:supported-calendar-component-set></d:prop></d:set></c:mkcalendar>`,
    `MKCOL /dav/addressbooks/${USER}/book/\n${X}\n\n<d:mkcol xmlns:d="DAV:" xmlns:cr="urn:ietf:params:xml:ns:carddav"><d:set><d:prop><d:resourcetype><d:collection/><cr:addressbook/></d:resourcetype></d:prop></d:set></d:mkcol>`,
    `PROPPATCH ${C}\n${X}\n\n<d:propertyupdate xmlns:d="DAV:" xmlns:i="http://apple.com/ns/ical/"><d:set><d:prop><d:displayname>X</d:displayname><i:calendar-color>#112233</i:calendar-color></d:prop></d:set><d:remove><d:prop><i:calendar-order/></d:prop></d:remove></d:propertyupdate>`,
    `REPORT ${C}\ndepth: 0\n${X}\n\n<d:sync-collection xmlns:d="DAV:"><d:sync-token/><d:sync-level>1</d:sync-level><d:limit><d:nresults>2</d:nresults></d:limit><d:prop><d:getetag/></d:prop></d:sync-collection>`,
    `REPORT ${C}\ndepth: 1\n${X}\n\n<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data><c:expand start="20260101T000000Z" end="20260201T000000Z"/></c:calendar-data></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="20260101T000000Z" end="20260201T000000Z"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`,
    `REPORT ${C}\ndepth: 1\n${X}\n\n<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop><d:href>${C}a.ics</d:href><d:href>${C}zz.ics</d:href></c:calendar-multiget>`,
    `REPORT ${B}\ndepth: 1\n${X}\n\n<cr:addressbook-query xmlns:d="DAV:" xmlns:cr="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/></d:prop><cr:filter><cr:prop-filter name="EMAIL"><cr:text-match match-type="contains">fuzz</cr:text-match></cr:prop-filter></cr:filter></cr:addressbook-query>`,
    `REPORT /dav/principals/${USER}/\n${X}\n\n<d:expand-property xmlns:d="DAV:"><d:property name="calendar-home-set" namespace="urn:ietf:params:xml:ns:caldav"><d:property name="displayname"/></d:property></d:expand-property>`,
    `PROPFIND /dav/addressbooks/${USER}/directory/\ndepth: 1`,
    `PROPFIND /dav/calendars/${USER}/..%2fother@fuzz.test/\ndepth: 0`,
    `POST /dav/calendars/${USER}/outbox/\ncontent-type: text/calendar\n\nBEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VFREEBUSY\r\nDTSTART:20260101T000000Z\r\nDTEND:20260102T000000Z\r\nORGANIZER:mailto:${USER}\r\nATTENDEE:mailto:other@fuzz.test\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n`,
  ].map((s) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff));

  const target: FuzzTarget = {
    name: "dav-requests",
    seeds,
    maxLen: 16384,
    async run(input) {
      const req = toRequest(input);
      if (!req) return;
      const res = await handleDav(req, { scheme: "https", remoteIp: "127.0.0.8" }, srv.ctx);
      await res.arrayBuffer().catch((e: unknown) => {
        throw new Error(`response body failed for ${req.method} ${new URL(req.url).pathname}: ${String(e)}`);
      });
      if (res.status === 500) throw new Error(`HTTP 500 for ${req.method} ${new URL(req.url).pathname}`);
    },
  };
  const s = await fuzzTarget(target, { budgetMs: BUDGET_MS, seed: Date.now() & 0xffff, save: false, batch: 100 });
  expect(s.execs).toBeGreaterThan(50);
  // The input as base64 so it can be replayed exactly.
  expect(s.failures.map((f) => `${f.kind}: ${f.message.split("\n")[0]}\ninput (base64): ${Buffer.from(f.input).toString("base64").slice(0, 4000)}`)).toEqual([]);
}, BUDGET_MS + 60_000);
