/**
 * ROP request parsers and response writers (protocols/http/mapi/wire
 * rops-*.ts, MS-OXCROPS §2.2): the example buffers printed in MS-OXCTABL §4
 * and MS-OXORULE §4, ruler's send sequence, a round trip of every ROP the
 * codec knows, the unknown-RopId stop, and every truncation point.
 */
import { describe, expect, test } from "bun:test";
import {
  EC, LIMITS, PT, ROP, Reader, WireError, Writer, buildRopRequestBuffer, encodeRecipientRow, encodeRopRequest,
  encodeRopRequests, isUnknownRop, logonTimeOf, makeId, parseRop, parseRopBufferRequests, parseRopRequests, propTag,
  readRecipientRow, ropError, unknownRopResponse, writeBufferTooSmall, writeRopResponse,
} from "../../protocols/http/mapi/wire/index.ts";
import type { RopRequest, RopResponse } from "../../protocols/http/mapi/wire/index.ts";

const hex = (s: string) => Uint8Array.from(s.replace(/[^0-9a-f]/gi, "").match(/../g) ?? [], (h) => parseInt(h, 16));
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
const resp = (r: RopResponse) => {
  const w = new Writer();
  writeRopResponse(w, r);
  return w.finish();
};

const SUBJECT = propTag(0x0037, PT.String);
const MSGCLASS = propTag(0x001a, PT.String);
const INBOX = makeId(1, 0x14n);

