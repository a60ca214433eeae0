/**
 * 0001: the initial schema. SQL lives in TS strings so a compiled single
 * binary embeds it (nothing is read from disk at run time). Mirrors
 * storage/schema.ts (Drizzle) — tests/storage/schema.test.ts checks they agree.
 */
import type { Migration } from "./types.ts";

export const migration: Migration = {
  version: 1,
  name: "initial",
  statements: [
    // Small key/value store for server-wide counters (uidvalidity allocation).
    `CREATE TABLE meta (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL
    )`,
    `CREATE TABLE domains (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      dkim_selector TEXT,
      dkim_private_key TEXT,
      dkim_public_key TEXT,
      created_at INTEGER NOT NULL
    )`,
    // modseq: the per-account change counter (RFC 7162 MODSEQ source) bumped by
    // every change of any item or folder of the account.
    `CREATE TABLE accounts (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      email TEXT NOT NULL UNIQUE,
      domain_id INTEGER NOT NULL REFERENCES domains(id),
      password_hash TEXT NOT NULL,
      quota_bytes INTEGER,
      used_bytes INTEGER NOT NULL DEFAULT 0,
      message_count INTEGER NOT NULL DEFAULT 0,
      settings TEXT NOT NULL DEFAULT '{}',
      modseq INTEGER NOT NULL DEFAULT 1,
      created_at INTEGER NOT NULL
    )`,
    `CREATE INDEX accounts_domain ON accounts(domain_id)`,
    `CREATE TABLE aliases (
      id INTEGER PRIMARY KEY,
      source TEXT NOT NULL,
      destination TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      UNIQUE (source, destination)
    )`,
    `CREATE INDEX aliases_destination ON aliases(destination)`,
    `CREATE TABLE folders (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      name TEXT NOT NULL,
      parent_id INTEGER REFERENCES folders(id),
      item_class TEXT NOT NULL DEFAULT 'mail',
      special_use TEXT,
      subscribed INTEGER NOT NULL DEFAULT 1,
      uidvalidity INTEGER NOT NULL,
      uidnext INTEGER NOT NULL DEFAULT 1,
      highest_modseq INTEGER NOT NULL DEFAULT 1,
      props TEXT NOT NULL DEFAULT '{}',
      created_at INTEGER NOT NULL,
      UNIQUE (account_id, name)
    )`,
    `CREATE INDEX folders_parent ON folders(parent_id)`,
    // Content-addressed blobs (sha256 hex). seq keys the full-text row, so a
    // message delivered to many mailboxes or copied is indexed once.
    `CREATE TABLE blobs (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      size INTEGER NOT NULL,
      created_at INTEGER NOT NULL
    )`,
    // id: stable item id, never reused (AUTOINCREMENT), survives moves.
    `CREATE TABLE items (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      folder_id INTEGER NOT NULL REFERENCES folders(id),
      uid INTEGER NOT NULL,
      modseq INTEGER NOT NULL,
      flags INTEGER NOT NULL DEFAULT 0,
      keywords TEXT,
      internal_date INTEGER NOT NULL,
      size INTEGER NOT NULL,
      blob_id TEXT NOT NULL,
      envelope TEXT NOT NULL,
      mime TEXT NOT NULL,
      subject TEXT NOT NULL DEFAULT '',
      base_subject TEXT NOT NULL DEFAULT '',
      from_addr TEXT NOT NULL DEFAULT '',
      from_name TEXT NOT NULL DEFAULT '',
      to_addr TEXT NOT NULL DEFAULT '',
      cc_addr TEXT NOT NULL DEFAULT '',
      sent_date INTEGER,
      message_id TEXT,
      in_reply_to TEXT,
      refs TEXT NOT NULL DEFAULT '[]',
      thread_id INTEGER NOT NULL,
      preview TEXT NOT NULL DEFAULT '',
      has_attachment INTEGER NOT NULL DEFAULT 0,
      props TEXT NOT NULL DEFAULT '{}',
      created_at INTEGER NOT NULL
    )`,
    `CREATE UNIQUE INDEX items_folder_uid ON items(folder_id, uid)`,
    // Covering index for listMessages (SELECT of 100,000 summaries reads only the index).
    `CREATE INDEX items_summary ON items(folder_id, uid, modseq, flags, internal_date, size, keywords)`,
    `CREATE INDEX items_folder_modseq ON items(folder_id, modseq)`,
    `CREATE INDEX items_message_id ON items(account_id, message_id) WHERE message_id IS NOT NULL`,
    `CREATE INDEX items_blob ON items(blob_id)`,
    `CREATE INDEX items_thread ON items(account_id, thread_id)`,
    // Expunge log: "what was removed since N" (RFC 7162 QRESYNC VANISHED, ActiveSync, EWS, ICS).
    `CREATE TABLE expunged (
      id INTEGER PRIMARY KEY,
      account_id INTEGER NOT NULL,
      folder_id INTEGER NOT NULL,
      uid INTEGER NOT NULL,
      item_id INTEGER NOT NULL,
      modseq INTEGER NOT NULL
    )`,
    `CREATE INDEX expunged_folder_modseq ON expunged(folder_id, modseq)`,
    // Trigram tokenizer: IMAP SEARCH is substring matching (RFC 9051 §6.4.4), which
    // trigrams answer from the index for terms of 3+ characters.
    `CREATE VIRTUAL TABLE message_fts USING fts5(subject, from_text, to_text, cc_text, bcc_text, headers, body, tokenize = 'trigram')`,
    `CREATE TABLE queue (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      sender TEXT NOT NULL,
      recipients TEXT NOT NULL,
      blob_id TEXT NOT NULL,
      size INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      next_attempt_at INTEGER NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      last_error TEXT,
      dsn TEXT,
      locked_until INTEGER
    )`,
    `CREATE INDEX queue_due ON queue(next_attempt_at)`,
    `CREATE INDEX queue_blob ON queue(blob_id)`,
  ],
};
