/**
 * The pure parts of the CalDAV/CardDAV reports, tested directly: UTC
 * date-time parsing, collations, RFC 4791 §9.9 rules on hand-built
 * components (VTODO table rows, VJOURNAL, VFREEBUSY, alarms), multiget href
 * resolution, free/busy merging, vCard property subsets.
 */
import { describe, expect, test } from "bun:test";
import ICAL from "ical.js";
import { busyPeriods, freeBusyCalendar } from "../../protocols/http/dav/caldav-freebusy.ts";
import { hrefToName } from "../../protocols/http/dav/caldav-report-common.ts";
import { compileTextMatch, fold } from "../../protocols/http/dav/caldav-text-match.ts";
import { componentInRange, type RangeEnv } from "../../protocols/http/dav/caldav-time-range.ts";
import { formatUtc, parseUtcDateTime } from "../../protocols/http/dav/caldav-time.ts";
import { renderAddressData } from "../../protocols/http/dav/carddav-report-data.ts";
import type { Collection, Instance } from "../../src/groupware/types.ts";
import type { DavTarget } from "../../protocols/http/dav/types.ts";

const U = (s: string) => parseUtcDateTime(s)!;
const el = (text: string, attrs: Record<string, string> = {}) => ({ ns: "urn:ietf:params:xml:ns:caldav", name: "text-match", attrs, children: [], text });
const CAL_RULES = { ns: "urn:ietf:params:xml:ns:caldav", defaultCollation: "i;ascii-casemap", collations: ["i;ascii-casemap", "i;octet"], matchTypes: false } as const;
const CARD_RULES = { ns: "urn:ietf:params:xml:ns:carddav", defaultCollation: "i;unicode-casemap", collations: ["i;unicode-casemap", "i;ascii-casemap", "i;octet"], matchTypes: true } as const;

function comp(lines: string[], name = "vtodo"): ICAL.Component {
  const root = new ICAL.Component(ICAL.parse(["BEGIN:VCALENDAR", "VERSION:2.0", ...lines, "END:VCALENDAR", ""].join("\r\n")));
  return root.getFirstSubcomponent(name)!;
}

const noInstances: RangeEnv = { floatingTz: null, instances: () => [] };

describe("UTC date-times (RFC 4791 §9.9 attributes)", () => {
  test("the basic UTC form only, real calendar dates only", () => {
    expect(parseUtcDateTime("20260301T120000Z")).toBe(Date.UTC(2026, 2, 1, 12));
    for (const bad of ["20260230T000000Z", "20260301T120000", "2026-03-01T12:00:00Z", "20261301T000000Z", "20260301T250000Z", "", "20260301T120000ZZ"]) {
      expect(parseUtcDateTime(bad)).toBeNull();
    }
    expect(formatUtc(Date.UTC(2026, 0, 5, 9))).toBe("20260105T090000Z");
  });
});

describe("collations", () => {
  test("i;ascii-casemap folds ASCII letters only", () => {
    expect(fold("i;ascii-casemap", "ÄBC")).toBe("Äbc");
    const tm = compileTextMatch(el("abc"), CAL_RULES);
    expect(tm.test("xxABCxx")).toBe(true);
    expect(tm.test("äbc")).toBe(false);
  });

  test("i;unicode-casemap folds any case and compatibility forms", () => {
    expect(fold("i;unicode-casemap", "ÖLUND")).toBe(fold("i;unicode-casemap", "ölund"));
    expect(fold("i;unicode-casemap", "ΣΑΣ")).toBe(fold("i;unicode-casemap", "σασ"));
    expect(fold("i;unicode-casemap", "ﬁle")).toBe(fold("i;unicode-casemap", "FILE"));
    const tm = compileTextMatch({ ...el("ölu"), attrs: { "match-type": "starts-with" } }, CARD_RULES);
    expect(tm.test("Ölund")).toBe(true);
    expect(tm.test("x Ölund")).toBe(false);
  });

  test("unknown collations and match types are refused with the RFC's precondition", () => {
    expect(() => compileTextMatch(el("x", { collation: "i;basic" }), CAL_RULES)).toThrow(/not supported/);
    expect(() => compileTextMatch(el("x", { "match-type": "equals" }), CAL_RULES)).toThrow(/no match-type/);
    expect(() => compileTextMatch(el("x", { "negate-condition": "maybe" }), CAL_RULES)).toThrow(/yes.*no/);
  });
});

