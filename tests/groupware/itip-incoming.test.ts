/**
 * The iMIP processor end to end inside one server (src/groupware/scheduling/):
 * an organizer's write sends REQUEST mail through the submit path, the
 * delivery hook puts the event in the attendee's calendar and the message in
 * their INBOX; the attendee's answer goes back as a REPLY the organizer's
 * copy takes in. Then the decisions of the processor on hostile or odd
 * messages (processIncoming directly, each with the reason it gives):
 * spoofed From, wrong organizer, an older SEQUENCE, malformed
 * text/calendar, huge attendee lists, a reply from someone not invited,
 * CANCEL of one instance and of the whole event.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { folderMessages, waitFor } from "../smtp/helpers.ts";
import type { Account } from "../../storage/api.ts";
import type { Collection, Groupware } from "../../src/groupware/types.ts";
import { processIncoming, listInbox } from "../../src/groupware/scheduling/index.ts";
import { buildImipMessage } from "../../src/groupware/scheduling/imip.ts";
import type { DeliveryOrigin } from "../../src/context.ts";

setDefaultTimeout(30_000);

let srv: TestServer;
let gw: Groupware;
let alice: Account;
let bob: Account;
let mallory: Account;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

beforeAll(async () => {
  srv = await startTestServer({ listeners: [] });
  gw = srv.ctx.groupware;
  alice = await createUser(srv.store, "alice@example.org", "pw", { displayName: "Alice" });
  bob = await createUser(srv.store, "bob@example.org", "pw");
  mallory = await createUser(srv.store, "mallory@example.org", "pw");
});

afterAll(async () => {
  await srv?.close();
});

async function calendar(a: Account): Promise<Collection> {
  await gw.ensureDefaults(a);
  return (await gw.listCollections(a, "calendar")).find((c) => c.isDefault)!;
}

async function bodyOf(a: Account, uid: string): Promise<string | null> {
  const f = await gw.findByUid(a, "calendar", uid);
  return f ? dec(await gw.readBody(f.object)) : null;
}

function event(uid: string, o: { seq?: number; attendees?: string[]; organizer?: string; summary?: string; extra?: string[]; overrides?: string[] } = {}): string {
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//test//EN",
    "BEGIN:VEVENT",
    `UID:${uid}`,
    "DTSTAMP:20261201T100000Z",
    "DTSTART:20261210T090000Z",
    "DTEND:20261210T100000Z",
    `SUMMARY:${o.summary ?? "Planning"}`,
    `SEQUENCE:${o.seq ?? 0}`,
    `ORGANIZER;CN=Alice:mailto:${o.organizer ?? "alice@example.org"}`,
    ...(o.attendees ?? ["ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.org", "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bob@example.org"]),
    ...(o.extra ?? []),
    "END:VEVENT",
    ...(o.overrides ?? []),
    "END:VCALENDAR",
    "",
  ].join("\r\n");
}

/** An iMIP message as a client or another server would send it. */
function mail(from: string, to: string, method: string, calendarText: string, ctMethod = method): Uint8Array {
  const raw = dec(buildImipMessage({ method: method as "REQUEST", from: { name: "", address: from }, to: [{ name: "", address: to }], calendar: calendarText, event: { summary: "x", start: null, end: null, allDay: false, timeZone: null, location: "", organizer: null, attendees: [] } }));
  return enc(ctMethod === method ? raw : raw.replace(`method=${method}`, `method=${ctMethod}`));
}

const asItip = (ics: string, method: string) => ics.replace("VERSION:2.0\r\n", `VERSION:2.0\r\nMETHOD:${method}\r\n`);
const submitted = (a: Account): DeliveryOrigin => ({ kind: "submit", accountId: a.id });
const deps = () => ({ store: srv.store, groupware: gw, log: srv.ctx.log });

