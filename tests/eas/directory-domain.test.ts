/**
 * Issue 13 item 13: the ActiveSync address book (GAL Search, Find and
 * ResolveRecipients) is per domain, like the webmail's contact search. A
 * user of other.test must not see the accounts of example.test.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { el, kid, kids, kidText, type EasClient } from "./client.ts";
import { createUser, startEas, type EasEnv } from "./helpers.ts";
import { ApiClient } from "../webmail/helpers.ts";

let env: EasEnv;
let carol: EasClient;

beforeAll(async () => {
  env = await startEas();
  await createUser(env.srv.store, "harry@example.test", "harry-secret-1", { displayName: "Harry Hill" });
  await createUser(env.srv.store, "hannah@example.test", "hannah-secret-1", { displayName: "Hannah Hope" });
  await env.srv.store.addAlias("sales@example.test", "harry@example.test");
  await createUser(env.srv.store, "carol@other.test", "carol-secret-12", { displayName: "Carol Other" });
  await createUser(env.srv.store, "hank@other.test", "hank-secret-123", { displayName: "Hank Other" });
  // An alias in carol's domain that points into example.test: listed only by its own address, never with harry's name.
  await env.srv.store.addAlias("help@other.test", "harry@example.test");
  carol = env.client({ user: "carol@other.test", pass: "carol-secret-12", deviceId: "DIRCAROL", version: "16.1" });
  await carol.provision();
});
afterAll(async () => {
  await env.close();
});

async function gal(c: EasClient, query: string): Promise<string[]> {
  const r = await c.send("Search", el("Search:Search", el("Search:Store", el("Search:Name", "GAL"), el("Search:Query", query), el("Search:Options", el("Search:Range", "0-99")))));
  const store = kid(kid(r.doc!, "Search:Response"), "Search:Store");
  return kids(store, "Search:Result").map((x) => String(kidText(kid(x, "Search:Properties"), "GAL:EmailAddress")));
}

async function webmailContacts(user: { email: string; password: string }, q: string): Promise<string[]> {
  const api = await ApiClient.signIn(`https://127.0.0.1:${env.port}`, user);
  const res = await api.ok<{ items: { address: string }[] }>("GET", `/api/contacts?q=${encodeURIComponent(q)}`);
  return res.items.map((i) => i.address);
}

describe("the ActiveSync directory is per domain", () => {
  test("GAL Search as carol@other.test lists only other.test, like the webmail's contacts", async () => {
    const viaEas = await gal(carol, "h");
    const viaWebmail = await webmailContacts({ email: "carol@other.test", password: "carol-secret-12" }, "h");
    expect(viaEas.filter((a) => a.endsWith("@example.test"))).toEqual([]);
    expect(viaEas).toContain("hank@other.test");
    expect(viaWebmail.filter((a) => a.endsWith("@example.test"))).toEqual([]);
    expect(viaWebmail).toContain("hank@other.test");
    // A query that only matches the other domain's people: nothing, in both.
    expect(await gal(carol, "harry")).toEqual([]);
    expect(await webmailContacts({ email: "carol@other.test", password: "carol-secret-12" }, "harry")).toEqual([]);
    expect(await gal(carol, "sales")).toEqual([]);
  });

  test("ResolveRecipients as carol@other.test does not resolve or suggest example.test", async () => {
    const rr = await carol.send(
      "ResolveRecipients",
      el("ResolveRecipients:ResolveRecipients", el("ResolveRecipients:To", "harry@example.test"), el("ResolveRecipients:To", "Ha"), el("ResolveRecipients:To", "hank@other.test")),
    );
    const resp = kids(rr.doc!, "ResolveRecipients:Response");
    const shown = resp.map((x) => kids(x, "ResolveRecipients:Recipient").map((r) => kidText(r, "ResolveRecipients:EmailAddress")));
    expect(shown.flat().filter((a) => String(a).endsWith("@example.test"))).toEqual([]);
    expect(resp.map((x) => kidText(x, "ResolveRecipients:Status"))).toEqual(["4", "1", "1"]);
    expect(shown[1]).toEqual(["hank@other.test"]);
  });

  test("Find (16.1) over the GAL as carol@other.test stays in other.test", async () => {
    const g = await carol.send(
      "Find",
      el(
        "Find:Find",
        el("Find:SearchId", "dir-1"),
        el("Find:ExecuteSearch", el("Find:GalSearchCriterion", el("Find:Query", el("Find:FreeText", "h")), el("Find:Options", el("Find:Range", "0-99")))),
      ),
    );
    const found = kids(kid(g.doc!, "Find:Response"), "Find:Result").map((x) => String(kidText(kid(x, "Find:Properties"), "GAL:EmailAddress")));
    expect(found.filter((a) => a.endsWith("@example.test"))).toEqual([]);
    expect(found).toContain("hank@other.test");
  });

  test("example.test still sees its own directory", async () => {
    const harry = env.client({ user: "harry@example.test", pass: "harry-secret-1", deviceId: "DIRHARRY", version: "16.1" });
    await harry.provision();
    const list = await gal(harry, "h");
    expect(list.sort()).toEqual(["hannah@example.test", "harry@example.test", "sales@example.test"]); // the alias carries harry's name
    expect(await gal(harry, "sales")).toEqual(["sales@example.test"]);
  });
});
