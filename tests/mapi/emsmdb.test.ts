/**
 * The EMSMDB ROP engine against a real store, reading (MS-OXCROPS request
 * layouts built byte by byte in emsmdb-client.ts): Connect's DN check,
 * RopLogon's special folders, the Inbox over OpenFolder/contents
 * table/QueryRows showing SMTP-delivered messages, sorts, restrictions,
 * seeks, messages, bodies as streams, attachments; and malformed or unknown
 * ROPs answered with error codes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestServer } from "../helpers/server.ts";
import type { Account } from "../../storage/api.ts";
import type { EmsmdbState } from "../../protocols/http/mapi/emsmdb/objects.ts";
import type { MapiContext } from "../../protocols/http/mapi/types.ts";
import { legacyDn } from "../../protocols/http/mapi/identity.ts";
import { Writer } from "../../protocols/http/mapi/wire/writer.ts";
import { LOGON, NULL_HANDLE, connect, exec, head, rop, row } from "./emsmdb-client.ts";
import { A, B, T, logonAs, startFixture } from "./emsmdb-fixture.ts";

let srv: TestServer;
let alice: Account;
let c: MapiContext;

beforeAll(async () => {
  ({ srv, alice, c } = await startFixture());
});

afterAll(async () => {
  await srv?.close();
});

const logon = () => logonAs(c, alice);

describe("Connect", () => {
  test("the account's own DN opens a session with its display name", async () => {
    const res = await connect(c);
    expect(res.errorCode).toBe(0);
    expect(res.state).not.toBeNull();
  });
  test("another account's DN or an unknown DN is refused, no session", async () => {
    const bob = (await srv.store.getAccount(B.email))!;
    const other = await connect(c, legacyDn(bob));
    expect(other.errorCode).not.toBe(0);
    expect(other.state).toBeNull();
    const unknown = await connect(c, "/o=Elsewhere/cn=nobody");
    expect(unknown.errorCode).toBe(0x3eb);
    expect(unknown.state).toBeNull();
  });
});

describe("RopLogon and folders", () => {
  test("logon answers 13 distinct folder ids; the Inbox opens with its name and counts", async () => {
    const { s, fids } = await logon();
    expect(new Set(fids.map(String)).size).toBe(13);
    // ruler's connect: RopOpenFolder(Inbox = FolderIds[4]) + RopGetPropertiesSpecific(DisplayName, Subfolders).
    const { r, handles } = await exec(c, s, [rop.openFolder(0, 1, fids[4]!), rop.getProps(1, [T.DisplayName, T.Subfolders, T.ContentCount, T.ContainerClass])], [(LOGON << 24) >>> 0, NULL_HANDLE]);
    expect(head(r)).toEqual({ ropId: 0x02, index: 1, rv: 0 });
    r.u8();
    r.u8();
    expect(head(r).rv).toBe(0);
    expect(row(r, [T.DisplayName, T.Subfolders, T.ContentCount, T.ContainerClass])).toEqual(["Inbox", false, 4, "IPF.Note"]);
    expect(handles[1]).toBe(((LOGON << 24) | 1) >>> 0);
  });

  test("RopGetReceiveFolder names the Inbox", async () => {
    const { s, fids } = await logon();
    const { r } = await exec(c, s, [rop.receiveFolder(0)], [(LOGON << 24) >>> 0]);
    expect(head(r).rv).toBe(0);
    expect(r.u64()).toBe(fids[4]!);
  });

  test("the IPM subtree's hierarchy table lists the store's folders", async () => {
    const { s, fids } = await logon();
    const { r } = await exec(c, s, [rop.openFolder(0, 1, fids[3]!), rop.hierarchy(1, 2), rop.setColumns(2, [T.DisplayName, T.FolderId]), rop.queryRows(2, 100)], [(LOGON << 24) >>> 0, NULL_HANDLE, NULL_HANDLE]);
    head(r);
    r.bytes(2);
    expect(head(r).rv).toBe(0);
    const count = r.u32();
    head(r);
    r.u8();
    expect(head(r).rv).toBe(0);
    r.u8(); // Origin
    const n = r.u16();
    expect(n).toBe(count);
    const names = Array.from({ length: n }, () => row(r, [T.DisplayName, T.FolderId])[0]);
    expect(names).toContain("Inbox");
    expect(names).toContain("Sent");
    expect(names.filter((x) => x === "Inbox").length).toBe(1);
  });
});

/** Opens the Inbox's contents table with `columns` (handles: 0 logon, 1 folder, 2 table). */
async function inboxTable(s: EmsmdbState, fids: bigint[], columns: number[], extra: Uint8Array[] = []): Promise<ReturnType<typeof row>[]> {
  const { r } = await exec(c, s, [rop.openFolder(0, 1, fids[4]!), rop.contents(1, 2), rop.setColumns(2, columns), ...extra, rop.queryRows(2, 50)], [(LOGON << 24) >>> 0, NULL_HANDLE, NULL_HANDLE]);
  head(r);
  r.bytes(2);
  expect(head(r).rv).toBe(0);
  r.u32();
  head(r);
  r.u8();
  for (let i = 0; i < extra.length; i++) {
    expect(head(r).rv).toBe(0);
    r.u8();
  }
  expect(head(r).rv).toBe(0);
  r.u8();
  const n = r.u16();
  return Array.from({ length: n }, () => row(r, columns));
}

