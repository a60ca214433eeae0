/**
 * Abuse cases against a real server process (scripts/torture/abuse-lib.ts):
 * open-relay matrix on 25 and unauthenticated 587, brute force and user
 * enumeration, slow/half-open clients and floods, oversized input, HTTP path
 * traversal and header injection; then the resource attacks of issue 13
 * (scripts/torture/abuse-memory.ts) in their quick sizes, each on its own
 * server with its memory recorded: SMTP bare-LF, dot-stuffed and one-byte
 * BDAT floods, the IMAP COMPRESS bomb, IDLE and webmail event-stream
 * backlogs, connection-cap fairness, SEARCH with many short terms, and the
 * authentication throttle. Every case must hold.
 */
import { expect, test } from "bun:test";
import { runAbuse } from "../../scripts/torture/abuse-lib.ts";

test("abuse cases all refused or bounded", async () => {
  const memoryLines: string[] = [];
  const cases = await runAbuse({ quick: true, memoryLines });
  const failed = cases.filter((c) => !c.ok).map((c) => `[${c.group}] ${c.name}: ${c.detail}`);
  console.log(`abuse: ${cases.length} cases, ${cases.length - failed.length} held\n${memoryLines.join("\n")}`);
  expect(failed).toEqual([]);
  expect(cases.filter((c) => c.group === "relay").length).toBeGreaterThan(40);
  // Every resource attack ran and reported its memory.
  expect(memoryLines.length).toBe(9);
}, 170_000);
