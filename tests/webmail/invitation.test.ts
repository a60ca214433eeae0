/**
 * Issue 17, "Invitations in mail": a message carrying an iTIP object shows
 * its card (GET /api/messages/:id/invitation) and answering it (POST)
 * updates the calendar and sends the REPLY to the organizer, with the
 * note as COMMENT. Invitations arrive through the real SMTP listeners (an
 * authenticated submission, filed by the iMIP processor, and plain port 25,
 * which the processor does not trust); the organizer's mailbox is read over
 * IMAP. Playwright in Chromium at desktop (1280x800) and phone (390x844).
 * Also: parts without a file name get real names (text/calendar -> invite.ics).
 */
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type * as Axe from "axe-core";
import type { Page } from "playwright-core";
import ICAL from "ical.js";
import { ALICE, ApiClient, BOB, CAROL, imapBuilt, launchBrowser, login, mailboxMessages, request, smtpSend, waitFor } from "./helpers.ts";
import { createUser, startTestServer, type ListenerName, type TestServer } from "../helpers/server.ts";
import type { InvitationView, MessageView } from "../../protocols/http/webmail/api-types.ts";
import { defaultName } from "../../protocols/http/webmail/mime.ts";

let srv: TestServer & { base: string };
let alice: ApiClient;
let bob: ApiClient;
let carol: ApiClient;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
const enc = new TextEncoder();

// 2030-03-12 (a Tuesday), far enough ahead to be an upcoming meeting whenever this runs.
const T0 = Date.UTC(2030, 2, 12, 9, 0);
const HOUR = 3600_000;

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

interface Ev {
  uid: string;
  seq?: number;
  start?: number;
  end?: number;
  summary?: string;
  location?: string;
  attendees?: string[];
  extra?: string[];
}

function vevent(e: Ev, method: string): string {
  const lines = ["BEGIN:VEVENT", `UID:${e.uid}`, `DTSTAMP:${stamp(Date.now())}`, `SEQUENCE:${e.seq ?? 0}`];
  if (e.start !== undefined) lines.push(`DTSTART:${stamp(e.start)}`, `DTEND:${stamp(e.end ?? e.start + HOUR)}`);
  if (e.summary !== undefined) lines.push(`SUMMARY:${e.summary}`);
  if (e.location) lines.push(`LOCATION:${e.location}`);
  lines.push(`ORGANIZER;CN=${BOB.name}:mailto:${BOB.email}`);
  if (method !== "REPLY") lines.push(`ATTENDEE;CN=${BOB.name};PARTSTAT=ACCEPTED:mailto:${BOB.email}`);
  for (const a of e.attendees ?? [ALICE.email]) lines.push(`ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:${a}`);
  if (method === "CANCEL") lines.push("STATUS:CANCELLED");
  lines.push(...(e.extra ?? []), "END:VEVENT");
  return lines.join("\r\n");
}

function calendar(method: string, e: Ev): string {
  return ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//Hand built//EN", `METHOD:${method}`, vevent(e, method), "END:VCALENDAR", ""].join("\r\n");
}

/** An iMIP message as Outlook builds it: multipart/alternative of text/plain and text/calendar;method=... (no file name). */
function imipMessage(method: string, e: Ev, subject: string, to: string[] = e.attendees ?? [ALICE.email]): string {
  const b = "b-" + Math.random().toString(36).slice(2);
  return [
    `From: ${BOB.name} <${BOB.email}>`,
    `To: ${to.join(", ")}`,
    `Subject: ${subject}`,
    `Message-ID: <${Math.random().toString(36).slice(2)}@example.test>`,
    `Date: ${new Date().toUTCString()}`,
    "MIME-Version: 1.0",
    `Content-Type: multipart/alternative; boundary="${b}"`,
    "",
    `--${b}`,
    "Content-Type: text/plain; charset=utf-8",
    "",
    `${subject}`,
    `--${b}`,
    `Content-Type: text/calendar; method=${method}; charset=utf-8`,
    "Content-Transfer-Encoding: 8bit",
    "",
    calendar(method, e),
    `--${b}--`,
    "",
  ].join("\r\n");
}

function python(script: string, input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile("python3", ["-c", script], { timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
    child.stdin!.end(input);
  });
}

/** BOB's mail client: STARTTLS + AUTH on the submission port (python smtplib): a local, authenticated sender. */
async function submitAsBob(to: string[], raw: string): Promise<void> {
  await python(
    `import smtplib,ssl,sys
c=ssl.create_default_context(); c.check_hostname=False; c.verify_mode=ssl.CERT_NONE
s=smtplib.SMTP('127.0.0.1', ${srv.port("SUBMISSION")}, timeout=30)
s.ehlo(); s.starttls(context=c); s.ehlo(); s.login(${JSON.stringify(BOB.email)}, ${JSON.stringify(BOB.password)})
s.sendmail(${JSON.stringify(BOB.email)}, ${JSON.stringify(to)}, sys.stdin.buffer.read())
s.quit()`,
    raw,
  );
}

async function account(email: string) {
  return (await srv.store.getAccount(email))!;
}

