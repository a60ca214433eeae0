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
  DATE_PARTS,
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
import { isValidVariableName } from "./variables.ts";

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

/** A string that (with variables required) holds "${": its value is only known at run time. */
function isDynamic(s: string, requires: ReadonlySet<string>): boolean {
  return requires.has("variables") && s.includes("${");
}

/** RFC 5322 §3.6.8 field-name: 1*ftext, printable US-ASCII except ':'. */
export function isFieldName(s: string): boolean {
  if (s.length === 0 || s.length > 998) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 33 || c > 126 || c === 58) return false;
  }
  return true;
}

/** RFC 5260 §4.1.1: a zone is "+hhmm" / "-hhmm". */
function isZone(s: string): boolean {
  return /^[+-]\d{4}$/.test(s);
}

/** Headers the address test may read (RFC 5228 §5.1 names the minimum; the rest are common address fields). */
const ADDRESS_HEADERS = new Set([
  "from", "sender", "reply-to", "to", "cc", "bcc",
  "resent-from", "resent-sender", "resent-reply-to", "resent-to", "resent-cc", "resent-bcc",
  "delivered-to", "x-original-to", "errors-to", "mail-followup-to", "mail-reply-to", "apparently-to", "x-beenthere",
]);

const ENVELOPE_PARTS = new Set(["from", "to", "auth"]);

const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~\\u0080-\\uffff-]";
const LOCAL = new RegExp(`^(?:(?:${ATEXT}|\\.)+|"(?:[^"\\\\\\r\\n]|\\\\.)*")$`);
const DOMAIN = /^(?:\[[^\[\]\\]+\]|[A-Za-z0-9\u0080-\uffff](?:[A-Za-z0-9\u0080-\uffff-]*[A-Za-z0-9\u0080-\uffff])?(?:\.[A-Za-z0-9\u0080-\uffff](?:[A-Za-z0-9\u0080-\uffff-]*[A-Za-z0-9\u0080-\uffff])?)*)$/;

