/**
 * DavMail (Debian's davmail, EWS mode) in front of Pillarbox: python imaplib
 * through DavMail's IMAP port lists INBOX and reads the same messages
 * (subjects, bodies, flags) as direct IMAP, a flag set through DavMail shows
 * over direct IMAP, and python3-caldav through DavMail's CalDAV port sees an
 * event made directly on Pillarbox and makes one Pillarbox's CalDAV shows
 * and mail sent through DavMail's SMTP reaches the other account with a copy in
 * Sent (tests/ews/davmail/davmail_suite.py). Skipped only when the davmail package
 * is not installed (CI installs it).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { EwsEnv } from "./helpers.ts";
import { explain, hasExchangelib, runSuite, startSuiteServer, type SuiteRun } from "./exchangelib-run.ts";
import { hasDavmail, startDavmail, type Davmail } from "./davmail-run.ts";

const SCENARIOS = ["seed_mail", "imap_list_inbox", "imap_same_messages", "imap_flag_through_davmail", "caldav_event_made_direct", "caldav_event_made_through_davmail", "smtp_send_through_davmail"];

const skip = !hasDavmail() || !hasExchangelib();
if (skip) console.warn("DavMail scenarios skipped: Debian's DavMail jar (package davmail-server or davmail) with a Java runtime, python3-exchangelib and python3-caldav are not all installed (apt-get install davmail-server python3-exchangelib python3-caldav)");

let env: EwsEnv;
let dm: Davmail | undefined;
let suite: SuiteRun | undefined;

describe.skipIf(skip)("DavMail in EWS mode in front of Pillarbox", () => {
  beforeAll(async () => {
    env = await startSuiteServer();
    dm = await startDavmail(env.port);
    suite = await runSuite(env, "../davmail/davmail_suite.py", 40_000, { PB_DAVMAIL_IMAP_PORT: String(dm.imapPort), PB_DAVMAIL_CALDAV_PORT: String(dm.caldavPort), PB_DAVMAIL_SMTP_PORT: String(dm.smtpPort) });
  }, 58_000);
  afterAll(async () => {
    await dm?.stop();
    await env?.close();
  });

  for (const name of SCENARIOS) {
    test(name, () => {
      const why = suite?.results.get(name)?.ok ? "" : `${explain(suite, name)}\n--- DavMail log (tail) ---\n${dm?.log().slice(-2500) ?? ""}`;
      expect(why).toBe("");
    });
  }
});
