/**
 * ResolveNames (MS-OXWSRSLNM) and ExpandDL (MS-OXWSDLIST) over a real
 * server: a directory of several users of one domain, a one-to-many alias (a
 * public distribution list), a one-to-one alias, another domain's user (never
 * shown), the caller's own contacts and a contact group (a private list).
 */
import { beforeAll, expect, test } from "bun:test";
import { ewsFixture, find, findAll, responseCodes } from "./helpers.ts";
import { dav, ewsItemId, messages, textAt } from "./contacts-helpers.ts";

const ALICE = "alice@example.test";
const PASS = "alice-password-1";

const VCARD = (uid: string, fn: string, email: string) => `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:${fn}\r\nN:${fn.split(" ")[1] ?? ""};${fn.split(" ")[0]};;;\r\nEMAIL;TYPE=INTERNET:${email}\r\nEND:VCARD\r\n`;
const { env, accounts } = ewsFixture({ users: [{ email: ALICE, pass: PASS, displayName: "Alice Anderson" }, { email: "bob@example.test", pass: "bob-password-1", displayName: "Bob Builder" }, { email: "bobby@example.test", pass: "bobby-password-1", displayName: "Bobby Tables" }, { email: "carol@example.test", pass: "carol-password-1", displayName: "Carol Jones" }, { email: "dave@other.test", pass: "dave-password-1", displayName: "Dave Elsewhere" }] });

beforeAll(async () => {
  const s = env.srv.store;
  await s.addAlias("team@example.test", "alice@example.test");
  await s.addAlias("team@example.test", "bob@example.test");
  await s.addAlias("team@example.test", "carol@example.test");
  await s.addAlias("cj@example.test", "carol@example.test");
  // Alice's own contacts, written over CardDAV.
  await dav(env, ALICE, PASS, "PROPFIND", `/dav/addressbooks/${ALICE}/`, undefined, { depth: "1" });
  const put = (name: string, body: string) => dav(env, ALICE, PASS, "PUT", `/dav/addressbooks/${ALICE}/Contacts/${name}`, body, { "content-type": "text/vcard; charset=utf-8" });
  expect((await put("zed.vcf", VCARD("zed-uid", "Zed Zulu", "zed@elsewhere.test"))).status).toBe(201);
  expect((await put("zoe.vcf", VCARD("zoe-uid", "Zoe Zulu", "zoe@elsewhere.test"))).status).toBe(201);
  const group = "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:friends-uid\r\nKIND:group\r\nFN:Friends\r\nMEMBER:urn:uuid:zed-uid\r\nMEMBER:mailto:pat@elsewhere.test\r\nEND:VCARD\r\n";
  expect((await put("friends.vcf", group)).status).toBe(201);
});

const resolve = (entry: string, attrs = 'ReturnFullContactData="false"') => env.call(ALICE, PASS, `<m:ResolveNames ${attrs}><m:UnresolvedEntry>${entry}</m:UnresolvedEntry></m:ResolveNames>`);

function resolutions(body: Parameters<typeof messages>[0]) {
  return findAll(body, "Resolution").map((r) => ({ name: textAt(r, "Mailbox", "Name"), email: textAt(r, "Mailbox", "EmailAddress"), type: textAt(r, "Mailbox", "MailboxType"), routing: textAt(r, "Mailbox", "RoutingType") }));
}

test("one match: Success with one Resolution from the directory", async () => {
  const r = await resolve("carol");
  expect(r.status).toBe(200);
  const [msg] = messages(r.body);
  expect(msg!.attrs.ResponseClass).toBe("Success");
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  const set = find(msg, "ResolutionSet")!;
  expect(set.ns).toBe("http://schemas.microsoft.com/exchange/services/2006/messages");
  expect(set.attrs.TotalItemsInView).toBe("1");
  expect(set.attrs.IncludesLastItemInRange).toBe("true");
  expect(resolutions(r.body)).toEqual([{ name: "Carol Jones", email: "carol@example.test", type: "Mailbox", routing: "SMTP" }]);
});

test("several matches: Warning ErrorNameResolutionMultipleResults with every candidate", async () => {
  const r = await resolve("bob");
  const [msg] = messages(r.body);
  expect(msg!.attrs.ResponseClass).toBe("Warning");
  expect(responseCodes(r.body)).toEqual(["ErrorNameResolutionMultipleResults"]);
  const emails = resolutions(r.body).map((x) => x.email);
  expect(emails).toContain("bob@example.test");
  expect(emails).toContain("bobby@example.test");
  expect(find(msg, "ResolutionSet")!.attrs.TotalItemsInView).toBe(String(emails.length));
});

test("no match: Error ErrorNameResolutionNoResults (also exchangelib's DUMMY probe); another domain is never shown", async () => {
  for (const q of ["nobody-here", "DUMMY", "dave", "dave@other.test"]) {
    const r = await resolve(q);
    expect(r.status).toBe(200);
    expect(messages(r.body)[0]!.attrs.ResponseClass).toBe("Error");
    expect(responseCodes(r.body)).toEqual(["ErrorNameResolutionNoResults"]);
  }
});

