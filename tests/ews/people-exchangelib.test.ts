/**
 * Debian's python3-exchangelib driving ResolveNames, ExpandDL, contacts,
 * contact groups and tasks (tests/ews/exchangelib/people.py): the shapes a
 * real client sends and reads back. One bun test per scenario.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { EwsEnv } from "./helpers.ts";
import { explain, hasExchangelib, runSuite, startSuiteServer, USERS, type SuiteRun } from "./exchangelib-run.ts";

const SCENARIOS = ["resolve_names", "expand_dl", "contact_roundtrip", "contact_group", "task_lifecycle"];
const TEAM = "team@ews.example";

const skip = !hasExchangelib();
if (skip) console.warn("exchangelib people suite skipped: /usr/bin/python3 with python3-exchangelib is not installed");

let env: EwsEnv;
let suite: SuiteRun | undefined;

describe.skipIf(skip)("exchangelib: ResolveNames, ExpandDL, contacts, tasks", () => {
  beforeAll(async () => {
    env = await startSuiteServer();
    await env.srv.store.addAlias(TEAM, USERS.alice.email);
    await env.srv.store.addAlias(TEAM, USERS.bob.email);
    suite = await runSuite(env, "people.py", 45_000, { PB_TEAM: TEAM });
  }, 55_000);
  afterAll(() => env?.close());

  for (const name of SCENARIOS) {
    test(name, () => {
      expect(suite?.results.get(name)?.ok ? "" : explain(suite, name)).toBe("");
    });
  }
});
