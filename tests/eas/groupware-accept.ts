/**
 * Shared pieces of issue 16's acceptance tests (groupware-libwbxml.test.ts,
 * groupware-roundtrip.test.ts): CalDAV/CardDAV with curl against the same
 * server the ActiveSync clients talk to, and the folder, sync and item
 * commands as a device sends them.
 */
import { expect } from "bun:test";
import { curl, texts, xmlHeaders, type CurlResult, type DavServer } from "../dav/core-helpers.ts";
import { appData, commandsOf, el, kid, kids, kidText, type EasClient } from "./client.ts";
import type { WElement } from "../../protocols/http/eas/wbxml/tree.ts";
import type { EasEnv } from "./helpers.ts";

export const ICS = { "content-type": "text/calendar; charset=utf-8" };
export const VCF = { "content-type": "text/vcard; charset=utf-8" };

export function davOf(env: EasEnv): DavServer {
  return { srv: env.srv, base: `https://127.0.0.1:${env.port}`, close: () => env.close() };
}

export interface DavUser {
  d: DavServer;
  user: string;
  pass: string;
}

export function dav(u: DavUser, method: string, path: string, o: { body?: string; headers?: Record<string, string> } = {}): Promise<CurlResult> {
  return curl(u.d, method, path, { user: u.user, pass: u.pass, ...o });
}

export const calHome = (u: string) => `/dav/calendars/${u}/`;
export const bookHome = (u: string) => `/dav/addressbooks/${u}/`;

/** hrefs of a collection's members (PROPFIND Depth 1, the collection itself left out). */
export async function members(u: DavUser, coll: string): Promise<string[]> {
  const r = await dav(u, "PROPFIND", coll, { headers: xmlHeaders("1"), body: `<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>` });
  expect(r.status).toBe(207);
  return texts(r.body, "href").filter((h) => h !== coll && !h.endsWith("/"));
}

/** The bodies of a collection's members, by href. */
export async function bodies(u: DavUser, coll: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const h of await members(u, coll)) {
    const g = await dav(u, "GET", h);
    if (g.status === 200) out.set(h, g.body);
  }
  return out;
}

/** Display names of the collections in a DAV home (PROPFIND Depth 1). */
export async function displayNames(u: DavUser, home: string): Promise<string[]> {
  const r = await dav(u, "PROPFIND", home, { headers: xmlHeaders("1"), body: `<d:propfind xmlns:d="DAV:"><d:prop><d:displayname/></d:prop></d:propfind>` });
  expect(r.status).toBe(207);
  return texts(r.body, "displayname");
}

export function vevent(uid: string, summary: string, o: { start?: string; end?: string; extra?: string[] } = {}): string {
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Pillarbox acceptance//EN",
    "BEGIN:VEVENT",
    `UID:${uid}`,
    "DTSTAMP:20260301T000000Z",
    `DTSTART:${o.start ?? "20260316T100000Z"}`,
    `DTEND:${o.end ?? "20260316T110000Z"}`,
    `SUMMARY:${summary}`,
    ...(o.extra ?? []),
    "END:VEVENT",
    "END:VCALENDAR",
    "",
  ].join("\r\n");
}

export function vtodo(uid: string, summary: string): string {
  return ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Pillarbox acceptance//EN", "BEGIN:VTODO", `UID:${uid}`, "DTSTAMP:20260301T000000Z", "DUE:20260320T170000Z", `SUMMARY:${summary}`, "STATUS:NEEDS-ACTION", "X-ACCEPT-KEEP:yes", "END:VTODO", "END:VCALENDAR", ""].join("\r\n");
}

export function vcard(uid: string, first: string, last: string): string {
  return ["BEGIN:VCARD", "VERSION:3.0", `UID:${uid}`, `FN:${first} ${last}`, `N:${last};${first};;;`, `EMAIL;TYPE=INTERNET:${first.toLowerCase()}@example.net`, "X-ACCEPT-KEEP:yes", "END:VCARD", ""].join("\r\n");
}

/** An EAS TIMEZONE blob for UTC (MS-ASDTYPE §2.6.4: bias 0, no names, no transitions): 172 zero bytes. */
export const UTC_TIMEZONE = Buffer.alloc(172).toString("base64");

/** A device's new event (MS-ASCAL) for protocol `version`. */
export function deviceEvent(version: string, subject: string, o: { start?: string; end?: string; uid?: string } = {}): WElement[] {
  const v = Number(version);
  return [
    el("Calendar:Timezone", UTC_TIMEZONE),
    el("Calendar:AllDayEvent", "0"),
    el("Calendar:BusyStatus", "2"),
    v < 16 && el("Calendar:DtStamp", "20260301T000000Z"),
    el("Calendar:EndTime", o.end ?? "20260317T150000Z"),
    el("Calendar:Sensitivity", "0"),
    el("Calendar:StartTime", o.start ?? "20260317T140000Z"),
    el("Calendar:Subject", subject),
    v < 16 ? el("Calendar:UID", o.uid ?? `dev-${subject.replace(/\W/g, "")}`) : el("Calendar:ClientUid", o.uid ?? `dev-${subject.replace(/\W/g, "")}`),
    v < 16 && el("Calendar:MeetingStatus", "0"),
  ].filter((x): x is WElement => !!x && typeof x === "object");
}

