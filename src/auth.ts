/**
 * Login checks shared by every protocol: the authentication throttle
 * (src/auth-throttle.ts: per IP and per account, reserved before the hash
 * check) plus a short-lived in-memory cache of successful logins.
 *
 * The cache exists because argon2id costs tens of milliseconds per check and
 * mail clients log in again and again (Dovecot's auth_cache solves the same
 * problem). Entries are keyed by an HMAC of (user, password) under a random
 * per-process key, so the plain password is never kept in memory and a
 * memory dump does not reveal which password matched. Each entry also holds
 * the account's credential stamp (MailStore.credentialStamp, which changes
 * with every password change) and a hit is trusted only while the stamp in
 * the database is still the same: a password changed by another process (the
 * CLI) makes the old password fail at once, not after the cache's TTL.
 *
 * Who gets in (issue 18): a disabled account nowhere; app passwords (per
 * device, storage/account-security.ts) open the mail protocols and never the
 * webmail or admin; with two-factor sign-in on, the main password opens only
 * the webmail/admin and only together with a code (src/auth-factors.ts), so
 * IMAP, POP3, SMTP, ActiveSync and DAV take app passwords alone. The stamp
 * covers the second factor, the app passwords and the disabled flag too.
 */
import { createHmac, randomBytes } from "node:crypto";
import type { Account, MailStore, PasswordHasher } from "../storage/api.ts";
import { dummyPasswordHash, hashPassword, verifyPassword } from "./runtime.ts";
import type { Logger } from "./log.ts";
import type { RateLimiter } from "./ratelimit.ts";
import { normalizeLogin, type AuthThrottle, type Verdict } from "./auth-throttle.ts";

export { normalizeLogin } from "./auth-throttle.ts";

/** The kernel's password hashing (argon2id on Bun, scrypt elsewhere: src/runtime.ts), injected into storage. */
export const passwordHasher: PasswordHasher = { hash: hashPassword, verify: verifyPassword, dummyHash: dummyPasswordHash };

export interface AuthCacheOptions {
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

export interface AuthCache {
  get(user: string, password: string): { accountId: number; email: string; stamp: string; appPassword: { id: number; name: string } | null } | null;
  set(user: string, password: string, account: Account, stamp: string, appPassword?: { id: number; name: string } | null): void;
  invalidate(email: string): void;
  clear(): void;
  readonly size: number;
}

export function createAuthCache(opts: AuthCacheOptions = {}): AuthCache {
  const ttl = opts.ttlMs ?? 60_000;
  const max = opts.maxEntries ?? 10_000;
  const now = opts.now ?? Date.now;
  const secret = randomBytes(32);
  const entries = new Map<string, { accountId: number; email: string; stamp: string; appPassword: { id: number; name: string } | null; expires: number }>();
  const byEmail = new Map<string, Set<string>>();
  const key = (user: string, password: string) =>
    createHmac("sha256", secret).update(normalizeLogin(user)).update("\0").update(password).digest("base64");
  const drop = (k: string) => {
    const e = entries.get(k);
    if (!e) return;
    entries.delete(k);
    const set = byEmail.get(e.email);
    set?.delete(k);
    if (set && set.size === 0) byEmail.delete(e.email);
  };
  return {
    get(user, password) {
      const k = key(user, password);
      const e = entries.get(k);
      if (!e) return null;
      if (e.expires <= now()) {
        drop(k);
        return null;
      }
      return { accountId: e.accountId, email: e.email, stamp: e.stamp, appPassword: e.appPassword };
    },
    set(user, password, account, stamp, appPassword = null) {
      const k = key(user, password);
      drop(k);
      if (entries.size >= max) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) drop(oldest);
      }
      const email = account.email.toLowerCase();
      entries.set(k, { accountId: account.id, email, stamp, appPassword, expires: now() + ttl });
      let set = byEmail.get(email);
      if (!set) byEmail.set(email, (set = new Set()));
      set.add(k);
    },
    invalidate(email) {
      for (const k of [...(byEmail.get(email.toLowerCase()) ?? [])]) drop(k);
    },
    clear() {
      entries.clear();
      byEmail.clear();
    },
    get size() {
      return entries.size;
    },
  };
}

/** "::ffff:1.2.3.4" and "1.2.3.4" are the same client for limits. */
export function normalizeIp(ip: string | undefined | null): string {
  if (!ip) return "unknown";
  return ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice(7) : ip;
}