/** One sample request of every ROP the codec parses. */
const SAMPLES: RopRequest[] = [
  { ropId: ROP.Logon, logonId: 0, outputHandleIndex: 0, logonFlags: 0x01, openFlags: 0x01000402, storeState: 0, essdn: "/o=Pillarbox/cn=Recipients/cn=alice" },
  { ropId: ROP.Logon, logonId: 1, outputHandleIndex: 0, logonFlags: 0x01, openFlags: 0, storeState: 0, essdn: "" },
  { ropId: ROP.Release, logonId: 0, inputHandleIndex: 1 },
  { ropId: ROP.OpenFolder, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, folderId: INBOX, openModeFlags: 0 },
  { ropId: ROP.OpenMessage, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, codePageId: 0x0fff, folderId: INBOX, openModeFlags: 0, messageId: makeId(1, 99n) },
  { ropId: ROP.GetHierarchyTable, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, tableFlags: 0x04 },
  { ropId: ROP.GetContentsTable, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, tableFlags: 0x40 },
  { ropId: ROP.CreateMessage, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, codePageId: 0x0fff, folderId: INBOX, associated: false },
  { ropId: ROP.GetPropertiesSpecific, logonId: 0, inputHandleIndex: 1, propertySizeLimit: 0, wantUnicode: true, tags: [0x3001001f, 0x360a000b] },
  { ropId: ROP.GetPropertiesAll, logonId: 0, inputHandleIndex: 1, propertySizeLimit: 0x1000, wantUnicode: true },
  { ropId: ROP.GetPropertiesList, logonId: 0, inputHandleIndex: 1 },
  { ropId: ROP.SetProperties, logonId: 0, inputHandleIndex: 1, values: [{ tag: SUBJECT, value: "Hi" }, { tag: MSGCLASS, value: "IPM.Note" }, { tag: propTag(0x10f4, PT.Boolean), value: true }] },
  { ropId: ROP.SaveChangesMessage, logonId: 0, responseHandleIndex: 2, inputHandleIndex: 1, saveFlags: 0x0c },
  {
    ropId: ROP.ModifyRecipients, logonId: 0, inputHandleIndex: 1, columns: [propTag(0x0ffe, PT.Integer32), propTag(0x3900, PT.Integer32)],
    rows: [
      { rowId: 0, recipientType: 1, row: { flags: 0x021b, addressType: 3, emailAddress: "bob@x.test", displayName: "Bob", properties: [{ value: 6 }, { value: 0 }] } },
      { rowId: 1, recipientType: 2, row: null },
    ],
  },
  { ropId: ROP.ReadRecipients, logonId: 0, inputHandleIndex: 1, rowId: 0 },
  { ropId: ROP.SetColumns, logonId: 0, inputHandleIndex: 2, flags: 0, tags: [SUBJECT, MSGCLASS, 0x674a0014] },
  { ropId: ROP.SortTable, logonId: 0, inputHandleIndex: 2, flags: 0, sort: { categorizedCount: 0, expandedCount: 0, sorts: [{ tag: 0x0e060040, order: 1 }] } },
  { ropId: ROP.Restrict, logonId: 0, inputHandleIndex: 2, flags: 0, restriction: { type: "content", fuzzyLow: 1, fuzzyHigh: 1, tag: SUBJECT, value: { tag: SUBJECT, value: "x" } } },
  { ropId: ROP.Restrict, logonId: 0, inputHandleIndex: 2, flags: 0, restriction: null },
  { ropId: ROP.QueryRows, logonId: 0, inputHandleIndex: 2, flags: 0, forwardRead: true, rowCount: 50 },
  { ropId: ROP.GetStatus, logonId: 0, inputHandleIndex: 2 },
  { ropId: ROP.QueryPosition, logonId: 0, inputHandleIndex: 2 },
  { ropId: ROP.SeekRow, logonId: 0, inputHandleIndex: 2, origin: 0, rowCount: -3, wantRowMovedCount: true },
  { ropId: ROP.DeleteMessages, logonId: 0, inputHandleIndex: 1, wantAsynchronous: false, notifyNonRead: false, messageIds: [makeId(1, 5n), makeId(1, 6n)] },
  { ropId: ROP.GetAttachmentTable, logonId: 0, inputHandleIndex: 2, outputHandleIndex: 3, tableFlags: 0 },
  { ropId: ROP.OpenAttachment, logonId: 0, inputHandleIndex: 2, outputHandleIndex: 3, flags: 0, attachmentId: 0 },
  { ropId: ROP.SetReceiveFolder, logonId: 0, inputHandleIndex: 0, folderId: INBOX, messageClass: "IPM" },
  { ropId: ROP.GetReceiveFolder, logonId: 0, inputHandleIndex: 0, messageClass: "IPM.Note" },
  { ropId: ROP.RegisterNotification, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, notificationTypes: 0x04, wantWholeStore: true, folderId: null, messageId: null },
  { ropId: ROP.RegisterNotification, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, notificationTypes: 0x04, wantWholeStore: false, folderId: INBOX, messageId: 0n },
  { ropId: ROP.OpenStream, logonId: 0, inputHandleIndex: 2, outputHandleIndex: 3, tag: 0x1000001f, openModeFlags: 0 },
  { ropId: ROP.ReadStream, logonId: 0, inputHandleIndex: 3, byteCount: 0x1000, maximumByteCount: null },
  { ropId: ROP.ReadStream, logonId: 0, inputHandleIndex: 3, byteCount: 0xbabe, maximumByteCount: 0x100000 },
  { ropId: ROP.WriteStream, logonId: 0, inputHandleIndex: 3, data: hex("010203") },
  { ropId: ROP.SeekStream, logonId: 0, inputHandleIndex: 3, origin: 0, offset: 10n },
  { ropId: ROP.CommitStream, logonId: 0, inputHandleIndex: 3 },
  { ropId: ROP.GetStreamSize, logonId: 0, inputHandleIndex: 3 },
  { ropId: ROP.SubmitMessage, logonId: 0, inputHandleIndex: 1, submitFlags: 0 },
  { ropId: ROP.GetRulesTable, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, tableFlags: 0x40 },
  { ropId: ROP.ModifyRules, logonId: 0, inputHandleIndex: 1, flags: 0, rules: [{ flags: 0x01, values: [{ tag: 0x6682001f, value: "r1" }, { tag: 0x66790102 & 0xffff0000 | PT.Restriction, value: { type: "exist", tag: SUBJECT } }, { tag: (0x6680 << 16) | PT.RuleAction, value: hex("0100 0500 0100000000") }] }] },
  { ropId: ROP.LongTermIdFromId, logonId: 0, inputHandleIndex: 0, objectId: INBOX },
  { ropId: ROP.IdFromLongTermId, logonId: 0, inputHandleIndex: 0, longTermId: { databaseGuid: "11111111-2222-3333-4444-555555555555", globalCounter: 0x14n } },
  { ropId: ROP.GetNamesFromPropertyIds, logonId: 0, inputHandleIndex: 1, propertyIds: [0x8001, 0x8002] },
  { ropId: ROP.GetPropertyIdsFromNames, logonId: 0, inputHandleIndex: 1, flags: 0x02, names: [{ kind: 0x00, guid: "00062008-0000-0000-c000-000000000046", lid: 0x8580 }, { kind: 0x01, guid: "00020329-0000-0000-c000-000000000046", name: "Keywords" }] },
  { ropId: ROP.GetPerUserLongTermIds, logonId: 0, inputHandleIndex: 0, databaseGuid: "11111111-2222-3333-4444-555555555555" },
];

