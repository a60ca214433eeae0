/**
 * FindItem and GetItem over real sockets: paging views, restrictions (nested,
 * malformed, too complex), sorting, QueryString, message shapes (Default,
 * AllProperties, bodies, MimeContent, attachments, extended properties) and
 * cross-protocol state (an IMAP flag change seen as IsRead).
 */
import { beforeAll, expect, test } from "bun:test";
import { sendMail } from "../backup/helpers.ts";
import { ewsFixture, find, findAll, responseCodes, type XmlElement } from "./helpers.ts";

const USER = "reader@example.test";
const PASS = "reader-password-1";
const OTHER = "other@example.test";
const OTHER_PASS = "other-password-1";
const BULK = 30;
const { env, accounts, imap } = ewsFixture({ users: [{ email: USER, pass: PASS }, { email: OTHER, pass: OTHER_PASS }], imap: true });

beforeAll(async () => {
  // Two over SMTP (the real delivery path), the bulk straight into the store with distinct dates.
  expect(await sendMail(env.srv.port("SMTP"), USER, `From: "Smtp Sender" <sender@example.test>\r\nTo: ${USER}\r\nSubject: hello over smtp\r\nX-Priority: 1\r\nMessage-ID: <smtp-1@example.test>\r\n\r\nplain body one\r\n`)).toBe(250);
  const html =
    `From: html@example.test\r\nTo: ${USER}\r\nCc: "Carl Cc" <carl@elsewhere.test>\r\nSubject: html with attachment\r\nMIME-Version: 1.0\r\n` +
    `Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: multipart/alternative; boundary="b2"\r\n\r\n` +
    `--b2\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ntext part\r\n--b2\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>html <b>part</b></p>\r\n--b2--\r\n` +
    `--b1\r\nContent-Type: application/octet-stream; name="data.bin"\r\nContent-Disposition: attachment; filename="data.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQF\r\n--b1--\r\n`;
  expect(await sendMail(env.srv.port("SMTP"), USER, html)).toBe(250);
  for (let i = 0; i < BULK; i++) {
    const raw = `From: bulk${i % 3}@example.test\r\nTo: ${USER}\r\nSubject: bulk ${String(i).padStart(2, "0")} ${i % 2 ? "odd" : "even"}\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nbulk body ${i}\r\n`;
    await env.srv.store.deliver(new TextEncoder().encode(raw), [{ accountId: accounts[0]!.id, folder: "Archive", create: true }], { internalDate: Date.UTC(2024, 0, 1 + i) });
  }
}, 60_000);

const call = (xml: string, opts: { version?: string } = {}) => env.call(USER, PASS, xml, opts);
const text = (el: XmlElement | undefined, ...path: string[]) => find(el, ...path)?.text;
const shape = (base: string, extra = "", body = "") => `<m:ItemShape><t:BaseShape>${base}</t:BaseShape>${body}${extra ? `<t:AdditionalProperties>${extra}</t:AdditionalProperties>` : ""}</m:ItemShape>`;
const field = (uri: string) => `<t:FieldURI FieldURI="${uri}"/>`;
const dist = (id: string) => `<t:DistinguishedFolderId Id="${id}"/>`;

async function archiveId(): Promise<string> {
  const r = await call(`<m:FindFolder Traversal="Shallow"><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:ParentFolderIds>${dist("msgfolderroot")}</m:ParentFolderIds></m:FindFolder>`);
  const f = findAll(r.body, "Folder").find((x) => text(x, "DisplayName") === "Archive");
  return find(f, "FolderId")!.attrs.Id!;
}

async function findItems(folderXml: string, extra = "", shapeXml = shape("Default")) {
  const r = await call(`<m:FindItem Traversal="Shallow">${shapeXml}${extra}<m:ParentFolderIds>${folderXml}</m:ParentFolderIds></m:FindItem>`);
  const msg = find(r.body, "ResponseMessages")!.children[0]!;
  const root = find(msg, "RootFolder");
  return { r, code: text(msg, "ResponseCode"), root, items: root ? find(root, "Items")!.children : [] };
}

