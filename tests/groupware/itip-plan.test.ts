/**
 * iTIP planning and generation (src/groupware/scheduling/outgoing.ts,
 * itip.ts, imip.ts, sender-auth.ts): what an organizer's or an attendee's
 * CalDAV write sends (RFC 6638 §3.2), the REQUEST/REPLY/CANCEL objects
 * (RFC 5546 §3.2), the iMIP message around them (RFC 6047 §2), and which
 * incoming senders are trusted.
 */
import { describe, expect, test } from "bun:test";
import ICAL from "ical.js";
import { parseCalendarObject, parseItipMessage, serialize } from "../../src/groupware/ical/index.ts";
import { planChange } from "../../src/groupware/scheduling/outgoing.ts";
import { buildImipMessage, findCalendarPart, imipSubject } from "../../src/groupware/scheduling/imip.ts";
import { checkSender } from "../../src/groupware/scheduling/sender-auth.ts";
import { eventSummary } from "../../src/groupware/scheduling/index.ts";
import { parseMime } from "../../mail/parse.ts";
import { headerValue } from "../../mail/headers.ts";

const NOW = Date.UTC(2026, 11, 7, 9, 0, 0);
const ALICE = new Set(["alice@example.org", "a.liddell@example.org"]);
const BOB = new Set(["bob@example.org"]);

interface EvOpts {
  summary?: string;
  location?: string;
  start?: string;
  sequence?: number;
  status?: string;
  attendees?: string[];
  organizerParams?: string;
  extra?: string;
  overrides?: string[];
  rrule?: string;
}

function ev(o: EvOpts = {}): ICAL.Component {
  const attendees = o.attendees ?? ["ATTENDEE;CN=Alice;PARTSTAT=ACCEPTED:mailto:alice@example.org", "ATTENDEE;CN=Bob;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bob@example.org", "ATTENDEE;CN=Carol;PARTSTAT=NEEDS-ACTION:mailto:carol@remote.test"];
  const lines = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//test//EN",
    "BEGIN:VEVENT",
    "UID:meeting-1@example.org",
    "DTSTAMP:20261201T100000Z",
    `DTSTART:${o.start ?? "20261210T090000Z"}`,
    "DURATION:PT1H",
    `SUMMARY:${o.summary ?? "Planning"}`,
    `LOCATION:${o.location ?? "Room 1"}`,
    ...(o.rrule ? [`RRULE:${o.rrule}`] : []),
    `SEQUENCE:${o.sequence ?? 0}`,
    ...(o.status ? [`STATUS:${o.status}`] : []),
    `ORGANIZER${o.organizerParams ?? ";CN=Alice"}:mailto:alice@example.org`,
    ...attendees,
    ...(o.extra ? [o.extra] : []),
    "END:VEVENT",
    ...(o.overrides ?? []),
    "END:VCALENDAR",
    "",
  ];
  return parseCalendarObject(lines.join("\r\n")).root;
}

const recipients = (p: { to: { address: string }[] }) => p.to.map((t) => t.address).sort();
const text = (c: ICAL.Component) => serialize(c);

