/**
 * Units of two-factor sign-in and the password policy: TOTP against the
 * RFC 6238 Appendix B vectors, the ±1 step window, malformed codes, the
 * pending sign-ins (expiry, tries, bound), the password policy's verdicts,
 * and the authenticator's rules and log lines on a real store.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PendingSignIns, checkTotp, matchTotp, newTotpSecret, otpauthUri, parseTotp, qrDataUrl, totpCode, totpStep, verifySecondFactor } from "../../src/auth-factors.ts";
import { checkPassword } from "../../src/password-policy.ts";
import { createAuthCache, createAuthenticator } from "../../src/auth.ts";
import { createAuthThrottle } from "../../src/auth-throttle.ts";
import { createLogger } from "../../src/log.ts";
import { setupAccount, tempStore, type TempStore } from "../storage/helpers.ts";

// RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
const RFC_SEED = Buffer.from("12345678901234567890").toString("hex");
function base32(hex: string): string {
  const bytes = Buffer.from(hex, "hex");
  const A = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  let out = "";
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += A[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += A[(value << (5 - bits)) & 31];
  return out;
}

describe("TOTP (RFC 6238)", () => {
  test("Appendix B test vectors (SHA-1, 8 digits)", () => {
    const secret = base32(RFC_SEED);
    const vectors: [number, string][] = [
      [59, "94287082"],
      [1111111109, "07081804"],
      [1111111111, "14050471"],
      [1234567890, "89005924"],
      [2000000000, "69279037"],
      [20000000000, "65353130"],
    ];
    for (const [t, code] of vectors) expect(totpCode(secret, t * 1000, 8)).toBe(code);
  });

  test("a code is good for its step and one step either way, not two", () => {
    const secret = newTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const now = 1_800_000_000_000;
    const step = totpStep(now);
    for (const d of [-1, 0, 1]) expect(matchTotp(secret, totpCode(secret, (step + d) * 30_000), now)).toBe(step + d);
    for (const d of [-3, -2, 2, 3]) expect(matchTotp(secret, totpCode(secret, (step + d) * 30_000), now)).toBeNull();
  });

  test("malformed codes are refused before any check", () => {
    for (const bad of [undefined, null, 123456, "", "12345", "1234567", "12a456", "１２３４５６", "123456\n7", "x".repeat(100), {}]) expect(parseTotp(bad)).toBeNull();
    expect(parseTotp(" 123 456 ")).toBe("123456");
  });

  test("the otpauth URI and QR code name the issuer, the account and the parameters", async () => {
    const uri = otpauthUri("JBSWY3DPEHPK3PXP", "ann@example.org", "mail.example.org");
    expect(uri).toStartWith("otpauth://totp/");
    for (const part of ["secret=JBSWY3DPEHPK3PXP", "algorithm=SHA1", "digits=6", "period=30", "ann%40example.org"]) expect(uri).toContain(part);
    const qr = await qrDataUrl(uri);
    expect(qr).toStartWith("data:image/svg+xml;base64,");
    expect(Buffer.from(qr.split(",")[1]!, "base64").toString()).toContain("<svg");
  });
});

describe("pending sign-ins", () => {
  test("expire, allow at most 5 codes, are forgotten when done, and stay bounded", () => {
    let now = 0;
    const p = new PendingSignIns({ now: () => now, ttlMs: 1000, maxEntries: 3 });
    const tok = p.create({ accountId: 1, email: "a@x", next: "/", trusted: false });
    for (let i = 0; i < 5; i++) expect(p.take(tok)).not.toBeNull();
    expect(p.take(tok)).toBeNull();
    const t2 = p.create({ accountId: 1, email: "a@x", next: "/", trusted: false });
    now = 1000;
    expect(p.take(t2)).toBeNull();
    for (const bad of [undefined, 42, "", "x".repeat(65)]) expect(p.take(bad)).toBeNull();
    now = 2000;
    for (let i = 0; i < 10; i++) p.create({ accountId: i, email: "a@x", next: "/", trusted: false });
    expect(p.size).toBeLessThanOrEqual(3);
    const t3 = p.create({ accountId: 9, email: "a@x", next: "/admin", trusted: true });
    expect(p.take(t3)?.next).toBe("/admin");
    p.finish(t3);
    expect(p.take(t3)).toBeNull();
  });
});

describe("password policy", () => {
  const refused = (pw: string, email = "bob@example.org", minLength?: number) => {
    const v = checkPassword(pw, { email, minLength });
    return v.ok ? null : v.reason;
  };
  test("length: 10 by default, the admin's minimum otherwise", () => {
    expect(refused("a")).toContain("too short");
    expect(refused("Xq7#mV2p!")).toContain("at least 10");
    expect(refused("Xq7#mV2p!", "bob@example.org", 8)).toBeNull();
    expect(refused("Xq7#mV2p!Lk")).toBeNull();
    expect(refused("")).toContain("empty");
    expect(refused("x".repeat(1025), "bob@example.org", 1)).toContain("too long");
  });
  test("common passwords, with the usual disguises, are refused", () => {
    for (const pw of ["password123", "Password2024!", "P@ssw0rd12", "qwertyuiop", "1234567890", "iloveyou12", "123dragon456", "Sunshine!!!", "letmein2025", "monkey12345"]) {
      expect(refused(pw)).toContain("common");
    }
    for (const pw of ["aaaaaaaaaaaa", "abcdefghijk", "zyxwvutsrqp", "asdfghjkl;'", "9876543210"]) expect(refused(pw)).not.toBeNull();
  });
  test("the account's own address, name or domain is refused", () => {
    for (const pw of ["bob@example.org", "BOB@EXAMPLE.ORG", "bob123456789", "example.org2024", "2024!example.org"]) expect(refused(pw)).toContain("address");
  });
  test("good passwords pass", () => {
    for (const pw of ["correct horse battery staple", "Tr0ub4dor&3xyz", "mxq-74-ruby-lantern", "Spätzle mit Soße 7"]) expect(refused(pw)).toBeNull();
  });
  test("control characters are refused", () => {
    expect(refused("good long pass\u0000word")).toContain("control");
  });
});

describe("the authenticator on a real store", () => {
  let t: TempStore;
  let id: number;
  const lines: Record<string, unknown>[] = [];
  const log = createLogger("debug", {}, (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
  const throttle = createAuthThrottle({ ipMaxFailures: 1000, ipWindowMs: 60_000, accountFreeFailures: 3, accountBaseDelayMs: 60_000 });
  let auth: ReturnType<typeof createAuthenticator>;
  const PW = "secret-password";
  let app = "";
  beforeAll(async () => {
    t = await tempStore();
    id = (await setupAccount(t.store, "dora@example.com")).account.id;
    app = (await t.store.createAppPassword(id, "Tablet")).password;
    auth = createAuthenticator({ store: t.store, throttle, cache: createAuthCache(), log });
  });
  afterAll(async () => t.cleanup());

  test("log lines: one per login and per refusal, with protocol, account, ip, which credential, never a password", async () => {
    lines.length = 0;
    expect((await auth.login("dora@example.com", PW, "::ffff:198.51.100.7", { protocol: "imap" })).ok).toBe(true);
    const r = await auth.login("dora@example.com", app, "198.51.100.7", { protocol: "pop3" });
    expect(r.ok && r.appPassword?.name).toBe("Tablet");
    expect((await auth.login("dora@example.com", "nope", "198.51.100.8", { protocol: "smtp" })).ok).toBe(false);
    expect((await auth.login("nobody@example.com", "nope", "198.51.100.8", { protocol: "eas" })).ok).toBe(false);
    expect(lines.filter((l) => l.kind)).toEqual([
      expect.objectContaining({ msg: "login", kind: "login", protocol: "imap", account: "dora@example.com", ip: "198.51.100.7", credential: "main" }),
      expect.objectContaining({ msg: "login", kind: "login", protocol: "pop3", account: "dora@example.com", ip: "198.51.100.7", credential: "app", device: "Tablet" }),
      expect.objectContaining({ msg: "login failed", kind: "login-failed", protocol: "smtp", account: "dora@example.com", ip: "198.51.100.8", reason: "bad password" }),
      expect.objectContaining({ msg: "login failed", kind: "login-failed", protocol: "eas", account: "nobody@example.com", reason: "unknown account" }),
    ]);
    const all = JSON.stringify(lines);
    for (const secret of [PW, app, "nope"]) expect(all).not.toContain(secret);
  });

  test("an app password never opens the webmail; with 2FA the webmail gets 'second-factor', the protocols a refusal", async () => {
    expect((await auth.login("dora@example.com", app, "198.51.100.9", { protocol: "webmail" })).ok).toBe(false);
    await t.store.beginTwoFactor(id, newTotpSecret());
    const s = (await t.store.twoFactorSecret(id))!.secret;
    expect(await checkTotp(t.store, id, totpCode(s, Date.now()))).toBe(true);
    await t.store.enableTwoFactor(id);
    const web = await auth.login("dora@example.com", PW, "198.51.100.9", { protocol: "webmail" });
    expect(web).toMatchObject({ ok: false, reason: "second-factor" });
    lines.length = 0;
    expect(await auth.login("dora@example.com", PW, "198.51.100.9", { protocol: "imap" })).toMatchObject({ ok: false, reason: "failed" });
    expect(lines.at(-1)).toMatchObject({ kind: "login-failed", reason: "2fa: main password refused, use an app password", protocol: "imap" });
    // a signed-in user confirming a change re-enters the main password alone
    expect((await auth.login("dora@example.com", PW, "198.51.100.9", { protocol: "webmail", purpose: "confirm" })).ok).toBe(true);
    expect((await auth.login("dora@example.com", app, "198.51.100.9", { protocol: "webmail", purpose: "confirm" })).ok).toBe(false);
    expect((await auth.login("dora@example.com", app, "198.51.100.9", { protocol: "imap" })).ok).toBe(true);
  });

  test("second factor: a code once, wrong codes throttle the account, a disabled account gets nothing", async () => {
    const s = (await t.store.twoFactorSecret(id))!.secret;
    const acct = (await t.store.getAccountById(id))!;
    const deps = { store: t.store, throttle, log };
    const step = Math.max(totpStep(Date.now()), (await t.store.twoFactorSecret(id))!.lastStep + 1);
    const code = totpCode(s, step * 30_000);
    const ok = await verifySecondFactor(deps, acct, code, "198.51.100.10");
    expect(ok.ok && ok.method).toBe("totp");
    expect((await verifySecondFactor(deps, acct, code, "198.51.100.10")).ok).toBe(false);
    const results: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await verifySecondFactor(deps, acct, "000000", `198.51.100.${20 + i}`);
      results.push(r.ok ? "ok" : r.reason);
    }
    // a few wrong codes, then the account is slowed down: even the right code waits
    expect(results.slice(0, 2)).toEqual(["failed", "failed"]);
    expect(results.at(-1)).toBe("throttled");
    expect((await verifySecondFactor(deps, acct, totpCode(s, (step + 1) * 30_000), "198.51.100.30")).ok).toBe(false);
    // a disabled account: a right code opens nothing (a fresh throttle, so the refusal is the account's)
    await t.store.setAccountFlags("dora@example.com", { disabled: true });
    const fresh = { store: t.store, throttle: createAuthThrottle({ ipMaxFailures: 1000, ipWindowMs: 60_000 }), log };
    expect(await verifySecondFactor(fresh, acct, totpCode(s, (step + 1) * 30_000), "198.51.100.31")).toMatchObject({ ok: false, reason: "failed" });
    expect(await auth.login("dora@example.com", app, "198.51.100.31", { protocol: "imap" })).toMatchObject({ ok: false });
    await t.store.setAccountFlags("dora@example.com", { disabled: false });
  });
});
