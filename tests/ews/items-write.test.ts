/**
 * EWS mail writing over real sockets (MS-OXWSCORE CreateItem/UpdateItem/
 * SendItem, MS-OXWSMSG): saved drafts, messages sent through the delivery
 * pipeline to a local user, send-and-save-copy, MimeContent, send-as
 * refusal, read/flag/category changes, stale change keys, draft edits that
 * keep the ItemId, SendItem, reply and forward; cross-checked over IMAP
 * (flags, folders) and in the recipient's mailbox. Malformed input gets a
 * response code, never a 500.
 */
import { expect, test } from "bun:test";
import { extractText, parseMime } from "../../mail/index.ts";
import { ewsFixture, find, findAll, responseCodes, type XmlElement } from "./helpers.ts";

const USER = "writer@example.test";
const PASS = "writer-password-1";
const PEER = "reader@example.test";
const PEER_PASS = "reader-password-1";
const { env, accounts, imap } = ewsFixture({ users: [{ email: USER, pass: PASS, displayName: "Wendy Writer" }, { email: PEER, pass: PEER_PASS }, { email: "blind@example.test", pass: "blind-password-1" }], imap: true, config: { limits: { maxMessageSize: 2 * 1024 * 1024 } } });

const call = (xml: string) => env.call(USER, PASS, xml);

function idOf(body: XmlElement): { id: string; ck: string } {
  const el = findAll(body, "ItemId")[0];
  if (!el) throw new Error("no ItemId in response");
  return { id: el.attrs.Id!, ck: el.attrs.ChangeKey! };
}

async function folderOf(accountId: number, special: string) {
  const fs = await env.srv.store.listFolders(accountId, { itemClass: "mail" });
  const f = special === "INBOX" ? fs.find((x) => x.name === "INBOX") : fs.find((x) => x.specialUse === special);
  if (!f) throw new Error(`no ${special}`);
  return f;
}

async function messagesIn(accountId: number, special: string) {
  const f = await folderOf(accountId, special);
  const list = await env.srv.store.listMessages(f.id);
  return env.srv.store.getMessages(
    f.id,
    list.map((m) => m.uid),
  );
}

async function rawOf(id: number): Promise<string> {
  return new TextDecoder().decode(await env.srv.store.readMessage(id));
}

const mbx = (a: string, n = "") => `<t:Mailbox>${n ? `<t:Name>${n}</t:Name>` : ""}<t:EmailAddress>${a}</t:EmailAddress></t:Mailbox>`;

function createMessage(disposition: string, inner: string, folder = ""): string {
  return `<m:CreateItem MessageDisposition="${disposition}">${folder}<m:Items><t:Message>${inner}</t:Message></m:Items></m:CreateItem>`;
}

async function imapFlags(mailbox: string, subject: string): Promise<string> {
  expect((await imap.cmd(`SELECT "${mailbox}"`)).status).toBe("OK");
  const s = await imap.cmd(`UID SEARCH SUBJECT "${subject}"`);
  const uid = /SEARCH\s+(\d+)/.exec(s.untagged.join(" "))?.[1];
  if (!uid) return "(absent)";
  const f = await imap.cmd(`UID FETCH ${uid} (FLAGS)`);
  return /FLAGS \(([^)]*)\)/.exec(f.untagged.join(" "))?.[1] ?? "";
}

test("CreateItem SaveOnly: a draft in Drafts with \\Draft that IMAP sees; the ItemId is answered", async () => {
  const r = await call(createMessage("SaveOnly", `<t:Subject>Draft one</t:Subject><t:Body BodyType="HTML">&lt;p&gt;Hello &lt;b&gt;there&lt;/b&gt;&lt;/p&gt;</t:Body><t:ToRecipients>${mbx(PEER, "Rita Reader")}</t:ToRecipients><t:BccRecipients>${mbx("hidden@example.test")}</t:BccRecipients>`, `<m:SavedItemFolderId><t:DistinguishedFolderId Id="drafts"/></m:SavedItemFolderId>`));
  expect(r.status).toBe(200);
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  expect(idOf(r.body).id).toBeTruthy();
  const flags = await imapFlags("Drafts", "Draft one");
  expect(flags).toContain("\\Draft");
  const drafts = await messagesIn(accounts[0]!.id, "\\Drafts");
  const d = drafts.find((m) => m.subject === "Draft one")!;
  const raw = await rawOf(d.id);
  expect(raw).toContain("Bcc: hidden@example.test"); // kept in the saved draft
  expect(raw).toMatch(/From: "?Wendy Writer"? <writer@example.test>/);
  expect(raw).toContain("text/html");
});

