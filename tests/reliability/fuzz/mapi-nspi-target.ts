/**
 * Fuzz target "mapi-nspi": the NSPI request body parsers of MAPI/HTTP
 * (protocols/http/mapi/wire/nspi-requests.ts, MS-OXCMAPIHTTP §2.2.5) and the
 * value codecs under them (nspi-values.ts, nspi-restriction.ts). The first
 * input byte picks the request type, the rest is its body. Any input either
 * parses or throws WireError (the transport answers X-ResponseCode 12);
 * anything else — a RangeError, an allocation from an unchecked count, a
 * hang — is a defect. What parses is also checked to survive the response
 * writers the service would use.
 */
import fc from "fast-check";
import { WireError } from "../../../protocols/http/mapi/wire/errors.ts";
import { Reader } from "../../../protocols/http/mapi/wire/reader.ts";
import { Writer } from "../../../protocols/http/mapi/wire/writer.ts";
import * as req from "../../../protocols/http/mapi/wire/nspi-requests.ts";
import { readAbRow, readAbValueList, writeStat, writeTagArray } from "../../../protocols/http/mapi/wire/nspi-values.ts";
import { readNspiRestriction } from "../../../protocols/http/mapi/wire/nspi-restriction.ts";
import { writeTableResponse } from "../../../protocols/http/mapi/wire/nspi-responses.ts";
import type { FuzzTarget } from "./engine.ts";

const PARSERS: ((b: Uint8Array) => unknown)[] = [
  req.parseBind,
  req.parseUnbind,
  req.parseCompareMIds,
  req.parseDNToMId,
  req.parseGetMatches,
  req.parseGetPropList,
  req.parseGetProps,
  req.parseGetSpecialTable,
  req.parseGetTemplateInfo,
  req.parseModLinkAtt,
  req.parseModProps,
  req.parseQueryColumns,
  req.parseQueryRows,
  req.parseResolveNames,
  req.parseResortRestriction,
  req.parseSeekEntries,
  req.parseUpdateStat,
  req.parseUrlRequest,
  (b) => readAbValueList(new Reader(b)),
  (b) => readNspiRestriction(new Reader(b)),
];

const STAT = { sortType: 0, containerId: 0, currentRec: 0, delta: 0, numPos: 0, totalRecs: 0, codePage: 1252, templateLocale: 1033, sortLocale: 1033 };

function run(input: Uint8Array): void {
  if (input.length === 0) return;
  const parse = PARSERS[input[0]! % PARSERS.length]!;
  try {
    const out = parse(input.subarray(1));
    // A parsed QueryRows' columns must make a response whose rows read back (every cell absent: flagged rows).
    if (out && typeof out === "object" && "explicitTable" in out && "rowCount" in out) {
      const q = out as req.QueryRowsRequest;
      const columns = (q.columns ?? []).slice(0, 64).filter((t) => (t & 0xffff) !== 0);
      const body = writeTableResponse(0, q.state ?? STAT, { columns, rows: [columns.map(() => ({ error: 0x8004010f }))] });
      const r = new Reader(body, 8);
      r.u8();
      r.bytes(36);
      r.u8();
      const n = r.u32();
      r.bytes(n * 4);
      if (r.u32() !== 1) throw new Error("invariant: one row written, another count read");
      readAbRow(r, columns);
    }
  } catch (e) {
    if (e instanceof WireError) return;
    throw e;
  }
}

function body(flags: number, build: (w: Writer) => void, type: number): Uint8Array {
  const w = new Writer().u8(type).u32(flags);
  build(w);
  return w.u32(0).finish();
}

const SEEDS: Uint8Array[] = [
  body(0, (w) => { w.u8(0xff); writeStat(w, STAT); }, 0),
  body(0, (w) => { w.u8(0xff); writeStat(w, STAT); w.u32(0).u32(100).u8(0xff); writeTagArray(w, [0x3001001f, 0x39fe001f]); }, 12),
  body(0, (w) => { w.u8(0xff).u32(2).cstr8("/o=Pillarbox/cn=Recipients/cn=a").cstr8("/o=x"); }, 3),
  body(0, (w) => { w.u8(0xff); writeStat(w, STAT); w.u8(0).u32(0).u8(0xff).u8(0x01).u32(2).u8(0x04).u8(4).u32(0x360c001f).u16(0x1f).u16(0x360c).u8(0xff).cstr16("bob").u8(0x08).u32(0x39fe001f).u8(0).u32(50).u8(0); }, 4),
  body(0, (w) => { w.u8(0xff); writeStat(w, STAT); w.u8(0xff); writeTagArray(w, [0x3001001f]); w.u8(0xff).u32(1).cstr16("alice"); }, 13),
  body(0, (w) => { w.u8(0xff); writeStat(w, STAT); w.u8(0xff).u16(0x1f).u16(0x3001).u8(0xff).cstr16("B").u8(0xff).u32(1).u32(0x10).u8(0); }, 15),
  body(0, (w) => { w.u8(0).u8(0xff).u32(1).u16(0x101f).u16(0x800f).u8(0xff).u32(2).u8(0xff).cstr16("SMTP:a@b").u8(0).u8(0); }, 10),
  body(0x2, (w) => { w.u8(0xff); writeStat(w, STAT); w.u8(0xff).u32(0); }, 7),
];

const arbitrary: fc.Arbitrary<Uint8Array> = fc
  .tuple(fc.integer({ min: 0, max: PARSERS.length - 1 }), fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x00, 0xff, 0x1f, 0x1e, 0x02, 0x01)), { maxLength: 300 }))
  .map(([t, bytes]) => Uint8Array.from([t, ...bytes]));

export const MAPI_NSPI_TARGET: FuzzTarget = { name: "mapi-nspi", seeds: SEEDS, run, arbitrary, maxLen: 65536 };
