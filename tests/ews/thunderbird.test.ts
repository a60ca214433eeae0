/**
 * Thunderbird's built-in Exchange (EWS) account, headless (Debian's
 * thunderbird, driven over Marionette by scripts/interop/thunderbird-ews/
 * tb_ews.py): an "ews" incoming server in a fresh profile syncs the folder
 * tree and downloads a delivered message, and marking it read in Thunderbird
 * reaches the store. Skipped when thunderbird
 * is not installed (CI does not install it: a large GUI package for one
 * check; scripts/interop/thunderbird-ews/run runs the same by hand).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { hasCommand, run, REPO_ROOT } from "../helpers/proc.ts";
import type { EwsEnv } from "./helpers.ts";
import { PYTHON, startSuiteServer, USERS } from "./exchangelib-run.ts";

const skip = !hasCommand("thunderbird");
if (skip) console.warn("Thunderbird EWS check skipped: thunderbird is not installed (apt-get install thunderbird)");

let env: EwsEnv;
beforeAll(async () => {
  if (skip) return;
  env = await startSuiteServer();
  const acct = (await env.srv.store.getAccount(USERS.alice.email))!;
  const raw = `From: Carol <carol@outside.example>\r\nTo: ${USERS.alice.email}\r\nSubject: For Thunderbird over EWS\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\nMessage-ID: <tb-ews-1@outside.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello Thunderbird.\r\n`;
  await env.srv.store.deliver(new TextEncoder().encode(raw), [{ accountId: acct.id }]);
});
afterAll(() => env?.close());

describe.skipIf(skip)("Thunderbird (built-in Exchange account, headless)", () => {
  test("syncs the folder tree and downloads the inbox", async () => {
    const r = await run(PYTHON, [join(REPO_ROOT, "scripts/interop/thunderbird-ews/tb_ews.py"), "--port", String(env.port), "--user", USERS.alice.email, "--password", USERS.alice.pass, "--expect", "For Thunderbird over EWS", "--mark-read", "--timeout", "40"], { timeoutMs: 55_000 });
    const lines = r.stdout.split("\n").filter((l) => /^(ok|FAIL) /.test(l));
    expect({ code: r.code, failed: lines.filter((l) => l.startsWith("FAIL")) }).toEqual({ code: 0, failed: [] });
    expect(lines.some((l) => l.startsWith("ok the message 'For Thunderbird over EWS' is in Thunderbird's inbox"))).toBe(true);
    // Marked read in Thunderbird: the store (what IMAP and the webmail see) has \Seen.
    const acct = (await env.srv.store.getAccount(USERS.alice.email))!;
    const inbox = (await env.srv.store.getFolder(acct.id, "INBOX"))!;
    const flags = (await env.srv.store.listMessages(inbox.id)).map((m) => m.flags);
    expect(flags.length).toBe(1);
    expect(flags[0]).toContain("\\Seen");
  }, 58_000);
});
