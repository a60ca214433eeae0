/**
 * exchangelib (Debian's python3-exchangelib) against the EWS calendar:
 * tests/ews/exchangelib/suite_calendar.py (not calendar.py: that name would shadow Python's own calendar module), one bun test per scenario.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { EwsEnv } from "./helpers.ts";
import { explain, hasExchangelib, runSuite, startSuiteServer, type SuiteRun } from "./exchangelib-run.ts";

const SCENARIOS = ["cal_weekly_recurrence", "cal_daily_until", "cal_timezone_and_all_day", "cal_meeting_accept_decline_cancel", "cal_free_busy"];

const skip = !hasExchangelib();
if (skip) console.warn("exchangelib calendar suite skipped: /usr/bin/python3 with python3-exchangelib is not installed");

let env: EwsEnv;
let suite: SuiteRun | undefined;

describe.skipIf(skip)("exchangelib: calendar", () => {
  beforeAll(async () => {
    env = await startSuiteServer();
    suite = await runSuite(env, "suite_calendar.py", 45_000);
  }, 55_000);
  afterAll(() => env?.close());

  for (const name of SCENARIOS) {
    test(name, () => {
      expect(suite?.results.get(name)?.ok ? "" : explain(suite, name)).toBe("");
    });
  }
});
