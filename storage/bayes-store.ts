/**
 * BayesStore (./filter-api.ts) on the shared database (migration 0042): the
 * Bayesian classifier's counts per model (an account's, or a domain's shared
 * one), per token, and which message was trained as what.
 *
 * A model row is created on first training. `learn` runs in one write
 * transaction: it looks up what the message was trained as, untrains it from
 * that class if it differs, and trains it into the new one; the token updates
 * are one statement each over the JSON list of tokens (dialect.textList), so
 * training costs a handful of statements whatever the number of tokens, and
 * `tokenCounts` is one query per message. Counts never go below zero, and a
 * token whose counts reach zero is removed.
 */
import type { Db, Queryable } from "./db.ts";
import type { BayesStore, BayesScope, BayesCounts } from "./filter-api.ts";
import { ReadCache } from "./read-cache.ts";

/** A token longer than this is cut (the classifier keeps tokens far shorter). */
const MAX_TOKEN_CHARS = 200;
/** The most tokens one call accepts (the classifier sends at most 3,000). */
const MAX_TOKENS_PER_CALL = 10_000;

function scopeKey(scope: BayesScope): { key: string; accountId: number | null } {
  if ("accountId" in scope) return { key: `a:${scope.accountId}`, accountId: scope.accountId };
  return { key: `d:${scope.domain.toLowerCase()}`, accountId: null };
}

/** The tokens as one JSON array: deduplicated (PostgreSQL refuses to update one row twice in one upsert), bounded. */
function tokenList(tokens: readonly string[]): string {
  const set = new Set<string>();
  for (const t of tokens) {
    if (set.size >= MAX_TOKENS_PER_CALL) break;
    if (t.length > 0) set.add(t.length > MAX_TOKEN_CHARS ? t.slice(0, MAX_TOKEN_CHARS) : t);
  }
  return JSON.stringify([...set]);
}

/**
 * Model totals are read for every scored message (the account's model, then the domain's)
 * and change only by `learn`: cached (./read-cache.ts), dropped when this store trains the
 * model; a model removed with its account, or trained by another process, is seen within this time.
 */
const TOTALS_CACHE_TTL_MS = 30_000;
const TOTALS_CACHE_ENTRIES = 10_000;

export class SqlBayesStore implements BayesStore {
  private readonly totalsCache: ReadCache<BayesCounts>;
  constructor(
    readonly db: Db,
    opts: { cacheTtlMs?: number } = {},
  ) {
    this.totalsCache = new ReadCache(TOTALS_CACHE_ENTRIES, opts.cacheTtlMs ?? TOTALS_CACHE_TTL_MS);
  }

  async totals(scope: BayesScope): Promise<BayesCounts> {
    const key = scopeKey(scope).key;
    const t = await this.totalsCache.get(key, async () => {
      const row = await this.db.get<{ spam: number; ham: number }>("SELECT spam, ham FROM bayes_models WHERE scope = ?", [key]);
      return { spam: Number(row?.spam ?? 0), ham: Number(row?.ham ?? 0) };
    });
    return { spam: t.spam, ham: t.ham };
  }

  async tokenCounts(scope: BayesScope, tokens: readonly string[]): Promise<Map<string, BayesCounts>> {
    const out = new Map<string, BayesCounts>();
    if (tokens.length === 0) return out;
    const rows = await this.db.raw(
      `SELECT t.token, t.spam, t.ham FROM bayes_tokens t
        WHERE t.model_id = (SELECT id FROM bayes_models WHERE scope = ?) AND t.token IN (${this.db.dialect.textList()})`,
      [scopeKey(scope).key, tokenList(tokens)],
    );
    for (const r of rows) out.set(String(r[0]), { spam: Number(r[1]), ham: Number(r[2]) });
    return out;
  }

  async trainedAs(scope: BayesScope, key: string): Promise<"spam" | "ham" | null> {
    const row = await this.db.get<{ is_spam: number }>(
      "SELECT r.is_spam FROM bayes_trained r JOIN bayes_models m ON m.id = r.model_id WHERE m.scope = ? AND r.msg_key = ?",
      [scopeKey(scope).key, key],
    );
    if (!row) return null;
    return Number(row.is_spam) === 1 ? "spam" : "ham";
  }

  async learn(scope: BayesScope, key: string, tokens: readonly string[], as: "spam" | "ham" | null): Promise<boolean> {
    try {
      return await this.learnNow(scope, key, tokens, as);
    } finally {
      this.totalsCache.invalidate(scopeKey(scope).key);
    }
  }

