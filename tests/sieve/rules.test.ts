/**
 * src/sieve/rules.ts: the webmail's rules <-> the "Pillarbox rules" Sieve
 * script. Every condition and action makes a script S1's compiler accepts,
 * with exactly the extensions it uses; strings survive escaping (checked in
 * the compiled tree, not by reading the text back); the script reads back as
 * the same rules, and any edit by hand reads back as null.
 */
import { describe, expect, test } from "bun:test";
import { compile } from "../../src/sieve/compile.ts";
import { RULES_SCRIPT_NAME, RULE_LIMITS, RuleError, checkRuleSet, rulesToSieve, sieveToRules } from "../../src/sieve/rules.ts";
import type { SieveCommand, SieveTest } from "../../src/sieve/types.ts";
import type { Rule, RuleAction, RuleCondition, RuleSet } from "../../protocols/http/webmail/api-types.ts";

const rule = (id: string, conditions: RuleCondition[], actions: RuleAction[], extra: Partial<Rule> = {}): Rule => ({ id, name: `Rule ${id}`, enabled: true, match: "all", conditions, actions, ...extra });

function compiled(text: string) {
  const r = compile(text);
  if (!r.ok) throw new Error(`does not compile: ${JSON.stringify(r.errors)}\n${text}`);
  return r.script;
}

/** The tests of the script's if commands, in order. */
function ifTests(cmds: readonly SieveCommand[]): SieveTest[] {
  return cmds.filter((c) => c.name === "if").map((c) => c.test!);
}

/** Every string a test carries (its key lists, header names ...), depth first. */
function strings(t: SieveTest): string[] {
  const own = t.args.flatMap((a) => (a.kind === "string" ? [a.value] : a.kind === "list" ? a.values : []));
  return [...own, ...t.tests.flatMap(strings)];
}

const TEXT_OPS = ["contains", "not-contains", "is", "not-is", "matches", "not-matches", "starts", "ends"] as const;

