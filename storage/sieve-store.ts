/**
 * SieveStore (./filter-api.ts) on the shared database (migration 0041):
 * users' scripts (RFC 5804's model), RFC 7352 duplicate ids, the RFC 5230
 * vacation log and the once-per-version error reports. One SQL text serves
 * SQLite and PostgreSQL (`?` placeholders, ON CONFLICT upserts).
 */
import { createHash } from "node:crypto";
import type { Db, Queryable } from "./db.ts";
import { StoreError } from "./api.ts";
import type { SieveStore, SieveScriptInfo } from "./filter-api.ts";

/** Longest script name accepted, in characters (RFC 5804 §1.6 lets a server limit it; 512 is ample for any client). */
export const MAX_SIEVE_NAME_CHARS = 512;
/** Longest key kept as written; longer duplicate ids and senders are stored as their SHA-256 (bounded rows). */
const MAX_KEY_CHARS = 256;
/** Expired duplicate ids removed per record call (pruning stays a bounded cost of each delivery). */
const PRUNE_BATCH = 200;
/** Vacation log rows older than this are pruned (longer than any :days period we accept). */
const VACATION_LOG_KEEP_MS = 400 * 86_400_000;

/**
 * RFC 5804 §1.6: a script name is a non-empty UTF-8 string without control
 * characters (U+0000-001F, U+007F, U+0080-009F), line or paragraph
 * separators (U+2028, U+2029); we also refuse lone surrogates (not UTF-8).
 * Returns the reason in words, or null when the name is fine.
 */
export function sieveNameProblem(name: string): string | null {
  if (typeof name !== "string" || name.length === 0) return "a script name cannot be empty";
  if ([...name].length > MAX_SIEVE_NAME_CHARS) return `a script name is at most ${MAX_SIEVE_NAME_CHARS} characters`;
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(name)) return "a script name cannot contain control characters";
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(name)) return "a script name must be valid UTF-8";
  return null;
}

function checkName(name: string): void {
  const problem = sieveNameProblem(name);
  if (problem) throw new StoreError("INVALID", problem);
}

const boundedKey = (key: string): string => (key.length > MAX_KEY_CHARS ? "sha256:" + createHash("sha256").update(key).digest("hex") : key);

const utf8Bytes = (s: string): number => Buffer.byteLength(s, "utf8");

export class SqlSieveStore implements SieveStore {
  constructor(readonly db: Db) {}

  async listScripts(accountId: number): Promise<SieveScriptInfo[]> {
    const rows = await this.db.raw("SELECT name, active, size, updated_at FROM sieve_scripts WHERE account_id = ? ORDER BY name", [accountId]);
    return rows.map((r) => ({ name: String(r[0]), active: Number(r[1]) === 1, size: Number(r[2]), updatedAt: Number(r[3]) }));
  }

  async getScript(accountId: number, name: string): Promise<string | null> {
    const rows = await this.db.raw("SELECT content FROM sieve_scripts WHERE account_id = ? AND name = ?", [accountId, name]);
    return rows.length ? String(rows[0]![0]) : null;
  }

  async putScript(accountId: number, name: string, content: string, limits: { maxScripts: number; maxBytes: number }): Promise<void> {
    checkName(name);
    const size = utf8Bytes(content);
    // RFC 5804 §2.6: a script over the quota is refused with QUOTA/MAXSIZE (the caller maps LIMIT).
    if (size > limits.maxBytes) throw new StoreError("LIMIT", `a script is at most ${limits.maxBytes} octets (this one has ${size})`);
    const now = Date.now();
    await this.db.write(async (tx) => {
      const existing = await tx.raw("SELECT id FROM sieve_scripts WHERE account_id = ? AND name = ?", [accountId, name]);
      if (existing.length) {
        await tx.run("UPDATE sieve_scripts SET content = ?, size = ?, updated_at = ? WHERE id = ?", [content, size, now, Number(existing[0]![0])]);
        return;
      }
      const count = Number((await tx.raw("SELECT COUNT(*) FROM sieve_scripts WHERE account_id = ?", [accountId]))[0]![0]);
      // RFC 5804 §2.6: QUOTA/MAXSCRIPTS
      if (count >= limits.maxScripts) throw new StoreError("LIMIT", `at most ${limits.maxScripts} scripts per account`);
      await tx.run("INSERT INTO sieve_scripts (account_id, name, content, size, active, updated_at) VALUES (?, ?, ?, ?, 0, ?)", [accountId, name, content, size, now]);
    });
  }

  async deleteScript(accountId: number, name: string): Promise<boolean> {
    return this.db.write(async (tx) => {
      const rows = await tx.raw("SELECT id, active FROM sieve_scripts WHERE account_id = ? AND name = ?", [accountId, name]);
      if (!rows.length) return false;
      // RFC 5804 §2.10: "the active script cannot be deleted"
      if (Number(rows[0]![1]) === 1) throw new StoreError("CANNOT", `script "${name}" is active; deactivate it first`);
      await tx.run("DELETE FROM sieve_scripts WHERE id = ?", [Number(rows[0]![0])]);
      return true;
    });
  }

