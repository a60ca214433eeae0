/**
 * RFC 5229 variables: names, "${name}" / "${N}" expansion, the `set`
 * modifiers in their §4.1 precedence order, and the per-run bounds
 * (limits.maxVariables variables of at most limits.maxVariableBytes octets;
 * §3 lets an implementation limit both).
 */

/** RFC 5229 §3: variable-name = (ALPHA / "_") *(ALPHA / DIGIT / "_"). */
export function isValidVariableName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}

/** A run-time error of the variables extension (the interpreter turns it into SieveOutcome.error). */
export class SieveVariableError extends Error {}

/** Cut a string to at most `maxBytes` UTF-8 octets without splitting a character. */
export function truncateUtf8(s: string, maxBytes: number): string {
  // quick exit: every UTF-16 unit is at most 3 octets
  if (s.length * 3 <= maxBytes) return s;
  let bytes = 0;
  let i = 0;
  while (i < s.length) {
    const cp = s.codePointAt(i)!;
    const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + n > maxBytes) break;
    bytes += n;
    i += cp > 0xffff ? 2 : 1;
  }
  return s.slice(0, i);
}

/** The variables of one script run: named ones (case-insensitive) and the match variables ${0}..${9}. */
export class VariableScope {
  private readonly vars = new Map<string, string>();
  private matchVars: string[] = [];

  constructor(
    private readonly maxVariables: number,
    private readonly maxVariableBytes: number,
    /** Namespaced variables the run knows (e.g. RFC 5183 "env.*" when offered), by lower-case full name. */
    private readonly namespaced?: (name: string) => string | undefined,
  ) {}

  /** RFC 5229 §4: set a variable; values longer than the limit are truncated; a new variable beyond the limit is an error. */
  set(name: string, value: string): void {
    const key = name.toLowerCase();
    if (!this.vars.has(key)) checkVariableCount(this.vars.size, this.maxVariables);
    this.vars.set(key, truncateUtf8(value, this.maxVariableBytes));
  }

  get(name: string): string {
    return this.vars.get(name.toLowerCase()) ?? "";
  }

  has(name: string): boolean {
    return this.vars.has(name.toLowerCase());
  }

  /** RFC 5229 §3.2: a successful :matches replaces all match variables; unset ones are "". */
  setMatches(groups: readonly string[]): void {
    this.matchVars = groups.slice(0, 10).map((g) => truncateUtf8(g, this.maxVariableBytes));
  }

  getMatch(n: number): string {
    return this.matchVars[n] ?? "";
  }

  /** Expand "${...}" references in a string (RFC 5229 §3). */
  expand(s: string): string {
    return expandVariables(s, (name) => (name.includes(".") ? this.namespaced?.(name.toLowerCase()) : this.vars.get(name.toLowerCase())), this.matchVars, this.maxVariableBytes);
  }
}

/** Throws when one more variable would pass the limit (RFC 5229 §3: implementations may limit the count). */
export function checkVariableCount(current: number, max: number): void {
  if (current >= max) throw new SieveVariableError(`too many variables: at most ${max} per script run`);
}

const ID = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Expand variable references once, left to right (RFC 5229 §3): "${name}"
 * (case-insensitive; unset -> ""), "${N}" (match variable, leading zeros
 * allowed; unset -> ""), "${ns.name}" only when `lookup` knows the full name;
 * anything else, such as "${" without a valid name and "}", stays as written.
 * Expansion is not recursive: a value containing "${x}" is not expanded again.
 * `lookup` gets the name as written (lower-case it for the case-insensitive
 * match); each substituted value is cut to `maxBytes` octets.
 */
export function expandVariables(
  s: string,
  lookup: (name: string) => string | undefined,
  matchVars: readonly string[],
  maxBytes: number = Number.MAX_SAFE_INTEGER,
): string {
  let at = s.indexOf("${");
  if (at < 0) return s;
  let out = "";
  let from = 0;
  while (at >= 0) {
    const close = s.indexOf("}", at + 2);
    if (close < 0) break;
    const inner = s.slice(at + 2, close);
    let value: string | undefined;
    if (/^[0-9]+$/.test(inner)) {
      const n = Number(inner);
      value = n <= 9 ? (matchVars[n] ?? "") : "";
    } else if (ID.test(inner)) {
      value = lookup(inner) ?? "";
    } else if (inner.includes(".") && inner.split(".").every((p) => ID.test(p))) {
      value = lookup(inner);
    }
    if (value === undefined) {
      // not a reference: keep "$" and rescan from the next character ("${${a}}" expands the inner one)
      out += s.slice(from, at + 1);
      from = at + 1;
      at = s.indexOf("${", at + 1);
      continue;
    }
    out += s.slice(from, at) + truncateUtf8(value, maxBytes);
    from = close + 1;
    at = s.indexOf("${", from);
  }
  return out + s.slice(from);
}

/** RFC 5229 §4.1 :quotewildcard: backslash-escape the :matches special characters. */
export function quoteWildcard(s: string): string {
  return s.replace(/[*?\\]/g, (c) => "\\" + c);
}

// ASCII-only case changes, as Pigeonhole does (RFC 5229 §4.1 leaves the details to the comparator-free "letters").
const lower = (s: string) => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
const upper = (s: string) => s.replace(/[a-z]+/g, (m) => m.toUpperCase());

/**
 * Apply `set` modifiers (the tags of a validated set command) in RFC 5229
 * §4.1 precedence order: 40 :lower/:upper, 30 :lowerfirst/:upperfirst,
 * 20 :quotewildcard, 10 :length (characters, not octets). `modifiers` is the
 * set command's tags ({ lower: true, length: true }) or their names.
 */
export function applySetModifiers(value: string, modifiers: readonly string[] | Readonly<Record<string, unknown>>): string {
  const tags: Readonly<Record<string, unknown>> = isNameList(modifiers) ? Object.fromEntries(modifiers.map((m) => [m.replace(/^:/, "").toLowerCase(), true])) : modifiers;
  let v = value;
  if (tags.lower) v = lower(v);
  if (tags.upper) v = upper(v);
  if (tags.lowerfirst && v.length) v = lower(v.charAt(0)) + v.slice(1);
  if (tags.upperfirst && v.length) v = upper(v.charAt(0)) + v.slice(1);
  if (tags.quotewildcard) v = quoteWildcard(v);
  if (tags.length) v = String(Array.from(v).length);
  return v;
}

function isNameList(m: readonly string[] | Readonly<Record<string, unknown>>): m is readonly string[] {
  return Array.isArray(m);
}
