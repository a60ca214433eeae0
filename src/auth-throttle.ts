/**
 * The one authentication throttle every protocol goes through (IMAP
 * LOGIN/AUTHENTICATE, POP3 USER/PASS/APOP/AUTH, SMTP AUTH, ActiveSync Basic,
 * the webmail sign-in and its password change).
 *
 * Two keys, two policies:
 *  - Per client IP, a hard temporary block: `ipMaxFailures` failed checks
 *    within `ipWindowMs` refuse every further attempt from that address, even
 *    a right password, until the window slides (what fail2ban does at the
 *    firewall; the log line below lets it).
 *  - Per account (the normalised login name), a progressive delay rather
 *    than a lock-out: after `accountFreeFailures` failures, the next attempt
 *    is only let through once `base * 2^(failures - free)` (capped at
 *    `accountMaxDelayMs`) has passed since the last failure; attempts in
 *    between are refused at once without a password check. This is Dovecot's
 *    auth_penalty idea (a doubling delay up to a cap) applied to the account,
 *    so a botnet spreading guesses over many IPs gets one guess per delay.
 *
 * The owner is not locked out (Exchange/Azure AD "smart lockout", OWASP's
 * device cookies): an attempt from a *known* client, an IP that signed in
 * to this account successfully within `knownIpTtlMs`, or a webmail browser
 * carrying a valid device cookie (the caller says so with `trusted`), is
 * exempt from the per-account delay. It is never exempt from the per-IP
 * block. A success from an unknown client resets the account's count; one
 * from a known client does not, so an attacker stays slowed while the owner
 * keeps working.
 *
 * Attempts are reserved before the password hash is checked and released
 * after: the in-flight attempts count against both limits, so 40 parallel
 * logins from one new address cannot all reach the (slow) hash check before
 * the first failure is counted.
 *
 * Memory is bounded: at most `maxKeys` entries per map, oldest dropped first.
 */
import { domainToASCII } from "node:url";

/**
 * One spelling per account name, used for the throttle, the auth cache and
 * the account lookup: trim, strip one pair of `<>`, Unicode NFKC (so a
 * fullwidth `ｅ` is `e`), lower case, no trailing dot on the domain, and the
 * domain in IDNA ASCII form (UTS #46 via `domainToASCII`).
 */
export function normalizeLogin(user: string): string {
  let s = String(user ?? "").trim();
  if (s.startsWith("<") && s.endsWith(">")) s = s.slice(1, -1).trim();
  s = s.normalize("NFKC").toLowerCase();
  const at = s.lastIndexOf("@");
  if (at < 0) return s;
  const domain = s.slice(at + 1).replace(/\.$/, "");
  const ascii = /^[\x21-\x7e]*$/.test(domain) ? domain : domainToASCII(domain) || domain;
  return `${s.slice(0, at)}@${ascii}`;
}

export interface AuthThrottleOptions {
  /** Failed checks per IP within the window before the IP is refused. */
  ipMaxFailures: number;
  ipWindowMs: number;
  /** Failures per account before the progressive delay starts (default 5). */
  accountFreeFailures?: number;
  /** First delay (default 1 s), doubled per further failure... */
  accountBaseDelayMs?: number;
  /** ...up to this (default 60 s). */
  accountMaxDelayMs?: number;
  /** An account's failures are forgotten this long after its last one (default 15 min). */
  accountWindowMs?: number;
  /** An IP that signed in to an account stays "known" for it this long (default 30 days). */
  knownIpTtlMs?: number;
  maxKeys?: number;
  now?: () => number;
}

/**
 * What the throttle recorded, for the replicas in the server's other
 * processes (src/cluster/limits.ts: the lead's throttle decides; each worker
 * keeps a copy for quick checks such as "is this address blocked now?").
 */
export type ThrottleRecord =
  | { k: "fail"; account: string; ip: string; t: number }
  | { k: "ipfail"; ip: string; t: number }
  | { k: "ok"; account: string; ip: string; exempt: boolean }
  | { k: "known"; account: string; ip: string };

export type ThrottleScope = "ip" | "account";

/** A reserved attempt: call exactly one of these once the password was checked. */
export interface Attempt {
  succeeded(): void;
  failed(): void;
  /** The check could not be made (an error): release without counting. */
  abandon(): void;
}

/**
 * Why an attempt may not go ahead now. `busy`: only because other attempts
 * on the same IP or account are being checked right now (no failure limit
 * reached): the caller may wait for them (`released`) and try again, by when
 * a right password is usually in the auth cache.
 */
