/**
 * The maildrop lock (RFC 1939 §4: the server acquires an exclusive-access
 * lock on the maildrop once authenticated; RFC 2449 §8.1.2 [IN-USE] when it
 * cannot). Per account, across every process of the server: a second POP3
 * session for the same account is refused until the first one closes, even
 * when the two connections landed on different workers (the lead holds the
 * shared lock, src/cluster/). IMAP sessions are not locked out: they see POP3
 * deletions as expunges through the store events.
 */
export type SharedLock = (key: string) => Promise<(() => void) | null>;

export class MaildropLocks {
  private readonly held = new Set<number>();

  /** `shared`: the server's cross-process lock (ctx.cluster.lock); without it, this process's only. */
  constructor(private readonly shared?: SharedLock) {}

  /** Resolves to a release function, or null when the account's maildrop is already locked. */
  async acquire(accountId: number): Promise<(() => void) | null> {
    // Held here already: no need to ask the other processes.
    if (this.held.has(accountId)) return null;
    this.held.add(accountId);
    let releaseShared: (() => void) | null = null;
    if (this.shared) {
      releaseShared = await this.shared(`pop3.maildrop:${accountId}`);
      if (!releaseShared) {
        this.held.delete(accountId);
        return null;
      }
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held.delete(accountId);
      releaseShared?.();
    };
  }

  isLocked(accountId: number): boolean {
    return this.held.has(accountId);
  }
}

/**
 * The accounts' last POP3 login times (RFC 2449 §8.1.1 LOGIN-DELAY), told to
 * the server's other processes as they are set, so the delay holds whichever
 * worker the next connection lands on.
 */
export class LoginTimes extends Map<number, number> {
  constructor(private readonly tell?: (accountId: number, at: number) => void) {
    super();
  }

  override set(accountId: number, at: number): this {
    super.set(accountId, at);
    this.tell?.(accountId, at);
    // bounded: a login time matters only within the delay; the oldest go first past 100,000 accounts
    if (this.size > 100_000) this.delete(this.keys().next().value!);
    return this;
  }

  /** Another process's login. */
  learn(accountId: number, at: number): void {
    if ((this.get(accountId) ?? 0) < at) super.set(accountId, at);
  }
}
