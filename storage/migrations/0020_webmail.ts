/**
 * 0020: webmail tables (range 0020-0029 belongs to the webmail).
 *  - webmail_sessions: server-side session records, so sign-out and a
 *    password change end a session even if its cookie was copied;
 *  - webmail_correspondents: people this account wrote to, for autocomplete;
 *  - oof_sent_log: when an out-of-office reply last went to a sender
 *    (RFC 3834 §2: at most once per sender per period);
 *  - covering indexes for the message-list orders (date, sender, subject)
 *    and for conversation grouping, so a 50,000-message folder pages from
 *    an index instead of sorting the folder on every scroll. (Size order,
 *    rarely used, sorts integers without an index to spare every delivery
 *    one more index write.)
 */
import type { Migration } from "./types.ts";

const account = { name: "account_id", type: "integer", notNull: true, references: { table: "accounts", column: "id", onDelete: "cascade" } } as const;

export const migration: Migration = {
  version: 20,
  name: "webmail",
  steps: [
    {
      createTable: {
        name: "webmail_sessions",
        columns: [
          { name: "id", type: "text", primaryKey: true },
          account,
          { name: "created_at", type: "integer", notNull: true },
          { name: "last_seen_at", type: "integer", notNull: true },
          { name: "expires_at", type: "integer", notNull: true },
          { name: "ip", type: "text", notNull: true, default: "" },
          { name: "user_agent", type: "text", notNull: true, default: "" },
        ],
      },
    },
    { createIndex: { name: "webmail_sessions_account", table: "webmail_sessions", columns: ["account_id"] } },
    { createIndex: { name: "webmail_sessions_expires", table: "webmail_sessions", columns: ["expires_at"] } },
    {
      createTable: {
        name: "webmail_correspondents",
        columns: [
          account,
          { name: "address", type: "text", notNull: true },
          { name: "name", type: "text" },
          { name: "last_used", type: "integer", notNull: true },
          { name: "uses", type: "integer", notNull: true, default: 1 },
        ],
        primaryKey: ["account_id", "address"],
      },
    },
    {
      createTable: {
        name: "oof_sent_log",
        columns: [account, { name: "sender", type: "text", notNull: true }, { name: "sent_at", type: "integer", notNull: true }],
        primaryKey: ["account_id", "sender"],
      },
    },
    { createIndex: { name: "items_list_date", table: "items", columns: ["folder_id", "internal_date", "uid"] } },
    // Case-insensitive sort keys: SQLite's NOCASE collation; PostgreSQL has no
    // such collation, so its index is on lower(...), the expression the
    // PostgreSQL dialect sorts by.
    {
      sqlite: [
        `CREATE INDEX items_list_from ON items(folder_id, from_name COLLATE NOCASE, internal_date, uid)`,
        `CREATE INDEX items_list_subject ON items(folder_id, base_subject COLLATE NOCASE, internal_date, uid)`,
      ],
      postgres: [
        `CREATE INDEX items_list_from ON items(folder_id, lower(from_name), internal_date, uid)`,
        `CREATE INDEX items_list_subject ON items(folder_id, lower(base_subject), internal_date, uid)`,
      ],
    },
    { createIndex: { name: "items_list_thread", table: "items", columns: ["folder_id", "thread_id", "internal_date", "uid", "flags"] } },
  ],
};
