/**
 * Sieve validator: raw tree (./parse.ts) -> the contract's SieveCommand /
 * SieveTest (./types.ts). Checks `require` placement (RFC 5228 §3.2), that
 * every command, test and tag is known and its extension required, tag
 * conflicts, argument counts and types, if/elsif/else chaining, and the
 * constant parts of arguments (comparator names, relations, date parts, zones,
 * header field names, variable names).
 */
import type { SieveArg, SieveCommand, SieveError, SieveTest } from "./types.ts";
import { SieveSyntaxError, shown } from "./lexer.ts";
import type { RawCommand, RawTest } from "./parse.ts";
import {
  ADDRESS_PART_TAGS,
  BUILTIN_COMPARATORS,
  COMMANDS,
  COMPARATOR_TAG,
  INDEX_TAGS,
  KNOWN_COMPARATORS,
  MATCH_TAGS,
  RELATIONS,
  TESTS,
  UNSUPPORTED_TAGS,
  type ArgType,
  type Signature,
  type TagSpec,
} from "./validate-sigs.ts";
import { decodeEncodedCharacters } from "./encoded.ts";
import { checkCommandValues, checkNamespaces, checkTestValues } from "./validate-values.ts";

export { isFieldName, isMailAddress } from "./validate-values.ts";

type Tags = Record<string, true | string | number | string[]>;

export interface ValidateResult {
  requires: Set<string>;
  commands: SieveCommand[];
  warnings: SieveError[];
  /** Errors found, in script order (validation goes on after one, like Pigeonhole, up to MAX_ERRORS); empty when it is valid. */
  errors: SieveError[];
}

/** Errors collected before validation stops. */
export const MAX_ERRORS = 20;

class TooManyErrors extends Error {}

/** Validate a parsed script. `available` = the extensions this server offers. */
export function validateScript(raw: RawCommand[], available: ReadonlySet<string>): ValidateResult {
  const v = new Validator(available);
  let commands: SieveCommand[] = [];
  try {
    commands = v.block(raw, true);
  } catch (e) {
    if (!(e instanceof TooManyErrors)) throw e;
  }
  return { requires: v.requires, commands, warnings: v.warnings, errors: v.errors };
}

interface TagTable {
  byName: Map<string, TagSpec>;
  /** Tags that are only allowed together with another (RFC 5260 §6 :last). */
  needing: Array<[string, TagSpec]>;
}

const tagTables = new WeakMap<Signature, TagTable>();

/** All tags a signature accepts, built once per signature. */
function tagSpecs(sig: Signature): TagTable {
  let t = tagTables.get(sig);
  if (!t) {
    const all: Record<string, TagSpec> = {
      ...(sig.comparator ? COMPARATOR_TAG : {}),
      ...(sig.match ? MATCH_TAGS : {}),
      ...(sig.addressPart ? ADDRESS_PART_TAGS : {}),
      ...(sig.index ? INDEX_TAGS : {}),
      ...sig.tags,
    };
    const byName = new Map(Object.entries(all));
    t = { byName, needing: [...byName].filter(([, s]) => s.needs !== undefined) };
    tagTables.set(sig, t);
  }
  return t;
}

class Validator {
  readonly requires = new Set<string>();
  readonly warnings: SieveError[] = [];
  readonly errors: SieveError[] = [];
  private seenCommand = false;

  constructor(private readonly available: ReadonlySet<string>) {}

  block(raw: RawCommand[], top: boolean): SieveCommand[] {
    const out: SieveCommand[] = [];
    let prev: string | null = null;
    for (const rc of raw) {
      try {
        if (rc.name === "require") {
          // RFC 5228 §3.2: require only at the start of the script, before any other command
          if (!top || this.seenCommand) throw new SieveSyntaxError(rc.line, "require must come before any other command, at the start of the script");
        } else this.seenCommand = true;
        if ((rc.name === "elsif" || rc.name === "else") && prev !== "if" && prev !== "elsif") {
          throw new SieveSyntaxError(rc.line, `${rc.name} must follow an if or elsif command`);
        }
        out.push(this.command(rc));
      } catch (e) {
        if (!(e instanceof SieveSyntaxError)) throw e;
        // report it and go on with the next command, so one check shows every mistake
        this.errors.push({ line: e.line, message: e.message });
        if (this.errors.length >= MAX_ERRORS) throw new TooManyErrors();
      }
      prev = rc.name;
    }
    return out;
  }