  private async learnNow(scope: BayesScope, key: string, tokens: readonly string[], as: "spam" | "ham" | null): Promise<boolean> {
    const { key: scopeName, accountId } = scopeKey(scope);
    const list = tokenList(tokens);
    const d = this.db.dialect;
    return this.db.write(
      async (tx) => {
        let model = await this.modelRow(tx, scopeName);
        if (!model) {
          if (as === null) return false; // nothing was ever trained here
          await tx.run("INSERT INTO bayes_models (scope, account_id, spam, ham) VALUES (?, ?, 0, 0) ON CONFLICT (scope) DO NOTHING", [scopeName, accountId]);
          model = await this.modelRow(tx, scopeName);
          if (!model) throw new Error("bayes model row missing after insert");
        }
        const prevRow = await tx.get<{ is_spam: number }>("SELECT is_spam FROM bayes_trained WHERE model_id = ? AND msg_key = ?", [model, key]);
        const prev = prevRow ? (Number(prevRow.is_spam) === 1 ? "spam" : "ham") : null;
        if (prev === as) return false;
        const now = Date.now();
        if (prev) {
          const col = prev === "spam" ? "spam" : "ham";
          await tx.run(`UPDATE bayes_tokens SET ${col} = ${d.greatest(`${col} - 1`, "0")} WHERE model_id = ? AND token IN (${d.textList()})`, [model, list]);
          await tx.run(`DELETE FROM bayes_tokens WHERE model_id = ? AND spam = 0 AND ham = 0 AND token IN (${d.textList()})`, [model, list]);
          await tx.run(`UPDATE bayes_models SET ${col} = ${d.greatest(`${col} - 1`, "0")} WHERE id = ?`, [model]);
          await tx.run("DELETE FROM bayes_trained WHERE model_id = ? AND msg_key = ?", [model, key]);
        }
        if (as) {
          const s = as === "spam" ? 1 : 0;
          // `WHERE true`: SQLite needs it to read ON CONFLICT after INSERT ... SELECT (its upsert parsing rule)
          await tx.run(
            `INSERT INTO bayes_tokens (model_id, token, spam, ham, atime)
             SELECT ?, l.value, ?, ?, ? FROM (${d.textList()}) l WHERE true
             ON CONFLICT (model_id, token) DO UPDATE SET spam = bayes_tokens.spam + excluded.spam, ham = bayes_tokens.ham + excluded.ham, atime = excluded.atime`,
            [model, s, 1 - s, now, list],
          );
          await tx.run(`UPDATE bayes_models SET ${as} = ${as} + 1 WHERE id = ?`, [model]);
          await tx.run("INSERT INTO bayes_trained (model_id, msg_key, is_spam, trained_at) VALUES (?, ?, ?, ?)", [model, key, s, now]);
        }
        return true;
      },
      // nobody is told "trained" before this commits; a crash loses at most the last trainings, never consistency
      { durable: false },
    );
  }

  async prune(scope: BayesScope, opts: { maxTokens: number; olderThanMs: number; now: number }): Promise<number> {
    const scopeName = scopeKey(scope).key;
    return this.db.write(
      async (tx) => {
        const model = await this.modelRow(tx, scopeName);
        if (!model) return 0;
        // tokens seen in one message only and not trained for a while carry almost no evidence
        const old = await tx.run("DELETE FROM bayes_tokens WHERE model_id = ? AND spam + ham <= 1 AND atime < ?", [model, opts.now - opts.olderThanMs]);
        let removed = old.changes;
        const count = await tx.get<{ n: number }>("SELECT COUNT(*) AS n FROM bayes_tokens WHERE model_id = ?", [model]);
        const excess = Number(count?.n ?? 0) - Math.max(0, opts.maxTokens);
        if (excess > 0) {
          // still too many: the rarest, least recently trained go first
          const r = await tx.run(
            `DELETE FROM bayes_tokens WHERE model_id = ? AND token IN
               (SELECT token FROM bayes_tokens WHERE model_id = ? ORDER BY spam + ham, atime LIMIT ?)`,
            [model, model, excess],
          );
          removed += r.changes;
        }
        return removed;
      },
      { durable: false },
    );
  }

  private async modelRow(tx: Queryable, scopeName: string): Promise<number | null> {
    const row = await tx.get<{ id: number }>(`SELECT id FROM bayes_models WHERE scope = ?${this.db.dialect.forUpdate ? ` ${this.db.dialect.forUpdate}` : ""}`, [scopeName]);
    return row ? Number(row.id) : null;
  }
}
