/**
 * 0021: webmail compose uploads live in the blob store. Before, each upload
 * was a pair of files under `<dataDir>/webmail-uploads/` that only the
 * webmail knew about; now the bytes are a blob (written and fsynced like a
 * message) and this table says whose upload it is. Blob garbage collection
 * (storage/blob-gc.ts) counts `blob_id` here as a reference, so a blob shared
 * with a message (the same attachment saved into a draft) stays as long as
 * either needs it, and an upload's blob goes once its row is gone.
 */
import type { Migration } from "./types.ts";

export const migration: Migration = {
  version: 21,
  name: "webmail_uploads",
  steps: [
    {
      createTable: {
        name: "webmail_uploads",
        columns: [
          { name: "id", type: "text", primaryKey: true },
          { name: "account_id", type: "integer", notNull: true, references: { table: "accounts", column: "id", onDelete: "cascade" } },
          { name: "name", type: "text", notNull: true },
          { name: "type", type: "text", notNull: true },
          { name: "size", type: "integer", notNull: true },
          { name: "blob_id", type: "text", notNull: true },
          { name: "created_at", type: "integer", notNull: true },
        ],
      },
    },
    { createIndex: { name: "webmail_uploads_account", table: "webmail_uploads", columns: ["account_id"] } },
    { createIndex: { name: "webmail_uploads_blob", table: "webmail_uploads", columns: ["blob_id"] } },
    { createIndex: { name: "webmail_uploads_created", table: "webmail_uploads", columns: ["created_at"] } },
  ],
};