  async renameScript(accountId: number, from: string, to: string): Promise<void> {
    checkName(to);
    await this.db.write(async (tx) => {
      const src = await tx.raw("SELECT id FROM sieve_scripts WHERE account_id = ? AND name = ?", [accountId, from]);
      if (!src.length) throw new StoreError("NONEXISTENT", `no script named "${from}"`);
      if (from === to) return;
      const dst = await tx.raw("SELECT id FROM sieve_scripts WHERE account_id = ? AND name = ?", [accountId, to]);
      if (dst.length) throw new StoreError("ALREADYEXISTS", `a script named "${to}" already exists`);
      // the active flag stays on the row, so it moves with the name (RFC 5804 §2.11.1)
      await tx.run("UPDATE sieve_scripts SET name = ?, updated_at = ? WHERE id = ?", [to, Date.now(), Number(src[0]![0])]);
    });
  }

  async setActive(accountId: number, name: string | null): Promise<void> {
    await this.db.write(async (tx) => {
      let id: number | null = null;
      if (name !== null) {
        const rows = await tx.raw("SELECT id FROM sieve_scripts WHERE account_id = ? AND name = ?", [accountId, name]);
        if (!rows.length) throw new StoreError("NONEXISTENT", `no script named "${name}"`);
        id = Number(rows[0]![0]);
      }
      // off first: the partial unique index allows one active row per account at any moment
      await tx.run("UPDATE sieve_scripts SET active = 0 WHERE account_id = ? AND active = 1", [accountId]);
      if (id !== null) await tx.run("UPDATE sieve_scripts SET active = 1 WHERE id = ?", [id]);
    });
  }

  async activeScript(accountId: number): Promise<{ name: string; content: string; updatedAt: number } | null> {
    const rows = await this.db.raw("SELECT name, content, updated_at FROM sieve_scripts WHERE account_id = ? AND active = 1", [accountId]);
    return rows.length ? { name: String(rows[0]![0]), content: String(rows[0]![1]), updatedAt: Number(rows[0]![2]) } : null;
  }

  async duplicateSeen(accountId: number, key: string, now: number): Promise<boolean> {
    const rows = await this.db.raw("SELECT expires_at FROM sieve_duplicates WHERE account_id = ? AND dup_key = ?", [accountId, boundedKey(key)]);
    return rows.length > 0 && Number(rows[0]![0]) > now;
  }

  async duplicateRecord(accountId: number, key: string, expiresAt: number): Promise<void> {
    await this.db.write(
      async (tx) => {
        await tx.run("INSERT INTO sieve_duplicates (account_id, dup_key, expires_at) VALUES (?, ?, ?) ON CONFLICT (account_id, dup_key) DO UPDATE SET expires_at = excluded.expires_at", [
          accountId,
          boundedKey(key),
          expiresAt,
        ]);
        await pruneDuplicates(tx, Date.now());
      },
      { durable: false },
    );
  }

  async vacationLastSent(accountId: number, sender: string, handle: string): Promise<number | null> {
    const rows = await this.db.raw("SELECT sent_at FROM sieve_vacation_log WHERE account_id = ? AND sender = ? AND handle = ?", [
      accountId,
      boundedKey(sender.toLowerCase()),
      boundedKey(handle),
    ]);
    return rows.length ? Number(rows[0]![0]) : null;
  }

  async vacationRecordSent(accountId: number, sender: string, handle: string, at: number): Promise<void> {
    await this.db.write(async (tx) => {
      await tx.run(
        "INSERT INTO sieve_vacation_log (account_id, sender, handle, sent_at) VALUES (?, ?, ?, ?) ON CONFLICT (account_id, sender, handle) DO UPDATE SET sent_at = excluded.sent_at",
        [accountId, boundedKey(sender.toLowerCase()), boundedKey(handle), at],
      );
      await tx.run("DELETE FROM sieve_vacation_log WHERE account_id = ? AND sent_at < ?", [accountId, at - VACATION_LOG_KEEP_MS]);
    });
  }

  async claimErrorReport(accountId: number, digest: string, at: number): Promise<boolean> {
    return this.db.write(async (tx) => {
      const r = await tx.run("INSERT INTO sieve_error_reports (account_id, digest, reported_at) VALUES (?, ?, ?) ON CONFLICT (account_id, digest) DO NOTHING", [
        accountId,
        boundedKey(digest),
        at,
      ]);
      return r.changes > 0;
    });
  }
}

/** Removes up to PRUNE_BATCH expired duplicate ids (any account): bounded work per call. */
async function pruneDuplicates(tx: Queryable, now: number): Promise<void> {
  const rows = await tx.raw("SELECT account_id, dup_key FROM sieve_duplicates WHERE expires_at <= ? ORDER BY expires_at LIMIT ?", [now, PRUNE_BATCH]);
  for (const r of rows) await tx.run("DELETE FROM sieve_duplicates WHERE account_id = ? AND dup_key = ?", [Number(r[0]), String(r[1])]);
}
