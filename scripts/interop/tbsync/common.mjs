/**
 * Shared by the EAS-4-TbSync harness and its scenes: the command line, the
 * stand-in environment (installed once, at import), the check counters and
 * helpers, and CalDAV/CardDAV access for the test account.
 */
import { pathToFileURL } from "node:url";
import { join } from "node:path";
import { installHostEnv, VTIMEZONES } from "./host-env.mjs";
export { VTIMEZONES };

export function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`missing --${name}`);
  return v;
}

export const SRC = arg("src");
export const PORT = Number(arg("port"));
export const HTTP_PORT = Number(arg("http-port", "0"));
export const JSDOM = arg("jsdom");
export const AS_VERSION = arg("as-version", "auto");
export const DOMAIN = "interop.test";
export const USER = `alice@${DOMAIN}`;
export const PASS = "interop-pass-1";
export const DAV = `https://localhost:${PORT}/dav`;
export const AUTH = "Basic " + Buffer.from(`${USER}:${PASS}`).toString("base64");

export const env = installHostEnv({ srcDir: SRC, domain: DOMAIN, httpsPort: PORT, httpPort: HTTP_PORT, jsdomDir: JSDOM });
export const mod = (p) => import(pathToFileURL(join(SRC, p)).href);

// ── checks ────────────────────────────────────────────────────────────────
let passed = 0;
let failed = 0;
export function check(name, ok, detail = "") {
  if (ok) {
    passed++;
    console.log(`PASS ${name}`);
  } else {
    failed++;
    console.log(`FAIL ${name}${detail ? ` -- ${String(detail).slice(0, 600)}` : ""}`);
  }
  return !!ok;
}
export async function step(name, fn) {
  try {
    return await fn();
  } catch (e) {
    check(name, false, `${e?.code ? e.code + " " : ""}${e?.message ?? e}`);
    return undefined;
  }
}
export const unfold = (s) => String(s ?? "").replace(/\r?\n[ \t]/g, "");
/** The text without VTIMEZONE blocks (their DTSTART/RRULE are not the item's). */
export const noZones = (s) => unfold(s).replace(/BEGIN:VTIMEZONE[\s\S]*?END:VTIMEZONE\r?\n?/g, "");
export const prop = (text, name) => {
  const m = new RegExp(`^${name}(?:;[^:\\r\\n]*)?:(.*)$`, "mi").exec(noZones(text));
  return m ? m[1].trim() : null;
};
export const propLine = (text, name) => {
  const m = new RegExp(`^${name}(?:;[^:\\r\\n]*)?:.*$`, "mi").exec(noZones(text));
  return m ? m[0] : null;
};