test("CreateItem SendOnly to a local user: delivered with subject, body and attachment; no Bcc field; nothing saved", async () => {
  const bytes = new Uint8Array(256).map((_, i) => i);
  const r = await call(
    createMessage(
      "SendOnly",
      `<t:Subject>Sent only</t:Subject><t:Body BodyType="Text">Plain body text</t:Body><t:Attachments><t:FileAttachment><t:Name>bytes.bin</t:Name><t:ContentType>application/octet-stream</t:ContentType><t:Content>${Buffer.from(bytes).toString("base64")}</t:Content></t:FileAttachment></t:Attachments><t:ToRecipients>${mbx(PEER)}</t:ToRecipients><t:BccRecipients>${mbx("blind@example.test")}</t:BccRecipients>`,
    ),
  );
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  expect(findAll(r.body, "ItemId")).toHaveLength(0);
  const inbox = await messagesIn(accounts[1]!.id, "INBOX");
  const got = inbox.find((m) => m.subject === "Sent only")!;
  expect(got).toBeDefined();
  expect(got.hasAttachment).toBe(true);
  const raw = await rawOf(got.id);
  expect(raw).toContain("Plain body text");
  expect(raw).not.toContain("blind@example.test");
  // The blind recipient got it too, without seeing itself named.
  const b = (await messagesIn(accounts[2]!.id, "INBOX")).find((m) => m.subject === "Sent only")!;
  expect(await rawOf(b.id)).not.toContain("blind@example.test");
  expect(raw).toContain(Buffer.from(bytes).toString("base64").slice(0, 60));
  expect((await messagesIn(accounts[0]!.id, "\\Sent")).some((m) => m.subject === "Sent only")).toBe(false);
});

test("CreateItem SendAndSaveCopy: the copy is in Sent (read), the recipient has it", async () => {
  const r = await call(createMessage("SendAndSaveCopy", `<t:Subject>Send and save</t:Subject><t:Body BodyType="Text">copy me</t:Body><t:ToRecipients>${mbx(PEER)}</t:ToRecipients>`, `<m:SavedItemFolderId><t:DistinguishedFolderId Id="sentitems"/></m:SavedItemFolderId>`));
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  const sent = (await messagesIn(accounts[0]!.id, "\\Sent")).find((m) => m.subject === "Send and save");
  expect(sent?.flags).toContain("\\Seen");
  expect((await messagesIn(accounts[1]!.id, "INBOX")).some((m) => m.subject === "Send and save")).toBe(true);
});

test("CreateItem from MimeContent (base64 MIME as exchangelib and DavMail send it), saved in the Inbox as received mail", async () => {
  const mime = "From: Someone <someone@elsewhere.test>\r\nTo: writer@example.test\r\nSubject: From MIME\r\nMessage-ID: <mime-1@elsewhere.test>\r\n\r\nMIME body\r\n";
  const r = await call(`<m:CreateItem MessageDisposition="SaveOnly"><m:SavedItemFolderId><t:DistinguishedFolderId Id="inbox"/></m:SavedItemFolderId><m:Items><t:Message><t:MimeContent CharacterSet="UTF-8">${Buffer.from(mime).toString("base64")}</t:MimeContent><t:IsRead>true</t:IsRead></t:Message></m:Items></m:CreateItem>`);
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  const m = (await messagesIn(accounts[0]!.id, "INBOX")).find((x) => x.subject === "From MIME")!;
  expect(m.flags).toContain("\\Seen");
  expect(m.flags).not.toContain("\\Draft");
  expect(await rawOf(m.id)).toBe(mime);
});

test("From an address the account may not use: ErrorSendAsDenied, nothing delivered", async () => {
  const r = await call(createMessage("SendOnly", `<t:Subject>Forged</t:Subject><t:ToRecipients>${mbx(PEER)}</t:ToRecipients><t:From>${mbx("ceo@example.test")}</t:From>`));
  expect(responseCodes(r.body)).toEqual(["ErrorSendAsDenied"]);
  expect((await messagesIn(accounts[1]!.id, "INBOX")).some((m) => m.subject === "Forged")).toBe(false);
});

