/**
 * calendar-query (RFC 4791 §7.8) over real HTTPS with curl: time ranges
 * against a weekly event with an overridden instance moved to another day
 * and an EXDATE, expansion (§9.6.5) with RECURRENCE-IDs in UTC,
 * limit-recurrence-set, comp/prop subsets, text-match on SUMMARY with
 * collations and negation, VALARM and VTODO time ranges, Depth handling.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { curl, responses, startDav, texts, xmlHeaders, ALICE, type DavServer } from "./core-helpers.ts";
import { CAL, TASKS, WEEKLY, eventsIn, query, single, todo, unxml } from "./caldav-fixtures.ts";

let d: DavServer;

async function put(path: string, body: string): Promise<void> {
  const r = await curl(d, "PUT", path, { body, headers: { "content-type": "text/calendar; charset=utf-8" } });
  if (r.status !== 201 && r.status !== 204) throw new Error(`PUT ${path}: ${r.status} ${r.body}`);
}

async function report(path: string, body: string, depth = "1") {
  return curl(d, "REPORT", path, { body, headers: xmlHeaders(depth) });
}

/** Resource names of the responses of a multistatus, sorted. */
function names(xml: string): string[] {
  return responses(xml)
    .map((r) => decodeURIComponent(texts(r, "href")[0]!.split("/").pop()!))
    .sort();
}

beforeAll(async () => {
  d = await startDav();
  await put(CAL(ALICE) + "weekly.ics", WEEKLY);
  await put(CAL(ALICE) + "lunch.ics", single("lunch@example.test", "20260115T110000Z", "20260115T120000Z", "Lunch with Bob"));
  await put(CAL(ALICE) + "review.ics", single("review@example.test", "20260201T090000Z", "20260201T100000Z", "Quarterly REVIEW", ["STATUS:TENTATIVE"]));
  await put(CAL(ALICE) + "instant.ics", single("instant@example.test", "20260301T000000Z", "20260301T000000Z", "Deadline"));
  await put(TASKS(ALICE) + "done.ics", todo("done@example.test", "Filed taxes", ["STATUS:COMPLETED", "COMPLETED:20260110T120000Z", "DUE:20260112T000000Z"]));
  await put(TASKS(ALICE) + "open.ics", todo("open@example.test", "Write report", ["STATUS:NEEDS-ACTION", "DUE:20260120T170000Z"]));
  await put(TASKS(ALICE) + "later.ics", todo("later@example.test", "Plan spring", ["DTSTART:20260301T090000Z", "DUE:20260310T170000Z"]));
  await put(TASKS(ALICE) + "cancelled.ics", todo("cancelled@example.test", "Old idea", ["STATUS:CANCELLED"]));
}, 30_000);

afterAll(async () => {
  await d?.close();
});

describe("calendar-query time ranges with recurrence (RFC 4791 §9.9)", () => {
  test("the moved instance counts on the day it moved to, not on its original day", async () => {
    const original = await report(CAL(ALICE), query(eventsIn("20260112T000000Z", "20260113T000000Z"), null));
    expect(original.status).toBe(207);
    expect(names(original.body)).toEqual([]);
    const moved = await report(CAL(ALICE), query(eventsIn("20260115T120000Z", "20260115T140000Z"), null));
    expect(names(moved.body)).toEqual(["weekly.ics"]);
    // The range before the moved instance holds only lunch (11:00-12:00Z).
    const lunch = await report(CAL(ALICE), query(eventsIn("20260115T000000Z", "20260115T120000Z"), null));
    expect(names(lunch.body)).toEqual(["lunch.ics"]);
  });

  test("the EXDATE instance is gone, regular instances stay", async () => {
    const exdate = await report(CAL(ALICE), query(eventsIn("20260119T000000Z", "20260120T000000Z"), null));
    expect(names(exdate.body)).toEqual([]);
    const regular = await report(CAL(ALICE), query(eventsIn("20260126T085959Z", "20260126T090001Z"), null));
    expect(names(regular.body)).toEqual(["weekly.ics"]);
    const afterLast = await report(CAL(ALICE), query(eventsIn("20260310T000000Z", "20260401T000000Z"), null));
    expect(names(afterLast.body)).toEqual([]);
  });

  test("a zero-length event matches at the start of a range and not at its end", async () => {
    expect(names((await report(CAL(ALICE), query(eventsIn("20260301T000000Z", "20260302T000000Z"), null))).body)).toEqual(["instant.ics"]);
    expect(names((await report(CAL(ALICE), query(eventsIn("20260228T000000Z", "20260301T000000Z"), null))).body)).toEqual([]);
  });

  test("an open-ended range (start only) finds everything after it", async () => {
    const r = await report(CAL(ALICE), query(`<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20260201T000000Z"/></C:comp-filter></C:comp-filter>`, null));
    expect(names(r.body)).toEqual(["instant.ics", "review.ics", "weekly.ics"]);
  });

  test("VALARM time-range: the trigger 15 minutes before each instance", async () => {
    const alarm = (s: string, e: string) =>
      query(`<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:comp-filter name="VALARM"><C:time-range start="${s}" end="${e}"/></C:comp-filter></C:comp-filter></C:comp-filter>`, null);
    expect(names((await report(CAL(ALICE), alarm("20260126T084000Z", "20260126T084600Z"))).body)).toEqual(["weekly.ics"]);
    expect(names((await report(CAL(ALICE), alarm("20260126T085000Z", "20260126T090000Z"))).body)).toEqual([]);
  });
});

