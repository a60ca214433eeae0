/**
 * The EMSMDB ROP engine against a real store (MS-OXCROPS request layouts
 * built byte by byte in emsmdb-client.ts): Connect's DN check, RopLogon's
 * special folders, the Inbox over OpenFolder/contents table/QueryRows
 * showing an SMTP-delivered message, messages, bodies as streams,
 * hierarchy, restrictions and sorts, the rules table, create + submit
 * arriving over IMAP (ruler's send sequence), and malformed or unknown
 * ROPs answered with error codes.
 */
import "../../protocols/index.ts";
import "../../protocols/imap/index.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ImapConn, smtpSend } from "../reliability/lib/conn.ts";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import type { Account } from "../../storage/api.ts";
import type { EmsmdbState } from "../../protocols/http/mapi/emsmdb/objects.ts";
import type { MapiContext } from "../../protocols/http/mapi/types.ts";
import { legacyDn } from "../../protocols/http/mapi/identity.ts";
import { Writer } from "../../protocols/http/mapi/wire/writer.ts";
import { LOGON, NULL_HANDLE, connect, contextFor, exec, head, rop, row, tv } from "./emsmdb-client.ts";

const A = { email: "alice@example.test", pass: "alice-password-1" };
const B = { email: "bob@example.test", pass: "bob-password-12" };
const T = {
  DisplayName: 0x3001001f,
  Subfolders: 0x360a000b,
  ContentCount: 0x36020003,
  Subject: 0x0037001f,
  Mid: 0x674a0014,
  FolderId: 0x67480014,
  Body: 0x1000001f,
  MessageClass: 0x001a001f,
  MessageFlags: 0x0e070003,
  SenderSmtp: 0x5d01001f,
  RuleName: 0x6682001f,
  RuleId: 0x66740014,
  AttachLongFilename: 0x3707001f,
  AttachData: 0x37010102,
  ContainerClass: 0x3613001f,
};

let srv: TestServer;
let alice: Account;
let c: MapiContext;

function mail(subject: string, body = `Hello ${subject}`): string {
  return `From: Bob <bob@example.test>\r\nTo: ${A.email}\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, "")}@example.test>\r\nDate: ${new Date().toUTCString()}\r\n\r\n${body}\r\n`;
}

beforeAll(async () => {
  srv = await startTestServer({ listeners: ["SMTP", "SUBMISSION", "IMAP"] });
  alice = await createUser(srv.store, A.email, A.pass);
  await createUser(srv.store, B.email, B.pass);
  for (const s of ["Zebra report", "Apple pie", "Mango season"]) {
    const r = await smtpSend({ port: srv.port("SMTP"), from: B.email, to: [A.email], data: mail(s) });
    expect(r.code).toBe(250);
  }
  const withFile =
    `From: bob@example.test\r\nTo: ${A.email}\r\nSubject: With file\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n` +
    `--b1\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="data.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQ=\r\n--b1--\r\n`;
  expect((await smtpSend({ port: srv.port("SMTP"), from: B.email, to: [A.email], data: withFile })).code).toBe(250);
  c = contextFor(srv, alice);
});

afterAll(async () => {
  await srv?.close();
});

/** Connect + RopLogon: the state, the 13 folder ids, and the handle table with the logon in slot 0. */
async function logon(): Promise<{ s: EmsmdbState; fids: bigint[] }> {
  const { state } = await connect(c);
  const s = state!;
  const { r, handles } = await exec(c, s, [rop.logon(legacyDn(alice))], [NULL_HANDLE]);
  const h = head(r);
  expect(h).toEqual({ ropId: 0xfe, index: 0, rv: 0 });
  expect(r.u8()).toBe(0x01); // LogonFlags echoed
  const fids: bigint[] = [];
  for (let i = 0; i < 13; i++) fids.push(r.u64());
  expect(handles[0]).toBe((LOGON << 24) >>> 0);
  return { s, fids };
}

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