describe("every condition and action compiles, requiring only what it uses", () => {
  test("each field with each of its comparisons", () => {
    const cases: RuleCondition[] = [];
    for (const field of ["from", "to", "cc", "to-or-cc", "subject", "header"] as const) {
      for (const op of [...TEXT_OPS, "exists", "not-exists"] as const) cases.push({ field, op, value: op.endsWith("exists") ? "" : "x", ...(field === "header" ? { header: "X-Mailer" } : {}) });
    }
    for (const op of TEXT_OPS) cases.push({ field: "body", op, value: "word" });
    for (const op of ["over", "under"] as const) cases.push({ field: "size", op, value: "100" }, { field: "spam-score", op, value: "5" });
    for (const c of cases) {
      const text = rulesToSieve({ rules: [rule("c", [c], [{ type: "flag" }])] });
      const s = compiled(text);
      const want = new Set(["imap4flags", ...(c.field === "body" ? ["body"] : []), ...(c.field === "spam-score" ? ["spamtest", "relational", "comparator-i;ascii-numeric"] : [])]);
      expect([...s.requires].sort()).toEqual([...want].sort());
      expect(sieveToRules(text)).toEqual({ rules: [rule("c", [c], [{ type: "flag" }])] });
    }
  });

  test("each action", () => {
    const actions: [RuleAction, string[], string][] = [
      [{ type: "fileinto", value: "Accounts" }, ["fileinto"], 'fileinto "Accounts";'],
      [{ type: "copyto", value: "Archive/2026" }, ["fileinto", "copy"], 'fileinto :copy "Archive/2026";'],
      [{ type: "redirect", value: "me@phone.example" }, [], 'redirect "me@phone.example";'],
      [{ type: "redirect-copy", value: "me@phone.example" }, ["copy"], 'redirect :copy "me@phone.example";'],
      [{ type: "discard" }, [], "discard;"],
      [{ type: "reject", value: "No thanks" }, ["reject"], 'reject "No thanks";'],
      [{ type: "flag" }, ["imap4flags"], 'addflag "\\\\Flagged";'],
      [{ type: "mark-read" }, ["imap4flags"], 'addflag "\\\\Seen";'],
      [{ type: "keyword", value: "$Work" }, ["imap4flags"], 'addflag "$Work";'],
      [{ type: "stop" }, [], "stop;"],
    ];
    for (const [a, req, line] of actions) {
      const text = rulesToSieve({ rules: [rule("a", [{ field: "subject", op: "contains", value: "x" }], [a])] });
      expect(text).toContain("  " + line + "\n");
      expect([...compiled(text).requires].sort()).toEqual([...req].sort());
      if (!req.length) expect(text).not.toContain("require");
    }
  });

  test("the scripts as written: contains, starts (:matches with the wildcards quoted), size in K, spam score ge with i;ascii-numeric", () => {
    const text = rulesToSieve({
      rules: [
        rule("r1", [{ field: "subject", op: "contains", value: "invoice" }], [{ type: "fileinto", value: "Accounts" }]),
        rule("r2", [{ field: "from", op: "starts", value: "a*b?" }, { field: "size", op: "over", value: "100" }], [{ type: "discard" }], { match: "any" }),
        rule("r3", [{ field: "spam-score", op: "over", value: "7" }], [{ type: "fileinto", value: "Junk" }, { type: "stop" }]),
      ],
    });
    expect(text).toContain('require ["fileinto", "relational", "spamtest", "comparator-i;ascii-numeric"];\n');
    expect(text).toContain('if header :contains "subject" "invoice" {\n  fileinto "Accounts";\n}\n');
    expect(text).toContain('if anyof (address :matches "from" "a\\\\*b\\\\?*", size :over 100K) {\n  discard;\n}\n');
    expect(text).toContain('if spamtest :value "ge" :comparator "i;ascii-numeric" "7" {\n  fileinto "Junk";\n  stop;\n}\n');
    const tests = ifTests(compiled(text).commands);
    // The compiled key is the :matches pattern with the user's * and ? quoted (RFC 5228 §2.7.1).
    expect(strings(tests[1]!.tests[0]!)).toEqual(["from", "a\\*b\\?*"]);
    expect(tests[1]!.tests[1]!.tags).toEqual({ over: 100 * 1024 });
    expect(tests[2]!.match).toEqual({ type: "value", relation: "ge" });
    expect(tests[2]!.comparator).toBe("i;ascii-numeric");
  });

  test("flags come before the rule's own fileinto so they apply to its copy (RFC 5232 §3); stop stays last", () => {
    const text = rulesToSieve({ rules: [rule("f", [{ field: "subject", op: "is", value: "x" }], [{ type: "fileinto", value: "F" }, { type: "flag" }, { type: "stop" }])] });
    expect(text).toContain('  addflag "\\\\Flagged";\n  fileinto "F";\n  stop;\n');
    compiled(text);
  });
});

describe("escaping", () => {
  test("quotes, backslashes, wildcards, non-ASCII and line breaks reach the compiled script unchanged", () => {
    const nasty = 'he said "hi" \\ C:\\path * ? ${var} # not a comment /* nor this */ Grüße 日本 🎉';
    const set: RuleSet = {
      rules: [
        rule("e1", [{ field: "subject", op: "is", value: nasty }, { field: "header", header: "X-Weird", op: "contains", value: nasty }, { field: "body", op: "ends", value: nasty }], [
          { type: "fileinto", value: 'Folder "quoted"/Sub\\dir' },
          { type: "keyword", value: "$Label1" },
        ]),
        rule("e2", [], [{ type: "reject", value: 'Line one "q"\nLine two \\' }], { match: "always", name: 'Name with "quotes" and \\' }),
      ],
    };
    const text = rulesToSieve(set);
    const s = compiled(text);
    const t = ifTests(s.commands)[0]!;
    expect(strings(t.tests[0]!)).toEqual(["subject", nasty]);
    expect(strings(t.tests[1]!)).toEqual(["X-Weird", nasty]);
    const quoted = nasty.replace(/[\\*?]/g, (c) => "\\" + c);
    expect(strings(t.tests[2]!)).toEqual(["*" + quoted]);
    const ifBlock = s.commands.find((c) => c.name === "if")!.block!;
    expect(ifBlock.find((c) => c.name === "fileinto")!.args[0]).toMatchObject({ value: 'Folder "quoted"/Sub\\dir' });
    const reject = s.commands.find((c) => c.name === "reject")!;
    // A line break inside a string is CRLF in Sieve (RFC 5228 §2.4.2); the compiler gives it as such.
    expect(reject.args[0]).toMatchObject({ value: 'Line one "q"\r\nLine two \\' });
    expect(sieveToRules(text)).toEqual(set);
  });

  test("a value cannot end the comment or the string early: the rule's JSON stays on its line", () => {
    const set: RuleSet = { rules: [rule("j", [{ field: "subject", op: "contains", value: 'x" } discard; # \u2028 */' }], [{ type: "keyword", value: "k" }])] };
    const text = rulesToSieve(set);
    expect(text.split("\n").filter((l) => l.startsWith("# rule: ")).length).toBe(1);
    const s = compiled(text);
    expect(s.commands.filter((c) => c.name === "discard").length).toBe(0);
    expect(sieveToRules(text)).toEqual(set);
  });
});