describe("RFC 4791 §9.9 on components", () => {
  const r = (s: string, e: string) => ({ start: U(s), end: U(e) });

  test("VTODO table rows", () => {
    const dtstartDuration = comp(["BEGIN:VTODO", "UID:a", "DTSTART:20260301T100000Z", "DURATION:PT2H", "END:VTODO"]);
    expect(componentInRange(dtstartDuration, r("20260301T110000Z", "20260301T113000Z"), noInstances)).toBe(true);
    expect(componentInRange(dtstartDuration, r("20260301T120001Z", "20260301T130000Z"), noInstances)).toBe(false);
    const dueOnly = comp(["BEGIN:VTODO", "UID:b", "DUE:20260301T100000Z", "END:VTODO"]);
    expect(componentInRange(dueOnly, r("20260301T090000Z", "20260301T100000Z"), noInstances)).toBe(true); // end >= DUE
    expect(componentInRange(dueOnly, r("20260301T100000Z", "20260301T110000Z"), noInstances)).toBe(false); // start < DUE fails
    const completedOnly = comp(["BEGIN:VTODO", "UID:c", "COMPLETED:20260301T100000Z", "END:VTODO"]);
    expect(componentInRange(completedOnly, r("20260301T100000Z", "20260301T100001Z"), noInstances)).toBe(true);
    const createdOnly = comp(["BEGIN:VTODO", "UID:d", "CREATED:20260301T100000Z", "END:VTODO"]);
    expect(componentInRange(createdOnly, r("20260201T000000Z", "20260301T100000Z"), noInstances)).toBe(false);
    expect(componentInRange(createdOnly, r("20260201T000000Z", "20260301T100001Z"), noInstances)).toBe(true);
    const nothing = comp(["BEGIN:VTODO", "UID:e", "END:VTODO"]);
    expect(componentInRange(nothing, r("19000101T000000Z", "19000102T000000Z"), noInstances)).toBe(true);
  });

  test("VJOURNAL: a DATE lasts the day, no DTSTART never matches", () => {
    const day = comp(["BEGIN:VJOURNAL", "UID:j", "DTSTART;VALUE=DATE:20260301", "END:VJOURNAL"], "vjournal");
    expect(componentInRange(day, r("20260301T230000Z", "20260302T000000Z"), noInstances)).toBe(true);
    expect(componentInRange(day, r("20260302T000000Z", "20260303T000000Z"), noInstances)).toBe(false);
    const none = comp(["BEGIN:VJOURNAL", "UID:k", "END:VJOURNAL"], "vjournal");
    expect(componentInRange(none, r("19000101T000000Z", "29000101T000000Z"), noInstances)).toBe(false);
  });

  test("VFREEBUSY periods", () => {
    const fb = comp(["BEGIN:VFREEBUSY", "UID:f", "FREEBUSY:20260301T100000Z/20260301T110000Z,20260301T140000Z/PT1H", "END:VFREEBUSY"], "vfreebusy");
    expect(componentInRange(fb, r("20260301T143000Z", "20260301T144000Z"), noInstances)).toBe(true);
    expect(componentInRange(fb, r("20260301T110000Z", "20260301T140000Z"), noInstances)).toBe(false);
  });

  test("VALARM: relative to the end, with repetitions, and absolute", () => {
    const ev = (alarm: string[]) =>
      comp(["BEGIN:VEVENT", "UID:v", "DTSTART:20260301T100000Z", "DTEND:20260301T110000Z", "BEGIN:VALARM", "ACTION:DISPLAY", ...alarm, "END:VALARM", "END:VEVENT"], "vevent");
    const inst: Instance = { start: U("20260301T100000Z"), end: U("20260301T110000Z"), recurrenceId: null, allDay: false, transparent: false, status: "", overridden: false };
    const env: RangeEnv = { floatingTz: null, instances: (range) => (range.start < inst.end && range.end > inst.start ? [inst] : []) };
    const end = ev(["TRIGGER;RELATED=END:PT5M"]).getFirstSubcomponent("valarm")!;
    expect(componentInRange(end, r("20260301T110500Z", "20260301T110501Z"), env)).toBe(true);
    expect(componentInRange(end, r("20260301T095500Z", "20260301T100000Z"), env)).toBe(false);
    const rep = ev(["TRIGGER:-PT10M", "REPEAT:2", "DURATION:PT5M"]).getFirstSubcomponent("valarm")!;
    expect(componentInRange(rep, r("20260301T095900Z", "20260301T100100Z"), env)).toBe(true); // the third ring at 10:00
    expect(componentInRange(rep, r("20260301T100100Z", "20260301T110000Z"), env)).toBe(false);
    const abs = ev(["TRIGGER;VALUE=DATE-TIME:20260228T080000Z"]).getFirstSubcomponent("valarm")!;
    expect(componentInRange(abs, r("20260228T000000Z", "20260301T000000Z"), env)).toBe(true);
  });
});

