/**
 * Issue 13 items 10 and 11, the policy of the shared authentication throttle
 * (src/auth-throttle.ts) on a fake clock, and the authenticator around it
 * (src/auth.ts): one spelling per account, attempts reserved before the hash
 * check, a progressive per-account delay the owner's known IP is exempt
 * from, a hard per-IP block, and one log line per refusal. The protocol
 * tests (tests/imap/auth-throttle.test.ts, tests/webmail/lockout.test.ts)
 * drive the same over real sockets.
 */
import { describe, expect, test } from "bun:test";
import { createAuthThrottle, normalizeLogin } from "../../src/auth-throttle.ts";
import { createAuthCache, createAuthenticator } from "../../src/auth.ts";
import { createLogger } from "../../src/log.ts";
import type { Account, MailStore } from "../../storage/api.ts";

describe("one spelling per account", () => {
  test("<>, a trailing dot, fullwidth letters, case and IDN all fold to the same key", () => {
    const want = "bob@example.test";
    for (const v of ["bob@example.test", " <bob@example.test> ", "bob@example.test.", "bob@ｅxample.test", "BOB@Example.Test", "ｂｏｂ@ＥＸＡＭＰＬＥ.ｔｅｓｔ", "<Bob@EXAMPLE.test.>"]) {
      expect(normalizeLogin(v)).toBe(want);
    }
    expect(normalizeLogin("anna@bücher.example")).toBe("anna@xn--bcher-kva.example");
    expect(normalizeLogin("bob")).toBe("bob");
  });
});