describe("reading a script back", () => {
  const set: RuleSet = {
    rules: [
      rule("one", [{ field: "subject", op: "contains", value: "invoice" }], [{ type: "fileinto", value: "Accounts" }]),
      rule("two", [{ field: "to-or-cc", op: "is", value: "list@example.org" }], [{ type: "mark-read" }, { type: "copyto", value: "Lists" }], { enabled: false }),
      rule("three", [], [{ type: "redirect-copy", value: "me@phone.example" }], { match: "always" }),
    ],
  };

  test("round trip, including a disabled rule (kept only as its comment) and CRLF line ends", () => {
    const text = rulesToSieve(set);
    expect(sieveToRules(text)).toEqual(set);
    expect(sieveToRules(text.replace(/\n/g, "\r\n"))).toEqual(set);
    expect(text).not.toContain('fileinto :copy "Lists"'); // the disabled rule has no code
    expect(text.startsWith("# Pillarbox rules")).toBe(true);
    expect(RULES_SCRIPT_NAME).toBe("Pillarbox rules");
    expect(sieveToRules(rulesToSieve({ rules: [] }))).toEqual({ rules: [] });
  });

  test("any edit by hand reads back as null (the editor then leaves the script to the raw view)", () => {
    const text = rulesToSieve(set);
    const edits = [
      text.replace('fileinto "Accounts";', 'fileinto "Other";'), // the code changed, the comment did not
      text.replace('"value":"invoice"', '"value":"receipt"'), // the comment changed, the code did not
      text + "keep;\n",
      text + "# a note\n",
      text.replace("\n\n", "\n"),
      text.replace("# rule: {", "# rule: {{"), // broken JSON
      text.replace("# Pillarbox rules", "# My rules"),
      'require "fileinto";\nif header :contains "subject" "x" { fileinto "Y"; }\n',
      "",
    ];
    for (const e of edits) expect(sieveToRules(e)).toBeNull();
  });

  test("a comment with a rule the checker refuses reads back as null, never throws", () => {
    const text = rulesToSieve(set).replace('"field":"subject"', '"field":"nonsense"');
    expect(sieveToRules(text)).toBeNull();
    expect(sieveToRules("# Pillarbox rules: x\n# rule: null\n")).toBeNull();
    expect(sieveToRules("# Pillarbox rules: x\n# rule: " + "[".repeat(10000) + "\n")).toBeNull();
  });
});