describe("examples printed in the specifications", () => {
  test("MS-OXCTABL §4.5.3.1: RopQueryRows request 15 00 00 00 01 32 00", () => {
    const r = new Reader(hex("15 00 00 00 01 32 00"));
    expect(parseRop(r)).toEqual({ ropId: 0x15, logonId: 0, inputHandleIndex: 0, flags: 0, forwardRead: true, rowCount: 50 });
    r.done();
  });
  test("MS-OXCTABL §4.3.2: RopSortTable response 13 01 00 00 00 00 00", () => {
    expect(toHex(resp({ ropId: ROP.SortTable, handleIndex: 1, returnValue: 0, tableStatus: 0 }))).toBe("13 01 00 00 00 00 00");
  });
  test("MS-OXORULE §4.2.2: RopGetRulesTable, RopSetColumns responses and the RopQueryRows header", () => {
    expect(toHex(resp({ ropId: ROP.GetRulesTable, handleIndex: 1, returnValue: 0 }))).toBe("3f 01 00 00 00 00");
    expect(toHex(resp({ ropId: ROP.SetColumns, handleIndex: 1, returnValue: 0, tableStatus: 0 }))).toBe("12 01 00 00 00 00 00");
    const cols = [propTag(0x6682, PT.String)];
    const q = resp({ ropId: ROP.QueryRows, handleIndex: 1, returnValue: 0, origin: 2, columns: cols, rows: [[{ value: "Project X" }]] });
    // RopId 0x15, InputHandleIndex 1, ReturnValue 0, Origin BOOKMARK_END, RowCount 1, then the row.
    expect(toHex(q.subarray(0, 9))).toBe("15 01 00 00 00 00 02 01 00");
    // The example's row ends with PidTagRuleName "Project X" in UTF-16LE plus its terminator.
    expect(toHex(q.subarray(q.length - 20))).toBe("50 00 72 00 6f 00 6a 00 65 00 63 00 74 00 20 00 58 00 00 00");
  });
});

describe("every ROP request round-trips", () => {
  for (const q of SAMPLES) {
    test(`RopId 0x${q.ropId.toString(16)} ${JSON.stringify(q, (_, v) => (typeof v === "bigint" ? `${v}n` : v instanceof Uint8Array ? toHex(v) : v)).slice(0, 80)}`, () => {
      const w = new Writer();
      encodeRopRequest(w, q);
      const bytes = w.finish();
      const r = new Reader(bytes);
      const back = parseRop(r);
      r.done();
      expect(back).toEqual(q);
      // Every strict prefix is a WireError, never another exception and never a silent success.
      for (let n = 0; n < bytes.length; n++) {
        const rr = new Reader(bytes.subarray(0, n));
        let err: unknown = null;
        try {
          parseRop(rr);
        } catch (e) {
          err = e;
        }
        if (!(err instanceof WireError)) throw new Error(`prefix ${n}/${bytes.length}: ${err === null ? "accepted" : String(err)}`);
      }
    });
  }
  test("all of them in one ROP buffer, with a handle table", () => {
    const buf = buildRopRequestBuffer(encodeRopRequests(SAMPLES), [0x0c000000, 0xffffffff]);
    const got = parseRopBufferRequests(buf);
    expect(got.unknown).toBeNull();
    expect(got.rops).toEqual(SAMPLES);
    expect(got.handles).toEqual([0x0c000000, 0xffffffff]);
  });
});