  private command(rc: RawCommand): SieveCommand {
    const sig = COMMANDS[rc.name];
    if (!sig) throw new SieveSyntaxError(rc.line, TESTS[rc.name] ? `"${shown(String(rc.name))}" is a test, not a command` : `unknown command "${shown(String(rc.name))}"`);
    this.needExt(sig, rc.name, "command", rc.line);
    const parsed = this.args(sig, rc.name, rc.args, rc.line, true);
    if (rc.name === "require") {
      const list = parsed.args[0] as Extract<SieveArg, { kind: "list" }>;
      // the supported ones count even when another is not, so later commands are judged fairly
      const missing = list.values.filter((ext) => !this.available.has(ext));
      for (const ext of list.values) if (this.available.has(ext)) this.requires.add(ext);
      if (missing.length === 1) throw new SieveSyntaxError(rc.line, `extension ${shown(missing[0]!)} is not supported`);
      if (missing.length > 1) throw new SieveSyntaxError(rc.line, `extensions ${missing.slice(0, 5).map(shown).join(", ")} are not supported`);
    }
    let test: SieveTest | null = null;
    if (sig.tests === "one") {
      if (rc.tests.length !== 1 || rc.testList) throw new SieveSyntaxError(rc.line, `${rc.name} needs exactly one test (use allof or anyof to combine tests)`);
      test = this.test(rc.tests[0]!);
    } else if (rc.tests.length) {
      // "keep\nkeep;" parses as keep with a test: the real mistake is the missing ';'
      throw new SieveSyntaxError(rc.tests[0]!.line, `expected ';' after the ${rc.name} command`);
    }
    let block: SieveCommand[] | null = null;
    if (sig.block) {
      if (rc.block === null) throw new SieveSyntaxError(rc.line, `${rc.name} needs a block in braces '{ ... }'`);
      block = this.block(rc.block, false);
    } else if (rc.block !== null) {
      throw new SieveSyntaxError(rc.line, `expected ';' after the ${rc.name} command: it takes no block`);
    }
    const cmd: SieveCommand = { name: rc.name, tags: parsed.tags, args: parsed.args, test, block, line: rc.line };
    checkCommandValues(cmd, this.requires);
    return cmd;
  }

  private test(rt: RawTest): SieveTest {
    const sig = TESTS[rt.name];
    if (!sig) throw new SieveSyntaxError(rt.line, COMMANDS[rt.name] ? `"${shown(String(rt.name))}" is a command, not a test` : `unknown test "${shown(String(rt.name))}"`);
    this.needExt(sig, rt.name, "test", rt.line);
    const parsed = this.args(sig, rt.name, rt.args, rt.line, false);
    let tests: SieveTest[] = [];
    if (sig.tests === "list") {
      if (!rt.testList) throw new SieveSyntaxError(rt.line, `${rt.name} needs a list of tests in parentheses`);
      tests = rt.tests.map((t) => this.test(t));
    } else if (sig.tests === "one") {
      // RFC 5228 §5.8: not takes one test, not a test-list (Pigeonhole refuses "not (true)" too)
      if (rt.tests.length !== 1 || rt.testList) throw new SieveSyntaxError(rt.line, `${rt.name} needs exactly one test, without parentheses`);
      tests = [this.test(rt.tests[0]!)];
    } else if (rt.tests.length) {
      throw new SieveSyntaxError(rt.line, `the ${rt.name} test takes no sub-test`);
    }
    const t: SieveTest = { name: rt.name, tags: parsed.tags, args: parsed.args, tests, line: rt.line };
    if (parsed.comparator !== undefined) t.comparator = parsed.comparator;
    if (parsed.match) t.match = parsed.match;
    if (parsed.addressPart) t.addressPart = parsed.addressPart as NonNullable<SieveTest["addressPart"]>;
    checkTestValues(t, this.requires);
    return t;
  }

