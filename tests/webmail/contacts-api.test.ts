/**
 * The contacts JSON API (protocols/http/webmail/contacts-api.ts) over real
 * HTTPS, checked against CardDAV (the same cards read and written at
 * /dav/addressbooks/...): create/read/update/delete with etags, list and
 * accent-insensitive search, groups and their expansion, import/export, photos,
 * another user's book, bad input, and a book literally named "export".
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { ALICE, ApiClient, BOB, request, startWebmailServer, type HttpResponse } from "./helpers.ts";
import type { ContactResponse, ContactSummary, ImportResult, Person } from "../../protocols/http/webmail/api-types.ts";

setDefaultTimeout(30_000); // a loaded CI machine; nothing here waits on time

let srv: Awaited<ReturnType<typeof startWebmailServer>>;
let alice: ApiClient;
let bob: ApiClient;

const PNG = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000" + "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082", "hex");
const BOOK = `/dav/addressbooks/${ALICE.email}/Contacts/`;

function dav(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<HttpResponse> {
  const auth = "Basic " + Buffer.from(`${ALICE.email}:${ALICE.password}`).toString("base64");
  return request(method, srv.base + path, { headers: { authorization: auth, ...(body !== undefined ? { "content-type": "text/vcard; charset=utf-8" } : {}), ...headers }, body });
}

const card = (uid: string, fn: string, extra = "") => `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:${fn}\r\nN:${fn.split(" ").reverse().join(";")};;;\r\n${extra}END:VCARD\r\n`;

async function list(client: ApiClient, q = "", book = "Contacts"): Promise<ContactSummary[]> {
  return (await client.ok<{ contacts: ContactSummary[] }>("GET", `/api/contacts?book=${encodeURIComponent(book)}${q ? `&q=${encodeURIComponent(q)}` : ""}`)).contacts;
}

async function create(contact: Record<string, unknown>, book = "Contacts"): Promise<ContactResponse> {
  const r = await alice.send("POST", `/api/contacts/${encodeURIComponent(book)}`, { contact });
  if (r.status !== 201) throw new Error(`create -> ${r.status} ${r.text}`);
  return r.json<ContactResponse>();
}

beforeAll(async () => {
  srv = await startWebmailServer();
  alice = await ApiClient.signIn(srv.base, ALICE);
  bob = await ApiClient.signIn(srv.base, BOB);
}, 60_000);
afterAll(async () => {
  await srv?.close();
});

describe("one contact", () => {
  test("create -> read back over CardDAV GET, then over the API", async () => {
    const r = await create({ givenName: "Zoë", familyName: "Åström", emails: [{ type: "work", value: "zoe@astrom.example", pref: true }, { type: "home", value: "zoe@home.example", pref: false }], phones: [{ type: "mobile", value: "+46 70 123", pref: false }], organization: "Nordic AB", birthday: "1990-01-31", notes: "Met at FOSDEM;\nlikes tea" });
    expect(r.book).toBe("Contacts");
    expect(r.id).toMatch(/\.vcf$/);
    expect(r.contact.fullName).toBe("Zoë Åström");
    const g = await dav("GET", BOOK + encodeURIComponent(r.id));
    expect(g.status).toBe(200);
    expect(g.headers.etag).toBe(r.etag);
    expect(g.text).toContain("VERSION:3.0\r\n");
    expect(g.text).toContain("FN:Zoë Åström\r\n");
    expect(g.text).toContain("EMAIL;TYPE=internet,work,pref:zoe@astrom.example\r\n");
    expect(g.text).toContain("NOTE:Met at FOSDEM\\;\\nlikes tea\r\n");
    const back = await alice.ok<ContactResponse>("GET", `/api/contacts/Contacts/${encodeURIComponent(r.id)}`);
    expect(back.contact).toMatchObject({ givenName: "Zoë", familyName: "Åström", birthday: "1990-01-31", notes: "Met at FOSDEM;\nlikes tea", organization: "Nordic AB" });
    expect(back.contact.emails.map((e) => e.value)).toEqual(["zoe@astrom.example", "zoe@home.example"]);
  });

  test("update with the etag; a stale etag is 409; CardDAV extras survive the edit", async () => {
    const uid = "dav-extras-1";
    const put = await dav("PUT", BOOK + "extras.vcf", card(uid, "Ed Extra", "EMAIL;TYPE=INTERNET:ed@x.example\r\nX-CUSTOM;X-P=1:keep me\r\nitem1.URL:https://ed.example\r\nitem1.X-ABLabel:blog\r\n"));
    expect(put.status).toBe(201);
    const got = await alice.ok<ContactResponse>("GET", "/api/contacts/Contacts/extras.vcf");
    const edited = { ...got.contact, jobTitle: "Editor", phones: [{ type: "work", value: "+1 555 0100", pref: false }] };
    delete edited.photo;
    const ok = await alice.send("PUT", "/api/contacts/Contacts/extras.vcf", { contact: edited, etag: got.etag });
    expect(ok.status).toBe(200);
    const after = ok.json<ContactResponse>();
    expect(after.etag).not.toBe(got.etag);
    expect(after.contact.jobTitle).toBe("Editor");
    const g = await dav("GET", BOOK + "extras.vcf");
    expect(g.text).toContain("X-CUSTOM;X-P=1:keep me\r\n");
    expect(g.text).toContain("item1.URL:https://ed.example\r\nitem1.X-ABLabel:blog\r\n");
    expect(g.text).toContain("TITLE:Editor\r\n");
    expect(g.headers.etag).toBe(after.etag);
    // the old etag is stale now
    const stale = await alice.send("PUT", "/api/contacts/Contacts/extras.vcf", { contact: { ...edited, jobTitle: "Boss" }, etag: got.etag });
    expect(stale.status).toBe(409);
    expect(stale.json<{ message: string }>().message).toMatch(/changed elsewhere/);
    const delStale = await alice.send("DELETE", `/api/contacts/Contacts/extras.vcf?etag=${encodeURIComponent(got.etag)}`);
    expect(delStale.status).toBe(409);
    const del = await alice.send("DELETE", `/api/contacts/Contacts/extras.vcf?etag=${encodeURIComponent(after.etag)}`);
    expect(del.status).toBe(200);
    expect((await alice.get("/api/contacts/Contacts/extras.vcf")).status).toBe(404);
    expect((await dav("GET", BOOK + "extras.vcf")).status).toBe(404);
  });
});

describe("cards from other clients", () => {
  test("a card breaking the rules for new input can still be edited: its odd values pass back untouched", async () => {
    const longName = "Odd Card With A Name Far Too Long ".repeat(9).trim(); // over the 256 characters new input may have
    const odd = card("odd-put", longName, Array.from({ length: 55 }, (_, i) => `TEL:+1 444 01${String(i).padStart(2, "0")}\r\n`).join("") + 'TEL;TYPE="my phone":+1 999\r\n');
    expect((await dav("PUT", BOOK + "odd.vcf", odd)).status).toBe(201);
    const got = await alice.ok<ContactResponse>("GET", "/api/contacts/Contacts/odd.vcf");
    expect(got.contact.phones.length).toBe(56);
    const r = await alice.send("PUT", "/api/contacts/Contacts/odd.vcf", { contact: { ...got.contact, jobTitle: "Odd Job" }, etag: got.etag });
    expect(r.status).toBe(200);
    const g = await dav("GET", BOOK + "odd.vcf");
    expect(g.text.replace(/\r\n /g, "")).toContain(`FN:${longName}\r\n`);
    expect(g.text).toContain('TEL;TYPE="my phone":+1 999\r\n');
    expect(g.text).toContain("TITLE:Odd Job\r\n");
    // a new bad value is still refused
    const cur = r.json<ContactResponse>();
    const bad = await alice.send("PUT", "/api/contacts/Contacts/odd.vcf", { contact: { ...cur.contact, emails: [...cur.contact.emails, { type: "", value: "two words", pref: false }] }, etag: cur.etag });
    expect(bad.status).toBe(400);
  });
});

describe("list and search", () => {
  test("a CardDAV PUT appears in the list and in an accent-insensitive search; its delete removes it", async () => {
    await list(alice); // warm the cache first: the PUT must invalidate it
    expect((await dav("PUT", BOOK + "mueller.vcf", card("m-1", "Jürgen Müller", "EMAIL:jm@example.de\r\nORG:Café Genève\r\nTEL:+41 22 555 01 02\r\n"))).status).toBe(201);
    const byName = await list(alice, "muller");
    expect(byName.map((c) => c.id)).toEqual(["mueller.vcf"]);
    expect(byName[0]).toMatchObject({ fullName: "Jürgen Müller", sortName: "Müller, Jürgen", emails: ["jm@example.de"], organization: "Café Genève", kind: "individual" });
    expect((await list(alice, "geneve")).map((c) => c.id)).toEqual(["mueller.vcf"]);
    expect((await list(alice, "MÜLLER jürgen")).map((c) => c.id)).toEqual(["mueller.vcf"]);
    expect((await list(alice, "jm@example")).map((c) => c.id)).toEqual(["mueller.vcf"]);
    expect((await list(alice, "5550102")).map((c) => c.id)).toEqual(["mueller.vcf"]);
    expect(await list(alice, "nobody-like-this")).toEqual([]);
    // a CardDAV update is seen at once
    expect((await dav("PUT", BOOK + "mueller.vcf", card("m-1", "Jürgen Müller-Lüdenscheidt", "EMAIL:jm@example.de\r\n"))).status).toBe(204);
    expect((await list(alice, "ludenscheidt")).map((c) => c.id)).toEqual(["mueller.vcf"]);
    expect((await dav("DELETE", BOOK + "mueller.vcf")).status).toBe(204);
    expect(await list(alice, "muller")).toEqual([]);
  });

  test("the list is sorted by sort name", async () => {
    await create({ givenName: "Anna", familyName: "Zimmer" });
    await create({ givenName: "Bert", familyName: "Abel" });
    const names = (await list(alice)).map((c) => c.sortName);
    expect(names.indexOf("Abel, Bert")).toBeLessThan(names.indexOf("Zimmer, Anna"));
  });

  test("without ?book= the composer's older autocomplete still answers", async () => {
    const r = await alice.ok<{ items: { address: string; source: string }[] }>("GET", "/api/contacts?q=bob");
    expect(r.items.map((i) => i.address)).toContain(BOB.email);
  });
});

describe("groups", () => {
  test("create a group (the book's 3.0 form) and expand it: uuid members, mailto, a nested group one level, no loops", async () => {
    const a = await create({ fullName: "Gina Group", emails: [{ type: "", value: "gina@x.example", pref: false }, { type: "", value: "gina2@x.example", pref: false }] });
    const b = await create({ fullName: "Hal Group", emails: [{ type: "", value: "hal@x.example", pref: false }] });
    const noMail = await create({ fullName: "No Mail", phones: [{ type: "", value: "1", pref: false }] });
    const inner = await create({ kind: "group", fullName: "Inner", members: [b.contact.uid, "mailto:inner@x.example"] });
    const outer = await create({ kind: "group", fullName: "Outer", members: [a.contact.uid, noMail.contact.uid, "mailto:Ext@Partner.example", inner.contact.uid, "gone-uid"] });
    // the inner group points back at the outer one: no loop
    const innerNow = await alice.ok<ContactResponse>("GET", `/api/contacts/Contacts/${inner.id}`);
    const upd = await alice.send("PUT", `/api/contacts/Contacts/${inner.id}`, { contact: { ...innerNow.contact, photo: undefined, members: [...innerNow.contact.members, outer.contact.uid] }, etag: innerNow.etag });
    expect(upd.status).toBe(200);
    const g = await dav("GET", BOOK + outer.id);
    expect(g.text).toContain("X-ADDRESSBOOKSERVER-KIND:group\r\n");
    expect(g.text).toContain(`X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:${a.contact.uid}\r\n`);
    expect(g.text).toContain("X-ADDRESSBOOKSERVER-MEMBER:mailto:Ext@Partner.example\r\n");
    const summary = (await list(alice, "outer")).find((c) => c.id === outer.id)!;
    expect(summary).toMatchObject({ kind: "group", memberCount: 5 });
    const e = await alice.ok<{ members: Person[] }>("GET", `/api/contacts/groups/Contacts/${outer.id}/expand`);
    expect(e.members).toEqual([
      { name: "Gina Group", address: "gina@x.example" },
      { name: "", address: "ext@partner.example" },
      { name: "Hal Group", address: "hal@x.example" },
      { name: "", address: "inner@x.example" },
    ]);
    expect((await alice.get(`/api/contacts/groups/Contacts/${a.id}/expand`)).status).toBe(400);
    expect((await alice.get("/api/contacts/groups/Contacts/none.vcf/expand")).status).toBe(404);
    expect((await bob.get(`/api/contacts/groups/Contacts/${outer.id}/expand`)).status).toBe(404);
  });

  test("a book of vCard 4.0 cards gets KIND:group groups", async () => {
    const acct = (await srv.store.getAccount(ALICE.email))!;
    await srv.ctx.groupware.createCollection(acct, "contacts", "Four");
    const four = `/dav/addressbooks/${ALICE.email}/Four/`;
    expect((await dav("PUT", four + "a.vcf", "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:11111111-2222-3333-4444-555555555555\r\nFN:Four One\r\nEMAIL:one@four.example\r\nEND:VCARD\r\n")).status).toBe(201);
    const g = await create({ kind: "group", fullName: "Fours", members: ["urn:uuid:11111111-2222-3333-4444-555555555555"] }, "Four");
    const got = await dav("GET", four + g.id);
    expect(got.text).toContain("VERSION:4.0\r\n");
    expect(got.text).toContain("KIND:group\r\nMEMBER:urn:uuid:11111111-2222-3333-4444-555555555555\r\n");
    const e = await alice.ok<{ members: Person[] }>("GET", `/api/contacts/groups/Four/${g.id}/expand`);
    expect(e.members).toEqual([{ name: "Four One", address: "one@four.example" }]);
  });
});

describe("import and export", () => {
  test("a 3-card file with a bad card: 2 imported, 1 error; export has them; the same file again replaces by UID", async () => {
    const acct = (await srv.store.getAccount(ALICE.email))!;
    await srv.ctx.groupware.createCollection(acct, "contacts", "Imported");
    const file = card("imp-1", "Ida Import", "EMAIL:ida@imp.example\r\n") + "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:No Uid Here\r\nEND:VCARD\r\n" + card("imp-2", "Ivo Import", "TEL:+1 555 0199\r\n");
    const imp = await request("POST", srv.base + "/api/contacts/import/Imported", { headers: { cookie: alice.cookie, origin: srv.base, "x-csrf-token": alice.csrf, "content-type": "text/vcard" }, body: file });
    expect(imp.status).toBe(200);
    const res = imp.json<ImportResult>();
    expect(res.imported).toBe(2);
    expect(res.updated).toBe(0);
    expect(res.errors.length).toBe(1);
    expect(res.errors[0]).toMatch(/^Card 2: .*UID/);
    const rows = await list(alice, "", "Imported");
    expect(rows.map((c) => c.fullName).sort()).toEqual(["Ida Import", "Ivo Import"]);
    // export of the whole book is a .vcf file with both cards, byte for byte
    const ex = await alice.get("/api/contacts/export/Imported");
    expect(ex.status).toBe(200);
    expect(ex.headers["content-type"]).toBe("text/vcard; charset=utf-8");
    expect(ex.headers["content-disposition"]).toMatch(/^attachment; filename="Imported\.vcf"/);
    expect(ex.text).toContain(card("imp-1", "Ida Import", "EMAIL:ida@imp.example\r\n"));
    expect(ex.text).toContain(card("imp-2", "Ivo Import", "TEL:+1 555 0199\r\n"));
    // chosen ids only
    const ida = rows.find((c) => c.fullName === "Ida Import")!;
    const one = await alice.get(`/api/contacts/export/Imported?ids=${encodeURIComponent(ida.id)}`);
    expect(one.text.match(/BEGIN:VCARD/g)?.length).toBe(1);
    // the exported file imported again: same UIDs replace
    const again = await request("POST", srv.base + "/api/contacts/import/Imported", { headers: { cookie: alice.cookie, origin: srv.base, "x-csrf-token": alice.csrf, "content-type": "text/vcard" }, body: ex.text });
    expect(again.json<ImportResult>()).toEqual({ imported: 0, updated: 2, errors: [] });
    expect((await list(alice, "", "Imported")).length).toBe(2);
    // the same UID twice in one file: the later card replaces the earlier
    const twice = await request("POST", srv.base + "/api/contacts/import/Imported", { headers: { cookie: alice.cookie, origin: srv.base, "x-csrf-token": alice.csrf, "content-type": "text/vcard" }, body: card("imp-3", "Twice First") + card("imp-3", "Twice Second") });
    expect(twice.json<ImportResult>()).toEqual({ imported: 1, updated: 1, errors: [] });
    expect((await list(alice, "twice", "Imported")).map((c) => c.fullName)).toEqual(["Twice Second"]);
    // vCard 2.1 and junk are reported, not crashes
    const junk = await request("POST", srv.base + "/api/contacts/import/Imported", { headers: { cookie: alice.cookie, origin: srv.base, "x-csrf-token": alice.csrf, "content-type": "text/vcard" }, body: "hello\r\nBEGIN:VCARD\r\nVERSION:2.1\r\nUID:x\r\nFN:Old\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\n" });
    const jr = junk.json<ImportResult>();
    expect(jr.imported).toBe(0);
    expect(jr.errors.join("\n")).toMatch(/outside BEGIN:VCARD/);
    expect(jr.errors.join("\n")).toMatch(/2\.1/);
    expect(jr.errors.join("\n")).toMatch(/not terminated/);
  });

  test("a book literally named \"export\" still works; export by its own name too", async () => {
    const acct = (await srv.store.getAccount(ALICE.email))!;
    await srv.ctx.groupware.createCollection(acct, "contacts", "export");
    const c = await create({ fullName: "Exa Export" }, "export");
    const got = await alice.ok<ContactResponse>("GET", `/api/contacts/export/${encodeURIComponent(c.id)}`);
    expect(got).toMatchObject({ book: "export", id: c.id, contact: { fullName: "Exa Export" } });
    const file = await alice.get("/api/contacts/export/export");
    expect(file.headers["content-type"]).toBe("text/vcard; charset=utf-8");
    expect(file.text).toContain("FN:Exa Export");
    expect((await alice.ok<{ contacts: ContactSummary[] }>("GET", "/api/contacts?book=export")).contacts.length).toBe(1);
    // a name that is neither a book nor a contact of "export"
    expect((await alice.get("/api/contacts/export/nothing-here")).status).toBe(404);
  });
});

describe("photos", () => {
  test("upload as a data: URL, download as the image with a safe type and CSP; bad photos are 400", async () => {
    const c = await create({ fullName: "Pia Photo", photo: `data:image/png;base64,${PNG.toString("base64")}` });
    expect(c.contact.photo).toBe(`data:image/png;base64,${PNG.toString("base64")}`);
    expect((await list(alice, "pia")).find((x) => x.id === c.id)?.hasPhoto).toBe(true);
    const p = await alice.get(`/api/contacts/Contacts/${c.id}/photo`);
    expect(p.status).toBe(200);
    expect(p.headers["content-type"]).toBe("image/png");
    expect(p.headers["content-security-policy"]).toBe("default-src 'none'");
    expect(p.headers["x-content-type-options"]).toBe("nosniff");
    expect(Buffer.compare(p.body, PNG)).toBe(0);
    const again = await alice.get(`/api/contacts/Contacts/${c.id}/photo`, { "if-none-match": String(p.headers.etag) });
    expect(again.status).toBe(304);
    const dv = await dav("GET", BOOK + c.id);
    expect(dv.text).toContain("PHOTO;ENCODING=b;TYPE=PNG:");
    for (const bad of ["data:image/svg+xml;base64," + Buffer.from("<svg/>").toString("base64"), "data:image/png;base64," + Buffer.from("not a png").toString("base64"), "javascript:alert(1)"]) {
      const r = await alice.send("POST", "/api/contacts/Contacts", { contact: { fullName: "Bad Photo", photo: bad } });
      expect(r.status).toBe(400);
    }
    const none = await create({ fullName: "No Photo" });
    expect((await alice.get(`/api/contacts/Contacts/${none.id}/photo`)).status).toBe(404);
    // removing it
    const cur = await alice.ok<ContactResponse>("GET", `/api/contacts/Contacts/${c.id}`);
    const rm = await alice.send("PUT", `/api/contacts/Contacts/${c.id}`, { contact: { ...cur.contact, photo: null }, etag: cur.etag });
    expect(rm.json<ContactResponse>().contact.photo).toBeNull();
    expect((await alice.get(`/api/contacts/Contacts/${c.id}/photo`)).status).toBe(404);
  });
});

describe("isolation and bad input", () => {
  test("another user's book and contacts are 404", async () => {
    const acct = (await srv.store.getAccount(ALICE.email))!;
    await srv.ctx.groupware.createCollection(acct, "contacts", "Private");
    const c = await create({ fullName: "Secret Sam", emails: [{ type: "", value: "sam@secret.example", pref: false }] }, "Private");
    expect((await bob.get("/api/contacts?book=Private")).status).toBe(404);
    expect((await bob.get(`/api/contacts/Private/${c.id}`)).status).toBe(404);
    expect((await bob.get(`/api/contacts/Contacts/${c.id}`)).status).toBe(404);
    expect((await bob.send("PUT", `/api/contacts/Private/${c.id}`, { contact: { fullName: "x" } })).status).toBe(404);
    expect((await bob.send("DELETE", `/api/contacts/Private/${c.id}`)).status).toBe(404);
    expect((await bob.send("POST", "/api/contacts/Private", { contact: { fullName: "x" } })).status).toBe(404);
    expect((await bob.get(`/api/contacts/Private/${c.id}/photo`)).status).toBe(404);
    expect((await bob.get("/api/contacts/export/Private")).status).toBe(404);
    expect((await bob.send("POST", "/api/contacts/import/Private", {})).status).toBe(404);
    expect((await bob.ok<{ contacts: unknown[] }>("GET", "/api/contacts?book=Contacts&q=secret")).contacts).toEqual([]);
    // a calendar is not an address book
    expect((await alice.get("/api/contacts?book=Calendar")).status).toBe(404);
  });

  test("400s in words: bad JSON, wrong shapes, bad values; never a 500", async () => {
    const raw = await request("POST", srv.base + "/api/contacts/Contacts", { headers: { cookie: alice.cookie, origin: srv.base, "x-csrf-token": alice.csrf, "content-type": "application/json" }, body: "{not json" });
    expect(raw.status).toBe(400);
    for (const body of [null, [], { contact: null }, { contact: "x" }, { contact: { fullName: 1 } }, { contact: { fullName: "x", emails: [{ value: "nope" }] } }, { contact: { fullName: "x\r\nEMAIL:evil@x" } }, { contact: { fullName: "x", birthday: "2001-02-29" } }, { contact: {} }, { contact: { fullName: "x" }, etag: 5 }, { contact: { fullName: "x", phones: Array.from({ length: 51 }, () => ({ value: "1" })) } }]) {
      const r = await alice.send("POST", "/api/contacts/Contacts", body);
      expect(r.status).toBe(400);
      expect(typeof r.json<{ message: string }>().message).toBe("string");
    }
    expect((await alice.send("PUT", "/api/contacts/Contacts/none.vcf", { contact: { fullName: "x" } })).status).toBe(404);
    expect((await alice.send("DELETE", "/api/contacts/Contacts/none.vcf")).status).toBe(404);
    expect((await alice.send("POST", "/api/contacts/Nope", { contact: { fullName: "x" } })).status).toBe(404);
    const dup = await create({ uid: "same-uid-1", fullName: "One" });
    expect(dup.contact.uid).toBe("same-uid-1");
    expect((await alice.send("POST", "/api/contacts/Contacts", { contact: { uid: "same-uid-1", fullName: "Two" } })).status).toBe(409);
  });
});
