/**
 * Every groupware route of the webmail (calendar, tasks, contacts, people,
 * collections, invitations, previews, bulk) under hostile input: wrong JSON
 * types, absurd sizes and counts, bad path segments and query values. Each
 * must answer with a 4xx in words, never a 5xx, and the server must still
 * answer afterwards (it did not crash or hang).
 */
import { test, expect, beforeAll, afterAll } from "bun:test";
import { ALICE, ApiClient, request, startWebmailServer } from "./helpers.ts";

let srv: Awaited<ReturnType<typeof startWebmailServer>>;
let alice: ApiClient;

beforeAll(async () => {
  srv = await startWebmailServer();
  alice = await ApiClient.signIn(srv.base, ALICE);
}, 60_000);

afterAll(async () => {
  await srv?.close();
});

const long = "x".repeat(100_000);
const deep = JSON.parse("[".repeat(5000) + "]".repeat(5000)) as unknown;

/** JSON bodies that are wrong in shape, type or size. */
const BODIES: unknown[] = [
  null,
  [],
  "text",
  42,
  {},
  deep,
  { event: null },
  { event: [] },
  { event: { title: 5, start: {}, end: [], allDay: "yes" } },
  { event: { title: long, start: "2026-13-45T25:61", end: "0000-00-00", timeZone: "Mars/Olympus", allDay: false } },
  { event: { title: "x", start: "2026-03-10T09:00", end: "2026-03-10T08:00", timeZone: "UTC", allDay: false, recurrence: { freq: "SECONDLY", interval: -1, count: 1e12 } } },
  { event: { title: "x", start: "2026-03-10T09:00", end: "2026-03-10T10:00", timeZone: "UTC", allDay: false, attendees: Array.from({ length: 6000 }, (_, i) => ({ address: `a${i}@x.test` })) } },
  { event: { title: "x", start: "2026-03-10T09:00", end: "2026-03-10T10:00", timeZone: "UTC", allDay: false, reminders: Array.from({ length: 1000 }, () => -5) } },
  { event: { title: "a\r\nBEGIN:VEVENT\r\nUID:evil", start: "2026-03-10T09:00", end: "2026-03-10T10:00", timeZone: "UTC", allDay: false } },
  { task: null },
  { task: { title: long, due: "yesterday", priority: 99, status: "DONE", percent: 500 } },
  { contact: null },
  { contact: { fullName: "x\r\nEND:VCARD", emails: "a@b", phones: [{ type: 1, value: {} }] } },
  { contact: { fullName: "x", emails: Array.from({ length: 1000 }, () => ({ type: "home", value: "a@b.c", pref: false })) } },
  { contact: { fullName: "x", photo: "data:text/html;base64,PHNjcmlwdD4=" } },
  { contact: { fullName: "x", photo: "data:image/png;base64," + "A".repeat(2_000_000) } },
  { displayName: long, color: "red; background:url(x)", kind: "mail" },
  { kind: "calendar", displayName: "" },
  { partstat: "MAYBE", comment: long },
  { partstat: "ACCEPTED", comment: 5, scope: "some", recurrenceId: "soon" },
  { to: "../../etc", etag: 5 },
  { action: "explode", exceptIds: "all" },
];

/** Routes with a body; `{cal}` etc. are replaced by real and hostile names. */
const WRITES: [string, string][] = [
  ["POST", "/api/groupware/collections"],
  ["PATCH", "/api/groupware/collections/{cal}"],
  ["POST", "/api/calendar/events/{cal}"],
  ["PUT", "/api/calendar/events/{cal}/{id}"],
  ["POST", "/api/calendar/events/{cal}/{id}/move"],
  ["POST", "/api/calendar/events/{cal}/{id}/respond"],
  ["POST", "/api/tasks/{tasks}"],
  ["PUT", "/api/tasks/{tasks}/{id}"],
  ["POST", "/api/contacts/{book}"],
  ["PUT", "/api/contacts/{book}/{id}"],
  ["POST", "/api/messages/{msg}/invitation"],
  ["POST", "/api/folders/{folder}/bulk"],
];

