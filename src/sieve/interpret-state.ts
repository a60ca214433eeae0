/**
 * The state of one Sieve run and the helpers every part of the interpreter
 * uses: arguments with RFC 5229 variable expansion, the step and clock
 * budget, runtime errors (RFC 5228 §2.10.6).
 */
import type { MimePart } from "../../mail/types.ts";
import type { CompiledScript, SieveAction, SieveArg, SieveCommand, SieveLimits, SieveRunInput, SieveTest } from "./types.ts";
import { DEFAULT_SIEVE_LIMITS } from "./types.ts";
import { MessageView } from "./message-view.ts";
import { expandVariables, truncateUtf8 } from "./variables.ts";

/** A runtime error (RFC 5228 §2.10.6): the run stops, the implicit keep applies. */
export class SieveRuntimeError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/** Thrown by `stop` (RFC 5228 §3.3) to leave every block at once. */
export class StopRun {}

/** How often (in steps) the wall clock is read. */
const CLOCK_EVERY = 256;

export class RunState {
  readonly input: SieveRunInput;
  readonly script: CompiledScript;
  readonly limits: SieveLimits;
  readonly view: MessageView;
  readonly variables: boolean;
  readonly imap4flags: boolean;
  /** RFC 5229 §3: named variables (lower-case names). */
  readonly vars = new Map<string, string>();
  /** RFC 5229 §3.2: ${0}..${9} of the last successful :matches. */
  matchVars: string[] = [];
  /** RFC 5232 §3: the internal flags variable. */
  flags = "";
  readonly actions: SieveAction[] = [];
  implicitKeep = true;
  redirects = 0;
  steps = 0;
  private readonly deadline: number;
  /** Values the body test computed, per transform (a body test in 10,000 ifs decodes once). */
  readonly bodyCache = new Map<string, string[]>();
  mimeRoot: MimePart | null = null;
  /** RFC 7352 §3: the duplicate test's answer per key within this run. */
  readonly duplicates = new Map<string, boolean>();

  constructor(script: CompiledScript, input: SieveRunInput, clockNow: number) {
    this.script = script;
    this.input = input;
    this.limits = { ...DEFAULT_SIEVE_LIMITS, ...input.limits };
    this.view = new MessageView(input.message);
    this.variables = script.requires.has("variables");
    this.imap4flags = script.requires.has("imap4flags");
    this.deadline = clockNow + this.limits.maxRunMs;
  }

  /** Counts `n` steps against limits.maxSteps, and looks at the clock now and then. */
  step(line: number, n = 1): void {
    const before = this.steps;
    this.steps += n;
    if (this.steps > this.limits.maxSteps) throw new SieveRuntimeError(line, `the script took more than ${this.limits.maxSteps} steps`);
    if (Math.floor(before / CLOCK_EVERY) !== Math.floor(this.steps / CLOCK_EVERY) && performance.now() > this.deadline) {
      throw new SieveRuntimeError(line, `the script ran longer than ${this.limits.maxRunMs} ms`);
    }
  }

  /** A string with ${...} expanded when "variables" is required (RFC 5229 §3). */
  expand(s: string): string {
    if (!this.variables || s.indexOf("${") < 0) return s;
    return expandVariables(s, (name) => this.vars.get(name.toLowerCase()), this.matchVars, this.limits.maxVariableBytes);
  }

  /** Sets a named variable (RFC 5229 §4): the value cut at maxVariableBytes, at most maxVariables names. */
  setVar(name: string, value: string, line: number): void {
    const k = name.toLowerCase();
    if (!this.vars.has(k) && this.vars.size >= this.limits.maxVariables) {
      throw new SieveRuntimeError(line, `more than ${this.limits.maxVariables} variables`);
    }
    this.vars.set(k, truncateUtf8(value, this.limits.maxVariableBytes));
  }
}

// ---------------------------------------------------------------- arguments

type Node = SieveCommand | SieveTest;

/** Positional argument `i` as one string (a one-element list reads as its string), expanded. */
export function strArg(st: RunState, node: Node, i: number): string {
  const a = node.args[i];
  if (!a) throw new SieveRuntimeError(node.line, `${node.name}: missing argument ${i + 1}`);
  return st.expand(rawString(a, node));
}

/** Positional argument `i` as a string list, each expanded. */
export function listArg(st: RunState, node: Node, i: number): string[] {
  const a = node.args[i];
  if (!a) throw new SieveRuntimeError(node.line, `${node.name}: missing argument ${i + 1}`);
  return rawList(a, node).map((s) => st.expand(s));
}

/** The argument's string without expansion (variable names: RFC 5229 §4 names are not expanded). */
export function rawString(a: SieveArg, node: Node): string {
  if (a.kind === "string") return a.value;
  if (a.kind === "list" && a.values.length === 1) return a.values[0];
  throw new SieveRuntimeError(node.line, `${node.name}: expected a string`);
}

export function rawList(a: SieveArg, node: Node): string[] {
  if (a.kind === "list") return a.values;
  if (a.kind === "string") return [a.value];
  throw new SieveRuntimeError(node.line, `${node.name}: expected a string list`);
}

/** A tag's value as an expanded string, or undefined when the tag is absent. */
export function tagString(st: RunState, node: Node, tag: string): string | undefined {
  const v = node.tags[tag];
  if (v === undefined || v === true) return undefined;
  if (typeof v === "number") return String(v);
  if (Array.isArray(v)) return st.expand(v[0] ?? "");
  return st.expand(v);
}

/** A tag's value as an expanded string list, or undefined when the tag is absent. */
export function tagList(st: RunState, node: Node, tag: string): string[] | undefined {
  const v = node.tags[tag];
  if (v === undefined || v === true) return undefined;
  if (typeof v === "number") return [String(v)];
  if (Array.isArray(v)) return v.map((s) => st.expand(s));
  return [st.expand(v)];
}

/** A tag's number (K/M/G already applied by the parser), or undefined. */
export function tagNumber(node: Node, tag: string): number | undefined {
  const v = node.tags[tag];
  if (typeof v === "number") return v;
  if (typeof v === "string" && /^\d+$/.test(v)) return Number(v);
  return undefined;
}
