/**
 * EWS folder operations over real sockets (MS-OXWSFOLD): GetFolder,
 * FindFolder, CreateFolder, CreateFolderPath, UpdateFolder, DeleteFolder,
 * EmptyFolder, MoveFolder; cross-checked over IMAP (a folder made over EWS is
 * in IMAP LIST, one made over IMAP is found over EWS) and the groupware
 * collections (a CalendarFolder is a calendar CalDAV sees).
 */
import { expect, test } from "bun:test";
import { sendMail } from "../backup/helpers.ts";
import { ewsFixture, find, findAll, responseCodes, type XmlElement } from "./helpers.ts";

const USER = "fola@example.test";
const PASS = "folders-password-1";
const { env, accounts, imap } = ewsFixture({ users: [{ email: USER, pass: PASS }, { email: "other@example.test", pass: "other-password-1" }], imap: true });

const call = (xml: string, version?: string) => env.call(USER, PASS, xml, { version });

const shape = (base = "AllProperties", extra = "") => `<m:FolderShape><t:BaseShape>${base}</t:BaseShape>${extra}</m:FolderShape>`;

/** The folder elements (any class) of a response. */
function folders(body: XmlElement): XmlElement[] {
  return findAll(body, "Folders").flatMap((f) => f.children);
}

function text(el: XmlElement | undefined, name: string): string | undefined {
  return el?.children.find((k) => k.name === name)?.text;
}

async function getDistinguished(id: string, base = "AllProperties", version?: string): Promise<XmlElement> {
  const r = await call(`<m:GetFolder>${shape(base)}<m:FolderIds><t:DistinguishedFolderId Id="${id}"/></m:FolderIds></m:GetFolder>`, version);
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  return folders(r.body)[0]!;
}

async function imapList(): Promise<string[]> {
  const r = await imap.cmd(`LIST "" "*"`);
  expect(r.status).toBe("OK");
  // * LIST (\HasNoChildren) "/" "INBOX/Receipts" (or an atom as the last word)
  return r.untagged.map((l) => {
    const q = /"((?:[^"\\]|\\.)*)"\s*$/.exec(l);
    return q ? q[1]! : l.slice(l.lastIndexOf(" ") + 1);
  });
}

async function createFolder(parentXml: string, folderXml: string): Promise<{ codes: string[]; id?: string; body: XmlElement }> {
  const r = await call(`<m:CreateFolder><m:ParentFolderId>${parentXml}</m:ParentFolderId><m:Folders>${folderXml}</m:Folders></m:CreateFolder>`);
  const f = folders(r.body)[0];
  return { codes: responseCodes(r.body), id: f?.children.find((k) => k.name === "FolderId")?.attrs.Id, body: r.body };
}

const dist = (id: string) => `<t:DistinguishedFolderId Id="${id}"/>`;
const fid = (id: string) => `<t:FolderId Id="${id}"/>`;

test("GetFolder: the distinguished folders with their element, class, parent and distinguished id", async () => {
  const root = await getDistinguished("root");
  const top = await getDistinguished("msgfolderroot");
  const inbox = await getDistinguished("inbox");
  expect(top.name).toBe("Folder");
  expect(text(top, "DisplayName")).toBe("Top of Information Store");
  expect(find(top, "ParentFolderId")!.attrs.Id).toBe(find(root, "FolderId")!.attrs.Id);
  expect(find(root, "ParentFolderId")).toBeUndefined();
  expect(inbox.name).toBe("Folder");
  expect(text(inbox, "FolderClass")).toBe("IPF.Note");
  expect(text(inbox, "DisplayName")).toBe("INBOX");
  expect(text(inbox, "DistinguishedFolderId")).toBe("inbox");
  expect(find(inbox, "ParentFolderId")!.attrs.Id).toBe(find(top, "FolderId")!.attrs.Id);
  expect(text(inbox, "UnreadCount")).toBe("0");
  expect(find(inbox, "EffectiveRights", "CreateContents")?.text).toBe("true");
  const expected: [string, string, string][] = [
    ["calendar", "CalendarFolder", "IPF.Appointment"],
    ["contacts", "ContactsFolder", "IPF.Contact"],
    ["tasks", "TasksFolder", "IPF.Task"],
    ["notes", "Folder", "IPF.StickyNote"],
    ["sentitems", "Folder", "IPF.Note"],
    ["deleteditems", "Folder", "IPF.Note"],
  ];
  for (const [id, el, cls] of expected) {
    const f = await getDistinguished(id);
    expect(f.name).toBe(el);
    expect(text(f, "FolderClass")).toBe(cls);
    expect(text(f, "DistinguishedFolderId")).toBe(id);
    if (el === "CalendarFolder" || el === "ContactsFolder") expect(text(f, "UnreadCount")).toBeUndefined();
  }
  // the recoverable-items Deletions folder: there (exchangelib's soft_delete looks it up), empty, under the root, nothing made in it
  const deletions = await getDistinguished("recoverableitemsdeletions");
  expect(text(deletions, "DisplayName")).toBe("Deletions");
  expect(text(deletions, "TotalCount")).toBe("0");
  expect(find(deletions, "ParentFolderId")!.attrs.Id).toBe(find(root, "FolderId")!.attrs.Id);
  const made = await call(`<m:CreateFolder><m:ParentFolderId>${dist("recoverableitemsdeletions")}</m:ParentFolderId><m:Folders><t:Folder><t:DisplayName>x</t:DisplayName></t:Folder></m:Folders></m:CreateFolder>`);
  expect(responseCodes(made.body)).toEqual(["ErrorInvalidParentFolder"]);
  const again = await call(`<m:GetFolder>${shape("IdOnly")}<m:FolderIds>${fid(find(deletions, "FolderId")!.attrs.Id!)}</m:FolderIds></m:GetFolder>`);
  expect(responseCodes(again.body)).toEqual(["NoError"]);
  // Exchange 2010 SP2 has no DistinguishedFolderId element (Types.xsd 2013+)
  const old = await getDistinguished("inbox", "AllProperties", "Exchange2010_SP2");
  expect(text(old, "DistinguishedFolderId")).toBeUndefined();
});

