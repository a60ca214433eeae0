/**
 * Held Pings of many devices of one account (issue 16, done-when 3): they
 * share one event-bus subscription and one heartbeat wheel
 * (protocols/http/eas/commands/wait.ts), and one CalDAV PUT into the
 * calendar still answers every one of them with Status 2 over HTTPS. A
 * device whose Ping watches only its Inbox stays held through that change,
 * a new Ping from it ends the old one (Status 1), a device that goes away
 * leaves nothing behind, and when no Ping is left the account has no
 * subscription.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { el, kid, kids, kidText, text, type EasClient } from "./client.ts";
import { createUser, startEas, type EasEnv } from "./helpers.ts";
import { libwbxmlAvailable } from "./libwbxml.ts";
import { calendarDevice, calOptions, davOf, pull, simpleEvent, type Dav } from "./groupware-calendar-helpers.ts";
import { activeWaits } from "../../protocols/http/eas/commands/wait.ts";
import type { Account } from "../../storage/api.ts";

const USER = "fanout@example.test";
const PASS = "fanout-secret-1";
let env: EasEnv;
let dav: Dav;
let account: Account;

beforeAll(async () => {
  if (process.env.CI === "true" && !libwbxmlAvailable()) throw new Error("libwbxml2-utils (xml2wbxml) is required in CI");
  env = await startEas();
  dav = davOf(env);
  account = await createUser(env.srv.store, USER, PASS);
});
afterAll(async () => {
  expect(env.libwbxml().mismatches).toEqual([]);
  await env.close();
});

const ping = (c: EasClient, folder: string, cls: string, signal?: AbortSignal) =>
  c.send("Ping", el("Ping:Ping", el("Ping:HeartbeatInterval", "900"), el("Ping:Folders", el("Ping:Folder", el("Ping:Id", folder), el("Ping:Class", cls)))), { signal });

/** Listeners the store's in-process bus holds for the account (storage/events.ts keeps them by account id). */
function busListeners(): number {
  // A look inside the bus: the point of the test is how many subscriptions the held Pings make.
  const bus = env.srv.store.events as unknown as { listeners?: Map<number, Set<unknown>> };
  return bus.listeners?.get(account.id)?.size ?? 0;
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!ok()) throw new Error(`timed out waiting for ${what}`);
}

test("one CalDAV change answers every device's held calendar Ping with Status 2 through one subscription", async () => {
  const versions = ["12.1", "14.0", "14.1", "16.0", "16.1", "14.1", "16.1", "14.1"];
  const devices: { c: EasClient; cal: string }[] = [];
  for (const [i, v] of versions.entries()) {
    const d = await calendarDevice(env, USER, PASS, `FANOUT${i}`, v);
    await pull(d.c, d.cal);
    devices.push(d);
  }
  // One more device watching only its Inbox: the calendar change is not for it.
  const mail = env.client({ user: USER, pass: PASS, deviceId: "FANOUTMAIL", version: "14.1" });
  await mail.provision();
  await mail.folderSync();
  const inbox = mail.folders.find((f) => f.type === 2)!.serverId;
  expect((await mail.sync(inbox)).status).toBe("1");
  expect((await mail.sync(inbox)).status).toBe("1");

  const before = activeWaits();
  const listenersBefore = busListeners();
  const held = devices.map((d) => ping(d.c, d.cal, "Calendar"));
  const mailPing = ping(mail, inbox, "Email");
  await until("every Ping held", () => activeWaits() === before + devices.length + 1);
  // Nine long polls of one account: one more listener on the bus, not nine.
  expect(busListeners()).toBe(listenersBefore + 1);

  const put = await dav.put(USER, PASS, "fanout-1.ics", simpleEvent("fanout-1@example.test", "20270310T090000Z", "20270310T100000Z", "Wakes every phone"));
  expect(put.status).toBe(201);
  const answers = await Promise.all(held);
  for (const [i, r] of answers.entries()) {
    expect(kidText(r.doc!, "Ping:Status")).toBe("2");
    expect(kids(kid(r.doc!, "Ping:Folders"), "Ping:Folder").map(text)).toEqual([devices[i]!.cal]);
  }
  // Each device then finds the new event with its next Sync.
  for (const d of devices) {
    const r = await d.c.sync(d.cal, { options: calOptions() });
    expect(r.status).toBe("1");
    expect(kids(kid(r.coll, "AirSync:Commands"), "AirSync:Add").length).toBe(1);
  }

  // The Inbox Ping is still held; a new Ping from the same device ends it with Status 1.
  expect(activeWaits()).toBe(before + 1);
  const abort = new AbortController();
  const second = ping(mail, inbox, "Email", abort.signal).catch(() => null);
  expect(kidText((await mailPing).doc!, "Ping:Status")).toBe("1");
  await until("the second Inbox Ping held", () => activeWaits() === before + 1);
  // The device goes away: its poll ends, and with no Ping left the account's subscription is gone.
  abort.abort();
  await second;
  await until("no Ping left", () => activeWaits() === before);
  expect(busListeners()).toBe(listenersBefore);
});

test("a folder change answers every held Ping of the account with Status 7", async () => {
  const a = await calendarDevice(env, USER, PASS, "FANOUTH1", "14.1");
  const b = await calendarDevice(env, USER, PASS, "FANOUTH2", "16.1");
  await pull(a.c, a.cal);
  await pull(b.c, b.cal);
  const before = activeWaits();
  const held = [ping(a.c, a.cal, "Calendar"), ping(b.c, b.cal, "Calendar")];
  await until("both Pings held", () => activeWaits() === before + 2);
  await env.srv.store.createFolder(account.id, "Fanout folder");
  for (const r of await Promise.all(held)) expect(kidText(r.doc!, "Ping:Status")).toBe("7");
  expect(activeWaits()).toBe(before);
});

test("a Sync with HeartbeatInterval held beside other devices' Pings answers with the new event", async () => {
  const s = await calendarDevice(env, USER, PASS, "FANOUTSYNC", "14.1");
  const p = await calendarDevice(env, USER, PASS, "FANOUTPING", "16.1");
  await pull(s.c, s.cal);
  await pull(p.c, p.cal);
  const before = activeWaits();
  const waiting = s.c.send(
    "Sync",
    el("AirSync:Sync", el("AirSync:Collections", el("AirSync:Collection", el("AirSync:SyncKey", s.c.syncKeys.get(s.cal)!), el("AirSync:CollectionId", s.cal), el("AirSync:Options", calOptions()))), el("AirSync:HeartbeatInterval", "120")),
  );
  const pinged = ping(p.c, p.cal, "Calendar");
  await until("the Sync and the Ping held", () => activeWaits() === before + 2);
  expect((await dav.put(USER, PASS, "fanout-2.ics", simpleEvent("fanout-2@example.test", "20270311T090000Z", "20270311T100000Z", "Wakes a Sync"))).status).toBe(201);
  const r = await waiting;
  const coll = kid(kid(r.doc!, "AirSync:Collections"), "AirSync:Collection");
  expect(kidText(coll, "AirSync:Status")).toBe("1");
  const adds = kids(kid(coll, "AirSync:Commands"), "AirSync:Add");
  expect(adds.map((a) => kidText(kid(a, "AirSync:ApplicationData"), "Calendar:Subject"))).toEqual(["Wakes a Sync"]);
  expect(kidText((await pinged).doc!, "Ping:Status")).toBe("2");
  expect(activeWaits()).toBe(before);
});
