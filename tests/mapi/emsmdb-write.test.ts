/**
 * The EMSMDB ROP engine against a real store, writing: the rules table and
 * RopModifyRules on the webmail's Sieve rules, ruler's create + submit
 * sequence arriving over IMAP, drafts saved, and the MS-OXCPRPT §4
 * RopSetProperties example.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestServer } from "../helpers/server.ts";
import type { Account } from "../../storage/api.ts";
import type { EmsmdbState } from "../../protocols/http/mapi/emsmdb/objects.ts";
import type { MapiContext } from "../../protocols/http/mapi/types.ts";
import { legacyDn } from "../../protocols/http/mapi/identity.ts";
import { Writer } from "../../protocols/http/mapi/wire/writer.ts";
import { ImapConn } from "../reliability/lib/conn.ts";
import { LOGON, NULL_HANDLE, connect, exec, head, rop, row, tv } from "./emsmdb-client.ts";
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

describe("rules", () => {
  test("ruler's display: RopGetRulesTable on handle 0xLL000001 (the Inbox it opened), no Sieve rules: zero rows", async () => {
    const { s, fids } = await logon();
    await exec(c, s, [rop.openFolder(0, 1, fids[4]!), rop.getProps(1, [T.DisplayName])], [(LOGON << 24) >>> 0, NULL_HANDLE]);
    const { r } = await exec(c, s, [rop.rules(0, 1), rop.setColumns(1, [T.RuleName, T.RuleId]), rop.queryRows(1, 50)], [((LOGON << 24) | 1) >>> 0, NULL_HANDLE]);
    expect(head(r)).toEqual({ ropId: 0x3f, index: 1, rv: 0 });
    expect(head(r).rv).toBe(0);
    r.u8();
    expect(head(r).rv).toBe(0);
    r.u8();
    expect(r.u16()).toBe(0);
  });

  test("the webmail's rules show by name", async () => {
    const { rulesToSieve, RULES_SCRIPT_NAME } = await import("../../src/sieve/rules.ts");
    const text = rulesToSieve({ rules: [{ id: "r1", name: "Move news", enabled: true, match: "all", conditions: [{ field: "subject", op: "contains", value: "news" }], actions: [{ type: "mark-read" }] }] } as Parameters<typeof rulesToSieve>[0]);
    await srv.ctx.storage.sieve.putScript(alice.id, RULES_SCRIPT_NAME, text, { maxScripts: 10, maxBytes: 100000 });
    await srv.ctx.storage.sieve.setActive(alice.id, RULES_SCRIPT_NAME);
    try {
      const { s } = await logon();
      const { r } = await exec(c, s, [rop.rules(0, 1), rop.setColumns(1, [T.RuleName, T.RuleId]), rop.queryRows(1, 50)], [(LOGON << 24) >>> 0, NULL_HANDLE]);
      r.bytes(6);
      r.bytes(7);
      expect(head(r).rv).toBe(0);
      r.u8();
      expect(r.u16()).toBe(1);
      expect(row(r, [T.RuleName, T.RuleId])).toEqual(["Move news", 1n]);
    } finally {
      await srv.ctx.storage.sieve.setActive(alice.id, null);
    }
  });
});

describe("RopModifyRules", () => {
  /** One ROW_ADD: name, enabled, Content(subject contains `needle`), and one action block. */
  function addRule(name: string, needle: string, action: Uint8Array, flags = 0x01, ruleId?: bigint): Uint8Array {
    const cond = new Writer().u8(0x03).u16(1).u16(1).u32(T.Subject).u32(T.Subject).cstr16(needle).finish();
    const acts = new Writer().u16(1).u16(action.length).bytes(action).finish();
    const values = new Writer();
    let n = 4;
    values.u32(T.RuleName).cstr16(name);
    values.u32(0x66770003).u32(1);
    values.u32(0x667900fd).bytes(cond);
    values.u32(0x668000fe).bytes(acts);
    if (ruleId !== undefined) {
      values.u32(T.RuleId).u64(ruleId);
      n++;
    }
    return new Writer().u8(0x41).u8(LOGON).u8(0).u8(0).u16(1).u8(flags).u16(n).bytes(values.finish()).finish();
  }
  /** MS-OXORULE §2.2.5.1.2.1: OP_MOVE to a folder of this store (ServerEid: Ours, FolderId, MessageId 0, Instance 0). */
  const moveTo = (fid: bigint) => new Writer().u8(0x01).u32(0).u32(0).u8(1).u16(0).u16(21).u8(1).u64(fid).u64(0n).u32(0).finish();
  const markRead = () => new Writer().u8(0x0b).u32(0).u32(0).finish();

  async function rulesTable(s: EmsmdbState): Promise<ReturnType<typeof row>[]> {
    const { r } = await exec(c, s, [rop.rules(0, 1), rop.setColumns(1, [T.RuleName, T.RuleId]), rop.queryRows(1, 50)], [(LOGON << 24) >>> 0, NULL_HANDLE]);
    r.bytes(6);
    r.bytes(7);
    expect(head(r).rv).toBe(0);
    r.u8();
    return Array.from({ length: r.u16() }, () => row(r, [T.RuleName, T.RuleId]));
  }

  test("a rule added over MAPI becomes the webmail's rules script; modify and remove follow", async () => {
    const archive = await srv.store.createFolder(alice.id, "Invoices");
    const { s } = await logon();
    const { idValue } = await import("../../protocols/http/mapi/emsmdb/ids.ts");
    const add = await exec(c, s, [addRule("Invoices away", "invoice", moveTo(idValue(archive.id)))], [(LOGON << 24) >>> 0]);
    expect(head(add.r)).toEqual({ ropId: 0x41, index: 0, rv: 0 });
    const { RULES_SCRIPT_NAME } = await import("../../src/sieve/rules.ts");
    const active = (await srv.ctx.storage.sieve.activeScript(alice.id))!;
    expect(active.name).toBe(RULES_SCRIPT_NAME);
    expect(active.content).toContain('fileinto "Invoices"');
    expect(active.content).toContain('"invoice"');
    expect(await rulesTable(s)).toEqual([["Invoices away", 1n]]);

    const mod = await exec(c, s, [addRule("Read invoices", "invoice", markRead(), 0x02, 1n)], [(LOGON << 24) >>> 0]);
    expect(head(mod.r).rv).toBe(0);
    expect(await rulesTable(s)).toEqual([["Read invoices", 1n]]);

    const remove = new Writer().u8(0x41).u8(LOGON).u8(0).u8(0).u16(1).u8(0x04).u16(1).u32(T.RuleId).u64(1n).finish();
    expect(head((await exec(c, s, [remove], [(LOGON << 24) >>> 0])).r).rv).toBe(0);
    expect(await rulesTable(s)).toEqual([]);
  });

  test("an action we do not offer (OP_DEFER_ACTION) is ecNotSupported and changes nothing", async () => {
    const { s } = await logon();
    const before = await srv.ctx.storage.sieve.activeScript(alice.id);
    const defer = new Writer().u8(0x05).u32(0).u32(0).bytes(new Uint8Array([1, 2, 3])).finish();
    const { r } = await exec(c, s, [addRule("Deferred", "x", defer)], [(LOGON << 24) >>> 0]);
    expect(head(r)).toEqual({ ropId: 0x41, index: 0, rv: 0x80040102 });
    expect(await srv.ctx.storage.sieve.activeScript(alice.id)).toEqual(before);
  });
});