export function deviceContact(first: string, last: string): WElement[] {
  return [el("Contacts:Email1Address", `"${first} ${last}" <${first.toLowerCase()}@example.org>`), el("Contacts:FileAs", `${last}, ${first}`), el("Contacts:FirstName", first), el("Contacts:LastName", last), el("Contacts:MobilePhoneNumber", "+1 555 0100")];
}

export function deviceTask(subject: string): WElement[] {
  return [el("Tasks:Subject", subject), el("Tasks:Importance", "1"), el("Tasks:UtcDueDate", "2026-03-20T17:00:00.000Z"), el("Tasks:DueDate", "2026-03-20T17:00:00.000Z"), el("Tasks:Complete", "0"), el("Tasks:Sensitivity", "0"), el("Tasks:ReminderSet", "0")];
}

export function deviceNote(subject: string): WElement[] {
  return [el("AirSyncBase:Body", el("AirSyncBase:Type", "1"), el("AirSyncBase:Data", `${subject} text`)), el("Notes:Subject", subject), el("Notes:MessageClass", "IPM.StickyNote")];
}

/** The Options children of a Sync for a class (EasClient.syncDoc wraps them). */
export function syncOptions(className: string, version: string): WElement[] {
  return [Number(version) >= 14 ? el("AirSync:Class", className) : null, el("AirSync:FilterType", "0"), el("AirSyncBase:BodyPreference", el("AirSyncBase:Type", "1"), el("AirSyncBase:TruncationSize", "32768"))].filter((x): x is WElement => x !== null);
}

/** Syncs a collection until nothing more is available; every Add, Change and Delete seen. */
export async function drain(c: EasClient, coll: string, options: WElement[]): Promise<{ adds: WElement[]; changes: WElement[]; deletes: WElement[] }> {
  const out = { adds: [] as WElement[], changes: [] as WElement[], deletes: [] as WElement[] };
  for (let i = 0; i < 50; i++) {
    const s = await c.sync(coll, { options, windowSize: 100 });
    expect(s.status).toBe("1");
    const cmds = commandsOf(s.coll);
    out.adds.push(...cmds.adds);
    out.changes.push(...cmds.changes);
    out.deletes.push(...cmds.deletes, ...cmds.softDeletes);
    if (!kid(s.coll, "AirSync:MoreAvailable")) return out;
  }
  throw new Error("the sync never finished");
}

/** Starts a collection's sync (SyncKey 0) and takes everything in it. */
export async function initialSync(c: EasClient, coll: string, options: WElement[]): Promise<WElement[]> {
  c.syncKeys.set(coll, "0");
  const first = await c.sync(coll, { options });
  expect(first.status).toBe("1");
  return (await drain(c, coll, options)).adds;
}

/** A device Add; returns the new ServerId (asserting Status 1). */
export async function deviceAdd(c: EasClient, coll: string, options: WElement[], data: WElement[], clientId = "c1"): Promise<string> {
  const s = await c.sync(coll, { options, commands: [el("AirSync:Add", el("AirSync:ClientId", clientId), el("AirSync:ApplicationData", data))] });
  expect(s.status).toBe("1");
  const r = kids(kid(s.coll, "AirSync:Responses"), "AirSync:Add").find((a) => kidText(a, "AirSync:ClientId") === clientId);
  expect([clientId, kidText(r, "AirSync:Status")]).toEqual([clientId, "1"]);
  return kidText(r, "AirSync:ServerId")!;
}

/** A device Change or Delete; returns the per-item Status ("1" when the server sent none). */
export async function deviceCommand(c: EasClient, coll: string, options: WElement[], cmd: WElement): Promise<string> {
  const s = await c.sync(coll, { options, commands: [cmd] });
  expect(s.status).toBe("1");
  const r = kids(kid(s.coll, "AirSync:Responses")).find((x) => x.name === cmd.name);
  return kidText(r, "AirSync:Status") ?? "1";
}

export const change = (serverId: string, data: WElement[]) => el("AirSync:Change", el("AirSync:ServerId", serverId), el("AirSync:ApplicationData", data));
export const del = (serverId: string) => el("AirSync:Delete", el("AirSync:ServerId", serverId));

/** The text of an element of an Add/Change's ApplicationData. */
export function field(cmd: WElement, qname: string): string | undefined {
  return kidText(appData(cmd), qname);
}

export async function folderCommand(c: EasClient, cmd: "FolderCreate" | "FolderUpdate" | "FolderDelete", children: WElement[]): Promise<{ status: string | undefined; serverId: string | undefined }> {
  const r = await c.send(cmd, el(`FolderHierarchy:${cmd}`, el("FolderHierarchy:SyncKey", c.folderSyncKey), children));
  expect(r.status).toBe(200);
  const status = kidText(r.doc!, "FolderHierarchy:Status");
  if (status === "1") c.folderSyncKey = kidText(r.doc!, "FolderHierarchy:SyncKey")!;
  return { status, serverId: kidText(r.doc!, "FolderHierarchy:ServerId") };
}
