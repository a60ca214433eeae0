/**
 * FETCH responses that carry only UID, FLAGS and MODSEQ (RFC 9051 §7.5.2,
 * RFC 7162 §3.1.4.1): `* n FETCH (UID u FLAGS (...))`, the answer to a
 * client's flag resync of a whole mailbox (`UID FETCH 1:* (UID FLAGS)`).
 *
 * Lines are written straight into 256 KB byte chunks (numbers as ASCII
 * digits, each interned flag set's `FLAGS (...)` bytes encoded once,
 * state.ts FlagSet.wire), so 100,000 lines cost no string building, no
 * UTF-8 encoding and a handful of socket writes. Each chunk goes out before
 * the next is rendered, waiting while the socket's buffer is full, so a
 * connection's unsent output stays within one chunk plus what the socket
 * already holds (session.ts drain).
 *
 * A whole-view answer that every session in step with the folder would get
 * alike (no \Recent of its own, no CHANGEDSINCE) is kept per folder in
 * RenderedFlags, keyed by the FolderCache's UID array and version: both move
 * on every change of membership, flags or modseq, whichever process made it
 * (the cache applies the store's events in order), so an entry can never
 * answer for another state. Sequence numbers are the view's indices, and a
 * view with unannounced expunges (its UIDs differ from the folder's) is
 * rendered afresh and never cached.
 */
import type { FolderCache, Msg } from "./state.ts";
import type { SelectedMailbox } from "./view.ts";

export type FlagItem = "UID" | "FLAGS" | "MODSEQ";

/** Rendered bytes per chunk: one socket write each. */
const CHUNK = 256 * 1024;

const FETCH_OPEN = new TextEncoder().encode(" FETCH (");
const UID_SP = new TextEncoder().encode("UID ");
const MODSEQ_OPEN = new TextEncoder().encode("MODSEQ (");

/** Writes `n` (a non-negative safe integer) as ASCII digits at `p`; returns the end. */
function putUint(b: Uint8Array, p: number, n: number): number {
  let len = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) len++;
  let q = p + len;
  let x = n;
  do {
    const d = x % 10;
    b[--q] = 48 + d;
    x = (x - d) / 10;
  } while (x > 0);
  return p + len;
}

function put(b: Uint8Array, p: number, src: Uint8Array): number {
  if (src.length < 16) {
    for (let i = 0; i < src.length; i++) b[p + i] = src[i];
  } else b.set(src, p);
  return p + src.length;
}

/** What one call renders: view index spans [from, to), ascending and disjoint. */
export interface FlagLinesJob {
  sel: SelectedMailbox;
  spans: [number, number][];
  /** The items of each line, in order (UID first / MODSEQ last already added when implied). */
  items: FlagItem[];
  /** Per-session \Recent (IMAP4rev1 only); false when none of the view's messages is recent for it. */
  recent: boolean;
  changedSince: number | null;
}

/**
 * Renders the lines of `job` chunk by chunk; `emit` gets each chunk and may
 * wait (backpressure) before the next is rendered. Returns whether a view
 * index had no message (expunged by another session, not yet announced).
 * `beforeChunk` runs before each chunk is rendered (keyword announcements).
 */
