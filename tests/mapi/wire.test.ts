/**
 * The MAPI wire basics (protocols/http/mapi/wire): Reader/Writer, MS-OXCDATA
 * property values, restrictions, ids and EntryIDs, the LZ77 codec and the ROP
 * buffer framing (MS-OXCRPC §2.2.2), the EMSMDB bodies (MS-OXCMAPIHTTP
 * §2.2.4). Every malformed input must raise WireError, nothing else.
 */
import { describe, expect, test } from "bun:test";
import {
  LIMITS, PT, RHE, Reader, WireError, Writer, buildRopRequestBuffer, dateToFiletime, decodeAddressBookEntryId,
  decodeStoreEntryId, encodeAddressBookEntryId, encodeFolderEntryId, encodeMessageEntryId, filetimeToDate,
  guidToBytes, guidToString, lz77Compress, lz77Decompress, makeId, parseConnectRequest, parseConnectResponse,
  parseDisconnectRequest, parseExecuteRequest, parseExecuteResponse, parseNotificationWaitRequest, parseRopBuffer,
  propTag, readPropertyName, readPropertyRow, readRestriction, readSortOrderSet, readTaggedValue, readValue,
  splitId, writeConnectRequest, writeConnectResponse, writeDisconnectResponse, writeExecuteRequest,
  writeExecuteResponse, writeNotificationWaitResponse, writePropertyName, writePropertyRow, writeRestriction,
  writeRopBuffer, writeSortOrderSet, writeTaggedValue, writeValue, xorMagic,
} from "../../protocols/http/mapi/wire/index.ts";
import type { Cell, PropValue, Restriction, TaggedValue } from "../../protocols/http/mapi/wire/index.ts";

const hex = (s: string) => Uint8Array.from(s.replace(/[^0-9a-f]/gi, "").match(/../g) ?? [], (h) => parseInt(h, 16));
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");

/** Every strict prefix of a valid buffer must fail with WireError (never another error, never success). */
function everyTruncationFails(buf: Uint8Array, parse: (b: Uint8Array) => unknown): void {
  for (let n = 0; n < buf.length; n++) {
    let err: unknown = null;
    try {
      parse(buf.subarray(0, n));
    } catch (e) {
      err = e;
    }
    if (!(err instanceof WireError)) throw new Error(`prefix of ${n}/${buf.length} bytes: ${err === null ? "accepted" : String(err)}`);
  }
}

describe("Reader / Writer", () => {
  test("little-endian integers, strings and GUIDs round-trip", () => {
    const w = new Writer().u8(0xfe).u16(0x1234).u32(0xdeadbeef).i32(-2).u64(0x0102030405060708n).cstr8("abc").cstr16("hé").bin16(hex("0102")).bin32(hex("03"));
    w.guid("c840a7dc-42c0-1a10-b4b9-08002b2fe182");
    const b = w.finish();
    expect(toHex(b.subarray(0, 7))).toBe("fe 34 12 ef be ad de");
    const r = new Reader(b);
    expect([r.u8(), r.u16(), r.u32(), r.i32(), r.u64(), r.cstr8(), r.cstr16()]).toEqual([0xfe, 0x1234, 0xdeadbeef, -2, 0x0102030405060708n, "abc", "hé"]);
    expect(toHex(r.bin16())).toBe("01 02");
    expect(toHex(r.bin32())).toBe("03");
    expect(r.guid()).toBe("c840a7dc-42c0-1a10-b4b9-08002b2fe182");
    r.done();
  });
  test("MS-OXCDATA §2.2.5.2: the Address Book ProviderUID bytes DC A7 40 C8 C0 42 10 1A B4 B9 08 00 2B 2F E1 82", () => {
    expect(toHex(guidToBytes("c840a7dc-42c0-1a10-b4b9-08002b2fe182"))).toBe("dc a7 40 c8 c0 42 10 1a b4 b9 08 00 2b 2f e1 82");
    expect(guidToString(hex("dca740c8c042101ab4b908002b2fe182"))).toBe("c840a7dc-42c0-1a10-b4b9-08002b2fe182");
  });
  test("reads past the end, unterminated strings and oversized counts throw WireError", () => {
    expect(() => new Reader(hex("01")).u16()).toThrow(WireError);
    expect(() => new Reader(hex("6162")).cstr8()).toThrow(WireError);
    expect(() => new Reader(hex("610062")).cstr16()).toThrow(WireError);
    expect(() => new Reader(hex("ffff")).bin16()).toThrow(WireError);
    expect(() => new Reader(hex("ffffffff")).bin32()).toThrow(WireError);
    expect(() => new Reader(new Uint8Array(8)).count(9999, LIMITS.tags, 4, "tags")).toThrow(WireError);
    expect(() => new Reader(new Uint8Array(8)).count(3, LIMITS.tags, 4, "tags")).toThrow(WireError);
  });
});

