/**
 * Pull subscriptions over real sockets (MS-OXWSNTIF): events after an SMTP
 * delivery, IMAP flag changes, copies, moves and expunges, folder creation;
 * watermark continuity; Unsubscribe; resuming from a watermark; the bounded
 * queue; malformed and refused requests.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { folderIdOf } from "../../protocols/http/ews/ids.ts";
import { createSubscription, findSubscription, LIMITS, removeSubscription, touch } from "../../protocols/http/ews/notifications-registry.ts";
import { ImapConn, smtpSend } from "../reliability/lib/conn.ts";
import { createUser, find, startEws, type EwsEnv } from "./helpers.ts";
import { collect, getEvents, pullRequest, subscribe, type User } from "./notifications-helpers.ts";

const A: User = { email: "alice@example.test", pass: "alice-password-1" };
const B: User = { email: "bob@example.test", pass: "bob-password-12" };
const C: User = { email: "carol@example.test", pass: "carol-password-1" };
const ALL = ["NewMailEvent", "CreatedEvent", "DeletedEvent", "ModifiedEvent", "MovedEvent", "CopiedEvent"];

let env: EwsEnv;
let aliceId = 0;
let inboxId = "";
let imap: ImapConn;

function message(subject: string, to = A.email): string {
  return `From: bob@example.test\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, "")}.${Date.now()}@example.test>\r\nDate: ${new Date().toUTCString()}\r\n\r\nHello ${subject}\r\n`;
}

async function deliver(subject: string, to = A.email): Promise<void> {
  const r = await smtpSend({ port: env.srv.port("SMTP"), from: "bob@example.test", to: [to], data: message(subject, to) });
  expect(r.code).toBe(250);
}

async function imapOk(cmd: string): Promise<string[]> {
  const r = await imap.cmd(cmd);
  if (r.status !== "OK") throw new Error(`${cmd}: ${r.status} ${r.text}`);
  return r.untagged;
}

const inbox = `<t:FolderIds><t:DistinguishedFolderId Id="inbox"/></t:FolderIds>`;

beforeAll(async () => {
  env = await startEws();
  aliceId = (await createUser(env.srv.store, A.email, A.pass)).id;
  await createUser(env.srv.store, B.email, B.pass);
  await createUser(env.srv.store, C.email, C.pass);
  const folders = await env.srv.store.listFolders(aliceId, { itemClass: "mail" });
  inboxId = folderIdOf(aliceId, folders.find((f) => f.name === "INBOX")!.id);
  imap = (await ImapConn.connect(env.srv.port("IMAP"))).imap;
  await imapOk(`LOGIN ${A.email} ${A.pass}`);
  await imapOk("CREATE Archive2");
});
afterAll(async () => {
  imap?.close();
  await env.close();
});

test("Subscribe (pull) answers a SubscriptionId and a Watermark; an SMTP delivery gives NewMailEvent and CreatedEvent in the inbox", async () => {
  const s = await subscribe(env, A, pullRequest(inbox, ALL));
  expect(s.code).toBe("NoError");
  expect(s.id.length).toBeGreaterThan(10);
  expect(s.watermark.length).toBeGreaterThan(3);
  // Nothing yet: one StatusEvent, PreviousWatermark = the one given.
  const first = await getEvents(env, A, s.id, s.watermark);
  expect(first.code).toBe("NoError");
  expect(first.events.map((e) => e.type)).toEqual(["StatusEvent"]);
  expect(first.previous).toBe(s.watermark);

  await deliver("pull one");
  const got = await collect(env, A, s.id, s.watermark, (ev) => ev.some((e) => e.type === "CreatedEvent"));
  const types = got.events.map((e) => e.type);
  expect(types).toContain("NewMailEvent");
  expect(types).toContain("CreatedEvent");
  const created = got.events.find((e) => e.type === "CreatedEvent")!;
  expect(created.parent).toBe(inboxId);
  expect(created.itemId).toBeTruthy();

  // The item id is one GetItem/FindItem know: it decodes to the store's message in the inbox.
  const msgs = await env.srv.store.listMessages((await env.srv.store.listFolders(aliceId)).find((f) => f.name === "INBOX")!.id);
  expect(msgs.length).toBeGreaterThan(0);
  await env.call(A.email, A.pass, `<m:Unsubscribe><m:SubscriptionId>${s.id}</m:SubscriptionId></m:Unsubscribe>`);
});

test("watermark continuity: the same watermark gets the same events again; the last event's watermark acknowledges them", async () => {
  const s = await subscribe(env, A, pullRequest(inbox, ["NewMailEvent"]));
  await deliver("continuity");
  const a = await collect(env, A, s.id, s.watermark, (ev) => ev.length >= 1);
  // Asking again from the subscription's first watermark: the unacknowledged event comes again.
  const again = await getEvents(env, A, s.id, s.watermark);
  expect(again.events.map((e) => e.watermark)).toEqual(a.events.map((e) => e.watermark));
  // From the last event's watermark: nothing new, a StatusEvent.
  const after = await getEvents(env, A, s.id, a.watermark);
  expect(after.events.map((e) => e.type)).toEqual(["StatusEvent"]);
  expect(after.previous).toBe(a.watermark);
  // An acknowledged position cannot be gone back to.
  const back = await getEvents(env, A, s.id, s.watermark);
  expect(back.code).toBe("ErrorInvalidWatermark");
});

test("MoreEvents paging: the same watermark after MoreEvents gives the next page (exchangelib's loop); the last event's watermark does too", async () => {
  const saved = LIMITS.perResponse;
  LIMITS.perResponse = 2;
  try {
    const s = await subscribe(env, A, pullRequest(inbox, ["NewMailEvent"]));
    for (let i = 0; i < 3; i++) await deliver(`page ${i}`);
    const probe = await subscribe(env, A, pullRequest(inbox, ["NewMailEvent"]));
    await deliver("page probe");
    await collect(env, A, probe.id, probe.watermark, (ev) => ev.length > 0);
    const p1 = await getEvents(env, A, s.id, s.watermark);
    expect(p1.events.length).toBe(2);
    expect(p1.more).toBe(true);
    const p2 = await getEvents(env, A, s.id, s.watermark);
    expect(p2.events.length).toBe(2);
    expect(p2.events[0]!.watermark).not.toBe(p1.events[0]!.watermark);
    expect(p2.more).toBe(false);
    // The client that carries watermarks forward gets the same second page from page one's last event.
    const q2 = await getEvents(env, A, s.id, p1.events[1]!.watermark);
    expect(q2.events.map((e) => e.watermark)).toEqual(p2.events.map((e) => e.watermark));
  } finally {
    LIMITS.perResponse = saved;
  }
});

test("IMAP STORE gives ModifiedEvent, COPY gives CopiedEvent, MOVE gives MovedEvent, EXPUNGE gives DeletedEvent", async () => {
  const s = await subscribe(env, A, pullRequest("", ALL, "", ' SubscribeToAllFolders="true"'));
  expect(s.code).toBe("NoError");
  await deliver("imap changes");
  let w = (await collect(env, A, s.id, s.watermark, (ev) => ev.some((e) => e.type === "CreatedEvent"))).watermark;
  await imapOk("SELECT INBOX");
  const uid = Math.max(...(await imapOk("UID SEARCH ALL")).join(" ").replace(/^\* SEARCH /, "").split(/\s+/).map(Number).filter(Number.isFinite));

  await imapOk(`UID STORE ${uid} +FLAGS (\\Flagged)`);
  let r = await collect(env, A, s.id, w, (ev) => ev.some((e) => e.type === "ModifiedEvent"));
  expect(r.events.find((e) => e.type === "ModifiedEvent")!.parent).toBe(inboxId);
  w = r.watermark;

  await imapOk(`UID COPY ${uid} Archive2`);
  r = await collect(env, A, s.id, w, (ev) => ev.some((e) => e.type === "CopiedEvent"));
  const copied = r.events.find((e) => e.type === "CopiedEvent")!;
  expect(copied.oldParent).toBe(inboxId);
  expect(copied.oldItemId).toBeTruthy();
  expect(copied.itemId).not.toBe(copied.oldItemId);
  w = r.watermark;

  await imapOk(`UID MOVE ${uid} Archive2`);
  r = await collect(env, A, s.id, w, (ev) => ev.some((e) => e.type === "MovedEvent"));
  const moved = r.events.find((e) => e.type === "MovedEvent")!;
  expect(moved.oldParent).toBe(inboxId);
  expect(moved.parent).not.toBe(inboxId);
  expect(moved.oldItemId).toBe(moved.itemId!);
  // A move is one MovedEvent, not a DeletedEvent plus a CreatedEvent.
  expect(r.events.some((e) => e.type === "DeletedEvent")).toBe(false);
  w = r.watermark;

  await imapOk("SELECT Archive2");
  await imapOk("STORE 1:* +FLAGS (\\Deleted)");
  await imapOk("EXPUNGE");
  r = await collect(env, A, s.id, w, (ev) => ev.some((e) => e.type === "DeletedEvent"));
  expect(r.events.filter((e) => e.type === "DeletedEvent").length).toBeGreaterThanOrEqual(2);
});

test("folder events: an IMAP CREATE is a CreatedEvent with a FolderId under the subscription to all folders", async () => {
  const s = await subscribe(env, A, pullRequest("", ["CreatedEvent"], "", ' SubscribeToAllFolders="true"'));
  await imapOk("CREATE Projects");
  const r = await collect(env, A, s.id, s.watermark, (ev) => ev.some((e) => e.folderId));
  const f = (await env.srv.store.listFolders(aliceId)).find((x) => x.name === "Projects")!;
  expect(r.events.find((e) => e.folderId)!.folderId).toBe(folderIdOf(aliceId, f.id));
});

test("groupware items: a note created, changed and deleted in the store gives Created, Modified and Deleted events with note item ids", async () => {
  const s = await subscribe(env, A, pullRequest(`<t:FolderIds><t:DistinguishedFolderId Id="notes"/></t:FolderIds>`, ALL));
  expect(s.code).toBe("NoError");
  const notes = (await env.srv.store.listFolders(aliceId, { itemClass: "notes" }))[0]!;
  const journal = (summary: string) =>
    new TextEncoder().encode(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//EN", "BEGIN:VJOURNAL", "UID:ews-note-1", "DTSTAMP:20260301T100000Z", `SUMMARY:${summary}`, "END:VJOURNAL", "END:VCALENDAR", ""].join("\r\n"));
  const item = await env.srv.store.createItem(notes.id, { itemClass: "notes", body: journal("First"), fields: { subject: "First" } });
  let r = await collect(env, A, s.id, s.watermark, (ev) => ev.some((e) => e.type === "CreatedEvent"));
  const created = r.events.find((e) => e.type === "CreatedEvent")!;
  expect(created.parent).toBe(folderIdOf(aliceId, notes.id));
  expect(Buffer.from(created.itemId!, "base64").toString()).toBe(`I:${aliceId}:N:${item.id}`);
  await env.srv.store.updateItem(item.id, { itemClass: "notes", body: journal("Second"), fields: { subject: "Second" } });
  r = await collect(env, A, s.id, r.watermark, (ev) => ev.some((e) => e.type === "ModifiedEvent"));
  expect(r.events.find((e) => e.type === "ModifiedEvent")!.itemId).toBe(created.itemId);
  await env.srv.store.deleteItem(item.id);
  r = await collect(env, A, s.id, r.watermark, (ev) => ev.some((e) => e.type === "DeletedEvent"));
  expect(r.events.find((e) => e.type === "DeletedEvent")!.itemId).toBe(created.itemId);
});

test("calendar: an event written through the groupware service (as CalDAV does) gives CreatedEvent and FreeBusyChangedEvent in the calendar", async () => {
  const s = await subscribe(env, A, pullRequest(`<t:FolderIds><t:DistinguishedFolderId Id="calendar"/></t:FolderIds>`, ["CreatedEvent", "FreeBusyChangedEvent"]));
  expect(s.code).toBe("NoError");
  const account = (await env.srv.store.getAccountById(aliceId))!;
  const gw = env.srv.ctx.groupware;
  const cal = (await gw.listCollections(account, "calendar"))[0]!;
  const ics = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//EN", "BEGIN:VEVENT", "UID:ews-fb-1", "DTSTAMP:20260301T100000Z", "DTSTART:20270301T100000Z", "DTEND:20270301T110000Z", "SUMMARY:Busy", "END:VEVENT", "END:VCALENDAR", ""].join("\r\n");
  await gw.putObject(cal, "ews-fb-1.ics", new TextEncoder().encode(ics));
  const r = await collect(env, A, s.id, s.watermark, (ev) => ev.some((e) => e.type === "FreeBusyChangedEvent") && ev.some((e) => e.type === "CreatedEvent"));
  const created = r.events.find((e) => e.type === "CreatedEvent")!;
  expect(created.parent).toBe(folderIdOf(aliceId, cal.id));
  expect(Buffer.from(created.itemId!, "base64").toString()).toMatch(new RegExp(`^I:${aliceId}:C:\\d+$`));
});

test("a subscription to one folder does not see another folder's changes", async () => {
  const s = await subscribe(env, A, pullRequest(`<t:FolderIds><t:DistinguishedFolderId Id="sentitems"/></t:FolderIds>`, ALL));
  expect(s.code).toBe("NoError");
  await deliver("not for sent");
  // Another subscription sees the delivery, so it has been published by the time this one is asked.
  const probe = await subscribe(env, A, pullRequest(inbox, ["NewMailEvent"]));
  await deliver("probe");
  await collect(env, A, probe.id, probe.watermark, (ev) => ev.length > 0);
  const r = await getEvents(env, A, s.id, s.watermark);
  expect(r.events.map((e) => e.type)).toEqual(["StatusEvent"]);
});

test("Unsubscribe ends a subscription; unknown and other users' ids answer ErrorSubscriptionNotFound", async () => {
  const s = await subscribe(env, B, pullRequest(inbox, ["NewMailEvent"]));
  // Alice cannot read or end Bob's subscription.
  expect((await getEvents(env, A, s.id, s.watermark)).code).toBe("ErrorSubscriptionNotFound");
  const u1 = await env.call(A.email, A.pass, `<m:Unsubscribe><m:SubscriptionId>${s.id}</m:SubscriptionId></m:Unsubscribe>`);
  expect(find(u1.body, "ResponseMessages", "UnsubscribeResponseMessage", "ResponseCode")?.text).toBe("ErrorSubscriptionNotFound");
  const u2 = await env.call(B.email, B.pass, `<m:Unsubscribe><m:SubscriptionId>${s.id}</m:SubscriptionId></m:Unsubscribe>`);
  expect(find(u2.body, "ResponseMessages", "UnsubscribeResponseMessage", "ResponseCode")?.text).toBe("NoError");
  expect((await getEvents(env, B, s.id, s.watermark)).code).toBe("ErrorSubscriptionNotFound");
  expect((await getEvents(env, B, "bm90LWEtc3Vic2NyaXB0aW9u", s.watermark)).code).toBe("ErrorSubscriptionNotFound");
});

test("Subscribe with an earlier watermark resumes: the changes since then come as events", async () => {
  const s = await subscribe(env, A, pullRequest(inbox, ALL));
  await env.call(A.email, A.pass, `<m:Unsubscribe><m:SubscriptionId>${s.id}</m:SubscriptionId></m:Unsubscribe>`);
  await deliver("while away");
  // The delivery has committed once the SMTP DATA was acknowledged.
  const again = await subscribe(env, A, pullRequest(inbox, ALL, `<t:Watermark>${s.watermark}</t:Watermark>`));
  expect(again.code).toBe("NoError");
  const r = await collect(env, A, again.id, again.watermark, (ev) => ev.some((e) => e.type === "CreatedEvent"));
  expect(r.events.find((e) => e.type === "CreatedEvent")!.parent).toBe(inboxId);
  const bad = await subscribe(env, A, pullRequest(inbox, ALL, `<t:Watermark>AAAA</t:Watermark>`));
  expect(bad.code).toBe("ErrorInvalidWatermark");
});

test("a full queue: the next GetEvents answers ErrorMissedNotificationEvents and the subscription ends", async () => {
  const saved = LIMITS.queue;
  LIMITS.queue = 3;
  try {
    const s = await subscribe(env, C, pullRequest(inbox, ["NewMailEvent", "CreatedEvent"]));
    for (let i = 0; i < 3; i++) await deliver(`flood ${i}`, C.email);
    const probe = await subscribe(env, C, pullRequest(inbox, ["NewMailEvent"]));
    await deliver("flood probe", C.email);
    await collect(env, C, probe.id, probe.watermark, (ev) => ev.length > 0);
    const r = await getEvents(env, C, s.id, s.watermark);
    expect(r.code).toBe("ErrorMissedNotificationEvents");
    expect((await getEvents(env, C, s.id, s.watermark)).code).toBe("ErrorSubscriptionNotFound");
  } finally {
    LIMITS.queue = saved;
  }
});

test("subscriptions per account are bounded: ErrorExceededSubscriptionCount", async () => {
  const D: User = { email: "dave@example.test", pass: "dave-password-12" };
  await createUser(env.srv.store, D.email, D.pass);
  const codes: string[] = [];
  for (let i = 0; i < LIMITS.perAccount + 1; i++) codes.push((await subscribe(env, D, pullRequest(inbox, ["NewMailEvent"]))).code);
  expect(codes.slice(0, LIMITS.perAccount).every((c) => c === "NoError")).toBe(true);
  expect(codes[LIMITS.perAccount]).toBe("ErrorExceededSubscriptionCount");
});

test("malformed and refused Subscribe requests get their codes, never a 500", async () => {
  const fault = async (inner: string) => {
    const r = await subscribe(env, A, inner);
    expect(r.status).toBeLessThan(500);
    return r.code;
  };
  expect(await fault(`<m:PullSubscriptionRequest>${inbox}<t:EventTypes/><t:Timeout>10</t:Timeout></m:PullSubscriptionRequest>`)).toBe("ErrorSchemaValidation");
  expect(await fault(pullRequest(inbox, ["ExplodedEvent"]))).toBe("ErrorSchemaValidation");
  expect(await fault(`<m:PullSubscriptionRequest>${inbox}<t:EventTypes><t:EventType>NewMailEvent</t:EventType></t:EventTypes><t:Timeout>0</t:Timeout></m:PullSubscriptionRequest>`)).toBe("ErrorSchemaValidation");
  expect(await fault(`<m:PullSubscriptionRequest>${inbox}<t:EventTypes><t:EventType>NewMailEvent</t:EventType></t:EventTypes><t:Timeout>1441</t:Timeout></m:PullSubscriptionRequest>`)).toBe("ErrorSchemaValidation");
  expect(await fault(`<m:PullSubscriptionRequest>${inbox}<t:EventTypes><t:EventType>NewMailEvent</t:EventType></t:EventTypes></m:PullSubscriptionRequest>`)).toBe("ErrorSchemaValidation");
  expect(await fault(pullRequest("", ["NewMailEvent"]))).toBe("ErrorInvalidSubscriptionRequest");
  expect(await fault(pullRequest(`<t:FolderIds><t:FolderId Id="!!!"/></t:FolderIds>`, ["NewMailEvent"]))).toBe("ErrorInvalidIdMalformed");
  expect(await fault(pullRequest(`<t:FolderIds><t:DistinguishedFolderId Id="voicemail"/></t:FolderIds>`, ["NewMailEvent"]))).toBe("ErrorFolderNotFound");
  expect(await fault(`<m:PushSubscriptionRequest>${inbox}<t:EventTypes><t:EventType>NewMailEvent</t:EventType></t:EventTypes><t:StatusFrequency>1</t:StatusFrequency><t:URL>https://127.0.0.1:1/x</t:URL></m:PushSubscriptionRequest>`)).toBe("ErrorInvalidRequest");
  expect(await fault(`<m:Nothing/>`)).toBe("ErrorSchemaValidation");
  // GetEvents without a watermark / with a foreign one.
  const s = await subscribe(env, A, pullRequest(inbox, ["NewMailEvent"]));
  const r = await env.call(A.email, A.pass, `<m:GetEvents><m:SubscriptionId>${s.id}</m:SubscriptionId></m:GetEvents>`);
  expect(r.status).toBe(400);
  expect((await getEvents(env, A, s.id, "V:1:99")).code).toBe("ErrorInvalidWatermark");
  expect((await getEvents(env, A, s.id, Buffer.from("W:1:99").toString("base64"))).code).toBe("ErrorInvalidWatermark");
});

test("expiry: a pull subscription not read within its Timeout is gone (ErrorSubscriptionNotFound), each read renews it; a streaming one lasts 30 minutes without a connection", () => {
  const store = env.srv.store;
  const t0 = Date.now();
  const pull = createSubscription(store, aliceId, { streaming: false, mask: 1, folders: null, root: false, modseq: 0, timeoutMs: 5 * 60_000 }, t0);
  expect(findSubscription(store, aliceId, pull.id, t0 + 4 * 60_000)).toBe(pull);
  touch(pull, t0 + 4 * 60_000); // what GetEvents does
  expect(findSubscription(store, aliceId, pull.id, t0 + 8 * 60_000)).toBe(pull);
  expect(findSubscription(store, aliceId, pull.id, t0 + 9 * 60_000 + 1)).toBeNull();
  // Gone for good, not only hidden.
  expect(findSubscription(store, aliceId, pull.id, t0)).toBeNull();
  const streaming = createSubscription(store, aliceId, { streaming: true, mask: 1, folders: null, root: false, modseq: 0, timeoutMs: 0 }, t0);
  expect(findSubscription(store, aliceId, streaming.id, t0 + LIMITS.streamingIdleMs - 1)).toBe(streaming);
  expect(findSubscription(store, aliceId, streaming.id, t0 + LIMITS.streamingIdleMs)).toBeNull();
  // Another server's store never finds this account's subscriptions.
  const other = createSubscription(store, aliceId, { streaming: false, mask: 1, folders: null, root: false, modseq: 0, timeoutMs: 60_000 }, t0);
  expect(findSubscription({} as typeof store /* another server's store object */, aliceId, other.id, t0)).toBeNull();
  expect(findSubscription(store, aliceId + 1, other.id, t0)).toBeNull();
  removeSubscription(other);
});