test("FindItem Default on the Inbox: messages newest first with the list properties, no body", async () => {
  const { code, root, items } = await findItems(dist("inbox"));
  expect(code).toBe("NoError");
  expect(root!.attrs.TotalItemsInView).toBe("2");
  expect(root!.attrs.IncludesLastItemInRange).toBe("true");
  expect(items.map((i) => text(i, "Subject"))).toEqual(["html with attachment", "hello over smtp"]);
  const m = items[1]!;
  expect(m.name).toBe("Message");
  expect(text(m, "From", "Mailbox", "EmailAddress")).toBe("sender@example.test");
  expect(text(m, "From", "Mailbox", "Name")).toBe("Smtp Sender");
  expect(text(m, "IsRead")).toBe("false");
  expect(text(m, "InternetMessageId")).toBe("<smtp-1@example.test>");
  expect(find(m, "Body")).toBeUndefined();
  expect(text(items[0], "HasAttachments")).toBe("true");
});

test("IndexedPageItemView: offsets, totals, the last page, BasePoint End", async () => {
  const folder = `<t:FolderId Id="${await archiveId()}"/>`;
  const seen: string[] = [];
  let offset = 0;
  for (;;) {
    const { root, items } = await findItems(folder, `<m:IndexedPageItemView MaxEntriesReturned="7" Offset="${offset}" BasePoint="Beginning"/>`, shape("IdOnly", field("item:Subject")));
    expect(root!.attrs.TotalItemsInView).toBe(String(BULK));
    seen.push(...items.map((i) => text(i, "Subject")!));
    offset = Number(root!.attrs.IndexedPagingOffset);
    if (root!.attrs.IncludesLastItemInRange === "true") break;
    expect(items.length).toBe(7);
  }
  expect(seen.length).toBe(BULK);
  expect(new Set(seen).size).toBe(BULK);
  // Newest (highest internal date) first by default.
  expect(seen[0]).toBe(`bulk ${BULK - 1} ${(BULK - 1) % 2 ? "odd" : "even"}`);
  const end = await findItems(folder, `<m:IndexedPageItemView MaxEntriesReturned="3" Offset="0" BasePoint="End"/>`, shape("IdOnly", field("item:Subject")));
  expect(end.items.map((i) => text(i, "Subject"))).toEqual(seen.slice(-3));
  const past = await findItems(folder, `<m:IndexedPageItemView MaxEntriesReturned="5" Offset="500" BasePoint="Beginning"/>`);
  expect(past.items.length).toBe(0);
  expect(past.root!.attrs.IncludesLastItemInRange).toBe("true");
  const frac = await findItems(folder, `<m:FractionalPageItemView MaxEntriesReturned="5" Numerator="1" Denominator="2"/>`);
  expect(frac.items.length).toBe(5);
  expect(frac.root!.attrs.NumeratorOffset).toBe(String(BULK / 2 + 5));
  expect(frac.root!.attrs.AbsoluteDenominator).toBe(String(BULK));
});

test("paging views with bad numbers are refused with ErrorInvalidRequest", async () => {
  for (const v of [`<m:IndexedPageItemView MaxEntriesReturned="0" Offset="0" BasePoint="Beginning"/>`, `<m:IndexedPageItemView MaxEntriesReturned="5" Offset="-1" BasePoint="Beginning"/>`, `<m:IndexedPageItemView MaxEntriesReturned="5" Offset="0" BasePoint="Middle"/>`, `<m:FractionalPageItemView MaxEntriesReturned="5" Numerator="3" Denominator="2"/>`]) {
    const r = await call(`<m:FindItem Traversal="Shallow">${shape("IdOnly")}${v}<m:ParentFolderIds>${dist("inbox")}</m:ParentFolderIds></m:FindItem>`);
    expect(r.status).toBe(200);
    expect(responseCodes(r.body)).toEqual(["ErrorInvalidRequest"]);
  }
});

