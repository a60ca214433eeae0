/**
 * Contacts over EWS (MS-OXWSCONT): CreateItem/GetItem/FindItem/UpdateItem
 * (indexed fields)/DeleteItem/CopyItem/MoveItem of t:Contact and
 * t:DistributionList, each checked against the vCard CardDAV serves, and a
 * card PUT over CardDAV read over EWS. Malformed input gets its ResponseCode.
 */
import { expect, test } from "bun:test";
import { ewsFixture, find, findAll, responseCodes } from "./helpers.ts";
import { contentLines, createItemXml, dav, davPath, deleteItemXml, ewsItemId, findItemXml, firstItemId, getItemXml, messages, storeId, textAt, updateItemXml } from "./contacts-helpers.ts";

const ALICE = "alice@example.test";
const PASS = "alice-password-1";
const { env, accounts } = ewsFixture({ users: [{ email: ALICE, pass: PASS, displayName: "Alice Anderson" }, { email: "bob@example.test", pass: "bob-password-1" }] });

const call = (xml: string) => env.call(ALICE, PASS, xml);

const FULL_CONTACT = `<t:Contact>
  <t:Body BodyType="Text">Met at the conference.</t:Body>
  <t:Categories><t:String>Work</t:String><t:String>VIP</t:String></t:Categories>
  <t:DisplayName>Jane Q. Doe</t:DisplayName>
  <t:GivenName>Jane</t:GivenName>
  <t:MiddleName>Quincy</t:MiddleName>
  <t:Nickname>JD</t:Nickname>
  <t:CompanyName>Acme</t:CompanyName>
  <t:EmailAddresses><t:Entry Key="EmailAddress1">jane@acme.test</t:Entry><t:Entry Key="EmailAddress2">jane@home.test</t:Entry></t:EmailAddresses>
  <t:PhysicalAddresses><t:Entry Key="Business"><t:Street>1 Main St</t:Street><t:City>Springfield</t:City><t:State>IL</t:State><t:CountryOrRegion>USA</t:CountryOrRegion><t:PostalCode>62701</t:PostalCode></t:Entry></t:PhysicalAddresses>
  <t:PhoneNumbers><t:Entry Key="BusinessPhone">+1 555 0100</t:Entry><t:Entry Key="MobilePhone">+1 555 0199</t:Entry></t:PhoneNumbers>
  <t:AssistantName>Sam</t:AssistantName>
  <t:Birthday>1980-05-15T11:59:00Z</t:Birthday>
  <t:BusinessHomePage>https://acme.test/jane</t:BusinessHomePage>
  <t:Department>R&amp;D</t:Department>
  <t:Generation>Jr.</t:Generation>
  <t:ImAddresses><t:Entry Key="ImAddress1">xmpp:jane@acme.test</t:Entry></t:ImAddresses>
  <t:JobTitle>Engineer</t:JobTitle>
  <t:Manager>Max</t:Manager>
  <t:OfficeLocation>Building 4</t:OfficeLocation>
  <t:SpouseName>John</t:SpouseName>
  <t:Surname>Doe</t:Surname>
</t:Contact>`;

async function create(itemXml: string, folder = "contacts") {
  const r = await call(createItemXml(folder, itemXml));
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  return firstItemId(r.body);
}

async function get(id: { id: string }, base = "AllProperties", extra = "") {
  const r = await call(getItemXml([id], base, extra));
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  return find(messages(r.body)[0], "Items")!.children[0]!;
}

async function card(id: { id: string }): Promise<string[]> {
  const r = await dav(env, ALICE, PASS, "GET", await davPath(env, ALICE, id.id));
  expect(r.status).toBe(200);
  return contentLines(r.text);
}

const entry = (el: ReturnType<typeof find>, list: string, key: string) => el && findAll(find(el, list) ?? el, "Entry").find((e) => e.attrs.Key === key);

