/**
 * 0043: the spam filter's state (issue 19; the number belongs to helper S5):
 *  - spam_lists: allow/deny entries per account, per local domain or global
 *    (`scope` is "a:<account id>", "d:<domain>" or "g"; `account_id` is set
 *    for account entries so they go with the account);
 *  - spam_reputation: per sender domain, decayed counts of spam and ham
 *    verdicts (learned from training, as mox does);
 *  - spam_greylist: RFC 6647 triplets (ip-net, sender, recipient) with when
 *    they were first seen and until when a passed triplet stays passed.
 */
import type { Migration } from "./types.ts";

export const migration: Migration = {
  version: 43,
  name: "spam",
  steps: [
    {
      createTable: {
        name: "spam_lists",
        columns: [
          { name: "id", type: "id" },
          { name: "scope", type: "text", notNull: true },
          { name: "account_id", type: "integer", references: { table: "accounts", column: "id", onDelete: "cascade" } },
          { name: "kind", type: "text", notNull: true },
          { name: "pattern", type: "text", notNull: true },
          { name: "created_at", type: "integer", notNull: true },
        ],
      },
    },
    { createIndex: { name: "spam_lists_scope_kind_pattern", table: "spam_lists", columns: ["scope", "kind", "pattern"], unique: true } },
    {
      createTable: {
        name: "spam_reputation",
        columns: [
          { name: "domain", type: "text", primaryKey: true },
          { name: "spam", type: "real", notNull: true, default: 0 },
          { name: "ham", type: "real", notNull: true, default: 0 },
          { name: "updated_at", type: "integer", notNull: true },
        ],
      },
    },
    {
      createTable: {
        name: "spam_greylist",
        columns: [
          { name: "triplet", type: "text", primaryKey: true },
          { name: "first_seen", type: "integer", notNull: true },
          { name: "passed_until", type: "integer" },
        ],
      },
    },
    { createIndex: { name: "spam_greylist_first_seen", table: "spam_greylist", columns: ["first_seen"] } },
  ],
};
