/**
 * DeleteItem, MoveItem, CopyItem and MarkAsJunk over real sockets, each
 * cross-checked over IMAP (expunge, the message in its new folder, keywords)
 * and the account's spam lists; malformed requests get response codes.
 */
import { expect, test } from "bun:test";
import { sendMail } from "../backup/helpers.ts";
import { ewsFixture, find, findAll, responseCodes, type XmlElement } from "./helpers.ts";

const USER = "mover@example.test";
const PASS = "mover-password-1";
const { env, accounts, imap } = ewsFixture({ users: [{ email: USER, pass: PASS }], imap: true });

const call = (xml: string) => env.call(USER, PASS, xml);
const text = (el: XmlElement | undefined, ...path: string[]) => find(el, ...path)?.text;
const dist = (id: string) => `<t:DistinguishedFolderId Id="${id}"/>`;
const idOnly = `<m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:Subject"/><t:FieldURI FieldURI="item:ParentFolderId"/></t:AdditionalProperties></m:ItemShape>`;

let n = 0;
/** Delivers a message over SMTP and returns its EWS item id. */
async function newMessage(from = "someone@remote.test"): Promise<{ id: string; subject: string }> {
  const subject = `move test ${++n} ${Date.now()}`;
  expect(await sendMail(env.srv.port("SMTP"), USER, `From: ${from}\r\nTo: ${USER}\r\nSubject: ${subject}\r\n\r\nbody\r\n`)).toBe(250);
  for (const folder of ["inbox", "junkemail"]) {
    const r = await call(`<m:FindItem Traversal="Shallow">${idOnly}<m:ParentFolderIds>${dist(folder)}</m:ParentFolderIds></m:FindItem>`);
    const m = findAll(r.body, "Message").find((x) => text(x, "Subject") === subject);
    if (m) return { id: find(m, "ItemId")!.attrs.Id!, subject };
  }
  throw new Error("delivered message not found");
}

async function subjectsIn(folder: string): Promise<string[]> {
  const r = await call(`<m:FindItem Traversal="Shallow">${idOnly}<m:ParentFolderIds>${dist(folder)}</m:ParentFolderIds></m:FindItem>`);
  return findAll(r.body, "Message").map((m) => text(m, "Subject")!);
}

async function imapCount(folder: string, subject: string): Promise<number> {
  expect((await imap.cmd(`SELECT "${folder}"`)).status).toBe("OK");
  const r = await imap.cmd(`UID SEARCH SUBJECT "${subject}"`);
  const line = r.untagged.find((l) => l.includes("SEARCH")) ?? "";
  return line.replace(/^\*?\s*SEARCH/, "").trim().split(/\s+/).filter(Boolean).length;
}

test("DeleteItem HardDelete: gone over EWS and over IMAP", async () => {
  const m = await newMessage();
  expect(await imapCount("INBOX", m.subject)).toBe(1);
  const r = await call(`<m:DeleteItem DeleteType="HardDelete"><m:ItemIds><t:ItemId Id="${m.id}"/></m:ItemIds></m:DeleteItem>`);
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  expect(await imapCount("INBOX", m.subject)).toBe(0);
  expect(await imapCount("Trash", m.subject)).toBe(0);
  const again = await call(`<m:DeleteItem DeleteType="HardDelete"><m:ItemIds><t:ItemId Id="${m.id}"/></m:ItemIds></m:DeleteItem>`);
  expect(responseCodes(again.body)).toEqual(["ErrorItemNotFound"]);
});

test("DeleteItem MoveToDeletedItems: into Trash keeping its id; from Trash: removed", async () => {
  const m = await newMessage();
  const r = await call(`<m:DeleteItem DeleteType="MoveToDeletedItems"><m:ItemIds><t:ItemId Id="${m.id}"/></m:ItemIds></m:DeleteItem>`);
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  expect(await subjectsIn("deleteditems")).toContain(m.subject);
  expect(await imapCount("Trash", m.subject)).toBe(1);
  const r2 = await call(`<m:DeleteItem DeleteType="MoveToDeletedItems"><m:ItemIds><t:ItemId Id="${m.id}"/></m:ItemIds></m:DeleteItem>`);
  expect(responseCodes(r2.body)).toEqual(["NoError"]);
  expect(await imapCount("Trash", m.subject)).toBe(0);
});

test("DeleteItem SoftDelete removes; bad DeleteType and a missing one are refused", async () => {
  const m = await newMessage();
  const r = await call(`<m:DeleteItem DeleteType="SoftDelete"><m:ItemIds><t:ItemId Id="${m.id}"/></m:ItemIds></m:DeleteItem>`);
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  expect(await imapCount("INBOX", m.subject)).toBe(0);
  for (const attr of [``, ` DeleteType="Shred"`]) {
    const bad = await call(`<m:DeleteItem${attr}><m:ItemIds><t:ItemId Id="${m.id}"/></m:ItemIds></m:DeleteItem>`);
    expect(bad.status).toBe(200);
    expect(responseCodes(bad.body)).toEqual(["ErrorInvalidRequest"]);
  }
});

