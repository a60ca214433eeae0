/**
 * Issue 16's cross-protocol round trip, over real HTTPS with every
 * ActiveSync request and response checked against libwbxml2-utils:
 *
 * 16.1: bob (organizer, a second local account) creates a weekly meeting
 * with alice over CalDAV, with one instance moved; implicit scheduling
 * delivers the invitation and alice's calendar has it; alice's 16.1 device
 * syncs it (recurrence and the moved instance as an Exception); the device
 * declines ONE instance (MeetingResponse with InstanceId and SendResponse)
 * and edits the title (Sync Change); CalDAV GET of alice's object shows the
 * declined override (RECURRENCE-ID, PARTSTAT=DECLINED) and the new SUMMARY;
 * bob receives the iMIP REPLY (METHOD:REPLY, RECURRENCE-ID,
 * PARTSTAT=DECLINED) and his copy records it.
 *
 * 14.1: MeetingResponse updates the calendar without the server sending a
 * REPLY; the device's own SendMail of a text/calendar REPLY reaches bob and
 * is processed (bob's copy shows the answer).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { hasCommand } from "../helpers/proc.ts";
import { waitFor } from "../smtp/helpers.ts";
import { appData, el, kid, kids, kidText, type EasClient } from "./client.ts";
import type { WElement } from "../../protocols/http/eas/wbxml/tree.ts";
import { createUser, startEas, type EasEnv } from "./helpers.ts";
import { libwbxmlAvailable } from "./libwbxml.ts";
import { calHome, change, dav, davOf, deviceCommand, drain, ICS, initialSync, syncOptions, type DavUser } from "./groupware-accept.ts";
import type { Account } from "../../storage/api.ts";

setDefaultTimeout(90_000);

const tools = libwbxmlAvailable() && hasCommand("curl");
const skip = !tools && process.env.CI !== "true";

const BOB = "bob@example.test";
const PASS = "round-trip-secret";
let env: EasEnv;
let bob: Account;
let B: DavUser;

beforeAll(async () => {
  if (skip) return;
  if (!tools) throw new Error("libwbxml2-utils (xml2wbxml, wbxml2xml) and curl are required");
  env = await startEas();
  bob = await createUser(env.srv.store, BOB, PASS, { displayName: "Bob Organizer" });
  B = { d: davOf(env), user: BOB, pass: PASS };
});
afterAll(async () => {
  if (skip) return;
  expect(env.libwbxml().mismatches).toEqual([]);
  await env.close();
});

/** bob's weekly meeting with `attendee`: six Mondays 09:00 UTC from 2026-03-16, the second moved to Tuesday 13:00. */
function meeting(uid: string, attendee: string): string {
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Pillarbox round trip//EN",
    "BEGIN:VEVENT",
    `UID:${uid}`,
    "DTSTAMP:20260301T080000Z",
    "SEQUENCE:0",
    "DTSTART:20260316T090000Z",
    "DTEND:20260316T100000Z",
    "RRULE:FREQ=WEEKLY;COUNT=6",
    "SUMMARY:Weekly sync",
    "LOCATION:Room 4",
    `ORGANIZER;CN=Bob Organizer:mailto:${BOB}`,
    `ATTENDEE;CN=Bob Organizer;ROLE=CHAIR;PARTSTAT=ACCEPTED:mailto:${BOB}`,
    `ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:${attendee}`,
    "X-ROUNDTRIP-KEEP:kept",
    "END:VEVENT",
    "BEGIN:VEVENT",
    `UID:${uid}`,
    "DTSTAMP:20260301T080000Z",
    "SEQUENCE:0",
    "RECURRENCE-ID:20260323T090000Z",
    "DTSTART:20260324T130000Z",
    "DTEND:20260324T140000Z",
    "SUMMARY:Weekly sync",
    "LOCATION:Room 4",
    `ORGANIZER;CN=Bob Organizer:mailto:${BOB}`,
    `ATTENDEE;CN=Bob Organizer;ROLE=CHAIR;PARTSTAT=ACCEPTED:mailto:${BOB}`,
    `ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:${attendee}`,
    "END:VEVENT",
    "END:VCALENDAR",
    "",
  ].join("\r\n");
}