describe("the Inbox's contents", () => {
  test("QueryRows shows the SMTP-delivered messages' subjects, class and sender", async () => {
    const { s, fids } = await logon();
    const rows = await inboxTable(s, fids, [T.Subject, T.MessageClass, T.SenderSmtp, T.MessageFlags]);
    expect(rows.map((x) => x[0])).toEqual(["Zebra report", "Apple pie", "Mango season", "With file"]);
    expect(rows[0]![1]).toBe("IPM.Note");
    expect(rows[0]![2]).toBe(B.email);
    expect((rows[3]![3] as number) & 0x10).toBe(0x10); // MSGFLAG_HASATTACH
  });

  test("RopSortTable orders by subject, descending", async () => {
    const { s, fids } = await logon();
    const rows = await inboxTable(s, fids, [T.Subject], [rop.sort(2, T.Subject, true)]);
    expect(rows.map((x) => x[0])).toEqual(["Zebra report", "With file", "Mango season", "Apple pie"]);
  });

  test("RopRestrict: a content restriction (substring, ignore case) and Or/Not", async () => {
    const { s, fids } = await logon();
    // MS-OXCDATA §2.12.2: RestrictType 0x03, FuzzyLevelLow 1 SUBSTRING, FuzzyLevelHigh 1 IGNORECASE, PropTag, TaggedValue.
    const content = (needle: string) => new Writer().u8(0x03).u16(1).u16(1).u32(T.Subject).u32(T.Subject).cstr16(needle).finish();
    const rows = await inboxTable(s, fids, [T.Subject], [rop.restrict(2, content("PIE"))]);
    expect(rows.map((x) => x[0])).toEqual(["Apple pie"]);
    const or = new Writer().u8(0x01).u16(2).bytes(content("zebra")).bytes(content("mango")).finish();
    const not = new Writer().u8(0x02).bytes(or).finish();
    const s2 = (await logon()).s;
    expect((await inboxTable(s2, fids, [T.Subject], [rop.restrict(2, not)])).map((x) => x[0])).toEqual(["Apple pie", "With file"]);
  });

  test("RopSeekRow and RopQueryPosition move the cursor", async () => {
    const { s, fids } = await logon();
    const { r } = await exec(c, s, [rop.openFolder(0, 1, fids[4]!), rop.contents(1, 2), rop.setColumns(2, [T.Subject]), rop.seekRow(2, 0, 2), rop.queryPosition(2), rop.seekRow(2, 1, 10)], [(LOGON << 24) >>> 0, NULL_HANDLE, NULL_HANDLE]);
    r.bytes(8);
    r.bytes(10);
    r.bytes(7);
    expect(head(r).rv).toBe(0);
    expect(r.u8()).toBe(0);
    expect(r.i32()).toBe(2);
    expect(head(r).rv).toBe(0);
    expect([r.u32(), r.u32()]).toEqual([2, 4]);
    expect(head(r).rv).toBe(0);
    expect(r.u8()).toBe(1); // HasSoughtLess: only 2 rows were left
    expect(r.i32()).toBe(2);
  });

  test("a message opens with its body; the body reads as a stream; the attachment opens", async () => {
    const { s, fids } = await logon();
    const rows = await inboxTable(s, fids, [T.Subject, T.Mid]);
    const mid = rows.find((x) => x[0] === "With file")![1] as bigint;
    const mango = rows.find((x) => x[0] === "Mango season")![1] as bigint;
    const L = (LOGON << 24) >>> 0;
    const { r } = await exec(c, s, [rop.openMessage(0, 1, fids[4]!, mango), rop.getProps(1, [T.Subject, T.Body]), rop.openStream(1, 2, T.Body), rop.readStream(2, 1000)], [L, NULL_HANDLE, NULL_HANDLE]);
    expect(head(r)).toEqual({ ropId: 0x03, index: 1, rv: 0 });
    r.u8(); // HasNamedProperties
    expect(r.u8()).toBe(0x01); // SubjectPrefix: empty TypedString
    expect(r.u8()).toBe(0x04);
    expect(r.cstr16()).toBe("Mango season");
    r.bytes(5);
    expect(head(r).rv).toBe(0);
    const [subject, body] = row(r, [T.Subject, T.Body]);
    expect(subject).toBe("Mango season");
    expect(String(body)).toContain("Hello Mango season");
    expect(head(r).rv).toBe(0);
    const size = r.u32();
    expect(head(r).rv).toBe(0);
    const data = r.bin16();
    expect(data.length).toBe(size);
    expect(new TextDecoder("utf-16le").decode(data)).toContain("Hello Mango season");

    const att = await exec(c, s, [rop.openMessage(0, 1, fids[4]!, mid), rop.attachments(1, 2), rop.setColumns(2, [T.AttachLongFilename]), rop.queryRows(2, 10), rop.openAttachment(1, 3, 0), rop.getProps(3, [T.AttachData])], [L, NULL_HANDLE, NULL_HANDLE, NULL_HANDLE]);
    const a = att.r;
    head(a);
    a.u8();
    a.u8();
    a.u8();
    a.cstr16();
    a.bytes(5);
    expect(head(a).rv).toBe(0);
    expect(head(a).rv).toBe(0);
    a.u8();
    expect(head(a).rv).toBe(0);
    a.u8();
    expect(a.u16()).toBe(1);
    expect(row(a, [T.AttachLongFilename])).toEqual(["data.bin"]);
    expect(head(a).rv).toBe(0);
    expect(head(a).rv).toBe(0);
    expect(Array.from(row(a, [T.AttachData])[0] as Uint8Array)).toEqual([0, 1, 2, 3, 4]);
  });

  test("a message id of another folder or none at all is ecNotFound", async () => {
    const { s, fids } = await logon();
    const { r } = await exec(c, s, [rop.openMessage(0, 1, fids[4]!, 0x0000_0000_0000_0001n | (99999n << 16n))], [(LOGON << 24) >>> 0, NULL_HANDLE]);
    expect(head(r)).toEqual({ ropId: 0x03, index: 1, rv: 0x8004010f });
  });
});

