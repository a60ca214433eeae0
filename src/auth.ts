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
  get(user: string, password: string): { accountId: number; email: string; stamp: string } | null;
  set(user: string, password: string, account: Account, stamp: string): void;
  invalidate(email: string): void;
  clear(): void;
  readonly size: number;
}

export function createAuthCache(opts: AuthCacheOptions = {}): AuthCache {
  const ttl = opts.ttlMs ?? 60_000;
  const max = opts.maxEntries ?? 10_000;
  const now = opts.now ?? Date.now;
  const secret = randomBytes(32);
  const entries = new Map<string, { accountId: number; email: string; stamp: string; expires: number }>();
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
      return { accountId: e.accountId, email: e.email, stamp: e.stamp };
    },
    set(user, password, account, stamp) {
      const k = key(user, password);
      drop(k);
      if (entries.size >= max) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) drop(oldest);
      }
      const email = account.email.toLowerCase();
      entries.set(k, { accountId: account.id, email, stamp, expires: now() + ttl });
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
  | { ok: true; account: Account }
  /** "failed": wrong user or password; "throttled": refused before any password check (try again later). */
  | { ok: false; reason: "failed" | "throttled"; retryAfterMs: number };

export interface LoginOptions {
  /** The client proved it is a known device of this account (webmail device cookie): no per-account delay. */
  trusted?: boolean;
  /** Protocol name for the log line. */
  protocol?: string;
}

export interface Authenticator {
  login(username: string, password: string, remoteIp: string, opts?: LoginOptions): Promise<LoginResult>;
  authenticate(username: string, password: string, remoteIp: string): Promise<Account | null>;
}

export function createAuthenticator(deps: { store: MailStore; throttle: AuthThrottle; cache: AuthCache; log: Logger }): Authenticator {
  const { store, throttle, cache, log } = deps;
  const login = async (username: string, password: string, remoteIp: string, opts: LoginOptions = {}): Promise<LoginResult> => {
    const ip = normalizeIp(remoteIp);
    const user = normalizeLogin(typeof username === "string" ? username : "");
    const proto = opts.protocol ? { protocol: opts.protocol } : {};
    // One line per refusal for the admin or fail2ban (docs/OPERATIONS.md, "Logins").
    const throttled = (scope: string, retryAfterMs: number): LoginResult => {
      log.warn("login throttled", { scope, ip, user, retryAfterMs, ...proto });
      return { ok: false, reason: "throttled", retryAfterMs };
    };
    if (typeof password !== "string") return { ok: false, reason: "failed", retryAfterMs: 0 };
    let verdict: Verdict;
    for (let round = 0; ; round++) {
      // The throttle comes first, even for a password the cache knows: an account being slowed
      // down is slowed down for every unknown client (the owner's known ones are exempt).
      const pre = throttle.check(user, ip, { trusted: opts.trusted });
      if (pre && !pre.busy) return throttled(pre.scope, pre.retryAfterMs);
      const hit = cache.get(user, password);
      if (hit) {
        const [acct, stamp] = await Promise.all([store.getAccountById(hit.accountId), store.credentialStamp(hit.accountId)]);
        if (acct && acct.email.toLowerCase() === hit.email && stamp === hit.stamp) {
          throttle.noteSuccess(user, ip);
          return { ok: true, account: acct };
        }
        cache.invalidate(hit.email);
      }
      verdict = throttle.begin(user, ip, { trusted: opts.trusted });
      if (verdict.ok) break;
      // Busy: other attempts for this account or address are being checked right now. Wait for one
      // to finish (a client opening many connections at once then finds its password in the cache)
      // rather than let them all reach the hash or refuse them all.
      if (!verdict.busy || round >= 20) return throttled(verdict.scope, verdict.retryAfterMs);
      await throttle.released();
    }
    let acct: Account | null;
    let stamp: string | null = null;
    try {
      // The stamp is read before the hash: if the password changes in between, the entry is simply stale.
      const current = await store.getAccount(user);
      if (current) stamp = await store.credentialStamp(current.id);
      acct = await store.authenticate(user, password);
    } catch (err) {
      verdict.attempt.abandon();
      throw err;
    }
    if (!acct) {
      verdict.attempt.failed();
      log.info("login failed", { user, ip, ...proto });
      return { ok: false, reason: "failed", retryAfterMs: 0 };
    }
    verdict.attempt.succeeded();
    if (stamp !== null) cache.set(user, password, acct, stamp);
    return { ok: true, account: acct };
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