describe("ruler's send Execute (CreateMessage + SetProperties + ModifyRecipients + SubmitMessage)", () => {
  test("RecipientFlags 0x023B (SMTP|E|D|T|U): email, display name, transmittable name, then the row", () => {
    const columns = [0x0ffe0003, 0x39000003, 0x3003001f, 0x3a710003, 0x39050003, 0x5ff6001f, 0x5ffd0003, 0x5fff0003];
    const u16z = (s: string) => new Writer().cstr16(s).finish();
    const row = new Writer().u16(0x023b).bytes(u16z("a@x.test")).bytes(u16z("Self")).bytes(u16z("Self")).u16(8).u8(0)
      .u32(6).u32(0).bytes(u16z("a@x.test")).u32(0).u32(64).bytes(u16z("Self")).u32(1).u32(0).finish();
    const w = new Writer();
    w.u8(0x06).u8(0x0c).u8(0).u8(1).u16(0x0fff).u64(INBOX).u8(0); // RopCreateMessage
    const props = new Writer().u16(1).u32(SUBJECT).cstr16("trigger").finish();
    w.u8(0x0a).u8(0x0c).u8(1).bin16(props); // RopSetProperties: PropertyValueSize covers the count
    w.u8(0x0e).u8(0x0c).u8(1).u16(columns.length);
    for (const c of columns) w.u32(c);
    w.u16(1).u32(1).u8(1).bin16(row); // RopModifyRecipients: one ModifyRecipientRow
    w.u8(0x32).u8(0x0c).u8(1).u8(0); // RopSubmitMessage
    const { rops, unknown } = parseRopRequests(w.finish());
    expect(unknown).toBeNull();
    expect(rops.map((r) => r.ropId)).toEqual([0x06, 0x0a, 0x0e, 0x32]);
    const mod = rops[2];
    if (mod?.ropId !== ROP.ModifyRecipients) throw new Error("not ModifyRecipients");
    const r0 = mod.rows[0]!.row!;
    expect(r0.addressType).toBe(3);
    expect(r0.emailAddress).toBe("a@x.test");
    expect(r0.displayName).toBe("Self");
    expect(r0.transmittableDisplayName).toBe("Self");
    expect(r0.properties.map((c) => ("value" in c ? c.value : null))).toEqual([6, 0, "a@x.test", 0, 64, "Self", 1, 0]);
  });
  test("a recipient row claiming more columns than the request is a WireError", () => {
    const bad = new Writer().u16(0x0003).u16(3).u8(0).u32(1).finish();
    expect(() => readRecipientRow(new Reader(bad), [0x0ffe0003])).toThrow(WireError);
  });
});