test("GetFolder: shapes (IdOnly, Default, additional properties, PermissionSet only when asked)", async () => {
  const idOnly = await getDistinguished("inbox", "IdOnly");
  expect(idOnly.children.map((k) => k.name)).toEqual(["FolderId"]);
  const def = await getDistinguished("inbox", "Default");
  expect(def.children.map((k) => k.name)).toEqual(["FolderId", "DisplayName", "TotalCount", "ChildFolderCount", "UnreadCount"]);
  expect(find(def, "PermissionSet")).toBeUndefined();
  const r = await call(
    `<m:GetFolder>${shape("IdOnly", `<t:AdditionalProperties><t:FieldURI FieldURI="folder:PermissionSet"/><t:FieldURI FieldURI="folder:FolderClass"/></t:AdditionalProperties>`)}<m:FolderIds>${dist("calendar")}${dist("inbox")}</m:FolderIds></m:GetFolder>`,
  );
  const [cal, inbox] = folders(r.body);
  expect(find(cal, "PermissionSet", "CalendarPermissions")).toBeDefined();
  expect(find(inbox, "PermissionSet", "Permissions", "Permission", "PermissionLevel")?.text).toBe("None");
  expect(text(inbox, "FolderClass")).toBe("IPF.Note");
  // an item field in a folder shape
  const bad = await call(`<m:GetFolder>${shape("IdOnly", `<t:AdditionalProperties><t:FieldURI FieldURI="item:Subject"/></t:AdditionalProperties>`)}<m:FolderIds>${dist("inbox")}</m:FolderIds></m:GetFolder>`);
  expect(responseCodes(bad.body)).toEqual(["ErrorInvalidPropertyRequest"]);
});

test("GetFolder: one message per id, errors per id (unknown distinguished, malformed, another mailbox's, someone else's mailbox)", async () => {
  const other = await env.call("other@example.test", "other-password-1", `<m:GetFolder>${shape("IdOnly")}<m:FolderIds>${dist("inbox")}</m:FolderIds></m:GetFolder>`);
  const otherInbox = folders(other.body)[0]!.children[0]!.attrs.Id!;
  const r = await call(
    `<m:GetFolder>${shape("IdOnly")}<m:FolderIds>${dist("inbox")}${dist("voicemail")}${fid("not-an-id!")}${fid(otherInbox)}<t:DistinguishedFolderId Id="inbox"><t:Mailbox><t:EmailAddress>other@example.test</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId></m:FolderIds></m:GetFolder>`,
  );
  expect(r.status).toBe(200);
  expect(responseCodes(r.body)).toEqual(["NoError", "ErrorFolderNotFound", "ErrorInvalidIdMalformed", "ErrorFolderNotFound", "ErrorNonExistentMailbox"]);
  const none = await call(`<m:GetFolder>${shape("IdOnly")}<m:FolderIds/></m:GetFolder>`);
  expect(responseCodes(none.body)).toEqual(["ErrorInvalidRequest"]);
  const noShape = await call(`<m:GetFolder><m:FolderIds>${dist("inbox")}</m:FolderIds></m:GetFolder>`);
  expect(responseCodes(noShape.body)).toEqual(["ErrorInvalidRequest"]);
});