export interface Refusal {
  scope: ThrottleScope;
  retryAfterMs: number;
  busy: boolean;
}

export type Verdict = { ok: true; attempt: Attempt } | ({ ok: false } & Refusal);

export interface AuthThrottle {
  /** Would an attempt be refused now? (Reserves nothing; a worker asks the lead.) */
  check(account: string, ip: string, opts?: { trusted?: boolean }): Refusal | null | Promise<Refusal | null>;
  /**
   * Reserves an attempt for `account` from `ip`, or says why not (nothing is counted then).
   * In a worker process the reservation is the lead's (src/cluster/limits.ts): asynchronous.
   */
  begin(account: string, ip: string, opts?: { trusted?: boolean }): Verdict | Promise<Verdict>;
  /** Resolves when some attempt in flight is released (or after `timeoutMs`). */
  released(timeoutMs?: number): Promise<void>;
  /** Is the IP over its failure limit (counting attempts in flight)? */
  ipRetryAfter(ip: string): number;
  /** Counts a failure against an IP alone (a malformed AUTH exchange, say). */
  ipFailed(ip: string): void;
  /** Did this IP sign in to this account recently? */
  isKnownIp(account: string, ip: string): boolean;
  /** Records a successful sign-in that did not need a password check (an auth-cache hit). */
  noteSuccess(account: string, ip: string): void;
  /** Attempts whose password check is running now (for tests and diagnostics). */
  readonly inFlight: number;
  /** Called with every failure and success recorded here (not with applied ones). */
  observe(fn: ((r: ThrottleRecord) => void) | null): void;
  /** Applies what another process recorded. */
  apply(r: ThrottleRecord): void;
}

/** The throttle itself (one process's, or the lead's for the whole server): reservations are immediate. */
export interface LocalAuthThrottle extends AuthThrottle {
  check(account: string, ip: string, opts?: { trusted?: boolean }): Refusal | null;
  begin(account: string, ip: string, opts?: { trusted?: boolean }): Verdict;
}

interface IpState {
  failures: number[];
  inflight: number;
}
interface AccountState {
  failures: number;
  lastFailure: number;
  inflight: number;
}

function boundedSet<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  if (!map.has(key) && map.size >= max) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
  map.set(key, value);
}

