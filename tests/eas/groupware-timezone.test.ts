/**
 * The EAS TIMEZONE blob (MS-ASDTYPE / MS-ASCAL Timezone): encoding zones of
 * both hemispheres, with and without DST, decoding them back to the IANA
 * zone, a blob of no known zone becoming a custom VTIMEZONE that keeps the
 * wall-clock time, and the malformed-blob corpus answered with EasDataError.
 */
import { describe, expect, test } from "bun:test";
import ICAL from "ical.js";
import { decodeTimezone, encodeTimezone, packTimezone, timezoneInfo, unpackTimezone, type TzInfo } from "../../protocols/http/eas/groupware/timezone.ts";
import { EasDataError } from "../../protocols/http/eas/groupware/codec.ts";

const rule = (month: number, week: number, hour: number, dayOfWeek = 0) => ({ year: 0, month, dayOfWeek, day: week, hour, minute: 0, second: 0 });

/** UTC offset (minutes) of a zone text at a wall-clock time, through ical.js. */
function offsetOf(vtimezone: string, tzid: string, wall: string): number {
  const zone = new ICAL.Timezone({ component: new ICAL.Component(ICAL.parse(vtimezone) as unknown[]), tzid });
  const t = ICAL.Time.fromDateTimeString(wall);
  t.zone = zone;
  return zone.utcOffset(t) / 60;
}

describe("encodeTimezone", () => {
  const cases: [string, Partial<TzInfo>][] = [
    // Europe: last Sunday of March 02:00 -> CEST, last Sunday of October 03:00 (CEST wall clock) -> CET
    ["Europe/Berlin", { bias: -60, standardName: "W. Europe Standard Time", daylightName: "W. Europe Daylight Time", standardDate: rule(10, 5, 3), daylightDate: rule(3, 5, 2), daylightBias: -60 }],
    // US since 2007: second Sunday of March, first Sunday of November, both 02:00
    ["America/New_York", { bias: 300, standardName: "Eastern Standard Time", standardDate: rule(11, 1, 2), daylightDate: rule(3, 2, 2), daylightBias: -60 }],
    // southern hemisphere: DST from the first Sunday of October to the first Sunday of April
    ["Australia/Sydney", { bias: -600, standardName: "AUS Eastern Standard Time", standardDate: rule(4, 1, 3), daylightDate: rule(10, 1, 2), daylightBias: -60 }],
    // no DST, a half-hour zone
    ["Asia/Kolkata", { bias: -330, standardName: "India Standard Time", standardDate: null, daylightDate: null, daylightBias: 0 }],
    ["UTC", { bias: 0, standardDate: null, daylightDate: null }],
  ];
  for (const [zone, want] of cases) {
    test(`${zone} in 2026`, () => {
      const info = unpackTimezone(encodeTimezone(zone, null, 2026));
      expect(info).toMatchObject(want);
      expect(info.standardBias).toBe(0);
    });
  }

  test("a Windows zone name is the same zone; null, floating and unknown zones give the zero-bias UTC blob", () => {
    expect(encodeTimezone("W. Europe Standard Time", null, 2026)).toBe(encodeTimezone("Europe/Berlin", null, 2026));
    const utc = encodeTimezone(null, null, 2026);
    expect(Buffer.from(utc, "base64").length).toBe(172);
    expect(unpackTimezone(utc)).toMatchObject({ bias: 0, standardName: "UTC", standardDate: null });
    expect(encodeTimezone("Mars/Olympus_Mons", null, 2026)).toBe(utc);
  });

  test("a zone the object defines itself (a custom TZID with its VTIMEZONE) is encoded from that definition", () => {
    const vtz = [
      "BEGIN:VTIMEZONE",
      "TZID:My Office Zone",
      "BEGIN:STANDARD",
      "DTSTART:19701025T030000",
      "TZOFFSETFROM:+0300",
      "TZOFFSETTO:+0200",
      "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
      "END:STANDARD",
      "BEGIN:DAYLIGHT",
      "DTSTART:19700329T020000",
      "TZOFFSETFROM:+0200",
      "TZOFFSETTO:+0300",
      "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
      "END:DAYLIGHT",
      "END:VTIMEZONE",
      "",
    ].join("\r\n");
    const info = unpackTimezone(encodeTimezone("My Office Zone", vtz, 2026));
    expect(info).toMatchObject({ bias: -120, standardName: "My Office Zone", standardDate: rule(10, 5, 3), daylightDate: rule(3, 5, 2), daylightBias: -60 });
  });

  test("the transitions are those of the event's year (the dates move, the rule stays)", () => {
    // 2027: last Sunday of March is the 28th, of October the 31st; the rule form is the same as 2026's
    expect(encodeTimezone("Europe/Berlin", null, 2027)).toBe(encodeTimezone("Europe/Berlin", null, 2026));
    // an absurd year falls back to the current one instead of computing far-away transitions
    expect(encodeTimezone("Europe/Berlin", null, 99999)).toBe(encodeTimezone("Europe/Berlin", null, new Date().getUTCFullYear()));
  });
});