/** iCalendar with folded lines joined (RFC 5545 §3.1). */
const unfold = (s: string) => s.replace(/\r?\n[ \t]/g, "");

/** The VEVENT blocks of an object, unfolded. */
function vevents(ics: string): string[] {
  return [...unfold(ics).matchAll(/BEGIN:VEVENT\r?\n([\s\S]*?)END:VEVENT/g)].map((m) => m[1]!);
}

/** The PARTSTAT of `who` in one VEVENT block. */
function partstat(block: string, who: string): string | undefined {
  const line = block.split(/\r?\n/).find((l) => l.toUpperCase().startsWith("ATTENDEE") && l.toLowerCase().endsWith(`mailto:${who}`));
  return line ? /PARTSTAT=([A-Z-]+)/i.exec(line)?.[1]?.toUpperCase() : undefined;
}

/** The one stored object with this UID in a user's default calendar: href and body. */
async function objectByUid(u: DavUser, uid: string): Promise<{ href: string; body: string } | null> {
  const r = await dav(u, "REPORT", `${calHome(u.user)}Calendar/`, {
    headers: { "content-type": "application/xml; charset=utf-8", depth: "1" },
    body: `<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:prop-filter name="UID"><c:text-match collation="i;octet">${uid}</c:text-match></c:prop-filter></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`,
  });
  if (r.status !== 207) return null;
  const href = /<D:href>([^<]+\.ics)<\/D:href>/i.exec(r.body)?.[1];
  if (!href) return null;
  const g = await dav(u, "GET", href);
  return g.status === 200 ? { href, body: g.body } : null;
}

/** iMIP messages in an account's INBOX whose text/calendar has this METHOD and UID (raw, as received). */
async function imipIn(acct: Account, method: string, uid: string): Promise<string[]> {
  const inbox = (await env.srv.store.getFolder(acct.id, "INBOX"))!;
  const out: string[] = [];
  for (const m of await env.srv.store.listMessages(inbox.id)) {
    const raw = new TextDecoder().decode(await env.srv.store.readMessage(m.id));
    const decoded = raw.includes("Content-Transfer-Encoding: base64") ? raw + decodeBase64Parts(raw) : raw;
    const u = unfold(decoded);
    if (u.includes(`METHOD:${method}`) && u.includes(`UID:${uid}`)) out.push(u);
  }
  return out;
}

/** The base64 bodies of a message's parts, decoded (a text/calendar part may be base64). */
function decodeBase64Parts(raw: string): string {
  let out = "";
  for (const m of raw.matchAll(/Content-Transfer-Encoding: base64\r?\n(?:[^\r\n]+\r?\n)*\r?\n([A-Za-z0-9+/=\r\n]+)/gi)) out += "\n" + Buffer.from(m[1]!.replace(/\s+/g, ""), "base64").toString("utf8");
  return out;
}

/** Normalises an EAS date or InstanceId ("2026-03-23T09:00:00.000Z" or "20260323T090000Z") to "20260323T090000". */
const compact = (s: string | undefined) => (s ?? "").replace(/[-:]/g, "").replace(/\.\d+/, "").replace(/Z$/, "");

/** Elements a device does not send back in a Change (the server's own, MS-ASCAL 16.x read-only ones). */
const SERVER_ONLY = new Set(["Calendar:UID", "Calendar:ResponseType", "Calendar:AppointmentReplyTime", "Calendar:MeetingStatus", "Calendar:OrganizerName", "Calendar:OrganizerEmail", "Calendar:Attendees", "Calendar:ResponseRequested", "Calendar:DisallowNewTimeProposal", "Calendar:DtStamp", "AirSyncBase:Body", "AirSyncBase:NativeBodyType", "Calendar:OnlineMeetingConfLink", "Calendar:OnlineMeetingExternalLink"]);

