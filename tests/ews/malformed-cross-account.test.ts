/**
 * Another mailbox's ids, well-formed and real: alice sends every operation
 * that takes an item, folder or attachment id with bob's (his Inbox, a
 * folder of his, a message with an attachment). None may succeed, none may
 * show bob's content, and afterwards bob's message, flags and folders are
 * exactly as they were.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { attachmentId } from "../../protocols/http/ews/attachment-id.ts";
import { folderId, itemId } from "../../protocols/http/ews/ids.ts";
import type { Account, Folder } from "../../storage/api.ts";
import { createUser, startEws, type EwsEnv } from "./helpers.ts";

let env: EwsEnv;
const A = "alice@example.test";
const PW = "alice-password-1";
let bob: Account;
let bobInbox: Folder;
let bobSecret: Folder;
let bobMsg: number;
const SECRET = "Bobs-secret-subject-7f3a";

const RAW = [
  "From: carol@example.test",
  "To: bob@example.test",
  `Subject: ${SECRET}`,
  "Message-ID: <secret-1@example.test>",
  "MIME-Version: 1.0",
  'Content-Type: multipart/mixed; boundary="b1"',
  "",
  "--b1",
  "Content-Type: text/plain",
  "",
  "The vault code is 4242.",
  "--b1",
  'Content-Type: application/octet-stream; name="plans.bin"',
  "Content-Transfer-Encoding: base64",
  "",
  Buffer.from("secret plans").toString("base64"),
  "--b1--",
  "",
].join("\r\n");

beforeAll(async () => {
  env = await startEws();
  await createUser(env.srv.store, A, PW);
  bob = await createUser(env.srv.store, "bob@example.test", "bob-password-1");
  const folders = await env.srv.store.listFolders(bob.id, { itemClass: "mail" });
  bobInbox = folders.find((f) => f.name === "INBOX")!;
  bobSecret = await env.srv.store.createFolder(bob.id, "Secret");
  const [r] = await env.srv.store.append(bobInbox.id, [{ raw: new TextEncoder().encode(RAW), flags: [] }]);
  bobMsg = r!.id;
});
afterAll(() => env.close());

test("control: the same requests on bob's own ids, sent by bob, do succeed (the shapes are right)", async () => {
  const fid = `<t:FolderId Id="${folderId(bob.id, bobInbox)}"/>`;
  const iid = `<t:ItemId Id="${itemId({ accountId: bob.id, itemClass: "mail", id: bobMsg })}"/>`;
  const shape = `<m:ItemShape><t:BaseShape>AllProperties</t:BaseShape><t:IncludeMimeContent>true</t:IncludeMimeContent></m:ItemShape>`;
  const control = [
    `<m:GetFolder><m:FolderShape><t:BaseShape>AllProperties</t:BaseShape></m:FolderShape><m:FolderIds>${fid}</m:FolderIds></m:GetFolder>`,
    `<m:FindItem Traversal="Shallow">${shape}<m:IndexedPageItemView MaxEntriesReturned="10" Offset="0" BasePoint="Beginning"/><m:ParentFolderIds>${fid}</m:ParentFolderIds></m:FindItem>`,
    `<m:GetItem>${shape}<m:ItemIds>${iid}</m:ItemIds></m:GetItem>`,
    `<m:GetAttachment><m:AttachmentIds><t:AttachmentId Id="${attachmentId({ accountId: bob.id, itemClass: "mail", id: bobMsg }, "2")}"/></m:AttachmentIds></m:GetAttachment>`,
    `<m:SyncFolderItems>${shape}<m:SyncFolderId>${fid}</m:SyncFolderId><m:MaxChangesReturned>100</m:MaxChangesReturned></m:SyncFolderItems>`,
  ];
  for (const xml of control) {
    const r = await env.call("bob@example.test", "bob-password-1", xml);
    expect(r.text, xml.slice(0, 60)).toContain("<m:ResponseCode>NoError</m:ResponseCode>");
  }
  const get = await env.call("bob@example.test", "bob-password-1", control[2]!);
  expect(get.text).toContain(SECRET);
});

test("every operation on bob's ids, sent by alice: no success, nothing of bob's shown, bob's data unchanged", async () => {
  const fid = (f: Folder) => `<t:FolderId Id="${folderId(bob.id, f)}"/>`;
  const iid = `<t:ItemId Id="${itemId({ accountId: bob.id, itemClass: "mail", id: bobMsg })}"/>`;
  const aid = `<t:AttachmentId Id="${attachmentId({ accountId: bob.id, itemClass: "mail", id: bobMsg }, "2")}"/>`;
  const shape = `<m:ItemShape><t:BaseShape>AllProperties</t:BaseShape><t:IncludeMimeContent>true</t:IncludeMimeContent></m:ItemShape>`;
  const fshape = `<m:FolderShape><t:BaseShape>AllProperties</t:BaseShape></m:FolderShape>`;
  const requests: Record<string, string> = {
    GetFolder: `<m:GetFolder>${fshape}<m:FolderIds>${fid(bobInbox)}</m:FolderIds></m:GetFolder>`,
    GetFolderOtherMailbox: `<m:GetFolder>${fshape}<m:FolderIds><t:DistinguishedFolderId Id="inbox"><t:Mailbox><t:EmailAddress>bob@example.test</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId></m:FolderIds></m:GetFolder>`,
    FindFolder: `<m:FindFolder Traversal="Deep">${fshape}<m:ParentFolderIds>${fid(bobInbox)}</m:ParentFolderIds></m:FindFolder>`,
    FindItem: `<m:FindItem Traversal="Shallow">${shape}<m:IndexedPageItemView MaxEntriesReturned="10" Offset="0" BasePoint="Beginning"/><m:ParentFolderIds>${fid(bobInbox)}</m:ParentFolderIds></m:FindItem>`,
    GetItem: `<m:GetItem>${shape}<m:ItemIds>${iid}</m:ItemIds></m:GetItem>`,
    UpdateItem: `<m:UpdateItem ConflictResolution="AlwaysOverwrite" MessageDisposition="SaveOnly"><m:ItemChanges><t:ItemChange>${iid}<t:Updates><t:SetItemField><t:FieldURI FieldURI="message:IsRead"/><t:Message><t:IsRead>true</t:IsRead></t:Message></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`,
    DeleteItem: `<m:DeleteItem DeleteType="HardDelete"><m:ItemIds>${iid}</m:ItemIds></m:DeleteItem>`,
    MoveItem: `<m:MoveItem><m:ToFolderId><t:DistinguishedFolderId Id="inbox"/></m:ToFolderId><m:ItemIds>${iid}</m:ItemIds></m:MoveItem>`,
    CopyItem: `<m:CopyItem><m:ToFolderId><t:DistinguishedFolderId Id="inbox"/></m:ToFolderId><m:ItemIds>${iid}</m:ItemIds></m:CopyItem>`,
    MoveItemInto: `<m:MoveItem><m:ToFolderId>${fid(bobInbox)}</m:ToFolderId><m:ItemIds>${iid}</m:ItemIds></m:MoveItem>`,
    SendItem: `<m:SendItem SaveItemToFolder="false"><m:ItemIds>${iid}</m:ItemIds></m:SendItem>`,
    MarkAsJunk: `<m:MarkAsJunk IsJunk="true" MoveItem="true"><m:ItemIds>${iid}</m:ItemIds></m:MarkAsJunk>`,
    CreateItemInto: `<m:CreateItem MessageDisposition="SaveOnly"><m:SavedItemFolderId>${fid(bobInbox)}</m:SavedItemFolderId><m:Items><t:Message><t:Subject>planted</t:Subject></t:Message></m:Items></m:CreateItem>`,
    GetAttachment: `<m:GetAttachment><m:AttachmentIds>${aid}</m:AttachmentIds></m:GetAttachment>`,
    DeleteAttachment: `<m:DeleteAttachment><m:AttachmentIds>${aid}</m:AttachmentIds></m:DeleteAttachment>`,
    CreateAttachment: `<m:CreateAttachment><m:ParentItemId Id="${itemId({ accountId: bob.id, itemClass: "mail", id: bobMsg })}"/><m:Attachments><t:FileAttachment><t:Name>x.txt</t:Name><t:Content>eA==</t:Content></t:FileAttachment></m:Attachments></m:CreateAttachment>`,
    SyncFolderItems: `<m:SyncFolderItems>${shape}<m:SyncFolderId>${fid(bobInbox)}</m:SyncFolderId><m:MaxChangesReturned>100</m:MaxChangesReturned></m:SyncFolderItems>`,
    SyncFolderHierarchy: `<m:SyncFolderHierarchy>${fshape}<m:SyncFolderId>${fid(bobInbox)}</m:SyncFolderId></m:SyncFolderHierarchy>`,
    CreateFolder: `<m:CreateFolder><m:ParentFolderId>${fid(bobInbox)}</m:ParentFolderId><m:Folders><t:Folder><t:DisplayName>Planted</t:DisplayName></t:Folder></m:Folders></m:CreateFolder>`,
    UpdateFolder: `<m:UpdateFolder><m:FolderChanges><t:FolderChange>${fid(bobSecret)}<t:Updates><t:SetFolderField><t:FieldURI FieldURI="folder:DisplayName"/><t:Folder><t:DisplayName>Renamed</t:DisplayName></t:Folder></t:SetFolderField></t:Updates></t:FolderChange></m:FolderChanges></m:UpdateFolder>`,
    MoveFolder: `<m:MoveFolder><m:ToFolderId><t:DistinguishedFolderId Id="inbox"/></m:ToFolderId><m:FolderIds>${fid(bobSecret)}</m:FolderIds></m:MoveFolder>`,
    EmptyFolder: `<m:EmptyFolder DeleteType="HardDelete" DeleteSubFolders="true"><m:FolderIds>${fid(bobInbox)}</m:FolderIds></m:EmptyFolder>`,
    DeleteFolder: `<m:DeleteFolder DeleteType="HardDelete"><m:FolderIds>${fid(bobSecret)}</m:FolderIds></m:DeleteFolder>`,
    Subscribe: `<m:Subscribe><m:PullSubscriptionRequest><t:FolderIds>${fid(bobInbox)}</t:FolderIds><t:EventTypes><t:EventType>NewMailEvent</t:EventType></t:EventTypes><t:Timeout>10</t:Timeout></m:PullSubscriptionRequest></m:Subscribe>`,
    ConvertId: `<m:ConvertId DestinationFormat="EntryId"><m:SourceIds><t:AlternateId Format="EwsId" Id="${itemId({ accountId: bob.id, itemClass: "mail", id: bobMsg })}" Mailbox="bob@example.test"/></m:SourceIds></m:ConvertId>`,
    GetInboxRules: `<m:GetInboxRules><m:MailboxSmtpAddress>bob@example.test</m:MailboxSmtpAddress></m:GetInboxRules>`,
  };
  const succeeded: string[] = [];
  for (const [name, xml] of Object.entries(requests)) {
    const r = await env.call(A, PW, xml);
    const where = `${name}: HTTP ${r.status} ${r.text.slice(0, 400)}`;
    expect(r.status, where).toBeLessThan(500);
    expect(r.text, where).not.toContain(SECRET);
    expect(r.text, where).not.toContain("vault code");
    expect(r.text, where).not.toContain(Buffer.from("secret plans").toString("base64"));
    // Every response message an Error (or a fault); the whole-operation ResponseCode too.
    const codes = [...r.text.matchAll(/<m:ResponseCode>([^<]*)<\/m:ResponseCode>/g)].map((m) => m[1]);
    if (codes.includes("NoError")) succeeded.push(`${name} -> ${codes.join(",")}`);
  }
  expect(succeeded).toEqual([]);

  // Bob's data is untouched.
  const msg = await env.srv.store.getMessageById(bobMsg);
  expect(msg?.folderId).toBe(bobInbox.id);
  const list = await env.srv.store.listMessages(bobInbox.id);
  expect(list.length).toBe(1);
  expect(list[0]!.flags.includes("\\Seen")).toBe(false);
  const names = (await env.srv.store.listFolders(bob.id, { itemClass: "mail" })).map((f) => f.name);
  expect(names).toContain("Secret");
  expect(names.some((n) => n.includes("Planted") || n.includes("Renamed"))).toBe(false);
}, 55_000);
