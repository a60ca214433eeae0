/**
 * Sieve parser (RFC 5228 §2.9, §8.2 grammar): tokens -> a raw tree of
 * commands and tests with their arguments as written. ./validate.ts checks it
 * against the command/test signatures. Nesting is bounded while parsing
 * (limits.maxNesting) so a hostile script cannot exhaust the stack.
 */
import type { SieveArg } from "./types.ts";
import { SieveSyntaxError, shown, tokenize, type Token } from "./lexer.ts";

export interface RawTest {
  name: string;
  args: SieveArg[];
  /** Sub-tests: a single test or a parenthesised test-list. */
  tests: RawTest[];
  /** True when the sub-tests were written as "( ... )". */
  testList: boolean;
  line: number;
}

export interface RawCommand {
  name: string;
  args: SieveArg[];
  tests: RawTest[];
  testList: boolean;
  /** "{ ... }" block, or null when the command ended with ";". */
  block: RawCommand[] | null;
  line: number;
}

/** Parse a script into raw commands. Throws SieveSyntaxError. */
export function parseScript(src: string, maxNesting: number): RawCommand[] {
  return new Parser(tokenize(src), maxNesting).script();
}

class Parser {
  private pos = 0;
  constructor(
    private readonly toks: Token[],
    private readonly maxNesting: number,
  ) {}

  private peek(): Token {
    return this.toks[this.pos]!;
  }

  private isPunct(v: string): boolean {
    const t = this.peek();
    return t.t === "punct" && t.v === v;
  }

  script(): RawCommand[] {
    const cmds = this.commands(0);
    const t = this.peek();
    if (t.t !== "eof") throw new SieveSyntaxError(t.line, `unexpected ${describe(t)}: a '}' without a matching '{'`);
    return cmds;
  }

  private commands(depth: number): RawCommand[] {
    const out: RawCommand[] = [];
    for (;;) {
      const t = this.peek();
      if (t.t === "eof" || (t.t === "punct" && t.v === "}")) return out;
      out.push(this.command(depth));
    }
  }

  private command(depth: number): RawCommand {
    const t = this.peek();
    if (t.t !== "ident") throw new SieveSyntaxError(t.line, `expected a command name but found ${describe(t)}`);
    this.pos++;
    const name = t.v;
    const { args, tests, testList } = this.arguments(name, "command", depth);
    const end = this.peek();
    if (end.t === "punct" && end.v === ";") {
      this.pos++;
      return { name, args, tests, testList, block: null, line: t.line };
    }
    if (end.t === "punct" && end.v === "{") {
      if (depth + 1 > this.maxNesting) throw new SieveSyntaxError(end.line, `blocks are nested too deeply (more than ${this.maxNesting} levels)`);
      this.pos++;
      const block = this.commands(depth + 1);
      const close = this.peek();
      if (!(close.t === "punct" && close.v === "}")) throw new SieveSyntaxError(close.line, `expected '}' to close the block of the ${shown(name)} command on line ${end.line}`);
      this.pos++;
      return { name, args, tests, testList, block, line: t.line };
    }
    throw new SieveSyntaxError(end.line, `expected ';' after the ${shown(name)} command but found ${describe(end)}`);
  }

  /** arguments = *argument [ test / test-list ] (RFC 5228 §8.2). */
  private arguments(owner: string, kind: "command" | "test", depth: number): { args: SieveArg[]; tests: RawTest[]; testList: boolean } {
    const args: SieveArg[] = [];
    for (;;) {
      const t = this.peek();
      if (t.t === "string") {
        this.pos++;
        args.push({ kind: "string", value: t.v, line: t.line });
      } else if (t.t === "number") {
        this.pos++;
        args.push({ kind: "number", value: t.v, line: t.line });
      } else if (t.t === "tag") {
        this.pos++;
        args.push({ kind: "tag", name: t.v, line: t.line });
      } else if (t.t === "punct" && t.v === "[") {
        args.push(this.stringList(owner));
      } else break;
    }
    const t = this.peek();
    if (t.t === "ident") {
      if (depth + 1 > this.maxNesting) throw new SieveSyntaxError(t.line, `tests are nested too deeply (more than ${this.maxNesting} levels)`);
      return { args, tests: [this.test(depth + 1)], testList: false };
    }
    if (t.t === "punct" && t.v === "(") {
      if (depth + 1 > this.maxNesting) throw new SieveSyntaxError(t.line, `tests are nested too deeply (more than ${this.maxNesting} levels)`);
      this.pos++;
      const tests: RawTest[] = [];
      for (;;) {
        tests.push(this.test(depth + 1));
        const sep = this.peek();
        if (sep.t === "punct" && sep.v === ",") {
          this.pos++;
          continue;
        }
        if (sep.t === "punct" && sep.v === ")") {
          this.pos++;
          break;
        }
        throw new SieveSyntaxError(sep.line, `expected ',' or ')' in the test list of ${shown(owner)} but found ${describe(sep)}`);
      }
      return { args, tests, testList: true };
    }
    void kind;
    return { args, tests: [], testList: false };
  }

  private test(depth: number): RawTest {
    const t = this.peek();
    if (t.t !== "ident") throw new SieveSyntaxError(t.line, `expected a test name but found ${describe(t)}`);
    this.pos++;
    const { args, tests, testList } = this.arguments(t.v, "test", depth);
    return { name: t.v, args, tests, testList, line: t.line };
  }

  private stringList(owner: string): SieveArg {
    const open = this.peek();
    this.pos++;
    const values: string[] = [];
    for (;;) {
      const s = this.peek();
      if (s.t !== "string") throw new SieveSyntaxError(s.line, `expected a string in the list of ${shown(owner)} but found ${describe(s)}`);
      this.pos++;
      values.push(s.v);
      const sep = this.peek();
      if (sep.t === "punct" && sep.v === ",") {
        this.pos++;
        continue;
      }
      if (sep.t === "punct" && sep.v === "]") {
        this.pos++;
        return { kind: "list", values, line: open.line };
      }
      throw new SieveSyntaxError(sep.line, `expected ',' or ']' in a string list but found ${describe(sep)}`);
    }
  }
}

function describe(t: Token): string {
  switch (t.t) {
    case "eof":
      return "the end of the script";
    case "ident":
      return `"${shown(t.v)}"`;
    case "tag":
      return `tag :${shown(t.v)}`;
    case "number":
      return `number ${t.v}`;
    case "string":
      return "a string";
    case "punct":
      return `'${t.v}'`;
  }
}
