/**
 * The Sieve front end (src/sieve/lexer.ts, parse.ts, validate.ts, compile.ts):
 * valid scripts of every extension compile to the contract's tree, malformed
 * ones fail with the right line and words, and hostile inputs (deep nesting,
 * huge scripts, invalid UTF-8, number overflow) fail cleanly and quickly.
 */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { compile, formatSieveError } from "../../src/sieve/compile.ts";
import type { CompiledScript, SieveCommand, SieveTest } from "../../src/sieve/types.ts";
import { INVALID, VALID } from "./parse-cases.ts";

function ok(text: string | Uint8Array): CompiledScript {
  const r = compile(text);
  if (!r.ok) throw new Error(`did not compile: ${r.errors.map(formatSieveError).join("; ")}`);
  return r.script;
}

function err(text: string | Uint8Array, opts?: Parameters<typeof compile>[1]): { line: number; message: string } {
  const r = compile(text, opts);
  if (r.ok) throw new Error("compiled, but an error was expected");
  expect(r.errors.length).toBeGreaterThan(0);
  return r.errors[0]!;
}

/** The first command after the require lines. */
function first(s: CompiledScript): SieveCommand {
  return s.commands.find((c) => c.name !== "require")!;
}

function testOf(s: CompiledScript): SieveTest {
  return first(s).test!;
}

describe("valid scripts compile", () => {
  for (const c of VALID) {
    test(c.name, () => {
      const r = compile(c.script);
      if (!r.ok) throw new Error(r.errors.map(formatSieveError).join("; "));
      expect(r.ok).toBe(true);
    });
  }
});

describe("malformed scripts fail with the line and the reason", () => {
  for (const c of INVALID) {
    test(c.name, () => {
      const e = err(c.script);
      expect(e.message).toMatch(c.error!);
      expect(e.line).toBe(c.line!);
      // the words stand on their own; formatSieveError adds the line
      expect(e.message).not.toMatch(/^line \d/);
      expect(formatSieveError(e)).toBe(`line ${c.line}: ${e.message}`);
    });
  }
});

