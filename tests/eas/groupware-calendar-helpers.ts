/**
 * Shared pieces of the Calendar-over-ActiveSync tests: a CalDAV client
 * (curl against the same server's /dav/), a provisioned device with its
 * calendar folder, and the iCalendar fixtures.
 */
import { expect } from "bun:test";
import { curl, type CurlResult, type DavServer } from "../dav/core-helpers.ts";
import { appData, commandsOf, el, kid, kidText, type EasClient } from "./client.ts";
import type { EasEnv } from "./helpers.ts";
import type { WElement } from "../../protocols/http/eas/wbxml/tree.ts";
import { BERLIN } from "../dav/clients/fixtures.ts";

export interface Dav {
  put(user: string, pass: string, name: string, ics: string, ifMatch?: string): Promise<CurlResult>;
  get(user: string, pass: string, name: string): Promise<CurlResult>;
  list(user: string, pass: string): Promise<string[]>;
}

export function davOf(env: EasEnv): Dav {
  const d: DavServer = { srv: env.srv, base: `https://127.0.0.1:${env.port}`, close: async () => {} };
  const path = (user: string, name: string) => `/dav/calendars/${user}/Calendar/${name}`;
  return {
    put: (user, pass, name, ics, ifMatch) =>
      curl(d, "PUT", path(user, name), { user, pass, body: ics, headers: { "content-type": "text/calendar; charset=utf-8", ...(ifMatch ? { "if-match": ifMatch } : {}) } }),
    get: (user, pass, name) => curl(d, "GET", path(user, name), { user, pass }),
    async list(user, pass) {
      const r = await curl(d, "PROPFIND", `/dav/calendars/${user}/Calendar/`, { user, pass, headers: { depth: "1", "content-type": "application/xml" }, body: '<propfind xmlns="DAV:"><prop><getetag/></prop></propfind>' });
      return [...r.body.matchAll(/<(?:\w+:)?href>([^<]+\.ics)<\/(?:\w+:)?href>/g)].map((m) => decodeURIComponent(m[1]!.split("/").pop()!));
    },
  };
}

/** Unfolded iCalendar text (RFC 5545 §3.1), for matching whole lines. */
export function unfold(ics: string): string {
  return ics.replace(/\r\n[ \t]/g, "");
}

export const calOptions = (filterType = 0, bodyType = 1): WElement[] => [
  el("AirSync:FilterType", filterType),
  el("AirSync:Class", "Calendar"),
  el("AirSyncBase:BodyPreference", el("AirSyncBase:Type", bodyType), el("AirSyncBase:TruncationSize", "100000")),
];

/** Provisioned device with a folder list; returns the client and its default calendar's ServerId. */
export async function calendarDevice(env: EasEnv, user: string, pass: string, deviceId: string, version: string): Promise<{ c: EasClient; cal: string }> {
  const c = env.client({ user, pass, deviceId, version });
  await c.provision();
  expect(kidText((await c.folderSync()).doc!, "FolderHierarchy:Status")).toBe("1");
  const f = c.folders.find((x) => x.type === 8);
  expect(f?.displayName).toBe("Calendar");
  return { c, cal: f!.serverId };
}

/** Initial sync then every Add/Change the server has, by ServerId (follows MoreAvailable). */
export async function pull(c: EasClient, cal: string, filterType = 0): Promise<{ adds: Map<string, WElement>; changes: Map<string, WElement>; deletes: string[] }> {
  if (!c.syncKeys.get(cal) || c.syncKeys.get(cal) === "0") expect((await c.sync(cal, { options: calOptions(filterType) })).status).toBe("1");
  const adds = new Map<string, WElement>();
  const changes = new Map<string, WElement>();
  const deletes: string[] = [];
  for (let i = 0; i < 20; i++) {
    const r = await c.sync(cal, { options: calOptions(filterType), windowSize: 100 });
    expect(r.status).toBe("1");
    const cmds = commandsOf(r.coll);
    for (const a of cmds.adds) adds.set(kidText(a, "AirSync:ServerId")!, appData(a)!);
    for (const a of cmds.changes) changes.set(kidText(a, "AirSync:ServerId")!, appData(a)!);
    for (const a of cmds.deletes) deletes.push(kidText(a, "AirSync:ServerId")!);
    if (!kid(r.coll, "AirSync:MoreAvailable")) break;
  }
  return { adds, changes, deletes };
}

