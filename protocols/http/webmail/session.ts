/**
 * Webmail sessions.
 *
 * The cookie holds a nested JWT (RFC 7519 §5.2, §11.2: sign, then encrypt):
 * an HS256 JWS carrying `sid` (the server-side session id), `sub` (account
 * id) and `exp`, encrypted as a `dir`/A256GCM JWE, both keyed from the
 * current key of the ring (its `kid` in the protected headers). The token
 * alone is not enough: the session record must still exist in the store, so
 * logout and a password change end a session even if someone kept a copy of
 * the cookie.
 *
 * CSRF: a double-submit token bound to the session, HMAC(sid) under the
 * signing key, given to the page (in /api/session and a readable cookie) and
 * required in `X-CSRF-Token` on every state-changing request, plus an Origin
 * check (see csrf.ts).
 */
import { randomBytes, createHmac, timingSafeEqual } from "node:crypto";
import { SignJWT, jwtVerify, CompactEncrypt, compactDecrypt, decodeProtectedHeader } from "jose";
import type { KeyRing } from "./keys.ts";
import type { WebmailStore, WebmailSession } from "../../../storage/webmail-store.ts";

export const SESSION_COOKIE = "__Host-pb_session";
export const SESSION_COOKIE_PLAIN = "pb_session";
export const DEVICE_COOKIE = "__Host-pb_device";
export const DEVICE_COOKIE_PLAIN = "pb_device";
export const CSRF_COOKIE = "__Host-pb_csrf";
export const CSRF_COOKIE_PLAIN = "pb_csrf";

export interface SessionPolicy {
  /** Absolute lifetime of a session. */
  maxAgeMs: number;
  /** A session unused this long ends. */
  idleMs: number;
}

export const DEFAULT_POLICY: SessionPolicy = { maxAgeMs: 7 * 24 * 3600_000, idleMs: 24 * 3600_000 };

export interface ActiveSession {
  record: WebmailSession;
  csrf: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export class SessionManager {
  /** Touch the record at most this often (one write per minute per session, not per request). */
  private static readonly TOUCH_MS = 60_000;

  constructor(
    private readonly keys: KeyRing,
    private readonly store: WebmailStore,
    readonly policy: SessionPolicy = DEFAULT_POLICY,
    private readonly now: () => number = Date.now,
  ) {}

  /** Creates the record and returns the sealed token for the cookie. */
  async create(accountId: number, meta: { ip: string; userAgent: string }): Promise<{ token: string; session: ActiveSession }> {
    const key = await this.keys.current();
    const now = this.now();
    const record: WebmailSession = {
      id: randomBytes(24).toString("base64url"),
      accountId,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + this.policy.maxAgeMs,
      ip: meta.ip,
      userAgent: meta.userAgent.slice(0, 200),
    };
    await this.store.createSession(record);
    const jws = await new SignJWT({ sid: record.id })
      .setProtectedHeader({ alg: "HS256", kid: key.kid, typ: "JWT" })
      .setSubject(String(accountId))
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(record.expiresAt / 1000))
      .sign(key.signKey);
    const token = await new CompactEncrypt(enc.encode(jws)).setProtectedHeader({ alg: "dir", enc: "A256GCM", kid: key.kid, cty: "JWT" }).encrypt(key.encKey);
    return { token, session: { record, csrf: csrfFor(key.signKey, record.id) } };
  }

  /** Opens a cookie token; null when forged, expired, revoked or idle too long. */
  async open(token: string | undefined): Promise<ActiveSession | null> {
    if (!token || token.length > 4096) return null;
    let sid: string;
    let sub: string;
    let signKey: Uint8Array;
    try {
      const header = decodeProtectedHeader(token);
      if (header.alg !== "dir" || header.enc !== "A256GCM" || typeof header.kid !== "string") return null;
      const key = this.keys.byKid(header.kid);
      if (!key) return null;
      const { plaintext } = await compactDecrypt(token, key.encKey, { keyManagementAlgorithms: ["dir"], contentEncryptionAlgorithms: ["A256GCM"] });
      const inner = dec.decode(plaintext);
      const innerKid = decodeProtectedHeader(inner).kid;
      if (innerKid !== key.kid) return null;
      const { payload } = await jwtVerify(inner, key.signKey, { algorithms: ["HS256"], currentDate: new Date(this.now()) });
      if (typeof payload.sid !== "string" || typeof payload.sub !== "string") return null;
      sid = payload.sid;
      sub = payload.sub;
      signKey = key.signKey;
    } catch {
      return null;
    }
    const record = await this.store.getSession(sid);
    const now = this.now();
    if (!record || String(record.accountId) !== sub) return null;
    if (record.expiresAt <= now || now - record.lastSeenAt > this.policy.idleMs) {
      await this.store.deleteSession(sid);
      return null;
    }
    if (now - record.lastSeenAt > SessionManager.TOUCH_MS) {
      record.lastSeenAt = now;
      await this.store.touchSession(sid, now);
    }
    return { record, csrf: csrfFor(signKey, sid) };
  }

  /**
   * A "known device" token for the browser that just signed in as `account`
   * (OWASP Authentication Cheat Sheet, device cookies): an HS256 JWS under a
   * key derived from the ring's current signing key, naming the normalised
   * account. A browser that presents it is exempt from the per-account
   * sign-in delay (src/auth-throttle.ts), never from the per-IP limit.
   */
  async deviceToken(account: string): Promise<string> {
    const key = await this.keys.current();
    const now = this.now();
    return new SignJWT({ typ: "pb-device" })
      .setProtectedHeader({ alg: "HS256", kid: key.kid, typ: "JWT" })
      .setSubject(account)
      .setJti(randomBytes(12).toString("base64url"))
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor((now + this.policy.maxAgeMs) / 1000))
      .sign(deviceKey(key.signKey));
  }

  /** Is `token` a valid device token of `account` (already normalised)? */
  async isKnownDevice(token: string | undefined, account: string): Promise<boolean> {
    if (!token || token.length > 2048 || !account) return false;
    try {
      const kid = decodeProtectedHeader(token).kid;
      const key = typeof kid === "string" ? this.keys.byKid(kid) : undefined;
      if (!key) return false;
      const { payload } = await jwtVerify(token, deviceKey(key.signKey), { algorithms: ["HS256"], currentDate: new Date(this.now()), subject: account });
      return payload.typ === "pb-device";
    } catch {
      return false;
    }
  }

  async destroy(sid: string): Promise<void> {
    await this.store.deleteSession(sid);
  }

  /** Ends every session of an account except one (after a password change). */
  async destroyOthers(accountId: number, keepSid?: string): Promise<number> {
    return this.store.deleteAccountSessions(accountId, keepSid);
  }

  checkCsrf(session: ActiveSession, presented: string | null | undefined): boolean {
    if (!presented) return false;
    const a = Buffer.from(presented);
    const b = Buffer.from(session.csrf);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

/** The device-cookie key: its own HMAC of the session signing key, so a session token is never a device token. */
function deviceKey(signKey: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac("sha256", signKey).update("pillarbox webmail device cookie").digest());
}

/**
 * The CSRF token bound to a session: HMAC-SHA256(sid) under the signing key
 * that sealed the session's cookie. That key is retained for the whole life
 * of the session, so key rotation never invalidates an open page's token.
 */
function csrfFor(signKey: Uint8Array, sid: string): string {
  return createHmac("sha256", signKey).update("csrf:" + sid).digest("base64url");
}