describe("calendar-data with expand, limit-recurrence-set and subsets (RFC 4791 §9.6)", () => {
  test("expand returns one VEVENT per instance in UTC with RECURRENCE-IDs, the moved one from its override", async () => {
    const r = await report(CAL(ALICE), query(eventsIn("20260101T000000Z", "20260201T000000Z"), '<C:expand start="20260101T000000Z" end="20260201T000000Z"/>'));
    expect(r.status).toBe(207);
    const resp = responses(r.body).find((x) => x.includes("weekly.ics"))!;
    const ics = unxml(texts(resp, "calendar-data")[0]!);
    expect(ics).toContain("\r\n");
    const events = ics.split("BEGIN:VEVENT").slice(1);
    expect(events.length).toBe(3);
    const rid = events.map((e) => /RECURRENCE-ID:(\S+)/.exec(e)?.[1]);
    const start = events.map((e) => /DTSTART:(\S+)/.exec(e)?.[1]);
    expect(rid).toEqual(["20260105T090000Z", "20260112T090000Z", "20260126T090000Z"]);
    expect(start).toEqual(["20260105T090000Z", "20260115T130000Z", "20260126T090000Z"]);
    expect(events[1]).toContain("SUMMARY:Weekly sync (moved to Thursday)");
    expect(ics).not.toContain("RRULE");
    expect(ics).not.toContain("EXDATE");
    expect(ics).not.toContain("TZID");
    expect(ics).not.toContain("VTIMEZONE");
    // The alarm stays with each instance.
    expect(ics.split("BEGIN:VALARM").length - 1).toBe(2);
  });

  test("expand only returns instances overlapping its own range", async () => {
    const r = await report(CAL(ALICE), query(eventsIn("20260101T000000Z", "20260201T000000Z"), '<C:expand start="20260115T000000Z" end="20260116T000000Z"/>'));
    const weekly = responses(r.body).find((x) => x.includes("weekly.ics"))!;
    const ics = unxml(texts(weekly, "calendar-data")[0]!);
    expect(ics.split("BEGIN:VEVENT").length - 1).toBe(1);
    expect(ics).toContain("RECURRENCE-ID:20260112T090000Z");
  });

  test("limit-recurrence-set keeps the master and only the overrides in range", async () => {
    const inRange = await report(CAL(ALICE), query(eventsIn("20260101T000000Z", "20260201T000000Z"), '<C:limit-recurrence-set start="20260114T000000Z" end="20260116T000000Z"/>'));
    const a = unxml(texts(responses(inRange.body).find((x) => x.includes("weekly.ics"))!, "calendar-data")[0]!);
    expect(a).toContain("RRULE:FREQ=WEEKLY;COUNT=10");
    expect(a).toContain("RECURRENCE-ID");
    const outside = await report(CAL(ALICE), query(eventsIn("20260101T000000Z", "20260201T000000Z"), '<C:limit-recurrence-set start="20260120T000000Z" end="20260201T000000Z"/>'));
    const b = unxml(texts(responses(outside.body).find((x) => x.includes("weekly.ics"))!, "calendar-data")[0]!);
    expect(b).toContain("RRULE:FREQ=WEEKLY;COUNT=10");
    expect(b).not.toContain("RECURRENCE-ID");
  });

  test("a comp/prop subset returns only the named properties", async () => {
    const data = '<C:comp name="VCALENDAR"><C:prop name="VERSION"/><C:comp name="VEVENT"><C:prop name="SUMMARY"/><C:prop name="UID"/><C:prop name="DTSTART" novalue="yes"/></C:comp></C:comp>';
    const r = await report(CAL(ALICE), query(eventsIn("20260115T110000Z", "20260115T113000Z"), data));
    const ics = unxml(texts(responses(r.body)[0]!, "calendar-data")[0]!);
    expect(ics).toContain("SUMMARY:Lunch with Bob");
    expect(ics).toContain("UID:lunch@example.test");
    expect(ics).toContain("DTSTART:\r\n");
    expect(ics).not.toContain("DTEND");
    expect(ics).not.toContain("PRODID");
    expect(ics).toContain("VERSION:2.0");
  });

  test("without a subset the body is returned byte for byte", async () => {
    const r = await report(CAL(ALICE), query(eventsIn("20260105T000000Z", "20260106T000000Z")));
    expect(unxml(texts(responses(r.body)[0]!, "calendar-data")[0]!)).toBe(WEEKLY);
  });
});