test("an address, with or without the SMTP: prefix, resolves exactly", async () => {
  for (const q of ["SMTP:bob@example.test", "bob@example.test", "smtp:BOB@example.test"]) {
    const r = await resolve(q);
    expect(responseCodes(r.body)).toEqual(["NoError"]);
    expect(resolutions(r.body).map((x) => x.email)).toEqual(["bob@example.test"]);
  }
});

test("a one-to-many alias is a PublicDL; a one-to-one alias is its mailbox, by the primary address", async () => {
  const team = await resolve("team@example.test");
  expect(resolutions(team.body)).toEqual([{ name: "team@example.test", email: "team@example.test", type: "PublicDL", routing: "SMTP" }]);
  const cj = await resolve("cj@example.test");
  expect(resolutions(cj.body)).toEqual([{ name: "Carol Jones", email: "carol@example.test", type: "Mailbox", routing: "SMTP" }]);
});

test("full contact data: the directory's names and address, ContactSource ActiveDirectory", async () => {
  const r = await resolve("carol", 'ReturnFullContactData="true"');
  const contact = find(findAll(r.body, "Resolution")[0], "Contact")!;
  expect(textAt(contact, "DisplayName")).toBe("Carol Jones");
  expect(textAt(contact, "GivenName")).toBe("Carol");
  expect(textAt(contact, "Surname")).toBe("Jones");
  expect(textAt(contact, "ContactSource")).toBe("ActiveDirectory");
  expect(find(contact, "EmailAddresses", "Entry")!.attrs.Key).toBe("EmailAddress1");
});

test("personal contacts: MailboxType Contact with the contact's ItemId and data; SearchScope limits the sources", async () => {
  const r = await resolve("zed", 'ReturnFullContactData="true" SearchScope="ActiveDirectoryContacts"');
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  const res = findAll(r.body, "Resolution")[0]!;
  expect(textAt(res, "Mailbox", "MailboxType")).toBe("Contact");
  expect(textAt(res, "Mailbox", "EmailAddress")).toBe("zed@elsewhere.test");
  expect(find(res, "Mailbox", "ItemId")!.attrs.Id).toBeTruthy();
  expect(textAt(res, "Contact", "DisplayName")).toBe("Zed Zulu");
  expect(textAt(res, "Contact", "EmailAddresses", "Entry")).toBe("zed@elsewhere.test");
  // The directory alone does not have Zed; contacts alone do not have Carol.
  expect(responseCodes((await resolve("zed", 'ReturnFullContactData="false" SearchScope="ActiveDirectory"')).body)).toEqual(["ErrorNameResolutionNoResults"]);
  expect(responseCodes((await resolve("carol", 'ReturnFullContactData="false" SearchScope="Contacts"')).body)).toEqual(["ErrorNameResolutionNoResults"]);
  // Two contacts named Zulu: several results, contacts first with ContactsActiveDirectory.
  const both = await resolve("zulu", 'ReturnFullContactData="false" SearchScope="ContactsActiveDirectory"');
  expect(responseCodes(both.body)).toEqual(["ErrorNameResolutionMultipleResults"]);
  expect(resolutions(both.body).map((x) => x.email).sort()).toEqual(["zed@elsewhere.test", "zoe@elsewhere.test"]);
});

test("ParentFolderIds limits the contacts searched (a non-contacts folder is refused)", async () => {
  const inContacts = await env.call(ALICE, PASS, `<m:ResolveNames ReturnFullContactData="false" SearchScope="Contacts"><m:ParentFolderIds><t:DistinguishedFolderId Id="contacts"/></m:ParentFolderIds><m:UnresolvedEntry>zed</m:UnresolvedEntry></m:ResolveNames>`);
  expect(responseCodes(inContacts.body)).toEqual(["NoError"]);
  const inInbox = await env.call(ALICE, PASS, `<m:ResolveNames ReturnFullContactData="false" SearchScope="Contacts"><m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds><m:UnresolvedEntry>zed</m:UnresolvedEntry></m:ResolveNames>`);
  expect(responseCodes(inInbox.body)).toEqual(["ErrorInvalidRequest"]);
  const many = `<t:DistinguishedFolderId Id="contacts"/>`.repeat(101);
  const tooMany = await env.call(ALICE, PASS, `<m:ResolveNames ReturnFullContactData="false" SearchScope="Contacts"><m:ParentFolderIds>${many}</m:ParentFolderIds><m:UnresolvedEntry>zed</m:UnresolvedEntry></m:ResolveNames>`);
  expect(responseCodes(tooMany.body)).toEqual(["ErrorInvalidRequest"]);
});

test("a contact group resolves as a PrivateDL", async () => {
  const r = await resolve("friends", 'ReturnFullContactData="true" SearchScope="Contacts"');
  expect(resolutions(r.body)).toEqual([{ name: "Friends", email: undefined, type: "PrivateDL", routing: "SMTP" }]);
});