describe("MS-OXCDATA property values (§2.11)", () => {
  const cases: [number, PropValue, string][] = [
    [PT.Integer16, -1, "ff ff"],
    [PT.Integer32, 0x12345678, "78 56 34 12"],
    [PT.Boolean, true, "01"],
    [PT.Integer64, 1n, "01 00 00 00 00 00 00 00"],
    [PT.String, "A", "41 00 00 00"],
    [PT.String8, "A", "41 00"],
    [PT.Binary, hex("aabb"), "02 00 aa bb"], // §2.11.1.1: 16-bit COUNT in ROP buffers
    [PT.MultipleInteger32, [1, 2], "02 00 00 00 01 00 00 00 02 00 00 00"], // 32-bit value count
    [PT.MultipleBinary, [hex("01")], "01 00 00 00 01 00 01"],
    [PT.MultipleString, ["a"], "01 00 00 00 61 00 00 00"],
    [PT.ErrorCode, 0x8004010f, "0f 01 04 80"],
    [PT.Guid, "00020329-0000-0000-c000-000000000046", "29 03 02 00 00 00 00 00 c0 00 00 00 00 00 00 46"],
    [PT.Null, null, ""],
  ];
  for (const [type, value, bytes] of cases) {
    test(`type 0x${type.toString(16)} encodes as ${bytes || "nothing"} and decodes back`, () => {
      const w = new Writer();
      writeValue(w, type, value);
      expect(toHex(w.finish())).toBe(bytes);
      const r = new Reader(hex(bytes));
      expect(readValue(r, type)).toEqual(value);
      r.done();
    });
  }
  test("NSPI context uses 32-bit binary counts (MS-OXCMAPIHTTP §2.2.5)", () => {
    const w = new Writer();
    writeValue(w, PT.Binary, hex("aa"), "nspi");
    expect(toHex(w.finish())).toBe("01 00 00 00 aa");
  });
  test("FILETIME <-> Date", () => {
    const d = new Date("2026-12-07T23:00:00Z");
    expect(filetimeToDate(dateToFiletime(d)).toISOString()).toBe(d.toISOString());
    expect(dateToFiletime(new Date(0))).toBe(116444736000000000n);
  });
  test("unknown property type and a huge multi-value count are WireErrors", () => {
    expect(() => readValue(new Reader(hex("00")), 0x0099)).toThrow(WireError);
    expect(() => readValue(new Reader(hex("ffffff7f 01000000")), PT.MultipleInteger32)).toThrow(WireError);
  });
  test("PropertyRow: standard when every cell has a value, flagged when one is an error (§2.8.1)", () => {
    const cols = [propTag(0x0037, PT.String), propTag(0x0e08, PT.Integer32)];
    const std: Cell[] = [{ value: "S" }, { value: 5 }];
    let w = new Writer();
    writePropertyRow(w, cols, std);
    expect(toHex(w.finish())).toBe("00 53 00 00 00 05 00 00 00");
    const flagged: Cell[] = [{ value: "S" }, { error: 0x8004010f }];
    w = new Writer();
    writePropertyRow(w, cols, flagged);
    const b = w.finish();
    expect(toHex(b)).toBe("01 00 53 00 00 00 0a 0f 01 04 80");
    expect(readPropertyRow(new Reader(b), cols)).toEqual(flagged);
  });
});

