/**
 * SORT and THREAD (RFC 5256) with ESORT / CONTEXT=SORT (RFC 5267) and
 * SORT=DISPLAY (RFC 5957). Keys come from the stored index (envelope, base
 * subject, Date header); strings compare with i;ascii-casemap.
 */
import type { Address, MessageIndex } from "../../storage/api.ts";
import { decodeWords } from "../../mail/headers.ts";
import { MISSING_DOMAIN } from "../../mail/address.ts";
import { parseMailDate } from "../../mail/date.ts";
import { argString, type Arg } from "./parser.ts";
import { loadIndexes } from "./fetch.ts";
import { esearchLine, parseReturn, parseSearchKeys, runSearch } from "./search.ts";
import type { Msg } from "./state.ts";
import { bad, no, ok, registerCommands, type Result, type Session } from "./session.ts";

type Key = "ARRIVAL" | "CC" | "DATE" | "FROM" | "SIZE" | "SUBJECT" | "TO" | "DISPLAYFROM" | "DISPLAYTO";
const KEYS = new Set<Key>(["ARRIVAL", "CC", "DATE", "FROM", "SIZE", "SUBJECT", "TO", "DISPLAYFROM", "DISPLAYTO"]);

interface Item {
  seq: number;
  m: Msg;
  ix: MessageIndex;
}

function casemap(s: string): string {
  // i;ascii-casemap: ASCII letters fold to upper case, everything else as is
  return s.replace(/[a-z]+/g, (x) => x.toUpperCase());
}

/** RFC 5256 §3: the addr-mailbox of the first address (a group's name counts). */
function firstMailbox(list: Address[] | null): string {
  if (!list) return "";
  for (const a of list) if (a.mailbox !== null) return a.mailbox;
  return "";
}

/** RFC 5957 §3: display-name if present, else the addr-spec. */
function displayName(list: Address[] | null): string {
  if (!list) return "";
  for (const a of list) {
    if (a.mailbox === null) continue;
    if (a.name) {
      const n = decodeWords(a.name).trim();
      if (n) return n;
    }
    if (a.host === null) return a.mailbox; // group name
    return a.host === MISSING_DOMAIN ? a.mailbox : `${a.mailbox}@${a.host}`;
  }
  return "";
}

/** RFC 5256 §2.2: sent date, or the internal date when the Date header is missing or invalid. */
function sentDate(it: { m: Msg; ix: MessageIndex }): number {
  const d = it.ix.sentDate ?? parseMailDate(it.ix.envelope.date);
  return d ?? it.m.date;
}

function keyValue(k: Key, it: Item): string | number {
  switch (k) {
    case "ARRIVAL":
      return it.m.date;
    case "SIZE":
      return it.m.size;
    case "DATE":
      return sentDate(it);
    case "SUBJECT":
      return casemap(it.ix.baseSubject);
    case "FROM":
      return casemap(firstMailbox(it.ix.envelope.from));
    case "TO":
      return casemap(firstMailbox(it.ix.envelope.to));
    case "CC":
      return casemap(firstMailbox(it.ix.envelope.cc));
    case "DISPLAYFROM":
      return casemap(displayName(it.ix.envelope.from)).toLowerCase();
    case "DISPLAYTO":
      return casemap(displayName(it.ix.envelope.to)).toLowerCase();
  }
}

async function matched(s: Session, args: Arg[], i: number): Promise<(Item[] & { expunged?: boolean }) | Result> {
  const cs = argString(args[i])?.toUpperCase();
  if (!cs) return bad("Missing charset.");
  if (cs !== "US-ASCII" && cs !== "UTF-8" && cs !== "UTF8") return no("Unsupported charset.", "BADCHARSET (US-ASCII UTF-8)");
  let tree;
  try {
    tree = parseSearchKeys(args, i + 1);
  } catch (e) {
    return bad((e as { text?: string }).text ?? "Invalid search.");
  }
  const res = await runSearch(s, tree);
  const ixs = await loadIndexes(s, s.sel!.folderId, res.map((e) => e.m));
  const out: Item[] & { expunged?: boolean } = [];
  for (const e of res) {
    const ix = ixs.get(e.m.uid);
    if (ix) out.push({ seq: e.seq, m: e.m, ix });
    else out.expunged = true;
  }
  if (res.expunged) out.expunged = true;
  return out;
}

