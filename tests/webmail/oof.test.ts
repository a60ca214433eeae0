/**
 * Out-of-office end to end: the settings become a Sieve vacation script run by the
 * delivery filter (src/sieve/vacation-script.ts, src/delivery/sieve-filter.ts) with a
 * real server, real SMTP delivery, the settings API and the vacation log.
 */
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import PostalMime from "postal-mime";
import { ALICE, BOB, ApiClient, mailboxMessages, smtpSend, startWebmailServer, waitFor } from "./helpers.ts";
import { maybeAutoReply } from "../../src/delivery/out-of-office.ts";

let srv: Awaited<ReturnType<typeof startWebmailServer>>;
let aliceId = 0;

const incoming = (from: string, extra = "", to = ALICE.email) =>
  new TextEncoder().encode(`From: ${from}\r\nTo: ${to}\r\nSubject: Question\r\nMessage-ID: <q-${Math.random().toString(36).slice(2)}@example.test>\r\n${extra}\r\nHello?\r\n`);

beforeAll(async () => {
  srv = await startWebmailServer();
  aliceId = (await srv.store.getAccount(ALICE.email))!.id;
  const alice = await ApiClient.signIn(srv.base, ALICE);
  await alice.ok("PUT", "/api/settings", { displayName: "Alice", oof: { enabled: true, subject: "Out of office", body: "I'm away until Monday." } });
}, 30_000);

afterAll(async () => {
  await srv?.close();
});

describe("out-of-office replies", () => {
  test("a sender gets one reply per period, threaded and marked automatic", async () => {
    const first = await maybeAutoReply(srv.ctx, { accountId: aliceId, envelopeFrom: BOB.email, raw: incoming(BOB.email) });
    expect(first).toEqual({ sent: true, to: BOB.email });
    const second = await maybeAutoReply(srv.ctx, { accountId: aliceId, envelopeFrom: BOB.email, raw: incoming(BOB.email) });
    expect(second).toEqual({ sent: false, reason: "already replied this period" });
    const later = await maybeAutoReply(srv.ctx, { accountId: aliceId, envelopeFrom: BOB.email, raw: incoming(BOB.email), now: Date.now() + 5 * 24 * 3600_000 });
    expect(later.sent).toBe(true);
    const bob = await waitFor(async () => {
      const r = await mailboxMessages(srv, BOB, "INBOX");
      return r.messages.length >= 2 ? r : null;
    }, "auto-replies at Bob");
    expect(bob.messages.length).toBe(2);
    const m = await PostalMime.parse(bob.messages[0]!);
    expect(m.subject).toBe("Out of office");
    expect(m.text?.trim()).toBe("I'm away until Monday.");
    expect(m.headers.find((h) => h.key === "auto-submitted")?.value).toBe("auto-replied");
    expect(m.inReplyTo).toMatch(/^<q-/);
    // Not filed in Alice's Sent.
    expect((await mailboxMessages(srv, ALICE, "Sent")).messages.length).toBe(0);
  });

  test("lists, bulk mail, bounces and auto-replies get none", async () => {
    const cases: [string, string][] = [
      ["", ""],
      ["MAILER-DAEMON@example.org", ""],
      ["news@example.org", "List-Id: <news.example.org>\r\n"],
      ["promo@example.org", "Precedence: bulk\r\n"],
      ["robot@example.org", "Auto-Submitted: auto-generated\r\n"],
    ];
    for (const [from, extra] of cases) {
      const r = await maybeAutoReply(srv.ctx, { accountId: aliceId, envelopeFrom: from, raw: incoming(from || "nobody@example.org", extra) });
      expect(r.sent).toBe(false);
    }
    // Bcc'd (not in To/Cc): none either.
    const bcc = await maybeAutoReply(srv.ctx, { accountId: aliceId, envelopeFrom: "ann@example.org", raw: incoming("ann@example.org", "", "team@example.org") });
    expect(bcc).toEqual({ sent: false, reason: "not an explicit recipient" });
  });

  test("switching out-of-office off and on again starts a new period", async () => {
    const alice = await ApiClient.signIn(srv.base, ALICE);
    await alice.ok("PUT", "/api/settings", { oof: { enabled: false, subject: "Out of office", body: "x" } });
    expect((await maybeAutoReply(srv.ctx, { accountId: aliceId, envelopeFrom: "carl@example.org", raw: incoming("carl@example.org") })).sent).toBe(false);
    await alice.ok("PUT", "/api/settings", { oof: { enabled: true, subject: "Away again", body: "Back soon." } });
    // Bob was answered in the last period; a new absence answers him again.
    expect((await maybeAutoReply(srv.ctx, { accountId: aliceId, envelopeFrom: BOB.email, raw: incoming(BOB.email) })).sent).toBe(true);
  });

  test("a message delivered over SMTP gets its reply through the vacation script, once", async () => {
    // a local correspondent, so the reply is delivered at once (no outbound queue, no DNS)
    const DORA = { email: "dora@example.test", password: "dora password 123" };
    await srv.store.addAccount(DORA.email, DORA.password);
    await smtpSend(srv.port("SMTP"), DORA.email, [ALICE.email], `From: Dora <${DORA.email}>\r\nTo: ${ALICE.email}\r\nSubject: hi\r\nMessage-ID: <dora1@example.test>\r\n\r\nhi\r\n`);
    // the server answers by itself, through the vacation script run at delivery
    const reply = await waitFor(async () => (await mailboxMessages(srv, DORA, "INBOX")).messages[0], "auto-reply in Dora's INBOX");
    const m = await PostalMime.parse(reply);
    expect(m.subject).toBe("Away again");
    expect(m.inReplyTo).toBe("<dora1@example.test>");
    expect(m.headers.find((h) => h.key === "auto-submitted")?.value).toBe("auto-replied");
    // the vacation log recorded it: a second attempt in the same period sends nothing
    const again = await maybeAutoReply(srv.ctx, { accountId: aliceId, envelopeFrom: DORA.email, raw: incoming(DORA.email) });
    expect(again).toEqual({ sent: false, reason: "already replied this period" });
  }, 30_000);
});
