/**
 * SEARCH and UID SEARCH (RFC 9051 §6.4.4) with ESEARCH (RFC 4731),
 * SEARCHRES (RFC 5182), CONDSTORE MODSEQ (RFC 7162 §3.1.5), WITHIN
 * (RFC 5032), CONTEXT=SEARCH UPDATE/PARTIAL (RFC 5267), OBJECTID (RFC 8474).
 *
 * Keys are evaluated in two passes with three-valued logic: flags, sizes,
 * dates, sets and modseqs come from the in-memory view; only messages the
 * first pass cannot decide get their index row (envelope, Date header) or
 * header block loaded. BODY/TEXT/SUBJECT use the store's FTS5 trigram
 * index, which matches substrings case-insensitively on decoded text,
 * as RFC 9051 asks.
 */
import { StoreError, type MessageIndex, type Address, type TextTerm } from "../../storage/api.ts";
import { decodeHeaderText, decodeWords, parseHeaderBlock, type HeaderField } from "../../mail/headers.ts";
import { MISSING_DOMAIN } from "../../mail/address.ts";
import { argString, isAtom, type Arg } from "./parser.ts";
import { formatSet, parseSearchDate } from "./encode.ts";
import { isSeqSetSyntax, parseSeqSet, setHas, type SeqSet } from "./seqset.ts";
import { F_ANSWERED, F_DELETED, F_DRAFT, F_FLAGGED, F_SEEN, type Msg } from "./state.ts";
import { enableCondstore, loadIndexes, readBytes } from "./fetch.ts";
import { bad, no, ok, registerCommands, syncHooks, type Result, type Session } from "./session.ts";
import type { SelectedMailbox } from "./view.ts";

export type Node =
  | { t: "all" }
  | { t: "flag"; bit: number; neg: boolean }
  | { t: "kw"; k: string; neg: boolean }
  | { t: "new" }
  | { t: "old" }
  | { t: "recent" }
  | { t: "seq"; set: SeqSet }
  | { t: "uid"; set: SeqSet }
  | { t: "saved" }
  | { t: "size"; larger: boolean; n: number }
  | { t: "date"; sent: boolean; op: "before" | "on" | "since"; day: number }
  | { t: "within"; older: boolean; secs: number }
  | { t: "fts"; field: "body" | "text" | "subject"; q: string }
  | { t: "addr"; field: "from" | "to" | "cc" | "bcc"; q: string }
  | { t: "header"; name: string; q: string }
  | { t: "modseq"; n: number }
  | { t: "emailid"; id: string }
  | { t: "threadid"; id: string }
  | { t: "not"; a: Node }
  | { t: "or"; a: Node; b: Node }
  | { t: "and"; list: Node[] };

const FLAG_KEYS: Record<string, [number, boolean]> = {
  ANSWERED: [F_ANSWERED, false],
  DELETED: [F_DELETED, false],
  DRAFT: [F_DRAFT, false],
  FLAGGED: [F_FLAGGED, false],
  SEEN: [F_SEEN, false],
  UNANSWERED: [F_ANSWERED, true],
  UNDELETED: [F_DELETED, true],
  UNDRAFT: [F_DRAFT, true],
  UNFLAGGED: [F_FLAGGED, true],
  UNSEEN: [F_SEEN, true],
};

class SearchSyntax {
  constructor(
    public text: string,
    public code?: string,
  ) {}
}

