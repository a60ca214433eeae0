/**
 * exchangelib (Debian's python3-exchangelib) against notifications and
 * out-of-office: tests/ews/exchangelib/notify_oof.py, one bun test per
 * scenario (pull subscription + get_events, streaming subscription +
 * get_streaming_events, OofSettings Enabled/Scheduled/Disabled written and
 * read back).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { EwsEnv } from "./helpers.ts";
import { explain, hasExchangelib, runSuite, startSuiteServer, type SuiteRun } from "./exchangelib-run.ts";

const SCENARIOS = ["pull_subscription", "streaming_subscription", "oof_enabled", "oof_scheduled", "oof_disabled"];

const skip = !hasExchangelib();
if (skip) console.warn("exchangelib notifications/OOF suite skipped: /usr/bin/python3 with python3-exchangelib is not installed");

let env: EwsEnv;
let suite: SuiteRun | undefined;

describe.skipIf(skip)("exchangelib: notifications and out-of-office", () => {
  beforeAll(async () => {
    env = await startSuiteServer();
    // The streaming scenario reads for ConnectionTimeout = 1 minute at most; its event is waiting when it connects.
    suite = await runSuite(env, "notify_oof.py", 100_000);
  }, 110_000);
  afterAll(async () => {
    await env?.close();
  });

  for (const name of SCENARIOS) {
    test(name, () => {
      expect(explain(suite, name)).toBe("");
    });
  }
});