describe("text-match and property filters (RFC 4791 §9.7)", () => {
  const summary = (tm: string) => query(`<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY">${tm}</C:prop-filter></C:comp-filter></C:comp-filter>`, null);

  test("i;ascii-casemap (default) ignores case; an override's SUMMARY counts", async () => {
    expect(names((await report(CAL(ALICE), summary("<C:text-match>review</C:text-match>"))).body)).toEqual(["review.ics"]);
    expect(names((await report(CAL(ALICE), summary("<C:text-match>THURSDAY</C:text-match>"))).body)).toEqual(["weekly.ics"]);
  });

  test("i;octet is exact", async () => {
    expect(names((await report(CAL(ALICE), summary('<C:text-match collation="i;octet">review</C:text-match>'))).body)).toEqual([]);
    expect(names((await report(CAL(ALICE), summary('<C:text-match collation="i;octet">REVIEW</C:text-match>'))).body)).toEqual(["review.ics"]);
  });

  test("negate-condition", async () => {
    expect(names((await report(CAL(ALICE), summary('<C:text-match negate-condition="yes">sync</C:text-match>'))).body)).toEqual(["instant.ics", "lunch.ics", "review.ics"]);
  });

  test("is-not-defined and a time-range combined with a property test", async () => {
    const f = `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="STATUS"><C:is-not-defined/></C:prop-filter></C:comp-filter></C:comp-filter>`;
    expect(names((await report(CAL(ALICE), query(f, null))).body)).toEqual(["instant.ics", "lunch.ics", "weekly.ics"]);
    // In the week of 12 January only the moved override is there, and its SUMMARY is not the master's.
    const g = `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20260112T000000Z" end="20260117T000000Z"/><C:prop-filter name="SUMMARY"><C:text-match>moved</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter>`;
    expect(names((await report(CAL(ALICE), query(g, null))).body)).toEqual(["weekly.ics"]);
    const h = `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20260126T000000Z" end="20260127T000000Z"/><C:prop-filter name="SUMMARY"><C:text-match>moved</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter>`;
    expect(names((await report(CAL(ALICE), query(h, null))).body)).toEqual([]);
  });

  test("param-filter on TZID", async () => {
    const f = `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="DTSTART"><C:param-filter name="TZID"><C:text-match>berlin</C:text-match></C:param-filter></C:prop-filter></C:comp-filter></C:comp-filter>`;
    expect(names((await report(CAL(ALICE), query(f, null))).body)).toEqual(["weekly.ics"]);
  });
});