export async function renderFlagLines(
  job: FlagLinesJob,
  emit: (chunk: Uint8Array) => Promise<boolean>,
  beforeChunk: () => void,
): Promise<boolean> {
  const { sel, items, recent, changedSince } = job;
  const wantFlags = items.includes("FLAGS");
  let missing = false;
  let buf = new Uint8Array(CHUNK);
  let p = 0;
  beforeChunk();
  for (const [from, to] of job.spans) {
    for (let i = from; i < to; i++) {
      const m: Msg | undefined = sel.msgAt(i);
      if (!m) {
        missing = true;
        continue;
      }
      if (changedSince !== null && m.modseq <= changedSince) continue;
      const fl = wantFlags ? m.flags.wire(recent && sel.isRecent(m.uid)) : null;
      // seq + uid + modseq digits and the fixed text stay under 96 bytes
      const need = 96 + (fl ? fl.length : 0);
      if (p + need > buf.length) {
        if (p > 0) {
          const out = buf.subarray(0, p);
          if (!(await emit(out))) return missing;
          beforeChunk();
        }
        buf = new Uint8Array(Math.max(CHUNK, need));
        p = 0;
        // the await may have let changes in: look the message up again
        i--;
        continue;
      }
      buf[p++] = 42; // "*"
      buf[p++] = 32;
      p = putUint(buf, p, i + 1);
      p = put(buf, p, FETCH_OPEN);
      for (let k = 0; k < items.length; k++) {
        if (k) buf[p++] = 32;
        const it = items[k];
        if (it === "UID") {
          p = put(buf, p, UID_SP);
          p = putUint(buf, p, m.uid);
        } else if (it === "FLAGS") {
          p = put(buf, p, fl!);
          // RFC 9051 §7.5.2: these flags are now known to the client; no separate update needed
          sel.flagsReported(m.uid);
        } else {
          p = put(buf, p, MODSEQ_OPEN);
          p = putUint(buf, p, m.modseq);
          buf[p++] = 41; // ")"
        }
      }
      buf[p++] = 41;
      buf[p++] = 13;
      buf[p++] = 10;
    }
  }
  if (p > 0) await emit(buf.subarray(0, p));
  return missing;
}

// ---------------------------------------------------------------- the shared cache

interface Entry {
  uids: Uint32Array;
  version: number;
  key: string;
  chunks: Uint8Array[];
  bytes: number;
}

/** Only views at least this large are cached: smaller ones render in well under a millisecond. */
const CACHE_MIN_MESSAGES = 1000;
/**
 * Size caps: one entry per folder (the last item list asked for), at most
 * 8 MiB per entry (about 200,000 messages) and 24 MiB for all entries of a
 * server, least recently used evicted first.
 */
const ENTRY_MAX_BYTES = 8 * 1024 * 1024;
const TOTAL_MAX_BYTES = 24 * 1024 * 1024;

/** Whole-view flag answers per folder, shared by the sessions of a server (see the module comment). */
export class RenderedFlags {
  private map = new Map<FolderCache, Entry>();
  private total = 0;

  /** The cached chunks for this folder state and item list, or null. */
  get(cache: FolderCache, key: string): Uint8Array[] | null {
    const e = this.map.get(cache);
    if (!e) return null;
    if (e.uids !== cache.uids || e.version !== cache.version) {
      this.drop(cache, e);
      return null;
    }
    if (e.key !== key) return null;
    this.map.delete(cache);
    this.map.set(cache, e);
    return e.chunks;
  }

  /** Keeps chunks rendered from `cache` at `uids`/`version` (checked by the caller to be still current). */
  set(cache: FolderCache, uids: Uint32Array, version: number, key: string, chunks: Uint8Array[]): void {
    if (uids.length < CACHE_MIN_MESSAGES) return;
    let bytes = 0;
    // a chunk is a view of its 256 KB buffer, which it keeps alive whole
    for (const c of chunks) bytes += c.buffer.byteLength;
    if (bytes > ENTRY_MAX_BYTES) return;
    const old = this.map.get(cache);
    if (old) this.drop(cache, old);
    this.map.set(cache, { uids, version, key, chunks, bytes });
    this.total += bytes;
    while (this.total > TOTAL_MAX_BYTES) {
      const first = this.map.entries().next();
      if (first.done) break;
      this.drop(first.value[0], first.value[1]);
    }
  }

  private drop(cache: FolderCache, e: Entry): void {
    this.map.delete(cache);
    this.total -= e.bytes;
  }

  /** Bytes held (tests). */
  get size(): number {
    return this.total;
  }

  clear(): void {
    this.map.clear();
    this.total = 0;
  }
}