test("a folder made over IMAP is found by FindFolder; FindFolder Shallow/Deep, paging, restriction", async () => {
  expect((await imap.cmd(`CREATE "Projects/Alpha"`)).status).toBe("OK");
  expect((await imap.cmd(`CREATE "Projects/Beta"`)).status).toBe("OK");
  const shallowRoot = await call(`<m:FindFolder Traversal="Shallow">${shape("Default")}<m:ParentFolderIds>${dist("root")}</m:ParentFolderIds></m:FindFolder>`);
  expect(folders(shallowRoot.body).map((f) => text(f, "DisplayName"))).toEqual(["Top of Information Store"]);

  const deep = await call(`<m:FindFolder Traversal="Deep">${shape("AllProperties")}<m:ParentFolderIds>${dist("msgfolderroot")}</m:ParentFolderIds></m:FindFolder>`);
  const names = folders(deep.body).map((f) => text(f, "DisplayName"));
  for (const n of ["INBOX", "Projects", "Alpha", "Beta", "Calendar", "Contacts", "Tasks", "Notes"]) expect(names).toContain(n);
  // the scheduling inbox/outbox are not collections: hidden
  expect(folders(deep.body).filter((f) => f.name === "CalendarFolder").map((f) => text(f, "DisplayName"))).toEqual(["Calendar"]);
  const rootFolder = find(deep.body, "ResponseMessages", "FindFolderResponseMessage", "RootFolder")!;
  expect(rootFolder.attrs.TotalItemsInView).toBe(String(names.length));
  expect(rootFolder.attrs.IncludesLastItemInRange).toBe("true");
  const projects = folders(deep.body).find((f) => text(f, "DisplayName") === "Projects")!;
  expect(text(projects, "ChildFolderCount")).toBe("2");

  const page = async (offset: number) => {
    const r = await call(
      `<m:FindFolder Traversal="Deep">${shape("Default")}<m:IndexedPageFolderView MaxEntriesReturned="3" Offset="${offset}" BasePoint="Beginning"/><m:ParentFolderIds>${dist("msgfolderroot")}</m:ParentFolderIds></m:FindFolder>`,
    );
    return { root: find(r.body, "ResponseMessages", "FindFolderResponseMessage", "RootFolder")!, names: folders(r.body).map((f) => text(f, "DisplayName")) };
  };
  const all: (string | undefined)[] = [];
  for (let off = 0, i = 0; i < 20; i++) {
    const p = await page(off);
    all.push(...p.names);
    off = Number(p.root.attrs.IndexedPagingOffset);
    if (p.root.attrs.IncludesLastItemInRange === "true") break;
    expect(p.names.length).toBe(3);
  }
  expect(all).toEqual(names);

  const restricted = await call(
    `<m:FindFolder Traversal="Deep">${shape("Default")}<m:Restriction><t:Or><t:IsEqualTo><t:FieldURI FieldURI="folder:DisplayName"/><t:FieldURIOrConstant><t:Constant Value="alpha"/></t:FieldURIOrConstant></t:IsEqualTo><t:Contains ContainmentMode="Prefixed" ContainmentComparison="IgnoreCase"><t:FieldURI FieldURI="folder:DisplayName"/><t:Constant Value="BE"/></t:Contains></t:Or></m:Restriction><m:ParentFolderIds>${dist("msgfolderroot")}</m:ParentFolderIds></m:FindFolder>`,
  );
  expect(folders(restricted.body).map((f) => text(f, "DisplayName"))).toEqual(["Alpha", "Beta"]);
  const byClass = await call(
    `<m:FindFolder Traversal="Deep">${shape("Default")}<m:Restriction><t:IsEqualTo><t:FieldURI FieldURI="folder:FolderClass"/><t:FieldURIOrConstant><t:Constant Value="IPF.Task"/></t:FieldURIOrConstant></t:IsEqualTo></m:Restriction><m:ParentFolderIds>${dist("msgfolderroot")}</m:ParentFolderIds></m:FindFolder>`,
  );
  expect(folders(byClass.body).map((f) => f.name)).toEqual(["TasksFolder"]);

  const badR = await call(`<m:FindFolder Traversal="Shallow">${shape("Default")}<m:Restriction><t:Frobnicate/></m:Restriction><m:ParentFolderIds>${dist("inbox")}</m:ParentFolderIds></m:FindFolder>`);
  expect(responseCodes(badR.body)).toEqual(["ErrorInvalidRestriction"]);
  let deepNot = `<t:Exists><t:FieldURI FieldURI="folder:DisplayName"/></t:Exists>`;
  for (let i = 0; i < 40; i++) deepNot = `<t:Not>${deepNot}</t:Not>`;
  const tooDeep = await call(`<m:FindFolder Traversal="Shallow">${shape("Default")}<m:Restriction>${deepNot}</m:Restriction><m:ParentFolderIds>${dist("inbox")}</m:ParentFolderIds></m:FindFolder>`);
  expect(responseCodes(tooDeep.body)).toEqual(["ErrorRestrictionTooComplex"]);
  const soft = await call(`<m:FindFolder Traversal="SoftDeleted">${shape("Default")}<m:ParentFolderIds>${dist("inbox")}</m:ParentFolderIds></m:FindFolder>`);
  expect(responseCodes(soft.body)).toEqual(["ErrorInvalidRequest"]);
  // BasePoint End counts back from the last folder; FractionalPageFolderView starts at Numerator/Denominator of the view
  const end = await call(`<m:FindFolder Traversal="Deep">${shape("Default")}<m:IndexedPageFolderView MaxEntriesReturned="2" Offset="0" BasePoint="End"/><m:ParentFolderIds>${dist("msgfolderroot")}</m:ParentFolderIds></m:FindFolder>`);
  expect(folders(end.body).map((f) => text(f, "DisplayName"))).toEqual(names.slice(-2));
  const half = await call(`<m:FindFolder Traversal="Deep">${shape("Default")}<m:FractionalPageFolderView MaxEntriesReturned="1000" Numerator="1" Denominator="2"/><m:ParentFolderIds>${dist("msgfolderroot")}</m:ParentFolderIds></m:FindFolder>`);
  expect(folders(half.body).map((f) => text(f, "DisplayName"))).toEqual(names.slice(Math.floor(names.length / 2)));
  expect(find(half.body, "ResponseMessages", "FindFolderResponseMessage", "RootFolder")!.attrs.AbsoluteDenominator).toBe(String(names.length));
  const badFraction = await call(`<m:FindFolder Traversal="Deep">${shape("Default")}<m:FractionalPageFolderView MaxEntriesReturned="10" Numerator="3" Denominator="2"/><m:ParentFolderIds>${dist("msgfolderroot")}</m:ParentFolderIds></m:FindFolder>`);
  expect(responseCodes(badFraction.body)).toEqual(["ErrorInvalidRequest"]);
  const badView = await call(`<m:FindFolder Traversal="Shallow">${shape("Default")}<m:IndexedPageFolderView MaxEntriesReturned="0" Offset="0" BasePoint="Beginning"/><m:ParentFolderIds>${dist("inbox")}</m:ParentFolderIds></m:FindFolder>`);
  expect(responseCodes(badView.body)).toEqual(["ErrorInvalidRequest"]);
});

