/**
 * The objects the client scenarios store: a plain event, a weekly event with
 * an EXDATE and an overridden instance moved to another day (in a VTIMEZONE),
 * a task, and a contact with several emails, phones and a real PNG photo in
 * vCard 3.0 and 4.0. All texts use CRLF line ends and are folded at 75
 * octets (RFC 5545 §3.1, RFC 6350 §3.2) so byte-for-byte checks compare what
 * a conforming client would send.
 */
import { deflateSync } from "node:zlib";

const CRLF = "\r\n";

/** Folds one content line at 75 octets (ASCII input) with CRLF + space. */
export function fold(line: string): string {
  if (line.length <= 75) return line;
  const parts = [line.slice(0, 75)];
  for (let i = 75; i < line.length; i += 74) parts.push(" " + line.slice(i, i + 74));
  return parts.join(CRLF);
}

function text(lines: string[]): string {
  return lines.map(fold).join(CRLF) + CRLF;
}

/** Europe/Berlin as clients send it (also used by the ActiveSync groupware tests). */
export const BERLIN = [
  "BEGIN:VTIMEZONE",
  "TZID:Europe/Berlin",
  "BEGIN:DAYLIGHT",
  "TZOFFSETFROM:+0100",
  "TZOFFSETTO:+0200",
  "TZNAME:CEST",
  "DTSTART:19700329T020000",
  "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
  "END:DAYLIGHT",
  "BEGIN:STANDARD",
  "TZOFFSETFROM:+0200",
  "TZOFFSETTO:+0100",
  "TZNAME:CET",
  "DTSTART:19701025T030000",
  "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
  "END:STANDARD",
  "END:VTIMEZONE",
];

export const SIMPLE_UID = "simple-1@pillarbox.test";
export const RECUR_UID = "recur-1@pillarbox.test";
export const TODO_UID = "todo-1@pillarbox.test";
export const CONTACT3_UID = "contact-3@pillarbox.test";
export const CONTACT4_UID = "contact-4@pillarbox.test";

export function simpleEvent(summary = "Simple meeting", uid = SIMPLE_UID): string {
  return text([
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Pillarbox tests//client scenarios//EN",
    "BEGIN:VEVENT",
    `UID:${uid}`,
    "DTSTAMP:20251201T120000Z",
    "DTSTART:20260108T100000Z",
    "DTEND:20260108T110000Z",
    `SUMMARY:${summary}`,
    "X-PILLARBOX-KEEP:unknown properties survive",
    "END:VEVENT",
    "END:VCALENDAR",
  ]);
}

/**
 * Weekly on Mondays 09:00 Berlin from 2026-01-05, 8 times; 2026-01-19 is
 * excluded (EXDATE) and the 2026-01-12 instance is moved to Wednesday
 * 2026-01-14 14:00. January therefore has: Jan 5, Jan 14 (moved), Jan 26.
 */
export function recurringEvent(summary = "Weekly sync"): string {
  return text([
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Pillarbox tests//client scenarios//EN",
    ...BERLIN,
    "BEGIN:VEVENT",
    `UID:${RECUR_UID}`,
    "DTSTAMP:20251201T120000Z",
    "DTSTART;TZID=Europe/Berlin:20260105T090000",
    "DTEND;TZID=Europe/Berlin:20260105T100000",
    "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=8",
    "EXDATE;TZID=Europe/Berlin:20260119T090000",
    `SUMMARY:${summary}`,
    "DESCRIPTION:A long description line that is longer than seventy-five octets so that it has to be folded",
    "END:VEVENT",
    "BEGIN:VEVENT",
    `UID:${RECUR_UID}`,
    "DTSTAMP:20251201T120000Z",
    "RECURRENCE-ID;TZID=Europe/Berlin:20260112T090000",
    "DTSTART;TZID=Europe/Berlin:20260114T140000",
    "DTEND;TZID=Europe/Berlin:20260114T150000",
    `SUMMARY:${summary} (moved)`,
    "END:VEVENT",
    "END:VCALENDAR",
  ]);
}