describe("invitation and answer through the server", () => {
  test("alice's new event puts the invitation in bob's INBOX and the event in bob's calendar (NEEDS-ACTION)", async () => {
    await gw.putObject(await calendar(alice), "meet.ics", enc(event("round-1@example.org")), { actor: alice });
    const copy = await waitFor(() => bodyOf(bob, "round-1@example.org"));
    expect(copy).toContain("ORGANIZER;CN=Alice:mailto:alice@example.org");
    expect(copy).toMatch(/ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bob@example.org/);
    expect(copy).not.toContain("METHOD:");
    const inbox = (await folderMessages(srv.store, "bob@example.org")).map(dec);
    const invite = inbox.find((m) => m.includes("UID:round-1@example.org"))!;
    expect(invite).toMatch(/^Subject: Invitation: Planning @ Thu, Dec 10, 2026 09:00 - 10:00 \(UTC\)/m);
    expect(invite).toContain("Content-Type: text/calendar; method=REQUEST; charset=utf-8");
    expect(invite).toMatch(/^From: Alice <alice@example.org>/m);
    // RFC 6638 §2.2: the processed message is in bob's schedule inbox too.
    const filed = await waitFor(async () => (await listInbox(srv.store, bob.id)).items.length > 0);
    expect(filed).toBe(true);
    // alice's own copy is unchanged and she got no mail of her own.
    expect((await folderMessages(srv.store, "alice@example.org")).length).toBe(0);
  });

  test("bob accepting in his calendar sends a REPLY; alice's copy shows ACCEPTED, the rest as it was", async () => {
    const found = (await gw.findByUid(bob, "calendar", "round-1@example.org"))!;
    const accepted = dec(await gw.readBody(found.object)).replace("PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bob@example.org", "PARTSTAT=ACCEPTED:mailto:bob@example.org");
    await gw.putObject(found.collection, found.object.resourceName, enc(accepted), { actor: bob, ifMatch: found.object.etag });
    const mine = await waitFor(async () => {
      const b = await bodyOf(alice, "round-1@example.org");
      return b && /PARTSTAT=ACCEPTED[^\r\n]*:mailto:bob@example.org/.test(b) ? b : null;
    });
    expect(mine).toMatch(/ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.org/);
    expect(mine).toContain("SUMMARY:Planning");
    const reply = (await folderMessages(srv.store, "alice@example.org")).map(dec).find((m) => m.includes("METHOD:REPLY"))!;
    expect(reply).toMatch(/^Subject: Accepted: Planning/m);
  });

  test("alice deleting the event cancels bob's copy", async () => {
    await gw.deleteObject(await calendar(alice), "meet.ics", { actor: alice });
    const copy = await waitFor(async () => {
      const b = await bodyOf(bob, "round-1@example.org");
      return b?.includes("STATUS:CANCELLED") ? b : null;
    });
    expect(copy).toContain("UID:round-1@example.org");
  });
});

describe("sending", () => {
  test("an unknown address of a local domain among the attendees does not stop the others' invitations", async () => {
    const c = await calendar(alice);
    const attendees = ["ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.org", "ATTENDEE:mailto:ghost@example.org", "ATTENDEE:mailto:bob@example.org"];
    await gw.putObject(c, "ghost.ics", enc(event("ghost@example.org", { attendees })), { actor: alice });
    const copy = await waitFor(() => bodyOf(bob, "ghost@example.org"));
    expect(copy).toContain("mailto:ghost@example.org");
  });

  test("SCHEDULE-AGENT=CLIENT attendees get nothing from the server", async () => {
    const c = await calendar(alice);
    await gw.putObject(c, "client.ics", enc(event("client-sched@example.org", { attendees: ["ATTENDEE;SCHEDULE-AGENT=CLIENT:mailto:bob@example.org", "ATTENDEE:mailto:mallory@example.org"] })), { actor: alice });
    await waitFor(() => gw.findByUid(mallory, "calendar", "client-sched@example.org"));
    // mallory's copy arrived through the same delivery path; bob, scheduled by the client, got none
    expect(await bodyOf(bob, "client-sched@example.org")).toBeNull();
    expect((await folderMessages(srv.store, "bob@example.org")).map(dec).some((m) => m.includes("client-sched@example.org"))).toBe(false);
  });
});