/** What a phone sends for an edit: the item as the server last sent it, without server-only elements, with new values. */
function phoneEdit(data: WElement, replace: Record<string, string>): WElement[] {
  const strip = (e: WElement): WElement => ({
    ...e,
    children: e.children
      .filter((ch) => typeof ch === "string" || ch instanceof Uint8Array || !SERVER_ONLY.has(`${ch.ns}:${ch.name}`))
      .map((ch) => (typeof ch === "string" || ch instanceof Uint8Array ? ch : ch.name === "Exceptions" || ch.name === "Exception" ? strip(ch) : ch)),
  });
  const out = strip(data).children.filter((ch): ch is WElement => typeof ch === "object" && !(ch instanceof Uint8Array));
  return out.map((ch) => (replace[`${ch.ns}:${ch.name}`] !== undefined ? el(`${ch.ns}:${ch.name}`, replace[`${ch.ns}:${ch.name}`]) : ch));
}

async function invite(attendee: Account, uid: string): Promise<void> {
  // bob creates the meeting in his own calendar over CalDAV: implicit scheduling (RFC 6638) invites the attendee
  expect((await dav(B, "PUT", `${calHome(BOB)}Calendar/${uid}.ics`, { body: meeting(uid, attendee.email), headers: ICS })).status).toBe(201);
}

