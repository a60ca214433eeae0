/**
 * Runs a parsed webmail search (search-query.ts) over a user's folders.
 *
 * Headers people search by (subject, senders, recipients, attachment file
 * names, the preview of the body) are compared in JS on the message's index
 * row, folded (case and accents), so `muller` finds "Müller". Words in the
 * body come from the store's full-text index (the same one IMAP SEARCH uses,
 * unchanged: a case-insensitive substring, RFC 9051 §6.4.4), asked for the
 * word as typed and in its folded form, so `Genève` also finds "Geneve".
 *
 * Bounded work: at most MAX_SCAN_MESSAGES index rows are examined per search
 * (newest first), and the store's text scan (terms under three characters)
 * has a byte budget; past either the answer is marked `partial`.
 */
import type { Address, Folder, MailStore, MessageIndex, MimePart, TextTerm } from "../../../storage/api.ts";
import { StoreError } from "../../../storage/api.ts";
import type { ListSort } from "../../../storage/webmail-store.ts";
import { decodeWords } from "../../../mail/headers.ts";
import { foldText, type SearchQuery, type SearchTerm } from "./search-query.ts";

/** Index rows examined per search, over all folders (newest messages first). */
export const MAX_SCAN_MESSAGES = 50_000;
/** Rows read from the store at once. */
const CHUNK = 2000;
/** Budget of the store's scan for terms the trigram index cannot answer (under three characters). */
const SCAN_READ_BYTES = 24 * 1024 * 1024;
const SCAN_COMPARE_BYTES = 96 * 1024 * 1024;
/** Attachment parts walked per message (a hostile message may have thousands). */
const MAX_PARTS = 200;

export interface SearchRunOptions {
  sort: ListSort;
  desc: boolean;
  limit: number;
}

export interface SearchRunResult {
  rows: MessageIndex[];
  /** Matches before the limit was applied. */
  total: number;
  /** True when a bound was reached and some messages were not examined. */
  partial: boolean;
}

function addrs(list: Address[] | null | undefined): string {
  if (!list) return "";
  return list
    .slice(0, 100)
    .map((a) => `${a.name ? decodeWords(a.name) : ""} ${a.mailbox ?? ""}@${a.host ?? ""}`)
    .join(" ");
}

/** File names of a message's parts (Content-Disposition filename or Content-Type name). */
export function attachmentNames(root: MimePart): string {
  const names: string[] = [];
  const stack: MimePart[] = [root];
  let seen = 0;
  while (stack.length && seen++ < MAX_PARTS) {
    const p = stack.pop()!;
    if (p.parts) stack.push(...p.parts.slice(0, MAX_PARTS));
    const n = p.disposition?.params.filename ?? p.params.name;
    if (n) names.push(decodeWords(n));
  }
  return names.join(" ");
}

/** The folded text of one field of a message's index row. */
class RowText {
  private cache = new Map<string, string>();
  constructor(private readonly m: MessageIndex) {}
  get(field: SearchTerm["field"]): string {
    let v = this.cache.get(field);
    if (v !== undefined) return v;
    const m = this.m;
    const e = m.envelope;
    switch (field) {
      case "subject":
        v = m.subject;
        break;
      case "from":
        v = `${m.fromName} ${m.fromAddr} ${addrs(e.from)} ${addrs(e.sender)}`;
        break;
      case "to":
        v = `${addrs(e.to)} ${addrs(e.cc)} ${addrs(e.bcc)}`;
        break;
      case "filename":
        v = m.hasAttachment ? attachmentNames(m.root) : "";
        break;
      case "text":
        v = [this.get("subject"), this.get("from"), this.get("to"), this.get("filename"), foldText(m.preview)].join(" \u0000 ");
        this.cache.set(field, v);
        return v;
    }
    v = foldText(v);
    this.cache.set(field, v);
    return v;
  }
}

/**
 * The messages among `among` whose headers or body contain each term, from the store's
 * full-text search, asked for the word as typed and in its folded form. Null when the
 * store's scan (short words) went over its budget.
 */
