/**
 * calendar-multiget (RFC 4791 §7.9) with many hrefs, read by an independent
 * client (Python's http.client + ElementTree): found objects byte for byte,
 * missing names, hrefs of another collection or another user and malformed
 * hrefs answered 404 in the multistatus; calendar-data with expand in a
 * multiget; curl for the error bodies.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { hasCommand, run } from "../helpers/proc.ts";
import { curl, startDav, xmlHeaders, ALICE, BOB, PASS, type DavServer } from "./core-helpers.ts";
import { CAL, CAL_NS, TASKS, WEEKLY, single } from "./caldav-fixtures.ts";

let d: DavServer;
const bodies = new Map<string, string>();

interface PyResponse {
  href: string;
  status: string | null;
  props: Record<string, { status: string; text: string }>;
}

async function pyReport(path: string, body: string, depth = "1"): Promise<{ status: number; responses?: PyResponse[]; body?: string }> {
  const input = JSON.stringify({ url: d.base + path, user: ALICE, password: PASS, depth, body });
  const r = await run("python3", [join(import.meta.dir, "caldav_report_client.py")], { input, timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const multiget = (hrefs: string[], data = "") =>
  `<?xml version="1.0" encoding="utf-8"?><C:calendar-multiget ${CAL_NS}><D:prop><D:getetag/><C:calendar-data>${data}</C:calendar-data></D:prop>${hrefs.map((h) => `<D:href>${h}</D:href>`).join("")}</C:calendar-multiget>`;

beforeAll(async () => {
  if (!hasCommand("python3")) throw new Error("python3 is required");
  d = await startDav();
  const gw = d.srv.ctx.groupware;
  const alice = (await d.srv.store.getAccount(ALICE))!;
  const bob = (await d.srv.store.getAccount(BOB))!;
  await gw.ensureDefaults(alice);
  await gw.ensureDefaults(bob);
  const cal = (await gw.getCollection(alice, "Calendar"))!;
  for (let i = 0; i < 60; i++) {
    const day = String(1 + (i % 28)).padStart(2, "0");
    const text = single(`ev-${i}@example.test`, `202602${day}T0${i % 10}0000Z`, `202602${day}T0${i % 10}3000Z`, `Event ${i} — café`);
    bodies.set(`ev-${i}.ics`, text);
    await gw.putObject(cal, `ev-${i}.ics`, new TextEncoder().encode(text));
  }
  bodies.set("weekly.ics", WEEKLY);
  await gw.putObject(cal, "weekly.ics", new TextEncoder().encode(WEEKLY));
  const tasks = (await gw.getCollection(alice, "Tasks"))!;
  await gw.putObject(tasks, "t.ics", new TextEncoder().encode(WEEKLY.replace(/VEVENT/g, "VTODO").replace(/DTEND[^\r]*\r\n/g, "").replace(/BEGIN:VALARM[\s\S]*?END:VALARM\r\n/, "")));
  const bobCal = (await gw.getCollection(bob, "Calendar"))!;
  await gw.putObject(bobCal, "secret.ics", new TextEncoder().encode(single("secret@example.test", "20260201T100000Z", "20260201T110000Z", "Bob's secret")));
}, 60_000);

afterAll(async () => {
  await d?.close();
});

describe("calendar-multiget", () => {
  test("60 found (in several href spellings) and 8 not found, each answered", async () => {
    const found = [...bodies.keys()].filter((n) => n.startsWith("ev-"));
    const hrefs = found.map((n, i) => (i % 3 === 0 ? CAL(ALICE) + n : i % 3 === 1 ? CAL(ALICE).replace("@", "%40") + n : d.base + CAL(ALICE) + n));
    const missing = [
      CAL(ALICE) + "nope-1.ics",
      CAL(ALICE) + "nope-2.ics",
      CAL(ALICE) + "ev-999.ics",
      TASKS(ALICE) + "t.ics", // another collection of the same user
      CAL(BOB) + "secret.ics", // another user
      CAL(ALICE) + "../Tasks/t.ics",
      CAL(ALICE), // the collection itself
      "/dav/calendars/alice%zz/Calendar/x.ics", // malformed escape
    ];
    const r = await pyReport(CAL(ALICE), multiget([...hrefs, ...missing]));
    expect(r.status).toBe(207);
    const rs = r.responses!;
    expect(rs.length).toBe(hrefs.length + missing.length);
    const ok = rs.filter((x) => x.props["{urn:ietf:params:xml:ns:caldav}calendar-data"]?.status === "HTTP/1.1 200 OK");
    expect(ok.length).toBe(60);
    for (const x of ok) {
      const name = decodeURIComponent(x.href.split("/").pop()!);
      // Python's XML parser normalises CRLF to LF in text: compare line by line.
      expect(x.props["{urn:ietf:params:xml:ns:caldav}calendar-data"]!.text.replace(/\r\n/g, "\n")).toBe(bodies.get(name)!.replace(/\r\n/g, "\n"));
      expect(x.props["{DAV:}getetag"]!.text).toMatch(/^".+"$/);
    }
    const notFound = rs.filter((x) => x.status === "HTTP/1.1 404 Not Found").map((x) => x.href);
    expect(notFound.sort()).toEqual([...missing].sort());
    expect(JSON.stringify(rs)).not.toContain("Bob's secret");
  });

  test("byte-exact calendar-data (CRLF kept) through curl", async () => {
    const r = await curl(d, "REPORT", CAL(ALICE), { body: multiget([CAL(ALICE) + "weekly.ics"]), headers: xmlHeaders("1") });
    expect(r.status).toBe(207);
    const m = /<C:calendar-data>([\s\S]*?)<\/C:calendar-data>/.exec(r.body)!;
    expect(m[1]!.replace(/&#13;/g, "\r").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&")).toBe(WEEKLY);
    // a small answer is sent whole, with its length (no chunked framing); a second read gives the same bytes (escaped-body cache)
    expect(Number(r.headers["content-length"])).toBe(Buffer.byteLength(r.body));
    const again = await curl(d, "REPORT", CAL(ALICE), { body: multiget([CAL(ALICE) + "weekly.ics"]), headers: xmlHeaders("1") });
    expect(again.body).toBe(r.body);
  });

  test("calendar-data with expand in a multiget", async () => {
    const r = await pyReport(CAL(ALICE), multiget([CAL(ALICE) + "weekly.ics"], '<C:expand start="20260201T000000Z" end="20260301T000000Z"/>'));
    const text = r.responses![0]!.props["{urn:ietf:params:xml:ns:caldav}calendar-data"]!.text;
    const rids = [...text.matchAll(/RECURRENCE-ID:(\S+)/g)].map((m) => m[1]);
    expect(rids).toEqual(["20260202T090000Z", "20260209T090000Z", "20260216T090000Z", "20260223T090000Z"]);
  });

  test("duplicate hrefs are answered once", async () => {
    const r = await pyReport(CAL(ALICE), multiget([CAL(ALICE) + "ev-1.ics", CAL(ALICE) + "ev-1.ics"]));
    expect(r.responses!.length).toBe(1);
  });

  test("no href: 400 with a DAV error body", async () => {
    const r = await curl(d, "REPORT", CAL(ALICE), { body: `<?xml version="1.0"?><C:calendar-multiget ${CAL_NS}><D:prop><D:getetag/></D:prop></C:calendar-multiget>`, headers: xmlHeaders("1") });
    expect(r.status).toBe(400);
    expect(r.body).toContain("<D:error");
    expect(r.body).toContain("D:href");
  });

  test("another user's calendar is refused before any report runs", async () => {
    const r = await curl(d, "REPORT", CAL(BOB), { body: multiget([CAL(BOB) + "secret.ics"]), headers: xmlHeaders("1") });
    expect(r.status).toBe(403);
    expect(r.body).not.toContain("secret");
  });
});
