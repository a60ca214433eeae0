/**
 * Deterministic test data for the DAV benchmark (and the CLI import tests):
 *
 *  - events: N iCalendar objects (one UID each) over two years from
 *    2026-01-01, R of them recurring: weekly (40 %), daily (30 %) and
 *    monthly (30 %) with COUNT, UNTIL or no end (10 % of the weekly ones),
 *    some with EXDATEs (30 %) and overridden instances (20 %, moved by a day
 *    or by hours, RECURRENCE-ID); half in Europe/Berlin local time with its
 *    VTIMEZONE, half in UTC; 10 % of the single events all-day; a few
 *    transparent, tentative and cancelled. No ORGANIZER/ATTENDEE (loading
 *    must not send invitations).
 *  - contacts: N vCards (90 % 3.0, 10 % 4.0) with one to three EMAILs, one or
 *    two TELs, ORG, ADR and NOTE on some.
 *
 * The same seed gives the same bytes, so both servers load identical data.
 *
 *   bun scripts/bench/dav/generate.ts events  [--count 10000] [--recurring 1000] > cal.ics
 *   bun scripts/bench/dav/generate.ts contacts [--count 5000] > book.vcf
 */
import { tzlib_get_ical_block } from "timezones-ical-library";
import { mulberry32 } from "../lib/prng.ts";

export interface GeneratedObject {
  uid: string;
  /** Resource name to PUT it at. */
  name: string;
  /** One complete iCalendar object or vCard, CRLF lines. */
  text: string;
}

const CRLF = "\r\n";
const DAY = 86_400_000;
export const DATA_START = Date.UTC(2026, 0, 1);
export const DATA_DAYS = 730;

/** A small deterministic PRNG (mulberry32). */
export const rng = mulberry32;

const WORDS = "budget review standup planning customer call lunch dentist workshop training release retro sync interview board offsite quarterly demo design security audit invoice team dinner yoga football parents evening".split(" ");
const PLACES = ["Room 1", "Room 2", "Berlin office", "Video call", "Café Central", "Town hall", ""];
const FIRST = "Anna Ben Clara David Emma Felix Greta Hugo Ida Jonas Karla Leo Mia Noah Olga Paul Rosa Simon Tara Ulf Vera Will Xenia Yusuf Zoe".split(" ");
const LAST = "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch Richter Klein Wolf Neumann Braun Zimmermann Krüger Hartmann Lange".split(" ");

const pad = (n: number, w = 2) => String(n).padStart(w, "0");
/** A wall-clock time held in a Date's UTC fields, as YYYYMMDDTHHMMSS (+Z when `utc`). */
function stamp(d: Date, utc: boolean): string {
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}00${utc ? "Z" : ""}`;
}
const dateOnly = (d: Date) => `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
const addMonths = (d: Date, k: number) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + k, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()));

/** RFC 5545 §3.1 line folding at 75 octets (ASCII-safe here: folds only at character boundaries). */
function fold(line: string): string {
  if (Buffer.byteLength(line) <= 75) return line;
  const out: string[] = [];
  let cur = "";
  for (const ch of line) {
    if (Buffer.byteLength(cur + ch) > (out.length === 0 ? 75 : 74)) {
      out.push(cur);
      cur = "";
    }
    cur += ch;
  }
  out.push(cur);
  return out.join(CRLF + " ");
}

let berlin: string | null = null;
function berlinZone(): string {
  if (berlin === null) {
    const block = tzlib_get_ical_block("Europe/Berlin");
    berlin = (Array.isArray(block) ? block[0]! : block).replace(/\r?\n/g, CRLF);
  }
  return berlin;
}

