/**
 * EWS attachments over real sockets (MS-OXWSATT): CreateItem with inline
 * attachments answers their ids; GetAttachment returns the bytes exactly
 * (every byte value) and an attached message as a t:Message;
 * CreateAttachment and DeleteAttachment rebuild a draft keeping its ItemId
 * (only the ChangeKey moves on), visible over IMAP as the same message
 * with a new UID; malformed ids and non-drafts get response codes.
 */
import { expect, test } from "bun:test";
import { ewsFixture, find, findAll, responseCodes, type XmlElement } from "./helpers.ts";

const USER = "attacher@example.test";
const PASS = "attacher-password-1";
const { env, accounts } = ewsFixture({ users: [{ email: USER, pass: PASS }] });

const call = (xml: string) => env.call(USER, PASS, xml);

function ids(body: XmlElement, name: string): XmlElement[] {
  return findAll(body, name);
}

const every = new Uint8Array(512).map((_, i) => i % 256);
const file = (name: string, bytes: Uint8Array, type = "application/octet-stream") =>
  `<t:FileAttachment><t:Name>${name}</t:Name><t:ContentType>${type}</t:ContentType><t:Content>${Buffer.from(bytes).toString("base64")}</t:Content></t:FileAttachment>`;

async function getAttachment(id: string, extra = ""): Promise<XmlElement> {
  const r = await call(`<m:GetAttachment>${extra}<m:AttachmentIds><t:AttachmentId Id="${id}"/></m:AttachmentIds></m:GetAttachment>`);
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  return find(r.body, "ResponseMessages", "GetAttachmentResponseMessage", "Attachments")!.children[0]!;
}

const text = (el: XmlElement | undefined, name: string) => el?.children.find((k) => k.name === name)?.text;

test("CreateItem with attachments answers their ids; GetAttachment returns every byte value exactly, and an item attachment as a message", async () => {
  const inner = `<t:Message><t:Subject>Inner note</t:Subject><t:Body BodyType="Text">inside</t:Body><t:ToRecipients><t:Mailbox><t:EmailAddress>x@example.test</t:EmailAddress></t:Mailbox></t:ToRecipients></t:Message>`;
  const r = await call(
    `<m:CreateItem MessageDisposition="SaveOnly"><m:SavedItemFolderId><t:DistinguishedFolderId Id="drafts"/></m:SavedItemFolderId><m:Items><t:Message><t:Subject>With files</t:Subject><t:Body BodyType="Text">see attached</t:Body>` +
      `<t:Attachments>${file("all-bytes.bin", every)}${file("hello.txt", new TextEncoder().encode("hello\r\nworld\n"), "text/plain")}<t:ItemAttachment><t:Name>Inner note</t:Name>${inner}</t:ItemAttachment>` +
      `<t:ItemAttachment><t:Name>From MIME</t:Name><t:Message><t:MimeContent>${Buffer.from("From: x@elsewhere.test\r\nSubject: Embedded MIME\r\n\r\nembedded\r\n").toString("base64")}</t:MimeContent></t:Message></t:ItemAttachment></t:Attachments>` +
      `</t:Message></m:Items></m:CreateItem>`,
  );
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  const fileIds = ids(r.body, "FileAttachment").map((f) => f.children[0]!.attrs.Id!);
  const itemIds = ids(r.body, "ItemAttachment").map((f) => f.children[0]!.attrs.Id!);
  expect(fileIds).toHaveLength(2);
  expect(itemIds).toHaveLength(2);

  const a = await getAttachment(fileIds[0]!);
  expect(a.name).toBe("FileAttachment");
  expect(text(a, "Name")).toBe("all-bytes.bin");
  expect(new Uint8Array(Buffer.from(text(a, "Content")!, "base64"))).toEqual(every);
  expect(text(a, "Size")).toBe("512");
  const b = await getAttachment(fileIds[1]!);
  expect(Buffer.from(text(b, "Content")!, "base64").toString("latin1")).toBe("hello\r\nworld\n");

  const m = await getAttachment(itemIds[0]!, `<m:AttachmentShape><t:IncludeMimeContent>true</t:IncludeMimeContent></m:AttachmentShape>`);
  expect(m.name).toBe("ItemAttachment");
  const msg = m.children.find((k) => k.name === "Message")!;
  expect(text(msg, "Subject")).toBe("Inner note");
  expect(text(msg, "Body")).toContain("inside");
  expect(Buffer.from(text(msg, "MimeContent")!, "base64").toString()).toContain("Subject: Inner note");
  const m2 = (await getAttachment(itemIds[1]!)).children.find((k) => k.name === "Message")!;
  expect(text(m2, "Subject")).toBe("Embedded MIME");
  expect(text(m2, "MimeContent")).toBeUndefined();
});