test("UpdateItem: IsRead, Flag and Categories are \\Seen, \\Flagged and keywords over IMAP; the ChangeKey moves on", async () => {
  const r = await call(createMessage("SaveOnly", `<t:Subject>Flag me</t:Subject><t:Body BodyType="Text">x</t:Body>`, `<m:SavedItemFolderId><t:DistinguishedFolderId Id="inbox"/></m:SavedItemFolderId>`));
  const { id, ck } = idOf(r.body);
  const u = await call(
    `<m:UpdateItem MessageDisposition="SaveOnly" ConflictResolution="NeverOverwrite"><m:ItemChanges><t:ItemChange><t:ItemId Id="${id}" ChangeKey="${ck}"/><t:Updates>` +
      `<t:SetItemField><t:FieldURI FieldURI="message:IsRead"/><t:Message><t:IsRead>true</t:IsRead></t:Message></t:SetItemField>` +
      `<t:SetItemField><t:FieldURI FieldURI="item:Flag"/><t:Message><t:Flag><t:FlagStatus>Flagged</t:FlagStatus></t:Flag></t:Message></t:SetItemField>` +
      `<t:SetItemField><t:FieldURI FieldURI="item:Categories"/><t:Message><t:Categories><t:String>Urgent</t:String><t:String>Red category</t:String></t:Categories></t:Message></t:SetItemField>` +
      `</t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`,
  );
  expect(responseCodes(u.body)).toEqual(["NoError"]);
  const after = idOf(u.body);
  expect(after.id).toBe(id);
  expect(after.ck).not.toBe(ck);
  expect(find(u.body, "ResponseMessages", "UpdateItemResponseMessage", "ConflictResults", "Count")?.text).toBe("0");
  const flags = await imapFlags("INBOX", "Flag me");
  expect(flags).toContain("\\Seen");
  expect(flags).toContain("\\Flagged");
  expect(flags).toContain("Urgent");
  // Categories with spaces are kept exactly in the property table (PidNameKeywords).
  const idx = (await messagesIn(accounts[0]!.id, "INBOX")).find((m) => m.subject === "Flag me")!;
  const props = await env.srv.store.getProperties({ itemId: idx.id });
  expect(JSON.stringify(props)).toContain("Red category");

  // The old change key is stale now: NeverOverwrite refuses, AutoResolve applies.
  const stale = (cr: string) =>
    call(`<m:UpdateItem MessageDisposition="SaveOnly" ConflictResolution="${cr}"><m:ItemChanges><t:ItemChange><t:ItemId Id="${id}" ChangeKey="${ck}"/><t:Updates><t:SetItemField><t:FieldURI FieldURI="message:IsRead"/><t:Message><t:IsRead>false</t:IsRead></t:Message></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`);
  expect(responseCodes((await stale("NeverOverwrite")).body)).toEqual(["ErrorIrresolvableConflict"]);
  expect(await imapFlags("INBOX", "Flag me")).toContain("\\Seen");
  expect(responseCodes((await stale("AutoResolve")).body)).toEqual(["NoError"]);
  expect(await imapFlags("INBOX", "Flag me")).not.toContain("\\Seen");
});

