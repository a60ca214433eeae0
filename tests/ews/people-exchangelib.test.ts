/**
 * Debian's python3-exchangelib driving ResolveNames, ExpandDL, contacts,
 * contact groups and tasks (tests/ews/exchangelib/people.py): the shapes a
 * real client sends and reads back. One bun test per scenario.
 */
import { exchangelibSuite, USERS } from "./exchangelib-run.ts";

const TEAM = "team@ews.example";

exchangelibSuite({
  title: "exchangelib: ResolveNames, ExpandDL, contacts, tasks",
  script: "people.py",
  prepare: async (env) => {
    await env.srv.store.addAlias(TEAM, USERS.alice.email);
    await env.srv.store.addAlias(TEAM, USERS.bob.email);
    return { PB_TEAM: TEAM };
  },
  scenarios: ["resolve_names", "expand_dl", "contact_roundtrip", "contact_group", "task_lifecycle"],
});
