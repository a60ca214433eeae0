/**
 * exchangelib end to end, part 2 (tests/ews/exchangelib/suite_groupware.py):
 * calendar items (CalDAV sees them), recurrence with a modified and a deleted
 * occurrence through CalendarView, a meeting invitation the attendee accepts
 * and the organiser cancels, contacts, ResolveNames, tasks, free/busy,
 * out-of-office (the auto-reply really arrives) and pull and streaming
 * notifications raised by mail delivered over SMTP.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { EwsEnv } from "./helpers.ts";
import { explain, hasExchangelib, runSuite, startSuiteServer, type SuiteRun } from "./exchangelib-run.ts";

const SCENARIOS = [
  "calendar_item",
  "calendar_recurrence",
  "meeting_invitation_accept",
  "contacts",
  "resolve_names_directory",
  "tasks",
  "free_busy",
  "out_of_office",
  "pull_notifications",
  "streaming_notifications",
];

const skip = !hasExchangelib();
if (skip) console.warn("exchangelib groupware suite skipped: /usr/bin/python3 with python3-exchangelib is not installed (apt-get install python3-exchangelib)");

let env: EwsEnv;
let suite: SuiteRun | undefined;

describe.skipIf(skip)("exchangelib: calendar, contacts, tasks, free/busy, OOF, notifications", () => {
  beforeAll(async () => {
    env = await startSuiteServer();
    suite = await runSuite(env, "suite_groupware.py", 45_000);
  }, 55_000);
  afterAll(() => env?.close());

  for (const name of SCENARIOS) {
    test(name, () => {
      expect(suite?.results.get(name)?.ok ? "" : explain(suite, name)).toBe("");
    });
  }
});
