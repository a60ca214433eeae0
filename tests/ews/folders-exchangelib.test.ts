/**
 * exchangelib (Debian's python3-exchangelib) against the folder and sync
 * operations: tests/ews/exchangelib/folders.py — the tree from the root,
 * folder classes, SyncFolderHierarchy and SyncFolderItems with IMAP and SMTP
 * changes in between, create/move/empty/delete. One bun test per scenario.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { EwsEnv } from "./helpers.ts";
import { explain, hasExchangelib, runSuite, startSuiteServer, type SuiteRun } from "./exchangelib-run.ts";

const SCENARIOS = ["tree_from_root", "sync_hierarchy", "sync_items", "create_move_empty", "soft_delete_deletions_folder"];

const skip = !hasExchangelib();
if (skip) console.warn("exchangelib folder suite skipped: /usr/bin/python3 with python3-exchangelib is not installed");

let env: EwsEnv;
let suite: SuiteRun | undefined;

describe.skipIf(skip)("exchangelib: folders and sync", () => {
  beforeAll(async () => {
    env = await startSuiteServer();
    suite = await runSuite(env, "folders.py", 40_000);
  }, 50_000);
  afterAll(() => env?.close());

  for (const name of SCENARIOS) {
    test(name, () => {
      expect(suite?.results.get(name)?.ok ? "" : explain(suite, name)).toBe("");
    });
  }
});