test("UpdateItem of a draft's content keeps its ItemId; the new subject, recipients and body are in the stored MIME", async () => {
  const r = await call(createMessage("SaveOnly", `<t:Subject>Edit me</t:Subject><t:Body BodyType="Text">first</t:Body><t:ToRecipients>${mbx(PEER)}</t:ToRecipients>`));
  const { id, ck } = idOf(r.body);
  const u = await call(
    `<m:UpdateItem MessageDisposition="SaveOnly" ConflictResolution="AutoResolve"><m:ItemChanges><t:ItemChange><t:ItemId Id="${id}" ChangeKey="${ck}"/><t:Updates>` +
      `<t:SetItemField><t:FieldURI FieldURI="item:Subject"/><t:Message><t:Subject>Edited</t:Subject></t:Message></t:SetItemField>` +
      `<t:SetItemField><t:FieldURI FieldURI="message:CcRecipients"/><t:Message><t:CcRecipients>${mbx("cc@example.test")}</t:CcRecipients></t:Message></t:SetItemField>` +
      `<t:AppendToItemField><t:FieldURI FieldURI="item:Body"/><t:Message><t:Body BodyType="Text"> and second</t:Body></t:Message></t:AppendToItemField>` +
      `</t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`,
  );
  expect(responseCodes(u.body)).toEqual(["NoError"]);
  expect(idOf(u.body).id).toBe(id);
  const d = (await messagesIn(accounts[0]!.id, "\\Drafts")).find((m) => m.subject === "Edited")!;
  expect(d.flags).toContain("\\Draft");
  const raw = await rawOf(d.id);
  expect(raw).toContain("Cc: cc@example.test");
  expect(raw).toContain("first and second");
  expect((await messagesIn(accounts[0]!.id, "\\Drafts")).some((m) => m.subject === "Edit me")).toBe(false);
  // Received mail's content is fixed.
  const mime = "From: a@elsewhere.test\r\nTo: writer@example.test\r\nSubject: Received\r\n\r\nbody\r\n";
  const c = await call(`<m:CreateItem MessageDisposition="SaveOnly"><m:SavedItemFolderId><t:DistinguishedFolderId Id="inbox"/></m:SavedItemFolderId><m:Items><t:Message><t:MimeContent>${Buffer.from(mime).toString("base64")}</t:MimeContent></t:Message></m:Items></m:CreateItem>`);
  const rid = idOf(c.body);
  const bad = await call(`<m:UpdateItem MessageDisposition="SaveOnly" ConflictResolution="AutoResolve"><m:ItemChanges><t:ItemChange><t:ItemId Id="${rid.id}"/><t:Updates><t:SetItemField><t:FieldURI FieldURI="item:Subject"/><t:Message><t:Subject>Changed</t:Subject></t:Message></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`);
  expect(responseCodes(bad.body)).toEqual(["ErrorInvalidPropertyUpdateSentMessage"]);
});

test("UpdateItem on a draft's recipient lists: AppendToItemField adds to To, DeleteItemField clears Cc, Bcc and Reply-To", async () => {
  const r = await call(
    createMessage("SaveOnly", `<t:Subject>Lists</t:Subject><t:ToRecipients>${mbx(PEER)}</t:ToRecipients><t:CcRecipients>${mbx("cc@example.test")}</t:CcRecipients><t:BccRecipients>${mbx("bcc@example.test")}</t:BccRecipients><t:ReplyTo>${mbx("reply@example.test")}</t:ReplyTo>`),
  );
  const { id, ck } = idOf(r.body);
  const del = (uri: string) => `<t:DeleteItemField><t:FieldURI FieldURI="${uri}"/></t:DeleteItemField>`;
  const u = await call(
    `<m:UpdateItem MessageDisposition="SaveOnly" ConflictResolution="AutoResolve"><m:ItemChanges><t:ItemChange><t:ItemId Id="${id}" ChangeKey="${ck}"/><t:Updates>` +
      `<t:AppendToItemField><t:FieldURI FieldURI="message:ToRecipients"/><t:Message><t:ToRecipients>${mbx("second@example.test")}</t:ToRecipients></t:Message></t:AppendToItemField>` +
      del("message:CcRecipients") +
      del("message:BccRecipients") +
      del("message:ReplyTo") +
      `</t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`,
  );
  expect(responseCodes(u.body)).toEqual(["NoError"]);
  const raw = await rawOf((await messagesIn(accounts[0]!.id, "\\Drafts")).find((m) => m.subject === "Lists")!.id);
  const head = raw.slice(0, raw.indexOf("\r\n\r\n"));
  expect(head).toMatch(/^To: .*reader@example\.test.*second@example\.test/m);
  expect(head).not.toContain("cc@example.test");
  expect(head).not.toContain("bcc@example.test");
  expect(head).not.toContain("reply@example.test");
});

