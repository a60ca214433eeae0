/**
 * Parsing calendar object resources and iTIP messages (src/groupware/ical):
 * the malformed corpus (each a clear ICalError, never a hang), limits,
 * indexed fields, iTIP grouping, import splitting, serialisation.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import ICAL from "ical.js";
import { ICalError, icalUtc, parseCalendarObject, parseItipMessage, serialize, splitICalendar, vtimezoneFor } from "../../src/groupware/ical/index.ts";

const FIX = join(import.meta.dir, "../fixtures/groupware");
const enc = new TextEncoder();
const ms = (s: string) => Date.parse(s);
const CAL = (body: string, head = "VERSION:2.0\r\nPRODID:-//t//EN\r\n") => `BEGIN:VCALENDAR\r\n${head}${body}END:VCALENDAR\r\n`;
const EV = (uid: string, extra = "") => `BEGIN:VEVENT\r\nUID:${uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260301T100000Z\r\nDTEND:20260301T110000Z\r\n${extra}END:VEVENT\r\n`;

function err(f: () => unknown): ICalError {
  const t0 = performance.now();
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ICalError);
    // never a hang: every malformed input is refused well within a second
    expect(performance.now() - t0).toBeLessThan(5000);
    return e as ICalError;
  }
  throw new Error("expected an ICalError");
}

describe("malformed corpus: clear errors", () => {
  const cases: Record<string, [string, RegExp]> = {
    "no-end.ics": ["INVALID_DATA", /END:VCALENDAR is missing/],
    "unclosed-vevent.ics": ["INVALID_DATA", /not valid iCalendar/],
    "bad-date.ics": ["INVALID_DATA", /DTSTART of VEVENT is not a valid date or date-time/],
    "impossible-date.ics": ["INVALID_DATA", /DTSTART of VEVENT is not a valid date or date-time: 2026-02-31/],
    "two-uids.ics": ["INVALID_OBJECT", /2 different UIDs/],
    "mixed-vevent-vtodo.ics": ["INVALID_OBJECT", /VEVENT and VTODO mixed/],
    "no-uid.ics": ["INVALID_OBJECT", /VEVENT without UID/],
    "no-dtstart.ics": ["INVALID_OBJECT", /VEVENT without DTSTART/],
    "empty-calendar.ics": ["INVALID_OBJECT", /no VEVENT or VTODO/],
    "vjournal.ics": ["INVALID_OBJECT", /VJOURNAL is not stored here/],
    "bad-rrule.ics": ["INVALID_DATA", /invalid frequency "FORTNIGHTLY"/],
    "two-masters.ics": ["INVALID_OBJECT", /two VEVENT components of the same UID without RECURRENCE-ID/],
    "not-icalendar.ics": ["INVALID_DATA", /must begin with BEGIN:VCALENDAR/],
    "garbage.bin": ["INVALID_DATA", /NUL bytes|must begin with BEGIN:VCALENDAR/],
    // RFC 5545 §3.4: ical.js alone would accept END:VEVENT closing a VALARM (an alarm swallowing its event)
    "unclosed-valarm.ics": ["INVALID_DATA", /line 11: END:VEVENT where BEGIN:VALARM of line 8 is still open/],
    "wrong-end-name.ics": ["INVALID_DATA", /line 8: END:VTODO where BEGIN:VEVENT of line 4 is still open/],
  };
  test("the corpus has a case for every file", () => {
    expect(readdirSync(join(FIX, "malformed")).sort()).toEqual(Object.keys(cases).sort());
  });
  for (const [file, [code, msg]] of Object.entries(cases)) {
    test(file, () => {
      const e = err(() => parseCalendarObject(readFileSync(join(FIX, "malformed", file))));
      expect(e.code).toBe(code as ICalError["code"]);
      expect(e.message).toMatch(msg);
    });
  }

  test("a 10 MB line is refused by size before parsing (LIMIT), quickly", () => {
    const big = CAL(EV("big", `DESCRIPTION:${"x".repeat(10 << 20)}\r\n`));
    const e = err(() => parseCalendarObject(big));
    expect(e.code).toBe("LIMIT");
    expect(e.message).toContain("larger than 1048576 bytes");
    expect(err(() => parseCalendarObject(enc.encode(big))).code).toBe("LIMIT");
  });

  test("a line just under the limit parses", () => {
    const o = parseCalendarObject(CAL(EV("long", `DESCRIPTION:${"y".repeat(1_000_000)}\r\n`)));
    expect(o.uid).toBe("long");
  });

  test("more than 2,000 components: LIMIT", () => {
    const alarms = "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\n".repeat(2001);
    const e = err(() => parseCalendarObject(CAL(EV("many", alarms))));
    expect(e.code).toBe("LIMIT");
    expect(e.message).toContain("2000 components");
  });

  test("more than 500 attendees: LIMIT; 500 are fine", () => {
    const att = (n: number) => Array.from({ length: n }, (_, i) => `ATTENDEE:mailto:a${i}@example.org\r\n`).join("");
    expect(err(() => parseCalendarObject(CAL(EV("crowd", att(501))))).code).toBe("LIMIT");
    expect(parseCalendarObject(CAL(EV("crowd", att(500)))).attendees).toHaveLength(500);
  });

  test("two VCALENDARs in one resource", () => {
    const e = err(() => parseCalendarObject(CAL(EV("a")) + CAL(EV("a"))));
    expect(e.code).toBe("INVALID_DATA");
    expect(e.message).toContain("several top-level components");
  });

  test("duplicate RECURRENCE-ID", () => {
    const ov = `BEGIN:VEVENT\r\nUID:r\r\nRECURRENCE-ID:20260302T100000Z\r\nDTSTART:20260302T120000Z\r\nEND:VEVENT\r\n`;
    const e = err(() => parseCalendarObject(CAL(EV("r", "RRULE:FREQ=DAILY;COUNT=3\r\n") + ov + ov)));
    expect(e.code).toBe("INVALID_OBJECT");
    expect(e.message).toContain("same RECURRENCE-ID");
  });

  test("a RRULE without FREQ fails at write time, not later in a query", () => {
    const e = err(() => parseCalendarObject(CAL(EV("nofreq", "RRULE:COUNT=3\r\n"))));
    expect(e.code).toBe("INVALID_DATA");
  });

  test("non-UTF-8 bytes are read as U+FFFD with a warning", () => {
    const bytes = enc.encode(CAL(EV("latin1", "SUMMARY:caf\u0000\r\n")));
    const i = bytes.indexOf(0);
    bytes[i] = 0xe9; // a Latin-1 é
    const o = parseCalendarObject(bytes);
    expect(o.calendarFields!.summary).toBe("caf\ufffd");
    expect(o.warnings.join("\n")).toContain("not valid UTF-8");
  });

  test("truncated at every position: an ICalError or a parse, never anything else", () => {
    const text = readFileSync(join(FIX, "override-moved.ics"), "utf8");
    for (let n = 0; n < text.length; n += 7) {
      try {
        parseCalendarObject(text.slice(0, n));
      } catch (e) {
        expect(e).toBeInstanceOf(ICalError);
      }
    }
  });
});

describe("fields", () => {
  test("a simple event: every indexed field", () => {
    const o = parseCalendarObject(
      CAL(EV("simple@x", "SUMMARY:Lunch\\, with Bob\r\nLOCATION:Cafe\r\nSTATUS:confirmed\r\nTRANSP:OPAQUE\r\nSEQUENCE:4\r\nORGANIZER:mailto:Bob@X.org\r\nX-UNKNOWN;X-P=1:kept\r\n")),
    );
    expect(o.kind).toBe("VEVENT");
    expect(o.method).toBeNull();
    expect(o.calendarFields).toEqual({
      uid: "simple@x",
      recurrenceId: null,
      dtStart: ms("2026-03-01T10:00:00Z"),
      dtEnd: ms("2026-03-01T11:00:00Z"),
      allDay: false,
      isRecurring: false,
      rrule: null,
      lastInstance: null,
      summary: "Lunch, with Bob",
      location: "Cafe",
      organizer: "bob@x.org",
      status: "CONFIRMED",
      transp: "OPAQUE",
      sequence: 4,
    });
    expect(o.warnings).toEqual([]);
  });

  test("an unbounded RRULE has lastInstance null; a bad SEQUENCE is a warning", () => {
    const o = parseCalendarObject(CAL(EV("weekly", "RRULE:FREQ=WEEKLY\r\nSEQUENCE:-3\r\n")));
    expect(o.calendarFields).toMatchObject({ isRecurring: true, rrule: "FREQ=WEEKLY", lastInstance: null, sequence: 0 });
    expect(o.warnings.join("\n")).toContain("SEQUENCE");
  });

  test("RDATE only: recurring, bounded by the last RDATE", () => {
    const o = parseCalendarObject(CAL(EV("rdates", "RDATE:20260310T100000Z,20260320T100000Z\r\n")));
    expect(o.calendarFields).toMatchObject({ isRecurring: true, rrule: null, lastInstance: ms("2026-03-20T10:00:00Z") });
  });

  test("DTEND before DTSTART is kept with a warning (the event is an instant)", () => {
    const o = parseCalendarObject(CAL(`BEGIN:VEVENT\r\nUID:back\r\nDTSTART:20260301T100000Z\r\nDTEND:20260301T090000Z\r\nEND:VEVENT\r\n`));
    expect(o.calendarFields!.dtEnd).toBe(o.calendarFields!.dtStart);
    expect(o.warnings.join("\n")).toContain("DTEND is before DTSTART");
  });

  test("a DATE DTSTART without DTEND lasts one day", () => {
    const o = parseCalendarObject(CAL(`BEGIN:VEVENT\r\nUID:day\r\nDTSTART;VALUE=DATE:20260301\r\nEND:VEVENT\r\n`));
    expect(o.calendarFields).toMatchObject({ allDay: true, dtStart: ms("2026-03-01T00:00:00Z"), dtEnd: ms("2026-03-02T00:00:00Z") });
  });

  test("a COUNT too far to compute cheaply: lastInstance null", () => {
    const o = parseCalendarObject(CAL(EV("far", "RRULE:FREQ=DAILY;COUNT=100000\r\n")));
    expect(o.calendarFields!.lastInstance).toBeNull();
  });

  test("a BOM and LF-only line ends are accepted", () => {
    const o = parseCalendarObject("\ufeff" + CAL(EV("lf")).replace(/\r\n/g, "\n"));
    expect(o.uid).toBe("lf");
  });

  test("METHOD in a resource is reported for the caller to judge", () => {
    expect(parseCalendarObject(CAL(EV("m"), "VERSION:2.0\r\nMETHOD:request\r\n")).method).toBe("REQUEST");
  });
});

describe("iTIP messages", () => {
  test("METHOD required", () => {
    const e = err(() => parseItipMessage(CAL(EV("x"))));
    expect(e.code).toBe("INVALID_OBJECT");
    expect(e.message).toContain("METHOD");
  });

  test("several UIDs become several objects, each with its zones; VFREEBUSY stays in root", () => {
    const tz = vtimezoneFor("Europe/Berlin")!;
    const text = CAL(
      tz +
        `BEGIN:VEVENT\r\nUID:one\r\nDTSTART;TZID=Europe/Berlin:20260301T100000\r\nORGANIZER:mailto:alice@example.org\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.org\r\nSEQUENCE:1\r\nEND:VEVENT\r\n` +
        EV("two") +
        `BEGIN:VFREEBUSY\r\nUID:fb\r\nDTSTART:20260301T000000Z\r\nDTEND:20260302T000000Z\r\nFREEBUSY:20260301T100000Z/PT1H\r\nEND:VFREEBUSY\r\n`,
      "VERSION:2.0\r\nMETHOD:REPLY\r\n",
    );
    const m = parseItipMessage(text);
    expect(m.method).toBe("REPLY");
    expect(m.objects.map((o) => o.uid)).toEqual(["one", "two"]);
    expect(m.objects[0]!).toMatchObject({ method: "REPLY", organizer: "alice@example.org", sequence: 1 });
    expect(m.objects[0]!.attendees[0]!.partstat).toBe("ACCEPTED");
    expect(m.objects[0]!.calendarFields!.dtStart).toBe(ms("2026-03-01T09:00:00Z"));
    expect(m.objects[0]!.root.getAllSubcomponents("vtimezone")).toHaveLength(1);
    expect(m.objects[1]!.root.getAllSubcomponents("vevent")).toHaveLength(1);
    expect(m.root.getAllSubcomponents("vfreebusy")).toHaveLength(1);
  });
});

describe("splitICalendar (import)", () => {
  test("a component whose VALARM is never ended is reported with its line and skipped; the next one is imported", () => {
    const ev = (uid: string, inner = "") => `BEGIN:VEVENT\r\nUID:${uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T100000Z\r\n${inner}END:VEVENT\r\n`;
    const file = `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n${ev("a", "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\n")}${ev("b")}END:VCALENDAR\r\n`;
    const r = splitICalendar(file);
    expect(r.errors).toEqual(["line 8: BEGIN:VALARM is never ended (the VEVENT of line 4 was not imported)"]);
    expect(r.objects).toHaveLength(1);
    expect(parseCalendarObject(r.objects[0]!).uid).toBe("b");
  });

  test("one VCALENDAR per UID, overrides together, used zones copied, METHOD dropped, byte-exact components", () => {
    const moved = readFileSync(join(FIX, "override-moved.ics"), "utf8");
    const ny = readFileSync(join(FIX, "newyork-no-vtimezone.ics"), "utf8");
    const body = (t: string) => t.slice(t.indexOf("BEGIN:VEVENT"), t.lastIndexOf("END:VCALENDAR"));
    const tz = vtimezoneFor("Europe/Berlin")!;
    const file = CAL(tz + vtimezoneFor("Asia/Tokyo")! + body(moved) + body(ny) + "BEGIN:VTODO\r\nSUMMARY:no uid\r\nEND:VTODO\r\n", "VERSION:2.0\r\nPRODID:-//export//EN\r\nMETHOD:PUBLISH\r\n");
    const r = splitICalendar(file);
    expect(r.errors).toEqual([expect.stringMatching(/^line \d+: a VTODO without UID was not imported$/)]);
    expect(r.objects).toHaveLength(2);
    const [a, b] = r.objects;
    expect(a!.startsWith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//export//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n")).toBe(true);
    expect(a).not.toContain("METHOD");
    expect(a).not.toContain("Asia/Tokyo");
    expect(a).toContain(body(moved));
    const pa = parseCalendarObject(a!);
    expect(pa.uid).toBe("moved@pillarbox.test");
    expect(pa.root.getAllSubcomponents("vevent")).toHaveLength(4);
    expect(pa.warnings).toEqual([]);
    expect(parseCalendarObject(b!).uid).toBe("ny-weekly@pillarbox.test");
    expect(b).not.toContain("VTIMEZONE");
  });

  test("several VCALENDARs, junk and an unterminated component are reported, not thrown", () => {
    const r = splitICalendar("junk\r\n" + CAL(EV("a")) + CAL(EV("b")) + "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:c\r\n");
    expect(r.objects.map((t) => parseCalendarObject(t).uid)).toEqual(["a", "b"]);
    expect(r.errors.join("\n")).toContain("text outside a VCALENDAR");
    expect(r.errors.join("\n")).toContain("VEVENT is not terminated");
  });

  test("a UID used by a VEVENT and a VTODO is refused", () => {
    const r = splitICalendar(CAL(EV("dup") + "BEGIN:VTODO\r\nUID:dup\r\nEND:VTODO\r\n"));
    expect(r.objects).toEqual([]);
    expect(r.errors[0]).toContain("VEVENT and VTODO");
  });
});

describe("generation helpers", () => {
  test("serialize: CRLF, folded at 75 octets, ends in CRLF, parses back", () => {
    const root = new ICAL.Component(["vcalendar", [], []]);
    root.addPropertyWithValue("version", "2.0");
    root.addPropertyWithValue("method", "REPLY");
    const ev = new ICAL.Component("vevent");
    ev.addPropertyWithValue("uid", "gen");
    ev.addPropertyWithValue("dtstamp", ICAL.Time.fromDateTimeString("2026-03-01T10:00:00Z"));
    ev.addPropertyWithValue("summary", "z".repeat(200));
    root.addSubcomponent(ev);
    const s = serialize(root);
    expect(s.endsWith("\r\n")).toBe(true);
    expect(s.split("\r\n").every((l) => enc.encode(l).length <= 75)).toBe(true);
    expect(parseItipMessage(s).objects[0]!).toMatchObject({ uid: "gen", method: "REPLY", calendarFields: null });
    expect(parseItipMessage(s).root.getFirstSubcomponent("vevent")!.getFirstPropertyValue("summary")).toBe("z".repeat(200));
    // multi-byte characters are never split across a fold
    ev.updatePropertyWithValue("summary", "\u00e9".repeat(100) + "\u{1F600}".repeat(30));
    const s2 = serialize(root);
    expect(s2.split("\r\n").every((l) => enc.encode(l).length <= 75)).toBe(true);
    expect(parseItipMessage(s2).root.getFirstSubcomponent("vevent")!.getFirstPropertyValue("summary")).toBe("\u00e9".repeat(100) + "\u{1F600}".repeat(30));
  });

  test("icalUtc", () => {
    expect(icalUtc(ms("2026-12-07T08:10:33.456Z"))).toBe("20261207T081033Z");
  });

  test("vtimezoneFor: IANA names, Windows names under their own TZID, unknown null", () => {
    const b = vtimezoneFor("America/New_York")!;
    expect(b.startsWith("BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\n")).toBe(true);
    expect(b.endsWith("END:VTIMEZONE\r\n")).toBe(true);
    expect(vtimezoneFor("W. Europe Standard Time")!).toContain("TZID:W. Europe Standard Time\r\n");
    expect(vtimezoneFor("Mars/Olympus_Mons")).toBeNull();
    expect(vtimezoneFor("")).toBeNull();
    // What it gives is usable by an object that names it
    const o = parseCalendarObject(CAL(vtimezoneFor("W. Europe Standard Time")! + `BEGIN:VEVENT\r\nUID:w\r\nDTSTART;TZID=W. Europe Standard Time:20260115T140000\r\nEND:VEVENT\r\n`));
    expect(o.calendarFields!.dtStart).toBe(ms("2026-01-15T13:00:00Z"));
  });
});