test("FindFolder as DavMail asks: MAPI folder tags in the restriction and as additional properties", async () => {
  const tag = (t: string, type: string) => `<t:ExtendedFieldURI PropertyTag="${t}" PropertyType="${type}"/>`;
  const cls = tag("0x3613", "String");
  const props = [cls, tag("0x3602", "Integer"), tag("0x3603", "Integer"), tag("0x360a", "Boolean"), tag("0x10f3", "String"), tag("0x3008", "SystemTime"), tag("0x670a", "SystemTime"), tag("0x6751", "Integer"), tag("0x6752", "Integer")].join("");
  const req = `<m:FindFolder Traversal="Shallow">${shape("IdOnly", `<t:AdditionalProperties><t:FieldURI FieldURI="folder:DisplayName"/>${props}</t:AdditionalProperties>`)}<m:IndexedPageFolderView MaxEntriesReturned="500" Offset="0" BasePoint="Beginning"/><m:Restriction><t:Or><t:IsEqualTo>${cls}<t:FieldURIOrConstant><t:Constant Value="IPF.Note"/></t:FieldURIOrConstant></t:IsEqualTo><t:IsEqualTo>${cls}<t:FieldURIOrConstant><t:Constant Value="IPF.Note.Microsoft.Conversation"/></t:FieldURIOrConstant></t:IsEqualTo><t:Not><t:Exists>${cls}</t:Exists></t:Not></t:Or></m:Restriction><m:ParentFolderIds>${dist("msgfolderroot")}</m:ParentFolderIds></m:FindFolder>`;
  const before = await call(req);
  expect(responseCodes(before.body)).toEqual(["NoError"]);
  const list = folders(before.body);
  // mail folders only: no calendar, contacts, tasks or notes
  expect(list.every((f) => f.name === "Folder")).toBe(true);
  const names = list.map((f) => text(f, "DisplayName"));
  expect(names).toContain("INBOX");
  expect(names).not.toContain("Notes");
  const inbox = list.find((f) => text(f, "DisplayName") === "INBOX")!;
  const value = (f: XmlElement, t: string) => f.children.filter((k) => k.name === "ExtendedProperty").find((p) => find(p, "ExtendedFieldURI")?.attrs.PropertyTag === t)?.children.find((k) => k.name === "Value")?.text;
  expect(value(inbox, "0x3613")).toBe("IPF.Note");
  expect(value(inbox, "0x10f3")).toBe("INBOX");
  const ctag = value(inbox, "0x670a");
  expect(ctag).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  const total = Number(value(inbox, "0x3602"));
  // a delivery changes the collection tag, the counts and the next UID
  expect(await sendMail(env.srv.port("SMTP"), USER, `From: d@example.test\r\nTo: ${USER}\r\nSubject: ctag\r\n\r\nx\r\n`)).toBe(250);
  const after = folders((await call(req)).body).find((f) => text(f, "DisplayName") === "INBOX")!;
  expect(value(after, "0x670a")).not.toBe(ctag);
  expect(Number(value(after, "0x3602"))).toBe(total + 1);
  expect(Number(value(after, "0x6751"))).toBeGreaterThan(Number(value(inbox, "0x6751")));
});

