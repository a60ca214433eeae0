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

export const migration: Migration = {
  version: 20,
  name: "webmail",
  statements: [
    `CREATE TABLE webmail_sessions (
      id TEXT PRIMARY KEY,
      account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      created_at INTEGER NOT NULL,
      last_seen_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      ip TEXT NOT NULL DEFAULT '',
      user_agent TEXT NOT NULL DEFAULT ''
    )`,
    `CREATE INDEX webmail_sessions_account ON webmail_sessions(account_id)`,
    `CREATE INDEX webmail_sessions_expires ON webmail_sessions(expires_at)`,
    `CREATE TABLE webmail_correspondents (
      account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      address TEXT NOT NULL,
      name TEXT,
      last_used INTEGER NOT NULL,
      uses INTEGER NOT NULL DEFAULT 1,
      PRIMARY KEY (account_id, address)
    )`,
    `CREATE TABLE oof_sent_log (
      account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      sender TEXT NOT NULL,
      sent_at INTEGER NOT NULL,
      PRIMARY KEY (account_id, sender)
    )`,
    `CREATE INDEX items_list_date ON items(folder_id, internal_date, uid)`,
    `CREATE INDEX items_list_from ON items(folder_id, from_name COLLATE NOCASE, internal_date, uid)`,
    `CREATE INDEX items_list_subject ON items(folder_id, base_subject COLLATE NOCASE, internal_date, uid)`,
    `CREATE INDEX items_list_thread ON items(folder_id, thread_id, internal_date, uid, flags)`,
  ],
};