test("CreateItem of a full contact: stored as a vCard CardDAV serves, every field read back by GetItem", async () => {
  const id = await create(FULL_CONTACT);
  const lines = await card(id);
  expect(lines).toContain("FN:Jane Q. Doe");
  expect(lines).toContain("N:Doe;Jane;Quincy;;Jr.");
  expect(lines.some((l) => /^EMAIL.*:jane@acme.test$/.test(l))).toBe(true);
  expect(lines.some((l) => /^TEL.*cell.*:\+1 555 0199$/i.test(l))).toBe(true);
  expect(lines.some((l) => /^ADR.*work.*:;;1 Main St;Springfield;IL;62701;USA$/i.test(l))).toBe(true);
  expect(lines.some((l) => l.startsWith("BDAY") && l.includes("1980"))).toBe(true);
  expect(lines).toContain("ORG:Acme;R&D");
  expect(lines).toContain("TITLE:Engineer");
  expect(lines.some((l) => l.startsWith("CATEGORIES:") && l.includes("Work") && l.includes("VIP"))).toBe(true);
  expect(lines).toContain("NOTE:Met at the conference.");

  const c = await get(id);
  expect(c.name).toBe("Contact");
  expect(textAt(c, "ItemClass")).toBe("IPM.Contact");
  expect(textAt(c, "DisplayName")).toBe("Jane Q. Doe");
  expect(textAt(c, "GivenName")).toBe("Jane");
  expect(textAt(c, "MiddleName")).toBe("Quincy");
  expect(textAt(c, "Surname")).toBe("Doe");
  expect(textAt(c, "Generation")).toBe("Jr.");
  expect(textAt(c, "Nickname")).toBe("JD");
  expect(textAt(c, "CompanyName")).toBe("Acme");
  expect(textAt(c, "Department")).toBe("R&D");
  expect(textAt(c, "JobTitle")).toBe("Engineer");
  expect(textAt(c, "Manager")).toBe("Max");
  expect(textAt(c, "AssistantName")).toBe("Sam");
  expect(textAt(c, "OfficeLocation")).toBe("Building 4");
  expect(textAt(c, "SpouseName")).toBe("John");
  expect(textAt(c, "BusinessHomePage")).toBe("https://acme.test/jane");
  expect(textAt(c, "Birthday")!.slice(0, 10)).toBe("1980-05-15");
  expect(textAt(c, "Body")).toBe("Met at the conference.");
  expect(findAll(find(c, "Categories")!, "String").map((s) => s.text)).toEqual(["Work", "VIP"]);
  expect(entry(c, "EmailAddresses", "EmailAddress1")?.text).toBe("jane@acme.test");
  expect(entry(c, "EmailAddresses", "EmailAddress2")?.text).toBe("jane@home.test");
  expect(entry(c, "PhoneNumbers", "MobilePhone")?.text).toBe("+1 555 0199");
  expect(entry(c, "PhoneNumbers", "BusinessPhone")?.text).toBe("+1 555 0100");
  expect(entry(c, "ImAddresses", "ImAddress1")?.text).toBe("jane@acme.test");
  const biz = entry(c, "PhysicalAddresses", "Business")!;
  expect([textAt(biz, "Street"), textAt(biz, "City"), textAt(biz, "State"), textAt(biz, "CountryOrRegion"), textAt(biz, "PostalCode")]).toEqual(["1 Main St", "Springfield", "IL", "USA", "62701"]);
  expect(textAt(c, "CompleteName", "FirstName")).toBe("Jane");
  expect(textAt(c, "CompleteName", "LastName")).toBe("Doe");
  expect(textAt(c, "HasPicture")).toBe("false");
  expect(find(c, "ParentFolderId")!.attrs.Id).toBeTruthy();
});