describe("checking what the editor sends", () => {
  const ok = rule("ok", [{ field: "subject", op: "contains", value: "x" }], [{ type: "fileinto", value: "F" }]);
  const bad = (patch: Partial<Rule> | Record<string, unknown>, words: RegExp) => {
    expect(() => checkRuleSet({ rules: [{ ...ok, ...patch }] })).toThrow(words);
    try {
      checkRuleSet({ rules: [{ ...ok, ...patch }] });
    } catch (e) {
      expect(e).toBeInstanceOf(RuleError);
    }
  };

  test("bad input is refused in words", () => {
    expect(() => checkRuleSet(null)).toThrow(/could not be understood/);
    expect(() => checkRuleSet({ rules: "x" })).toThrow(/could not be understood/);
    expect(() => checkRuleSet({ rules: [ok, ok] })).toThrow(/same id/);
    expect(() => checkRuleSet({ rules: Array.from({ length: RULE_LIMITS.rules + 1 }, (_, i) => ({ ...ok, id: "r" + i })) })).toThrow(/At most 200 rules/);
    bad({ id: "bad id!" }, /bad id/);
    bad({ name: "   " }, /name is empty/);
    bad({ name: "x".repeat(101) }, /too long/);
    bad({ enabled: "yes" }, /enabled/);
    bad({ match: "some" }, /match must be/);
    bad({ conditions: [] }, /add a condition/);
    bad({ actions: [] }, /add an action/);
    bad({ conditions: [{ field: "subject", op: "contains", value: "" }] }, /value is empty/);
    bad({ conditions: [{ field: "subject", op: "contains", value: "a\u0000b" }] }, /not allowed/);
    bad({ conditions: [{ field: "subject", op: "contains", value: "a\ud800b" }] }, /not allowed/);
    bad({ conditions: [{ field: "subject", op: "contains", value: "x".repeat(1001) }] }, /too long/);
    bad({ conditions: [{ field: "header", header: "Bad Name:", op: "contains", value: "x" }] }, /header field name/);
    bad({ conditions: [{ field: "header", op: "contains", value: "x" }] }, /header field name/);
    bad({ conditions: [{ field: "size", op: "over", value: "1.5" }] }, /whole number of KB/);
    bad({ conditions: [{ field: "size", op: "contains", value: "1" }] }, /over or under/);
    bad({ conditions: [{ field: "spam-score", op: "over", value: "11" }] }, /1 to 10/);
    bad({ conditions: [{ field: "subject", op: "over", value: "1" }] }, /over or under/);
    bad({ conditions: [{ field: "body", op: "exists", value: "" }] }, /existence/);
    bad({ conditions: [{ field: "date", op: "is", value: "x" }] }, /unknown condition field/);
    bad({ conditions: Array.from({ length: 21 }, () => ({ field: "subject", op: "contains", value: "x" })) }, /at most 20 conditions/);
    bad({ actions: [{ type: "fileinto", value: "" }] }, /folder is empty/);
    bad({ actions: [{ type: "redirect", value: "not an address" }] }, /valid address/);
    bad({ actions: [{ type: "redirect", value: "a@b" }] }, /valid address/);
    bad({ actions: [{ type: "keyword", value: "two words" }] }, /one word/);
    bad({ actions: [{ type: "keyword", value: "\\Seen" }] }, /one word/);
    bad({ actions: [{ type: "stop" }, { type: "flag" }] }, /last action/);
    bad({ actions: [{ type: "reject", value: "no" }, { type: "fileinto", value: "F" }] }, /cannot be combined/);
    bad({ actions: [{ type: "execute" }] }, /unknown action/);
  });

  test("values are normalised: numbers as text, trimmed addresses, the header field kept only for header conditions", () => {
    const r = checkRuleSet({
      rules: [{ ...ok, conditions: [{ field: "size", op: "under", value: 5 }, { field: "subject", header: "X", op: "is", value: " keep spaces " }], actions: [{ type: "redirect", value: " a@b.example " }, { type: "discard", value: "ignored" }] }],
    });
    expect(r.rules[0]!.conditions).toEqual([{ field: "size", op: "under", value: "5" }, { field: "subject", op: "is", value: " keep spaces " }]);
    expect(r.rules[0]!.actions).toEqual([{ type: "redirect", value: "a@b.example" }, { type: "discard" }]);
  });
});