test("SendItem: a saved draft is sent, the copy is in Sent and the draft is gone", async () => {
  const r = await call(createMessage("SaveOnly", `<t:Subject>Send later</t:Subject><t:Body BodyType="Text">later</t:Body><t:ToRecipients>${mbx(PEER)}</t:ToRecipients>`));
  const { id, ck } = idOf(r.body);
  const s = await call(`<m:SendItem SaveItemToFolder="true"><m:ItemIds><t:ItemId Id="${id}" ChangeKey="${ck}"/></m:ItemIds><m:SavedItemFolderId><t:DistinguishedFolderId Id="sentitems"/></m:SavedItemFolderId></m:SendItem>`);
  expect(responseCodes(s.body)).toEqual(["NoError"]);
  expect((await messagesIn(accounts[1]!.id, "INBOX")).some((m) => m.subject === "Send later")).toBe(true);
  const sent = (await messagesIn(accounts[0]!.id, "\\Sent")).find((m) => m.subject === "Send later");
  expect(sent?.flags).not.toContain("\\Draft");
  expect((await messagesIn(accounts[0]!.id, "\\Drafts")).some((m) => m.subject === "Send later")).toBe(false);
  // Sending it again: the id names the sent copy now, which is no draft in Drafts any more but still a message; a bogus id is malformed.
  const again = await call(`<m:SendItem SaveItemToFolder="false"><m:ItemIds><t:ItemId Id="bm9wZQ=="/></m:ItemIds></m:SendItem>`);
  expect(responseCodes(again.body)).toEqual(["ErrorInvalidIdMalformed"]);
});

test("ReplyToItem and ForwardItem: the original is quoted, threaded, forwarded with its attachment, and marked", async () => {
  const mime =
    'From: Pat Peer <reader@example.test>\r\nTo: writer@example.test\r\nSubject: Question\r\nMessage-ID: <q-1@example.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nWhat time is it?\r\n--b1\r\nContent-Type: application/pdf; name="doc.pdf"\r\nContent-Disposition: attachment; filename="doc.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n';
  const c = await call(`<m:CreateItem MessageDisposition="SaveOnly"><m:SavedItemFolderId><t:DistinguishedFolderId Id="inbox"/></m:SavedItemFolderId><m:Items><t:Message><t:MimeContent>${Buffer.from(mime).toString("base64")}</t:MimeContent></t:Message></m:Items></m:CreateItem>`);
  const orig = idOf(c.body);
  const reply = await call(`<m:CreateItem MessageDisposition="SendAndSaveCopy"><m:Items><t:ReplyToItem><t:ReferenceItemId Id="${orig.id}" ChangeKey="${orig.ck}"/><t:NewBodyContent BodyType="Text">Noon.</t:NewBodyContent></t:ReplyToItem></m:Items></m:CreateItem>`);
  expect(responseCodes(reply.body)).toEqual(["NoError"]);
  const got = (await messagesIn(accounts[1]!.id, "INBOX")).find((m) => m.subject === "Re: Question")!;
  expect(got).toBeDefined();
  expect(got.inReplyTo).toBe("<q-1@example.test>");
  const bytes = await env.srv.store.readMessage(got.id);
  expect(extractText(bytes, parseMime(bytes).root).body).toContain("What time is it?");
  expect(await imapFlags("INBOX", "Question")).toContain("\\Answered");

  const fwd = await call(`<m:CreateItem MessageDisposition="SendOnly"><m:Items><t:ForwardItem><t:ToRecipients>${mbx(PEER)}</t:ToRecipients><t:ReferenceItemId Id="${orig.id}"/><t:NewBodyContent BodyType="HTML">&lt;p&gt;FYI&lt;/p&gt;</t:NewBodyContent></t:ForwardItem></m:Items></m:CreateItem>`);
  expect(responseCodes(fwd.body)).toEqual(["NoError"]);
  const f = (await messagesIn(accounts[1]!.id, "INBOX")).find((m) => m.subject === "Fwd: Question")!;
  expect(f.hasAttachment).toBe(true);
  expect(await rawOf(f.id)).toContain("doc.pdf");
  expect(await imapFlags("INBOX", "Question")).toContain("$Forwarded");
});

