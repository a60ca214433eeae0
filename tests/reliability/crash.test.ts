/**
 * Crash safety, CI size: a few SIGKILLs of a real `pillarbox serve` with two
 * processes (single workers, and the lead with every worker at once) under
 * SMTP, submission and IMAP load; after each, nothing acknowledged is
 * lost (see scripts/torture/crash-lib.ts for every check). The long run is
 * scripts/torture/crash (25 kills).
 */
import { expect, test } from "bun:test";
import { runCrash } from "../../scripts/torture/crash-lib.ts";

test("SIGKILL under load loses nothing acknowledged", async () => {
  const f = await runCrash({ kills: 4, workers: 2, minRunMs: 400, maxRunMs: 2500, smtpWorkers: 2, imapWorkers: 2, submitWorkers: 1 });
  console.log(`crash: ${f.kills} kills of the server, ${f.workerKills} of single workers, ${f.smtpAcked} SMTP + ${f.appendAcked} APPEND + ${f.submitAcked} submissions acknowledged, ${f.deliveriesChecked} checks, ${f.orphanBlobsCollected} orphan blobs collected`);
  expect(f.problems).toEqual([]);
  expect(f.kills).toBe(4);
  expect(f.workerKills).toBe(2);
  // The load must actually have run, or the test proves nothing.
  expect(f.smtpAcked).toBeGreaterThan(0);
  expect(f.appendAcked).toBeGreaterThan(0);
  expect(f.deliveriesChecked).toBeGreaterThan(0);
}, 150_000);
