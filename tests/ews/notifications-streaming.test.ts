/**
 * Streaming subscriptions (MS-OXWSNTIF §3.1.4.3) over a real HTTPS
 * connection: events arrive on the open response, heartbeats when idle,
 * "Closed" at ConnectionTimeout, one connection per subscription, unknown
 * ids, refused versions, and a client that stops reading is dropped.
 * The minute and the heartbeat are shortened (STREAMING) so the test runs in
 * seconds; what is checked is the order of envelopes, not their timing.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import https from "node:https";
import { LIMIT_CONNECTIONS, STREAMING, streamStats } from "../../protocols/http/ews/notifications-stream.ts";
import { registryStats } from "../../protocols/http/ews/notifications-registry.ts";
import { smtpSend } from "../reliability/lib/conn.ts";
import { createUser, envelope, find, startEws, type EwsEnv } from "./helpers.ts";
import { connectionStatus, streamEvents, streamMessage, StreamReader, subscribe, type User } from "./notifications-helpers.ts";

const A: User = { email: "alice@example.test", pass: "alice-password-1" };
const B: User = { email: "bob@example.test", pass: "bob-password-12" };
let env: EwsEnv;

const streamingRequest = (folders = `<t:FolderIds><t:DistinguishedFolderId Id="inbox"/></t:FolderIds>`) =>
  `<m:StreamingSubscriptionRequest>${folders}<t:EventTypes><t:EventType>NewMailEvent</t:EventType><t:EventType>CreatedEvent</t:EventType></t:EventTypes></m:StreamingSubscriptionRequest>`;
const getStreaming = (ids: string[], minutes = 1) => `<m:GetStreamingEvents><m:SubscriptionIds>${ids.map((id) => `<t:SubscriptionId>${id}</t:SubscriptionId>`).join("")}</m:SubscriptionIds><m:ConnectionTimeout>${minutes}</m:ConnectionTimeout></m:GetStreamingEvents>`;

async function deliver(subject: string, to = A.email): Promise<void> {
  const data = `From: bob@example.test\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <${Date.now()}.${Math.random()}@example.test>\r\n\r\nHi\r\n`;
  expect((await smtpSend({ port: env.srv.port("SMTP"), from: "bob@example.test", to: [to], data })).code).toBe(250);
}

const saved = { ...STREAMING };
beforeAll(async () => {
  STREAMING.minuteMs = 3000;
  STREAMING.heartbeatMs = 400;
  env = await startEws();
  await createUser(env.srv.store, A.email, A.pass);
  await createUser(env.srv.store, B.email, B.pass);
});
afterAll(async () => {
  Object.assign(STREAMING, saved);
  await env.close();
});

test("a streaming subscription delivers a new message on the open connection, heartbeats when idle, and says Closed at its timeout", async () => {
  const s = await subscribe(env, A, streamingRequest());
  expect(s.code).toBe("NoError");
  expect(s.watermark).toBe(""); // streaming subscriptions have no watermark (Messages.xsd SubscribeResponseMessageType)
  const st = await StreamReader.open(env, A, getStreaming([s.id]));
  expect(st.status).toBe(200);
  const first = await st.waitFor((e) => connectionStatus(e) === "OK");
  await deliver("streamed");
  const withEvents = await st.waitFor((e) => streamEvents(e).length > 0, first + 1);
  const events = streamEvents(st.envelopes[withEvents]!);
  expect(events.map((e) => e.type)).toContain("NewMailEvent");
  expect(find(streamMessage(st.envelopes[withEvents]!), "Notifications", "Notification", "SubscriptionId")?.text).toBe(s.id);
  // Idle: a heartbeat (OK, no events) after the events.
  await st.waitFor((e) => connectionStatus(e) === "OK" && streamEvents(e).length === 0, withEvents + 1);
  // ConnectionTimeout (1 "minute"): Closed, then the response ends.
  await st.waitFor((e) => connectionStatus(e) === "Closed");
  await st.waitEnd();
  // The subscription outlives its connection: events wait for the next one.
  await deliver("while closed");
  const st2 = await StreamReader.open(env, A, getStreaming([s.id]));
  await st2.waitFor((e) => streamEvents(e).some((x) => x.type === "NewMailEvent"));
  st2.close();
});

test("a second connection takes a subscription over: the first is told ErrorNewEventStreamConnectionOpened", async () => {
  const s = await subscribe(env, A, streamingRequest());
  const one = await StreamReader.open(env, A, getStreaming([s.id]));
  await one.waitFor((e) => connectionStatus(e) === "OK");
  const two = await StreamReader.open(env, A, getStreaming([s.id]));
  await two.waitFor((e) => connectionStatus(e) === "OK");
  await one.waitFor((e) => find(streamMessage(e), "ResponseCode")?.text === "ErrorNewEventStreamConnectionOpened");
  await one.waitEnd();
  two.close();
});

test("Unsubscribe while streaming: the connection is told and, with nothing left to read, ends", async () => {
  const s = await subscribe(env, B, streamingRequest());
  const st = await StreamReader.open(env, B, getStreaming([s.id]));
  await st.waitFor((e) => connectionStatus(e) === "OK");
  const u = await env.call(B.email, B.pass, `<m:Unsubscribe><m:SubscriptionId>${s.id}</m:SubscriptionId></m:Unsubscribe>`);
  expect(find(u.body, "ResponseMessages", "UnsubscribeResponseMessage", "ResponseCode")?.text).toBe("NoError");
  await st.waitFor((e) => find(streamMessage(e), "ResponseCode")?.text === "ErrorSubscriptionNotFound" && connectionStatus(e) === "Closed");
  await st.waitEnd();
});

test("streaming connections per account are bounded: ErrorExceededConnectionCount", async () => {
  const C: User = { email: "carl@example.test", pass: "carl-password-12" };
  await createUser(env.srv.store, C.email, C.pass);
  const open: StreamReader[] = [];
  for (let i = 0; i < LIMIT_CONNECTIONS.perAccount; i++) {
    const s = await subscribe(env, C, streamingRequest());
    const st = await StreamReader.open(env, C, getStreaming([s.id]));
    await st.waitFor((e) => connectionStatus(e) === "OK");
    open.push(st);
  }
  const extra = await subscribe(env, C, streamingRequest());
  const r = await env.call(C.email, C.pass, getStreaming([extra.id]));
  expect(find(r.body, "ResponseMessages", "GetStreamingEventsResponseMessage", "ResponseCode")?.text).toBe("ErrorExceededConnectionCount");
  for (const st of open) st.close();
});

test("unknown, foreign and pull subscription ids: one Error message naming them, no stream", async () => {
  const pull = await subscribe(env, A, `<m:PullSubscriptionRequest><t:FolderIds><t:DistinguishedFolderId Id="inbox"/></t:FolderIds><t:EventTypes><t:EventType>NewMailEvent</t:EventType></t:EventTypes><t:Timeout>5</t:Timeout></m:PullSubscriptionRequest>`);
  const bobs = await subscribe(env, B, streamingRequest());
  for (const [id, code] of [
    ["bm9zdWNoc3Vic2NyaXB0aW9u", "ErrorSubscriptionNotFound"],
    [bobs.id, "ErrorSubscriptionNotFound"],
    [pull.id, "ErrorInvalidSubscription"],
  ] as const) {
    const r = await env.call(A.email, A.pass, getStreaming([id]));
    const msg = find(r.body, "ResponseMessages", "GetStreamingEventsResponseMessage");
    expect(find(msg, "ResponseCode")?.text).toBe(code);
    expect(find(msg, "ErrorSubscriptionIds", "SubscriptionId")?.text).toBe(id);
  }
});

test("malformed GetStreamingEvents and old versions are refused with their codes", async () => {
  const s = await subscribe(env, A, streamingRequest());
  for (const body of [getStreaming([s.id], 0), getStreaming([s.id], 31), `<m:GetStreamingEvents><m:ConnectionTimeout>1</m:ConnectionTimeout></m:GetStreamingEvents>`]) {
    const r = await env.call(A.email, A.pass, body);
    expect(r.status).toBe(400);
    expect(find(r.body, "detail", "ResponseCode")?.text).toBe("ErrorSchemaValidation");
  }
  // GetStreamingEvents and streaming subscriptions came with Exchange 2010 SP1.
  const old = await env.call(A.email, A.pass, getStreaming([s.id]), { version: "Exchange2010" });
  expect(find(old.body, "detail", "ResponseCode")?.text).toBe("ErrorInvalidRequest");
  const oldSub = await subscribe(env, A, streamingRequest(), { version: "Exchange2010" });
  expect(oldSub.code).toBe("ErrorInvalidRequest");
});

test("a client that stops reading is dropped; its subscription stays and reconnects", async () => {
  const s = await subscribe(env, A, `<m:StreamingSubscriptionRequest SubscribeToAllFolders="true"><t:EventTypes><t:EventType>CreatedEvent</t:EventType><t:EventType>ModifiedEvent</t:EventType></t:EventTypes></m:StreamingSubscriptionRequest>`);
  const body = envelope(getStreaming([s.id], 5));
  const req = https.request(
    { host: "127.0.0.1", port: env.port, method: "POST", path: "/EWS/Exchange.asmx", rejectUnauthorized: false, agent: false, headers: { authorization: "Basic " + Buffer.from(`${A.email}:${A.pass}`).toString("base64"), "content-type": "text/xml" } },
    (res) => {
      res.pause(); // never read
    },
  );
  req.on("error", () => {});
  req.end(body);
  // Many events, more than the socket and the stream's bound hold: 400 messages whose flag is switched on and off.
  const acct = (await env.srv.store.getAccount(A.email))!;
  const inbox = (await env.srv.store.listFolders(acct.id)).find((f) => f.name === "INBOX")!;
  const raw = new TextEncoder().encode(`From: a@example.test\r\nSubject: x\r\n\r\nhi\r\n`);
  const uids = (await env.srv.store.append(inbox.id, Array.from({ length: 400 }, () => ({ raw })))).map((r) => r.uid);
  const dropped = streamStats.droppedBehind;
  const until = Date.now() + 40_000;
  for (let i = 0; streamStats.droppedBehind === dropped && Date.now() < until; i++) {
    await env.srv.store.storeFlags(inbox.id, uids, i % 2 ? "remove" : "add", ["\\Flagged"]);
    await new Promise((r) => setTimeout(r, 10));
  }
  console.log(`stalled streaming client dropped after ${streamStats.bytes} bytes written in all`);
  expect(streamStats.droppedBehind).toBe(dropped + 1);
  req.destroy();
  expect(registryStats().subscriptions).toBeGreaterThan(0);
  // The subscription is still there: a new connection opens (its queue may have overflowed: then it reports the missed events).
  const st = await StreamReader.open(env, A, getStreaming([s.id]));
  await st.waitFor((e) => connectionStatus(e) === "OK" || find(streamMessage(e), "ResponseCode")?.text === "ErrorMissedNotificationEvents");
  st.close();
}, 60_000);
