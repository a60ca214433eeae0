/**
 * ctx.spam as the kernel builds it (src/spam/index.ts) on a real store:
 * training feeds the account's Bayes model and the reputation of the domain
 * our own Authentication-Results says authenticated the message; later mail
 * from that domain (authenticated) scores by its history, unauthenticated
 * claims do not; greylisting lets allow-listed and well-reputed senders
 * through at once; per-recipient verdicts differ by their own lists; a
 * failing store never makes check() throw.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createSpamService } from "../../src/spam/index.ts";
import { createBayesClassifier } from "../../src/spam/bayes.ts";
import { defaultConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { SqlSpamStore } from "../../storage/spam-store.ts";
import { SqlBayesStore } from "../../storage/bayes-store.ts";
import type { InboundAuthVerdict } from "../../src/context.ts";
import { setupAccount, tempStore, type TempStore } from "../storage/helpers.ts";

let t: TempStore;
let bob: number;
let carol: number;
const config = defaultConfig();
config.hostname = "mail.ours.example";
config.spam.dnsBlocklists = [];
config.spam.domainBlocklists = [];
config.spam.dnsAllowlists = [];
let spam: ReturnType<typeof createSpamService>;
let store: SqlSpamStore;

const enc = (s: string) => new TextEncoder().encode(s);
const dkimPass = (d: string): InboundAuthVerdict => ({ dkim: { results: [{ signingDomain: d, status: { result: "pass" } }] } });
const msg = (from: string, i: number, extra = "") =>
  enc(`${extra}From: ${from}\r\nTo: bob@ours.example\r\nSubject: Offer ${i}\r\nDate: ${new Date().toUTCString()}\r\nMessage-ID: <${i}@x.example>\r\n\r\nHello number ${i}\r\n`);

beforeAll(async () => {
  t = await tempStore();
  bob = (await setupAccount(t.store, "bob@ours.example")).account.id;
  carol = (await setupAccount(t.store, "carol@ours.example")).account.id;
  store = new SqlSpamStore(t.store.db);
  spam = createSpamService({ config: () => config, store, mail: t.store, bayes: createBayesClassifier(new SqlBayesStore(t.store.db)), log: createLogger("error") });
});
afterAll(async () => t.cleanup());

test("training spam from an authenticated domain builds a bad reputation; only authenticated mail from it is marked", async () => {
  for (let i = 0; i < 3; i++) {
    await spam.train(bob, msg("deals@shop.example", i, "Authentication-Results: mail.ours.example; dkim=pass header.d=shop.example\r\n"), "spam");
  }
  // A result from another host is not ours to trust: no reputation for that one.
  await spam.train(bob, msg("x@other.example", 9, "Authentication-Results: mx.elsewhere.example; dkim=pass header.d=other.example\r\n"), "spam");
  expect((await store.reputation("shop.example"))!.spam).toBeCloseTo(3, 1);
  expect(await store.reputation("other.example")).toBeNull();

  const recipients = [{ accountId: bob, address: "bob@ours.example" }];
  const authed = await spam.check({ raw: msg("deals@shop.example", 10), remoteIp: null, helo: null, mailFrom: "bounce@shop.example", recipients, auth: dkimPass("shop.example") });
  expect(authed.symbols.map((s) => s.name)).toContain("REPUTATION_BAD");
  const claimed = await spam.check({ raw: msg("deals@shop.example", 11), remoteIp: null, helo: null, mailFrom: "bounce@shop.example", recipients, auth: null });
  expect(claimed.symbols.map((s) => s.name)).not.toContain("REPUTATION_BAD");
});

test("each recipient gets its own verdict from its own lists", async () => {
  await store.addEntry({ accountId: carol }, "deny", "newsletter.example");
  const v = await spam.check({
    raw: msg("news@newsletter.example", 20),
    remoteIp: null,
    helo: null,
    mailFrom: "news@newsletter.example",
    recipients: [
      { accountId: bob, address: "bob@ours.example" },
      { accountId: carol, address: "carol@ours.example" },
    ],
    auth: null,
  });
  expect(v.accounts.get(bob)!.isSpam).toBe(false);
  expect(v.accounts.get(carol)!.isSpam).toBe(true);
  expect(v.accounts.get(carol)!.spamtest).toBeGreaterThanOrEqual(6);
  expect(v.accounts.get(carol)!.headers).toStartWith("X-Spam-Status: Yes,");
  expect(v.reject).toBe(false);
});

test("greylisting: off means pass; on: new senders wait, allow-listed and well-reputed ones pass at once", async () => {
  const g = (mailFrom: string, ip = "192.0.2.10") => spam.greylist({ remoteIp: ip, mailFrom, recipient: "bob@ours.example", accountId: bob });
  expect(await g("new@a.example")).toBe("pass");
  config.spam.greylisting = true;
  config.spam.greylistDelaySeconds = 0;
  try {
    expect(await g("new@a.example")).toBe("defer");
    expect(await g("new@a.example", "192.0.2.99")).toBe("pass"); // same /24, delay 0: the retry passes
    await store.addEntry({ accountId: bob }, "allow", "friend.example");
    expect(await g("x@friend.example")).toBe("pass");
    for (let i = 0; i < 4; i++) await store.noteReputation("good.example", "ham", Date.now());
    expect(await g("x@good.example")).toBe("pass");
  } finally {
    config.spam.greylisting = false;
  }
});

test("a store that fails does not make check() throw; the message is scored without that part", async () => {
  const broken = new Proxy(store, {
    get(target, prop) {
      if (prop === "entriesFor" || prop === "reputation") return async () => {
        throw new Error("disk on fire");
      };
      return Reflect.get(target, prop);
    },
  });
  const s2 = createSpamService({ config: () => config, store: broken, mail: t.store, bayes: null, log: createLogger("error") });
  const v = await s2.check({ raw: msg("a@b.example", 30), remoteIp: null, helo: null, mailFrom: "a@b.example", recipients: [{ accountId: bob, address: "bob@ours.example" }], auth: dkimPass("b.example") });
  expect(v.accounts.get(bob)!.isSpam).toBe(false);
  expect(await s2.greylist({ remoteIp: "192.0.2.1", mailFrom: "a@b.example", recipient: "bob@ours.example", accountId: bob })).toBe("pass");
});
