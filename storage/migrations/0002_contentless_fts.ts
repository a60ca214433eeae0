/**
 * 0002: the full-text table keeps no copy of the text (contentless FTS5 with
 * contentless_delete, SQLite >= 3.43). The trigram index alone answers
 * substring searches; the stored copy doubled the text's disk use for
 * nothing. Existing rows move over from the old table (it has their text).
 *
 * SQLite only: PostgreSQL's full-text table (fts.ts, created by 0001) is an
 * ordinary table whose GIN index needs the text, and it never had the old form.
 */
import type { Migration } from "./types.ts";

export const migration: Migration = {
  version: 2,
  name: "contentless_fts",
  steps: [
    {
      sqlite: [
        `CREATE VIRTUAL TABLE message_fts_new USING fts5(subject, from_text, to_text, cc_text, bcc_text, headers, body,
      tokenize = 'trigram', content = '', contentless_delete = 1)`,
        `INSERT INTO message_fts_new (rowid, subject, from_text, to_text, cc_text, bcc_text, headers, body)
      SELECT rowid, subject, from_text, to_text, cc_text, bcc_text, headers, body FROM message_fts`,
        `DROP TABLE message_fts`,
        `ALTER TABLE message_fts_new RENAME TO message_fts`,
      ],
    },
  ],
};