test("CreateFolder: a mail folder under Inbox is in IMAP LIST; duplicates, bad names, wrong parents and search folders refused", async () => {
  const c = await createFolder(dist("inbox"), `<t:Folder><t:FolderClass>IPF.Note</t:FolderClass><t:DisplayName>Receipts</t:DisplayName></t:Folder>`);
  expect(c.codes).toEqual(["NoError"]);
  expect(await imapList()).toContain("INBOX/Receipts");
  const f = await env.call(USER, PASS, `<m:GetFolder>${shape("AllProperties")}<m:FolderIds>${fid(c.id!)}</m:FolderIds></m:GetFolder>`);
  const inbox = await getDistinguished("inbox", "IdOnly");
  expect(find(folders(f.body)[0], "ParentFolderId")!.attrs.Id).toBe(find(inbox, "FolderId")!.attrs.Id);

  expect((await createFolder(dist("inbox"), `<t:Folder><t:DisplayName>Receipts</t:DisplayName></t:Folder>`)).codes).toEqual(["ErrorFolderExists"]);
  expect((await createFolder(dist("inbox"), `<t:Folder><t:DisplayName>a/b</t:DisplayName></t:Folder>`)).codes).toEqual(["ErrorFolderSavePropertyError"]);
  expect((await createFolder(dist("inbox"), `<t:Folder><t:DisplayName>  </t:DisplayName></t:Folder>`)).codes).toEqual(["ErrorFolderSavePropertyError"]);
  expect((await createFolder(dist("inbox"), `<t:CalendarFolder><t:DisplayName>Cal in inbox</t:DisplayName></t:CalendarFolder>`)).codes).toEqual(["ErrorInvalidParentFolder"]);
  expect((await createFolder(dist("root"), `<t:Folder><t:DisplayName>Beside the store</t:DisplayName></t:Folder>`)).codes).toEqual(["ErrorInvalidParentFolder"]);
  expect((await createFolder(dist("msgfolderroot"), `<t:SearchFolder><t:DisplayName>Search</t:DisplayName></t:SearchFolder>`)).codes).toEqual(["ErrorInvalidRequest"]);
  expect((await createFolder(fid("garbage"), `<t:Folder><t:DisplayName>X</t:DisplayName></t:Folder>`)).codes).toEqual(["ErrorInvalidIdMalformed"]);
  // several folders in one request: one message each
  const two = await createFolder(dist("msgfolderroot"), `<t:Folder><t:DisplayName>Top One</t:DisplayName></t:Folder><t:Folder><t:DisplayName>Top One</t:DisplayName></t:Folder>`);
  expect(two.codes).toEqual(["NoError", "ErrorFolderExists"]);
  expect(await imapList()).toContain("Top One");
});

test("CreateFolder: a calendar, address book and task list are groupware collections with the display name", async () => {
  const cal = await createFolder(dist("msgfolderroot"), `<t:CalendarFolder><t:DisplayName>Team Rota</t:DisplayName></t:CalendarFolder>`);
  expect(cal.codes).toEqual(["NoError"]);
  expect(folders(cal.body)[0]!.name).toBe("CalendarFolder");
  const cols = await env.srv.ctx.groupware.listCollections(accounts[0]!, "calendar");
  expect(cols.map((c) => c.displayName)).toContain("Team Rota");
  const book = await createFolder(dist("msgfolderroot"), `<t:ContactsFolder><t:DisplayName>Suppliers</t:DisplayName></t:ContactsFolder>`);
  expect(book.codes).toEqual(["NoError"]);
  const list = await createFolder(dist("msgfolderroot"), `<t:Folder><t:FolderClass>IPF.Task</t:FolderClass><t:DisplayName>Chores</t:DisplayName></t:Folder>`);
  expect(list.codes).toEqual(["NoError"]);
  expect(folders(list.body)[0]!.name).toBe("TasksFolder");
  expect((await env.srv.ctx.groupware.listCollections(accounts[0]!, "tasks")).map((c) => c.displayName)).toContain("Chores");
  // a display name that cannot be a URL segment still works (the collection gets an opaque name)
  const odd = await createFolder(dist("msgfolderroot"), `<t:CalendarFolder><t:DisplayName>inbox</t:DisplayName></t:CalendarFolder>`);
  expect(odd.codes).toEqual(["NoError"]);
  expect((await env.srv.ctx.groupware.listCollections(accounts[0]!, "calendar")).map((c) => c.displayName)).toContain("inbox");
  // rename = new display name, the URL stays
  const up = await call(
    `<m:UpdateFolder><m:FolderChanges><t:FolderChange>${fid(cal.id!)}<t:Updates><t:SetFolderField><t:FieldURI FieldURI="folder:DisplayName"/><t:CalendarFolder><t:DisplayName>Rota 2027</t:DisplayName></t:CalendarFolder></t:SetFolderField></t:Updates></t:FolderChange></m:FolderChanges></m:UpdateFolder>`,
  );
  expect(responseCodes(up.body)).toEqual(["NoError"]);
  expect((await env.srv.ctx.groupware.listCollections(accounts[0]!, "calendar")).map((c) => c.displayName)).toContain("Rota 2027");
  const del = await call(`<m:DeleteFolder DeleteType="HardDelete"><m:FolderIds>${fid(cal.id!)}${dist("calendar")}</m:FolderIds></m:DeleteFolder>`);
  expect(responseCodes(del.body)).toEqual(["NoError", "ErrorDeleteDistinguishedFolder"]);
  expect((await env.srv.ctx.groupware.listCollections(accounts[0]!, "calendar")).map((c) => c.displayName)).not.toContain("Rota 2027");
});