test("UpdateItem with indexed fields: set EmailAddress3, MobilePhone, Home City; delete JobTitle and BusinessPhone; other lines kept", async () => {
  // A card written over CardDAV with a property EWS cannot show.
  const put = await dav(env, ALICE, PASS, "PUT", `/dav/addressbooks/${ALICE}/Contacts/kept.vcf`, "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:kept-uid\r\nFN:Kim Kept\r\nN:Kept;Kim;;;\r\nTITLE:Boss\r\nTEL;TYPE=work:+1 555 0001\r\nX-CUSTOM-THING:keep me\r\nEND:VCARD\r\n", { "content-type": "text/vcard" });
  expect(put.status).toBe(201);
  const item = await env.srv.store.findItemByUid({ accountId: accounts[0]!.id, itemClass: "contacts" }, "kept-uid");
  const id = { id: ewsItemId(accounts[0]!.id, "contacts", item!.id) };
  const before = await get(id);
  const ck = find(before, "ItemId")!.attrs.ChangeKey!;
  const updates = `
    <t:SetItemField><t:IndexedFieldURI FieldURI="contacts:EmailAddress" FieldIndex="EmailAddress3"/><t:Contact><t:EmailAddresses><t:Entry Key="EmailAddress3">kim@third.test</t:Entry></t:EmailAddresses></t:Contact></t:SetItemField>
    <t:SetItemField><t:IndexedFieldURI FieldURI="contacts:PhoneNumber" FieldIndex="MobilePhone"/><t:Contact><t:PhoneNumbers><t:Entry Key="MobilePhone">+1 555 0777</t:Entry></t:PhoneNumbers></t:Contact></t:SetItemField>
    <t:SetItemField><t:IndexedFieldURI FieldURI="contacts:PhysicalAddress:City" FieldIndex="Home"/><t:Contact><t:PhysicalAddresses><t:Entry Key="Home"><t:City>Shelbyville</t:City></t:Entry></t:PhysicalAddresses></t:Contact></t:SetItemField>
    <t:SetItemField><t:FieldURI FieldURI="contacts:CompanyName"/><t:Contact><t:CompanyName>Kept Inc</t:CompanyName></t:Contact></t:SetItemField>
    <t:DeleteItemField><t:FieldURI FieldURI="contacts:JobTitle"/></t:DeleteItemField>
    <t:DeleteItemField><t:IndexedFieldURI FieldURI="contacts:PhoneNumber" FieldIndex="BusinessPhone"/></t:DeleteItemField>`;
  const r = await call(updateItemXml({ id: id.id, changeKey: ck }, updates, "NeverOverwrite"));
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  const newCk = findAll(r.body, "ItemId")[0]!.attrs.ChangeKey;
  expect(newCk).not.toBe(ck);

  const lines = await card(id);
  expect(lines).toContain("X-CUSTOM-THING:keep me");
  expect(lines).toContain("FN:Kim Kept");
  expect(lines.some((l) => l.startsWith("TITLE"))).toBe(false);
  expect(lines.some((l) => l.includes("+1 555 0001"))).toBe(false);
  expect(lines.some((l) => /^EMAIL.*:kim@third.test$/.test(l))).toBe(true);
  expect(lines.some((l) => /^TEL.*cell.*:\+1 555 0777$/i.test(l))).toBe(true);
  expect(lines.some((l) => /^ADR.*home.*Shelbyville/i.test(l))).toBe(true);

  const after = await get(id);
  expect(entry(after, "EmailAddresses", "EmailAddress1")?.text).toBe("kim@third.test");
  expect(entry(after, "PhoneNumbers", "MobilePhone")?.text).toBe("+1 555 0777");
  expect(textAt(entry(after, "PhysicalAddresses", "Home"), "City")).toBe("Shelbyville");
  expect(textAt(after, "CompanyName")).toBe("Kept Inc");
  expect(find(after, "JobTitle")).toBeUndefined();

  // The old ChangeKey is stale now: NeverOverwrite refuses.
  const stale = await call(updateItemXml({ id: id.id, changeKey: ck }, `<t:SetItemField><t:FieldURI FieldURI="contacts:JobTitle"/><t:Contact><t:JobTitle>Late</t:JobTitle></t:Contact></t:SetItemField>`, "NeverOverwrite"));
  expect(responseCodes(stale.body)).toEqual(["ErrorIrresolvableConflict"]);
});

