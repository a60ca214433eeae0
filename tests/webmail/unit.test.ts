/**
 * Sans-IO parts of the webmail: out-of-office decisions, MIME helpers,
 * download headers, the session key ring and sealed session tokens.
 */
import { test, expect, describe } from "bun:test";
import fc from "fast-check";
import { mkdtempSync, rmSync, statSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import PostalMime from "postal-mime";
import { shouldAutoReply, type AutoReplyInput } from "../../src/delivery/out-of-office.ts";
import { buildVacationReply } from "../../src/delivery/vacation-reply.ts";
import { parseAddressList, prefixSubject, htmlToText, buildMessage, isValidAddress, AddressError } from "../../protocols/http/webmail/mime.ts";
import { contentDisposition, safeContentType } from "../../protocols/http/webmail/util.ts";
import { KeyRing } from "../../protocols/http/webmail/keys.ts";
import { SessionManager } from "../../protocols/http/webmail/session.ts";
import type { WebmailSession, WebmailStore } from "../../storage/webmail-store.ts";

describe("out-of-office decision (RFC 3834)", () => {
  const base: AutoReplyInput = {
    oof: { enabled: true, subject: "Away", body: "Back Monday." },
    now: 1_000_000_000,
    envelopeFrom: "ann@example.org",
    headers: [
      { name: "From", value: "Ann <ann@example.org>" },
      { name: "To", value: "Alice <alice@example.test>" },
      { name: "Subject", value: "Question" },
    ],
    recipientAddresses: ["alice@example.test"],
    lastSentAt: null,
  };
  const decide = (patch: Partial<AutoReplyInput>) => shouldAutoReply({ ...base, ...patch });

  test("replies once per sender per period", () => {
    expect(decide({})).toEqual({ send: true, to: "ann@example.org" });
    expect(decide({ lastSentAt: base.now - 3600_000 }).send).toBe(false);
    expect(decide({ lastSentAt: base.now - 5 * 24 * 3600_000 }).send).toBe(true);
    expect(decide({ lastSentAt: base.now - 3600_000, periodMs: 1000 }).send).toBe(true);
  });

  test("never to bounces, lists, bulk or automatic mail", () => {
    expect(decide({ envelopeFrom: "" }).send).toBe(false);
    expect(decide({ envelopeFrom: "MAILER-DAEMON@example.org" }).send).toBe(false);
    expect(decide({ envelopeFrom: "list-bounces@lists.example.org" }).send).toBe(false);
    expect(decide({ envelopeFrom: "owner-users@lists.example.org" }).send).toBe(false);
    expect(decide({ envelopeFrom: "noreply@shop.example" }).send).toBe(false);
    const withHeader = (name: string, value: string) => decide({ headers: [...base.headers, { name, value }] });
    expect(withHeader("Precedence", "bulk").send).toBe(false);
    expect(withHeader("Precedence", "list").send).toBe(false);
    expect(withHeader("Precedence", "junk").send).toBe(false);
    expect(withHeader("List-Id", "<users.lists.example.org>").send).toBe(false);
    expect(withHeader("List-Unsubscribe", "<mailto:u@example.org>").send).toBe(false);
    expect(withHeader("Auto-Submitted", "auto-replied").send).toBe(false);
    expect(withHeader("Auto-Submitted", "auto-generated").send).toBe(false);
    expect(withHeader("Auto-Submitted", "no").send).toBe(true);
    expect(withHeader("Content-Type", "multipart/report; report-type=delivery-status").send).toBe(false);
    expect(withHeader("X-Auto-Response-Suppress", "OOF").send).toBe(false);
  });

  test("only when addressed explicitly, within the period, and enabled", () => {
    expect(decide({ headers: [{ name: "To", value: "team@example.test" }] }).send).toBe(false); // Bcc'd or via a list
    expect(decide({ headers: [{ name: "To", value: "xalice@example.test" }] }).send).toBe(false); // no substring matches
    expect(decide({ headers: [{ name: "Cc", value: "ALICE@example.test" }] }).send).toBe(true);
    expect(decide({ oof: { ...base.oof!, enabled: false } }).send).toBe(false);
    expect(decide({ oof: undefined }).send).toBe(false);
    expect(decide({ oof: { ...base.oof!, start: base.now + 1 } }).send).toBe(false);
    expect(decide({ oof: { ...base.oof!, end: base.now } }).send).toBe(false);
    expect(decide({ oof: { ...base.oof!, start: base.now - 1, end: base.now + 1 } }).send).toBe(true);
    expect(decide({ envelopeFrom: "alice@example.test" }).send).toBe(false); // to oneself
  });

  test("never throws on arbitrary input", () => {
    fc.assert(
      fc.property(fc.string(), fc.array(fc.record({ name: fc.string(), value: fc.string() })), (from, headers) => {
        const d = shouldAutoReply({ ...base, envelopeFrom: from, headers });
        expect(typeof d.send).toBe("boolean");
      }),
    );
  });

  test("the auto-reply is marked automatic and threads under the original", async () => {
    // the out-of-office reply is the vacation responder's (src/delivery/vacation-reply.ts)
    const raw = buildVacationReply({
      original: new TextEncoder().encode("Subject: Question\r\nMessage-ID: <q1@example.org>\r\n\r\nhi\r\n"),
      to: "ann@example.org",
      from: "alice@example.test",
      fromName: "Alice",
      subject: base.oof!.subject,
      reason: base.oof!.body,
      mime: false,
    });
    const m = await PostalMime.parse(raw);
    expect(m.subject).toBe("Away");
    expect(m.inReplyTo).toBe("<q1@example.org>");
    expect(m.text?.trim()).toBe("Back Monday.");
    const h = (n: string) => m.headers.find((x) => x.key === n)?.value;
    expect(h("auto-submitted")).toBe("auto-replied");
    expect(h("precedence")).toBe("auto_reply");
  });
});

describe("MIME helpers", () => {
  test("address lists parse names, commas and semicolons; bad addresses are named", () => {
    expect(parseAddressList('Ann Lee <ann@example.org>, "Doe, John" <john@example.org>; bob@example.test')).toEqual([
      { name: "Ann Lee", address: "ann@example.org" },
      { name: "Doe, John", address: "john@example.org" },
      { name: "", address: "bob@example.test" },
    ]);
    expect(parseAddressList("")).toEqual([]);
    expect(() => parseAddressList("ann@")).toThrow(AddressError);
    expect(() => parseAddressList("not an address <x y@z>")).toThrow(AddressError);
    expect(isValidAddress("a@b.c")).toBe(true);
    expect(isValidAddress("a@b")).toBe(false);
  });

  test("subjects are prefixed once", () => {
    expect(prefixSubject("Re", "Hello")).toBe("Re: Hello");
    expect(prefixSubject("Re", "RE: Hello")).toBe("RE: Hello");
    expect(prefixSubject("Fwd", "Fw: Hello")).toBe("Fw: Hello");
    expect(prefixSubject("Fwd", "Re: Hello")).toBe("Fwd: Re: Hello");
  });

  test("HTML to text drops markup and scripts", () => {
    expect(htmlToText("<p>Hi &amp; bye</p><script>x()</script><ul><li>one</li></ul>")).toBe("Hi & bye\n• one");
  });

  test("built messages keep Bcc only for drafts and carry threading headers", async () => {
    const input = {
      from: { name: "Ä", address: "a@example.test" },
      to: [{ name: "", address: "b@example.test" }],
      cc: [],
      bcc: [{ name: "", address: "secret@example.test" }],
      subject: "Grüße",
      text: "hello",
      html: "<p>hello</p>",
      attachments: [{ filename: "naïve résumé.pdf", contentType: "application/pdf", content: new Uint8Array([1, 2, 3]) }],
      inReplyTo: "<x@y>",
      references: ["<w@y>", "<x@y>"],
    };
    const sent = new TextDecoder().decode(await buildMessage(input));
    expect(sent).not.toMatch(/^Bcc:/im);
    const draft = await buildMessage({ ...input, keepBcc: true });
    const m = await PostalMime.parse(draft);
    expect(m.bcc?.[0]).toMatchObject({ address: "secret@example.test" });
    expect(m.subject).toBe("Grüße");
    expect(m.inReplyTo).toBe("<x@y>");
    expect(m.references).toBe("<w@y> <x@y>");
    expect(m.attachments[0]!.filename).toBe("naïve résumé.pdf");
  });

  test("Content-Disposition per RFC 6266: ASCII fallback plus exact UTF-8 filename*", () => {
    expect(contentDisposition("attachment", "report.pdf")).toBe(`attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`);
    expect(contentDisposition("attachment", "naïve résumé.pdf")).toBe(`attachment; filename="na_ve r_sum_.pdf"; filename*=UTF-8''na%C3%AFve%20r%C3%A9sum%C3%A9.pdf`);
    expect(contentDisposition("attachment", 'a"b\r\nc/d.txt')).toBe(`attachment; filename="a_b__c_d.txt"; filename*=UTF-8''a%22b__c_d.txt`);
    fc.assert(
      fc.property(fc.string(), (name) => {
        const v = contentDisposition("attachment", name);
        expect(v).not.toMatch(/[\r\n]/);
        const m = /filename="([^"]*)"; filename\*=UTF-8''(.*)$/.exec(v)!;
        expect(m).not.toBeNull();
        expect(m[1]).toMatch(/^[\x20-\x7e]*$/);
      }),
    );
  });

  test("only plain MIME types are echoed", () => {
    expect(safeContentType("image/PNG")).toBe("image/png");
    expect(safeContentType("text/html\r\nSet-Cookie: x")).toBe("application/octet-stream");
    expect(safeContentType("")).toBe("application/octet-stream");
  });
});

