/**
 * The one error a malformed MAPI buffer raises. Every codec in wire/ throws
 * only this (never a RangeError from a DataView, never an allocation from an
 * unchecked count) so the engines can map it to the spec's error code.
 */
export type WireErrorCode =
  | "truncated" // a read past the end of the buffer
  | "too-large" // a count above the codec's limit
  | "bad-value" // a tag, type or flag the format does not allow
  | "trailing"; // bytes left over where the format ends

export class WireError extends Error {
  constructor(readonly code: WireErrorCode, detail: string) {
    super(`MAPI wire ${code}: ${detail}`);
    this.name = "WireError";
  }
}

/** Limits on client-controlled counts (rules: every loop over a client count is bounded). */
export const LIMITS = {
  /** Property tags in one PropertyTagArray / column set. */
  tags: 4096,
  /** Values in one multi-valued property. */
  multiValues: 65536,
  /** Nesting depth of a restriction tree. */
  restrictionDepth: 32,
  /** Sub-restrictions of one And/Or node. */
  restrictionChildren: 4096,
  /** ROP requests in one ROP buffer. */
  rops: 1024,
  /** Server object handles in one ServerObjectHandleTable. */
  handles: 4096,
  /** Ids in one MinimalEntryID / explicit table list. */
  ids: 100000,
  /** Rows asked for in one QueryRows-like request (the engine clamps further). */
  rowCount: 0xffffffff,
  /** Largest decompressed ROP buffer payload (MS-OXCRPC §3.1.4.2.1.1: 0x8000 ROP-in; leave headroom). */
  ropPayload: 0x40000,
} as const;