test("a card PUT over CardDAV is read over EWS (FindItem and GetItem), and its update over CardDAV shows", async () => {
  const path = `/dav/addressbooks/${ALICE}/Contacts/from-dav.vcf`;
  const v1 = "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:from-dav\r\nFN:Dana Dav\r\nN:Dav;Dana;;;\r\nEMAIL;TYPE=work:dana@dav.test\r\nTEL;TYPE=cell:+44 20 7946 0000\r\nORG:DAV Ltd\r\nEND:VCARD\r\n";
  expect((await dav(env, ALICE, PASS, "PUT", path, v1, { "content-type": "text/vcard" })).status).toBe(201);
  const found = await call(findItemXml("contacts", "Default"));
  expect(responseCodes(found.body)).toEqual(["NoError"]);
  const mine = findAll(found.body, "Contact").find((c) => textAt(c, "DisplayName") === "Dana Dav");
  expect(mine).toBeDefined();
  const id = { id: find(mine, "ItemId")!.attrs.Id! };
  const c = await get(id);
  expect(textAt(c, "GivenName")).toBe("Dana");
  expect(textAt(c, "Surname")).toBe("Dav");
  expect(textAt(c, "CompanyName")).toBe("DAV Ltd");
  expect(entry(c, "EmailAddresses", "EmailAddress1")?.text).toBe("dana@dav.test");
  expect(entry(c, "PhoneNumbers", "MobilePhone")?.text).toBe("+44 20 7946 0000");
  const etag = (await dav(env, ALICE, PASS, "GET", path)).headers.etag as string;
  const v2 = v1.replace("ORG:DAV Ltd", "ORG:DAV Group");
  expect((await dav(env, ALICE, PASS, "PUT", path, v2, { "content-type": "text/vcard", "if-match": etag })).status).toBe(204);
  expect(textAt(await get(id), "CompanyName")).toBe("DAV Group");
});

test("IdOnly with AdditionalProperties returns only what was asked", async () => {
  const id = await create(`<t:Contact><t:DisplayName>Ivy Only</t:DisplayName><t:GivenName>Ivy</t:GivenName><t:JobTitle>Pilot</t:JobTitle></t:Contact>`);
  const c = await get(id, "IdOnly", `<t:AdditionalProperties><t:FieldURI FieldURI="contacts:GivenName"/></t:AdditionalProperties>`);
  expect(c.children.map((k) => k.name)).toEqual(["ItemId", "GivenName"]);
});