describe.skipIf(skip)("round trip 16.1: CalDAV -> phone -> decline one instance + edit -> CalDAV and an iMIP REPLY", () => {
  const ALICE = "alice@example.test";
  const UID = "weekly-rt-161@example.test";
  let alice: Account;
  let A: DavUser;
  let c: EasClient;
  let cal: string;
  let sid: string;
  const opts = syncOptions("Calendar", "16.1");

  beforeAll(async () => {
    alice = await createUser(env.srv.store, ALICE, PASS, { displayName: "Alice Attendee" });
    A = { d: davOf(env), user: ALICE, pass: PASS };
    await invite(alice, UID);
    c = env.client({ user: ALICE, pass: PASS, deviceId: "ROUNDTRIP161", version: "16.1" });
    await c.provision();
    await c.folderSync();
    cal = c.folderByType(8);
  });

  test("the invitation is in alice's calendar over CalDAV and syncs to her phone with the moved instance", async () => {
    const stored = await waitFor(() => objectByUid(A, UID));
    expect(vevents(stored.body).length).toBe(2);
    const adds = await initialSync(c, cal, opts);
    const add = adds.find((a) => kidText(appData(a), "Calendar:Subject") === "Weekly sync");
    expect(add).toBeTruthy();
    sid = kidText(add!, "AirSync:ServerId")!;
    const data = appData(add!)!;
    expect(kidText(data, "Calendar:StartTime")).toBe("20260316T090000Z");
    expect(kidText(data, "Calendar:EndTime")).toBe("20260316T100000Z");
    expect(kidText(data, "Calendar:OrganizerEmail")).toBe(BOB);
    expect(kidText(data, "Calendar:MeetingStatus")).toBe("3"); // a meeting alice was invited to (MS-ASCAL §2.2.2.29)
    const rec = kid(data, "Calendar:Recurrence")!;
    expect(kidText(rec, "Calendar:Type")).toBe("1"); // weekly
    expect(kidText(rec, "Calendar:Occurrences")).toBe("6");
    const exceptions = kids(kid(data, "Calendar:Exceptions"), "Calendar:Exception");
    expect(exceptions.length).toBe(1);
    expect(compact(kidText(exceptions[0], "AirSyncBase:InstanceId"))).toBe("20260323T090000");
    expect(kidText(exceptions[0], "Calendar:StartTime")).toBe("20260324T130000Z");
    expect(kidText(exceptions[0], "Calendar:EndTime")).toBe("20260324T140000Z");
    // the attendees (the organizer's own ATTENDEE line is shown as the organizer), alice not yet answered
    const who = kids(kid(data, "Calendar:Attendees"), "Calendar:Attendee").map((x) => kidText(x, "Calendar:Email")?.toLowerCase());
    expect(who).toEqual([ALICE]);
    expect(kidText(data, "Calendar:ResponseType")).toBe("5"); // not responded (MS-ASCAL §2.2.2.40)
  });

  test("declining one instance with SendResponse and editing the title reach CalDAV, and bob gets the REPLY", async () => {
    expect(sid).toBeTruthy();
    const r = await c.send(
      "MeetingResponse",
      el(
        "MeetingResponse:MeetingResponse",
        el("MeetingResponse:Request", el("MeetingResponse:UserResponse", "3"), el("MeetingResponse:CollectionId", cal), el("MeetingResponse:RequestId", sid), el("MeetingResponse:InstanceId", "2026-03-30T09:00:00.000Z"), el("MeetingResponse:SendResponse")),
      ),
    );
    expect(r.status).toBe(200);
    const result = kid(r.doc!, "MeetingResponse:Result");
    expect(kidText(result, "MeetingResponse:Status")).toBe("1");

    // the phone syncs the server's version (with the declined instance), then edits the title
    const after = await drain(c, cal, opts);
    const latest = after.changes.find((x) => kidText(x, "AirSync:ServerId") === sid);
    expect(latest).toBeTruthy();
    const data = appData(latest!)!;
    const declined = kids(kid(data, "Calendar:Exceptions"), "Calendar:Exception").find((x) => compact(kidText(x, "AirSyncBase:InstanceId")) === "20260330T090000");
    expect(declined).toBeTruthy();
    expect(kidText(declined, "Calendar:ResponseType")).toBe("4"); // declined (MS-ASCAL §2.2.2.38)
    expect(await deviceCommand(c, cal, opts, change(sid, phoneEdit(data, { "Calendar:Subject": "Weekly sync (alice's notes)" })))).toBe("1");

    // CalDAV: the new SUMMARY, the declined override, the moved instance and the unknown property kept
    const stored = (await objectByUid(A, UID))!;
    const blocks = vevents(stored.body);
    const master = blocks.find((b) => !/^RECURRENCE-ID/m.test(b))!;
    expect(master).toContain("SUMMARY:Weekly sync (alice's notes)");
    expect(master).toContain("RRULE:FREQ=WEEKLY;COUNT=6");
    expect(master).toContain("X-ROUNDTRIP-KEEP:kept");
    expect(partstat(master, ALICE)).toBe("NEEDS-ACTION"); // only the one instance was answered
    expect(master).toContain(`ORGANIZER;CN=Bob Organizer:mailto:${BOB}`);
    const override = blocks.find((b) => /^RECURRENCE-ID[^:]*:20260330T090000Z?$/m.test(b));
    expect(override).toBeTruthy();
    expect(partstat(override!, ALICE)).toBe("DECLINED");
    const moved = blocks.find((b) => /^RECURRENCE-ID[^:]*:20260323T090000Z?$/m.test(b));
    expect(moved).toContain("DTSTART:20260324T130000Z");

    // bob: an iMIP REPLY for that instance, declined; his copy records alice's answer for it
    const replies = await waitFor(async () => {
      const l = await imipIn(bob, "REPLY", UID);
      return l.length ? l : null;
    });
    expect(replies.length).toBe(1);
    expect(replies[0]).toMatch(/RECURRENCE-ID[^:\r\n]*:20260330T090000Z?/);
    expect(replies[0]).toMatch(new RegExp(`ATTENDEE[^\\r\\n]*PARTSTAT=DECLINED[^\\r\\n]*mailto:${ALICE}`, "i"));
    const bobCopy = await waitFor(async () => {
      const o = await objectByUid(B, UID);
      const ov = o && vevents(o.body).find((b) => /^RECURRENCE-ID[^:]*:20260330T090000Z?$/m.test(b));
      return ov && partstat(ov, ALICE) === "DECLINED" ? o : null;
    });
    expect(vevents(bobCopy.body).length).toBe(3);
  });
});

