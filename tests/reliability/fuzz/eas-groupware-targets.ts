/**
 * Fuzz targets for the ActiveSync groupware converters
 * (protocols/http/eas/groupware/): a device's ApplicationData — decoded
 * from WBXML as the handler would — goes through each class's `fromEas`,
 * for an Add and as a Change of a stored object, for 14.1 and 16.1.
 * EasDataError (a Sync Status for the device) is the converter doing its
 * job; anything else thrown is a defect (the engine would answer a server
 * error), and so is a body that the same converter cannot read back.
 */
import fc from "fast-check";
import { calendarCodec } from "../../../protocols/http/eas/groupware/calendar.ts";
import { EasDataError, type CodecContext, type GroupwareCodec } from "../../../protocols/http/eas/groupware/codec.ts";
import { ContactCodec } from "../../../protocols/http/eas/groupware/contact.ts";
import { noteCodec } from "../../../protocols/http/eas/groupware/note.ts";
import { taskCodec } from "../../../protocols/http/eas/groupware/task.ts";
import { decode, encode, WbxmlError } from "../../../protocols/http/eas/wbxml/codec.ts";
import { pageByNamespace } from "../../../protocols/http/eas/wbxml/codepages.ts";
import { el, type WElement } from "../../../protocols/http/eas/wbxml/tree.ts";
import type { Account, Item } from "../../../storage/api.ts";
import type { Logger } from "../../../src/log.ts";
import type { FuzzTarget } from "./engine.ts";

const enc = new TextEncoder();
const NOW = Date.UTC(2026, 11, 7, 10, 0, 0);
const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent } as Logger;
const account = { id: 1, email: "alice@example.test", domainId: 1, quotaBytes: null, usedBytes: 0, settings: {}, createdAt: 0 } as unknown as Account;

function cx(version: number): CodecContext {
  return { version, account, body: { prefs: [{ type: 1 }], mimeSupport: 0 }, now: NOW, log: silent };
}

/** A stand-in for the store's item: the converters read only modifiedAt from it. */
const ITEM = { id: 1, accountId: 1, folderId: 1, uid: 1, modseq: 1, itemClass: "calendar", blobId: "", size: 0, resourceName: "x.ics", modifiedAt: NOW, fields: {} } as unknown as Item;

const lines = (l: string[]) => enc.encode(l.join("\r\n") + "\r\n");

const EVENT = lines([
  "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Fuzz//EN",
  "BEGIN:VTIMEZONE", "TZID:Europe/Berlin",
  "BEGIN:DAYLIGHT", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "DTSTART:19700329T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "END:DAYLIGHT",
  "BEGIN:STANDARD", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "DTSTART:19701025T030000", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "END:STANDARD",
  "END:VTIMEZONE",
  "BEGIN:VEVENT", "UID:fuzz-1", "DTSTAMP:20261201T000000Z", "DTSTART;TZID=Europe/Berlin:20261208T100000", "DTEND;TZID=Europe/Berlin:20261208T110000",
  "RRULE:FREQ=WEEKLY;COUNT=10;BYDAY=TU", "EXDATE;TZID=Europe/Berlin:20261222T100000", "SUMMARY:Weekly", "LOCATION:Room 1", "DESCRIPTION:Agenda",
  "ORGANIZER;CN=Bob:mailto:bob@example.test", "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:alice@example.test", "ATTENDEE;ROLE=OPT-PARTICIPANT:mailto:carol@example.test",
  "CATEGORIES:Work,Team", "CLASS:PRIVATE", "X-KEEP:me",
  "BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:R", "TRIGGER:-PT15M", "END:VALARM",
  "END:VEVENT",
  "BEGIN:VEVENT", "UID:fuzz-1", "DTSTAMP:20261201T000000Z", "RECURRENCE-ID;TZID=Europe/Berlin:20261215T100000", "DTSTART;TZID=Europe/Berlin:20261215T140000", "DTEND;TZID=Europe/Berlin:20261215T150000", "SUMMARY:Moved", "END:VEVENT",
  "END:VCALENDAR",
]);
const CONTACT = lines([
  "BEGIN:VCARD", "VERSION:3.0", "UID:fuzz-c", "FN:Ada Lovelace", "N:Lovelace;Ada;;;", "ORG:Engines;R&D", "TITLE:Analyst",
  "EMAIL;TYPE=INTERNET,WORK:ada@example.test", "EMAIL;TYPE=INTERNET,HOME:ada@home.test", "TEL;TYPE=CELL:+44 1", "TEL;TYPE=WORK:+44 2",
  "ADR;TYPE=WORK:;;1 Street;London;;N1;UK", "BDAY:1815-12-10", "NOTE:Counts", "CATEGORIES:Friends", "X-KEEP:me", "END:VCARD",
]);
const TODO = lines([
  "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Fuzz//EN", "BEGIN:VTODO", "UID:fuzz-t", "DTSTAMP:20261201T000000Z", "SUMMARY:Task", "DUE:20261210T170000Z",
  "DTSTART:20261201T090000Z", "PRIORITY:1", "RRULE:FREQ=MONTHLY;BYMONTHDAY=10", "CATEGORIES:Home", "X-KEEP:me",
  "BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:R", "TRIGGER;VALUE=DATE-TIME:20261210T080000Z", "END:VALARM", "END:VTODO", "END:VCALENDAR",
]);
const NOTE = lines(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Fuzz//EN", "BEGIN:VJOURNAL", "UID:fuzz-n", "DTSTAMP:20261201T000000Z", "SUMMARY:Note", "DESCRIPTION:Text", "CATEGORIES:Ideas", "X-KEEP:me", "END:VJOURNAL", "END:VCALENDAR"]);

/** Element names of a code page ("Calendar:StartTime"...). */
function names(ns: string): string[] {
  return [...(pageByNamespace(ns)?.tags.values() ?? [])].map((n) => `${ns}:${n}`);
}

/** Values a device sends, valid and not: dates in both forms and impossible ones, numbers at the edges, blobs, text. */
const valueArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "20261207T100000Z", "2026-12-07T10:00:00.000Z", "20261345T000000Z", "2026-02-30T10:00:00.000Z", "16010101T000000Z", "99991231T235959Z",
    "0", "1", "2", "3", "4", "5", "6", "7", "127", "999", "1000", "100000", "-1", "4294967296", "",
    Buffer.alloc(172).toString("base64"),
    "bob@example.test", "Bob <bob@example.test>", "a@b", "@@", "Europe/Berlin", "<p>html</p>", "line\r\nbreak", "\u0001\u0002ctrl", "x".repeat(5000),
  ),
  fc.string({ maxLength: 40 }),
  fc.integer().map(String),
).map((v) => v.replace(/\0/g, "")); // WBXML inline strings cannot hold NUL (the encoder refuses it)

