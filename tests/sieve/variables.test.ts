/**
 * RFC 5229 variables (src/sieve/variables.ts): "${...}" expansion, the set
 * modifiers and their precedence, and the per-run bounds. The expansion and
 * modifier answers were checked against Pigeonhole's sieve-test.
 */
import { describe, expect, test } from "bun:test";
import {
  applySetModifiers,
  checkVariableCount,
  expandVariables,
  isValidVariableName,
  quoteWildcard,
  SieveVariableError,
  truncateUtf8,
  VariableScope,
} from "../../src/sieve/variables.ts";
import { matchValues } from "../../src/sieve/match.ts";

const vars: Record<string, string> = { a: "Ab", b: "x*?\\", uni: "éÉçÇ", env: "E" };
const lookup = (n: string) => vars[n.toLowerCase()];
const m = ["hello world", "hello", "world"];
const ex = (s: string) => expandVariables(s, lookup, m);

describe("expansion (RFC 5229 §3)", () => {
  test("names are case-insensitive; unset names are empty", () => {
    expect(ex("${a}|${A}|${unknown}|${_}")).toBe("Ab|Ab||");
  });

  test("match variables, leading zeros allowed, beyond the groups empty", () => {
    expect(ex("${0}|${1}|${2}|${3}|${01}|${0010}|${10}")).toBe("hello world|hello|world||hello||");
  });

  test("what is not a reference stays as written", () => {
    expect(ex("${a")).toBe("${a");
    expect(ex("${}")).toBe("${}");
    expect(ex("${ a }")).toBe("${ a }");
    expect(ex("${1a}")).toBe("${1a}");
    expect(ex("$${a}")).toBe("$Ab");
    expect(ex("${a-b}")).toBe("${a-b}");
    expect(ex("no refs")).toBe("no refs");
  });

  test("one pass, left to right: an inner reference expands, the result is not expanded again", () => {
    expect(ex("${${a}}")).toBe("${Ab}");
    const self = { x: "${x}${x}" };
    expect(expandVariables("${x}", (n) => self[n as "x"], [])).toBe("${x}${x}");
  });

  test("namespaced names only when the lookup knows them", () => {
    expect(ex("${env.x}")).toBe("${env.x}");
    expect(expandVariables("${env.x}", (n) => (n === "env.x" ? "known" : undefined), [])).toBe("known");
  });

  test("substituted values are cut to maxBytes on a character boundary", () => {
    expect(expandVariables("[${v}]", () => "aé😀", [], 4)).toBe("[aé]");
  });
});

describe("set modifiers (RFC 5229 §4.1)", () => {
  test("each modifier", () => {
    expect(applySetModifiers("Ab", { lower: true })).toBe("ab");
    expect(applySetModifiers("abC", { upper: true })).toBe("ABC");
    expect(applySetModifiers("ABC", { lowerfirst: true })).toBe("aBC");
    expect(applySetModifiers("abc", { upperfirst: true })).toBe("Abc");
    expect(applySetModifiers("x*?\\", { quotewildcard: true })).toBe("x\\*\\?\\\\");
    expect(applySetModifiers("éÉçÇ", { length: true })).toBe("4");
    expect(applySetModifiers("😀x", { length: true })).toBe("2");
    expect(applySetModifiers("", { length: true })).toBe("0");
  });

  test("case changes touch ASCII letters only, as Pigeonhole does", () => {
    expect(applySetModifiers("éÉçÇa", { upper: true })).toBe("éÉçÇA");
    expect(applySetModifiers("éÉçÇA", { lower: true })).toBe("éÉçÇa");
  });

  test("precedence: case 40, first-letter 30, quotewildcard 20, length 10", () => {
    expect(applySetModifiers("abc", { upper: true, lowerfirst: true })).toBe("aBC");
    expect(applySetModifiers("hELLO", { upperfirst: true, lower: true })).toBe("Hello");
    expect(applySetModifiers("x*?\\", { length: true, quotewildcard: true })).toBe("7");
    expect(applySetModifiers("a*b", { quotewildcard: true, upper: true })).toBe("A\\*B");
  });

  test("modifiers as names, with or without the colon", () => {
    expect(applySetModifiers("abc", [":upper", "length"])).toBe("3");
    expect(applySetModifiers("abc", ["upperfirst"])).toBe("Abc");
  });

  test(":quotewildcard makes a value match itself literally under :matches", () => {
    const v = "50% off *today*?";
    expect(matchValues([v], [quoteWildcard(v)], "i;octet", { type: "matches" })).toBe(true);
    expect(matchValues(["50% off XtodayX!"], [quoteWildcard(v)], "i;octet", { type: "matches" })).toBe(false);
  });
});

describe("names and bounds", () => {
  test("variable names (RFC 5229 §3)", () => {
    for (const ok of ["a", "_", "A_1", "abc_DEF_123"]) expect(isValidVariableName(ok)).toBe(true);
    for (const bad of ["", "1a", "a-b", "a.b", "a b", "é"]) expect(isValidVariableName(bad)).toBe(false);
  });

  test("truncateUtf8 never splits a character", () => {
    expect(truncateUtf8("aé😀b", 1)).toBe("a");
    expect(truncateUtf8("aé😀b", 2)).toBe("a");
    expect(truncateUtf8("aé😀b", 3)).toBe("aé");
    expect(truncateUtf8("aé😀b", 6)).toBe("aé");
    expect(truncateUtf8("aé😀b", 7)).toBe("aé😀");
    expect(truncateUtf8("aé😀b", 100)).toBe("aé😀b");
    expect(new TextEncoder().encode(truncateUtf8("é".repeat(5000), 4096)).length).toBe(4096);
  });

  test("a scope: case-insensitive, values truncated, a variable count limit", () => {
    const s = new VariableScope(3, 8);
    s.set("One", "1234567890");
    expect(s.get("ONE")).toBe("12345678");
    s.set("two", "2");
    s.set("three", "3");
    s.set("one", "again");
    expect(() => s.set("four", "4")).toThrow(SieveVariableError);
    expect(() => s.set("four", "4")).toThrow(/too many variables: at most 3/);
    s.setMatches(["whole", "g1"]);
    expect(s.expand("${one}-${1}-${2}-${TWO}")).toBe("again-g1--2");
    expect(() => checkVariableCount(255, 256)).not.toThrow();
    expect(() => checkVariableCount(256, 256)).toThrow(SieveVariableError);
  });
});