test("malformed requests: missing ReturnFullContactData, bad SearchScope, bad ContactDataShape, no UnresolvedEntry, an overlong entry", async () => {
  const bad = async (xml: string, code: string) => {
    const r = await env.call(ALICE, PASS, xml);
    expect(r.status).toBeLessThan(500);
    const codes = responseCodes(r.body);
    expect(codes.length ? codes : [textAt(r.body, "detail", "ResponseCode")]).toEqual([code]);
  };
  await bad(`<m:ResolveNames><m:UnresolvedEntry>carol</m:UnresolvedEntry></m:ResolveNames>`, "ErrorInvalidRequest");
  await bad(`<m:ResolveNames ReturnFullContactData="false" SearchScope="Everywhere"><m:UnresolvedEntry>carol</m:UnresolvedEntry></m:ResolveNames>`, "ErrorInvalidRequest");
  await bad(`<m:ResolveNames ReturnFullContactData="true" ContactDataShape="Huge"><m:UnresolvedEntry>carol</m:UnresolvedEntry></m:ResolveNames>`, "ErrorInvalidRequest");
  await bad(`<m:ResolveNames ReturnFullContactData="false"/>`, "ErrorInvalidRequest");
  await bad(`<m:ResolveNames ReturnFullContactData="false"><m:UnresolvedEntry>${"x".repeat(5000)}</m:UnresolvedEntry></m:ResolveNames>`, "ErrorNameResolutionNoResults");
  await bad(`<m:ResolveNames ReturnFullContactData="false"><m:UnresolvedEntry>   </m:UnresolvedEntry></m:ResolveNames>`, "ErrorNameResolutionNoResults");
});

const expandDL = (mailbox: string) => env.call(ALICE, PASS, `<m:ExpandDL><m:Mailbox>${mailbox}</m:Mailbox></m:ExpandDL>`);

test("ExpandDL of a one-to-many alias: its members as mailboxes", async () => {
  const r = await expandDL(`<t:EmailAddress>team@example.test</t:EmailAddress>`);
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  const exp = find(messages(r.body)[0], "DLExpansion")!;
  expect(exp.attrs.TotalItemsInView).toBe("3");
  expect(exp.attrs.IncludesLastItemInRange).toBe("true");
  const members = findAll(exp, "Mailbox").map((m) => ({ email: textAt(m, "EmailAddress"), name: textAt(m, "Name"), type: textAt(m, "MailboxType") }));
  expect(members.map((m) => m.email).sort()).toEqual(["alice@example.test", "bob@example.test", "carol@example.test"]);
  expect(members.find((m) => m.email === "bob@example.test")).toEqual({ email: "bob@example.test", name: "Bob Builder", type: "Mailbox" });
  // SMTP: prefix accepted
  expect(responseCodes((await expandDL(`<t:EmailAddress>SMTP:team@example.test</t:EmailAddress>`)).body)).toEqual(["NoError"]);
});

test("ExpandDL of a contact group by ItemId: a contact member and an address member", async () => {
  const item = await env.srv.store.findItemByUid({ accountId: accounts[0]!.id, itemClass: "contacts" }, "friends-uid");
  const r = await expandDL(`<t:ItemId Id="${ewsItemId(accounts[0]!.id, "contacts", item!.id)}"/>`);
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  const members = findAll(r.body, "Mailbox").map((m) => [textAt(m, "Name"), textAt(m, "EmailAddress"), textAt(m, "MailboxType")]);
  expect(members).toEqual([
    ["Zed Zulu", "zed@elsewhere.test", "Contact"],
    ["pat@elsewhere.test", "pat@elsewhere.test", "Mailbox"],
  ]);
});

test("ExpandDL of what is not a list: ErrorNameResolutionNoResults; malformed ids and empty mailboxes are refused", async () => {
  expect(responseCodes((await expandDL(`<t:EmailAddress>carol@example.test</t:EmailAddress>`)).body)).toEqual(["ErrorNameResolutionNoResults"]);
  expect(responseCodes((await expandDL(`<t:EmailAddress>nobody@example.test</t:EmailAddress>`)).body)).toEqual(["ErrorNameResolutionNoResults"]);
  const zed = await env.srv.store.findItemByUid({ accountId: accounts[0]!.id, itemClass: "contacts" }, "zed-uid");
  expect(responseCodes((await expandDL(`<t:ItemId Id="${ewsItemId(accounts[0]!.id, "contacts", zed!.id)}"/>`)).body)).toEqual(["ErrorNameResolutionNoResults"]);
  expect(responseCodes((await expandDL(`<t:ItemId Id="not-an-id!"/>`)).body)).toEqual(["ErrorInvalidIdMalformed"]);
  expect(responseCodes((await expandDL(`<t:ItemId Id="${ewsItemId(accounts[0]!.id + 1000, "contacts", zed!.id)}"/>`)).body)).toEqual(["ErrorItemNotFound"]);
  expect(responseCodes((await expandDL(``)).body)).toEqual(["ErrorInvalidRequest"]);
  const none = await env.call(ALICE, PASS, `<m:ExpandDL/>`);
  expect(responseCodes(none.body)).toEqual(["ErrorInvalidRequest"]);
});
