/**
 * Variable expansion and reply matching with imaptest's semantics
 * (src/test-exec.c: test_expand_all, test_expand_input, test_imap_match_args,
 * test_imap_match_list).
 *
 *  - `$name` / `${name}` in an expected reply captures the text up to the next
 *    literal character on first use, and must compare equal afterwards;
 *    `$` alone matches anything (and a whole list); `$$` is a literal `$`;
 *    `$N` (digits) is the current sequence number of message N as it was when
 *    the command group started (expunges received since shift it).
 *  - `$!unordered[=N]` lists match in any order (chains of N items),
 *    `$!noextra` forbids unmatched items (default for unordered: allowed),
 *    `$!ignore=X` exempts X from noextra, `$!ban=X` forbids X, `$!ordered`.
 *  - Atoms and strings compare case-insensitively (ASCII); NIL only matches NIL.
 */
import { asciiUpper, isAstring, isAtom, type ImapArg } from "./imap-args.ts";

export const MATCH = Number.POSITIVE_INFINITY;

export interface MatchContext {
  variables: Map<string, string>;
  /** Variables captured during the current match attempt (reverted if it fails). */
  added: string[];
  /** initial sequence -> current sequence (0 = expunged), 1-based input. */
  seqmap: number[];
  fail(message: string): void;
}

const isVarChar = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_]/.test(c);
const upperChar = (c: string | undefined) => (c === undefined ? "" : c >= "a" && c <= "z" ? c.toUpperCase() : c);

function isUint32(s: string): boolean {
  return /^\d+$/.test(s) && Number(s) <= 0xffffffff;
}

export function expandRelativeSeq(ctx: MatchContext, seq: number): string {
  if (seq === 0) return "<zero seq>";
  if (seq > ctx.seqmap.length) return "<out of range>";
  const v = ctx.seqmap[seq - 1];
  return v === 0 ? "<expunged>" : String(v);
}

/**
 * test_expand_all(): expands $variables in a command line (or in an expected
 * reply for a failure message, with skipUninitialized). Directives ($!...)
 * are dropped. On an uninitialized variable the test fails and the result is
 * cut there, as imaptest does.
 */
export function expandAll(ctx: MatchContext, line: string, skipUninitialized: boolean): string {
  if (!line.includes("$")) return line;
  let out = "";
  let i = 0;
  const len = line.length;
  while (i < len) {
    if (line[i] !== "$" || i === len - 1) {
      out += line[i++];
      continue;
    }
    i++;
    if (line[i] === "$") {
      out += "$";
      i++;
    } else if (line[i] === "!") {
      while (i + 1 < len && line[i + 1] !== " ") i++;
      i++;
    } else {
      let name: string;
      let p: number;
      if (line[i] === "{") {
        const close = line.indexOf("}", i + 1);
        if (close < 0) {
          ctx.fail("Missing '}'");
          break;
        }
        name = line.slice(i + 1, close);
        p = close + 1;
      } else {
        p = i;
        while (isVarChar(line[p])) p++;
        name = line.slice(i, p);
      }
      let value: string | undefined;
      if (isUint32(name)) value = expandRelativeSeq(ctx, Number(name));
      else {
        value = ctx.variables.get(name);
        if (value === undefined && !skipUninitialized) {
          ctx.fail(`Uninitialized variable: ${name}`);
          break;
        } else if (value === undefined) value = "$";
      }
      out += value;
      i = p;
    }
  }
  return out;
}

/** test_expand_input(): expands `str` against the received `input`, capturing new variables. null = mismatch. */
export function expandInput(ctx: MatchContext, str: string, input: string): string | null {
  let out = "";
  let s = 0;
  let inp = 0;
  while (s < str.length) {
    if (str[s] !== "$" || str[s + 1] === "$") {
      if (str[s] === "$") s++;
      if (upperChar(str[s]) !== upperChar(input[inp])) return null;
      inp++;
      out += str[s++];
      continue;
    }
    s++;
    let name: string;
    if (str[s] === "{") {
      const close = str.indexOf("}", s + 1);
      if (close < 0) return "";
      name = str.slice(s + 1, close);
      s = close + 1;
    } else {
      const start = s;
      while (isVarChar(str[s])) s++;
      name = str.slice(start, s);
    }
    let value: string | undefined;
    if (isUint32(name)) value = expandRelativeSeq(ctx, Number(name));
    else {
      value = name === "" ? undefined : ctx.variables.get(name);
      if (value === undefined) {
        // capture up to the first input char equal to the next literal char of the pattern
        const rest = str.slice(s);
        const tmp = rest[0] !== "$" ? rest : (expandInput(ctx, rest, input.slice(inp)) ?? "");
        const stopAt = upperChar(tmp[0]);
        let p = inp;
        while (p < input.length && upperChar(input[p]) !== stopAt) p++;
        value = input.slice(inp, p);
        if (name !== "") {
          ctx.variables.set(name, value);
          ctx.added.push(name);
        }
      }
    }
    out += value;
    for (let k = 0; k < value.length; k++, inp++) {
      if (input[inp] !== value[k]) return null;
    }
  }
  return out;
}

