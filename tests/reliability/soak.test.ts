/**
 * Mini-soak for CI (~20 s): steady SMTP + POP3 + IMAP load against a server
 * process; no errors, server alive, RSS growth bounded. The real soak is
 * scripts/torture/soak (30 min by default).
 */
import { expect, test } from "bun:test";
import { runSoak } from "../../scripts/torture/soak-lib.ts";

test("mini-soak: mixed load with no errors and bounded RSS", async () => {
  const r = await runSoak({ seconds: 20, smtpRate: 6, pop3Rate: 2, imapClients: 2, useImaptest: false });
  const total = Object.values(r.ops).reduce((a, s) => a + s.count, 0);
  console.log(`mini-soak: ${total} operations in ${r.seconds} s, RSS ${(r.rssStartKb / 1024).toFixed(0)} -> ${(r.rssEndKb / 1024).toFixed(0)} MB (max ${(r.rssMaxKb / 1024).toFixed(0)})`);
  expect(r.errorSamples).toEqual([]);
  expect(r.serverAlive).toBe(true);
  expect(r.ops.smtp?.count ?? 0).toBeGreaterThan(50);
  expect(r.ops.pop3?.count ?? 0).toBeGreaterThan(10);
  expect(r.ops["imap-session"]?.count ?? 0).toBeGreaterThan(3);
  // A leak of even 1 MB per hundred operations would show here; normal growth (caches, JIT) stays well under.
  expect(r.rssMaxKb - r.rssStartKb).toBeLessThan(150 * 1024);
  expect(r.fdEnd).toBeLessThanOrEqual(r.fdStart + 5);
}, 90_000);
