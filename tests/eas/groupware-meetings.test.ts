/**
 * Meetings over ActiveSync, end to end over HTTPS (EasClient, every request
 * and response checked against libwbxml2-utils), for 14.1 and 16.1:
 *
 *  bob (organizer, CalDAV PUT) invites alice to a weekly meeting; the
 *  implicit scheduler mails the iMIP REQUEST, which lands in alice's Inbox
 *  and (the delivery hook) in her calendar. alice's phone sees the mail as
 *  IPM.Schedule.Meeting.Request with its MeetingRequest element and an .ics
 *  attachment, and answers with MeetingResponse: the whole series accepted,
 *  one occurrence declined (InstanceId on the calendar item). CalDAV reads
 *  of alice's copy show each answer. In 16.1 (SendResponse) the server's
 *  iMIP REPLY reaches bob, whose copy shows alice's answers; in 14.1 nothing
 *  is sent until the phone's own SendMail of a REPLY, which also updates
 *  alice's copy. bob's CalDAV DELETE cancels: alice's Inbox gets
 *  IPM.Schedule.Meeting.Canceled and her copy is cancelled. Malformed
 *  MeetingResponse requests get statuses.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import ICAL from "ical.js";
import { appData, commandsOf, el, kid, kids, kidText, type EasClient } from "./client.ts";
import { createUser, message, startEas, type EasEnv } from "./helpers.ts";
import { curl, responses, texts, xmlHeaders, type DavServer } from "../dav/core-helpers.ts";
import { waitFor } from "../smtp/helpers.ts";
import { hasCommand } from "../helpers/proc.ts";
import type { Account } from "../../storage/api.ts";

setDefaultTimeout(60_000);

const PASS = "meeting secret 1";
const ALICE = "alice@example.test";
const BOB = "bob@example.test";
const ICS = { "content-type": "text/calendar; charset=utf-8" };
const BODY_PREF = [el("AirSyncBase:BodyPreference", el("AirSyncBase:Type", "1"), el("AirSyncBase:TruncationSize", "4000"))];
const skip = !hasCommand("curl") && process.env.CI !== "true";

let env: EasEnv;
let dav: DavServer;
let alice: Account;
let bob: Account;

beforeAll(async () => {
  if (skip) return;
  env = await startEas();
  alice = await createUser(env.srv.store, ALICE, PASS, { displayName: "Alice Archer" });
  bob = await createUser(env.srv.store, BOB, PASS, { displayName: "Bob Builder" });
  dav = { srv: env.srv, base: `https://127.0.0.1:${env.port}`, close: async () => undefined };
});
afterAll(async () => {
  await env?.close();
});

const calendarOf = (u: string) => `/dav/calendars/${u}/Calendar/`;

/** The body of the object with `uid` in a user's calendar (CalDAV PROPFIND + GET), or null. */
async function davEvent(user: string, uid: string): Promise<{ href: string; body: string } | null> {
  const list = await curl(dav, "PROPFIND", calendarOf(user), { user, pass: PASS, headers: xmlHeaders("1"), body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>` });
  for (const r of responses(list.body).slice(1)) {
    const href = texts(r, "href")[0]!;
    const got = await curl(dav, "GET", href, { user, pass: PASS });
    if (got.status === 200 && got.body.includes(`UID:${uid}`)) return { href, body: got.body };
  }
  return null;
}

/** alice's PARTSTAT per instance key ("" = master, else the RECURRENCE-ID as written) in a CalDAV body. */
function answers(body: string, who = ALICE): Map<string, string> {
  const root = ICAL.Component.fromString(body);
  const out = new Map<string, string>();
  for (const ev of root.getAllSubcomponents("vevent")) {
    const rid = ev.getFirstProperty("recurrence-id");
    const line = ev.getAllProperties("attendee").find((p) => String(p.getFirstValue()).toLowerCase() === `mailto:${who}`);
    out.set(rid ? rid.toICALString().replace(/^RECURRENCE-ID[^:]*:/, "") : "", String(line?.getFirstParameter("partstat") ?? "NEEDS-ACTION"));
  }
  return out;
}

function invitation(uid: string, title: string): string {
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Pillarbox tests//EN",
    "BEGIN:VEVENT",
    `UID:${uid}`,
    "DTSTAMP:20261201T090000Z",
    "DTSTART;TZID=Europe/Berlin:20261210T100000",
    "DTEND;TZID=Europe/Berlin:20261210T110000",
    "RRULE:FREQ=WEEKLY;COUNT=5",
    `SUMMARY:${title}`,
    "LOCATION:Room 4",
    `ORGANIZER;CN=Bob Builder:mailto:${BOB}`,
    `ATTENDEE;CN=Bob Builder;PARTSTAT=ACCEPTED:mailto:${BOB}`,
    `ATTENDEE;CN=Alice Archer;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:${ALICE}`,
    "END:VEVENT",
    "END:VCALENDAR",
    "",
  ].join("\r\n");
}

async function device(version: string, id: string): Promise<{ dev: EasClient; inbox: string }> {
  const dev = env.client({ user: ALICE, pass: PASS, deviceId: id, version });
  await dev.provision();
  await dev.folderSync();
  const inbox = dev.folderByType(2);
  await dev.sync(inbox, { options: BODY_PREF });
  return { dev, inbox };
}

/** Syncs the Inbox until an Add whose MessageClass is `cls` and whose subject contains `title` arrives. */
async function waitForMail(dev: EasClient, inbox: string, cls: string, title: string): Promise<{ serverId: string; data: WElementLike }> {
  return waitFor(async () => {
    const { coll } = await dev.sync(inbox, { options: BODY_PREF });
    const add = commandsOf(coll).adds.find((a) => kidText(appData(a), "Email:MessageClass") === cls && (kidText(appData(a), "Email:Subject") ?? "").includes(title));
    return add ? { serverId: kidText(add, "AirSync:ServerId")!, data: appData(add)! } : null;
  });
}
type WElementLike = NonNullable<ReturnType<typeof appData>>;

function meetingResponse(req: { userResponse: number; collectionId?: string; requestId?: string; instanceId?: string; sendResponse?: boolean }) {
  return el(
    "MeetingResponse:MeetingResponse",
    el(
      "MeetingResponse:Request",
      el("MeetingResponse:UserResponse", req.userResponse),
      req.collectionId !== undefined && el("MeetingResponse:CollectionId", req.collectionId),
      req.requestId !== undefined && el("MeetingResponse:RequestId", req.requestId),
      req.instanceId !== undefined && el("MeetingResponse:InstanceId", req.instanceId),
      req.sendResponse && el("MeetingResponse:SendResponse", el("AirSyncBase:Body", el("AirSyncBase:Type", "1"), el("AirSyncBase:Data", "See you there"))),
    ),
  );
}

/** Messages in an account's INBOX whose From is `from`. */
async function inboxFrom(account: Account, from: string): Promise<number> {
  const inbox = (await env.srv.store.listFolders(account.id)).find((f) => f.name === "INBOX")!;
  const msgs = await env.srv.store.listMessages(inbox.id);
  let n = 0;
  for (const m of msgs) {
    const full = await env.srv.store.getMessageById(m.id);
    if (full?.envelope.from?.some((a) => `${a.mailbox}@${a.host}` === from)) n++;
  }
  return n;
}

for (const version of ["14.1", "16.1"] as const) {
  const v16 = version === "16.1";
  const uid = `weekly-${version}@example.test`;
  const title = `Weekly sync ${version}`;
  describe.skipIf(skip)(`meetings, protocol ${version}`, () => {
    let dev: EasClient;
    let inbox: string;
    let requestId = "";
    let calendarId = "";

    test("the invitation arrives as IPM.Schedule.Meeting.Request with its MeetingRequest element and an .ics attachment", async () => {
      ({ dev, inbox } = await device(version, `MEET${version.replace(".", "")}`));
      const put = await curl(dav, "PUT", `${calendarOf(BOB)}${uid}.ics`, { user: BOB, pass: PASS, body: invitation(uid, title), headers: ICS });
      expect(put.status).toBe(201);
      const { serverId, data } = await waitForMail(dev, inbox, "IPM.Schedule.Meeting.Request", title);
      requestId = serverId;
      const mr = kid(data, "Email:MeetingRequest");
      expect(mr).toBeDefined();
      expect(kidText(data, "Email:ContentClass")).toBe("urn:content-classes:calendarmessage");
      // 10:00 Europe/Berlin in December = 09:00 UTC
      expect(kidText(mr, "Email:StartTime")).toBe("2026-12-10T09:00:00.000Z");
      expect(kidText(mr, "Email:EndTime")).toBe("2026-12-10T10:00:00.000Z");
      expect(kidText(mr, "Email:Organizer")).toContain(BOB);
      expect(kidText(mr, "Email:InstanceType")).toBe("1");
      expect(kidText(mr, "Email:ResponseRequested")).toBe("1");
      expect(kidText(mr, "Email2:MeetingMessageType")).toBe("1");
      const rec = kid(kid(mr, "Email:Recurrences"), "Email:Recurrence");
      expect(kidText(rec, "Email:Type")).toBe("1");
      expect(kidText(rec, "Email:Occurrences")).toBe("5");
      expect(kidText(rec, "Email:DayOfWeek")).toBe("16"); // Thursday
      if (v16) {
        expect(kidText(mr, "Calendar:UID")).toBe(uid);
        expect(kidText(kid(mr, "AirSyncBase:Location"), "AirSyncBase:DisplayName")).toBe("Room 4");
      } else {
        const goid = Buffer.from(kidText(mr, "Email:GlobalObjId")!, "base64");
        expect(goid.subarray(0, 16).toString("hex")).toBe("040000008200e00074c5b7101a82e008");
        expect(goid.subarray(52, goid.length - 1).toString("utf8")).toBe(uid);
        expect(kidText(mr, "Email:Location")).toBe("Room 4");
      }
      const names = kids(kid(data, "AirSyncBase:Attachments"), "AirSyncBase:Attachment").map((a) => kidText(a, "AirSyncBase:DisplayName")!);
      expect(names.length).toBeGreaterThan(0);
      expect(names.every((n) => n.endsWith(".ics"))).toBe(true);
      // The delivery hook filed the invitation in alice's calendar, unanswered.
      const copy = await waitFor(() => davEvent(ALICE, uid));
      expect(answers(copy.body).get("")).toBe("NEEDS-ACTION");
    });

    test(`MeetingResponse accepts the whole series${v16 ? " and (SendResponse) the server's REPLY reaches bob" : "; nothing is sent for 14.1"}`, async () => {
      const r = await dev.send("MeetingResponse", meetingResponse({ userResponse: 1, collectionId: inbox, requestId, sendResponse: v16 }));
      expect(r.status).toBe(200);
      const result = kid(r.doc!, "MeetingResponse:Result");
      expect(kidText(result, "MeetingResponse:RequestId")).toBe(requestId);
      expect(kidText(result, "MeetingResponse:Status")).toBe("1");
      calendarId = kidText(result, "MeetingResponse:CalendarId")!;
      expect(calendarId).toMatch(/^\d+:\d+$/);
      const copy = (await davEvent(ALICE, uid))!;
      expect(answers(copy.body).get("")).toBe("ACCEPTED");
      if (v16) {
        await waitFor(async () => answers((await davEvent(BOB, uid))!.body).get("") === "ACCEPTED");
      } else {
        // The scheduler runs inside the write and local delivery inside the submission: had a REPLY been sent, bob would have it now.
        expect(await inboxFrom(bob, ALICE)).toBe(0);
        expect(answers((await davEvent(BOB, uid))!.body).get("")).toBe("NEEDS-ACTION");
      }
      // The answered request left the Inbox (Exchange moves it to Deleted Items): the device gets a Delete.
      const { coll } = await dev.sync(inbox, { options: BODY_PREF });
      expect(commandsOf(coll).deletes.map((d) => kidText(d, "AirSync:ServerId"))).toContain(requestId);
    });

    test("MeetingResponse declines one occurrence (InstanceId) of the calendar item: an override in alice's copy", async () => {
      const [calFolder] = calendarId.split(":");
      const r = await dev.send("MeetingResponse", meetingResponse({ userResponse: 3, collectionId: calFolder, requestId: calendarId, instanceId: "2026-12-24T09:00:00.000Z", sendResponse: v16 }));
      const result = kid(r.doc!, "MeetingResponse:Result");
      expect(kidText(result, "MeetingResponse:Status")).toBe("1");
      expect(kid(result, "MeetingResponse:CalendarId")).toBeUndefined(); // MS-ASCMD §2.2.3.18: none for a decline
      const mine = answers((await davEvent(ALICE, uid))!.body);
      expect(mine.get("")).toBe("ACCEPTED");
      expect(mine.get("20261224T100000")).toBe("DECLINED");
      if (v16) await waitFor(async () => answers((await davEvent(BOB, uid))!.body).get("20261224T100000") === "DECLINED");
    });

    if (!v16) {
      test("14.1: the phone's own SendMail of a REPLY is sent and updates alice's copy too", async () => {
        const reply = [
          `From: Alice Archer <${ALICE}>`,
          `To: Bob Builder <${BOB}>`,
          `Subject: Tentative: ${title}`,
          "MIME-Version: 1.0",
          'Content-Type: text/calendar; method=REPLY; charset="utf-8"',
          "",
          "BEGIN:VCALENDAR",
          "VERSION:2.0",
          "PRODID:-//Phone//EN",
          "METHOD:REPLY",
          "BEGIN:VEVENT",
          `UID:${uid}`,
          "DTSTAMP:20261205T090000Z",
          "DTSTART;TZID=Europe/Berlin:20261210T100000",
          `ORGANIZER:mailto:${BOB}`,
          `ATTENDEE;PARTSTAT=TENTATIVE:mailto:${ALICE}`,
          "END:VEVENT",
          "END:VCALENDAR",
          "",
        ].join("\r\n");
        const r = await dev.send("SendMail", el("ComposeMail:SendMail", el("ComposeMail:ClientId", `reply-${version}`), el("ComposeMail:Mime", new TextEncoder().encode(reply))));
        expect(r.status).toBe(200);
        expect(r.body.length).toBe(0);
        expect(answers((await davEvent(ALICE, uid))!.body).get("")).toBe("TENTATIVE");
        // The declined occurrence keeps its own answer (the REPLY named the series only).
        expect(answers((await davEvent(ALICE, uid))!.body).get("20261224T100000")).toBe("DECLINED");
        await waitFor(async () => answers((await davEvent(BOB, uid))!.body).get("") === "TENTATIVE");
      });
    }

    test("bob moves the meeting (SEQUENCE 1): an updated request reaches the phone and alice's copy; answered tentatively by its Search LongId", async () => {
      const ev = (await davEvent(BOB, uid))!;
      const moved = ev.body
        .replace(/DTSTART;TZID=Europe\/Berlin:20261210T100000/, "DTSTART;TZID=Europe/Berlin:20261210T140000")
        .replace(/DTEND;TZID=Europe\/Berlin:20261210T110000/, "DTEND;TZID=Europe/Berlin:20261210T150000")
        .replace(/SEQUENCE:\d+\r\n/, "")
        .replace(/(BEGIN:VEVENT\r\n)/, "$1SEQUENCE:1\r\n");
      const put = await curl(dav, "PUT", ev.href, { user: BOB, pass: PASS, body: moved, headers: ICS });
      expect(put.status).toBe(204);
      const { data } = await waitForMail(dev, inbox, "IPM.Schedule.Meeting.Request", title);
      const mr = kid(data, "Email:MeetingRequest");
      expect(kidText(mr, "Email:StartTime")).toBe("2026-12-10T13:00:00.000Z");
      expect(kidText(mr, "Email2:MeetingMessageType")).toBe("2");
      // alice's copy follows the organizer (RFC 5546 §2.1.5: a new SEQUENCE asks her again).
      await waitFor(async () => (await davEvent(ALICE, uid))!.body.includes("20261210T140000"));
      // Answered through the mail found by Search (MS-ASCMD §2.2.3.98.2 LongId instead of CollectionId/RequestId).
      const found = await dev.send(
        "Search",
        el("Search:Search", el("Search:Store", el("Search:Name", "Mailbox"), el("Search:Query", el("Search:And", el("AirSync:Class", "Email"), el("AirSync:CollectionId", inbox), el("Search:FreeText", "sync"))), el("Search:Options", el("Search:Range", "0-9")))),
      );
      const hit = kids(kid(kid(found.doc!, "Search:Response"), "Search:Store"), "Search:Result").find((x) => kidText(kid(x, "Search:Properties"), "Email:MessageClass") === "IPM.Schedule.Meeting.Request")!;
      const longId = kidText(hit, "Search:LongId")!;
      const r = await dev.send("MeetingResponse", el("MeetingResponse:MeetingResponse", el("MeetingResponse:Request", el("MeetingResponse:UserResponse", "2"), el("Search:LongId", longId), v16 && el("MeetingResponse:SendResponse"))));
      const result = kid(r.doc!, "MeetingResponse:Result");
      expect(kidText(result, "MeetingResponse:Status")).toBe("1");
      expect(kidText(result, "MeetingResponse:CalendarId")).toBe(calendarId);
      expect(answers((await davEvent(ALICE, uid))!.body).get("")).toBe("TENTATIVE");
      if (v16) await waitFor(async () => answers((await davEvent(BOB, uid))!.body).get("") === "TENTATIVE");
    });

    test("bob cancels: the Inbox gets IPM.Schedule.Meeting.Canceled and alice's copy is cancelled", async () => {
      // The phone's calendar holds the meeting before the cancellation (the Calendar class, MS-ASCAL).
      const cal = dev.folderByType(8);
      await dev.sync(cal);
      const first = await dev.sync(cal, { windowSize: 100 });
      expect(commandsOf(first.coll).adds.map((a) => kidText(a, "AirSync:ServerId"))).toContain(calendarId);
      const ev = (await davEvent(BOB, uid))!;
      const del = await curl(dav, "DELETE", ev.href, { user: BOB, pass: PASS });
      expect(del.status).toBe(204);
      const { data } = await waitForMail(dev, inbox, "IPM.Schedule.Meeting.Canceled", title);
      const mr = kid(data, "Email:MeetingRequest");
      expect(kidText(mr, "Email:ResponseRequested")).toBe("0");
      expect(kidText(mr, "Email:BusyStatus")).toBe("0");
      await waitFor(async () => /STATUS:CANCELLED/.test((await davEvent(ALICE, uid))!.body));
      // ... and the Calendar class sends the cancelled meeting as a Change (MS-ASCAL MeetingStatus 5/7: cancelled).
      const after = await dev.sync(cal, { windowSize: 100 });
      const change = commandsOf(after.coll).changes.find((ch) => kidText(ch, "AirSync:ServerId") === calendarId);
      expect(change).toBeDefined();
      expect(["5", "7"]).toContain(kidText(appData(change!), "Calendar:MeetingStatus")!);
      // A cancelled meeting cannot be answered any more.
      const r = await dev.send("MeetingResponse", meetingResponse({ userResponse: 1, collectionId: calendarId.split(":")[0], requestId: calendarId }));
      expect(kidText(kid(r.doc!, "MeetingResponse:Result"), "MeetingResponse:Status")).toBe("2");
    });

    test("malformed MeetingResponse requests get statuses, never an HTTP error", async () => {
      await env.srv.store.deliver(message({ to: ALICE, subject: `Plain mail ${version}` }), [{ accountId: alice.id }]);
      const { coll } = await dev.sync(inbox, { options: BODY_PREF });
      const plain = commandsOf(coll).adds.find((a) => kidText(appData(a), "Email:Subject") === `Plain mail ${version}`)!;
      const plainId = kidText(plain, "AirSync:ServerId")!;
      const cases: [string, ReturnType<typeof meetingResponse>][] = [
        ["UserResponse 9", meetingResponse({ userResponse: 9, collectionId: inbox, requestId: plainId })],
        ["unknown RequestId", meetingResponse({ userResponse: 1, collectionId: inbox, requestId: `${inbox}:999999999` })],
        ["RequestId of another folder", meetingResponse({ userResponse: 1, collectionId: inbox, requestId: "1:1" })],
        ["a plain mail", meetingResponse({ userResponse: 1, collectionId: inbox, requestId: plainId })],
        ["an invalid InstanceId", meetingResponse({ userResponse: 1, collectionId: inbox, requestId: plainId, instanceId: "2026-13-45T09:00:00.000Z" })],
        ["no RequestId", meetingResponse({ userResponse: 1, collectionId: inbox })],
        ["an unknown collection", meetingResponse({ userResponse: 1, collectionId: "987654321", requestId: "987654321:1" })],
      ];
      for (const [name, doc] of cases) {
        const r = await dev.send("MeetingResponse", doc);
        expect(`${name}: ${r.status}`).toBe(`${name}: 200`);
        expect(`${name}: ${kidText(kid(r.doc!, "MeetingResponse:Result"), "MeetingResponse:Status")}`).toBe(`${name}: 2`);
      }
      // No Request at all: the command's own status (MS-ASCMD §2.2.2 common status 103, invalid XML).
      const empty = await dev.send("MeetingResponse", el("MeetingResponse:MeetingResponse"));
      expect(kidText(empty.doc!, "MeetingResponse:Status")).toBe("103");
      const many = await dev.send("MeetingResponse", el("MeetingResponse:MeetingResponse", Array.from({ length: 101 }, () => kid(meetingResponse({ userResponse: 1, collectionId: inbox, requestId: plainId }), "MeetingResponse:Request")!)));
      expect(kidText(many.doc!, "MeetingResponse:Status")).toBe("103");
    });
  });
}

describe.skipIf(skip)("protocol checks", () => {
  test("OPTIONS lists MeetingResponse; a 12.1 device can use it too", async () => {
    const dev = env.client({ user: ALICE, pass: PASS, deviceId: "MEET121", version: "12.1" });
    const o = await dev.options();
    expect(String(o.headers["ms-asprotocolcommands"])).toContain("MeetingResponse");
    await dev.provision();
    await dev.folderSync();
    const r = await dev.send("MeetingResponse", meetingResponse({ userResponse: 1, collectionId: dev.folderByType(2), requestId: `${dev.folderByType(2)}:999999999` }));
    expect(kidText(kid(r.doc!, "MeetingResponse:Result"), "MeetingResponse:Status")).toBe("2");
  });

  test("every request and response matched libwbxml2-utils", () => {
    const w = env.libwbxml();
    expect(w.mismatches).toEqual([]);
    if (process.env.CI === "true") expect(w.responses).toBeGreaterThan(10);
  });
});
