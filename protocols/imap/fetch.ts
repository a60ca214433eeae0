/**
 * FETCH and UID FETCH (RFC 9051 §6.4.5, §6.4.9; BINARY RFC 3516; CONDSTORE /
 * QRESYNC CHANGEDSINCE and VANISHED RFC 7162 §3.1.4, §3.2.6; OBJECTID
 * RFC 8474; PREVIEW RFC 8970).
 *
 * ENVELOPE and BODYSTRUCTURE come from the stored index; BODY[section]
 * and BINARY[section] are byte ranges of the blob (read in one piece for
 * small messages, streamed in chunks for large sections). Nothing is
 * re-parsed. Output respects socket backpressure.
 */
import type { MessageIndex } from "../../storage/api.ts";
import { argString, isAtom, type Arg } from "./parser.ts";
import { bodyStructureString, envelopeString, formatInternalDate, formatSet, nstr, str } from "./encode.ts";
import { base64Lines, binaryEntity, binaryPart, decodeCte, filterHeader, parseSection, resolvePart, sectionRange, sevenBitEntity, type Section } from "./mime.ts";
import { lowerBound, parseSeqSet, resolveSeq, resolveUid, setHas, STAR, type SeqSet } from "./seqset.ts";
import { renderFlagLines, type FlagItem, type FlagLinesJob } from "./flag-lines.ts";
import { F_SEEN, type Msg } from "./state.ts";
import { bad, no, ok, registerCommands, type Result, type Session } from "./session.ts";

type Item =
  | { k: "UID" | "FLAGS" | "INTERNALDATE" | "RFC822.SIZE" | "ENVELOPE" | "BODY" | "BODYSTRUCTURE" | "MODSEQ" | "EMAILID" | "THREADID" | "PREVIEW" | "RFC822" | "RFC822.HEADER" | "RFC822.TEXT" }
  | { k: "SEC"; name: string; sec: Section; peek: boolean; partial: [number, number] | null; binary: boolean }
  | { k: "BINARY.SIZE"; name: string; sec: Section };

const SIMPLE = new Set(["UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY", "BODYSTRUCTURE", "MODSEQ", "EMAILID", "THREADID", "PREVIEW", "RFC822", "RFC822.HEADER", "RFC822.TEXT"]);
const FAST_ITEMS = new Set(["UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE", "MODSEQ", "EMAILID"]);
const MACROS: Record<string, string[]> = {
  ALL: ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"],
  FAST: ["FLAGS", "INTERNALDATE", "RFC822.SIZE"],
  FULL: ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"],
};

const SEC_RE = /^(BODY|BODY\.PEEK|BINARY|BINARY\.PEEK|BINARY\.SIZE)\[(.*)\](?:<([0-9]{1,10})\.([0-9]{1,10})>)?$/is;

function parseItem(a: Arg, items: Item[]): string | null {
  const v = argString(a);
  if (v === null || a.t !== "atom") return "Invalid fetch item.";
  const up = v.toUpperCase();
  if (SIMPLE.has(up)) {
    items.push({ k: up as "UID" });
    return null;
  }
  const m = SEC_RE.exec(v);
  if (!m) return "Invalid fetch item: " + v.slice(0, 50);
  const kind = m[1].toUpperCase();
  const sec = parseSection(m[2]);
  if (!sec) return "Invalid section.";
  const binary = kind.startsWith("BINARY");
  if (binary && sec.kind !== "all" && sec.kind !== "part") return "BINARY takes part numbers only.";
  let partial: [number, number] | null = null;
  if (m[3] !== undefined) {
    if (kind === "BINARY.SIZE") return "Invalid fetch item.";
    const len = Number(m[4]);
    if (len === 0) return "Invalid partial.";
    partial = [Number(m[3]), len];
  }
  if (kind === "BINARY.SIZE") {
    items.push({ k: "BINARY.SIZE", name: `BINARY.SIZE[${sec.spec}]`, sec });
    return null;
  }
  items.push({ k: "SEC", name: `${binary ? "BINARY" : "BODY"}[${sec.spec}]`, sec, peek: kind.endsWith(".PEEK"), partial, binary });
  return null;
}