test("MoveItem keeps the item id; CopyItem makes a new one; both seen over IMAP", async () => {
  const m = await newMessage();
  const mv = await call(`<m:MoveItem><m:ToFolderId>${dist("archive")}</m:ToFolderId><m:ItemIds><t:ItemId Id="${m.id}"/></m:ItemIds></m:MoveItem>`);
  expect(responseCodes(mv.body)).toEqual(["NoError"]);
  expect(find(findAll(mv.body, "Message")[0], "ItemId")!.attrs.Id).toBe(m.id);
  expect(await imapCount("INBOX", m.subject)).toBe(0);
  expect(await imapCount("Archive", m.subject)).toBe(1);
  const cp = await call(`<m:CopyItem><m:ToFolderId>${dist("inbox")}</m:ToFolderId><m:ItemIds><t:ItemId Id="${m.id}"/></m:ItemIds></m:CopyItem>`);
  expect(responseCodes(cp.body)).toEqual(["NoError"]);
  const copyId = find(findAll(cp.body, "Message")[0], "ItemId")!.attrs.Id;
  expect(copyId).toBeDefined();
  expect(copyId).not.toBe(m.id);
  expect(await imapCount("INBOX", m.subject)).toBe(1);
  expect(await imapCount("Archive", m.subject)).toBe(1);
  const noIds = await call(`<m:CopyItem><m:ToFolderId>${dist("inbox")}</m:ToFolderId><m:ItemIds><t:ItemId Id="${m.id}"/></m:ItemIds><m:ReturnNewItemIds>false</m:ReturnNewItemIds></m:CopyItem>`);
  expect(responseCodes(noIds.body)).toEqual(["NoError"]);
  expect(findAll(noIds.body, "Message").length).toBe(0);
});

test("MoveItem into a calendar, into the root, or to a missing folder: error codes, the message stays", async () => {
  const m = await newMessage();
  const cal = await call(`<m:MoveItem><m:ToFolderId>${dist("calendar")}</m:ToFolderId><m:ItemIds><t:ItemId Id="${m.id}"/></m:ItemIds></m:MoveItem>`);
  expect(responseCodes(cal.body)).toEqual(["ErrorMoveCopyFailed"]);
  const root = await call(`<m:MoveItem><m:ToFolderId>${dist("root")}</m:ToFolderId><m:ItemIds><t:ItemId Id="${m.id}"/></m:ItemIds></m:MoveItem>`);
  expect(responseCodes(root.body)).toEqual(["ErrorMoveCopyFailed"]);
  const bad = await call(`<m:MoveItem><m:ToFolderId><t:FolderId Id="bm90IGEgZm9sZGVy"/></m:ToFolderId><m:ItemIds><t:ItemId Id="${m.id}"/></m:ItemIds></m:MoveItem>`);
  expect(responseCodes(bad.body)).toEqual(["ErrorInvalidIdMalformed"]);
  const mixed = await call(`<m:MoveItem><m:ToFolderId>${dist("archive")}</m:ToFolderId><m:ItemIds><t:ItemId Id="garbage"/><t:ItemId Id="${m.id}"/></m:ItemIds></m:MoveItem>`);
  expect(responseCodes(mixed.body)).toEqual(["ErrorInvalidIdMalformed", "NoError"]);
  expect(await imapCount("Archive", m.subject)).toBe(1);
});

test("MarkAsJunk: moves to Junk with $Junk and blocks the sender; IsJunk=false moves back and unblocks", async () => {
  const m = await newMessage("spammer@remote.test");
  const r = await call(`<m:MarkAsJunk IsJunk="true" MoveItem="true"><m:ItemIds><t:ItemId Id="${m.id}"/></m:ItemIds></m:MarkAsJunk>`);
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  expect(find(r.body, "ResponseMessages", "MarkAsJunkResponseMessage", "MovedItemId")!.attrs.Id).toBe(m.id);
  expect(await subjectsIn("junkemail")).toContain(m.subject);
  expect((await imap.cmd(`SELECT Junk`)).status).toBe("OK");
  const f = await imap.cmd(`UID SEARCH KEYWORD $Junk SUBJECT "${m.subject}"`);
  expect(f.untagged.join(" ")).toMatch(/SEARCH \d+/);
  const lists = await env.srv.ctx.storage.spam.listEntries({ accountId: accounts[0]!.id });
  expect(lists.some((e) => e.kind === "deny" && e.pattern === "spammer@remote.test")).toBe(true);
  const back = await call(`<m:MarkAsJunk IsJunk="false" MoveItem="true"><m:ItemIds><t:ItemId Id="${m.id}"/></m:ItemIds></m:MarkAsJunk>`);
  expect(responseCodes(back.body)).toEqual(["NoError"]);
  expect(await subjectsIn("inbox")).toContain(m.subject);
  const after = await env.srv.ctx.storage.spam.listEntries({ accountId: accounts[0]!.id });
  expect(after.some((e) => e.kind === "deny" && e.pattern === "spammer@remote.test")).toBe(false);
  const noMove = await call(`<m:MarkAsJunk IsJunk="true" MoveItem="false"><m:ItemIds><t:ItemId Id="${m.id}"/></m:ItemIds></m:MarkAsJunk>`);
  expect(responseCodes(noMove.body)).toEqual(["NoError"]);
  expect(await subjectsIn("inbox")).toContain(m.subject);
  const bad = await call(`<m:MarkAsJunk IsJunk="maybe" MoveItem="true"><m:ItemIds><t:ItemId Id="${m.id}"/></m:ItemIds></m:MarkAsJunk>`);
  expect(responseCodes(bad.body)).toEqual(["ErrorInvalidRequest"]);
});

test("MarkAsJunk is an Exchange 2013 operation", async () => {
  const r = await env.call(USER, PASS, `<m:MarkAsJunk IsJunk="true" MoveItem="true"><m:ItemIds/></m:MarkAsJunk>`, { version: "Exchange2010_SP2" });
  expect(r.status).toBe(400);
  expect(find(r.body, "detail", "ResponseCode")?.text).toBe("ErrorInvalidRequest");
});
