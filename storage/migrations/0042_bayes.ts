/**
 * 0042: the Bayesian classifier's counts (issue 19; the number belongs to
 * helper S6; storage/bayes-store.ts):
 *  - bayes_models: one row per model — an account's (`scope` "a:<id>",
 *    `account_id` set so it goes with the account) or a domain's shared one
 *    ("d:<domain>") — with the number of messages trained as spam and as ham;
 *  - bayes_tokens: per model and token, the messages of each class it was
 *    seen in, and when it was last trained (`atime`, for pruning);
 *  - bayes_trained: per model, which message (its key, the SHA-256 of its
 *    bytes) was trained as what (`is_spam` 1/0), so a message moved into
 *    Junk, out and in again is counted once.
 * The tokens and trained rows go with their model (cascade; the store also
 * deletes them explicitly where an engine may not enforce foreign keys).
 */
import type { Migration } from "./types.ts";

const model = { name: "model_id", type: "integer", notNull: true, references: { table: "bayes_models", column: "id", onDelete: "cascade" } } as const;

export const migration: Migration = {
  version: 42,
  name: "bayes",
  steps: [
    {
      createTable: {
        name: "bayes_models",
        columns: [
          { name: "id", type: "id" },
          { name: "scope", type: "text", notNull: true, unique: true },
          { name: "account_id", type: "integer", references: { table: "accounts", column: "id", onDelete: "cascade" } },
          { name: "spam", type: "integer", notNull: true, default: 0 },
          { name: "ham", type: "integer", notNull: true, default: 0 },
        ],
      },
    },
    { createIndex: { name: "bayes_models_account", table: "bayes_models", columns: ["account_id"] } },
    {
      createTable: {
        name: "bayes_tokens",
        columns: [model, { name: "token", type: "text", notNull: true }, { name: "spam", type: "integer", notNull: true, default: 0 }, { name: "ham", type: "integer", notNull: true, default: 0 }, { name: "atime", type: "integer", notNull: true }],
        primaryKey: ["model_id", "token"],
      },
    },
    {
      createTable: {
        name: "bayes_trained",
        columns: [model, { name: "msg_key", type: "text", notNull: true }, { name: "is_spam", type: "integer", notNull: true }, { name: "trained_at", type: "integer", notNull: true }],
        primaryKey: ["model_id", "msg_key"],
      },
    },
  ],
};