test("malformed input: bad base64, missing disposition, unknown item type, bad ids, too many items, oversized attachment", async () => {
  const bad = await call(createMessage("SaveOnly", `<t:Subject>x</t:Subject><t:Attachments><t:FileAttachment><t:Name>a</t:Name><t:Content>!!!not base64!!!</t:Content></t:FileAttachment></t:Attachments>`));
  expect(responseCodes(bad.body)).toEqual(["ErrorInvalidRequest"]);
  const badMime = await call(createMessage("SaveOnly", `<t:MimeContent>@@@</t:MimeContent>`));
  expect(responseCodes(badMime.body)).toEqual(["ErrorInvalidRequest"]);
  const noDisp = await call(`<m:CreateItem><m:Items><t:Message><t:Subject>x</t:Subject></t:Message></m:Items></m:CreateItem>`);
  expect(responseCodes(noDisp.body)).toEqual(["ErrorInvalidRequest"]);
  const badDisp = await call(`<m:CreateItem MessageDisposition="Teleport"><m:Items><t:Message/></m:Items></m:CreateItem>`);
  expect(responseCodes(badDisp.body)).toEqual(["ErrorInvalidRequest"]);
  const unknown = await call(`<m:CreateItem MessageDisposition="SaveOnly"><m:Items><t:Spaceship/></m:Items></m:CreateItem>`);
  expect(responseCodes(unknown.body)).toEqual(["ErrorInvalidItemForOperationCreateItem"]);
  const badRcpt = await call(createMessage("SendOnly", `<t:Subject>x</t:Subject><t:ToRecipients>${mbx("not-an-address")}</t:ToRecipients>`));
  expect(responseCodes(badRcpt.body)).toEqual(["ErrorInvalidRecipients"]);
  const noRcpt = await call(createMessage("SendOnly", `<t:Subject>nobody</t:Subject>`));
  expect(responseCodes(noRcpt.body)).toEqual(["ErrorInvalidRecipients"]);
  const badId = await call(`<m:UpdateItem MessageDisposition="SaveOnly" ConflictResolution="AutoResolve"><m:ItemChanges><t:ItemChange><t:ItemId Id="garbage"/><t:Updates/></t:ItemChange></m:ItemChanges></m:UpdateItem>`);
  expect(responseCodes(badId.body)).toEqual(["ErrorInvalidIdMalformed"]);
  const badCk = await call(`<m:UpdateItem ConflictResolution="NeverOverwrite"><m:ItemChanges><t:ItemChange><t:ItemId Id="${Buffer.from(`I:${accounts[0]!.id}:M:1`).toString("base64")}" ChangeKey="zzzz"/><t:Updates/></t:ItemChange></m:ItemChanges></m:UpdateItem>`);
  expect(responseCodes(badCk.body)).toEqual(["ErrorInvalidChangeKey"]);
  const otherAccount = await call(`<m:UpdateItem ConflictResolution="AutoResolve"><m:ItemChanges><t:ItemChange><t:ItemId Id="${Buffer.from(`I:${accounts[1]!.id}:M:1`).toString("base64")}"/><t:Updates/></t:ItemChange></m:ItemChanges></m:UpdateItem>`);
  expect(responseCodes(otherAccount.body)).toEqual(["ErrorItemNotFound"]);
  const many = await call(`<m:SendItem SaveItemToFolder="false"><m:ItemIds>${'<t:ItemId Id="x"/>'.repeat(1001)}</m:ItemIds></m:SendItem>`);
  expect(responseCodes(many.body)).toEqual(["ErrorExceededFindCountLimit"]);
  // An attachment over the message size limit (2 MB here): refused by the endpoint's body bound (413) or as ErrorMessageSizeExceeded.
  const huge = Buffer.alloc(2 * 1024 * 1024 + 10, 7).toString("base64");
  const big = await env.post(USER, PASS, (await import("./helpers.ts")).envelope(createMessage("SaveOnly", `<t:Subject>big</t:Subject><t:Attachments><t:FileAttachment><t:Name>big</t:Name><t:Content>${huge}</t:Content></t:FileAttachment></t:Attachments>`)));
  expect(big.status === 413 || big.text.includes("ErrorMessageSizeExceeded")).toBe(true);
  expect(big.status).not.toBe(500);
  // One bad item does not fail the others of its request.
  const mixed = await call(`<m:CreateItem MessageDisposition="SaveOnly"><m:Items><t:Message><t:Subject>good one</t:Subject></t:Message><t:Message><t:ToRecipients>${mbx("nope")}</t:ToRecipients></t:Message></m:Items></m:CreateItem>`);
  expect(responseCodes(mixed.body)).toEqual(["NoError", "ErrorInvalidRecipients"]);
});