/** A random ApplicationData of a class: elements of its code pages (and AirSyncBase), nested up to three levels. */
function dataArb(ns: string): fc.Arbitrary<WElement> {
  const pool = [...names(ns), ...(ns === "Contacts" ? names("Contacts2") : []), "AirSyncBase:Body", "AirSyncBase:Type", "AirSyncBase:Data", "AirSyncBase:Location", "AirSyncBase:InstanceId", "AirSyncBase:DisplayName"];
  const nameArb = fc.constantFrom(...pool);
  const { node } = fc.letrec<{ node: WElement }>((tie) => ({
    node: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.tuple(nameArb, valueArb).map(([n, v]) => el(n, v)),
      fc.tuple(nameArb, fc.array(tie("node"), { maxLength: 6 })).map(([n, kids]) => el(n, kids)),
    ),
  }));
  return fc.array(node, { minLength: 1, maxLength: 24 }).map((kids) => el("AirSync:ApplicationData", kids));
}

function target(name: string, ns: string, codec: GroupwareCodec, stored: Uint8Array): FuzzTarget {
  const cxs = [cx(141), cx(161)];
  // Seeds: what the converter itself sends for the stored object, as a device would echo it.
  const seeds = cxs.map((c) => encode(el("AirSync:ApplicationData", codec.toEas(stored, ITEM, c))));
  return {
    name,
    seeds,
    arbitrary: dataArb(ns).map((d) => encode(d)),
    maxLen: 32768,
    run(input) {
      let root: WElement;
      try {
        root = decode(input, { maxDepth: 16, maxElements: 5_000 }).root;
      } catch (e) {
        if (e instanceof WbxmlError) return;
        throw e;
      }
      const c = cxs[input.length % 2]!;
      for (const existing of [null, stored]) {
        let body: Uint8Array;
        try {
          body = codec.fromEas(root, existing, c);
        } catch (e) {
          if (e instanceof EasDataError) continue;
          throw e;
        }
        // What was stored must be shown again by the same converter.
        codec.toEas(body, ITEM, c);
      }
    },
  };
}

export const EAS_GROUPWARE_TARGETS: FuzzTarget[] = [
  target("eas-calendar", "Calendar", calendarCodec, EVENT),
  target("eas-contacts", "Contacts", ContactCodec, CONTACT),
  target("eas-tasks", "Tasks", taskCodec, TODO),
  target("eas-notes", "Notes", noteCodec, NOTE),
];
