/**
 * BayesStore (./filter-api.ts) on the shared database. CONTRACT SKELETON: the
 * owning helper replaces every body (issue 19).
 */
import type { Db } from "./db.ts";
import { StoreError } from "./api.ts";
import type { BayesStore, BayesScope, BayesCounts } from "./filter-api.ts";

const notYet = (): never => {
  throw new StoreError("CANNOT", "bayes store not built yet");
};

export class SqlBayesStore implements BayesStore {
  constructor(readonly db: Db) {}
  async totals(scope: BayesScope): Promise<BayesCounts> {
    return notYet();
  }
  async tokenCounts(scope: BayesScope, tokens: readonly string[]): Promise<Map<string, BayesCounts>> {
    return notYet();
  }
  async learn(scope: BayesScope, key: string, tokens: readonly string[], as: "spam" | "ham" | null): Promise<boolean> {
    return notYet();
  }
  async trainedAs(scope: BayesScope, key: string): Promise<"spam" | "ham" | null> {
    return notYet();
  }
  async prune(scope: BayesScope, opts: { maxTokens: number; olderThanMs: number; now: number }): Promise<number> {
    return notYet();
  }
}