describe("seeded random rule sets", () => {
  /** A small deterministic generator (mulberry32), so a failure repeats. */
  function rng(seed: number) {
    return () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = seed;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const ALPHABET = ['a', 'Z', '0', ' ', '"', "\\", "*", "?", "$", "{", "}", ";", "#", "/", "é", "日", "🎉", "[", "]", ",", ":", "'"];

  test("300 sets of every kind compile, require only what they use, and read back as themselves; mutated scripts never throw", () => {
    const r = rng(19);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const str = (min = 1) => {
      let s = "";
      const n = min + Math.floor(r() * 12);
      for (let i = 0; i < n; i++) s += pick(ALPHABET);
      return s.trim() ? s : "x" + s;
    };
    const cond = (): RuleCondition => {
      const field = pick(["from", "to", "cc", "to-or-cc", "subject", "header", "body", "size", "spam-score"] as const);
      if (field === "size") return { field, op: pick(["over", "under"] as const), value: String(Math.floor(r() * 5000)) };
      if (field === "spam-score") return { field, op: pick(["over", "under"] as const), value: String(1 + Math.floor(r() * 10)) };
      const ops = field === "body" ? TEXT_OPS : ([...TEXT_OPS, "exists", "not-exists"] as const);
      const op = pick(ops);
      return { field, ...(field === "header" ? { header: pick(["X-Mailer", "List-Id", "X-Spam-Flag", "Received"]) } : {}), op, value: op.endsWith("exists") ? "" : str() };
    };
    const act = (): RuleAction => {
      const type = pick(["fileinto", "copyto", "redirect", "redirect-copy", "discard", "flag", "mark-read", "keyword"] as const);
      if (type === "fileinto" || type === "copyto") return { type, value: str() };
      if (type === "redirect" || type === "redirect-copy") return { type, value: pick(["a@b.example", "me+tag@phone.example", "x.y@sub.domain.example"]) };
      if (type === "keyword") return { type, value: pick(["$Work", "Later", "$label1", "todo"]) };
      return { type };
    };
    for (let n = 0; n < 300; n++) {
      const rules: Rule[] = [];
      const count = Math.floor(r() * 5);
      for (let i = 0; i < count; i++) {
        const match = pick(["all", "any", "always"] as const);
        const actions = Array.from({ length: 1 + Math.floor(r() * 3) }, act);
        if (r() < 0.2) actions.push({ type: "stop" });
        if (r() < 0.05) actions.splice(0, actions.length, { type: "reject", value: str() + "\n" + str() });
        rules.push({ id: `r${n}_${i}`, name: str().trim() || "n", enabled: r() < 0.8, match, conditions: match === "always" ? [] : Array.from({ length: 1 + Math.floor(r() * 3) }, cond), actions });
      }
      const set = checkRuleSet({ rules });
      const text = rulesToSieve(set);
      const c = compile(text);
      if (!c.ok) throw new Error(`set ${n} does not compile: ${JSON.stringify(c.errors)}\n${text}`);
      const used = new Set<string>();
      for (const rl of set.rules.filter((x) => x.enabled)) {
        for (const a of rl.actions) {
          if (a.type === "fileinto" || a.type === "copyto") used.add("fileinto");
          if (a.type === "copyto" || a.type === "redirect-copy") used.add("copy");
          if (a.type === "reject") used.add("reject");
          if (a.type === "flag" || a.type === "mark-read" || a.type === "keyword") used.add("imap4flags");
        }
        for (const cd of rl.match === "always" ? [] : rl.conditions) {
          if (cd.field === "body") used.add("body");
          if (cd.field === "spam-score") ["spamtest", "relational", "comparator-i;ascii-numeric"].forEach((x) => used.add(x));
        }
      }
      expect([...c.script.requires].sort()).toEqual([...used].sort());
      expect(sieveToRules(text)).toEqual(set);
      // A random one-character change: null or a rule set, never an exception.
      const at = Math.floor(r() * text.length);
      const mutated = text.slice(0, at) + pick(ALPHABET) + text.slice(at + 1);
      const back = sieveToRules(mutated);
      if (back) expect(rulesToSieve(back)).toBe(mutated);
    }
  });
});