interface FetchRequest {
  items: Item[];
  changedSince: number | null;
  vanished: boolean;
  needIndex: boolean;
  setsSeen: boolean;
  fast: boolean;
  wantUid: boolean;
  wantFlags: boolean;
  wantModseq: boolean;
}

/** Parses "FETCH set items [modifiers]" arguments (after the set). */
function parseFetchArgs(args: Arg[], uid: boolean): FetchRequest | string {
  const items: Item[] = [];
  const spec = args[0];
  if (!spec) return "Missing fetch items.";
  if (spec.t === "list") {
    const v = spec.v;
    for (let i = 0; i < v.length; i++) {
      // PREVIEW (LAZY) (RFC 8970 §3)
      if (isAtom(v[i], "PREVIEW") && v[i + 1]?.t === "list") {
        items.push({ k: "PREVIEW" });
        i++;
        continue;
      }
      const e = parseItem(v[i], items);
      if (e) return e;
    }
    if (!items.length) return "Empty fetch item list.";
  } else {
    const up = argString(spec)?.toUpperCase() ?? "";
    if (MACROS[up]) for (const k of MACROS[up]) items.push({ k: k as "UID" });
    else {
      const e = parseItem(spec, items);
      if (e) return e;
    }
  }
  let changedSince: number | null = null;
  let vanished = false;
  if (args[1]) {
    if (args[1].t !== "list" || args.length > 2) return "Invalid fetch modifiers.";
    const m = args[1].v;
    for (let i = 0; i < m.length; i++) {
      const k = argString(m[i])?.toUpperCase();
      if (k === "CHANGEDSINCE") {
        const n = Number(argString(m[++i]));
        if (!Number.isSafeInteger(n) || n < 0) return "Invalid CHANGEDSINCE.";
        changedSince = n;
      } else if (k === "VANISHED") vanished = true;
      else return "Unknown fetch modifier.";
    }
    if (vanished && (!uid || changedSince === null)) return "VANISHED needs UID FETCH with CHANGEDSINCE.";
  }
  // the same item twice is answered once (as Dovecot does)
  const seenItems = new Set<string>();
  const uniq: Item[] = [];
  for (const it of items) {
    const key = it.k === "SEC" || it.k === "BINARY.SIZE" ? it.k + (it.k === "SEC" ? (it.peek ? "P" : "") + it.name + (it.partial ? `<${it.partial[0]}.${it.partial[1]}>` : "") : it.name) : it.k;
    if (seenItems.has(key)) continue;
    seenItems.add(key);
    uniq.push(it);
  }
  items.length = 0;
  items.push(...uniq);
  let needIndex = false;
  let setsSeen = false;
  let fast = true;
  let wantUid = uid;
  let wantFlags = false;
  let wantModseq = changedSince !== null;
  for (const it of items) {
    if (!FAST_ITEMS.has(it.k)) fast = false;
    if (it.k === "UID") wantUid = true;
    else if (it.k === "FLAGS") wantFlags = true;
    else if (it.k === "MODSEQ") wantModseq = true;
    if (["ENVELOPE", "BODY", "BODYSTRUCTURE", "THREADID", "PREVIEW", "RFC822", "RFC822.HEADER", "RFC822.TEXT", "SEC", "BINARY.SIZE"].includes(it.k)) needIndex = true;
    if (it.k === "RFC822" || it.k === "RFC822.TEXT" || (it.k === "SEC" && !it.peek)) setsSeen = true;
  }
  return { items, changedSince, vanished, needIndex, setsSeen, fast, wantUid, wantFlags, wantModseq };
}

// ---------------------------------------------------------------- memoised index strings

const strCache = new WeakMap<MessageIndex, { env?: string; bs?: string; body?: string }>();
function memo(ix: MessageIndex) {
  let m = strCache.get(ix);
  if (!m) strCache.set(ix, (m = {}));
  return m;
}
export function envelopeOf(ix: MessageIndex): string {
  const m = memo(ix);
  return (m.env ??= envelopeString(ix.envelope));
}
export function bodyStructureOf(ix: MessageIndex, ext: boolean): string {
  const m = memo(ix);
  if (ext) return (m.bs ??= bodyStructureString(ix.root, true));
  return (m.body ??= bodyStructureString(ix.root, false));
}