async function sortCommand(s: Session, tag: string, args: Arg[], uid: boolean): Promise<Result> {
  const rr = parseReturn(args, 0);
  if (typeof rr === "string") return bad(rr);
  const [ret, i0] = rr;
  const crit = args[i0];
  if (!crit || crit.t !== "list" || !crit.v.length) return bad("Invalid sort criteria.");
  const keys: { k: Key; rev: boolean }[] = [];
  let rev = false;
  for (const a of crit.v) {
    const k = argString(a)?.toUpperCase();
    if (k === "REVERSE") {
      if (rev) return bad("Invalid sort criteria.");
      rev = true;
      continue;
    }
    if (!k || !KEYS.has(k as Key)) return bad("Unknown sort key.");
    keys.push({ k: k as Key, rev });
    rev = false;
  }
  if (rev || !keys.length) return bad("Invalid sort criteria.");
  const items = await matched(s, args, i0 + 1);
  if (!Array.isArray(items)) return items;
  const vals = items.map((it) => keys.map((k) => keyValue(k.k, it)));
  const order = items.map((_, i) => i);
  order.sort((a, b) => {
    for (let j = 0; j < keys.length; j++) {
      const x = vals[a][j];
      const y = vals[b][j];
      if (x === y) continue;
      const c = x < y ? -1 : 1;
      return keys[j].rev ? -c : c;
    }
    // RFC 5256 §3: ties end in sequence order (never reversed)
    return items[a].seq - items[b].seq;
  });
  const nums = order.map((i) => (uid ? items[i].m.uid : items[i].seq));
  if (ret.esearch) {
    // RFC 5267 §3: ESORT; MIN/MAX are the first/last in sort order's number range
    const r = { ...ret };
    const line = esearchLine(tag, uid, r, nums, null, false);
    s.send(line);
  } else {
    s.send(`* SORT${nums.map((n) => " " + n).join("")}\r\n`);
  }
  return ok(uid ? "UID SORT completed." : "Sort completed.", items.expunged ? "EXPUNGEISSUED" : undefined);
}

// ---------------------------------------------------------------- THREAD

interface TNode {
  item: Item | null; // null = dummy
  id: string;
  parent: TNode | null;
  children: TNode[];
}

function isAncestor(a: TNode, b: TNode): boolean {
  // is a an ancestor of b (or b itself)?
  for (let x: TNode | null = b; x; x = x.parent) if (x === a) return true;
  return false;
}

function unlink(n: TNode): void {
  if (!n.parent) return;
  const p = n.parent;
  p.children.splice(p.children.indexOf(n), 1);
  n.parent = null;
}

function link(parent: TNode, child: TNode): void {
  child.parent = parent;
  parent.children.push(child);
}

/** Date used to order siblings: a dummy takes its first child's (RFC 5256 §2.2 step 6). */
function nodeDate(n: TNode): [number, number] {
  if (n.item) return [sentDate(n.item), n.item.seq];
  return n.children.length ? nodeDate(n.children[0]) : [0, 0];
}

function sortTree(list: TNode[]): void {
  for (const n of list) sortTree(n.children);
  list.sort((a, b) => {
    const [da, sa] = nodeDate(a);
    const [db, sb] = nodeDate(b);
    return da - db || sa - sb;
  });
}

function fmt(n: TNode, uid: boolean): string {
  const me = n.item ? String(uid ? n.item.m.uid : n.item.seq) : "";
  if (!n.children.length) return me;
  if (n.children.length === 1 && n.item) return me + " " + fmt(n.children[0], uid);
  return me + (me ? " " : "") + n.children.map((c) => "(" + fmt(c, uid) + ")").join("");
}

const REPLY_RE = /^\s*((re|fwd?)\s*(\[[^\]]*\]\s*)?:\s*)+/i;