describe("VTODO queries", () => {
  const todos = (inner: string) => query(`<C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO">${inner}</C:comp-filter></C:comp-filter>`, null);

  test("not completed (the RFC 4791 §7.8.9 example)", async () => {
    const r = await report(TASKS(ALICE), todos('<C:prop-filter name="COMPLETED"><C:is-not-defined/></C:prop-filter><C:prop-filter name="STATUS"><C:text-match negate-condition="yes">CANCELLED</C:text-match></C:prop-filter>'));
    expect(r.status).toBe(207);
    // later.ics has no STATUS: a prop-filter with a text-match needs the property (§9.7.2), negated or not.
    expect(names(r.body)).toEqual(["open.ics"]);
    const noCompleted = await report(TASKS(ALICE), todos('<C:prop-filter name="COMPLETED"><C:is-not-defined/></C:prop-filter>'));
    expect(names(noCompleted.body)).toEqual(["cancelled.ics", "later.ics", "open.ics"]);
  });

  test("completed", async () => {
    expect(names((await report(TASKS(ALICE), todos('<C:prop-filter name="COMPLETED"/>'))).body)).toEqual(["done.ics"]);
  });

  test("due range: a DUE-only task matches when its DUE is inside (start < DUE <= end)", async () => {
    expect(names((await report(TASKS(ALICE), todos('<C:time-range start="20260115T000000Z" end="20260125T000000Z"/>'))).body)).toEqual(["cancelled.ics", "open.ics"]);
    // A task with DTSTART and DUE overlaps through its span; a task without any date matches every range (the §9.9 table's last row).
    expect(names((await report(TASKS(ALICE), todos('<C:time-range start="20260305T000000Z" end="20260306T000000Z"/>'))).body)).toEqual(["cancelled.ics", "later.ics"]);
  });

  test("a time-range on the DUE property", async () => {
    const r = await report(TASKS(ALICE), todos('<C:prop-filter name="DUE"><C:time-range start="20260101T000000Z" end="20260115T000000Z"/></C:prop-filter>'));
    expect(names(r.body)).toEqual(["done.ics"]);
  });
});

describe("floating times (RFC 4791 §9.8, RFC 7809)", () => {
  test("a floating event is read in the zone the query names, else in UTC", async () => {
    const home = `/dav/calendars/${ALICE}/floating/`;
    const mk = await curl(d, "MKCALENDAR", home, { body: '<?xml version="1.0"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"/>', headers: xmlHeaders() });
    expect(mk.status).toBe(201);
    await put(home + "floating.ics", single("floating@example.test", "20260310T100000", "20260310T110000", "Floating"));
    const f = eventsIn("20260310T090000Z", "20260310T093000Z");
    // 10:00 floating = 09:00Z in Berlin (CET, UTC+1), 10:00Z when read as UTC.
    expect(names((await report(home, query(f, null))).body)).toEqual([]);
    expect(names((await report(home, query(f, null, "<C:timezone-id>Europe/Berlin</C:timezone-id>"))).body)).toEqual(["floating.ics"]);
    const tzText = "BEGIN:VCALENDAR&#13;\nVERSION:2.0&#13;\nBEGIN:VTIMEZONE&#13;\nTZID:Europe/Berlin&#13;\nEND:VTIMEZONE&#13;\nEND:VCALENDAR&#13;\n";
    expect(names((await report(home, query(f, null, `<C:timezone>${tzText}</C:timezone>`))).body)).toEqual(["floating.ics"]);
    // Expanded in UTC as read in that zone.
    const x = await report(home, query(f, '<C:expand start="20260310T000000Z" end="20260311T000000Z"/>', "<C:timezone-id>Europe/Berlin</C:timezone-id>"));
    expect(unxml(texts(responses(x.body)[0]!, "calendar-data")[0]!)).toContain("DTSTART:20260310T090000Z\r\n");
  });
});

describe("Depth", () => {
  test("Depth 0 on an object tests that object; on the collection nothing", async () => {
    const f = query(eventsIn("20260115T000000Z", "20260116T000000Z"), null);
    expect(names((await report(CAL(ALICE) + "lunch.ics", f, "0")).body)).toEqual(["lunch.ics"]);
    expect(names((await report(CAL(ALICE) + "review.ics", f, "0")).body)).toEqual([]);
    expect(names((await report(CAL(ALICE), f, "0")).body)).toEqual([]);
    expect((await report(CAL(ALICE) + "nothing-here.ics", f, "0")).status).toBe(404);
  });
});