test("UpdateFolder: rename (seen over IMAP) and an extended property kept in the folder property table", async () => {
  const c = await createFolder(dist("msgfolderroot"), `<t:Folder><t:DisplayName>Old Name</t:DisplayName><t:ExtendedProperty><t:ExtendedFieldURI PropertyTag="0x3613" PropertyType="String"/><t:Value>IPF.Note</t:Value></t:ExtendedProperty></t:Folder>`);
  expect(c.codes).toEqual(["NoError"]);
  expect((await imap.cmd(`CREATE "Old Name/Child"`)).status).toBe("OK");
  const ext = `<t:ExtendedFieldURI DistinguishedPropertySetId="PublicStrings" PropertyName="pb-test" PropertyType="Integer"/>`;
  const r = await call(
    `<m:UpdateFolder><m:FolderChanges><t:FolderChange>${fid(c.id!)}<t:Updates><t:SetFolderField><t:FieldURI FieldURI="folder:DisplayName"/><t:Folder><t:DisplayName>New Name</t:DisplayName></t:Folder></t:SetFolderField><t:SetFolderField>${ext}<t:Folder><t:ExtendedProperty>${ext}<t:Value>42</t:Value></t:ExtendedProperty></t:Folder></t:SetFolderField></t:Updates></t:FolderChange></m:FolderChanges></m:UpdateFolder>`,
  );
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  expect(folders(r.body)[0]!.children[0]!.attrs.Id).toBe(c.id!);
  const names = await imapList();
  expect(names).toContain("New Name");
  expect(names).toContain("New Name/Child");
  expect(names).not.toContain("Old Name");
  const g = await call(
    `<m:GetFolder>${shape("Default", `<t:AdditionalProperties>${ext}<t:ExtendedFieldURI PropertyTag="0x3613" PropertyType="String"/><t:ExtendedFieldURI PropertyTag="0x1234" PropertyType="String"/></t:AdditionalProperties>`)}<m:FolderIds>${fid(c.id!)}</m:FolderIds></m:GetFolder>`,
  );
  const f = folders(g.body)[0]!;
  expect(text(f, "DisplayName")).toBe("New Name");
  const props = f.children.filter((k) => k.name === "ExtendedProperty");
  expect(props.map((p) => find(p, "Value")?.text)).toEqual(["42", "IPF.Note"]);

  const bad = await call(
    `<m:UpdateFolder><m:FolderChanges><t:FolderChange>${fid(c.id!)}<t:Updates><t:SetFolderField><t:FieldURI FieldURI="folder:TotalCount"/><t:Folder><t:TotalCount>3</t:TotalCount></t:Folder></t:SetFolderField></t:Updates></t:FolderChange><t:FolderChange>${fid(c.id!)}<t:Updates><t:DeleteFolderField><t:FieldURI FieldURI="folder:DisplayName"/></t:DeleteFolderField></t:Updates></t:FolderChange><t:FolderChange>${dist("inbox")}<t:Updates><t:SetFolderField><t:FieldURI FieldURI="folder:DisplayName"/><t:Folder><t:DisplayName>Post</t:DisplayName></t:Folder></t:SetFolderField></t:Updates></t:FolderChange></m:FolderChanges></m:UpdateFolder>`,
  );
  expect(responseCodes(bad.body)).toEqual(["ErrorInvalidPropertySet", "ErrorInvalidPropertyDelete", "ErrorAccessDenied"]);
  // a rename onto a sibling's name
  const clash = await call(
    `<m:UpdateFolder><m:FolderChanges><t:FolderChange>${fid(c.id!)}<t:Updates><t:SetFolderField><t:FieldURI FieldURI="folder:DisplayName"/><t:Folder><t:DisplayName>Top One</t:DisplayName></t:Folder></t:SetFolderField></t:Updates></t:FolderChange></m:FolderChanges></m:UpdateFolder>`,
  );
  expect(responseCodes(clash.body)).toEqual(["ErrorFolderExists"]);
});