describe("named properties and handles", () => {
  test("RopGetPropertyIdsFromNames: Create gives ids from 0x8000, the same name the same id; an unknown name without Create is 0 with ecWarnWithErrors", async () => {
    const { s } = await logon();
    const L = (LOGON << 24) >>> 0;
    const guid = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    const first = await exec(c, s, [rop.namesToIds(0, guid, 0x8501), rop.namesToIds(0, guid, 0x8502), rop.namesToIds(0, guid, 0x8501)], [L]);
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      expect(head(first.r).rv).toBe(0);
      expect(first.r.u16()).toBe(1);
      ids.push(first.r.u16());
    }
    expect(ids[0]).toBeGreaterThanOrEqual(0x8000);
    expect(ids[1]).not.toBe(ids[0]);
    expect(ids[2]).toBe(ids[0]);
    const noCreate = new Writer().u8(0x56).u8(LOGON).u8(0).u8(0).u16(1).u8(0).bytes(guid).u32(0x9999).finish();
    const second = await exec(c, s, [noCreate], [L]);
    expect(head(second.r).rv).toBe(0x00040380);
    expect([second.r.u16(), second.r.u16()]).toEqual([1, 0]);
  });

  test("RopRelease frees a handle: using it afterwards is ecNullObject", async () => {
    const { s, fids } = await logon();
    const opened = await exec(c, s, [rop.openFolder(0, 1, fids[4]!)], [(LOGON << 24) >>> 0, NULL_HANDLE]);
    const folder = opened.handles[1]!;
    const { r } = await exec(c, s, [rop.release(0), rop.getPropsList(0)], [folder]);
    expect(head(r)).toEqual({ ropId: 0x09, index: 0, rv: 0x4b9 });
  });
});

