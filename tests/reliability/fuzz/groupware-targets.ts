/**
 * Fuzz targets for the groupware formats (src/groupware/ical, vcard): the
 * iCalendar resource and iTIP parsers, recurrence expansion, the vCard
 * parser and the two import splitters. ICalError and VCardError are the
 * parsers doing their job; anything else thrown, an instance out of order
 * or out of range, or a split that invents text is a defect.
 */
import fc from "fast-check";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ICalError, expandInstances, parseCalendarObject, parseItipMessage, splitICalendar, type CalendarObject } from "../../../src/groupware/ical/index.ts";
import { VCardError, parseVCard, splitVCards } from "../../../src/groupware/vcard/index.ts";
import type { FuzzTarget } from "./engine.ts";

const FIX = join(import.meta.dir ?? new URL(".", import.meta.url).pathname, "../../fixtures/groupware");
const enc = new TextEncoder();
const utf8 = new TextDecoder();

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(`invariant: ${msg}`);
}

function files(dir: string, ext: RegExp): Uint8Array[] {
  try {
    return readdirSync(dir)
      .filter((f) => ext.test(f))
      .sort()
      .map((f) => new Uint8Array(readFileSync(join(dir, f))));
  } catch {
    return [];
  }
}

const ICS_SEEDS = [...files(FIX, /\.ics$/), ...files(join(FIX, "malformed"), /\.ics$/)];
const VCF_SEEDS = [...files(join(FIX, "vcard"), /\.vcf$/), ...files(join(FIX, "vcard/malformed"), /\.vcf$/)];

/** Documented errors: return; anything else propagates. */
function allow<T>(f: () => T, cls: typeof ICalError | typeof VCardError): T | null {
  try {
    return f();
  } catch (e) {
    if (e instanceof cls) return null;
    throw e;
  }
}

const DAY = 86_400_000;
/** Small caps so one input stays well under the engine's hang limit on a loaded machine. */
const EXPAND = { maxInstances: 300, maxIterations: 3000, maxMs: 100 };

function checkInstances(obj: CalendarObject, range: { start: number; end: number }, floatingTz?: string): void {
  const list = allow(() => expandInstances(obj, range, { ...EXPAND, floatingTz }), ICalError);
  if (!list) return;
  assert(list.length <= EXPAND.maxInstances, "more instances than maxInstances");
  let last = -Infinity;
  for (const i of list) {
    assert(Number.isFinite(i.start) && Number.isFinite(i.end), "instance time not finite");
    assert(i.start <= i.end, "instance ends before it starts");
    assert(i.start >= last, "instances out of order");
    last = i.start;
    const overlaps = i.end > i.start ? i.start < range.end && i.end > range.start : i.start < range.end && i.start >= range.start;
    assert(overlaps, `instance ${i.start}/${i.end} outside the range ${range.start}/${range.end}`);
    assert(i.recurrenceId === null || Number.isFinite(i.recurrenceId), "recurrenceId not a number");
  }
}

function checkObject(o: CalendarObject): void {
  assert(o.uid.length > 0, "object without UID");
  assert(o.kind === "VEVENT" ? o.taskFields === null : o.calendarFields === null, "fields of the wrong kind");
  const f = o.calendarFields;
  if (f) {
    assert(Number.isFinite(f.dtStart) && Number.isFinite(f.dtEnd) && f.dtEnd >= f.dtStart, "dtStart/dtEnd");
    assert(f.lastInstance === null || f.lastInstance === undefined || Number.isFinite(f.lastInstance), "lastInstance");
    assert(Number.isInteger(f.sequence) && f.sequence! >= 0, "sequence");
  }
  const t = o.taskFields;
  if (t) assert(Number.isInteger(t.priority) && t.priority! >= 0 && t.priority! <= 9, "priority");
  const base = f ? f.dtStart : Date.UTC(2026, 0, 1);
  if (!Number.isFinite(base)) return;
  checkInstances(o, { start: base - DAY, end: base + 30 * DAY });
  checkInstances(o, { start: base + 400 * DAY, end: base + 407 * DAY }, "America/New_York");
}

function icalObjectRun(input: Uint8Array): void {
  const o = allow(() => parseCalendarObject(input), ICalError);
  if (o) checkObject(o);
}

function itipRun(input: Uint8Array): void {
  const m = allow(() => parseItipMessage(input), ICalError);
  if (!m) return;
  assert(m.method.length > 0, "iTIP without METHOD accepted");
  for (const o of m.objects) checkObject(o);
}

/**
 * Rules: the input is a recurrence part (RRULE value, then EXDATE/RDATE/
 * override lines) spliced into a zoned event, so mutations work on the rule
 * engine rather than on the envelope.
 */