/** One mail address (RFC 5322 §3.4.1 addr-spec, optionally as "Name <addr-spec>"), blanks around it ignored. */
export function isMailAddress(raw: string): boolean {
  let s = raw.trim();
  if (s.length > 998) return false;
  const angle = /^[^<>]*<([^<>]*)>$/.exec(s);
  if (angle) s = angle[1]!.trim();
  const at = s.lastIndexOf("@");
  if (at <= 0 || at === s.length - 1) return false;
  // blanks around "@" are folding white space (RFC 5322 §3.4.1 obs forms); Pigeonhole accepts them too
  const local = s.slice(0, at).trim();
  const domain = s.slice(at + 1).trim();
  return LOCAL.test(local) && DOMAIN.test(domain);
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
      for (const ext of list.values) {
        if (!this.available.has(ext)) throw new SieveSyntaxError(rc.line, `extension ${shown(ext)} is not supported`);
        this.requires.add(ext);
      }
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
    this.checkCommand(cmd);
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
    this.checkTest(t);
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
      if (positional.length) throw new SieveSyntaxError(tagLine, `tag :${a.name} must come before the other arguments of ${owner}`);
      const spec = specs.byName.get(a.name);
      if (!spec) {
        const ext = UNSUPPORTED_TAGS[a.name];
        if (ext) throw new SieveSyntaxError(tagLine, `extension ${ext} is not supported (tag :${shown(a.name)} of ${owner})`);
        throw new SieveSyntaxError(tagLine, `unknown tag :${shown(a.name)} for ${owner}`);
      }
      this.needExt(spec, `:${a.name}`, "tag", tagLine);
      if (a.name in tags || (a.name === "comparator" && comparator !== undefined)) throw new SieveSyntaxError(tagLine, `tag :${a.name} is given twice`);
      if (spec.group) {
        const other = groups.get(spec.group);
        if (other) throw new SieveSyntaxError(tagLine, `tags :${other} and :${a.name} cannot be used together`);
        groups.set(spec.group, a.name);
      }
      let value: true | string | number | string[] = true;
      if (spec.arg) {
        const next = raw[i + 1];
        if (!next || next.kind === "tag") throw new SieveSyntaxError(tagLine, `tag :${a.name} needs ${argWords(spec.arg)} after it`);
        i++;
        value = this.coerce(this.decode(next), spec.arg, `the :${a.name} tag`);
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
      const c = this.coerce(a, types[k]!, `argument ${k + 1} of ${owner}`);
      return typeof c === "number" ? { kind: "number" as const, value: c, line: a.line } : typeof c === "string" ? { kind: "string" as const, value: c, line: a.line } : { kind: "list" as const, values: c, line: a.line };
    });
    const r: { tags: Tags; args: SieveArg[]; comparator?: string; match?: SieveTest["match"]; addressPart?: string } = { tags, args };
    if (comparator !== undefined) r.comparator = comparator;
    if (match) r.match = match;
    if (addressPart) r.addressPart = addressPart;
    this.checkComparator(comparator, match, owner, line);
    return r;
  }

  private coerce(a: SieveArg, type: ArgType, what: string): string | number | string[] {
    if (type === "number") {
      if (a.kind !== "number") throw new SieveSyntaxError(a.line, `${what} must be a number`);
      return a.value;
    }
    if (type === "string") {
      if (a.kind === "string") return a.value;
      throw new SieveSyntaxError(a.line, `${what} must be a string${a.kind === "list" ? ", not a list" : ""}`);
    }
    if (a.kind === "string") return [a.value];
    if (a.kind === "list") return a.values;
    throw new SieveSyntaxError(a.line, `${what} must be a string or a list of strings`);
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

  private strings(a: SieveArg | undefined): string[] {
    if (!a) return [];
    return a.kind === "string" ? [a.value] : a.kind === "list" ? a.values : [];
  }

  /** Constant-argument checks per command. */
  private checkCommand(c: SieveCommand): void {
    const dyn = (s: string) => isDynamic(s, this.requires);
    switch (c.name) {
      case "set": {
        const name = this.strings(c.args[0])[0]!;
        // RFC 5229 §4: the name is a variable name, not a namespace or match variable
        if (!isValidVariableName(name)) throw new SieveSyntaxError(c.line, `"${shown(String(name))}" is not a valid variable name`);
        break;
      }
      case "setflag":
      case "addflag":
      case "removeflag":
        if (c.args.length === 2) {
          const name = this.strings(c.args[0])[0]!;
          if (!this.requires.has("variables")) throw new SieveSyntaxError(c.line, `${c.name} with a variable name needs require "variables"`);
          if (!isValidVariableName(name)) throw new SieveSyntaxError(c.line, `"${shown(String(name))}" is not a valid variable name`);
        }
        break;
      case "addheader":
      case "deleteheader": {
        const name = this.strings(c.args[0])[0]!;
        // RFC 5293 §4: the field name must be a valid RFC 5322 field name
        if (!dyn(name) && !isFieldName(name)) throw new SieveSyntaxError(c.line, `"${shown(String(name))}" is not a valid header field name`);
        // RFC 5293 §4: a field value cannot hold NUL (a decoded ${hex:00} could put one there)
        if (c.name === "addheader" && this.strings(c.args[1])[0]!.includes("\u0000")) throw new SieveSyntaxError(c.line, "the value of addheader may not contain a NUL character");
        if (c.name === "deleteheader" && typeof c.tags.index === "number" && c.tags.index < 1) throw new SieveSyntaxError(c.line, ":index must be 1 or more");
        break;
      }
      case "vacation":
        // RFC 5230 §4.3: :from must be a valid address (a name-addr is allowed)
        if (typeof c.tags.from === "string" && !dyn(c.tags.from) && !isMailAddress(c.tags.from)) {
          throw new SieveSyntaxError(c.line, `"${shown(String(c.tags.from))}" is not a valid :from address for vacation`);
        }
        break;
      case "redirect": {
        const addr = this.strings(c.args[0])[0]!;
        if (!dyn(addr) && !isMailAddress(addr)) throw new SieveSyntaxError(c.line, `"${shown(String(addr))}" is not a valid address for redirect`);
        break;
      }
      case "fileinto": {
        const box = this.strings(c.args[0])[0]!;
        if (box === "") throw new SieveSyntaxError(c.line, "fileinto needs a mailbox name");
        break;
      }
    }
  }

  /** Constant-argument checks per test. */
  private checkTest(t: SieveTest): void {
    const dyn = (s: string) => isDynamic(s, this.requires);
    if (typeof t.tags.index === "number" && t.tags.index < 1) throw new SieveSyntaxError(t.line, ":index must be 1 or more");
    if (typeof t.tags.zone === "string" && !dyn(t.tags.zone) && !isZone(t.tags.zone)) {
      throw new SieveSyntaxError(t.line, `"${shown(String(t.tags.zone))}" is not a time zone: use the form "+0100" or "-0500"`);
    }
    const datePart = t.name === "date" ? this.strings(t.args[1])[0] : t.name === "currentdate" ? this.strings(t.args[0])[0] : undefined;
    if (datePart !== undefined && !dyn(datePart) && !DATE_PARTS.has(datePart.toLowerCase())) {
      throw new SieveSyntaxError(t.line, `"${shown(String(datePart))}" is not a date part (year, month, day, date, julian, hour, minute, second, time, iso8601, std11, zone, weekday)`);
    }
    if (t.name === "address") {
      // RFC 5228 §5.1: the address test is restricted to headers that hold addresses
      for (const h of this.strings(t.args[0])) {
        if (!dyn(h) && !ADDRESS_HEADERS.has(h.toLowerCase())) throw new SieveSyntaxError(t.line, `header "${shown(String(h))}" does not hold addresses, so the address test cannot read it`);
      }
    }
    if (t.name === "envelope") {
      // RFC 5228 §5.4: the envelope parts this server knows (RFC 5228 "from"/"to", RFC 4954 "auth")
      for (const p of this.strings(t.args[0])) {
        if (!dyn(p) && !ENVELOPE_PARTS.has(p.toLowerCase())) throw new SieveSyntaxError(t.line, `envelope part "${shown(String(p))}" is not supported: use "from", "to" or "auth"`);
      }
    }
    if (t.name === "hasflag" && t.args.length === 2) {
      // RFC 5232 §4: a variable list; match variables ("1") may be read too, as Pigeonhole allows
      for (const name of this.strings(t.args[0])) {
        if (!isValidVariableName(name) && !/^\d+$/.test(name)) throw new SieveSyntaxError(t.line, `"${shown(String(name))}" is not a valid variable name`);
      }
      if (!this.requires.has("variables")) throw new SieveSyntaxError(t.line, `hasflag with variable names needs require "variables"`);
    }
  }
}

/**
 * RFC 5229 §3: a reference into a variable namespace ("${ns.name}") whose
 * extension is not required is an error; Pillarbox offers no namespaces.
 */
function checkNamespaces(s: string, line: number): void {
  if (!s.includes("${")) return;
  for (const m of s.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)((?:\.[A-Za-z_][A-Za-z0-9_]*)+)\}/g)) {
    throw new SieveSyntaxError(line, `\${${shown(m[1]! + m[2]!)}} refers to the variable namespace "${shown(String(m[1]))}", which is not known`);
  }
}

function argWords(t: ArgType): string {
  return t === "number" ? "a number" : t === "string" ? "a string" : "a string or a list of strings";
}