async function indexHits(store: MailStore, folderId: number, terms: SearchTerm[], among: MessageIndex[]): Promise<Map<SearchTerm, Set<number>> | null> {
  const asked: { term: SearchTerm; t: TextTerm }[] = [];
  for (const term of terms) {
    asked.push({ term, t: { field: "text", query: term.raw } });
    if (term.folded !== term.raw.toLowerCase()) asked.push({ term, t: { field: "text", query: term.folded } });
  }
  let res: number[][];
  try {
    res = await store.searchTextTerms(
      folderId,
      asked.map((a) => a.t),
      { uids: among.map((m) => m.uid), maxReadBytes: SCAN_READ_BYTES, maxCompareBytes: SCAN_COMPARE_BYTES },
    );
  } catch (e) {
    if (e instanceof StoreError && e.code === "LIMIT") return null;
    throw e;
  }
  const out = new Map<SearchTerm, Set<number>>();
  asked.forEach((a, i) => {
    const s = out.get(a.term) ?? new Set<number>();
    for (const u of res[i]) s.add(u);
    out.set(a.term, s);
  });
  return out;
}

const COMPARE: Record<ListSort, (a: MessageIndex, b: MessageIndex) => number> = {
  date: (a, b) => a.internalDate - b.internalDate || a.id - b.id,
  from: (a, b) => (a.fromName || a.fromAddr).localeCompare(b.fromName || b.fromAddr, undefined, { sensitivity: "base" }) || a.internalDate - b.internalDate,
  subject: (a, b) => a.baseSubject.localeCompare(b.baseSubject, undefined, { sensitivity: "base" }) || a.internalDate - b.internalDate,
  size: (a, b) => a.size - b.size || a.internalDate - b.internalDate,
};

export async function runSearch(store: MailStore, folders: Folder[], q: SearchQuery, opts: SearchRunOptions): Promise<SearchRunResult> {
  const found: MessageIndex[] = [];
  let partial = false;
  let budget = MAX_SCAN_MESSAGES;
  const textTerms = q.terms.filter((t) => t.field === "text");
  for (const f of folders) {
    if (budget <= 0) {
      partial = true;
      break;
    }
    // newest first (highest UIDs), so a bounded search keeps the recent mail
    let uids = (await store.listMessages(f.id)).map((m) => m.uid).sort((a, b) => b - a);
    if (uids.length > budget) {
      partial = true;
      uids = uids.slice(0, budget);
    }
    budget -= uids.length;
    const cand: MessageIndex[] = [];
    for (let i = 0; i < uids.length; i += CHUNK) {
      const chunk = uids.slice(i, i + CHUNK).sort((a, b) => a - b);
      for (const m of await store.getMessages(f.id, chunk)) {
        const date = m.sentDate ?? m.internalDate;
        if (q.after !== null && date < q.after) continue;
        if (q.before !== null && date >= q.before) continue;
        if (q.hasAttachment && !m.hasAttachment) continue;
        cand.push(m);
      }
    }
    if (!cand.length) continue;
    const rowsOf = new Map<MessageIndex, RowText>(cand.map((m) => [m, new RowText(m)]));
    const rowMatch = (m: MessageIndex, t: SearchTerm): boolean => rowsOf.get(m)!.get(t.field).includes(t.folded);
    // Two passes: words the trigram index answers (3+ characters) first, then the short words,
    // which need the messages read, only among what is left (the store's scan is the costly part).
    let left = cand.filter((m) => q.terms.every((t) => t.field === "text" || rowMatch(m, t)));
    for (const short of [false, true]) {
      const pass = textTerms.filter((t) => ([...t.folded].length < 3) === short);
      if (!pass.length || !left.length) continue;
      const hits = await indexHits(store, f.id, pass, left);
      if (hits === null) partial = true; // over budget: headers and previews still answer
      left = left.filter((m) => pass.every((t) => rowMatch(m, t) || !!hits?.get(t)?.has(m.uid)));
    }
    found.push(...left);
  }
  const cmp = COMPARE[opts.sort];
  found.sort(opts.desc ? (a, b) => cmp(b, a) : cmp);
  return { rows: found.slice(0, opts.limit), total: found.length, partial };
}