describe("organizer side", () => {
  test("a new event sends one REQUEST to the SERVER attendees, not to the organizer nor CLIENT/NONE ones", () => {
    const after = ev({ attendees: ["ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.org", "ATTENDEE:mailto:bob@example.org", "ATTENDEE;SCHEDULE-AGENT=CLIENT:mailto:dave@example.org", "ATTENDEE;SCHEDULE-AGENT=NONE:mailto:erin@example.org", "ATTENDEE:mailto:carol@remote.test"] });
    const plans = planChange(null, after, ALICE, NOW);
    expect(plans.map((p) => p.method)).toEqual(["REQUEST"]);
    expect(recipients(plans[0]!)).toEqual(["bob@example.org", "carol@remote.test"]);
    expect(plans[0]!.from).toBe("alice@example.org");
    const t = text(plans[0]!.calendar);
    expect(t).toContain("METHOD:REQUEST\r\n");
    expect(t).toContain("UID:meeting-1@example.org\r\n");
    expect(t).toContain("DTSTAMP:20261207T090000Z\r\n");
    // The whole event goes: every attendee line, also the CLIENT-scheduled one.
    expect(t).toContain("dave@example.org");
  });

  test("an organizer writing through an alias is still the organizer", () => {
    const after = ev().getAllSubcomponents("vevent")[0]!;
    after.updatePropertyWithValue("organizer", "mailto:A.Liddell@example.org");
    const plans = planChange(null, after.parent!, ALICE, NOW);
    expect(plans[0]!.method).toBe("REQUEST");
    expect(plans[0]!.from).toBe("a.liddell@example.org");
  });

  test("a PARTSTAT refresh or a new description sends nothing; a new time, summary, location or SEQUENCE resends to all", () => {
    const before = ev();
    expect(planChange(before, ev({ attendees: ["ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.org", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.org", "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:carol@remote.test"] }), ALICE, NOW)).toEqual([]);
    expect(planChange(before, ev({ extra: "DESCRIPTION:agenda attached" }), ALICE, NOW)).toEqual([]);
    for (const changed of [ev({ start: "20261210T100000Z" }), ev({ summary: "Planning (moved)" }), ev({ location: "Room 2" }), ev({ sequence: 1 }), ev({ rrule: "FREQ=WEEKLY;COUNT=3" })]) {
      const plans = planChange(before, changed, ALICE, NOW);
      expect(plans.map((p) => p.method)).toEqual(["REQUEST"]);
      expect(recipients(plans[0]!)).toEqual(["bob@example.org", "carol@remote.test"]);
      expect(plans[0]!.update).toBe(true);
    }
  });

  test("an added attendee alone gets a REQUEST; a removed one gets a CANCEL with only its ATTENDEE line", () => {
    const before = ev();
    const after = ev({ attendees: ["ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.org", "ATTENDEE:mailto:bob@example.org", "ATTENDEE:mailto:dan@example.org"] });
    const plans = planChange(before, after, ALICE, NOW);
    expect(plans.map((p) => p.method)).toEqual(["CANCEL", "REQUEST"]);
    expect(recipients(plans[0]!)).toEqual(["carol@remote.test"]);
    expect(recipients(plans[1]!)).toEqual(["dan@example.org"]);
    const cancel = text(plans[0]!.calendar);
    expect(cancel).toContain("METHOD:CANCEL\r\n");
    expect(cancel).toContain("STATUS:CANCELLED\r\n");
    expect(cancel).toContain("carol@remote.test");
    expect(cancel).not.toContain("bob@example.org");
  });

  test("deleting sends CANCEL to everyone; STATUS:CANCELLED too, once", () => {
    const before = ev();
    const del = planChange(before, null, ALICE, NOW);
    expect(del.map((p) => p.method)).toEqual(["CANCEL"]);
    expect(recipients(del[0]!)).toEqual(["bob@example.org", "carol@remote.test"]);
    const cancelled = ev({ status: "CANCELLED", sequence: 1 });
    expect(planChange(before, cancelled, ALICE, NOW).map((p) => p.method)).toEqual(["CANCEL"]);
    expect(planChange(cancelled, cancelled, ALICE, NOW)).toEqual([]);
    expect(planChange(cancelled, null, ALICE, NOW)).toEqual([]);
  });

  test("the organizer's SCHEDULE-STATUS parameters are not sent on", () => {
    const after = ev({ attendees: ["ATTENDEE;SCHEDULE-STATUS=1.2:mailto:bob@example.org"] });
    const t = text(planChange(null, after, ALICE, NOW)[0]!.calendar);
    expect(t).not.toContain("SCHEDULE-STATUS");
  });

  test("a TZID given only as an IANA name gets its VTIMEZONE in the REQUEST (the receiver may not know it)", () => {
    const after = ev({ start: "20261210T090000" }).getAllSubcomponents("vevent")[0]!;
    after.removeAllProperties("dtstart");
    after.addProperty(ICAL.Property.fromString("DTSTART;TZID=Europe/Berlin:20261210T090000"));
    const t = text(planChange(null, after.parent!, ALICE, NOW)[0]!.calendar);
    expect(t).toContain("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n");
    expect(t.indexOf("BEGIN:VTIMEZONE")).toBeLessThan(t.indexOf("BEGIN:VEVENT"));
  });

  test("a huge attendee list is one REQUEST with every recipient (up to the parser's 500)", () => {
    const many = Array.from({ length: 480 }, (_, i) => `ATTENDEE:mailto:user${i}@example.org`);
    const plans = planChange(null, ev({ attendees: many }), ALICE, NOW);
    expect(plans.length).toBe(1);
    expect(plans[0]!.to.length).toBe(480);
  });
});

describe("attendee side", () => {
  const accepted = (who = "bob@example.org", ps = "ACCEPTED") => ev({ attendees: ["ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.org", `ATTENDEE;CN=Bob;PARTSTAT=${ps}:mailto:${who}`, "ATTENDEE:mailto:carol@remote.test"] });

  test("changing its own PARTSTAT sends a REPLY to the organizer with only its ATTENDEE line", () => {
    const plans = planChange(ev(), accepted(), BOB, NOW);
    expect(plans.length).toBe(1);
    const p = plans[0]!;
    expect(p.method).toBe("REPLY");
    expect(p.from).toBe("bob@example.org");
    expect(recipients(p)).toEqual(["alice@example.org"]);
    expect(p.partstat).toBe("ACCEPTED");
    const t = text(p.calendar);
    expect(t).toContain("METHOD:REPLY\r\n");
    expect(t).toMatch(/ATTENDEE;CN=Bob;PARTSTAT=ACCEPTED:mailto:bob@example.org\r\n/);
    expect(t).not.toContain("carol@remote.test");
    expect(t).toContain("ORGANIZER;CN=Alice:mailto:alice@example.org\r\n");
    expect(t).toContain("REQUEST-STATUS:2.0;Success\r\n");
    // RFC 5546 §3.2.3: a REPLY has one ATTENDEE.
    expect(parseItipMessage(t).objects[0]!.attendees.length).toBe(1);
  });

  test("no change of PARTSTAT, no REPLY; a client storing an unanswered invitation replies nothing", () => {
    expect(planChange(ev(), ev({ extra: "X-MOZ-LASTACK:20261207T090000Z" }), BOB, NOW)).toEqual([]);
    expect(planChange(null, ev(), BOB, NOW)).toEqual([]);
  });

  test("deleting declines, unless the event is cancelled", () => {
    const plans = planChange(accepted(), null, BOB, NOW);
    expect(plans.map((p) => [p.method, p.partstat])).toEqual([["REPLY", "DECLINED"]]);
    expect(text(plans[0]!.calendar)).toMatch(/PARTSTAT=DECLINED/);
    expect(planChange(ev({ status: "CANCELLED" }), null, BOB, NOW)).toEqual([]);
  });

  test("the organizer scheduling itself (SCHEDULE-AGENT=CLIENT on ORGANIZER) gets no REPLY from us", () => {
    expect(planChange(ev({ organizerParams: ";SCHEDULE-AGENT=CLIENT" }), ev({ organizerParams: ";SCHEDULE-AGENT=CLIENT", attendees: ["ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.org"] }), BOB, NOW)).toEqual([]);
  });

  test("an answer for one overridden instance replies with that RECURRENCE-ID only", () => {
    const override = (ps: string) => [
      "BEGIN:VEVENT",
      "UID:meeting-1@example.org",
      "DTSTAMP:20261201T100000Z",
      "RECURRENCE-ID:20261217T090000Z",
      "DTSTART:20261217T100000Z",
      "DURATION:PT1H",
      "SUMMARY:Planning",
      "ORGANIZER;CN=Alice:mailto:alice@example.org",
      `ATTENDEE;PARTSTAT=${ps}:mailto:bob@example.org`,
      "END:VEVENT",
    ];
    const before = ev({ rrule: "FREQ=WEEKLY;COUNT=4", overrides: override("NEEDS-ACTION") });
    const after = ev({ rrule: "FREQ=WEEKLY;COUNT=4", overrides: override("DECLINED") });
    const plans = planChange(before, after, BOB, NOW);
    expect(plans.length).toBe(1);
    const t = text(plans[0]!.calendar);
    expect(t).toContain("RECURRENCE-ID:20261217T090000Z\r\n");
    expect(t.match(/BEGIN:VEVENT/g)!.length).toBe(1);
    expect(t).toContain("PARTSTAT=DECLINED");
  });
});

describe("iMIP message", () => {
  const root = ev();
  const plans = planChange(null, root, ALICE, NOW);
  const calendar = serialize(plans[0]!.calendar);
  const obj = parseCalendarObject(serialize(root));
  const raw = buildImipMessage({ method: "REQUEST", from: { name: "Alice", address: "alice@example.org" }, to: [{ name: "Bob", address: "bob@example.org" }], calendar, event: eventSummary(obj, root), now: NOW });

  test("multipart/mixed: alternative (text/plain + text/calendar;method=REQUEST) and invite.ics as application/ics", () => {
    const m = parseMime(raw);
    expect(`${m.root.type}/${m.root.subtype}`).toBe("multipart/mixed");
    const alt = m.root.parts![0]!;
    expect(`${alt.type}/${alt.subtype}`).toBe("multipart/alternative");
    expect(alt.parts!.map((p) => `${p.type}/${p.subtype}`)).toEqual(["text/plain", "text/calendar"]);
    expect(alt.parts![1]!.params.method).toBe("REQUEST");
    expect(alt.parts![1]!.params.charset?.toLowerCase()).toBe("utf-8");
    const att = m.root.parts![1]!;
    expect(`${att.type}/${att.subtype}`).toBe("application/ics");
    expect(att.disposition?.type).toBe("attachment");
    expect(att.disposition?.params.filename).toBe("invite.ics");
    expect(headerValue(m.headers, "from")).toBe("Alice <alice@example.org>");
    expect(headerValue(m.headers, "to")).toBe("Bob <bob@example.org>");
    expect(headerValue(m.headers, "subject")).toMatch(/^Invitation: Planning @ Thu, Dec 10, 2026 09:00 - 10:00 \(UTC\)$/);
    const body = new TextDecoder().decode(raw);
    expect(body).toContain("When:      Thu, Dec 10, 2026 09:00 - 10:00 (UTC)");
    expect(body).toContain("Where:     Room 1");
    expect(body).toContain("Organizer: Alice <alice@example.org>");
  });

  test("findCalendarPart gives back the calendar byte for byte, and the method", () => {
    const part = findCalendarPart(raw)!;
    expect(part.method).toBe("REQUEST");
    expect(part.text).toBe(calendar);
    const parsed = parseItipMessage(part.bytes);
    expect(parsed.method).toBe("REQUEST");
    expect(parsed.objects[0]!.uid).toBe("meeting-1@example.org");
  });

  test("an application/ics attachment alone is found too; a message without one gives null", () => {
    const only = new TextEncoder().encode(`From: a@x.test\r\nContent-Type: application/ics; name=invite.ics\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from(calendar).toString("base64")}\r\n`);
    expect(findCalendarPart(only)!.text).toBe(calendar);
    expect(findCalendarPart(new TextEncoder().encode("From: a@x.test\r\nSubject: hi\r\n\r\nhello\r\n"))).toBeNull();
  });

  test("subjects", () => {
    const e = eventSummary(obj, root);
    expect(imipSubject({ method: "REPLY", event: e, partstat: "ACCEPTED" })).toStartWith("Accepted: Planning @ ");
    expect(imipSubject({ method: "REPLY", event: e, partstat: "DECLINED" })).toStartWith("Declined: Planning");
    expect(imipSubject({ method: "CANCEL", event: e })).toStartWith("Canceled: Planning");
    expect(imipSubject({ method: "REQUEST", event: e, update: true })).toStartWith("Updated invitation: Planning");
  });
});

describe("who is trusted for incoming iMIP", () => {
  const pass = { result: "pass" };
  test("an authenticated local submission", () => {
    expect(checkSender({ kind: "submit", accountId: 1 }, "alice@example.org").ok).toBe(true);
  });
  test("remote mail needs an authenticated From domain", () => {
    const inbound = (auth: Parameters<typeof checkSender>[0] extends infer O ? (O extends { kind: "inbound"; auth: infer A } ? A : never) : never, mailFrom = "carol@remote.test") => ({ kind: "inbound" as const, mailFrom, auth });
    expect(checkSender(inbound(null), "carol@remote.test").ok).toBe(false);
    expect(checkSender(undefined, "carol@remote.test").ok).toBe(false);
    expect(checkSender(inbound({ dmarc: { status: { result: "pass", header: { from: "remote.test" } } } }), "carol@remote.test").ok).toBe(true);
    expect(checkSender(inbound({ dmarc: { status: { result: "fail" } } }), "carol@remote.test").ok).toBe(false);
    expect(checkSender(inbound({ dkim: { results: [{ signingDomain: "remote.test", status: pass }] } }), "carol@remote.test").ok).toBe(true);
    expect(checkSender(inbound({ dkim: { results: [{ signingDomain: "mail.remote.test", status: pass }] } }), "carol@remote.test").ok).toBe(false);
    expect(checkSender(inbound({ dkim: { results: [{ signingDomain: "evil.test", status: pass }] } }), "carol@remote.test").ok).toBe(false);
    expect(checkSender(inbound({ spf: { domain: "remote.test", status: pass } }), "carol@remote.test").ok).toBe(true);
    expect(checkSender(inbound({ spf: { domain: "evil.test", status: pass } }, "x@evil.test"), "carol@remote.test").ok).toBe(false);
    // The operator's explicit "none" policy trusts any From (closed test setups only).
    expect(checkSender(inbound(null), "carol@remote.test", "none").ok).toBe(true);
  });
});
