/**
 * The global address list (src/groupware/directory.ts), the one lookup API
 * of CardDAV's directory book, ActiveSync's GAL and the webmail's
 * autocomplete: the viewer's own domain only, accounts with display names,
 * aliases of local accounts (catch-alls and remote targets left out, a
 * one-to-many alias once), one entry by address, and the match rules.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Account } from "../../storage/api.ts";
import { directory, directoryEntry, matchDirectory } from "../../src/groupware/index.ts";
import { storeEngines } from "../helpers/engines.ts";
import { tempStore, type TempStore } from "../storage/helpers.ts";

for (const engine of storeEngines()) {
  describe(`engine ${engine}`, () => {
    let t: TempStore;
    let alice: Account;
    let mallory: Account;

    beforeAll(async () => {
      t = await tempStore({ engine });
      await t.store.addDomain("office.example");
      await t.store.addDomain("other.example");
      alice = await t.store.addAccount("alice@office.example", "alice password 1", { displayName: "Alice Liddell" });
      await t.store.addAccount("bob@office.example", "bob password 12", { displayName: "Robert de Niro Smith" });
      await t.store.addAccount("nameless@office.example", "nameless password");
      mallory = await t.store.addAccount("mallory@other.example", "mallory password", { displayName: "Mallory" });
      await t.store.addAlias("sales@office.example", "bob@office.example");
      await t.store.addAlias("sales@office.example", "alice@office.example"); // one-to-many
      await t.store.addAlias("ext@office.example", "someone@far.example"); // a forward out: not a person here
      await t.store.addAlias("@office.example", "alice@office.example"); // catch-all
      await t.store.addAlias("crossover@office.example", "mallory@other.example");
    });
    afterAll(async () => t.cleanup());

    test("the viewer's domain: accounts, then aliases of its accounts, a group once", async () => {
      const list = await directory(t.store, alice);
      expect(list.map((e) => `${e.kind}:${e.email}:${e.displayName}`)).toEqual([
        "account:alice@office.example:Alice Liddell",
        "account:bob@office.example:Robert de Niro Smith",
        "account:nameless@office.example:nameless@office.example",
        // one-to-many: a group, named by its address
        "alias:sales@office.example:sales@office.example",
      ]);
      const bob = list.find((e) => e.email === "bob@office.example")!;
      expect([bob.firstName, bob.lastName, bob.alias]).toEqual(["Robert de Niro", "Smith", "bob"]);
      await t.store.addAlias("rob@office.example", "bob@office.example");
      const rob = (await directory(t.store, alice)).find((e) => e.email === "rob@office.example")!;
      expect([rob.kind, rob.displayName, rob.accountId]).toEqual(["alias", "Robert de Niro Smith", bob.accountId]);
      // the other organisation sees only itself
      expect((await directory(t.store, mallory)).map((e) => e.email)).toEqual(["mallory@other.example"]);
    });

    test("directoryEntry: one address (any case) of the viewer's domain, or null", async () => {
      expect((await directoryEntry(t.store, alice, " BOB@Office.Example "))?.displayName).toBe("Robert de Niro Smith");
      expect((await directoryEntry(t.store, alice, "sales@office.example"))?.kind).toBe("alias");
      expect(await directoryEntry(t.store, alice, "mallory@other.example")).toBeNull();
      expect(await directoryEntry(t.store, alice, "ext@office.example")).toBeNull();
      expect(await directoryEntry(t.store, alice, "not an address")).toBeNull();
    });

    test("matchDirectory: address or display name contains, first/last name starts with; by display name", async () => {
      const list = await directory(t.store, alice);
      expect(matchDirectory(list, "smith").map((e) => e.email)).toEqual(["bob@office.example", "rob@office.example"]);
      expect(matchDirectory(list, "sales").map((e) => e.email)).toEqual(["sales@office.example"]);
      expect(matchDirectory(list, "ALI").map((e) => e.email)).toEqual(["alice@office.example"]);
      expect(matchDirectory(list, "   ")).toEqual([]);
    });
  });
}