test("restrictions: Contains, nested And/Or/Not, dates, IsRead; sort by subject", async () => {
  const folder = `<t:FolderId Id="${await archiveId()}"/>`;
  const subjects = async (restriction: string, sort = "") => (await findItems(folder, `<m:Restriction>${restriction}</m:Restriction>${sort}`, shape("IdOnly", field("item:Subject")))).items.map((i) => text(i, "Subject")!);
  const odd = await subjects(`<t:Contains ContainmentMode="Substring" ContainmentComparison="IgnoreCase">${field("item:Subject")}<t:Constant Value="ODD"/></t:Contains>`);
  expect(odd.length).toBe(BULK / 2);
  expect(await subjects(`<t:Contains ContainmentMode="Substring" ContainmentComparison="Exact">${field("item:Subject")}<t:Constant Value="ODD"/></t:Contains>`)).toEqual([]);
  // (subject starts with "bulk 0" OR from bulk1@) AND NOT subject contains "odd"
  const nested = await subjects(
    `<t:And><t:Or><t:Contains ContainmentMode="Prefixed" ContainmentComparison="IgnoreCase">${field("item:Subject")}<t:Constant Value="bulk 0"/></t:Contains>` +
      `<t:IsEqualTo>${field("message:From")}<t:FieldURIOrConstant><t:Constant Value="bulk1@example.test"/></t:FieldURIOrConstant></t:IsEqualTo></t:Or>` +
      `<t:Not><t:Contains ContainmentMode="Substring" ContainmentComparison="IgnoreCase">${field("item:Subject")}<t:Constant Value="odd"/></t:Contains></t:Not></t:And>`,
    `<m:SortOrder><t:FieldOrder Order="Ascending">${field("item:Subject")}</t:FieldOrder></m:SortOrder>`,
  );
  const expected: string[] = [];
  for (let i = 0; i < BULK; i++) if ((i < 10 || i % 3 === 1) && i % 2 === 0) expected.push(`bulk ${String(i).padStart(2, "0")} even`);
  expect(nested).toEqual(expected.sort());
  const late = await subjects(`<t:IsGreaterThanOrEqualTo>${field("item:DateTimeReceived")}<t:FieldURIOrConstant><t:Constant Value="2024-01-26T00:00:00Z"/></t:FieldURIOrConstant></t:IsGreaterThanOrEqualTo>`);
  expect(late.length).toBe(5);
  const unread = await subjects(`<t:IsEqualTo>${field("message:IsRead")}<t:FieldURIOrConstant><t:Constant Value="false"/></t:FieldURIOrConstant></t:IsEqualTo>`);
  expect(unread.length).toBe(BULK);
  const desc = await subjects(`<t:Exists>${field("item:Subject")}</t:Exists>`, `<m:SortOrder><t:FieldOrder Order="Descending">${field("item:Subject")}</t:FieldOrder></m:SortOrder>`);
  expect(desc[0]).toBe(`bulk ${BULK - 1} odd`);
  expect(desc[desc.length - 1]).toBe("bulk 00 even");
});

test("QueryString (Exchange 2013): words and subject:/from: terms", async () => {
  const folder = `<t:FolderId Id="${await archiveId()}"/>`;
  const q = async (s: string) => (await findItems(folder, `<m:QueryString>${s}</m:QueryString>`, shape("IdOnly", field("item:Subject")))).items.length;
  expect(await q("subject:odd")).toBe(BULK / 2);
  expect(await q("from:bulk2")).toBe(BULK / 3);
  expect(await q("even from:bulk0")).toBe(BULK / 6);
  expect(await q("nothing-like-this")).toBe(0);
  const old = await call(`<m:FindItem Traversal="Shallow">${shape("IdOnly")}<m:ParentFolderIds>${folder}</m:ParentFolderIds><m:QueryString>odd</m:QueryString></m:FindItem>`, { version: "Exchange2010_SP2" });
  expect(responseCodes(old.body)).toEqual(["ErrorInvalidRequest"]);
});

test("malformed and oversized restrictions: ErrorInvalidRestriction / ErrorRestrictionTooComplex, never a 500", async () => {
  const cases: [string, string][] = [
    [`<t:IsEqualTo>${field("item:Subject")}</t:IsEqualTo>`, "ErrorInvalidRestriction"],
    [`<t:Frobnicate/>`, "ErrorInvalidRestriction"],
    [`<t:Contains ContainmentMode="Sideways">${field("item:Subject")}<t:Constant Value="x"/></t:Contains>`, "ErrorInvalidRestriction"],
    [`<t:Not><t:Exists>${field("item:Subject")}</t:Exists><t:Exists>${field("item:Subject")}</t:Exists></t:Not>`, "ErrorInvalidRestriction"],
    [`<t:Excludes>${field("item:Size")}<t:Bitmask Value="zz"/></t:Excludes>`, "ErrorInvalidRestriction"],
    [`${"<t:Not>".repeat(40)}<t:Exists>${field("item:Subject")}</t:Exists>${"</t:Not>".repeat(40)}`, "ErrorRestrictionTooComplex"],
    [`<t:Or>${`<t:Exists>${field("item:Subject")}</t:Exists>`.repeat(600)}</t:Or>`, "ErrorRestrictionTooComplex"],
    [`<t:Exists><t:FieldURI/></t:Exists>`, "ErrorInvalidPropertyRequest"],
  ];
  for (const [r, code] of cases) {
    const res = await call(`<m:FindItem Traversal="Shallow">${shape("IdOnly")}<m:Restriction>${r}</m:Restriction><m:ParentFolderIds>${dist("inbox")}</m:ParentFolderIds></m:FindItem>`);
    expect(res.status).toBe(200);
    expect(responseCodes(res.body)).toEqual([code]);
  }
});