/** Full index rows for messages, from the shared LRU or the store (batched). */
export async function loadIndexes(s: Session, folderId: number, msgs: Msg[]): Promise<Map<number, MessageIndex>> {
  const out = new Map<number, MessageIndex>();
  const missing: number[] = [];
  const cache = s.shared.indexCache;
  for (const m of msgs) {
    const ix = cache.get(m.id);
    if (ix && ix.uid === m.uid && ix.folderId === folderId) out.set(m.uid, ix);
    else missing.push(m.uid);
  }
  for (let i = 0; i < missing.length; i += 500) {
    const rows = await s.store.getMessages(folderId, missing.slice(i, i + 500));
    for (const r of rows) {
      cache.set(r);
      out.set(r.uid, r);
    }
  }
  // Messages another session expunged that this session still shows (SORT/THREAD over them,
  // RFC 9051 §7.5.1): their rows are gone, so they get a stand-in with what the session knows.
  const sel = s.sel;
  if (sel && sel.folderId === folderId && out.size < msgs.length) {
    for (const m of msgs) if (!out.has(m.uid) && sel.expungedMsg(m.uid) === m) out.set(m.uid, standInIndex(m, folderId));
  }
  return out;
}

const NO_ENVELOPE = { date: null, subject: null, from: null, sender: null, replyTo: null, to: null, cc: null, bcc: null, inReplyTo: null, messageId: null };

/** An index row for an expunged message the client still sees: its metadata, no envelope and an empty body. */
function standInIndex(m: Msg, folderId: number): MessageIndex {
  return {
    id: m.id,
    uid: m.uid,
    modseq: m.modseq,
    flags: [...m.flags.list],
    internalDate: m.date,
    size: m.size,
    folderId,
    blobId: "",
    envelope: NO_ENVELOPE,
    root: { headerStart: 0, bodyStart: 0, bodyEnd: 0, type: "text", subtype: "plain", params: {}, id: null, description: null, encoding: "7bit", md5: null, disposition: null, language: null, location: null, lines: 0 },
    subject: "",
    baseSubject: "",
    fromAddr: "",
    fromName: "",
    toAddr: "",
    ccAddr: "",
    sentDate: null,
    messageId: null,
    inReplyTo: null,
    references: [],
    // its own conversation: a negative id no stored thread has
    threadId: -m.id,
    preview: "",
    hasAttachment: false,
    props: {},
  };
}

/** Whole message bytes, via the shared byte cache for small messages. */
export async function readWhole(s: Session, ix: MessageIndex): Promise<Uint8Array> {
  const rc = s.shared.rawCache;
  const hit = rc.get(ix.blobId);
  if (hit) return hit;
  const data = await s.store.readRange(ix.blobId, 0, ix.size);
  rc.set(ix.blobId, data);
  return data;
}

/** Bytes [start, end) of a message: from the whole message when it is small, else a range read. */
export async function readBytes(s: Session, ix: MessageIndex, start: number, end: number): Promise<Uint8Array> {
  if (end <= start) return new Uint8Array(0);
  if (ix.size <= s.shared.rawCache.maxItem) {
    const all = await readWhole(s, ix);
    return all.subarray(start, Math.min(end, all.length));
  }
  return s.store.readRange(ix.blobId, start, end);
}

/** Untagged NO lines for unreadable messages per FETCH (the tagged NO gives the total). */
const UNREADABLE_REPORTED = 20;

/** A message whose blob file is gone (storage/blobstore.ts BlobNotFoundError; matched by name, protocols do not import the blob store). */
function isBlobMissing(e: unknown): boolean {
  return (e as Error | null)?.name === "BlobNotFoundError";
}

/** Big sections are streamed in chunks of this size with backpressure. */
const STREAM_CHUNK = 256 * 1024;

function hasNul(b: Uint8Array): boolean {
  return b.indexOf(0) >= 0;
}

