/**
 * 0004: each blob's size in CRLF form (mail/crlf.ts), recorded at ingest
 * so POP3 can answer LIST/STAT at login without reading every message.
 * NULL for blobs stored before this migration: readers measure those.
 */
import type { Migration } from "./types.ts";

export const migration: Migration = {
  version: 4,
  name: "crlf_size",
  steps: [{ addColumn: { table: "blobs", column: { name: "crlf_size", type: "integer" } } }],
};
