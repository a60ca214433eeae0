/**
 * Malformed calendar data from a device over HTTPS (14.1 and 16.1, checked
 * against libwbxml): every case gets Sync Status 6 for its command (never
 * an HTTP 500, a crash or a hang), nothing is stored for an Add, and a
 * refused Change leaves the CalDAV object byte for byte as it was.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { el } from "./client.ts";
import { createUser, startEas, type EasEnv } from "./helpers.ts";
import { libwbxmlAvailable } from "./libwbxml.ts";
import { calendarDevice, calOptions, davOf, pull, responsesOf, weeklyMeeting, type Dav } from "./groupware-calendar-helpers.ts";
import type { WElement } from "../../protocols/http/eas/wbxml/tree.ts";

let env: EasEnv;
let dav: Dav;
const PASS = "calendar-secret-2";

beforeAll(async () => {
  if (process.env.CI === "true" && !libwbxmlAvailable()) throw new Error("libwbxml2-utils (xml2wbxml) is required in CI");
  env = await startEas();
  dav = davOf(env);
});
afterAll(async () => {
  expect(env.libwbxml().mismatches).toEqual([]);
  await env.close();
});

const C = (name: string, ...v: (string | number | WElement | WElement[] | null)[]) => el(`Calendar:${name}`, ...v);
const ok = [C("StartTime", "20270110T080000Z"), C("EndTime", "20270110T090000Z"), C("Subject", "bad one")];
const rec = (...c: WElement[]) => C("Recurrence", ...c);

/** The corpus: each entry is the ApplicationData children of one device command. */
const corpus: [string, (WElement | null)[]][] = [
  ["invalid date 20261345T000000Z", [C("StartTime", "20261345T000000Z"), C("EndTime", "20261346T000000Z"), C("Subject", "bad one")]],
  ["end before start", [C("StartTime", "20270110T090000Z"), C("EndTime", "20270110T080000Z"), C("Subject", "bad one")]],
  ["time zone blob not base64", [C("Timezone", "%%%"), ...ok]],
  ["time zone blob of 100 bytes", [C("Timezone", Buffer.alloc(100).toString("base64")), ...ok]],
  ["time zone blob with month 13", [C("Timezone", (() => { const b = Buffer.alloc(172); b.writeUInt16LE(13, 70); b.writeUInt16LE(1, 74); return b.toString("base64"); })()), ...ok]],
  ["recurrence with Occurrences 100000", [...ok, rec(C("Type", 0), C("Interval", 1), C("Occurrences", 100000))]],
  ["recurrence Interval 0", [...ok, rec(C("Type", 1), C("Interval", 0), C("DayOfWeek", 2))]],
  ["recurrence Type 9", [...ok, rec(C("Type", 9))]],
  ["5,000 attendees", [...ok, C("Attendees", Array.from({ length: 5000 }, (_, i) => C("Attendee", C("Email", `p${i}@example.net`), C("Name", `P${i}`))))]],
  ["10,000 exceptions", [...ok, rec(C("Type", 0), C("Interval", 1)), C("Exceptions", Array.from({ length: 10_000 }, (_, i) => C("Exception", C("ExceptionStartTime", `2027${String((i % 12) + 1).padStart(2, "0")}10T080000Z`), C("Deleted", 1))))]],
  ["BusyStatus 77", [...ok, C("BusyStatus", 77)]],
  ["attendee address garbage", [...ok, C("Attendees", C("Attendee", C("Email", "<<>>"), C("Name", "x")))]],
];

for (const version of ["14.1", "16.1"]) {
  describe(`malformed calendar data, ${version}`, () => {
    const user = `calbad${version.replace(".", "")}@example.test`;
    test("each corpus entry as an Add gets Status 6 and nothing is stored; as a Change, Status 6 and the CalDAV object is unchanged", async () => {
      await createUser(env.srv.store, user, PASS);
      expect((await dav.put(user, PASS, "keep.ics", weeklyMeeting("keep@x", user, [{ email: "a@example.net", name: "A", partstat: "ACCEPTED" }]))).status).toBe(201);
      const { c, cal } = await calendarDevice(env, user, PASS, `BAD${version.replace(".", "")}`, version);
      const { adds } = await pull(c, cal);
      const [sid] = [...adds.keys()];
      const before = await dav.get(user, PASS, "keep.ics");
      let i = 0;
      for (const [name, data] of corpus) {
        const r = await c.sync(cal, {
          options: calOptions(),
          commands: [el("AirSync:Add", el("AirSync:ClientId", `bad${++i}`), el("AirSync:ApplicationData", data)), el("AirSync:Change", el("AirSync:ServerId", sid!), el("AirSync:ApplicationData", data))],
        });
        expect(r.r.status, name).toBe(200);
        expect(r.status, name).toBe("1");
        expect(responsesOf(r.coll).map((x) => `${x.kind} ${x.status}`).sort(), name).toEqual(["Add 6", "Change 6"]);
      }
      expect(await dav.list(user, PASS)).toEqual(["keep.ics"]);
      const after = await dav.get(user, PASS, "keep.ics");
      expect(after.headers.etag).toBe(before.headers.etag);
      expect(after.body).toBe(before.body);
      // the device's sync state is intact: a good change still goes through
      const good = await c.sync(cal, { options: calOptions(), commands: [el("AirSync:Change", el("AirSync:ServerId", sid!), el("AirSync:ApplicationData", C("Subject", "Fine again"), rec(C("Type", 1), C("Interval", 1), C("Occurrences", 10), C("DayOfWeek", 2))))] });
      expect(good.status).toBe("1");
      expect(responsesOf(good.coll)).toEqual([]);
      expect((await dav.get(user, PASS, "keep.ics")).body).toContain("SUMMARY:Fine again");
    });

    test("an 8 MB body is refused without a stored item and without an HTTP 500", async () => {
      const { c, cal } = await calendarDevice(env, user, PASS, `BIG${version.replace(".", "")}`, version);
      await pull(c, cal);
      const r = await c.sync(cal, {
        options: calOptions(),
        commands: [el("AirSync:Add", el("AirSync:ClientId", "big"), el("AirSync:ApplicationData", ...ok, el("AirSyncBase:Body", el("AirSyncBase:Type", 1), el("AirSyncBase:Data", "x".repeat(8 << 20)))))],
      });
      expect(r.r.status).toBe(200);
      expect(responsesOf(r.coll).map((x) => x.status)).toEqual(["6"]);
      expect((await dav.list(user, PASS)).sort()).toEqual(["keep.ics"]);
    });
  });
}
