/**
 * Sliding-window failure counter per key (an IP, an account). After `max`
 * failures in `windowMs`, `isBlocked` is true until the window slides, so a
 * lock-out is always temporary. Memory is bounded: at most `maxKeys` keys.
 */
export interface RateLimiter {
  isBlocked(key: string): boolean;
  /** Records a failure; returns true if the key is now blocked. */
  fail(key: string): boolean;
  succeed(key: string): void;
  /** Milliseconds until the key may try again (0 if not blocked). */
  retryAfter(key: string): number;
}

export function createRateLimiter(opts: { max: number; windowMs: number; maxKeys?: number; now?: () => number }): RateLimiter {
  const { max, windowMs } = opts;
  const maxKeys = opts.maxKeys ?? 100_000;
  const now = opts.now ?? Date.now;
  const hits = new Map<string, number[]>();
  const prune = (key: string): number[] => {
    const t = now();
    const list = (hits.get(key) ?? []).filter((x) => t - x < windowMs);
    if (list.length) hits.set(key, list);
    else hits.delete(key);
    return list;
  };
  return {
    isBlocked: (key) => prune(key).length >= max,
    fail(key) {
      const list = prune(key);
      list.push(now());
      if (!hits.has(key) && hits.size >= maxKeys) {
        const oldest = hits.keys().next().value;
        if (oldest !== undefined) hits.delete(oldest);
      }
      hits.set(key, list);
      return list.length >= max;
    },
    succeed(key) {
      hits.delete(key);
    },
    retryAfter(key) {
      const list = prune(key);
      if (list.length < max) return 0;
      return Math.max(0, windowMs - (now() - list[list.length - max]!));
    },
  };
}
