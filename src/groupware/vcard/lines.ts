/**
 * A vCard (3.0, RFC 2426; 4.0, RFC 6350) as a list of content lines, for
 * the ActiveSync contact converter (protocols/http/eas/groupware/contact.ts)
 * and the webmail's contact editor (../model/contact.ts). They merge a
 * device's fields onto the stored card line by line: a line it does not
 * change is written back exactly as it was (folding, parameter spelling,
 * groups, X- properties), so CardDAV clients read the rest of their card
 * unchanged after a phone edit. ical.js is not used for writing because
 * re-serialising a whole card would rewrite lines nobody changed.
 */
import { VCardError } from "./index.ts";

export interface Param {
  /** Upper case. A bare parameter (`TEL;WORK;VOICE`, vCard 2.1 style seen in 3.0 cards) is TYPE. */
  name: string;
  /** Unquoted values (comma lists split). */
  values: string[];
}

export interface Line {
  /** The original text including its folding and line end ("" for a new line until serialised). */
  raw: string;
  /** Group prefix without the dot (`item1` of Apple's `item1.TEL`), "" when none. */
  group: string;
  /** Property name, upper case. */
  name: string;
  params: Param[];
  /** The value as written (still escaped). */
  value: string;
}

/** Logical lines of a card (RFC 6350 §3.2 unfolding), with their raw text kept. */
export function parseLines(text: string): Line[] {
  const out: Line[] = [];
  const physical = physicalLines(text);
  let raw = "";
  let logical = "";
  const flush = () => {
    if (raw === "") return;
    if (logical.trim() !== "") out.push(parseLine(logical, raw));
    raw = "";
    logical = "";
  };
  for (const p of physical) {
    if (p === "") continue;
    const content = p.endsWith("\n") ? p.slice(0, p.endsWith("\r\n") ? -2 : -1) : p.endsWith("\r") ? p.slice(0, -1) : p;
    if ((p.startsWith(" ") || p.startsWith("\t")) && raw !== "") {
      raw += p;
      logical += content.slice(1);
    } else {
      flush();
      raw = p;
      logical = content;
    }
  }
  flush();
  return out;
}

/** Physical lines with their line ends (CRLF, LF, or a lone CR of old Mac files). */
function physicalLines(text: string): string[] {
  if (text.includes("\r") && !text.includes("\r\n") && !text.includes("\n")) return text.match(/[^\r]*(?:\r|$)/g) ?? [];
  const out: string[] = [];
  let at = 0;
  while (at < text.length) {
    const nl = text.indexOf("\n", at);
    const end = nl < 0 ? text.length : nl + 1;
    out.push(text.slice(at, end));
    at = end;
  }
  return out;
}

function parseLine(logical: string, raw: string): Line {
  // name[;param...]:value — the value starts at the first colon outside a quoted parameter value.
  let i = logical.indexOf(":");
  const q = logical.indexOf('"');
  if (i < 0) i = logical.length;
  else if (q >= 0 && q < i) {
    let inQuote = false;
    for (i = 0; i < logical.length; i++) {
      const ch = logical[i];
      if (ch === '"') inQuote = !inQuote;
      else if (ch === ":" && !inQuote) break;
    }
  }
  const head = logical.slice(0, i);
  const value = i < logical.length ? logical.slice(i + 1) : "";
  const parts = splitOutsideQuotes(head, ";");
  let name = (parts.shift() ?? "").trim();
  let group = "";
  const dot = name.lastIndexOf(".");
  if (dot > 0) {
    group = name.slice(0, dot);
    name = name.slice(dot + 1);
  }
  const params: Param[] = [];
  for (const p of parts) {
    const eq = p.indexOf("=");
    if (eq < 0) params.push({ name: "TYPE", values: [p.trim()] });
    else {
      const values = splitOutsideQuotes(p.slice(eq + 1), ",").map((v) => v.trim().replace(/^"(.*)"$/s, "$1"));
      params.push({ name: p.slice(0, eq).trim().toUpperCase(), values });
    }
  }
  return { raw, group, name: name.toUpperCase(), params, value };
}

