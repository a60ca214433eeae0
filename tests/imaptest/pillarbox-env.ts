/**
 * The Pillarbox side of the imaptest-scripts run: an in-process server with
 * the IMAP listener, the two test accounts, and the per-script environment.
 *
 * Used by tests/imaptest/imaptest-scripts.test.ts (CI) and by
 * tests/imaptest/run-pillarbox.ts (a CLI that prints imaptest-style failures
 * and a protocol trace while working on protocols/imap).
 */
import { join } from "node:path";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { readMbox } from "./mbox.ts";
import { loadScriptResult, runScript, type RunnerConfig, type ScriptResult } from "./runner.ts";

export const USER = "imaptest@pillarbox.test";
export const USER2 = "imaptest2@pillarbox.test";
export const PASSWORD = "imaptest-pass";

export interface PillarboxEnv {
  srv: TestServer;
  config(): RunnerConfig;
  close(): Promise<void>;
}

export async function startPillarboxEnv(log?: (l: string) => void): Promise<PillarboxEnv> {
  const srv = await startTestServer({ listeners: ["IMAP"] });
  await createUser(srv.store, USER, PASSWORD);
  await createUser(srv.store, USER2, PASSWORD);
  return {
    srv,
    config: () => ({ host: srv.host, port: srv.port("IMAP"), user: USER, password: PASSWORD, user2: USER2, commandTimeoutMs: 10_000, log }),
    close: () => srv.close(),
  };
}

/**
 * urlauth2 (upstream, unchanged since it was added) cannot pass under
 * imaptest's own setup: it has no `messages:` header, so the freshly
 * recreated test mailbox is empty when it FETCHes 1:2, and its second
 * connection logs in as another user who has no "imaptest" mailbox to
 * SELECT. It only works where both users already hold the mailbox it uses,
 * e.g. with imaptest's `box=INBOX` (which imaptest cannot delete and
 * recreate) and two messages in the first user's INBOX. That is the
 * environment given to it here; every other script runs as imaptest runs it.
 */
const SCRIPT_ENV: Record<string, (env: PillarboxEnv, dir: string) => Promise<Partial<RunnerConfig>>> = {
  urlauth2: async (env, dir) => {
    const store = env.srv.store;
    const account = await store.getAccount(USER);
    const inbox = account && (await store.getFolder(account.id, "INBOX"));
    if (!inbox) throw new Error("no INBOX for " + USER);
    const have = (await store.listMessages(inbox.id)).length;
    const msgs = readMbox(join(dir, "default.mbox")).slice(0, Math.max(0, 2 - have));
    if (msgs.length > 0) await store.append(inbox.id, msgs.map((m) => ({ raw: new Uint8Array(Buffer.from(m.data, "latin1")), internalDate: m.time * 1000 })));
    return { mailbox: "INBOX" };
  },
};

/** Names of scripts that run with a prepared environment (see SCRIPT_ENV). */
export const SCRIPTS_WITH_ENV = Object.keys(SCRIPT_ENV);

export async function runScriptOnPillarbox(env: PillarboxEnv, dir: string, name: string): Promise<ScriptResult> {
  const t = loadScriptResult(dir, name, USER2);
  if (!("groups" in t)) return t;
  const extra = SCRIPT_ENV[name] ? await SCRIPT_ENV[name](env, dir) : {};
  return runScript(t, { ...env.config(), ...extra });
}
