/**
 * The webmail's search box language, parsed without I/O: words, "quoted
 * phrases" and the operators people know from Gmail and Outlook on the web
 * (`from:`, `to:`, `subject:`, `filename:`, `has:attachment`, `before:`,
 * `after:`). Every word must match (AND); a phrase matches as one run of
 * text. Matching folds case and accents (see `foldText`), so `muller`
 * finds "Müller" and `geneve` finds "Genève".
 *
 * The work is bounded: at most MAX_QUERY_CHARS characters are read and at
 * most MAX_TERMS terms kept; anything longer is an error the user sees,
 * never unbounded work for the server.
 */

export const MAX_QUERY_CHARS = 500;
export const MAX_TERMS = 16;

/** What a text term looks at. "text": anywhere (headers, body, attachment names). */
export type SearchField = "text" | "from" | "to" | "subject" | "filename";

export interface SearchTerm {
  field: SearchField;
  /** As typed (whitespace runs collapsed), for the full-text index. */
  raw: string;
  /** Folded (lower case, no accents) for comparisons, see foldText. */
  folded: string;
  /** Typed in quotes: the words must appear together, in order. */
  phrase: boolean;
}

export interface SearchQuery {
  terms: SearchTerm[];
  hasAttachment: boolean;
  /** Messages dated at or after this instant (ms, UTC midnight of the given day; the search route moves it to midnight in the user's zone). */
  after: number | null;
  /** Messages dated before this instant (ms, UTC midnight of the given day; moved to the user's zone like `after`). */
  before: number | null;
}

export class SearchQueryError extends Error {}

const FIELD_OPS: Record<string, SearchField> = {
  from: "from",
  to: "to",
  subject: "subject",
  filename: "filename",
  attachment: "filename",
};

/** Letters NFD does not split into base + mark, but which people type without the accent. */
const SPECIAL_FOLDS: Record<string, string> = { ß: "ss", æ: "ae", œ: "oe", ø: "o", đ: "d", ł: "l", þ: "th", ı: "i", "ð": "d" };
const SPECIAL_RE = new RegExp(`[${Object.keys(SPECIAL_FOLDS).join("")}]`, "g");

/**
 * Case- and accent-insensitive form of a text: lower case, compatibility
 * decomposition (NFKD) with the combining marks removed, a few letters that
 * have no decomposition spelled out (ß -> ss, ø -> o), whitespace runs
 * collapsed to one space.
 */
export function foldText(s: string): string {
  return s
    .toLowerCase()
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .replace(SPECIAL_RE, (c) => SPECIAL_FOLDS[c] ?? c)
    .replace(/\s+/g, " ");
}

/** `YYYY-MM-DD` (also `YYYY/MM/DD`) as UTC midnight, or an error naming what was typed. */
export function parseSearchDate(v: string, op: string): number {
  const m = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$/.exec(v);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const t = Date.UTC(y, mo - 1, d);
    const back = new Date(t);
    // Date.UTC rolls 2026-13-45 over into 2027: a real day reads back the same
    if (y >= 1970 && y <= 9999 && back.getUTCFullYear() === y && back.getUTCMonth() === mo - 1 && back.getUTCDate() === d) return t;
  }
  throw new SearchQueryError(`"${op}:${v.slice(0, 40)}" is not a date: write it as ${op}:2026-03-31.`);
}

/** Straight and typographic double quotes (phones type \u201c \u201d). */
const QUOTES = ['"', "\u201c", "\u201d"];

interface Token {
  text: string;
  quoted: boolean;
}

/** Splits into words and "quoted phrases"; an unclosed quote runs to the end (people forget the closing one). */
function tokenize(q: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (QUOTES.includes(c)) {
      let j = i + 1;
      while (j < q.length && !QUOTES.includes(q[j])) j++;
      out.push({ text: q.slice(i + 1, j), quoted: true });
      i = j + 1;
      continue;
    }
    let j = i;
    // a word ends at a quote, so subject:"Q3 budget" is the operator, then its quoted value
    while (j < q.length && !/\s/.test(q[j]) && !QUOTES.includes(q[j])) j++;
    out.push({ text: q.slice(i, j), quoted: false });
    i = j;
  }
  return out;
}

/** Parses the search box. Throws SearchQueryError (shown to the user) for a query it cannot run. */
export function parseSearchQuery(input: string): SearchQuery {
  if (input.length > MAX_QUERY_CHARS) throw new SearchQueryError(`Searches are limited to ${MAX_QUERY_CHARS} characters.`);
  const tokens = tokenize(input);
  const query: SearchQuery = { terms: [], hasAttachment: false, after: null, before: null };
  const add = (field: SearchField, text: string, phrase: boolean): void => {
    const raw = text.replace(/\s+/g, " ").trim();
    const folded = foldText(raw).trim();
    if (folded === "") return; // "" or only marks: nothing to look for
    if (query.terms.length >= MAX_TERMS) throw new SearchQueryError(`A search can have at most ${MAX_TERMS} words; use "quotes" for a phrase.`);
    query.terms.push({ field, raw, folded, phrase });
  };
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (t.quoted) {
      add("text", t.text, true);
      continue;
    }
    const op = /^([a-z]+):(.*)$/i.exec(t.text);
    const name = op?.[1].toLowerCase() ?? "";
    if (!op || !(name in FIELD_OPS || name === "has" || name === "before" || name === "after")) {
      add("text", t.text, false);
      continue;
    }
    let value = op[2];
    let quoted = false;
    // "from: alice" (a space after the colon) and from:"Ann Lee" take the next token as the value
    if (value === "" && k + 1 < tokens.length && (tokens[k + 1].quoted || !/^[a-z]+:/i.test(tokens[k + 1].text))) {
      const next = tokens[++k];
      value = next.text;
      quoted = next.quoted;
    }
    if (value === "") continue; // an operator with nothing after it: ignored
    if (name === "has") {
      if (/^attachments?$/i.test(value)) query.hasAttachment = true;
      else throw new SearchQueryError(`"has:${value.slice(0, 40)}" is not known: use has:attachment.`);
    } else if (name === "before") {
      query.before = parseSearchDate(value, "before");
    } else if (name === "after") {
      query.after = parseSearchDate(value, "after");
    } else {
      add(FIELD_OPS[name], value, quoted);
    }
  }
  return query;
}

/** True when the query asks for something (a term or a filter). */
export function isEmptyQuery(q: SearchQuery): boolean {
  return q.terms.length === 0 && !q.hasAttachment && q.after === null && q.before === null;
}