/** `count` events, the first `recurring` of every 10 in proportion recurring (spread evenly through the list). */
export function generateEvents(count = 10_000, recurring = 1_000, seed = 15): GeneratedObject[] {
  const r = rng(seed);
  const pick = <T>(a: readonly T[]) => a[Math.floor(r() * a.length)]!;
  const out: GeneratedObject[] = [];
  const everyRec = recurring > 0 ? count / recurring : Infinity;
  let recMade = 0;
  for (let i = 0; i < count; i++) {
    const isRec = recMade < recurring && i >= recMade * everyRec;
    if (isRec) recMade++;
    const uid = `bench-${pad(i, 5)}-${Math.floor(r() * 0xffffffff).toString(16)}@pillarbox.test`;
    const name = `ev-${pad(i, 5)}.ics`;
    const local = r() < 0.5; // Europe/Berlin wall clock, else UTC
    const dayOff = Math.floor(r() * DATA_DAYS);
    const startHour = 7 + Math.floor(r() * 11);
    const start = new Date(DATA_START + dayOff * DAY + startHour * 3_600_000 + Math.floor(r() * 4) * 15 * 60_000);
    const durMin = pick([30, 30, 60, 60, 60, 90, 120]);
    const end = new Date(start.getTime() + durMin * 60_000);
    const allDay = !isRec && r() < 0.1;
    const tz = local ? ";TZID=Europe/Berlin" : "";
    const dt = (d: Date) => (local ? stamp(d, false) : stamp(d, true));
    const summary = `${pick(WORDS)} ${pick(WORDS)} #${i}`;
    const props: string[] = [`UID:${uid}`, `DTSTAMP:20251201T120000Z`, `SUMMARY:${summary}`];
    if (allDay) {
      const days = r() < 0.8 ? 1 : 2 + Math.floor(r() * 3);
      props.push(`DTSTART;VALUE=DATE:${dateOnly(start)}`, `DTEND;VALUE=DATE:${dateOnly(new Date(start.getTime() + days * DAY))}`, "TRANSP:TRANSPARENT");
    } else {
      props.push(`DTSTART${tz}:${dt(start)}`, `DTEND${tz}:${dt(end)}`);
    }
    const place = pick(PLACES);
    if (place) props.push(`LOCATION:${place}`);
    if (r() < 0.3) props.push(fold(`DESCRIPTION:${Array.from({ length: 12 + Math.floor(r() * 30) }, () => pick(WORDS)).join(" ")}`));
    const roll = r();
    if (!allDay && roll < 0.04) props.push("TRANSP:TRANSPARENT");
    else if (roll < 0.07) props.push("STATUS:CANCELLED");
    else if (roll < 0.12) props.push("STATUS:TENTATIVE");
    else props.push("STATUS:CONFIRMED");
    if (r() < 0.1) props.push("X-PILLARBOX-BENCH:kept as sent");

    const overrides: string[][] = [];
    if (isRec) {
      // instance k's wall-clock start, for EXDATE and RECURRENCE-ID
      let at: (k: number) => Date;
      let n: number; // instances we may reference
      const kind = r();
      if (kind < 0.4) {
        const interval = r() < 0.8 ? 1 : 2;
        at = (k) => new Date(start.getTime() + k * 7 * interval * DAY);
        const endRoll = r();
        const days = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"];
        const byday = `;BYDAY=${days[start.getUTCDay()]}`;
        if (endRoll < 0.1) {
          props.push(`RRULE:FREQ=WEEKLY;INTERVAL=${interval}${byday}`);
          n = 60;
        } else if (endRoll < 0.55) {
          n = 8 + Math.floor(r() * 96);
          props.push(`RRULE:FREQ=WEEKLY;INTERVAL=${interval}${byday};COUNT=${n}`);
        } else {
          n = 8 + Math.floor(r() * 60);
          // UNTIL in UTC (RFC 5545 §3.3.10: UTC when DTSTART has a TZID); a day after the last instance
          props.push(`RRULE:FREQ=WEEKLY;INTERVAL=${interval}${byday};UNTIL=${stamp(new Date(at(n - 1).getTime() + DAY), true)}`);
        }
      } else if (kind < 0.7) {
        const interval = r() < 0.7 ? 1 : 2;
        n = 5 + Math.floor(r() * 56);
        at = (k) => new Date(start.getTime() + k * interval * DAY);
        props.push(`RRULE:FREQ=DAILY;INTERVAL=${interval};COUNT=${n}`);
      } else {
        // monthly on a day that exists in every month
        const s = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), 1 + (start.getUTCDate() % 28), start.getUTCHours(), start.getUTCMinutes()));
        const shift = s.getTime() - start.getTime();
        start.setTime(s.getTime());
        end.setTime(end.getTime() + shift);
        props[props.findIndex((p) => p.startsWith("DTSTART"))] = `DTSTART${tz}:${dt(start)}`;
        props[props.findIndex((p) => p.startsWith("DTEND"))] = `DTEND${tz}:${dt(end)}`;
        n = 6 + Math.floor(r() * 19);
        at = (k) => addMonths(start, k);
        props.push(`RRULE:FREQ=MONTHLY;BYMONTHDAY=${start.getUTCDate()};COUNT=${n}`);
      }
      const used = new Set<number>();
      if (r() < 0.3) {
        const ex: string[] = [];
        for (let j = 0, m = 1 + Math.floor(r() * 3); j < m; j++) {
          const k = 1 + Math.floor(r() * (n - 1));
          if (used.has(k)) continue;
          used.add(k);
          ex.push(dt(at(k)));
        }
        if (ex.length) props.push(`EXDATE${tz}:${ex.join(",")}`);
      }
      if (r() < 0.2) {
        for (let j = 0, m = 1 + Math.floor(r() * 2); j < m; j++) {
          const k = 1 + Math.floor(r() * (n - 1));
          if (used.has(k)) continue;
          used.add(k);
          const orig = at(k);
          // moved by a day (across the day boundary) or by a few hours
          const moved = new Date(orig.getTime() + (r() < 0.5 ? DAY : (1 + Math.floor(r() * 3)) * 3_600_000));
          overrides.push([
            `UID:${uid}`,
            `DTSTAMP:20251201T120000Z`,
            `RECURRENCE-ID${tz}:${dt(orig)}`,
            `SUMMARY:${summary} (moved)`,
            `DTSTART${tz}:${dt(moved)}`,
            `DTEND${tz}:${dt(new Date(moved.getTime() + durMin * 60_000))}`,
            "STATUS:CONFIRMED",
          ]);
        }
      }
    }
    const lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Pillarbox//DAV bench//EN"];
    if (local) lines.push(berlinZone());
    lines.push("BEGIN:VEVENT", ...props, "END:VEVENT");
    for (const o of overrides) lines.push("BEGIN:VEVENT", ...o, "END:VEVENT");
    lines.push("END:VCALENDAR");
    out.push({ uid, name, text: lines.join(CRLF) + CRLF });
  }
  return out;
}