function splitOutsideQuotes(s: string, sep: string): string[] {
  if (!s.includes('"')) return s.split(sep);
  const out: string[] = [];
  let cur = "";
  let inQuote = false;
  for (const ch of s) {
    if (ch === '"') inQuote = !inQuote;
    if (ch === sep && !inQuote) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Values of a parameter, lower case (TYPE=work,voice and TYPE=work;TYPE=voice alike). */
export function paramValues(line: Line, name: string): string[] {
  const out: string[] = [];
  for (const p of line.params) if (p.name === name) for (const v of p.values) out.push(...v.split(",").map((x) => x.trim().toLowerCase()).filter(Boolean));
  return out;
}

/** RFC 6350 §3.4 / RFC 2426 §4: backslash escapes of TEXT values. */
export function unescapeText(s: string): string {
  if (!s.includes("\\")) return s;
  return s.replace(/\\([\\,;nN:])/g, (_, c: string) => (c === "n" || c === "N" ? "\n" : c));
}

export function escapeText(s: string): string {
  return s.replace(/\r\n|\r/g, "\n").replace(/[\\,;\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

/** Splits `value` at unescaped `sep`; the parts stay escaped. */
function splitUnescaped(value: string, sep: ";" | ","): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === "\\" && i + 1 < value.length) {
      cur += ch + value[i + 1];
      i++;
    } else if (ch === sep) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Splits a structured value (N, ADR, ORG) at unescaped semicolons; parts stay escaped. */
export function splitStructured(value: string): string[] {
  return splitUnescaped(value, ";");
}

/** Splits a list value (CATEGORIES, NICKNAME) at unescaped commas and unescapes each item. */
export function splitList(value: string): string[] {
  return splitUnescaped(value, ",").map(unescapeText);
}

function paramText(p: Param): string {
  const vals = p.values.map((v) => (/[,;:"]/.test(v) ? `"${v.replace(/"/g, "'")}"` : v));
  return `;${p.name}=${vals.join(",")}`;
}

const enc = new TextEncoder();

/**
 * A content line's text, folded at 75 octets without splitting a UTF-8
 * sequence (RFC 6350 §3.2), ending with CRLF.
 */
export function lineText(group: string, name: string, params: Param[], value: string): string {
  if (/[\r\n]/.test(value)) throw new VCardError("INVALID_DATA", "line break in a vCard value"); // callers escape; a raw break would start a forged property
  const logical = `${group ? `${group}.` : ""}${name}${params.map(paramText).join("")}:${value}`;
  const out: string[] = [];
  let cur = "";
  let curBytes = 0;
  let limit = 75;
  for (const ch of logical) {
    const n = enc.encode(ch).length;
    if (curBytes + n > limit) {
      out.push(cur);
      cur = "";
      curBytes = 0;
      limit = 74; // continuation lines begin with a space
    }
    cur += ch;
    curBytes += n;
  }
  out.push(cur);
  return `${out.join("\r\n ")}\r\n`;
}

export function newLine(name: string, params: Param[], value: string, group = ""): Line {
  return { raw: lineText(group, name, params, value), group, name, params, value };
}

/** The same property (group, name, parameters) with a new value. */
export function withValue(line: Line, value: string, dropParams: string[] = []): Line {
  const params = line.params.filter((p) => !dropParams.includes(p.name));
  return { raw: lineText(line.group, line.name, params, value), group: line.group, name: line.name, params, value };
}

/** The card text again: every kept line as it was, new ones with CRLF. */
export function serialise(lines: Line[]): string {
  let s = "";
  for (const l of lines) {
    if (s !== "" && !/[\r\n]$/.test(s)) s += "\r\n"; // a last line stored without its line end
    s += l.raw;
  }
  return s;
}

/**
 * Line edits against a stored card, applied together at the end so line
 * indexes stay valid while a converter works through the card: replace or
 * remove line i, insert lines before or after it, append before END:VCARD.
 * Lines not touched are written back exactly as they were read.
 */
export class LineEditor {
  private readonly replaced = new Map<number, Line | null>();
  private readonly before = new Map<number, Line[]>();
  private readonly after = new Map<number, Line[]>();
  private readonly end: Line[] = [];
  /** Something was set, removed or added. */
  changed = false;

  constructor(private readonly lines: Line[]) {}

  set(i: number, l: Line): void {
    this.replaced.set(i, l);
    this.changed = true;
  }
  remove(i: number): void {
    this.replaced.set(i, null);
    this.changed = true;
  }
  insertBefore(i: number, l: Line): void {
    push(this.before, i, l);
    this.changed = true;
  }
  insertAfter(i: number, l: Line): void {
    push(this.after, i, l);
    this.changed = true;
  }
  append(l: Line): void {
    this.end.push(l);
    this.changed = true;
  }

  /** The lines in order; lines written here use the card's own line end (a card stored with LF stays LF). */
  result(): Line[] {
    let endAt = this.lines.length - 1;
    while (endAt >= 0 && this.lines[endAt]!.name !== "END") endAt--;
    const first = this.lines[0]?.raw ?? "";
    const eol = /\r\n$/.test(first) || !/\n$/.test(first) ? "\r\n" : "\n";
    const fresh = (l: Line): Line => (eol === "\r\n" ? l : { ...l, raw: l.raw.replace(/\r\n/g, eol) });
    const out: Line[] = [];
    this.lines.forEach((l, i) => {
      if (i === endAt) out.push(...this.end.map(fresh));
      out.push(...(this.before.get(i) ?? []).map(fresh));
      const r = this.replaced.has(i) ? this.replaced.get(i) : l;
      if (r) out.push(r === l ? l : fresh(r));
      out.push(...(this.after.get(i) ?? []).map(fresh));
    });
    if (endAt < 0) out.push(...this.end.map(fresh));
    return this.dropOrphanLabels(out);
  }

  /**
   * Apple's clients label a grouped property with a sibling (`item1.TEL` +
   * `item1.X-ABLabel`): when the property is removed, its X-AB* siblings go too.
   */
  private dropOrphanLabels(out: Line[]): Line[] {
    const groups = new Set<string>();
    for (const [i, r] of this.replaced) if (r === null && this.lines[i]!.group) groups.add(this.lines[i]!.group.toLowerCase());
    if (!groups.size) return out;
    const alive = new Set(out.filter((l) => l.group && !l.name.startsWith("X-AB")).map((l) => l.group.toLowerCase()));
    return out.filter((l) => !(l.group && l.name.startsWith("X-AB") && groups.has(l.group.toLowerCase()) && !alive.has(l.group.toLowerCase())));
  }
}

function push(m: Map<number, Line[]>, i: number, l: Line): void {
  const list = m.get(i);
  if (list) list.push(l);
  else m.set(i, [l]);
}