/**
 * imaptest compares values as C strings, so a value is only compared up to
 * its first NUL (a binary literal starting with NUL compares as empty).
 */
function cstr(s: string): string {
  const z = s.indexOf("\0");
  return z < 0 ? s : s.slice(0, z);
}

function strEqCI(a: string, b: string): boolean {
  return a.length === b.length && asciiUpper(a) === asciiUpper(b);
}
function startsWithCI(a: string, prefix: string): boolean {
  return a.length >= prefix.length && asciiUpper(a.slice(0, prefix.length)) === asciiUpper(prefix);
}

/**
 * test_imap_match_args(): returns MATCH, or how many leading arguments matched.
 * `prefix`: the last expected argument only has to be a prefix of the
 * received one and extra received arguments are allowed (tagged replies and
 * untagged OK/NO/BAD/BYE, whose human-readable text varies).
 */
export function matchArgs(ctx: MatchContext, match: ImapArg[], mi: number, args: ImapArg[], ai: number, max: number, prefix: boolean): number {
  let ret = 0;
  for (; mi < match.length && max > 0; mi++, ai++, max--) {
    const m = match[mi];
    const a = args[ai];
    switch (m.type) {
      case "nil":
        if (a === undefined || a.type !== "nil") return ret;
        break;
      case "atom":
      case "string":
      case "literal": {
        if (m.str === "$" && a !== undefined && a.type === "list") break; // "$" skips over a list
        if (!isAstring(a)) return ret;
        const astr = cstr(a.str);
        const mstr = expandInput(ctx, cstr(m.str), astr);
        if (mstr === null) return ret;
        if (prefix && mi === match.length - 1) {
          if (!startsWithCI(astr, mstr)) return ret;
        } else if (!strEqCI(astr, mstr)) return ret;
        break;
      }
      case "list": {
        if (a === undefined || a.type !== "list") return ret;
        const sub = matchList(ctx, m.list, a.list);
        if (sub !== MATCH) return ret + sub;
        break;
      }
    }
    ret++;
  }
  if (prefix || ai >= args.length || max === 0) return MATCH;
  return ret;
}

/** test_imap_match_list(): a list with optional leading $! directives. */
export function matchList(ctx: MatchContext, match: ImapArg[], args: ImapArg[]): number {
  let unordered = false;
  let chainCount = 1;
  const ignores: string[] = [];
  const bans: string[] = [];
  let noextra = -1;
  let k = 0;
  for (; k < match.length; k++) {
    const m = match[k];
    if (!isAtom(m) || !m.str.startsWith("$!")) break;
    const s = m.str.slice(2);
    if (s.startsWith("unordered")) {
      unordered = true;
      if (noextra === -1) noextra = 0;
      if (s[9] === "=") chainCount = parseInt(s.slice(10), 10) || 0;
    } else if (s === "ordered") unordered = false;
    else if (s === "extra") noextra = 0;
    else if (s === "noextra") noextra = 1;
    else if (s.startsWith("ignore=")) ignores.push(s.slice(7));
    else if (s.startsWith("ban=")) bans.push(s.slice(4));
  }
  if (noextra === -1) noextra = 1;
  if (!unordered) return matchArgs(ctx, match, k, args, 0, MATCH, false);
  if (chainCount <= 0) chainCount = 1;

  const argCount = args.length;
  if (argCount % chainCount !== 0) return 0;
  const matched = new Array<boolean>(argCount).fill(false);
  let ret = 0;
  for (let m = k; m < match.length; m += chainCount, ret++) {
    let i = 0;
    for (; i < argCount; i += chainCount) {
      if (matchArgs(ctx, match, m, args, i, chainCount, false) === MATCH) {
        matched[i] = true;
        break;
      }
    }
    if (i >= argCount) return ret;
  }
  const inList = (list: string[], s: string) => list.some((x) => strEqCI(cstr(x), cstr(s)));
  if (noextra > 0) {
    for (let i = 0; i < argCount; i += chainCount) {
      if (matched[i]) continue;
      const a = args[i];
      if (!isAstring(a)) continue;
      if (!inList(ignores, a.str)) return ret;
    }
  } else if (bans.length > 0) {
    for (let i = 0; i < argCount; i += chainCount) {
      if (matched[i]) continue;
      const a = args[i];
      if (!isAstring(a)) continue;
      if (inList(bans, a.str)) return ret;
    }
  }
  return MATCH;
}