/** The per-command statuses of a Sync answer's Responses, by kind. */
export function responsesOf(coll: WElement | undefined): { kind: string; serverId?: string; clientId?: string; status?: string }[] {
  const out: { kind: string; serverId?: string; clientId?: string; status?: string }[] = [];
  const r = kid(coll, "AirSync:Responses");
  for (const x of r ? r.children : []) {
    if (typeof x !== "object" || x instanceof Uint8Array) continue;
    out.push({ kind: x.name, serverId: kidText(x, "AirSync:ServerId"), clientId: kidText(x, "AirSync:ClientId"), status: kidText(x, "AirSync:Status") });
  }
  return out;
}

export const BERLIN_VTIMEZONE = BERLIN;

/**
 * A weekly meeting organized by `organizer` on Mondays 10:00-11:00 Berlin
 * from 2026-12-07, 10 times; the 14th moved to 14:00 with its own title,
 * the 21st cancelled (EXDATE); a 15-minute alarm, two attendees, an
 * X- property and a parameter no ActiveSync element carries.
 */
export function weeklyMeeting(uid: string, organizer: string, attendees: { email: string; name: string; partstat: string; role?: string }[]): string {
  const att = attendees.map((a) => `ATTENDEE;CN=${a.name};PARTSTAT=${a.partstat};ROLE=${a.role ?? "REQ-PARTICIPANT"};RSVP=TRUE:mailto:${a.email}`);
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Other//CalDAV Client//EN",
    ...BERLIN_VTIMEZONE,
    "BEGIN:VEVENT",
    `UID:${uid}`,
    "DTSTAMP:20261201T120000Z",
    "SEQUENCE:0",
    "DTSTART;TZID=Europe/Berlin:20261207T100000",
    "DTEND;TZID=Europe/Berlin:20261207T110000",
    "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=10",
    "EXDATE;TZID=Europe/Berlin:20261221T100000",
    "SUMMARY:Team sync",
    "LOCATION:Room 4.2",
    "DESCRIPTION:Weekly agenda",
    "CATEGORIES:Work,Team",
    `ORGANIZER;CN=Organizer Person:mailto:${organizer}`,
    `ATTENDEE;CN=Organizer Person;PARTSTAT=ACCEPTED;ROLE=CHAIR:mailto:${organizer}`,
    ...att,
    "X-PILLARBOX-TEST;X-FLAVOUR=mint:kept across phone edits",
    "GEO:52.52;13.405",
    "BEGIN:VALARM",
    "ACTION:DISPLAY",
    "DESCRIPTION:Reminder",
    "TRIGGER:-PT15M",
    "END:VALARM",
    "END:VEVENT",
    "BEGIN:VEVENT",
    `UID:${uid}`,
    "DTSTAMP:20261201T120000Z",
    "SEQUENCE:0",
    "RECURRENCE-ID;TZID=Europe/Berlin:20261214T100000",
    "DTSTART;TZID=Europe/Berlin:20261214T140000",
    "DTEND;TZID=Europe/Berlin:20261214T150000",
    "SUMMARY:Team sync (afternoon)",
    "LOCATION:Room 4.2",
    "DESCRIPTION:Weekly agenda",
    "CATEGORIES:Work,Team",
    `ORGANIZER;CN=Organizer Person:mailto:${organizer}`,
    `ATTENDEE;CN=Organizer Person;PARTSTAT=ACCEPTED;ROLE=CHAIR:mailto:${organizer}`,
    ...att,
    "END:VEVENT",
    "END:VCALENDAR",
    "",
  ].join("\r\n");
}

export function simpleEvent(uid: string, start: string, end: string, summary: string, extra: string[] = []): string {
  const allDay = !start.includes("T");
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Other//CalDAV Client//EN",
    "BEGIN:VEVENT",
    `UID:${uid}`,
    "DTSTAMP:20261201T120000Z",
    allDay ? `DTSTART;VALUE=DATE:${start}` : `DTSTART:${start}`,
    allDay ? `DTEND;VALUE=DATE:${end}` : `DTEND:${end}`,
    `SUMMARY:${summary}`,
    ...extra,
    "END:VEVENT",
    "END:VCALENDAR",
    "",
  ].join("\r\n");
}

/** The resource name of an item a device added (ServerId "folder:item"). */
export async function resourceNameOf(env: EasEnv, serverId: string): Promise<string> {
  const item = await env.srv.store.getItem(Number(serverId.split(":")[1]));
  if (!item || item.itemClass !== "calendar" || !item.resourceName) throw new Error(`no calendar item for ${serverId}`);
  return item.resourceName;
}