describe("order", () => {
  test("an event created and deleted at once ends cancelled at the attendee (messages of one account apply in order)", async () => {
    const c = await calendar(alice);
    for (let i = 0; i < 3; i++) {
      const uid = `quick-${i}@example.org`;
      await gw.putObject(c, `quick-${i}.ics`, enc(event(uid)), { actor: alice });
      await gw.deleteObject(c, `quick-${i}.ics`, { actor: alice });
      const copy = await waitFor(async () => {
        const b = await bodyOf(bob, uid);
        return b?.includes("STATUS:CANCELLED") ? b : null;
      });
      expect(copy).toContain(`UID:${uid}`);
    }
  });
});

describe("the processor's decisions", () => {
  test("a REQUEST whose From is not the ORGANIZER is refused", async () => {
    const raw = mail("mallory@example.org", "bob@example.org", "REQUEST", asItip(event("spoof-1@example.org"), "REQUEST"));
    const out = await processIncoming(deps(), { accountId: bob.id, raw, origin: submitted(mallory) });
    expect(out).toMatchObject({ applied: false });
    expect((out as { reason: string }).reason).toContain("is not the organizer");
    expect(await bodyOf(bob, "spoof-1@example.org")).toBeNull();
  });

  test("mail from outside without an authenticated From domain changes nothing", async () => {
    const raw = mail("alice@example.org", "bob@example.org", "REQUEST", asItip(event("spoof-2@example.org"), "REQUEST"));
    for (const origin of [undefined, { kind: "inbound" as const, mailFrom: "alice@example.org", auth: null }, { kind: "inbound" as const, mailFrom: "x@evil.test", auth: { dmarc: { status: { result: "fail" } } } }]) {
      const out = await processIncoming(deps(), { accountId: bob.id, raw, origin });
      expect(out.applied).toBe(false);
    }
    expect(await bodyOf(bob, "spoof-2@example.org")).toBeNull();
    // the same message with a DMARC pass for the From domain is applied
    const ok = await processIncoming(deps(), { accountId: bob.id, raw, origin: { kind: "inbound", mailFrom: "alice@example.org", auth: { dmarc: { status: { result: "pass", header: { from: "example.org" } } } } } });
    expect(ok.applied).toBe(true);
  });

  test("a REQUEST for a UID bob has from another organizer is refused", async () => {
    await processIncoming(deps(), { accountId: bob.id, raw: mail("alice@example.org", "bob@example.org", "REQUEST", asItip(event("owned@example.org"), "REQUEST")), origin: submitted(alice) });
    expect(await bodyOf(bob, "owned@example.org")).toContain("SUMMARY:Planning");
    const hijack = asItip(event("owned@example.org", { organizer: "mallory@example.org", summary: "Hijacked", seq: 5 }), "REQUEST");
    const out = await processIncoming(deps(), { accountId: bob.id, raw: mail("mallory@example.org", "bob@example.org", "REQUEST", hijack), origin: submitted(mallory) });
    expect(out.applied).toBe(false);
    expect((out as { reason: string }).reason).toContain("differs from the stored organizer");
    expect(await bodyOf(bob, "owned@example.org")).not.toContain("Hijacked");
    // bob's own event (no ORGANIZER) with a UID someone knows cannot be taken over either
    await gw.putObject(await calendar(bob), "own.ics", enc(event("own@example.org").replace(/ORGANIZER[^\r\n]*\r\n/, "").replace(/ATTENDEE[^\r\n]*\r\n/g, "")), { schedule: false });
    const takeover = await processIncoming(deps(), { accountId: bob.id, raw: mail("alice@example.org", "bob@example.org", "REQUEST", asItip(event("own@example.org", { summary: "Taken", seq: 9 }), "REQUEST")), origin: submitted(alice) });
    expect((takeover as { reason: string }).reason).toContain("the user's own event");
    expect(await bodyOf(bob, "own@example.org")).not.toContain("Taken");
  });

  test("an older SEQUENCE is refused; a newer one updates; the same one keeps bob's answer", async () => {
    const send = (seq: number, summary: string) =>
      processIncoming(deps(), { accountId: bob.id, raw: mail("alice@example.org", "bob@example.org", "REQUEST", asItip(event("seq@example.org", { seq, summary }), "REQUEST")), origin: submitted(alice) });
    expect((await send(3, "v3")).applied).toBe(true);
    const old = await send(2, "v2");
    expect(old.applied).toBe(false);
    expect((old as { reason: string }).reason).toContain("older");
    expect(await bodyOf(bob, "seq@example.org")).toContain("SUMMARY:v3");
    // bob answers (without scheduling, as if his client did it elsewhere), then the same SEQUENCE comes again
    const f = (await gw.findByUid(bob, "calendar", "seq@example.org"))!;
    await gw.putObject(f.collection, f.object.resourceName, enc(dec(await gw.readBody(f.object)).replace("PARTSTAT=NEEDS-ACTION", "PARTSTAT=TENTATIVE")), { schedule: false });
    expect((await send(3, "v3 again")).applied).toBe(true);
    const now = (await bodyOf(bob, "seq@example.org"))!;
    expect(now).toContain("SUMMARY:v3 again");
    expect(now).toMatch(/PARTSTAT=TENTATIVE[^\r\n]*:mailto:bob@example.org/);
    // a new SEQUENCE resets it to what the organizer sends
    expect((await send(4, "v4")).applied).toBe(true);
    expect(await bodyOf(bob, "seq@example.org")).toMatch(/PARTSTAT=NEEDS-ACTION[^\r\n]*:mailto:bob@example.org/);
  });

  test("malformed text/calendar, a method mismatch, an unprocessed method: refused with a reason, nothing thrown", async () => {
    const bad = [
      mail("alice@example.org", "bob@example.org", "REQUEST", "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:x\r\n"),
      mail("alice@example.org", "bob@example.org", "REQUEST", "\x00\x01garbage\xff"),
      mail("alice@example.org", "bob@example.org", "REQUEST", asItip(event("mm@example.org"), "CANCEL")),
      mail("alice@example.org", "bob@example.org", "REQUEST", asItip(event("mm2@example.org"), "REQUEST"), "PUBLISH"),
      mail("alice@example.org", "bob@example.org", "REQUEST", asItip(event("mm3@example.org"), "COUNTER"), "COUNTER"),
    ];
    for (const raw of bad) {
      const out = await processIncoming(deps(), { accountId: bob.id, raw, origin: submitted(alice) });
      expect(out.applied).toBe(false);
      expect((out as { reason: string }).reason.length).toBeGreaterThan(5);
    }
    const plain = await processIncoming(deps(), { accountId: bob.id, raw: enc("From: alice@example.org\r\nSubject: hi\r\n\r\nhello\r\n"), origin: submitted(alice) });
    expect(plain).toEqual({ applied: false, reason: "no calendar part", calendar: false });
  });

  test("a huge attendee list: 450 attendees are applied, 5,000 are refused by the parser's limit", async () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => `ATTENDEE:mailto:user${i}@example.net`).concat("ATTENDEE:mailto:bob@example.org");
    const ok = await processIncoming(deps(), { accountId: bob.id, raw: mail("alice@example.org", "bob@example.org", "REQUEST", asItip(event("many@example.org", { attendees: many(450) }), "REQUEST")), origin: submitted(alice) });
    expect(ok.applied).toBe(true);
    const t0 = performance.now();
    const big = await processIncoming(deps(), { accountId: bob.id, raw: mail("alice@example.org", "bob@example.org", "REQUEST", asItip(event("toomany@example.org", { attendees: many(5000) }), "REQUEST")), origin: submitted(alice) });
    expect(big.applied).toBe(false);
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(await bodyOf(bob, "toomany@example.org")).toBeNull();
  });

  test("REPLY: only from the replying attendee, only for invited attendees, one attendee per reply", async () => {
    await gw.putObject(await calendar(alice), "r.ics", enc(event("reply@example.org")), { schedule: false });
    const reply = (who: string, lines = [`ATTENDEE;PARTSTAT=DECLINED:mailto:${who}`]) =>
      asItip(event("reply@example.org", { attendees: lines }), "REPLY");
    const spoof = await processIncoming(deps(), { accountId: alice.id, raw: mail("mallory@example.org", "alice@example.org", "REPLY", reply("bob@example.org")), origin: submitted(mallory) });
    expect((spoof as { reason: string }).reason).toContain("is not the replying attendee");
    const crasher = await processIncoming(deps(), { accountId: alice.id, raw: mail("mallory@example.org", "alice@example.org", "REPLY", reply("mallory@example.org")), origin: submitted(mallory) });
    expect((crasher as { reason: string }).reason).toContain("is not an attendee");
    const two = await processIncoming(deps(), { accountId: alice.id, raw: mail("bob@example.org", "alice@example.org", "REPLY", reply("bob@example.org", ["ATTENDEE;PARTSTAT=DECLINED:mailto:bob@example.org", "ATTENDEE;PARTSTAT=DECLINED:mailto:alice@example.org"])), origin: submitted(bob) });
    expect((two as { reason: string }).reason).toContain("exactly one attendee");
    expect(await bodyOf(alice, "reply@example.org")).toMatch(/PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bob@example.org/);
    const real = await processIncoming(deps(), { accountId: alice.id, raw: mail("bob@example.org", "alice@example.org", "REPLY", reply("bob@example.org")), origin: submitted(bob) });
    expect(real.applied).toBe(true);
    const now = (await bodyOf(alice, "reply@example.org"))!;
    expect(now).toMatch(/PARTSTAT=DECLINED[^\r\n]*:mailto:bob@example.org/);
    expect(now).toMatch(/ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.org/);
  });

  test("a REPLY for one instance of a series creates that instance's override in the organizer's copy", async () => {
    await gw.putObject(await calendar(alice), "series.ics", enc(event("series@example.org", { extra: ["RRULE:FREQ=WEEKLY;COUNT=4"] })), { schedule: false });
    const r = [
      "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "METHOD:REPLY", "BEGIN:VEVENT", "UID:series@example.org", "DTSTAMP:20261207T100000Z",
      "RECURRENCE-ID:20261217T090000Z", "DTSTART:20261217T090000Z", "SEQUENCE:0", "ORGANIZER:mailto:alice@example.org",
      "ATTENDEE;PARTSTAT=DECLINED:mailto:bob@example.org", "END:VEVENT", "END:VCALENDAR", "",
    ].join("\r\n");
    const out = await processIncoming(deps(), { accountId: alice.id, raw: mail("bob@example.org", "alice@example.org", "REPLY", r), origin: submitted(bob) });
    expect(out.applied).toBe(true);
    const b = (await bodyOf(alice, "series@example.org"))!;
    expect(b.match(/BEGIN:VEVENT/g)!.length).toBe(2);
    expect(b).toContain("RECURRENCE-ID:20261217T090000Z");
    expect(b).toContain("DTEND:20261217T100000Z");
    // the master keeps bob's original answer
    expect(b).toMatch(/PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bob@example.org/);
  });

  test("CANCEL of one instance adds an EXDATE; a CANCEL of the event marks it cancelled; only from the organizer", async () => {
    const req = asItip(event("cx@example.org", { extra: ["RRULE:FREQ=WEEKLY;COUNT=4"] }), "REQUEST");
    expect((await processIncoming(deps(), { accountId: bob.id, raw: mail("alice@example.org", "bob@example.org", "REQUEST", req), origin: submitted(alice) })).applied).toBe(true);
    const one = [
      "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "METHOD:CANCEL", "BEGIN:VEVENT", "UID:cx@example.org", "DTSTAMP:20261207T100000Z",
      "RECURRENCE-ID:20261224T090000Z", "SEQUENCE:0", "ORGANIZER:mailto:alice@example.org", "ATTENDEE:mailto:bob@example.org", "STATUS:CANCELLED", "END:VEVENT", "END:VCALENDAR", "",
    ].join("\r\n");
    const fake = await processIncoming(deps(), { accountId: bob.id, raw: mail("mallory@example.org", "bob@example.org", "CANCEL", one), origin: submitted(mallory) });
    expect(fake.applied).toBe(false);
    expect((await processIncoming(deps(), { accountId: bob.id, raw: mail("alice@example.org", "bob@example.org", "CANCEL", one), origin: submitted(alice) })).applied).toBe(true);
    let b = (await bodyOf(bob, "cx@example.org"))!;
    expect(b).toContain("EXDATE:20261224T090000Z");
    expect(b).not.toContain("STATUS:CANCELLED");
    const all = one.replace("RECURRENCE-ID:20261224T090000Z\r\n", "");
    expect((await processIncoming(deps(), { accountId: bob.id, raw: mail("alice@example.org", "bob@example.org", "CANCEL", all), origin: submitted(alice) })).applied).toBe(true);
    b = (await bodyOf(bob, "cx@example.org"))!;
    expect(b).toContain("STATUS:CANCELLED");
  });
});