describe("malformed and unknown ROPs", () => {
  test("an unknown ROP answers ecNotSupported after the ROPs before it ran", async () => {
    const { s } = await logon();
    const { r } = await exec(c, s, [rop.getPropsList(0), new Uint8Array([0x70, LOGON, 0x00, 0x01, 0x02])], [(LOGON << 24) >>> 0]);
    expect(head(r)).toEqual({ ropId: 0x09, index: 0, rv: 0 });
    r.bytes(r.u16() * 4);
    expect(head(r)).toEqual({ ropId: 0x70, index: 0, rv: 0x80040102 });
    expect(r.remaining).toBe(0);
  });

  test("a truncated ROP answers ecInvalidParam, never a crash", async () => {
    const { s } = await logon();
    const full = rop.openFolder(0, 1, 1n);
    const { r } = await exec(c, s, [full.subarray(0, 6)], [(LOGON << 24) >>> 0, NULL_HANDLE]);
    expect(head(r)).toEqual({ ropId: 0x02, index: 0, rv: 0x80070057 });
  });

  test("a handle index naming no object is ecNullObject; the next ROP still runs", async () => {
    const { s } = await logon();
    const { r } = await exec(c, s, [rop.getPropsList(1), rop.getPropsList(0)], [(LOGON << 24) >>> 0, NULL_HANDLE]);
    expect(head(r)).toEqual({ ropId: 0x09, index: 1, rv: 0x4b9 });
    expect(head(r)).toEqual({ ropId: 0x09, index: 0, rv: 0 });
  });

  test("a ROP on the wrong kind of object is ecInvalidObject", async () => {
    const { s } = await logon();
    const { r } = await exec(c, s, [rop.queryRows(0, 10)], [(LOGON << 24) >>> 0]);
    expect(head(r)).toEqual({ ropId: 0x15, index: 0, rv: 0x80040108 });
  });

  test("an unreadable ROP buffer is ecRpcFormat in the Execute response", async () => {
    const { state } = await connect(c);
    const { writeExecuteRequest, parseExecuteResponse } = await import("../../protocols/http/mapi/wire/emsmdb-bodies.ts");
    const { emsmdb } = await import("../../protocols/http/mapi/emsmdb/index.ts");
    const res = parseExecuteResponse(await emsmdb.execute(c, state!, writeExecuteRequest({ flags: 0, ropBuffer: new Uint8Array([1, 2, 3]), maxRopOut: 0x10008, auxiliary: new Uint8Array() })));
    expect(res.statusCode).toBe(0);
    expect(res.errorCode).toBe(0x4b6);
  });

  test("an answer larger than MaxRopOut becomes RopBufferTooSmall with the unprocessed requests", async () => {
    const { s } = await logon();
    const req = rop.getPropsAll(0);
    const { r } = await exec(c, s, [rop.getPropsList(0), req], [(LOGON << 24) >>> 0], 40);
    expect(head(r).rv).toBe(0);
    r.bytes(r.u16() * 4);
    expect(r.u8()).toBe(0xff);
    r.u16(); // SizeNeeded
    expect(Array.from(r.rest())).toEqual(Array.from(req));
  });

  test("a logon for another mailbox is refused", async () => {
    const { state } = await connect(c);
    const bob = (await srv.store.getAccount(B.email))!;
    const { r } = await exec(c, state!, [rop.logon(legacyDn(bob))], [NULL_HANDLE]);
    expect(head(r)).toEqual({ ropId: 0xfe, index: 0, rv: 0x80040111 });
  });

  test("random buffers never throw out of the service", async () => {
    const { s } = await logon();
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let i = 0; i < 300; i++) {
      const len = 1 + Math.floor(rnd() * 40);
      const bytes = Uint8Array.from({ length: len }, () => Math.floor(rnd() * 256));
      bytes[1] = LOGON;
      const res = await exec(c, s, [bytes], [(LOGON << 24) >>> 0, NULL_HANDLE, NULL_HANDLE]);
      expect(res.errorCode === 0 || res.errorCode === 0x4b6).toBe(true);
    }
  });
});

