/**
 * compile(): Sieve source -> CompiledScript or errors in words with their line
 * (RFC 5804 §2.6: CHECKSCRIPT/PUTSCRIPT answer with them). Pure and
 * synchronous; the size limit is checked on the octets before any parsing so a
 * huge upload costs one length count, and nesting is bounded while parsing.
 */
import { createHash } from "node:crypto";
import { DEFAULT_SIEVE_LIMITS, SIEVE_EXTENSIONS, type CompileResult, type SieveError, type SieveLimits } from "./types.ts";
import { SieveSyntaxError } from "./lexer.ts";
import { parseScript } from "./parse.ts";
import { validateScript } from "./validate.ts";

export interface CompileOptions {
  limits?: Partial<SieveLimits>;
  /** The extensions offered (default: all of SIEVE_EXTENSIONS). */
  extensions?: readonly string[];
}

// ignoreBOM: a leading byte-order mark is dropped below, the same way for octets and text
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/** The line (1-based) of the first invalid UTF-8 sequence in `bytes`. */
function badUtf8Line(bytes: Uint8Array): number {
  let line = 1;
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b === 10) line++;
    if (b < 0x80) {
      i++;
      continue;
    }
    const len = b >= 0xf0 && b <= 0xf4 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 && b < 0xe0 ? 2 : 0;
    if (len === 0 || b > 0xf4) return line;
    try {
      utf8.decode(bytes.subarray(i, i + len));
    } catch {
      return line;
    }
    i += len;
  }
  return line;
}

/** The line of the first unpaired surrogate (a JS string that is not valid Unicode), or 0. */
function loneSurrogateLine(s: string): number {
  if (!/[\ud800-\udfff]/.test(s)) return 0;
  let line = 1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 10) line++;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
      else return line;
    } else if (c >= 0xdc00 && c <= 0xdfff) return line;
  }
  return 0;
}

/**
 * Compile a script. Raw octets are checked as UTF-8 (RFC 5228 §2.4.2: a
 * script that is not UTF-8 is an error); a string must be well-formed.
 */
export function compile(source: string | Uint8Array, opts: CompileOptions = {}): CompileResult {
  const limits: SieveLimits = { ...DEFAULT_SIEVE_LIMITS, ...opts.limits };
  let text: string;
  let bytes: Uint8Array | null = null;
  let size: number;
  if (typeof source === "string") {
    // UTF-8 length without encoding: at most 3 octets per UTF-16 unit, so a clearly small script skips the count
    size = source.length * 3 <= limits.maxScriptBytes ? -1 : Buffer.byteLength(source, "utf8");
    if (size > limits.maxScriptBytes) return tooBig(size, limits);
    const bad = loneSurrogateLine(source);
    if (bad > 0) return fail(bad, "the script is not valid UTF-8");
    text = source;
  } else {
    size = source.length;
    if (size > limits.maxScriptBytes) return tooBig(size, limits);
    try {
      text = utf8.decode(source);
    } catch {
      return fail(badUtf8Line(source), "the script is not valid UTF-8");
    }
    bytes = source;
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const available = new Set<string>(opts.extensions ?? SIEVE_EXTENSIONS);
  // RFC 5228 §2.7.3: these two comparators are always there, and may be required by name
  available.add("comparator-i;octet");
  available.add("comparator-i;ascii-casemap");
  try {
    const raw = parseScript(text, limits.maxNesting);
    const v = validateScript(raw, available);
    if (v.errors.length) return { ok: false, errors: v.errors };
    // the digest and size are over the source as given (a byte-order mark included)
    const octets = bytes ?? encoder.encode(source as string);
    return {
      ok: true,
      script: { requires: v.requires, commands: v.commands, digest: createHash("sha256").update(octets).digest("hex"), size: octets.length },
      warnings: v.warnings,
    };
  } catch (e) {
    if (e instanceof SieveSyntaxError) return fail(e.line, e.message);
    if (e instanceof RangeError) return fail(1, "the script is too complex to compile");
    throw e;
  }
}

/** Errors carry the line apart from the words; this renders one as "line 4: expected ';' ...". */
export function formatSieveError(e: SieveError): string {
  return `line ${e.line}: ${e.message}`;
}

function fail(line: number, message: string): CompileResult {
  return { ok: false, errors: [{ line, message }] };
}

function tooBig(size: number, limits: SieveLimits): CompileResult {
  return { ok: false, errors: [{ line: 1, message: `the script is ${size} octets, more than the limit of ${limits.maxScriptBytes}` }] };
}