describe("Restrictions (§2.12) and sort orders (§2.13)", () => {
  const subject = propTag(0x0037, PT.String);
  const tree: Restriction = {
    type: "and",
    children: [
      { type: "content", fuzzyLow: 1, fuzzyHigh: 1, tag: subject, value: { tag: subject, value: "hi" } },
      { type: "not", child: { type: "exist", tag: propTag(0x0e07, PT.Integer32) } },
      { type: "or", children: [
        { type: "property", relop: 4, tag: propTag(0x0e07, PT.Integer32), value: { tag: propTag(0x0e07, PT.Integer32), value: 1 } },
        { type: "bitmask", relop: 1, tag: propTag(0x0e07, PT.Integer32), mask: 2 },
        { type: "size", relop: 2, tag: subject, size: 10 },
        { type: "compareProps", relop: 0, tag1: subject, tag2: subject },
      ] },
      { type: "subObject", subObject: propTag(0x0e12, PT.Object), child: { type: "exist", tag: subject } },
      { type: "comment", values: [{ tag: subject, value: "c" }], child: { type: "exist", tag: subject } },
      { type: "count", count: 3, child: { type: "exist", tag: subject } },
    ],
  };
  test("a tree of every restriction type round-trips; every truncation fails", () => {
    const w = new Writer();
    writeRestriction(w, tree);
    const b = w.finish();
    const r = new Reader(b);
    expect(readRestriction(r)).toEqual(tree);
    r.done();
    everyTruncationFails(b, (x) => readRestriction(new Reader(x)));
  });
  test("MS-OXCDATA §2.12.8 exist restriction bytes: 08 + tag", () => {
    const w = new Writer();
    writeRestriction(w, { type: "exist", tag: 0x0037001f });
    expect(toHex(w.finish())).toBe("08 1f 00 37 00");
  });
  test("nesting beyond the depth limit and bad types are WireErrors", () => {
    const deep = new Uint8Array(LIMITS.restrictionDepth + 5).fill(0x02); // Not(Not(Not(...)))
    expect(() => readRestriction(new Reader(deep))).toThrow(WireError);
    expect(() => readRestriction(new Reader(hex("0c")))).toThrow(WireError);
    expect(() => readRestriction(new Reader(hex("00ffff")))).toThrow(WireError);
  });
  test("SortOrderSet round-trip", () => {
    const s = { categorizedCount: 0, expandedCount: 0, sorts: [{ tag: 0x0e060040, order: 1 }] };
    const w = new Writer();
    writeSortOrderSet(w, s);
    const b = w.finish();
    expect(toHex(b)).toBe("01 00 00 00 00 00 40 00 06 0e 01");
    expect(readSortOrderSet(new Reader(b))).toEqual(s);
  });
  test("TaggedPropertyValue with a restriction value", () => {
    const tv: TaggedValue = { tag: propTag(0x6679, PT.Restriction), value: { type: "exist", tag: subject } };
    const w = new Writer();
    writeTaggedValue(w, tv);
    expect(readTaggedValue(new Reader(w.finish()))).toEqual(tv);
  });
});

