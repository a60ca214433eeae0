/**
 * Fuzz target for the Sieve front end (src/sieve/compile.ts: lexer, parser,
 * validator): any octets either compile or give a clean error list (a line
 * within the script, words, nothing thrown); a script that compiles compiles
 * again to the same tree and digest; and the matcher (src/sieve/match.ts)
 * answers every value/key/match type without throwing. Seeds are the parser
 * test scripts (tests/sieve/parse-cases.ts).
 */
import fc from "fast-check";
import { compile } from "../../../src/sieve/compile.ts";
import { matchValues } from "../../../src/sieve/match.ts";
import { expandVariables } from "../../../src/sieve/variables.ts";
import type { SieveTest } from "../../../src/sieve/types.ts";
import { INVALID, VALID } from "../../sieve/parse-cases.ts";
import type { FuzzTarget } from "./engine.ts";

const enc = new TextEncoder();
// keeps a byte-order mark, as compile() sees it
const dec = new TextDecoder("utf-8", { ignoreBOM: true });
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(`invariant: ${msg}`);
}

function lineCount(input: Uint8Array): number {
  let n = 1;
  for (const b of input) if (b === 10) n++;
  return n;
}

function compileRun(input: Uint8Array): void {
  const r = compile(input, { limits: { maxScriptBytes: 64 * 1024 } });
  if (!r.ok) {
    assert(r.errors.length > 0, "a failed compile without errors");
    for (const e of r.errors) {
      assert(Number.isInteger(e.line) && e.line >= 1 && e.line <= lineCount(input), `error line ${e.line} outside the script`);
      assert(typeof e.message === "string" && e.message.length > 0 && e.message.length < 2000, "error without words");
    }
    return;
  }
  assert(r.script.size === input.length, "size is not the octet count");
  const again = compile(dec.decode(input), { limits: { maxScriptBytes: 64 * 1024 } });
  assert(again.ok, "compiles from octets but not from the same text");
  if (again.ok) {
    assert(again.script.digest === r.script.digest, "digest differs between octets and text");
    assert(JSON.stringify(again.script.commands) === JSON.stringify(r.script.commands), "the tree differs between two compiles");
  }
  // every value the interpreter will see is well-formed
  JSON.stringify(r.script.commands, (_k, v) => {
    if (typeof v === "string") assert(!LONE_SURROGATE.test(v), "a string in the tree is not well-formed");
    return v;
  });
}

/** Script-shaped inputs: tokens of the language glued in random order. */
const TOKENS = [
  "require", '"fileinto"', '"variables"', '["copy", "relational", "imap4flags"]', "if", "elsif", "else", "not", "anyof", "allof",
  "header", "address", "envelope", "exists", "size", "body", "string", "date", "currentdate", "hasflag", "duplicate", "spamtest",
  "keep", "discard", "stop", "fileinto", "redirect", "reject", "set", "vacation", "addflag", "addheader", "deleteheader",
  ":is", ":contains", ":matches", ":value", ":count", '"gt"', ":comparator", '"i;ascii-numeric"', ":over", ":under", ":index", ":last",
  ":copy", ":create", ":flags", ":days", ":lower", ":length", ":zone", '"+0100"', "1", "10K", "4G", "99999999999999999",
  "{", "}", "(", ")", "[", "]", ",", ";", " ", "\n", "\r\n", "#c\n", "/* c */", '"subject"', '"a*b?c"', '"${1}"', '"${hex:41}"',
  '"\\\\"', '"\\""', "text:\n..x\n.\n", "text: #x\r\nline\r\n.\r\n", '"\u00e9"', '"unterminated', "/* open",
];
const scriptArb = fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }).map((a) => enc.encode(a.join(" ")));

export const SIEVE_COMPILE_TARGET: FuzzTarget = {
  name: "sieve-compile",
  seeds: [...VALID, ...INVALID].map((c) => enc.encode(c.script)),
  run: compileRun,
  arbitrary: scriptArb,
  maxLen: 16384,
};

const MATCH_TYPES: NonNullable<SieveTest["match"]>[] = [
  { type: "is" },
  { type: "contains" },
  { type: "matches" },
  { type: "value", relation: "ge" },
  { type: "count", relation: "lt" },
];
const COMPARATORS = ["i;octet", "i;ascii-casemap", "i;ascii-numeric", "i;unicode-casemap"];

/** The matcher and variable expansion over arbitrary text: split the input into value, key and template. */
function matchRun(input: Uint8Array): void {
  const text = dec.decode(input);
  const [value = "", key = "", tpl = ""] = text.split("\u0000");
  const sel = input.length ? input[0]! : 0;
  const match = MATCH_TYPES[sel % MATCH_TYPES.length]!;
  const comparator = COMPARATORS[(sel >> 3) % COMPARATORS.length]!;
  let groups: string[] | null = null;
  const r = matchValues([value, value.slice(1)], [key], comparator, match, (g) => (groups = g));
  assert(typeof r === "boolean", "no boolean");
  if (match.type === "matches") assert(r === (groups !== null), "a match without groups");
  const out = expandVariables(tpl, (n) => (n.length % 2 ? value : undefined), groups ?? [], 1024);
  assert(out.length <= tpl.length + 11 * 1024 * Math.max(1, (tpl.match(/\$\{/g) ?? []).length), "expansion grew without bound");
}

const matchArb = fc
  .tuple(fc.integer({ min: 0, max: 255 }), fc.string({ maxLength: 40 }), fc.stringMatching(/^[a-c*?\\]{0,12}$/), fc.string({ maxLength: 30 }))
  .map(([sel, v, k, t]) => Uint8Array.from([sel, ...enc.encode(`${v}\u0000${k}\u0000${t}\${1}\${a}`)]));

export const SIEVE_MATCH_TARGET: FuzzTarget = {
  name: "sieve-match",
  seeds: [
    [2, "hello world\u0000*o w*\u0000[${1}]"],
    [10, "Lists <l@example.org>\u0000*<*@*>\u0000${0}${2}"],
    [3, "10\u00009\u0000x"],
    [4, "a\u0000*\u0000${${a}}"],
    [26, "ÉCOLE\u0000é*\u0000${unknown.ns}"],
  ].map(([sel, s]) => Uint8Array.from([sel as number, ...enc.encode(s as string)])),
  run: matchRun,
  arbitrary: matchArb,
  maxLen: 4096,
};

export const SIEVE_TARGETS: FuzzTarget[] = [SIEVE_COMPILE_TARGET, SIEVE_MATCH_TARGET];