describe("decodeTimezone", () => {
  for (const zone of ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]) {
    test(`${zone} round trip, by name and by rules alone`, () => {
      const blob = encodeTimezone(zone, null, new Date().getUTCFullYear());
      const d = decodeTimezone(blob);
      expect(d.tzid).toBe(zone);
      expect(d.vtimezone).toStartWith("BEGIN:VTIMEZONE\r\n");
      expect(d.vtimezone).toContain(`TZID:${zone}\r\n`);
      // without its name (a device writing its own display name), the bias and rules find an equivalent zone
      const info = unpackTimezone(blob);
      const anon = decodeTimezone(packTimezone({ ...info, standardName: "(UTC) My Phone Zone", daylightName: "" }));
      const jan = `${new Date().getUTCFullYear()}-01-15T12:00:00`;
      const jul = `${new Date().getUTCFullYear()}-07-15T12:00:00`;
      expect(offsetOf(anon.vtimezone, anon.tzid, jan)).toBe(offsetOf(d.vtimezone, d.tzid, jan));
      expect(offsetOf(anon.vtimezone, anon.tzid, jul)).toBe(offsetOf(d.vtimezone, d.tzid, jul));
      expect(anon.tzid).not.toStartWith("Custom");
    });
  }

  test("a device writing \"the last Sunday\" as the week it falls in this year still gets its zone", () => {
    const year = new Date().getUTCFullYear();
    const info = unpackTimezone(encodeTimezone("Europe/Berlin", null, year));
    const weekOf = (month: number) => {
      let d = new Date(Date.UTC(year, month, 0)).getUTCDate();
      while (new Date(Date.UTC(year, month - 1, d)).getUTCDay() !== 0) d--;
      return Math.ceil(d / 7);
    };
    const literal = packTimezone({ ...info, standardName: "Mitteleuropäische Zeit", standardDate: { ...info.standardDate!, day: weekOf(10) }, daylightDate: { ...info.daylightDate!, day: weekOf(3) } });
    expect(decodeTimezone(literal).tzid).not.toStartWith("Custom");
    expect(offsetOf(decodeTimezone(literal).vtimezone, decodeTimezone(literal).tzid, `${year}-07-01T12:00:00`)).toBe(120);
  });

  test("UTC and an all-zero blob are UTC", () => {
    expect(decodeTimezone(encodeTimezone("UTC", null, 2026)).tzid).toBe("UTC");
    expect(decodeTimezone(Buffer.alloc(172).toString("base64")).tzid).toBe("UTC");
  });

  test("a blob matching no known zone becomes a custom VTIMEZONE that keeps the wall-clock time", () => {
    // UTC+05:45 with no DST is Nepal: found by its rules. UTC+04:45 is nobody's zone.
    const plain = decodeTimezone(packTimezone({ bias: -285, standardName: "Somewhere", standardDate: null, standardBias: 0, daylightName: "", daylightDate: null, daylightBias: 0 }));
    expect(plain.tzid).toBe("Custom UTC+04:45");
    expect(offsetOf(plain.vtimezone, plain.tzid, "2026-06-01T10:00:00")).toBe(285);
    // with DST: +04:45 / +05:45 switching on the US dates
    const dst = decodeTimezone(packTimezone({ bias: -285, standardName: "Elsewhere", standardDate: rule(11, 1, 2), standardBias: 0, daylightName: "Elsewhere DST", daylightDate: rule(3, 2, 2), daylightBias: -60 }));
    expect(dst.tzid).toStartWith("Custom UTC+04:45");
    expect(dst.vtimezone).toContain("RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU");
    expect(dst.vtimezone).toContain("RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU");
    expect(offsetOf(dst.vtimezone, dst.tzid, "2026-01-10T12:00:00")).toBe(285);
    expect(offsetOf(dst.vtimezone, dst.tzid, "2026-07-10T12:00:00")).toBe(345);
    // the custom zone encodes back to the same rules
    const again = unpackTimezone(encodeTimezone(dst.tzid, dst.vtimezone, 2026));
    expect(again).toMatchObject({ bias: -285, standardDate: rule(11, 1, 2), daylightDate: rule(3, 2, 2), daylightBias: -60 });
    // a known name with rules that are not the zone's is not taken for that zone
    const lying = decodeTimezone(packTimezone({ bias: -285, standardName: "Europe/Berlin", standardDate: null, standardBias: 0, daylightName: "", daylightDate: null, daylightBias: 0 }));
    expect(lying.tzid).toBe("Custom UTC+04:45");
  });

  test("the malformed-blob corpus is an EasDataError with Status 6", () => {
    const good = Buffer.from(encodeTimezone("Europe/Berlin", null, 2026), "base64");
    const patched = (at: number, v: number, size: 16 | 32 = 16) => {
      const b = Buffer.from(good);
      if (size === 16) b.writeUInt16LE(v, at);
      else b.writeInt32LE(v, at);
      return b.toString("base64");
    };
    const corpus: [string, string][] = [
      ["not base64", "this is not base64!"],
      ["empty", ""],
      ["too short", good.subarray(0, 100).toString("base64")],
      ["too long", Buffer.concat([good, Buffer.alloc(4)]).toString("base64")],
      ["huge", "A".repeat(100_000)],
      ["bad padding", good.toString("base64").slice(0, -1)],
      ["month 13", patched(68 + 2, 13)],
      ["day of week 7", patched(68 + 4, 7)],
      ["week 9", patched(152 + 6, 9)],
      ["week 0", patched(152 + 6, 0)],
      ["hour 24", patched(68 + 8, 24)],
      ["minute 60", patched(152 + 10, 60)],
      ["bias beyond +14h", patched(0, 15 * 60, 32)],
      ["bias beyond -14h", patched(0, -15 * 60, 32)],
      ["daylight bias beyond", patched(168, -20 * 60, 32)],
      ["dated rule with day 31 in April", (() => {
        const b = Buffer.from(good);
        [2026, 4, 0, 31, 2, 0, 0, 0].forEach((v, i) => b.writeUInt16LE(v, 152 + 2 * i));
        return b.toString("base64");
      })()],
      ["dated rule in year 1200", (() => {
        const b = Buffer.from(good);
        [1200, 4, 0, 5, 2, 0, 0, 0].forEach((v, i) => b.writeUInt16LE(v, 152 + 2 * i));
        return b.toString("base64");
      })()],
    ];
    for (const [what, blob] of corpus) {
      let err: unknown;
      try {
        decodeTimezone(blob);
      } catch (e) {
        err = e;
      }
      expect([what, err instanceof EasDataError]).toEqual([what, true]);
      expect((err as EasDataError).status).toBe(6);
    }
  });

  test("control characters in a zone name never reach a TZID line", () => {
    const info = timezoneInfo("Asia/Kolkata", null, 2026);
    const d = decodeTimezone(packTimezone({ ...info, bias: -283, standardName: "Evil\r\nBEGIN:VEVENT" }));
    expect(d.tzid).toBe("Custom UTC+04:43");
    expect(d.vtimezone).not.toContain("BEGIN:VEVENT");
  });
});