describe("unknown RopIds and limits", () => {
  test("parsing stops at an unknown RopId; what came before is kept (MS-OXCROPS §2.2.2)", () => {
    const list = new Writer().bytes(hex("15 00 02 00 01 32 00")).bytes(hex("70 00 05 ff ff")).bytes(hex("16 00 02")).finish();
    const { rops, unknown } = parseRopRequests(list);
    expect(rops.length).toBe(1);
    expect(unknown).toEqual({ ropId: 0x70, logonId: 0, inputHandleIndex: 5, unknown: true });
    expect(toHex(resp(unknownRopResponse(unknown!)))).toBe("70 05 02 01 04 80");
    expect(isUnknownRop(parseRop(new Reader(hex("00 00 00"))))).toBe(true); // 0x00 is reserved
  });
  test("more ROPs than LIMITS.rops in one buffer is a WireError", () => {
    const many = new Uint8Array((LIMITS.rops + 1) * 3);
    for (let i = 0; i < many.length; i += 3) many[i] = 0x16;
    expect(() => parseRopRequests(many)).toThrow(WireError);
  });
  test("SetProperties whose count exceeds its PropertyValueSize is a WireError", () => {
    expect(() => parseRop(new Reader(hex("0a 00 00 04 00 05 00 1f 00")))).toThrow(WireError);
  });
  test("a Restrict whose RestrictionDataSize leaves trailing bytes is a WireError", () => {
    expect(() => parseRop(new Reader(hex("14 00 00 00 06 00 08 1f 00 37 00 ff")))).toThrow(WireError);
  });
  test("GetPropertiesSpecific with a tag count beyond the buffer is a WireError (no allocation from the count)", () => {
    expect(() => parseRop(new Reader(hex("07 00 00 00 00 01 00 ff ff 1f 00 37 00")))).toThrow(WireError);
  });
});