const RULE_SEEDS = [
  "FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20270101T000000Z\r\nEXDATE;TZID=Europe/Berlin:20260112T100000",
  "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=20",
  "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
  "FREQ=SECONDLY;COUNT=1000000000",
  "FREQ=MINUTELY;INTERVAL=7;UNTIL=99991231T235959Z\r\nRDATE:20260301T100000Z,20260302T100000Z",
  "FREQ=DAILY;BYHOUR=9,17;BYMINUTE=0,30\r\nEXDATE:20260106T090000Z",
  "FREQ=YEARLY;BYWEEKNO=1,-1;BYDAY=MO;WKST=SU",
  "FREQ=MONTHLY;BYMONTHDAY=31,-1;INTERVAL=2",
].map((s) => enc.encode(s));

const OVERRIDE = "BEGIN:VEVENT\r\nUID:fuzz\r\nRECURRENCE-ID;TZID=Europe/Berlin:20260112T100000\r\nDTSTART;TZID=Europe/Berlin:20260113T230000\r\nDURATION:PT3H\r\nEND:VEVENT\r\n";

function expandRun(input: Uint8Array): void {
  const rule = utf8.decode(input).replace(/\r?\n(?! )/g, "\r\n");
  const text = `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:fuzz\r\nDTSTART;TZID=Europe/Berlin:20260105T100000\r\nDTEND;TZID=Europe/Berlin:20260105T110000\r\nRRULE:${rule}\r\nEND:VEVENT\r\n${input.length % 2 ? OVERRIDE : ""}END:VCALENDAR\r\n`;
  const o = allow(() => parseCalendarObject(text), ICalError);
  if (!o) return;
  checkObject(o);
  checkInstances(o, { start: Date.UTC(2031, 5, 1), end: Date.UTC(2031, 5, 3) });
}

const ruleArb = fc
  .array(
    fc.oneof(
      fc.constantFrom("FREQ=", "SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY", ";"),
      fc.constantFrom("COUNT=", "UNTIL=", "INTERVAL=", "BYDAY=", "BYMONTHDAY=", "BYMONTH=", "BYSETPOS=", "BYWEEKNO=", "BYYEARDAY=", "BYHOUR=", "WKST="),
      fc.constantFrom("MO", "-1FR", "5SU", "53MO", "1", "-1", "31", "-366", "0", "20261231T235959Z", "99991231T235959Z", "20260101", ","),
      fc.integer({ min: -400, max: 400 }).map(String),
      fc.constantFrom("\r\nEXDATE:20260112T090000Z", "\r\nRDATE;VALUE=DATE:20260201", "\r\nRDATE;VALUE=PERIOD:20260301T100000Z/PT1H"),
    ),
    { maxLength: 16 },
  )
  .map((a) => enc.encode(a.join("")));

function vcardRun(input: Uint8Array): void {
  const c = allow(() => parseVCard(input), VCardError);
  if (!c) return;
  assert(c.uid.length > 0 && c.fields.uid === c.uid, "card without UID accepted");
  assert(c.version === "3.0" || c.version === "4.0", "version");
  for (const e of c.fields.emails ?? []) assert(e === e.toLowerCase(), "email not lower-case");
}

function vcardSplitRun(input: Uint8Array): void {
  const text = utf8.decode(input);
  const r = splitVCards(text);
  let from = 0;
  for (const card of r.cards) {
    const at = text.indexOf(card, from);
    assert(at >= 0, "a split card is not a slice of the input");
    from = at + card.length;
    assert(/^BEGIN:VCARD/i.test(card), "a split card does not begin with BEGIN:VCARD");
    allow(() => parseVCard(card), VCardError);
  }
}

function icalSplitRun(input: Uint8Array): void {
  const text = utf8.decode(input);
  const r = splitICalendar(text);
  assert(r.objects.length <= text.length, "more objects than characters");
  for (const o of r.objects) {
    assert(o.startsWith("BEGIN:VCALENDAR\r\n") && o.endsWith("END:VCALENDAR\r\n"), "split object is not a VCALENDAR");
    const p = allow(() => parseCalendarObject(o), ICalError);
    if (p) checkObject(p);
  }
}

const ITIP_SEEDS = ICS_SEEDS.map((s) => enc.encode(utf8.decode(s).replace(/^BEGIN:VCALENDAR\r\n/, "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\n")));
const SPLIT_SEEDS = [enc.encode(ICS_SEEDS.slice(0, 6).map((s) => utf8.decode(s)).join(""))];

export const GROUPWARE_TARGETS: FuzzTarget[] = [
  { name: "ical-object", seeds: ICS_SEEDS, run: icalObjectRun, maxLen: 16384 },
  { name: "ical-itip", seeds: ITIP_SEEDS, run: itipRun, maxLen: 16384 },
  { name: "ical-expand", seeds: RULE_SEEDS, run: expandRun, arbitrary: ruleArb, maxLen: 1024 },
  { name: "ical-split", seeds: SPLIT_SEEDS, run: icalSplitRun, maxLen: 32768 },
  { name: "vcard", seeds: VCF_SEEDS, run: vcardRun, maxLen: 16384 },
  { name: "vcard-split", seeds: VCF_SEEDS.slice(0, 3), run: vcardSplitRun, maxLen: 16384 },
];
