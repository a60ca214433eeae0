/**
 * Login checks shared by every protocol: per-IP failure limiting plus a
 * short-lived in-memory cache of successful logins.
 *
 * The cache exists because argon2id costs tens of milliseconds per check and
 * mail clients log in again and again (Dovecot's auth_cache solves the same
 * problem). Entries are keyed by an HMAC of (user, password) under a random
 * per-process key, so the plain password is never kept in memory and a
 * memory dump does not reveal which password matched. Changing or removing an
 * account through this process drops its entries at once; a change made by
 * another process (the CLI) takes effect within `ttlMs`.
 */
import { createHmac, randomBytes } from "node:crypto";
import type { Account, MailStore } from "../storage/api.ts";
import type { Logger } from "./log.ts";
import type { RateLimiter } from "./ratelimit.ts";

export interface AuthCacheOptions {
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

export interface AuthCache {
  get(user: string, password: string): { accountId: number; email: string } | null;
  set(user: string, password: string, account: Account): void;
  invalidate(email: string): void;
  clear(): void;
  readonly size: number;
}

export function createAuthCache(opts: AuthCacheOptions = {}): AuthCache {
  const ttl = opts.ttlMs ?? 60_000;
  const max = opts.maxEntries ?? 10_000;
  const now = opts.now ?? Date.now;
  const secret = randomBytes(32);
  const entries = new Map<string, { accountId: number; email: string; expires: number }>();
  const byEmail = new Map<string, Set<string>>();
  const key = (user: string, password: string) =>
    createHmac("sha256", secret).update(user.trim().toLowerCase()).update("\0").update(password).digest("base64");
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
      return { accountId: e.accountId, email: e.email };
    },
    set(user, password, account) {
      const k = key(user, password);
      drop(k);
      if (entries.size >= max) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) drop(oldest);
      }
      const email = account.email.toLowerCase();
      entries.set(k, { accountId: account.id, email, expires: now() + ttl });
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

export function createAuthenticator(deps: { store: MailStore; limiter: RateLimiter; cache: AuthCache; log: Logger }) {
  const { store, limiter, cache, log } = deps;
  return async function authenticate(username: string, password: string, remoteIp: string): Promise<Account | null> {
    const ip = normalizeIp(remoteIp);
    if (limiter.isBlocked(ip)) {
      log.warn("login refused: too many failures from this address", { user: username, ip, retryAfterMs: limiter.retryAfter(ip) });
      return null;
    }
    const hit = cache.get(username, password);
    if (hit) {
      const acct = await store.getAccountById(hit.accountId);
      if (acct && acct.email.toLowerCase() === hit.email) return acct;
      cache.invalidate(hit.email);
    }
    const acct = await store.authenticate(username.trim(), password);
    if (!acct) {
      const blocked = limiter.fail(ip);
      log.info("login failed", { user: username, ip, blocked });
      return null;
    }
    cache.set(username, password, acct);
    return acct;
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
        return async (email: string, password: string) => {
          cache.invalidate(email);
          await target.setPassword(email, password);
          cache.invalidate(email);
        };
      }
      if (prop === "removeAccount") {
        return async (email: string) => {
          cache.invalidate(email);
          await target.removeAccount(email);
          cache.invalidate(email);
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