async function inboxIds(): Promise<Map<string, string>> {
  const { items } = await findItems(dist("inbox"), "", shape("IdOnly", field("item:Subject")));
  return new Map(items.map((i) => [text(i, "Subject")!, find(i, "ItemId")!.attrs.Id!]));
}

test("GetItem: Default has the body (HTML when there is one), attachments with ids, Importance from X-Priority", async () => {
  const ids = await inboxIds();
  const r = await call(`<m:GetItem>${shape("Default")}<m:ItemIds><t:ItemId Id="${ids.get("html with attachment")}"/><t:ItemId Id="${ids.get("hello over smtp")}"/></m:ItemIds></m:GetItem>`);
  expect(responseCodes(r.body)).toEqual(["NoError", "NoError"]);
  const [html, plain] = findAll(r.body, "Message");
  expect(find(html, "Body")!.attrs.BodyType).toBe("HTML");
  expect(text(html, "Body")).toContain("<b>part</b>");
  const att = find(html, "Attachments", "FileAttachment")!;
  expect(text(att, "Name")).toBe("data.bin");
  expect(text(att, "Size")).toBe("6");
  expect(find(att, "AttachmentId")!.attrs.RootItemId).toBe(ids.get("html with attachment")!);
  expect(text(html, "CcRecipients", "Mailbox", "Name")).toBe("Carl Cc");
  expect(text(html, "CcRecipients", "Mailbox", "MailboxType")).toBe("OneOff");
  expect(find(plain, "Body")!.attrs.BodyType).toBe("Text");
  expect(text(plain, "Body")).toContain("plain body one");
  expect(text(plain, "Importance")).toBe("High");
  const asText = await call(`<m:GetItem>${shape("IdOnly", field("item:Body"), "<t:BodyType>Text</t:BodyType>")}<m:ItemIds><t:ItemId Id="${ids.get("html with attachment")}"/></m:ItemIds></m:GetItem>`);
  expect(find(asText.body, "ResponseMessages", "GetItemResponseMessage", "Items", "Message", "Body")!.attrs.BodyType).toBe("Text");
  expect(text(find(asText.body, "ResponseMessages", "GetItemResponseMessage", "Items", "Message"), "Body")).toContain("text part");
});

test("GetItem MimeContent is the stored message byte for byte; AllProperties has headers", async () => {
  const ids = await inboxIds();
  const r = await call(`<m:GetItem><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape><t:IncludeMimeContent>true</t:IncludeMimeContent></m:ItemShape><m:ItemIds><t:ItemId Id="${ids.get("hello over smtp")}"/></m:ItemIds></m:GetItem>`);
  const msg = findAll(r.body, "Message")[0]!;
  const mime = Buffer.from(text(msg, "MimeContent")!, "base64").toString("utf8");
  expect(mime).toContain("Subject: hello over smtp");
  expect(mime).toContain("plain body one");
  const headers = findAll(msg, "InternetMessageHeader").map((h) => h.attrs.HeaderName);
  expect(headers).toContain("Subject");
  expect(text(msg, "ItemClass")).toBe("IPM.Note");
  expect(text(msg, "DateTimeSent")).toMatch(/Z$/);
});

