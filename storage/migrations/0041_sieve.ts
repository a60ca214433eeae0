/**
 * 0041: Sieve in delivery (issue 19; the number belongs to helper S3).
 *  - sieve_scripts: each account's scripts by name (RFC 5804's model: many
 *    scripts, at most one active — a partial unique index says so);
 *  - sieve_duplicates: RFC 7352 duplicate ids with their expiry (pruned as
 *    new ones are recorded), also the redirect loop guard (message-id, target);
 *  - sieve_vacation_log: when a vacation response last went to a sender for a
 *    handle (RFC 5230 §4.2: one response per sender and handle per period);
 *  - sieve_error_reports: script versions whose failure was already reported
 *    to the owner (issue 19: "reported to the owner once").
 */
import type { Migration } from "./types.ts";

const account = { name: "account_id", type: "integer", notNull: true, references: { table: "accounts", column: "id", onDelete: "cascade" } } as const;

export const migration: Migration = {
  version: 41,
  name: "sieve",
  steps: [
    {
      createTable: {
        name: "sieve_scripts",
        columns: [
          { name: "id", type: "id" },
          account,
          { name: "name", type: "text", notNull: true },
          { name: "content", type: "text", notNull: true },
          { name: "size", type: "integer", notNull: true },
          { name: "active", type: "integer", notNull: true, default: 0 },
          { name: "updated_at", type: "integer", notNull: true },
        ],
      },
    },
    { createIndex: { name: "sieve_scripts_name", table: "sieve_scripts", columns: ["account_id", "name"], unique: true } },
    { createIndex: { name: "sieve_scripts_active", table: "sieve_scripts", columns: ["account_id"], unique: true, where: "active = 1" } },
    {
      createTable: {
        name: "sieve_duplicates",
        columns: [account, { name: "dup_key", type: "text", notNull: true }, { name: "expires_at", type: "integer", notNull: true }],
        primaryKey: ["account_id", "dup_key"],
      },
    },
    { createIndex: { name: "sieve_duplicates_expiry", table: "sieve_duplicates", columns: ["expires_at"] } },
    {
      createTable: {
        name: "sieve_vacation_log",
        columns: [
          account,
          { name: "sender", type: "text", notNull: true },
          { name: "handle", type: "text", notNull: true },
          { name: "sent_at", type: "integer", notNull: true },
        ],
        primaryKey: ["account_id", "sender", "handle"],
      },
    },
    {
      createTable: {
        name: "sieve_error_reports",
        columns: [account, { name: "digest", type: "text", notNull: true }, { name: "reported_at", type: "integer", notNull: true }],
        primaryKey: ["account_id", "digest"],
      },
    },
  ],
};