test("extended properties DavMail and exchangelib use for flags: PidTagFlagStatus is \\Flagged, PidTagLastVerbExecuted is \\Answered/$Forwarded, PR_MESSAGE_FLAGS says read and not a draft", async () => {
  const mime = "From: a@elsewhere.test\r\nTo: writer@example.test\r\nSubject: Verbs\r\n\r\nbody\r\n";
  const c = await call(
    `<m:CreateItem MessageDisposition="SaveOnly"><m:SavedItemFolderId><t:DistinguishedFolderId Id="drafts"/></m:SavedItemFolderId><m:Items><t:Message><t:MimeContent>${Buffer.from(mime).toString("base64")}</t:MimeContent>` +
      `<t:ExtendedProperty><t:ExtendedFieldURI PropertyTag="0x0E07" PropertyType="Integer"/><t:Value>1</t:Value></t:ExtendedProperty>` +
      `<t:ExtendedProperty><t:ExtendedFieldURI PropertyTag="0x0E06" PropertyType="SystemTime"/><t:Value>2021-03-04T05:06:07Z</t:Value></t:ExtendedProperty></t:Message></m:Items></m:CreateItem>`,
  );
  expect(responseCodes(c.body)).toEqual(["NoError"]);
  // PR_MESSAGE_DELIVERY_TIME is the internal date (IMAP INTERNALDATE), as DavMail's APPEND sets it.
  const stored = (await messagesIn(accounts[0]!.id, "\\Drafts")).find((m) => m.subject === "Verbs")!;
  expect(stored.internalDate).toBe(Date.UTC(2021, 2, 4, 5, 6, 7));
  // Saved in Drafts, but PR_MESSAGE_FLAGS (read, not unsent) says it is received mail.
  let flags = await imapFlags("Drafts", "Verbs");
  expect(flags).toContain("\\Seen");
  expect(flags).not.toContain("\\Draft");
  const { id } = idOf(c.body);
  const set = (tag: string, value: string) =>
    call(`<m:UpdateItem MessageDisposition="SaveOnly" ConflictResolution="AlwaysOverwrite"><m:ItemChanges><t:ItemChange><t:ItemId Id="${id}"/><t:Updates><t:SetItemField><t:ExtendedFieldURI PropertyTag="${tag}" PropertyType="Integer"/><t:Message><t:ExtendedProperty><t:ExtendedFieldURI PropertyTag="${tag}" PropertyType="Integer"/><t:Value>${value}</t:Value></t:ExtendedProperty></t:Message></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`);
  expect(responseCodes((await set("0x1090", "2")).body)).toEqual(["NoError"]);
  expect(responseCodes((await set("0x1081", "102")).body)).toEqual(["NoError"]);
  flags = await imapFlags("Drafts", "Verbs");
  expect(flags).toContain("\\Flagged");
  expect(flags).toContain("\\Answered");
  expect(responseCodes((await set("0x1090", "1")).body)).toEqual(["NoError"]);
  expect(responseCodes((await set("0x1081", "104")).body)).toEqual(["NoError"]);
  flags = await imapFlags("Drafts", "Verbs");
  expect(flags).not.toContain("\\Flagged");
  expect(flags).not.toContain("\\Answered");
  expect(flags).toContain("$Forwarded");
  const bad = await call(`<m:UpdateItem MessageDisposition="SaveOnly" ConflictResolution="AlwaysOverwrite"><m:ItemChanges><t:ItemChange><t:ItemId Id="${id}"/><t:Updates><t:SetItemField><t:ExtendedFieldURI PropertyTag="0x1090" PropertyType="Integer"/><t:Message><t:ExtendedProperty><t:ExtendedFieldURI PropertyTag="0x1090" PropertyType="Integer"/><t:Value>lots</t:Value></t:ExtendedProperty></t:Message></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`);
  expect(responseCodes(bad.body)[0]).toMatch(/^ErrorInvalidExtendedProperty/);
  // A property no mail field has: ErrorInvalidPropertyRequest, nothing changed.
  const unknown = await call(`<m:UpdateItem MessageDisposition="SaveOnly" ConflictResolution="AlwaysOverwrite"><m:ItemChanges><t:ItemChange><t:ItemId Id="${id}"/><t:Updates><t:SetItemField><t:FieldURI FieldURI="calendar:Start"/><t:Message/></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`);
  expect(responseCodes(unknown.body)).toEqual(["ErrorInvalidPropertyRequest"]);
});