describe("multiget hrefs", () => {
  const collection = { id: 1, accountId: 1, kind: "calendar", name: "Calendar", displayName: "", description: "", color: "", order: 0, modseq: 1, timezone: "", isDefault: true } as Collection;
  const target: DavTarget = { kind: "collection", href: "/dav/calendars/alice@example.test/Calendar/", collection };
  test("spellings of the same resource, and what is not one", () => {
    expect(hrefToName(target, "/dav/calendars/alice@example.test/Calendar/a%20b.ics")).toBe("a b.ics");
    expect(hrefToName(target, "/dav/calendars/alice%40example.test/Calendar/x.ics")).toBe("x.ics");
    expect(hrefToName(target, "https://mail.example.test:8443/dav/calendars/alice@example.test/Calendar/x.ics?y")).toBe("x.ics");
    for (const bad of ["/dav/calendars/bob@example.test/Calendar/x.ics", "/dav/calendars/alice@example.test/Calendar/", "/dav/calendars/alice@example.test/Calendar/%2e%2e", "/dav/calendars/alice@example.test/Calendar/a%2Fb.ics", "/dav/calendars/alice@example.test/Calendar/%zz", "x.ics", "http://[bad/"]) {
      expect(hrefToName(target, bad)).toBeNull();
    }
  });
});

describe("free/busy periods", () => {
  const i = (s: string, e: string, more: Partial<Instance> = {}): Instance => ({ start: U(s), end: U(e), recurrenceId: null, allDay: false, transparent: false, status: "", overridden: false, ...more });
  test("merged per type, clipped, free ones dropped", () => {
    const range = { start: U("20260301T000000Z"), end: U("20260302T000000Z") };
    const p = busyPeriods(
      [
        i("20260228T230000Z", "20260301T010000Z"),
        i("20260301T090000Z", "20260301T100000Z"),
        i("20260301T100000Z", "20260301T103000Z"),
        i("20260301T120000Z", "20260301T130000Z", { transparent: true }),
        i("20260301T140000Z", "20260301T150000Z", { status: "CANCELLED" }),
        i("20260301T093000Z", "20260301T110000Z", { status: "TENTATIVE" }),
      ],
      range,
    );
    expect(p).toEqual([
      { start: U("20260301T000000Z"), end: U("20260301T010000Z"), type: "BUSY" },
      { start: U("20260301T090000Z"), end: U("20260301T103000Z"), type: "BUSY" },
      { start: U("20260301T093000Z"), end: U("20260301T110000Z"), type: "BUSY-TENTATIVE" },
    ]);
    const text = freeBusyCalendar(range, p, U("20260301T000000Z"));
    expect(text.split("\r\n").every((l) => Buffer.byteLength(l) <= 75)).toBe(true);
    expect(new ICAL.Component(ICAL.parse(text)).getFirstSubcomponent("vfreebusy")!.getAllProperties("freebusy").length).toBe(3);
  });
});