/** Content of a BODY/BINARY section (after partial), or null for NIL; "badcte" for BINARY with an unknown encoding. */
export async function sectionContent(
  s: Session,
  ix: MessageIndex,
  sec: Section,
  binary: boolean,
): Promise<Uint8Array | { stream: [number, number] } | null | "badcte"> {
  if (binary && !sec.path.length) {
    const whole = await readBytes(s, ix, 0, ix.size);
    return binaryEntity(whole, ix.root, true) ?? "badcte";
  }
  if (binary && sec.path.length) {
    const p = binaryPart(ix.root, sec);
    if (!p) return null;
    if (p.type === "multipart" || p.message) {
      const whole = await readBytes(s, ix, 0, ix.size);
      return binaryEntity(whole, p, false) ?? "badcte";
    }
    const raw = await readBytes(s, ix, p.bodyStart, p.bodyEnd);
    const dec = decodeCte(raw, p.encoding || "7bit");
    return dec === null ? "badcte" : dec;
  }
  const r = sectionRange(ix.root, sec, ix.size);
  if (!r) return null;
  if (r.filter) {
    const block = await readBytes(s, ix, r.start, r.end);
    return filterHeader(block, r.filter.fields, r.filter.not);
  }
  if (r.end - r.start > 4 * STREAM_CHUNK && ix.size > s.shared.rawCache.maxItem) return { stream: [r.start, r.end] };
  const data = await readBytes(s, ix, r.start, r.end);
  if (!binary && data.indexOf(0) >= 0) {
    // content stored as binary (APPEND ~{n}): BODY[] must not carry NUL (RFC 3516 §4.3)
    const whole = await readBytes(s, ix, 0, ix.size);
    if (sec.kind === "part") {
      const p = resolvePart(ix.root, sec.path);
      if (p && p.type !== "multipart" && !p.message) return base64Lines(data);
      if (p) return sevenBitEntity(whole, p, false);
    }
    if (sec.kind === "all") return sevenBitEntity(whole, ix.root, true);
    if (sec.kind === "text") return sevenBitEntity(whole, sec.path.length ? (resolvePart(ix.root, sec.path)?.message?.root ?? ix.root) : ix.root, false);
  }
  return data;
}

// ---------------------------------------------------------------- the command

