/**
 * Abuse cases against a real server process (scripts/torture/abuse-lib.ts):
 * open-relay matrix on 25 and unauthenticated 587, brute force and user
 * enumeration, slow/half-open clients and floods, oversized input, HTTP path
 * traversal and header injection. Every case must hold.
 */
import { expect, test } from "bun:test";
import { runAbuse } from "../../scripts/torture/abuse-lib.ts";

test("abuse cases all refused or bounded", async () => {
  const cases = await runAbuse({ quick: true });
  const failed = cases.filter((c) => !c.ok).map((c) => `[${c.group}] ${c.name}: ${c.detail}`);
  console.log(`abuse: ${cases.length} cases, ${cases.length - failed.length} held`);
  expect(failed).toEqual([]);
  expect(cases.filter((c) => c.group === "relay").length).toBeGreaterThan(40);
}, 170_000);
