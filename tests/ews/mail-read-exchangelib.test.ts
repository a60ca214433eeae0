/**
 * exchangelib (Debian's python3-exchangelib) against mail reading and the
 * generic read/move item operations: tests/ews/exchangelib/mail_read.py —
 * ordering, slicing and paging, filters, .only(), counts, bodies, attachments,
 * MIME, extended properties, move/copy/delete/soft delete/trash, junk, each
 * cross-checked over IMAP. One bun test per scenario.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { EwsEnv } from "./helpers.ts";
import { explain, hasExchangelib, runSuite, startSuiteServer, type SuiteRun } from "./exchangelib-run.ts";

const SCENARIOS = ["order_slice_only", "filters", "get_item_bodies_attachments", "read_state_and_extended", "move_copy_delete", "mark_as_junk"];

const skip = !hasExchangelib();
if (skip) console.warn("exchangelib mail-read suite skipped: /usr/bin/python3 with python3-exchangelib is not installed");

let env: EwsEnv;
let suite: SuiteRun | undefined;

describe.skipIf(skip)("exchangelib: mail reading, moves and deletes", () => {
  beforeAll(async () => {
    env = await startSuiteServer();
    suite = await runSuite(env, "mail_read.py", 45_000);
  }, 55_000);
  afterAll(() => env?.close());

  for (const name of SCENARIOS) {
    test(name, () => {
      expect(suite?.results.get(name)?.ok ? "" : explain(suite, name)).toBe("");
    });
  }
});