test("CreateFolderPath (Exchange 2013+), MoveFolder, DeleteFolder (hard, to Deleted Items, distinguished refused)", async () => {
  const p = await call(
    `<m:CreateFolderPath><m:ParentFolderId>${dist("msgfolderroot")}</m:ParentFolderId><m:RelativeFolderPath><t:Folder><t:DisplayName>Archive 2026</t:DisplayName></t:Folder><t:Folder><t:DisplayName>Q4</t:DisplayName></t:Folder><t:Folder><t:DisplayName>December</t:DisplayName></t:Folder></m:RelativeFolderPath></m:CreateFolderPath>`,
  );
  expect(responseCodes(p.body)).toEqual(["NoError", "NoError", "NoError"]);
  expect(await imapList()).toContain("Archive 2026/Q4/December");
  const old = await call(`<m:CreateFolderPath><m:ParentFolderId>${dist("msgfolderroot")}</m:ParentFolderId><m:RelativeFolderPath><t:Folder><t:DisplayName>X</t:DisplayName></t:Folder></m:RelativeFolderPath></m:CreateFolderPath>`, "Exchange2010_SP2");
  expect(old.status).toBe(400);
  const [, q4, december] = folders(p.body).map((f) => f.children[0]!.attrs.Id!);

  // MoveFolder: Q4 (with December) to the top; into its own child refused; distinguished refused
  const mv = await call(`<m:MoveFolder><m:ToFolderId>${dist("msgfolderroot")}</m:ToFolderId><m:FolderIds>${fid(q4!)}</m:FolderIds></m:MoveFolder>`);
  expect(responseCodes(mv.body)).toEqual(["NoError"]);
  expect(await imapList()).toContain("Q4/December");
  const loop = await call(`<m:MoveFolder><m:ToFolderId>${fid(december!)}</m:ToFolderId><m:FolderIds>${fid(q4!)}${dist("inbox")}</m:FolderIds></m:MoveFolder>`);
  expect(responseCodes(loop.body)).toEqual(["ErrorMoveCopyFailed", "ErrorMoveDistinguishedFolder"]);

  // DeleteFolder MoveToDeletedItems: under Trash; HardDelete: gone with its subfolders
  const del = await call(`<m:DeleteFolder DeleteType="MoveToDeletedItems"><m:FolderIds>${fid(q4!)}</m:FolderIds></m:DeleteFolder>`);
  expect(responseCodes(del.body)).toEqual(["NoError"]);
  const trash = await getDistinguished("deleteditems", "Default");
  const names = await imapList();
  expect(names.some((n) => n.endsWith("/Q4/December"))).toBe(true);
  expect(text(trash, "ChildFolderCount")).toBe("1");
  const hard = await call(`<m:DeleteFolder DeleteType="HardDelete"><m:FolderIds>${fid(q4!)}${dist("inbox")}${dist("root")}${fid(q4!)}</m:FolderIds></m:DeleteFolder>`);
  expect(responseCodes(hard.body)).toEqual(["NoError", "ErrorDeleteDistinguishedFolder", "ErrorDeleteDistinguishedFolder", "ErrorFolderNotFound"]);
  expect((await imapList()).some((n) => n.includes("Q4"))).toBe(false);
  const badType = await call(`<m:DeleteFolder DeleteType="Shred"><m:FolderIds>${dist("inbox")}</m:FolderIds></m:DeleteFolder>`);
  expect(responseCodes(badType.body)).toEqual(["ErrorInvalidRequest"]);
});

