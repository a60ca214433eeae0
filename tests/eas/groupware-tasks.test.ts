/**
 * Tasks over ActiveSync (MS-ASTASK): the codec both ways (merge onto the
 * stored VTODO, malformed corpus), and end to end over HTTPS with every
 * request and response checked against libwbxml2-utils, for 14.1 and 16.1:
 * a VTODO PUT over CalDAV reaches the device with its fields; a task added
 * and completed on the device reads back over CalDAV with those fields and
 * with an X- property the device never saw; FilterType 8 hides completed
 * tasks; malformed task data gets Status 6 and nothing is stored.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { appData, commandsOf, el, kid, kids, kidText, text, type EasClient } from "./client.ts";
import { createUser, startEas, type EasEnv } from "./helpers.ts";
import { libwbxmlAvailable } from "./libwbxml.ts";
import { curl, type DavServer } from "../dav/core-helpers.ts";
import type { Account, Item } from "../../storage/api.ts";
import { taskCodec } from "../../protocols/http/eas/groupware/task.ts";
import { EasDataError, type CodecContext } from "../../protocols/http/eas/groupware/codec.ts";
import type { WElement } from "../../protocols/http/eas/wbxml/tree.ts";
import type { Logger } from "../../src/log.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const T0 = Date.UTC(2026, 2, 10, 9, 30, 0);
const silent = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger; // the codec only logs through it
function cx(version = 161): CodecContext {
  return { version, account: { id: 1, email: "t@example.test" } as Account, body: { prefs: [{ type: 1 }], mimeSupport: 0 }, now: T0, log: silent };
}
const fakeItem = {} as Item;

function vtodo(o: { uid?: string; lines?: string[] } = {}): string {
  return ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Other//Client//EN", "BEGIN:VTODO", `UID:${o.uid ?? "task-1"}`, "DTSTAMP:20260301T100000Z", ...(o.lines ?? []), "END:VTODO", "END:VCALENDAR", ""].join("\r\n");
}

const FULL = [
  "SUMMARY:Pay rent",
  "DESCRIPTION:line one\\nline two",
  "PRIORITY:1",
  "CLASS:CONFIDENTIAL",
  "CATEGORIES:Home,Money",
  "DTSTART;TZID=Europe/Berlin:20260310T090000",
  "DUE;TZID=Europe/Berlin:20260312T170000",
  "RRULE:FREQ=MONTHLY;BYDAY=2TU",
  "X-OTHER-CLIENT;X-P=1:keep me",
  "BEGIN:VALARM",
  "ACTION:DISPLAY",
  "DESCRIPTION:soon",
  "TRIGGER;RELATED=START:-PT15M",
  "END:VALARM",
];

function taskData(f: Record<string, string | number | WElement | string[] | undefined>): WElement {
  const kidsOut: WElement[] = [];
  for (const [k, v] of Object.entries(f)) {
    if (v === undefined) continue;
    if (k === "Body") kidsOut.push(el("AirSyncBase:Body", el("AirSyncBase:Type", 1), el("AirSyncBase:Data", String(v))));
    else if (k === "Categories") kidsOut.push(el("Tasks:Categories", ...(v as string[]).map((c) => el("Tasks:Category", c))));
    else if (typeof v === "object" && !Array.isArray(v)) kidsOut.push(v);
    else kidsOut.push(el(`Tasks:${k}`, String(v)));
  }
  return el("AirSync:ApplicationData", ...kidsOut);
}

const get = (els: WElement[], name: string) => els.find((e) => e.name === name);

describe("task codec", () => {
  test("a VTODO becomes the MS-ASTASK fields: times as UTC and wall clock, importance, sensitivity, categories, recurrence, reminder", () => {
    const out = taskCodec.toEas(enc.encode(vtodo({ lines: FULL })), fakeItem, cx());
    expect(out.map((e) => e.name)).toEqual(["Body", "Subject", "Importance", "UtcStartDate", "StartDate", "UtcDueDate", "DueDate", "Categories", "Recurrence", "Complete", "Sensitivity", "ReminderTime", "ReminderSet"]);
    expect(kidText(get(out, "Body"), "AirSyncBase:Data")).toBe("line one\nline two");
    expect(text(get(out, "Subject"))).toBe("Pay rent");
    expect(text(get(out, "Importance"))).toBe("2");
    expect(text(get(out, "UtcStartDate"))).toBe("2026-03-10T08:00:00.000Z");
    expect(text(get(out, "StartDate"))).toBe("2026-03-10T09:00:00.000Z");
    expect(text(get(out, "UtcDueDate"))).toBe("2026-03-12T16:00:00.000Z");
    expect(text(get(out, "DueDate"))).toBe("2026-03-12T17:00:00.000Z");
    expect(kids(get(out, "Categories"), "Tasks:Category").map(text)).toEqual(["Home", "Money"]);
    const rec = get(out, "Recurrence")!;
    expect([kidText(rec, "Tasks:Type"), kidText(rec, "Tasks:WeekOfMonth"), kidText(rec, "Tasks:DayOfWeek"), kidText(rec, "Tasks:Start")]).toEqual(["3", "2", "4", "2026-03-10T08:00:00.000Z"]);
    expect(text(get(out, "Complete"))).toBe("0");
    expect(text(get(out, "Sensitivity"))).toBe("3");
    expect(text(get(out, "ReminderTime"))).toBe("2026-03-10T07:45:00.000Z");
    expect(text(get(out, "ReminderSet"))).toBe("1");
    // PRIORITY 5 / none is normal, 6-9 low; a completed task carries DateCompleted
    const done = taskCodec.toEas(enc.encode(vtodo({ lines: ["SUMMARY:x", "PRIORITY:7", "STATUS:COMPLETED", "COMPLETED:20260309T120000Z"] })), fakeItem, cx());
    expect(text(get(done, "Importance"))).toBe("0");
    expect(text(get(done, "Complete"))).toBe("1");
    expect(text(get(done, "DateCompleted"))).toBe("2026-03-09T12:00:00.000Z");
    expect(text(get(taskCodec.toEas(enc.encode(vtodo({ lines: ["SUMMARY:x"] })), fakeItem, cx()), "Importance"))).toBe("1");
  });

  test("the device sending back what it got changes nothing but the stamps; the TZID forms, relative alarm and X- property stay", () => {
    const body = enc.encode(vtodo({ lines: FULL }));
    const data = el("AirSync:ApplicationData", ...taskCodec.toEas(body, fakeItem, cx()));
    const back = dec.decode(taskCodec.fromEas(data, body, cx()));
    const strip = (s: string) => s.split("\r\n").filter((l) => !/^(DTSTAMP|LAST-MODIFIED):/.test(l)).sort();
    expect(strip(back)).toEqual(strip(vtodo({ lines: FULL })));
  });

  test("a device edit merges: new dates, completion, importance, reminder; X- kept; a date-only due becomes a DATE", () => {
    const body = enc.encode(vtodo({ lines: FULL }));
    const s = dec.decode(
      taskCodec.fromEas(
        taskData({ Subject: "Pay rent (late)", Importance: 0, UtcDueDate: "2026-03-14T23:00:00.000Z", DueDate: "2026-03-15T00:00:00.000Z", Complete: 1, DateCompleted: "2026-03-10T09:00:00.000Z", Sensitivity: 0, ReminderSet: 1, ReminderTime: "2026-03-14T08:00:00.000Z", Categories: ["Money"] }),
        body,
        cx(),
      ),
    );
    expect(s).toContain("SUMMARY:Pay rent (late)");
    expect(s).toContain("PRIORITY:9");
    expect(s).toContain("CLASS:PUBLIC");
    expect(s).toContain("CATEGORIES:Money\r\n");
    expect(s).toContain("STATUS:COMPLETED");
    expect(s).toContain("PERCENT-COMPLETE:100");
    expect(s).toContain("COMPLETED:20260310T090000Z");
    expect(s).toContain("DUE;VALUE=DATE:20260315"); // the device's local midnight: a date-only due
    expect(s).not.toContain("DTSTART"); // a Change carries the whole task: no start = none
    expect(s).toContain("TRIGGER;VALUE=DATE-TIME:20260314T080000Z");
    expect(s).not.toContain("-PT15M");
    expect(s).not.toContain("RRULE"); // the device saw the rule and dropped it
    expect(s).toContain("X-OTHER-CLIENT;X-P=1:keep me");
    expect(s).toContain("DESCRIPTION:line one\\nline two"); // no Body sent: kept
    const dateOnly = dec.decode(taskCodec.fromEas(taskData({ Subject: "d", UtcDueDate: "2026-03-14T23:00:00.000Z", DueDate: "2026-03-15T00:00:00.000Z" }), null, cx()));
    expect(dateOnly).toContain("DUE;VALUE=DATE:20260315");
    // a timed due next to a kept timed start: a UTC date-time
    const timed = dec.decode(taskCodec.fromEas(taskData({ Subject: "t", UtcStartDate: "2026-03-10T08:00:00.000Z", StartDate: "2026-03-10T09:00:00.000Z", UtcDueDate: "2026-03-14T15:00:00.000Z", DueDate: "2026-03-14T16:00:00.000Z" }), body, cx()));
    expect(timed).toContain("DTSTART;TZID=Europe/Berlin:20260310T090000");
    expect(timed).toContain("DUE:20260314T150000Z");
    // uncompleting
    const open = dec.decode(taskCodec.fromEas(taskData({ Subject: "x", Complete: 0 }), enc.encode(vtodo({ lines: ["SUMMARY:x", "STATUS:COMPLETED", "COMPLETED:20260309T120000Z", "PERCENT-COMPLETE:100"] })), cx()));
    expect(open).toContain("STATUS:NEEDS-ACTION");
    expect(open).not.toContain("COMPLETED:");
    expect(open).not.toContain("PERCENT-COMPLETE");
    // a rule EAS cannot express was never on the device: its absence keeps it
    const hourly = dec.decode(taskCodec.fromEas(taskData({ Subject: "x", UtcStartDate: "2026-03-10T08:00:00.000Z", StartDate: "2026-03-10T09:00:00.000Z" }), enc.encode(vtodo({ lines: ["SUMMARY:x", "DTSTART:20260310T080000Z", "RRULE:FREQ=HOURLY;INTERVAL=4"] })), cx()));
    expect(hourly).toContain("RRULE:FREQ=HOURLY;INTERVAL=4");
  });

  test("an Add gets a new UID, CREATED and the device's recurrence with Regenerate kept", () => {
    const s = dec.decode(
      taskCodec.fromEas(
        taskData({
          Subject: "Water plants",
          UtcStartDate: "2026-03-10T00:00:00.000Z",
          StartDate: "2026-03-10T00:00:00.000Z",
          Recurrence: el("Tasks:Recurrence", el("Tasks:Type", 1), el("Tasks:Start", "2026-03-10T00:00:00.000Z"), el("Tasks:Occurrences", 10), el("Tasks:Interval", 1), el("Tasks:DayOfWeek", 4), el("Tasks:Regenerate", 1), el("Tasks:DeadOccur", 0)),
          Complete: 0,
        }),
        null,
        cx(),
      ),
    );
    expect(s).toMatch(/\r\nUID:[0-9a-f-]{36}\r\n/);
    expect(s).toContain("CREATED:20260310T093000Z");
    expect(s).toContain("DTSTART;VALUE=DATE:20260310");
    expect(s).toContain("RRULE:FREQ=WEEKLY;COUNT=10;BYDAY=TU");
    expect(s).toContain("X-PILLARBOX-EAS-REGENERATE:1");
    const out = taskCodec.toEas(enc.encode(s), fakeItem, cx());
    const rec = get(out, "Recurrence")!;
    expect(kidText(rec, "Tasks:Regenerate")).toBe("1");
    expect(kidText(rec, "Tasks:Occurrences")).toBe("10");
  });

  test("ghosted elements (AirSync:Supported without them) left out of a Change keep the stored values; managed ones are removed", () => {
    const body = enc.encode(vtodo({ lines: FULL }));
    const ghosting: CodecContext = { ...cx(), supported: new Set(["Tasks:Subject", "Tasks:Complete", "Tasks:Importance"]) };
    const kept = dec.decode(taskCodec.fromEas(taskData({ Subject: "renamed", Complete: 0 }), body, ghosting));
    expect(kept).toContain("SUMMARY:renamed");
    for (const l of ["DTSTART;TZID=Europe/Berlin:20260310T090000", "DUE;TZID=Europe/Berlin:20260312T170000", "RRULE:FREQ=MONTHLY;BYDAY=2TU", "CATEGORIES:Home,Money", "TRIGGER;RELATED=START:-PT15M"]) expect(kept).toContain(l);
    // the same Change from a device managing everything (no Supported) removes them
    const removed = dec.decode(taskCodec.fromEas(taskData({ Subject: "renamed", Complete: 0 }), body, cx()));
    for (const p of ["DTSTART", "DUE", "RRULE", "CATEGORIES", "VALARM"]) expect(removed).not.toContain(p);
    expect(removed).toContain("X-OTHER-CLIENT;X-P=1:keep me");
    // a ghosted start kept next to a new date-only due: both date-times, of one type
    const mixed = dec.decode(taskCodec.fromEas(taskData({ Subject: "m", UtcDueDate: "2026-03-20T00:00:00.000Z", DueDate: "2026-03-20T00:00:00.000Z" }), enc.encode(vtodo({ lines: ["SUMMARY:m", "DTSTART:20260310T080000Z"] })), { ...cx(), supported: new Set(["Tasks:DueDate", "Tasks:UtcDueDate"]) }));
    expect(mixed).toContain("DTSTART:20260310T080000Z");
    expect(mixed).toContain("DUE:20260320T000000Z");
  });

  test("16.x OrdinalDate / SubOrdinalDate are kept and given back to 16.x devices only", () => {
    const s = taskCodec.fromEas(taskData({ Subject: "o", OrdinalDate: "2026-03-01T10:00:00.000Z", SubOrdinalDate: "5555555" }), null, cx());
    expect(dec.decode(s)).toContain("X-PILLARBOX-EAS-SUBORDINALDATE:5555555");
    const out16 = taskCodec.toEas(s, fakeItem, cx(161));
    expect(text(get(out16, "OrdinalDate"))).toBe("2026-03-01T10:00:00.000Z");
    expect(text(get(out16, "SubOrdinalDate"))).toBe("5555555");
    const out14 = taskCodec.toEas(s, fakeItem, cx(141));
    expect(get(out14, "OrdinalDate")).toBeUndefined();
    // a later edit without them keeps them
    expect(dec.decode(taskCodec.fromEas(taskData({ Subject: "p" }), s, cx()))).toContain("X-PILLARBOX-EAS-SUBORDINALDATE:5555555");
  });

  test("the malformed-task corpus is an EasDataError with Status 6", () => {
    const corpus: [string, WElement, string | null][] = [
      ["month 13", taskData({ Subject: "x", UtcDueDate: "2026-13-01T00:00:00.000Z" }), null],
      ["February 30", taskData({ Subject: "x", DueDate: "20260230T000000Z" }), null],
      ["impossible compact date", taskData({ Subject: "x", UtcStartDate: "20261345T250000Z" }), null],
      ["not a date", taskData({ Subject: "x", UtcDueDate: "tomorrow" }), null],
      ["bad reminder time", taskData({ Subject: "x", ReminderSet: 1, ReminderTime: "2026-02-31T00:00:00.000Z" }), null],
      ["bad completion date", taskData({ Subject: "x", Complete: 1, DateCompleted: "2026-04-31T00:00:00.000Z" }), null],
      ["start after due", taskData({ Subject: "x", UtcStartDate: "2026-03-12T00:00:00.000Z", UtcDueDate: "2026-03-10T00:00:00.000Z" }), null],
      ["Complete 2", taskData({ Subject: "x", Complete: 2 }), null],
      ["Importance 3", taskData({ Subject: "x", Importance: 3 }), null],
      ["Sensitivity 9", taskData({ Subject: "x", Sensitivity: 9 }), null],
      ["absurd Occurrences", taskData({ Subject: "x", UtcStartDate: "2026-03-10T00:00:00.000Z", Recurrence: el("Tasks:Recurrence", el("Tasks:Type", 0), el("Tasks:Occurrences", "100000000")) }), null],
      ["Interval 0", taskData({ Subject: "x", UtcStartDate: "2026-03-10T00:00:00.000Z", Recurrence: el("Tasks:Recurrence", el("Tasks:Type", 0), el("Tasks:Interval", 0)) }), null],
      ["weekly on no day", taskData({ Subject: "x", UtcStartDate: "2026-03-10T00:00:00.000Z", Recurrence: el("Tasks:Recurrence", el("Tasks:Type", 1), el("Tasks:DayOfWeek", 0)) }), null],
      ["recurrence without any date", taskData({ Subject: "x", Recurrence: el("Tasks:Recurrence", el("Tasks:Type", 0)) }), null],
      ["Regenerate 5", taskData({ Subject: "x", UtcStartDate: "2026-03-10T00:00:00.000Z", Recurrence: el("Tasks:Recurrence", el("Tasks:Type", 0), el("Tasks:Regenerate", 5)) }), null],
      ["bad OrdinalDate", taskData({ Subject: "x", OrdinalDate: "2026-02-30T00:00:00.000Z" }), null],
      ["huge SubOrdinalDate", taskData({ Subject: "x", SubOrdinalDate: "5".repeat(300) }), null],
      ["301 categories", taskData({ Subject: "x", Categories: Array.from({ length: 301 }, (_, i) => `c${i}`) }), null],
      ["huge subject", taskData({ Subject: "s".repeat(40_000) }), null],
      ["huge body", taskData({ Subject: "x", Body: "b".repeat(600 * 1024) }), null],
      ["stored body without VTODO", taskData({ Subject: "x" }), "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VJOURNAL\r\nUID:j\r\nEND:VJOURNAL\r\nEND:VCALENDAR\r\n"],
      ["stored body unreadable", taskData({ Subject: "x" }), "BEGIN:VCALENDAR\r\nbroken"],
    ];
    for (const [what, data, existing] of corpus) {
      let err: unknown;
      try {
        taskCodec.fromEas(data, existing === null ? null : enc.encode(existing), cx());
      } catch (e) {
        err = e;
      }
      expect([what, err instanceof EasDataError]).toEqual([what, true]);
      expect((err as EasDataError).status).toBe(6);
    }
  });
});

describe("tasks over ActiveSync and CalDAV", () => {
  let env: EasEnv;
  let dav: DavServer;
  let n = 0;
  const USER = "tessa@example.test";
  const PASS = "tessa-secret-1";
  const TASKS = `/dav/calendars/${USER}/Tasks/`;

  beforeAll(async () => {
    if (process.env.CI === "true" && !libwbxmlAvailable()) throw new Error("libwbxml2-utils (xml2wbxml) is required in CI");
    env = await startEas();
    await createUser(env.srv.store, USER, PASS, { displayName: "Tessa Task" });
    dav = { srv: env.srv, base: `https://127.0.0.1:${env.port}`, close: async () => {} };
  });
  afterAll(async () => {
    const w = env.libwbxml();
    expect(w.mismatches).toEqual([]);
    if (libwbxmlAvailable()) expect(w.responses).toBeGreaterThan(20);
    await env.close();
  });

  async function device(version: string): Promise<EasClient> {
    const c = env.client({ user: USER, pass: PASS, deviceId: `TASKS${++n}`, version });
    await c.provision();
    expect(kidText((await c.folderSync()).doc!, "FolderHierarchy:Status")).toBe("1");
    return c;
  }
  const options = (filter = 0) => [el("AirSync:Class", "Tasks"), el("AirSync:FilterType", filter), el("AirSyncBase:BodyPreference", el("AirSyncBase:Type", "1"), el("AirSyncBase:TruncationSize", "20000"))];
  const put = (name: string, body: string, headers: Record<string, string> = {}) => curl(dav, "PUT", TASKS + name, { user: USER, pass: PASS, body, headers: { "content-type": "text/calendar; charset=utf-8", ...headers } });
  const getDav = (name: string) => curl(dav, "GET", TASKS + encodeURIComponent(name), { user: USER, pass: PASS });

  /** The DAV resource name of the task a device ServerId names. */
  async function resourceOf(serverId: string): Promise<string> {
    const item = await env.srv.store.getItem(Number(serverId.split(":")[1]));
    return item!.resourceName!;
  }

  for (const version of ["14.1", "16.1"]) {
    test(`${version}: CalDAV VTODO -> device; device Add + Complete -> CalDAV with an X- property kept; FilterType 8`, async () => {
      const v = version.replace(".", "");
      const c = await device(version);
      const f = c.folders.find((x) => x.type === 7);
      expect(f).toBeTruthy();
      const coll = f!.serverId;

      // a task from a CalDAV client
      expect((await put(`dav-${v}.ics`, vtodo({ uid: `dav-${v}`, lines: FULL }))).status).toBe(201);
      expect((await c.sync(coll)).status).toBe("1");
      const first = await c.sync(coll, { options: options() });
      expect(first.status).toBe("1");
      const adds = commandsOf(first.coll).adds;
      const fromDav = adds.find((a) => kidText(appData(a), "Tasks:Subject") === "Pay rent")!;
      expect(fromDav).toBeTruthy();
      const d = appData(fromDav)!;
      expect(kidText(d, "Tasks:Importance")).toBe("2");
      expect(kidText(d, "Tasks:UtcDueDate")).toBe("2026-03-12T16:00:00.000Z");
      expect(kidText(d, "Tasks:DueDate")).toBe("2026-03-12T17:00:00.000Z");
      expect(kidText(d, "Tasks:Sensitivity")).toBe("3");
      expect(kidText(d, "Tasks:ReminderSet")).toBe("1");
      expect(kidText(d, "Tasks:ReminderTime")).toBe("2026-03-10T07:45:00.000Z");
      expect(kids(kid(d, "Tasks:Categories"), "Tasks:Category").map(text)).toEqual(["Home", "Money"]);
      expect(kidText(kid(d, "Tasks:Recurrence"), "Tasks:Type")).toBe("3");
      expect(kidText(kid(d, "AirSyncBase:Body"), "AirSyncBase:Data")).toBe("line one\nline two");

      // a task added on the device
      const add = await c.sync(coll, {
        options: options(),
        commands: [
          el(
            "AirSync:Add",
            el("AirSync:ClientId", `c-${v}`),
            taskData({ Body: "from the phone", Subject: `Phone task ${version}`, Importance: 2, UtcDueDate: "2026-03-20T16:00:00.000Z", DueDate: "2026-03-20T17:00:00.000Z", Categories: ["Errands"], Complete: 0, Sensitivity: 0, ReminderSet: 1, ReminderTime: "2026-03-20T08:00:00.000Z" }),
          ),
        ],
      });
      const resp = kid(kid(add.coll, "AirSync:Responses"), "AirSync:Add");
      expect(kidText(resp, "AirSync:Status")).toBe("1");
      const sid = kidText(resp, "AirSync:ServerId")!;
      const res = await resourceOf(sid);
      const g = await getDav(res);
      expect(g.status).toBe(200);
      expect(g.body).toContain("BEGIN:VTODO");
      expect(g.body).toContain(`SUMMARY:Phone task ${version}`);
      expect(g.body).toContain("PRIORITY:1");
      expect(g.body).toContain("DUE:20260320T160000Z");
      expect(g.body).toContain("CATEGORIES:Errands");
      expect(g.body).toContain("DESCRIPTION:from the phone");
      expect(g.body).toContain("TRIGGER;VALUE=DATE-TIME:20260320T080000Z");

      // another CalDAV client adds a property the device never sees
      const withX = g.body.replace("END:VTODO", "X-OTHER-CLIENT-COLOR:teal\r\nEND:VTODO");
      expect((await put(res, withX, { "if-match": g.headers.etag! })).status).toBe(204);
      const seen = commandsOf((await c.sync(coll, { options: options() })).coll).changes;
      expect(seen.map((x) => kidText(x, "AirSync:ServerId"))).toEqual([sid]);

      // the device completes it
      const done = await c.sync(coll, {
        options: options(),
        commands: [
          el(
            "AirSync:Change",
            el("AirSync:ServerId", sid),
            taskData({ Subject: `Phone task ${version}`, Importance: 2, UtcDueDate: "2026-03-20T16:00:00.000Z", DueDate: "2026-03-20T17:00:00.000Z", Categories: ["Errands"], Complete: 1, DateCompleted: "2026-03-19T10:00:00.000Z", Sensitivity: 0, ReminderSet: 0 }),
          ),
        ],
      });
      expect(done.status).toBe("1");
      expect(kid(done.coll, "AirSync:Responses")).toBeUndefined();
      const after = (await getDav(res)).body;
      expect(after).toContain("STATUS:COMPLETED");
      expect(after).toContain("COMPLETED:20260319T100000Z");
      expect(after).toContain("PERCENT-COMPLETE:100");
      expect(after).toContain("X-OTHER-CLIENT-COLOR:teal");
      expect(after).toContain("DESCRIPTION:from the phone");
      expect(after).not.toContain("VALARM");
      expect(commandsOf((await c.sync(coll, { options: options() })).coll).changes).toEqual([]);

      // FilterType 8: a new device sees only the open tasks
      const c8 = await device(version);
      const coll8 = c8.folderByType(7);
      await c8.sync(coll8);
      const open = commandsOf((await c8.sync(coll8, { options: options(8) })).coll).adds.map((a) => kidText(appData(a), "Tasks:Subject"));
      expect(open).toContain("Pay rent");
      expect(open).not.toContain(`Phone task ${version}`);
      // and the first device, switching to FilterType 8, has the completed task taken away
      const switched = commandsOf((await c.sync(coll, { options: options(8) })).coll);
      const softIds = switched.softDeletes.map((x) => kidText(x, "AirSync:ServerId"));
      expect(softIds).toContain(sid);
      expect(softIds).not.toContain(kidText(fromDav, "AirSync:ServerId"));
      expect(switched.deletes).toEqual([]);
    });
  }

  test("malformed tasks from the device get Status 6 and nothing is stored; a bad Change leaves the task as it was", async () => {
    const c = await device("16.1");
    const coll = c.folderByType(7);
    await c.sync(coll);
    await c.sync(coll, { options: options() });
    const before = await countTasks();
    const bad = [
      taskData({ Subject: "bad date", UtcDueDate: "2026-13-45T00:00:00.000Z", Complete: 0 }),
      taskData({ Subject: "bad compact date", DueDate: "20261345T250000Z", Complete: 0 }),
      taskData({ Subject: "absurd recurrence", UtcStartDate: "2026-03-10T00:00:00.000Z", Complete: 0, Recurrence: el("Tasks:Recurrence", el("Tasks:Type", 0), el("Tasks:Occurrences", "999999999")) }),
      taskData({ Subject: "unknown type", UtcStartDate: "2026-03-10T00:00:00.000Z", Complete: 0, Recurrence: el("Tasks:Recurrence", el("Tasks:Type", 9)) }),
    ];
    const r = await c.sync(coll, {
      options: options(),
      commands: [...bad.map((d, i) => el("AirSync:Add", el("AirSync:ClientId", `bad${i}`), d)), el("AirSync:Add", el("AirSync:ClientId", "good"), taskData({ Subject: "fine", Complete: 0 }))],
    });
    expect(r.r.status).toBe(200);
    expect(r.status).toBe("1");
    const res = kids(kid(r.coll, "AirSync:Responses"), "AirSync:Add").map((a) => [kidText(a, "AirSync:ClientId"), kidText(a, "AirSync:Status")]);
    expect(res).toEqual([["bad0", "6"], ["bad1", "6"], ["bad2", "6"], ["bad3", "6"], ["good", "1"]]);
    expect(await countTasks()).toBe(before + 1);
    const sid = kidText(kids(kid(r.coll, "AirSync:Responses"), "AirSync:Add")[4], "AirSync:ServerId")!;
    const id = Number(sid.split(":")[1]);
    const stored = await env.srv.store.readItemBody(id);
    const ch = await c.sync(coll, { options: options(), commands: [el("AirSync:Change", el("AirSync:ServerId", sid), taskData({ Subject: "x", UtcDueDate: "2026-02-30T10:00:00.000Z", Complete: 0 }))] });
    expect(kidText(kid(kid(ch.coll, "AirSync:Responses"), "AirSync:Change"), "AirSync:Status")).toBe("6");
    expect(Buffer.from(await env.srv.store.readItemBody(id)).equals(Buffer.from(stored))).toBe(true);
    // FilterType 3 is not for tasks (MS-ASCMD FilterType): refused, not a 500
    const ft = await c.sync(coll, { options: [el("AirSync:Class", "Tasks"), el("AirSync:FilterType", "3")] });
    expect(ft.r.status).toBe(200);
    expect(ft.status).toBe("4");
  });

  test("16.1: a device declaring Supported at SyncKey 0 keeps the dates, categories and reminder it ghosts when it changes the subject", async () => {
    const c = await device("16.1");
    const coll = c.folderByType(7);
    expect((await put("ghost.ics", vtodo({ uid: "ghost-1", lines: FULL }))).status).toBe(201);
    // SyncKey 0 with AirSync:Supported (MS-ASCMD §2.2.3.179): the device manages only these
    const first = el(
      "AirSync:Sync",
      el("AirSync:Collections", el("AirSync:Collection", el("AirSync:SyncKey", "0"), el("AirSync:CollectionId", coll), el("AirSync:Supported", el("Tasks:Subject"), el("Tasks:Complete"), el("Tasks:Importance")))),
    );
    const r0 = await c.send("Sync", first);
    const col0 = kid(kid(r0.doc!, "AirSync:Collections"), "AirSync:Collection");
    expect(kidText(col0, "AirSync:Status")).toBe("1");
    c.syncKeys.set(coll, kidText(col0, "AirSync:SyncKey")!);
    const adds = commandsOf((await c.sync(coll, { options: options() })).coll).adds;
    const ghost = adds.find((a) => kidText(appData(a), "Tasks:Subject") === "Pay rent")!;
    const sid = kidText(ghost, "AirSync:ServerId")!;
    const ch = await c.sync(coll, { options: options(), commands: [el("AirSync:Change", el("AirSync:ServerId", sid), taskData({ Subject: "Pay rent (ghosted)", Importance: 2, Complete: 0 }))] });
    expect(ch.status).toBe("1");
    const body = (await getDav(await resourceOf(sid))).body;
    expect(body).toContain("SUMMARY:Pay rent (ghosted)");
    for (const l of ["DTSTART;TZID=Europe/Berlin:20260310T090000", "DUE;TZID=Europe/Berlin:20260312T170000", "RRULE:FREQ=MONTHLY;BYDAY=2TU", "CATEGORIES:Home,Money", "TRIGGER;RELATED=START:-PT15M", "X-OTHER-CLIENT;X-P=1:keep me"]) expect(body).toContain(l);
  });

  async function countTasks(): Promise<number> {
    const r = await curl(dav, "PROPFIND", TASKS, { user: USER, pass: PASS, headers: { depth: "1", "content-type": "application/xml" }, body: '<?xml version="1.0"?><propfind xmlns="DAV:"><prop><getetag/></prop></propfind>' });
    return (r.body.match(/\.ics<\/(?:\w+:)?href>/g) ?? []).length;
  }
});
