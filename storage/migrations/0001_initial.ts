/**
 * 0001: the initial schema, as portable steps (types.ts) that render.ts turns
 * into each engine's SQL. It lives in TS so a compiled single binary embeds
 * it (nothing is read from disk at run time). Mirrors storage/schema.ts
 * (Drizzle) — tests/storage/schema.test.ts checks they agree.
 */
import type { Migration } from "./types.ts";
import { FTS_COLUMN_NAMES, ftsTablePostgres } from "./fts.ts";

export const migration: Migration = {
  version: 1,
  name: "initial",
  steps: [
    // Small key/value store for server-wide counters (uidvalidity allocation).
    {
      createTable: {
        name: "meta",
        columns: [
          { name: "key", type: "text", primaryKey: true },
          { name: "value", type: "text", notNull: true },
        ],
      },
    },
    {
      createTable: {
        name: "domains",
        columns: [
          { name: "id", type: "rowid" },
          { name: "name", type: "text", notNull: true, unique: true },
          { name: "dkim_selector", type: "text" },
          { name: "dkim_private_key", type: "text" },
          { name: "dkim_public_key", type: "text" },
          { name: "created_at", type: "integer", notNull: true },
        ],
      },
    },
    // modseq: the per-account change counter (RFC 7162 MODSEQ source) bumped by
    // every change of any item or folder of the account.
    {
      createTable: {
        name: "accounts",
        columns: [
          { name: "id", type: "id" },
          { name: "email", type: "text", notNull: true, unique: true },
          { name: "domain_id", type: "integer", notNull: true, references: { table: "domains", column: "id" } },
          { name: "password_hash", type: "text", notNull: true },
          { name: "quota_bytes", type: "integer" },
          { name: "used_bytes", type: "integer", notNull: true, default: 0 },
          { name: "message_count", type: "integer", notNull: true, default: 0 },
          { name: "settings", type: "text", notNull: true, default: "{}" },
          { name: "modseq", type: "integer", notNull: true, default: 1 },
          { name: "created_at", type: "integer", notNull: true },
        ],
      },
    },
    { createIndex: { name: "accounts_domain", table: "accounts", columns: ["domain_id"] } },
    {
      createTable: {
        name: "aliases",
        columns: [
          { name: "id", type: "rowid" },
          { name: "source", type: "text", notNull: true },
          { name: "destination", type: "text", notNull: true },
          { name: "created_at", type: "integer", notNull: true },
        ],
        unique: [["source", "destination"]],
      },
    },
    { createIndex: { name: "aliases_destination", table: "aliases", columns: ["destination"] } },
    {
      createTable: {
        name: "folders",
        columns: [
          { name: "id", type: "id" },
          { name: "account_id", type: "integer", notNull: true, references: { table: "accounts", column: "id", onDelete: "cascade" } },
          { name: "name", type: "text", notNull: true },
          { name: "parent_id", type: "integer", references: { table: "folders", column: "id" } },
          { name: "item_class", type: "text", notNull: true, default: "mail" },
          { name: "special_use", type: "text" },
          { name: "subscribed", type: "integer", notNull: true, default: 1 },
          { name: "uidvalidity", type: "integer", notNull: true },
          { name: "uidnext", type: "integer", notNull: true, default: 1 },
          { name: "highest_modseq", type: "integer", notNull: true, default: 1 },
          { name: "props", type: "text", notNull: true, default: "{}" },
          { name: "created_at", type: "integer", notNull: true },
        ],
        unique: [["account_id", "name"]],
      },
    },
    { createIndex: { name: "folders_parent", table: "folders", columns: ["parent_id"] } },
    // Content-addressed blobs (sha256 hex). seq keys the full-text row, so a
    // message delivered to many mailboxes or copied is indexed once.
    {
      createTable: {
        name: "blobs",
        columns: [
          { name: "seq", type: "id" },
          { name: "id", type: "text", notNull: true, unique: true },
          { name: "size", type: "integer", notNull: true },
          { name: "created_at", type: "integer", notNull: true },
        ],
      },
    },
    // id: stable item id, never reused (AUTOINCREMENT / identity), survives moves.
    {
      createTable: {
        name: "items",
        columns: [
          { name: "id", type: "id" },
          { name: "account_id", type: "integer", notNull: true, references: { table: "accounts", column: "id", onDelete: "cascade" } },
          { name: "folder_id", type: "integer", notNull: true, references: { table: "folders", column: "id" } },
          { name: "uid", type: "integer", notNull: true },
          { name: "modseq", type: "integer", notNull: true },
          { name: "flags", type: "integer", notNull: true, default: 0 },
          { name: "keywords", type: "text" },
          { name: "internal_date", type: "integer", notNull: true },
          { name: "size", type: "integer", notNull: true },
          { name: "blob_id", type: "text", notNull: true },
          { name: "envelope", type: "text", notNull: true },
          { name: "mime", type: "text", notNull: true },
          { name: "subject", type: "text", notNull: true, default: "" },
          { name: "base_subject", type: "text", notNull: true, default: "" },
          { name: "from_addr", type: "text", notNull: true, default: "" },
          { name: "from_name", type: "text", notNull: true, default: "" },
          { name: "to_addr", type: "text", notNull: true, default: "" },
          { name: "cc_addr", type: "text", notNull: true, default: "" },
          { name: "sent_date", type: "integer" },
          { name: "message_id", type: "text" },
          { name: "in_reply_to", type: "text" },
          { name: "refs", type: "text", notNull: true, default: "[]" },
          { name: "thread_id", type: "integer", notNull: true },
          { name: "preview", type: "text", notNull: true, default: "" },
          { name: "has_attachment", type: "integer", notNull: true, default: 0 },
          { name: "props", type: "text", notNull: true, default: "{}" },
          { name: "created_at", type: "integer", notNull: true },
        ],
      },
    },
    { createIndex: { name: "items_folder_uid", table: "items", columns: ["folder_id", "uid"], unique: true } },
    // Covering index for listMessages (SELECT of 100,000 summaries reads only the index).
    { createIndex: { name: "items_summary", table: "items", columns: ["folder_id", "uid", "modseq", "flags", "internal_date", "size", "keywords"] } },
    { createIndex: { name: "items_folder_modseq", table: "items", columns: ["folder_id", "modseq"] } },
    { createIndex: { name: "items_message_id", table: "items", columns: ["account_id", "message_id"], where: "message_id IS NOT NULL" } },
    { createIndex: { name: "items_blob", table: "items", columns: ["blob_id"] } },
    { createIndex: { name: "items_thread", table: "items", columns: ["account_id", "thread_id"] } },
    // Expunge log: "what was removed since N" (RFC 7162 QRESYNC VANISHED, ActiveSync, EWS, ICS).
    {
      createTable: {
        name: "expunged",
        columns: [
          { name: "id", type: "rowid" },
          { name: "account_id", type: "integer", notNull: true },
          { name: "folder_id", type: "integer", notNull: true },
          { name: "uid", type: "integer", notNull: true },
          { name: "item_id", type: "integer", notNull: true },
          { name: "modseq", type: "integer", notNull: true },
        ],
      },
    },
    { createIndex: { name: "expunged_folder_modseq", table: "expunged", columns: ["folder_id", "modseq"] } },
    // Full text. IMAP SEARCH is substring matching (RFC 9051 §6.4.4): SQLite
    // answers it from FTS5's trigram tokenizer (terms of 3+ characters);
    // PostgreSQL from pg_trgm indexes (see fts.ts).
    {
      sqlite: [`CREATE VIRTUAL TABLE message_fts USING fts5(${FTS_COLUMN_NAMES.join(", ")}, tokenize = 'trigram')`],
      postgres: ftsTablePostgres,
    },
    {
      createTable: {
        name: "queue",
        columns: [
          { name: "id", type: "id" },
          { name: "sender", type: "text", notNull: true },
          { name: "recipients", type: "text", notNull: true },
          { name: "blob_id", type: "text", notNull: true },
          { name: "size", type: "integer", notNull: true },
          { name: "created_at", type: "integer", notNull: true },
          { name: "next_attempt_at", type: "integer", notNull: true },
          { name: "attempts", type: "integer", notNull: true, default: 0 },
          { name: "last_error", type: "text" },
          { name: "dsn", type: "text" },
          { name: "locked_until", type: "integer" },
        ],
      },
    },
    { createIndex: { name: "queue_due", table: "queue", columns: ["next_attempt_at"] } },
    { createIndex: { name: "queue_blob", table: "queue", columns: ["blob_id"] } },
  ],
};