test("SendOnly from MimeContent: a message without From is sent from the account; its Bcc field is not sent", async () => {
  const mime = `To: ${PEER}\r\nBcc: blind@example.test\r\nSubject: Bare MIME\r\n\r\nno from here\r\n`;
  const r = await call(`<m:CreateItem MessageDisposition="SendOnly"><m:Items><t:Message><t:MimeContent>${Buffer.from(mime).toString("base64")}</t:MimeContent></t:Message></m:Items></m:CreateItem>`);
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  const got = (await messagesIn(accounts[1]!.id, "INBOX")).find((m) => m.subject === "Bare MIME")!;
  expect(got.fromAddr).toBe(USER);
  expect(await rawOf(got.id)).not.toContain("Bcc:");
  expect((await messagesIn(accounts[2]!.id, "INBOX")).some((m) => m.subject === "Bare MIME")).toBe(true);
});

test("SuppressReadReceipt: accepted for an existing message (no receipt is ever sent on its own), refused for a bad reference", async () => {
  const r = await call(createMessage("SaveOnly", `<t:Subject>Receipt</t:Subject>`));
  const { id } = idOf(r.body);
  const ok = await call(`<m:CreateItem><m:Items><t:SuppressReadReceipt><t:ReferenceItemId Id="${id}"/></t:SuppressReadReceipt></m:Items></m:CreateItem>`);
  expect(responseCodes(ok.body)).toEqual(["NoError"]);
  const bad = await call(`<m:CreateItem><m:Items><t:SuppressReadReceipt><t:ReferenceItemId Id="zz"/></t:SuppressReadReceipt><t:SuppressReadReceipt/></m:Items></m:CreateItem>`);
  expect(responseCodes(bad.body)).toEqual(["ErrorInvalidIdMalformed", "ErrorInvalidIdEmpty"]);
});

test("UpdateItem item:MimeContent replaces a draft's whole message (same ItemId); UpdateItem SendAndSaveCopy sends it", async () => {
  const r = await call(createMessage("SaveOnly", `<t:Subject>Mime edit</t:Subject><t:Body BodyType="Text">old</t:Body>`));
  const { id } = idOf(r.body);
  const mime = `From: ${USER}\r\nTo: ${PEER}\r\nSubject: Mime edited\r\nX-Custom: kept\r\n\r\nnew body\r\n`;
  const u = await call(`<m:UpdateItem MessageDisposition="SaveOnly" ConflictResolution="AutoResolve"><m:ItemChanges><t:ItemChange><t:ItemId Id="${id}"/><t:Updates><t:SetItemField><t:FieldURI FieldURI="item:MimeContent"/><t:Message><t:MimeContent>${Buffer.from(mime).toString("base64")}</t:MimeContent></t:Message></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`);
  expect(responseCodes(u.body)).toEqual(["NoError"]);
  expect(idOf(u.body).id).toBe(id);
  const d = (await messagesIn(accounts[0]!.id, "\\Drafts")).find((m) => m.subject === "Mime edited")!;
  expect(await rawOf(d.id)).toBe(mime);
  expect(d.flags).toContain("\\Draft");
  // Then sent with UpdateItem's SendAndSaveCopy: the draft becomes the copy in Sent, the peer gets it.
  const s = await call(`<m:UpdateItem MessageDisposition="SendAndSaveCopy" ConflictResolution="AutoResolve"><m:ItemChanges><t:ItemChange><t:ItemId Id="${id}"/><t:Updates><t:SetItemField><t:FieldURI FieldURI="message:IsRead"/><t:Message><t:IsRead>true</t:IsRead></t:Message></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`);
  expect(responseCodes(s.body)).toEqual(["NoError"]);
  expect(findAll(s.body, "ItemId")).toHaveLength(0);
  expect((await messagesIn(accounts[1]!.id, "INBOX")).some((m) => m.subject === "Mime edited")).toBe(true);
  const sent = (await messagesIn(accounts[0]!.id, "\\Sent")).find((m) => m.subject === "Mime edited")!;
  expect(sent.id).toBe(d.id);
  expect(sent.flags).not.toContain("\\Draft");
});

test("categoriesOf: the stored PidNameKeywords first, else the keywords that are labels (not system, $-prefixed or junk markers)", async () => {
  const { categoriesOf, CATEGORIES_KEY } = await import("../../protocols/http/ews/mail-write.ts");
  expect(categoriesOf([], ["\\Seen", "$Forwarded", "Work", "NonJunk", "Junk", "notjunk", "Family"])).toEqual(["Work", "Family"]);
  expect(categoriesOf([{ key: CATEGORIES_KEY, type: "string", multi: true, value: ["Red category", "Work"] }], ["Work"])).toEqual(["Red category", "Work"]);
});
