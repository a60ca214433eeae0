/**
 * What the rules editor's scripts do (src/sieve/rules.ts run by the real
 * interpreter, src/sieve/interpret.ts): each condition holds or not on a
 * known message as the editor's words say (address conditions test the
 * address, not the display name; "starts with" takes * and ? literally; size
 * in KB; spam score at least N), and the actions come out as the rule lists
 * them (flags on the rule's own copy, :copy keeping the message, stop ending
 * the rules).
 */
import { describe, expect, test } from "bun:test";
import { rulesToSieve } from "../../src/sieve/rules.ts";
import type { Rule, RuleAction, RuleCondition } from "../../protocols/http/webmail/api-types.ts";
import { BASIC, msg, run, summary } from "./interpret-helpers.ts";

const rule = (id: string, conditions: RuleCondition[], actions: RuleAction[], extra: Partial<Rule> = {}): Rule => ({ id, name: id, enabled: true, match: "all", conditions, actions, ...extra });

/** Does the condition hold on the message? (A one-rule script that files into Accounts when it does.) */
async function holds(c: RuleCondition, o: Parameters<typeof run>[1] = {}): Promise<boolean> {
  const out = await run(rulesToSieve({ rules: [rule("c", [c], [{ type: "fileinto", value: "Accounts" }])] }), o);
  expect(out.error).toBeUndefined();
  return out.actions.some((a) => a.type === "fileinto" && a.mailbox === "Accounts");
}

describe("conditions on a known message", () => {
  // BASIC: From: Alice Example <alice@example.org>; To: bob@example.com, "Carol C" <carol+lists@example.net>;
  // Cc: a group without addresses; Subject: "Hello Wörld report" (encoded word); X-Tag: one / two; body mentions an invoice.
  const cases: [RuleCondition, boolean][] = [
    [{ field: "from", op: "contains", value: "alice@" }, true],
    [{ field: "from", op: "contains", value: "Alice Example" }, false], // the address, not the display name
    [{ field: "from", op: "is", value: "ALICE@example.org" }, true], // addresses compare without case
    [{ field: "from", op: "not-is", value: "alice@example.org" }, false],
    [{ field: "from", op: "starts", value: "alice" }, true],
    [{ field: "from", op: "ends", value: "@example.org" }, true],
    [{ field: "from", op: "starts", value: "*" }, false], // a literal star, not a wildcard
    [{ field: "from", op: "matches", value: "*@example.???" }, true],
    [{ field: "from", op: "not-matches", value: "*@example.org" }, false],
    [{ field: "to", op: "contains", value: "carol" }, true],
    [{ field: "cc", op: "contains", value: "bob" }, false],
    [{ field: "to-or-cc", op: "is", value: "bob@example.com" }, true],
    [{ field: "to-or-cc", op: "exists", value: "" }, true],
    [{ field: "to-or-cc", op: "not-exists", value: "" }, false],
    [{ field: "subject", op: "contains", value: "wörld" }, true], // decoded from the encoded word
    [{ field: "subject", op: "not-contains", value: "report" }, false],
    [{ field: "subject", op: "starts", value: "Hello W" }, true],
    [{ field: "header", header: "X-Tag", op: "is", value: "two" }, true],
    [{ field: "header", header: "X-Missing", op: "exists", value: "" }, false],
    [{ field: "header", header: "X-Missing", op: "not-exists", value: "" }, true],
    [{ field: "body", op: "contains", value: "INVOICE" }, true],
    [{ field: "body", op: "not-contains", value: "invoice" }, false],
    [{ field: "size", op: "over", value: "1" }, false],
    [{ field: "size", op: "under", value: "1" }, true],
  ];
  for (const [c, want] of cases) {
    test(`${c.field}${c.header ? " " + c.header : ""} ${c.op} ${JSON.stringify(c.value)} -> ${want}`, async () => {
      expect(await holds(c)).toBe(want);
    });
  }

  test('"starts with" and "ends with" take * and ? in the text literally', async () => {
    const m = msg("From: a@example.org\nSubject: Why? Because*\n\nx\n");
    expect(await holds({ field: "subject", op: "starts", value: "Why?" }, { message: m })).toBe(true);
    expect(await holds({ field: "subject", op: "starts", value: "Wh?" }, { message: m })).toBe(false);
    expect(await holds({ field: "subject", op: "ends", value: "Because*" }, { message: m })).toBe(true);
    expect(await holds({ field: "subject", op: "ends", value: "Be?ause*" }, { message: m })).toBe(false); // as a wildcard it would match
  });

  test("spam score: at least N / below N, against the filter's spamtest value (RFC 5235)", async () => {
    const at = (value: number) => ({ spam: { value, percent: value * 10 } });
    expect(await holds({ field: "spam-score", op: "over", value: "5" }, at(7))).toBe(true);
    expect(await holds({ field: "spam-score", op: "over", value: "5" }, at(5))).toBe(true);
    expect(await holds({ field: "spam-score", op: "over", value: "5" }, at(3))).toBe(false);
    expect(await holds({ field: "spam-score", op: "over", value: "10" }, at(9))).toBe(false); // numeric, not text, order
    expect(await holds({ field: "spam-score", op: "under", value: "5" }, at(3))).toBe(true);
    expect(await holds({ field: "spam-score", op: "under", value: "5" }, at(7))).toBe(false);
  });

  test("size over N KB counts 1024 octets to the KB", async () => {
    const big = msg("From: a@example.org\nSubject: big\n\n" + "x".repeat(3000) + "\n");
    expect(await holds({ field: "size", op: "over", value: "2" }, { message: big })).toBe(true);
    expect(await holds({ field: "size", op: "over", value: "3" }, { message: big })).toBe(false);
  });
});