/** `count` vCards. */
export function generateContacts(count = 5_000, seed = 6350): GeneratedObject[] {
  const r = rng(seed);
  const pick = <T>(a: readonly T[]) => a[Math.floor(r() * a.length)]!;
  const out: GeneratedObject[] = [];
  for (let i = 0; i < count; i++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    const uid = `bench-contact-${pad(i, 5)}-${Math.floor(r() * 0xffffffff).toString(16)}`;
    const v4 = r() < 0.1;
    const mail = `${first}.${last}${i}`.toLowerCase().normalize("NFD").replace(/[^a-z0-9.]/g, "");
    const lines = ["BEGIN:VCARD", `VERSION:${v4 ? "4.0" : "3.0"}`, `UID:${uid}`, `FN:${first} ${last}`, `N:${last};${first};;;`];
    const emails = 1 + Math.floor(r() * 3);
    for (let e = 0; e < emails; e++) {
      const addr = `${mail}@${pick(["example.org", "example.com", "mail.test", "corp.example"])}`;
      lines.push(v4 ? `EMAIL;TYPE=${e === 0 ? "work" : "home"}:${addr}` : `EMAIL;TYPE=INTERNET${e === 0 ? ",WORK" : ",HOME"}:${addr}`);
    }
    for (let t = 0, m = 1 + Math.floor(r() * 2); t < m; t++) {
      const num = `+49 30 ${1000000 + Math.floor(r() * 8999999)}`;
      lines.push(v4 ? `TEL;VALUE=uri;TYPE=${t === 0 ? "work" : "cell"}:tel:${num.replace(/ /g, "-")}` : `TEL;TYPE=${t === 0 ? "WORK" : "CELL"}:${num}`);
    }
    if (r() < 0.5) lines.push(`ORG:${pick(["Acme GmbH", "Example AG", "Pillarbox Ltd", "Stadtwerke", "Uni Musterstadt"])}`);
    if (r() < 0.3) lines.push(`ADR;TYPE=WORK:;;${pick(["Hauptstr.", "Ringstr.", "Marktplatz"])} ${1 + Math.floor(r() * 120)};Berlin;;10115;Germany`);
    if (r() < 0.2) lines.push(fold(`NOTE:${Array.from({ length: 8 + Math.floor(r() * 20) }, () => pick(WORDS)).join(" ")}`));
    if (r() < 0.1) lines.push("X-PILLARBOX-BENCH:kept as sent");
    lines.push("END:VCARD");
    out.push({ uid, name: `c-${pad(i, 5)}.vcf`, text: lines.join(CRLF) + CRLF });
  }
  return out;
}

/** The events as one iCalendar file (what a calendar export looks like): one VCALENDAR, the VTIMEZONE once. */
export function eventsFile(events: GeneratedObject[]): string {
  const parts = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Pillarbox//DAV bench//EN", berlinZone()];
  for (const e of events) {
    const m = /BEGIN:VEVENT[\s\S]*END:VEVENT/.exec(e.text);
    if (m) parts.push(m[0]);
  }
  parts.push("END:VCALENDAR");
  return parts.join(CRLF) + CRLF;
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  const opt = (n: string, d: number) => {
    const i = argv.indexOf(`--${n}`);
    return i >= 0 ? Number(argv[i + 1]) : d;
  };
  if (argv[0] === "events") process.stdout.write(eventsFile(generateEvents(opt("count", 10_000), opt("recurring", 1_000))));
  else if (argv[0] === "contacts") process.stdout.write(generateContacts(opt("count", 5_000)).map((c) => c.text).join(""));
  else {
    process.stderr.write("usage: generate.ts events|contacts [--count N] [--recurring N]\n");
    process.exit(2);
  }
}