test("EmptyFolder: the messages (and with DeleteSubFolders the subfolders) go; the counts say so", async () => {
  const c = await createFolder(dist("msgfolderroot"), `<t:Folder><t:DisplayName>Bulk</t:DisplayName></t:Folder>`);
  expect((await imap.cmd(`CREATE "Bulk/Sub"`)).status).toBe("OK");
  for (let i = 0; i < 3; i++) {
    const msg = `From: a@example.test\r\nTo: ${USER}\r\nSubject: bulk ${i}\r\n\r\nbody ${i}\r\n`;
    expect((await imap.cmd(`APPEND "Bulk" {${msg.length}+}\r\n${msg}`)).status).toBe("OK");
  }
  const before = await call(`<m:GetFolder>${shape("Default")}<m:FolderIds>${fid(c.id!)}</m:FolderIds></m:GetFolder>`);
  expect(text(folders(before.body)[0], "TotalCount")).toBe("3");
  expect(text(folders(before.body)[0], "UnreadCount")).toBe("3");
  const e = await call(`<m:EmptyFolder DeleteType="HardDelete" DeleteSubFolders="true"><m:FolderIds>${fid(c.id!)}${dist("root")}</m:FolderIds></m:EmptyFolder>`);
  expect(responseCodes(e.body)).toEqual(["NoError", "ErrorCannotEmptyFolder"]);
  const after = await call(`<m:GetFolder>${shape("Default")}<m:FolderIds>${fid(c.id!)}</m:FolderIds></m:GetFolder>`);
  expect(text(folders(after.body)[0], "TotalCount")).toBe("0");
  expect(text(folders(after.body)[0], "ChildFolderCount")).toBe("0");
  const st = await imap.cmd(`STATUS "Bulk" (MESSAGES)`);
  expect(st.untagged.join(" ")).toContain("MESSAGES 0");
});

test("CopyFolder: a mail folder with its subfolders and messages, seen over IMAP; copying into itself or onto a name refused", async () => {
  const c = await createFolder(dist("msgfolderroot"), `<t:Folder><t:DisplayName>Original</t:DisplayName></t:Folder>`);
  expect((await imap.cmd(`CREATE "Original/Inner"`)).status).toBe("OK");
  for (const [box, n] of [["Original", 2], ["Original/Inner", 1]] as const) {
    for (let i = 0; i < n; i++) {
      const msg = `From: a@example.test\r\nTo: ${USER}\r\nSubject: copy ${box} ${i}\r\n\r\nbody\r\n`;
      expect((await imap.cmd(`APPEND "${box}" {${msg.length}+}\r\n${msg}`)).status).toBe("OK");
    }
  }
  const inbox = await getDistinguished("inbox", "IdOnly");
  const inboxId = find(inbox, "FolderId")!.attrs.Id!;
  const r = await call(`<m:CopyFolder><m:ToFolderId>${fid(inboxId)}</m:ToFolderId><m:FolderIds>${fid(c.id!)}</m:FolderIds></m:CopyFolder>`);
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  const copyId = folders(r.body)[0]!.children[0]!.attrs.Id!;
  expect(copyId).not.toBe(c.id);
  expect((await imap.cmd(`STATUS "INBOX/Original" (MESSAGES)`)).untagged.join(" ")).toContain("MESSAGES 2");
  expect((await imap.cmd(`STATUS "INBOX/Original/Inner" (MESSAGES)`)).untagged.join(" ")).toContain("MESSAGES 1");
  expect((await imap.cmd(`STATUS "Original" (MESSAGES)`)).untagged.join(" ")).toContain("MESSAGES 2");
  const again = await call(`<m:CopyFolder><m:ToFolderId>${fid(inboxId)}</m:ToFolderId><m:FolderIds>${fid(c.id!)}${dist("calendar")}</m:FolderIds></m:CopyFolder>`);
  expect(responseCodes(again.body)).toEqual(["ErrorFolderExists", "ErrorInvalidOperation"]);
  const into = await call(`<m:CopyFolder><m:ToFolderId>${fid(copyId)}</m:ToFolderId><m:FolderIds>${fid(copyId)}</m:FolderIds></m:CopyFolder>`);
  expect(responseCodes(into.body)).toEqual(["ErrorMoveCopyFailed"]);
  const nowhere = await call(`<m:CopyFolder><m:ToFolderId>${fid("RjoxOjk5OTk5")}</m:ToFolderId><m:FolderIds>${fid(c.id!)}</m:FolderIds></m:CopyFolder>`);
  expect(responseCodes(nowhere.body)).toEqual(["ErrorToFolderNotFound"]);
  // CreateFolder under a parent that does not exist: the parent's own code
  const orphan = await call(`<m:CreateFolder><m:ParentFolderId>${fid("RjoxOjk5OTk5")}</m:ParentFolderId><m:Folders><t:Folder><t:DisplayName>Orphan</t:DisplayName></t:Folder></m:Folders></m:CreateFolder>`);
  expect(responseCodes(orphan.body)).toEqual(["ErrorParentFolderNotFound"]);
});

test("a message delivered over SMTP counts in TotalCount/UnreadCount of the Inbox", async () => {
  expect(await sendMail(env.srv.port("SMTP"), USER, `From: b@example.test\r\nTo: ${USER}\r\nSubject: count me\r\n\r\nhi\r\n`)).toBe(250);
  const inbox = await getDistinguished("inbox", "Default");
  expect(Number(text(inbox, "TotalCount"))).toBeGreaterThanOrEqual(1);
  expect(Number(text(inbox, "UnreadCount"))).toBeGreaterThanOrEqual(1);
});