describe("create and submit", () => {
  test("ruler's send sequence in one Execute: the message arrives over IMAP", async () => {
    const { s, fids } = await logon();
    const subject = `MAPI submit ${Date.now()}`;
    const { r } = await exec(
      c,
      s,
      [
        rop.createMessage(0, 1, fids[5]!),
        rop.setProps(1, [tv.str(T.Body, "Body over MAPI\n\r"), tv.str(T.MessageClass, "IPM.Note"), tv.i32(T.MessageFlags, 8), tv.str(T.Subject, subject), tv.bool(0x10f4000b, true)]),
        rop.modifyRecipients(1, B.email, "Bob"),
        rop.submit(1),
      ],
      [(LOGON << 24) >>> 0, NULL_HANDLE],
    );
    expect(head(r)).toEqual({ ropId: 0x06, index: 1, rv: 0 });
    expect(r.u8()).toBe(0); // HasMessageId
    expect(head(r).rv).toBe(0);
    expect(r.u16()).toBe(0); // no property problems
    expect(head(r)).toEqual({ ropId: 0x0e, index: 1, rv: 0 });
    expect(head(r)).toEqual({ ropId: 0x32, index: 1, rv: 0 });

    const { imap } = await ImapConn.connect(srv.port("IMAP"));
    try {
      expect((await imap.cmd(`LOGIN ${B.email} ${B.pass}`)).status).toBe("OK");
      expect((await imap.cmd("SELECT INBOX")).status).toBe("OK");
      const found = await imap.cmd(`SEARCH SUBJECT "${subject}"`);
      const ids = found.untagged.find((l) => l.startsWith("* SEARCH"))!.split(" ").slice(2);
      expect(ids.length).toBe(1);
      const fetched = await imap.cmd(`FETCH ${ids[0]} BODY.PEEK[]`);
      const text = fetched.untagged.join("\n");
      expect(text).toContain(`From: ${A.email}`);
      expect(text).toContain("Body over MAPI");
    } finally {
      await imap.cmd("LOGOUT").catch(() => undefined);
    }
    // The sent copy is filed in alice's Sent folder.
    const sent = (await srv.store.listFolders(alice.id)).find((f) => f.specialUse === "\\Sent")!;
    const copies = await srv.store.getMessages(sent.id, (await srv.store.listMessages(sent.id)).map((m) => m.uid));
    expect(copies.some((m) => m.subject === subject)).toBe(true);
  });

  test("RopSaveChangesMessage files a draft in the folder and answers its message id", async () => {
    const { s, fids } = await logon();
    const drafts = (await srv.store.listFolders(alice.id)).find((f) => f.specialUse === "\\Drafts")!;
    const { r: r0 } = await exec(c, s, [rop.openFolder(0, 1, fids[3]!), rop.hierarchy(1, 2), rop.setColumns(2, [T.DisplayName, T.FolderId]), rop.queryRows(2, 100)], [(LOGON << 24) >>> 0, NULL_HANDLE, NULL_HANDLE]);
    r0.bytes(8);
    r0.bytes(10);
    r0.bytes(7);
    r0.bytes(7);
    const n = r0.u16();
    const rows = Array.from({ length: n }, () => row(r0, [T.DisplayName, T.FolderId]));
    const draftsFid = rows.find((x) => x[0] === "Drafts")![1] as bigint;
    const { r } = await exec(c, s, [rop.createMessage(0, 1, draftsFid), rop.setProps(1, [tv.str(T.Subject, "Saved draft")]), rop.modifyRecipients(1, B.email, "Bob"), rop.save(2, 1)], [(LOGON << 24) >>> 0, NULL_HANDLE, NULL_HANDLE]);
    r.bytes(7);
    r.bytes(8);
    r.bytes(6);
    expect(head(r)).toEqual({ ropId: 0x0c, index: 2, rv: 0 });
    expect(r.u8()).toBe(1);
    const mid = r.u64();
    expect(mid).not.toBe(0n);
    const list = await srv.store.getMessages(drafts.id, (await srv.store.listMessages(drafts.id)).map((m) => m.uid));
    const d = list.find((m) => m.subject === "Saved draft")!;
    expect(d.flags).toContain("\\Draft");
  });

  test("no room left for RopSubmitMessage's answer: RopBufferTooSmall before it runs, and the client's retry sends the message once", async () => {
    const { s, fids } = await logon();
    const subject = `MAPI retry ${Date.now()}`;
    const submit = rop.submit(1);
    // room = MaxRopOut - 10 - 4 per handle = 82: Create (7) + SetProperties (8) + ModifyRecipients (6) run; the 61 bytes left are too few to run a changing ROP.
    const first = await exec(c, s, [rop.createMessage(0, 1, fids[5]!), rop.setProps(1, [tv.str(T.Subject, subject), tv.str(T.Body, "once\n")]), rop.modifyRecipients(1, B.email, "Bob"), submit], [(LOGON << 24) >>> 0, NULL_HANDLE], 100);
    const r = first.r;
    expect(head(r)).toEqual({ ropId: 0x06, index: 1, rv: 0 });
    r.u8();
    expect(head(r).rv).toBe(0);
    r.u16();
    expect(head(r)).toEqual({ ropId: 0x0e, index: 1, rv: 0 });
    expect(r.u8()).toBe(0xff); // RopBufferTooSmall
    expect(r.u16()).toBeGreaterThan(64); // SizeNeeded
    expect(Array.from(r.rest())).toEqual(Array.from(submit));
    const inbox = (await srv.store.getFolder((await srv.store.getAccount(B.email))!.id, "INBOX"))!;
    const arrived = async () => (await srv.store.getMessages(inbox.id, (await srv.store.listMessages(inbox.id)).map((m) => m.uid))).filter((m) => m.subject === subject).length;
    expect(await arrived()).toBe(0);
    const retry = await exec(c, s, [submit], first.handles);
    expect(head(retry.r)).toEqual({ ropId: 0x32, index: 1, rv: 0 });
    expect(await arrived()).toBe(1);
  });

  test("a message with no recipients is not submitted", async () => {
    const { s, fids } = await logon();
    const { r } = await exec(c, s, [rop.createMessage(0, 1, fids[5]!), rop.submit(1)], [(LOGON << 24) >>> 0, NULL_HANDLE]);
    r.bytes(7);
    expect(head(r).rv).not.toBe(0);
  });
});