describe("address-data subsets", () => {
  test("novalue keeps quoted parameters that contain a colon; LF-only cards work too", () => {
    const card = 'BEGIN:VCARD\nVERSION:4.0\nUID:u\nFN:X\nTEL;TYPE="home:main";VALUE=uri:tel:+1\nEND:VCARD\n';
    const out = renderAddressData({ props: [{ name: "TEL", novalue: true }], version: null }, new TextEncoder().encode(card));
    expect(out).toBe('BEGIN:VCARD\nVERSION:4.0\nTEL;TYPE="home:main";VALUE=uri:\nEND:VCARD\n');
  });
});

describe("object cache", () => {
  test("a resource deleted between listing and reading is reported gone, not thrown; bodies are cached per store and ETag", async () => {
    const { loadResources } = await import("../../protocols/http/dav/caldav-object-cache.ts");
    let reads = 0;
    const res = (name: string, etag: string, fail = false) => ({
      name,
      href: `/x/${name}`,
      etag,
      contentType: "text/plain",
      size: 1,
      lastModified: 0,
      object: null,
      body: async () => {
        reads++;
        if (fail) throw new Error("no such item");
        return new TextEncoder().encode(name + etag);
      },
    });
    const storeA = {};
    const storeB = {};
    const first = await loadResources(storeA, "t", [res("a", '"1"'), res("b", '"1"', true)], (b) => new TextDecoder().decode(b));
    expect(first.map((l) => [l.parsed, l.gone])).toEqual([['a"1"', false], [null, true]]);
    await loadResources(storeA, "t", [res("a", '"1"')], (b) => new TextDecoder().decode(b));
    expect(reads).toBe(2);
    await loadResources(storeB, "t", [res("a", '"1"')], null);
    await loadResources(storeA, "t", [res("a", '"2"')], null);
    expect(reads).toBe(4);
  });
});

describe("calendar-data limit-freebusy-set (RFC 4791 §9.6.7)", () => {
  test("FREEBUSY periods outside the range are dropped, the others kept", async () => {
    const { parseCalendarDataSpec, renderCalendarData } = await import("../../protocols/http/dav/caldav-data.ts");
    const { parseXml } = await import("../../protocols/http/dav/xml.ts");
    const text = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", "BEGIN:VFREEBUSY", "UID:fb", "DTSTAMP:20260101T000000Z", "FREEBUSY:20260301T100000Z/20260301T110000Z,20260305T100000Z/PT1H", "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20260310T100000Z/20260310T110000Z", "END:VFREEBUSY", "END:VCALENDAR", ""].join("\r\n");
    const spec = parseCalendarDataSpec(parseXml('<C:calendar-data xmlns:C="urn:ietf:params:xml:ns:caldav"><C:limit-freebusy-set start="20260304T000000Z" end="20260306T000000Z"/></C:calendar-data>'));
    const root = new ICAL.Component(ICAL.parse(text));
    const out = renderCalendarData(spec, new TextEncoder().encode(text), root, { floatingTz: null, instances: () => [], serialize: (r) => r.toString() + "\r\n" });
    expect(out).toContain("FREEBUSY:20260305T100000Z/PT1H");
    expect(out).not.toContain("20260301T100000Z");
    expect(out).not.toContain("BUSY-TENTATIVE");
  });
});
