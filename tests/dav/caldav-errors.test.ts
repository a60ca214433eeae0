/**
 * Bad calendar-query / calendar-data requests get clear 4xx DAV error
 * bodies (RFC 4918 §16, RFC 4791 §7.8 preconditions), and work over the
 * expansion budget is refused with 507 number-of-matches-within-limits
 * before anything is sent; a runaway recurrence never hangs a query.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { curl, startDav, xmlHeaders, ALICE, type DavServer } from "./core-helpers.ts";
import { CAL, CAL_NS, eventsIn, query, single } from "./caldav-fixtures.ts";

let d: DavServer;

async function report(body: string, path = CAL(ALICE)) {
  return curl(d, "REPORT", path, { body, headers: xmlHeaders("1") });
}

function expectError(r: { status: number; body: string; headers?: Record<string, string> }, status: number, element: string, words: RegExp) {
  expect(r.status).toBe(status);
  expect(r.headers?.["content-type"] ?? "application/xml").toContain("xml");
  expect(r.body).toContain("<D:error");
  expect(r.body).toContain(element);
  expect(r.body).toMatch(words);
}

const minutely = [
  "BEGIN:VCALENDAR",
  "VERSION:2.0",
  "PRODID:-//t//EN",
  "BEGIN:VEVENT",
  "UID:minutely@example.test",
  "DTSTAMP:20260101T000000Z",
  "DTSTART:20260101T000000Z",
  "DURATION:PT30S",
  "RRULE:FREQ=MINUTELY",
  "SUMMARY:Every minute",
  "END:VEVENT",
  "END:VCALENDAR",
  "",
].join("\r\n");

beforeAll(async () => {
  d = await startDav();
  const r = await curl(d, "PUT", CAL(ALICE) + "lunch.ics", { body: single("lunch@t", "20260115T110000Z", "20260115T120000Z", "Lunch"), headers: { "content-type": "text/calendar" } });
  expect(r.status).toBe(201);
  const m = await curl(d, "PUT", CAL(ALICE) + "minutely.ics", { body: minutely, headers: { "content-type": "text/calendar" } });
  expect(m.status).toBe(201);
}, 30_000);

afterAll(async () => {
  await d?.close();
});

describe("bad filters", () => {
  test("unknown collation: 403 C:supported-collation naming the supported ones", async () => {
    const r = await report(query(`<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY"><C:text-match collation="i;klingon">x</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter>`, null));
    expectError(r, 403, "<C:supported-collation/>", /i;klingon.*i;ascii-casemap/);
  });

  test("malformed time-range values: 403 C:valid-filter saying which and why", async () => {
    for (const [tr, why] of [
      ['start="2026-01-01T00:00:00Z" end="20260201T000000Z"', /start.*not a UTC date-time/],
      ['start="20260101T000000" end="20260201T000000Z"', /start.*not a UTC date-time/],
      ['start="20261301T000000Z" end="20270101T000000Z"', /not a UTC date-time/],
      ['start="20260201T000000Z" end="20260101T000000Z"', /not after start/],
      ["", /needs a "start" or an "end"/],
    ] as const) {
      const r = await report(query(`<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range ${tr}/></C:comp-filter></C:comp-filter>`, null));
      expectError(r, 403, "<C:valid-filter/>", why);
    }
  });

  test("unknown component: 403 C:supported-filter", async () => {
    const r = await report(query(`<C:comp-filter name="VCALENDAR"><C:comp-filter name="VFOO"/></C:comp-filter>`, null));
    expectError(r, 403, "<C:supported-filter/>", /VFOO/);
    const nested = await report(query(`<C:comp-filter name="VCALENDAR"><C:comp-filter name="VALARM"/></C:comp-filter>`, null));
    expectError(nested, 403, "<C:supported-filter/>", /VALARM.*inside VCALENDAR/);
  });

  test("a filter not starting at VCALENDAR, two top-level filters, no filter, an unknown element", async () => {
    expectError(await report(query(`<C:comp-filter name="VEVENT"/>`, null)), 403, "<C:valid-filter/>", /VCALENDAR/);
    expectError(await report(query(`<C:comp-filter name="VCALENDAR"/><C:comp-filter name="VCALENDAR"/>`, null)), 403, "<C:valid-filter/>", /exactly one/);
    expectError(await report(`<?xml version="1.0"?><C:calendar-query ${CAL_NS}><D:prop><D:getetag/></D:prop></C:calendar-query>`), 400, "<C:valid-filter/>", /calendar-query needs a &lt;C:filter&gt;/);
    expectError(await report(query(`<C:comp-filter name="VCALENDAR"><C:bogus/></C:comp-filter>`, null)), 403, "<C:supported-filter/>", /bogus/);
  });

  test("is-not-defined with other tests, and a time-range on VCALENDAR", async () => {
    expectError(await report(query(`<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:is-not-defined/><C:time-range start="20260101T000000Z"/></C:comp-filter></C:comp-filter>`, null)), 403, "<C:valid-filter/>", /stands alone/);
    expectError(await report(query(`<C:comp-filter name="VCALENDAR"><C:time-range start="20260101T000000Z"/></C:comp-filter>`, null)), 403, "<C:valid-filter/>", /time-range applies only/);
  });

  test("calendar-data in another format, a bad expand, expand with limit-recurrence-set", async () => {
    const f = eventsIn("20260101T000000Z", "20260201T000000Z");
    const json = query(f, null).replace("<D:getetag/>", '<D:getetag/><C:calendar-data content-type="application/calendar+json"/>');
    expectError(await report(json), 403, "<C:supported-calendar-data/>", /text\/calendar/);
    expectError(await report(query(f, '<C:expand start="20260101T000000Z"/>')), 400, "<C:valid-calendar-data/>", /expand.*start.*end/);
    expectError(await report(query(f, '<C:expand start="20260101T000000Z" end="20260201T000000Z"/><C:limit-recurrence-set start="20260101T000000Z" end="20260201T000000Z"/>')), 400, "<C:valid-calendar-data/>", /exclude each other/);
  });

  test("non-XML and unknown REPORT bodies are refused", async () => {
    const garbage = await report("this is not XML at all");
    expect(garbage.status).toBeGreaterThanOrEqual(400);
    expect(garbage.status).toBeLessThan(500);
    const unknown = await report(`<?xml version="1.0"?><C:calendar-teleport ${CAL_NS}/>`);
    expect(unknown.status).toBe(403);
    expect(unknown.body).toContain("supported-report");
  });
});

describe("bounded work", () => {
  test("expanding an every-minute event over a month: 507 number-of-matches-within-limits, nothing half-sent", async () => {
    const r = await report(query(eventsIn("20260101T000000Z", "20260201T000000Z"), '<C:expand start="20260101T000000Z" end="20260201T000000Z"/>'));
    expectError(r, 507, "<D:number-of-matches-within-limits/>", /shorter range/);
    expect(r.body).not.toContain("multistatus");
  });

  test("a time-range query over that event answers (the filter does not need every instance)", async () => {
    const t0 = Date.now();
    const r = await report(query(`<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20260101T000000Z"/></C:comp-filter></C:comp-filter>`, null));
    expect(r.status).toBe(207);
    expect(r.body).toContain("minutely.ics");
    expect(r.body).toContain("lunch.ics");
    // Not a timing assertion on speed: only that it finished well inside curl's own 20 s limit.
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  test("a short expansion of the same event works", async () => {
    const r = await report(query(eventsIn("20260101T000000Z", "20260101T001000Z"), '<C:expand start="20260101T000000Z" end="20260101T000500Z"/>'));
    expect(r.status).toBe(207);
    expect([...r.body.matchAll(/RECURRENCE-ID:/g)].length).toBe(5);
  });
});