/** Parses search keys (all of `args`, implicitly ANDed). */
export function parseSearchKeys(args: Arg[], start: number): Node {
  let p = start;
  const str = (): string => {
    const a = args[p++];
    const v = argString(a);
    if (v === null) throw new SearchSyntax("Missing search string.");
    return v;
  };
  const num = (): number => {
    const v = str();
    if (!/^\d{1,20}$/.test(v)) throw new SearchSyntax("Invalid number.");
    return Number(v);
  };
  const date = (): number => {
    const d = parseSearchDate(str());
    if (d === null) throw new SearchSyntax("Invalid date.");
    return d;
  };
  const one = (depth: number): Node => {
    if (depth > 100) throw new SearchSyntax("Search too deeply nested.");
    const a = args[p];
    if (!a) throw new SearchSyntax("Missing search key.");
    if (a.t === "list") {
      p++;
      const inner = a.v;
      if (!inner.length) throw new SearchSyntax("Empty search list.");
      const sub = parseSearchKeys(inner, 0);
      return sub;
    }
    const raw = argString(a)!;
    p++;
    const k = raw.toUpperCase();
    if (a.t === "atom" && (k === "$" || isSeqSetSyntax(raw))) {
      if (k === "$") return { t: "saved" };
      const set = parseSeqSet(raw);
      if (!set) throw new SearchSyntax("Invalid sequence set.");
      return { t: "seq", set };
    }
    if (a.t !== "atom") throw new SearchSyntax("Invalid search key.");
    const fk = FLAG_KEYS[k];
    if (fk) return { t: "flag", bit: fk[0], neg: fk[1] };
    switch (k) {
      case "ALL":
        return { t: "all" };
      case "NEW":
        return { t: "new" };
      case "OLD":
        return { t: "old" };
      case "RECENT":
        return { t: "recent" };
      case "KEYWORD":
        return { t: "kw", k: str(), neg: false };
      case "UNKEYWORD":
        return { t: "kw", k: str(), neg: true };
      case "LARGER":
        return { t: "size", larger: true, n: num() };
      case "SMALLER":
        return { t: "size", larger: false, n: num() };
      case "BEFORE":
        return { t: "date", sent: false, op: "before", day: date() };
      case "ON":
        return { t: "date", sent: false, op: "on", day: date() };
      case "SINCE":
        return { t: "date", sent: false, op: "since", day: date() };
      case "SENTBEFORE":
        return { t: "date", sent: true, op: "before", day: date() };
      case "SENTON":
        return { t: "date", sent: true, op: "on", day: date() };
      case "SENTSINCE":
        return { t: "date", sent: true, op: "since", day: date() };
      case "OLDER":
        return { t: "within", older: true, secs: num() };
      case "YOUNGER":
        return { t: "within", older: false, secs: num() };
      case "BODY":
        return { t: "fts", field: "body", q: str() };
      case "TEXT":
        return { t: "fts", field: "text", q: str() };
      case "SUBJECT":
        return { t: "fts", field: "subject", q: str() };
      case "FROM":
      case "TO":
      case "CC":
      case "BCC":
        return { t: "addr", field: k.toLowerCase() as "from", q: str() };
      case "HEADER": {
        const name = str();
        const q = str();
        if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) throw new SearchSyntax("Invalid header name.");
        return { t: "header", name: name.toLowerCase(), q };
      }
      case "UID": {
        const v = str();
        if (v === "$") return { t: "saved" };
        const set = parseSeqSet(v);
        if (!set) throw new SearchSyntax("Invalid UID set.");
        return { t: "uid", set };
      }
      case "NOT":
        return { t: "not", a: one(depth + 1) };
      case "OR": {
        const x = one(depth + 1);
        const y = one(depth + 1);
        return { t: "or", a: x, b: y };
      }
      case "MODSEQ": {
        // RFC 7162 §3.1.5: MODSEQ [entry-name entry-type-req] mod-sequence-valzer
        const a1 = args[p];
        if (a1 && a1.t === "string") {
          p++;
          const et = argString(args[p++])?.toLowerCase();
          if (et !== "priv" && et !== "shared" && et !== "all") throw new SearchSyntax("Invalid MODSEQ entry type.");
        }
        return { t: "modseq", n: num() };
      }
      case "EMAILID":
        return { t: "emailid", id: str() };
      case "THREADID":
        return { t: "threadid", id: str() };
      default:
        throw new SearchSyntax("Unknown search key: " + raw.slice(0, 40));
    }
  };
  const list: Node[] = [];
  while (p < args.length) list.push(one(0));
  if (!list.length) throw new SearchSyntax("Missing search key.");
  return list.length === 1 ? list[0] : { t: "and", list };
}