describe("specification examples", () => {
  test("MS-OXCPRPT §4 RopSetProperties request (PidTagSubjectPrefix '', PidTagNormalizedSubject 'Hello World') on a new message; saved as its subject", async () => {
    const { state } = await connect(c);
    const s = state!;
    // LogonId 0 as in the example; the message is the object at handle index 0 of the example's request.
    const logon0 = new Writer().u8(0xfe).u8(0).u8(0).u8(1).u32(0x01000402).u32(0).bin16(new TextEncoder().encode(legacyDn(alice) + "\0")).finish();
    const first = await exec(c, s, [logon0], [NULL_HANDLE]);
    expect(head(first.r).rv).toBe(0);
    first.r.u8();
    const fids = Array.from({ length: 13 }, () => first.r.u64());
    const drafts = (await srv.store.listFolders(alice.id)).find((f) => f.specialUse === "\\Drafts")!;
    const { idValue } = await import("../../protocols/http/mapi/emsmdb/ids.ts");
    const create = new Writer().u8(0x06).u8(0).u8(0).u8(1).u16(0xfff).u64(idValue(drafts.id)).u8(0).finish();
    const made = await exec(c, s, [create], [first.handles[0]!, NULL_HANDLE]);
    expect(head(made.r).rv).toBe(0);
    expect(fids.length).toBe(13);
    // The request buffer exactly as printed in the example.
    const example = Uint8Array.from([
      0x0a, 0x00, 0x00, 0x24, 0x00, 0x02, 0x00, 0x1f, 0x00, 0x3d, 0x00, 0x00, 0x00, 0x1f, 0x00, 0x1d,
      0x0e, 0x48, 0x00, 0x65, 0x00, 0x6c, 0x00, 0x6c, 0x00, 0x6f, 0x00, 0x20, 0x00, 0x57, 0x00, 0x6f,
      0x00, 0x72, 0x00, 0x6c, 0x00, 0x64, 0x00, 0x00, 0x00,
    ]);
    const save = new Writer().u8(0x0c).u8(0).u8(1).u8(0).u8(0x0a).finish();
    const get = new Writer().u8(0x07).u8(0).u8(0).u16(0).u16(1).u16(1).u32(0x0e1d001f).finish();
    const res = await exec(c, s, [example, get, save], [made.handles[1]!, NULL_HANDLE]);
    // RopSetProperties response: RopId 0x0A, InputHandleIndex 0, ReturnValue 0, PropertyProblemCount 0.
    expect(Array.from(res.r.bytes(8))).toEqual([0x0a, 0x00, 0, 0, 0, 0, 0, 0]);
    expect(head(res.r).rv).toBe(0);
    expect(row(res.r, [0x0e1d001f])).toEqual(["Hello World"]);
    expect(head(res.r)).toEqual({ ropId: 0x0c, index: 1, rv: 0 });
    const list = await srv.store.getMessages(drafts.id, (await srv.store.listMessages(drafts.id)).map((m) => m.uid));
    expect(list.some((m) => m.subject === "Hello World")).toBe(true);
  });
});

