/**
 * IMAP argument parsing with the same results as the parser imaptest uses
 * (Dovecot 2.3 lib-imap imap-parser with IMAP_PARSE_FLAG_ATOM_ALLCHARS and
 * IMAP_PARSE_FLAG_LITERAL8). Used both for the expected lines in the scripts
 * and for the server's responses, so the two are tokenised alike:
 *  - atoms run to SP/CR/LF; ")" ends an atom only inside a list;
 *  - NIL (any case) is its own type, distinct from atoms and strings;
 *  - quoted strings are unescaped; literals {n} / ~{n} carry raw octets.
 *
 * Strings are "binary strings": one JS char per octet (latin1), so 8-bit and
 * NUL bytes survive unchanged.
 */

export type ImapArg =
  | { type: "nil"; str: string }
  | { type: "atom"; str: string }
  | { type: "string"; str: string }
  | { type: "literal"; str: string; literal8: boolean }
  | { type: "list"; list: ImapArg[] };

export interface ParseOptions {
  /** Keep literals as type "literal" (scripts) instead of "string" (responses). */
  literalType?: boolean;
  /** Quoted strings may contain CR/LF (scripts' {{{ }}} blocks). */
  multilineStr?: boolean;
}

export type ParseResult = { ok: true; args: ImapArg[] } | { ok: false; error: string };

const isLinebreak = (c: string) => c === "\r" || c === "\n";

/** Parses one complete line (including any literals it carries). */
export function parseImapArgs(input: string, opts: ParseOptions = {}): ParseResult {
  const root: ImapArg[] = [];
  const stack: ImapArg[][] = [];
  let cur = root;
  let pos = 0;
  const len = input.length;

  for (;;) {
    while (pos < len && input[pos] === " ") pos++;
    if (pos >= len) break;
    const c = input[pos];
    if (c === "\r") {
      if (pos + 1 < len && input[pos + 1] !== "\n") return { ok: false, error: "CR sent without LF" };
      break;
    }
    if (c === "\n") break;
    if (c === '"') {
      let i = pos + 1;
      let out = "";
      let closed = false;
      while (i < len) {
        const ch = input[i];
        if (ch === '"') {
          closed = true;
          break;
        }
        if (ch === "\0") return { ok: false, error: "NULs not allowed in strings" };
        if (ch === "\\") {
          if (i + 1 === len) break;
          i++;
          if (isLinebreak(input[i]) && !opts.multilineStr) return { ok: false, error: "Missing '\"'" };
          out += input[i];
          i++;
          continue;
        }
        if (isLinebreak(ch) && !opts.multilineStr) return { ok: false, error: "Missing '\"'" };
        out += ch;
        i++;
      }
      if (!closed) return { ok: false, error: "Missing data" };
      cur.push({ type: "string", str: out });
      pos = i + 1;
      continue;
    }
    if (c === "{" || (c === "~" && input[pos + 1] === "{")) {
      const literal8 = c === "~";
      let i = pos + (literal8 ? 2 : 1);
      let digits = "";
      let nonsync = false;
      for (;;) {
        if (i >= len) return { ok: false, error: "Missing data" };
        const ch = input[i];
        if (ch === "}") break;
        if (nonsync) return { ok: false, error: "Expecting '}' after '+'" };
        if (ch === "+") nonsync = true;
        else if (ch >= "0" && ch <= "9") digits += ch;
        else return { ok: false, error: "Invalid literal size" };
        i++;
      }
      i++;
      if (input[i] === "\r") i++;
      if (i >= len) return { ok: false, error: "Missing data" };
      if (input[i] !== "\n") return { ok: false, error: "Missing LF after literal size" };
      i++;
      const size = digits === "" ? 0 : Number(digits);
      if (i + size > len) return { ok: false, error: "Missing data" };
      const str = input.slice(i, i + size);
      cur.push(opts.literalType ? { type: "literal", str, literal8 } : { type: "string", str });
      pos = i + size;
      continue;
    }
    if (c === "(") {
      const list: ImapArg[] = [];
      cur.push({ type: "list", list });
      stack.push(cur);
      cur = list;
      pos++;
      continue;
    }
    if (c === ")") {
      const parent = stack.pop();
      if (!parent) return { ok: false, error: "Unexpected ')'" };
      cur = parent;
      pos++;
      continue;
    }
    // atom (ATOM_ALLCHARS: any octet is accepted)
    let i = pos + 1;
    const inList = stack.length > 0;
    while (i < len) {
      const ch = input[i];
      if (ch === " " || isLinebreak(ch)) break;
      if (ch === ")" && inList) break;
      i++;
    }
    const str = input.slice(pos, i);
    cur.push(str.length === 3 && str.toUpperCase() === "NIL" ? { type: "nil", str } : { type: "atom", str });
    pos = i;
  }
  if (stack.length > 0) return { ok: false, error: "Missing ')'" };
  return { ok: true, args: root };
}

/** imap_arg_get_astring(): atoms, strings, literals and NIL (RFC 3501 §4.5: NIL reads as "NIL" where an astring is expected). */
export function isAstring(a: ImapArg | undefined): a is Exclude<ImapArg, { type: "list" }> {
  return a !== undefined && a.type !== "list";
}

/** imap_arg_get_atom(): atoms and NIL. */
export function isAtom(a: ImapArg | undefined): a is { type: "atom" | "nil"; str: string } {
  return a !== undefined && (a.type === "atom" || a.type === "nil");
}

/** ASCII-only case folding (C's i_toupper / strcasecmp), leaving 8-bit octets alone. */
export function asciiUpper(s: string): string {
  return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
}
export function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}
export function eqCI(a: string, b: string): boolean {
  return a.length === b.length && asciiUpper(a) === asciiUpper(b);
}

function quote(s: string): string {
  if (/[\r\n\0]/.test(s) || /[\x80-\xff]/.test(s)) return `{${s.length}}\r\n${s}`;
  return '"' + s.replace(/["\\]/g, (m) => "\\" + m) + '"';
}

/** Renders args back to IMAP syntax (for failure messages), like imap_args_to_str(). */
export function argsToString(args: ImapArg[]): string {
  return args
    .map((a) => {
      switch (a.type) {
        case "nil":
          return "NIL";
        case "atom":
          return a.str;
        case "string":
        case "literal":
          return quote(a.str);
        case "list":
          return "(" + argsToString(a.list) + ")";
      }
    })
    .join(" ");
}
