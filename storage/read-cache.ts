/**
 * A small bounded, time-limited cache of read results, for the per-message
 * reads of the spam filter (allow/deny lists, sender reputation, Bayes model
 * totals): without it every inbound message costs several queries that almost
 * always answer the same thing.
 *
 * The store that owns the table is the only writer in this process and drops
 * the entries its writes touch (`invalidate`), so a change made through this
 * process (webmail, IMAP training, the SMTP path) is seen by the next read.
 * A change made by another process on the same database (the `pillarbox spam`
 * CLI, a second node) is seen once the entry expires, after at most `ttlMs`.
 * A multi-node setup that must see such changes at once would publish the
 * invalidations on the event bus instead.
 *
 * A read that started before a write committed may bring back the old value
 * after the write invalidated the key: every invalidation bumps a generation,
 * and a read stores its result only when no invalidation happened meanwhile.
 */
export class ReadCache<V> {
  private readonly map = new Map<string, { at: number; value: V }>();
  private generation = 0;

  constructor(
    /** Entries kept at most (the oldest stored goes first). */
    readonly maxEntries: number,
    /** How long an entry answers without asking the database. */
    readonly ttlMs: number,
  ) {}

  async get(key: string, load: () => Promise<V>): Promise<V> {
    const now = Date.now();
    const hit = this.map.get(key);
    if (hit && now - hit.at < this.ttlMs && now >= hit.at) return hit.value;
    const gen = this.generation;
    const value = await load();
    if (gen === this.generation) {
      this.map.delete(key);
      if (this.map.size >= this.maxEntries) {
        const oldest = this.map.keys().next();
        if (!oldest.done) this.map.delete(oldest.value);
      }
      this.map.set(key, { at: now, value });
    }
    return value;
  }

  /** Drops one key, or every key; reads in flight will not store what they read. */
  invalidate(key?: string): void {
    this.generation++;
    if (key === undefined) this.map.clear();
    else this.map.delete(key);
  }

  get size(): number {
    return this.map.size;
  }
}
