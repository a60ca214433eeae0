/**
 * SpamStore (./filter-api.ts) on the shared database (migration 0043):
 * allow/deny lists, per-domain sender reputation, greylisting triplets.
 * Portable SQL only (SQLite/libSQL and PostgreSQL).
 */
import type { Db, Queryable } from "./db.ts";
import { StoreError } from "./api.ts";
import type { SpamStore, SpamListEntry } from "./filter-api.ts";
import { ReadCache } from "./read-cache.ts";

/** Entries one scope may hold (the contract's bound). */
export const MAX_LIST_ENTRIES = 1000;
/** Reputation counts halve every 30 days, so a domain that changed hands or cleaned up recovers. */
const REPUTATION_HALF_LIFE_MS = 30 * 86_400_000;
/** Greylisting triplets never passed are forgotten after a day (RFC 6647 §4.2: the record need not outlive the retry window). */
const GREYLIST_PENDING_TTL_MS = 86_400_000;
/** Prune greylist rows at most this often. */
const GREYLIST_PRUNE_EVERY_MS = 10 * 60_000;
/**
 * Lists and reputation are read for every inbound message and change rarely: cached
 * (./read-cache.ts), dropped on this store's own writes; a change by another process
 * (the CLI) is seen within this time.
 */
export const SPAM_CACHE_TTL_MS = 30_000;
const SPAM_CACHE_ENTRIES = 10_000;

type Scope = SpamListEntry["scope"];

function scopeKey(scope: Scope): string {
  if (scope === "global") return "g";
  if ("accountId" in scope) return `a:${scope.accountId}`;
  return `d:${scope.domain.toLowerCase()}`;
}

function scopeOf(key: string): Scope {
  if (key === "g") return "global";
  if (key.startsWith("a:")) return { accountId: Number(key.slice(2)) };
  return { domain: key.slice(2) };
}

interface ListRow {
  id: number;
  scope: string;
  kind: string;
  pattern: string;
  created_at: number;
}

function entryOf(r: ListRow): SpamListEntry {
  return { id: Number(r.id), scope: scopeOf(r.scope), kind: r.kind === "deny" ? "deny" : "allow", pattern: r.pattern, createdAt: Number(r.created_at) };
}

/**
 * An allow/deny pattern in its stored form: a lower-case address
 * (`user@example.com`) or domain (`example.com`, matching its subdomains).
 * Throws StoreError("INVALID") for anything else.
 */