describe("the tree", () => {
  test("require, tags, positional arguments and blocks", () => {
    const s = ok('require ["fileinto", "copy", "imap4flags"];\nif header :contains ["Subject"] "invoice" {\n  fileinto :copy :flags "\\\\Seen" "Accounts";\n  stop;\n}\n');
    expect([...s.requires].sort()).toEqual(["copy", "fileinto", "imap4flags"]);
    expect(s.commands.map((c) => c.name)).toEqual(["require", "if"]);
    const iff = first(s);
    expect(iff.line).toBe(2);
    expect(iff.test).toEqual({
      name: "header",
      match: { type: "contains" },
      tags: {},
      args: [
        { kind: "list", values: ["Subject"], line: 2 },
        { kind: "list", values: ["invoice"], line: 2 },
      ],
      tests: [],
      line: 2,
    });
    const [fi, stop] = iff.block!;
    expect(fi).toEqual({ name: "fileinto", tags: { copy: true, flags: ["\\Seen"] }, args: [{ kind: "string", value: "Accounts", line: 3 }], test: null, block: null, line: 3 });
    expect(stop!.name).toBe("stop");
  });

  test("comparator, relational match and address part go to their own fields", () => {
    const s = ok('require ["relational", "comparator-i;ascii-numeric", "subaddress"];\nif address :COMPARATOR "I;ASCII-NUMERIC" :value "ge" :user "to" "5" { keep; }');
    const t = testOf(s);
    expect(t.comparator).toBe("i;ascii-numeric");
    expect(t.match).toEqual({ type: "value", relation: "ge" });
    expect(t.addressPart).toBe("user");
    expect(t.tags).toEqual({});
  });

  test("deleteheader keeps its comparator and match type as tags", () => {
    const s = ok('require ["editheader", "relational"];\ndeleteheader :index 2 :last :comparator "i;octet" :value "lt" "X-A" ["1", "2"];');
    expect(first(s).tags).toEqual({ index: 2, last: true, comparator: "i;octet", value: "lt" });
    expect(first(s).args.map((a) => a.kind)).toEqual(["string", "list"]);
  });

  test("other test tags", () => {
    expect(testOf(ok('require ["body"]; if body :content "text" :contains "x" { keep; }')).tags).toEqual({ content: ["text"] });
    expect(testOf(ok('require ["date", "index"]; if date :index 2 :last :zone "-0500" "date" "hour" "09" { keep; }')).tags).toEqual({ index: 2, last: true, zone: "-0500" });
    expect(testOf(ok('require ["date"]; if date :originalzone "date" "hour" "09" { keep; }')).tags).toEqual({ originalzone: true });
    expect(testOf(ok('require ["spamtestplus"]; if spamtest :percent "50" { keep; }')).tags).toEqual({ percent: true });
    expect(testOf(ok('require ["duplicate"]; if duplicate :handle "h" :header "Message-ID" :seconds 60 :last { keep; }')).tags).toEqual({ handle: "h", header: "Message-ID", seconds: 60, last: true });
    expect(testOf(ok("if size :over 10K { keep; }")).tags).toEqual({ over: 10 * 1024 });
  });

  test("set modifiers, vacation tags, optional leading arguments", () => {
    expect(first(ok('require "variables"; set :lower :upperfirst :quotewildcard :length "a" "b";')).tags).toEqual({ lower: true, upperfirst: true, quotewildcard: true, length: true });
    const vac = first(ok('require ["vacation", "vacation-seconds"]; vacation :seconds 60 :subject "S" :from "a@b.c" :addresses "x@y.z" :mime :handle "h" "R";'));
    expect(vac.tags).toEqual({ seconds: 60, subject: "S", from: "a@b.c", addresses: ["x@y.z"], mime: true, handle: "h" });
    const two = first(ok('require ["imap4flags", "variables"]; addflag "v" ["a", "b"];'));
    expect(two.args).toEqual([
      { kind: "string", value: "v", line: 1 },
      { kind: "list", values: ["a", "b"], line: 1 },
    ]);
    const one = first(ok('require ["imap4flags"]; addflag "a";'));
    expect(one.args).toEqual([{ kind: "list", values: ["a"], line: 1 }]);
    const has = testOf(ok('require ["imap4flags"]; if hasflag :contains "a" { keep; }'));
    expect(has.args).toEqual([{ kind: "list", values: ["a"], line: 1 }]);
  });

  test("numbers with quantifiers", () => {
    expect(testOf(ok("if size :over 1k { keep; }")).tags.over).toBe(1024);
    expect(testOf(ok("if size :over 3M { keep; }")).tags.over).toBe(3 * 1024 * 1024);
    expect(testOf(ok("if size :over 4G { keep; }")).tags.over).toBe(4 * 1024 ** 3);
    expect(testOf(ok("if size :over 007 { keep; }")).tags.over).toBe(7);
  });

  test("quoted strings: \\\\ and \\\" escape, other backslashes are dropped", () => {
    const t = testOf(ok('if header :is "s" "a\\"b\\\\c\\d\\*" { keep; }'));
    expect(t.args[1]).toEqual({ kind: "list", values: ['a"b\\cd*'], line: 1 });
  });

  test("line ends in strings become CRLF", () => {
    const t = testOf(ok('if header :is "s" "one\ntwo\r\nthree" { keep; }'));
    expect((t.args[1] as { values: string[] }).values[0]).toBe("one\r\ntwo\r\nthree");
  });

  test("text: strings: dot-unstuffing, comment after text:, LF and CRLF, line numbers after it", () => {
    for (const nl of ["\n", "\r\n"]) {
      const src = ["require \"reject\";", "reject text: # reason", "Line one", "..leading dot", "...", "", ".", ";", "keep;"].join(nl);
      const s = ok(src);
      const rej = first(s);
      expect(rej.args[0]).toEqual({ kind: "string", value: "Line one\r\n.leading dot\r\n..\r\n\r\n", line: 2 });
      expect(s.commands[2]!.line).toBe(9);
    }
    expect((first(ok('require "reject"; reject text:\n.\n;')).args[0] as { value: string }).value).toBe("");
  });

  test("error lines count text: strings and bracket comments", () => {
    expect(err('/* one\ntwo\nthree */\nreject text:\na\nb\n.\n;\nfoo;').line).toBe(4);
    expect(err('require "reject";\nreject text:\na\nb\n.\n;\nfoo;').line).toBe(7);
    expect(err('keep;\n/* a\nb */ foo;').line).toBe(3);
  });

  test("encoded-character is decoded only when required", () => {
    const on = testOf(ok('require "encoded-character"; if header :is "s" "${hex:48 69}${unicode:1F600} ${hex: 4a }" { keep; }'));
    expect((on.args[1] as { values: string[] }).values[0]).toBe("Hi😀 J");
    const off = testOf(ok('if header :is "s" "${hex:48 69}" { keep; }'));
    expect((off.args[1] as { values: string[] }).values[0]).toBe("${hex:48 69}");
  });

  test("validation reports every mistake in script order, at most 20", () => {
    const r = compile('require "fileinto";\nfileinto :copy "x";\nif hedaer "a" "b" { keep; }\nelse { keep; }\nif true { frob; }\nelsif true { keep; }\nkeep;\nelsif true { keep; }');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map(formatSieveError)).toEqual([
      'line 2: the tag :copy needs require "copy"',
      'line 3: unknown test "hedaer"',
      'line 5: unknown command "frob"',
      "line 8: elsif must follow an if or elsif command",
    ]);
    // an unsupported extension does not make the supported ones of the same require count as missing
    const req = compile('require ["regex", "fileinto"];\nfileinto "x";');
    expect(req.ok ? [] : req.errors.map(formatSieveError)).toEqual(["line 1: extension regex is not supported"]);
    const many = compile("frob;\n".repeat(100));
    expect(many.ok ? 0 : many.errors.length).toBe(20);
    // a syntax error stops at the first
    const syn = compile("keep\nfrob;\nstop");
    expect(syn.ok ? 0 : syn.errors.length).toBe(1);
  });

  test("digest and size are over the UTF-8 octets", () => {
    const src = 'if header :contains "subject" "é" { discard; }';
    const s = ok(src);
    const octets = new TextEncoder().encode(src);
    expect(s.size).toBe(octets.length);
    expect(s.digest).toBe(createHash("sha256").update(octets).digest("hex"));
    const fromBytes = ok(octets);
    expect(fromBytes.digest).toBe(s.digest);
  });

  test("the same source compiles to the same tree", () => {
    const src = VALID.map((c) => c.script).find((x) => x.includes("vacation :days 7"))!;
    expect(JSON.stringify(ok(src).commands)).toBe(JSON.stringify(ok(src).commands));
  });
});