test("GetItem ids: missing, malformed, another mailbox's, too many", async () => {
  const ids = await inboxIds();
  const own = ids.get("hello over smtp")!;
  const forged = Buffer.from(`I:${accounts[0]!.id}:M:999999`).toString("base64");
  const r = await call(`<m:GetItem>${shape("IdOnly")}<m:ItemIds><t:ItemId Id="${own}"/><t:ItemId Id="${forged}"/><t:ItemId Id="not-an-id!"/><t:ItemId Id=""/></m:ItemIds></m:GetItem>`);
  expect(responseCodes(r.body)).toEqual(["NoError", "ErrorItemNotFound", "ErrorInvalidIdMalformed", "ErrorInvalidIdEmpty"]);
  const other = await env.call(OTHER, OTHER_PASS, `<m:GetItem>${shape("Default")}<m:ItemIds><t:ItemId Id="${own}"/></m:ItemIds></m:GetItem>`);
  expect(responseCodes(other.body)).toEqual(["ErrorItemNotFound"]);
  const many = await call(`<m:GetItem>${shape("IdOnly")}<m:ItemIds>${`<t:ItemId Id="${own}"/>`.repeat(1001)}</m:ItemIds></m:GetItem>`);
  expect(many.status).toBe(200);
  expect(responseCodes(many.body)).toEqual(["ErrorExceededFindCountLimit"]);
});

test("an IMAP flag change is GetItem's IsRead and Flag; the same id after an IMAP MOVE", async () => {
  const ids = await inboxIds();
  const id = ids.get("hello over smtp")!;
  const get = async () => findAll((await call(`<m:GetItem>${shape("IdOnly", field("message:IsRead") + field("item:Flag") + field("item:ParentFolderId"))}<m:ItemIds><t:ItemId Id="${id}"/></m:ItemIds></m:GetItem>`)).body, "Message")[0];
  expect(text(await get(), "IsRead")).toBe("false");
  expect((await imap.cmd("SELECT INBOX")).status).toBe("OK");
  const search = await imap.cmd("UID SEARCH HEADER Message-ID smtp-1@example.test");
  const uid = search.untagged.join(" ").match(/SEARCH (\d+)/)![1];
  expect((await imap.cmd(`UID STORE ${uid} +FLAGS (\\Seen \\Flagged)`)).status).toBe("OK");
  const after = await get();
  expect(text(after, "IsRead")).toBe("true");
  expect(text(after, "Flag", "FlagStatus")).toBe("Flagged");
  const parentBefore = find(after, "ParentFolderId")!.attrs.Id;
  expect((await imap.cmd(`UID MOVE ${uid} Archive`)).status).toBe("OK");
  const moved = await get();
  expect(text(moved, "IsRead")).toBe("true");
  expect(find(moved, "ParentFolderId")!.attrs.Id).not.toBe(parentBefore);
  expect((await imap.cmd(`SELECT Archive`)).status).toBe("OK");
  const back = await imap.cmd("UID SEARCH HEADER Message-ID smtp-1@example.test");
  expect((await imap.cmd(`UID MOVE ${back.untagged.join(" ").match(/SEARCH (\d+)/)![1]} INBOX`)).status).toBe("OK");
});

test("extended properties: stored ones read back typed; computed MAPI tags; unknown ones left out", async () => {
  const ids = await inboxIds();
  const id = ids.get("html with attachment")!;
  const storeId = Number(Buffer.from(id, "base64").toString().split(":")[3]);
  await env.srv.store.setProperties({ itemId: storeId }, [
    { key: { set: "c11ff724-aa03-4555-9952-8fa248a11c3e", name: "External ID" }, type: "string", value: "ext-42" },
    { key: { set: "00020329-0000-0000-c000-000000000046", name: "Numbers" }, type: "int", multi: true, value: [3, 1, 2] },
  ]);
  const ext =
    `<t:ExtendedFieldURI PropertySetId="c11ff724-aa03-4555-9952-8fa248a11c3e" PropertyName="External ID" PropertyType="String"/>` +
    `<t:ExtendedFieldURI DistinguishedPropertySetId="PublicStrings" PropertyName="Numbers" PropertyType="IntegerArray"/>` +
    `<t:ExtendedFieldURI PropertyTag="0x0e08" PropertyType="Integer"/>` +
    `<t:ExtendedFieldURI PropertyTag="0x0e07" PropertyType="Integer"/>` +
    `<t:ExtendedFieldURI DistinguishedPropertySetId="PublicStrings" PropertyName="Absent" PropertyType="String"/>`;
  const r = await call(`<m:GetItem>${shape("IdOnly", ext)}<m:ItemIds><t:ItemId Id="${id}"/></m:ItemIds></m:GetItem>`);
  const props = findAll(r.body, "ExtendedProperty");
  expect(props.length).toBe(4);
  expect(text(props[0], "Value")).toBe("ext-42");
  expect(findAll(props[1]!, "Value").map((v) => v.text)).toEqual(["3", "1", "2"]);
  expect(Number(text(props[2], "Value"))).toBeGreaterThan(100);
  expect(Number(text(props[3], "Value")) & 0x10).toBe(0x10); // MSGFLAG_HASATTACH
  expect(find(props[2], "ExtendedFieldURI")!.attrs.PropertyTag).toBe("0xe08");
  const bad = await call(`<m:GetItem>${shape("IdOnly", `<t:ExtendedFieldURI PropertyTag="0x0e08"/>`)}<m:ItemIds><t:ItemId Id="${id}"/></m:ItemIds></m:GetItem>`);
  expect(responseCodes(bad.body)).toEqual(["ErrorInvalidExtendedProperty"]);
  // A restriction on a stored extended property.
  const found = await findItems(dist("inbox"), `<m:Restriction><t:IsEqualTo><t:ExtendedFieldURI PropertySetId="c11ff724-aa03-4555-9952-8fa248a11c3e" PropertyName="External ID" PropertyType="String"/><t:FieldURIOrConstant><t:Constant Value="ext-42"/></t:FieldURIOrConstant></t:IsEqualTo></m:Restriction>`, shape("IdOnly"));
  expect(found.items.map((i) => find(i, "ItemId")!.attrs.Id)).toEqual([id]);
});