export type LoginResult =
  | {
      ok: true;
      account: Account;
      /** The app password that opened it (IMAP, POP3, SMTP, ActiveSync, DAV), absent for the main password. */
      appPassword?: { id: number; name: string };
      /** The credential stamp this login was checked against: a session that watches for revocation starts from it. */
      stamp?: string | null;
    }
  /**
   * "failed": wrong user or password (or the main password of an account with
   * two-factor sign-in over a protocol that has no second step: only an app
   * password opens it there); "throttled": refused before any password check
   * (try again later); "disabled": the account is disabled (said only after
   * the right password).
   */
  | { ok: false; reason: "failed" | "throttled" | "disabled"; retryAfterMs: number }
  /**
   * The password was right but the account has two-factor sign-in on: an
   * interactive sign-in (webmail, admin) asks for a code and finishes with
   * src/auth-factors.ts verifySecondFactor(). A caller that only tests `ok`
   * refuses, which is the safe answer.
   */
  | { ok: false; reason: "second-factor"; account: Account; retryAfterMs: 0 };

/** Sign-ins with a page that can ask for a second factor; they take the main password only, never an app password. */
export const INTERACTIVE_PROTOCOLS: ReadonlySet<string> = new Set(["webmail", "admin"]);

export interface LoginOptions {
  /** The client proved it is a known device of this account (webmail device cookie): no per-account delay. */
  trusted?: boolean;
  /** Protocol name for the log line and the rules: "webmail"/"admin" are interactive (INTERACTIVE_PROTOCOLS). */
  protocol?: string;
  /**
   * "confirm": a signed-in user re-enters the main password to confirm a
   * change (password change, two-factor set-up): the main password only, no
   * second step asked, no app password, no cache.
   */
  purpose?: "confirm";
}

export interface Authenticator {
  login(username: string, password: string, remoteIp: string, opts?: LoginOptions): Promise<LoginResult>;
  authenticate(username: string, password: string, remoteIp: string): Promise<Account | null>;
}

/** Last use of an app password is written at most this often per password (a phone polls every few minutes). */
const APP_PASSWORD_USE_WRITE_MS = 60_000;

export function createAuthenticator(deps: { store: MailStore; throttle: AuthThrottle; cache: AuthCache; log: Logger; now?: () => number }): Authenticator {
  const { store, throttle, cache, log } = deps;
  const now = deps.now ?? Date.now;
  const lastUseWritten = new Map<number, number>();
  const noteUse = (id: number, protocol: string) => {
    const t = now();
    const prev = lastUseWritten.get(id);
    if (prev !== undefined && t - prev < APP_PASSWORD_USE_WRITE_MS) return;
    lastUseWritten.delete(id);
    if (lastUseWritten.size >= 10_000) {
      const oldest = lastUseWritten.keys().next().value;
      if (oldest !== undefined) lastUseWritten.delete(oldest);
    }
    lastUseWritten.set(id, t);
    store.noteAppPasswordUse(id, protocol, t).catch((err) => log.warn("app password last use not recorded", { id, error: err instanceof Error ? err.message : String(err) }));
  };
  const login = async (username: string, password: string, remoteIp: string, opts: LoginOptions = {}): Promise<LoginResult> => {
    const ip = normalizeIp(remoteIp);
    const user = normalizeLogin(typeof username === "string" ? username : "");
    const protocol = opts.protocol ?? "unknown";
    const proto = opts.protocol ? { protocol: opts.protocol } : {};
    const interactive = INTERACTIVE_PROTOCOLS.has(protocol) || opts.purpose === "confirm";
    // One line per login and per refusal for the admin, the activity log and fail2ban
    // (docs/OPERATIONS.md, "Logins"): never the password.
    const refused = (reason: string, extra: Record<string, unknown> = {}) =>
      log.warn("login failed", { kind: "login-failed", user, account: user, ip, ...proto, reason, ...extra });
    const succeeded = (acct: Account, app: { id: number; name: string } | null, stamp: string | null): LoginResult => {
      // "credential", not "appPassword": the logger redacts every field named like a password (src/log.ts).
      log.info("login", { kind: "login", ...proto, account: acct.email, ip, credential: app ? "app" : "main", ...(app ? { device: app.name } : {}) });
      if (app) noteUse(app.id, protocol);
      return app ? { ok: true, account: acct, appPassword: app, stamp } : { ok: true, account: acct, stamp };
    };
    const throttled = (scope: string, retryAfterMs: number): LoginResult => {
      log.warn("login throttled", { kind: "login-failed", scope, ip, user, account: user, retryAfterMs, ...proto, reason: "throttled" });
      return { ok: false, reason: "throttled", retryAfterMs };
    };
    if (typeof password !== "string") return { ok: false, reason: "failed", retryAfterMs: 0 };
    let verdict: Verdict;
    for (let round = 0; ; round++) {
      // The throttle comes first, even for a password the cache knows: an account being slowed
      // down is slowed down for every unknown client (the owner's known ones are exempt).
      const pre = await throttle.check(user, ip, { trusted: opts.trusted });
      if (pre && !pre.busy) return throttled(pre.scope, pre.retryAfterMs);
      // Interactive sign-ins skip the cache: they are rare, and whether they need a second step is read fresh.
      const hit = interactive ? null : cache.get(user, password);
      if (hit) {
        const [acct, stamp] = await Promise.all([store.getAccountById(hit.accountId), store.credentialStamp(hit.accountId)]);
        // The stamp covers the password, the second factor, the app passwords and the disabled flag.
        if (acct && !acct.disabled && acct.email.toLowerCase() === hit.email && stamp === hit.stamp) {
          throttle.noteSuccess(user, ip);
          return succeeded(acct, hit.appPassword, stamp);
        }
        cache.invalidate(hit.email);
      }
      verdict = await throttle.begin(user, ip, { trusted: opts.trusted });
      if (verdict.ok) break;
      // Busy: other attempts for this account or address are being checked right now. Wait for one
      // to finish (a client opening many connections at once then finds its password in the cache)
      // rather than let them all reach the hash or refuse them all.
      if (!verdict.busy || round >= 20) return throttled(verdict.scope, verdict.retryAfterMs);
      await throttle.released();
    }
    let acct: Account | null = null;
    let app: { id: number; name: string } | null = null;
    let stamp: string | null = null;
    let twoFactor = false;
    try {
      // The stamp is read before the hash: if the credentials change in between, the entry is simply stale.
      const current = await store.getAccount(user);
      if (current) stamp = await store.credentialStamp(current.id);
      if (current && !interactive) {
        // An app password (its own shape: 16 letters and digits) opens the mail protocols, with or
        // without two-factor sign-in, and never the webmail or the admin.
        const found = await store.verifyAppPassword(current.id, password);
        if (found) {
          acct = current;
          app = { id: found.id, name: found.name };
        }
      }
      if (!acct) {
        acct = await store.authenticate(user, password);
        if (acct) twoFactor = (await store.twoFactorStatus(acct.id)).enabled;
      }
    } catch (err) {
      verdict.attempt.abandon();
      throw err;
    }
    if (!acct) {
      verdict.attempt.failed();
      refused(stamp === null ? "unknown account" : "bad password");
      return { ok: false, reason: "failed", retryAfterMs: 0 };
    }
    if (acct.disabled) {
      // The right password of a disabled account: not a guess, so not counted against the client.
      verdict.attempt.abandon();
      refused("disabled");
      return { ok: false, reason: "disabled", retryAfterMs: 0 };
    }
    if (twoFactor && !app && opts.purpose !== "confirm") {
      // Neither a success nor a guess: the throttle counts the code that must follow (auth-factors.ts).
      verdict.attempt.abandon();
      if (interactive) {
        log.info("login password accepted, second factor required", { kind: "login-2fa", ...proto, account: acct.email, ip });
        return { ok: false, reason: "second-factor", account: acct, retryAfterMs: 0 };
      }
      refused("2fa: main password refused, use an app password");
      return { ok: false, reason: "failed", retryAfterMs: 0 };
    }
    verdict.attempt.succeeded();
    if (stamp !== null && !interactive) cache.set(user, password, acct, stamp, app);
    return succeeded(acct, app, stamp);
  };
  return {
    login,
    async authenticate(username, password, remoteIp) {
      const r = await login(username, password, remoteIp);
      return r.ok ? r.account : null;
    },
  };
}

