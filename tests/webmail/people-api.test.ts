/**
 * People lookups (protocols/http/webmail/people-api.ts) over real HTTPS:
 * /api/directory (the domain's directory, read-only, accent-insensitive) and
 * /api/people (the composer's and attendee picker's autocomplete: contacts of
 * every book, groups, recent correspondents, the directory; deduplicated,
 * at most 20, every word the start of a word).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { ALICE, ApiClient, BOB, request, startWebmailServer } from "./helpers.ts";
import { createUser } from "../helpers/server.ts";
import type { ContactResponse, DirectoryPerson, PersonSuggestion } from "../../protocols/http/webmail/api-types.ts";

setDefaultTimeout(30_000); // a loaded CI machine; nothing here waits on time

let srv: Awaited<ReturnType<typeof startWebmailServer>>;
let alice: ApiClient;
let bob: ApiClient;

async function people(client: ApiClient, q: string): Promise<PersonSuggestion[]> {
  return (await client.ok<{ people: PersonSuggestion[] }>("GET", `/api/people?q=${encodeURIComponent(q)}`)).people;
}
async function dir(client: ApiClient, q = ""): Promise<DirectoryPerson[]> {
  return (await client.ok<{ entries: DirectoryPerson[] }>("GET", `/api/directory${q ? `?q=${encodeURIComponent(q)}` : ""}`)).entries;
}
async function create(contact: Record<string, unknown>, book = "Contacts"): Promise<ContactResponse> {
  const r = await alice.send("POST", `/api/contacts/${book}`, { contact });
  if (r.status !== 201) throw new Error(`create -> ${r.status} ${r.text}`);
  return r.json<ContactResponse>();
}
const mail = (value: string) => ({ type: "", value, pref: false });

beforeAll(async () => {
  srv = await startWebmailServer();
  await createUser(srv.store, "jose@example.test", "jose password 1234", { displayName: "José Núñez" });
  await createUser(srv.store, "eve@elsewhere.test", "eve password 12345", { displayName: "Eve Elsewhere" });
  await srv.store.addAlias("sales@example.test", "bob@example.test");
  alice = await ApiClient.signIn(srv.base, ALICE);
  bob = await ApiClient.signIn(srv.base, BOB);
  const acct = (await srv.store.getAccount(ALICE.email))!;
  await srv.ctx.groupware.createCollection(acct, "contacts", "Work");
}, 60_000);
afterAll(async () => {
  await srv?.close();
});

describe("/api/directory", () => {
  test("without q: the whole directory of the user's own domain, accounts and aliases", async () => {
    const all = await dir(alice);
    expect(all.map((e) => e.address).sort()).toEqual(["alice@example.test", "bob@example.test", "carol@example.test", "jose@example.test", "sales@example.test"]);
    expect(all.find((e) => e.address === "bob@example.test")).toEqual({ address: "bob@example.test", name: "Bob Builder", kind: "account" });
    expect(all.find((e) => e.address === "sales@example.test")?.kind).toBe("alias");
  });

  test("search: name, address, accent-insensitive; another domain never shows", async () => {
    // an alias of one person carries that person's name
    expect((await dir(alice, "builder")).map((e) => e.address).sort()).toEqual(["bob@example.test", "sales@example.test"]);
    expect((await dir(alice, "sales")).map((e) => e.address)).toEqual(["sales@example.test"]);
    expect((await dir(alice, "nunez")).map((e) => e.address)).toEqual(["jose@example.test"]);
    expect((await dir(alice, "JOSÉ")).map((e) => e.address)).toEqual(["jose@example.test"]);
    expect(await dir(alice, "elsewhere")).toEqual([]);
    expect(await dir(alice, "zzzz")).toEqual([]);
  });
});

describe("/api/people", () => {
  test("contacts of every book, groups, recent and directory; deduplicated by address; contacts first", async () => {
    await create({ fullName: "Hans Müller", emails: [mail("hans@mueller.example"), mail("h.mueller@work.example")] });
    await create({ fullName: "Bob From Contacts", emails: [mail("bob@example.test")] }, "Work");
    const grp = await create({ kind: "group", fullName: "Müller Family", members: ["mailto:hans@mueller.example"] });

    const m = await people(alice, "muller");
    // a name that begins with the text first, then the others by name
    expect(m).toEqual([
      { name: "Müller Family", address: "", source: "group", group: { book: "Contacts", id: grp.id } },
      { name: "Hans Müller", address: "hans@mueller.example", source: "contact", group: null },
      { name: "Hans Müller", address: "h.mueller@work.example", source: "contact", group: null },
    ]);
    // the contact in another book wins over the same address in the directory
    const b = await people(alice, "bob");
    expect(b.filter((p) => p.address === "bob@example.test")).toEqual([{ name: "Bob From Contacts", address: "bob@example.test", source: "contact", group: null }]);
    // the directory, accent-insensitive
    expect(await people(alice, "nunez")).toEqual([{ name: "José Núñez", address: "jose@example.test", source: "directory", group: null }]);
    // recent correspondents (remembered when mail is sent)
    await alice.ok("POST", "/api/send", { to: "Quentin Recent <quentin@faraway.example>", subject: "hi", text: "hi", html: null });
    expect(await people(alice, "quentin")).toEqual([{ name: "Quentin Recent", address: "quentin@faraway.example", source: "recent", group: null }]);
  });

  test("every word must begin a word of the name or address", async () => {
    await create({ fullName: "Renée Dupont-Lefèvre", emails: [mail("renee.dupont@example.fr")] });
    expect((await people(alice, "ren lef")).map((p) => p.address)).toEqual(["renee.dupont@example.fr"]);
    expect((await people(alice, "renee.dup")).map((p) => p.address)).toEqual(["renee.dupont@example.fr"]);
    expect(await people(alice, "upont")).toEqual([]);
    expect(await people(alice, "")).toEqual([]);
    expect(await people(alice, "  ,, ")).toEqual([]);
  });

  test("at most 20 suggestions", async () => {
    const file = Array.from({ length: 30 }, (_, i) => `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:many-${i}\r\nFN:Manyfold Person ${i}\r\nEMAIL:many${i}@example.org\r\nEND:VCARD\r\n`).join("");
    const imp = await request("POST", srv.base + "/api/contacts/import/Work", { headers: { cookie: alice.cookie, origin: srv.base, "x-csrf-token": alice.csrf, "content-type": "text/vcard" }, body: file });
    expect(imp.json<{ imported: number }>().imported).toBe(30);
    const r = await people(alice, "manyfold");
    expect(r.length).toBe(20);
    expect(new Set(r.map((p) => p.address)).size).toBe(20);
  });

  test("another user's contacts are never suggested; hostile queries are harmless", async () => {
    expect(await people(bob, "muller")).toEqual([]);
    expect(await people(bob, "manyfold")).toEqual([]);
    for (const q of ["%", "_", "\\", "' OR '1'='1", "a".repeat(5000), "\u0000", "(?:x)*"]) {
      const r = await bob.get(`/api/people?q=${encodeURIComponent(q)}`);
      expect(r.status).toBe(200);
      const d = await bob.get(`/api/directory?q=${encodeURIComponent(q)}`);
      expect(d.status).toBe(200);
    }
  });
});