  private needExt(sig: Signature | TagSpec, name: string, what: string, line: number): void {
    if (!sig.ext) return;
    if (sig.ext.some((e) => this.requires.has(e))) return;
    const list = sig.ext.map((e) => `"${e}"`).join(" or ");
    throw new SieveSyntaxError(line, `the ${what} ${name} needs require ${list}`);
  }

  /** Sort tagged from positional arguments and check both against the signature. */
  private args(
    sig: Signature,
    owner: string,
    raw: SieveArg[],
    line: number,
    isCommand: boolean,
  ): { tags: Tags; args: SieveArg[]; comparator?: string; match?: SieveTest["match"]; addressPart?: string } {
    const specs = tagSpecs(sig);
    const tags: Tags = {};
    const groups = new Map<string, string>();
    const positional: SieveArg[] = [];
    let comparator: string | undefined;
    let match: SieveTest["match"] | undefined;
    let addressPart: string | undefined;
    for (let i = 0; i < raw.length; i++) {
      const a = this.decode(raw[i]!);
      if (a.kind !== "tag") {
        positional.push(a);
        continue;
      }
      const tagLine = a.line;
      // RFC 5228 §2.6.2: tagged arguments come before positional ones
      if (positional.length) throw new SieveSyntaxError(tagLine, `tag :${shown(a.name)} must come before the other arguments of ${owner}`);
      const spec = specs.byName.get(a.name);
      if (!spec) {
        const ext = UNSUPPORTED_TAGS[a.name];
        if (ext) throw new SieveSyntaxError(tagLine, `extension ${ext} is not supported (tag :${shown(a.name)} of ${owner})`);
        throw new SieveSyntaxError(tagLine, `unknown tag :${shown(a.name)} for ${owner}`);
      }
      if (spec.ext) this.needExt(spec, `:${shown(a.name)}`, "tag", tagLine);
      if (a.name in tags || (a.name === "comparator" && comparator !== undefined)) throw new SieveSyntaxError(tagLine, `tag :${shown(a.name)} is given twice`);
      if (spec.group) {
        const other = groups.get(spec.group);
        if (other) throw new SieveSyntaxError(tagLine, `tags :${shown(other)} and :${shown(a.name)} cannot be used together`);
        groups.set(spec.group, a.name);
      }
      let value: true | string | number | string[] = true;
      if (spec.arg) {
        const next = raw[i + 1];
        if (!next || next.kind === "tag") throw new SieveSyntaxError(tagLine, `tag :${shown(a.name)} needs ${argWords(spec.arg)} after it`);
        i++;
        value = this.coerce(this.decode(next), spec.arg, () => `the :${shown(a.name)} tag`);
      }
      if (a.name === "comparator") {
        comparator = (value as string).toLowerCase();
        if (isCommand) tags.comparator = comparator;
        continue;
      }
      if (spec.group === "match") {
        const type = a.name as NonNullable<SieveTest["match"]>["type"];
        match = { type };
        if (typeof value === "string") {
          const rel = value.toLowerCase();
          if (!RELATIONS.has(rel)) throw new SieveSyntaxError(tagLine, `"${shown(String(value))}" is not a relation: use "gt", "ge", "lt", "le", "eq" or "ne"`);
          match.relation = rel as NonNullable<NonNullable<SieveTest["match"]>["relation"]>;
        }
        if (isCommand) tags[a.name] = match.relation ?? true;
        continue;
      }
      if (spec.group === "addresspart") {
        addressPart = a.name;
        if (isCommand) tags[a.name] = true;
        continue;
      }
      tags[a.name] = value;
    }
    for (const [name, spec] of specs.needing) {
      if (name in tags && !(spec.needs! in tags)) throw new SieveSyntaxError(line, `tag :${name} of ${owner} needs :${spec.needs}`);
    }
    if (sig.requiredGroup && !groups.has(sig.requiredGroup)) {
      const names = [...specs.byName].filter(([, s]) => s.group === sig.requiredGroup).map(([n]) => `:${n}`);
      throw new SieveSyntaxError(line, `${owner} needs one of ${names.join(" or ")}`);
    }
    // positional arguments: count and types
    const max = sig.positional.length;
    const min = max - (sig.optional?.count ?? 0);
    if (positional.length < min || positional.length > max) {
      const want = min === max ? `${max}` : `${min} to ${max}`;
      const line2 = positional[max]?.line ?? line;
      throw new SieveSyntaxError(line2, `${owner} takes ${want} argument${max === 1 && min === max ? "" : "s"} besides its tags, not ${positional.length}`);
    }
    const types = positional.length < max && sig.optional?.from === "leading" ? sig.positional.slice(max - positional.length) : sig.positional.slice(0, positional.length);
    const args = positional.map((a, k) => {
      const c = this.coerce(a, types[k]!, () => `argument ${k + 1} of ${owner}`);
      return typeof c === "number" ? { kind: "number" as const, value: c, line: a.line } : typeof c === "string" ? { kind: "string" as const, value: c, line: a.line } : { kind: "list" as const, values: c, line: a.line };
    });
    const r: { tags: Tags; args: SieveArg[]; comparator?: string; match?: SieveTest["match"]; addressPart?: string } = { tags, args };
    if (comparator !== undefined) r.comparator = comparator;
    if (match) r.match = match;
    if (addressPart) r.addressPart = addressPart;
    this.checkComparator(comparator, match, owner, line);
    return r;
  }

