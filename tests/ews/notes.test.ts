/**
 * Notes over EWS: the notes folder's VJOURNAL items as t:Message with
 * ItemClass IPM.StickyNote (MS-OXONOTE), created, read, changed, copied and
 * deleted over EWS, and the same items as ActiveSync and the store keep them.
 */
import { expect, test } from "bun:test";
import { ewsFixture, find, findAll, responseCodes } from "./helpers.ts";
import { createItemXml, deleteItemXml, ewsItemId, findItemXml, firstItemId, getItemXml, messages, storeId, textAt, updateItemXml } from "./contacts-helpers.ts";

const ALICE = "alice@example.test";
const PASS = "alice-password-1";
const { env, accounts } = ewsFixture({ users: [{ email: ALICE, pass: PASS }] });

const call = (xml: string) => env.call(ALICE, PASS, xml);
const NOTE = (subject: string, body: string, cats: string[] = []) =>
  `<t:Message><t:ItemClass>IPM.StickyNote</t:ItemClass><t:Subject>${subject}</t:Subject><t:Body BodyType="Text">${body}</t:Body>${cats.length ? `<t:Categories>${cats.map((c) => `<t:String>${c}</t:String>`).join("")}</t:Categories>` : ""}</t:Message>`;
const createNote = (xml: string) => call(createItemXml("notes", xml).replace("<m:CreateItem>", `<m:CreateItem MessageDisposition="SaveOnly">`));

async function get(id: { id: string }) {
  const r = await call(getItemXml([id]));
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  return find(messages(r.body)[0], "Items")!.children[0]!;
}

async function stored(id: { id: string }): Promise<string> {
  return new TextDecoder().decode(await env.srv.store.readItemBody(storeId(id.id)));
}

test("CreateItem of a sticky note: a VJOURNAL in the notes folder, read back as t:Message IPM.StickyNote", async () => {
  const r = await createNote(NOTE("Shopping", "eggs, flour", ["Home"]));
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  const id = firstItemId(r.body);
  const text = await stored(id);
  expect(text).toContain("BEGIN:VJOURNAL");
  expect(text).toContain("SUMMARY:Shopping");
  expect(text).toContain("DESCRIPTION:eggs\\, flour");
  expect(text).toContain("CATEGORIES:Home");
  const n = await get(id);
  expect(n.name).toBe("Message");
  expect(textAt(n, "ItemClass")).toBe("IPM.StickyNote");
  expect(textAt(n, "Subject")).toBe("Shopping");
  expect(textAt(n, "Body")).toBe("eggs, flour");
  expect(findAll(find(n, "Categories")!, "String").map((s) => s.text)).toEqual(["Home"]);
  expect(textAt(n, "DateTimeCreated")).toMatch(/^\d{4}-/);
});

test("a note the store holds (as ActiveSync writes it) shows in FindItem; UpdateItem changes subject and body; DeleteItem removes it", async () => {
  const folder = (await env.srv.store.listFolders(accounts[0]!.id, { itemClass: "notes" }))[0]!;
  const body = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VJOURNAL\r\nUID:eas-note\r\nDTSTAMP:20270101T000000Z\r\nSUMMARY:From the phone\r\nDESCRIPTION:typed on a phone\r\nX-OTHER:kept\r\nEND:VJOURNAL\r\nEND:VCALENDAR\r\n";
  const item = await env.srv.store.createItem(folder.id, { itemClass: "notes", body: new TextEncoder().encode(body), fields: { subject: "From the phone" } });
  const found = await call(findItemXml("notes"));
  expect(responseCodes(found.body)).toEqual(["NoError"]);
  expect(findAll(found.body, "Message").some((m) => textAt(m, "Subject") === "From the phone")).toBe(true);
  const id = { id: ewsItemId(accounts[0]!.id, "notes", item.id) };
  const upd = await call(
    updateItemXml(id, `<t:SetItemField><t:FieldURI FieldURI="item:Subject"/><t:Message><t:Subject>Edited</t:Subject></t:Message></t:SetItemField><t:SetItemField><t:FieldURI FieldURI="item:Body"/><t:Message><t:Body BodyType="Text">new text</t:Body></t:Message></t:SetItemField>`),
  );
  expect(responseCodes(upd.body)).toEqual(["NoError"]);
  const text = await stored(id);
  expect(text).toContain("SUMMARY:Edited");
  expect(text).toContain("DESCRIPTION:new text");
  expect(text).toContain("X-OTHER:kept");
  expect(text).toContain("UID:eas-note");
  expect((await env.srv.store.getItem(item.id))!.fields).toEqual({ subject: "Edited" });
  expect(responseCodes((await call(deleteItemXml(id.id))).body)).toEqual(["NoError"]);
  expect(await env.srv.store.getItem(item.id)).toBeNull();
});

test("CopyItem makes another note with another UID", async () => {
  const id = firstItemId((await createNote(NOTE("Original", "text"))).body);
  const folder = (await env.srv.store.listFolders(accounts[0]!.id, { itemClass: "notes" }))[0]!;
  const fid = `<t:FolderId Id="${Buffer.from(`F:${accounts[0]!.id}:${folder.id}`).toString("base64")}"/>`;
  const r = await call(`<m:CopyItem><m:ToFolderId>${fid}</m:ToFolderId><m:ItemIds><t:ItemId Id="${id.id}"/></m:ItemIds></m:CopyItem>`);
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  const copy = firstItemId(r.body);
  expect(textAt(await get(copy), "Subject")).toBe("Original");
  const uid = (s: string) => /UID:([^\r\n]+)/.exec(s)![1];
  expect(uid(await stored(copy))).not.toBe(uid(await stored(id)));
});

test("malformed notes: another ItemClass, an unknown property change", async () => {
  const r = await createNote(`<t:Message><t:ItemClass>IPM.Note</t:ItemClass><t:Subject>x</t:Subject></t:Message>`);
  expect(responseCodes(r.body)).toEqual(["ErrorInvalidValueForProperty"]);
  const id = firstItemId((await createNote(NOTE("Fixed", "t"))).body);
  const u = await call(updateItemXml(id, `<t:SetItemField><t:FieldURI FieldURI="message:IsRead"/><t:Message><t:IsRead>true</t:IsRead></t:Message></t:SetItemField>`));
  expect(responseCodes(u.body)).toEqual(["ErrorInvalidPropertyRequest"]);
  expect(textAt(await get(id), "Subject")).toBe("Fixed");
});