export function createAuthThrottle(opts: AuthThrottleOptions): LocalAuthThrottle {
  const now = opts.now ?? Date.now;
  const maxKeys = opts.maxKeys ?? 100_000;
  const free = opts.accountFreeFailures ?? 5;
  const base = opts.accountBaseDelayMs ?? 1000;
  const cap = opts.accountMaxDelayMs ?? 60_000;
  const acctWindow = opts.accountWindowMs ?? 15 * 60_000;
  const knownTtl = opts.knownIpTtlMs ?? 30 * 24 * 3600_000;
  const ips = new Map<string, IpState>();
  const accounts = new Map<string, AccountState>();
  const known = new Map<string, number>();
  let inFlight = 0;
  let observer: ((r: ThrottleRecord) => void) | null = null;

  const ipState = (ip: string): IpState | undefined => {
    const s = ips.get(ip);
    if (!s) return undefined;
    const t = now();
    s.failures = s.failures.filter((x) => t - x < opts.ipWindowMs);
    if (!s.failures.length && !s.inflight) {
      ips.delete(ip);
      return undefined;
    }
    return s;
  };
  const acctState = (account: string): AccountState | undefined => {
    const s = accounts.get(account);
    if (!s) return undefined;
    if (s.failures && now() - s.lastFailure > acctWindow) s.failures = 0;
    if (!s.failures && !s.inflight) {
      accounts.delete(account);
      return undefined;
    }
    return s;
  };
  const ipRetryAfter = (ip: string): number => {
    const s = ipState(ip);
    if (!s || s.failures.length + s.inflight < opts.ipMaxFailures) return 0;
    // Blocked by attempts in flight only: try again in a moment.
    if (s.failures.length < opts.ipMaxFailures) return 1000;
    return Math.max(1, opts.ipWindowMs - (now() - s.failures[s.failures.length - opts.ipMaxFailures]!));
  };
  const delayFor = (failures: number) => Math.min(cap, base * 2 ** Math.max(0, failures - free));
  const knownKey = (account: string, ip: string) => `${account}\u0000${ip}`;
  const isKnownIp = (account: string, ip: string) => {
    const exp = known.get(knownKey(account, ip));
    if (exp === undefined) return false;
    if (exp <= now()) {
      known.delete(knownKey(account, ip));
      return false;
    }
    return true;
  };
  const remember = (account: string, ip: string) => {
    const k = knownKey(account, ip);
    known.delete(k); // re-insert at the end: the map drops the least recently used first
    boundedSet(known, k, now() + knownTtl, maxKeys);
  };

  const refusal = (account: string, ip: string, o: { trusted?: boolean }): Refusal | null => {
    const ipWait = ipRetryAfter(ip);
    if (ipWait > 0) {
      const s = ipState(ip);
      return { scope: "ip", retryAfterMs: ipWait, busy: !!s && s.failures.length < opts.ipMaxFailures };
    }
    if (o.trusted === true || isKnownIp(account, ip)) return null;
    const a = acctState(account);
    if (!a || a.failures + a.inflight < free) return null;
    // In the delay phase one attempt at a time, and only once the delay since the last failure is over.
    const wait = a.failures >= free ? a.lastFailure + delayFor(a.failures) - now() : 0;
    if (wait > 0) return { scope: "account", retryAfterMs: wait, busy: false };
    if (a.inflight > 0) return { scope: "account", retryAfterMs: base, busy: true };
    return null;
  };
  const ipFail = (ip: string, t: number) => {
    const s = ips.get(ip) ?? { failures: [], inflight: 0 };
    s.failures.push(t);
    boundedSet(ips, ip, s, maxKeys);
  };
  let waiters: (() => void)[] = [];
  const wake = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };

  return {
    check: (account, ip, o = {}) => refusal(account, ip, o),
    released(timeoutMs = 5000) {
      return new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        (t as { unref?: () => void }).unref?.();
        waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    },
    begin(account, ip, o = {}) {
      const no = refusal(account, ip, o);
      if (no) return { ok: false, ...no };
      const exempt = o.trusted === true || isKnownIp(account, ip);
      const a = acctState(account);
      const is = ips.get(ip) ?? { failures: [], inflight: 0 };
      is.inflight++;
      boundedSet(ips, ip, is, maxKeys);
      const as = a ?? { failures: 0, lastFailure: 0, inflight: 0 };
      as.inflight++;
      boundedSet(accounts, account, as, maxKeys);
      inFlight++;
      let done = false;
      const release = () => {
        if (done) return false;
        done = true;
        is.inflight = Math.max(0, is.inflight - 1);
        as.inflight = Math.max(0, as.inflight - 1);
        inFlight--;
        queueMicrotask(wake);
        return true;
      };
      return {
        ok: true,
        attempt: {
          succeeded() {
            if (!release()) return;
            if (!exempt) as.failures = 0;
            remember(account, ip);
            acctState(account);
            ipState(ip);
            observer?.({ k: "ok", account, ip, exempt });
          },
          failed() {
            if (!release()) return;
            const t = now();
            is.failures.push(t);
            if (!ips.has(ip)) boundedSet(ips, ip, is, maxKeys);
            as.failures++;
            as.lastFailure = t;
            if (!accounts.has(account)) boundedSet(accounts, account, as, maxKeys);
            observer?.({ k: "fail", account, ip, t });
          },
          abandon() {
            if (!release()) return;
            acctState(account);
            ipState(ip);
          },
        },
      };
    },
    ipRetryAfter,
    ipFailed(ip) {
      const t = now();
      ipFail(ip, t);
      observer?.({ k: "ipfail", ip, t });
    },
    isKnownIp,
    noteSuccess(account, ip) {
      remember(account, ip);
      observer?.({ k: "known", account, ip });
    },
    get inFlight() {
      return inFlight;
    },
    observe(fn) {
      observer = fn;
    },
    apply(r) {
      if (r.k === "ipfail") return ipFail(r.ip, r.t);
      if (r.k === "fail") {
        ipFail(r.ip, r.t);
        const as = accounts.get(r.account) ?? { failures: 0, lastFailure: 0, inflight: 0 };
        as.failures++;
        as.lastFailure = Math.max(as.lastFailure, r.t);
        boundedSet(accounts, r.account, as, maxKeys);
        return;
      }
      if (r.k === "ok" && !r.exempt) {
        const as = accounts.get(r.account);
        if (as) as.failures = 0;
      }
      remember(r.account, r.ip);
    },
  };
}