/** The id of the newest message of a user's INBOX with this subject (waits for delivery). */
async function messageId(email: string, subject: string): Promise<number> {
  return waitFor(async () => {
    const f = (await srv.store.getFolder((await account(email)).id, "INBOX"))!;
    const rows = await srv.store.getMessages(f.id, (await srv.store.listMessages(f.id)).map((m) => m.uid));
    return rows.filter((r) => r.subject === subject).sort((a, b) => b.uid - a.uid)[0]?.id;
  }, `"${subject}" in ${email}'s INBOX`);
}

/** The user's calendar copy of a UID, parsed (null when none). */
async function stored(email: string, uid: string): Promise<ICAL.Component | null> {
  const found = await srv.ctx.groupware.findByUid(await account(email), "calendar", uid);
  return found ? ICAL.Component.fromString(new TextDecoder().decode(await srv.ctx.groupware.readBody(found.object))) : null;
}

function partstatIn(root: ICAL.Component | null, who: string): string | null {
  const line = root?.getFirstSubcomponent("vevent")?.getAllProperties("attendee").find((p) => String(p.getFirstValue()).toLowerCase() === `mailto:${who}`);
  return line ? String(line.getFirstParameter("partstat")) : null;
}

/** iMIP REPLY messages in a mailbox (over IMAP when built) for a UID. */
async function repliesFor(user: { email: string; password: string }, uid: string): Promise<string[]> {
  const { messages } = await mailboxMessages(srv, user, "INBOX");
  return messages.map((m) => m.toString("utf8").replace(/\r\n[ \t]/g, "")).filter((t) => t.includes("METHOD:REPLY") && t.includes(`UID:${uid}`));
}

async function appendTo(email: string, raw: string, folder = "INBOX"): Promise<number> {
  const a = await account(email);
  const f = (await srv.store.getFolder(a.id, folder)) ?? (await srv.store.createFolder(a.id, folder));
  await srv.store.append(f.id, [{ raw: enc.encode(raw), internalDate: Date.now() }]);
  const rows = await srv.store.getMessages(f.id, (await srv.store.listMessages(f.id)).map((m) => m.uid));
  return rows.sort((a, b) => b.uid - a.uid)[0]!.id;
}

beforeAll(async () => {
  const listeners: ListenerName[] = ["HTTP", "HTTPS", "SMTP", "SUBMISSION"];
  if (imapBuilt()) listeners.push("IMAP");
  const s = await startTestServer({ listeners });
  for (const u of [ALICE, BOB, CAROL]) await createUser(s.store, u.email, u.password, { displayName: u.name });
  const base = `https://127.0.0.1:${s.port("HTTPS")}`;
  await request("GET", base + "/login");
  srv = Object.assign(s, { base });
  [alice, bob, carol] = await Promise.all([ApiClient.signIn(base, ALICE), ApiClient.signIn(base, BOB), ApiClient.signIn(base, CAROL)]);
  // ALICE's own calendar: a busy appointment overlapping the meetings below, and a free one that must not count.
  const a = await account(ALICE.email);
  await srv.ctx.groupware.ensureDefaults(a);
  const cal = (await srv.ctx.groupware.listCollections(a, "calendar"))[0]!;
  const own = (uid: string, summary: string, start: number, end: number, extra = "") =>
    srv.ctx.groupware.putObject(
      cal,
      `${uid}.ics`,
      enc.encode(`BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nDTSTAMP:${stamp(Date.now())}\r\nDTSTART:${stamp(start)}\r\nDTEND:${stamp(end)}\r\nSUMMARY:${summary}\r\n${extra}END:VEVENT\r\nEND:VCALENDAR\r\n`),
      { schedule: false },
    );
  await own("dentist", "Dentist", T0 + HOUR / 2, T0 + HOUR + HOUR / 2);
  await own("focus", "Focus time", T0, T0 + 2 * HOUR, "TRANSP:TRANSPARENT\r\n");
  await own("lunch", "Team lunch", T0 + 72 * HOUR + HOUR / 2, T0 + 72 * HOUR + 2 * HOUR);
  browser = await launchBrowser();
  page = browser.page;
  page.setDefaultTimeout(15_000);
  await login(page, srv.base, ALICE);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await srv?.close();
});

