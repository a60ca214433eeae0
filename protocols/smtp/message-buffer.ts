/**
 * The bytes of a message being received (DATA or BDAT), held in ONE buffer
 * that grows in place, never as one object per line or per BDAT chunk: the
 * old decoder kept a small array per rewritten line, ~50x the message in
 * object overhead for a body of `a\n` lines (issue 13 item 1).
 *
 * Memory while receiving stays close to the bytes kept, and the finished
 * message is never copied again on its way to the store:
 * - up to SMALL_LIMIT the buffer is an ordinary array that doubles (most mail
 *   is small; a copy of under 1 MiB costs nothing);
 * - past it the bytes move once into a resizable ArrayBuffer (ES2024) whose
 *   maximum is the message size limit. Growing it commits pages in place, so
 *   a 45 MB message costs ~45 MB, not the 2-3x of chunk lists joined at the
 *   end or of doubling copies. Only the address space is reserved up front,
 *   and only for messages already past SMALL_LIMIT;
 * - the message starts HEADROOM octets into the buffer, so the trace fields
 *   an MX adds on top (Received, Authentication-Results: RFC 5321 §4.4, RFC
 *   8601 §5) are written in front of it in place (`prependInPlace`) instead
 *   of concatenated into a second full copy.
 *
 * Callers never append past `maxBytes`: the decoders refuse (and `clear()`)
 * the message before that. Sans-IO, no timers.
 */

/** Room kept in front of the message for the trace fields added on receipt. */
export const HEADROOM = 8192;
/** Below this the buffer is a plain doubling array. */
const SMALL_LIMIT = 1024 * 1024;
/** First allocation: headroom plus a small message. */
const FIRST = 4096;
/** A resizable buffer grows by at least this much (fewer resize calls). */
const MIN_STEP = 256 * 1024;

const EMPTY = new Uint8Array(0);

type GrowableBuffer = ArrayBuffer & { resize?(n: number): void; readonly maxByteLength?: number };

/** Resizable ArrayBuffers exist on Bun, Deno and Node >= 20. */
const RESIZABLE = typeof (ArrayBuffer.prototype as GrowableBuffer).resize === "function";

/**
 * Buffers whose octets before the given offset are free headroom (set by
 * `MessageBuffer.bytes()`, consumed by `prependInPlace`). Keyed weakly: a
 * buffer that is dropped leaves nothing behind.
 */
const freeHeadroom = new WeakMap<ArrayBufferLike, number>();

export class MessageBuffer {
  private buf: Uint8Array = EMPTY;
  private ab: GrowableBuffer | null = null;
  /** Octets kept (after HEADROOM). */
  length = 0;
  /** `bytes()` was called: the headroom is handed out once only. */
  private handedOut = false;

  constructor(private readonly maxBytes: number = Number.MAX_SAFE_INTEGER) {}

  /** Copies `src[start, end)` in. */
  append(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    if (n <= 0) return;
    const at = HEADROOM + this.length;
    this.ensure(at + n);
    if (n < 16) {
      // Short runs (a line of one octet, a CRLF): a loop beats allocating a subarray view.
      const b = this.buf;
      for (let i = 0; i < n; i++) b[at + i] = src[start + i]!;
    } else {
      this.buf.set(src.subarray(start, end), at);
    }
    this.length += n;
  }

  appendByte(b: number): void {
    const at = HEADROOM + this.length;
    this.ensure(at + 1);
    this.buf[at] = b;
    this.length++;
  }

  private ensure(need: number): void {
    if (need <= this.buf.length) return;
    const ab = this.ab;
    if (ab?.resize && ab.maxByteLength !== undefined) {
      const size = Math.min(ab.maxByteLength, Math.max(need, this.buf.length + Math.max(MIN_STEP, this.buf.length >> 2)));
      if (size < need) throw new RangeError("message buffer past its maximum");
      ab.resize(size);
      this.buf = new Uint8Array(ab, 0, size);
      return;
    }
    let next: Uint8Array;
    // The room for message octets doubles; the headroom is not counted in the doubling.
    const doubled = HEADROOM + Math.max(FIRST, 2 * Math.max(0, this.buf.length - HEADROOM), need - HEADROOM);
    if (doubled - HEADROOM > SMALL_LIMIT && RESIZABLE) {
      const max = HEADROOM + Math.max(this.maxBytes, need - HEADROOM);
      const grow = new ArrayBuffer(Math.min(max, Math.max(need, SMALL_LIMIT + HEADROOM)), { maxByteLength: max }) as GrowableBuffer;
      this.ab = grow;
      next = new Uint8Array(grow, 0, grow.byteLength);
    } else {
      next = new Uint8Array(doubled);
    }
    next.set(this.buf.subarray(0, HEADROOM + this.length));
    this.buf = next;
  }

  /** Octets of memory held (capacity, not just what is used). */
  get retainedBytes(): number {
    return this.buf.length;
  }

  /** Arrays held (0 or 1). */
  get retainedChunks(): number {
    return this.buf.length > 0 ? 1 : 0;
  }

  /** Drops everything (the message will be refused). */
  clear(): void {
    this.buf = EMPTY;
    this.ab = null;
    this.length = 0;
    this.handedOut = false;
  }

  /**
   * The kept bytes: a view of the buffer, no copy. A resizable buffer is
   * first shrunk to fit, which gives its slack back. The HEADROOM octets in
   * front are recorded as free for `prependInPlace`.
   */
  bytes(): Uint8Array {
    if (this.length === 0) return EMPTY;
    const end = HEADROOM + this.length;
    if (this.ab?.resize && this.ab.byteLength > end) {
      this.ab.resize(end);
      this.buf = new Uint8Array(this.ab, 0, end);
    }
    const out = this.buf.subarray(HEADROOM, end);
    if (!this.handedOut) freeHeadroom.set(out.buffer, out.byteOffset);
    this.handedOut = true;
    return out;
  }
}

/**
 * `prefix` followed by `msg`, written into the free room in front of `msg`
 * when `msg` came from `MessageBuffer.bytes()` untouched and the prefix fits
 * (no copy of the message); otherwise one new array. The room is used once.
 */
export function prependInPlace(msg: Uint8Array, prefix: Uint8Array): Uint8Array {
  if (prefix.length === 0) return msg;
  const free = freeHeadroom.get(msg.buffer);
  if (free !== undefined && free === msg.byteOffset && prefix.length <= free) {
    freeHeadroom.delete(msg.buffer);
    const start = msg.byteOffset - prefix.length;
    const out = new Uint8Array(msg.buffer, start, prefix.length + msg.length);
    out.set(prefix, 0);
    return out;
  }
  const out = new Uint8Array(prefix.length + msg.length);
  out.set(prefix, 0);
  out.set(msg, prefix.length);
  return out;
}