test("FindItem on the mailbox root, Associated traversal, Deep traversal, unknown folder", async () => {
  expect((await findItems(dist("root"))).items.length).toBe(0);
  expect((await findItems(dist("inbox"))).r.status).toBe(200);
  const assoc = await call(`<m:FindItem Traversal="Associated">${shape("IdOnly")}<m:ParentFolderIds>${dist("inbox")}</m:ParentFolderIds></m:FindItem>`);
  expect(responseCodes(assoc.body)).toEqual(["NoError"]);
  expect(findAll(assoc.body, "Message").length).toBe(0);
  const deep = await call(`<m:FindItem Traversal="Deep">${shape("IdOnly")}<m:ParentFolderIds>${dist("inbox")}</m:ParentFolderIds></m:FindItem>`);
  expect(responseCodes(deep.body)).toEqual(["ErrorInvalidRequest"]);
  const missing = await call(`<m:FindItem Traversal="Shallow">${shape("IdOnly")}<m:ParentFolderIds>${dist("voicemail")}<t:FolderId Id="garbage"/></m:ParentFolderIds></m:FindItem>`);
  expect(responseCodes(missing.body)).toEqual(["ErrorFolderNotFound", "ErrorInvalidIdMalformed"]);
  const noShape = await call(`<m:FindItem Traversal="Shallow"><m:ParentFolderIds>${dist("inbox")}</m:ParentFolderIds></m:FindItem>`);
  expect(responseCodes(noShape.body)).toEqual(["ErrorInvalidRequest"]);
});

test("a page after a change sees it: a new message and an IMAP flag change between two FindItem calls", async () => {
  const folder = `<t:FolderId Id="${await archiveId()}"/>`;
  const unreadQ = `<m:IndexedPageItemView MaxEntriesReturned="5" Offset="0" BasePoint="Beginning"/><m:Restriction><t:IsEqualTo>${field("message:IsRead")}<t:FieldURIOrConstant><t:Constant Value="false"/></t:FieldURIOrConstant></t:IsEqualTo></m:Restriction>`;
  const before = await findItems(folder, unreadQ, shape("IdOnly"));
  const total = Number(before.root!.attrs.TotalItemsInView);
  await env.srv.store.deliver(new TextEncoder().encode(`From: late@example.test\r\nTo: ${USER}\r\nSubject: late arrival\r\n\r\nx\r\n`), [{ accountId: accounts[0]!.id, folder: "Archive" }], { internalDate: Date.UTC(2030, 0, 1) });
  const after = await findItems(folder, unreadQ, shape("IdOnly", field("item:Subject")));
  expect(Number(after.root!.attrs.TotalItemsInView)).toBe(total + 1);
  expect(text(after.items[0], "Subject")).toBe("late arrival");
  expect((await imap.cmd("SELECT Archive")).status).toBe("OK");
  expect((await imap.cmd(`UID STORE 1:* +FLAGS (\\Seen)`)).status).toBe("OK");
  const none = await findItems(folder, unreadQ, shape("IdOnly"));
  expect(none.root!.attrs.TotalItemsInView).toBe("0");
  expect((await imap.cmd(`UID STORE 1:* -FLAGS (\\Seen)`)).status).toBe("OK");
});