describe("invitation API over HTTPS", () => {
  const uid = "weekly-sync-1@example.test";
  const first: Ev = { uid, start: T0, summary: "Weekly sync", location: "Room 1", attendees: [ALICE.email, CAROL.email], extra: ["RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=10"] };

  test("a REQUEST by authenticated SMTP: the card shows the event, organizer, attendees, answer and conflicts", async () => {
    await submitAsBob([ALICE.email, CAROL.email], imipMessage("REQUEST", first, "Invitation: Weekly sync"));
    const id = await messageId(ALICE.email, "Invitation: Weekly sync");
    await waitFor(() => stored(ALICE.email, uid), "the iMIP processor filing the invitation");
    const msg = await alice.ok<MessageView>("GET", `/api/messages/${id}`);
    expect(msg.hasInvitation).toBe(true);
    expect(msg.attachments.map((a) => a.filename)).toEqual(["invite.ics"]);
    const v = await alice.ok<InvitationView>("GET", `/api/messages/${id}/invitation`);
    expect(v.method).toBe("REQUEST");
    expect(v.uid).toBe(uid);
    expect(v.title).toBe("Weekly sync");
    expect(v.location).toBe("Room 1");
    expect(v.start).toBe(T0);
    expect(v.end).toBe(T0 + HOUR);
    expect(v.allDay).toBe(false);
    expect(v.timeZone).toBe("UTC");
    expect(v.rrule).toBe("FREQ=WEEKLY;BYDAY=TU;COUNT=10");
    expect(v.recurrence).toBe("Every week on Tuesday, 10 times");
    expect(v.organizer).toEqual({ address: BOB.email, name: BOB.name });
    expect(v.attendees.map((a) => [a.address, a.partstat])).toEqual([
      [ALICE.email, "NEEDS-ACTION"],
      [CAROL.email, "NEEDS-ACTION"],
    ]);
    expect(v.myPartstat).toBe("NEEDS-ACTION");
    expect(v.canAnswer).toBe(true);
    expect(v.inCalendar?.id).toBeTruthy();
    // The busy Dentist overlaps; the free Focus time and the meeting itself do not count.
    expect(v.conflicts).toEqual([{ title: "Dentist", start: T0 + HOUR / 2, end: T0 + HOUR + HOUR / 2, allDay: false }]);
    expect(v.changes).toEqual([]);
    expect(v.outdated).toBe(false);
    // A message without a calendar part says so cheaply, and has no card.
    const plain = await appendTo(ALICE.email, `From: x@example.org\r\nTo: ${ALICE.email}\r\nSubject: plain\r\n\r\nhello\r\n`);
    expect((await alice.ok<MessageView>("GET", `/api/messages/${plain}`)).hasInvitation).toBe(false);
    const none = await alice.get(`/api/messages/${plain}/invitation`);
    expect(none.status).toBe(404);
    expect(none.json<{ message: string }>().message).toMatch(/no invitation/);
  }, 30_000);

  test("CAROL declines with a note: her calendar says DECLINED, BOB's mailbox gets the REPLY with COMMENT, and BOB's card shows it", async () => {
    const id = await messageId(CAROL.email, "Invitation: Weekly sync");
    await waitFor(() => stored(CAROL.email, uid), "CAROL's copy");
    const v = await carol.ok<InvitationView>("POST", `/api/messages/${id}/invitation`, { partstat: "DECLINED", comment: "Out of office that week, sorry" });
    expect(v.myPartstat).toBe("DECLINED");
    expect(partstatIn(await stored(CAROL.email, uid), CAROL.email)).toBe("DECLINED");
    const reply = await waitFor(async () => (await repliesFor(BOB, uid)).find((t) => t.includes(`mailto:${CAROL.email}`)), "the REPLY in BOB's INBOX");
    expect(reply).toContain("PARTSTAT=DECLINED");
    expect(reply).toContain("COMMENT:Out of office that week\\, sorry");
    // BOB reads the answer in his mail.
    const replyId = await waitFor(async () => {
      const f = (await srv.store.getFolder((await account(BOB.email)).id, "INBOX"))!;
      const rows = await srv.store.getMessages(f.id, (await srv.store.listMessages(f.id)).map((m) => m.uid));
      return rows.find((r) => r.fromAddr === CAROL.email && /Weekly sync/.test(r.subject))?.id;
    }, "the REPLY message");
    const card = await bob.ok<InvitationView>("GET", `/api/messages/${replyId}/invitation`);
    expect(card.method).toBe("REPLY");
    expect(card.reply).toEqual({ address: CAROL.email, name: CAROL.name, partstat: "DECLINED", comment: "Out of office that week, sorry" });
    expect(card.canAnswer).toBe(false);
    expect(card.title).toBe("Weekly sync");
    expect(card.isOrganizer).toBe(true);
    // The scheduler's REPLY carries the object twice (text/calendar alternative and invite.ics): one file is offered.
    expect((await bob.ok<MessageView>("GET", `/api/messages/${replyId}`)).attachments.map((a) => [a.filename, a.type])).toEqual([["invite.ics", "application/ics"]]);
    // ... and BOB's (the organizer's) calendar took the answer in.
    await waitFor(async () => partstatIn(await stored(BOB.email, uid), CAROL.email) === "DECLINED" || (await stored(BOB.email, uid)) === null, "BOB's copy");
  }, 30_000);

  test("an update with another time and room: the new card says what changed, the old one is outdated", async () => {
    const oldId = await messageId(ALICE.email, "Invitation: Weekly sync");
    await submitAsBob([ALICE.email], imipMessage("REQUEST", { ...first, seq: 1, start: T0 + 2 * HOUR, end: T0 + 3 * HOUR, location: "Room 7", attendees: [ALICE.email], extra: ["RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=8"] }, "Updated invitation: Weekly sync"));
    const id = await messageId(ALICE.email, "Updated invitation: Weekly sync");
    await waitFor(async () => ((await stored(ALICE.email, uid))?.getFirstSubcomponent("vevent")?.getFirstPropertyValue("sequence") as unknown) === 1, "the update filed");
    const v = await alice.ok<InvitationView>("GET", `/api/messages/${id}/invitation`);
    expect(v.start).toBe(T0 + 2 * HOUR);
    expect(v.fieldChanges?.map((c) => c.field)).toEqual(["time", "location", "recurrence"]);
    const time = v.fieldChanges![0]!;
    expect([time.beforeTime?.start, time.afterTime?.start]).toEqual([T0, T0 + 2 * HOUR]);
    expect(v.fieldChanges![1]).toMatchObject({ field: "location", before: "Room 1", after: "Room 7" });
    expect(v.changes[0]).toMatch(/^Time: .*09:00.*→.*11:00/);
    expect(v.changes[1]).toBe("Location: Room 1 → Room 7");
    expect(v.fieldChanges![2]).toEqual({ field: "recurrence", before: "FREQ=WEEKLY;BYDAY=TU;COUNT=10", after: "FREQ=WEEKLY;BYDAY=TU;COUNT=8" });
    expect(v.changes[2]).toBe("Repeats: Every week on Tuesday, 10 times → Every week on Tuesday, 8 times");
    expect(v.conflicts).toEqual([]); // 11:00-12:00 is free
    expect(v.canAnswer).toBe(true);
    const old = await alice.ok<InvitationView>("GET", `/api/messages/${oldId}/invitation`);
    expect(old.outdated).toBe(true);
    expect(old.canAnswer).toBe(false);
    const stale = await alice.send("POST", `/api/messages/${oldId}/invitation`, { partstat: "ACCEPTED" });
    expect(stale.status).toBe(409);
    expect(stale.json<{ message: string }>().message).toMatch(/newer version/);
  }, 30_000);

  test("a CANCEL: the card says cancelled and offers Remove, which deletes ALICE's copy and sends nothing", async () => {
    await submitAsBob([ALICE.email], imipMessage("CANCEL", { uid, seq: 2, start: T0 + 2 * HOUR, end: T0 + 3 * HOUR, summary: "Weekly sync", attendees: [ALICE.email] }, "Canceled: Weekly sync"));
    const id = await messageId(ALICE.email, "Canceled: Weekly sync");
    await waitFor(async () => (await stored(ALICE.email, uid))?.getFirstSubcomponent("vevent")?.getFirstPropertyValue("status") === "CANCELLED", "the CANCEL filed");
    const v = await alice.ok<InvitationView>("GET", `/api/messages/${id}/invitation`);
    expect(v.method).toBe("CANCEL");
    expect(v.cancelled).toBe(true);
    expect(v.canAnswer).toBe(false);
    expect(v.canRemove).toBe(true);
    expect(v.fieldChanges).toEqual([{ field: "cancelled", before: "", after: "" }]);
    expect(v.changes).toEqual(["The event was cancelled."]);
    // Answering a cancelled meeting is refused in words.
    const no = await alice.send("POST", `/api/messages/${id}/invitation`, { partstat: "ACCEPTED" });
    expect(no.status).toBe(409);
    expect(no.json<{ message: string }>().message).toMatch(/cancelled/);
    const bobBefore = (await mailboxMessages(srv, BOB, "INBOX")).messages.length;
    const after = await alice.ok<InvitationView>("POST", `/api/messages/${id}/invitation`, { action: "remove" });
    expect(after.inCalendar).toBeNull();
    expect(after.canRemove).toBe(false);
    expect(await stored(ALICE.email, uid)).toBeNull();
    // The delete was not scheduled: no REPLY (a deletion by an attendee would decline) went to BOB.
    expect((await mailboxMessages(srv, BOB, "INBOX")).messages.length).toBe(bobBefore);
    const again = await alice.send("POST", `/api/messages/${id}/invitation`, { action: "remove" });
    expect(again.status).toBe(409);
  }, 30_000);

  test("plain SMTP (not trusted by the iMIP processor): the card still shows, and Tentative creates the event in the default calendar", async () => {
    const u = "unfiled-1@example.test";
    await smtpSend(srv.port("SMTP"), BOB.email, [ALICE.email], imipMessage("REQUEST", { uid: u, start: T0 + 48 * HOUR, summary: "Budget review" }, "Invitation: Budget review"));
    const id = await messageId(ALICE.email, "Invitation: Budget review");
    const v = await alice.ok<InvitationView>("GET", `/api/messages/${id}/invitation`);
    expect(v.inCalendar).toBeNull();
    expect(v.myPartstat).toBeNull();
    expect(v.canAnswer).toBe(true);
    const after = await alice.ok<InvitationView>("POST", `/api/messages/${id}/invitation`, { partstat: "TENTATIVE" });
    expect(after.myPartstat).toBe("TENTATIVE");
    expect(after.inCalendar?.calendar).toBeTruthy();
    const copy = await stored(ALICE.email, u);
    expect(copy?.getFirstPropertyValue("method")).toBeNull(); // stored without METHOD (RFC 4791 §4.1)
    expect(partstatIn(copy, ALICE.email)).toBe("TENTATIVE");
    await waitFor(async () => (await repliesFor(BOB, u)).find((t) => t.includes("PARTSTAT=TENTATIVE")), "BOB's REPLY");
  }, 30_000);

  test("malformed, too large, another user's message, bad answers: 404/400 in words, never 500", async () => {
    const bad = await appendTo(ALICE.email, `From: ${BOB.email}\r\nTo: ${ALICE.email}\r\nSubject: broken\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\nBEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nDTSTART:garbage\r\n`);
    expect((await alice.ok<MessageView>("GET", `/api/messages/${bad}`)).hasInvitation).toBe(true);
    const r1 = await alice.get(`/api/messages/${bad}/invitation`);
    expect(r1.status).toBe(404);
    expect(r1.json<{ message: string }>().message).toMatch(/can't be read/);
    const noMethod = await appendTo(ALICE.email, `From: ${BOB.email}\r\nTo: ${ALICE.email}\r\nSubject: no method\r\nContent-Type: text/calendar\r\n\r\n${calendar("REQUEST", { uid: "x@y", start: T0, summary: "x" }).replace("METHOD:REQUEST\r\n", "")}`);
    expect((await alice.get(`/api/messages/${noMethod}/invitation`)).status).toBe(404);
    const todo = await appendTo(ALICE.email, `From: ${BOB.email}\r\nTo: ${ALICE.email}\r\nSubject: a task\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\nBEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nMETHOD:REQUEST\r\nBEGIN:VTODO\r\nUID:t1\r\nDTSTAMP:20300101T000000Z\r\nSUMMARY:t\r\nEND:VTODO\r\nEND:VCALENDAR\r\n`);
    expect((await alice.get(`/api/messages/${todo}/invitation`)).json<{ message: string }>().message).toMatch(/task/);
    const huge = await appendTo(ALICE.email, `From: ${BOB.email}\r\nTo: ${ALICE.email}\r\nSubject: huge\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n${calendar("REQUEST", { uid: "h@y", start: T0, summary: "h", extra: [`DESCRIPTION:${"x".repeat(2_200_000)}`] })}`);
    const r2 = await alice.get(`/api/messages/${huge}/invitation`);
    expect(r2.status).toBe(404);
    expect(r2.json<{ message: string }>().message).toMatch(/too large/);
    // Another user's message id is unknown to BOB (the same 404 as a message that does not exist).
    const id = await messageId(ALICE.email, "Invitation: Budget review");
    const r3 = await bob.get(`/api/messages/${id}/invitation`);
    expect(r3.status).toBe(404);
    expect((await bob.send("POST", `/api/messages/${id}/invitation`, { partstat: "ACCEPTED" })).status).toBe(404);
    expect((await alice.get(`/api/messages/0/invitation`)).status).toBe(404);
    expect((await alice.get(`/api/messages/abc/invitation`)).status).toBe(404);
    for (const body of [{ partstat: "MAYBE" }, { partstat: "ACCEPTED", comment: 7 }, { partstat: "ACCEPTED", comment: "x".repeat(2001) }, { action: "explode" }, null, [1, 2], "ACCEPTED"]) {
      const r = await alice.send("POST", `/api/messages/${id}/invitation`, body);
      expect([r.status, r.text]).toEqual([400, r.text]);
    }
    const notJson = await alice.send("POST", `/api/messages/${id}/invitation`, undefined, { "content-type": "application/json" });
    expect(notJson.status).toBe(400);
  }, 30_000);
});

describe("odd calendar parts", () => {
  const wrap = (method: string, body: string[], head = "") =>
    `From: ${BOB.email}\r\nTo: ${ALICE.email}\r\nSubject: odd\r\nContent-Type: text/calendar; method=${method}; charset=utf-8\r\n${head}\r\n` +
    ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:x", `METHOD:${method}`, ...body, "END:VCALENDAR", ""].join("\r\n");
  const ev = (...lines: string[]) => ["BEGIN:VEVENT", "UID:odd@x", "DTSTAMP:20300101T000000Z", `ORGANIZER:mailto:${BOB.email}`, `ATTENDEE:mailto:${ALICE.email}`, ...lines, "END:VEVENT"];

  test("all-day, override-only, unknown zone: shown with what can be read", async () => {
    const allDay = await appendTo(ALICE.email, wrap("REQUEST", ev("DTSTART;VALUE=DATE:20300401", "DTEND;VALUE=DATE:20300403", "SUMMARY:Offsite")), "Odd");
    const v = await alice.ok<InvitationView>("GET", `/api/messages/${allDay}/invitation`);
    expect([v.allDay, v.startDate, v.endDate, v.timeZone]).toEqual([true, "2030-04-01", "2030-04-03", ""]);
    const one = await appendTo(ALICE.email, wrap("REQUEST", ev("RECURRENCE-ID:20300402T090000Z", "DTSTART:20300402T100000Z", "DTEND:20300402T110000Z", "SUMMARY:Moved one")), "Odd");
    const o = await alice.ok<InvitationView>("GET", `/api/messages/${one}/invitation`);
    expect([o.recurrenceId, o.start]).toEqual([Date.UTC(2030, 3, 2, 9), Date.UTC(2030, 3, 2, 10)]);
    const zone = await appendTo(ALICE.email, wrap("REQUEST", ev("DTSTART;TZID=Nowhere/Special:20300402T090000", "SUMMARY:Floating")), "Odd");
    expect((await alice.get(`/api/messages/${zone}/invitation`)).status).toBe(200);
  });

  test("hostile parts never give a 500: each is a card or a 404 with a reason", async () => {
    const cases: string[] = [
      wrap("REQUEST", ev("DTSTART:20301345T990000Z", "SUMMARY:bad date")),
      wrap("REQUEST", ev("DTSTART:20300402T090000Z", "RRULE:FREQ=SECONDLY;INTERVAL=0")),
      wrap("REQUEST", ev("DTSTART:20300402T090000Z", "RRULE:FREQ=YEARLY;BYMONTH=13;BYDAY=99XX")),
      wrap("REQUEST", ev("DTSTART:20300402T090000Z", "DTEND:20300401T090000Z", "SUMMARY:backwards")),
      wrap("REQUEST", ev("DTSTART:20300402T090000Z", ...Array.from({ length: 2000 }, (_, i) => `ATTENDEE:mailto:p${i}@example.org`))),
      wrap("REQUEST", ["BEGIN:VTIMEZONE", "TZID:X", "END:VTIMEZONE"]),
      wrap("REQUEST", ["BEGIN:VEVENT", "BEGIN:VEVENT", "BEGIN:VEVENT", "UID:n"]),
      wrap("REQUEST", ev("DTSTART:20300402T090000Z", `SUMMARY:${"long ".repeat(20_000)}`)),
      wrap("REQUEST", ev("DTSTART:20300402T090000Z"), "Content-Transfer-Encoding: base64\r\n").replace(/BEGIN:VCALENDAR[\s\S]*$/, "!!!not*base64***\r\n"),
      wrap("REQUEST", ev("DTSTART:20300402T090000Z", "SUMMARY:charset")).replace("charset=utf-8", "charset=x-klingon"),
      wrap("DECLINECOUNTER", ev("DTSTART:20300402T090000Z")),
      wrap("REPLY", ["BEGIN:VEVENT", "UID:r@x", "DTSTAMP:20300101T000000Z", `ORGANIZER:mailto:${ALICE.email}`, "ATTENDEE;PARTSTAT=BOGUS:mailto:x@example.org", "END:VEVENT"]),
      wrap("CANCEL", ["BEGIN:VEVENT", "UID:c@x", "DTSTAMP:20300101T000000Z", `ORGANIZER:mailto:${BOB.email}`, "END:VEVENT"]),
    ];
    for (const raw of cases) {
      const id = await appendTo(ALICE.email, raw, "Odd"); // kept out of the Inbox the browser tests look through
      const r = await alice.get(`/api/messages/${id}/invitation`);
      expect([200, 404]).toContain(r.status);
      if (r.status === 404) expect(r.json<{ message: string }>().message.length).toBeGreaterThan(10);
      const post = await alice.send("POST", `/api/messages/${id}/invitation`, { partstat: "ACCEPTED" });
      expect([200, 404, 409]).toContain(post.status);
    }
  }, 30_000);
});

describe("attachment names", () => {
  test("parts without a file name get real names: text/calendar invite.ics, vCard contact.vcf, a mail .eml", async () => {
    const b = "nm";
    const raw = [
      `From: ${BOB.email}`,
      `To: ${ALICE.email}`,
      "Subject: names",
      `Content-Type: multipart/mixed; boundary="${b}"`,
      "",
      `--${b}`,
      "Content-Type: text/plain",
      "",
      "see attached",
      `--${b}`,
      "Content-Type: text/calendar; charset=utf-8",
      "Content-Disposition: attachment",
      "",
      calendar("PUBLISH", { uid: "pub@x", start: T0, summary: "p" }),
      `--${b}`,
      "Content-Type: text/vcard",
      "Content-Disposition: attachment",
      "",
      "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Kim\r\nEND:VCARD",
      `--${b}`,
      "Content-Type: message/rfc822",
      "",
      "Subject: inner\r\n\r\ninner",
      `--${b}`,
      "Content-Type: application/octet-stream",
      "Content-Transfer-Encoding: base64",
      "",
      "AAEC",
      `--${b}--`,
      "",
    ].join("\r\n");
    const id = await appendTo(ALICE.email, raw);
    const msg = await alice.ok<MessageView>("GET", `/api/messages/${id}`);
    expect(msg.attachments.map((a) => a.filename)).toEqual(["invite.ics", "contact.vcf", "message-3.eml", "attachment-4"]);
    const dl = await alice.get(`/api/messages/${id}/attachments/0`);
    expect(String(dl.headers["content-disposition"])).toContain('filename="invite.ics"');
    expect(defaultName("application/vnd.openxmlformats-officedocument.wordprocessingml.document", 1)).toBe("attachment-2.docx");
    expect(defaultName("image/jpeg", 0)).toBe("attachment-1.jpg");
    expect(defaultName("application/x-weird", 0)).toBe("attachment-1.weird");
    expect(defaultName("application/pkcs7-signature", 0)).toBe("smime.p7s");
  });
});

// ------------------------------------------------------------------ in the browser

const AXE_SOURCE = readFileSync(join(import.meta.dir, "..", "..", "node_modules", "axe-core", "axe.min.js"), "utf8");

/** axe-core on the card only (the rest of the page is checked in a11y.test.ts): serious and critical findings. */
async function axeCard(p: Page): Promise<string[]> {
  if (!(await p.evaluate(() => "axe" in window))) await p.evaluate(AXE_SOURCE);
  return p.evaluate(async () => {
    const a = (window as unknown as { axe: typeof Axe }).axe;
    const r = await a.run(".invite-slot", { resultTypes: ["violations"] });
    return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  });
}

const row = (p: Page, subject: string) => p.locator(".row", { has: p.locator(".row-subject", { hasText: subject }) }).first();

async function openAndAnswer(p: Page, subject: string, uid: string, button: "ACCEPTED" | "TENTATIVE", note: string, shot?: string) {
  await row(p, subject).click();
  const card = p.locator(".invite-card");
  await card.waitFor();
  await expect(card.locator(".invite-title").textContent()).resolves.toBe(subject.replace(/^Invitation: /, ""));
  await expect(card.locator(".invite-organizer").textContent()).resolves.toBe(`${BOB.name} <${BOB.email}>`);
  const tz = await p.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
  const hour = new Intl.DateTimeFormat("en", { hour: "numeric", minute: "2-digit", timeZone: tz }).format(T0 + 72 * HOUR);
  await expect(card.locator(".invite-when").textContent()).resolves.toContain(hour);
  await expect(card.locator(".invite-status").textContent()).resolves.toBe("You have not answered yet.");
  // Team lunch overlaps (on the phone also the meeting accepted at desktop size, at the same time).
  expect((await card.locator(".invite-conflicts li").allTextContents()).some((x) => x.startsWith("Team lunch · "))).toBe(true);
  if (shot) {
    mkdirSync("docs/screenshots", { recursive: true });
    await card.locator(".invite-comment").fill(note);
    await p.screenshot({ path: shot });
  }
  expect(await axeCard(p)).toEqual([]);
  await p.getByLabel("Note for the organizer (optional)").fill(note);
  await card.locator(`button[data-partstat="${button}"]`).click();
  await p.locator(".invite-status", { hasText: button === "ACCEPTED" ? "You accepted." : "You answered tentative." }).waitFor();
  await expect(card.locator(`button[data-partstat="${button}"]`).getAttribute("aria-pressed")).resolves.toBe("true");
  // ALICE's calendar has the answer; BOB's mailbox (read over IMAP) has the REPLY with the note.
  expect(partstatIn(await stored(ALICE.email, uid), ALICE.email)).toBe(button);
  const reply = await waitFor(async () => (await repliesFor(BOB, uid)).find((t) => t.includes(`PARTSTAT=${button}`)), "the REPLY in BOB's INBOX");
  expect(reply).toContain(`mailto:${ALICE.email}`);
  expect(reply).toContain(`COMMENT:${note}`);
}

describe("invitation card in Chromium", () => {
  test("desktop: BOB's invitation arrives by SMTP, ALICE sees the card, adds a note and accepts", async () => {
    const uid = "ui-desktop@example.test";
    await submitAsBob([ALICE.email], imipMessage("REQUEST", { uid, start: T0 + 72 * HOUR, summary: "Quarterly planning", location: "Board room", attendees: [ALICE.email, CAROL.email] }, "Invitation: Quarterly planning", [ALICE.email]));
    await messageId(ALICE.email, "Invitation: Quarterly planning");
    await row(page, "Invitation: Quarterly planning").waitFor();
    const shot = process.env.PB_SCREENSHOTS === "1" ? "docs/screenshots/invitation-card.png" : undefined;
    await openAndAnswer(page, "Invitation: Quarterly planning", uid, "ACCEPTED", "See you there", shot);
    // The attachment list offers the calendar part as invite.ics; Open in calendar goes to its day.
    await expect(page.locator(".msg .attachments .att-name").allTextContents()).resolves.toEqual(["invite.ics"]);
    await page.locator('[data-action="invite-open"]').click();
    await page.waitForFunction(() => location.hash.startsWith("#/calendar/2030-03-15"));
    await page.goBack();
  }, 45_000);

  test("phone: the card fits, answers are 44 px targets, Tentative with a note sends the REPLY", async () => {
    // A second tab of the same signed-in browser, at phone size: the list first, the reader after a tap.
    const phone = await browser.context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    phone.setDefaultTimeout(15_000);
    await phone.goto(srv.base + "/");
    await phone.waitForSelector("body[data-list-ready]", { state: "attached" });
    const uid = "ui-phone@example.test";
    await submitAsBob([ALICE.email], imipMessage("REQUEST", { uid, start: T0 + 72 * HOUR, summary: "Design review" }, "Invitation: Design review"));
    await messageId(ALICE.email, "Invitation: Design review");
    await row(phone, "Invitation: Design review").waitFor();
    await row(phone, "Invitation: Design review").click();
    await phone.locator(".invite-card").waitFor();
    for (const b of await phone.locator(".invite-buttons button").all()) {
      const box = (await b.boundingBox())!;
      expect(box.height).toBeGreaterThanOrEqual(44);
      expect(box.x + box.width).toBeLessThanOrEqual(390);
    }
    const card = (await phone.locator(".invite-card").boundingBox())!;
    expect(card.x + card.width).toBeLessThanOrEqual(390);
    await phone.locator(".back-btn").first().click();
    await openAndAnswer(phone, "Invitation: Design review", uid, "TENTATIVE", "Might be late");
    await phone.close();
  }, 45_000);

  test("desktop: a cancellation shows as cancelled with Remove from calendar, which takes the event out", async () => {
    const u = "unfiled-1@example.test"; // Budget review: in ALICE's calendar since she answered it (API test above)
    expect(await stored(ALICE.email, u)).not.toBeNull();
    await submitAsBob([ALICE.email], imipMessage("CANCEL", { uid: u, seq: 1, start: T0 + 48 * HOUR, summary: "Budget review" }, "Canceled: Budget review"));
    await messageId(ALICE.email, "Canceled: Budget review");
    await waitFor(async () => (await stored(ALICE.email, u))?.getFirstSubcomponent("vevent")?.getFirstPropertyValue("status") === "CANCELLED", "the CANCEL filed");
    await row(page, "Canceled: Budget review").click();
    const card = page.locator(".invite-card.invite-cancelled");
    await card.waitFor();
    await expect(card.locator(".invite-badge").textContent()).resolves.toBe("Cancelled");
    await expect(card.locator(".invite-status").textContent()).resolves.toBe("This meeting was cancelled.");
    expect(await card.locator(".invite-buttons").count()).toBe(0);
    await card.locator('[data-action="invite-remove"]').click();
    await page.locator(".invite-status", { hasText: "Removed from your calendar." }).waitFor();
    expect(await stored(ALICE.email, u)).toBeNull();
    expect(await page.locator('[data-action="invite-remove"]').count()).toBe(0);
  }, 45_000);

  test("in German and another zone: the update says what changed in words of the language, times in the user's zone and the event's own", async () => {
    await alice.ok("PUT", "/api/settings", { language: "de", timeZone: "Asia/Tokyo" });
    try {
      await page.goto(srv.base + "/");
      await page.waitForSelector("body[data-list-ready]", { state: "attached" });
      await row(page, "Updated invitation: Weekly sync").click();
      const card = page.locator(".invite-card");
      await card.waitFor();
      // 11:00 UTC is 20:00 in Tokyo; the event is in UTC, so its own time is shown too.
      const when = (await card.locator(".invite-when").textContent()) ?? "";
      expect(when).toContain("20:00");
      await expect(card.locator(".invite-zone").first().textContent()).resolves.toContain("11:00 – 12:00 in UTC");
      await expect(card.locator(".invite-badge").textContent()).resolves.toBe("Geänderte Einladung");
      await expect(card.locator(".invite-changes li").allTextContents()).resolves.toEqual([
        expect.stringMatching(/^Zeit: .*18:00.*→.*20:00/),
        "Ort: Room 1 → Room 7",
        "Wiederholung: Wöchentlich am Dienstag, 10-mal → Wöchentlich am Dienstag, 8-mal",
      ]);
      await expect(card.locator(".invite-fact dd").nth(1).textContent()).resolves.toBe("Wöchentlich am Dienstag, 8-mal");
      await expect(card.locator('button[data-partstat="ACCEPTED"]').textContent()).resolves.toBe("Zusagen");
      await expect(card.locator('button[data-partstat="DECLINED"]').textContent()).resolves.toBe("Ablehnen");
    } finally {
      await alice.ok("PUT", "/api/settings", { language: "", timeZone: "" });
    }
  }, 45_000);

  test("desktop: the organizer BOB reads ALICE's answer with her note", async () => {
    await browser.context.clearCookies();
    await login(page, srv.base, BOB);
    const subject = await waitFor(async () => {
      const f = (await srv.store.getFolder((await account(BOB.email)).id, "INBOX"))!;
      const rows = await srv.store.getMessages(f.id, (await srv.store.listMessages(f.id)).map((m) => m.uid));
      return rows.find((r) => r.fromAddr === ALICE.email && r.subject.includes("Quarterly planning"))?.subject;
    }, "ALICE's answer in BOB's INBOX");
    await row(page, subject).click();
    const card = page.locator('.invite-card[data-method="REPLY"]');
    await card.waitFor();
    await expect(card.locator(".invite-status").textContent()).resolves.toBe(`${ALICE.name} accepted.`);
    await expect(card.locator(".invite-reply-note").textContent()).resolves.toBe("Their note: “See you there”");
    expect(await card.locator(".invite-buttons").count()).toBe(0);
  }, 45_000);
});