// ── CalDAV / CardDAV ──────────────────────────────────────────────────────
export async function dav(method, path, { body, headers = {} } = {}) {
  const r = await fetch(path.startsWith("http") ? path : DAV + path, { method, body, headers: { authorization: AUTH, ...headers } });
  return { status: r.status, etag: r.headers.get("etag"), text: await r.text() };
}
export async function put(path, body, type) {
  const r = await dav("PUT", path, { body, headers: { "content-type": type } });
  if (r.status >= 300) throw new Error(`PUT ${path}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
  return r;
}
/** Every object of a collection: [{href, body}]. */
export async function list(collection) {
  const r = await dav("PROPFIND", collection, {
    headers: { depth: "1", "content-type": "application/xml" },
    body: '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>',
  });
  if (r.status !== 207) throw new Error(`PROPFIND ${collection}: HTTP ${r.status}`);
  const hrefs = [...r.text.matchAll(/<(?:[a-z]+:)?href>([^<]+)<\/(?:[a-z]+:)?href>/gi)].map((m) => m[1]).filter((h) => /\.(ics|vcf)$/.test(h) || !h.endsWith("/"));
  const out = [];
  for (const href of hrefs) {
    const g = await dav("GET", new URL(href, DAV + "/").href);
    if (g.status === 200) out.push({ href, body: g.text, etag: g.etag });
  }
  return out;
}

/** A 1x1 PNG, the photo of a contact made in Thunderbird. */
export const PHOTO_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
export const CAL = `/calendars/${USER}/Calendar/`;
export const TASKS = `/calendars/${USER}/Tasks/`;
export const BOOK = `/addressbooks/${USER}/Contacts/`;
export const vcal = (...lines) => ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Pillarbox interop//EN", ...lines, "END:VCALENDAR", ""].join("\r\n");

export async function seed() {
  await dav("PROPFIND", `/calendars/${USER}/`, { headers: { depth: "1" } });
  await dav("PROPFIND", `/addressbooks/${USER}/`, { headers: { depth: "1" } });
  await put(
    CAL + "weekly.ics",
    vcal(
      VTIMEZONES["Europe/Berlin"],
      "BEGIN:VEVENT",
      "UID:interop-weekly-1",
      "DTSTAMP:20261201T000000Z",
      "DTSTART;TZID=Europe/Berlin:20270105T100000",
      "DTEND;TZID=Europe/Berlin:20270105T110000",
      "RRULE:FREQ=WEEKLY;COUNT=6",
      "SUMMARY:Interop weekly",
      "LOCATION:Room 1",
      "DESCRIPTION:Weekly sync meeting",
      `ORGANIZER;CN=Alice Interop:mailto:${USER}`,
      `ATTENDEE;CN=Bob Organizer;PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT:mailto:bob@${DOMAIN}`,
      "CATEGORIES:Interop",
      "END:VEVENT",
      "BEGIN:VEVENT",
      "UID:interop-weekly-1",
      "DTSTAMP:20261201T000000Z",
      "RECURRENCE-ID;TZID=Europe/Berlin:20270112T100000",
      "DTSTART;TZID=Europe/Berlin:20270112T140000",
      "DTEND;TZID=Europe/Berlin:20270112T150000",
      "SUMMARY:Interop weekly (moved)",
      `ORGANIZER;CN=Alice Interop:mailto:${USER}`,
      `ATTENDEE;CN=Bob Organizer;PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT:mailto:bob@${DOMAIN}`,
      "END:VEVENT",
    ),
    "text/calendar",
  );
  await put(
    CAL + "allday.ics",
    vcal("BEGIN:VEVENT", "UID:interop-allday-1", "DTSTAMP:20261201T000000Z", "DTSTART;VALUE=DATE:20270120", "DTEND;VALUE=DATE:20270121", "SUMMARY:Interop all-day", "TRANSP:TRANSPARENT", "END:VEVENT"),
    "text/calendar",
  );
  await put(
    CAL + "single.ics",
    vcal(
      "BEGIN:VEVENT",
      "UID:interop-single-1",
      "DTSTAMP:20261201T000000Z",
      "DTSTART:20270107T130000Z",
      "DTEND:20270107T143000Z",
      "SUMMARY:Interop single",
      "DESCRIPTION:Line one\\nLine two",
      "CLASS:PRIVATE",
      "X-PILLARBOX-INTEROP:keep-me",
      "BEGIN:VALARM",
      "ACTION:DISPLAY",
      "DESCRIPTION:Reminder",
      "TRIGGER:-PT15M",
      "END:VALARM",
      "END:VEVENT",
    ),
    "text/calendar",
  );
  await put(
    TASKS + "task.ics",
    vcal(
      "BEGIN:VTODO",
      "UID:interop-task-1",
      "DTSTAMP:20261201T000000Z",
      "DTSTART;VALUE=DATE:20270110",
      "DUE;VALUE=DATE:20270115",
      "SUMMARY:Interop task",
      "DESCRIPTION:Seeded over CalDAV",
      "PRIORITY:1",
      "STATUS:NEEDS-ACTION",
      "END:VTODO",
    ),
    "text/calendar",
  );
  await put(
    TASKS + "task2.ics",
    vcal("BEGIN:VTODO", "UID:interop-task-2", "DTSTAMP:20261201T000000Z", "DUE;VALUE=DATE:20270118", "SUMMARY:Interop task to delete over CalDAV", "END:VTODO"),
    "text/calendar",
  );
  await put(
    BOOK + "carol.vcf",
    [
      "BEGIN:VCARD",
      "VERSION:3.0",
      "UID:interop-contact-1",
      "FN:Carol Interop",
      "N:Interop;Carol;;;",
      "EMAIL;TYPE=INTERNET,WORK:carol@example.org",
      "EMAIL;TYPE=INTERNET,HOME:carol.home@example.org",
      "TEL;TYPE=WORK,VOICE:+1 555 0100",
      "TEL;TYPE=CELL:+1 555 0101",
      "ADR;TYPE=WORK:;;1 Main St;Springfield;IL;62701;USA",
      "ORG:Interop Corp",
      "TITLE:Engineer",
      "BDAY:1990-04-01",
      "NOTE:Seeded over CardDAV",
      "X-PILLARBOX-INTEROP:keep-me",
      "END:VCARD",
      "",
    ].join("\r\n"),
    "text/vcard",
  );
}

// ── the run ───────────────────────────────────────────────────────────────

/** The counts so far. */
export function counts() {
  return { passed, failed };
}
