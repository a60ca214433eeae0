/**
 * The MAPI/HTTP session contexts (MS-OXCMAPIHTTP §3.2.1: a Session Context
 * per Connect or Bind, found again by its session context cookie, with a
 * request sequence cookie that changes on every request, §3.2.5.1).
 *
 * Bounded in memory: a cap per account and a global cap (the least
 * recently used session goes first when a new one needs room) and an idle
 * expiry (the X-ExpirationInfo the client is told). Every ended session
 * (expired, evicted, disconnected, shut down) aborts its signal, so a
 * pending NotificationWait returns, and gives its state back to the
 * service's `dispose` exactly once.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";

export type Endpoint = "emsmdb" | "nspi";

export interface SessionLimits {
  /** Idle time after which a session is gone (ms); X-ExpirationInfo. MS-OXCMAPIHTTP §2.2.3.3.5. */
  expirationMs: number;
  /** Sessions one account may hold, both endpoints together. */
  perAccount: number;
  /** Sessions the whole server holds. */
  global: number;
}

export const DEFAULT_LIMITS: SessionLimits = { expirationMs: 15 * 60_000, perAccount: 32, global: 5_000 };

export interface Session {
  /** The session context cookie's value (MS-OXCMAPIHTTP §3.2.5.1). */
  readonly id: string;
  readonly endpoint: Endpoint;
  readonly accountId: number;
  /** The service's own state (types.ts EmsmdbService / NspiService). */
  readonly state: object;
  /** The request sequence cookie's value the next request must carry. */
  sequence: string;
  lastUsed: number;
  /** Aborted when the session ends (a NotificationWait in flight returns). */
  readonly ended: AbortController;
  /** Called once when the session ends without Disconnect/Unbind. */
  readonly dispose: (() => void) | null;
  /** The tail of the session's service calls: one runs at a time (see `serialized`). */
  busy: Promise<unknown>;
}

/**
 * Runs a service call after the session's previous one has finished. The
 * sequence cookie orders requests, but a client may send its next request
 * as soon as a streamed answer's headers (with the new cookie) arrive, so
 * the service's state still must not see two calls at once.
 */
export function serialized<T>(s: Session, fn: () => Promise<T>): Promise<T> {
  const run = s.busy.then(fn, fn);
  s.busy = run.catch(() => undefined);
  return run;
}

/** A random cookie value: 24 bytes, base64url (no characters a cookie must quote). */
export function cookieToken(): string {
  return randomBytes(24).toString("base64url");
}

/** Compares two cookie values without a timing side channel. */
export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The shape of a cookie value we hand out; anything else is an invalid context cookie (X-ResponseCode 6). */
export function wellFormedToken(v: string): boolean {
  return /^[A-Za-z0-9_-]{32}$/.test(v);
}

export class SessionRegistry {
  // Insertion order = least recently used first: a touch deletes and re-inserts.
  private readonly byId = new Map<string, Session>();
  limits: SessionLimits;
  /** The clock (tests replace it to expire sessions without waiting). */
  now: () => number = Date.now;

  constructor(limits: SessionLimits = DEFAULT_LIMITS) {
    this.limits = { ...limits };
  }

  get size(): number {
    return this.byId.size;
  }

  /** A new session for the account; makes room first by ending the oldest sessions past the caps. */
  create(endpoint: Endpoint, accountId: number, state: object, dispose: (() => void) | null): Session {
    this.sweep();
    const mine = [...this.byId.values()].filter((s) => s.accountId === accountId);
    for (let i = 0; i <= mine.length - this.limits.perAccount; i++) this.end(mine[i]!, true);
    while (this.byId.size >= this.limits.global) {
      const oldest = this.byId.values().next().value;
      if (!oldest) break;
      this.end(oldest, true);
    }
    const s: Session = { id: cookieToken(), endpoint, accountId, state, sequence: cookieToken(), lastUsed: this.now(), ended: new AbortController(), dispose, busy: Promise.resolve() };
    this.byId.set(s.id, s);
    return s;
  }

  /** The live session with this context cookie, or null (unknown or idle past the expiry, which ends it). */
  find(id: string): Session | null {
    const s = this.byId.get(id);
    if (!s) return null;
    if (this.now() - s.lastUsed > this.limits.expirationMs) {
      this.end(s, true);
      return null;
    }
    return s;
  }

  /** Marks the session used now and moves it to the most recently used end; returns the new sequence cookie. */
  touch(s: Session, rotate: boolean): string {
    s.lastUsed = this.now();
    this.byId.delete(s.id);
    this.byId.set(s.id, s);
    if (rotate) s.sequence = cookieToken();
    return s.sequence;
  }

  /**
   * Ends a session: forgets it, aborts its signal, and (when `dispose` is
   * true: expiry, eviction, shutdown) hands its state back to the service.
   * Disconnect and Unbind pass false: the service already let go.
   */
  end(s: Session, dispose: boolean): void {
    if (this.byId.get(s.id) !== s) return;
    this.byId.delete(s.id);
    s.ended.abort();
    const release = s.dispose;
    if (dispose && release) {
      // After the call in flight (if any) is done with the state.
      void s.busy.then(() => {
        try {
          release();
        } catch {
          // A service's clean-up failing must not keep the registry from moving on.
        }
      });
    }
  }

  /** Ends every session idle past the expiry (called on each create; cheap next to a Connect). */
  sweep(): void {
    const t = this.now();
    for (const s of [...this.byId.values()]) if (t - s.lastUsed > this.limits.expirationMs) this.end(s, true);
  }

  /** Ends every session (server shutdown, tests). */
  clear(): void {
    for (const s of [...this.byId.values()]) this.end(s, true);
  }
}

const registries = new WeakMap<object, SessionRegistry>();

/**
 * The registry of one running server (its ServerContext): sessions never
 * cross between servers in one process (tests), and go with the server.
 * Tests reach it to change the clock or the limits.
 */
export function sessionsFor(server: object): SessionRegistry {
  let r = registries.get(server);
  if (!r) {
    r = new SessionRegistry();
    registries.set(server, r);
  }
  return r;
}