async function fetchCommand(s: Session, args: Arg[], uid: boolean): Promise<Result> {
  const sel = s.sel!;
  const setStr = argString(args[0]);
  const set = setStr === null ? null : parseSeqSet(setStr);
  if (!set) return bad("Invalid sequence set.");
  const req = parseFetchArgs(args.slice(1), uid);
  if (typeof req === "string") return bad(req);
  const flagItems = flagLineItems(req, uid || s.qresync);
  // a single range (the usual "1:*") is resolved to its span without listing every index
  const span = flagItems ? singleSpan(s, set, uid) : null;
  if (span === "out of range") return bad("Invalid messageset (message sequence number out of range).");
  const r = span ? [] : resolveSet(s, set, uid);
  if (typeof r === "string") return bad(r);
  let idx = r;

  // RFC 7162 §3.1: MODSEQ / CHANGEDSINCE are CONDSTORE-enabling
  if ((req.wantModseq || req.changedSince !== null) && !s.condstore) enableCondstore(s);

  if (req.vanished && s.qresync) {
    // RFC 7162 §3.2.6: UIDs in the set expunged since the given modseq
    const ch = await s.store.changesSince(sel.folderId, req.changedSince!);
    const max = sel.count ? sel.uids[sel.count - 1] : 0;
    const gone = ch.expunged.filter((u) => setHas(set, u, max) && sel.indexOfUid(u) < 0);
    if (gone.length) s.send(`* VANISHED (EARLIER) ${formatSet(gone)}\r\n`);
  }

  if (flagItems) {
    const missingHere = await flagLinesFetch(s, flagItems, span ? [span] : toSpans(idx), req);
    if (s.isClosed) return ok("Connection gone.");
    if (missingHere && !uid) return no("Some of the requested messages no longer exist.", "EXPUNGEISSUED");
    return ok(uid ? "UID FETCH completed." : "Fetch completed.");
  }

  let missing = false;
  let unreadable = 0;
  const unreadableUids: number[] = [];
  const entries: { seq: number; m: Msg }[] = [];
  for (const i of idx) {
    const m = sel.msgAt(i);
    if (!m) {
      missing = true;
      continue;
    }
    if (req.changedSince !== null && m.modseq <= req.changedSince) continue;
    entries.push({ seq: i + 1, m });
  }
  idx = [];

  // \Seen for non-PEEK body fetches (RFC 9051 §6.4.5), before the data goes out
  const seenSet = new Set<number>();
  if (req.setsSeen && !sel.readOnly) {
    const unseen = entries.filter((e) => !(e.m.flags.bits & F_SEEN)).map((e) => e.m.uid);
    if (unseen.length) {
      await s.store.storeFlags(sel.folderId, unseen, "add", ["\\Seen"]);
      await sel.cache.idle();
      for (const u of unseen) seenSet.add(u);
    }
  }

  const qresyncUid = req.wantUid || s.qresync;
  if (req.fast) {
    await fastFetch(s, entries, req, qresyncUid);
  } else {
    for (let b = 0; b < entries.length; b += 200) {
      const batch = entries.slice(b, b + 200);
      const ixs = req.needIndex ? await loadIndexes(s, sel.folderId, batch.map((e) => e.m)) : null;
      for (const e of batch) {
        const ix = ixs?.get(e.m.uid);
        if (req.needIndex && !ix) {
          missing = true;
          continue;
        }
        const res = await fetchOne(s, e.seq, e.m, ix ?? null, req, qresyncUid, seenSet.has(e.m.uid));
        if (s.isClosed) return ok("Connection gone.");
        if (res === "badcte") return no("Unknown Content-Transfer-Encoding.", "UNKNOWN-CTE");
        if (res === "noblob") {
          // RFC 9051 §7.1.2: an untagged NO is a warning; the command goes on with the other messages
          if (unreadable++ < UNREADABLE_REPORTED) {
            s.send(`* NO [SERVERBUG] Message ${e.seq} (UID ${e.m.uid}) cannot be read: its stored content is missing\r\n`);
            unreadableUids.push(e.m.uid);
          }
        }
      }
      await s.drain();
      if (s.isClosed) return ok("Connection gone.");
    }
  }
  // RFC 9051 §6.4.5 (FETCH result "NO - fetch error: can't fetch that data"): the others went out
  // above, the tagged NO says not all did; SERVERBUG (RFC 5530 §3): the server's data is damaged
  if (unreadable) {
    // one line per command, not per message: a client retrying a big range must not flood the log
    s.log.error("imap: messages whose stored content is missing (pillarbox check --blobs lists them all)", { folderId: sel.folderId, count: unreadable, uids: unreadableUids });
    return no(`${unreadable} message(s) could not be read (stored content missing); the others were fetched.`, "SERVERBUG");
  }
  // UID FETCH may announce the EXPUNGEs itself (they follow in the sync), so it just skips them;
  // FETCH by sequence number says that part of the set is gone (RFC 5530 EXPUNGEISSUED)
  if (missing && !uid) return no("Some of the requested messages no longer exist.", "EXPUNGEISSUED");
  return ok(uid ? "UID FETCH completed." : "Fetch completed.");
}

/** RFC 7162 §3.1: the first CONDSTORE-enabling command reports HIGHESTMODSEQ. */
export function enableCondstore(s: Session): void {
  s.condstore = true;
  if (s.sel) s.send(`* OK [HIGHESTMODSEQ ${s.sel.cache.highestModseq}] Highest\r\n`);
}

/** Resolves a sequence or UID set against the view: view indices, or an error text. */
export function resolveSet(s: Session, set: SeqSet, uid: boolean): number[] | string {
  const sel = s.sel!;
  let real = set;
  if (set.saved) {
    // RFC 5182: "$" is the saved search result (UIDs)
    const saved = sel.saved ?? [];
    const idx: number[] = [];
    for (const u of saved) {
      const i = sel.indexOfUid(u);
      if (i >= 0) idx.push(i);
    }
    return idx.sort((a, b) => a - b);
  }
  if (uid) return resolveUid(real, sel.uids, sel.count);
  const r = resolveSeq(real, sel.count);
  if (r.outOfRange) return "Invalid messageset (message sequence number out of range).";
  real = set;
  return r.idx;
}

function flagsOf(s: Session, m: Msg): string {
  let f = m.flags.str;
  if (!s.rev2 && s.sel!.isRecent(m.uid)) f = f ? "\\Recent " + f : "\\Recent";
  return f;
}

