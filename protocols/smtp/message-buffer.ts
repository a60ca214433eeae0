/**
 * The bytes of a message being received (DATA or BDAT), held as a short list
 * of large chunks rather than one object per line or per BDAT chunk: the
 * old decoder kept a small array per rewritten line, ~50x the message in
 * object overhead for a body of `a\n` lines (issue 13 item 1).
 *
 * Every append copies into the current chunk. A new chunk is as large as
 * everything kept so far (so the list grows geometrically and stays short),
 * between MIN_CHUNK and MAX_CHUNK, so the capacity held is at most twice the
 * kept bytes plus MIN_CHUNK, and for large messages the kept bytes plus one
 * MAX_CHUNK. Sans-IO, no timers.
 */

/** First chunk: small messages (most mail) cost little. */
const MIN_CHUNK = 4096;
/** Largest chunk: slack past the message is at most this. */
const MAX_CHUNK = 1024 * 1024;

const EMPTY = new Uint8Array(0);

export class MessageBuffer {
  /** Full chunks, oldest first. */
  private full: Uint8Array[] = [];
  private cur: Uint8Array = EMPTY;
  private curLen = 0;
  /** Octets kept. */
  length = 0;

  /** Copies `src[start, end)` in. */
  append(src: Uint8Array, start = 0, end = src.length): void {
    while (start < end) {
      if (this.curLen === this.cur.length) this.grow();
      const n = Math.min(end - start, this.cur.length - this.curLen);
      if (n < 16) {
        // Short runs (a line of one octet, a CRLF): a loop beats allocating a subarray view.
        for (let i = 0; i < n; i++) this.cur[this.curLen + i] = src[start + i]!;
      } else {
        this.cur.set(src.subarray(start, start + n), this.curLen);
      }
      this.curLen += n;
      this.length += n;
      start += n;
    }
  }

  appendByte(b: number): void {
    if (this.curLen === this.cur.length) this.grow();
    this.cur[this.curLen++] = b;
    this.length++;
  }

  private grow(): void {
    if (this.curLen > 0) this.full.push(this.cur);
    const size = Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, this.length));
    this.cur = new Uint8Array(size);
    this.curLen = 0;
  }

  /** Octets of every array held (capacity, not just what is used). */
  get retainedBytes(): number {
    let n = this.cur.length;
    for (const c of this.full) n += c.length;
    return n;
  }

  /** Arrays held. */
  get retainedChunks(): number {
    return this.full.length + (this.cur.length > 0 ? 1 : 0);
  }

  /** Drops everything (the message will be refused). */
  clear(): void {
    this.full = [];
    this.cur = EMPTY;
    this.curLen = 0;
    this.length = 0;
  }

  /**
   * The kept bytes as one array. With a single chunk this is a view of it (no
   * copy); otherwise the chunks are joined once and released, so the buffer
   * then holds the result only.
   */
  bytes(): Uint8Array {
    if (this.full.length === 0) return this.cur.subarray(0, this.curLen);
    const out = new Uint8Array(this.length);
    let off = 0;
    for (const c of this.full) {
      out.set(c, off);
      off += c.length;
    }
    out.set(this.cur.subarray(0, this.curLen), off);
    this.full = [];
    this.cur = out;
    this.curLen = out.length;
    return out;
  }
}
