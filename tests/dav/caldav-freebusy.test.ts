/**
 * free-busy-query (RFC 4791 §7.10) over HTTPS: busy, tentative,
 * transparent and cancelled events, a recurring event, periods merged and
 * clipped; read with curl and with python3-caldav (which also runs a date
 * search with server-side expansion and its pending-to-dos search).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { assertClients, clientSkip, DEBIAN_PYTHON } from "../helpers/dav-clients.ts";
import { run } from "../helpers/proc.ts";
import { curl, startDav, xmlHeaders, ALICE, PASS, type DavServer } from "./core-helpers.ts";
import { CAL, CAL_NS, TASKS, WEEKLY, single, todo } from "./caldav-fixtures.ts";

let d: DavServer;

const fbQuery = (start: string, end: string) => `<?xml version="1.0" encoding="utf-8"?><C:free-busy-query ${CAL_NS}><C:time-range start="${start}" end="${end}"/></C:free-busy-query>`;

function freebusyLines(ics: string): string[] {
  return ics.split("\r\n").filter((l) => l.startsWith("FREEBUSY"));
}

beforeAll(async () => {
  d = await startDav();
  const gw = d.srv.ctx.groupware;
  const alice = (await d.srv.store.getAccount(ALICE))!;
  await gw.ensureDefaults(alice);
  const cal = (await gw.getCollection(alice, "Calendar"))!;
  const put = (name: string, text: string) => gw.putObject(cal, name, new TextEncoder().encode(text));
  await put("a.ics", single("a@t", "20260302T090000Z", "20260302T100000Z", "Busy A"));
  await put("b.ics", single("b@t", "20260302T093000Z", "20260302T110000Z", "Busy B overlapping A"));
  await put("c.ics", single("c@t", "20260302T110000Z", "20260302T113000Z", "Busy C adjacent to B"));
  await put("transparent.ics", single("tr@t", "20260302T120000Z", "20260302T130000Z", "Lunch (free)", ["TRANSP:TRANSPARENT"]));
  await put("cancelled.ics", single("cx@t", "20260302T140000Z", "20260302T150000Z", "Cancelled", ["STATUS:CANCELLED"]));
  await put("tentative.ics", single("te@t", "20260302T160000Z", "20260302T170000Z", "Maybe", ["STATUS:TENTATIVE"]));
  await put("late.ics", single("late@t", "20260302T230000Z", "20260303T010000Z", "Crosses midnight"));
  await put("other-day.ics", single("od@t", "20260304T090000Z", "20260304T100000Z", "Another day"));
  await put("weekly.ics", WEEKLY); // Mondays 09:00Z; 2026-03-02 is the 9th occurrence
  const tasks = (await gw.getCollection(alice, "Tasks"))!;
  await gw.putObject(tasks, "open.ics", new TextEncoder().encode(todo("open@t", "Open", ["DUE:20260120T170000Z"])));
  await gw.putObject(tasks, "done.ics", new TextEncoder().encode(todo("done@t", "Done", ["STATUS:COMPLETED", "COMPLETED:20260110T120000Z"])));
}, 60_000);

afterAll(async () => {
  await d?.close();
});

describe("free-busy-query", () => {
  test("busy merged, tentative separate, transparent and cancelled free, clipped to the range", async () => {
    const r = await curl(d, "REPORT", CAL(ALICE), { body: fbQuery("20260302T000000Z", "20260303T000000Z"), headers: xmlHeaders("1") });
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toStartWith("text/calendar");
    expect(r.body).toContain("BEGIN:VFREEBUSY");
    expect(r.body).toContain("DTSTART:20260302T000000Z\r\n");
    expect(r.body).toContain("DTEND:20260303T000000Z\r\n");
    expect(freebusyLines(r.body)).toEqual([
      "FREEBUSY;FBTYPE=BUSY:20260302T090000Z/20260302T113000Z",
      "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20260302T160000Z/20260302T170000Z",
      "FREEBUSY;FBTYPE=BUSY:20260302T230000Z/20260303T000000Z",
    ]);
  });

  test("an empty range has no FREEBUSY lines", async () => {
    const r = await curl(d, "REPORT", CAL(ALICE), { body: fbQuery("20260305T000000Z", "20260306T000000Z"), headers: xmlHeaders("1") });
    expect(r.status).toBe(200);
    expect(freebusyLines(r.body)).toEqual([]);
  });

  test("bad time ranges: missing end, not UTC, end before start, too long", async () => {
    for (const body of [
      `<?xml version="1.0"?><C:free-busy-query ${CAL_NS}><C:time-range start="20260302T000000Z"/></C:free-busy-query>`,
      fbQuery("20260302T000000", "20260303T000000Z"),
      fbQuery("20260303T000000Z", "20260302T000000Z"),
      fbQuery("2026-03-02", "20260303T000000Z"),
    ]) {
      const r = await curl(d, "REPORT", CAL(ALICE), { body, headers: xmlHeaders("1") });
      expect(r.status).toBe(400);
      expect(r.body).toContain("<C:valid-filter/>");
      expect(r.body).toContain("time-range");
    }
    const long = await curl(d, "REPORT", CAL(ALICE), { body: fbQuery("20200101T000000Z", "20300101T000000Z"), headers: xmlHeaders("1") });
    expect(long.status).toBe(403);
    expect(long.body).toContain("number-of-matches-within-limits");
  });

  test("on a task list: 403 supported-report", async () => {
    const r = await curl(d, "REPORT", TASKS(ALICE), { body: fbQuery("20260302T000000Z", "20260303T000000Z"), headers: xmlHeaders("1") });
    expect(r.status).toBe(403);
    expect(r.body).toContain("supported-report");
  });
});

describe("python3-caldav", () => {
  test.skipIf(clientSkip(["python3-caldav"]))("freebusy_request, date_search(expand=True) and todos()", async () => {
    assertClients(["python3-caldav"]);
    const r = await run(DEBIAN_PYTHON, [join(import.meta.dir, "caldav_lib_client.py"), d.base + "/dav/", ALICE, PASS, d.base + CAL(ALICE), d.base + TASKS(ALICE)], { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`python3-caldav failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as { freebusy: string; expanded: string[]; todos: string[] };
    expect(freebusyLines(out.freebusy.replace(/\r?\n/g, "\r\n"))).toEqual([
      "FREEBUSY;FBTYPE=BUSY:20260302T090000Z/20260302T113000Z",
      "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20260302T160000Z/20260302T170000Z",
      "FREEBUSY;FBTYPE=BUSY:20260302T230000Z/20260303T000000Z",
    ]);
    expect(out.expanded).toEqual(["2026-01-05 09:00:00+00:00 Weekly sync", "2026-01-12 09:00:00+00:00 Weekly sync (moved to Thursday)", "2026-01-26 09:00:00+00:00 Weekly sync"]);
    expect(out.todos).toEqual(["open@t"]);
  });
});