/** True when base-subject extraction removed a reply/forward marker (RFC 5256 §2.1). */
function isReply(it: Item): boolean {
  const subj = it.ix.subject ?? "";
  return REPLY_RE.test(subj) || /\(fwd\)\s*$/i.test(subj) || /^\s*\[fwd:/i.test(subj);
}

function subjectOf(n: TNode): Item | null {
  if (n.item) return n.item;
  return n.children[0]?.item ?? (n.children[0] ? subjectOf(n.children[0]) : null);
}

/** RFC 5256 §2.2 REFERENCES. */
function threadReferences(items: Item[]): TNode[] {
  const table = new Map<string, TNode>();
  let uniq = 0;
  const get = (id: string): TNode => {
    let n = table.get(id);
    if (!n) table.set(id, (n = { item: null, id, parent: null, children: [] }));
    return n;
  };
  for (const it of items) {
    let mid = it.ix.messageId;
    // missing or duplicate Message-ID: a unique one (RFC 5256 step 1)
    if (!mid || (table.has(mid) && table.get(mid)!.item)) mid = `\0unique${uniq++}`;
    const node = get(mid);
    node.item = it;
    let refs = it.ix.references.filter((r) => r);
    if (!refs.length && it.ix.inReplyTo) refs = [it.ix.inReplyTo];
    // (A) link the references in order, never re-parenting or making loops
    let prev: TNode | null = null;
    for (const r of refs) {
      const c = get(r);
      if (prev && !c.parent && c !== prev && !isAncestor(c, prev)) link(prev, c);
      prev = c;
    }
    // (B) the last reference becomes the parent: the old link goes first, and the
    // new one is not made if it would close a loop
    if (prev) {
      unlink(node);
      if (prev !== node && !isAncestor(node, prev)) link(prev, node);
    }
  }
  // (2) root set
  let roots: TNode[] = [];
  for (const n of table.values()) if (!n.parent) roots.push(n);
  // (4) prune dummies
  const prune = (list: TNode[], atRoot: boolean): TNode[] => {
    const out: TNode[] = [];
    for (const n of list) {
      n.children = prune(n.children, false);
      for (const c of n.children) c.parent = n;
      if (!n.item) {
        if (!n.children.length) continue; // (A)
        if (!atRoot || n.children.length === 1) {
          // (B) promote the children to this level
          for (const c of n.children) out.push(c);
          continue;
        }
      }
      out.push(n);
    }
    return out;
  };
  roots = prune(roots, true);
  for (const r of roots) r.parent = null;
  // (5) gather threads with the same base subject
  const subj = new Map<string, TNode>();
  for (const r of roots) {
    const it = subjectOf(r);
    if (!it) continue;
    const base = it.ix.baseSubject;
    if (!base) continue;
    const cur = subj.get(base);
    if (!cur || (!r.item && cur.item) || (cur.item && r.item && isReply(subjectOf(cur)!) && !isReply(it))) subj.set(base, r);
  }
  const merged: TNode[] = [];
  for (const r of roots) {
    const it = subjectOf(r);
    const base = it?.ix.baseSubject ?? "";
    const t = base ? subj.get(base) : undefined;
    if (!t || t === r) {
      merged.push(r);
      continue;
    }
    if (!t.item && !r.item) {
      for (const c of r.children) link(t, c);
      r.children = [];
    } else if (!t.item && r.item) {
      link(t, r);
    } else if (t.item && r.item && !isReply(t.item) && isReply(r.item)) {
      link(t, r);
    } else {
      // a new dummy holds both
      const d: TNode = { item: null, id: `\0dummy${uniq++}`, parent: null, children: [] };
      const at = merged.indexOf(t);
      if (at >= 0) merged[at] = d;
      else {
        // t comes later in the root list: replace it there when we reach it
        const ri = roots.indexOf(t);
        roots[ri] = d;
      }
      link(d, t);
      link(d, r);
      subj.set(base, d);
    }
  }
  // (6) sort siblings by date, then output order
  sortTree(merged);
  return merged;
}

/** RFC 5256 §2.1 ORDEREDSUBJECT. */
function threadOrderedSubject(items: Item[]): TNode[] {
  const sorted = items.slice().sort((a, b) => {
    const sa = casemap(a.ix.baseSubject);
    const sb = casemap(b.ix.baseSubject);
    if (sa !== sb) return sa < sb ? -1 : 1;
    return sentDate(a) - sentDate(b) || a.seq - b.seq;
  });
  const threads: TNode[] = [];
  let cur: TNode | null = null;
  let curSubj = "";
  for (const it of sorted) {
    const sj = casemap(it.ix.baseSubject);
    const n: TNode = { item: it, id: "", parent: null, children: [] };
    if (cur && sj === curSubj) link(cur, n);
    else {
      cur = n;
      curSubj = sj;
      threads.push(n);
    }
  }
  threads.sort((a, b) => sentDate(a.item!) - sentDate(b.item!) || a.item!.seq - b.item!.seq);
  return threads;
}

async function threadCommand(s: Session, args: Arg[], uid: boolean): Promise<Result> {
  const alg = argString(args[0])?.toUpperCase();
  if (alg !== "REFERENCES" && alg !== "ORDEREDSUBJECT" && alg !== "REFS") return bad("Unknown threading algorithm.");
  const items = await matched(s, args, 1);
  if (!Array.isArray(items)) return items;
  const roots = alg === "ORDEREDSUBJECT" ? threadOrderedSubject(items) : threadReferences(items);
  let out = "* THREAD ";
  for (const r of roots) out += "(" + fmt(r, uid) + ")";
  s.send(out + "\r\n");
  return ok(uid ? "UID THREAD completed." : "Thread completed.", items.expunged ? "EXPUNGEISSUED" : undefined);
}

registerCommands({
  SORT: { state: "selected", seq: true, fn: (s, cmd) => sortCommand(s, cmd.tag, cmd.args, false) },
  "UID SORT": { state: "selected", fn: (s, cmd) => sortCommand(s, cmd.tag, cmd.args, true) },
  THREAD: { state: "selected", seq: true, fn: (s, cmd) => threadCommand(s, cmd.args, false) },
  "UID THREAD": { state: "selected", fn: (s, cmd) => threadCommand(s, cmd.args, true) },
});
