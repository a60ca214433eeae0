/**
 * 0003: full-text indexing happens after the delivery commit, in batches.
 * Trigram-indexing a 100 KB body costs more than storing the message, and
 * the index is derived data: the message is durable without it. A blob row
 * with fts_indexed = 0 is waiting for the background indexer; searches
 * index everything pending before they run, so results stay complete.
 * Existing rows were indexed at delivery (default 1).
 *
 * fts_partial = 1: only the first part of a very long body text is in the
 * index (indexing cost grows with every character, and such bodies are
 * rare); searches check those messages' full text directly, so results
 * stay exact.
 */
import type { Migration } from "./types.ts";

export const migration: Migration = {
  version: 3,
  name: "deferred_fts",
  steps: [
    { addColumn: { table: "blobs", column: { name: "fts_indexed", type: "integer", notNull: true, default: 1 } } },
    { addColumn: { table: "blobs", column: { name: "fts_partial", type: "integer", notNull: true, default: 0 } } },
    { createIndex: { name: "blobs_fts_pending", table: "blobs", columns: ["seq"], where: "fts_indexed = 0" } },
  ],
};