describe("the throttle's policy", () => {
  const make = () => {
    let t = 1_000_000;
    const th = createAuthThrottle({ ipMaxFailures: 10, ipWindowMs: 300_000, accountFreeFailures: 5, accountBaseDelayMs: 1000, accountMaxDelayMs: 60_000, now: () => t });
    return { th, advance: (ms: number) => (t += ms) };
  };
  const fail = (th: ReturnType<typeof createAuthThrottle>, user: string, ip: string) => {
    const v = th.begin(user, ip);
    if (!v.ok) return v;
    v.attempt.failed();
    return v;
  };

  test("per account: free failures, then one attempt per doubling delay, capped", () => {
    const { th, advance } = make();
    for (let i = 0; i < 5; i++) expect(fail(th, "alice@x.test", `10.0.0.${i}`).ok).toBe(true);
    const v = th.begin("alice@x.test", "10.0.1.1");
    expect(v.ok).toBe(false);
    expect(v).toEqual({ ok: false, scope: "account", retryAfterMs: 1000, busy: false });
    advance(1000);
    expect(fail(th, "alice@x.test", "10.0.1.2").ok).toBe(true); // failure 6: next delay 2 s
    advance(1999);
    expect(th.begin("alice@x.test", "10.0.1.3").ok).toBe(false);
    advance(1);
    expect(fail(th, "alice@x.test", "10.0.1.4").ok).toBe(true);
    for (let i = 0; i < 20; i++) {
      advance(60_000);
      expect(fail(th, "alice@x.test", `10.0.2.${i}`).ok).toBe(true);
    }
    // The delay is capped at 60 s: never a lock-out for good.
    const w = th.begin("alice@x.test", "10.0.3.1");
    expect(!w.ok && w.retryAfterMs).toBe(60_000);
  });

  test("attempts in flight count: parallel attempts cannot pass the limits before a failure is recorded", () => {
    const { th } = make();
    const accepted = [];
    for (let i = 0; i < 40; i++) {
      const v = th.begin("carol@x.test", "10.9.9.9");
      if (v.ok) accepted.push(v.attempt);
    }
    expect(accepted.length).toBe(5); // the account's free attempts; the IP's limit (10) is the next bound
    const busy = th.begin("carol@x.test", "10.9.9.9");
    expect(busy).toEqual({ ok: false, scope: "account", retryAfterMs: 1000, busy: true }); // may wait for those in flight
    expect(th.inFlight).toBe(5);
    for (const a of accepted) a.failed();
    expect(th.inFlight).toBe(0);
    // Spread over many accounts, the per-IP limit holds parallel attempts too.
    let n = 0;
    for (let i = 0; i < 40; i++) if (th.begin(`u${i}@x.test`, "10.8.8.8").ok) n++;
    expect(n).toBe(10);
  });

  test("the owner's known IP and a trusted device skip the account delay; nobody skips the IP block", () => {
    const { th } = make();
    const s = th.begin("dave@x.test", "192.0.2.1");
    if (!s.ok) throw new Error("first attempt refused");
    s.attempt.succeeded();
    for (let i = 0; i < 12; i++) fail(th, "dave@x.test", `10.1.0.${i}`);
    expect(th.begin("dave@x.test", "10.1.1.1").ok).toBe(false);
    const known = th.begin("dave@x.test", "192.0.2.1");
    expect(known.ok).toBe(true);
    if (known.ok) known.attempt.succeeded();
    const device = th.begin("dave@x.test", "10.1.1.2", { trusted: true });
    expect(device.ok).toBe(true);
    if (device.ok) device.attempt.succeeded();
    // A success through the exemption does not reset the account: the attacker stays slowed down.
    expect(th.begin("dave@x.test", "10.1.1.3").ok).toBe(false);
    // The per-IP limit binds a trusted client too.
    for (let i = 0; i < 10; i++) fail(th, `spray${i}@x.test`, "10.2.2.2");
    const blocked = th.begin("dave@x.test", "10.2.2.2", { trusted: true });
    expect(blocked.ok).toBe(false);
    if (!blocked.ok) expect(blocked.scope).toBe("ip");
  });

  test("memory is bounded", () => {
    const th = createAuthThrottle({ ipMaxFailures: 10, ipWindowMs: 300_000, maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) fail(th, `u${i}@x.test`, `10.${(i >> 8) & 255}.${i & 255}.1`);
    // Only the newest 100 accounts remember failures: the 10,000th account is fresh, the last ones are counted.
    expect(th.begin("u9999@x.test", "10.200.0.1").ok).toBe(true);
  });
});

describe("the authenticator", () => {
  const account: Account = { id: 7, email: "bob@example.test", domainId: 1, quotaBytes: null, usedBytes: 0, settings: {}, createdAt: 0, admin: false, disabled: false };
  const fakeStore = (hashChecks: { n: number }) =>
    ({
      async authenticate(email: string, password: string) {
        hashChecks.n++;
        return email === "bob@example.test" && password === "right" ? account : null;
      },
      async getAccount(email: string) {
        return email === "bob@example.test" ? account : null;
      },
      async getAccountById(id: number) {
        return id === 7 ? account : null;
      },
      async credentialStamp(id: number) {
        return id === 7 ? "stamp-1" : null;
      },
      async verifyAppPassword() {
        return null;
      },
      async twoFactorStatus() {
        return { enabled: false, recoveryCodesLeft: 0 };
      },
    }) as unknown as MailStore; // only the account functions the authenticator calls

  test("every spelling of bob shares one count; each refusal logs one line with ip= and user=", async () => {
    const lines: string[] = [];
    const hashChecks = { n: 0 };
    const th = createAuthThrottle({ ipMaxFailures: 100, ipWindowMs: 300_000 });
    const auth = createAuthenticator({ store: fakeStore(hashChecks), throttle: th, cache: createAuthCache(), log: createLogger("info", {}, (l) => lines.push(l)) });
    for (let i = 0; i < 5; i++) expect((await auth.login("bob@example.test", `wrong${i}`, `203.0.113.${i}`)).ok).toBe(false);
    expect(hashChecks.n).toBe(5);
    for (const spelling of ["<bob@example.test>", "bob@example.test.", "bob@ｅxample.test"]) {
      const r = await auth.login(spelling, "right", "203.0.113.50");
      expect(r).toMatchObject({ ok: false, reason: "throttled" });
    }
    expect(hashChecks.n).toBe(5);
    const throttled = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === "login throttled");
    expect(throttled.length).toBe(3);
    expect(throttled[0]).toMatchObject({ level: "warn", scope: "account", ip: "203.0.113.50", user: "bob@example.test" });
  });
});