/** The instances of recurringEvent() in January 2026 as [UTC start, summary, UTC recurrence-id|null]. */
export const RECUR_JANUARY: [string, string, string | null][] = [
  ["2026-01-05T08:00:00Z", "Weekly sync", "2026-01-05T08:00:00Z"],
  ["2026-01-14T13:00:00Z", "Weekly sync (moved)", "2026-01-12T08:00:00Z"],
  ["2026-01-26T08:00:00Z", "Weekly sync", "2026-01-26T08:00:00Z"],
];

export function todo(summary = "Write the report"): string {
  return text([
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Pillarbox tests//client scenarios//EN",
    "BEGIN:VTODO",
    `UID:${TODO_UID}`,
    "DTSTAMP:20251201T120000Z",
    "DUE:20260110T170000Z",
    "STATUS:NEEDS-ACTION",
    `SUMMARY:${summary}`,
    "END:VTODO",
    "END:VCALENDAR",
  ]);
}

// ---- a real PNG (24x24 RGB gradient), built here so no binary file is needed

function crc32(buf: Uint8Array): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "ascii");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A valid PNG file (PNG spec: signature, IHDR, IDAT, IEND). */
export function pngPhoto(size = 24): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const raw = Buffer.alloc(size * (1 + size * 3));
  for (let y = 0; y < size; y++) {
    const row = y * (1 + size * 3);
    raw[row] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      raw[row + 1 + x * 3] = (x * 255) / size;
      raw[row + 2 + x * 3] = (y * 255) / size;
      raw[row + 3 + x * 3] = 0x80;
    }
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", new Uint8Array())]);
}

export const CONTACT_EMAILS = ["erika@work.example", "erika@home.example", "erika.m@other.example"];
export const CONTACT_PHONES = ["+49 170 1234567", "+49 30 7654321", "+49 30 1111111"];

/** vCard 3.0 (RFC 2426): PHOTO;ENCODING=b;TYPE=PNG. */
export function contactV3(fn = "Erika Mustermann"): string {
  return text([
    "BEGIN:VCARD",
    "VERSION:3.0",
    `UID:${CONTACT3_UID}`,
    "PRODID:-//Pillarbox tests//client scenarios//EN",
    `FN:${fn}`,
    "N:Mustermann;Erika;;;",
    "ORG:Example GmbH",
    `EMAIL;TYPE=INTERNET,WORK:${CONTACT_EMAILS[0]}`,
    `EMAIL;TYPE=INTERNET,HOME:${CONTACT_EMAILS[1]}`,
    `EMAIL;TYPE=INTERNET:${CONTACT_EMAILS[2]}`,
    `TEL;TYPE=CELL:${CONTACT_PHONES[0]}`,
    `TEL;TYPE=WORK,VOICE:${CONTACT_PHONES[1]}`,
    `TEL;TYPE=HOME:${CONTACT_PHONES[2]}`,
    `PHOTO;ENCODING=b;TYPE=PNG:${pngPhoto().toString("base64")}`,
    "X-PILLARBOX-KEEP:unknown properties survive",
    "END:VCARD",
  ]);
}

/** vCard 4.0 (RFC 6350): PHOTO as a data: URI. */
export function contactV4(fn = "Max Mustermann"): string {
  return text([
    "BEGIN:VCARD",
    "VERSION:4.0",
    `UID:${CONTACT4_UID}`,
    "PRODID:-//Pillarbox tests//client scenarios//EN",
    `FN:${fn}`,
    "N:Mustermann;Max;;;",
    `EMAIL;TYPE=work:${CONTACT_EMAILS[0].replace("erika", "max")}`,
    `EMAIL;TYPE=home;PREF=1:${CONTACT_EMAILS[1].replace("erika", "max")}`,
    `TEL;VALUE=uri;TYPE=cell:tel:${CONTACT_PHONES[0].replace(/ /g, "-")}`,
    `TEL;VALUE=uri;TYPE="work,voice":tel:${CONTACT_PHONES[1].replace(/ /g, "-")}`,
    `PHOTO:data:image/png;base64,${pngPhoto(16).toString("base64")}`,
    "X-PILLARBOX-KEEP:unknown properties survive",
    "END:VCARD",
  ]);
}
