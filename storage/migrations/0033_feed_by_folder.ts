/**
 * 0033: the account change feed reads live items through each folder's
 * `(folder_id, modseq)` index (items_folder_modseq, which CONDSTORE already
 * keeps) instead of a second `(account_id, modseq)` index on `items`. Every
 * flag change, append and expunge rewrites an item's modseq, so each index on
 * it is paid on the hottest write path (1,000 single flag changes: 157–207 ms
 * with the second index, 137–150 ms without, same database); an account has
 * few folders, so the feed's per-folder ranges cost little.
 */
import type { Migration } from "./types.ts";

export const migration: Migration = {
  version: 33,
  name: "feed_by_folder",
  steps: [{ dropIndex: "items_account_modseq" }],
};