describe("response writers", () => {
  test("RopLogon private-mailbox response: 13 folder ids, fixed layout of 166 bytes (MS-OXCROPS §2.2.3.1.2)", () => {
    const ids = Array.from({ length: 13 }, (_, i) => makeId(1, BigInt(i + 1)));
    const b = resp({
      ropId: ROP.Logon, handleIndex: 0, returnValue: 0, logonFlags: 0x01, folderIds: ids, responseFlags: 0x07,
      mailboxGuid: "11111111-2222-3333-4444-555555555555", replId: 1, replGuid: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
      logonTime: logonTimeOf(new Date("2026-12-07T23:30:15Z")), gwartTime: 0n, storeState: 0,
    });
    expect(b.length).toBe(166);
    expect(toHex(b.subarray(0, 7))).toBe("fe 00 00 00 00 00 01");
    expect(toHex(b.subarray(7 + 4 * 8, 7 + 5 * 8))).toBe("01 00 00 00 00 00 00 05"); // FolderIds[4] = Inbox slot
    expect(toHex(b.subarray(146, 154))).toBe("0f 1e 17 01 07 0c ea 07"); // LogonTime: s m h dow day month year
    expect(() => resp({ ropId: ROP.Logon, handleIndex: 0, returnValue: 0, logonFlags: 1, folderIds: [], responseFlags: 0, mailboxGuid: "11111111-2222-3333-4444-555555555555", replId: 1, replGuid: "11111111-2222-3333-4444-555555555555", logonTime: logonTimeOf(new Date()), gwartTime: 0n, storeState: 0 })).toThrow(WireError);
  });
  test("failure responses carry only RopId, handle index and ReturnValue; RopReadStream keeps DataSize", () => {
    expect(toHex(resp(ropError(0x02, 1, EC.NotFound)))).toBe("02 01 0f 01 04 80");
    expect(toHex(resp({ ropId: ROP.OpenFolder, handleIndex: 1, returnValue: EC.NotFound, hasRules: false, isGhosted: false }))).toBe("02 01 0f 01 04 80");
    expect(toHex(resp({ ropId: ROP.ReadStream, handleIndex: 3, returnValue: 0, data: hex("4142") }))).toBe("2c 03 00 00 00 00 02 00 41 42");
    expect(toHex(resp({ ropId: ROP.ReadStream, handleIndex: 3, returnValue: EC.InvalidObject, data: new Uint8Array() }))).toBe("2c 03 08 01 04 80 00 00");
  });
  test("success layouts of the table, message and id ROPs", () => {
    expect(toHex(resp({ ropId: ROP.GetContentsTable, handleIndex: 2, returnValue: 0, rowCount: 3 }))).toBe("05 02 00 00 00 00 03 00 00 00");
    expect(toHex(resp({ ropId: ROP.CreateMessage, handleIndex: 1, returnValue: 0, messageId: null }))).toBe("06 01 00 00 00 00 00");
    expect(toHex(resp({ ropId: ROP.SaveChangesMessage, handleIndex: 2, returnValue: 0, inputHandleIndex: 1, messageId: makeId(1, 7n) }))).toBe("0c 02 00 00 00 00 01 01 00 00 00 00 00 00 07");
    expect(toHex(resp({ ropId: ROP.GetReceiveFolder, handleIndex: 0, returnValue: 0, folderId: INBOX, explicitMessageClass: "" }))).toBe("27 00 00 00 00 00 01 00 00 00 00 00 00 14 00");
    expect(toHex(resp({ ropId: ROP.SetProperties, handleIndex: 1, returnValue: 0, problems: [] }))).toBe("0a 01 00 00 00 00 00 00");
    expect(toHex(resp({ ropId: ROP.OpenFolder, handleIndex: 1, returnValue: 0, hasRules: false, isGhosted: false }))).toBe("02 01 00 00 00 00 00 00");
    expect(toHex(resp({ ropId: ROP.GetPropertyIdsFromNames, handleIndex: 1, returnValue: 0, propertyIds: [0x8001] }))).toBe("56 01 00 00 00 00 01 00 01 80");
    expect(toHex(resp({ ropId: ROP.QueryPosition, handleIndex: 1, returnValue: 0, numerator: 1, denominator: 2 }))).toBe("17 01 00 00 00 00 01 00 00 00 02 00 00 00");
    expect(toHex(resp({ ropId: ROP.SeekRow, handleIndex: 1, returnValue: 0, hasSoughtLess: true, rowsSought: -1 }))).toBe("18 01 00 00 00 00 01 ff ff ff ff");
    expect(toHex(resp({ ropId: ROP.IdFromLongTermId, handleIndex: 0, returnValue: 0, objectId: INBOX }))).toBe("44 00 00 00 00 00 01 00 00 00 00 00 00 14");
    expect(toHex(resp({ ropId: ROP.LongTermIdFromId, handleIndex: 0, returnValue: 0, longTermId: { databaseGuid: "11111111-2222-3333-4444-555555555555", globalCounter: 0x14n } })).slice(-23)).toBe("00 00 00 00 00 14 00 00");
    const gp = resp({ ropId: ROP.GetPropertiesSpecific, handleIndex: 1, returnValue: 0, columns: [0x3001001f, 0x360a000b], row: [{ value: "Inbox" }, { value: false }] });
    expect(toHex(gp)).toBe("07 01 00 00 00 00 00 49 00 6e 00 62 00 6f 00 78 00 00 00 00");
  });
  test("RopOpenMessage with one recipient row encoded by encodeRecipientRow", () => {
    const cols = [propTag(0x0ffe, PT.Integer32)];
    const row = encodeRecipientRow({ addressType: 3, emailAddress: "b@x.test", displayName: "B", properties: [{ value: 6 }] }, cols);
    const parsed = readRecipientRow(new Reader(row), cols);
    expect(parsed.emailAddress).toBe("b@x.test");
    expect(parsed.flags & 0x0200).toBe(0x0200);
    const b = resp({ ropId: ROP.OpenMessage, handleIndex: 2, returnValue: 0, hasNamedProperties: false, subjectPrefix: "", normalizedSubject: "Hi", recipientCount: 1, recipientColumns: cols, recipientRows: [{ recipientType: 1, codePageId: 0x0fff, row }] });
    expect(toHex(b.subarray(0, 9))).toBe("03 02 00 00 00 00 00 01 04");
  });
  test("RopBufferTooSmall (MS-OXCROPS §2.2.15.1)", () => {
    const w = new Writer();
    writeBufferTooSmall(w, 0x1234, hex("15 00 00 00 01 32 00"));
    expect(toHex(w.finish())).toBe("ff 34 12 15 00 00 00 01 32 00");
  });
});
