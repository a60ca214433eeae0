/**
 * When to renew and how long to wait after a failure. Pure functions, so the
 * schedule is unit-tested without a CA.
 */

const DAY = 86_400_000;

/**
 * Renewal is due at a third of the lifetime before expiry, but at most 30
 * days before (Let's Encrypt's advice for 90-day certificates: renew at 60
 * days; short-lived certificates renew after two thirds of their life).
 */
export function renewalDueAt(notBefore: number, notAfter: number): number {
  const lifetime = Math.max(0, notAfter - notBefore);
  return notAfter - Math.min(30 * DAY, lifetime / 3);
}

/** First retry after a failure. */
export const BACKOFF_BASE_MS = 60_000;
/** Longest wait between attempts: the CA's failed-validation limits (e.g. 5 per hour per name) stay far away. */
export const BACKOFF_MAX_MS = 12 * 3_600_000;

/** Wait after the n-th consecutive failure (n >= 1): 1 min, 2, 4, ... capped at 12 h. */
export function backoffDelay(failures: number): number {
  if (failures < 1) return 0;
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(failures - 1, 30));
}

/**
 * The next attempt: after a failure, the backoff from the last attempt (but
 * never later than the certificate's own renewal time if that is sooner and
 * the backoff is longer than the time left); without a certificate, now.
 */
export function nextAttemptAt(s: { certNotBefore: number | null; certNotAfter: number | null; failures: number; lastAttemptAt: number | null }, now: number): number {
  const due = s.certNotBefore !== null && s.certNotAfter !== null ? renewalDueAt(s.certNotBefore, s.certNotAfter) : now;
  if (s.failures === 0 || s.lastAttemptAt === null) return due;
  return Math.max(due, s.lastAttemptAt + backoffDelay(s.failures));
}
