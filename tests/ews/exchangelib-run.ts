/**
 * Runs one exchangelib suite script (tests/ews/exchangelib/suite_*.py, Debian's
 * python3-exchangelib under /usr/bin/python3) against a real Pillarbox and
 * reads its "PASS name" / "FAIL name: reason" lines, so each scenario becomes
 * one bun test that fails by name (and a scenario that never ran fails too).
 * A suite file is its scenario list and one exchangelibSuite() call.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { run, REPO_ROOT } from "../helpers/proc.ts";
import { createUser, startEws, type EwsEnv } from "./helpers.ts";

export const PYTHON = "/usr/bin/python3";
export const SUITE_DIR = join(REPO_ROOT, "tests/ews/exchangelib");

/** True when Debian's python3-exchangelib is importable (CI installs it). */
export function hasExchangelib(): boolean {
  return existsSync(PYTHON) && existsSync("/usr/lib/python3/dist-packages/exchangelib/__init__.py");
}

export const USERS = {
  alice: { email: "alice@ews.example", pass: "alice ews pass 1", name: "Alice Ames" },
  bob: { email: "bob@ews.example", pass: "bob ews pass 2", name: "Bob Brown" },
} as const;

export interface SuiteRun {
  results: Map<string, { ok: boolean; reason: string }>;
  stdout: string;
  stderr: string;
  code: number | null;
  timedOut: boolean;
}

/** A server for one suite file: HTTPS (EWS), SMTP, submission, IMAP; the spam filter off (mail from outside must land in INBOX). */
export async function startSuiteServer(): Promise<EwsEnv> {
  const env = await startEws({ config: { spam: { enabled: false } } });
  await createUser(env.srv.store, USERS.alice.email, USERS.alice.pass, { displayName: USERS.alice.name });
  await createUser(env.srv.store, USERS.bob.email, USERS.bob.pass, { displayName: USERS.bob.name });
  return env;
}

export async function runSuite(env: EwsEnv, script: string, timeoutMs: number, extraEnv: Record<string, string> = {}): Promise<SuiteRun> {
  const r = await run(PYTHON, [join(SUITE_DIR, script)], {
    cwd: SUITE_DIR,
    timeoutMs,
    env: {
      PB_EWS_HOST: "127.0.0.1",
      PB_EWS_PORT: String(env.port),
      PB_HTTP_PORT: String(env.srv.port("HTTP")),
      PB_SMTP_PORT: String(env.srv.port("SMTP")),
      PB_IMAP_PORT: String(env.srv.port("IMAP")),
      PB_USER1: USERS.alice.email,
      PB_PASS1: USERS.alice.pass,
      PB_USER2: USERS.bob.email,
      PB_PASS2: USERS.bob.pass,
      PYTHONDONTWRITEBYTECODE: "1",
      PYTHONIOENCODING: "utf-8",
      ...extraEnv,
    },
  });
  const results = new Map<string, { ok: boolean; reason: string }>();
  for (const line of r.stdout.split("\n")) {
    const m = /^(PASS|FAIL) ([a-z0-9_]+)(?:: (.*)| \(.*\))?$/.exec(line.trim());
    if (m) results.set(m[2]!, { ok: m[1] === "PASS", reason: m[3] ?? "" });
  }
  return { results, stdout: r.stdout, stderr: r.stderr, code: r.code, timedOut: r.timedOut };
}

/** Why a scenario did not pass, with the script's traceback lines for it, for the test's failure message. */
export function explain(s: SuiteRun | undefined, name: string): string {
  if (!s) return "the suite did not run";
  const r = s.results.get(name);
  if (r?.ok) return "";
  const why = r ? r.reason : s.timedOut ? "the script timed out before this scenario" : `the scenario never reported (exit ${s.code})`;
  const block = new RegExp(`^=== ${name}\n([\\s\\S]*?)^=== end ${name}$`, "m").exec(s.stderr)?.[1];
  return `${name}: ${why}\n--- traceback ---\n${block ?? s.stderr.split("\n").slice(-40).join("\n")}`;
}

export interface SuiteSpec {
  /** The describe() title. */
  title: string;
  /** The script under tests/ews/exchangelib/. */
  script: string;
  /** The scenario names the script reports, each one bun test. */
  scenarios: readonly string[];
  /** How long the script may run (the beforeAll gets 10 s more for the server). */
  timeoutMs?: number;
  /** Extra set-up on the fresh server before the script runs; its result is added to the script's environment. */
  prepare?: (env: EwsEnv) => Promise<Record<string, string> | void>;
}

/**
 * One exchangelib suite file: a fresh server (startSuiteServer), the script run
 * once in beforeAll, then one bun test per scenario that fails with the
 * scenario's reason and traceback. Skipped (with a warning) without exchangelib.
 */
export function exchangelibSuite(spec: SuiteSpec): void {
  const skip = !hasExchangelib();
  if (skip) console.warn(`${spec.title} skipped: /usr/bin/python3 with python3-exchangelib is not installed (apt-get install python3-exchangelib)`);
  const timeoutMs = spec.timeoutMs ?? 45_000;
  let env: EwsEnv | undefined;
  let suite: SuiteRun | undefined;
  describe.skipIf(skip)(spec.title, () => {
    beforeAll(async () => {
      env = await startSuiteServer();
      const extra = (await spec.prepare?.(env)) ?? {};
      suite = await runSuite(env, spec.script, timeoutMs, extra);
    }, timeoutMs + 10_000);
    afterAll(async () => {
      await env?.close();
    });
    for (const name of spec.scenarios) {
      test(name, () => {
        expect(explain(suite, name)).toBe("");
      });
    }
  });
}
