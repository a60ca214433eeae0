/**
 * exchangelib end to end, part 1 (tests/ews/exchangelib/suite_core.py):
 * version guess (ConvertId), explicit versions, autodiscover, the folder tree
 * and folder create/rename/move/empty/delete, mail received over SMTP and sent over EWS
 * (read back by the other account and over IMAP), attachments, drafts, read
 * state, categories, the flag property, moves/copies/deletes, junk, a MIME
 * upload, search and paging through 260 items. Part 2 (calendar, contacts,
 * tasks, free/busy, OOF, notifications) is exchangelib-groupware.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { EwsEnv } from "./helpers.ts";
import { explain, hasExchangelib, runSuite, startSuiteServer, type SuiteRun } from "./exchangelib-run.ts";

const SCENARIOS = [
  "version_guess",
  "explicit_versions",
  "autodiscover",
  "folder_tree",
  "folder_create_rename_delete",
  "folder_move_empty",
  "sync_items_and_hierarchy",
  "receive_mail_over_smtp",
  "send_mail",
  "attachments",
  "drafts",
  "read_flags_categories",
  "flag_status_extended_property",
  "move_copy_delete",
  "mark_as_junk",
  "mime_upload",
  "search",
  "paging_250_plus",
];

const skip = !hasExchangelib();
if (skip) console.warn("exchangelib suite skipped: /usr/bin/python3 with python3-exchangelib is not installed (apt-get install python3-exchangelib)");

let env: EwsEnv;
let suite: SuiteRun | undefined;

describe.skipIf(skip)("exchangelib: connection, folders, mail, search", () => {
  beforeAll(async () => {
    env = await startSuiteServer();
    suite = await runSuite(env, "suite_core.py", 45_000);
  }, 55_000);
  afterAll(() => env?.close());

  for (const name of SCENARIOS) {
    test(name, () => {
      expect(suite?.results.get(name)?.ok ? "" : explain(suite, name)).toBe("");
    });
  }
});