const READS = [
  "/api/groupware/collections?kind=mail",
  "/api/groupware/collections?kind=" + long.slice(0, 5000),
  "/api/calendar/instances",
  "/api/calendar/instances?from=abc&to=def",
  "/api/calendar/instances?from=0&to=99999999999999999",
  "/api/calendar/instances?from=10&to=5",
  "/api/calendar/instances?from=1700000000000&to=1800000000000&calendars=" + encodeURIComponent("../x,%00,") + "a".repeat(3000),
  "/api/calendar/events/{cal}/{id}?recurrenceId=NaN",
  "/api/calendar/events/{cal}/{id}?recurrenceId=-1e300",
  "/api/calendar/freebusy?from=1&to=2&addresses=" + Array.from({ length: 2000 }, (_, i) => `u${i}@x.test`).join(","),
  "/api/calendar/freebusy?from=x&to=y&addresses=",
  "/api/calendar/export/{cal}",
  "/api/tasks",
  "/api/tasks?list={tasks}&completed=maybe",
  "/api/tasks/{tasks}/{id}",
  "/api/contacts?book={book}&q=" + encodeURIComponent("%_*\\'\"(") + "&limit=-1",
  "/api/contacts?book={book}&q=" + "é".repeat(3000),
  "/api/contacts/{book}/{id}",
  "/api/contacts/{book}/{id}/photo",
  "/api/contacts/export/{book}?ids=" + Array.from({ length: 3000 }, (_, i) => `id${i}`).join(","),
  "/api/contacts/groups/{book}/{id}/expand",
  "/api/directory?q=" + "\u0000".repeat(10),
  "/api/people?q=" + "a".repeat(5000),
  "/api/messages/{msg}/invitation",
  "/api/messages/{msg}/attachments/{id}/preview",
  "/api/folders/{folder}/bulk",
];

const NAMES: Record<string, string[]> = {
  cal: ["Calendar", "nope", "%2e%2e", "a".repeat(2000), "%00"],
  tasks: ["Tasks", "Calendar", "%2F"],
  book: ["Contacts", "export", "Calendar", "%FF"],
  id: ["missing.ics", "%2e%2e%2f%2e%2e", "x".repeat(3000), "-1"],
  msg: ["1", "-5", "99999999999999999999", "abc", "1e3"],
  folder: ["1", "0", "abc", "-1"],
};

function expand(path: string): string[] {
  let out = [path];
  for (const [k, vals] of Object.entries(NAMES)) {
    const next: string[] = [];
    for (const p of out) {
      if (!p.includes(`{${k}}`)) next.push(p);
      else for (const v of vals) next.push(p.replace(`{${k}}`, v));
    }
    out = next;
  }
  return out;
}

test("no groupware route answers hostile JSON bodies with a 5xx", async () => {
  const bad: string[] = [];
  for (const [method, path] of WRITES) {
    for (const url of expand(path).slice(0, 12)) {
      for (const body of BODIES) {
        const res = await alice.send(method, url, body);
        if (res.status >= 500) bad.push(`${method} ${url.slice(0, 80)} ${JSON.stringify(body)?.slice(0, 80)} -> ${res.status} ${res.text.slice(0, 120)}`);
      }
      // Not JSON at all, and JSON cut short.
      for (const raw of ["", "{", "\u0000\u0001", "[1,2"]) {
        const res = await fetchRaw(method, url, "application/json", raw);
        if (res.status >= 500) bad.push(`${method} ${url.slice(0, 80)} ${JSON.stringify(raw)} -> ${res.status}`);
      }
    }
  }
  expect(bad).toEqual([]);
}, 240_000);

test("no groupware read answers hostile paths and queries with a 5xx, and imports of garbage are refused in words", async () => {
  const bad: string[] = [];
  for (const path of READS) {
    for (const url of expand(path).slice(0, 16)) {
      const res = await alice.get(url);
      if (res.status >= 500) bad.push(`GET ${url.slice(0, 100)} -> ${res.status} ${res.text.slice(0, 120)}`);
    }
  }
  for (const [path, type] of [
    ["/api/calendar/import/Calendar", "text/calendar"],
    ["/api/contacts/import/Contacts", "text/vcard"],
  ] as const) {
    for (const body of ["", "BEGIN:VCALENDAR", "BEGIN:VCARD\r\nFN:x\r\n", "\u0000".repeat(1000), "BEGIN:VCALENDAR\r\n" + "BEGIN:VEVENT\r\n".repeat(5000), long]) {
      const res = await fetchRaw("POST", path, type, body);
      if (res.status >= 500) bad.push(`POST ${path} ${JSON.stringify(body.slice(0, 30))} -> ${res.status}`);
    }
  }
  expect(bad).toEqual([]);
  // Still alive and answering.
  expect((await alice.get("/api/groupware/collections?kind=calendar")).status).toBe(200);
}, 240_000);

async function fetchRaw(method: string, path: string, type: string, body: string): Promise<{ status: number }> {
  return request(method, srv.base + path, {
    headers: { cookie: alice.cookie, origin: srv.base, "x-csrf-token": alice.csrf, "content-type": type },
    body,
  });
}