describe("hostile and malformed input", () => {
  test("invalid UTF-8 octets are an error with their line", () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('keep;\nif header "s" "'), 0xc3, 0x28, ...new TextEncoder().encode('" { keep; }')]);
    const e = err(bytes);
    expect(e.line).toBe(2);
    expect(e.message).toMatch(/not valid UTF-8/);
    expect(err(new Uint8Array([0x6b, 0x65, 0x65, 0x70, 0x3b, 0x0a, 0x0a, 0xff])).line).toBe(3);
  });

  test("NUL is refused in strings, text: strings and comments (RFC 5228 §8.1)", () => {
    expect(err('keep;\nif header "s" "a\u0000b" { keep; }')).toEqual({ line: 2, message: "a NUL character is not allowed in a string" });
    expect(err('require "reject";\nreject text:\nok\nbad\u0000\n.\n;').line).toBe(4);
    expect(err("keep; # a\u0000\n").message).toMatch(/in a comment/);
    expect(err("keep; /* \n\u0000 */").line).toBe(2);
  });

  test("a string with an unpaired surrogate is refused", () => {
    expect(err('keep;\nif header "s" "\ud800" { keep; }').line).toBe(2);
  });

  test("10,000-deep nesting fails cleanly at the nesting limit", () => {
    const deep = "if true {\n".repeat(10_000) + "keep;\n" + "}\n".repeat(10_000);
    const e = err(deep);
    expect(e.message).toMatch(/nested too deeply \(more than 32 levels\)/);
    expect(e.line).toBe(33);
    const notNot = "if " + "not ".repeat(10_000) + "true { keep; }";
    expect(err(notNot).message).toMatch(/nested too deeply/);
    const anyof = "if " + "anyof(".repeat(10_000) + "true" + ")".repeat(10_000) + " { keep; }";
    expect(err(anyof).message).toMatch(/nested too deeply/);
  });

  test("nesting within the limit compiles; the limit is configurable", () => {
    const depth = (n: number) => "if true {".repeat(n) + "keep;" + "}".repeat(n);
    expect(compile(depth(31)).ok).toBe(true);
    expect(compile(depth(5), { limits: { maxNesting: 4 } }).ok).toBe(false);
    expect(compile(depth(4), { limits: { maxNesting: 4 } }).ok).toBe(true);
  });

  test("50,000 lines that look nested error cleanly", () => {
    const lines = "if anyof(true,\n".repeat(50_000);
    const e = err(lines, { limits: { maxScriptBytes: 10 * 1024 * 1024 } });
    expect(e.message).toMatch(/nested too deeply/);
  });

  test("a 10 MB script is refused by size before it is parsed", () => {
    const big = "keep;\n".repeat(10 * 1024 * 1024 / 6);
    const e = err(big);
    expect(e.message).toMatch(/more than the limit of 262144/);
    const bytes = new Uint8Array(10 * 1024 * 1024).fill(0x20);
    expect(err(bytes).message).toMatch(/octets, more than the limit/);
    // the octet count, not the UTF-16 length: 100,000 "é" is 200,000 octets
    expect(compile('if header "s" "' + "é".repeat(140_000) + '" { keep; }').ok).toBe(false);
  });

  test("a script just under 256 KB compiles", () => {
    const rule = 'if header :contains "subject" "word" { discard; }\n';
    const src = 'require "fileinto";\n' + rule.repeat(Math.floor((256 * 1024 - 30) / rule.length));
    const s = ok(src);
    expect(s.commands.length).toBeGreaterThan(4000);
  });

  test("an offered-extensions list narrows what require accepts", () => {
    expect(err('require "vacation";', { extensions: ["fileinto"] }).message).toMatch(/extension vacation is not supported/);
    expect(compile('require "fileinto"; fileinto "x";', { extensions: ["fileinto"] }).ok).toBe(true);
  });

  test("messages quote at most a short, single-line piece of the script", () => {
    const long = "x".repeat(5000);
    for (const src of [`${long};`, `if ${long} { keep; }`, `keep :${long};`, 'require "variables"; set "a\r\nb' + long + '" "v";', `redirect "${long}\n";`, `if header "a" :x${long} "b" { keep; }`]) {
      const e = err(src);
      expect(e.message.length).toBeLessThan(200);
      expect(e.message).not.toMatch(/[\r\n]/);
    }
  });

  test("number overflow", () => {
    // RFC 5228 §2.4.1 asks for 31 bits; like Pigeonhole, up to 2^64-1 is taken
    expect(compile("if size :over 18446744073709551615 { keep; }").ok).toBe(true);
    expect(compile("if size :over 17179869183G { keep; }").ok).toBe(true);
    expect(err("if size :over 18446744073709551616 { keep; }").message).toMatch(/too large/);
    expect(err("if size :over 17179869184G { keep; }").message).toMatch(/too large \(the largest is 18446744073709551615\)/);
    expect(err("if size :over 16777216T { keep; }").message).toMatch(/invalid number/);
  });
});
