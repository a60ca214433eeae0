/**
 * The ROP buffer carried by EMSMDB Execute (MS-OXCRPC §2.2.2.1 RPC_HEADER_EXT
 * and §2.2.2.2 payload): header {Version u16, Flags u16, Size u16,
 * SizeActual u16}, then Size bytes of payload, XOR 0xA5 obfuscated and/or
 * LZ77 compressed per Flags. The request payload is RopSize (u16, counting
 * itself and the RopsList), the RopsList, and the ServerObjectHandleTable
 * (u32 per handle) filling the rest.
 */
import { LIMITS, WireError } from "./errors.ts";
import { Reader } from "./reader.ts";
import { Writer } from "./writer.ts";
import { lz77Compress, lz77Decompress } from "./lz77.ts";
import { parseRopRequests } from "./rops-parse.ts";
import type { RopBufferRequest } from "./rops-types.ts";

/** MS-OXCRPC §2.2.2.1 RPC_HEADER_EXT Flags. */
export const RHE = { Compressed: 0x0001, XorMagic: 0x0002, Last: 0x0004 } as const;
const HEADER = 8;

/** Undoes the XOR obfuscation (MS-OXCRPC §3.1.7.3: every byte XOR 0xA5). */
export function xorMagic(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) out[i] = b[i]! ^ 0xa5;
  return out;
}

/** Reads one RPC_HEADER_EXT segment and returns its plain payload. */
export function readRpcHeaderExt(r: Reader): { flags: number; payload: Uint8Array } {
  const version = r.u16();
  if (version !== 0) throw new WireError("bad-value", `RPC_HEADER_EXT version ${version}`);
  const flags = r.u16();
  const size = r.u16();
  const sizeActual = r.u16();
  if (flags & ~(RHE.Compressed | RHE.XorMagic | RHE.Last)) throw new WireError("bad-value", `RPC_HEADER_EXT flags 0x${flags.toString(16)}`);
  let payload = r.bytes(size, "ROP buffer payload");
  // §3.1.7.3: obfuscation is applied after compression, so it is undone first.
  if (flags & RHE.XorMagic) payload = xorMagic(payload);
  if (flags & RHE.Compressed) {
    if (sizeActual > LIMITS.ropPayload) throw new WireError("too-large", `SizeActual ${sizeActual}`);
    payload = lz77Decompress(payload, sizeActual);
  } else if (sizeActual !== size) {
    throw new WireError("bad-value", "SizeActual differs from Size on an uncompressed buffer");
  }
  return { flags, payload };
}

/**
 * The request ROP buffer of an Execute request body, split: the RopsList
 * bytes (for an engine that reads each ROP itself) and the handle table.
 */
export function parseRopBuffer(buf: Uint8Array): { rops: Uint8Array; handles: number[] } {
  const r = new Reader(buf);
  const { payload } = readRpcHeaderExt(r);
  return splitRopPayload(payload);
}

/** The same buffer with every ROP request decoded (rops-parse.ts). */
export function parseRopBufferRequests(buf: Uint8Array): RopBufferRequest {
  const { rops: list, handles } = parseRopBuffer(buf);
  const { rops, unknown } = parseRopRequests(list);
  return { rops, unknown, handles };
}

/** The payload after the header: RopSize, RopsList, ServerObjectHandleTable. */
export function splitRopPayload(payload: Uint8Array): { rops: Uint8Array; handles: number[] } {
  const p = new Reader(payload);
  const ropSize = p.u16();
  if (ropSize < 2) throw new WireError("bad-value", `RopSize ${ropSize}`);
  const rops = p.bytes(ropSize - 2, "RopsList");
  const rest = p.remaining;
  if (rest % 4 !== 0) throw new WireError("bad-value", "ServerObjectHandleTable is not a whole number of handles");
  const n = p.count(rest / 4, LIMITS.handles, 4, "server object handles");
  const handles: number[] = [];
  for (let i = 0; i < n; i++) handles.push(p.u32());
  return { rops, handles };
}

/** The largest RopsList one response payload holds (RopSize is a u16 that counts itself). */
export const MAX_ROPS_LIST = 0xffff - 2;

/**
 * A response ROP buffer: one RPC_HEADER_EXT with the Last flag, uncompressed
 * and unobfuscated (MS-OXCRPC §3.1.4.2.1.1.1: the server may choose either).
 */
export function writeRopBuffer(ropsList: Uint8Array, handles: readonly number[]): Uint8Array {
  if (ropsList.length > MAX_ROPS_LIST) throw new WireError("too-large", "ROP response above 65533 bytes");
  const payloadSize = 2 + ropsList.length + handles.length * 4;
  if (payloadSize > 0xffff) throw new WireError("too-large", "ROP buffer payload above 65535 bytes");
  const w = new Writer();
  w.u16(0).u16(RHE.Last).u16(payloadSize).u16(payloadSize);
  w.u16(2 + ropsList.length).bytes(ropsList);
  for (const h of handles) w.u32(h);
  return w.finish();
}

/** Builds a request ROP buffer (tests, fuzz seeds, and any client code). */
export function buildRopRequestBuffer(ropsList: Uint8Array, handles: readonly number[], flags: number = RHE.Last): Uint8Array {
  const w = new Writer();
  w.u16(2 + ropsList.length).bytes(ropsList);
  for (const h of handles) w.u32(h);
  let payload = w.finish();
  const actual = payload.length;
  if (flags & RHE.Compressed) payload = lz77Compress(payload);
  if (flags & RHE.XorMagic) payload = xorMagic(payload);
  return new Writer().u16(0).u16(flags).u16(payload.length).u16(actual).bytes(payload).finish();
}

export { HEADER as RPC_HEADER_EXT_SIZE };