test("computed extended properties: internet header fields by name, PidTagUrlCompName, PidNameKeywords from IMAP keywords", async () => {
  const ids = await inboxIds();
  const id = ids.get("hello over smtp")!;
  expect((await imap.cmd("SELECT INBOX")).status).toBe("OK");
  const uid = (await imap.cmd("UID SEARCH HEADER Message-ID smtp-1@example.test")).untagged.join(" ").match(/SEARCH (\d+)/)![1];
  expect((await imap.cmd(`UID STORE ${uid} +FLAGS (Project-X)`)).status).toBe("OK");
  const ext =
    `<t:ExtendedFieldURI DistinguishedPropertySetId="InternetHeaders" PropertyName="X-Priority" PropertyType="String"/>` +
    `<t:ExtendedFieldURI PropertyTag="0x10f3" PropertyType="String"/>` +
    `<t:ExtendedFieldURI DistinguishedPropertySetId="PublicStrings" PropertyName="Keywords" PropertyType="StringArray"/>`;
  const r = await call(`<m:GetItem>${shape("IdOnly", ext + field("item:Categories"))}<m:ItemIds><t:ItemId Id="${id}"/></m:ItemIds></m:GetItem>`);
  const props = findAll(r.body, "ExtendedProperty");
  expect(props.map((p) => find(p, "ExtendedFieldURI")!.attrs.PropertyName ?? find(p, "ExtendedFieldURI")!.attrs.PropertyTag)).toEqual(["X-Priority", "0x10f3", "Keywords"]);
  expect(text(props[0], "Value")).toBe("1");
  expect(text(props[1], "Value")).toMatch(/^\d+\.EML$/);
  expect(findAll(props[2]!, "Value").map((v) => v.text)).toEqual(["Project-X"]);
  expect(findAll(find(r.body, "ResponseMessages", "GetItemResponseMessage", "Items", "Message", "Categories")!, "String").map((s) => s.text)).toEqual(["Project-X"]);
  const byHeader = await findItems(dist("inbox"), `<m:Restriction><t:IsEqualTo><t:ExtendedFieldURI DistinguishedPropertySetId="InternetHeaders" PropertyName="X-Priority" PropertyType="String"/><t:FieldURIOrConstant><t:Constant Value="1"/></t:FieldURIOrConstant></t:IsEqualTo></m:Restriction>`, shape("IdOnly"));
  expect(byHeader.items.map((i) => find(i, "ItemId")!.attrs.Id)).toEqual([id]);
  expect((await imap.cmd(`UID STORE ${uid} -FLAGS (Project-X)`)).status).toBe("OK");
});

test("ContactsView: display names between InitialName and FinalName, in name order; CalendarView on a mail folder is refused", async () => {
  for (const name of ["Zoe Zimmer", "Anna Adams", "Mark Miller", "Bert Brown"]) {
    const r = await call(`<m:CreateItem><m:SavedItemFolderId>${dist("contacts")}</m:SavedItemFolderId><m:Items><t:Contact><t:FileAs>${name}</t:FileAs><t:DisplayName>${name}</t:DisplayName><t:GivenName>${name.split(" ")[0]}</t:GivenName><t:Surname>${name.split(" ")[1]}</t:Surname></t:Contact></m:Items></m:CreateItem>`);
    expect(responseCodes(r.body)).toEqual(["NoError"]);
  }
  const view = await findItems(dist("contacts"), `<m:ContactsView MaxEntriesReturned="10" InitialName="B" FinalName="N"/>`, shape("IdOnly", field("contacts:DisplayName")));
  expect(view.code).toBe("NoError");
  expect(view.items.map((i) => text(i, "DisplayName"))).toEqual(["Bert Brown", "Mark Miller"]);
  const all = await findItems(dist("contacts"), `<m:ContactsView MaxEntriesReturned="2"/>`, shape("IdOnly", field("contacts:DisplayName")));
  expect(all.items.map((i) => text(i, "DisplayName"))).toEqual(["Anna Adams", "Bert Brown"]);
  expect(all.root!.attrs.IncludesLastItemInRange).toBe("false");
  const cal = await findItems(dist("inbox"), `<m:CalendarView StartDate="2024-01-01T00:00:00Z" EndDate="2024-02-01T00:00:00Z"/>`, shape("IdOnly"));
  expect(cal.code).toBe("ErrorCalendarFolderIsInvalidForCalendarView");
  const backwards = await findItems(dist("calendar"), `<m:CalendarView StartDate="2024-02-01T00:00:00Z" EndDate="2024-01-01T00:00:00Z"/>`, shape("IdOnly"));
  expect(backwards.code).toBe("ErrorCalendarEndDateIsEarlierThanStartDate");
});