class MemSessions implements Pick<WebmailStore, "createSession" | "getSession" | "touchSession" | "deleteSession" | "deleteAccountSessions"> {
  rows = new Map<string, WebmailSession>();
  async createSession(s: WebmailSession) {
    this.rows.set(s.id, { ...s });
  }
  async getSession(id: string) {
    const s = this.rows.get(id);
    return s ? { ...s } : null;
  }
  async touchSession(id: string, t: number) {
    const s = this.rows.get(id);
    if (s) s.lastSeenAt = t;
  }
  async deleteSession(id: string) {
    this.rows.delete(id);
  }
  async deleteAccountSessions(accountId: number, except?: string) {
    let n = 0;
    for (const [k, v] of this.rows) if (v.accountId === accountId && k !== except) (this.rows.delete(k), n++);
    return n;
  }
}

describe("session keys and tokens", () => {
  const DAY = 24 * 3600_000;
  const setup = () => {
    const dir = mkdtempSync(join(tmpdir(), "pb-keys-"));
    let now = 1_800_000_000_000;
    const clock = () => now;
    const ring = new KeyRing({ dataDir: dir, rotateMs: 7 * DAY, maxSessionMs: 7 * DAY, now: clock });
    const store = new MemSessions();
    const sessions = new SessionManager(ring, store as unknown as WebmailStore, { maxAgeMs: 7 * DAY, idleMs: 2 * DAY }, clock);
    return { dir, ring, store, sessions, advance: (ms: number) => (now += ms) };
  };

  test("the key file is private and keys rotate without ending live sessions", async () => {
    const { dir, ring, sessions, advance } = setup();
    try {
      await ring.load();
      const file = join(dir, "webmail-keys.json");
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const first = (await ring.current()).kid;
      const { token: t1 } = await sessions.create(1, { ip: "127.0.0.1", userAgent: "test" });
      advance(DAY);
      expect((await sessions.open(t1))?.record.accountId).toBe(1);
      advance(7 * DAY); // rotation due; session t1 would have hit its absolute lifetime anyway at 7 days
      const second = (await ring.current()).kid;
      expect(second).not.toBe(first);
      const { token: t2, session } = await sessions.create(2, { ip: "127.0.0.1", userAgent: "test" });
      expect(JSON.parse(Buffer.from(t2.split(".")[0]!, "base64url").toString()).kid).toBe(second);
      // The old key is still in the ring until every session it sealed has expired.
      expect(ring.byKid(first)).toBeDefined();
      expect(JSON.parse(readFileSync(file, "utf8")).keys.length).toBe(2);
      advance(DAY);
      const opened = await sessions.open(t2);
      expect(opened?.csrf).toBe(session.csrf);
      advance(8 * DAY);
      await ring.current();
      expect(ring.byKid(first)).toBeUndefined();
      // A reloaded ring (restart) reads the same keys.
      const again = new KeyRing({ dataDir: dir, rotateMs: 7 * DAY, maxSessionMs: 7 * DAY, now: () => 1_800_000_000_000 + 17 * DAY });
      await again.load();
      expect(again.byKid(second)).toBeDefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("expired, idle, revoked and tampered tokens do not open", async () => {
    const { dir, ring, store, sessions, advance } = setup();
    try {
      await ring.load();
      const a = await sessions.create(7, { ip: "x", userAgent: "y" });
      expect(await sessions.open(a.token)).not.toBeNull();
      expect(await sessions.open(a.token.slice(0, -2) + (a.token.endsWith("A") ? "BB" : "AA"))).toBeNull();
      expect(await sessions.open(undefined)).toBeNull();
      expect(await sessions.open("x".repeat(5000))).toBeNull();
      await sessions.destroy(a.session.record.id);
      expect(await sessions.open(a.token)).toBeNull();
      const b = await sessions.create(7, { ip: "x", userAgent: "y" });
      advance(2 * DAY + 1); // idle too long
      expect(await sessions.open(b.token)).toBeNull();
      expect(store.rows.size).toBe(0);
      const c = await sessions.create(7, { ip: "x", userAgent: "y" });
      for (let i = 0; i < 8; i++) {
        advance(DAY - 1);
        await sessions.open(c.token);
      }
      expect(await sessions.open(c.token)).toBeNull(); // past the absolute lifetime even though active
      // The CSRF token is bound to the session.
      const d = await sessions.create(7, { ip: "x", userAgent: "y" });
      const e = await sessions.create(7, { ip: "x", userAgent: "y" });
      expect(d.session.csrf).not.toBe(e.session.csrf);
      expect(sessions.checkCsrf(d.session, d.session.csrf)).toBe(true);
      expect(sessions.checkCsrf(d.session, e.session.csrf)).toBe(false);
      expect(sessions.checkCsrf(d.session, "")).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