test("CreateAttachment and DeleteAttachment on a draft keep its ItemId; the ChangeKey moves on; the folder holds one message", async () => {
  const r = await call(`<m:CreateItem MessageDisposition="SaveOnly"><m:Items><t:Message><t:Subject>Attach later</t:Subject><t:Body BodyType="HTML">&lt;p&gt;hi&lt;/p&gt;</t:Body></t:Message></m:Items></m:CreateItem>`);
  const item = findAll(r.body, "ItemId")[0]!.attrs;
  const c = await call(`<m:CreateAttachment><m:ParentItemId Id="${item.Id}" ChangeKey="${item.ChangeKey}"/><m:Attachments>${file("a.bin", every)}${file("b.txt", new TextEncoder().encode("bee"), "text/plain")}</m:Attachments></m:CreateAttachment>`);
  expect(responseCodes(c.body)).toEqual(["NoError", "NoError"]);
  const attIds = findAll(c.body, "AttachmentId").map((e) => e.attrs);
  expect(attIds).toHaveLength(2);
  expect(attIds[0]!.RootItemId).toBe(item.Id);
  expect(attIds[0]!.RootItemChangeKey).not.toBe(item.ChangeKey);
  expect(new Uint8Array(Buffer.from(text(await getAttachment(attIds[0]!.Id!), "Content")!, "base64"))).toEqual(every);
  expect(Buffer.from(text(await getAttachment(attIds[1]!.Id!), "Content")!, "base64").toString()).toBe("bee");

  const drafts = (await env.srv.store.listFolders(accounts[0]!.id, { itemClass: "mail" })).find((f) => f.specialUse === "\\Drafts")!;
  const list = await env.srv.store.listMessages(drafts.id);
  const idx = (await env.srv.store.getMessages(drafts.id, list.map((x) => x.uid))).filter((x) => x.subject === "Attach later");
  expect(idx).toHaveLength(1);
  expect(idx[0]!.hasAttachment).toBe(true);
  expect(idx[0]!.flags).toContain("\\Draft");

  const d = await call(`<m:DeleteAttachment><m:AttachmentIds><t:AttachmentId Id="${attIds[0]!.Id}"/></m:AttachmentIds></m:DeleteAttachment>`);
  expect(responseCodes(d.body)).toEqual(["NoError"]);
  const root = find(d.body, "ResponseMessages", "DeleteAttachmentResponseMessage", "RootItemId")!.attrs;
  expect(root.RootItemId).toBe(item.Id);
  const raw = new TextDecoder().decode(await env.srv.store.readMessage(idx[0]!.id));
  expect(raw).not.toContain("a.bin");
  expect(raw).toContain("b.txt");

  // The item is still the draft the client holds: an update by its original id works.
  const u = await call(`<m:UpdateItem MessageDisposition="SaveOnly" ConflictResolution="AutoResolve"><m:ItemChanges><t:ItemChange><t:ItemId Id="${item.Id}" ChangeKey="${root.RootItemChangeKey}"/><t:Updates><t:SetItemField><t:FieldURI FieldURI="item:Subject"/><t:Message><t:Subject>Attach later, edited</t:Subject></t:Message></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`);
  expect(responseCodes(u.body)).toEqual(["NoError"]);
  expect(new TextDecoder().decode(await env.srv.store.readMessage(idx[0]!.id))).toContain("b.txt");
});

test("malformed and refused: bad ids, another mailbox's id, a gone part, bad base64, attachments on received mail", async () => {
  const bad = await call(`<m:GetAttachment><m:AttachmentIds><t:AttachmentId Id="not-an-id"/><t:AttachmentId Id=""/></m:AttachmentIds></m:GetAttachment>`);
  expect(responseCodes(bad.body)).toEqual(["ErrorInvalidIdMalformed", "ErrorInvalidIdEmpty"]);
  const mime = "From: a@elsewhere.test\r\nTo: attacher@example.test\r\nSubject: Received\r\n\r\nbody\r\n";
  const r = await call(`<m:CreateItem MessageDisposition="SaveOnly"><m:SavedItemFolderId><t:DistinguishedFolderId Id="inbox"/></m:SavedItemFolderId><m:Items><t:Message><t:MimeContent>${Buffer.from(mime).toString("base64")}</t:MimeContent></t:Message></m:Items></m:CreateItem>`);
  const id = findAll(r.body, "ItemId")[0]!.attrs.Id!;
  const onReceived = await call(`<m:CreateAttachment><m:ParentItemId Id="${id}"/><m:Attachments>${file("x", every)}</m:Attachments></m:CreateAttachment>`);
  expect(responseCodes(onReceived.body)).toEqual(["ErrorInvalidPropertyUpdateSentMessage"]);
  const gonePart = Buffer.from(`A:9:${id}`).toString("base64");
  const gone = await call(`<m:GetAttachment><m:AttachmentIds><t:AttachmentId Id="${gonePart}"/></m:AttachmentIds></m:GetAttachment>`);
  expect(responseCodes(gone.body)).toEqual(["ErrorInvalidAttachmentId"]);
  const foreign = Buffer.from(`A:2:${Buffer.from(`I:${accounts[0]!.id + 1000}:M:1`).toString("base64")}`).toString("base64");
  const other = await call(`<m:DeleteAttachment><m:AttachmentIds><t:AttachmentId Id="${foreign}"/></m:AttachmentIds></m:DeleteAttachment>`);
  expect(responseCodes(other.body)).toEqual(["ErrorItemNotFound"]);
  const draft = await call(`<m:CreateItem MessageDisposition="SaveOnly"><m:Items><t:Message><t:Subject>d</t:Subject></t:Message></m:Items></m:CreateItem>`);
  const did = findAll(draft.body, "ItemId")[0]!.attrs.Id!;
  const mixed = await call(`<m:CreateAttachment><m:ParentItemId Id="${did}"/><m:Attachments><t:FileAttachment><t:Name>bad</t:Name><t:Content>%%%</t:Content></t:FileAttachment>${file("good", every)}</m:Attachments></m:CreateAttachment>`);
  expect(responseCodes(mixed.body)).toEqual(["ErrorInvalidRequest", "NoError"]);
  const noParent = await call(`<m:CreateAttachment><m:Attachments>${file("x", every)}</m:Attachments></m:CreateAttachment>`);
  expect(responseCodes(noParent.body)).toEqual(["ErrorInvalidIdEmpty"]);
  expect(noParent.status).toBe(200);
});