  /** `what` names the argument in an error (built only then). */
  private coerce(a: SieveArg, type: ArgType, what: () => string): string | number | string[] {
    if (type === "number") {
      if (a.kind !== "number") throw new SieveSyntaxError(a.line, `${what()} must be a number`);
      return a.value;
    }
    if (type === "string") {
      if (a.kind === "string") return a.value;
      throw new SieveSyntaxError(a.line, `${what()} must be a string${a.kind === "list" ? ", not a list" : ""}`);
    }
    if (a.kind === "string") return [a.value];
    if (a.kind === "list") return a.values;
    throw new SieveSyntaxError(a.line, `${what()} must be a string or a list of strings`);
  }

  /** RFC 5228 §2.4.2.4: with "encoded-character" required, ${hex:..} and ${unicode:..} in strings are decoded. */
  private decode(a: SieveArg): SieveArg {
    if (this.requires.has("variables")) {
      for (const v of a.kind === "string" ? [a.value] : a.kind === "list" ? a.values : []) checkNamespaces(v, a.line);
    }
    if (!this.requires.has("encoded-character")) return a;
    if (a.kind === "string") return { ...a, value: decodeEncodedCharacters(a.value, a.line) };
    if (a.kind === "list") return { ...a, values: a.values.map((s) => decodeEncodedCharacters(s, a.line)) };
    return a;
  }

  private checkComparator(comparator: string | undefined, match: SieveTest["match"], owner: string, line: number): void {
    if (comparator === undefined) return;
    if (!KNOWN_COMPARATORS.has(comparator)) throw new SieveSyntaxError(line, `unknown comparator "${shown(String(comparator))}" in ${owner}`);
    // RFC 5228 §2.7.3: comparators other than i;octet and i;ascii-casemap must be required
    if (!BUILTIN_COMPARATORS.has(comparator) && !this.requires.has(`comparator-${comparator}`)) {
      throw new SieveSyntaxError(line, `comparator "${shown(String(comparator))}" needs require "comparator-${comparator}"`);
    }
    // RFC 4790 §9.1: i;ascii-numeric offers equality and ordering only, no substring match
    if (comparator === "i;ascii-numeric" && match && (match.type === "contains" || match.type === "matches")) {
      throw new SieveSyntaxError(line, `comparator "i;ascii-numeric" cannot be used with :${match.type}`);
    }
  }
}

function argWords(t: ArgType): string {
  return t === "number" ? "a number" : t === "string" ? "a string" : "a string or a list of strings";
}