export function normalizeListPattern(input: string): string {
  let p = input.trim().toLowerCase();
  if (p.startsWith("@")) p = p.slice(1);
  if (p.startsWith("*.")) p = p.slice(2);
  if (p.length === 0 || p.length > 320) throw new StoreError("INVALID", "a pattern is an address (user@example.com) or a domain (example.com)");
  const at = p.lastIndexOf("@");
  const domain = at >= 0 ? p.slice(at + 1) : p;
  const local = at >= 0 ? p.slice(0, at) : null;
  if (!/^(?=.{1,253}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/.test(domain) || !domain.includes(".")) {
    throw new StoreError("INVALID", `not a domain name: ${domain.slice(0, 80)}`);
  }
  // eslint-disable-next-line no-control-regex
  if (local !== null && (local.length === 0 || local.length > 64 || /[\x00-\x20\x7f<>()\[\],;:"\\]/.test(local))) {
    throw new StoreError("INVALID", "not an address local part");
  }
  return p.replace(/\.$/, "");
}

export class SqlSpamStore implements SpamStore {
  private lastPrune = 0;
  /** entriesFor by account and domain (every key holds the server-wide entries too: any list write drops them all). */
  private readonly entriesCache: ReadCache<SpamListEntry[]>;
  /** The stored (undecayed) reputation row by domain; null when none. */
  private readonly reputationCache: ReadCache<{ spam: number; ham: number; updatedAt: number } | null>;
  constructor(
    readonly db: Db,
    opts: { cacheTtlMs?: number } = {},
  ) {
    const ttl = opts.cacheTtlMs ?? SPAM_CACHE_TTL_MS;
    this.entriesCache = new ReadCache(SPAM_CACHE_ENTRIES, ttl);
    this.reputationCache = new ReadCache(SPAM_CACHE_ENTRIES, ttl);
  }

  async listEntries(scope: Scope): Promise<SpamListEntry[]> {
    const rows = await this.db.all<ListRow>("SELECT id, scope, kind, pattern, created_at FROM spam_lists WHERE scope = ? ORDER BY kind, pattern", [scopeKey(scope)]);
    return rows.map(entryOf);
  }

  async entriesFor(accountId: number, accountDomain: string): Promise<SpamListEntry[]> {
    const a = scopeKey({ accountId });
    const d = scopeKey({ domain: accountDomain });
    const entries = await this.entriesCache.get(`${a}\u0000${d}`, async () => {
      const rows = await this.db.all<ListRow>("SELECT id, scope, kind, pattern, created_at FROM spam_lists WHERE scope IN (?, ?, 'g')", [a, d]);
      return rows.map(entryOf);
    });
    // a copy: the cached list stays as read whatever the caller does with its answer
    return entries.map((e) => ({ ...e }));
  }

  async addEntry(scope: Scope, kind: "allow" | "deny", pattern: string): Promise<SpamListEntry> {
    try {
      return await this.writeEntry(scope, kind, pattern);
    } finally {
      this.entriesCache.invalidate();
    }
  }

  private async writeEntry(scope: Scope, kind: "allow" | "deny", pattern: string): Promise<SpamListEntry> {
    const p = normalizeListPattern(pattern);
    const key = scopeKey(scope);
    const accountId = scope !== "global" && "accountId" in scope ? scope.accountId : null;
    return this.db.write(async (tx) => {
      const existing = await tx.get<ListRow>("SELECT id, scope, kind, pattern, created_at FROM spam_lists WHERE scope = ? AND kind = ? AND pattern = ?", [key, kind, p]);
      if (existing) return entryOf(existing);
      const n = await tx.get<{ n: number }>("SELECT COUNT(*) AS n FROM spam_lists WHERE scope = ?", [key]);
      if (Number(n?.n ?? 0) >= MAX_LIST_ENTRIES) throw new StoreError("LIMIT", `a list holds at most ${MAX_LIST_ENTRIES} entries`);
      // An address or domain is on one list of a scope: allowing what was denied moves it.
      await tx.run("DELETE FROM spam_lists WHERE scope = ? AND pattern = ?", [key, p]);
      const row = await tx.get<ListRow>("INSERT INTO spam_lists (scope, account_id, kind, pattern, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id, scope, kind, pattern, created_at", [
        key,
        accountId,
        kind,
        p,
        Date.now(),
      ]);
      return entryOf(row!);
    });
  }

  async removeEntry(scope: Scope, id: number): Promise<boolean> {
    if (!Number.isSafeInteger(id)) return false;
    try {
      const r = await this.db.write((tx) => tx.run("DELETE FROM spam_lists WHERE scope = ? AND id = ?", [scopeKey(scope), id]));
      return r.changes > 0;
    } finally {
      this.entriesCache.invalidate();
    }
  }

  async reputation(domain: string): Promise<{ spam: number; ham: number; updatedAt: number } | null> {
    const d = domain.toLowerCase();
    const r = await this.reputationCache.get(d, async () => {
      const row = await this.db.get<{ spam: number; ham: number; updated_at: number }>("SELECT spam, ham, updated_at FROM spam_reputation WHERE domain = ?", [d]);
      return row ? { spam: Number(row.spam), ham: Number(row.ham), updatedAt: Number(row.updated_at) } : null;
    });
    if (!r) return null;
    // Decayed to now, the way noteReputation would see them.
    const f = decay(Date.now() - r.updatedAt);
    return { spam: r.spam * f, ham: r.ham * f, updatedAt: r.updatedAt };
  }

  async noteReputation(domain: string, verdict: "spam" | "ham", at: number): Promise<void> {
    const d = domain.toLowerCase();
    try {
      await this.writeReputation(d, verdict, at);
    } finally {
      this.reputationCache.invalidate(d);
    }
  }

  private async writeReputation(d: string, verdict: "spam" | "ham", at: number): Promise<void> {
    await this.db.write(async (tx: Queryable) => {
      const r = await tx.get<{ spam: number; ham: number; updated_at: number }>("SELECT spam, ham, updated_at FROM spam_reputation WHERE domain = ?", [d]);
      const f = r ? decay(at - Number(r.updated_at)) : 1;
      const spam = (r ? Number(r.spam) * f : 0) + (verdict === "spam" ? 1 : 0);
      const ham = (r ? Number(r.ham) * f : 0) + (verdict === "ham" ? 1 : 0);
      await tx.run(
        "INSERT INTO spam_reputation (domain, spam, ham, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (domain) DO UPDATE SET spam = excluded.spam, ham = excluded.ham, updated_at = excluded.updated_at",
        [d, spam, ham, Math.max(at, r ? Number(r.updated_at) : 0)],
      );
    });
  }

  async greylist(key: string, now: number, delayMs: number, passTtlMs: number): Promise<"new" | "early" | "pass"> {
    const prune = now - this.lastPrune > GREYLIST_PRUNE_EVERY_MS;
    if (prune) this.lastPrune = now;
    return this.db.write(
      async (tx) => {
        if (prune) {
          // Forget pending triplets that never came back and passed ones that expired.
          await tx.run("DELETE FROM spam_greylist WHERE (passed_until IS NULL AND first_seen < ?) OR passed_until < ?", [now - GREYLIST_PENDING_TTL_MS - delayMs, now]);
        }
        const r = await tx.get<{ first_seen: number; passed_until: number | null }>("SELECT first_seen, passed_until FROM spam_greylist WHERE triplet = ?", [key]);
        if (!r || (r.passed_until === null && Number(r.first_seen) < now - GREYLIST_PENDING_TTL_MS - delayMs) || (r.passed_until !== null && Number(r.passed_until) < now)) {
          await tx.run("INSERT INTO spam_greylist (triplet, first_seen, passed_until) VALUES (?, ?, NULL) ON CONFLICT (triplet) DO UPDATE SET first_seen = excluded.first_seen, passed_until = NULL", [key, now]);
          return "new";
        }
        if (r.passed_until === null && now - Number(r.first_seen) < delayMs) return "early";
        await tx.run("UPDATE spam_greylist SET passed_until = ? WHERE triplet = ?", [now + passTtlMs, key]);
        return "pass";
      },
      { durable: false },
    );
  }
}

function decay(ageMs: number): number {
  return ageMs <= 0 ? 1 : Math.pow(0.5, ageMs / REPUTATION_HALF_LIFE_MS);
}
