/**
 * Compile-time checks of constant argument values (RFC 5228 and the extension
 * RFCs): field names, zones, date parts, addresses, variable names, headers the
 * address test may read, envelope parts, variable namespaces. ./validate.ts
 * calls them once a command or test has the right shape.
 */
import type { SieveArg, SieveCommand, SieveTest } from "./types.ts";
import { SieveSyntaxError, shown } from "./lexer.ts";
import { DATE_PARTS } from "./validate-sigs.ts";
import { isValidVariableName } from "./variables.ts";

function strings(a: SieveArg | undefined): string[] {
  if (!a) return [];
  return a.kind === "string" ? [a.value] : a.kind === "list" ? a.values : [];
}

/** A string that (with variables required) holds "${": its value is only known at run time. */
export function isDynamic(s: string, requires: ReadonlySet<string>): boolean {
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

/** Constant-argument checks per command (arguments holding "${...}" are only known at run time). */
export function checkCommandValues(c: SieveCommand, requires: ReadonlySet<string>): void {
  const dyn = (s: string) => isDynamic(s, requires);
  switch (c.name) {
    case "set": {
      const name = strings(c.args[0])[0]!;
      // RFC 5229 §4: the name is a variable name, not a namespace or match variable
      if (!isValidVariableName(name)) throw new SieveSyntaxError(c.line, `"${shown(String(name))}" is not a valid variable name`);
      break;
    }
    case "setflag":
    case "addflag":
    case "removeflag":
      if (c.args.length === 2) {
        const name = strings(c.args[0])[0]!;
        if (!requires.has("variables")) throw new SieveSyntaxError(c.line, `${c.name} with a variable name needs require "variables"`);
        if (!isValidVariableName(name)) throw new SieveSyntaxError(c.line, `"${shown(String(name))}" is not a valid variable name`);
      }
      break;
    case "addheader":
    case "deleteheader": {
      const name = strings(c.args[0])[0]!;
      // RFC 5293 §4: the field name must be a valid RFC 5322 field name
      if (!dyn(name) && !isFieldName(name)) throw new SieveSyntaxError(c.line, `"${shown(String(name))}" is not a valid header field name`);
      // RFC 5293 §4: a field value cannot hold NUL (a decoded ${hex:00} could put one there)
      if (c.name === "addheader" && strings(c.args[1])[0]!.includes("\u0000")) throw new SieveSyntaxError(c.line, "the value of addheader may not contain a NUL character");
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
      const addr = strings(c.args[0])[0]!;
      if (!dyn(addr) && !isMailAddress(addr)) throw new SieveSyntaxError(c.line, `"${shown(String(addr))}" is not a valid address for redirect`);
      break;
    }
    case "fileinto": {
      const box = strings(c.args[0])[0]!;
      if (box === "") throw new SieveSyntaxError(c.line, "fileinto needs a mailbox name");
      break;
    }
  }
}

/** Constant-argument checks per test. */
export function checkTestValues(t: SieveTest, requires: ReadonlySet<string>): void {
  const dyn = (s: string) => isDynamic(s, requires);
  if (typeof t.tags.index === "number" && t.tags.index < 1) throw new SieveSyntaxError(t.line, ":index must be 1 or more");
  if (typeof t.tags.zone === "string" && !dyn(t.tags.zone) && !isZone(t.tags.zone)) {
    throw new SieveSyntaxError(t.line, `"${shown(String(t.tags.zone))}" is not a time zone: use the form "+0100" or "-0500"`);
  }
  const datePart = t.name === "date" ? strings(t.args[1])[0] : t.name === "currentdate" ? strings(t.args[0])[0] : undefined;
  if (datePart !== undefined && !dyn(datePart) && !DATE_PARTS.has(datePart.toLowerCase())) {
    throw new SieveSyntaxError(t.line, `"${shown(String(datePart))}" is not a date part (year, month, day, date, julian, hour, minute, second, time, iso8601, std11, zone, weekday)`);
  }
  if (t.name === "address") {
    // RFC 5228 §5.1: the address test is restricted to headers that hold addresses
    for (const h of strings(t.args[0])) {
      if (!dyn(h) && !ADDRESS_HEADERS.has(h.toLowerCase())) throw new SieveSyntaxError(t.line, `header "${shown(String(h))}" does not hold addresses, so the address test cannot read it`);
    }
  }
  if (t.name === "envelope") {
    // RFC 5228 §5.4: the envelope parts this server knows (RFC 5228 "from"/"to", RFC 4954 "auth")
    for (const p of strings(t.args[0])) {
      if (!dyn(p) && !ENVELOPE_PARTS.has(p.toLowerCase())) throw new SieveSyntaxError(t.line, `envelope part "${shown(String(p))}" is not supported: use "from", "to" or "auth"`);
    }
  }
  if (t.name === "hasflag" && t.args.length === 2) {
    // RFC 5232 §4: a variable list; match variables ("1") may be read too, as Pigeonhole allows
    for (const name of strings(t.args[0])) {
      if (!isValidVariableName(name) && !/^\d+$/.test(name)) throw new SieveSyntaxError(t.line, `"${shown(String(name))}" is not a valid variable name`);
    }
    if (!requires.has("variables")) throw new SieveSyntaxError(t.line, `hasflag with variable names needs require "variables"`);
  }
}

/**
 * RFC 5229 §3: a reference into a variable namespace ("${ns.name}") whose
 * extension is not required is an error; Pillarbox offers no namespaces.
 */
export function checkNamespaces(s: string, line: number): void {
  if (!s.includes("${")) return;
  for (const m of s.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)((?:\.[A-Za-z_][A-Za-z0-9_]*)+)\}/g)) {
    throw new SieveSyntaxError(line, `\${${shown(m[1]! + m[2]!)}} refers to the variable namespace "${shown(String(m[1]))}", which is not known`);
  }
}
