/**
 * exchangelib (Debian's python3-exchangelib) against the folder and sync
 * operations: tests/ews/exchangelib/folders.py — the tree from the root,
 * folder classes, SyncFolderHierarchy and SyncFolderItems with IMAP and SMTP
 * changes in between, create/move/empty/delete. One bun test per scenario.
 */
import { exchangelibSuite } from "./exchangelib-run.ts";

exchangelibSuite({
  title: "exchangelib: folders and sync",
  script: "folders.py",
  timeoutMs: 40_000,
  scenarios: ["tree_from_root", "sync_hierarchy", "sync_items", "create_move_empty", "soft_delete_deletions_folder"],
});
