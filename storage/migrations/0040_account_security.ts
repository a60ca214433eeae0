/**
 * 0040: account security (issue 18; the number belongs to helper B).
 *  - accounts.is_admin / accounts.disabled: who may open the web admin, and an
 *    account every protocol refuses (its mail stays);
 *  - accounts.security_epoch: bumped by every change of the second factor or
 *    the app passwords (and by disabling), so the credential stamp the auth
 *    cache compares changes with them (src/auth.ts);
 *  - app_passwords: per-device passwords (argon2id hash, a non-secret lookup
 *    digest that picks the row, last use and protocol, revocation time);
 *  - two_factor: one TOTP secret per account (RFC 6238), sealed with a key in
 *    the data dir, enabled once a first code was confirmed, and the last time
 *    step used so a code is never accepted twice (RFC 6238 §5.2);
 *  - recovery_codes: single-use codes (SHA-256 of high-entropy codes).
 */
import type { Migration } from "./types.ts";

const account = { name: "account_id", type: "integer", notNull: true, references: { table: "accounts", column: "id", onDelete: "cascade" } } as const;

export const migration: Migration = {
  version: 40,
  name: "account_security",
  steps: [
    { addColumn: { table: "accounts", column: { name: "is_admin", type: "integer", notNull: true, default: 0 } } },
    { addColumn: { table: "accounts", column: { name: "disabled", type: "integer", notNull: true, default: 0 } } },
    { addColumn: { table: "accounts", column: { name: "security_epoch", type: "integer", notNull: true, default: 0 } } },
    {
      createTable: {
        name: "app_passwords",
        columns: [
          { name: "id", type: "id" },
          account,
          { name: "name", type: "text", notNull: true },
          { name: "lookup", type: "text", notNull: true },
          { name: "hash", type: "text", notNull: true },
          { name: "created_at", type: "integer", notNull: true },
          { name: "last_used_at", type: "integer" },
          { name: "last_used_protocol", type: "text" },
          { name: "revoked_at", type: "integer" },
        ],
      },
    },
    { createIndex: { name: "app_passwords_account", table: "app_passwords", columns: ["account_id"] } },
    { createIndex: { name: "app_passwords_lookup", table: "app_passwords", columns: ["lookup"] } },
    {
      createTable: {
        name: "two_factor",
        columns: [
          { name: "account_id", type: "integer", primaryKey: true, references: { table: "accounts", column: "id", onDelete: "cascade" } },
          { name: "secret_sealed", type: "text", notNull: true },
          { name: "created_at", type: "integer", notNull: true },
          { name: "enabled_at", type: "integer" },
          { name: "last_step", type: "integer", notNull: true, default: 0 },
        ],
      },
    },
    {
      createTable: {
        name: "recovery_codes",
        columns: [
          { name: "id", type: "id" },
          account,
          { name: "code_hash", type: "text", notNull: true },
          { name: "used_at", type: "integer" },
        ],
      },
    },
    { createIndex: { name: "recovery_codes_account", table: "recovery_codes", columns: ["account_id", "code_hash"] } },
  ],
};
