/**
 * The maildrop lock (RFC 1939 §4: the server acquires an exclusive-access
 * lock on the maildrop once authenticated; RFC 2449 §8.1.2 [IN-USE] when it
 * cannot). In-process, per account: a second POP3 session for the same
 * account is refused until the first one closes. IMAP sessions are not
 * locked out: they see POP3 deletions as expunges through the store events.
 */
export class MaildropLocks {
  private readonly held = new Set<number>();

  /** Returns a release function, or null when the account's maildrop is already locked. */
  acquire(accountId: number): (() => void) | null {
    if (this.held.has(accountId)) return null;
    this.held.add(accountId);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held.delete(accountId);
    };
  }

  isLocked(accountId: number): boolean {
    return this.held.has(accountId);
  }
}
