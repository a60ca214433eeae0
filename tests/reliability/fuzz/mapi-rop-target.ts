/**
 * Fuzz target "mapi-rop": the EMSMDB side of MAPI/HTTP (protocols/http/mapi/
 * wire): the Execute/Connect/Disconnect/NotificationWait body parsers
 * (MS-OXCMAPIHTTP §2.2.4), the ROP buffer framing with XorMagic and LZ77
 * (MS-OXCRPC §2.2.2, §3.1.7.2), every ROP request parser (MS-OXCROPS §2.2)
 * and the restriction reader (MS-OXCDATA §2.12). The first input byte picks
 * the entry point. Any input either parses or throws WireError (the engine
 * answers an error code); anything else is a defect. What parses must
 * re-encode to a fixpoint: encode(parse(encode(parse(x)))) == encode(parse(x)).
 */
import fc from "fast-check";
import {
  RHE, Reader, WireError, Writer, buildRopRequestBuffer, encodeRopRequests, lz77Compress, lz77Decompress,
  parseConnectRequest, parseDisconnectRequest, parseExecuteRequest, parseNotificationWaitRequest, parseRopBuffer,
  parseRopRequests, readRestriction, writeExecuteRequest, writeRestriction,
} from "../../../protocols/http/mapi/wire/index.ts";
import type { RopRequest } from "../../../protocols/http/mapi/wire/index.ts";
import type { FuzzTarget } from "./engine.ts";

const hex = (s: string) => Uint8Array.from(s.replace(/[^0-9a-f]/gi, "").match(/../g) ?? [], (h) => parseInt(h, 16));

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(`invariant: ${msg}`);
}
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Re-encoding of parsed ROPs reaches a fixpoint after one round. */
function checkRops(rops: RopRequest[]): void {
  let once: Uint8Array;
  try {
    once = encodeRopRequests(rops);
  } catch (e) {
    if (e instanceof WireError && e.code === "too-large") return;
    throw e;
  }
  const back = parseRopRequests(once);
  assert(back.unknown === null && back.rops.length === rops.length, "re-encoded ROPs parse to the same count");
  assert(same(encodeRopRequests(back.rops), once), "ROP encoding is a fixpoint");
}

function ropList(list: Uint8Array): void {
  const { rops } = parseRopRequests(list);
  checkRops(rops);
}

const ENTRIES: ((b: Uint8Array) => void)[] = [
  (b) => ropList(b),
  (b) => ropList(parseRopBuffer(b).rops),
  (b) => ropList(parseRopBuffer(parseExecuteRequest(b).ropBuffer).rops),
  (b) => {
    if (b.length < 2) return;
    const size = (b[0]! | (b[1]! << 8)) & 0x3fff;
    const out = lz77Decompress(b.subarray(2), size);
    assert(out.length === size, "decompressed size");
    assert(same(lz77Decompress(lz77Compress(out), out.length), out), "LZ77 round-trip");
  },
  (b) => {
    const r = new Reader(b);
    const res = readRestriction(r);
    const w = new Writer();
    writeRestriction(w, res);
    const again = readRestriction(new Reader(w.finish()));
    const w2 = new Writer();
    writeRestriction(w2, again);
    assert(same(w2.finish(), w.finish()), "restriction encoding is a fixpoint");
  },
  (b) => void parseConnectRequest(b),
  (b) => void parseDisconnectRequest(b),
  (b) => void parseNotificationWaitRequest(b),
];

function run(input: Uint8Array): void {
  if (input.length === 0) return;
  const entry = ENTRIES[input[0]! % ENTRIES.length]!;
  try {
    entry(input.subarray(1));
  } catch (e) {
    if (e instanceof WireError) return;
    throw e;
  }
}