// ---------------------------------------------------------------- evaluation

const F = 0;
const T = 1;
const U = 2; // unknown until the index is loaded
type Tri = 0 | 1 | 2;

interface EvalCtx {
  sel: SelectedMailbox;
  rev2: boolean;
  now: number;
  maxSeq: number;
  maxUid: number;
  /** Results of the text terms; null while they are not known yet (text nodes are then undecided). */
  fts: Map<Node, Set<number>> | null;
  saved: Set<number> | null;
  usesModseq: boolean;
}

const DAY = 86_400_000;

/** Day (UTC midnight ms) of a Date header in its own time zone (RFC 9051 §6.4.4: disregarding time and timezone). */
function sentDay(ix: MessageIndex): number | null {
  const raw = ix.envelope.date;
  if (raw) {
    const m = /(\d{1,2})\s*[- ]?\s*(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\s*[- ]?\s*(\d{2,4})/i.exec(raw.replace(/\([^()]*\)/g, " "));
    if (m) {
      let y = Number(m[3]);
      if (m[3].length === 2) y += y < 50 ? 2000 : 1900;
      else if (m[3].length === 3) y += 1900;
      const mon = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"].indexOf(m[2].toLowerCase());
      return Date.UTC(y, mon, Number(m[1]));
    }
  }
  if (ix.sentDate !== null) return Math.floor(ix.sentDate / DAY) * DAY;
  return null;
}

function dateCmp(op: "before" | "on" | "since", day: number, d: number): boolean {
  if (op === "before") return d < day;
  if (op === "on") return d >= day && d < day + DAY;
  return d >= day;
}

function addrMatches(list: Address[] | null, q: string): boolean {
  if (!list) return false;
  const ql = q.toLowerCase();
  for (const a of list) {
    if (a.name && decodeWords(a.name).toLowerCase().includes(ql)) return true;
    if (a.mailbox !== null) {
      const full = a.host && a.host !== MISSING_DOMAIN ? `${a.mailbox}@${a.host}` : a.mailbox;
      if (full.toLowerCase().includes(ql)) return true;
    }
  }
  return false;
}

function headerMatches(fields: HeaderField[], name: string, q: string): boolean {
  const ql = q.toLowerCase();
  for (const f of fields) {
    if (f.key !== name) continue;
    if (ql === "") return true;
    if (decodeHeaderText(f.value).toLowerCase().includes(ql)) return true;
  }
  return false;
}

function evalNode(n: Node, c: EvalCtx, seq: number, m: Msg, ix: MessageIndex | null, hdr: HeaderField[] | null): Tri {
  switch (n.t) {
    case "all":
      return T;
    case "flag": {
      const has = (m.flags.bits & n.bit) !== 0;
      return has !== n.neg ? T : F;
    }
    case "kw":
      return m.flags.hasKeyword(n.k) !== n.neg ? T : F;
    case "recent":
      return !c.rev2 && c.sel.isRecent(m.uid) ? T : F;
    case "new":
      return !c.rev2 && c.sel.isRecent(m.uid) && !(m.flags.bits & F_SEEN) ? T : F;
    case "old":
      return c.rev2 || !c.sel.isRecent(m.uid) ? T : F;
    case "seq":
      return setHas(n.set, seq, c.maxSeq) ? T : F;
    case "uid":
      return setHas(n.set, m.uid, c.maxUid) ? T : F;
    case "saved":
      return c.saved && c.saved.has(m.uid) ? T : F;
    case "size":
      return (n.larger ? m.size > n.n : m.size < n.n) ? T : F;
    case "date":
      if (!n.sent) return dateCmp(n.op, n.day, Math.floor(m.date / DAY) * DAY) ? T : F;
      if (!ix) return U;
      {
        const d = sentDay(ix);
        return d !== null && dateCmp(n.op, n.day, d) ? T : F;
      }
    case "within": {
      const age = (c.now - m.date) / 1000;
      return (n.older ? age > n.secs : age < n.secs) ? T : F;
    }
    case "fts":
      if (!c.fts) return U;
      return c.fts.get(n)!.has(m.uid) ? T : F;
    case "addr": {
      if (!ix) return U;
      const e = ix.envelope;
      const list = n.field === "from" ? e.from : n.field === "to" ? e.to : n.field === "cc" ? e.cc : e.bcc;
      return addrMatches(list, n.q) ? T : F;
    }
    case "header":
      if (!hdr) return U;
      return headerMatches(hdr, n.name, n.q) ? T : F;
    case "modseq":
      return m.modseq >= n.n ? T : F;
    case "emailid":
      return n.id === `M${m.id}` ? T : F;
    case "threadid":
      if (!ix) return U;
      return n.id === `T${ix.threadId}` ? T : F;
    case "not": {
      const r = evalNode(n.a, c, seq, m, ix, hdr);
      return r === U ? U : r === T ? F : T;
    }
    case "or": {
      const a = evalNode(n.a, c, seq, m, ix, hdr);
      if (a === T) return T;
      const b = evalNode(n.b, c, seq, m, ix, hdr);
      if (b === T) return T;
      return a === U || b === U ? U : F;
    }
    case "and": {
      let unknown = false;
      for (const x of n.list) {
        const r = evalNode(x, c, seq, m, ix, hdr);
        if (r === F) return F;
        if (r === U) unknown = true;
      }
      return unknown ? U : T;
    }
  }
}

function walk(n: Node, f: (n: Node) => void): void {
  f(n);
  if (n.t === "not") walk(n.a, f);
  else if (n.t === "or") {
    walk(n.a, f);
    walk(n.b, f);
  } else if (n.t === "and") for (const x of n.list) walk(x, f);
}

/**
 * Runs a search over the view (or, for UPDATE contexts, over the current
 * cache). Returns matching messages as { seq, uid } in ascending order.
 */
export interface SearchHit {
  seq: number;
  m: Msg;
}

/** Search hits; `expunged` is set when messages of the view were already expunged (RFC 5530 EXPUNGEISSUED). */
export type SearchResult = SearchHit[] & { expunged?: boolean };

/**
 * Text criteria per SEARCH (BODY, TEXT, SUBJECT, FROM, TO, CC, BCC, HEADER).
 * Each costs a pass over text; a 64 KB command could otherwise hold
 * thousands of them. 64 is far above what any client sends; beyond it the
 * command gets NO [LIMIT] (RFC 5530 §3).
 */
export const MAX_TEXT_TERMS = 64;

/**
 * Work one SEARCH may spend on text the index cannot answer (terms under
 * three characters, bodies indexed only in part). Reading and decoding the
 * messages is the costly part (about 0.1-0.3 s per 13 MB here); comparing
 * decoded text is some fifty times cheaper per byte. 256 MiB read is a few
 * seconds of CPU at most, 4 GiB compared about one; past either the command
 * ends with NO [LIMIT] rather than holding the CPU. Mutable for tests only.
 */
export const searchLimits = {
  maxReadBytes: 256 * 1024 * 1024,
  maxCompareBytes: 4 * 1024 * 1024 * 1024,
};

function tooMany(): never {
  throw new StoreError("LIMIT", `Too many search terms (at most ${MAX_TEXT_TERMS} text criteria)`);
}

export async function runSearch(s: Session, tree: Node, opts: { overCache?: boolean } = {}): Promise<SearchResult> {
  const sel = s.sel!;
  let needIndex = false;
  let needHeader = false;
  let usesModseq = false;
  let textTerms = 0;
  const ftsNodes: Node[] = [];
  walk(tree, (n) => {
    if (n.t === "fts" || n.t === "addr" || n.t === "header") textTerms++;
    if (n.t === "fts") ftsNodes.push(n);
    else if (n.t === "addr" || n.t === "threadid" || (n.t === "date" && n.sent)) needIndex = true;
    else if (n.t === "header") needHeader = true;
    else if (n.t === "modseq") usesModseq = true;
  });
  if (textTerms > MAX_TEXT_TERMS) tooMany();
  const uids = opts.overCache ? sel.cache.uids : sel.uids;
  const count = uids.length;
  const ctx: EvalCtx = {
    sel,
    rev2: s.rev2,
    now: Date.now(),
    maxSeq: count,
    maxUid: count ? uids[count - 1] : 0,
    fts: null,
    saved: sel.saved ? new Set(sel.saved) : null,
    usesModseq,
  };
  const out: SearchResult = [];
  const undecided: SearchHit[] = [];
  const needText: SearchHit[] = [];
  const inStep = uids === sel.cache.uids;
  // First pass, from memory: flags, sizes, dates, sets. Text criteria are undecided here,
  // so only messages these cheap criteria leave in are ever read for text.
  for (let i = 0; i < count; i++) {
    let m = inStep ? sel.cache.msgs[i] : sel.cache.get(uids[i]);
    let gone = false;
    if (!m) {
      // RFC 9051 §7.5.1 / RFC 3501 §7.4.1: a message expunged by another session still exists
      // for this one until it is told with EXPUNGE, so it is still searched (as Dovecot does),
      // with what the session knows of it: flags, size, dates, UID, sequence number, modseq.
      m = sel.expungedMsg(uids[i]);
      out.expunged = true;
      if (!m) continue;
      gone = true;
    }
    const r = evalNode(tree, ctx, i + 1, m, null, null);
    if (r === T) out.push({ seq: i + 1, m });
    // Its text, envelope and header are gone from the store with it: criteria that need them
    // do not match it (an undecided result counts as no match), whatever NOT surrounds them.
    else if (r === U && !gone) (ftsNodes.length ? needText : undecided).push({ seq: i + 1, m });
  }
  if (needText.length) {
    // one store call for all text terms: the short ones share one pass over these messages
    const terms: TextTerm[] = [];
    const termOf = new Map<string, number>();
    const idxOf = new Map<Node, number>();
    for (const n of ftsNodes) {
      if (n.t !== "fts") continue;
      const key = n.field + "\0" + n.q;
      let k = termOf.get(key);
      if (k === undefined) {
        k = terms.length;
        termOf.set(key, k);
        terms.push({ field: n.field, query: n.q });
      }
      idxOf.set(n, k);
    }
    const hits = await s.store.searchTextTerms(sel.folderId, terms, {
      uids: needText.map((e) => e.m.uid).sort((a, b) => a - b),
      maxReadBytes: searchLimits.maxReadBytes,
      maxCompareBytes: searchLimits.maxCompareBytes,
    });
    const sets = hits.map((h) => new Set(h));
    const fts = new Map<Node, Set<number>>();
    for (const [n, k] of idxOf) fts.set(n, sets[k]);
    ctx.fts = fts;
    for (const e of needText) {
      const r = evalNode(tree, ctx, e.seq, e.m, null, null);
      if (r === T) out.push(e);
      else if (r === U) undecided.push(e);
    }
  }
  if (undecided.length) {
    for (let b = 0; b < undecided.length; b += 500) {
      const batch = undecided.slice(b, b + 500);
      const ixs = await loadIndexes(s, sel.folderId, batch.map((e) => e.m));
      for (const e of batch) {
        const ix = ixs.get(e.m.uid) ?? null;
        if (!ix) continue;
        let hdr: HeaderField[] | null = null;
        if (needHeader) {
          const block = await readBytes(s, ix, ix.root.headerStart, ix.root.bodyStart);
          hdr = parseHeaderBlock(block, 0, block.length).fields;
        }
        if (needIndex || needHeader) {
          const r = evalNode(tree, ctx, e.seq, e.m, ix, hdr);
          if (r === T) out.push(e);
        }
      }
    }
  }
  if (needText.length || undecided.length) out.sort((a, b) => a.seq - b.seq);
  return out;
}

// ---------------------------------------------------------------- ESEARCH / SEARCH output

export interface ReturnOpts {
  min: boolean;
  max: boolean;
  all: boolean;
  count: boolean;
  save: boolean;
  update: boolean;
  partial: [number, number] | null;
  /** RETURN given at all (ESEARCH response). */
  esearch: boolean;
}

/** Parses RETURN (...) (RFC 4731 §3.1, RFC 5267 §4); returns [options, next arg index] or an error text. */
export function parseReturn(args: Arg[], i: number): [ReturnOpts, number] | string {
  const r: ReturnOpts = { min: false, max: false, all: false, count: false, save: false, update: false, partial: null, esearch: false };
  if (!isAtom(args[i], "RETURN")) return [r, i];
  const l = args[i + 1];
  if (!l || l.t !== "list") return "Invalid RETURN options.";
  r.esearch = true;
  const v = l.v;
  for (let k = 0; k < v.length; k++) {
    const o = argString(v[k])?.toUpperCase();
    switch (o) {
      case "MIN":
        r.min = true;
        break;
      case "MAX":
        r.max = true;
        break;
      case "ALL":
        r.all = true;
        break;
      case "COUNT":
        r.count = true;
        break;
      case "SAVE":
        r.save = true;
        break;
      case "UPDATE":
        r.update = true;
        break;
      case "CONTEXT":
        break; // a hint (RFC 5267 §4.2)
      case "PARTIAL": {
        const pv = argString(v[++k]);
        const m = pv ? /^(\d{1,10}):(\d{1,10})$/.exec(pv) : null;
        if (!m || m[1] === "0" || m[2] === "0") return "Invalid PARTIAL range.";
        let a = Number(m[1]);
        let b = Number(m[2]);
        if (a > b) [a, b] = [b, a];
        r.partial = [a, b];
        break;
      }
      default:
        return "Unknown RETURN option.";
    }
  }
  if (!r.min && !r.max && !r.all && !r.count && !r.save && !r.partial && !r.update) r.all = true;
  if (r.update && !r.min && !r.max && !r.all && !r.count && !r.partial) {
    /* UPDATE alone: initial result reported as ALL when non-empty (RFC 5267 §4.3) */
  }
  return [r, i + 2];
}

function quoteTag(tag: string): string {
  return '"' + tag.replace(/[\\"]/g, (m) => "\\" + m) + '"';
}

/** Builds the ESEARCH response for `nums` (sequence numbers or UIDs, in result order). */
export function esearchLine(tag: string, uid: boolean, r: ReturnOpts, nums: number[], modseq: number | null, sorted: boolean): string {
  let out = `* ESEARCH (TAG ${quoteTag(tag)})${uid ? " UID" : ""}`;
  if (nums.length) {
    if (r.min) out += ` MIN ${sorted ? nums[0] : Math.min(...nums)}`;
    if (r.max) out += ` MAX ${sorted ? nums[nums.length - 1] : Math.max(...nums)}`;
  }
  if (r.all && nums.length) out += ` ALL ${formatSet(nums)}`;
  if (r.count) out += ` COUNT ${nums.length}`;
  if (r.partial) {
    const [a, b] = r.partial;
    const slice = nums.slice(a - 1, b);
    out += ` PARTIAL (${a}:${b} ${slice.length ? formatSet(slice) : "NIL"})`;
  }
  if (modseq !== null && nums.length) out += ` MODSEQ ${modseq}`;
  return out + "\r\n";
}

function usesModseq(tree: Node): boolean {
  let u = false;
  walk(tree, (n) => {
    if (n.t === "modseq") u = true;
  });
  return u;
}

/** Parses [RETURN (...)] [CHARSET x] keys. */
export function parseSearchCommand(args: Arg[]): { ret: ReturnOpts; tree: Node } | Result {
  const rr = parseReturn(args, 0);
  if (typeof rr === "string") return bad(rr);
  const [ret, i0] = rr;
  let i = i0;
  if (isAtom(args[i], "CHARSET")) {
    const cs = argString(args[i + 1])?.toUpperCase();
    if (!cs) return bad("Missing charset.");
    if (cs !== "US-ASCII" && cs !== "UTF-8" && cs !== "UTF8") return no("Unsupported charset.", "BADCHARSET (US-ASCII UTF-8)");
    i += 2;
  }
  try {
    return { ret, tree: parseSearchKeys(args, i) };
  } catch (e) {
    if (e instanceof SearchSyntax) return bad(e.text);
    throw e;
  }
}

async function searchCommand(s: Session, tag: string, args: Arg[], uid: boolean): Promise<Result> {
  const sel = s.sel!;
  const parsed = parseSearchCommand(args);
  if ("status" in parsed) return parsed;
  const { ret, tree } = parsed;
  const modseqUsed = usesModseq(tree);
  if (modseqUsed && !s.condstore) enableCondstore(s);
  const res = await runSearch(s, tree);
  const nums = res.map((e) => (uid ? e.m.uid : e.seq));
  // highest modseq of the messages returned (RFC 7162 §3.1.5; for MIN/MAX only those)
  const modseqOf = (list: { m: Msg }[]) => (list.length ? Math.max(...list.map((e) => e.m.modseq)) : null);

  if (ret.save) {
    // RFC 5182 §2.4: with MIN/MAX only, the saved result is those
    let saveList = res;
    if ((ret.min || ret.max) && !ret.all && !ret.count && !ret.partial && res.length) {
      saveList = [];
      if (ret.min) saveList.push(res[0]);
      if (ret.max && res.length > 1) saveList.push(res[res.length - 1]);
      else if (ret.max && !ret.min) saveList.push(res[0]);
    }
    sel.saved = saveList.map((e) => e.m.uid);
  }
  if (s.rev2 && !ret.esearch) ret.all = ret.esearch = true;
  if (ret.esearch) {
    const onlySave = ret.save && !ret.min && !ret.max && !ret.all && !ret.count && !ret.partial && !ret.update;
    if (!onlySave) {
      let ms: number | null = null;
      if (modseqUsed) {
        if ((ret.min || ret.max) && !ret.all && !ret.count && !ret.partial) {
          const l: { m: Msg }[] = [];
          if (ret.min && res.length) l.push(res[0]);
          if (ret.max && res.length) l.push(res[res.length - 1]);
          ms = modseqOf(l);
        } else ms = modseqOf(res);
      }
      const showAll = ret.update && !ret.min && !ret.max && !ret.count && !ret.partial ? { ...ret, all: true } : ret;
      s.send(esearchLine(tag, uid, showAll, nums, ms, true));
    }
    if (ret.update) registerUpdate(s, tag, uid, tree, res.map((e) => e.m.uid));
  } else {
    let line = "* SEARCH";
    for (const n of nums) line += " " + n;
    if (modseqUsed && res.length) line += ` (MODSEQ ${modseqOf(res)})`;
    s.send(line + "\r\n");
  }
  return ok(uid ? "UID SEARCH completed." : "Search completed.", res.expunged ? "EXPUNGEISSUED" : undefined);
}

// ---------------------------------------------------------------- CONTEXT=SEARCH UPDATE (RFC 5267 §4.3)

interface UpdateCtx {
  tag: string;
  uid: boolean;
  tree: Node;
  result: Set<number>;
}
const updateCtxs = new WeakMap<SelectedMailbox, UpdateCtx[]>();

function registerUpdate(s: Session, tag: string, uid: boolean, tree: Node, uids: number[]): void {
  const sel = s.sel!;
  let list = updateCtxs.get(sel);
  if (!list) updateCtxs.set(sel, (list = []));
  list.push({ tag, uid, tree, result: new Set(uids) });
  sel.updates = true;
}

/**
 * Called around the view sync: removals are reported with the numbering the
 * client has before the EXPUNGEs, additions after EXISTS (RFC 5267 §4.3).
 */
type Pending = { ctx: UpdateCtx; added: number[] }[] | null;
syncHooks.before = (s) => updateContextsBefore(s);
syncHooks.after = (s, p) => updateContextsAfter(s, p as Pending);

export async function updateContextsBefore(s: Session): Promise<Pending> {
  const sel = s.sel;
  if (!sel) return null;
  const list = updateCtxs.get(sel);
  if (!list || !list.length || !sel.updateDirty) return null;
  sel.updateDirty = false;
  const pending: { ctx: UpdateCtx; added: number[] }[] = [];
  for (const ctx of list) {
    let now: SearchResult;
    try {
      now = await runSearch(s, ctx.tree, { overCache: true });
    } catch (e) {
      // the folder grew past the scan budget since the context was made: keep its last result
      if (e instanceof StoreError && e.code === "LIMIT") continue;
      throw e;
    }
    const nowSet = new Set(now.map((e) => e.m.uid));
    const removed: number[] = [];
    for (const u of ctx.result) if (!nowSet.has(u)) removed.push(u);
    const added: number[] = [];
    for (const u of nowSet) if (!ctx.result.has(u)) added.push(u);
    ctx.result = nowSet;
    if (removed.length) {
      removed.sort((a, b) => a - b);
      const nums = ctx.uid ? removed : removed.map((u) => sel.indexOfUid(u) + 1).filter((x) => x > 0);
      if (nums.length) s.send(`* ESEARCH (TAG ${quoteTag(ctx.tag)})${ctx.uid ? " UID" : ""} REMOVEFROM (0 ${formatSet(nums)})\r\n`);
    }
    pending.push({ ctx, added: added.sort((a, b) => a - b) });
  }
  return pending;
}

export function updateContextsAfter(s: Session, pending: Pending): void {
  const sel = s.sel;
  if (!sel || !pending) return;
  for (const { ctx, added } of pending) {
    if (!added.length) continue;
    const nums = ctx.uid ? added : added.map((u) => sel.indexOfUid(u) + 1).filter((x) => x > 0);
    if (nums.length) s.send(`* ESEARCH (TAG ${quoteTag(ctx.tag)})${ctx.uid ? " UID" : ""} ADDTO (0 ${formatSet(nums)})\r\n`);
  }
}

registerCommands({
  SEARCH: { state: "selected", seq: true, fn: (s, cmd) => searchCommand(s, cmd.tag, cmd.args, false) },
  "UID SEARCH": { state: "selected", fn: (s, cmd) => searchCommand(s, cmd.tag, cmd.args, true) },
  CANCELUPDATE: {
    state: "selected",
    fn(s, cmd) {
      // RFC 5267 §4.3
      const list = updateCtxs.get(s.sel!);
      if (!cmd.args.length) return bad("CANCELUPDATE needs tags.");
      for (const a of cmd.args) {
        const t = argString(a);
        if (t === null) return bad("Invalid tag.");
        if (list) {
          const i = list.findIndex((c) => c.tag === t);
          if (i >= 0) list.splice(i, 1);
        }
      }
      if (list && !list.length) s.sel!.updates = false;
      return ok("Updates cancelled.");
    },
  },
});
