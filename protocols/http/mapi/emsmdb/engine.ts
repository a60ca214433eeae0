/**
 * Runs one ROP request buffer (MS-OXCROPS §2.2.1): each ROP in order, its
 * input object found through the request's server object handle table
 * (InputHandleIndex), objects it opens written into the table
 * (OutputHandleIndex); the answers concatenated into the ROP response buffer
 * with the updated handle table. A ROP that fails answers its ReturnValue and
 * the rest still run; an unknown ROP answers ecNotSupported and ends the
 * buffer (its length is unknown, so nothing after it can be read). When the
 * next answer does not fit the client's room, RopBufferTooSmall
 * (§2.2.15.1) carries the size needed and the unprocessed requests.
 */
import type { MapiContext } from "../types.ts";
import { Reader } from "../wire/reader.ts";
import { Writer } from "../wire/writer.ts";
import { WireError } from "../wire/errors.ts";
import { RopError, ec } from "./errors.ts";
import { objectOf, addObject, type EmsmdbState, type MapiObject } from "./objects.ts";

/** What a ROP handler sees while it runs. */
export interface Exec {
  c: MapiContext;
  s: EmsmdbState;
  logonId: number;
  handles: number[];
  /** Bytes the response may still take (QueryRows and ReadStream fit their answer to it). */
  room: number;
}

/** A parsed ROP: the handle index its error answer names and the work. */
export interface ParsedRop {
  respIndex: number;
  /** Writes the whole success response (RopId first) into `w`; throws RopError for a failure answer. RopRelease writes nothing. */
  run(x: Exec, w: Writer): Promise<void>;
}

/** Reads a ROP's request fields (after RopId and LogonId) synchronously; throws WireError when the buffer is malformed. */
export type RopParser = (r: Reader, ropId: number) => ParsedRop;

const parsers = new Map<number, RopParser>();

export function registerRop(id: number, p: RopParser): void {
  parsers.set(id, p);
}

export const input = (x: Exec, idx: number): MapiObject => objectOf(x.s, x.handles[idx]);

/** Stores a new object in the handle table at `idx` (an index outside the table is ecInvalidParam). */
export function output(x: Exec, idx: number, obj: MapiObject): number {
  if (idx >= x.handles.length) throw new RopError(ec.InvalidParam, `OutputHandleIndex ${idx} outside the handle table`);
  const h = addObject(x.s, x.logonId, obj);
  x.handles[idx] = h;
  return h;
}

/** The handle-index byte of a ROP request at `pos` (RopId, LogonId, then InputHandleIndex for nearly every ROP). */
const indexByte = (buf: Uint8Array, pos: number): number => buf[pos + 2] ?? 0;

/** At most this many ROPs run per buffer (rules: bounded work per Execute). */
export const MAX_ROPS = 1024;

/**
 * Room a ROP needs left before it runs. A client that gets RopBufferTooSmall
 * sends the unprocessed requests again with more room (MS-OXCROPS §2.2.15.1),
 * so a ROP that changes something (create, set, save, submit, modify rules)
 * must not run unless its answer surely fits: it would take effect twice.
 * Their answers are small and fixed (at most 15 bytes, MS-OXCROPS §2.2.6 and
 * §2.2.7; SetProperties' problem list 8 bytes a property), so this much room
 * left guarantees they fit; reads (QueryRows, ReadStream, GetProperties*)
 * fit their answers to the room themselves and run twice harmlessly.
 */
export const MIN_ROOM_TO_RUN = 64;

/** The ROPs that change the mailbox (MS-OXCROPS §2.2: message, property, folder, stream, rule writes). */
const CHANGING_ROPS = new Set([
  0x06, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x11, 0x1c, 0x1d, 0x1e, 0x23, 0x24, 0x25, 0x26, 0x2d, 0x32, 0x33, 0x35, 0x36, 0x41, 0x5d, 0x66, 0x79,
]);

/** RopBufferTooSmall (MS-OXCROPS §2.2.15.1): SizeNeeded, then the requests not processed (from `start` on), when it fits. */
function bufferTooSmall(out: Writer, rops: Uint8Array, start: number, room: number, needed: number): void {
  const rest = rops.subarray(start);
  if (out.pos + 3 + rest.length <= room) out.u8(0xff).u16(Math.min(needed, 0xffff)).bytes(rest);
}

/**
 * Runs `rops` against the state. `room` is the most the ROP responses may
 * take (without the handle table). Returns the response ROPs; `handles` is
 * updated in place.
 */
export async function runRops(c: MapiContext, s: EmsmdbState, rops: Uint8Array, handles: number[], room: number): Promise<Uint8Array> {
  const r = new Reader(rops);
  const out = new Writer();
  let count = 0;
  while (r.remaining > 0) {
    const start = r.pos;
    if (++count > MAX_ROPS || r.remaining < 2) {
      out.u8(rops[start]!).u8(indexByte(rops, start)).u32(ec.TooBig);
      break;
    }
    const ropId = r.u8();
    const logonId = r.u8();
    const parser = parsers.get(ropId);
    let parsed: ParsedRop;
    try {
      if (!parser) throw new RopError(ec.NotSupported, `ROP 0x${ropId.toString(16)}`);
      parsed = parser(r, ropId);
    } catch (e) {
      // An unknown or malformed ROP: its answer says so and the buffer ends here (what follows cannot be found).
      const code = e instanceof RopError ? e.code : e instanceof WireError ? ec.InvalidParam : ec.Error;
      if (!(e instanceof RopError) && !(e instanceof WireError)) throw e;
      c.log.debug("mapi: ROP not run", { rop: ropId, code, err: (e as Error).message });
      out.u8(ropId).u8(indexByte(rops, start)).u32(code);
      break;
    }
    if (CHANGING_ROPS.has(ropId) && room - out.pos < MIN_ROOM_TO_RUN) {
      bufferTooSmall(out, rops, start, room, MIN_ROOM_TO_RUN + 0x100);
      break;
    }
    const w = new Writer();
    const x: Exec = { c, s, logonId, handles, room: room - out.pos };
    try {
      await parsed.run(x, w);
    } catch (e) {
      if (!(e instanceof RopError)) {
        c.log.warn("mapi: ROP failed", { rop: ropId, err: e instanceof Error ? e.message : String(e) });
      }
      w.pos = 0;
      w.u8(ropId).u8(parsed.respIndex).u32(e instanceof RopError ? e.code : ec.Error);
    }
    if (out.pos + w.pos > room) {
      // Only a read gets here (a changing ROP's answer fits in MIN_ROOM_TO_RUN): answered again when the client retries.
      bufferTooSmall(out, rops, start, room, w.pos + 0x100);
      break;
    }
    out.bytes(w.finish());
  }
  return out.finish();
}