/**
 * The items of each line when a FETCH asks for nothing but UID, FLAGS and
 * MODSEQ (flag-lines.ts renders those as bytes), else null. UID goes first
 * when implied (UID FETCH, RFC 9051 §6.4.9; QRESYNC, RFC 7162 §3.2.4) and
 * MODSEQ last when CHANGEDSINCE implies it (RFC 7162 §3.1.4.1), as in fastFetch.
 */
function flagLineItems(req: FetchRequest, withUid: boolean): FlagItem[] | null {
  if (!req.fast || req.setsSeen) return null;
  const out: FlagItem[] = [];
  for (const it of req.items) {
    if (it.k !== "UID" && it.k !== "FLAGS" && it.k !== "MODSEQ") return null;
    out.push(it.k);
  }
  if (withUid && !out.includes("UID")) out.unshift("UID");
  if (req.wantModseq && !out.includes("MODSEQ")) out.push("MODSEQ");
  return out;
}

/** A set of one range as a span [from, to) of view indices; null for other sets; "out of range" as resolveSeq. */
function singleSpan(s: Session, set: SeqSet, uid: boolean): [number, number] | null | "out of range" {
  if (set.saved || set.ranges.length !== 1) return null;
  const sel = s.sel!;
  const n = sel.count;
  let [a, b] = set.ranges[0];
  if (uid) {
    if (n === 0) return [0, 0];
    const max = sel.uids[n - 1];
    if (a === STAR) a = max;
    if (b === STAR) b = max;
    if (a > b) [a, b] = [b, a];
    const i = lowerBound(sel.uids, n, a);
    const j = lowerBound(sel.uids, n, b + 1);
    return [i, Math.max(i, j)];
  }
  if (n === 0) return "out of range";
  if (a === STAR) a = n;
  if (b === STAR) b = n;
  if (a > b) [a, b] = [b, a];
  if (b > n) return "out of range";
  return [a - 1, b];
}

/** Ascending view indices as spans [from, to). */
function toSpans(idx: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const i of idx) {
    const last = out[out.length - 1];
    if (last && last[1] === i) last[1] = i + 1;
    else out.push([i, i + 1]);
  }
  return out;
}

/**
 * UID/FLAGS/MODSEQ lines as bytes (flag-lines.ts). A whole-view answer with
 * nothing session-specific in it comes from, or goes to, the shared cache.
 * Returns whether some index had no message.
 */
async function flagLinesFetch(s: Session, items: FlagItem[], spans: [number, number][], req: FetchRequest): Promise<boolean> {
  const sel = s.sel!;
  const cache = sel.cache;
  const recent = !s.rev2 && sel.recentCount() > 0;
  const whole = spans.length === 1 && spans[0][0] === 0 && spans[0][1] === sel.count;
  const cacheable = whole && !recent && req.changedSince === null && sel.uids === cache.uids;
  const key = items.join(" ");
  // RFC 9051 §7.3.5: a keyword created by another session is announced (FLAGS, PERMANENTFLAGS) before a FETCH shows it
  const announce = () => {
    if (req.wantFlags) {
      const kw = sel.keywordsLines();
      if (kw) s.send(kw);
    }
  };
  const emit = async (chunk: Uint8Array): Promise<boolean> => {
    s.sendBytes(chunk);
    await s.drain();
    return !s.isClosed;
  };
  if (cacheable) {
    const hit = s.shared.rendered.get(cache, key);
    if (hit) {
      announce();
      if (req.wantFlags) sel.allFlagsReported();
      for (const c of hit) if (!(await emit(c))) break;
      return false;
    }
  }
  const job: FlagLinesJob = { sel, spans, items, recent, changedSince: req.changedSince };
  if (!cacheable) return renderFlagLines(job, emit, announce);
  const uids = cache.uids;
  const version = cache.version;
  const chunks: Uint8Array[] = [];
  const missing = await renderFlagLines(
    job,
    (c) => {
      chunks.push(c);
      return emit(c);
    },
    announce,
  );
  // kept only if nothing changed while the chunks were written out
  if (!missing && !s.isClosed && cache.uids === uids && cache.version === version) s.shared.rendered.set(cache, uids, version, key, chunks);
  return missing;
}