describe("mutated messages", () => {
  test("1,000 byte-level mutations of REQUEST/REPLY/CANCEL mails: always an outcome, never an exception", async () => {
    // A small deterministic PRNG (mulberry32): the same cases on every run.
    let seed = 0x15_15_15;
    const rnd = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const seeds = [
      mail("alice@example.org", "bob@example.org", "REQUEST", asItip(event("fuzz@example.org", { extra: ["RRULE:FREQ=DAILY;COUNT=3"] }), "REQUEST")),
      mail("bob@example.org", "alice@example.org", "REPLY", asItip(event("reply@example.org", { attendees: ["ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.org"] }), "REPLY")),
      mail("alice@example.org", "bob@example.org", "CANCEL", asItip(event("cx@example.org", { extra: ["RECURRENCE-ID:20261217T090000Z"] }), "CANCEL")),
    ];
    const tokens = ["\r\n", ":", ";", "=", "BEGIN:VEVENT\r\n", "END:VCALENDAR\r\n", "RECURRENCE-ID:x\r\n", "ATTENDEE:mailto:\r\n", "PARTSTAT=", "\x00", "\xff", "--", "METHOD:REPLY\r\n", "SEQUENCE:-1\r\n", "DTSTART:99999999T\r\n"];
    let applied = 0;
    for (let i = 0; i < 1000; i++) {
      const base = seeds[i % seeds.length]!;
      const bytes = Array.from(base);
      for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--) {
        const at = Math.floor(rnd() * bytes.length);
        const r = rnd();
        if (r < 0.4) bytes[at] = Math.floor(rnd() * 256);
        else if (r < 0.7) bytes.splice(at, 1 + Math.floor(rnd() * 20));
        else bytes.splice(at, 0, ...enc(tokens[Math.floor(rnd() * tokens.length)]!));
      }
      const raw = new Uint8Array(bytes);
      const to = i % 3 === 1 ? alice : bob;
      const from = i % 3 === 1 ? bob : alice;
      const out = await processIncoming(deps(), { accountId: to.id, raw, origin: submitted(from) });
      expect(typeof out.applied).toBe("boolean");
      if (out.applied) applied++;
    }
    // Some survive the mutations and are applied; the point is that none throws.
    expect(applied).toBeGreaterThan(0);
  }, 180_000);
});