/** The per-IP side of the throttle as a RateLimiter (for protocols that count a malformed exchange). */
export function ipLimiterView(throttle: AuthThrottle): RateLimiter {
  return {
    isBlocked: (ip) => throttle.ipRetryAfter(normalizeIp(ip)) > 0,
    fail(ip) {
      throttle.ipFailed(normalizeIp(ip));
      return throttle.ipRetryAfter(normalizeIp(ip)) > 0;
    },
    succeed() {
      // A success does not wipe an address's failures: the per-IP limit is the strict one.
    },
    retryAfter: (ip) => throttle.ipRetryAfter(normalizeIp(ip)),
  };
}

/**
 * Wraps a store so password changes and account removals made through this
 * process invalidate the auth cache immediately.
 */
export function storeWithAuthInvalidation(store: MailStore, cache: AuthCache): MailStore {
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "setPassword") {
        return async (email: string, password: string, opts?: { keepWebmailSession?: string }) => {
          cache.invalidate(normalizeLogin(email));
          await target.setPassword(email, password, opts);
          cache.invalidate(normalizeLogin(email));
        };
      }
      if (prop === "setAccountFlags") {
        return async (email: string, flags: { admin?: boolean; disabled?: boolean }) => {
          const r = await target.setAccountFlags(email, flags);
          cache.invalidate(normalizeLogin(email));
          return r;
        };
      }
      if (prop === "removeAccount") {
        return async (email: string) => {
          cache.invalidate(normalizeLogin(email));
          await target.removeAccount(email);
          cache.invalidate(normalizeLogin(email));
        };
      }
      const v = Reflect.get(target, prop, target);
      if (typeof v !== "function") return v;
      let f = bound.get(prop);
      if (!f) bound.set(prop, (f = (v as (...a: unknown[]) => unknown).bind(target)));
      return f;
    },
  });
}