test("DistributionList: created with members, read back, expanded, members replaced, stored as a KIND:group card", async () => {
  const id = await create(`<t:DistributionList><t:DisplayName>Climbers</t:DisplayName><t:Members><t:Member><t:Mailbox><t:EmailAddress>one@rock.test</t:EmailAddress></t:Mailbox></t:Member><t:Member><t:Mailbox><t:EmailAddress>two@rock.test</t:EmailAddress></t:Mailbox></t:Member></t:Members></t:DistributionList>`);
  const lines = await card(id);
  expect(lines).toContain("KIND:group");
  expect(lines).toContain("MEMBER:mailto:one@rock.test");
  const dl = await get(id);
  expect(dl.name).toBe("DistributionList");
  expect(textAt(dl, "ItemClass")).toBe("IPM.DistList");
  expect(textAt(dl, "DisplayName")).toBe("Climbers");
  expect(findAll(dl, "EmailAddress").map((e) => e.text)).toEqual(["one@rock.test", "two@rock.test"]);
  // an IdOnly list tells a group from a contact (the card has no address of its own: its body is read)
  const listed = await call(findItemXml("contacts", "IdOnly"));
  const inList = findAll(listed.body, "ItemId").find((e) => e.attrs.Id === id.id);
  expect(inList).toBeDefined();
  expect(findAll(listed.body, "DistributionList").some((d) => find(d, "ItemId")?.attrs.Id === id.id)).toBe(true);
  const expanded = await call(`<m:ExpandDL><m:Mailbox><t:ItemId Id="${id.id}"/></m:Mailbox></m:ExpandDL>`);
  expect(findAll(expanded.body, "EmailAddress").map((e) => e.text)).toEqual(["one@rock.test", "two@rock.test"]);
  const upd = await call(updateItemXml(id, `<t:SetItemField><t:FieldURI FieldURI="distributionlist:Members"/><t:DistributionList><t:Members><t:Member><t:Mailbox><t:EmailAddress>three@rock.test</t:EmailAddress></t:Mailbox></t:Member></t:Members></t:DistributionList></t:SetItemField>`));
  expect(responseCodes(upd.body)).toEqual(["NoError"]);
  expect(findAll(await get(id), "EmailAddress").map((e) => e.text)).toEqual(["three@rock.test"]);
  // a member that is another contact, by its ItemId: stored as its UID, shown with its current address
  const member = await create(`<t:Contact><t:DisplayName>Rae Rock</t:DisplayName><t:EmailAddresses><t:Entry Key="EmailAddress1">rae@rock.test</t:Entry></t:EmailAddresses></t:Contact>`);
  const dl2 = await create(`<t:DistributionList><t:DisplayName>Rock pals</t:DisplayName><t:Members><t:Member><t:Mailbox><t:ItemId Id="${member.id}"/></t:Mailbox></t:Member></t:Members></t:DistributionList>`);
  expect((await card(dl2)).some((l) => /^MEMBER:urn:uuid:/.test(l))).toBe(true);
  const m = find(await get(dl2), "Members", "Member", "Mailbox")!;
  expect([textAt(m, "Name"), textAt(m, "EmailAddress"), textAt(m, "MailboxType")]).toEqual(["Rae Rock", "rae@rock.test", "Contact"]);
  const badMember = await call(createItemXml("contacts", `<t:DistributionList><t:DisplayName>X</t:DisplayName><t:Members><t:Member><t:Mailbox><t:ItemId Id="${ewsItemId(accounts[0]!.id, "contacts", 999999)}"/></t:Mailbox></t:Member></t:Members></t:DistributionList>`));
  expect(responseCodes(badMember.body)).toEqual(["ErrorItemNotFound"]);
});

test("CopyItem and MoveItem between address books; DeleteItem removes the card from CardDAV", async () => {
  const book = await env.srv.ctx.groupware.createCollection((await env.srv.store.getAccount(ALICE))!, "contacts", "Second");
  const folderXml = `<t:FolderId Id="${Buffer.from(`F:${accounts[0]!.id}:${book.id}`).toString("base64")}"/>`;
  const id = await create(`<t:Contact><t:DisplayName>Mo Ved</t:DisplayName><t:EmailAddresses><t:Entry Key="EmailAddress1">mo@ved.test</t:Entry></t:EmailAddresses></t:Contact>`);
  const copied = await call(`<m:CopyItem><m:ToFolderId>${folderXml}</m:ToFolderId><m:ItemIds><t:ItemId Id="${id.id}"/></m:ItemIds></m:CopyItem>`);
  expect(responseCodes(copied.body)).toEqual(["NoError"]);
  const copyId = firstItemId(copied.body);
  expect(storeId(copyId.id)).not.toBe(storeId(id.id));
  expect((await card(copyId)).some((l) => l === "FN:Mo Ved")).toBe(true);
  // the copy is another object: another UID
  const uid = (lines: string[]) => lines.find((l) => l.startsWith("UID"));
  expect(uid(await card(copyId))).not.toBe(uid(await card(id)));

  const moved = await call(`<m:MoveItem><m:ToFolderId>${folderXml}</m:ToFolderId><m:ItemIds><t:ItemId Id="${id.id}"/></m:ItemIds></m:MoveItem>`);
  expect(responseCodes(moved.body)).toEqual(["NoError"]);
  const movedItem = await env.srv.store.getItem(storeId(id.id));
  expect(movedItem!.folderId).toBe(book.id);

  const path = await davPath(env, ALICE, id.id);
  const del = await call(deleteItemXml(id.id));
  expect(responseCodes(del.body)).toEqual(["NoError"]);
  expect((await dav(env, ALICE, PASS, "GET", path)).status).toBe(404);
  expect(responseCodes((await call(getItemXml([id]))).body)).toEqual(["ErrorItemNotFound"]);
});

