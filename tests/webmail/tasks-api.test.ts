/**
 * The webmail tasks JSON API over real HTTPS (protocols/http/webmail/
 * tasks-api.ts): create/read/update/delete read back over CalDAV, a CalDAV
 * client's VTODO listed, completing a recurring task (the done occurrence
 * stored on its own, the series moved on), ownership and malformed input.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import ICAL from "ical.js";
import { ALICE, BOB, ApiClient, request, startWebmailServer } from "./helpers.ts";
import type { CollectionInfo, TaskData, TaskResponse, TaskSummary } from "../../protocols/http/webmail/api-types.ts";

setDefaultTimeout(60_000);

let srv: Awaited<ReturnType<typeof startWebmailServer>>;
let alice: ApiClient;
let bob: ApiClient;
let list = "";

function task(o: Partial<TaskData>): TaskData {
  return { uid: "", title: "Task", description: "", due: "", start: "", timeZone: "", priority: 0, status: "NEEDS-ACTION", percent: 0, completed: null, categories: [], reminders: [], recurrence: null, ...o };
}

function dav(method: string, path: string, body?: string) {
  const auth = "Basic " + Buffer.from(`${ALICE.email}:${ALICE.password}`).toString("base64");
  return request(method, srv.base + path, { headers: { authorization: auth, ...(body !== undefined ? { "content-type": "text/calendar; charset=utf-8" } : {}) }, body });
}

const tasks = async (q = "") => (await alice.ok<{ tasks: TaskSummary[] }>("GET", `/api/tasks?list=${list}${q}`)).tasks;

beforeAll(async () => {
  srv = await startWebmailServer();
  alice = await ApiClient.signIn(srv.base, ALICE);
  bob = await ApiClient.signIn(srv.base, BOB);
  await alice.ok("PUT", "/api/settings", { timeZone: "America/New_York" });
  const lists = (await alice.ok<{ collections: CollectionInfo[] }>("GET", "/api/groupware/collections?kind=tasks")).collections;
  list = lists.find((l) => l.isDefault)!.name;
}, 60_000);

afterAll(async () => {
  await srv?.close();
});

describe("tasks", () => {
  test("create -> CalDAV shows the VTODO (DUE as DATE, PRIORITY, VALARM related to the end); update keeps a client's X- property; delete", async () => {
    const r = await alice.send("POST", `/api/tasks/${list}`, { task: task({ title: "File taxes", due: "2026-04-15", priority: 1, reminders: [60], categories: ["Home"] }) });
    expect(r.status).toBe(201);
    const made = r.json<TaskResponse>();
    expect(made.task.due).toBe("2026-04-15");
    const ics = (await dav("GET", `/dav/calendars/${ALICE.email}/${list}/${made.id}`)).text.replace(/\r\n[ \t]/g, "");
    expect(ics).toContain("DUE;VALUE=DATE:20260415");
    expect(ics).toContain("PRIORITY:1");
    expect(ics).toContain("TRIGGER;RELATED=END:-PT60M");
    const listed = (await tasks()).find((t) => t.id === made.id)!;
    // A date-only due is its midnight in the user's zone (New York, EDT = UTC-4).
    expect(listed.dueAt).toBe(Date.UTC(2026, 3, 15, 4));
    // A CalDAV client adds its own property; the webmail edit keeps it.
    const withX = ics.replace("END:VTODO", "X-APPLE-SORT-ORDER:42\r\nEND:VTODO");
    expect((await dav("PUT", `/dav/calendars/${ALICE.email}/${list}/${made.id}`, withX)).status).toBe(204);
    const cur = await alice.ok<TaskResponse>("GET", `/api/tasks/${list}/${made.id}`);
    const upd = await alice.ok<TaskResponse>("PUT", `/api/tasks/${list}/${made.id}`, { task: { ...cur.task, status: "IN-PROCESS", percent: 40 }, etag: cur.etag });
    expect(upd.task).toMatchObject({ status: "IN-PROCESS", percent: 40, reminders: [60], categories: ["Home"] });
    expect((await dav("GET", `/dav/calendars/${ALICE.email}/${list}/${made.id}`)).text).toContain("X-APPLE-SORT-ORDER:42");
    expect((await alice.send("PUT", `/api/tasks/${list}/${made.id}`, { task: cur.task, etag: cur.etag })).status).toBe(409);
    const done = await alice.ok<TaskResponse>("PUT", `/api/tasks/${list}/${made.id}`, { task: { ...upd.task, status: "COMPLETED" }, etag: upd.etag });
    expect(done.task.completed).not.toBeNull();
    expect(done.task.percent).toBe(100);
    expect((await tasks()).some((t) => t.id === made.id)).toBe(false);
    expect((await tasks("&completed=1")).some((t) => t.id === made.id)).toBe(true);
    expect((await alice.send("DELETE", `/api/tasks/${list}/${made.id}?etag=${encodeURIComponent(done.etag)}`)).status).toBe(200);
    expect((await alice.send("GET", `/api/tasks/${list}/${made.id}`)).status).toBe(404);
  });

  test("a VTODO written over CalDAV is listed, in due order with timed dues in their zone", async () => {
    const body = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VTODO", "UID:dav-todo-1", "DTSTAMP:20260101T000000Z",
      "DUE;TZID=Europe/Paris:20260301T170000", "SUMMARY:From a phone", "END:VTODO", "END:VCALENDAR", ""].join("\r\n");
    expect((await dav("PUT", `/dav/calendars/${ALICE.email}/${list}/dav-todo-1.ics`, body)).status).toBe(201);
    await alice.ok("POST", `/api/tasks/${list}`, { task: task({ title: "Later", due: "2026-12-01" }) });
    await alice.ok("POST", `/api/tasks/${list}`, { task: task({ title: "No date" }) });
    const all = await tasks();
    const t = all.find((x) => x.id === "dav-todo-1.ics")!;
    expect(t).toMatchObject({ title: "From a phone", due: "2026-03-01T17:00", timeZone: "Europe/Paris", dueAt: Date.UTC(2026, 2, 1, 16) });
    const order = all.map((x) => x.title);
    expect(order.indexOf("From a phone")).toBeLessThan(order.indexOf("Later"));
    expect(order.indexOf("Later")).toBeLessThan(order.indexOf("No date"));
  });

  test("completing a recurring task stores the done occurrence (RELATED-TO the series) and moves the series to the next one", async () => {
    const made = await alice.ok<TaskResponse>("POST", `/api/tasks/${list}`, {
      task: task({ title: "Water plants", due: "2026-03-02", recurrence: { freq: "WEEKLY", interval: 1, byDay: [], byMonthDay: [], byMonth: [], bySetPos: [], count: 3, until: null, complex: false } }),
    });
    const first = await alice.ok<TaskResponse>("PUT", `/api/tasks/${list}/${made.id}`, { task: { ...made.task, status: "COMPLETED" }, etag: made.etag });
    expect(first.id).toBe(made.id);
    expect(first.task).toMatchObject({ due: "2026-03-09", status: "NEEDS-ACTION", completed: null });
    expect(first.task.recurrence).toMatchObject({ freq: "WEEKLY", count: 2 });
    const done = (await tasks("&completed=1")).filter((t) => t.title === "Water plants" && t.status === "COMPLETED");
    expect(done.map((t) => t.due)).toEqual(["2026-03-02"]);
    expect(done[0]!.recurrence).toBeNull();
    const doneIcs = (await dav("GET", `/dav/calendars/${ALICE.email}/${list}/${done[0]!.id}`)).text;
    expect(doneIcs).toContain(`RELATED-TO:${made.task.uid}`);
    expect(done[0]!.uid).not.toBe(made.task.uid);
    const second = await alice.ok<TaskResponse>("PUT", `/api/tasks/${list}/${made.id}`, { task: { ...first.task, status: "COMPLETED" }, etag: first.etag });
    expect(second.task.due).toBe("2026-03-16");
    // The last occurrence: the task itself is completed.
    const last = await alice.ok<TaskResponse>("PUT", `/api/tasks/${list}/${made.id}`, { task: { ...second.task, status: "COMPLETED" }, etag: second.etag });
    expect(last.task.status).toBe("COMPLETED");
    expect((await tasks("&completed=1")).filter((t) => t.title === "Water plants").length).toBe(3);
  });

  test("malformed input is a 400; another user's list is a 404", async () => {
    const bad: unknown[] = [
      { task: task({ due: "2026-13-01" }) },
      { task: task({ due: "tomorrow" }) },
      { task: task({ priority: 12 }) },
      { task: task({ status: "DONE" as TaskData["status"] }) },
      { task: task({ percent: 101 }) },
      { task: task({ due: "2026-03-01T10:00", timeZone: "Nowhere/Land" }) },
      { task: task({ start: "2026-03-05", due: "2026-03-01" }) },
      { task: task({ recurrence: { freq: "WEEKLY", interval: 1, byDay: [], byMonthDay: [], byMonth: [], bySetPos: [], count: 2, until: null, complex: false } }) },
      { task: task({ title: "x".repeat(2000) }) },
      { task: null },
    ];
    for (const b of bad) expect((await alice.send("POST", `/api/tasks/${list}`, b)).status).toBe(400);
    const res = await request("POST", `${srv.base}/api/tasks/${list}`, { headers: { cookie: alice.cookie, origin: srv.base, "x-csrf-token": alice.csrf, "content-type": "application/json" }, body: "{" });
    expect(res.status).toBe(400);
    const mine = await alice.ok<TaskResponse>("POST", `/api/tasks/${list}`, { task: task({ title: "Mine" }) });
    expect((await bob.send("GET", `/api/tasks/${list}/${mine.id}`)).status).toBe(404);
    expect((await bob.send("DELETE", `/api/tasks/${list}/${mine.id}`)).status).toBe(404);
    const made = await alice.ok<CollectionInfo>("POST", "/api/groupware/collections", { kind: "tasks", displayName: "Errands" });
    expect((await bob.send("GET", `/api/tasks?list=${made.name}`)).status).toBe(404);
    expect((await alice.send("POST", `/api/tasks/Calendar`, { task: task({}) })).status).toBe(404);
    void ICAL;
  });
});