const withEntry = (i: number, b: Uint8Array) => Uint8Array.of(i, ...b);
const INBOX = 0x1400000000000001n; // ReplicaId 1, GlobalCounter 0x14 (MS-OXCDATA §2.2.1.1)
const SUBJECT = 0x0037001f;
const LOGON = encodeRopRequests([{ ropId: 0xfe, logonId: 0, outputHandleIndex: 0, logonFlags: 1, openFlags: 0x01000402, storeState: 0, essdn: "/o=X/cn=a" }]);
const INBOX_OPEN = encodeRopRequests([
  { ropId: 0x02, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, folderId: INBOX, openModeFlags: 0 },
  { ropId: 0x05, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, tableFlags: 0 },
  { ropId: 0x12, logonId: 0, inputHandleIndex: 2, flags: 0, tags: [SUBJECT, 0x001a001f, 0x674a0014] },
  { ropId: 0x13, logonId: 0, inputHandleIndex: 2, flags: 0, sort: { categorizedCount: 0, expandedCount: 0, sorts: [{ tag: 0x0e060040, order: 1 }] } },
  { ropId: 0x15, logonId: 0, inputHandleIndex: 2, flags: 0, forwardRead: true, rowCount: 50 },
  { ropId: 0x03, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 3, codePageId: 0x0fff, folderId: INBOX, openModeFlags: 0, messageId: 0x2000000000000001n },
  { ropId: 0x07, logonId: 0, inputHandleIndex: 3, propertySizeLimit: 0, wantUnicode: true, tags: [SUBJECT, 0x1000001f] },
  { ropId: 0x2b, logonId: 0, inputHandleIndex: 3, outputHandleIndex: 4, tag: 0x1000001f, openModeFlags: 0 },
  { ropId: 0x2c, logonId: 0, inputHandleIndex: 4, byteCount: 0xbabe, maximumByteCount: 0x10000 },
]);
const SEND = encodeRopRequests([
  { ropId: 0x06, logonId: 0x0c, inputHandleIndex: 0, outputHandleIndex: 1, codePageId: 0x0fff, folderId: INBOX, associated: false },
  { ropId: 0x0a, logonId: 0x0c, inputHandleIndex: 1, values: [{ tag: SUBJECT, value: "hi" }, { tag: 0x10f4000b, value: true }, { tag: 0x0e070003, value: 8 }] },
  { ropId: 0x0e, logonId: 0x0c, inputHandleIndex: 1, columns: [0x0ffe0003, 0x3001001f], rows: [{ rowId: 0, recipientType: 1, row: { flags: 0x023b, addressType: 3, emailAddress: "a@x", displayName: "A", transmittableDisplayName: "A", properties: [{ value: 6 }, { value: "A" }] } }] },
  { ropId: 0x32, logonId: 0x0c, inputHandleIndex: 1, submitFlags: 0 },
  { ropId: 0x0c, logonId: 0x0c, responseHandleIndex: 2, inputHandleIndex: 1, saveFlags: 0x0c },
]);
const RULES = encodeRopRequests([
  { ropId: 0x3f, logonId: 0x0c, inputHandleIndex: 0, outputHandleIndex: 1, tableFlags: 0x40 },
  { ropId: 0x12, logonId: 0x0c, inputHandleIndex: 1, flags: 0, tags: [0x6682001f, 0x66740014] },
  { ropId: 0x14, logonId: 0x0c, inputHandleIndex: 1, flags: 0, restriction: { type: "and", children: [{ type: "content", fuzzyLow: 1, fuzzyHigh: 1, tag: SUBJECT, value: { tag: SUBJECT, value: "a" } }, { type: "not", child: { type: "exist", tag: SUBJECT } }] } },
  { ropId: 0x15, logonId: 0x0c, inputHandleIndex: 1, flags: 0, forwardRead: true, rowCount: 50 },
  { ropId: 0x41, logonId: 0x0c, inputHandleIndex: 0, flags: 0, rules: [{ flags: 1, values: [{ tag: 0x6682001f, value: "r" }, { tag: 0x667900fd, value: { type: "exist", tag: SUBJECT } }, { tag: 0x668000fe, value: hex("0100 0900 01 00000000 00000000") }] }] },
  { ropId: 0x56, logonId: 0x0c, inputHandleIndex: 0, flags: 2, names: [{ kind: 1, guid: "00020329-0000-0000-c000-000000000046", name: "Keywords" }] },
  { ropId: 0x27, logonId: 0x0c, inputHandleIndex: 0, messageClass: "IPM.Note" },
  { ropId: 0x01, logonId: 0x0c, inputHandleIndex: 1 },
]);

const SEEDS: Uint8Array[] = [
  withEntry(0, LOGON),
  withEntry(0, INBOX_OPEN),
  withEntry(0, SEND),
  withEntry(0, RULES),
  withEntry(1, buildRopRequestBuffer(INBOX_OPEN, [0x0c000000, 0xffffffff])),
  withEntry(1, buildRopRequestBuffer(SEND, [0x0c000000, 0xffffffff], RHE.Last | RHE.XorMagic)),
  withEntry(1, buildRopRequestBuffer(RULES, [0x0c000001, 0xffffffff], RHE.Last | RHE.Compressed)),
  withEntry(2, writeExecuteRequest({ flags: 3, ropBuffer: buildRopRequestBuffer(LOGON, [0xffffffff]), maxRopOut: 0x40000, auxiliary: new Uint8Array() })),
  withEntry(3, Uint8Array.of(9, 0, ...hex("00 00 00 10 61 62 63 13 00"))),
  withEntry(4, hex("00 02 00 03 01 00 01 00 1f 00 37 00 1f 00 37 00 61 00 00 00 02 08 1f 00 37 00")),
  withEntry(5, new Writer().cstr8("/o=X/cn=a").u32(0).u32(1252).u32(1033).u32(1033).u32(0).finish()),
  withEntry(6, hex("00 00 00 00")),
  withEntry(7, hex("00 00 00 00 00 00 00 00")),
];

export const MAPI_ROP_TARGET: FuzzTarget = {
  name: "mapi-rop",
  seeds: SEEDS,
  run,
  maxLen: 64 * 1024,
  arbitrary: fc
    .tuple(fc.nat({ max: 255 }), fc.array(fc.constantFrom(...[LOGON, INBOX_OPEN, SEND, RULES].map((s) => Array.from(s))), { minLength: 1, maxLength: 4 }), fc.nat({ max: 8 }))
    .map(([entry, parts, cut]) => {
      const list = Uint8Array.from(parts.flat());
      const body = entry % 3 === 0 ? list : entry % 3 === 1 ? buildRopRequestBuffer(list, [0x0c000000], RHE.Last | (entry & 4 ? RHE.Compressed : 0) | (entry & 8 ? RHE.XorMagic : 0)) : writeExecuteRequest({ flags: 0, ropBuffer: buildRopRequestBuffer(list, [0x0c000000]), maxRopOut: 0x8000, auxiliary: new Uint8Array() });
      const kind = entry % 3;
      return withEntry(kind, body.subarray(0, Math.max(0, body.length - cut)));
    }),
};