describe.skipIf(skip)("round trip 14.1: MeetingResponse sends nothing; the phone's own SendMail of the REPLY reaches bob", () => {
  const DORA = "dora@example.test";
  const UID = "weekly-rt-141@example.test";
  let dora: Account;
  let D: DavUser;
  let c: EasClient;

  beforeAll(async () => {
    dora = await createUser(env.srv.store, DORA, PASS, { displayName: "Dora Device" });
    D = { d: davOf(env), user: DORA, pass: PASS };
    await invite(dora, UID);
    c = env.client({ user: DORA, pass: PASS, deviceId: "ROUNDTRIP141", version: "14.1" });
    await c.provision();
    await c.folderSync();
  });

  test("accept on the phone: dora's calendar says ACCEPTED, then her SendMail REPLY updates bob's copy", async () => {
    await waitFor(() => objectByUid(D, UID));
    const cal = c.folderByType(8);
    const opts = syncOptions("Calendar", "14.1");
    const adds = await initialSync(c, cal, opts);
    const add = adds.find((a) => kidText(appData(a), "Calendar:Subject") === "Weekly sync")!;
    expect(add).toBeTruthy();
    const sid = kidText(add, "AirSync:ServerId")!;
    expect(kids(kid(appData(add), "Calendar:Exceptions"), "Calendar:Exception").map((x) => kidText(x, "Calendar:ExceptionStartTime"))).toEqual(["20260323T090000Z"]);

    const r = await c.send("MeetingResponse", el("MeetingResponse:MeetingResponse", el("MeetingResponse:Request", el("MeetingResponse:UserResponse", "1"), el("MeetingResponse:CollectionId", cal), el("MeetingResponse:RequestId", sid))));
    const result = kid(r.doc!, "MeetingResponse:Result");
    expect(kidText(result, "MeetingResponse:Status")).toBe("1");
    expect(kidText(result, "MeetingResponse:CalendarId")).toBe(sid);
    const mine = (await objectByUid(D, UID))!;
    for (const b of vevents(mine.body)) expect(partstat(b, DORA)).toBe("ACCEPTED");

    // the 14.1 phone sends its own REPLY (MS-ASCMD §2.2.1.11: the server does not)
    const reply = [
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "PRODID:-//Phone//EN",
      "METHOD:REPLY",
      "BEGIN:VEVENT",
      `UID:${UID}`,
      "DTSTAMP:20260302T080000Z",
      "SEQUENCE:0",
      "DTSTART:20260316T090000Z",
      "DTEND:20260316T100000Z",
      "SUMMARY:Accepted: Weekly sync",
      `ORGANIZER:mailto:${BOB}`,
      `ATTENDEE;PARTSTAT=ACCEPTED:mailto:${DORA}`,
      "END:VEVENT",
      "END:VCALENDAR",
      "",
    ].join("\r\n");
    const mime = [
      `From: Dora Device <${DORA}>`,
      `To: Bob Organizer <${BOB}>`,
      "Subject: Accepted: Weekly sync",
      "MIME-Version: 1.0",
      'Content-Type: multipart/alternative; boundary="rt141"',
      "",
      "--rt141",
      "Content-Type: text/plain; charset=utf-8",
      "",
      "Dora has accepted.",
      "--rt141",
      'Content-Type: text/calendar; charset=utf-8; method=REPLY; name="invite.ics"',
      "",
      reply,
      "--rt141--",
      "",
    ].join("\r\n");
    const s = await c.send("SendMail", el("ComposeMail:SendMail", el("ComposeMail:ClientId", "reply-141"), el("ComposeMail:SaveInSentItems"), el("ComposeMail:Mime", new TextEncoder().encode(mime))));
    expect(s.status).toBe(200);
    expect(s.body.length).toBe(0); // MS-ASCMD §2.2.1.19: an empty response is success

    const replies = await waitFor(async () => {
      const l = await imipIn(bob, "REPLY", UID);
      return l.length ? l : null;
    });
    // only the phone's reply: the server sent none for the 14.1 MeetingResponse
    expect(replies.length).toBe(1);
    expect(replies[0]).toContain("PRODID:-//Phone//EN");
    const bobCopy = await waitFor(async () => {
      const o = await objectByUid(B, UID);
      return o && partstat(vevents(o.body).find((b) => !/^RECURRENCE-ID/m.test(b)) ?? "", DORA) === "ACCEPTED" ? o : null;
    });
    expect(bobCopy.body).toContain(UID);
  });
});