test("malformed contacts: unknown phone key, a bad date, two @ in an address, an unknown field, a contact in the inbox", async () => {
  const bad = async (xml: string, code: string, folder = "contacts") => {
    const r = await call(createItemXml(folder, xml));
    expect(r.status).toBe(200);
    expect(responseCodes(r.body)).toEqual([code]);
  };
  await bad(`<t:Contact><t:PhoneNumbers><t:Entry Key="Telex">123</t:Entry></t:PhoneNumbers></t:Contact>`, "ErrorInvalidPropertyRequest");
  await bad(`<t:Contact><t:Birthday>last tuesday</t:Birthday></t:Contact>`, "ErrorInvalidValueForProperty");
  await bad(`<t:Contact><t:EmailAddresses><t:Entry Key="EmailAddress1">a@b@c</t:Entry></t:EmailAddresses></t:Contact>`, "ErrorInvalidValueForProperty");
  await bad(`<t:Contact><t:PhysicalAddresses><t:Entry Key="Moon"><t:City>Tycho</t:City></t:Entry></t:PhysicalAddresses></t:Contact>`, "ErrorInvalidPropertyRequest");
  await bad(`<t:Contact><t:DisplayName>Wrong place</t:DisplayName></t:Contact>`, "ErrorCannotCreateContactInNonContactFolder", "inbox");
  await bad(`<t:DistributionList><t:DisplayName>X</t:DisplayName><t:Members><t:Member><t:Mailbox><t:EmailAddress>not an address</t:EmailAddress></t:Mailbox></t:Member></t:Members></t:DistributionList>`, "ErrorInvalidValueForProperty");
  // a change to a field contacts do not keep, or an index that does not exist
  const id = await create(`<t:Contact><t:DisplayName>Val Id</t:DisplayName></t:Contact>`);
  const upd = async (u: string, code: string) => expect(responseCodes((await call(updateItemXml(id, u))).body)).toEqual([code]);
  await upd(`<t:SetItemField><t:IndexedFieldURI FieldURI="contacts:EmailAddress" FieldIndex="EmailAddress9"/><t:Contact><t:EmailAddresses><t:Entry Key="EmailAddress9">x@y.test</t:Entry></t:EmailAddresses></t:Contact></t:SetItemField>`, "ErrorInvalidPropertyRequest");
  await upd(`<t:SetItemField><t:FieldURI FieldURI="message:IsRead"/><t:Contact/></t:SetItemField>`, "ErrorInvalidPropertyRequest");
  // nothing was half-written
  expect(textAt(await get(id), "DisplayName")).toBe("Val Id");
});

test("SyncFolderItems over the contacts folder: a contact made over CardDAV arrives as a Create of a t:Contact", async () => {
  const first = await call(`<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:SyncFolderId><t:DistinguishedFolderId Id="contacts"/></m:SyncFolderId><m:MaxChangesReturned>512</m:MaxChangesReturned></m:SyncFolderItems>`);
  expect(responseCodes(first.body)).toEqual(["NoError"]);
  const state = textAt(messages(first.body)[0], "SyncState")!;
  const put = await dav(env, ALICE, PASS, "PUT", `/dav/addressbooks/${ALICE}/Contacts/synced.vcf`, "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:synced-uid\r\nFN:Sy Nced\r\nEMAIL:sy@nced.test\r\nEND:VCARD\r\n", { "content-type": "text/vcard" });
  expect(put.status).toBe(201);
  const next = await call(`<m:SyncFolderItems><m:ItemShape><t:BaseShape>Default</t:BaseShape></m:ItemShape><m:SyncFolderId><t:DistinguishedFolderId Id="contacts"/></m:SyncFolderId><m:SyncState>${state}</m:SyncState><m:MaxChangesReturned>512</m:MaxChangesReturned></m:SyncFolderItems>`);
  expect(responseCodes(next.body)).toEqual(["NoError"]);
  const creates = findAll(next.body, "Create");
  expect(creates.length).toBe(1);
  expect(textAt(creates[0], "Contact", "DisplayName")).toBe("Sy Nced");
});
