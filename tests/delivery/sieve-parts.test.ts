/**
 * The Sieve delivery parts without a server: SRS (src/delivery/srs.ts) round
 * trip, expiry, forgery, malformed input and its key file; the out-of-office
 * vacation script (src/sieve/vacation-script.ts) compiled and run through the
 * real interpreter (dates in and out of range, quoting); the vacation checks
 * (RFC 5230 §4.5/§4.6) and reply (:mime, threading, default subject); the
 * RFC 5429 rejection MDN; hostile input never throws.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import PostalMime from "postal-mime";
import { Srs, loadSrsKey, SRS_MAX_AGE_DAYS } from "../../src/delivery/srs.ts";
import { vacationScriptFor } from "../../src/sieve/vacation-script.ts";
import { compileSieve, runSieve, DEFAULT_SIEVE_LIMITS, type SieveRunInput } from "../../src/sieve/index.ts";
import { buildVacationReply, vacationChecks } from "../../src/delivery/vacation-reply.ts";
import { buildRejectNotice } from "../../src/delivery/sieve-reject.ts";
import { withSpamFields } from "../../src/delivery/pipeline.ts";

const DAY = 86_400_000;
const enc = new TextEncoder();

describe("SRS", () => {
  const srs = new Srs(new Uint8Array(32).fill(7));
  const now = Date.UTC(2026, 11, 7);

  test("forward and reverse; null and own-domain senders unchanged", () => {
    const a = srs.forward("Zed@Sender.test", "example.test", now);
    expect(a).toMatch(/^SRS0=[a-z2-7]{6}=[a-z2-7]{2}=Sender\.test=Zed@example\.test$/);
    expect(srs.reverse(a, now)).toEqual({ ok: true, address: "Zed@Sender.test" });
    expect(srs.reverse(a.toLowerCase(), now + 3 * DAY)).toEqual({ ok: true, address: "zed@sender.test" });
    expect(srs.forward("", "example.test", now)).toBe("");
    expect(srs.forward("me@example.test", "example.test", now)).toBe("me@example.test");
    // local parts with "=" survive
    const b = srs.forward("a=b=c@sender.test", "example.test", now);
    expect(srs.reverse(b, now)).toEqual({ ok: true, address: "a=b=c@sender.test" });
  });

  test("expired, forged, other keys and malformed addresses are refused", () => {
    const a = srs.forward("zed@sender.test", "example.test", now);
    expect(srs.reverse(a, now + (SRS_MAX_AGE_DAYS + 1) * DAY).ok).toBe(false);
    expect(srs.reverse(a, now + SRS_MAX_AGE_DAYS * DAY).ok).toBe(true);
    expect(new Srs(new Uint8Array(32).fill(8)).reverse(a, now).ok).toBe(false);
    expect(srs.reverse(a.replace("=sender.test=", "=evil.test="), now).ok).toBe(false);
    for (const bad of ["", "SRS0=", "SRS0=abc@x", "SRS0=aaaaaa=!!=d=l@x", "srs0=aaaaaa=aa=bad domain=l@x", "plain@example.test"]) expect(srs.reverse(bad, now).ok).toBe(false);
    fc.assert(fc.property(fc.string(), (s) => typeof srs.reverse(s, now).ok === "boolean"));
  });

  test("the key is created once, 0600, and reused", () => {
    const dir = mkdtempSync(join(tmpdir(), "pb-srs-"));
    try {
      const k1 = loadSrsKey(dir);
      expect(statSync(join(dir, "srs.key")).mode & 0o777).toBe(0o600);
      expect(k1.byteLength).toBe(32);
      expect(Buffer.from(loadSrsKey(dir)).equals(Buffer.from(k1))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("out-of-office as a vacation script", () => {
  const msg = enc.encode("From: ann@remote.test\r\nTo: alice@example.test\r\nSubject: hi\r\nMessage-ID: <v1@remote.test>\r\n\r\nhello\r\n");
  const input = (now: number): SieveRunInput => ({
    message: msg,
    envelope: { from: "ann@remote.test", to: "alice@example.test" },
    account: { id: 1, email: "alice@example.test", addresses: ["alice@example.test"] },
    spam: null,
    now,
    zoneOffsetMinutes: 60,
    environment: {},
    lookup: { mailboxExists: async () => true, mailboxMetadata: async () => null, serverMetadata: async () => null, duplicateSeen: async () => false },
    limits: DEFAULT_SIEVE_LIMITS,
  });
  const vacations = async (text: string, now: number) => {
    const c = compileSieve(text);
    if (!c.ok) throw new Error(JSON.stringify(c.errors));
    return (await runSieve(c.script, input(now))).actions.filter((a) => a.type === "vacation");
  };

  test("off, or an empty range: no script", () => {
    expect(vacationScriptFor(undefined)).toBeNull();
    expect(vacationScriptFor({ enabled: false, subject: "a", body: "b" })).toBeNull();
    expect(vacationScriptFor({ enabled: true, subject: "a", body: "b", start: 10, end: 10 })).toBeNull();
  });

  test("answers only between start and end, with the subject and text as written (quotes, backslashes, newlines)", async () => {
    const start = Date.UTC(2026, 11, 24, 9, 30);
    const end = Date.UTC(2027, 0, 2);
    const text = vacationScriptFor({ enabled: true, subject: 'Away "really" \\ gone', body: 'Back on the 2nd.\nCall "Bob".', start, end })!;
    expect(await vacations(text, start - 1000)).toEqual([]);
    const inRange = await vacations(text, start + 1000);
    expect(inRange.length).toBe(1);
    expect(inRange[0]).toMatchObject({ subject: 'Away "really" \\ gone', periodSeconds: 4 * 86_400 });
    // RFC 5228 §2.4.2: a quoted string's line breaks are CRLF
    expect((inRange[0] as { reason: string }).reason.replace(/\r\n/g, "\n")).toBe('Back on the 2nd.\nCall "Bob".');
    expect(await vacations(text, end)).toEqual([]);
    expect(await vacations(text, end - 1000)).toHaveLength(1);
    // no dates: always; an empty subject leaves the default to the responder
    const always = await vacations(vacationScriptFor({ enabled: true, subject: "", body: "x" })!, start);
    expect(always[0]!.subject).toBeNull();
  });

  test("a new text is a new handle (a new absence answers everyone again)", async () => {
    const a = await vacations(vacationScriptFor({ enabled: true, subject: "A", body: "x" })!, Date.now());
    const b = await vacations(vacationScriptFor({ enabled: true, subject: "B", body: "x" })!, Date.now());
    expect(a[0]!.handle).not.toBe(b[0]!.handle);
  });
});

describe("vacation checks and reply", () => {
  const base = {
    envelopeFrom: "ann@remote.test",
    headers: [{ name: "To", value: "Alice <alice@example.test>" }],
    recipientAddresses: ["alice@example.test", "a.l@example.test"],
    lastSentAt: null,
    now: 10 * DAY,
    periodMs: DAY,
  };
  test("RFC 5230 §4.5: Bcc and Resent-To count; another address of the user counts; nothing else", () => {
    expect(vacationChecks(base)).toEqual({ send: true, to: "ann@remote.test" });
    expect(vacationChecks({ ...base, headers: [{ name: "Resent-To", value: "a.l@example.test" }] }).send).toBe(true);
    expect(vacationChecks({ ...base, headers: [{ name: "Bcc", value: "alice@example.test" }] }).send).toBe(true);
    expect(vacationChecks({ ...base, headers: [{ name: "To", value: "team@example.test" }] })).toEqual({ send: false, reason: "not an explicit recipient" });
    expect(vacationChecks({ ...base, lastSentAt: 10 * DAY - 1000 }).send).toBe(false);
    expect(vacationChecks({ ...base, lastSentAt: 8 * DAY }).send).toBe(true);
    expect(vacationChecks({ ...base, envelopeFrom: "list-request@remote.test" }).send).toBe(false);
    fc.assert(fc.property(fc.string(), fc.array(fc.record({ name: fc.string(), value: fc.string() })), (from, headers) => typeof vacationChecks({ ...base, envelopeFrom: from, headers }).send === "boolean"));
  });

  test("the reply: default subject Auto:, threaded, automatic; :mime keeps the entity's own fields", async () => {
    const original = enc.encode("Subject: Question\r\nMessage-ID: <q1@remote.test>\r\nReferences: <q0@remote.test>\r\n\r\nhi\r\n");
    const plain = await PostalMime.parse(buildVacationReply({ original, to: "ann@remote.test", from: "alice@example.test", subject: null, reason: "Away.", mime: false }));
    expect(plain.subject).toBe("Auto: Question");
    expect(plain.inReplyTo).toBe("<q1@remote.test>");
    expect(plain.references).toBe("<q0@remote.test> <q1@remote.test>");
    expect(plain.text?.trim()).toBe("Away.");
    expect(plain.headers.find((h) => h.key === "auto-submitted")?.value).toBe("auto-replied");
    const mime = await PostalMime.parse(
      buildVacationReply({ original, to: "ann@remote.test", from: "alice@example.test", subject: "Away", reason: "Content-Type: text/html; charset=utf-8\r\n\r\n<p>Away</p>", mime: true }),
    );
    expect(mime.subject).toBe("Away");
    expect(mime.html).toContain("<p>Away</p>");
  });

  test("the rejection MDN (RFC 5429 §2.1.1, RFC 8098)", async () => {
    const original = enc.encode("From: zed@sender.test\r\nSubject: buy\r\nMessage-ID: <r1@sender.test>\r\n\r\nbody\r\n");
    const raw = buildRejectNotice({ original, recipient: "carol@example.test", to: "zed@sender.test", reason: "No thanks.", hostname: "mx.example.test" });
    const s = new TextDecoder().decode(raw);
    expect(s).toMatch(/^Content-Type: multipart\/report; report-type=disposition-notification;/m);
    expect(s).toContain("Final-Recipient: rfc822; carol@example.test");
    expect(s).toContain("Original-Message-ID: <r1@sender.test>");
    expect(s).toContain("Disposition: automatic-action/MDN-sent-automatically; deleted");
    const m = await PostalMime.parse(raw);
    expect(m.subject).toBe("Rejected: buy");
    expect(m.text).toContain("No thanks.");
  });
});

describe("spam fields on a copy", () => {
  const fields = "X-Spam-Status: No, score=0.1\r\nX-Spam-Score: 0.1\r\n";
  const t = (s: string) => new TextDecoder().decode(withSpamFields(enc.encode(s), fields));
  test("below the trace block (Received, Authentication-Results), above the rest; on top when there is none", () => {
    expect(t("Authentication-Results: mx; spf=pass\r\nReceived: from a\r\n\tby b; date\r\nFrom: x@y\r\n\r\nbody\r\n")).toBe(
      "Authentication-Results: mx; spf=pass\r\nReceived: from a\r\n\tby b; date\r\n" + fields + "From: x@y\r\n\r\nbody\r\n",
    );
    expect(t("From: x@y\r\nReceived: later\r\n\r\nb\r\n")).toBe(fields + "From: x@y\r\nReceived: later\r\n\r\nb\r\n");
    expect(t("")).toBe(fields);
    expect(t("Received: only\r\n")).toBe("Received: only\r\n" + fields);
    fc.assert(fc.property(fc.string(), (s) => t(s).includes(fields)));
  });
});
