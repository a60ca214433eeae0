/**
 * The attendee's note on an answer (RFC 5546 §3.2.3: a REPLY may carry
 * COMMENT): answer.ts stores it on the components answered, itip.ts
 * buildReply carries it, and the scheduler replies again when only the note
 * changed (answered a second time with a comment).
 */
import { test, expect, describe } from "bun:test";
import ICAL from "ical.js";
import { applyAnswers, setComment, MAX_COMMENT } from "../../src/groupware/scheduling/answer.ts";
import { buildReply } from "../../src/groupware/scheduling/itip.ts";
import { planChange } from "../../src/groupware/scheduling/outgoing.ts";
import { serialize } from "../../src/groupware/ical/index.ts";

const MINE = new Set(["alice@example.test"]);
const NOW = Date.UTC(2026, 11, 7, 12);

function stored(extra: string[] = []): ICAL.Component {
  return ICAL.Component.fromString(
    [
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "PRODID:-//test//EN",
      "BEGIN:VEVENT",
      "UID:note-1@example.test",
      "DTSTAMP:20261201T000000Z",
      "DTSTART:20261210T090000Z",
      "DTEND:20261210T100000Z",
      "SUMMARY:Review",
      "SEQUENCE:0",
      "ORGANIZER;CN=Bob:mailto:bob@example.test",
      "ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.test",
      "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:alice@example.test",
      ...extra,
      "END:VEVENT",
      "END:VCALENDAR",
    ].join("\r\n"),
  );
}

const clone = (c: ICAL.Component) => ICAL.Component.fromString(serialize(c));

describe("reply comment", () => {
  test("applyAnswers returns the answered components; setComment replaces COMMENT; buildReply carries it", () => {
    const root = stored(["COMMENT:the organizer's old note"]);
    const answered = applyAnswers(root, MINE, [{ partstat: "ACCEPTED", instance: null }]);
    expect(answered.length).toBe(1);
    setComment(answered, "I'll bring the slides\r\nand coffee\u0007");
    const ev = root.getFirstSubcomponent("vevent")!;
    expect(ev.getAllProperties("comment").map((p) => p.getFirstValue())).toEqual(["I'll bring the slides\nand coffee"]);
    const reply = buildReply(root, "alice@example.test", new Set([""]), NOW);
    const text = serialize(reply);
    expect(text).toContain("METHOD:REPLY");
    expect(text).toMatch(/ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.test/);
    expect(text).toContain("COMMENT:I'll bring the slides\\nand coffee");
  });

  test('an empty comment removes the note; a long one is cut to MAX_COMMENT', () => {
    const root = stored(["COMMENT:old"]);
    const answered = applyAnswers(root, MINE, [{ partstat: "DECLINED", instance: null }]);
    setComment(answered, "   ");
    expect(root.getFirstSubcomponent("vevent")!.hasProperty("comment")).toBe(false);
    setComment(answered, "x".repeat(MAX_COMMENT + 500));
    expect(String(root.getFirstSubcomponent("vevent")!.getFirstPropertyValue("comment")).length).toBe(MAX_COMMENT);
  });

  test("the scheduler replies when only the note changed, not when nothing changed", () => {
    const before = stored();
    applyAnswers(before, MINE, [{ partstat: "ACCEPTED", instance: null }]);
    const same = clone(before);
    expect(planChange(before, same, MINE, NOW)).toEqual([]);
    const noted = clone(before);
    setComment([noted.getFirstSubcomponent("vevent")!], "Running 5 minutes late");
    const plan = planChange(before, noted, MINE, NOW);
    expect(plan.length).toBe(1);
    expect(plan[0]!.method).toBe("REPLY");
    expect(serialize(plan[0]!.calendar)).toContain("COMMENT:Running 5 minutes late");
  });

  test("a NEEDS-ACTION copy with a note sends nothing (no answer given yet)", () => {
    const before = stored();
    const after = clone(before);
    setComment([after.getFirstSubcomponent("vevent")!], "hm");
    expect(planChange(before, after, MINE, NOW)).toEqual([]);
  });
});