describe("ids and EntryIDs (§2.2)", () => {
  test("Folder/Message ID: ReplicaId LE then a big-endian 6-byte GlobalCounter", () => {
    const id = makeId(1, 0x0102030405n);
    const b = new Writer().u64(id).finish();
    expect(toHex(b)).toBe("01 00 00 01 02 03 04 05");
    expect(splitId(id)).toEqual({ replicaId: 1, globalCounter: 0x0102030405n });
  });
  test("Folder EntryID is 46 bytes, Message EntryID 70, both decode back", () => {
    const f = { providerUid: "11111111-2222-3333-4444-555555555555", folderType: 1, databaseGuid: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", globalCounter: 7n };
    const fb = encodeFolderEntryId(f);
    expect(fb.length).toBe(46);
    expect(decodeStoreEntryId(fb)).toEqual(f);
    const m = { providerUid: f.providerUid, messageType: 7, folderDatabaseGuid: f.databaseGuid, folderGlobalCounter: 7n, messageDatabaseGuid: f.databaseGuid, messageGlobalCounter: 9n };
    const mb = encodeMessageEntryId(m);
    expect(mb.length).toBe(70);
    expect(decodeStoreEntryId(mb)).toEqual(m);
    expect(decodeStoreEntryId(new Uint8Array(12))).toBeNull();
  });
  test("Address Book EntryID (§2.2.5.2)", () => {
    const b = encodeAddressBookEntryId("/o=X/cn=a");
    expect(toHex(b.subarray(0, 28))).toBe("00 00 00 00 dc a7 40 c8 c0 42 10 1a b4 b9 08 00 2b 2f e1 82 01 00 00 00 00 00 00 00");
    expect(decodeAddressBookEntryId(b)).toEqual({ type: 0, x500dn: "/o=X/cn=a" });
    expect(decodeAddressBookEntryId(b.subarray(0, 10))).toBeNull();
  });
  test("PropertyName (§2.6.1) by LID and by name", () => {
    for (const p of [
      { kind: 0x00, guid: "00062008-0000-0000-c000-000000000046", lid: 0x8580 } as const,
      { kind: 0x01, guid: "00020329-0000-0000-c000-000000000046", name: "Keywords" } as const,
    ]) {
      const w = new Writer();
      writePropertyName(w, p);
      const b = w.finish();
      expect(readPropertyName(new Reader(b))).toEqual(p);
      everyTruncationFails(b, (x) => readPropertyName(new Reader(x)));
    }
  });
});

describe("LZ77 DIRECT2 (MS-OXCRPC §3.1.7.2)", () => {
  test("a hand-built stream: 3 literals then a match of length 6 at offset 3", () => {
    // Flags word 0x10000000 = bits: 0 0 0 1 (MSB first): three literals, one match.
    // Match metadata: offset-1 = 2 -> 2<<3, length-3 = 3 -> 0x0013.
    const stream = hex("00 00 00 10 61 62 63 13 00");
    expect(new TextDecoder().decode(lz77Decompress(stream, 9))).toBe("abcabcabc");
  });
  test("round-trip of repetitive and random data, including long matches", () => {
    const samples = [
      new TextEncoder().encode("abcdefghijklmnopqrstuvwxyz".repeat(40)),
      new Uint8Array(5000).fill(0x41),
      Uint8Array.from({ length: 3000 }, (_, i) => (i * 7919) % 251),
      new Uint8Array(0),
    ];
    for (const s of samples) {
      const c = lz77Compress(s);
      expect(lz77Decompress(c, s.length)).toEqual(s);
    }
  });
  test("a match before the start, or output past SizeActual, is a WireError", () => {
    expect(() => lz77Decompress(hex("00 00 00 80 13 00"), 9)).toThrow(WireError);
    expect(() => lz77Decompress(hex("00 00 00 10 61 62 63 13 00"), 5)).toThrow(WireError);
    expect(() => lz77Decompress(hex("00 00 00 10 61 62 63 13 00"), 20)).toThrow(WireError);
  });
});

describe("ROP buffer framing (MS-OXCRPC §2.2.2.1 RPC_HEADER_EXT)", () => {
  const rops = hex("15 00 00 00 01 32 00"); // MS-OXCTABL §4.5.3.1 RopQueryRows request
  test("plain, XorMagic and compressed request buffers give the same ROPs and handles", () => {
    for (const flags of [RHE.Last, RHE.Last | RHE.XorMagic, RHE.Last | RHE.Compressed, RHE.Last | RHE.Compressed | RHE.XorMagic]) {
      const buf = buildRopRequestBuffer(rops, [0x0c000001]);
      const framed = flags === RHE.Last ? buf : buildRopRequestBuffer(rops, [0x0c000001], flags);
      const got = parseRopBuffer(framed);
      expect(toHex(got.rops)).toBe(toHex(rops));
      expect(got.handles).toEqual([0x0c000001]);
    }
  });
  test("header bytes: Version 0, Flags Last, Size = SizeActual, RopSize counts itself", () => {
    const buf = buildRopRequestBuffer(rops, [0xffffffff]);
    expect(toHex(buf)).toBe("00 00 04 00 0d 00 0d 00 09 00 15 00 00 00 01 32 00 ff ff ff ff");
  });
  test("XorMagic is XOR 0xA5 on every byte", () => {
    expect(toHex(xorMagic(hex("00 a5 ff")))).toBe("a5 00 5a");
  });
  test("response buffer: one header with Last, uncompressed", () => {
    const out = writeRopBuffer(hex("13 01 00 00 00 00 00"), [1]);
    expect(toHex(out)).toBe("00 00 04 00 0d 00 0d 00 09 00 13 01 00 00 00 00 00 01 00 00 00");
    expect(parseRopBuffer(out).handles).toEqual([1]);
  });
  test("malformed framing: every truncation, bad version, bad flags, ragged handle table, RopSize < 2", () => {
    const buf = buildRopRequestBuffer(rops, [0xffffffff]);
    everyTruncationFails(buf, parseRopBuffer);
    expect(() => parseRopBuffer(hex("01 00 04 00 02 00 02 00 02 00"))).toThrow(WireError);
    expect(() => parseRopBuffer(hex("00 00 08 00 02 00 02 00 02 00"))).toThrow(WireError);
    expect(() => parseRopBuffer(hex("00 00 04 00 03 00 03 00 02 00 ff"))).toThrow(WireError);
    expect(() => parseRopBuffer(hex("00 00 04 00 02 00 02 00 01 00"))).toThrow(WireError);
    expect(() => parseRopBuffer(hex("00 00 04 00 02 00 03 00 02 00"))).toThrow(WireError); // Size != SizeActual uncompressed
    expect(() => parseRopBuffer(hex("00 00 05 00 04 00 ff ff 00 00 00 00"))).toThrow(WireError); // SizeActual above the limit
  });
});

describe("EMSMDB bodies (MS-OXCMAPIHTTP §2.2.4)", () => {
  test("Connect request/response round-trip; truncations fail", () => {
    const q = { userDn: "/o=Pillarbox/cn=Recipients/cn=alice", flags: 0, defaultCodePage: 1252, lcidSort: 1033, lcidString: 1033, auxiliary: new Uint8Array() };
    const b = writeConnectRequest(q);
    expect(parseConnectRequest(b)).toEqual(q);
    everyTruncationFails(b, parseConnectRequest);
    const s = { statusCode: 0, errorCode: 0, maxPollingInterval: 60000, retryCount: 6, retryDelay: 10000, dnPrefix: "/o=Pillarbox/", displayName: "Alice", auxiliary: new Uint8Array() };
    const sb = writeConnectResponse(s);
    expect(parseConnectResponse(sb)).toEqual(s);
  });
  test("Connect request as ruler sends it (UserDn NUL-terminated, LCIDs 1033, code page 1252)", () => {
    const dn = "/o=Org/cn=x";
    const body = new Writer().cstr8(dn).u32(0).u32(1252).u32(1033).u32(1033).u32(0).finish();
    expect(parseConnectRequest(body).userDn).toBe(dn);
  });
  test("Execute request/response round-trip; an oversized RopBufferSize or aux is refused", () => {
    const rop = buildRopRequestBuffer(hex("01 00 00"), [0x0c000000]);
    const q = { flags: 3, ropBuffer: rop, maxRopOut: 0x40000, auxiliary: new Uint8Array() };
    const b = writeExecuteRequest(q);
    expect(parseExecuteRequest(b)).toEqual(q);
    everyTruncationFails(b, parseExecuteRequest);
    expect(() => parseExecuteRequest(hex("00000000 ffffffff"))).toThrow(WireError);
    expect(() => parseExecuteRequest(hex("00000000 00000000 00000000 ffff0000"))).toThrow(WireError);
    const s = { statusCode: 0, errorCode: 0, flags: 0, ropBuffer: writeRopBuffer(new Uint8Array(), []), auxiliary: new Uint8Array() };
    expect(parseExecuteResponse(writeExecuteResponse(s))).toEqual(s);
  });
  test("Disconnect and NotificationWait", () => {
    expect(parseDisconnectRequest(hex("00000000")).auxiliary.length).toBe(0);
    expect(() => parseDisconnectRequest(hex("0000"))).toThrow(WireError);
    expect(toHex(writeDisconnectResponse({ statusCode: 0, errorCode: 0 }))).toBe("00 00 00 00 00 00 00 00 00 00 00 00");
    expect(parseNotificationWaitRequest(hex("00000000 00000000")).flags).toBe(0);
    expect(toHex(writeNotificationWaitResponse({ statusCode: 0, errorCode: 0, eventPending: true }))).toBe("00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00");
    expect(() => parseNotificationWaitRequest(hex("00000000 00000000 00"))).toThrow(WireError);
  });
});
