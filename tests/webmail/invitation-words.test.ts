/**
 * The invitation card's words (web/src/invitation.ts) outside a browser: a
 * recurrence rule (RFC 5545 §3.3.10) and a time span in each language and in
 * the user's zone. The card itself is driven in Chromium by invitation.test.ts.
 */
import { test, expect, describe, afterAll } from "bun:test";

// The i18n module sets <html lang> on a language change: a minimal document is enough outside a browser.
(globalThis as { document?: unknown }).document ??= { documentElement: { lang: "" } };
const i18n = await import("../../web/src/i18n/index.ts");
const { ruleText, spanText } = await import("../../web/src/invitation.ts");

afterAll(() => {
  i18n.setLang("en");
});

describe("invitation card words", () => {
  test("recurrence rules in English, German, French and Spanish", () => {
    i18n.setLang("en");
    expect(ruleText("FREQ=WEEKLY;BYDAY=TU,TH;COUNT=10")).toBe("Every week on Tuesday and Thursday, 10 times");
    expect(ruleText("FREQ=DAILY;INTERVAL=2")).toBe("Every 2 days");
    expect(ruleText("FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20301231T225959Z")).toBe("Every month on the last Friday, until Tue, Dec 31, 2030");
    expect(ruleText("FREQ=YEARLY;BYMONTH=3;BYDAY=-2SU")).toBe("Every year on the second to last Sunday in March");
    expect(ruleText("FREQ=MONTHLY;BYDAY=+3WE")).toBe("Every month on the third Wednesday");
    expect(ruleText("FREQ=MONTHLY;BYMONTHDAY=15;COUNT=1")).toBe("Every month on day 15, once");
    // What the words can't say is not said wrongly.
    expect(ruleText("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1")).toBe("Repeats (custom rule)");
    expect(ruleText("FREQ=HOURLY")).toBe("Repeats (custom rule)");
    expect(ruleText("garbage")).toBe("Repeats (custom rule)");
    i18n.setLang("de");
    expect(ruleText("FREQ=WEEKLY;BYDAY=TU,TH;COUNT=10")).toBe("Wöchentlich am Dienstag und Donnerstag, 10-mal");
    expect(ruleText("FREQ=WEEKLY;INTERVAL=3")).toBe("Alle 3 Wochen");
    i18n.setLang("fr");
    expect(ruleText("FREQ=WEEKLY;BYDAY=MO;COUNT=4")).toBe("Toutes les semaines, le lundi, 4 fois");
    i18n.setLang("es");
    expect(ruleText("FREQ=YEARLY;INTERVAL=2")).toBe("Cada 2 años");
    expect(ruleText("FREQ=MONTHLY;BYDAY=1MO")).toBe("Todos los meses, el primer lunes");
  });

  test("spans: one day, across days, all day (the end date is exclusive), in the user's zone", () => {
    i18n.setLang("en");
    i18n.setTimeZone("Europe/Berlin");
    const s = Date.UTC(2030, 2, 12, 9);
    expect(spanText({ start: s, end: s + 3600_000, allDay: false, startDate: null, endDate: null })).toBe("Tue, Mar 12, 2030, 10:00 AM – 11:00 AM");
    expect(spanText({ start: s, end: s + 26 * 3600_000, allDay: false, startDate: null, endDate: null })).toBe("Tue, Mar 12, 2030, 10:00 AM – Wed, Mar 13, 2030, 12:00 PM");
    expect(spanText({ start: 0, end: 0, allDay: true, startDate: "2030-04-01", endDate: "2030-04-02" })).toBe("Mon, Apr 1, 2030 (all day)");
    expect(spanText({ start: 0, end: 0, allDay: true, startDate: "2030-04-01", endDate: "2030-04-03" })).toBe("Mon, Apr 1, 2030 – Tue, Apr 2, 2030 (all day)");
    expect(spanText({ start: s, end: s + 3600_000, allDay: false, startDate: null, endDate: null }, "America/New_York")).toBe("Tue, Mar 12, 2030, 5:00 AM – 6:00 AM");
    i18n.setLang("de");
    expect(spanText({ start: s, end: s + 3600_000, allDay: false, startDate: null, endDate: null })).toBe("Di., 12. März 2030, 10:00 – 11:00");
  });
});