test("RequestServerVersion shapes the message: no Flag before Exchange 2013, no ConversationId before 2010", async () => {
  const ids = await inboxIds();
  const req = `<m:GetItem>${shape("IdOnly", field("item:Flag") + field("item:ConversationId") + field("item:Subject"))}<m:ItemIds><t:ItemId Id="${ids.get("hello over smtp")}"/></m:ItemIds></m:GetItem>`;
  const v2016 = findAll((await call(req)).body, "Message")[0];
  expect(find(v2016, "Flag")).toBeDefined();
  expect(find(v2016, "ConversationId")).toBeDefined();
  const v2010 = findAll((await call(req, { version: "Exchange2010_SP2" })).body, "Message")[0];
  expect(find(v2010, "Flag")).toBeUndefined();
  expect(find(v2010, "ConversationId")).toBeDefined();
  const v2007 = findAll((await call(req, { version: "Exchange2007_SP1" })).body, "Message")[0];
  expect(find(v2007, "ConversationId")).toBeUndefined();
  expect(text(v2007, "Subject")).toBe("hello over smtp");
});

test("Contains on item:Body: by the text index ignoring case, and exact case by reading the bodies", async () => {
  const folder = `<t:FolderId Id="${await archiveId()}"/>`;
  const body = (value: string, cmp: string) => `<m:Restriction><t:Contains ContainmentMode="Substring" ContainmentComparison="${cmp}">${field("item:Body")}<t:Constant Value="${value}"/></t:Contains></m:Restriction>`;
  const subjects = async (r: string) => (await findItems(folder, r, shape("IdOnly", field("item:Subject")))).items.map((i) => text(i, "Subject")).sort();
  expect(await subjects(body("BULK BODY 17", "IgnoreCase"))).toEqual(["bulk 17 odd"]);
  expect(await subjects(body("body 2", "IgnoreCase"))).toEqual(["bulk 02 even", "bulk 20 even", "bulk 21 odd", "bulk 22 even", "bulk 23 odd", "bulk 24 even", "bulk 25 odd", "bulk 26 even", "bulk 27 odd", "bulk 28 even", "bulk 29 odd"]);
  expect(await subjects(body("BULK BODY 17", "Exact"))).toEqual([]);
  expect(await subjects(body("bulk body 17", "Exact"))).toEqual(["bulk 17 odd"]);
  const notBody = await subjects(`<m:Restriction><t:Not><t:Contains ContainmentMode="Substring" ContainmentComparison="IgnoreCase">${field("item:Body")}<t:Constant Value="body 1"/></t:Contains></t:Not></m:Restriction>`);
  expect(notBody.length).toBe(BULK + 1 - 11);
});

test("IdOnly pages (from the summaries) give ids GetItem resolves, in the same order as a Default page", async () => {
  const folder = `<t:FolderId Id="${await archiveId()}"/>`;
  const view = `<m:IndexedPageItemView MaxEntriesReturned="10" Offset="3" BasePoint="Beginning"/>`;
  const ids = (await findItems(folder, view, shape("IdOnly"))).items.map((i) => find(i, "ItemId")!.attrs.Id!);
  const full = (await findItems(folder, view, shape("Default"))).items.map((i) => find(i, "ItemId")!.attrs.Id!);
  expect(ids.length).toBe(10);
  expect(ids).toEqual(full);
  const got = await call(`<m:GetItem>${shape("IdOnly")}<m:ItemIds>${ids.map((id) => `<t:ItemId Id="${id}"/>`).join("")}</m:ItemIds></m:GetItem>`);
  expect(responseCodes(got.body)).toEqual(ids.map(() => "NoError"));
});
