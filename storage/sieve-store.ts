/**
 * SieveStore (./filter-api.ts) on the shared database. CONTRACT SKELETON: the
 * owning helper replaces every body (issue 19).
 */
import type { Db } from "./db.ts";
import { StoreError } from "./api.ts";
import type { SieveStore, SieveScriptInfo } from "./filter-api.ts";

const notYet = (): never => {
  throw new StoreError("CANNOT", "sieve store not built yet");
};

export class SqlSieveStore implements SieveStore {
  constructor(readonly db: Db) {}
  async listScripts(accountId: number): Promise<SieveScriptInfo[]> {
    return notYet();
  }
  async getScript(accountId: number, name: string): Promise<string | null> {
    return notYet();
  }
  async putScript(accountId: number, name: string, content: string, limits: { maxScripts: number; maxBytes: number }): Promise<void> {
    return notYet();
  }
  async deleteScript(accountId: number, name: string): Promise<boolean> {
    return notYet();
  }
  async renameScript(accountId: number, from: string, to: string): Promise<void> {
    return notYet();
  }
  async setActive(accountId: number, name: string | null): Promise<void> {
    return notYet();
  }
  async activeScript(accountId: number): Promise<{ name: string; content: string; updatedAt: number } | null> {
    return notYet();
  }
  async duplicateSeen(accountId: number, key: string, now: number): Promise<boolean> {
    return notYet();
  }
  async duplicateRecord(accountId: number, key: string, expiresAt: number): Promise<void> {
    return notYet();
  }
  async vacationLastSent(accountId: number, sender: string, handle: string): Promise<number | null> {
    return notYet();
  }
  async vacationRecordSent(accountId: number, sender: string, handle: string, at: number): Promise<void> {
    return notYet();
  }
  async claimErrorReport(accountId: number, digest: string, at: number): Promise<boolean> {
    return notYet();
  }
}