describe("actions and rule order", () => {
  const subject: RuleCondition = { field: "subject", op: "contains", value: "report" };

  test("move with flag, mark read and a keyword: the copy in the folder carries them; the implicit keep is cancelled", async () => {
    const out = summary(await run(rulesToSieve({ rules: [rule("a", [subject], [{ type: "fileinto", value: "Accounts" }, { type: "flag" }, { type: "mark-read" }, { type: "keyword", value: "$Work" }])] })));
    expect(out.keep).toBe(false);
    const f = out.actions.find((a) => (a as { type: string }).type === "fileinto") as { mailbox: string; flags: string[] };
    expect(f.mailbox).toBe("Accounts");
    expect([...f.flags].sort()).toEqual(["$Work", "\\Flagged", "\\Seen"]);
  });

  test("copy to folder and forward-and-keep keep the message in INBOX too", async () => {
    const out = summary(await run(rulesToSieve({ rules: [rule("a", [subject], [{ type: "copyto", value: "Lists" }, { type: "redirect-copy", value: "me@phone.example" }])] })));
    expect(out.keep).toBe(true);
    expect(out.actions).toEqual(expect.arrayContaining([expect.objectContaining({ type: "fileinto", mailbox: "Lists", copy: true }), expect.objectContaining({ type: "redirect", address: "me@phone.example", copy: true })]));
  });

  test("forward, discard and reject cancel the implicit keep", async () => {
    for (const [a, type] of [
      [{ type: "redirect", value: "me@phone.example" }, "redirect"],
      [{ type: "discard" }, "discard"],
      [{ type: "reject", value: "Not here." }, "reject"],
    ] as [RuleAction, string][]) {
      const out = summary(await run(rulesToSieve({ rules: [rule("a", [subject], [a])] })));
      expect(out.keep).toBe(false);
      expect(out.actions.map((x) => (x as { type: string }).type)).toContain(type);
    }
  });

  test("rules run top to bottom; stop ends them; a disabled rule does nothing; 'always' needs no condition", async () => {
    const first = rule("first", [subject], [{ type: "fileinto", value: "Accounts" }, { type: "stop" }]);
    const second = rule("second", [], [{ type: "fileinto", value: "Lists" }], { match: "always" });
    let out = summary(await run(rulesToSieve({ rules: [first, second] })));
    expect(out.actions.map((a) => (a as { mailbox?: string }).mailbox)).toEqual(["Accounts"]);
    out = summary(await run(rulesToSieve({ rules: [{ ...first, enabled: false }, second] })));
    expect(out.actions.map((a) => (a as { mailbox?: string }).mailbox)).toEqual(["Lists"]);
    out = summary(await run(rulesToSieve({ rules: [second, first] })));
    expect(out.actions.map((a) => (a as { mailbox?: string }).mailbox)).toEqual(["Lists", "Accounts"]);
    // any: one condition suffices; all: every one must hold.
    const both: RuleCondition[] = [subject, { field: "from", op: "contains", value: "nobody" }];
    expect(summary(await run(rulesToSieve({ rules: [rule("any", both, [{ type: "discard" }], { match: "any" })] }))).keep).toBe(false);
    expect(summary(await run(rulesToSieve({ rules: [rule("all", both, [{ type: "discard" }])] }))).keep).toBe(true);
  });

  test("a folder that no longer exists is a runtime error: the message stays in INBOX (RFC 5228 §2.10.6)", async () => {
    const out = await run(rulesToSieve({ rules: [rule("gone", [subject], [{ type: "fileinto", value: "Deleted folder" }])] }), { message: BASIC });
    expect(out.error).toBeDefined();
    expect(out.implicitKeep).toBe(true);
  });
});