/** UID/FLAGS/INTERNALDATE/RFC822.SIZE/MODSEQ only: no index, no awaits per message. */
async function fastFetch(s: Session, entries: { seq: number; m: Msg }[], req: FetchRequest, withUid: boolean): Promise<void> {
  const sel = s.sel!;
  let buf = "";
  const items = req.items;
  const uidFirst = withUid && !items.some((i) => i.k === "UID");
  for (let n = 0; n < entries.length; n++) {
    const { seq, m } = entries[n];
    // RFC 9051 §7.3.5: a keyword created by another session is announced with FLAGS
    // (and PERMANENTFLAGS) before the first FETCH that shows it
    if (req.wantFlags) buf += sel.keywordsLines();
    let line = `* ${seq} FETCH (`;
    let first = true;
    if (uidFirst) {
      line += `UID ${m.uid}`;
      first = false;
    }
    for (const it of items) {
      if (!first) line += " ";
      first = false;
      switch (it.k) {
        case "UID":
          line += `UID ${m.uid}`;
          break;
        case "FLAGS":
          line += `FLAGS (${flagsOf(s, m)})`;
          sel.flagsReported(m.uid);
          break;
        case "INTERNALDATE":
          line += `INTERNALDATE ${formatInternalDate(m.date)}`;
          break;
        case "RFC822.SIZE":
          line += `RFC822.SIZE ${m.size}`;
          break;
        case "MODSEQ":
          line += `MODSEQ (${m.modseq})`;
          break;
        case "EMAILID":
          line += `EMAILID (M${m.id})`;
          break;
      }
    }
    if (req.wantModseq && !items.some((i) => i.k === "MODSEQ")) line += ` MODSEQ (${m.modseq})`;
    buf += line + ")\r\n";
    if (buf.length > 60000) {
      s.send(buf);
      buf = "";
      await s.drain();
      if (s.isClosed) return;
    }
  }
  if (buf) s.send(buf);
}

async function fetchOne(
  s: Session,
  seq: number,
  m: Msg,
  ix: MessageIndex | null,
  req: FetchRequest,
  withUid: boolean,
  seenNow: boolean,
): Promise<void | "badcte" | "noblob"> {
  const out = { started: false };
  try {
    return await fetchOneItems(s, seq, m, ix, req, withUid, seenNow, out);
  } catch (e) {
    // Nothing of a message's response is sent before its first blob read
    // returns (the head is held until then), so a message whose blob is gone
    // is skipped cleanly. A blob vanishing between two reads of one response
    // (out.started) cannot be taken back: the connection is closed.
    if (isBlobMissing(e) && !out.started) return "noblob";
    if (out.started) {
      // A literal was announced and cannot be completed honestly: anything sent now (a tagged NO
      // included) would be read as its bytes. Hang up instead, as POP3 does mid-response.
      s.log.error("imap: message read failed mid-response; closing the connection", { uid: m.uid, error: (e as Error)?.message });
      s.close();
      return;
    }
    throw e;
  }
}

