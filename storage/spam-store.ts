/**
 * SpamStore (./filter-api.ts) on the shared database. CONTRACT SKELETON: the
 * owning helper replaces every body (issue 19).
 */
import type { Db } from "./db.ts";
import { StoreError } from "./api.ts";
import type { SpamStore, SpamListEntry } from "./filter-api.ts";

const notYet = (): never => {
  throw new StoreError("CANNOT", "spam store not built yet");
};

export class SqlSpamStore implements SpamStore {
  constructor(readonly db: Db) {}
  async listEntries(scope: SpamListEntry["scope"]): Promise<SpamListEntry[]> {
    return notYet();
  }
  async entriesFor(accountId: number, accountDomain: string): Promise<SpamListEntry[]> {
    return notYet();
  }
  async addEntry(scope: SpamListEntry["scope"], kind: "allow" | "deny", pattern: string): Promise<SpamListEntry> {
    return notYet();
  }
  async removeEntry(scope: SpamListEntry["scope"], id: number): Promise<boolean> {
    return notYet();
  }
  async reputation(domain: string): Promise<{ spam: number; ham: number; updatedAt: number } | null> {
    return notYet();
  }
  async noteReputation(domain: string, verdict: "spam" | "ham", at: number): Promise<void> {
    return notYet();
  }
  async greylist(key: string, now: number, delayMs: number, passTtlMs: number): Promise<"new" | "early" | "pass"> {
    return notYet();
  }
}
