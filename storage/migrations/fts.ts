/**
 * The full-text structure of each engine, shared by the migrations that
 * create it (0001, 0002). Columns: the decoded text of one message, keyed by
 * its blob's `seq`, so a message delivered to many mailboxes or copied is
 * indexed once.
 *
 * IMAP SEARCH is substring matching, case-insensitive (RFC 9051 §6.4.4:
 * "BODY <string>: messages that contain the specified string"). A
 * word-based index (PostgreSQL's tsvector/tsquery, SQLite's default FTS5
 * tokenizer) cannot answer that: "port" must find "report". Both engines
 * therefore index trigrams: SQLite with FTS5's trigram tokenizer,
 * PostgreSQL with pg_trgm's GIN operator class, which serves `ILIKE
 * '%term%'` for terms of 3+ characters from the index and rechecks each
 * candidate row, so answers are exact.
 */
export const FTS_COLUMN_NAMES = ["subject", "from_text", "to_text", "cc_text", "bcc_text", "headers", "body"] as const;

/**
 * PostgreSQL: an ordinary table plus one multi-column trigram GIN index (one
 * index to maintain per row instead of seven; a query on any column uses
 * it). pg_trgm is a trusted extension (PostgreSQL >= 13): the database's
 * owner may create it.
 */
export const ftsTablePostgres: string[] = [
  "CREATE EXTENSION IF NOT EXISTS pg_trgm",
  `CREATE TABLE message_fts (\n  seq BIGINT PRIMARY KEY,\n  ${FTS_COLUMN_NAMES.map((c) => `${c} TEXT NOT NULL DEFAULT ''`).join(",\n  ")}\n)`,
  `CREATE INDEX message_fts_trgm ON message_fts USING gin (${FTS_COLUMN_NAMES.map((c) => `${c} gin_trgm_ops`).join(", ")})`,
];
