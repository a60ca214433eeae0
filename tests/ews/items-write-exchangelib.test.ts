/**
 * exchangelib (Debian's python3-exchangelib) writing mail against a real
 * Pillarbox (tests/ews/exchangelib/mail_write.py): drafts saved and edited
 * keeping their ItemId, attachments attached and detached on a saved draft
 * (bytes exact), send / send-and-save, read state, reply / reply-all /
 * forward, a saved draft reply. Each scenario is one test.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { EwsEnv } from "./helpers.ts";
import { explain, hasExchangelib, runSuite, startSuiteServer, type SuiteRun } from "./exchangelib-run.ts";

const SCENARIOS = ["draft_save_edit_keeps_id", "attach_detach", "send_and_send_and_save", "send_with_attachment", "read_state_and_full_save_of_received_mail", "reply_reply_all_forward", "draft_reply_saved"];

const skip = !hasExchangelib();
if (skip) console.warn("exchangelib mail-writing suite skipped: /usr/bin/python3 with python3-exchangelib is not installed");

let env: EwsEnv;
let suite: SuiteRun | undefined;

describe.skipIf(skip)("exchangelib: writing mail", () => {
  beforeAll(async () => {
    env = await startSuiteServer();
    suite = await runSuite(env, "mail_write.py", 45_000);
  }, 55_000);
  afterAll(() => env?.close());

  for (const name of SCENARIOS) {
    test(name, () => {
      expect(suite?.results.get(name)?.ok ? "" : explain(suite, name)).toBe("");
    });
  }
});
