/**
 * The stores behind mail filtering (issue 19), on the one database
 * (storage/open.ts builds them; the server context carries them as
 * `ctx.storage.sieve`, `ctx.storage.bayes`, `ctx.storage.spam`):
 *  - SieveStore (./sieve-store.ts): users' Sieve scripts (RFC 5804's model:
 *    many scripts, at most one active), duplicate ids (RFC 7352), vacation
 *    responses sent (RFC 5230 §4.2), script errors already reported;
 *  - BayesStore (./bayes-store.ts): token counts of the Bayesian classifier,
 *    per account and per domain, and which message was trained as what;
 *  - SpamStore (./spam-store.ts): sender reputation, greylisting triplets,
 *    allow and deny lists.
 * Errors: StoreError("LIMIT") for a quota (too many scripts, a script too
 * large), StoreError("NONEXISTENT") for a missing name, StoreError("CANNOT")
 * for a refused change (deleting the active script), StoreError("ALREADYEXISTS").
 */

// ---------------------------------------------------------------- Sieve

export interface SieveScriptInfo {
  name: string;
  active: boolean;
  /** Octets of the script text (UTF-8). */
  size: number;
  updatedAt: number;
}

export interface SieveStore {
  /** The account's scripts by name (RFC 5804 §2.7 LISTSCRIPTS). */
  listScripts(accountId: number): Promise<SieveScriptInfo[]>;
  getScript(accountId: number, name: string): Promise<string | null>;
  /**
   * Creates or replaces a script (RFC 5804 §2.6 PUTSCRIPT). The caller has
   * validated it; the store enforces the quotas: at most `maxScripts` scripts,
   * `maxBytes` octets each (StoreError "LIMIT"). Replacing keeps `active`.
   */
  putScript(accountId: number, name: string, content: string, limits: { maxScripts: number; maxBytes: number }): Promise<void>;
  /** RFC 5804 §2.10: the active script cannot be deleted (StoreError "CANNOT"); false when no such script. */
  deleteScript(accountId: number, name: string): Promise<boolean>;
  /** RFC 5804 §2.11.1 RENAMESCRIPT: StoreError "NONEXISTENT" / "ALREADYEXISTS"; the active flag moves with it. */
  renameScript(accountId: number, from: string, to: string): Promise<void>;
  /** RFC 5804 §2.8 SETACTIVE: one script active, or none (null). StoreError "NONEXISTENT" for an unknown name. */
  setActive(accountId: number, name: string | null): Promise<void>;
  /** The active script's text, or null when none is active. */
  activeScript(accountId: number): Promise<{ name: string; content: string; updatedAt: number } | null>;

  /** RFC 7352 §3: true when `key` was recorded for the account and has not expired at `now`. */
  duplicateSeen(accountId: number, key: string, now: number): Promise<boolean>;
  /** Records (or refreshes) a duplicate id until `expiresAt`; expired rows are pruned as it goes. */
  duplicateRecord(accountId: number, key: string, expiresAt: number): Promise<void>;

  /** RFC 5230 §4.2: when this account last sent a vacation response with this handle to this sender, or null. */
  vacationLastSent(accountId: number, sender: string, handle: string): Promise<number | null>;
  vacationRecordSent(accountId: number, sender: string, handle: string, at: number): Promise<void>;

  /**
   * A failing script is reported to its owner once per script version:
   * returns true the first time for (account, digest) and records it.
   */
  claimErrorReport(accountId: number, digest: string, at: number): Promise<boolean>;
}

// ---------------------------------------------------------------- Bayes

/**
 * Whose model: one account's, or the domain-wide model every account of the
 * domain starts from (issue 19: "a Bayesian classifier per account, with a
 * shared domain-wide model as a start").
 */
export type BayesScope = { accountId: number } | { domain: string };

export interface BayesCounts {
  spam: number;
  ham: number;
}

export interface BayesStore {
  /** Messages trained as spam and as ham in the scope. */
  totals(scope: BayesScope): Promise<BayesCounts>;
  /** Counts of the given tokens (absent tokens are not in the map). At most a few thousand tokens per call. */
  tokenCounts(scope: BayesScope, tokens: readonly string[]): Promise<Map<string, BayesCounts>>;
  /**
   * Trains one message (identified by `key`, e.g. its blob digest) as spam or
   * ham, atomically: if it was trained as the other class it is untrained
   * first; trained as the same class again changes nothing (returns false).
   * `as: null` untrains it. The token set is the classifier's (deduplicated).
   */
  learn(scope: BayesScope, key: string, tokens: readonly string[], as: "spam" | "ham" | null): Promise<boolean>;
  /** What `key` is trained as in the scope, or null. */
  trainedAs(scope: BayesScope, key: string): Promise<"spam" | "ham" | null>;
  /** Drops rare old tokens so a scope's table stays bounded (tokens seen once, untouched for `olderThanMs`). Returns rows removed. */
  prune(scope: BayesScope, opts: { maxTokens: number; olderThanMs: number; now: number }): Promise<number>;
}

// ---------------------------------------------------------------- spam filter state

/** Allow/deny entry: an address (`user@example.com`) or a domain (`example.com`, matching its subdomains). */
export interface SpamListEntry {
  id: number;
  /** Whose list: one account's, one local domain's, or the whole server's. */
  scope: { accountId: number } | { domain: string } | "global";
  kind: "allow" | "deny";
  pattern: string;
  createdAt: number;
}

export interface SpamStore {
  listEntries(scope: SpamListEntry["scope"]): Promise<SpamListEntry[]>;
  /** The entries that can apply to a message for this account: its own, its domain's and the global ones. */
  entriesFor(accountId: number, accountDomain: string): Promise<SpamListEntry[]>;
  /** Adds (idempotent: the existing entry is returned); at most 1,000 per scope (StoreError "LIMIT"). */
  addEntry(scope: SpamListEntry["scope"], kind: "allow" | "deny", pattern: string): Promise<SpamListEntry>;
  removeEntry(scope: SpamListEntry["scope"], id: number): Promise<boolean>;

  /** Sender reputation learned from verdicts, per sender domain (as mox does). */
  reputation(domain: string): Promise<{ spam: number; ham: number; updatedAt: number } | null>;
  /** Adds one verdict (decayed counts are the implementation's choice). */
  noteReputation(domain: string, verdict: "spam" | "ham", at: number): Promise<void>;

  /**
   * Greylisting (RFC 6647): looks up the (ip-net, sender, recipient) triplet
   * key. "new": first seen now (recorded); "early": seen, but less than
   * `delayMs` ago; "pass": seen long enough ago, or already passed (then kept
   * `passTtlMs` from now).
   */
  greylist(key: string, now: number, delayMs: number, passTtlMs: number): Promise<"new" | "early" | "pass">;
}