/** The response of one message (fetchOne); `out.started` once any of it was sent. */
async function fetchOneItems(
  s: Session,
  seq: number,
  m: Msg,
  ix: MessageIndex | null,
  req: FetchRequest,
  withUid: boolean,
  seenNow: boolean,
  out: { started: boolean },
): Promise<void | "badcte"> {
  const sel = s.sel!;
  let head = `* ${seq} FETCH (`;
  let flags = "";
  if (req.wantFlags || seenNow) {
    // RFC 9051 §7.3.5: new keywords are announced before the FETCH that shows them; the
    // flags are taken now, so a keyword arriving while this response is built waits for the next one
    head = sel.keywordsLines() + head;
    flags = flagsOf(s, m);
  }
  let first = true;
  const sep = () => {
    if (!first) head += " ";
    first = false;
  };
  if (withUid && !req.items.some((i) => i.k === "UID")) {
    sep();
    head += `UID ${m.uid}`;
  }
  // Pieces are flushed in order; literals with bytes go out as they are.
  const sendLiteral = (prefix: string, data: Uint8Array, binary: boolean) => {
    sep();
    if (data.length === 0) {
      head += `${prefix} ""`;
      return;
    }
    head += `${prefix} ${binary && hasNul(data) ? "~" : ""}{${data.length}}\r\n`;
    out.started = true;
    s.send(head);
    head = "";
    s.sendBytes(data);
  };
  for (const it of req.items) {
    switch (it.k) {
      case "UID":
        sep();
        head += `UID ${m.uid}`;
        break;
      case "FLAGS":
        sep();
        head += `FLAGS (${flags})`;
        sel.flagsReported(m.uid);
        break;
      case "INTERNALDATE":
        sep();
        head += `INTERNALDATE ${formatInternalDate(m.date)}`;
        break;
      case "RFC822.SIZE":
        sep();
        head += `RFC822.SIZE ${m.size}`;
        break;
      case "MODSEQ":
        sep();
        head += `MODSEQ (${m.modseq})`;
        break;
      case "EMAILID":
        sep();
        head += `EMAILID (M${m.id})`;
        break;
      case "THREADID":
        sep();
        head += ix ? `THREADID (T${ix.threadId})` : "THREADID NIL";
        break;
      case "PREVIEW":
        sep();
        head += `PREVIEW ${ix && ix.preview ? str(ix.preview) : nstr(ix ? "" : null)}`;
        break;
      case "ENVELOPE":
        sep();
        head += `ENVELOPE ${envelopeOf(ix!)}`;
        break;
      case "BODY":
        sep();
        head += `BODY ${bodyStructureOf(ix!, false)}`;
        break;
      case "BODYSTRUCTURE":
        sep();
        head += `BODYSTRUCTURE ${bodyStructureOf(ix!, true)}`;
        break;
      case "RFC822":
        sendLiteral("RFC822", await readBytes(s, ix!, 0, ix!.size), false);
        break;
      case "RFC822.HEADER":
        sendLiteral("RFC822.HEADER", await readBytes(s, ix!, ix!.root.headerStart, ix!.root.bodyStart), false);
        break;
      case "RFC822.TEXT":
        sendLiteral("RFC822.TEXT", await readBytes(s, ix!, ix!.root.bodyStart, ix!.root.bodyEnd), false);
        break;
      case "BINARY.SIZE": {
        const c = await sectionContent(s, ix!, it.sec, true);
        if (c === "badcte") return "badcte";
        sep();
        if (c === null) head += `${it.name} NIL`;
        else if (c instanceof Uint8Array) head += `${it.name} ${c.length}`;
        else head += `${it.name} ${c.stream[1] - c.stream[0]}`;
        break;
      }
      case "SEC": {
        const c = await sectionContent(s, ix!, it.sec, it.binary);
        if (c === "badcte") return "badcte";
        const prefix = it.partial ? `${it.name}<${it.partial[0]}>` : it.name;
        if (c === null) {
          sep();
          head += `${prefix} NIL`;
          break;
        }
        if (c instanceof Uint8Array) {
          const data = it.partial ? c.subarray(Math.min(it.partial[0], c.length), Math.min(it.partial[0] + it.partial[1], c.length)) : c;
          sendLiteral(prefix, data, it.binary);
          break;
        }
        // large section: stream it
        let [a, b] = c.stream;
        if (it.partial) {
          const from = Math.min(a + it.partial[0], b);
          b = Math.min(from + it.partial[1], b);
          a = from;
        }
        sep();
        if (b <= a) {
          head += `${prefix} ""`;
          break;
        }
        head += `${prefix} {${b - a}}\r\n`;
        out.started = true;
        s.send(head);
        head = "";
        for (let p = a; p < b; p += STREAM_CHUNK) {
          const chunk = await s.store.readRange(ix!.blobId, p, Math.min(b, p + STREAM_CHUNK));
          s.sendBytes(chunk);
          await s.drain();
          if (s.isClosed) return;
        }
        break;
      }
    }
  }
  if (req.wantModseq && !req.items.some((i) => i.k === "MODSEQ")) {
    sep();
    head += `MODSEQ (${m.modseq})`;
  }
  // RFC 9051 §6.4.5: a fetch that set \Seen reports the new flags
  if (seenNow && !req.wantFlags) {
    sep();
    head += `FLAGS (${flags})`;
    sel.flagsReported(m.uid);
  }
  s.send(head + ")\r\n");
}

registerCommands({
  FETCH: { state: "selected", seq: true, fn: (s, cmd) => fetchCommand(s, cmd.args, false) },
  "UID FETCH": { state: "selected", fn: (s, cmd) => fetchCommand(s, cmd.args, true) },
});
